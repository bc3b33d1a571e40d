-- Web UI sessions of the local administrators (idsync.administration.admin_sessions). The
-- browser holds a random token in an HttpOnly cookie; the table holds only its SHA-256
-- (``token_hash``), so a copy of the database signs nobody in. ``csrf_token`` is the session's
-- anti-forgery token, sent back by every form and htmx request that changes something. A
-- session ends at ``expires_at`` (absolute) or after an idle time counted from
-- ``last_seen_at``; sign-out, a new password and removing the admin delete its rows.
CREATE TABLE admin_sessions (
    token_hash   TEXT PRIMARY KEY,
    admin_name   TEXT NOT NULL,
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_name);
