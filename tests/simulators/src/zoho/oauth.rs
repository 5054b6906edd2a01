//! Zoho accounts OAuth: the authorization-code flow, the refresh grant, token rate limit,
//! revocation, and the `Authorization: Zoho-oauthtoken` check on API calls (zoho-crm-api.md §4).
//!
//! Authorization-code flow (what a server-side web app does to sign a user in):
//! - `GET /oauth/v2/auth?scope&client_id&response_type=code&access_type=offline&redirect_uri&state[&prompt]`
//!   answers a small HTML sign-in page listing the org's users (no passwords: a simulator). An
//!   unknown `client_id` or a `response_type` other than `code` answers 400 with a plain page.
//! - `POST /oauth/v2/auth` (that page's form: the same parameters plus `user`, a user's e-mail,
//!   e-mail local part or id) → `302 Location: {redirect_uri}?code=…&location=us&accounts-server={origin}&state=…`.
//! - `POST /oauth/v2/token` with `grant_type=authorization_code&client_id&client_secret&redirect_uri&code`
//!   → `{access_token, refresh_token, scope, api_domain, token_type, expires_in}` (200). A code
//!   is single-use and valid for 2 minutes of the simulator clock (an inferred value; Zoho's
//!   docs say "a couple of minutes"); it is bound to the client and the `redirect_uri`.
//!   Errors (200, as Zoho answers): `{"error":"invalid_client"}` (wrong id/secret),
//!   `{"error":"invalid_redirect_uri"}` (not the one the code was issued for),
//!   `{"error":"invalid_code"}` (unknown, used or expired). The refresh token issued works with
//!   the refresh grant like the seeded ones.
//!
//! The refresh grant allows ten access tokens per refresh token in ten minutes
//! (zoho-crm-api.md §4); the eleventh answers HTTP 400
//! `{"error":"Access Denied","error_description":"You have made too many requests continuously. Please try again after some time.","status":"failure"}`
//! (the answer Zoho's accounts server is seen to give; the reference states only the limit).
//! An injected `status` fault on `/oauth/…` answers what a front end in trouble answers: a
//! small HTML error page with that status, not CRM JSON (the accounts server is not the CRM
//! API; what it sends during an outage is not documented \[I\]).

use axum::body::Bytes;
use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::model::{AccessToken, ZohoData};
use super::{zoho_error, zoho_json};
use crate::common::{query_pairs, random_hex};

pub(crate) const SCOPE: &str =
    "ZohoCRM.modules.ALL ZohoCRM.settings.ALL ZohoCRM.users.READ ZohoCRM.org.READ";
/// How long an authorization code can be exchanged.
const CODE_LIFETIME_SECS: i64 = 120;
/// Access tokens per refresh token within `RATE_WINDOW_SECS`.
const MAX_TOKENS_PER_WINDOW: usize = 10;
const RATE_WINDOW_SECS: i64 = 600;

/// The answer of an injected `status` fault on the accounts server (see the module docs).
pub(crate) fn fault_page(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    page(
        status,
        &format!(
            "<!doctype html><title>{} {reason}</title><p>{reason}</p>",
            status.as_u16()
        ),
    )
}

fn oauth_answer(status: StatusCode, value: &Value) -> Response {
    zoho_json(status, value)
}

/// `POST /oauth/v2/token`; parameters in the query string or a form body.
pub(crate) fn token(
    data: &mut ZohoData,
    grants: &mut Grants,
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
            if !client_ok {
                return oauth_answer(StatusCode::OK, &json!({ "error": "invalid_client" }));
            }
            return exchange_code(
                data,
                grants,
                get("code").unwrap_or_default(),
                get("redirect_uri").unwrap_or_default(),
                origin,
                now,
            );
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
    let scope = data
        .refresh_scopes
        .get(&refresh)
        .cloned()
        .unwrap_or_else(|| SCOPE.to_owned());
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
            expires: crate::common::plus_secs(now, lifetime),
            scope: scope.clone(),
        },
    );
    oauth_answer(
        StatusCode::OK,
        &json!({
            "access_token": access,
            "scope": scope,
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

/// The calling user, the token's expiry and its scopes, or the 401 answer.
pub(crate) fn authenticate(
    data: &ZohoData,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>, String), Response> {
    let token = bearer(headers).ok_or_else(invalid_token)?;
    match data.access_tokens.get(&token) {
        Some(t) if t.expires > now => Ok((t.user_id.clone(), t.expires, t.scope.clone())),
        _ => Err(invalid_token()),
    }
}

/// The operation a method needs on a module: `READ`, `CREATE`, `UPDATE` or `DELETE`.
pub(crate) fn operation(method: &axum::http::Method) -> &'static str {
    match *method {
        axum::http::Method::POST => "CREATE",
        axum::http::Method::PUT | axum::http::Method::PATCH => "UPDATE",
        axum::http::Method::DELETE => "DELETE",
        _ => "READ",
    }
}

/// Whether `scope` (space- or comma-separated) allows `op` on `module` (zoho-crm-api.md §4:
/// `ZohoCRM.modules.ALL`, or `ZohoCRM.modules.{module}.{ALL|READ|CREATE|UPDATE|WRITE|DELETE}`;
/// `WRITE` covers create, update and delete \[I\]).
pub(crate) fn scope_allows(scope: &str, module: &str, op: &str) -> bool {
    let module = module.to_ascii_lowercase();
    scope.split([' ', ',']).filter(|s| !s.is_empty()).any(|s| {
        let s = s.to_ascii_lowercase();
        s == "zohocrm.modules.all"
            || s == format!("zohocrm.modules.{module}.all")
            || s == format!("zohocrm.modules.{module}.{}", op.to_ascii_lowercase())
            || (op != "READ" && s == format!("zohocrm.modules.{module}.write"))
    })
}

/// 401 `OAUTH_SCOPE_MISMATCH` (zoho-crm-api.md §4), naming the missing scope.
pub(crate) fn scope_mismatch(module: &str, op: &str) -> Response {
    zoho_error(
        StatusCode::UNAUTHORIZED,
        "OAUTH_SCOPE_MISMATCH",
        &format!(
            "Client does not have ZohoCRM.modules.{}.{op} scope",
            module.to_ascii_lowercase()
        ),
        json!({}),
    )
}

/// Authorization codes issued and not yet exchanged.
#[derive(Debug, Default)]
pub(crate) struct Grants {
    codes: HashMap<String, Grant>,
}

#[derive(Debug)]
struct Grant {
    scope: String,
    user_id: String,
    client_id: String,
    redirect_uri: String,
    expires: DateTime<Utc>,
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, body: &str) -> Response {
    let mut r = (status, body.to_owned()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=UTF-8"),
    );
    r
}

/// Checks the parameters both steps of the sign-in page share.
fn check_auth_params(data: &ZohoData, params: &[(String, String)]) -> Result<(), Response> {
    if param(params, "client_id") != Some(data.client_id.as_str()) {
        return Err(page(
            StatusCode::BAD_REQUEST,
            "<!doctype html><title>Invalid Client</title><p>Invalid Client</p>",
        ));
    }
    if param(params, "response_type") != Some("code") {
        return Err(page(
            StatusCode::BAD_REQUEST,
            "<!doctype html><title>Invalid response type</title><p>response_type must be code</p>",
        ));
    }
    match param(params, "redirect_uri").map(url::Url::parse) {
        Some(Ok(u)) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err(page(
            StatusCode::BAD_REQUEST,
            "<!doctype html><title>Invalid Redirect Uri</title><p>Invalid Redirect Uri</p>",
        )),
    }
}

/// `GET /oauth/v2/auth`: the sign-in page.
pub(crate) fn auth_page(data: &ZohoData, query: &[(String, String)]) -> Response {
    if let Err(r) = check_auth_params(data, query) {
        return r;
    }
    let mut hidden = String::new();
    for name in [
        "scope",
        "client_id",
        "response_type",
        "access_type",
        "redirect_uri",
        "state",
        "prompt",
    ] {
        if let Some(v) = param(query, name) {
            hidden.push_str(&format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">\n",
                html_escape(v)
            ));
        }
    }
    let mut users = String::new();
    for (i, u) in data.users.iter().enumerate() {
        users.push_str(&format!(
            "<label><input type=\"radio\" name=\"user\" value=\"{}\"{}> {} &lt;{}&gt;</label><br>\n",
            html_escape(&u.email),
            if i == 0 { " checked" } else { "" },
            html_escape(&u.full_name()),
            html_escape(&u.email),
        ));
    }
    page(
        StatusCode::OK,
        &format!(
            "<!doctype html>\n<html><head><title>Zoho Accounts (simulator) - Sign in</title></head><body>\n\
             <h1>Sign in to access Zoho CRM</h1>\n<p>The application asks for: {}</p>\n\
             <form method=\"post\" action=\"/oauth/v2/auth\">\n{hidden}{users}\
             <button type=\"submit\">Accept</button>\n</form></body></html>\n",
            html_escape(param(query, "scope").unwrap_or(SCOPE))
        ),
    )
}

/// `POST /oauth/v2/auth`: the user accepted; redirect back with a code.
pub(crate) fn auth_accept(
    data: &ZohoData,
    grants: &mut Grants,
    body: &Bytes,
    origin: &str,
    now: DateTime<Utc>,
) -> Response {
    let params = query_pairs(std::str::from_utf8(body).ok());
    if let Err(r) = check_auth_params(data, &params) {
        return r;
    }
    let who = param(&params, "user").unwrap_or_default();
    let Some(user) = data.users.iter().find(|u| {
        u.email.eq_ignore_ascii_case(who)
            || u.id == who
            || u.email
                .split('@')
                .next()
                .is_some_and(|local| local.eq_ignore_ascii_case(who))
    }) else {
        return page(
            StatusCode::OK,
            "<!doctype html><title>Sign in</title><p>No such user in this org.</p>",
        );
    };
    let redirect_uri = param(&params, "redirect_uri").unwrap_or_default();
    let Ok(mut target) = url::Url::parse(redirect_uri) else {
        return page(StatusCode::BAD_REQUEST, "Invalid Redirect Uri");
    };
    grants.codes.retain(|_, g| g.expires > now);
    let code = format!(
        "1000.{}.{}",
        random_hex(32).to_lowercase(),
        random_hex(32).to_lowercase()
    );
    grants.codes.insert(
        code.clone(),
        Grant {
            scope: param(&params, "scope").unwrap_or(SCOPE).replace(',', " "),
            user_id: user.id.clone(),
            client_id: data.client_id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            expires: now + Duration::seconds(CODE_LIFETIME_SECS),
        },
    );
    {
        let mut q = target.query_pairs_mut();
        q.append_pair("code", &code);
        q.append_pair("location", "us");
        q.append_pair("accounts-server", origin);
        if let Some(state) = param(&params, "state") {
            q.append_pair("state", state);
        }
    }
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(target.as_str()) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// The authorization-code grant (client already checked).
fn exchange_code(
    data: &mut ZohoData,
    grants: &mut Grants,
    code: &str,
    redirect_uri: &str,
    origin: &str,
    now: DateTime<Utc>,
) -> Response {
    let Some(grant) = grants.codes.get(code) else {
        return oauth_answer(StatusCode::OK, &json!({ "error": "invalid_code" }));
    };
    if grant.expires <= now || grant.client_id != data.client_id {
        grants.codes.remove(code);
        return oauth_answer(StatusCode::OK, &json!({ "error": "invalid_code" }));
    }
    if grant.redirect_uri != redirect_uri {
        return oauth_answer(StatusCode::OK, &json!({ "error": "invalid_redirect_uri" }));
    }
    let Some(grant) = grants.codes.remove(code) else {
        return oauth_answer(StatusCode::OK, &json!({ "error": "invalid_code" }));
    };
    let refresh = format!(
        "1000.{}.{}",
        random_hex(32).to_lowercase(),
        random_hex(32).to_lowercase()
    );
    data.refresh_tokens
        .push((refresh.clone(), grant.user_id.clone()));
    data.refresh_scopes
        .insert(refresh.clone(), grant.scope.clone());
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
            user_id: grant.user_id,
            expires: crate::common::plus_secs(now, lifetime),
            scope: grant.scope.clone(),
        },
    );
    oauth_answer(
        StatusCode::OK,
        &json!({
            "access_token": access,
            "refresh_token": refresh,
            "scope": grant.scope,
            "api_domain": origin,
            "token_type": "Bearer",
            "expires_in": lifetime,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Seed;

    fn form(pairs: &[(&str, &str)]) -> Bytes {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            ser.append_pair(k, v);
        }
        Bytes::from(ser.finish())
    }

    const REDIRECT: &str = "http://127.0.0.1:8080/auth/callback";

    /// Accepts the sign-in page as `user`; the code from the redirect.
    fn code_for(data: &ZohoData, grants: &mut Grants, user: &str, now: DateTime<Utc>) -> String {
        let r = auth_accept(
            data,
            grants,
            &form(&[
                ("client_id", "demo-client"),
                ("response_type", "code"),
                ("redirect_uri", REDIRECT),
                ("state", "s1"),
                ("user", user),
            ]),
            "http://127.0.0.1:18082",
            now,
        );
        assert_eq!(r.status(), StatusCode::FOUND);
        let to = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
        let url = url::Url::parse(&to).unwrap();
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert!(to.starts_with(REDIRECT));
        assert_eq!(q["state"], "s1");
        assert_eq!(q["accounts-server"], "http://127.0.0.1:18082");
        q["code"].clone()
    }

    async fn exchange(
        data: &mut ZohoData,
        grants: &mut Grants,
        code: &str,
        now: DateTime<Utc>,
    ) -> Value {
        let body = form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "demo-client"),
            ("client_secret", "demo-secret"),
            ("redirect_uri", REDIRECT),
            ("code", code),
        ]);
        let r = token(data, grants, &[], &body, "http://127.0.0.1:18082", now);
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn codes_are_single_use_expire_and_give_working_refresh_tokens() {
        let now = Utc::now();
        let mut data = super::super::seed::build(Seed::Empty, now);
        let mut grants = Grants::default();

        let page = auth_page(
            &data,
            &[
                ("client_id".into(), "demo-client".into()),
                ("response_type".into(), "code".into()),
                ("redirect_uri".into(), REDIRECT.into()),
            ],
        );
        assert_eq!(page.status(), StatusCode::OK);
        let bad = auth_page(&data, &[("client_id".into(), "other".into())]);
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

        let code = code_for(&data, &mut grants, "user2", now);
        let v = exchange(&mut data, &mut grants, &code, now).await;
        let refresh = v["refresh_token"].as_str().unwrap().to_owned();
        assert!(v["access_token"].is_string());
        let again = exchange(&mut data, &mut grants, &code, now).await;
        assert_eq!(again["error"], "invalid_code");

        let late = code_for(&data, &mut grants, "demo@example.com", now);
        let v = exchange(
            &mut data,
            &mut grants,
            &late,
            now + Duration::seconds(CODE_LIFETIME_SECS + 1),
        )
        .await;
        assert_eq!(v["error"], "invalid_code");

        // The new refresh token works with the refresh grant, for the user who signed in.
        let body = form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "demo-client"),
            ("client_secret", "demo-secret"),
            ("refresh_token", &refresh),
        ]);
        let r = token(&mut data, &mut grants, &[], &body, "http://x", now);
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let access = v["access_token"].as_str().unwrap();
        let user = &data.access_tokens[access].user_id;
        assert_eq!(
            data.user(user).map(|u| u.email.as_str()),
            Some("user2@example.com")
        );
    }
}
