//! The web server (`nzsync::server::app`) on a loopback port against the Domino and Zoho
//! simulators: sign-in through the OAuth authorization-code flow, users and their admin,
//! Connect, readiness, settings, leases, history, the proxy, headless runs and uninstall —
//! including the refusals. Every address is loopback.

#![allow(clippy::unwrap_used)] // A failed unwrap is how a test reports failure.

mod common;

use std::collections::HashMap;

use nzsync::server::jobs;
use nzsync_sim::Seed;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::{Browser, FORM, PASSWORD, PASSWORD2, World, client, form_body, location, world};

async fn sim_config(url: &str, body: Value) {
    let r = client()
        .post(format!("{url}/_sim/config"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

fn connect_body(w: &World, password: &str) -> Value {
    json!({ "server": w.sims.domino_url, "user": "demo", "password": password })
}

/// No clear password or Zoho token in what the store keeps on disk (the SQLite file and its
/// write-ahead log, or PostgreSQL's data files and WAL).
fn assert_no_secrets_stored(w: &World) {
    let bytes = w.stored_bytes();
    for secret in [PASSWORD, PASSWORD2, "demo-secret"] {
        assert!(
            !bytes.windows(secret.len()).any(|x| x == secret.as_bytes()),
            "{secret} stored in clear"
        );
    }
    assert!(!contains_zoho_token(&bytes), "a Zoho token stored in clear");
}

/// Zoho tokens look like `1000.<32 hex>.<32 hex>`.
fn contains_zoho_token(bytes: &[u8]) -> bool {
    bytes.windows(5 + 32 + 1).any(|w| {
        w.starts_with(b"1000.") && w[5..37].iter().all(u8::is_ascii_hexdigit) && w[37] == b'.'
    })
}

fn assert_no_secrets_answered(w: &World) {
    for body in w.seen.lock().unwrap().iter() {
        for secret in [PASSWORD, PASSWORD2, "demo-secret"] {
            assert!(
                !body.contains(secret),
                "a response carried {secret}: {body}"
            );
        }
        assert!(
            !contains_zoho_token(body.as_bytes()),
            "a response carried a token: {body}"
        );
    }
}

#[tokio::test]
async fn sign_in_admin_manages_users_within_the_licence_count() {
    let w = world(Seed::Empty).await;
    let anon = Browser::new(&w);
    let (s, _) = anon.call(Method::GET, "/api/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    let (_, me) = admin.call(Method::GET, "/api/me", None).await;
    assert_eq!(me["admin"], true, "{me}");
    assert_eq!(me["enabled"], true);
    assert_eq!(me["connected"], false);

    // A forged session cookie is not a session.
    let mut forged = Browser::new(&w);
    forged
        .cookies
        .insert("nzsync_session".into(), "0".repeat(64));
    assert_eq!(
        forged.call(Method::GET, "/api/settings", None).await.0,
        StatusCode::UNAUTHORIZED
    );

    // user2 signs in but is not enabled: only /api/me answers.
    let mut u2 = Browser::new(&w);
    u2.sign_in("user2@example.com").await;
    let (_, me2) = u2.call(Method::GET, "/api/me", None).await;
    assert_eq!(me2["enabled"], false, "{me2}");
    assert!(me2["message"].as_str().unwrap().contains("admin"));
    for path in ["/api/settings", "/api/runs", "/api/users", "/api/readiness"] {
        assert_eq!(
            u2.call(Method::GET, path, None).await.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert_eq!(
        u2.call(Method::GET, "/proxy/zoho/crm/v8/users", None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // The admin lists users; state changes need the CSRF header.
    let (s, list) = admin.call(Method::GET, "/api/users", None).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list["licences"], 5);
    assert_eq!(list["used"], 1);
    let user2_id = list["available"][0]["user_id"].as_str().unwrap().to_owned();
    let (s, _) = admin
        .send(
            Method::POST,
            "/api/users",
            Some(json!({ "user": "user2@example.com" })),
            false,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = admin
        .send(
            Method::POST,
            "/api/users",
            Some(json!({ "user": "user2@example.com" })),
            false,
            &[("x-csrf-token", "wrong")],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Over the licence count.
    sim_config(&w.sims.zoho_url, json!({ "licences": 1 })).await;
    let (s, e) = admin
        .call(
            Method::POST,
            "/api/users",
            Some(json!({ "user": "user2@example.com" })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "licence_limit");
    sim_config(&w.sims.zoho_url, json!({ "licences": 5 })).await;
    let (s, e) = admin
        .call(
            Method::POST,
            "/api/users",
            Some(json!({ "user": "nobody@example.com" })),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
    let (s, added) = admin
        .call(
            Method::POST,
            "/api/users",
            Some(json!({ "user": "user2@example.com" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{added}");
    assert_eq!(
        admin
            .call(
                Method::POST,
                "/api/users",
                Some(json!({ "user": user2_id }))
            )
            .await
            .0,
        StatusCode::CONFLICT
    );

    // user2 is enabled now, but is not the admin.
    u2.sign_in("user2@example.com").await;
    let (_, me2) = u2.call(Method::GET, "/api/me", None).await;
    assert_eq!(me2["enabled"], true);
    assert_eq!(me2["admin"], false);
    assert_eq!(
        u2.call(Method::GET, "/api/users", None).await.0,
        StatusCode::FORBIDDEN
    );
    let admin_id = me["user_id"].as_str().unwrap();
    assert_eq!(
        u2.call(Method::DELETE, &format!("/api/users/{admin_id}"), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // Settings are per user and validated.
    let mine = json!({ "contacts": true, "tasks": false, "events": "past_month",
        "direction": "notes_to_crm", "conflict": "notes_wins", "schedule_minutes": 60,
        "scope": { "contacts": "mine", "tasks": "mine", "events": { "view": "4150868000000087501" } } });
    let (s, e) = u2
        .call(Method::PUT, "/api/settings", Some(mine.clone()))
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(u2.call(Method::GET, "/api/settings", None).await.1, mine);
    let (_, theirs) = admin.call(Method::GET, "/api/settings", None).await;
    assert_eq!(theirs["direction"], "two_way");
    for bad in [
        json!({ "contacts": true, "tasks": true, "events": "yesterday", "direction": "two_way", "conflict": "crm_wins" }),
        json!({ "contacts": true, "tasks": true, "events": "all", "direction": "two_way", "conflict": "crm_wins", "schedule_minutes": 1 }),
        json!({ "contacts": true, "tasks": true, "events": "all", "direction": "two_way", "conflict": "crm_wins", "colour": "red" }),
        // A view id that is not a Zoho id never reaches a request URL.
        json!({ "contacts": true, "tasks": true, "events": "all", "direction": "two_way", "conflict": "crm_wins",
                "scope": { "contacts": { "view": "1&fields=Email" } } }),
        json!({ "contacts": true, "tasks": true, "events": "all", "direction": "two_way", "conflict": "crm_wins",
                "scope": { "contacts": "everyone" } }),
    ] {
        let (s, e) = u2.call(Method::PUT, "/api/settings", Some(bad)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    }

    // A user whose sync holds the lease cannot be removed.
    let (s, lease) = u2.call(Method::POST, "/api/sync/lease", None).await;
    assert_eq!(s, StatusCode::OK);
    let lease = lease["lease"].as_str().unwrap().to_owned();
    assert_eq!(
        u2.call(Method::POST, "/api/sync/lease", None).await.0,
        StatusCode::CONFLICT
    );
    let (s, e) = admin
        .call(Method::DELETE, &format!("/api/users/{user2_id}"), None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("running"));
    let (s, _) = u2
        .send(
            Method::DELETE,
            "/api/sync/lease",
            None,
            true,
            &[("x-sync-lease", &lease)],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = admin
        .call(Method::DELETE, &format!("/api/users/{user2_id}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(
        u2.call(Method::GET, "/api/me", None).await.0,
        StatusCode::UNAUTHORIZED
    );

    // An expired session is refused; sign-out ends a session.
    let mut old = Browser::new(&w);
    old.sign_in("demo@example.com").await;
    w.sql("UPDATE srv_sessions SET expires = 0", &[]).await;
    assert_eq!(
        old.call(Method::GET, "/api/me", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    admin.sign_in("demo@example.com").await;
    assert_eq!(
        admin.call(Method::POST, "/auth/logout", None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        admin.call(Method::GET, "/api/me", None).await.0,
        StatusCode::UNAUTHORIZED
    );

    assert_no_secrets_stored(&w);
    assert_no_secrets_answered(&w);
}

#[tokio::test]
async fn callback_refuses_forged_state_and_codes_are_single_use() {
    let w = world(Seed::Empty).await;
    let mut b = Browser::new(&w);
    let r = b.get_raw(&format!("{}/auth/login", w.base)).await;
    let consent = location(&r);
    let r = b.consent(&consent, "demo").await;
    let callback = url::Url::parse(&location(&r)).unwrap();
    let q: HashMap<String, String> = callback.query_pairs().into_owned().collect();
    assert_eq!(q["location"], "us");
    assert_eq!(q["accounts-server"], w.sims.zoho_url);

    // Another browser (no state cookie) cannot complete this sign-in.
    let mut other = Browser::new(&w);
    let r = other.get_raw(callback.as_str()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A forged state with the right cookie fails too.
    let forged = callback.as_str().replace(&q["state"], &"f".repeat(64));
    assert_eq!(b.get_raw(&forged).await.status(), StatusCode::BAD_REQUEST);

    // The code itself: wrong redirect_uri, then single use.
    let token = |secret: &str, redirect: &str| {
        let form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("client_id", "demo-client".to_owned()),
            ("client_secret", secret.to_owned()),
            ("redirect_uri", redirect.to_owned()),
            ("code", q["code"].clone()),
        ];
        let url = format!("{}/oauth/v2/token", w.sims.zoho_url);
        async move {
            client()
                .post(url)
                .header("content-type", FORM)
                .body(form_body(&form))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let redirect = format!("{}/auth/callback", w.base);
    let v = token("demo-secret", "http://127.0.0.1:1/cb").await;
    assert_eq!(v["error"], "invalid_redirect_uri");
    let v = token("wrong-secret", &redirect).await;
    assert_eq!(v["error"], "invalid_client");
    let v = token("demo-secret", &redirect).await;
    assert!(v["refresh_token"].is_string(), "{v}");
    assert_eq!(v["api_domain"], w.sims.zoho_url);
    let v = token("demo-secret", &redirect).await;
    assert_eq!(v["error"], "invalid_code");
}

#[tokio::test]
async fn connect_checks_domino_and_the_proxy_reaches_only_the_users_servers() {
    let w = world(Seed::Empty).await;
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    let connect = |body: Value| admin.call(Method::POST, "/api/connect", Some(body));

    // Not connected yet.
    assert_eq!(
        admin
            .call(Method::GET, "/proxy/domino/api/data", None)
            .await
            .0,
        StatusCode::CONFLICT
    );
    let (s, e) = connect(connect_body(&w, "wrong")).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("wrong_password")),
        "{e}"
    );
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    // A server that is down, and one that is not Domino, get the same answer (the server's
    // rule on Domino servers: `attacks.rs`).
    let (_, e) = connect(json!({ "server": dead, "user": "demo", "password": PASSWORD })).await;
    assert_eq!(e["error"]["code"], "cannot_use_server", "{e}");
    let (_, e) =
        connect(json!({ "server": w.sims.zoho_url, "user": "demo", "password": PASSWORD })).await;
    assert_eq!(e["error"]["code"], "cannot_use_server", "{e}");
    let (s, _) =
        connect(json!({ "server": "file:///etc/passwd", "user": "demo", "password": PASSWORD }))
            .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // A refused connection is not stored.
    let (_, me) = admin.call(Method::GET, "/api/me", None).await;
    assert_eq!(me["connected"], false, "{me}");
    // (Domino Access Services switched off is not a refusal: see
    // `readiness_checks_every_service_the_settings_need`.)

    let (s, e) = connect(connect_body(&w, PASSWORD)).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(e["mail_db"], "mail/demo.nsf");
    assert_eq!(e["ready"], true, "{e}");
    let (_, me) = admin.call(Method::GET, "/api/me", None).await;
    assert_eq!(me["connected"], true);
    let (s, ready) = admin.call(Method::GET, "/api/readiness", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ready["ready"], true, "{ready}");

    // Change Password re-verifies.
    let (s, _) = admin
        .call(
            Method::POST,
            "/api/password",
            Some(json!({ "password": "nope" })),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = admin
        .call(
            Method::POST,
            "/api/password",
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // The proxy adds the credentials of the caller's own servers.
    let (s, v) = admin
        .call(Method::GET, "/proxy/domino/api/data", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = admin
        .call(
            Method::GET,
            "/proxy/zoho/crm/v8/users?type=CurrentUser",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["users"][0]["email"], "demo@example.com");
    let body = json!({ "data": [{ "Last_Name": "Proxy", "Email": "proxy@example.com" }] });
    let (s, _) = admin
        .send(
            Method::POST,
            "/proxy/zoho/crm/v8/Contacts",
            Some(body.clone()),
            false,
            &[],
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "state changes need the CSRF header"
    );
    let (s, v) = admin
        .call(Method::POST, "/proxy/zoho/crm/v8/Contacts", Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // A Notes create through the proxy hands back the Location (the engine reads the new UNID
    // from it) and the paging and clock headers the engine uses.
    let r = admin
        .http
        .post(format!(
            "{}/proxy/domino/mail/demo.nsf/api/data/documents?form=Person",
            admin.base
        ))
        .header("cookie", admin.cookie_header())
        .header("x-csrf-token", admin.csrf.clone().unwrap())
        .json(&json!({"LastName": "Via proxy"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let loc = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        loc.contains("/api/data/documents/unid/"),
        "location: {loc:?}"
    );
    assert!(r.headers().contains_key("date"));
    let r = admin
        .http
        .get(format!(
            "{}/proxy/domino/mail/demo.nsf/api/data/collections/name/%28%24Contacts%29?count=1",
            admin.base
        ))
        .header("cookie", admin.cookie_header())
        .send()
        .await
        .unwrap();
    assert!(
        r.headers().contains_key("content-range"),
        "{:?}",
        r.headers()
    );
    // The Zoho token expiring on the way is handled by the proxy.
    w.sims.zoho().expire_all_tokens();
    let (s, _) = admin
        .call(
            Method::GET,
            "/proxy/zoho/crm/v8/Contacts?fields=Last_Name",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // Nothing else is reachable.
    let before = w.sims.zoho().calls().len() + w.sims.domino().calls().len();
    for bad in [
        "/proxy/zoho/oauth/v2/token",
        "/proxy/zoho/crm/v8/%2e%2e/%2e%2e/oauth/v2/token",
        "/proxy/zoho/crm/v8/..%2f..%2foauth",
        "/proxy/domino/http://127.0.0.2/x",
        "/proxy/domino/http:%2F%2F127.0.0.2%2Fx",
        "/proxy/domino/user@127.0.0.2/x",
        "/proxy/domino/%5c%5c127.0.0.2/x",
    ] {
        let (s, v) = admin.call(Method::GET, bad, None).await;
        assert!(
            s == StatusCode::FORBIDDEN
                || s == StatusCode::NOT_FOUND
                || s == StatusCode::BAD_REQUEST,
            "{bad}: {s} {v}"
        );
    }
    let raw = admin
        .http
        .get(format!("{}/proxy/domino//127.0.0.2/x", w.base))
        .header("cookie", admin.cookie_header())
        .send()
        .await
        .unwrap();
    assert!(raw.status().is_client_error(), "{}", raw.status());
    assert_eq!(
        w.sims.zoho().calls().len() + w.sims.domino().calls().len(),
        before,
        "a refused path reached an upstream"
    );
    // Without a session, nothing.
    let anon = Browser::new(&w);
    assert_eq!(
        anon.call(Method::GET, "/proxy/domino/api/data", None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // The browser's cookies and Authorization never reach the upstream.
    let r = admin
        .http
        .get(format!("{}/proxy/domino/api/data", w.base))
        .header("cookie", admin.cookie_header())
        .header("authorization", "Basic dXNlcjI6d3Jvbmc=")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the server's own credentials were used"
    );
    assert!(r.headers().get("set-cookie").is_none());
    assert!(r.headers().get("www-authenticate").is_none());

    assert_no_secrets_stored(&w);
    assert_no_secrets_answered(&w);
}

/// Records in every CRM module.
fn crm_records(w: &World) -> usize {
    w.sims.zoho().dump()["modules"]
        .as_object()
        .unwrap()
        .values()
        .map(|m| m.as_array().map_or(0, Vec::len))
        .sum()
}

/// Every table of the store is empty and (SQLite) nothing of the org lingers in the file.
/// PostgreSQL leaves deleted rows to its autovacuum (see the README's *Running a fleet*).
async fn assert_store_empty(w: &World) {
    for table in [
        "srv_orgs",
        "srv_users",
        "srv_sessions",
        "srv_leases",
        "created",
        "links",
        "module_state",
        "runs",
    ] {
        let n = w
            .sql_count(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .await;
        assert_eq!(n, 0, "{table} still has rows");
    }
    if w.postgres.is_some() {
        return;
    }
    let bytes = std::fs::read(&w.db_path).unwrap();
    assert!(
        !bytes.windows(16).any(|x| x == b"demo@example.com"),
        "deleted data lingers in the file"
    );
}

#[tokio::test]
async fn headless_run_history_is_per_user_and_uninstall_deletes_everything() {
    let w = world(Seed::Demo).await;
    let crm_before = crm_records(&w);
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    admin.connect(&w).await;
    let (s, e) = admin
        .call(
            Method::POST,
            "/api/users",
            Some(json!({ "user": "user2@example.com" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");

    let (s, run) = admin
        .call(Method::POST, "/api/sync/run", Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    assert_ne!(run["report"]["outcome"], "failed", "{}", run["report"]);
    let run_id = run["id"].as_i64().unwrap();
    let created = crm_records(&w) - crm_before;
    assert!(created > 0, "the sync created CRM records");
    let (_, runs) = admin.call(Method::GET, "/api/runs", None).await;
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1);
    let (s, report) = admin
        .call(Method::GET, &format!("/api/runs/{run_id}"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(report, run["report"]);
    // The lease was released after the run.
    let (s, admin_lease) = admin.call(Method::POST, "/api/sync/lease", None).await;
    assert_eq!(s, StatusCode::OK);
    let admin_lease = admin_lease["lease"].as_str().unwrap().to_owned();

    // user2 sees none of it.
    let mut u2 = Browser::new(&w);
    u2.sign_in("user2@example.com").await;
    assert_eq!(
        u2.call(Method::GET, &format!("/api/runs/{run_id}"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        u2.call(Method::GET, "/api/runs", None).await.1["runs"],
        json!([])
    );

    // The browser-run engine's path: lease, state, state changes, report.
    let (s, e) = u2
        .call(
            Method::POST,
            "/api/connect",
            Some(json!({ "server": w.sims.domino_url, "user": "user2", "password": PASSWORD2 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, st) = u2.call(Method::GET, "/api/sync/state", None).await;
    assert_eq!(s, StatusCode::OK, "{st}");
    assert_eq!(st["config"]["mail_db"], "mail/user2.nsf");
    let change = json!({ "changes": [{ "op": "xref_ready", "module": "contacts" }] });
    let (s, _) = u2
        .call(
            Method::POST,
            "/api/sync/state-changes",
            Some(change.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "no lease");
    let (_, lease) = u2.call(Method::POST, "/api/sync/lease", None).await;
    let lease = lease["lease"].as_str().unwrap().to_owned();
    let (s, e) = u2
        .send(
            Method::POST,
            "/api/sync/state-changes",
            Some(change),
            true,
            &[("x-sync-lease", &lease)],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, _) = u2
        .send(
            Method::POST,
            "/api/sync/lease/renew",
            None,
            true,
            &[("x-sync-lease", &lease)],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut browser_report = run["report"].clone();
    browser_report["dry_run"] = json!(true);
    let (s, posted) = u2
        .send(
            Method::POST,
            "/api/runs",
            Some(browser_report),
            true,
            &[("x-sync-lease", &lease)],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{posted}");
    let (_, st) = u2.call(Method::GET, "/api/sync/state", None).await;
    assert_eq!(
        st["state"]["modules"]["contacts"]["crm_xref_ready"], true,
        "{st}"
    );
    assert_eq!(
        u2.call(Method::GET, "/api/runs", None).await.1["runs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The admin's history is still only the admin's.
    assert_eq!(
        admin.call(Method::GET, "/api/runs", None).await.1["runs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    u2.send(
        Method::DELETE,
        "/api/sync/lease",
        None,
        true,
        &[("x-sync-lease", &lease)],
    )
    .await;

    // A user's uninstall removes only their own data.
    let (s, done) = u2
        .call(
            Method::POST,
            "/api/uninstall",
            Some(json!({ "confirm": true, "delete_crm_records": true })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(done["uninstalled"], "user");
    assert_eq!(done["crm_records_deleted"], 0);
    assert_eq!(
        u2.call(Method::GET, "/api/me", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(crm_records(&w), crm_before + created);
    assert_eq!(
        admin.call(Method::GET, "/api/runs", None).await.1["runs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, list) = admin.call(Method::GET, "/api/users", None).await;
    assert_eq!(list["used"], 1, "{list}");
    u2.sign_in("user2@example.com").await;
    assert_eq!(
        u2.call(Method::GET, "/api/me", None).await.1["enabled"],
        false
    );

    // Uninstall: not while a sync runs; needs confirmation; then the org's data goes, with the
    // CRM records the sync created (and only those).
    let (s, _) = admin
        .call(
            Method::POST,
            "/api/uninstall",
            Some(json!({ "confirm": true })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    admin
        .send(
            Method::DELETE,
            "/api/sync/lease",
            None,
            true,
            &[("x-sync-lease", &admin_lease)],
        )
        .await;
    let (s, _) = admin
        .call(
            Method::POST,
            "/api/uninstall",
            Some(json!({ "confirm": false })),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, done) = admin
        .call(
            Method::POST,
            "/api/uninstall",
            Some(json!({ "confirm": true, "delete_crm_records": true })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(
        done["crm_records_deleted"].as_u64().unwrap() as usize,
        created,
        "{done}"
    );
    assert_eq!(crm_records(&w), crm_before);
    assert_eq!(
        admin.call(Method::GET, "/api/me", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        u2.call(Method::GET, "/api/me", None).await.0,
        StatusCode::UNAUTHORIZED
    );

    assert_store_empty(&w).await;
    assert_no_secrets_answered(&w);
}

#[tokio::test]
async fn no_sync_starts_while_an_uninstall_runs_and_a_failed_one_lets_syncs_go_on() {
    let w = world(Seed::Demo).await;
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    admin.connect(&w).await;
    let (s, run) = admin
        .call(Method::POST, "/api/sync/run", Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    let zoho = |path: &str| format!("{}{path}", w.sims.zoho_url);
    let uninstall = json!({ "confirm": true, "delete_crm_records": true });

    // Zoho refuses the deletes: the uninstall keeps everything, and syncs can go on.
    let rules = json!({ "rules": [{ "kind": "status", "status": 500, "method": "DELETE",
        "path_prefix": "/crm/" }] });
    let r = client()
        .post(zoho("/_sim/faults"))
        .json(&rules)
        .send()
        .await;
    assert!(r.unwrap().status().is_success());
    let (s, e) = admin
        .call(Method::POST, "/api/uninstall", Some(uninstall.clone()))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "crm_records_not_deleted", "{e}");
    let (s, lease) = admin.call(Method::POST, "/api/sync/lease", None).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "the failed uninstall let go of the lease: {lease}"
    );
    let lease = lease["lease"].as_str().unwrap().to_owned();
    admin
        .send(
            Method::DELETE,
            "/api/sync/lease",
            None,
            true,
            &[("x-sync-lease", &lease)],
        )
        .await;
    client().delete(zoho("/_sim/faults")).send().await.unwrap();

    // Zoho answers slowly: while the uninstall deletes, no sync may start (on this replica or
    // any other), or it would write for a user who is being removed.
    let slow = client()
        .post(zoho("/_sim/latency"))
        .json(&json!({ "ms": 1500 }));
    assert!(slow.send().await.unwrap().status().is_success());
    let during = async {
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        admin.call(Method::POST, "/api/sync/lease", None).await
    };
    let ((s, done), (during, why)) = tokio::join!(
        admin.call(Method::POST, "/api/uninstall", Some(uninstall)),
        during
    );
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(during, StatusCode::CONFLICT, "{why}");
    assert_store_empty(&w).await;
}

/// The test server's master key, as `NZSYNC_MASTER_KEY` gives it to the binary.
fn master_key_env() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode([42u8; 32])
}

#[tokio::test]
async fn nzsync_uninstall_with_the_server_config_removes_every_org() {
    let w = world(Seed::Demo).await;
    let crm_before = crm_records(&w);
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    admin.connect(&w).await;
    let (s, run) = admin
        .call(Method::POST, "/api/sync/run", Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    assert!(crm_records(&w) > crm_before, "the sync created CRM records");

    // The binary calls the simulators this test process serves: await it, never block.
    let uninstall = |args: &[&str]| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
            .arg("uninstall")
            .arg("--server-config")
            .arg(w.dir.path().join("server.toml"))
            .args(args)
            .env("NZSYNC_MASTER_KEY", master_key_env())
            .output()
    };
    let refused = uninstall(&["--delete-crm-records"]).await.unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("--yes") && err.contains("every org"), "{err}");
    assert!(
        crm_records(&w) > crm_before,
        "nothing happens without --yes"
    );

    let out = uninstall(&["--delete-crm-records", "--yes"]).await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("uninstalled 1 orgs"), "{text}");
    assert_eq!(
        crm_records(&w),
        crm_before,
        "only what the sync created went"
    );
    assert_eq!(
        admin.call(Method::GET, "/api/me", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_store_empty(&w).await;
}

#[tokio::test]
async fn scheduled_syncs_run_when_due_and_one_failure_does_not_stop_another() {
    let w = world(Seed::Demo).await;
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    admin
        .call(
            Method::POST,
            "/api/users",
            Some(json!({ "user": "user2@example.com" })),
        )
        .await;
    let mut u2 = Browser::new(&w);
    u2.sign_in("user2@example.com").await;
    let (s, _) = admin
        .call(
            Method::POST,
            "/api/connect",
            Some(connect_body(&w, PASSWORD)),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = u2
        .call(
            Method::POST,
            "/api/connect",
            Some(json!({ "server": w.sims.domino_url, "user": "user2", "password": PASSWORD2 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let settings = json!({ "contacts": true, "tasks": true, "events": "off",
        "direction": "two_way", "conflict": "crm_wins", "schedule_minutes": 15 });
    for b in [&admin, &u2] {
        let (s, e) = b
            .call(Method::PUT, "/api/settings", Some(settings.clone()))
            .await;
        assert_eq!(s, StatusCode::OK, "{e}");
    }
    // Nothing is due yet.
    let queue = common::job_queue(&w.state).await;
    assert_eq!(jobs::enqueue_due(&w.state, &queue).await.unwrap(), 0);

    // Both become due; user2's Domino server has gone away.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    w.sql("UPDATE srv_users SET next_sync = 0", &[]).await;
    let (_, me2) = u2.call(Method::GET, "/api/me", None).await;
    common::set_domino_url(&w, me2["user_id"].as_str().unwrap(), &dead).await;
    assert_eq!(jobs::enqueue_due(&w.state, &queue).await.unwrap(), 2);
    // Due syncs are queued once, however often they are looked for.
    assert_eq!(jobs::enqueue_due(&w.state, &queue).await.unwrap(), 2);
    assert_eq!(w.job_count().await, 2);
    let worker = jobs::JobWorker::start(&queue, &w.state);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let pending = w
            .sql_count("SELECT COUNT(*) FROM srv_users WHERE next_sync = 0", &[])
            .await;
        if pending == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "scheduled syncs did not finish"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    worker.shutdown(std::time::Duration::from_secs(30)).await;
    let (_, runs) = admin.call(Method::GET, "/api/runs", None).await;
    let runs = runs["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_ne!(runs[0]["outcome"], "failed");
    let (_, runs2) = u2.call(Method::GET, "/api/runs", None).await;
    let runs2 = runs2["runs"].as_array().unwrap();
    assert!(runs2.iter().all(|r| r["outcome"] == "failed"), "{runs2:?}");
    // The next runs are planned a schedule interval ahead.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let soon = now + 10 * 60_000;
    assert_eq!(w.sql_count("SELECT COUNT(*) FROM srv_users", &[]).await, 2);
    let too_soon =
        format!("SELECT COUNT(*) FROM srv_users WHERE next_sync IS NULL OR next_sync <= {soon}");
    assert_eq!(w.sql_count(&too_soon, &[]).await, 0);
}

#[test]
fn serve_refuses_to_start_without_a_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("server.toml");
    std::fs::write(
        &cfg,
        r#"
[server]
listen = "127.0.0.1:0"
public_url = "http://127.0.0.1:8080"
[zoho]
client_id = "demo-client"
client_secret = "demo-secret"
accounts_url = "http://127.0.0.1:9"
api_domain = "http://127.0.0.1:9"
"#,
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
        .args(["serve", "--config"])
        .arg(&cfg)
        .env_remove("NZSYNC_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("master key") && err.contains("NZSYNC_MASTER_KEY"),
        "{err}"
    );
    // A key that is not 32 bytes is refused as well.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
        .args(["serve", "--config"])
        .arg(&cfg)
        .env("NZSYNC_MASTER_KEY", "c2hvcnQ=")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("32 bytes"));
}

#[tokio::test]
async fn demo_serves_the_server_with_the_widget_on_the_simulators() {
    use tokio::io::AsyncBufReadExt as _;
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nzsync"))
        .args(["demo", "--port", "0", "--data"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut base, mut domino) = (String::new(), String::new());
    while let Some(line) =
        tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
            .await
            .unwrap()
            .unwrap()
    {
        let url = || {
            line.split_whitespace()
                .find(|w| w.starts_with("http://127.0.0.1:"))
                .unwrap()
                .trim_end_matches('/')
                .to_owned()
        };
        if line.contains("sign in:") {
            base = url().trim_end_matches("/auth/login").to_owned();
        } else if line.contains("Domino simulator:") {
            domino = url();
        } else if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    assert!(!base.is_empty() && !domino.is_empty());
    assert!(dir.path().join("master.key").exists());

    let mut b = Browser::at(&base, std::sync::Arc::default());
    let page = b.get_raw(&format!("{base}/")).await;
    assert_eq!(page.status(), StatusCode::OK);
    b.sign_in("demo@example.com").await;
    let (s, e) = b
        .call(
            Method::POST,
            "/api/connect",
            Some(json!({ "server": domino, "user": "demo", "password": "demo" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (s, ready) = b.call(Method::GET, "/api/readiness", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ready["ready"], true, "{ready}");
    child.kill().await.unwrap();
}

/// The check of `id` in a readiness answer.
fn check<'a>(readiness: &'a Value, id: &str) -> &'a Value {
    readiness["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}: {readiness}"))
}

fn failed_checks(readiness: &Value) -> Vec<String> {
    readiness["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// F2: Connect and `GET /api/readiness` check every service the user's settings need (the
/// server's Data service, the mail file, the contacts view, the to-do view, the Calendar
/// service); each one switched off in turn is the one failed check, with its code and the
/// admin step. Connect still stores the connection (the password is right); a settings change
/// changes which checks are needed.
#[tokio::test]
async fn readiness_checks_every_service_the_settings_need() {
    let w = world(Seed::Empty).await;
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    let db = |v: Value| json!({ "databases": { "mail/demo.nsf": v } });
    let cases = [
        (
            "data_service",
            json!({ "enabled_services": ["Calendar"] }),
            json!({ "enabled_services": ["Data", "Calendar"] }),
            "das_off_server",
            "Domino Web Engine → Domino Access Services, select Data under Enabled services",
        ),
        (
            "mail_file",
            db(json!({ "allow_rest": 0 })),
            db(json!({ "allow_rest": 2 })),
            "das_off_database",
            "set \"Allow Domino Data Service\" to \"Views and documents\"",
        ),
        (
            "mail_file",
            db(json!({ "allow_rest": 1 })),
            db(json!({ "allow_rest": 2 })),
            "das_views_only",
            "set \"Allow Domino Data Service\" to \"Views and documents\"",
        ),
        (
            "contacts_view",
            db(json!({ "views": { "($Contacts)": { "das": false } } })),
            db(json!({ "views": { "($Contacts)": { "das": true } } })),
            "das_off_view",
            "select the view ($Contacts) of the mail file mail/demo.nsf",
        ),
        (
            "todo_view",
            db(json!({ "views": { "($ToDo)": { "das": false } } })),
            db(json!({ "views": { "($ToDo)": { "das": true } } })),
            "das_off_view",
            "select the view ($ToDo) of the mail file mail/demo.nsf",
        ),
        (
            "calendar_service",
            json!({ "enabled_services": ["Data"] }),
            json!({ "enabled_services": ["Data", "Calendar"] }),
            "calendar_off",
            "select Calendar under Enabled services",
        ),
    ];
    for (id, off, on, code, step) in cases {
        sim_config(&w.sims.domino_url, off).await;
        let (s, answer) = admin
            .call(
                Method::POST,
                "/api/connect",
                Some(connect_body(&w, PASSWORD)),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{id}: {answer}");
        assert_eq!(answer["connected"], true);
        let (s, ready) = admin.call(Method::GET, "/api/readiness", None).await;
        assert_eq!(s, StatusCode::OK, "{ready}");
        for r in [&answer, &ready] {
            assert_eq!(r["ready"], false, "{id}: {r}");
            assert_eq!(failed_checks(r), vec![id.to_owned()], "{id}: {r}");
            let c = check(r, id);
            assert_eq!(c["code"], code, "{id}: {c}");
            assert!(
                c["step"].as_str().unwrap().contains(step),
                "{id}: the step does not say {step:?}: {c}"
            );
            assert!(!c["detail"].as_str().unwrap().is_empty());
        }
        sim_config(&w.sims.domino_url, on).await;
    }
    let (_, me) = admin.call(Method::GET, "/api/me", None).await;
    assert_eq!(
        me["connected"], true,
        "DAS off does not refuse the connection"
    );
    let (_, ready) = admin.call(Method::GET, "/api/readiness", None).await;
    assert_eq!(ready["ready"], true, "{ready}");
    for id in [
        "domino_server",
        "data_service",
        "mail_file",
        "contacts_view",
        "todo_view",
        "calendar_service",
        "zoho_oauth",
        "zoho_api",
    ] {
        assert_eq!(check(&ready, id)["status"], "ok", "{ready}");
    }

    // Settings decide what is needed: to-dos and events off, their services are not needed.
    sim_config(
        &w.sims.domino_url,
        json!({ "enabled_services": ["Data"],
            "databases": { "mail/demo.nsf": { "views": { "($ToDo)": { "das": false } } } } }),
    )
    .await;
    let (_, ready) = admin.call(Method::GET, "/api/readiness", None).await;
    assert_eq!(
        failed_checks(&ready),
        vec!["todo_view".to_owned(), "calendar_service".to_owned()],
        "{ready}"
    );
    let (s, _) = admin
        .call(
            Method::PUT,
            "/api/settings",
            Some(json!({ "contacts": true, "tasks": false, "events": "off",
                "direction": "two_way", "conflict": "crm_wins" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, ready) = admin.call(Method::GET, "/api/readiness", None).await;
    assert_eq!(ready["ready"], true, "{ready}");
    assert_eq!(check(&ready, "todo_view")["status"], "not_needed");
    assert_eq!(check(&ready, "calendar_service")["status"], "not_needed");
    // Switched back on, the checks they need run again.
    let (s, _) = admin
        .call(
            Method::PUT,
            "/api/settings",
            Some(json!({ "contacts": true, "tasks": true, "events": "today",
                "direction": "two_way", "conflict": "crm_wins" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, ready) = admin.call(Method::GET, "/api/readiness", None).await;
    assert_eq!(ready["ready"], false);
    assert_eq!(
        failed_checks(&ready),
        vec!["todo_view".to_owned(), "calendar_service".to_owned()]
    );

    // Zoho not answering is a failed check, never a refused Domino connection.
    let r = client()
        .post(format!("{}/_sim/faults", w.sims.zoho_url))
        .json(&json!({ "rules": [{ "kind": "drop", "path_prefix": "/crm/v8/users" }] }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let (s, answer) = admin
        .call(
            Method::POST,
            "/api/connect",
            Some(connect_body(&w, PASSWORD)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    assert_eq!(
        check(&answer, "zoho_api")["code"],
        "unreachable",
        "{answer}"
    );
    assert_eq!(check(&answer, "domino_server")["status"], "ok");
    client()
        .delete(format!("{}/_sim/faults", w.sims.zoho_url))
        .send()
        .await
        .unwrap();

    // A server that is down is a failed check too, not an error of the endpoint.
    common::set_domino_url(&w, me["user_id"].as_str().unwrap(), "http://127.0.0.1:9").await;
    let (s, ready) = admin.call(Method::GET, "/api/readiness", None).await;
    assert_eq!(s, StatusCode::OK, "{ready}");
    assert_eq!(check(&ready, "domino_server")["code"], "unreachable");
    assert_eq!(check(&ready, "mail_file")["status"], "not_checked");
    assert_no_secrets_answered(&w);
}

/// Honest outcomes: a module refused in the middle of a headless run is "failed" in the run's
/// report, in the history and in Manage Users' last sync; the module after it did not run and
/// says why; the run is partial, never completed. Previews are numbered apart from syncs: the
/// first sync is number 1 whatever previews came before.
#[tokio::test]
async fn a_module_failing_mid_run_is_failed_everywhere_and_previews_have_their_own_numbers() {
    let w = world(Seed::Demo).await;
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    admin.connect(&w).await;
    let run = |dry_run: bool| {
        admin.call(
            Method::POST,
            "/api/sync/run",
            Some(json!({ "dry_run": dry_run })),
        )
    };
    let (s, preview) = run(true).await;
    assert_eq!(s, StatusCode::OK, "{preview}");
    assert_eq!(preview["report"]["outcome"], "completed");

    // The to-do view refuses DAS once the checks have passed.
    sim_config(
        &w.sims.domino_url,
        json!({ "databases": { "mail/demo.nsf": { "views": { "($ToDo)": { "das": false } } } } }),
    )
    .await;
    let (s, failed) = run(false).await;
    assert_eq!(s, StatusCode::OK, "{failed}");
    let report = &failed["report"];
    assert_eq!(report["outcome"], "partial", "{report}");
    let status = |r: &Value, m: &str| {
        r["modules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["module"] == m)
            .map(|x| x["status"].clone())
            .unwrap_or_default()
    };
    assert_eq!(status(report, "contacts"), "completed");
    assert_eq!(status(report, "tasks"), "failed");
    assert_eq!(status(report, "events"), "not_run");
    let (s, again) = run(true).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        again["report"]["outcome"], "partial",
        "the preview fails too"
    );
    sim_config(
        &w.sims.domino_url,
        json!({ "databases": { "mail/demo.nsf": { "views": { "($ToDo)": { "das": true } } } } }),
    )
    .await;
    let (s, good) = run(false).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(good["report"]["outcome"], "completed", "{}", good["report"]);

    let (_, runs) = admin.call(Method::GET, "/api/runs", None).await;
    let runs = runs["runs"].as_array().unwrap();
    let summary: Vec<(bool, i64, &str)> = runs
        .iter()
        .map(|r| {
            (
                r["dry_run"].as_bool().unwrap(),
                r["number"].as_i64().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    // Newest first: sync #2, preview #2, sync #1 (partial), preview #1.
    assert_eq!(
        summary,
        vec![
            (false, 2, "completed"),
            (true, 2, "partial"),
            (false, 1, "partial"),
            (true, 1, "completed"),
        ]
    );
    let first_sync = &runs[2];
    assert_eq!(first_sync["id"], failed["id"]);
    assert_eq!(
        first_sync["modules"],
        json!([{ "module": "contacts", "status": "completed" },
               { "module": "tasks", "status": "failed" },
               { "module": "events", "status": "not_run" }])
    );
    let (_, stored) = admin
        .call(Method::GET, &format!("/api/runs/{}", failed["id"]), None)
        .await;
    assert_eq!(&stored, report);
    let (_, users) = admin.call(Method::GET, "/api/users", None).await;
    let me = &users["users"][0];
    assert_eq!(me["last_sync"]["number"], 2, "{users}");
    assert_eq!(me["last_sync"]["outcome"], "completed");
}

/// F8 as the seed says: a user set up to sync cannot be removed until the admin stops their
/// syncing; neither happens while their sync runs; stopping deletes the Domino connection and
/// the schedule and keeps settings, links and history; removal then deletes the rest. Only the
/// admin can do either. Manage Users shows each user's state.
#[tokio::test]
async fn stop_syncing_then_remove_a_user() {
    let w = world(Seed::Demo).await;
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    admin.connect(&w).await;
    let (s, _) = admin
        .call(
            Method::POST,
            "/api/users",
            Some(json!({ "user": "user2@example.com" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut u2 = Browser::new(&w);
    u2.sign_in("user2@example.com").await;
    let (s, e) = u2
        .call(
            Method::POST,
            "/api/connect",
            Some(json!({ "server": w.sims.domino_url, "user": "user2", "password": PASSWORD2 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let settings = json!({ "contacts": true, "tasks": false, "events": "off",
        "direction": "two_way", "conflict": "notes_wins", "schedule_minutes": 60 });
    let (s, _) = u2
        .call(Method::PUT, "/api/settings", Some(settings.clone()))
        .await;
    assert_eq!(s, StatusCode::OK);
    // The admin's first sync makes the Notes_UNID field (user2 may not), then user2 syncs.
    let (s, run) = admin
        .call(Method::POST, "/api/sync/run", Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    let (s, run) = u2
        .call(Method::POST, "/api/sync/run", Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    assert_eq!(run["report"]["outcome"], "completed", "{run}");
    let u2_id = u2.call(Method::GET, "/api/me", None).await.1["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin_id = admin.call(Method::GET, "/api/me", None).await.1["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let row = |users: &Value| {
        users["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["user_id"] == u2_id.as_str())
            .cloned()
    };

    // The list shows the state.
    let (_, users) = admin.call(Method::GET, "/api/users", None).await;
    let r = row(&users).unwrap();
    assert_eq!(r["connected"], true, "{r}");
    assert_eq!(r["schedule_minutes"], 60);
    assert_eq!(r["last_sync"]["number"], 1);
    assert_eq!(r["last_sync"]["outcome"], run["report"]["outcome"]);
    assert_eq!(r["syncing"], false);

    // Set up to sync: not removable.
    let (s, e) = admin
        .call(Method::DELETE, &format!("/api/users/{u2_id}"), None)
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("set_up_to_sync")),
        "{e}"
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Stop syncing")
    );
    // Only the admin stops or removes.
    for path in [
        format!("/api/users/{u2_id}/stop"),
        format!("/api/users/{admin_id}/stop"),
    ] {
        let (s, e) = u2.call(Method::POST, &path, None).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{path}: {e}"
        );
    }
    assert_eq!(
        admin
            .call(Method::POST, "/api/users/5725767000000999999/stop", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // Not while their sync runs.
    let (_, lease) = u2.call(Method::POST, "/api/sync/lease", None).await;
    let lease = lease["lease"].as_str().unwrap().to_owned();
    for (m, path) in [
        (Method::POST, format!("/api/users/{u2_id}/stop")),
        (Method::DELETE, format!("/api/users/{u2_id}")),
    ] {
        let (s, e) = admin.call(m, &path, None).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("sync_running")),
            "{path}: {e}"
        );
    }
    let (s, _) = u2
        .send(
            Method::DELETE,
            "/api/sync/lease",
            None,
            true,
            &[("x-sync-lease", &lease)],
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // Stop syncing: the connection and the schedule go; settings, links and history stay.
    let u2_profile = format!("srv:{u2_id}");
    let count_links = "SELECT COUNT(*) FROM links WHERE profile = ?1";
    let links_before = w.sql_count(count_links, &[&u2_profile]).await;
    assert!(
        links_before > 0,
        "user2's sync linked records: {}",
        run["report"]
    );
    let (s, stopped) = admin
        .call(Method::POST, &format!("/api/users/{u2_id}/stop"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{stopped}");
    assert_eq!(stopped["deleted"], json!(["domino_connection", "schedule"]));
    assert_eq!(
        stopped["kept"],
        json!(["records", "settings", "links", "history"])
    );
    let (_, users) = admin.call(Method::GET, "/api/users", None).await;
    let r = row(&users).unwrap();
    assert_eq!(r["connected"], false, "{r}");
    assert_eq!(r["schedule_minutes"], Value::Null);
    assert_eq!(r["last_sync"]["number"], 1, "history kept");
    let cleared = "SELECT COUNT(*) FROM srv_users WHERE user_id = ?1 \
                   AND domino_password IS NULL AND next_sync IS NULL";
    assert_eq!(w.sql_count(cleared, &[&u2_id]).await, 1);
    assert_eq!(
        w.sql_count(count_links, &[&u2_profile]).await,
        links_before,
        "links kept"
    );
    let (_, me2) = u2.call(Method::GET, "/api/me", None).await;
    assert_eq!(
        (me2["enabled"].clone(), me2["connected"].clone()),
        (json!(true), json!(false))
    );
    let (_, kept) = u2.call(Method::GET, "/api/settings", None).await;
    let mut expected = settings.clone();
    expected["schedule_minutes"] = Value::Null;
    expected["scope"] = json!({ "contacts": "mine", "tasks": "mine", "events": "mine" });
    assert_eq!(kept, expected);
    assert_eq!(
        u2.call(Method::GET, "/api/runs", None).await.1["runs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (s, e) = u2
        .call(Method::POST, "/api/sync/run", Some(json!({})))
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_connected")),
        "no sync runs for a stopped user: {e}"
    );

    // Now the removal: everything of theirs goes, their records stay.
    let crm = crm_records(&w);
    let (s, e) = admin
        .call(Method::DELETE, &format!("/api/users/{u2_id}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (_, users) = admin.call(Method::GET, "/api/users", None).await;
    assert!(row(&users).is_none(), "{users}");
    assert_eq!(users["used"], 1);
    assert_eq!(
        u2.call(Method::GET, "/api/me", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(w.sql_count(count_links, &[&u2_profile]).await, 0);
    let runs = "SELECT COUNT(*) FROM runs WHERE profile = ?1";
    assert_eq!(w.sql_count(runs, &[&u2_profile]).await, 0);
    assert_eq!(crm_records(&w), crm, "records in CRM stay");
    assert_no_secrets_stored(&w);
    assert_no_secrets_answered(&w);
}

/// The sign-in of the widget inside Zoho CRM's web tab. The CRM user id the widget learnt from
/// Zoho's SDK is a claim (anyone can send any id), so it grants nothing: `/auth/crm-grant` only
/// says whether a consent is held, and `expect=` only narrows — the callback signs in the
/// account Zoho's token exchange names, and refuses any other than the expected one.
#[tokio::test]
async fn the_crm_tabs_sign_in_refuses_another_account_and_a_claimed_id_grants_nothing() {
    const DEMO_ID: &str = "5725767000000411001";
    const ORG_ID: &str = "5725767000000000123";
    let w = world(Seed::Empty).await;
    let grant = |query: String| {
        let url = format!("{}/auth/crm-grant?{query}", w.base);
        async move {
            let r = client().get(url).send().await.unwrap();
            assert!(
                r.headers().get("set-cookie").is_none(),
                "a cookie from crm-grant"
            );
            r.json::<Value>().await.unwrap()["grant"].clone()
        }
    };
    assert_eq!(grant(format!("user_id={DEMO_ID}")).await, false);

    // Expected demo, Zoho signs in user2: refused, no session.
    let mut b = Browser::new(&w);
    let r = b
        .get_raw(&format!("{}/auth/login?popup=1&expect={DEMO_ID}", w.base))
        .await;
    let consent = location(&r);
    assert!(consent.contains("prompt=consent"), "{consent}");
    let r = b.consent(&consent, "user2@example.com").await;
    let r = b.get_raw(&location(&r)).await;
    let page = r.text().await.unwrap();
    assert!(page.contains("/auth/popup.js?result=mismatch"), "{page}");
    assert!(!b.cookies.contains_key("nzsync_session"));
    let (status, _) = b.call(Method::GET, "/api/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let js = client()
        .get(format!("{}/auth/popup.js?result=mismatch", w.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(js.contains("nzsync-account-mismatch"), "{js}");

    // Demo signs in (the ordinary way): the server now holds demo's consent.
    b.sign_in("demo@example.com").await;
    assert_eq!(grant(format!("user_id={DEMO_ID}")).await, true);
    assert_eq!(
        grant(format!("user_id={DEMO_ID}&org_id={ORG_ID}")).await,
        true
    );
    assert_eq!(grant(format!("user_id={DEMO_ID}&org_id=1")).await, false);
    assert_eq!(grant("user_id=demo%40example.com".into()).await, false);

    // Another browser claiming demo's id gets no session from it: only Zoho's sign-in, now
    // without forcing the consent page again.
    let mut c = Browser::new(&w);
    let r = c
        .get_raw(&format!("{}/auth/login?popup=1&expect={DEMO_ID}", w.base))
        .await;
    assert!(!location(&r).contains("prompt=consent"), "{}", location(&r));
    assert!(!c.cookies.contains_key("nzsync_session"));
    let (status, _) = c.call(Method::GET, "/api/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A browser's sync creates CRM records through the proxy: the server remembers them from
/// Zoho's own answers, and the uninstall deletes them. What the browser merely claims it created
/// (a `crm_created` state change naming another user's record) is never stored, so the admin's
/// uninstall, which deletes with the admin's access, cannot be led to delete that record.
#[tokio::test]
async fn an_uninstall_deletes_what_the_proxy_saw_created_never_what_a_browser_claims() {
    let w = world(Seed::Demo).await;
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    admin.connect(&w).await;
    let contacts = || w.sims.zoho().dump()["modules"]["Contacts"].clone();
    let victim = contacts()
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["Owner"]["id"] == "5725767000000411005")
        .and_then(|c| c["id"].as_str())
        .expect("user2 owns a contact")
        .to_owned();
    let before = contacts().as_array().unwrap().len();

    // The sync's insert, as the widget's engine sends it: two records created, one refused.
    let body = json!({ "data": [
        { "Last_Name": "Created one", "Email": "created.one@example.com" },
        { "Last_Name": "Created two", "Email": "created.two@example.com" },
        { "Email": "no-last-name@example.com" },
    ]});
    let (s, v) = admin
        .call(Method::POST, "/proxy/zoho/crm/v8/Contacts", Some(body))
        .await;
    assert!(s.is_success(), "{s} {v}");
    let made: Vec<String> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "success")
        .map(|r| r["details"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(made.len(), 2, "{v}");
    assert_eq!(contacts().as_array().unwrap().len(), before + 2);

    // The claim, with the lease a sync holds.
    let (_, lease) = admin.call(Method::POST, "/api/sync/lease", None).await;
    let lease = lease["lease"].as_str().unwrap().to_owned();
    let claim = json!({ "changes": [
        { "op": "crm_created", "module": "contacts", "zoho_id": victim },
        { "op": "xref_ready", "module": "contacts" },
    ]});
    let (s, e) = admin
        .send(
            Method::POST,
            "/api/sync/state-changes",
            Some(claim),
            true,
            &[("x-sync-lease", &lease)],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!(
        e["applied"], 1,
        "only the change it may make is stored: {e}"
    );
    admin
        .send(
            Method::DELETE,
            "/api/sync/lease",
            None,
            true,
            &[("x-sync-lease", &lease)],
        )
        .await;

    let (s, done) = admin
        .call(
            Method::POST,
            "/api/uninstall",
            Some(json!({ "confirm": true, "delete_crm_records": true })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    let left = contacts();
    let ids: Vec<&str> = left
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids.len(), before, "the two created records went");
    assert!(
        ids.contains(&victim.as_str()),
        "user2's contact was deleted"
    );
    assert!(made.iter().all(|m| !ids.contains(&m.as_str())));
    assert_store_empty(&w).await;
}
