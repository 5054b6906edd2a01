//! The product as a new user runs it: `nzsync demo` (the server plus both simulators with the
//! demo data) on loopback port 0, and helpers that read the simulators' `/_sim/dump`.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use tokio::io::AsyncBufReadExt as _;

/// A running `nzsync demo`.
pub struct Demo {
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
    /// The widget's URL, without a trailing slash.
    pub base: String,
    /// The Domino simulator.
    pub domino: String,
    /// The Domino REST API of the Domino simulator.
    pub drapi: String,
    /// The Zoho CRM simulator.
    pub zoho: String,
    http: reqwest::Client,
}

impl Demo {
    /// Starts `nzsync demo --port 0` and reads the URLs it prints.
    pub async fn start() -> Result<Self> {
        Self::start_with(&[]).await
    }

    /// [`Demo::start`] with more arguments for `nzsync demo`.
    pub async fn start_with(args: &[&str]) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
            .args(["demo", "--port", "0", "--data"])
            .arg(dir.path())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start nzsync demo")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let (mut base, mut domino, mut zoho) = (String::new(), String::new(), String::new());
        let mut drapi = String::new();
        while let Some(line) = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .context("nzsync demo did not start in time")??
        {
            let url = line
                .split_whitespace()
                .find(|w| w.starts_with("http://127.0.0.1:"))
                .map(|u| u.trim_end_matches('/').to_owned())
                .unwrap_or_default();
            if line.contains("widget:") {
                base = url;
            } else if line.contains("Domino simulator:") {
                domino = url;
            } else if line.contains("Domino REST API:") {
                drapi = url;
            } else if line.contains("Zoho CRM simulator:") {
                zoho = url;
            } else if line.starts_with("Press Ctrl-C") {
                break;
            }
        }
        if base.is_empty() || domino.is_empty() || drapi.is_empty() || zoho.is_empty() {
            bail!("nzsync demo did not print its URLs");
        }
        // Keep reading stdout so the demo never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let demo = Self {
            _child: child,
            _dir: dir,
            base,
            domino,
            drapi,
            zoho,
            http: reqwest::Client::new(),
        };
        // Every answer the widget gets through the proxy is checked against the vendor specs.
        for sim in [&demo.domino, &demo.zoho] {
            let r = demo
                .http
                .post(format!("{sim}/_sim/spec"))
                .json(&serde_json::json!({"enabled": true}))
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("{sim}/_sim/spec: {}", r.text().await?);
            }
        }
        Ok(demo)
    }

    /// The server's store (SQLite) in the demo's data folder.
    pub fn store_path(&self) -> std::path::PathBuf {
        self._dir.path().join("nzsync-server.db")
    }

    /// Fails if any answer the simulators gave broke its vendor spec.
    pub async fn assert_spec_faithful(&self) -> Result<()> {
        for sim in [&self.domino, &self.zoho] {
            let report: Value = self
                .http
                .get(format!("{sim}/_sim/spec"))
                .send()
                .await?
                .json()
                .await?;
            let violations = &report["violations"];
            if violations.as_array().is_none_or(|v| !v.is_empty()) {
                bail!("answers that break the vendor specs at {sim}: {violations:#}");
            }
        }
        Ok(())
    }

    /// The Domino simulator's dump.
    pub async fn domino_dump(&self) -> Result<Value> {
        Ok(self
            .http
            .get(format!("{}/_sim/dump", self.domino))
            .send()
            .await?
            .json()
            .await?)
    }

    /// The Zoho simulator's dump.
    pub async fn zoho_dump(&self) -> Result<Value> {
        Ok(self
            .http
            .get(format!("{}/_sim/dump", self.zoho))
            .send()
            .await?
            .json()
            .await?)
    }

    /// Delays every Domino answer by `ms`.
    pub async fn domino_latency(&self, ms: u64) -> Result<()> {
        let r = self
            .http
            .post(format!("{}/_sim/latency", self.domino))
            .json(&serde_json::json!({ "ms": ms }))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("domino /_sim/latency: {}", r.text().await?);
        }
        Ok(())
    }

    /// Changes the Domino simulator's configuration (e.g. DAS switches).
    pub async fn domino_config(&self, body: &Value) -> Result<()> {
        let r = self
            .http
            .post(format!("{}/_sim/config", self.domino))
            .json(body)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("domino /_sim/config: {}", r.text().await?);
        }
        Ok(())
    }
}

impl Demo {
    /// Changes the Zoho simulator's configuration (e.g. a user's profile).
    pub async fn zoho_config(&self, body: &Value) -> Result<()> {
        let r = self
            .http
            .post(format!("{}/_sim/config", self.zoho))
            .json(body)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("zoho /_sim/config: {}", r.text().await?);
        }
        Ok(())
    }

    /// Posts `body` to one of the Zoho simulator's control endpoints (`/_sim/…`) and returns
    /// its answer.
    pub async fn zoho_control(&self, path: &str, body: &Value) -> Result<Value> {
        let r = self
            .http
            .post(format!("{}{path}", self.zoho))
            .json(body)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("zoho {path}: {}", r.text().await?);
        }
        Ok(r.json().await?)
    }

    /// Replaces the Zoho simulator's fault rules (`[]` clears them).
    pub async fn zoho_faults(&self, rules: &Value) -> Result<()> {
        let r = self
            .http
            .post(format!("{}/_sim/faults", self.zoho))
            .json(&serde_json::json!({ "rules": rules }))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("zoho /_sim/faults: {}", r.text().await?);
        }
        Ok(())
    }
}

/// A Notes item's text (items dump as strings, arrays or `{data}` objects).
pub fn item_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.first().and_then(item_text),
        Value::Object(o) => o.get("data").and_then(item_text),
        _ => None,
    }
}

/// A contact in Notes: (lowercase e-mail, private).
pub fn notes_contacts(dump: &Value, db: &str) -> Vec<(String, bool)> {
    dump["databases"][db]["documents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["form"] == "Person")
        .filter_map(|d| {
            let email = d["items"].get("MailAddress").and_then(item_text)?;
            let private = d["items"]
                .get("OrgConfidential")
                .and_then(item_text)
                .is_some_and(|v| v == "1");
            Some((email.to_lowercase(), private))
        })
        .collect()
}

/// The e-mails of the Zoho contacts.
pub fn zoho_contacts(dump: &Value) -> BTreeSet<String> {
    dump["modules"]["Contacts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["Email"].as_str().map(str::to_lowercase))
        .collect()
}

/// Zoho records of `module`.
pub fn zoho_records<'a>(dump: &'a Value, module: &str) -> Vec<&'a Value> {
    dump["modules"][module]
        .as_array()
        .into_iter()
        .flatten()
        .collect()
}
