//! A fleet: real `nzsync serve` processes sharing one store (a throw-away PostgreSQL cluster, or
//! one SQLite file for a single host), the simulators on loopback, and many users of several
//! orgs with schedules. What the fleet test (`tests/fleet.rs`) and the fleet benchmark
//! (`tests/bench/fleet.rs`) share.
//!
//! Users are made as an org's admin and the operator would leave them: each is a CRM user of
//! the Zoho simulator with a refresh token of their own (`ZohoState::add_user`), a Domino user
//! with a mail file of their own, and a row in the store with both credentials sealed under the
//! fleet's master key, their settings (contacts and to-dos, two-way, a schedule) and no slot
//! due yet. The first org is the simulator's own, whose admin is the simulator's `demo` (who
//! may sign in through a replica); the others are orgs of the store only (the simulator has one
//! org: its users are told apart by owner, as the sync's scope is). Users share names and
//! e-mails, within an org and across orgs, and so do their contacts: a sync that mixed users up
//! would show it in the dumps.
//!
//! Rounds are driven through the store: [`Fleet::make_due`] puts every scheduled user's slot
//! at a given time, and the replicas' ticks queue it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nzsync::server::crypto::MasterKey;
use nzsync::store::{RunSummary, Store, StoreLocation, UserRow};
use nzsync_sim::{FaultKind, FaultRule, Seed, SimConfig, Simulators};
use serde_json::{Value, json};

use super::postgres::Cluster;
use super::{PASSWORD, TestStore, client};

/// The fleet's master key (every replica gets it through `NZSYNC_MASTER_KEY`).
pub const MASTER_KEY: [u8; 32] = [0x5a; 32];

/// The Zoho simulator's org id (its `GET /org`), the fleet's first org.
pub const SIM_ORG: &str = "5725767000000000123";

/// The simulator's `demo`: CRM administrator, admin of the first org.
pub const DEMO_EMAIL: &str = "demo@example.com";

/// Each user's sync settings: contacts (and to-dos with `todos`) both ways, on a one-hour
/// schedule (rounds come from [`Fleet::make_due`], not from the clock).
pub fn settings(todos: bool) -> String {
    format!(
        r#"{{"contacts":true,"tasks":{todos},"events":"off","direction":"two_way","conflict":"crm_wins","schedule_minutes":60}}"#
    )
}

/// The schedule's interval in [`SETTINGS`], ms.
pub const INTERVAL_MS: i64 = 60 * 60_000;

/// People the users' contacts are drawn from: every user has some of them, so names and
/// e-mails repeat across users and orgs.
pub const PEOPLE: [(&str, &str, &str); 12] = [
    ("Taro", "Yamada", "taro.yamada@example.jp"),
    ("花子", "佐藤", "hanako.sato@example.jp"),
    ("John", "Smith", "john.smith@example.com"),
    ("Maria", "Garcia", "maria.garcia@example.com"),
    ("健", "鈴木", "ken.suzuki@example.jp"),
    ("Anna", "Müller", "anna.mueller@example.de"),
    ("Wei", "Li", "li.wei@example.cn"),
    ("美咲", "高橋", "misaki.takahashi@example.jp"),
    ("David", "Brown", "david.brown@example.com"),
    ("Sofia", "Rossi", "sofia.rossi@example.it"),
    ("翔", "田中", "sho.tanaka@example.jp"),
    ("Emma", "Wilson", "emma.wilson@example.com"),
];

/// The users' own names: fewer than the users, so several users share one.
const USER_NAMES: [(&str, &str); 8] = [
    ("一郎", "伊藤"),
    ("Mary", "Jones"),
    ("Kenji", "Watanabe"),
    ("Laura", "Martin"),
    ("さくら", "中村"),
    ("Tom", "Clark"),
    ("Yuki", "Kobayashi"),
    ("Olivia", "Taylor"),
];

/// The users' e-mails: five, so each is worn by many users, in every org.
const USER_MAILS: [&str; 5] = [
    "sales@example.com",
    "info@example.co.jp",
    "crm@example.com",
    "eigyo@example.jp",
    "team@example.org",
];

/// How replicas schedule (`[schedule]`).
#[derive(Clone, Copy, Debug)]
pub struct ScheduleKeys {
    pub max_concurrent: u32,
    pub max_per_org: u32,
    pub tick_secs: u64,
    pub heartbeat_secs: u64,
    pub lease_secs: u64,
    pub retry_secs: u64,
}

/// How to make a fleet.
#[derive(Clone, Debug)]
pub struct FleetOptions {
    /// Users besides `demo` (the first org's admin, who has no data and no schedule).
    pub users: usize,
    /// Orgs the users are spread over, round robin (at least 1).
    pub orgs: usize,
    pub store: TestStore,
    pub schedule: ScheduleKeys,
    /// Sync to-dos too (each user has one on each side).
    pub todos: bool,
    /// The `nzsync` binary.
    pub bin: PathBuf,
}

/// One user of the fleet.
#[derive(Clone, Debug)]
pub struct FleetUser {
    /// The CRM user id (the store's user id).
    pub id: String,
    pub org: String,
    pub email: String,
    pub name: String,
    /// The Domino user name; the mail file is `mail/{domino}.nsf`.
    pub domino: String,
    pub password: String,
    pub refresh: String,
    /// Which of the users, from 0.
    pub index: usize,
}

impl FleetUser {
    /// The user's mail file.
    pub fn mail_db(&self) -> String {
        format!("mail/{}.nsf", self.domino)
    }

    /// The user's profile in the store (`srv:<user id>`).
    pub fn profile(&self) -> String {
        format!("srv:{}", self.id)
    }
}

/// What one user should have on both sides once synced: contacts by e-mail (first and last
/// name), to-dos by subject.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    pub contacts: BTreeMap<String, (String, String)>,
    pub tasks: std::collections::BTreeSet<String>,
}

/// The records of each user as first made: Notes has three contacts (and with `todos` a to-do),
/// the CRM two contacts (one of them also in Notes, with the same e-mail) and another to-do.
/// Returns the Domino and Zoho `/_sim/load` bodies and what each user should have once synced.
pub fn initial_data(users: &[FleetUser], todos: bool) -> (Value, Value, Vec<Records>) {
    let mut databases = serde_json::Map::new();
    let (mut contacts, mut tasks) = (Vec::new(), Vec::new());
    let mut want = Vec::new();
    for u in users {
        let i = u.index;
        let mut docs = Vec::new();
        let mut records = Records::default();
        for k in 0..3 {
            let (first, last, email) = PEOPLE[(i + k) % PEOPLE.len()];
            docs.push(json!({"form": "Person", "items": {
                "FirstName": first, "LastName": last, "MailAddress": email, "JobTitle": "Engineer"}}));
            records
                .contacts
                .insert(email.into(), (first.into(), last.into()));
        }
        for k in 2..4 {
            let (first, last, email) = PEOPLE[(i + k) % PEOPLE.len()];
            contacts.push(
                json!({"First_Name": first, "Last_Name": last, "Email": email,
                "Title": "Engineer", "Owner": {"id": u.id}, "Created_By": {"id": u.id},
                "Modified_By": {"id": u.id}}),
            );
            records
                .contacts
                .insert(email.into(), (first.into(), last.into()));
        }
        if todos {
            let call = format!("Call {}", PEOPLE[i % PEOPLE.len()].1);
            let quote = format!("Send the quote to {}", PEOPLE[(i + 1) % PEOPLE.len()].1);
            let month = 1 + i % 12;
            let due = format!("2027-{month:02}-10T03:00:00Z");
            docs.push(json!({"form": "Task", "items": {"Subject": call,
                "DueDateTime": {"type": "datetime", "data": due}, "Importance": "2"}}));
            tasks.push(
                json!({"Subject": quote, "Due_Date": format!("2027-{month:02}-20"),
                "Priority": "Normal", "Status": "Not Started", "Owner": {"id": u.id},
                "Created_By": {"id": u.id}, "Modified_By": {"id": u.id}}),
            );
            records.tasks.insert(call);
            records.tasks.insert(quote);
        }
        databases.insert(u.mail_db(), json!({ "documents": docs }));
        want.push(records);
    }
    (
        json!({ "databases": databases }),
        json!({ "modules": { "Contacts": contacts, "Tasks": tasks } }),
        want,
    )
}

/// What one user holds on one side: contacts as (e-mail, first name, last name) and to-dos
/// by subject, sorted, each as often as it is there.
pub type Held = (Vec<(String, String, String)>, Vec<String>);

/// Where the fleet's store is.
pub enum FleetStore {
    Postgres {
        cluster: Cluster,
        url: String,
        /// For the test's own queries.
        pool: sqlx::PgPool,
    },
    Sqlite {
        path: PathBuf,
    },
}

/// A running fleet (replicas are started with [`Fleet::spawn_replica`]).
pub struct Fleet {
    pub sims: Simulators,
    /// The users, in order (`demo` is not among them).
    pub users: Vec<FleetUser>,
    /// `demo`'s user id.
    pub demo_id: String,
    pub orgs: Vec<String>,
    /// What each user (same order) should have on both sides once synced.
    pub want: Vec<Records>,
    pub store: Store,
    pub location: FleetStore,
    pub options: FleetOptions,
    pub replicas: Vec<Replica>,
    pub dir: tempfile::TempDir,
}

impl Fleet {
    /// Starts the simulators and the store, and makes the orgs and users (see the module doc).
    pub async fn start(options: FleetOptions) -> Fleet {
        let n = options.users;
        let mut users: Vec<FleetUser> = (0..n)
            .map(|i| {
                let (first, last) = USER_NAMES[i % USER_NAMES.len()];
                FleetUser {
                    id: String::new(),
                    org: String::new(),
                    email: USER_MAILS[i % USER_MAILS.len()].to_owned(),
                    name: format!("{first} {last}"),
                    domino: format!("fleet{i:04}"),
                    password: format!("pw-{i:04}-secret"),
                    refresh: format!("fleet-refresh-{i:04}"),
                    index: i,
                }
            })
            .collect();
        let mut domino_users = vec![("demo".to_owned(), PASSWORD.to_owned())];
        domino_users.extend(users.iter().map(|u| (u.domino.clone(), u.password.clone())));
        let sims = nzsync_sim::start(SimConfig {
            domino_users,
            ..SimConfig::loopback(Seed::Empty)
        })
        .await
        .unwrap();
        let orgs: Vec<String> = (0..options.orgs.max(1))
            .map(|k| {
                if k == 0 {
                    SIM_ORG.to_owned()
                } else {
                    format!("fleet-org-{}", k + 1)
                }
            })
            .collect();
        for u in &mut users {
            let (first, last) = u.name.split_once(' ').unwrap();
            u.id = sims
                .zoho()
                .add_user(first, last, &u.email, &u.refresh)
                .unwrap();
            u.org = orgs[u.index % orgs.len()].clone();
        }
        let (notes, crm, want) = initial_data(&users, options.todos);
        sims.domino().load(&notes).unwrap();
        sims.zoho().load(&crm).unwrap();
        // Zoho's API limits are the org's; the simulator has one org for the fleet's several.
        let r = client()
            .post(format!("{}/_sim/config", sims.zoho_url))
            .json(&json!({ "concurrency": 1000, "sub_concurrency": 1000 }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        // The admin's set-up: the cross-reference field every user's sync needs.
        let demo_token = access_token(&sims.zoho_url, "demo-refresh").await;
        for module in ["Contacts", "Tasks", "Events"] {
            let r = client()
                .post(format!(
                    "{}/crm/v8/settings/fields?module={module}",
                    sims.zoho_url
                ))
                .header("Authorization", format!("Zoho-oauthtoken {demo_token}"))
                .json(
                    &json!({"fields": [{"field_label": "Notes UNID", "data_type": "text",
                    "length": 255, "external": {"type": "org", "show": true}}]}),
                )
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        }

        let dir = tempfile::tempdir().unwrap();
        let (location, store_location) = match options.store {
            TestStore::Postgres => {
                let cluster = Cluster::start();
                let url = cluster.database().await;
                let loc = StoreLocation::Postgres {
                    url: url.clone(),
                    max_connections: 4,
                };
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(4)
                    .connect(&url)
                    .await
                    .unwrap();
                (FleetStore::Postgres { cluster, url, pool }, loc)
            }
            TestStore::Sqlite => {
                let path = dir.path().join("server.db");
                (
                    FleetStore::Sqlite { path: path.clone() },
                    StoreLocation::Sqlite(path),
                )
            }
        };
        let store = Store::connect(&store_location).await.unwrap();
        let demo_id = seed_store(&store, &sims, &users, &orgs, &settings(options.todos)).await;
        Fleet {
            sims,
            users,
            demo_id,
            orgs,
            want,
            store,
            location,
            options,
            replicas: Vec::new(),
            dir,
        }
    }

    /// The config file of a replica listening on `port`.
    pub fn config(&self, port: u16) -> String {
        let s = self.options.schedule;
        let store = match &self.location {
            FleetStore::Postgres { url, .. } => format!("url = {url:?}\nmax_connections = 8"),
            FleetStore::Sqlite { path } => format!("path = {:?}", path.display().to_string()),
        };
        format!(
            r#"[server]
listen = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}"
[zoho]
client_id = "demo-client"
client_secret = "demo-secret"
accounts_url = "{z}"
api_domain = "{z}"
[store]
{store}
[schedule]
enabled = true
max_concurrent = {mc}
max_per_org = {mpo}
tick_secs = {tick}
heartbeat_secs = {hb}
lease_secs = {lease}
retry_secs = {retry}
[domino]
allowed_servers = ["{d}"]
"#,
            z = self.sims.zoho_url,
            d = self.sims.domino_url,
            mc = s.max_concurrent,
            mpo = s.max_per_org,
            tick = s.tick_secs,
            hb = s.heartbeat_secs,
            lease = s.lease_secs,
            retry = s.retry_secs,
        )
    }

    /// Starts replica `name` (a new `nzsync serve` process) and waits until it is ready.
    pub async fn spawn_replica(&mut self, name: &str) -> usize {
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let config = self.dir.path().join(format!("{name}.toml"));
            std::fs::write(&config, self.config(port)).unwrap();
            let log = self.dir.path().join(format!("{name}.log"));
            let mut replica = Replica::spawn(&self.options.bin, &config, &log, name, port);
            match replica.ready().await {
                Ok(()) => {
                    self.replicas.push(replica);
                    return self.replicas.len() - 1;
                }
                // Another process took the port between the look and the bind.
                Err(e) => last = e,
            }
        }
        panic!("replica {name} did not start:\n{last}");
    }

    /// Puts the next sync of every scheduled user but the users `except` (indexes) at `slot`
    /// (ms since the epoch; a small number is long past), so that every replica's next tick
    /// finds them due. `demo` is among them once a schedule of theirs is stored.
    pub async fn make_due(&self, slot: i64, except: &[usize]) {
        self.execute(&format!(
            "UPDATE srv_users SET next_sync = {slot} \
             WHERE (next_sync IS NOT NULL OR user_id <> '{}') AND user_id NOT IN ({})",
            self.demo_id,
            self.id_list(except)
        ))
        .await;
    }

    /// Puts the next sync of the users `only` (indexes) at `slot`.
    pub async fn make_due_only(&self, slot: i64, only: &[usize]) {
        self.execute(&format!(
            "UPDATE srv_users SET next_sync = {slot} WHERE user_id IN ({})",
            self.id_list(only)
        ))
        .await;
    }

    /// The ids of the users `users` (indexes) as an SQL list (`''` when none).
    fn id_list(&self, users: &[usize]) -> String {
        if users.is_empty() {
            return "''".to_owned();
        }
        users
            .iter()
            .map(|&i| format!("'{}'", self.users[i].id))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Runs one statement on the store's database.
    pub async fn execute(&self, sql: &str) {
        match &self.location {
            FleetStore::Postgres { pool, .. } => {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(pool)
                    .await
                    .unwrap();
            }
            FleetStore::Sqlite { path } => {
                let c = rusqlite::Connection::open(path).unwrap();
                c.busy_timeout(Duration::from_secs(30)).unwrap();
                c.execute_batch(sql).unwrap();
            }
        }
    }

    /// The PostgreSQL pool of the test's own queries (`None` with SQLite).
    pub fn pg(&self) -> Option<&sqlx::PgPool> {
        match &self.location {
            FleetStore::Postgres { pool, .. } => Some(pool),
            FleetStore::Sqlite { .. } => None,
        }
    }

    /// Every sync (not preview) in the history, by profile, oldest first (every user and
    /// `demo` has an entry).
    pub async fn runs(&self) -> BTreeMap<String, Vec<RunSummary>> {
        let mut out: BTreeMap<String, Vec<RunSummary>> = self
            .users
            .iter()
            .map(|u| u.profile())
            .chain([format!("srv:{}", self.demo_id)])
            .map(|p| (p, Vec::new()))
            .collect();
        let rows: Vec<(String, i64, i64, i64, String)> = match &self.location {
            FleetStore::Postgres { pool, .. } => sqlx::query_as(
                "SELECT profile, id, started, finished, outcome FROM runs WHERE NOT dry_run \
                 ORDER BY id",
            )
            .fetch_all(pool)
            .await
            .unwrap(),
            FleetStore::Sqlite { path } => {
                let c = rusqlite::Connection::open(path).unwrap();
                c.busy_timeout(Duration::from_secs(30)).unwrap();
                let mut q = c
                    .prepare(
                        "SELECT profile, id, started, finished, outcome FROM runs \
                         WHERE dry_run = 0 ORDER BY id",
                    )
                    .unwrap();
                q.query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
            }
        };
        for (profile, id, started, finished, outcome) in rows {
            out.entry(profile).or_default().push(RunSummary {
                id,
                started,
                finished,
                dry_run: false,
                outcome,
            });
        }
        out
    }

    /// Waits until every user has at least `want` runs (and `demo` `demo_want`), up to
    /// `timeout`; returns the history.
    pub async fn wait_for_runs(
        &self,
        want: usize,
        demo_want: usize,
        timeout: Duration,
    ) -> BTreeMap<String, Vec<RunSummary>> {
        let deadline = Instant::now() + timeout;
        let demo = format!("srv:{}", self.demo_id);
        loop {
            let runs = self.runs().await;
            let behind: Vec<&String> = runs
                .iter()
                .filter(|(p, r)| r.len() < if **p == demo { demo_want } else { want })
                .map(|(p, _)| p)
                .collect();
            if behind.is_empty() {
                return runs;
            }
            if Instant::now() > deadline {
                self.dump_logs();
                panic!(
                    "{} users still lack run {want} after {timeout:?}, e.g. {:?}",
                    behind.len(),
                    behind.iter().take(5).collect::<Vec<_>>()
                );
            }
            for r in &self.replicas {
                r.assert_alive_unless_killed();
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Prints the tail of every replica's log (when a wait fails).
    pub fn dump_logs(&self) {
        for r in &self.replicas {
            let text = std::fs::read_to_string(&r.log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            eprintln!("--- replica {} (last lines of its log) ---", r.name);
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    }

    /// The Domino and CRM records of each user, as the simulators' dumps hold them: contacts
    /// as (e-mail, first, last) and to-dos by subject, each listed as often as it is there.
    pub fn records_on_both_sides(&self) -> (BTreeMap<String, Held>, BTreeMap<String, Held>) {
        let notes = self.sims.domino().dump();
        let crm = self.sims.zoho().dump();
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Array(a) => a
                .first()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            _ => String::new(),
        };
        let mut on_notes = BTreeMap::new();
        for u in &self.users {
            let (mut contacts, mut tasks) = (Vec::new(), Vec::new());
            let docs = notes["databases"][u.mail_db()]["documents"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for d in docs {
                let items = &d["items"];
                match d["form"].as_str() {
                    Some("Person") => contacts.push((
                        text(&items["MailAddress"]),
                        text(&items["FirstName"]),
                        text(&items["LastName"]),
                    )),
                    Some("Task") => tasks.push(text(&items["Subject"])),
                    _ => {}
                }
            }
            contacts.sort();
            tasks.sort();
            on_notes.insert(u.id.clone(), (contacts, tasks));
        }
        let mut on_crm: BTreeMap<String, Held> = self
            .users
            .iter()
            .map(|u| (u.id.clone(), (Vec::new(), Vec::new())))
            .collect();
        let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        for c in crm["modules"]["Contacts"].as_array().into_iter().flatten() {
            if let Some(e) = on_crm.get_mut(&s(&c["Owner"]["id"])) {
                e.0.push((s(&c["Email"]), s(&c["First_Name"]), s(&c["Last_Name"])));
            }
        }
        for t in crm["modules"]["Tasks"].as_array().into_iter().flatten() {
            if let Some(e) = on_crm.get_mut(&s(&t["Owner"]["id"])) {
                e.1.push(s(&t["Subject"]));
            }
        }
        for e in on_crm.values_mut() {
            e.0.sort();
            e.1.sort();
        }
        (on_notes, on_crm)
    }

    /// Panics unless every user has exactly their [`Records`] on both sides, each once.
    pub fn assert_converged(&self) {
        let (notes, crm) = self.records_on_both_sides();
        let mut wrong = Vec::new();
        for (u, want) in self.users.iter().zip(&self.want) {
            let contacts: Vec<(String, String, String)> = want
                .contacts
                .iter()
                .map(|(e, (f, l))| (e.clone(), f.clone(), l.clone()))
                .collect();
            let tasks: Vec<String> = want.tasks.iter().cloned().collect();
            for (side, got) in [("Notes", &notes[&u.id]), ("CRM", &crm[&u.id])] {
                if got.0 != contacts || got.1 != tasks {
                    wrong.push(format!(
                        "{} ({}) on {side}: contacts {:?} to-dos {:?}; want {contacts:?} {tasks:?}",
                        u.domino, u.id, got.0, got.1
                    ));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} users' records differ:\n{}",
            wrong.len() / 2,
            wrong
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// An access token of `user`'s own (a refresh grant at the simulator).
    pub async fn token(&self, user: &FleetUser) -> String {
        access_token(&self.sims.zoho_url, &user.refresh).await
    }

    /// Adds contact `person` to `user`'s Notes contacts, as their Notes client would.
    pub async fn notes_add_contact(&mut self, user: usize, person: (&str, &str, &str)) {
        let u = &self.users[user];
        let r = client()
            .post(format!(
                "{}/{}/api/data/documents?form=Person",
                self.sims.domino_url,
                u.mail_db()
            ))
            .basic_auth(&u.domino, Some(&u.password))
            .json(&json!({"FirstName": person.0, "LastName": person.1, "MailAddress": person.2}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        self.want[user]
            .contacts
            .insert(person.2.into(), (person.0.into(), person.1.into()));
    }

    /// Adds contact `person` to the CRM as `user` (who owns it), with `token` (theirs).
    pub async fn crm_add_contact(&mut self, user: usize, token: &str, person: (&str, &str, &str)) {
        let r = client()
            .post(format!("{}/crm/v8/Contacts", self.sims.zoho_url))
            .header("Authorization", format!("Zoho-oauthtoken {token}"))
            .json(
                &json!({"data": [{"First_Name": person.0, "Last_Name": person.1,
                "Email": person.2}]}),
            )
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["data"][0]["code"], "SUCCESS", "{v}");
        self.want[user]
            .contacts
            .insert(person.2.into(), (person.0.into(), person.1.into()));
    }

    /// Deletes `user`'s CRM contact with e-mail `email` as `user`, with `token` (theirs).
    pub async fn crm_delete_contact(&mut self, user: usize, token: &str, email: &str) {
        let id = self.users[user].id.clone();
        let crm = self.sims.zoho().dump();
        let record = crm["modules"]["Contacts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["Owner"]["id"] == id.as_str() && c["Email"] == email)
            .unwrap_or_else(|| panic!("{id} has no CRM contact {email}"))["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = client()
            .delete(format!("{}/crm/v8/Contacts/{record}", self.sims.zoho_url))
            .header("Authorization", format!("Zoho-oauthtoken {token}"))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        self.want[user].contacts.remove(email);
    }

    /// Slows the Domino calls to the mail files of `users`: reads wait `read_ms` before they
    /// are answered; writes (POST, PUT, DELETE) are carried out at once, and their answers held
    /// back `write_answer_ms`. No users: every call as fast as before.
    pub fn slow_mail_files(&self, users: &[usize], read_ms: u64, write_answer_ms: u64) {
        let rule = |i: usize, method: &str, ms: u64, after: bool| FaultRule {
            kind: FaultKind::Delay { ms, after },
            method: Some(method.to_owned()),
            path_prefix: Some(format!("/{}/", self.users[i].mail_db())),
            every: 1,
            times: None,
            percent: None,
        };
        self.sims.domino().set_faults(
            users
                .iter()
                .flat_map(|&i| {
                    [
                        rule(i, "GET", read_ms, false),
                        rule(i, "POST", write_answer_ms, true),
                        rule(i, "PUT", write_answer_ms, true),
                        rule(i, "DELETE", write_answer_ms, true),
                    ]
                })
                .collect(),
        );
    }
}

/// Writes the orgs and users into the store (see the module doc); returns `demo`'s id.
async fn seed_store(
    store: &Store,
    sims: &Simulators,
    users: &[FleetUser],
    orgs: &[String],
    settings: &str,
) -> String {
    // The contexts the server seals the two secrets under (`server::connect::password_context`
    // and `server::zoho::refresh_context`): a sealed value opens only in its user's row and
    // column. If they change, every sync here fails to open its secrets and the test says so.
    let key = MasterKey::new(&MASTER_KEY);
    let refresh = |id: &str, token: &str| key.seal(&format!("zoho_refresh_token:{id}"), token);
    let password = |id: &str, pw: &str| key.seal(&format!("domino_password:{id}"), pw);
    let now = now_ms();
    let demo_id = "5725767000000411001".to_owned();
    let mut db = store.begin().await.unwrap();
    for (k, org) in orgs.iter().enumerate() {
        let admin = if k == 0 {
            demo_id.clone()
        } else {
            users
                .iter()
                .find(|u| u.org == *org)
                .map_or_else(|| demo_id.clone(), |u| u.id.clone())
        };
        db.insert_org(org, &admin, &sims.zoho_url, now)
            .await
            .unwrap();
    }
    db.insert_user(&UserRow {
        is_admin: true,
        refresh_token: Some(refresh(&demo_id, "demo-refresh")),
        ..UserRow::new(&demo_id, SIM_ORG, DEMO_EMAIL, "Demo User", now)
    })
    .await
    .unwrap();
    for u in users {
        let is_admin = orgs
            .iter()
            .position(|o| *o == u.org)
            .is_some_and(|k| k > 0 && users.iter().find(|x| x.org == u.org).unwrap().id == u.id);
        db.insert_user(&UserRow {
            is_admin,
            refresh_token: Some(refresh(&u.id, &u.refresh)),
            ..UserRow::new(&u.id, &u.org, &u.email, &u.name, now)
        })
        .await
        .unwrap();
        db.set_connection(
            &u.id,
            &sims.domino_url,
            &u.domino,
            &password(&u.id, &u.password),
            &u.mail_db(),
            nzsync::config::DominoApiChoice::Das,
        )
        .await
        .unwrap();
        db.set_settings(&u.id, settings, None).await.unwrap();
    }
    db.commit().await.unwrap();
    demo_id
}

/// An access token for `refresh` from the Zoho simulator's token endpoint.
pub async fn access_token(zoho: &str, refresh: &str) -> String {
    let v: Value = client()
        .post(format!("{zoho}/oauth/v2/token"))
        .header("content-type", super::FORM)
        .body(super::form_body(&[
            ("grant_type", "refresh_token"),
            ("client_id", "demo-client"),
            ("client_secret", "demo-secret"),
            ("refresh_token", refresh),
        ]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {v}"))
        .to_owned()
}

/// One `nzsync serve` process.
pub struct Replica {
    pub name: String,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub log: PathBuf,
    child: Child,
    killed: bool,
}

impl Replica {
    /// Starts `nzsync serve --config config`, its output going to `log`.
    pub fn spawn(bin: &Path, config: &Path, log: &Path, name: &str, port: u16) -> Replica {
        let out = std::fs::File::create(log).unwrap();
        let child = Command::new(bin)
            .args(["serve", "--config"])
            .arg(config)
            .env(
                nzsync::server_config::MASTER_KEY_ENV,
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, MASTER_KEY),
            )
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Replica {
            name: name.to_owned(),
            base: format!("http://127.0.0.1:{port}"),
            log: log.to_owned(),
            child,
            killed: false,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `/readyz` answers 200 with the job queue on; the log when the process ends
    /// first or it takes a minute.
    pub async fn ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited ({status}):\n{}",
                    self.name,
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                ));
            }
            if let Ok(r) = client().get(format!("{}/readyz", self.base)).send().await
                && r.status().is_success()
                && let Ok(v) = r.json::<Value>().await
                && v["jobs"] == "ok"
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} not ready after a minute:\n{}",
                    self.name,
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: the process ends at once, mid-run or not.
    pub fn kill(&mut self) {
        self.killed = true;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits up to `grace` for the process to end; its exit status.
    pub async fn terminate(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.killed = true;
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }

    /// Panics (with its log) if the process ended without being killed.
    pub fn assert_alive_unless_killed(&self) {
        if self.killed {
            return;
        }
        // `try_wait` needs `&mut`; the process's /proc entry says as much.
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let state = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        assert!(
            !matches!(state, None | Some('Z' | 'X')),
            "replica {} ended by itself:\n{}",
            self.name,
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// Now, ms since the epoch.
pub fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}
