//! The schema of each backend, as numbered migrations. A store applies the ones its database
//! has not seen yet, in one transaction, when it opens (PostgreSQL also refuses a database
//! migrated by a newer binary). The two lists are separate because the two dialects differ
//! (types, identity columns, collations), but they describe the same tables.

/// SQLite's migrations: each entry migrates the schema one version up. `PRAGMA user_version`
/// records how far a file has come (the first release kept it there, so it stays).
pub(crate) const SQLITE: &[&str] = &[
    r"
CREATE TABLE links (
    profile TEXT NOT NULL,
    module  TEXT NOT NULL,
    unid    TEXT NOT NULL,
    zoho_id TEXT NOT NULL,
    base    TEXT NOT NULL,
    PRIMARY KEY (profile, module, unid)
);
CREATE UNIQUE INDEX links_by_zoho ON links (profile, module, zoho_id);
CREATE TABLE module_state (
    profile        TEXT NOT NULL,
    module         TEXT NOT NULL,
    notes_cursor   INTEGER,
    crm_cursor     INTEGER,
    fingerprint    TEXT,
    crm_xref_ready INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (profile, module)
);
CREATE TABLE runs (
    id       INTEGER PRIMARY KEY,
    profile  TEXT NOT NULL,
    started  INTEGER NOT NULL,
    finished INTEGER NOT NULL,
    dry_run  INTEGER NOT NULL,
    outcome  TEXT NOT NULL,
    report   TEXT NOT NULL
);
CREATE INDEX runs_by_profile ON runs (profile, id);
",
    r"
-- The web server (nzsync serve): orgs, users, sessions, leases, created-record ids.
-- Secrets (refresh tokens, Domino passwords) are AEAD-sealed blobs, never clear text.
CREATE TABLE srv_orgs (
    org_id     TEXT PRIMARY KEY,
    admin_id   TEXT NOT NULL,
    api_domain TEXT NOT NULL,
    created    INTEGER NOT NULL
);
CREATE TABLE srv_users (
    user_id         TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES srv_orgs (org_id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    name            TEXT NOT NULL,
    is_admin        INTEGER NOT NULL DEFAULT 0,
    added           INTEGER NOT NULL,
    refresh_token   BLOB,
    domino_url      TEXT,
    domino_user     TEXT,
    domino_password BLOB,
    mail_db         TEXT,
    settings        TEXT,
    next_sync       INTEGER
);
CREATE INDEX srv_users_by_org ON srv_users (org_id);
CREATE TABLE srv_sessions (
    id_hash  TEXT PRIMARY KEY,
    user_id  TEXT NOT NULL,
    org_id   TEXT NOT NULL,
    email    TEXT NOT NULL,
    name     TEXT NOT NULL,
    csrf     TEXT NOT NULL,
    created  INTEGER NOT NULL,
    expires  INTEGER NOT NULL
);
CREATE INDEX srv_sessions_by_user ON srv_sessions (user_id);
CREATE TABLE srv_leases (
    user_id  TEXT PRIMARY KEY,
    token    TEXT NOT NULL,
    expires  INTEGER NOT NULL
);
CREATE TABLE srv_created (
    profile  TEXT NOT NULL,
    module   TEXT NOT NULL,
    zoho_id  TEXT NOT NULL,
    PRIMARY KEY (profile, module, zoho_id)
);
",
    r"
-- The CRM records a sync created, per profile, for uninstall's optional delete (F9). Kept
-- beside the sync state so the headless CLI and the server share it.
CREATE TABLE created (
    profile  TEXT NOT NULL,
    module   TEXT NOT NULL,
    zoho_id  TEXT NOT NULL,
    PRIMARY KEY (profile, module, zoho_id)
);
INSERT INTO created (profile, module, zoho_id) SELECT profile, lower(module), zoho_id FROM srv_created;
DROP TABLE srv_created;
",
    r"
-- Unlinked Notes documents that were private when last read (not read again until changed).
CREATE TABLE notes_private (
    profile  TEXT NOT NULL,
    module   TEXT NOT NULL,
    unid     TEXT NOT NULL,
    PRIMARY KEY (profile, module, unid)
);
",
    r"
-- Owner scope: Zoho records that left the user's scope while their Notes copy was kept, and
-- the identity of the mail file that cross-IDs name.
CREATE TABLE crm_left_scope (
    profile  TEXT NOT NULL,
    module   TEXT NOT NULL,
    zoho_id  TEXT NOT NULL,
    PRIMARY KEY (profile, module, zoho_id)
);
CREATE TABLE mail_file (
    profile    TEXT PRIMARY KEY,
    path       TEXT NOT NULL,
    replica_id TEXT
);
",
    r"
-- Zoho access tokens the headless CLI reuses between runs, sealed under a key derived from the
-- refresh token (see zoho_token.rs), keyed by an id derived the same way: never clear text.
CREATE TABLE zoho_tokens (
    credential TEXT PRIMARY KEY,
    profile    TEXT NOT NULL,
    sealed     BLOB NOT NULL,
    expires    INTEGER NOT NULL
);
CREATE INDEX zoho_tokens_by_profile ON zoho_tokens (profile);
-- The server's admin is now a verified CRM administrator (or one the operator names), checked
-- at every sign-in: an admin made by the old first-sign-in rule must sign in again to be
-- checked, so their sessions end here.
DELETE FROM srv_sessions WHERE user_id IN (SELECT user_id FROM srv_users WHERE is_admin = 1);
",
    r"
-- Scheduled syncs run as jobs (server/jobs): the back-off after a run that met HTTP 429 is kept
-- per user here, not in one replica's memory, so whichever replica runs the next slot knows it.
ALTER TABLE srv_users ADD COLUMN backoff_ms INTEGER;
",
    r"
-- Which Domino API a user connected through: 'das' (NULL, as before) or 'rest' (the Domino REST
-- API, whose base URL is then domino_url).
ALTER TABLE srv_users ADD COLUMN domino_api TEXT;
",
];

/// PostgreSQL's migrations: each entry migrates the schema one version up; the table
/// `nzsync_schema` holds one row per version applied. Version 1 is SQLite's schema as of its
/// version 6, in PostgreSQL's types.
pub(crate) const POSTGRES: &[&str] = &[
    r#"
-- Sync state, per profile. UNIDs sort byte by byte (COLLATE "C"), as in SQLite: the engine
-- reads links in pages after the last UNID it saw.
CREATE TABLE links (
    profile TEXT NOT NULL,
    module  TEXT NOT NULL,
    unid    TEXT COLLATE "C" NOT NULL,
    zoho_id TEXT NOT NULL,
    base    TEXT NOT NULL,
    PRIMARY KEY (profile, module, unid)
);
CREATE UNIQUE INDEX links_by_zoho ON links (profile, module, zoho_id);
CREATE TABLE module_state (
    profile        TEXT NOT NULL,
    module         TEXT NOT NULL,
    notes_cursor   BIGINT,
    crm_cursor     BIGINT,
    fingerprint    TEXT,
    crm_xref_ready BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (profile, module)
);
CREATE TABLE runs (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    profile  TEXT NOT NULL,
    started  BIGINT NOT NULL,
    finished BIGINT NOT NULL,
    dry_run  BOOLEAN NOT NULL,
    outcome  TEXT NOT NULL,
    report   TEXT NOT NULL
);
CREATE INDEX runs_by_profile ON runs (profile, id);
CREATE TABLE created (
    profile  TEXT NOT NULL,
    module   TEXT NOT NULL,
    zoho_id  TEXT NOT NULL,
    PRIMARY KEY (profile, module, zoho_id)
);
CREATE TABLE notes_private (
    profile  TEXT NOT NULL,
    module   TEXT NOT NULL,
    unid     TEXT NOT NULL,
    PRIMARY KEY (profile, module, unid)
);
CREATE TABLE crm_left_scope (
    profile  TEXT NOT NULL,
    module   TEXT NOT NULL,
    zoho_id  TEXT NOT NULL,
    PRIMARY KEY (profile, module, zoho_id)
);
CREATE TABLE mail_file (
    profile    TEXT PRIMARY KEY,
    path       TEXT NOT NULL,
    replica_id TEXT
);
CREATE TABLE zoho_tokens (
    credential TEXT PRIMARY KEY,
    profile    TEXT NOT NULL,
    sealed     BYTEA NOT NULL,
    expires    BIGINT NOT NULL
);
CREATE INDEX zoho_tokens_by_profile ON zoho_tokens (profile);
-- The web server: orgs, users, sessions, leases. Secrets (refresh tokens, Domino passwords)
-- are AEAD-sealed blobs, never clear text.
CREATE TABLE srv_orgs (
    org_id     TEXT PRIMARY KEY,
    admin_id   TEXT NOT NULL,
    api_domain TEXT NOT NULL,
    created    BIGINT NOT NULL
);
CREATE TABLE srv_users (
    user_id         TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES srv_orgs (org_id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    name            TEXT NOT NULL,
    is_admin        BOOLEAN NOT NULL DEFAULT FALSE,
    added           BIGINT NOT NULL,
    refresh_token   BYTEA,
    domino_url      TEXT,
    domino_user     TEXT,
    domino_password BYTEA,
    mail_db         TEXT,
    settings        TEXT,
    next_sync       BIGINT
);
CREATE INDEX srv_users_by_org ON srv_users (org_id);
CREATE INDEX srv_users_by_next_sync ON srv_users (next_sync) WHERE next_sync IS NOT NULL;
CREATE TABLE srv_sessions (
    id_hash  TEXT PRIMARY KEY,
    user_id  TEXT NOT NULL,
    org_id   TEXT NOT NULL,
    email    TEXT NOT NULL,
    name     TEXT NOT NULL,
    csrf     TEXT NOT NULL,
    created  BIGINT NOT NULL,
    expires  BIGINT NOT NULL
);
CREATE INDEX srv_sessions_by_user ON srv_sessions (user_id);
CREATE INDEX srv_sessions_by_expiry ON srv_sessions (expires);
CREATE TABLE srv_leases (
    user_id  TEXT PRIMARY KEY,
    token    TEXT NOT NULL,
    expires  BIGINT NOT NULL
);
"#,
    r"
-- Scheduled syncs run as jobs (server/jobs): the back-off after a run that met HTTP 429 is kept
-- per user here, not in one replica's memory, so whichever replica runs the next slot knows it.
ALTER TABLE srv_users ADD COLUMN backoff_ms BIGINT;
",
    r"
-- Which Domino API a user connected through: 'das' (NULL, as before) or 'rest' (the Domino REST
-- API, whose base URL is then domino_url).
ALTER TABLE srv_users ADD COLUMN domino_api TEXT;
",
];
