//! The server's own tables (`srv_*`, created by the store's second migration).

use rusqlite::{Connection, OptionalExtension, params};

/// A user the admin enabled (or the admin).
#[derive(Clone, Debug)]
pub struct UserRow {
    pub user_id: String,
    pub org_id: String,
    pub email: String,
    pub name: String,
    pub is_admin: bool,
    pub added: i64,
    /// Sealed.
    pub refresh_token: Option<Vec<u8>>,
    pub domino_url: Option<String>,
    pub domino_user: Option<String>,
    /// Sealed.
    pub domino_password: Option<Vec<u8>>,
    pub mail_db: Option<String>,
    pub settings: Option<String>,
    pub next_sync: Option<i64>,
}

impl UserRow {
    pub fn connected(&self) -> bool {
        self.domino_url.is_some() && self.domino_user.is_some() && self.domino_password.is_some()
    }
}

/// A signed-in browser.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub user_id: String,
    pub org_id: String,
    pub email: String,
    pub name: String,
    pub csrf: String,
}

const USER_COLUMNS: &str = "user_id, org_id, email, name, is_admin, added, refresh_token, domino_url, \
     domino_user, domino_password, mail_db, settings, next_sync";

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
    })
}

/// Every org that installed the integration: (org id, admin's user id).
pub fn orgs(c: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = c.prepare("SELECT org_id, admin_id FROM srv_orgs ORDER BY org_id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Whether an org installed the integration.
pub fn org_exists(c: &Connection, org_id: &str) -> rusqlite::Result<bool> {
    Ok(
        c.query_row("SELECT 1 FROM srv_orgs WHERE org_id = ?1", [org_id], |_| {
            Ok(())
        })
        .optional()?
        .is_some(),
    )
}

pub fn insert_org(
    c: &Connection,
    org_id: &str,
    admin_id: &str,
    api_domain: &str,
    now: i64,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO srv_orgs (org_id, admin_id, api_domain, created) VALUES (?1, ?2, ?3, ?4)",
        params![org_id, admin_id, api_domain, now],
    )?;
    Ok(())
}

pub fn user(c: &Connection, user_id: &str) -> rusqlite::Result<Option<UserRow>> {
    c.query_row(
        &format!("SELECT {USER_COLUMNS} FROM srv_users WHERE user_id = ?1"),
        [user_id],
        user_from,
    )
    .optional()
}

/// The org's admin, if it has one (an admin who no longer qualifies is demoted at sign-in,
/// leaving the org without one until a CRM administrator signs in).
pub fn org_admin(c: &Connection, org_id: &str) -> rusqlite::Result<Option<UserRow>> {
    c.query_row(
        &format!(
            "SELECT {USER_COLUMNS} FROM srv_users WHERE org_id = ?1 AND is_admin = 1 \
             ORDER BY added, user_id LIMIT 1"
        ),
        [org_id],
        user_from,
    )
    .optional()
}

/// Makes `user_id` the org's only admin.
pub fn make_admin(c: &Connection, org_id: &str, user_id: &str) -> rusqlite::Result<()> {
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

/// Takes the admin role from `user_id` (they stay a user of the integration).
pub fn demote(c: &Connection, user_id: &str) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE srv_users SET is_admin = 0 WHERE user_id = ?1",
        [user_id],
    )?;
    Ok(())
}

pub fn org_users(c: &Connection, org_id: &str) -> rusqlite::Result<Vec<UserRow>> {
    let mut stmt = c.prepare(&format!(
        "SELECT {USER_COLUMNS} FROM srv_users WHERE org_id = ?1 ORDER BY added, user_id"
    ))?;
    let rows = stmt.query_map([org_id], user_from)?;
    rows.collect()
}

/// Users with a schedule whose next sync is due.
pub fn due_users(c: &Connection, now: i64) -> rusqlite::Result<Vec<UserRow>> {
    let mut stmt = c.prepare(&format!(
        "SELECT {USER_COLUMNS} FROM srv_users WHERE next_sync IS NOT NULL AND next_sync <= ?1 \
         AND domino_password IS NOT NULL ORDER BY next_sync"
    ))?;
    let rows = stmt.query_map([now], user_from)?;
    rows.collect()
}

pub fn insert_user(c: &Connection, u: &UserRow) -> rusqlite::Result<()> {
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

pub fn update_identity(
    c: &Connection,
    user_id: &str,
    email: &str,
    name: &str,
    refresh_token: Option<&[u8]>,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE srv_users SET email = ?2, name = ?3, refresh_token = COALESCE(?4, refresh_token) \
         WHERE user_id = ?1",
        params![user_id, email, name, refresh_token],
    )?;
    Ok(())
}

pub fn set_connection(
    c: &Connection,
    user_id: &str,
    url: &str,
    user: &str,
    sealed_password: &[u8],
    mail_db: &str,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE srv_users SET domino_url = ?2, domino_user = ?3, domino_password = ?4, mail_db = ?5 \
         WHERE user_id = ?1",
        params![user_id, url, user, sealed_password, mail_db],
    )?;
    Ok(())
}

/// Forgets the Domino connection (server, user name, sealed password, mail file) and the
/// schedule of `user_id`: no sync runs for them, by hand or on schedule, until they connect
/// again. Settings, links and history stay.
pub fn clear_connection(c: &Connection, user_id: &str) -> rusqlite::Result<usize> {
    c.execute(
        "UPDATE srv_users SET domino_url = NULL, domino_user = NULL, domino_password = NULL, \
         mail_db = NULL, next_sync = NULL WHERE user_id = ?1",
        [user_id],
    )
}

pub fn set_password(c: &Connection, user_id: &str, sealed: &[u8]) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE srv_users SET domino_password = ?2 WHERE user_id = ?1",
        params![user_id, sealed],
    )?;
    Ok(())
}

pub fn set_settings(
    c: &Connection,
    user_id: &str,
    settings: &str,
    next_sync: Option<i64>,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE srv_users SET settings = ?2, next_sync = ?3 WHERE user_id = ?1",
        params![user_id, settings, next_sync],
    )?;
    Ok(())
}

pub fn set_next_sync(c: &Connection, user_id: &str, next: Option<i64>) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE srv_users SET next_sync = ?2 WHERE user_id = ?1",
        params![user_id, next],
    )?;
    Ok(())
}

pub fn insert_session(
    c: &Connection,
    id_hash: &str,
    s: &SessionRow,
    now: i64,
    expires: i64,
) -> rusqlite::Result<()> {
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

pub fn session(c: &Connection, id_hash: &str, now: i64) -> rusqlite::Result<Option<SessionRow>> {
    c.query_row(
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
    .optional()
}

pub fn delete_session(c: &Connection, id_hash: &str) -> rusqlite::Result<()> {
    c.execute("DELETE FROM srv_sessions WHERE id_hash = ?1", [id_hash])?;
    Ok(())
}

/// The lease's token if one is held (not expired).
pub fn lease(c: &Connection, user_id: &str, now: i64) -> rusqlite::Result<Option<(String, i64)>> {
    c.query_row(
        "SELECT token, expires FROM srv_leases WHERE user_id = ?1 AND expires > ?2",
        params![user_id, now],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

pub fn put_lease(c: &Connection, user_id: &str, token: &str, expires: i64) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO srv_leases (user_id, token, expires) VALUES (?1, ?2, ?3) \
         ON CONFLICT (user_id) DO UPDATE SET token = ?2, expires = ?3",
        params![user_id, token, expires],
    )?;
    Ok(())
}

pub fn delete_lease(c: &Connection, user_id: &str, token: &str) -> rusqlite::Result<usize> {
    c.execute(
        "DELETE FROM srv_leases WHERE user_id = ?1 AND token = ?2",
        params![user_id, token],
    )
}

/// Deletes every server row of `user_id` (not the sync state; see `Store::delete_profile`).
pub fn delete_user(c: &Connection, user_id: &str) -> rusqlite::Result<usize> {
    let mut n = c.execute("DELETE FROM srv_sessions WHERE user_id = ?1", [user_id])?;
    n += c.execute("DELETE FROM srv_leases WHERE user_id = ?1", [user_id])?;
    n += c.execute("DELETE FROM srv_users WHERE user_id = ?1", [user_id])?;
    Ok(n)
}

/// Deletes the org row and every session left for it.
pub fn delete_org(c: &Connection, org_id: &str) -> rusqlite::Result<usize> {
    let mut n = c.execute("DELETE FROM srv_sessions WHERE org_id = ?1", [org_id])?;
    n += c.execute("DELETE FROM srv_orgs WHERE org_id = ?1", [org_id])?;
    Ok(n)
}

/// The newest sync (not preview) of `profile`: (run id, its number among the syncs, finished
/// ms, outcome).
pub fn last_sync(
    c: &Connection,
    profile: &str,
) -> rusqlite::Result<Option<(i64, i64, i64, String)>> {
    c.query_row(
        "SELECT id, (SELECT COUNT(*) FROM runs r2 WHERE r2.profile = r.profile AND r2.dry_run = 0 \
         AND r2.id <= r.id), finished, outcome FROM runs r WHERE profile = ?1 AND dry_run = 0 \
         ORDER BY id DESC LIMIT 1",
        [profile],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .optional()
}

/// Run id → its number among the runs of its kind for `profile`: syncs are numbered 1, 2, …
/// and previews on their own, so a preview never takes a sync's number.
pub fn run_numbers(
    c: &Connection,
    profile: &str,
) -> rusqlite::Result<std::collections::HashMap<i64, i64>> {
    let mut stmt = c.prepare(
        "SELECT id, ROW_NUMBER() OVER (PARTITION BY dry_run ORDER BY id) FROM runs WHERE profile = ?1",
    )?;
    let rows = stmt.query_map([profile], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}
