//! Contacts sync end to end: both directions, both conflict policies, deletes, cross-IDs,
//! the second run that writes nothing, dry runs and the mass-delete guard.

use serde_json::json;

use crate::world::{Backend, World, s, xref_key};

fn person(first: &str, last: &str, email: &str) -> serde_json::Value {
    json!({"FirstName": first, "LastName": last, "MailAddress": email, "OfficePhoneNumber": "+1 555 0100", "Type": "Person"})
}

fn contact(first: &str, last: &str, email: &str) -> serde_json::Value {
    json!({"First_Name": first, "Last_Name": last, "Email": email, "Phone": "+81 3 1234 5678"})
}

/// Asserts both sides hold exactly `emails` (each once), cross-linked by their cross-IDs.
async fn assert_in_step(w: &World, emails: &[&str]) {
    let notes = w.notes_contacts().await;
    let crm = w.crm_contacts().await;
    let mut ne: Vec<String> = notes
        .iter()
        .map(|(_, d)| s(d, "MailAddress").to_lowercase())
        .collect();
    let mut ce: Vec<String> = crm.iter().map(|r| s(r, "Email").to_lowercase()).collect();
    ne.sort();
    ce.sort();
    let mut want: Vec<String> = emails.iter().map(|e| e.to_lowercase()).collect();
    want.sort();
    assert_eq!(ne, want, "Notes contacts");
    assert_eq!(ce, want, "CRM contacts");
    for (unid, d) in &notes {
        let zid = s(d, "ZohoCRMId");
        let twin = crm
            .iter()
            .find(|r| s(r, "id") == zid)
            .unwrap_or_else(|| panic!("Notes {unid} names CRM {zid:?}, which is missing"));
        assert_eq!(xref_key(twin), *unid, "CRM {zid} names its Notes twin");
        for (item, field) in [
            ("LastName", "Last_Name"),
            ("FirstName", "First_Name"),
            ("OfficePhoneNumber", "Phone"),
            ("JobTitle", "Title"),
        ] {
            assert_eq!(
                s(d, item),
                s(twin, field),
                "{item} of {}",
                s(d, "MailAddress")
            );
        }
    }
}

crate::both_backends! {
    async fn two_way_sync_converges_and_a_second_run_writes_nothing(backend: Backend) {
        let w = World::on(backend).await;
        let a = w
            .notes_create(person("Anna", "Alder", "anna@example.com"))
            .await;
        let b = w
            .notes_create(person("Ben", "Birch", "ben@example.com"))
            .await;
        w.notes_create(person("Sam", "Shared", "sam@example.com"))
            .await;
        let c = w
            .crm_create(contact("Chika", "Cedar", "chika@example.jp"))
            .await;
        w.crm_create(json!({"Last_Name": "Shared", "Email": "SAM@example.com", "Title": "CTO"}))
            .await;

        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let counts = run.counts("contacts");
        assert_eq!(counts["created"], 3, "{counts}");
        assert_eq!(
            counts["linked"], 1,
            "the shared e-mail is matched, not duplicated: {counts}"
        );
        assert_in_step(
            &w,
            &[
                "anna@example.com",
                "ben@example.com",
                "sam@example.com",
                "chika@example.jp",
            ],
        )
        .await;
        // The matched pair merged: Notes gained CRM's title, CRM gained Notes's first name and phone.
        let sam = w
            .crm_contacts()
            .await
            .into_iter()
            .find(|r| s(r, "Email").eq_ignore_ascii_case("sam@example.com"))
            .unwrap();
        assert_eq!(s(&sam, "First_Name"), "Sam");
        assert_eq!(s(&sam, "Title"), "CTO");

        // The call log sees the first run's writes (so the empty log below means something).
        let first_writes = w.writes().await;
        assert!(
            first_writes
                .iter()
                .any(|(m, p, _)| w.is_notes_create(m, p)),
            "{first_writes:?}"
        );
        assert!(
            first_writes
                .iter()
                .any(|(m, p, _)| m == "POST" && p == "/crm/v8/Contacts"),
            "{first_writes:?}"
        );

        // Nothing changed: the second run writes nothing at all.
        w.clear_calls().await;
        let again = w.sync(&[]).await;
        assert_eq!(again.code, 0, "{}", again.stderr);
        assert_eq!(w.writes().await, vec![], "second run wrote");
        let c2 = again.counts("contacts");
        for k in ["created", "updated", "deleted", "conflicts", "errors"] {
            assert_eq!(c2[k], 0, "{k}: {c2}");
        }

        // Changes on both sides arrive on the other.
        w.notes_patch(
            &a,
            json!({"OfficePhoneNumber": "+1 555 9999", "JobTitle": "Buyer"}),
        )
        .await;
        w.notes_delete(&b).await;
        w.crm_update(&c, json!({"Title": "Director"})).await;
        w.crm_create(contact("Dan", "Dogwood", "dan@example.com"))
            .await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let counts = run.counts("contacts");
        assert_eq!(
            (
                counts["updated"].as_u64(),
                counts["deleted"].as_u64(),
                counts["created"].as_u64()
            ),
            (Some(2), Some(1), Some(1)),
            "{counts}"
        );
        assert_in_step(
            &w,
            &[
                "anna@example.com",
                "sam@example.com",
                "chika@example.jp",
                "dan@example.com",
            ],
        )
        .await;
        let anna = w
            .crm_contacts()
            .await
            .into_iter()
            .find(|r| s(r, "Email") == "anna@example.com")
            .unwrap();
        assert_eq!(s(&anna, "Phone"), "+1 555 9999");
        let chika = w
            .notes_contacts()
            .await
            .into_iter()
            .find(|(_, d)| s(d, "MailAddress") == "chika@example.jp")
            .unwrap();
        assert_eq!(s(&chika.1, "JobTitle"), "Director");

        w.clear_calls().await;
        assert_eq!(w.sync(&[]).await.code, 0);
        assert_eq!(w.writes().await, vec![], "third run wrote");

        // A deletion in CRM reaches Notes.
        let dan = w
            .crm_contacts()
            .await
            .into_iter()
            .find(|r| s(r, "Email") == "dan@example.com")
            .unwrap();
        w.crm_delete(dan["id"].as_str().unwrap()).await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.counts("contacts")["deleted"], 1);
        assert_in_step(
            &w,
            &["anna@example.com", "sam@example.com", "chika@example.jp"],
        )
        .await;
    }
}

crate::both_backends! {
    async fn conflicts_follow_the_policy_field_by_field(backend: Backend) {
        for (policy, winner) in [("crm_wins", "CRM"), ("notes_wins", "NOTES")] {
            let w = World::with_sync_settings_on(backend, &format!("conflict = \"{policy}\"")).await;
            let u = w
                .notes_create(person("Eve", "Elm", "eve@example.com"))
                .await;
            assert_eq!(w.sync(&[]).await.code, 0);
            let z = w.crm_contacts().await[0]["id"].as_str().unwrap().to_owned();
            // Same field on both sides; a different field on each side.
            w.notes_patch(&u, json!({"JobTitle": "NOTES", "OfficeCity": "Osaka"}))
                .await;
            w.crm_update(&z, json!({"Title": "CRM", "Mobile": "+81 90 1111 2222"}))
                .await;
            let run = w.sync(&[]).await;
            assert_eq!(run.code, 0, "{}", run.stderr);
            assert_eq!(run.counts("contacts")["conflicts"], 1, "{policy}");
            let (_, doc) = w.notes_contacts().await.remove(0);
            let rec = w.crm_contacts().await.remove(0);
            assert_eq!(s(&doc, "JobTitle"), winner, "{policy}: Notes title");
            assert_eq!(s(&rec, "Title"), winner, "{policy}: CRM title");
            // Fields changed on one side only are merged whatever the policy.
            assert_eq!(s(&rec, "Mailing_City"), "Osaka");
            assert_eq!(s(&doc, "CellPhoneNumber"), "+81 90 1111 2222");
            let entry = &run.report()["modules"][0]["entries"][0];
            assert!(
                entry["reason"]
                    .as_str()
                    .unwrap()
                    .contains("always wins for: job_title"),
                "{entry}"
            );
        }
    }
}

crate::both_backends! {
    async fn one_way_notes_to_crm_mirrors_notes_and_leaves_crm_only_records(backend: Backend) {
        let w = World::with_sync_settings_on(backend, "direction = \"notes_to_crm\"").await;
        let u = w
            .notes_create(person("Gil", "Gum", "gil@example.com"))
            .await;
        let crm_only = w
            .crm_create(contact("Hana", "Holly", "hana@example.jp"))
            .await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            w.notes_contacts().await.len(),
            1,
            "CRM-only contact is not copied to Notes"
        );
        assert_eq!(w.crm_contacts().await.len(), 2);
        // A CRM edit of a synced record is replaced by Notes's values; Notes edits flow.
        let z = w
            .crm_contacts()
            .await
            .into_iter()
            .find(|r| s(r, "Email") == "gil@example.com")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        w.crm_update(&z, json!({"Phone": "CHANGED IN CRM"})).await;
        w.notes_patch(&u, json!({"Department": "Sales"})).await;
        assert_eq!(w.sync(&[]).await.code, 0);
        let gil = w
            .crm_contacts()
            .await
            .into_iter()
            .find(|r| s(r, "id") == z)
            .unwrap();
        assert_eq!(s(&gil, "Phone"), "+1 555 0100");
        assert_eq!(s(&gil, "Department"), "Sales");
        let (_, doc) = w.notes_contacts().await.remove(0);
        assert_eq!(
            s(&doc, "OfficePhoneNumber"),
            "+1 555 0100",
            "Notes is never written from CRM"
        );
        // Deleting the Notes source deletes the CRM copy; the CRM-only record stays.
        w.notes_delete(&u).await;
        let run = w.sync(&["--allow-mass-delete"]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let left: Vec<String> = w.crm_contacts().await.iter().map(|r| s(r, "id")).collect();
        assert_eq!(left, vec![crm_only]);
    }
}

crate::both_backends! {
    async fn one_way_crm_to_notes_mirrors_crm(backend: Backend) {
        let w = World::with_sync_settings_on(backend, "direction = \"crm_to_notes\"").await;
        w.notes_create(person("Ivo", "Ivy", "ivo@example.com"))
            .await;
        let z = w
            .crm_create(contact("Jun", "Juniper", "jun@example.jp"))
            .await;
        assert_eq!(w.sync(&[]).await.code, 0);
        assert_eq!(
            w.crm_contacts().await.len(),
            1,
            "Notes-only contact is not copied to CRM"
        );
        assert_eq!(w.notes_contacts().await.len(), 2);
        w.crm_update(&z, json!({"Title": "Manager"})).await;
        assert_eq!(w.sync(&[]).await.code, 0);
        let jun = w
            .notes_contacts()
            .await
            .into_iter()
            .find(|(_, d)| s(d, "MailAddress") == "jun@example.jp")
            .unwrap();
        assert_eq!(s(&jun.1, "JobTitle"), "Manager");
        // A CRM delete arrives in Notes; the Notes-only contact stays where it is. (A second CRM
        // contact keeps the delete under the mass-delete guard's half of the linked records.)
        w.crm_create(contact("Kim", "Kapok", "kim@example.jp"))
            .await;
        assert_eq!(w.sync(&[]).await.code, 0);
        w.crm_delete(&z).await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}", run.stdout);
        assert_eq!(run.counts("contacts")["deleted"], 1);
        let mut left: Vec<String> = w
            .notes_contacts()
            .await
            .iter()
            .map(|(_, d)| s(d, "MailAddress"))
            .collect();
        left.sort();
        assert_eq!(left, ["ivo@example.com", "kim@example.jp"]);
        assert_eq!(w.crm_contacts().await.len(), 1);
    }
}

crate::both_backends! {
    async fn dry_run_reports_the_plan_and_writes_nothing(backend: Backend) {
        let w = World::on(backend).await;
        w.notes_create(person("Kai", "Kauri", "kai@example.com"))
            .await;
        w.crm_create(contact("Lea", "Larch", "lea@example.com"))
            .await;
        w.clear_calls().await;
        let run = w.sync(&["--dry-run"]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let report = run.report();
        assert_eq!(report["dry_run"], true);
        assert_eq!(run.counts("contacts")["created"], 2);
        assert_eq!(w.writes().await, vec![], "a dry run wrote");
        assert_eq!(w.notes_contacts().await.len(), 1);
        assert_eq!(w.crm_contacts().await.len(), 1);
        // The real run then does exactly what the preview said.
        let real = w.sync(&[]).await;
        assert_eq!(real.counts("contacts")["created"], 2);
    }
}

crate::both_backends! {
    async fn emptied_side_is_held_back_by_the_guard_until_overridden(backend: Backend) {
        let w = World::on(backend).await;
        let unids = [
            w.notes_create(person("M", "One", "m1@example.com")).await,
            w.notes_create(person("M", "Two", "m2@example.com")).await,
            w.notes_create(person("M", "Three", "m3@example.com")).await,
        ];
        assert_eq!(w.sync(&[]).await.code, 0);
        for u in &unids {
            w.notes_delete(u).await;
        }
        let run = w.sync(&[]).await;
        assert_eq!(
            run.code, 2,
            "a held-back module is a partial run: {}",
            run.stdout
        );
        let report = run.report();
        assert_eq!(report["modules"][0]["status"], "guarded");
        assert_eq!(
            run.counts("contacts")["deleted"],
            0,
            "held-back deletes are not counted as done"
        );
        assert_eq!(run.counts("contacts")["skipped"], 3);
        assert!(
            report["modules"][0]["message"]
                .as_str()
                .unwrap()
                .contains("listed no contacts")
        );
        assert_eq!(
            w.crm_contacts().await.len(),
            3,
            "nothing deleted while guarded"
        );
        let run = w.sync(&["--allow-mass-delete"]).await;
        assert_eq!(run.code, 0, "{}", run.stdout);
        assert_eq!(w.crm_contacts().await.len(), 0);
    }
}

crate::both_backends! {
    async fn lost_state_relinks_by_cross_ids_without_duplicates(backend: Backend) {
        let w = World::on(backend).await;
        w.notes_create(person("Nia", "Nutmeg", "nia@example.com"))
            .await;
        w.crm_create(contact("Oto", "Olive", "oto@example.jp"))
            .await;
        assert_eq!(w.sync(&[]).await.code, 0);
        // The state database is lost (or the integration is set up again).
        std::fs::remove_file(w.dir.path().join("state.db")).unwrap();
        // Someone also changes an e-mail, so matching by e-mail alone would duplicate it.
        let z = w
            .crm_contacts()
            .await
            .into_iter()
            .find(|r| s(r, "Email") == "nia@example.com")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        w.crm_update(&z, json!({"Email": "nia.new@example.com"}))
            .await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.counts("contacts")["created"], 0, "{}", run.stdout);
        assert_in_step(&w, &["nia.new@example.com", "oto@example.jp"]).await;
    }
}

crate::both_backends! {
    async fn private_records_never_cross(backend: Backend) {
        let w = World::on(backend).await;
        let mut p = person("Pia", "Pine", "pia@example.com");
        p["OrgConfidential"] = json!("1");
        let pia = w.notes_create(p).await;
        let mut c = contact("Quin", "Quince", "quin@example.com");
        c["Tag"] = json!([{"name": "Private"}]);
        w.crm_create(c).await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.counts("contacts")["skipped"], 2);
        assert_eq!(w.notes_contacts().await.len(), 1);
        assert_eq!(w.crm_contacts().await.len(), 1);

        // The private document is remembered: once a run has started past the cursor overlap
        // (which re-lists recent changes on purpose), an incremental run does not read it again.
        w.advance_clocks(30).await;
        assert_eq!(w.sync(&[]).await.code, 0);
        w.clear_calls().await;
        let again = w.sync(&[]).await;
        assert_eq!(again.code, 0, "{}", again.stderr);
        // DAS reads a document by its path; the REST API in bulk (nothing else needs reading).
        let reads: Vec<_> = w
            .notes_calls()
            .await
            .into_iter()
            .filter(|(m, p, _)| match backend {
                Backend::Das => m == "GET" && p.contains(&pia),
                Backend::Rest => p.contains("/bulk/unid"),
            })
            .collect();
        assert_eq!(
            reads,
            vec![],
            "the unchanged private document was read again"
        );
        assert_eq!(w.crm_contacts().await.len(), 1);

        // Made public, it changes, is read and crosses.
        w.notes_patch(&pia, json!({"OrgConfidential": ""})).await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.counts("contacts")["created"], 1, "{}", run.stdout);
        assert!(
            w.crm_contacts()
                .await
                .iter()
                .any(|r| s(r, "Email") == "pia@example.com")
        );
    }
}

/// Company of each contact by e-mail, as Notes (`CompanyName`) and CRM (the `Account_Name`
/// lookup's name) hold it.
async fn companies(w: &World) -> (Vec<(String, String)>, Vec<(String, String)>) {
    let mut notes: Vec<(String, String)> = w
        .notes_contacts()
        .await
        .iter()
        .map(|(_, d)| (s(d, "MailAddress"), s(d, "CompanyName")))
        .collect();
    let mut crm: Vec<(String, String)> = w
        .crm_contacts()
        .await
        .iter()
        .map(|r| {
            let name = r["Account_Name"]["name"].as_str().unwrap_or("").to_owned();
            (s(r, "Email"), name)
        })
        .collect();
    notes.sort();
    crm.sort();
    (notes, crm)
}

/// Account names in CRM, sorted (duplicates kept, so a duplicate shows).
async fn account_names(w: &World) -> Vec<String> {
    let mut names: Vec<String> = w
        .crm_records("Accounts")
        .await
        .iter()
        .map(|a| s(a, "Account_Name"))
        .collect();
    names.sort();
    names
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    v.sort();
    v
}

crate::both_backends! {
    async fn companies_cross_as_accounts_reused_changed_and_cleared_both_ways(backend: Backend) {
        let w = World::on(backend).await;
        let mut anna = person("Anna", "Alder", "anna@example.com");
        anna["CompanyName"] = json!("Acme");
        let anna = w.notes_create(anna).await;
        let mut ben = person("Ben", "Birch", "ben@example.com");
        ben["CompanyName"] = json!("Acme");
        let ben = w.notes_create(ben).await;
        let mut cara = person("Cara", "Cole", "cara@example.com");
        cara["CompanyName"] = json!("Globex");
        w.notes_create(cara).await;
        let globex = w
            .crm_create_in("Accounts", json!({"Account_Name": "Globex"}))
            .await;
        let mut dan = contact("Dan", "Dogwood", "dan@example.com");
        dan["Account_Name"] = json!({ "id": globex });
        let dan = w.crm_create(dan).await;

        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let want = pairs(&[
            ("anna@example.com", "Acme"),
            ("ben@example.com", "Acme"),
            ("cara@example.com", "Globex"),
            ("dan@example.com", "Globex"),
        ]);
        assert_eq!(companies(&w).await, (want.clone(), want));
        // One Acme for both contacts, and the existing Globex reused.
        assert_eq!(account_names(&w).await, vec!["Acme", "Globex"]);
        let cara_crm = w
            .crm_contacts()
            .await
            .into_iter()
            .find(|r| s(r, "Email") == "cara@example.com")
            .unwrap();
        assert_eq!(cara_crm["Account_Name"]["id"], json!(globex));

        w.clear_calls().await;
        assert_eq!(w.sync(&[]).await.code, 0);
        assert_eq!(w.writes().await, vec![], "second run wrote");

        // Changed on each side: Anna moves to an existing Account (reused), Dan to one a CRM user
        // just created.
        w.notes_patch(&anna, json!({"CompanyName": "Globex"})).await;
        let initech = w
            .crm_create_in("Accounts", json!({"Account_Name": "Initech"}))
            .await;
        w.crm_update(&dan, json!({"Account_Name": {"id": initech}}))
            .await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert_eq!(run.counts("contacts")["updated"], 2, "{}", run.stdout);
        let want = pairs(&[
            ("anna@example.com", "Globex"),
            ("ben@example.com", "Acme"),
            ("cara@example.com", "Globex"),
            ("dan@example.com", "Initech"),
        ]);
        assert_eq!(companies(&w).await, (want.clone(), want));
        assert_eq!(account_names(&w).await, vec!["Acme", "Globex", "Initech"]);

        // Cleared on each side: Ben in Notes, Dan in CRM. Accounts stay (other data may use them).
        w.notes_patch(&ben, json!({"CompanyName": ""})).await;
        w.crm_update(&dan, json!({"Account_Name": null})).await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let want = pairs(&[
            ("anna@example.com", "Globex"),
            ("ben@example.com", ""),
            ("cara@example.com", "Globex"),
            ("dan@example.com", ""),
        ]);
        assert_eq!(companies(&w).await, (want.clone(), want));
        assert_eq!(account_names(&w).await, vec!["Acme", "Globex", "Initech"]);
        w.clear_calls().await;
        assert_eq!(w.sync(&[]).await.code, 0);
        assert_eq!(w.writes().await, vec![], "run after clearing wrote");
    }
}

crate::both_backends! {
    async fn a_company_changed_on_both_sides_follows_the_policy(backend: Backend) {
        for (policy, winner) in [("crm_wins", "Globex"), ("notes_wins", "Umbrella")] {
            let w = World::with_sync_settings_on(backend, &format!("conflict = \"{policy}\"")).await;
            let mut p = person("Eve", "Elm", "eve@example.com");
            p["CompanyName"] = json!("Acme");
            let unid = w.notes_create(p).await;
            assert_eq!(w.sync(&[]).await.code, 0);
            let id = s(&w.crm_contacts().await[0], "id");
            let globex = w
                .crm_create_in("Accounts", json!({"Account_Name": "Globex"}))
                .await;
            w.crm_update(&id, json!({"Account_Name": {"id": globex}}))
                .await;
            w.notes_patch(&unid, json!({"CompanyName": "Umbrella"}))
                .await;
            let run = w.sync(&[]).await;
            assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
            assert_eq!(run.counts("contacts")["conflicts"], 1, "{}", run.stdout);
            let want = pairs(&[("eve@example.com", winner)]);
            assert_eq!(companies(&w).await, (want.clone(), want), "{policy}");
            // Umbrella exists in CRM only when Notes won.
            let mut accounts = vec!["Acme", "Globex"];
            if winner == "Umbrella" {
                accounts.push("Umbrella");
            }
            assert_eq!(account_names(&w).await, accounts, "{policy}");
            w.clear_calls().await;
            assert_eq!(w.sync(&[]).await.code, 0);
            assert_eq!(
                w.writes().await,
                vec![],
                "{policy}: run after the conflict wrote"
            );
        }
    }
}

crate::both_backends! {
    async fn companies_of_many_contacts_cost_one_lookup_and_one_create_per_batch(backend: Backend) {
        let w = World::on(backend).await;
        // 120 contacts at 60 companies (two each); "Co 0" … "Co 9" already exist in CRM.
        for k in 0..10 {
            w.crm_create_in("Accounts", json!({ "Account_Name": format!("Co {k}") }))
                .await;
        }
        for k in 0..120 {
            let mut p = person("P", &format!("L{k}"), &format!("p{k}@example.com"));
            p["CompanyName"] = json!(format!("Co {}", k % 60));
            w.notes_create(p).await;
        }
        w.clear_calls().await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let calls = w.calls(&w.sims.zoho_url).await;
        let count = |m: &str, p: &str| {
            calls
                .iter()
                .filter(|(cm, cp, _)| cm == m && cp == p)
                .count()
        };
        // 60 names: two COQL queries (50 per `in`), one insert of the 50 missing Accounts, two
        // contact inserts (100 per call).
        assert_eq!(count("POST", "/crm/v8/coql"), 2, "{calls:?}");
        assert_eq!(count("POST", "/crm/v8/Accounts"), 1, "{calls:?}");
        assert_eq!(count("POST", "/crm/v8/Contacts"), 2, "{calls:?}");
        let names = account_names(&w).await;
        assert_eq!(names.len(), 60, "no duplicate Accounts: {names:?}");
        let (notes, crm) = companies(&w).await;
        assert_eq!(notes, crm);
        eprintln!(
            "120 contacts at 60 companies: {} Zoho calls, {} Domino calls",
            calls.len(),
            w.notes_calls().await.len()
        );
    }
}
