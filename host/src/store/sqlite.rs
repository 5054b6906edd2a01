//! The SQLite backend: one file, the embedded default (`[store] path`). rusqlite, as before the
//! fleet: the file format, the pragmas and the migrations are what every single host already
//! has.
//!
//! WAL mode, so a reader (the dashboard) never blocks the sync writer. The functions here are
//! synchronous; [`super::Conn`] runs them under the store's one connection lock.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use sync_core::{
    Fields, Link, LinkWant, MailFile, Module, NotesUnid, RunReport, StateChange, SyncState,
    Timestamp, ZohoId,
};

use super::StoreError;
use super::migrations::SQLITE as MIGRATIONS;
use super::rows::{
    HISTORY_TABLES, LastSync, RunSummary, STATE_TABLES, SessionRow, SetMember, USER_COLUMNS,
    UserRow, domino_api_key, domino_api_of, module_from, module_key, outcome_key, set_member,
};
use crate::config::DominoApiChoice;

/// Opens (creating and migrating) the file at `path`.
pub(crate) fn open(path: &Path) -> Result<Connection, StoreError> {
    init(Connection::open(path)?)
}

/// An in-memory database (tests).
pub(crate) fn in_memory() -> Result<Connection, StoreError> {
    init(Connection::open_in_memory()?)
}

/// Sets the connection up and applies the migrations the file has not seen.
pub(crate) fn init(conn: Connection) -> Result<Connection, StoreError> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    migrate(&conn)?;
    Ok(conn)
}

/// Applies the migrations the file has not seen, each in a transaction with its version;
/// returns the schema version.
pub(crate) fn migrate(conn: &Connection) -> Result<i64, StoreError> {
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
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

// ---- sync state ----

pub(crate) fn load_state(c: &Connection, profile: &str) -> Result<SyncState, StoreError> {
    let mut state = load_state_without_links(c, profile)?;
    let mut stmt = c.prepare("SELECT module, unid, zoho_id, base FROM links WHERE profile = ?1")?;
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

pub(crate) fn links(
    c: &Connection,
    profile: &str,
    module: Module,
    want: &LinkWant,
) -> Result<Vec<Link>, StoreError> {
    let m = module_key(module)?;
    let (after, limit) = match want {
        LinkWant::Page { after, limit } => (after, limit),
        LinkWant::Unids { unids } => {
            let mut stmt = c.prepare_cached(
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
    let mut stmt = c.prepare_cached(
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

pub(crate) fn load_state_without_links(
    c: &Connection,
    profile: &str,
) -> Result<SyncState, StoreError> {
    let mut state = SyncState::default();
    let mut stmt = c.prepare(
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
    let mut stmt = c.prepare("SELECT module, unid FROM notes_private WHERE profile = ?1")?;
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
    let mut stmt = c.prepare("SELECT module, zoho_id FROM crm_left_scope WHERE profile = ?1")?;
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
    state.mail_file = c
        .query_row(
            "SELECT path, replica_id FROM mail_file WHERE profile = ?1",
            [profile],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)),
        )
        .optional()?
        .map(|(path, replica)| MailFile::new(&path, replica.as_deref()));
    Ok(state)
}

pub(crate) fn apply(
    c: &mut Connection,
    profile: &str,
    changes: &[StateChange],
) -> Result<(), StoreError> {
    let tx = c.savepoint()?;
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
            StateChange::NotesPrivate { .. } | StateChange::CrmLeftScope { .. } => {
                if let Some(SetMember {
                    table,
                    column,
                    module,
                    key,
                    member,
                }) = set_member(change)
                {
                    // `table` and `column` are the store's own names, never input.
                    let sql = if member {
                        format!(
                            "INSERT OR IGNORE INTO {table} (profile, module, {column}) VALUES (?1, ?2, ?3)"
                        )
                    } else {
                        format!(
                            "DELETE FROM {table} WHERE profile = ?1 AND module = ?2 AND {column} = ?3"
                        )
                    };
                    tx.execute(&sql, params![profile, module_key(module)?, key])?;
                }
            }
            StateChange::CrmCreated { module, zoho_id } => {
                add_created(&tx, profile, *module, zoho_id)?;
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

pub(crate) fn record_run(
    c: &mut Connection,
    profile: &str,
    report: &RunReport,
) -> Result<i64, StoreError> {
    let outcome = outcome_key(report)?;
    let tx = c.savepoint()?;
    tx.execute(
        "INSERT INTO runs (profile, started, finished, dry_run, outcome, report) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![profile, report.started.0, report.finished.0, report.dry_run, outcome, serde_json::to_string(report)?],
    )?;
    let id = tx.last_insert_rowid();
    tx.commit()?;
    Ok(id)
}

pub(crate) fn add_created(
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

pub(crate) fn created(c: &Connection, profile: &str) -> Result<Vec<(Module, ZohoId)>, StoreError> {
    let mut stmt = c.prepare(
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

pub(crate) fn forget_created(
    c: &mut Connection,
    profile: &str,
    records: &[(Module, ZohoId)],
) -> Result<(), StoreError> {
    let tx = c.savepoint()?;
    for (m, z) in records {
        tx.execute(
            "DELETE FROM created WHERE profile = ?1 AND module = ?2 AND zoho_id = ?3",
            params![profile, module_key(*m)?, z.0],
        )?;
    }
    tx.commit()?;
    Ok(())
}

pub(crate) fn runs(
    c: &Connection,
    profile: &str,
    limit: u32,
) -> Result<Vec<RunSummary>, StoreError> {
    let mut stmt = c.prepare(
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

pub(crate) fn run_report(
    c: &Connection,
    profile: &str,
    id: i64,
) -> Result<Option<RunReport>, StoreError> {
    let text: Option<String> = c
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

pub(crate) fn last_sync(c: &Connection, profile: &str) -> Result<Option<LastSync>, StoreError> {
    Ok(c.query_row(
        "SELECT id, (SELECT COUNT(*) FROM runs r2 WHERE r2.profile = r.profile AND r2.dry_run = 0 \
         AND r2.id <= r.id), finished, outcome FROM runs r WHERE profile = ?1 AND dry_run = 0 \
         ORDER BY id DESC LIMIT 1",
        [profile],
        |r| {
            Ok(LastSync {
                id: r.get(0)?,
                number: r.get(1)?,
                finished: r.get(2)?,
                outcome: r.get(3)?,
            })
        },
    )
    .optional()?)
}

pub(crate) fn run_numbers(
    c: &Connection,
    profile: &str,
) -> Result<std::collections::HashMap<i64, i64>, StoreError> {
    let mut stmt = c.prepare(
        "SELECT id, ROW_NUMBER() OVER (PARTITION BY dry_run ORDER BY id) FROM runs WHERE profile = ?1",
    )?;
    let rows = stmt.query_map([profile], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn forget_sync_state(c: &mut Connection, profile: &str) -> Result<(), StoreError> {
    let tx = c.savepoint()?;
    for table in STATE_TABLES {
        tx.execute(
            &format!("DELETE FROM {table} WHERE profile = ?1"),
            [profile],
        )?;
    }
    tx.commit()?;
    Ok(())
}

pub(crate) fn delete_profile(c: &mut Connection, profile: &str) -> Result<u64, StoreError> {
    let tx = c.savepoint()?;
    let mut n = 0;
    for table in STATE_TABLES.iter().chain(&HISTORY_TABLES) {
        n += tx.execute(
            &format!("DELETE FROM {table} WHERE profile = ?1"),
            [profile],
        )?;
    }
    tx.commit()?;
    Ok(n as u64)
}

/// Rewrites the file and empties the write-ahead log, so no deleted page lingers on disk.
/// Outside a transaction only.
pub(crate) fn compact(c: &Connection) -> Result<(), StoreError> {
    c.execute_batch("VACUUM")?;
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

// ---- the web server's rows ----

fn user_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        user_id: r.get(0)?,
        org_id: r.get(1)?,
        email: r.get(2)?,
        name: r.get(3)?,
        is_admin: r.get(4)?,
        added: r.get(5)?,
        refresh_token: r.get(6)?,
        domino_url: r.get(7)?,
        domino_user: r.get(8)?,
        domino_password: r.get(9)?,
        mail_db: r.get(10)?,
        settings: r.get(11)?,
        next_sync: r.get(12)?,
        domino_api: domino_api_of(r.get::<_, Option<String>>(13)?.as_deref()),
    })
}

fn users(c: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<Vec<UserRow>, StoreError> {
    let mut stmt = c.prepare(sql)?;
    let rows = stmt.query_map(p, user_from)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn orgs(c: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt = c.prepare("SELECT org_id, admin_id FROM srv_orgs ORDER BY org_id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn lock_org(c: &Connection, org_id: &str) -> Result<bool, StoreError> {
    // A transaction holds the file's write lock from its start (`BEGIN IMMEDIATE`), and the
    // one connection serialises the process's transactions: nothing more to lock.
    org_exists(c, org_id)
}

pub(crate) fn org_exists(c: &Connection, org_id: &str) -> Result<bool, StoreError> {
    Ok(
        c.query_row("SELECT 1 FROM srv_orgs WHERE org_id = ?1", [org_id], |_| {
            Ok(())
        })
        .optional()?
        .is_some(),
    )
}

pub(crate) fn insert_org(
    c: &Connection,
    org_id: &str,
    admin_id: &str,
    api_domain: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let n = c.execute(
        "INSERT INTO srv_orgs (org_id, admin_id, api_domain, created) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (org_id) DO NOTHING",
        params![org_id, admin_id, api_domain, now],
    )?;
    Ok(n == 1)
}

pub(crate) fn user(c: &Connection, user_id: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(c.query_row(
        &format!("SELECT {USER_COLUMNS} FROM srv_users WHERE user_id = ?1"),
        [user_id],
        user_from,
    )
    .optional()?)
}

pub(crate) fn org_admin(c: &Connection, org_id: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users(
        c,
        &format!(
            "SELECT {USER_COLUMNS} FROM srv_users WHERE org_id = ?1 AND is_admin = 1 \
             ORDER BY added, user_id LIMIT 1"
        ),
        [org_id],
    )?
    .pop())
}

pub(crate) fn make_admin(c: &Connection, org_id: &str, user_id: &str) -> Result<(), StoreError> {
    c.execute(
        "UPDATE srv_users SET is_admin = (user_id = ?2) WHERE org_id = ?1",
        params![org_id, user_id],
    )?;
    c.execute(
        "UPDATE srv_orgs SET admin_id = ?2 WHERE org_id = ?1",
        params![org_id, user_id],
    )?;
    Ok(())
}

pub(crate) fn demote(c: &Connection, user_id: &str) -> Result<(), StoreError> {
    c.execute(
        "UPDATE srv_users SET is_admin = 0 WHERE user_id = ?1",
        [user_id],
    )?;
    Ok(())
}

pub(crate) fn org_users(c: &Connection, org_id: &str) -> Result<Vec<UserRow>, StoreError> {
    users(
        c,
        &format!("SELECT {USER_COLUMNS} FROM srv_users WHERE org_id = ?1 ORDER BY added, user_id"),
        [org_id],
    )
}

pub(crate) fn due_users(c: &Connection, now: i64) -> Result<Vec<UserRow>, StoreError> {
    users(
        c,
        &format!(
            "SELECT {USER_COLUMNS} FROM srv_users WHERE next_sync IS NOT NULL AND next_sync <= ?1 \
             AND domino_password IS NOT NULL ORDER BY next_sync"
        ),
        [now],
    )
}

pub(crate) fn insert_user(c: &Connection, u: &UserRow) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO srv_users (user_id, org_id, email, name, is_admin, added, refresh_token) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            u.user_id,
            u.org_id,
            u.email,
            u.name,
            u.is_admin,
            u.added,
            u.refresh_token
        ],
    )?;
    Ok(())
}

pub(crate) fn update_identity(
    c: &Connection,
    user_id: &str,
    email: &str,
    name: &str,
    refresh_token: Option<&[u8]>,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE srv_users SET email = ?2, name = ?3, refresh_token = COALESCE(?4, refresh_token) \
         WHERE user_id = ?1",
        params![user_id, email, name, refresh_token],
    )?;
    Ok(())
}

pub(crate) fn set_connection(
    c: &Connection,
    user_id: &str,
    url: &str,
    user: &str,
    sealed_password: &[u8],
    mail_db: &str,
    api: DominoApiChoice,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE srv_users SET domino_url = ?2, domino_user = ?3, domino_password = ?4, \
         mail_db = ?5, domino_api = ?6 WHERE user_id = ?1",
        params![
            user_id,
            url,
            user,
            sealed_password,
            mail_db,
            domino_api_key(api)
        ],
    )?;
    Ok(())
}

pub(crate) fn clear_connection(c: &Connection, user_id: &str) -> Result<u64, StoreError> {
    Ok(c.execute(
        "UPDATE srv_users SET domino_url = NULL, domino_user = NULL, domino_password = NULL, \
         mail_db = NULL, domino_api = NULL, next_sync = NULL WHERE user_id = ?1",
        [user_id],
    )? as u64)
}

pub(crate) fn set_password(c: &Connection, user_id: &str, sealed: &[u8]) -> Result<(), StoreError> {
    c.execute(
        "UPDATE srv_users SET domino_password = ?2 WHERE user_id = ?1",
        params![user_id, sealed],
    )?;
    Ok(())
}

pub(crate) fn set_settings(
    c: &Connection,
    user_id: &str,
    settings: &str,
    next_sync: Option<i64>,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE srv_users SET settings = ?2, next_sync = ?3 WHERE user_id = ?1",
        params![user_id, settings, next_sync],
    )?;
    Ok(())
}

pub(crate) fn set_next_sync(
    c: &Connection,
    user_id: &str,
    next: Option<i64>,
) -> Result<(), StoreError> {
    c.execute(
        "UPDATE srv_users SET next_sync = ?2 WHERE user_id = ?1",
        params![user_id, next],
    )?;
    Ok(())
}

pub(crate) fn backoff(c: &Connection, user_id: &str) -> Result<Option<i64>, StoreError> {
    Ok(c.query_row(
        "SELECT backoff_ms FROM srv_users WHERE user_id = ?1",
        [user_id],
        |r| r.get::<_, Option<i64>>(0),
    )
    .optional()?
    .flatten())
}

pub(crate) fn advance_schedule(
    c: &Connection,
    user_id: &str,
    slot: i64,
    next: i64,
    backoff: Option<i64>,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        "UPDATE srv_users SET next_sync = ?3, backoff_ms = ?4 WHERE user_id = ?1 AND next_sync = ?2",
        params![user_id, slot, next, backoff],
    )? == 1)
}

pub(crate) fn org_leases_held(
    c: &Connection,
    org_id: &str,
    except_user: &str,
    now: i64,
) -> Result<i64, StoreError> {
    Ok(c.query_row(
        "SELECT COUNT(*) FROM srv_leases l JOIN srv_users u ON u.user_id = l.user_id \
         WHERE u.org_id = ?1 AND l.user_id <> ?2 AND l.expires > ?3",
        params![org_id, except_user, now],
        |r| r.get(0),
    )?)
}

pub(crate) fn insert_session(
    c: &Connection,
    id_hash: &str,
    s: &SessionRow,
    now: i64,
    expires: i64,
) -> Result<(), StoreError> {
    c.execute("DELETE FROM srv_sessions WHERE expires <= ?1", [now])?;
    c.execute(
        "INSERT INTO srv_sessions (id_hash, user_id, org_id, email, name, csrf, created, expires) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id_hash, s.user_id, s.org_id, s.email, s.name, s.csrf, now, expires
        ],
    )?;
    Ok(())
}

pub(crate) fn session(
    c: &Connection,
    id_hash: &str,
    now: i64,
) -> Result<Option<SessionRow>, StoreError> {
    Ok(c.query_row(
        "SELECT user_id, org_id, email, name, csrf FROM srv_sessions WHERE id_hash = ?1 AND expires > ?2",
        params![id_hash, now],
        |r| {
            Ok(SessionRow {
                user_id: r.get(0)?,
                org_id: r.get(1)?,
                email: r.get(2)?,
                name: r.get(3)?,
                csrf: r.get(4)?,
            })
        },
    )
    .optional()?)
}

pub(crate) fn delete_session(c: &Connection, id_hash: &str) -> Result<(), StoreError> {
    c.execute("DELETE FROM srv_sessions WHERE id_hash = ?1", [id_hash])?;
    Ok(())
}

pub(crate) fn lease(
    c: &Connection,
    user_id: &str,
    now: i64,
) -> Result<Option<(String, i64)>, StoreError> {
    Ok(c.query_row(
        "SELECT token, expires FROM srv_leases WHERE user_id = ?1 AND expires > ?2",
        params![user_id, now],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?)
}

pub(crate) fn take_lease(
    c: &Connection,
    user_id: &str,
    token: &str,
    now: i64,
    expires: i64,
) -> Result<bool, StoreError> {
    // One statement: the row is written only when there is none or it has expired, so two
    // callers never both take it.
    Ok(c.execute(
        "INSERT INTO srv_leases (user_id, token, expires) VALUES (?1, ?2, ?3) \
         ON CONFLICT (user_id) DO UPDATE SET token = excluded.token, expires = excluded.expires \
         WHERE srv_leases.expires <= ?4",
        params![user_id, token, expires, now],
    )? == 1)
}

pub(crate) fn renew_lease(
    c: &Connection,
    user_id: &str,
    token: &str,
    expires: i64,
) -> Result<bool, StoreError> {
    Ok(c.execute(
        "UPDATE srv_leases SET expires = ?3 WHERE user_id = ?1 AND token = ?2",
        params![user_id, token, expires],
    )? == 1)
}

pub(crate) fn delete_lease(c: &Connection, user_id: &str, token: &str) -> Result<u64, StoreError> {
    Ok(c.execute(
        "DELETE FROM srv_leases WHERE user_id = ?1 AND token = ?2",
        params![user_id, token],
    )? as u64)
}

pub(crate) fn delete_user(c: &Connection, user_id: &str) -> Result<u64, StoreError> {
    let mut n = c.execute("DELETE FROM srv_sessions WHERE user_id = ?1", [user_id])?;
    n += c.execute("DELETE FROM srv_leases WHERE user_id = ?1", [user_id])?;
    n += c.execute("DELETE FROM srv_users WHERE user_id = ?1", [user_id])?;
    Ok(n as u64)
}

pub(crate) fn delete_org(c: &Connection, org_id: &str) -> Result<u64, StoreError> {
    let mut n = c.execute("DELETE FROM srv_sessions WHERE org_id = ?1", [org_id])?;
    n += c.execute("DELETE FROM srv_orgs WHERE org_id = ?1", [org_id])?;
    Ok(n as u64)
}

pub(crate) fn token_load(c: &Connection, id: &str) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
    Ok(c.query_row(
        "SELECT sealed, expires FROM zoho_tokens WHERE credential = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?)
}

pub(crate) fn token_save(
    c: &Connection,
    id: &str,
    profile: &str,
    sealed: &[u8],
    expires_ms: i64,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO zoho_tokens (credential, profile, sealed, expires) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (credential) DO UPDATE SET profile = ?2, sealed = ?3, expires = ?4",
        params![id, profile, sealed, expires_ms],
    )?;
    Ok(())
}

pub(crate) fn token_forget(c: &Connection, id: &str) -> Result<(), StoreError> {
    c.execute("DELETE FROM zoho_tokens WHERE credential = ?1", [id])?;
    Ok(())
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
        let conn = init(conn).unwrap();
        assert_eq!(
            created(&conn, "u:1").unwrap(),
            [
                (Module::Contacts, ZohoId("Z1".into())),
                (Module::Events, ZohoId("Z2".into()))
            ]
        );
    }
}
