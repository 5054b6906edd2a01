//! `GET /settings/modules[/{api_name|id}]` (modules.json): the modules the simulator has, with
//! every key the v8 OAS requires. Unknown module → 204.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::model::{Module, ZohoData, fmt_time};
use super::records::CrmCtx;
use super::{zoho_error, zoho_json};
use crate::common::param;

/// `(singular, plural)` label of a module as the CRM shows it (Events are "Meetings").
pub(crate) fn labels(api_name: &str) -> (&'static str, &'static str) {
    match api_name {
        "Contacts" => ("Contact", "Contacts"),
        "Tasks" => ("Task", "Tasks"),
        "Accounts" => ("Account", "Accounts"),
        "Events" => ("Meeting", "Meetings"),
        _ => ("Record", "Records"),
    }
}

fn module_json(data: &ZohoData, m: &Module, seq: usize, tz: Tz) -> Value {
    let (singular, plural) = labels(m.api_name);
    let admin = data.users.first();
    let modified_by = admin.map_or_else(|| json!({ "name": "", "id": null }), |u| u.name_id());
    let display = match m.api_name {
        "Contacts" => "Full_Name",
        "Tasks" => "Subject",
        "Accounts" => "Account_Name",
        "Events" => "Event_Title",
        _ => "Name",
    };
    let display_id = m.field(display).map(|f| f.id.clone());
    let activity = matches!(m.api_name, "Tasks" | "Events");
    json!({
        "has_more_profiles": false,
        "sub_menu_available": false,
        "common.search_supported": true,
        "deletable": false,
        "description": null,
        "creatable": true,
        "recycle_bin_on_delete": true,
        "inventory_template_supported": false,
        "modified_time": fmt_time(data.org_created, tz),
        "plural_label": plural,
        "presence_sub_menu": false,
        "triggers_supported": true,
        "id": m.id,
        "chart_view": false,
        "isBlueprintSupported": !activity,
        "visibility": 1,
        "visible": true,
        "convertable": false,
        "editable": true,
        "emailTemplate_support": m.api_name == "Contacts",
        "email_parser_supported": false,
        "filter_supported": true,
        "show_as_tab": !activity,
        "web_link": null,
        "sequence_number": seq + 1,
        "singular_label": singular,
        "viewable": true,
        "api_supported": true,
        "api_name": m.api_name,
        "quick_create": true,
        "generated_type": "default",
        "feeds_required": false,
        "scoring_supported": !activity,
        "webform_supported": m.api_name == "Contacts",
        "arguments": [],
        "module_name": plural,
        "chart_view_supported": true,
        "profile_count": 2,
        "business_card_field_limit": 5,
        "track_current_data": false,
        "modified_by": modified_by,
        "profiles": [],
        "parent_module": if activity { json!({ "api_name": "Activities", "id": "5725767000000002183" }) } else { Value::Null },
        "activity_badge": "Disabled",
        "$field_states": [],
        "business_card_fields": [],
        "per_page": 200,
        "$properties": [],
        "$on_demand_properties": [],
        "search_layout_fields": [],
        "kanban_view_supported": !activity,
        "lookup_field_properties": { "fields": [] },
        "kanban_view": false,
        "related_lists": [],
        "filter_status": true,
        "related_list_properties": {
            "sort_by": { "api_name": null, "id": null },
            "fields": [],
            "sort_order": null,
        },
        "display_field": { "api_name": display, "id": display_id },
        "layouts": [],
        "fields": [],
        "custom_view": super::views::default_view_json(data, m, tz),
        "zia_view": false,
        "default_mapping_fields": [],
        "layout_associations": [],
        "status": "visible",
    })
}

/// `GET /settings/modules` (optional `status`) and `GET /settings/modules/{api_name|id}`.
pub(crate) fn modules(ctx: &CrmCtx<'_>, which: Option<&str>) -> Response {
    if let Some(status) = param(&ctx.query, "status")
        && !matches!(
            status,
            "visible" | "scheduled_for_deletion" | "user_hidden" | "system_hidden"
        )
    {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "INVALID_DATA",
            "invalid data",
            // modules.json's INVALID_DATA details name the parameter in `api_name` and
            // `json_path`; `param_name` is what the other Zoho APIs use.
            json!({ "api_name": "status", "json_path": "status", "param_name": "status" }),
        );
    }
    let hidden_only = param(&ctx.query, "status").is_some_and(|s| s != "visible");
    let tz = ctx.tz();
    let list: Vec<Value> = ctx
        .data
        .modules
        .iter()
        .enumerate()
        .filter(|(_, m)| which.is_none_or(|w| m.api_name.eq_ignore_ascii_case(w) || m.id == w))
        .filter(|_| !hidden_only)
        .map(|(i, m)| module_json(ctx.data, m, i, tz))
        .collect();
    if list.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    zoho_json(StatusCode::OK, &json!({ "modules": list }))
}
