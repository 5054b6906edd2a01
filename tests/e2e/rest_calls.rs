//! What a sync costs in Domino calls through each API, counted in the simulators' call logs:
//! reading 10,000 contacts for a first sync, and a run with nothing changed. The Domino REST API
//! lists a thousand whole documents a call where DAS reads each document on its own; with
//! nothing changed it asks one UNID list and one DQL query per module.

use crate::world::{Backend, DB, World};

/// Calls to the Domino API the world syncs through.
async fn domino_calls(w: &World) -> usize {
    w.notes_calls().await.len()
}

/// A first read of 10,000 Notes contacts (a preview, so nothing is written): about ten list
/// calls through the REST API, against one call per document through DAS.
#[tokio::test(flavor = "multi_thread")]
async fn reading_ten_thousand_contacts_costs_about_ten_rest_calls() {
    let mut w = World::with_sync_settings_on(Backend::Rest, "tasks = false").await;
    // 10,000 contacts in Notes (8,182 only there, 1,818 also in the CRM).
    let data = nzsync_sim::bench_data::BenchData::new(18_182, 0, 0);
    w.sims.load_bench_data(&data, DB).unwrap();
    w.clear_calls().await;
    let run = w.sync(&["--dry-run"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let calls = w.notes_calls().await;
    let lists = calls
        .iter()
        .filter(|(_, p, _)| p.starts_with("/api/v1/lists/"))
        .count();
    // Ten full pages of 1,000, and the empty one that ends the walk.
    assert_eq!(lists, 11, "{calls:?}");
    assert!(
        !calls.iter().any(|(_, p, _)| p.contains("/bulk/unid")),
        "a listed document was read again"
    );
    let rest = calls.len();
    assert!(rest <= 15, "{rest} calls: {calls:?}");
    assert!(w.calls(&w.sims.domino_url).await.is_empty());

    w.switch_to(Backend::Das);
    w.clear_calls().await;
    let run = w.sync(&["--dry-run"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let das = domino_calls(&w).await;
    assert!(das > 10_000, "DAS reads each document: {das}");
    eprintln!("reading 10,000 contacts: {rest} Domino REST API calls, {das} DAS calls");
}

/// A run with nothing changed after a two-way first sync of contacts and to-dos (and the run
/// that reads back the first run's writes): a handful of REST API calls (login, scope, and per
/// module one DQL query and one UNID list), and no write; DAS lists every view page and the
/// changed documents.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_with_nothing_changed_costs_a_handful_of_rest_calls() {
    let mut counts = Vec::new();
    for backend in [Backend::Rest, Backend::Das] {
        let w = World::on(backend).await;
        // 1,100 contacts and 550 to-dos in Notes, 1,100 and 550 in the CRM (200 and 100 on both).
        let data = nzsync_sim::bench_data::BenchData::new(2_000, 1_000, 0);
        w.sims.load_bench_data(&data, DB).unwrap();
        // The first run, and the one after it that sees the first run's own writes (every
        // document written: the cursor starts where the first run did).
        for _ in 0..2 {
            let run = w.sync(&[]).await;
            assert_eq!(run.code, 0, "{backend:?}: {}\n{}", run.stdout, run.stderr);
            // Past the cursor's overlap.
            w.advance_clocks(30).await;
        }
        w.clear_calls().await;
        let run = w.sync(&[]).await;
        assert_eq!(run.code, 0, "{backend:?}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(
            w.writes().await,
            vec![],
            "{backend:?}: the second run wrote"
        );
        let calls = w.notes_calls().await;
        if backend == Backend::Rest {
            assert!(calls.len() <= 8, "{calls:?}");
            let queries = calls
                .iter()
                .filter(|(m, p, _)| m == "POST" && p == "/api/v1/query")
                .count();
            assert_eq!(queries, 2, "one DQL query per module: {calls:?}");
        }
        counts.push((backend, calls.len()));
    }
    eprintln!(
        "a run with nothing changed (2,000 contacts, 1,000 to-dos on each side): {counts:?} Domino calls"
    );
}
