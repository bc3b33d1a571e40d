-- The objects behind a run's counters (the web UI's "each count a link to the objects it
-- counts"): one row per object a counter counted, written with the batch that counted it
-- (idsync.engine.recorder). cs_id names a connector space object, mv_id a metaverse object.
-- Not foreign keys: the history outlives the objects (a deleted object's row stays, its link
-- says so). Purged with the run (RunRepository.purge).
CREATE TABLE run_objects (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER NOT NULL,
    counter  TEXT NOT NULL,
    cs_id    INTEGER,
    mv_id    INTEGER
);
CREATE INDEX run_objects_counter ON run_objects (run_id, counter, id);

-- A run's progress while it runs: objects done so far and the total where the run knows it
-- up front (synchronization, export); NULL where it does not (an import reads a source whose
-- size it learns at the end).
ALTER TABLE runs ADD COLUMN progress_done INTEGER;
ALTER TABLE runs ADD COLUMN progress_total INTEGER;

-- The ranked run history (idsync.store.runs RunRepository.page) filters by connector and
-- orders newest first.
CREATE INDEX runs_connector_started ON runs (connector_id, id);
-- The runs in progress (the Operations page's cycle box asks every two seconds).
CREATE INDEX runs_status ON runs (status);
