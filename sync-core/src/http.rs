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

/// The length of the longest prefix of `bytes` that does not end inside a UTF-8 character: where
/// a body arriving in pieces can be cut into text parts ([`crate::Engine::handle_response_part`]).
#[must_use]
pub fn text_prefix_len(bytes: &[u8]) -> usize {
    let len = bytes.len();
    // A character is at most 4 bytes: look back for the start of the last one.
    for back in 1..=len.min(4) {
        let b = bytes[len - back];
        if b & 0xC0 != 0x80 {
            let width = match b {
                0x00..=0x7F => 1,
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
            return if width > back { len - back } else { len };
        }
    }
    len
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
    fn text_prefixes_end_between_characters() {
        let s = "aé予😀".as_bytes();
        // Cut after every byte: the prefix ends where the character cut into starts.
        let expect = [0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10];
        for (len, want) in expect.iter().enumerate() {
            assert_eq!(text_prefix_len(&s[..len]), *want, "{len}");
        }
    }

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
