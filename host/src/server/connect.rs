//! Connect (F1), Change Password (F7) and DAS readiness (F2) for the calling user.
//!
//! The password is verified against Domino before anything is stored, then sealed under the
//! master key. It is never logged and never sent back.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use sync_core::http::{encode, encode_path};
use sync_core::{HttpRequest, Side};

use super::auth::Member;
use super::db::{self, UserRow};
use super::settings::UserSettings;
use super::{ApiError, AppState, zoho};
use crate::config::{Config, DominoConfig, Secrets, StoreConfig, ZohoConfig};
use crate::upstream::Upstreams;

/// The Domino password's sealing context.
pub fn password_context(user_id: &str) -> String {
    format!("domino_password:{user_id}")
}

/// The headless config of `user` (the same shape `nzsync.toml` has), with their secrets.
pub fn user_config(
    state: &AppState,
    user: &UserRow,
    domino: (&str, &str, Option<&str>),
    password: String,
    refresh_token: String,
) -> (Config, Secrets) {
    let cfg = &state.inner.config;
    let settings = UserSettings::of(user);
    let config = Config {
        domino: DominoConfig {
            url: domino.0.to_owned(),
            user: domino.1.to_owned(),
            password: None,
            password_env: None,
            mail_db: domino.2.map(str::to_owned),
            concurrency: 4,
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
    let refresh = zoho::refresh_token(state, user)?;
    Ok(user_config(
        state,
        user,
        (url, name, user.mail_db.as_deref()),
        password,
        refresh,
    ))
}

fn get(path: String) -> HttpRequest {
    crate::check::req(Side::Notes, path)
}

fn refused(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// Verifies a Domino login: the server is Domino with DAS on, the password is right, and the
/// mail file and its contacts view allow DAS. Each failure has its own code.
async fn verify(config: &Config, secrets: &Secrets) -> Result<(), ApiError> {
    let up = Upstreams::new(config, secrets)
        .map_err(|e| ApiError::bad_request(format!("server name: {e}")))?;
    let server = &config.domino.url;
    let r = up.perform(&get("/api".into())).await.map_err(|e| {
        refused(
            "unreachable",
            format!(
                "cannot reach {server}: {} (check the server name and that it is running)",
                e.message
            ),
        )
    })?;
    if r.status == 401 {
        return Err(refused(
            "wrong_password",
            "wrong user name or password".into(),
        ));
    }
    let services = serde_json::from_str::<Value>(&r.body)
        .ok()
        .and_then(|v| v.get("services").and_then(Value::as_array).cloned());
    let Some(services) = services else {
        return Err(refused(
            "not_domino",
            format!(
                "{server} answered HTTP {} but is not a Domino server with Domino Access Services",
                r.status
            ),
        ));
    };
    let data_on = services.iter().any(|s| {
        s.get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case("data"))
            && s.get("enabled").and_then(Value::as_bool) == Some(true)
    });
    if !data_on {
        return Err(refused(
            "das_off_server",
            format!(
                "Domino Access Services (Data) is off on the server{}",
                sync_core::engine::das_hint("Forbidden")
            ),
        ));
    }
    let db = config.mail_db();
    let r = up
        .perform(&get(format!("/{}/api/data/collections", encode_path(&db))))
        .await
        .map_err(|e| {
            refused(
                "unreachable",
                format!("cannot reach {server}: {}", e.message),
            )
        })?;
    match r.status {
        200 => {}
        401 => {
            return Err(refused(
                "wrong_password",
                "wrong user name or password, or no access to the mail file".into(),
            ));
        }
        404 => {
            return Err(refused(
                "no_mail_file",
                format!("no mail file {db} on the server (give mail_db)"),
            ));
        }
        _ => {
            let msg = crate::check::das_message(&r.body);
            return Err(refused(
                "das_off_database",
                format!(
                    "the mail file {db} refuses DAS: {msg}{}",
                    sync_core::engine::das_hint(&msg)
                ),
            ));
        }
    }
    let view = "($Contacts)";
    let r = up
        .perform(&get(format!(
            "/{}/api/data/collections/name/{}?count=1",
            encode_path(&db),
            encode(view)
        )))
        .await
        .map_err(|e| {
            refused(
                "unreachable",
                format!("cannot reach {server}: {}", e.message),
            )
        })?;
    if r.status != 200 {
        let msg = crate::check::das_message(&r.body);
        return Err(refused(
            "das_off_view",
            format!(
                "the view {view} refuses DAS: {msg}{}",
                sync_core::engine::das_hint(&msg)
            ),
        ));
    }
    Ok(())
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
    let mail_db = body
        .mail_db
        .as_deref()
        .map(|d| d.trim().trim_matches('/'))
        .filter(|d| !d.is_empty());
    let (config, secrets) = user_config(
        &state,
        &user,
        (&server, name, mail_db),
        body.password.clone(),
        String::new(),
    );
    verify(&config, &secrets).await?;
    let sealed = state
        .inner
        .key
        .seal(&password_context(&user.user_id), &body.password);
    let db_name = config.mail_db();
    let changed_account = user.domino_url.as_deref().is_some_and(|u| u != server)
        || user.domino_user.as_deref().is_some_and(|u| u != name)
        || user.mail_db.as_deref().is_some_and(|d| d != db_name);
    let mut store = state.store();
    if changed_account {
        // Links point at documents of the previous mail file: start afresh (history stays).
        store.forget_sync_state(&super::profile(&user.user_id))?;
    }
    db::set_connection(
        store.connection(),
        &user.user_id,
        &server,
        name,
        &sealed,
        &db_name,
    )?;
    Ok(Json(
        json!({ "connected": true, "server": server, "user": name, "mail_db": db_name }),
    ))
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
    let (config, secrets) = user_config(
        &state,
        &user,
        (server, name, user.mail_db.as_deref()),
        body.password.clone(),
        String::new(),
    );
    verify(&config, &secrets).await?;
    let sealed = state
        .inner
        .key
        .seal(&password_context(&user.user_id), &body.password);
    db::set_password(state.store().connection(), &user.user_id, &sealed)?;
    Ok(Json(json!({ "changed": true })))
}

/// The caller's two upstreams, with the server's cached Zoho access token (one token serves
/// every request of a user until it nears expiry).
///
/// # Errors
/// When the user is not connected or Zoho refuses the stored sign-in.
pub async fn user_upstreams(state: &AppState, user: &UserRow) -> Result<Upstreams, ApiError> {
    let (config, secrets) = stored(state, user)?;
    let token = super::zoho::access_token(state, user, false).await?;
    Ok(Upstreams::new(&config, &secrets)
        .map_err(ApiError::internal)?
        .with_access_token(token, std::time::Duration::from_secs(60)))
}

/// `GET /api/readiness`: the F1/F2 checks (and Zoho access) for the caller's connection.
pub async fn readiness(
    State(state): State<AppState>,
    Member { user }: Member,
) -> Result<Json<Value>, ApiError> {
    let (config, secrets) = stored(&state, &user)?;
    let up = Arc::new(Upstreams::new(&config, &secrets).map_err(ApiError::internal)?);
    let checks = crate::check::run(&config, &up).await;
    Ok(Json(json!({
        "ready": checks.iter().all(|c| c.ok),
        "checks": checks,
    })))
}
