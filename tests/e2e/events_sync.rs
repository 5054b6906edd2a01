//! Calendar events end to end: the Domino calendar service ↔ Zoho `Events`, with exact time
//! zones, all-day events, attendees, reminders, privacy, windows (B3), and no invitations sent
//! by sync writes. The demo Zoho user is in Asia/Tokyo.

use serde_json::{Value, json};

use crate::world::{Backend, World, s};

const EASTERN: &str = r#"{"tzid":"Eastern","standard":{"start":{"date":"1950-11-05","time":"02:00:00"},"offsetFrom":"-0400","offsetTo":"-0500","recurrenceRule":"FREQ=YEARLY;BYMONTH=11;BYDAY=1SU;BYHOUR=2;BYMINUTE=0"},"daylight":{"start":{"date":"1950-03-12","time":"02:00:00"},"offsetFrom":"-0500","offsetTo":"-0400","recurrenceRule":"FREQ=YEARLY;BYMONTH=3;BYDAY=2SU;BYHOUR=2;BYMINUTE=0"}}"#;

/// Today's date in Tokyo and an offset in days from it, as `YYYY-MM-DD`.
fn tokyo_day(offset_days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let days = (now + 9 * 3600).div_euclid(86_400) + offset_days;
    let (y, m, d) = sync_core::time::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn event(summary: &str, start: Value, end: Value) -> Value {
    json!({"events": [{"summary": summary, "start": start, "end": end}]})
}

crate::both_backends! {
    async fn events_sync_both_ways_with_exact_times_and_no_invitations(backend: Backend) {
        let w = World::with_sync_settings_on(backend, "events = \"all\"").await;
        // A winter day inside the "all" window: Eastern is UTC-5 then.
        let day = "2027-01-15";
        // A timed meeting in a Notes-defined zone, with an attendee and a reminder.
        let mut body = event(
            "Quarterly review",
            json!({"date": day, "time": "09:00:00", "tzid": "Eastern"}),
            json!({"date": day, "time": "10:00:00", "tzid": "Eastern"}),
        );
        body["timezones"] = json!([serde_json::from_str::<Value>(EASTERN).unwrap()]);
        body["events"][0]["location"] = json!("Room 4");
        body["events"][0]["attendees"] = json!([{"role": "req-participant", "status": "needs-action", "email": "duke@acme.example"}]);
        body["events"][0]["alarm"] = json!([{"action": "DISPLAY", "trigger": {"valueDataType": "DURATION", "related": "START", "value": "-PT15M"}}]);
        let review = w.notes_event_create(body).await;
        // An all-day event, and a private one that must stay in Notes.
        let holiday = w
            .notes_event_create(event(
                "Company holiday",
                json!({"date": "2027-01-18"}),
                json!({"date": "2027-01-19"}),
            ))
            .await;
        let mut private = event(
            "Doctor",
            json!({"date": day, "time": "03:00:00", "utc": true}),
            json!({"date": day, "time": "04:00:00", "utc": true}),
        );
        private["events"][0]["class"] = json!("private");
        w.notes_event_create(private).await;
        // A CRM meeting, in the user's zone.
        let lunch = w
            .crm_create_in(
                "Events",
                json!({"Event_Title": "Lunch with Aiko", "Start_DateTime": format!("{day}T12:00:00+09:00"),
                       "End_DateTime": format!("{day}T13:00:00+09:00"), "All_day": false, "Venue": "Ginza",
                       "Participants": [{"type": "email", "Email": "aiko@example.jp"}]}),
            )
            .await;

        w.clear_calls().await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let counts = run.counts("events");
        assert_eq!(
            (counts["created"].as_u64(), counts["skipped"].as_u64()),
            (Some(3), Some(1)),
            "{counts}"
        );

        // No sync write to the calendar may send notices: DAS writes say `workflow=false`,
        // the REST API's `send=false` (its delete sends none).
        let (calendar, quiet) = match backend {
            Backend::Das => ("/api/calendar/", "workflow=false"),
            Backend::Rest => ("/api/pim-v1/calendar/", "send=false"),
        };
        let cal_writes: Vec<_> = w
            .notes_calls()
            .await
            .into_iter()
            .filter(|(m, p, _)| m != "GET" && p.contains(calendar))
            .collect();
        assert!(!cal_writes.is_empty());
        let log: Value = reqwest::get(format!("{}/_sim/calls", w.notes_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for c in log["calls"].as_array().unwrap() {
            let write = c["method"] != "GET" && c["method"] != "DELETE";
            if write && c["path"].as_str().unwrap().contains(calendar) {
                assert!(
                    c["query"].as_str().unwrap_or_default().contains(quiet),
                    "{c}"
                );
            }
        }

        let crm = w.crm_records("Events").await;
        assert_eq!(crm.len(), 3, "{crm:?}");
        let rev = crm
            .iter()
            .find(|e| s(e, "Event_Title") == "Quarterly review")
            .unwrap();
        // 09:00 Eastern (UTC-5 in January) is the same instant as the CRM start.
        let got = sync_core::Timestamp::parse_iso(&s(rev, "Start_DateTime"))
            .unwrap()
            .to_das();
        assert_eq!(got, "2027-01-15T14:00:00Z");
        assert_eq!(s(rev, "Venue"), "Room 4");
        assert_eq!(crate::world::xref_key(rev), w.event_key(&review).await);
        assert!(
            rev["Participants"]
                .to_string()
                .contains("duke@acme.example"),
            "{rev}"
        );
        let hol = crm
            .iter()
            .find(|e| s(e, "Event_Title") == "Company holiday")
            .unwrap();
        assert_eq!(hol["All_day"], true);
        assert!(
            crm.iter().all(|e| s(e, "Event_Title") != "Doctor"),
            "a private event reached CRM"
        );
        let lunch_notes = w
            .notes_event_rows("2027-01-15T00:00:00Z", "2027-01-16T00:00:00Z")
            .await;
        let l = lunch_notes
            .iter()
            .find(|e| e["summary"] == "Lunch with Aiko")
            .unwrap_or_else(|| panic!("{lunch_notes:?}"));
        assert_eq!(
            l["start"],
            json!({"date": day, "time": "03:00:00", "utc": true})
        );

        // Nothing changed: nothing written.
        w.clear_calls().await;
        let again = w.sync(&[]).await;
        assert_eq!(again.code, 0, "{}", again.stdout);
        assert_eq!(w.writes().await, vec![], "second run wrote");

        // A CRM edit reaches Notes; a Notes delete reaches CRM.
        w.crm_update_in(
            "Events",
            &lunch,
            json!({"Event_Title": "Lunch with Aiko and Ken"}),
        )
        .await;
        w.notes_event_delete(&holiday).await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}", run.stdout);
        let c = run.counts("events");
        assert_eq!(
            (c["updated"].as_u64(), c["deleted"].as_u64()),
            (Some(1), Some(1)),
            "{c}"
        );
        assert!(
            w.crm_records("Events")
                .await
                .iter()
                .all(|e| s(e, "Event_Title") != "Company holiday")
        );
        let rows = w
            .notes_event_rows("2027-01-15T00:00:00Z", "2027-01-16T00:00:00Z")
            .await;
        assert!(
            rows.iter()
                .any(|e| e["summary"] == "Lunch with Aiko and Ken"),
            "{rows:?}"
        );
    }
}

crate::both_backends! {
    async fn todays_window_syncs_only_today_and_a_moved_event_is_moved_not_deleted(backend: Backend) {
        let w = World::with_sync_settings_on(backend, "events = \"today\"").await;
        let today = tokyo_day(0);
        let later = tokyo_day(7);
        // 10:00 and 11:00 Tokyo today are 01:00 and 02:00 UTC.
        let standup = w
            .notes_event_create(event(
                "Stand-up",
                json!({"date": today, "time": "01:00:00", "utc": true}),
                json!({"date": today, "time": "01:30:00", "utc": true}),
            ))
            .await;
        w.notes_event_create(event(
            "Next week",
            json!({"date": later, "time": "01:00:00", "utc": true}),
            json!({"date": later, "time": "02:00:00", "utc": true}),
        ))
        .await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}", run.stdout);
        let titles: Vec<String> = w
            .crm_records("Events")
            .await
            .iter()
            .map(|e| s(e, "Event_Title"))
            .collect();
        assert_eq!(
            titles,
            vec!["Stand-up".to_owned()],
            "only today's event is synced"
        );

        // The stand-up moves to next week: it leaves the window. Its CRM copy moves with it; it is
        // not deleted (B3), and then both stay dormant.
        w.notes_event_put(
            &standup,
            event(
                "Stand-up",
                json!({"date": later, "time": "05:00:00", "utc": true}),
                json!({"date": later, "time": "05:30:00", "utc": true}),
            ),
        )
        .await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}", run.stdout);
        assert_eq!(run.counts("events")["deleted"], 0);
        let crm = w.crm_records("Events").await;
        assert_eq!(crm.len(), 1);
        let start = sync_core::Timestamp::parse_iso(&s(&crm[0], "Start_DateTime"))
            .unwrap()
            .to_das();
        assert_eq!(start, format!("{later}T05:00:00Z"));
        w.clear_calls().await;
        assert_eq!(w.sync(&[]).await.code, 0);
        assert_eq!(w.writes().await, vec![], "dormant events are not written");
        assert!(w.notes_event(&standup).await.is_some());
    }
}

crate::both_backends! {
    async fn a_crm_edit_keeps_what_the_notes_meeting_holds_beyond_the_mapping(backend: Backend) {
        let w = World::with_sync_settings_on(backend, "events = \"all\"").await;
        let uid = w
            .notes_event_create(json!({"events": [{
                "summary": "Board meeting",
                "start": {"date": "2027-02-10", "time": "01:00:00", "utc": true},
                "end": {"date": "2027-02-10", "time": "02:00:00", "utc": true},
                "categories": "Projects",
                "organizer": {"displayName": "Demo User", "email": "demo@example.com"},
                "attendees": [
                    {"role": "chair", "status": "accepted", "email": "demo@example.com"},
                    {"role": "req-participant", "status": "accepted", "rsvp": false, "email": "duke@acme.example"}
                ]
            }]}))
            .await;
        assert_eq!(w.sync(&[]).await.code, 0);
        let z = w
            .crm_records("Events")
            .await
            .into_iter()
            .find(|e| s(e, "Event_Title") == "Board meeting")
            .unwrap();
        w.crm_update_in(
            "Events",
            &s(&z, "id"),
            json!({"Event_Title": "Board meeting (moved room)", "Venue": "Room 9"}),
        )
        .await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}", run.stdout);
        assert_eq!(run.counts("events")["updated"], 1, "{}", run.stdout);
        let ev = w.notes_event(&uid).await.unwrap();
        assert_eq!(ev["summary"], "Board meeting (moved room)");
        assert_eq!(ev["location"], "Room 9");
        assert_eq!(ev["organizer"]["email"], "demo@example.com", "{ev}");
        assert_eq!(s(&ev, "categories"), "Projects", "{ev}");
        let attendees = ev["attendees"].as_array().unwrap();
        assert!(
            attendees
                .iter()
                .any(|a| a["role"] == "chair" && a["email"] == "demo@example.com"),
            "{ev}"
        );
        let duke = attendees
            .iter()
            .find(|a| a["email"] == "duke@acme.example")
            .unwrap();
        assert_eq!(
            duke["status"], "accepted",
            "an attendee's answer is kept: {ev}"
        );
        // And the next run is quiet.
        w.clear_calls().await;
        let again = w.sync(&[]).await;
        assert_eq!(again.code, 0);
        assert_eq!(w.writes().await, vec![], "{}", again.stdout);
    }
}

crate::both_backends! {
    async fn a_description_or_attendee_only_edit_in_notes_arrives_at_the_next_run(backend: Backend) {
        let w = World::with_sync_settings_on(backend, "events = \"all\"").await;
        let day = tokyo_day(3);
        let uid = w
            .notes_event_create(event(
                "Design review",
                json!({"date": day, "time": "01:00:00", "utc": true}),
                json!({"date": day, "time": "02:00:00", "utc": true}),
            ))
            .await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert_eq!(w.crm_records("Events").await.len(), 1);

        // Only the description and the attendees change: the list row (title, location, times)
        // stays the same, so only the backing document's change can tell.
        let mut ev = w.notes_event(&uid).await.unwrap();
        ev["description"] = json!("Bring the mock-ups");
        ev["attendees"] = json!([{"role": "req-participant", "status": "needs-action",
                                  "email": "kei@example.jp"}]);
        w.notes_event_put(&uid, json!({ "events": [ev] })).await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert_eq!(run.counts("events")["updated"], 1, "{}", run.stdout);
        let crm = w.crm_records("Events").await;
        assert_eq!(s(&crm[0], "Description"), "Bring the mock-ups");
        let emails: Vec<String> = crm[0]["Participants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| s(p, "Email"))
            .collect();
        assert_eq!(emails, vec!["kei@example.jp"]);

        // The edit is not echoed back, and the next run writes nothing.
        w.clear_calls().await;
        assert_eq!(w.sync(&[]).await.code, 0);
        assert_eq!(w.writes().await, vec![]);
    }
}

crate::both_backends! {
    /// A weekly series syncs as its occurrences (as DESIGN.md syncs series); an occurrence
    /// renamed in the CRM changes alone in Notes, one deleted there goes alone, and the series
    /// keeps the rest.
    async fn occurrences_of_a_series_sync_change_and_go_one_by_one(backend: Backend) {
        let w = World::with_sync_settings_on(backend, "events = \"all\"").await;
        w.notes_event_create(json!({"events": [{"summary": "Weekly sync",
            "start": {"date": "2027-04-05", "time": "01:00:00", "utc": true},
            "end": {"date": "2027-04-05", "time": "02:00:00", "utc": true},
            "recurrenceRule": "FREQ=WEEKLY;COUNT=4"}]}))
            .await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert_eq!(run.counts("events")["created"], 4, "{}", run.stdout);
        let mut crm = w.crm_records("Events").await;
        crm.sort_by_key(|e| s(e, "Start_DateTime"));
        assert_eq!(crm.len(), 4);
        assert!(crm.iter().all(|e| s(e, "Event_Title") == "Weekly sync"));

        // In the CRM: the second occurrence renamed, the third deleted.
        w.crm_update_in("Events", &s(&crm[1], "id"), json!({"Event_Title": "Weekly sync (room 2)"}))
            .await;
        w.crm_delete_in("Events", &s(&crm[2], "id")).await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let c = run.counts("events");
        assert_eq!((c["updated"].as_u64(), c["deleted"].as_u64()), (Some(1), Some(1)), "{c}");
        let rows = w
            .notes_event_rows("2027-04-01T00:00:00Z", "2027-05-01T00:00:00Z")
            .await;
        let days: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r["start"]["date"].as_str().unwrap_or("").to_owned(), s(r, "summary")))
            .collect();
        assert_eq!(
            days,
            [
                ("2027-04-05".to_owned(), "Weekly sync".to_owned()),
                ("2027-04-12".to_owned(), "Weekly sync (room 2)".to_owned()),
                ("2027-04-26".to_owned(), "Weekly sync".to_owned()),
            ],
            "{rows:?}"
        );
        w.clear_calls().await;
        assert_eq!(w.sync(&[]).await.code, 0);
        assert_eq!(w.writes().await, vec![], "the run after wrote");
        assert_eq!(w.crm_records("Events").await.len(), 3);
    }
}
