-- Pending exports an administrator discarded (idsync exports discard): one row per object,
-- so what was dropped, when, and what became of it stays visible after the export is gone.
-- outcome: NULL until every connector had its next full synchronization, then
-- 'staged again' (its cause remained) or 'cause gone'.
CREATE TABLE discarded_exports (
    connector_id INTEGER NOT NULL,
    cs_id        INTEGER NOT NULL,
    dn           TEXT NOT NULL,
    object_type  TEXT,
    kind         TEXT NOT NULL,                -- add | modify | rename | delete
    discarded_at TEXT NOT NULL,
    outcome      TEXT
);
CREATE INDEX discarded_exports_connector ON discarded_exports (connector_id, discarded_at);
CREATE INDEX discarded_exports_waiting ON discarded_exports (outcome, cs_id);
