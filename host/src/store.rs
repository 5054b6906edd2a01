//! The SQLite store: sync state (links, cursors) and run history, per profile.
//!
//! One schema, in [`MIGRATIONS`]; `PRAGMA user_version` records how far a database has been
//! migrated. WAL mode, so a reader (the dashboard) never blocks the sync writer.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use sync_core::{
    Fields, Link, LinkWant, MailFile, Module, NotesUnid, RunReport, StateChange, SyncState,
    Timestamp, ZohoId,
};

use crate::zoho_token::TokenVault;

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("sync state store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Stored JSON could not be read back.
    #[error("sync state store holds unreadable data: {0}")]
    Corrupt(#[from] serde_json::Error),
}

/// Each entry migrates the schema one version up.
const MIGRATIONS: &[&str] = &[
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
];

/// The tables that hold a profile's sync state (not its history).
const STATE_TABLES: [&str; 5] = [
    "links",
    "module_state",
    "notes_private",
    "crm_left_scope",
    "mail_file",
];

/// A summary row of the run history.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunSummary {
    /// Row id.
    pub id: i64,
    /// Start, ms since the epoch.
    pub started: i64,
    /// End, ms since the epoch.
    pub finished: i64,
    /// A preview.
    pub dry_run: bool,
    /// `completed`, `partial` or `failed`.
    pub outcome: String,
}

/// An open store.
pub struct Store {
    conn: Connection,
}

fn module_key(m: Module) -> Result<String, StoreError> {
    Ok(serde_json::to_value(m)?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

fn module_from(s: &str) -> Result<Module, StoreError> {
    Ok(serde_json::from_value(serde_json::Value::String(
        s.to_owned(),
    ))?)
}

impl Store {
    /// Opens (creating and migrating) the store at `path`.
    ///
    /// # Errors
    /// When SQLite cannot open or migrate it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// An in-memory store (tests).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    /// The SQLite connection, for the web server's own tables (`srv_*`, see [`MIGRATIONS`]).
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?
            .try_into()
            .unwrap_or(0);
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            conn.execute_batch(&format!(
                "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
                i + 1
            ))?;
        }
        Ok(Self { conn })
    }

    /// Everything remembered for `profile`.
    ///
    /// # Errors
    /// When SQLite fails or a row is unreadable.
    pub fn load_state(&self, profile: &str) -> Result<SyncState, StoreError> {
        let mut state = self.load_state_without_links(profile)?;
        let mut stmt = self
            .conn
            .prepare("SELECT module, unid, zoho_id, base FROM links WHERE profile = ?1")?;
        let rows = stmt.query_map([profile], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            let (m, unid, zid, base) = row?;
            let base: Fields = serde_json::from_str(&base)?;
            state
                .modules
                .entry(module_from(&m)?)
                .or_default()
                .links
                .push(Link {
                    unid: NotesUnid(unid),
                    zoho_id: ZohoId(zid),
                    base,
                });
        }
        Ok(state)
    }

    /// The links of `profile`'s `module` that `want` selects, read as the engine asks for them
    /// (a run never loads every link at once).
    ///
    /// # Errors
    /// When SQLite fails or a row is unreadable.
    pub fn links(
        &self,
        profile: &str,
        module: Module,
        want: &LinkWant,
    ) -> Result<Vec<Link>, StoreError> {
        let m = module_key(module)?;
        let (after, limit) = match want {
            LinkWant::Page { after, limit } => (after, limit),
            LinkWant::Unids { unids } => {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT zoho_id, base FROM links WHERE profile = ?1 AND module = ?2 AND unid = ?3",
                )?;
                let mut links = Vec::with_capacity(unids.len());
                for u in unids {
                    let row = stmt
                        .query_row(params![profile, m, u.0], |r| {
                            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                        })
                        .optional()?;
                    if let Some((zid, base)) = row {
                        links.push(Link {
                            unid: u.clone(),
                            zoho_id: ZohoId(zid),
                            base: serde_json::from_str(&base)?,
                        });
                    }
                }
                return Ok(links);
            }
        };
        // Byte order, as the engine expects: SQLite's default BINARY collation.
        let mut stmt = self.conn.prepare_cached(
            "SELECT unid, zoho_id, base FROM links WHERE profile = ?1 AND module = ?2 AND unid > ?3 ORDER BY unid LIMIT ?4",
        )?;
        let after = after.as_ref().map_or("", |a| a.0.as_str());
        let rows = stmt.query_map(params![profile, m, after, limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut links = Vec::new();
        for row in rows {
            let (unid, zid, base) = row?;
            links.push(Link {
                unid: NotesUnid(unid),
                zoho_id: ZohoId(zid),
                base: serde_json::from_str(&base)?,
            });
        }
        Ok(links)
    }

    /// What [`Store::load_state`] loads but the links: what a run starts from when it reads
    /// the links on request.
    ///
    /// # Errors
    /// When SQLite fails or a row is unreadable.
    pub fn load_state_without_links(&self, profile: &str) -> Result<SyncState, StoreError> {
        let mut state = SyncState::default();
        let mut stmt = self.conn.prepare(
            "SELECT module, notes_cursor, crm_cursor, fingerprint, crm_xref_ready FROM module_state WHERE profile = ?1",
        )?;
        let rows = stmt.query_map([profile], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?;
        for row in rows {
            let (m, nc, cc, fp, ready) = row?;
            let ms = state.modules.entry(module_from(&m)?).or_default();
            ms.notes_cursor = nc.map(Timestamp);
            ms.crm_cursor = cc.map(Timestamp);
            ms.fingerprint = fp;
            ms.crm_xref_ready = ready;
        }
        let mut stmt = self
            .conn
            .prepare("SELECT module, unid FROM notes_private WHERE profile = ?1")?;
        let rows = stmt.query_map([profile], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (m, unid) = row?;
            state
                .modules
                .entry(module_from(&m)?)
                .or_default()
                .notes_private
                .insert(NotesUnid(unid));
        }
        let mut stmt = self
            .conn
            .prepare("SELECT module, zoho_id FROM crm_left_scope WHERE profile = ?1")?;
        let rows = stmt.query_map([profile], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (m, zid) = row?;
            state
                .modules
                .entry(module_from(&m)?)
                .or_default()
                .crm_left_scope
                .insert(ZohoId(zid));
        }
        state.mail_file = self
            .conn
            .query_row(
                "SELECT path, replica_id FROM mail_file WHERE profile = ?1",
                [profile],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)),
            )
            .optional()?
            .map(|(path, replica)| MailFile::new(&path, replica.as_deref()));
        Ok(state)
    }

    /// Applies `changes` for `profile` in one transaction.
    ///
    /// # Errors
    /// When SQLite fails (nothing is applied then).
    pub fn apply(&mut self, profile: &str, changes: &[StateChange]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for change in changes {
            match change {
                StateChange::LinkSet { module, link } => {
                    let m = module_key(*module)?;
                    tx.execute(
                        "DELETE FROM links WHERE profile = ?1 AND module = ?2 AND (unid = ?3 OR zoho_id = ?4)",
                        params![profile, m, link.unid.0, link.zoho_id.0],
                    )?;
                    tx.execute(
                        "INSERT INTO links (profile, module, unid, zoho_id, base) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![profile, m, link.unid.0, link.zoho_id.0, serde_json::to_string(&link.base)?],
                    )?;
                }
                StateChange::LinkRemoved {
                    module,
                    unid,
                    zoho_id,
                } => {
                    let m = module_key(*module)?;
                    tx.execute(
                        "DELETE FROM links WHERE profile = ?1 AND module = ?2 AND (?3 IS NULL OR unid = ?3) AND (?4 IS NULL OR zoho_id = ?4)",
                        params![profile, m, unid.as_ref().map(|u| &u.0), zoho_id.as_ref().map(|z| &z.0)],
                    )?;
                }
                StateChange::Cursors {
                    module,
                    notes,
                    crm,
                    fingerprint,
                } => {
                    tx.execute(
                        "INSERT INTO module_state (profile, module, notes_cursor, crm_cursor, fingerprint) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (profile, module) DO UPDATE SET notes_cursor = ?3, crm_cursor = ?4, fingerprint = ?5",
                        params![profile, module_key(*module)?, notes.map(|t| t.0), crm.map(|t| t.0), fingerprint],
                    )?;
                }
                StateChange::XrefReady { module } => {
                    tx.execute(
                        "INSERT INTO module_state (profile, module, crm_xref_ready) VALUES (?1, ?2, 1)
                         ON CONFLICT (profile, module) DO UPDATE SET crm_xref_ready = 1",
                        params![profile, module_key(*module)?],
                    )?;
                }
                StateChange::NotesPrivate {
                    module,
                    unid,
                    private,
                } => {
                    let sql = if *private {
                        "INSERT OR IGNORE INTO notes_private (profile, module, unid) VALUES (?1, ?2, ?3)"
                    } else {
                        "DELETE FROM notes_private WHERE profile = ?1 AND module = ?2 AND unid = ?3"
                    };
                    tx.execute(sql, params![profile, module_key(*module)?, unid.0])?;
                }
                StateChange::CrmLeftScope {
                    module,
                    zoho_id,
                    left,
                } => {
                    let sql = if *left {
                        "INSERT OR IGNORE INTO crm_left_scope (profile, module, zoho_id) VALUES (?1, ?2, ?3)"
                    } else {
                        "DELETE FROM crm_left_scope WHERE profile = ?1 AND module = ?2 AND zoho_id = ?3"
                    };
                    tx.execute(sql, params![profile, module_key(*module)?, zoho_id.0])?;
                }
                StateChange::MailFile { mail_file } => {
                    tx.execute(
                        "INSERT INTO mail_file (profile, path, replica_id) VALUES (?1, ?2, ?3)
                         ON CONFLICT (profile) DO UPDATE SET path = ?2, replica_id = ?3",
                        params![profile, mail_file.path, mail_file.replica_id],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Appends a run to the history and remembers which CRM records it created (for
    /// uninstall's optional delete). Call it after the run's state changes are applied: a
    /// created record whose report entry lacks its Zoho id is found through its link.
    ///
    /// # Errors
    /// When SQLite fails (nothing is recorded then).
    pub fn record_run(&mut self, profile: &str, report: &RunReport) -> Result<i64, StoreError> {
        let outcome = serde_json::to_value(report.outcome)?
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let created = if report.dry_run {
            Vec::new()
        } else {
            created_by(report, &self.load_state(profile)?)
        };
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO runs (profile, started, finished, dry_run, outcome, report) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![profile, report.started.0, report.finished.0, report.dry_run, outcome, serde_json::to_string(report)?],
        )?;
        let id = tx.last_insert_rowid();
        for (module, zoho_id) in created {
            insert_created(&tx, profile, module, &zoho_id)?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Remembers that the integration created CRM record `zoho_id` for `profile` outside a sync
    /// run (a meeting scheduled from the widget, F6).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn add_created(
        &self,
        profile: &str,
        module: Module,
        zoho_id: &ZohoId,
    ) -> Result<(), StoreError> {
        insert_created(&self.conn, profile, module, zoho_id)
    }

    /// The CRM records the integration created for `profile`, by module then id.
    ///
    /// # Errors
    /// When SQLite fails or a row is unreadable.
    pub fn created(&self, profile: &str) -> Result<Vec<(Module, ZohoId)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT module, zoho_id FROM created WHERE profile = ?1 ORDER BY module, zoho_id",
        )?;
        let rows = stmt.query_map([profile], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (m, z) = row?;
            out.push((module_from(&m)?, ZohoId(z)));
        }
        Ok(out)
    }

    /// Forgets created-record ids (they were deleted from the CRM).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn forget_created(
        &mut self,
        profile: &str,
        records: &[(Module, ZohoId)],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for (m, z) in records {
            tx.execute(
                "DELETE FROM created WHERE profile = ?1 AND module = ?2 AND zoho_id = ?3",
                params![profile, module_key(*m)?, z.0],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The newest `limit` runs of `profile`, newest first.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn runs(&self, profile: &str, limit: u32) -> Result<Vec<RunSummary>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, started, finished, dry_run, outcome FROM runs WHERE profile = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![profile, limit], |r| {
            Ok(RunSummary {
                id: r.get(0)?,
                started: r.get(1)?,
                finished: r.get(2)?,
                dry_run: r.get(3)?,
                outcome: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The full report of run `id` of `profile`.
    ///
    /// # Errors
    /// When SQLite fails or the stored report is unreadable.
    pub fn run_report(&self, profile: &str, id: i64) -> Result<Option<RunReport>, StoreError> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT report FROM runs WHERE profile = ?1 AND id = ?2",
                params![profile, id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(match text {
            Some(t) => Some(serde_json::from_str(&t)?),
            None => None,
        })
    }

    /// Forgets the sync state of `profile` (links, cursors, remembered private documents) but
    /// keeps its history: the next run starts afresh, e.g. after the user switched mail files.
    ///
    /// # Errors
    /// When SQLite fails (nothing is deleted then).
    pub fn forget_sync_state(&mut self, profile: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for table in STATE_TABLES {
            tx.execute(
                &format!("DELETE FROM {table} WHERE profile = ?1"),
                [profile],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes every row of `profile` (uninstall, F9). Returns how many rows went.
    ///
    /// # Errors
    /// When SQLite fails (nothing is deleted then).
    pub fn delete_profile(&mut self, profile: &str) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        for table in STATE_TABLES
            .iter()
            .chain(&["runs", "created", "zoho_tokens"])
        {
            n += tx.execute(
                &format!("DELETE FROM {table} WHERE profile = ?1"),
                [profile],
            )?;
        }
        tx.commit()?;
        // Reclaim the pages so deleted data does not linger in the file.
        self.conn.execute_batch("VACUUM")?;
        Ok(n)
    }
}

/// The CLI's [`TokenVault`]: sealed Zoho access tokens in the store's `zoho_tokens` table, on
/// a connection of its own (the sync's connection stays with the sync). A failure to read or
/// write only costs a refresh, so it is logged, not returned.
pub struct StoreVault {
    store: std::sync::Mutex<Store>,
    profile: String,
}

impl StoreVault {
    /// The vault in the store at `path`, for `profile` (uninstall deletes its rows).
    ///
    /// # Errors
    /// When SQLite cannot open the store.
    pub fn open(path: &Path, profile: &str) -> Result<Self, StoreError> {
        Ok(Self {
            store: std::sync::Mutex::new(Store::open(path)?),
            profile: profile.to_owned(),
        })
    }

    fn with<T>(&self, what: &str, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Option<T> {
        let store = self
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match f(&store.conn) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::debug!(error = %e, "token cache: cannot {what}");
                None
            }
        }
    }
}

impl TokenVault for StoreVault {
    fn load(&self, id: &str) -> Option<(Vec<u8>, i64)> {
        self.with("read", |c| {
            c.query_row(
                "SELECT sealed, expires FROM zoho_tokens WHERE credential = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
        .flatten()
    }

    fn save(&self, id: &str, sealed: &[u8], expires_ms: i64) {
        self.with("write", |c| {
            c.execute(
                "INSERT INTO zoho_tokens (credential, profile, sealed, expires) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (credential) DO UPDATE SET profile = ?2, sealed = ?3, expires = ?4",
                params![id, self.profile, sealed, expires_ms],
            )
        });
    }

    fn forget(&self, id: &str) {
        self.with("delete", |c| {
            c.execute("DELETE FROM zoho_tokens WHERE credential = ?1", [id])
        });
    }
}

fn insert_created(
    c: &Connection,
    profile: &str,
    module: Module,
    zoho_id: &ZohoId,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT OR IGNORE INTO created (profile, module, zoho_id) VALUES (?1, ?2, ?3)",
        params![profile, module_key(module)?, zoho_id.0],
    )?;
    Ok(())
}

/// The CRM records `report` says the sync created (a CRM create that succeeded), with the id
/// from the entry or else from the link `state` holds for the entry's Notes document.
fn created_by(report: &RunReport, state: &SyncState) -> Vec<(Module, ZohoId)> {
    let mut out = Vec::new();
    for m in &report.modules {
        for e in &m.entries {
            if e.verdict != sync_core::plan::Verdict::Created
                || e.crm.as_deref() != Some("create")
                || e.error.is_some()
            {
                continue;
            }
            let zoho_id = e.zoho_id.clone().or_else(|| {
                let unid = e.unid.as_ref()?;
                state
                    .modules
                    .get(&m.module)?
                    .links
                    .iter()
                    .find(|l| &l.unid == unid)
                    .map(|l| l.zoho_id.clone())
            });
            if let Some(z) = zoho_id {
                out.push((m.module, z));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_ids_of_a_version_2_store_survive_the_migration() {
        let conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO srv_created VALUES ('u:1', 'Contacts', 'Z1'), ('u:1', 'Events', 'Z2');",
        )
        .unwrap();
        let store = Store::init(conn).unwrap();
        assert_eq!(
            store.created("u:1").unwrap(),
            [
                (Module::Contacts, ZohoId("Z1".into())),
                (Module::Events, ZohoId("Z2".into()))
            ]
        );
    }

    #[test]
    fn state_round_trips_through_changes() {
        let mut s = Store::in_memory().unwrap();
        let mut base = Fields::default();
        base.set("email", "a@b.c");
        let link = Link {
            unid: NotesUnid("U1".into()),
            zoho_id: ZohoId("Z1".into()),
            base,
        };
        let m = Module::Contacts;
        let changes = vec![
            StateChange::XrefReady { module: m },
            StateChange::LinkSet {
                module: m,
                link: link.clone(),
            },
            StateChange::Cursors {
                module: m,
                notes: Some(Timestamp(5)),
                crm: Some(Timestamp(6)),
                fingerprint: Some("f".into()),
            },
            StateChange::NotesPrivate {
                module: m,
                unid: NotesUnid("P1".into()),
                private: true,
            },
            StateChange::NotesPrivate {
                module: m,
                unid: NotesUnid("P2".into()),
                private: true,
            },
            StateChange::NotesPrivate {
                module: m,
                unid: NotesUnid("P1".into()),
                private: false,
            },
            StateChange::CrmLeftScope {
                module: m,
                zoho_id: ZohoId("Z7".into()),
                left: true,
            },
            StateChange::CrmLeftScope {
                module: m,
                zoho_id: ZohoId("Z8".into()),
                left: true,
            },
            StateChange::CrmLeftScope {
                module: m,
                zoho_id: ZohoId("Z7".into()),
                left: false,
            },
            StateChange::MailFile {
                mail_file: MailFile::new("mail/demo.nsf", Some("852578AE0067D8A1")),
            },
        ];
        s.apply("p", &changes).unwrap();
        let mut expected = SyncState::default();
        for c in &changes {
            expected.apply(c);
        }
        assert_eq!(s.load_state("p").unwrap(), expected);
        assert_eq!(s.load_state("other").unwrap(), SyncState::default());
        // Re-linking the same UNID to a new record replaces the old row.
        let relinked = Link {
            zoho_id: ZohoId("Z2".into()),
            ..link
        };
        s.apply(
            "p",
            &[StateChange::LinkSet {
                module: m,
                link: relinked.clone(),
            }],
        )
        .unwrap();
        assert_eq!(s.load_state("p").unwrap().modules[&m].links, vec![relinked]);
        assert!(s.delete_profile("p").unwrap() >= 2);
        assert_eq!(s.load_state("p").unwrap(), SyncState::default());
    }
}
