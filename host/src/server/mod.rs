//! The web server of `nzsync serve` (and `nzsync demo`): sign-in with Zoho, users and their
//! admin (F8), Connect / Change Password / readiness (F1, F7, F2), per-user sync settings (F3),
//! run history, the sync lease for the browser-run engine, headless runs under wasmtime, the
//! proxy to each user's two upstreams, uninstall (F9) and scheduled syncs (B7).
//!
//! [`app`] is the whole HTTP surface; every route checks who is calling:
//!
//! - `/auth/*` — sign-in (OAuth authorization code), callback, sign-out.
//! - `/api/*` — JSON. A session cookie is required (401 without a valid one); a state-changing
//!   request must also carry `X-CSRF-Token` equal to the session's token from `/api/me` (403
//!   otherwise). Only users the admin enabled (and the admin) get past `/api/me` (403).
//! - `/proxy/domino/*`, `/proxy/zoho/*` — the caller's own upstreams, with credentials added.
//! - `/healthz`, `/readyz` — for load balancers and orchestrators: alive; the store and the job
//!   queue answer. No session needed, nothing about users in them.
//! - `/metrics` — Prometheus metrics (`metrics`), for the operator's bearer token only.
//!
//! Errors are `{"error":{"code":"…","message":"…"}}` with a plain message.

mod auth;
mod connect;
pub mod crypto;
mod drapi_logins;
mod guard;
mod headers;
mod health;
pub mod jobs;
mod lease;
mod meetings;
pub mod metrics;
mod proxy;
mod settings;
mod setup;
mod sync;
pub mod uninstall;
mod users;
mod zoho;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::json;

use crate::domino_access::{DominoAccess, DominoNetwork};
use crate::runner::{Limits, Runner};
use crate::server_config::ServerConfig;
use crate::store::{Conn, Store, StoreError, StoreLocation};
use crypto::MasterKey;

pub use settings::UserSettings;

/// Largest JSON body accepted on `/api/*`.
const MAX_API_BODY: usize = 4 * 1024 * 1024;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The HTTP client could not start.
    #[error("cannot start the HTTP client: {0}")]
    Http(String),
    /// The config is unusable.
    #[error("{0}")]
    Config(String),
}

/// Shared server state. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

struct Shared {
    config: ServerConfig,
    client_secret: String,
    key: MasterKey,
    store: Store,
    http: reqwest::Client,
    runner: tokio::sync::OnceCell<Arc<Runner>>,
    limits: Limits,
    /// The job queue of scheduled syncs, once [`jobs::spawn`] opened it (`/readyz`).
    jobs: std::sync::OnceLock<jobs::JobQueue>,
    /// The bearer token of `/metrics` (`None`: off).
    metrics_token: Option<String>,
    /// Every user's Zoho access tokens (the same cache the CLI uses): one lock per
    /// credential, so a refresh holds only its own user's slot, never everybody's.
    tokens: Arc<crate::zoho_token::TokenCache>,
    /// How long a request body may take to arrive, milliseconds.
    body_timeout_ms: AtomicU64,
    header_timeout_ms: AtomicU64,
    /// The Domino servers users may reach, and the client that reaches only them.
    domino: Arc<DominoAccess>,
    /// The Domino REST API logins of the users connected through it (one per user).
    drapi: drapi_logins::DrapiLogins,
    /// The proxy's limits (requests in flight per user, memory budget).
    proxy_limits: proxy::ProxyLimits,
    /// The headers every answer carries (`headers`).
    headers: headers::SecurityHeaders,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("public_url", &self.inner.config.server.public_url)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State for `config`, with the master key, opening (and migrating) the configured store:
    /// PostgreSQL when `[store] url` is set, else the SQLite file.
    ///
    /// # Errors
    /// [`ServerError`] when the store, the client secret or the HTTP client is unusable.
    pub async fn new(config: ServerConfig, master_key: &[u8; 32]) -> Result<Self, ServerError> {
        let location = config.store.location()?;
        if let StoreLocation::Sqlite(path) = &location
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                ServerError::Config(format!(
                    "cannot create the store folder {}: {e}",
                    dir.display()
                ))
            })?;
        }
        let store = Store::connect(&location).await?;
        Self::with_store(config, master_key, store, Limits::from_env())
    }

    /// State over an already open store, with guest limits for headless runs.
    ///
    /// # Errors
    /// [`ServerError`] when the client secret or the HTTP client is unusable.
    pub fn with_store(
        config: ServerConfig,
        master_key: &[u8; 32],
        store: Store,
        limits: Limits,
    ) -> Result<Self, ServerError> {
        Self::with_network(config, master_key, store, limits, DominoNetwork::default())
    }

    /// [`AppState::with_store`], with Domino reached through `network` (its resolver and
    /// source address: tests resolve names themselves and stay on loopback).
    ///
    /// # Errors
    /// [`ServerError`] when the client secret, the allowed Domino servers or the HTTP client
    /// is unusable.
    pub fn with_network(
        config: ServerConfig,
        master_key: &[u8; 32],
        store: Store,
        limits: Limits,
        network: DominoNetwork,
    ) -> Result<Self, ServerError> {
        let client_secret = config.client_secret().map_err(ServerError::Config)?;
        let metrics_token = config.metrics.token().map_err(ServerError::Config)?;
        if metrics_token.is_some() {
            metrics::handle(); // Record from the start.
        }
        let http = crate::upstream::client().map_err(|e| ServerError::Http(e.to_string()))?;
        let allowed = config.allowed_servers().map_err(ServerError::Config)?;
        let domino =
            DominoAccess::new(allowed, network).map_err(|e| ServerError::Http(e.to_string()))?;
        let proxy_limits = proxy::ProxyLimits::new(
            config.proxy.max_in_flight_per_user,
            u64::from(config.proxy.memory_budget_mib) * 1024 * 1024,
        );
        let headers = headers::SecurityHeaders::new(&config);
        // Access tokens are kept, sealed, in the store: the replicas of a fleet share one
        // per user and refresh it one at a time (`store::StoreVault`).
        let tokens = Arc::new(
            crate::zoho_token::TokenCache::new(http.clone())
                .with_vault(crate::store::StoreVault::new(store.clone(), "srv")),
        );
        Ok(Self {
            inner: Arc::new(Shared {
                config,
                client_secret,
                key: MasterKey::new(master_key),
                store,
                http,
                runner: tokio::sync::OnceCell::new(),
                jobs: std::sync::OnceLock::new(),
                metrics_token,
                limits,
                tokens,
                body_timeout_ms: AtomicU64::new(
                    u64::try_from(guard::BODY_TIMEOUT.as_millis()).unwrap_or(u64::MAX),
                ),
                header_timeout_ms: AtomicU64::new(
                    u64::try_from(HEADER_TIMEOUT.as_millis()).unwrap_or(u64::MAX),
                ),
                domino: Arc::new(domino),
                drapi: drapi_logins::DrapiLogins::default(),
                proxy_limits,
                headers,
            }),
        })
    }

    /// The Domino servers users may reach, and the client that reaches only them.
    #[must_use]
    pub fn domino_access(&self) -> Arc<DominoAccess> {
        self.inner.domino.clone()
    }

    /// The config the server runs with.
    #[must_use]
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// Sets how long a request body may take to arrive before the server answers 408 and
    /// drops the request (default 30 s). Applies to routers built by [`app`] afterwards.
    pub fn set_body_timeout(&self, timeout: Duration) {
        self.inner.body_timeout_ms.store(
            u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Sets how long a client may take to send a request's headers before [`serve`] closes
    /// the connection (default 20 s).
    pub fn set_header_timeout(&self, timeout: Duration) {
        self.inner.header_timeout_ms.store(
            u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.inner.body_timeout_ms.load(Ordering::Relaxed))
    }

    /// The store the server keeps everything in.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// A store handle whose operations each stand alone (see [`Conn`]: drop it before
    /// calling an upstream server).
    async fn db(&self) -> Result<Conn, ApiError> {
        Ok(self.inner.store.conn().await?)
    }

    /// A store handle whose operations commit together at [`Conn::commit`].
    async fn begin(&self) -> Result<Conn, ApiError> {
        Ok(self.inner.store.begin().await?)
    }

    /// Remembers the job queue this replica runs scheduled syncs from (the first one stays).
    pub fn set_job_queue(&self, queue: &jobs::JobQueue) {
        let _ = self.inner.jobs.set(queue.clone());
    }

    /// The job queue of scheduled syncs, when this replica runs them.
    fn job_queue(&self) -> Option<&jobs::JobQueue> {
        self.inner.jobs.get()
    }

    /// The bearer token of `/metrics`, when the operator set one.
    fn metrics_token(&self) -> Option<&str> {
        self.inner.metrics_token.as_deref()
    }

    /// The wasmtime runner, compiled on first use (off the async threads).
    async fn runner(&self) -> Result<Arc<Runner>, ApiError> {
        let limits = self.inner.limits;
        self.inner
            .runner
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || Runner::new(limits).map(Arc::new))
                    .await
                    .map_err(|e| ApiError::internal(format!("sync engine: {e}")))?
                    .map_err(|e| ApiError::internal(e.to_string()))
            })
            .await
            .cloned()
    }
}

/// A refusal or failure, as the API answers it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
    fn upstream(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, "upstream", message)
    }
    /// The plain message shown to the user.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.status)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if matches!(e, StoreError::NulInText) {
            return Self::bad_request(e.to_string());
        }
        tracing::error!(error = %e, "store");
        if e.is_unavailable() {
            // The widget shows its own words for the code, in the user's language.
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the integration's database cannot be reached; try again in a moment",
            );
        }
        Self::internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": { "code": self.code, "message": self.message } })),
        )
            .into_response()
    }
}

/// Milliseconds since the epoch.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The store profile of a server user (keys links, cursors and run history).
fn profile(user_id: &str) -> String {
    format!("srv:{user_id}")
}

/// What one connection of [`serve`] buffers at most, each way.
const CONNECTION_BUFFER: usize = 64 * 1024;

/// How long a client may take to send a request's headers, by default.
const HEADER_TIMEOUT: Duration = Duration::from_secs(20);

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in flight
/// finish (for up to 10 s). Like `axum::serve`, plus a time limit on reading each request's
/// headers ([`AppState::set_header_timeout`]): without one, a client that drips header lines
/// holds a connection and a task for as long as it likes. Bodies have their own time and size
/// limits (`guard`).
///
/// # Errors
/// None so far; accept failures (such as running out of file descriptors) are logged and
/// retried.
pub async fn serve(
    state: &AppState,
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper::server::conn::http1;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(
            state.inner.header_timeout_ms.load(Ordering::Relaxed),
        ))
        // Each connection buffers at most this much of what it reads or has yet to write
        // (hyper's default is about 400 KiB); request heads must fit in it. Streamed proxy
        // answers count on it (`proxy::STREAM_RESERVE`).
        .max_buf_size(CONNECTION_BUFFER);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!("accepting a connection failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let service = TowerToHyperService::new(router.clone());
                let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!("connection ended: {e}");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
    Ok(())
}

/// The whole server: the widget's page and bundle, `/auth/*`, `/api/*` and `/proxy/*`, every
/// answer with the security headers (`headers`).
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/me", get(auth::me))
        .route("/api/users", get(users::list).post(users::add))
        .route("/api/users/{user_id}", delete(users::remove))
        .route("/api/users/{user_id}/stop", post(users::stop))
        .route("/api/users/{user_id}/admin", post(users::hand_over))
        .route("/api/setup", get(setup::get_setup).post(setup::post_setup))
        .route("/api/connect", post(connect::connect))
        .route("/api/password", post(connect::change_password))
        .route("/api/readiness", get(connect::readiness))
        .route(
            "/api/settings",
            get(settings::get_settings).put(settings::put_settings),
        )
        .route("/api/runs", get(sync::list_runs).post(sync::post_run))
        .route("/api/runs/{id}", get(sync::get_run))
        .route(
            "/api/sync/lease",
            post(sync::acquire_lease).delete(sync::release_lease),
        )
        .route("/api/sync/lease/renew", post(sync::renew_lease))
        .route("/api/sync/state", get(sync::get_state))
        .route(
            "/api/sync/links",
            get(sync::get_links).post(sync::post_links),
        )
        .route("/api/sync/state-changes", post(sync::post_state_changes))
        .route("/api/sync/run", post(sync::run_now))
        .route("/api/uninstall", post(uninstall::uninstall))
        .route("/api/meetings", post(meetings::schedule))
        .route("/api/meetings/attendees", get(meetings::attendees))
        .route("/auth/login", get(auth::login))
        .route("/auth/callback", get(auth::callback))
        .route("/auth/popup.js", get(auth::popup_js))
        .route("/auth/crm-grant", get(auth::crm_grant))
        .route("/auth/logout", post(auth::logout))
        .route("/healthz", get(health::alive))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(metrics::scrape))
        .layer(DefaultBodyLimit::max(MAX_API_BODY))
        // Rejections outside the handlers answer JSON too (not the proxy: it relays upstream bodies).
        .layer(middleware::map_response(guard::json_errors));
    Router::new()
        .merge(api)
        .merge(crate::web::widget_routes())
        .route("/proxy/domino/{*path}", axum::routing::any(proxy::domino))
        .route("/proxy/zoho/{*path}", axum::routing::any(proxy::zoho))
        .fallback(guard::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::bounded_body,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::same_origin,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            headers::security_headers,
        ))
        .with_state(state)
}
