//! Browser tests: the widget in a real headless Chromium (driven over W3C WebDriver by
//! chromedriver) against `nzsync demo`, checking every step of the seed against the
//! simulators' data. A screenshot of each screen goes to `target/browser-screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`apt-get install -y chromium
//! chromium-driver`); without them the tests fail and say so.

mod crm;
mod fleet;
mod framed;
mod japanese;
mod org;
// Shared with host/tests, which use more of it than the fleet test here does.
#[allow(dead_code)]
#[path = "../../host/tests/common/postgres.rs"]
mod postgres;
mod rest;
mod restart;
mod webdriver;
mod world;

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use webdriver::{Driver, Session};
use world::{Demo, notes_contacts, zoho_contacts, zoho_records};

const DB: &str = "mail/demo.nsf";
const ENTER: &str = "\u{E007}";

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("browser-screenshots")
}

/// Signs in with Zoho as `email` through the simulator's consent page.
async fn sign_in(s: &Session, demo: &Demo, email: &str) -> Result<()> {
    s.goto(&format!("{}/", demo.base)).await?;
    s.click("#sign-in").await?;
    s.click(&format!("input[name=user][value=\"{email}\"]"))
        .await?;
    s.click("button[type=submit]").await?;
    s.wait("main.nzsync .card, main.nzsync .toolbar").await?;
    ensure!(
        s.url().await?.starts_with(&demo.base),
        "not back on the widget after sign-in"
    );
    Ok(())
}

async fn sign_out(s: &Session) -> Result<()> {
    if s.find("#menu-sign-out").await?.is_none() {
        s.click("#gear").await?;
    }
    s.click("#menu-sign-out").await?;
    s.wait("#sign-in").await?;
    Ok(())
}

/// The README's tour: a screenshot kept in `docs/tour/` (committed).
async fn tour(s: &Session, name: &str) -> Result<()> {
    s.exec("window.scrollTo(0, 0);", json!([])).await?;
    s.screenshot(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/tour"),
        name,
    )
    .await
}

/// `POST path` with a JSON body from the page, with the session's CSRF token; the status.
async fn post_json(s: &Session, path: &str, body: &Value) -> Result<u16> {
    let v = s
        .exec_async(
            "const [path, body, done] = arguments;
             fetch('/api/me').then(r => r.json()).then(me => fetch(path, {
                 method: 'POST', body: JSON.stringify(body),
                 headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
             })).then(r => done(r.status)).catch(() => done(0));",
            json!([path, body]),
        )
        .await?;
    Ok(u16::try_from(v.as_u64().unwrap_or(0)).unwrap_or(0))
}

/// Clicks Start Sync once the readiness checks let it.
async fn click_start_sync(s: &Session) -> Result<()> {
    s.wait("#start-sync:not([disabled])").await?;
    s.click("#start-sync").await
}

/// Switches the widget's language (`en` or `ja`).
async fn set_language(s: &Session, code: &str) -> Result<()> {
    s.exec(
        "const el = document.getElementById('lang'); el.value = arguments[0];
         el.dispatchEvent(new Event('change', { bubbles: true }));",
        json!([code]),
    )
    .await?;
    s.wait(&format!("main.nzsync[lang={code}]")).await?;
    Ok(())
}

/// Every input, select and textarea on the page has its label as its accessible name.
async fn assert_labelled(s: &Session) -> Result<()> {
    for e in s
        .find_all("input:not([type=hidden]), select, textarea")
        .await?
    {
        let name = s.label(&e).await?;
        let id = s.attr(&e, "id").await?.unwrap_or_default();
        ensure!(
            !name.trim().is_empty(),
            "control #{id} has no accessible name"
        );
        if let Some(label) = s.find(&format!("label[for=\"{id}\"]")).await? {
            let text = s.text(&label).await?;
            ensure!(
                name.contains(text.trim()),
                "control #{id} is named {name:?}, not by its label {text:?}"
            );
        }
    }
    Ok(())
}

/// Sign-in, a refused connect (wrong password), then a connect with Domino Access Services
/// off: the connection is stored, the readiness panel names the failed check and its admin
/// step, and Start Sync is held back with the reason. Each service the settings need is
/// switched off in turn (server Data service, mail file, contacts view, to-do view, Calendar
/// service) and checked again; once all are on, Start Sync is free.
async fn connect(s: &Session, demo: &Demo) -> Result<()> {
    s.goto(&format!("{}/", demo.base)).await?;
    s.wait_text("#sign-in", "Sign in with Zoho").await?;
    s.screenshot(&shots(), "01-sign-in").await?;
    sign_in(s, demo, "demo@example.com").await?;
    s.wait("#connect-form").await?;
    assert_labelled(s).await?;
    ensure!(s.label(&s.wait("#server-name").await?).await? == "Server Name");
    ensure!(s.label(&s.wait("#user-name").await?).await? == "User Name");
    ensure!(s.label(&s.wait("#password").await?).await? == "Password");

    // Empty fields are named.
    s.click("#connect-submit").await?;
    s.wait("#server-name-error").await?;

    // Wrong password: refused, nothing stored.
    s.fill("#server-name", &demo.domino).await?;
    s.fill("#user-name", "demo").await?;
    s.fill("#password", "not-the-password").await?;
    s.click("#connect-submit").await?;
    let alert = s.wait("[role=alert][data-code=wrong_password]").await?;
    ensure!(s.text(&alert).await?.contains("password is wrong"));
    s.screenshot(&shots(), "02-connect-wrong-password").await?;
    ensure!(
        s.fetch_json("/api/me").await?.1["connected"] == false,
        "a refused connection must not be stored"
    );

    // DAS off on the server: the connection is stored, the panel says what the admin must do.
    demo.domino_config(&json!({ "enabled_services": ["Calendar"] }))
        .await?;
    s.fill("#password", "demo").await?;
    s.click("#connect-submit").await?;
    s.wait("#readiness[data-state=not_ready]").await?;
    let (_, me) = s.fetch_json("/api/me").await?;
    ensure!(
        me["connected"] == true && me["domino"]["user"] == "demo",
        "{me}"
    );
    let db = |v: Value| json!({ "databases": { DB: v } });
    let cases = [
        (
            "data_service",
            json!({ "enabled_services": ["Calendar"] }),
            json!({ "enabled_services": ["Data", "Calendar"] }),
            "not enabled on the server",
            "Domino Web Engine",
        ),
        (
            "mail_file",
            db(json!({ "allow_rest": 0 })),
            db(json!({ "allow_rest": 2 })),
            "not enabled for your mail database",
            "Views and documents",
        ),
        (
            "contacts_view",
            db(json!({ "views": { "($Contacts)": { "das": false } } })),
            db(json!({ "views": { "($Contacts)": { "das": true } } })),
            "for the view ($Contacts)",
            "Allow Domino Data Service operations",
        ),
        (
            "todo_view",
            db(json!({ "views": { "($ToDo)": { "das": false } } })),
            db(json!({ "views": { "($ToDo)": { "das": true } } })),
            "for the view ($ToDo)",
            "Allow Domino Data Service operations",
        ),
        (
            "calendar_service",
            json!({ "enabled_services": ["Data"] }),
            json!({ "enabled_services": ["Data", "Calendar"] }),
            "Calendar service",
            "select Calendar as an enabled service",
        ),
    ];
    for (i, (id, off, on, headline, step)) in cases.into_iter().enumerate() {
        if i > 0 {
            demo.domino_config(&off).await?;
            s.wait("#readiness-recheck:not([disabled])").await?;
            s.click("#readiness-recheck").await?;
        }
        let row = format!("#readiness [data-check={id}][data-status=failed]");
        let el = s.wait(&row).await?;
        let text = s.text(&el).await?;
        ensure!(
            text.contains(headline) && text.contains(step),
            "{id}: the panel does not name the problem and the step: {text}"
        );
        let failed = s.find_all("#readiness li.check.failed").await?;
        ensure!(failed.len() == 1, "{id}: {} checks failed", failed.len());
        // Start Sync is held back, and says why.
        let button = s.wait("#start-sync").await?;
        ensure!(
            s.attr(&button, "disabled").await?.is_some(),
            "{id}: Start Sync is not held back"
        );
        // It names the failed check once; what to do is in the panel, not repeated here.
        let why = s.text_of("#start-sync-blocked").await?;
        ensure!(
            why.contains("failed") && !why.contains(step) && !why.contains("Ask the Domino admin"),
            "{id}: {why}"
        );
        if i == 0 {
            s.screenshot(&shots(), "03-readiness-das-off").await?;
            // The same in Japanese.
            set_language(s, "ja").await?;
            let text = s.text_of(&row).await?;
            ensure!(
                text.contains("サーバーでDominoアクセスサービスが有効になっていません")
                    && text.contains("「Domino Web Engine」")
                    && !text.contains("["),
                "{text}"
            );
            s.screenshot(&shots(), "03b-readiness-japanese").await?;
            japanese::assert_japanese(s, "readiness, DAS off on the server").await?;
            set_language(s, "en").await?;
        }
        demo.domino_config(&on).await?;
    }
    s.click("#readiness-recheck").await?;
    s.wait("#readiness[data-state=ready]").await?;
    s.wait("#start-sync:not([disabled])").await?;
    ensure!(s.find("#start-sync-blocked").await?.is_none());
    s.screenshot(&shots(), "03c-readiness-ready").await?;
    s.click("#readiness-close").await?;
    s.wait_gone("#readiness").await?;
    s.wait("#no-runs").await?;
    s.screenshot(&shots(), "04-dashboard-empty").await?;
    Ok(())
}

/// The language switch, and Japanese wording from the seed.
async fn languages(s: &Session) -> Result<()> {
    s.exec(
        "const el = document.getElementById('lang'); el.value = 'ja';
         el.dispatchEvent(new Event('change', { bubbles: true }));",
        json!([]),
    )
    .await?;
    s.wait_text("h1", "IBM Notesとの同期").await?;
    s.wait_text("#start-sync", "同期を開始する").await?;
    s.wait_text("#tab-meetings", "予定の登録").await?;
    s.screenshot(&shots(), "05-dashboard-japanese").await?;
    s.exec(
        "const el = document.getElementById('lang'); el.value = 'en';
         el.dispatchEvent(new Event('change', { bubbles: true }));",
        json!([]),
    )
    .await?;
    s.wait_text("#start-sync", "Start Sync").await?;
    Ok(())
}

/// Start Sync → the settings dialog with every option → Save → the preview (which changes
/// nothing) → the sync with progress → both simulators changed as the settings say.
async fn settings_preview_sync(s: &Session, demo: &Demo) -> Result<()> {
    click_start_sync(s).await?;
    s.wait("#settings-form").await?;
    for id in [
        "contacts-yes",
        "contacts-no",
        "tasks-yes",
        "tasks-no",
        "events-yes",
        "events-no",
        "sync-type-one-way",
        "sync-type-two-way",
        "conflict-crm",
        "conflict-notes",
    ] {
        s.wait(&format!("#{id}")).await?;
    }
    assert_labelled(s).await?;
    ensure!(
        s.label(&s.wait("#conflict-notes").await?)
            .await?
            .contains("IBM Notes always wins")
    );
    s.wait("#events-range").await?;
    // One Way shows its direction; back to Two Way hides it.
    s.click("#sync-type-one-way").await?;
    s.wait("#direction").await?;
    // One way has no conflicts: Conflict Behavior is for Two Way only.
    s.wait_gone("#conflict").await?;
    s.screenshot(&shots(), "06-settings-one-way").await?;
    s.click("#sync-type-two-way").await?;
    s.wait_gone("#direction").await?;
    s.wait("#conflict-notes").await?;
    // The schedule: off, every 15 / 30 / 60 minutes, daily.
    let schedules = s.text_of("#schedule").await?;
    for option in [
        "Off",
        "Every 15 minutes",
        "Every 30 minutes",
        "Every hour",
        "Once a day",
    ] {
        ensure!(schedules.contains(option), "{schedules}");
    }
    s.click("#conflict-notes").await?;
    s.click("#tasks-no").await?;
    s.screenshot(&shots(), "07-settings").await?;
    tour(s, "en-settings").await?;

    let before_notes = demo.domino_dump().await?;
    /// The Zoho user `demo` is (the simulator's org).
    const DEMO_ZOHO_ID: &str = "5725767000000411001";
    let before_zoho = demo.zoho_dump().await?;
    s.click("#settings-save").await?;

    // Saved as chosen.
    let (_, saved) = s.fetch_json("/api/settings").await?;
    ensure!(
        saved["conflict"] == "notes_wins"
            && saved["tasks"] == false
            && saved["contacts"] == true
            && saved["direction"] == "two_way",
        "{saved}"
    );

    // First sync: a preview comes first, and it writes nothing.
    s.wait("#preview").await?;
    s.wait("#preview [data-module=contacts]").await?;
    if s.find("#preview [data-module=tasks]").await?.is_some() {
        let status = s.text_of("#preview [data-module=tasks] td").await?;
        ensure!(
            status == "off",
            "tasks are off but the preview says {status:?}"
        );
    }
    let created = s
        .text_of("#preview [data-module=contacts] [data-count=created]")
        .await?;
    ensure!(
        created.parse::<u32>().unwrap_or(0) > 0,
        "the preview creates no contacts"
    );
    s.screenshot(&shots(), "08-preview").await?;
    tour(s, "en-preview").await?;
    ensure!(
        zoho_contacts(&demo.zoho_dump().await?) == zoho_contacts(&before_zoho)
            && notes_contacts(&demo.domino_dump().await?, DB).len()
                == notes_contacts(&before_notes, DB).len(),
        "the preview changed data"
    );

    // The sync, with progress.
    s.click("#sync-now").await?;
    s.wait(".module-progress[data-module=contacts]").await?;
    s.screenshot(&shots(), "09-sync-progress").await?;
    s.wait_run("#sync-finished[data-outcome=completed]").await?;
    s.wait(".module-progress[data-module=contacts][data-state=completed]")
        .await?;
    ensure!(s.text_of("#done-title").await? == "The sync completed.");
    // The flow is over: Start Sync is free again, and says so by not being greyed out.
    s.wait("#start-sync:not([disabled])").await?;
    s.screenshot(&shots(), "10-sync-finished").await?;

    let notes = notes_contacts(&demo.domino_dump().await?, DB);
    let zoho = demo.zoho_dump().await?;
    let crm = zoho_contacts(&zoho);
    let before_crm = zoho_contacts(&before_zoho);
    for (email, private) in &notes {
        if *private {
            ensure!(
                before_crm.contains(email) || !crm.contains(email),
                "private Notes contact {email} reached Zoho"
            );
        } else {
            ensure!(
                crm.contains(email),
                "Notes contact {email} is not in Zoho after the sync"
            );
        }
    }
    let notes_emails: BTreeSet<&String> = notes.iter().map(|(e, _)| e).collect();
    let notes_before: BTreeSet<String> = notes_contacts(&before_notes, DB)
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    for c in zoho_records(&zoho, "Contacts") {
        let private = c["Tag"]
            .as_array()
            .is_some_and(|tags| tags.iter().any(|t| t["name"] == "Private"));
        // Owner scope: demo's sync brings demo's own contacts, and no one else's.
        let demos = c["Owner"]["id"] == DEMO_ZOHO_ID;
        if let Some(e) = c["Email"].as_str().filter(|_| !private && !demos) {
            ensure!(
                !notes_emails.contains(&e.to_lowercase())
                    || notes_before.contains(&e.to_lowercase()),
                "Zoho contact {e} of another owner reached demo's Notes"
            );
        }
        if let Some(e) = c["Email"].as_str().filter(|_| !private && demos) {
            ensure!(
                notes_emails.contains(&e.to_lowercase()),
                "Zoho contact {e} is not in Notes after the sync"
            );
        }
    }
    // Tasks were off: untouched.
    ensure!(
        zoho_records(&zoho, "Tasks").len() == zoho_records(&before_zoho, "Tasks").len(),
        "tasks were synced although Sync Tasks is No"
    );
    Ok(())
}

/// The dashboard: the last run per module with counts matching the simulators, expandable
/// rows with records and reasons, the history and the chart.
async fn dashboard(s: &Session, demo: &Demo) -> Result<()> {
    s.click("#to-dashboard").await?;
    let row = "#last-run [data-module=contacts]";
    s.wait(row).await?;
    let created: u32 = s
        .text_of(&format!("{row} [data-count=created]"))
        .await?
        .parse()
        .context("created count")?;
    let (_, runs) = s.fetch_json("/api/runs").await?;
    let id = runs["runs"][0]["id"].as_i64().context("a run")?;
    let (_, report) = s.fetch_json(&format!("/api/runs/{id}")).await?;
    let contacts = report["modules"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["module"] == "contacts")
        .context("contacts in the report")?;
    ensure!(u64::from(created) == contacts["counts"]["created"].as_u64().unwrap_or(0));
    // The run list's total is what the report's modules created, updated and deleted.
    let changed: u64 = report["modules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            ["created", "updated", "deleted"]
                .iter()
                .map(|k| m["counts"][*k].as_u64().unwrap_or(0))
                .sum::<u64>()
        })
        .sum();
    ensure!(
        runs["runs"][0]["totals"]["synced"].as_u64() == Some(changed),
        "totals {} but the report changed {changed}",
        runs["runs"][0]["totals"]
    );
    // Every contact the sync created in Zoho carries its Notes twin's UNID.
    let zoho = demo.zoho_dump().await?;
    let linked = zoho_records(&zoho, "Contacts")
        .iter()
        .filter(|c| c["Notes_UNID"].as_str().is_some_and(|u| !u.is_empty()))
        .count();
    ensure!(
        linked > 0 && created > 0,
        "nothing linked: {linked}, created {created}"
    );

    // Expand the row: its records with reasons.
    s.click(&format!("{row} button[aria-expanded=false]"))
        .await?;
    let records = s.wait("#last-run-report-contacts-records").await?;
    let entries = s
        .find_all("#last-run-report-contacts-records tr.entry")
        .await?;
    ensure!(
        entries.len() >= usize::try_from(created)?,
        "fewer records than created"
    );
    ensure!(
        s.text(&records).await?.contains("create"),
        "no reason shown"
    );
    s.screenshot(&shots(), "11-dashboard-expanded").await?;
    tour(s, "en-dashboard").await?;
    // Reports name fields by their CRM labels and never the engine's own names.
    let text = s.text_of("#last-run").await?;
    for internal in [
        "job_title",
        "office_phone",
        "first_name",
        "cross-ID",
        "Notes_UNID",
    ] {
        ensure!(
            !text.contains(internal),
            "the report shows {internal}: {text}"
        );
    }
    // Events are matched by title and start, and say so.
    s.click("#last-run [data-module=events] button[aria-expanded=false]")
        .await?;
    let events = s.text_of("#last-run-report-events-records").await?;
    ensure!(
        !events.contains("matched by e-mail"),
        "events read as matched by e-mail: {events}"
    );
    ensure!(events.contains("matched by title and start"), "{events}");
    s.click("#last-run [data-module=events] button[aria-expanded=true]")
        .await?;

    // History: the sync, and the preview apart from it; each numbered on its own.
    let history = s.find_all("#run-history tbody tr").await?;
    ensure!(history.len() == 1, "history has {} rows", history.len());
    ensure!(s.text_of("#run-history tbody tr .run-name").await? == "Sync #1");
    ensure!(s.text_of("#last-run-title").await? == "Sync #1");
    let previews = s.find_all("#preview-history tbody tr").await?;
    ensure!(previews.len() == 1, "{} previews", previews.len());
    ensure!(s.text_of("#preview-history tbody tr .run-name").await? == "Preview #1");
    let bar = s.wait("#runs-chart .bar").await?;
    let synced: u64 = s
        .attr(&bar, "data-synced")
        .await?
        .unwrap_or_default()
        .parse()?;
    ensure!(
        synced
            == runs["runs"][0]["totals"]["synced"]
                .as_u64()
                .unwrap_or(u64::MAX)
    );
    Ok(())
}

/// A sync can be cancelled: it stops, records no run, and gives the lease back.
async fn cancel_sync(s: &Session, demo: &Demo) -> Result<()> {
    let (_, runs) = s.fetch_json("/api/runs").await?;
    let before = runs["runs"].as_array().map_or(0, Vec::len);
    demo.domino_latency(400).await?;
    click_start_sync(s).await?;
    // Settings unchanged after a first sync: straight to the sync, no preview.
    s.click("#settings-save").await?;
    s.wait("#sync-cancel").await?;
    s.screenshot(&shots(), "11b-sync-running").await?;
    s.click("#sync-cancel").await?;
    s.wait("#sync-cancelled").await?;
    demo.domino_latency(0).await?;
    s.screenshot(&shots(), "11c-sync-cancelled").await?;
    let (_, runs) = s.fetch_json("/api/runs").await?;
    ensure!(
        runs["runs"].as_array().map_or(0, Vec::len) == before,
        "a cancelled sync was recorded as a run"
    );
    let (_, users) = s.fetch_json("/api/users").await?;
    let me = users["users"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|u| u["email"] == "demo@example.com")
        .context("the admin in the user list")?;
    ensure!(
        me["syncing"] == false,
        "the cancelled sync still holds the lease"
    );
    s.click("#sync-cancelled ~ .actions button, .card .actions button.primary")
        .await?;
    s.wait("#last-run").await?;
    Ok(())
}

/// A module that fails in the middle of a run: the preview shows it failed, with the reason,
/// and offers no "Sync now"; the sync screen, its progress bars and the dashboard say "failed"
/// for it (in English and Japanese) and never that the sync completed.
async fn failing_module(s: &Session, demo: &Demo) -> Result<()> {
    // Every CRM read of to-dos fails with a server error (after the engine's retries).
    demo.zoho_faults(&json!([{ "kind": "status", "status": 500, "path_prefix": "/crm/v8/Tasks" }]))
        .await?;
    // Tasks on: a settings change, so the checks run again and a preview comes first.
    click_start_sync(s).await?;
    s.click("#tasks-yes").await?;
    s.click("#settings-save").await?;
    s.wait_run("#preview[data-outcome=partial]").await?;
    s.wait("#preview-failed").await?;
    ensure!(
        s.find("#sync-now").await?.is_none(),
        "a failed preview offers Sync now"
    );
    s.wait("#preview [data-module=tasks][data-status=failed]")
        .await?;
    let why = s.text_of("#preview .module-why[data-module=tasks]").await?;
    ensure!(why.contains("The server answered with an error"), "{why}");
    // The server's own words are kept, folded away under "Technical details".
    let raw = s
        .exec(
            "return document.querySelector('#preview .module-why[data-module=tasks] details').textContent;",
            json!([]),
        )
        .await?;
    ensure!(
        raw.as_str().is_some_and(|t| t.contains("HTTP 500")),
        "{raw}"
    );
    s.screenshot(&shots(), "11d-preview-failed").await?;
    // Closing it puts the previous settings back: nothing unpreviewed runs later.
    s.click("#preview-close").await?;
    s.wait("#settings-restored").await?;
    let (_, settings) = s.fetch_json("/api/settings").await?;
    ensure!(settings["tasks"] == false, "{settings}");

    // The sync itself: its preview passes while Zoho answers, then to-dos fail on the way.
    demo.zoho_faults(&json!([])).await?;
    click_start_sync(s).await?;
    s.click("#tasks-yes").await?;
    s.click("#settings-save").await?;
    s.wait_run("#preview[data-outcome=completed]").await?;
    demo.zoho_faults(&json!([{ "kind": "status", "status": 500, "path_prefix": "/crm/v8/Tasks" }]))
        .await?;
    s.click("#sync-now").await?;
    s.wait_run("#sync-finished[data-outcome=partial]").await?;
    let title = s.text_of("#done-title").await?;
    ensure!(
        title.starts_with("The sync finished, but not everything was synced")
            && !title.contains("completed"),
        "{title}"
    );
    s.wait(".module-progress[data-module=tasks][data-state=failed]")
        .await?;
    s.wait(".module-progress[data-module=contacts][data-state=completed]")
        .await?;
    let bar = s
        .text_of(".module-progress[data-module=tasks] .state-text")
        .await?;
    ensure!(bar == "failed", "{bar}");
    s.screenshot(&shots(), "11e-sync-partial").await?;

    // The dashboard agrees.
    s.click("#to-dashboard").await?;
    s.wait("#last-run[data-outcome=partial]").await?;
    ensure!(s.text_of("#last-run [data-module=tasks] td.status").await? == "failed");
    let outcome = s.text_of("#last-run-outcome").await?;
    ensure!(
        outcome.contains("incomplete") && outcome.contains("failed: Tasks"),
        "{outcome}"
    );
    let row = s
        .text_of("#run-history tbody tr[data-outcome=partial] .outcome")
        .await?;
    ensure!(row.contains("failed: Tasks"), "{row}");
    ensure!(
        s.text_of("#run-history tbody tr[data-outcome=partial] .run-name")
            .await?
            == "Sync #2",
        "previews and the cancelled sync take no number"
    );
    s.screenshot(&shots(), "11f-dashboard-partial").await?;
    set_language(s, "ja").await?;
    ensure!(s.text_of("#last-run [data-module=tasks] td.status").await? == "失敗");
    let why = s
        .text_of("#last-run .module-why[data-module=tasks]")
        .await?;
    ensure!(why.contains("サーバーがエラーを返しました"), "{why}");
    let outcome = s.text_of("#last-run-outcome").await?;
    ensure!(
        outcome.contains("一部未完了") && outcome.contains("失敗: タスク"),
        "{outcome}"
    );
    japanese::assert_japanese(s, "dashboard, a module failed").await?;
    s.screenshot(&shots(), "11g-dashboard-partial-japanese")
        .await?;
    set_language(s, "en").await?;
    demo.zoho_faults(&json!([])).await?;

    // The to-do view refuses DAS after the checks passed: the run stops at to-dos, events
    // did not run and say why; the checks run again and hold Start Sync back.
    click_start_sync(s).await?;
    s.wait("#settings-form").await?;
    let todo_view =
        |das: bool| json!({ "databases": { DB: { "views": { "($ToDo)": { "das": das } } } } });
    demo.domino_config(&todo_view(false)).await?;
    s.click("#settings-save").await?;
    s.wait_run("#sync-finished[data-outcome=partial]").await?;
    s.wait(".module-progress[data-module=tasks][data-state=failed]")
        .await?;
    let tasks_why = s
        .text_of(".module-progress[data-module=tasks] .why")
        .await?;
    ensure!(
        tasks_why.contains("not enabled for the view ($ToDo)")
            && tasks_why.contains("Allow Domino Data Service operations"),
        "{tasks_why}"
    );
    s.wait(".module-progress[data-module=events][data-state=not_run]")
        .await?;
    let events_why = s
        .text_of(".module-progress[data-module=events] .why")
        .await?;
    ensure!(
        events_why.contains("Did not run: the sync stopped when Tasks failed."),
        "{events_why}"
    );
    s.wait("#readiness [data-check=todo_view][data-status=failed]")
        .await?;
    s.wait("#start-sync-blocked").await?;
    s.screenshot(&shots(), "11h-sync-stopped").await?;
    s.click("#to-dashboard").await?;
    s.wait("#last-run [data-module=events][data-status=not_run]")
        .await?;
    set_language(s, "ja").await?;
    let why = s
        .text_of("#last-run .module-why[data-module=events]")
        .await?;
    ensure!(
        why.contains("実行されませんでした: タスクの同期に失敗したため、同期が停止しました。"),
        "{why}"
    );
    ensure!(
        s.text_of("#last-run [data-module=events] td.status")
            .await?
            == "未実行"
    );
    japanese::assert_japanese(s, "dashboard, a module did not run").await?;
    set_language(s, "en").await?;
    demo.domino_config(&todo_view(true)).await?;
    s.click("#readiness-recheck").await?;
    s.wait("#readiness[data-state=ready]").await?;
    s.click("#readiness-close").await?;
    s.wait_gone("#readiness").await?;
    Ok(())
}

/// Schedule Meetings: validation, attendee search, and the meeting in both simulators.
async fn meeting(s: &Session, demo: &Demo) -> Result<()> {
    s.click("#tab-meetings").await?;
    s.wait("#meeting-form").await?;
    assert_labelled(s).await?;
    s.click("#meeting-schedule").await?;
    s.wait_text("#meeting-subject-error", "subject").await?;
    s.wait_text("#meeting-attendees-error", "attendee").await?;
    s.wait("#meeting-start-error:not([hidden])").await?;
    s.screenshot(&shots(), "12-meeting-validation").await?;

    let subject = "Quarterly review with the widget";
    s.fill("#meeting-subject", subject).await?;
    // "Enter a subject." goes as soon as there is one.
    s.wait("#meeting-subject-error[hidden]").await?;
    s.fill("#meeting-location", "Room 3").await?;
    // A CRM user by search, and a plain address with Enter.
    s.fill("#meeting-attendees", "user2").await?;
    s.click("#attendee-matches button[data-email=\"user2@example.com\"]")
        .await?;
    s.wait("#attendee-list [data-email=\"user2@example.com\"]")
        .await?;
    let field = s.wait("#meeting-attendees").await?;
    s.type_into(&field, &format!("guest@example.org{ENTER}"))
        .await?;
    s.wait("#attendee-list [data-email=\"guest@example.org\"]")
        .await?;
    let set = "const el = document.getElementById(arguments[0]); el.value = arguments[1];
               el.dispatchEvent(new Event('input', { bubbles: true }));";
    // A meeting in the past is refused unless confirmed.
    s.exec(set, json!(["meeting-start", "2020-03-04T10:00"]))
        .await?;
    s.exec(set, json!(["meeting-end", "2020-03-04T11:00"]))
        .await?;
    s.click("#meeting-schedule").await?;
    s.wait_text("#meeting-start-error", "in the past").await?;
    s.wait("#meeting-past-ok").await?;
    s.screenshot(&shots(), "12b-meeting-in-the-past").await?;
    s.exec(set, json!(["meeting-start", "2031-03-04T10:00"]))
        .await?;
    s.wait("#meeting-start-error[hidden]").await?;
    s.exec(set, json!(["meeting-end", "2031-03-04T09:00"]))
        .await?;
    s.click("#meeting-schedule").await?;
    s.wait_text("#meeting-end-error", "after the start").await?;
    s.exec(set, json!(["meeting-end", "2031-03-04T11:00"]))
        .await?;
    s.exec(
        "const el = document.getElementById('meeting-reminder'); el.value = '15';
         el.dispatchEvent(new Event('change', { bubbles: true }));",
        json!([]),
    )
    .await?;
    // Reminders read in minutes, hours, days and weeks.
    let reminders = s.text_of("#meeting-reminder").await?;
    for r in [
        "15 minutes before",
        "1 hour before",
        "2 hours before",
        "1 day before",
        "1 week before",
    ] {
        ensure!(reminders.contains(r), "{reminders}");
    }
    ensure!(!reminders.contains("1440"), "{reminders}");
    s.screenshot(&shots(), "13-meeting-form").await?;
    tour(s, "en-meeting").await?;
    s.click("#meeting-schedule").await?;
    s.wait("#meeting-done").await?;
    s.screenshot(&shots(), "14-meeting-scheduled").await?;
    // The success message is about that meeting: composing the next one clears it.
    s.fill("#meeting-subject", "Next").await?;
    s.wait_gone("#meeting-done").await?;

    let notes = demo.domino_dump().await?;
    let events = notes["databases"][DB]["events"].to_string();
    ensure!(
        events.contains(subject),
        "the meeting is not in the Notes calendar"
    );
    let zoho = demo.zoho_dump().await?;
    let event = zoho_records(&zoho, "Events")
        .into_iter()
        .find(|e| e["Event_Title"] == subject)
        .context("the meeting is not a CRM Event")?;
    let participants = event["Participants"].to_string();
    ensure!(
        participants.contains("user2@example.com") || participants.contains("guest@example.org"),
        "participants: {participants}"
    );
    ensure!(event["Venue"] == "Room 3");
    Ok(())
}

/// Change Password: a wrong one is refused by Domino, the right one is stored.
async fn change_password(s: &Session) -> Result<()> {
    s.click("#gear").await?;
    s.wait("#gear-menu").await?;
    s.screenshot(&shots(), "15-gear-menu").await?;
    s.click("#menu-password").await?;
    s.wait("#password-form").await?;
    assert_labelled(s).await?;
    s.fill("#new-password", "wrong").await?;
    s.click("#password-submit").await?;
    s.wait("[role=alert][data-code=wrong_password]").await?;
    s.fill("#new-password", "demo").await?;
    s.click("#password-submit").await?;
    s.wait("#password-done").await?;
    s.screenshot(&shots(), "16-change-password").await?;
    Ok(())
}

/// Manage Users as the admin: licence use and each user's state; add, remove (after a
/// confirmation that says what is deleted and kept), add again.
async fn manage_users(s: &Session) -> Result<()> {
    s.click("#gear").await?;
    s.click("#menu-users").await?;
    s.wait_text("#licences", "1 / 5").await?;
    assert_labelled(s).await?;
    let me = "#users-table tr[data-email=\"demo@example.com\"]";
    ensure!(s.text_of(&format!("{me} td.connected")).await? == "Yes");
    let last = s.text_of(&format!("{me} td.last-sync")).await?;
    ensure!(last.starts_with("Sync #3"), "{last}");
    ensure!(s.text_of(&format!("{me} td.schedule")).await? == "none");
    // Reopening Manage Users reads the list again: a user added meanwhile (here through the
    // API, as from another tab) shows.
    let users = s.fetch_json("/api/users").await?.1;
    let user2 = users["available"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|u| u["email"] == "user2@example.com")
        .and_then(|u| u["user_id"].as_str())
        .context("user2 can be added")?
        .to_owned();
    let status = post_json(s, "/api/users", &json!({ "user": user2 })).await?;
    ensure!(status == 200, "adding user2 answered {status}");
    s.click("#gear").await?;
    s.click("#menu-users").await?;
    let u2 = "#users-table tr[data-email=\"user2@example.com\"]";
    s.wait(u2).await?;
    s.wait_text("#licences", "2 / 5").await?;
    ensure!(s.text_of(&format!("{u2} td.connected")).await? == "No");
    ensure!(s.text_of(&format!("{u2} td.last-sync")).await? == "never");
    s.screenshot(&shots(), "17-manage-users").await?;
    // Remove asks first; Cancel keeps the user.
    s.click(&format!("{u2} button.remove")).await?;
    let what = s.text_of("#user-confirm").await?;
    ensure!(
        what.contains("Remove user2@example.com from the integration?")
            && what.contains("Deleted:")
            && what.contains("run history")
            && what.contains("Kept: their records in IBM Notes and Zoho CRM"),
        "{what}"
    );
    s.click("#confirm-cancel").await?;
    s.wait_gone("#user-confirm").await?;
    s.wait(u2).await?;
    s.click(&format!("{u2} button.remove")).await?;
    s.click("#remove-ok").await?;
    s.wait_gone(u2).await?;
    s.wait_text("#licences", "1 / 5").await?;
    s.click("#add-user-submit").await?;
    s.wait(u2).await?;
    Ok(())
}

/// The admin again, once user2 has connected: user2 is set up to sync, so Remove is held back
/// with the reason; Stop syncing asks first and says what is deleted and what is kept (in both
/// languages); then user2 can be removed.
async fn stop_and_remove(s: &Session, demo: &Demo) -> Result<()> {
    sign_in(s, demo, "demo@example.com").await?;
    s.click("#gear").await?;
    s.click("#menu-users").await?;
    let u2 = "#users-table tr[data-email=\"user2@example.com\"]";
    s.wait(&format!("{u2}[data-connected=true]")).await?;
    let remove = s.wait(&format!("{u2} button.remove")).await?;
    ensure!(
        s.attr(&remove, "disabled").await?.is_some(),
        "a user set up to sync can be removed"
    );
    let why = s.text_of(&format!("{u2} .remove-blocked")).await?;
    ensure!(why.contains("stop syncing before removing"), "{why}");
    s.click(&format!("{u2} button.stop")).await?;
    let what = s.text_of("#user-confirm").await?;
    for needle in [
        "Stop syncing for user2@example.com?",
        "Deleted: their IBM Notes server, user name and encrypted password, and their sync schedule",
        "Kept: their records in IBM Notes and Zoho CRM, their sync settings",
        "run history",
    ] {
        ensure!(
            what.contains(needle),
            "the confirmation lacks {needle:?}: {what}"
        );
    }
    s.screenshot(&shots(), "18b-stop-syncing-confirm").await?;
    set_language(s, "ja").await?;
    let what = s.text_of("#user-confirm").await?;
    ensure!(
        what.contains("user2@example.comの同期を停止しますか?")
            && what.contains("削除されるもの")
            && what.contains("保持されるもの"),
        "{what}"
    );
    set_language(s, "en").await?;
    s.click("#stop-ok").await?;
    s.wait(&format!("{u2}[data-connected=false]")).await?;
    s.wait_text("#users-notice", "Syncing stopped.").await?;
    let (_, users) = s.fetch_json("/api/users").await?;
    let row = users["users"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|u| u["email"] == "user2@example.com")
        .context("user2 in the list")?;
    ensure!(row["connected"] == false, "{row}");
    s.wait(&format!("{u2} button.remove:not([disabled])"))
        .await?;
    s.click(&format!("{u2} button.remove")).await?;
    s.click("#remove-ok").await?;
    s.wait_gone(u2).await?;
    s.wait_text("#licences", "1 / 5").await?;
    s.screenshot(&shots(), "18c-user-removed").await?;
    sign_out(s).await?;
    Ok(())
}

/// A user who is not the admin: no Manage Users in the menu, and the host refuses it.
async fn non_admin(s: &Session, demo: &Demo) -> Result<()> {
    sign_out(s).await?;
    sign_in(s, demo, "user2@example.com").await?;
    // The authentication page offers sign-out (wrong Zoho account?).
    s.wait("#connect-form ~ .signed-in-as #sign-out, #sign-out")
        .await?;
    s.fill("#server-name", &demo.domino).await?;
    s.fill("#user-name", "user2").await?;
    s.fill("#password", "user2").await?;
    s.click("#connect-submit").await?;
    // After Connect the readiness panel shows the checks.
    s.wait("#readiness[data-state=ready]").await?;
    s.wait("#start-sync").await?;
    s.click("#gear").await?;
    s.wait("#menu-password").await?;
    ensure!(
        s.find("#menu-users").await?.is_none(),
        "a non-admin sees Manage Users"
    );
    // Their "Uninstall" only disconnects them, and is called that.
    ensure!(s.text_of("#menu-uninstall").await? == "Disconnect");
    s.click("#menu-uninstall").await?;
    ensure!(s.text_of("#uninstall-title").await? == "Disconnect");
    ensure!(
        s.text_of("#uninstall-what")
            .await?
            .contains("stays for the other users"),
        "the disconnect does not say the integration stays"
    );
    s.click("#uninstall-cancel").await?;
    s.wait("#start-sync").await?;
    s.goto(&format!("{}/#users", demo.base)).await?;
    s.wait("#users-refused").await?;
    s.screenshot(&shots(), "18-users-refused").await?;
    let (status, _) = s.fetch_json("/api/users").await?;
    ensure!(
        status == 403,
        "GET /api/users as a non-admin answered {status}"
    );
    sign_out(s).await?;
    Ok(())
}

/// The admin's CRM set-up (done at the admin's first sign-in) and the hand-over: Make admin is
/// offered only for a user Zoho shows as a CRM administrator; it asks first (in both
/// languages); afterwards the previous admin is refused Manage Users, and the new admin, once
/// connected, hands the role back the same way.
async fn hand_over(s: &Session, demo: &Demo) -> Result<()> {
    // user2 was removed: signed in, but not added. The page says so and offers sign-out.
    sign_in(s, demo, "user2@example.com").await?;
    s.wait("#not-enabled").await?;
    s.click("#sign-out").await?;
    s.wait("#sign-in").await?;
    sign_in(s, demo, "demo@example.com").await?;
    s.click("#gear").await?;
    s.click("#menu-users").await?;
    s.wait("#crm-setup[data-ready=true]").await?;
    s.wait_text("#crm-setup-ready", "the fields exist").await?;
    s.click("#add-user-submit").await?;
    let u2 = "#users-table tr[data-email=\"user2@example.com\"]";
    s.wait(u2).await?;
    ensure!(
        s.find(&format!("{u2} button.make-admin")).await?.is_none(),
        "the admin role is offered to a user who is not a CRM administrator"
    );
    demo.zoho_config(&json!({ "user_profiles": { "user2@example.com": "Administrator" } }))
        .await?;
    s.goto(&format!("{}/", demo.base)).await?;
    s.click("#gear").await?;
    s.click("#menu-users").await?;
    s.click(&format!("{u2} button.make-admin")).await?;
    let what = s.text_of("#user-confirm").await?;
    ensure!(
        what.contains("Hand the admin role to user2@example.com?")
            && what.contains("Only a Zoho CRM administrator can take the role")
            && what.contains("You become an ordinary user"),
        "{what}"
    );
    set_language(s, "ja").await?;
    let what = s.text_of("#user-confirm").await?;
    ensure!(
        what.contains("管理者の役割をuser2@example.comに引き継ぎますか?"),
        "{what}"
    );
    set_language(s, "en").await?;
    s.screenshot(&shots(), "18d-hand-over-confirm").await?;
    s.click("#make-admin-ok").await?;
    s.wait("#users-refused").await?;
    s.wait_text("#users-notice", "The admin role was handed over.")
        .await?;
    let (status, _) = s.fetch_json("/api/users").await?;
    ensure!(
        status == 403,
        "the previous admin still manages users ({status})"
    );
    sign_out(s).await?;

    sign_in(s, demo, "user2@example.com").await?;
    s.fill("#server-name", &demo.domino).await?;
    s.fill("#user-name", "user2").await?;
    s.fill("#password", "user2").await?;
    s.click("#connect-submit").await?;
    s.wait("#start-sync").await?;
    s.click("#gear").await?;
    s.click("#menu-users").await?;
    let me = "#users-table tr[data-email=\"demo@example.com\"]";
    s.click(&format!("{me} button.make-admin")).await?;
    s.click("#make-admin-ok").await?;
    s.wait("#users-refused").await?;
    sign_out(s).await?;
    Ok(())
}

/// Uninstall as the admin: the confirmation says what goes; afterwards nothing is stored,
/// and the records in both simulators stay.
async fn uninstall(s: &Session, demo: &Demo) -> Result<()> {
    sign_in(s, demo, "demo@example.com").await?;
    s.click("#gear").await?;
    s.click("#menu-uninstall").await?;
    let what = s.text_of("#uninstall-what").await?;
    for needle in [
        "encrypted password",
        "run history",
        "links",
        "sync settings",
        "stay",
    ] {
        ensure!(
            what.contains(needle),
            "the confirmation does not mention {needle:?}: {what}"
        );
    }
    s.screenshot(&shots(), "19-uninstall-confirm").await?;
    let crm_before = zoho_records(&demo.zoho_dump().await?, "Contacts").len();
    s.click("#uninstall-ok").await?;
    s.wait("#uninstalled").await?;
    s.screenshot(&shots(), "20-uninstalled").await?;
    s.click("#sign-in-again").await?;
    s.wait("#sign-in").await?;
    let (status, _) = s.fetch_json("/api/me").await?;
    ensure!(
        status == 401,
        "the session survived the uninstall ({status})"
    );
    ensure!(
        zoho_records(&demo.zoho_dump().await?, "Contacts").len() == crm_before,
        "uninstall deleted CRM records it was not asked to"
    );
    // Signing in again starts from scratch: the authentication page.
    sign_in(s, demo, "demo@example.com").await?;
    s.wait("#connect-form").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_widget_does_every_step_of_the_seed_in_chromium() -> Result<()> {
    let (chromium, chromedriver) = webdriver::find_browser()?;
    // Only this run's screenshots.
    let _ = std::fs::remove_dir_all(shots());
    let demo = Demo::start().await?;
    let driver = Driver::start(&chromedriver).await?;

    // The language follows the browser's.
    let ja = Session::new(&driver, &chromium, "ja").await?;
    ja.goto(&format!("{}/", demo.base)).await?;
    ja.wait_text("#sign-in", "Zohoでサインインする").await?;
    ja.wait_text("h1", "IBM Notesとの同期").await?;
    ja.screenshot(&shots(), "00-sign-in-japanese").await?;
    ja.quit().await?;

    let s = Session::new(&driver, &chromium, "en-US").await?;
    let steps = async {
        connect(&s, &demo).await.context("connect")?;
        languages(&s).await.context("languages")?;
        settings_preview_sync(&s, &demo)
            .await
            .context("settings, preview and sync")?;
        dashboard(&s, &demo).await.context("dashboard")?;
        cancel_sync(&s, &demo).await.context("cancel a sync")?;
        failing_module(&s, &demo)
            .await
            .context("a module failing in the middle")?;
        meeting(&s, &demo).await.context("schedule a meeting")?;
        change_password(&s).await.context("change password")?;
        manage_users(&s).await.context("manage users")?;
        non_admin(&s, &demo).await.context("non-admin")?;
        stop_and_remove(&s, &demo)
            .await
            .context("stop syncing, then remove")?;
        hand_over(&s, &demo)
            .await
            .context("CRM set-up and admin hand-over")?;
        uninstall(&s, &demo).await.context("uninstall")?;
        demo.assert_spec_faithful().await
    }
    .await;
    if steps.is_err() {
        let _ = s.screenshot(&shots(), "failure").await;
    }
    let _ = s.quit().await;
    steps
}

/// The Zoho extension package, laid out as `zet init --zoho-service CRM` makes it: a manifest
/// that names the service (for CRM, `zet pack` ships only `app/`, so nothing else in it would
/// reach the CRM), the web tab page and its translations in `app/`. `nzsync extension` fills in
/// the server's URL; the page moves its frame to the server rather than framing it again.
/// (CI runs Zoho's `zet validate` and `zet pack` on the output.)
#[test]
fn the_zoho_extension_is_laid_out_as_zet_makes_it() -> Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../www/zoho-extension");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("plugin-manifest.json"))?)?;
    ensure!(manifest == json!({ "service": "CRM" }), "{manifest}");
    let keys = |lang: &str| -> Result<BTreeSet<String>> {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(
            dir.join(format!("app/translations/{lang}.json")),
        )?)?;
        Ok(v.as_object()
            .context("an object")?
            .keys()
            .cloned()
            .collect())
    };
    ensure!(
        keys("en")? == keys("ja")?,
        "the translations differ in their keys"
    );

    let out = tempfile::tempdir()?;
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
        .args([
            "extension",
            "--public-url",
            "https://sync.example.com/",
            "--out",
        ])
        .arg(out.path())
        .stdout(std::process::Stdio::null())
        .status()?;
    ensure!(status.success(), "nzsync extension failed");
    let page = std::fs::read_to_string(out.path().join("app/widget.html"))?;
    ensure!(
        page.contains(
            "window.location.replace(\"https://sync.example.com/\" + window.location.search)"
        ),
        "{page}"
    );
    ensure!(
        !page.contains("<iframe"),
        "the web tab frames the server a second time"
    );
    ensure!(!page.contains("{PUBLIC_URL}"), "{page}");
    for refused in [
        "http://sync.example.com",
        "sync.example.com",
        "https://sync.example.com/elsewhere",
        "https://sync.example.com/..%2f",
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
            .args(["extension", "--public-url", refused, "--out"])
            .arg(tempfile::tempdir()?.path())
            .output()?;
        ensure!(!out.status.success(), "{refused} was accepted");
        ensure!(
            String::from_utf8_lossy(&out.stderr).contains("--public-url"),
            "{refused}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The command line's help speaks of what commands do, not of internal feature codes.
    for args in [
        &["--help"][..],
        &["check", "--help"],
        &["uninstall", "--help"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
            .args(args)
            .output()?;
        let help = String::from_utf8_lossy(&out.stdout);
        let codes: Vec<&str> = help
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| {
                w.len() > 1 && w.starts_with('F') && w[1..].bytes().all(|b| b.is_ascii_digit())
            })
            .collect();
        ensure!(codes.is_empty(), "nzsync {args:?} shows {codes:?}: {help}");
    }
    Ok(())
}
