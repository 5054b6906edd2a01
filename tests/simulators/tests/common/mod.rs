//! Helpers shared by the integration tests: start both simulators on free loopback ports and
//! talk to them with a real HTTP client.

#![allow(dead_code)]

use nzsync_sim::{Seed, SimConfig, Simulators, start};
use serde_json::Value;

/// Both simulators on free ports, with users demo/demo and user2/pw2, checking every answer
/// against the vendor specs: the test fails if any answer broke its spec.
pub async fn sims(seed: Seed) -> Sims {
    let sims = start(SimConfig {
        domino_users: vec![
            ("demo".into(), "demo".into()),
            ("user2".into(), "pw2".into()),
        ],
        spec_check: true,
        ..SimConfig::loopback(seed)
    })
    .await
    .expect("simulators start");
    Sims(Some(sims))
}

/// Running simulators whose answers are checked against the vendor specs when the test ends
/// (dropped or shut down).
pub struct Sims(Option<Simulators>);

impl Sims {
    /// Check the answers so far, then stop both servers.
    pub async fn shutdown(mut self) {
        if let Some(sims) = self.0.take() {
            sims.assert_spec_faithful();
            sims.shutdown().await;
        }
    }
}

impl std::ops::Deref for Sims {
    type Target = Simulators;

    fn deref(&self) -> &Simulators {
        self.0.as_ref().expect("simulators running")
    }
}

impl Drop for Sims {
    fn drop(&mut self) {
        if let Some(sims) = &self.0
            && !std::thread::panicking()
        {
            sims.assert_spec_faithful();
        }
    }
}

/// A client that does not follow redirects (login answers 302).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Body as JSON.
pub async fn json(resp: reqwest::Response) -> Value {
    let text = resp.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// An access token for a refresh token.
pub async fn token(zoho: &str, refresh: &str) -> String {
    let resp = http()
        .post(format!(
            "{zoho}/oauth/v2/token?grant_type=refresh_token&client_id=demo-client&client_secret=demo-secret&refresh_token={refresh}"
        ))
        .send()
        .await
        .expect("token request");
    let body = json(resp).await;
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {body}"))
        .to_owned()
}

pub fn auth(token: &str) -> String {
    format!("Zoho-oauthtoken {token}")
}

/// POST a JSON body to a `/_sim/` route.
pub async fn control(base: &str, path: &str, body: Value) -> reqwest::Response {
    http()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .expect("control request")
}
