//! `/settings/profiles`: the org's profiles (profiles.json, zoho-crm-api.md "Added specs").
//!
//! A profile decides what a user may do in Zoho CRM; the system profile **Administrator** has
//! every permission ("Users with Administrator profile will be able to view and manage all the
//! data within the organization account by default"), **Standard** has all "except
//! administrative privileges". Both are system profiles (`custom: false`); profile names are
//! unique in an org, so no custom profile can be called Administrator. This is how a client
//! tells a CRM administrator from other users: the `profile` of `GET /users/{id}` (or
//! `?type=CurrentUser`), then that profile here.
//!
//! Choices where Zoho's docs are silent \[I\]: every user may read the profiles (the docs list
//! no permission error for reading them); the list leaves out `permissions_details` and
//! `sections`, which "are rendered only when you fetch a specific profile"; system profiles
//! carry `null` creation and modification details, as in Zoho's samples; the permissions
//! listed are the one the simulator enforces (`Crm_Implied_Customize_Zoho_CRM`, needed to
//! create fields) and the modules' view permissions. An unknown id answers 204 (the spec's
//! only other status).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::records::CrmCtx;
use super::zoho_json;

/// The system Administrator profile: (name, id).
pub(crate) const ADMINISTRATOR: (&str, &str) = ("Administrator", "5725767000000026011");
/// The system Standard profile: (name, id).
pub(crate) const STANDARD: (&str, &str) = ("Standard", "5725767000000026014");

/// The profile named `name` (as `/_sim/config`'s `user_profiles` gives it).
pub(crate) fn by_name(name: &str) -> Option<(&'static str, &'static str)> {
    [ADMINISTRATOR, STANDARD]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
}

fn profile_json(profile: (&str, &str), detail: bool, modules: &[&str]) -> Value {
    let admin = profile == ADMINISTRATOR;
    let description = if admin {
        "This profile will have all the permissions. Users with Administrator profile will be able to view and manage all the data within the organization account by default."
    } else {
        "This profile will have all the permissions except administrative privileges."
    };
    let mut v = json!({
        "created_by": null,
        "created_time": null,
        "custom": false,
        "description": description,
        "display_label": profile.0,
        "id": profile.1,
        "modified_by": null,
        "modified_time": null,
        "name": profile.0,
        "type": "normal_profile",
        "category": false,
    });
    if detail {
        let mut permissions = vec![json!({
            "id": format!("{}01", &profile.1[..profile.1.len() - 2]),
            "enabled": admin,
            "name": "Crm_Implied_Customize_Zoho_CRM",
            "display_label": "Customize Zoho CRM",
            "module": "Setup",
        })];
        for (i, m) in modules.iter().enumerate() {
            permissions.push(json!({
                "id": format!("{}{:02}", &profile.1[..profile.1.len() - 2], 10 + i),
                "enabled": true,
                "name": format!("{m}_View"),
                "display_label": "View",
                "module": m,
            }));
        }
        v["permissions_details"] = Value::Array(permissions);
        v["sections"] = json!([]);
    }
    v
}

/// `GET /settings/profiles` and `GET /settings/profiles/{id}`.
pub(crate) fn get(ctx: &mut CrmCtx<'_>, id: Option<&str>) -> Response {
    let modules: Vec<&str> = ctx.data.modules.iter().map(|m| m.api_name).collect();
    let list: Vec<Value> = [ADMINISTRATOR, STANDARD]
        .into_iter()
        .filter(|p| id.is_none_or(|id| p.1 == id))
        .map(|p| profile_json(p, id.is_some(), &modules))
        .collect();
    if list.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    zoho_json(StatusCode::OK, &json!({ "profiles": list }))
}
