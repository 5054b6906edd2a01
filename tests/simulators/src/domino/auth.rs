//! Domino HTTP authentication: Basic, and the `DomAuthSessId` session cookie from
//! `POST /names.nsf?Login` (domino-api.md §4.3).

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::DominoState;
use crate::common::{lock, param, query_pairs, random_hex};

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// No credentials (or an unknown session cookie).
    Anonymous,
    /// A known user.
    User(String),
    /// Basic credentials that do not match a user.
    Invalid,
}

pub(crate) fn find_user(state: &DominoState, name: &str, password: &str) -> Option<String> {
    let name = name.trim();
    state
        .inner
        .users
        .iter()
        .find(|u| {
            (u.name.eq_ignore_ascii_case(name)
                || format!("{}@example.com", u.name).eq_ignore_ascii_case(name)
                || u.canonical().eq_ignore_ascii_case(name))
                && u.password == password
        })
        .map(|u| u.name.clone())
}

pub(crate) fn authenticate(state: &DominoState, headers: &HeaderMap) -> Credentials {
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let mut parts = auth.splitn(2, ' ');
        let scheme = parts.next().unwrap_or_default();
        if scheme.eq_ignore_ascii_case("Basic") {
            let decoded = STANDARD
                .decode(parts.next().unwrap_or_default().trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            let Some(decoded) = decoded else {
                return Credentials::Invalid;
            };
            let (name, password) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
            return find_user(state, name, password)
                .map_or(Credentials::Invalid, Credentials::User);
        }
    }
    let cookies = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='));
    let sessions = lock(&state.inner.sessions);
    for (name, value) in cookies {
        if name == "DomAuthSessId"
            && let Some(user) = sessions.get(value)
        {
            return Credentials::User(user.clone());
        }
    }
    Credentials::Anonymous
}

const CHALLENGE_BODY: &str = "<html>\n<head>\n<title>Error</title></head>\n<body text=\"#000000\">\n<h1>Error 401</h1>HTTP Web Server: You are not authorized to access this resource</body>\n</html>\n";

/// 401 with the Basic challenge, for missing or wrong credentials.
pub(crate) fn challenge() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::WWW_AUTHENTICATE, "Basic realm=\"/\""),
            (header::CONTENT_TYPE, "text/html; charset=UTF-8"),
        ],
        CHALLENGE_BODY,
    )
        .into_response()
}

/// 401 for an authenticated user whose ACL access is too low.
pub(crate) fn not_authorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::WWW_AUTHENTICATE, "Basic realm=\"/\""),
            (header::CONTENT_TYPE, "text/html; charset=UTF-8"),
        ],
        "<html>\n<head>\n<title>Error</title></head>\n<body text=\"#000000\">\n<h1>Error 401</h1>You are not authorized to perform this operation</body>\n</html>\n",
    )
        .into_response()
}

fn login_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<html>\n<head>\n<title>Server Login</title></head>\n<body>\n<form method=\"post\" action=\"/names.nsf?Login\" name=\"_DominoForm\">\n<p>{message}</p>\n<input name=\"Username\" type=\"text\">\n<input name=\"Password\" type=\"password\">\n<input type=\"hidden\" name=\"RedirectTo\" value=\"/\">\n<input type=\"submit\" value=\"Log In\">\n</form>\n</body>\n</html>\n"
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
        body,
    )
        .into_response()
}

/// What an anonymous request to a protected resource gets: the challenge, or (session-auth
/// servers) 200 with the HTML login form.
pub(crate) fn anonymous_answer(login_form: bool) -> Response {
    if login_form {
        login_page(StatusCode::OK, "Please identify yourself")
    } else {
        challenge()
    }
}

/// `POST /names.nsf?Login` with `Username`, `Password`, optional `RedirectTo`.
pub(crate) fn login(state: &DominoState, body: &Bytes, query: &[(String, String)]) -> Response {
    let form = query_pairs(std::str::from_utf8(body).ok());
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let user = field("Username").unwrap_or_default();
    let password = field("Password").unwrap_or_default();
    let Some(user) = find_user(state, user, password) else {
        return login_page(
            StatusCode::OK,
            "You provided an invalid username or password.",
        );
    };
    let session = random_hex(32);
    lock(&state.inner.sessions).insert(session.clone(), user);
    let target = field("RedirectTo")
        .or_else(|| param(query, "RedirectTo"))
        .unwrap_or("/")
        .to_owned();
    let mut response = (StatusCode::FOUND, "").into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&target) {
        headers.insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("DomAuthSessId={session}; path=/; HttpOnly")) {
        headers.insert(header::SET_COOKIE, v);
    }
    response
}

/// `GET /?Logout`: forget the session.
pub(crate) fn logout(
    state: &DominoState,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Response {
    let ids: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .filter(|(n, _)| *n == "DomAuthSessId")
        .map(|(_, v)| v.to_owned())
        .collect();
    {
        let mut sessions = lock(&state.inner.sessions);
        for id in ids {
            sessions.remove(&id);
        }
    }
    let target = param(query, "RedirectTo").unwrap_or("/").to_owned();
    let mut response = (StatusCode::FOUND, "").into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&target) {
        h.insert(header::LOCATION, v);
    }
    h.insert(
        header::SET_COOKIE,
        HeaderValue::from_static("DomAuthSessId=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT"),
    );
    response
}
