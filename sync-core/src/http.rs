//! The HTTP exchange between the engine and its embedder: the engine asks for a
//! [`HttpRequest`]; the embedder performs it against the side's server (adding credentials)
//! and hands back an [`HttpResponse`] or a [`TransportError`].

use serde::{Deserialize, Serialize};

use crate::model::Side;

/// One header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// A request the engine wants made.
///
/// `path` is the path and query, relative to the side's base URL: the Domino server for
/// [`Side::Notes`], the Zoho API domain for [`Side::Crm`]. The engine never adds credentials;
/// the embedder adds `Authorization` (Basic for Domino, `Zoho-oauthtoken` for Zoho) and refreshes
/// the Zoho access token when Zoho answers `INVALID_TOKEN`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// Identifies the answer in [`crate::Engine::handle_response`].
    pub id: u64,
    /// Which server.
    pub side: Side,
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Extra headers.
    pub headers: Vec<Header>,
    /// A JSON body.
    pub body: Option<String>,
}

/// A server's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (names compared case-insensitively).
    pub headers: Vec<Header>,
    /// Body text.
    pub body: String,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}

/// Why no response came back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportErrorKind {
    /// The connection could not be made: the request never reached the server.
    Connect,
    /// No answer in time: the server may or may not have acted on it.
    Timeout,
    /// The connection broke or the answer was unreadable: the server may have acted on it.
    Other,
}

/// A failed exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    /// What kind of failure.
    pub kind: TransportErrorKind,
    /// Details for the report.
    pub message: String,
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved characters stay).
#[must_use]
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Encodes a database path like `mail/jdoe.nsf` keeping its slashes.
#[must_use]
pub fn encode_path(s: &str) -> String {
    s.split('/').map(encode).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_hidden_view_names_and_offsets() {
        assert_eq!(encode("($Contacts)"), "%28%24Contacts%29");
        assert_eq!(
            encode("2026-11-25T17:36:00+09:00"),
            "2026-11-25T17%3A36%3A00%2B09%3A00"
        );
        assert_eq!(encode_path("mail/j doe.nsf"), "mail/j%20doe.nsf");
    }
}
