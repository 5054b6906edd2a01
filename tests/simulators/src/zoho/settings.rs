//! `/settings/fields` (read and create custom fields), `/users`, `/org`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::model::{External, FieldDef, User, ZohoData, field_json, fmt_time};
use super::records::CrmCtx;
use super::{error_body, zoho_error, zoho_json};
use crate::common::param;

/// Most unique (or external) fields a module may have.
const MAX_UNIQUE_FIELDS: usize = 2;

fn user_json(data: &ZohoData, u: &User, tz: chrono_tz::Tz) -> Value {
    let offset_ms = {
        use chrono::Offset;
        let now = chrono::Utc::now().with_timezone(&u.time_zone);
        i64::from(now.offset().fix().local_minus_utc()) * 1000
    };
    let admin = data.users.first().map_or(u, |a| a);
    json!({
        "country": if u.time_zone == chrono_tz::Asia::Tokyo { "JP" } else { "US" },
        "language": "en_US",
        "microsoft": false,
        "id": u.id,
        "state": null,
        "fax": null,
        "country_locale": "en_US",
        "zip": null,
        "created_time": fmt_time(u.created, tz),
        "time_format": "HH:mm",
        "offset": offset_ms,
        "profile": { "name": u.profile.0, "id": u.profile.1 },
        "role": { "name": u.role.0, "id": u.role.1 },
        "created_by": { "name": admin.full_name(), "id": admin.id },
        "full_name": u.full_name(),
        "zuid": u.zuid,
        "phone": null,
        "dob": null,
        "status": "active",
        "customize_info": {
            "notes_desc": null, "show_right_panel": null, "bc_view": null,
            "unpin_recent_item": null, "show_home": false, "show_detail_view": true,
        },
        "city": null,
        "signature": null,
        "sort_order_preference__s": "First Name,Last Name",
        "category": "regular_user",
        "date_format": "MMM d, yyyy",
        "confirm": true,
        "decimal_separator": "Period",
        "number_separator": "Space",
        "time_zone": u.time_zone.name(),
        "last_name": u.last_name,
        "mobile": null,
        "Modified_Time": fmt_time(u.created, tz),
        "website": null,
        "status_reason__s": null,
        "email": u.email,
        "first_name": u.first_name,
        "sandboxDeveloper": false,
        "alias": null,
        "street": null,
        "Modified_By": { "name": admin.full_name(), "id": admin.id, "last_name": admin.last_name, "first_name": admin.first_name },
        "Isonline": true,
        "locale": "en_US",
        "name_format__s": "Salutation,First Name,Last Name",
        "personal_account": false,
        "default_tab_group": "0",
        "sort_order_preference": "First Name,Last Name",
    })
}

/// `GET /users?type=…` and `GET /users/{id}`.
pub(crate) fn users(ctx: &mut CrmCtx<'_>, id: Option<&str>) -> Response {
    let tz = ctx.tz();
    let kind = param(&ctx.query, "type").unwrap_or("AllUsers");
    let selected: Vec<&User> = match id {
        Some(id) => ctx.data.users.iter().filter(|u| u.id == id).collect(),
        None => match kind {
            "AllUsers" | "ActiveUsers" | "ActiveConfirmedUsers" | "ConfirmedUsers" => {
                ctx.data.users.iter().collect()
            }
            "CurrentUser" => ctx
                .data
                .users
                .iter()
                .filter(|u| u.id == ctx.user_id)
                .collect(),
            "AdminUsers" | "ActiveConfirmedAdmins" => {
                ctx.data.users.iter().filter(|u| u.admin).collect()
            }
            "DeactiveUsers" | "NotConfirmedUsers" | "DeletedUsers" => Vec::new(),
            _ => {
                return zoho_error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_DATA",
                    "invalid data",
                    json!({ "param_name": "type" }),
                );
            }
        },
    };
    if selected.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let list: Vec<Value> = selected
        .iter()
        .map(|u| user_json(ctx.data, u, tz))
        .collect();
    let count = list.len();
    zoho_json(
        StatusCode::OK,
        &json!({ "users": list, "info": { "per_page": 200, "count": count, "page": 1, "more_records": false } }),
    )
}

/// `GET /org`.
pub(crate) fn org(ctx: &mut CrmCtx<'_>) -> Response {
    let tz = ctx.tz();
    let admin = ctx.data.users.first();
    let primary_email = admin.map(|u| u.email.clone()).unwrap_or_default();
    let primary_zuid = admin.map(|u| u.zuid.clone()).unwrap_or_default();
    let licences = i64::from(ctx.data.licences);
    let expiry = ctx.data.org_created + chrono::Duration::days(365 * 3);
    zoho_json(
        StatusCode::OK,
        &json!({ "org": [{
            "country": "Japan",
            "photo_id": null,
            "city": "Tokyo",
            "description": null,
            "mc_status": false,
            "gapps_enabled": false,
            "domain_name": "org5725767",
            "translation_enabled": true,
            "street": "1-9-2 Marunouchi",
            "alias": null,
            "currency": "Japanese Yen - JPY",
            "id": super::model::ORG_ID,
            "state": "Tokyo",
            "fax": null,
            "employee_count": "25",
            "zip": "100-0005",
            "website": "www.example.com",
            "currency_symbol": "¥",
            "mobile": null,
            "currency_locale": "ja_JP",
            "primary_zuid": primary_zuid,
            "zia_portal_id": null,
            "time_zone": "Asia/Tokyo",
            "zgid": "5725767",
            "country_code": "JP",
            "license_details": {
                "paid_expiry": fmt_time(expiry, tz),
                "users_license_purchased": licences,
                "trial_type": null,
                "trial_expiry": null,
                "paid": true,
                "paid_type": "enterprise",
                "trial_action": "",
            },
            "phone": "+81 3-5555-0100",
            "company_name": "Demo Company",
            "privacy_settings": false,
            "primary_email": primary_email,
            "hipaa_compliance_enabled": false,
            "iso_code": "JPY",
            "deletable_org_account": false,
            "lite_users_enabled": false,
            "max_per_page": 200,
            "ezgid": "5725767e",
            "call_icon": "",
            "oauth_presence": true,
            "zia_zgid": 0,
            "checkin_preferences": { "restricted_event_types": null },
            "hierarchy_preferences": { "type": "Role_Hierarchy", "strictly_reporting": false },
            "type": "Production",
            "created_time": fmt_time(ctx.data.org_created, tz),
        }]}),
    )
}

fn module_param(ctx: &CrmCtx<'_>) -> Result<usize, Response> {
    let Some(name) = param(&ctx.query, "module") else {
        return Err(zoho_error(
            StatusCode::BAD_REQUEST,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({ "param_name": "module" }),
        ));
    };
    // fields.json's INVALID_MODULE names the parameter in `api_name` (InvalidParamDetails).
    ctx.data.module_index(name).ok_or_else(|| {
        zoho_error(
            StatusCode::BAD_REQUEST,
            "INVALID_MODULE",
            "The module name given seems to be invalid",
            json!({ "api_name": "module" }),
        )
    })
}

/// `GET /settings/fields?module=…` and `GET /settings/fields/{id}?module=…`.
pub(crate) fn fields(ctx: &mut CrmCtx<'_>, id: Option<&str>) -> Response {
    let mi = match module_param(ctx) {
        Ok(mi) => mi,
        Err(r) => return r,
    };
    let module = &ctx.data.modules[mi];
    let created = ctx.data.org_created;
    let list: Vec<Value> = module
        .fields
        .iter()
        .filter(|f| id.is_none_or(|id| f.id == id || f.api_name == id))
        .map(|f| field_json(f, module, created))
        .collect();
    if list.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    zoho_json(StatusCode::OK, &json!({ "fields": list }))
}

/// api_name of a custom field: the label with runs of other characters turned into `_`.
fn api_name_for(label: &str) -> String {
    let mut out = String::new();
    let mut pending = false;
    for c in label.trim().chars() {
        if c.is_ascii_alphanumeric() {
            if pending && !out.is_empty() {
                out.push('_');
            }
            pending = false;
            out.push(c);
        } else {
            pending = true;
        }
    }
    out
}

const CUSTOM_TYPES: &[(&str, u32, u32)] = &[
    // (data_type, default length, max length)
    ("text", 255, 255),
    ("textarea", 32000, 32000),
    ("email", 100, 100),
    ("phone", 30, 50),
    ("website", 255, 255),
    ("picklist", 120, 120),
    ("integer", 9, 9),
    ("bigint", 18, 18),
    ("double", 16, 16),
    ("currency", 16, 16),
    ("date", 20, 20),
    ("datetime", 120, 120),
    ("boolean", 5, 5),
];

fn field_error(code: &str, message: &str, i: usize, key: &str, extra: &[(&str, Value)]) -> Value {
    let mut details = Map::new();
    for (k, v) in extra {
        details.insert((*k).to_owned(), v.clone());
    }
    details.insert("api_name".into(), json!(key));
    details.insert("json_path".into(), json!(format!("$.fields[{i}].{key}")));
    error_body(code, message, Value::Object(details))
}

/// Validate one field definition of a `POST /settings/fields` body.
fn new_field(
    data: &ZohoData,
    mi: usize,
    v: &Value,
    i: usize,
    pending: &[FieldDef],
) -> Result<FieldDef, Value> {
    let module = &data.modules[mi];
    let Some(label) = v
        .get("field_label")
        .and_then(Value::as_str)
        .filter(|l| !l.trim().is_empty())
    else {
        return Err(field_error(
            "MANDATORY_NOT_FOUND",
            "required field not found",
            i,
            "field_label",
            &[],
        ));
    };
    let Some(data_type) = v.get("data_type").and_then(Value::as_str) else {
        return Err(field_error(
            "MANDATORY_NOT_FOUND",
            "required field not found",
            i,
            "data_type",
            &[],
        ));
    };
    let Some(&(_, default_len, max_len)) = CUSTOM_TYPES.iter().find(|(t, _, _)| *t == data_type)
    else {
        return Err(field_error(
            "INVALID_DATA",
            "invalid data",
            i,
            "data_type",
            &[],
        ));
    };
    let length = match v.get("length") {
        None | Some(Value::Null) => default_len,
        Some(l) => match l.as_u64().and_then(|l| u32::try_from(l).ok()) {
            Some(l) if (1..=max_len).contains(&l) => l,
            _ => {
                return Err(field_error(
                    "INVALID_DATA",
                    "invalid data",
                    i,
                    "length",
                    &[("maximum_length", json!(max_len))],
                ));
            }
        },
    };
    let api_name = api_name_for(label);
    if api_name.is_empty() {
        return Err(field_error(
            "INVALID_DATA",
            "invalid data",
            i,
            "field_label",
            &[],
        ));
    }
    let taken = module.fields.iter().chain(pending).any(|f| {
        f.api_name.eq_ignore_ascii_case(&api_name)
            || f.field_label.eq_ignore_ascii_case(label.trim())
    });
    if taken {
        // fields.json lists no DUPLICATE_DATA for this operation: a taken label is invalid data.
        return Err(field_error(
            "INVALID_DATA",
            "duplicate data",
            i,
            "field_label",
            &[],
        ));
    }
    let external = match v.get("external") {
        None | Some(Value::Null) => None,
        Some(e) => {
            let kind = e.get("type").and_then(Value::as_str).unwrap_or("org");
            if !matches!(kind, "org" | "user") || matches!(data_type, "email" | "textarea") {
                return Err(field_error(
                    "INVALID_DATA",
                    "invalid data",
                    i,
                    "external",
                    &[],
                ));
            }
            Some(External {
                kind: kind.to_owned(),
                show: e.get("show").and_then(Value::as_bool).unwrap_or(true),
            })
        }
    };
    let unique = match v.get("unique") {
        None | Some(Value::Null | Value::Bool(false)) => false,
        Some(_) => true,
    };
    let field = FieldDef {
        api_name,
        field_label: label.trim().to_owned(),
        data_type: data_type.to_owned(),
        length,
        system_mandatory: false,
        read_only: false,
        custom_field: true,
        unique,
        external,
        id: String::new(),
        lookup_module: None,
        pick_list: v
            .get("pick_list_values")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|p| {
                        p.get("display_value")
                            .or(Some(p))
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    if field.is_unique() {
        let unique: Vec<&FieldDef> = module
            .fields
            .iter()
            .chain(pending)
            .filter(|f| f.is_unique())
            .collect();
        if unique.len() >= MAX_UNIQUE_FIELDS {
            // fields.json's LimitError: `limit` and the fields that use it up.
            let due_to: Vec<Value> = unique
                .iter()
                .map(|f| json!({ "api_name": f.api_name, "json_path": format!("$.fields[{i}]") }))
                .collect();
            return Err(field_error(
                "LIMIT_EXCEEDED",
                "Max field limit exceeded",
                i,
                if field.external.is_some() {
                    "external"
                } else {
                    "unique"
                },
                &[
                    ("limit", json!(MAX_UNIQUE_FIELDS)),
                    ("limit_due_to", Value::Array(due_to)),
                ],
            ));
        }
    }
    Ok(field)
}

/// `POST /settings/fields?module=…` with `{"fields":[{…}]}`.
pub(crate) fn create_fields(ctx: &mut CrmCtx<'_>) -> Response {
    let mi = match module_param(ctx) {
        Ok(mi) => mi,
        Err(r) => return r,
    };
    if !ctx.data.user(&ctx.user_id).is_some_and(|u| u.admin) {
        return zoho_error(
            StatusCode::FORBIDDEN,
            "NO_PERMISSION",
            "permission denied",
            json!({ "permissions": ["Crm_Implied_Customize_Zoho_CRM"] }),
        );
    }
    let body: Value = match serde_json::from_slice(ctx.body) {
        Ok(v) => v,
        Err(_) => {
            return zoho_error(
                StatusCode::BAD_REQUEST,
                "INVALID_DATA",
                "body",
                json!({ "expected_data_type": "jsonobject" }),
            );
        }
    };
    let Some(list) = body
        .get("fields")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
    else {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({ "param_name": "fields" }),
        );
    };
    let mut created: Vec<FieldDef> = Vec::new();
    let mut results = Vec::new();
    for (i, v) in list.iter().enumerate() {
        match new_field(ctx.data, mi, v, i, &created) {
            Ok(mut f) => {
                f.id = ctx.data.new_meta_id();
                results.push(Ok(json!({
                    "code": "SUCCESS",
                    "details": { "id": f.id },
                    "message": "field created",
                    "status": "success",
                })));
                created.push(f);
            }
            Err(e) => results.push(Err(e)),
        }
    }
    let module = &mut ctx.data.modules[mi];
    // Custom fields go before the system fields at the end of the layout.
    let at = module
        .fields
        .iter()
        .position(|f| f.api_name == "Created_By")
        .unwrap_or(module.fields.len());
    for (k, f) in created.into_iter().enumerate() {
        module.fields.insert(at + k, f);
    }
    let oks = results.iter().filter(|r| r.is_ok()).count();
    let status = if oks == results.len() {
        StatusCode::CREATED
    } else if oks == 0 {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::MULTI_STATUS
    };
    let fields: Vec<Value> = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| e))
        .collect();
    zoho_json(status, &json!({ "fields": fields }))
}

#[cfg(test)]
mod tests {
    use super::api_name_for;

    #[test]
    fn api_name_from_label() {
        assert_eq!(api_name_for("Notes UNID"), "Notes_UNID");
        assert_eq!(api_name_for("  Ext - Sync id "), "Ext_Sync_id");
    }
}
