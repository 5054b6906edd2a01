//! Sample calendar for `Seed::Demo`, shared by both simulators so that some Zoho Events match
//! Notes calendar entries by title and start.

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, Utc};
use serde_json::{Value, json};

use crate::domino::caltime::{EvTime, TzDef, Zone};

/// Notes time zone id for US Eastern, with its VTIMEZONE rules.
pub(crate) const EASTERN: &str = "Eastern";
/// Notes time zone id for Japan (no daylight saving).
pub(crate) const TOKYO: &str = "Tokyo Standard Time";

pub(crate) fn timezones() -> Vec<Value> {
    vec![
        json!({"tzid": EASTERN,
            "standard":{"start":{"date":"1950-11-05","time":"02:00:00"},"offsetFrom":"-0400","offsetTo":"-0500","recurrenceRule":"FREQ=YEARLY;BYMONTH=11;BYDAY=1SU;BYHOUR=2;BYMINUTE=0"},
            "daylight":{"start":{"date":"1950-03-12","time":"02:00:00"},"offsetFrom":"-0500","offsetTo":"-0400","recurrenceRule":"FREQ=YEARLY;BYMONTH=3;BYDAY=2SU;BYHOUR=2;BYMINUTE=0"}}),
        json!({"tzid": TOKYO,
            "standard":{"start":{"date":"1950-01-01","time":"00:00:00"},"offsetFrom":"+0900","offsetTo":"+0900"}}),
    ]
}

/// One sample calendar entry.
#[derive(Clone, Debug)]
pub(crate) struct SampleEvent {
    pub title: String,
    pub location: String,
    pub description: String,
    pub start: EvTime,
    pub end: EvTime,
    /// `public`, `private` or `confidential`.
    pub class: &'static str,
    /// Invite the other simulator user (and an outside guest).
    pub meeting: bool,
    pub rrule: Option<String>,
}

impl SampleEvent {
    pub(crate) fn start_utc(&self) -> DateTime<Utc> {
        self.start.to_utc(&tz_defs())
    }

    pub(crate) fn end_utc(&self) -> DateTime<Utc> {
        self.end.to_utc(&tz_defs())
    }

    pub(crate) fn all_day(&self) -> bool {
        self.start.all_day()
    }
}

fn tz_defs() -> Vec<TzDef> {
    timezones()
        .iter()
        .filter_map(|v| TzDef::parse(v).ok())
        .collect()
}

const TITLES: &[&str] = &[
    "Project kickoff",
    "Dentist appointment",
    "Quarterly review",
    "Lunch with Tanaka-san",
    "Budget planning",
    "Customer visit: Acme",
    "Design workshop",
    "Release retrospective",
    "Board meeting prep",
    "Vendor call",
    "Training: security basics",
    "Sales pipeline review",
    "Interview candidate",
    "Offsite planning",
];

const PLACES: &[&str] = &[
    "Room 4.12",
    "Dr. Wilson's office",
    "Online",
    "Main lobby",
    "Tokyo office",
    "",
];

/// About 40 entries per user within a month either side of `now`: single events (some
/// meetings, some all-day, some private or confidential; starts in UTC, Eastern and Tokyo
/// time), plus three weekly series.
pub(crate) fn events(user: usize, now: DateTime<Utc>) -> Vec<SampleEvent> {
    let today = now.date_naive();
    let mut out = Vec::new();
    for i in 0..36_usize {
        let k = i64::try_from(i).unwrap_or(0);
        let day = today + Duration::days(-30 + k * 61 / 36 + i64::try_from(user).unwrap_or(0));
        let title = format!(
            "{}{}",
            TITLES[(i + user * 5) % TITLES.len()],
            if i >= TITLES.len() {
                format!(" #{}", i / TITLES.len() + 1)
            } else {
                String::new()
            }
        );
        let all_day = i % 7 == 3;
        let zone = match i % 5 {
            0 | 3 => Zone::Tz(EASTERN.into()),
            1 => Zone::Tz(TOKYO.into()),
            _ => Zone::Utc,
        };
        let hour = 8 + u32::try_from((i * 3) % 9).unwrap_or(0);
        let (start, end) = if all_day {
            let s = EvTime {
                date: day,
                time: None,
                zone: Zone::Floating,
            };
            let e = EvTime {
                date: day + Duration::days(1),
                time: None,
                zone: Zone::Floating,
            };
            (s, e)
        } else {
            let t = NaiveTime::from_hms_opt(hour, if i % 2 == 0 { 0 } else { 30 }, 0)
                .unwrap_or(NaiveTime::MIN);
            let s = EvTime {
                date: day,
                time: Some(t),
                zone: zone.clone(),
            };
            let local: NaiveDateTime =
                s.local() + Duration::minutes(if i % 4 == 0 { 60 } else { 30 });
            (s.clone(), s.with_local(local))
        };
        let class = if i % 9 == 4 {
            "private"
        } else if i % 11 == 6 {
            "confidential"
        } else {
            "public"
        };
        out.push(SampleEvent {
            title,
            location: PLACES[i % PLACES.len()].to_owned(),
            description: if i % 3 == 0 {
                format!(
                    "Agenda for {}: status, risks, next steps.",
                    day.format("%b %-d")
                )
            } else {
                String::new()
            },
            start,
            end,
            class,
            meeting: i % 4 == 1 && !all_day,
            rrule: None,
        });
    }
    let series = [
        (
            "Team standup",
            -21,
            9,
            "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=24",
            Zone::Utc,
        ),
        (
            "1:1 with manager",
            -14,
            15,
            "FREQ=WEEKLY;INTERVAL=2;UNTIL=20991231T000000Z",
            Zone::Tz(EASTERN.into()),
        ),
        (
            "Gym",
            -28,
            18,
            "FREQ=WEEKLY;BYDAY=TU,TH",
            Zone::Tz(TOKYO.into()),
        ),
    ];
    for (title, offset, hour, rule, zone) in series {
        let s = EvTime {
            date: today + Duration::days(offset),
            time: NaiveTime::from_hms_opt(hour, 0, 0),
            zone,
        };
        let end = s.with_local(s.local() + Duration::minutes(30));
        out.push(SampleEvent {
            title: title.to_owned(),
            location: "Online".into(),
            description: String::new(),
            start: s,
            end,
            class: "public",
            meeting: title == "1:1 with manager",
            rrule: Some(rule.to_owned()),
        });
    }
    out
}
