//! A small W3C WebDriver client (over reqwest and serde_json): just the commands the browser
//! tests use, against chromedriver driving headless Chromium.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use serde_json::{Value, json};

/// The key of an element reference in W3C answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long `wait_*` helpers poll before failing.
pub const WAIT: Duration = Duration::from_secs(30);

/// How long a whole sync or preview may take before a test gives up on it (a bound against a
/// hang, not a speed target: speed is measured by the benchmarks).
pub const RUN_WAIT: Duration = Duration::from_secs(240);

/// An executable on `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// Chromium and chromedriver, or a failure that says how to install them.
pub fn find_browser() -> Result<(PathBuf, PathBuf)> {
    let chromium = std::env::var_os("NZSYNC_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| which("chromium"))
        .or_else(|| which("chromium-browser"));
    let driver = std::env::var_os("NZSYNC_CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| which("chromedriver"));
    match (chromium, driver) {
        (Some(c), Some(d)) => Ok((c, d)),
        _ => bail!(
            "the browser tests need Chromium and chromedriver, which are not installed: run \
             `apt-get install -y chromium chromium-driver` (Debian/Ubuntu), or point \
             NZSYNC_CHROMIUM and NZSYNC_CHROMEDRIVER at them"
        ),
    }
}

/// A running chromedriver, killed on drop.
pub struct Driver {
    child: Child,
    /// `http://127.0.0.1:{port}`.
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits until it is ready.
    pub async fn start(path: &Path) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", path.display()))?;
        let driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{}/status", driver.url)).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                return Ok(driver);
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not become ready on port {port}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// One browser session.
pub struct Session {
    http: reqwest::Client,
    base: String,
    _profile: tempfile::TempDir,
}

/// An element of the page.
#[derive(Clone, Debug)]
pub struct Element(String);

impl Session {
    /// A new headless Chromium session with a fresh profile, at laptop size.
    pub async fn new(driver: &Driver, chromium: &Path, lang: &str) -> Result<Self> {
        let profile = tempfile::tempdir()?;
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            format!("--lang={lang}"),
            "--window-size=1366,900".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": args,
                "prefs": { "intl.accept_languages": lang },
            },
        }}});
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?;
        let r: Value = http
            .post(format!("{}/session", driver.url))
            .json(&caps)
            .send()
            .await?
            .json()
            .await?;
        let Some(id) = r["value"]["sessionId"].as_str() else {
            bail!("chromedriver did not start a session: {r}");
        };
        Ok(Self {
            base: format!("{}/session/{id}", driver.url),
            http,
            _profile: profile,
        })
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let v: Value = rb.send().await?.json().await?;
        if let Some(err) = v["value"]["error"].as_str() {
            bail!("webdriver {path}: {err}: {}", v["value"]["message"]);
        }
        Ok(v["value"].clone())
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.cmd(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Result<Value> {
        self.cmd(reqwest::Method::GET, path, None).await
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.post("/url", json!({ "url": url })).await.map(drop)
    }

    /// The current URL.
    pub async fn url(&self) -> Result<String> {
        Ok(self
            .get("/url")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Every element matching `css`.
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        let v = self
            .post(
                "/elements",
                json!({ "using": "css selector", "value": css }),
            )
            .await?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e[ELEMENT].as_str().map(|s| Element(s.to_owned())))
            .collect())
    }

    /// The first element matching `css`, if any.
    pub async fn find(&self, css: &str) -> Result<Option<Element>> {
        Ok(self.find_all(css).await?.into_iter().next())
    }

    /// Waits for an element matching `css`.
    pub async fn wait(&self, css: &str) -> Result<Element> {
        self.wait_for(css, WAIT).await
    }

    /// Waits for the element matching `css` that ends a whole sync or preview: a run's time
    /// grows with the machine's load (other test binaries, builds), so it gets [`RUN_WAIT`].
    pub async fn wait_run(&self, css: &str) -> Result<Element> {
        self.wait_for(css, RUN_WAIT).await
    }

    /// Waits up to `within` for an element matching `css`.
    pub async fn wait_for(&self, css: &str, within: Duration) -> Result<Element> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(e) = self.find(css).await? {
                return Ok(e);
            }
            if Instant::now() > deadline {
                let body = self.text_of("body").await.unwrap_or_default();
                bail!("no element {css:?} appeared; the page says:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element matching `css` contains `text`.
    pub async fn wait_text(&self, css: &str, text: &str) -> Result<Element> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(e) = self.find(css).await?
                && self.text(&e).await.unwrap_or_default().contains(text)
            {
                return Ok(e);
            }
            if Instant::now() > deadline {
                let body = self.text_of("body").await.unwrap_or_default();
                bail!("{css:?} never contained {text:?}; the page says:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until nothing matches `css`.
    pub async fn wait_gone(&self, css: &str) -> Result<()> {
        let deadline = Instant::now() + WAIT;
        while self.find(css).await?.is_some() {
            if Instant::now() > deadline {
                bail!("{css:?} did not go away");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Clicks the element matching `css` (waiting for it).
    pub async fn click(&self, css: &str) -> Result<()> {
        let e = self.wait(css).await?;
        self.click_el(&e).await
    }

    /// Clicks an element.
    pub async fn click_el(&self, e: &Element) -> Result<()> {
        self.post(&format!("/element/{}/click", e.0), json!({}))
            .await
            .map(drop)
    }

    /// Clears the field matching `css` and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let e = self.wait(css).await?;
        self.post(&format!("/element/{}/clear", e.0), json!({}))
            .await?;
        self.type_into(&e, text).await
    }

    /// Types `text` into an element (`\u{E007}` is Enter).
    pub async fn type_into(&self, e: &Element, text: &str) -> Result<()> {
        self.post(&format!("/element/{}/value", e.0), json!({ "text": text }))
            .await
            .map(drop)
    }

    /// The visible text of an element.
    pub async fn text(&self, e: &Element) -> Result<String> {
        Ok(self
            .get(&format!("/element/{}/text", e.0))
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// The visible text of the first element matching `css`.
    pub async fn text_of(&self, css: &str) -> Result<String> {
        match self.find(css).await? {
            Some(e) => self.text(&e).await,
            None => Ok(String::new()),
        }
    }

    /// An attribute of an element.
    pub async fn attr(&self, e: &Element, name: &str) -> Result<Option<String>> {
        Ok(self
            .get(&format!("/element/{}/attribute/{name}", e.0))
            .await?
            .as_str()
            .map(str::to_owned))
    }

    /// The accessible name the browser computes for an element.
    pub async fn label(&self, e: &Element) -> Result<String> {
        Ok(self
            .get(&format!("/element/{}/computedlabel", e.0))
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// The handle of the current window.
    pub async fn window(&self) -> Result<String> {
        Ok(self
            .get("/window")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// The handles of every open window.
    pub async fn windows(&self) -> Result<Vec<String>> {
        Ok(self
            .get("/window/handles")
            .await?
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| h.as_str().map(str::to_owned))
            .collect())
    }

    /// Makes window `handle` the one commands go to.
    pub async fn switch_to_window(&self, handle: &str) -> Result<()> {
        self.post("/window", json!({ "handle": handle }))
            .await
            .map(drop)
    }

    /// Makes the document of the iframe `frame` the one commands go to.
    pub async fn switch_to_frame(&self, frame: &Element) -> Result<()> {
        self.post("/frame", json!({ "id": { ELEMENT: frame.0 } }))
            .await
            .map(drop)
    }

    /// Back to the window's top-level document.
    pub async fn switch_to_top(&self) -> Result<()> {
        self.post("/frame", json!({ "id": null })).await.map(drop)
    }

    /// Runs `script` (a function body; `arguments` as usual) and returns its value.
    pub async fn exec(&self, script: &str, args: Value) -> Result<Value> {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Runs asynchronous `script` (its last argument is the callback) and returns its value.
    pub async fn exec_async(&self, script: &str, args: Value) -> Result<Value> {
        self.post("/execute/async", json!({ "script": script, "args": args }))
            .await
    }

    /// `fetch(path)` from the page (with its cookies); the answer's status and JSON body.
    pub async fn fetch_json(&self, path: &str) -> Result<(u16, Value)> {
        let v = self
            .post(
                "/execute/async",
                json!({
                    "script": "const done = arguments[arguments.length - 1];
                               fetch(arguments[0]).then(async r => done([r.status, await r.text()]))
                                 .catch(e => done([0, String(e)]));",
                    "args": [path],
                }),
            )
            .await?;
        let status = u16::try_from(v[0].as_u64().unwrap_or(0)).unwrap_or(0);
        let body = serde_json::from_str(v[1].as_str().unwrap_or("null")).unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// Saves a PNG screenshot as `dir/name.png`.
    pub async fn screenshot(&self, dir: &Path, name: &str) -> Result<()> {
        let v = self.get("/screenshot").await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .context("screenshot is not base64")?;
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join(format!("{name}.png")), png)?;
        Ok(())
    }

    /// Ends the session (closes the browser).
    pub async fn quit(self) -> Result<()> {
        self.cmd(reqwest::Method::DELETE, "", None).await.map(drop)
    }
}
