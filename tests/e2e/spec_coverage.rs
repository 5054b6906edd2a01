//! The spec check covers what the product uses: a two-way sync of every module, with
//! creates, updates and deletes on both sides, must have had each of the product's
//! operations checked against IBM's and Zoho's OpenAPI specs (and none broke them: the
//! world's drop asserts that).

use serde_json::json;

use crate::differential::populate;
use crate::world::World;

#[tokio::test(flavor = "multi_thread")]
async fn every_operation_the_product_uses_is_checked_against_the_vendor_specs() {
    let w = World::with_sync_settings("events = \"all\"").await;
    populate(&w).await;
    assert_eq!(w.sync(&[]).await.code, 0);
    // Changes and deletes on both sides, then the incremental run.
    let (unid, _) = w.notes_contacts().await.into_iter().next().unwrap();
    w.notes_patch(&unid, json!({"JobTitle": "CEO"})).await;
    let crm = w.crm_contacts().await;
    let id = |i: usize| crm[i]["id"].as_str().unwrap().to_owned();
    w.crm_update(&id(1), json!({"Title": "Head buyer"})).await;
    w.crm_delete(&id(2)).await;
    w.advance_clocks(60).await;
    let run = w.sync(&[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let [domino, zoho] = w.sims.spec_reports();
    let (domino, zoho) = (domino.unwrap(), zoho.unwrap());
    println!("{}", serde_json::to_string_pretty(&domino).unwrap());
    println!("{}", serde_json::to_string_pretty(&zoho).unwrap());
    let checked = |report: &nzsync_sim::spec::SpecReport, op: &str| {
        report.checked.keys().any(|k| k.starts_with(op))
    };
    for op in [
        "GET /{folder}/{database}/api/data/collections/name/{viewName} 200",
        "GET /{folder}/{database}/api/data/documents 200",
        "GET /{folder}/{database}/api/data/documents/unid/{docUnid} 200",
        "POST /{folder}/{database}/api/data/documents 201",
        "PATCH /{folder}/{database}/api/data/documents/unid/{docUnid} 200",
        "GET /{folder}/{database}/api/calendar/events 200",
        "GET /{folder}/{database}/api/calendar/events/{uid} 200",
        "POST /{folder}/{database}/api/calendar/events 201",
        "PUT /{folder}/{database}/api/calendar/events/{uid} 200",
    ] {
        assert!(checked(&domino, op), "not checked: {op}\n{domino:#?}");
    }
    for op in [
        "GET /crm/v8/{module_api_name} 200",
        "POST /crm/v8/{module_api_name} 201",
        "PUT /crm/v8/{module_api_name} 200",
        "DELETE /crm/v8/{module_api_name} 200",
        "GET /crm/v8/{module_api_name}/deleted 200",
        "GET /crm/v8/settings/fields 200",
        "POST /crm/v8/settings/fields 201",
        "GET /crm/v8/users 200",
    ] {
        assert!(checked(&zoho, op), "not checked: {op}\n{zoho:#?}");
    }
}
