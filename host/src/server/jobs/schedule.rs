//! When syncs are due, and how long a user waits after one: every `tick_secs` each replica
//! queues the users whose `next_sync` (from `schedule_minutes` in their settings) has come. A
//! run that met HTTP 429 (Zoho's rate, credit or concurrency limit) backs that user off,
//! doubling each time up to a day, until a run gets through; the back-off is kept in the store.

use super::run::SyncJob;
use super::{JobError, JobQueue};
use crate::server::settings::UserSettings;
use crate::server::{AppState, now_ms};

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

/// Queues a job for every user whose scheduled sync is due now (one per user and slot: a slot
/// queued before, by any replica, is not queued again). Returns how many users were due.
///
/// # Errors
/// [`JobError`] when the store or the queue fails.
pub async fn enqueue_due(state: &AppState, queue: &JobQueue) -> Result<usize, JobError> {
    // The store's handle goes before the queue is written to.
    let due = state.store().conn().await?.due_users(now_ms()).await?;
    for user in &due {
        let Some(slot) = user.next_sync else {
            continue;
        };
        if UserSettings::of(user).schedule_minutes.is_none() {
            continue;
        }
        let job = SyncJob {
            user_id: user.user_id.clone(),
            slot,
        };
        // Due already: at once (a slot in the past runs now; the clock of whoever queued
        // first does not matter).
        queue.enqueue(&job, 0).await?;
    }
    Ok(due.len())
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
