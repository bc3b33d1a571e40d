-- idsync schema, version 1.
-- Written in the SQL that SQLite and PostgreSQL share; JSON documents are TEXT.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL                      -- JSON
);

CREATE TABLE connectors (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT NOT NULL UNIQUE,
    type                 TEXT NOT NULL,
    settings             TEXT NOT NULL DEFAULT '{}',   -- JSON
    secrets              TEXT NOT NULL DEFAULT '{}',   -- JSON; never printed or exported in clear
    watermark            TEXT,                         -- JSON; delta import starting point
    full_import_required INTEGER NOT NULL DEFAULT 1,
    full_sync_required   INTEGER NOT NULL DEFAULT 1,
    created_at           TEXT NOT NULL
);

-- Connector space objects. `attributes` is the hologram: the non-reference attributes as last
-- imported (confirmed). Reference values live one row per value in cs_refs.
CREATE TABLE cs_objects (
    id             INTEGER PRIMARY KEY,
    connector_id   INTEGER NOT NULL REFERENCES connectors(id),
    anchor         TEXT,                    -- NULL: placeholder, or an export add not yet confirmed
    dn             TEXT NOT NULL,
    dn_norm        TEXT NOT NULL,
    object_type    TEXT,                    -- NULL for placeholders
    placeholder    INTEGER NOT NULL DEFAULT 0,
    attributes     TEXT NOT NULL DEFAULT '{}',
    pending_import TEXT,                    -- NULL | add | update | delete | delete-add
    mv_id          INTEGER,
    link_type      TEXT,                    -- Join | StickyJoin | Provision
    link_rule_id   INTEGER,
    link_direction TEXT,                    -- inbound | outbound
    seen_run       INTEGER,                 -- last full import run that saw the object
    created_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX cs_objects_anchor ON cs_objects (connector_id, anchor);
CREATE INDEX cs_objects_dn ON cs_objects (connector_id, dn_norm);
CREATE INDEX cs_objects_mv ON cs_objects (mv_id);
CREATE INDEX cs_objects_pending_import ON cs_objects (connector_id, pending_import)
    WHERE pending_import IS NOT NULL;

CREATE TABLE cs_refs (
    cs_id     INTEGER NOT NULL,
    attr      TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    PRIMARY KEY (cs_id, attr, target_id)
);
CREATE INDEX cs_refs_target ON cs_refs (target_id);

-- Metaverse objects: attributes with their lineage (contributing connector and rule).
CREATE TABLE mv_objects (
    id          INTEGER PRIMARY KEY,
    object_type TEXT NOT NULL,
    attributes  TEXT NOT NULL DEFAULT '{}',
    lineage     TEXT NOT NULL DEFAULT '{}',   -- JSON: attr -> {connector, rule, precedence}
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE mv_refs (
    mv_id     INTEGER NOT NULL,
    attr      TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    PRIMARY KEY (mv_id, attr, target_id)
);
CREATE INDEX mv_refs_target ON mv_refs (target_id);

-- Values of the attributes that join rules compare, so a join is an index lookup.
-- space 0 = metaverse, otherwise the connector id.
CREATE TABLE join_index (
    space  INTEGER NOT NULL,
    attr   TEXT NOT NULL,
    value  TEXT NOT NULL,
    obj_id INTEGER NOT NULL,
    PRIMARY KEY (space, attr, value, obj_id)
);
CREATE INDEX join_index_obj ON join_index (space, obj_id);

-- Metaverse objects whose outbound flows must be evaluated: written in the same transaction as
-- the inbound change, so a crash between inbound and outbound loses nothing.
CREATE TABLE mv_dirty (
    mv_id INTEGER PRIMARY KEY,
    phase INTEGER NOT NULL DEFAULT 0        -- 0: provisioning to decide; 1: flows to compute
);

CREATE TABLE sync_rules (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    direction    TEXT NOT NULL,
    connector_id INTEGER NOT NULL REFERENCES connectors(id),
    precedence   INTEGER NOT NULL,
    disabled     INTEGER NOT NULL DEFAULT 0,
    reserved     INTEGER NOT NULL DEFAULT 0,
    definition   TEXT NOT NULL,               -- JSON: the whole rule
    updated_at   TEXT NOT NULL
);

-- Pending exports: the attribute-level delta (attributes replaced wholesale; [] deletes) and
-- value-level deltas of reference attributes in pending_export_refs.
CREATE TABLE pending_exports (
    cs_id       INTEGER PRIMARY KEY,
    connector_id INTEGER NOT NULL,
    kind        TEXT NOT NULL,                -- add | modify | rename | delete
    new_dn      TEXT,
    attributes  TEXT NOT NULL DEFAULT '{}',
    state       TEXT NOT NULL DEFAULT 'pending',  -- pending | exported (awaiting confirmation)
    staged_at   TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX pending_exports_connector ON pending_exports (connector_id, state);

CREATE TABLE pending_export_refs (
    cs_id     INTEGER NOT NULL,
    attr      TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    op        TEXT NOT NULL,                  -- add | remove
    PRIMARY KEY (cs_id, attr, target_id)
);

-- Per-object errors kept on the object until they clear (export errors, sync rule errors).
CREATE TABLE object_errors (
    cs_id        INTEGER NOT NULL,
    connector_id INTEGER NOT NULL,
    stage        TEXT NOT NULL,               -- import | sync | export
    code         TEXT NOT NULL,
    detail       TEXT NOT NULL,
    first_seen   TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    retry_count  INTEGER NOT NULL DEFAULT 0,
    run_id       INTEGER,
    PRIMARY KEY (cs_id, stage, code)
);
CREATE INDEX object_errors_connector ON object_errors (connector_id, stage);

CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    connector_id INTEGER NOT NULL,
    profile      TEXT NOT NULL,
    status       TEXT NOT NULL,               -- in-progress | success | completed-* | stopped-*
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    counters     TEXT NOT NULL DEFAULT '{}',
    message      TEXT,
    pid          INTEGER
);

CREATE TABLE run_errors (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER NOT NULL,
    cs_id   INTEGER,
    dn      TEXT,
    stage   TEXT NOT NULL,
    code    TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX run_errors_run ON run_errors (run_id);

CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    event_id     INTEGER NOT NULL,
    level        TEXT NOT NULL,
    time         TEXT NOT NULL,
    connector_id INTEGER,
    run_id       INTEGER,
    message      TEXT NOT NULL,
    data         TEXT
);
CREATE INDEX events_event_id ON events (event_id);
