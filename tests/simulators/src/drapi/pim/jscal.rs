//! Calendar entries between the store's form (the DAS calendar service's JSON: `start`/`end`
//! with `utc` or `tzid`, RRULE text, attendees with roles) and JSCalendar as the PIM API sends
//! and takes them (domino-rest-api.md §5.1–5.3).

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, Utc};
use serde_json::{Map, Value, json};

use super::zones::{from_notes_zone_string, iana_definition, is_iana, notes_zone_string};
use crate::common::stable_hex32;
use crate::domino::calendar::{CalEvent, time_of, tz_defs};
use crate::domino::caltime::{EvTime, Zone};
use crate::domino::model::{html_to_plain, plain_to_html};

/// `2024-06-11T09:00:00`.
pub(crate) fn local_text(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn utc_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A UUID-shaped key, stable for the same text (participants, locations, alerts).
fn uuid_of(text: &str) -> String {
    let h = stable_hex32(text).to_lowercase();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// ISO 8601 duration of a span: `PT1H30M`, `P1D`, `PT0S`.
pub(crate) fn duration_text(d: Duration) -> String {
    let secs = d.num_seconds().max(0);
    if secs == 0 {
        return "PT0S".into();
    }
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if rest > 0 {
        out.push('T');
        let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
        if h > 0 {
            out.push_str(&format!("{h}H"));
        }
        if m > 0 {
            out.push_str(&format!("{m}M"));
        }
        if s > 0 {
            out.push_str(&format!("{s}S"));
        }
    }
    out
}

/// Parse an ISO 8601 duration (`P1W`, `P1DT2H`, `PT30M`, `PT0S`); negative ones are refused.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let rest = s.trim().strip_prefix('P')?;
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut total: i64 = 0;
    let mut read = |part: &str, units: &[(char, i64)]| -> Option<()> {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
            } else {
                let unit = units.iter().find(|(u, _)| *u == c)?.1;
                let n: i64 = num.parse().ok()?;
                total = total.checked_add(n.checked_mul(unit)?)?;
                num.clear();
            }
        }
        num.is_empty().then_some(())
    };
    read(date, &[('W', 604_800), ('D', 86_400)])?;
    read(time, &[('H', 3600), ('M', 60), ('S', 1)])?;
    if rest.is_empty() || (rest.ends_with('T')) || total > 3_650 * 86_400 {
        return None;
    }
    Duration::try_seconds(total)
}

/// JSCalendar `privacy` of a Notes `class`, and back.
fn privacy(class: &str) -> &'static str {
    match class {
        "private" => "private",
        "confidential" => "secret",
        _ => "public",
    }
}

fn class_of(privacy: &str) -> Option<&'static str> {
    match privacy {
        "public" => Some("public"),
        "private" => Some("private"),
        "secret" => Some("confidential"),
        _ => None,
    }
}

/// The `timeZone` of a store time: IANA names as they are, a Notes zone as the Notes
/// time-zone string of its definition, UTC as `Etc/UTC`, floating as null.
fn zone_json(t: &EvTime, timezones: &[Value]) -> Value {
    match &t.zone {
        Zone::Utc => json!("Etc/UTC"),
        Zone::Floating => Value::Null,
        Zone::Tz(id) if is_iana(id) => json!(id),
        Zone::Tz(id) => timezones
            .iter()
            .find(|d| d.get("tzid").and_then(Value::as_str) == Some(id.as_str()))
            .and_then(notes_zone_string)
            .map_or_else(|| json!(id), Value::String),
    }
}

fn participants(body: &Map<String, Value>) -> Map<String, Value> {
    let organizer = body
        .get("organizer")
        .and_then(|o| o.get("email"))
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let mut out = Map::new();
    let attendees = body
        .get("attendees")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut organizer_listed = false;
    for a in &attendees {
        let Some(email) = a.get("email").and_then(Value::as_str) else {
            continue;
        };
        let is_organizer = organizer.as_deref() == Some(email.to_lowercase().as_str());
        organizer_listed |= is_organizer;
        let mut roles = Map::new();
        match a
            .get("role")
            .and_then(Value::as_str)
            .unwrap_or("req-participant")
        {
            "chair" => {
                roles.insert("chair".into(), json!(true));
            }
            "opt-participant" => {
                roles.insert("optional".into(), json!(true));
            }
            "non-participant" => {
                roles.insert("informational".into(), json!(true));
            }
            _ => {
                roles.insert("attendee".into(), json!(true));
            }
        }
        if is_organizer {
            roles.insert("owner".into(), json!(true));
        }
        let mut p = Map::new();
        p.insert("@type".into(), json!("Participant"));
        if let Some(n) = a.get("displayName").and_then(Value::as_str) {
            p.insert("name".into(), json!(n));
        }
        p.insert("email".into(), json!(email));
        p.insert("roles".into(), Value::Object(roles));
        let status = a
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("needs-action")
            .to_lowercase();
        p.insert("participationStatus".into(), json!(status));
        out.insert(uuid_of(&email.to_lowercase()), Value::Object(p));
    }
    if !organizer_listed
        && let Some(o) = body.get("organizer")
        && let Some(email) = o.get("email").and_then(Value::as_str)
    {
        let mut p = json!({"@type":"Participant","email":email,
            "roles":{"owner":true,"chair":true},"participationStatus":"accepted"});
        if let (Some(n), Value::Object(m)) = (o.get("displayName").and_then(Value::as_str), &mut p)
        {
            m.insert("name".into(), json!(n));
        }
        out.insert(uuid_of(&email.to_lowercase()), p);
    }
    out
}

fn alerts(body: &Map<String, Value>) -> Option<Value> {
    let alarm = body.get("alarm")?;
    let offset = alarm
        .get("trigger")
        .and_then(|t| t.get("value"))
        .and_then(Value::as_str)?;
    let action = alarm
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("DISPLAY")
        .to_lowercase();
    let action = if action == "email" {
        "email"
    } else {
        "display"
    };
    Some(json!({ uuid_of(offset): {
        "@type": "Alert",
        "trigger": {"@type": "OffsetTrigger", "offset": offset},
        "action": action,
    }}))
}

/// JSCalendar's RecurrenceRule of an RRULE text.
fn recurrence_rule(rrule: &str) -> Option<Value> {
    let mut m = Map::new();
    m.insert("@type".into(), json!("RecurrenceRule"));
    for part in rrule.trim_start_matches("RRULE:").split(';') {
        let (k, v) = part.split_once('=')?;
        match k.to_ascii_uppercase().as_str() {
            "FREQ" => {
                m.insert("frequency".into(), json!(v.to_lowercase()));
            }
            "INTERVAL" => {
                m.insert("interval".into(), json!(v.parse::<u32>().ok()?));
            }
            "COUNT" => {
                m.insert("count".into(), json!(v.parse::<u32>().ok()?));
            }
            "UNTIL" => {
                let t = NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%SZ")
                    .or_else(|_| {
                        chrono::NaiveDate::parse_from_str(v, "%Y%m%d")
                            .map(|d| d.and_time(NaiveTime::MIN))
                    })
                    .ok()?;
                m.insert("until".into(), json!(local_text(t)));
            }
            "BYDAY" => {
                let days: Vec<Value> = v
                    .split(',')
                    .filter(|d| d.len() >= 2)
                    .map(|d| {
                        let (n, day) = d.split_at(d.len() - 2);
                        let mut nd = json!({"@type":"NDay","day": day.to_lowercase()});
                        if let (Ok(n), Value::Object(o)) = (n.parse::<i32>(), &mut nd) {
                            o.insert("nthOfPeriod".into(), json!(n));
                        }
                        nd
                    })
                    .collect();
                m.insert("byDay".into(), Value::Array(days));
            }
            "BYMONTHDAY" => {
                let days: Vec<i32> = v.split(',').filter_map(|d| d.parse().ok()).collect();
                m.insert("byMonthDay".into(), json!(days));
            }
            _ => {}
        }
    }
    Some(Value::Object(m))
}

/// What an entry is shown with besides its own properties.
pub(crate) struct Frame<'a> {
    /// `($Calendar)`'s folder id (`referenceFolder`).
    pub folder: &'a str,
    /// When the backing document was created.
    pub created: DateTime<Utc>,
}

/// The JSCalendar entry of one store body (a master, or an instance with its recurrence's
/// original local start).
pub(crate) fn entry(
    ev: &CalEvent,
    body: &Map<String, Value>,
    rid: Option<NaiveDateTime>,
    frame: &Frame<'_>,
) -> Value {
    let tzs = tz_defs(&ev.timezones);
    let text = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let mut m = Map::new();
    m.insert("@type".into(), json!("jsevent"));
    m.insert("uid".into(), json!(ev.unid));
    m.insert("title".into(), json!(text("summary")));
    if let Some(start) = time_of(body, "start", &tzs) {
        let end = time_of(body, "end", &tzs);
        m.insert("start".into(), json!(local_text(start.local())));
        if start.all_day() {
            let days = end.map_or(1, |e| (e.date - start.date).num_days().max(1));
            m.insert(
                "duration".into(),
                json!(duration_text(Duration::days(days))),
            );
            m.insert("showWithoutTime".into(), json!(true));
        } else {
            let span = end.map_or(Duration::zero(), |e| e.to_utc(&tzs) - start.to_utc(&tzs));
            m.insert("duration".into(), json!(duration_text(span)));
            m.insert("timeZone".into(), zone_json(&start, &ev.timezones));
        }
    }
    m.insert("privacy".into(), json!(privacy(&text("class"))));
    if let Some(s) = body.get("status").and_then(Value::as_str) {
        m.insert("status".into(), json!(s.to_lowercase()));
    }
    let free = text("transparency") == "transparent";
    m.insert(
        "freeBusyStatus".into(),
        json!(if free { "free" } else { "busy" }),
    );
    let description = text("description");
    if !description.is_empty() {
        m.insert("description".into(), json!(plain_to_html(&description)));
    }
    let location = text("location");
    if !location.is_empty() {
        m.insert(
            "locations".into(),
            json!({ uuid_of(&format!("{}|{location}", ev.unid)): {"@type":"Location","name":location} }),
        );
    }
    let people = participants(body);
    if !people.is_empty() {
        m.insert("participants".into(), Value::Object(people));
    }
    if let Some(a) = alerts(body) {
        m.insert("alerts".into(), a);
    }
    let categories: Map<String, Value> = match body.get("categories") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(|c| (c.to_owned(), json!(true)))
            .collect(),
        Some(Value::String(c)) if !c.is_empty() => [(c.clone(), json!(true))].into_iter().collect(),
        _ => Map::new(),
    };
    // An entry without categories shows `{"null":true}`, as in HCL's list example.
    m.insert(
        "categories".into(),
        if categories.is_empty() {
            json!({"null": true})
        } else {
            Value::Object(categories)
        },
    );
    m.insert("sequence".into(), json!(ev.sequence));
    m.insert("created".into(), json!(utc_text(frame.created)));
    m.insert("updated".into(), json!(utc_text(ev.last_modified)));
    m.insert("referenceFolder".into(), json!([frame.folder]));
    if let Some(r) = rid {
        m.insert("recurrenceId".into(), json!(local_text(r)));
    }
    Value::Object(m)
}

/// A series as one entry: the master with `recurrenceRules`, and `recurrenceOverrides` for the
/// changed (a patch of the properties that differ) and deleted (`excluded`) instances.
pub(crate) fn series(
    ev: &CalEvent,
    frame: &Frame<'_>,
    instances: &[(NaiveDateTime, Map<String, Value>)],
    excepted: &[NaiveDateTime],
) -> Value {
    let mut master = entry(ev, &ev.event, None, frame);
    let Some(rule) = ev
        .event
        .get("recurrenceRule")
        .and_then(Value::as_str)
        .and_then(recurrence_rule)
    else {
        return master;
    };
    let mut overrides = Map::new();
    for (local, body) in instances {
        let plain = entry(ev, &generated(ev, *local), None, frame);
        let own = entry(ev, body, None, frame);
        let mut patch = Map::new();
        if let (Value::Object(own), Value::Object(plain)) = (&own, &plain) {
            for (k, v) in own {
                if plain.get(k) != Some(v) {
                    patch.insert(k.clone(), v.clone());
                }
            }
        }
        if !patch.is_empty() {
            overrides.insert(local_text(*local), Value::Object(patch));
        }
    }
    for local in excepted {
        overrides.insert(local_text(*local), json!({"excluded": true}));
    }
    if let Value::Object(m) = &mut master {
        m.insert("recurrenceRules".into(), json!([rule]));
        if !overrides.is_empty() {
            m.insert("recurrenceOverrides".into(), Value::Object(overrides));
        }
    }
    master
}

/// The body an instance starting at `local` has when nothing overrides it.
fn generated(ev: &CalEvent, local: NaiveDateTime) -> Map<String, Value> {
    let tzs = tz_defs(&ev.timezones);
    let mut e = ev.event.clone();
    for k in ["recurrenceRule", "exceptDates", "recurrenceDates"] {
        e.remove(k);
    }
    if let Some(start) = time_of(&ev.event, "start", &tzs) {
        let s = start.with_local(local);
        if let Some(end) = time_of(&ev.event, "end", &tzs) {
            let len = end.local() - start.local();
            let local_end = local.checked_add_signed(len).unwrap_or(local);
            e.insert("end".into(), end.with_local(local_end).to_json());
        }
        e.insert("start".into(), s.to_json());
    }
    e
}

/// An entry in the store's form, made from a client's JSCalendar object.
#[derive(Debug)]
pub(crate) struct StoreEvent {
    /// The DAS event JSON.
    pub event: Map<String, Value>,
    /// The definitions its `tzid` needs.
    pub timezones: Vec<Value>,
}

/// A JSCalendar `LocalDateTime` (a trailing `Z` means UTC).
fn parse_local(s: &str) -> Option<(NaiveDateTime, bool)> {
    let (s, utc) = match s.strip_suffix('Z') {
        Some(x) => (x, true),
        None => (s, false),
    };
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s.trim(), fmt) {
            return Some((t, utc));
        }
    }
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .map(|d| (d.and_time(NaiveTime::MIN), utc))
}

/// The store zone of a `timeZone`: `(zone, definition to send along)`.
fn zone_of(tz: Option<&str>, year: i32) -> Result<(Zone, Option<Value>), String> {
    match tz.map(str::trim) {
        None | Some("") => Ok((Zone::Floating, None)),
        Some("Etc/UTC" | "UTC" | "Z" | "Etc/GMT" | "GMT") => Ok((Zone::Utc, None)),
        Some(name) => {
            if let Some(def) = iana_definition(name, year) {
                return Ok((Zone::Tz(name.to_owned()), Some(def)));
            }
            if let Some(def) = from_notes_zone_string(name) {
                let id = def
                    .get("tzid")
                    .and_then(Value::as_str)
                    .unwrap_or(name)
                    .to_owned();
                return Ok((Zone::Tz(id), Some(def)));
            }
            Err(format!("Unknown time zone: {name}"))
        }
    }
}

fn str_of<'a>(v: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// The store's times of `start`/`duration`/`timeZone`/`showWithoutTime` in `v`.
fn times(v: &Map<String, Value>, year: i32) -> Result<(EvTime, EvTime, Vec<Value>), String> {
    let start_text = str_of(v, "start").ok_or("An entry needs a start")?;
    let (local, utc) =
        parse_local(start_text).ok_or_else(|| format!("Invalid start: {start_text}"))?;
    let all_day = v.get("showWithoutTime").and_then(Value::as_bool) == Some(true);
    let duration = match str_of(v, "duration") {
        Some(d) => parse_duration(d).ok_or_else(|| format!("Invalid duration: {d}"))?,
        None if all_day => Duration::days(1),
        None => Duration::zero(),
    };
    if all_day {
        let days = duration.num_days().max(1);
        let start = EvTime {
            date: local.date(),
            time: None,
            zone: Zone::Floating,
        };
        let end_date = local
            .date()
            .checked_add_signed(Duration::days(days))
            .ok_or("Invalid duration")?;
        let end = EvTime {
            date: end_date,
            time: None,
            zone: Zone::Floating,
        };
        return Ok((start, end, Vec::new()));
    }
    let (zone, def) = if utc {
        (Zone::Utc, None)
    } else {
        zone_of(str_of(v, "timeZone"), year)?
    };
    let start = EvTime {
        date: local.date(),
        time: Some(local.time()),
        zone: zone.clone(),
    };
    let end_local = local
        .checked_add_signed(duration)
        .ok_or("Invalid duration")?;
    let end = start.with_local(end_local);
    Ok((start, end, def.into_iter().collect()))
}

/// The participants of a JSCalendar object as the store's organizer and attendees; without
/// an owner the caller (`me`) organizes.
fn attendees(v: &Map<String, Value>, me: &str) -> (Option<Value>, Vec<Value>) {
    let Some(Value::Object(people)) = v.get("participants") else {
        return (None, Vec::new());
    };
    let role = |p: &Value, r: &str| {
        p.get("roles")
            .and_then(|x| x.get(r))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let list: Vec<&Value> = people
        .values()
        .filter(|p| p.get("email").and_then(Value::as_str).is_some())
        .collect();
    if list.is_empty() {
        return (None, Vec::new());
    }
    let owner = list
        .iter()
        .find(|p| role(p, "owner"))
        .or_else(|| list.iter().find(|p| role(p, "chair")));
    let (org_email, org_name) = match owner {
        Some(p) => (
            p.get("email")
                .and_then(Value::as_str)
                .unwrap_or(me)
                .to_owned(),
            p.get("name").and_then(Value::as_str).map(str::to_owned),
        ),
        None => (me.to_owned(), None),
    };
    let mut organizer = json!({"email": org_email});
    if let (Some(n), Value::Object(m)) = (&org_name, &mut organizer) {
        m.insert("displayName".into(), json!(n));
    }
    let mut out = Vec::new();
    if owner.is_none() {
        out.push(json!({"role":"chair","status":"accepted","email": org_email}));
    }
    for p in list {
        let email = p.get("email").and_then(Value::as_str).unwrap_or_default();
        let is_org = email.eq_ignore_ascii_case(&org_email);
        let r = if role(p, "chair") || is_org {
            "chair"
        } else if role(p, "optional") {
            "opt-participant"
        } else if role(p, "informational") {
            "non-participant"
        } else {
            "req-participant"
        };
        let status = p
            .get("participationStatus")
            .and_then(Value::as_str)
            .unwrap_or(if is_org { "accepted" } else { "needs-action" });
        let mut a = json!({"role": r, "status": status, "rsvp": !is_org, "email": email});
        if let (Some(n), Value::Object(m)) = (p.get("name").and_then(Value::as_str), &mut a) {
            m.insert("displayName".into(), json!(n));
        }
        out.push(a);
    }
    (Some(organizer), out)
}

/// RRULE text of a JSCalendar RecurrenceRule (frequencies the store expands only).
fn rrule_of(rule: &Value) -> Result<String, String> {
    let freq = rule
        .get("frequency")
        .and_then(Value::as_str)
        .ok_or("A recurrence rule needs a frequency")?
        .to_ascii_uppercase();
    if !matches!(freq.as_str(), "DAILY" | "WEEKLY" | "MONTHLY" | "YEARLY") {
        return Err(format!("Unsupported recurrence frequency: {freq}"));
    }
    let mut parts = vec![format!("FREQ={freq}")];
    if let Some(n) = rule.get("interval").and_then(Value::as_u64) {
        parts.push(format!("INTERVAL={}", n.max(1)));
    }
    if let Some(n) = rule.get("count").and_then(Value::as_u64) {
        parts.push(format!("COUNT={}", n.max(1)));
    }
    if let Some(u) = rule.get("until").and_then(Value::as_str) {
        let (t, _) = parse_local(u).ok_or_else(|| format!("Invalid until: {u}"))?;
        parts.push(format!("UNTIL={}", t.format("%Y%m%dT%H%M%SZ")));
    }
    if let Some(days) = rule.get("byDay").and_then(Value::as_array) {
        let list: Vec<String> = days
            .iter()
            .filter_map(|d| {
                let day = d.get("day")?.as_str()?.to_ascii_uppercase();
                Some(match d.get("nthOfPeriod").and_then(Value::as_i64) {
                    Some(n) => format!("{n}{day}"),
                    None => day,
                })
            })
            .collect();
        if !list.is_empty() {
            parts.push(format!("BYDAY={}", list.join(",")));
        }
    }
    if let Some(days) = rule.get("byMonthDay").and_then(Value::as_array) {
        let list: Vec<String> = days
            .iter()
            .filter_map(Value::as_i64)
            .map(|d| d.to_string())
            .collect();
        if !list.is_empty() {
            parts.push(format!("BYMONTHDAY={}", list.join(",")));
        }
    }
    Ok(parts.join(";"))
}

/// The store form of a client's `jsevent`; `me` is the caller's e-mail, `year` the year whose
/// time-zone rules apply. `Err` is the 400 message.
pub(crate) fn to_store(v: &Map<String, Value>, me: &str, year: i32) -> Result<StoreEvent, String> {
    let kind = str_of(v, "@type")
        .or_else(|| str_of(v, "type"))
        .unwrap_or("jsevent");
    if !kind.eq_ignore_ascii_case("jsevent") {
        return Err(format!(
            "Only jsevent entries can be written to a calendar, not {kind}"
        ));
    }
    let (start, end, timezones) = times(v, year)?;
    let mut e = Map::new();
    e.insert("summary".into(), json!(str_of(v, "title").unwrap_or("")));
    if let Some(d) = str_of(v, "description") {
        e.insert("description".into(), json!(html_to_plain(d)));
    }
    if let Some(Value::Object(locs)) = v.get("locations")
        && let Some(name) = locs
            .values()
            .find_map(|l| l.get("name").and_then(Value::as_str))
    {
        e.insert("location".into(), json!(name));
    }
    e.insert("start".into(), start.to_json());
    e.insert("end".into(), end.to_json());
    if let Some(p) = str_of(v, "privacy") {
        let class = class_of(p).ok_or_else(|| format!("Invalid privacy: {p}"))?;
        e.insert("class".into(), json!(class));
    }
    if let Some(s) = str_of(v, "status") {
        if !matches!(s, "confirmed" | "tentative" | "cancelled") {
            return Err(format!("Invalid status: {s}"));
        }
        e.insert("status".into(), json!(s));
    }
    if str_of(v, "freeBusyStatus") == Some("free") {
        e.insert("transparency".into(), json!("transparent"));
    }
    if let Some(Value::Object(cats)) = v.get("categories") {
        let list: Vec<&String> = cats.keys().filter(|c| c.as_str() != "null").collect();
        if !list.is_empty() {
            e.insert("categories".into(), json!(list));
        }
    }
    let (organizer, list) = attendees(v, me);
    if let Some(o) = organizer {
        e.insert("organizer".into(), o);
        e.insert("attendees".into(), Value::Array(list));
    }
    if let Some(Value::Object(alerts)) = v.get("alerts")
        && let Some(offset) = alerts
            .values()
            .find_map(|a| a.get("trigger")?.get("offset")?.as_str().map(str::to_owned))
    {
        if parse_duration(offset.trim_start_matches('-')).is_none() {
            return Err(format!("Invalid alert offset: {offset}"));
        }
        e.insert(
            "alarm".into(),
            json!({"action":"DISPLAY","trigger":{"valueDataType":"DURATION","related":"START","value":offset}}),
        );
    }
    if let Some(Value::Array(rules)) = v.get("recurrenceRules") {
        match rules.as_slice() {
            [] => {}
            [rule] => {
                e.insert("recurrenceRule".into(), json!(rrule_of(rule)?));
            }
            _ => return Err("Only one recurrence rule per entry is supported".into()),
        }
    }
    Ok(StoreEvent {
        event: e,
        timezones,
    })
}

/// Parse a `recurrenceOverrides` key (the instance's original `LocalDateTime`).
pub(crate) fn override_key(k: &str) -> Option<NaiveDateTime> {
    parse_local(k).map(|(t, _)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        for (text, secs) in [
            ("PT1H", 3600),
            ("PT1H30M", 5400),
            ("P1D", 86_400),
            ("PT0S", 0),
            ("P1DT2H", 93_600),
        ] {
            assert_eq!(parse_duration(text), Duration::try_seconds(secs), "{text}");
            assert_eq!(duration_text(Duration::seconds(secs)), text);
        }
        assert_eq!(parse_duration("P1W"), Some(Duration::days(7)));
        for bad in [
            "",
            "P",
            "PT",
            "1H",
            "PT1X",
            "P-1D",
            "PT1H2",
            "P99999999999999999999D",
        ] {
            assert!(parse_duration(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_jsevent_becomes_a_store_event() {
        let v = json!({"@type":"jsevent","title":"Test","start":"2021-10-13T10:30:00","duration":"PT1H",
            "timeZone":"Asia/Manila","privacy":"secret","description":"<b>desc</b>",
            "locations":{"x":{"@type":"Location","name":"Math lab"}},
            "participants":{"a":{"@type":"Participant","email":"peter@quattro.rocks","roles":{"owner":true,"chair":true}},
                            "b":{"@type":"Participant","email":"rex@quattro.rocks","roles":{"attendee":true}}},
            "recurrenceRules":[{"@type":"RecurrenceRule","frequency":"weekly","count":3,"byDay":[{"day":"we"}]}]});
        let s = to_store(v.as_object().unwrap(), "demo@example.com", 2021).unwrap();
        assert_eq!(
            s.event["start"],
            json!({"date":"2021-10-13","time":"10:30:00","tzid":"Asia/Manila"})
        );
        assert_eq!(s.event["end"]["time"], "11:30:00");
        assert_eq!(s.event["class"], "confidential");
        assert_eq!(s.event["description"], "desc");
        assert_eq!(s.event["location"], "Math lab");
        assert_eq!(s.event["organizer"]["email"], "peter@quattro.rocks");
        assert_eq!(s.event["attendees"][1]["role"], "req-participant");
        assert_eq!(s.event["recurrenceRule"], "FREQ=WEEKLY;COUNT=3;BYDAY=WE");
        assert_eq!(s.timezones[0]["tzid"], "Asia/Manila");
        let bad = |v: Value| to_store(v.as_object().unwrap(), "me@x", 2021).is_err();
        assert!(bad(json!({"title":"no start"})));
        assert!(bad(json!({"start":"soon"})));
        assert!(bad(
            json!({"start":"2021-10-13T10:30:00","timeZone":"Mars/Base"})
        ));
        assert!(bad(
            json!({"start":"2021-10-13T10:30:00","duration":"-PT1H"})
        ));
        assert!(bad(json!({"@type":"jstask","start":"2021-10-13T10:30:00"})));
        assert!(bad(
            json!({"start":"2021-10-13T10:30:00","recurrenceRules":[{"frequency":"hourly"}]})
        ));
        let day = to_store(
            json!({"start":"2021-10-13T00:00:00","showWithoutTime":true})
                .as_object()
                .unwrap(),
            "me@x",
            2021,
        )
        .unwrap();
        assert_eq!(day.event["start"], json!({"date":"2021-10-13"}));
        assert_eq!(day.event["end"], json!({"date":"2021-10-14"}));
    }
}
