//! Replaying recorded engine runs with the sync-core JS package (wasm-bindgen, `web` flavour)
//! in headless Chromium: a loopback server serves the page, the package and the traces; the
//! page replays each trace, timing the engine loop and sampling the JS heap and the wasm
//! linear memory, and posts its results back.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::mpsc;

/// The page's script: replays `/trace/{name}` for every name in `?s=a,b`, one page load each.
/// A name ending in `~live` also measures the live JS heap: every 16,384 polls it collects the
/// garbage (`gc()`) and reads the heap, which slows the page, so its time is not a timing. It
/// keeps every recorded answer to the end (a timing page drops each once used), so that what
/// it measures is what the engine and its glue keep, not the trace shrinking.
///
/// The engine is given the state without its links, as `nzsync` and the widget give it (links
/// are read on request); the page answers link reads from the trace's state.
const BENCH_JS: &str = r#"
import init, { SyncEngine } from "./sync_core.js";
const names = new URLSearchParams(location.search).get("s").split(",");
const [name, mode] = names[0].split("~");
const live = mode === "live";
const heap = () => performance.memory.usedJSHeapSize;
async function main() {
  const wasm = await init({ module_or_path: "./sync_core_bg.wasm" });
  const trace = await (await fetch(`/trace/${name}`)).json();
  const answers = trace.answers;
  let next = 0;
  const keyOf = (r) => `${r.side} ${r.method} ${r.path}`;
  if (globalThis.gc) gc();
  const heapBefore = heap();
  const wasmBefore = wasm.memory.buffer.byteLength;
  let heapPeak = heapBefore, liveHeapPeak = heapBefore;
  const modules = Object.fromEntries(Object.entries((trace.state && trace.state.modules) || {})
    .map(([m, ms]) => [m, { ...ms, links: [] }]));
  const withoutLinks = { ...trace.state, modules };
  const t0 = performance.now();
  const engine = new SyncEngine(trace.config, withoutLinks, trace.now);
  const pending = [];
  // Link reads are answered from the trace's state, as the widget's server answers them from
  // its store: pages in UNID order, or the links of given UNIDs.
  const sorted = {};
  const storedLinks = (q) => {
    if (!sorted[q.module]) {
      const all = ((trace.state.modules || {})[q.module] || {}).links || [];
      sorted[q.module] = [...all].sort((a, b) => (a.unid < b.unid ? -1 : a.unid > b.unid ? 1 : 0));
    }
    const links = sorted[q.module];
    if (q.want.by === "unids") {
      const want = new Set(q.want.unids);
      return links.filter((l) => want.has(l.unid));
    }
    let lo = 0, hi = links.length;
    if (q.want.after != null) {
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (links[mid].unid <= q.want.after) lo = mid + 1; else hi = mid;
      }
    }
    return links.slice(lo, lo + q.want.limit);
  };
  let head = 0, requests = 0, polls = 0, report = null;
  for (;;) {
    const out = engine.poll();
    if ((++polls & 1023) === 0) heapPeak = Math.max(heapPeak, heap());
    if (live && (polls & 16383) === 0) { gc(); liveHeapPeak = Math.max(liveHeapPeak, heap()); }
    if (out.kind === "request") { pending.push(out.value); requests++; }
    else if (out.kind === "state") {}
    else if (out.kind === "links") engine.handleLinks(out.value.id, storedLinks(out.value));
    else if (out.kind === "wait") {
      if (head === pending.length) throw new Error("the engine waits with nothing in flight");
      const r = pending[head]; pending[head++] = undefined;
      const [k, a] = answers[next]; if (!live) answers[next] = undefined; next++;
      if (k !== keyOf(r)) throw new Error(`replay diverged: recorded ${k}, asked ${keyOf(r)}`);
      engine.handleResponse(r.id, trace.now, a);
    } else { report = out.value; break; }
  }
  const ms = performance.now() - t0;
  heapPeak = Math.max(heapPeak, heap());
  const wasmAfter = wasm.memory.buffer.byteLength;
  engine.free();
  if (live) { gc(); liveHeapPeak = Math.max(liveHeapPeak, heap()); }
  return { name, live, ms, requests, report, heapBefore, heapPeak, liveHeapPeak, wasmBefore,
           wasmAfter, userAgent: navigator.userAgent };
}
main().then(
  (r) => fetch("/result", { method: "POST", body: JSON.stringify(r) }),
  (e) => fetch("/result", { method: "POST", body: JSON.stringify({ name, error: String(e && e.stack || e) }) }),
).then(() => {
  if (names.length > 1) location.href = "/?s=" + names.slice(1).join(",");
});
"#;

const INDEX: &str = r#"<!doctype html><meta charset="utf-8"><title>sync-core bench</title>
<script type="module" src="/bench.js"></script>"#;

#[derive(Clone)]
struct Served {
    traces: Arc<Vec<(String, Vec<u8>)>>,
    results: mpsc::UnboundedSender<Value>,
}

fn file(name: &str) -> &'static [u8] {
    nzsync::web::JS_PACKAGE
        .iter()
        .find(|(flavour, n, _)| *flavour == "web" && *n == name)
        .map(|(_, _, b)| *b)
        .unwrap()
}

/// Chromium, from `NZSYNC_CHROMIUM` or `PATH`.
pub fn chromium() -> Option<PathBuf> {
    std::env::var_os("NZSYNC_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            let paths = std::env::var_os("PATH")?;
            std::env::split_paths(&paths)
                .flat_map(|p| [p.join("chromium"), p.join("chromium-browser")])
                .find(|p| p.is_file())
        })
}

/// Replays the traces `names` (from `traces`: name, trace JSON; a name may end in `~live`, see
/// the page's script) in headless Chromium, one page load each; the page's results in order, up to the first page that gave none within
/// `NZSYNC_BENCH_PAGE_TIMEOUT_S` (default 600); `None` when there are none.
pub async fn replay(
    chromium: &std::path::Path,
    traces: Vec<(String, Vec<u8>)>,
    names: &[String],
) -> Option<Vec<Value>> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let served = Served {
        traces: Arc::new(traces),
        results: tx,
    };
    let app = Router::new()
        .route(
            "/",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], INDEX) }),
        )
        .route(
            "/bench.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], BENCH_JS) }),
        )
        .route(
            "/sync_core.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript")],
                    file("sync_core.js"),
                )
            }),
        )
        .route(
            "/sync_core_bg.wasm",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/wasm")],
                    file("sync_core_bg.wasm"),
                )
            }),
        )
        .route(
            "/trace/{name}",
            get(
                |State(s): State<Served>, Path(name): Path<String>| async move {
                    let body = s
                        .traces
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, b)| b.clone())
                        .unwrap_or_default();
                    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
                },
            ),
        )
        .route(
            "/result",
            post(|State(s): State<Served>, body: String| async move {
                let v: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
                let _ = s.results.send(v);
            }),
        )
        // The initial sync's report (an entry per record) is larger than axum's default limit.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(served);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let profile = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            // Exact heap numbers, and gc() to settle the heap before measuring.
            "--enable-precise-memory-info",
            "--js-flags=--expose-gc",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("http://{addr}/?s={}", names.join(",")))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut results = Vec::new();
    let wait = std::env::var("NZSYNC_BENCH_PAGE_TIMEOUT_S")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    for name in names {
        let Ok(Some(r)) = tokio::time::timeout(Duration::from_secs(wait), rx.recv()).await else {
            eprintln!("Chromium gave no result for {name} within {wait} s");
            break;
        };
        assert!(r.get("error").is_none(), "Chromium, {name}: {}", r["error"]);
        eprintln!(
            "Chromium {name}: {:.0} ms, JS heap {} → peak {} bytes, wasm memory {} → {} bytes",
            r["ms"].as_f64().unwrap_or(0.0),
            r["heapBefore"],
            r["heapPeak"],
            r["wasmBefore"],
            r["wasmAfter"]
        );
        results.push(r);
    }
    let _ = child.kill().await;
    server.abort();
    (!results.is_empty()).then_some(results)
}
