//! Events (Meetings) specifics (zoho-crm-api.md §3.4): `Participants`, `Remind_At`,
//! `Start_DateTime` ≤ `End_DateTime`, and `POST /Events/{id}/actions/cancel`.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::DateTime;
use serde_json::{Map, Value, json};

use super::model::{Module, Record, ZohoData, full_name, parse_time};
use super::records::CrmCtx;
use super::{error_body, zoho_error, zoho_json};

/// Most participants of one event.
pub(crate) const MAX_PARTICIPANTS: usize = 50;

fn path(i: usize, field: &str) -> String {
    format!("$.data[{i}].{field}")
}

fn invalid(i: usize, field: &str, expected: &str) -> Value {
    error_body(
        "INVALID_DATA",
        "invalid data",
        json!({ "expected_data_type": expected, "api_name": field, "json_path": path(i, field) }),
    )
}

fn id_string(v: Option<&Value>) -> Option<String> {
    v.and_then(|v| {
        v.as_str()
            .map(str::to_owned)
            .or_else(|| v.as_u64().map(|n| n.to_string()))
    })
}

/// Validate `Participants` of record `i`; keeps `id`, `invited` and `status` of participants
/// already on the record. `notify` (`$send_notification`) marks them invited.
pub(crate) fn participants(
    data: &ZohoData,
    value: &Value,
    i: usize,
    existing: Option<&Value>,
    notify: bool,
) -> Result<Value, Value> {
    let list = match value {
        Value::Null => return Ok(Value::Null),
        Value::Array(a) => a,
        _ => return Err(invalid(i, "Participants", "jsonarray")),
    };
    if list.len() > MAX_PARTICIPANTS {
        return Err(error_body(
            "LIMIT_EXCEEDED",
            "Only 50 participants can be added to an event.",
            json!({ "api_name": "Participants", "json_path": path(i, "Participants"), "limit": MAX_PARTICIPANTS }),
        ));
    }
    let old: Vec<Value> = existing
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for (k, p) in list.iter().enumerate() {
        let field = format!("Participants[{k}]");
        let obj = p
            .as_object()
            .ok_or_else(|| invalid(i, &field, "jsonobject"))?;
        let kind = obj
            .get("type")
            .and_then(Value::as_str)
            .filter(|t| matches!(*t, "contact" | "lead" | "user" | "email"))
            .ok_or_else(|| invalid(i, &format!("{field}.type"), "string"))?;
        let mut stored = Map::new();
        stored.insert("type".into(), json!(kind));
        match kind {
            "email" => {
                let email = obj
                    .get("Email")
                    .or_else(|| obj.get("participant"))
                    .and_then(Value::as_str)
                    .filter(|e| e.contains('@') && !e.contains(' '))
                    .ok_or_else(|| invalid(i, &format!("{field}.Email"), "email"))?;
                stored.insert("participant".into(), json!(email));
                stored.insert("Email".into(), json!(email));
            }
            "contact" => {
                let id = id_string(obj.get("participant"))
                    .filter(|id| {
                        id.parse::<u64>()
                            .ok()
                            .and_then(|n| data.module("Contacts")?.record(n))
                            .is_some()
                    })
                    .ok_or_else(|| invalid(i, &format!("{field}.participant"), "bigint"))?;
                stored.insert("participant".into(), json!(id));
            }
            "user" => {
                let id = id_string(obj.get("participant"))
                    .filter(|id| data.user(id).is_some())
                    .ok_or_else(|| invalid(i, &format!("{field}.participant"), "bigint"))?;
                stored.insert("participant".into(), json!(id));
            }
            _ => {
                // Leads are not simulated: any numeric id is kept as given.
                let id = id_string(obj.get("participant"))
                    .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| invalid(i, &format!("{field}.participant"), "bigint"))?;
                stored.insert("participant".into(), json!(id));
            }
        }
        if let Some(name) = obj.get("name").and_then(Value::as_str) {
            stored.insert("name".into(), json!(name));
        }
        let same = old.iter().find(|o| {
            o.get("type") == stored.get("type") && o.get("participant") == stored.get("participant")
        });
        // New participants get their id when the write is applied (`fill_ids`).
        let id = id_string(same.and_then(|o| o.get("id"))).map_or(Value::Null, Value::String);
        let was_invited = same
            .and_then(|o| o.get("invited"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let invited = was_invited || notify;
        let status = same
            .and_then(|o| o.get("status"))
            .and_then(Value::as_str)
            .filter(|_| was_invited)
            .unwrap_or(if invited { "invited" } else { "not_known" });
        stored.insert("invited".into(), json!(invited));
        stored.insert("status".into(), json!(status));
        stored.insert("id".into(), json!(id));
        out.push(Value::Object(stored));
    }
    Ok(Value::Array(out))
}

/// Give new participants (`"id": null`) an id.
pub(crate) fn fill_ids(data: &mut ZohoData, values: &mut Map<String, Value>) {
    if let Some(Value::Array(list)) = values.get_mut("Participants") {
        for p in list {
            if p.get("id").is_some_and(Value::is_null) {
                let id = data.new_meta_id();
                p["id"] = json!(id);
            }
        }
    }
}

/// `Remind_At`: `[{"unit":15,"period":"minutes"}]` (v7+), or a datetime string (v2), or
/// `{"ALARM":"…"}`.
pub(crate) fn remind_at(value: &Value, i: usize) -> Result<Value, Value> {
    match value {
        Value::Null => Ok(Value::Null),
        Value::String(s) => parse_time(s)
            .map(|t| json!(t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()))
            .ok_or_else(|| invalid(i, "Remind_At", "datetime")),
        Value::Object(o) if o.get("ALARM").is_some_and(Value::is_string) => Ok(value.clone()),
        Value::Array(list) => {
            let mut out = Vec::new();
            for r in list {
                let unit = r.get("unit").and_then(Value::as_u64).filter(|u| *u <= 60);
                let period = r.get("period").and_then(Value::as_str).and_then(|p| {
                    Some(match p {
                        "minutes" | "mins" => "minutes",
                        "hours" | "hrs" => "hours",
                        "days" => "days",
                        "weeks" => "weeks",
                        _ => return None,
                    })
                });
                let (Some(unit), Some(period)) = (unit, period) else {
                    return Err(invalid(i, "Remind_At", "jsonarray"));
                };
                let mut m = Map::new();
                m.insert("unit".into(), json!(unit));
                m.insert("period".into(), json!(period));
                if let Some(t) = r.get("time").and_then(Value::as_str) {
                    m.insert("time".into(), json!(t));
                }
                out.push(Value::Object(m));
            }
            Ok(Value::Array(out))
        }
        _ => Err(invalid(i, "Remind_At", "jsonarray")),
    }
}

/// End before start → `INVALID_DATA` on `End_DateTime`.
pub(crate) fn check_times(
    values: &Map<String, Value>,
    existing: Option<&Record>,
    i: usize,
) -> Result<(), Value> {
    let get = |k: &str| {
        values
            .get(k)
            .or_else(|| existing.and_then(|r| r.values.get(k)))
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
    };
    if let (Some(s), Some(e)) = (get("Start_DateTime"), get("End_DateTime"))
        && e < s
    {
        return Err(error_body(
            "INVALID_DATA",
            "End_DateTime should be greater than Start_DateTime",
            json!({ "api_name": "End_DateTime", "json_path": path(i, "End_DateTime") }),
        ));
    }
    Ok(())
}

/// Participants as rendered: names and e-mails of contacts and users filled in.
pub(crate) fn render_participants(data: &ZohoData, stored: &Value) -> Value {
    let Some(list) = stored.as_array() else {
        return Value::Null;
    };
    let contacts: Option<&Module> = data.module("Contacts");
    Value::Array(
        list.iter()
            .map(|p| {
                let mut m = p.as_object().cloned().unwrap_or_default();
                let id = m
                    .get("participant")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let (name, email) = match m.get("type").and_then(Value::as_str) {
                    Some("contact") => contacts
                        .and_then(|c| c.record(id.parse().ok()?))
                        .map(|r| (Some(full_name(r)), Some(r.text("Email"))))
                        .unwrap_or((None, None)),
                    Some("user") => data
                        .user(&id)
                        .map(|u| (Some(u.full_name()), Some(u.email.clone())))
                        .unwrap_or((None, None)),
                    _ => (None, None),
                };
                if let Some(n) = name {
                    m.insert("name".into(), json!(n));
                }
                if let Some(e) = email.filter(|e| !e.is_empty()) {
                    m.insert("Email".into(), json!(e));
                }
                m.entry("name").or_insert(Value::Null);
                m.entry("Email").or_insert(Value::Null);
                // Key order as in the crm-oas Participants schema.
                let mut out = Map::new();
                for k in [
                    "name",
                    "Email",
                    "invited",
                    "type",
                    "participant",
                    "status",
                    "id",
                ] {
                    if let Some(v) = m.get(k) {
                        out.insert(k.into(), v.clone());
                    }
                }
                Value::Object(out)
            })
            .collect(),
    )
}

/// `POST /Events/{id}/actions/cancel` body `{"data":[{"send_cancelling_mail":false}]}`.
pub(crate) fn cancel(ctx: &mut CrmCtx<'_>, mi: usize, id: &str) -> Response {
    let not_allowed = |message: &str| {
        zoho_error(
            StatusCode::BAD_REQUEST,
            "NOT_ALLOWED",
            message,
            json!({ "id": id }),
        )
    };
    if !ctx.body.is_empty() {
        let ok = serde_json::from_slice::<Value>(ctx.body)
            .ok()
            .is_some_and(|v| v.is_object());
        if !ok {
            return zoho_error(
                StatusCode::BAD_REQUEST,
                "INVALID_DATA",
                "body",
                json!({ "expected_data_type": "jsonobject" }),
            );
        }
    }
    let now = ctx.now;
    let user = ctx.user_id.clone();
    let module = &mut ctx.data.modules[mi];
    let Some(mut record) = id
        .parse::<u64>()
        .ok()
        .and_then(|n| module.records.get_mut(n))
    else {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "INVALID_DATA",
            "the id given seems to be invalid",
            json!({ "id": id }),
        );
    };
    if record.values.get("$event_cancelled") == Some(&json!(true)) {
        return not_allowed("The event is already cancelled");
    }
    let invited = record
        .values
        .get("Participants")
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|p| p.get("invited") == Some(&json!(true))));
    if !invited {
        return not_allowed("The event has no invited participants");
    }
    let ended = record
        .values
        .get("End_DateTime")
        .and_then(Value::as_str)
        .and_then(parse_time)
        .is_some_and(|e| e <= now);
    if ended {
        return not_allowed("The event has already ended");
    }
    record.values.insert("$event_cancelled".into(), json!(true));
    record.modified = now;
    record.modified_by = user;
    zoho_json(
        StatusCode::OK,
        &json!({ "data": [{
            "code": "SUCCESS",
            "details": { "id": id },
            "message": "The event has been cancelled",
            "status": "success",
        }]}),
    )
}
