//! A host restart in the middle of a widget sync, in Chromium: the widget runs the engine in
//! the page and reaches both APIs through the host's proxy, storing its state changes and its
//! lease through the host. The host (`nzsync serve`, on the same port, config and store) is
//! killed (SIGKILL) once the sync has written to a simulator, and started again at once. The
//! simulators run in the test, so they and their data outlive the host, as the real servers
//! would.
//!
//! The interrupted sync must fail cleanly (the Sync failed card) or recover (the Finished
//! card); a new sync then finishes, leaves each record once (each Zoho record carries a
//! distinct Notes UNID, each Notes document a distinct Zoho id, each company is one Account),
//! and a further sync writes nothing.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

use crate::webdriver::{self, Driver, Session};
use crate::{DB, shots};

/// `nzsync serve` on a fixed port.
pub(crate) struct Host {
    child: tokio::process::Child,
}

impl Host {
    pub(crate) async fn start(config: &Path, base: &str) -> Result<Self> {
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
            .args(["serve", "--config"])
            .arg(config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start nzsync serve")?;
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if http.get(format!("{base}/")).send().await.is_ok() {
                return Ok(Self { child });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("nzsync serve did not answer")
    }

    pub(crate) async fn kill(mut self) -> Result<()> {
        self.child.start_kill()?; // SIGKILL
        self.child.wait().await?;
        Ok(())
    }
}

pub(crate) fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub(crate) async fn control(url: &str, path: &str, body: Value) -> Result<()> {
    let r = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .json(&body)
        .send()
        .await?;
    ensure!(r.status().is_success(), "{path}: {}", r.status());
    Ok(())
}

pub(crate) async fn get_json(url: &str) -> Result<Value> {
    Ok(reqwest::get(url).await?.json().await?)
}

/// Requests that read, though not with GET: sign-ins, and the Domino REST API's queries.
const READS_BY_POST: [&str; 5] = [
    "/oauth",
    "/api/v1/auth",
    "/api/v1/query",
    "/api/v1/bulk/unid",
    "/api/v1/bulk/etag",
];

/// Writes logged by the simulators at `urls` since their logs were cleared.
pub(crate) async fn writes(urls: &[&str]) -> Result<usize> {
    let mut n = 0;
    for url in urls {
        let calls = get_json(&format!("{url}/_sim/calls")).await?;
        n += calls["calls"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| {
                let path = c["path"].as_str().unwrap_or("");
                c["method"] != "GET" && !READS_BY_POST.iter().any(|r| path.starts_with(r))
            })
            .count();
    }
    Ok(n)
}

/// The two simulators' URLs, for [`writes`] and [`clear_calls`].
pub(crate) fn urls(sims: &nzsync_sim::Simulators) -> [&str; 2] {
    [&sims.domino_url, &sims.zoho_url]
}

pub(crate) async fn clear_calls(urls: &[&str]) -> Result<()> {
    for url in urls {
        reqwest::Client::new()
            .delete(format!("{url}/_sim/calls"))
            .send()
            .await?;
    }
    Ok(())
}

/// Start Sync → Save (settings as they are) → Sync now when the preview comes first.
pub(crate) async fn start_sync(s: &Session) -> Result<()> {
    // Start Sync waits for the readiness checks.
    s.wait("#start-sync:not([disabled])").await?;
    s.click("#start-sync").await?;
    s.wait("#settings-form").await?;
    s.click("#settings-save").await?;
    // The first sync previews first (its title says Preview while it runs).
    for _ in 0..1200 {
        if s.find("#sync-now").await?.is_some() {
            return s.click("#sync-now").await;
        }
        if s.find("#sync-finished").await?.is_some() {
            return Ok(());
        }
        if let Some(t) = s.find("#sync-title").await?
            // The page re-renders while it runs: a stale title counts as not yet.
            && s.text(&t).await.is_ok_and(|t| t != "Preview")
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the sync did not start")
}

/// Waits up to three minutes for `css` (a whole sync of the demo data).
/// The keys each record is counted by: Zoho records by their Notes UNID, Notes documents by
/// their Zoho id, companies by Account name. (Not e-mail: the demo data has different people
/// sharing one, which the sync rightly keeps apart.)
pub(crate) fn keys(notes: &Value, zoho: &Value) -> BTreeMap<String, Vec<String>> {
    let field = |v: &Value, k: &str| v[k].as_str().unwrap_or("").to_lowercase();
    let mut out = BTreeMap::new();
    for module in ["Contacts", "Tasks", "Events"] {
        let records = zoho["modules"][module]
            .as_array()
            .cloned()
            .unwrap_or_default();
        out.insert(
            format!("Zoho {module} by Notes_UNID"),
            records.iter().map(|r| field(r, "Notes_UNID")).collect(),
        );
    }
    let accounts = zoho["modules"]["Accounts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    out.insert(
        "Accounts by name".into(),
        accounts.iter().map(|a| field(a, "Account_Name")).collect(),
    );
    for d in notes["databases"][DB]["documents"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let id = crate::world::item_text(&d["items"]["ZohoCRMId"]).unwrap_or_default();
        out.entry(format!("Notes {} by ZohoCRMId", field(d, "form")))
            .or_insert_with(Vec::new)
            .push(id);
    }
    out
}

fn tally(keys: &[String]) -> BTreeMap<&str, u32> {
    let mut n = BTreeMap::new();
    for k in keys.iter().filter(|k| !k.is_empty()) {
        *n.entry(k.as_str()).or_default() += 1;
    }
    n
}

/// Each record once: no key more often than the sample data already had it, and at most once
/// if new.
pub(crate) async fn no_duplicates(
    sims: &nzsync_sim::Simulators,
    before: &BTreeMap<String, Vec<String>>,
) -> Result<()> {
    let zoho = get_json(&format!("{}/_sim/dump", sims.zoho_url)).await?;
    let notes = get_json(&format!("{}/_sim/dump", sims.domino_url)).await?;
    let after = keys(&notes, &zoho);
    let mut allowed: BTreeMap<&str, u32> = BTreeMap::new();
    for list in before.values() {
        for (k, n) in tally(list) {
            let a = allowed.entry(k).or_insert(1);
            *a = (*a).max(n);
        }
    }
    let mut problems = Vec::new();
    for (label, list) in &after {
        let twice: Vec<_> = tally(list)
            .into_iter()
            .filter(|(k, n)| *n > allowed.get(k).copied().unwrap_or(1))
            .collect();
        if !twice.is_empty() {
            problems.push(format!("{label}: {twice:?}"));
        }
    }
    ensure!(problems.is_empty(), "duplicates:\n{}", problems.join("\n"));
    Ok(())
}

/// Signs in at `base` as `demo@example.com` and connects the demo's mail file.
pub(crate) async fn sign_in_and_connect(
    s: &Session,
    sims: &nzsync_sim::Simulators,
    base: &str,
) -> Result<()> {
    s.goto(&format!("{base}/")).await?;
    s.click("#sign-in").await?;
    s.click("input[name=user][value=\"demo@example.com\"]")
        .await?;
    s.click("button[type=submit]").await?;
    s.wait("#connect-form").await?;
    s.fill("#server-name", &sims.domino_url).await?;
    s.fill("#user-name", "demo").await?;
    s.fill("#password", "demo").await?;
    s.click("#connect-submit").await?;
    s.wait("#no-runs").await?;
    Ok(())
}

/// From a finished sync: back to the dashboard, one more sync, and it writes nothing.
pub(crate) async fn a_further_sync_writes_nothing(s: &Session, urls: &[&str]) -> Result<()> {
    s.click("#to-dashboard").await?;
    s.wait("#start-sync").await?;
    clear_calls(urls).await?;
    start_sync(s).await?;
    s.wait_run("#sync-finished").await?;
    let n = writes(urls).await?;
    ensure!(n == 0, "the sync after convergence wrote {n} times");
    Ok(())
}

async fn steps(
    s: &Session,
    sims: &nzsync_sim::Simulators,
    config: &Path,
    base: &str,
) -> Result<()> {
    let mut host = Host::start(config, base).await?;
    sign_in_and_connect(s, sims, base).await?;

    // A slow sync, and the host killed once it has written.
    for url in [&sims.domino_url, &sims.zoho_url] {
        control(url, "/_sim/latency", json!({ "ms": 60 })).await?;
    }
    let before = keys(
        &get_json(&format!("{}/_sim/dump", sims.domino_url)).await?,
        &get_json(&format!("{}/_sim/dump", sims.zoho_url)).await?,
    );
    clear_calls(&urls(sims)).await?;
    start_sync(s).await?;
    let mut waited = 0;
    while writes(&urls(sims)).await? == 0 {
        ensure!(waited < 600, "the sync never wrote");
        if s.find("#sync-finished").await?.is_some() {
            bail!("the sync finished before it wrote anything seen");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    host.kill().await?;
    host = Host::start(config, base).await?;
    for url in [&sims.domino_url, &sims.zoho_url] {
        control(url, "/_sim/latency", json!({ "ms": 0 })).await?;
    }
    let end = s.wait_run("#sync-finished, #failed-title").await?;
    let recovered = s.attr(&end, "id").await?.as_deref() == Some("sync-finished");
    s.screenshot(&shots(), "restart-1-interrupted").await?;
    eprintln!(
        "the interrupted sync {}",
        if recovered {
            "recovered and finished"
        } else {
            "failed cleanly"
        }
    );
    let page = s.text_of("body").await?;
    ensure!(
        !page.contains("panicked") && !page.contains("RuntimeError"),
        "{page}"
    );

    // A new sync converges...
    s.click("#sync-finished .actions button, .card .actions button.primary")
        .await?;
    s.wait("#start-sync").await?;
    start_sync(s).await?;
    s.wait_run("#sync-finished").await?;
    s.screenshot(&shots(), "restart-2-after").await?;
    no_duplicates(sims, &before).await?;
    // ... and a further one writes nothing.
    a_further_sync_writes_nothing(s, &urls(sims)).await?;
    host.kill().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_restart_during_a_widget_sync_then_a_sync_converges() -> Result<()> {
    let (chromium, chromedriver) = webdriver::find_browser()?;
    let sims = nzsync_sim::start(nzsync_sim::SimConfig::loopback(nzsync_sim::Seed::Demo)).await?;
    let dir = tempfile::tempdir()?;
    let port = free_port()?;
    let domino = nzsync::commands::DemoDomino {
        das_url: &sims.domino_url,
        drapi_url: &sims.drapi_url,
        api: nzsync::commands::DemoApi::Das,
    };
    let config =
        nzsync::commands::write_demo_server_config(dir.path(), port, &domino, &sims.zoho_url)?;
    let base = format!("http://127.0.0.1:{port}");
    let driver = Driver::start(&chromedriver).await?;
    let s = Session::new(&driver, &chromium, "en-US").await?;
    let result = steps(&s, &sims, &config, &base).await;
    if result.is_err() {
        let _ = s.screenshot(&shots(), "restart-failure").await;
    }
    let _ = s.quit().await;
    result
}
