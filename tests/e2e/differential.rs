//! Differential test: the same scenario through native sync-core (driven in-process) and
//! through the sync-core component under wasmtime (`nzsync sync`), on two identical simulator
//! worlds, must give identical plans (every report entry: verdict, reason, writes, fields,
//! conflicts), identical request counts and identical data on both sides.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sync_core::SyncState;

use crate::engine_faults::{Harness, Rng};
use crate::world::{World, s};

/// Creates the same data in a world (through the real APIs).
pub(crate) async fn populate(w: &World) {
    w.notes_create(json!({"FirstName": "Ada", "LastName": "Alder", "MailAddress": "ada@x.example", "JobTitle": "CFO"})).await;
    w.notes_create(json!({"FirstName": "Bo", "LastName": "Birch", "MailAddress": "bo@x.example", "OfficePhoneNumber": "1"})).await;
    w.crm_create(json!({"First_Name": "Bo", "Last_Name": "Birch", "Email": "BO@x.example", "Phone": "2", "Title": "Buyer"})).await;
    w.crm_create(json!({"First_Name": "Cy", "Last_Name": "Cedar", "Email": "cy@x.example"}))
        .await;
    w.notes_create_form("Task", json!({"Subject": "Send offer", "DueDateTime": {"type": "datetime", "data": "2026-12-03T02:00:00Z"}, "Importance": "1"})).await;
    w.crm_create_in(
        "Tasks",
        json!({"Subject": "Call Cy", "Due_Date": "2026-12-04", "Priority": "Low"}),
    )
    .await;
    w.notes_event_create(json!({"events": [{"summary": "Review", "start": {"date": "2027-01-15", "time": "01:00:00", "utc": true}, "end": {"date": "2027-01-15", "time": "02:00:00", "utc": true}}]})).await;
    w.crm_create_in("Events", json!({"Event_Title": "Lunch", "Start_DateTime": "2027-01-16T12:00:00+09:00", "End_DateTime": "2027-01-16T13:00:00+09:00", "All_day": false})).await;
}

/// Edits the same records in a world (found by content, since ids differ between worlds).
async fn edit(w: &World) {
    let ada = w
        .notes_contacts()
        .await
        .into_iter()
        .find(|(_, d)| s(d, "MailAddress") == "ada@x.example")
        .unwrap()
        .0;
    w.notes_patch(&ada, json!({"JobTitle": "CEO", "OfficeCity": "Kyoto"}))
        .await;
    let cy = w
        .crm_contacts()
        .await
        .into_iter()
        .find(|r| s(r, "Email") == "cy@x.example")
        .unwrap();
    w.crm_update(&s(&cy, "id"), json!({"Title": "Owner", "JobTitle": null}))
        .await;
    // The same field on both sides: a conflict.
    let bo_n = w
        .notes_contacts()
        .await
        .into_iter()
        .find(|(_, d)| s(d, "MailAddress").eq_ignore_ascii_case("bo@x.example"))
        .unwrap()
        .0;
    w.notes_patch(&bo_n, json!({"Department": "Notes side"}))
        .await;
    let bo_c = w
        .crm_contacts()
        .await
        .into_iter()
        .find(|r| s(r, "Email").eq_ignore_ascii_case("bo@x.example"))
        .unwrap();
    w.crm_update(&s(&bo_c, "id"), json!({"Department": "CRM side"}))
        .await;
}

/// The report with ids and times left out, entries sorted.
fn plan_view(report: &Value) -> Value {
    let modules: Vec<Value> = report["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let mut entries: Vec<Value> = m["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| json!([e["verdict"], e["label"], e["reason"], e["notes"], e["crm"], e["fields"], e["conflicts"], e["error"]]))
                .collect();
            entries.sort_by_key(Value::to_string);
            json!({"module": m["module"], "status": m["status"], "message": m["message"], "counts": m["counts"], "entries": entries})
        })
        .collect();
    json!({"outcome": report["outcome"], "requests": report["requests"], "modules": modules})
}

/// Both sides' data by content, ids left out.
async fn data_view(w: &World) -> Value {
    let contacts: BTreeMap<String, Value> = w
        .notes_contacts()
        .await
        .into_iter()
        .map(|(_, d)| {
            (
                s(&d, "MailAddress").to_lowercase(),
                json!([
                    s(&d, "LastName"),
                    s(&d, "JobTitle"),
                    s(&d, "OfficePhoneNumber"),
                    s(&d, "Department"),
                    s(&d, "OfficeCity")
                ]),
            )
        })
        .collect();
    let crm: BTreeMap<String, Value> = w
        .crm_contacts()
        .await
        .into_iter()
        .map(|r| {
            (
                s(&r, "Email").to_lowercase(),
                json!([
                    s(&r, "Last_Name"),
                    s(&r, "Title"),
                    s(&r, "Phone"),
                    s(&r, "Department"),
                    s(&r, "Mailing_City")
                ]),
            )
        })
        .collect();
    let tasks: BTreeMap<String, Value> = w
        .crm_records("Tasks")
        .await
        .into_iter()
        .map(|t| {
            (
                s(&t, "Subject"),
                json!([s(&t, "Due_Date"), s(&t, "Priority")]),
            )
        })
        .collect();
    let events: BTreeMap<String, Value> = w
        .crm_records("Events")
        .await
        .into_iter()
        .map(|e| {
            (
                s(&e, "Event_Title"),
                json!(
                    sync_core::Timestamp::parse_iso(&s(&e, "Start_DateTime")).map(|t| t.to_das())
                ),
            )
        })
        .collect();
    let notes_tasks: BTreeMap<String, String> = w
        .notes_docs("Task")
        .await
        .into_iter()
        .map(|(_, d)| (s(&d, "Subject"), s(&d, "Importance")))
        .collect();
    json!({"notes_contacts": contacts, "crm_contacts": crm, "crm_tasks": tasks, "crm_events": events, "notes_tasks": notes_tasks})
}

#[tokio::test(flavor = "multi_thread")]
async fn native_engine_and_wasm_component_plan_and_write_identically() {
    let native = World::with_sync_settings("events = \"all\"").await;
    let wasm = World::with_sync_settings("events = \"all\"").await;
    for w in [&native, &wasm] {
        populate(w).await;
    }
    // Exactly the engine config `nzsync sync` builds from the same file.
    let config = nzsync::config::Config::load(&native.config)
        .unwrap()
        .engine_config(false, false);
    let h = Harness {
        w: &native,
        http: reqwest::Client::new(),
        token: native.token().to_owned(),
        drapi_token: None,
        settings: config.settings.clone(),
    };
    let mut state = SyncState::default();
    let mut rng = Rng(1);
    for round in ["first sync", "after edits", "nothing changed"] {
        if round == "after edits" {
            edit(&native).await;
            edit(&wasm).await;
        }
        let n = h
            .run_with(config.clone(), &mut state, &mut rng, 0, None)
            .await
            .unwrap();
        let n = serde_json::to_value(&n).unwrap();
        let run = wasm.sync(&[]).await;
        assert_eq!(run.code, 0, "{round}: {}\n{}", run.stdout, run.stderr);
        let c = run.report();
        assert_eq!(
            plan_view(&n),
            plan_view(&c),
            "{round}: native and component plans differ"
        );
        assert_eq!(
            data_view(&native).await,
            data_view(&wasm).await,
            "{round}: the worlds differ"
        );
    }
}
