//! One scheduled sync job: the user's slot, run at most once.
//!
//! In order: the slot must still be the user's `next_sync`; the user's sync lease is taken
//! under the org's row lock, only while fewer than `max_per_org` of the org's users hold one
//! (else the slot moves `retry_secs` on, in the same transaction, and a later job runs it); the
//! slot is checked again under the lease; the sync runs, renewing the lease; the run is
//! recorded and the schedule moved on (by the interval, or by the 429 back-off) in one
//! transaction; the lease goes.
//!
//! A scheduled run's lease token names its slot. apalis delivers a job at least once: a job
//! whose worker was judged dead (a heartbeat late by more than the timeout, or a worker
//! restarted after a failed fetch) is delivered again while its first delivery still runs. That
//! second delivery finds the lease held for its own slot: it must not move the slot (the
//! running delivery would then record its run but leave the schedule on the moved slot, and
//! the slot would run twice), so it leaves the schedule alone and queues a look at the same slot
//! `retry_secs` later, under a key of its own ([`JobOutcome::Wait`]).
//!
//! A job whose replica died mid-run is run again by another replica after the heartbeat
//! timeout: it finds the dead run's lease, for its slot, and looks again every `retry_secs`
//! until the lease lapses (`lease_secs`); then it runs the slot, and the run's crash-safe state
//! writes make the new run converge. A job run again after its run was recorded finds its slot
//! gone and does nothing.

use serde::{Deserialize, Serialize};

use super::schedule::{next_wait, rate_limited};
use super::{JobError, JobQueue};
use crate::server::crypto::random_token;
use crate::server::lease::{LeaseLost, LeaseRenewal};
use crate::server::metrics::{self, RunKind};
use crate::server::settings::UserSettings;
use crate::server::sync::{RunOptions, sync_holding_lease};
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
    /// The run lost its lease mid-way (another run took it, or the store stopped answering)
    /// and was cut off: nothing recorded, and a job looks at the slot again `retry_secs` later.
    Lost {
        /// Why the lease was lost, in the server's words.
        reason: String,
    },
    /// Another delivery of this job runs the slot now: the schedule is left to it, and a job
    /// looks at the slot again `retry_secs` later (in case that delivery's replica dies).
    Wait,
}

/// How a job's lease was taken, or why not.
enum Lease {
    /// The user or the org was busy: the slot moved `retry_secs` on.
    Deferred,
    /// Another delivery of the same job holds the lease for this slot.
    Running,
    /// Taken: its token, and when it lapses unless renewed (ms since the epoch).
    Taken(String, i64),
}

/// What a scheduled run's lease token ends with: its slot.
const SLOT_MARK: &str = ":slot:";

/// A new lease token for a scheduled run of `slot` (random, naming the slot).
fn slot_token(slot: i64) -> String {
    format!("{}{SLOT_MARK}{slot}", random_token())
}

/// Whether lease `token` is a scheduled run's of `slot`.
fn runs_slot(token: &str, slot: i64) -> bool {
    token
        .rsplit_once(SLOT_MARK)
        .is_some_and(|(_, s)| s == slot.to_string())
}

/// Runs `job` on `state`, whose jobs are in `queue` (see the module doc).
///
/// # Errors
/// [`JobError`] when the store fails; the job is then run again later by the queue.
pub async fn run_job(
    state: &AppState,
    queue: &JobQueue,
    job: &SyncJob,
) -> Result<JobOutcome, JobError> {
    let outcome = run_job_once(state, queue, job).await;
    metrics::job_done(&outcome);
    outcome
}

async fn run_job_once(
    state: &AppState,
    queue: &JobQueue,
    job: &SyncJob,
) -> Result<JobOutcome, JobError> {
    let Some(user) = due_user(state, job).await? else {
        return Ok(JobOutcome::Skip);
    };
    let cfg = &state.config().schedule;
    let lease_ms = i64::try_from(cfg.lease_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let (token, expires) = match take_lease(state, &user, job.slot, lease_ms).await? {
        Lease::Taken(token, expires) => (token, expires),
        Lease::Deferred => return Ok(JobOutcome::Defer),
        Lease::Running => {
            let at = now_ms().saturating_add(retry_ms(state)) / 1000 + 1;
            queue
                .enqueue_again(job, u64::try_from(at).unwrap_or(0))
                .await?;
            return Ok(JobOutcome::Wait);
        }
    };
    let renewal = LeaseRenewal::start(state, &user.user_id, &token, expires, lease_ms);
    let outcome = run_holding_lease(state, queue, job, &renewal).await;
    renewal.stop().await;
    if let Ok(mut db) = state.store().conn().await {
        let _ = db.delete_lease(&user.user_id, &token).await;
    }
    outcome
}

/// A run cut off because its lease was lost: nothing is recorded and the slot stays the
/// user's `next_sync` (its state writes so far are kept, as after a crash); a job looks at the
/// slot again `retry_secs` later, and runs it once no other run holds the lease.
async fn lost(
    state: &AppState,
    queue: &JobQueue,
    job: &SyncJob,
    why: LeaseLost,
) -> Result<JobOutcome, JobError> {
    metrics::run_failed(RunKind::Scheduled);
    let at = now_ms().saturating_add(retry_ms(state)) / 1000 + 1;
    queue
        .enqueue_again(job, u64::try_from(at).unwrap_or(0))
        .await?;
    Ok(JobOutcome::Lost {
        reason: why.to_string(),
    })
}

/// `[schedule] retry_secs` in ms.
fn retry_ms(state: &AppState) -> i64 {
    i64::try_from(state.config().schedule.retry_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// The user of `job` when its slot is still their `next_sync` and they have a schedule.
async fn due_user(state: &AppState, job: &SyncJob) -> Result<Option<UserRow>, JobError> {
    let user = state.store().conn().await?.user(&job.user_id).await?;
    Ok(user.filter(|u| {
        u.next_sync == Some(job.slot) && UserSettings::of(u).schedule_minutes.is_some()
    }))
}

/// Takes `user`'s sync lease for `slot` unless the user holds one or the org is at its cap;
/// then the slot moves `retry_secs` on in the same transaction, under the org's row lock (so
/// no delivery of the same job can take the lease for the slot in between), unless the lease
/// is held for this very slot. The org's row lock makes the count and the take one step across
/// replicas.
async fn take_lease(
    state: &AppState,
    user: &UserRow,
    slot: i64,
    lease_ms: i64,
) -> Result<Lease, JobError> {
    let cap = i64::from(state.config().schedule.max_per_org);
    let now = now_ms();
    let token = slot_token(slot);
    let mut db = state.store().begin().await?;
    let free = if !db.lock_org(&user.org_id).await? {
        false
    } else if let Some((held, _)) = db.lease(&user.user_id, now).await? {
        if runs_slot(&held, slot) {
            return Ok(Lease::Running);
        }
        false
    } else {
        db.org_leases_held(&user.org_id, &user.user_id, now).await? < cap
            && db
                .take_lease(&user.user_id, &token, now, now + lease_ms)
                .await?
    };
    if !free {
        let backoff = db.backoff(&user.user_id).await?;
        db.advance_schedule(&user.user_id, slot, now_ms() + retry_ms(state), backoff)
            .await?;
        db.commit().await?;
        return Ok(Lease::Deferred);
    }
    db.commit().await?;
    Ok(Lease::Taken(token, now + lease_ms))
}

/// The part of a job that runs under the lease, which `renewal` keeps.
async fn run_holding_lease(
    state: &AppState,
    queue: &JobQueue,
    job: &SyncJob,
    renewal: &LeaseRenewal,
) -> Result<JobOutcome, JobError> {
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
            let run = sync_holding_lease(state, &runner, &user, opts, RunKind::Scheduled);
            match renewal.hold(run).await {
                Ok(report) => report,
                Err(why) => return lost(state, queue, job, why).await,
            }
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
