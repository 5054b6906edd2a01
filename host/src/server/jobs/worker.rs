//! The job worker inside `nzsync serve`, and the tick that queues due syncs.
//!
//! apalis's worker ends when a fetch or a heartbeat fails (the database went away for a
//! moment); [`JobWorker`] then starts a new one, under a new name, after a pause. Each job runs
//! on a task of its own, so a worker that ends leaves its syncs running to their end. Stopping
//! is graceful: no job is fetched any more, and the running ones go on until they finish (the
//! worker waits up to a grace period for them). A job whose process ends before its sync does
//! is like one whose replica died: another replica runs it again after the heartbeat timeout.

use std::time::Duration;

use apalis_core::backend::ext::BackendExt;
use apalis_core::error::WorkerError;
use apalis_core::task::data::Data;
use apalis_core::worker::builder::WorkerBuilder;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::watch;
use tower::limit::ConcurrencyLimitLayer;

use super::queue::QueueBackend;
use super::run::{JobOutcome, SyncJob, run_job};
use super::{JobError, JobQueue, enqueue_due};
use crate::server::AppState;
use crate::server::crypto::random_token;

/// How often an idle worker looks for jobs that became due.
const POLL: Duration = Duration::from_secs(1);

/// The pause before a failed worker is started again.
const RESTART_PAUSE: Duration = Duration::from_secs(2);

/// A worker running the queue's jobs on this replica, until [`JobWorker::shutdown`].
#[derive(Debug)]
pub struct JobWorker {
    name: String,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl JobWorker {
    /// Starts a worker on the current runtime, running at most `[schedule] max_concurrent`
    /// jobs at once.
    #[must_use]
    pub fn start(queue: &JobQueue, state: &AppState) -> Self {
        let name = format!("nzsync-{}", random_token().get(..16).unwrap_or("worker"));
        let (stop, stopped) = watch::channel(false);
        let task = {
            let (queue, state, name) = (queue.clone(), state.clone(), name.clone());
            tokio::spawn(async move {
                for run in 0u64.. {
                    // A new name for each start: apalis refuses a name that another
                    // connection registered.
                    let result =
                        run_worker(&queue, &state, &format!("{name}-{run}"), stopped.clone()).await;
                    if *stopped.borrow() {
                        break;
                    }
                    match result {
                        Ok(()) => tracing::warn!("the job worker ended; starting it again"),
                        Err(e) => {
                            tracing::warn!(error = %e, "the job worker failed; starting it again");
                        }
                    }
                    let mut stopped = stopped.clone();
                    tokio::select! {
                        () = tokio::time::sleep(RESTART_PAUSE) => {}
                        _ = stopped.wait_for(|s| *s) => break,
                    }
                }
            })
        };
        Self { name, stop, task }
    }

    /// The worker's name in the queue's tables (each start adds `-N` to it).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stops taking jobs and waits up to `grace` for the running ones to finish (those still
    /// running then go on until the process ends; another replica runs them again after the
    /// heartbeat timeout if they did not finish).
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let abort = self.task.abort_handle();
        if tokio::time::timeout(grace, self.task).await.is_err() {
            abort.abort();
        }
    }
}

/// One apalis worker over the queue's backend, until `stopped` turns true.
fn run_worker(
    queue: &JobQueue,
    state: &AppState,
    name: &str,
    mut stopped: watch::Receiver<bool>,
) -> BoxFuture<'static, Result<(), WorkerError>> {
    let limit = ConcurrencyLimitLayer::new(
        usize::try_from(state.config().schedule.max_concurrent.max(1)).unwrap_or(1),
    );
    let signal = async move {
        let _ = stopped.wait_for(|s| *s).await;
        Ok::<(), std::io::Error>(())
    };
    match &queue.backend {
        QueueBackend::Postgres(storage) => WorkerBuilder::new(name)
            .backend(storage.clone().poll_with_interval(POLL))
            .data(state.clone())
            .data(queue.clone())
            .layer(limit)
            .build(handle)
            .run_until(signal)
            .boxed(),
        QueueBackend::Sqlite(storage) => WorkerBuilder::new(name)
            .backend(storage.clone().poll_with_interval(POLL))
            .data(state.clone())
            .data(queue.clone())
            .layer(limit)
            .build(handle)
            .run_until(signal)
            .boxed(),
    }
}

/// The worker's handler: one job, on a task of its own, so that a worker that ends (a failed
/// heartbeat, a shutdown's grace running out) does not cut the sync off: it goes on to its end
/// and records itself, and the job, run again later, finds its slot done.
async fn handle(
    job: SyncJob,
    state: Data<AppState>,
    queue: Data<JobQueue>,
) -> Result<JobOutcome, JobError> {
    let task = {
        let (state, queue, job) = ((*state).clone(), (*queue).clone(), job.clone());
        tokio::spawn(async move { run_job(&state, &queue, &job).await })
    };
    let outcome = task
        .await
        .unwrap_or_else(|e| Err(JobError::Sync(format!("the job's task ended: {e}"))));
    match &outcome {
        Ok(JobOutcome::Fail { error }) => {
            tracing::warn!(user = %job.user_id, %error, "scheduled sync could not run");
        }
        Ok(JobOutcome::Lost { reason }) => {
            tracing::warn!(user = %job.user_id, %reason, "scheduled sync lost its lease and stopped");
        }
        Ok(o) => {
            tracing::debug!(user = %job.user_id, slot = job.slot, outcome = ?o, "scheduled sync")
        }
        Err(e) => tracing::error!(user = %job.user_id, error = %e, "scheduled sync job failed"),
    }
    outcome
}

/// The scheduled syncs of one replica: the queue, its worker and the tick that queues due
/// syncs.
#[derive(Debug)]
pub struct Scheduling {
    queue: JobQueue,
    worker: JobWorker,
    ticker: tokio::task::JoinHandle<()>,
}

impl Scheduling {
    /// The job queue.
    #[must_use]
    pub fn queue(&self) -> &JobQueue {
        &self.queue
    }

    /// The worker's name.
    #[must_use]
    pub fn worker_name(&self) -> &str {
        self.worker.name()
    }

    /// Stops queueing, then stops the worker gracefully (see [`JobWorker::shutdown`]).
    pub async fn shutdown(self, grace: Duration) {
        self.ticker.abort();
        let _ = self.ticker.await;
        self.worker.shutdown(grace).await;
    }
}

/// Opens the job queue beside the store and starts this replica's worker and tick, when
/// `[schedule] enabled`.
///
/// # Errors
/// [`JobError`] when the queue cannot be opened.
pub async fn spawn(state: &AppState) -> Result<Option<Scheduling>, JobError> {
    let cfg = state.config().schedule.clone();
    if !cfg.enabled {
        return Ok(None);
    }
    let location = state.config().store.location()?;
    let queue = JobQueue::open(state.store(), &location, &cfg).await?;
    state.set_job_queue(&queue);
    let worker = JobWorker::start(&queue, state);
    let ticker = {
        let (queue, state) = (queue.clone(), state.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(cfg.tick_secs));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                if let Err(e) = enqueue_due(&state, &queue).await {
                    tracing::error!(error = %e, "cannot queue the due syncs");
                }
            }
        })
    };
    Ok(Some(Scheduling {
        queue,
        worker,
        ticker,
    }))
}
