//! `nzsync uninstall` (F9) for a headless config: every stored row goes, and with
//! `--delete-crm-records` the CRM records the sync created go first — only those.

use serde_json::json;

use crate::world::{World, s};

fn contact(first: &str, email: &str) -> serde_json::Value {
    json!({"FirstName": first, "LastName": "Uninstall", "MailAddress": email})
}

fn crm_contact(first: &str, email: &str) -> serde_json::Value {
    json!({"First_Name": first, "Last_Name": "Uninstall", "Email": email})
}

/// (links, runs, created-record ids) the world's store holds for its profile.
async fn stored(w: &World) -> (usize, usize, usize) {
    let profile = nzsync::config::Config::load(&w.config).unwrap().profile();
    let store = nzsync::store::Store::open(&w.dir.path().join("state.db")).unwrap();
    let mut db = store.conn().await.unwrap();
    let links = db
        .load_state(&profile)
        .await
        .unwrap()
        .modules
        .values()
        .map(|m| m.links.len())
        .sum();
    let runs = db.runs(&profile, 1000).await.unwrap().len();
    let created = db.created(&profile).await.unwrap().len();
    (links, runs, created)
}

#[tokio::test(flavor = "multi_thread")]
async fn uninstall_deletes_only_the_crm_records_the_sync_created_then_every_stored_row() {
    let w = World::new().await;
    w.notes_create(contact("Ann", "ann@example.com")).await;
    w.notes_create(contact("Bob", "bob@example.com")).await;
    w.notes_create(contact("Dan", "dan@example.com")).await;
    w.crm_create(crm_contact("Cat", "cat@example.com")).await;
    // Dan exists on both sides: matched at first sync, so not "created by the sync".
    w.crm_create(crm_contact("Dan", "dan@example.com")).await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(w.crm_contacts().await.len(), 4);
    assert_eq!(stored(&w).await, (4, 1, 2));

    // Bob's CRM copy was deleted by hand since: nothing left to do for it.
    let bob = w
        .crm_contacts()
        .await
        .into_iter()
        .find(|c| s(c, "First_Name") == "Bob")
        .unwrap();
    w.crm_delete(&s(&bob, "id")).await;

    let refused = w.nzsync(&["uninstall", "--delete-crm-records"]).await;
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("--yes")
            && refused
                .stderr
                .contains("CRM records the integration created"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        w.crm_contacts().await.len(),
        3,
        "nothing happens without --yes"
    );

    let run = w
        .nzsync(&["uninstall", "--delete-crm-records", "--yes"])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("deleted 2 CRM records"),
        "{}",
        run.stdout
    );
    let mut left: Vec<String> = w
        .crm_contacts()
        .await
        .iter()
        .map(|c| s(c, "First_Name"))
        .collect();
    left.sort();
    assert_eq!(left, ["Cat", "Dan"]);
    // Nothing in Notes is touched.
    assert_eq!(w.notes_contacts().await.len(), 4);
    assert_eq!(stored(&w).await, (0, 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn uninstall_keeps_everything_when_crm_records_cannot_be_deleted() {
    let w = World::new().await;
    w.notes_create(contact("Eve", "eve@example.com")).await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(stored(&w).await, (1, 1, 1));

    // Zoho refuses every delete for now.
    let rules = json!({"rules": [{"kind": "status", "status": 500, "method": "DELETE", "path_prefix": "/crm/", "times": 100}]});
    reqwest::Client::new()
        .post(format!("{}/_sim/faults", w.sims.zoho_url))
        .json(&rules)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let run = w
        .nzsync(&["uninstall", "--delete-crm-records", "--yes"])
        .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("run the same command again"),
        "{}",
        run.stderr
    );
    assert_eq!(
        stored(&w).await,
        (1, 1, 1),
        "nothing removed while records are left"
    );
    assert_eq!(w.crm_contacts().await.len(), 1);

    // Zoho is back: the retry finishes the job.
    reqwest::Client::new()
        .delete(format!("{}/_sim/faults", w.sims.zoho_url))
        .send()
        .await
        .unwrap();
    let run = w
        .nzsync(&["uninstall", "--delete-crm-records", "--yes"])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(w.crm_contacts().await.is_empty());
    assert_eq!(stored(&w).await, (0, 0, 0));
}

/// A run that creates more CRM records than its report lists (1,000 rows of a kind): the
/// uninstall still deletes every one of them, for the store remembers each create as the sync
/// makes it, not from the report.
#[tokio::test(flavor = "multi_thread")]
async fn uninstall_deletes_every_record_the_sync_created_past_the_reports_listing() {
    let w = World::new().await;
    let n = 1_030;
    for i in 0..n {
        w.notes_create(contact(&format!("P{i:04}"), &format!("p{i}@example.com")))
            .await;
    }
    w.crm_create(crm_contact("Cat", "cat@example.com")).await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.report();
    let contacts = &report["modules"][0];
    // 1,030 created in the CRM and Cat in Notes; the report lists 1,000 of them.
    assert_eq!(contacts["counts"]["created"], n + 1, "{contacts}");
    let listed = contacts["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["verdict"] == "created")
        .count();
    assert_eq!(listed, 1_000);
    assert_eq!(contacts["omitted"], n + 1 - 1_000);
    assert_eq!(stored(&w).await, (n + 1, 1, n));

    let run = w
        .nzsync(&["uninstall", "--delete-crm-records", "--yes"])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!("deleted {n} CRM records")),
        "{}",
        run.stdout
    );
    let left: Vec<String> = w
        .crm_contacts()
        .await
        .iter()
        .map(|c| s(c, "First_Name"))
        .collect();
    assert_eq!(left, ["Cat"]);
    assert_eq!(w.notes_contacts().await.len(), n + 1);
    assert_eq!(stored(&w).await, (0, 0, 0));
}
