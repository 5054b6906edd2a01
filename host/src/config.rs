//! `nzsync.toml`: the configuration contract of `DESIGN.md` §4.1.
//!
//! Unknown keys are refused (a typo must not silently change how a sync behaves); relative
//! paths are resolved against the config file's folder.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sync_core::{ConflictPolicy, Direction, Scopes};

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or has wrong keys or values.
    #[error("config file {path} is not valid: {message}")]
    Parse {
        /// The path given.
        path: PathBuf,
        /// What the parser said (with line and column).
        message: String,
    },
    /// A value is present but not usable.
    #[error("config file {path}: {message}")]
    Invalid {
        /// The path given.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No usable master key (the server config only).
    #[error("master key: {0}")]
    MasterKey(String),
}

/// Reads `path` and parses it as TOML into `T`; unknown keys are refused by `T`'s serde rules.
///
/// # Errors
/// [`ConfigError::Read`] or [`ConfigError::Parse`], naming the file.
pub fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_toml(&text, path)
}

/// Parses `text` (read from `path`) as TOML into `T`.
///
/// # Errors
/// [`ConfigError::Parse`], naming the file.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// A secret given either in the file (`name`) or as the name of an environment variable that
/// holds it (`name_env`). Both at once is refused: which one wins would be a silent guess.
///
/// # Errors
/// A sentence naming the key(s): both set, neither set, or the variable missing.
pub fn secret(name: &str, value: Option<&String>, env: Option<&String>) -> Result<String, String> {
    match (value, env) {
        (Some(_), Some(_)) => Err(format!(
            "{name} and {name}_env are both set; keep only one of them"
        )),
        (Some(v), None) => Ok(v.clone()),
        (None, Some(var)) => {
            std::env::var(var).map_err(|_| format!("{name}_env names {var}, which is not set"))
        }
        (None, None) => Err(format!("{name} (or {name}_env) is missing")),
    }
}

/// Checks that `value` of `key` is within `range` (no silent clamping).
///
/// # Errors
/// A sentence naming the key, the value and the range.
pub fn in_range(key: &str, value: u32, range: std::ops::RangeInclusive<u32>) -> Result<(), String> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{key} = {value} is out of range ({} to {})",
            range.start(),
            range.end()
        ))
    }
}

/// Requests in flight to Domino: at least one, and no more than a mail server should take
/// from one user.
pub const NOTES_CONCURRENCY: std::ops::RangeInclusive<u32> = 1..=32;
/// Requests in flight to Zoho: at least one, and at most the largest edition's concurrency
/// limit (Ultimate / CRM Plus: 25).
pub const CRM_CONCURRENCY: std::ops::RangeInclusive<u32> = 1..=25;

/// Which Domino API a config asks for (`[domino] api`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DominoApiChoice {
    /// Domino Access Services: `url` is the Domino HTTP server (every Domino version).
    #[default]
    Das,
    /// The Domino REST API: `url` is its base URL (Domino 12.0.2 and later, port 8880 by
    /// default).
    Rest,
    /// The Domino REST API at `rest_url` (else `url`) when it answers there, else Domino Access
    /// Services at `url`.
    Auto,
}

/// `[domino]`: the Domino server and the user's credentials.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DominoConfig {
    /// The "Server Name": base URL of the Domino HTTP server (DAS), or of the Domino REST API
    /// (`api = "rest"`).
    pub url: String,
    /// Which Domino API to sync through.
    #[serde(default)]
    pub api: DominoApiChoice,
    /// `api = "auto"`: the Domino REST API's base URL, when it is not `url` (e.g.
    /// `https://domino.example.com:8880`).
    pub rest_url: Option<String>,
    /// The Domino REST API scope that names the mail file; by default the name `nzsync
    /// drapi-schema` gives it (`mail/jdoe.nsf` → `mailjdoe`).
    pub scope: Option<String>,
    /// The Notes user name (Internet password login).
    pub user: String,
    /// The Internet password, in clear (prefer `password_env`).
    pub password: Option<String>,
    /// The name of an environment variable that holds the password.
    pub password_env: Option<String>,
    /// The user's mail file; `mail/{user}.nsf` when absent.
    pub mail_db: Option<String>,
    /// Requests in flight to Domino at most.
    #[serde(default = "default_notes_concurrency")]
    pub concurrency: u32,
}

/// `[zoho]`: the Zoho CRM org and the OAuth client.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZohoConfig {
    /// API domain, e.g. `https://www.zohoapis.com`.
    pub api_domain: String,
    /// Accounts server, e.g. `https://accounts.zoho.com`.
    pub accounts_url: String,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: Option<String>,
    /// Environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// OAuth refresh token (offline access).
    pub refresh_token: Option<String>,
    /// Environment variable holding the refresh token.
    pub refresh_token_env: Option<String>,
    /// API version path segment.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// Requests in flight to Zoho at most (stay under the org's concurrency limit).
    #[serde(default = "default_crm_concurrency")]
    pub concurrency: u32,
}

/// Which events to sync (`[sync] events`): `all`, `today`, `past_month` or `off`.
pub use sync_core::calendar::EventsWindow as EventsSetting;

/// `[sync]`: the user's sync settings (F3).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// Sync contacts.
    pub contacts: bool,
    /// Sync to-dos.
    pub tasks: bool,
    /// Which events.
    pub events: EventsSetting,
    /// Which way changes flow.
    pub direction: Direction,
    /// Who wins a field changed on both sides.
    pub conflict: ConflictPolicy,
    /// The Zoho tag that marks a record private.
    pub private_tag: String,
    /// The user's IANA time zone (e.g. `Asia/Tokyo`) for to-do dates and event windows; when
    /// absent, the time zone of the Zoho CRM user.
    pub time_zone: Option<String>,
    /// `[sync.scope]`: which CRM records each module covers (`"mine"` or `{ view = "cvid" }`).
    pub scope: Scopes,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            contacts: true,
            tasks: true,
            events: EventsSetting::All,
            direction: Direction::TwoWay,
            conflict: ConflictPolicy::CrmWins,
            private_tag: "Private".into(),
            time_zone: None,
            scope: Scopes::default(),
        }
    }
}

/// `[store]`: where the sync state lives.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// SQLite file (used when there is no `url`).
    pub path: PathBuf,
    /// `postgres://…`: the sync state and history go to this PostgreSQL database instead.
    pub url: Option<String>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("nzsync.db"),
            url: None,
        }
    }
}

impl StoreConfig {
    /// Where the store lives: PostgreSQL at `url` when set (one connection: one run), else
    /// the SQLite file.
    ///
    /// # Errors
    /// When `url` is not a `postgres://` URL.
    pub fn location(&self) -> Result<crate::store::StoreLocation, crate::store::StoreError> {
        crate::store::StoreLocation::choose(self.url.as_deref(), &self.path, 1)
    }
}

/// The URL's password never reaches a log through `{:?}`.
impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("path", &self.path)
            .field("url", &self.url.as_deref().map(crate::store::redact_url))
            .finish()
    }
}

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[domino]`.
    pub domino: DominoConfig,
    /// `[zoho]`.
    pub zoho: ZohoConfig,
    /// `[sync]`.
    #[serde(default)]
    pub sync: SyncConfig,
    /// `[store]`.
    #[serde(default)]
    pub store: StoreConfig,
}

fn default_api_version() -> String {
    "v8".into()
}
fn default_notes_concurrency() -> u32 {
    4
}
fn default_crm_concurrency() -> u32 {
    4
}

/// Secrets resolved from the config and the environment.
#[derive(Clone)]
pub struct Secrets {
    /// Domino Internet password.
    pub domino_password: String,
    /// Zoho client secret.
    pub zoho_client_secret: String,
    /// Zoho refresh token.
    pub zoho_refresh_token: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(redacted)")
    }
}

impl Config {
    /// Reads and checks `path`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and the problem.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let mut cfg: Self = read_toml(path)?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let rest_url = cfg.domino.rest_url.clone();
        for (key, value) in [
            ("domino.url", Some(&cfg.domino.url)),
            ("domino.rest_url", rest_url.as_ref()),
            ("zoho.api_domain", Some(&cfg.zoho.api_domain)),
            ("zoho.accounts_url", Some(&cfg.zoho.accounts_url)),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        {
            let u = url::Url::parse(value)
                .map_err(|e| invalid(format!("{key} = {value:?} is not a URL: {e}")))?;
            if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
                return Err(invalid(format!(
                    "{key} = {value:?} must be an http(s) URL with a host"
                )));
            }
        }
        if cfg.domino.user.trim().is_empty() {
            return Err(invalid("domino.user is empty".into()));
        }
        if cfg.domino.rest_url.is_some() && cfg.domino.api != DominoApiChoice::Auto {
            return Err(invalid(
                "domino.rest_url is only for api = \"auto\" (with api = \"rest\", url is the \
                 Domino REST API's base URL)"
                    .into(),
            ));
        }
        cfg.drapi_scope()
            .check()
            .map_err(|e| invalid(format!("domino.scope: {e}")))?;
        in_range(
            "domino.concurrency",
            cfg.domino.concurrency,
            NOTES_CONCURRENCY,
        )
        .map_err(invalid)?;
        in_range("zoho.concurrency", cfg.zoho.concurrency, CRM_CONCURRENCY).map_err(invalid)?;
        cfg.sync
            .scope
            .check()
            .map_err(|e| invalid(format!("sync.scope.{e}")))?;
        if cfg.store.path.is_relative()
            && let Some(dir) = path.parent()
        {
            cfg.store.path = dir.join(&cfg.store.path);
        }
        cfg.secrets().map_err(invalid)?;
        Ok(cfg)
    }

    /// The secrets, from the file or the named environment variables.
    ///
    /// # Errors
    /// A message naming the missing secret.
    pub fn secrets(&self) -> Result<Secrets, String> {
        Ok(Secrets {
            domino_password: secret(
                "domino.password",
                self.domino.password.as_ref(),
                self.domino.password_env.as_ref(),
            )?,
            zoho_client_secret: secret(
                "zoho.client_secret",
                self.zoho.client_secret.as_ref(),
                self.zoho.client_secret_env.as_ref(),
            )?,
            zoho_refresh_token: secret(
                "zoho.refresh_token",
                self.zoho.refresh_token.as_ref(),
                self.zoho.refresh_token_env.as_ref(),
            )?,
        })
    }

    /// The mail file path, e.g. `mail/demo.nsf`.
    #[must_use]
    pub fn mail_db(&self) -> String {
        match &self.domino.mail_db {
            Some(db) => db.trim_matches('/').to_owned(),
            None => {
                let short: String = self
                    .domino
                    .user
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                format!("mail/{}.nsf", short.to_lowercase())
            }
        }
    }

    /// The Domino REST API scope of the mail file (`[domino] scope`, else the one
    /// `nzsync drapi-schema` names).
    #[must_use]
    pub fn drapi_scope(&self) -> sync_core::DrapiScope {
        match &self.domino.scope {
            Some(s) => sync_core::DrapiScope(s.trim().to_owned()),
            None => sync_core::DrapiScope::for_mail_file(&self.mail_db()),
        }
    }

    /// The Domino API the engine speaks. `auto` must be settled first (see
    /// `crate::drapi::settle`); until then it counts as DAS.
    #[must_use]
    pub fn domino_api(&self) -> sync_core::DominoApi {
        match self.domino.api {
            DominoApiChoice::Rest => sync_core::DominoApi::Rest {
                scope: self.drapi_scope(),
            },
            DominoApiChoice::Das | DominoApiChoice::Auto => sync_core::DominoApi::Das,
        }
    }

    /// The base URL of the Domino API the config names: the Domino REST API's (`rest_url`, else
    /// `url`) with `api = "rest"`, else `url`.
    #[must_use]
    pub fn domino_base(&self) -> &str {
        match (self.domino.api, &self.domino.rest_url) {
            (DominoApiChoice::Rest, Some(rest)) => rest,
            _ => &self.domino.url,
        }
    }

    /// The key under which this config's sync state is stored.
    #[must_use]
    pub fn profile(&self) -> String {
        format!(
            "cli:{}@{}",
            self.domino.user,
            self.domino.url.trim_end_matches('/')
        )
    }

    /// The engine settings for this config.
    #[must_use]
    pub fn engine_config(&self, dry_run: bool, allow_mass_delete: bool) -> sync_core::EngineConfig {
        sync_core::EngineConfig {
            mail_db: self.mail_db(),
            domino: self.domino_api(),
            settings: sync_core::Settings {
                contacts: self.sync.contacts,
                tasks: self.sync.tasks,
                events: self.sync.events,
                direction: self.sync.direction,
                conflict: self.sync.conflict,
                scope: self.sync.scope.clone(),
            },
            dry_run,
            allow_mass_delete,
            notes_concurrency: self.domino.concurrency,
            crm_concurrency: self.zoho.concurrency,
            private_tag: self.sync.private_tag.clone(),
            crm_api_version: self.zoho.api_version.clone(),
            time_zone: self.sync.time_zone.clone(),
            ..sync_core::EngineConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nzsync.toml");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    const GOOD: &str = r#"
[domino]
url = "http://127.0.0.1:18081"
user = "demo"
password = "demo"
[zoho]
api_domain = "http://127.0.0.1:18082"
accounts_url = "http://127.0.0.1:18082"
client_id = "demo-client"
client_secret = "demo-secret"
refresh_token = "demo-refresh"
[sync]
direction = "notes_to_crm"
conflict = "notes_wins"
[store]
path = "state.db"
"#;

    #[test]
    fn loads_the_documented_shape() {
        let (dir, p) = write(GOOD);
        let c = Config::load(&p).unwrap();
        assert_eq!(c.mail_db(), "mail/demo.nsf");
        assert_eq!(c.sync.direction, Direction::NotesToCrm);
        assert_eq!(c.store.path, dir.path().join("state.db"));
    }

    #[test]
    fn refuses_unknown_keys_bad_values_and_missing_secrets() {
        let (_d, p) = write(&GOOD.replace("conflict = ", "conflcit = "));
        assert!(
            Config::load(&p)
                .unwrap_err()
                .to_string()
                .contains("unknown field")
        );
        let (_d, p) = write(&GOOD.replace("\"notes_to_crm\"", "\"sideways\""));
        assert!(
            Config::load(&p)
                .unwrap_err()
                .to_string()
                .contains("unknown variant")
        );
        let (_d, p) = write(&GOOD.replace("password = \"demo\"", ""));
        assert!(
            Config::load(&p)
                .unwrap_err()
                .to_string()
                .contains("domino.password")
        );
        let (_d, p) = write(&GOOD.replace("http://127.0.0.1:18081", "not a url"));
        assert!(
            Config::load(&p)
                .unwrap_err()
                .to_string()
                .contains("domino.url")
        );
        let err = Config::load(Path::new("/nonexistent/nzsync.toml")).unwrap_err();
        assert!(err.to_string().contains("cannot read config file"));
    }

    #[test]
    fn a_secret_given_twice_and_numbers_out_of_range_are_refused_not_guessed() {
        let (_d, p) = write(&GOOD.replace(
            "password = \"demo\"",
            "password = \"demo\"\npassword_env = \"NZSYNC_TEST_UNUSED\"",
        ));
        let err = Config::load(&p).unwrap_err().to_string();
        assert!(
            err.contains("domino.password and domino.password_env are both set"),
            "{err}"
        );
        let (_d, p) = write(&GOOD.replace(
            "refresh_token = \"demo-refresh\"",
            "refresh_token = \"demo-refresh\"\nrefresh_token_env = \"X\"",
        ));
        let err = Config::load(&p).unwrap_err().to_string();
        assert!(
            err.contains("zoho.refresh_token and zoho.refresh_token_env"),
            "{err}"
        );
        for (line, says) in [
            (
                "[domino]\nconcurrency = 0",
                "domino.concurrency = 0 is out of range (1 to 32)",
            ),
            (
                "[zoho]\nconcurrency = 26",
                "zoho.concurrency = 26 is out of range (1 to 25)",
            ),
        ] {
            let (section, key) = line.split_once('\n').unwrap();
            let (_d, p) = write(&GOOD.replacen(section, line, 1));
            let err = Config::load(&p).unwrap_err().to_string();
            assert!(err.contains(says), "{key}: {err}");
        }
    }

    #[test]
    fn the_domino_api_is_das_unless_named_and_its_keys_are_checked() {
        let (_d, p) = write(GOOD);
        let c = Config::load(&p).unwrap();
        assert_eq!(c.domino.api, DominoApiChoice::Das);
        assert_eq!(
            c.engine_config(false, false).domino,
            sync_core::DominoApi::Das
        );
        assert_eq!(c.domino_base(), "http://127.0.0.1:18081");

        let rest = GOOD.replace(
            "user = \"demo\"",
            "user = \"demo\"\napi = \"rest\"\nmail_db = \"mail/J Doe.nsf\"",
        );
        let (_d, p) = write(&rest);
        let c = Config::load(&p).unwrap();
        assert_eq!(
            c.engine_config(false, false).domino,
            sync_core::DominoApi::Rest {
                scope: sync_core::DrapiScope("mailjdoe".into())
            }
        );
        let named = rest.replace("api = \"rest\"", "api = \"rest\"\nscope = \"jdoemail\"");
        let (_d, p) = write(&named);
        assert_eq!(Config::load(&p).unwrap().drapi_scope().0, "jdoemail");

        let auto = GOOD.replace(
            "user = \"demo\"",
            "user = \"demo\"\napi = \"auto\"\nrest_url = \"http://127.0.0.1:18083\"",
        );
        let (_d, p) = write(&auto);
        let c = Config::load(&p).unwrap();
        // Until it is settled, `auto` speaks DAS at `url`; settled to REST, at `rest_url`.
        assert_eq!(c.domino_base(), "http://127.0.0.1:18081");
        let mut settled = c.clone();
        settled.domino.api = DominoApiChoice::Rest;
        assert_eq!(settled.domino_base(), "http://127.0.0.1:18083");
        assert_eq!(
            settled.profile(),
            c.profile(),
            "the profile stays with `url`"
        );

        for (bad, says) in [
            ("api = \"soap\"", "unknown variant"),
            ("scope = \"Mail Demo\"", "domino.scope"),
            (
                "rest_url = \"http://127.0.0.1:18083\"",
                "only for api = \"auto\"",
            ),
            ("api = \"auto\"\nrest_url = \"ftp://x\"", "domino.rest_url"),
        ] {
            let (_d, p) =
                write(&GOOD.replace("user = \"demo\"", &format!("user = \"demo\"\n{bad}")));
            let err = Config::load(&p).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn scope_defaults_to_mine_and_takes_a_custom_view_by_id() {
        let (_d, p) = write(GOOD);
        assert_eq!(Config::load(&p).unwrap().sync.scope, Scopes::default());
        let with_view = GOOD.replace(
            "[store]",
            "[sync.scope]\ncontacts = \"mine\"\ntasks = { view = \"4150868000000087501\" }\n[store]",
        );
        let (_d, p) = write(&with_view);
        let c = Config::load(&p).unwrap();
        assert_eq!(
            c.sync.scope.tasks,
            sync_core::Scope::View("4150868000000087501".into())
        );
        assert_eq!(
            c.engine_config(false, false).settings.scope,
            c.sync.scope,
            "the engine gets the scope"
        );
        for (bad, says) in [
            (
                "tasks = { view = \"My Tasks\" }",
                "not a Zoho custom view id",
            ),
            ("tasks = \"everyone\"", "unknown variant"),
            ("calls = \"mine\"", "unknown field"),
        ] {
            let (_d, p) = write(&GOOD.replace("[store]", &format!("[sync.scope]\n{bad}\n[store]")));
            let err = Config::load(&p).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
