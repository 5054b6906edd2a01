//! The widget with the Domino REST API, in Chromium: on the authentication page the user picks
//! the Domino REST API and gives its address; the readiness panel runs the REST API's checks,
//! and the whole first sync runs in the browser through the server's proxy to the REST API,
//! never to Domino Access Services. The same page in Japanese names the choice.

use anyhow::{Result, ensure};
use serde_json::Value;

use crate::restart::{a_further_sync_writes_nothing, get_json, start_sync};
use crate::webdriver::{self, Driver, Session};
use crate::world::Demo;
use crate::{set_language, shots, sign_in};

/// The simulator's calls (DAS or the REST API's, by `url`) whose path starts with `prefix`.
async fn calls_to(url: &str, prefix: &str) -> Result<usize> {
    let calls: Value = get_json(&format!("{url}/_sim/calls")).await?;
    Ok(calls["calls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["path"].as_str().is_some_and(|p| p.starts_with(prefix)))
        .count())
}

async fn steps(s: &Session, demo: &Demo) -> Result<()> {
    s.goto(&format!("{}/", demo.base)).await?;
    sign_in(s, demo, "demo@example.com").await?;
    s.wait("#connect-form").await?;
    ensure!(s.label(&s.wait("#domino-api").await?).await? == "Domino API");
    set_language(s, "ja").await?;
    s.wait("#connect-form").await?;
    let ja = s.text_of("#connect-form").await?;
    ensure!(
        ja.contains("Domino REST API(Domino 12.0.2以降、高速)"),
        "{ja}"
    );
    s.screenshot(&shots(), "rest-0-connect-ja").await?;
    set_language(s, "en").await?;
    s.wait("#connect-form").await?;

    s.fill("#server-name", &demo.drapi).await?;
    s.fill("#user-name", "demo").await?;
    s.fill("#password", "demo").await?;
    s.click("#domino-api option[value=rest]").await?;
    s.screenshot(&shots(), "rest-1-connect").await?;
    s.click("#connect-submit").await?;
    s.wait("#no-runs").await?;
    let me = s.fetch_json("/api/me").await?.1;
    ensure!(me["domino"]["api"] == "rest", "{me}");
    // The readiness panel names the REST API's checks in words, in both languages.
    s.wait_text("body", "Sign-in to the Domino REST API")
        .await?;
    let page = s.text_of("body").await?;
    for name in [
        "Domino REST API scope of your mail database",
        "Domino REST API schema: contacts",
        "DQL access (how changes are found)",
        "Domino REST API calendar (PIM)",
    ] {
        ensure!(
            page.contains(name),
            "the readiness panel lacks {name:?}: {page}"
        );
    }
    ensure!(!page.contains("drapi_"), "a check named by its id: {page}");
    s.screenshot(&shots(), "rest-2-ready").await?;
    set_language(s, "ja").await?;
    s.wait_text("body", "Domino REST APIへのログイン").await?;
    set_language(s, "en").await?;

    for url in [&demo.domino, &demo.drapi] {
        reqwest::Client::new()
            .delete(format!("{url}/_sim/calls"))
            .send()
            .await?;
    }
    start_sync(s).await?;
    s.wait_run("#sync-finished").await?;
    s.screenshot(&shots(), "rest-3-synced").await?;
    ensure!(
        calls_to(&demo.drapi, "/api/v1/lists/").await? > 0,
        "the sync did not list through the REST API"
    );
    ensure!(
        calls_to(&demo.drapi, "/api/pim-v1/calendar").await? > 0,
        "the events did not go through the PIM calendar"
    );
    let das = calls_to(&demo.domino, "/").await?;
    ensure!(
        das == 0,
        "the sync called Domino Access Services {das} times"
    );
    let finished = s.text_of("#sync-finished").await?;
    ensure!(
        !finished.contains("failed") && !finished.contains("Errors 1"),
        "{finished}"
    );
    demo.assert_spec_faithful().await?;

    // Nothing left to do: the next sync writes nothing (on either side).
    a_further_sync_writes_nothing(s, &[&demo.domino, &demo.drapi, &demo.zoho]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_widget_syncs_through_the_domino_rest_api_in_chromium() -> Result<()> {
    let (chromium, chromedriver) = webdriver::find_browser()?;
    let demo = Demo::start().await?;
    let driver = Driver::start(&chromedriver).await?;
    let s = Session::new(&driver, &chromium, "en-US").await?;
    let result = steps(&s, &demo).await;
    if result.is_err() {
        let _ = s.screenshot(&shots(), "rest-failure").await;
    }
    let _ = s.quit().await;
    result
}
