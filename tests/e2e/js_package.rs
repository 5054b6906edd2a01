//! The sync-core JS package (wasm-bindgen, Node target), as `nzsync js-package` writes it,
//! loaded in Node and run against the simulators: the same engine as the component, driven by
//! a JavaScript embedder.

use serde_json::{Value, json};

use crate::world::{World, run_cmd, s};

#[tokio::test(flavor = "multi_thread")]
async fn node_embedder_syncs_with_the_js_package() {
    let w = World::new().await;
    w.notes_create(
        json!({"FirstName": "Rin", "LastName": "Rowan", "MailAddress": "rin@example.jp"}),
    )
    .await;
    w.crm_create(json!({"First_Name": "Sol", "Last_Name": "Sorrel", "Email": "sol@example.com"}))
        .await;

    let pkg = w.dir.path().join("pkg");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"));
    cmd.args(["js-package", "--out"]).arg(&pkg);
    let out = run_cmd(cmd).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    for f in [
        "node/sync_core.js",
        "node/sync_core_bg.wasm",
        "node/sync_core.d.ts",
        "web/sync_core.js",
        "web/sync_core_bg.wasm",
        "node/package.json",
    ] {
        assert!(pkg.join(f).exists(), "missing {f}");
    }

    let script = w.dir.path().join("run_sync.cjs");
    std::fs::write(&script, include_str!("js/run_sync.cjs")).unwrap();
    let state = w.dir.path().join("js-state.json");
    let node = |label: &'static str| {
        let mut cmd = tokio::process::Command::new("node");
        cmd.arg(&script)
            .arg(pkg.join("node"))
            .arg(&w.sims.domino_url)
            .arg(&w.sims.zoho_url)
            .arg(&state);
        async move {
            let r = run_cmd(cmd).await;
            assert_eq!(r.code, 0, "{label}: {}\n{}", r.stdout, r.stderr);
            serde_json::from_str::<Value>(&r.stdout)
                .unwrap_or_else(|e| panic!("{label}: {e}: {}", r.stdout))
        }
    };
    let report = node("first run").await;
    assert_eq!(report["outcome"], "completed", "{report}");
    let contacts = report["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == "contacts")
        .unwrap();
    assert_eq!(contacts["counts"]["created"], 2, "{contacts}");
    let mut ce: Vec<String> = w
        .crm_contacts()
        .await
        .iter()
        .map(|r| s(r, "Email"))
        .collect();
    let mut ne: Vec<String> = w
        .notes_contacts()
        .await
        .iter()
        .map(|(_, d)| s(d, "MailAddress"))
        .collect();
    ce.sort();
    ne.sort();
    assert_eq!(ce, vec!["rin@example.jp", "sol@example.com"]);
    assert_eq!(ne, ce);

    // With the stored state, a second run writes nothing.
    w.clear_calls().await;
    let again = node("second run").await;
    assert_eq!(again["outcome"], "completed");
    assert_eq!(w.writes().await, vec![], "second run wrote");
}
