//! JWT login, logout and the bearer check (domino-rest-api.md §2.1–2.2).
//!
//! A token is a real JWT (`header.payload.signature`, base64url) whose payload carries `iss`,
//! `sub`, `scopes`, `iat`, `exp`, `aud`, `CN` and `email`. The signature is random bytes the
//! server remembers with the session: it checks a token by looking it up, which answers as a
//! key known only to the server would (the real key is "random … and stored only in memory").

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, FixedOffset, Offset, Utc};
use rand::RngCore;
use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::{Answer, ApiError, json_answer};
use super::state::Session;
use super::{DrapiState, Req};
use crate::domino::model::canonical_name;

/// Seconds of clock skew the server allows (`leeway` in the login answer).
pub(crate) const LEEWAY_SECS: i64 = 5;

/// The default `scope` of a login.
const DEFAULT_SCOPES: &str = "MAIL $DATA";

/// The answer's time zone: the simulated server runs on UTC+01:00, so its local times carry an
/// offset while `lastmodifiedinfile` and JSCalendar times use `Z` (the mix the examples show).
pub(crate) fn server_offset() -> FixedOffset {
    FixedOffset::east_opt(3600).unwrap_or(Utc.fix())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
    #[serde(default)]
    scope: Option<String>,
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// `POST /api/v1/auth` (B:authLogin).
pub(crate) fn login(state: &DrapiState, req: &Req<'_>) -> Answer {
    let body: LoginBody = serde_json::from_slice(req.body)
        .map_err(|e| ApiError::bad_request(format!("Invalid login request: {e}")))?;
    let failure = state.config().settings.login_failure_status;
    let Some(user) = state
        .domino
        .user_with_password(&body.username, &body.password)
    else {
        let status = StatusCode::from_u16(failure).unwrap_or(StatusCode::UNAUTHORIZED);
        return Err(ApiError::new(
            status,
            "Invalid credentials or account locked",
        ));
    };
    let lifetime = state.config().settings.jwt_lifetime_secs;
    let now = state.now();
    let issued = now.timestamp();
    let expires = issued.saturating_add(lifetime);
    let scopes_text = body
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_SCOPES)
        .to_owned();
    let scopes: Vec<String> = scopes_text.split_whitespace().map(str::to_owned).collect();
    let sub = canonical_name(&user);
    let issuer = state
        .shared()
        .core
        .base_url()
        .unwrap_or_else(|| "http://127.0.0.1:8880".into());
    let claims = json!({
        "iss": issuer,
        "sub": sub,
        "scopes": scopes.join(" "),
        "iat": issued,
        "exp": expires,
        "aud": ["Domino"],
        "CN": sub,
        "email": format!("{}@example.com", user.to_lowercase()),
    });
    let mut signature = [0_u8; 32];
    rand::rng().fill_bytes(&mut signature);
    let token = format!(
        "{}.{}.{}",
        b64(&json!({"alg":"HS256","typ":"JWT"})),
        b64(&claims),
        URL_SAFE_NO_PAD.encode(signature)
    );
    state.shared().remember(
        token.clone(),
        Session {
            user,
            scopes,
            expires,
            revoked: false,
        },
        issued,
    );
    let issue_date = now
        .with_timezone(&server_offset())
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    Ok(json_answer(
        StatusCode::OK,
        &json!({
            "bearer": token,
            "claims": claims,
            "leeway": LEEWAY_SECS,
            "expSeconds": lifetime,
            "issueDate": issue_date,
        }),
    ))
}

/// The bearer token of a request, if it has one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("Bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Who is calling: the session of a valid, unexpired bearer token, or the 401.
pub(crate) fn caller(state: &DrapiState, headers: &HeaderMap) -> Result<Session, ApiError> {
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, m);
    let Some(token) = bearer(headers) else {
        return Err(unauthorized("No JWT bearer token provided"));
    };
    let Some(session) = state.shared().session(token) else {
        return Err(unauthorized("Invalid JWT token"));
    };
    if session.revoked || state.now().timestamp() >= session.expires.saturating_add(LEEWAY_SECS) {
        return Err(unauthorized("JWT token expired"));
    }
    Ok(session)
}

/// `POST /api/v1/auth/logout {"logout":"Yes"}` or `GET` (B:authLogout, B:authLogoutGet).
pub(crate) fn logout(state: &DrapiState, req: &Req<'_>) -> Answer {
    if req.method == axum::http::Method::POST {
        let ok = serde_json::from_slice::<Value>(req.body).is_ok_and(|v| {
            v.as_object()
                .is_some_and(|m| m.len() == 1 && m.get("logout") == Some(&json!("Yes")))
        });
        if !ok {
            return Err(ApiError::bad_request(
                "Logout needs the body {\"logout\":\"Yes\"}",
            ));
        }
    }
    let session = caller(state, req.headers)?;
    if let Some(token) = bearer(req.headers) {
        state.shared().revoke(token);
    }
    let left = (session.expires - state.now().timestamp()).max(0);
    let message = format!(
        "{} logged out ({} days, {} hours, {} minutes, {} seconds.)",
        canonical_name(&session.user),
        left / 86_400,
        left % 86_400 / 3600,
        left % 3600 / 60,
        left % 60
    );
    Ok(json_answer(
        StatusCode::OK,
        &json!({ "statusText": "OK", "status": 200, "message": message }),
    ))
}

/// `expire_token` fault: the token this request carries stops working.
pub(crate) fn expire(state: &DrapiState, headers: &HeaderMap) {
    if let Some(token) = bearer(headers) {
        state.shared().revoke(token);
    }
}

/// Render a time as the server's local time with hundredths: `2022-10-13T13:41:30.00+01:00`.
pub(crate) fn local_time(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&server_offset());
    format!(
        "{}.{:02}{}",
        local.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_millis() / 10,
        local.format("%:z")
    )
}

/// Render a time in UTC with hundredths: `2022-10-04T14:50:55.00Z`.
pub(crate) fn utc_time(t: DateTime<Utc>) -> String {
    format!(
        "{}.{:02}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_millis() / 10
    )
}
