//! Recording and replaying engine runs (the `engine` bench).
//!
//! A run is recorded once against the simulators with a fixed `now`: every answer, in the order
//! given, with the request it answered (side, method, path). Replaying feeds those answers
//! back from memory, so a replay times the engine's own work and nothing else. Every
//! driver answers in the same order (first requested, first answered, one answer per wait), so
//! the engine issues the same requests in every replay; a request other than the recorded one
//! fails.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use sync_core::{
    Engine, EngineConfig, HttpRequest, HttpResponse, Link, LinkQuery, LinkWant, Module, Output,
    RunReport, StateChange, SyncState, Timestamp, TransportError, TransportErrorKind,
};

/// What a recorded answer is checked against: the request's side, method and path. (Not the
/// body: its JSON key order depends on serde_json's features, which differ between the native
/// build and the wasm builds.)
pub fn key(req: &HttpRequest) -> String {
    let side = match req.side {
        sync_core::Side::Notes => "notes",
        sync_core::Side::Crm => "crm",
    };
    format!("{side} {} {}", req.method, req.path)
}

/// One recorded run: where it started and every answer, in the order they were given.
/// Every driver answers the oldest request in flight at each wait, so the engine, given the
/// same answers, asks the same requests in the same order.
#[derive(Clone, Serialize)]
pub struct Trace {
    /// The scenario.
    pub name: String,
    /// The engine's configuration.
    pub config: EngineConfig,
    /// The state the run started from.
    pub state: SyncState,
    /// The fixed clock, in ms since the epoch.
    pub now: i64,
    /// `(key, answer)` in order; an answer is the response, or `{"error": TransportError}`.
    pub answers: Vec<(String, Value)>,
    /// The run's report (to check replays against).
    #[serde(skip)]
    pub report: Option<RunReport>,
    /// The state at the end of the run.
    #[serde(skip)]
    pub end_state: Option<SyncState>,
}

/// The JS shape of an answer (`sync-core/src/js.rs`).
pub fn answer_json(a: &Result<HttpResponse, TransportError>) -> Value {
    match a {
        Ok(r) => serde_json::to_value(r).unwrap(),
        Err(e) => json!({ "error": e }),
    }
}

fn answer_from(v: &Value) -> Result<HttpResponse, TransportError> {
    match v.get("error") {
        Some(e) => Err(serde_json::from_value(e.clone()).unwrap()),
        None => Ok(serde_json::from_value(v.clone()).unwrap()),
    }
}

/// A trace's answers, given back in the recorded order; each must be for the request the
/// recording had at that point.
pub struct Answers(std::vec::IntoIter<(String, Result<HttpResponse, TransportError>)>);

impl Answers {
    /// The trace's answers, ready to give back.
    pub fn of(trace: &Trace) -> Self {
        let v: Vec<_> = trace
            .answers
            .iter()
            .map(|(k, a)| (k.clone(), answer_from(a)))
            .collect();
        Self(v.into_iter())
    }

    /// The next recorded answer, which must be for `req`.
    pub fn take(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let Some((k, a)) = self.0.next() else {
            panic!("replay diverged: nothing recorded for {}", key(req));
        };
        let asked = key(req);
        assert!(k == asked, "replay diverged: recorded {k}, asked {asked}");
        a
    }
}

/// What a driver keeps of the engine's state changes, as the host's store keeps them: the
/// links of each module by Notes key (a link replaces any that shares either id), everything
/// else in a [`SyncState`]. Link reads are answered from it, so a run whose links are read on
/// request ends with the links it made, and the next recording starts from them.
struct Store {
    state: SyncState,
    /// Per module: links by Notes key, and the Notes key of each Zoho id.
    links: BTreeMap<Module, ModuleLinks>,
}

/// One module's links by Notes key, and the Notes key of each Zoho id.
type ModuleLinks = (BTreeMap<String, Link>, HashMap<String, String>);

impl Store {
    fn new(state: &SyncState) -> Self {
        let mut state = state.clone();
        let mut links = BTreeMap::new();
        for (module, m) in &mut state.modules {
            let (by_unid, by_zid): &mut ModuleLinks = links.entry(*module).or_default();
            for l in std::mem::take(&mut m.links) {
                by_zid.insert(l.zoho_id.0.clone(), l.unid.0.clone());
                by_unid.insert(l.unid.0.clone(), l);
            }
        }
        Self { state, links }
    }

    fn apply(&mut self, change: &StateChange) {
        match change {
            StateChange::LinkSet { module, link } => {
                let (by_unid, by_zid) = self.links.entry(*module).or_default();
                if let Some(old) = by_zid.remove(&link.zoho_id.0) {
                    by_unid.remove(&old);
                }
                if let Some(old) = by_unid.remove(&link.unid.0) {
                    by_zid.remove(&old.zoho_id.0);
                }
                by_zid.insert(link.zoho_id.0.clone(), link.unid.0.clone());
                by_unid.insert(link.unid.0.clone(), link.clone());
            }
            StateChange::LinkRemoved {
                module,
                unid,
                zoho_id,
            } => {
                let (by_unid, by_zid) = self.links.entry(*module).or_default();
                if let Some(u) = unid
                    && let Some(old) = by_unid.remove(&u.0)
                {
                    by_zid.remove(&old.zoho_id.0);
                }
                if let Some(z) = zoho_id
                    && let Some(old) = by_zid.remove(&z.0)
                {
                    by_unid.remove(&old);
                }
            }
            other => self.state.apply(other),
        }
    }

    fn answer(&self, q: &LinkQuery) -> Vec<Link> {
        let Some((by_unid, _)) = self.links.get(&q.module) else {
            return Vec::new();
        };
        match &q.want {
            LinkWant::Page { after, limit } => {
                let from = match after {
                    Some(a) => std::ops::Bound::Excluded(a.0.clone()),
                    None => std::ops::Bound::Unbounded,
                };
                by_unid
                    .range((from, std::ops::Bound::Unbounded))
                    .take(usize::try_from(*limit).unwrap_or(usize::MAX))
                    .map(|(_, l)| l.clone())
                    .collect()
            }
            LinkWant::Unids { unids } => unids
                .iter()
                .filter_map(|u| by_unid.get(&u.0).cloned())
                .collect(),
        }
    }

    fn into_state(mut self) -> SyncState {
        for (module, (by_unid, _)) in self.links {
            self.state.modules.entry(module).or_default().links = by_unid.into_values().collect();
        }
        self.state
    }
}

/// Drives a native engine: each request is handed to `issue` when the engine asks for it (as
/// the host's runner does); answers are given back first in, first out, one per wait. Returns
/// the report, the final state, the number of requests and the time spent.
pub async fn drive<F, Fut>(
    config: &EngineConfig,
    state: &SyncState,
    now: i64,
    mut issue: F,
) -> (RunReport, SyncState, usize, Duration)
where
    F: FnMut(HttpRequest) -> Fut,
    Fut: Future<Output = Result<HttpResponse, TransportError>>,
{
    let given = engine_state(config, state);
    let t = Instant::now();
    let mut engine = Engine::new(config.clone(), given, Timestamp(now));
    let mut store = Store::new(state);
    let mut pending: VecDeque<(u64, Fut)> = VecDeque::new();
    let mut requests = 0;
    loop {
        match engine.poll_output() {
            Output::Request(r) => {
                requests += 1;
                pending.push_back((r.id, issue(r)));
            }
            Output::State(change) => store.apply(&change),
            Output::Links(q) => {
                let links = store.answer(&q);
                engine.handle_links(q.id, links).unwrap();
            }
            Output::Wait(until) => {
                let Some((id, answer)) = pending.pop_front() else {
                    panic!("the engine waits ({until:?}) with nothing in flight: a retry?");
                };
                let a = answer.await;
                engine.handle_response(id, Timestamp(now), a).unwrap();
            }
            Output::Done(report) => {
                return (*report, store.into_state(), requests, t.elapsed());
            }
        }
    }
}

/// Records a run against the simulators: each request is performed (with credentials) and
/// its answer kept.
pub async fn record(
    name: &str,
    config: &EngineConfig,
    state: &SyncState,
    now: i64,
    domino_url: &str,
    zoho_url: &str,
    zoho_token: &str,
) -> Trace {
    let http = reqwest::Client::new();
    let answers = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (domino_url, zoho_url, zoho_token) = (
        domino_url.to_owned(),
        zoho_url.to_owned(),
        zoho_token.to_owned(),
    );
    // Each request is sent when issued (so up to the engine's concurrency are in flight) and
    // recorded when its answer is given to the engine, in that order.
    let (report, end, _, _) = drive(config, state, now, |req| {
        let (http, answers) = (http.clone(), answers.clone());
        let (base, auth) = match req.side {
            sync_core::Side::Notes => (domino_url.clone(), "Basic ZGVtbzpkZW1v".to_owned()),
            sync_core::Side::Crm => (zoho_url.clone(), format!("Zoho-oauthtoken {zoho_token}")),
        };
        let sent = tokio::spawn(async move {
            let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
            let mut rb = http
                .request(method, format!("{base}{}", req.path))
                .header("Authorization", auth);
            for h in &req.headers {
                rb = rb.header(h.name.as_str(), h.value.as_str());
            }
            if let Some(b) = &req.body {
                rb = rb.body(b.clone());
            }
            let a = match rb.send().await {
                Ok(resp) => nzsync::upstream::response_from(resp).await,
                Err(e) => Err(TransportError {
                    kind: TransportErrorKind::Connect,
                    message: e.to_string(),
                }),
            };
            (key(&req), a)
        });
        async move {
            let (k, a) = sent.await.unwrap();
            answers.lock().unwrap().push((k, answer_json(&a)));
            a
        }
    })
    .await;
    let answers = std::mem::take(&mut *answers.lock().unwrap());
    Trace {
        name: name.to_owned(),
        config: config.clone(),
        state: state.clone(),
        now,
        answers,
        report: Some(report),
        end_state: Some(end),
    }
}

/// What a report says was done, for comparing replays with the recording.
pub fn work(report: &RunReport) -> Value {
    let v = serde_json::to_value(report).unwrap();
    json!({ "outcome": v["outcome"], "modules": v["modules"], "requests": v["requests"] })
}

/// Both simulators on free loopback ports, without latency, holding `data` (see
/// `nzsync_sim::bench_data`: per module 45 % only in Notes, 45 % only in the CRM, 10 % on both
/// sides, matching). Prints how long the load took.
pub async fn simulators_with(
    data: &nzsync_sim::bench_data::BenchData,
    db: &str,
) -> nzsync_sim::Simulators {
    let sims = nzsync_sim::start(nzsync_sim::SimConfig::loopback(nzsync_sim::Seed::Empty))
        .await
        .unwrap();
    let t = Instant::now();
    sims.load_bench_data(data, db).unwrap();
    eprintln!(
        "loaded {} contacts, {} to-dos, {} events into the simulators in {:.1} s",
        data.contacts.total(),
        data.todos.total(),
        data.events.total(),
        t.elapsed().as_secs_f64()
    );
    sims
}

/// Both simulators holding `n` contacts (see [`simulators_with`]).
pub async fn simulators_with_contacts(n: usize, db: &str) -> nzsync_sim::Simulators {
    simulators_with(&nzsync_sim::bench_data::BenchData::new(n, 0, 0), db).await
}

/// A Zoho access token from the simulator (the demo client's refresh token).
pub async fn zoho_token(zoho_url: &str) -> String {
    let r: Value = reqwest::Client::new()
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

/// A number from the environment.
pub fn env_f64(key: &str, default: f64) -> f64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(d.as_millis()).unwrap()
}

/// `state` without its links, as `nzsync` and the widget give it to an engine that reads links
/// on request (the links stay in the store that answers the reads).
pub fn without_links(state: &SyncState) -> SyncState {
    let mut s = state.clone();
    for m in s.modules.values_mut() {
        m.links.clear();
    }
    s
}

/// The state an engine with `config` is given: without links when it reads them on request.
fn engine_state(config: &EngineConfig, state: &SyncState) -> SyncState {
    if config.links == sync_core::LinkSupply::OnRequest {
        without_links(state)
    } else {
        state.clone()
    }
}

/// `state` as the wasm builds would have written it. The engine's settings fingerprint is a
/// JSON object serialised by serde_json, whose key order depends on its `preserve_order`
/// feature: on in this bench's native build (the simulators enable it), off in the wasm builds
/// (keys sorted). A native state's fingerprints would not match in wasm and force a full read.
pub fn for_wasm(state: &SyncState) -> SyncState {
    fn sorted(v: Value) -> Value {
        match v {
            Value::Object(m) => {
                let b: BTreeMap<String, Value> =
                    m.into_iter().map(|(k, v)| (k, sorted(v))).collect();
                Value::Object(b.into_iter().collect())
            }
            Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
            v => v,
        }
    }
    let mut s = state.clone();
    for m in s.modules.values_mut() {
        if let Some(f) = &m.fingerprint
            && let Ok(v) = serde_json::from_str::<Value>(f)
        {
            m.fingerprint = Some(sorted(v).to_string());
        }
    }
    s
}
