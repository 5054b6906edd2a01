//! The PostgreSQL backend: one database shared by every `nzsync serve` replica of a fleet
//! (`[store] url = "postgres://…"` or `DATABASE_URL`).
//!
//! # Why sqlx, and only its PostgreSQL driver
//!
//! - **The job engine is built on it.** Scheduled syncs will run through apalis 1.0, whose
//!   `apalis-postgres` and `apalis-sqlite` are built on sqlx 0.9 and take a sqlx pool. With the
//!   store on sqlx 0.9 too, the store and the job engine share one driver, one pool and one
//!   set of connection settings (TLS included), and a job can take its row or advisory lock on
//!   the same database the store writes.
//! - **It is async.** The server answers requests on tokio; a blocking client would need a
//!   thread per query (the `postgres` crate even refuses to run inside a tokio runtime).
//! - **SQLite stays on rusqlite.** The embedded default keeps its code, file format and
//!   behaviour unchanged. The two can live in one build because sqlx 0.9's SQLite driver (which
//!   apalis-sqlite brings) accepts `libsqlite3-sys` 0.30 to 0.40, and rusqlite 0.37 uses 0.35:
//!   `cargo tree -i libsqlite3-sys` shows one copy.
//! - **No compile-time checked queries.** sqlx's macros need a live database or a prepared
//!   cache at build time; plain `sqlx::query` keeps the build self-contained, and the store
//!   tests run every statement against a real PostgreSQL instead.
//!
//! Statements mirror the SQLite backend's one for one, in PostgreSQL's dialect (`$n`
//! parameters, `ON CONFLICT DO NOTHING`, `BOOLEAN`, `BYTEA`, UNIDs in byte order through
//! `COLLATE "C"`).

use std::collections::HashMap;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Connection as _, PgConnection, PgPool, Row};
use sync_core::{
    Fields, Link, LinkWant, MailFile, Module, NotesUnid, RunReport, StateChange, SyncState,
    Timestamp, ZohoId,
};

use super::StoreError;
use super::migrations::POSTGRES as MIGRATIONS;
use super::rows::{
    HISTORY_TABLES, LastSync, RunSummary, STATE_TABLES, SessionRow, SetMember, USER_COLUMNS,
    UserRow, domino_api_key, domino_api_of, module_from, module_key, outcome_key, set_member,
};
use crate::config::DominoApiChoice;

/// The advisory lock key replicas take while migrating ("nzsync" in ASCII), so that replicas
/// starting together migrate one after the other.
const MIGRATION_LOCK: i64 = 0x6e7a_7379_6e63;

/// How long a replica waits for a pooled connection (and for the first one at start).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to `url`, migrates the database, and returns a pool of at most
/// `max_connections`. `shown` is the URL with its password elided, for messages.
///
/// The first connection is made alone, so a wrong host, port, password or database name is
/// told at once in PostgreSQL's words (a pool would keep retrying a refused connection
/// until its timeout, then say only that it timed out).
pub(crate) async fn connect(
    url: &str,
    shown: &str,
    max_connections: u32,
) -> Result<PgPool, StoreError> {
    let options: PgConnectOptions = url.parse().map_err(|e: sqlx::Error| StoreError::Url {
        url: shown.to_owned(),
        reason: e.to_string(),
    })?;
    let mut first = tokio::time::timeout(ACQUIRE_TIMEOUT, PgConnection::connect_with(&options))
        .await
        .map_err(|_| StoreError::NoAnswer {
            url: shown.to_owned(),
            seconds: ACQUIRE_TIMEOUT.as_secs(),
        })?
        .map_err(|source| StoreError::Connect {
            url: shown.to_owned(),
            source,
        })?;
    migrate(&mut first).await?;
    let _ = first.close().await;
    Ok(PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(options))
}

/// Applies the migrations the database has not seen, in one transaction under an advisory
/// lock. Returns the schema version.
pub(crate) async fn migrate(c: &mut PgConnection) -> Result<i64, StoreError> {
    let mut tx = c.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS nzsync_schema (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let found = schema_version(&mut tx).await?;
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        sqlx::raw_sql(*sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO nzsync_schema (version, applied) VALUES ($1, $2)")
            .bind(i32::try_from(i + 1).unwrap_or(i32::MAX))
            .bind(super::now_ms())
            .execute(&mut *tx)
            .await?;
    }
    let version = schema_version(&mut tx).await?;
    tx.commit().await?;
    Ok(version)
}

/// The schema version of the database (how many migrations it has seen).
pub(crate) async fn schema_version(c: &mut PgConnection) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0)::BIGINT FROM nzsync_schema")
            .fetch_one(&mut *c)
            .await?,
    )
}

// ---- sync state ----

pub(crate) async fn load_state(
    c: &mut PgConnection,
    profile: &str,
) -> Result<SyncState, StoreError> {
    let mut state = load_state_without_links(c, profile).await?;
    let rows = sqlx::query("SELECT module, unid, zoho_id, base FROM links WHERE profile = $1")
        .bind(profile)
        .fetch_all(&mut *c)
        .await?;
    for r in rows {
        let base: Fields = serde_json::from_str(r.try_get::<&str, _>(3)?)?;
        state
            .modules
            .entry(module_from(r.try_get(0)?)?)
            .or_default()
            .links
            .push(Link {
                unid: NotesUnid(r.try_get(1)?),
                zoho_id: ZohoId(r.try_get(2)?),
                base,
            });
    }
    Ok(state)
}

pub(crate) async fn links(
    c: &mut PgConnection,
    profile: &str,
    module: Module,
    want: &LinkWant,
) -> Result<Vec<Link>, StoreError> {
    let m = module_key(module)?;
    let rows = match want {
        LinkWant::Page { after, limit } => {
            // Byte order, as the engine expects: the column's collation is "C".
            sqlx::query(
                "SELECT unid, zoho_id, base FROM links WHERE profile = $1 AND module = $2 \
                 AND unid > $3 ORDER BY unid LIMIT $4",
            )
            .bind(profile)
            .bind(&m)
            .bind(after.as_ref().map_or("", |a| a.0.as_str()))
            .bind(i64::from(*limit))
            .fetch_all(&mut *c)
            .await?
        }
        LinkWant::Unids { unids } => {
            let keys: Vec<&str> = unids.iter().map(|u| u.0.as_str()).collect();
            sqlx::query(
                "SELECT unid, zoho_id, base FROM links WHERE profile = $1 AND module = $2 \
                 AND unid = ANY($3) ORDER BY unid",
            )
            .bind(profile)
            .bind(&m)
            .bind(&keys)
            .fetch_all(&mut *c)
            .await?
        }
    };
    let mut found = Vec::with_capacity(rows.len());
    for r in rows {
        found.push(Link {
            unid: NotesUnid(r.try_get(0)?),
            zoho_id: ZohoId(r.try_get(1)?),
            base: serde_json::from_str(r.try_get::<&str, _>(2)?)?,
        });
    }
    if let LinkWant::Unids { unids } = want {
        // Answer in the order asked, as the SQLite backend does.
        let mut by_unid: HashMap<String, Link> =
            found.into_iter().map(|l| (l.unid.0.clone(), l)).collect();
        return Ok(unids.iter().filter_map(|u| by_unid.remove(&u.0)).collect());
    }
    Ok(found)
}

pub(crate) async fn load_state_without_links(
    c: &mut PgConnection,
    profile: &str,
) -> Result<SyncState, StoreError> {
    let mut state = SyncState::default();
    let rows = sqlx::query(
        "SELECT module, notes_cursor, crm_cursor, fingerprint, crm_xref_ready FROM module_state \
         WHERE profile = $1",
    )
    .bind(profile)
    .fetch_all(&mut *c)
    .await?;
    for r in rows {
        let ms = state
            .modules
            .entry(module_from(r.try_get(0)?)?)
            .or_default();
        ms.notes_cursor = r.try_get::<Option<i64>, _>(1)?.map(Timestamp);
        ms.crm_cursor = r.try_get::<Option<i64>, _>(2)?.map(Timestamp);
        ms.fingerprint = r.try_get(3)?;
        ms.crm_xref_ready = r.try_get(4)?;
    }
    let rows = sqlx::query("SELECT module, unid FROM notes_private WHERE profile = $1")
        .bind(profile)
        .fetch_all(&mut *c)
        .await?;
    for r in rows {
        state
            .modules
            .entry(module_from(r.try_get(0)?)?)
            .or_default()
            .notes_private
            .insert(NotesUnid(r.try_get(1)?));
    }
    let rows = sqlx::query("SELECT module, zoho_id FROM crm_left_scope WHERE profile = $1")
        .bind(profile)
        .fetch_all(&mut *c)
        .await?;
    for r in rows {
        state
            .modules
            .entry(module_from(r.try_get(0)?)?)
            .or_default()
            .crm_left_scope
            .insert(ZohoId(r.try_get(1)?));
    }
    state.mail_file = sqlx::query("SELECT path, replica_id FROM mail_file WHERE profile = $1")
        .bind(profile)
        .fetch_optional(&mut *c)
        .await?
        .map(|r| {
            Ok::<_, sqlx::Error>(MailFile::new(
                r.try_get(0)?,
                r.try_get::<Option<&str>, _>(1)?,
            ))
        })
        .transpose()?;
    Ok(state)
}

pub(crate) async fn apply(
    c: &mut PgConnection,
    profile: &str,
    changes: &[StateChange],
) -> Result<(), StoreError> {
    // A transaction of its own, or a savepoint inside the caller's.
    let mut tx = c.begin().await?;
    for change in changes {
        match change {
            StateChange::LinkSet { module, link } => {
                let m = module_key(*module)?;
                sqlx::query(
                    "DELETE FROM links WHERE profile = $1 AND module = $2 AND (unid = $3 OR zoho_id = $4)",
                )
                .bind(profile)
                .bind(&m)
                .bind(&link.unid.0)
                .bind(&link.zoho_id.0)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO links (profile, module, unid, zoho_id, base) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(profile)
                .bind(&m)
                .bind(&link.unid.0)
                .bind(&link.zoho_id.0)
                .bind(serde_json::to_string(&link.base)?)
                .execute(&mut *tx)
                .await?;
            }
            StateChange::LinkRemoved {
                module,
                unid,
                zoho_id,
            } => {
                sqlx::query(
                    "DELETE FROM links WHERE profile = $1 AND module = $2 \
                     AND ($3::text IS NULL OR unid = $3) AND ($4::text IS NULL OR zoho_id = $4)",
                )
                .bind(profile)
                .bind(module_key(*module)?)
                .bind(unid.as_ref().map(|u| u.0.as_str()))
                .bind(zoho_id.as_ref().map(|z| z.0.as_str()))
                .execute(&mut *tx)
                .await?;
            }
            StateChange::Cursors {
                module,
                notes,
                crm,
                fingerprint,
            } => {
                sqlx::query(
                    "INSERT INTO module_state (profile, module, notes_cursor, crm_cursor, fingerprint) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (profile, module) DO UPDATE SET \
                     notes_cursor = $3, crm_cursor = $4, fingerprint = $5",
                )
                .bind(profile)
                .bind(module_key(*module)?)
                .bind(notes.map(|t| t.0))
                .bind(crm.map(|t| t.0))
                .bind(fingerprint.as_deref())
                .execute(&mut *tx)
                .await?;
            }
            StateChange::XrefReady { module } => {
                sqlx::query(
                    "INSERT INTO module_state (profile, module, crm_xref_ready) VALUES ($1, $2, TRUE) \
                     ON CONFLICT (profile, module) DO UPDATE SET crm_xref_ready = TRUE",
                )
                .bind(profile)
                .bind(module_key(*module)?)
                .execute(&mut *tx)
                .await?;
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
                            "INSERT INTO {table} (profile, module, {column}) VALUES ($1, $2, $3) \
                             ON CONFLICT DO NOTHING"
                        )
                    } else {
                        format!(
                            "DELETE FROM {table} WHERE profile = $1 AND module = $2 AND {column} = $3"
                        )
                    };
                    sqlx::query(AssertSqlSafe(sql))
                        .bind(profile)
                        .bind(module_key(module)?)
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            StateChange::CrmCreated { module, zoho_id } => {
                add_created(&mut tx, profile, *module, zoho_id).await?;
            }
            StateChange::MailFile { mail_file } => {
                sqlx::query(
                    "INSERT INTO mail_file (profile, path, replica_id) VALUES ($1, $2, $3) \
                     ON CONFLICT (profile) DO UPDATE SET path = $2, replica_id = $3",
                )
                .bind(profile)
                .bind(&mail_file.path)
                .bind(mail_file.replica_id.as_deref())
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn record_run(
    c: &mut PgConnection,
    profile: &str,
    report: &RunReport,
) -> Result<i64, StoreError> {
    let outcome = outcome_key(report)?;
    let mut tx = c.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO runs (profile, started, finished, dry_run, outcome, report) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(profile)
    .bind(report.started.0)
    .bind(report.finished.0)
    .bind(report.dry_run)
    .bind(outcome)
    .bind(serde_json::to_string(report)?)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub(crate) async fn add_created(
    c: &mut PgConnection,
    profile: &str,
    module: Module,
    zoho_id: &ZohoId,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO created (profile, module, zoho_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(profile)
    .bind(module_key(module)?)
    .bind(&zoho_id.0)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn created(
    c: &mut PgConnection,
    profile: &str,
) -> Result<Vec<(Module, ZohoId)>, StoreError> {
    // Byte order, as SQLite sorts.
    let rows = sqlx::query(
        "SELECT module, zoho_id FROM created WHERE profile = $1 \
         ORDER BY module COLLATE \"C\", zoho_id COLLATE \"C\"",
    )
    .bind(profile)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| Ok((module_from(r.try_get(0)?)?, ZohoId(r.try_get(1)?))))
        .collect()
}

pub(crate) async fn forget_created(
    c: &mut PgConnection,
    profile: &str,
    records: &[(Module, ZohoId)],
) -> Result<(), StoreError> {
    let mut tx = c.begin().await?;
    for (m, z) in records {
        sqlx::query("DELETE FROM created WHERE profile = $1 AND module = $2 AND zoho_id = $3")
            .bind(profile)
            .bind(module_key(*m)?)
            .bind(&z.0)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn runs(
    c: &mut PgConnection,
    profile: &str,
    limit: u32,
) -> Result<Vec<RunSummary>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, started, finished, dry_run, outcome FROM runs WHERE profile = $1 \
         ORDER BY id DESC LIMIT $2",
    )
    .bind(profile)
    .bind(i64::from(limit))
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RunSummary {
                id: r.try_get(0)?,
                started: r.try_get(1)?,
                finished: r.try_get(2)?,
                dry_run: r.try_get(3)?,
                outcome: r.try_get(4)?,
            })
        })
        .collect()
}

pub(crate) async fn run_report(
    c: &mut PgConnection,
    profile: &str,
    id: i64,
) -> Result<Option<RunReport>, StoreError> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT report FROM runs WHERE profile = $1 AND id = $2")
            .bind(profile)
            .bind(id)
            .fetch_optional(&mut *c)
            .await?;
    Ok(match text {
        Some(t) => Some(serde_json::from_str(&t)?),
        None => None,
    })
}

pub(crate) async fn last_sync(
    c: &mut PgConnection,
    profile: &str,
) -> Result<Option<LastSync>, StoreError> {
    let row = sqlx::query(
        "SELECT id, (SELECT COUNT(*) FROM runs r2 WHERE r2.profile = r.profile AND NOT r2.dry_run \
         AND r2.id <= r.id), finished, outcome FROM runs r WHERE profile = $1 AND NOT dry_run \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(profile)
    .fetch_optional(&mut *c)
    .await?;
    row.map(|r| {
        Ok(LastSync {
            id: r.try_get(0)?,
            number: r.try_get(1)?,
            finished: r.try_get(2)?,
            outcome: r.try_get(3)?,
        })
    })
    .transpose()
}

pub(crate) async fn run_numbers(
    c: &mut PgConnection,
    profile: &str,
) -> Result<HashMap<i64, i64>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, ROW_NUMBER() OVER (PARTITION BY dry_run ORDER BY id) FROM runs WHERE profile = $1",
    )
    .bind(profile)
    .fetch_all(&mut *c)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Deletes `profile`'s rows of `tables`; returns how many went.
async fn delete_rows(
    c: &mut PgConnection,
    profile: &str,
    tables: &[&str],
) -> Result<u64, StoreError> {
    let mut tx = c.begin().await?;
    let mut n = 0;
    for table in tables {
        n += sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE profile = $1"
        )))
        .bind(profile)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    Ok(n)
}

pub(crate) async fn forget_sync_state(
    c: &mut PgConnection,
    profile: &str,
) -> Result<(), StoreError> {
    delete_rows(c, profile, &STATE_TABLES).await?;
    Ok(())
}

pub(crate) async fn delete_profile(c: &mut PgConnection, profile: &str) -> Result<u64, StoreError> {
    let tables: Vec<&str> = STATE_TABLES
        .iter()
        .chain(&HISTORY_TABLES)
        .copied()
        .collect();
    delete_rows(c, profile, &tables).await
}

// ---- the web server's rows ----

fn user_from(r: &PgRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        user_id: r.try_get(0)?,
        org_id: r.try_get(1)?,
        email: r.try_get(2)?,
        name: r.try_get(3)?,
        is_admin: r.try_get(4)?,
        added: r.try_get(5)?,
        refresh_token: r.try_get(6)?,
        domino_url: r.try_get(7)?,
        domino_user: r.try_get(8)?,
        domino_password: r.try_get(9)?,
        mail_db: r.try_get(10)?,
        settings: r.try_get(11)?,
        next_sync: r.try_get(12)?,
        domino_api: domino_api_of(r.try_get::<Option<String>, _>(13)?.as_deref()),
    })
}

fn users(rows: &[PgRow]) -> Result<Vec<UserRow>, StoreError> {
    Ok(rows.iter().map(user_from).collect::<Result<_, _>>()?)
}

pub(crate) async fn orgs(c: &mut PgConnection) -> Result<Vec<(String, String)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT org_id, admin_id FROM srv_orgs ORDER BY org_id COLLATE \"C\"")
            .fetch_all(&mut *c)
            .await?,
    )
}

pub(crate) async fn lock_org(c: &mut PgConnection, org_id: &str) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("SELECT 1 FROM srv_orgs WHERE org_id = $1 FOR UPDATE")
            .bind(org_id)
            .fetch_optional(&mut *c)
            .await?
            .is_some(),
    )
}

pub(crate) async fn org_exists(c: &mut PgConnection, org_id: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("SELECT 1 FROM srv_orgs WHERE org_id = $1")
        .bind(org_id)
        .fetch_optional(&mut *c)
        .await?
        .is_some())
}

pub(crate) async fn insert_org(
    c: &mut PgConnection,
    org_id: &str,
    admin_id: &str,
    api_domain: &str,
    now: i64,
) -> Result<bool, StoreError> {
    // A concurrent first install of the same org waits here for the other transaction, then
    // inserts nothing.
    let done = sqlx::query(
        "INSERT INTO srv_orgs (org_id, admin_id, api_domain, created) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id) DO NOTHING",
    )
    .bind(org_id)
    .bind(admin_id)
    .bind(api_domain)
    .bind(now)
    .execute(&mut *c)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn user(
    c: &mut PgConnection,
    user_id: &str,
) -> Result<Option<UserRow>, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM srv_users WHERE user_id = $1"
    )))
    .bind(user_id)
    .fetch_all(&mut *c)
    .await?;
    Ok(users(&rows)?.pop())
}

pub(crate) async fn org_admin(
    c: &mut PgConnection,
    org_id: &str,
) -> Result<Option<UserRow>, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM srv_users WHERE org_id = $1 AND is_admin \
         ORDER BY added, user_id COLLATE \"C\" LIMIT 1"
    )))
    .bind(org_id)
    .fetch_all(&mut *c)
    .await?;
    Ok(users(&rows)?.pop())
}

pub(crate) async fn make_admin(
    c: &mut PgConnection,
    org_id: &str,
    user_id: &str,
) -> Result<(), StoreError> {
    let mut tx = c.begin().await?;
    sqlx::query("UPDATE srv_users SET is_admin = (user_id = $2) WHERE org_id = $1")
        .bind(org_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE srv_orgs SET admin_id = $2 WHERE org_id = $1")
        .bind(org_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn demote(c: &mut PgConnection, user_id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE srv_users SET is_admin = FALSE WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn org_users(
    c: &mut PgConnection,
    org_id: &str,
) -> Result<Vec<UserRow>, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM srv_users WHERE org_id = $1 ORDER BY added, user_id COLLATE \"C\""
    )))
    .bind(org_id)
    .fetch_all(&mut *c)
    .await?;
    users(&rows)
}

pub(crate) async fn due_users(c: &mut PgConnection, now: i64) -> Result<Vec<UserRow>, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM srv_users WHERE next_sync IS NOT NULL AND next_sync <= $1 \
         AND domino_password IS NOT NULL ORDER BY next_sync"
    )))
    .bind(now)
    .fetch_all(&mut *c)
    .await?;
    users(&rows)
}

pub(crate) async fn insert_user(c: &mut PgConnection, u: &UserRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO srv_users (user_id, org_id, email, name, is_admin, added, refresh_token) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&u.user_id)
    .bind(&u.org_id)
    .bind(&u.email)
    .bind(&u.name)
    .bind(u.is_admin)
    .bind(u.added)
    .bind(u.refresh_token.as_deref())
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn update_identity(
    c: &mut PgConnection,
    user_id: &str,
    email: &str,
    name: &str,
    refresh_token: Option<&[u8]>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE srv_users SET email = $2, name = $3, refresh_token = COALESCE($4, refresh_token) \
         WHERE user_id = $1",
    )
    .bind(user_id)
    .bind(email)
    .bind(name)
    .bind(refresh_token)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn set_connection(
    c: &mut PgConnection,
    user_id: &str,
    url: &str,
    user: &str,
    sealed_password: &[u8],
    mail_db: &str,
    api: DominoApiChoice,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE srv_users SET domino_url = $2, domino_user = $3, domino_password = $4, \
         mail_db = $5, domino_api = $6 WHERE user_id = $1",
    )
    .bind(user_id)
    .bind(url)
    .bind(user)
    .bind(sealed_password)
    .bind(mail_db)
    .bind(domino_api_key(api))
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn clear_connection(
    c: &mut PgConnection,
    user_id: &str,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE srv_users SET domino_url = NULL, domino_user = NULL, domino_password = NULL, \
         mail_db = NULL, domino_api = NULL, next_sync = NULL WHERE user_id = $1",
    )
    .bind(user_id)
    .execute(&mut *c)
    .await?
    .rows_affected())
}

pub(crate) async fn set_password(
    c: &mut PgConnection,
    user_id: &str,
    sealed: &[u8],
) -> Result<(), StoreError> {
    sqlx::query("UPDATE srv_users SET domino_password = $2 WHERE user_id = $1")
        .bind(user_id)
        .bind(sealed)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn set_settings(
    c: &mut PgConnection,
    user_id: &str,
    settings: &str,
    next_sync: Option<i64>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE srv_users SET settings = $2, next_sync = $3 WHERE user_id = $1")
        .bind(user_id)
        .bind(settings)
        .bind(next_sync)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn set_next_sync(
    c: &mut PgConnection,
    user_id: &str,
    next: Option<i64>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE srv_users SET next_sync = $2 WHERE user_id = $1")
        .bind(user_id)
        .bind(next)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn backoff(
    c: &mut PgConnection,
    user_id: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar::<_, Option<i64>>("SELECT backoff_ms FROM srv_users WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *c)
            .await?
            .flatten(),
    )
}

pub(crate) async fn advance_schedule(
    c: &mut PgConnection,
    user_id: &str,
    slot: i64,
    next: i64,
    backoff: Option<i64>,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE srv_users SET next_sync = $3, backoff_ms = $4 WHERE user_id = $1 AND next_sync = $2",
    )
    .bind(user_id)
    .bind(slot)
    .bind(next)
    .bind(backoff)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1)
}

pub(crate) async fn org_leases_held(
    c: &mut PgConnection,
    org_id: &str,
    except_user: &str,
    now: i64,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM srv_leases l JOIN srv_users u ON u.user_id = l.user_id \
         WHERE u.org_id = $1 AND l.user_id <> $2 AND l.expires > $3",
    )
    .bind(org_id)
    .bind(except_user)
    .bind(now)
    .fetch_one(&mut *c)
    .await?)
}

pub(crate) async fn insert_session(
    c: &mut PgConnection,
    id_hash: &str,
    s: &SessionRow,
    now: i64,
    expires: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM srv_sessions WHERE expires <= $1")
        .bind(now)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "INSERT INTO srv_sessions (id_hash, user_id, org_id, email, name, csrf, created, expires) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id_hash)
    .bind(&s.user_id)
    .bind(&s.org_id)
    .bind(&s.email)
    .bind(&s.name)
    .bind(&s.csrf)
    .bind(now)
    .bind(expires)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn session(
    c: &mut PgConnection,
    id_hash: &str,
    now: i64,
) -> Result<Option<SessionRow>, StoreError> {
    let row = sqlx::query(
        "SELECT user_id, org_id, email, name, csrf FROM srv_sessions WHERE id_hash = $1 AND expires > $2",
    )
    .bind(id_hash)
    .bind(now)
    .fetch_optional(&mut *c)
    .await?;
    row.map(|r| {
        Ok(SessionRow {
            user_id: r.try_get(0)?,
            org_id: r.try_get(1)?,
            email: r.try_get(2)?,
            name: r.try_get(3)?,
            csrf: r.try_get(4)?,
        })
    })
    .transpose()
}

pub(crate) async fn delete_session(c: &mut PgConnection, id_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM srv_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub(crate) async fn lease(
    c: &mut PgConnection,
    user_id: &str,
    now: i64,
) -> Result<Option<(String, i64)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT token, expires FROM srv_leases WHERE user_id = $1 AND expires > $2")
            .bind(user_id)
            .bind(now)
            .fetch_optional(&mut *c)
            .await?,
    )
}

pub(crate) async fn take_lease(
    c: &mut PgConnection,
    user_id: &str,
    token: &str,
    now: i64,
    expires: i64,
) -> Result<bool, StoreError> {
    // One statement: the row is written only when there is none or it has expired; two
    // replicas racing for it serialise on the row, and the second sees the first's lease.
    Ok(sqlx::query(
        "INSERT INTO srv_leases (user_id, token, expires) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET token = excluded.token, expires = excluded.expires \
         WHERE srv_leases.expires <= $4",
    )
    .bind(user_id)
    .bind(token)
    .bind(expires)
    .bind(now)
    .execute(&mut *c)
    .await?
    .rows_affected()
        == 1)
}

pub(crate) async fn renew_lease(
    c: &mut PgConnection,
    user_id: &str,
    token: &str,
    expires: i64,
) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("UPDATE srv_leases SET expires = $3 WHERE user_id = $1 AND token = $2")
            .bind(user_id)
            .bind(token)
            .bind(expires)
            .execute(&mut *c)
            .await?
            .rows_affected()
            == 1,
    )
}

pub(crate) async fn delete_lease(
    c: &mut PgConnection,
    user_id: &str,
    token: &str,
) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM srv_leases WHERE user_id = $1 AND token = $2")
            .bind(user_id)
            .bind(token)
            .execute(&mut *c)
            .await?
            .rows_affected(),
    )
}

/// Deletes `key`'s rows of each `(table, column)`; returns how many went.
async fn delete_keyed(
    c: &mut PgConnection,
    key: &str,
    tables: &[(&str, &str)],
) -> Result<u64, StoreError> {
    let mut tx = c.begin().await?;
    let mut n = 0;
    for (table, column) in tables {
        n += sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE {column} = $1"
        )))
        .bind(key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    Ok(n)
}

pub(crate) async fn delete_user(c: &mut PgConnection, user_id: &str) -> Result<u64, StoreError> {
    delete_keyed(
        c,
        user_id,
        &[
            ("srv_sessions", "user_id"),
            ("srv_leases", "user_id"),
            ("srv_users", "user_id"),
        ],
    )
    .await
}

pub(crate) async fn delete_org(c: &mut PgConnection, org_id: &str) -> Result<u64, StoreError> {
    delete_keyed(
        c,
        org_id,
        &[("srv_sessions", "org_id"), ("srv_orgs", "org_id")],
    )
    .await
}

pub(crate) async fn token_load(
    c: &mut PgConnection,
    id: &str,
) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT sealed, expires FROM zoho_tokens WHERE credential = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?,
    )
}

pub(crate) async fn token_save(
    c: &mut PgConnection,
    id: &str,
    profile: &str,
    sealed: &[u8],
    expires_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO zoho_tokens (credential, profile, sealed, expires) VALUES ($1, $2, $3, $4)
         ON CONFLICT (credential) DO UPDATE SET profile = $2, sealed = $3, expires = $4",
    )
    .bind(id)
    .bind(profile)
    .bind(sealed)
    .bind(expires_ms)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(crate) async fn token_forget(c: &mut PgConnection, id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM zoho_tokens WHERE credential = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Takes the transaction-scoped advisory lock of the credential `id` (released at commit or
/// rollback): the replicas of a fleet refresh one token at a time.
pub(crate) async fn lock_token(c: &mut PgConnection, id: &str) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("zoho_token:{id}"))
        .execute(&mut *c)
        .await?;
    Ok(())
}
