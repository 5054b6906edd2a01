//! `/api/pim-v1`: the caller's own mailbox (domino-rest-api.md §5).

use super::errors::Answer;
use super::{DrapiState, Req, not_found};

/// Route a PIM request.
pub(crate) fn route(_state: &DrapiState, req: &Req<'_>, path: &str) -> Answer {
    Err(not_found(&req.method, path))
}
