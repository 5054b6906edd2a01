//! The admin's CRM set-up: the fields every feature needs, made in Zoho CRM by the
//! integration's admin. Creating a field needs Zoho's "Customize Zoho CRM" permission, which a
//! CRM administrator has and other users do not (`NO_PERMISSION`), so no other user's sync or
//! Schedule Meeting is left to make them.
//!
//! The fields: the External-ID text field `Notes_UNID` on Contacts, Tasks and Events (the
//! cross-IDs, DESIGN §4.3), as the sync engine makes it.
//!
//! - `GET /api/setup` (any user of the integration) → `{ready, fields:[{module, field,
//!   present}]}`.
//! - `POST /api/setup` (the admin) → makes the missing fields, then answers the same.
//!
//! The admin's sign-in that installs the integration (or makes them the admin) runs the set-up
//! too; if Zoho does not answer then, Manage Users offers it again.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use sync_core::Module;
use sync_core::mapping::{CRM_XREF_FIELD, CRM_XREF_LABEL};

use super::auth::{Admin, Member};
use super::{ApiError, AppState, zoho};

/// The modules that need the cross-ID field.
pub const MODULES: [Module; 3] = [Module::Contacts, Module::Tasks, Module::Events];

/// The admin step that makes the fields, as Manage Users names it.
pub const ADMIN_STEP: &str = "the integration's admin opens Settings → Manage Users → CRM set-up and chooses Create the fields";

fn fields_path(module: Module) -> String {
    format!("settings/fields?module={}", module.crm_api_name())
}

/// Whether `module` has the cross-ID field, asked with `token`.
async fn has_field(state: &AppState, token: &str, module: Module) -> Result<bool, ApiError> {
    let (status, v) = zoho::crm_call(
        state,
        reqwest::Method::GET,
        token,
        &fields_path(module),
        None,
    )
    .await?;
    if status != 200 {
        return Err(ApiError::upstream(format!(
            "could not read the Zoho field settings of {} (HTTP {status}: {})",
            module.crm_api_name(),
            zoho::crm_error_text(&v)
        )));
    }
    Ok(v.get("fields").and_then(Value::as_array).is_some_and(|fs| {
        fs.iter()
            .any(|f| f.get("api_name").and_then(Value::as_str) == Some(CRM_XREF_FIELD))
    }))
}

/// Which modules lack the field.
///
/// # Errors
/// When Zoho does not answer.
pub async fn missing(state: &AppState, token: &str) -> Result<Vec<Module>, ApiError> {
    let mut out = Vec::new();
    for m in MODULES {
        if !has_field(state, token, m).await? {
            out.push(m);
        }
    }
    Ok(out)
}

/// Makes the missing fields with `token` (a CRM administrator's).
///
/// # Errors
/// When Zoho does not answer or refuses a field.
pub async fn ensure(state: &AppState, token: &str) -> Result<(), ApiError> {
    for m in missing(state, token).await? {
        let body = json!({"fields": [{
            "field_label": CRM_XREF_LABEL, "data_type": "text", "length": 255,
            "external": {"type": "org", "show": true}
        }]});
        let (status, v) = zoho::crm_call(
            state,
            reqwest::Method::POST,
            token,
            &fields_path(m),
            Some(&body),
        )
        .await?;
        if !(200..300).contains(&status) {
            return Err(ApiError::upstream(format!(
                "Zoho CRM did not create the {CRM_XREF_FIELD} field on {} (HTTP {status}: {})",
                m.crm_api_name(),
                zoho::crm_error_text(&v)
            )));
        }
        tracing::info!(
            module = m.crm_api_name(),
            "set-up: {CRM_XREF_FIELD} created"
        );
    }
    Ok(())
}

fn status_json(missing: &[Module]) -> Value {
    let fields: Vec<Value> = MODULES
        .iter()
        .map(|m| {
            json!({ "module": m.crm_api_name(), "field": CRM_XREF_FIELD,
                    "present": !missing.contains(m) })
        })
        .collect();
    json!({ "ready": missing.is_empty(), "fields": fields })
}

/// `GET /api/setup`.
pub async fn get_setup(
    State(state): State<AppState>,
    Member { user }: Member,
) -> Result<Json<Value>, ApiError> {
    let token = zoho::access_token(&state, &user, false).await?;
    Ok(Json(status_json(&missing(&state, &token).await?)))
}

/// `POST /api/setup` (admin).
pub async fn post_setup(
    State(state): State<AppState>,
    Admin { user }: Admin,
) -> Result<Json<Value>, ApiError> {
    let token = zoho::access_token(&state, &user, false).await?;
    ensure(&state, &token).await?;
    Ok(Json(status_json(&missing(&state, &token).await?)))
}
