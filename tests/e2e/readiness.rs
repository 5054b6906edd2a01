//! `nzsync check` (F2) checks every service the `[sync]` settings need: the server's Data
//! service, the mail file, the contacts view, the to-do view and the Calendar service. Each one
//! switched off in turn (through the Domino simulator's DAS switches) fails under its own name,
//! prints the admin step from the seed's menu paths, and exits 1; a module switched off in the
//! settings does not need its service.

use serde_json::{Value, json};

use crate::world::{DB, Run, World, config_text, run_cmd};

/// One service switched off: what to send to `/_sim/config`, what undoes it, the check's name
/// as `nzsync check` prints it, and words its detail and admin step must carry.
struct Off {
    what: &'static str,
    off: Value,
    on: Value,
    check: &'static str,
    detail: &'static str,
    step: &'static [&'static str],
}

fn cases() -> Vec<Off> {
    let db = |v: Value| json!({ "databases": { DB: v } });
    let server_step: &[&str] = &[
        "Current Server Document",
        "Internet Protocols",
        "Domino Web Engine",
        "Domino Access Services",
        "Enabled services",
    ];
    vec![
        Off {
            what: "the server's Data service",
            off: json!({ "enabled_services": ["Calendar"] }),
            on: json!({ "enabled_services": ["Data", "Calendar"] }),
            check: "DAS on the server (Data)",
            detail: "Data service is not among",
            step: server_step,
        },
        Off {
            what: "the mail file (Never)",
            off: db(json!({ "allow_rest": 0 })),
            on: db(json!({ "allow_rest": 2 })),
            check: "DAS on the mail file",
            detail: "The Domino data service is not enabled for this database.",
            step: &[
                "Domino Designer",
                "Advanced",
                "Allow Domino Data Service",
                "Views and documents",
            ],
        },
        Off {
            what: "the mail file (Views only)",
            off: db(json!({ "allow_rest": 1 })),
            on: db(json!({ "allow_rest": 2 })),
            check: "DAS on the mail file",
            detail: "views only",
            step: &["Allow Domino Data Service", "Views and documents"],
        },
        Off {
            what: "the contacts view",
            off: db(json!({ "views": { "($Contacts)": { "das": false } } })),
            on: db(json!({ "views": { "($Contacts)": { "das": true } } })),
            check: "DAS on the contacts view",
            detail: "not enabled for this view [($Contacts)]",
            step: &["($Contacts)", "Allow Domino Data Service operations"],
        },
        Off {
            what: "the to-do view",
            off: db(json!({ "views": { "($ToDo)": { "das": false } } })),
            on: db(json!({ "views": { "($ToDo)": { "das": true } } })),
            check: "DAS on the to-do view",
            detail: "not enabled for this view [($ToDo)]",
            step: &["($ToDo)", "Allow Domino Data Service operations"],
        },
        Off {
            what: "the server's Calendar service",
            off: json!({ "enabled_services": ["Data"] }),
            on: json!({ "enabled_services": ["Data", "Calendar"] }),
            check: "Calendar service",
            detail: "Calendar service is not among",
            step: &[
                "Domino Web Engine",
                "Domino Access Services",
                "Calendar under Enabled services",
            ],
        },
    ]
}

/// The line `nzsync check` printed for `check`, and the line after it.
fn line_of<'a>(run: &'a Run, check: &str) -> (&'a str, &'a str) {
    let lines: Vec<&str> = run.stdout.lines().collect();
    let i = lines
        .iter()
        .position(|l| l[4..].trim_start().starts_with(check))
        .unwrap_or_else(|| panic!("no line for {check}:\n{}", run.stdout));
    (lines[i], lines.get(i + 1).copied().unwrap_or(""))
}

#[tokio::test(flavor = "multi_thread")]
async fn check_names_each_service_that_is_off_and_its_admin_step() {
    // Contacts, to-dos and events all on: every service is needed.
    let w = World::with_sync_settings("events = \"all\"").await;
    let run = w.nzsync(&["check"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for check in [
        "Domino server",
        "DAS on the server (Data)",
        "DAS on the mail file",
        "DAS on the contacts view",
        "DAS on the to-do view",
        "Calendar service",
        "Zoho OAuth",
        "Zoho CRM API",
    ] {
        let (line, _) = line_of(&run, check);
        assert!(line.starts_with("ok"), "{line}\n{}", run.stdout);
    }

    for case in cases() {
        w.sim_control(&w.sims.domino_url, "/_sim/config", case.off.clone())
            .await;
        let run = w.nzsync(&["check"]).await;
        assert_eq!(run.code, 1, "{}: {}", case.what, run.stdout);
        let (line, step) = line_of(&run, case.check);
        assert!(line.starts_with("FAIL"), "{}: {line}", case.what);
        assert!(line.contains(case.detail), "{}: {line}", case.what);
        assert!(step.contains('→'), "{}: no admin step: {step}", case.what);
        for needle in case.step {
            assert!(
                step.contains(needle),
                "{}: the step does not say {needle:?}: {step}",
                case.what
            );
        }
        // Exactly one check failed: the others passed, or could not be checked behind it.
        let failed = run.stdout.lines().filter(|l| l.starts_with("FAIL")).count();
        assert_eq!(failed, 1, "{}:\n{}", case.what, run.stdout);
        assert!(
            run.stderr
                .contains(&format!("not ready to sync: {}", case.check)),
            "{}: {}",
            case.what,
            run.stderr
        );
        w.sim_control(&w.sims.domino_url, "/_sim/config", case.on)
            .await;
    }
    let run = w.nzsync(&["check"]).await;
    assert_eq!(run.code, 0, "all back on: {}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_module_switched_off_does_not_need_its_service() {
    let w = World::with_sync_settings("events = \"all\"").await;
    w.sim_control(
        &w.sims.domino_url,
        "/_sim/config",
        json!({ "enabled_services": ["Data"],
                "databases": { DB: { "views": { "($ToDo)": { "das": false } } } } }),
    )
    .await;
    let run = w.nzsync(&["check"]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(line_of(&run, "DAS on the to-do view").0.starts_with("FAIL"));
    assert!(line_of(&run, "Calendar service").0.starts_with("FAIL"));

    // To-dos and events off: the to-do view and the Calendar service are not needed.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nzsync.toml");
    std::fs::write(
        &path,
        config_text(
            &w.sims.domino_url,
            &w.sims.zoho_url,
            "demo",
            "demo-refresh",
            "tasks = false",
        ),
    )
    .unwrap();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"));
    cmd.args(["check", "--config"]).arg(&path);
    let run = run_cmd(cmd).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for check in ["DAS on the to-do view", "Calendar service"] {
        let (line, _) = line_of(&run, check);
        assert!(
            line.starts_with("--") && line.contains("not needed"),
            "{line}"
        );
    }
    assert!(
        line_of(&run, "DAS on the contacts view")
            .0
            .starts_with("ok")
    );
}
