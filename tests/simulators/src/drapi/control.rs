//! `/_sim/` routes of the Domino REST API's port. Dump, load and reset act on the Domino server
//! it shares with DAS (the same shapes as on the DAS port, `"drapi"` included); config shows
//! and changes the REST API's settings, scopes and schemas.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::DrapiState;
use crate::common::control_error;

pub(crate) async fn get_dump(State(s): State<DrapiState>) -> Response {
    Json(s.domino.dump()).into_response()
}

/// Loads a dump into the shared Domino server (the DAS port's `/_sim/load`).
pub(crate) async fn post_load(State(s): State<DrapiState>, body: Bytes) -> Response {
    crate::domino::control::post_load(State(s.domino.clone()), body).await
}

/// Resets the shared Domino server (the DAS port's `/_sim/reset`).
pub(crate) async fn post_reset(
    State(s): State<DrapiState>,
    q: Query<crate::domino::control::ResetQuery>,
) -> Response {
    crate::domino::control::post_reset(State(s.domino.clone()), q).await
}

/// `{"settings":{…},"scopes":[…],"schemas":[…]}`.
pub(crate) async fn get_config(State(s): State<DrapiState>) -> Response {
    Json(s.config().dump()).into_response()
}

/// Change settings, scopes and schemas (shape in the `drapi` module docs); `expire_tokens`
/// restarts the token issuer. A bad request changes nothing.
pub(crate) async fn post_config(State(s): State<DrapiState>, body: Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return control_error(&format!("invalid JSON: {e}")),
    };
    let restart = match v.get("expire_tokens") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return control_error("expire_tokens must be true or false"),
    };
    let dump = {
        let mut config = s.config();
        let mut copy = config.clone();
        if let Err(e) = copy.apply(&v) {
            return control_error(&e);
        }
        *config = copy;
        config.dump()
    };
    if restart {
        s.shared().restart();
    }
    Json(dump).into_response()
}
