//! A user who synced through Domino Access Services switches to the Domino REST API on the
//! same mail file, and back: cross-IDs are the same items through both APIs (`ZohoCRMId`,
//! `Notes_UNID` naming the replica), so no record is duplicated or lost, a run after the switch
//! writes nothing that did not change, and changes keep flowing both ways.
//!
//! Two ways to switch: `api = "rest"` with the REST API's URL (a new profile in the store, so
//! the first REST run relinks everything by cross-ID), and `api = "auto"` with `rest_url`
//! (the profile stays, so the links carry over).

use serde_json::json;

use crate::world::{Backend, World, s};

fn person(first: &str, last: &str, email: &str) -> serde_json::Value {
    json!({"FirstName": first, "LastName": last, "MailAddress": email, "Type": "Person"})
}

fn task(subject: &str, due: &str) -> serde_json::Value {
    json!({"Subject": subject, "DueDateTime": {"type": "datetime", "data": due}, "Importance": "2"})
}

/// Counts of both sides: (Notes contacts, CRM contacts, Notes to-dos, CRM to-dos).
async fn sizes(w: &World) -> (usize, usize, usize, usize) {
    (
        w.notes_contacts().await.len(),
        w.crm_contacts().await.len(),
        w.notes_docs("Task").await.len(),
        w.crm_records("Tasks").await.len(),
    )
}

/// Every Notes contact's `ZohoCRMId` names a CRM contact whose `Notes_UNID` names it back;
/// no e-mail twice on either side.
async fn linked_once(w: &World) {
    let notes = w.notes_contacts().await;
    let crm = w.crm_contacts().await;
    let mut emails: Vec<String> = crm.iter().map(|r| s(r, "Email").to_lowercase()).collect();
    emails.sort();
    let n = emails.len();
    emails.dedup();
    assert_eq!(emails.len(), n, "a CRM contact is duplicated: {emails:?}");
    for (unid, d) in &notes {
        let zid = s(d, "ZohoCRMId");
        let twin = crm
            .iter()
            .find(|r| s(r, "id") == zid)
            .unwrap_or_else(|| panic!("Notes {unid} names {zid:?}, which is missing"));
        assert!(s(twin, "Notes_UNID").ends_with(unid.as_str()), "{twin}");
    }
}

async fn set_up(w: &World) -> String {
    let anna = w
        .notes_create(person("Anna", "Alder", "anna@example.com"))
        .await;
    w.notes_create(person("Ben", "Birch", "ben@example.com"))
        .await;
    w.notes_create(person("Sam", "Shared", "sam@example.com"))
        .await;
    w.crm_create(json!({"First_Name": "Chika", "Last_Name": "Cedar", "Email": "chika@example.jp"}))
        .await;
    w.crm_create(json!({"Last_Name": "Shared", "Email": "SAM@example.com"}))
        .await;
    w.notes_create_form("Task", task("Call Anna", "2026-12-01T03:00:00Z"))
        .await;
    w.crm_create_in(
        "Tasks",
        json!({"Subject": "Send offer", "Due_Date": "2026-12-02", "Priority": "High"}),
    )
    .await;
    anna
}

/// `api = "rest"` on a new profile: the first REST run links every pair by its cross-ID and
/// creates, deletes or changes nothing; the next writes nothing; edits flow both ways; and
/// switching back to DAS duplicates nothing either.
#[tokio::test(flavor = "multi_thread")]
async fn switching_to_the_rest_api_and_back_duplicates_nothing() {
    let mut w = World::on(Backend::Das).await;
    let anna = set_up(&w).await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let before = sizes(&w).await;
    assert_eq!(before, (4, 4, 2, 2), "the DAS run converged");

    w.switch_to(Backend::Rest);
    w.clear_calls().await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for module in ["contacts", "tasks"] {
        let c = run.counts(module);
        for k in ["created", "deleted", "errors", "conflicts"] {
            assert_eq!(c[k], 0, "{module} {k}: {c}");
        }
    }
    assert_eq!(sizes(&w).await, before, "nothing duplicated or lost");
    linked_once(&w).await;
    // The REST run went through the REST API only.
    assert!(w.calls(&w.sims.domino_url).await.is_empty());
    assert!(!w.calls(&w.sims.drapi_url).await.is_empty());

    w.clear_calls().await;
    let again = w.sync(&[]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(w.writes().await, vec![], "the second REST run wrote");

    // Edits on both sides flow through the REST API.
    w.notes_patch(&anna, json!({"JobTitle": "Buyer"})).await;
    let chika = w
        .crm_contacts()
        .await
        .into_iter()
        .find(|r| s(r, "Email") == "chika@example.jp")
        .unwrap();
    w.crm_update(chika["id"].as_str().unwrap(), json!({"Title": "Director"}))
        .await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.counts("contacts")["updated"], 2, "{}", run.stdout);
    let crm_anna = w
        .crm_contacts()
        .await
        .into_iter()
        .find(|r| s(r, "Email") == "anna@example.com")
        .unwrap();
    assert_eq!(s(&crm_anna, "Title"), "Buyer");
    let notes_chika = w
        .notes_contacts()
        .await
        .into_iter()
        .find(|(_, d)| s(d, "MailAddress") == "chika@example.jp")
        .unwrap();
    assert_eq!(s(&notes_chika.1, "JobTitle"), "Director");

    // And back to DAS (its profile remembers the links of before the switch).
    w.switch_to(Backend::Das);
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.counts("contacts")["created"], 0, "{}", run.stdout);
    assert_eq!(sizes(&w).await, before);
    linked_once(&w).await;
    w.clear_calls().await;
    assert_eq!(w.sync(&[]).await.code, 0);
    assert_eq!(
        w.writes().await,
        vec![],
        "the DAS run after switching back wrote"
    );
}

/// `api = "auto"` with `rest_url`: the profile is the DAS one, so the links carry over and the
/// first run through the REST API (which answers, so it is chosen) writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn auto_prefers_the_rest_api_and_keeps_the_links() {
    let w = World::on(Backend::Das).await;
    set_up(&w).await;
    assert_eq!(w.sync(&[]).await.code, 0);
    let before = sizes(&w).await;
    let text = std::fs::read_to_string(&w.config).unwrap();
    let auto = text.replace(
        &format!("url = \"{}\"\n", w.sims.domino_url),
        &format!(
            "url = \"{}\"\napi = \"auto\"\nrest_url = \"{}\"\n",
            w.sims.domino_url, w.sims.drapi_url
        ),
    );
    assert_ne!(auto, text);
    std::fs::write(&w.config, auto).unwrap();
    w.clear_calls().await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(w.writes().await, vec![], "the first REST run wrote");
    assert_eq!(sizes(&w).await, before);
    assert!(
        w.calls(&w.sims.domino_url).await.is_empty(),
        "auto chose DAS although the REST API answers"
    );
    let logins = w
        .calls(&w.sims.drapi_url)
        .await
        .into_iter()
        .filter(|(m, p, _)| m == "POST" && p == "/api/v1/auth")
        .count();
    assert_eq!(logins, 1, "settling `auto` and the run share one login");

    // The REST API switched off (nothing answers at its URL): `auto` falls back to DAS.
    let text = std::fs::read_to_string(&w.config).unwrap();
    std::fs::write(
        &w.config,
        text.replace(&w.sims.drapi_url, "http://127.0.0.1:9"),
    )
    .unwrap();
    w.clear_calls().await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        !w.calls(&w.sims.domino_url).await.is_empty(),
        "DAS was not used"
    );
    assert_eq!(sizes(&w).await, before);
}

/// Events, which each API keys its own way, are neither duplicated nor deleted when `auto`
/// moves a user from DAS to the REST API and back: the first run after each switch links them
/// again by title and start, and the run after it writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn events_link_again_after_a_switch_without_duplicates() {
    let w = World::with_sync_settings_on(Backend::Das, "events = \"all\"").await;
    let timed = |summary: &str, date: &str| {
        json!({"events": [{"summary": summary,
            "start": {"date": date, "time": "01:00:00", "utc": true},
            "end": {"date": date, "time": "02:00:00", "utc": true}}]})
    };
    w.notes_event_create(timed("Design review", "2027-03-03"))
        .await;
    w.notes_event_create(json!({"events": [{"summary": "Offsite",
        "start": {"date": "2027-03-08"}, "end": {"date": "2027-03-10"}}]}))
        .await;
    w.crm_create_in(
        "Events",
        json!({"Event_Title": "Customer call", "Start_DateTime": "2027-03-04T10:00:00+09:00",
               "End_DateTime": "2027-03-04T11:00:00+09:00", "All_day": false}),
    )
    .await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let rows = || async {
        w.notes_event_rows("2027-03-01T00:00:00Z", "2027-03-31T00:00:00Z")
            .await
            .len()
    };
    let (notes, crm) = (rows().await, w.crm_records("Events").await.len());
    assert_eq!((notes, crm), (3, 3));

    let das = std::fs::read_to_string(&w.config).unwrap();
    let auto = |rest_url: &str| {
        das.replace(
            &format!("url = \"{}\"\n", w.sims.domino_url),
            &format!(
                "url = \"{}\"\napi = \"auto\"\nrest_url = \"{rest_url}\"\n",
                w.sims.domino_url
            ),
        )
    };
    // To the REST API (it answers), then back to DAS (nothing answers at `rest_url`).
    for (to, rest_url) in [
        ("REST", w.sims.drapi_url.clone()),
        ("DAS", "http://127.0.0.1:9".into()),
    ] {
        std::fs::write(&w.config, auto(&rest_url)).unwrap();
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "to {to}: {}\n{}", run.stdout, run.stderr);
        let c = run.counts("events");
        for k in ["created", "deleted", "errors"] {
            assert_eq!(c[k], 0, "to {to}: events {k}: {c}");
        }
        assert_eq!(
            (rows().await, w.crm_records("Events").await.len()),
            (notes, crm),
            "to {to}: an event was duplicated or lost"
        );
        w.clear_calls().await;
        let again = w.sync(&[]).await;
        assert_eq!(again.code, 0, "{}", again.stderr);
        assert_eq!(
            w.writes().await,
            vec![],
            "to {to}: the run after the switch wrote"
        );
    }
}
