//! Honest outcomes from the command line: a module that fails in the middle of a run is
//! "failed" in the text report and in the JSON, a module the failure kept from running says so
//! and why, the run never reads "completed", and `nzsync sync` exits 2 (it ran, but not
//! everything synced) as the README promises; a run in which nothing could run exits 1.

use serde_json::{Value, json};

use crate::world::{DB, Run, World};

fn module<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

fn title(run: &Run) -> &str {
    run.stdout.lines().next().unwrap_or_default()
}

async fn seed(w: &World) {
    w.notes_create(
        json!({"FirstName": "Ada", "LastName": "Alder", "MailAddress": "ada@example.com"}),
    )
    .await;
    w.notes_create_form(
        "Task",
        json!({"Subject": "Send the quote", "DueDateTime": {"type": "datetime", "data": "2027-01-20T03:00:00Z"}}),
    )
    .await;
    w.notes_event_create(json!({"events": [{"summary": "Planning",
        "start": {"date": "2027-01-15", "time": "01:00:00", "utc": true},
        "end": {"date": "2027-01-15", "time": "02:00:00", "utc": true}}]}))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_module_refused_in_the_middle_fails_the_rest_do_not_run_and_the_exit_code_is_2() {
    let w = World::with_sync_settings("events = \"all\"").await;
    seed(&w).await;

    // The to-do view refuses DAS: contacts sync, then the run stops at to-dos.
    w.sim_control(
        &w.sims.domino_url,
        "/_sim/config",
        json!({ "databases": { DB: { "views": { "($ToDo)": { "das": false } } } } }),
    )
    .await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 2, "a partial run: {}\n{}", run.stdout, run.stderr);
    let report = run.report();
    assert_eq!(report["outcome"], "partial", "{report}");
    let contacts = module(&report, "contacts");
    assert_eq!(contacts["status"], "completed");
    assert_eq!(contacts["counts"]["created"], 1);
    let tasks = module(&report, "tasks");
    assert_eq!(tasks["status"], "failed", "{report}");
    assert!(
        tasks["message"]
            .as_str()
            .unwrap()
            .contains("not enabled for this view [($ToDo)]"),
        "{tasks}"
    );
    let events = module(&report, "events");
    assert_eq!(events["status"], "not_run", "{report}");
    assert!(
        events["message"]
            .as_str()
            .unwrap()
            .contains("did not run: the sync stopped when to-dos failed"),
        "{events}"
    );
    assert_eq!(w.crm_contacts().await.len(), 1, "the contacts were synced");
    assert!(w.crm_records("Tasks").await.is_empty());
    assert!(w.crm_records("Events").await.is_empty());

    // The text report says the same, and never "completed" for the run.
    let text = w.nzsync(&["sync"]).await;
    assert_eq!(text.code, 2, "{}", text.stdout);
    assert!(
        title(&text).starts_with("Sync report: incomplete (failed: to-dos; did not run: events)"),
        "{}",
        text.stdout
    );
    assert!(!title(&text).contains("completed"), "{}", text.stdout);
    assert!(
        text.stdout.contains("\nto-dos: failed — "),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("\nevents: did not run — "),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("\ncontacts: completed — "));

    // Back on: everything syncs and the run completes.
    w.sim_control(
        &w.sims.domino_url,
        "/_sim/config",
        json!({ "databases": { DB: { "views": { "($ToDo)": { "das": true } } } } }),
    )
    .await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.report()["outcome"], "completed");
    assert_eq!(w.crm_records("Tasks").await.len(), 1);
    assert_eq!(w.crm_records("Events").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_module_failing_on_server_errors_is_failed_while_the_others_complete() {
    let w = World::with_sync_settings("events = \"all\"").await;
    seed(&w).await;
    // Every read of the to-do view fails with a server error (after the engine's retries).
    w.sim_control(
        &w.sims.domino_url,
        "/_sim/faults",
        json!({ "rules": [{ "kind": "status", "status": 500,
            "path_prefix": "/mail/demo.nsf/api/data/collections/name/%28%24ToDo%29" }] }),
    )
    .await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let report = run.report();
    assert_eq!(report["outcome"], "partial");
    assert_eq!(module(&report, "contacts")["status"], "completed");
    assert_eq!(module(&report, "events")["status"], "completed");
    let tasks = module(&report, "tasks");
    assert_eq!(tasks["status"], "failed", "{report}");
    assert!(
        tasks["message"].as_str().unwrap().contains("HTTP 500"),
        "{tasks}"
    );
    assert_eq!(w.crm_records("Events").await.len(), 1);
    assert!(w.crm_records("Tasks").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_where_nothing_could_run_fails_with_exit_1() {
    let w = World::with_sync_settings("events = \"all\"").await;
    seed(&w).await;
    // No Domino Access Services at all: the first module is refused, the run stops.
    w.sim_control(
        &w.sims.domino_url,
        "/_sim/config",
        json!({ "enabled_services": [] }),
    )
    .await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report = run.report();
    assert_eq!(report["outcome"], "failed");
    assert_eq!(module(&report, "contacts")["status"], "failed");
    assert_eq!(module(&report, "tasks")["status"], "not_run");
    assert_eq!(module(&report, "events")["status"], "not_run");
    assert!(
        run.stderr.contains("Enabled services"),
        "the error names the admin step: {}",
        run.stderr
    );
    assert!(w.crm_contacts().await.is_empty());
}
