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
//! - redirects are not followed, nor passed on (a 3xx other than 304 becomes 502); request bodies up to [`MAX_REQUEST_BODY`], responses up to
//!   [`crate::upstream::MAX_BODY`]; the shared client's timeouts apply.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use url::Url;

use super::auth::Member;
use super::connect::{CANNOT_USE_SERVER, password_context};
use super::db::UserRow;
use super::{ApiError, AppState, zoho};
use crate::upstream::{describe, pinned_url, response_from};

/// Largest request body forwarded.
pub const MAX_REQUEST_BODY: usize = 16 * 1024 * 1024;

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
    body: &axum::body::Bytes,
    auth: &str,
) -> Result<sync_core::HttpResponse, ApiError> {
    let mut rb = client.request(method, url).header("Authorization", auth);
    for name in FORWARD_REQUEST {
        for v in headers.get_all(*name) {
            rb = rb.header(*name, v.as_bytes());
        }
    }
    if !body.is_empty() {
        rb = rb.body(body.clone());
    }
    let resp = rb.send().await.map_err(|e| {
        ApiError::upstream(format!("the server could not be reached: {}", describe(&e)))
    })?;
    response_from(resp)
        .await
        .map_err(|e| ApiError::upstream(e.message))
}

fn answer(r: sync_core::HttpResponse) -> Response {
    if (300..400).contains(&r.status) && r.status != 304 {
        // A redirect would send the engine (and its request body) to wherever the upstream
        // says: neither the proxy nor the browser follows one.
        let to = r
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("location"))
            .map_or("", |h| h.value.as_str());
        return ApiError::upstream(format!(
            "the server answered a redirect (HTTP {}) to {to:?}, which the proxy does not follow",
            r.status
        ))
        .into_response();
    }
    let mut out = Response::new(Body::from(r.body));
    *out.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_GATEWAY);
    for h in r.headers {
        let name = h.name.to_ascii_lowercase();
        if FORWARD_RESPONSE.contains(&name.as_str())
            && let (Ok(n), Ok(v)) = (
                header::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&h.value),
            )
        {
            out.headers_mut().append(n, v);
        }
    }
    out.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out
}

async fn parts(req: Request) -> Result<(axum::http::request::Parts, axum::body::Bytes), ApiError> {
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

fn domino_auth(state: &AppState, user: &UserRow) -> Result<(Url, String), ApiError> {
    let (Some(server), Some(name), Some(sealed)) =
        (&user.domino_url, &user.domino_user, &user.domino_password)
    else {
        return Err(ApiError::conflict(
            "not_connected",
            "connect to your Domino server first",
        ));
    };
    let password = state
        .inner
        .key
        .open(&password_context(&user.user_id), sealed)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let base = Url::parse(server).map_err(|e| ApiError::internal(format!("stored server: {e}")))?;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"));
    Ok((base, format!("Basic {basic}")))
}

/// `ANY /proxy/domino/{*path}`.
pub async fn domino(
    State(state): State<AppState>,
    Member { user }: Member,
    req: Request,
) -> Response {
    let run = async {
        let path = upstream_path(req.uri(), "/proxy/domino")?;
        let (base, auth) = domino_auth(&state, &user)?;
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
        forward(access.client(), url, m, &parts.headers, &body, &auth).await
    };
    match run.await {
        Ok(r) => answer(r),
        Err(e) => e.into_response(),
    }
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
        let token = zoho::access_token(&state, &user, false).await?;
        let r = forward(
            &state.inner.http,
            url.clone(),
            m.clone(),
            &parts.headers,
            &body,
            &format!("Zoho-oauthtoken {token}"),
        )
        .await?;
        if r.status == 401 && r.body.contains("INVALID_TOKEN") {
            // Expired or revoked access token: refresh once and try again.
            let token = zoho::access_token(&state, &user, true).await?;
            return forward(
                &state.inner.http,
                url,
                m,
                &parts.headers,
                &body,
                &format!("Zoho-oauthtoken {token}"),
            )
            .await;
        }
        Ok(r)
    };
    match run.await {
        Ok(r) => answer(r),
        Err(e) => e.into_response(),
    }
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
