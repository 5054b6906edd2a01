//! Calendar events in JSCalendar form, as the Domino REST API's PIM calendar reads and writes
//! them (`reference/domino-rest-api.md` §5.1–5.3), ↔ the canonical [`Record`] (the same fields
//! as [`super::events`]).
//!
//! Reading an entry (`jsevent`):
//! - `title`; the first of `locations` by name; `description` is HTML, read as its text;
//! - `start` is a local date-time in `timeZone`: an IANA name, `Etc/UTC`, a Notes time-zone
//!   string (`Z=5$DO=1$DL=3 2 1 11 1 1$ZN=Eastern`), or none (floating: taken as UTC, as a
//!   Notes floating time is); `duration` gives the end. With `showWithoutTime` the entry is
//!   all-day: its days are `start`'s date and the `duration`'s whole days after it;
//! - attendees are the `participants` that are neither its owner nor a chair;
//! - the reminder is the first alert's `OffsetTrigger`; `privacy` `private` or `secret` is
//!   private.
//!
//! Written entries carry times in UTC (`timeZone` `Etc/UTC`), all-day ones as whole days. An
//! update keeps everything of the entry the mapping does not carry (organizer, other
//! participants' roles and answers, categories, privacy). JSCalendar has no place for the Zoho
//! id, so events written here carry no Notes-side cross-ID; the CRM side's `Notes_UNID` links
//! them.
//!
//! Keys: an entry's `uid`, and for an occurrence of a series `uid/recurrenceId` (the
//! occurrence's original local start, as PIM names it in `recurrenceOverrides`).

use chrono::{Duration, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use super::events::{CalTz, reminder_minutes};
use crate::model::{Fields, Record};
use crate::time::Timestamp;

/// `2024-06-11T09:00:00`: a JSCalendar `LocalDateTime`.
fn local_text(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn parse_local(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
        .ok()
}

/// An ISO 8601 duration (`PT1H30M`, `P1D`, `P1W`, `P1DT2H`) in seconds; negative or
/// unreadable ones are `None`.
fn duration_secs(s: &str) -> Option<i64> {
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
    Some(total)
}

/// `PT1H30M`, `P2D`, `PT0S`.
fn duration_text(secs: i64) -> String {
    let secs = secs.max(0);
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
        for (n, u) in [(h, 'H'), (m, 'M'), (s, 'S')] {
            if n > 0 {
                out.push_str(&format!("{n}{u}"));
            }
        }
    }
    out
}

/// The instant of `local` in the JSCalendar `timeZone` `zone`.
fn instant(local: NaiveDateTime, zone: Option<&str>) -> Option<Timestamp> {
    let utc = || Timestamp(local.and_utc().timestamp_millis());
    let Some(zone) = zone.map(str::trim).filter(|z| !z.is_empty()) else {
        return Some(utc()); // Floating: taken as UTC.
    };
    if let Ok(tz) = zone.parse::<Tz>() {
        use chrono::TimeZone;
        let t = tz.from_local_datetime(&local).earliest()?;
        return Some(Timestamp(t.timestamp_millis()));
    }
    CalTz::from_notes_zone(zone).map(|(_, z)| z.instant(local))
}

/// HTML as text: tags dropped (`<br>` and the ends of paragraphs become line breaks), the
/// common entities decoded.
fn html_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            break; // A `<` that opens no tag is text.
        };
        let tag = rest[open + 1..open + close].trim().to_ascii_lowercase();
        let name = tag.trim_start_matches('/');
        let name = name.split([' ', '/']).next().unwrap_or_default();
        let ends_line =
            name == "br" || (tag.starts_with('/') && matches!(name, "p" | "div" | "li"));
        if ends_line && !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out.trim_end_matches('\n')
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Text as HTML: `&`, `<` and `>` escaped, line breaks as `<br>`.
fn text_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', "<br>")
}

fn role(p: &Value, r: &str) -> bool {
    p.get("roles")
        .and_then(|x| x.get(r))
        .and_then(Value::as_bool)
        == Some(true)
}

/// The entry's key: `uid`, or `uid/recurrenceId` for an occurrence.
#[must_use]
pub fn jscal_key(ev: &Value) -> Option<String> {
    let uid = ev.get("uid").and_then(Value::as_str)?;
    Some(match ev.get("recurrenceId").and_then(Value::as_str) {
        Some(rid) => format!("{uid}/{rid}"),
        None => uid.to_owned(),
    })
}

/// Reads a JSCalendar entry into a canonical record.
#[must_use]
pub fn record_from_jscal(ev: &Value) -> Record {
    let mut f = Fields::default();
    let text = |k: &str| ev.get(k).and_then(Value::as_str).unwrap_or_default();
    f.set("title", text("title"));
    let location = ev
        .get("locations")
        .and_then(Value::as_object)
        .and_then(|l| {
            l.values()
                .find_map(|v| v.get("name").and_then(Value::as_str))
        })
        .unwrap_or_default();
    f.set("location", location);
    f.set("description", &html_text(text("description")));
    let start = parse_local(text("start"));
    let secs = duration_secs(text("duration")).unwrap_or(0);
    if let Some(start) = start {
        if ev.get("showWithoutTime").and_then(Value::as_bool) == Some(true) {
            let days = (secs / 86_400).max(1);
            let first = start.date();
            let last = first
                .checked_add_signed(Duration::days(days - 1))
                .unwrap_or(first);
            f.set("start", &first.to_string());
            f.set("end", &last.to_string());
        } else if let Some(t) = instant(start, ev.get("timeZone").and_then(Value::as_str)) {
            f.set("start", &t.to_das());
            f.set("end", &t.plus_ms(secs.saturating_mul(1000)).to_das());
        }
    }
    let mut emails: Vec<String> = ev
        .get("participants")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.values())
        .filter(|p| !role(p, "owner") && !role(p, "chair"))
        .filter_map(|p| p.get("email").and_then(Value::as_str))
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
        .collect();
    emails.sort();
    emails.dedup();
    f.set("attendees", &emails.join(", "));
    let reminder = ev
        .get("alerts")
        .and_then(Value::as_object)
        .and_then(|a| {
            a.values()
                .find_map(|x| x.get("trigger")?.get("offset")?.as_str().map(str::to_owned))
        })
        .and_then(|o| reminder_minutes(&o));
    if let Some(m) = reminder {
        f.set("reminder", &m.to_string());
    }
    let privacy = text("privacy");
    Record {
        fields: f,
        private: privacy == "private" || privacy == "secret",
        xref: None,
    }
}

/// The JSCalendar time of canonical `start`/`end`: `start`, `duration`, and `timeZone` or
/// `showWithoutTime`.
fn times(fields: &Fields) -> Map<String, Value> {
    let mut m = Map::new();
    let (Some(start), end) = (fields.get("start"), fields.get("end")) else {
        return m;
    };
    if start.len() == 10 {
        let Ok(first) = NaiveDate::parse_from_str(start, "%Y-%m-%d") else {
            return m;
        };
        let last = end
            .and_then(|e| NaiveDate::parse_from_str(e, "%Y-%m-%d").ok())
            .filter(|l| *l >= first)
            .unwrap_or(first);
        let days = (last - first).num_days() + 1;
        m.insert(
            "start".into(),
            json!(local_text(first.and_time(chrono::NaiveTime::MIN))),
        );
        m.insert("duration".into(), json!(format!("P{days}D")));
        m.insert("showWithoutTime".into(), json!(true));
        m.insert("timeZone".into(), Value::Null);
    } else if let Some(s) = Timestamp::parse_iso(start) {
        let e = end
            .and_then(Timestamp::parse_iso)
            .filter(|e| *e >= s)
            .unwrap_or(s);
        let Some(local) = chrono::DateTime::from_timestamp_millis(s.0) else {
            return m;
        };
        m.insert("start".into(), json!(local_text(local.naive_utc())));
        m.insert("duration".into(), json!(duration_text((e.0 - s.0) / 1000)));
        m.insert("timeZone".into(), json!("Etc/UTC"));
        m.insert("showWithoutTime".into(), json!(false));
    }
    m
}

fn location(name: &str) -> Value {
    json!({"nzsync": {"@type": "Location", "name": name}})
}

fn alert(minutes: &str) -> Option<Value> {
    let m: i64 = minutes.parse().ok()?;
    Some(json!({"nzsync": {"@type": "Alert", "action": "display",
        "trigger": {"@type": "OffsetTrigger", "offset": format!("-PT{m}M")}}}))
}

fn attendee(email: &str) -> Value {
    json!({"@type": "Participant", "email": email, "roles": {"attendee": true},
           "participationStatus": "needs-action"})
}

/// A new JSCalendar entry for canonical `fields`.
#[must_use]
pub fn jscal_event(fields: &Fields) -> Value {
    let mut ev = Map::new();
    ev.insert("@type".into(), json!("jsevent"));
    ev.insert(
        "title".into(),
        json!(fields.get("title").unwrap_or_default()),
    );
    if let Some(d) = fields.get("description") {
        ev.insert("description".into(), json!(text_html(d)));
    }
    if let Some(l) = fields.get("location") {
        ev.insert("locations".into(), location(l));
    }
    ev.extend(times(fields));
    let people: Map<String, Value> = fields
        .get("attendees")
        .into_iter()
        .flat_map(|a| a.split(", "))
        .filter(|e| !e.is_empty())
        .enumerate()
        .map(|(i, e)| (format!("nzsync-{i}"), attendee(e)))
        .collect();
    if !people.is_empty() {
        ev.insert("participants".into(), Value::Object(people));
    }
    if let Some(a) = fields.get("reminder").and_then(alert) {
        ev.insert("alerts".into(), a);
    }
    ev.insert("privacy".into(), json!("public"));
    Value::Object(ev)
}

/// `raw` (an entry as PIM returned it) with the mapped fields set from `fields`, keeping
/// everything else: the owner and chairs, other participants' roles and answers, categories,
/// privacy, a series' rules and other occurrences.
fn merged(raw: &Map<String, Value>, fields: &Fields) -> Map<String, Value> {
    let mut ev = raw.clone();
    ev.insert(
        "title".into(),
        json!(fields.get("title").unwrap_or_default()),
    );
    match fields.get("description") {
        Some(d) => ev.insert("description".into(), json!(text_html(d))),
        None => ev.remove("description"),
    };
    match fields.get("location") {
        Some(l) => ev.insert("locations".into(), location(l)),
        None => ev.remove("locations"),
    };
    for k in ["start", "duration", "timeZone", "showWithoutTime"] {
        ev.remove(k);
    }
    ev.extend(times(fields));
    match fields.get("reminder").and_then(alert) {
        Some(a) => ev.insert("alerts".into(), a),
        None => ev.remove("alerts"),
    };
    let wanted: Vec<&str> = fields
        .get("attendees")
        .map(|a| a.split(", ").filter(|e| !e.is_empty()).collect())
        .unwrap_or_default();
    let mut people = Map::new();
    let mut present = Vec::new();
    if let Some(Value::Object(old)) = raw.get("participants") {
        for (k, p) in old {
            let email = p
                .get("email")
                .and_then(Value::as_str)
                .map(str::to_lowercase)
                .unwrap_or_default();
            if role(p, "owner") || role(p, "chair") || wanted.contains(&email.as_str()) {
                present.push(email);
                people.insert(k.clone(), p.clone());
            }
        }
    }
    for (i, e) in wanted
        .iter()
        .filter(|e| !present.iter().any(|p| p == *e))
        .enumerate()
    {
        people.insert(format!("nzsync-{i}"), attendee(e));
    }
    if people.is_empty() {
        ev.remove("participants");
    } else {
        ev.insert("participants".into(), Value::Object(people));
    }
    ev
}

/// The entry to write back for an update of `key` with `fields`, from `current` (the entry as
/// `GET /calendar/{calid}/{uid}` returned it, a series in its one-entry form): the entry merged,
/// or for an occurrence (`uid/recurrenceId`) the series with that occurrence's override
/// merged. `None` when `current` is not an entry.
#[must_use]
pub fn jscal_update(current: &Value, key: &str, fields: &Fields) -> Option<Value> {
    let raw = current.as_object()?;
    let Some((_, rid)) = key.split_once('/') else {
        return Some(Value::Object(merged(raw, fields)));
    };
    let mut series = raw.clone();
    let mut overrides = series
        .get("recurrenceOverrides")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let patch = overrides
        .get(rid)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut patch = merged(&patch, fields);
    // Only what an occurrence may change: its own content, not the series' rules.
    for k in ["recurrenceRules", "recurrenceOverrides", "uid", "@type"] {
        patch.remove(k);
    }
    overrides.insert(rid.to_owned(), Value::Object(patch));
    series.insert("recurrenceOverrides".into(), Value::Object(overrides));
    Some(Value::Object(series))
}

/// The series `current` with the occurrence `rid` excluded (its delete), or `None` when
/// `current` is not an entry.
#[must_use]
pub fn jscal_exclude(current: &Value, rid: &str) -> Option<Value> {
    let mut series = current.as_object()?.clone();
    let mut overrides = series
        .get("recurrenceOverrides")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    overrides.insert(rid.to_owned(), json!({"excluded": true}));
    series.insert("recurrenceOverrides".into(), Value::Object(overrides));
    Some(Value::Object(series))
}

/// The occurrence `rid` of the series `current` (its one-entry form), as a record: the series'
/// content at that start with its override on top; `None` when the occurrence is excluded or
/// `current` is not an entry.
#[must_use]
pub fn jscal_occurrence(current: &Value, rid: &str) -> Option<Record> {
    let series = current.as_object()?;
    let patch = series
        .get("recurrenceOverrides")
        .and_then(|o| o.get(rid))
        .and_then(Value::as_object);
    if patch.is_some_and(|p| p.get("excluded").and_then(Value::as_bool) == Some(true)) {
        return None;
    }
    let mut ev = series.clone();
    ev.remove("recurrenceRules");
    ev.remove("recurrenceOverrides");
    ev.insert("start".into(), json!(rid));
    if let Some(p) = patch {
        ev.extend(p.clone());
    }
    Some(record_from_jscal(&Value::Object(ev)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_reads_with_its_zone_and_writes_back_in_utc() {
        let ev = json!({"@type":"jsevent","uid":"9C1B","title":"Review",
            "start":"2026-07-01T09:00:00","duration":"PT1H30M",
            "timeZone":"Z=5$DO=1$DL=3 2 1 11 1 1$ZX=40$ZN=Eastern","privacy":"public",
            "description":"<font>Bring <b>the</b> figures &amp; notes</font><br>Room 2",
            "locations":{"a":{"@type":"Location","name":"HQ"}},
            "participants":{"o":{"@type":"Participant","email":"Me@x.com","roles":{"owner":true,"chair":true}},
                            "b":{"@type":"Participant","email":"Bob@Y.com","roles":{"attendee":true}}},
            "alerts":{"1":{"@type":"Alert","trigger":{"@type":"OffsetTrigger","offset":"-PT15M"}}}});
        let r = record_from_jscal(&ev);
        // 09:00 Eastern daylight time is 13:00 UTC.
        assert_eq!(r.fields.get("start"), Some("2026-07-01T13:00:00Z"));
        assert_eq!(r.fields.get("end"), Some("2026-07-01T14:30:00Z"));
        assert_eq!(
            r.fields.get("description"),
            Some("Bring the figures & notes\nRoom 2")
        );
        assert_eq!(r.fields.get("attendees"), Some("bob@y.com"));
        assert_eq!(r.fields.get("reminder"), Some("15"));
        assert_eq!(r.fields.get("location"), Some("HQ"));
        assert!(!r.private);
        let back = record_from_jscal(&jscal_event(&r.fields));
        assert_eq!(back.fields, r.fields);
        // In winter the same zone is five hours behind.
        let winter = json!({"uid":"A","title":"x","start":"2026-12-01T09:00:00",
            "duration":"PT1H","timeZone":"Z=5$DO=1$DL=3 2 1 11 1 1$ZN=Eastern"});
        assert_eq!(
            record_from_jscal(&winter).fields.get("start"),
            Some("2026-12-01T14:00:00Z")
        );
        let tokyo = json!({"uid":"A","title":"x","start":"2026-12-01T09:00:00",
            "duration":"PT1H","timeZone":"Asia/Tokyo","privacy":"secret"});
        let t = record_from_jscal(&tokyo);
        assert_eq!(t.fields.get("start"), Some("2026-12-01T00:00:00Z"));
        assert!(t.private);
    }

    #[test]
    fn all_day_entries_keep_their_days() {
        let ev = json!({"uid":"A","title":"Off","start":"2026-08-10T00:00:00","duration":"P3D",
            "showWithoutTime":true});
        let r = record_from_jscal(&ev);
        assert_eq!(r.fields.get("start"), Some("2026-08-10"));
        assert_eq!(r.fields.get("end"), Some("2026-08-12"));
        let w = jscal_event(&r.fields);
        assert_eq!(w["duration"], "P3D");
        assert_eq!(w["showWithoutTime"], true);
        assert_eq!(record_from_jscal(&w).fields, r.fields);
    }

    #[test]
    fn an_update_keeps_what_the_mapping_does_not_carry() {
        let raw = json!({"@type":"jsevent","uid":"U","title":"Old","start":"2026-07-01T09:00:00",
            "duration":"PT1H","timeZone":"Asia/Tokyo","privacy":"private",
            "categories":{"VIP":true},
            "participants":{"o":{"@type":"Participant","email":"me@x.com","roles":{"owner":true}},
                            "c":{"@type":"Participant","email":"carol@x.com","roles":{"attendee":true},
                                 "participationStatus":"accepted"},
                            "d":{"@type":"Participant","email":"dan@x.com","roles":{"attendee":true}}}});
        let mut f = record_from_jscal(&raw).fields;
        f.set("title", "New");
        f.set("attendees", "carol@x.com, eve@x.com");
        let out = jscal_update(&raw, "U", &f).unwrap();
        assert_eq!(out["title"], "New");
        assert_eq!(out["privacy"], "private");
        assert_eq!(out["categories"], json!({"VIP": true}));
        assert_eq!(out["participants"]["c"]["participationStatus"], "accepted");
        assert!(out["participants"].get("d").is_none());
        assert!(
            out["participants"]["o"]["roles"]["owner"]
                .as_bool()
                .unwrap()
        );
        let back = record_from_jscal(&out);
        assert_eq!(back.fields.get("attendees"), Some("carol@x.com, eve@x.com"));
        assert_eq!(back.fields.get("start"), f.get("start"));
    }

    #[test]
    fn occurrences_are_changed_and_deleted_through_the_series_overrides() {
        let series = json!({"uid":"S","title":"Standup","start":"2026-07-06T09:00:00",
            "duration":"PT15M","timeZone":"Etc/UTC",
            "recurrenceRules":[{"@type":"RecurrenceRule","frequency":"weekly"}]});
        let rid = "2026-07-13T09:00:00";
        let occ = jscal_occurrence(&series, rid).unwrap();
        assert_eq!(occ.fields.get("start"), Some("2026-07-13T09:00:00Z"));
        let mut f = occ.fields.clone();
        f.set("title", "Standup (moved)");
        f.set("start", "2026-07-13T10:00:00Z");
        f.set("end", "2026-07-13T10:15:00Z");
        let out = jscal_update(&series, &format!("S/{rid}"), &f).unwrap();
        assert_eq!(out["title"], "Standup", "the series keeps its title");
        assert_eq!(out["recurrenceOverrides"][rid]["title"], "Standup (moved)");
        assert_eq!(
            out["recurrenceOverrides"][rid]["start"],
            "2026-07-13T10:00:00"
        );
        let moved = jscal_occurrence(&out, rid).unwrap();
        assert_eq!(moved.fields.get("start"), Some("2026-07-13T10:00:00Z"));
        let gone = jscal_exclude(&out, rid).unwrap();
        assert!(jscal_occurrence(&gone, rid).is_none());
        assert_eq!(
            jscal_key(&json!({"uid":"S","recurrenceId":rid})).unwrap(),
            format!("S/{rid}")
        );
    }
}
