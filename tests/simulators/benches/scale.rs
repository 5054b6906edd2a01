//! How the simulators scale (issue #14): a mail file of a million documents and a CRM module of
//! a million records, loaded through the bulk load (`nzsync_sim::bench_data`) and read the way
//! a sync reads them, through the routers. Prints a table of times; not a timed test.
//!
//! ```text
//! cargo bench -p nzsync-sim --bench scale                            # 1,000,000 each
//! NZSYNC_BENCH_RECORDS=100000 cargo bench -p nzsync-sim --bench scale
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark that cannot set up has nothing to report.

use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use nzsync_sim::bench_data::{BenchData, Split};
use nzsync_sim::{DominoState, Seed, ZohoState, domino_router, zoho_router};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const DB: &str = "mail/demo.nsf";
const BASIC_DEMO: &str = "Basic ZGVtbzpkZW1v";

async fn call(router: &axum::Router, req: Request<Body>) -> (StatusCode, Value, Option<String>) {
    let resp = router.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let range = resp
        .headers()
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = to_bytes(resp.into_body(), usize::MAX).await.expect("body");
    (
        status,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
        range,
    )
}

fn get(uri: &str, auth: &str) -> Request<Body> {
    Request::get(uri)
        .header("authorization", auth)
        .body(Body::empty())
        .expect("request")
}

struct Table(Vec<(String, f64, String)>);

impl Table {
    fn row(&mut self, what: &str, t: Instant, note: String) {
        let s = t.elapsed().as_secs_f64();
        eprintln!("{what}: {s:.2} s {note}");
        self.0.push((what.to_owned(), s, note));
    }
}

async fn domino(n: usize, table: &mut Table) {
    let data = BenchData {
        contacts: Split {
            notes_only: n,
            crm_only: 0,
            both: 0,
        },
        todos: Split::of(0),
        events: Split::of(0),
    };
    let t = Instant::now();
    let (notes, _) = data.dumps(DB);
    table.row(
        "Domino: generate the dump",
        t,
        format!("{n} Person documents"),
    );
    let state = DominoState::new(Vec::new(), Seed::Empty);
    let t = Instant::now();
    state.load(&notes).unwrap();
    drop(notes);
    table.row("Domino: load", t, String::new());
    let router = domino_router(state);

    let t = Instant::now();
    let (mut pages, mut entries, mut start) = (0, 0, 0);
    let mut unids = Vec::new();
    loop {
        let uri = format!("/{DB}/api/data/collections/name/($Contacts)?start={start}&count=100");
        let (status, body, _) = call(&router, get(&uri, BASIC_DEMO)).await;
        assert_eq!(status, StatusCode::OK);
        let page = body.as_array().cloned().unwrap_or_default();
        if page.is_empty() {
            break;
        }
        if pages % 1000 == 0 {
            unids.push(page[0]["@unid"].as_str().unwrap_or_default().to_owned());
        }
        pages += 1;
        entries += page.len();
        start += page.len();
    }
    assert_eq!(entries, n);
    table.row(
        "Domino: list ($Contacts), pages of 100",
        t,
        format!("{pages} pages, {entries} entries"),
    );

    let t = Instant::now();
    for unid in &unids {
        let (status, _, _) = call(
            &router,
            get(&format!("/{DB}/api/data/documents/unid/{unid}"), BASIC_DEMO),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    table.row(
        "Domino: read documents by UNID",
        t,
        format!("{} documents", unids.len()),
    );

    let t = Instant::now();
    for unid in &unids {
        let req = Request::patch(format!("/{DB}/api/data/documents/unid/{unid}"))
            .header("authorization", BASIC_DEMO)
            .header("content-type", "application/json")
            .body(Body::from(json!({"LastName": "Aaron"}).to_string()))
            .expect("request");
        let (status, _, _) = call(&router, req).await;
        assert_eq!(status, StatusCode::OK);
    }
    table.row(
        "Domino: update documents (each moves in the view)",
        t,
        format!("{} documents", unids.len()),
    );

    let since = "2000-01-01T00:00:00Z";
    let t = Instant::now();
    let (status, body, _) = call(
        &router,
        get(
            &format!("/{DB}/api/data/documents?since={since}"),
            BASIC_DEMO,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    table.row(
        "Domino: documents?since= (everything)",
        t,
        format!("{} documents", body.as_array().map_or(0, Vec::len)),
    );
    let (_, first, _) = call(
        &router,
        get(
            &format!("/{DB}/api/data/collections/name/($Contacts)?start=0&count=5"),
            BASIC_DEMO,
        ),
    )
    .await;
    assert_eq!(
        first[0]["$17"], "Aaron, First1",
        "an updated document moved to the top"
    );
}

async fn zoho(n: usize, table: &mut Table) {
    let data = BenchData {
        contacts: Split {
            notes_only: 0,
            crm_only: n,
            both: 0,
        },
        todos: Split::of(0),
        events: Split::of(0),
    };
    let (_, crm) = data.dumps(DB);
    let state = ZohoState::new(Seed::Empty);
    let t = Instant::now();
    state.load(&crm).unwrap();
    drop(crm);
    table.row("Zoho: load", t, format!("{n} Contacts"));
    let router = zoho_router(state);
    let req = Request::post(
        "/oauth/v2/token?grant_type=refresh_token&client_id=demo-client&client_secret=demo-secret&refresh_token=demo-refresh",
    )
    .body(Body::empty())
    .expect("request");
    let (_, token, _) = call(&router, req).await;
    let auth = format!(
        "Zoho-oauthtoken {}",
        token["access_token"].as_str().unwrap_or_default()
    );
    let (_, views, _) = call(
        &router,
        get("/crm/v8/settings/custom_views?module=Contacts", &auth),
    )
    .await;
    let mine = views["custom_views"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["system_name"] == "MYCONTACTS"))
        .and_then(|v| v["id"].as_str())
        .unwrap_or_default()
        .to_owned();

    // A page_token walk reaches 100,000 records (the API's limit).
    let t = Instant::now();
    let base = format!("/crm/v8/Contacts?cvid={mine}&fields=Email,Last_Name&per_page=200");
    let (mut pages, mut records, mut token) = (0, 0, None::<String>);
    let mut ids = Vec::new();
    loop {
        let uri = match &token {
            Some(t) => format!("{base}&page_token={t}"),
            None => base.clone(),
        };
        let (status, body, _) = call(&router, get(&uri, &auth)).await;
        if status != StatusCode::OK {
            break;
        }
        let page = body["data"].as_array().cloned().unwrap_or_default();
        if ids.len() < 100 {
            ids.push(page[0]["id"].as_str().unwrap_or_default().to_owned());
        }
        pages += 1;
        records += page.len();
        token = body["info"]["next_page_token"].as_str().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    table.row(
        "Zoho: list the \"My Contacts\" view by page_token",
        t,
        format!("{pages} pages, {records} records (the API stops at 100,000)"),
    );

    let t = Instant::now();
    let (status, body, _) = call(
        &router,
        get(
            &format!("/crm/v8/Contacts?ids={}&fields=Email", ids.join(",")),
            &auth,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    table.row(
        "Zoho: ?ids= (100 ids)",
        t,
        format!("{} records", body["data"].as_array().map_or(0, Vec::len)),
    );

    // Move the clock on, so what is written next is newer than everything loaded.
    let req = Request::post("/_sim/clock")
        .header("content-type", "application/json")
        .body(Body::from(json!({"advance_secs": 600}).to_string()))
        .expect("request");
    call(&router, req).await;
    let since = (chrono::Utc::now() + chrono::Duration::seconds(300))
        .format("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string();
    let t = Instant::now();
    let updates: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "Title": "Manager"}))
        .collect();
    let req = Request::put("/crm/v8/Contacts")
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .body(Body::from(json!({ "data": updates }).to_string()))
        .expect("request");
    let (status, _, _) = call(&router, req).await;
    assert_eq!(status, StatusCode::OK);
    table.row("Zoho: update 100 records", t, String::new());

    let t = Instant::now();
    let (mut pages, mut records, mut token) = (0, 0, None::<String>);
    loop {
        let base = "/crm/v8/Contacts?fields=Email&per_page=200".to_owned();
        let uri = match &token {
            Some(t) => format!("{base}&page_token={t}"),
            None => base,
        };
        let req = Request::get(&uri)
            .header("authorization", &auth)
            .header("if-modified-since", &since)
            .body(Body::empty())
            .expect("request");
        let (status, body, _) = call(&router, req).await;
        if status != StatusCode::OK {
            break;
        }
        pages += 1;
        records += body["data"].as_array().map_or(0, Vec::len);
        token = body["info"]["next_page_token"].as_str().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    table.row(
        "Zoho: If-Modified-Since (only the updated ones changed since)",
        t,
        format!("{pages} pages, {records} records"),
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::var("NZSYNC_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut table = Table(Vec::new());
    domino(n, &mut table).await;
    zoho(n, &mut table).await;
    println!("\nsimulator scale: {n} documents / records\n");
    println!("| step | seconds | |\n| --- | --- | --- |");
    for (what, s, note) in &table.0 {
        println!("| {what} | {s:.2} | {note} |");
    }
}
