//! Keeping a server-side run's sync lease, and stopping the run the moment it is lost.
//!
//! A run on this replica (a scheduled job, or `POST /api/sync/run`) holds the user's lease in
//! the store, which is what keeps every other replica and the widget from starting a second
//! sync for that user. [`LeaseRenewal`] renews it every quarter of its length. The lease is
//! lost when
//! - a renewal finds the lease row gone or holding another token ([`LeaseLost::Taken`]: it
//!   lapsed and another run took it, or an uninstall removed the user), or
//! - the store has not answered the renewals and the lease would lapse before the next one
//!   ([`LeaseLost::Lapsing`]: past that point another replica may take it).
//!
//! Either way [`LeaseRenewal::hold`] drops the run at once, as a crash would, while the lease
//! is still (or was just) the run's own: the run's state writes are crash-safe, so the next run
//! converges, and no two runs of one user overlap beyond the request in flight when the lease
//! went.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{AppState, now_ms};

/// Why a run's lease was lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LeaseLost {
    /// The lease row is gone or holds another token.
    Taken,
    /// The store did not answer, and the lease would lapse before the next renewal.
    Lapsing,
}

impl std::fmt::Display for LeaseLost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Taken => "another sync took the lease, or the user was removed",
            Self::Lapsing => "the store did not answer, and the lease was about to lapse",
        })
    }
}

/// What one renewal found, given that the lease is held until `held_until` (ms) and the next
/// renewal comes `every_ms` from `now`.
fn verdict(
    renewed: Option<bool>,
    now: i64,
    held_until: i64,
    every_ms: i64,
) -> Result<(), LeaseLost> {
    match renewed {
        Some(true) => Ok(()),
        Some(false) => Err(LeaseLost::Taken),
        None if now.saturating_add(every_ms) >= held_until => Err(LeaseLost::Lapsing),
        None => Ok(()),
    }
}

/// Keeps a sync lease alive while a run holds it, and says when it is lost. Dropping it (or a
/// run whose future is dropped) stops the renewals at once, so the lease runs out as a dead
/// replica's would.
pub(super) struct LeaseRenewal {
    task: Option<JoinHandle<()>>,
    lost: watch::Receiver<Option<LeaseLost>>,
}

impl LeaseRenewal {
    /// Renews `user_id`'s lease `token`, which is held until `expires` (ms since the epoch),
    /// for `lease_ms` at a time.
    pub(super) fn start(
        state: &AppState,
        user_id: &str,
        token: &str,
        expires: i64,
        lease_ms: i64,
    ) -> Self {
        let (tx, lost) = watch::channel(None);
        let state = state.clone();
        let user_id = user_id.to_owned();
        let token = token.to_owned();
        let every_ms = (lease_ms / 4).max(1);
        let every = Duration::from_millis(u64::try_from(every_ms).unwrap_or(30_000));
        let task = tokio::spawn(async move {
            let mut held_until = expires;
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let next = now_ms().saturating_add(lease_ms);
                // A store that hangs counts as one that failed: the answer must come before the
                // next renewal is due.
                let renewed = tokio::time::timeout(every, async {
                    let mut db = state.store().conn().await.ok()?;
                    db.renew_lease(&user_id, &token, next).await.ok()
                })
                .await
                .ok()
                .flatten();
                if renewed == Some(true) {
                    held_until = next;
                }
                if let Err(why) = verdict(renewed, now_ms(), held_until, every_ms) {
                    tracing::warn!(user = %user_id, reason = %why, "a sync lost its lease; stopping it");
                    tx.send_replace(Some(why));
                    return;
                }
            }
        });
        Self {
            task: Some(task),
            lost,
        }
    }

    /// Runs `run` while the lease is held: its output, or why the lease was lost (the run is
    /// then dropped where it stands).
    pub(super) async fn hold<F: Future>(&self, run: F) -> Result<F::Output, LeaseLost> {
        let mut lost = self.lost.clone();
        let lost = async move {
            // The guard is let go at once: the future stays `Send`.
            let seen = lost.wait_for(Option::is_some).await.map(|why| *why);
            match seen {
                Ok(why) => why.unwrap_or(LeaseLost::Taken),
                // The renewal task ended without a verdict (it cannot, short of a panic): the
                // run goes on, as it would have without renewals.
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            why = lost => Err(why),
            out = run => Ok(out),
        }
    }

    /// Stops renewing, and waits until no renewal is under way.
    pub(super) async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for LeaseRenewal {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{LeaseLost, verdict};

    #[test]
    fn a_renewal_that_finds_another_token_loses_the_lease_at_once() {
        assert_eq!(
            verdict(Some(false), 0, 1_000_000, 10),
            Err(LeaseLost::Taken)
        );
        assert_eq!(verdict(Some(true), 5_000, 1_000, 10), Ok(()));
    }

    #[test]
    fn a_silent_store_loses_the_lease_only_before_it_would_lapse() {
        // Held until 1,000; renewals every 100.
        assert_eq!(verdict(None, 800, 1_000, 100), Ok(()));
        assert_eq!(verdict(None, 900, 1_000, 100), Err(LeaseLost::Lapsing));
        assert_eq!(verdict(None, 1_500, 1_000, 100), Err(LeaseLost::Lapsing));
    }
}
