//! `nzsync sim` as a newcomer runs it: both simulators with the demo data for both users,
//! answering the documented requests with curl-style calls, and checking their own answers
//! against the vendor specs with `--spec-check`.

use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The URL printed on the line that starts with `label`.
fn url_after(line: &str, label: &str) -> Option<String> {
    let rest = line.strip_prefix(label)?.trim();
    Some(rest.split_whitespace().next()?.to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn sim_serves_both_users_demo_data_and_checks_its_answers() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
        .args([
            "sim",
            "--domino-port",
            "0",
            "--zoho-port",
            "0",
            "--spec-check",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut domino, mut drapi, mut zoho, mut spec_line) = (None, None, None, false);
    while let Some(line) = lines.next_line().await.unwrap() {
        domino = domino.or_else(|| url_after(&line, "Domino simulator:"));
        drapi = drapi.or_else(|| url_after(&line, "Domino REST API:"));
        zoho = zoho.or_else(|| url_after(&line, "Zoho CRM simulator:"));
        spec_line |= line.starts_with("Spec check:");
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    let (domino, drapi, zoho) = (domino.unwrap(), drapi.unwrap(), zoho.unwrap());
    assert!(spec_line, "--spec-check names its report");
    let http = reqwest::Client::new();

    // Both default users have a mail file with contacts (domino-api.md §1.2, §1.4).
    for (user, password) in [("demo", "demo"), ("user2", "user2")] {
        let list: Value = http
            .get(format!("{domino}/api/data"))
            .basic_auth(user, Some(password))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let own = format!("mail/{user}.nsf");
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .any(|db| db["@filepath"] == own.as_str()),
            "{user} sees {own}: {list}"
        );
        let resp = http
            .get(format!(
                "{domino}/{own}/api/data/collections/name/($Contacts)?count=5"
            ))
            .basic_auth(user, Some(password))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let entries: Value = resp.json().await.unwrap();
        assert_eq!(entries.as_array().unwrap().len(), 5, "{user}: {entries}");
    }
    // A wrong password gets the documented challenge (domino-api.md §4.3).
    let resp = http
        .get(format!("{domino}/mail/demo.nsf/api/data/collections"))
        .basic_auth("demo", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    // The same mail file through the Domino REST API: a JWT login, then five contacts of the
    // view through the user's scope (domino-rest-api.md §2.1, §3.2).
    let login: Value = http
        .post(format!("{drapi}/api/v1/auth"))
        .json(&serde_json::json!({"username": "user2", "password": "user2"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = login["bearer"].as_str().expect("a JWT");
    let entries: Value = http
        .get(format!(
            "{drapi}/api/v1/lists/%28%24Contacts%29?dataSource=mailuser2&count=5"
        ))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 5, "{entries}");

    // Zoho: a refresh-token grant, then the contacts list (zoho-crm-api.md §4, §1.2).
    let grant: Value = http
        .post(format!(
            "{zoho}/oauth/v2/token?grant_type=refresh_token&client_id=demo-client&client_secret=demo-secret&refresh_token=user2-refresh"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = grant["access_token"].as_str().unwrap();
    let page: Value = http
        .get(format!(
            "{zoho}/crm/v8/Contacts?fields=Last_Name,Email&per_page=10"
        ))
        .header("authorization", format!("Zoho-oauthtoken {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 10, "{page}");
    assert_eq!(page["info"]["more_records"], true);

    // Every answer so far was checked against the vendors' specs, and none broke them.
    for base in [&domino, &drapi, &zoho] {
        let report: Value = http
            .get(format!("{base}/_sim/spec"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(report["enabled"], true);
        assert_eq!(report["violations"], Value::Array(Vec::new()), "{report}");
        assert!(
            !report["checked"].as_object().unwrap().is_empty(),
            "{base} checked answers: {report}"
        );
    }
    child.kill().await.unwrap();
}

/// `nzsync demo --domino-api rest`: the demo's headless config syncs the sample data through
/// the Domino REST API (contacts, to-dos and the calendar with its series and time zones).
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_syncs_through_the_rest_api() {
    let data = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
        .args(["demo", "--port", "0", "--domino-api", "rest", "--data"])
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut drapi = None;
    while let Some(line) = lines.next_line().await.unwrap() {
        drapi = drapi.or_else(|| url_after(line.trim_start(), "Domino REST API:"));
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    let drapi = drapi.expect("the demo names the Domino REST API's URL");
    let config = data.path().join("nzsync.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains(&format!("url = \"{drapi}\"")) && text.contains("api = \"rest\""),
        "{text}"
    );
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"));
    cmd.args(["sync", "--json", "--config"]).arg(&config);
    let run = crate::world::run_cmd(cmd).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for module in ["contacts", "tasks", "events"] {
        let created = run.counts(module)["created"].as_u64().unwrap_or(0);
        assert!(created > 0, "{module}: {}", run.stdout);
    }
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"));
    cmd.args(["sync", "--json", "--config"]).arg(&config);
    let again = crate::world::run_cmd(cmd).await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    for module in ["contacts", "tasks", "events"] {
        let c = again.counts(module);
        for k in ["created", "updated", "deleted", "errors"] {
            assert_eq!(c[k], 0, "second run, {module} {k}: {c}");
        }
    }
    child.kill().await.unwrap();
}
