//! Owner scope in the widget (`DESIGN.md` §4.3): two users of one CRM org, `demo` (the admin)
//! and `user2`, each in their own browser, connect their own mail files and sync in turns, then
//! at the same time. Each user's Notes receives only the CRM records they own; each cross-ID
//! names its owner's mail file; the records of the org's third CRM user, who never connects,
//! reach nobody. The sync settings offer "My records" and the CRM's custom views.

use std::collections::BTreeMap;

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::webdriver::{Driver, Session};
use crate::world::Demo;
use crate::{click_start_sync, japanese, set_language, shots, sign_in};

/// The Zoho users of the simulator's org.
const DEMO_ID: &str = "5725767000000411001";
const USER2_ID: &str = "5725767000000411005";

/// Connects `user`'s mail file after sign-in and closes the readiness panel once all is ready.
async fn connect(s: &Session, demo: &Demo, user: &str) -> Result<()> {
    s.wait("#connect-form").await?;
    s.fill("#server-name", &demo.domino).await?;
    s.fill("#user-name", user).await?;
    s.fill("#password", user).await?;
    s.click("#connect-submit").await?;
    s.wait("#readiness[data-state=ready]").await?;
    s.click("#readiness-close").await?;
    s.wait_gone("#readiness").await?;
    Ok(())
}

/// The first sync: the settings (whose "Which CRM records" offers my records and the CRM's
/// custom views), the preview, then the sync.
async fn first_sync(s: &Session, user: &str) -> Result<()> {
    click_start_sync(s).await?;
    s.wait("#settings-form").await?;
    let picker = s.wait("#scope-contacts").await?;
    ensure!(
        s.label(&picker).await? == "Contacts",
        "the contacts scope is not labelled"
    );
    // The CRM's views are listed (the simulator's org has a public "東京の顧客" view); "My
    // records" is the default.
    s.wait("#scope-contacts option[value=mine]:checked").await?;
    // The views come from the CRM after the picker shows: wait for one.
    s.wait("#scope-contacts option:not([value=mine])").await?;
    let options = s.text_of("#scope-contacts").await?;
    ensure!(
        options.contains("My records") && options.contains("東京の顧客"),
        "{user}: the scope offers {options:?}"
    );
    s.screenshot(&shots(), &format!("30-scope-{user}")).await?;
    s.click("#settings-save").await?;
    s.wait("#preview").await?;
    s.click("#sync-now").await?;
    s.wait_run("#sync-finished[data-outcome=completed]").await?;
    s.click("#to-dashboard").await?;
    s.wait("#last-run").await?;
    Ok(())
}

/// A later sync: settings unchanged, straight to the sync.
async fn start(s: &Session) -> Result<()> {
    click_start_sync(s).await?;
    s.click("#settings-save").await?;
    Ok(())
}

async fn finished(s: &Session) -> Result<()> {
    s.wait_run("#sync-finished[data-outcome=completed]").await?;
    s.click("#to-dashboard").await?;
    s.wait("#last-run").await?;
    Ok(())
}

/// Every rule of owner scope on the simulators' data: what each mail file names is its user's,
/// and each cross-ID names its owner's mail file (replica IDs from the Domino dump).
async fn assert_scoped(demo: &Demo, synced: &[&str]) -> Result<()> {
    let domino = demo.domino_dump().await?;
    let zoho = demo.zoho_dump().await?;
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    let mut xrefs = Vec::new();
    for module in ["Contacts", "Tasks", "Events"] {
        for r in zoho["modules"][module].as_array().into_iter().flatten() {
            let id = r["id"].as_str().unwrap_or_default().to_owned();
            let o = r["Owner"]["id"].as_str().unwrap_or_default().to_owned();
            if let Some(x) = r["Notes_UNID"].as_str().filter(|x| !x.is_empty()) {
                xrefs.push((module, id.clone(), o.clone(), x.to_owned()));
            }
            owner.insert(id, o);
        }
    }
    let mut replica = BTreeMap::new();
    for (user, id) in [("demo", DEMO_ID), ("user2", USER2_ID)] {
        let db = format!("mail/{user}.nsf");
        // The replica ID the server lists for the user's mail file.
        let listed: Value = reqwest::Client::new()
            .get(format!("{}/api/data", demo.domino))
            .basic_auth(user, Some(user))
            .send()
            .await?
            .json()
            .await?;
        let rid = listed
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["@filepath"] == db.as_str())
            .and_then(|d| d["@replicaid"].as_str())
            .with_context(|| format!("{db} is not listed"))?;
        replica.insert(id, rid.to_owned());
        let entry = &domino["databases"][&db];
        let mut named = 0;
        for d in entry["documents"].as_array().into_iter().flatten() {
            let Some(z) = item(&d["items"]["ZohoCRMId"]).filter(|z| !z.is_empty()) else {
                continue;
            };
            named += 1;
            if let Some(o) = owner.get(z) {
                ensure!(o == id, "{user}'s mail file names {z}, owned by {o}");
            }
        }
        ensure!(
            named > 0 || !synced.contains(&user),
            "{user}'s sync linked nothing"
        );
    }
    for (module, id, o, x) in xrefs {
        ensure!(
            o == DEMO_ID || o == USER2_ID,
            "{module} {id} of a user who never connects got the cross-ID {x}"
        );
        let (file, _) = x
            .split_once(':')
            .with_context(|| format!("{module} {id}: cross-ID {x} names no mail file"))?;
        let want = replica
            .get(o.as_str())
            .with_context(|| format!("no replica ID for {o}"))?;
        ensure!(
            file.eq_ignore_ascii_case(want),
            "{module} {id} owned by {o} names {file}, not {want}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_users_of_one_org_sync_only_their_own_records_in_the_widget() -> Result<()> {
    let (chromium, chromedriver) = crate::webdriver::find_browser()?;
    let demo = Demo::start().await?;
    let driver = Driver::start(&chromedriver).await?;
    let a = Session::new(&driver, &chromium, "en-US").await?;
    let b = Session::new(&driver, &chromium, "en-US").await?;
    let steps = async {
        // The admin connects, adds user2, and syncs first.
        sign_in(&a, &demo, "demo@example.com").await?;
        connect(&a, &demo, "demo").await?;
        a.click("#gear").await?;
        a.click("#menu-users").await?;
        a.click("#add-user-submit").await?;
        a.wait("#users-table tr[data-email=\"user2@example.com\"]")
            .await?;
        a.click("#tab-dashboard").await?;
        first_sync(&a, "demo").await.context("demo's first sync")?;
        assert_scoped(&demo, &["demo"])
            .await
            .context("after demo's sync")?;
        // user2, in another browser, then demo again: the three steps.
        sign_in(&b, &demo, "user2@example.com").await?;
        connect(&b, &demo, "user2").await?;
        first_sync(&b, "user2")
            .await
            .context("user2's first sync")?;
        assert_scoped(&demo, &["demo", "user2"])
            .await
            .context("after user2's sync")?;
        start(&a).await?;
        finished(&a).await.context("demo's second sync")?;
        assert_scoped(&demo, &["demo", "user2"])
            .await
            .context("after demo's second sync")?;
        // Both at once.
        start(&a).await?;
        start(&b).await?;
        finished(&a).await.context("demo's concurrent sync")?;
        finished(&b).await.context("user2's concurrent sync")?;
        assert_scoped(&demo, &["demo", "user2"])
            .await
            .context("after the concurrent syncs")?;
        b.screenshot(&shots(), "31-user2-dashboard").await?;
        view_past_the_wall(&a, &demo)
            .await
            .context("a custom view past Zoho's 100,000 records")?;
        demo.assert_spec_faithful().await
    }
    .await;
    if steps.is_err() {
        let _ = a.screenshot(&shots(), "org-failure-demo").await;
        let _ = b.screenshot(&shots(), "org-failure-user2").await;
    }
    let _ = a.quit().await;
    let _ = b.quit().await;
    steps.map(|_: ()| ())
}

/// A custom view with more records than Zoho pages through (the simulator's wall lowered to
/// 100, under demo's 1,000 contacts): the preview fails the contacts, and the events (which
/// cannot go past the wall either), and says why with the way out, in English and Japanese;
/// closing it keeps the previous settings.
async fn view_past_the_wall(s: &Session, demo: &Demo) -> Result<()> {
    let view = demo
        .zoho_control(
            "/_sim/custom_views",
            &json!({"module": "Contacts", "name": "All of mine", "created_by": "demo@example.com",
                    "criteria": {"field": {"api_name": "Owner"}, "comparator": "equal",
                                 "value": "${CURRENTUSER}"}}),
        )
        .await?;
    let cvid = view["id"]
        .as_str()
        .context("the view has no id")?
        .to_owned();
    demo.zoho_config(&json!({ "page_token_records": 100 }))
        .await?;
    click_start_sync(s).await?;
    s.wait("#settings-form").await?;
    s.wait(&format!("#scope-contacts option[value=\"{cvid}\"]"))
        .await?;
    s.exec(
        "const el = document.getElementById('scope-contacts'); el.value = arguments[0];
         el.dispatchEvent(new Event('change', { bubbles: true }));",
        json!([cvid]),
    )
    .await?;
    s.click("#settings-save").await?;
    s.wait_run("#preview[data-outcome=partial]").await?;
    s.wait("#preview [data-module=contacts][data-status=failed]")
        .await?;
    let why_at = "#preview .module-why[data-module=contacts] .why[data-cause=crm_listing_limit]";
    let why = s.text_of(why_at).await?;
    ensure!(
        why.contains("Zoho CRM lists at most 100,000 records of a custom view")
            && why.contains("choose \"My records\""),
        "{why}"
    );
    // Demo's events, too, are more than the lowered wall, and events cannot go past it.
    let events_at = "#preview .module-why[data-module=events] .why[data-cause=crm_listing_limit]";
    let why = s.text_of(events_at).await?;
    ensure!(
        why.contains("Zoho CRM lists at most 100,000 events") && why.contains("Sync Events"),
        "{why}"
    );
    s.screenshot(&shots(), "32-view-past-the-wall").await?;
    set_language(s, "ja").await?;
    let why = s.text_of(why_at).await?;
    ensure!(
        why.contains("カスタムビューから取得できるレコードは100,000件まで")
            && why.contains("「自分のデータ(自分が所有者のデータ)」"),
        "{why}"
    );
    let why = s.text_of(events_at).await?;
    ensure!(
        why.contains("取得できる予定は100,000件まで") && why.contains("「予定の同期」をオフ"),
        "{why}"
    );
    japanese::assert_japanese(s, "preview, a custom view past the wall").await?;
    s.screenshot(&shots(), "32-view-past-the-wall-japanese")
        .await?;
    set_language(s, "en").await?;
    s.click("#preview-close").await?;
    s.wait("#settings-restored").await?;
    demo.zoho_config(&json!({ "page_token_records": 100_000 }))
        .await
}

/// A Domino dump item's text: a plain value or a `{type, data}` object.
fn item(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v["data"].as_str())
}
