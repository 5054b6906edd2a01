//! The job queue: apalis's PostgreSQL storage when the store is in PostgreSQL (its tables in
//! the schema `apalis` of the same database, on the store's pool), else its SQLite storage in a
//! file beside the store's ([`sqlite_path`]).
//!
//! Not in the store's own SQLite file: apalis's connections write to it every second, and a
//! store write that began as a read (a deferred transaction, in WAL mode) then fails at once
//! with "database is locked" whatever the busy timeout, cutting a sync off. In a file of its
//! own the queue never locks the store.

use std::path::{Path, PathBuf};
use std::time::Duration;

use apalis_core::backend::{TaskSink, TaskSinkError};
use apalis_core::task::builder::TaskBuilder;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteStorage};

use super::JobError;
use super::run::SyncJob;
use crate::server::crypto::random_token;
use crate::server_config::ScheduleConfig;
use crate::store::{Store, StoreLocation};

/// The queue's name (apalis's `job_type`).
pub(super) const QUEUE: &str = "nzsync-scheduled-sync";

/// How long the SQLite queue's connections wait for the file's write lock (the store's
/// transactions hold it briefly).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many times apalis runs a job whose handler failed (the store was unreachable) before it
/// gives up on it; the user's slot stays due, so the next tick queues it again after the key's
/// job is gone.
const MAX_ATTEMPTS: usize = 5;

/// The SQLite file of the job queue beside the store's file `store`: `nzsync-server.db` →
/// `nzsync-server.jobs.db`.
#[must_use]
pub fn sqlite_path(store: &Path) -> PathBuf {
    store.with_extension("jobs.db")
}

/// The scheduled syncs' job queue. Cheap to clone.
#[derive(Clone)]
pub struct JobQueue {
    pub(super) backend: QueueBackend,
}

impl std::fmt::Debug for JobQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobQueue")
            .field("backend", &self.backend_name())
            .finish()
    }
}

/// apalis's storage for either backend.
#[derive(Clone)]
pub(super) enum QueueBackend {
    Postgres(PostgresStorage<SyncJob>),
    Sqlite(SqliteStorage<SyncJob>),
}

impl JobQueue {
    /// Opens the queue beside `store` (at `location`, where the store is), creating or
    /// migrating apalis's tables.
    ///
    /// # Errors
    /// [`JobError`] when the database cannot be reached or migrated.
    pub async fn open(
        store: &Store,
        location: &StoreLocation,
        schedule: &ScheduleConfig,
    ) -> Result<Self, JobError> {
        let heartbeat = Duration::from_secs(schedule.heartbeat_secs);
        let batch = usize::try_from(schedule.max_concurrent.max(1)).unwrap_or(1);
        let backend = match (store.postgres_pool(), location) {
            (Some(pool), _) => {
                PostgresStorage::setup(pool)
                    .await
                    .map_err(JobError::Postgres)?;
                let config = apalis_postgres::Config::default()
                    .queue(QUEUE)
                    .heartbeat_interval(heartbeat)
                    .missed_heartbeats(2)
                    .batch_size(batch);
                QueueBackend::Postgres(PostgresStorage::new(pool).with_config(config))
            }
            (None, StoreLocation::Sqlite(path)) => {
                let options = SqliteConnectOptions::new()
                    .filename(sqlite_path(path))
                    .create_if_missing(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT);
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .map_err(|e| JobError::Sqlite(e.into()))?;
                // Only the migrations: `SqliteStorage::setup` also turns `synchronous` off.
                SqliteStorage::<()>::migrations()
                    .run(&pool)
                    .await
                    .map_err(JobError::Migrate)?;
                let config = apalis_sqlite::Config::default()
                    .queue(QUEUE)
                    .heartbeat_interval(heartbeat)
                    .missed_heartbeats(2)
                    .batch_size(batch);
                QueueBackend::Sqlite(SqliteStorage::new(&pool).with_config(config))
            }
            (None, StoreLocation::Postgres { .. }) => {
                return Err(JobError::Push(
                    "the store is not in PostgreSQL although its URL says so".into(),
                ));
            }
        };
        Ok(Self { backend })
    }

    /// `"postgres"` or `"sqlite"`.
    #[must_use]
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            QueueBackend::Postgres(_) => "postgres",
            QueueBackend::Sqlite(_) => "sqlite",
        }
    }

    /// Queues `job` to run at `run_at` (seconds since the epoch), unless a job with its key
    /// was queued before (by this replica or another): then nothing changes.
    ///
    /// # Errors
    /// [`JobError`] when the queue's database fails.
    pub async fn enqueue(&self, job: &SyncJob, run_at: u64) -> Result<(), JobError> {
        self.push(job, job.key(), run_at).await
    }

    /// Queues another look at `job`'s slot at `run_at` (seconds since the epoch), under a key
    /// of its own (the slot's key is taken by the job that queues it).
    ///
    /// # Errors
    /// [`JobError`] when the queue's database fails.
    pub async fn enqueue_again(&self, job: &SyncJob, run_at: u64) -> Result<(), JobError> {
        let key = format!("{}:again:{}", job.key(), random_token());
        self.push(job, key, run_at).await
    }

    async fn push(&self, job: &SyncJob, key: String, run_at: u64) -> Result<(), JobError> {
        let task = TaskBuilder::new(job.clone())
            .idempotency_key(key)
            .max_attempts(MAX_ATTEMPTS)
            .run_at_timestamp(run_at)
            .build();
        match &self.backend {
            QueueBackend::Postgres(storage) => match storage.clone().push_task(task).await {
                Ok(()) => Ok(()),
                Err(TaskSinkError::PushError(apalis_postgres::Error::Database(e)))
                    if e.as_database_error()
                        .is_some_and(|d| d.code().as_deref() == Some("23505")) =>
                {
                    Ok(())
                }
                Err(e) => Err(JobError::Push(e.to_string())),
            },
            // SQLite's insert ignores a taken key by itself.
            QueueBackend::Sqlite(storage) => storage
                .clone()
                .push_task(task)
                .await
                .map_err(|e| JobError::Push(e.to_string())),
        }
    }

    /// How many jobs wait to run, fleet-wide (`/metrics`).
    ///
    /// # Errors
    /// [`JobError`] when the queue's database fails.
    pub async fn depth(&self) -> Result<u64, JobError> {
        let n: i64 = match &self.backend {
            QueueBackend::Postgres(storage) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM apalis.jobs WHERE status = 'Pending'")
                    .fetch_one(storage.pool())
                    .await
                    .map_err(|e| JobError::Postgres(e.into()))?
            }
            QueueBackend::Sqlite(storage) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM Jobs WHERE status = 'Pending'")
                    .fetch_one(storage.pool())
                    .await
                    .map_err(|e| JobError::Sqlite(e.into()))?
            }
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Whether the queue's database answers (`/readyz`).
    ///
    /// # Errors
    /// [`JobError`] when it does not.
    pub async fn ping(&self) -> Result<(), JobError> {
        match &self.backend {
            QueueBackend::Postgres(storage) => {
                sqlx::query("SELECT 1 FROM apalis.workers LIMIT 1")
                    .execute(storage.pool())
                    .await
                    .map_err(|e| JobError::Postgres(e.into()))?;
            }
            QueueBackend::Sqlite(storage) => {
                sqlx::query("SELECT 1 FROM Workers LIMIT 1")
                    .execute(storage.pool())
                    .await
                    .map_err(|e| JobError::Sqlite(e.into()))?;
            }
        }
        Ok(())
    }
}
