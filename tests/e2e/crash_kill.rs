//! SIGKILL at random points: the real `nzsync sync` against simulators with latency on both
//! sides is killed (SIGKILL, no chance to clean up) at seeded random points spread over a run's
//! duration — while it reads, while writes are in flight, while it stores state — and rerun at
//! once, again and again, while the user keeps creating, changing and deleting contacts (with
//! companies), to-dos and events on both sides. Then a clean run converges: both sides hold the
//! same records, every record the user created and did not delete is present once on both
//! sides, nothing deleted came back, each company is one Account; and a further run writes
//! nothing.
//!
//! Every fifth run is not killed: it measures how long a whole run takes (kill points are drawn
//! below that) and lets the backlog finish.
//!
//! `NZSYNC_CRASH_POINTS` sets the number of kills (default 50, under a minute once the
//! compiled engine is cached; kill points count from each run's first request, not its start),
//! `NZSYNC_CRASH_SEED` the seed of the kill points (default 11).

use std::time::{Duration, Instant};

use serde_json::json;

use sync_core::Side;

use crate::engine_faults_cases::Kind;
use crate::fault_matrix::{Ledger, tail, ten_minutes_pass};
use crate::world::{World, env_u64};

/// A small deterministic generator (xorshift64*), so a seed replays the same kill points.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// Requests to either server other than for tokens since the call logs were cleared.
async fn engine_calls(w: &World) -> usize {
    let mut n = 0;
    for url in [&w.sims.domino_url, &w.sims.zoho_url] {
        n += w
            .calls(url)
            .await
            .iter()
            .filter(|(_, p, _)| !p.starts_with("/oauth"))
            .count();
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_then_a_clean_run_converges() {
    let points = env_u64("NZSYNC_CRASH_POINTS", 50);
    let mut rng = Rng(env_u64("NZSYNC_CRASH_SEED", 11) | 1);
    let mut w = World::with_sync_settings("events = \"all\"\ntime_zone = \"Asia/Tokyo\"").await;
    for url in [w.sims.domino_url.clone(), w.sims.zoho_url.clone()] {
        w.sim_control(&url, "/_sim/latency", json!({ "ms": 15 }))
            .await;
    }
    let mut ledger = Ledger::default();
    // How long a run talks to the servers, from its first request to its end (kill points are
    // drawn below the longest seen; the process's start-up before it is not interesting).
    let mut active = Duration::from_millis(300);
    let (mut finished, mut killed_writing, mut kills) = (0u32, 0u32, 0u64);
    let mut point = 0u64;
    while kills < points {
        point += 1;
        // Every fifth run is not killed: it measures how long a whole run is and finishes the
        // backlog, so the next kill points spread over a whole run, its end included.
        let uncut = point.is_multiple_of(5);
        // The user edits before every run, so every run has something to write.
        w.renew_token().await;
        let pick = usize::try_from(rng.below(100)).unwrap();
        match point % 4 {
            1 if point == 1 => ledger.first_data(&w).await,
            0 => {
                ledger
                    .create(&w, Side::Notes, Kind::Contact, Some(pick % 3))
                    .await;
                ledger
                    .create(&w, Side::Crm, Kind::Contact, Some((pick + 1) % 3))
                    .await;
                ledger.create(&w, Side::Notes, Kind::Task, None).await;
                ledger.create(&w, Side::Crm, Kind::Event, None).await;
            }
            1 => ledger.changes(&w).await,
            2 => {
                ledger.create(&w, Side::Crm, Kind::Task, None).await;
                ledger.create(&w, Side::Notes, Kind::Event, None).await;
                ledger.create(&w, Side::Crm, Kind::Contact, None).await;
            }
            _ => {
                let side = if point % 8 == 3 {
                    Side::Notes
                } else {
                    Side::Crm
                };
                for kind in Kind::ALL {
                    ledger.delete(&w, side, kind, pick).await;
                }
            }
        }
        ten_minutes_pass(&w).await;
        w.clear_calls().await;
        let kill_after = if uncut {
            Duration::from_secs(3600)
        } else {
            Duration::from_millis(rng.below(u64::try_from(active.as_millis()).unwrap_or(u64::MAX)))
        };
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"));
        cmd.args(["sync", "--json", "--allow-mass-delete", "--config"])
            .arg(&w.config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = cmd.spawn().unwrap();
        // Wait for the run's first request to either server (not the token request).
        let first_request = async {
            loop {
                if engine_calls(&w).await > 0 {
                    return Instant::now();
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        let started = tokio::select! {
            status = child.wait() => {
                eprintln!("point {point}: ended before its first request ({status:?})");
                finished += 1;
                continue;
            }
            at = first_request => at,
        };
        tokio::select! {
            status = child.wait() => {
                let took = started.elapsed();
                if uncut {
                    active = took;
                }
                finished += 1;
                eprintln!("point {point}: finished first ({status:?}, {took:?} after its first request)");
            }
            () = tokio::time::sleep(kill_after) => {
                child.start_kill().unwrap(); // SIGKILL
                child.wait().await.unwrap();
                kills += 1;
                let wrote = !w.writes().await.is_empty();
                killed_writing += u32::from(wrote);
                eprintln!("point {point}: killed {kill_after:?} after its first request (had written: {wrote})");
            }
        }
    }
    eprintln!(
        "{kills} kills ({killed_writing} after the run had written), {finished} runs ended first"
    );
    eprintln!(
        "deleted by the user before the store linked them: {:?}",
        ledger.unrecorded
    );
    // A clean run converges...
    ten_minutes_pass(&w).await;
    let clean = w.sync(&["--allow-mass-delete"]).await;
    assert_eq!(clean.code, 0, "the clean run failed:\n{}", tail(&clean));
    if let Err(e) = ledger.check_converged(&w).await {
        panic!("not converged after the kills:\n{e}\n{}", tail(&clean));
    }
    // ... and a further run writes nothing.
    ten_minutes_pass(&w).await;
    w.clear_calls().await;
    let again = w.sync(&[]).await;
    assert_eq!(again.code, 0, "{}", tail(&again));
    let writes = w.writes().await;
    assert!(
        writes.is_empty(),
        "the run after convergence wrote {writes:?}\n{}",
        tail(&again)
    );
}
