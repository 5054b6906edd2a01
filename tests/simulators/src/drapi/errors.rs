//! The two error bodies (domino-rest-api.md §6.1): basis and setup `{"status","message",
//! "details"[,"errorId"]}`, PIM `{"code","message"}`, and the JSON answers around them.

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Which API answers: the error body differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    /// `/api/v1` and `/api/setup-v1`: `{"status","message","details"}`.
    Basis,
    /// `/api/pim-v1`: `{"code","message"}`.
    Pim,
}

/// An error answer before it is rendered: status, message, optional `errorId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub error_id: Option<u32>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            error_id: None,
        }
    }

    pub(crate) fn with_id(mut self, id: u32) -> ApiError {
        self.error_id = Some(id);
        self
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// The answer in `api`'s error shape.
    pub(crate) fn render(&self, api: Api) -> Response {
        json_answer(self.status, &self.body(api))
    }

    /// The body in `api`'s shape (also used as a per-item result of bulk calls).
    pub(crate) fn body(&self, api: Api) -> Value {
        let code = self.status.as_u16();
        let mut body = match api {
            Api::Basis => json!({
                "status": code,
                "message": self.message,
                "details": format!(
                    "{} {}: {}",
                    code,
                    self.status.canonical_reason().unwrap_or("Error"),
                    self.message
                ),
            }),
            Api::Pim => json!({ "code": code, "message": self.message }),
        };
        if let (Some(id), Value::Object(m)) = (self.error_id, &mut body) {
            m.insert("errorId".into(), json!(id));
        }
        body
    }
}

/// A JSON answer.
pub(crate) fn json_answer(status: StatusCode, value: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(value).unwrap_or_default(),
    )
        .into_response()
}

/// A JSON array sent as the server sends lists: streamed (chunked, no `Content-Length`,
/// domino-rest-api.md §3.2).
pub(crate) fn streamed_array(items: Vec<Value>) -> Response {
    let text = serde_json::to_string(&Value::Array(items)).unwrap_or_else(|_| "[]".into());
    let bytes = Bytes::from(text);
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(bytes) });
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// A handler's result: the answer, or the error that replaces it.
pub(crate) type Answer = Result<Response, ApiError>;
