//! One scheduled sync job: the user's slot, run at most once.
//!
//! In order: the slot must still be the user's `next_sync`; the user's sync lease is taken
//! under the org's row lock, only while fewer than `max_per_org` of the org's users hold one
//! (else the slot moves `retry_secs` on and a later job runs it); the slot is checked again
//! under the lease; the sync runs, renewing the lease; the run is recorded and the schedule
//! moved on (by the interval, or by the 429 back-off) in one transaction; the lease goes.
//!
//! A job whose replica died mid-run is run again by another replica after the heartbeat
//! timeout: it waits for the dead run's lease to lapse (`lease_secs`, the slot moving on
//! meanwhile), and the run's crash-safe state writes make the new run converge. A job run again
//! after its run was recorded finds its slot gone and does nothing.

use serde::{Deserialize, Serialize};

use super::JobError;
use super::schedule::{next_wait, rate_limited};
use crate::server::crypto::random_token;
use crate::server::metrics::{self, RunKind};
use crate::server::settings::UserSettings;
use crate::server::sync::{LeaseRenewal, RunOptions, sync_holding_lease};
use crate::server::{AppState, now_ms, profile};
use crate::store::UserRow;

/// A scheduled sync of one user for one slot (the `next_sync` it was due at).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncJob {
    /// The Zoho CRM user id.
    pub user_id: String,
    /// The `next_sync` this run is for, ms since the epoch.
    pub slot: i64,
}

impl SyncJob {
    /// The job's idempotency key: one job per user and slot, whoever queues it.
    #[must_use]
    pub fn key(&self) -> String {
        format!("sync:{}:{}", self.user_id, self.slot)
    }
}

/// What a job did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum JobOutcome {
    /// The user was syncing, or the org had `max_per_org` syncs running: the slot moved
    /// `retry_secs` on, for a later job.
    Defer,
    /// The sync could not start (the user's connection or the runner): nothing recorded, the
    /// schedule moved on by the interval.
    Fail {
        /// Why, in the server's words.
        error: String,
    },
    /// The sync ran and was recorded as run `run_id`.
    Run {
        /// The run's id in the user's history.
        run_id: i64,
    },
    /// The slot is not the user's `next_sync` any more (its run was recorded already, or the
    /// schedule changed, or the user is gone): nothing to do.
    Skip,
}

/// How a job's lease was taken, or why not.
enum Lease {
    Busy,
    Taken(String),
}

/// Runs `job` on `state` (see the module doc).
///
/// # Errors
/// [`JobError`] when the store fails; the job is then run again later by the queue.
pub async fn run_job(state: &AppState, job: &SyncJob) -> Result<JobOutcome, JobError> {
    let outcome = run_job_once(state, job).await;
    metrics::job_done(&outcome);
    outcome
}

async fn run_job_once(state: &AppState, job: &SyncJob) -> Result<JobOutcome, JobError> {
    let Some(user) = due_user(state, job).await? else {
        return Ok(JobOutcome::Skip);
    };
    let cfg = &state.config().schedule;
    let lease_ms = i64::try_from(cfg.lease_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let token = match take_lease(state, &user, lease_ms).await? {
        Lease::Taken(token) => token,
        Lease::Busy => {
            let retry = i64::try_from(cfg.retry_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
            let mut db = state.store().begin().await?;
            let backoff = db.backoff(&user.user_id).await?;
            db.advance_schedule(&user.user_id, job.slot, now_ms() + retry, backoff)
                .await?;
            db.commit().await?;
            return Ok(JobOutcome::Defer);
        }
    };
    let renewal = LeaseRenewal::start(state, &user.user_id, &token, lease_ms);
    let outcome = run_holding_lease(state, job).await;
    renewal.stop().await;
    if let Ok(mut db) = state.store().conn().await {
        let _ = db.delete_lease(&user.user_id, &token).await;
    }
    outcome
}

/// The user of `job` when its slot is still their `next_sync` and they have a schedule.
async fn due_user(state: &AppState, job: &SyncJob) -> Result<Option<UserRow>, JobError> {
    let user = state.store().conn().await?.user(&job.user_id).await?;
    Ok(user.filter(|u| {
        u.next_sync == Some(job.slot) && UserSettings::of(u).schedule_minutes.is_some()
    }))
}

/// Takes `user`'s sync lease unless the user holds one or the org is at its cap. The org's row
/// lock makes the count and the take one step across replicas.
async fn take_lease(state: &AppState, user: &UserRow, lease_ms: i64) -> Result<Lease, JobError> {
    let cap = i64::from(state.config().schedule.max_per_org);
    let now = now_ms();
    let token = random_token();
    let mut db = state.store().begin().await?;
    if !db.lock_org(&user.org_id).await? {
        return Ok(Lease::Busy);
    }
    if db.org_leases_held(&user.org_id, &user.user_id, now).await? >= cap {
        return Ok(Lease::Busy);
    }
    if !db
        .take_lease(&user.user_id, &token, now, now + lease_ms)
        .await?
    {
        return Ok(Lease::Busy);
    }
    db.commit().await?;
    Ok(Lease::Taken(token))
}

/// The part of a job that runs under the lease.
async fn run_holding_lease(state: &AppState, job: &SyncJob) -> Result<JobOutcome, JobError> {
    // Again under the lease: a run of this slot may have finished since the first look.
    let Some(user) = due_user(state, job).await? else {
        return Ok(JobOutcome::Skip);
    };
    let Some(minutes) = UserSettings::of(&user).schedule_minutes else {
        return Ok(JobOutcome::Skip);
    };
    let interval = i64::from(minutes) * 60_000;
    let report = match state.runner().await {
        Ok(runner) => {
            let opts = RunOptions::default();
            sync_holding_lease(state, &runner, &user, opts, RunKind::Scheduled).await
        }
        Err(e) => {
            metrics::run_failed(RunKind::Scheduled);
            Err(e)
        }
    };
    let mut db = state.store().begin().await?;
    let previous = db.backoff(&user.user_id).await?;
    let (outcome, limited) = match &report {
        Ok(report) => {
            let run_id = db.record_run(&profile(&user.user_id), report).await?;
            (JobOutcome::Run { run_id }, rate_limited(report))
        }
        Err(e) => (
            JobOutcome::Fail {
                error: e.message().to_owned(),
            },
            false,
        ),
    };
    let wait = next_wait(interval, limited, previous);
    if limited {
        tracing::warn!(user = %user.user_id, wait_ms = wait, "scheduled sync met a rate limit; backing off");
    }
    // Moves nothing when the settings changed the schedule during the run: the run is still
    // recorded, and the new schedule stands.
    db.advance_schedule(
        &user.user_id,
        job.slot,
        now_ms() + wait,
        limited.then_some(wait),
    )
    .await?;
    db.commit().await?;
    Ok(outcome)
}
