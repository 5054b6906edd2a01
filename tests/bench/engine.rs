//! Engine throughput (issue #7): the sync engine working through 100,000 contacts natively,
//! inside wasmtime (the component the host runs, through [`nzsync::runner::Runner::run_with`])
//! and in headless Chromium (the wasm-bindgen JS package), on the same recorded answers.
//!
//! ```text
//! cargo bench -p nzsync --bench engine                             # 100,000 contacts
//! NZSYNC_BENCH_SCALE=0.05 cargo bench -p nzsync --bench engine     # 5,000, for a quick look
//! ```
//!
//! Env: `NZSYNC_BENCH_SCALE` (default 1 = 100,000 contacts), `NZSYNC_BENCH_REPEAT` (replays
//! per scenario and embedder, default 3; the fastest is reported), `NZSYNC_CHROMIUM` (the
//! browser; without one the Chromium column is skipped), `NZSYNC_BENCH_OUT` (JSON path,
//! default `target/bench-engine.json`), `NZSYNC_BENCH_TRACES_DIR` (also write the recorded
//! traces there, as the wasm embedders get them, for profiling).
//!
//! How: the contacts are loaded into the simulators (45 % only in Notes, 45 % only in the CRM,
//! 10 % on both sides), and the native engine runs against them three times with a fixed
//! clock per run, each request→answer recorded: `initial`, the two-way sync that links all of
//! them; `first-inc`, the first incremental run after it (which reads back every Notes document
//! the initial sync wrote, see `BENCHMARKS.md`); and `steady`, an incremental run over the
//! 100,000 links with nothing changed (the view pages are still read in full: DAS reports no
//! deletions). Runs are spaced 11 s apart, past the engine's cursor overlap. The runs are replayed from memory to each embedder (answers
//! first in, first out, one per wait), so what is timed is the engine's work, not I/O; each
//! replay must end with the recorded report. Reported: records per second and the wasm ÷
//! native time ratio (issue #7's target: ≤ 2). Chromium also reports its JS heap and the wasm
//! linear memory (see the `memory` bench).

#![allow(clippy::unwrap_used)] // A benchmark that cannot set up has nothing to report.

mod chromium;
mod replay;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use replay::{Answers, Trace, env_f64, work};
use serde_json::{Value, json};
use sync_core::EngineConfig;

const DB: &str = "mail/demo.nsf";

fn config() -> EngineConfig {
    EngineConfig {
        mail_db: DB.into(),
        settings: serde_json::from_value(json!({"contacts": true, "tasks": false,
            "events": "off", "direction": "two_way", "conflict": "crm_wins"}))
        .unwrap(),
        notes_concurrency: 8,
        crm_concurrency: 10,
        time_zone: Some("Asia/Tokyo".into()),
        // As `nzsync sync` and the widget run it: links read from the store page by page.
        links: sync_core::LinkSupply::OnRequest,
        ..EngineConfig::default()
    }
}

/// Replays `trace` to the native engine `reps` times; the fastest time.
async fn native(trace: &Trace, reps: usize) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..reps {
        let mut answers = Answers::of(trace);
        let (report, _, _, took) = replay::drive(&trace.config, &trace.state, trace.now, |r| {
            std::future::ready(answers.take(&r))
        })
        .await;
        assert_eq!(
            work(&report),
            work(trace.report.as_ref().unwrap()),
            "native replay"
        );
        best = best.min(took);
    }
    best
}

/// Replays `traces` to the wasmtime component `reps` times each (one compiled component, one
/// store per run, as the host does) under `limits`; the fastest time per trace.
fn wasmtime(traces: Vec<Trace>, reps: usize, limits: nzsync::runner::Limits) -> Vec<Duration> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let runner = nzsync::runner::Runner::new(limits).unwrap();
        traces
            .iter()
            .map(|trace| {
                let mut best = Duration::MAX;
                for _ in 0..reps {
                    let answers = Arc::new(Mutex::new(Answers::of(trace)));
                    let transport: nzsync::runner::Transport = Arc::new(move |req, _parts| {
                        let a = answers.lock().unwrap().take(&req);
                        Box::pin(std::future::ready(a))
                    });
                    let now = trace.now;
                    let bare = replay::without_links(&trace.state);
                    let t = Instant::now();
                    let report = rt
                        .block_on(runner.run_with(
                            &trace.config,
                            &bare,
                            transport,
                            move || now,
                            &mut nzsync::runner::Unkept::new(&trace.state),
                        ))
                        .unwrap();
                    let took = t.elapsed();
                    assert_eq!(
                        work(&report),
                        work(trace.report.as_ref().unwrap()),
                        "wasmtime replay"
                    );
                    best = best.min(took);
                }
                best
            })
            .collect()
    })
    .join()
    .unwrap()
}

#[derive(serde::Serialize)]
struct Row {
    scenario: String,
    records: usize,
    requests: usize,
    /// Seconds the recording against the simulators took (engine, simulators and HTTP).
    recorded_s: f64,
    native_ms: f64,
    wasmtime_ms: f64,
    /// wasmtime counting fuel as well (`nzsync` bounds each call by its deadline alone).
    wasmtime_fuelled_ms: f64,
    chromium_ms: Option<f64>,
    native_per_s: f64,
    wasmtime_per_s: f64,
    chromium_per_s: Option<f64>,
    wasmtime_ratio: f64,
    chromium_ratio: Option<f64>,
    /// Chromium: JS heap used before the run (trace loaded) and at its peak, wasm memory.
    chromium_memory: Option<Value>,
}

/// Native records per second of the initial sync before the streaming engine (20,000
/// contacts, 2026-11-25).
const NATIVE_BEFORE_PER_S: f64 = 12_500.0;

/// The issue #14 targets next to the results, as Markdown tables.
fn print_targets(rows: &[Row]) {
    let verdict = |ok: bool| if ok { "yes" } else { "**no**" };
    let opt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.2}×"));
    println!(
        "\n| scenario | recorded in | wasmtime ÷ native (≤ 1.5) | met? | Chromium ÷ native (≤ 1.3) | met? |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for r in rows {
        println!(
            "| {} | {:.1} s | {:.2}× | {} | {} | {} |",
            r.scenario,
            r.recorded_s,
            r.wasmtime_ratio,
            verdict(r.wasmtime_ratio <= 1.5),
            opt(r.chromium_ratio),
            r.chromium_ratio.map_or("-", |x| verdict(x <= 1.3)),
        );
    }
    if let Some(initial) = rows.first() {
        println!(
            "\nnative initial sync: {:.0} records/s = {:.2}× the {NATIVE_BEFORE_PER_S:.0}/s before (at least 1×: {})",
            initial.native_per_s,
            initial.native_per_s / NATIVE_BEFORE_PER_S,
            verdict(initial.native_per_s >= NATIVE_BEFORE_PER_S)
        );
        if let Some(m) = &initial.chromium_memory {
            let mb = |v: &Value| v.as_f64().unwrap_or(0.0) / 1_048_576.0;
            let wasm = mb(&m["wasm_after"]);
            // What the page keeps alive (measured after collecting the garbage), not the
            // garbage a collector has yet to reclaim.
            let heap = mb(&m["live_heap_peak"]) - mb(&m["live_heap_before"]);
            println!(
                "\n| Chromium, initial sync of {} contacts | result | target | ratio | met? |",
                initial.records
            );
            println!("| --- | --- | --- | --- | --- |");
            println!(
                "| wasm memory | {wasm:.1} MB | ≤ 64 MB | {:.2}× | {} |",
                wasm / 64.0,
                verdict(wasm <= 64.0)
            );
            println!(
                "| JS heap growth (live, after gc) | {heap:.1} MB | ≤ 32 MB | {:.2}× | {} |",
                heap / 32.0,
                verdict(heap <= 32.0)
            );
        }
    }
}

#[allow(clippy::cast_precision_loss)]
fn per_s(records: usize, ms: f64) -> f64 {
    records as f64 / (ms / 1000.0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let scale = env_f64("NZSYNC_BENCH_SCALE", 1.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = ((100_000.0 * scale).round() as usize).max(10);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let reps = (env_f64("NZSYNC_BENCH_REPEAT", 3.0) as usize).max(1);

    let sims = replay::simulators_with_contacts(n, DB).await;
    let token = replay::zoho_token(&sims.zoho_url).await;

    // Record: the initial sync, the first incremental run, then the steady state (spaced past
    // the engine's 10 s cursor overlap, as scheduled runs are).
    let rec = async |name: &str, state: &sync_core::SyncState| {
        let t = Instant::now();
        let trace = replay::record(
            name,
            &config(),
            state,
            replay::now_ms(),
            &sims.domino_url,
            &sims.zoho_url,
            &token,
        )
        .await;
        let report = trace.report.as_ref().unwrap();
        assert_eq!(
            serde_json::to_value(report.outcome).unwrap(),
            "completed",
            "{name}: {}",
            report.to_text()
        );
        let mut kinds = std::collections::BTreeMap::<String, usize>::new();
        for (k, _) in &trace.answers {
            let k = k.split('?').next().unwrap_or_default();
            let k = k.split("/unid/").next().unwrap_or_default();
            *kinds.entry(k.to_owned()).or_default() += 1;
        }
        eprintln!(
            "recorded {name}: {} answers in {:.1} s: {kinds:?}",
            trace.answers.len(),
            t.elapsed().as_secs_f64()
        );
        (trace, t.elapsed().as_secs_f64())
    };
    let (initial, initial_s) = rec("initial", &sync_core::SyncState::default()).await;
    tokio::time::sleep(Duration::from_secs(11)).await;
    let (settle, settle_s) = rec("first-inc", initial.end_state.as_ref().unwrap()).await;
    tokio::time::sleep(Duration::from_secs(11)).await;
    let (steady, steady_s) = rec("steady", settle.end_state.as_ref().unwrap()).await;
    let recorded_s = [initial_s, settle_s, steady_s];
    let links: usize = steady
        .end_state
        .as_ref()
        .unwrap()
        .modules
        .values()
        .map(|m| m.links.len())
        .sum();
    eprintln!("links after the steady run: {links}");
    let traces = [initial, settle, steady];

    let mut native_ms = Vec::new();
    for t in &traces {
        native_ms.push(native(t, reps).await.as_secs_f64() * 1000.0);
        eprintln!("native {}: {:.0} ms", t.name, native_ms.last().unwrap());
    }
    // The same runs for the wasm builds (see `replay::for_wasm`).
    let wasm_traces: Vec<Trace> = traces
        .iter()
        .map(|t| Trace {
            state: replay::for_wasm(&t.state),
            ..t.clone()
        })
        .collect();
    let limits = nzsync::runner::Limits::default();
    // For profiling a replay elsewhere (for example the JS package under Node's --cpu-prof).
    if let Ok(dir) = std::env::var("NZSYNC_BENCH_TRACES_DIR") {
        for t in &wasm_traces {
            let path = std::path::Path::new(&dir).join(format!("{}.json", t.name));
            std::fs::write(&path, serde_json::to_vec(t).unwrap()).unwrap();
        }
    }
    let wasm_ms: Vec<f64> = wasmtime(wasm_traces.clone(), reps, limits)
        .into_iter()
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    eprintln!("wasmtime: {wasm_ms:.0?} ms");
    // What counting fuel would cost: the same runs with a fuel budget per call as well as the
    // per-call deadline (`nzsync` runs without one).
    let fuelled = nzsync::runner::Limits {
        fuel_per_call: Some(nzsync::runner::FUEL_PER_CALL),
        ..limits
    };
    let fuelled_ms: Vec<f64> = wasmtime(wasm_traces.clone(), reps, fuelled)
        .into_iter()
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    eprintln!("wasmtime with fuel: {fuelled_ms:.0?} ms");
    let browser = match chromium::chromium() {
        Some(path) => {
            // One browser per scenario (a long chain of page loads stalled in one browser).
            let mut all = Vec::new();
            for t in &wasm_traces {
                let body = vec![(t.name.clone(), serde_json::to_vec(t).unwrap())];
                // The first page measures the live heap (its time is not counted).
                let mut pages = vec![format!("{}~live", t.name)];
                pages.extend(std::iter::repeat_n(t.name.clone(), reps));
                match chromium::replay(&path, body, &pages).await {
                    Some(r) => all.extend(r),
                    None => eprintln!("Chromium gave no result for {}", t.name),
                }
            }
            (!all.is_empty()).then_some(all)
        }
        None => {
            eprintln!("no Chromium (set NZSYNC_CHROMIUM): skipping the browser column");
            None
        }
    };

    let mut rows = Vec::new();
    for (i, t) in traces.iter().enumerate() {
        let chromium: Option<Vec<&Value>> = browser
            .as_ref()
            .map(|b| b.iter().filter(|r| r["name"] == t.name.as_str()).collect());
        if let Some(rs) = &chromium {
            for r in rs {
                assert_eq!(
                    work(&serde_json::from_value(r["report"].clone()).unwrap()),
                    work(t.report.as_ref().unwrap()),
                    "Chromium replay"
                );
            }
        }
        let best = chromium.as_ref().and_then(|rs| {
            rs.iter()
                .filter(|r| r["live"] != true)
                .min_by(|a, b| a["ms"].as_f64().partial_cmp(&b["ms"].as_f64()).unwrap())
                .copied()
        });
        let live = chromium
            .as_ref()
            .and_then(|rs| rs.iter().find(|r| r["live"] == true).copied());
        let chromium_ms = best.and_then(|r| r["ms"].as_f64());
        rows.push(Row {
            scenario: t.name.clone(),
            records: n,
            requests: t.answers.len(),
            recorded_s: recorded_s[i],
            native_ms: native_ms[i],
            wasmtime_ms: wasm_ms[i],
            wasmtime_fuelled_ms: fuelled_ms[i],
            chromium_ms,
            native_per_s: per_s(n, native_ms[i]),
            wasmtime_per_s: per_s(n, wasm_ms[i]),
            chromium_per_s: chromium_ms.map(|ms| per_s(n, ms)),
            wasmtime_ratio: wasm_ms[i] / native_ms[i],
            chromium_ratio: chromium_ms.map(|ms| ms / native_ms[i]),
            chromium_memory: best.map(|r| {
                json!({"heap_before": r["heapBefore"], "heap_peak": r["heapPeak"],
                       "live_heap_before": live.map(|l| &l["heapBefore"]),
                       "live_heap_peak": live.map(|l| &l["liveHeapPeak"]),
                       "wasm_before": r["wasmBefore"], "wasm_after": r["wasmAfter"]})
            }),
        });
    }

    println!(
        "\nsync-core engine throughput: {n} contacts, fastest of {reps} replays, {} cores\n",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!(
        "{:<9} {:>8} {:>9} {:>10} {:>11} {:>11} {:>10} {:>12} {:>12} {:>9} {:>9}",
        "scenario",
        "records",
        "requests",
        "native ms",
        "wasmtime ms",
        "chromium ms",
        "native r/s",
        "wasmtime r/s",
        "chromium r/s",
        "wasmtime",
        "chromium"
    );
    let opt = |v: Option<f64>, p: usize| v.map_or("-".to_owned(), |v| format!("{v:.p$}"));
    for r in &rows {
        println!(
            "{:<9} {:>8} {:>9} {:>10.0} {:>11.0} {:>11} {:>10.0} {:>12.0} {:>12} {:>8.2}x {:>8}x",
            r.scenario,
            r.records,
            r.requests,
            r.native_ms,
            r.wasmtime_ms,
            opt(r.chromium_ms, 0),
            r.native_per_s,
            r.wasmtime_per_s,
            opt(r.chromium_per_s, 0),
            r.wasmtime_ratio,
            opt(r.chromium_ratio, 2),
        );
    }
    for r in &rows {
        if let Some(m) = &r.chromium_memory {
            let mb = |v: &Value| v.as_f64().unwrap_or(0.0) / 1_048_576.0;
            println!(
                "  {} in Chromium: JS heap {:.1} MB with the trace loaded, peak {:.1} MB (+{:.1} MB, garbage included; live +{:.1} MB); wasm memory {:.1} → {:.1} MB",
                r.scenario,
                mb(&m["heap_before"]),
                mb(&m["heap_peak"]),
                mb(&m["heap_peak"]) - mb(&m["heap_before"]),
                mb(&m["live_heap_peak"]) - mb(&m["live_heap_before"]),
                mb(&m["wasm_before"]),
                mb(&m["wasm_after"]),
            );
        }
    }
    if let Some(b) = browser.as_ref().and_then(|b| b.first()) {
        println!("  Chromium: {}", b["userAgent"].as_str().unwrap_or("?"));
    }
    println!("\n| scenario | wasmtime ms | with fuel ms | fuel would cost | with fuel ÷ native |");
    println!("| --- | --- | --- | --- | --- |");
    for r in &rows {
        println!(
            "| {} | {:.0} | {:.0} | {:.2}× | {:.2}× |",
            r.scenario,
            r.wasmtime_ms,
            r.wasmtime_fuelled_ms,
            r.wasmtime_fuelled_ms / r.wasmtime_ms,
            r.wasmtime_fuelled_ms / r.native_ms,
        );
    }
    print_targets(&rows);
    let out = std::env::var("NZSYNC_BENCH_OUT").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-engine.json").to_owned()
    });
    let json = json!({ "records": n, "repeat": reps, "rows": rows });
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    println!("\nJSON written to {out}");
    sims.shutdown().await;
}
