//! The sync engine (native sync-core) against the simulators with injected faults and crashes,
//! as a proptest property with shrinking. Each case is an org of two users (`demo`, `user2`) who
//! edit and sync their own data, with overlapping names and e-mails; each user's sync covers
//! their own mail file and the CRM records they own (owner scope).
//!
//! A case (`engine_faults_cases.rs`) is random settings (direction, conflict policy, each module
//! on or off, the events window) and rounds of random edits of contacts (with companies),
//! to-dos and events on both sides, each followed by a sync whose requests meet faults between
//! the engine and the servers — 5xx and 429 answers, refused connections, and answers lost
//! after the server acted (timeouts, dropped connections) — and maybe a crash after any output,
//! after which only the state changes the host had stored survive (the host stores them
//! whenever the engine waits). Then a clean sync must converge:
//! - both sides hold the same non-private records of each synced module (one way: the target
//!   mirrors the source), events compared inside the window only;
//! - each record once (no duplicates), and each company once as a Zoho Account;
//! - nothing private crossed, nothing of a module switched off or outside the window crossed;
//! - a completed run never deleted a record changed since the last sync;
//! - a further sync writes nothing.
//!
//! `NZSYNC_FAULT_CASES` sets how many cases run (default 32), `NZSYNC_FAULT_SEED` the generator's
//! seed (default fixed, so CI runs the same cases), `NZSYNC_FAULT_SHRINK` how many shrink steps
//! a failure may take (default 24; each step is a whole case against fresh simulators).
//! A failure prints the shrunk case.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sync_core::{
    Engine, EngineConfig, HttpRequest, HttpResponse, LinkSupply, Output, Side, StateChange,
    SyncState, Timestamp, TransportError, TransportErrorKind,
};

use crate::engine_faults_cases::{Case, Edit, Kind, apply, case, ids, notes_events, tokyo_ten};
use crate::world::{Backend, World, s};
use sync_core::Direction;
use sync_core::calendar::EventsWindow;

/// A small deterministic generator (xorshift64*), so a failing seed replays exactly.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    Status(u16),
    Refused,
    LostAfterActing(TransportErrorKind),
}

fn now() -> Timestamp {
    Timestamp(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis(),
        )
        .unwrap(),
    )
}

pub(crate) struct Harness<'a> {
    pub(crate) w: &'a World,
    pub(crate) http: reqwest::Client,
    pub(crate) token: String,
    /// The user's JWT when the world syncs through the Domino REST API.
    pub(crate) drapi_token: Option<String>,
    /// The settings of [`Harness::run`].
    pub(crate) settings: sync_core::Settings,
}

impl Harness<'_> {
    async fn perform(&self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let base = match req.side {
            Side::Notes => self.w.notes_url(),
            Side::Crm => &self.w.sims.zoho_url,
        };
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
        let mut rb = self.http.request(method, format!("{base}{}", req.path));
        rb = match (req.side, &self.drapi_token) {
            (Side::Notes, Some(jwt)) => rb.bearer_auth(jwt),
            (Side::Notes, None) => rb.basic_auth(&self.w.user, Some(&self.w.user)),
            (Side::Crm, _) => rb.header("Authorization", format!("Zoho-oauthtoken {}", self.token)),
        };
        for h in &req.headers {
            rb = rb.header(&h.name, &h.value);
        }
        if let Some(b) = &req.body {
            rb = rb.body(b.clone());
        }
        let r = rb.send().await.map_err(|e| TransportError {
            kind: TransportErrorKind::Other,
            message: e.to_string(),
        })?;
        let status = r.status().as_u16();
        let headers = r
            .headers()
            .iter()
            .map(|(k, v)| sync_core::Header {
                name: k.to_string(),
                value: v.to_str().unwrap_or_default().to_owned(),
            })
            .collect();
        Ok(HttpResponse {
            status,
            headers,
            body: r.text().await.unwrap_or_default(),
        })
    }

    /// One run with the fault harness's settings (see [`Harness::run_with`]).
    pub(crate) async fn run(
        &self,
        state: &mut SyncState,
        rng: &mut Rng,
        fault_percent: u64,
        crash_after: Option<u32>,
    ) -> Option<sync_core::RunReport> {
        let domino = match self.w.backend {
            Backend::Das => sync_core::DominoApi::Das,
            Backend::Rest => sync_core::DominoApi::Rest {
                scope: sync_core::DrapiScope::for_mail_file(&self.w.db),
            },
        };
        let config = EngineConfig {
            mail_db: self.w.db.clone(),
            domino,
            settings: self.settings.clone(),
            retry_base_ms: 1,
            // The guard has its own tests; random edits may legitimately delete most records.
            allow_mass_delete: true,
            time_zone: Some("Asia/Tokyo".into()),
            ..EngineConfig::default()
        };
        self.run_with(config, state, rng, fault_percent, crash_after)
            .await
    }

    /// One run of the native engine with `config`. Returns the report, or `None` when it
    /// crashed after `crash_after` outputs; `state` holds what the host would have stored.
    pub(crate) async fn run_with(
        &self,
        config: EngineConfig,
        state: &mut SyncState,
        rng: &mut Rng,
        fault_percent: u64,
        crash_after: Option<u32>,
    ) -> Option<sync_core::RunReport> {
        // Links are read from the "store" (`state`) as the host reads them: on request, after
        // the changes emitted so far are stored.
        // Small windows, so that faults and crashes land between windows as well as in them,
        // and little unlinked CRM content held, so that records are also read again by id.
        let config = EngineConfig {
            links: LinkSupply::OnRequest,
            window: 3,
            crm_pool_bytes: 600,
            ..config
        };
        let mut given = state.clone();
        for m in given.modules.values_mut() {
            m.links.clear();
        }
        let mut engine = Engine::new(config, given, now());
        let mut pending: Vec<StateChange> = Vec::new();
        let mut tasks = tokio::task::JoinSet::new();
        let mut outputs = 0u32;
        loop {
            let out = engine.poll_output();
            outputs += 1;
            if crash_after.is_some_and(|c| outputs > c) {
                tasks.abort_all();
                return None; // Crash: `pending` is lost, `state` is what was stored.
            }
            match out {
                Output::Request(req) => {
                    let fault = if rng.chance(fault_percent) {
                        Some(match rng.below(6) {
                            0 => Fault::Status(503),
                            1 => Fault::Status(500),
                            2 => Fault::Status(429),
                            3 => Fault::Refused,
                            4 => Fault::LostAfterActing(TransportErrorKind::Timeout),
                            _ => Fault::LostAfterActing(TransportErrorKind::Other),
                        })
                    } else {
                        None
                    };
                    let answer = match fault {
                        None => self.perform(&req).await,
                        Some(Fault::Status(code)) => Ok(HttpResponse {
                            status: code,
                            headers: Vec::new(),
                            body: String::new(),
                        }),
                        Some(Fault::Refused) => Err(TransportError {
                            kind: TransportErrorKind::Connect,
                            message: "refused".into(),
                        }),
                        Some(Fault::LostAfterActing(kind)) => {
                            let _ = self.perform(&req).await;
                            Err(TransportError {
                                kind,
                                message: "answer lost".into(),
                            })
                        }
                    };
                    let id = req.id;
                    tasks.spawn(async move { (id, answer) });
                }
                Output::State(c) => pending.push(c),
                Output::Links(q) => {
                    for c in pending.drain(..) {
                        state.apply(&c);
                    }
                    let links = q.answer_from(state);
                    engine.handle_links(q.id, links).unwrap();
                }
                Output::Wait(until) => {
                    for c in pending.drain(..) {
                        state.apply(&c);
                    }
                    let next = match until {
                        Some(t) => {
                            let ms = u64::try_from((t.0 - now().0).max(0)).unwrap_or(0);
                            tokio::time::timeout(
                                std::time::Duration::from_millis(ms),
                                tasks.join_next(),
                            )
                            .await
                            .ok()
                            .flatten()
                        }
                        None => tasks.join_next().await,
                    };
                    match next {
                        Some(Ok((id, answer))) => {
                            engine.handle_response(id, now(), answer).unwrap()
                        }
                        Some(Err(e)) => panic!("request task failed: {e}"),
                        None => engine.handle_timeout(now()),
                    }
                }
                Output::Done(report) => {
                    for c in pending.drain(..) {
                        state.apply(&c);
                    }
                    return Some(*report);
                }
            }
        }
    }
}

/// What one side holds of one kind: key → (content, private).
pub(crate) type View = BTreeMap<String, (Vec<String>, bool)>;

fn priority_word(v: &str) -> String {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "high" | "highest" => "high".into(),
        "3" | "low" | "lowest" => "low".into(),
        _ => "normal".into(),
    }
}

fn crm_private(r: &Value) -> bool {
    r["Tag"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t["name"] == "Private"))
}

/// Whether the Zoho record `r` is owned by the world's user (owner scope: a user's sync covers
/// the records they own).
fn owned(w: &World, r: &Value) -> bool {
    r["Owner"]["id"] == w.zoho_user.as_str()
}

/// The records of `kind` on `side` of the world's user (their mail file; the CRM records they
/// own), keyed by their unique key, with the synced content the check compares. Duplicated keys
/// are returned separately.
pub(crate) async fn view(w: &World, side: Side, kind: Kind) -> (View, Vec<String>) {
    let tokyo: chrono_tz::Tz = "Asia/Tokyo".parse().unwrap();
    let rows: Vec<(String, Vec<String>, bool)> = match (side, kind) {
        (Side::Notes, Kind::Contact) => w
            .notes_contacts()
            .await
            .iter()
            .map(|(_, d)| {
                (
                    s(d, "MailAddress"),
                    vec![
                        s(d, "LastName"),
                        s(d, "JobTitle"),
                        s(d, "OfficePhoneNumber"),
                        s(d, "CompanyName"),
                    ],
                    s(d, "OrgConfidential") == "1",
                )
            })
            .collect(),
        (Side::Crm, Kind::Contact) => w
            .crm_contacts()
            .await
            .iter()
            .filter(|r| owned(w, r))
            .map(|r| {
                (
                    s(r, "Email"),
                    vec![
                        s(r, "Last_Name"),
                        s(r, "Title"),
                        s(r, "Phone"),
                        r["Account_Name"]["name"].as_str().unwrap_or("").to_owned(),
                    ],
                    crm_private(r),
                )
            })
            .collect(),
        (Side::Notes, Kind::Task) => w
            .notes_docs("Task")
            .await
            .iter()
            .map(|(_, d)| {
                let due = d
                    .get("DueDateTime")
                    .map(|v| match v {
                        Value::Object(o) => o.get("data").and_then(Value::as_str).unwrap_or(""),
                        v => v.as_str().unwrap_or(""),
                    })
                    .unwrap_or("");
                (
                    s(d, "Subject"),
                    vec![
                        sync_core::mapping::day_in_zone(due, tokyo).unwrap_or_default(),
                        priority_word(&s(d, "Importance")),
                    ],
                    s(d, "OrgConfidential") == "1",
                )
            })
            .collect(),
        (Side::Crm, Kind::Task) => w
            .crm_records("Tasks")
            .await
            .iter()
            .filter(|r| owned(w, r))
            .map(|r| {
                (
                    s(r, "Subject"),
                    vec![s(r, "Due_Date"), priority_word(&s(r, "Priority"))],
                    crm_private(r),
                )
            })
            .collect(),
        (Side::Notes, Kind::Event) => notes_events(w)
            .await
            .iter()
            .map(|e| {
                let class = s(e, "class");
                (
                    s(e, "summary"),
                    vec![s(e, "location")],
                    class == "private" || class == "confidential",
                )
            })
            .collect(),
        (Side::Crm, Kind::Event) => w
            .crm_records("Events")
            .await
            .iter()
            .filter(|r| owned(w, r))
            .map(|r| (s(r, "Event_Title"), vec![s(r, "Venue")], crm_private(r)))
            .collect(),
    };
    let mut out = View::new();
    let mut dups = Vec::new();
    for (key, content, private) in rows {
        if out.insert(key.clone(), (content, private)).is_some() {
            dups.push(key);
        }
    }
    (out, dups)
}

fn enabled(settings: &sync_core::Settings, kind: Kind) -> bool {
    match kind {
        Kind::Contact => settings.contacts,
        Kind::Task => settings.tasks,
        Kind::Event => settings.events != EventsWindow::Off,
    }
}

/// Runs one case against fresh simulators holding an org of two users, `demo` and `user2`,
/// who edit and sync their own data in turns, with overlapping names and e-mails; panics (with
/// the reason) when a property fails. Each user's data must converge on its own, and neither
/// user's records may reach the other's mail file.
async fn one_case(case: &Case, backend: Backend) {
    let (w0, w1) = World::org_on(backend, nzsync_sim::Seed::Empty, "").await;
    let worlds = [&w0, &w1];
    let settings = case.settings.clone();
    let http = reqwest::Client::new();
    let mut harness: Vec<Harness<'_>> = Vec::new();
    for w in worlds {
        let drapi_token = match backend {
            Backend::Das => None,
            Backend::Rest => Some(w.drapi_token().await),
        };
        harness.push(Harness {
            w,
            http: http.clone(),
            token: w.token().to_owned(),
            drapi_token,
            settings: settings.clone(),
        });
    }
    let mut states = [SyncState::default(), SyncState::default()];
    let mut serial = 0u32;
    // Events: the day each title was created on, per user (windows are checked against it).
    let mut event_days: [BTreeMap<String, i64>; 2] = Default::default();
    // The serials each user created per side and kind: an overlapping create reuses one of the
    // other user's, so both hold a record with the same name and e-mail (or subject, title).
    let mut created: BTreeMap<(usize, Side, Kind), Vec<u32>> = BTreeMap::new();
    let trace = std::env::var_os("NZSYNC_FAULT_TRACE").is_some();
    for round in &case.rounds {
        let mut touched: [BTreeSet<(Side, String)>; 2] = Default::default();
        for (by, e) in &round.edits {
            serial += 1;
            let u = by.user;
            let mut n = serial;
            if let Edit::Create {
                side, kind, day, ..
            } = e
            {
                if by.overlap {
                    let theirs = created.get(&(1 - u, *side, *kind));
                    let mine = created.get(&(u, *side, *kind));
                    if let Some(k) = theirs.and_then(|t| {
                        t.iter()
                            .find(|k| mine.is_none_or(|m| !m.contains(k)))
                            .copied()
                    }) {
                        n = k;
                    }
                }
                created.entry((u, *side, *kind)).or_default().push(n);
                if *kind == Kind::Event {
                    let title = match side {
                        Side::Notes => format!("E{n}"),
                        Side::Crm => format!("V{n}"),
                    };
                    event_days[u].insert(title, *day);
                }
            }
            match apply(worlds[u], e, n).await {
                Some((side, id, true)) => {
                    touched[u].insert((side, id));
                }
                Some((side, id, false)) => {
                    touched[u].remove(&(side, id));
                }
                None => {}
            }
        }
        for u in 0..2 {
            let mut rng = Rng((round.fault_seed ^ (u as u64).wrapping_mul(0x9E37_79B9)) | 1);
            let r = harness[u]
                .run(
                    &mut states[u],
                    &mut rng,
                    round.fault_percent,
                    round.crash_after,
                )
                .await;
            if trace {
                let text = r
                    .as_ref()
                    .map_or_else(|| "CRASHED".to_owned(), |r| r.to_text());
                eprintln!("round {round:?}, user {u}\n{text}");
            }
            // A completed run never deletes a record changed since the last sync (on its side).
            if r.is_some() {
                for side in [Side::Notes, Side::Crm] {
                    let mut present = BTreeSet::new();
                    for kind in Kind::ALL {
                        present.extend(ids(worlds[u], side, kind).await);
                    }
                    for (_, id) in touched[u].iter().filter(|(s_, _)| *s_ == side) {
                        assert!(
                            present.contains(id),
                            "user {u}'s sync deleted {side:?} {id}, which had changed since the last sync"
                        );
                    }
                }
            }
        }
    }
    let tokyo: chrono_tz::Tz = "Asia/Tokyo".parse().unwrap();
    let window = sync_core::calendar::window_bounds(settings.events, now(), tokyo);
    for u in 0..2 {
        let w = worlds[u];
        // A clean sync converges...
        let report = harness[u]
            .run(&mut states[u], &mut Rng(1), 0, None)
            .await
            .expect("no crash without faults");
        assert_eq!(
            report.outcome,
            sync_core::report::RunOutcome::Completed,
            "user {u}'s clean run did not complete: {}",
            report.to_text()
        );
        let in_window = |title: &str| {
            let Some(day) = event_days[u].get(title) else {
                return false;
            };
            let t = Timestamp(tokyo_ten(*day) * 1000);
            window.is_some_and(|(since, before)| since <= t && t < before)
        };
        for kind in Kind::ALL {
            let (nv, nd) = view(w, Side::Notes, kind).await;
            let (cv, cd) = view(w, Side::Crm, kind).await;
            // ... without duplicates ...
            assert!(
                nd.is_empty() && cd.is_empty(),
                "user {u}, {kind:?}: duplicates: Notes {nd:?}, CRM {cd:?}"
            );
            // ... with nothing private, switched off or outside the window crossing ...
            let synced =
                |key: &str| enabled(&settings, kind) && (kind != Kind::Event || in_window(key));
            for (from, to, label) in [(&nv, &cv, "Notes → CRM"), (&cv, &nv, "CRM → Notes")] {
                for (key, (_, private)) in from.iter() {
                    if *private || !synced(key) {
                        assert!(
                            !to.contains_key(key),
                            "user {u}, {kind:?} {key} crossed {label} (private {private}, synced {})\n{}",
                            synced(key),
                            report.to_text()
                        );
                    }
                }
            }
            if !enabled(&settings, kind) {
                continue;
            }
            // ... and both sides agree under the direction.
            let public = |v: &View| -> BTreeMap<String, Vec<String>> {
                v.iter()
                    .filter(|(k, (_, p))| !p && synced(k))
                    .map(|(k, (c, _))| (k.clone(), c.clone()))
                    .collect()
            };
            let (np, cp) = (public(&nv), public(&cv));
            let (src, dst) = match settings.direction {
                Direction::TwoWay => {
                    assert_eq!(
                        np,
                        cp,
                        "user {u}, {kind:?}: sides differ\n{}",
                        report.to_text()
                    );
                    (&np, &cp)
                }
                Direction::NotesToCrm => (&np, &cp),
                Direction::CrmToNotes => (&cp, &np),
            };
            for (key, content) in src {
                assert_eq!(
                    dst.get(key),
                    Some(content),
                    "user {u}, {kind:?} {key} not mirrored ({:?})\n{}",
                    settings.direction,
                    report.to_text()
                );
            }
        }
    }
    // Neither user's mail file names a record the other owns.
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for module in ["Contacts", "Tasks", "Events"] {
        for r in w0.crm_records(module).await {
            owner.insert(
                s(&r, "id"),
                r["Owner"]["id"].as_str().unwrap_or("").to_owned(),
            );
        }
    }
    for w in worlds {
        for z in w.notes_zoho_ids().await {
            if let Some(o) = owner.get(&z) {
                assert_eq!(
                    o, &w.zoho_user,
                    "{}'s mail file holds {z}, owned by {o}",
                    w.user
                );
            }
        }
    }
    // Each company is one Account.
    let mut accounts: Vec<String> = w0
        .crm_records("Accounts")
        .await
        .iter()
        .map(|a| s(a, "Account_Name"))
        .collect();
    accounts.sort();
    let mut distinct = accounts.clone();
    distinct.dedup();
    assert_eq!(accounts, distinct, "duplicate Accounts");
    // ... and a further sync of each writes nothing.
    w0.clear_calls().await;
    for u in 0..2 {
        let again = harness[u]
            .run(&mut states[u], &mut Rng(1), 0, None)
            .await
            .unwrap();
        assert_eq!(again.outcome, sync_core::report::RunOutcome::Completed);
        let writes = w0.writes().await;
        assert!(
            writes.is_empty(),
            "user {u}'s run after convergence wrote {writes:?}\n{}",
            again.to_text()
        );
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
#[test]
fn faults_and_crashes_converge_without_duplicates() {
    run_cases(Backend::Das);
}

#[test]
fn faults_and_crashes_converge_without_duplicates_through_the_rest_api() {
    run_cases(Backend::Rest);
}

/// The property over the cases, syncing through `backend`.
fn run_cases(backend: Backend) {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let cases = u32::try_from(env_u64("NZSYNC_FAULT_CASES", 32)).unwrap_or(u32::MAX);
    let seed = env_u64("NZSYNC_FAULT_SEED", 4);
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        max_shrink_iters: u32::try_from(env_u64("NZSYNC_FAULT_SHRINK", 24)).unwrap_or(24),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let result = runner.run(&case(), |case| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(one_case(&case, backend));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
