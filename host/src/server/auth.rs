//! Sign-in with Zoho (OAuth 2.0 authorization code), server-side sessions, CSRF, and the
//! extractors every other route uses to know who is calling.
//!
//! - `GET /auth/login` → 302 to Zoho's consent page with a random `state`, which is also put in
//!   a short-lived HttpOnly cookie (`nzsync_oauth_state`, path `/auth`).
//! - `GET /auth/callback?code&state` → the `state` must equal the cookie's; the code is
//!   exchanged at the configured accounts server only (the `accounts-server` parameter is not
//!   trusted); the CRM user and org are read; the integration's admin is a verified Zoho CRM
//!   administrator (their profile, read from the users and profiles APIs, is Zoho's
//!   Administrator profile) or a CRM user the operator names in `[admins]`: such a user's first
//!   sign-in installs the integration for the org, or makes them the admin of an org left
//!   without one; anybody else's first sign-in installs nothing. Every sign-in checks again:
//!   an admin who is no longer a CRM administrator (nor named) stops being the admin. A
//!   session is created (`nzsync_session`, HttpOnly; `SameSite=None; Secure` on https for the
//!   CRM tab's iframe, `SameSite=Lax` on http) → 302 `/`.
//! - `GET /auth/login?popup=1` is the same flow in a window the widget opened: inside the CRM
//!   tab's iframe the widget cannot show Zoho's consent page (Zoho refuses to be framed) and
//!   should not navigate the CRM away. A cookie (`nzsync_popup`, path `/auth`) carries the mode
//!   through the round trip, and the callback then answers a small page whose script
//!   (`GET /auth/popup.js`) tells the widget — same origin only — that sign-in finished, and
//!   closes the window.
//! - `GET /auth/login?popup=1&expect=<CRM user id>` is the sign-in of the widget inside Zoho
//!   CRM's web tab. Zoho's embedded-app SDK told the widget who uses the CRM, but that is a
//!   claim made in the browser, and anyone can send any id. So the id is never a credential:
//!   it only narrows. It rides in a cookie (`nzsync_expect`, path `/auth`) to the callback, which
//!   signs in only the account Zoho's own token exchange names, and refuses (no session) when
//!   that is another account than the expected one. When the server already holds a consent
//!   (refresh token) for that user, the consent screen is not forced again (`prompt=consent`
//!   is left out): Zoho only confirms who is signing in. A lie about the id gains nothing:
//!   the session is still that of whoever Zoho authenticated.
//! - `GET /auth/crm-grant?user_id&org_id` → `{"grant": bool}`: whether the server holds a
//!   consent for that CRM user of that org, so the widget says "Continue as …" rather than
//!   explaining the one-time consent. It answers nothing else and creates no session.
//! - `POST /auth/logout` (CSRF header) → the session is deleted.
//! - `GET /api/me` → who is signed in, whether enabled, and the CSRF token.

use axum::Json;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::crypto::{random_token, same, sha256_hex};
use super::{ApiError, AppState, now_ms, zoho};
use crate::store::{SessionRow, UserRow};

pub const SESSION_COOKIE: &str = "nzsync_session";
const STATE_COOKIE: &str = "nzsync_oauth_state";
const POPUP_COOKIE: &str = "nzsync_popup";
const EXPECT_COOKIE: &str = "nzsync_expect";
/// The message the popup posts to the widget that opened it.
pub const SIGNED_IN_MESSAGE: &str = "nzsync-signed-in";
/// The message the popup posts when Zoho signed in another account than the CRM's.
pub const MISMATCH_MESSAGE: &str = "nzsync-account-mismatch";
pub const CSRF_HEADER: &str = "x-csrf-token";

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// A `Set-Cookie` value, always HttpOnly. On https it is `SameSite=None; Secure`: the widget
/// runs in an iframe of the CRM's web tab, a cross-site context where a Lax cookie is never
/// sent. That is safe because every state-changing request must also carry the session's
/// `X-CSRF-Token`, which another site cannot read, and no response allows cross-origin reads.
/// On plain http (the demo, loopback) browsers refuse `SameSite=None`, so it is `Lax` there.
fn cookie_value(secure: bool, name: &str, value: &str, path: &str, max_age: i64) -> String {
    let site = if secure {
        "SameSite=None; Secure"
    } else {
        "SameSite=Lax"
    };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; {site}")
}

fn set_cookie(state: &AppState, name: &str, value: &str, path: &str, max_age: i64) -> HeaderValue {
    HeaderValue::from_str(&cookie_value(
        state.inner.config.secure_cookies(),
        name,
        value,
        path,
        max_age,
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// `GET /auth/login` query.
#[derive(Deserialize)]
pub struct LoginQuery {
    /// `1`: the sign-in runs in a popup window the widget opened.
    popup: Option<String>,
    /// The CRM user the widget was opened for (Zoho CRM's web tab): any other account is
    /// refused at the callback.
    expect: Option<String>,
}

/// A CRM user id as Zoho writes them (digits), else `None`: it goes into a cookie.
fn crm_user_id(s: Option<&str>) -> Option<&str> {
    s.filter(|v| !v.is_empty() && v.len() <= 40 && v.bytes().all(|b| b.is_ascii_digit()))
}

/// `GET /auth/crm-grant` query.
#[derive(Deserialize)]
pub struct GrantQuery {
    user_id: Option<String>,
    org_id: Option<String>,
}

/// `GET /auth/crm-grant?user_id&org_id` → `{"grant": bool}`.
pub async fn crm_grant(
    State(state): State<AppState>,
    Query(q): Query<GrantQuery>,
) -> Result<Json<Value>, ApiError> {
    let grant = match crm_user_id(q.user_id.as_deref()) {
        Some(id) => state.db().await?.user(id).await?.is_some_and(|u| {
            u.refresh_token.is_some()
                && q.org_id
                    .as_deref()
                    .is_none_or(|o| o.is_empty() || o == u.org_id)
        }),
        None => false,
    };
    Ok(Json(json!({ "grant": grant })))
}

/// `GET /auth/login`.
pub async fn login(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    let cfg = &state.inner.config;
    let oauth_state = random_token();
    let expect = crm_user_id(q.expect.as_deref()).map(str::to_owned);
    // Consent already given: Zoho need not ask for it again (it keeps the refresh token it
    // gave; the stored one stays, `Conn::update_identity`).
    let consented = match &expect {
        Some(id) => match state.db().await {
            Ok(mut db) => db.user(id).await.ok().flatten(),
            Err(_) => None,
        }
        .is_some_and(|u| u.refresh_token.is_some()),
        None => false,
    };
    let mut url = match url::Url::parse(&format!("{}/oauth/v2/auth", cfg.zoho.accounts_url)) {
        Ok(u) => u,
        Err(e) => return ApiError::internal(format!("zoho.accounts_url: {e}")).into_response(),
    };
    url.query_pairs_mut()
        .append_pair("scope", zoho::SCOPES)
        .append_pair("client_id", &cfg.zoho.client_id)
        .append_pair("response_type", "code")
        .append_pair("access_type", "offline");
    if !consented {
        url.query_pairs_mut().append_pair("prompt", "consent");
    }
    url.query_pairs_mut()
        .append_pair(
            "redirect_uri",
            &format!("{}/auth/callback", cfg.server.public_url),
        )
        .append_pair("state", &oauth_state);
    let mut r = redirect(url.as_str());
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, STATE_COOKIE, &oauth_state, "/auth", 600),
    );
    // Set for a popup sign-in, cleared otherwise (a sign-in abandoned in a popup must not
    // turn the next ordinary one into a popup page).
    let popup = q.popup.as_deref() == Some("1");
    let (value, max_age) = if popup { ("1", 600) } else { ("", 0) };
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, POPUP_COOKIE, value, "/auth", max_age),
    );
    let (value, max_age) = expect.as_deref().map_or(("", 0), |id| (id, 600));
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, EXPECT_COOKIE, value, "/auth", max_age),
    );
    r
}

/// The page the callback answers in popup mode. Its only script is `/auth/popup.js` (no inline
/// script, so a strict Content-Security-Policy can forbid those).
const POPUP_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\">\
<title>notes-zoho-sync</title></head><body><p id=\"signed-in\" lang=\"en\">Signed in. You can \
close this window.</p><p lang=\"ja\">サインインしました。このウィンドウを閉じてください。</p>\
<script src=\"/auth/popup.js\"></script></body></html>";

/// The page the callback answers in popup mode when Zoho signed in another account than the
/// CRM's: the script tells the widget, which explains it in the user's language.
const POPUP_MISMATCH_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\">\
<title>notes-zoho-sync</title></head><body><p id=\"account-mismatch\" lang=\"en\">This is not \
the Zoho account Zoho CRM is open with.</p><p lang=\"ja\">Zoho CRMで開いているアカウントとは別の\
Zohoアカウントです。</p><script src=\"/auth/popup.js?result=mismatch\"></script></body></html>";

/// `GET /auth/popup.js` query.
#[derive(Deserialize)]
pub struct PopupQuery {
    result: Option<String>,
}

/// `GET /auth/popup.js`: tells the widget that opened this window that sign-in finished (to its
/// own origin only), then closes the window.
pub async fn popup_js(Query(q): Query<PopupQuery>) -> Response {
    let message = if q.result.as_deref() == Some("mismatch") {
        MISMATCH_MESSAGE
    } else {
        SIGNED_IN_MESSAGE
    };
    let js = format!(
        "if (window.opener) {{ window.opener.postMessage(\"{message}\", window.location.origin); window.close(); }}\n"
    );
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        js,
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback`.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, ApiError> {
    if let Some(e) = q.error {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "sign_in_failed",
            format!("Zoho did not sign you in ({e})"),
        ));
    }
    let expected = cookie(&headers, STATE_COOKIE);
    match (&expected, &q.state) {
        (Some(a), Some(b)) if !a.is_empty() && same(a, b) => {}
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "sign_in_failed",
                "the sign-in expired or did not start here: start again at /auth/login",
            ));
        }
    }
    let code = q
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::bad_request("no authorization code in the callback"))?;
    let grant = zoho::exchange_code(&state, &code).await?;
    let (status, me) =
        zoho::crm_get_with(&state, &grant.access_token, "users?type=CurrentUser").await?;
    let me = zoho::crm_users(&me).into_iter().next().ok_or_else(|| {
        ApiError::upstream(format!("Zoho CRM did not say who you are (HTTP {status})"))
    })?;
    // Opened for one CRM user (the web tab): nobody else is signed in here.
    if let Some(expected) = cookie(&headers, EXPECT_COOKIE).filter(|c| !c.is_empty())
        && expected != me.user_id
    {
        tracing::warn!(user = %me.user_id, "sign-in refused: not the CRM tab's user");
        let mut r = if cookie(&headers, POPUP_COOKIE).as_deref() == Some("1") {
            // A page (200: the API's error answers are JSON) whose script tells the widget.
            (
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                POPUP_MISMATCH_PAGE,
            )
                .into_response()
        } else {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "account_mismatch",
                "this is not the Zoho account Zoho CRM is open with: sign in as the CRM's user",
            )
            .into_response()
        };
        for name in [STATE_COOKIE, POPUP_COOKIE, EXPECT_COOKIE] {
            r.headers_mut()
                .append(header::SET_COOKIE, set_cookie(&state, name, "", "/auth", 0));
        }
        return Ok(r);
    }
    let (status, org) = zoho::crm_get_with(&state, &grant.access_token, "org").await?;
    let (org_id, _licences) = zoho::org_info(&org).ok_or_else(|| {
        ApiError::upstream(format!(
            "Zoho CRM did not describe your org (HTTP {status})"
        ))
    })?;

    let may_admin = zoho::may_administer(&state, &grant.access_token, &me).await?;

    let now = now_ms();
    let sealed = grant
        .refresh_token
        .as_deref()
        .map(|t| state.inner.key.seal(&zoho::refresh_context(&me.user_id), t));
    let (enabled, admin) = {
        let mut tx = state.begin().await?;
        // Sign-ins of one org on several replicas decide the admin one after the other. The
        // very first install of an org has no row to lock yet: two administrators signing in
        // at once on two replicas both try to insert it, one waits for the other and inserts
        // nothing, then locks the row the first one made and carries on as a later sign-in.
        let installed = tx.lock_org(&org_id).await?;
        if !installed && may_admin.is_some() {
            // A CRM administrator (or one the operator names) installs the integration and is
            // its admin. Anybody else's first sign-in installs nothing.
            let inserted = tx
                .insert_org(
                    &org_id,
                    &me.user_id,
                    &state.inner.config.zoho.api_domain,
                    now,
                )
                .await?;
            if !inserted {
                tx.lock_org(&org_id).await?;
            }
        }
        let row = tx.user(&me.user_id).await?;
        // A user id stored for another org is never taken over from this one.
        let foreign = row.as_ref().is_some_and(|u| u.org_id != org_id);
        let existing = row.filter(|u| u.org_id == org_id);
        let org_there = tx.org_exists(&org_id).await?;
        let org_admin = if org_there {
            tx.org_admin(&org_id).await?
        } else {
            None
        };
        let outcome = match existing {
            Some(u) => {
                tx.update_identity(&me.user_id, &me.email, &me.name, sealed.as_deref())
                    .await?;
                if u.is_admin && may_admin.is_none() {
                    // No longer a CRM administrator: no longer the integration's admin.
                    tracing::warn!(user = %me.user_id, "admin is no longer a CRM administrator; demoted");
                    tx.demote(&me.user_id).await?;
                    (true, false)
                } else if !u.is_admin && org_admin.is_none() && may_admin.is_some() {
                    tx.make_admin(&org_id, &me.user_id).await?;
                    (true, true)
                } else {
                    (true, u.is_admin)
                }
            }
            None if !foreign && org_admin.is_none() && may_admin.is_some() && org_there => {
                // A new install, or an org left without an admin: this CRM administrator is it.
                tx.insert_user(&UserRow {
                    is_admin: true,
                    refresh_token: sealed.clone(),
                    ..UserRow::new(&me.user_id, &org_id, &me.email, &me.name, now)
                })
                .await?;
                tx.make_admin(&org_id, &me.user_id).await?;
                (true, true)
            }
            None => (false, false),
        };
        tx.commit().await?;
        outcome
    };
    if enabled && let Some(refresh) = grant.refresh_token.as_deref() {
        zoho::remember(&state, refresh, &grant.access_token, grant.expires_in).await;
    }
    if admin {
        // The admin's set-up: the fields other users' syncs and meetings need. Manage Users
        // offers it again if Zoho does not answer now.
        if let Err(e) = super::setup::ensure(&state, &grant.access_token).await {
            tracing::warn!(error = %e, "set-up at sign-in did not finish");
        }
    }
    let session_id = random_token();
    let hours = i64::from(state.inner.config.server.session_hours);
    state
        .db()
        .await?
        .insert_session(
            &sha256_hex(&session_id),
            &SessionRow {
                user_id: me.user_id,
                org_id,
                email: me.email,
                name: me.name,
                csrf: random_token(),
            },
            now,
            now + hours * 3_600_000,
        )
        .await?;
    let mut r = if cookie(&headers, POPUP_COOKIE).as_deref() == Some("1") {
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            POPUP_PAGE,
        )
            .into_response()
    } else {
        redirect("/")
    };
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, &session_id, "/", hours * 3600),
    );
    for name in [STATE_COOKIE, POPUP_COOKIE, EXPECT_COOKIE] {
        r.headers_mut()
            .append(header::SET_COOKIE, set_cookie(&state, name, "", "/auth", 0));
    }
    Ok(r)
}

/// `POST /auth/logout`.
pub async fn logout(State(state): State<AppState>, session: Session) -> Result<Response, ApiError> {
    state.db().await?.delete_session(&session.id_hash).await?;
    let mut r = Json(json!({ "signed_out": true })).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", "/", 0),
    );
    Ok(r)
}

/// `GET /api/me`.
pub async fn me(State(state): State<AppState>, session: Session) -> Result<Json<Value>, ApiError> {
    let (user, org_there) = {
        let mut db = state.db().await?;
        (
            db.user(&session.row.user_id).await?,
            db.org_exists(&session.row.org_id).await?,
        )
    };
    let user = user.filter(|u| u.org_id == session.row.org_id);
    let s = &session.row;
    Ok(Json(match user {
        Some(u) => json!({
            "user_id": s.user_id, "email": u.email, "name": u.name, "org_id": s.org_id,
            "enabled": true, "admin": u.is_admin, "csrf_token": s.csrf,
            "connected": u.connected(),
            "domino": u.domino_url.as_ref().map(|url| json!({
                "server": url, "user": u.domino_user, "mail_db": u.mail_db,
                "api": crate::store::domino_api_key(u.domino_api),
            })),
            "crm_access": u.refresh_token.is_some(),
        }),
        None if !org_there => json!({
            "user_id": s.user_id, "email": s.email, "name": s.name, "org_id": s.org_id,
            "enabled": false, "admin": false, "csrf_token": s.csrf, "reason": "not_installed",
            "message": "the integration is not set up for your Zoho CRM org yet: a Zoho CRM administrator must sign in first to set it up, then add you under Manage Users",
        }),
        None => json!({
            "user_id": s.user_id, "email": s.email, "name": s.name, "org_id": s.org_id,
            "enabled": false, "admin": false, "csrf_token": s.csrf, "reason": "not_added",
            "message": "you are signed in, but the integration's admin has not enabled you: ask them to add you under Manage Users, then sign in again",
        }),
    }))
}

/// A signed-in browser (any user). Requires the CSRF header on state-changing methods.
pub struct Session {
    pub id_hash: String,
    pub row: SessionRow,
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "not_signed_in",
                "not signed in, or the sign-in expired: sign in with Zoho at /auth/login",
            )
        };
        let id = cookie(&parts.headers, SESSION_COOKIE)
            .filter(|c| !c.is_empty())
            .ok_or_else(unauthorized)?;
        let id_hash = sha256_hex(&id);
        let row = state
            .db()
            .await?
            .session(&id_hash, now_ms())
            .await?
            .ok_or_else(unauthorized)?;
        // Only reads go without the CSRF header (an OPTIONS through the proxy is not a read).
        let safe = matches!(parts.method, Method::GET | Method::HEAD);
        if !safe {
            let ok = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| same(v, &row.csrf));
            if !ok {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "missing or wrong X-CSRF-Token header (take it from GET /api/me)",
                ));
            }
        }
        Ok(Self { id_hash, row })
    }
}

/// A signed-in user the admin enabled (or the admin).
pub struct Member {
    pub user: UserRow,
}

impl FromRequestParts<AppState> for Member {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = Session::from_request_parts(parts, state).await?;
        let user = state.db().await?.user(&session.row.user_id).await?
            .filter(|u| u.org_id == session.row.org_id)
            .ok_or_else(|| {
                ApiError::forbidden(
                    "the integration's admin has not enabled you: ask them to add you under Manage Users",
                )
            })?;
        Ok(Self { user })
    }
}

/// The org's admin.
pub struct Admin {
    pub user: UserRow,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Member { user } = Member::from_request_parts(parts, state).await?;
        if !user.is_admin {
            return Err(ApiError::forbidden(
                "only the integration's admin can manage users",
            ));
        }
        Ok(Self { user })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_and_cross_site_secure_on_https() {
        let c = cookie_value(true, SESSION_COOKIE, "abc", "/", 60);
        assert_eq!(
            c,
            "nzsync_session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=None; Secure"
        );
        let plain = cookie_value(false, SESSION_COOKIE, "abc", "/", 60);
        assert!(plain.ends_with("HttpOnly; SameSite=Lax"), "{plain}");
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; nzsync_session=xyz; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "nzsync"), None);
    }
}
