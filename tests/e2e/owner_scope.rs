//! Owner scope (`DESIGN.md` §4.3): several users of one org, each syncing their own mail file
//! with their own Zoho token, on one pair of simulators. After every round no user's Notes holds
//! another user's records, no cross-ID names a foreign mail file, and each user's own data
//! converged; a record reassigned from one owner to the other moves without a duplicate and
//! without loss; records of a CRM user who never connects appear nowhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::world::{Run, config_text, run_cmd, s};

/// The Zoho user ids of the simulator's org (`tests/simulators/src/zoho/seed.rs`).
const DEMO_ID: &str = "5725767000000411001";
const USER2_ID: &str = "5725767000000411005";

/// One org: both simulators, and a config per user.
struct Org {
    sims: nzsync_sim::Simulators,
    _dir: tempfile::TempDir,
    users: Vec<User>,
    http: reqwest::Client,
}

struct User {
    name: &'static str,
    zoho_id: &'static str,
    mail_db: String,
    config: PathBuf,
    token: String,
}

impl Drop for Org {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.sims.assert_spec_faithful();
        }
    }
}

impl Org {
    async fn new(seed: nzsync_sim::Seed, sync_lines: &str) -> Self {
        let sims = nzsync_sim::start(nzsync_sim::SimConfig {
            spec_check: true,
            domino_users: vec![
                ("demo".into(), "demo".into()),
                ("user2".into(), "user2".into()),
            ],
            ..nzsync_sim::SimConfig::loopback(seed)
        })
        .await
        .expect("simulators start");
        let dir = tempfile::tempdir().unwrap();
        let http = reqwest::Client::new();
        let mut users = Vec::new();
        for (name, zoho_id) in [("demo", DEMO_ID), ("user2", USER2_ID)] {
            let mail_db = format!("mail/{name}.nsf");
            let text = config_text(
                &sims.domino_url,
                &sims.zoho_url,
                name,
                &format!("{name}-refresh"),
                sync_lines,
            )
            .replace("user = \"demo\"", &format!("user = \"{name}\""))
            .replace(
                "mail_db = \"mail/demo.nsf\"",
                &format!("mail_db = \"{mail_db}\""),
            )
            .replace("state.db", &format!("{name}.db"));
            let config = dir.path().join(format!("{name}.toml"));
            std::fs::write(&config, text).unwrap();
            let token = token(&http, &sims.zoho_url, &format!("{name}-refresh")).await;
            users.push(User {
                name,
                zoho_id,
                mail_db,
                config,
                token,
            });
        }
        Self {
            sims,
            _dir: dir,
            users,
            http,
        }
    }

    fn user(&self, name: &str) -> &User {
        self.users.iter().find(|u| u.name == name).unwrap()
    }

    async fn sync(&self, name: &str) -> Run {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"));
        cmd.args(["sync", "--json", "--config"])
            .arg(&self.user(name).config);
        run_cmd(cmd).await
    }

    async fn sync_ok(&self, name: &str) -> Value {
        let run = self.sync(name).await;
        assert_eq!(run.code, 0, "{name}: {}\n{}", run.stdout, run.stderr);
        run.report()
    }

    async fn dump(&self, url: &str) -> Value {
        self.http
            .get(format!("{url}/_sim/dump"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The documents of `form` in a user's mail file: (unid, items).
    async fn notes_docs(&self, name: &str, form: &str) -> Vec<(String, Value)> {
        let dump = self.dump(&self.sims.domino_url).await;
        dump["databases"][&self.user(name).mail_db]["documents"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|d| d["form"] == form)
            .map(|d| (d["unid"].as_str().unwrap().to_owned(), d["items"].clone()))
            .collect()
    }

    /// The calendar entries of a user's mail file: (uid, the stored event).
    async fn notes_events(&self, name: &str) -> Vec<Value> {
        let dump = self.dump(&self.sims.domino_url).await;
        dump["databases"][&self.user(name).mail_db]["events"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    async fn crm(&self, module: &str) -> Vec<Value> {
        let dump = self.dump(&self.sims.zoho_url).await;
        dump["modules"][module]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The replica ID the server lists for a user's mail file.
    async fn replica_id(&self, name: &str) -> String {
        let list: Value = self
            .http
            .get(format!("{}/api/data", self.sims.domino_url))
            .basic_auth(name, Some(name))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let db = &self.user(name).mail_db;
        list.as_array()
            .unwrap()
            .iter()
            .find(|d| d["@filepath"].as_str() == Some(db))
            .and_then(|d| d["@replicaid"].as_str())
            .unwrap_or_else(|| panic!("{db} is not listed: {list}"))
            .to_owned()
    }

    async fn crm_write(
        &self,
        name: &str,
        method: reqwest::Method,
        module: &str,
        body: Value,
    ) -> Value {
        let r: Value = self
            .http
            .request(method, format!("{}/crm/v8/{module}", self.sims.zoho_url))
            .header(
                "Authorization",
                format!("Zoho-oauthtoken {}", self.user(name).token),
            )
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["data"][0]["status"], "success", "{r}");
        r
    }

    /// Creates a Zoho record as `name` (who owns it) and returns its id.
    async fn crm_create(&self, name: &str, module: &str, rec: Value) -> String {
        let r = self
            .crm_write(
                name,
                reqwest::Method::POST,
                module,
                json!({ "data": [rec] }),
            )
            .await;
        r["data"][0]["details"]["id"].as_str().unwrap().to_owned()
    }

    /// Reassigns a Zoho record to `owner` (an update of `Owner`, as a CRM user would).
    async fn reassign(&self, module: &str, id: &str, owner: &str) {
        self.crm_write(
            "demo",
            reqwest::Method::PUT,
            module,
            json!({ "data": [{ "id": id, "Owner": { "id": owner } }] }),
        )
        .await;
    }

    async fn notes_patch(&self, name: &str, unid: &str, items: Value) {
        let db = &self.user(name).mail_db;
        let r = self
            .http
            .patch(format!(
                "{}/{db}/api/data/documents/unid/{unid}",
                self.sims.domino_url
            ))
            .basic_auth(name, Some(name))
            .json(&items)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "DAS patch");
    }

    async fn advance_clocks(&self, secs: i64) {
        for url in [&self.sims.domino_url, &self.sims.zoho_url] {
            let r = self
                .http
                .post(format!("{url}/_sim/clock"))
                .json(&json!({ "advance_secs": secs }))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
        }
    }

    /// Every rule of owner scope, checked on the simulators' data:
    /// - a Notes document that names a Zoho record (`ZohoCRMId`) names one its user owns;
    /// - a Zoho record's cross-ID names its owner's mail file (or nothing);
    /// - no record of a user who never connects is named by any Notes document.
    ///
    /// `kept` are Zoho ids a user's Notes may still name after they left the user's scope:
    /// copies changed in Notes, unlinked and kept (the rule says so), named so they are never
    /// created in CRM again.
    async fn assert_scoped(&self, kept: &[&str]) {
        let mut replica = BTreeMap::new();
        for u in &self.users {
            replica.insert(u.zoho_id, self.replica_id(u.name).await);
        }
        for (module, form) in [
            ("Contacts", Some("Person")),
            ("Tasks", Some("Task")),
            ("Events", None),
        ] {
            let crm = self.crm(module).await;
            let owner_of: BTreeMap<String, String> = crm
                .iter()
                .map(|r| {
                    (
                        s(r, "id"),
                        r["Owner"]["id"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect();
            for u in &self.users {
                let named: Vec<String> = match form {
                    Some(form) => self
                        .notes_docs(u.name, form)
                        .await
                        .iter()
                        .map(|(_, d)| s(d, "ZohoCRMId"))
                        .filter(|z| !z.is_empty())
                        .collect(),
                    None => self
                        .notes_events(u.name)
                        .await
                        .iter()
                        .map(zoho_id_of_event)
                        .filter(|z| !z.is_empty())
                        .collect(),
                };
                for z in named.into_iter().filter(|z| !kept.contains(&z.as_str())) {
                    if let Some(owner) = owner_of.get(&z) {
                        assert_eq!(
                            owner, u.zoho_id,
                            "{}'s Notes holds {module} {z}, owned by {owner}",
                            u.name
                        );
                    }
                }
            }
            for r in &crm {
                let x = s(r, "Notes_UNID");
                if x.is_empty() {
                    continue;
                }
                let owner = r["Owner"]["id"].as_str().unwrap_or("");
                let want = replica.get(owner).unwrap_or_else(|| {
                    panic!(
                        "{module} {} of a user who never synced has cross-ID {x}",
                        s(r, "id")
                    )
                });
                assert!(
                    x.starts_with(&format!("{want}:")),
                    "{module} {} owned by {owner} has cross-ID {x}, not naming {want}",
                    s(r, "id")
                );
            }
        }
    }
}

/// The Zoho id an event stores in Notes (the `x-zoho-crm-id` property the mapping writes).
fn zoho_id_of_event(e: &Value) -> String {
    let x = &e["event"][sync_core::calendar::NOTES_EVENT_XREF];
    x.get("data")
        .unwrap_or(x)
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn token(http: &reqwest::Client, zoho: &str, refresh: &str) -> String {
    let v: Value = http
        .post(format!("{zoho}/oauth/v2/token?grant_type=refresh_token&client_id=demo-client&client_secret=demo-secret&refresh_token={refresh}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"].as_str().expect("access token").to_owned()
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
    let org = Org::new(nzsync_sim::Seed::Demo, "events = \"all\"").await;
    let user2_before = org.notes_docs("user2", "Person").await.len();

    org.sync_ok("demo").await;
    org.assert_scoped(&[]).await;
    let r = org.sync_ok("user2").await;
    org.assert_scoped(&[]).await;
    // user2's Notes gained only user2's CRM contacts.
    let crm = org.crm("Contacts").await;
    let user2_crm: usize = crm
        .iter()
        .filter(|c| c["Owner"]["id"] == USER2_ID && !c["Tag"].to_string().contains("Private"))
        .count();
    let user2_after = org.notes_docs("user2", "Person").await.len();
    assert!(
        user2_after <= user2_before + user2_crm,
        "user2's contacts went from {user2_before} to {user2_after} with {user2_crm} of their own in CRM: {r}"
    );
    // The second demo run finds its links intact: nothing to link again, nothing created.
    let again = org.sync_ok("demo").await;
    for m in again["modules"].as_array().unwrap() {
        assert_eq!(m["counts"]["linked"], 0, "{m}");
        assert_eq!(m["counts"]["created"], 0, "{m}");
    }
    org.assert_scoped(&[]).await;

    for _ in 0..2 {
        let (a, b) = tokio::join!(org.sync("demo"), org.sync("user2"));
        assert_eq!(a.code, 0, "{}\n{}", a.stdout, a.stderr);
        assert_eq!(b.code, 0, "{}\n{}", b.stdout, b.stderr);
        org.assert_scoped(&[]).await;
    }
    // Converged: a further run of each writes nothing.
    for name in ["demo", "user2"] {
        let rep = org.sync_ok(name).await;
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
    let org = Org::new(nzsync_sim::Seed::Empty, "").await;
    let moved = org
        .crm_create(
            "demo",
            "Contacts",
            json!({"First_Name": "Mori", "Last_Name": "Moved", "Email": "mori@example.jp"}),
        )
        .await;
    let edited = org
        .crm_create(
            "demo",
            "Contacts",
            json!({"First_Name": "Eda", "Last_Name": "Edited", "Email": "eda@example.jp"}),
        )
        .await;
    org.crm_create(
        "user2",
        "Contacts",
        json!({"Last_Name": "Own", "Email": "own@example.com"}),
    )
    .await;
    org.sync_ok("demo").await;
    org.sync_ok("user2").await;
    assert_eq!(
        emails(&org.notes_docs("demo", "Person").await),
        BTreeSet::from(["mori@example.jp".to_owned(), "eda@example.jp".to_owned()])
    );
    assert_eq!(
        emails(&org.notes_docs("user2", "Person").await),
        BTreeSet::from(["own@example.com".to_owned()])
    );

    // demo edits one copy in Notes; then a manager reassigns both records to user2.
    let eda_unid = org
        .notes_docs("demo", "Person")
        .await
        .into_iter()
        .find(|(_, d)| s(d, "MailAddress") == "eda@example.jp")
        .unwrap()
        .0;
    org.notes_patch("demo", &eda_unid, json!({"JobTitle": "Buyer"}))
        .await;
    org.advance_clocks(30).await;
    org.reassign("Contacts", &moved, USER2_ID).await;
    org.reassign("Contacts", &edited, USER2_ID).await;
    org.advance_clocks(30).await;

    let rep = org.sync_ok("demo").await;
    let text = rep.to_string();
    assert!(text.contains("left your scope"), "{text}");
    // The unchanged copy left demo's Notes; the edited one stayed, unlinked.
    assert_eq!(
        emails(&org.notes_docs("demo", "Person").await),
        BTreeSet::from(["eda@example.jp".to_owned()])
    );
    org.sync_ok("user2").await;
    assert_eq!(
        emails(&org.notes_docs("user2", "Person").await),
        BTreeSet::from([
            "own@example.com".to_owned(),
            "mori@example.jp".to_owned(),
            "eda@example.jp".to_owned()
        ])
    );
    // Nothing was duplicated in CRM, by either run or by the next ones.
    for _ in 0..2 {
        org.advance_clocks(30).await;
        org.sync_ok("demo").await;
        org.sync_ok("user2").await;
    }
    let crm = org.crm("Contacts").await;
    assert_eq!(crm.len(), 3, "{crm:?}");
    org.assert_scoped(&[&edited]).await;
    assert_eq!(
        emails(&org.notes_docs("demo", "Person").await),
        BTreeSet::from(["eda@example.jp".to_owned()]),
        "the kept copy stays, and stays out of CRM"
    );

    // Back to demo: the kept copy re-links by its cross-ID instead of duplicating.
    org.reassign("Contacts", &edited, DEMO_ID).await;
    org.advance_clocks(30).await;
    org.sync_ok("demo").await;
    org.sync_ok("user2").await;
    assert_eq!(org.crm("Contacts").await.len(), 3);
    assert_eq!(
        emails(&org.notes_docs("demo", "Person").await),
        BTreeSet::from(["eda@example.jp".to_owned()])
    );
    assert_eq!(
        emails(&org.notes_docs("user2", "Person").await),
        BTreeSet::from(["own@example.com".to_owned(), "mori@example.jp".to_owned()])
    );
    org.assert_scoped(&[&edited]).await;
}
