//! Zoho for the server: the authorization-code exchange, per-user access tokens from the
//! stored (sealed) refresh tokens, and the few CRM calls the server makes itself.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::Value;
use url::Url;

use super::{ApiError, AppState};
use crate::store::UserRow;
use crate::upstream::{describe, pinned_url};
use crate::zoho_token::{Credential, Retry, TokenCache, TokenError, Want};

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
            StatusCode::BAD_REQUEST,
            "sign_in_failed",
            format!(
                "Zoho did not accept the sign-in ({}); please sign in again",
                oauth_error(&v)
            ),
        )),
    }
}

/// The OAuth credential of `refresh_token` with the server's client.
pub fn credential(state: &AppState, refresh_token: &str) -> Credential {
    let cfg = &state.inner.config.zoho;
    Credential::new(
        &cfg.accounts_url,
        &cfg.client_id,
        &state.inner.client_secret,
        refresh_token,
    )
}

/// Remembers the access token a sign-in's code exchange gave, for `refresh_token`.
pub async fn remember(state: &AppState, refresh_token: &str, token: &str, expires_in: u64) {
    state
        .inner
        .tokens
        .remember(
            &credential(state, refresh_token),
            token,
            Duration::from_secs(expires_in),
        )
        .await;
}

/// Forgets the cached access token of `user` (removed, or uninstalled).
pub async fn forget(state: &AppState, user: &UserRow) {
    if let Ok(refresh) = refresh_token(state, user) {
        state
            .inner
            .tokens
            .forget(&credential(state, &refresh))
            .await;
    }
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

/// The shared token cache, for upstreams built per request.
pub fn tokens(state: &AppState) -> Arc<TokenCache> {
    state.inner.tokens.clone()
}

/// A token error as the API answers it: refused credentials mean signing in again; the rate
/// limit and an unavailable accounts server are said as what they are.
pub fn token_error(e: &TokenError) -> ApiError {
    match e {
        TokenError::Refused(code) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "zoho_refused",
            format!("Zoho refused your stored CRM access ({code}): sign out and sign in again"),
        ),
        TokenError::RateLimited(detail) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "zoho_rate_limited",
            format!(
                "Zoho gives at most 10 access tokens per sign-in in 10 minutes and has given them ({detail}): try again in a few minutes"
            ),
        ),
        TokenError::Unavailable { .. } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "zoho_unavailable",
            format!("{e}"),
        ),
    }
}

/// A current access token for `user` (a person is waiting: blips are retried briefly); with
/// `force`, one fetched after this call began.
pub async fn access_token(
    state: &AppState,
    user: &UserRow,
    force: bool,
) -> Result<String, ApiError> {
    let refresh = refresh_token(state, user)?;
    let want = if force { Want::Newer } else { Want::Current };
    state
        .inner
        .tokens
        .token(&credential(state, &refresh), want, Retry::INTERACTIVE, None)
        .await
        .map_err(|e| token_error(&e))
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
    crm_call(state, reqwest::Method::GET, token, path, None).await
}

/// A CRM call with an access token and an optional JSON body; `(status, JSON or Null)`.
pub async fn crm_call(
    state: &AppState,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), ApiError> {
    let url = api_url(
        state,
        &format!("/crm/{}/{path}", state.inner.config.zoho.api_version),
    )?;
    let mut rb = state
        .inner
        .http
        .request(method, url)
        .header("Authorization", format!("Zoho-oauthtoken {token}"));
    if let Some(b) = body {
        rb = rb
            .header("Content-Type", "application/json")
            .body(b.to_string());
    }
    let resp = rb
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
    let (status, v) = crm_call(state, method.clone(), &token, path, None).await?;
    if status == 401 && v.get("code").and_then(Value::as_str) == Some("INVALID_TOKEN") {
        let token = access_token(state, user, true).await?;
        return crm_call(state, method, &token, path, None).await;
    }
    Ok((status, v))
}

/// Zoho's error in `v` as `CODE: message` (the first per-record error of a batch answer).
pub fn crm_error_text(v: &Value) -> String {
    let e = v
        .get("data")
        .or_else(|| v.get("fields"))
        .and_then(Value::as_array)
        .and_then(|d| d.first())
        .unwrap_or(v);
    let code = e.get("code").and_then(Value::as_str).unwrap_or("error");
    match e.get("message").and_then(Value::as_str) {
        Some(m) if !m.is_empty() => format!("{code}: {m}"),
        _ => code.to_owned(),
    }
}

/// A CRM user as the server needs it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CrmUser {
    pub user_id: String,
    pub email: String,
    pub name: String,
    /// Their profile is called Administrator (a hint for lists; [`may_administer`] verifies).
    pub crm_admin: bool,
    /// Their profile's id, to verify with the profiles API.
    #[serde(skip)]
    pub profile_id: Option<String>,
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
                            == Some(ADMINISTRATOR_PROFILE),
                        profile_id: u
                            .get("profile")
                            .and_then(|p| p.get("id"))
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The name of Zoho's system profile that has every permission.
pub const ADMINISTRATOR_PROFILE: &str = "Administrator";

/// Why a CRM user may be the integration's admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminBy {
    /// Zoho says their profile is the Administrator profile.
    CrmAdministrator,
    /// The operator names them in the server config (`[admins]`).
    Operator,
}

/// Whether `user` may be the integration's admin: named by the operator, or a Zoho CRM
/// administrator — their profile (from the users API) is Zoho's system profile
/// "Administrator" (profiles API: that name, not a custom profile; profile names are unique
/// in an org). Asked with `token`. `Ok(None)`: neither. A profile Zoho does not show (204, or
/// 403 for a user who may not read profiles) is not an administrator's.
///
/// # Errors
/// When Zoho does not answer, so that nobody is made or unmade an admin on a guess.
pub async fn may_administer(
    state: &AppState,
    token: &str,
    user: &CrmUser,
) -> Result<Option<AdminBy>, ApiError> {
    if state.inner.config.admins.names(&user.user_id, &user.email) {
        return Ok(Some(AdminBy::Operator));
    }
    let Some(profile) = user.profile_id.as_deref().filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let path = format!(
        "settings/profiles/{}",
        url::form_urlencoded::byte_serialize(profile.as_bytes()).collect::<String>()
    );
    let (status, v) = crm_get_with(state, token, &path).await?;
    match status {
        200 => {
            let p = v
                .get("profiles")
                .and_then(Value::as_array)
                .and_then(|l| l.first());
            let admin = p.is_some_and(|p| {
                p.get("id").and_then(Value::as_str) == Some(profile)
                    && p.get("name").and_then(Value::as_str) == Some(ADMINISTRATOR_PROFILE)
                    && p.get("custom").and_then(Value::as_bool) != Some(true)
            });
            Ok(admin.then_some(AdminBy::CrmAdministrator))
        }
        204 | 403 => Ok(None),
        _ => Err(ApiError::upstream(format!(
            "Zoho CRM did not say which profile {} has (HTTP {status}); try again",
            user.email
        ))),
    }
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
