//! Security: each test is a named attack on the web server (`nzsync::server::app`) and proves
//! it fails. Every target any attack tries is a loopback address (127.0.0.1, another port);
//! a [`Canary`] listener records any request the server should never have sent.
//!
//! - **Proxy** (`/proxy/*`): absolute URLs, `//host`, backslashes, `..`/`%2e%2e`, encoded
//!   hosts and `user@host` in the path; upstream redirects to another host; huge request
//!   bodies and endless upstream answers (413/502, bounded); slow request bodies (408, and the
//!   server keeps serving others).
//! - **Authorization**: user B against user A's settings, sync state, lease, history, Domino
//!   connection and user management; a user the admin has not enabled; stale (signed-out,
//!   expired), forged and modified session cookies; cross-site requests (no or wrong CSRF
//!   header, a foreign `Origin`, a form POST) on every state-changing route. The routes are
//!   read from `host/src/server/mod.rs`, so a new route without a case here fails the suite.
//! - **Slow headers**: clients dripping header lines are disconnected after the header timeout.
//! - **Secrets**: a real `nzsync serve` and a headless `nzsync sync` at `RUST_LOG=trace` with a
//!   known Domino password and Zoho tokens: no log line, API answer, run report or store file
//!   (and its `-wal`) holds one in clear or in base64.
//! - **Malformed input**: property-generated bodies, content types, paths and query strings to
//!   every route: always a 4xx with a JSON error (never a 5xx), and the server keeps serving.
//!   `NZSYNC_FUZZ_CASES` (default 24 per route) runs longer.

#![allow(clippy::unwrap_used)] // A failed unwrap is how a test reports failure.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use nzsync_sim::Seed;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;

use common::{
    Browser, Canary, PASSWORD, PASSWORD2, RawUpstream, World, client, raw_http, set_domino_url,
    world, world_configured,
};

// ---------------------------------------------------------------------------------------------
// Shared steps

/// The admin (demo), signed in and connected to the Domino simulator.
async fn connected_admin(w: &World) -> (Browser, String) {
    let mut b = Browser::new(w);
    b.sign_in("demo@example.com").await;
    b.connect(w).await;
    let (_, me) = b.call(Method::GET, "/api/me", None).await;
    (b, me["user_id"].as_str().unwrap().to_owned())
}

/// user2, added by `admin`, signed in and connected as Domino user `user2`.
async fn connected_user2(w: &World, admin: &Browser) -> (Browser, String) {
    let (s, e) = admin
        .call(
            Method::POST,
            "/api/users",
            Some(json!({ "user": "user2@example.com" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let mut b = Browser::new(w);
    b.sign_in("user2@example.com").await;
    let (s, e) = b
        .call(
            Method::POST,
            "/api/connect",
            Some(json!({ "server": w.sims.domino_url, "user": "user2", "password": PASSWORD2 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (_, me) = b.call(Method::GET, "/api/me", None).await;
    (b, me["user_id"].as_str().unwrap().to_owned())
}

fn upstream_calls(w: &World) -> usize {
    w.sims.zoho().calls().len() + w.sims.domino().calls().len()
}

/// A refusal in the API's shape: `{"error":{"code","message"}}`.
fn assert_json_error(status: StatusCode, v: &Value, what: &str) {
    assert!(
        v["error"]["code"].is_string() && v["error"]["message"].is_string(),
        "{what}: {status} without a JSON error: {v}"
    );
}

/// Every `(method, path)` the server routes, read from its source.
fn routes() -> BTreeSet<(String, String)> {
    let src = include_str!("../src/server/mod.rs");
    let body = &src[src.find("pub fn app(").unwrap()..];
    let mut out = BTreeSet::new();
    for chunk in body.split(".route(").skip(1) {
        let path = chunk.split('"').nth(1).unwrap().to_owned();
        let handlers = chunk.split_once(',').unwrap().1;
        let handlers = handlers.split(".route(").next().unwrap();
        for (token, method) in [
            ("get(", "GET"),
            ("post(", "POST"),
            ("put(", "PUT"),
            ("delete(", "DELETE"),
            ("patch(", "PATCH"),
            ("any(", "ANY"),
        ] {
            if handlers.contains(token) {
                out.insert((method.to_owned(), path.clone()));
            }
        }
    }
    out
}

/// A concrete path for a routed path (`{id}` and `{*path}` filled in).
fn concrete(path: &str, user_id: &str) -> String {
    path.replace("{user_id}", user_id)
        .replace("{id}", "1")
        .replace("{*path}", "api/data")
}

/// Every state-changing request the server routes, with a body that would be accepted.
fn state_changing(user2_id: &str) -> Vec<(Method, String, Option<Value>)> {
    let mut out = Vec::new();
    for (method, path) in routes() {
        let body = match (method.as_str(), path.as_str()) {
            ("GET", _) => continue,
            (_, "/api/users") => Some(json!({ "user": "user2@example.com" })),
            (_, "/api/connect") => Some(
                json!({ "server": "http://127.0.0.1:9", "user": "demo", "password": PASSWORD }),
            ),
            (_, "/api/password") => Some(json!({ "password": PASSWORD })),
            (_, "/api/settings") => {
                Some(json!({ "contacts": false, "tasks": true, "events": "off",
                "direction": "two_way", "conflict": "crm_wins", "schedule_minutes": null }))
            }
            (_, "/api/uninstall") => Some(json!({ "confirm": true, "delete_crm_records": true })),
            (_, "/api/sync/state-changes") => Some(json!({ "changes": [] })),
            (_, "/api/sync/run") => Some(json!({})),
            (_, "/api/meetings") => Some(json!({})),
            _ => None,
        };
        let methods: Vec<Method> = if method == "ANY" {
            vec![Method::POST, Method::PUT, Method::PATCH, Method::DELETE]
        } else {
            vec![Method::from_bytes(method.as_bytes()).unwrap()]
        };
        for m in methods {
            out.push((m, concrete(&path, user2_id), body.clone()));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Proxy

/// Paths that try to make the proxy reach another host or another path than the user's own
/// servers' APIs: refused (4xx) before anything is sent, and the canary hears nothing.
#[tokio::test]
async fn proxy_paths_that_would_reach_another_host_are_refused() {
    let w = world(Seed::Empty).await;
    let (admin, _) = connected_admin(&w).await;
    let canary = Canary::start().await;
    let c = canary.addr.to_string();
    let port = canary.port();
    let attacks = [
        format!("/proxy/domino/http://{c}/x"),
        format!("/proxy/domino/https://{c}/x"),
        format!("/proxy/domino/http:%2F%2F{c}%2Fx"),
        format!("/proxy/domino/http%3A%2F%2F{c}/x"),
        format!("/proxy/domino/%2F%2F{c}/x"),
        format!("/proxy/domino/%2f%2f{c}/x"),
        format!("/proxy/domino//{c}/x"),
        format!("/proxy/domino///{c}/x"),
        format!("/proxy/domino/\\\\{c}/x"),
        format!("/proxy/domino/%5C%5C{c}/x"),
        format!("/proxy/domino/\\/{c}/x"),
        format!("/proxy/domino/user@{c}/x"),
        format!("/proxy/domino/demo:pw@{c}/x"),
        format!("/proxy/domino/@{c}/x"),
        format!("/proxy/domino/%40{c}/x"),
        format!("/proxy/domino/:{port}/x"),
        format!("/proxy/domino/%3A{port}/x"),
        format!("/proxy/domino/api/../../{c}/x"),
        format!("/proxy/domino/api/%2e%2e/%2e%2e/{c}/x"),
        format!("/proxy/domino/api/%2E%2E%2F%2E%2E%2F{c}/x"),
        format!("/proxy/domino/api/..%5C..%5C{c}/x"),
        format!("/proxy/domino/./{c}/x"),
        format!("/proxy/zoho/http://{c}/crm/v8/Contacts"),
        format!("/proxy/zoho/crm@{c}/v8/Contacts"),
        format!("/proxy/zoho//{c}/crm/v8/Contacts"),
        format!("/proxy/zoho/crm/../{c}/crm/v8"),
        "/proxy/zoho/crm/%2e%2e/oauth/v2/token".to_owned(),
        "/proxy/zoho/crm/v8/..%2F..%2Foauth/v2/token".to_owned(),
        "/proxy/zoho/oauth/v2/token".to_owned(),
        "/proxy/zoho/_sim/dump".to_owned(),
        "/proxy/zoho/crm/%2e%2e/_sim/dump".to_owned(),
    ];
    let before = upstream_calls(&w);
    let cookie = admin.cookie_header();
    let csrf = admin.csrf.clone().unwrap();
    for path in &attacks {
        for method in ["GET", "POST"] {
            // Raw, so `..`, `\` and `//` reach the server unnormalised.
            let head = format!(
                "{method} {path} HTTP/1.1\r\ncookie: {cookie}\r\nx-csrf-token: {csrf}\r\ncontent-length: 2"
            );
            let (status, body) = raw_http(&w.base, &head, b"{}").await;
            assert!(
                (400..500).contains(&status),
                "{method} {path}: {status} {body}"
            );
        }
    }
    // An absolute-form request target and a forged Host name the canary: the proxy still
    // only knows the user's own server.
    let (status, _) = raw_http(
        &w.base,
        &format!("GET http://{c}/proxy/domino/api/data HTTP/1.1\r\ncookie: {cookie}"),
        b"",
    )
    .await;
    assert_eq!(
        status, 200,
        "the absolute-form target went to the user's own Domino"
    );
    let r = client()
        .get(format!("{}/proxy/domino/api/data", w.base))
        .header("cookie", &cookie)
        .header("host", &c)
        .header("x-forwarded-host", &c)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        upstream_calls(&w),
        before + 2,
        "only the two legitimate requests reached an upstream"
    );
    assert_eq!(canary.hits(), 0, "the proxy reached the canary");
}

/// An upstream (the user's own Domino server, or one pretending to be) that redirects to
/// another host: the proxy neither follows nor passes on the redirect (502), Connect does
/// not follow it, and neither does a headless run.
#[tokio::test]
async fn upstream_redirects_to_another_host_are_not_followed() {
    let canary = Canary::start().await;
    let target = format!("{}/steal", canary.url());
    let evil = {
        let target = target.clone();
        RawUpstream::start(move |mut sock, head| {
            let target = target.clone();
            async move {
                let code = ["301", "302", "303", "307", "308"]
                    [head.len() % 5];
                let _ = sock
                    .write_all(
                        format!(
                            "HTTP/1.1 {code} Moved\r\nlocation: {target}\r\ncontent-length: 0\r\n\r\n"
                        )
                        .as_bytes(),
                    )
                    .await;
            }
        })
        .await
    };
    let w = common::world_allowing(Seed::Empty, &[&evil.url]).await;
    let (admin, admin_id) = connected_admin(&w).await;
    set_domino_url(&w, &admin_id, &evil.url).await;
    for (i, method) in [Method::GET, Method::POST, Method::PUT, Method::DELETE]
        .into_iter()
        .enumerate()
    {
        // Paths of different lengths give different redirect codes.
        let path = format!(
            "/proxy/domino/mail/demo.nsf/api/data/documents{}",
            "x".repeat(i)
        );
        let r = admin
            .http
            .request(method.clone(), format!("{}{path}", w.base))
            .header("cookie", admin.cookie_header())
            .header("x-csrf-token", admin.csrf.clone().unwrap())
            .json(&json!({ "LastName": "x" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_GATEWAY, "{method} {path}");
        assert!(
            r.headers().get("location").is_none(),
            "the redirect was passed on"
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "upstream", "{v}");
    }
    assert!(evil.hits() >= 4);

    // Connect to the redirecting server: refused, not followed.
    let (s, e) = admin
        .call(
            Method::POST,
            "/api/connect",
            Some(json!({ "server": evil.url, "user": "demo", "password": PASSWORD })),
        )
        .await;
    assert!(s.is_client_error(), "{s} {e}");
    // A headless run against it fails without following.
    let (s, v) = admin
        .call(Method::POST, "/api/sync/run", Some(json!({})))
        .await;
    assert!(
        s != StatusCode::OK || v["report"]["outcome"] == "failed",
        "a run against a redirecting server did not fail: {s} {v}"
    );
    assert_eq!(canary.hits(), 0, "a redirect was followed to the canary");
}

/// Bodies too large for the proxy or the API are refused with 413 before anything is sent
/// upstream; an answer that declares a size over the limit is refused (502); an endless
/// upstream answer is streamed and cut off at the size limit (the browser sees a broken
/// answer, never a complete one) and the server keeps serving.
#[tokio::test]
async fn huge_bodies_either_way_are_refused_with_a_clear_status() {
    // An upstream whose answer never ends.
    let endless = RawUpstream::start(|mut sock, _| async move {
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
            .await;
        let chunk = vec![b' '; 1024 * 1024];
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(&chunk);
        framed.extend_from_slice(b"\r\n");
        while sock.write_all(&framed).await.is_ok() {}
    })
    .await;
    // One that says its answer is 100 GB.
    let declared = RawUpstream::start(|mut sock, _| async move {
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000000000\r\n\r\n[")
            .await;
    })
    .await;
    let w = common::world_allowing(Seed::Empty, &[&endless.url, &declared.url]).await;
    let (admin, admin_id) = connected_admin(&w).await;
    let before = upstream_calls(&w);
    let cookie = admin.cookie_header();
    let csrf = admin.csrf.clone().unwrap();
    let big = vec![b'a'; 17 * 1024 * 1024];
    for path in [
        "/proxy/domino/mail/demo.nsf/api/data/documents?form=Person",
        "/proxy/zoho/crm/v8/Contacts",
    ] {
        let r = client()
            .post(format!("{}{path}", w.base))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await;
        // The server may answer and close before it has read everything we send.
        if let Ok(r) = r {
            assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["error"]["code"], "too_large", "{v}");
        }
    }
    // A declared length over the limit is refused without waiting for the body.
    let (status, body) = raw_http(
        &w.base,
        &format!(
            "POST /proxy/domino/api/data HTTP/1.1\r\ncookie: {cookie}\r\nx-csrf-token: {csrf}\r\ncontent-length: 100000000000"
        ),
        b"",
    )
    .await;
    assert_eq!(status, 413, "{body}");
    // The API's JSON bodies have a lower limit.
    let huge_json = json!({ "password": "p".repeat(5 * 1024 * 1024) });
    let (s, v) = admin
        .call(Method::POST, "/api/password", Some(huge_json))
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_json_error(s, &v, "5 MB password");
    assert_eq!(
        upstream_calls(&w),
        before,
        "a refused body reached an upstream"
    );

    set_domino_url(&w, &admin_id, &declared.url).await;
    let (s, v) = admin
        .call(Method::GET, "/proxy/domino/api/data", None)
        .await;
    assert_eq!(s, StatusCode::BAD_GATEWAY, "{v}");
    assert_eq!(v["error"]["code"], "upstream");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than"),
        "{v}"
    );

    set_domino_url(&w, &admin_id, &endless.url).await;
    let (ended_whole, got) = tokio::time::timeout(Duration::from_secs(120), async {
        let mut r = admin
            .http
            .get(format!("{}/proxy/domino/api/data", w.base))
            .header("cookie", admin.cookie_header())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let mut got = 0usize;
        loop {
            match r.chunk().await {
                Ok(Some(c)) => got += c.len(),
                Ok(None) => return (true, got),
                Err(_) => return (false, got),
            }
        }
    })
    .await
    .expect("the proxy stopped passing on the endless answer");
    assert!(!ended_whole, "the cut-off answer looked complete");
    assert!(
        got <= nzsync::upstream::MAX_BODY,
        "{got} bytes passed on, more than the limit"
    );
    let (s, _) = admin.call(Method::GET, "/api/me", None).await;
    assert_eq!(s, StatusCode::OK);
}

/// Slowloris: many clients send their request bodies a byte at a time. Each gets 408 once the
/// body timeout passes, and meanwhile the server answers everybody else.
#[tokio::test]
async fn slow_request_bodies_are_cut_off_and_others_are_still_served() {
    let w = world_configured(Seed::Empty, |s| s.set_body_timeout(Duration::from_secs(1))).await;
    let (admin, _) = connected_admin(&w).await;
    let cookie = admin.cookie_header();
    let csrf = admin.csrf.clone().unwrap();
    let addr = w.base.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for i in 0..24 {
        let path = if i % 2 == 0 {
            "/api/settings"
        } else {
            "/proxy/domino/mail/demo.nsf/api/data/documents?form=Person"
        };
        let method = if i % 2 == 0 { "PUT" } else { "POST" };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncookie: {cookie}\r\nx-csrf-token: {csrf}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n"
        );
        let addr = addr.clone();
        slow.push(tokio::spawn(async move {
            use tokio::io::AsyncReadExt as _;
            let sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let (mut rd, mut wr) = sock.into_split();
            wr.write_all(head.as_bytes()).await.unwrap();
            let drip = tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if wr.write_all(b" ").await.is_err() {
                        break;
                    }
                }
            });
            let mut out = Vec::new();
            // Generous: the server gives up after 1 s; this only catches a server that never does.
            let read = tokio::time::timeout(Duration::from_secs(60), async {
                let mut buf = [0u8; 1024];
                loop {
                    match rd.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            out.extend_from_slice(&buf[..n]);
                            if out.windows(4).any(|w| w == b"\r\n\r\n") {
                                break;
                            }
                        }
                    }
                }
            })
            .await;
            drip.abort();
            assert!(read.is_ok(), "the server waited for a slow body forever");
            String::from_utf8_lossy(&out).into_owned()
        }));
    }
    // While they drip, everybody else is served.
    for _ in 0..5 {
        let (s, _) = admin.call(Method::GET, "/api/me", None).await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = admin
            .call(Method::GET, "/proxy/domino/api/data", None)
            .await;
        assert_eq!(s, StatusCode::OK);
    }
    for t in slow {
        let answer = t.await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    let (s, settings) = admin.call(Method::GET, "/api/settings", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(settings["contacts"], true, "no partial body was applied");
}

/// Slowloris on the headers: clients that drip header lines forever are disconnected once the
/// header timeout passes, and meanwhile the server answers everybody else.
#[tokio::test]
async fn slow_request_headers_are_cut_off_and_others_are_still_served() {
    let w = world_configured(Seed::Empty, |s| {
        s.set_header_timeout(Duration::from_secs(1))
    })
    .await;
    let (admin, _) = connected_admin(&w).await;
    let addr = w.base.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..24 {
        let addr = addr.clone();
        slow.push(tokio::spawn(async move {
            use tokio::io::AsyncReadExt as _;
            let sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let (mut rd, mut wr) = sock.into_split();
            wr.write_all(format!("GET /api/me HTTP/1.1\r\nhost: {addr}\r\n").as_bytes())
                .await
                .unwrap();
            let drip = tokio::spawn(async move {
                for i in 0u64.. {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if wr
                        .write_all(format!("x-drip-{i}: a\r\n").as_bytes())
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            });
            // Generous: the server gives up after 1 s; this only catches one that never does.
            let closed = tokio::time::timeout(Duration::from_secs(60), async {
                let mut buf = [0u8; 1024];
                while let Ok(n) = rd.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            })
            .await;
            drip.abort();
            assert!(closed.is_ok(), "the server waited for slow headers forever");
        }));
    }
    for _ in 0..5 {
        let (s, _) = admin.call(Method::GET, "/api/me", None).await;
        assert_eq!(s, StatusCode::OK);
    }
    for t in slow {
        t.await.unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Authorization

fn settings_body(tasks: bool, schedule: Option<u32>) -> Value {
    json!({ "contacts": true, "tasks": tasks, "events": "off", "direction": "two_way",
            "conflict": "crm_wins", "schedule_minutes": schedule,
            "scope": { "contacts": "mine", "tasks": "mine", "events": "mine" } })
}

/// User B, enabled in the same org, tries every route that acts per user on user A's data:
/// A's run report by id, A's settings, sync state and lease, A's Domino server through the
/// proxy, A's password, and user management. Each attempt is refused or touches only B's own.
#[tokio::test]
async fn user_b_cannot_read_or_change_user_as_data() {
    // A's own Domino server, for the proxy part.
    let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let a_server = {
        let heads = heads.clone();
        RawUpstream::start(move |mut sock, head| {
            heads.lock().unwrap().push(head);
            async move {
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
                    .await;
            }
        })
        .await
    };
    let w = common::world_allowing(Seed::Demo, &[&a_server.url]).await;
    let (a, a_id) = connected_admin(&w).await;
    let (s, e) = a
        .call(
            Method::PUT,
            "/api/settings",
            Some(settings_body(false, Some(60))),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, run) = a.call(Method::POST, "/api/sync/run", Some(json!({}))).await;
    assert_eq!(s, StatusCode::OK, "{run}");
    let a_run = run["id"].as_i64().unwrap();
    // The links are read page by page, each user only ever their own.
    let links = "/api/sync/links?module=contacts&limit=5000";
    let (_, a_links) = a.call(Method::GET, links, None).await;
    assert!(
        a_links["links"].to_string().contains("zoho_id"),
        "A has links: {a_links}"
    );
    let (b, b_id) = connected_user2(&w, &a).await;

    // History: A's run by id is not found for B, nor listed.
    let (s, v) = b
        .call(Method::GET, &format!("/api/runs/{a_run}"), None)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (_, runs) = b.call(Method::GET, "/api/runs", None).await;
    assert_eq!(runs["runs"], json!([]), "B sees no runs of A");
    // Settings: B reads and changes its own only.
    let (_, bs) = b.call(Method::GET, "/api/settings", None).await;
    assert_eq!(bs["tasks"], true, "B does not see A's settings: {bs}");
    let (s, _) = b
        .call(
            Method::PUT,
            "/api/settings",
            Some(settings_body(true, Some(15))),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, as_) = a.call(Method::GET, "/api/settings", None).await;
    assert_eq!(as_, settings_body(false, Some(60)), "A's settings are A's");
    // Sync state: B's own mail file and no links.
    let (_, b_state) = b.call(Method::GET, "/api/sync/state", None).await;
    assert_eq!(b_state["config"]["mail_db"], "mail/user2.nsf");
    let (s, b_links) = b.call(Method::GET, links, None).await;
    assert_eq!(s, StatusCode::OK, "{b_links}");
    assert_eq!(b_links["links"], json!([]), "B reads only B's links");
    assert!(
        !b_state["state"].to_string().contains("zoho_id"),
        "{b_state}"
    );

    // The lease: A's token does nothing for B.
    let (s, lease) = a.call(Method::POST, "/api/sync/lease", None).await;
    assert_eq!(s, StatusCode::OK);
    let la = lease["lease"].as_str().unwrap().to_owned();
    let a_report = a
        .call(Method::GET, &format!("/api/runs/{a_run}"), None)
        .await
        .1;
    let lease_hdr = [("x-sync-lease", la.as_str())];
    for (m, path, body) in [
        (Method::POST, "/api/sync/lease/renew", None),
        (Method::DELETE, "/api/sync/lease", None),
        (
            Method::POST,
            "/api/sync/state-changes",
            Some(json!({ "changes": [] })),
        ),
        (Method::POST, "/api/runs", Some(a_report.clone())),
    ] {
        let (s, v) = b.send(m.clone(), path, body, true, &lease_hdr).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("no_lease")),
            "{m} {path} with A's lease: {v}"
        );
    }
    let (s, _) = a
        .send(
            Method::POST,
            "/api/sync/lease/renew",
            None,
            true,
            &lease_hdr,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "A still holds its lease");
    // B's own lease writes B's history only.
    let (s, lb) = b.call(Method::POST, "/api/sync/lease", None).await;
    assert_eq!(s, StatusCode::OK, "B's lease is B's own");
    let lb = lb["lease"].as_str().unwrap().to_owned();
    let (s, v) = b
        .send(
            Method::POST,
            "/api/runs",
            Some(a_report),
            true,
            &[("x-sync-lease", &lb)],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, runs) = a.call(Method::GET, "/api/runs", None).await;
    assert_eq!(
        runs["runs"].as_array().unwrap().len(),
        1,
        "A's history has A's run only"
    );
    let (_, a_links2) = a.call(Method::GET, links, None).await;
    assert_eq!(a_links2, a_links, "A's links untouched");
    // A malformed link read is refused, and reads nothing.
    for bad in [
        "/api/sync/links?module=contacts&limit=0",
        "/api/sync/links?module=contacts&limit=5001",
        "/api/sync/links?module=accounts&limit=10",
        "/api/sync/links?module=contacts",
        "/api/sync/links?module=contacts&limit=10&profile=a",
    ] {
        let (s, v) = b.call(Method::GET, bad, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }

    // User management is the admin's.
    for (m, path, body) in [
        (Method::GET, "/api/users".to_owned(), None),
        (
            Method::POST,
            "/api/users".to_owned(),
            Some(json!({ "user": "demo@example.com" })),
        ),
        (Method::DELETE, format!("/api/users/{a_id}"), None),
        (Method::DELETE, format!("/api/users/{b_id}"), None),
        (Method::POST, format!("/api/users/{a_id}/stop"), None),
        (Method::POST, format!("/api/users/{b_id}/stop"), None),
    ] {
        let (s, v) = b.call(m.clone(), &path, body).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{m} {path}: {v}"
        );
    }
    // The admin cannot remove a user of another org by id either (there is none: unknown ids
    // are 404, not a deletion of something else).
    let (s, _) = a
        .call(Method::DELETE, "/api/users/5725767000000999999", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The proxy: B's requests go to B's server with B's credentials, never to A's.
    set_domino_url(&w, &a_id, &a_server.url).await;
    let (s, _) = b.call(Method::GET, "/proxy/domino/api/data", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(a_server.hits(), 0, "B's proxy request reached A's server");
    let (s, _) = a.call(Method::GET, "/proxy/domino/api/data", None).await;
    assert_eq!(s, StatusCode::OK);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("demo:{PASSWORD}"));
    assert!(
        heads.lock().unwrap()[0].contains(&basic),
        "A's request carried A's credentials"
    );
    set_domino_url(&w, &a_id, &w.sims.domino_url).await;
    // Change Password verifies against B's own account: A's password is wrong there.
    let (s, v) = b
        .call(
            Method::POST,
            "/api/password",
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("wrong_password"))
    );
    let (_, me) = a.call(Method::GET, "/api/me", None).await;
    assert_eq!(me["domino"]["user"], "demo");

    // B uninstalling removes B only (once B's own sync has let go of its lease).
    let (s, _) = b
        .send(
            Method::DELETE,
            "/api/sync/lease",
            None,
            true,
            &[("x-sync-lease", &lb)],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = b
        .call(
            Method::POST,
            "/api/uninstall",
            Some(json!({ "confirm": true })),
        )
        .await;
    assert_eq!(
        (s, v["uninstalled"].as_str()),
        (StatusCode::OK, Some("user")),
        "{v}"
    );
    let (s, _) = a
        .call(Method::GET, &format!("/api/runs/{a_run}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "A's history survives B's uninstall");
    let (_, me) = a.call(Method::GET, "/api/me", None).await;
    assert_eq!(me["connected"], true);
}

/// A user who signed in but whom the admin has not enabled reaches nothing but `/api/me`.
#[tokio::test]
async fn a_user_the_admin_has_not_enabled_reaches_nothing() {
    let w = world(Seed::Empty).await;
    let (_admin, _) = connected_admin(&w).await;
    let mut u = Browser::new(&w);
    u.sign_in("user2@example.com").await;
    let (s, me) = u.call(Method::GET, "/api/me", None).await;
    assert_eq!((s, &me["enabled"]), (StatusCode::OK, &json!(false)));
    let before = upstream_calls(&w);
    for (method, path) in routes() {
        if !path.starts_with("/api/") && !path.starts_with("/proxy/") || path == "/api/me" {
            continue;
        }
        let method = if method == "ANY" {
            "GET".to_owned()
        } else {
            method
        };
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let (s, v) = u.call(m, &concrete(&path, "x"), Some(json!({}))).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{method} {path}: {v}"
        );
    }
    assert_eq!(
        upstream_calls(&w),
        before,
        "nothing was sent upstream for them"
    );
}

/// Every route without a session, and with a signed-out, expired, forged or modified session
/// cookie, answers 401; a session with another session's CSRF token answers 403.
#[tokio::test]
async fn stale_forged_and_modified_sessions_are_refused() {
    let w = world(Seed::Empty).await;
    let (a, _) = connected_admin(&w).await;
    let real = a.cookies["nzsync_session"].clone();
    let anon = Browser::new(&w);
    let all_routes: Vec<(Method, String)> = routes()
        .into_iter()
        .filter(|(_, p)| p.starts_with("/api/") || p.starts_with("/proxy/") || p == "/auth/logout")
        .map(|(m, p)| {
            let m = if m == "ANY" { "GET".to_owned() } else { m };
            (Method::from_bytes(m.as_bytes()).unwrap(), concrete(&p, "x"))
        })
        .collect();
    let expect_401 = |b: Browser, why: &'static str| {
        let routes = all_routes.clone();
        async move {
            for (m, path) in &routes {
                let (s, v) = b.call(m.clone(), path, Some(json!({}))).await;
                assert_eq!(
                    (s, v["error"]["code"].as_str()),
                    (StatusCode::UNAUTHORIZED, Some("not_signed_in")),
                    "{why}: {m} {path}: {v}"
                );
            }
        }
    };
    expect_401(anon, "no cookie").await;
    let with_cookie = |value: String| {
        let mut b = Browser::new(&w);
        b.cookies.insert("nzsync_session".into(), value);
        b.csrf = a.csrf.clone();
        b
    };
    let mut flipped = real.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'a' { b'b' } else { b'a' };
    let id_hash = w
        .sql_text("SELECT id_hash FROM srv_sessions LIMIT 1", &[])
        .await;
    expect_401(with_cookie("f".repeat(real.len())), "forged").await;
    expect_401(with_cookie(String::from_utf8(flipped).unwrap()), "modified").await;
    expect_401(with_cookie(real[..real.len() - 1].to_owned()), "truncated").await;
    expect_401(with_cookie(format!("{real}x")), "extended").await;
    expect_401(with_cookie(id_hash), "the stored hash as the cookie").await;
    expect_401(with_cookie(real.to_uppercase()), "upper case").await;

    // Another user's CSRF token with this session: 403.
    let mut other = Browser::new(&w);
    other.sign_in("demo@example.com").await;
    let mut mixed = with_cookie(real.clone());
    mixed.csrf = other.csrf.clone();
    assert_ne!(mixed.csrf, a.csrf);
    let (s, v) = mixed
        .call(
            Method::PUT,
            "/api/settings",
            Some(settings_body(false, None)),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("csrf"))
    );

    // Signed out: the old cookie is dead everywhere.
    let (s, _) = a.call(Method::POST, "/auth/logout", None).await;
    assert_eq!(s, StatusCode::OK);
    expect_401(with_cookie(real), "signed out").await;
    // Expired: the other session, once past its expiry.
    w.sql("UPDATE srv_sessions SET expires = 1", &[]).await;
    let (s, _) = other.call(Method::GET, "/api/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let mut stale = Browser::new(&w);
    stale.cookies = other.cookies.clone();
    stale.csrf = other.csrf.clone();
    expect_401(stale, "expired").await;
}

/// Cross-site requests on every state-changing route: no CSRF header, a wrong one, the right
/// one from a foreign `Origin`, an HTML form POST and a `text/plain` "simple" request are all
/// refused with 403, and nothing changed.
#[tokio::test]
async fn cross_site_requests_are_refused_on_every_state_changing_route() {
    let w = world(Seed::Empty).await;
    let (a, _) = connected_admin(&w).await;
    let (u2, u2_id) = connected_user2(&w, &a).await;
    drop(u2);
    let (_, settings_before) = a.call(Method::GET, "/api/settings", None).await;
    let (_, users_before) = a.call(Method::GET, "/api/users", None).await;
    let before = upstream_calls(&w);
    let cases = state_changing(&u2_id);
    assert!(cases.len() >= 18, "{cases:?}");
    let foreign = "http://127.0.0.1:1";
    for (m, path, body) in &cases {
        let what = format!("{m} {path}");
        let (s, v) = a.send(m.clone(), path, body.clone(), false, &[]).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("csrf")),
            "{what} without CSRF: {v}"
        );
        let mut wrong = Browser::new(&w);
        wrong.cookies = a.cookies.clone();
        wrong.csrf = Some("0".repeat(64));
        let (s, v) = wrong.call(m.clone(), path, body.clone()).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("csrf")),
            "{what} wrong CSRF: {v}"
        );
        let (s, v) = a
            .send(m.clone(), path, body.clone(), true, &[("origin", foreign)])
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("cross_origin")),
            "{what} from {foreign}: {v}"
        );
        for (ctype, text) in [
            (
                "application/x-www-form-urlencoded",
                "confirm=true&user=user2%40example.com",
            ),
            ("text/plain", "{\"confirm\":true}"),
            (
                "multipart/form-data; boundary=x",
                "--x\r\nContent-Disposition: form-data; name=\"confirm\"\r\n\r\ntrue\r\n--x--\r\n",
            ),
        ] {
            for origin in [Some(foreign), None] {
                let mut rb = a
                    .http
                    .request(m.clone(), format!("{}{path}", w.base))
                    .header("cookie", a.cookie_header())
                    .header("content-type", ctype)
                    .body(text);
                if let Some(o) = origin {
                    rb = rb.header("origin", o);
                }
                let r = rb.send().await.unwrap();
                assert_eq!(
                    r.status(),
                    StatusCode::FORBIDDEN,
                    "{what} as a {ctype} form from {origin:?}"
                );
            }
        }
    }
    // Nothing changed.
    assert_eq!(
        upstream_calls(&w),
        before,
        "a refused request reached an upstream"
    );
    assert_eq!(
        a.call(Method::GET, "/api/settings", None).await.1,
        settings_before
    );
    let (s, users_after) = a.call(Method::GET, "/api/users", None).await;
    assert_eq!(s, StatusCode::OK, "still signed in, still installed");
    assert_eq!(users_after["users"], users_before["users"]);
    let (s, _) = a.call(Method::POST, "/api/sync/lease", None).await;
    assert_eq!(s, StatusCode::OK, "no lease was taken");
    // The same-origin browser is served.
    let (s, _) = a
        .send(
            Method::PUT,
            "/api/settings",
            Some(settings_body(false, None)),
            true,
            &[("origin", &w.base)],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// Malformed input

/// Cases per run of the malformed-input property (`NZSYNC_FUZZ_CASES`, default 24 × routes).
fn fuzz_cases(per_route: u32) -> u32 {
    std::env::var("NZSYNC_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(per_route)
}

mod fuzz {
    use proptest::prelude::*;
    use serde_json::Value;

    /// Field names the API knows (never `confirm`, so no case uninstalls by chance).
    const KEYS: &[&str] = &[
        "server",
        "user",
        "password",
        "mail_db",
        "contacts",
        "tasks",
        "events",
        "direction",
        "conflict",
        "schedule_minutes",
        "changes",
        "dry_run",
        "allow_mass_delete",
        "delete_crm_records",
        "subject",
        "attendees",
        "location",
        "start",
        "end",
        "reminder_minutes",
        "email",
        "name",
        "type",
        "id",
        "op",
        "module",
        "outcome",
        "started",
        "finished",
        "modules",
        "link",
        "unid",
        "zoho_id",
        "base",
        "q",
    ];

    pub fn odd_string() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => any::<String>(),
            2 => "\\PC{0,40}",
            1 => prop::sample::select(vec![
                "", "\u{0}", "\u{202e}gnp.exe", "e\u{301}\u{301}\u{301}", "\u{feff}",
                "\u{1F600}\u{200d}\u{1F680}", "\u{10FFFF}", "two_way\u{0}", "crm_wins ",
                "TWO_WAY", "-1", "1e309", "NaN", "../../etc/passwd", "%00", "<script>",
                "mail/demo.nsf", "\\\\", "true",
            ])
            .prop_map(str::to_owned),
            1 => (1usize..200_000, prop::sample::select(vec!['a', 'é', '\u{1F600}', '\u{0}']))
                .prop_map(|(n, c)| std::iter::repeat_n(c, n).collect()),
        ]
    }

    pub fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter_map("finite", |f| {
                serde_json::Number::from_f64(f).map(Value::Number)
            }),
            odd_string().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..8)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => prop::sample::select(KEYS).prop_map(str::to_owned),
            1 => odd_string(),
        ]
    }

    /// A known-shaped object with values of any type.
    pub fn shaped() -> impl Strategy<Value = Value> {
        prop::collection::vec((prop::sample::select(KEYS), json()), 0..10)
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
    }

    pub fn body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            2 => json().prop_map(|v| v.to_string().into_bytes()),
            3 => shaped().prop_map(|v| v.to_string().into_bytes()),
            1 => prop::collection::vec(any::<u8>(), 0..512),
            1 => shaped().prop_map(|v| {
                // Truncated JSON.
                let t = v.to_string();
                t.as_bytes()[..t.len() / 2].to_vec()
            }),
            1 => Just(Vec::new()),
            1 => odd_string().prop_map(String::into_bytes),
        ]
    }

    pub fn content_type() -> impl Strategy<Value = Option<&'static str>> {
        prop::sample::select(vec![
            Some("application/json"),
            Some("application/json"),
            Some("application/json; charset=utf-16"),
            Some("application/x-www-form-urlencoded"),
            Some("text/plain"),
            Some("multipart/form-data; boundary=x"),
            Some("application/vnd.api+json"),
            Some("*/*"),
            None,
        ])
    }

    /// [`odd_string`] without the huge ones (URLs have a length limit of their own).
    pub fn short_string() -> impl Strategy<Value = String> {
        odd_string().prop_map(|s| s.chars().take(200).collect())
    }

    pub fn query() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            short_string().prop_map(|s| format!(
                "q={}",
                url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
            )),
            "[a-z%&=+;]{0,40}",
            prop::collection::vec((short_string(), short_string()), 0..6).prop_map(|kv| {
                let mut ser = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in kv {
                    ser.append_pair(&k, &v);
                }
                ser.finish()
            }),
        ]
    }

    pub fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            short_string().prop_map(
                |s| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
            ),
            any::<i64>().prop_map(|n| n.to_string()),
            Just("99999999999999999999999".to_owned()),
            Just("%ff%fe".to_owned()),
        ]
    }
}

/// Property: whatever arrives — any route, method, content type, body, path parameter and
/// query string — the answer is a 2xx/3xx or a 4xx with the JSON error shape, never a 5xx;
/// and the server keeps serving.
#[test]
fn malformed_input_to_every_route_is_a_json_4xx_and_the_server_keeps_serving() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (w, admin) = rt.block_on(async {
        let w = world(Seed::Empty).await;
        let mut admin = Browser::new(&w);
        admin.sign_in("demo@example.com").await;
        (w, admin)
    });
    let canary = rt.block_on(Canary::start());
    let table: Vec<(String, String)> = routes()
        .into_iter()
        .filter(|(_, p)| p != "/auth/logout")
        .collect();
    let n = table.len();
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    let strategy = (
        0..n,
        prop::option::weighted(0.15, prop::sample::select(methods.to_vec())),
        fuzz::segment(),
        fuzz::query(),
        fuzz::content_type(),
        fuzz::body(),
    );
    let mut runner = TestRunner::new(Config {
        cases: fuzz_cases(24) * u32::try_from(n).unwrap(),
        failure_persistence: None,
        ..Config::default()
    });
    let served = std::sync::atomic::AtomicU32::new(0);
    runner
        .run(&strategy, |(i, method, seg, query, ctype, body)| {
            let (routed, path) = &table[i];
            let method = method.map_or_else(
                || {
                    if routed == "ANY" {
                        "POST".to_owned()
                    } else {
                        routed.clone()
                    }
                },
                str::to_owned,
            );
            if body.windows(3).any(|w| w == b"://") && path == "/api/connect" {
                return Ok(()); // Connect reaches whatever URL it is given: loopback only here.
            }
            let path = path
                .replace("{user_id}", &seg)
                .replace("{id}", &seg)
                .replace("{*path}", &format!("crm/v8/{seg}"));
            let url = if query.is_empty() {
                format!("{}{path}", w.base)
            } else {
                format!("{}{path}?{query}", w.base)
            };
            let (status, text) = rt.block_on(async {
                let mut rb = admin
                    .http
                    .request(Method::from_bytes(method.as_bytes()).unwrap(), &url)
                    .header("cookie", admin.cookie_header())
                    .header("x-csrf-token", admin.csrf.clone().unwrap())
                    .body(body.clone());
                if let Some(c) = ctype {
                    rb = rb.header("content-type", c);
                }
                let r = rb.send().await.unwrap();
                (r.status(), r.text().await.unwrap_or_default())
            });
            let url: String = url.chars().take(300).collect();
            let what = format!(
                "{method} {url} ({ctype:?}, {} bytes: {:?})",
                body.len(),
                String::from_utf8_lossy(&body[..body.len().min(200)])
            );
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let proxied_upstream = path.starts_with("/proxy/")
                && (status == StatusCode::BAD_GATEWAY || v["error"].is_null());
            let text: String = text.chars().take(500).collect();
            prop_assert!(
                !status.is_server_error() || proxied_upstream,
                "{what} → {status}: {text}"
            );
            if status.is_client_error() && !proxied_upstream {
                prop_assert!(
                    v["error"]["code"].is_string() && v["error"]["message"].is_string(),
                    "{what} → {status} without a JSON error: {text}"
                );
            }
            if served.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 16 == 15 {
                let (s, _) = rt.block_on(admin.call(Method::GET, "/api/me", None));
                if s != StatusCode::OK {
                    return Err(TestCaseError::fail(format!(
                        "the server stopped serving after {what}"
                    )));
                }
            }
            Ok(())
        })
        .unwrap();
    let (s, _) = rt.block_on(admin.call(Method::GET, "/api/me", None));
    assert_eq!(s, StatusCode::OK);
    assert_eq!(canary.hits(), 0);
    drop(w);
}

// ---------------------------------------------------------------------------------------------
// Secrets

/// Everything at trace level but the WebAssembly compiler's own internals (gigabytes of
/// code-generation traces that never see a secret).
const TRACE_ALL: &str = "trace,cranelift_codegen=info,cranelift_frontend=info,cranelift_wasm=info,\
    regalloc2=info,wasmtime_cranelift=info,wasmtime_environ=info,wasmparser=info,\
    wasmtime_internal_cranelift=info,wasmtime_internal_environ=info,wit_parser=info,\
    wit_component=info";

/// Most bytes a process under test may log (a guard: a runaway log fails the test instead of
/// filling the disk).
const MAX_LOG_BLOCKS: u32 = 512 * 1024; // 512-byte blocks: 256 MiB

/// `nzsync args…` with stdout and stderr to `out`/`err` under a file-size limit.
fn nzsync_logged(
    args: &[&std::ffi::OsStr],
    out: &std::path::Path,
    err: &std::path::Path,
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -f {MAX_LOG_BLOCKS}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_nzsync"))
        .args(args)
        .env("RUST_LOG", TRACE_ALL)
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(std::fs::File::create(err).unwrap())
        .kill_on_drop(true);
    cmd
}

/// The Zoho refresh token the headless CLI run uses (the simulator knows it).
const CLI_REFRESH: &str = "demo-refresh";
const CLIENT_SECRET: &str = "demo-secret";

/// Zoho tokens look like `1000.<32 hex>.<32 hex>`.
fn zoho_token_in(text: &str) -> Option<String> {
    text.match_indices("1000.").find_map(|(i, _)| {
        let w = text.as_bytes().get(i..i + 38)?;
        (w[5..37].iter().all(u8::is_ascii_hexdigit) && w[37] == b'.')
            .then(|| String::from_utf8_lossy(w).into_owned())
    })
}

/// The secret (or its base64, or a Zoho token) found in `bytes`, if any. Base64-looking runs
/// are decoded and searched too.
fn secret_in(bytes: &[u8], secrets: &[String]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let b64 = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .encode(s)
            .trim_end_matches('=')
            .to_owned()
    };
    for s in secrets {
        for needle in [
            s.clone(),
            b64(s),
            url::form_urlencoded::byte_serialize(s.as_bytes()).collect(),
        ] {
            if text.contains(&needle) {
                return Some(format!("{s} (as {needle})"));
            }
        }
    }
    if let Some(t) = zoho_token_in(&text) {
        return Some(format!("a Zoho token {t}"));
    }
    // Decode base64-looking runs (e.g. a Basic header) and look inside.
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_');
    for run in text.split(|c: char| !is_b64(c)).filter(|r| r.len() >= 12) {
        for engine in [
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            if let Ok(decoded) = engine.decode(run) {
                let decoded = String::from_utf8_lossy(&decoded);
                if secrets.iter().any(|s| decoded.contains(s.as_str()))
                    || zoho_token_in(&decoded).is_some()
                {
                    return Some(format!("a secret in base64 {run}"));
                }
            }
        }
    }
    None
}

/// A real `nzsync serve` at `RUST_LOG=trace` through a whole session (sign-in, Connect,
/// Change Password, settings, readiness, a headless sync, history, the proxy both ways,
/// Manage Users, sign-out) and a headless `nzsync sync` at `RUST_LOG=trace`, with a known
/// Domino password and Zoho client secret and refresh token: none of them, nor any Zoho
/// access or refresh token, nor their base64, appears in the logs (stdout and stderr), in any
/// API answer, in the run reports, or in either store file and its write-ahead log.
#[tokio::test]
async fn secrets_never_appear_in_logs_answers_reports_or_store_files() {
    let sims = common::sims(Seed::Demo).await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let master_key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    std::fs::write(
        dir.path().join("server.toml"),
        format!(
            r#"
[server]
listen = "127.0.0.1:{port}"
public_url = "{base}"
[zoho]
client_id = "demo-client"
client_secret = "{CLIENT_SECRET}"
accounts_url = "{z}"
api_domain = "{z}"
[store]
path = "server.db"
[schedule]
enabled = false
[domino]
allowed_servers = ["{d}"]
"#,
            z = sims.zoho_url,
            d = sims.domino_url
        ),
    )
    .unwrap();
    let server_toml = dir.path().join("server.toml");
    let mut server = nzsync_logged(
        &[
            "serve".as_ref(),
            "--config".as_ref(),
            server_toml.as_os_str(),
        ],
        &dir.path().join("serve.out"),
        &dir.path().join("serve.err"),
    )
    .env("NZSYNC_MASTER_KEY", &master_key)
    .spawn()
    .unwrap();
    let up = async {
        loop {
            if client()
                .get(format!("{base}/auth/login"))
                .send()
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), up)
        .await
        .unwrap();

    // A whole session, every answer kept.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut admin = Browser::at(&base, seen.clone());
    admin.sign_in("demo@example.com").await;
    let (s, e) = admin
        .call(
            Method::POST,
            "/api/connect",
            Some(json!({ "server": sims.domino_url, "user": "demo", "password": PASSWORD })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    for (m, path, body) in [
        (
            Method::POST,
            "/api/connect",
            Some(
                json!({ "server": sims.domino_url, "user": "demo", "password": "wrong-password" }),
            ),
        ),
        (
            Method::POST,
            "/api/password",
            Some(json!({ "password": PASSWORD })),
        ),
        (
            Method::PUT,
            "/api/settings",
            Some(settings_body(true, Some(30))),
        ),
        (Method::GET, "/api/settings", None),
        (Method::GET, "/api/me", None),
        (Method::GET, "/api/readiness", None),
        (Method::GET, "/api/users", None),
        (
            Method::POST,
            "/api/users",
            Some(json!({ "user": "user2@example.com" })),
        ),
        (Method::POST, "/api/sync/run", Some(json!({}))),
        (Method::GET, "/api/runs", None),
        (Method::GET, "/api/runs/1", None),
        (Method::GET, "/api/sync/state", None),
        (
            Method::GET,
            "/api/sync/links?module=contacts&limit=10",
            None,
        ),
        (Method::GET, "/api/meetings/attendees?q=a", None),
        (Method::GET, "/proxy/domino/api/data", None),
        (
            Method::GET,
            "/proxy/domino/mail/demo.nsf/api/data/collections/name/%28%24Contacts%29?count=5",
            None,
        ),
        (
            Method::GET,
            "/proxy/zoho/crm/v8/users?type=CurrentUser",
            None,
        ),
        (
            Method::GET,
            "/proxy/zoho/crm/v8/Contacts?fields=Last_Name,Email",
            None,
        ),
    ] {
        let (s, v) = admin.call(m.clone(), path, body).await;
        assert!(!s.is_server_error(), "{m} {path}: {s} {v}");
    }
    let (s, _) = admin.call(Method::POST, "/auth/logout", None).await;
    assert_eq!(s, StatusCode::OK);
    server.start_kill().unwrap();
    let _ = server.wait().await;

    // A headless CLI sync with the secrets from the environment.
    std::fs::write(
        dir.path().join("nzsync.toml"),
        format!(
            r#"[domino]
url = "{d}"
user = "demo"
password_env = "NZSYNC_TEST_DOMINO_PASSWORD"
mail_db = "mail/demo.nsf"
[zoho]
api_domain = "{z}"
accounts_url = "{z}"
client_id = "demo-client"
client_secret_env = "NZSYNC_TEST_ZOHO_SECRET"
refresh_token_env = "NZSYNC_TEST_ZOHO_REFRESH"
[store]
path = "cli.db"
"#,
            d = sims.domino_url,
            z = sims.zoho_url
        ),
    )
    .unwrap();
    let mut cli_output = Vec::new();
    let cli_toml = dir.path().join("nzsync.toml");
    for (i, extra) in [&["--json"][..], &[][..], &["--dry-run"][..]]
        .into_iter()
        .enumerate()
    {
        let (out, err) = (
            dir.path().join(format!("cli{i}.out")),
            dir.path().join(format!("cli{i}.err")),
        );
        let mut args: Vec<&std::ffi::OsStr> =
            vec!["sync".as_ref(), "--config".as_ref(), cli_toml.as_os_str()];
        args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
        let status = nzsync_logged(&args, &out, &err)
            .env("NZSYNC_TEST_DOMINO_PASSWORD", PASSWORD)
            .env("NZSYNC_TEST_ZOHO_SECRET", CLIENT_SECRET)
            .env("NZSYNC_TEST_ZOHO_REFRESH", CLI_REFRESH)
            .status()
            .await
            .unwrap();
        let err = std::fs::read(&err).unwrap();
        assert!(
            status.success(),
            "{status}: {}",
            String::from_utf8_lossy(&err[err.len().saturating_sub(2000)..])
        );
        cli_output.extend(std::fs::read(&out).unwrap());
        cli_output.extend(err);
    }
    // Everything captured.
    let secrets: Vec<String> = [
        PASSWORD.to_owned(),
        format!("demo:{PASSWORD}"),
        CLIENT_SECRET.to_owned(),
        CLI_REFRESH.to_owned(),
        master_key.clone(),
    ]
    .into();
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap_or_default();
    let server_log = [read("serve.out"), read("serve.err")].concat();
    assert!(
        String::from_utf8_lossy(&server_log).contains("TRACE"),
        "the server logged at trace level"
    );
    assert!(
        String::from_utf8_lossy(&cli_output).contains("TRACE"),
        "the CLI logged at trace level"
    );
    let cli_reports: Vec<u8> = {
        let conn = rusqlite::Connection::open(dir.path().join("cli.db")).unwrap();
        let mut stmt = conn.prepare("SELECT * FROM runs").unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| {
            Ok((0..n)
                .map(|i| match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        t.to_vec()
                    }
                    _ => Vec::new(),
                })
                .collect::<Vec<_>>()
                .concat())
        })
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
        .concat()
    };
    assert!(!cli_reports.is_empty(), "the CLI recorded its runs");
    let answers = seen.lock().unwrap().join("\n").into_bytes();
    assert!(
        String::from_utf8_lossy(&answers).contains("\"modules\""),
        "the answers include a run report"
    );
    let mut places = vec![
        ("the server's log", server_log),
        ("the CLI's output and log", cli_output),
        ("the API's answers", answers),
        ("the CLI's run reports", cli_reports),
    ];
    for file in ["server.db", "server.db-wal", "cli.db", "cli.db-wal"] {
        places.push((file, read(file)));
    }
    for (what, bytes) in &places {
        if let Some(found) = secret_in(bytes, &secrets) {
            panic!("{what} holds {found}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The network: Domino servers users may reach (SSRF), framing, the proxy's memory
//
// Every address below that is not loopback is refused before any connection is made (the
// server's Domino client counts its connections, and in these worlds it connects from
// 127.0.0.1, so even a mistake could not leave the machine); names resolve through the
// world's test resolver, never a DNS server.

/// A headless run of `admin`'s stored server (`what` names it) does not get through.
async fn assert_headless_run_refused(admin: &Browser, what: &str) {
    let (s, run) = admin
        .call(Method::POST, "/api/sync/run", Some(json!({})))
        .await;
    assert!(
        s != StatusCode::OK || run["report"]["outcome"] == "failed",
        "{what}: a headless run got through: {s} {run}"
    );
}

/// Connect as `b` to `server`.
async fn connect_to(b: &Browser, server: &str) -> (StatusCode, Value) {
    connect_through(b, server, "das").await
}

/// Connect to `server` through the Domino `api` (`das`, `rest` or `auto`).
async fn connect_through(b: &Browser, server: &str, api: &str) -> (StatusCode, Value) {
    b.call(
        Method::POST,
        "/api/connect",
        Some(json!({ "server": server, "user": "demo", "password": PASSWORD, "api": api })),
    )
    .await
}

/// The one answer Connect gives for a server it cannot use; its message.
fn cannot_use(s: StatusCode, v: &Value, what: &str) -> String {
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {v}");
    assert_eq!(v["error"]["code"], "cannot_use_server", "{what}: {v}");
    v["error"]["message"].as_str().unwrap().to_owned()
}

/// Loopback in every spelling, private, CGNAT, link-local, metadata, multicast and
/// IPv4-mapped addresses, as URLs (`port`: the canary's) and as names that resolve to them.
fn internal_servers(port: u16) -> Vec<String> {
    let mut out: Vec<String> = [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f.0.0.1",
        "0x7f000001",
        "0177.0.0.1",
        "127.0.0.1.",
        "127.0.0.2",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
        "0.0.0.0",
        "0",
        "[::]",
        "localhost",
        "localhost.",
        "LOCALHOST",
        "api.localhost",
        "loop.test",
        "mapped.test",
    ]
    .iter()
    .map(|h| format!("http://{h}:{port}"))
    .collect();
    out.push(format!("https://127.0.0.1:{port}"));
    out.extend(
        [
            "http://10.0.0.1",
            "http://10.255.255.254:8080",
            "http://172.16.0.1",
            "http://172.31.255.254",
            "http://192.168.0.1",
            "http://100.64.0.1",
            "http://100.100.100.200",
            "http://169.254.169.254",
            "http://169.254.169.254./latest/meta-data",
            "http://0xa9fea9fe",
            "http://2852039166",
            "http://[::ffff:169.254.169.254]",
            "http://[::ffff:10.0.0.1]",
            "http://[64:ff9b::a9fe:a9fe]",
            "http://[2002:a9fe:a9fe::1]",
            "http://[fe80::1]",
            "http://[fc00::1]",
            "http://[fd00:ec2::254]",
            "http://224.0.0.1",
            "http://[ff02::1]",
            "http://internal.test",
            "http://metadata.test",
            "http://mixed.test",
            "http://nowhere.test",
        ]
        .map(str::to_owned),
    );
    out
}

fn program_internal_names(w: &World) {
    w.resolver.set("loop.test", &[&["127.0.0.1"]]);
    w.resolver.set("mapped.test", &[&["::ffff:127.0.0.1"]]);
    w.resolver.set("internal.test", &[&["10.1.2.3"]]);
    w.resolver.set("metadata.test", &[&["169.254.169.254"]]);
    // One public address does not make a private one acceptable.
    w.resolver
        .set("mixed.test", &[&["93.184.216.34", "10.0.0.1"]]);
}

/// SSRF through the Domino server a user types: every loopback spelling, private range,
/// link-local and metadata address — and names that resolve to them — is refused at Connect
/// with one answer, before any connection, whichever Domino API is asked for: the canary hears
/// nothing and the server's Domino client opens no connection. Refused both by an operator's
/// list that does not name them and, with no list, by the public-addresses rule. A stored
/// server outside the rule is refused by the proxy, the readiness check and a headless run
/// alike.
#[tokio::test]
async fn connect_refuses_every_loopback_and_private_spelling_without_connecting() {
    let canary = Canary::start().await;
    let servers = internal_servers(canary.port());

    // 1. The operator's list names only the Domino simulator.
    let w = world(Seed::Empty).await;
    program_internal_names(&w);
    let (admin, admin_id) = connected_admin(&w).await;
    let opened = w.state.domino_access().connection_attempts();
    let mut messages = BTreeSet::new();
    for server in &servers {
        // Whichever Domino API is asked for (`auto` would log in to the REST API first).
        for api in ["das", "rest", "auto"] {
            let (s, v) = connect_through(&admin, server, api).await;
            messages.insert(cannot_use(s, &v, &format!("{server} ({api})")));
        }
    }
    assert_eq!(messages.len(), 1, "Connect's answers differ: {messages:?}");
    let (_, me) = admin.call(Method::GET, "/api/me", None).await;
    assert_eq!(
        me["domino"]["server"], w.sims.domino_url,
        "a refused Connect changed the stored server: {me}"
    );

    // A stored server outside the rule (the list changed, or it was stored before): the
    // proxy, the readiness check and a headless run (what scheduled syncs do) refuse it.
    for (i, server) in [
        format!("http://127.1:{}", canary.port()),
        format!("http://[::ffff:127.0.0.1]:{}", canary.port()),
        format!("http://loop.test:{}", canary.port()),
        "http://169.254.169.254".to_owned(),
    ]
    .into_iter()
    .enumerate()
    {
        set_domino_url(&w, &admin_id, &server).await;
        let (s, v) = admin
            .call(Method::GET, "/proxy/domino/api/data", None)
            .await;
        assert_eq!(s, StatusCode::BAD_GATEWAY, "{server}: {v}");
        assert_eq!(v["error"]["code"], "cannot_use_server", "{server}: {v}");
        let (s, ready) = admin.call(Method::GET, "/api/readiness", None).await;
        assert_eq!(s, StatusCode::OK, "{ready}");
        assert_eq!(ready["ready"], false, "{server}: {ready}");
        if i == 0 {
            // (A run retries for a while before it gives up: once is enough.)
            assert_headless_run_refused(&admin, &server).await;
        }
    }
    assert_eq!(
        w.state.domino_access().connection_attempts(),
        opened,
        "a refused server was connected to"
    );

    // 2. No list: any server, but only at a public address (the simulator is on loopback,
    //    so it is refused too).
    let open = common::world_with(
        Seed::Empty,
        |_| common::WorldOptions {
            allowed_servers: None,
            ..common::WorldOptions::default()
        },
        |_| {},
    )
    .await;
    program_internal_names(&open);
    let mut b = Browser::new(&open);
    b.sign_in("demo@example.com").await;
    let mut open_messages = BTreeSet::new();
    for server in servers.iter().chain([&open.sims.domino_url]) {
        let (s, v) = connect_to(&b, server).await;
        open_messages.insert(cannot_use(s, &v, server));
    }
    assert_eq!(
        open_messages, messages,
        "the answers differ between the two rules"
    );
    assert_eq!(open.state.domino_access().connection_attempts(), 0);
    let (_, me) = b.call(Method::GET, "/api/me", None).await;
    assert_eq!(me["connected"], false, "{me}");
    assert_eq!(canary.hits(), 0, "a refused server was reached");
}

/// DNS rebinding: a name answers a public address when Connect checks it, then a private one
/// when the server connects. The resolver hook decides at the moment of connecting, so Connect
/// refuses, and a server stored while its name was public (then rebound) is refused by the
/// proxy, the readiness check and a headless run: the canary behind the private address hears
/// nothing, and no connection is opened — the public address is never connected to either.
#[tokio::test]
async fn dns_rebinding_from_public_to_private_reaches_nothing() {
    let canary = Canary::start().await;
    let port = canary.port();
    // A `*.domain` pattern: its servers may only be at public addresses.
    let w = common::world_with(
        Seed::Empty,
        |sims| common::WorldOptions {
            allowed_servers: Some(vec![
                sims.domino_url.clone(),
                format!("http://*.rebind.test:{port}"),
            ]),
            ..common::WorldOptions::default()
        },
        |_| {},
    )
    .await;
    let (admin, admin_id) = connected_admin(&w).await;
    let opened = w.state.domino_access().connection_attempts();

    // At Connect: public for the check, loopback for the connection.
    w.resolver
        .set("a.rebind.test", &[&["93.184.216.34"], &["127.0.0.1"]]);
    let (s, v) = connect_to(&admin, &format!("http://a.rebind.test:{port}")).await;
    cannot_use(s, &v, "a.rebind.test");
    assert!(
        w.resolver.lookups("a.rebind.test") >= 2,
        "the name was not looked up again when connecting"
    );

    // Stored while public, rebound since: to loopback, to a private address, to both.
    w.resolver.set("b.rebind.test", &[&["127.0.0.1"]]);
    w.resolver.set("c.rebind.test", &[&["10.1.2.3"]]);
    w.resolver
        .set("d.rebind.test", &[&["169.254.169.254", "127.0.0.1"]]);
    for name in ["b.rebind.test", "c.rebind.test", "d.rebind.test"] {
        set_domino_url(&w, &admin_id, &format!("http://{name}:{port}")).await;
        let before = w.resolver.lookups(name);
        let (s, v) = admin
            .call(Method::GET, "/proxy/domino/api/data", None)
            .await;
        assert_eq!(s, StatusCode::BAD_GATEWAY, "{name}: {v}");
        let (_, ready) = admin.call(Method::GET, "/api/readiness", None).await;
        assert_eq!(ready["ready"], false, "{name}: {ready}");
        if name == "b.rebind.test" {
            // (A run retries for a while before it gives up: once is enough.)
            assert_headless_run_refused(&admin, name).await;
        }
        assert!(
            w.resolver.lookups(name) > before,
            "{name} was not resolved at the requests"
        );
    }
    assert_eq!(canary.hits(), 0, "a rebound name reached the canary");
    assert_eq!(
        w.state.domino_access().connection_attempts(),
        opened,
        "a rebound name was connected to"
    );
}

/// Connect as a port scanner: a closed port, an open port that answers 404, one that answers
/// a web page, one that speaks another protocol, one that hangs up, a server outside the list
/// and a name that does not resolve all get the same answer — no status, no connection error,
/// nothing that tells them apart.
#[tokio::test]
async fn connect_answers_the_same_for_closed_ports_and_servers_that_are_not_domino() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let answer = |raw: &'static [u8]| {
        RawUpstream::start(move |mut sock, _| async move {
            let _ = sock.write_all(raw).await;
        })
    };
    let open404 = answer(b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\nnot found").await;
    let page = answer(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 22\r\n\r\n<html>a router</html>\n",
    )
    .await;
    let ssh = answer(b"SSH-2.0-OpenSSH_9.6\r\n").await;
    let hangs_up = answer(b"").await;
    let listed = [
        closed.as_str(),
        open404.url.as_str(),
        page.url.as_str(),
        ssh.url.as_str(),
        hangs_up.url.as_str(),
        "http://nowhere.test",
    ];
    let w = common::world_allowing(Seed::Empty, &listed).await;
    let mut b = Browser::new(&w);
    b.sign_in("demo@example.com").await;
    let unlisted = Canary::start().await;
    let mut answers = BTreeSet::new();
    for server in listed.iter().copied().chain([unlisted.url().as_str()]) {
        let (s, v) = connect_to(&b, server).await;
        cannot_use(s, &v, server);
        answers.insert((s.as_u16(), v.to_string()));
    }
    assert_eq!(
        answers.len(),
        1,
        "Connect tells these servers apart: {answers:#?}"
    );
    assert!(
        open404.hits() >= 1 && page.hits() >= 1,
        "the listed servers were asked"
    );
    assert_eq!(unlisted.hits(), 0);
}

/// The `frame-ancestors` sources of a Content-Security-Policy.
fn frame_ancestors(csp: &str) -> BTreeSet<String> {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix("frame-ancestors "))
        .unwrap_or_else(|| panic!("no frame-ancestors in {csp:?}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Clickjacking: every HTML page of the server (the widget, the sign-in popup's page) may be
/// framed only by the server itself, Zoho CRM (every data centre, and Zoho's widget hosts)
/// and the operator's `frame_ancestors`, with `X-Frame-Options` for browsers without CSP; its
/// scripts are only the server's own files, the WebAssembly they compile and the inline boot
/// script by hash. Every other answer may not be framed at all, and every answer carries
/// `nosniff` and a `Referrer-Policy`. An HTML page a Domino server answers through the proxy
/// is sandboxed, never a page of the server's origin.
#[tokio::test]
async fn only_the_crm_may_frame_the_widget_and_every_answer_has_the_security_headers() {
    let html_upstream = RawUpstream::start(|mut sock, _| async move {
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 38\r\n\r\n<script>alert(document.cookie)</script>")
            .await;
    })
    .await;
    let extra = "https://crm.example.com";
    let w = common::world_with(
        Seed::Empty,
        |sims| common::WorldOptions {
            allowed_servers: Some(vec![sims.domino_url.clone(), html_upstream.url.clone()]),
            server_keys: format!("frame_ancestors = [\"{extra}\"]"),
            ..common::WorldOptions::default()
        },
        |_| {},
    )
    .await;
    let (admin, admin_id) = connected_admin(&w).await;
    let mut answers: Vec<(String, reqwest::Response)> = Vec::new();
    let http = client();
    for path in [
        "/",
        "/widget/widget.js",
        "/widget/widget_bg.wasm",
        "/healthz",
        "/auth/popup.js",
        "/auth/login",
        "/api/me",
        "/no/such/page",
    ] {
        answers.push((
            path.to_owned(),
            http.get(format!("{}{path}", w.base)).send().await.unwrap(),
        ));
    }
    // The sign-in popup's page, at the end of a popup sign-in.
    let mut popup = Browser::new(&w);
    let r = popup
        .get_raw(&format!("{}/auth/login?popup=1", w.base))
        .await;
    let consent = common::location(&r);
    let url = url::Url::parse(&consent).unwrap();
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    form.push(("user".into(), "demo@example.com".into()));
    let r = popup
        .http
        .post(format!(
            "{}/oauth/v2/auth",
            url.origin().ascii_serialization()
        ))
        .header("content-type", common::FORM)
        .body(common::form_body(&form))
        .send()
        .await
        .unwrap();
    let callback = common::location(&r);
    answers.push((
        "/auth/callback (popup)".to_owned(),
        popup.get_raw(&callback).await,
    ));
    // A Domino server's HTML answer through the proxy.
    set_domino_url(&w, &admin_id, &html_upstream.url).await;
    answers.push((
        "/proxy/domino/page".to_owned(),
        admin
            .http
            .get(format!("{}/proxy/domino/page", w.base))
            .header("cookie", admin.cookie_header())
            .send()
            .await
            .unwrap(),
    ));

    let mut expected: BTreeSet<String> = nzsync::web::ZOHO_FRAME_ANCESTORS
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    expected.insert("'self'".into());
    expected.insert(extra.into());
    for crm in [
        "https://crm.zoho.com",
        "https://crm.zoho.eu",
        "https://crm.zoho.jp",
    ] {
        assert!(expected.contains(crm), "{crm} is not a frame ancestor");
    }
    let mut pages = BTreeSet::new();
    for (path, r) in &answers {
        let h = r.headers();
        let get = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(get("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(get("referrer-policy"), "same-origin", "{path}");
        let csp = get("content-security-policy");
        let proxied = path.starts_with("/proxy/");
        let html = get("content-type").starts_with("text/html");
        if html && !proxied {
            pages.insert(path.clone());
            assert_eq!(frame_ancestors(&csp), expected, "{path}: {csp}");
            assert_eq!(get("x-frame-options"), "SAMEORIGIN", "{path}");
            let scripts = csp
                .split(';')
                .map(str::trim)
                .find(|d| d.starts_with("script-src "))
                .unwrap_or_default();
            assert!(
                scripts.starts_with("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
                "{path}: {csp}"
            );
            assert!(
                !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
                "{path}: {csp}"
            );
            assert!(csp.starts_with("default-src 'none'"), "{path}: {csp}");
        } else {
            assert_eq!(
                frame_ancestors(&csp),
                BTreeSet::from(["'none'".to_owned()]),
                "{path}: {csp}"
            );
            assert_eq!(get("x-frame-options"), "DENY", "{path}");
        }
        if proxied {
            assert!(html, "the proxied answer kept its type");
            assert!(
                csp.split(';').any(|d| d.trim() == "sandbox"),
                "{path}: {csp}"
            );
        }
    }
    assert_eq!(
        pages,
        BTreeSet::from(["/".to_owned(), "/auth/callback (popup)".to_owned()]),
        "the server's HTML pages"
    );
}

/// `VmRSS` or `VmHWM` (peak) of process `pid`, bytes.
fn proc_memory(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    kib * 1024
}

/// One user's "Domino server" answers 60 MB to every request, and they send many at once;
/// then another user joins. A real `nzsync serve` streams each admitted answer whole, refuses
/// the first user's requests beyond `max_in_flight_per_user` and everybody's beyond the memory
/// budget with 429 and `Retry-After`, and its peak resident memory (`/proc/{pid}/status`)
/// grows by less than the budget. (Buffered whole, these answers took it from 21 MB to
/// 1.5 GB.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn proxy_memory_bomb_is_refused_with_429_and_memory_stays_within_the_budget() {
    const ANSWER: usize = 60 * 1024 * 1024;
    const PER_USER: usize = 8;
    const BUDGET_MIB: u64 = 24;
    let bomb = RawUpstream::start(|mut sock, _| async move {
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {ANSWER}\r\n\r\n"
        );
        if sock.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let block = vec![b' '; 1024 * 1024];
        for _ in 0..ANSWER / block.len() {
            if sock.write_all(&block).await.is_err() {
                return;
            }
        }
    })
    .await;
    let sims = common::sims(Seed::Empty).await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[server]
listen = "127.0.0.1:{port}"
public_url = "{base}"
[zoho]
client_id = "demo-client"
client_secret = "demo-secret"
accounts_url = "{z}"
api_domain = "{z}"
[store]
path = "server.db"
[schedule]
enabled = false
[domino]
allowed_servers = ["{d}", "{bomb}"]
[proxy]
max_in_flight_per_user = {PER_USER}
memory_budget_mib = {BUDGET_MIB}
"#,
            z = sims.zoho_url,
            d = sims.domino_url,
            bomb = bomb.url,
        ),
    )
    .unwrap();
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
        .args(["serve", "--config"])
        .arg(&config)
        .env(
            "NZSYNC_MASTER_KEY",
            base64::engine::general_purpose::STANDARD.encode([9u8; 32]),
        )
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = server.id().unwrap();
    tokio::time::timeout(Duration::from_secs(60), async {
        while client()
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_err()
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap();

    // Two users, each connected to the simulator, then pointed at the bomb.
    let seen = std::sync::Arc::default();
    let mut a = Browser::at(&base, std::sync::Arc::clone(&seen));
    a.sign_in("demo@example.com").await;
    let (s, e) = connect_to(&a, &sims.domino_url).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, e) = a
        .call(
            Method::POST,
            "/api/users",
            Some(json!({ "user": "user2@example.com" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let mut b = Browser::at(&base, seen);
    b.sign_in("user2@example.com").await;
    let (s, e) = b
        .call(
            Method::POST,
            "/api/connect",
            Some(json!({ "server": sims.domino_url, "user": "user2", "password": PASSWORD2 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    rusqlite::Connection::open(dir.path().join("server.db"))
        .unwrap()
        .execute("UPDATE srv_users SET domino_url = ?1", [&bomb.url])
        .unwrap();
    // Warm up (the proxy's first use), then the baseline.
    let (s, _) = a.call(Method::GET, "/api/me", None).await;
    assert_eq!(s, StatusCode::OK);
    let baseline = proc_memory(pid, "VmRSS:");

    #[derive(Debug)]
    enum Outcome {
        Streamed(usize),
        Refused(String),
    }
    let (headers_tx, mut headers_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let fire = |who: &Browser, n: usize| {
        (0..n)
            .map(|i| {
                let request = who
                    .http
                    .get(format!(
                        "{base}/proxy/domino/mail/demo.nsf/api/data/documents/{i}"
                    ))
                    .header("cookie", who.cookie_header());
                let headers_tx = headers_tx.clone();
                tokio::spawn(async move {
                    let mut r = request.send().await.unwrap();
                    let _ = headers_tx.send(());
                    if r.status() == StatusCode::TOO_MANY_REQUESTS {
                        let retry = r.headers().get("retry-after").cloned();
                        let v: Value = r.json().await.unwrap();
                        assert!(retry.is_some(), "429 without Retry-After: {v}");
                        assert_eq!(v["error"]["code"], "too_many_requests", "{v}");
                        return Outcome::Refused(v["error"]["message"].to_string());
                    }
                    assert_eq!(r.status(), StatusCode::OK);
                    // A slow reader first: the answers pile up against the server's buffers.
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    let mut got = 0;
                    while let Some(chunk) = r.chunk().await.unwrap() {
                        got += chunk.len();
                    }
                    Outcome::Streamed(got)
                })
            })
            .collect::<Vec<_>>()
    };
    // The first user's 32 at once (the most they may have in flight is 8), then the second
    // user's 8 (the budget has room for 12 in all).
    let first = fire(&a, 32);
    for _ in 0..first.len() {
        headers_rx.recv().await.unwrap();
    }
    let second = fire(&b, 8);
    let mut outcomes = Vec::new();
    for (who, tasks) in [("a", first), ("b", second)] {
        for t in tasks {
            outcomes.push((who, t.await.unwrap()));
        }
    }
    let peak = proc_memory(pid, "VmHWM:");
    let streamed = |who: &str| {
        outcomes
            .iter()
            .filter(|(w, o)| *w == who && matches!(o, Outcome::Streamed(_)))
            .count()
    };
    for (who, o) in &outcomes {
        if let Outcome::Streamed(got) = o {
            assert_eq!(
                *got, ANSWER,
                "{who}: an admitted answer was not passed on whole"
            );
        }
    }
    let refused_because = |who: &str, words: &str| {
        outcomes
            .iter()
            .any(|(w, o)| *w == who && matches!(o, Outcome::Refused(m) if m.contains(words)))
    };
    assert_eq!(streamed("a"), PER_USER, "{outcomes:?}");
    assert!(refused_because("a", "in flight"), "{outcomes:?}");
    assert!(streamed("b") >= 1, "{outcomes:?}");
    assert!(refused_because("b", "busy"), "{outcomes:?}");
    let budget = BUDGET_MIB * 1024 * 1024;
    eprintln!(
        "memory bomb: baseline RSS {} MiB, peak {} MiB (+{} KiB; budget {BUDGET_MIB} MiB); \
         streamed {} + {} answers of 60 MiB",
        baseline >> 20,
        peak >> 20,
        peak.saturating_sub(baseline) >> 10,
        streamed("a"),
        streamed("b")
    );
    assert!(
        peak.saturating_sub(baseline) < budget,
        "the server grew from {baseline} to {peak} bytes, more than the {budget}-byte budget"
    );
    // It still serves.
    let (s, _) = a.call(Method::GET, "/api/me", None).await;
    assert_eq!(s, StatusCode::OK);
    server.kill().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Admin, Zoho's token endpoint and the admin's set-up (issue #13, findings 2, 5 and 7)

/// POSTs `body` to a `/_sim/` route, expecting success.
async fn sim_control(base: &str, path: &str, body: Value) {
    let r = client()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert!(
        status.is_success(),
        "{path}: {status} {}",
        r.text().await.unwrap()
    );
}

/// Makes the CRM user `email` an administrator or not, as a CRM admin does in Zoho's Setup.
async fn set_crm_profile(w: &World, email: &str, profile: &str) {
    sim_control(
        &w.sims.zoho_url,
        "/_sim/config",
        json!({ "user_profiles": { email: profile } }),
    )
    .await;
}

async fn user_id(b: &Browser) -> String {
    let (_, me) = b.call(Method::GET, "/api/me", None).await;
    me["user_id"].as_str().unwrap().to_owned()
}

/// `b` is nobody's admin: not enabled (for `reason`), and every admin route is refused.
async fn assert_not_admin(b: &Browser, reason: &str, someone: &str) {
    let (s, me) = b.call(Method::GET, "/api/me", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["admin"], false, "{me}");
    assert_eq!(me["enabled"], false, "{me}");
    assert_eq!(me["reason"], reason, "{me}");
    for (m, path, body) in [
        (Method::GET, "/api/users".to_owned(), None),
        (
            Method::POST,
            "/api/users".to_owned(),
            Some(json!({ "user": "user2@example.com" })),
        ),
        (Method::POST, format!("/api/users/{someone}/admin"), None),
        (Method::POST, format!("/api/users/{someone}/stop"), None),
        (Method::DELETE, format!("/api/users/{someone}"), None),
        (Method::POST, "/api/setup".to_owned(), None),
        (
            Method::POST,
            "/api/uninstall".to_owned(),
            Some(json!({ "confirm": true, "delete_crm_records": true })),
        ),
    ] {
        let (s, v) = b.call(m.clone(), &path, body).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{m} {path}: {v}");
        assert_json_error(s, &v, &path);
    }
}

/// Attack "first-sign-in admin": on a fresh server and again after the org's uninstall, a CRM
/// user without admin rights (Zoho's Standard profile) signs in first. They install nothing
/// and become nobody's admin: user management, set-up and uninstall are refused. A CRM
/// administrator's sign-in installs the integration; the admin hands the role only to another
/// CRM administrator; an admin whom Zoho no longer shows as an administrator stops being the
/// admin at their next sign-in, and a CRM administrator's sign-in takes the role back.
#[tokio::test]
async fn first_sign_in_admin_a_non_administrator_never_becomes_the_admin() {
    let w = world(Seed::Demo).await;
    let mut first = Browser::new(&w);
    first.sign_in("user2@example.com").await;
    assert_not_admin(&first, "not_installed", "5725767000000411001").await;

    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    let (_, me) = admin.call(Method::GET, "/api/me", None).await;
    assert_eq!(
        (me["enabled"].clone(), me["admin"].clone()),
        (json!(true), json!(true))
    );
    let admin_id = user_id(&admin).await;
    // The org's uninstall, then the same race again.
    let (s, v) = admin
        .call(
            Method::POST,
            "/api/uninstall",
            Some(json!({ "confirm": true })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut first = Browser::new(&w);
    first.sign_in("user2@example.com").await;
    assert_not_admin(&first, "not_installed", &admin_id).await;

    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    let (_, me) = admin.call(Method::GET, "/api/me", None).await;
    assert_eq!(me["admin"], true, "{me}");
    let (s, v) = admin
        .call(
            Method::POST,
            "/api/users",
            Some(json!({ "user": "user2@example.com" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut u2 = Browser::new(&w);
    u2.sign_in("user2@example.com").await;
    let u2_id = user_id(&u2).await;
    let (_, me) = u2.call(Method::GET, "/api/me", None).await;
    assert_eq!(
        (me["enabled"].clone(), me["admin"].clone()),
        (json!(true), json!(false))
    );
    let (s, _) = u2.call(Method::GET, "/api/users", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Handing the role to somebody who is not a CRM administrator is refused.
    let (_, users) = admin.call(Method::GET, "/api/users", None).await;
    let row = |users: &Value, id: &str| {
        users["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["user_id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(row(&users, &u2_id)["can_be_admin"], false, "{users}");
    let (s, v) = admin
        .call(Method::POST, &format!("/api/users/{u2_id}/admin"), None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "not_crm_admin", "{v}");
    let (_, me) = u2.call(Method::GET, "/api/me", None).await;
    assert_eq!(me["admin"], false);
    // A CRM administrator can take it over; the previous admin is then an ordinary user.
    set_crm_profile(&w, "user2@example.com", "Administrator").await;
    let (_, users) = admin.call(Method::GET, "/api/users", None).await;
    assert_eq!(row(&users, &u2_id)["can_be_admin"], true, "{users}");
    let (s, v) = admin
        .call(Method::POST, &format!("/api/users/{u2_id}/admin"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = admin.call(Method::GET, "/api/users", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = u2.call(Method::GET, "/api/users", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(row(&v, &u2_id)["admin"], true, "{v}");
    assert_eq!(row(&v, &admin_id)["admin"], false, "{v}");
    // Zoho takes user2's administrator profile away: their next sign-in ends their role.
    set_crm_profile(&w, "user2@example.com", "Standard").await;
    let mut u2 = Browser::new(&w);
    u2.sign_in("user2@example.com").await;
    let (_, me) = u2.call(Method::GET, "/api/me", None).await;
    assert_eq!(
        (me["enabled"].clone(), me["admin"].clone()),
        (json!(true), json!(false))
    );
    let (s, _) = u2.call(Method::GET, "/api/users", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The org has no admin now: a CRM administrator's sign-in takes the role.
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    let (_, me) = admin.call(Method::GET, "/api/me", None).await;
    assert_eq!(me["admin"], true, "{me}");
}

/// Attack "first-sign-in admin", operator's side: a CRM user the operator names in `[admins]`
/// may install the integration without being a CRM administrator; naming gives nothing in an
/// org that has an admin, and nobody else's first sign-in installs anything.
#[tokio::test]
async fn first_sign_in_admin_only_the_operators_named_user_may_install_without_crm_admin() {
    let w = common::world_with_config(
        Seed::Demo,
        "[admins]\ncrm_users = [\"USER2@example.com\"]\n",
        |_| {},
    )
    .await;
    let mut other = Browser::new(&w);
    other.sign_in("miho.yamaguchi@example.com").await;
    assert_not_admin(&other, "not_installed", "5725767000000411001").await;
    let mut named = Browser::new(&w);
    named.sign_in("user2@example.com").await;
    let (_, me) = named.call(Method::GET, "/api/me", None).await;
    assert_eq!(me["admin"], true, "{me}");
    // The CRM administrator is not the admin of an org that has one, and is not even enabled.
    let mut crm_admin = Browser::new(&w);
    crm_admin.sign_in("demo@example.com").await;
    let (_, me) = crm_admin.call(Method::GET, "/api/me", None).await;
    assert_eq!(
        (me["enabled"].clone(), me["reason"].clone()),
        (json!(false), json!("not_added"))
    );
}

/// The CLI's config for the simulators, with its store in `dir`.
fn cli_config(
    sims: &nzsync_sim::Simulators,
    dir: &std::path::Path,
    refresh: &str,
) -> std::path::PathBuf {
    let path = dir.join("nzsync.toml");
    std::fs::write(
        &path,
        format!(
            r#"[domino]
url = "{d}"
user = "demo"
password = "{PASSWORD}"
mail_db = "mail/demo.nsf"
[zoho]
api_domain = "{z}"
accounts_url = "{z}"
client_id = "demo-client"
client_secret = "{CLIENT_SECRET}"
refresh_token = "{refresh}"
[store]
path = "cli.db"
"#,
            d = sims.domino_url,
            z = sims.zoho_url
        ),
    )
    .unwrap();
    path
}

/// `nzsync sync --config config` with `env`: (exit code, stdout, stderr).
async fn cli_sync(config: &std::path::Path, env: &[(&str, &str)]) -> (i32, String, String) {
    cli("sync", config, env).await
}

/// `nzsync <command> --config config` with `env`: (exit code, stdout, stderr).
async fn cli(
    command: &str,
    config: &std::path::Path,
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
        .args([command, "--config"])
        .arg(config)
        .envs(env.iter().copied())
        .env("NZSYNC_CACHE_DIR", "")
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The token endpoint's answers so far: one status per request (0: dropped).
fn token_calls(sims: &nzsync_sim::Simulators) -> Vec<u16> {
    sims.zoho()
        .calls()
        .into_iter()
        .filter(|c| c.path == "/oauth/v2/token")
        .map(|c| c.status)
        .collect()
}

/// Attack "token blips" on the CLI: Zoho's token endpoint answers 503, then 429, then drops the
/// connection. `nzsync sync` rides them out (backoff) and completes; the next run, a minute
/// later as a schedule would start it, reuses the access token from its store (no refresh at
/// all), where the token is kept only encrypted.
#[tokio::test(flavor = "multi_thread")]
async fn token_blips_are_retried_and_the_run_converges() {
    let sims = common::sims(Seed::Demo).await;
    let dir = tempfile::tempdir().unwrap();
    let config = cli_config(&sims, dir.path(), CLI_REFRESH);
    sim_control(
        &sims.zoho_url,
        "/_sim/faults",
        json!({ "rules": [
            { "kind": "status", "status": 503, "path_prefix": "/oauth/v2/token", "times": 1 },
            { "kind": "status", "status": 429, "path_prefix": "/oauth/v2/token", "times": 1 },
            { "kind": "drop", "path_prefix": "/oauth/v2/token", "times": 1 },
        ] }),
    )
    .await;
    let (code, out, err) = cli_sync(&config, &[]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.starts_with("Sync report: completed"), "{out}");
    assert_eq!(token_calls(&sims), [503, 429, 0, 200]);
    let (code, out, err) = cli_sync(&config, &[]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        token_calls(&sims).len(),
        4,
        "the second run refreshed instead of reusing the cached token"
    );
    for file in ["cli.db", "cli.db-wal"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
        assert!(
            zoho_token_in(&String::from_utf8_lossy(&bytes)).is_none(),
            "{file} holds an access token in clear"
        );
    }
    // Another refresh token (a re-authorised client) cannot use the cached token: it refreshes.
    let other = cli_config(&sims, dir.path(), "user2-refresh");
    let (code, out, err) = cli("check", &other, &[]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(token_calls(&sims).len(), 5);
}

/// Attack "token blips", what cannot be ridden out: a refused grant is reported as refused
/// credentials (and not retried); Zoho's limit of 10 refreshes per 10 minutes is reported as
/// that limit; an accounts server that stays down is reported as unavailable after the retry
/// budget. Only the refused grant points at the credentials.
#[tokio::test(flavor = "multi_thread")]
async fn token_endpoint_refusals_limits_and_outages_are_reported_as_what_they_are() {
    let sims = common::sims(Seed::Demo).await;
    let dir = tempfile::tempdir().unwrap();
    let refused = cli_config(&sims, dir.path(), "not-a-token");
    let (code, _, err) = cli_sync(&refused, &[]).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("Zoho refused the OAuth credentials (invalid_code)")
            && err.contains("client_id"),
        "{err}"
    );
    assert_eq!(token_calls(&sims), [200], "a refused grant is not retried");

    // Ten refreshes of demo-refresh elsewhere, then a run with an empty store.
    for _ in 0..10 {
        let r = client()
            .post(format!("{}/oauth/v2/token?grant_type=refresh_token&client_id=demo-client&client_secret={CLIENT_SECRET}&refresh_token={CLI_REFRESH}", sims.zoho_url))
            .send()
            .await
            .unwrap();
        assert!(r.text().await.unwrap().contains("access_token"));
    }
    let limited_dir = tempfile::tempdir().unwrap();
    let limited = cli_config(&sims, limited_dir.path(), CLI_REFRESH);
    let (code, _, err) = cli_sync(&limited, &[]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("at most 10 access tokens"), "{err}");
    assert!(
        !err.contains("client_id") && !err.contains("refused the OAuth"),
        "{err}"
    );
    assert_eq!(
        token_calls(&sims).len(),
        12,
        "the rate limit is not hammered"
    );

    // Ten minutes later the limit is over, but the accounts server is down for good.
    sim_control(
        &sims.zoho_url,
        "/_sim/clock",
        json!({ "advance_secs": 601 }),
    )
    .await;
    sim_control(
        &sims.zoho_url,
        "/_sim/faults",
        json!({ "rules": [{ "kind": "status", "status": 503, "path_prefix": "/oauth/v2/token" }] }),
    )
    .await;
    let (code, _, err) = cli_sync(&limited, &[("NZSYNC_TOKEN_RETRY_MS", "2500")]).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("unavailable") && err.contains("HTTP 503") && !err.contains("client_id"),
        "{err}"
    );
    assert!(token_calls(&sims).len() >= 14, "{:?}", token_calls(&sims));
}

/// Attack "token blips" on the server: the signed-in admin's access token expires, and the
/// refresh meets a 503 and a dropped connection. The proxied call and a headless run still
/// succeed; the token endpoint is asked once per blip plus once.
#[tokio::test]
async fn token_blips_on_the_server_are_retried() {
    let w = world(Seed::Demo).await;
    let (admin, _) = connected_admin(&w).await;
    sim_control(
        &w.sims.zoho_url,
        "/_sim/config",
        json!({ "expire_tokens": true }),
    )
    .await;
    sim_control(
        &w.sims.zoho_url,
        "/_sim/faults",
        json!({ "rules": [
            { "kind": "status", "status": 503, "path_prefix": "/oauth/v2/token", "times": 1 },
            { "kind": "drop", "path_prefix": "/oauth/v2/token", "times": 1 },
        ] }),
    )
    .await;
    let before = token_calls(&w.sims).len();
    let (s, v) = admin
        .call(
            Method::GET,
            "/proxy/zoho/crm/v8/users?type=CurrentUser",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(token_calls(&w.sims)[before..], [503, 0, 200]);
    let (s, v) = admin
        .call(Method::POST, "/api/sync/run", Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        token_calls(&w.sims).len(),
        before + 3,
        "the run reused the token"
    );
}

/// Attack on the admin's set-up: a user who is not the admin uses Schedule Meeting before the
/// `Notes_UNID` field exists on Events (the admin's set-up at sign-in could not finish). They
/// get 409 `setup_needed` naming the admin step, and nothing is created (no Notes meeting, no
/// invitations); after the admin's set-up the same meeting is made.
#[tokio::test]
async fn a_meeting_before_the_admins_set_up_names_the_admin_step_and_creates_nothing() {
    let w = world(Seed::Demo).await;
    sim_control(
        &w.sims.zoho_url,
        "/_sim/faults",
        json!({ "rules": [{ "kind": "status", "status": 500, "method": "POST",
                            "path_prefix": "/crm/v8/settings/fields", "times": 1 }] }),
    )
    .await;
    let (admin, _) = connected_admin(&w).await;
    client()
        .delete(format!("{}/_sim/faults", w.sims.zoho_url))
        .send()
        .await
        .unwrap();
    let (u2, _) = connected_user2(&w, &admin).await;
    let meeting = json!({
        "subject": "Set-up check",
        "attendees": [{ "email": "guest@partner.example" }],
        "start": "2030-05-01T09:00:00+09:00",
        "end": "2030-05-01T10:00:00+09:00",
    });
    let domino_calls = w.sims.domino().calls().len();
    let (s, v) = u2
        .call(Method::POST, "/api/meetings", Some(meeting.clone()))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "setup_needed", "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("Manage Users") && msg.contains("CRM set-up"),
        "{msg}"
    );
    assert!(
        !w.sims.domino().calls()[domino_calls..]
            .iter()
            .any(|c| c.method == "POST"),
        "a Notes meeting was created"
    );
    // Both see the set-up is not done; only the admin may do it.
    for b in [&admin, &u2] {
        let (s, setup) = b.call(Method::GET, "/api/setup", None).await;
        assert_eq!(
            (s, setup["ready"].clone()),
            (StatusCode::OK, json!(false)),
            "{setup}"
        );
    }
    let (s, _) = u2.call(Method::POST, "/api/setup", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, setup) = admin.call(Method::POST, "/api/setup", None).await;
    assert_eq!(s, StatusCode::OK, "{setup}");
    assert_eq!(setup["ready"], true, "{setup}");
    let (s, v) = u2.call(Method::POST, "/api/meetings", Some(meeting)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}
