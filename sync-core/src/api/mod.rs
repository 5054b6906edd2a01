//! The two APIs a sync speaks, one file per side: the paths the engine asks for and the words
//! it uses for their answers. The engine's stages build requests from these and parse answers
//! with them; nothing here keeps state.

pub(crate) mod domino;
pub(crate) mod zoho;

use serde_json::Value;

use crate::http::HttpResponse;

/// An answer's body as JSON; `None` when it is empty or not JSON.
pub(crate) fn parse_json(resp: &HttpResponse) -> Option<Value> {
    if resp.body.trim().is_empty() {
        return None;
    }
    serde_json::from_str(&resp.body).ok()
}

/// A status worth retrying in a later run (rate limits and server errors).
pub(crate) fn is_transient(status: u16) -> bool {
    status == 429 || status >= 500
}
