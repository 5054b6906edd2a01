//! Scheduled syncs of a fleet (issue #16): throughput with 1, 2 and 3 `nzsync serve` replicas
//! (real processes) on PostgreSQL, and with one on a single host's SQLite, over the same users
//! and data; and the latency the job engine adds between a run being due (the user's
//! `next_sync`) and its start (the start its run history records).
//!
//! ```text
//! cargo bench -p nzsync --bench fleet                         # 200 users
//! NZSYNC_BENCH_USERS=50 cargo bench -p nzsync --bench fleet
//! ```
//!
//! Env: `NZSYNC_BENCH_USERS` (default 200, over two orgs), `NZSYNC_BENCH_LATENCY_MS`
//! (simulator latency, default 20), `NZSYNC_BENCH_OUT` (JSON path, default
//! `target/bench-fleet.json`).
//!
//! Each configuration gets fresh simulators and a fresh store holding the same users and data
//! (`host/tests/common/fleet.rs`: per user three Notes contacts, two CRM contacts, a to-do on
//! each side; schedules of one hour), and `[schedule]` `max_concurrent = 4` per replica,
//! `max_per_org = 12` (so that the replicas, not the org cap, limit), `tick_secs = 1`. Rounds:
//! 1. **first runs**: every user due at once; every user's initial sync.
//! 2. **second runs**: every user due at one moment `T`; runs per second from `T` to the last
//!    run's end. Each user's first incremental run reads back what the first run wrote on both
//!    sides.
//! 3. **steady runs**: the same, nothing changed since, three times; the median.
//! 4. **due → start**: users due one after another, spread at half the throughput just
//!    measured (spare capacity, so the wait is the engine's, not a queue's); for each run,
//!    its recorded start minus its due time. p50 and p99.
//!
//! The replicas, PostgreSQL, the simulators and this process share the machine's cores:
//! compare ratios measured in one run.

#![allow(clippy::unwrap_used)] // A benchmark that cannot set up has nothing to report.

#[path = "../../host/tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::TestStore;
use common::fleet::{Fleet, FleetOptions, ScheduleKeys, now_ms};
use serde_json::json;

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const SCHEDULE: ScheduleKeys = ScheduleKeys {
    max_concurrent: 4,
    max_per_org: 12,
    tick_secs: 1,
    heartbeat_secs: 5,
    lease_secs: 60,
    retry_secs: 1,
};

/// How many steady rounds a configuration runs (the median is reported).
const STEADY_ROUNDS: usize = 3;

/// What one configuration measured.
struct Measured {
    store: &'static str,
    replicas: usize,
    first_per_s: f64,
    second_per_s: f64,
    per_s: f64,
    /// Due → start, ms, sorted.
    waits: Vec<f64>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[allow(clippy::cast_precision_loss)]
async fn measure(store: TestStore, replicas: usize, users: usize, latency: u64) -> Measured {
    let name = match store {
        TestStore::Postgres => "PostgreSQL",
        TestStore::Sqlite => "SQLite",
    };
    eprintln!("{name}, {replicas} replica(s): setting up {users} users");
    let mut fleet = Fleet::start(FleetOptions {
        users,
        orgs: 2,
        store,
        schedule: SCHEDULE,
        todos: true,
        bin: env!("CARGO_BIN_EXE_nzsync").into(),
    })
    .await;
    fleet.sims.domino().set_latency_ms(latency);
    fleet.sims.zoho().set_latency_ms(latency);
    for k in 0..replicas {
        fleet.spawn_replica(&format!("r{k}")).await;
    }
    let timeout = Duration::from_secs(1800);
    let n = fleet.users.len();

    // 1. First runs.
    let t = Instant::now();
    fleet.make_due(10, &[]).await;
    fleet.wait_for_runs(1, 0, timeout).await;
    let first_per_s = n as f64 / t.elapsed().as_secs_f64();
    eprintln!("  first runs: {first_per_s:.2}/s");

    // 2. The second runs (each user's first incremental run reads back what the first run
    //    wrote), then steady runs (nothing changed) three times: everybody due at one moment.
    let mut rates = Vec::new();
    for k in 0..=STEADY_ROUNDS {
        let due = now_ms() + 1_000;
        fleet.make_due(due, &[]).await;
        let runs = fleet.wait_for_runs(2 + k, 0, timeout).await;
        let last = fleet
            .users
            .iter()
            .map(|u| runs[&u.profile()][1 + k].finished)
            .max()
            .unwrap();
        rates.push(n as f64 / ((last - due) as f64 / 1000.0));
    }
    let second_per_s = rates.remove(0);
    rates.sort_by(f64::total_cmp);
    let per_s = rates[rates.len() / 2];
    eprintln!("  second runs: {second_per_s:.2}/s; steady: {per_s:.2}/s (rounds: {rates:.2?})");

    // 3. Due → start, at half the steady rate.
    #[allow(clippy::cast_possible_truncation)]
    let gap_ms = ((2000.0 / per_s).round() as i64).max(1);
    let start = now_ms() + 2_000;
    let mut dues = Vec::with_capacity(n);
    let mut cases = String::new();
    for (k, u) in fleet.users.iter().enumerate() {
        let at = start + gap_ms * i64::try_from(k).unwrap();
        cases.push_str(&format!(" WHEN '{}' THEN {at}", u.id));
        dues.push(at);
    }
    fleet
        .execute(&format!(
            "UPDATE srv_users SET next_sync = CASE user_id{cases} END WHERE user_id IN ({})",
            fleet
                .users
                .iter()
                .map(|u| format!("'{}'", u.id))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .await;
    let last = 2 + STEADY_ROUNDS + 1;
    let runs = fleet.wait_for_runs(last, 0, timeout).await;
    let mut waits: Vec<f64> = fleet
        .users
        .iter()
        .zip(&dues)
        .map(|(u, due)| (runs[&u.profile()][last - 1].started - due) as f64)
        .collect();
    waits.sort_by(f64::total_cmp);
    eprintln!(
        "  due → start (one every {gap_ms} ms): p50 {:.0} ms, p99 {:.0} ms",
        percentile(&waits, 0.5),
        percentile(&waits, 0.99)
    );
    for r in &mut fleet.replicas {
        let _ = r.terminate(Duration::from_secs(60)).await;
    }
    Measured {
        store: name,
        replicas,
        first_per_s,
        second_per_s,
        per_s,
        waits,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let users = env_usize("NZSYNC_BENCH_USERS", 200);
    let latency = u64::try_from(env_usize("NZSYNC_BENCH_LATENCY_MS", 20)).unwrap();
    let began = Instant::now();
    let mut all = Vec::new();
    for (store, replicas) in [
        (TestStore::Postgres, 1),
        (TestStore::Postgres, 2),
        (TestStore::Postgres, 3),
        (TestStore::Sqlite, 1),
    ] {
        all.push(measure(store, replicas, users, latency).await);
    }
    let base = all[0].per_s;
    let base_first = all[0].first_per_s;
    println!(
        "\nfleet: {users} users over 2 orgs, simulator latency {latency} ms, max_concurrent 4 \
         per replica, tick 1 s ({:.0} s in all)\n",
        began.elapsed().as_secs_f64()
    );
    let base_second = all[0].second_per_s;
    println!(
        "| store | replicas | first runs/s | second runs/s | steady runs/s | due → start p50 (ms) | p99 (ms) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for m in &all {
        println!(
            "| {} | {} | {:.2} ({:.2}×) | {:.2} ({:.2}×) | {:.2} ({:.2}×) | {:.0} | {:.0} |",
            m.store,
            m.replicas,
            m.first_per_s,
            m.first_per_s / base_first,
            m.second_per_s,
            m.second_per_s / base_second,
            m.per_s,
            m.per_s / base,
            percentile(&m.waits, 0.5),
            percentile(&m.waits, 0.99)
        );
    }
    println!("\n(×: ÷ the same column's PostgreSQL, 1 replica, in this run)");
    let out = std::env::var("NZSYNC_BENCH_OUT").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-fleet.json").to_owned()
    });
    let json = json!({
        "users": users, "latency_ms": latency,
        "configurations": all.iter().map(|m| json!({
            "store": m.store, "replicas": m.replicas,
            "first_runs_per_s": m.first_per_s, "second_runs_per_s": m.second_per_s,
            "steady_runs_per_s": m.per_s, "steady_ratio": m.per_s / base,
            "due_to_start_ms": {"p50": percentile(&m.waits, 0.5),
                                "p90": percentile(&m.waits, 0.9),
                                "p99": percentile(&m.waits, 0.99),
                                "max": m.waits.last().copied().unwrap_or(0.0)},
        })).collect::<Vec<_>>(),
    });
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    println!("\nJSON written to {out}");
}
