//! One function per `nzsync` command. Each returns the process exit code; errors that stop a
//! command are returned as `anyhow` errors with a plain message.
//!
//! Exit codes: 0 — done; 1 — could not run (config, credentials, servers, or no module could
//! run); 2 — ran, but some records failed, a module failed or did not run, or a module was held
//! back by the mass-delete guard (see the report).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sync_core::LinkSupply;
use sync_core::report::RunOutcome;

use crate::config::{Config, Secrets};
use crate::runner::{Limits, ProfileState, Runner};
use crate::store::{Store, StoreError, StoreLocation, StoreVault};
use crate::upstream::Upstreams;
use crate::zoho_token::TokenCache;

/// Exit code: the run could not be carried out.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: the run finished, but not everything synced: record errors, a failed module or
/// one it kept from running, or a held-back module.
pub const EXIT_PARTIAL: u8 = 2;

/// Opens the store `location` names: the SQLite file (creating its folder) or PostgreSQL.
async fn open_store(location: &StoreLocation) -> anyhow::Result<Store> {
    if let StoreLocation::Sqlite(path) = location
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the store folder {}", dir.display()))?;
    }
    match Store::connect(location).await {
        Ok(store) => Ok(store),
        // PostgreSQL's own errors name the database (password elided) already.
        Err(
            e @ (StoreError::Connect { .. } | StoreError::NoAnswer { .. } | StoreError::Url { .. }),
        ) => Err(e.into()),
        Err(e) => {
            Err(anyhow::Error::new(e)
                .context(format!("cannot open the store {}", location.shown())))
        }
    }
}

/// The server's state for `config`: a store failure stays a [`StoreError`] (for its
/// Japanese text, [`error_text`]).
async fn server_state(
    config: crate::server_config::ServerConfig,
    key: &[u8; 32],
) -> anyhow::Result<crate::server::AppState> {
    match crate::server::AppState::new(config, key).await {
        Ok(state) => Ok(state),
        Err(crate::server::ServerError::Store(e)) => Err(e.into()),
        Err(e) => Err(e.into()),
    }
}

/// What `nzsync` prints for an error that stopped a command: its message with its causes,
/// and, in a Japanese locale (`LC_ALL`, `LC_MESSAGES` or `LANG` starting with `ja`), the
/// Japanese text of a store failure after it.
#[must_use]
pub fn error_text(e: &anyhow::Error) -> String {
    let english = format!("{e:#}");
    let store = e.chain().find_map(|c| c.downcast_ref::<StoreError>());
    match store {
        Some(store) if japanese_locale() => {
            format!("{english}\n{}", store.japanese())
        }
        _ => english,
    }
}

/// The upstreams of a headless config, with a token cache kept, sealed, in the config's store
/// (SQLite or PostgreSQL): frequent runs reuse one access token for its hour instead of
/// spending Zoho's ten refreshes per ten minutes. Without a usable store the cache lives in
/// memory only.
///
/// # Errors
/// A plain message when a URL is unusable or the HTTP client cannot start.
async fn cli_upstreams(
    config: &Config,
    secrets: &Secrets,
    session: Option<Arc<crate::drapi::session::JwtSession>>,
) -> anyhow::Result<Upstreams> {
    let mut up = Upstreams::new(config, secrets).map_err(anyhow::Error::msg)?;
    if let Some(session) = session {
        up = up.with_jwt_session(session);
    }
    let Ok(location) = config.store.location() else {
        return Ok(up);
    };
    if let StoreLocation::Sqlite(path) = &location
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        let _ = std::fs::create_dir_all(dir);
    }
    match Store::connect(&location).await {
        Ok(store) => {
            let http = crate::upstream::client()
                .map_err(|e| anyhow::anyhow!("cannot start the HTTP client: {e}"))?;
            let vault = StoreVault::new(store, &config.profile());
            Ok(up.with_tokens(Arc::new(TokenCache::new(http).with_vault(vault))))
        }
        Err(e) => {
            tracing::debug!(error = %e, "access tokens are not kept between runs");
            Ok(up)
        }
    }
}

/// `nzsync sync`: one headless sync under wasmtime.
///
/// # Errors
/// A plain message when the config, the store or the Zoho credentials are unusable.
pub async fn sync(
    config_path: &Path,
    dry_run: bool,
    json: bool,
    allow_mass_delete: bool,
) -> anyhow::Result<ExitCode> {
    let config = Config::load(config_path)?;
    for w in plain_http_warnings(&config) {
        eprintln!("nzsync: warning: {w}");
    }
    let secrets = config.secrets().map_err(anyhow::Error::msg)?;
    let limits = Limits::from_env();
    // `api = "auto"`: which Domino API answers is settled once, before the run.
    let settled = crate::drapi::settle(&config, &secrets)
        .await
        .map_err(anyhow::Error::msg)?;
    let config = settled.config;
    let upstreams = Arc::new(
        cli_upstreams(&config, &secrets, settled.session)
            .await?
            .with_deadline(Instant::now() + limits.run_deadline),
    );
    // Fail fast, with Zoho's own words, when the OAuth credentials are wrong (blips of the
    // token endpoint are retried first).
    upstreams.zoho_token(false).await?;
    let store = open_store(&config.store.location()?).await?;
    let profile = config.profile();
    // The links stay in the store: the engine reads them page by page.
    let state = store
        .conn()
        .await?
        .load_state_without_links(&profile)
        .await?;
    let runner = Runner::new(limits)?;
    let mut engine_config = config.engine_config(dry_run, allow_mass_delete);
    engine_config.links = LinkSupply::OnRequest;
    let mut run_state = ProfileState {
        store: &store,
        profile: &profile,
        dry_run,
    };
    let report = runner
        .run(&engine_config, &state, upstreams, &mut run_state)
        .await?;
    store.conn().await?.record_run(&profile, &report).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    if let Some(e) = &report.error {
        eprintln!("nzsync: {e}");
    }
    Ok(match report.outcome {
        RunOutcome::Completed => ExitCode::SUCCESS,
        RunOutcome::Partial => ExitCode::from(EXIT_PARTIAL),
        RunOutcome::Failed => ExitCode::from(EXIT_FAILED),
    })
}

/// The config's URLs that send credentials unencrypted over a network: plain `http://` to a
/// host that is not this machine. `nzsync sync`'s config is the operator's own, so any server
/// may be named; but the Domino password, the Zoho secrets and the data would cross the
/// network in clear.
#[must_use]
pub fn plain_http_warnings(config: &Config) -> Vec<String> {
    [
        ("domino.url", Some(&config.domino.url)),
        ("domino.rest_url", config.domino.rest_url.as_ref()),
        ("zoho.api_domain", Some(&config.zoho.api_domain)),
        ("zoho.accounts_url", Some(&config.zoho.accounts_url)),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key, value?)))
    .filter_map(|(key, value)| {
        let url = url::Url::parse(value).ok()?;
        let loopback = match url.host()? {
            url::Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d == "localhost" || d.ends_with(".localhost")
            }
            url::Host::Ipv4(ip) => ip.is_loopback(),
            url::Host::Ipv6(ip) => ip.is_loopback(),
        };
        (url.scheme() == "http" && !loopback).then(|| {
            format!(
                "{key} = {value:?} is plain http to another machine: passwords, tokens and \
                 records cross the network unencrypted; use https"
            )
        })
    })
    .collect()
}

/// `nzsync check`: connection and DAS-readiness diagnostics for the services the config's
/// `[sync]` settings need. Exit 0 when every needed check passed, 1 otherwise.
///
/// # Errors
/// A plain message when the config is unusable.
pub async fn check(config_path: &Path) -> anyhow::Result<ExitCode> {
    use crate::check::CheckStatus;

    let config = Config::load(config_path)?;
    for w in plain_http_warnings(&config) {
        eprintln!("nzsync: warning: {w}");
    }
    let secrets = config.secrets().map_err(anyhow::Error::msg)?;
    let settled = crate::drapi::settle(&config, &secrets)
        .await
        .map_err(anyhow::Error::msg)?;
    let config = settled.config;
    let up = cli_upstreams(&config, &secrets, settled.session).await?;
    let readiness = crate::check::run(&config, &up, crate::check::Needs::of(&config)).await;
    for c in &readiness.checks {
        let mark = match c.status {
            CheckStatus::Ok => "ok  ",
            CheckStatus::Failed => "FAIL",
            CheckStatus::NotChecked | CheckStatus::NotNeeded => "--  ",
        };
        println!("{mark} {:<26} {}", c.name, c.detail);
        if let Some(step) = &c.step {
            println!("     {:<26} → {step}", "");
        }
        if let Some(step) = c.step_ja.as_ref().filter(|_| japanese_locale()) {
            println!("     {:<26} → {step}", "");
        }
    }
    Ok(if readiness.ready {
        ExitCode::SUCCESS
    } else {
        if let Some(c) = readiness.first_failure() {
            eprintln!("nzsync: not ready to sync: {}: {}", c.name, c.detail);
        }
        ExitCode::from(EXIT_FAILED)
    })
}

/// What `nzsync drapi-schema` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaPart {
    /// `{"schema": …, "scope": …}`.
    All,
    /// The schema (`KeepDatabase`) alone.
    Schema,
    /// The scope (`RestMapping`) alone.
    Scope,
}

/// `nzsync drapi-schema`: the schema and scope a Domino admin imports into the Domino REST API
/// so the mail file `mail_db` syncs through it, as JSON on stdout; the steps on stderr (in
/// Japanese too in a Japanese locale).
///
/// # Errors
/// A bad scope name, or a mail file path that is empty.
pub fn drapi_schema(
    mail_db: &str,
    scope: Option<&str>,
    url: &str,
    part: SchemaPart,
) -> anyhow::Result<ExitCode> {
    let path = mail_db.trim().trim_matches('/').replace('\\', "/");
    if path.is_empty() {
        bail!("--mail-db is empty: name the mail file, e.g. mail/jdoe.nsf");
    }
    let name = match scope {
        Some(s) => sync_core::DrapiScope(s.trim().to_owned()),
        None => sync_core::DrapiScope::for_mail_file(&path),
    };
    name.check().map_err(|e| anyhow::anyhow!("--scope: {e}"))?;
    let engine = sync_core::EngineConfig::default();
    let schema = crate::drapi::schema::schema(&path, &engine);
    let scope_json = crate::drapi::schema::scope(&path, &name);
    let out = match part {
        SchemaPart::All => serde_json::json!({ "schema": schema, "scope": scope_json }),
        SchemaPart::Schema => schema,
        SchemaPart::Scope => scope_json,
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    let [en, ja] = crate::drapi::schema::steps(&path, &name, url.trim_end_matches('/'));
    eprintln!("{en}");
    if japanese_locale() {
        eprintln!("{ja}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether the user's locale is Japanese (`LC_ALL`, `LC_MESSAGES` or `LANG` starting with `ja`).
fn japanese_locale() -> bool {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|l| !l.is_empty()))
        .is_some_and(|l| l.to_ascii_lowercase().starts_with("ja"))
}

/// What `nzsync uninstall` removes.
#[derive(Clone, Debug)]
pub enum UninstallTarget {
    /// The headless profile of an `nzsync.toml`: its sync state, run history and list of
    /// created records.
    Config(PathBuf),
    /// A server's whole store (`nzsync serve`'s config): every org, user, session, credential,
    /// setting, sync state and run history.
    Server(PathBuf),
}

/// `nzsync uninstall`: deletes everything stored for a config or a server (F9), and with
/// `delete_crm_records` first the CRM records the integration created.
///
/// When some CRM records cannot be deleted, nothing else is removed (the list of what is left
/// stays, so running it again retries only those) and the exit code is 1.
///
/// # Errors
/// A plain message when the config or the store is unusable, or `--yes` is missing.
pub async fn uninstall(
    target: &UninstallTarget,
    delete_crm_records: bool,
    yes: bool,
) -> anyhow::Result<ExitCode> {
    let crm_note = if delete_crm_records {
        "the CRM records the integration created are deleted from Zoho CRM; records in IBM Notes stay"
    } else {
        "records in IBM Notes and Zoho CRM stay"
    };
    match target {
        UninstallTarget::Config(path) => {
            let config = Config::load(path)?;
            let profile = config.profile();
            if !yes {
                bail!(
                    "uninstall deletes all sync state and run history stored for {profile} in {} and cannot be undone; \
                     {crm_note}. Run again with --yes to confirm",
                    config.store.location()?.shown()
                );
            }
            let store = open_store(&config.store.location()?).await?;
            if delete_crm_records {
                let secrets = config.secrets().map_err(anyhow::Error::msg)?;
                let up = cli_upstreams(&config, &secrets, None).await?;
                up.zoho_token(false).await?;
                let prefix = format!("/crm/{}/", config.zoho.api_version);
                let created = store.conn().await?.created(&profile).await?;
                let tally = delete_crm(&up, &prefix, &created).await;
                store
                    .conn()
                    .await?
                    .forget_created(&profile, &tally.deleted)
                    .await?;
                println!("deleted {} CRM records", tally.deleted.len());
                if !tally.failures.is_empty() {
                    for f in &tally.failures {
                        eprintln!("nzsync: not deleted: {f}");
                    }
                    eprintln!(
                        "nzsync: nothing else was removed; run the same command again to retry"
                    );
                    return Ok(ExitCode::from(EXIT_FAILED));
                }
            }
            let rows = store.conn().await?.delete_profile(&profile).await?;
            store.compact().await?;
            println!("deleted {rows} stored rows for {profile}");
        }
        UninstallTarget::Server(path) => {
            let mut config = crate::server_config::ServerConfig::load(path)?;
            config
                .store
                .use_database_url(std::env::var("DATABASE_URL").ok());
            if !yes {
                bail!(
                    "uninstall deletes every org, user, credential, setting, sync state and run history the server stores in {} and cannot be undone; \
                     {crm_note}. Run again with --yes to confirm",
                    config.store.location()?.shown()
                );
            }
            let key = config.master_key()?;
            let state = server_state(config, &key).await?;
            let orgs = crate::server::uninstall::uninstall_all(&state, delete_crm_records)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            for o in &orgs {
                println!(
                    "org {}: deleted {} stored rows and {} CRM records",
                    o["org_id"].as_str().unwrap_or("?"),
                    o["rows_deleted"],
                    o["crm_records_deleted"]
                );
            }
            println!("uninstalled {} orgs", orgs.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Deletes `created` from Zoho CRM with the config's credentials (`prefix`: `/crm/{version}/`).
async fn delete_crm(
    up: &Upstreams,
    prefix: &str,
    created: &[(sync_core::Module, sync_core::ZohoId)],
) -> crate::crm_cleanup::Tally {
    let mut tally = crate::crm_cleanup::Tally::default();
    for call in crate::crm_cleanup::delete_calls(created) {
        let req = sync_core::HttpRequest {
            id: 0,
            side: sync_core::Side::Crm,
            method: "DELETE".into(),
            path: format!("{prefix}{}", call.path),
            headers: Vec::new(),
            body: None,
        };
        match up.perform(&req).await {
            Ok(resp) => {
                let body: Option<serde_json::Value> = serde_json::from_str(&resp.body).ok();
                tally.add(&call, resp.status, body.as_ref());
            }
            Err(e) => tally.failures.push(format!(
                "{}: {} records not deleted ({})",
                call.module.crm_api_name(),
                call.ids.len(),
                e.message
            )),
        }
    }
    tally
}

/// Options of `nzsync sim`.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Domino simulator port (Domino Access Services).
    pub domino_port: u16,
    /// The Domino REST API's port (`None`: the Domino port + 2, or a free one).
    pub drapi_port: Option<u16>,
    /// Zoho simulator port.
    pub zoho_port: u16,
    /// Latency added to every request.
    pub latency_ms: u64,
    /// Load the demo data.
    pub demo_seed: bool,
    /// Domino users (`NAME:PASSWORD`); empty means the two demo users.
    pub domino_users: Vec<(String, String)>,
    /// Check every answer against the vendors' OpenAPI specs (`GET /_sim/spec` reports).
    pub spec_check: bool,
}

/// The Domino users the simulators get when none are named: the two users Zoho's simulated
/// org has, so both have a mail file, data and each other's invitations.
fn demo_users() -> Vec<(String, String)> {
    vec![
        ("demo".into(), "demo".into()),
        ("user2".into(), "user2".into()),
    ]
}

async fn start_sims(o: &SimOptions) -> anyhow::Result<nzsync_sim::Simulators> {
    let cfg = nzsync_sim::SimConfig {
        domino_port: o.domino_port,
        drapi_port: o.drapi_port,
        zoho_port: o.zoho_port,
        latency_ms: o.latency_ms,
        seed: if o.demo_seed {
            nzsync_sim::Seed::Demo
        } else {
            nzsync_sim::Seed::Empty
        },
        domino_users: if o.domino_users.is_empty() {
            demo_users()
        } else {
            o.domino_users.clone()
        },
        spec_check: o.spec_check,
    };
    nzsync_sim::start(cfg)
        .await
        .context("cannot start the simulators (is the port in use?)")
}

/// `nzsync sim`: the simulators alone, until Ctrl-C.
///
/// # Errors
/// When a port cannot be bound.
pub async fn sim(o: SimOptions) -> anyhow::Result<ExitCode> {
    let sims = start_sims(&o).await?;
    println!(
        "Domino simulator:   {}   (Domino Access Services)",
        sims.domino_url
    );
    println!(
        "Domino REST API:    {}   (scopes maildemo, mailuser2; Admin: /api/setup-v1)",
        sims.drapi_url
    );
    println!(
        "Zoho CRM simulator: {}  (OAuth: /oauth/v2/token)",
        sims.zoho_url
    );
    println!(
        "Control: GET {0}/_sim/dump, GET {1}/_sim/dump, GET {2}/_sim/config (see README)",
        sims.domino_url, sims.zoho_url, sims.drapi_url
    );
    if o.spec_check {
        println!(
            "Spec check: GET {0}/_sim/spec, GET {1}/_sim/spec, GET {2}/_sim/spec",
            sims.domino_url, sims.zoho_url, sims.drapi_url
        );
    }
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sims.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// The Domino API the demo's configs sync through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DemoApi {
    /// Domino Access Services.
    #[default]
    Das,
    /// The Domino REST API.
    Rest,
}

/// The Domino side of the demo's configs: the simulators' two URLs and which API to use.
#[derive(Clone, Debug)]
pub struct DemoDomino<'a> {
    /// Domino Access Services' URL.
    pub das_url: &'a str,
    /// The Domino REST API's URL.
    pub drapi_url: &'a str,
    /// Which one the configs use.
    pub api: DemoApi,
}

/// Writes a headless config for each demo user into `dir` — `nzsync.toml` for `demo`,
/// `nzsync-user2.toml` for `user2`, each with its own mail file, Zoho token and state file —
/// and returns their paths (demo's first). Two users of one org, to try owner scope with.
///
/// # Errors
/// When a file cannot be written.
pub fn write_demo_config(
    dir: &Path,
    domino: &DemoDomino<'_>,
    zoho_url: &str,
) -> anyhow::Result<Vec<PathBuf>> {
    let (domino_url, api) = match domino.api {
        DemoApi::Das => (domino.das_url, "das"),
        DemoApi::Rest => (domino.drapi_url, "rest"),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut paths = Vec::new();
    for (user, file) in [("demo", "nzsync.toml"), ("user2", "nzsync-user2.toml")] {
        let path = dir.join(file);
        let text = format!(
            r#"# Written by `nzsync demo`: {user}'s sync, pointing at the demo simulators.
[domino]
url = "{domino_url}"
api = "{api}"
user = "{user}"
password = "{user}"
mail_db = "mail/{user}.nsf"

[zoho]
api_domain = "{zoho_url}"
accounts_url = "{zoho_url}"
client_id = "demo-client"
client_secret = "demo-secret"
refresh_token = "{user}-refresh"

[sync]
contacts = true
direction = "two_way"
conflict = "crm_wins"

[sync.scope]
contacts = "mine"
tasks = "mine"
events = "mine"

[store]
path = "{user}.db"
"#
        );
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        paths.push(path);
    }
    Ok(paths)
}

/// Writes the demo's server config into `dir` (and a fresh master key when there is none) and
/// returns its path.
///
/// # Errors
/// When a file cannot be written.
pub fn write_demo_server_config(
    dir: &Path,
    port: u16,
    domino: &DemoDomino<'_>,
    zoho_url: &str,
) -> anyhow::Result<PathBuf> {
    let (das_url, drapi_url) = (domino.das_url, domino.drapi_url);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let key = dir.join("master.key");
    if !key.exists() {
        std::fs::write(&key, crate::server_config::generate_master_key())
            .with_context(|| format!("cannot write {}", key.display()))?;
    }
    let path = dir.join("server.toml");
    let text = format!(
        r#"# Written by `nzsync demo`: the web server, signing in through the Zoho simulator.
[server]
listen = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}"

[zoho]
client_id = "demo-client"
client_secret = "demo-secret"
accounts_url = "{zoho_url}"
api_domain = "{zoho_url}"

[store]
path = "nzsync-server.db"

[keys]
master_key_file = "master.key"

# The Domino simulators (DAS and the REST API) are on loopback: users may connect to them only
# because they are listed.
[domino]
allowed_servers = ["{das_url}", "{drapi_url}"]
"#
    );
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// How long a stopping server waits for running scheduled syncs (a sync still running then
/// is cut off, and another replica runs it again).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

/// Serves the web server app plus the widget on `listener` until Ctrl-C or SIGTERM, with
/// scheduled syncs (`server::jobs`); then stops taking jobs and lets running syncs finish.
async fn serve_app(
    state: crate::server::AppState,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<()> {
    let scheduling = crate::server::jobs::spawn(&state)
        .await
        .context("cannot start the job queue of scheduled syncs")?;
    let app = crate::server::app(state.clone());
    let result = crate::server::serve(&state, listener, app, stop_signal())
        .await
        .context("web server failed");
    if let Some(s) = scheduling {
        s.shutdown(SHUTDOWN_GRACE).await;
    }
    result
}

/// Completes at Ctrl-C or, on Unix, SIGTERM (what a service manager or orchestrator sends).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// `nzsync serve`: the multi-user web server for the widget, until Ctrl-C.
///
/// # Errors
/// A plain message when the config, the master key or the store is unusable, or the address
/// cannot be bound.
pub async fn serve(config_path: &Path) -> anyhow::Result<ExitCode> {
    let mut config = crate::server_config::ServerConfig::load(config_path)?;
    config
        .store
        .use_database_url(std::env::var("DATABASE_URL").ok());
    let key = config.master_key()?;
    let addr = config.server.listen;
    let public = config.server.public_url.clone();
    let store_shown = config.store.location()?.shown();
    let state = server_state(config, &key).await?;
    println!(
        "nzsync server: store {} ({store_shown})",
        state.store().backend_name()
    );
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    println!(
        "nzsync server listening on {addr} (public URL {public}); sign in at {public}/auth/login"
    );
    serve_app(state, listener).await?;
    Ok(ExitCode::SUCCESS)
}

/// `nzsync demo`: simulators with sample data plus the web server, until Ctrl-C.
///
/// # Errors
/// When a port cannot be bound or the data folder cannot be written.
/// Extras of `nzsync demo` for trying the widget as Zoho CRM frames it: another local page
/// that may frame it (a CRM stand-in), and where the widget loads the embedded-app SDK from.
#[derive(Clone, Debug, Default)]
pub struct DemoCrm {
    /// Origins that may frame the widget (`frame_ancestors`).
    pub frame_ancestors: Vec<String>,
    /// The embedded-app SDK's URL instead of Zoho's.
    pub sdk_url: Option<String>,
    /// The Domino API the headless configs sync through.
    pub domino_api: DemoApi,
}

pub async fn demo(port: u16, data: &Path, crm: &DemoCrm) -> anyhow::Result<ExitCode> {
    // The port first: a demo that cannot listen changes nothing (it would otherwise have
    // pointed the headless configs at simulators that end with it).
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let sims = start_sims(&SimOptions {
        domino_port: 0,
        drapi_port: None,
        zoho_port: 0,
        latency_ms: 0,
        demo_seed: true,
        domino_users: demo_users(),
        spec_check: false,
    })
    .await?;
    let domino = DemoDomino {
        das_url: &sims.domino_url,
        drapi_url: &sims.drapi_url,
        api: crm.domino_api,
    };
    let configs = write_demo_config(data, &domino, &sims.zoho_url)?;
    let port = listener.local_addr().map_or(port, |a| a.port());
    let server_config_path = write_demo_server_config(data, port, &domino, &sims.zoho_url)?;
    if !crm.frame_ancestors.is_empty() {
        let text = std::fs::read_to_string(&server_config_path)?;
        let list = serde_json::to_string(&crm.frame_ancestors)?;
        std::fs::write(
            &server_config_path,
            text.replacen(
                "[server]\n",
                &format!("[server]\nframe_ancestors = {list}\n"),
                1,
            ),
        )?;
    }
    if let Some(url) = &crm.sdk_url {
        crate::web::use_crm_sdk(url);
    }
    let server_config = crate::server_config::ServerConfig::load(&server_config_path)?;
    let key = server_config.master_key()?;
    let state = server_state(server_config, &key).await?;
    println!("notes-zoho-sync demo");
    println!("  widget:             http://127.0.0.1:{port}/");
    println!(
        "  sign in:            http://127.0.0.1:{port}/auth/login   (Zoho users demo@example.com = admin, user2@example.com)"
    );
    println!(
        "  Domino simulator:   {}   (users demo / demo and user2 / user2, mail files mail/demo.nsf, mail/user2.nsf)",
        sims.domino_url
    );
    println!(
        "  Domino REST API:    {}   (same server and users; scopes maildemo, mailuser2)",
        sims.drapi_url
    );
    println!(
        "  Zoho CRM simulator: {}   (client demo-client, refresh tokens demo-refresh, user2-refresh)",
        sims.zoho_url
    );
    let api = match crm.domino_api {
        DemoApi::Das => "Domino Access Services",
        DemoApi::Rest => "the Domino REST API",
    };
    for (user, config) in ["demo", "user2"].iter().zip(&configs) {
        println!(
            "  headless sync:      nzsync sync --config {}   ({user}'s own records, through {api})",
            config.display()
        );
    }
    println!("  server config:      {}", server_config_path.display());
    println!("Press Ctrl-C to stop.");
    serve_app(state, listener).await?;
    sims.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Why `nzsync extension` refuses a public URL.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PublicUrlError {
    /// Not a URL.
    #[error("--public-url {0:?} is not a URL like https://sync.example.com")]
    NotAUrl(String),
    /// Not https.
    #[error("--public-url must start with https:// (Zoho CRM frames only https pages): {0}")]
    NotHttps(String),
    /// A path, query, fragment, user name or password.
    #[error(
        "--public-url must be the server's origin alone, like https://sync.example.com (no path, query, fragment or user): {0}"
    )]
    NotAnOrigin(String),
}

/// The server's public URL as the extension may name it: `https://host[:port]` and nothing
/// else (a path could point the CRM tab at another page of the host; `..`, `@` user parts,
/// queries and fragments are refused rather than normalised).
///
/// # Errors
/// [`PublicUrlError`] saying what is wrong.
pub fn public_origin(url: &str) -> Result<String, PublicUrlError> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = url::Url::parse(trimmed).map_err(|_| PublicUrlError::NotAUrl(url.to_owned()))?;
    if parsed.scheme() != "https" {
        return Err(PublicUrlError::NotHttps(url.to_owned()));
    }
    let origin = parsed.origin().ascii_serialization();
    let plain = parsed.host_str().is_some()
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && matches!(parsed.path(), "" | "/")
        && !trimmed.contains('\\')
        && trimmed.eq_ignore_ascii_case(&origin);
    if !plain {
        return Err(PublicUrlError::NotAnOrigin(url.to_owned()));
    }
    Ok(origin)
}

/// The Zoho extension project (laid out as `zet init --zoho-service CRM` makes it), with
/// `{PUBLIC_URL}` filled in: `(path inside the project, contents)`.
const EXTENSION_FILES: &[(&str, &str)] = &[
    (
        "plugin-manifest.json",
        include_str!("../../www/zoho-extension/plugin-manifest.json"),
    ),
    (
        "app/widget.html",
        include_str!("../../www/zoho-extension/app/widget.html"),
    ),
    (
        "app/translations/en.json",
        include_str!("../../www/zoho-extension/app/translations/en.json"),
    ),
    (
        "app/translations/ja.json",
        include_str!("../../www/zoho-extension/app/translations/ja.json"),
    ),
    (
        "package.json",
        include_str!("../../www/zoho-extension/package.json"),
    ),
];

/// The placeholder for the server's public URL in `www/zoho-extension`.
pub const PUBLIC_URL_PLACEHOLDER: &str = "{PUBLIC_URL}";

/// `nzsync extension --public-url URL --out DIR`: writes the Zoho CRM extension project for
/// this server into `DIR` (then `zet validate` and `zet pack` there make the zip to upload).
///
/// # Errors
/// A refused public URL ([`public_origin`]), or a file that cannot be written.
pub fn extension(public_url: &str, out: &Path) -> anyhow::Result<ExitCode> {
    let origin = public_origin(public_url)?;
    for (path, text) in EXTENSION_FILES {
        let target = out.join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&target, text.replace(PUBLIC_URL_PLACEHOLDER, &origin))
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    println!(
        "wrote the Zoho CRM extension for {origin} to {}\n\
         pack it:  cd {} && zet validate && zet pack   (the zip is in dist/)\n\
         or, without the zip, give Zoho CRM the widget URL {origin}/ (see README, \"Installing the CRM extension\")",
        out.display(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `nzsync js-package`: writes the sync-core JS package (built by `build.rs` and embedded in
/// this binary) to `out/web` (ES module for browsers) and `out/node` (CommonJS for Node).
///
/// # Errors
/// When a file cannot be written.
pub fn js_package(out: &Path) -> anyhow::Result<ExitCode> {
    for (flavour, name, bytes) in crate::web::JS_PACKAGE {
        let dir = out.join(flavour);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::write(dir.join(name), bytes).with_context(|| format!("cannot write {name}"))?;
    }
    for (flavour, kind) in [("web", "module"), ("node", "commonjs")] {
        let manifest = serde_json::json!({
            "name": "nzsync-sync-core",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The notes-zoho-sync engine (sans-IO) as WebAssembly",
            "type": kind,
            "main": "sync_core.js",
            "types": "sync_core.d.ts",
            "license": "Apache-2.0",
        });
        std::fs::write(
            out.join(flavour).join("package.json"),
            serde_json::to_string_pretty(&manifest)?,
        )?;
    }
    println!(
        "wrote the sync-core JS package to {} (web/ and node/)",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(domino: &str, zoho: &str) -> Config {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nzsync.toml");
        std::fs::write(
            &path,
            format!(
                "[domino]\nurl = \"{domino}\"\nuser = \"u\"\npassword = \"p\"\n\
                 [zoho]\napi_domain = \"{zoho}\"\naccounts_url = \"{zoho}\"\n\
                 client_id = \"c\"\nclient_secret = \"s\"\nrefresh_token = \"r\"\n"
            ),
        )
        .unwrap();
        Config::load(&path).unwrap()
    }

    #[test]
    fn the_extension_names_only_an_https_origin() {
        assert_eq!(
            public_origin("https://sync.example.com/").as_deref(),
            Ok("https://sync.example.com")
        );
        assert_eq!(
            public_origin("https://Sync.Example.com:8443").as_deref(),
            Ok("https://sync.example.com:8443")
        );
        for bad in ["sync.example.com", "not a url"] {
            assert!(
                matches!(public_origin(bad), Err(PublicUrlError::NotAUrl(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            public_origin("http://sync.example.com"),
            Err(PublicUrlError::NotHttps(_))
        ));
        for bad in [
            "https://sync.example.com/app",
            "https://sync.example.com/../evil",
            "https://sync.example.com/%2e%2e/x",
            "https://user@sync.example.com",
            "https://sync.example.com?x=1",
            "https://sync.example.com#top",
            "https://sync.example.com\\@evil.example",
            "https://evil.example\\.sync.example.com",
        ] {
            assert!(
                matches!(
                    public_origin(bad),
                    Err(PublicUrlError::NotAnOrigin(_) | PublicUrlError::NotAUrl(_))
                ),
                "{bad} was accepted"
            );
        }
    }

    #[test]
    fn the_extension_project_has_the_url_filled_in_everywhere() {
        let dir = tempfile::tempdir().unwrap();
        extension("https://sync.example.com", dir.path()).unwrap();
        for (path, _) in EXTENSION_FILES {
            let text = std::fs::read_to_string(dir.path().join(path)).unwrap();
            assert!(!text.contains(PUBLIC_URL_PLACEHOLDER), "{path}");
        }
        let page = std::fs::read_to_string(dir.path().join("app/widget.html")).unwrap();
        assert!(page.contains("https://sync.example.com"), "{page}");
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("plugin-manifest.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(manifest["service"], "CRM");
    }

    #[test]
    fn plain_http_to_another_machine_is_warned_about() {
        for quiet in [
            config("http://127.0.0.1:18081", "http://127.0.0.1:18082"),
            config("http://localhost:18081", "http://[::1]:18082"),
            config("https://mail.example.com", "https://www.zohoapis.com"),
        ] {
            assert!(plain_http_warnings(&quiet).is_empty());
        }
        let w = plain_http_warnings(&config(
            "http://mail.example.com",
            "https://www.zohoapis.com",
        ));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("domino.url = \"http://mail.example.com\""),
            "{w:?}"
        );
        let w = plain_http_warnings(&config("http://10.1.2.3", "http://zoho.example.com"));
        assert_eq!(w.len(), 3, "{w:?}");
    }
}
