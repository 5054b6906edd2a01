//! The `/_sim/` control routes (DESIGN.md §4.2): dump/load/reset, call log, latency, faults,
//! and the bare routers under `tower::ServiceExt::oneshot`.

mod common;

use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use common::{auth, control, http, json, sims, token};
use nzsync_sim::{DominoState, Seed, ZohoState, domino_router, zoho_router};
use serde_json::{Value, json};
use tower::ServiceExt;

/// A Domino dump loads back into an emptied server unchanged.
#[tokio::test]
async fn domino_dump_reset_load_round_trip() {
    let s = sims(Seed::Demo).await;
    let d = &s.domino_url;
    let dump = json(http().get(format!("{d}/_sim/dump")).send().await.unwrap()).await;
    let docs = dump["databases"]["mail/demo.nsf"]["documents"]
        .as_array()
        .unwrap()
        .len();
    assert!(docs > 200);
    let reset = http().post(format!("{d}/_sim/reset")).send().await.unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    let empty = json(http().get(format!("{d}/_sim/dump")).send().await.unwrap()).await;
    assert_eq!(empty["databases"]["mail/demo.nsf"]["documents"], json!([]));
    assert_eq!(
        control(d, "/_sim/load", dump.clone()).await.status(),
        StatusCode::NO_CONTENT
    );
    let again = json(http().get(format!("{d}/_sim/dump")).send().await.unwrap()).await;
    assert_eq!(again, dump);
    // Reset back to the demo data.
    http()
        .post(format!("{d}/_sim/reset?seed=demo"))
        .send()
        .await
        .unwrap();
    let demo = json(http().get(format!("{d}/_sim/dump")).send().await.unwrap()).await;
    assert_eq!(
        demo["databases"]["mail/demo.nsf"]["documents"]
            .as_array()
            .unwrap()
            .len(),
        docs
    );
    // A bad dump is refused and changes nothing.
    let bad = control(
        d,
        "/_sim/load",
        json!({ "databases": { "mail/demo.nsf": { "documents": [{ "unid": "XYZ" }] } } }),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    s.shutdown().await;
}

/// A Zoho dump (records, deleted, custom fields, tags) loads back unchanged.
#[tokio::test]
async fn zoho_dump_reset_load_round_trip() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let field = json!({ "fields": [{ "field_label": "Notes UNID", "data_type": "text", "length": 255, "external": { "type": "org", "show": true } }] });
    http()
        .post(format!("{z}/crm/v8/settings/fields?module=Contacts"))
        .header("authorization", auth(&t))
        .json(&field)
        .send()
        .await
        .unwrap();
    let list = json(
        http()
            .get(format!("{z}/crm/v8/Contacts?fields=Last_Name&per_page=1"))
            .header("authorization", auth(&t))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let id = list["data"][0]["id"].as_str().unwrap().to_owned();
    http()
        .delete(format!("{z}/crm/v8/Contacts/{id}"))
        .header("authorization", auth(&t))
        .send()
        .await
        .unwrap();
    let dump = json(http().get(format!("{z}/_sim/dump")).send().await.unwrap()).await;
    assert!(
        dump["fields"]["Contacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["api_name"] == "Notes_UNID")
    );
    assert_eq!(dump["deleted"]["Contacts"].as_array().unwrap().len(), 1);

    assert_eq!(
        http()
            .post(format!("{z}/_sim/reset"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    let empty = json(http().get(format!("{z}/_sim/dump")).send().await.unwrap()).await;
    assert_eq!(empty["modules"]["Contacts"], json!([]));
    assert!(
        !empty["fields"]["Contacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["api_name"] == "Notes_UNID")
    );
    // The token issued before the reset still works.
    let resp = http()
        .get(format!("{z}/crm/v8/org"))
        .header("authorization", auth(&t))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    assert_eq!(
        control(z, "/_sim/load", dump.clone()).await.status(),
        StatusCode::NO_CONTENT
    );
    let again = json(http().get(format!("{z}/_sim/dump")).send().await.unwrap()).await;
    assert_eq!(again, dump);
    // New ids keep growing past the loaded ones.
    let r = json(
        http()
            .post(format!("{z}/crm/v8/Contacts"))
            .header("authorization", auth(&t))
            .json(&json!({ "data": [{ "Last_Name": "After load" }] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let new_id: u64 = r["data"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let max_id = dump["modules"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|l| {
            l.as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().parse::<u64>().unwrap())
        })
        .max()
        .unwrap();
    assert!(new_id > max_id);
    s.shutdown().await;
}

/// The call log lists method, path and status in order; `/_sim/` calls are not logged;
/// latency delays every other request.
#[tokio::test]
async fn call_log_and_latency() {
    let s = sims(Seed::Empty).await;
    let d = &s.domino_url;
    http().get(format!("{d}/api")).send().await.unwrap();
    http().get(format!("{d}/api/data")).send().await.unwrap();
    let calls = json(http().get(format!("{d}/_sim/calls")).send().await.unwrap()).await;
    assert_eq!(
        calls["calls"],
        json!([
            { "method": "GET", "path": "/api", "status": 200 },
            { "method": "GET", "path": "/api/data", "status": 401 },
        ])
    );
    http()
        .delete(format!("{d}/_sim/calls"))
        .send()
        .await
        .unwrap();
    let calls = json(http().get(format!("{d}/_sim/calls")).send().await.unwrap()).await;
    assert_eq!(calls["calls"], json!([]));

    // The latency is long enough that a busy machine cannot make an undelayed control call
    // look delayed: the check is which side of it each call lands, not how fast anything is.
    let latency = Duration::from_secs(3);
    control(d, "/_sim/latency", json!({ "ms": 3000 })).await;
    let started = Instant::now();
    http().get(format!("{d}/api")).send().await.unwrap();
    assert!(started.elapsed() >= latency);
    let started = Instant::now();
    http().get(format!("{d}/_sim/calls")).send().await.unwrap();
    assert!(started.elapsed() < latency);
    s.shutdown().await;
}

/// Fault rules: a status for the next n matching calls, a dropped connection, and an expired
/// Zoho token.
#[tokio::test]
async fn faults_status_drop_and_token_expiry() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let org = || {
        http()
            .get(format!("{z}/crm/v8/org"))
            .header("authorization", auth(&t))
            .send()
    };

    let r = control(z, "/_sim/faults", json!({ "rules": [{ "kind": "status", "status": 429, "path_prefix": "/crm/", "times": 2 }] })).await;
    assert_eq!(r.status(), StatusCode::OK);
    for _ in 0..2 {
        let resp = org().await.unwrap();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(json(resp).await["code"], "TOO_MANY_REQUESTS");
    }
    assert_eq!(org().await.unwrap().status(), StatusCode::OK);

    control(
        z,
        "/_sim/faults",
        json!({ "rules": [{ "kind": "drop", "times": 1 }] }),
    )
    .await;
    let dropped = async { org().await?.bytes().await };
    assert!(
        dropped.await.is_err(),
        "the connection should have been dropped"
    );
    assert_eq!(org().await.unwrap().status(), StatusCode::OK);
    let calls = json(http().get(format!("{z}/_sim/calls")).send().await.unwrap()).await;
    let statuses: Vec<u64> = calls["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_u64().unwrap())
        .collect();
    assert!(statuses.ends_with(&[0, 200]), "{statuses:?}");

    control(
        z,
        "/_sim/faults",
        json!({ "rules": [{ "kind": "expire_token", "every": 1, "times": 1 }] }),
    )
    .await;
    let resp = org().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(resp).await["code"], "INVALID_TOKEN");
    let faults = json(http().get(format!("{z}/_sim/faults")).send().await.unwrap()).await;
    assert_eq!(faults["rules"][0]["fired"], 1);
    s.shutdown().await;
}

async fn oneshot(router: axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = router.oneshot(req).await.expect("infallible service");
    let status = resp.status();
    let bytes = to_bytes(resp.into_body(), usize::MAX).await.expect("body");
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("JSON body")
    };
    (status, value)
}

/// The bare routers work without a socket (`fn app(state) -> Router` tested with oneshot).
#[tokio::test]
async fn routers_answer_under_oneshot() {
    let zoho = zoho_router(ZohoState::new(Seed::Empty));
    let req = Request::post(
        "/oauth/v2/token?grant_type=refresh_token&client_id=demo-client&client_secret=demo-secret&refresh_token=demo-refresh",
    )
    .body(Body::empty())
    .unwrap();
    let (status, body) = oneshot(zoho, req).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["access_token"].as_str().unwrap().starts_with("1000."));
    assert_eq!(body["api_domain"], "http://127.0.0.1");

    let domino = domino_router(DominoState::new(Vec::new(), Seed::Demo));
    let req = Request::get("/mail/demo.nsf/api/data/collections/name/Contacts?count=3")
        .header("authorization", "Basic ZGVtbzpkZW1v")
        .body(Body::empty())
        .unwrap();
    let (status, body) = oneshot(domino, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().unwrap().len(), 3);
}

/// `truncate`: the server acts, answers the status and the full `Content-Length`, sends half
/// the body and closes; `delay` with `after`: the server acts, then answers too late for a
/// client with a shorter timeout; `percent` with a `seed` replays the same faults.
#[tokio::test]
async fn faults_truncate_delay_after_and_seeded_percent() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let create = |name: &'static str| {
        http()
            .post(format!("{z}/crm/v8/Contacts"))
            .header("authorization", auth(&t))
            .json(&json!({ "data": [{ "Last_Name": name }] }))
            .send()
    };
    let names = || async {
        let dump = json(http().get(format!("{z}/_sim/dump")).send().await.unwrap()).await;
        dump["modules"]["Contacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["Last_Name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };

    control(
        z,
        "/_sim/faults",
        json!({ "rules": [{ "kind": "truncate", "method": "POST", "times": 1 }] }),
    )
    .await;
    let mut resp = create("Cut").await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let declared = usize::try_from(resp.content_length().unwrap()).unwrap();
    let mut got = 0;
    let read = loop {
        match resp.chunk().await {
            Ok(Some(c)) => got += c.len(),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    assert!(read.is_err(), "a truncated body must fail to read");
    assert!(declared > 20 && got == declared / 2, "{got} of {declared}");
    assert_eq!(names().await, ["Cut"], "the server acted before truncating");
    // The call log shows the status that went out.
    let calls = json(http().get(format!("{z}/_sim/calls")).send().await.unwrap()).await;
    assert_eq!(
        calls["calls"].as_array().unwrap().last().unwrap()["status"],
        201
    );

    control(
        z,
        "/_sim/faults",
        json!({ "rules": [{ "kind": "delay", "ms": 1500, "after": true, "times": 1 }] }),
    )
    .await;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let late = impatient
        .post(format!("{z}/crm/v8/Contacts"))
        .header("authorization", auth(&t))
        .json(&json!({ "data": [{ "Last_Name": "Late" }] }))
        .send()
        .await;
    assert!(late.unwrap_err().is_timeout());
    assert_eq!(names().await, ["Cut", "Late"], "acted, then answered late");

    // Domino: truncated list bodies too.
    let d = &s.domino_url;
    control(
        d,
        "/_sim/faults",
        json!({ "rules": [{ "kind": "truncate", "times": 1 }] }),
    )
    .await;
    let list = http()
        .get(format!("{d}/mail/demo.nsf/api/data/collections"))
        .basic_auth("demo", Some("demo"))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    assert!(list.bytes().await.is_err());

    // 10% by chance, replayed by the seed.
    let pattern = |seed: u64| async move {
        control(
            d,
            "/_sim/faults",
            json!({ "seed": seed, "rules": [{ "kind": "status", "status": 503, "percent": 10 }] }),
        )
        .await;
        let mut out = Vec::new();
        for _ in 0..100 {
            let r = http()
                .get(format!("{d}/mail/demo.nsf/api/data/collections"))
                .basic_auth("demo", Some("demo"))
                .send()
                .await
                .unwrap();
            out.push(r.status() == StatusCode::SERVICE_UNAVAILABLE);
        }
        out
    };
    let a = pattern(3).await;
    assert!((2..=25).contains(&a.iter().filter(|f| **f).count()));
    assert_eq!(a, pattern(3).await);
    let faults = json(http().get(format!("{d}/_sim/faults")).send().await.unwrap()).await;
    assert_eq!(faults["seed"], 3);
    s.shutdown().await;
}

/// `/_sim/spec`: the check is turned off and on, counts the answers it checked by operation
/// and status, lists what the specs do not describe, and empties on DELETE.
#[tokio::test]
async fn spec_check_control_route() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let off = control(z, "/_sim/spec", json!({"enabled": false})).await;
    assert_eq!(json(off).await, json!({"enabled": false}));
    let on = json(control(z, "/_sim/spec", json!({"enabled": true})).await).await;
    assert_eq!(on["enabled"], true);
    assert_eq!(on["checked"], json!({}));

    let t = token(z, "demo-refresh").await;
    let resp = http()
        .get(format!("{z}/crm/v8/Contacts?fields=Last_Name&per_page=2"))
        .header("authorization", auth(&t))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let report = json(http().get(format!("{z}/_sim/spec")).send().await.unwrap()).await;
    assert_eq!(report["checked"]["GET /crm/v8/{module_api_name} 200"], 1);
    assert_eq!(
        report["undescribed"]["POST /oauth/v2/token (no operation in the specs)"],
        1
    );
    assert_eq!(report["violations"], json!([]));

    let cleared = http()
        .delete(format!("{z}/_sim/spec"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    let report = json(http().get(format!("{z}/_sim/spec")).send().await.unwrap()).await;
    assert_eq!(
        (report["enabled"].clone(), report["checked"].clone()),
        (json!(true), json!({}))
    );
    let bad = control(z, "/_sim/spec", json!({"on": 1})).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    s.shutdown().await;
}

/// A CRM user added at run time signs in with their own refresh token, is the current user
/// of their calls, owns what they create, and is still there after a load.
#[tokio::test]
async fn an_added_crm_user_has_their_own_token_and_records_and_survives_a_load() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let id = s
        .zoho()
        .add_user("太郎", "山田", "taro.yamada@example.com", "taro-refresh")
        .unwrap();
    // The same e-mail again (one person in two orgs), but never a taken refresh token.
    let twin = s
        .zoho()
        .add_user(
            "Taro",
            "Yamada",
            "taro.yamada@example.com",
            "taro-refresh-2",
        )
        .unwrap();
    assert_ne!(id, twin);
    assert!(
        s.zoho()
            .add_user("X", "Y", "x@example.com", "demo-refresh")
            .is_err()
    );
    let access = token(z, "taro-refresh").await;
    let auth = format!("Zoho-oauthtoken {access}");
    let me = json(
        http()
            .get(format!("{z}/crm/v8/users?type=CurrentUser"))
            .header("Authorization", &auth)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["users"][0]["id"], id.as_str());
    assert_eq!(me["users"][0]["email"], "taro.yamada@example.com");
    let made = json(
        http()
            .post(format!("{z}/crm/v8/Contacts"))
            .header("Authorization", &auth)
            .json(&json!({ "data": [{ "Last_Name": "Sato", "Email": "sato@example.com" }] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(made["data"][0]["code"], "SUCCESS", "{made}");
    let dump = s.zoho().dump();
    assert_eq!(dump["modules"]["Contacts"][0]["Owner"]["id"], id.as_str());

    // A load keeps the added users and their tokens.
    s.zoho().load(&dump).unwrap();
    let again = token(z, "taro-refresh-2").await;
    let me = json(
        http()
            .get(format!("{z}/crm/v8/users?type=CurrentUser"))
            .header("Authorization", format!("Zoho-oauthtoken {again}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["users"][0]["id"], twin.as_str());
    s.shutdown().await;
}
