//! Calendar events: the Domino calendar-service JSON and Zoho `Events` ↔ the canonical
//! [`Record`], with exact time zones, and the sync windows (all / today / past month).
//!
//! Canonical event fields:
//! - `title`, `location`, `description`: text.
//! - `start`, `end`: a UTC instant `YYYY-MM-DDTHH:MM:SSZ`, or for an all-day event a day
//!   `YYYY-MM-DD`; the all-day `end` is the **last** day (inclusive).
//! - `attendees`: lower-case e-mail addresses, sorted, joined by `, ` (the organizer excluded).
//! - `reminder`: minutes before the start.
//!
//! Time zones: a Notes `start` is `{date, time, utc:true}`, or `{date, time, tzid}` where the
//! `tzid` is defined in the answer's `timezones` (VTIMEZONE rules: a standard and a daylight
//! part, each a yearly rule). Both convert to the exact instant; an IANA `tzid` is also
//! understood. A Zoho date-time carries its offset, so it is exact as it stands. Instants are
//! written back to Notes as UTC and to Zoho in the user's zone.
//!
//! Choices where the references are silent (\[I\]): a Notes all-day `end` date is exclusive, as
//! in iCalendar (`DTEND;VALUE=DATE`); a Zoho all-day event's days are the dates of its
//! `Start_DateTime` / `End_DateTime` as Zoho renders them (in the user's zone), and is written
//! as 00:00 to 23:59 in the user's zone; the cross-ID on a Notes event is the X-property
//! `x-nzsync-zoho-id`.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Weekday};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use super::values::{CRM_PLACEHOLDER, CRM_XREF_FIELD, MapCtx, crm_is_private, crm_xref};
use crate::model::{Fields, Record};
use crate::time::Timestamp;

/// The X-property of a Notes event that holds the Zoho record id.
pub const NOTES_EVENT_XREF: &str = "x-nzsync-zoho-id";

/// Which events are synced: the setting lives with the other settings in [`crate::model`]; it
/// is named here too, where the windows are computed, so `sync_core::calendar::EventsWindow`
/// keeps working.
pub use crate::model::EventsWindow;

/// `[since, before)` of `window` at `now` in `tz`, or `None` when events are off.
#[must_use]
pub fn window_bounds(
    window: EventsWindow,
    now: Timestamp,
    tz: Tz,
) -> Option<(Timestamp, Timestamp)> {
    let today = chrono::DateTime::from_timestamp_millis(now.0)?
        .with_timezone(&tz)
        .date_naive();
    let midnight = |d: NaiveDate| local_instant(d, NaiveTime::MIN, tz);
    let tomorrow = today.succ_opt()?;
    match window {
        EventsWindow::Off => None,
        EventsWindow::Today => Some((midnight(today)?, midnight(tomorrow)?)),
        EventsWindow::PastMonth => {
            let from = today.checked_sub_months(chrono::Months::new(1))?;
            Some((midnight(from)?, midnight(tomorrow)?))
        }
        EventsWindow::All => {
            let from = today.checked_sub_months(chrono::Months::new(12))?;
            let to = today.checked_add_months(chrono::Months::new(24))?;
            Some((midnight(from)?, midnight(to)?))
        }
    }
}

/// Whether a canonical `start` value falls in `[since, before)`. All-day events count by the
/// start of their first day in `tz`.
#[must_use]
pub fn starts_within(start: &str, since: Timestamp, before: Timestamp, tz: Tz) -> bool {
    start_instant(start, tz).is_some_and(|t| since <= t && t < before)
}

/// The instant a canonical `start` stands for (all-day: local midnight in `tz`).
#[must_use]
pub fn start_instant(start: &str, tz: Tz) -> Option<Timestamp> {
    if start.len() == 10 {
        let d = NaiveDate::parse_from_str(start, "%Y-%m-%d").ok()?;
        local_instant(d, NaiveTime::MIN, tz)
    } else {
        Timestamp::parse_iso(start)
    }
}

fn local_instant(d: NaiveDate, t: NaiveTime, tz: Tz) -> Option<Timestamp> {
    let dt = tz.from_local_datetime(&d.and_time(t)).earliest()?;
    Some(Timestamp(dt.timestamp_millis()))
}

/// The offset, in minutes east of UTC, of `tz` at `t`.
#[must_use]
pub fn offset_minutes(tz: Tz, t: Timestamp) -> i32 {
    chrono::DateTime::from_timestamp_millis(t.0)
        .map(|u| u.with_timezone(&tz).offset().fix().local_minus_utc() / 60)
        .unwrap_or(0)
}

// ---- VTIMEZONE rules from the calendar service's `timezones` ----

/// One part (standard or daylight) of a VTIMEZONE definition.
#[derive(Clone, Debug)]
struct TzPart {
    start: NaiveDateTime,
    offset_to: i32,
    offset_from: i32,
    month: Option<u32>,
    /// (n, weekday): n-th weekday of the month, negative from the end.
    by_day: Option<(i32, Weekday)>,
}

/// A time zone defined by the calendar service (`timezones[]`).
#[derive(Clone, Debug)]
pub struct CalTz {
    parts: Vec<TzPart>,
}

fn parse_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'-' => (-1, &s[1..]),
        b'+' => (1, &s[1..]),
        _ => (1, s),
    };
    let h: i32 = rest.get(0..2)?.parse().ok()?;
    let m: i32 = rest.get(2..4)?.parse().ok()?;
    Some(sign * (h * 60 + m))
}

fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

fn parse_part(v: &Value) -> Option<TzPart> {
    let start = v.get("start")?;
    let date = NaiveDate::parse_from_str(start.get("date")?.as_str()?, "%Y-%m-%d").ok()?;
    let time = start
        .get("time")
        .and_then(Value::as_str)
        .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M:%S").ok())
        .unwrap_or(NaiveTime::MIN);
    let offset_to = parse_offset(v.get("offsetTo")?.as_str()?)?;
    let offset_from = v
        .get("offsetFrom")
        .and_then(Value::as_str)
        .and_then(parse_offset)
        .unwrap_or(offset_to);
    let mut month = None;
    let mut by_day = None;
    if let Some(rule) = v.get("recurrenceRule").and_then(Value::as_str) {
        for kv in rule.split(';') {
            match kv.split_once('=') {
                Some(("BYMONTH", m)) => month = m.parse().ok(),
                Some(("BYDAY", d)) if d.len() >= 2 => {
                    let (n, wd) = d.split_at(d.len() - 2);
                    let n: i32 = if n.is_empty() { 1 } else { n.parse().ok()? };
                    by_day = Some((n, parse_weekday(wd)?));
                }
                _ => {}
            }
        }
    }
    Some(TzPart {
        start: date.and_time(time),
        offset_to,
        offset_from,
        month,
        by_day,
    })
}

fn nth_weekday(year: i32, month: u32, n: i32, wd: Weekday) -> Option<NaiveDate> {
    if n > 0 {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let shift = (7 + wd.num_days_from_monday() as i64
            - first.weekday().num_days_from_monday() as i64)
            % 7;
        first.checked_add_signed(Duration::days(shift + 7 * (i64::from(n) - 1)))
    } else {
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)?
        };
        let last = next.pred_opt()?;
        let shift = (7 + last.weekday().num_days_from_monday() as i64
            - wd.num_days_from_monday() as i64)
            % 7;
        last.checked_sub_signed(Duration::days(shift + 7 * (i64::from(-n) - 1)))
    }
}

impl CalTz {
    /// Reads one `timezones[]` entry.
    #[must_use]
    pub fn parse(v: &Value) -> Option<(String, Self)> {
        let tzid = v.get("tzid")?.as_str()?.to_owned();
        let parts: Vec<TzPart> = ["standard", "daylight"]
            .iter()
            .filter_map(|k| v.get(*k))
            .filter_map(parse_part)
            .collect();
        if parts.is_empty() {
            return None;
        }
        Some((tzid, Self { parts }))
    }

    /// The zone a Notes time-zone string describes (`Z=5$DO=1$DL=3 2 1 11 1 1$ZN=Eastern`, as
    /// the Domino REST API's calendar sends `timeZone`): `Z` hours west of UTC (fractions
    /// allowed), `DO=1` when daylight saving is observed, `DL` its start and end as month, week
    /// (5: the last) and weekday (1: Sunday), each change at 02:00 local time, daylight one
    /// hour ahead; `ZN` names it. `None` when the string is not one.
    #[must_use]
    pub fn from_notes_zone(spec: &str) -> Option<(String, Self)> {
        let mut west = None;
        let mut observed = false;
        let mut rule = None;
        let mut name = None;
        for part in spec.split('$') {
            match part.split_once('=') {
                Some(("Z", v)) => west = v.trim().parse::<f64>().ok().filter(|h| h.abs() <= 14.0),
                Some(("DO", v)) => observed = v.trim() == "1",
                Some(("DL", v)) => rule = Some(v.trim().to_owned()),
                Some(("ZN", v)) => name = Some(v.trim().to_owned()).filter(|n| !n.is_empty()),
                _ => {}
            }
        }
        let name = name?;
        // Whole minutes east of UTC.
        #[allow(clippy::cast_possible_truncation)]
        let standard = (-west? * 60.0).round() as i32;
        let two_am = NaiveTime::from_hms_opt(2, 0, 0)?;
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
        let change = |fields: &[&str], from: i32, to: i32| -> Option<TzPart> {
            let month: u32 = fields
                .first()?
                .parse()
                .ok()
                .filter(|m| (1..=12).contains(m))?;
            let week: i32 = fields
                .get(1)?
                .parse()
                .ok()
                .filter(|w| (1..=5).contains(w))?;
            let day: u32 = fields
                .get(2)?
                .parse()
                .ok()
                .filter(|d| (1..=7).contains(d))?;
            let weekday = Weekday::try_from(u8::try_from((day + 5) % 7).ok()?).ok()?;
            Some(TzPart {
                start: epoch.and_time(two_am),
                offset_to: to,
                offset_from: from,
                month: Some(month),
                by_day: Some((if week == 5 { -1 } else { week }, weekday)),
            })
        };
        let fields: Vec<String> = rule
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        let parts = if observed && fields.len() == 6 {
            let daylight = standard + 60;
            vec![
                change(&fields[..3], standard, daylight)?,
                change(&fields[3..], daylight, standard)?,
            ]
        } else {
            vec![TzPart {
                start: epoch.and_time(NaiveTime::MIN),
                offset_to: standard,
                offset_from: standard,
                month: None,
                by_day: None,
            }]
        };
        Some((name, Self { parts }))
    }

    /// The instant of local time `local` in this zone.
    #[must_use]
    pub fn instant(&self, local: NaiveDateTime) -> Timestamp {
        let off = self.offset_at_local(local);
        let utc = local - Duration::minutes(i64::from(off));
        Timestamp(utc.and_utc().timestamp_millis())
    }

    /// The part in force at local time `local` of its year: the latest onset not after it.
    fn offset_at_local(&self, local: NaiveDateTime) -> i32 {
        let mut best: Option<(NaiveDateTime, i32)> = None;
        for year in [local.year() - 1, local.year()] {
            for p in &self.parts {
                let onset = match (p.month, p.by_day) {
                    (Some(m), Some((n, wd))) => {
                        nth_weekday(year, m, n, wd).map(|d| d.and_time(p.start.time()))
                    }
                    _ if year == local.year() => Some(p.start),
                    _ => None,
                };
                if let Some(on) =
                    onset.filter(|on| *on <= local && *on >= p.start - Duration::days(366))
                    && best.is_none_or(|(b, _)| on > b)
                {
                    best = Some((on, p.offset_to));
                }
            }
        }
        best.map(|(_, o)| o)
            .or_else(|| self.parts.first().map(|p| p.offset_from))
            .unwrap_or(0)
    }
}

/// Time zones of one calendar answer, by `tzid`.
#[derive(Clone, Debug, Default)]
pub struct CalZones(Vec<(String, CalTz)>);

impl CalZones {
    /// Reads `timezones` of a calendar-service answer (missing: none).
    #[must_use]
    pub fn from_answer(body: &Value) -> Self {
        Self(
            body.get("timezones")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(CalTz::parse).collect())
                .unwrap_or_default(),
        )
    }

    /// The instant of local `date` + `time` in zone `tzid`.
    #[must_use]
    pub fn instant(&self, date: NaiveDate, time: NaiveTime, tzid: &str) -> Option<Timestamp> {
        let local = date.and_time(time);
        if let Some((_, z)) = self.0.iter().find(|(id, _)| id == tzid) {
            return Some(z.instant(local));
        }
        let tz: Tz = tzid.parse().ok()?;
        local_instant(date, time, tz)
    }
}

// ---- Notes (calendar service) ----

fn parse_date(v: &Value) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(v.get("date")?.as_str()?, "%Y-%m-%d").ok()
}

/// A Notes `start`/`end` object → canonical (instant `…Z`, or a day for all-day).
fn notes_when(v: &Value, zones: &CalZones) -> Option<String> {
    let date = parse_date(v)?;
    let Some(time) = v.get("time").and_then(Value::as_str) else {
        return Some(date.to_string());
    };
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S").ok()?;
    let t = if v.get("utc").and_then(Value::as_bool) == Some(true) {
        Timestamp(date.and_time(time).and_utc().timestamp_millis())
    } else if let Some(tzid) = v.get("tzid").and_then(Value::as_str) {
        zones.instant(date, time, tzid)?
    } else {
        // A floating time: take it as UTC rather than guess.
        Timestamp(date.and_time(time).and_utc().timestamp_millis())
    };
    Some(t.to_das())
}

pub(super) fn reminder_minutes(trigger: &str) -> Option<i64> {
    // "-PT15M", "-PT1H", "-P1D", "-PT1H30M". Numbers too large for minutes are refused (not
    // wrapped or overflowed): the trigger comes from the server.
    let t = trigger.trim();
    let neg = t.starts_with('-');
    let body = t.trim_start_matches(['-', '+']).strip_prefix('P')?;
    let (days, time) = match body.split_once('T') {
        Some((d, t)) => (d, t),
        None => (body, ""),
    };
    let mut minutes = 0i64;
    if let Some(d) = days.strip_suffix('D') {
        minutes = minutes.checked_add(d.parse::<i64>().ok()?.checked_mul(1440)?)?;
    } else if let Some(w) = days.strip_suffix('W') {
        minutes = minutes.checked_add(w.parse::<i64>().ok()?.checked_mul(10080)?)?;
    }
    let mut num = String::new();
    for ch in time.chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
        } else {
            let n: i64 = num.parse().ok()?;
            num.clear();
            minutes = minutes.checked_add(match ch {
                'H' => n.checked_mul(60)?,
                'M' => n,
                'S' => 0,
                _ => return None,
            })?;
        }
    }
    Some(if neg { minutes } else { -minutes }).filter(|m| *m >= 0)
}

/// Reads a Notes calendar event (one VEVENT: a list row or a full GET) into a canonical record.
/// List rows have no description, attendees or alarm: `summary_only` leaves those fields out
/// so they are not taken as cleared.
#[must_use]
pub fn record_from_notes_event(ev: &Value, zones: &CalZones, user_email: Option<&str>) -> Record {
    let mut f = Fields::default();
    let text = |k: &str| {
        ev.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    f.set("title", &text("summary"));
    f.set("location", &text("location"));
    f.set("description", &text("description"));
    let start = ev.get("start").and_then(|v| notes_when(v, zones));
    let mut end = ev.get("end").and_then(|v| notes_when(v, zones));
    if let (Some(s), Some(e)) = (&start, &end)
        && s.len() == 10
        && e.len() == 10
    {
        // iCalendar all-day ends are exclusive; canonical ends are the last day.
        let last = NaiveDate::parse_from_str(e, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.pred_opt())
            .map(|d| d.to_string());
        end = last
            .filter(|l| l.as_str() >= s.as_str())
            .or_else(|| Some(s.clone()));
    }
    if let Some(s) = &start {
        f.set("start", s);
    }
    if let Some(e) = end.or_else(|| start.clone()) {
        f.set("end", &e);
    }
    let organizer = ev
        .get("organizer")
        .and_then(|o| o.get("email"))
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let mut emails: Vec<String> = ev
        .get("attendees")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| a.get("role").and_then(Value::as_str) != Some("chair"))
        .filter_map(|a| a.get("email").and_then(Value::as_str))
        .map(|e| e.trim().to_lowercase())
        .filter(|e| {
            !e.is_empty() && Some(e) != organizer.as_ref() && Some(e.as_str()) != user_email
        })
        .collect();
    emails.sort();
    emails.dedup();
    f.set("attendees", &emails.join(", "));
    let reminder = ev
        .get("alarm")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|a| a.get("trigger")?.get("value")?.as_str().map(str::to_owned))
        .and_then(|t| reminder_minutes(&t));
    if let Some(m) = reminder {
        f.set("reminder", &m.to_string());
    }
    let class = text("class").to_ascii_lowercase();
    let private = class == "private" || class == "confidential";
    let xref = ev
        .get(NOTES_EVENT_XREF)
        .and_then(|x| x.get("data").or(Some(x)))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Record {
        fields: f,
        private,
        xref,
    }
}

/// The canonical fields a Notes list row carries (the rest needs a full read).
pub const NOTES_SUMMARY_FIELDS: &[&str] = &["title", "location", "start", "end"];

/// The Notes calendar JSON (one VEVENT) for canonical `fields`, times in UTC.
#[must_use]
pub fn notes_event(fields: &Fields, xref: Option<&str>) -> Value {
    let mut ev = Map::new();
    let text = |k: &str| Value::String(fields.get(k).unwrap_or_default().to_owned());
    ev.insert("summary".into(), text("title"));
    ev.insert("location".into(), text("location"));
    ev.insert("description".into(), text("description"));
    for (key, canon) in [("start", "start"), ("end", "end")] {
        let Some(v) = fields.get(canon) else { continue };
        let when = if v.len() == 10 {
            // All-day: iCalendar ends are exclusive.
            let d = if key == "end" {
                NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.succ_opt())
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| v.to_owned())
            } else {
                v.to_owned()
            };
            json!({"date": d})
        } else {
            match Timestamp::parse_iso(v) {
                Some(t) => {
                    let iso = t.to_das();
                    json!({"date": &iso[0..10], "time": &iso[11..19], "utc": true})
                }
                None => continue,
            }
        };
        ev.insert(key.into(), when);
    }
    let attendees: Vec<Value> = fields
        .get("attendees")
        .map(|a| a.split(", ").filter(|e| !e.is_empty()).map(|e| json!({"role": "req-participant", "status": "needs-action", "rsvp": false, "email": e})).collect())
        .unwrap_or_default();
    if !attendees.is_empty() {
        ev.insert("attendees".into(), Value::Array(attendees));
    }
    if let Some(m) = fields.get("reminder").and_then(|m| m.parse::<i64>().ok()) {
        ev.insert("alarm".into(), json!([{"action": "DISPLAY", "trigger": {"valueDataType": "DURATION", "related": "START", "value": format!("-PT{m}M")}}]));
    }
    if let Some(x) = xref {
        ev.insert(NOTES_EVENT_XREF.into(), json!({"data": x}));
    }
    Value::Object(ev)
}

/// The event `raw` (as the calendar service returned it) with the mapped fields set from
/// `fields`: title, location, description, start, end, reminder, attendees and the cross-ID.
/// Everything else is kept as it was — organizer, the chair, other attendees' roles and
/// answers, categories, class — so a sync never strips a meeting of what it does not map.
#[must_use]
pub fn merge_notes_event(raw: &Value, fields: &Fields, xref: Option<&str>) -> Value {
    let mut ev = raw.as_object().cloned().unwrap_or_default();
    // Read-only or server-managed properties.
    for k in ["href", "links", "last-modified", "sequence"] {
        ev.remove(k);
    }
    let fresh = notes_event(fields, xref);
    // The cross-ID the event holds stays unless a new one is given: a content update must not
    // unlink the event (the next full read would write it back).
    if let Some(x) = fresh.get(NOTES_EVENT_XREF) {
        ev.insert(NOTES_EVENT_XREF.to_owned(), x.clone());
    }
    for k in [
        "summary",
        "location",
        "description",
        "start",
        "end",
        "alarm",
    ] {
        match fresh.get(k) {
            Some(v) => {
                ev.insert(k.to_owned(), v.clone());
            }
            None => {
                ev.remove(k);
            }
        }
    }
    let wanted: Vec<String> = fields
        .get("attendees")
        .map(|a| {
            a.split(", ")
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let organizer = ev
        .get("organizer")
        .and_then(|o| o.get("email"))
        .and_then(Value::as_str)
        .map(str::to_lowercase);
    let mut kept: Vec<Value> = Vec::new();
    let mut present: Vec<String> = Vec::new();
    for a in ev
        .get("attendees")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let email = a
            .get("email")
            .and_then(Value::as_str)
            .map(str::to_lowercase)
            .unwrap_or_default();
        let chair = a.get("role").and_then(Value::as_str) == Some("chair")
            || Some(&email) == organizer.as_ref();
        if chair || wanted.contains(&email) {
            present.push(email);
            kept.push(a);
        }
    }
    for e in wanted.iter().filter(|e| !present.contains(e)) {
        kept.push(
            json!({"role": "req-participant", "status": "needs-action", "rsvp": false, "email": e}),
        );
    }
    if kept.is_empty() {
        ev.remove("attendees");
    } else {
        ev.insert("attendees".into(), Value::Array(kept));
    }
    Value::Object(ev)
}

// ---- Zoho Events ----

/// The Zoho fields to request when listing events.
pub const CRM_EVENT_FIELDS: &str = "Event_Title,Start_DateTime,End_DateTime,All_day,Venue,Description,Participants,Remind_At,Notes_UNID,Tag,Modified_Time";

/// Reads a Zoho `Events` record into a canonical record.
#[must_use]
pub fn record_from_crm_event(rec: &Value, private_tag: &str) -> Record {
    let mut f = Fields::default();
    let text = |k: &str| {
        rec.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let title = text("Event_Title");
    f.set("title", if title == CRM_PLACEHOLDER { "" } else { &title });
    f.set("location", &text("Venue"));
    f.set("description", &text("Description"));
    let all_day = rec.get("All_day").and_then(Value::as_bool) == Some(true);
    for (canon, key) in [("start", "Start_DateTime"), ("end", "End_DateTime")] {
        let v = text(key);
        if v.is_empty() {
            continue;
        }
        if all_day {
            f.set(canon, v.get(0..10).unwrap_or_default());
        } else if let Some(t) = Timestamp::parse_iso(&v) {
            f.set(canon, &t.to_das());
        }
    }
    let mut emails: Vec<String> = rec
        .get("Participants")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            p.get("Email")
                .or_else(|| p.get("email"))
                .and_then(Value::as_str)
        })
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
        .collect();
    emails.sort();
    emails.dedup();
    f.set("attendees", &emails.join(", "));
    let minutes = match rec.get("Remind_At") {
        Some(Value::Array(a)) => a.first().and_then(|r| {
            let unit = r.get("unit")?.as_i64()?;
            let per = match r.get("period")?.as_str()?.to_ascii_lowercase().as_str() {
                "minutes" | "mins" => 1,
                "hours" | "hrs" => 60,
                "days" => 1440,
                "weeks" => 10080,
                _ => return None,
            };
            Some(unit * per)
        }),
        Some(Value::String(at)) => {
            // v2: the reminder's own date-time.
            let start = f.get("start").and_then(Timestamp::parse_iso);
            match (Timestamp::parse_iso(at), start) {
                (Some(r), Some(s)) if r <= s => Some((s.0 - r.0) / 60_000),
                _ => None,
            }
        }
        _ => None,
    };
    if let Some(m) = minutes {
        f.set("reminder", &m.to_string());
    }
    Record {
        fields: f,
        private: crm_is_private(rec, private_tag),
        xref: crm_xref(rec),
    }
}

/// The Zoho JSON for canonical `fields` (only the fields named, plus those in `clear`), in the
/// user's zone. `full` adds the mandatory fields (a new record).
#[must_use]
pub fn crm_event(
    fields: &Fields,
    names: &[&str],
    clear: &[String],
    full: bool,
    xref: Option<&str>,
    ctx: &MapCtx,
) -> Map<String, Value> {
    let mut rec = Map::new();
    let wants = |n: &str| full || names.contains(&n) || clear.iter().any(|c| c == n);
    let opt = |k: &str| {
        fields
            .get(k)
            .map_or(Value::Null, |v| Value::String(v.to_owned()))
    };
    if wants("title") {
        rec.insert(
            "Event_Title".into(),
            Value::String(fields.get("title").unwrap_or(CRM_PLACEHOLDER).to_owned()),
        );
    }
    if wants("location") {
        rec.insert("Venue".into(), opt("location"));
    }
    if wants("description") {
        rec.insert("Description".into(), opt("description"));
    }
    if wants("start") || wants("end") {
        // Start, end and all-day travel together: Zoho validates them as a set.
        let (s, e) = (
            fields.get("start").unwrap_or_default(),
            fields.get("end").unwrap_or_default(),
        );
        let all_day = s.len() == 10;
        let zoned = |v: &str, end: bool| -> Option<String> {
            if all_day {
                let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()?;
                let t = if end {
                    NaiveTime::from_hms_opt(23, 59, 0)?
                } else {
                    NaiveTime::MIN
                };
                let inst = local_instant(d, t, ctx.tz)?;
                Some(inst.to_offset(offset_minutes(ctx.tz, inst)))
            } else {
                let t = Timestamp::parse_iso(v)?;
                Some(t.to_offset(offset_minutes(ctx.tz, t)))
            }
        };
        if let (Some(zs), Some(ze)) = (
            zoned(s, false),
            zoned(if e.is_empty() { s } else { e }, true),
        ) {
            rec.insert("Start_DateTime".into(), Value::String(zs));
            rec.insert("End_DateTime".into(), Value::String(ze));
            rec.insert("All_day".into(), Value::Bool(all_day));
        }
    }
    if wants("attendees") {
        let list: Vec<Value> = fields
            .get("attendees")
            .map(|a| {
                a.split(", ")
                    .filter(|e| !e.is_empty())
                    .map(|e| json!({"type": "email", "Email": e}))
                    .collect()
            })
            .unwrap_or_default();
        rec.insert("Participants".into(), Value::Array(list));
    }
    if wants("reminder") {
        let v = fields
            .get("reminder")
            .and_then(|m| m.parse::<i64>().ok())
            .map_or(Value::Null, |m| json!([{"unit": m, "period": "minutes"}]));
        rec.insert("Remind_At".into(), v);
    }
    if let Some(x) = xref {
        rec.insert(CRM_XREF_FIELD.into(), Value::String(x.to_owned()));
    }
    rec
}

/// "Meeting (2026-11-25T08:00:00Z)".
#[must_use]
pub fn label(fields: &Fields) -> String {
    let title = fields.get("title").unwrap_or("(no title)");
    match fields.get("start") {
        Some(s) => format!("{title} ({s})"),
        None => title.to_owned(),
    }
}

/// First-sync key: title (case-insensitive) and start.
#[must_use]
pub fn match_key(fields: &Fields) -> Option<String> {
    Some(format!(
        "{}\u{1f}{}",
        fields.get("title")?.to_lowercase(),
        fields.get("start")?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokyo() -> Tz {
        "Asia/Tokyo".parse().unwrap()
    }

    const EASTERN: &str = r#"{"tzid":"Eastern","standard":{"start":{"date":"1950-11-05","time":"02:00:00"},"offsetFrom":"-0400","offsetTo":"-0500","recurrenceRule":"FREQ=YEARLY;BYMONTH=11;BYDAY=1SU;BYHOUR=2;BYMINUTE=0"},"daylight":{"start":{"date":"1950-03-12","time":"02:00:00"},"offsetFrom":"-0500","offsetTo":"-0400","recurrenceRule":"FREQ=YEARLY;BYMONTH=3;BYDAY=2SU;BYHOUR=2;BYMINUTE=0"}}"#;

    #[test]
    fn a_content_update_keeps_the_events_cross_id() {
        let raw = json!({"id": "U1", "summary": "Old", "x-nzsync-zoho-id": {"data": "Z1"},
            "start": {"date": "2027-02-10", "time": "01:00:00", "utc": true},
            "end": {"date": "2027-02-10", "time": "02:00:00", "utc": true}});
        let mut f = Fields::default();
        f.set("title", "New");
        f.set("start", "2027-02-10T01:00:00Z");
        f.set("end", "2027-02-10T02:00:00Z");
        let merged = merge_notes_event(&raw, &f, None);
        assert_eq!(merged["summary"], "New");
        assert_eq!(merged[NOTES_EVENT_XREF], json!({"data": "Z1"}));
        let relinked = merge_notes_event(&raw, &f, Some("Z2"));
        assert_eq!(relinked[NOTES_EVENT_XREF], json!({"data": "Z2"}));
    }

    #[test]
    fn tzid_times_use_the_answers_vtimezone_rules() {
        let zones = CalZones::from_answer(
            &json!({"timezones": [serde_json::from_str::<Value>(EASTERN).unwrap()]}),
        );
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        // Summer (EDT, -4) and winter (EST, -5), across both 2026 transitions.
        assert_eq!(
            zones
                .instant(d("2026-07-01"), nine, "Eastern")
                .unwrap()
                .to_das(),
            "2026-07-01T13:00:00Z"
        );
        assert_eq!(
            zones
                .instant(d("2026-12-01"), nine, "Eastern")
                .unwrap()
                .to_das(),
            "2026-12-01T14:00:00Z"
        );
        assert_eq!(
            zones
                .instant(d("2026-03-08"), nine, "Eastern")
                .unwrap()
                .to_das(),
            "2026-03-08T13:00:00Z"
        );
        assert_eq!(
            zones
                .instant(d("2026-03-07"), nine, "Eastern")
                .unwrap()
                .to_das(),
            "2026-03-07T14:00:00Z"
        );
        assert_eq!(
            zones
                .instant(d("2026-11-01"), nine, "Eastern")
                .unwrap()
                .to_das(),
            "2026-11-01T14:00:00Z"
        );
        // An IANA id without a definition is understood too.
        assert_eq!(
            zones
                .instant(d("2026-07-01"), nine, "Europe/Berlin")
                .unwrap()
                .to_das(),
            "2026-07-01T07:00:00Z"
        );
    }

    #[test]
    fn notes_and_zoho_events_meet_in_the_same_canonical_form() {
        let zones = CalZones::from_answer(
            &json!({"timezones": [serde_json::from_str::<Value>(EASTERN).unwrap()]}),
        );
        let notes = json!({"id":"U1","summary":"1x1 with Duke","location":"My office","description":"Status",
            "start":{"date":"2026-09-16","time":"09:00:00","tzid":"Eastern"},"end":{"date":"2026-09-16","time":"10:00:00","tzid":"Eastern"},
            "class":"public","attendees":[{"role":"chair","email":"me@acme.com"},{"role":"req-participant","email":"Duke@Acme.com"}],
            "organizer":{"email":"me@acme.com"},"alarm":[{"action":"DISPLAY","trigger":{"value":"-PT15M"}}]});
        let zoho = json!({"id":"Z1","Event_Title":"1x1 with Duke","Venue":"My office","Description":"Status",
            "Start_DateTime":"2026-09-16T22:00:00+09:00","End_DateTime":"2026-09-16T23:00:00+09:00","All_day":false,
            "Participants":[{"type":"email","Email":"duke@acme.com","invited":false}],"Remind_At":[{"unit":15,"period":"minutes"}]});
        let n = record_from_notes_event(&notes, &zones, None);
        let z = record_from_crm_event(&zoho, "Private");
        assert_eq!(n.fields, z.fields);
        assert_eq!(n.fields.get("start"), Some("2026-09-16T13:00:00Z"));
        assert_eq!(n.fields.get("attendees"), Some("duke@acme.com"));
        assert_eq!(n.fields.get("reminder"), Some("15"));
        // Written back: Zoho in the user's zone, Notes in UTC; both read back equal.
        let ctx = MapCtx {
            tz: tokyo(),
            now: Timestamp(0),
            ..MapCtx::default()
        };
        let out = crm_event(&n.fields, &[], &[], true, None, &ctx);
        assert_eq!(out["Start_DateTime"], "2026-09-16T22:00:00+09:00");
        assert_eq!(
            record_from_crm_event(&Value::Object(out), "Private").fields,
            n.fields
        );
        let ev = notes_event(&n.fields, Some("Z1"));
        assert_eq!(
            ev["start"],
            json!({"date":"2026-09-16","time":"13:00:00","utc":true})
        );
        assert_eq!(
            record_from_notes_event(&ev, &CalZones::default(), None).fields,
            n.fields
        );
        assert_eq!(
            record_from_notes_event(&ev, &CalZones::default(), None)
                .xref
                .as_deref(),
            Some("Z1")
        );
    }

    #[test]
    fn all_day_events_keep_their_days() {
        let notes =
            json!({"summary":"Holiday","start":{"date":"2026-12-24"},"end":{"date":"2026-12-26"}});
        let n = record_from_notes_event(&notes, &CalZones::default(), None);
        assert_eq!(n.fields.get("start"), Some("2026-12-24"));
        assert_eq!(n.fields.get("end"), Some("2026-12-25"));
        let ctx = MapCtx {
            tz: "America/New_York".parse().unwrap(),
            now: Timestamp(0),
            ..MapCtx::default()
        };
        let z = crm_event(&n.fields, &[], &[], true, None, &ctx);
        assert_eq!(z["Start_DateTime"], "2026-12-24T00:00:00-05:00");
        assert_eq!(z["End_DateTime"], "2026-12-25T23:59:00-05:00");
        assert_eq!(z["All_day"], true);
        assert_eq!(
            record_from_crm_event(&Value::Object(z), "Private").fields,
            n.fields
        );
        assert_eq!(
            notes_event(&n.fields, None)["end"],
            json!({"date":"2026-12-26"})
        );
    }

    #[test]
    fn windows_are_days_in_the_users_zone() {
        let now = Timestamp::parse_iso("2026-11-25T20:00:00Z").unwrap(); // 26th in Tokyo
        let (s, b) = window_bounds(EventsWindow::Today, now, tokyo()).unwrap();
        assert_eq!(
            (s.to_das(), b.to_das()),
            ("2026-11-25T15:00:00Z".into(), "2026-11-26T15:00:00Z".into())
        );
        let (s, _) = window_bounds(EventsWindow::PastMonth, now, tokyo()).unwrap();
        assert_eq!(s.to_das(), "2026-10-25T15:00:00Z");
        assert!(window_bounds(EventsWindow::Off, now, tokyo()).is_none());
        assert!(starts_within("2026-11-26", s, b, tokyo()));
        assert!(!starts_within("2026-11-27T00:00:00Z", s, b, tokyo()));
    }

    #[test]
    fn reminder_durations() {
        assert_eq!(reminder_minutes("-PT15M"), Some(15));
        assert_eq!(reminder_minutes("-PT1H30M"), Some(90));
        assert_eq!(reminder_minutes("-P1D"), Some(1440));
        assert_eq!(reminder_minutes("PT5M"), None);
        // Found by the parser fuzz: numbers too large for minutes overflowed (a panic).
        assert_eq!(reminder_minutes("-P9223372036854775807D"), None);
        assert_eq!(reminder_minutes("-P99999999999999999W"), None);
        assert_eq!(reminder_minutes("-PT9223372036854775807H"), None);
        assert_eq!(
            reminder_minutes("-P6403999999999999DT9223372036854775807M"),
            None
        );
    }

    #[test]
    fn private_classes_and_placeholders() {
        let n = record_from_notes_event(
            &json!({"summary":"x","class":"confidential"}),
            &CalZones::default(),
            None,
        );
        assert!(n.private);
        let z = record_from_crm_event(
            &json!({"Event_Title":"(none)","Tag":[{"name":"Private"}]}),
            "Private",
        );
        assert!(z.private);
        assert_eq!(z.fields.get("title"), None);
    }
}
