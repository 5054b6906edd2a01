//! `/_sim/` routes of the Domino simulator: dump, load, reset, config.
//!
//! Dump shape:
//! ```json
//! {"enabled_services":["Data","Calendar"],"anonymous_login_form":false,
//!  "databases":{"mail/demo.nsf":{"title":"Mail - demo","owner":"demo","allow_rest":2,
//!    "views":{"($Contacts)":{"das":true},"($ToDo)":{"das":true}},
//!    "documents":[{"unid":"…","noteid":"8FA","form":"Person","created":"…Z","modified":"…Z",
//!                  "authors":["CN=demo/O=SimOrg"],"items":{"FirstName":"Jane",
//!                  "DueDateTime":{"data":"2026-12-01","type":"datetime"}}}]}}}
//! ```

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::model::{Database, Document, DominoServer, ItemValue, das_time, parse_utc};
use super::{DominoState, calendar};
use crate::Seed;
use crate::common::{control_error, lock};

fn config_json(server: &DominoServer, with_documents: bool) -> Value {
    let mut dbs = Map::new();
    for db in server.databases.values() {
        let mut views = Map::new();
        for v in &db.views {
            views.insert(v.title.clone(), json!({ "das": v.das_enabled }));
        }
        let mut entry = Map::new();
        entry.insert("title".into(), json!(db.title));
        entry.insert("owner".into(), json!(db.owner));
        entry.insert("allow_rest".into(), json!(db.allow_rest));
        entry.insert("views".into(), Value::Object(views));
        if with_documents {
            let docs: Vec<Value> = db.documents.iter().map(document_dump).collect();
            entry.insert("documents".into(), Value::Array(docs));
            if !db.events.is_empty() || !db.notices.is_empty() {
                let events: Vec<Value> = db.events.iter().map(calendar::event_dump).collect();
                let notices: Vec<Value> = db.notices.iter().map(calendar::notice_dump).collect();
                entry.insert("events".into(), Value::Array(events));
                entry.insert("notices".into(), Value::Array(notices));
            }
        }
        dbs.insert(db.path.clone(), Value::Object(entry));
    }
    json!({
        "enabled_services": server.services,
        "anonymous_login_form": server.anonymous_login_form,
        "databases": dbs,
    })
}

fn document_dump(doc: &Document) -> Value {
    let mut items = Map::new();
    for (name, value) in doc
        .items
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("Form"))
    {
        items.insert(name.clone(), value.to_dump());
    }
    let mut d = Map::new();
    d.insert("unid".into(), json!(doc.unid));
    d.insert("noteid".into(), json!(format!("{:X}", doc.note_id)));
    d.insert("form".into(), json!(doc.form()));
    d.insert("created".into(), json!(das_time(doc.created)));
    d.insert("modified".into(), json!(das_time(doc.modified)));
    d.insert("authors".into(), json!(doc.authors));
    if let Some(p) = &doc.parent {
        d.insert("parentid".into(), json!(p));
    }
    d.insert("items".into(), Value::Object(items));
    Value::Object(d)
}

pub(crate) fn dump(server: &DominoServer) -> Value {
    config_json(server, true)
}

fn parse_time(v: Option<&Value>, default: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    match v {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) => parse_utc(s).ok_or_else(|| format!("invalid timestamp {s:?}")),
        Some(Value::Object(o)) => parse_time(o.get("data"), default),
        Some(other) => Err(format!("invalid timestamp {other}")),
    }
}

fn load_document(
    server: &mut DominoServer,
    db_key: &str,
    v: &Value,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let obj = v.as_object().ok_or("a document must be an object")?;
    let unid = match obj.get("unid").and_then(Value::as_str) {
        Some(u) if u.len() == 32 && u.chars().all(|c| c.is_ascii_hexdigit()) => {
            u.to_ascii_uppercase()
        }
        Some(u) => return Err(format!("invalid UNID {u:?}")),
        None => server.new_unid(),
    };
    let created = parse_time(obj.get("created"), now)?;
    let modified = parse_time(obj.get("modified"), created)?;
    let mut items: Vec<(String, ItemValue)> = Vec::new();
    if let Some(form) = obj.get("form").and_then(Value::as_str) {
        items.push(("Form".into(), ItemValue::text(form)));
    }
    if let Some(map) = obj.get("items").and_then(Value::as_object) {
        for (name, value) in map {
            let item = ItemValue::from_dump_json(value)
                .map_err(|e| format!("item {name} of {unid}: {e}"))?;
            items.push((name.clone(), item));
        }
    }
    let authors: Vec<String> = obj
        .get("authors")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let note_id = obj
        .get("noteid")
        .and_then(Value::as_str)
        .and_then(|n| u32::from_str_radix(n, 16).ok());
    let db = server
        .databases
        .get_mut(db_key)
        .ok_or_else(|| format!("unknown database {db_key}"))?;
    if db.doc(&unid).is_some() {
        return Err(format!("duplicate UNID {unid}"));
    }
    let mut doc = db.add(unid, created, modified, "", items);
    doc.authors = authors;
    doc.parent = obj
        .get("parentid")
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase);
    if let Some(n) = note_id {
        doc.note_id = n;
    }
    drop(doc);
    if let Some(n) = note_id {
        db.next_note_id = db.next_note_id.max(n.saturating_add(4));
    }
    Ok(())
}

/// Apply config keys (services, login form, per-database level and view flags), and documents
/// when present. Unknown databases are created (without views).
pub(crate) fn apply(
    server: &mut DominoServer,
    v: &Value,
    now: DateTime<Utc>,
    with_documents: bool,
) -> Result<(), String> {
    let obj = v.as_object().ok_or("expected a JSON object")?;
    if let Some(services) = obj.get("enabled_services") {
        let list = services
            .as_array()
            .ok_or("enabled_services must be an array")?;
        server.services = list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
    }
    if let Some(flag) = obj.get("anonymous_login_form") {
        server.anonymous_login_form = flag
            .as_bool()
            .ok_or("anonymous_login_form must be a boolean")?;
    }
    let Some(dbs) = obj.get("databases") else {
        return Ok(());
    };
    let dbs = dbs.as_object().ok_or("databases must be an object")?;
    for (path, entry) in dbs {
        let key = path.to_lowercase();
        let entry = entry
            .as_object()
            .ok_or("a database entry must be an object")?;
        let db = server.databases.entry(key.clone()).or_insert_with(|| {
            let title = entry.get("title").and_then(Value::as_str).unwrap_or(path);
            let owner = entry
                .get("owner")
                .and_then(Value::as_str)
                .map(str::to_owned);
            Database::new(path, title, "", owner, Vec::new())
        });
        if let Some(level) = entry.get("allow_rest") {
            let level = level
                .as_u64()
                .filter(|l| *l <= 2)
                .ok_or("allow_rest must be 0, 1 or 2")?;
            db.allow_rest = u8::try_from(level).unwrap_or(2);
        }
        if let Some(views) = entry.get("views") {
            let views = views.as_object().ok_or("views must be an object")?;
            for (name, flags) in views {
                let view = db
                    .views
                    .iter_mut()
                    .find(|v| v.matches_name(name))
                    .ok_or_else(|| format!("unknown view {name} in {path}"))?;
                if let Some(das) = flags.get("das") {
                    view.das_enabled = das.as_bool().ok_or("das must be a boolean")?;
                }
            }
        }
        if with_documents && let Some(docs) = entry.get("documents") {
            let docs = docs.as_array().ok_or("documents must be an array")?;
            db.clear_documents();
            let mut seen = BTreeSet::new();
            for d in docs {
                if let Some(u) = d.get("unid").and_then(Value::as_str)
                    && !seen.insert(u.to_ascii_uppercase())
                {
                    return Err(format!("duplicate UNID {u}"));
                }
                load_document(server, &key, d, now)?;
            }
        }
        if with_documents {
            let db = server.databases.get_mut(&key).ok_or("database vanished")?;
            db.events.clear();
            db.notices.clear();
            if let Some(events) = entry.get("events") {
                for e in events.as_array().ok_or("events must be an array")? {
                    calendar::load_event(server, &key, e, now)?;
                }
            }
            if let Some(notices) = entry.get("notices") {
                for n in notices.as_array().ok_or("notices must be an array")? {
                    calendar::load_notice(server, &key, n, now)?;
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn load(server: &mut DominoServer, v: &Value, now: DateTime<Utc>) -> Result<(), String> {
    apply(server, v, now, true)
}

pub(crate) async fn get_dump(State(s): State<DominoState>) -> Response {
    Json(s.dump()).into_response()
}

pub(crate) async fn post_load(State(s): State<DominoState>, body: Bytes) -> Response {
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
    State(s): State<DominoState>,
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

pub(crate) async fn get_config(State(s): State<DominoState>) -> Response {
    Json(config_json(&lock(&s.inner.server), false)).into_response()
}

pub(crate) async fn post_config(State(s): State<DominoState>, body: Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return control_error(&format!("invalid JSON: {e}")),
    };
    let now = s.inner.core.now();
    let mut server = lock(&s.inner.server);
    // Validate on a copy so a bad request changes nothing.
    let mut copy = DominoServer {
        services: server.services.clone(),
        anonymous_login_form: server.anonymous_login_form,
        databases: server.databases.clone(),
        rng: server.rng.clone(),
    };
    if let Err(e) = apply(&mut copy, &v, now, false) {
        return control_error(&e);
    }
    *server = copy;
    Json(config_json(&server, false)).into_response()
}
