//! Peak memory of a headless sync (issue #14): the real `nzsync sync` (release) against the
//! simulators (no latency), its peak resident set (`VmHWM` from `/proc/<pid>/status`, read
//! until the process exits) for the initial two-way sync and the first incremental run after
//! it, as a curve over the data's size: 10,000 / 100,000 / 1,000,000 contacts, and the mixed
//! case of 100,000 contacts + 100,000 to-dos + 10,000 events. Targets: ≤ 150 MB at 1,000,000
//! contacts (so at every contact size), ≤ 100 MB for the mixed case. The widget's side (JS
//! heap and wasm memory in Chromium) is measured by the `engine` bench.
//!
//! ```text
//! cargo bench -p nzsync --bench memory                                  # the whole curve
//! NZSYNC_BENCH_SIZES=10000,mixed cargo bench -p nzsync --bench memory   # some of it
//! ```
//!
//! Env: `NZSYNC_BENCH_SIZES` (comma-separated contact counts and `mixed`; default
//! `10000,100000,1000000,mixed`), `NZSYNC_BENCH_SCALE` (multiplies every count, default 1),
//! `NZSYNC_BENCH_TIMEOUT_S` (a run still going after this long is stopped and reported with
//! its peak so far and how many requests it had made; default 1800), `NZSYNC_BENCH_OUT` (JSON
//! path, default `target/bench-memory.json`). Data: `nzsync_sim::bench_data` (per module 45 %
//! only in Notes, 45 % only in the CRM, 10 % on both sides).

#![allow(clippy::unwrap_used)] // A benchmark that cannot set up has nothing to report.

#[allow(dead_code)] // This bench uses the seed data and helpers only.
mod replay;

use std::time::{Duration, Instant};

use nzsync_sim::bench_data::BenchData;
use replay::env_f64;
use serde_json::{Value, json};

const DB: &str = "mail/demo.nsf";
const MB: f64 = 1_048_576.0;

/// A `kB` line of `/proc/<pid>/status`, in bytes.
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line
        .trim_start_matches(field)
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

#[derive(serde::Serialize)]
struct Row {
    case: String,
    scenario: String,
    completed: bool,
    outcome: String,
    wall_ms: u128,
    peak_rss_bytes: u64,
    target_bytes: u64,
    /// Resident set sampled every 10 ms: where the peak was reached, as a share of the run.
    peak_at: f64,
    /// Requests the simulators answered during the run (DAS, Zoho).
    requests: (usize, usize),
    /// The engine's linear memory at its largest (part of the peak), as the run logged it.
    guest_peak_bytes: Option<u64>,
}

/// Runs `nzsync sync` once, sampling its memory; stops it after `timeout`.
#[allow(clippy::cast_precision_loss)]
async fn sync(
    sims: &nzsync_sim::Simulators,
    config: &std::path::Path,
    scenario: &str,
    timeout: Duration,
) -> (String, u128, u64, f64, (usize, usize), Option<u64>) {
    let calls = || (sims.domino().calls().len(), sims.zoho().calls().len());
    let before = calls();
    let t = Instant::now();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
        .args(["sync", "--json", "--config"])
        .arg(config)
        .env(nzsync::runner::CACHE_DIR_ENV, cache_dir())
        .env("RUST_LOG", "warn,nzsync::runner=debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let (mut peak, mut rss_max, mut rss_max_at) = (0, 0, Duration::ZERO);
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = tokio::spawn(async move {
        use tokio::io::AsyncReadExt as _;
        let mut o = Vec::new();
        let mut e = Vec::new();
        let _ = tokio::join!(stdout.read_to_end(&mut o), stderr.read_to_end(&mut e));
        (o, e)
    });
    // VmHWM is the kernel's own high-water mark; it is read until the process is gone (the
    // last reading is at most 10 ms before exit, while the report is printed).
    let mut timed_out = false;
    loop {
        if let Some(h) = status_kb(pid, "VmHWM") {
            peak = peak.max(h);
        }
        if let Some(r) = status_kb(pid, "VmRSS")
            && r > rss_max
        {
            rss_max = r;
            rss_max_at = t.elapsed();
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if t.elapsed() > timeout {
            timed_out = true;
            let _ = child.kill().await;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let wall = t.elapsed();
    let (o, e) = out.await.unwrap();
    let after = calls();
    let requests = (after.0 - before.0, after.1 - before.1);
    let outcome = if timed_out {
        format!(
            "stopped after {:.0} s ({} DAS + {} Zoho requests so far)",
            wall.as_secs_f64(),
            requests.0,
            requests.1
        )
    } else {
        match serde_json::from_slice::<Value>(&o) {
            Ok(report) => report["outcome"].as_str().unwrap_or("?").to_owned(),
            Err(err) => format!(
                "no report ({err}): {}",
                String::from_utf8_lossy(&e)
                    .lines()
                    .last()
                    .unwrap_or_default()
            ),
        }
    };
    eprintln!(
        "{scenario}: peak RSS {:.1} MB in {:.1} s: {outcome}",
        peak as f64 / MB,
        wall.as_secs_f64()
    );
    let peak_at = rss_max_at.as_secs_f64() / wall.as_secs_f64().max(1e-9);
    let guest = guest_peak(&String::from_utf8_lossy(&e));
    (outcome, wall.as_millis(), peak, peak_at, requests, guest)
}

/// The engine's linear memory at its largest, from the run's log (`guest_memory_peak_bytes=N`,
/// perhaps coloured).
fn guest_peak(log: &str) -> Option<u64> {
    let mut plain = String::with_capacity(log.len());
    let mut escape = false;
    for c in log.chars() {
        match (escape, c) {
            (false, '\u{1b}') => escape = true,
            (true, 'm') => escape = false,
            (true, _) => {}
            (false, c) => plain.push(c),
        }
    }
    let log = plain.as_str();
    let at = log.rfind("guest_memory_peak_bytes=")? + "guest_memory_peak_bytes=".len();
    let digits: String = log[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn config_text(sims: &nzsync_sim::Simulators, data: &BenchData) -> String {
    format!(
        r#"[domino]
url = "{d}"
user = "demo"
password = "demo"
mail_db = "{DB}"

[zoho]
api_domain = "{z}"
accounts_url = "{z}"
client_id = "demo-client"
client_secret = "demo-secret"
refresh_token = "demo-refresh"

[sync]
contacts = {contacts}
tasks = {tasks}
events = "{events}"

[store]
path = "state.db"
"#,
        d = sims.domino_url,
        z = sims.zoho_url,
        contacts = data.contacts.total() > 0,
        tasks = data.todos.total() > 0,
        events = if data.events.total() > 0 {
            "all"
        } else {
            "off"
        },
    )
}

/// The compiled-code cache the runs share, fresh for each bench run: the first run compiles
/// the engine (as the first `nzsync sync` on a machine does) and is reported on its own row;
/// the curve's runs load the compiled engine from the cache, as every later run does.
fn cache_dir() -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
        .path()
        .to_owned()
}

/// The cases of the curve: `(name, data, target in bytes)`; the first compiles the engine.
fn cases(scale: f64) -> Vec<(String, BenchData, u64)> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = |full: usize| ((full as f64 * scale).round() as usize).max(10);
    let sizes = std::env::var("NZSYNC_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000,1000000,mixed".to_owned());
    let first = (
        "100 contacts, first run on a machine (compiles the engine)".to_owned(),
        BenchData::new(100, 0, 0),
        150 * 1024 * 1024,
    );
    std::iter::once(first)
        .chain(
            sizes
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    if s == "mixed" {
                        let data = BenchData::new(n(100_000), n(100_000), n(10_000));
                        let name = format!(
                            "{} contacts + {} to-dos + {} events",
                            data.contacts.total(),
                            data.todos.total(),
                            data.events.total()
                        );
                        (name, data, 100 * 1024 * 1024)
                    } else {
                        let count = n(s.parse().unwrap_or_else(|_| panic!("size {s:?}")));
                        (
                            format!("{count} contacts"),
                            BenchData::new(count, 0, 0),
                            150 * 1024 * 1024,
                        )
                    }
                }),
        )
        .collect()
}

#[tokio::main(flavor = "multi_thread")]
#[allow(clippy::cast_precision_loss)]
async fn main() {
    let scale = env_f64("NZSYNC_BENCH_SCALE", 1.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let timeout = Duration::from_secs(env_f64("NZSYNC_BENCH_TIMEOUT_S", 1800.0) as u64);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("load average at the start: {}", load.trim());
    let mut rows = Vec::new();
    for (case, data, target) in cases(scale) {
        let sims = replay::simulators_with(&data, DB).await;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("nzsync.toml");
        std::fs::write(&config, config_text(&sims, &data)).unwrap();
        for scenario in ["initial two-way", "first incremental"] {
            if scenario != "initial two-way" {
                if !rows.last().is_some_and(|r: &Row| r.completed) {
                    break;
                }
                // Spaced past the engine's 10 s cursor overlap, as scheduled runs are.
                tokio::time::sleep(Duration::from_secs(11)).await;
            }
            let (outcome, wall_ms, peak, peak_at, requests, guest_peak_bytes) =
                sync(&sims, &config, &format!("{case}, {scenario}"), timeout).await;
            rows.push(Row {
                case: case.clone(),
                scenario: scenario.to_owned(),
                completed: outcome == "completed",
                outcome,
                wall_ms,
                peak_rss_bytes: peak,
                target_bytes: target,
                peak_at,
                requests,
                guest_peak_bytes,
            });
        }
        sims.shutdown().await;
    }

    println!("\nnzsync sync peak memory (release, headless, no latency)\n");
    println!(
        "| data | run | wall s | peak RSS MB | of it the engine's memory MB | target MB | peak ÷ target | met? | outcome |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in &rows {
        let ratio = r.peak_rss_bytes as f64 / r.target_bytes as f64;
        println!(
            "| {} | {} | {:.1} | {:.1} | {} | {:.0} | {:.2}× | {} | {} |",
            r.case,
            r.scenario,
            r.wall_ms as f64 / 1000.0,
            r.peak_rss_bytes as f64 / MB,
            r.guest_peak_bytes
                .map_or_else(|| "?".to_owned(), |g| format!("{:.1}", g as f64 / MB)),
            r.target_bytes as f64 / MB,
            ratio,
            match (r.completed, ratio <= 1.0) {
                (true, true) => "yes",
                (_, false) => "**no**",
                (false, true) => "not finished",
            },
            r.outcome
        );
    }
    let out = std::env::var("NZSYNC_BENCH_OUT").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-memory.json").to_owned()
    });
    let json = json!({ "scale": scale, "load_at_start": load.trim(), "rows": rows });
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    println!("\nJSON written to {out}");
}
