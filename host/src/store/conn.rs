//! [`Conn`]: every operation of the store, the same for both backends.
//!
//! A `Conn` holds the SQLite connection's lock or one PostgreSQL connection of the pool for as
//! long as it lives: take one, use it, drop it. Never hold one across a call to an upstream
//! server, and never take a second one while holding the first (with SQLite the second waits
//! for ever).

use std::collections::HashMap;

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres};
use sync_core::{Link, LinkWant, Module, RunReport, StateChange, SyncState, ZohoId};
use tokio::sync::OwnedMutexGuard;

use super::rows::{LastSync, RunSummary, SessionRow, UserRow};
use super::{Backend, StoreError, postgres, sqlite};
use crate::config::DominoApiChoice;

/// A handle on the store: one connection, in a transaction or not (see [`super::Store::conn`]
/// and [`super::Store::begin`]).
pub struct Conn {
    inner: Inner,
}

enum Inner {
    Postgres(PgHandle),
    Sqlite(SqliteHandle),
}

enum PgHandle {
    Pooled(PoolConnection<Postgres>),
    Transaction(sqlx::Transaction<'static, Postgres>),
}

impl PgHandle {
    fn get(&mut self) -> &mut PgConnection {
        match self {
            Self::Pooled(c) => c,
            Self::Transaction(t) => t,
        }
    }
}

/// The SQLite connection, locked; in a transaction that is rolled back on drop unless
/// committed (a PostgreSQL transaction does that by itself).
struct SqliteHandle {
    conn: OwnedMutexGuard<rusqlite::Connection>,
    in_transaction: bool,
}

impl Drop for SqliteHandle {
    fn drop(&mut self) {
        if self.in_transaction {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Runs the SQLite or the PostgreSQL arm on the handle's connection.
macro_rules! on {
    ($self:ident, $c:ident => $sqlite:expr, $p:ident => $postgres:expr) => {
        match &mut $self.inner {
            Inner::Sqlite(handle) => {
                let $c = &mut *handle.conn;
                $sqlite
            }
            Inner::Postgres(handle) => {
                let $p = handle.get();
                $postgres
            }
        }
    };
}

impl Conn {
    pub(super) async fn plain(backend: &Backend) -> Result<Self, StoreError> {
        Ok(Self {
            inner: match backend {
                Backend::Postgres(pool) => Inner::Postgres(PgHandle::Pooled(pool.acquire().await?)),
                Backend::Sqlite(conn) => Inner::Sqlite(SqliteHandle {
                    conn: conn.clone().lock_owned().await,
                    in_transaction: false,
                }),
            },
        })
    }

    pub(super) async fn transaction(backend: &Backend) -> Result<Self, StoreError> {
        Ok(Self {
            inner: match backend {
                Backend::Postgres(pool) => {
                    Inner::Postgres(PgHandle::Transaction(pool.begin().await?))
                }
                Backend::Sqlite(conn) => {
                    let conn = conn.clone().lock_owned().await;
                    // The write lock up front: another process's transaction on the file
                    // waits here (busy timeout) rather than failing when it first writes.
                    conn.execute_batch("BEGIN IMMEDIATE")?;
                    Inner::Sqlite(SqliteHandle {
                        conn,
                        in_transaction: true,
                    })
                }
            },
        })
    }

    /// Commits what was done through this handle (nothing to do for one from
    /// [`super::Store::conn`]).
    ///
    /// # Errors
    /// When the database refuses the commit: nothing is kept then.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self.inner {
            Inner::Sqlite(mut handle) => {
                if handle.in_transaction {
                    handle.conn.execute_batch("COMMIT")?;
                    handle.in_transaction = false;
                }
            }
            Inner::Postgres(PgHandle::Transaction(tx)) => tx.commit().await?,
            Inner::Postgres(PgHandle::Pooled(_)) => {}
        }
        Ok(())
    }

    // ---- sync state, per profile ----

    /// Everything remembered for `profile`, links included.
    ///
    /// # Errors
    /// When the database fails or a row is unreadable.
    pub async fn load_state(&mut self, profile: &str) -> Result<SyncState, StoreError> {
        on!(self, c => sqlite::load_state(c, profile), c => postgres::load_state(c, profile).await)
    }

    /// What [`Conn::load_state`] loads but the links: what a run starts from when it reads the
    /// links on request.
    ///
    /// # Errors
    /// When the database fails or a row is unreadable.
    pub async fn load_state_without_links(
        &mut self,
        profile: &str,
    ) -> Result<SyncState, StoreError> {
        on!(self,
            c => sqlite::load_state_without_links(c, profile),
            c => postgres::load_state_without_links(c, profile).await)
    }

    /// The links of `profile`'s `module` that `want` selects: a page in ascending UNID byte
    /// order, or the links of the given UNIDs in the order asked (unknown ones left out).
    ///
    /// # Errors
    /// When the database fails or a row is unreadable.
    pub async fn links(
        &mut self,
        profile: &str,
        module: Module,
        want: &LinkWant,
    ) -> Result<Vec<Link>, StoreError> {
        on!(self,
            c => sqlite::links(c, profile, module, want),
            c => postgres::links(c, profile, module, want).await)
    }

    /// Applies `changes` for `profile`, all or none.
    ///
    /// # Errors
    /// When the database fails (nothing is applied then).
    pub async fn apply(
        &mut self,
        profile: &str,
        changes: &[StateChange],
    ) -> Result<(), StoreError> {
        on!(self,
            c => sqlite::apply(c, profile, changes),
            c => postgres::apply(c, profile, changes).await)
    }

    /// Appends a run to `profile`'s history and remembers which CRM records it created (for
    /// uninstall's optional delete); returns the run's id. Call it after the run's state
    /// changes are applied: a created record whose report entry lacks its Zoho id is found
    /// through its link.
    ///
    /// # Errors
    /// When the database fails (nothing is recorded then).
    pub async fn record_run(
        &mut self,
        profile: &str,
        report: &RunReport,
    ) -> Result<i64, StoreError> {
        on!(self,
            c => sqlite::record_run(c, profile, report),
            c => postgres::record_run(c, profile, report).await)
    }

    /// Remembers that the integration created CRM record `zoho_id` for `profile` outside a
    /// sync run (a meeting scheduled from the widget, F6).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn add_created(
        &mut self,
        profile: &str,
        module: Module,
        zoho_id: &ZohoId,
    ) -> Result<(), StoreError> {
        on!(self,
            c => sqlite::add_created(c, profile, module, zoho_id),
            c => postgres::add_created(c, profile, module, zoho_id).await)
    }

    /// The CRM records the integration created for `profile`, by module then id.
    ///
    /// # Errors
    /// When the database fails or a row is unreadable.
    pub async fn created(&mut self, profile: &str) -> Result<Vec<(Module, ZohoId)>, StoreError> {
        on!(self, c => sqlite::created(c, profile), c => postgres::created(c, profile).await)
    }

    /// Forgets created-record ids of `profile` (they were deleted from the CRM).
    ///
    /// # Errors
    /// When the database fails (nothing is forgotten then).
    pub async fn forget_created(
        &mut self,
        profile: &str,
        records: &[(Module, ZohoId)],
    ) -> Result<(), StoreError> {
        on!(self,
            c => sqlite::forget_created(c, profile, records),
            c => postgres::forget_created(c, profile, records).await)
    }

    /// The newest `limit` runs of `profile`, newest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn runs(&mut self, profile: &str, limit: u32) -> Result<Vec<RunSummary>, StoreError> {
        on!(self, c => sqlite::runs(c, profile, limit), c => postgres::runs(c, profile, limit).await)
    }

    /// The full report of run `id` of `profile` (`None` for another profile's run).
    ///
    /// # Errors
    /// When the database fails or the stored report is unreadable.
    pub async fn run_report(
        &mut self,
        profile: &str,
        id: i64,
    ) -> Result<Option<RunReport>, StoreError> {
        on!(self,
            c => sqlite::run_report(c, profile, id),
            c => postgres::run_report(c, profile, id).await)
    }

    /// The newest sync (not preview) of `profile`.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn last_sync(&mut self, profile: &str) -> Result<Option<LastSync>, StoreError> {
        on!(self, c => sqlite::last_sync(c, profile), c => postgres::last_sync(c, profile).await)
    }

    /// Run id → its number among the runs of its kind for `profile`: syncs are numbered 1,
    /// 2, … and previews on their own, so a preview never takes a sync's number.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn run_numbers(&mut self, profile: &str) -> Result<HashMap<i64, i64>, StoreError> {
        on!(self,
            c => sqlite::run_numbers(c, profile),
            c => postgres::run_numbers(c, profile).await)
    }

    /// Forgets the sync state of `profile` (links, cursors, remembered private documents, the
    /// mail file) but keeps its history: the next run starts afresh, e.g. after the user
    /// switched mail files.
    ///
    /// # Errors
    /// When the database fails (nothing is deleted then).
    pub async fn forget_sync_state(&mut self, profile: &str) -> Result<(), StoreError> {
        on!(self,
            c => sqlite::forget_sync_state(c, profile),
            c => postgres::forget_sync_state(c, profile).await)
    }

    /// Deletes every row of `profile`: state, history, created-record ids, cached tokens
    /// (uninstall, F9). Returns how many rows went. See [`super::Store::compact`] for the
    /// bytes on disk.
    ///
    /// # Errors
    /// When the database fails (nothing is deleted then).
    pub async fn delete_profile(&mut self, profile: &str) -> Result<u64, StoreError> {
        on!(self,
            c => sqlite::delete_profile(c, profile),
            c => postgres::delete_profile(c, profile).await)
    }

    // ---- the web server: orgs and users ----

    /// Every org that installed the integration: (org id, admin's user id).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn orgs(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        on!(self, c => sqlite::orgs(c), c => postgres::orgs(c).await)
    }

    /// Locks org `org_id`'s row until the transaction ends, so that read-then-write changes of
    /// its users (the licence count, the admin role) made on other replicas wait for this
    /// one. Returns whether the org is there. Call it first in a [`super::Store::begin`]
    /// transaction.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn lock_org(&mut self, org_id: &str) -> Result<bool, StoreError> {
        on!(self, c => sqlite::lock_org(c, org_id), c => postgres::lock_org(c, org_id).await)
    }

    /// Whether org `org_id` installed the integration.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn org_exists(&mut self, org_id: &str) -> Result<bool, StoreError> {
        on!(self, c => sqlite::org_exists(c, org_id), c => postgres::org_exists(c, org_id).await)
    }

    /// Records that `admin_id` installed the integration for `org_id`; `false` (and nothing
    /// written) when the org is there already, installed by a sign-in that committed first.
    /// In PostgreSQL a concurrent install of the same org waits for the other transaction.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn insert_org(
        &mut self,
        org_id: &str,
        admin_id: &str,
        api_domain: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        on!(self,
            c => sqlite::insert_org(c, org_id, admin_id, api_domain, now),
            c => postgres::insert_org(c, org_id, admin_id, api_domain, now).await)
    }

    /// The user `user_id`, of whatever org.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn user(&mut self, user_id: &str) -> Result<Option<UserRow>, StoreError> {
        on!(self, c => sqlite::user(c, user_id), c => postgres::user(c, user_id).await)
    }

    /// The org's admin, if it has one (an admin who no longer qualifies is demoted at
    /// sign-in, leaving the org without one until a CRM administrator signs in).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn org_admin(&mut self, org_id: &str) -> Result<Option<UserRow>, StoreError> {
        on!(self, c => sqlite::org_admin(c, org_id), c => postgres::org_admin(c, org_id).await)
    }

    /// Makes `user_id` the org's only admin.
    ///
    /// # Errors
    /// When the database fails (nothing changes then).
    pub async fn make_admin(&mut self, org_id: &str, user_id: &str) -> Result<(), StoreError> {
        on!(self,
            c => sqlite::make_admin(c, org_id, user_id),
            c => postgres::make_admin(c, org_id, user_id).await)
    }

    /// Takes the admin role from `user_id` (they stay a user of the integration).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn demote(&mut self, user_id: &str) -> Result<(), StoreError> {
        on!(self, c => sqlite::demote(c, user_id), c => postgres::demote(c, user_id).await)
    }

    /// The users of org `org_id`, oldest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn org_users(&mut self, org_id: &str) -> Result<Vec<UserRow>, StoreError> {
        on!(self, c => sqlite::org_users(c, org_id), c => postgres::org_users(c, org_id).await)
    }

    /// Connected users with a schedule whose next sync is due at `now`, soonest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn due_users(&mut self, now: i64) -> Result<Vec<UserRow>, StoreError> {
        on!(self, c => sqlite::due_users(c, now), c => postgres::due_users(c, now).await)
    }

    /// Adds user `u` (identity, admin flag and sealed refresh token; no connection yet).
    ///
    /// # Errors
    /// When the database fails or the user is already there.
    pub async fn insert_user(&mut self, u: &UserRow) -> Result<(), StoreError> {
        on!(self, c => sqlite::insert_user(c, u), c => postgres::insert_user(c, u).await)
    }

    /// Updates what Zoho says of `user_id` at sign-in; a `None` refresh token keeps the
    /// stored one.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn update_identity(
        &mut self,
        user_id: &str,
        email: &str,
        name: &str,
        refresh_token: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        on!(self,
            c => sqlite::update_identity(c, user_id, email, name, refresh_token),
            c => postgres::update_identity(c, user_id, email, name, refresh_token).await)
    }

    /// Stores `user_id`'s Domino connection (the password sealed by the caller): `url` is
    /// the base URL of the Domino `api` (settled: `Auto` is stored as DAS).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn set_connection(
        &mut self,
        user_id: &str,
        url: &str,
        user: &str,
        sealed_password: &[u8],
        mail_db: &str,
        api: DominoApiChoice,
    ) -> Result<(), StoreError> {
        on!(self,
            c => sqlite::set_connection(c, user_id, url, user, sealed_password, mail_db, api),
            c => postgres::set_connection(c, user_id, url, user, sealed_password, mail_db, api).await)
    }

    /// Forgets the Domino connection (server, user name, sealed password, mail file) and the
    /// schedule of `user_id`: no sync runs for them, by hand or on schedule, until they
    /// connect again. Settings, links and history stay.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn clear_connection(&mut self, user_id: &str) -> Result<u64, StoreError> {
        on!(self,
            c => sqlite::clear_connection(c, user_id),
            c => postgres::clear_connection(c, user_id).await)
    }

    /// Stores `user_id`'s new Domino password (sealed by the caller).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn set_password(&mut self, user_id: &str, sealed: &[u8]) -> Result<(), StoreError> {
        on!(self,
            c => sqlite::set_password(c, user_id, sealed),
            c => postgres::set_password(c, user_id, sealed).await)
    }

    /// Stores `user_id`'s settings (JSON) and when their next scheduled sync is due.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn set_settings(
        &mut self,
        user_id: &str,
        settings: &str,
        next_sync: Option<i64>,
    ) -> Result<(), StoreError> {
        on!(self,
            c => sqlite::set_settings(c, user_id, settings, next_sync),
            c => postgres::set_settings(c, user_id, settings, next_sync).await)
    }

    /// Stores when `user_id`'s next scheduled sync is due.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn set_next_sync(
        &mut self,
        user_id: &str,
        next: Option<i64>,
    ) -> Result<(), StoreError> {
        on!(self,
            c => sqlite::set_next_sync(c, user_id, next),
            c => postgres::set_next_sync(c, user_id, next).await)
    }

    /// The back-off `user_id`'s scheduled syncs are under after runs that met HTTP 429,
    /// milliseconds (`None`: none).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn backoff(&mut self, user_id: &str) -> Result<Option<i64>, StoreError> {
        on!(self, c => sqlite::backoff(c, user_id), c => postgres::backoff(c, user_id).await)
    }

    /// Moves `user_id`'s schedule from the slot `slot` (the `next_sync` a scheduled run was
    /// for) to `next`, with the back-off `backoff`, unless the slot has moved already (settings
    /// changed, or the slot's run was finished). Returns whether it moved.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn advance_schedule(
        &mut self,
        user_id: &str,
        slot: i64,
        next: i64,
        backoff: Option<i64>,
    ) -> Result<bool, StoreError> {
        on!(self,
            c => sqlite::advance_schedule(c, user_id, slot, next, backoff),
            c => postgres::advance_schedule(c, user_id, slot, next, backoff).await)
    }

    /// How many sync leases users of `org_id` other than `except_user` hold at `now` (browser
    /// and scheduled runs alike: each one calls Zoho). Under [`Conn::lock_org`] in a
    /// transaction, the count holds until the transaction ends.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn org_leases_held(
        &mut self,
        org_id: &str,
        except_user: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        on!(self,
            c => sqlite::org_leases_held(c, org_id, except_user, now),
            c => postgres::org_leases_held(c, org_id, except_user, now).await)
    }

    /// Deletes every server row of `user_id` (sessions, lease, the user with their sealed
    /// credentials and settings), not their sync state: see [`Conn::delete_profile`].
    ///
    /// # Errors
    /// When the database fails.
    pub async fn delete_user(&mut self, user_id: &str) -> Result<u64, StoreError> {
        on!(self, c => sqlite::delete_user(c, user_id), c => postgres::delete_user(c, user_id).await)
    }

    /// Deletes the org row (its users with it) and every session left for it.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn delete_org(&mut self, org_id: &str) -> Result<u64, StoreError> {
        on!(self, c => sqlite::delete_org(c, org_id), c => postgres::delete_org(c, org_id).await)
    }

    // ---- the web server: sessions and leases ----

    /// Stores a session under the hash of its id (expired sessions go at the same time).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn insert_session(
        &mut self,
        id_hash: &str,
        s: &SessionRow,
        now: i64,
        expires: i64,
    ) -> Result<(), StoreError> {
        on!(self,
            c => sqlite::insert_session(c, id_hash, s, now, expires),
            c => postgres::insert_session(c, id_hash, s, now, expires).await)
    }

    /// The session whose id hashes to `id_hash`, unless it expired by `now`.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn session(
        &mut self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        on!(self,
            c => sqlite::session(c, id_hash, now),
            c => postgres::session(c, id_hash, now).await)
    }

    /// Ends a session.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn delete_session(&mut self, id_hash: &str) -> Result<(), StoreError> {
        on!(self,
            c => sqlite::delete_session(c, id_hash),
            c => postgres::delete_session(c, id_hash).await)
    }

    /// The token and expiry of `user_id`'s sync lease if one is held at `now`.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn lease(
        &mut self,
        user_id: &str,
        now: i64,
    ) -> Result<Option<(String, i64)>, StoreError> {
        on!(self, c => sqlite::lease(c, user_id, now), c => postgres::lease(c, user_id, now).await)
    }

    /// Takes `user_id`'s sync lease as `token` until `expires`, unless another is held at
    /// `now`. One statement, so of two callers (two replicas) only one gets it. Returns
    /// whether this caller did.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn take_lease(
        &mut self,
        user_id: &str,
        token: &str,
        now: i64,
        expires: i64,
    ) -> Result<bool, StoreError> {
        on!(self,
            c => sqlite::take_lease(c, user_id, token, now, expires),
            c => postgres::take_lease(c, user_id, token, now, expires).await)
    }

    /// Extends `user_id`'s lease `token` to `expires`. Returns `false` when the lease is no
    /// longer this token's (released, or taken by another sync after it expired).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn renew_lease(
        &mut self,
        user_id: &str,
        token: &str,
        expires: i64,
    ) -> Result<bool, StoreError> {
        on!(self,
            c => sqlite::renew_lease(c, user_id, token, expires),
            c => postgres::renew_lease(c, user_id, token, expires).await)
    }

    /// Releases `user_id`'s lease `token`; returns how many rows went (0: it was not held).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn delete_lease(&mut self, user_id: &str, token: &str) -> Result<u64, StoreError> {
        on!(self,
            c => sqlite::delete_lease(c, user_id, token),
            c => postgres::delete_lease(c, user_id, token).await)
    }

    /// The sealed Zoho access token stored under the credential id `id`, and its expiry.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn token_load(&mut self, id: &str) -> Result<Option<(Vec<u8>, i64)>, StoreError> {
        on!(self, c => sqlite::token_load(c, id), c => postgres::token_load(c, id).await)
    }

    /// Stores a sealed Zoho access token under `id`, for `profile` (whose uninstall deletes it).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn token_save(
        &mut self,
        id: &str,
        profile: &str,
        sealed: &[u8],
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        on!(self,
            c => sqlite::token_save(c, id, profile, sealed, expires_ms),
            c => postgres::token_save(c, id, profile, sealed, expires_ms).await)
    }

    /// Deletes the token stored under `id`.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn token_forget(&mut self, id: &str) -> Result<(), StoreError> {
        on!(self, c => sqlite::token_forget(c, id), c => postgres::token_forget(c, id).await)
    }

    /// In a PostgreSQL transaction, waits for and takes the refresh lock of the credential
    /// `id` until the transaction ends; `false` (and nothing done) in SQLite, whose store one
    /// process owns.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn lock_token(&mut self, id: &str) -> Result<bool, StoreError> {
        on!(self, _c => Ok(false), c => postgres::lock_token(c, id).await.map(|()| true))
    }
}
