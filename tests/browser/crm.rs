//! The widget as Zoho CRM shows it: framed by the CRM's web tab, talking to the CRM through
//! Zoho's embedded-app SDK. Zoho's SDK cannot be fetched here, so a stand-in for the CRM runs on
//! loopback: a page that frames the widget the way the CRM does (`?serviceOrigin=…`), and a
//! script that provides the SDK's documented interface (see [`SDK`]). `nzsync demo` loads the
//! SDK from the stand-in (`--crm-sdk-url`) and lets it frame the widget (`--frame-ancestor`).
//!
//! One Japanese CRM user goes through every screen, each checked for untranslated text, and
//! every error named in issue #15: a one-time consent explained in one line; a sign-in with the
//! wrong Zoho account refused; the authentication page's errors (a URL without a scheme, a wrong
//! password, Domino Access Services off); the sync settings with the schedule, a settings change
//! that previews first and a cancel that restores, a scheduled run appearing in the history;
//! meetings in the past; Manage Users; times in the CRM user's time zone; no second sign-in when
//! the tab opens again; a session of another account than the CRM's refused.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use crate::framed::{popup_handle, wait_closed};
use crate::japanese::assert_japanese;
use crate::webdriver::{Driver, Session};
use crate::world::Demo;
use crate::{shots, tour};

/// The stand-in for Zoho's embedded-app SDK (`ZohoEmbededAppSDK.min.js`, v1.2): the calls the
/// widget makes, answering as Zoho documents them.
const SDK: &str = r#"// A stand-in for Zoho's embedded-app SDK (ZohoEmbededAppSDK.min.js v1.2), for tests.
// Each call answers as Zoho documents it:
// - ZOHO.embeddedApp.on(event, handler) registers a listener; the CRM fires "PageLoad" once it
//   loaded the widget (github.com/zoho/embeddedApp-js-sdk, README: "To register Listeners with
//   EmbededApp", ZOHO.embeddedApp.on("PageLoad", function(data){ … })).
// - ZOHO.embeddedApp.init() starts the handshake with the CRM and returns a Promise; the CRM
//   then fires PageLoad (same README; help.zwidgets.com/help/v1.2/index.html, embeddedApp.init).
// - ZOHO.CRM.CONFIG.getCurrentUser() returns a Promise of {users: [user]}, the user as Zoho
//   CRM's users API describes it: id, full_name, email, language, locale, time_zone
//   (help.zwidgets.com/help/v1.2, ZOHO.CRM.CONFIG.getCurrentUser).
// - ZOHO.CRM.CONFIG.getOrgInfo() returns a Promise of {org: [org]} (same help, getOrgInfo).
(function () {
  var listeners = {};
  var user = %USER%;
  var org = %ORG%;
  window.ZOHO = {
    embeddedApp: {
      on: function (event, handler) { (listeners[event] = listeners[event] || []).push(handler); },
      init: function () {
        return new Promise(function (resolve) {
          setTimeout(function () {
            (listeners.PageLoad || []).forEach(function (h) { h({}); });
            resolve();
          }, 20);
        });
      }
    },
    CRM: {
      CONFIG: {
        getCurrentUser: function () { return Promise.resolve({ users: [user] }); },
        getOrgInfo: function () { return Promise.resolve({ org: [org] }); }
      }
    }
  };
})();
"#;

/// The simulator's org and users.
const ORG_ID: &str = "5725767000000000123";
const DEMO_ID: &str = "5725767000000411001";
const USER2_ID: &str = "5725767000000411005";

fn crm_user(id: &str, email: &str, name: &str) -> Value {
    json!({
        "id": id, "email": email, "full_name": name,
        "language": "ja_JP", "locale": "ja_JP", "time_zone": "Asia/Tokyo",
    })
}

/// The CRM stand-in: its origin, and who the CRM says is signed in.
struct StandIn {
    origin: String,
    widget: Arc<Mutex<String>>,
    user: Arc<Mutex<Value>>,
}

impl StandIn {
    async fn start() -> Result<Self> {
        use axum::response::IntoResponse as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let origin = format!("http://{}", listener.local_addr()?);
        let widget = Arc::new(Mutex::new(String::new()));
        let user = Arc::new(Mutex::new(Value::Null));
        let page = {
            let (widget, origin) = (widget.clone(), origin.clone());
            move || {
                let base = widget.lock().map(|w| w.clone()).unwrap_or_default();
                let service =
                    url::form_urlencoded::byte_serialize(origin.as_bytes()).collect::<String>();
                let html = format!(
                    "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
                     <title>Zoho CRM (stand-in)</title></head>\
                     <body style=\"margin:0;font-family:sans-serif;background:#eef1f5\">\
                     <div style=\"height:44px;background:#1d2b4f;color:#fff;padding:12px 16px;box-sizing:border-box\">\
                     Zoho CRM · IBM Notesとの同期</div>\
                     <iframe id=\"crm-tab\" src=\"{base}/?serviceOrigin={service}\" \
                     style=\"display:block;width:100%;height:840px;border:0\"></iframe></body></html>"
                );
                async move { axum::response::Html(html) }
            }
        };
        let sdk = {
            let user = user.clone();
            move || {
                let u = user.lock().map(|u| u.clone()).unwrap_or_default();
                let js = SDK
                    .replace("%USER%", &u.to_string())
                    .replace("%ORG%", &json!({ "id": ORG_ID }).to_string());
                async move {
                    ([(axum::http::header::CONTENT_TYPE, "text/javascript")], js).into_response()
                }
            }
        };
        let app = axum::Router::new()
            .route("/crm.html", axum::routing::get(page))
            .route("/sdk.js", axum::routing::get(sdk));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            origin,
            widget,
            user,
        })
    }

    fn set_user(&self, v: Value) {
        if let Ok(mut u) = self.user.lock() {
            *u = v;
        }
    }
}

/// A tour screenshot of the whole CRM page, the widget scrolled to its top; back in the frame.
async fn tour_tab(s: &Session, name: &str) -> Result<()> {
    tour_tab_at(s, name, None).await
}

/// [`tour_tab`] with the element `css` scrolled to the middle of the view.
async fn tour_tab_at(s: &Session, name: &str, css: Option<&str>) -> Result<()> {
    match css {
        Some(css) => {
            s.exec(
                "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });",
                json!([css]),
            )
            .await?
        }
        None => s.exec("window.scrollTo(0, 0);", json!([])).await?,
    };
    s.switch_to_top().await?;
    tour(s, name).await?;
    let frame = s.wait("#crm-tab").await?;
    s.switch_to_frame(&frame).await
}

/// Opens the CRM's tab and switches into the widget's frame.
async fn open_tab(s: &Session, crm: &StandIn) -> Result<()> {
    s.switch_to_top().await?;
    s.goto(&format!("{}/crm.html", crm.origin)).await?;
    let frame = s.wait("#crm-tab").await?;
    s.switch_to_frame(&frame).await
}

/// Signs in through the popup as `email`; back in the widget's frame afterwards.
async fn sign_in_popup(s: &Session, email: &str) -> Result<()> {
    s.switch_to_top().await?;
    let main = s.window().await?;
    let frame = s.wait("#crm-tab").await?;
    s.switch_to_frame(&frame).await?;
    s.click("#sign-in").await?;
    let popup = popup_handle(s, &main).await?;
    s.switch_to_window(&popup).await?;
    s.click(&format!("input[name=user][value=\"{email}\"]"))
        .await?;
    s.click("button[type=submit]").await?;
    if let Err(e) = wait_closed(s, &popup).await {
        let body = s
            .exec("return document.documentElement.outerHTML;", json!([]))
            .await?;
        return Err(e.context(format!(
            "the sign-in window shows {} {body}",
            s.url().await?
        )));
    }
    s.switch_to_window(&main).await?;
    let frame = s.wait("#crm-tab").await?;
    s.switch_to_frame(&frame).await
}

async fn select(s: &Session, id: &str, value: &str) -> Result<()> {
    s.exec(
        "const el = document.getElementById(arguments[0]); el.value = arguments[1];
         el.dispatchEvent(new Event('change', { bubbles: true }));",
        json!([id, value]),
    )
    .await
    .map(drop)
}

async fn runs(s: &Session) -> Result<Vec<Value>> {
    let (_, r) = s.fetch_json("/api/runs").await?;
    Ok(r["runs"].as_array().cloned().unwrap_or_default())
}

async fn steps(s: &Session, demo: &Demo, crm: &StandIn) -> Result<()> {
    let demo_user = crm_user(DEMO_ID, "demo@example.com", "山田 太郎");
    crm.set_user(demo_user.clone());
    open_tab(s, crm).await?;

    // No consent yet: one line says why it is needed. The CRM's language, no title of its own,
    // no language menu.
    s.wait("#signin[data-grant=false]").await?;
    s.wait("main.nzsync.crm[lang=ja]").await?;
    ensure!(
        s.find("h1").await?.is_none(),
        "a title of its own inside the CRM"
    );
    ensure!(
        s.find("#lang").await?.is_none(),
        "a language menu inside the CRM"
    );
    let why = s.text_of("#signin-why").await?;
    ensure!(
        why.contains("一度だけ") && why.contains("スケジュール"),
        "{why}"
    );
    assert_japanese(s, "consent").await?;
    tour_tab(s, "ja-crm-consent").await?;

    // Zoho signs in another account than the CRM's: refused, and said so.
    sign_in_popup(s, "user2@example.com").await?;
    s.wait("#sign-in-mismatch").await?;
    ensure!(
        s.text_of("#sign-in-mismatch")
            .await?
            .contains("demo@example.com"),
        "the refusal does not name the CRM's account"
    );
    assert_japanese(s, "sign-in with another account").await?;
    let (status, _) = s.fetch_json("/api/me").await?;
    ensure!(status == 401, "another account got a session ({status})");

    // The CRM's own account: signed in, on the authentication page, in Japanese.
    sign_in_popup(s, "demo@example.com").await?;
    s.wait("#connect-form").await?;
    ensure!(s.text_of("label[for=server-name]").await? == "サーバー名");
    assert_japanese(s, "authentication").await?;

    // A server name without its scheme.
    s.fill("#server-name", "mail.example.com").await?;
    s.fill("#user-name", "demo").await?;
    s.fill("#password", "demo").await?;
    s.click("#connect-submit").await?;
    s.wait("[role=alert][data-code=server_scheme]").await?;
    assert_japanese(s, "server name without a scheme").await?;
    // The server's own refusal (not a server URL) reads Japanese too, its words folded away.
    s.fill("#server-name", "https://").await?;
    s.click("#connect-submit").await?;
    s.wait("[role=alert][data-code=bad_request]").await?;
    assert_japanese(s, "server name the server refuses").await?;
    // A wrong password.
    s.fill("#server-name", &demo.domino).await?;
    s.fill("#password", "wrong").await?;
    s.click("#connect-submit").await?;
    s.wait("[role=alert][data-code=wrong_password]").await?;
    assert_japanese(s, "wrong password").await?;
    // Domino Access Services off on the server: stored, and the readiness panel says what to do.
    demo.domino_config(&json!({ "enabled_services": ["Calendar"] }))
        .await?;
    s.fill("#password", "demo").await?;
    s.click("#connect-submit").await?;
    s.wait("#readiness[data-state=not_ready]").await?;
    assert_japanese(s, "readiness, DAS off").await?;
    demo.domino_config(&json!({ "enabled_services": ["Data", "Calendar"] }))
        .await?;
    s.click("#readiness-recheck").await?;
    s.wait("#readiness[data-state=ready]").await?;
    s.click("#readiness-close").await?;
    s.wait("#no-runs").await?;
    assert_japanese(s, "empty dashboard").await?;

    // The settings, with the schedule: the first sync previews, then syncs.
    s.wait("#start-sync:not([disabled])").await?;
    s.click("#start-sync").await?;
    s.wait("#settings-form").await?;
    assert_japanese(s, "sync settings").await?;
    select(s, "schedule", "15").await?;
    tour_tab_at(s, "ja-settings", Some("#schedule")).await?;
    s.click("#settings-save").await?;
    s.wait_run("#preview[data-outcome=completed]").await?;
    assert_japanese(s, "preview").await?;
    let (_, saved) = s.fetch_json("/api/settings").await?;
    ensure!(saved["schedule_minutes"] == 15, "{saved}");
    s.click("#sync-now").await?;
    s.wait_run("#sync-finished[data-outcome=completed]").await?;
    assert_japanese(s, "sync finished").await?;
    s.click("#to-dashboard").await?;
    s.wait("#run-history tbody tr").await?;
    assert_japanese(s, "dashboard").await?;
    // Every module's records with their reasons and actions, in Japanese.
    for module in ["contacts", "tasks", "events"] {
        s.click(&format!(
            "#last-run [data-module={module}] button[aria-expanded=false]"
        ))
        .await?;
        s.wait(&format!("#last-run-report-{module}-records"))
            .await?;
    }
    let records = s.text_of("#last-run-report-contacts-records").await?;
    ensure!(
        records.contains("メールアドレスで照合しました"),
        "{records}"
    );
    assert_japanese(s, "dashboard with records").await?;
    tour_tab(s, "ja-dashboard").await?;

    // Times are in the CRM user's zone (Tokyo), in Japanese, not UTC stamps.
    let newest = runs(s).await?.into_iter().next().context("a run")?;
    let tokyo = s
        .exec(
            "return new Date(arguments[0]).toLocaleString('ja', \
             { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Tokyo' });",
            json!([newest["started"]]),
        )
        .await?;
    let shown = s.text_of("#run-history tbody tr td").await?;
    ensure!(
        Some(shown.as_str()) == tokyo.as_str(),
        "shown {shown:?}, Tokyo {tokyo}"
    );

    // A settings change previews before anything is written; Cancel restores the settings.
    let (_, before) = s.fetch_json("/api/settings").await?;
    let zoho_before = demo.zoho_dump().await?;
    s.wait("#start-sync:not([disabled])").await?;
    s.click("#gear").await?;
    s.click("#menu-sync-settings").await?;
    s.wait("#settings-form").await?;
    s.click("#sync-type-one-way").await?;
    s.wait_gone("#conflict").await?;
    select(s, "direction", "crm_to_notes").await?;
    s.click("#settings-save").await?;
    s.wait("#preview").await?;
    ensure!(
        demo.zoho_dump().await?["modules"] == zoho_before["modules"],
        "the preview of a settings change wrote to Zoho CRM"
    );
    s.click("#preview-close").await?;
    s.wait("#settings-restored").await?;
    assert_japanese(s, "settings restored").await?;
    let (_, after) = s.fetch_json("/api/settings").await?;
    ensure!(
        after == before,
        "Cancel kept the new settings: {after} (was {before})"
    );

    // The scheduled sync: once due, the server runs it and it appears in the history.
    let count = runs(s).await?.len();
    {
        let db = rusqlite::Connection::open(demo.store_path())?;
        db.busy_timeout(Duration::from_secs(5))?;
        db.execute(
            "UPDATE srv_users SET next_sync = 0 WHERE user_id = ?1",
            [DEMO_ID],
        )?;
    }
    let mut scheduled = None;
    for _ in 0..120 {
        let all = runs(s).await?;
        if all.len() > count {
            scheduled = all.into_iter().next();
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let scheduled = scheduled.context("no scheduled sync ran within a minute")?;
    ensure!(scheduled["dry_run"] == false, "{scheduled}");
    s.click("#tab-meetings").await?;
    s.click("#tab-dashboard").await?;
    s.wait(&format!(
        "#run-history tbody tr[data-run=\"{}\"]",
        scheduled["id"]
    ))
    .await
    .context("the scheduled sync is not in the history")?;

    // Schedule Meetings: its errors, a meeting in the past.
    s.click("#tab-meetings").await?;
    s.click("#meeting-schedule").await?;
    s.wait("#meeting-subject-error:not([hidden])").await?;
    assert_japanese(s, "meeting errors").await?;
    let set = "const el = document.getElementById(arguments[0]); el.value = arguments[1];
               el.dispatchEvent(new Event('input', { bubbles: true }));";
    s.exec(set, json!(["meeting-start", "2020-03-04T10:00"]))
        .await?;
    s.exec(set, json!(["meeting-end", "2020-03-04T11:00"]))
        .await?;
    s.click("#meeting-schedule").await?;
    s.wait("#meeting-past-ok").await?;
    assert_japanese(s, "meeting in the past").await?;
    tour_tab(s, "ja-meeting").await?;
    // The start and end are read in the CRM user's time zone (Tokyo), not the browser's.
    let browser_zone = s
        .exec(
            "return Intl.DateTimeFormat().resolvedOptions().timeZone;",
            json!([]),
        )
        .await?;
    ensure!(
        browser_zone != "Asia/Tokyo",
        "the browser runs in Tokyo: this step would prove nothing"
    );
    let subject = "東京での打ち合わせ";
    s.fill("#meeting-subject", subject).await?;
    let field = s.wait("#meeting-attendees").await?;
    s.type_into(&field, &format!("guest@example.org{}", crate::ENTER))
        .await?;
    s.wait("#attendee-list [data-email=\"guest@example.org\"]")
        .await?;
    s.exec(set, json!(["meeting-start", "2031-03-04T10:00"]))
        .await?;
    s.exec(set, json!(["meeting-end", "2031-03-04T11:00"]))
        .await?;
    s.click("#meeting-schedule").await?;
    s.wait("#meeting-done").await?;
    assert_japanese(s, "meeting scheduled").await?;
    let zoho = demo.zoho_dump().await?;
    let event = crate::world::zoho_records(&zoho, "Events")
        .into_iter()
        .find(|e| e["Event_Title"] == subject)
        .context("the meeting is not a CRM event")?;
    let start = event["Start_DateTime"].as_str().unwrap_or_default();
    let same = s
        .exec(
            "return Date.parse(arguments[0]) === Date.parse('2031-03-04T10:00:00+09:00');",
            json!([start]),
        )
        .await?;
    ensure!(
        same == true,
        "the meeting starts at {start}, not 10:00 in Tokyo"
    );

    // The other screens.
    for (item, ready, name) in [
        ("#menu-password", "#password-form", "change password"),
        ("#menu-users", "#users-table", "manage users"),
        ("#menu-uninstall", "#uninstall-what", "uninstall"),
    ] {
        s.click("#gear").await?;
        s.wait("#gear-menu").await?;
        assert_japanese(s, "settings menu").await?;
        s.click(item).await?;
        s.wait(ready).await?;
        assert_japanese(s, name).await?;
    }
    s.switch_to_top().await?;
    s.screenshot(&shots(), "40-crm-uninstall-japanese").await?;

    // The tab opens again: no second sign-in.
    open_tab(s, crm).await?;
    s.wait("#start-sync").await?;
    ensure!(s.find("#signin").await?.is_none(), "asked to sign in again");

    // The CRM is open as another user than this browser's session: refused, with sign-out.
    crm.set_user(crm_user(USER2_ID, "user2@example.com", "佐藤 花子"));
    open_tab(s, crm).await?;
    s.wait("#account-mismatch").await?;
    ensure!(
        s.find("#start-sync").await?.is_none(),
        "another account's data is shown"
    );
    assert_japanese(s, "account mismatch").await?;
    s.click("#sign-out").await?;
    s.wait("#signin[data-grant=false]").await?;

    // The CRM's user has given consent before: "Continue as …", and in without a consent page.
    crm.set_user(demo_user);
    open_tab(s, crm).await?;
    s.wait("#signin[data-grant=true]").await?;
    ensure!(
        s.text_of("#sign-in").await? == "山田 太郎として続ける",
        "{}",
        s.text_of("#sign-in").await?
    );
    assert_japanese(s, "continue as").await?;
    sign_in_popup(s, "demo@example.com").await?;
    s.wait("#start-sync").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn inside_zoho_crm_the_widget_is_the_crm_users_and_reads_japanese() -> Result<()> {
    let (chromium, chromedriver) = crate::webdriver::find_browser()?;
    let crm = StandIn::start().await?;
    let sdk = format!("{}/sdk.js", crm.origin);
    let demo = Demo::start_with(&["--frame-ancestor", &crm.origin, "--crm-sdk-url", &sdk]).await?;
    if let Ok(mut w) = crm.widget.lock() {
        w.clone_from(&demo.base);
    }
    let driver = Driver::start(&chromedriver).await?;
    // The browser is English; the CRM user is Japanese: the CRM's language wins.
    let s = Session::new(&driver, &chromium, "en-US").await?;
    let result = steps(&s, &demo, &crm).await;
    if result.is_err() {
        let _ = s.switch_to_top().await;
        let _ = s.screenshot(&shots(), "crm-failure").await;
    }
    let _ = s.quit().await;
    result
}
