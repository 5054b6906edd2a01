//! Benchmark data sets: contacts, to-dos and events split between the two simulators for a
//! two-way initial sync, generated from their counts and loaded in seconds (a million contacts
//! included).
//!
//! The shape is deterministic (record `i` always looks the same): per module 45 % only in
//! Notes, 45 % only in the CRM and 10 % on both sides, matching as the sync matches them (the
//! same e-mail; the same subject and due date; the same title and start). Records are
//! numbered through contacts, then to-dos; events have their own numbers.
//!
//! ```no_run
//! # async fn f() {
//! let sims = nzsync_sim::start(nzsync_sim::SimConfig::loopback(nzsync_sim::Seed::Empty))
//!     .await
//!     .unwrap();
//! let data = nzsync_sim::bench_data::BenchData::new(1_000_000, 0, 0);
//! sims.load_bench_data(&data, "mail/demo.nsf").unwrap();
//! # }
//! ```

use serde_json::{Value, json};

/// How many records of a module start where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// Only in Notes.
    pub notes_only: usize,
    /// Only in the CRM.
    pub crm_only: usize,
    /// On both sides, matching.
    pub both: usize,
}

impl Split {
    /// `total` records: 10 % on both sides, the rest halved (Notes gets the smaller half).
    #[must_use]
    pub fn of(total: usize) -> Split {
        let both = total / 10;
        let notes_only = (total - both) / 2;
        Split {
            notes_only,
            crm_only: total - both - notes_only,
            both,
        }
    }

    /// Records in Notes.
    #[must_use]
    pub fn notes(self) -> usize {
        self.notes_only + self.both
    }

    /// Records in the CRM.
    #[must_use]
    pub fn crm(self) -> usize {
        self.crm_only + self.both
    }

    /// Records in all.
    #[must_use]
    pub fn total(self) -> usize {
        self.notes_only + self.crm_only + self.both
    }
}

/// A data set: how many contacts, to-dos and events, each split as [`Split::of`] splits them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BenchData {
    /// Contacts (Notes `Person`, CRM `Contacts`).
    pub contacts: Split,
    /// To-dos (Notes `Task`, CRM `Tasks`).
    pub todos: Split,
    /// Events (the Notes calendar, CRM `Events`), in the year 2027.
    pub events: Split,
}

impl BenchData {
    /// A data set of these sizes.
    #[must_use]
    pub fn new(contacts: usize, todos: usize, events: usize) -> BenchData {
        BenchData {
            contacts: Split::of(contacts),
            todos: Split::of(todos),
            events: Split::of(events),
        }
    }

    /// The `/_sim/load` bodies for Domino (mail file `db`) and for Zoho.
    #[must_use]
    pub fn dumps(&self, db: &str) -> (Value, Value) {
        let mut docs = Vec::with_capacity(self.contacts.notes() + self.todos.notes());
        let mut crm_contacts = Vec::with_capacity(self.contacts.crm());
        let mut crm_tasks = Vec::with_capacity(self.todos.crm());
        let mut i = 0;
        for k in 0..self.contacts.total() {
            i += 1;
            if k < self.contacts.notes() {
                docs.push(person(i));
            }
            if k >= self.contacts.notes_only {
                crm_contacts.push(contact(i));
            }
        }
        for k in 0..self.todos.total() {
            i += 1;
            if k < self.todos.notes() {
                docs.push(task(i));
            }
            if k >= self.todos.notes_only {
                crm_tasks.push(crm_task(i));
            }
        }
        let mut notes_events = Vec::with_capacity(self.events.notes());
        let mut crm_events = Vec::with_capacity(self.events.crm());
        for k in 0..self.events.total() {
            if k < self.events.notes() {
                notes_events.push(notes_event(k));
            }
            if k >= self.events.notes_only {
                crm_events.push(crm_event(k));
            }
        }
        (
            json!({"databases": {db: {"documents": docs, "events": notes_events}}}),
            json!({"modules": {"Contacts": crm_contacts, "Tasks": crm_tasks, "Events": crm_events}}),
        )
    }
}

fn person(i: usize) -> Value {
    json!({"form": "Person", "items": {
        "FirstName": format!("First{i}"), "LastName": format!("Last{i}"),
        "MailAddress": format!("person{i}@example.com"),
        "OfficePhoneNumber": format!("+81 3 {i:08}"),
        "JobTitle": "Engineer", "OfficeCity": "Tokyo"}})
}

fn contact(i: usize) -> Value {
    json!({"First_Name": format!("First{i}"), "Last_Name": format!("Last{i}"),
           "Email": format!("person{i}@example.com"), "Phone": format!("+81 3 {i:08}"),
           "Title": "Engineer", "Mailing_City": "Tokyo"})
}

fn due(i: usize) -> String {
    format!("2027-{:02}-{:02}", 1 + i % 12, 1 + i % 28)
}

fn task(i: usize) -> Value {
    json!({"form": "Task", "items": {"Subject": format!("Task {i}"),
           "DueDateTime": {"type": "datetime", "data": format!("{}T03:00:00Z", due(i))},
           "Importance": "2"}})
}

fn crm_task(i: usize) -> Value {
    json!({"Subject": format!("Task {i}"), "Due_Date": due(i), "Priority": "Normal",
           "Status": "Not Started"})
}

/// Event `i` starts on the hour (UTC) on a day of 2027.
fn start(i: usize) -> (String, usize) {
    let day = 1 + i % 28;
    let month = 1 + (i / 28) % 12;
    (format!("2027-{month:02}-{day:02}"), i % 9)
}

fn notes_event(i: usize) -> Value {
    let (d, h) = start(i);
    json!({"event": {"summary": format!("Meeting {i}"),
        "start": {"date": d, "time": format!("{h:02}:00:00"), "utc": true},
        "end": {"date": d, "time": format!("{h:02}:30:00"), "utc": true}}})
}

fn crm_event(i: usize) -> Value {
    let (d, h) = start(i);
    json!({"Event_Title": format!("Meeting {i}"), "All_day": false,
           "Start_DateTime": format!("{d}T{h:02}:00:00+00:00"),
           "End_DateTime": format!("{d}T{h:02}:30:00+00:00")})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_matches_as_the_benches_count() {
        let data = BenchData::new(20, 10, 10);
        assert_eq!(
            data.contacts,
            Split {
                notes_only: 9,
                crm_only: 9,
                both: 2
            }
        );
        let (notes, crm) = data.dumps("mail/demo.nsf");
        let docs = notes["databases"]["mail/demo.nsf"]["documents"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(docs, 11 + 5);
        let contacts = crm["modules"]["Contacts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(contacts.len(), 11);
        // The first CRM contact past the Notes-only ones is also in Notes, with the same e-mail.
        assert_eq!(contacts[0]["Email"], "person10@example.com");
        assert_eq!(
            notes["databases"]["mail/demo.nsf"]["documents"][9]["items"]["MailAddress"],
            "person10@example.com"
        );
    }
}
