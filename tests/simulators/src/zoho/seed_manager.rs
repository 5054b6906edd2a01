//! `Seed::Demo` records of the third CRM user, the sales manager 山口 美穂 (never syncs, has no
//! refresh token), and the custom views the users made.
//!
//! Her records are what an owner-scoped sync must leave alone: contacts sharing an e-mail with
//! contacts in demo's and user2's Notes mail files (some of which demo or user2 also own in
//! the CRM), contacts with the names of other users' contacts, a to-do with the subject and
//! due date of one of demo's Notes to-dos, private-looking to-dos and meetings, and meetings
//! with demo and user2 as participants. They are added after every other record, so the ids
//! and counts of demo's and user2's records do not change.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::control::add_view;
use super::model::ZohoData;
use super::seed::{
    DEMO_USER_ID, MANAGER_ID, USER2_ID, contact_values, priority, record, stamps, tag_id,
};
use crate::sample::{self, SamplePerson};

/// Demo's Notes contacts (indexes into `NOTES_DEMO`) she also has; multiples of
/// `SHARED_STEP` are in demo's CRM contacts as well.
const FROM_DEMO_NOTES: [usize; 6] = [1, 7, 10, 13, 22, 35];
/// User2's Notes contacts she also has; the first `USER2_SHARED` are user2's CRM contacts too.
const FROM_USER2_NOTES: [usize; 2] = [2, 19];
/// Other users' contacts whose names her first contacts of her own carry (population
/// indexes: a Notes-and-CRM contact of demo's, a CRM-only one of demo's, a CRM-only one of
/// user2's).
const NAMESAKES: [usize; 3] = [5, 200, 340];

pub(super) fn populate(data: &mut ZohoData, now: DateTime<Utc>) {
    let people = sample::population();
    let demo_notes = &people[sample::NOTES_DEMO];
    let user2_notes = &people[sample::NOTES_USER2];
    let mut contacts: Vec<SamplePerson> = Vec::new();
    contacts.extend(FROM_DEMO_NOTES.iter().map(|i| demo_notes[*i].clone()));
    contacts.extend(FROM_USER2_NOTES.iter().map(|i| user2_notes[*i].clone()));
    for (k, p) in people[sample::ZOHO_MANAGER_ONLY].iter().enumerate() {
        let mut p = p.clone();
        if let Some(namesake) = NAMESAKES.get(k).map(|i| &people[*i]) {
            p.first.clone_from(&namesake.first);
            p.last.clone_from(&namesake.last);
        }
        contacts.push(p);
    }
    let contact_ids = seed_contacts(data, &contacts, now);
    seed_tasks(data, now);
    seed_events(data, now, &contact_ids);
    seed_views(data, now);
}

/// Her contacts; their ids in order.
fn seed_contacts(data: &mut ZohoData, people: &[SamplePerson], now: DateTime<Utc>) -> Vec<String> {
    let Some(ci) = data.module_index("Contacts") else {
        return Vec::new();
    };
    let private = tag_id(data, ci, "Private");
    let vip = tag_id(data, ci, "VIP");
    let mut accounts: HashMap<String, String> = HashMap::new();
    let mut ids = Vec::new();
    for (k, p) in people.iter().enumerate() {
        let account = account_of(data, &mut accounts, p, now);
        // Her copies of shared people differ a little (other phone or title), as copies do.
        let values = contact_values(p, &account, k + 1, true);
        let (created, modified) = stamps(k * 2 + 1, now);
        let mut r = record(data, MANAGER_ID, values, created, modified);
        if k == 9 {
            r.tags.push(private.clone());
        }
        if k == 3 {
            r.tags.push(vip.clone());
        }
        ids.push(r.id.to_string());
        data.modules[ci].records.push(r);
    }
    ids
}

/// The account of a company: an existing one of any owner, else a new one of hers.
fn account_of(
    data: &mut ZohoData,
    made: &mut HashMap<String, String>,
    p: &SamplePerson,
    now: DateTime<Utc>,
) -> String {
    let Some(ai) = data.module_index("Accounts") else {
        return String::new();
    };
    if let Some(id) = made.get(&p.company) {
        return id.clone();
    }
    let existing = data.modules[ai]
        .records
        .iter()
        .find(|r| r.text("Account_Name") == p.company)
        .map(|r| r.id.to_string());
    let id = existing.unwrap_or_else(|| {
        let mut values = Map::new();
        values.insert("Account_Name".into(), json!(p.company));
        values.insert("Billing_City".into(), json!(p.city));
        values.insert("Billing_Country".into(), json!(p.country));
        values.insert("Account_Type".into(), json!("Customer"));
        let created = now - Duration::days(200);
        let r = record(data, MANAGER_ID, values, created, created);
        let id = r.id.to_string();
        data.modules[ai].records.push(r);
        id
    });
    made.insert(p.company.clone(), id.clone());
    id
}

fn day(now: DateTime<Utc>, offset: i64) -> NaiveDate {
    now.with_timezone(&chrono_tz::Asia::Tokyo).date_naive() + Duration::days(offset)
}

/// Her to-dos: work, a private-looking appointment, a tagged private one, and one with the
/// subject and due date of one of demo's Notes to-dos (a match an owner-scoped first sync
/// must not take).
fn seed_tasks(data: &mut ZohoData, now: DateTime<Utc>) {
    let Some(ti) = data.module_index("Tasks") else {
        return;
    };
    let people = sample::population();
    // The same call as the Domino seed makes for demo's to-dos; the 11th is not among the
    // ones demo has in the CRM.
    let demo_todos = sample::tasks(1, 30, now.date_naive(), &people[sample::NOTES_DEMO]);
    let mut list: Vec<(String, NaiveDate, &str, u8, &str)> = vec![
        (
            "Quarterly forecast review".into(),
            day(now, 3),
            "Not Started",
            1,
            "Numbers from every rep by Wednesday.",
        ),
        (
            "Dentist appointment".into(),
            day(now, 5),
            "Not Started",
            2,
            "",
        ),
        (
            "株式会社サクラ商事の値引き承認".into(),
            day(now, 2),
            "In Progress",
            1,
            "田中さんの見積もりを確認してから承認。",
        ),
        (
            "1on1 with Demo User".into(),
            day(now, 1),
            "Not Started",
            2,
            "",
        ),
        (
            "Personal: renew passport".into(),
            day(now, 20),
            "Not Started",
            3,
            "",
        ),
    ];
    if let Some(t) = demo_todos.get(10) {
        list.push((t.subject.clone(), t.due, "Not Started", t.importance, ""));
    }
    let private = tag_id(data, ti, "Private");
    for (k, (subject, due, status, importance, body)) in list.into_iter().enumerate() {
        let mut v = Map::new();
        v.insert("Subject".into(), json!(subject));
        v.insert("Due_Date".into(), json!(due.format("%Y-%m-%d").to_string()));
        v.insert("Status".into(), json!(status));
        v.insert("Priority".into(), json!(priority(importance)));
        if !body.is_empty() {
            v.insert("Description".into(), json!(body));
        }
        let (created, modified) = stamps(k * 3 + 2, now);
        let mut r = record(data, MANAGER_ID, v, created, modified);
        if subject.starts_with("Personal:") {
            r.tags.push(private.clone());
        }
        data.modules[ti].records.push(r);
    }
}

/// A meeting: title, day offset, local start (Tokyo), minutes (0: all day), venue.
type MeetingSpec = (&'static str, i64, (u32, u32), i64, &'static str);

/// Her meetings: team meetings with demo and user2 as participants, a customer visit with
/// one of her contacts, a private-looking appointment and a tagged private dinner.
fn seed_events(data: &mut ZohoData, now: DateTime<Utc>, contacts: &[String]) {
    let Some(ei) = data.module_index("Events") else {
        return;
    };
    let specs: [MeetingSpec; 6] = [
        ("Sales team weekly", 1, (10, 0), 60, "会議室A"),
        (
            "Dentist appointment",
            2,
            (8, 30),
            60,
            "Yamaguchi Dental Clinic",
        ),
        ("Pipeline review with Demo User", 3, (15, 0), 30, "Zoom"),
        (
            "Customer visit: 株式会社サクラ商事",
            4,
            (14, 0),
            90,
            "丸の内1-9-2",
        ),
        ("営業戦略会議", 7, (0, 0), 0, "本社"),
        ("Family dinner", 6, (19, 0), 120, ""),
    ];
    let private = tag_id(data, ei, "Private");
    let utc = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
    for (k, (title, offset, (h, m), minutes, venue)) in specs.into_iter().enumerate() {
        let local = day(now, offset).and_hms_opt(h, m, 0).unwrap_or_default();
        let start = local
            .and_local_timezone(chrono_tz::Asia::Tokyo)
            .single()
            .map_or(now, |t| t.with_timezone(&Utc));
        let all_day = minutes == 0;
        let end = if all_day {
            start + Duration::hours(24) - Duration::seconds(1)
        } else {
            start + Duration::minutes(minutes)
        };
        let mut v = Map::new();
        v.insert("Event_Title".into(), json!(title));
        v.insert("Start_DateTime".into(), json!(utc(start)));
        v.insert("End_DateTime".into(), json!(utc(end)));
        v.insert("All_day".into(), json!(all_day));
        if !venue.is_empty() {
            v.insert("Venue".into(), json!(venue));
        }
        let participants = participants(data, k, contacts);
        if !participants.is_empty() {
            v.insert("Participants".into(), Value::Array(participants));
        }
        let (created, modified) = stamps(k * 2 + 3, now);
        let mut r = record(data, MANAGER_ID, v, created, modified);
        if title == "Family dinner" {
            r.tags.push(private.clone());
        }
        data.modules[ei].records.push(r);
    }
}

/// Participants of her `k`-th meeting.
fn participants(data: &mut ZohoData, k: usize, contacts: &[String]) -> Vec<Value> {
    let user = |data: &mut ZohoData, id: &str| {
        json!({ "type": "user", "participant": id, "invited": true, "status": "invited",
                "id": data.new_meta_id() })
    };
    match k {
        0 => vec![user(data, DEMO_USER_ID), user(data, USER2_ID)],
        2 => vec![user(data, DEMO_USER_ID)],
        3 => contacts
            .first()
            .map(|c| {
                json!({ "type": "contact", "participant": c, "invited": true,
                        "status": "invited", "id": data.new_meta_id() })
            })
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// Views the users made: demo's public "東京の顧客" (Mailing_State is 東京都), user2's own
/// "My VIP contacts" (only_to_me: hers and tagged VIP), and the manager's "Team open tasks"
/// (shared with demo: demo's and user2's to-dos not completed).
fn seed_views(data: &mut ZohoData, now: DateTime<Utc>) {
    let field = |name: &str| json!({ "api_name": name });
    let leaf = |name: &str, comparator: &str, value: Value| json!({ "field": field(name), "comparator": comparator, "value": value });
    let views = [
        json!({
            "module": "Contacts", "name": "東京の顧客", "created_by": DEMO_USER_ID,
            "access_type": "public",
            "criteria": leaf("Mailing_State", "equal", json!("東京都")),
        }),
        json!({
            "module": "Contacts", "name": "My VIP contacts", "created_by": USER2_ID,
            "access_type": "only_to_me", "sort_by": "Modified_Time",
            "criteria": { "group_operator": "and", "group": [
                leaf("Owner", "equal", json!("${CURRENTUSER}")),
                leaf("Tag", "equal", json!("VIP")),
            ]},
        }),
        json!({
            "module": "Tasks", "name": "Team open tasks", "created_by": MANAGER_ID,
            "access_type": "shared", "shared_to": [DEMO_USER_ID],
            "criteria": { "group_operator": "and", "group": [
                leaf("Owner", "in", json!([DEMO_USER_ID, USER2_ID])),
                leaf("Status", "not_equal", json!("Completed")),
            ]},
        }),
    ];
    let created = now - Duration::days(30);
    for mut v in views {
        v["created_time"] = json!(created.to_rfc3339());
        v["modified_time"] = json!(created.to_rfc3339());
        // Fixed seed data: a refusal would be a bug in the lines above, caught by the tests.
        if let Err(e) = add_view(data, &v, now) {
            tracing::error!("seed view: {e}");
        }
    }
}
