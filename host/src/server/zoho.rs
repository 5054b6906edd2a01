//! Zoho for the server: the authorization-code exchange, per-user access tokens from the
//! stored (sealed) refresh tokens, and the few CRM calls the server makes itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use url::Url;

use super::db::UserRow;
use super::{ApiError, AppState};
use crate::upstream::{describe, pinned_url};

/// The scopes the integration asks for (zoho-crm-api.md §4).
pub const SCOPES: &str = "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ,ZohoCRM.coql.READ";

/// What the token endpoint gave for a code.
pub struct Grant {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: u64,
}

/// The refresh token's sealing context.
pub fn refresh_context(user_id: &str) -> String {
    format!("zoho_refresh_token:{user_id}")
}

async fn token_call(state: &AppState, form: &[(&str, &str)]) -> Result<Value, ApiError> {
    let cfg = &state.inner.config.zoho;
    let url = format!("{}/oauth/v2/token", cfg.accounts_url);
    let body = {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in form {
            ser.append_pair(k, v);
        }
        ser.finish()
    };
    let resp = state
        .inner
        .http
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| {
            ApiError::upstream(format!(
                "cannot reach Zoho accounts at {url}: {}",
                describe(&e)
            ))
        })?;
    let status = resp.status();
    resp.json::<Value>().await.map_err(|e| {
        ApiError::upstream(format!(
            "Zoho accounts answered HTTP {status} with something unreadable: {}",
            describe(&e)
        ))
    })
}

fn oauth_error(v: &Value) -> String {
    let code = v
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("no access_token in the answer");
    match v.get("error_description").and_then(Value::as_str) {
        Some(d) => format!("{code}: {d}"),
        None => code.to_owned(),
    }
}

/// Exchanges an authorization code (single use) for tokens.
pub async fn exchange_code(state: &AppState, code: &str) -> Result<Grant, ApiError> {
    let redirect = format!("{}/auth/callback", state.inner.config.server.public_url);
    let v = token_call(
        state,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &state.inner.config.zoho.client_id),
            ("client_secret", &state.inner.client_secret),
            ("redirect_uri", &redirect),
            ("code", code),
        ],
    )
    .await?;
    match v.get("access_token").and_then(Value::as_str) {
        Some(t) => Ok(Grant {
            access_token: t.to_owned(),
            refresh_token: v
                .get("refresh_token")
                .and_then(Value::as_str)
                .map(str::to_owned),
            expires_in: v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600),
        }),
        None => Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "sign_in_failed",
            format!(
                "Zoho did not accept the sign-in ({}); please sign in again",
                oauth_error(&v)
            ),
        )),
    }
}

/// One user's cached access token and its expiry.
pub type TokenSlot = Arc<tokio::sync::Mutex<Option<(String, Instant)>>>;

/// The token slot of `user_id` (created empty on first use).
fn slot(state: &AppState, user_id: &str) -> TokenSlot {
    let mut tokens = state
        .inner
        .tokens
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    tokens.entry(user_id.to_owned()).or_default().clone()
}

/// Remembers an access token for `user_id`.
pub async fn remember(state: &AppState, user_id: &str, token: &str, expires_in: u64) {
    *slot(state, user_id).lock().await = Some((
        token.to_owned(),
        Instant::now() + Duration::from_secs(expires_in),
    ));
}

/// Forgets the cached access token of `user_id`.
pub async fn forget(state: &AppState, user_id: &str) {
    state
        .inner
        .tokens
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remove(user_id);
}

/// The user's refresh token, opened.
pub fn refresh_token(state: &AppState, user: &UserRow) -> Result<String, ApiError> {
    let sealed = user.refresh_token.as_deref().ok_or_else(|| {
        ApiError::conflict(
            "sign_in_again",
            "no Zoho CRM access is stored for you yet: sign out and sign in again",
        )
    })?;
    state
        .inner
        .key
        .open(&refresh_context(&user.user_id), sealed)
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// A current access token for `user`, refreshed when missing, near expiry, or `force`d.
pub async fn access_token(
    state: &AppState,
    user: &UserRow,
    force: bool,
) -> Result<String, ApiError> {
    let slot = slot(state, &user.user_id);
    let mut cached = slot.lock().await;
    if !force
        && let Some((t, exp)) = cached.as_ref()
        && *exp > Instant::now() + Duration::from_secs(30)
    {
        return Ok(t.clone());
    }
    let refresh = refresh_token(state, user)?;
    let v = token_call(
        state,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &state.inner.config.zoho.client_id),
            ("client_secret", &state.inner.client_secret),
            ("refresh_token", &refresh),
        ],
    )
    .await?;
    let Some(token) = v.get("access_token").and_then(Value::as_str) else {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_GATEWAY,
            "zoho_refused",
            format!(
                "Zoho refused your stored CRM access ({}): sign out and sign in again",
                oauth_error(&v)
            ),
        ));
    };
    let secs = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600);
    *cached = Some((token.to_owned(), Instant::now() + Duration::from_secs(secs)));
    Ok(token.to_owned())
}

/// The API URL of `path` (`/crm/{version}/…`), pinned to the configured API domain.
pub fn api_url(state: &AppState, path: &str) -> Result<Url, ApiError> {
    let base = Url::parse(&state.inner.config.zoho.api_domain)
        .map_err(|e| ApiError::internal(format!("zoho.api_domain: {e}")))?;
    pinned_url(&base, path).ok_or_else(|| ApiError::bad_request("path leaves the Zoho API domain"))
}

/// `GET /crm/{version}/{path}` with an access token; `(status, JSON or Null)`.
pub async fn crm_get_with(
    state: &AppState,
    token: &str,
    path: &str,
) -> Result<(u16, Value), ApiError> {
    crm_call(state, reqwest::Method::GET, token, path).await
}

/// A CRM call with an access token; `(status, JSON or Null)`.
pub async fn crm_call(
    state: &AppState,
    method: reqwest::Method,
    token: &str,
    path: &str,
) -> Result<(u16, Value), ApiError> {
    let url = api_url(
        state,
        &format!("/crm/{}/{path}", state.inner.config.zoho.api_version),
    )?;
    let resp = state
        .inner
        .http
        .request(method, url)
        .header("Authorization", format!("Zoho-oauthtoken {token}"))
        .send()
        .await
        .map_err(|e| ApiError::upstream(format!("cannot reach Zoho CRM: {}", describe(&e))))?;
    let resp = crate::upstream::response_from(resp)
        .await
        .map_err(|e| ApiError::upstream(format!("Zoho CRM: {}", e.message)))?;
    Ok((
        resp.status,
        serde_json::from_str(&resp.body).unwrap_or(Value::Null),
    ))
}

/// A CRM call as `user`, refreshing the access token once on `INVALID_TOKEN`.
pub async fn crm_as(
    state: &AppState,
    user: &UserRow,
    method: reqwest::Method,
    path: &str,
) -> Result<(u16, Value), ApiError> {
    let token = access_token(state, user, false).await?;
    let (status, v) = crm_call(state, method.clone(), &token, path).await?;
    if status == 401 && v.get("code").and_then(Value::as_str) == Some("INVALID_TOKEN") {
        let token = access_token(state, user, true).await?;
        return crm_call(state, method, &token, path).await;
    }
    Ok((status, v))
}

/// A CRM user as the server needs it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CrmUser {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub crm_admin: bool,
}

pub fn crm_users(v: &Value) -> Vec<CrmUser> {
    v.get("users")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|u| {
                    Some(CrmUser {
                        user_id: u.get("id")?.as_str()?.to_owned(),
                        email: u
                            .get("email")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        name: u
                            .get("full_name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        crm_admin: u
                            .get("profile")
                            .and_then(|p| p.get("name"))
                            .and_then(Value::as_str)
                            == Some("Administrator"),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The org's id and purchased user licences from `GET /org`.
pub fn org_info(v: &Value) -> Option<(String, u64)> {
    let org = v.get("org")?.as_array()?.first()?;
    let id = org.get("id")?.as_str()?.to_owned();
    let licences = org
        .get("license_details")
        .and_then(|l| l.get("users_license_purchased"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Some((id, licences))
}
