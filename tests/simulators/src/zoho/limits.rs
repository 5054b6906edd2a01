//! API limits (zoho-crm-api.md §5): a per-org credit budget over a rolling 24 h window,
//! concurrency and sub-concurrency of requests in flight, 429 `TOO_MANY_REQUESTS`, and
//! `X-API-CREDITS-REMAINING` once half the credits are used.
//!
//! Two layers: [`count`] (outermost, so a request counts as in flight during the simulated
//! latency too) and [`check`] (inside the control middleware, so 429s are logged and faults
//! come first).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::{ZohoState, zoho_error};
use crate::common::{SimHost, lock, query_pairs};

/// Default daily credits (large enough for any test).
pub const DEFAULT_CREDITS: u64 = 1_000_000;
/// Default concurrency (Enterprise).
pub const DEFAULT_CONCURRENCY: usize = 20;
/// Sub-concurrency of heavy calls, all editions.
pub const DEFAULT_SUB_CONCURRENCY: usize = 10;

/// The 429 text of the v8 status-codes page (§1.5).
const TOO_MANY: &str = "Number of API requests for the 24 hour period is exceeded or the concurrency limit of the user for the app is exceeded";

#[derive(Debug)]
pub(crate) struct LimitConfig {
    pub credits: u64,
    pub concurrency: usize,
    pub sub_concurrency: usize,
    pub edition: Option<String>,
    /// (time, credits) of the calls in the last 24 h.
    pub used: VecDeque<(DateTime<Utc>, u64)>,
}

#[derive(Debug)]
pub(crate) struct Limits {
    pub config: Mutex<LimitConfig>,
    in_flight: AtomicUsize,
    heavy_in_flight: AtomicUsize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            config: Mutex::new(LimitConfig {
                credits: DEFAULT_CREDITS,
                concurrency: DEFAULT_CONCURRENCY,
                sub_concurrency: DEFAULT_SUB_CONCURRENCY,
                edition: None,
                used: VecDeque::new(),
            }),
            in_flight: AtomicUsize::new(0),
            heavy_in_flight: AtomicUsize::new(0),
        }
    }
}

impl LimitConfig {
    fn prune(&mut self, now: DateTime<Utc>) {
        while self
            .used
            .front()
            .is_some_and(|(t, _)| *t <= now - Duration::hours(24))
        {
            self.used.pop_front();
        }
    }

    pub(crate) fn used_total(&mut self, now: DateTime<Utc>) -> u64 {
        self.prune(now);
        self.used.iter().map(|(_, c)| c).sum()
    }

    /// `(daily credits, concurrency)` of an edition for `users` licences (§5 tables).
    pub(crate) fn edition_limits(edition: &str, users: u64) -> Option<(u64, usize)> {
        Some(match edition.to_ascii_lowercase().as_str() {
            "free" => (5_000, 5),
            "standard" | "starter" => ((50_000 + 250 * users).min(100_000), 10),
            "professional" => ((50_000 + 500 * users).min(3_000_000), 15),
            "enterprise" | "zoho_one" => ((50_000 + 1_000 * users).min(5_000_000), 20),
            "ultimate" | "crm_plus" => (50_000 + 2_000 * users, 25),
            _ => return None,
        })
    }
}

/// The `/_sim/config` keys of the limits.
pub(crate) fn config_json(limits: &Limits, now: DateTime<Utc>) -> Value {
    let mut c = lock(&limits.config);
    let used = c.used_total(now);
    json!({
        "credits": c.credits,
        "credits_used": used,
        "credits_remaining": c.credits.saturating_sub(used),
        "concurrency": c.concurrency,
        "sub_concurrency": c.sub_concurrency,
        "edition": c.edition,
        "in_flight": limits.in_flight.load(Ordering::SeqCst),
    })
}

/// Apply `credits`, `concurrency`, `sub_concurrency`, `edition`, `reset_credits` from a
/// `/_sim/config` body.
pub(crate) fn apply_config(limits: &Limits, v: &Value, users: u64) -> Result<(), String> {
    let mut c = lock(&limits.config);
    if let Some(e) = v.get("edition") {
        let name = e.as_str().ok_or("edition must be a string")?;
        let (credits, concurrency) = LimitConfig::edition_limits(name, users).ok_or_else(|| {
            format!("unknown edition {name:?} (free, standard, professional, enterprise, ultimate)")
        })?;
        c.credits = credits;
        c.concurrency = concurrency;
        c.edition = Some(name.to_ascii_lowercase());
    }
    if let Some(n) = v.get("credits") {
        c.credits = n.as_u64().ok_or("credits must be a non-negative integer")?;
    }
    if let Some(n) = v.get("concurrency") {
        c.concurrency = n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or("concurrency must be a positive integer")?;
    }
    if let Some(n) = v.get("sub_concurrency") {
        c.sub_concurrency = n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or("sub_concurrency must be a positive integer")?;
    }
    if v.get("reset_credits").and_then(Value::as_bool) == Some(true) {
        c.used.clear();
    }
    Ok(())
}

struct Release<'a>(&'a AtomicUsize);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn is_crm(path: &str) -> bool {
    path.starts_with("/crm/")
}

/// Heavy calls (sub-concurrency): writes of more than 10 records, COQL, list with `cvid` or
/// `sort_by`.
fn heavy(method: &Method, segs: &[&str], query: &[(String, String)], body: &[u8]) -> bool {
    if segs.last() == Some(&"coql") {
        return true;
    }
    if *method == Method::GET {
        return segs.len() == 1 && query.iter().any(|(k, _)| k == "cvid" || k == "sort_by");
    }
    if matches!(*method, Method::POST | Method::PUT) {
        return data_len(body) > 10;
    }
    false
}

fn data_len(body: &[u8]) -> usize {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("data").and_then(Value::as_array).map(Vec::len))
        .unwrap_or(0)
}

/// Credits of one call (§5): 1 by default, 2 for deleted records, 3 with `cvid`, 1 per 10
/// records written (insert, update, upsert), 1 per 50 records tagged.
fn cost(method: &Method, segs: &[&str], query: &[(String, String)], body: &[u8]) -> u64 {
    let per = |n: usize, size: usize| u64::try_from(n.div_ceil(size).max(1)).unwrap_or(1);
    match (method, segs) {
        (&Method::GET, [_, "deleted"]) => 2,
        (&Method::GET, [_]) if query.iter().any(|(k, _)| k == "cvid") => 3,
        (&Method::POST, [_, "actions", "add_tags" | "remove_tags"]) => {
            let ids = query
                .iter()
                .find(|(k, _)| k == "ids")
                .map_or(0, |(_, v)| v.split(',').filter(|s| !s.is_empty()).count());
            per(ids.max(data_len(body)), 50)
        }
        (&Method::POST | &Method::PUT, [m] | [m, _]) if *m != "coql" => per(data_len(body), 10),
        _ => 1,
    }
}

/// Marks a heavy call (set by [`count`], read by [`check`]).
#[derive(Clone, Copy)]
struct Heavy;

/// Outer layer: count CRM requests in flight (including the simulated latency), and heavy
/// ones separately.
pub(crate) async fn count(State(state): State<ZohoState>, req: Request, next: Next) -> Response {
    if !is_crm(req.uri().path()) {
        return next.run(req).await;
    }
    let limits = &state.inner.limits;
    limits.in_flight.fetch_add(1, Ordering::SeqCst);
    let _release = Release(&limits.in_flight);
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024 * 1024).await else {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "INVALID_DATA",
            "body",
            json!({ "expected_data_type": "jsonobject" }),
        );
    };
    let path = parts.uri.path().to_owned();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).skip(2).collect();
    let query = query_pairs(parts.uri.query());
    let _heavy_release = if heavy(&parts.method, &segs, &query, &bytes) {
        parts.extensions.insert(Heavy);
        limits.heavy_in_flight.fetch_add(1, Ordering::SeqCst);
        Some(Release(&limits.heavy_in_flight))
    } else {
        None
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Inner layer: refuse over-concurrency and over-budget calls with 429, charge credits, add
/// `X-API-CREDITS-REMAINING`.
pub(crate) async fn check(State(state): State<ZohoState>, req: Request, next: Next) -> Response {
    if !is_crm(req.uri().path()) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024 * 1024).await else {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "INVALID_DATA",
            "body",
            json!({ "expected_data_type": "jsonobject" }),
        );
    };
    let path = parts.uri.path().to_owned();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).skip(2).collect();
    let query = query_pairs(parts.uri.query());
    let is_heavy = parts.extensions.get::<Heavy>().is_some();
    let credits = cost(&parts.method, &segs, &query, &bytes);
    let limits = &state.inner.limits;
    let now = state.core().now();
    let too_many = || {
        zoho_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            TOO_MANY,
            json!({}),
        )
    };
    {
        let mut c = lock(&limits.config);
        if limits.in_flight.load(Ordering::SeqCst) > c.concurrency
            || (is_heavy && limits.heavy_in_flight.load(Ordering::SeqCst) > c.sub_concurrency)
        {
            return too_many();
        }
        let used = c.used_total(now);
        if used + credits > c.credits {
            return too_many();
        }
        c.used.push_back((now, credits));
    }
    let req = Request::from_parts(parts, Body::from(bytes));
    let mut response = next.run(req).await;
    let mut c = lock(&limits.config);
    if response.status() == StatusCode::UNAUTHORIZED {
        // Calls refused for the token cost nothing.
        if let Some(pos) = c.used.iter().rposition(|(t, n)| *t == now && *n == credits) {
            c.used.remove(pos);
        }
    }
    let used = c.used_total(now);
    if c.credits > 0 && used * 2 >= c.credits {
        let remaining = c.credits.saturating_sub(used);
        if let Ok(v) = HeaderValue::from_str(&remaining.to_string()) {
            response.headers_mut().insert("X-API-CREDITS-REMAINING", v);
        }
    }
    response
}
