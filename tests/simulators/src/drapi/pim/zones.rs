//! Time zones between JSCalendar and the calendar store: an IANA name (`Asia/Manila`) becomes a
//! VTIMEZONE-style definition the store understands (its yearly rules read from the tz
//! database), and a Notes zone without an IANA name is shown as the Notes time-zone string the
//! server sends (`Z=5$DO=1$DL=3 2 1 11 1 1$ZN=Eastern`, domino-rest-api.md §5.1).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

fn offset_text(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    format!("{sign}{:02}{:02}", a / 3600, a % 3600 / 60)
}

fn offset_secs(text: &str) -> Option<i32> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    if digits.len() != 4 {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    Some(sign * (h * 3600 + m * 60))
}

fn offset_at(tz: Tz, t: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&t.naive_utc())
        .fix()
        .local_minus_utc()
}

const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// The yearly rule of a change at local time `local`: `(month, nth weekday or -1 for the last,
/// weekday index from Monday, hour, minute)`.
fn rule_of(local: chrono::NaiveDateTime) -> (u32, i32, usize, u32, u32) {
    let d = local.date();
    let days_in_month = NaiveDate::from_ymd_opt(d.year(), d.month(), 1)
        .and_then(|f| f.checked_add_months(chrono::Months::new(1)))
        .and_then(|n| n.pred_opt())
        .map_or(31, |l| l.day());
    let nth = if d.day() + 7 > days_in_month {
        -1
    } else {
        i32::try_from((d.day() - 1) / 7 + 1).unwrap_or(1)
    };
    let wd = d.weekday().num_days_from_monday() as usize;
    (d.month(), nth, wd, local.hour(), local.minute())
}

/// A change from one offset to another at instant `at`, as an observance object.
fn observance(at: DateTime<Utc>, from: i32, to: i32) -> Value {
    let local = at.naive_utc() + Duration::seconds(i64::from(from));
    let (month, nth, wd, hour, minute) = rule_of(local);
    json!({
        "start": {"date": format!("1970-{month:02}-01"), "time": format!("{hour:02}:{minute:02}:00")},
        "offsetFrom": offset_text(from),
        "offsetTo": offset_text(to),
        "recurrenceRule": format!("FREQ=YEARLY;BYMONTH={month};BYDAY={nth}{};BYHOUR={hour};BYMINUTE={minute}", DAYS[wd]),
    })
}

/// The store's definition of an IANA zone, with the rules in force in `year`; `None` for a
/// name the tz database does not know.
pub(crate) fn iana_definition(name: &str, year: i32) -> Option<Value> {
    let tz: Tz = name.parse().ok()?;
    let start = Utc.with_ymd_and_hms(year, 1, 1, 12, 0, 0).single()?;
    // The instants where the offset changes, found day by day, then hour by hour.
    let mut changes = Vec::new();
    let mut prev = offset_at(tz, start);
    for day in 1..=366 {
        let t = start + Duration::days(day);
        if t.year() != year {
            break;
        }
        let now = offset_at(tz, t);
        if now != prev {
            let mut at = t - Duration::days(1);
            while offset_at(tz, at) == prev && at < t {
                at += Duration::minutes(15);
            }
            changes.push((at, prev, now));
            prev = now;
        }
    }
    let base = offset_at(tz, start);
    let def = match changes.as_slice() {
        [(a, f1, t1), (b, f2, t2)] => {
            // Daylight is the larger offset.
            let (dst, std) = if t1 > f1 {
                ((a, f1, t1), (b, f2, t2))
            } else {
                ((b, f2, t2), (a, f1, t1))
            };
            json!({
                "tzid": name,
                "standard": observance(*std.0, *std.1, *std.2),
                "daylight": observance(*dst.0, *dst.1, *dst.2),
            })
        }
        _ => {
            let mid = Utc
                .with_ymd_and_hms(year, 7, 1, 12, 0, 0)
                .single()
                .map_or(base, |m| offset_at(tz, m));
            let o = if changes.is_empty() { base } else { mid };
            json!({
                "tzid": name,
                "standard": {"start": {"date": "1970-01-01", "time": "00:00:00"},
                             "offsetFrom": offset_text(o), "offsetTo": offset_text(o)},
            })
        }
    };
    Some(def)
}

/// Whether `name` is an IANA zone name.
pub(crate) fn is_iana(name: &str) -> bool {
    name.parse::<Tz>().is_ok()
}

/// `(month, week, weekday with Sunday = 1)` of an observance's rule, as Notes writes it
/// (the last week is 5).
fn notes_rule(obs: &Value) -> Option<(u32, i32, usize)> {
    let rule = obs.get("recurrenceRule")?.as_str()?;
    let mut month = None;
    let mut byday = None;
    for part in rule.split(';') {
        match part.split_once('=') {
            Some(("BYMONTH", m)) => month = m.parse::<u32>().ok(),
            Some(("BYDAY", d)) if d.len() >= 2 => {
                let (n, day) = d.split_at(d.len() - 2);
                let n: i32 = if n.is_empty() { 1 } else { n.parse().ok()? };
                let wd = DAYS.iter().position(|x| *x == day)?;
                byday = Some((if n < 0 { 5 } else { n }, (wd + 1) % 7 + 1));
            }
            _ => {}
        }
    }
    let (n, wd) = byday?;
    Some((month?, n, wd))
}

/// The Notes time-zone string of a store definition: `Z` = hours west of UTC, `DO` daylight
/// observed, `DL` = start month/week/day and end month/week/day, `ZN` = the name.
pub(crate) fn notes_zone_string(def: &Value) -> Option<String> {
    let tzid = def.get("tzid")?.as_str()?;
    let std = def.get("standard")?;
    let secs = offset_secs(std.get("offsetTo")?.as_str()?)?;
    let hours = -f64::from(secs) / 3600.0;
    let z = if hours.fract() == 0.0 {
        format!("{hours:.0}")
    } else {
        format!("{hours}")
    };
    let dl = def.get("daylight").and_then(|d| {
        let (m1, w1, d1) = notes_rule(d)?;
        let (m2, w2, d2) = notes_rule(std)?;
        Some(format!("{m1} {w1} {d1} {m2} {w2} {d2}"))
    });
    Some(match dl {
        Some(dl) => format!("Z={z}$DO=1$DL={dl}$ZN={tzid}"),
        None => format!("Z={z}$DO=0$ZN={tzid}"),
    })
}

/// The store definition a Notes time-zone string describes (`ZN` names it); `None` when it is
/// not one.
pub(crate) fn from_notes_zone_string(s: &str) -> Option<Value> {
    let mut z = None;
    let mut dl = None;
    let mut name = None;
    let mut observed = false;
    for part in s.split('$') {
        match part.split_once('=') {
            Some(("Z", v)) => z = v.trim().parse::<f64>().ok().filter(|h| h.abs() <= 14.0),
            Some(("DO", v)) => observed = v.trim() == "1",
            Some(("DL", v)) => dl = Some(v.trim().to_owned()),
            Some(("ZN", v)) => name = Some(v.trim().to_owned()),
            _ => {}
        }
    }
    let name = name.filter(|n| !n.is_empty())?;
    #[allow(clippy::cast_possible_truncation)]
    let std = (-z? * 3600.0).round() as i32;
    let obs = |from: i32, to: i32, rule: &[&str]| -> Option<Value> {
        let month: u32 = rule
            .first()?
            .parse()
            .ok()
            .filter(|m| (1..=12).contains(m))?;
        let week: i32 = rule.get(1)?.parse().ok().filter(|w| (1..=5).contains(w))?;
        let day: usize = rule.get(2)?.parse().ok().filter(|d| (1..=7).contains(d))?;
        let week = if week == 5 { -1 } else { week };
        let wd = DAYS[(day + 5) % 7];
        Some(json!({
            "start": {"date": format!("1970-{month:02}-01"), "time": "02:00:00"},
            "offsetFrom": offset_text(from), "offsetTo": offset_text(to),
            "recurrenceRule": format!("FREQ=YEARLY;BYMONTH={month};BYDAY={week}{wd};BYHOUR=2;BYMINUTE=0"),
        }))
    };
    if observed && let Some(dl) = dl {
        let parts: Vec<&str> = dl.split_whitespace().collect();
        if parts.len() == 6 {
            let dst = std + 3600;
            return Some(json!({
                "tzid": name,
                "daylight": obs(std, dst, &parts[..3])?,
                "standard": obs(dst, std, &parts[3..])?,
            }));
        }
    }
    Some(json!({
        "tzid": name,
        "standard": {"start": {"date": "1970-01-01", "time": "00:00:00"},
                     "offsetFrom": offset_text(std), "offsetTo": offset_text(std)},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domino::caltime::{EvTime, TzDef};

    fn utc_of(def: &Value, local: &str) -> String {
        let tzs = vec![TzDef::parse(def).unwrap()];
        let (date, time) = local.split_once('T').unwrap();
        let tzid = def["tzid"].as_str().unwrap();
        let t = EvTime::parse(&json!({"date":date,"time":time,"tzid":tzid}), &tzs).unwrap();
        t.to_utc(&tzs).format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    #[test]
    fn iana_zones_become_store_rules_that_agree_with_the_tz_database() {
        let ny = iana_definition("America/New_York", 2026).unwrap();
        assert_eq!(utc_of(&ny, "2026-07-01T09:00:00"), "2026-07-01T13:00:00Z");
        assert_eq!(utc_of(&ny, "2026-12-01T09:00:00"), "2026-12-01T14:00:00Z");
        assert_eq!(
            notes_zone_string(&ny).unwrap(),
            "Z=5$DO=1$DL=3 2 1 11 1 1$ZN=America/New_York"
        );
        let syd = iana_definition("Australia/Sydney", 2026).unwrap();
        assert_eq!(utc_of(&syd, "2026-01-15T10:00:00"), "2026-01-14T23:00:00Z");
        assert_eq!(utc_of(&syd, "2026-07-15T10:00:00"), "2026-07-15T00:00:00Z");
        let manila = iana_definition("Asia/Manila", 2026).unwrap();
        assert_eq!(
            utc_of(&manila, "2026-03-01T10:30:00"),
            "2026-03-01T02:30:00Z"
        );
        assert!(iana_definition("Mars/Olympus", 2026).is_none());
    }

    #[test]
    fn notes_zone_strings_round_trip() {
        let eastern = from_notes_zone_string("Z=5$DO=1$DL=3 2 1 11 1 1$ZX=40$ZN=Eastern").unwrap();
        assert_eq!(
            utc_of(&eastern, "2026-07-01T09:00:00"),
            "2026-07-01T13:00:00Z"
        );
        assert_eq!(
            notes_zone_string(&eastern).unwrap(),
            "Z=5$DO=1$DL=3 2 1 11 1 1$ZN=Eastern"
        );
        let tokyo = from_notes_zone_string("Z=-9$DO=0$ZN=Tokyo Standard Time").unwrap();
        assert_eq!(
            utc_of(&tokyo, "2026-07-01T09:00:00"),
            "2026-07-01T00:00:00Z"
        );
        assert!(from_notes_zone_string("Asia/Tokyo").is_none());
        assert!(from_notes_zone_string("Z=99$ZN=x").is_none());
    }
}
