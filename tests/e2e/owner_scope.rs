//! Owner scope (`DESIGN.md` §4.3): several users of one org, each syncing their own mail file
//! with their own Zoho token, on one pair of simulators. After every round no user's Notes holds
//! another user's records, no cross-ID names a foreign mail file, and each user's own data
//! converged; a record reassigned from one owner to the other moves without a duplicate and
//! without loss; records of a CRM user who never connects appear nowhere.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::world::{World, s};

/// The Zoho user ids of the simulator's org (`tests/simulators/src/zoho/seed.rs`).
const DEMO_ID: &str = "5725767000000411001";
const USER2_ID: &str = "5725767000000411005";

/// Runs `nzsync sync` as the world's user; the run must complete.
async fn sync_ok(w: &World) -> Value {
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}: {}\n{}", w.user, run.stdout, run.stderr);
    run.report()
}

/// Reassigns a Zoho record to `owner` (an update of `Owner`, as a CRM manager would).
async fn reassign(by: &World, module: &str, id: &str, owner: &str) {
    by.crm_update_in(module, id, json!({ "Owner": { "id": owner } }))
        .await;
}

/// Every rule of owner scope, checked on the simulators' data:
/// - what a user's mail file names (`ZohoCRMId`, events' cross-ID) is a record they own;
/// - a Zoho record's cross-ID names its owner's mail file (or nothing), so records of a user
///   who never connects carry none.
///
/// `kept` are Zoho ids a user's Notes may still name after they left the user's scope: copies
/// changed in Notes, unlinked and kept (the rule says so), named so they are never created in
/// CRM again.
async fn assert_scoped(users: &[&World], kept: &[&str]) {
    let mut replica = BTreeMap::new();
    for u in users {
        replica.insert(u.zoho_user.clone(), u.replica_id().await);
    }
    let mut owner_of: BTreeMap<String, String> = BTreeMap::new();
    for module in ["Contacts", "Tasks", "Events"] {
        for r in users[0].crm_records(module).await {
            let owner = r["Owner"]["id"].as_str().unwrap_or("").to_owned();
            let x = s(&r, "Notes_UNID");
            if !x.is_empty() {
                let want = replica.get(&owner).unwrap_or_else(|| {
                    panic!(
                        "{module} {} of a user who never synced has cross-ID {x}",
                        s(&r, "id")
                    )
                });
                assert!(
                    x.starts_with(&format!("{want}:")),
                    "{module} {} owned by {owner} has cross-ID {x}, not naming {want}",
                    s(&r, "id")
                );
            }
            owner_of.insert(s(&r, "id"), owner);
        }
    }
    for u in users {
        for z in u.notes_zoho_ids().await {
            if kept.contains(&z.as_str()) {
                continue;
            }
            if let Some(owner) = owner_of.get(&z) {
                assert_eq!(
                    owner, &u.zoho_user,
                    "{}'s Notes holds {z}, owned by {owner}",
                    u.user
                );
            }
        }
    }
}

fn emails(docs: &[(String, Value)]) -> BTreeSet<String> {
    docs.iter()
        .map(|(_, d)| s(d, "MailAddress").to_lowercase())
        .collect()
}

/// The three steps on the demo data: `demo` syncs, `user2` syncs, `demo` syncs again,
/// then both at once, twice. Each user's Notes ends with their own records only.
#[tokio::test(flavor = "multi_thread")]
async fn each_user_syncs_only_their_own_records_in_turns_and_concurrently() {
    let (demo, user2) = World::org_with(nzsync_sim::Seed::Demo, "events = \"all\"").await;
    let org = [&demo, &user2];
    let user2_before = user2.notes_docs("Person").await.len();

    sync_ok(&demo).await;
    assert_scoped(&org, &[]).await;
    let r = sync_ok(&user2).await;
    assert_scoped(&org, &[]).await;
    // user2's Notes gained only user2's CRM contacts.
    let crm = demo.crm_records("Contacts").await;
    let user2_crm: usize = crm
        .iter()
        .filter(|c| c["Owner"]["id"] == USER2_ID && !c["Tag"].to_string().contains("Private"))
        .count();
    let user2_after = user2.notes_docs("Person").await.len();
    assert!(
        user2_after <= user2_before + user2_crm,
        "user2's contacts went from {user2_before} to {user2_after} with {user2_crm} of their own in CRM: {r}"
    );
    // The second demo run finds its links intact: nothing to link again, nothing created.
    let again = sync_ok(&demo).await;
    for m in again["modules"].as_array().unwrap() {
        assert_eq!(m["counts"]["linked"], 0, "{m}");
        assert_eq!(m["counts"]["created"], 0, "{m}");
    }
    assert_scoped(&org, &[]).await;

    for _ in 0..2 {
        let (a, b) = tokio::join!(demo.sync(&[]), user2.sync(&[]));
        assert_eq!(a.code, 0, "{}\n{}", a.stdout, a.stderr);
        assert_eq!(b.code, 0, "{}\n{}", b.stdout, b.stderr);
        assert_scoped(&org, &[]).await;
    }
    // Converged: a further run of each writes nothing.
    for w in org {
        let name = &w.user;
        let rep = sync_ok(w).await;
        for m in rep["modules"].as_array().unwrap() {
            let c = &m["counts"];
            assert_eq!(
                (
                    c["created"].as_u64(),
                    c["updated"].as_u64(),
                    c["deleted"].as_u64()
                ),
                (Some(0), Some(0), Some(0)),
                "{name}: {m}"
            );
        }
    }
}

/// A contact reassigned from `demo` to `user2` leaves demo's Notes (unchanged there) and
/// arrives in user2's, once; one that demo changed in Notes is kept there, unlinked, and not
/// created in CRM again; reassigned back, it re-links instead of duplicating.
#[tokio::test(flavor = "multi_thread")]
async fn a_reassigned_record_moves_to_its_new_owner_without_a_duplicate_or_a_loss() {
    let (demo, user2) = World::org("").await;
    let org = [&demo, &user2];
    let moved = demo
        .crm_create_in(
            "Contacts",
            json!({"First_Name": "Mori", "Last_Name": "Moved", "Email": "mori@example.jp"}),
        )
        .await;
    let edited = demo
        .crm_create_in(
            "Contacts",
            json!({"First_Name": "Eda", "Last_Name": "Edited", "Email": "eda@example.jp"}),
        )
        .await;
    user2
        .crm_create_in(
            "Contacts",
            json!({"Last_Name": "Own", "Email": "own@example.com"}),
        )
        .await;
    sync_ok(&demo).await;
    sync_ok(&user2).await;
    assert_eq!(
        emails(&demo.notes_docs("Person").await),
        BTreeSet::from(["mori@example.jp".to_owned(), "eda@example.jp".to_owned()])
    );
    assert_eq!(
        emails(&user2.notes_docs("Person").await),
        BTreeSet::from(["own@example.com".to_owned()])
    );

    // demo edits one copy in Notes; then a manager reassigns both records to user2.
    let eda_unid = demo
        .notes_docs("Person")
        .await
        .into_iter()
        .find(|(_, d)| s(d, "MailAddress") == "eda@example.jp")
        .unwrap()
        .0;
    demo.notes_patch(&eda_unid, json!({"JobTitle": "Buyer"}))
        .await;
    demo.advance_clocks(30).await;
    reassign(&demo, "Contacts", &moved, USER2_ID).await;
    reassign(&demo, "Contacts", &edited, USER2_ID).await;
    demo.advance_clocks(30).await;

    let rep = sync_ok(&demo).await;
    let text = rep.to_string();
    assert!(text.contains("left your scope"), "{text}");
    // The unchanged copy left demo's Notes; the edited one stayed, unlinked.
    assert_eq!(
        emails(&demo.notes_docs("Person").await),
        BTreeSet::from(["eda@example.jp".to_owned()])
    );
    sync_ok(&user2).await;
    assert_eq!(
        emails(&user2.notes_docs("Person").await),
        BTreeSet::from([
            "own@example.com".to_owned(),
            "mori@example.jp".to_owned(),
            "eda@example.jp".to_owned()
        ])
    );
    // Nothing was duplicated in CRM, by either run or by the next ones.
    for _ in 0..2 {
        demo.advance_clocks(30).await;
        sync_ok(&demo).await;
        sync_ok(&user2).await;
    }
    let crm = demo.crm_records("Contacts").await;
    assert_eq!(crm.len(), 3, "{crm:?}");
    assert_scoped(&org, &[&edited]).await;
    assert_eq!(
        emails(&demo.notes_docs("Person").await),
        BTreeSet::from(["eda@example.jp".to_owned()]),
        "the kept copy stays, and stays out of CRM"
    );

    // Back to demo: the kept copy re-links by its cross-ID instead of duplicating.
    reassign(&demo, "Contacts", &edited, DEMO_ID).await;
    demo.advance_clocks(30).await;
    sync_ok(&demo).await;
    sync_ok(&user2).await;
    assert_eq!(demo.crm_records("Contacts").await.len(), 3);
    assert_eq!(
        emails(&demo.notes_docs("Person").await),
        BTreeSet::from(["eda@example.jp".to_owned()])
    );
    assert_eq!(
        emails(&user2.notes_docs("Person").await),
        BTreeSet::from(["own@example.com".to_owned(), "mori@example.jp".to_owned()])
    );
    assert_scoped(&org, &[&edited]).await;
}

/// A module that follows a custom view instead of "mine": demo's contacts follow a view of
/// Tokyo contacts, whoever owns them. The view's records reach demo's Notes, the others do not;
/// a contact that leaves the view (its city changed in CRM) leaves demo's Notes; user2's cross-ID
/// on their own record in the view is left as it is by demo's sync, and reported.
#[tokio::test(flavor = "multi_thread")]
async fn a_custom_view_scope_follows_the_view() {
    let (demo, user2) = World::org("tasks = false").await;
    let leaf =
        |f: &str, c: &str, v: &str| json!({"field": {"api_name": f}, "comparator": c, "value": v});
    let view = demo
        .sim_control(
            &demo.sims.zoho_url,
            "/_sim/custom_views",
            json!({"module": "Contacts", "name": "Tokyo", "created_by": "demo@example.com",
                   "criteria": leaf("Mailing_City", "equal", "Tokyo")}),
        )
        .await;
    let cvid = view["id"].as_str().expect("view id").to_owned();
    let config = &demo.config;
    let mut text = std::fs::read_to_string(config).unwrap();
    text.push_str(&format!(
        "\n[sync.scope]\ncontacts = {{ view = \"{cvid}\" }}\n"
    ));
    std::fs::write(config, text).unwrap();

    let tokyo = demo
        .crm_create_in(
            "Contacts",
            json!({"Last_Name": "Aoki", "Email": "aoki@example.jp", "Mailing_City": "Tokyo"}),
        )
        .await;
    demo.crm_create_in(
        "Contacts",
        json!({"Last_Name": "Baba", "Email": "baba@example.jp", "Mailing_City": "Osaka"}),
    )
    .await;
    let theirs = user2
        .crm_create_in(
            "Contacts",
            json!({"Last_Name": "Chiba", "Email": "chiba@example.jp", "Mailing_City": "Tokyo"}),
        )
        .await;
    // demo (the admin, whose first run creates the Notes_UNID field), then user2 (their own
    // records: Chiba's cross-ID becomes user2's, since user2 owns it), then demo again.
    sync_ok(&demo).await;
    sync_ok(&user2).await;
    let rep = sync_ok(&demo).await;
    assert_eq!(
        emails(&demo.notes_docs("Person").await),
        BTreeSet::from(["aoki@example.jp".to_owned(), "chiba@example.jp".to_owned()]),
        "the view's records, whoever owns them: {rep}"
    );
    // user2's cross-ID on their own record is theirs: demo's sync leaves it, and says so.
    let replica2 = user2.replica_id().await;
    let chiba = demo
        .crm_records("Contacts")
        .await
        .into_iter()
        .find(|r| s(r, "id") == theirs)
        .unwrap();
    assert!(
        s(&chiba, "Notes_UNID").starts_with(&format!("{replica2}:")),
        "{chiba}"
    );
    assert!(
        rep.to_string()
            .contains("names another mail file and was left as it is"),
        "{rep}"
    );

    // Aoki moves to Osaka in CRM: out of the view, out of demo's Notes (unchanged there).
    demo.advance_clocks(30).await;
    demo.crm_update_in("Contacts", &tokyo, json!({"Mailing_City": "Osaka"}))
        .await;
    demo.advance_clocks(30).await;
    let rep = sync_ok(&demo).await;
    assert!(rep.to_string().contains("left your scope"), "{rep}");
    assert_eq!(
        emails(&demo.notes_docs("Person").await),
        BTreeSet::from(["chiba@example.jp".to_owned()])
    );
    // Nothing was created or deleted in CRM by either user.
    assert_eq!(demo.crm_records("Contacts").await.len(), 3);
}

/// A user who owns more CRM records than Zoho pages through with `page_token` (100,000; the
/// simulator's wall is lowered to 400 here) gets every one of them: the listing goes on by COQL
/// in id order past the wall. A second user's records with the same names and e-mails stay out,
/// records already in Notes are linked rather than copied, a further run writes nothing, and an
/// incremental run with more changes than the wall reads them all too.
#[tokio::test(flavor = "multi_thread")]
async fn a_user_owning_more_records_than_zoho_pages_through_gets_all_of_them() {
    let (demo, user2) = World::org("tasks = false").await;
    let zoho = demo.sims.zoho_url.clone();
    demo.sim_control(&zoho, "/_sim/config", json!({ "page_token_records": 400 }))
        .await;
    let contact = |i: usize| {
        json!({
            "First_Name": format!("Taro{i}"),
            "Last_Name": "Yamada",
            "Email": format!("taro{i}@example.jp"),
        })
    };
    let mine: Vec<Value> = (0..1000).map(contact).collect();
    let demo_ids = demo.crm_create_many("Contacts", &mine).await;
    // user2 owns contacts with the same names and e-mails.
    let theirs: Vec<Value> = (0..300).map(contact).collect();
    let user2_ids = user2.crm_create_many("Contacts", &theirs).await;
    // 30 of demo's are in demo's Notes already, by e-mail.
    for i in (0..900).step_by(30) {
        demo.notes_create(json!({
            "FirstName": format!("Taro{i}"),
            "LastName": "Yamada",
            "MailAddress": format!("taro{i}@example.jp"),
        }))
        .await;
    }
    demo.clear_calls().await;

    let report = sync_ok(&demo).await;
    let contacts = &report["modules"][0];
    assert_eq!(contacts["module"], "contacts", "{report}");
    assert_eq!(contacts["counts"]["linked"], 30, "{contacts}");
    assert_eq!(contacts["counts"]["created"], 970, "{contacts}");
    let calls = demo.calls(&zoho).await;
    let walled = calls
        .iter()
        .filter(|(m, p, st)| m == "GET" && p.ends_with("/Contacts") && *st == 400)
        .count();
    let coql = calls
        .iter()
        .filter(|(m, p, st)| m == "POST" && p.ends_with("/coql") && *st == 200)
        .count();
    assert_eq!(walled, 1, "the listing met the wall once");
    assert_eq!(
        coql, 1,
        "1,000 contacts past the wall take one COQL page: {calls:?}"
    );
    let named: BTreeSet<String> = demo.notes_zoho_ids().await.into_iter().collect();
    let want: BTreeSet<String> = demo_ids.iter().cloned().collect();
    assert_eq!(named, want, "every one of demo's contacts, once");
    assert_eq!(demo.notes_docs("Person").await.len(), 1000);
    assert!(user2_ids.iter().all(|z| !named.contains(z)));
    assert_scoped(&[&demo, &user2], &[]).await;

    // Nothing changed: nothing written.
    let again = sync_ok(&demo).await;
    let c = &again["modules"][0]["counts"];
    assert_eq!(
        (c["created"].as_u64(), c["updated"].as_u64()),
        (Some(0), Some(0)),
        "{again}"
    );

    // 450 of demo's and 20 of user2's change in CRM: more than the wall, incrementally.
    demo.advance_clocks(120).await;
    let changed: Vec<Value> = demo_ids[..450]
        .iter()
        .map(|id| json!({ "id": id, "Title": "Manager" }))
        .collect();
    for batch in changed.chunks(100) {
        let r = demo
            .zoho(reqwest::Method::PUT, "Contacts")
            .json(&json!({ "data": batch }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    for id in &user2_ids[..20] {
        user2.crm_update(id, json!({ "Title": "Director" })).await;
    }
    demo.clear_calls().await;
    let inc = sync_ok(&demo).await;
    let c = &inc["modules"][0]["counts"];
    assert_eq!(c["updated"], 450, "{inc}");
    assert_eq!(c["created"], 0, "{inc}");
    let coql = demo
        .calls(&zoho)
        .await
        .into_iter()
        .filter(|(m, p, _)| m == "POST" && p.ends_with("/coql"))
        .count();
    assert!(
        coql >= 1,
        "the incremental listing went past the wall by COQL"
    );
    let managers = demo
        .notes_contacts()
        .await
        .iter()
        .filter(|(_, d)| s(d, "JobTitle") == "Manager")
        .count();
    assert_eq!(managers, 450);
    assert!(
        demo.notes_contacts()
            .await
            .iter()
            .all(|(_, d)| s(d, "JobTitle") != "Director"),
        "user2's changes stay out of demo's Notes"
    );
    assert_scoped(&[&demo, &user2], &[]).await;

    // A custom view cannot go past the wall (COQL cannot read a view): user2's sync through one
    // fails its contacts, says why in the report and the exit code, and writes nothing.
    let view = user2
        .sim_control(
            &zoho,
            "/_sim/custom_views",
            json!({"module": "Contacts", "name": "Yamada", "created_by": "user2@example.com",
                   "criteria": {"field": {"api_name": "Last_Name"}, "comparator": "equal",
                                "value": "Yamada"}}),
        )
        .await;
    let cvid = view["id"].as_str().expect("view id").to_owned();
    user2
        .sim_control(&zoho, "/_sim/config", json!({ "page_token_records": 100 }))
        .await;
    let mut text = std::fs::read_to_string(&user2.config).unwrap();
    text.push_str(&format!(
        "\n[sync.scope]\ncontacts = {{ view = \"{cvid}\" }}\n"
    ));
    std::fs::write(&user2.config, text).unwrap();
    let run = user2.sync(&[]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report = run.report();
    let contacts = &report["modules"][0];
    assert_eq!(contacts["status"], "failed", "{report}");
    let message = contacts["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("more than the 100,000 records")
            && message.contains("custom view")
            && message.contains("PAGINATION_LIMIT_EXCEEDED"),
        "{message}"
    );
    assert!(user2.notes_docs("Person").await.is_empty());
}
