//! The two upstream servers, with credentials: Domino (Basic auth for Domino Access Services; a
//! JWT for the Domino REST API, from [`JwtSession`]: logged in once, again before it expires or
//! when the server answers 401) and Zoho CRM (OAuth access tokens from a refresh token, through
//! the shared [`TokenCache`]: reused until shortly before they expire, refreshed once when Zoho
//! answers `INVALID_TOKEN`, blips of the token endpoint retried).
//!
//! Every request is pinned to its server's origin: a path that would leave it (an absolute
//! URL, `//host`, `@` tricks) is refused before anything is sent, and redirects are never
//! followed. Secrets never appear in errors or logs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sync_core::{Header, HttpRequest, HttpResponse, Side, TransportError, TransportErrorKind};
use url::Url;

use crate::config::{Config, DominoApiChoice, Secrets};
use crate::domino_access::DominoAccess;
use crate::drapi::session::{JwtSession, LoginError, Want as JwtWant};
pub use crate::zoho_token::TokenError;
use crate::zoho_token::{Credential, Retry, TokenCache, Want};

/// Largest response body accepted from an upstream and held whole.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// Largest response body accepted from an upstream when it is handed on in parts as it arrives
/// (a large mail file's changed-documents list); beyond it the answer counts as unreadable.
pub const MAX_STREAMED_BODY: usize = 1024 * 1024 * 1024;

/// Where a successful answer's body goes as it arrives: in parts of at least `bytes` (the
/// last part, with the status and headers, is the [`HttpResponse`] itself), each cut between
/// characters. Error answers are always read whole.
pub struct Parts<'a> {
    /// The size a part reaches before it is handed on.
    pub bytes: usize,
    /// Takes each part, in order; the answer is read on once the returned future is done (so
    /// a slow taker slows the reading, and the parts never pile up).
    pub send: &'a (dyn Fn(String) -> PartSent + Send + Sync),
}

/// The future of a part handed to [`Parts::send`].
pub type PartSent = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Both upstreams of one user.
pub struct Upstreams {
    http: reqwest::Client,
    /// The client for Domino requests; on the server, one that connects only to allowed
    /// addresses ([`Upstreams::with_domino_access`]).
    domino_http: reqwest::Client,
    domino_access: Option<Arc<DominoAccess>>,
    domino_base: Url,
    domino_auth: DominoAuth,
    zoho_base: Url,
    zoho: Credential,
    tokens: Arc<TokenCache>,
    retry: Retry,
    deadline: Option<Instant>,
}

impl std::fmt::Debug for Upstreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstreams")
            .field("domino", &self.domino_base.as_str())
            .field("zoho", &self.zoho_base.as_str())
            .finish_non_exhaustive()
    }
}

/// How requests to Domino are signed in.
enum DominoAuth {
    /// Domino Access Services: `Authorization: Basic …` (the header value).
    Basic(String),
    /// The Domino REST API: a bearer token from the user's login.
    Jwt(Arc<JwtSession>),
}

fn parse_base(s: &str) -> Result<Url, String> {
    Url::parse(s.trim_end_matches('/')).map_err(|e| format!("{s:?} is not a URL: {e}"))
}

/// The environment variable that shortens the per-request time limit (milliseconds; default
/// 120 s), for tests that make servers answer too late.
pub const TIMEOUT_ENV: &str = "NZSYNC_HTTP_TIMEOUT_MS";

/// The shared HTTP client: bounded time ([`TIMEOUT_ENV`]), no redirects, no proxy from the
/// environment.
///
/// # Errors
/// When the TLS backend cannot start.
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    client_builder().build()
}

/// The settings of [`client`], for clients that add to them (the server's Domino client adds
/// its resolver hook: `crate::domino_access`).
pub fn client_builder() -> reqwest::ClientBuilder {
    let timeout = std::env::var(TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map_or(Duration::from_secs(120), Duration::from_millis);
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
}

impl Upstreams {
    /// The upstreams of `config` with `secrets`, with a token cache of their own (in memory;
    /// see [`Upstreams::with_tokens`]) and the run's retry budget for the token endpoint.
    ///
    /// # Errors
    /// A message when a URL is unusable or the HTTP client cannot start.
    pub fn new(config: &Config, secrets: &Secrets) -> Result<Self, String> {
        let domino_auth = match config.domino.api {
            DominoApiChoice::Rest => DominoAuth::Jwt(Arc::new(JwtSession::new(
                config.domino_base(),
                &config.domino.user,
                &secrets.domino_password,
                &config.drapi_scope().0,
            )?)),
            DominoApiChoice::Das | DominoApiChoice::Auto => DominoAuth::Basic(basic_authorization(
                &config.domino.user,
                &secrets.domino_password,
            )),
        };
        let http = client().map_err(|e| format!("cannot start the HTTP client: {e}"))?;
        parse_base(&config.zoho.accounts_url)?;
        Ok(Self {
            domino_http: http.clone(),
            domino_access: None,
            tokens: Arc::new(TokenCache::new(http.clone())),
            http,
            domino_base: parse_base(config.domino_base())?,
            domino_auth,
            zoho_base: parse_base(&config.zoho.api_domain)?,
            zoho: Credential::new(
                &config.zoho.accounts_url,
                &config.zoho.client_id,
                &secrets.zoho_client_secret,
                &secrets.zoho_refresh_token,
            ),
            retry: Retry::run(),
            deadline: None,
        })
    }

    /// Uses `tokens` (shared with others: the server's, or the CLI's cache kept in its store)
    /// instead of a cache of its own. Zoho grants few access tokens per refresh token (10 per
    /// 10 minutes), so whoever builds an `Upstreams` per request must share one cache.
    #[must_use]
    pub fn with_tokens(mut self, tokens: Arc<TokenCache>) -> Self {
        self.tokens = tokens;
        self
    }

    /// Uses `session` (one that has logged in already, e.g. while `api = "auto"` was settled)
    /// for the Domino REST API's token.
    #[must_use]
    pub fn with_jwt_session(mut self, session: Arc<JwtSession>) -> Self {
        if matches!(self.domino_auth, DominoAuth::Jwt(_)) {
            self.domino_auth = DominoAuth::Jwt(session);
        }
        self
    }

    /// Logs in to the Domino REST API (the token is then held for the run's requests); `None`
    /// for Domino Access Services, which needs no login.
    pub async fn domino_login(&self) -> Option<Result<(), LoginError>> {
        let DominoAuth::Jwt(session) = &self.domino_auth else {
            return None;
        };
        let access = self.domino_access.as_deref();
        Some(
            session
                .token(&self.domino_http, access, JwtWant::Current)
                .await
                .map(|_| ()),
        )
    }

    /// The base URL of the Domino API requests go to.
    #[must_use]
    pub fn domino_base(&self) -> &str {
        self.domino_base.as_str().trim_end_matches('/')
    }

    /// Whether Domino is reached through the Domino REST API.
    #[must_use]
    pub fn domino_is_rest(&self) -> bool {
        matches!(self.domino_auth, DominoAuth::Jwt(_))
    }

    /// Retries blips of the token endpoint with `retry` (default [`Retry::run`]).
    #[must_use]
    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Never retries the token endpoint past `deadline` (the run's).
    #[must_use]
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Reaches Domino only as `access` allows (the server's users typed their Domino server's
    /// name): every request's URL is admitted first, and connections go through its client,
    /// whose resolver hook refuses addresses outside the rule.
    #[must_use]
    pub fn with_domino_access(mut self, access: Arc<DominoAccess>) -> Self {
        self.domino_http = access.client().clone();
        self.domino_access = Some(access);
        self
    }

    /// The URL of `path` on `side`'s server, or `None` if it would leave that server.
    #[must_use]
    pub fn url_for(&self, side: Side, path: &str) -> Option<Url> {
        let base = match side {
            Side::Notes => &self.domino_base,
            Side::Crm => &self.zoho_base,
        };
        pinned_url(base, path)
    }

    /// A current Zoho access token (cached while good); with `force`, one fetched after this
    /// call began.
    ///
    /// # Errors
    /// [`TokenError`] when Zoho refuses, rate-limits or stays unavailable.
    pub async fn zoho_token(&self, force: bool) -> Result<String, TokenError> {
        let want = if force { Want::Newer } else { Want::Current };
        self.token(want).await
    }

    async fn token(&self, want: Want<'_>) -> Result<String, TokenError> {
        self.tokens
            .token(&self.zoho, want, self.retry, self.deadline)
            .await
    }

    /// Performs an engine request against its server, with credentials.
    ///
    /// # Errors
    /// [`TransportError`] when no HTTP answer came back.
    pub async fn perform(&self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.perform_in_parts(req, None).await
    }

    /// [`Upstreams::perform`], handing a successful answer's body to `parts` as it arrives;
    /// the answer returned then carries only the rest of the body.
    ///
    /// # Errors
    /// [`TransportError`] when no HTTP answer came back.
    pub async fn perform_in_parts(
        &self,
        req: &HttpRequest,
        parts: Option<&Parts<'_>>,
    ) -> Result<HttpResponse, TransportError> {
        let url = self
            .url_for(req.side, &req.path)
            .ok_or_else(|| TransportError {
                kind: TransportErrorKind::Connect,
                message: format!(
                    "refused to send a request outside the {} server: {:?}",
                    req.side, req.path
                ),
            })?;
        match req.side {
            Side::Notes => match &self.domino_auth {
                DominoAuth::Basic(auth) => self.send(req, url, auth.clone(), parts).await,
                DominoAuth::Jwt(session) => self.send_with_jwt(session, req, url, parts).await,
            },
            Side::Crm => {
                let token = match self.zoho_token(false).await {
                    Ok(t) => t,
                    Err(e) => {
                        return Err(TransportError {
                            kind: TransportErrorKind::Connect,
                            message: e.to_string(),
                        });
                    }
                };
                let resp = self
                    .send(req, url.clone(), format!("Zoho-oauthtoken {token}"), parts)
                    .await?;
                if resp.status == 401 && resp.body.contains("INVALID_TOKEN") {
                    // Expired or revoked access token: refresh once (unless a concurrent
                    // request already did) and try again.
                    match self.token(Want::Replacing(&token)).await {
                        Ok(t) => {
                            self.send(req, url, format!("Zoho-oauthtoken {t}"), parts)
                                .await
                        }
                        Err(_) => Ok(resp),
                    }
                } else {
                    Ok(resp)
                }
            }
        }
    }

    /// A Domino REST API request with the session's token; on a 401 (expired, or the REST API
    /// restarted) once more with a new login. A refused login is the request's answer: the
    /// engine reads it as it would the server refusing the request.
    async fn send_with_jwt(
        &self,
        session: &JwtSession,
        req: &HttpRequest,
        url: Url,
        parts: Option<&Parts<'_>>,
    ) -> Result<HttpResponse, TransportError> {
        let access = self.domino_access.as_deref();
        let token = match session
            .token(&self.domino_http, access, JwtWant::Current)
            .await
        {
            Ok(t) => t,
            Err(LoginError::Refused(answer)) => return Ok(answer),
            Err(LoginError::Transport(e)) => return Err(e),
        };
        let resp = self
            .send(req, url.clone(), format!("Bearer {token}"), parts)
            .await?;
        if resp.status != 401 {
            return Ok(resp);
        }
        match session
            .token(&self.domino_http, access, JwtWant::Replacing(&token))
            .await
        {
            Ok(t) => self.send(req, url, format!("Bearer {t}"), parts).await,
            Err(LoginError::Refused(answer)) => Ok(answer),
            Err(LoginError::Transport(_)) => Ok(resp),
        }
    }

    async fn send(
        &self,
        req: &HttpRequest,
        url: Url,
        auth: String,
        parts: Option<&Parts<'_>>,
    ) -> Result<HttpResponse, TransportError> {
        let method =
            reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|_| TransportError {
                kind: TransportErrorKind::Connect,
                message: format!("unknown HTTP method {:?}", req.method),
            })?;
        let http = match req.side {
            Side::Notes => {
                if let Some(access) = &self.domino_access {
                    access.admit_url(&url).map_err(|e| TransportError {
                        kind: TransportErrorKind::Connect,
                        message: format!("refused to connect: {e}"),
                    })?;
                }
                &self.domino_http
            }
            Side::Crm => &self.http,
        };
        let mut rb = http.request(method, url).header("Authorization", auth);
        for Header { name, value } in &req.headers {
            if !name.eq_ignore_ascii_case("authorization") && !name.eq_ignore_ascii_case("cookie") {
                rb = rb.header(name.as_str(), value.as_str());
            }
        }
        if let Some(b) = &req.body {
            rb = rb.body(b.clone());
        }
        let resp = rb.send().await.map_err(|e| transport(&e))?;
        response_in_parts(resp, parts).await
    }
}

/// Joins `path` to `base` and checks the result stays on `base`'s origin.
#[must_use]
pub fn pinned_url(base: &Url, path: &str) -> Option<Url> {
    if !path.starts_with('/') || path.starts_with("//") || path.contains('\\') {
        return None;
    }
    let joined = format!("{}{}", base.as_str().trim_end_matches('/'), path);
    let url = Url::parse(&joined).ok()?;
    let same = url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default()
        && url.username().is_empty()
        && url.password().is_none();
    same.then_some(url)
}

/// Reads a response, refusing bodies over [`MAX_BODY`].
///
/// # Errors
/// [`TransportError`] when the body cannot be read or is too large.
pub async fn response_from(resp: reqwest::Response) -> Result<HttpResponse, TransportError> {
    response_in_parts(resp, None).await
}

/// Reads a response; a successful one's body goes to `parts` as it arrives (up to
/// [`MAX_STREAMED_BODY`]), any other is read whole (up to [`MAX_BODY`]).
async fn response_in_parts(
    mut resp: reqwest::Response,
    parts: Option<&Parts<'_>>,
) -> Result<HttpResponse, TransportError> {
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .filter_map(|(k, v)| {
            v.to_str().ok().map(|v| Header {
                name: k.as_str().to_owned(),
                value: v.to_owned(),
            })
        })
        .collect();
    let parts = parts.filter(|_| resp.status().is_success());
    let max = if parts.is_some() {
        MAX_STREAMED_BODY
    } else {
        MAX_BODY
    };
    // Room for the whole body at once when it is held whole and its length is known.
    let announced = resp
        .content_length()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    let mut body = Vec::with_capacity(match parts {
        Some(p) => announced.min(p.bytes.saturating_mul(2)),
        None => announced.min(MAX_BODY),
    });
    let mut total = 0usize;
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport(&e))? {
        total += chunk.len();
        if total > max {
            return Err(TransportError {
                kind: TransportErrorKind::Other,
                message: format!("answer larger than {max} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
        if let Some(p) = parts {
            // Whole parts of at least `bytes`, each ending between characters.
            let (n, complete) = (p.bytes.max(1), sync_core::text_prefix_len(&body));
            let mut start = 0;
            while complete - start >= n {
                let mut cut = start + n;
                while cut < complete && body[cut] & 0xC0 == 0x80 {
                    cut += 1;
                }
                (p.send)(text(body[start..cut].to_vec())).await;
                start = cut;
            }
            body.drain(..start);
        }
    }
    Ok(HttpResponse {
        status,
        headers,
        body: text(body),
    })
}

/// The `Authorization` value of HTTP Basic for `user` and `password` (Domino Access Services).
pub(crate) fn basic_authorization(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// Bytes as text, without a copy when they are valid UTF-8.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn transport(e: &reqwest::Error) -> TransportError {
    TransportError {
        kind: transport_kind(e),
        message: describe(e),
    }
}

/// What kind of transport failure `e` is, as the engine classes retries.
pub(crate) fn transport_kind(e: &reqwest::Error) -> TransportErrorKind {
    if e.is_connect() {
        TransportErrorKind::Connect
    } else if e.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Other
    }
}

/// An error's message with its causes (engine URLs carry no secrets: credentials travel in headers).
#[must_use]
pub fn describe(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo user's upstreams on the simulators, from a config file as `nzsync` reads it.
    fn demo_upstreams(sims: &nzsync_sim::Simulators) -> Upstreams {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nzsync.toml");
        let z = &sims.zoho_url;
        std::fs::write(
            &path,
            format!(
                "[domino]\nurl = \"{}\"\nuser = \"demo\"\npassword = \"demo\"\n\
                 [zoho]\napi_domain = \"{z}\"\naccounts_url = \"{z}\"\n\
                 client_id = \"demo-client\"\nclient_secret = \"demo-secret\"\n\
                 refresh_token = \"demo-refresh\"\n[store]\npath = \"s.db\"\n",
                sims.domino_url
            ),
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        Upstreams::new(&config, &config.secrets().unwrap()).unwrap()
    }

    /// The demo user's upstreams syncing Domino through the Domino REST API.
    fn rest_upstreams(sims: &nzsync_sim::Simulators) -> Upstreams {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nzsync.toml");
        let z = &sims.zoho_url;
        std::fs::write(
            &path,
            format!(
                "[domino]\nurl = \"{}\"\napi = \"rest\"\nuser = \"demo\"\npassword = \"demo\"\n\
                 [zoho]\napi_domain = \"{z}\"\naccounts_url = \"{z}\"\n\
                 client_id = \"demo-client\"\nclient_secret = \"demo-secret\"\n\
                 refresh_token = \"demo-refresh\"\n[store]\npath = \"s.db\"\n",
                sims.drapi_url
            ),
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        Upstreams::new(&config, &config.secrets().unwrap()).unwrap()
    }

    /// Makes the simulator at `sim` refuse every token it gave, sends `req(1)`, `req(2)` and
    /// `req(3)` at once (each must get its answer), and counts the simulator's calls to
    /// `counted` meanwhile; also returns its call log.
    async fn three_at_once_after_expiry(
        up: &Upstreams,
        sim: &str,
        req: impl Fn(u64) -> HttpRequest,
        counted: &str,
    ) -> (usize, serde_json::Value) {
        let http = reqwest::Client::new();
        http.post(format!("{sim}/_sim/config"))
            .json(&serde_json::json!({ "expire_tokens": true }))
            .send()
            .await
            .unwrap();
        http.delete(format!("{sim}/_sim/calls"))
            .send()
            .await
            .unwrap();
        let (r1, r2, r3) = (req(1), req(2), req(3));
        let (a, b, c) = tokio::join!(up.perform(&r1), up.perform(&r2), up.perform(&r3));
        for r in [a, b, c] {
            assert_eq!(r.unwrap().status, 200);
        }
        let calls: serde_json::Value = http
            .get(format!("{sim}/_sim/calls"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let n = calls["calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["path"] == counted)
            .count();
        (n, calls)
    }

    /// Requests in flight when the Domino REST API restarts (every JWT dies) log in again once
    /// between them, and each gets its answer; the token and the password show nowhere.
    #[tokio::test]
    async fn requests_in_flight_after_a_rest_api_restart_log_in_once() {
        let sims = nzsync_sim::start(nzsync_sim::SimConfig {
            latency_ms: 50,
            ..nzsync_sim::SimConfig::loopback(nzsync_sim::Seed::Empty)
        })
        .await
        .unwrap();
        let up = rest_upstreams(&sims);
        assert!(up.domino_is_rest());
        let req = |id| HttpRequest {
            id,
            side: Side::Notes,
            method: "GET".into(),
            path: "/api/v1/scope?dataSource=maildemo".into(),
            headers: Vec::new(),
            body: None,
        };
        assert_eq!(up.perform(&req(0)).await.unwrap().status, 200);
        let (logins, calls) =
            three_at_once_after_expiry(&up, &sims.drapi_url, req, "/api/v1/auth").await;
        assert_eq!(logins, 1, "{calls}");
        let shown = format!("{up:?}");
        assert!(
            !shown.contains("demo\"") && !shown.contains("Bearer"),
            "{shown}"
        );
    }

    /// Requests in flight when the access token expires refresh it once between them, not
    /// once each (Zoho grants ten access tokens per refresh token in ten minutes).
    #[tokio::test]
    async fn concurrent_invalid_token_answers_refresh_once() {
        let sims = nzsync_sim::start(nzsync_sim::SimConfig {
            latency_ms: 50,
            ..nzsync_sim::SimConfig::loopback(nzsync_sim::Seed::Empty)
        })
        .await
        .unwrap();
        let up = demo_upstreams(&sims);
        let z = &sims.zoho_url;
        up.zoho_token(false).await.unwrap();
        let req = |id| HttpRequest {
            id,
            side: Side::Crm,
            method: "GET".into(),
            path: "/crm/v8/org".into(),
            headers: Vec::new(),
            body: None,
        };
        let (refreshes, calls) = three_at_once_after_expiry(&up, z, req, "/oauth/v2/token").await;
        assert_eq!(refreshes, 1, "{calls}");
    }

    /// A successful answer's body arrives in parts of the asked size, cut between characters,
    /// and the parts with the rest are exactly the body read whole; an error answer is read
    /// whole.
    #[tokio::test]
    async fn successful_answers_arrive_in_parts_and_join_to_the_whole_body() {
        let sims = nzsync_sim::start(nzsync_sim::SimConfig::loopback(nzsync_sim::Seed::Demo))
            .await
            .unwrap();
        let up = demo_upstreams(&sims);
        let req = |path: &str| HttpRequest {
            id: 1,
            side: Side::Notes,
            method: "GET".into(),
            path: path.into(),
            headers: Vec::new(),
            body: None,
        };
        let sink = std::sync::Mutex::new(Vec::<String>::new());
        let send = |p: String| -> PartSent {
            sink.lock().unwrap().push(p);
            Box::pin(std::future::ready(()))
        };
        let parts = Parts {
            bytes: 100,
            send: &send,
        };
        let list = req("/mail/demo.nsf/api/data/collections/name/($Contacts)?count=100");
        let whole = up.perform(&list).await.unwrap();
        let rest = up.perform_in_parts(&list, Some(&parts)).await.unwrap();
        let got = std::mem::take(&mut *sink.lock().unwrap());
        assert_eq!(rest.status, 200);
        assert!(got.len() > 3, "{} parts", got.len());
        assert!(got.iter().all(|p| p.len() >= 100), "a part under 100 bytes");
        assert!(
            whole.body.len() > 1000 && !whole.body.is_ascii(),
            "{}",
            whole.body
        );
        assert_eq!(got.concat() + &rest.body, whole.body);

        let missing =
            req("/mail/demo.nsf/api/data/documents/unid/00000000000000000000000000000000");
        let answer = up.perform_in_parts(&missing, Some(&parts)).await.unwrap();
        assert_eq!(answer.status, 404);
        assert!(sink.lock().unwrap().is_empty() && !answer.body.is_empty());
    }

    #[test]
    fn paths_cannot_leave_the_origin() {
        let base = Url::parse("http://127.0.0.1:18081").unwrap();
        assert_eq!(
            pinned_url(&base, "/mail/demo.nsf/api/data")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:18081/mail/demo.nsf/api/data"
        );
        for bad in [
            "http://127.0.0.2/x",
            "//127.0.0.2/x",
            "@127.0.0.2/x",
            "x",
            "/\\127.0.0.2",
        ] {
            assert!(pinned_url(&base, bad).is_none(), "{bad}");
        }
        // `:port@host` after the origin stays a path on the same origin.
        assert_eq!(
            pinned_url(&base, "/@127.0.0.2").unwrap().host_str(),
            Some("127.0.0.1")
        );
    }
}
