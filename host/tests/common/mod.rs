//! What the server's integration tests share: the simulators and the server on loopback ports
//! ([`world`]), and a [`Browser`] that signs in through the OAuth code flow and calls the API
//! with its session cookie and CSRF token.
//!
//! A world keeps its store in a SQLite file, or, with `NZSYNC_TEST_STORE=postgres`, in a
//! throw-away PostgreSQL cluster of its own ([`postgres::Cluster`]): the same tests then run
//! against PostgreSQL. Tests reach the store's tables through [`World::sql`], which runs on
//! either.

#![allow(dead_code)] // Each test file uses its own part.

pub mod fleet;
pub mod postgres;

use std::collections::HashMap;
use std::path::PathBuf;

use nzsync::runner::Limits;
use nzsync::server::{AppState, app};
use nzsync::server_config::ServerConfig;
use nzsync::store::Store;
use nzsync_sim::{Seed, SimConfig, Simulators};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const PASSWORD: &str = "Pa55-w0rd-Secret!";
pub const PASSWORD2: &str = "S3cond-Pa55!";

pub struct World {
    pub sims: Simulators,
    pub base: String,
    /// The SQLite file (unused when the world's store is in PostgreSQL).
    pub db_path: PathBuf,
    /// The PostgreSQL cluster and the database's URL, when the store is there.
    pub postgres: Option<(postgres::Cluster, String)>,
    pub dir: tempfile::TempDir,
    pub state: AppState,
    /// Every body the server answered, to prove no secret is ever sent back.
    pub seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// The names the server's Domino client can resolve.
    pub resolver: std::sync::Arc<TestResolver>,
}

/// Every answer the simulators gave (to the server's proxy, meetings and headless runs) must
/// match the vendors' specs; a test that ends with a mismatch fails here.
impl Drop for World {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.sims.assert_spec_faithful();
        }
    }
}

pub async fn world(seed: Seed) -> World {
    world_configured(seed, |_| {}).await
}

/// The names the test resolver knows; everything else does not resolve. Tests program it
/// (rebinding: a name that answers one address, then another); no test reaches a real DNS
/// server.
#[derive(Default)]
pub struct TestResolver {
    /// name → the answers it gives, one per lookup; the last one repeats.
    pub names: std::sync::Mutex<HashMap<String, Vec<Vec<std::net::IpAddr>>>>,
    /// Every lookup, in order.
    pub asked: std::sync::Mutex<Vec<String>>,
}

impl TestResolver {
    /// `name` answers `answers[0]`, then `answers[1]`, …, then the last one for ever.
    pub fn set(&self, name: &str, answers: &[&[&str]]) {
        let answers = answers
            .iter()
            .map(|a| a.iter().map(|ip| ip.parse().unwrap()).collect())
            .collect();
        self.names.lock().unwrap().insert(name.to_owned(), answers);
    }

    /// How many times `name` was looked up.
    pub fn lookups(&self, name: &str) -> usize {
        self.asked
            .lock()
            .unwrap()
            .iter()
            .filter(|n| n.as_str() == name)
            .count()
    }
}

impl nzsync::domino_access::Resolver for TestResolver {
    fn resolve(&self, host: &str) -> nzsync::domino_access::Resolving {
        self.asked.lock().unwrap().push(host.to_owned());
        let mut names = self.names.lock().unwrap();
        let answer = match names.get_mut(host) {
            Some(list) if list.len() > 1 => Ok(list.remove(0)),
            Some(list) => Ok(list[0].clone()),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{host}: no such name"),
            )),
        };
        Box::pin(async move { answer })
    }
}

/// [`world`], whose server also allows the Domino servers `extra` (test upstreams that
/// [`set_domino_url`] points users at).
pub async fn world_allowing(seed: Seed, extra: &[&str]) -> World {
    let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
    world_with(
        seed,
        |sims| WorldOptions {
            allowed_servers: Some(
                std::iter::once(sims.domino_url.clone())
                    .chain(extra)
                    .collect(),
            ),
            ..WorldOptions::default()
        },
        |_| {},
    )
    .await
}

/// How a test world's server is set up.
#[derive(Default)]
pub struct WorldOptions {
    /// `[domino] allowed_servers`: `None` leaves the key out (any server at a public
    /// address). [`world`] lists exactly the Domino simulator.
    pub allowed_servers: Option<Vec<String>>,
    /// More keys of `[server]`.
    pub server_keys: String,
    /// More of `server.toml` (tables).
    pub extra_toml: String,
    /// More keys of `[schedule]`; unless they say otherwise, `enabled = false` (tests start job
    /// workers themselves).
    pub schedule_keys: String,
    /// Where the store is; `None`: as `NZSYNC_TEST_STORE` says (SQLite by default).
    pub store: Option<TestStore>,
}

/// The store a test world uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestStore {
    /// A throw-away PostgreSQL cluster of the world's own.
    Postgres,
    /// A SQLite file in the world's folder.
    Sqlite,
}

impl TestStore {
    /// What `NZSYNC_TEST_STORE` asks for (SQLite when unset).
    pub fn from_env() -> Self {
        match std::env::var("NZSYNC_TEST_STORE").as_deref() {
            Ok("postgres") => Self::Postgres,
            Ok("sqlite") | Err(_) => Self::Sqlite,
            Ok(other) => panic!("NZSYNC_TEST_STORE={other}: use sqlite or postgres"),
        }
    }
}

/// [`world`], with `configure` applied to the server's state before its router is built.
pub async fn world_configured(seed: Seed, configure: impl FnOnce(&AppState)) -> World {
    world_with_config(seed, "", configure).await
}

/// [`world_configured`], with `extra` appended to the server's config file (more sections).
pub async fn world_with_config(
    seed: Seed,
    extra: &str,
    configure: impl FnOnce(&AppState),
) -> World {
    let extra = extra.to_owned();
    world_with(
        seed,
        |sims| WorldOptions {
            allowed_servers: Some(vec![sims.domino_url.clone()]),
            extra_toml: extra,
            ..WorldOptions::default()
        },
        configure,
    )
    .await
}

/// Both simulators on free loopback ports, holding `seed`, with the Domino users `demo`
/// ([`PASSWORD`]) and `user2` ([`PASSWORD2`]).
pub async fn sims(seed: Seed) -> nzsync_sim::Simulators {
    nzsync_sim::start(SimConfig {
        domino_users: vec![
            ("demo".into(), PASSWORD.into()),
            ("user2".into(), PASSWORD2.into()),
        ],
        spec_check: true,
        ..SimConfig::loopback(seed)
    })
    .await
    .unwrap()
}

/// A world whose server config comes from `options` (given the simulators). Its Domino client
/// resolves names with a [`TestResolver`] (`World::resolver`) and connects from 127.0.0.1, so
/// nothing it does can leave the machine.
pub async fn world_with(
    seed: Seed,
    options: impl FnOnce(&Simulators) -> WorldOptions,
    configure: impl FnOnce(&AppState),
) -> World {
    let sims = sims(seed).await;
    let options = options(&sims);
    let domino = match &options.allowed_servers {
        Some(list) => format!(
            "[domino]\nallowed_servers = [{}]\n",
            list.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => String::new(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
[server]
listen = "{addr}"
public_url = "http://{addr}"
{server_keys}
[zoho]
client_id = "demo-client"
client_secret = "demo-secret"
accounts_url = "{z}"
api_domain = "{z}"
[store]
path = "server.db"
[schedule]
{schedule_keys}
{domino}{extra}"#,
        z = sims.zoho_url,
        server_keys = options.server_keys,
        schedule_keys = if options.schedule_keys.contains("enabled") {
            options.schedule_keys
        } else {
            format!("enabled = false\n{}", options.schedule_keys)
        },
        extra = options.extra_toml,
    );
    let postgres = match options.store.unwrap_or_else(TestStore::from_env) {
        TestStore::Postgres => {
            let cluster = postgres::Cluster::start();
            let url = cluster.database().await;
            Some((cluster, url))
        }
        TestStore::Sqlite => None,
    };
    // In the file too: tests run the `nzsync` binary on it.
    let text = match &postgres {
        Some((_, url)) => text.replacen("[store]\n", &format!("[store]\nurl = {url:?}\n"), 1),
        None => text,
    };
    let config_path = dir.path().join("server.toml");
    std::fs::write(&config_path, &text).unwrap();
    let cfg = ServerConfig::parse(&text, &config_path).unwrap();
    let db_path = cfg.store.path.clone();
    let store = Store::connect(&cfg.store.location().unwrap())
        .await
        .unwrap();
    let resolver = std::sync::Arc::new(TestResolver::default());
    let network = nzsync::domino_access::DominoNetwork {
        resolver: Some(resolver.clone()),
        local_address: Some(std::net::Ipv4Addr::LOCALHOST.into()),
    };
    let state = AppState::with_network(cfg, &[42; 32], store, Limits::default(), network).unwrap();
    configure(&state);
    let router = app(state.clone());
    let serving = state.clone();
    tokio::spawn(async move {
        nzsync::server::serve(&serving, listener, router, std::future::pending())
            .await
            .unwrap();
    });
    World {
        sims,
        base: format!("http://{addr}"),
        db_path,
        postgres,
        dir,
        state,
        seen: std::sync::Arc::default(),
        resolver,
    }
}

/// A browser: cookies by hand, no redirects followed.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: HashMap<String, String>,
    pub csrf: Option<String>,
    pub seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

impl Browser {
    pub fn new(w: &World) -> Self {
        Self::at(&w.base, w.seen.clone())
    }

    pub fn at(base: &str, seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> Self {
        Self {
            http: client(),
            base: base.to_owned(),
            cookies: HashMap::new(),
            csrf: None,
            seen,
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn take_cookies(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            assert!(v.contains("HttpOnly") && v.contains("SameSite=Lax"), "{v}");
            let (kv, _) = v.split_once(';').unwrap();
            let (k, val) = kv.split_once('=').unwrap();
            if val.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
    }

    pub async fn get_raw(&mut self, url: &str) -> reqwest::Response {
        let r = self
            .http
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.take_cookies(&r);
        r
    }

    /// Answers the simulator's consent page at `consent` (the sign-in redirect) as the Zoho
    /// user `user`: Zoho's answer, which redirects back to the server.
    pub async fn consent(&self, consent: &str, user: &str) -> reqwest::Response {
        let url = url::Url::parse(consent).unwrap();
        let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        form.push(("user".into(), user.into()));
        let accounts = format!("{}/oauth/v2/auth", url.origin().ascii_serialization());
        self.http
            .post(&accounts)
            .header("content-type", FORM)
            .body(form_body(&form))
            .send()
            .await
            .unwrap()
    }

    /// Signs in as the Zoho user `email` through the simulator's consent page.
    pub async fn sign_in(&mut self, email: &str) {
        let r = self.get_raw(&format!("{}/auth/login", self.base)).await;
        assert_eq!(r.status(), StatusCode::FOUND);
        let consent = location(&r);
        let page = self.http.get(&consent).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains(email));
        let r = self.consent(&consent, email).await;
        assert_eq!(r.status(), StatusCode::FOUND);
        let callback = location(&r);
        assert!(callback.starts_with(&format!("{}/auth/callback?code=", self.base)));
        let r = self.get_raw(&callback).await;
        let status = r.status();
        assert_eq!(status, StatusCode::FOUND, "{}", r.text().await.unwrap());
        assert!(self.cookies.contains_key("nzsync_session"));
        let (s, me) = self.call(Method::GET, "/api/me", None).await;
        assert_eq!(s, StatusCode::OK, "{me}");
        self.csrf = me["csrf_token"].as_str().map(str::to_owned);
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        csrf: bool,
        extra: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", self.cookie_header());
        if csrf && let Some(t) = &self.csrf {
            rb = rb.header("x-csrf-token", t);
        }
        for (k, v) in extra {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        self.seen.lock().unwrap().push(text.clone());
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.send(method, path, body, true, &[]).await
    }

    /// Connects this user to the Domino simulator as `demo` (F1).
    pub async fn connect(&self, w: &World) {
        let (s, e) = self
            .call(
                Method::POST,
                "/api/connect",
                Some(json!({ "server": w.sims.domino_url, "user": "demo", "password": PASSWORD })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{e}");
    }
}

pub const FORM: &str = "application/x-www-form-urlencoded";

pub fn form_body<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k.as_ref(), v.as_ref());
    }
    ser.finish()
}

/// A loopback listener that only counts the connections made to it: a request that reaches
/// it is a request the server should never have sent.
pub struct Canary {
    pub addr: std::net::SocketAddr,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Canary {
    pub async fn start() -> Self {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = l.accept().await {
                h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    use tokio::io::AsyncWriteExt as _;
                    let _ = sock
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\ncanary")
                        .await;
                });
            }
        });
        Self { addr, hits }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A loopback "upstream" answering every request with what `respond` writes to the socket
/// (the raw HTTP/1.1 answer, possibly endless); counts requests.
pub struct RawUpstream {
    pub url: String,
    hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl RawUpstream {
    pub async fn start<F, Fut>(respond: F) -> Self
    where
        F: Fn(tokio::net::TcpStream, String) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        use tokio::io::AsyncReadExt as _;
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let h = hits.clone();
        let respond = std::sync::Arc::new(respond);
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = l.accept().await {
                h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let respond = respond.clone();
                tokio::spawn(async move {
                    // Read the request head (bodies are ignored).
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    respond(sock, String::from_utf8_lossy(&head).into_owned()).await;
                });
            }
        });
        Self { url, hits }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Sends `head` (a raw request line and headers, `\r\n`-separated, without the final blank
/// line) and `body` to `base`'s port over a plain TCP socket, so paths reach the server byte
/// for byte (no client-side normalisation of `..`, `\` or `//`). Returns the status code and
/// the answer's body (0 when the server closed without answering).
pub async fn raw_http(base: &str, head: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = base.trim_start_matches("http://");
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("{head}\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    sock.write_all(req.as_bytes()).await.unwrap();
    let _ = sock.write_all(body).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        sock.read_to_end(&mut out),
    )
    .await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Points `user_id`'s stored Domino server at `url` (as if they had connected to it), so the
/// proxy and headless runs talk to a test upstream (which the world must allow:
/// [`world_allowing`]).
pub async fn set_domino_url(w: &World, user_id: &str, url: &str) {
    w.sql(
        "UPDATE srv_users SET domino_url = ?1 WHERE user_id = ?2",
        &[url, user_id],
    )
    .await;
}

/// The job queue of scheduled syncs beside `state`'s store, as `nzsync serve` opens it.
pub async fn job_queue(state: &AppState) -> nzsync::server::jobs::JobQueue {
    let config = state.config();
    nzsync::server::jobs::JobQueue::open(
        state.store(),
        &config.store.location().unwrap(),
        &config.schedule,
    )
    .await
    .unwrap()
}

impl World {
    /// How many jobs the queue of scheduled syncs holds (whatever their status).
    pub async fn job_count(&self) -> i64 {
        let table = if self.postgres.is_some() {
            "apalis.jobs"
        } else {
            "Jobs"
        };
        self.jobs_sql_count(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .await
    }

    /// [`World::sql_count`] on the job queue's database: the store's in PostgreSQL, the
    /// queue's own file beside the store's with SQLite.
    pub async fn jobs_sql_count(&self, query: &str, args: &[&str]) -> i64 {
        if self.postgres.is_some() {
            return self.sql_count(query, args).await;
        }
        rusqlite::Connection::open(nzsync::server::jobs::sqlite_path(&self.db_path))
            .unwrap()
            .query_row(query, rusqlite::params_from_iter(args.iter()), |r| r.get(0))
            .unwrap()
    }

    /// Runs `statement` (parameters `?1`, `?2`, … bound to `args`, as text) on the world's
    /// store database, SQLite or PostgreSQL; returns how many rows it changed.
    pub async fn sql(&self, statement: &str, args: &[&str]) -> u64 {
        match &self.postgres {
            Some((_, url)) => {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
                    .await
                    .unwrap();
                let mut q = sqlx::query(sqlx::AssertSqlSafe(dollar_parameters(statement)));
                for a in args {
                    q = q.bind(*a);
                }
                q.execute(&mut conn).await.unwrap().rows_affected()
            }
            None => {
                let conn = rusqlite::Connection::open(&self.db_path).unwrap();
                let n = conn
                    .execute(statement, rusqlite::params_from_iter(args.iter()))
                    .unwrap();
                u64::try_from(n).unwrap()
            }
        }
    }

    /// The first column of `query`'s first row as a number (a count), on either backend.
    pub async fn sql_count(&self, query: &str, args: &[&str]) -> i64 {
        match &self.postgres {
            Some((_, url)) => {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
                    .await
                    .unwrap();
                let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(dollar_parameters(query)));
                for a in args {
                    q = q.bind(*a);
                }
                q.fetch_one(&mut conn).await.unwrap()
            }
            None => rusqlite::Connection::open(&self.db_path)
                .unwrap()
                .query_row(query, rusqlite::params_from_iter(args.iter()), |r| r.get(0))
                .unwrap(),
        }
    }

    /// The first column of `query`'s first row as text, on either backend.
    pub async fn sql_text(&self, query: &str, args: &[&str]) -> String {
        match &self.postgres {
            Some((_, url)) => {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
                    .await
                    .unwrap();
                let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(dollar_parameters(query)));
                for a in args {
                    q = q.bind(*a);
                }
                q.fetch_one(&mut conn).await.unwrap()
            }
            None => rusqlite::Connection::open(&self.db_path)
                .unwrap()
                .query_row(query, rusqlite::params_from_iter(args.iter()), |r| r.get(0))
                .unwrap(),
        }
    }

    /// Every byte the store keeps on disk: the SQLite file and its write-ahead log, or the
    /// PostgreSQL cluster's data files and WAL.
    pub fn stored_bytes(&self) -> Vec<u8> {
        match &self.postgres {
            Some((cluster, _)) => {
                let mut bytes = Vec::new();
                read_tree(&cluster.data_dir().join("base"), &mut bytes);
                read_tree(&cluster.data_dir().join("pg_wal"), &mut bytes);
                bytes
            }
            None => {
                let mut bytes = std::fs::read(&self.db_path).unwrap();
                if let Ok(wal) = std::fs::read(self.db_path.with_extension("db-wal")) {
                    bytes.extend(wal);
                }
                bytes
            }
        }
    }
}

/// `?1`, `?2`, … as PostgreSQL writes them (`$1`, `$2`, …).
fn dollar_parameters(sql: &str) -> String {
    (1..=9).rev().fold(sql.to_owned(), |s, i| {
        s.replace(&format!("?{i}"), &format!("${i}"))
    })
}

/// Appends every file under `dir` to `out`.
fn read_tree(dir: &std::path::Path, out: &mut Vec<u8>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            read_tree(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.extend(bytes);
        }
    }
}
