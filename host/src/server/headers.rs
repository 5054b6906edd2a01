//! The headers every answer of the server carries, for browsers:
//!
//! - HTML pages: `Content-Security-Policy` with the widget's script and style sources and
//!   `frame-ancestors` — the server itself, Zoho CRM in every data centre and the operator's
//!   `[server] frame_ancestors` (so only the CRM can frame the signed-in widget, never another
//!   site: clickjacking) — and `X-Frame-Options: SAMEORIGIN` for browsers that do not honour
//!   `frame-ancestors` (those that do ignore it when both are present).
//! - Everything else: `Content-Security-Policy: frame-ancestors 'none'` and
//!   `X-Frame-Options: DENY` (a JSON or script answer is never a page to frame). Answers
//!   relayed by the proxy are never pages, whatever type the upstream gives them: theirs is
//!   `default-src 'none'; frame-ancestors 'none'; sandbox`, so an HTML answer of a Domino
//!   server cannot run script or load anything as the server's origin.
//! - All: `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` (no URL leaves for
//!   another site; same-origin requests keep their `Origin`, which the server checks), and
//!   with an https `public_url`, `Strict-Transport-Security`.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use crate::server_config::ServerConfig;

/// The header values, computed once from the config.
#[derive(Debug)]
pub struct SecurityHeaders {
    page_csp: HeaderValue,
    hsts: bool,
}

const OTHER_CSP: &str = "frame-ancestors 'none'";
const PROXIED_CSP: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";

impl SecurityHeaders {
    /// The headers for `config` (its extra frame ancestors were checked when it was parsed).
    #[must_use]
    pub fn new(config: &ServerConfig) -> Self {
        let csp = crate::web::page_csp(&config.server.frame_ancestors);
        Self {
            page_csp: HeaderValue::from_str(&csp)
                .unwrap_or_else(|_| HeaderValue::from_static(OTHER_CSP)),
            hsts: config.secure_cookies(),
        }
    }
}

/// Adds the security headers to every answer.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let proxied = req.uri().path().starts_with("/proxy/");
    let mut r = next.run(req).await;
    let own = &state.inner.headers;
    let html = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    let h = r.headers_mut();
    if proxied {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PROXIED_CSP),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    } else if html {
        h.insert(header::CONTENT_SECURITY_POLICY, own.page_csp.clone());
        h.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
    } else {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(OTHER_CSP),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if own.hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    r
}
