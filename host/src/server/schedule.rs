//! Scheduled headless syncs (B7): every `tick_secs` the scheduler runs the syncs that are due
//! (`schedule_minutes` in a user's settings), at most `max_concurrent` at once so the org stays
//! inside Zoho's concurrency limit. One user's failure never stops another's; a run that met
//! HTTP 429 (Zoho's rate, credit or concurrency limit) backs that user off, doubling each time up
//! to a day, until a run gets through.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::settings::UserSettings;
use super::sync::{RunOptions, run_headless};
use super::{AppState, now_ms};

/// Longest back-off after rate-limited runs.
pub const MAX_BACKOFF_MS: i64 = 24 * 3_600_000;

/// Whether a report shows a server refusing for load: HTTP 429 / `TOO_MANY_REQUESTS`.
#[must_use]
pub fn rate_limited(report: &sync_core::RunReport) -> bool {
    let hit = |s: &str| s.contains("429") || s.contains("TOO_MANY_REQUESTS");
    report.error.as_deref().is_some_and(hit)
        || report.modules.iter().any(|m| {
            m.message.as_deref().is_some_and(hit)
                || m.entries
                    .iter()
                    .any(|e| e.error.as_deref().is_some_and(hit))
        })
}

/// The wait before the next run: the interval, or after a rate-limited run twice the previous
/// back-off (at least twice the interval, at most [`MAX_BACKOFF_MS`]).
#[must_use]
pub fn next_wait(interval_ms: i64, limited: bool, previous_backoff_ms: Option<i64>) -> i64 {
    if limited {
        previous_backoff_ms
            .map_or(interval_ms * 2, |b| b * 2)
            .max(interval_ms * 2)
            .min(MAX_BACKOFF_MS)
    } else {
        interval_ms
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The scheduler's memory: permits, users being synced, back-offs.
#[derive(Clone, Debug)]
pub struct Scheduler {
    permits: Arc<Semaphore>,
    running: Arc<Mutex<HashSet<String>>>,
    backoff: Arc<Mutex<HashMap<String, i64>>>,
}

impl Scheduler {
    /// A scheduler running at most `max_concurrent` syncs at once.
    #[must_use]
    pub fn new(max_concurrent: u32) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(
                usize::try_from(max_concurrent.max(1)).unwrap_or(1),
            )),
            running: Arc::default(),
            backoff: Arc::default(),
        }
    }

    /// Starts the due syncs (in the background) and returns how many were started.
    pub async fn tick(&self, state: &AppState) -> usize {
        let due = match due_users(state).await {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "scheduler: cannot read due syncs");
                return 0;
            }
        };
        let mut started = 0;
        for user in due {
            let Some(minutes) = UserSettings::of(&user).schedule_minutes else {
                continue;
            };
            if !lock(&self.running).insert(user.user_id.clone()) {
                continue;
            }
            started += 1;
            let state = state.clone();
            let me = self.clone();
            tokio::spawn(async move {
                let Ok(_permit) = me.permits.clone().acquire_owned().await else {
                    return;
                };
                let interval = i64::from(minutes) * 60_000;
                let limited = match run_headless(&state, &user, RunOptions::default()).await {
                    Ok((_, report)) => rate_limited(&report),
                    Err(e) => {
                        tracing::warn!(user = %user.user_id, error = %e, "scheduled sync could not run");
                        false
                    }
                };
                let wait = {
                    let mut backoff = lock(&me.backoff);
                    let wait = next_wait(interval, limited, backoff.get(&user.user_id).copied());
                    if limited {
                        tracing::warn!(user = %user.user_id, wait_ms = wait, "scheduled sync met a rate limit; backing off");
                        backoff.insert(user.user_id.clone(), wait);
                    } else {
                        backoff.remove(&user.user_id);
                    }
                    wait
                };
                if let Err(e) = set_next_sync(&state, &user.user_id, now_ms() + wait).await {
                    tracing::error!(error = %e, "scheduler: cannot store the next run");
                }
                lock(&me.running).remove(&user.user_id);
            });
        }
        started
    }
}

async fn due_users(
    state: &AppState,
) -> Result<Vec<crate::store::UserRow>, crate::store::StoreError> {
    state.store().conn().await?.due_users(now_ms()).await
}

async fn set_next_sync(
    state: &AppState,
    user_id: &str,
    next: i64,
) -> Result<(), crate::store::StoreError> {
    state
        .store()
        .conn()
        .await?
        .set_next_sync(user_id, Some(next))
        .await
}

/// Starts the scheduler loop (when enabled in the config) on the current runtime.
pub fn spawn(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let cfg = state.config().schedule.clone();
    if !cfg.enabled {
        return None;
    }
    let scheduler = Scheduler::new(cfg.max_concurrent);
    Some(tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(cfg.tick_secs));
        loop {
            every.tick().await;
            scheduler.tick(&state).await;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limited_runs_back_off_doubling_up_to_a_day() {
        let m = 15 * 60_000;
        assert_eq!(next_wait(m, false, None), m);
        assert_eq!(next_wait(m, false, Some(8 * m)), m);
        assert_eq!(next_wait(m, true, None), 2 * m);
        assert_eq!(next_wait(m, true, Some(2 * m)), 4 * m);
        assert_eq!(next_wait(m, true, Some(MAX_BACKOFF_MS)), MAX_BACKOFF_MS);
        let mut report: sync_core::RunReport = serde_json::from_value(serde_json::json!({
            "dry_run": false, "started": 0, "finished": 0, "outcome": "failed",
            "error": "Zoho CRM answered HTTP 429 TOO_MANY_REQUESTS", "modules": [],
            "requests": { "notes": 0, "crm": 0, "retries": 0 }
        }))
        .unwrap();
        assert!(rate_limited(&report));
        report.error = Some("cannot reach the server".into());
        assert!(!rate_limited(&report));
    }
}
