"""clouddir's tables, in the dialect SQLite speaks (the PostgreSQL backend translates it)."""

#: The schema in SQLite's words; ``clouddir.storage.postgres`` translates the few that differ
#: (AUTOINCREMENT -> identity, INTEGER -> BIGINT, WITHOUT ROWID).
SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    object_type TEXT NOT NULL,
    dn TEXT,
    source_anchor TEXT,
    sync_enabled INTEGER NOT NULL,
    attributes TEXT NOT NULL,
    member_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, id)
);
-- Paging in seq order within a tenant (import, admin listings) must not sort the tenant.
CREATE INDEX IF NOT EXISTS objects_tenant_seq ON objects (tenant_id, seq);
CREATE INDEX IF NOT EXISTS objects_tenant_type_seq ON objects (tenant_id, object_type, seq);
CREATE INDEX IF NOT EXISTS objects_anchor ON objects (tenant_id, source_anchor);
-- Member references by DN compare case-insensitively.
CREATE INDEX IF NOT EXISTS objects_ldn ON objects (tenant_id, lower(dn));
CREATE TABLE IF NOT EXISTS members (
    group_seq INTEGER NOT NULL,
    member_seq INTEGER NOT NULL,
    PRIMARY KEY (group_seq, member_seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_member ON members (member_seq);
CREATE TABLE IF NOT EXISTS unique_values (
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    object_seq INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kind, value)
);
CREATE INDEX IF NOT EXISTS unique_values_object ON unique_values (object_seq);
-- Written with an upsert (ON CONFLICT on this key), which both dialects speak.
CREATE TABLE IF NOT EXISTS quarantine (
    tenant_id TEXT NOT NULL,
    object_seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    attribute TEXT NOT NULL,
    value TEXT NOT NULL,
    replacement TEXT,
    conflicting_seq INTEGER NOT NULL,
    PRIMARY KEY (object_seq, attribute, value)
);
CREATE INDEX IF NOT EXISTS quarantine_value ON quarantine (tenant_id, kind, value);
CREATE TABLE IF NOT EXISTS changes (
    usn INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    object_seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    member_seq INTEGER,
    object_id TEXT,
    object_type TEXT,
    dn TEXT
);
CREATE INDEX IF NOT EXISTS changes_tenant ON changes (tenant_id, usn);
-- Names of deleted objects (a removed member's DN in a delta).
CREATE INDEX IF NOT EXISTS changes_deleted ON changes (tenant_id, object_seq) WHERE kind = 'd';
-- A tenant's own object quota (clouddir.storage.quotas); without a row, the server's default.
CREATE TABLE IF NOT EXISTS tenant_quotas (
    tenant_id TEXT PRIMARY KEY,
    max_objects INTEGER NOT NULL
);
-- Bytes a tenant uses, kept by every write, and its own storage quota (clouddir.storage.quotas).
CREATE TABLE IF NOT EXISTS tenant_storage (
    tenant_id TEXT PRIMARY KEY, used_bytes INTEGER NOT NULL, max_bytes INTEGER);
CREATE TABLE IF NOT EXISTS batches (
    tenant_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    api TEXT NOT NULL,
    response TEXT NOT NULL,
    PRIMARY KEY (tenant_id, batch_id)
);
-- App registrations (clouddir.storage.apps): each app's secrets (hashed) and certificates.
CREATE TABLE IF NOT EXISTS apps (
    client_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS apps_tenant ON apps (tenant_id);
CREATE TABLE IF NOT EXISTS app_secrets (
    client_id TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    PRIMARY KEY (client_id, secret_hash)
);
CREATE TABLE IF NOT EXISTS app_certificates (
    client_id TEXT NOT NULL,
    thumbprint TEXT NOT NULL,
    x5t TEXT NOT NULL,
    x5t_s256 TEXT NOT NULL,
    pem TEXT NOT NULL,
    PRIMARY KEY (client_id, thumbprint)
);
-- Access tokens the token endpoint issued (hashed), kept a while past expiry to say so.
CREATE TABLE IF NOT EXISTS access_tokens (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS access_tokens_expiry ON access_tokens (expires_at);
-- Client assertion ids seen, until the assertion expires (a replay is refused).
CREATE TABLE IF NOT EXISTS assertion_ids (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX IF NOT EXISTS assertion_ids_expiry ON assertion_ids (expires_at);
-- Objects whose source of authority is the cloud (Graph's onPremisesSyncBehavior
-- .isCloudManaged): sync writes to them are refused (clouddir.storage.authority). A table of
-- its own, not a column: an existing database gains it by this CREATE ... IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS cloud_managed (
    object_seq INTEGER PRIMARY KEY,
    tenant_id TEXT NOT NULL
);
-- A user's manager (clouddir.storage.managers): both directions are look-ups.
CREATE TABLE IF NOT EXISTS managers (
    user_seq INTEGER PRIMARY KEY,
    manager_seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS managers_manager ON managers (manager_seq, user_seq);
"""
