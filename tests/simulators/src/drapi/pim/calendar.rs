//! `/api/pim-v1/calendar/default[/{uid}]`: the mail file's calendar entries in JSCalendar form
//! (domino-rest-api.md §5.1–5.2). Reads come from the calendar store the DAS calendar service
//! keeps; writes go through that service (`DominoState::calendar_call`), so notices, sequence
//! numbers and backing documents behave as they do for DAS clients.

use axum::body::{Bytes, to_bytes};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use futures_util::FutureExt;
use serde_json::{Map, Value, json};

use super::jscal::{self, Frame};
use super::{Mailbox, calendar_folder};
use crate::domino::calendar::{CalEvent, occurrences};
use crate::domino::model::Database;
use crate::drapi::config::SeriesForm;
use crate::drapi::errors::{Answer, ApiError, json_answer};
use crate::drapi::{DrapiState, Req};

fn date_param(req: &Req<'_>, name: &str) -> Result<Option<NaiveDate>, ApiError> {
    match req.q(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                ApiError::bad_request(format!("Invalid {name}: {v} (expected yyyy-mm-dd)"))
            }),
    }
}

/// `send`: true unless `send=false` (undocumented default).
fn send(req: &Req<'_>) -> Result<bool, ApiError> {
    Ok(req.flag("send")?.unwrap_or(true))
}

fn frame_of<'a>(db: &Database, ev: &CalEvent, folder: &'a str) -> Frame<'a> {
    Frame {
        folder,
        created: db.doc(&ev.unid).map_or(ev.last_modified, |d| d.created),
    }
}

/// The events whose backing documents still exist (a document deleted through another API
/// takes its entry with it).
fn live(db: &Database) -> impl Iterator<Item = &CalEvent> {
    db.events.iter().filter(|e| db.has_exact_unid(&e.unid))
}

fn find<'d>(db: &'d Database, id: &str) -> Option<&'d CalEvent> {
    live(db).find(|e| e.unid.eq_ignore_ascii_case(id) || e.uid == id)
}

fn entry_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Calendar entry {id} not found"))
}

/// Changed instances of a series: original local start and body.
type Changed = Vec<(NaiveDateTime, Map<String, Value>)>;

/// The instances of a series that override it, and those deleted, with their original
/// local starts.
fn series_parts(ev: &CalEvent) -> (Changed, Vec<NaiveDateTime>) {
    let mut all = ev.clone();
    all.excepted.clear();
    let mut changed = Vec::new();
    let mut deleted = Vec::new();
    for occ in occurrences(&all, DateTime::<Utc>::MAX_UTC) {
        let (Some(rid), Some(local)) = (occ.rid, occ.rid_local) else {
            continue;
        };
        if ev.excepted.contains(&rid) {
            deleted.push(local);
        } else if let Some(body) = ev.overrides.get(&rid) {
            changed.push((local, body.clone()));
        }
    }
    (changed, deleted)
}

/// The series form of one entry.
fn series_json(db: &Database, ev: &CalEvent) -> Value {
    let folder = calendar_folder(&db.path);
    let frame = frame_of(db, ev, &folder);
    let (changed, deleted) = series_parts(ev);
    jscal::series(ev, &frame, &changed, &deleted)
}

/// `GET /calendar/default?startdate=&enddate=` (P:getOneCalendar).
pub(crate) fn list(state: &DrapiState, req: &Req<'_>, mb: &Mailbox) -> Answer {
    let from = date_param(req, "startdate")?;
    let to = date_param(req, "enddate")?;
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        return Err(ApiError::bad_request("enddate is before startdate"));
    }
    let since = from
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.and_utc());
    let before = to
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc());
    let form = state.config().settings.recurring;
    let server = state.domino.server();
    let db = server
        .databases
        .get(&mb.db_key)
        .ok_or_else(|| ApiError::not_found("No mailbox"))?;
    let folder = calendar_folder(&db.path);
    let mut rows: Vec<(DateTime<Utc>, String, Value)> = Vec::new();
    for ev in live(db) {
        let frame = frame_of(db, ev, &folder);
        let in_window: Vec<_> = occurrences(ev, before)
            .into_iter()
            .filter(|o| o.start_utc >= since && o.start_utc < before)
            .collect();
        let recurring = ev.event.contains_key("recurrenceRule");
        match (form, recurring) {
            (SeriesForm::Series, true) => {
                if let Some(first) = in_window.first() {
                    rows.push((first.start_utc, ev.unid.clone(), series_json(db, ev)));
                }
            }
            _ => {
                for occ in in_window {
                    let rid = occ.rid.as_ref().and(occ.rid_local);
                    let v = jscal::entry(ev, &occ.event, rid, &frame);
                    rows.push((occ.start_utc, ev.unid.clone(), v));
                }
            }
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    Ok(json_answer(
        StatusCode::OK,
        &Value::Array(rows.into_iter().map(|(_, _, v)| v).collect()),
    ))
}

/// `GET /calendar/default/{uid}` (P:getCalendarEntry).
pub(crate) fn get(state: &DrapiState, req: &Req<'_>, mb: &Mailbox, id: &str) -> Answer {
    if req.flag("ical")? == Some(true) {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "iCalendar output is not simulated",
        ));
    }
    let server = state.domino.server();
    let db = server
        .databases
        .get(&mb.db_key)
        .ok_or_else(|| ApiError::not_found("No mailbox"))?;
    let ev = find(db, id).ok_or_else(|| entry_not_found(id))?;
    Ok(json_answer(StatusCode::OK, &series_json(db, ev)))
}

/// The calendar service's answer as a result: `Err` with its status and message.
fn outcome(resp: Response) -> Result<(), ApiError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let body = to_bytes(resp.into_body(), 1 << 20)
        .now_or_never()
        .and_then(Result::ok)
        .unwrap_or_default();
    let message = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned());
    Err(ApiError::new(status, message))
}

fn das(
    state: &DrapiState,
    mb: &Mailbox,
    method: Method,
    rest: &[&str],
    query: &[(&str, &str)],
    body: &Value,
) -> Result<(), ApiError> {
    let rest: Vec<String> = rest.iter().map(|s| (*s).to_owned()).collect();
    let query = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let bytes = if body.is_null() {
        Bytes::new()
    } else {
        Bytes::from(body.to_string())
    };
    outcome(
        state
            .domino
            .calendar_call(&mb.user, &mb.db_key, method, &rest, query, &bytes),
    )
}

fn workflow(send: bool) -> &'static str {
    if send { "true" } else { "false" }
}

fn body_object(req: &Req<'_>) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(req.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request("The entry must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!("Invalid JSON: {e}"))),
    }
}

fn me(mb: &Mailbox) -> String {
    format!("{}@example.com", mb.user.to_lowercase())
}

/// `exceptDates` for the `excluded` overrides of an entry: `start` (the store's time form)
/// moved to each excluded instance's original local start.
fn excluded_dates(v: &Map<String, Value>, start: &Value) -> Result<Vec<Value>, ApiError> {
    let Some(Value::Object(overrides)) = v.get("recurrenceOverrides") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (k, patch) in overrides {
        if patch.get("excluded").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let local = jscal::override_key(k).ok_or_else(|| {
            ApiError::bad_request(format!("Invalid recurrenceOverrides key: {k}"))
        })?;
        let mut t = start.clone();
        if let Some(o) = t.as_object_mut() {
            o.insert("date".into(), json!(local.format("%Y-%m-%d").to_string()));
            if o.contains_key("time") {
                o.insert("time".into(), json!(local.format("%H:%M:%S").to_string()));
            }
        }
        out.push(t);
    }
    Ok(out)
}

/// `POST /calendar/default?send=` (P:createCalendarEntry): 200 with the new entry.
pub(crate) fn create(state: &DrapiState, req: &Req<'_>, mb: &Mailbox) -> Answer {
    let send = send(req)?;
    let v = body_object(req)?;
    let year = state.now().year();
    let mut store = jscal::to_store(&v, &me(mb), year).map_err(ApiError::bad_request)?;
    let except = excluded_dates(&v, store.event.get("start").unwrap_or(&Value::Null))?;
    if !except.is_empty() {
        store
            .event
            .insert("exceptDates".into(), Value::Array(except));
    }
    let hex = state.domino.server().new_unid();
    let uid = format!("{hex}-Lotus_Notes_Generated");
    store.event.insert("id".into(), json!(uid));
    das(
        state,
        mb,
        Method::POST,
        &["events"],
        &[("workflow", workflow(send))],
        &json!({"timezones": store.timezones, "events": [store.event]}),
    )?;
    let server = state.domino.server();
    let db = server
        .databases
        .get(&mb.db_key)
        .ok_or_else(|| ApiError::not_found("No mailbox"))?;
    let ev = find(db, &uid).ok_or_else(|| entry_not_found(&uid))?;
    Ok(json_answer(StatusCode::OK, &series_json(db, ev)))
}

/// The uid (DAS id) of an entry, its store event, and its series' first start.
fn current(state: &DrapiState, mb: &Mailbox, id: &str) -> Result<CalEvent, ApiError> {
    let server = state.domino.server();
    let db = server
        .databases
        .get(&mb.db_key)
        .ok_or_else(|| ApiError::not_found("No mailbox"))?;
    find(db, id).cloned().ok_or_else(|| entry_not_found(id))
}

fn answer_entry(state: &DrapiState, mb: &Mailbox, uid: &str) -> Answer {
    let server = state.domino.server();
    let db = server
        .databases
        .get(&mb.db_key)
        .ok_or_else(|| ApiError::not_found("No mailbox"))?;
    let ev = find(db, uid).ok_or_else(|| entry_not_found(uid))?;
    Ok(json_answer(StatusCode::OK, &series_json(db, ev)))
}

/// `PUT /calendar/default/{uid}?send=` (P:updateCalendarEntry): the entry as sent replaces
/// the series; its `recurrenceOverrides` then apply.
pub(crate) fn update(state: &DrapiState, req: &Req<'_>, mb: &Mailbox, id: &str) -> Answer {
    let send = send(req)?;
    if req.flag("ical")? == Some(true) {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "iCalendar input is not simulated",
        ));
    }
    let v = body_object(req)?;
    let ev = current(state, mb, id)?;
    let year = state.now().year();
    let mut store = jscal::to_store(&v, &me(mb), year).map_err(ApiError::bad_request)?;
    let except = excluded_dates(&v, store.event.get("start").unwrap_or(&Value::Null))?;
    store
        .event
        .insert("exceptDates".into(), Value::Array(except));
    let flow = workflow(send);
    das(
        state,
        mb,
        Method::PUT,
        &["events", &ev.uid],
        &[("workflow", flow), ("literally", "true")],
        &json!({"timezones": store.timezones, "events": [store.event]}),
    )?;
    if let Some(Value::Object(overrides)) = v.get("recurrenceOverrides") {
        for (k, patch) in overrides {
            let Value::Object(patch) = patch else {
                return Err(ApiError::bad_request(format!(
                    "recurrenceOverrides.{k} must be an object"
                )));
            };
            if patch.get("excluded").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let local = jscal::override_key(k).ok_or_else(|| {
                ApiError::bad_request(format!("Invalid recurrenceOverrides key: {k}"))
            })?;
            patch_instance(state, mb, &ev.uid, local, patch, flow)?;
        }
    }
    answer_entry(state, mb, &ev.uid)
}

/// Change one instance of a series: its generated JSCalendar form with `patch` on top.
fn patch_instance(
    state: &DrapiState,
    mb: &Mailbox,
    uid: &str,
    local: NaiveDateTime,
    patch: &Map<String, Value>,
    flow: &str,
) -> Result<(), ApiError> {
    let ev = current(state, mb, uid)?;
    let occ = occurrences(&ev, DateTime::<Utc>::MAX_UTC)
        .into_iter()
        .find(|o| o.rid_local == Some(local))
        .ok_or_else(|| {
            ApiError::not_found(format!("No instance at {}", jscal::local_text(local)))
        })?;
    let rid = occ.rid.clone().unwrap_or_default();
    let folder = String::new();
    let frame = Frame {
        folder: &folder,
        created: ev.last_modified,
    };
    let mut base = match jscal::entry(&ev, &occ.event, None, &frame) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for (k, val) in patch {
        base.insert(k.clone(), val.clone());
    }
    base.remove("recurrenceRules");
    base.remove("recurrenceOverrides");
    let year = occ.start_utc.year();
    let store = jscal::to_store(&base, &me(mb), year).map_err(ApiError::bad_request)?;
    let mut timezones = store.timezones.clone();
    for t in &ev.timezones {
        if !timezones.iter().any(|x| x.get("tzid") == t.get("tzid")) {
            timezones.push(t.clone());
        }
    }
    das(
        state,
        mb,
        Method::PUT,
        &["events", uid, &rid],
        &[("workflow", flow), ("literally", "true")],
        &json!({"timezones": timezones, "events": [store.event]}),
    )
}

/// `PATCH /calendar/default/{uid}` (P:modifyCalendarEntry): `{"add":[…],"update":[…],
/// "remove":[…]}` participants by e-mail; 200 with the entry.
pub(crate) fn attendees(state: &DrapiState, req: &Req<'_>, mb: &Mailbox, id: &str) -> Answer {
    let send = send(req)?;
    let v = body_object(req)?;
    let ev = current(state, mb, id)?;
    let mut event = ev.event.clone();
    let mut list: Vec<Value> = event
        .get("attendees")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let email_of = |p: &Value| {
        p.get("email")
            .and_then(Value::as_str)
            .map(str::to_lowercase)
            .ok_or_else(|| ApiError::bad_request("Each participant needs an email"))
    };
    let role_of = |p: &Value| {
        let on = |r: &str| {
            p.get("roles")
                .and_then(|x| x.get(r))
                .and_then(Value::as_bool)
                == Some(true)
        };
        if on("chair") {
            "chair"
        } else if on("optional") {
            "opt-participant"
        } else if on("informational") {
            "non-participant"
        } else {
            "req-participant"
        }
    };
    let group = |k: &str| -> Result<Vec<Value>, ApiError> {
        match v.get(k) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => Ok(a.clone()),
            Some(_) => Err(ApiError::bad_request(format!("{k} must be a list"))),
        }
    };
    for p in group("remove")? {
        let e = email_of(&p)?;
        list.retain(|a| {
            a.get("email")
                .and_then(Value::as_str)
                .map(str::to_lowercase)
                != Some(e.clone())
        });
    }
    for p in group("update")? {
        let e = email_of(&p)?;
        for a in &mut list {
            if a.get("email")
                .and_then(Value::as_str)
                .map(str::to_lowercase)
                == Some(e.clone())
            {
                a["role"] = json!(role_of(&p));
                if let Some(s) = p.get("participationStatus").and_then(Value::as_str) {
                    a["status"] = json!(s);
                }
            }
        }
    }
    for p in group("add")? {
        let e = email_of(&p)?;
        if list.iter().any(|a| {
            a.get("email")
                .and_then(Value::as_str)
                .map(str::to_lowercase)
                == Some(e.clone())
        }) {
            continue;
        }
        let mut a =
            json!({"role": role_of(&p), "status": "needs-action", "rsvp": true, "email": e});
        if let (Some(n), Value::Object(m)) = (p.get("name").and_then(Value::as_str), &mut a) {
            m.insert("displayName".into(), json!(n));
        }
        list.push(a);
    }
    if !list.is_empty() && !event.contains_key("organizer") {
        let mine = me(mb);
        event.insert("organizer".into(), json!({"email": mine}));
        if !list
            .iter()
            .any(|a| a.get("email").and_then(Value::as_str) == Some(mine.as_str()))
        {
            list.insert(0, json!({"role":"chair","status":"accepted","email": mine}));
        }
    }
    event.insert("attendees".into(), Value::Array(list));
    das(
        state,
        mb,
        Method::PUT,
        &["events", &ev.uid],
        &[("workflow", workflow(send))],
        &json!({"timezones": ev.timezones, "events": [event]}),
    )?;
    answer_entry(state, mb, &ev.uid)
}

/// `DELETE /calendar/default/{uid}` (P:deleteCalendarEntry): 200, no body, no cancellations.
pub(crate) fn delete(state: &DrapiState, mb: &Mailbox, id: &str) -> Answer {
    let ev = current(state, mb, id)?;
    das(
        state,
        mb,
        Method::DELETE,
        &["events", &ev.uid],
        &[("workflow", "false")],
        &Value::Null,
    )?;
    Ok(StatusCode::OK.into_response())
}
