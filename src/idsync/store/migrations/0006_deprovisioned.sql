-- What a connector space object was linked to when outbound deprovisioning staged its delete
-- (idsync.store.deprovisions): while the delete is not exported, a synchronization that finds
-- the cause gone (the metaverse object back in scope, or a new metaverse object projected from
-- the same source object) links the object back and cancels the delete, so it keeps its
-- identity in the directory (idsync.engine.reconciliation).
CREATE TABLE deprovisioned (
    cs_id          INTEGER PRIMARY KEY,     -- the target object whose delete is staged
    connector_id   INTEGER NOT NULL,
    mv_id          INTEGER,                 -- the metaverse object it left (NULL once deleted)
    link_rule_id   INTEGER,                 -- the rule that had provisioned it
    cause          TEXT NOT NULL,           -- out-of-scope | metaverse-deleted
    detail         TEXT NOT NULL,
    deprovisioned_at TEXT NOT NULL
);
CREATE INDEX deprovisioned_mv ON deprovisioned (mv_id);

-- The source objects (connector, anchor) that contributed to that metaverse object: the tie
-- that survives the metaverse object's deletion (a source object back in scope, or deleted and
-- restored with the same anchor, projects a new metaverse object).
CREATE TABLE deprovisioned_sources (
    cs_id        INTEGER NOT NULL,
    connector_id INTEGER NOT NULL,
    anchor       TEXT NOT NULL,
    PRIMARY KEY (cs_id, connector_id, anchor)
);
CREATE INDEX deprovisioned_sources_anchor ON deprovisioned_sources (anchor);
