//! The generated cases of the fault-and-crash property (see `engine_faults.rs`): random
//! settings, random edits of contacts, to-dos and events on both sides, and how each round's
//! syncs meet faults and crashes. Plain data with proptest strategies, so a failure shrinks to
//! a small case.

use proptest::prelude::*;
use serde_json::{Value, json};
use sync_core::calendar::EventsWindow;
use sync_core::{ConflictPolicy, Direction, Settings, Side};

use crate::world::{World, s};

/// Companies edits choose from (`None`: no company / cleared).
pub(crate) const COMPANIES: [&str; 3] = ["Acme", "Globex", "Initech"];

/// The three synced kinds of record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Contact,
    Task,
    Event,
}

impl Kind {
    pub(crate) const ALL: [Self; 3] = [Self::Contact, Self::Task, Self::Event];
}

/// One edit a user makes directly on one side.
#[derive(Clone, Debug)]
pub(crate) enum Edit {
    /// A new record; `day` places to-dos and events relative to today (Tokyo).
    Create {
        side: Side,
        kind: Kind,
        private: bool,
        company: Option<usize>,
        day: i64,
    },
    /// A content change of the `pick`-th record (modulo the count) of `kind` on `side`.
    Change {
        side: Side,
        kind: Kind,
        pick: usize,
        company: Option<usize>,
        /// Contacts: change the company (else the title / phone).
        company_edit: bool,
    },
    /// A deletion of the `pick`-th record.
    Delete { side: Side, kind: Kind, pick: usize },
}

/// Which of the org's two users makes an edit, and whether a record they create takes the
/// name / e-mail / subject of one the other user created (overlapping data, owner scope).
#[derive(Clone, Copy, Debug)]
pub(crate) struct By {
    /// 0: `demo`, 1: `user2`.
    pub(crate) user: usize,
    /// A create reuses the other user's key of the same side and kind, when there is one.
    pub(crate) overlap: bool,
}

/// Edits, then one sync per user meeting faults and maybe a crash.
#[derive(Clone, Debug)]
pub(crate) struct Round {
    pub(crate) edits: Vec<(By, Edit)>,
    /// Chance of a fault per request, in percent.
    pub(crate) fault_percent: u64,
    /// Crash after this many engine outputs.
    pub(crate) crash_after: Option<u32>,
    /// Seeds which requests meet which fault.
    pub(crate) fault_seed: u64,
}

/// A whole case.
#[derive(Clone, Debug)]
pub(crate) struct Case {
    pub(crate) settings: Settings,
    pub(crate) rounds: Vec<Round>,
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Notes), Just(Side::Crm)]
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Contact), Just(Kind::Task), Just(Kind::Event)]
}

fn company() -> impl Strategy<Value = Option<usize>> {
    prop::option::weighted(0.7, 0..COMPANIES.len())
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (side(), kind(), prop::bool::weighted(0.15), company(), -40i64..40).prop_map(
            |(side, kind, private, company, day)| Edit::Create { side, kind, private, company, day }
        ),
        3 => (side(), kind(), any::<usize>(), company(), any::<bool>()).prop_map(
            |(side, kind, pick, company, company_edit)| Edit::Change {
                side, kind, pick, company, company_edit
            }
        ),
        2 => (side(), kind(), any::<usize>())
            .prop_map(|(side, kind, pick)| Edit::Delete { side, kind, pick }),
    ]
}

fn settings() -> impl Strategy<Value = Settings> {
    let direction = prop_oneof![
        2 => Just(Direction::TwoWay),
        1 => Just(Direction::NotesToCrm),
        1 => Just(Direction::CrmToNotes),
    ];
    let conflict = prop_oneof![
        Just(ConflictPolicy::CrmWins),
        Just(ConflictPolicy::NotesWins)
    ];
    let events = prop_oneof![
        2 => Just(EventsWindow::All),
        1 => Just(EventsWindow::Today),
        1 => Just(EventsWindow::PastMonth),
        1 => Just(EventsWindow::Off),
    ];
    (direction, conflict, any::<bool>(), any::<bool>(), events).prop_map(
        |(direction, conflict, contacts, tasks, events)| Settings {
            // At least one module is on.
            contacts: contacts || (!tasks && events == EventsWindow::Off),
            tasks,
            events,
            direction,
            conflict,
            scope: sync_core::Scopes::default(),
        },
    )
}

fn round() -> impl Strategy<Value = Round> {
    (
        prop::collection::vec(
            (0usize..2, prop::bool::weighted(0.4), edit())
                .prop_map(|(user, overlap, e)| (By { user, overlap }, e)),
            1..7,
        ),
        0u64..35,
        prop::option::weighted(0.4, 0u32..80),
        any::<u64>(),
    )
        .prop_map(|(edits, fault_percent, crash_after, fault_seed)| Round {
            edits,
            fault_percent,
            crash_after,
            fault_seed,
        })
}

pub(crate) fn case() -> impl Strategy<Value = Case> {
    (settings(), prop::collection::vec(round(), 1..4))
        .prop_map(|(settings, rounds)| Case { settings, rounds })
}

// ---- Applying edits through the simulators' APIs ----

/// Seconds since the epoch of 10:00 in Tokyo, `day` days from today there.
pub(crate) fn tokyo_ten(day: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let now = i64::try_from(now).unwrap();
    let today = (now + 9 * 3600).div_euclid(86_400);
    (today + day) * 86_400 + 10 * 3600 - 9 * 3600
}

fn ymd(days: i64) -> String {
    let (y, m, d) = sync_core::time::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `(date, time)` in UTC of an instant.
fn utc_parts(secs: i64) -> (String, String) {
    let day = secs.div_euclid(86_400);
    let t = secs.rem_euclid(86_400);
    (
        ymd(day),
        format!("{:02}:{:02}:{:02}", t / 3600, t % 3600 / 60, t % 60),
    )
}

/// The Tokyo calendar day of `day` days from today.
pub(crate) fn tokyo_day(day: i64) -> String {
    ymd((tokyo_ten(day) + 9 * 3600).div_euclid(86_400))
}

/// The id of the Account `name`, created when missing.
async fn account_id(w: &World, name: &str) -> String {
    let found = w
        .crm_records("Accounts")
        .await
        .into_iter()
        .find(|a| s(a, "Account_Name") == name);
    match found {
        Some(a) => s(&a, "id"),
        None => {
            w.crm_create_in("Accounts", json!({ "Account_Name": name }))
                .await
        }
    }
}

/// The ids of the records of `kind` on `side`, in a stable order.
pub(crate) async fn ids(w: &World, side: Side, kind: Kind) -> Vec<String> {
    let mut ids: Vec<String> = match (side, kind) {
        (Side::Notes, Kind::Contact) => w
            .notes_contacts()
            .await
            .into_iter()
            .map(|(u, _)| u)
            .collect(),
        (Side::Notes, Kind::Task) => w
            .notes_docs("Task")
            .await
            .into_iter()
            .map(|(u, _)| u)
            .collect(),
        (Side::Notes, Kind::Event) => notes_events(w).await.iter().map(|e| s(e, "id")).collect(),
        // A user edits their own CRM records.
        (Side::Crm, k) => w
            .crm_records(crm_module(k))
            .await
            .iter()
            .filter(|r| r["Owner"]["id"] == w.zoho_user.as_str())
            .map(|r| s(r, "id"))
            .collect(),
    };
    ids.sort();
    ids
}

pub(crate) fn crm_module(kind: Kind) -> &'static str {
    match kind {
        Kind::Contact => "Contacts",
        Kind::Task => "Tasks",
        Kind::Event => "Events",
    }
}

/// Every Notes calendar entry (list rows, a wide window).
pub(crate) async fn notes_events(w: &World) -> Vec<Value> {
    let since = utc_parts(tokyo_ten(-400) - 10 * 3600);
    let before = utc_parts(tokyo_ten(800));
    w.notes_event_rows(
        &format!("{}T{}Z", since.0, since.1),
        &format!("{}T{}Z", before.0, before.1),
    )
    .await
}

/// Applies `e` (serial `n` names what it creates). Returns the record created or changed, or
/// the record deleted, with which of the two happened.
pub(crate) async fn apply(w: &World, e: &Edit, n: u32) -> Option<(Side, String, bool)> {
    match *e {
        Edit::Create {
            side,
            kind,
            private,
            company,
            day,
        } => {
            let id = create(w, side, kind, private, company, day, n).await;
            Some((side, id, true))
        }
        Edit::Change {
            side,
            kind,
            pick,
            company,
            company_edit,
        } => {
            let all = ids(w, side, kind).await;
            if all.is_empty() {
                return None;
            }
            let id = all[pick % all.len()].clone();
            change(w, side, kind, &id, company, company_edit, n).await;
            Some((side, id, true))
        }
        Edit::Delete { side, kind, pick } => {
            let all = ids(w, side, kind).await;
            if all.is_empty() {
                return None;
            }
            let id = all[pick % all.len()].clone();
            match (side, kind) {
                (Side::Notes, Kind::Event) => w.notes_event_delete(&id).await,
                (Side::Notes, _) => w.notes_delete(&id).await,
                (Side::Crm, k) => w.crm_delete_in(crm_module(k), &id).await,
            }
            Some((side, id, false))
        }
    }
}

async fn create(
    w: &World,
    side: Side,
    kind: Kind,
    private: bool,
    company: Option<usize>,
    day: i64,
    n: u32,
) -> String {
    let start = tokyo_ten(day);
    match (side, kind) {
        (Side::Notes, Kind::Contact) => {
            let mut doc = json!({"FirstName": format!("F{n}"), "LastName": format!("L{n}"),
                "MailAddress": format!("n{n}@x.example"), "Type": "Person"});
            if let Some(c) = company {
                doc["CompanyName"] = json!(COMPANIES[c]);
            }
            if private {
                doc["OrgConfidential"] = json!("1");
            }
            w.notes_create(doc).await
        }
        (Side::Notes, Kind::Task) => {
            let (d, t) = utc_parts(start + 2 * 3600); // Noon in Tokyo.
            let mut doc = json!({"Subject": format!("S{n}"), "TaskType": "1",
                "DueDateTime": {"type": "datetime", "data": format!("{d}T{t}Z")}, "Importance": "2"});
            if private {
                doc["OrgConfidential"] = json!("1");
            }
            w.notes_create_form("Task", doc).await
        }
        (Side::Notes, Kind::Event) => {
            let (d1, t1) = utc_parts(start);
            let (d2, t2) = utc_parts(start + 3600);
            let mut ev = json!({"summary": format!("E{n}"),
                "start": {"date": d1, "time": t1, "utc": true},
                "end": {"date": d2, "time": t2, "utc": true}});
            if private {
                ev["class"] = json!("private");
            }
            w.notes_event_create(json!({ "events": [ev] })).await
        }
        (Side::Crm, Kind::Contact) => {
            let mut rec = json!({"First_Name": format!("G{n}"), "Last_Name": format!("M{n}"),
                "Email": format!("c{n}@x.example")});
            if let Some(c) = company {
                rec["Account_Name"] = json!({ "id": account_id(w, COMPANIES[c]).await });
            }
            crm_private(&mut rec, private);
            w.crm_create(rec).await
        }
        (Side::Crm, Kind::Task) => {
            let mut rec = json!({"Subject": format!("Z{n}"), "Due_Date": tokyo_day(day),
                "Priority": "Normal", "Status": "Not Started"});
            crm_private(&mut rec, private);
            w.crm_create_in("Tasks", rec).await
        }
        (Side::Crm, Kind::Event) => {
            let iso = |secs: i64| {
                let (d, t) = utc_parts(secs + 9 * 3600);
                format!("{d}T{t}+09:00")
            };
            let mut rec = json!({"Event_Title": format!("V{n}"), "Start_DateTime": iso(start),
                "End_DateTime": iso(start + 3600), "All_day": false});
            crm_private(&mut rec, private);
            w.crm_create_in("Events", rec).await
        }
    }
}

fn crm_private(rec: &mut Value, private: bool) {
    if private {
        rec["Tag"] = json!([{ "name": "Private" }]);
    }
}

async fn change(
    w: &World,
    side: Side,
    kind: Kind,
    id: &str,
    company: Option<usize>,
    company_edit: bool,
    n: u32,
) {
    match (side, kind) {
        (Side::Notes, Kind::Contact) if company_edit => {
            let name = company.map_or("", |c| COMPANIES[c]);
            w.notes_patch(id, json!({ "CompanyName": name })).await;
        }
        (Side::Notes, Kind::Contact) => {
            w.notes_patch(id, json!({"JobTitle": format!("T{n}")}))
                .await;
        }
        (Side::Notes, Kind::Task) => {
            let importance = if n.is_multiple_of(2) { "1" } else { "3" };
            w.notes_patch(id, json!({ "Importance": importance })).await;
        }
        (Side::Notes, Kind::Event) => {
            if let Some(mut ev) = w.notes_event(id).await {
                ev["location"] = json!(format!("Room {n}"));
                w.notes_event_put(id, json!({ "events": [ev] })).await;
            }
        }
        (Side::Crm, Kind::Contact) if company_edit => {
            let lookup = match company {
                Some(c) => json!({ "id": account_id(w, COMPANIES[c]).await }),
                None => Value::Null,
            };
            w.crm_update(id, json!({ "Account_Name": lookup })).await;
        }
        (Side::Crm, Kind::Contact) => {
            w.crm_update(id, json!({"Phone": format!("+81 {n}")})).await;
        }
        (Side::Crm, Kind::Task) => {
            let priority = if n.is_multiple_of(2) { "High" } else { "Low" };
            w.crm_update_in("Tasks", id, json!({ "Priority": priority }))
                .await;
        }
        (Side::Crm, Kind::Event) => {
            w.crm_update_in("Events", id, json!({"Venue": format!("Hall {n}")}))
                .await;
        }
    }
}
