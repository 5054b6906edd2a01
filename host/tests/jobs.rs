//! Scheduled syncs through the job engine (`nzsync::server::jobs`), against the simulators, on a
//! real PostgreSQL (a throw-away cluster) and on SQLite: replicas racing for the same due
//! users, the per-user lease shared with the widget's browser runs, the per-org cap, the 429
//! back-off kept in the store, one job per slot, one record per run, and a replica cut off
//! mid-run whose job another replica finishes.
//!
//! A "replica" is one more `AppState` over the same database, with its own pool, queue handle
//! and worker, as another `nzsync serve` process would have.

#![allow(clippy::unwrap_used)] // A failed unwrap is how a test reports failure.

mod common;

use std::time::{Duration, Instant};

use nzsync::runner::Limits;
use nzsync::server::AppState;
use nzsync::server::jobs::{self, JobOutcome, JobQueue, JobWorker, SyncJob};
use nzsync::store::{RunSummary, Store};
use nzsync_sim::Seed;
use reqwest::{Method, StatusCode};
use serde_json::json;

use common::{Browser, PASSWORD2, TestStore, World, WorldOptions};

/// Both users sync every 15 minutes.
const INTERVAL_MS: i64 = 15 * 60_000;

/// An org on `store` whose admin (Domino `demo`) and second user (`user2`) are connected, each
/// with a 15-minute schedule; `schedule` holds more `[schedule]` keys. Returns the world and
/// the two users' ids (admin first).
async fn org(store: TestStore, schedule: &str) -> (World, [String; 2]) {
    org_with(store, schedule, "").await
}

/// [`org`], with more of `server.toml` (tables).
async fn org_with(store: TestStore, schedule: &str, extra_toml: &str) -> (World, [String; 2]) {
    let schedule = schedule.to_owned();
    let w = common::world_with(
        Seed::Demo,
        |sims| WorldOptions {
            allowed_servers: Some(vec![sims.domino_url.clone()]),
            schedule_keys: schedule,
            extra_toml: extra_toml.to_owned(),
            store: Some(store),
            ..WorldOptions::default()
        },
        |_| {},
    )
    .await;
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    let (s, e) = admin
        .call(
            Method::POST,
            "/api/users",
            Some(json!({ "user": "user2@example.com" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let mut u2 = Browser::new(&w);
    u2.sign_in("user2@example.com").await;
    admin.connect(&w).await;
    let (s, e) = u2
        .call(
            Method::POST,
            "/api/connect",
            Some(json!({ "server": w.sims.domino_url, "user": "user2", "password": PASSWORD2 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let settings = json!({ "contacts": true, "tasks": true, "events": "all",
        "direction": "two_way", "conflict": "crm_wins", "schedule_minutes": 15 });
    let mut ids = Vec::new();
    for b in [&admin, &u2] {
        let (s, e) = b
            .call(Method::PUT, "/api/settings", Some(settings.clone()))
            .await;
        assert_eq!(s, StatusCode::OK, "{e}");
        let (_, me) = b.call(Method::GET, "/api/me", None).await;
        ids.push(me["user_id"].as_str().unwrap().to_owned());
    }
    (w, [ids[0].clone(), ids[1].clone()])
}

/// Waits up to a minute until `user` holds a sync lease; else fails saying `what` did not
/// happen.
async fn until_leased(w: &World, user: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while w
        .sql_count(
            "SELECT COUNT(*) FROM srv_leases WHERE user_id = ?1",
            &[user],
        )
        .await
        == 0
    {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Leaves one schedule slot in the world: `due`'s next sync at `slot`; `idle` has none.
async fn only_due(w: &World, due: &str, idle: &str, slot: i64) {
    w.sql(
        "UPDATE srv_users SET next_sync = NULL WHERE user_id = ?1",
        &[idle],
    )
    .await;
    w.sql(
        &format!("UPDATE srv_users SET next_sync = {slot} WHERE user_id = ?1"),
        &[due],
    )
    .await;
}

/// Another replica over the world's database: its own store handle (pool or connection),
/// state and runner.
async fn replica(w: &World) -> AppState {
    let config = w.state.config().clone();
    let store = Store::connect(&config.store.location().unwrap())
        .await
        .unwrap();
    AppState::with_network(config, &[42; 32], store, Limits::default(), network(w)).unwrap()
}

fn network(w: &World) -> nzsync::domino_access::DominoNetwork {
    nzsync::domino_access::DominoNetwork {
        resolver: Some(w.resolver.clone()),
        local_address: Some(std::net::Ipv4Addr::LOCALHOST.into()),
    }
}

/// Makes every user due at slot `slot` (ms since the epoch: small numbers are long past).
async fn make_due(w: &World, slot: i64) {
    w.sql(&format!("UPDATE srv_users SET next_sync = {slot}"), &[])
        .await;
}

/// `user_id`'s runs, oldest first.
async fn runs(state: &AppState, user_id: &str) -> Vec<RunSummary> {
    let mut runs = state
        .store()
        .conn()
        .await
        .unwrap()
        .runs(&format!("srv:{user_id}"), 1000)
        .await
        .unwrap();
    runs.reverse();
    runs
}

/// Ticks every replica (queueing what is due) until each user has `want` runs.
async fn tick_until_runs(ticks: &[(&AppState, &JobQueue)], users: &[String], want: usize) {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        for (state, queue) in ticks {
            jobs::enqueue_due(state, queue).await.unwrap();
        }
        let mut done = true;
        for u in users {
            done &= runs(ticks[0].0, u).await.len() >= want;
        }
        if done {
            return;
        }
        assert!(Instant::now() < deadline, "the due syncs did not run");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// No two of `runs` overlap in time.
fn assert_one_at_a_time(mut runs: Vec<RunSummary>) {
    runs.sort_by_key(|r| r.started);
    for pair in runs.windows(2) {
        assert!(
            pair[0].finished <= pair[1].started,
            "two runs at once: {pair:?}"
        );
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

async fn next_sync(w: &World, user_id: &str) -> i64 {
    w.sql_count(
        "SELECT next_sync FROM srv_users WHERE user_id = ?1",
        &[user_id],
    )
    .await
}

async fn backoff_ms(w: &World, user_id: &str) -> i64 {
    w.sql_count(
        "SELECT COALESCE(backoff_ms, 0) FROM srv_users WHERE user_id = ?1",
        &[user_id],
    )
    .await
}

#[tokio::test]
async fn two_replicas_on_postgres_run_every_due_slot_once_and_never_two_at_once_per_user() {
    let (w, users) = org(TestStore::Postgres, "max_concurrent = 4\nmax_per_org = 4").await;
    // Runs that take a while, so that two at once would overlap.
    w.sims.domino().set_latency_ms(10);
    w.sims.zoho().set_latency_ms(10);
    let b = replica(&w).await;
    let (qa, qb) = (
        common::job_queue(&w.state).await,
        common::job_queue(&b).await,
    );
    let workers = [JobWorker::start(&qa, &w.state), JobWorker::start(&qb, &b)];
    let rounds = 3;
    for round in 1..=rounds {
        make_due(&w, round).await;
        // Both replicas queue the same due slots at the same moment, twice.
        let (x, y, z, v) = tokio::join!(
            jobs::enqueue_due(&w.state, &qa),
            jobs::enqueue_due(&b, &qb),
            jobs::enqueue_due(&b, &qb),
            jobs::enqueue_due(&w.state, &qa),
        );
        for due in [x, y, z, v] {
            assert!(due.unwrap() <= 2);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        tick_until_runs(&[(&w.state, &qa), (&b, &qb)], &users, round as usize).await;
        for u in &users {
            assert!(next_sync(&w, u).await > now_ms() + INTERVAL_MS / 2);
        }
    }
    for worker in workers {
        worker.shutdown(Duration::from_secs(60)).await;
    }
    // One job per user and slot, one run per job, and never two runs of a user at once.
    assert_eq!(w.job_count().await, 2 * rounds);
    for u in &users {
        let runs = runs(&w.state, u).await;
        assert_eq!(runs.len(), rounds as usize, "{runs:?}");
        assert!(runs.iter().all(|r| r.outcome != "failed"), "{runs:?}");
        assert_one_at_a_time(runs);
    }
}

async fn slot_is_queued_once_and_its_run_recorded_once(store: TestStore) {
    let (w, [admin, user2]) = org(store, "").await;
    only_due(&w, &admin, &user2, 7).await;
    let b = replica(&w).await;
    let (qa, qb) = (
        common::job_queue(&w.state).await,
        common::job_queue(&b).await,
    );
    let (x, y) = tokio::join!(jobs::enqueue_due(&w.state, &qa), jobs::enqueue_due(&b, &qb));
    assert_eq!((x.unwrap(), y.unwrap()), (1, 1));
    jobs::enqueue_due(&w.state, &qa).await.unwrap();
    assert_eq!(w.job_count().await, 1, "one job for the slot");

    let job = SyncJob {
        user_id: admin.clone(),
        slot: 7,
    };
    let first = jobs::run_job(&w.state, &qa, &job).await.unwrap();
    assert!(matches!(first, JobOutcome::Run { .. }), "{first:?}");
    // The same job again, on the other replica (as after a heartbeat timeout that came after
    // the run was recorded): nothing more happens.
    assert_eq!(
        jobs::run_job(&b, &qb, &job).await.unwrap(),
        JobOutcome::Skip
    );
    assert_eq!(runs(&w.state, &admin).await.len(), 1);
    assert!(next_sync(&w, &admin).await > now_ms() + INTERVAL_MS / 2);
    // The schedule moved on: nothing is due, nothing more is queued.
    assert_eq!(jobs::enqueue_due(&b, &qb).await.unwrap(), 0);
    assert_eq!(w.job_count().await, 1);
}

#[tokio::test]
async fn a_slot_is_queued_once_and_its_run_recorded_once_on_postgres() {
    slot_is_queued_once_and_its_run_recorded_once(TestStore::Postgres).await;
}

#[tokio::test]
async fn a_slot_is_queued_once_and_its_run_recorded_once_on_sqlite() {
    slot_is_queued_once_and_its_run_recorded_once(TestStore::Sqlite).await;
}

/// apalis delivers a job again while its first delivery still runs (that worker's heartbeat
/// was late, or the worker was restarted): the second delivery must leave the slot to the
/// running one, or that run, once recorded, leaves the schedule on a moved slot and the slot
/// runs twice.
async fn a_job_delivered_again_mid_run_leaves_the_slot_to_the_running_delivery(store: TestStore) {
    let (w, [admin, user2]) = org(store, "retry_secs = 1").await;
    only_due(&w, &admin, &user2, 41).await;
    // Slow upstreams: the first delivery is still running when the second comes.
    w.sims.domino().set_latency_ms(100);
    w.sims.zoho().set_latency_ms(100);
    let b = replica(&w).await;
    let (qa, qb) = (
        common::job_queue(&w.state).await,
        common::job_queue(&b).await,
    );
    let job = SyncJob {
        user_id: admin.clone(),
        slot: 41,
    };
    let first = {
        let (state, queue, job) = (w.state.clone(), qa.clone(), job.clone());
        tokio::spawn(async move { jobs::run_job(&state, &queue, &job).await })
    };
    until_leased(&w, &admin, "the first delivery did not start").await;
    let again = jobs::run_job(&b, &qb, &job).await.unwrap();
    assert_ne!(again, JobOutcome::Defer, "the running slot was moved");
    assert_eq!(next_sync(&w, &admin).await, 41);
    let outcome = first.await.unwrap().unwrap();
    assert!(matches!(outcome, JobOutcome::Run { .. }), "{outcome:?}");
    // The run moved the schedule on: the slot does not run again.
    w.sims.domino().set_latency_ms(0);
    w.sims.zoho().set_latency_ms(0);
    assert!(next_sync(&w, &admin).await > now_ms() + INTERVAL_MS / 2);
    let worker = JobWorker::start(&qb, &b);
    let deadline = Instant::now() + Duration::from_secs(60);
    while w
        .jobs_sql_count(
            &format!(
                "SELECT COUNT(*) FROM {} WHERE status <> 'Done'",
                if w.postgres.is_some() {
                    "apalis.jobs"
                } else {
                    "Jobs"
                }
            ),
            &[],
        )
        .await
        > 0
    {
        assert!(Instant::now() < deadline, "the queued look did not run");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.shutdown(Duration::from_secs(60)).await;
    assert_eq!(runs(&w.state, &admin).await.len(), 1);
    assert!(next_sync(&w, &admin).await > now_ms() + INTERVAL_MS / 2);
}

#[tokio::test]
async fn a_job_delivered_again_mid_run_leaves_the_slot_to_the_running_delivery_on_postgres() {
    a_job_delivered_again_mid_run_leaves_the_slot_to_the_running_delivery(TestStore::Postgres)
        .await;
}

#[tokio::test]
async fn a_job_delivered_again_mid_run_leaves_the_slot_to_the_running_delivery_on_sqlite() {
    a_job_delivered_again_mid_run_leaves_the_slot_to_the_running_delivery(TestStore::Sqlite).await;
}

/// A run whose lease is taken from it mid-way (it stalled past `lease_secs` and another replica
/// started the slot; here the lease row is handed to another token) stops at its next renewal:
/// its requests in flight are dropped and no upstream request leaves after that, nothing is recorded, the slot stays due, and a look
/// at the slot comes `retry_secs` later and runs it once the lease is free.
async fn a_run_that_loses_its_lease_stops_at_once(store: TestStore) {
    let (w, [admin, user2]) = org(store, "lease_secs = 2\nretry_secs = 1").await;
    only_due(&w, &admin, &user2, 43).await;
    // Slow upstreams: the run outlasts several renewals (every 0.5 s).
    w.sims.domino().set_latency_ms(150);
    w.sims.zoho().set_latency_ms(150);
    let queue = common::job_queue(&w.state).await;
    let job = SyncJob {
        user_id: admin.clone(),
        slot: 43,
    };
    let run = {
        let (state, queue, job) = (w.state.clone(), queue.clone(), job.clone());
        tokio::spawn(async move { jobs::run_job(&state, &queue, &job).await })
    };
    let calls = || w.sims.zoho().calls().len() + w.sims.domino().calls().len();
    until_leased(&w, &admin, "the run did not take its lease").await;
    let leased = calls();
    let deadline = Instant::now() + Duration::from_secs(60);
    while calls() < leased + 3 {
        assert!(Instant::now() < deadline, "the run sent nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        w.sql(
            "UPDATE srv_leases SET token = 'another-replica:slot:43' WHERE user_id = ?1",
            &[&admin],
        )
        .await,
        1
    );
    let taken = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the run went on without its lease")
        .unwrap()
        .unwrap();
    assert!(
        matches!(&outcome, JobOutcome::Lost { reason } if reason.contains("another sync took the lease")),
        "{outcome:?}"
    );
    assert!(
        taken.elapsed() < Duration::from_secs(5),
        "stopped {:?} after the lease went",
        taken.elapsed()
    );
    // A request sent before the stop may still be logged (the simulator logs it once its
    // latency has passed); nothing is sent after.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let sent = calls();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(calls(), sent, "requests left after the run stopped");
    assert!(
        runs(&w.state, &admin).await.is_empty(),
        "a cut-off run was recorded"
    );
    assert_eq!(next_sync(&w, &admin).await, 43, "the slot moved");
    assert_eq!(
        w.sql_count(
            "SELECT COUNT(*) FROM srv_leases WHERE user_id = ?1 AND token = 'another-replica:slot:43'",
            &[&admin],
        )
        .await,
        1,
        "the other run's lease was touched"
    );
    // The other run ends: the queued look runs the slot, once.
    w.sql("DELETE FROM srv_leases WHERE user_id = ?1", &[&admin])
        .await;
    w.sims.domino().set_latency_ms(0);
    w.sims.zoho().set_latency_ms(0);
    let worker = JobWorker::start(&queue, &w.state);
    let deadline = Instant::now() + Duration::from_secs(60);
    while runs(&w.state, &admin).await.is_empty() {
        assert!(Instant::now() < deadline, "the slot was not run again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.shutdown(Duration::from_secs(60)).await;
    assert_eq!(runs(&w.state, &admin).await.len(), 1);
    assert!(next_sync(&w, &admin).await > now_ms() + INTERVAL_MS / 2);
}

#[tokio::test]
async fn a_run_that_loses_its_lease_stops_at_once_on_postgres() {
    a_run_that_loses_its_lease_stops_at_once(TestStore::Postgres).await;
}

#[tokio::test]
async fn a_run_that_loses_its_lease_stops_at_once_on_sqlite() {
    a_run_that_loses_its_lease_stops_at_once(TestStore::Sqlite).await;
}

async fn browser_runs_and_the_org_cap_hold_back_scheduled_runs(store: TestStore) {
    let (w, [admin, user2]) = org(store, "max_per_org = 1\nretry_secs = 60").await;
    let qa = common::job_queue(&w.state).await;
    let mut u2 = Browser::new(&w);
    u2.sign_in("user2@example.com").await;
    // user2 syncs in the browser: the lease is theirs.
    let (s, lease) = u2.call(Method::POST, "/api/sync/lease", None).await;
    assert_eq!(s, StatusCode::OK, "{lease}");
    make_due(&w, 5).await;
    let before = now_ms();

    // user2's scheduled run waits for the browser's run: the slot moves a retry on.
    let job2 = SyncJob {
        user_id: user2.clone(),
        slot: 5,
    };
    assert_eq!(
        jobs::run_job(&w.state, &qa, &job2).await.unwrap(),
        JobOutcome::Defer
    );
    // The admin's too: the org runs one sync at a time, and user2's browser run is one.
    let job1 = SyncJob {
        user_id: admin.clone(),
        slot: 5,
    };
    assert_eq!(
        jobs::run_job(&w.state, &qa, &job1).await.unwrap(),
        JobOutcome::Defer
    );
    for u in [&admin, &user2] {
        assert!(runs(&w.state, u).await.is_empty());
        let next = next_sync(&w, u).await;
        assert!(
            next >= before + 60_000 && next <= now_ms() + 60_000,
            "{next}"
        );
    }
    // The deferred slot is gone: the old job finds nothing to do.
    assert_eq!(
        jobs::run_job(&w.state, &qa, &job1).await.unwrap(),
        JobOutcome::Skip
    );

    // The browser's run ends: the admin's next slot runs, and so does user2's after it.
    let token = lease["lease"].as_str().unwrap().to_owned();
    let (s, e) = u2
        .send(
            Method::DELETE,
            "/api/sync/lease",
            None,
            true,
            &[("x-sync-lease", token.as_str())],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    for (u, slot) in [(&admin, 6), (&user2, 6)] {
        w.sql(
            &format!("UPDATE srv_users SET next_sync = {slot} WHERE user_id = ?1"),
            &[u],
        )
        .await;
        let job = SyncJob {
            user_id: u.clone(),
            slot,
        };
        let outcome = jobs::run_job(&w.state, &qa, &job).await.unwrap();
        assert!(matches!(outcome, JobOutcome::Run { .. }), "{outcome:?}");
    }
}

#[tokio::test]
async fn browser_runs_and_the_org_cap_hold_back_scheduled_runs_on_postgres() {
    browser_runs_and_the_org_cap_hold_back_scheduled_runs(TestStore::Postgres).await;
}

#[tokio::test]
async fn browser_runs_and_the_org_cap_hold_back_scheduled_runs_on_sqlite() {
    browser_runs_and_the_org_cap_hold_back_scheduled_runs(TestStore::Sqlite).await;
}

#[tokio::test]
async fn two_replicas_on_postgres_keep_an_org_at_its_cap() {
    let (w, users) = org(TestStore::Postgres, "max_per_org = 1\nretry_secs = 1").await;
    w.sims.domino().set_latency_ms(20);
    w.sims.zoho().set_latency_ms(20);
    let b = replica(&w).await;
    let (qa, qb) = (
        common::job_queue(&w.state).await,
        common::job_queue(&b).await,
    );
    let workers = [JobWorker::start(&qa, &w.state), JobWorker::start(&qb, &b)];
    make_due(&w, 3).await;
    tick_until_runs(&[(&w.state, &qa), (&b, &qb)], &users, 1).await;
    for worker in workers {
        worker.shutdown(Duration::from_secs(60)).await;
    }
    let mut all = Vec::new();
    for u in &users {
        let runs = runs(&w.state, u).await;
        assert_eq!(runs.len(), 1, "{runs:?}");
        all.extend(runs);
    }
    // The org's two syncs ran one after the other.
    assert_one_at_a_time(all);
}

async fn rate_limited_runs_back_off_in_the_store(store: TestStore) {
    let (w, [admin, user2]) = org(store, "").await;
    let qa = common::job_queue(&w.state).await;
    w.sql(
        "UPDATE srv_users SET next_sync = NULL WHERE user_id = ?1",
        &[&user2],
    )
    .await;
    let faults = format!("{}/_sim/faults", w.sims.zoho_url);
    let http = common::client();
    let r = http
        .post(&faults)
        .json(&json!({ "rules": [{ "kind": "status", "status": 429, "path_prefix": "/crm/" }] }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    // A run that meets 429 waits twice the interval, and the store says so.
    make_due(&w, 11).await;
    let job = SyncJob {
        user_id: admin.clone(),
        slot: 11,
    };
    let before = now_ms();
    assert!(matches!(
        jobs::run_job(&w.state, &qa, &job).await.unwrap(),
        JobOutcome::Run { .. }
    ));
    assert_eq!(backoff_ms(&w, &admin).await, 2 * INTERVAL_MS);
    assert!(next_sync(&w, &admin).await >= before + 2 * INTERVAL_MS);

    // Another replica, which never saw that run, doubles it again.
    let b = replica(&w).await;
    let qb = common::job_queue(&b).await;
    make_due(&w, 12).await;
    let job = SyncJob {
        user_id: admin.clone(),
        slot: 12,
    };
    assert!(matches!(
        jobs::run_job(&b, &qb, &job).await.unwrap(),
        JobOutcome::Run { .. }
    ));
    assert_eq!(backoff_ms(&w, &admin).await, 4 * INTERVAL_MS);

    // A run that gets through ends the back-off.
    let r = http.delete(&faults).send().await.unwrap();
    assert!(r.status().is_success());
    make_due(&w, 13).await;
    let job = SyncJob {
        user_id: admin.clone(),
        slot: 13,
    };
    let before = now_ms();
    assert!(matches!(
        jobs::run_job(&w.state, &qa, &job).await.unwrap(),
        JobOutcome::Run { .. }
    ));
    assert_eq!(backoff_ms(&w, &admin).await, 0);
    let next = next_sync(&w, &admin).await;
    assert!(next >= before + INTERVAL_MS && next <= now_ms() + INTERVAL_MS);
    let runs = runs(&w.state, &admin).await;
    assert_eq!(runs.len(), 3);
    assert_ne!(runs[2].outcome, "failed");
}

#[tokio::test]
async fn rate_limited_runs_back_off_in_the_store_on_postgres() {
    rate_limited_runs_back_off_in_the_store(TestStore::Postgres).await;
}

#[tokio::test]
async fn rate_limited_runs_back_off_in_the_store_on_sqlite() {
    rate_limited_runs_back_off_in_the_store(TestStore::Sqlite).await;
}

/// A replica on a runtime of its own, running a job worker until it is cut off: its runtime
/// is dropped with everything on it (worker, heartbeats, lease renewal, the sync itself), as a
/// SIGKILL would end the process.
struct DoomedReplica {
    worker: String,
    kill: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl DoomedReplica {
    fn start(w: &World) -> Self {
        let config = w.state.config().clone();
        let network = network(w);
        let (named, name) = std::sync::mpsc::channel();
        let (kill, killed) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let worker = rt.block_on(async move {
                let store = Store::connect(&config.store.location().unwrap())
                    .await
                    .unwrap();
                let state =
                    AppState::with_network(config, &[42; 32], store, Limits::default(), network)
                        .unwrap();
                let queue = common::job_queue(&state).await;
                let worker = JobWorker::start(&queue, &state);
                named.send(worker.name().to_owned()).unwrap();
                let _ = killed.await;
                worker
            });
            // Every task goes with the runtime (their connections close, as a dead process's
            // would); only then the worker's handle, whose drop would otherwise ask it to
            // stop gracefully.
            rt.shutdown_background();
            drop(worker);
        });
        Self {
            worker: name.recv().unwrap(),
            kill,
            thread,
        }
    }

    fn kill(self) {
        let _ = self.kill.send(());
        self.thread.join().unwrap();
    }
}

#[tokio::test]
async fn a_job_cut_off_with_its_replica_is_finished_by_another_on_postgres() {
    let (w, [admin, user2]) = org(
        TestStore::Postgres,
        "heartbeat_secs = 1\nlease_secs = 3\nretry_secs = 1",
    )
    .await;
    w.sql(
        "UPDATE srv_users SET next_sync = NULL WHERE user_id = ?1",
        &[&user2],
    )
    .await;
    // Slow upstreams: the run is still going when its replica dies.
    w.sims.domino().set_latency_ms(150);
    w.sims.zoho().set_latency_ms(150);
    let doomed = DoomedReplica::start(&w);
    let qa = common::job_queue(&w.state).await;
    make_due(&w, 21).await;
    jobs::enqueue_due(&w.state, &qa).await.unwrap();
    let key = format!("sync:{admin}:21");
    // The doomed replica takes the job and the lease, and the sync starts writing.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let taken = w
            .sql_count(
                "SELECT COUNT(*) FROM apalis.jobs WHERE idempotency_key = ?1 \
                 AND status = 'Running' AND lock_by LIKE ?2",
                &[&key, &format!("{}%", doomed.worker)],
            )
            .await;
        let leased = w
            .sql_count(
                "SELECT COUNT(*) FROM srv_leases WHERE user_id = ?1",
                &[&admin],
            )
            .await;
        if taken == 1 && leased == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the doomed replica took no job");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    doomed.kill();
    assert!(
        runs(&w.state, &admin).await.is_empty(),
        "the run finished before its replica was cut off: slow the simulators more"
    );

    // This replica's worker finds the dead worker's job after the heartbeat timeout, and the
    // slot runs once the dead run's lease has lapsed.
    w.sims.domino().set_latency_ms(0);
    w.sims.zoho().set_latency_ms(0);
    let worker = JobWorker::start(&qa, &w.state);
    tick_until_runs(&[(&w.state, &qa)], std::slice::from_ref(&admin), 1).await;
    let name = worker.name().to_owned();
    worker.shutdown(Duration::from_secs(60)).await;
    assert_eq!(
        w.sql_count(
            "SELECT COUNT(*) FROM apalis.jobs WHERE idempotency_key = ?1 \
             AND status = 'Done' AND lock_by LIKE ?2",
            &[&key, &format!("{name}%")],
        )
        .await,
        1,
        "the dead replica's job was finished here"
    );
    let history = runs(&w.state, &admin).await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_ne!(history[0].outcome, "failed", "{history:?}");
    assert!(next_sync(&w, &admin).await > now_ms() + INTERVAL_MS / 2);

    // The rerun converged: nothing is left to do, nothing was made twice.
    let crm_before = w.sims.zoho().dump();
    let notes_before = w.sims.domino().dump();
    let mut b = Browser::new(&w);
    b.sign_in("demo@example.com").await;
    let (s, r) = b.call(Method::POST, "/api/sync/run", Some(json!({}))).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    for m in r["report"]["modules"].as_array().unwrap() {
        let c = &m["counts"];
        assert_eq!(
            (&c["created"], &c["updated"], &c["deleted"]),
            (&json!(0), &json!(0), &json!(0)),
            "{m}"
        );
    }
    assert_eq!(w.sims.zoho().dump()["modules"], crm_before["modules"]);
    assert_eq!(w.sims.domino().dump(), notes_before);
}

#[tokio::test]
async fn healthz_says_alive_and_readyz_checks_the_store_and_the_job_queue() {
    let w = common::world_with(
        Seed::Empty,
        |sims| WorldOptions {
            allowed_servers: Some(vec![sims.domino_url.clone()]),
            schedule_keys: "enabled = true".into(),
            store: Some(TestStore::Postgres),
            ..WorldOptions::default()
        },
        |_| {},
    )
    .await;
    let http = common::client();
    let get = |path: &str| {
        let url = format!("{}{path}", w.base);
        let http = http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status(), r.json::<serde_json::Value>().await.unwrap())
        }
    };
    assert_eq!(
        get("/healthz").await,
        (StatusCode::OK, json!({ "status": "alive" }))
    );
    // No scheduled syncs on this replica yet: ready, the job queue "off".
    assert_eq!(
        get("/readyz").await,
        (
            StatusCode::OK,
            json!({ "status": "ready", "store": "ok", "jobs": "off" })
        )
    );
    let scheduling = jobs::spawn(&w.state).await.unwrap().unwrap();
    assert_eq!(
        get("/readyz").await,
        (
            StatusCode::OK,
            json!({ "status": "ready", "store": "ok", "jobs": "ok" })
        )
    );
    // The job queue's tables gone: not ready.
    w.sql("DROP SCHEMA apalis CASCADE", &[]).await;
    assert_eq!(
        get("/readyz").await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "unavailable", "store": "ok", "jobs": "unavailable" })
        )
    );
    assert_eq!(get("/healthz").await.0, StatusCode::OK);
    // No `[metrics]` token: `/metrics` is off.
    let metrics = http
        .get(format!("{}/metrics", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), StatusCode::NOT_FOUND);
    scheduling.shutdown(Duration::from_secs(10)).await;
}

#[tokio::test]
async fn a_stopped_worker_lets_its_running_sync_finish_and_takes_no_more_jobs_on_sqlite() {
    let (w, [admin, user2]) = org(TestStore::Sqlite, "").await;
    w.sql(
        "UPDATE srv_users SET next_sync = NULL WHERE user_id = ?1",
        &[&user2],
    )
    .await;
    w.sims.domino().set_latency_ms(50);
    w.sims.zoho().set_latency_ms(50);
    let queue = common::job_queue(&w.state).await;
    w.sql(
        "UPDATE srv_users SET next_sync = 31 WHERE user_id = ?1",
        &[&admin],
    )
    .await;
    jobs::enqueue_due(&w.state, &queue).await.unwrap();
    let worker = JobWorker::start(&queue, &w.state);
    until_leased(&w, &admin, "the job did not start").await;
    // Stopped mid-run: the run goes on to its end and is recorded.
    worker.shutdown(Duration::from_secs(120)).await;
    let history = runs(&w.state, &admin).await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_ne!(history[0].outcome, "failed");
    assert_eq!(
        w.jobs_sql_count("SELECT COUNT(*) FROM Jobs WHERE status = 'Done'", &[])
            .await,
        1
    );
    // No job is taken any more.
    w.sql(
        "UPDATE srv_users SET next_sync = 32 WHERE user_id = ?1",
        &[&user2],
    )
    .await;
    jobs::enqueue_due(&w.state, &queue).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        w.jobs_sql_count("SELECT COUNT(*) FROM Jobs WHERE status = 'Pending'", &[])
            .await,
        1
    );
    assert!(runs(&w.state, &user2).await.is_empty());
}

/// The operator's `/metrics` token in [`metrics_count_runs_jobs_and_requests_for_the_operators_token_only`].
const METRICS_TOKEN: &str = "scrape-token-0123456789";

/// The sum of the samples of `name` whose labels include `labels`, in Prometheus's text format.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (n, rest) = series.split_once('{').unwrap_or((series, "}"));
            let want = labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            (n == name && want).then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

#[tokio::test]
async fn metrics_count_runs_jobs_and_requests_for_the_operators_token_only() {
    let toml = format!("[metrics]\ntoken = \"{METRICS_TOKEN}\"\n");
    let (w, [admin, user2]) = org_with(TestStore::Sqlite, "", &toml).await;
    let http = common::client();
    let scrape = |auth: Option<String>| {
        let mut r = http.get(format!("{}/metrics", w.base));
        if let Some(a) = auth {
            r = r.header("Authorization", a);
        }
        async move {
            let r = r.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    // Only the operator's token reads them.
    for auth in [
        None,
        Some("Bearer scrape-token-012345678".into()),
        Some(METRICS_TOKEN.into()),
    ] {
        let (status, body) = scrape(auth.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(!body.contains("nzsync_"), "{auth:?}: {body}");
    }
    let token = Some(format!("Bearer {METRICS_TOKEN}"));
    let (status, before) = scrape(token.clone()).await;
    assert_eq!(status, StatusCode::OK);

    // A scheduled run (a job), a manual run and the start of a browser run.
    only_due(&w, &admin, &user2, 7).await;
    let queue = common::job_queue(&w.state).await;
    w.state.set_job_queue(&queue);
    assert_eq!(jobs::enqueue_due(&w.state, &queue).await.unwrap(), 1);
    let (_, queued) = scrape(token.clone()).await;
    assert_eq!(
        sample(&queued, "nzsync_job_queue_depth", &[]),
        1.0,
        "{queued}"
    );
    let job = SyncJob {
        user_id: admin.clone(),
        slot: 7,
    };
    let outcome = jobs::run_job(&w.state, &queue, &job).await.unwrap();
    assert!(matches!(outcome, JobOutcome::Run { .. }), "{outcome:?}");
    let mut b = Browser::new(&w);
    b.sign_in("demo@example.com").await;
    let (s, e) = b.call(Method::POST, "/api/sync/run", Some(json!({}))).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, e) = b.call(Method::POST, "/api/sync/lease", None).await;
    assert_eq!(s, StatusCode::OK, "{e}");

    let (status, after) = scrape(token).await;
    assert_eq!(status, StatusCode::OK);
    // Tests in this process run beside each other and share the recorder: at least ours.
    let grew = |name: &str, labels: &[(&str, &str)]| {
        sample(&after, name, labels) - sample(&before, name, labels)
    };
    for kind in ["scheduled", "manual", "browser"] {
        assert!(
            grew("nzsync_runs_started_total", &[("kind", kind)]) >= 1.0,
            "{kind}: {after}"
        );
    }
    for kind in ["scheduled", "manual"] {
        let done = [("kind", kind), ("outcome", "completed")];
        assert!(
            grew("nzsync_runs_finished_total", &done) >= 1.0,
            "{kind}: {after}"
        );
        let count = [("kind", kind)];
        assert!(
            grew("nzsync_run_duration_seconds_count", &count) >= 1.0,
            "{after}"
        );
    }
    assert!(
        grew("nzsync_jobs_total", &[("outcome", "run")]) >= 1.0,
        "{after}"
    );
    for side in ["notes", "crm"] {
        let calls = grew("nzsync_upstream_requests_total", &[("side", side)]);
        assert!(
            calls >= 2.0,
            "{side}: {calls} requests in two runs\n{after}"
        );
    }
    // Nothing in them names a user.
    for id in [&admin, &user2] {
        assert!(!after.contains(id.as_str()), "{id} in the metrics");
    }
    assert!(!after.contains("demo@example.com"));
}
