//! What both simulators share: the control state (latency, call log, faults, clock), the
//! middleware that applies it, the `/_sim/` routes common to both, and small HTTP helpers.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::spec::{Outcome, Service, SpecReport, specs};

/// One request the simulator answered (control requests under `/_sim/` are not logged).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// HTTP method as sent on the wire (before any `X-HTTP-Method-Override`).
    pub method: String,
    /// Path without the query string, still percent-encoded.
    pub path: String,
    /// Raw query string, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Status code of the answer; 0 when a fault dropped the connection.
    pub status: u16,
}

/// What a fault rule does to a matching request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status instead of handling the request. 429 and 5xx get the body the
    /// real server would send (Zoho JSON, Domino HTML).
    Status {
        /// The HTTP status to answer with.
        status: u16,
    },
    /// Wait this long before handling the request (a client with a shorter timeout sees a
    /// timeout), or with `after`, handle it first and wait before answering (the server acted,
    /// the client timed out: the answer is lost).
    Delay {
        /// Milliseconds to wait.
        ms: u64,
        /// Wait after handling the request instead of before.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        after: bool,
    },
    /// Close the connection without a complete answer.
    Drop,
    /// Handle the request, send the status and headers with the full `Content-Length`, then
    /// only the first half of the body (an empty body declares one byte and sends none), and
    /// close the connection: the server acted, the client reads a short body.
    Truncate,
    /// Expire the token the request carries, then handle it: on Zoho the access token (so it
    /// gets 401 `INVALID_TOKEN`), on the Domino REST API the JWT (401). On DAS it does
    /// nothing.
    ExpireToken,
}

/// A fault injection rule, consulted by the middleware for every non-`/_sim/` request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// What to do.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Only requests with this method (case-insensitive); all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests whose path starts with this; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Fire on every n-th matching request (1 = every one).
    #[serde(default = "one")]
    pub every: u32,
    /// Fire at most this many times; unlimited when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Fire on a request the `every` count selects only with this chance, in percent (0–100),
    /// drawn from the simulator's seeded fault generator; always when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u8>,
}

fn one() -> u32 {
    1
}

/// The fault rules and the generator their `percent` draws from.
#[derive(Debug, Default)]
struct Faults {
    slots: Vec<FaultSlot>,
    seed: u64,
    rng: u64,
}

/// The seed of the fault generator when `/_sim/faults` names none.
pub const DEFAULT_FAULT_SEED: u64 = 1;

/// A uniform draw below 100 from generator state `rng` (xorshift64*, so a seed replays the
/// same sequence).
fn roll(rng: &mut u64) -> u64 {
    let mut x = *rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *rng = x;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D) % 100
}

#[derive(Debug, Default)]
struct FaultSlot {
    rule: FaultRule,
    seen: u32,
    fired: u32,
}

/// Control state shared by the handlers and the middleware of one simulator.
#[derive(Debug, Default)]
pub(crate) struct SimCore {
    latency_ms: AtomicU64,
    clock_offset_secs: AtomicI64,
    calls: Mutex<std::collections::VecDeque<CallRecord>>,
    faults: Mutex<Faults>,
    base_url: Mutex<Option<String>>,
    /// What the spec check found; `None` while it is off.
    spec: Mutex<Option<SpecReport>>,
}

impl Default for FaultRule {
    fn default() -> Self {
        FaultRule {
            kind: FaultKind::Drop,
            method: None,
            path_prefix: None,
            every: 1,
            times: None,
            percent: None,
        }
    }
}

/// `t` moved by `secs` seconds, stopping at the first or last instant chrono can represent
/// instead of overflowing: amounts that come from clients or `/_sim/` requests go through here
/// (or are refused), never through `+`/`-` on a `TimeDelta` built from them, which panics.
pub(crate) fn plus_secs(t: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
    chrono::TimeDelta::try_seconds(secs)
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(if secs < 0 {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
}

/// `t` moved by `days` days, saturating like [`plus_secs`].
pub(crate) fn plus_days(t: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    plus_secs(t, days.saturating_mul(86_400))
}

/// The latest the simulators' clock may be moved to (`/_sim/clock`): both vendors write
/// four-digit years, and every "now plus a day" stays representable.
const LATEST_CLOCK: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

/// The time without its fraction of a second.
pub(crate) fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// Lock a mutex, recovering the data if a panicking thread poisoned it (the simulator's state
/// stays usable; a poisoned lock only means a handler panicked mid-request).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SimCore {
    pub(crate) fn latency_ms(&self) -> u64 {
        self.latency_ms.load(Ordering::Relaxed)
    }

    pub(crate) fn set_latency_ms(&self, ms: u64) {
        self.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// The simulator's clock: wall time plus the offset set by `/_sim/clock`, at second
    /// precision (both real servers keep seconds only).
    pub(crate) fn now(&self) -> DateTime<Utc> {
        let secs = Utc::now()
            .timestamp()
            .saturating_add(self.clock_offset_secs.load(Ordering::Relaxed))
            .clamp(0, LATEST_CLOCK);
        DateTime::from_timestamp(secs, 0).unwrap_or_default()
    }

    /// Move the clock by `secs`; `Err` (and no change) when that would leave 1970 to 9999.
    pub(crate) fn advance_clock(&self, secs: i64) -> Result<(), String> {
        let wall = Utc::now().timestamp();
        self.clock_offset_secs
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |offset| {
                let offset = offset.checked_add(secs)?;
                let at = wall.checked_add(offset)?;
                (0..=LATEST_CLOCK).contains(&at).then_some(offset)
            })
            .map(|_| ())
            .map_err(|_| {
                format!("advance_secs {secs} would move the clock out of the years 1970 to 9999")
            })
    }

    pub(crate) fn base_url(&self) -> Option<String> {
        lock(&self.base_url).clone()
    }

    pub(crate) fn set_base_url(&self, url: &str) {
        *lock(&self.base_url) = Some(url.trim_end_matches('/').to_owned());
    }

    /// Turn checking answers against the vendor specs on (with an empty report) or off.
    pub(crate) fn set_spec_check(&self, enabled: bool) {
        *lock(&self.spec) = enabled.then(SpecReport::default);
    }

    pub(crate) fn spec_check(&self) -> bool {
        lock(&self.spec).is_some()
    }

    /// The spec check's findings so far, or `None` while it is off.
    pub(crate) fn spec_report(&self) -> Option<SpecReport> {
        lock(&self.spec).clone()
    }

    fn record_spec(&self, request: String, outcome: Outcome) {
        if let Some(report) = lock(&self.spec).as_mut() {
            report.record(request, outcome);
        }
    }

    pub(crate) fn log_call(&self, call: CallRecord) {
        let mut calls = lock(&self.calls);
        // A bound so a long benchmark cannot grow memory without end (a queue: dropping the
        // oldest of a million costs nothing, where a vector moved them all on every call).
        if calls.len() >= 1_000_000 {
            calls.pop_front();
        }
        calls.push_back(call);
    }

    pub(crate) fn calls(&self) -> Vec<CallRecord> {
        lock(&self.calls).iter().cloned().collect()
    }

    pub(crate) fn clear_calls(&self) {
        lock(&self.calls).clear();
    }

    /// Replaces the fault rules and reseeds their generator (`None`: the default seed).
    pub(crate) fn set_faults(&self, rules: Vec<FaultRule>, seed: Option<u64>) {
        let seed = seed.unwrap_or(DEFAULT_FAULT_SEED);
        *lock(&self.faults) = Faults {
            slots: rules
                .into_iter()
                .map(|rule| FaultSlot {
                    rule,
                    seen: 0,
                    fired: 0,
                })
                .collect(),
            seed,
            // xorshift needs a non-zero state; mix the seed so small seeds differ at once.
            rng: (seed ^ 0x9E37_79B9_7F4A_7C15) | 1,
        };
    }

    pub(crate) fn faults_json(&self) -> Value {
        let faults = lock(&self.faults);
        let rules: Vec<Value> = faults
            .slots
            .iter()
            .map(|s| {
                let mut v = serde_json::to_value(&s.rule).unwrap_or(Value::Null);
                if let Value::Object(m) = &mut v {
                    m.insert("seen".into(), json!(s.seen));
                    m.insert("fired".into(), json!(s.fired));
                }
                v
            })
            .collect();
        json!({ "rules": rules, "seed": faults.seed })
    }

    /// The fault to apply to this request, if a rule fires.
    pub(crate) fn next_fault(&self, method: &str, path: &str) -> Option<FaultKind> {
        let mut faults = lock(&self.faults);
        let Faults { slots, rng, .. } = &mut *faults;
        for slot in slots.iter_mut() {
            let rule = &slot.rule;
            if rule
                .method
                .as_deref()
                .is_some_and(|m| !m.eq_ignore_ascii_case(method))
            {
                continue;
            }
            if rule
                .path_prefix
                .as_deref()
                .is_some_and(|p| !path.starts_with(p))
            {
                continue;
            }
            if rule.times.is_some_and(|t| slot.fired >= t) {
                continue;
            }
            slot.seen += 1;
            if slot.seen % rule.every.max(1) == 0
                && rule.percent.is_none_or(|p| roll(rng) < u64::from(p))
            {
                slot.fired += 1;
                return Some(rule.kind.clone());
            }
        }
        None
    }
}

/// What the generic middleware and control routes need from a simulator's state.
pub(crate) trait SimHost: Clone + Send + Sync + 'static {
    /// Which vendor spec describes this simulator's answers.
    const SERVICE: Service;
    fn core(&self) -> &SimCore;
    /// The core whose clock this simulator's answers and `/_sim/clock` use: its own, or that
    /// of the server it is a second face of (the Domino REST API shares Domino's clock).
    fn clock(&self) -> &SimCore {
        self.core()
    }
    /// The answer the real server gives with this status on `path` (used by
    /// `FaultKind::Status`).
    fn fault_response(&self, status: StatusCode, path: &str) -> Response;
    /// Expire the credentials this request carries (`FaultKind::ExpireToken`).
    fn expire_token(&self, _headers: &HeaderMap) {}
}

pub(crate) fn is_control_path(path: &str) -> bool {
    path == "/_sim" || path.starts_with("/_sim/")
}

/// Latency, fault injection and the call log, for every request outside `/_sim/`.
pub(crate) async fn sim_middleware<S: SimHost>(
    State(state): State<S>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    if is_control_path(&path) {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_owned();
    let query = req.uri().query().map(str::to_owned);
    // The method the server acts on, for the spec check (DAS honours the override).
    let acted_method = req
        .headers()
        .get("x-http-method-override")
        .and_then(|v| v.to_str().ok())
        .filter(|_| method == "POST")
        .map_or_else(|| method.clone(), |v| v.trim().to_ascii_uppercase());
    let latency = state.core().latency_ms();
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let fault = state.core().next_fault(&method, &path);
    let dropped = fault == Some(FaultKind::Drop);
    // Answers a fault cuts short are not the server's answers: they are not checked.
    let cut_short = matches!(fault, Some(FaultKind::Drop | FaultKind::Truncate));
    let response = match fault {
        Some(FaultKind::Status { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            state.fault_response(status, &path)
        }
        Some(FaultKind::Delay { ms, after: false }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Some(FaultKind::Delay { ms, after: true }) => {
            let response = next.run(req).await;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            response
        }
        Some(FaultKind::Drop) => dropped_connection(),
        Some(FaultKind::Truncate) => truncated(next.run(req).await).await,
        Some(FaultKind::ExpireToken) => {
            state.expire_token(req.headers());
            next.run(req).await
        }
        None => next.run(req).await,
    };
    let mut response = if state.core().spec_check() && !cut_short {
        let request = match &query {
            Some(q) => format!("{acted_method} {path}?{q}"),
            None => format!("{acted_method} {path}"),
        };
        check_against_spec::<S>(state.core(), &acted_method, &path, request, response).await
    } else {
        response
    };
    // Both servers date their answers by their own clock, which `/_sim/clock` moves; clients
    // take their incremental cursors from it.
    let date = state
        .clock()
        .now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(v) = HeaderValue::from_str(&date) {
        response.headers_mut().insert(header::DATE, v);
    }
    state.core().log_call(CallRecord {
        method,
        path,
        query,
        // 0: the connection was dropped without an answer.
        status: if dropped {
            0
        } else {
            response.status().as_u16()
        },
    });
    response
}

/// Read `response` back, check it against the vendor spec, and give it on unchanged.
async fn check_against_spec<S: SimHost>(
    core: &SimCore,
    method: &str,
    path: &str,
    request: String,
    response: Response,
) -> Response {
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let outcome = specs().check(
        S::SERVICE,
        method,
        path,
        parts.status.as_u16(),
        content_type,
        &bytes,
    );
    core.record_spec(request, outcome);
    Response::from_parts(parts, Body::from(bytes))
}

/// A response whose body fails before the first byte: hyper aborts the connection, so the
/// client sees a connection error instead of an answer.
fn dropped_connection() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "simulated dropped connection",
        ))
    });
    let mut response = Response::new(Body::from_stream(stream));
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("1048576"));
    response
}

/// `response` with its full `Content-Length` but only the first half of its body, then a
/// connection reset (hyper aborts the connection when the body stream fails).
async fn truncated(response: Response) -> Response {
    use futures_util::StreamExt as _;
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let full = bytes.len().max(1);
    let part = bytes.slice(..bytes.len() / 2);
    // The pause lets hyper flush the headers and the part before the failure aborts the
    // connection (a failure in the same poll would drop the buffered bytes unsent).
    let stream =
        futures_util::stream::once(async { Ok(part) }).chain(futures_util::stream::once(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "simulated truncated body",
            ))
        }));
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
    Response::from_parts(parts, Body::from_stream(stream))
}

/// The `/_sim/` routes both simulators have: latency, calls, faults, clock.
pub(crate) fn control_routes<S: SimHost>() -> Router<S> {
    Router::new()
        .route(
            "/_sim/latency",
            post(set_latency::<S>).get(get_latency::<S>),
        )
        .route("/_sim/calls", get(get_calls::<S>).delete(delete_calls::<S>))
        .route(
            "/_sim/faults",
            get(get_faults::<S>)
                .post(post_faults::<S>)
                .delete(delete_faults::<S>),
        )
        .route("/_sim/clock", post(post_clock::<S>).get(get_clock::<S>))
        .route(
            "/_sim/spec",
            get(get_spec::<S>)
                .post(post_spec::<S>)
                .delete(delete_spec::<S>),
        )
}

#[derive(Deserialize)]
struct SpecBody {
    enabled: bool,
}

/// `{"enabled":false}` while off, else `{"enabled":true, "checked", "undescribed",
/// "violations"}`.
async fn get_spec<S: SimHost>(State(s): State<S>) -> Response {
    let body = match s.core().spec_report() {
        Some(report) => {
            let mut v = serde_json::to_value(report).unwrap_or_default();
            if let Value::Object(m) = &mut v {
                m.insert("enabled".into(), Value::Bool(true));
            }
            v
        }
        None => json!({ "enabled": false }),
    };
    Json(body).into_response()
}

async fn post_spec<S: SimHost>(State(s): State<S>, body: Bytes) -> Response {
    match serde_json::from_slice::<SpecBody>(&body) {
        Ok(b) => {
            s.core().set_spec_check(b.enabled);
            get_spec(State(s)).await
        }
        Err(e) => control_error(&format!("expected {{\"enabled\": true|false}}: {e}")),
    }
}

/// Empty the report, keeping the check on (or off).
async fn delete_spec<S: SimHost>(State(s): State<S>) -> Response {
    let core = s.core();
    core.set_spec_check(core.spec_check());
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct LatencyBody {
    ms: u64,
}

async fn set_latency<S: SimHost>(State(s): State<S>, body: Bytes) -> Response {
    match serde_json::from_slice::<LatencyBody>(&body) {
        Ok(b) => {
            s.core().set_latency_ms(b.ms);
            Json(json!({ "ms": b.ms })).into_response()
        }
        Err(e) => control_error(&format!("expected {{\"ms\": <number>}}: {e}")),
    }
}

async fn get_latency<S: SimHost>(State(s): State<S>) -> Response {
    Json(json!({ "ms": s.core().latency_ms() })).into_response()
}

async fn get_calls<S: SimHost>(State(s): State<S>) -> Response {
    Json(json!({ "calls": s.core().calls() })).into_response()
}

async fn delete_calls<S: SimHost>(State(s): State<S>) -> Response {
    s.core().clear_calls();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct FaultsBody {
    #[serde(default)]
    rules: Vec<FaultRule>,
    /// Seed of the generator behind the rules' `percent`.
    #[serde(default)]
    seed: Option<u64>,
}

async fn get_faults<S: SimHost>(State(s): State<S>) -> Response {
    Json(s.core().faults_json()).into_response()
}

async fn post_faults<S: SimHost>(State(s): State<S>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultsBody>(&body) {
        Ok(b) => {
            s.core().set_faults(b.rules, b.seed);
            Json(s.core().faults_json()).into_response()
        }
        Err(e) => control_error(&format!("expected {{\"rules\": [...]}}: {e}")),
    }
}

async fn delete_faults<S: SimHost>(State(s): State<S>) -> Response {
    s.core().set_faults(Vec::new(), None);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct ClockBody {
    advance_secs: i64,
}

async fn post_clock<S: SimHost>(State(s): State<S>, body: Bytes) -> Response {
    match serde_json::from_slice::<ClockBody>(&body) {
        Ok(b) => match s.clock().advance_clock(b.advance_secs) {
            Ok(()) => get_clock(State(s)).await,
            Err(e) => control_error(&e),
        },
        Err(e) => control_error(&format!("expected {{\"advance_secs\": <number>}}: {e}")),
    }
}

async fn get_clock<S: SimHost>(State(s): State<S>) -> Response {
    Json(json!({ "now": s.clock().now().format("%Y-%m-%dT%H:%M:%SZ").to_string() })).into_response()
}

/// Error answer of a control route.
pub(crate) fn control_error(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

/// A JSON body with an explicit content type, pretty-printed or compact.
pub(crate) fn json_body(
    status: StatusCode,
    value: &Value,
    pretty: bool,
    content_type: &'static str,
) -> Response {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .unwrap_or_default();
    (status, [(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// Decode `%XX` escapes of a path segment (`+` stays a plus, unlike in a query string).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query parameters in order (`+` and `%XX` decoded).
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// First value of a query parameter (exact name).
pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `Host` header of the request, for absolute URLs built "from the request URL".
pub(crate) fn request_origin(headers: &HeaderMap, core: &SimCore) -> String {
    if let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        return format!("http://{host}");
    }
    core.base_url()
        .unwrap_or_else(|| "http://127.0.0.1".to_owned())
}

/// Random upper-case hex string of `n` characters.
pub(crate) fn random_hex(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Stable 32-hex-digit id derived from text (FNV-1a, twice), for deterministic design UNIDs.
pub(crate) fn stable_hex32(text: &str) -> String {
    fn fnv(seed: u64, text: &str) -> u64 {
        let mut h = seed;
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h
    }
    format!(
        "{:016X}{:016X}",
        fnv(0xcbf2_9ce4_8422_2325, text),
        fnv(0x8422_2325_cbf2_9ce4, text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decode_keeps_plus_and_decodes_escapes() {
        assert_eq!(percent_decode("%28%24Contacts%29"), "($Contacts)");
        assert_eq!(percent_decode("a+b%2"), "a+b%2");
        assert_eq!(percent_decode("%E5%B1%B1"), "山");
    }

    #[test]
    fn fault_rule_fires_every_nth_and_at_most_times() {
        let core = SimCore::default();
        core.set_faults(
            vec![FaultRule {
                kind: FaultKind::Status { status: 503 },
                every: 2,
                times: Some(2),
                ..FaultRule::default()
            }],
            None,
        );
        let fired: Vec<bool> = (0..8)
            .map(|_| core.next_fault("GET", "/x").is_some())
            .collect();
        assert_eq!(
            fired,
            [false, true, false, true, false, false, false, false]
        );
    }

    #[test]
    fn percent_rules_fire_about_that_often_and_a_seed_replays_them() {
        let pattern = |seed| {
            let core = SimCore::default();
            core.set_faults(
                vec![FaultRule {
                    kind: FaultKind::Truncate,
                    percent: Some(10),
                    ..FaultRule::default()
                }],
                Some(seed),
            );
            (0..2000)
                .map(|_| core.next_fault("GET", "/x").is_some())
                .collect::<Vec<bool>>()
        };
        let a = pattern(7);
        let fired = a.iter().filter(|f| **f).count();
        assert!((140..=260).contains(&fired), "{fired} of 2000 at 10%");
        assert_eq!(a, pattern(7), "the same seed replays the same faults");
        assert_ne!(a, pattern(8), "another seed gives other faults");
    }

    #[test]
    fn fault_rule_json_shape() {
        let rule: FaultRule = serde_json::from_str(
            r#"{"kind":"status","status":429,"path_prefix":"/crm/","times":1}"#,
        )
        .unwrap();
        assert_eq!(rule.kind, FaultKind::Status { status: 429 });
        assert_eq!(rule.every, 1);
        assert_eq!(rule.path_prefix.as_deref(), Some("/crm/"));
    }
}
