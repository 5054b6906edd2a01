//! The org, its users and OAuth client (always), and `Seed::Demo` records.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use super::DEFAULT_TOKEN_LIFETIME_SECS;
use super::model::{
    FIRST_META_ID, FIRST_RECORD_ID, Record, TagDef, User, ZohoData, standard_modules,
};
use crate::Seed;
use crate::sample::{self, SamplePerson};

pub(crate) const DEMO_USER_ID: &str = "5725767000000411001";
pub(crate) const USER2_ID: &str = "5725767000000411005";
/// The third CRM user: a sales manager with records of her own, no refresh token, who never
/// connects (`seed_manager.rs`).
pub(crate) const MANAGER_ID: &str = "5725767000000411009";

/// Users, org, client and standard modules; sample records for `Seed::Demo`.
pub(crate) fn build(seed: Seed, now: DateTime<Utc>) -> ZohoData {
    let org_created = now - Duration::days(400);
    let users = vec![
        User {
            id: DEMO_USER_ID.into(),
            zuid: "60012345".into(),
            first_name: "Demo".into(),
            last_name: "User".into(),
            email: "demo@example.com".into(),
            time_zone: chrono_tz::Asia::Tokyo,
            admin: true,
            role: ("CEO", "5725767000000026005"),
            profile: super::profiles::ADMINISTRATOR,
            created: org_created,
        },
        User {
            id: USER2_ID.into(),
            zuid: "60012346".into(),
            first_name: "User".into(),
            last_name: "Two".into(),
            email: "user2@example.com".into(),
            time_zone: chrono_tz::America::New_York,
            admin: false,
            role: ("Manager", "5725767000000026008"),
            profile: super::profiles::STANDARD,
            created: org_created + Duration::days(3),
        },
        User {
            id: MANAGER_ID.into(),
            zuid: "60012347".into(),
            first_name: "美穂".into(),
            last_name: "山口".into(),
            email: "miho.yamaguchi@example.com".into(),
            time_zone: chrono_tz::Asia::Tokyo,
            admin: false,
            role: ("Sales Manager", "5725767000000026009"),
            profile: super::profiles::STANDARD,
            created: org_created + Duration::days(10),
        },
    ];
    let mut data = ZohoData {
        users,
        client_id: "demo-client".into(),
        client_secret: "demo-secret".into(),
        refresh_scopes: std::collections::HashMap::new(),
        refresh_tokens: vec![
            ("demo-refresh".into(), DEMO_USER_ID.into()),
            ("user2-refresh".into(), USER2_ID.into()),
        ],
        access_tokens: HashMap::new(),
        issued: HashMap::new(),
        token_lifetime_secs: i64::try_from(DEFAULT_TOKEN_LIFETIME_SECS).unwrap_or(3600),
        modules: standard_modules(),
        next_id: FIRST_RECORD_ID,
        next_meta_id: FIRST_META_ID,
        page_tokens: HashMap::new(),
        org_created,
        licences: 5,
        search_index_delay_secs: 0,
        page_token_records: super::records::TOKEN_LIMIT,
    };
    if seed == Seed::Demo {
        populate(&mut data, now);
    }
    data
}

pub(super) fn record(
    data: &mut ZohoData,
    owner: &str,
    values: Map<String, Value>,
    created: DateTime<Utc>,
    modified: DateTime<Utc>,
) -> Record {
    Record {
        id: data.new_id(),
        created,
        modified,
        created_by: owner.to_owned(),
        modified_by: owner.to_owned(),
        owner: owner.to_owned(),
        values,
        tags: Vec::new(),
    }
}

pub(super) fn stamps(i: usize, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let back = i64::try_from(i * 5 + 30).unwrap_or(30);
    let created = now - Duration::hours(back * 3);
    let modified = created + Duration::hours(i64::try_from(i % 4).unwrap_or(0) * 2);
    (created, modified.min(now))
}

pub(super) fn tag_id(data: &mut ZohoData, module: usize, name: &str) -> String {
    if let Some(t) = data.modules[module].tags.iter().find(|t| t.name == name) {
        return t.id.clone();
    }
    let id = data.new_meta_id();
    data.modules[module].tags.push(TagDef {
        id: id.clone(),
        name: name.to_owned(),
        created: Some(data.org_created),
        created_by: data.users.first().map(|u| u.id.clone()),
    });
    id
}

/// Find or create the account of a company.
fn account(
    data: &mut ZohoData,
    accounts: &mut HashMap<String, String>,
    p: &SamplePerson,
    owner: &str,
    now: DateTime<Utc>,
) -> String {
    if let Some(id) = accounts.get(&p.company) {
        return id.clone();
    }
    let mut values = Map::new();
    values.insert("Account_Name".into(), json!(p.company));
    values.insert("Billing_City".into(), json!(p.city));
    values.insert("Billing_Country".into(), json!(p.country));
    values.insert("Account_Type".into(), json!("Customer"));
    let created = now - Duration::days(300);
    let r = record(data, owner, values, created, created);
    let id = r.id.to_string();
    if let Some(ai) = data.module_index("Accounts") {
        data.modules[ai].records.push(r);
    }
    accounts.insert(p.company.clone(), id.clone());
    id
}

struct ContactSpec<'a> {
    person: &'a SamplePerson,
    owner: &'static str,
    /// Shared with Notes, with some fields changed on the Zoho side.
    vary: bool,
    private: bool,
}

pub(super) fn contact_values(
    p: &SamplePerson,
    account_id: &str,
    k: usize,
    vary: bool,
) -> Map<String, Value> {
    let mut v = Map::new();
    let mut put = |key: &str, value: &str| {
        if !value.is_empty() {
            v.insert(key.to_owned(), json!(value));
        }
    };
    put("First_Name", &p.first);
    put("Last_Name", &p.last);
    put("Email", &p.email);
    let phone = if vary && k.is_multiple_of(3) {
        // The Zoho copy got a newer office number.
        let mut digits: Vec<char> = p.office_phone.chars().collect();
        if let Some(last) = digits.iter_mut().rev().find(|c| c.is_ascii_digit()) {
            *last = last
                .to_digit(10)
                .and_then(|d| char::from_digit((d + 1) % 10, 10))
                .unwrap_or('0');
        }
        digits.into_iter().collect()
    } else {
        p.office_phone.clone()
    };
    put("Phone", &phone);
    put("Mobile", &p.mobile);
    let title = if vary && k % 5 == 1 {
        if p.country == "日本" {
            "部長代理".to_owned()
        } else {
            format!("Senior {}", p.title)
        }
    } else {
        p.title.clone()
    };
    put("Title", &title);
    put("Department", &p.department);
    put("Mailing_Street", &p.street);
    put("Mailing_City", &p.city);
    put("Mailing_State", &p.state);
    put("Mailing_Zip", &p.zip);
    put("Mailing_Country", &p.country);
    if k % 9 == 4 {
        put(
            "Description",
            "Met at the spring trade show; interested in the enterprise plan.",
        );
    }
    if k % 4 == 2 {
        put("Lead_Source", "Trade Show");
    }
    v.insert("Account_Name".into(), json!({ "id": account_id }));
    v
}

pub(super) fn priority(importance: u8) -> &'static str {
    match importance {
        1 => "High",
        2 => "Normal",
        _ => "Low",
    }
}

/// Zoho tasks of one user: the first `shared` of the Notes to-dos (same subject and due date)
/// plus some of their own.
struct TaskSet {
    notes_stream: u64,
    notes_count: usize,
    shared: usize,
    own_stream: u64,
    own_count: usize,
    notes_people: std::ops::Range<usize>,
    zoho_people: std::ops::Range<usize>,
    owner: &'static str,
}

fn populate(data: &mut ZohoData, now: DateTime<Utc>) {
    let people = sample::population();
    let Some(ci) = data.module_index("Contacts") else {
        return;
    };
    let Some(ti) = data.module_index("Tasks") else {
        return;
    };
    let mut specs: Vec<ContactSpec<'_>> = Vec::new();
    for (k, p) in people[sample::NOTES_DEMO]
        .iter()
        .step_by(sample::SHARED_STEP)
        .enumerate()
    {
        specs.push(ContactSpec {
            person: p,
            owner: DEMO_USER_ID,
            vary: true,
            private: k == 7,
        });
    }
    for (j, p) in people[sample::ZOHO_DEMO_ONLY].iter().enumerate() {
        specs.push(ContactSpec {
            person: p,
            owner: DEMO_USER_ID,
            vary: false,
            private: j % 25 == 3,
        });
    }
    for p in &people[sample::NOTES_USER2][..sample::USER2_SHARED] {
        specs.push(ContactSpec {
            person: p,
            owner: USER2_ID,
            vary: true,
            private: false,
        });
    }
    for (j, p) in people[sample::ZOHO_USER2_ONLY].iter().enumerate() {
        specs.push(ContactSpec {
            person: p,
            owner: USER2_ID,
            vary: false,
            private: j == 1,
        });
    }
    let mut accounts = HashMap::new();
    let private = tag_id(data, ci, "Private");
    let vip = tag_id(data, ci, "VIP");
    for (k, spec) in specs.iter().enumerate() {
        let account_id = account(data, &mut accounts, spec.person, spec.owner, now);
        let values = contact_values(spec.person, &account_id, k, spec.vary);
        let (created, modified) = stamps(k, now);
        let mut r = record(data, spec.owner, values, created, modified);
        if spec.private {
            r.tags.push(private.clone());
        }
        if k % 13 == 6 {
            r.tags.push(vip.clone());
        }
        data.modules[ci].records.push(r);
    }

    let today = now.date_naive();
    let task_private = tag_id(data, ti, "Private");
    let task_sets = [
        TaskSet {
            notes_stream: 1,
            notes_count: 30,
            shared: 8,
            own_stream: 11,
            own_count: 12,
            notes_people: sample::NOTES_DEMO,
            zoho_people: sample::ZOHO_DEMO_ONLY,
            owner: DEMO_USER_ID,
        },
        TaskSet {
            notes_stream: 2,
            notes_count: 8,
            shared: 2,
            own_stream: 12,
            own_count: 3,
            notes_people: sample::NOTES_USER2,
            zoho_people: sample::ZOHO_USER2_ONLY,
            owner: USER2_ID,
        },
    ];
    let mut n = 0;
    for set in task_sets {
        let owner = set.owner;
        // The same call as the Domino seed makes, so the shared to-dos match exactly.
        let notes_tasks = sample::tasks(
            set.notes_stream,
            set.notes_count,
            today,
            &people[set.notes_people],
        );
        let own = sample::tasks(
            set.own_stream,
            set.own_count,
            today,
            &people[set.zoho_people],
        );
        // Zoho-only tasks must not match a Notes to-do by chance.
        let own = own.iter().filter(|t| {
            !notes_tasks
                .iter()
                .any(|n| n.subject == t.subject && n.due == t.due)
        });
        for task in notes_tasks.iter().take(set.shared).chain(own) {
            let mut v = Map::new();
            v.insert("Subject".into(), json!(task.subject));
            v.insert(
                "Due_Date".into(),
                json!(task.due.format("%Y-%m-%d").to_string()),
            );
            let status = if task.done {
                "Completed"
            } else if n % 3 == 1 {
                "In Progress"
            } else {
                "Not Started"
            };
            v.insert("Status".into(), json!(status));
            v.insert("Priority".into(), json!(priority(task.importance)));
            if !task.body.is_empty() {
                v.insert("Description".into(), json!(task.body));
            }
            let (created, modified) = stamps(n, now);
            if task.done {
                v.insert(
                    "Closed_Time".into(),
                    json!(modified.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()),
                );
            }
            let mut r = record(data, owner, v, created, modified);
            if n % 10 == 9 {
                r.tags.push(task_private.clone());
            }
            data.modules[ti].records.push(r);
            n += 1;
        }
    }
    seed_events(data, now);
    // Last, so that every id above stays what it was before the manager existed.
    super::seed_manager::populate(data, now);
}

/// Title, start, end, all-day, venue.
type EventSpec = (String, DateTime<Utc>, DateTime<Utc>, bool, String);

/// About 20 Events for the demo user: 10 match a Notes calendar entry by title and start
/// (see `sample_cal`), 10 exist only in Zoho; some tagged `Private`, some with Participants.
fn seed_events(data: &mut ZohoData, now: DateTime<Utc>) {
    let Some(ei) = data.module_index("Events") else {
        return;
    };
    let tz = data
        .user(DEMO_USER_ID)
        .map_or(chrono_tz::UTC, |u| u.time_zone);
    let private = tag_id(data, ei, "Private");
    let contacts: Vec<String> = data
        .module("Contacts")
        .map(|m| {
            m.records
                .iter()
                .filter(|r| r.owner == DEMO_USER_ID)
                .take(12)
                .map(|r| r.id.to_string())
                .collect()
        })
        .unwrap_or_default();
    let utc = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
    let notes = crate::sample_cal::events(0, now);
    let shared = notes
        .iter()
        .filter(|e| e.rrule.is_none())
        .step_by(3)
        .take(10);
    let mut specs: Vec<EventSpec> = shared
        .map(|e| {
            let (start, end) = if e.all_day() {
                let day = |d: chrono::NaiveDate| {
                    d.and_hms_opt(0, 0, 0)
                        .and_then(|l| l.and_local_timezone(tz).single())
                        .map_or(e.start_utc(), |t| t.with_timezone(&Utc))
                };
                (
                    day(e.start.date),
                    day(e.start.date) + Duration::hours(24) - Duration::seconds(1),
                )
            } else {
                (e.start_utc(), e.end_utc())
            };
            (e.title.clone(), start, end, e.all_day(), e.location.clone())
        })
        .collect();
    let own = [
        "Pipeline sync with sales",
        "Demo for Globex",
        "Contract negotiation",
        "Partner onboarding",
        "Webinar dry run",
        "Account review: Initech",
        "Follow-up call",
        "Marketing sync",
        "Pricing workshop",
        "Customer lunch",
    ];
    for (k, title) in own.iter().enumerate() {
        let offset = i64::try_from(k).unwrap_or(0) * 6 - 27;
        let start = crate::common::whole_seconds(now) + Duration::days(offset)
            - Duration::minutes(i64::from(
                now.format("%M").to_string().parse::<u32>().unwrap_or(0),
            ));
        specs.push((
            (*title).to_owned(),
            start,
            start + Duration::minutes(45),
            false,
            "Zoom".to_owned(),
        ));
    }
    for (k, (title, start, end, all_day, venue)) in specs.into_iter().enumerate() {
        let mut v = Map::new();
        v.insert("Event_Title".into(), json!(title));
        v.insert("Start_DateTime".into(), json!(utc(start)));
        v.insert("End_DateTime".into(), json!(utc(end)));
        v.insert("All_day".into(), json!(all_day));
        if !venue.is_empty() {
            v.insert("Venue".into(), json!(venue));
        }
        if k % 3 == 1 {
            v.insert(
                "Remind_At".into(),
                json!([{ "unit": 15, "period": "minutes" }]),
            );
        }
        if k % 4 == 2 && !contacts.is_empty() {
            let mut participants = Vec::new();
            for (j, id) in contacts.iter().skip(k % 5).take(2).enumerate() {
                participants.push(json!({ "type": "contact", "participant": id, "invited": j == 0,
                    "status": if j == 0 { "invited" } else { "not_known" }, "id": data.new_meta_id() }));
            }
            participants.push(
                json!({ "type": "user", "participant": USER2_ID, "invited": false,
                "status": "not_known", "id": data.new_meta_id() }),
            );
            participants.push(
                json!({ "type": "email", "participant": "pat.guest@partner.example",
                "Email": "pat.guest@partner.example", "name": "Pat Guest", "invited": false,
                "status": "not_known", "id": data.new_meta_id() }),
            );
            v.insert("Participants".into(), Value::Array(participants));
        }
        let (created, modified) = stamps(k, now);
        let mut r = record(data, DEMO_USER_ID, v, created, modified);
        if k % 6 == 4 {
            r.tags.push(private.clone());
        }
        data.modules[ei].records.push(r);
    }
}
