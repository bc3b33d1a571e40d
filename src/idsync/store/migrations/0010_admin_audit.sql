-- The administrator audit log: one row per change an administrator made through the command
-- line or the web UI (idsync.administration.audit). old and new are small JSON documents;
-- secret values are never among them.
CREATE TABLE admin_audit (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    admin   TEXT NOT NULL,
    via     TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    old     TEXT,
    new     TEXT
);
CREATE INDEX admin_audit_at ON admin_audit (at, id);
