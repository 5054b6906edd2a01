//! The sync engine (native sync-core) against the simulators with injected faults and crashes.
//!
//! Each case is generated from a seed: random edits on both sides, then syncs whose requests
//! meet faults between the engine and the servers — 5xx and 429 answers, refused connections,
//! and answers lost after the server acted (timeouts, dropped connections) — and crashes at a
//! random point, after which only the state changes the host had stored survive (the host
//! stores them whenever the engine waits). Then a clean sync must converge:
//! - both sides hold the same non-private contacts, each linked once (no duplicates);
//! - nothing private crossed;
//! - a further sync writes nothing.
//!
//! `NZSYNC_FAULT_CASES` sets how many seeds run (default 12) and `NZSYNC_FAULT_SEED` the first;
//! a failure names its seed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use sync_core::{
    Engine, EngineConfig, HttpRequest, HttpResponse, Output, Side, StateChange, SyncState,
    Timestamp, TransportError, TransportErrorKind,
};

use crate::world::{World, s};

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
    /// Direction and conflict policy of [`Harness::run`] (events are off).
    pub(crate) settings: sync_core::Settings,
}

impl Harness<'_> {
    async fn perform(&self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let (base, auth) = match req.side {
            Side::Notes => (&self.w.sims.domino_url, "Basic ZGVtbzpkZW1v".to_owned()),
            Side::Crm => (
                &self.w.sims.zoho_url,
                format!("Zoho-oauthtoken {}", self.token),
            ),
        };
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
        let mut rb = self
            .http
            .request(method, format!("{base}{}", req.path))
            .header("Authorization", auth);
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
    async fn run(
        &self,
        state: &mut SyncState,
        rng: &mut Rng,
        fault_percent: u64,
        crash_after: Option<u32>,
    ) -> Option<sync_core::RunReport> {
        let config = EngineConfig {
            mail_db: "mail/demo.nsf".into(),
            settings: sync_core::Settings {
                events: sync_core::calendar::EventsWindow::Off,
                ..self.settings.clone()
            },
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
        let mut engine = Engine::new(config, state.clone(), now());
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

/// Random edits on both sides. `touched` collects the records created or changed (and not
/// deleted) by them: a sync must not delete those.
async fn edit_randomly(
    w: &World,
    rng: &mut Rng,
    serial: &mut u32,
    touched: &mut BTreeSet<(Side, String)>,
) {
    for _ in 0..rng.below(6) + 1 {
        *serial += 1;
        let n = *serial;
        let notes = w.notes_contacts().await;
        let crm = w.crm_contacts().await;
        match rng.below(8) {
            0 | 1 => {
                let private = rng.chance(15);
                let mut doc = json!({"FirstName": format!("F{n}"), "LastName": format!("L{n}"), "MailAddress": format!("n{n}@x.example")});
                if private {
                    doc["OrgConfidential"] = json!("1");
                }
                touched.insert((Side::Notes, w.notes_create(doc).await));
            }
            2 | 3 => {
                let id = w.crm_create(json!({"First_Name": format!("G{n}"), "Last_Name": format!("M{n}"), "Email": format!("c{n}@x.example")})).await;
                touched.insert((Side::Crm, id));
            }
            4 if !notes.is_empty() => {
                let (u, _) = &notes[usize::try_from(rng.below(notes.len() as u64)).unwrap()];
                w.notes_patch(u, json!({"JobTitle": format!("T{n}")})).await;
                touched.insert((Side::Notes, u.clone()));
            }
            5 if !crm.is_empty() => {
                let r = &crm[usize::try_from(rng.below(crm.len() as u64)).unwrap()];
                w.crm_update(&s(r, "id"), json!({"Phone": format!("+81 {n}")}))
                    .await;
                touched.insert((Side::Crm, s(r, "id")));
            }
            6 if !notes.is_empty() => {
                let (u, _) = &notes[usize::try_from(rng.below(notes.len() as u64)).unwrap()];
                w.notes_delete(u).await;
                touched.remove(&(Side::Notes, u.clone()));
            }
            7 if !crm.is_empty() => {
                let r = &crm[usize::try_from(rng.below(crm.len() as u64)).unwrap()];
                w.crm_delete(&s(r, "id")).await;
                touched.remove(&(Side::Crm, s(r, "id")));
            }
            _ => {}
        }
    }
}

/// Content of a contact by e-mail, as both sides name it.
fn notes_view(docs: &[(String, Value)]) -> BTreeMap<String, (String, String, String)> {
    docs.iter()
        .filter(|(_, d)| s(d, "OrgConfidential") != "1")
        .map(|(_, d)| {
            (
                s(d, "MailAddress"),
                (
                    s(d, "LastName"),
                    s(d, "JobTitle"),
                    s(d, "OfficePhoneNumber"),
                ),
            )
        })
        .collect()
}

fn crm_view(recs: &[Value]) -> BTreeMap<String, (String, String, String)> {
    recs.iter()
        .map(|r| {
            (
                s(r, "Email"),
                (s(r, "Last_Name"), s(r, "Title"), s(r, "Phone")),
            )
        })
        .collect()
}

async fn one_case(seed: u64) {
    let w = World::new().await;
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let direction = match rng.below(4) {
        0 => sync_core::Direction::NotesToCrm,
        1 => sync_core::Direction::CrmToNotes,
        _ => sync_core::Direction::TwoWay,
    };
    let conflict = if rng.chance(50) {
        sync_core::ConflictPolicy::CrmWins
    } else {
        sync_core::ConflictPolicy::NotesWins
    };
    let h = Harness {
        w: &w,
        http: reqwest::Client::new(),
        token: w.token().to_owned(),
        settings: sync_core::Settings {
            direction,
            conflict,
            ..Default::default()
        },
    };
    let mut state = SyncState::default();
    let mut serial = 0;
    for _round in 0..rng.below(3) + 1 {
        let mut touched = BTreeSet::new();
        edit_randomly(&w, &mut rng, &mut serial, &mut touched).await;
        if std::env::var("NZSYNC_FAULT_TRACE")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            == Some(seed)
        {
            eprintln!(
                "after edits: notes {:?}",
                w.notes_contacts()
                    .await
                    .iter()
                    .map(|(u, d)| (u.clone(), s(d, "MailAddress")))
                    .collect::<Vec<_>>()
            );
            eprintln!(
                "after edits: crm {:?}",
                w.crm_contacts()
                    .await
                    .iter()
                    .map(|r| (s(r, "id"), s(r, "Email")))
                    .collect::<Vec<_>>()
            );
        }
        let fault_percent = rng.below(35);
        let crash_after = rng
            .chance(40)
            .then(|| u32::try_from(rng.below(60)).unwrap());
        let r = h
            .run(&mut state, &mut rng, fault_percent, crash_after)
            .await;
        // A completed run never deletes a record changed since the last sync (on its side).
        if r.is_some() {
            let notes_ids: BTreeSet<String> = w
                .notes_contacts()
                .await
                .into_iter()
                .map(|(u, _)| u)
                .collect();
            let crm_ids: BTreeSet<String> =
                w.crm_contacts().await.iter().map(|c| s(c, "id")).collect();
            for (side, id) in &touched {
                let present = if *side == Side::Notes {
                    notes_ids.contains(id)
                } else {
                    crm_ids.contains(id)
                };
                assert!(
                    present,
                    "seed {seed}: the sync deleted {side:?} {id}, which had changed since the last sync"
                );
            }
        }
        if std::env::var("NZSYNC_FAULT_TRACE")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            == Some(seed)
        {
            let text = r.map_or_else(|| "CRASHED".to_owned(), |r| r.to_text());
            eprintln!("round: faults {fault_percent}% crash {crash_after:?}\n{text}");
            for (u, d) in w.notes_contacts().await {
                eprintln!(
                    "  notes {u} {} xref {}",
                    s(&d, "MailAddress"),
                    s(&d, "ZohoCRMId")
                );
            }
            for r in w.crm_contacts().await {
                eprintln!(
                    "  crm {} {} xref {} {}",
                    s(&r, "id"),
                    s(&r, "Email"),
                    s(&r, "Notes_UNID"),
                    r
                );
            }
            for l in state.modules.values().flat_map(|m| m.links.iter()) {
                eprintln!("  link {} {} {:?}", l.unid, l.zoho_id, l.base);
            }
        }
    }
    // A clean sync converges...
    let report = h.run(&mut state, &mut rng, 0, None).await.unwrap();
    assert_eq!(
        report.outcome,
        sync_core::report::RunOutcome::Completed,
        "seed {seed}: {}",
        report.to_text()
    );
    let notes = w.notes_contacts().await;
    let crm = w.crm_contacts().await;
    let nv = notes_view(&notes);
    let cv = crm_view(&crm);
    // Two-way: both sides hold the same; one way: the target mirrors every source record (and
    // keeps its own records).
    let (src, dst) = match direction {
        sync_core::Direction::TwoWay => {
            assert_eq!(
                nv,
                cv,
                "seed {seed} ({direction:?}, {conflict:?}): sides differ\n{}",
                report.to_text()
            );
            (&nv, &cv)
        }
        sync_core::Direction::NotesToCrm => (&nv, &cv),
        sync_core::Direction::CrmToNotes => (&cv, &nv),
    };
    for (email, content) in src {
        assert_eq!(
            dst.get(email),
            Some(content),
            "seed {seed} ({direction:?}): {email} not mirrored\n{}",
            report.to_text()
        );
    }
    // ... without duplicates (e-mails are unique by construction) ...
    let dump = || {
        let n: Vec<String> = notes
            .iter()
            .map(|(u, d)| format!("{u} {} -> {}", s(d, "MailAddress"), s(d, "ZohoCRMId")))
            .collect();
        let c: Vec<String> = crm
            .iter()
            .map(|r| format!("{} {} -> {}", s(r, "id"), s(r, "Email"), s(r, "Notes_UNID")))
            .collect();
        format!("Notes:\n  {}\nCRM:\n  {}", n.join("\n  "), c.join("\n  "))
    };
    assert_eq!(
        crm.len(),
        cv.len(),
        "seed {seed}: duplicate in CRM\n{}",
        dump()
    );
    assert_eq!(
        notes
            .iter()
            .filter(|(_, d)| s(d, "OrgConfidential") != "1")
            .count(),
        nv.len(),
        "seed {seed}: duplicate in Notes"
    );
    // ... nothing private crossed ...
    for (_, d) in notes.iter().filter(|(_, d)| s(d, "OrgConfidential") == "1") {
        assert!(
            !cv.contains_key(&s(d, "MailAddress")),
            "seed {seed}: a private contact reached CRM"
        );
    }
    // ... and a further sync writes nothing.
    w.clear_calls().await;
    let again = h.run(&mut state, &mut rng, 0, None).await.unwrap();
    assert_eq!(again.outcome, sync_core::report::RunOutcome::Completed);
    assert_eq!(
        w.writes().await,
        vec![],
        "seed {seed}: the run after convergence wrote\n{}",
        again.to_text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_and_crashes_converge_without_duplicates() {
    let cases: u64 = std::env::var("NZSYNC_FAULT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let first: u64 = std::env::var("NZSYNC_FAULT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    for seed in first..first + cases {
        one_case(seed).await;
    }
}
