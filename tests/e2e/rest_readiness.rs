//! `nzsync check` and `nzsync sync` through the Domino REST API when a set-up step is missing
//! (`reference/domino-rest-api.md` §2.5): each missing step fails under its own check name,
//! with the admin action that fixes it (in Japanese too, in a Japanese locale), and the sync
//! stops where that step matters, saying the same. Also: `nzsync drapi-schema` prints a schema
//! and scope that, imported through the setup API, make a mail file sync.

use serde_json::{Value, json};

use crate::world::{Backend, Run, World, run_cmd};

/// The line `nzsync check` printed for `check`, and the lines after it.
fn line_of<'a>(run: &'a Run, check: &str) -> (&'a str, String) {
    let lines: Vec<&str> = run.stdout.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.len() > 4 && l[4..].trim_start().starts_with(check))
        .unwrap_or_else(|| panic!("no line for {check}:\n{}", run.stdout));
    let after: Vec<&str> = lines[i + 1..]
        .iter()
        .take_while(|l| l.trim_start().starts_with('→'))
        .copied()
        .collect();
    (lines[i], after.join("\n"))
}

/// One set-up step undone: what to send to the REST API's `/_sim/config`, what redoes it, the
/// check that fails, and words its detail and admin step carry.
struct Missing {
    what: &'static str,
    off: Value,
    on: Value,
    check: &'static str,
    detail: &'static str,
    step: &'static [&'static str],
}

fn cases() -> Vec<Missing> {
    vec![
        Missing {
            what: "the scope",
            off: json!({"scopes": {"maildemo": {"isActive": false}}}),
            on: json!({"scopes": {"maildemo": {"isActive": true}}}),
            check: "DRAPI scope",
            detail: "there is no scope maildemo",
            step: &["Scope Management", "Add Scope", "nzsync drapi-schema"],
        },
        Missing {
            what: "the cross-ID item in the schema",
            off: json!({"schemas": {"maildemo": {"remove_fields": {"Person": ["ZohoCRMId"]}}}}),
            on: json!({"schemas": {"maildemo": {"add_fields": {"Person": [
                {"name": "ZohoCRMId", "type": "string"}]}}}}),
            check: "DRAPI schema: contacts",
            detail: "ZohoCRMId",
            step: &["Schema Management", "Database Forms", "nzsync drapi-schema"],
        },
        Missing {
            what: "the to-dos' due date in the schema",
            off: json!({"schemas": {"maildemo": {"remove_fields": {"Task": ["DueDateTime"]}}}}),
            on: json!({"schemas": {"maildemo": {"add_fields": {"Task": [
                {"name": "DueDateTime", "type": "string", "format": "date-time"}]}}}}),
            check: "DRAPI schema: to-dos",
            detail: "DueDateTime",
            step: &["Schema Management", "modes default and dql"],
        },
        Missing {
            what: "DQL access",
            off: json!({"schemas": {"maildemo": {"dqlAccess": false}}}),
            on: json!({"schemas": {"maildemo": {"dqlAccess": true}}}),
            check: "DRAPI DQL access",
            detail: "DQL access is not allowed",
            step: &["DQL Access", "Edit Schema"],
        },
        Missing {
            what: "the PIM calendar",
            off: json!({"pim": false}),
            on: json!({"pim": true}),
            check: "DRAPI calendar (PIM)",
            detail: "the PIM API does not give the calendar",
            step: &["verticles", "PIM"],
        },
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn check_names_each_missing_rest_api_step_and_its_admin_action() {
    let w = World::with_sync_settings_on(Backend::Rest, "events = \"all\"").await;
    let drapi = w.sims.drapi_url.clone();
    let run = w.nzsync(&["check"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for check in [
        "Domino REST API",
        "DRAPI login",
        "DRAPI scope",
        "DRAPI schema: contacts",
        "DRAPI schema: to-dos",
        "DRAPI DQL access",
        "DRAPI calendar (PIM)",
        "Zoho OAuth",
        "Zoho CRM API",
    ] {
        let (line, _) = line_of(&run, check);
        assert!(line.starts_with("ok"), "{line}\n{}", run.stdout);
    }

    for case in cases() {
        w.sim_control(&drapi, "/_sim/config", case.off.clone())
            .await;
        let run = w.nzsync(&["check"]).await;
        assert_eq!(run.code, 1, "{}: {}", case.what, run.stdout);
        let (line, step) = line_of(&run, case.check);
        assert!(
            line.starts_with("FAIL"),
            "{}: {line}\n{}",
            case.what,
            run.stdout
        );
        assert!(line.contains(case.detail), "{}: {line}", case.what);
        for needle in case.step {
            assert!(
                step.contains(needle),
                "{}: the step does not say {needle:?}: {step}",
                case.what
            );
        }
        let failed = run.stdout.lines().filter(|l| l.starts_with("FAIL")).count();
        assert_eq!(failed, 1, "{}:\n{}", case.what, run.stdout);
        // A missing step stops the sync where it matters, with the same admin action.
        if case.what != "the PIM calendar" {
            let sync = w.sync(&[]).await;
            assert_ne!(sync.code, 0, "{}: {}", case.what, sync.stdout);
            let said = format!("{}{}", sync.stdout, sync.stderr);
            assert!(
                case.step.iter().take(1).all(|n| said.contains(n)),
                "{}: the sync does not name the admin step: {said}",
                case.what
            );
        }
        w.sim_control(&drapi, "/_sim/config", case.on).await;
    }
    let run = w.nzsync(&["check"]).await;
    assert_eq!(run.code, 0, "all back: {}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_login_and_the_url_are_checked_first() {
    let w = World::with_sync_settings_on(Backend::Rest, "").await;
    // A wrong password: the service answers, the login fails, nothing behind it is checked.
    let config = std::fs::read_to_string(&w.config).unwrap();
    std::fs::write(
        &w.config,
        config.replace("password = \"demo\"", "password = \"wrong\""),
    )
    .unwrap();
    let run = w.nzsync(&["check"]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(line_of(&run, "Domino REST API").0.starts_with("ok"));
    let (line, step) = line_of(&run, "DRAPI login");
    assert!(
        line.starts_with("FAIL") && line.contains("Invalid credentials or account locked"),
        "{line}"
    );
    assert!(step.contains("Internet password"), "{step}");
    assert!(line_of(&run, "DRAPI scope").0.starts_with("--"));
    let sync = w.sync(&[]).await;
    assert_eq!(sync.code, 1, "{}", sync.stdout);
    assert!(sync.stderr.contains("refused the login"), "{}", sync.stderr);
    assert!(
        !sync.stderr.contains("wrong") && !sync.stdout.contains("wrong"),
        "the password was shown"
    );

    // The DAS URL where the REST API's belongs: not a Domino REST API, with the fix.
    std::fs::write(
        &w.config,
        config.replace(&w.sims.drapi_url, &w.sims.domino_url),
    )
    .unwrap();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"));
    cmd.args(["check", "--config"])
        .arg(&w.config)
        .env("LANG", "ja_JP.UTF-8");
    let run = run_cmd(cmd).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    let (line, step) = line_of(&run, "Domino REST API");
    assert!(line.contains("not as a Domino REST API"), "{line}");
    assert!(
        step.contains("port 8880") && step.contains("load restapi"),
        "{step}"
    );
    assert!(step.contains("ベース URL"), "no Japanese step: {step}");
}

/// A JWT that dies in the middle of a run (a restart of the REST API) is replaced by one new
/// login, and the run completes.
#[tokio::test(flavor = "multi_thread")]
async fn an_expired_token_is_replaced_by_one_new_login() {
    let w = World::on(Backend::Rest).await;
    for k in 0..30 {
        w.notes_create(
            json!({"LastName": format!("L{k}"), "MailAddress": format!("l{k}@example.com")}),
        )
        .await;
    }
    w.sim_control(
        &w.sims.drapi_url,
        "/_sim/faults",
        json!({"rules": [{"kind": "expire_token", "path_prefix": "/api/v1/lists/", "times": 1}]}),
    )
    .await;
    w.clear_calls().await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.counts("contacts")["created"], 30);
    let calls = w.calls(&w.sims.drapi_url).await;
    let logins = calls
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == "/api/v1/auth")
        .count();
    assert_eq!(logins, 2, "{calls:?}");
    let refused = calls.iter().filter(|(_, _, status)| *status == 401).count();
    assert_eq!(refused, 1, "one request met the dead token: {calls:?}");
}

/// `nzsync drapi-schema` prints a schema and scope; imported through the setup API (after the
/// mail file's own were removed) they make the mail file sync.
#[tokio::test(flavor = "multi_thread")]
async fn the_printed_schema_and_scope_make_a_mail_file_sync() {
    let w = World::on(Backend::Rest).await;
    let drapi = w.sims.drapi_url.clone();
    w.notes_create(
        json!({"FirstName": "Ida", "LastName": "Import", "MailAddress": "ida@example.com"}),
    )
    .await;
    // No scope, no schema: the admin has set nothing up.
    w.sim_control(
        &drapi,
        "/_sim/config",
        json!({"schemas": {"maildemo": null}}),
    )
    .await;
    w.sim_control(
        &drapi,
        "/_sim/config",
        json!({"scopes": {"maildemo": null}}),
    )
    .await;
    let sync = w.sync(&[]).await;
    assert_eq!(sync.code, 1, "{}", sync.stdout);
    assert!(
        sync.stderr.contains("nzsync drapi-schema"),
        "{}",
        sync.stderr
    );

    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"));
    cmd.args([
        "drapi-schema",
        "--mail-db",
        "mail/demo.nsf",
        "--url",
        &drapi,
    ]);
    let printed = run_cmd(cmd).await;
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    let out: Value = serde_json::from_str(&printed.stdout).unwrap();
    assert!(
        printed
            .stderr
            .contains("setup-v1/schema?nsfPath=mail%2Fdemo.nsf"),
        "{}",
        printed.stderr
    );

    // The admin imports them with a $SETUP token.
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{drapi}/api/v1/auth"))
        .json(&json!({"username": "demo", "password": "demo", "scope": "$SETUP MAIL $DATA"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = login["bearer"].as_str().unwrap();
    let r = http
        .post(format!(
            "{drapi}/api/setup-v1/schema?nsfPath=mail%2Fdemo.nsf&configName=nzsync"
        ))
        .bearer_auth(bearer)
        .json(&out["schema"])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "schema: {}",
        r.text().await.unwrap()
    );
    let r = http
        .post(format!("{drapi}/api/setup-v1/admin/scope"))
        .bearer_auth(bearer)
        .json(&out["scope"])
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "scope: {}",
        r.text().await.unwrap()
    );

    let run = w.nzsync(&["check"]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let sync = w.sync(&[]).await;
    assert_eq!(sync.code, 0, "{}\n{}", sync.stdout, sync.stderr);
    assert_eq!(sync.counts("contacts")["created"], 1);
    let crm = w.crm_contacts().await;
    assert_eq!(crm.len(), 1);
    assert_eq!(crm[0]["Email"], "ida@example.com");
    let notes = w.notes_contacts().await;
    assert!(
        !crate::world::s(&notes[0].1, "ZohoCRMId").is_empty(),
        "no cross-ID in Notes"
    );
}
