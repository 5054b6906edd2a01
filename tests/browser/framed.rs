//! The widget as Zoho CRM shows it: inside an iframe of the CRM's web tab. Signing in there
//! must not take the CRM tab away (and Zoho's consent page refuses to be framed), so the widget
//! opens the sign-in in a popup window, which reports back and closes; the framed widget then
//! carries on, signed in, while the top page never navigated.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde_json::json;

use crate::webdriver::{Driver, Session};
use crate::world::Demo;

/// Replaces the current page's content with an iframe of the widget (same origin, as the
/// host's own page would frame it; the CRM's frame is cross-site, which needs https cookies).
async fn frame_the_widget(s: &Session, demo: &Demo) -> Result<()> {
    s.goto(&format!("{}/healthz", demo.base)).await?;
    s.exec(
        "document.body.innerHTML = '<iframe id=\"crm-tab\" src=\"/\" \
         style=\"width:1200px;height:820px;border:0\"></iframe>';",
        json!([]),
    )
    .await?;
    let frame = s.wait("#crm-tab").await?;
    s.switch_to_frame(&frame).await
}

pub(crate) async fn popup_handle(s: &Session, main: &str) -> Result<String> {
    for _ in 0..100 {
        if let Some(h) = s.windows().await?.into_iter().find(|h| h != main) {
            return Ok(h);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("no sign-in window opened")
}

pub(crate) async fn wait_closed(s: &Session, handle: &str) -> Result<()> {
    for _ in 0..100 {
        if !s.windows().await?.iter().any(|h| h == handle) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the sign-in window did not close")
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_inside_the_crm_frame_uses_a_popup_and_keeps_the_crm_page() -> Result<()> {
    let (chromium, chromedriver) = crate::webdriver::find_browser()?;
    let demo = Demo::start().await?;
    let driver = Driver::start(&chromedriver).await?;
    let s = Session::new(&driver, &chromium, "en-US").await?;
    let steps = async {
        let main = s.window().await?;
        frame_the_widget(&s, &demo).await?;
        s.click("#sign-in").await?;
        s.wait("#sign-in-waiting")
            .await
            .context("the framed widget should say a sign-in window opened")?;

        let popup = popup_handle(&s, &main).await?;
        s.switch_to_window(&popup).await?;
        s.click("input[name=user][value=\"demo@example.com\"]")
            .await?;
        s.click("button[type=submit]").await?;
        wait_closed(&s, &popup).await?;

        s.switch_to_window(&main).await?;
        ensure!(
            s.url().await?.ends_with("/healthz"),
            "the CRM page navigated away: {}",
            s.url().await?
        );
        let frame = s.wait("#crm-tab").await?;
        s.switch_to_frame(&frame).await?;
        // Signed in: a new user lands on the authentication page.
        s.wait("#connect-form")
            .await
            .context("the framed widget did not pick up the sign-in")?;
        Ok::<(), anyhow::Error>(())
    }
    .await;
    if steps.is_err() {
        let _ = s.switch_to_top().await;
        let _ = s.screenshot(&crate::shots(), "framed-failure").await;
    }
    let _ = s.quit().await;
    steps
}
