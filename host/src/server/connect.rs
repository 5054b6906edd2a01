//! Connect (F1), Change Password (F7) and DAS readiness (F2) for the calling user.
//!
//! The password is verified against Domino before anything is stored, then sealed under the
//! master key. It is never logged and never sent back. A wrong server, password or mail file
//! is refused; Domino Access Services being off is not: Connect stores the connection and
//! answers the readiness checks (`crate::check`) for the user's settings, which name the admin
//! step, and the widget holds Start Sync back until they pass.
//!
//! The server a user types must be one the operator allows, at an address the rule allows
//! (`crate::domino_access`); it is checked before anything is sent to it. Every way a server
//! can be unusable — not allowed, not resolvable, at a refused address, not answering, not
//! answering as Domino — gets the same answer ([`CANNOT_USE_SERVER`], one message), so Connect
//! cannot be used to learn which hosts and ports answer inside the server's network.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Member;
use super::drapi_logins::RestConnection;
use super::settings::UserSettings;
use super::{ApiError, AppState, zoho};
use crate::check::{Needs, Problem, Readiness};
use crate::config::{Config, DominoApiChoice, DominoConfig, Secrets, StoreConfig, ZohoConfig};
use crate::drapi::session::JwtSession;
use crate::store::UserRow;
use crate::upstream::Upstreams;
use std::sync::Arc;

/// The Domino password's sealing context.
pub fn password_context(user_id: &str) -> String {
    format!("domino_password:{user_id}")
}

/// A user's Domino connection: the base URL of `api` there, the user name, the mail file.
#[derive(Clone, Copy, Debug)]
pub struct DominoLogin<'a> {
    /// Domino Access Services' server, or the Domino REST API's base URL.
    pub url: &'a str,
    /// The Notes user name.
    pub user: &'a str,
    /// The mail file, when the user named one.
    pub mail_db: Option<&'a str>,
    /// Which API `url` is.
    pub api: DominoApiChoice,
}

/// The headless config of `user` (the same shape `nzsync.toml` has), with their secrets.
pub fn user_config(
    state: &AppState,
    user: &UserRow,
    domino: DominoLogin<'_>,
    password: String,
    refresh_token: String,
) -> (Config, Secrets) {
    let cfg = &state.inner.config;
    let settings = UserSettings::of(user);
    let config = Config {
        domino: DominoConfig {
            url: domino.url.to_owned(),
            user: domino.user.to_owned(),
            password: None,
            password_env: None,
            mail_db: domino.mail_db.map(str::to_owned),
            concurrency: 4,
            api: domino.api,
            rest_url: None,
            scope: None,
        },
        zoho: ZohoConfig {
            api_domain: cfg.zoho.api_domain.clone(),
            accounts_url: cfg.zoho.accounts_url.clone(),
            client_id: cfg.zoho.client_id.clone(),
            client_secret: None,
            client_secret_env: None,
            refresh_token: None,
            refresh_token_env: None,
            api_version: cfg.zoho.api_version.clone(),
            concurrency: 4,
        },
        sync: settings.sync_config(),
        store: StoreConfig::default(),
    };
    let secrets = Secrets {
        domino_password: password,
        zoho_client_secret: state.inner.client_secret.clone(),
        zoho_refresh_token: refresh_token,
    };
    (config, secrets)
}

/// The stored connection of `user`, opened: (config, secrets).
pub fn stored(state: &AppState, user: &UserRow) -> Result<(Config, Secrets), ApiError> {
    let refresh = zoho::refresh_token(state, user)?;
    stored_with(state, user, refresh)
}

/// The stored Domino connection of `user`, opened, without their Zoho access (the Domino
/// proxy needs none): (config, secrets) whose Zoho refresh token is empty.
pub fn stored_domino(state: &AppState, user: &UserRow) -> Result<(Config, Secrets), ApiError> {
    stored_with(state, user, String::new())
}

fn stored_with(
    state: &AppState,
    user: &UserRow,
    refresh: String,
) -> Result<(Config, Secrets), ApiError> {
    let (Some(url), Some(name), Some(sealed)) =
        (&user.domino_url, &user.domino_user, &user.domino_password)
    else {
        return Err(ApiError::conflict(
            "not_connected",
            "connect to your Domino server first (server name, user name, password)",
        ));
    };
    let password = state
        .inner
        .key
        .open(&password_context(&user.user_id), sealed)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(user_config(
        state,
        user,
        DominoLogin {
            url,
            user: name,
            mail_db: user.mail_db.as_deref(),
            api: user.domino_api,
        },
        password,
        refresh,
    ))
}

fn refused(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// The one code for a server Connect cannot use, whatever the reason.
pub const CANNOT_USE_SERVER: &str = "cannot_use_server";

/// The one answer for a server Connect cannot use: it echoes nothing the server (or the
/// network) said.
fn cannot_use_server() -> ApiError {
    refused(
        CANNOT_USE_SERVER,
        "this server cannot be used: check the server name, including http:// or https://. It \
         must be a running Domino server with Domino Access Services (or, with the Domino REST \
         API chosen, the REST API's address), and one this integration's administrator allows"
            .into(),
    )
}

/// Refuses `server` unless the operator allows it and it resolves to allowed addresses.
async fn admit_server(state: &AppState, user: &UserRow, server: &str) -> Result<(), ApiError> {
    let url = url::Url::parse(server).map_err(|_| cannot_use_server())?;
    state.domino_access().admit_server(&url).await.map_err(|e| {
        tracing::info!(user = %user.user_id, reason = %e, "connect: Domino server refused");
        cannot_use_server()
    })
}

/// `config`'s upstreams, sharing the server's Zoho token cache (Zoho grants few tokens per
/// refresh token); a person is waiting, so token-endpoint blips are retried only briefly.
async fn checking_upstreams(
    state: &AppState,
    _user: &UserRow,
    config: &Config,
    secrets: &Secrets,
) -> Result<Upstreams, ApiError> {
    let up = Upstreams::new(config, secrets)
        .map_err(|e| ApiError::bad_request(format!("server name: {e}")))?
        .with_domino_access(state.domino_access());
    Ok(up
        .with_tokens(zoho::tokens(state))
        .with_retry(crate::zoho_token::Retry::INTERACTIVE))
}

/// Refuses a connection whose server, password or mail file is wrong (F1): the failed
/// check's code and words, except that a server that did not answer, or not as Domino, gets
/// the one [`cannot_use_server`] answer. Domino Access Services being off is not a reason to
/// refuse it: the readiness checks say what the admin must turn on, and the user may switch
/// the module off.
fn refuse_bad_connection(readiness: &Readiness, server: &str) -> Result<(), ApiError> {
    let Some((problem, check)) = readiness
        .checks
        .iter()
        .filter(|c| c.id.is_domino())
        .find_map(|c| c.problem.filter(|p| p.refuses_connection()).map(|p| (p, c)))
    else {
        return Ok(());
    };
    let message = match problem {
        Problem::Unreachable | Problem::NotDomino => {
            tracing::info!(server, detail = %check.detail, "connect: Domino server unusable");
            return Err(cannot_use_server());
        }
        Problem::NoMailFile => format!("{} (give mail_db)", check.detail),
        _ => check.detail.clone(),
    };
    Err(refused(problem.code(), message))
}

/// The readiness answer: `{ready, checks}`.
fn readiness_json(r: &Readiness) -> Value {
    json!({ "ready": r.ready, "checks": r.checks })
}

fn check_server(server: &str) -> Result<String, ApiError> {
    let server = server.trim().trim_end_matches('/');
    match url::Url::parse(server) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some()
                && u.username().is_empty()
                && u.password().is_none()
                && u.query().is_none() =>
        {
            Ok(server.to_owned())
        }
        _ => Err(ApiError::bad_request(format!(
            "server {server:?} is not a server URL like https://domino.example.com"
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectBody {
    server: String,
    user: String,
    password: String,
    /// `das` (the default), `rest` (`server` is the Domino REST API's base URL) or `auto`
    /// (whichever answers at `server`, the REST API first).
    #[serde(default)]
    api: DominoApiChoice,
    mail_db: Option<String>,
}

/// `POST /api/connect {server, user, password[, mail_db]}`.
pub async fn connect(
    State(state): State<AppState>,
    Member { user }: Member,
    Json(body): Json<ConnectBody>,
) -> Result<Json<Value>, ApiError> {
    let server = check_server(&body.server)?;
    let name = body.user.trim();
    if name.is_empty() || body.password.is_empty() {
        return Err(ApiError::bad_request("user name and password are required"));
    }
    admit_server(&state, &user, &server).await?;
    let mail_db = body
        .mail_db
        .as_deref()
        .map(|d| d.trim().trim_matches('/'))
        .filter(|d| !d.is_empty());
    let refresh = zoho::refresh_token(&state, &user).unwrap_or_default();
    let (config, secrets) = user_config(
        &state,
        &user,
        DominoLogin {
            url: &server,
            user: name,
            mail_db,
            api: body.api,
        },
        body.password.clone(),
        refresh,
    );
    // `auto`: settled here, once; the user's syncs then use the API that answered.
    let access = state.domino_access();
    let settled = crate::drapi::settle_through(&config, &secrets, Some(&access))
        .await
        .map_err(|e| ApiError::bad_request(format!("server name: {e}")))?;
    let config = settled.config;
    let up = checking_upstreams(&state, &user, &config, &secrets).await?;
    let readiness = crate::check::run(&config, &up, Needs::of(&config)).await;
    refuse_bad_connection(&readiness, &server)?;
    let sealed = state
        .inner
        .key
        .seal(&password_context(&user.user_id), &body.password);
    let db_name = config.mail_db();
    // A switch of Domino API keeps the links: cross-IDs are the same items through both.
    let same_api = user.domino_api == config.domino.api;
    let changed_account = user
        .domino_url
        .as_deref()
        .is_some_and(|u| u != server && same_api)
        || user.domino_user.as_deref().is_some_and(|u| u != name)
        || user.mail_db.as_deref().is_some_and(|d| d != db_name);
    let mut tx = state.begin().await?;
    if changed_account {
        // Links point at documents of the previous mail file: start afresh (history stays).
        tx.forget_sync_state(&super::profile(&user.user_id)).await?;
    }
    tx.set_connection(
        &user.user_id,
        &server,
        name,
        &sealed,
        &db_name,
        config.domino.api,
    )
    .await?;
    tx.commit().await?;
    let mut answer = readiness_json(&readiness);
    answer["connected"] = json!(true);
    answer["server"] = json!(server);
    answer["user"] = json!(name);
    answer["mail_db"] = json!(db_name);
    answer["api"] = json!(crate::store::domino_api_key(config.domino.api));
    Ok(Json(answer))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    password: String,
}

/// `POST /api/password {password}`: re-verify with Domino, then store.
pub async fn change_password(
    State(state): State<AppState>,
    Member { user }: Member,
    Json(body): Json<PasswordBody>,
) -> Result<Json<Value>, ApiError> {
    let (Some(server), Some(name)) = (&user.domino_url, &user.domino_user) else {
        return Err(ApiError::conflict(
            "not_connected",
            "connect to your Domino server first",
        ));
    };
    if body.password.is_empty() {
        return Err(ApiError::bad_request("the password is empty"));
    }
    admit_server(&state, &user, server).await?;
    let (config, secrets) = user_config(
        &state,
        &user,
        DominoLogin {
            url: server,
            user: name,
            mail_db: user.mail_db.as_deref(),
            api: user.domino_api,
        },
        body.password.clone(),
        String::new(),
    );
    let up = Upstreams::new(&config, &secrets)
        .map_err(ApiError::internal)?
        .with_domino_access(state.domino_access());
    let readiness = crate::check::run(&config, &up, Needs::of(&config).domino_only()).await;
    refuse_bad_connection(&readiness, server)?;
    let sealed = state
        .inner
        .key
        .seal(&password_context(&user.user_id), &body.password);
    state
        .db()
        .await?
        .set_password(&user.user_id, &sealed)
        .await?;
    Ok(Json(json!({ "changed": true })))
}

/// The caller's two upstreams, sharing the server's Zoho token cache (one token serves every
/// request of a user until it nears expiry).
///
/// # Errors
/// When the user is not connected or Zoho refuses the stored sign-in.
pub async fn user_upstreams(state: &AppState, user: &UserRow) -> Result<Upstreams, ApiError> {
    let (config, secrets) = stored(state, user)?;
    // Fails early, in the API's words, when Zoho refuses the stored sign-in.
    super::zoho::access_token(state, user, false).await?;
    let mut up = Upstreams::new(&config, &secrets)
        .map_err(ApiError::internal)?
        .with_domino_access(state.domino_access())
        .with_tokens(super::zoho::tokens(state));
    if let Some(session) = drapi_session(state, user, &config, &secrets)? {
        up = up.with_jwt_session(session);
    }
    Ok(up)
}

/// The replica's Domino REST API session of `user` (whose stored connection opened to
/// `config` and `secrets`), shared by their proxied requests, runs and meetings; `None` for a
/// user connected through Domino Access Services.
///
/// # Errors
/// When the stored server is not a URL.
pub(super) fn drapi_session(
    state: &AppState,
    user: &UserRow,
    config: &Config,
    secrets: &Secrets,
) -> Result<Option<Arc<JwtSession>>, ApiError> {
    if config.domino.api != DominoApiChoice::Rest {
        return Ok(None);
    }
    let connection = RestConnection {
        user_id: &user.user_id,
        base: config.domino_base(),
        user: &config.domino.user,
        sealed_password: user.domino_password.as_deref().unwrap_or_default(),
        password: &secrets.domino_password,
        scope: &config.drapi_scope().0,
    };
    state
        .inner
        .drapi
        .session(&connection)
        .map(Some)
        .map_err(ApiError::internal)
}

/// `GET /api/readiness` → `{ready, checks}`: the F1/F2 checks the caller's settings need
/// (and Zoho access). Each failed check has a `code` and, where an admin can fix it, a `step`.
pub async fn readiness(
    State(state): State<AppState>,
    Member { user }: Member,
) -> Result<Json<Value>, ApiError> {
    let (config, secrets) = stored(&state, &user)?;
    let up = checking_upstreams(&state, &user, &config, &secrets).await?;
    let readiness = crate::check::run(&config, &up, Needs::of(&config)).await;
    Ok(Json(readiness_json(&readiness)))
}
