//! Calendar times for the DAS calendar service: `{"date","time","utc"|"tzid"}` values,
//! VTIMEZONE definitions in their JSON form, and RRULE expansion (domino-api.md §2.3).

use chrono::{
    DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday,
};
use serde_json::{Map, Value, json};

/// Where a calendar time is anchored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Zone {
    Utc,
    Tz(String),
    /// Neither `utc` nor `tzid`: floating time, treated as UTC.
    Floating,
}

/// One `exDateTime`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EvTime {
    pub date: NaiveDate,
    /// `None` for all-day values.
    pub time: Option<NaiveTime>,
    pub zone: Zone,
}

/// One observance of a time zone (`standard` / `daylight`).
#[derive(Clone, Debug)]
struct Observance {
    /// Offset in seconds east of UTC.
    offset_to: i32,
    /// `(month, nth weekday, weekday, local time)` of the yearly change.
    rule: Option<(u32, i32, Weekday, NaiveTime)>,
}

/// A time zone definition from a `timezones` entry.
#[derive(Clone, Debug)]
pub(crate) struct TzDef {
    pub tzid: String,
    standard: Observance,
    daylight: Option<Observance>,
}

fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'-' => (-1, &s[1..]),
        b'+' => (1, &s[1..]),
        _ => (1, s),
    };
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 4 {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    Some(sign * (h * 3600 + m * 60))
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

/// `2SU`, `-1FR`, `MO` → (ordinal, weekday).
fn parse_byday(s: &str) -> Option<(Option<i32>, Weekday)> {
    let s = s.trim().to_ascii_uppercase();
    if s.len() < 2 {
        return None;
    }
    let (num, day) = s.split_at(s.len() - 2);
    let wd = parse_weekday(day)?;
    if num.is_empty() {
        return Some((None, wd));
    }
    let n: i32 = num.trim_start_matches('+').parse().ok()?;
    if n == 0 || n.abs() > 53 {
        return None;
    }
    Some((Some(n), wd))
}

/// The `n`th (negative: from the end) `wd` of a month.
fn nth_weekday(year: i32, month: u32, n: i32, wd: Weekday) -> Option<NaiveDate> {
    if n > 0 {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let delta = (7 + wd.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
        let d =
            first.checked_add_signed(Duration::days(i64::from(delta) + 7 * (i64::from(n) - 1)))?;
        (d.month() == month).then_some(d)
    } else {
        let next = NaiveDate::from_ymd_opt(year, month, 1)?.checked_add_months(Months::new(1))?;
        let last = next.pred_opt()?;
        let delta = (7 + last.weekday().num_days_from_monday() - wd.num_days_from_monday()) % 7;
        let d =
            last.checked_sub_signed(Duration::days(i64::from(delta) + 7 * (-i64::from(n) - 1)))?;
        (d.month() == month).then_some(d)
    }
}

fn parse_observance(v: Option<&Value>) -> Result<Option<Observance>, String> {
    let Some(v) = v else { return Ok(None) };
    let obj = v.as_object().ok_or("observance must be an object")?;
    let offset_to = obj
        .get("offsetTo")
        .and_then(Value::as_str)
        .and_then(parse_offset)
        .ok_or("offsetTo missing or invalid")?;
    let start_time = obj
        .get("start")
        .and_then(|s| s.get("time"))
        .and_then(Value::as_str)
        .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M:%S").ok())
        .unwrap_or(NaiveTime::MIN);
    let mut rule = None;
    if let Some(r) = obj.get("recurrenceRule").and_then(Value::as_str) {
        let mut month = None;
        let mut byday = None;
        let mut hour = None;
        let mut minute = 0;
        for part in r.split(';') {
            let (k, val) = part.split_once('=').unwrap_or((part, ""));
            match k.to_ascii_uppercase().as_str() {
                "BYMONTH" => month = val.parse::<u32>().ok(),
                "BYDAY" => byday = parse_byday(val),
                "BYHOUR" => hour = val.parse::<u32>().ok(),
                "BYMINUTE" => minute = val.parse::<u32>().unwrap_or(0),
                _ => {}
            }
        }
        if let (Some(m), Some((n, wd))) = (month, byday) {
            let time = hour
                .and_then(|h| NaiveTime::from_hms_opt(h, minute, 0))
                .unwrap_or(start_time);
            rule = Some((m, n.unwrap_or(1), wd, time));
        }
    }
    Ok(Some(Observance { offset_to, rule }))
}

impl TzDef {
    pub(crate) fn parse(v: &Value) -> Result<TzDef, String> {
        let tzid = v
            .get("tzid")
            .and_then(Value::as_str)
            .ok_or("a timezone needs a tzid")?
            .to_owned();
        let standard =
            parse_observance(v.get("standard"))?.ok_or("a timezone needs a standard observance")?;
        let daylight = parse_observance(v.get("daylight"))?;
        Ok(TzDef {
            tzid,
            standard,
            daylight,
        })
    }

    /// Offset (seconds east of UTC) in effect at a local time.
    fn offset_at(&self, local: NaiveDateTime) -> i32 {
        let Some(dl) = &self.daylight else {
            return self.standard.offset_to;
        };
        let (Some(dr), Some(sr)) = (dl.rule, self.standard.rule) else {
            return self.standard.offset_to;
        };
        let year = local.year();
        let change = |(m, n, wd, t): (u32, i32, Weekday, NaiveTime)| {
            nth_weekday(year, m, n, wd).map(|d| d.and_time(t))
        };
        let (Some(dst_start), Some(std_start)) = (change(dr), change(sr)) else {
            return self.standard.offset_to;
        };
        let in_dst = if dst_start < std_start {
            local >= dst_start && local < std_start
        } else {
            local >= dst_start || local < std_start
        };
        if in_dst {
            dl.offset_to
        } else {
            self.standard.offset_to
        }
    }
}

pub(crate) fn find_tz<'a>(tzs: &'a [TzDef], tzid: &str) -> Option<&'a TzDef> {
    tzs.iter().find(|t| t.tzid == tzid)
}

/// A calendar store error: HTTP status, store code (cserror = 1024 + code), message.
pub(crate) type CalError = (u16, u16, String);

pub(crate) fn bad_time() -> CalError {
    (400, 10, "Bad date time property".into())
}

impl EvTime {
    /// Parse an `exDateTime` object; `tzid` must name one of `tzs`.
    pub(crate) fn parse(v: &Value, tzs: &[TzDef]) -> Result<EvTime, CalError> {
        let obj = v.as_object().ok_or_else(bad_time)?;
        let date = obj
            .get("date")
            .and_then(Value::as_str)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(bad_time)?;
        let time = match obj.get("time") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => Some(
                NaiveTime::parse_from_str(t, "%H:%M:%S")
                    .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
                    .map_err(|_| bad_time())?,
            ),
            Some(_) => return Err(bad_time()),
        };
        let utc = obj.get("utc").and_then(Value::as_bool).unwrap_or(false);
        let tzid = obj.get("tzid").and_then(Value::as_str);
        let zone = match (utc, tzid) {
            (true, Some(_)) => return Err(bad_time()),
            (true, None) => Zone::Utc,
            (false, Some(id)) => {
                if find_tz(tzs, id).is_none() {
                    return Err((400, 10, "The Timezone ID is not found".into()));
                }
                Zone::Tz(id.to_owned())
            }
            (false, None) => Zone::Floating,
        };
        let zone = if time.is_none() { Zone::Floating } else { zone };
        Ok(EvTime { date, time, zone })
    }

    pub(crate) fn all_day(&self) -> bool {
        self.time.is_none()
    }

    pub(crate) fn local(&self) -> NaiveDateTime {
        self.date.and_time(self.time.unwrap_or(NaiveTime::MIN))
    }

    /// The instant (all-day and floating values: as UTC).
    pub(crate) fn to_utc(&self, tzs: &[TzDef]) -> DateTime<Utc> {
        let local = self.local();
        match &self.zone {
            Zone::Tz(id) => {
                let offset = find_tz(tzs, id).map_or(0, |t| t.offset_at(local));
                // A date at the very end of chrono's range stays there.
                local
                    .checked_sub_signed(Duration::seconds(i64::from(offset)))
                    .unwrap_or(if offset > 0 {
                        NaiveDateTime::MIN
                    } else {
                        NaiveDateTime::MAX
                    })
                    .and_utc()
            }
            Zone::Utc | Zone::Floating => local.and_utc(),
        }
    }

    /// Same zone and time of day, another local date-time.
    pub(crate) fn with_local(&self, local: NaiveDateTime) -> EvTime {
        EvTime {
            date: local.date(),
            time: self.time.map(|_| local.time()),
            zone: self.zone.clone(),
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "date".into(),
            json!(self.date.format("%Y-%m-%d").to_string()),
        );
        if let Some(t) = self.time {
            m.insert("time".into(), json!(t.format("%H:%M:%S").to_string()));
            match &self.zone {
                Zone::Utc => {
                    m.insert("utc".into(), json!(true));
                }
                Zone::Tz(id) => {
                    m.insert("tzid".into(), json!(id));
                }
                Zone::Floating => {}
            }
        }
        Value::Object(m)
    }

    /// The recurrence id of an instance starting at this time: `yyyyMMddTHHmmssZ` (UTC), or
    /// `yyyyMMdd` for date-only series.
    pub(crate) fn recurrence_id(&self, tzs: &[TzDef]) -> String {
        if self.all_day() {
            self.date.format("%Y%m%d").to_string()
        } else {
            self.to_utc(tzs).format("%Y%m%dT%H%M%SZ").to_string()
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// A parsed RRULE (FREQ DAILY/WEEKLY/MONTHLY/YEARLY with COUNT, UNTIL, INTERVAL, BYDAY,
/// BYMONTHDAY).
#[derive(Clone, Debug)]
pub(crate) struct RRule {
    freq: Freq,
    interval: u32,
    count: Option<u32>,
    until: Option<DateTime<Utc>>,
    byday: Vec<(Option<i32>, Weekday)>,
    bymonthday: Vec<i32>,
}

/// Most instances a series expands to.
pub(crate) const MAX_INSTANCES: usize = 1000;

impl RRule {
    pub(crate) fn parse(s: &str) -> Option<RRule> {
        let s = s.trim();
        let s = s.strip_prefix("RRULE:").unwrap_or(s);
        let mut freq = None;
        let mut rule = RRule {
            freq: Freq::Daily,
            interval: 1,
            count: None,
            until: None,
            byday: Vec::new(),
            bymonthday: Vec::new(),
        };
        for part in s.split(';').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=')?;
            match k.to_ascii_uppercase().as_str() {
                "FREQ" => {
                    freq = Some(match v.to_ascii_uppercase().as_str() {
                        "DAILY" => Freq::Daily,
                        "WEEKLY" => Freq::Weekly,
                        "MONTHLY" => Freq::Monthly,
                        "YEARLY" => Freq::Yearly,
                        _ => return None,
                    });
                }
                "INTERVAL" => rule.interval = v.parse().ok().filter(|n| *n > 0)?,
                "COUNT" => rule.count = Some(v.parse().ok().filter(|n| *n > 0)?),
                "UNTIL" => {
                    rule.until = Some(
                        NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%SZ")
                            .map(|t| t.and_utc())
                            .or_else(|_| {
                                NaiveDate::parse_from_str(v, "%Y%m%d").map(|d| {
                                    d.and_hms_opt(23, 59, 59).unwrap_or_default().and_utc()
                                })
                            })
                            .ok()?,
                    );
                }
                "BYDAY" => {
                    for d in v.split(',') {
                        rule.byday.push(parse_byday(d)?);
                    }
                }
                "BYMONTHDAY" => {
                    for d in v.split(',') {
                        let n: i32 = d.parse().ok()?;
                        if n == 0 || n.abs() > 31 {
                            return None;
                        }
                        rule.bymonthday.push(n);
                    }
                }
                "WKST" => {}
                _ => return None,
            }
        }
        rule.freq = freq?;
        Some(rule)
    }

    /// Local start times of the instances (first is `start` itself), in order, stopping after
    /// `COUNT`, `UNTIL`, [`MAX_INSTANCES`] or the first start past `limit`.
    pub(crate) fn expand(
        &self,
        start: &EvTime,
        tzs: &[TzDef],
        limit: DateTime<Utc>,
    ) -> Vec<NaiveDateTime> {
        let first = start.local();
        let time = first.time();
        let mut out = Vec::new();
        let step = i64::from(self.interval);
        let mut period: i64 = 0;
        // `days` days after `date`; `None` past the end of chrono's calendar, where a series
        // with a large INTERVAL simply ends.
        let plus = |date: NaiveDate, days: i64| {
            Duration::try_days(days).and_then(|d| date.checked_add_signed(d))
        };
        // Periods without any instance (e.g. the 31st in short months) are bounded too.
        while period < 20_000 {
            let mut dates: Vec<NaiveDate> = match self.freq {
                Freq::Daily => match plus(first.date(), period * step) {
                    Some(d) => vec![d],
                    None => break,
                },
                Freq::Weekly => {
                    let monday = i64::from(first.weekday().num_days_from_monday());
                    let Some(week) = plus(first.date(), (period * step).saturating_mul(7) - monday)
                    else {
                        break;
                    };
                    let days: Vec<i64> = if self.byday.is_empty() {
                        vec![monday]
                    } else {
                        self.byday
                            .iter()
                            .map(|(_, wd)| i64::from(wd.num_days_from_monday()))
                            .collect()
                    };
                    days.into_iter().filter_map(|d| plus(week, d)).collect()
                }
                Freq::Monthly | Freq::Yearly => {
                    let months = if self.freq == Freq::Monthly {
                        period * step
                    } else {
                        period * step * 12
                    };
                    let Some(month_start) = first.date().with_day(1).and_then(|d| {
                        d.checked_add_months(Months::new(u32::try_from(months).ok()?))
                    }) else {
                        break;
                    };
                    let (y, m) = (month_start.year(), month_start.month());
                    if !self.byday.is_empty() {
                        let mut v = Vec::new();
                        for (n, wd) in &self.byday {
                            match n {
                                Some(n) => v.extend(nth_weekday(y, m, *n, *wd)),
                                None => (1..=5).for_each(|k| v.extend(nth_weekday(y, m, k, *wd))),
                            }
                        }
                        v
                    } else if !self.bymonthday.is_empty() {
                        let last = month_start
                            .checked_add_months(Months::new(1))
                            .and_then(|d| d.pred_opt())
                            .map_or(28, |d| d.day());
                        self.bymonthday
                            .iter()
                            .filter_map(|&n| {
                                let day = if n > 0 {
                                    u32::try_from(n).ok()?
                                } else {
                                    last.checked_sub(u32::try_from(-n - 1).ok()?)?
                                };
                                NaiveDate::from_ymd_opt(y, m, day)
                            })
                            .collect()
                    } else {
                        NaiveDate::from_ymd_opt(y, m, first.day())
                            .into_iter()
                            .collect()
                    }
                }
            };
            dates.sort();
            dates.dedup();
            for d in dates {
                let local = d.and_time(time);
                if local < first {
                    continue;
                }
                let utc = start.with_local(local).to_utc(tzs);
                if self.until.is_some_and(|u| {
                    if start.all_day() {
                        d > u.date_naive()
                    } else {
                        utc > u
                    }
                }) || utc > limit
                {
                    return out;
                }
                out.push(local);
                if self.count.is_some_and(|c| out.len() >= c as usize) || out.len() >= MAX_INSTANCES
                {
                    return out;
                }
            }
            period += 1;
        }
        out
    }
}

/// Replace (or add) `UNTIL` and drop `COUNT` in an RRULE string.
pub(crate) fn with_until(rule: &str, until: DateTime<Utc>) -> String {
    let mut parts: Vec<String> = rule
        .split(';')
        .filter(|p| {
            let k = p.split('=').next().unwrap_or("").to_ascii_uppercase();
            !p.is_empty() && k != "UNTIL" && k != "COUNT"
        })
        .map(str::to_owned)
        .collect();
    parts.push(format!("UNTIL={}", until.format("%Y%m%dT%H%M%SZ")));
    parts.join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eastern() -> Vec<TzDef> {
        vec![
            TzDef::parse(&json!({"tzid":"Eastern",
                "standard":{"start":{"date":"1950-11-05","time":"02:00:00"},"offsetFrom":"-0400","offsetTo":"-0500","recurrenceRule":"FREQ=YEARLY;BYMONTH=11;BYDAY=1SU;BYHOUR=2;BYMINUTE=0"},
                "daylight":{"start":{"date":"1950-03-12","time":"02:00:00"},"offsetFrom":"-0500","offsetTo":"-0400","recurrenceRule":"FREQ=YEARLY;BYMONTH=3;BYDAY=2SU;BYHOUR=2;BYMINUTE=0"}}))
            .unwrap(),
        ]
    }

    #[test]
    fn vtimezone_offsets_follow_the_rules() {
        let tzs = eastern();
        let t = EvTime::parse(
            &json!({"date":"2013-09-16","time":"09:00:00","tzid":"Eastern"}),
            &tzs,
        )
        .unwrap();
        assert_eq!(t.recurrence_id(&tzs), "20130916T130000Z");
        let w = EvTime::parse(
            &json!({"date":"2013-12-16","time":"09:00:00","tzid":"Eastern"}),
            &tzs,
        )
        .unwrap();
        assert_eq!(w.recurrence_id(&tzs), "20131216T140000Z");
    }

    #[test]
    fn weekly_byday_count() {
        let tzs = eastern();
        let start = EvTime::parse(
            &json!({"date":"2024-01-01","time":"10:00:00","utc":true}),
            &tzs,
        )
        .unwrap();
        let r = RRule::parse("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5").unwrap();
        let got = r.expand(&start, &tzs, DateTime::<Utc>::MAX_UTC);
        let days: Vec<String> = got.iter().map(|d| d.format("%m-%d").to_string()).collect();
        assert_eq!(days, ["01-01", "01-03", "01-08", "01-10", "01-15"]);
        let m = RRule::parse("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20240430T000000Z").unwrap();
        let got = m.expand(&start, &tzs, DateTime::<Utc>::MAX_UTC);
        let days: Vec<String> = got.iter().map(|d| d.format("%m-%d").to_string()).collect();
        assert_eq!(days, ["01-26", "02-23", "03-29", "04-26"]);
        let d = RRule::parse("FREQ=DAILY;INTERVAL=2;COUNT=3").unwrap();
        assert_eq!(d.expand(&start, &tzs, DateTime::<Utc>::MAX_UTC).len(), 3);
    }
}
