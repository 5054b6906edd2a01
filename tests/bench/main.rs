//! Sync benchmarks (issue #7): the real `nzsync` binary against both simulators with latency on,
//! counting the calls each side received and timing the runs. Prints a table and writes JSON.
//!
//! ```text
//! cargo bench -p nzsync --bench sync                      # full size
//! NZSYNC_BENCH_SCALE=0.1 cargo bench -p nzsync --bench sync   # a tenth, for a quick look
//! ```
//!
//! Env: `NZSYNC_BENCH_SCALE` (default 1: 10,000 contacts, 10,000 to-dos, 2,000 events),
//! `NZSYNC_BENCH_LATENCY_MS` (default 20), `NZSYNC_BENCH_GAP_S` (pause before each run, default
//! 11: past the engine's 10 s cursor overlap), `NZSYNC_BENCH_API` (`das`, `rest` or `both`, the
//! default: the same data and scenarios through Domino Access Services and through the Domino
//! REST API, side by side), `NZSYNC_BENCH_OUT` (JSON path, default `target/bench-sync.json`).
//!
//! Each scenario reports the calls per side and kind, the minimum the APIs allow for that work,
//! the wall time, and the latency floor. The minimum and floor formulas are in [`minimum`] and
//! `BENCHMARKS.md`: Zoho reads 200 records per page and writes 100 per call; DAS reads 100 view
//! entries per page, has no bulk document read (one GET per document whose items are needed) and
//! writes one document per call; the Domino REST API lists 1,000 whole documents per page and
//! creates 1,000 per call, but writes different values to documents one call each; the floor is
//! Σ over sides of minimum calls × latency ÷ the side's allowed concurrency (sides are not
//! assumed to overlap: writes to one side need the other side's reads).

#![allow(clippy::unwrap_used)] // A benchmark that cannot set up has nothing to report.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nzsync_sim::bench_data::{BenchData, Split};
use nzsync_sim::{CallRecord, Seed, SimConfig, Simulators};
use serde_json::{Value, json};

const DB: &str = "mail/demo.nsf";

/// The Domino API a bench syncs through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    Das,
    Rest,
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Self::Das => "DAS",
            Self::Rest => "REST",
        }
    }
}
/// Zoho concurrency of a Standard edition (reference §5), set on the simulator and the client.
const ZOHO_CONCURRENCY: usize = 10;
/// Requests in flight to Domino (DAS states no limit; this is the config default we ship).
const DOMINO_CONCURRENCY: usize = 8;

fn pages(n: usize, per: usize) -> usize {
    n.div_ceil(per).max(1)
}

/// Calls by side and kind.
#[derive(Clone, Debug, Default, serde::Serialize)]
struct Calls {
    by_kind: BTreeMap<String, usize>,
    total: usize,
}

impl Calls {
    fn of(records: &[CallRecord], kind: impl Fn(&CallRecord) -> String) -> Self {
        let mut c = Self::default();
        for r in records {
            *c.by_kind.entry(kind(r)).or_default() += 1;
            c.total += 1;
        }
        c
    }
}

fn zoho_kind(r: &CallRecord) -> String {
    let p = r.path.as_str();
    let what = if p.contains("/oauth/") {
        "oauth"
    } else if p.contains("/settings/") || p.contains("/users") || p.contains("/org") {
        "setup"
    } else if p.ends_with("/deleted") {
        "deleted"
    } else if p.contains("/search") || p.contains("/coql") {
        "search"
    } else {
        match r.method.as_str() {
            "GET" => "read",
            "POST" => "create",
            "PUT" | "PATCH" => "update",
            "DELETE" => "delete",
            _ => "other",
        }
    };
    what.to_owned()
}

fn domino_kind(r: &CallRecord) -> String {
    let p = r.path.as_str();
    if p.starts_with("/api/v1/") || p.starts_with("/api/pim-v1/") {
        return drapi_kind(r);
    }
    let what = match r.method.as_str() {
        "GET" if p.contains("/api/calendar/events/") => "event read",
        "GET" if p.contains("/api/calendar") => "calendar list",
        "GET" if p.contains("/collections/") => "view page",
        "GET" if p.ends_with("/api/data/documents") => "changes list",
        "GET" if p.contains("/documents/unid/") => "document read",
        "GET" => "setup",
        "POST" => "create",
        "PUT" | "PATCH" => "update",
        "DELETE" => "delete",
        _ => "other",
    };
    what.to_owned()
}

/// The kind of a Domino REST API call.
fn drapi_kind(r: &CallRecord) -> String {
    let p = r.path.as_str();
    let q = r.query.as_deref().unwrap_or("");
    let what = match r.method.as_str() {
        "POST" if p == "/api/v1/auth" => "login",
        "POST" if p == "/api/v1/query" => "changes query",
        "POST" if p == "/api/v1/bulk/unid" => "bulk read",
        "GET" if p.starts_with("/api/v1/lists/") && q.contains("documents=true") => {
            "view page (documents)"
        }
        "GET" if p.starts_with("/api/v1/lists/") => "view UNID list",
        "GET" if p.starts_with("/api/pim-v1/calendar/default/") => "event read",
        "GET" if p.starts_with("/api/pim-v1/calendar") => "calendar list",
        "GET" => "setup",
        "POST" if p == "/api/v1/bulk/delete" => "delete",
        "POST" => "create",
        "PUT" | "PATCH" => "update",
        "DELETE" => "delete",
        _ => "other",
    };
    what.to_owned()
}

/// The minimum calls the APIs allow for an initial two-way sync of these splits, per side.
///
/// Zoho and DAS: see [`minimum_das`]. The Domino REST API: one login, the scope's schema and
/// the mailbox's replica ID; per module a list of whole documents, 1,000 a page (a walk that
/// ends on a short page: ⌊n ÷ 1,000⌋ + 1 pages), or for events one calendar list; creates 1,000
/// a call (events one call each: PIM has no bulk create); an update per record that existed in
/// Notes (the cross-ID `ZohoCRMId`, a different value per document, which no bulk call writes;
/// events hold no cross-ID in JSCalendar, so none).
fn minimum(splits: &[(&str, Split)], api: Api) -> Min {
    let mut m = minimum_das(splits);
    if api == Api::Das {
        return m;
    }
    m.domino_reads = 3;
    m.domino_writes = 0;
    for (module, s) in splits {
        if *module == "events" {
            m.domino_reads += 1;
            m.domino_writes += s.crm_only;
        } else {
            m.domino_reads += s.notes() / 1000 + 1;
            m.domino_writes += s.crm_only.div_ceil(1000);
            m.domino_writes += s.notes();
        }
    }
    m
}

/// The minimum calls the APIs allow for an initial two-way sync of these splits through DAS,
/// per side.
///
/// Zoho: per module, list pages of 200 over what the CRM holds; creates in calls of 100 (Notes-
/// only records, with their cross-ID); updates in calls of 100 (the cross-ID `Notes_UNID` on every
/// record that existed in the CRM before); plus setup: one token, the current user (owner id and
/// time zone), one field check per module, and per module the custom-view list that finds the
/// system "My …" view, so that only the user's own records are listed (owner scope). DAS: per
/// module, view pages of 100 (to-dos, contacts) or one calendar range read (events); one GET per
/// Notes record whose items are needed (DAS has no bulk document read; the calendar list lacks
/// attendees and description); one call per document written: a create per CRM-only record
/// (cross-ID included) and an update per record that existed in Notes (the cross-ID
/// `ZohoCRMId`); plus setup: one database list (the mail file's replica ID, which cross-IDs name).
fn minimum_das(splits: &[(&str, Split)]) -> Min {
    let mut m = Min {
        zoho_reads: 1 + 1,
        zoho_writes: 0,
        domino_reads: 1,
        domino_writes: 0,
    };
    for (module, s) in splits {
        m.zoho_reads += 1; // field check / cross-ID field
        m.zoho_reads += 1; // custom views: the "My …" view
        m.zoho_reads += pages(s.crm(), 200);
        m.zoho_writes += s.notes_only.div_ceil(100);
        m.zoho_writes += s.crm().div_ceil(100);
        m.domino_reads += if *module == "events" {
            1
        } else {
            pages(s.notes(), 100)
        };
        m.domino_reads += s.notes(); // one GET per document
        m.domino_writes += s.crm_only; // creates
        m.domino_writes += s.notes(); // cross-ID on what Notes held
    }
    m
}

/// The minimum calls of a run, per side, split into reads and writes.
#[derive(Clone, Copy, Debug, serde::Serialize)]
struct Min {
    zoho_reads: usize,
    zoho_writes: usize,
    domino_reads: usize,
    domino_writes: usize,
}

impl Min {
    fn zoho(self) -> usize {
        self.zoho_reads + self.zoho_writes
    }
    fn domino(self) -> usize {
        self.domino_reads + self.domino_writes
    }
    /// Σ over sides of calls × latency ÷ the side's concurrency (sides one after the other).
    #[allow(clippy::cast_precision_loss)]
    fn floor_ms(self, latency_ms: f64) -> f64 {
        self.zoho() as f64 * latency_ms / ZOHO_CONCURRENCY as f64
            + self.domino() as f64 * latency_ms / DOMINO_CONCURRENCY as f64
    }
    /// The tighter floor (issue #14): the two sides' reads overlap, then their writes do:
    /// max(Notes reads, CRM reads) + max(Notes writes, CRM writes), each side at its
    /// allowed concurrency.
    #[allow(clippy::cast_precision_loss)]
    fn overlap_floor_ms(self, latency_ms: f64) -> f64 {
        let z = |n: usize| n as f64 * latency_ms / ZOHO_CONCURRENCY as f64;
        let d = |n: usize| n as f64 * latency_ms / DOMINO_CONCURRENCY as f64;
        z(self.zoho_reads).max(d(self.domino_reads))
            + z(self.zoho_writes).max(d(self.domino_writes))
    }
}

struct Bench {
    api: Api,
    sims: Simulators,
    dir: tempfile::TempDir,
    latency: Duration,
    http: reqwest::Client,
    /// Pause before each run.
    gap: Duration,
    /// The bench's own Zoho access token, for edits between runs (Zoho grants few per minute).
    token: String,
}

#[derive(serde::Serialize)]
struct Row {
    scenario: String,
    zoho: Calls,
    domino: Calls,
    zoho_min: usize,
    domino_min: usize,
    min: Min,
    calls_ratio: f64,
    wall_ms: u128,
    floor_ms: u128,
    wall_ratio: f64,
    overlap_floor_ms: u128,
    overlap_ratio: f64,
    outcome: String,
}

impl Bench {
    async fn control(&self, url: &str, path: &str, body: Value) {
        let r = self
            .http
            .post(format!("{url}/_sim/{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "{path}: {}",
            r.text().await.unwrap()
        );
    }

    async fn latency(&self, ms: u128) {
        for url in [
            &self.sims.domino_url,
            &self.sims.drapi_url,
            &self.sims.zoho_url,
        ] {
            self.control(url, "latency", json!({ "ms": ms })).await;
        }
    }

    async fn sync(&self, scenario: &str, min: Min) -> Row {
        let (zoho_min, domino_min) = (min.zoho(), min.domino());
        // Runs are spaced like a schedule: past the engine's 10 s cursor overlap, so a run does
        // not re-read what the previous run saw (set NZSYNC_BENCH_GAP_S=0 to see that cost).
        tokio::time::sleep(self.gap).await;
        self.latency(self.latency.as_millis()).await;
        let domino_calls = || match self.api {
            Api::Das => self.sims.domino().calls(),
            Api::Rest => self.sims.domino().drapi_calls(),
        };
        let before_d = domino_calls().len();
        let before_z = self.sims.zoho().calls().len();
        let t = Instant::now();
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
            .args(["sync", "--json", "--config"])
            .arg(self.dir.path().join("nzsync.toml"))
            .output()
            .await
            .unwrap();
        let wall = t.elapsed();
        self.latency(0).await;
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{scenario}: no report ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let d = domino_calls();
        let z = self.sims.zoho().calls();
        let domino = Calls::of(&d[before_d.min(d.len())..], domino_kind);
        let zoho = Calls::of(&z[before_z.min(z.len())..], zoho_kind);
        let lat = self.latency.as_secs_f64() * 1000.0;
        let floor = min.floor_ms(lat);
        let overlap = min.overlap_floor_ms(lat);
        #[allow(clippy::cast_precision_loss)]
        let calls_ratio = (zoho.total + domino.total) as f64 / (zoho_min + domino_min) as f64;
        Row {
            scenario: format!("{}: {scenario}", self.api.name()),
            calls_ratio,
            zoho,
            domino,
            zoho_min,
            domino_min,
            min,
            wall_ms: wall.as_millis(),
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            floor_ms: floor as u128,
            wall_ratio: wall.as_secs_f64() * 1000.0 / floor.max(1.0),
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            overlap_floor_ms: overlap as u128,
            overlap_ratio: wall.as_secs_f64() * 1000.0 / overlap.max(1.0),
            outcome: report["outcome"].as_str().unwrap_or("?").to_owned(),
        }
    }
}

fn config(sims: &Simulators, api: Api) -> String {
    let (d, api) = match api {
        Api::Das => (&sims.domino_url, "das"),
        Api::Rest => (&sims.drapi_url, "rest"),
    };
    format!(
        r#"[domino]
url = "{d}"
api = "{api}"
user = "demo"
password = "demo"
mail_db = "{DB}"
concurrency = {DOMINO_CONCURRENCY}

[zoho]
api_domain = "{z}"
accounts_url = "{z}"
client_id = "demo-client"
client_secret = "demo-secret"
refresh_token = "demo-refresh"
concurrency = {ZOHO_CONCURRENCY}

[sync]
events = "all"

[store]
path = "state.db"
"#,
        z = sims.zoho_url
    )
}

fn env_f64(key: &str, default: f64) -> f64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The issue's targets for the Domino REST API against DAS, when both ran.
#[allow(clippy::cast_precision_loss)]
fn print_comparison(rows: &[Row]) {
    let row = |name: &str| rows.iter().find(|r| r.scenario == name);
    let (Some(das), Some(rest)) = (row("DAS: initial two-way"), row("REST: initial two-way"))
    else {
        return;
    };
    let calls = rest.domino.total as f64 / das.domino.total.max(1) as f64;
    let wall = rest.wall_ms as f64 / das.wall_ms.max(1) as f64;
    let settled = row("REST: incremental, nothing changed (settled)").map_or(0, |r| r.domino.total);
    println!("\nthe Domino REST API against DAS, initial two-way:");
    println!(
        "  Domino calls: {} against {} = {:.1} % (target ≤ 2 %); wall: {:.2} s against {:.2} s = {:.2}× (target ≤ 0.3×)",
        rest.domino.total,
        das.domino.total,
        calls * 100.0,
        rest.wall_ms as f64 / 1000.0,
        das.wall_ms as f64 / 1000.0,
        wall
    );
    println!(
        "  REST calls ÷ REST minimum: {:.3}× (target ≤ 1.05×); a run with nothing changed: {settled} Domino REST API calls (target ≤ 10)",
        rest.domino.total as f64 / rest.domino_min.max(1) as f64
    );
}

fn print_table(rows: &[Row]) {
    println!(
        "| scenario | Zoho calls / min | Domino calls / min | calls ratio (≤ 1.03×) | wall / floor | wall / overlap floor (aim ≤ 1.2× initial) | outcome |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    #[allow(clippy::cast_precision_loss)]
    for r in rows {
        let s = |ms: u128| ms as f64 / 1000.0;
        println!(
            "| {} | {} / {} | {} / {} | **{:.2}×** | {:.2} s / {:.2} s = **{:.2}×** | {:.2} s / {:.2} s = **{:.2}×** | {} |",
            r.scenario,
            r.zoho.total,
            r.zoho_min,
            r.domino.total,
            r.domino_min,
            r.calls_ratio,
            s(r.wall_ms),
            s(r.floor_ms),
            r.wall_ratio,
            s(r.wall_ms),
            s(r.overlap_floor_ms),
            r.overlap_ratio,
            r.outcome
        );
    }
    for r in rows {
        println!("  {}: zoho {:?}", r.scenario, r.zoho.by_kind);
        println!("  {}: domino {:?}", r.scenario, r.domino.by_kind);
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let scale = env_f64("NZSYNC_BENCH_SCALE", 1.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = |full: f64| ((full * scale).round() as usize).max(10);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let latency = Duration::from_millis(env_f64("NZSYNC_BENCH_LATENCY_MS", 20.0) as u64);
    let apis: Vec<Api> = match std::env::var("NZSYNC_BENCH_API").as_deref() {
        Ok("das") => vec![Api::Das],
        Ok("rest") => vec![Api::Rest],
        _ => vec![Api::Das, Api::Rest],
    };
    let data = BenchData::new(n(10_000.0), n(10_000.0), n(2_000.0));
    let (contacts, todos, events) = (data.contacts, data.todos, data.events);
    let mut rows = Vec::new();
    for api in apis {
        rows.extend(scenarios(api, &data, latency).await);
    }
    println!(
        "\nnzsync sync benchmarks: scale {scale} ({} contacts, {} to-dos, {} events), latency {} ms, Zoho concurrency {ZOHO_CONCURRENCY}, Domino concurrency {DOMINO_CONCURRENCY}\n",
        contacts.total(),
        todos.total(),
        events.total(),
        latency.as_millis()
    );
    print_table(&rows);
    print_comparison(&rows);
    let out = std::env::var("NZSYNC_BENCH_OUT").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-sync.json").to_owned()
    });
    let json = json!({
        "scale": scale,
        "latency_ms": latency.as_millis(),
        "zoho_concurrency": ZOHO_CONCURRENCY,
        "domino_concurrency": DOMINO_CONCURRENCY,
        "rows": rows,
    });
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    println!("\nJSON written to {out}");
}

async fn zoho_token(http: &reqwest::Client, zoho_url: &str) -> String {
    let r: Value = http
        .post(format!(
            "{zoho_url}/oauth/v2/token?refresh_token=demo-refresh&client_id=demo-client&client_secret=demo-secret&grant_type=refresh_token"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_owned()
}

impl Bench {
    async fn zoho_put(&self, module: &str, records: &[Value]) {
        let token = &self.token;
        let r = self
            .http
            .put(format!("{}/crm/v8/{module}", self.sims.zoho_url))
            .header("Authorization", format!("Zoho-oauthtoken {token}"))
            .json(&json!({ "data": records }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }

    fn notes_unids(&self, form: &str) -> Vec<String> {
        let dump = self.sims.domino().dump();
        dump["databases"][DB]["documents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["form"] == form || d["items"]["Form"] == form)
            .filter_map(|d| d["unid"].as_str().map(str::to_owned))
            .collect()
    }

    async fn notes_patch(&self, unid: &str, items: Value) {
        let r = self
            .http
            .patch(format!(
                "{}/{DB}/api/data/documents/unid/{unid}",
                self.sims.domino_url
            ))
            .basic_auth("demo", Some("demo"))
            .json(&items)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
}

/// The scenarios through `api`, on simulators of their own holding `data`.
async fn scenarios(api: Api, data: &BenchData, latency: Duration) -> Vec<Row> {
    let sims = nzsync_sim::start(SimConfig::loopback(Seed::Empty))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nzsync.toml"), config(&sims, api)).unwrap();
    let http = reqwest::Client::new();
    let token = zoho_token(&http, &sims.zoho_url).await;
    let bench = Bench {
        api,
        sims,
        dir,
        latency,
        http,
        token,
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        gap: Duration::from_secs(env_f64("NZSYNC_BENCH_GAP_S", 11.0) as u64),
    };
    bench
        .control(
            &bench.sims.zoho_url,
            "config",
            json!({ "concurrency": ZOHO_CONCURRENCY }),
        )
        .await;

    let (contacts, todos, events) = (data.contacts, data.todos, data.events);
    bench.sims.load_bench_data(data, DB).unwrap();
    let splits = [("contacts", contacts), ("tasks", todos), ("events", events)];

    let mut rows = Vec::new();
    rows.push(bench.sync("initial two-way", minimum(&splits, api)).await);
    // Nothing changed. Zoho: a token, the user's time zone, per module one `If-Modified-Since`
    // read and one `/deleted`. DAS: the database check, per view the pages that list what
    // exists (DAS reports no deletions, so finding deleted documents takes the full view) and
    // one `documents?since`, and one calendar range read.
    // The Domino REST API: a login, the scope's schema, per module one DQL query (its
    // changed documents whole) and one UNID list, and one calendar list.
    let settled_zoho = 2 + 2 * 3;
    let settled_domino: usize = match api {
        Api::Das => {
            1 + pages(contacts.notes() + contacts.crm_only, 100)
                + pages(todos.notes() + todos.crm_only, 100)
                + 2
                + 1
        }
        Api::Rest => 2 + 2 * 2 + 1,
    };
    // The first run after the initial one also reads back, once, every Notes document the
    // initial sync wrote (its cross-ID): DAS answers a write with no `Last-Modified`, and
    // `@modified` has one-second resolution, so only the document itself tells our write from
    // someone's edit in the same second. Skipping that read would risk losing such an edit.
    // Through the Domino REST API the read-back costs nothing more: the changes query returns
    // the documents whole.
    let written = |s: Split| s.notes() + s.crm_only;
    let echoes = match api {
        Api::Das => written(contacts) + written(todos) + written(events),
        Api::Rest => 0,
    };
    let reads = |zoho: usize, domino: usize| Min {
        zoho_reads: zoho,
        zoho_writes: 0,
        domino_reads: domino,
        domino_writes: 0,
    };
    rows.push(
        bench
            .sync(
                "incremental, nothing changed (first after initial)",
                reads(settled_zoho, settled_domino + echoes),
            )
            .await,
    );
    rows.push(
        bench
            .sync(
                "incremental, nothing changed (settled)",
                reads(settled_zoho, settled_domino),
            )
            .await,
    );

    // 1% changed on each side, through the APIs (latency off while editing).
    let changed = |s: Split| (s.notes().min(s.crm()) / 100).max(1);
    let (mut zw, mut dw) = (0, 0);
    for (module, form, s) in [("Contacts", "Person", contacts), ("Tasks", "Task", todos)] {
        let k = changed(s);
        let crm = bench.sims.zoho().dump()["modules"][module].clone();
        let updates: Vec<Value> = crm
            .as_array()
            .unwrap()
            .iter()
            .take(k)
            .map(|r| {
                let mut u = json!({"id": r["id"]});
                if module == "Contacts" {
                    u["Title"] = json!("Manager");
                } else {
                    u["Priority"] = json!("High");
                }
                u
            })
            .collect();
        for chunk in updates.chunks(100) {
            bench.zoho_put(module, chunk).await;
        }
        let docs = bench.notes_unids(form);
        for unid in docs.iter().rev().take(k) {
            let items = if form == "Person" {
                json!({"OfficeCity": "Osaka"})
            } else {
                json!({"Subject": format!("Edited {unid}")})
            };
            bench.notes_patch(unid, items).await;
        }
        zw += k;
        dw += k;
    }
    // Minimum: the incremental base, plus reading k changed docs in Notes and writing k to
    // each side (Zoho in calls of 100 per module; counted half as reads, half as writes).
    rows.push(
        bench
            .sync(
                "incremental, 1% changed each side",
                Min {
                    zoho_reads: settled_zoho + zw.div_ceil(100).max(1),
                    zoho_writes: zw.div_ceil(100).max(1),
                    domino_reads: settled_domino + if api == Api::Das { dw } else { 0 },
                    domino_writes: dw,
                },
            )
            .await,
    );
    // The next run reads back the dw documents the previous one wrote to Notes (see above).
    rows.push(
        bench
            .sync(
                "incremental, after 1% (echo reads)",
                reads(
                    settled_zoho,
                    settled_domino + if api == Api::Das { dw } else { 0 },
                ),
            )
            .await,
    );
    bench.sims.shutdown().await;
    rows
}
