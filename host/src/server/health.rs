//! `/healthz` and `/readyz`, for load balancers and orchestrators. Both answer JSON made of
//! fixed codes only (nothing about users, no error text that could hold a URL).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::AppState;

/// `GET /healthz` → 200 `{"status":"alive"}`: the process serves requests.
pub async fn alive() -> Json<Value> {
    Json(json!({ "status": "alive" }))
}

/// `GET /readyz` → 200 `{"status":"ready","store":"ok","jobs":"ok"|"off"}` when the store and
/// the job queue of scheduled syncs answer (`"off"`: this replica runs no scheduled syncs);
/// else 503 with `"unavailable"` for the part that does not.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let store = match state.store().ping().await {
        Ok(()) => "ok",
        Err(e) => {
            tracing::warn!(error = %e, "readyz: the store does not answer");
            "unavailable"
        }
    };
    let jobs = match state.job_queue() {
        None => "off",
        Some(queue) => match queue.ping().await {
            Ok(()) => "ok",
            Err(e) => {
                tracing::warn!(error = %e, "readyz: the job queue does not answer");
                "unavailable"
            }
        },
    };
    let ready = store == "ok" && jobs != "unavailable";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if ready { "ready" } else { "unavailable" },
            "store": store,
            "jobs": jobs,
        })),
    )
}
