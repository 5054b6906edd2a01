//! The DAS calendar service scoped to a mail file (domino-api.md §2): event list with
//! recurring instances as rows, event and instance CRUD, instances, invitations and notices.
//!
//! Events are kept as JSON (the master VEVENT plus per-instance overrides) next to a backing
//! document of form `Appointment` (so `documents?since=` lists calendar entries); a notice
//! for an attendee who is a simulator user is a `Notice` document in that user's mail file.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};

use super::caltime::{CalError, EvTime, MAX_INSTANCES, RRule, TzDef, with_until};
use super::model::{Database, DominoServer, ItemValue, NotesTime, canonical_name};
use super::{DasRequest, compact, das_error, das_json};
use crate::common::{param, plus_days, plus_secs};

/// A stored event (a series when it has a `recurrenceRule`).
#[derive(Clone, Debug)]
pub(crate) struct CalEvent {
    pub uid: String,
    /// UNID of the backing `Appointment` document.
    pub unid: String,
    /// The master VEVENT as JSON, without `href`, `id`, `sequence`, `last-modified`, `links`.
    pub event: Map<String, Value>,
    /// `timezones` entries the event's times refer to.
    pub timezones: Vec<Value>,
    pub sequence: i64,
    pub last_modified: DateTime<Utc>,
    /// Changed instances: recurrence id → instance VEVENT JSON (full, with `start`/`end`).
    pub overrides: BTreeMap<String, Map<String, Value>>,
    /// Deleted instances (recurrence ids).
    pub excepted: BTreeSet<String>,
}

/// An unprocessed scheduling notice in an attendee's mail file.
#[derive(Clone, Debug)]
pub(crate) struct Notice {
    /// UNID of the backing `Notice` document (also the notice id in URLs).
    pub id: String,
    pub uid: String,
    /// `request` or `cancel`.
    pub method: String,
    pub received: DateTime<Utc>,
    pub event: Map<String, Value>,
    pub timezones: Vec<Value>,
}

/// Properties of a list row (summary data only) in output order.
const SUMMARY_KEYS: &[&str] = &[
    "summary",
    "location",
    "start",
    "end",
    "class",
    "transparency",
    "status",
    "sequence",
    "categories",
    "priority",
];

/// Properties accepted from clients and rendered, in output order (after `href`, `id`).
const EVENT_KEYS: &[&str] = &[
    "summary",
    "location",
    "description",
    "start",
    "end",
    "recurrenceRule",
    "exceptDates",
    "recurrenceDates",
    "links",
    "recurrenceId",
    "class",
    "transparency",
    "status",
    "sequence",
    "last-modified",
    "duration",
    "categories",
    "priority",
    "attendees",
    "organizer",
    "comment",
];

/// Names `fields=` may select (domino-api.md §2.2).
const LIST_FIELDS: &[&str] = &[
    "categories",
    "class",
    "end",
    "location",
    "priority",
    "sequence",
    "start",
    "status",
    "summary",
    "transparency",
    "x-lotus-apptype",
    "x-lotus-noticetype",
    "x-lotus-onlinemeeting-url",
    "x-lotus-organizer",
    "x-lotus-room",
    "reccurenceid",
];

pub(crate) struct CalCtx<'a> {
    pub server: &'a mut DominoServer,
    pub db_key: String,
    pub user: String,
    pub req: &'a DasRequest<'a>,
    /// Index in `req.segments` of the first segment after `api/calendar`.
    pub rest_start: usize,
    pub origin: String,
    pub now: DateTime<Utc>,
    /// `(user name, mail file key)` of every simulator user, for notices.
    pub users: Vec<(String, String)>,
}

impl CalCtx<'_> {
    fn db(&self) -> &Database {
        &self.server.databases[&self.db_key]
    }

    fn db_mut(&mut self) -> &mut Database {
        self.server
            .databases
            .get_mut(&self.db_key)
            .expect("database checked by the router")
    }

    fn base(&self) -> String {
        format!("/{}/api/calendar", self.db().path)
    }

    fn q(&self, name: &str) -> Option<&str> {
        param(&self.req.query, name)
    }

    fn compact(&self) -> bool {
        compact(&self.req.query)
    }

    /// `recurrenceRange` when it is `all`, `future` or `previous` (any case); DAS takes every
    /// other value, as no value, to mean the one instance.
    fn recurrence_range(&self) -> Option<String> {
        self.q("recurrenceRange")
            .map(str::to_ascii_lowercase)
            .filter(|r| matches!(r.as_str(), "all" | "future" | "previous"))
    }

    fn workflow(&self) -> bool {
        !self
            .q("workflow")
            .is_some_and(|v| v.eq_ignore_ascii_case("false"))
    }
}

/// A calendar store error: `{"code","text","cserror","message","type","data"}`.
pub(crate) fn cal_error((status, code, message): CalError) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({
        "code": status.as_u16(),
        "text": status.canonical_reason().unwrap_or(""),
        "cserror": 1024 + code,
        "message": message,
        "type": "text",
        "data": format!(
            "com.ibm.domino.calendar.store.StoreException: {message}\n\tat com.ibm.domino.calendar.dbstore.NotesCalendarStore.getEvent(NotesCalendarStore.java:532)\n"
        ),
    });
    das_json(status, &body, false)
}

fn not_found() -> Response {
    cal_error((404, 7, "Error reading event".into()))
}

fn bad_request(message: &str) -> Response {
    das_error(StatusCode::BAD_REQUEST, Some(message))
}

fn method_not_allowed() -> Response {
    das_error(StatusCode::METHOD_NOT_ALLOWED, None)
}

fn not_implemented(what: &str) -> Response {
    das_error(
        StatusCode::NOT_IMPLEMENTED,
        Some(&format!("{what} is not implemented by the simulator.")),
    )
}

pub(crate) fn handle(mut ctx: CalCtx<'_>) -> Response {
    // Entries whose backing document was deleted through the data service are gone.
    {
        let db = ctx.db_mut();
        let mut events = std::mem::take(&mut db.events);
        events.retain(|e| db.has_exact_unid(&e.unid));
        db.events = events;
        let mut notices = std::mem::take(&mut db.notices);
        notices.retain(|n| db.has_exact_unid(&n.id));
        db.notices = notices;
    }
    let rest: Vec<String> = ctx.req.segments[ctx.rest_start.min(ctx.req.segments.len())..].to_vec();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    if ctx
        .q("format")
        .is_some_and(|f| f.eq_ignore_ascii_case("icalendar"))
        || ctx
            .req
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/calendar"))
    {
        return not_implemented("The iCalendar format");
    }
    let method = ctx.req.method.clone();
    match (method, rest.as_slice()) {
        (Method::GET, []) => {
            let base = ctx.base();
            das_json(
                StatusCode::OK,
                &json!({ "links": [
                    { "rel": "events", "href": format!("{base}/events") },
                    { "rel": "invitations", "href": format!("{base}/invitations") },
                ]}),
                ctx.compact(),
            )
        }
        (Method::GET, ["events"]) => list(&ctx),
        (Method::POST, ["events"]) => create(&mut ctx),
        (_, ["events"]) => method_not_allowed(),
        (Method::GET, ["events", uid]) => get_event(&ctx, uid),
        (Method::PUT, ["events", uid]) => update(&mut ctx, uid, None),
        (Method::DELETE, ["events", uid]) => delete(&mut ctx, uid, None),
        (Method::GET, ["events", uid, "instances"]) => instances(&ctx, uid),
        (Method::GET, ["events", uid, "notices"]) => event_notices(&ctx, uid),
        (Method::PUT, ["events", uid, "action"]) => action(&mut ctx, Target::Event(uid, None)),
        (Method::PUT, ["events", uid, rid, "action"]) => {
            action(&mut ctx, Target::Event(uid, Some(rid)))
        }
        (Method::PUT, ["notices", id, "action"]) => action(&mut ctx, Target::Notice(id)),
        (Method::GET, ["events", uid, rid]) => get_instance(&ctx, uid, rid),
        (Method::PUT, ["events", uid, rid]) => update(&mut ctx, uid, Some(rid)),
        (Method::DELETE, ["events", uid, rid]) => delete(&mut ctx, uid, Some(rid)),
        (Method::GET, ["invitations"]) => invitations(&ctx),
        (Method::GET, ["notices", id]) => notice(&ctx, id),
        (_, ["events", ..] | ["invitations"] | ["notices", ..]) => method_not_allowed(),
        _ => das_error(StatusCode::NOT_FOUND, Some("Resource not found.")),
    }
}

pub(crate) fn tz_defs(list: &[Value]) -> Vec<TzDef> {
    list.iter().filter_map(|v| TzDef::parse(v).ok()).collect()
}

fn find_event<'a>(db: &'a Database, uid: &str) -> Option<&'a CalEvent> {
    db.events.iter().find(|e| e.uid == uid)
}

/// A row of the event list before it is rendered.
enum Row<'a> {
    Event(&'a CalEvent, Occurrence),
    /// An unprocessed meeting request, shown as the meeting.
    Notice(&'a Notice),
}

/// One instance or a non-recurring event: `(recurrence id if recurring, start, end, body)`.
pub(crate) struct Occurrence {
    pub rid: Option<String>,
    /// The instance's original local start (the one its recurrence id names).
    pub rid_local: Option<NaiveDateTime>,
    pub start_utc: DateTime<Utc>,
    pub event: Map<String, Value>,
}

pub(crate) fn time_of(event: &Map<String, Value>, key: &str, tzs: &[TzDef]) -> Option<EvTime> {
    event.get(key).and_then(|v| EvTime::parse(v, tzs).ok())
}

/// The occurrences of an event starting at or before `limit` (a series: its instances).
pub(crate) fn occurrences(ev: &CalEvent, limit: DateTime<Utc>) -> Vec<Occurrence> {
    let tzs = tz_defs(&ev.timezones);
    let Some(start) = time_of(&ev.event, "start", &tzs) else {
        return Vec::new();
    };
    let end = time_of(&ev.event, "end", &tzs);
    let rule = ev
        .event
        .get("recurrenceRule")
        .and_then(Value::as_str)
        .and_then(RRule::parse);
    let Some(rule) = rule else {
        let mut event = ev.event.clone();
        event.remove("recurrenceRule");
        return vec![Occurrence {
            rid: None,
            rid_local: None,
            start_utc: start.to_utc(&tzs),
            event,
        }];
    };
    let length = end.as_ref().map(|e| e.local() - start.local());
    let mut out = Vec::new();
    for local in rule.expand(&start, &tzs, limit) {
        let s = start.with_local(local);
        let rid = s.recurrence_id(&tzs);
        if ev.excepted.contains(&rid) {
            continue;
        }
        let event = match ev.overrides.get(&rid) {
            Some(o) => o.clone(),
            None => {
                let mut e = ev.event.clone();
                for k in ["recurrenceRule", "exceptDates", "recurrenceDates"] {
                    e.remove(k);
                }
                e.insert("start".into(), s.to_json());
                if let (Some(end), Some(len)) = (&end, length) {
                    let local_end = local.checked_add_signed(len).unwrap_or(NaiveDateTime::MAX);
                    e.insert("end".into(), end.with_local(local_end).to_json());
                }
                e
            }
        };
        let start_utc = time_of(&event, "start", &tzs).map_or(s.to_utc(&tzs), |t| t.to_utc(&tzs));
        out.push(Occurrence {
            rid: Some(rid),
            rid_local: Some(local),
            start_utc,
            event,
        });
    }
    out
}

fn ical_utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Full rendering of an occurrence or master: `href`, `id`, the properties in order.
fn render(
    base: &str,
    ev: &CalEvent,
    body: &Map<String, Value>,
    rid: Option<&str>,
    summary_only: bool,
) -> Value {
    let mut m = Map::new();
    let href = match rid {
        Some(r) => format!("{base}/events/{}/{r}", ev.uid),
        None => format!("{base}/events/{}", ev.uid),
    };
    m.insert("href".into(), json!(href));
    m.insert("id".into(), json!(ev.uid));
    let keys: &[&str] = if summary_only {
        SUMMARY_KEYS
    } else {
        EVENT_KEYS
    };
    let recurring = body.contains_key("recurrenceRule");
    for key in keys {
        match *key {
            "sequence" => {
                m.insert("sequence".into(), json!(ev.sequence));
            }
            "last-modified" => {
                m.insert("last-modified".into(), json!(ical_utc(ev.last_modified)));
            }
            "links" if recurring && rid.is_none() => {
                m.insert(
                    "links".into(),
                    json!([{ "rel": "instances", "href": format!("{base}/events/{}/instances", ev.uid) }]),
                );
            }
            "exceptDates" if recurring && rid.is_none() && !ev.excepted.is_empty() => {
                let dates: Vec<Value> = ev.excepted.iter().map(|r| rid_json(r)).collect();
                m.insert("exceptDates".into(), Value::Array(dates));
            }
            "recurrenceId" => {
                if let Some(r) = rid {
                    m.insert("recurrenceId".into(), json!(r));
                }
            }
            k => {
                if let Some(v) = body.get(k) {
                    m.insert(k.into(), v.clone());
                }
            }
        }
        if summary_only
            && *key == "end"
            && let Some(r) = rid
        {
            m.insert("recurrenceId".into(), json!(r));
        }
    }
    for (k, v) in body {
        if k.starts_with("x-") {
            m.insert(k.clone(), v.clone());
        }
    }
    if !summary_only && let Some(a) = body.get("alarm") {
        m.insert("alarm".into(), a.clone());
    }
    Value::Object(m)
}

/// A recurrence id as an `exDateTime` (ids from a loaded dump may be any text).
fn rid_json(rid: &str) -> Value {
    let part = |from: usize, to: usize| rid.get(from..to).unwrap_or_default();
    let date = || format!("{}-{}-{}", part(0, 4), part(4, 6), part(6, 8));
    if !rid.is_ascii() {
        json!({ "date": rid })
    } else if rid.len() == 8 {
        json!({ "date": date() })
    } else if rid.len() == 16 {
        json!({
            "date": date(),
            "time": format!("{}:{}:{}", part(9, 11), part(11, 13), part(13, 15)),
            "utc": true,
        })
    } else {
        json!({ "date": rid })
    }
}

/// `yyyy-MM-dd'T'HH:mm:ss'Z'` exactly.
fn parse_exact(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ")
        .ok()
        .map(|t| t.and_utc())
}

fn int_param(ctx: &CalCtx<'_>, name: &str) -> Result<Option<i64>, Response> {
    match ctx.q(name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad_request(&format!("Invalid {name} parameter: {v}."))),
    }
}

fn list(ctx: &CalCtx<'_>) -> Response {
    match list_inner(ctx) {
        Ok(r) | Err(r) => r,
    }
}

fn list_inner(ctx: &CalCtx<'_>) -> Result<Response, Response> {
    let unparseable = |s: &str| bad_request(&format!("Unparseable date: \"{s}\""));
    let since_param = ctx.q("since");
    let before_param = ctx.q("before");
    let sincenow = int_param(ctx, "sincenow")?;
    let days = int_param(ctx, "days")?;
    if since_param.is_some() && sincenow.is_some() {
        return Err(bad_request(
            "The \"since\" and \"sincenow\" parameters are mutually exclusive.",
        ));
    }
    if before_param.is_some() && days.is_some() {
        return Err(bad_request(
            "The \"before\" and \"days\" parameters are mutually exclusive.",
        ));
    }
    if days.is_some_and(|d| d <= 0) {
        return Err(bad_request(&format!(
            "Invalid days parameter: {}.  It must be greater than 0.",
            days.unwrap_or(0)
        )));
    }
    // `sincenow` and `days` only move the window (the service answers 200 however far):
    // beyond the dates chrono can hold the window stops at its ends, where no event starts.
    let since = match since_param {
        Some(s) => Some(parse_exact(s).ok_or_else(|| unparseable(s))?),
        None => sincenow.map(|n| plus_days(ctx.now, n)),
    };
    let before = match before_param {
        Some(s) => Some(parse_exact(s).ok_or_else(|| unparseable(s))?),
        None => None,
    };
    let (since, before) = match (since, before) {
        (Some(s), Some(b)) => (s, b),
        (Some(s), None) => (s, plus_days(s, days.unwrap_or(365))),
        (None, Some(b)) => (plus_days(b, -365), b),
        (None, None) => (ctx.now, plus_days(ctx.now, days.unwrap_or(365))),
    };
    // Only a `before` the client gave can come before `since`; a window pushed against the
    // end of time is empty, not reversed.
    if before_param.is_some() && before <= since {
        return Err(bad_request(
            "The \"before\" date must be after the \"since\" date",
        ));
    }
    let start = int_param(ctx, "start")?.unwrap_or(0);
    if start < 0 {
        return Err(bad_request(&format!(
            "Invalid start parameter: {start}.  It must be greater than or equal to 0."
        )));
    }
    let count = int_param(ctx, "count")?.unwrap_or(50);
    if !(1..=100).contains(&count) {
        return Err(bad_request(&format!(
            "Invalid count parameter: {count}.  It must be greater than 0 and less than 101."
        )));
    }
    let fields: Option<Vec<String>> = ctx.q("fields").and_then(|f| {
        let names: Vec<String> = f
            .split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| LIST_FIELDS.contains(&s.as_str()))
            .collect();
        (!names.is_empty()).then_some(names)
    });
    let db = ctx.db();
    let base = ctx.base();
    // Rows are sorted by (start, id) first and rendered for the page only.
    let mut rows: Vec<(DateTime<Utc>, &str, Row<'_>)> = Vec::new();
    for ev in &db.events {
        for occ in occurrences(ev, before) {
            if occ.start_utc >= since && occ.start_utc < before {
                rows.push((occ.start_utc, &ev.uid, Row::Event(ev, occ)));
            }
        }
    }
    for n in db.notices.iter().filter(|n| n.method == "request") {
        let tzs = tz_defs(&n.timezones);
        let Some(t) = time_of(&n.event, "start", &tzs).map(|t| t.to_utc(&tzs)) else {
            continue;
        };
        if t >= since && t < before {
            rows.push((t, &n.uid, Row::Notice(n)));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let start = usize::try_from(start).unwrap_or(usize::MAX);
    let count = usize::try_from(count).unwrap_or(50);
    let page: Vec<Value> = rows
        .into_iter()
        .skip(start)
        .take(count)
        .map(|(_, _, row)| {
            let mut v = match row {
                Row::Event(ev, occ) => render(&base, ev, &occ.event, occ.rid.as_deref(), true),
                Row::Notice(n) => {
                    let fake = CalEvent {
                        uid: n.uid.clone(),
                        unid: n.id.clone(),
                        event: n.event.clone(),
                        timezones: Vec::new(),
                        sequence: n.event.get("sequence").and_then(Value::as_i64).unwrap_or(0),
                        last_modified: n.received,
                        overrides: BTreeMap::new(),
                        excepted: BTreeSet::new(),
                    };
                    render(&base, &fake, &n.event, None, true)
                }
            };
            if let (Some(fields), Value::Object(m)) = (&fields, &mut v) {
                m.retain(|k, _| {
                    k == "href"
                        || k == "id"
                        || fields
                            .iter()
                            .any(|f| f == k || (f == "reccurenceid" && k == "recurrenceId"))
                });
            }
            v
        })
        .collect();
    if page.is_empty() {
        return Ok(StatusCode::OK.into_response());
    }
    let range = format!("items {}-{}", start, start + page.len() - 1);
    let mut response = das_json(StatusCode::OK, &json!({ "events": page }), ctx.compact());
    if let Ok(v) = HeaderValue::from_str(&range) {
        response.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    Ok(response)
}

fn event_response(
    status: StatusCode,
    ctx: &CalCtx<'_>,
    timezones: &[Value],
    events: Vec<Value>,
) -> Response {
    let mut m = Map::new();
    if !timezones.is_empty() {
        m.insert("timezones".into(), Value::Array(timezones.to_vec()));
    }
    m.insert("events".into(), Value::Array(events));
    das_json(status, &Value::Object(m), ctx.compact())
}

fn series_json(base: &str, ev: &CalEvent) -> Vec<Value> {
    let mut out = vec![render(base, ev, &ev.event, None, false)];
    for (rid, o) in &ev.overrides {
        out.push(render(base, ev, o, Some(rid), false));
    }
    out
}

fn get_event(ctx: &CalCtx<'_>, uid: &str) -> Response {
    let Some(ev) = find_event(ctx.db(), uid) else {
        return not_found();
    };
    event_response(
        StatusCode::OK,
        ctx,
        &ev.timezones,
        series_json(&ctx.base(), ev),
    )
}

/// The occurrence with this recurrence id (`None` when the series has no such instance).
fn find_occurrence(ev: &CalEvent, rid: &str) -> Option<Occurrence> {
    if !ev.event.contains_key("recurrenceRule") {
        return None;
    }
    let limit = plus_days(rid_time(rid)?, 1);
    occurrences(ev, limit)
        .into_iter()
        .find(|o| o.rid.as_deref() == Some(rid))
}

fn rid_time(rid: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(rid, "%Y%m%dT%H%M%SZ")
        .map(|t| t.and_utc())
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(rid, "%Y%m%d")
                .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
        })
        .ok()
}

fn get_instance(ctx: &CalCtx<'_>, uid: &str, rid: &str) -> Response {
    let Some(ev) = find_event(ctx.db(), uid) else {
        return not_found();
    };
    let Some(occ) = find_occurrence(ev, rid) else {
        return not_found();
    };
    let body = render(&ctx.base(), ev, &occ.event, Some(rid), false);
    event_response(StatusCode::OK, ctx, &ev.timezones, vec![body])
}

fn instances(ctx: &CalCtx<'_>, uid: &str) -> Response {
    let Some(ev) = find_event(ctx.db(), uid) else {
        return not_found();
    };
    if !ev.event.contains_key("recurrenceRule") {
        return bad_request("Event does not recur");
    }
    let base = ctx.base();
    let list: Vec<Value> = occurrences(ev, DateTime::<Utc>::MAX_UTC)
        .into_iter()
        .filter_map(|o| o.rid)
        .take(MAX_INSTANCES)
        .map(|rid| json!({ "recurrenceId": rid, "href": format!("{base}/events/{uid}/{rid}") }))
        .collect();
    das_json(StatusCode::OK, &json!({ "instances": list }), ctx.compact())
}

/// The parsed body of a POST or PUT: `timezones` and the events.
struct EventBody {
    timezones: Vec<Value>,
    events: Vec<Map<String, Value>>,
}

fn parse_body(ctx: &CalCtx<'_>) -> Result<EventBody, Response> {
    if ctx.req.body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad_request("Empty request body."));
    }
    let v: Value = serde_json::from_slice(ctx.req.body)
        .map_err(|_| cal_error((400, 10, "Error parsing JSON input".into())))?;
    let obj = v
        .as_object()
        .ok_or_else(|| cal_error((400, 10, "Error parsing JSON input".into())))?;
    let timezones: Vec<Value> = match obj.get("timezones") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(cal_error((400, 10, "Error parsing JSON input".into()))),
    };
    let tzs: Vec<TzDef> = timezones
        .iter()
        .map(TzDef::parse)
        .collect::<Result<_, _>>()
        .map_err(|e| cal_error((400, 10, format!("Invalid time zone: {e}"))))?;
    let events: Vec<Map<String, Value>> = match obj.get("events") {
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|e| {
                e.as_object()
                    .cloned()
                    .ok_or_else(|| cal_error((400, 10, "Error parsing JSON input".into())))
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(cal_error((400, 10, "No events in the request".into()))),
    };
    for e in &events {
        validate_event(e, &tzs).map_err(cal_error)?;
    }
    Ok(EventBody { timezones, events })
}

fn validate_event(e: &Map<String, Value>, tzs: &[TzDef]) -> Result<(), CalError> {
    let start = EvTime::parse(e.get("start").ok_or_else(super::caltime::bad_time)?, tzs)?;
    if let Some(end) = e.get("end") {
        let end = EvTime::parse(end, tzs)?;
        if end.to_utc(tzs) < start.to_utc(tzs) {
            return Err((400, 10, "The end time is before the start time".into()));
        }
    }
    for key in ["exceptDates", "recurrenceDates"] {
        if let Some(Value::Array(list)) = e.get(key) {
            for d in list {
                if key == "exceptDates" {
                    EvTime::parse(d, tzs)?;
                }
            }
        }
    }
    if let Some(r) = e.get("recurrenceRule")
        && r.as_str().and_then(RRule::parse).is_none()
    {
        return Err((400, 10, "Invalid recurrence rule".into()));
    }
    for key in ["class", "transparency", "status"] {
        if let Some(v) = e.get(key)
            && !v.is_string()
        {
            return Err((400, 10, format!("Invalid {key} property")));
        }
    }
    Ok(())
}

/// Keep only the timezones the event's times use.
fn used_timezones(timezones: &[Value], events: &[&Map<String, Value>]) -> Vec<Value> {
    let mut used = BTreeSet::new();
    for e in events {
        for k in ["start", "end"] {
            if let Some(id) = e.get(k).and_then(|t| t.get("tzid")).and_then(Value::as_str) {
                used.insert(id.to_owned());
            }
        }
    }
    timezones
        .iter()
        .filter(|t| {
            t.get("tzid")
                .and_then(Value::as_str)
                .is_some_and(|id| used.contains(id))
        })
        .cloned()
        .collect()
}

/// The stored form of a client event: known properties and X-properties, lower-cased
/// `class`/`transparency`/`status`, defaults for class and transparency, x-lotus-appttype.
fn normalize(e: &Map<String, Value>, tzs: &[TzDef]) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in e {
        let lk = k.to_ascii_lowercase();
        if matches!(
            k.as_str(),
            "href" | "id" | "sequence" | "last-modified" | "links" | "recurrenceId" | "exceptDates"
        ) {
            continue;
        }
        if EVENT_KEYS.contains(&k.as_str()) || lk.starts_with("x-") || k == "alarm" {
            let v = match (k.as_str(), v) {
                ("class" | "transparency" | "status", Value::String(s)) => json!(s.to_lowercase()),
                _ => v.clone(),
            };
            m.insert(if lk.starts_with("x-") { lk } else { k.clone() }, v);
        }
    }
    m.entry("class").or_insert_with(|| json!("public"));
    m.entry("transparency").or_insert_with(|| json!("opaque"));
    let all_day = time_of(&m, "start", tzs).is_some_and(|t| t.all_day());
    let meeting = m
        .get("attendees")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let appt = if meeting {
        "3"
    } else if all_day {
        "2"
    } else {
        "0"
    };
    m.entry("x-lotus-appttype")
        .or_insert_with(|| json!({ "data": appt }));
    m
}

fn excepted_from(e: &Map<String, Value>, tzs: &[TzDef]) -> BTreeSet<String> {
    e.get("exceptDates")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|d| EvTime::parse(d, tzs).ok())
                .map(|t| t.recurrence_id(tzs))
                .collect()
        })
        .unwrap_or_default()
}

/// A Notes-generated iCalendar UID and the UNID of its backing document: the UID is the
/// document's UNID (its `ApptUNID`) followed by `-Lotus_Notes_Generated` (domino-api.md §3's
/// example UID; that the hex part is the chair's document UNID is \[I\]).
fn new_uid(server: &mut DominoServer) -> (String, String) {
    let unid = server.new_unid();
    (format!("{unid}-Lotus_Notes_Generated"), unid)
}

/// The backing document's items.
fn doc_items(ev: &CalEvent) -> Vec<(String, ItemValue)> {
    let tzs = tz_defs(&ev.timezones);
    let text = |k: &str| {
        ev.event
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let mut items = vec![
        ("Form".to_owned(), ItemValue::text("Appointment")),
        ("ApptUNID".to_owned(), ItemValue::text(&ev.uid)),
        ("Subject".to_owned(), ItemValue::text(&text("summary"))),
        ("Location".to_owned(), ItemValue::text(&text("location"))),
        (
            "AppointmentType".to_owned(),
            ItemValue::text(
                ev.event
                    .get("x-lotus-appttype")
                    .and_then(|v| v.get("data"))
                    .and_then(Value::as_str)
                    .unwrap_or("0"),
            ),
        ),
        ("Body".to_owned(), ItemValue::text(&text("description"))),
        (
            "SequenceNum".to_owned(),
            ItemValue::Number(vec![ev.sequence as f64]),
        ),
    ];
    for (k, item) in [("start", "StartDateTime"), ("end", "EndDateTime")] {
        if let Some(t) = time_of(&ev.event, k, &tzs) {
            let v = if t.all_day() {
                NotesTime::Date(t.date)
            } else {
                NotesTime::DateTime(t.to_utc(&tzs))
            };
            items.push((item.to_owned(), ItemValue::Time(vec![v])));
        }
    }
    let private = matches!(text("class").as_str(), "private" | "confidential");
    items.push((
        "OrgConfidential".to_owned(),
        ItemValue::text(if private { "1" } else { "" }),
    ));
    items
}

/// Write the backing document of `ev` (create it when missing).
fn sync_doc(db: &mut Database, ev: &CalEvent, author: &str, now: DateTime<Utc>) {
    let items = doc_items(ev);
    if let Some(mut doc) = db.doc_mut(&ev.unid) {
        for (k, v) in items {
            doc.set(&k, v);
        }
        doc.modified = now;
        if !doc.authors.iter().any(|a| a == author) {
            doc.authors.push(author.to_owned());
        }
    } else {
        db.add(ev.unid.clone(), now, now, author, items);
    }
}

/// E-mail of a simulator user: `{name}@example.com`.
fn user_email(name: &str) -> String {
    format!("{}@example.com", name.to_lowercase())
}

/// Send a notice to each attendee who is another simulator user.
fn send_notices(ctx: &mut CalCtx<'_>, ev: &CalEvent, method: &str) {
    let attendees: Vec<String> = ev
        .event
        .get("attendees")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.get("email").and_then(Value::as_str))
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default();
    let me = ctx.user.to_lowercase();
    let targets: Vec<String> = ctx
        .users
        .iter()
        .filter(|(name, _)| name.to_lowercase() != me)
        .filter(|(name, _)| attendees.contains(&user_email(name)))
        .map(|(_, key)| key.clone())
        .collect();
    let now = ctx.now;
    let author = canonical_name(&ctx.user);
    for key in targets {
        let id = ctx.server.new_unid();
        let Some(db) = ctx.server.databases.get_mut(&key) else {
            continue;
        };
        let mut event = ev.event.clone();
        event.insert(
            "x-lotus-noticetype".into(),
            json!({ "data": if method == "cancel" { "C" } else { "I" } }),
        );
        event.insert("sequence".into(), json!(ev.sequence));
        // A newer notice for the same event replaces the unprocessed one.
        let old: Vec<String> = db
            .notices
            .iter()
            .filter(|n| n.uid == ev.uid)
            .map(|n| n.id.clone())
            .collect();
        db.notices.retain(|n| n.uid != ev.uid);
        for unid in &old {
            db.remove_documents_with_unid(unid);
        }
        let summary = event
            .get("summary")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        db.add(
            id.clone(),
            now,
            now,
            &author,
            vec![
                ("Form".into(), ItemValue::text("Notice")),
                ("ApptUNID".into(), ItemValue::text(&ev.uid)),
                ("Subject".into(), ItemValue::text(&summary)),
                (
                    "NoticeType".into(),
                    ItemValue::text(if method == "cancel" { "C" } else { "I" }),
                ),
                ("From".into(), ItemValue::Names(vec![author.clone()])),
            ],
        );
        db.notices.push(Notice {
            id,
            uid: ev.uid.clone(),
            method: method.to_owned(),
            received: now,
            event,
            timezones: ev.timezones.clone(),
        });
    }
}

fn location_response(ctx: &CalCtx<'_>, status: StatusCode, ev: &CalEvent) -> Response {
    let base = ctx.base();
    let mut response = event_response(status, ctx, &ev.timezones, series_json(&base, ev));
    if status == StatusCode::CREATED
        && let Ok(v) = HeaderValue::from_str(&format!("{}{base}/events/{}", ctx.origin, ev.uid))
    {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

fn create(ctx: &mut CalCtx<'_>) -> Response {
    let body = match parse_body(ctx) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let tzs = tz_defs(&body.timezones);
    let master = body
        .events
        .iter()
        .find(|e| !e.contains_key("recurrenceId"))
        .unwrap_or(&body.events[0]);
    let (uid, unid) = match master.get("id").and_then(Value::as_str) {
        Some(id) if !id.trim().is_empty() => (id.trim().to_owned(), ctx.server.new_unid()),
        _ => new_uid(ctx.server),
    };
    if find_event(ctx.db(), &uid).is_some() {
        return cal_error((409, 8, "An entry with this id already exists".into()));
    }
    let event = normalize(master, &tzs);
    let mut ev = CalEvent {
        uid,
        unid,
        timezones: Vec::new(),
        sequence: master.get("sequence").and_then(Value::as_i64).unwrap_or(0),
        last_modified: ctx.now,
        overrides: BTreeMap::new(),
        excepted: excepted_from(master, &tzs),
        event,
    };
    let mut all: Vec<&Map<String, Value>> = vec![master];
    for e in body.events.iter().filter(|e| !std::ptr::eq(*e, master)) {
        if let Some(rid) = e.get("recurrenceId").and_then(Value::as_str) {
            ev.overrides.insert(rid.to_owned(), normalize(e, &tzs));
            all.push(e);
        }
    }
    ev.timezones = used_timezones(&body.timezones, &all);
    let author = canonical_name(&ctx.user);
    let now = ctx.now;
    sync_doc(ctx.db_mut(), &ev, &author, now);
    ctx.db_mut().events.push(ev.clone());
    if ctx.workflow() {
        send_notices(ctx, &ev, "request");
    }
    location_response(ctx, StatusCode::CREATED, &ev)
}

/// Properties whose change makes attendees' copies outdated (bump `sequence`).
const SIGNIFICANT: &[&str] = &["start", "end", "recurrenceRule", "location"];

fn update(ctx: &mut CalCtx<'_>, uid: &str, rid: Option<&str>) -> Response {
    let body = match parse_body(ctx) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let tzs = tz_defs(&body.timezones);
    let Some(pos) = ctx.db().events.iter().position(|e| e.uid == uid) else {
        return not_found();
    };
    let literally = ctx
        .q("literally")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let strict = ctx
        .q("strictsequence")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let range = ctx.recurrence_range();
    let mut ev = ctx.db().events[pos].clone();
    let incoming = &body.events[0];
    if strict
        && let Some(seq) = incoming.get("sequence").and_then(Value::as_i64)
        && seq < ev.sequence
    {
        return cal_error((409, 3, "A newer version of the event exists".into()));
    }
    let mut new = normalize(incoming, &tzs);
    let keep_description = |new: &mut Map<String, Value>, old: &Map<String, Value>| {
        if !literally
            && !new.contains_key("description")
            && let Some(d) = old.get("description")
        {
            new.insert("description".into(), d.clone());
        }
    };
    let significant;
    match (rid, range.as_deref()) {
        (None, _) | (Some(_), Some("all")) => {
            if let Some(r) = rid
                && find_occurrence(&ev, r).is_none()
            {
                return not_found();
            }
            if rid.is_some() {
                // Whole series from an instance: the series keeps its own dates and rule.
                for k in ["start", "end", "recurrenceRule"] {
                    match ev.event.get(k) {
                        Some(v) => new.insert(k.into(), v.clone()),
                        None => new.remove(k),
                    };
                }
            }
            keep_description(&mut new, &ev.event);
            significant = SIGNIFICANT.iter().any(|k| new.get(*k) != ev.event.get(*k));
            if new.get("recurrenceRule") != ev.event.get("recurrenceRule")
                || new.get("start") != ev.event.get("start")
            {
                ev.overrides.clear();
                ev.excepted.clear();
            }
            if rid.is_none() && incoming.contains_key("exceptDates") {
                ev.excepted = excepted_from(incoming, &tzs);
            }
            ev.event = new;
            ev.timezones = used_timezones(&body.timezones, &[&ev.event]);
        }
        (Some(r), Some(dir @ ("future" | "previous"))) => {
            // This instance and those after (before) it: the properties other than the times.
            let Some(target) = find_occurrence(&ev, r) else {
                return not_found();
            };
            for k in ["start", "end", "recurrenceRule", "recurrenceId"] {
                new.remove(k);
            }
            let all = occurrences(&ev, DateTime::<Utc>::MAX_UTC);
            let mut changed = false;
            for occ in all.into_iter().filter(|o| {
                if dir == "future" {
                    o.start_utc >= target.start_utc
                } else {
                    o.start_utc <= target.start_utc
                }
            }) {
                let Some(orid) = occ.rid else { continue };
                let mut body = occ.event.clone();
                for (k, v) in &new {
                    body.insert(k.clone(), v.clone());
                }
                if literally && !new.contains_key("description") {
                    body.remove("description");
                }
                changed |= SIGNIFICANT
                    .iter()
                    .any(|k| body.get(*k) != occ.event.get(*k));
                ev.overrides.insert(orid, body);
            }
            significant = changed;
        }
        (Some(r), _) => {
            let Some(occ) = find_occurrence(&ev, r) else {
                return not_found();
            };
            keep_description(&mut new, &occ.event);
            new.remove("recurrenceRule");
            significant = SIGNIFICANT.iter().any(|k| new.get(*k) != occ.event.get(*k));
            let mut tz_list = ev.timezones.clone();
            for t in used_timezones(&body.timezones, &[&new]) {
                if !tz_list.iter().any(|x| x.get("tzid") == t.get("tzid")) {
                    tz_list.push(t);
                }
            }
            ev.timezones = tz_list;
            ev.overrides.insert(r.to_owned(), new);
        }
    }
    if significant {
        ev.sequence += 1;
    }
    ev.last_modified = ctx.now;
    let author = canonical_name(&ctx.user);
    let now = ctx.now;
    sync_doc(ctx.db_mut(), &ev, &author, now);
    ctx.db_mut().events[pos] = ev.clone();
    if ctx.workflow() {
        send_notices(ctx, &ev, "request");
    }
    match rid {
        Some(r) if range.is_none() => {
            let Some(occ) = find_occurrence(&ev, r) else {
                return not_found();
            };
            let body = render(&ctx.base(), &ev, &occ.event, Some(r), false);
            event_response(StatusCode::OK, ctx, &ev.timezones, vec![body])
        }
        _ => location_response(ctx, StatusCode::OK, &ev),
    }
}

fn delete(ctx: &mut CalCtx<'_>, uid: &str, rid: Option<&str>) -> Response {
    let Some(pos) = ctx.db().events.iter().position(|e| e.uid == uid) else {
        return not_found();
    };
    let range = ctx.recurrence_range();
    let mut ev = ctx.db().events[pos].clone();
    let whole = match (rid, range.as_deref()) {
        (None, _) | (Some(_), Some("all")) => true,
        (Some(r), Some("future")) => {
            let Some(occ) = find_occurrence(&ev, r) else {
                return not_found();
            };
            let rule = ev
                .event
                .get("recurrenceRule")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let until = plus_secs(occ.start_utc, -1);
            ev.event
                .insert("recurrenceRule".into(), json!(with_until(rule, until)));
            ev.overrides
                .retain(|k, _| rid_time(k).is_some_and(|t| t < occ.start_utc));
            false
        }
        (Some(r), Some("previous")) => {
            let Some(occ) = find_occurrence(&ev, r) else {
                return not_found();
            };
            for o in occurrences(&ev, occ.start_utc) {
                if let Some(x) = o.rid {
                    ev.overrides.remove(&x);
                    ev.excepted.insert(x);
                }
            }
            false
        }
        (Some(r), _) => {
            if find_occurrence(&ev, r).is_none() {
                return not_found();
            }
            ev.excepted.insert(r.to_owned());
            ev.overrides.remove(r);
            false
        }
    };
    let workflow = ctx.workflow();
    if whole {
        let db = ctx.db_mut();
        db.events.remove(pos);
        db.remove_documents_with_unid(&ev.unid);
    } else {
        ev.last_modified = ctx.now;
        ev.sequence += 1;
        let author = canonical_name(&ctx.user);
        let now = ctx.now;
        sync_doc(ctx.db_mut(), &ev, &author, now);
        ctx.db_mut().events[pos] = ev.clone();
    }
    if workflow {
        send_notices(ctx, &ev, if whole { "cancel" } else { "request" });
    }
    StatusCode::OK.into_response()
}

enum Target<'a> {
    Event(&'a str, Option<&'a str>),
    Notice(&'a str),
}

/// `PUT …/action?type=`: `accept`, `tentative`, `decline` on a notice (the invitation is
/// processed: accepted or tentative puts the meeting on this calendar, the organizer's copy
/// records the reply), `delete` and `cancel` on an event (cancel also sends cancel notices).
/// Other valid types answer 501.
fn action(ctx: &mut CalCtx<'_>, target: Target<'_>) -> Response {
    let Some(kind) = ctx.q("type").map(str::to_ascii_lowercase) else {
        return bad_request("Action type not specified.");
    };
    const TYPES: &[&str] = &[
        "accept",
        "tentative",
        "decline",
        "delegate",
        "counter",
        "requestinfo",
        "cancel",
        "delete",
        "processall",
        "removecancelled",
    ];
    if !TYPES.contains(&kind.as_str()) {
        return bad_request("Unknown action type.");
    }
    if !ctx.req.body.iter().all(u8::is_ascii_whitespace)
        && !serde_json::from_slice::<Value>(ctx.req.body).is_ok_and(|v| v.is_object())
    {
        return das_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("Unsupported media type."),
        );
    }
    match (target, kind.as_str()) {
        // Delete sends cancel notices (an instance: an updated request) unless workflow=false.
        (Target::Event(uid, rid), "cancel" | "delete") => delete(ctx, uid, rid),
        (Target::Notice(id), reply @ ("accept" | "tentative" | "decline")) => {
            reply_to_notice(ctx, id, reply)
        }
        (Target::Notice(_), "delete" | "cancel") => {
            cal_error((400, 4, "Action not supported".into()))
        }
        _ => not_implemented(&format!("The {kind} action")),
    }
}

fn reply_to_notice(ctx: &mut CalCtx<'_>, id: &str, reply: &str) -> Response {
    let Some(pos) = ctx
        .db()
        .notices
        .iter()
        .position(|n| n.id.eq_ignore_ascii_case(id))
    else {
        return cal_error((404, 7, "Error reading notice".into()));
    };
    let notice = ctx.db().notices[pos].clone();
    if notice.method != "request" {
        return cal_error((400, 4, "Action not supported".into()));
    }
    let status = match reply {
        "accept" => "accepted",
        "tentative" => "tentative",
        _ => "declined",
    };
    let me = user_email(&ctx.user);
    let set_status = |event: &mut Map<String, Value>| {
        if let Some(Value::Array(list)) = event.get_mut("attendees") {
            for a in list.iter_mut() {
                if a.get("email")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.eq_ignore_ascii_case(&me))
                {
                    a["status"] = json!(status);
                }
            }
        }
    };
    let now = ctx.now;
    let author = canonical_name(&ctx.user);
    {
        let db = ctx.db_mut();
        db.notices.remove(pos);
        db.remove_documents_with_unid(&notice.id);
    }
    if reply != "decline" {
        let mut event = notice.event.clone();
        event.remove("x-lotus-noticetype");
        event.remove("sequence");
        set_status(&mut event);
        let unid = ctx.server.new_unid();
        let db = ctx.db_mut();
        let existing = db.events.iter().position(|e| e.uid == notice.uid);
        let ev = CalEvent {
            uid: notice.uid.clone(),
            unid: existing.map_or(unid, |p| db.events[p].unid.clone()),
            event,
            timezones: notice.timezones.clone(),
            sequence: notice
                .event
                .get("sequence")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            last_modified: now,
            overrides: BTreeMap::new(),
            excepted: BTreeSet::new(),
        };
        sync_doc(db, &ev, &author, now);
        match existing {
            Some(p) => db.events[p] = ev,
            None => db.events.push(ev),
        }
    }
    // The organizer's copy records the reply when the organizer is a simulator user.
    let organizer = notice
        .event
        .get("organizer")
        .and_then(|o| o.get("email"))
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let organizer_db = ctx
        .users
        .iter()
        .find(|(name, _)| organizer.as_deref() == Some(user_email(name).as_str()))
        .map(|(_, key)| key.clone());
    if ctx.workflow()
        && let Some(key) = organizer_db
        && let Some(db) = ctx.server.databases.get_mut(&key)
        && let Some(ev) = db.events.iter_mut().find(|e| e.uid == notice.uid)
    {
        set_status(&mut ev.event);
        ev.last_modified = now;
        let ev = ev.clone();
        sync_doc(db, &ev, &author, now);
    }
    StatusCode::OK.into_response()
}

fn notice_summary(base: &str, n: &Notice) -> Value {
    json!({
        "summary": n.event.get("summary").and_then(Value::as_str).unwrap_or(""),
        "scheduleMethod": n.method,
        "href": format!("{base}/notices/{}", n.id),
    })
}

fn invitations(ctx: &CalCtx<'_>) -> Response {
    let mut since = None;
    for name in ["since", "receivedsince"] {
        if let Some(s) = ctx.q(name) {
            match parse_exact(s) {
                Some(t) => since = Some(t),
                None => return bad_request(&format!("Unparseable date: \"{s}\"")),
            }
        }
    }
    let id = ctx.q("id");
    let base = ctx.base();
    let list: Vec<Value> = ctx
        .db()
        .notices
        .iter()
        .filter(|n| n.method == "request")
        .filter(|n| since.is_none_or(|s| n.received > s))
        .filter(|n| id.is_none_or(|i| n.uid == i))
        .map(|n| notice_summary(&base, n))
        .collect();
    das_json(StatusCode::OK, &json!({ "notices": list }), ctx.compact())
}

fn event_notices(ctx: &CalCtx<'_>, uid: &str) -> Response {
    let base = ctx.base();
    let list: Vec<Value> = ctx
        .db()
        .notices
        .iter()
        .filter(|n| n.uid == uid)
        .map(|n| notice_summary(&base, n))
        .collect();
    if list.is_empty() && find_event(ctx.db(), uid).is_none() {
        return not_found();
    }
    das_json(StatusCode::OK, &json!({ "notices": list }), ctx.compact())
}

fn notice(ctx: &CalCtx<'_>, id: &str) -> Response {
    let Some(n) = ctx
        .db()
        .notices
        .iter()
        .find(|n| n.id.eq_ignore_ascii_case(id))
    else {
        return cal_error((404, 7, "Error reading notice".into()));
    };
    let base = ctx.base();
    let fake = CalEvent {
        uid: n.uid.clone(),
        unid: n.id.clone(),
        event: n.event.clone(),
        timezones: n.timezones.clone(),
        sequence: n.event.get("sequence").and_then(Value::as_i64).unwrap_or(0),
        last_modified: n.received,
        overrides: BTreeMap::new(),
        excepted: BTreeSet::new(),
    };
    let mut m = Map::new();
    m.insert("href".into(), json!(format!("{base}/notices/{}", n.id)));
    m.insert("scheduleMethod".into(), json!(n.method));
    if !n.timezones.is_empty() {
        m.insert("timezones".into(), Value::Array(n.timezones.clone()));
    }
    m.insert(
        "events".into(),
        json!([render(&base, &fake, &n.event, None, false)]),
    );
    das_json(StatusCode::OK, &Value::Object(m), ctx.compact())
}

// ---- dump / load / seed ----

/// Dump shape of one event.
pub(crate) fn event_dump(ev: &CalEvent) -> Value {
    json!({
        "uid": ev.uid,
        "unid": ev.unid,
        "sequence": ev.sequence,
        "last_modified": ical_utc(ev.last_modified),
        "timezones": ev.timezones,
        "event": ev.event,
        "overrides": ev.overrides,
        "excepted": ev.excepted,
    })
}

pub(crate) fn notice_dump(n: &Notice) -> Value {
    json!({
        "id": n.id,
        "uid": n.uid,
        "method": n.method,
        "received": ical_utc(n.received),
        "timezones": n.timezones,
        "event": n.event,
    })
}

fn parse_ical_utc(v: Option<&Value>, default: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    match v.and_then(Value::as_str) {
        None => Ok(default),
        Some(s) => NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%SZ")
            .map(|t| t.and_utc())
            .map_err(|_| format!("invalid time {s:?} (expected yyyyMMddTHHmmssZ)")),
    }
}

/// Load one dumped event (a backing document is created when the dump has none).
pub(crate) fn load_event(
    server: &mut DominoServer,
    db_key: &str,
    v: &Value,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let obj = v.as_object().ok_or("an event must be an object")?;
    let raw = obj
        .get("event")
        .and_then(Value::as_object)
        .ok_or("an event needs an \"event\" object")?;
    let timezones: Vec<Value> = obj
        .get("timezones")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let tzs: Vec<TzDef> = timezones
        .iter()
        .map(TzDef::parse)
        .collect::<Result<_, _>>()?;
    validate_event(raw, &tzs).map_err(|(_, _, m)| m)?;
    let (uid, unid) = match (
        obj.get("uid").and_then(Value::as_str),
        obj.get("unid").and_then(Value::as_str),
    ) {
        (Some(uid), Some(unid)) => (uid.to_owned(), unid.to_ascii_uppercase()),
        (Some(uid), None) => (uid.to_owned(), server.new_unid()),
        (None, Some(unid)) => {
            let unid = unid.to_ascii_uppercase();
            (format!("{unid}-Lotus_Notes_Generated"), unid)
        }
        (None, None) => new_uid(server),
    };
    let mut overrides = BTreeMap::new();
    if let Some(o) = obj.get("overrides").and_then(Value::as_object) {
        for (rid, e) in o {
            let e = e.as_object().ok_or("an override must be an object")?;
            validate_event(e, &tzs).map_err(|(_, _, m)| m)?;
            overrides.insert(rid.clone(), normalize(e, &tzs));
        }
    }
    let ev = CalEvent {
        uid,
        unid,
        event: normalize(raw, &tzs),
        timezones,
        sequence: obj.get("sequence").and_then(Value::as_i64).unwrap_or(0),
        last_modified: parse_ical_utc(obj.get("last_modified"), now)?,
        overrides,
        excepted: obj
            .get("excepted")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    };
    let db = server
        .databases
        .get_mut(db_key)
        .ok_or_else(|| format!("unknown database {db_key}"))?;
    if db.events.iter().any(|e| e.uid == ev.uid) {
        return Err(format!("duplicate event uid {}", ev.uid));
    }
    if db.doc(&ev.unid).is_none() {
        let author = db
            .owner
            .as_deref()
            .map_or_else(|| "CN=Administrator/O=SimOrg".to_owned(), canonical_name);
        let lm = ev.last_modified;
        sync_doc(db, &ev, &author, lm);
    }
    db.events.push(ev);
    Ok(())
}

pub(crate) fn load_notice(
    server: &mut DominoServer,
    db_key: &str,
    v: &Value,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let obj = v.as_object().ok_or("a notice must be an object")?;
    let event = obj
        .get("event")
        .and_then(Value::as_object)
        .cloned()
        .ok_or("a notice needs an \"event\" object")?;
    let id = match obj.get("id").and_then(Value::as_str) {
        Some(u) => u.to_ascii_uppercase(),
        None => server.new_unid(),
    };
    let n = Notice {
        id,
        uid: obj
            .get("uid")
            .and_then(Value::as_str)
            .ok_or("a notice needs a uid")?
            .to_owned(),
        method: obj
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("request")
            .to_owned(),
        received: parse_ical_utc(obj.get("received"), now)?,
        timezones: obj
            .get("timezones")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        event,
    };
    let db = server
        .databases
        .get_mut(db_key)
        .ok_or_else(|| format!("unknown database {db_key}"))?;
    if db.doc(&n.id).is_none() {
        let summary = n.event.get("summary").and_then(Value::as_str).unwrap_or("");
        db.add(
            n.id.clone(),
            n.received,
            n.received,
            "",
            vec![
                ("Form".into(), ItemValue::text("Notice")),
                ("ApptUNID".into(), ItemValue::text(&n.uid)),
                ("Subject".into(), ItemValue::text(summary)),
            ],
        );
    }
    db.notices.push(n);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
/// Seed helper: add an event (client JSON) to a mail file as if created with `workflow=false`,
/// plus notices for attendees that are simulator users when `notify`.
pub(crate) fn seed_event(
    server: &mut DominoServer,
    db_key: &str,
    owner: &str,
    timezones: &[Value],
    event: &Map<String, Value>,
    at: DateTime<Utc>,
    users: &[(String, String)],
    notify: bool,
) {
    let tzs = tz_defs(timezones);
    let (uid, unid) = new_uid(server);
    let ev = CalEvent {
        uid,
        unid,
        event: normalize(event, &tzs),
        timezones: used_timezones(timezones, &[event]),
        sequence: 0,
        last_modified: at,
        overrides: BTreeMap::new(),
        excepted: BTreeSet::new(),
    };
    let author = canonical_name(owner);
    let Some(db) = server.databases.get_mut(db_key) else {
        return;
    };
    sync_doc(db, &ev, &author, at);
    db.events.push(ev.clone());
    if notify {
        let empty = DasRequest {
            method: Method::GET,
            segments: Vec::new(),
            raw_segments: Vec::new(),
            query: Vec::new(),
            headers: &axum::http::HeaderMap::new(),
            body: &axum::body::Bytes::new(),
        };
        let mut ctx = CalCtx {
            server,
            db_key: db_key.to_owned(),
            user: owner.to_owned(),
            req: &empty,
            rest_start: 0,
            origin: String::new(),
            now: at,
            users: users.to_vec(),
        };
        send_notices(&mut ctx, &ev, "request");
    }
}
