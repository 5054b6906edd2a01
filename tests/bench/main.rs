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
//! 11: past the engine's 10 s cursor overlap), `NZSYNC_BENCH_OUT` (JSON path, default
//! `target/bench-sync.json`).
//!
//! Each scenario reports the calls per side and kind, the minimum the APIs allow for that work,
//! the wall time, and the latency floor. The minimum and floor formulas are in [`minimum`] and
//! `BENCHMARKS.md`: Zoho reads 200 records per page and writes 100 per call; DAS reads 100 view
//! entries per page, has no bulk document read (one GET per document whose items are needed) and
//! writes one document per call; the floor is Σ over sides of minimum calls × latency ÷ the
//! side's allowed concurrency (sides are not assumed to overlap: writes to one side need the
//! other side's reads).

#![allow(clippy::unwrap_used)] // A benchmark that cannot set up has nothing to report.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nzsync_sim::{CallRecord, Seed, SimConfig, Simulators};
use serde_json::{Value, json};

const DB: &str = "mail/demo.nsf";
/// Zoho concurrency of a Standard edition (reference §5), set on the simulator and the client.
const ZOHO_CONCURRENCY: usize = 10;
/// Requests in flight to Domino (DAS states no limit; this is the config default we ship).
const DOMINO_CONCURRENCY: usize = 8;

/// How many records of a module start where, in a two-way initial sync.
#[derive(Clone, Copy, Debug)]
struct Split {
    /// Only in Notes.
    notes_only: usize,
    /// Only in the CRM.
    crm_only: usize,
    /// On both sides, matching (same e-mail / subject + due / title + start).
    both: usize,
}

impl Split {
    fn of(total: usize) -> Self {
        let both = total / 10;
        let notes_only = (total - both) / 2;
        Self {
            notes_only,
            crm_only: total - both - notes_only,
            both,
        }
    }
    fn notes(self) -> usize {
        self.notes_only + self.both
    }
    fn crm(self) -> usize {
        self.crm_only + self.both
    }
}

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

/// The minimum calls the APIs allow for an initial two-way sync of these splits, per side.
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
fn minimum(splits: &[(&str, Split)]) -> (usize, usize) {
    let mut zoho = 1 + 1;
    let mut domino = 1;
    for (module, s) in splits {
        zoho += 1; // field check / cross-ID field
        zoho += 1; // custom views: the "My …" view
        zoho += pages(s.crm(), 200);
        zoho += s.notes_only.div_ceil(100);
        zoho += s.crm().div_ceil(100);
        domino += if *module == "events" {
            1
        } else {
            pages(s.notes(), 100)
        };
        domino += s.notes(); // one GET per document
        domino += s.crm_only; // creates
        domino += s.notes(); // cross-ID on what Notes held
    }
    (zoho, domino)
}

struct Bench {
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
    calls_ratio: f64,
    wall_ms: u128,
    floor_ms: u128,
    wall_ratio: f64,
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
        for url in [&self.sims.domino_url, &self.sims.zoho_url] {
            self.control(url, "latency", json!({ "ms": ms })).await;
        }
    }

    async fn sync(&self, scenario: &str, zoho_min: usize, domino_min: usize) -> Row {
        // Runs are spaced like a schedule: past the engine's 10 s cursor overlap, so a run does
        // not re-read what the previous run saw (set NZSYNC_BENCH_GAP_S=0 to see that cost).
        tokio::time::sleep(self.gap).await;
        self.latency(self.latency.as_millis()).await;
        let before_d = self.sims.domino().calls().len();
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
        let d = self.sims.domino().calls();
        let z = self.sims.zoho().calls();
        let domino = Calls::of(&d[before_d.min(d.len())..], domino_kind);
        let zoho = Calls::of(&z[before_z.min(z.len())..], zoho_kind);
        let lat = self.latency.as_secs_f64() * 1000.0;
        #[allow(clippy::cast_precision_loss)]
        let floor = zoho_min as f64 * lat / ZOHO_CONCURRENCY as f64
            + domino_min as f64 * lat / DOMINO_CONCURRENCY as f64;
        #[allow(clippy::cast_precision_loss)]
        let calls_ratio = (zoho.total + domino.total) as f64 / (zoho_min + domino_min) as f64;
        Row {
            scenario: scenario.to_owned(),
            calls_ratio,
            zoho,
            domino,
            zoho_min,
            domino_min,
            wall_ms: wall.as_millis(),
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            floor_ms: floor as u128,
            wall_ratio: wall.as_secs_f64() * 1000.0 / floor.max(1.0),
            outcome: report["outcome"].as_str().unwrap_or("?").to_owned(),
        }
    }
}

fn seed_data(contacts: Split, todos: Split, events: Split) -> (Value, Value) {
    let mut docs = Vec::new();
    let mut crm_contacts = Vec::new();
    let mut crm_tasks = Vec::new();
    let mut crm_events = Vec::new();
    let mut notes_events = Vec::new();
    let person = |i: usize| {
        json!({"form": "Person", "items": {
            "FirstName": format!("First{i}"), "LastName": format!("Last{i}"),
            "MailAddress": format!("person{i}@example.com"), "OfficePhoneNumber": format!("+81 3 {i:08}"),
            "JobTitle": "Engineer", "OfficeCity": "Tokyo"}})
    };
    let contact = |i: usize| {
        json!({"First_Name": format!("First{i}"), "Last_Name": format!("Last{i}"),
               "Email": format!("person{i}@example.com"), "Phone": format!("+81 3 {i:08}"),
               "Title": "Engineer", "Mailing_City": "Tokyo"})
    };
    let due = |i: usize| format!("2027-{:02}-{:02}", 1 + i % 12, 1 + i % 28);
    let task = |i: usize| {
        json!({"form": "Task", "items": {"Subject": format!("Task {i}"),
               "DueDateTime": {"type": "datetime", "data": format!("{}T03:00:00Z", due(i))},
               "Importance": "2"}})
    };
    let crm_task = |i: usize| json!({"Subject": format!("Task {i}"), "Due_Date": due(i), "Priority": "Normal", "Status": "Not Started"});
    // Events inside the default window (the next months), on the hour in UTC.
    let start = |i: usize| {
        let day = 1 + i % 28;
        let month = 1 + (i / 28) % 12;
        let hour = i % 9;
        (format!("2027-{month:02}-{day:02}"), hour)
    };
    let notes_event = |i: usize| {
        let (d, h) = start(i);
        json!({"event": {"summary": format!("Meeting {i}"),
            "start": {"date": d, "time": format!("{h:02}:00:00"), "utc": true},
            "end": {"date": d, "time": format!("{h:02}:30:00"), "utc": true}}})
    };
    let crm_event = |i: usize| {
        let (d, h) = start(i);
        json!({"Event_Title": format!("Meeting {i}"), "All_day": false,
               "Start_DateTime": format!("{d}T{h:02}:00:00+00:00"),
               "End_DateTime": format!("{d}T{h:02}:30:00+00:00")})
    };
    let mut i = 0;
    for (split, n_doc, c_rec) in [
        (
            contacts,
            &person as &dyn Fn(usize) -> Value,
            &contact as &dyn Fn(usize) -> Value,
        ),
        (todos, &task, &crm_task),
    ] {
        let target = if c_rec(0).get("Subject").is_some() {
            &mut crm_tasks
        } else {
            &mut crm_contacts
        };
        for k in 0..split.notes_only + split.crm_only + split.both {
            i += 1;
            if k < split.notes_only + split.both {
                docs.push(n_doc(i));
            }
            if k >= split.notes_only {
                target.push(c_rec(i));
            }
        }
    }
    for k in 0..events.notes_only + events.crm_only + events.both {
        if k < events.notes_only + events.both {
            notes_events.push(notes_event(k));
        }
        if k >= events.notes_only {
            crm_events.push(crm_event(k));
        }
    }
    (
        json!({"databases": {DB: {"documents": docs, "events": notes_events}}}),
        json!({"modules": {"Contacts": crm_contacts, "Tasks": crm_tasks, "Events": crm_events}}),
    )
}

fn config(sims: &Simulators) -> String {
    format!(
        r#"[domino]
url = "{d}"
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
        d = sims.domino_url,
        z = sims.zoho_url
    )
}

fn env_f64(key: &str, default: f64) -> f64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<34} {:>7} {:>7} {:>7} {:>7} {:>6} {:>9} {:>9} {:>6}  outcome",
        "scenario", "zoho", "z-min", "domino", "d-min", "calls", "wall ms", "floor ms", "wall"
    );
    for r in rows {
        println!(
            "{:<34} {:>7} {:>7} {:>7} {:>7} {:>5.2}x {:>9} {:>9} {:>5.2}x  {}",
            r.scenario,
            r.zoho.total,
            r.zoho_min,
            r.domino.total,
            r.domino_min,
            r.calls_ratio,
            r.wall_ms,
            r.floor_ms,
            r.wall_ratio,
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
    let sims = nzsync_sim::start(SimConfig::loopback(Seed::Empty))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nzsync.toml"), config(&sims)).unwrap();
    let http = reqwest::Client::new();
    let token = zoho_token(&http, &sims.zoho_url).await;
    let bench = Bench {
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

    let (contacts, todos, events) = (
        Split::of(n(10_000.0)),
        Split::of(n(10_000.0)),
        Split::of(n(2_000.0)),
    );
    let (notes, crm) = seed_data(contacts, todos, events);
    bench.sims.domino().load(&notes).unwrap();
    bench.sims.zoho().load(&crm).unwrap();
    let splits = [("contacts", contacts), ("tasks", todos), ("events", events)];

    let mut rows = Vec::new();
    let (zmin, dmin) = minimum(&splits);
    rows.push(bench.sync("initial two-way", zmin, dmin).await);
    // Nothing changed. Zoho: a token, the user's time zone, per module one `If-Modified-Since`
    // read and one `/deleted`. DAS: the database check, per view the pages that list what
    // exists (DAS reports no deletions, so finding deleted documents takes the full view) and
    // one `documents?since`, and one calendar range read.
    let settled_zoho = 2 + 2 * 3;
    let settled_domino = 1
        + pages(contacts.notes() + contacts.crm_only, 100)
        + pages(todos.notes() + todos.crm_only, 100)
        + 2
        + 1;
    // The first run after the initial one also reads back, once, every Notes document the
    // initial sync wrote (its cross-ID): DAS answers a write with no `Last-Modified`, and
    // `@modified` has one-second resolution, so only the document itself tells our write from
    // someone's edit in the same second. Skipping that read would risk losing such an edit.
    let written = |s: Split| s.notes() + s.crm_only;
    let echoes = written(contacts) + written(todos) + written(events);
    rows.push(
        bench
            .sync(
                "incremental, nothing changed (first after initial)",
                settled_zoho,
                settled_domino + echoes,
            )
            .await,
    );
    rows.push(
        bench
            .sync(
                "incremental, nothing changed (settled)",
                settled_zoho,
                settled_domino,
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
    // each side (Zoho in calls of 100 per module).
    rows.push(
        bench
            .sync(
                "incremental, 1% changed each side",
                settled_zoho + 2 * zw.div_ceil(100).max(1),
                settled_domino + 2 * dw,
            )
            .await,
    );
    // The next run reads back the dw documents the previous one wrote to Notes (see above).
    rows.push(
        bench
            .sync(
                "incremental, after 1% (echo reads)",
                settled_zoho,
                settled_domino + dw,
            )
            .await,
    );

    println!(
        "\nnzsync sync benchmarks: scale {scale} ({} contacts, {} to-dos, {} events), latency {} ms, Zoho concurrency {ZOHO_CONCURRENCY}, Domino concurrency {DOMINO_CONCURRENCY}\n",
        contacts.notes_only + contacts.crm_only + contacts.both,
        todos.notes_only + todos.crm_only + todos.both,
        events.notes_only + events.crm_only + events.both,
        latency.as_millis()
    );
    print_table(&rows);
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
