//! Change owner (change_owner.json): `POST /{module}/actions/change_owner` with
//! `{"ids":[…],"owner":{"id"},"notify","related_modules":[{"api_name","id"}]}` and
//! `POST /{module}/{id}/actions/change_owner` with the same body without `ids`.
//!
//! The simulator's choices (the reference says nothing of this API; the shapes are the spec's):
//! - Scope: `ZohoCRM.change_owner.{CREATE|ALL}`, or a module scope that allows updates
//!   (`ZohoCRM.modules.ALL`, `…{module}.{ALL|UPDATE|WRITE}`); else 401 `OAUTH_SCOPE_MISMATCH`
//!   "Client does not have ZohoCRM.change_owner.CREATE scope".
//! - Request errors (400): a body that is not a JSON object → `INVALID_DATA` "body"; no or
//!   empty `ids` (mass form) → `MANDATORY_NOT_FOUND` on `ids`; more than 500 ids →
//!   `INVALID_DATA` "ids limit exceeded" (`api_name` `ids`, `limit` 500); no `owner.id` →
//!   `MANDATORY_NOT_FOUND` on `owner`; an owner who is not a user of the org → `INVALID_DATA`
//!   "the owner id given is invalid" with `details.param_name` `owner` (the spec's
//!   `Invalid_Param_API_Exception`).
//! - Per record, in input order: `{"code":"SUCCESS","details":{"id"},"message":"owner is
//!   successfully updated","status":"success"}`, or `INVALID_DATA` "the id given seems to be
//!   invalid" with `details.id` for an unknown id. Status 202 when any record changed owner
//!   (the spec's `MixedResponse`; crm-oas describes no other success status), 400 when none did.
//! - A changed record gets the new owner, `Modified_Time` now and `Modified_By` the caller
//!   (also when the owner was already that user). `related_modules` entries naming an existing
//!   Task or Event (by `api_name` and `id`, or by `id` alone when the name is wrong, as the
//!   docs describe) change owner too; others are ignored. `notify` is accepted and ignored.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::records::{CrmCtx, body_error};
use super::{error_body, zoho_error, zoho_json};

/// Record ids per mass change (the v8 docs: "up to 500 record IDs").
const MAX_IDS: usize = 500;

/// Whether `scope` allows changing owners in `module`.
fn allowed(scope: &str, module: &str) -> bool {
    let own = scope.split([' ', ',']).any(|s| {
        s.eq_ignore_ascii_case("ZohoCRM.change_owner.CREATE")
            || s.eq_ignore_ascii_case("ZohoCRM.change_owner.ALL")
    });
    own || super::oauth::scope_allows(scope, module, "UPDATE")
}

fn mandatory(name: &str) -> Response {
    zoho_error(
        StatusCode::BAD_REQUEST,
        "MANDATORY_NOT_FOUND",
        "required field not found",
        json!({ "api_name": name, "json_path": format!("$.{name}") }),
    )
}

fn id_text(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::to_owned)
        .or_else(|| v.as_u64().map(|n| n.to_string()))
}

/// The record ids a request names: the path's, or the body's `ids`.
fn record_ids(body: &Map<String, Value>, path_id: Option<&str>) -> Result<Vec<String>, Response> {
    if let Some(id) = path_id {
        return Ok(vec![id.to_owned()]);
    }
    let ids: Vec<String> = match body.get("ids") {
        Some(Value::Array(list)) => list.iter().filter_map(id_text).collect(),
        _ => Vec::new(),
    };
    if ids.is_empty() {
        return Err(mandatory("ids"));
    }
    if ids.len() > MAX_IDS {
        return Err(zoho_error(
            StatusCode::BAD_REQUEST,
            "INVALID_DATA",
            "ids limit exceeded",
            json!({ "api_name": "ids", "json_path": "$.ids", "limit": MAX_IDS }),
        ));
    }
    Ok(ids)
}

/// `POST /{module}/actions/change_owner` (`path_id` `None`) and
/// `POST /{module}/{id}/actions/change_owner`.
pub(crate) fn change_owner(
    ctx: &mut CrmCtx<'_>,
    mi: usize,
    module: &str,
    path_id: Option<&str>,
) -> Response {
    if !allowed(&ctx.scope, module) {
        return zoho_error(
            StatusCode::UNAUTHORIZED,
            "OAUTH_SCOPE_MISMATCH",
            "Client does not have ZohoCRM.change_owner.CREATE scope",
            json!({}),
        );
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(ctx.body) else {
        return body_error();
    };
    let ids = match record_ids(&body, path_id) {
        Ok(ids) => ids,
        Err(r) => return r,
    };
    let Some(owner) = body
        .get("owner")
        .and_then(|o| o.get("id"))
        .and_then(id_text)
    else {
        return mandatory("owner");
    };
    if ctx.data.user(&owner).is_none() {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "INVALID_DATA",
            "the owner id given is invalid",
            json!({ "param_name": "owner" }),
        );
    }
    let mut results = Vec::with_capacity(ids.len());
    for given in &ids {
        let changed = given
            .parse::<u64>()
            .ok()
            .is_some_and(|id| reassign(ctx, mi, id, &owner));
        results.push(if changed {
            Ok(json!({
                "code": "SUCCESS",
                "details": { "id": given },
                "message": "owner is successfully updated",
                "status": "success",
            }))
        } else {
            Err(error_body(
                "INVALID_DATA",
                "the id given seems to be invalid",
                json!({ "id": given }),
            ))
        });
    }
    // Related activities follow only when a record did.
    if results.iter().any(Result::is_ok) {
        for related in body
            .get("related_modules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            reassign_related(ctx, related, &owner);
        }
    }
    let status = if results.iter().any(Result::is_ok) {
        StatusCode::ACCEPTED
    } else {
        StatusCode::BAD_REQUEST
    };
    let data: Vec<Value> = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| e))
        .collect();
    zoho_json(status, &json!({ "data": data }))
}

/// Give record `id` of module `mi` to `owner`; whether it exists.
fn reassign(ctx: &mut CrmCtx<'_>, mi: usize, id: u64, owner: &str) -> bool {
    let Some(mut record) = ctx.data.modules[mi].records.get_mut(id) else {
        return false;
    };
    owner.clone_into(&mut record.owner);
    record.modified = ctx.now;
    record.modified_by.clone_from(&ctx.user_id);
    true
}

/// A `related_modules` entry: an activity that follows the record to its new owner.
fn reassign_related(ctx: &mut CrmCtx<'_>, related: &Value, owner: &str) {
    let Some(id) = related
        .get("id")
        .and_then(id_text)
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return;
    };
    let named = related
        .get("api_name")
        .and_then(Value::as_str)
        .and_then(|m| ctx.data.module_index(m))
        .filter(|mi| matches!(ctx.data.modules[*mi].api_name, "Tasks" | "Events"));
    let activities: Vec<usize> = ["Tasks", "Events"]
        .iter()
        .filter_map(|m| ctx.data.module_index(m))
        .collect();
    let candidates = named.into_iter().chain(activities);
    for mi in candidates.collect::<Vec<_>>() {
        if reassign(ctx, mi, id, owner) {
            return;
        }
    }
}
