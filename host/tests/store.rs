//! The store's one interface against both backends: every test body here runs once on a SQLite
//! file and once on a real PostgreSQL (a throw-away cluster, `common::postgres`), through the
//! same calls. A second `Store` opened on the same database stands for a second replica.
//!
//! Also: `nzsync serve` with an unusable PostgreSQL URL exits non-zero, names the problem and
//! never shows the URL's password.

#![allow(clippy::unwrap_used)] // A failed unwrap is how a test reports failure.

mod common;

use std::collections::HashMap;

use nzsync::config::DominoApiChoice;
use nzsync::store::{SessionRow, Store, StoreLocation, UserRow};
use sync_core::report::{ModuleReport, ModuleStatus, RequestCounts, RunOutcome};
use sync_core::{
    Fields, Link, LinkWant, MailFile, Module, NotesUnid, RunReport, StateChange, SyncState,
    Timestamp, ZohoId,
};

use common::postgres::Cluster;

/// One database of one backend, and how to open more handles on it.
struct Db {
    location: StoreLocation,
    // Kept alive for the test (the file's folder, or the cluster).
    _dir: Option<tempfile::TempDir>,
    _cluster: Option<Cluster>,
}

impl Db {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            location: StoreLocation::Sqlite(dir.path().join("store.db")),
            _dir: Some(dir),
            _cluster: None,
        }
    }

    async fn postgres() -> Self {
        let cluster = Cluster::start();
        let url = cluster.database().await;
        Self {
            location: StoreLocation::Postgres {
                url,
                max_connections: 8,
            },
            _dir: None,
            _cluster: Some(cluster),
        }
    }

    /// A new handle on the database (a new connection or pool: another replica).
    async fn open(&self) -> Store {
        Store::connect(&self.location).await.unwrap()
    }
}

/// Each listed test body, once per backend: `sqlite::name` and `postgres::name`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&super::Db::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&super::Db::postgres().await).await;
                }
            )*
        }
    };
}

on_both_backends!(
    state_round_trips_through_changes,
    links_are_read_in_byte_order_and_as_asked,
    one_users_rows_are_never_anothers,
    a_session_made_on_one_handle_works_on_another,
    one_lease_per_user_across_handles,
    runs_are_recorded_numbered_and_remember_created_records,
    removing_a_user_deletes_everything_of_theirs_and_only_that,
    users_orgs_and_sealed_secrets_round_trip,
    an_uncommitted_transaction_leaves_nothing,
    a_locked_org_takes_its_users_changes_one_at_a_time,
    two_first_installs_of_one_org_at_once_make_one_admin,
    replicas_share_one_zoho_access_token_and_refresh_it_once,
    a_nul_in_a_text_is_bad_input_not_a_store_failure,
    migrations_applied_again_change_nothing,
);

fn link(unid: &str, zoho: &str, email: &str) -> Link {
    let mut base = Fields::default();
    base.set("email", email);
    Link {
        unid: NotesUnid(unid.into()),
        zoho_id: ZohoId(zoho.into()),
        base,
    }
}

/// The sync created Zoho record `zoho_id`.
fn created(module: Module, zoho_id: &str) -> StateChange {
    StateChange::CrmCreated {
        module,
        zoho_id: ZohoId(zoho_id.into()),
    }
}

fn set(module: Module, link: &Link) -> StateChange {
    StateChange::LinkSet {
        module,
        link: link.clone(),
    }
}

/// A finished run: a sync (or preview) that created `created` (unid, zoho id) in the CRM.
fn report(dry_run: bool, started: i64, created: &[(&str, Option<&str>)]) -> RunReport {
    let mut module = ModuleReport::new(Module::Contacts, ModuleStatus::Completed);
    module.entries = created
        .iter()
        .map(|(unid, zoho)| {
            serde_json::from_value(serde_json::json!({
                "verdict": "created", "label": unid, "unid": unid, "zoho_id": zoho,
                "notes": null, "crm": "create", "reason": "new in Notes",
                "fields": [], "conflicts": [], "error": null
            }))
            .unwrap()
        })
        .collect();
    RunReport {
        dry_run,
        started: Timestamp(started),
        finished: Timestamp(started + 1_000),
        outcome: RunOutcome::Completed,
        error: None,
        modules: vec![module],
        requests: RequestCounts::default(),
    }
}

fn session(user: &str, org: &str) -> SessionRow {
    SessionRow {
        user_id: user.into(),
        org_id: org.into(),
        email: format!("{user}@example.com"),
        name: user.into(),
        csrf: format!("csrf-{user}"),
    }
}

async fn state_round_trips_through_changes(db: &Db) {
    let store = db.open().await;
    let mut c = store.conn().await.unwrap();
    let m = Module::Contacts;
    let l1 = link("U1", "Z1", "a@b.c");
    let changes = vec![
        StateChange::XrefReady { module: m },
        set(m, &l1),
        set(Module::Tasks, &link("T1", "ZT1", "")),
        StateChange::Cursors {
            module: m,
            notes: Some(Timestamp(5)),
            crm: Some(Timestamp(6)),
            fingerprint: Some("f".into()),
        },
        StateChange::NotesPrivate {
            module: m,
            unid: NotesUnid("P1".into()),
            private: true,
        },
        StateChange::NotesPrivate {
            module: m,
            unid: NotesUnid("P2".into()),
            private: true,
        },
        StateChange::NotesPrivate {
            module: m,
            unid: NotesUnid("P1".into()),
            private: false,
        },
        StateChange::CrmLeftScope {
            module: m,
            zoho_id: ZohoId("Z7".into()),
            left: true,
        },
        StateChange::CrmLeftScope {
            module: m,
            zoho_id: ZohoId("Z8".into()),
            left: true,
        },
        StateChange::CrmLeftScope {
            module: m,
            zoho_id: ZohoId("Z7".into()),
            left: false,
        },
        StateChange::MailFile {
            mail_file: MailFile::new("mail/demo.nsf", Some("852578AE0067D8A1")),
        },
        // A second cursor write replaces the first.
        StateChange::Cursors {
            module: m,
            notes: Some(Timestamp(50)),
            crm: None,
            fingerprint: None,
        },
    ];
    c.apply("p", &changes).await.unwrap();
    let mut expected = SyncState::default();
    for change in &changes {
        expected.apply(change);
    }
    assert_eq!(c.load_state("p").await.unwrap(), expected);
    let mut without_links = expected.clone();
    for module in without_links.modules.values_mut() {
        module.links.clear();
    }
    // A module whose only rows were links is not there at all.
    without_links
        .modules
        .retain(|_, m| *m != Default::default());
    assert_eq!(
        c.load_state_without_links("p").await.unwrap(),
        without_links
    );
    // Re-linking the same UNID to a new record replaces the old row; so does linking another
    // UNID to the same record.
    let relinked = link("U1", "Z2", "a@b.c");
    c.apply("p", &[set(m, &relinked)]).await.unwrap();
    assert_eq!(
        c.load_state("p").await.unwrap().modules[&m].links,
        vec![relinked.clone()]
    );
    let moved = link("U9", "Z2", "a@b.c");
    c.apply("p", &[set(m, &moved)]).await.unwrap();
    assert_eq!(
        c.load_state("p").await.unwrap().modules[&m].links,
        vec![moved]
    );
    // A removal by either key.
    c.apply(
        "p",
        &[
            set(m, &l1),
            StateChange::LinkRemoved {
                module: m,
                unid: None,
                zoho_id: Some(ZohoId("Z2".into())),
            },
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        c.load_state("p").await.unwrap().modules[&m].links,
        vec![l1.clone()]
    );
    c.apply(
        "p",
        &[StateChange::LinkRemoved {
            module: m,
            unid: Some(NotesUnid("U1".into())),
            zoho_id: None,
        }],
    )
    .await
    .unwrap();
    assert!(
        c.load_state("p").await.unwrap().modules[&m]
            .links
            .is_empty()
    );
    // Forgetting the sync state keeps nothing of it.
    c.forget_sync_state("p").await.unwrap();
    assert_eq!(c.load_state("p").await.unwrap(), SyncState::default());
}

async fn links_are_read_in_byte_order_and_as_asked(db: &Db) {
    let store = db.open().await;
    let mut c = store.conn().await.unwrap();
    let m = Module::Events;
    // Byte order: "B" < "_" < "a" < "b" (a linguistic collation sorts them otherwise).
    let unids = ["b", "_", "a", "B", "a2"];
    let changes: Vec<StateChange> = unids
        .iter()
        .map(|u| set(m, &link(u, &format!("Z{u}"), "")))
        .collect();
    c.apply("p", &changes).await.unwrap();
    let page = |after: Option<&str>, limit| LinkWant::Page {
        after: after.map(|a| NotesUnid(a.into())),
        limit,
    };
    let keys = |links: Vec<Link>| links.into_iter().map(|l| l.unid.0).collect::<Vec<_>>();
    assert_eq!(
        keys(c.links("p", m, &page(None, 2)).await.unwrap()),
        ["B", "_"]
    );
    assert_eq!(
        keys(c.links("p", m, &page(Some("_"), 2)).await.unwrap()),
        ["a", "a2"]
    );
    assert_eq!(
        keys(c.links("p", m, &page(Some("a2"), 2)).await.unwrap()),
        ["b"]
    );
    assert!(
        c.links("p", m, &page(Some("b"), 2))
            .await
            .unwrap()
            .is_empty()
    );
    // By key: in the order asked, unknown keys left out, another module's not read.
    let want = LinkWant::Unids {
        unids: ["b", "nope", "B", "a"]
            .iter()
            .map(|u| NotesUnid((*u).into()))
            .collect(),
    };
    let found = c.links("p", m, &want).await.unwrap();
    assert_eq!(keys(found.clone()), ["b", "B", "a"]);
    assert_eq!(found[0], link("b", "Zb", ""));
    assert!(
        c.links("p", Module::Contacts, &want)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn one_users_rows_are_never_anothers(db: &Db) {
    let store = db.open().await;
    let mut c = store.conn().await.unwrap();
    let (mine, theirs) = ("srv:u1", "srv:u2");
    let m = Module::Contacts;
    c.apply(
        mine,
        &[
            set(m, &link("U1", "Z1", "me@example.com")),
            StateChange::XrefReady { module: m },
            StateChange::NotesPrivate {
                module: m,
                unid: NotesUnid("P".into()),
                private: true,
            },
            StateChange::MailFile {
                mail_file: MailFile::new("mail/me.nsf", None),
            },
            created(m, "Z1"),
        ],
    )
    .await
    .unwrap();
    let run = c
        .record_run(mine, &report(false, 1_000, &[("U1", Some("Z1"))]))
        .await
        .unwrap();
    c.add_created(mine, Module::Events, &ZohoId("E1".into()))
        .await
        .unwrap();
    // The other user sees none of it, by any read.
    assert_eq!(c.load_state(theirs).await.unwrap(), SyncState::default());
    let all = LinkWant::Page {
        after: None,
        limit: 100,
    };
    assert!(c.links(theirs, m, &all).await.unwrap().is_empty());
    let by_key = LinkWant::Unids {
        unids: vec![NotesUnid("U1".into())],
    };
    assert!(c.links(theirs, m, &by_key).await.unwrap().is_empty());
    assert!(c.runs(theirs, 100).await.unwrap().is_empty());
    assert!(c.run_report(theirs, run).await.unwrap().is_none());
    assert!(c.last_sync(theirs).await.unwrap().is_none());
    assert!(c.run_numbers(theirs).await.unwrap().is_empty());
    assert!(c.created(theirs).await.unwrap().is_empty());
    // Nor can the other user's writes and deletes touch it.
    c.apply(
        theirs,
        &[
            StateChange::LinkRemoved {
                module: m,
                unid: Some(NotesUnid("U1".into())),
                zoho_id: Some(ZohoId("Z1".into())),
            },
            set(m, &link("U1", "Z1", "them@example.com")),
        ],
    )
    .await
    .unwrap();
    c.forget_created(theirs, &[(Module::Events, ZohoId("E1".into()))])
        .await
        .unwrap();
    assert_eq!(
        c.load_state(theirs).await.unwrap().modules[&m].links,
        [link("U1", "Z1", "them@example.com")]
    );
    c.forget_sync_state(theirs).await.unwrap();
    assert_eq!(c.delete_profile(theirs).await.unwrap(), 0);
    let state = c.load_state(mine).await.unwrap();
    assert_eq!(
        state.modules[&m].links,
        [link("U1", "Z1", "me@example.com")]
    );
    assert!(state.modules[&m].crm_xref_ready);
    assert_eq!(state.mail_file, Some(MailFile::new("mail/me.nsf", None)));
    assert_eq!(c.runs(mine, 100).await.unwrap().len(), 1);
    assert!(c.run_report(mine, run).await.unwrap().is_some());
    assert_eq!(
        c.created(mine).await.unwrap(),
        [
            (Module::Contacts, ZohoId("Z1".into())),
            (Module::Events, ZohoId("E1".into()))
        ]
    );
}

async fn a_session_made_on_one_handle_works_on_another(db: &Db) {
    let (a, b) = (db.open().await, db.open().await);
    let now = 1_000_000;
    a.conn()
        .await
        .unwrap()
        .insert_session("hash-1", &session("u1", "o1"), now, now + 60_000)
        .await
        .unwrap();
    let mut on_b = b.conn().await.unwrap();
    assert_eq!(
        on_b.session("hash-1", now + 1).await.unwrap(),
        Some(session("u1", "o1"))
    );
    assert_eq!(on_b.session("hash-1", now + 60_000).await.unwrap(), None);
    assert_eq!(on_b.session("hash-2", now).await.unwrap(), None);
    // Signing out on one ends it on the other.
    on_b.delete_session("hash-1").await.unwrap();
    drop(on_b);
    let mut on_a = a.conn().await.unwrap();
    assert_eq!(on_a.session("hash-1", now + 1).await.unwrap(), None);
    // A new session clears the expired ones.
    on_a.insert_session("old", &session("u2", "o1"), now, now + 10)
        .await
        .unwrap();
    on_a.insert_session("new", &session("u2", "o1"), now + 20, now + 60_000)
        .await
        .unwrap();
    assert_eq!(on_a.session("old", now).await.unwrap(), None);
    assert!(on_a.session("new", now + 21).await.unwrap().is_some());
}

async fn one_lease_per_user_across_handles(db: &Db) {
    let (a, b) = (db.open().await, db.open().await);
    let now = 5_000_000;
    let mut on_a = a.conn().await.unwrap();
    let mut on_b = b.conn().await.unwrap();
    assert!(on_a.take_lease("u1", "ta", now, now + 100).await.unwrap());
    assert!(
        !on_b
            .take_lease("u1", "tb", now + 1, now + 101)
            .await
            .unwrap()
    );
    assert_eq!(
        on_b.lease("u1", now + 1).await.unwrap(),
        Some(("ta".to_owned(), now + 100))
    );
    // Another user's lease is their own.
    assert!(on_b.take_lease("u2", "tb", now, now + 100).await.unwrap());
    // Only the holder renews or releases.
    assert!(!on_b.renew_lease("u1", "tb", now + 500).await.unwrap());
    assert!(on_a.renew_lease("u1", "ta", now + 200).await.unwrap());
    assert!(
        !on_b
            .take_lease("u1", "tb", now + 150, now + 300)
            .await
            .unwrap()
    );
    assert_eq!(on_b.delete_lease("u1", "tb").await.unwrap(), 0);
    // Once it has expired another sync takes it, and the old holder can no longer renew it.
    assert_eq!(on_b.lease("u1", now + 200).await.unwrap(), None);
    assert!(
        on_b.take_lease("u1", "tb", now + 200, now + 400)
            .await
            .unwrap()
    );
    assert!(!on_a.renew_lease("u1", "ta", now + 600).await.unwrap());
    assert_eq!(on_a.delete_lease("u1", "ta").await.unwrap(), 0);
    assert_eq!(on_a.delete_lease("u1", "tb").await.unwrap(), 1);
    assert_eq!(on_a.lease("u1", now + 201).await.unwrap(), None);
    drop((on_a, on_b));
    // Many takers at once, on their own handles: exactly one gets it.
    let mut takers = Vec::new();
    for i in 0..12 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        takers.push(tokio::spawn(async move {
            let mut c = store.conn().await.unwrap();
            c.take_lease("race", &format!("t{i}"), now, now + 1_000)
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for t in takers {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1);
}

async fn runs_are_recorded_numbered_and_remember_created_records(db: &Db) {
    let store = db.open().await;
    let mut c = store.conn().await.unwrap();
    let p = "srv:u1";
    // The records the sync created are remembered from its state changes as it creates them
    // (a report lists only the first rows of each kind, and a run stopped halfway has none):
    // Z3, which the report names but no state change does, is not.
    let m = Module::Contacts;
    c.apply(p, &[created(m, "Z2"), created(m, "Z1"), created(m, "Z2")])
        .await
        .unwrap();
    let preview = c
        .record_run(p, &report(true, 1_000, &[("U1", Some("Z1"))]))
        .await
        .unwrap();
    let first = c
        .record_run(
            p,
            &report(false, 2_000, &[("U1", Some("Z1")), ("U3", Some("Z3"))]),
        )
        .await
        .unwrap();
    let second = c.record_run(p, &report(false, 3_000, &[])).await.unwrap();
    let preview2 = c.record_run(p, &report(true, 4_000, &[])).await.unwrap();
    assert!(preview < first && first < second && second < preview2);
    let runs = c.runs(p, 100).await.unwrap();
    assert_eq!(
        runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        [preview2, second, first, preview]
    );
    assert_eq!(runs[1].started, 3_000);
    assert_eq!(runs[1].finished, 4_000);
    assert!(runs[0].dry_run && !runs[1].dry_run);
    assert_eq!(runs[0].outcome, "completed");
    assert_eq!(c.runs(p, 2).await.unwrap().len(), 2);
    // Syncs and previews are numbered apart.
    assert_eq!(
        c.run_numbers(p).await.unwrap(),
        HashMap::from([(preview, 1), (first, 1), (second, 2), (preview2, 2)])
    );
    let last = c.last_sync(p).await.unwrap().unwrap();
    assert_eq!((last.id, last.number, last.finished), (second, 2, 4_000));
    assert_eq!(
        c.run_report(p, first).await.unwrap(),
        Some(report(
            false,
            2_000,
            &[("U1", Some("Z1")), ("U3", Some("Z3"))]
        ))
    );
    assert_eq!(
        c.created(p).await.unwrap(),
        [
            (Module::Contacts, ZohoId("Z1".into())),
            (Module::Contacts, ZohoId("Z2".into()))
        ]
    );
    c.forget_created(p, &[(Module::Contacts, ZohoId("Z1".into()))])
        .await
        .unwrap();
    assert_eq!(
        c.created(p).await.unwrap(),
        [(Module::Contacts, ZohoId("Z2".into()))]
    );
}

/// An org with an admin and a user, each with sessions, a lease, sync state and history.
async fn two_users(store: &Store) {
    let mut c = store.begin().await.unwrap();
    c.insert_org("o1", "admin", "https://www.zohoapis.com", 1)
        .await
        .unwrap();
    for (i, u) in ["admin", "u1"].iter().enumerate() {
        c.insert_user(&UserRow {
            is_admin: *u == "admin",
            refresh_token: Some(vec![1, 2, 3, 0, 255]),
            ..UserRow::new(
                u,
                "o1",
                &format!("{u}@example.com"),
                u,
                i64::try_from(i).unwrap(),
            )
        })
        .await
        .unwrap();
        c.set_connection(
            u,
            "https://mail.example.com",
            u,
            &[9, 9, 9],
            "mail/x.nsf",
            // u1 connected through the Domino REST API.
            if *u == "u1" {
                DominoApiChoice::Rest
            } else {
                DominoApiChoice::Das
            },
        )
        .await
        .unwrap();
        c.insert_session(&format!("s-{u}"), &session(u, "o1"), 10, 1_000_000)
            .await
            .unwrap();
        c.take_lease(u, "t", 10, 1_000_000).await.unwrap();
        let p = format!("srv:{u}");
        c.apply(
            &p,
            &[
                set(Module::Contacts, &link("U1", "Z1", "")),
                created(Module::Contacts, "Z1"),
            ],
        )
        .await
        .unwrap();
        c.record_run(&p, &report(false, 10, &[("U1", Some("Z1"))]))
            .await
            .unwrap();
    }
    c.commit().await.unwrap();
}

async fn removing_a_user_deletes_everything_of_theirs_and_only_that(db: &Db) {
    let store = db.open().await;
    two_users(&store).await;
    let mut tx = store.begin().await.unwrap();
    let n = tx.delete_user("u1").await.unwrap() + tx.delete_profile("srv:u1").await.unwrap();
    tx.commit().await.unwrap();
    store.compact().await.unwrap();
    // user row + session + lease, then link + run + created record.
    assert_eq!(n, 3 + 3);
    // Seen from another handle (another replica): nothing of u1 is left.
    let other = db.open().await;
    let mut c = other.conn().await.unwrap();
    assert_eq!(c.user("u1").await.unwrap(), None);
    assert_eq!(c.session("s-u1", 11).await.unwrap(), None);
    assert_eq!(c.lease("u1", 11).await.unwrap(), None);
    assert_eq!(c.load_state("srv:u1").await.unwrap(), SyncState::default());
    assert!(c.runs("srv:u1", 10).await.unwrap().is_empty());
    assert!(c.created("srv:u1").await.unwrap().is_empty());
    // The admin keeps everything.
    assert!(c.user("admin").await.unwrap().is_some());
    assert!(c.session("s-admin", 11).await.unwrap().is_some());
    assert!(c.lease("admin", 11).await.unwrap().is_some());
    assert_eq!(c.runs("srv:admin", 10).await.unwrap().len(), 1);
    assert_eq!(c.created("srv:admin").await.unwrap().len(), 1);
    // Uninstalling the org: its sessions and users go with it.
    c.delete_user("admin").await.unwrap();
    c.delete_profile("srv:admin").await.unwrap();
    c.insert_session("late", &session("admin", "o1"), 12, 1_000_000)
        .await
        .unwrap();
    assert_eq!(c.delete_org("o1").await.unwrap(), 2);
    assert!(c.orgs().await.unwrap().is_empty());
    assert!(c.org_users("o1").await.unwrap().is_empty());
    assert_eq!(c.session("late", 13).await.unwrap(), None);
    assert_eq!(
        c.load_state("srv:admin").await.unwrap(),
        SyncState::default()
    );
}

async fn users_orgs_and_sealed_secrets_round_trip(db: &Db) {
    let store = db.open().await;
    two_users(&store).await;
    let mut c = store.conn().await.unwrap();
    assert!(c.org_exists("o1").await.unwrap());
    assert!(!c.org_exists("o2").await.unwrap());
    assert_eq!(
        c.orgs().await.unwrap(),
        [("o1".to_owned(), "admin".to_owned())]
    );
    let u1 = c.user("u1").await.unwrap().unwrap();
    // Sealed blobs come back byte for byte.
    assert_eq!(u1.refresh_token.as_deref(), Some(&[1, 2, 3, 0, 255][..]));
    assert_eq!(u1.domino_password.as_deref(), Some(&[9, 9, 9][..]));
    assert!(u1.connected() && !u1.is_admin);
    // The Domino API each connected through.
    assert_eq!(u1.domino_api, DominoApiChoice::Rest);
    assert_eq!(
        c.user("admin").await.unwrap().unwrap().domino_api,
        DominoApiChoice::Das
    );
    assert_eq!(
        c.org_admin("o1").await.unwrap().map(|u| u.user_id),
        Some("admin".into())
    );
    // One admin per org.
    c.make_admin("o1", "u1").await.unwrap();
    let users = c.org_users("o1").await.unwrap();
    assert_eq!(
        users
            .iter()
            .map(|u| (u.user_id.as_str(), u.is_admin))
            .collect::<Vec<_>>(),
        [("admin", false), ("u1", true)]
    );
    assert_eq!(c.orgs().await.unwrap()[0].1, "u1");
    c.demote("u1").await.unwrap();
    assert_eq!(c.org_admin("o1").await.unwrap(), None);
    // Identity updates keep the stored refresh token unless a new one comes.
    c.update_identity("u1", "new@example.com", "New", None)
        .await
        .unwrap();
    let u1 = c.user("u1").await.unwrap().unwrap();
    assert_eq!(
        (u1.email.as_str(), u1.name.as_str()),
        ("new@example.com", "New")
    );
    assert_eq!(u1.refresh_token.as_deref(), Some(&[1, 2, 3, 0, 255][..]));
    c.update_identity("u1", "new@example.com", "New", Some(&[7]))
        .await
        .unwrap();
    c.set_password("u1", &[8, 8]).await.unwrap();
    let u1 = c.user("u1").await.unwrap().unwrap();
    assert_eq!(u1.refresh_token.as_deref(), Some(&[7][..]));
    assert_eq!(u1.domino_password.as_deref(), Some(&[8, 8][..]));
    // Schedules: due users are the connected ones whose time has come.
    c.set_settings("u1", r#"{"schedule_minutes":15}"#, Some(100))
        .await
        .unwrap();
    c.set_next_sync("admin", Some(50)).await.unwrap();
    assert_eq!(
        c.due_users(100)
            .await
            .unwrap()
            .iter()
            .map(|u| u.user_id.as_str())
            .collect::<Vec<_>>(),
        ["admin", "u1"]
    );
    assert!(c.due_users(49).await.unwrap().is_empty());
    assert_eq!(
        c.user("u1").await.unwrap().unwrap().settings.as_deref(),
        Some(r#"{"schedule_minutes":15}"#)
    );
    assert_eq!(c.clear_connection("u1").await.unwrap(), 1);
    let u1 = c.user("u1").await.unwrap().unwrap();
    assert!(!u1.connected() && u1.next_sync.is_none() && u1.mail_db.is_none());
    assert_eq!(
        c.due_users(100)
            .await
            .unwrap()
            .iter()
            .map(|u| u.user_id.as_str())
            .collect::<Vec<_>>(),
        ["admin"]
    );
}

async fn an_uncommitted_transaction_leaves_nothing(db: &Db) {
    let store = db.open().await;
    two_users(&store).await;
    {
        let mut tx = store.begin().await.unwrap();
        tx.delete_user("u1").await.unwrap();
        tx.apply("srv:u1", &[set(Module::Tasks, &link("T", "ZT", ""))])
            .await
            .unwrap();
        assert_eq!(tx.user("u1").await.unwrap(), None);
        // Dropped without a commit.
    }
    let mut c = store.conn().await.unwrap();
    assert!(c.user("u1").await.unwrap().is_some());
    assert!(
        !c.load_state("srv:u1")
            .await
            .unwrap()
            .modules
            .contains_key(&Module::Tasks)
    );
    // A failing write inside a transaction: the transaction commits none of its writes.
    drop(c);
    let mut tx = store.begin().await.unwrap();
    tx.set_next_sync("u1", Some(7)).await.unwrap();
    let taken = UserRow::new("u1", "o1", "x@example.com", "x", 0);
    assert!(tx.insert_user(&taken).await.is_err()); // already there
    drop(tx);
    let mut c = store.conn().await.unwrap();
    assert_eq!(c.user("u1").await.unwrap().unwrap().next_sync, None);
}

async fn two_first_installs_of_one_org_at_once_make_one_admin(db: &Db) {
    let (a, b) = (db.open().await, db.open().await);
    // Another org installed before (a server's store is never brand new when users sign in).
    let mut c = a.begin().await.unwrap();
    assert!(c.insert_org("o1", "x", "d", 1).await.unwrap());
    assert!(
        !c.insert_org("o1", "y", "d", 1).await.unwrap(),
        "there already"
    );
    c.commit().await.unwrap();
    // Two administrators of a new org sign in at once on two replicas: neither finds the org,
    // both install it. One installs it, the other waits, installs nothing, and then holds the
    // org's lock like any later sign-in; neither fails.
    let install = |store: Store, admin: &'static str, pause: u64| async move {
        let mut tx = store.begin().await.unwrap();
        let there = tx.lock_org("o9").await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        let inserted = !there && tx.insert_org("o9", admin, "d", 1).await.unwrap();
        if !inserted {
            assert!(
                tx.lock_org("o9").await.unwrap(),
                "{admin}: the org is there"
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        tx.commit().await.unwrap();
        inserted
    };
    // Tasks of their own: a SQLite handle waits for the file's lock on its thread.
    let (x, y) = (
        tokio::spawn(install(a.clone(), "ann", 0)),
        tokio::spawn(install(b, "bob", 50)),
    );
    let (x, y) = (x.await.unwrap(), y.await.unwrap());
    assert!(
        x ^ y,
        "exactly one install inserts the org: ann {x}, bob {y}"
    );
    let orgs = a.conn().await.unwrap().orgs().await.unwrap();
    let want = if x { "ann" } else { "bob" };
    assert_eq!(orgs[1], ("o9".to_owned(), want.to_owned()), "{orgs:?}");
}

/// Requests to the Zoho simulator's token endpoint so far.
fn token_calls(sims: &nzsync_sim::Simulators) -> usize {
    sims.zoho()
        .calls()
        .iter()
        .filter(|c| c.path == "/oauth/v2/token")
        .count()
}

async fn replicas_share_one_zoho_access_token_and_refresh_it_once(db: &Db) {
    use nzsync::store::StoreVault;
    use nzsync::zoho_token::{Credential, Retry, TokenCache, Want};

    let sims = nzsync_sim::start(nzsync_sim::SimConfig::loopback(nzsync_sim::Seed::Empty))
        .await
        .unwrap();
    let cred = Credential::new(&sims.zoho_url, "demo-client", "demo-secret", "demo-refresh");
    let http = reqwest::Client::new();
    // Two replicas: each its own store handle and its own in-memory cache.
    let replica = |store: Store| {
        std::sync::Arc::new(TokenCache::new(http.clone()).with_vault(StoreVault::new(store, "srv")))
    };
    let (a, b) = (replica(db.open().await), replica(db.open().await));
    let get = |cache: std::sync::Arc<TokenCache>, want: Option<String>| {
        let cred = cred.clone();
        async move {
            let want = match &want {
                Some(failed) => Want::Replacing(failed),
                None => Want::Current,
            };
            cache
                .token(&cred, want, Retry::INTERACTIVE, None)
                .await
                .unwrap()
        }
    };
    // One replica fetches a token; the other finds it in the store and refreshes nothing.
    let first = get(a.clone(), None).await;
    assert_eq!(get(b.clone(), None).await, first);
    assert_eq!(token_calls(&sims), 1, "one refresh serves both replicas");
    // The token is stored sealed, never as it is.
    let stored = db
        .open()
        .await
        .conn()
        .await
        .unwrap()
        .token_load(&cred.id())
        .await;
    let (sealed, _) = stored.unwrap().expect("the token is in the store");
    assert!(!String::from_utf8_lossy(&sealed).contains(&first));
    if !matches!(db.location, StoreLocation::Postgres { .. }) {
        return; // One host owns a SQLite store: its cache's own single flight suffices.
    }
    // Zoho refuses the token on both replicas at once: one of them refreshes, under the
    // credential's lock; the other waits, then takes what it stored.
    let calls = (0..4).map(|i| {
        let cache = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(get(cache, Some(first.clone())))
    });
    let mut seen = std::collections::BTreeSet::new();
    for call in calls.collect::<Vec<_>>() {
        seen.insert(call.await.unwrap());
    }
    assert_eq!(
        seen.len(),
        1,
        "both replicas use the one new token: {seen:?}"
    );
    assert!(!seen.contains(&first));
    assert_eq!(
        token_calls(&sims),
        2,
        "the fleet refreshed once more, not once per replica"
    );
}

async fn a_locked_org_takes_its_users_changes_one_at_a_time(db: &Db) {
    let (a, b) = (db.open().await, db.open().await);
    two_users(&a).await;
    // Two admins on two replicas add a user each, with one licence left: each counts the
    // org's users, then adds one if a licence is free. Only one may get it.
    let add = |store: Store, user: &'static str| async move {
        let mut tx = store.begin().await.unwrap();
        assert!(tx.lock_org("o1").await.unwrap());
        let used = tx.org_users("o1").await.unwrap().len();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if used < 3 {
            tx.insert_user(&UserRow::new(user, "o1", user, user, 5))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    };
    // Each on a task of its own: SQLite's wait for the file lock blocks its thread.
    let (x, y) = tokio::join!(tokio::spawn(add(a.clone(), "x")), tokio::spawn(add(b, "y")));
    x.unwrap();
    y.unwrap();
    let users = a.conn().await.unwrap().org_users("o1").await.unwrap();
    assert_eq!(users.len(), 3, "{users:?}");
    assert!(!a.conn().await.unwrap().lock_org("o2").await.unwrap());
}

async fn a_nul_in_a_text_is_bad_input_not_a_store_failure(db: &Db) {
    let store = db.open().await;
    two_users(&store).await;
    let mut c = store.conn().await.unwrap();
    let bad_link = [set(Module::Contacts, &link("U\0", "Z\0", ""))];
    match store.backend_name() {
        // PostgreSQL's text cannot hold a NUL: the caller is told it was bad input (the server
        // answers 400), and nothing is stored.
        "postgres" => {
            assert!(matches!(
                c.user("u\0-1").await,
                Err(nzsync::store::StoreError::NulInText)
            ));
            assert!(matches!(
                c.apply("srv:u1", &bad_link).await,
                Err(nzsync::store::StoreError::NulInText)
            ));
        }
        // SQLite stores any text: such a key just matches nothing.
        _ => {
            assert_eq!(c.user("u\0-1").await.unwrap(), None);
            c.apply("srv:u1", &bad_link).await.unwrap();
        }
    }
    // Either way the connection goes on serving.
    assert!(c.user("u1").await.unwrap().is_some());
}

async fn migrations_applied_again_change_nothing(db: &Db) {
    // Two replicas starting at once on a fresh database both come up.
    let (a, b) = tokio::join!(db.open(), db.open());
    let version = a.migrate().await.unwrap();
    assert!(version >= 1);
    two_users(&a).await;
    assert_eq!(a.migrate().await.unwrap(), version);
    assert_eq!(b.migrate().await.unwrap(), version);
    let c = db.open().await;
    assert_eq!(c.migrate().await.unwrap(), version);
    let mut conn = c.conn().await.unwrap();
    assert_eq!(conn.org_users("o1").await.unwrap().len(), 2);
    assert_eq!(conn.runs("srv:u1", 10).await.unwrap().len(), 1);
}

/// The server config of `nzsync serve` with `[store] url = url`, in `dir`.
fn serve_config(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    let path = dir.join("server.toml");
    std::fs::write(
        &path,
        format!(
            r#"[server]
listen = "127.0.0.1:0"
public_url = "http://127.0.0.1:1"
[zoho]
client_id = "demo-client"
client_secret = "demo-secret"
accounts_url = "http://127.0.0.1:1"
api_domain = "http://127.0.0.1:1"
[store]
url = "{url}"
[schedule]
enabled = false
"#
        ),
    )
    .unwrap();
    path
}

/// Runs `nzsync serve` on `config` (which must fail) in `lang`: (exit code, stderr).
async fn serve_fails(config: &std::path::Path, lang: &str) -> (Option<i32>, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
        .arg("serve")
        .arg("--config")
        .arg(config)
        .env(
            "NZSYNC_MASTER_KEY",
            "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=",
        )
        .env_remove("DATABASE_URL")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", lang)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), out)
        .await
        .expect("nzsync serve gave up within a minute")
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn serve_refuses_an_unreachable_or_wrong_postgres_url_without_showing_its_password() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://nzsync:s3cret-pw@127.0.0.1:{closed}/nzsync");
    let config = serve_config(dir.path(), &url);
    let (code, err) = serve_fails(&config, "en_US.UTF-8").await;
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "cannot connect to PostgreSQL at postgres://nzsync:***@127.0.0.1:{closed}/nzsync"
        )),
        "{err}"
    );
    assert!(!err.contains("s3cret-pw"), "{err}");
    // In Japanese too.
    let (code, err) = serve_fails(&config, "ja_JP.UTF-8").await;
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("PostgreSQL (postgres://nzsync:***@"), "{err}");
    assert!(err.contains("に接続できません"), "{err}");
    assert!(!err.contains("s3cret-pw"), "{err}");
    // A real server, but no such database: PostgreSQL's own words say so.
    let cluster = Cluster::start();
    let url = format!(
        "postgres://postgres:s3cret-pw@127.0.0.1:{}/no_such_db",
        cluster.port()
    );
    let (code, err) = serve_fails(&serve_config(dir.path(), &url), "C").await;
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("\"no_such_db\" does not exist"), "{err}");
    assert!(!err.contains("s3cret-pw"), "{err}");
    // Not a PostgreSQL URL at all.
    let (code, err) = serve_fails(
        &serve_config(dir.path(), "mysql://root:s3cret-pw@127.0.0.1/x"),
        "C",
    )
    .await;
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("only postgres:// URLs are supported"), "{err}");
    assert!(!err.contains("s3cret-pw"), "{err}");
}
