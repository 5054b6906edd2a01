//! Peak memory of a headless sync (issue #7): the real `nzsync sync` of 100,000 contacts
//! against the simulators (no latency), its peak resident set (`VmHWM` from
//! `/proc/<pid>/status`, read until the process exits) for the initial two-way sync, the first
//! incremental run after it, and a steady-state run. Target: ≤ 150 MB. The widget's side (JS
//! heap and wasm memory in Chromium for the same work) is measured by the `engine` bench.
//!
//! ```text
//! cargo bench -p nzsync --bench memory                             # 100,000 contacts
//! NZSYNC_BENCH_SCALE=0.05 cargo bench -p nzsync --bench memory     # 5,000, for a quick look
//! ```
//!
//! Env: `NZSYNC_BENCH_SCALE` (default 1 = 100,000 contacts: 45 % only in Notes, 45 % only in
//! the CRM, 10 % on both), `NZSYNC_BENCH_OUT` (JSON path, default `target/bench-memory.json`).

#![allow(clippy::unwrap_used)] // A benchmark that cannot set up has nothing to report.

#[allow(dead_code)] // This bench uses the seed data and helpers only.
mod replay;

use std::time::{Duration, Instant};

use replay::env_f64;
use serde_json::{Value, json};

const DB: &str = "mail/demo.nsf";

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
    scenario: String,
    outcome: String,
    wall_ms: u128,
    peak_rss_bytes: u64,
    /// Resident set sampled every 10 ms: where the peak was reached, as a share of the run.
    peak_at: f64,
}

#[allow(clippy::cast_precision_loss)]
async fn sync(config: &std::path::Path, scenario: &str) -> Row {
    let t = Instant::now();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
        .args(["sync", "--json", "--config"])
        .arg(config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
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
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let wall = t.elapsed();
    let (o, e) = out.await.unwrap();
    let report: Value = serde_json::from_slice(&o).unwrap_or_else(|err| {
        panic!(
            "{scenario}: no report ({err}): {}",
            String::from_utf8_lossy(&e)
        )
    });
    eprintln!(
        "{scenario}: peak RSS {:.1} MB in {:.1} s",
        peak as f64 / 1_048_576.0,
        wall.as_secs_f64()
    );
    Row {
        scenario: scenario.to_owned(),
        outcome: report["outcome"].as_str().unwrap_or("?").to_owned(),
        wall_ms: wall.as_millis(),
        peak_rss_bytes: peak,
        peak_at: rss_max_at.as_secs_f64() / wall.as_secs_f64().max(1e-9),
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let scale = env_f64("NZSYNC_BENCH_SCALE", 1.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = ((100_000.0 * scale).round() as usize).max(10);
    let sims = replay::simulators_with_contacts(n, DB).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nzsync.toml");
    std::fs::write(
        &config,
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
contacts = true
tasks = false
events = "off"

[store]
path = "state.db"
"#,
            d = sims.domino_url,
            z = sims.zoho_url
        ),
    )
    .unwrap();

    let mut rows = vec![sync(&config, "initial two-way").await];
    // Runs spaced past the engine's 10 s cursor overlap, as scheduled runs are.
    tokio::time::sleep(Duration::from_secs(11)).await;
    rows.push(sync(&config, "first incremental").await);
    tokio::time::sleep(Duration::from_secs(11)).await;
    rows.push(sync(&config, "steady state").await);
    let db = std::fs::metadata(dir.path().join("state.db")).map_or(0, |m| m.len());

    const TARGET: u64 = 150 * 1024 * 1024;
    println!("\nnzsync sync peak memory: {n} contacts (target: peak RSS ≤ 150 MB)\n");
    println!(
        "{:<20} {:>10} {:>9} {:>13} {:>8}  outcome",
        "scenario", "wall ms", "peak MB", "peak reached", "target"
    );
    #[allow(clippy::cast_precision_loss)]
    for r in &rows {
        println!(
            "{:<20} {:>10} {:>9.1} {:>12.0}% {:>8}  {}",
            r.scenario,
            r.wall_ms,
            r.peak_rss_bytes as f64 / 1_048_576.0,
            r.peak_at * 100.0,
            if r.peak_rss_bytes <= TARGET {
                "met"
            } else {
                "NOT met"
            },
            r.outcome
        );
    }
    #[allow(clippy::cast_precision_loss)]
    let db_mb = db as f64 / 1_048_576.0;
    println!("  state.db after the runs: {db_mb:.1} MB");
    let out = std::env::var("NZSYNC_BENCH_OUT").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-memory.json").to_owned()
    });
    let json = json!({ "contacts": n, "target_bytes": TARGET, "state_db_bytes": db, "rows": rows });
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    println!("\nJSON written to {out}");
    sims.shutdown().await;
}
