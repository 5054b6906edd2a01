//! Zoho accounts OAuth: the refresh grant, token rate limit, revocation, and the
//! `Authorization: Zoho-oauthtoken` check on API calls (zoho-crm-api.md §4).

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::model::{AccessToken, ZohoData};
use super::{zoho_error, zoho_json};
use crate::common::{query_pairs, random_hex};

pub(crate) const SCOPE: &str =
    "ZohoCRM.modules.ALL ZohoCRM.settings.ALL ZohoCRM.users.READ ZohoCRM.org.READ";
/// Access tokens per refresh token within `RATE_WINDOW_SECS`.
const MAX_TOKENS_PER_WINDOW: usize = 10;
const RATE_WINDOW_SECS: i64 = 600;

fn oauth_answer(status: StatusCode, value: &Value) -> Response {
    zoho_json(status, value)
}

/// `POST /oauth/v2/token`; parameters in the query string or a form body.
pub(crate) fn token(
    data: &mut ZohoData,
    query: &[(String, String)],
    body: &Bytes,
    origin: &str,
    now: DateTime<Utc>,
) -> Response {
    let mut params: Vec<(String, String)> = query.to_vec();
    params.extend(query_pairs(std::str::from_utf8(body).ok()));
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let client_ok = get("client_id") == Some(data.client_id.as_str())
        && get("client_secret") == Some(data.client_secret.as_str());
    match get("grant_type") {
        Some("refresh_token") => {}
        Some("authorization_code") => {
            let error = if client_ok {
                "invalid_code"
            } else {
                "invalid_client"
            };
            return oauth_answer(StatusCode::OK, &json!({ "error": error }));
        }
        _ => {
            return oauth_answer(
                StatusCode::OK,
                &json!({ "error": "unsupported_grant_type" }),
            );
        }
    }
    if !client_ok {
        return oauth_answer(StatusCode::OK, &json!({ "error": "invalid_client" }));
    }
    let refresh = get("refresh_token").unwrap_or_default().to_owned();
    let Some(user_id) = data
        .refresh_tokens
        .iter()
        .find(|(t, _)| *t == refresh)
        .map(|(_, u)| u.clone())
    else {
        return oauth_answer(StatusCode::OK, &json!({ "error": "invalid_code" }));
    };
    let window = data.issued.entry(refresh).or_default();
    while window
        .front()
        .is_some_and(|t| *t <= now - Duration::seconds(RATE_WINDOW_SECS))
    {
        window.pop_front();
    }
    if window.len() >= MAX_TOKENS_PER_WINDOW {
        return oauth_answer(
            StatusCode::BAD_REQUEST,
            &json!({
                "error_description": "You have made too many requests continuously. Please try again after some time.",
                "error": "Access Denied",
                "status": "failure",
            }),
        );
    }
    window.push_back(now);
    let access = format!(
        "1000.{}.{}",
        random_hex(32).to_lowercase(),
        random_hex(32).to_lowercase()
    );
    let lifetime = data.token_lifetime_secs;
    data.access_tokens.retain(|_, t| t.expires > now);
    data.access_tokens.insert(
        access.clone(),
        AccessToken {
            user_id,
            expires: now + Duration::seconds(lifetime),
        },
    );
    oauth_answer(
        StatusCode::OK,
        &json!({
            "access_token": access,
            "scope": SCOPE,
            "api_domain": origin,
            "token_type": "Bearer",
            "expires_in": lifetime,
        }),
    )
}

/// `POST /oauth/v2/token/revoke?token=…`: revokes a refresh token (and its access tokens) or
/// an access token.
pub(crate) fn revoke(data: &mut ZohoData, query: &[(String, String)], body: &Bytes) -> Response {
    let mut params: Vec<(String, String)> = query.to_vec();
    params.extend(query_pairs(std::str::from_utf8(body).ok()));
    let token = params
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if data.access_tokens.remove(&token).is_none() {
        data.refresh_tokens.retain(|(t, _)| *t != token);
    }
    oauth_answer(StatusCode::OK, &json!({ "status": "success" }))
}

/// The token of `Authorization: Zoho-oauthtoken <token>`.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("Zoho-oauthtoken")
        .then(|| token.trim().to_owned())
}

fn invalid_token() -> Response {
    zoho_error(
        StatusCode::UNAUTHORIZED,
        "INVALID_TOKEN",
        "invalid oauth token",
        json!({}),
    )
}

/// The calling user and the token's expiry, or the 401 answer.
pub(crate) fn authenticate(
    data: &ZohoData,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), Response> {
    let token = bearer(headers).ok_or_else(invalid_token)?;
    match data.access_tokens.get(&token) {
        Some(t) if t.expires > now => Ok((t.user_id.clone(), t.expires)),
        _ => Err(invalid_token()),
    }
}
