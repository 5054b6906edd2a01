//! `nzsync sync` and `nzsync uninstall` with the config's `[store] url` on a real PostgreSQL (a
//! throw-away cluster on a loopback port): the state, the history and the created records live
//! there, a second run starts from them, and uninstall empties them. No SQLite file appears.

#[path = "../../host/tests/common/postgres.rs"]
#[allow(dead_code)] // The host's suites use the rest of the harness.
mod cluster;

use serde_json::json;

use crate::world::World;

#[tokio::test(flavor = "multi_thread")]
async fn a_headless_sync_keeps_its_state_in_postgres_when_the_config_names_it() {
    let pg = cluster::Cluster::start();
    let url = pg.database().await;
    let w = World::new().await;
    let text = std::fs::read_to_string(&w.config).unwrap();
    assert!(text.contains("[store]\npath = \"state.db\""), "{text}");
    std::fs::write(
        &w.config,
        text.replace(
            "[store]\npath = \"state.db\"",
            &format!("[store]\nurl = {url:?}"),
        ),
    )
    .unwrap();
    w.notes_create(json!({"FirstName": "Ann", "LastName": "Pg", "MailAddress": "ann@example.com"}))
        .await;
    w.notes_create(json!({"FirstName": "Bob", "LastName": "Pg", "MailAddress": "bob@example.com"}))
        .await;
    w.crm_create(json!({"First_Name": "Cat", "Last_Name": "Pg", "Email": "cat@example.com"}))
        .await;

    let first = w.sync(&[]).await;
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert_eq!(first.counts("contacts")["created"], 3);
    // The second run starts from the links the first one stored: nothing to do.
    let second = w.sync(&[]).await;
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    let counts = second.counts("contacts");
    assert_eq!(
        (counts["created"].clone(), counts["updated"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(w.crm_contacts().await.len(), 3);
    assert_eq!(w.notes_contacts().await.len(), 3);
    assert!(!w.dir.path().join("state.db").exists(), "no SQLite file");

    let profile = nzsync::config::Config::load(&w.config).unwrap().profile();
    let store = nzsync::store::Store::connect(&nzsync::store::StoreLocation::Postgres {
        url: url.clone(),
        max_connections: 1,
    })
    .await
    .unwrap();
    let stored = |store: nzsync::store::Store, profile: String| async move {
        let mut c = store.conn().await.unwrap();
        let links: usize = c
            .load_state(&profile)
            .await
            .unwrap()
            .modules
            .values()
            .map(|m| m.links.len())
            .sum();
        let runs = c.runs(&profile, 100).await.unwrap().len();
        let created = c.created(&profile).await.unwrap().len();
        (links, runs, created)
    };
    // Three links, two runs, two records created in the CRM (Ann's and Bob's; Cat came from it).
    assert_eq!(stored(store.clone(), profile.clone()).await, (3, 2, 2));

    let gone = w.nzsync(&["uninstall", "--yes"]).await;
    assert_eq!(gone.code, 0, "{}\n{}", gone.stdout, gone.stderr);
    assert_eq!(stored(store, profile).await, (0, 0, 0));
}
