//! `/_sim/` routes of the Zoho simulator: dump, load, reset, config. The dump shape is in the
//! module docs of `zoho`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::ZohoState;
use super::model::{
    DeletedRecord, FIRST_META_ID, FIRST_RECORD_ID, FieldDef, Record, TagDef, ZohoData, parse_time,
};
use super::records::render_record;
use super::store::Records;
use super::views::{CustomView, system_views};
use crate::Seed;
use crate::common::{control_error, lock};

pub(crate) fn dump(data: &ZohoData) -> Value {
    let mut modules = Map::new();
    let mut deleted = Map::new();
    let mut fields = Map::new();
    let mut tags = Map::new();
    let mut views = Map::new();
    for m in &data.modules {
        let records: Vec<Value> = m
            .records
            .iter()
            .map(|r| render_record(data, m, r, None, chrono_tz::UTC, false))
            .collect();
        modules.insert(m.api_name.into(), Value::Array(records));
        deleted.insert(m.api_name.into(), json!(m.deleted));
        fields.insert(m.api_name.into(), json!(m.fields));
        tags.insert(m.api_name.into(), json!(m.tags));
        let made: Vec<Value> = m.views.iter().map(|v| v.dump(m)).collect();
        views.insert(m.api_name.into(), Value::Array(made));
    }
    json!({ "modules": modules, "deleted": deleted, "fields": fields, "tags": tags,
            "custom_views": views })
}

/// Carry issued tokens (and the token lifetime), and the users added at run time with their
/// refresh tokens, over to a fresh data set.
pub(crate) fn keep_tokens(fresh: &mut ZohoData, old: &ZohoData) {
    fresh.access_tokens.clone_from(&old.access_tokens);
    fresh.issued.clone_from(&old.issued);
    fresh.token_lifetime_secs = old.token_lifetime_secs;
    fresh.search_index_delay_secs = old.search_index_delay_secs;
    fresh.page_token_records = old.page_token_records;
    for user in &old.users {
        if fresh.user(&user.id).is_none() {
            fresh.users.push(user.clone());
            fresh.refresh_tokens.extend(
                old.refresh_tokens
                    .iter()
                    .filter(|(_, id)| *id == user.id)
                    .cloned(),
            );
        }
    }
}

fn id_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => id_of(o.get("id")),
        _ => None,
    }
}

fn load_record(
    data: &mut ZohoData,
    mi: usize,
    v: &Value,
    now: DateTime<Utc>,
) -> Result<Record, String> {
    let obj = v.as_object().ok_or("a record must be an object")?;
    let default_user = data.users.first().map(|u| u.id.clone()).unwrap_or_default();
    let id = match id_of(obj.get("id")) {
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| format!("invalid record id {s:?}"))?,
        None => data.new_id(),
    };
    let time = |key: &str| -> Result<Option<DateTime<Utc>>, String> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => parse_time(s)
                .map(Some)
                .ok_or_else(|| format!("invalid {key} {s:?}")),
            Some(other) => Err(format!("invalid {key} {other}")),
        }
    };
    let created = time("Created_Time")?.unwrap_or(now);
    let modified = time("Modified_Time")?.unwrap_or(created);
    let user = |key: &str| id_of(obj.get(key)).unwrap_or_else(|| default_user.clone());
    let mut record = Record {
        id,
        created,
        modified,
        created_by: user("Created_By"),
        modified_by: user("Modified_By"),
        owner: user("Owner"),
        values: Map::new(),
        tags: Vec::new(),
    };
    if let Some(Value::Array(list)) = obj.get("Tag") {
        for t in list {
            let name = t
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let given = id_of(t.get("id"));
            let module = &data.modules[mi];
            let existing = module
                .tags
                .iter()
                .find(|d| {
                    given.as_ref().is_some_and(|g| &d.id == g)
                        || (!name.is_empty() && d.name == name)
                })
                .map(|d| d.id.clone());
            let tag = match existing {
                Some(id) => id,
                None => {
                    let id = given.unwrap_or_else(|| data.new_meta_id());
                    data.modules[mi].tags.push(TagDef {
                        id: id.clone(),
                        name,
                        created: None,
                        created_by: None,
                    });
                    id
                }
            };
            record.tags.push(tag);
        }
    }
    let fields = &data.modules[mi].fields;
    for f in fields {
        let Some(value) = obj.get(&f.api_name) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        match f.api_name.as_str() {
            "Owner" | "Created_By" | "Modified_By" | "Created_Time" | "Modified_Time"
            | "Full_Name" | "Tag" => {}
            _ => {
                let stored = match f.data_type.as_str() {
                    "lookup" => match id_of(Some(value)) {
                        Some(id) => json!({ "id": id }),
                        None => continue,
                    },
                    "datetime" => match value.as_str().and_then(parse_time) {
                        Some(t) => json!(t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()),
                        None => return Err(format!("invalid {} {value}", f.api_name)),
                    },
                    _ => value.clone(),
                };
                record.values.insert(f.api_name.clone(), stored);
            }
        }
    }
    if obj.get("$event_cancelled") == Some(&Value::Bool(true)) {
        record
            .values
            .insert("$event_cancelled".into(), Value::Bool(true));
    }
    Ok(record)
}

pub(crate) fn load(data: &mut ZohoData, v: &Value, now: DateTime<Utc>) -> Result<(), String> {
    let obj = v.as_object().ok_or("expected a JSON object")?;
    let section = |key: &str| -> Result<Option<&Map<String, Value>>, String> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(format!("{key} must be an object")),
        }
    };
    let module_of = |data: &ZohoData, name: &str| {
        data.module_index(name)
            .ok_or_else(|| format!("unknown module {name}"))
    };
    if let Some(fields) = section("fields")? {
        for (name, list) in fields {
            let mi = module_of(data, name)?;
            let defs: Vec<FieldDef> = serde_json::from_value(list.clone())
                .map_err(|e| format!("fields of {name}: {e}"))?;
            data.modules[mi].fields = defs;
        }
    }
    if let Some(tags) = section("tags")? {
        for (name, list) in tags {
            let mi = module_of(data, name)?;
            let defs: Vec<TagDef> =
                serde_json::from_value(list.clone()).map_err(|e| format!("tags of {name}: {e}"))?;
            data.modules[mi].tags = defs;
        }
    }
    if let Some(modules) = section("modules")? {
        for (name, list) in modules {
            let mi = module_of(data, name)?;
            let list = list
                .as_array()
                .ok_or_else(|| format!("records of {name} must be an array"))?;
            let mut records = Vec::with_capacity(list.len());
            let mut ids = std::collections::HashSet::with_capacity(list.len());
            for r in list {
                let record = load_record(data, mi, r, now)?;
                if !ids.insert(record.id) {
                    return Err(format!("duplicate id {} in {name}", record.id));
                }
                records.push(record);
            }
            data.modules[mi].records = Records::from_vec(records);
        }
    }
    if let Some(deleted) = section("deleted")? {
        for (name, list) in deleted {
            let mi = module_of(data, name)?;
            let rows: Vec<DeletedRecord> = serde_json::from_value(list.clone())
                .map_err(|e| format!("deleted of {name}: {e}"))?;
            data.modules[mi].deleted = rows;
        }
    }
    if let Some(views) = section("custom_views")? {
        for (name, list) in views {
            let mi = module_of(data, name)?;
            let list = list
                .as_array()
                .ok_or_else(|| format!("custom views of {name} must be an array"))?;
            let mut loaded = Vec::with_capacity(list.len());
            for v in list {
                let view = CustomView::load(v, data, mi, now)
                    .map_err(|e| format!("custom view of {name}: {e}"))?;
                loaded.push(view);
            }
            data.modules[mi].views = loaded;
        }
    }
    // Ids must keep growing past everything loaded.
    let max_record = data
        .modules
        .iter()
        .flat_map(|m| {
            m.records
                .iter()
                .map(|r| r.id)
                .chain(m.deleted.iter().filter_map(|d| d.id.parse().ok()))
        })
        .max()
        .unwrap_or(0);
    data.next_id = data.next_id.max(max_record + 1).max(FIRST_RECORD_ID);
    let max_meta = data
        .modules
        .iter()
        .flat_map(|m| {
            m.fields
                .iter()
                .map(|f| f.id.as_str())
                .chain(m.tags.iter().map(|t| t.id.as_str()))
                .chain(m.views.iter().map(|v| v.id.as_str()))
        })
        .filter_map(|id| id.parse::<u64>().ok())
        .filter(|id| *id >= FIRST_META_ID)
        .max()
        .unwrap_or(0);
    data.next_meta_id = data.next_meta_id.max(max_meta + 1);
    // Views loaded without an id get one now, past every id loaded.
    for mi in 0..data.modules.len() {
        for vi in 0..data.modules[mi].views.len() {
            if data.modules[mi].views[vi].id.is_empty() {
                data.modules[mi].views[vi].id = data.new_meta_id();
            }
        }
    }
    check_view_ids(data)
}

/// View ids must be unique across modules and apart from the system views'.
fn check_view_ids(data: &ZohoData) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for m in &data.modules {
        for v in system_views(m).iter().chain(&m.views) {
            if !seen.insert(v.id.clone()) {
                return Err(format!("duplicate custom view id {}", v.id));
            }
        }
    }
    Ok(())
}

/// Add one user-made view (the dump shape plus `module`); its id.
pub(crate) fn add_view(
    data: &mut ZohoData,
    v: &Value,
    now: DateTime<Utc>,
) -> Result<String, String> {
    let module = v
        .get("module")
        .and_then(Value::as_str)
        .ok_or("a custom view needs a module")?;
    let mi = data
        .module_index(module)
        .ok_or_else(|| format!("unknown module {module}"))?;
    let mut view = CustomView::load(v, data, mi, now)?;
    if view.id.is_empty() {
        view.id = data.new_meta_id();
    }
    let id = view.id.clone();
    data.modules[mi].views.push(view);
    if let Err(e) = check_view_ids(data) {
        data.modules[mi].views.pop();
        return Err(e);
    }
    Ok(id)
}

/// `POST /_sim/custom_views`: add a user's view → 201 `{"id"}`.
pub(crate) async fn post_custom_view(State(s): State<ZohoState>, body: Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return control_error(&format!("invalid JSON: {e}")),
    };
    match s.add_custom_view(&v) {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Err(e) => control_error(&e),
    }
}

pub(crate) async fn get_dump(State(s): State<ZohoState>) -> Response {
    Json(s.dump()).into_response()
}

pub(crate) async fn post_load(State(s): State<ZohoState>, body: Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return control_error(&format!("invalid JSON: {e}")),
    };
    match s.load(&v) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => control_error(&e),
    }
}

#[derive(Deserialize)]
pub(crate) struct ResetQuery {
    seed: Option<String>,
}

pub(crate) async fn post_reset(
    State(s): State<ZohoState>,
    Query(q): Query<ResetQuery>,
) -> Response {
    let seed = match q.seed.as_deref().map(str::parse::<Seed>) {
        None => Seed::Empty,
        Some(Ok(seed)) => seed,
        Some(Err(e)) => return control_error(&e),
    };
    s.reset(seed);
    StatusCode::NO_CONTENT.into_response()
}

fn config_json(data: &ZohoData) -> Value {
    json!({
        "token_lifetime_secs": data.token_lifetime_secs,
        "access_tokens": data.access_tokens.len(),
        "licences": data.licences,
        "search_index_delay_secs": data.search_index_delay_secs,
        "page_token_records": data.page_token_records,
    })
}

fn full_config(s: &ZohoState) -> Value {
    let mut v = config_json(&lock(&s.inner.data));
    if let (Value::Object(m), Value::Object(l)) = (
        &mut v,
        super::limits::config_json(&s.inner.limits, s.inner.core.now()),
    ) {
        m.extend(l);
    }
    v
}

pub(crate) async fn get_config(State(s): State<ZohoState>) -> Response {
    Json(full_config(&s)).into_response()
}

#[derive(Deserialize)]
struct ConfigBody {
    token_lifetime_secs: Option<u64>,
    #[serde(default)]
    expire_tokens: bool,
    licences: Option<u32>,
    search_index_delay_secs: Option<u32>,
    /// How far a `page_token` listing pages (default 100,000).
    page_token_records: Option<u64>,
    /// User (e-mail or id) → profile name (`Administrator` or `Standard`): what an admin does
    /// under Setup → Users (the user's `profile`, and whether they are an administrator).
    #[serde(default)]
    user_profiles: std::collections::BTreeMap<String, String>,
}

pub(crate) async fn post_config(State(s): State<ZohoState>, body: Bytes) -> Response {
    let cfg: ConfigBody = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return control_error(&format!("invalid config: {e}")),
    };
    if let Some(secs) = cfg.token_lifetime_secs {
        s.set_token_lifetime_secs(secs);
    }
    if cfg.expire_tokens {
        s.expire_all_tokens();
    }
    {
        let mut data = lock(&s.inner.data);
        if let Some(n) = cfg.licences {
            data.licences = n;
        }
        if let Some(secs) = cfg.search_index_delay_secs {
            data.search_index_delay_secs = i64::from(secs);
        }
        if let Some(n) = cfg.page_token_records {
            if n == 0 {
                return control_error("page_token_records must be a positive integer");
            }
            data.page_token_records = n;
        }
        for (who, name) in &cfg.user_profiles {
            let Some(profile) = super::profiles::by_name(name) else {
                return control_error(&format!("no profile {name:?}: Administrator or Standard"));
            };
            let Some(user) = data
                .users
                .iter_mut()
                .find(|u| u.id == *who || u.email.eq_ignore_ascii_case(who))
            else {
                return control_error(&format!("no user {who:?}"));
            };
            user.profile = profile;
            user.admin = profile == super::profiles::ADMINISTRATOR;
        }
        let raw: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let users = u64::from(data.licences);
        drop(data);
        if let Err(e) = super::limits::apply_config(&s.inner.limits, &raw, users) {
            return control_error(&e);
        }
    }
    Json(full_config(&s)).into_response()
}
