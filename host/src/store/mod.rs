//! The store: everything `nzsync` keeps. Sync state (links with their bases, cursors, the
//! private-document memory), run history, the CRM records a sync created, the CLI's sealed
//! token cache, and the web server's orgs, users (with their sealed credentials and
//! settings), sessions and leases.
//!
//! Two backends behind one interface, [`Store`]:
//!
//! - **SQLite** (`sqlite`), the embedded default: one file, `[store] path`. A single host
//!   needs nothing else, and behaves as before the fleet.
//! - **PostgreSQL** (`postgres`), for a fleet of `nzsync serve` replicas: `[store] url =
//!   "postgres://…"` (or `DATABASE_URL` for `nzsync serve`). Every replica sees the same
//!   rows, so a session made on one replica works on another and a lease taken on one holds
//!   on all.
//!
//! Each backend has its own numbered migrations (`migrations`), applied in one transaction
//! when the store opens. A caller gets a [`Conn`] from [`Store::conn`] (each operation stands
//! alone) or [`Store::begin`] (operations commit together with [`Conn::commit`], or not at
//! all). Rows are keyed by *profile* (`srv:<user id>` for server users, the config's profile
//! for the CLI): no operation reads or writes across profiles.

mod conn;
mod error;
mod migrations;
mod postgres;
mod rows;
mod sqlite;
mod vault;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use conn::Conn;
pub use error::{StoreError, redact_url};
pub(crate) use rows::domino_api_key;
pub use rows::{LastSync, RunSummary, SessionRow, UserRow};
pub use vault::StoreVault;

/// How many connections a replica's PostgreSQL pool holds at most, by default.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// Where a store lives.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A PostgreSQL database (the URL may hold a password: it is never shown).
    Postgres {
        /// `postgres://user:password@host:port/database?…`.
        url: String,
        /// The most connections this process opens.
        max_connections: u32,
    },
    /// A SQLite file.
    Sqlite(PathBuf),
}

impl StoreLocation {
    /// PostgreSQL at `url` when one is given, else the SQLite file at `path`.
    ///
    /// # Errors
    /// [`StoreError::Url`] when `url` is not a `postgres://` (or `postgresql://`) URL.
    pub fn choose(
        url: Option<&str>,
        path: &Path,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(Self::Sqlite(path.to_owned()));
        };
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("postgres" | "postgresql")) {
            return Err(StoreError::Url {
                url: redact_url(url),
                reason:
                    "only postgres:// URLs are supported (leave the URL out to use the SQLite file)"
                        .into(),
            });
        }
        Ok(Self::Postgres {
            url: url.to_owned(),
            max_connections,
        })
    }

    /// The location as messages show it: the file, or the URL with its password elided.
    #[must_use]
    pub fn shown(&self) -> String {
        match self {
            Self::Postgres { url, .. } => redact_url(url),
            Self::Sqlite(path) => path.display().to_string(),
        }
    }
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

/// An open store. Cheap to clone: clones share the SQLite connection or the PostgreSQL pool.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    /// One connection; callers take turns (SQLite has one writer anyway).
    Sqlite(Arc<tokio::sync::Mutex<rusqlite::Connection>>),
    Postgres(sqlx::PgPool),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend_name())
            .finish()
    }
}

impl Store {
    /// Opens (creating and migrating) the store at `location`.
    ///
    /// # Errors
    /// When the file cannot be opened, PostgreSQL cannot be reached or refuses the
    /// credentials, or the schema cannot be migrated.
    pub async fn connect(location: &StoreLocation) -> Result<Self, StoreError> {
        match location {
            StoreLocation::Postgres {
                url,
                max_connections,
            } => {
                let pool = postgres::connect(url, &location.shown(), *max_connections).await?;
                Ok(Self {
                    backend: Backend::Postgres(pool),
                })
            }
            StoreLocation::Sqlite(path) => Self::open(path),
        }
    }

    /// Opens (creating and migrating) the SQLite store at `path`.
    ///
    /// # Errors
    /// When SQLite cannot open or migrate it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self::sqlite(sqlite::open(path)?))
    }

    /// An in-memory SQLite store (tests).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn in_memory() -> Result<Self, StoreError> {
        Ok(Self::sqlite(sqlite::in_memory()?))
    }

    fn sqlite(conn: rusqlite::Connection) -> Self {
        Self {
            backend: Backend::Sqlite(Arc::new(tokio::sync::Mutex::new(conn))),
        }
    }

    /// `"sqlite"` or `"postgres"`.
    #[must_use]
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Postgres(_) => "postgres",
            Backend::Sqlite(_) => "sqlite",
        }
    }

    /// The PostgreSQL pool, when the store is in PostgreSQL: for what shares the database
    /// (the job engine).
    #[must_use]
    pub fn postgres_pool(&self) -> Option<&sqlx::PgPool> {
        match &self.backend {
            Backend::Postgres(pool) => Some(pool),
            Backend::Sqlite(_) => None,
        }
    }

    /// A handle whose operations each stand alone.
    ///
    /// # Errors
    /// When no PostgreSQL connection is free within the pool's timeout, or the server is gone.
    pub async fn conn(&self) -> Result<Conn, StoreError> {
        Conn::plain(&self.backend).await
    }

    /// A handle whose operations commit together at [`Conn::commit`]; dropping it without
    /// committing rolls them back.
    ///
    /// # Errors
    /// As [`Store::conn`], or when the transaction cannot start.
    pub async fn begin(&self) -> Result<Conn, StoreError> {
        Conn::transaction(&self.backend).await
    }

    /// Whether the database answers a trivial query (`/readyz`).
    ///
    /// # Errors
    /// When it does not: no connection within the pool's timeout, or the server is gone.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
            Backend::Sqlite(conn) => {
                conn.lock().await.query_row("SELECT 1", [], |_| Ok(()))?;
            }
        }
        Ok(())
    }

    /// Applies the migrations the database has not seen (none, once it is open: opening
    /// applies them) and returns the schema version.
    ///
    /// # Errors
    /// When a migration fails (nothing of it is applied then).
    pub async fn migrate(&self) -> Result<i64, StoreError> {
        match &self.backend {
            Backend::Postgres(pool) => postgres::migrate(&mut *pool.acquire().await?).await,
            Backend::Sqlite(conn) => sqlite::migrate(&*conn.lock().await),
        }
    }

    /// Makes deleted rows unreadable on disk where the backend can: SQLite rewrites its file
    /// and empties its write-ahead log. PostgreSQL reclaims deleted rows itself (autovacuum);
    /// until a page is reused their bytes may stay on its disk, which is why secrets are
    /// sealed before they are stored.
    ///
    /// # Errors
    /// When SQLite fails.
    pub async fn compact(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Postgres(_) => Ok(()),
            Backend::Sqlite(conn) => sqlite::compact(&*conn.lock().await),
        }
    }
}

/// Milliseconds since the epoch.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
