//! A widget session across a fleet, in Chromium: two `nzsync serve` replicas on one throw-away
//! PostgreSQL, behind a load balancer (a TCP forwarder in the test that sends each connection
//! to the first replica that accepts it, as a balancer with health checks does).
//!
//! The user signs in and connects through replica a. Replica a is then killed (SIGKILL), and
//! the same page, with the same session cookie, runs the whole first sync in the browser: every
//! API call, the proxy to both servers, the lease, the state changes and the report go to
//! replica b, which has never seen this browser. The sync must finish, both sides hold each
//! record once, the run is in the history, and a further sync writes nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

use crate::postgres::Cluster;
use crate::restart::{
    Host, a_further_sync_writes_nothing, free_port, get_json, keys, no_duplicates,
    sign_in_and_connect, start_sync, urls,
};
use crate::shots;
use crate::webdriver::{self, Driver, Session};

/// A load balancer on loopback: each connection goes to the first of `backends` that accepts
/// it. Counts the connections each backend took.
struct Balancer {
    port: u16,
    taken: Arc<Vec<AtomicUsize>>,
    task: tokio::task::JoinHandle<()>,
}

impl Balancer {
    async fn start(backends: Vec<u16>) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let taken: Arc<Vec<AtomicUsize>> =
            Arc::new(backends.iter().map(|_| AtomicUsize::new(0)).collect());
        let counts = Arc::clone(&taken);
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let (backends, counts) = (backends.clone(), Arc::clone(&counts));
                tokio::spawn(async move {
                    for (i, port) in backends.iter().enumerate() {
                        if let Ok(mut server) = TcpStream::connect(("127.0.0.1", *port)).await {
                            counts[i].fetch_add(1, Ordering::SeqCst);
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                            return;
                        }
                    }
                });
            }
        });
        Ok(Self { port, taken, task })
    }

    fn taken(&self, backend: usize) -> usize {
        self.taken[backend].load(Ordering::SeqCst)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The demo's server config, listening on `port` behind the balancer's public URL, with its
/// store in PostgreSQL at `url`.
fn replica_config(demo: &str, port: u16, public: u16, url: &str) -> String {
    demo.replace(
        &format!("listen = \"127.0.0.1:{public}\""),
        &format!("listen = \"127.0.0.1:{port}\""),
    )
    .replace(
        "path = \"nzsync-server.db\"",
        &format!("url = {url:?}\nmax_connections = 4"),
    )
}

/// `GET path` from the page (with the session's cookie): the JSON answer.
async fn page_get(s: &Session, path: &str) -> Result<Value> {
    s.exec_async(
        "const [path, done] = arguments;
         fetch(path).then(r => r.json()).then(done).catch(e => done({error: String(e)}));",
        json!([path]),
    )
    .await
}

async fn steps(s: &Session, sims: &nzsync_sim::Simulators, cluster: &Cluster) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let url = cluster.database().await;
    let (pa, pb) = (free_port()?, free_port()?);
    let balancer = Balancer::start(vec![pa, pb]).await?;
    let public = balancer.port;
    let domino = nzsync::commands::DemoDomino {
        das_url: &sims.domino_url,
        drapi_url: &sims.drapi_url,
        api: nzsync::commands::DemoApi::Das,
    };
    let demo_config =
        nzsync::commands::write_demo_server_config(dir.path(), public, &domino, &sims.zoho_url)?;
    let text = std::fs::read_to_string(&demo_config)?;
    let (ca, cb) = (dir.path().join("a.toml"), dir.path().join("b.toml"));
    std::fs::write(&ca, replica_config(&text, pa, public, &url))?;
    std::fs::write(&cb, replica_config(&text, pb, public, &url))?;
    let a = Host::start(&ca, &format!("http://127.0.0.1:{pa}")).await?;
    let b = Host::start(&cb, &format!("http://127.0.0.1:{pb}")).await?;
    let base = format!("http://127.0.0.1:{public}");

    // Sign in and connect: replica a answers (the balancer's first choice).
    sign_in_and_connect(s, sims, &base).await?;
    ensure!(
        balancer.taken(0) > 0 && balancer.taken(1) == 0,
        "replica a did not serve the sign-in ({} / {})",
        balancer.taken(0),
        balancer.taken(1)
    );

    // Replica a dies; the same page syncs through replica b.
    a.kill().await?;
    let before = keys(
        &get_json(&format!("{}/_sim/dump", sims.domino_url)).await?,
        &get_json(&format!("{}/_sim/dump", sims.zoho_url)).await?,
    );
    start_sync(s).await?;
    s.wait_run("#sync-finished").await?;
    s.screenshot(&shots(), "fleet-1-synced-on-b").await?;
    ensure!(
        balancer.taken(1) > 0,
        "replica b served nothing: the page did not go through it"
    );
    let page = s.text_of("body").await?;
    ensure!(
        !page.contains("panicked") && !page.contains("RuntimeError"),
        "{page}"
    );
    no_duplicates(sims, &before).await?;
    let runs = page_get(s, "/api/runs").await?;
    let list = runs["runs"].as_array().context("no run history")?;
    ensure!(
        list.iter()
            .filter(|r| r["dry_run"] == false && r["outcome"] == "completed")
            .count()
            == 1,
        "the history is not one completed sync: {runs}"
    );

    // A further sync, still on b, writes nothing.
    a_further_sync_writes_nothing(s, &urls(sims)).await?;
    b.kill().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_widget_session_signed_in_on_one_replica_syncs_through_another() -> Result<()> {
    let (chromium, chromedriver) = webdriver::find_browser()?;
    let cluster = Cluster::start();
    let sims = nzsync_sim::start(nzsync_sim::SimConfig::loopback(nzsync_sim::Seed::Demo)).await?;
    let driver = Driver::start(&chromedriver).await?;
    let s = Session::new(&driver, &chromium, "en-US").await?;
    let result = tokio::time::timeout(Duration::from_secs(600), steps(&s, &sims, &cluster))
        .await
        .unwrap_or_else(|_| Err(anyhow::anyhow!("the test ran out of time")));
    if result.is_err() {
        let _ = s.screenshot(&shots(), "fleet-failure").await;
    }
    let _ = s.quit().await;
    result
}
