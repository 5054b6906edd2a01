//! A fleet end to end (issue #16): three real `nzsync serve` processes on one throw-away
//! PostgreSQL, the simulators on loopback, 300 users of two orgs (sharing names and e-mails,
//! and contacts' names and e-mails) with schedules, and short `[schedule]` intervals.
//!
//! - A session signed in through replica a's OAuth flow connects on b, saves its settings on c,
//!   syncs on b, sees that run in its history on c, and signing out on c ends it on a.
//! - Round 1: every user is due; each user's first sync runs once.
//! - Round 2: some users change records on both sides first. A few of them, whose mail files
//!   answer slowly and hold back the answers to writes, are due first; the replica running one
//!   of those runs whose write has been carried out but not answered is SIGKILLed, and
//!   everybody else falls due. The dead replica's jobs are taken by the two
//!   others after the heartbeat timeout, and every user's round-2 run is recorded once.
//! - Round 3: nothing changed; every run finds nothing to do, and the simulators' dumps hold
//!   each user's records exactly once on both sides.
//!
//! Throughout: every due run ran exactly once (never more, never lost), no user's runs ever
//! overlapped, and no org ever held more sync leases than `max_per_org` (sampled from the
//! store all along, and checked on the run history). At the end the two replicas left stop
//! gracefully on SIGTERM.
//!
//! Every wait is on a condition, with a generous timeout; nothing sleeps for correctness.

#![allow(clippy::unwrap_used)] // A failed unwrap is how a test reports failure.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::fleet::{
    DEMO_EMAIL, Fleet, FleetOptions, INTERVAL_MS, PEOPLE, ScheduleKeys, now_ms, settings,
};
use common::{Browser, PASSWORD, TestStore};
use nzsync::store::RunSummary;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Users besides the first org's admin.
const USERS: usize = 300;

/// Whether users sync to-dos besides contacts.
const TODOS: bool = false;

/// Orgs the users are spread over.
const ORGS: usize = 2;

/// `[schedule] max_per_org`: with three replicas of `max_concurrent` 4, twelve runs could go at
/// once, so the cap of 3 per org (6 for both) is what holds them back.
const CAP: u32 = 3;

const SCHEDULE: ScheduleKeys = ScheduleKeys {
    max_concurrent: 4,
    max_per_org: CAP,
    tick_secs: 1,
    heartbeat_secs: 1,
    lease_secs: 4,
    retry_secs: 1,
};

/// How long a round may take at most: generous, for a 2-core machine shared with builds (a
/// round takes 20 to 100 s there).
const ROUND_TIMEOUT: Duration = Duration::from_secs(400);

/// In round 2, the users with `index % 10 == 3` change records on both sides.
fn changed_in_round_2(i: usize) -> bool {
    i % 10 == 3
}

/// In round 2, how long the slow users' mail files take to answer a read, and how long they
/// hold back the answer to a write they have carried out: the replica is killed inside that
/// window, after the write and before its run learns of it.
const SLOW_READ_MS: u64 = 200;
const HELD_ANSWER_MS: u64 = 5_000;

/// How many of round 2's changed users have a slow mail file (their slots come first).
const SLOW_USERS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_on_postgres_run_300_users_schedules_once_each_through_a_sigkill() {
    let whole = Instant::now();
    let mut fleet = Fleet::start(FleetOptions {
        users: USERS,
        orgs: ORGS,
        store: TestStore::Postgres,
        schedule: SCHEDULE,
        todos: TODOS,
        bin: env!("CARGO_BIN_EXE_nzsync").into(),
    })
    .await;
    let pg = fleet.pg().unwrap().clone();
    let orgs: BTreeSet<&String> = fleet.users.iter().map(|u| &u.org).collect();
    assert_eq!(orgs.len(), ORGS);

    // Three replicas, and the job worker of each (its name in apalis's tables).
    let mut workers = Vec::new();
    for name in ["a", "b", "c"] {
        let known = worker_ids(&pg).await;
        fleet.spawn_replica(name).await;
        workers.push(new_worker(&pg, &known).await);
    }
    eprintln!("fleet: set up in {:?}", whole.elapsed());

    // The per-org cap, sampled from the leases all along.
    let sampler = LeaseSampler::start(pg.clone());

    // A session signed in on a works on b and c.
    session_crosses_replicas(&fleet).await;
    let demo = format!("srv:{}", fleet.demo_id);

    // Round 1: every user's first sync.
    let (t, began) = (Instant::now(), now_ms());
    fleet.make_due(10, &[]).await;
    let runs = fleet.wait_for_runs(1, 2, ROUND_TIMEOUT).await;
    print_spread(&runs, &demo, 1, began);
    queue_drained(&pg).await;
    assert_round(&fleet, &runs, 1).await;
    eprintln!("fleet: round 1 in {:?}", t.elapsed());

    // Round 2: changes on both sides for some users, then a replica dies mid-run.
    let changed: Vec<usize> = (0..USERS).filter(|&i| changed_in_round_2(i)).collect();
    for &i in &changed {
        let token = fleet.token(&fleet.users[i]).await;
        let n = PEOPLE.len();
        fleet.notes_add_contact(i, PEOPLE[(i + 5) % n]).await;
        fleet.crm_add_contact(i, &token, PEOPLE[(i + 7) % n]).await;
        // A contact first made in the CRM, synced to Notes in round 1.
        fleet
            .crm_delete_contact(i, &token, PEOPLE[(i + 3) % n].2)
            .await;
    }
    let slow: Vec<usize> = changed.iter().copied().take(SLOW_USERS).collect();
    fleet.slow_mail_files(&slow, SLOW_READ_MS, HELD_ANSWER_MS);
    // The slow users first, so that their runs are under way at once; everybody else as soon
    // as the replica is dead (each user is due once in the round either way).
    let (t, began) = (Instant::now(), now_ms());
    fleet.make_due_only(20, &slow).await;
    let (victim, cut) = kill_mid_run(&mut fleet, &pg, &workers, &slow, 2).await;
    fleet.make_due(20, &slow).await;
    fleet.slow_mail_files(&[], 0, 0);
    eprintln!(
        "fleet: replica {} SIGKILLed {:?} into round 2, running {} jobs",
        fleet.replicas[victim].name,
        t.elapsed(),
        cut.len()
    );
    let runs = fleet.wait_for_runs(2, 3, ROUND_TIMEOUT).await;
    print_spread(&runs, &demo, 2, began);
    // Its jobs were finished by the others, after the heartbeat timeout.
    let deadline = Instant::now() + ROUND_TIMEOUT;
    loop {
        let rows: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT status, lock_by FROM apalis.jobs WHERE id = ANY($1)")
                .bind(cut.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>())
                .fetch_all(&pg)
                .await
                .unwrap();
        let done = rows.iter().all(|(status, by)| {
            status == "Done"
                && by
                    .as_deref()
                    .is_some_and(|b| !b.starts_with(&workers[victim]))
        });
        if done && rows.len() == cut.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the dead replica's jobs were not finished elsewhere: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    queue_drained(&pg).await;
    assert_round(&fleet, &runs, 2).await;
    eprintln!("fleet: round 2 in {:?}", t.elapsed());

    // Round 3: nothing changed since round 2; every run finds nothing to do.
    let (t, began) = (Instant::now(), now_ms());
    fleet.make_due(30, &[]).await;
    let runs = fleet.wait_for_runs(3, 4, ROUND_TIMEOUT).await;
    print_spread(&runs, &demo, 3, began);
    queue_drained(&pg).await;
    assert_round(&fleet, &runs, 3).await;
    let mut db = fleet.store.conn().await.unwrap();
    for (profile, history) in &runs {
        let last = history.last().unwrap();
        let report = db.run_report(profile, last.id).await.unwrap().unwrap();
        for m in &report.modules {
            let c = &m.counts;
            assert_eq!(
                (c.created, c.updated, c.deleted, c.errors),
                (0, 0, 0, 0),
                "{profile}'s round-3 run still changed something: {m:?}"
            );
        }
    }
    drop(db);
    fleet.assert_converged();
    eprintln!("fleet: round 3 in {:?}", t.elapsed());

    // The whole history: exactly one run per user and round (demo also ran once by hand), no
    // two runs of a user at once, an org never above its cap (and at it: the cap did hold
    // runs back).
    let runs = fleet.runs().await;
    for (profile, history) in &runs {
        let want = if *profile == demo { 4 } else { 3 };
        assert_eq!(history.len(), want, "{profile}: {history:?}");
        assert_one_at_a_time(profile, history);
    }
    let org_of: BTreeMap<String, String> = fleet
        .users
        .iter()
        .map(|u| (u.profile(), u.org.clone()))
        .chain([(demo.clone(), common::fleet::SIM_ORG.to_owned())])
        .collect();
    let mut by_org: BTreeMap<&String, Vec<&RunSummary>> = BTreeMap::new();
    for (profile, history) in &runs {
        by_org.entry(&org_of[profile]).or_default().extend(history);
    }
    for (org, history) in by_org {
        let most = most_at_once(&history);
        assert!(
            most <= CAP as usize,
            "org {org} ran {most} syncs at once (cap {CAP})"
        );
        assert_eq!(
            most, CAP as usize,
            "org {org} never reached its cap: the test did not load it"
        );
    }
    let sampled = sampler.stop().await;
    assert!(
        !sampled.is_empty() && sampled.values().all(|&n| n <= i64::from(CAP)),
        "leases held at once per org, at most: {sampled:?} (cap {CAP})"
    );
    let failed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM apalis.jobs WHERE status NOT IN ('Done')")
            .fetch_one(&pg)
            .await
            .unwrap();
    assert_eq!(failed, 0, "jobs that did not end Done");

    // The replicas left stop gracefully.
    for k in 0..fleet.replicas.len() {
        if k == victim {
            continue;
        }
        let status = fleet.replicas[k]
            .terminate(Duration::from_secs(60))
            .await
            .expect("a replica did not stop within a minute of SIGTERM");
        assert!(status.success(), "replica stopped with {status}");
    }
    eprintln!("fleet: done in {:?}", whole.elapsed());
}

/// Signs `demo` in through replica a's OAuth flow, then uses the session on b and c: Connect
/// on b, settings (with a schedule) on c, a sync on b, its run in the history on c; signing out
/// on c ends the session on a too.
async fn session_crosses_replicas(fleet: &Fleet) {
    let seen = Arc::default();
    let [a, b, c] = [0, 1, 2].map(|k| fleet.replicas[k].base.clone());
    let mut on_a = Browser::at(&a, Arc::clone(&seen));
    on_a.sign_in(DEMO_EMAIL).await;
    let on = |base: &str| {
        let mut other = Browser::at(base, Arc::clone(&seen));
        other.cookies = on_a.cookies.clone();
        other.csrf = on_a.csrf.clone();
        other
    };
    let (on_b, on_c) = (on(&b), on(&c));
    for browser in [&on_b, &on_c] {
        let (s, me) = browser.call(Method::GET, "/api/me", None).await;
        assert_eq!(s, StatusCode::OK, "{me}");
        assert_eq!(me["user_id"], fleet.demo_id.as_str());
    }
    let (s, e) = on_b
        .call(
            Method::POST,
            "/api/connect",
            Some(json!({ "server": fleet.sims.domino_url, "user": "demo", "password": PASSWORD })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let settings: Value = serde_json::from_str(&settings(TODOS)).unwrap();
    let (s, e) = on_c
        .call(Method::PUT, "/api/settings", Some(settings))
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, run) = on_b
        .call(Method::POST, "/api/sync/run", Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    assert_eq!(run["report"]["outcome"], "completed", "{run}");
    let (s, runs) = on_c.call(Method::GET, "/api/runs", None).await;
    assert_eq!(s, StatusCode::OK, "{runs}");
    let ids: Vec<&Value> = runs
        .as_array()
        .or_else(|| runs["runs"].as_array())
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&run["id"]], "{runs}");
    let (s, e) = on_c.call(Method::POST, "/auth/logout", None).await;
    assert!(s.is_success() || s.is_redirection(), "{s} {e}");
    let (s, _) = on_a.call(Method::GET, "/api/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

/// The ids of apalis's workers.
async fn worker_ids(pg: &sqlx::PgPool) -> BTreeSet<String> {
    sqlx::query_scalar("SELECT id FROM apalis.workers")
        .fetch_all(pg)
        .await
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// The name of the worker that registers next (not in `known`), without its start number:
/// what every job it runs has in `lock_by`.
async fn new_worker(pg: &sqlx::PgPool, known: &BTreeSet<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(id) = worker_ids(pg).await.difference(known).next() {
            let (name, _) = id.rsplit_once('-').unwrap();
            return format!("{name}-");
        }
        assert!(Instant::now() < deadline, "no job worker registered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until a replica runs the job of a slow user whose run has had a write carried out in
/// their mail file (the contact added in the CRM is there, or the one deleted in the CRM is
/// gone) and is not recorded yet, then SIGKILLs that replica: the write's answer is still held
/// back, so the run dies between the write and learning of it. Returns the replica and the
/// jobs it was running (id, key), at least one of them cut off mid-run.
async fn kill_mid_run(
    fleet: &mut Fleet,
    pg: &sqlx::PgPool,
    workers: &[String],
    slow: &[usize],
    round: usize,
) -> (usize, Vec<(String, String)>) {
    let deadline = Instant::now() + ROUND_TIMEOUT;
    let victim = loop {
        let running: Vec<(String, String)> = sqlx::query_as(
            "SELECT lock_by, idempotency_key FROM apalis.jobs \
             WHERE status = 'Running' AND lock_by IS NOT NULL",
        )
        .fetch_all(pg)
        .await
        .unwrap();
        let notes = fleet.sims.domino().dump();
        let runs = fleet.runs().await;
        let found = running.iter().find_map(|(by, key)| {
            let i = *slow
                .iter()
                .find(|&&i| key.starts_with(&format!("sync:{}:", fleet.users[i].id)))?;
            let u = &fleet.users[i];
            let n = PEOPLE.len();
            let emails: Vec<&str> = notes["databases"][u.mail_db()]["documents"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["items"]["MailAddress"].as_str())
                .collect();
            let wrote =
                emails.contains(&PEOPLE[(i + 7) % n].2) || !emails.contains(&PEOPLE[(i + 3) % n].2);
            let unrecorded = runs[&u.profile()].len() < round;
            (wrote && unrecorded)
                .then(|| workers.iter().position(|w| by.starts_with(w.as_str())))
                .flatten()
        });
        if let Some(k) = found {
            break k;
        }
        assert!(
            Instant::now() < deadline,
            "no replica was seen holding a slow user's run after a write"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    fleet.replicas[victim].kill();
    let cut: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, idempotency_key FROM apalis.jobs \
         WHERE status IN ('Queued', 'Running') AND lock_by LIKE $1",
    )
    .bind(format!("{}%", workers[victim]))
    .fetch_all(pg)
    .await
    .unwrap();
    let runs = fleet.runs().await;
    let mid_run: Vec<&String> = cut
        .iter()
        .filter(|(_, key)| {
            fleet.users.iter().any(|u| {
                key.starts_with(&format!("sync:{}:", u.id)) && runs[&u.profile()].len() < round
            })
        })
        .map(|(_, key)| key)
        .collect();
    assert!(
        !mid_run.is_empty(),
        "the SIGKILL cut no run off: running {cut:?}"
    );
    (victim, cut)
}

/// Waits until no job is waiting or running (a deferred slot's job, or a dead replica's,
/// has ended).
async fn queue_drained(pg: &sqlx::PgPool) {
    let deadline = Instant::now() + ROUND_TIMEOUT;
    loop {
        let open: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM apalis.jobs WHERE status <> 'Done'")
                .fetch_one(pg)
                .await
                .unwrap();
        if open == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{open} jobs still open in the queue"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// After round `round`: every user has exactly `round` runs (demo one more, by hand), all
/// completed, and their next slot is a whole interval on.
async fn assert_round(fleet: &Fleet, runs: &BTreeMap<String, Vec<RunSummary>>, round: usize) {
    let demo = format!("srv:{}", fleet.demo_id);
    for (profile, history) in runs {
        let want = if *profile == demo { round + 1 } else { round };
        assert_eq!(
            history.len(),
            want,
            "{profile} after round {round}: {history:?}"
        );
        assert!(
            history.iter().all(|r| r.outcome == "completed"),
            "{profile} after round {round}: {history:?}"
        );
    }
    let soonest: i64 = sqlx::query_scalar("SELECT MIN(next_sync) FROM srv_users")
        .fetch_one(fleet.pg().unwrap())
        .await
        .unwrap();
    assert!(
        soonest > now_ms() + INTERVAL_MS / 2,
        "a slot of round {round} is still due"
    );
}

/// Prints when the runs of round `round` (each profile's `round`-th, demo's one later) ended,
/// counted from `began` (ms since the epoch): the half, nine tenths and all of them.
fn print_spread(runs: &BTreeMap<String, Vec<RunSummary>>, demo: &str, round: usize, began: i64) {
    let of_round: Vec<&RunSummary> = runs
        .iter()
        .filter_map(|(p, h)| h.get(if p == demo { round } else { round - 1 }))
        .collect();
    let mut ends: Vec<i64> = of_round.iter().map(|r| r.finished - began).collect();
    ends.sort_unstable();
    let mut took: Vec<i64> = of_round.iter().map(|r| r.finished - r.started).collect();
    took.sort_unstable();
    let at = |v: &[i64], q: usize| v.get((v.len() * q / 10).min(v.len() - 1)).copied();
    eprintln!(
        "fleet: round {round}'s runs ended by (ms): half {:?}, 9/10 {:?}, all {:?}; a run took \
         (ms) {:?} at the median, {:?} at 9/10",
        at(&ends, 5),
        at(&ends, 9),
        ends.last(),
        at(&took, 5),
        at(&took, 9),
    );
}

/// No two of `history`'s runs overlap.
fn assert_one_at_a_time(profile: &str, history: &[RunSummary]) {
    let mut sorted: Vec<&RunSummary> = history.iter().collect();
    sorted.sort_by_key(|r| r.started);
    for pair in sorted.windows(2) {
        assert!(
            pair[0].finished <= pair[1].started,
            "{profile} ran twice at once: {pair:?}"
        );
    }
}

/// The most runs of `history` going at one moment.
fn most_at_once(history: &[&RunSummary]) -> usize {
    // Ends before starts at the same instant: a run that ends as another starts is not two.
    let mut edges: Vec<(i64, i32)> = history
        .iter()
        .flat_map(|r| [(r.started, 1), (r.finished, -1)])
        .collect();
    edges.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    usize::try_from(most).unwrap()
}

/// Samples, every 50 ms until stopped, how many unexpired sync leases each org holds; keeps
/// the most per org. "Unexpired" is judged by the clock when the row is read, not before the
/// query: a lease that lapsed meanwhile (and may have been taken over) is not counted twice.
struct LeaseSampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<BTreeMap<String, i64>>,
}

impl LeaseSampler {
    fn start(pg: sqlx::PgPool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let task = {
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let mut most: BTreeMap<String, i64> = BTreeMap::new();
                while !stop.load(Ordering::SeqCst) {
                    let rows: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT u.org_id, COUNT(*) FROM srv_leases l \
                         JOIN srv_users u ON u.user_id = l.user_id \
                         WHERE l.expires > (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT \
                         GROUP BY u.org_id",
                    )
                    .fetch_all(&pg)
                    .await
                    .unwrap();
                    for (org, n) in rows {
                        let m = most.entry(org).or_default();
                        *m = (*m).max(n);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                most
            })
        };
        Self { stop, task }
    }

    async fn stop(self) -> BTreeMap<String, i64> {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.unwrap()
    }
}
