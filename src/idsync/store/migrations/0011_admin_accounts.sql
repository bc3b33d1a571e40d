-- The local administrators who sign in to the web UI (idsync.administration.admin_accounts;
-- `idsync admin add|list|passwd|remove`). ``password_hash`` is an argon2id PHC string, never the
-- password. ``read_only`` is 1 for an admin who may look but change nothing. The sign-in's
-- growing delays count from ``failed_signins`` and ``last_failed_at`` (reset by a good sign-in
-- or a new password). Times are ISO 8601 UTC text, like the other tables'.
CREATE TABLE admin_accounts (
    name                TEXT PRIMARY KEY,
    password_hash       TEXT NOT NULL,
    read_only           INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    failed_signins      INTEGER NOT NULL DEFAULT 0,
    last_failed_at      TEXT
);
