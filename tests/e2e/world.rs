//! A test world: both simulators on free loopback ports, a temp folder with a config, and
//! helpers that change data through the simulators' real APIs and read it back from their
//! `/_sim/dump`.

use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;

use serde_json::{Value, json};

pub const DB: &str = "mail/demo.nsf";

/// The Domino API a world's `nzsync` syncs through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Domino Access Services.
    Das,
    /// The Domino REST API (the same simulated server, on its own port).
    Rest,
}

/// Runs an end-to-end test once against each Domino API: `async fn name(backend: Backend)`
/// becomes the tests `name::das` and `name::rest`.
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident: Backend) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($backend: $crate::world::Backend) $body

            #[tokio::test(flavor = "multi_thread")]
            async fn das() {
                run($crate::world::Backend::Das).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn rest() {
                run($crate::world::Backend::Rest).await;
            }
        }
    };
}

/// One user's view of an org: the shared simulators, the user's Domino login and mail file,
/// their Zoho token, and a config for `nzsync sync` as them. [`World::colleague`] gives a second
/// user of the same org on the same simulators.
pub struct World {
    pub sims: Arc<nzsync_sim::Simulators>,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    http: reqwest::Client,
    token: String,
    /// The Domino user (their password is the same word in the simulators).
    pub user: String,
    /// Their mail file.
    pub db: String,
    /// Their Zoho user id (who owns what they create in CRM).
    pub zoho_user: String,
    /// The Domino API their `nzsync` syncs through.
    pub backend: Backend,
}

/// Every answer the product received must match the vendors' specs (the simulators check
/// each one); a test that ends with a mismatch fails here, when its last user goes.
impl Drop for World {
    fn drop(&mut self) {
        if !std::thread::panicking() && Arc::strong_count(&self.sims) == 1 {
            self.sims.assert_spec_faithful();
        }
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON report printed with `--json`.
    pub fn report(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("report is not JSON ({e}): {}\n{}", self.stdout, self.stderr)
        })
    }

    /// The counts of `module` in the report.
    pub fn counts(&self, module: &str) -> Value {
        let r = self.report();
        r["modules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["module"] == module)
            .unwrap()["counts"]
            .clone()
    }
}

impl World {
    pub async fn new() -> Self {
        Self::with_sync_settings("").await
    }

    /// A world syncing through `backend`.
    pub async fn on(backend: Backend) -> Self {
        Self::with_sync_settings_on(backend, "").await
    }

    /// A world whose config has these extra `[sync]` lines.
    pub async fn with_sync_settings(sync_lines: &str) -> Self {
        Self::with_sync_settings_on(Backend::Das, sync_lines).await
    }

    /// A world syncing through `backend` whose config has these extra `[sync]` lines.
    pub async fn with_sync_settings_on(backend: Backend, sync_lines: &str) -> Self {
        let sims = nzsync_sim::start(nzsync_sim::SimConfig {
            spec_check: true,
            ..nzsync_sim::SimConfig::loopback(nzsync_sim::Seed::Empty)
        })
        .await
        .expect("simulators start");
        Self::for_user(Arc::new(sims), "demo", sync_lines, backend).await
    }

    /// An org of two users, `demo` and `user2`, each with their own mail file and Zoho token,
    /// on one pair of simulators (empty data).
    pub async fn org(sync_lines: &str) -> (Self, Self) {
        Self::org_with(nzsync_sim::Seed::Empty, sync_lines).await
    }

    /// [`World::org`] on simulators holding `seed`.
    pub async fn org_with(seed: nzsync_sim::Seed, sync_lines: &str) -> (Self, Self) {
        Self::org_on(Backend::Das, seed, sync_lines).await
    }

    /// [`World::org_with`], both users syncing through `backend`.
    pub async fn org_on(
        backend: Backend,
        seed: nzsync_sim::Seed,
        sync_lines: &str,
    ) -> (Self, Self) {
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
        let sims = Arc::new(sims);
        let demo = Self::for_user(Arc::clone(&sims), "demo", sync_lines, backend).await;
        let user2 = Self::for_user(sims, "user2", sync_lines, backend).await;
        (demo, user2)
    }

    /// `user` (Domino `user`/`user`, mail file `mail/{user}.nsf`, Zoho token `{user}-refresh`)
    /// on `sims`, with a config of their own syncing through `backend`.
    async fn for_user(
        sims: Arc<nzsync_sim::Simulators>,
        user: &str,
        sync_lines: &str,
        backend: Backend,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("nzsync.toml");
        let db = format!("mail/{user}.nsf");
        std::fs::write(
            &config,
            config_text(
                &sims.domino_url,
                &sims.zoho_url,
                user,
                &format!("{user}-refresh"),
                sync_lines,
            )
            .replace(
                &format!("url = \"{}\"\n", sims.domino_url),
                &domino_lines(backend, &sims),
            )
            .replace("user = \"demo\"", &format!("user = \"{user}\""))
            .replace(
                &format!("mail_db = \"{DB}\""),
                &format!("mail_db = \"{db}\""),
            ),
        )
        .unwrap();
        let http = reqwest::Client::new();
        let token = zoho_token_for(&http, &sims.zoho_url, &format!("{user}-refresh")).await;
        let me: Value = http
            .get(format!("{}/crm/v8/users?type=CurrentUser", sims.zoho_url))
            .header("Authorization", format!("Zoho-oauthtoken {token}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let zoho_user = me["users"][0]["id"]
            .as_str()
            .expect("current user")
            .to_owned();
        Self {
            sims,
            dir,
            config,
            http,
            token,
            user: user.to_owned(),
            db,
            zoho_user,
            backend,
        }
    }

    /// The URL of the Domino API the world syncs through.
    pub fn notes_url(&self) -> &str {
        match self.backend {
            Backend::Das => &self.sims.domino_url,
            Backend::Rest => &self.sims.drapi_url,
        }
    }

    /// Rewrites the config to sync through `backend` from now on (the same mail file, store
    /// and Zoho user).
    pub fn switch_to(&mut self, backend: Backend) {
        let text = std::fs::read_to_string(&self.config).unwrap();
        let from = domino_lines(self.backend, &self.sims);
        assert!(text.contains(&from), "{text}");
        std::fs::write(
            &self.config,
            text.replace(&from, &domino_lines(backend, &self.sims)),
        )
        .unwrap();
        self.backend = backend;
    }

    /// Runs `nzsync` with `args`, then `--config <this world's config>`.
    pub async fn nzsync(&self, args: &[&str]) -> Run {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"));
        // Every successful answer crosses into the engine in parts of a few hundred bytes (as
        // a large one does in production), so every suite also proves that reading answers in
        // parts changes nothing.
        cmd.env("NZSYNC_PART_BYTES", "257");
        cmd.args(args).arg("--config").arg(&self.config);
        run_cmd(cmd).await
    }

    /// `nzsync sync --json` plus `extra`.
    pub async fn sync(&self, extra: &[&str]) -> Run {
        let mut args = vec!["sync", "--json"];
        args.extend_from_slice(extra);
        self.nzsync(&args).await
    }

    /// The Zoho access token the world uses.
    pub fn token(&self) -> &str {
        &self.token
    }

    // ---- Domino, through DAS ----

    fn domino(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(
                method,
                format!("{}/{}/api/data/{path}", self.sims.domino_url, self.db),
            )
            .basic_auth(&self.user, Some(&self.user))
    }

    pub async fn notes_create(&self, items: Value) -> String {
        self.notes_create_form("Person", items).await
    }

    /// Creates a document of `form` through DAS and returns its UNID.
    pub async fn notes_create_form(&self, form: &str, items: Value) -> String {
        let r = self
            .domino(reqwest::Method::POST, &format!("documents?form={form}"))
            .json(&items)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            201,
            "DAS create: {}",
            r.text().await.unwrap_or_default()
        );
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        loc.rsplit('/').next().unwrap().to_owned()
    }

    pub async fn notes_patch(&self, unid: &str, items: Value) {
        let r = self
            .domino(reqwest::Method::PATCH, &format!("documents/unid/{unid}"))
            .json(&items)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "DAS patch");
    }

    pub async fn notes_delete(&self, unid: &str) {
        let r = self
            .domino(reqwest::Method::DELETE, &format!("documents/unid/{unid}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "DAS delete");
    }

    /// The replica ID the server lists for the user's mail file (`GET /api/data`).
    pub async fn replica_id(&self) -> String {
        let list: Value = self
            .http
            .get(format!("{}/api/data", self.sims.domino_url))
            .basic_auth(&self.user, Some(&self.user))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .find(|d| d["@filepath"].as_str() == Some(self.db.as_str()))
            .and_then(|d| d["@replicaid"].as_str())
            .unwrap_or_else(|| panic!("{} is not listed: {list}", self.db))
            .to_owned()
    }

    /// The Domino simulator's `/_sim/dump`.
    async fn domino_dump(&self) -> Value {
        self.http
            .get(format!("{}/_sim/dump", self.sims.domino_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A JWT of the world's user for the Domino REST API (the world's own look-ups).
    pub async fn drapi_token(&self) -> String {
        let login: Value = self
            .http
            .post(format!("{}/api/v1/auth", self.sims.drapi_url))
            .json(&json!({"username": self.user, "password": self.user}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        login["bearer"].as_str().expect("a JWT").to_owned()
    }

    /// The key the world's Domino API gives the event DAS knows by `uid`: the UID itself
    /// through DAS, the PIM entry's `uid` through the REST API.
    pub async fn event_key(&self, uid: &str) -> String {
        match self.backend {
            Backend::Das => uid.to_owned(),
            Backend::Rest => {
                let entry: Value = self
                    .http
                    .get(format!(
                        "{}/api/pim-v1/calendar/default/{uid}",
                        self.sims.drapi_url
                    ))
                    .bearer_auth(self.drapi_token().await)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                entry["uid"].as_str().expect("a PIM entry").to_owned()
            }
        }
    }

    /// The Zoho ids the user's mail file names: `ZohoCRMId` of contacts and to-dos, and the
    /// events' `x-nzsync-zoho-id`.
    pub async fn notes_zoho_ids(&self) -> Vec<String> {
        let dump = self.domino_dump().await;
        let db = &dump["databases"][&self.db];
        let docs = db["documents"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["form"] == "Person" || d["form"] == "Task")
            .map(|d| s(&d["items"], "ZohoCRMId"));
        let events = db["events"].as_array().into_iter().flatten().map(|e| {
            let x = &e["event"][sync_core::calendar::NOTES_EVENT_XREF];
            x.get("data")
                .unwrap_or(x)
                .as_str()
                .unwrap_or_default()
                .to_owned()
        });
        docs.chain(events).filter(|z| !z.is_empty()).collect()
    }

    /// Every Person document in the mail file: (unid, items).
    pub async fn notes_contacts(&self) -> Vec<(String, Value)> {
        self.notes_docs("Person").await
    }

    /// Every document of `form` in the mail file: (unid, items).
    pub async fn notes_docs(&self, form: &str) -> Vec<(String, Value)> {
        let dump = self.domino_dump().await;
        dump["databases"][&self.db]["documents"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|d| d["form"] == form)
            .map(|d| (d["unid"].as_str().unwrap().to_owned(), d["items"].clone()))
            .collect()
    }

    // ---- Domino calendar service ----

    fn calendar(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(
                method,
                format!("{}/{}/api/calendar/{path}", self.sims.domino_url, self.db),
            )
            .basic_auth(&self.user, Some(&self.user))
    }

    /// Creates an event (no notices) and returns its UID.
    pub async fn notes_event_create(&self, body: Value) -> String {
        let r = self
            .calendar(reqwest::Method::POST, "events?workflow=false")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            201,
            "calendar create: {}",
            r.text().await.unwrap_or_default()
        );
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        loc.rsplit('/').next().unwrap().to_owned()
    }

    pub async fn notes_event_put(&self, uid: &str, body: Value) {
        let r = self
            .calendar(
                reqwest::Method::PUT,
                &format!("events/{uid}?workflow=false"),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "calendar update: {}",
            r.text().await.unwrap_or_default()
        );
    }

    pub async fn notes_event_delete(&self, uid: &str) {
        let r = self
            .calendar(
                reqwest::Method::DELETE,
                &format!("events/{uid}?workflow=false"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "calendar delete");
    }

    /// The full event `uid` (its first VEVENT), or `None` when it does not exist.
    pub async fn notes_event(&self, uid: &str) -> Option<Value> {
        let r = self
            .calendar(reqwest::Method::GET, &format!("events/{uid}"))
            .send()
            .await
            .unwrap();
        if r.status() == 404 {
            return None;
        }
        let v: Value = r.json().await.unwrap();
        Some(v["events"][0].clone())
    }

    /// The list rows of the calendar between two instants (`…Z`).
    pub async fn notes_event_rows(&self, since: &str, before: &str) -> Vec<Value> {
        let r = self
            .calendar(
                reqwest::Method::GET,
                &format!("events?since={since}&before={before}&count=100"),
            )
            .send()
            .await
            .unwrap();
        let text = r.text().await.unwrap();
        if text.trim().is_empty() {
            return Vec::new();
        }
        let v: Value = serde_json::from_str(&text).unwrap();
        v["events"].as_array().cloned().unwrap_or_default()
    }

    // ---- Zoho, through the CRM API ----

    pub fn zoho(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/crm/v8/{path}", self.sims.zoho_url))
            .header("Authorization", format!("Zoho-oauthtoken {}", self.token))
    }

    pub async fn crm_create(&self, rec: Value) -> String {
        self.crm_create_in("Contacts", rec).await
    }

    /// Creates a record of `module` through the CRM API and returns its id.
    pub async fn crm_create_in(&self, module: &str, rec: Value) -> String {
        self.crm_create_many(module, &[rec])
            .await
            .pop()
            .expect("one id")
    }

    /// Creates records of `module` through the CRM API, 100 per call, and returns their ids.
    pub async fn crm_create_many(&self, module: &str, recs: &[Value]) -> Vec<String> {
        let mut ids = Vec::new();
        for batch in recs.chunks(100) {
            let r: Value = self
                .zoho(reqwest::Method::POST, module)
                .json(&json!({ "data": batch }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for d in r["data"].as_array().unwrap() {
                assert_eq!(d["status"], "success", "{d}");
                ids.push(d["details"]["id"].as_str().unwrap().to_owned());
            }
        }
        ids
    }

    pub async fn crm_update(&self, id: &str, rec: Value) {
        self.crm_update_in("Contacts", id, rec).await;
    }

    pub async fn crm_update_in(&self, module: &str, id: &str, mut rec: Value) {
        rec["id"] = json!(id);
        let r: Value = self
            .zoho(reqwest::Method::PUT, module)
            .json(&json!({"data": [rec]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["data"][0]["status"], "success", "{r}");
    }

    pub async fn crm_delete(&self, id: &str) {
        self.crm_delete_in("Contacts", id).await;
    }

    pub async fn crm_delete_in(&self, module: &str, id: &str) {
        let r: Value = self
            .zoho(reqwest::Method::DELETE, &format!("{module}?ids={id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["data"][0]["status"], "success", "{r}");
    }

    /// Every Zoho contact (full records).
    pub async fn crm_contacts(&self) -> Vec<Value> {
        self.crm_records("Contacts").await
    }

    /// Every record of a Zoho module (full records).
    pub async fn crm_records(&self, module: &str) -> Vec<Value> {
        let dump: Value = self
            .http
            .get(format!("{}/_sim/dump", self.sims.zoho_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        dump["modules"][module]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Calls logged by a simulator since the last reset: (method, path, status).
    pub async fn calls(&self, url: &str) -> Vec<(String, String, u16)> {
        let v: Value = self
            .http
            .get(format!("{url}/_sim/calls"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let list = v.get("calls").cloned().unwrap_or(v);
        list.as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["method"].as_str().unwrap().to_owned(),
                    c["path"].as_str().unwrap().to_owned(),
                    u16::try_from(c["status"].as_u64().unwrap()).unwrap(),
                )
            })
            .collect()
    }

    pub async fn clear_calls(&self) {
        for url in [
            &self.sims.domino_url,
            &self.sims.drapi_url,
            &self.sims.zoho_url,
        ] {
            self.http
                .delete(format!("{url}/_sim/calls"))
                .send()
                .await
                .unwrap();
        }
    }

    /// Moves both simulators' clocks `secs` seconds on (their `Date` answers and timestamps),
    /// e.g. past the engine's cursor overlap without waiting.
    pub async fn advance_clocks(&self, secs: i64) {
        for url in [&self.sims.domino_url, &self.sims.zoho_url] {
            let r = self
                .http
                .post(format!("{url}/_sim/clock"))
                .json(&serde_json::json!({ "advance_secs": secs }))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.status());
        }
    }

    /// Writes (non-GET calls to records) logged on the simulators: the Domino REST API's
    /// POSTs that only read (its login, DQL queries, bulk reads) do not count.
    pub async fn writes(&self) -> Vec<(String, String, u16)> {
        let mut all = self.calls(&self.sims.domino_url).await;
        all.extend(self.calls(&self.sims.drapi_url).await);
        all.extend(self.calls(&self.sims.zoho_url).await);
        all.into_iter()
            .filter(|(m, p, _)| m != "GET" && !p.starts_with("/oauth") && !p.starts_with("/_sim"))
            .filter(|(_, p, _)| {
                !matches!(
                    p.as_str(),
                    "/api/v1/auth" | "/api/v1/query" | "/api/v1/bulk/unid" | "/api/v1/bulk/etag"
                )
            })
            .collect()
    }

    /// Calls logged on the Domino API the world syncs through.
    pub async fn notes_calls(&self) -> Vec<(String, String, u16)> {
        self.calls(self.notes_url()).await
    }

    /// Whether `(method, path)` created Notes documents through the world's Domino API.
    pub fn is_notes_create(&self, method: &str, path: &str) -> bool {
        method == "POST"
            && match self.backend {
                Backend::Das => path.ends_with("/documents"),
                Backend::Rest => path == "/api/v1/document" || path == "/api/v1/bulk/create",
            }
    }
}

/// The `[domino]` lines that choose the Domino API: its URL and `api`.
fn domino_lines(backend: Backend, sims: &nzsync_sim::Simulators) -> String {
    match backend {
        Backend::Das => format!("url = \"{}\"\n", sims.domino_url),
        Backend::Rest => format!("url = \"{}\"\napi = \"rest\"\n", sims.drapi_url),
    }
}

pub fn config_text(
    domino: &str,
    zoho: &str,
    password: &str,
    refresh: &str,
    sync_lines: &str,
) -> String {
    // Events are off unless `sync_lines` sets them: each suite exercises its own module.
    let events = if sync_lines.contains("events") {
        ""
    } else {
        "events = \"off\""
    };
    format!(
        r#"[domino]
url = "{domino}"
user = "demo"
password = "{password}"
mail_db = "{DB}"

[zoho]
api_domain = "{zoho}"
accounts_url = "{zoho}"
client_id = "demo-client"
client_secret = "demo-secret"
refresh_token = "{refresh}"

[sync]
{sync_lines}
{events}

[store]
path = "state.db"
"#
    )
}

pub async fn run_cmd(mut cmd: tokio::process::Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().await.expect("nzsync runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

async fn zoho_token_for(http: &reqwest::Client, zoho: &str, refresh: &str) -> String {
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

/// The string value of an item or field, `""` when absent.
/// The number in environment variable `name`, else `default` (the suites' size and seed knobs).
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The Notes key a Zoho record's cross-ID names, without the mail file it names
/// (`{replica ID}:{key}`, `DESIGN.md` §4.3); asserts the mail file is named.
pub fn xref_key(v: &Value) -> String {
    let x = s(v, "Notes_UNID");
    let (file, key) = x
        .split_once(':')
        .unwrap_or_else(|| panic!("cross-ID {x:?} names no mail file"));
    assert!(
        file.len() == 16 && file.bytes().all(|b| b.is_ascii_hexdigit()),
        "cross-ID {x:?} does not start with a replica ID"
    );
    key.to_owned()
}

pub fn s(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl World {
    /// Fetches a fresh Zoho access token for the world's own edits (after the Zoho clock moved
    /// past the old one's lifetime).
    pub async fn renew_token(&mut self) {
        let refresh = format!("{}-refresh", self.user);
        self.token = zoho_token_for(&self.http, &self.sims.zoho_url, &refresh).await;
    }

    /// POSTs `body` to a `/_sim/` route of the simulator at `url`, expecting success.
    pub async fn sim_control(&self, url: &str, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{url}{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Runs `nzsync sync --json` plus `extra` with extra environment variables.
    pub async fn sync_env(&self, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"));
        cmd.args(["sync", "--json"])
            .args(extra)
            .arg("--config")
            .arg(&self.config)
            .envs(env.iter().copied());
        run_cmd(cmd).await
    }
}
