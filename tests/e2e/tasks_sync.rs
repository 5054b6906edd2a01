//! To-dos end to end: Notes `Task` documents ↔ Zoho `Tasks`, with due dates as days in the
//! user's time zone (the demo Zoho user is in Asia/Tokyo), priorities and completion.

use serde_json::json;

use crate::world::{World, s};

fn notes_task(subject: &str, due_utc: &str, importance: &str) -> serde_json::Value {
    json!({"Subject": subject, "DueDateTime": {"type": "datetime", "data": due_utc}, "Importance": importance})
}

crate::both_backends! {
    async fn todos_sync_both_ways_with_days_priorities_and_completion(backend: Backend) {
        let w = World::on(backend).await;
        // 20:00 UTC on the 25th is already the 26th in Tokyo: the CRM due date must be the 26th.
        let u = w
            .notes_create_form(
                "Task",
                notes_task("Send the quote", "2026-11-25T20:00:00Z", "1"),
            )
            .await;
        let z = w.crm_create_in("Tasks", json!({"Subject": "Call Aiko back", "Due_Date": "2026-12-02", "Priority": "Low", "Status": "Not Started"})).await;
        // The same to-do on both sides (subject + due date) is matched, not duplicated.
        w.notes_create_form(
            "Task",
            notes_task("Renew contract", "2026-12-10T03:00:00Z", "2"),
        )
        .await;
        w.crm_create_in(
            "Tasks",
            json!({"Subject": "renew contract", "Due_Date": "2026-12-10", "Priority": "Normal"}),
        )
        .await;

        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let counts = run.counts("tasks");
        assert_eq!(
            (counts["created"].as_u64(), counts["linked"].as_u64()),
            (Some(2), Some(1)),
            "{counts}"
        );

        let crm = w.crm_records("Tasks").await;
        assert_eq!(crm.len(), 3, "{crm:?}");
        let quote = crm
            .iter()
            .find(|t| s(t, "Subject") == "Send the quote")
            .unwrap();
        assert_eq!(s(quote, "Due_Date"), "2026-11-26");
        assert_eq!(s(quote, "Priority"), "High");
        assert_eq!(crate::world::xref_key(quote), u);
        let notes = w.notes_docs("Task").await;
        assert_eq!(notes.len(), 3);
        let call = notes
            .iter()
            .find(|(_, d)| s(d, "Subject") == "Call Aiko back")
            .unwrap();
        assert_eq!(s(&call.1, "Importance"), "3");
        assert_eq!(s(&call.1, "ZohoCRMId"), z);

        // A second run writes nothing.
        w.clear_calls().await;
        assert_eq!(w.sync(&[]).await.code, 0);
        assert_eq!(w.writes().await, vec![], "second run wrote");

        // Completing in CRM completes in Notes; re-prioritising in Notes reaches CRM.
        w.crm_update_in("Tasks", &z, json!({"Status": "Completed"}))
            .await;
        w.notes_patch(&u, json!({"Importance": "3"})).await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.counts("tasks")["updated"], 2, "{}", run.stdout);
        let notes = w.notes_docs("Task").await;
        let call = notes
            .iter()
            .find(|(_, d)| s(d, "Subject") == "Call Aiko back")
            .unwrap();
        assert!(!s(&call.1, "CompletedDateTime").is_empty(), "{:?}", call.1);
        let crm = w.crm_records("Tasks").await;
        let quote = crm
            .iter()
            .find(|t| s(t, "Subject") == "Send the quote")
            .unwrap();
        assert_eq!(s(quote, "Priority"), "Low");
        assert_ne!(s(quote, "Status"), "Completed", "completion untouched");
    }
}

crate::both_backends! {
    async fn todo_without_subject_gets_the_stated_placeholder_in_crm_only(backend: Backend) {
        let w = World::on(backend).await;
        w.notes_create_form(
            "Task",
            json!({"Body": "no subject here", "Importance": "2"}),
        )
        .await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}", run.stdout);
        let crm = w.crm_records("Tasks").await;
        assert_eq!(s(&crm[0], "Subject"), "(none)");
        // The placeholder never travels back to Notes, and nothing ping-pongs.
        w.clear_calls().await;
        assert_eq!(w.sync(&[]).await.code, 0);
        assert_eq!(w.writes().await, vec![]);
        let notes = w.notes_docs("Task").await;
        assert_eq!(s(&notes[0].1, "Subject"), "");
    }
}
