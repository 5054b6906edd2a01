//! Scheduled headless syncs (B7) as jobs of a real job engine, so that any number of
//! `nzsync serve` replicas share them with no double and no lost run.
//!
//! - `schedule` — every `[schedule] tick_secs`, each replica queues a job for every user whose
//!   `next_sync` is due. The job's key is the user and the slot (the `next_sync` it is for), so
//!   replicas queueing the same slot at once, with clocks seconds apart, make one job.
//! - `run` — one job: take the user's sync lease (the one the widget's browser runs hold) under
//!   the org's cap, check that the slot is still due, sync, then record the run and move the
//!   schedule on in one transaction. A user or org that is busy moves the slot `retry_secs` on.
//! - `queue` — the job queue itself: apalis's PostgreSQL storage when the store is in
//!   PostgreSQL (schema `apalis`), its SQLite storage in a file beside the store's otherwise
//!   (`queue` says why not in the same file).
//! - `worker` — the apalis worker inside `nzsync serve`, restarted when it fails, stopped
//!   gracefully.
//!
//! # Why apalis 1.0
//!
//! The issue asked for apalis 1.0 (`apalis-postgres`, `apalis-sqlite`) unless it fell short of a
//! guarantee, and graphile_worker then. Read in apalis-core, apalis-postgres and apalis-sqlite
//! 1.0.0, guarantee by guarantee:
//!
//! - **A replica that dies mid-run.** Every worker writes a heartbeat (`apalis.workers.
//!   last_seen`) each `heartbeat_interval`; at each heartbeat (and at start) a worker puts back
//!   to `Pending` the jobs of workers of its queue silent for `heartbeat_interval ×
//!   missed_heartbeats` (`reenqueue_orphaned`). We use two missed heartbeats. graphile_worker
//!   frees a dead worker's jobs only after a fixed four-hour lock timeout.
//! - **No double run of a slot.** apalis 1.0 has an idempotency key per job with a unique index
//!   on (`job_type`, `idempotency_key`) in both storages: PostgreSQL refuses a second job with a
//!   unique violation (we push one job per statement and take that as "queued already"), SQLite
//!   ignores it (`ON CONFLICT DO NOTHING`). Keys stay taken after the job is done.
//! - **One sync per user, and the per-org cap.** No job engine knows the widget's browser runs,
//!   and neither apalis (a concurrency limit per worker) nor graphile_worker (one named queue
//!   runs serially) caps jobs per org at N. So the job takes the store's per-user lease, the
//!   same row the browser runs hold, after counting the org's held leases under the org's row
//!   lock (`Conn::lock_org`); the worker's own concurrency limit (tower's `ConcurrencyLimit`,
//!   which apalis polls before fetching) keeps one replica from taking more than it runs.
//! - **A run recorded exactly once.** apalis delivers a job at least once (a rerun after a
//!   heartbeat timeout may follow a run that had finished). The run's record and the schedule's
//!   move happen in one store transaction while the lease is held, and a job whose slot is no
//!   longer the user's `next_sync` does nothing: a rerun records nothing twice. A delivery that
//!   finds the lease held for its own slot (its first delivery still runs: that worker's
//!   heartbeat was late, or it was restarted) leaves the slot alone and looks again later
//!   (`run`), so the slot is not moved from under the run that will record it.
//! - **Graceful shutdown.** A stopped worker fetches no more jobs, waits for the ones running
//!   and puts back those it fetched but had not started (`reenqueue_abandoned`).
//!
//! So apalis 1.0 is enough, with the store's lease doing what no engine does. What we work
//! around: a failed fetch or heartbeat ends apalis's worker stream (its persistence turns
//! `Dead`), so `worker` restarts the worker after a pause; an empty queue is looked at again
//! only when woken, so the worker polls on an interval; apalis-sqlite's `setup` also turns
//! `synchronous` off on its connection, so we run only its migrations; apalis-postgres's
//! migrations create the `hstore` extension, which the database's owner may do (PostgreSQL 13
//! and later trust it). `apalis-cron` does not fit: a schedule is per user (`next_sync` in the
//! store), not one cron expression per process, and a cron stream on every replica would fire
//! everywhere at once anyway.

mod queue;
mod run;
mod schedule;
mod worker;

pub use queue::{JobQueue, sqlite_path};
pub use run::{JobOutcome, SyncJob, run_job};
pub use schedule::{MAX_BACKOFF_MS, enqueue_due, next_wait, rate_limited};
pub use worker::{JobWorker, Scheduling, spawn};

use crate::store::StoreError;

/// Why the job engine failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// The job queue in PostgreSQL failed.
    #[error("the job queue (PostgreSQL) failed")]
    Postgres(#[source] apalis_postgres::Error),
    /// The job queue in SQLite failed.
    #[error("the job queue (SQLite) failed")]
    Sqlite(#[source] apalis_sqlite::Error),
    /// The job queue's tables could not be created or migrated.
    #[error("the job queue's tables could not be migrated")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// A job could not be queued.
    #[error("a job could not be queued: {0}")]
    Push(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The sync could not run (the runner or the user's connection).
    #[error("the sync could not run: {0}")]
    Sync(String),
}
