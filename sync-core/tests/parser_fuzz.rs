//! The engine's two API parsers under attack: arbitrary and mutated Domino (view entries,
//! documents, calendar events, write answers) and Zoho (list pages, per-record write results,
//! error bodies) response bodies, statuses and headers are fed to the [`Engine`] through
//! `handle_response`. Proves:
//!
//! - the engine never panics and always finishes, whatever the servers answer;
//! - a malformed record is that record's problem: valid records in the same page (Zoho list,
//!   Domino view and documents, calendar list) and valid results in the same write batch
//!   still produce their writes and links — no record is lost.
//!
//! `NZSYNC_FUZZ_CASES` sets the cases per property (default 64).

#![allow(clippy::unwrap_used)] // A failed unwrap is how a test reports failure.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use sync_core::calendar::EventsWindow;
use sync_core::state::ModuleState;
use sync_core::testing::{Driver, Run};
use sync_core::{
    Engine, EngineConfig, Header, HttpRequest, HttpResponse, Module, Settings, Side, StateChange,
    SyncState, Timestamp,
};

const NOW: i64 = 1_764_000_000_000; // 2025-11-24

fn cases() -> u32 {
    std::env::var("NZSYNC_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

fn answer(status: u16, body: &Value) -> HttpResponse {
    sync_core::testing::json_answer(status, body)
}

fn config(contacts: bool, tasks: bool, events: EventsWindow) -> EngineConfig {
    EngineConfig {
        mail_db: "mail/t.nsf".into(),
        settings: Settings {
            contacts,
            tasks,
            events,
            ..Settings::default()
        },
        time_zone: Some("UTC".into()),
        max_attempts: 2,
        retry_base_ms: 1,
        allow_mass_delete: true,
        ..EngineConfig::default()
    }
}

fn ready_state() -> SyncState {
    let mut state = SyncState::default();
    for m in [Module::Contacts, Module::Tasks, Module::Events] {
        state.modules.insert(
            m,
            ModuleState {
                crm_xref_ready: true,
                ..ModuleState::default()
            },
        );
    }
    state
}

/// Runs the engine to the end, answering each request with `server`. Fails (instead of
/// looping) when the engine has not finished after a generous number of steps.
fn drive(
    config: EngineConfig,
    state: SyncState,
    mut server: impl FnMut(&HttpRequest) -> HttpResponse,
) -> Result<Run, String> {
    let engine = Engine::new(config, state.clone(), Timestamp(NOW));
    let mut driver = Driver::new(Timestamp(NOW), state);
    driver.max_outputs = 200_000;
    driver
        .run(engine, |r| Ok(server(r)))
        .map_err(|e| e.to_string())
}

/// Both servers, well behaved, over fixed data. Malformed data is whatever the test puts in.
#[derive(Clone, Default)]
struct Fake {
    /// Contacts view entries and documents by UNID.
    contact_entries: Vec<Value>,
    task_entries: Vec<Value>,
    docs: BTreeMap<String, Value>,
    /// Zoho list pages by module API name (`data` arrays).
    crm: BTreeMap<&'static str, Vec<Value>>,
    /// Calendar list rows (also answered for reads by id).
    events: Vec<Value>,
    /// Per-record results for the first CRM insert, instead of all successes.
    insert_results: Option<Vec<Value>>,
    created: u32,
}

fn query_param<'a>(path: &'a str, key: &str) -> Option<&'a str> {
    path.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
}

impl Fake {
    fn crm_results(&mut self, r: &HttpRequest, status: u16) -> HttpResponse {
        let body: Value = r
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        let n = body["data"].as_array().map_or(0, Vec::len);
        if r.method == "POST"
            && let Some(results) = self.insert_results.take()
        {
            return answer(
                if results.len() == n { 201 } else { 400 },
                &json!({ "data": results }),
            );
        }
        let data: Vec<Value> = (0..n)
            .map(|k| {
                self.created += 1;
                let id = body["data"][k]["id"]
                    .as_str()
                    .map_or_else(|| format!("9{}", self.created), str::to_owned);
                json!({"code": "SUCCESS", "details": {"id": id}, "message": "ok", "status": "success"})
            })
            .collect();
        answer(status, &json!({ "data": data }))
    }

    fn serve(&mut self, r: &HttpRequest) -> HttpResponse {
        let p = r.path.as_str();
        let m = r.method.as_str();
        match r.side {
            Side::Notes => {
                if p.contains("/api/calendar/events") {
                    return match m {
                        "GET" if p.contains("/api/calendar/events?") => {
                            let start = query_param(p, "start").unwrap_or("0");
                            let rows = if start == "0" {
                                self.events.clone()
                            } else {
                                vec![]
                            };
                            answer(200, &json!({ "events": rows }))
                        }
                        "GET" => {
                            let id = p.rsplit("/events/").next().unwrap_or_default();
                            let id = id.split('?').next().unwrap_or_default();
                            let found = self.events.iter().find(|e| {
                                e["id"]
                                    .as_str()
                                    .is_some_and(|x| sync_core::http::encode(x) == id || x == id)
                            });
                            match found {
                                Some(e) => answer(200, &json!({ "events": [e] })),
                                None => answer(404, &json!({"code": 404, "message": "not found"})),
                            }
                        }
                        "POST" => {
                            self.created += 1;
                            let mut a = answer(201, &Value::Null);
                            a.headers.push(Header {
                                name: "Location".into(),
                                value: format!(
                                    "/mail/t.nsf/api/calendar/events/NEWEV{}",
                                    self.created
                                ),
                            });
                            a
                        }
                        _ => answer(200, &json!({})),
                    };
                }
                if p.contains("/api/data/collections/name/") {
                    let start = query_param(p, "start").unwrap_or("0");
                    let rows = if start != "0" {
                        vec![]
                    } else if p.contains("Contacts") {
                        self.contact_entries.clone()
                    } else {
                        self.task_entries.clone()
                    };
                    return answer(200, &Value::Array(rows));
                }
                if p.contains("/api/data/documents/unid/") && m == "GET" {
                    let unid = p.rsplit("/unid/").next().unwrap_or_default();
                    let unid = unid.split('?').next().unwrap_or_default();
                    return match self.docs.get(unid) {
                        Some(d) => answer(200, d),
                        None => answer(404, &json!({"code": 404, "text": "Not Found"})),
                    };
                }
                if p.contains("/api/data/documents?since=") {
                    return answer(200, &json!([]));
                }
                if m == "POST" {
                    self.created += 1;
                    let mut a = answer(201, &Value::Null);
                    a.headers.push(Header {
                        name: "Location".into(),
                        value: format!("/mail/t.nsf/api/data/documents/unid/NEW{}", self.created),
                    });
                    return a;
                }
                answer(200, &json!({}))
            }
            Side::Crm => {
                let rest = p.strip_prefix("/crm/v8/").unwrap_or(p);
                let module = rest.split(['?', '/']).next().unwrap_or_default();
                match (m, rest) {
                    ("GET", _) if rest.starts_with("users") => answer(
                        200,
                        &json!({"users": [{"id": "1", "email": "me@example.com", "time_zone": "UTC"}]}),
                    ),
                    ("GET", _) if rest.starts_with("settings/fields") => answer(
                        200,
                        &json!({"fields": [{"api_name": "Notes_UNID", "field_label": "Notes UNID"}]}),
                    ),
                    ("GET", _) if rest.contains("/deleted") => answer(204, &Value::Null),
                    ("POST", "coql") => answer(204, &Value::Null),
                    ("GET", _) => match self.crm.get(module) {
                        Some(data) if !data.is_empty() && !rest.contains("page_token") => {
                            // Every record is the syncing user's (owner scope).
                            let data: Vec<Value> = data
                                .iter()
                                .map(|d| {
                                    let mut d = d.clone();
                                    if let Some(o) = d.as_object_mut() {
                                        o.entry("Owner").or_insert(json!({"id": "1"}));
                                    }
                                    d
                                })
                                .collect();
                            answer(
                                200,
                                &json!({"data": data, "info": {"more_records": false, "count": data.len()}}),
                            )
                        }
                        _ => answer(204, &Value::Null),
                    },
                    ("POST", _) => self.crm_results(r, 201),
                    ("PUT" | "PATCH", _) => self.crm_results(r, 200),
                    ("DELETE", _) => {
                        let ids = query_param(p, "ids").unwrap_or_default();
                        let data: Vec<Value> = ids
                            .split([',', '%'])
                            .filter(|s| !s.is_empty() && !s.starts_with("2C"))
                            .map(|id| json!({"code": "SUCCESS", "details": {"id": id}, "status": "success"}))
                            .collect();
                        answer(200, &json!({ "data": data }))
                    }
                    _ => answer(
                        404,
                        &json!({"code": "INVALID_URL_PATTERN", "status": "error"}),
                    ),
                }
            }
        }
    }
}

fn contact_doc(unid: &str, last: &str) -> Value {
    json!({"@unid": unid, "@form": "Person", "@modified": "2025-11-20T10:00:00Z",
           "FirstName": "Ann", "LastName": last, "MailAddress": format!("{}@example.com", last.to_lowercase())})
}

fn crm_contact(id: &str, last: &str) -> Value {
    json!({"id": id, "First_Name": "Bo", "Last_Name": last, "Email": format!("{}@example.org", last.to_lowercase()),
           "Modified_Time": "2025-11-20T10:00:00+00:00", "Tag": []})
}

fn notes_event(id: &str, title: &str, day: u32) -> Value {
    json!({"id": id, "summary": title, "location": "Room 1",
           "start": {"date": format!("2025-12-{day:02}"), "time": "09:00:00", "utc": true},
           "end": {"date": format!("2025-12-{day:02}"), "time": "10:00:00", "utc": true}})
}

/// A fixture with records in every module on both sides.
fn full_fake() -> Fake {
    let mut f = Fake::default();
    for i in 0..3 {
        let u = format!("C{i}");
        f.contact_entries
            .push(json!({"@unid": u, "@position": i.to_string()}));
        f.docs
            .insert(u.clone(), contact_doc(&u, &format!("Notes{i}")));
        let t = format!("T{i}");
        f.task_entries.push(json!({"@unid": t}));
        f.docs.insert(
            t.clone(),
            json!({"@unid": t, "@form": "Task", "Subject": format!("Task {i}"), "DueDateTime": "2025-12-01",
                   "Importance": "2", "Body": "b"}),
        );
        f.events.push(notes_event(
            &format!("EV{i}"),
            &format!("Meeting {i}"),
            1 + i,
        ));
    }
    f.crm.insert(
        "Contacts",
        (0..3)
            .map(|i| crm_contact(&format!("7{i}"), &format!("Crm{i}")))
            .collect(),
    );
    f.crm.insert(
        "Tasks",
        vec![json!({"id": "81", "Subject": "CRM task", "Due_Date": "2025-12-03", "Status": "Not Started",
                    "Priority": "High", "Modified_Time": "2025-11-20T10:00:00+00:00"})],
    );
    f.crm.insert(
        "Events",
        vec![json!({"id": "91", "Event_Title": "CRM meeting", "Start_DateTime": "2025-12-05T09:00:00+00:00",
                    "End_DateTime": "2025-12-05T10:00:00+00:00", "All_day": false,
                    "Modified_Time": "2025-11-20T10:00:00+00:00", "Participants": []})],
    );
    f
}

// ---- Generators ----

fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => prop::sample::select(vec![
            "", "\u{0}", "2025-13-45", "2025-12-01T25:61:61Z", "9999-12-31T23:59:59+99:99",
            "-P9223372036854775807D", "-PT9223372036854775807H", "-P99999999999999W", "P1D",
            "+262143-12-31", "0000-00-00", "NaN", "1e999", "items 0-99/100", "items 0-99/-1",
            "items 0-99/abc", "Fri, 31 Dec 99999 23:59:59 GMT", "America/Nowhere", "\u{202e}",
            "Highest", "Completed", "success", "error", "SUCCESS", "DUPLICATE_DATA",
        ])
        .prop_map(str::to_owned),
        1 => "[0-9:+TZ .-]{0,30}",
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        odd_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((odd_string(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer in `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                pointers(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        _ => {}
    }
}

/// `v` with the value at the `pick`-th pointer replaced by `with` (or removed).
fn mutate(v: &Value, pick: usize, with: Value, remove: bool) -> Value {
    let mut out = v.clone();
    let mut ps = Vec::new();
    pointers(v, String::new(), &mut ps);
    let p = &ps[pick % ps.len()];
    if p.is_empty() {
        return with;
    }
    if remove && let Some((parent, key)) = p.rsplit_once('/') {
        match out.pointer_mut(parent) {
            Some(Value::Object(o)) => {
                o.remove(&key.replace("~1", "/").replace("~0", "~"));
            }
            Some(Value::Array(a)) => {
                if let Ok(i) = key.parse::<usize>()
                    && i < a.len()
                {
                    a.remove(i);
                }
            }
            _ => {}
        }
        return out;
    }
    if let Some(slot) = out.pointer_mut(p) {
        *slot = with;
    }
    out
}

/// One way to spoil an answer.
#[derive(Clone, Debug)]
enum Spoil {
    None,
    Json(Value),
    Text(String),
    Mutate(usize, Value, bool),
    Status(u16),
    Truncate(usize),
    Header(&'static str, String),
}

fn spoil() -> impl Strategy<Value = Spoil> {
    prop_oneof![
        6 => Just(Spoil::None),
        1 => any_json().prop_map(Spoil::Json),
        1 => odd_string().prop_map(Spoil::Text),
        4 => (any::<usize>(), any_json(), any::<bool>()).prop_map(|(i, v, r)| Spoil::Mutate(i, v, r)),
        1 => prop::sample::select(vec![0u16, 100, 200, 201, 204, 207, 302, 304, 400, 401, 403, 404, 409, 429, 500, 503, 999])
            .prop_map(Spoil::Status),
        1 => any::<usize>().prop_map(Spoil::Truncate),
        1 => (prop::sample::select(vec!["Content-Range", "Location", "Date", "Retry-After", "X-API-CREDITS-REMAINING"]),
              odd_string())
            .prop_map(|(h, v)| Spoil::Header(h, v)),
    ]
}

fn apply(s: &Spoil, mut r: HttpResponse) -> HttpResponse {
    match s {
        Spoil::None => r,
        Spoil::Json(v) => {
            r.body = v.to_string();
            r
        }
        Spoil::Text(t) => {
            r.body.clone_from(t);
            r
        }
        Spoil::Mutate(i, v, remove) => {
            if let Ok(body) = serde_json::from_str::<Value>(&r.body) {
                r.body = mutate(&body, *i, v.clone(), *remove).to_string();
            }
            r
        }
        Spoil::Status(s) => {
            r.status = *s;
            r
        }
        Spoil::Truncate(n) => {
            let cut = if r.body.is_empty() {
                0
            } else {
                n % r.body.len()
            };
            let cut = (0..=cut)
                .rev()
                .find(|c| r.body.is_char_boundary(*c))
                .unwrap_or(0);
            r.body.truncate(cut);
            r
        }
        Spoil::Header(name, value) => {
            // Keep view totals bounded: a huge total is a separate finding (see the report).
            let value = if *name == "Content-Range" {
                value
                    .chars()
                    .filter(|c| !c.is_ascii_digit() || value.len() < 12)
                    .collect()
            } else {
                value.clone()
            };
            r.headers.retain(|h| !h.name.eq_ignore_ascii_case(name));
            r.headers.push(Header {
                name: (*name).to_owned(),
                value,
            });
            r
        }
    }
}

// ---- Properties ----

/// Any answer to any request — bodies replaced, mutated or cut, odd statuses and headers —
/// in a run of every module on both sides: the engine never panics and always finishes.
#[test]
fn arbitrary_answers_never_panic_and_the_run_always_finishes() {
    let strategy = prop::collection::vec(spoil(), 1..48);
    runner()
        .run(&strategy, |spoils| {
            let mut fake = full_fake();
            let mut k = 0;
            let run = drive(config(true, true, EventsWindow::All), ready_state(), |r| {
                let s = &spoils[k % spoils.len()];
                k += 1;
                apply(s, fake.serve(r))
            });
            prop_assert!(run.is_ok(), "{}", run.err().unwrap_or_default());
            Ok(())
        })
        .unwrap();
}

/// The untouched fixture syncs every record both ways (the baseline the properties spoil).
#[test]
fn the_fixture_syncs_every_record() {
    let mut fake = full_fake();
    let run = drive(config(true, true, EventsWindow::All), ready_state(), |r| {
        fake.serve(r)
    })
    .unwrap();
    let bodies = |side: Side, method: &str| -> String {
        run.asked
            .iter()
            .filter(|r| r.side == side && r.method == method)
            .filter_map(|r| r.body.clone())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let to_crm = bodies(Side::Crm, "POST");
    let to_notes = bodies(Side::Notes, "POST");
    for i in 0..3 {
        assert!(to_crm.contains(&format!("Notes{i}")), "{to_crm}");
        assert!(to_crm.contains(&format!("Task {i}")), "{to_crm}");
        assert!(to_crm.contains(&format!("Meeting {i}")), "{to_crm}");
        assert!(to_notes.contains(&format!("Crm{i}")), "{to_notes}");
    }
    assert!(
        to_notes.contains("CRM task") && to_notes.contains("CRM meeting"),
        "{to_notes}"
    );
    assert_eq!(
        run.report
            .modules
            .iter()
            .map(|m| m.counts.errors)
            .sum::<u32>(),
        0,
        "{:?}",
        run.report
    );
}

fn posted(run: &Run, side: Side) -> String {
    run.asked
        .iter()
        .filter(|r| r.side == side && r.method == "POST")
        .filter_map(|r| r.body.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A Zoho list page mixing valid contacts with malformed records (wrong types, missing or
/// odd ids, non-objects): every valid one is still created in Notes.
#[test]
fn malformed_crm_records_do_not_lose_the_valid_ones_in_the_same_page() {
    let bad = prop_oneof![
        any_json(),
        (any::<usize>(), any_json(), any::<bool>()).prop_map(|(i, v, r)| mutate(
            &crm_contact("B1", "Bad"),
            i,
            v,
            r
        )),
    ];
    let strategy = (1usize..6, prop::collection::vec(bad, 1..6), any::<u64>());
    runner()
        .run(&strategy, |(good, bad, seed)| {
            let mut fake = Fake::default();
            let mut data: Vec<Value> = (0..good)
                .map(|i| crm_contact(&format!("7{i}"), &format!("Good{i}")))
                .collect();
            for (j, mut b) in bad.into_iter().enumerate() {
                // Never the id of a valid record.
                if let Some(id) = b.get("id").and_then(Value::as_str)
                    && id.starts_with('7')
                {
                    b["id"] = json!(format!("B{j}"));
                }
                let at = usize::try_from(seed % (data.len() as u64 + 1)).unwrap();
                data.insert(at, b);
            }
            fake.crm.insert("Contacts", data);
            let run = drive(config(true, false, EventsWindow::Off), ready_state(), |r| {
                fake.serve(r)
            });
            prop_assert!(
                run.is_ok(),
                "{}",
                run.as_ref().err().cloned().unwrap_or_default()
            );
            let run = run.unwrap();
            let to_notes = posted(&run, Side::Notes);
            for i in 0..good {
                prop_assert!(
                    to_notes.contains(&format!("\"Good{i}\"")),
                    "Good{i} was lost: {to_notes}\n{:?}",
                    run.report
                );
            }
            Ok(())
        })
        .unwrap();
}

/// A Domino view mixing valid entries with malformed ones, and documents with wrong-typed
/// items: every valid document is still created in Zoho.
#[test]
fn malformed_domino_entries_and_documents_do_not_lose_the_valid_ones() {
    let bad_entry = prop_oneof![any_json(), any_json().prop_map(|v| json!({"@unid": v})),];
    // Documents that are JSON objects with odd items. (A document whose body is not a JSON
    // object at all fails the module's read by design: without it the snapshot is incomplete.)
    let bad_doc = (any::<usize>(), any_json(), any::<bool>()).prop_map(|(i, v, r)| {
        match mutate(&contact_doc("BD", "Baddoc"), i, v, r) {
            d @ Value::Object(_) => d,
            other => json!({"@unid": "BD", "LastName": other}),
        }
    });
    let strategy = (
        1usize..6,
        prop::collection::vec(bad_entry, 0..4),
        prop::collection::vec(bad_doc, 0..4),
    );
    runner()
        .run(&strategy, |(good, bad_entries, bad_docs)| {
            let mut fake = Fake::default();
            for i in 0..good {
                let u = format!("G{i}");
                fake.contact_entries.push(json!({"@unid": u}));
                fake.docs
                    .insert(u.clone(), contact_doc(&u, &format!("Good{i}")));
            }
            fake.contact_entries.extend(bad_entries);
            for (j, d) in bad_docs.into_iter().enumerate() {
                let u = format!("BD{j}");
                fake.contact_entries.push(json!({"@unid": u}));
                fake.docs.insert(u, d);
            }
            let run = drive(config(true, false, EventsWindow::Off), ready_state(), |r| {
                fake.serve(r)
            });
            prop_assert!(
                run.is_ok(),
                "{}",
                run.as_ref().err().cloned().unwrap_or_default()
            );
            let run = run.unwrap();
            let to_crm = posted(&run, Side::Crm);
            for i in 0..good {
                prop_assert!(
                    to_crm.contains(&format!("\"Good{i}\"")),
                    "Good{i} was lost: {to_crm}\n{:?}",
                    run.report
                );
            }
            Ok(())
        })
        .unwrap();
}

/// A calendar list mixing valid events with malformed ones (bad dates, times, zones,
/// reminders, types): every valid event is still created in Zoho.
#[test]
fn malformed_calendar_events_do_not_lose_the_valid_ones() {
    let bad = prop_oneof![
        any_json(),
        (any::<usize>(), any_json(), any::<bool>())
            .prop_map(|(i, v, r)| mutate(&notes_event("BADEV", "Broken", 9), i, v, r)),
        odd_string().prop_map(|t| {
            let mut e = notes_event("BADEV", "Broken", 9);
            e["alarm"] = json!([{"trigger": {"value": t}}]);
            e
        }),
        (odd_string(), odd_string()).prop_map(|(d, tz)| {
            json!({"id": "BADEV", "summary": "Broken", "start": {"date": d, "time": "09:00:00", "tzid": tz},
                   "end": {"date": "2025-12-09", "time": tz, "tzid": tz}})
        }),
    ];
    let strategy = (1usize..5, prop::collection::vec(bad, 1..5));
    runner()
        .run(&strategy, |(good, bad)| {
            let mut fake = Fake::default();
            for i in 0..good {
                fake.events.push(notes_event(
                    &format!("GOODEV{i}"),
                    &format!("Good meeting {i}"),
                    1 + u32::try_from(i).unwrap(),
                ));
            }
            for (j, mut b) in bad.into_iter().enumerate() {
                if b.get("id").and_then(Value::as_str).is_some() {
                    b["id"] = json!(format!("BADEV{j}"));
                }
                fake.events.push(b);
            }
            let run = drive(
                config(false, false, EventsWindow::All),
                ready_state(),
                |r| fake.serve(r),
            );
            prop_assert!(
                run.is_ok(),
                "{}",
                run.as_ref().err().cloned().unwrap_or_default()
            );
            let run = run.unwrap();
            let to_crm = posted(&run, Side::Crm);
            for i in 0..good {
                prop_assert!(
                    to_crm.contains(&format!("Good meeting {i}")),
                    "Good meeting {i} was lost: {to_crm}\n{:?}",
                    run.report
                );
            }
            Ok(())
        })
        .unwrap();
}

/// Zoho's per-record results of an insert batch, some malformed or refused: each good result
/// links its record, each bad one is that record's error, and nothing panics.
#[test]
fn malformed_write_results_fail_only_their_records() {
    let bad = prop_oneof![
        any_json(),
        (any::<usize>(), any_json(), any::<bool>()).prop_map(|(i, v, r)| mutate(
            &json!({"code": "SUCCESS", "details": {"id": "X"}, "message": "ok", "status": "success"}),
            i,
            v,
            r
        )),
        Just(json!({"code": "MANDATORY_NOT_FOUND", "details": {"api_name": "Last_Name"}, "message": "required", "status": "error"})),
    ];
    let strategy = (prop::collection::vec(
        prop::option::weighted(0.5, bad),
        1..8,
    ),);
    runner()
        .run(&strategy, |(results,)| {
            let mut fake = Fake::default();
            let n = results.len();
            for i in 0..n {
                let u = format!("G{i}");
                fake.contact_entries.push(json!({"@unid": u}));
                fake.docs.insert(u.clone(), contact_doc(&u, &format!("Good{i}")));
            }
            // Results in the order of the batch (the engine's order is by plan, so map by the
            // body of the insert instead: answer per position, good ones with id "ok{k}").
            let planned: Vec<Value> = results
                .iter()
                .enumerate()
                .map(|(k, r)| {
                    r.clone().unwrap_or_else(|| {
                        json!({"code": "SUCCESS", "details": {"id": format!("ok{k}")}, "message": "ok", "status": "success"})
                    })
                })
                .collect();
            fake.insert_results = Some(planned.clone());
            let run = drive(config(true, false, EventsWindow::Off), ready_state(), |r| fake.serve(r));
            prop_assert!(run.is_ok(), "{}", run.as_ref().err().cloned().unwrap_or_default());
            let run = run.unwrap();
            let linked: Vec<String> = run
                .changes
                .iter()
                .filter_map(|c| match c {
                    StateChange::LinkSet { link, .. } => Some(link.zoho_id.0.clone()),
                    _ => None,
                })
                .collect();
            for (k, r) in results.iter().enumerate() {
                if r.is_none() {
                    prop_assert!(
                        linked.contains(&format!("ok{k}")),
                        "the good result {k} was not linked: {linked:?}\n{:?}",
                        run.report
                    );
                }
            }
            let errors: u32 = run.report.modules.iter().map(|m| m.counts.errors).sum();
            let plainly_bad = planned
                .iter()
                .filter(|r| r.get("status").and_then(Value::as_str) != Some("success"))
                .count();
            prop_assert!(
                errors as usize >= plainly_bad.min(1),
                "refused records are reported: {errors} errors for {plainly_bad} refusals\n{:?}",
                run.report
            );
            Ok(())
        })
        .unwrap();
}
