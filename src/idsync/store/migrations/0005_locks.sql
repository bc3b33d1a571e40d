-- Locks held for the life of a sync cycle ('cycle') or of a run ('run:<connector id>'): the
-- primary key lets only one row per name exist, so taking a lock is one INSERT that fails on
-- conflict, on SQLite and PostgreSQL alike. The holder is named (host, boot, pid, process start,
-- command); ``heartbeat`` is the database clock in milliseconds, refreshed while the holder
-- runs, so a holder on another host that stopped refreshing it can be told from a live one.
CREATE TABLE locks (
    name          TEXT PRIMARY KEY,
    token         TEXT NOT NULL,
    connector_id  INTEGER,
    profile       TEXT,
    run_id        INTEGER,
    command       TEXT NOT NULL,
    host          TEXT NOT NULL,
    boot_id       TEXT,
    pid           INTEGER NOT NULL,
    process_start TEXT,
    since         TEXT NOT NULL,
    heartbeat     INTEGER NOT NULL,
    data          TEXT
);

-- The cycle lock lived in settings until this version; it is a row of ``locks`` now.
DELETE FROM settings WHERE key = 'cycle_lock';
