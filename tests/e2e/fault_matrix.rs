//! The fault matrix: the real `nzsync sync` against simulators that fail 10% of requests on
//! one side with one kind of fault, for every (kind, side) cell; Domino is reached through DAS
//! or, in its own column, through the Domino REST API:
//!
//! | kind | Domino (DAS) | Domino REST API | Zoho |
//! |---|---|---|---|
//! | 5xx (500, 502, 503) | ✓ | ✓ | ✓ |
//! | 429 | ✓ | ✓ | ✓ |
//! | timeout (answer later than the client's limit, before or after acting) | ✓ | ✓ | ✓ |
//! | dropped connection | ✓ | ✓ | ✓ |
//! | token expiry | — | ✓ | ✓ |
//! | token endpoint (503, 429, dropped connection on `/oauth/v2/token`) | — | — | ✓ |
//! | truncated body (full `Content-Length`, half the body, closed) | ✓ | ✓ | ✓ |
//!
//! The REST API's token cell kills the JWT a request carries at random (as a restart of the
//! REST API does): nzsync logs in again once per refused request.
//!
//! The Zoho token cell expires the token a request carries at random, so now and then the
//! retry with a freshly refreshed token is refused again; nzsync then stops the run (it
//! refreshes once per refused request) and the next run carries on.
//!
//! The token-endpoint cell fails the first three requests to Zoho's token endpoint in each
//! phase (503, 429, a dropped connection) and 30% of the later ones, and gives access tokens a
//! five-minute life, so each run (ten simulated minutes after the last) finds its stored token
//! refused and must refresh through the blips. nzsync retries them with backoff, so here every
//! phase's first run must succeed, and the faults must have fired.
//!
//! Token expiry has no DAS cell: nzsync sends HTTP Basic credentials with every DAS request,
//! so there is no session or token that could expire between requests (a refused password is
//! a configuration error, covered by `cli_errors.rs`).
//!
//! Each cell starts with contacts (with companies), to-dos and events on both sides, then three
//! phases — the first data, changes and new records on both sides, deletions on both sides —
//! each followed by `nzsync sync` with the faults on, repeated until a run succeeds (at most
//! [`MAX_RUNS`] runs). Then, with the faults off, one more sync writes nothing, and both sides
//! hold the same records: every record created and not deleted by the user is present on both
//! sides once, nothing the user deleted came back, and each company is one Account.
//!
//! Cells are independent (their own simulators and store) and run concurrently. The faults
//! come from the simulators' seeded generator: `NZSYNC_MATRIX_SEED` (default 7) picks another
//! sequence (concurrent requests still interleave differently from run to run);
//! `NZSYNC_MATRIX_CELLS=zoho-timeout,domino-5xx,drapi-token` runs only the named cells.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use sync_core::Side;

use crate::engine_faults::view;
use crate::engine_faults_cases::{COMPANIES, Edit, Kind, apply};
use crate::world::{Backend, Run, World, env_u64, s};

/// Runs per phase before a cell gives up.
pub(crate) const MAX_RUNS: u32 = 12;
/// The client's time limit in the timeout cells (milliseconds).
const TIMEOUT_MS: u64 = 800;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FaultSide {
    /// Domino Access Services (the world syncs through it).
    Domino,
    /// The Domino REST API (the world syncs through it).
    Drapi,
    Zoho,
}

impl FaultSide {
    const ALL: [Self; 3] = [Self::Domino, Self::Drapi, Self::Zoho];

    /// The Domino API the cell's world syncs through.
    fn backend(self) -> Backend {
        match self {
            Self::Drapi => Backend::Rest,
            Self::Domino | Self::Zoho => Backend::Das,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FaultKindCell {
    ServerError,
    TooMany,
    Timeout,
    Dropped,
    TokenExpiry,
    TokenEndpoint,
    Truncated,
}

impl FaultKindCell {
    const ALL: [Self; 7] = [
        Self::ServerError,
        Self::TooMany,
        Self::Timeout,
        Self::Dropped,
        Self::TokenExpiry,
        Self::TokenEndpoint,
        Self::Truncated,
    ];

    /// Whether the cell exists on `side` (see the module docs).
    fn applies_to(self, side: FaultSide) -> bool {
        match self {
            Self::TokenEndpoint => side == FaultSide::Zoho,
            Self::TokenExpiry => side != FaultSide::Domino,
            _ => true,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::ServerError => "5xx",
            Self::TooMany => "429",
            Self::Timeout => "timeout",
            Self::Dropped => "drop",
            Self::TokenExpiry => "token",
            Self::TokenEndpoint => "token-endpoint",
            Self::Truncated => "truncate",
        }
    }

    /// The simulator fault rules of this kind, 10% of requests in all.
    fn rules(self) -> Value {
        match self {
            Self::ServerError => json!([
                { "kind": "status", "status": 500, "percent": 4 },
                { "kind": "status", "status": 502, "percent": 3 },
                { "kind": "status", "status": 503, "percent": 3 },
            ]),
            Self::TooMany => json!([{ "kind": "status", "status": 429, "percent": 10 }]),
            Self::Timeout => json!([
                { "kind": "delay", "ms": TIMEOUT_MS * 3, "percent": 5 },
                { "kind": "delay", "ms": TIMEOUT_MS * 3, "after": true, "percent": 5 },
            ]),
            Self::Dropped => json!([{ "kind": "drop", "percent": 10 }]),
            Self::TokenExpiry => json!([{ "kind": "expire_token", "percent": 10 }]),
            // The endpoint is asked about once a run, so a share of 10% would seldom fire:
            // each phase's first three token requests fail (503, 429, dropped), then 30%.
            Self::TokenEndpoint => json!([
                { "kind": "status", "status": 503, "path_prefix": "/oauth/v2/token", "times": 1 },
                { "kind": "status", "status": 429, "path_prefix": "/oauth/v2/token", "times": 1 },
                { "kind": "drop", "path_prefix": "/oauth/v2/token", "times": 1 },
                { "kind": "status", "status": 503, "path_prefix": "/oauth/v2/token", "percent": 30 },
            ]),
            Self::Truncated => json!([{ "kind": "truncate", "percent": 10 }]),
        }
    }
}

/// Whether the store (`state.db`, when there is one yet) links the record `id` of `side`.
fn stored_link(w: &World, side: Side, kind: Kind, id: &str) -> bool {
    let path = w.dir.path().join("state.db");
    if !path.exists() {
        return false;
    }
    let module = match kind {
        Kind::Contact => "contacts",
        Kind::Task => "tasks",
        Kind::Event => "events",
    };
    let column = match side {
        Side::Notes => "unid",
        Side::Crm => "zoho_id",
    };
    let db = rusqlite::Connection::open(path).unwrap();
    db.query_row(
        &format!("SELECT COUNT(*) FROM links WHERE module = ?1 AND {column} = ?2"),
        [module, id],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        > 0
}

/// The records a cell's user created, changed and deleted, by kind and key (contacts by e-mail,
/// to-dos by subject, events by title).
#[derive(Default)]
pub(crate) struct Ledger {
    serial: u32,
    pub(crate) created: BTreeSet<(Kind, String)>,
    pub(crate) deleted: BTreeSet<(Kind, String)>,
    /// Changed by the user on one side. Deleted on the other before that change was synced, a
    /// record is restored ("a change beats a delete"), so whether such a record survives
    /// depends on when the runs in between were cut; both sides must agree either way.
    pub(crate) changed: BTreeSet<(Kind, String)>,
    /// Deleted by the user while the store held no link for it: the run that copied it to the
    /// other side was killed between the copy reaching that server and the run storing the
    /// link. The next run cannot tell the user's deletion of such a copy from a copy that never
    /// arrived, so it copies again rather than delete on a guess (README, *What a crash can
    /// cost*); both sides must agree either way.
    pub(crate) unrecorded: BTreeSet<(Kind, String)>,
}

impl Ledger {
    /// What both sides must hold.
    pub(crate) fn expected(&self, kind: Kind) -> BTreeSet<String> {
        self.created
            .iter()
            .filter(|(k, key)| *k == kind && !self.deleted.contains(&(*k, key.clone())))
            .map(|(_, key)| key.clone())
            .collect()
    }

    /// Creates a record of `kind` on `side` (contacts with `company`).
    pub(crate) async fn create(
        &mut self,
        w: &World,
        side: Side,
        kind: Kind,
        company: Option<usize>,
    ) {
        self.serial += 1;
        let n = self.serial;
        let day = i64::from(n % 20) - 10;
        let edit = Edit::Create {
            side,
            kind,
            private: false,
            company,
            day,
        };
        apply(w, &edit, n).await;
        let key = match (side, kind) {
            (Side::Notes, Kind::Contact) => format!("n{n}@x.example"),
            (Side::Crm, Kind::Contact) => format!("c{n}@x.example"),
            (Side::Notes, Kind::Task) => format!("S{n}"),
            (Side::Crm, Kind::Task) => format!("Z{n}"),
            (Side::Notes, Kind::Event) => format!("E{n}"),
            (Side::Crm, Kind::Event) => format!("V{n}"),
        };
        self.created.insert((kind, key));
    }

    /// The first data: on each side four contacts (three with a company, two of them shared
    /// across sides), three to-dos and three events.
    pub(crate) async fn first_data(&mut self, w: &World) {
        for side in [Side::Notes, Side::Crm] {
            let other = usize::from(side == Side::Crm) + 1;
            for company in [Some(0), Some(other), Some(0), None] {
                self.create(w, side, Kind::Contact, company).await;
            }
            for _ in 0..3 {
                self.create(w, side, Kind::Task, None).await;
                self.create(w, side, Kind::Event, None).await;
            }
        }
    }

    /// Changes of existing records (contents and companies) and new records, on both sides.
    pub(crate) async fn changes(&mut self, w: &World) {
        for side in [Side::Notes, Side::Crm] {
            for (pick, kind) in [(0, Kind::Contact), (1, Kind::Task), (2, Kind::Event)] {
                self.serial += 1;
                let change = Edit::Change {
                    side,
                    kind,
                    pick: pick + usize::from(side == Side::Crm) * 3,
                    company: None,
                    company_edit: false,
                };
                self.change(w, &change, side, kind).await;
            }
            self.serial += 1;
            let company = Edit::Change {
                side,
                kind: Kind::Contact,
                pick: 5 + usize::from(side == Side::Crm),
                company: Some(2),
                company_edit: true,
            };
            self.change(w, &company, side, Kind::Contact).await;
            self.create(w, side, Kind::Contact, Some(1)).await;
            self.create(w, side, Kind::Task, None).await;
            self.create(w, side, Kind::Event, None).await;
        }
    }

    /// Applies `change` and remembers which record it changed.
    async fn change(&mut self, w: &World, change: &Edit, side: Side, kind: Kind) {
        let before = view(w, side, kind).await.0;
        apply(w, change, self.serial).await;
        let after = view(w, side, kind).await.0;
        for (key, content) in &after {
            if before.get(key).is_some_and(|b| b != content) {
                self.changed.insert((kind, key.clone()));
            }
        }
    }

    /// One deletion of each kind on each side.
    pub(crate) async fn deletions(&mut self, w: &World) {
        for side in [Side::Notes, Side::Crm] {
            for kind in Kind::ALL {
                self.delete(w, side, kind, usize::from(side == Side::Crm) * 2 + 1)
                    .await;
            }
        }
    }

    /// Deletes the `pick`-th record (modulo the count) of `kind` on `side`.
    pub(crate) async fn delete(&mut self, w: &World, side: Side, kind: Kind, pick: usize) {
        let before = view(w, side, kind).await.0;
        let gone = apply(w, &Edit::Delete { side, kind, pick }, 0).await;
        let linked = match &gone {
            Some((side, id, _)) => stored_link(w, *side, kind, id),
            None => true,
        };
        let after = view(w, side, kind).await.0;
        for key in before.keys().filter(|k| !after.contains_key(*k)) {
            self.deleted.insert((kind, key.clone()));
            if !linked {
                self.unrecorded.insert((kind, key.clone()));
            }
        }
    }

    /// Both sides hold exactly the expected records, once each and with the same content, and
    /// each company is one Account.
    pub(crate) async fn check_converged(&self, w: &World) -> Result<(), String> {
        let mut problems = Vec::new();
        for kind in Kind::ALL {
            let (nv, nd) = view(w, Side::Notes, kind).await;
            let (cv, cd) = view(w, Side::Crm, kind).await;
            if !nd.is_empty() || !cd.is_empty() {
                problems.push(format!("{kind:?} duplicated: Notes {nd:?}, CRM {cd:?}"));
            }
            let expected = self.expected(kind);
            // Deleted on one side, changed on the other (or deleted before the store knew it):
            // present on both or on neither.
            let either: BTreeSet<String> = self
                .deleted
                .iter()
                .filter(|d| self.changed.contains(d) || self.unrecorded.contains(d))
                .filter(|(k, _)| *k == kind)
                .map(|(_, key)| key.clone())
                .filter(|key| nv.contains_key(key) && cv.contains_key(key))
                .collect();
            for (label, v) in [("Notes", &nv), ("CRM", &cv)] {
                let held: BTreeSet<String> = v.keys().cloned().collect();
                let lost: Vec<_> = expected.difference(&held).collect();
                let extra: Vec<_> = held
                    .difference(&expected)
                    .filter(|key| !either.contains(*key))
                    .collect();
                if !lost.is_empty() {
                    problems.push(format!("{kind:?} lost on {label}: {lost:?}"));
                }
                if !extra.is_empty() {
                    problems.push(format!(
                        "{kind:?} on {label} but not expected (deleted ones came back?): {extra:?}"
                    ));
                }
            }
            let differ: BTreeMap<_, _> = nv
                .iter()
                .filter(|(k, c)| cv.get(*k).is_some_and(|d| d != *c))
                .map(|(k, c)| (k.clone(), (c.clone(), cv[k].clone())))
                .collect();
            if !differ.is_empty() {
                problems.push(format!("{kind:?} differ (Notes, CRM): {differ:?}"));
            }
        }
        let mut accounts: Vec<String> = w
            .crm_records("Accounts")
            .await
            .iter()
            .map(|a| s(a, "Account_Name"))
            .collect();
        accounts.sort();
        let mut distinct = accounts.clone();
        distinct.dedup();
        if accounts != distinct {
            problems.push(format!("duplicate Accounts: {accounts:?}"));
        }
        for c in COMPANIES {
            if !accounts.iter().any(|a| a == c) {
                problems.push(format!("no Account for {c}: {accounts:?}"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }
}

/// Moves the Zoho clock ten minutes on, as between scheduled runs: Zoho grants ten access
/// tokens per refresh token in ten minutes, and every `nzsync sync` (and every refresh after
/// an expired token) takes one.
pub(crate) async fn ten_minutes_pass(w: &World) {
    w.sim_control(
        &w.sims.zoho_url,
        "/_sim/clock",
        json!({ "advance_secs": 600 }),
    )
    .await;
}

/// The last lines of a run's output, for failure messages.
pub(crate) fn tail(run: &Run) -> String {
    let text = format!("{}\n{}", run.stdout, run.stderr);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// `nzsync sync` until a run succeeds; the number of runs it took.
async fn sync_until_ok(w: &World, extra: &[&str], env: &[(&str, &str)]) -> Result<u32, String> {
    let mut last = String::new();
    for n in 1..=MAX_RUNS {
        ten_minutes_pass(w).await;
        let run = w.sync_env(extra, env).await;
        if run.code == 0 {
            return Ok(n);
        }
        last = format!("exit {}:\n{}", run.code, tail(&run));
        eprintln!(
            "run {n} failed (exit {}): {}",
            run.code,
            run.stderr.lines().last().unwrap_or_default()
        );
    }
    Err(format!("no run succeeded in {MAX_RUNS}; the last: {last}"))
}

/// One cell; `Ok` with the runs each phase took.
async fn cell(kind: FaultKindCell, side: FaultSide, seed: u64) -> Result<Vec<u32>, String> {
    let mut w = World::with_sync_settings_on(
        side.backend(),
        "events = \"all\"\ntime_zone = \"Asia/Tokyo\"",
    )
    .await;
    let url = match side {
        FaultSide::Domino => w.sims.domino_url.clone(),
        FaultSide::Drapi => w.sims.drapi_url.clone(),
        FaultSide::Zoho => w.sims.zoho_url.clone(),
    };
    let timeout = TIMEOUT_MS.to_string();
    let env: Vec<(&str, &str)> = if kind == FaultKindCell::Timeout {
        vec![("NZSYNC_HTTP_TIMEOUT_MS", timeout.as_str())]
    } else {
        Vec::new()
    };
    if kind == FaultKindCell::TokenEndpoint {
        w.sim_control(&url, "/_sim/config", json!({ "token_lifetime_secs": 300 }))
            .await;
    }
    let mut ledger = Ledger::default();
    let mut runs = Vec::new();
    for phase in 0..3 {
        w.renew_token().await;
        match phase {
            0 => ledger.first_data(&w).await,
            1 => ledger.changes(&w).await,
            _ => ledger.deletions(&w).await,
        }
        w.sim_control(
            &url,
            "/_sim/faults",
            json!({ "seed": seed + phase, "rules": kind.rules() }),
        )
        .await;
        let extra: &[&str] = if phase == 2 {
            &["--allow-mass-delete"]
        } else {
            &[]
        };
        let n = sync_until_ok(&w, extra, &env)
            .await
            .map_err(|e| format!("phase {phase}: {e}"))?;
        runs.push(n);
        let fired: Value = reqwest::get(format!("{url}/_sim/faults"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        runs.push(
            fired["rules"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| u32::try_from(r["fired"].as_u64().unwrap()).unwrap())
                .sum(),
        );
        reqwest::Client::new()
            .delete(format!("{url}/_sim/faults"))
            .send()
            .await
            .unwrap();
    }
    // Faults off: the last successful run left nothing to do.
    ten_minutes_pass(&w).await;
    w.clear_calls().await;
    let clean = w.sync(&[]).await;
    if clean.code != 0 {
        return Err(format!("the clean run failed:\n{}", tail(&clean)));
    }
    let writes = w.writes().await;
    if !writes.is_empty() {
        return Err(format!(
            "the run after the faulted ones wrote {writes:?}\n{}",
            tail(&clean)
        ));
    }
    w.renew_token().await;
    ledger.check_converged(&w).await?;
    if kind == FaultKindCell::TokenEndpoint {
        // (runs, faults fired) per phase: blips are ridden out within the run.
        let per_phase: Vec<u32> = runs.iter().step_by(2).copied().collect();
        let fired: u32 = runs.iter().skip(1).step_by(2).sum();
        if per_phase.iter().any(|n| *n != 1) || fired < 9 {
            return Err(format!(
                "token-endpoint blips must not cost a run: runs per phase {per_phase:?}, faults fired {fired}"
            ));
        }
    }
    Ok(runs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_kind_on_each_side_converges_without_loss_or_duplicates() {
    let seed = env_u64("NZSYNC_MATRIX_SEED", 7);
    let only = std::env::var("NZSYNC_MATRIX_CELLS").ok();
    let mut cells = tokio::task::JoinSet::new();
    for kind in FaultKindCell::ALL {
        for side in FaultSide::ALL {
            // No DAS token cells, and the token endpoint is Zoho's: see the module docs.
            if !kind.applies_to(side) {
                continue;
            }
            let name = format!("{}-{}", format!("{side:?}").to_lowercase(), kind.name());
            if only
                .as_deref()
                .is_some_and(|o| !o.split(',').any(|c| c.trim() == name))
            {
                continue;
            }
            cells.spawn(async move { (name, cell(kind, side, seed).await) });
        }
    }
    let mut failures = Vec::new();
    let mut ran = 0;
    while let Some(joined) = cells.join_next().await {
        ran += 1;
        match joined {
            Ok((name, Ok(runs))) => {
                eprintln!("{name}: ok (runs, faults fired per phase: {runs:?})");
            }
            Ok((name, Err(e))) => failures.push(format!("{name}: {e}")),
            Err(e) => failures.push(format!("a cell panicked: {e}")),
        }
    }
    assert!(ran > 0, "no cell matched NZSYNC_MATRIX_CELLS");
    assert!(
        failures.is_empty(),
        "{} of {ran} cells failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
