//! The proxy the browser-run engine calls: `/proxy/domino/{path}` goes to the caller's own
//! connected Domino server, `/proxy/zoho/{path}` to the configured Zoho API domain (only
//! `/crm/…`), with the caller's credentials added. Nothing else is reachable:
//!
//! - the path is taken raw from the request URI and joined to the upstream's origin with
//!   [`pinned_url`]; absolute URLs, `//host`, backslashes and `.`/`..` segments (also
//!   percent-encoded) are refused before anything is sent;
//! - the Domino server must still be one the operator allows, at an address the rule allows,
//!   at every request (`crate::domino_access`): the stored name is resolved again through the
//!   Domino client's resolver hook, so a name that now points elsewhere reaches nothing;
//! - only a short list of request headers is forwarded (never the browser's cookies or
//!   `Authorization`); the upstream's `Set-Cookie` and `WWW-Authenticate` never come back;
//! - redirects are not followed, nor passed on (a 3xx other than 304 becomes 502).
//!
//! Bounded: request bodies up to [`MAX_REQUEST_BODY`]; answers are **streamed** to the browser
//! as they arrive, never held whole, and cut off after [`crate::upstream::MAX_BODY`] bytes. A
//! user has at most `[proxy] max_in_flight_per_user` requests in flight, and all requests in
//! flight together hold at most `[proxy] memory_budget_mib` (each counts its request body plus
//! [`STREAM_RESERVE`] for the buffers of its streamed answer); a request over either limit is
//! refused with 429 and `Retry-After` instead of growing the server's memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sync_core::{Module, StateChange, ZohoId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use super::auth::Member;
use super::connect::{self, CANNOT_USE_SERVER};
use super::{ApiError, AppState, zoho};
use crate::domino_access::DominoAccess;
use crate::drapi::session::{JwtSession, LoginError, Want as JwtWant};
use crate::store::UserRow;
use crate::upstream::{MAX_BODY, describe, pinned_url};

/// Largest request body forwarded.
pub const MAX_REQUEST_BODY: usize = 16 * 1024 * 1024;

/// What one streamed answer may hold in the server's memory at once, counted against the
/// memory budget for each request in flight: the upstream connection's read buffer (hyper
/// bounds it to about 400 KiB), the pieces on their way to the browser (the server's
/// connections buffer at most 64 KiB each way) and what the allocator keeps around them —
/// measured at about 1.1 MiB per stream with a slow reader (`attacks.rs`, the memory bomb),
/// reserved with a margin.
pub const STREAM_RESERVE: usize = 2 * 1024 * 1024;

/// How long a refused client should wait before trying again, seconds.
const RETRY_AFTER_SECS: u32 = 1;

/// The largest 401 answer from Zoho read whole (to see whether the token expired).
const MAX_TOKEN_ERROR: usize = 64 * 1024;

const FORWARD_REQUEST: &[&str] = &[
    "accept",
    "content-type",
    "if-modified-since",
    "if-unmodified-since",
    "if-match",
    "if-none-match",
    "x-external",
    "x-http-method-override",
];
/// Response headers the engine reads: `location` (the UNID of a created Notes document),
/// `content-range` (view totals for parallel paging), `date` (the server's clock for cursors),
/// `x-api-credits-remaining` (Zoho's budget).
const FORWARD_RESPONSE: &[&str] = &[
    "content-type",
    "content-range",
    "date",
    "location",
    "x-api-credits-remaining",
    "etag",
    "last-modified",
    "x-accesstoken-reset",
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
];

/// The proxy's limits: requests in flight per user, and the memory budget of all of them.
#[derive(Debug)]
pub struct ProxyLimits {
    per_user: usize,
    in_flight: Mutex<HashMap<String, usize>>,
    /// The memory budget, in KiB.
    budget: Arc<Semaphore>,
}

impl ProxyLimits {
    /// `per_user` requests in flight per user, `budget_bytes` for all of them.
    #[must_use]
    pub fn new(per_user: u32, budget_bytes: u64) -> Self {
        Self {
            per_user: usize::try_from(per_user).unwrap_or(usize::MAX).max(1),
            in_flight: Mutex::new(HashMap::new()),
            budget: Arc::new(Semaphore::new(
                usize::try_from(budget_bytes / 1024)
                    .unwrap_or(Semaphore::MAX_PERMITS)
                    .min(Semaphore::MAX_PERMITS),
            )),
        }
    }

    fn in_flight(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A user's place among their requests in flight, given back on drop.
struct UserSlot {
    state: AppState,
    user_id: String,
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut map = self.state.inner.proxy_limits.in_flight();
        if let Some(n) = map.get_mut(&self.user_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.user_id);
            }
        }
    }
}

/// A request let in: holds its user's slot and its share of the memory budget until its
/// answer has been streamed (or the browser went away).
struct Admitted {
    _slot: UserSlot,
    _memory: OwnedSemaphorePermit,
}

fn busy(message: &str) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
}

/// Lets a request of `user_id` carrying `body_len` bytes in, or refuses it (429; the answer
/// gets `Retry-After` in [`with_retry_after`]).
fn admit(state: &AppState, user_id: &str, body_len: usize) -> Result<Admitted, ApiError> {
    let limits = &state.inner.proxy_limits;
    {
        let mut map = limits.in_flight();
        let n = map.entry(user_id.to_owned()).or_insert(0);
        if *n >= limits.per_user {
            return Err(busy(&format!(
                "you have {} requests through the proxy in flight already, the most allowed; \
                 try again in a moment",
                limits.per_user
            )));
        }
        *n += 1;
    }
    let slot = UserSlot {
        state: state.clone(),
        user_id: user_id.to_owned(),
    };
    let kib = (body_len + STREAM_RESERVE).div_ceil(1024);
    let memory = u32::try_from(kib)
        .ok()
        .and_then(|k| limits.budget.clone().try_acquire_many_owned(k).ok())
        .ok_or_else(|| {
            tracing::info!("proxy: memory budget spent, request refused");
            busy("the server is busy with other requests through the proxy; try again in a moment")
        })?;
    Ok(Admitted {
        _slot: slot,
        _memory: memory,
    })
}

/// A 429 answer tells when to try again.
fn with_retry_after(mut r: Response) -> Response {
    if r.status() == StatusCode::TOO_MANY_REQUESTS && !r.headers().contains_key(header::RETRY_AFTER)
    {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    r
}

/// The upstream path (and query) of a proxied request, or why it is refused.
fn upstream_path(uri: &axum::http::Uri, prefix: &str) -> Result<String, ApiError> {
    let refuse = || ApiError::forbidden("the proxy only reaches paths on your own servers");
    let rest = uri.path().strip_prefix(prefix).ok_or_else(refuse)?;
    if !rest.starts_with('/') || rest.starts_with("//") || rest.contains('\\') {
        return Err(refuse());
    }
    // An absolute URL smuggled in as the path (`/proxy/zoho/https://elsewhere/…`).
    let first = percent_decode(rest.split('/').nth(1).unwrap_or_default());
    if first.contains(':') || first.contains('@') {
        return Err(refuse());
    }
    for seg in rest.split('/') {
        let decoded = percent_decode(seg);
        if decoded == "." || decoded == ".." || decoded.contains('/') || decoded.contains('\\') {
            return Err(refuse());
        }
    }
    Ok(match uri.query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_owned(),
    })
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

async fn forward(
    client: &reqwest::Client,
    url: Url,
    method: reqwest::Method,
    headers: &axum::http::HeaderMap,
    body: &Bytes,
    auth: &str,
) -> Result<reqwest::Response, ApiError> {
    let mut rb = client.request(method, url).header("Authorization", auth);
    for name in FORWARD_REQUEST {
        for v in headers.get_all(*name) {
            rb = rb.header(*name, v.as_bytes());
        }
    }
    if !body.is_empty() {
        rb = rb.body(body.clone());
    }
    rb.send().await.map_err(|e| {
        ApiError::upstream(format!("the server could not be reached: {}", describe(&e)))
    })
}

/// The answer's headers the browser gets: the forwarded ones, and `no-store`.
fn copy_headers(from: &reqwest::header::HeaderMap, to: &mut axum::http::HeaderMap) {
    for (name, value) in from {
        let name = name.as_str();
        if FORWARD_RESPONSE.contains(&name)
            && let (Ok(n), Ok(v)) = (
                header::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_bytes(value.as_bytes()),
            )
        {
            to.append(n, v);
        }
    }
    to.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Refuses what must not reach the browser before any of the body is read: a redirect, and an
/// answer that says it is larger than [`MAX_BODY`].
fn refuse_early(resp: &reqwest::Response) -> Result<(), ApiError> {
    let status = resp.status().as_u16();
    if (300..400).contains(&status) && status != 304 {
        // A redirect would send the engine (and its request body) to wherever the upstream
        // says: neither the proxy nor the browser follows one.
        let to = resp
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        return Err(ApiError::upstream(format!(
            "the server answered a redirect (HTTP {status}) to {to:?}, which the proxy does not follow"
        )));
    }
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(ApiError::upstream(format!(
            "the server's answer is larger than {MAX_BODY} bytes, the most the proxy passes on"
        )));
    }
    Ok(())
}

/// Streams `resp` to the browser as it arrives; `admitted` is held until the last chunk is
/// sent or the browser goes away. Past [`MAX_BODY`] bytes, or when the upstream breaks off,
/// the answer is cut off (the browser sees an incomplete answer, never a partial one taken for
/// whole).
fn stream(resp: reqwest::Response, admitted: Admitted) -> Response {
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut headers = axum::http::HeaderMap::new();
    copy_headers(resp.headers(), &mut headers);
    let start = Relay {
        resp,
        pending: Bytes::new(),
        sent: 0,
        _admitted: admitted,
    };
    let chunks = futures_util::stream::unfold(Some(start), |relay| async move {
        let mut relay = relay?;
        if relay.pending.is_empty() {
            match relay.resp.chunk().await {
                Ok(Some(chunk)) if relay.sent + chunk.len() > MAX_BODY => {
                    tracing::info!("proxy: answer cut off at {MAX_BODY} bytes");
                    return Some((
                        Err(cut(format!("answer larger than {MAX_BODY} bytes"))),
                        None,
                    ));
                }
                Ok(Some(chunk)) => {
                    relay.sent += chunk.len();
                    relay.pending = chunk;
                }
                Ok(None) => return None,
                Err(e) => return Some((Err(cut(describe(&e))), None)),
            }
        }
        // Pass on a copy of at most `PIECE` bytes: the browser's side holds only small pieces,
        // never a slice that keeps the upstream connection's whole read buffer alive.
        let n = relay.pending.len().min(PIECE);
        let piece = Bytes::copy_from_slice(&relay.pending[..n]);
        let rest = relay.pending.split_off(n);
        relay.pending = rest;
        Some((Ok(piece), Some(relay)))
    });
    let mut out = Response::new(Body::from_stream(chunks));
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}

/// An answer being relayed: the upstream response, the part of its last chunk not passed on
/// yet, the bytes read so far, and the request's admission (released when the relay ends).
struct Relay {
    resp: reqwest::Response,
    pending: Bytes,
    sent: usize,
    _admitted: Admitted,
}

/// The largest piece of an answer handed to the browser's connection at once.
const PIECE: usize = 64 * 1024;

fn cut(message: String) -> std::io::Error {
    std::io::Error::other(message)
}

/// Reads a small answer whole (at most `limit` bytes).
async fn read_small(
    mut resp: reqwest::Response,
    limit: usize,
) -> Result<(reqwest::StatusCode, reqwest::header::HeaderMap, Bytes), ApiError> {
    let status = resp.status();
    let headers = resp.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| {
        ApiError::upstream(format!("the server's answer broke off: {}", describe(&e)))
    })? {
        if body.len() + chunk.len() > limit {
            return Err(ApiError::upstream(format!(
                "the server's answer is larger than {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, headers, Bytes::from(body)))
}

async fn parts(req: Request) -> Result<(axum::http::request::Parts, Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, MAX_REQUEST_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("request bodies through the proxy are limited to {MAX_REQUEST_BODY} bytes"),
        )
    })?;
    Ok((parts, body))
}

fn method(m: &axum::http::Method) -> Result<reqwest::Method, ApiError> {
    reqwest::Method::from_bytes(m.as_str().as_bytes())
        .map_err(|_| ApiError::bad_request("unknown HTTP method"))
}

/// How the proxy signs in to a user's Domino server.
enum DominoCredential {
    /// Domino Access Services: HTTP Basic, the `Authorization` value.
    Basic(String),
    /// The Domino REST API: the replica's login of the user (a bearer token).
    Jwt(Arc<JwtSession>),
}

fn domino_auth(state: &AppState, user: &UserRow) -> Result<(Url, DominoCredential), ApiError> {
    let (config, secrets) = connect::stored_domino(state, user)?;
    let base = Url::parse(config.domino_base())
        .map_err(|e| ApiError::internal(format!("stored server: {e}")))?;
    if let Some(session) = connect::drapi_session(state, user, &config, &secrets)? {
        return Ok((base, DominoCredential::Jwt(session)));
    }
    let basic = crate::upstream::basic_authorization(&config.domino.user, &secrets.domino_password);
    Ok((base, DominoCredential::Basic(basic)))
}

/// The REST API's token, as `want` asks, as an `Authorization` value; a refused login is
/// answered to the browser as the REST API answered it (the engine reads it).
async fn bearer(
    session: &JwtSession,
    access: &DominoAccess,
    want: JwtWant<'_>,
) -> Result<String, Response> {
    match session.token(access.client(), Some(access), want).await {
        Ok(token) => Ok(format!("Bearer {token}")),
        Err(LoginError::Refused(answer)) => {
            let mut out = Response::new(Body::from(answer.body));
            *out.status_mut() =
                StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
            out.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Err(out)
        }
        Err(LoginError::Transport(e)) => Err(ApiError::upstream(format!(
            "cannot log in to the Domino REST API: {}",
            e.message
        ))
        .into_response()),
    }
}

/// `ANY /proxy/domino/{*path}`.
pub async fn domino(
    State(state): State<AppState>,
    Member { user }: Member,
    req: Request,
) -> Response {
    let run = async {
        let path = upstream_path(req.uri(), "/proxy/domino")?;
        let (base, credential) = domino_auth(&state, &user)?;
        let url = pinned_url(&base, &path).ok_or_else(|| {
            ApiError::forbidden("the proxy only reaches paths on your own servers")
        })?;
        let access = state.domino_access();
        access.admit_url(&url).map_err(|e| {
            tracing::info!(user = %user.user_id, reason = %e, "proxy: Domino server refused");
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                CANNOT_USE_SERVER,
                "the proxy does not reach your Domino server: it is not a server this integration may use",
            )
        })?;
        let (parts, body) = parts(req).await?;
        let m = method(&parts.method)?;
        let admitted = admit(&state, &user.user_id, body.len())?;
        let auth = match &credential {
            DominoCredential::Basic(basic) => basic.clone(),
            DominoCredential::Jwt(session) => {
                match bearer(session, &access, JwtWant::Current).await {
                    Ok(auth) => auth,
                    Err(answer) => return Ok(answer),
                }
            }
        };
        let client = access.client();
        let mut resp =
            forward(client, url.clone(), m.clone(), &parts.headers, &body, &auth).await?;
        if let DominoCredential::Jwt(session) = &credential
            && resp.status() == reqwest::StatusCode::UNAUTHORIZED
        {
            // The token died (the REST API restarted, or it expired early): log in again once.
            let old = auth.trim_start_matches("Bearer ");
            let auth = match bearer(session, &access, JwtWant::Replacing(old)).await {
                Ok(auth) => auth,
                Err(answer) => return Ok(answer),
            };
            resp = forward(client, url, m, &parts.headers, &body, &auth).await?;
        }
        refuse_early(&resp)?;
        Ok(stream(resp, admitted))
    };
    run.await
        .unwrap_or_else(|e: ApiError| with_retry_after(e.into_response()))
}

/// `ANY /proxy/zoho/{*path}` (only `/crm/…`).
pub async fn zoho(
    State(state): State<AppState>,
    Member { user }: Member,
    req: Request,
) -> Response {
    let run = async {
        let path = upstream_path(req.uri(), "/proxy/zoho")?;
        if !path.starts_with("/crm/") {
            return Err(ApiError::forbidden(
                "the Zoho proxy only reaches the CRM API (/crm/…)",
            ));
        }
        let url = zoho::api_url(&state, &path)?;
        let (parts, body) = parts(req).await?;
        let m = method(&parts.method)?;
        let admitted = admit(&state, &user.user_id, body.len())?;
        let http = &state.inner.http;
        let token = zoho::access_token(&state, &user, false).await?;
        let auth = format!("Zoho-oauthtoken {token}");
        let mut resp = forward(http, url.clone(), m.clone(), &parts.headers, &body, &auth).await?;
        if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
            let (status, headers, small) = read_small(resp, MAX_TOKEN_ERROR).await?;
            if !String::from_utf8_lossy(&small).contains("INVALID_TOKEN") {
                let mut out = Response::new(Body::from(small));
                *out.status_mut() =
                    StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
                copy_headers(&headers, out.headers_mut());
                return Ok(out);
            }
            // Expired or revoked access token: refresh once and try again.
            let token = zoho::access_token(&state, &user, true).await?;
            let auth = format!("Zoho-oauthtoken {token}");
            resp = forward(http, url, m.clone(), &parts.headers, &body, &auth).await?;
        }
        refuse_early(&resp)?;
        if let Some(module) = record_insert(&m, &path) {
            return remember_created(&state, &user, module, resp).await;
        }
        Ok(stream(resp, admitted))
    };
    run.await
        .unwrap_or_else(|e: ApiError| with_retry_after(e.into_response()))
}

/// The module a request inserts records of, when it is a sync's create (`POST
/// /crm/v8/Contacts`, to-dos, events): the proxy then remembers what it created.
fn record_insert(method: &reqwest::Method, path: &str) -> Option<Module> {
    if method != reqwest::Method::POST {
        return None;
    }
    let path = path.split('?').next().unwrap_or(path);
    let module = path.strip_prefix("/crm/v8/")?;
    Module::ALL.into_iter().find(|m| m.crm_api_name() == module)
}

/// The most an insert's answer may take (100 records' ids and messages take some 30 KB).
const MAX_INSERT_ANSWER: usize = 4 * 1024 * 1024;

/// Relays the answer to a browser sync's insert after remembering the records it created, for
/// the uninstall to delete them. The server remembers them from Zoho's own answer: the list
/// of records an uninstall deletes (with the admin's access, for a user whose sign-in is gone)
/// never holds an id the browser merely claimed.
async fn remember_created(
    state: &AppState,
    user: &UserRow,
    module: Module,
    resp: reqwest::Response,
) -> Result<Response, ApiError> {
    let (status, headers, body) = read_small(resp, MAX_INSERT_ANSWER).await?;
    let changes: Vec<StateChange> = crate::crm_cleanup::inserted_ids(&body)
        .into_iter()
        .map(|id| StateChange::CrmCreated {
            module,
            zoho_id: ZohoId(id),
        })
        .collect();
    if !changes.is_empty() {
        state
            .db()
            .await?
            .apply(&super::profile(&user.user_id), &changes)
            .await?;
    }
    let mut out = Response::new(Body::from(body));
    *out.status_mut() = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    copy_headers(&headers, out.headers_mut());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_would_leave_the_server_are_refused() {
        let ok = |s: &str| upstream_path(&s.parse().unwrap(), "/proxy/zoho");
        assert_eq!(
            ok("/proxy/zoho/crm/v8/Contacts?page=2").unwrap(),
            "/crm/v8/Contacts?page=2"
        );
        for bad in [
            "/proxy/zoho/crm/../oauth/v2/token",
            "/proxy/zoho/crm/%2e%2e/x",
            "/proxy/zoho/crm/%2E./x",
            "/proxy/zoho//evil.example/x",
            "/proxy/zoho/crm/a%2fb",
            "/proxy/zoho/crm/%5c",
            "/proxy/zohox/crm",
            "/proxy/zoho/http://evil.example/crm/v8",
            "/proxy/zoho/http%3A%2F%2Fevil.example/crm",
            "/proxy/zoho/user@evil.example/crm",
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
    }
}
