//! Schedule Meeting (F6) through the web server against the Domino and Zoho simulators: the
//! meeting lands in the Notes calendar (with a notice in the attendee's mail file) and as a
//! linked CRM Event, a later sync writes nothing, and the refusals create nothing. Every address
//! is loopback.

#![allow(clippy::unwrap_used)] // A failed unwrap is how a test reports failure.

mod common;

use nzsync_sim::Seed;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::{Browser, PASSWORD, PASSWORD2, World, client, world};
use sync_core::Timestamp;

/// A GET on the Domino simulator as `user`.
async fn domino_get(w: &World, user: &str, password: &str, path: &str) -> (u16, Value) {
    let r = client()
        .get(format!("{}{path}", w.sims.domino_url))
        .basic_auth(user, Some(password))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The invitation notices in user2's mail file.
async fn user2_notices(w: &World) -> Vec<Value> {
    let (status, inv) = domino_get(
        w,
        "user2",
        PASSWORD2,
        "/mail/user2.nsf/api/calendar/invitations",
    )
    .await;
    assert_eq!(status, 200, "{inv}");
    inv["notices"].as_array().cloned().unwrap_or_default()
}

/// CRM Events (the simulator's own view).
fn crm_events(w: &World) -> Vec<Value> {
    w.sims.zoho().dump()["modules"]["Events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The Notes calendar entries of `db` in a window around `t`, with `summary` = `subject`.
async fn notes_events(w: &World, user: &str, password: &str, db: &str, t: Timestamp) -> Vec<Value> {
    let since = t.plus_ms(-3 * 86_400_000).to_das();
    let before = t.plus_ms(3 * 86_400_000).to_das();
    let (status, v) = domino_get(
        w,
        user,
        password,
        &format!("/{db}/api/calendar/events?since={since}&before={before}&count=100"),
    )
    .await;
    assert_eq!(status, 200);
    v["events"].as_array().cloned().unwrap_or_default()
}

fn emails(list: &Value, key: &str) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p[key].as_str().map(str::to_lowercase))
        .collect();
    v.sort();
    v
}

/// Tomorrow-ish at a whole hour.
fn meeting_start() -> Timestamp {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let hour = 3_600_000;
    Timestamp((i64::try_from(now).unwrap() / hour + 30) * hour)
}

#[tokio::test]
async fn a_scheduled_meeting_is_in_notes_and_crm_linked_so_a_sync_writes_nothing() {
    let w = world(Seed::Demo).await;
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    admin.connect(&w).await;
    let (s, e) = admin
        .call(
            Method::PUT,
            "/api/settings",
            Some(json!({ "contacts": false, "tasks": false, "events": "all", "direction": "two_way", "conflict": "crm_wins" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");

    // The attendee search finds CRM users and contacts.
    let contact = w.sims.zoho().dump()["modules"]["Contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["Email"].as_str().is_some_and(|e| !e.is_empty()) && c["Tag"] == json!([]))
        .cloned()
        .unwrap();
    let contact_id = contact["id"].as_str().unwrap().to_owned();
    let contact_email = contact["Email"].as_str().unwrap().to_lowercase();
    let (s, found) = admin
        .call(Method::GET, "/api/meetings/attendees?q=user2", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{found}");
    assert!(
        found.as_array().unwrap().iter().any(|a| a["type"] == "user"
            && a["email"] == "user2@example.com"
            && a["id"].is_string()),
        "{found}"
    );
    let (s, found) = admin
        .call(
            Method::GET,
            &format!("/api/meetings/attendees?q={contact_email}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{found}");
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["type"] == "contact" && a["id"] == contact_id.as_str()),
        "{found}"
    );
    let short: String = contact_email.chars().take(2).collect();
    let (s, found) = admin
        .call(
            Method::GET,
            &format!("/api/meetings/attendees?q={short}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{found}");
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == contact_id.as_str()),
        "{found}"
    );

    let start = meeting_start();
    let end = start.plus_ms(3_600_000);
    let subject = "Quarterly review (F6 test)";
    let before_events = crm_events(&w).len();
    let (s, made) = admin
        .call(
            Method::POST,
            "/api/meetings",
            Some(json!({
                "subject": subject,
                "attendees": [
                    { "email": "User2@Example.com", "name": "User Two" },
                    { "email": contact_email, "type": "contact", "id": contact_id },
                    { "email": "guest@partner.example", "type": "email" },
                ],
                "location": "Room 4",
                "start": start.to_offset(120),
                "end": end.to_offset(-300),
                "reminder_minutes": 15,
            })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let uid = made["notes_uid"].as_str().unwrap().to_owned();
    let zoho_id = made["zoho_id"].as_str().unwrap().to_owned();

    // The Notes meeting: times in UTC, the organizer as chair, the attendees, the alarm.
    let (status, ev) = domino_get(
        &w,
        "demo",
        PASSWORD,
        &format!("/mail/demo.nsf/api/calendar/events/{uid}"),
    )
    .await;
    assert_eq!(status, 200, "{ev}");
    let ev = &ev["events"][0];
    assert_eq!(ev["summary"], subject);
    assert_eq!(ev["location"], "Room 4");
    let das = start.to_das();
    assert_eq!(
        ev["start"],
        json!({ "date": &das[0..10], "time": &das[11..19], "utc": true })
    );
    assert_eq!(ev["end"]["time"], &end.to_das()[11..19]);
    let mut want = vec![
        "demo@example.com".to_owned(),
        contact_email.clone(),
        "guest@partner.example".into(),
        "user2@example.com".into(),
    ];
    want.sort();
    assert_eq!(emails(&ev["attendees"], "email"), want);
    assert!(
        ev["attendees"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["role"] == "chair" && a["email"] == "demo@example.com"),
        "{ev}"
    );
    assert_eq!(ev["alarm"][0]["trigger"]["value"], "-PT15M");
    assert_eq!(ev["class"], "public");
    assert_eq!(ev["x-nzsync-zoho-id"]["data"], zoho_id.as_str(), "{ev}");

    // Domino sent user2 the invitation.
    let notices = user2_notices(&w).await;
    assert!(
        notices.iter().any(|n| n["summary"] == subject),
        "{notices:?}"
    );

    // The CRM Event: participants, reminder, the Notes UID.
    let events = crm_events(&w);
    assert_eq!(events.len(), before_events + 1);
    let crm = events.iter().find(|e| e["id"] == zoho_id.as_str()).unwrap();
    assert_eq!(crm["Event_Title"], subject);
    assert_eq!(crm["Venue"], "Room 4");
    // The cross-ID names the mail file (its replica ID) and the Notes event.
    let xref = crm["Notes_UNID"].as_str().unwrap();
    let (replica, key) = xref.split_once(':').unwrap();
    assert_eq!(key, uid.as_str());
    assert!(
        replica.len() == 16 && replica.bytes().all(|b| b.is_ascii_hexdigit()),
        "{xref}"
    );
    assert_eq!(
        crm["Remind_At"],
        json!([{ "unit": 15, "period": "minutes" }])
    );
    let participants = crm["Participants"].as_array().unwrap();
    assert_eq!(participants.len(), 3, "{crm}");
    assert!(
        participants
            .iter()
            .any(|p| p["type"] == "contact" && p["participant"] == contact_id.as_str())
    );
    let mut want: Vec<String> = want
        .into_iter()
        .filter(|e| e != "demo@example.com")
        .collect();
    want.sort();
    assert_eq!(emails(&crm["Participants"], "Email"), want);

    // A sync sees the pair in step: no duplicate anywhere, nothing written to it.
    for _ in 0..2 {
        let (s, run) = admin
            .call(Method::POST, "/api/sync/run", Some(json!({})))
            .await;
        assert_eq!(s, StatusCode::OK, "{run}");
        let report = &run["report"];
        assert_ne!(report["outcome"], "failed", "{report}");
        let events_report = report["modules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["module"] == "events")
            .unwrap_or_else(|| panic!("no events module in {report}"));
        assert_eq!(events_report["counts"]["errors"], 0, "{events_report}");
        assert!(
            events_report["counts"]["unchanged"].as_u64().unwrap() >= 1,
            "{events_report}"
        );
        for e in events_report["entries"].as_array().unwrap() {
            let ours = e["unid"] == uid.as_str()
                || e["zoho_id"] == zoho_id.as_str()
                || e["label"].as_str().is_some_and(|l| l.contains(subject));
            assert!(
                !ours || e["verdict"] == "in_step",
                "the scheduled meeting was touched: {e}"
            );
        }
        let crm_copies = crm_events(&w)
            .into_iter()
            .filter(|e| e["Event_Title"] == subject)
            .count();
        assert_eq!(crm_copies, 1);
        let notes_copies = notes_events(&w, "demo", PASSWORD, "mail/demo.nsf", start)
            .await
            .into_iter()
            .filter(|e| e["summary"] == subject)
            .count();
        assert_eq!(notes_copies, 1);
        let crm = crm_events(&w)
            .into_iter()
            .find(|e| e["id"] == zoho_id.as_str())
            .unwrap();
        assert_eq!(crm["Modified_Time"], crm["Created_Time"], "{crm}");
    }

    // The CRM Event is the integration's: uninstall with delete_crm_records removes it (F9);
    // the Notes meeting, which Domino sent to the attendees, stays.
    let (s, done) = admin
        .call(
            Method::POST,
            "/api/uninstall",
            Some(json!({ "confirm": true, "delete_crm_records": true })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert!(done["crm_records_deleted"].as_u64().unwrap() >= 1, "{done}");
    assert!(
        !crm_events(&w).iter().any(|e| e["id"] == zoho_id.as_str()),
        "the meeting's CRM Event is still there"
    );
    let notes_copies = notes_events(&w, "demo", PASSWORD, "mail/demo.nsf", start)
        .await
        .into_iter()
        .filter(|e| e["summary"] == subject)
        .count();
    assert_eq!(notes_copies, 1);
}

#[tokio::test]
async fn meeting_refusals_create_nothing() {
    let w = world(Seed::Empty).await;
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    let start = meeting_start();
    let good = json!({
        "subject": "Planning",
        "attendees": [{ "email": "user2@example.com" }],
        "start": start.to_das(),
        "end": start.plus_ms(1_800_000).to_das(),
    });

    // No CSRF header.
    let (s, e) = admin
        .send(
            Method::POST,
            "/api/meetings",
            Some(good.clone()),
            false,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    // Not connected to Domino.
    let (s, e) = admin
        .call(Method::POST, "/api/meetings", Some(good.clone()))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "not_connected", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("connect to your Domino server"),
        "{e}"
    );
    let (s, e) = admin
        .call(Method::GET, "/api/meetings/attendees?q=user", None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");

    admin.connect(&w).await;
    let with = |patch: Value| {
        let mut b = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let many: Vec<Value> = (0..51)
        .map(|i| json!({ "email": format!("p{i}@partner.example") }))
        .collect();
    let cases = [
        (
            with(json!({ "end": start.plus_ms(-60_000).to_das() })),
            "end",
        ),
        (with(json!({ "end": start.to_das() })), "end"),
        (
            with(json!({ "attendees": [{ "email": "not-an-address" }] })),
            "attendees[0].email",
        ),
        (
            with(
                json!({ "attendees": [{ "email": "user2@example.com" }, { "email": "a b@x.com" }] }),
            ),
            "attendees[1].email",
        ),
        (with(json!({ "subject": "" })), "subject"),
        (with(json!({ "subject": "   " })), "subject"),
        (with(json!({ "subject": "x".repeat(256) })), "subject"),
        (with(json!({ "attendees": [] })), "attendees"),
        (with(json!({ "attendees": many })), "attendees"),
        (
            with(json!({ "attendees": [{ "email": "demo@example.com" }] })),
            "attendees",
        ),
        (
            with(json!({ "reminder_minutes": 40_321 })),
            "reminder_minutes",
        ),
        (with(json!({ "reminder_minutes": -1 })), "reminder_minutes"),
        (with(json!({ "reminder_minutes": 61 })), "reminder_minutes"),
        (with(json!({ "start": "tomorrow at nine" })), "start"),
        (with(json!({ "start": "2026-03-02T09:00:00" })), "start"),
        (
            with(
                json!({ "attendees": [{ "email": "x@partner.example", "type": "contact", "id": "999999" }] }),
            ),
            "attendees[0].id",
        ),
        (
            with(
                json!({ "attendees": [{ "email": "x@partner.example", "type": "user", "id": "123" }] }),
            ),
            "attendees[0].id",
        ),
        (
            with(json!({ "attendees": [{ "email": "x@partner.example", "type": "lead" }] })),
            "attendees[0].type",
        ),
    ];
    for (body, field) in cases {
        let (s, e) = admin
            .call(Method::POST, "/api/meetings", Some(body.clone()))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {e}");
        let msg = e["error"]["message"].as_str().unwrap();
        assert!(msg.starts_with(&format!("{field}:")), "{field}: {msg}");
    }
    let (s, e) = admin
        .call(Method::POST, "/api/meetings", Some(json!({ "subject": 5 })))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

    assert!(crm_events(&w).is_empty());
    assert!(
        notes_events(&w, "demo", PASSWORD, "mail/demo.nsf", start)
            .await
            .is_empty()
    );
    let (_, inv) = domino_get(
        &w,
        "user2",
        PASSWORD2,
        "/mail/user2.nsf/api/calendar/invitations",
    )
    .await;
    assert_eq!(inv["notices"], json!([]), "{inv}");
}

#[tokio::test]
async fn a_failed_crm_create_says_the_notes_meeting_exists() {
    let w = world(Seed::Empty).await;
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    admin.connect(&w).await;
    let r = client()
        .post(format!("{}/_sim/faults", w.sims.zoho_url))
        .json(&json!({ "rules": [{ "kind": "status", "status": 500, "method": "POST", "path_prefix": "/crm/v8/Events", "times": 1 }] }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let start = meeting_start();
    let (s, e) = admin
        .call(
            Method::POST,
            "/api/meetings",
            Some(json!({
                "subject": "Half made",
                "attendees": [{ "email": "user2@example.com" }],
                "start": start.to_das(),
                "end": start.plus_ms(1_800_000).to_das(),
                "reminder_minutes": 120,
            })),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_GATEWAY, "{e}");
    let uid = e["notes_uid"].as_str().unwrap();
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("Notes meeting was created")
            && msg.contains(uid)
            && msg.contains("CRM Event was not"),
        "{msg}"
    );
    // The Notes meeting stays; no CRM Event.
    let (status, ev) = domino_get(
        &w,
        "demo",
        PASSWORD,
        &format!("/mail/demo.nsf/api/calendar/events/{uid}"),
    )
    .await;
    assert_eq!(status, 200, "{ev}");
    assert_eq!(ev["events"][0]["alarm"][0]["trigger"]["value"], "-PT120M");
    assert!(crm_events(&w).is_empty());
}

/// The Domino REST API's calls to `path` since its log was cleared.
fn drapi_calls_to(w: &World, path: &str) -> usize {
    w.sims
        .domino()
        .drapi_calls()
        .iter()
        .filter(|c| c.path == path)
        .count()
}

async fn drapi_control(w: &World, method: Method, path: &str, body: Option<Value>) {
    let mut rb = client().request(method, format!("{}{path}", w.sims.drapi_url));
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
}

/// A user who connects through the Domino REST API (Domino 12.0.2 and later): `auto` settles on
/// the API that answers at the address; the widget's proxy signs in to the REST API once for
/// many requests and again once after the REST API restarts; a headless sync goes through the
/// REST API only; Schedule Meeting makes the meeting through the PIM calendar, which invites
/// the attendee, and links it so the next sync writes nothing.
#[tokio::test]
async fn a_user_on_the_domino_rest_api_syncs_through_it_and_schedules_a_meeting() {
    let w = common::world_with(
        Seed::Demo,
        |sims| common::WorldOptions {
            allowed_servers: Some(vec![sims.domino_url.clone(), sims.drapi_url.clone()]),
            ..common::WorldOptions::default()
        },
        |_| {},
    )
    .await;
    let mut admin = Browser::new(&w);
    admin.sign_in("demo@example.com").await;
    let connect = |server: &str, api: &str| json!({ "server": server, "user": "demo", "password": PASSWORD, "api": api });
    // `auto` at Domino Access Services' address: DAS.
    let (s, c) = admin
        .call(
            Method::POST,
            "/api/connect",
            Some(connect(&w.sims.domino_url, "auto")),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["api"], "das", "{c}");
    // `auto` at the REST API's address: the REST API, ready.
    let (s, c) = admin
        .call(
            Method::POST,
            "/api/connect",
            Some(connect(&w.sims.drapi_url, "auto")),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(
        (&c["api"], &c["ready"]),
        (&json!("rest"), &json!(true)),
        "{c}"
    );
    let (_, me) = admin.call(Method::GET, "/api/me", None).await;
    assert_eq!(me["domino"]["api"], "rest", "{me}");
    assert_eq!(me["domino"]["server"], w.sims.drapi_url.as_str(), "{me}");

    // The proxy: one login for many requests; after a restart of the REST API, one more.
    drapi_control(&w, Method::DELETE, "/_sim/calls", None).await;
    let scope = "/proxy/domino/api/v1/scope?dataSource=maildemo";
    for _ in 0..3 {
        let (s, body) = admin.call(Method::GET, scope, None).await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    assert_eq!(drapi_calls_to(&w, "/api/v1/auth"), 1);
    drapi_control(
        &w,
        Method::POST,
        "/_sim/config",
        Some(json!({ "expire_tokens": true })),
    )
    .await;
    let (s, body) = admin.call(Method::GET, scope, None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(drapi_calls_to(&w, "/api/v1/auth"), 2);
    drapi_control(
        &w,
        Method::POST,
        "/_sim/config",
        Some(json!({ "expire_tokens": false })),
    )
    .await;

    // A headless sync: every Domino request goes to the REST API.
    let (s, e) = admin
        .call(
            Method::PUT,
            "/api/settings",
            Some(json!({ "contacts": true, "tasks": true, "events": "all",
                "direction": "two_way", "conflict": "crm_wins" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let das_before = w.sims.domino().calls().len();
    let (s, run) = admin
        .call(Method::POST, "/api/sync/run", Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    assert_eq!(run["report"]["outcome"], "completed", "{run}");
    assert_eq!(
        w.sims.domino().calls().len(),
        das_before,
        "a sync through the REST API called Domino Access Services"
    );
    assert!(
        w.sims
            .domino()
            .drapi_calls()
            .iter()
            .any(|c| c.path.starts_with("/api/v1/lists/")),
        "the sync did not list through the REST API"
    );

    // Schedule Meeting through the PIM calendar.
    let start = meeting_start();
    let subject = "Planning over the REST API (F6 test)";
    let (s, made) = admin
        .call(
            Method::POST,
            "/api/meetings",
            Some(json!({
                "subject": subject,
                "attendees": [{ "email": "user2@example.com", "name": "User Two" }],
                "location": "Room 7",
                "start": start.to_offset(0),
                "end": start.plus_ms(1_800_000).to_offset(0),
            })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let uid = made["notes_uid"].as_str().unwrap().to_owned();
    let zoho_id = made["zoho_id"].as_str().unwrap().to_owned();
    assert!(
        w.sims
            .domino()
            .drapi_calls()
            .iter()
            .any(|c| c.method == "POST" && c.path == "/api/pim-v1/calendar/default"),
        "the meeting was not made through the PIM calendar"
    );
    // In Notes (the same mail file seen through DAS), with the attendee invited.
    let ev = notes_events(&w, "demo", PASSWORD, "mail/demo.nsf", start)
        .await
        .into_iter()
        .find(|e| e["summary"] == subject)
        .expect("the meeting is not in the Notes calendar");
    assert_eq!(ev["location"], "Room 7", "{ev}");
    let notices = user2_notices(&w).await;
    assert!(
        notices.iter().any(|n| n["summary"] == subject),
        "{notices:?}"
    );
    // In the CRM, naming the mail file and the Notes entry.
    let crm = crm_events(&w)
        .into_iter()
        .find(|e| e["id"] == zoho_id.as_str())
        .unwrap();
    let xref = crm["Notes_UNID"].as_str().unwrap();
    assert!(xref.ends_with(&format!(":{uid}")), "{xref}");

    // The next sync sees the pair in step.
    let (s, run) = admin
        .call(Method::POST, "/api/sync/run", Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::OK, "{run}");
    let events = run["report"]["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["module"] == "events")
        .unwrap()
        .clone();
    assert_eq!(events["counts"]["errors"], 0, "{events}");
    for e in events["entries"].as_array().unwrap() {
        let ours = e["unid"] == uid.as_str() || e["zoho_id"] == zoho_id.as_str();
        assert!(
            !ours || e["verdict"] == "in_step",
            "the meeting was touched: {e}"
        );
    }
    assert_eq!(
        crm_events(&w)
            .iter()
            .filter(|e| e["Event_Title"] == subject)
            .count(),
        1
    );
}
