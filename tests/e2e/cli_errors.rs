//! Bad input gets a clear message and a non-zero exit, never a panic.

use crate::world::{Run, World, config_text, run_cmd};

fn assert_clear_failure(run: &Run, needle: &str) {
    assert_eq!(
        run.code, 1,
        "exit code; stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains(needle),
        "stderr should mention {needle:?}: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "panic: {}", run.stderr);
}

async fn nzsync_with(config_text: &str, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nzsync.toml");
    std::fs::write(&path, config_text).unwrap();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"));
    cmd.args(args).arg("--config").arg(&path);
    // An accounts server that does not answer is retried for the run's budget (two minutes);
    // these tests need only the final message.
    cmd.env("NZSYNC_TOKEN_RETRY_MS", "1500");
    run_cmd(cmd).await
}

#[tokio::test]
async fn missing_config_file() {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"));
    cmd.args(["sync", "--config", "/nonexistent/nzsync.toml"]);
    assert_clear_failure(&run_cmd(cmd).await, "cannot read config file");
}

#[tokio::test]
async fn a_demo_that_cannot_listen_says_so_and_writes_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"));
    cmd.args(["demo", "--port", &port, "--data"]).arg(&data);
    assert_clear_failure(&run_cmd(cmd).await, "cannot listen on");
    assert!(!data.join("nzsync.toml").exists(), "a config was written");
}

#[tokio::test]
async fn malformed_config_file() {
    let run = nzsync_with("[domino\nurl = ", &["sync"]).await;
    assert_clear_failure(&run, "is not valid");
    let text = config_text(
        "http://127.0.0.1:1",
        "http://127.0.0.1:1",
        "x",
        "y",
        "direction = \"sideways\"",
    );
    assert_clear_failure(
        &nzsync_with(&text, &["sync"]).await,
        "unknown variant `sideways`",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_domino_password() {
    let w = World::new().await;
    let text = config_text(
        &w.sims.domino_url,
        &w.sims.zoho_url,
        "wrong",
        "demo-refresh",
        "",
    );
    assert_clear_failure(
        &nzsync_with(&text, &["sync"]).await,
        "IBM Notes rejected the user name or password",
    );
    let check = nzsync_with(&text, &["check"]).await;
    assert_eq!(check.code, 1);
    assert!(
        check.stdout.contains("wrong user name or password"),
        "{}",
        check.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_zoho_refresh_token() {
    let w = World::new().await;
    let text = config_text(
        &w.sims.domino_url,
        &w.sims.zoho_url,
        "demo",
        "not-a-token",
        "",
    );
    assert_clear_failure(
        &nzsync_with(&text, &["sync"]).await,
        "Zoho refused the OAuth credentials (invalid_code)",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_servers() {
    let w = World::new().await;
    // A port nothing listens on (bound, then released).
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let text = config_text(&w.sims.domino_url, &dead, "demo", "demo-refresh", "");
    assert_clear_failure(
        &nzsync_with(&text, &["sync"]).await,
        "cannot get a Zoho access token",
    );
    let text = config_text(&dead, &w.sims.zoho_url, "demo", "demo-refresh", "");
    let run = nzsync_with(&text, &["sync"]).await;
    assert_clear_failure(&run, "IBM Notes did not answer");
    let check = nzsync_with(&text, &["check"]).await;
    assert_eq!(check.code, 1);
    assert!(check.stdout.contains("cannot reach"), "{}", check.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn check_passes_against_the_simulators() {
    let w = World::new().await;
    let run = w.nzsync(&["check"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // Events are off in this config: the Calendar service is listed as not needed.
    assert!(
        run.stdout
            .lines()
            .all(|l| l.starts_with("ok") || (l.starts_with("--") && l.contains("not needed"))),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("--") && l.contains("Calendar service")),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn uninstall_needs_confirmation() {
    let text = config_text("http://127.0.0.1:1", "http://127.0.0.1:1", "x", "y", "");
    assert_clear_failure(&nzsync_with(&text, &["uninstall"]).await, "--yes");
}
