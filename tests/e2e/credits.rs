//! Zoho's API limits against the real `nzsync sync`: a daily credit budget nearly spent, bursts
//! of 429 `TOO_MANY_REQUESTS`, and a concurrency limit below nzsync's.
//!
//! Zoho documents no `Retry-After` for 429 (zoho-crm-api.md §5), so nzsync backs off on its own
//! (doubling delays, a bounded number of attempts) and either finishes later or stops with a
//! clear report. Whatever happens, the store never records as synced what was not written on
//! both sides: after every run, each link in the SQLite store (`[store] path`) names a Notes
//! record and a Zoho record that both exist and are the same record (same e-mail, subject or
//! title). When the limits lift, a sync converges without duplicates and a further one writes
//! nothing.

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::fault_matrix::{Ledger, tail, ten_minutes_pass};
use crate::world::{Run, World, s};

async fn world() -> (World, Ledger) {
    let w = World::with_sync_settings("events = \"all\"\ntime_zone = \"Asia/Tokyo\"").await;
    let mut ledger = Ledger::default();
    ledger.first_data(&w).await;
    ledger.first_data(&w).await;
    (w, ledger)
}

async fn zoho_config(w: &World, body: Value) -> Value {
    w.sim_control(&w.sims.zoho_url, "/_sim/config", body).await
}

/// Every link in the store names records present on both sides that are the same record.
async fn links_match_both_sides(w: &World) -> usize {
    let links: Vec<(String, String, String)> = {
        let db = Connection::open(w.dir.path().join("state.db")).unwrap();
        let mut q = db
            .prepare("SELECT module, unid, zoho_id FROM links ORDER BY module, unid")
            .unwrap();
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let notes_docs: Vec<(String, Value)> = {
        let mut all = w.notes_contacts().await;
        all.extend(w.notes_docs("Task").await);
        all
    };
    for (module, unid, zoho_id) in &links {
        let (crm_module, notes_key, crm_key) = match module.as_str() {
            "contacts" => ("Contacts", "MailAddress", "Email"),
            "tasks" => ("Tasks", "Subject", "Subject"),
            "events" => ("Events", "summary", "Event_Title"),
            other => panic!("unknown module {other} in the store"),
        };
        let crm = w
            .crm_records(crm_module)
            .await
            .into_iter()
            .find(|r| s(r, "id") == *zoho_id)
            .unwrap_or_else(|| panic!("{module} link {unid} → {zoho_id}: no such Zoho record"));
        let notes = if module == "events" {
            w.notes_event(unid).await
        } else {
            notes_docs
                .iter()
                .find(|(u, _)| u == unid)
                .map(|(_, d)| d.clone())
        }
        .unwrap_or_else(|| panic!("{module} link {unid} → {zoho_id}: no such Notes record"));
        assert_eq!(
            s(&notes, notes_key),
            s(&crm, crm_key),
            "{module} link {unid} → {zoho_id} pairs different records"
        );
    }
    links.len()
}

/// The report's words for why the run stopped (its error and the modules' errors).
fn reasons(run: &Run) -> String {
    let r: Value = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    format!("{} {} {}", r["error"], r["modules"], run.stderr)
}

/// Converges once the limits lift: exit 0, same records on both sides, no duplicates, and a
/// further run writes nothing.
async fn converges(w: &World, ledger: &Ledger) {
    ten_minutes_pass(w).await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}", tail(&run));
    links_match_both_sides(w).await;
    if let Err(e) = ledger.check_converged(w).await {
        panic!("{e}\n{}", tail(&run));
    }
    ten_minutes_pass(w).await;
    w.clear_calls().await;
    let again = w.sync(&[]).await;
    assert_eq!(again.code, 0, "{}", tail(&again));
    assert!(w.writes().await.is_empty(), "{:?}", w.writes().await);
}

/// Days (runs) the small budget gets to finish the sync.
const DAYS: usize = 8;
/// Credits per day: more than a run's reads, less than the whole first sync.
const DAILY_CREDITS: u64 = 16;

/// A budget with only a few credits each "day": a run stops cleanly at the limit, saying so,
/// and links only what it wrote; the sync finishes on a later day.
#[tokio::test]
async fn a_nearly_spent_credit_budget_stops_cleanly_and_links_only_what_was_written() {
    let (mut w, ledger) = world().await;
    let (mut stopped, mut finished) = (0, false);
    let mut links = Vec::new();
    for day in 0..DAYS {
        // A new day with a small budget: 1 credit per read, 1 per 10 records written.
        zoho_config(
            &w,
            json!({ "reset_credits": true, "credits": DAILY_CREDITS }),
        )
        .await;
        ten_minutes_pass(&w).await;
        let run = w.sync(&[]).await;
        let cfg = zoho_config(&w, json!({})).await;
        assert!(
            cfg["credits_used"].as_u64().unwrap() <= DAILY_CREDITS,
            "{cfg}"
        );
        links.push(links_match_both_sides(&w).await);
        eprintln!(
            "day {day}: exit {}, {} links",
            run.code,
            links[links.len() - 1]
        );
        w.renew_token().await;
        if run.code == 0 {
            finished = true;
            break;
        }
        stopped += 1;
        let why = reasons(&run);
        assert!(
            why.contains("429") || why.contains("TOO_MANY_REQUESTS"),
            "day {day}: the report does not say the API limit stopped the run: {why}"
        );
    }
    assert!(
        stopped > 0,
        "{DAILY_CREDITS} credits cannot sync this data in one run"
    );
    assert!(
        finished,
        "no progress over {DAILY_CREDITS}-credit days: links per day {links:?}"
    );
    ten_minutes_pass(&w).await;
    zoho_config(&w, json!({ "reset_credits": true, "credits": 1_000_000 })).await;
    converges(&w, &ledger).await;
}

/// A burst of 429s is ridden out within the run (backing off); a storm longer than nzsync's
/// patience stops the run cleanly; a Zoho concurrency limit below nzsync's is retried. In
/// every case the links match both sides, and once the storm is over a sync converges.
#[tokio::test]
async fn bursts_of_429_are_retried_and_storms_stop_cleanly() {
    let (w, ledger) = world().await;
    let zoho = w.sims.zoho_url.clone();
    // A burst: the next four CRM calls are refused (nzsync makes five attempts per request,
    // backing off 0.5, 1, 2, 4 s).
    w.sim_control(
        &zoho,
        "/_sim/faults",
        json!({ "rules": [{ "kind": "status", "status": 429, "path_prefix": "/crm/", "times": 4 }] }),
    )
    .await;
    ten_minutes_pass(&w).await;
    w.clear_calls().await;
    let run = w.sync(&[]).await;
    assert_eq!(
        run.code,
        0,
        "a burst of four 429s stopped the run: {}",
        tail(&run)
    );
    let refused = w
        .calls(&zoho)
        .await
        .iter()
        .filter(|(_, _, st)| *st == 429)
        .count();
    assert_eq!(refused, 4);
    assert!(
        run.report()["requests"]["retries"].as_u64().unwrap() >= 4,
        "{}",
        run.stdout
    );
    links_match_both_sides(&w).await;
    ledger.check_converged(&w).await.unwrap();

    // A storm: every CRM call refused, longer than any backoff.
    let mut ledger = ledger;
    ledger.changes(&w).await;
    w.sim_control(
        &zoho,
        "/_sim/faults",
        json!({ "rules": [{ "kind": "status", "status": 429, "path_prefix": "/crm/" }] }),
    )
    .await;
    ten_minutes_pass(&w).await;
    let run = w.sync(&[]).await;
    assert_ne!(run.code, 0, "a run that could not reach Zoho succeeded");
    let why = reasons(&run);
    assert!(
        why.contains("429") || why.contains("TOO_MANY_REQUESTS"),
        "the report does not say why: {why}"
    );
    links_match_both_sides(&w).await;

    // A concurrency limit of one request in flight, below nzsync's four.
    reqwest::Client::new()
        .delete(format!("{zoho}/_sim/faults"))
        .send()
        .await
        .unwrap();
    w.sim_control(&zoho, "/_sim/latency", json!({ "ms": 30 }))
        .await;
    zoho_config(&w, json!({ "concurrency": 1 })).await;
    ten_minutes_pass(&w).await;
    let run = w.sync(&[]).await;
    eprintln!("concurrency 1: exit {}", run.code);
    if run.code != 0 {
        let why = reasons(&run);
        assert!(
            why.contains("429") || why.contains("TOO_MANY_REQUESTS"),
            "{why}"
        );
    }
    links_match_both_sides(&w).await;
    zoho_config(&w, json!({ "concurrency": 20 })).await;
    converges(&w, &ledger).await;
}
