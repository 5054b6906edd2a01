//! `Seed::Demo` for Domino: contacts (Person), to-dos (Task) and a few mails (Memo) in the
//! mail files of the first two users.

use chrono::{DateTime, Days, Duration, NaiveTime, Utc};
use serde_json::{Map, Value};

use super::model::{DominoServer, DominoUser, ItemValue, NotesTime, canonical_name};
use crate::sample::{self, SamplePerson, SampleTask};

fn mime_body(text: &str) -> ItemValue {
    let part = |pairs: &[(&str, &str)]| -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect()
    };
    let encoding = if text.is_ascii() { "7bit" } else { "8bit" };
    let html = format!(
        "<html><body><p>{}</p></body></html>",
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    );
    ItemValue::RichText(vec![
        part(&[
            (
                "contentType",
                "multipart/alternative; boundary=\"=_alt_SIM0001\"",
            ),
            ("boundary", "--=_alt_SIM0001"),
        ]),
        part(&[
            ("contentType", "text/plain; charset=\"UTF-8\""),
            ("contentTransferEncoding", encoding),
            ("data", text),
        ]),
        part(&[
            ("contentType", "text/html; charset=\"UTF-8\""),
            ("contentTransferEncoding", encoding),
            ("data", &html),
        ]),
    ])
}

fn person_items(p: &SamplePerson, i: usize) -> Vec<(String, ItemValue)> {
    let t = |s: &str| ItemValue::text(s);
    let full = if p.country == "日本" {
        format!("{} {}", p.last, p.first)
    } else {
        format!("{} {}", p.first, p.last)
    };
    let mut items = vec![
        ("Form".to_owned(), t("Person")),
        ("Type".to_owned(), t("Person")),
        ("FirstName".to_owned(), t(&p.first)),
        ("LastName".to_owned(), t(&p.last)),
        ("FullName".to_owned(), t(&full)),
        ("MailAddress".to_owned(), t(&p.email)),
        ("OfficePhoneNumber".to_owned(), t(&p.office_phone)),
        ("CellPhoneNumber".to_owned(), t(&p.mobile)),
        ("JobTitle".to_owned(), t(&p.title)),
        ("Department".to_owned(), t(&p.department)),
        ("CompanyName".to_owned(), t(&p.company)),
        ("OfficeStreetAddress".to_owned(), t(&p.street)),
        ("OfficeCity".to_owned(), t(&p.city)),
        ("OfficeState".to_owned(), t(&p.state)),
        ("OfficeZip".to_owned(), t(&p.zip)),
        ("OfficeCountry".to_owned(), t(&p.country)),
    ];
    if i % 7 == 3 {
        items.push((
            "Categories".to_owned(),
            ItemValue::Text(vec!["Customers".into(), "VIP".into()]),
        ));
    } else if i % 5 == 2 {
        items.push(("Categories".to_owned(), t("Partners")));
    }
    if is_private_contact(i) {
        items.push(("OrgConfidential".to_owned(), t("1")));
    }
    items
}

/// The few Notes contacts marked private (Mark Private → `OrgConfidential` "1").
pub(crate) fn is_private_contact(i: usize) -> bool {
    i % 41 == 7
}

fn task_items(task: &SampleTask, i: usize, now: DateTime<Utc>) -> Vec<(String, ItemValue)> {
    let t = |s: &str| ItemValue::text(s);
    let mut items = vec![
        ("Form".to_owned(), t("Task")),
        ("Subject".to_owned(), t(&task.subject)),
        (
            "Body".to_owned(),
            if i.is_multiple_of(3) {
                t(&task.body)
            } else {
                mime_body(&task.body)
            },
        ),
        (
            "StartDateTime".to_owned(),
            ItemValue::Time(vec![NotesTime::Date(
                task.due.checked_sub_days(Days::new(3)).unwrap_or(task.due),
            )]),
        ),
        (
            "DueDateTime".to_owned(),
            ItemValue::Time(vec![NotesTime::Date(task.due)]),
        ),
        ("Importance".to_owned(), t(&task.importance.to_string())),
        ("TaskType".to_owned(), t("1")),
    ];
    if task.done {
        let done_at = task
            .due
            .and_time(NaiveTime::from_hms_opt(9, 30, 0).unwrap_or_default())
            .and_utc();
        items.push((
            "CompletedDateTime".to_owned(),
            ItemValue::Time(vec![NotesTime::DateTime(done_at.min(now))]),
        ));
    }
    if i % 11 == 5 {
        items.push(("OrgConfidential".to_owned(), t("1")));
    } else {
        items.push(("$PublicAccess".to_owned(), t("1")));
    }
    if i % 4 == 1 {
        items.push(("Categories".to_owned(), t("Sales")));
    }
    items
}

/// Times spread over the past so `since` queries have something to cut.
fn stamps(i: usize, n: usize, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let back = i64::try_from((n - i) * 7 + 24).unwrap_or(24);
    let created = now - Duration::hours(back);
    let modified = created + Duration::hours(i64::try_from(i % 5 * 3).unwrap_or(0));
    (created, modified.min(now))
}

fn add_all(
    server: &mut DominoServer,
    db_key: &str,
    author: &str,
    docs: Vec<Vec<(String, ItemValue)>>,
    now: DateTime<Utc>,
) {
    let n = docs.len();
    for (i, items) in docs.into_iter().enumerate() {
        let unid = server.new_unid();
        let (created, modified) = stamps(i, n, now);
        if let Some(db) = server.databases.get_mut(db_key) {
            db.add(unid, created, modified, author, items);
        }
    }
}

/// Fill the mail files of the first user (the "demo" data set) and the second user (the
/// "user2" data set).
pub(crate) fn populate(server: &mut DominoServer, users: &[DominoUser], now: DateTime<Utc>) {
    let people = sample::population();
    let today = now.date_naive();
    let sets = [
        (sample::NOTES_DEMO, 1_u64, 30_usize, 5_usize),
        (sample::NOTES_USER2, 2, 8, 1),
    ];
    for (user, (range, stream, task_count, memo_count)) in users.iter().zip(sets) {
        let key = user.mail_path().to_lowercase();
        let author = user.canonical();
        let mut docs = Vec::new();
        for (i, p) in people[range.clone()].iter().enumerate() {
            docs.push(person_items(p, i));
        }
        let tasks = sample::tasks(stream, task_count, today, &people[range.clone()]);
        for (i, task) in tasks.iter().enumerate() {
            docs.push(task_items(task, i, now));
        }
        for i in 0..memo_count {
            let from = &people[range.start + i * 3];
            let posted = now - Duration::hours(i64::try_from(i * 20 + 2).unwrap_or(2));
            docs.push(vec![
                ("Form".into(), ItemValue::text("Memo")),
                (
                    "From".into(),
                    ItemValue::Names(vec![format!(
                        "{} {} <{}>",
                        from.first, from.last, from.email
                    )]),
                ),
                (
                    "SendTo".into(),
                    ItemValue::Names(vec![canonical_name(&user.name)]),
                ),
                (
                    "Subject".into(),
                    ItemValue::text(&format!("Re: {}", from.company)),
                ),
                (
                    "PostedDate".into(),
                    ItemValue::Time(vec![NotesTime::DateTime(posted)]),
                ),
                ("Body".into(), mime_body("Thanks, see you next week.")),
            ]);
        }
        add_all(server, &key, &author, docs, now);
    }
    seed_calendars(server, users, now);
}

/// About 40 calendar entries per user (see `sample_cal`); meetings invite the other user, who
/// gets a notice.
fn seed_calendars(server: &mut DominoServer, users: &[DominoUser], now: DateTime<Utc>) {
    let keys: Vec<(String, String)> = users
        .iter()
        .map(|u| (u.name.clone(), u.mail_path().to_lowercase()))
        .collect();
    let timezones = crate::sample_cal::timezones();
    for (index, user) in users.iter().take(2).enumerate() {
        let key = user.mail_path().to_lowercase();
        let me = format!("{}@example.com", user.name.to_lowercase());
        let other = users.iter().take(2).find(|u| u.name != user.name);
        for (i, e) in crate::sample_cal::events(index, now).iter().enumerate() {
            let mut ev = Map::new();
            ev.insert("summary".into(), Value::String(e.title.clone()));
            if !e.location.is_empty() {
                ev.insert("location".into(), Value::String(e.location.clone()));
            }
            if !e.description.is_empty() {
                ev.insert("description".into(), Value::String(e.description.clone()));
            }
            ev.insert("start".into(), e.start.to_json());
            ev.insert("end".into(), e.end.to_json());
            if let Some(r) = &e.rrule {
                ev.insert("recurrenceRule".into(), Value::String(r.clone()));
            }
            ev.insert("class".into(), Value::String(e.class.into()));
            if e.meeting {
                let mut attendees = vec![serde_json::json!({"role":"chair","status":"accepted",
                    "rsvp":false,"displayName":user.name,"email":me})];
                if let Some(o) = other {
                    attendees.push(serde_json::json!({"role":"req-participant",
                        "status":"needs-action","rsvp":true,"displayName":o.name,
                        "email":format!("{}@example.com", o.name.to_lowercase())}));
                }
                attendees.push(serde_json::json!({"role":"opt-participant",
                    "status":"needs-action","rsvp":true,"displayName":"Pat Guest",
                    "email":"pat.guest@partner.example"}));
                ev.insert("attendees".into(), Value::Array(attendees));
                ev.insert(
                    "organizer".into(),
                    serde_json::json!({"displayName":user.name,"email":me}),
                );
            }
            let at = now - Duration::days(40) + Duration::minutes(i64::try_from(i).unwrap_or(0));
            super::calendar::seed_event(
                server, &key, &user.name, &timezones, &ev, at, &keys, e.meeting,
            );
        }
    }
}
