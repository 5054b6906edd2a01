//! Host load (issue #7): many signed-in widget sessions making streams of proxy calls through
//! the server (`/proxy/domino/…`, `/proxy/zoho/…`) to the simulators with latency on, and in the
//! same run the same calls made directly to the simulators. Reports the proxy's added latency
//! (p50, p99) and the throughput with and without it. The server, the simulators and the
//! clients share one process and the machine's cores.
//!
//! ```text
//! cargo bench -p nzsync --bench proxy                                   # 50 sessions
//! NZSYNC_BENCH_SESSIONS=5 NZSYNC_BENCH_CALLS=20 cargo bench -p nzsync --bench proxy
//! ```
//!
//! Env: `NZSYNC_BENCH_SESSIONS` (default 50), `NZSYNC_BENCH_CALLS` (calls per session and
//! phase, default 200), `NZSYNC_BENCH_LATENCY_MS` (simulator latency, default 20),
//! `NZSYNC_BENCH_OUT` (JSON path, default `target/bench-proxy.json`).
//!
//! Sessions sign in through the server's OAuth flow (the simulator's org has two CRM users, so
//! the sessions alternate between them; both are enabled and connected to Domino). Each call
//! is one of a widget's reads: a `($Contacts)` view page of 100 (Domino) or a Contacts page of
//! 200 (Zoho), alternating; 200 contacts are loaded on each side. Phases:
//! 1. **paired**: every session makes each call through the proxy, then directly; the added
//!    latency is the difference of the two distributions' percentiles (and, per pair, of the
//!    two times);
//! 2. **proxy only** and 3. **direct only**: every session makes its calls one after another;
//!    calls per second over the phase.

#![allow(clippy::unwrap_used)] // A benchmark that cannot set up has nothing to report.

#[path = "../../host/tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Browser, PASSWORD};
use nzsync_sim::Seed;
use reqwest::Method;
use serde_json::{Value, json};

const VIEW: &str = "/mail/demo.nsf/api/data/collections/name/%28%24Contacts%29?start=0&count=100";
const ZOHO: &str = "/crm/v8/Contacts?fields=First_Name,Last_Name,Email,Phone&page=1&per_page=200";

fn env_f64(key: &str, default: f64) -> f64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Where a session sends call `i`: through the proxy, or directly (with credentials).
struct Target {
    browser: Browser,
    domino_url: String,
    zoho_url: String,
    zoho_token: String,
    direct: reqwest::Client,
}

impl Target {
    async fn call(&self, i: usize, proxied: bool) -> Duration {
        let t = Instant::now();
        let zoho = i % 2 == 1;
        let rb = match (proxied, zoho) {
            (true, false) => self
                .browser
                .http
                .get(format!("{}/proxy/domino{VIEW}", self.browser.base)),
            (true, true) => self
                .browser
                .http
                .get(format!("{}/proxy/zoho{ZOHO}", self.browser.base)),
            (false, false) => self
                .direct
                .get(format!("{}{VIEW}", self.domino_url))
                .basic_auth("demo", Some(PASSWORD)),
            (false, true) => self.direct.get(format!("{}{ZOHO}", self.zoho_url)).header(
                "Authorization",
                format!("Zoho-oauthtoken {}", self.zoho_token),
            ),
        };
        let rb = if proxied {
            rb.header("cookie", self.browser.cookie_header()).header(
                "x-csrf-token",
                self.browser.csrf.clone().unwrap_or_default(),
            )
        } else {
            rb
        };
        let r = rb.send().await.unwrap();
        let status = r.status();
        let body = r.bytes().await.unwrap();
        assert!(
            status.is_success(),
            "{} {status}: {}",
            if proxied { "proxied" } else { "direct" },
            String::from_utf8_lossy(&body)
        );
        t.elapsed()
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Every session makes `calls` calls one after another (`proxied`, or directly); calls per
/// second over the phase.
async fn throughput(targets: &[Arc<Target>], calls: usize, proxied: bool) -> (f64, Vec<f64>) {
    let t = Instant::now();
    let mut tasks = Vec::new();
    for target in targets {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut v = Vec::with_capacity(calls);
            for i in 0..calls {
                v.push(ms(target.call(i, proxied).await));
            }
            v
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    #[allow(clippy::cast_precision_loss)]
    let per_s = all.len() as f64 / t.elapsed().as_secs_f64();
    (per_s, sorted(all))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let sessions = (env_f64("NZSYNC_BENCH_SESSIONS", 50.0) as usize).max(1);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let calls = (env_f64("NZSYNC_BENCH_CALLS", 200.0) as usize).max(2);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let latency = env_f64("NZSYNC_BENCH_LATENCY_MS", 20.0) as u64;

    let w = common::world(Seed::Empty).await;
    let http = reqwest::Client::new();
    let control = async |url: &str, path: &str, body: Value| {
        let r = http
            .post(format!("{url}/_sim/{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}");
    };
    // The load is the point: no Zoho concurrency or credit limit in the way.
    control(
        &w.sims.zoho_url,
        "config",
        json!({"concurrency": 100_000, "sub_concurrency": 100_000, "credits": 1_000_000_000}),
    )
    .await;
    let docs: Vec<Value> = (0..200)
        .map(|i| {
            json!({"form": "Person", "items": {"FirstName": format!("First{i}"),
            "LastName": format!("Last{i}"), "MailAddress": format!("p{i}@example.com")}})
        })
        .collect();
    let crm: Vec<Value> = (0..200)
        .map(|i| {
            json!({"First_Name": format!("First{i}"), "Last_Name": format!("Last{i}"),
            "Email": format!("c{i}@example.com")})
        })
        .collect();
    w.sims
        .domino()
        .load(&json!({"databases": {"mail/demo.nsf": {"documents": docs}}}))
        .unwrap();
    w.sims
        .zoho()
        .load(&json!({"modules": {"Contacts": crm}}))
        .unwrap();

    // The admin enables user2; both connect to Domino.
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    let (s, e) = admin
        .call(
            Method::POST,
            "/api/users",
            Some(json!({ "user": "user2@example.com" })),
        )
        .await;
    assert!(s.is_success(), "{e}");
    admin.connect(&w).await;
    let mut u2 = Browser::new(&w);
    u2.sign_in("user2@example.com").await;
    u2.connect(&w).await;

    let token: Value = http
        .post(format!(
            "{}/oauth/v2/token?refresh_token=demo-refresh&client_id=demo-client&client_secret=demo-secret&grant_type=refresh_token",
            w.sims.zoho_url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let zoho_token = token["access_token"].as_str().unwrap().to_owned();
    let mut targets = Vec::new();
    for i in 0..sessions {
        let mut b = Browser::new(&w);
        b.sign_in(if i % 2 == 0 {
            "demo@example.com"
        } else {
            "user2@example.com"
        })
        .await;
        targets.push(Arc::new(Target {
            browser: b,
            domino_url: w.sims.domino_url.clone(),
            zoho_url: w.sims.zoho_url.clone(),
            zoho_token: zoho_token.clone(),
            direct: common::client(),
        }));
    }
    // Warm up every session's connections (and the server's per-user token cache).
    for t in &targets {
        t.call(0, true).await;
        t.call(1, true).await;
        t.call(0, false).await;
        t.call(1, false).await;
    }
    control(&w.sims.domino_url, "latency", json!({ "ms": latency })).await;
    control(&w.sims.zoho_url, "latency", json!({ "ms": latency })).await;

    // 1. Paired.
    let t = Instant::now();
    let mut tasks = Vec::new();
    for target in &targets {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut v = Vec::with_capacity(calls);
            for i in 0..calls {
                let p = ms(target.call(i, true).await);
                let d = ms(target.call(i, false).await);
                v.push((p, d));
            }
            v
        }));
    }
    let mut pairs = Vec::new();
    for task in tasks {
        pairs.extend(task.await.unwrap());
    }
    let paired_s = t.elapsed().as_secs_f64();
    let proxied = sorted(pairs.iter().map(|p| p.0).collect());
    let direct = sorted(pairs.iter().map(|p| p.1).collect());
    let added = sorted(pairs.iter().map(|p| p.0 - p.1).collect());

    // 2. and 3.
    let (proxy_per_s, proxy_only) = throughput(&targets, calls, true).await;
    let (direct_per_s, direct_only) = throughput(&targets, calls, false).await;

    let row = |name: &str, v: &[f64]| {
        println!(
            "{name:<34} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
            percentile(v, 0.5),
            percentile(v, 0.9),
            percentile(v, 0.99),
            v.last().copied().unwrap_or(0.0)
        );
    };
    println!(
        "\nproxy load: {sessions} sessions × {calls} calls per phase, simulator latency {latency} ms, {} cores\n",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!(
        "{:<34} {:>8} {:>8} {:>8} {:>8}",
        "latency (ms)", "p50", "p90", "p99", "max"
    );
    row("paired: through the proxy", &proxied);
    row("paired: direct", &direct);
    row("paired: added per pair", &added);
    row("proxy only", &proxy_only);
    row("direct only", &direct_only);
    let p50 = percentile(&proxied, 0.5) - percentile(&direct, 0.5);
    let p99 = percentile(&proxied, 0.99) - percentile(&direct, 0.99);
    println!(
        "\nadded by the proxy (paired, p(proxied) − p(direct)): p50 {p50:.1} ms, p99 {p99:.1} ms"
    );
    println!(
        "throughput: {proxy_per_s:.0} calls/s through the proxy, {direct_per_s:.0} calls/s direct ({:.2}x); paired phase {paired_s:.1} s",
        proxy_per_s / direct_per_s
    );
    let out = std::env::var("NZSYNC_BENCH_OUT").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-proxy.json").to_owned()
    });
    let pct = |v: &[f64]| json!({"p50": percentile(v, 0.5), "p90": percentile(v, 0.9), "p99": percentile(v, 0.99)});
    let json = json!({
        "sessions": sessions, "calls": calls, "latency_ms": latency,
        "paired": {"proxied": pct(&proxied), "direct": pct(&direct), "added_per_pair": pct(&added),
                   "added_p50_ms": p50, "added_p99_ms": p99},
        "proxy_only": {"calls_per_s": proxy_per_s, "latency": pct(&proxy_only)},
        "direct_only": {"calls_per_s": direct_per_s, "latency": pct(&direct_only)},
    });
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    println!("\nJSON written to {out}");
}
