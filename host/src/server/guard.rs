//! What every request passes through before (and after) its handler:
//!
//! - [`bounded_body`]: the whole request body must arrive within the server's body timeout
//!   (a slow sender — "slowloris" — gets 408 and its connection's task ends) and be at most
//!   [`super::proxy::MAX_REQUEST_BODY`] bytes (413). Handlers then see a buffered body.
//! - [`same_origin`]: a state-changing request that names an `Origin` other than the
//!   server's own public origin is refused (403), on top of the CSRF header check.
//! - [`json_errors`]: a refusal produced outside the handlers (a malformed path or query, a
//!   body that is not JSON, an unknown method) is answered in the API's JSON error shape.

use std::pin::Pin;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::proxy::MAX_REQUEST_BODY;
use super::{ApiError, AppState};

/// How long a request body may take to arrive unless the server says otherwise.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);

enum BodyError {
    TooLarge,
    Broken,
}

/// Reads `body` to the end, refusing more than `limit` bytes.
async fn read_limited(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(BodyError::TooLarge);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(out))
}

/// Buffers the request body within the body timeout and size limit.
pub async fn bounded_body(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("request bodies are limited to {MAX_REQUEST_BODY} bytes"),
        )
        .into_response()
    };
    if declared.is_some_and(|n| n > MAX_REQUEST_BODY as u64) {
        return too_large();
    }
    let timeout = state.body_timeout();
    let bytes = match tokio::time::timeout(timeout, read_limited(body, MAX_REQUEST_BODY)).await {
        Ok(Ok(b)) => b,
        Ok(Err(BodyError::TooLarge)) => return too_large(),
        Ok(Err(BodyError::Broken)) => {
            return ApiError::bad_request("the request body could not be read").into_response();
        }
        Err(_) => {
            tracing::debug!(path = %parts.uri.path(), "request body too slow");
            let mut r = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} seconds",
                    timeout.as_secs()
                ),
            )
            .into_response();
            r.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
            return r;
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The origin (`scheme://host[:port]`) browsers use for `public_url`.
pub fn origin_of(public_url: &str) -> Option<String> {
    url::Url::parse(public_url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}

/// Refuses state-changing requests from another origin.
pub async fn same_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    if !safe && let Some(origin) = req.headers().get(header::ORIGIN) {
        let ours = origin_of(&state.inner.config.server.public_url);
        let given = origin.to_str().unwrap_or_default().trim_end_matches('/');
        if ours.as_deref() != Some(given) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "cross_origin",
                "requests that change something must come from the integration's own pages",
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// Rewrites a non-JSON error answer (from an extractor's rejection or the router) as the API's
/// `{"error":{"code","message"}}`.
pub async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = match read_limited(body, 64 * 1024).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("refused")
            .to_lowercase()
    } else {
        text
    };
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let mut out = ApiError::new(status, code, message).into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

/// The JSON 404 for paths no route serves.
pub async fn not_found() -> Response {
    ApiError::not_found("no such page or API endpoint").into_response()
}
