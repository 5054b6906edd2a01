//! `server.toml`: the configuration of `nzsync serve` (the multi-user web server).
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"                  # default
//! public_url = "https://sync.example.com"    # what browsers and Zoho's redirect see
//! session_hours = 12                         # default
//! [zoho]                                     # the OAuth client registered in Zoho's API console
//! client_id = "1000.XXXX"
//! client_secret_env = "NZSYNC_ZOHO_SECRET"   # or client_secret = "…"
//! accounts_url = "https://accounts.zoho.com"
//! api_domain = "https://www.zohoapis.com"
//! api_version = "v8"                         # default
//! [store]
//! path = "nzsync-server.db"                  # default: one SQLite file
//! url = "postgres://nzsync@db.example.com/nzsync"  # or PostgreSQL, for a fleet (or DATABASE_URL)
//! max_connections = 10                       # default: PostgreSQL connections per replica
//! [keys]
//! master_key_file = "master.key"             # or the environment variable NZSYNC_MASTER_KEY
//! [schedule]
//! enabled = true                             # default
//! max_concurrent = 2                         # default: scheduled syncs per replica at once
//! max_per_org = 2                            # default: syncs per CRM org at once, fleet-wide
//! tick_secs = 30                             # default
//! heartbeat_secs = 30                        # default: a replica silent for two is dead
//! lease_secs = 120                           # default: a scheduled run's lease, renewed
//! retry_secs = 30                            # default: wait when the user or org is busy
//! [domino]                                   # which Domino servers users may connect to
//! allowed_servers = ["https://mail.example.com", "*.example.com"]  # default: any, public addresses only
//! [proxy]                                    # the widget's proxy to Domino and Zoho
//! max_in_flight_per_user = 32                # default
//! memory_budget_mib = 128                    # default
//! [admins]                                   # optional
//! crm_users = ["it@example.com"]             # may be the integration's admin (see below)
//! [metrics]                                  # optional: /metrics is off without a token
//! token_env = "NZSYNC_METRICS_TOKEN"         # or token = "…" (16 characters or more)
//! ```
//!
//! `[server] frame_ancestors` adds origins (`https://crm.example.com`, `https://*.example.com`)
//! that may frame the widget, besides Zoho CRM's own ([`crate::web::ZOHO_FRAME_ANCESTORS`]).
//!
//! Unknown keys are refused; relative paths are resolved against the config file's folder. The
//! master key is 32 bytes, base64 (standard alphabet), in the file or in `NZSYNC_MASTER_KEY`;
//! the server refuses to start without one.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

/// Environment variable that may hold the master key (base64 of 32 bytes).
pub const MASTER_KEY_ENV: &str = "NZSYNC_MASTER_KEY";

/// Why the server config could not be used: the same error as the headless config's.
pub use crate::config::ConfigError as ServerConfigError;

/// `[server]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to listen on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The URL browsers reach the server at (the OAuth redirect is `{public_url}/auth/callback`).
    pub public_url: String,
    /// How long a sign-in lasts.
    #[serde(default = "default_session_hours")]
    pub session_hours: u32,
    /// Origins that may frame the widget besides Zoho CRM's (CSP `frame-ancestors`).
    #[serde(default)]
    pub frame_ancestors: Vec<String>,
}

/// `[domino]`: the Domino servers end users may connect to (`crate::domino_access`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DominoServersConfig {
    /// Exact origins and `*.domain` patterns. `None`: any server at a public address.
    pub allowed_servers: Option<Vec<String>>,
}

/// `[proxy]`: how much the widget's proxy takes on at once.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxyConfig {
    /// Proxied requests in flight per user; more are refused with 429.
    pub max_in_flight_per_user: u32,
    /// Memory the proxy may hold for requests in flight, all users together, MiB; a request
    /// that would go over it is refused with 429.
    pub memory_budget_mib: u32,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        Self {
            max_in_flight_per_user: 32,
            memory_budget_mib: 128,
        }
    }
}

/// `[zoho]`: the OAuth client and the Zoho data centre.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZohoClientConfig {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret, in clear (prefer `client_secret_env`).
    pub client_secret: Option<String>,
    /// Environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// Accounts server, e.g. `https://accounts.zoho.com`.
    pub accounts_url: String,
    /// API domain, e.g. `https://www.zohoapis.com`.
    pub api_domain: String,
    /// API version path segment.
    #[serde(default = "default_api_version")]
    pub api_version: String,
}

/// `[store]`: the SQLite file by default, or a PostgreSQL database shared by a fleet.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerStoreConfig {
    /// SQLite file (used when there is no `url`).
    pub path: PathBuf,
    /// `postgres://…`: everything goes to this PostgreSQL database instead of the file.
    /// `nzsync serve` also takes it from `DATABASE_URL` when the file does not set it.
    pub url: Option<String>,
    /// The most PostgreSQL connections one replica opens.
    pub max_connections: u32,
}

impl Default for ServerStoreConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("nzsync-server.db"),
            url: None,
            max_connections: crate::store::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl ServerStoreConfig {
    /// Where the store lives: PostgreSQL at `url` when set, else the SQLite file.
    ///
    /// # Errors
    /// When `url` is not a `postgres://` URL.
    pub fn location(&self) -> Result<crate::store::StoreLocation, crate::store::StoreError> {
        crate::store::StoreLocation::choose(self.url.as_deref(), &self.path, self.max_connections)
    }

    /// Takes the PostgreSQL URL from `database_url` (the `DATABASE_URL` environment variable)
    /// when the file names none.
    pub fn use_database_url(&mut self, database_url: Option<String>) {
        if self.url.as_deref().is_none_or(|u| u.trim().is_empty()) {
            self.url = database_url.filter(|u| !u.trim().is_empty());
        }
    }
}

/// The URL's password never reaches a log through `{:?}`.
impl std::fmt::Debug for ServerStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerStoreConfig")
            .field("path", &self.path)
            .field("url", &self.url.as_deref().map(crate::store::redact_url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// `[keys]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// File holding the master key (base64 of 32 bytes). `NZSYNC_MASTER_KEY` is used when absent.
    pub master_key_file: Option<PathBuf>,
}

/// `[schedule]`: headless scheduled syncs (B7), run as jobs (`server::jobs`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// Run users' scheduled syncs.
    pub enabled: bool,
    /// Scheduled syncs this replica runs at once at most.
    pub max_concurrent: u32,
    /// Syncs one CRM org runs at once at most, across every replica and counting the
    /// widget's browser runs (stay inside Zoho's concurrency limit).
    pub max_per_org: u32,
    /// How often a replica looks for due syncs and queues them.
    pub tick_secs: u64,
    /// How often a replica's job worker tells the queue it is alive; a worker silent for
    /// two of these is dead, and its jobs go to another replica.
    pub heartbeat_secs: u64,
    /// How long a scheduled run's sync lease lasts unless renewed (renewed every quarter of
    /// it): a run cut off on a dead replica holds its user this long.
    pub lease_secs: u64,
    /// How long a scheduled run waits before trying again when its user is already syncing
    /// or the org is at `max_per_org`.
    pub retry_secs: u64,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_concurrent: 2,
            max_per_org: 2,
            tick_secs: 30,
            heartbeat_secs: 30,
            lease_secs: 120,
            retry_secs: 30,
        }
    }
}

/// `[admins]`: CRM users the operator names as possible admins of the integration.
///
/// The integration's admin is a verified Zoho CRM administrator (the Administrator profile,
/// read from Zoho's users and profiles APIs at sign-in), or a CRM user listed here, by e-mail
/// (any case) or CRM user id. A listed user who signs in first for an org that has no admin
/// becomes its admin, and the admin may hand the role to them; being listed gives no rights in
/// an org that has an admin already.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminsConfig {
    /// E-mail addresses or CRM user ids.
    pub crm_users: Vec<String>,
}

impl AdminsConfig {
    /// Whether the operator names the CRM user `user_id` with `email`.
    #[must_use]
    pub fn names(&self, user_id: &str, email: &str) -> bool {
        self.crm_users.iter().map(|n| n.trim()).any(|n| {
            !n.is_empty() && (n == user_id || (!email.is_empty() && n.eq_ignore_ascii_case(email)))
        })
    }
}

/// `[metrics]`: who may read `/metrics` (off without a token).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// The bearer token a scrape must send, in clear (prefer `token_env`).
    pub token: Option<String>,
    /// The environment variable that holds the bearer token.
    pub token_env: Option<String>,
}

impl MetricsConfig {
    /// The scrape token, `None` when `/metrics` is off.
    ///
    /// # Errors
    /// A message when `token_env` names an unset variable, both are set, or the token is
    /// shorter than 16 characters.
    pub fn token(&self) -> Result<Option<String>, String> {
        if self.token.is_none() && self.token_env.is_none() {
            return Ok(None);
        }
        let token = crate::config::secret(
            "metrics.token",
            self.token.as_ref(),
            self.token_env.as_ref(),
        )?;
        if token.chars().count() < 16 {
            return Err("metrics.token is shorter than 16 characters".into());
        }
        Ok(Some(token))
    }
}

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// `[server]`.
    pub server: HttpConfig,
    /// `[zoho]`.
    pub zoho: ZohoClientConfig,
    /// `[store]`.
    #[serde(default)]
    pub store: ServerStoreConfig,
    /// `[keys]`.
    #[serde(default)]
    pub keys: KeysConfig,
    /// `[schedule]`.
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// `[domino]`.
    #[serde(default)]
    pub domino: DominoServersConfig,
    /// `[proxy]`.
    #[serde(default)]
    pub proxy: ProxyConfig,
    /// `[admins]`.
    #[serde(default)]
    pub admins: AdminsConfig,
    /// `[metrics]`.
    #[serde(default)]
    pub metrics: MetricsConfig,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_session_hours() -> u32 {
    12
}
fn default_api_version() -> String {
    "v8".into()
}

fn check_url(name: &str, s: &str) -> Result<(), String> {
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
        _ => Err(format!("{name} = {s:?} is not an http(s) URL")),
    }
}

/// A `frame-ancestors` source: `https://host[:port]` or `https://*.domain[:port]` (http too),
/// nothing that could end or widen the policy.
fn check_frame_ancestor(s: &str) -> Result<(), String> {
    let bad = || {
        Err(format!(
            "{s:?} is not an origin like \"https://crm.example.com\" or \"https://*.example.com\""
        ))
    };
    let Some((scheme, rest)) = s.split_once("://") else {
        return bad();
    };
    let host = rest.rsplit_once(':').map_or(rest, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) && !port.is_empty() {
            h
        } else {
            ""
        }
    });
    let host = host.strip_prefix("*.").unwrap_or(host);
    let ok = matches!(scheme, "http" | "https")
        && host.contains('.')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !host.starts_with('.')
        && !host.ends_with('.');
    if ok { Ok(()) } else { bad() }
}

impl ServerConfig {
    /// Reads and checks `path` (the master key is read separately, by [`ServerConfig::master_key`]).
    ///
    /// # Errors
    /// [`ServerConfigError`] naming the file and the problem.
    pub fn load(path: &Path) -> Result<Self, ServerConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ServerConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses `text` as if read from `path`.
    ///
    /// # Errors
    /// [`ServerConfigError`] naming the file and the problem.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ServerConfigError> {
        let mut cfg: ServerConfig = crate::config::parse_toml(text, path)?;
        let invalid = |message: String| ServerConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        if cfg.store.path.is_relative() {
            cfg.store.path = dir.join(&cfg.store.path);
        }
        if let Some(f) = &cfg.keys.master_key_file
            && f.is_relative()
        {
            cfg.keys.master_key_file = Some(dir.join(f));
        }
        cfg.server.public_url = cfg.server.public_url.trim_end_matches('/').to_owned();
        cfg.zoho.accounts_url = cfg.zoho.accounts_url.trim_end_matches('/').to_owned();
        cfg.zoho.api_domain = cfg.zoho.api_domain.trim_end_matches('/').to_owned();
        check_url("server.public_url", &cfg.server.public_url).map_err(invalid)?;
        check_url("zoho.accounts_url", &cfg.zoho.accounts_url).map_err(invalid)?;
        check_url("zoho.api_domain", &cfg.zoho.api_domain).map_err(invalid)?;
        if cfg.zoho.client_id.trim().is_empty() {
            return Err(invalid("zoho.client_id is empty".into()));
        }
        if cfg.server.session_hours == 0 {
            return Err(invalid("server.session_hours must be at least 1".into()));
        }
        let sch = &cfg.schedule;
        if [sch.max_concurrent, sch.max_per_org].contains(&0)
            || [
                sch.tick_secs,
                sch.heartbeat_secs,
                sch.lease_secs,
                sch.retry_secs,
            ]
            .contains(&0)
        {
            return Err(invalid(
                "schedule.max_concurrent, max_per_org, tick_secs, heartbeat_secs, lease_secs \
                 and retry_secs must be at least 1"
                    .into(),
            ));
        }
        cfg.client_secret().map_err(invalid)?;
        cfg.allowed_servers()
            .map_err(|e| invalid(format!("domino.allowed_servers: {e}")))?;
        for a in &cfg.server.frame_ancestors {
            check_frame_ancestor(a).map_err(|e| invalid(format!("server.frame_ancestors: {e}")))?;
        }
        if cfg.proxy.max_in_flight_per_user == 0 || cfg.proxy.memory_budget_mib == 0 {
            return Err(invalid(
                "proxy.max_in_flight_per_user and proxy.memory_budget_mib must be at least 1"
                    .into(),
            ));
        }
        Ok(cfg)
    }

    /// `[domino] allowed_servers`, parsed.
    ///
    /// # Errors
    /// A message naming an entry that is not an origin or a `*.domain` pattern, or an empty
    /// list.
    pub fn allowed_servers(&self) -> Result<crate::domino_access::AllowedServers, String> {
        match &self.domino.allowed_servers {
            None => Ok(crate::domino_access::AllowedServers::public_only()),
            Some(list) if list.is_empty() => Err(
                "the list is empty: name at least one server, or leave the key out to allow any \
                 server at a public address"
                    .into(),
            ),
            Some(list) => crate::domino_access::AllowedServers::parse(list),
        }
    }

    /// The Zoho OAuth client secret, from the file or the environment.
    ///
    /// # Errors
    /// A message when neither is set.
    pub fn client_secret(&self) -> Result<String, String> {
        crate::config::secret(
            "zoho.client_secret",
            self.zoho.client_secret.as_ref(),
            self.zoho.client_secret_env.as_ref(),
        )
    }

    /// Whether session cookies get the `Secure` attribute.
    #[must_use]
    pub fn secure_cookies(&self) -> bool {
        self.server.public_url.starts_with("https://")
    }

    /// The master key: `keys.master_key_file`, else `NZSYNC_MASTER_KEY`.
    ///
    /// # Errors
    /// [`ServerConfigError::MasterKey`] when neither gives 32 bytes of base64.
    pub fn master_key(&self) -> Result<[u8; 32], ServerConfigError> {
        let (text, source) = match &self.keys.master_key_file {
            Some(f) => (
                std::fs::read_to_string(f).map_err(|e| {
                    ServerConfigError::MasterKey(format!("cannot read {}: {e}", f.display()))
                })?,
                f.display().to_string(),
            ),
            None => (
                std::env::var(MASTER_KEY_ENV).map_err(|_| {
                    ServerConfigError::MasterKey(format!(
                        "none configured: set keys.master_key_file or the environment variable \
                         {MASTER_KEY_ENV} to 32 random bytes in base64 (e.g. `openssl rand -base64 32`)"
                    ))
                })?,
                MASTER_KEY_ENV.to_owned(),
            ),
        };
        parse_master_key(&text).map_err(|e| ServerConfigError::MasterKey(format!("{source}: {e}")))
    }
}

/// Decodes a master key: base64 of exactly 32 bytes (surrounding whitespace ignored).
///
/// # Errors
/// A message when it is not.
pub fn parse_master_key(text: &str) -> Result<[u8; 32], String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| "not base64".to_owned())?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("must be 32 bytes, found {}", bytes.len()))
}

/// A fresh random master key, base64.
#[must_use]
pub fn generate_master_key() -> String {
    use rand::RngCore as _;
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    base64::engine::general_purpose::STANDARD.encode(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[server]
public_url = "http://127.0.0.1:8080/"
[zoho]
client_id = "demo-client"
client_secret = "demo-secret"
accounts_url = "http://127.0.0.1:18082"
api_domain = "http://127.0.0.1:18082"
[keys]
master_key_file = "k.key"
"#;

    #[test]
    fn loads_with_defaults_and_resolves_paths() {
        let c = ServerConfig::parse(GOOD, Path::new("/etc/nzsync/server.toml")).unwrap();
        assert_eq!(c.server.listen, default_listen());
        assert_eq!(c.server.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.store.path, Path::new("/etc/nzsync/nzsync-server.db"));
        assert_eq!(
            c.keys.master_key_file.as_deref(),
            Some(Path::new("/etc/nzsync/k.key"))
        );
        assert_eq!(c.zoho.api_version, "v8");
        assert!(!c.secure_cookies());
    }

    #[test]
    fn a_postgres_url_selects_postgres_and_database_url_fills_in() {
        use crate::store::StoreLocation;
        let p = Path::new("/etc/nzsync/server.toml");
        let c = ServerConfig::parse(GOOD, p).unwrap();
        assert!(matches!(
            c.store.location().unwrap(),
            StoreLocation::Sqlite(_)
        ));
        let mut from_env = c.store.clone();
        from_env.use_database_url(Some("postgres://u:pw@db/nzsync".into()));
        assert_eq!(
            from_env.location().unwrap(),
            StoreLocation::Postgres {
                url: "postgres://u:pw@db/nzsync".into(),
                max_connections: 10
            }
        );
        assert!(!format!("{from_env:?}").contains("pw@"), "{from_env:?}");
        let text =
            format!("{GOOD}[store]\nurl = \"postgres://file@db/nzsync\"\nmax_connections = 3\n");
        let mut c = ServerConfig::parse(&text, p).unwrap();
        c.store
            .use_database_url(Some("postgres://env@db/other".into()));
        assert_eq!(
            c.store.location().unwrap(),
            StoreLocation::Postgres {
                url: "postgres://file@db/nzsync".into(),
                max_connections: 3
            }
        );
        let text = format!("{GOOD}[store]\nurl = \"mysql://u:secret@db/x\"\n");
        let e = ServerConfig::parse(&text, p)
            .unwrap()
            .store
            .location()
            .unwrap_err();
        assert!(e.to_string().contains("postgres://"), "{e}");
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn refuses_unknown_keys_and_bad_values() {
        let p = Path::new("s.toml");
        let e = ServerConfig::parse(&format!("{GOOD}\n[server2]\nx=1\n"), p).unwrap_err();
        assert!(e.to_string().contains("server2"), "{e}");
        let e =
            ServerConfig::parse(&GOOD.replace("http://127.0.0.1:8080/", "nope"), p).unwrap_err();
        assert!(e.to_string().contains("server.public_url"), "{e}");
        let e = ServerConfig::parse(&GOOD.replace("client_secret = \"demo-secret\"", ""), p)
            .unwrap_err();
        assert!(e.to_string().contains("client_secret"), "{e}");
    }

    #[test]
    fn allowed_domino_servers_are_checked() {
        let p = Path::new("s.toml");
        let c = ServerConfig::parse(GOOD, p).unwrap();
        assert_eq!(
            c.allowed_servers().unwrap(),
            crate::domino_access::AllowedServers::public_only()
        );
        let with = |extra: &str| ServerConfig::parse(&format!("{GOOD}\n{extra}\n"), p);
        assert!(
            with("[domino]\nallowed_servers = [\"https://mail.example.com\", \"*.example.org\"]")
                .is_ok()
        );
        for extra in [
            "[domino]\nallowed_servers = []",
            "[domino]\nallowed_servers = [\"https://x.example.com/path\"]",
            "[domino]\nallowed_servers = [\"*\"]",
        ] {
            let e = with(extra).unwrap_err();
            assert!(e.to_string().contains("domino.allowed_servers"), "{e}");
        }
    }

    #[test]
    fn frame_ancestors_are_origins_and_nothing_more() {
        let framed = |a: &str| {
            ServerConfig::parse(
                &GOOD.replace(
                    "public_url = \"http://127.0.0.1:8080/\"",
                    &format!("public_url = \"http://127.0.0.1:8080/\"\nframe_ancestors = [{a:?}]"),
                ),
                Path::new("s.toml"),
            )
        };
        for ok in ["https://crm.example.com", "https://*.example.com:8443"] {
            assert!(framed(ok).is_ok(), "{ok}");
        }
        for bad in [
            "*",
            "https:",
            "https://*",
            "'self'",
            "https://a.example.com; script-src *",
            "https://a.example.com/path",
            "https://a.example.com https://b.example.com",
        ] {
            let e = framed(bad).unwrap_err();
            assert!(
                e.to_string().contains("server.frame_ancestors"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn proxy_limits_have_defaults_and_must_be_positive() {
        let p = Path::new("s.toml");
        let c = ServerConfig::parse(GOOD, p).unwrap();
        assert_eq!(c.proxy.max_in_flight_per_user, 32);
        assert_eq!(c.proxy.memory_budget_mib, 128);
        for extra in [
            "[proxy]\nmemory_budget_mib = 0",
            "[proxy]\nmax_in_flight_per_user = 0",
        ] {
            let e = ServerConfig::parse(&format!("{GOOD}\n{extra}\n"), p).unwrap_err();
            assert!(
                e.to_string().contains("proxy.max_in_flight_per_user"),
                "{e}"
            );
        }
    }

    #[test]
    fn the_operator_names_admins_by_email_or_crm_id() {
        let p = Path::new("s.toml");
        let c = ServerConfig::parse(GOOD, p).unwrap();
        assert!(!c.admins.names("1", "a@example.com"));
        let c = ServerConfig::parse(
            &format!("{GOOD}\n[admins]\ncrm_users = [\"A@Example.com\", \"42\", \" \"]\n"),
            p,
        )
        .unwrap();
        assert!(c.admins.names("1", "a@example.com"));
        assert!(c.admins.names("42", "other@example.com"));
        assert!(!c.admins.names("4", "b@example.com"));
        assert!(!c.admins.names("", ""));
        let e = ServerConfig::parse(&format!("{GOOD}\n[admins]\nusers = []\n"), p).unwrap_err();
        assert!(e.to_string().contains("users"), "{e}");
    }

    #[test]
    fn master_keys_must_be_32_bytes_of_base64() {
        assert!(parse_master_key(&generate_master_key()).is_ok());
        assert!(parse_master_key("  ").is_err());
        assert!(
            parse_master_key("aGVsbG8=")
                .unwrap_err()
                .contains("32 bytes")
        );
        let dir = tempfile::tempdir().unwrap();
        let cfg = ServerConfig::parse(GOOD, &dir.path().join("s.toml")).unwrap();
        let e = cfg.master_key().unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
        std::fs::write(dir.path().join("k.key"), generate_master_key()).unwrap();
        assert!(cfg.master_key().is_ok());
    }
}
