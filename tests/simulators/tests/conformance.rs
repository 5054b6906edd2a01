//! Conformance suite: one test per documented request/response example or rule that a client
//! touches, in `reference/domino-api.md` (calendar service) and `reference/zoho-crm-api.md`
//! (Events, limits, external ids, upsert, search, COQL, tags, scopes). Each test's doc
//! comment names the section and the fact it covers.

mod common;

use common::{auth, control, http, json, sims, token};
use nzsync_sim::Seed;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CAL: &str = "/mail/demo.nsf/api/calendar";

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn das(
    method: reqwest::Method,
    base: &str,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    das_as("demo", "demo", method, base, path, body).await
}

async fn das_as(
    user: &str,
    pw: &str,
    method: reqwest::Method,
    base: &str,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = http()
        .request(method, format!("{base}{path}"))
        .basic_auth(user, Some(pw));
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("request")
}

async fn cal_get(base: &str, path: &str) -> reqwest::Response {
    das(reqwest::Method::GET, base, path, None).await
}

fn eastern() -> Value {
    json!({"tzid":"Eastern",
        "standard":{"start":{"date":"1950-11-05","time":"02:00:00"},"offsetFrom":"-0400","offsetTo":"-0500","recurrenceRule":"FREQ=YEARLY;BYMONTH=11;BYDAY=1SU;BYHOUR=2;BYMINUTE=0"},
        "daylight":{"start":{"date":"1950-03-12","time":"02:00:00"},"offsetFrom":"-0500","offsetTo":"-0400","recurrenceRule":"FREQ=YEARLY;BYMONTH=3;BYDAY=2SU;BYHOUR=2;BYMINUTE=0"}})
}

/// The S3-derived meeting create request of domino-api.md §2.3.
fn duke_meeting() -> Value {
    json!({"timezones":[eastern()],"events":[{"summary":"1x1 with Duke","location":"My office",
        "description":"Status updates",
        "start":{"date":"2013-09-16","time":"09:00:00","tzid":"Eastern"},
        "end":{"date":"2013-09-16","time":"10:00:00","tzid":"Eastern"},
        "class":"public","transparency":"opaque","sequence":0,
        "attendees":[{"role":"chair","status":"accepted","rsvp":false,"displayName":"Tester","email":"tester@acme.com"},
                     {"role":"req-participant","status":"needs-action","rsvp":true,"displayName":"Duke","email":"duke@acme.com"}],
        "organizer":{"displayName":"Tester","email":"tester@acme.com"}}]})
}

async fn create_event(base: &str, body: Value) -> (String, Value) {
    let resp = das(
        reqwest::Method::POST,
        base,
        &format!("{CAL}/events"),
        Some(body),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = header(&resp, "location").expect("Location");
    let body = json(resp).await;
    let uid = body["events"][0]["id"].as_str().expect("id").to_owned();
    assert!(location.ends_with(&format!("/mail/demo.nsf/api/calendar/events/{uid}")));
    assert!(location.starts_with("http://"));
    (uid, body)
}

fn window(since: &str, before: &str) -> String {
    format!("{CAL}/events?since={since}&before={before}")
}

/// domino-api.md §2.1: POST events → 201 + Location + the created event (same format as the
/// request; the §2.3 example meeting), with `timezones` at top level.
#[tokio::test]
async fn cal_2_1_post_returns_201_location_and_event() {
    let s = sims(Seed::Empty).await;
    let (uid, body) = create_event(&s.domino_url, duke_meeting()).await;
    assert!(uid.ends_with("-Lotus_Notes_Generated"));
    let ev = &body["events"][0];
    assert_eq!(ev["summary"], "1x1 with Duke");
    assert_eq!(
        ev["start"],
        json!({"date":"2013-09-16","time":"09:00:00","tzid":"Eastern"})
    );
    assert_eq!(ev["attendees"][1]["email"], "duke@acme.com");
    assert_eq!(ev["sequence"], 0);
    assert_eq!(body["timezones"][0]["tzid"], "Eastern");
    assert_eq!(
        ev["href"],
        format!("/mail/demo.nsf/api/calendar/events/{uid}")
    );
}

/// domino-api.md §2.1: an empty POST body → 400 "Empty request body.".
#[tokio::test]
async fn cal_2_1_empty_body_is_400() {
    let s = sims(Seed::Empty).await;
    let resp = http()
        .post(format!("{}{CAL}/events", s.domino_url))
        .basic_auth("demo", Some("demo"))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["message"], "Empty request body.");
}

/// domino-api.md §2.2: `since`/`before` must be exactly `yyyy-MM-dd'T'HH:mm:ss'Z'`, else 400.
#[tokio::test]
async fn cal_2_2_since_format_is_strict() {
    let s = sims(Seed::Empty).await;
    for bad in [
        "2013-09-01",
        "2013-09-01T00:00:00.000Z",
        "2013-09-01T00:00:00%2B01:00",
    ] {
        let resp = cal_get(&s.domino_url, &format!("{CAL}/events?since={bad}")).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let resp = cal_get(
        &s.domino_url,
        &format!("{CAL}/events?since=2013-09-01T00:00:00Z"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

/// domino-api.md §2.2: `before` ≤ `since` → 400 with the exact text.
#[tokio::test]
async fn cal_2_2_before_not_after_since_is_400() {
    let s = sims(Seed::Empty).await;
    let resp = cal_get(
        &s.domino_url,
        &window("2013-09-10T00:00:00Z", "2013-09-10T00:00:00Z"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json(resp).await["message"],
        "The \"before\" date must be after the \"since\" date"
    );
}

/// domino-api.md §2.2: `count` must be 1..100 — exact 400 text.
#[tokio::test]
async fn cal_2_2_count_range_exact_text() {
    let s = sims(Seed::Empty).await;
    for n in [0, 101] {
        let resp = cal_get(&s.domino_url, &format!("{CAL}/events?count={n}")).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            json(resp).await["message"],
            format!("Invalid count parameter: {n}.  It must be greater than 0 and less than 101.")
        );
    }
}

/// domino-api.md §2.2 and §6.2 #13: no events → 200 with no body and no Content-Type.
#[tokio::test]
async fn cal_2_2_empty_window_has_no_body() {
    let s = sims(Seed::Empty).await;
    let resp = cal_get(&s.domino_url, &format!("{CAL}/events")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, "content-type").is_none());
    assert!(resp.text().await.unwrap().is_empty());
}

/// domino-api.md §2.2: 200 `{"events":[…]}` with `Content-Range: items a-b` (no total);
/// `start`/`count` page; rows are summary data only (no description, no attendees); an event
/// is in the window when its start is.
#[tokio::test]
async fn cal_2_2_list_paging_and_summary_rows() {
    let s = sims(Seed::Empty).await;
    create_event(&s.domino_url, duke_meeting()).await;
    for day in ["2013-09-17", "2013-09-18"] {
        create_event(
            &s.domino_url,
            json!({"events":[{"summary":format!("Dentist {day}"),"description":"floss",
                "start":{"date":day,"time":"17:00:00","utc":true},
                "end":{"date":day,"time":"18:00:00","utc":true}}]}),
        )
        .await;
    }
    let resp = cal_get(
        &s.domino_url,
        &format!(
            "{}&start=1&count=2",
            window("2013-09-01T00:00:00Z", "2013-10-01T00:00:00Z")
        ),
    )
    .await;
    assert_eq!(header(&resp, "content-range").as_deref(), Some("items 1-2"));
    let body = json(resp).await;
    let rows = body["events"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["summary"], "Dentist 2013-09-17");
    for r in rows {
        assert!(r.get("description").is_none() && r.get("attendees").is_none());
        assert!(
            r["href"]
                .as_str()
                .unwrap()
                .starts_with("/mail/demo.nsf/api/calendar/events/")
        );
    }
    // The meeting starts 13:00Z: a window starting 13:00:01Z leaves it out.
    let resp = cal_get(
        &s.domino_url,
        &window("2013-09-16T13:00:01Z", "2013-09-17T00:00:00Z"),
    )
    .await;
    assert!(resp.text().await.unwrap().is_empty());
}

/// domino-api.md §2.2: `fields=` restricts the row properties; unknown names are ignored.
#[tokio::test]
async fn cal_2_2_fields_parameter() {
    let s = sims(Seed::Empty).await;
    create_event(&s.domino_url, duke_meeting()).await;
    let w = window("2013-09-01T00:00:00Z", "2013-10-01T00:00:00Z");
    let body = json(cal_get(&s.domino_url, &format!("{w}&fields=summary,bogus")).await).await;
    let row = body["events"][0].as_object().unwrap();
    assert!(
        row.contains_key("summary") && !row.contains_key("start") && !row.contains_key("location")
    );
    let body = json(cal_get(&s.domino_url, &format!("{w}&fields=bogus")).await).await;
    assert!(body["events"][0].get("start").is_some());
}

/// domino-api.md §2.2/§2.3: each instance of a recurring event is a separate row with
/// `recurrenceId` (UTC basic format) and an instance `href`.
#[tokio::test]
async fn cal_2_2_recurring_instances_are_rows() {
    let s = sims(Seed::Empty).await;
    let (uid, _) = create_event(
        &s.domino_url,
        json!({"timezones":[eastern()],"events":[{"summary":"Standup",
            "start":{"date":"2013-09-16","time":"09:00:00","tzid":"Eastern"},
            "end":{"date":"2013-09-16","time":"09:15:00","tzid":"Eastern"},
            "recurrenceRule":"FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"}]}),
    )
    .await;
    let body = json(
        cal_get(
            &s.domino_url,
            &window("2013-09-01T00:00:00Z", "2013-10-01T00:00:00Z"),
        )
        .await,
    )
    .await;
    let rows = body["events"].as_array().unwrap();
    let rids: Vec<&str> = rows
        .iter()
        .map(|r| r["recurrenceId"].as_str().unwrap())
        .collect();
    assert_eq!(
        rids,
        [
            "20130916T130000Z",
            "20130918T130000Z",
            "20130923T130000Z",
            "20130925T130000Z"
        ]
    );
    assert_eq!(
        rows[1]["href"],
        format!("/mail/demo.nsf/api/calendar/events/{uid}/20130918T130000Z")
    );
    assert_eq!(
        rows[1]["start"],
        json!({"date":"2013-09-18","time":"09:00:00","tzid":"Eastern"})
    );
    assert!(rows[0].get("recurrenceRule").is_none());
}

/// domino-api.md §2.1: `GET …/events/{uid}/instances` lists instances; a non-recurring event →
/// 400 "Event does not recur".
#[tokio::test]
async fn cal_2_1_instances() {
    let s = sims(Seed::Empty).await;
    let (uid, _) = create_event(
        &s.domino_url,
        json!({"events":[{"summary":"Daily","start":{"date":"2013-09-16","time":"13:00:00","utc":true},
            "end":{"date":"2013-09-16","time":"14:00:00","utc":true},
            "recurrenceRule":"FREQ=DAILY;INTERVAL=2;UNTIL=20130921T000000Z"}]}),
    )
    .await;
    let body = json(cal_get(&s.domino_url, &format!("{CAL}/events/{uid}/instances")).await).await;
    assert_eq!(
        body["instances"],
        json!([
            {"recurrenceId":"20130916T130000Z","href":format!("/mail/demo.nsf/api/calendar/events/{uid}/20130916T130000Z")},
            {"recurrenceId":"20130918T130000Z","href":format!("/mail/demo.nsf/api/calendar/events/{uid}/20130918T130000Z")},
            {"recurrenceId":"20130920T130000Z","href":format!("/mail/demo.nsf/api/calendar/events/{uid}/20130920T130000Z")},
        ])
    );
    let (single, _) = create_event(&s.domino_url, duke_meeting()).await;
    let resp = cal_get(&s.domino_url, &format!("{CAL}/events/{single}/instances")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["message"], "Event does not recur");
}

/// domino-api.md §2.1/§2.4: GET, PUT and DELETE one instance; an instance change bumps
/// `sequence` when the time moves; a deleted instance is gone from the list and from
/// `exceptDates` of the series.
#[tokio::test]
async fn cal_2_1_instance_get_put_delete() {
    let s = sims(Seed::Empty).await;
    let (uid, _) = create_event(
        &s.domino_url,
        json!({"events":[{"summary":"Weekly","description":"d",
            "start":{"date":"2013-09-16","time":"13:00:00","utc":true},
            "end":{"date":"2013-09-16","time":"14:00:00","utc":true},
            "recurrenceRule":"FREQ=WEEKLY;COUNT=3"}]}),
    )
    .await;
    let inst = format!("{CAL}/events/{uid}/20130923T130000Z");
    let body = json(cal_get(&s.domino_url, &inst).await).await;
    assert_eq!(body["events"][0]["recurrenceId"], "20130923T130000Z");
    assert_eq!(body["events"][0]["description"], "d");
    let resp = das(
        reqwest::Method::PUT,
        &s.domino_url,
        &inst,
        Some(json!({"events":[{"summary":"Moved","start":{"date":"2013-09-23","time":"15:00:00","utc":true},
            "end":{"date":"2013-09-23","time":"16:00:00","utc":true}}]})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert_eq!(body["events"][0]["summary"], "Moved");
    assert_eq!(
        body["events"][0]["description"], "d",
        "description kept without literally=true"
    );
    assert_eq!(body["events"][0]["sequence"], 1);
    let resp = das(
        reqwest::Method::DELETE,
        &s.domino_url,
        &format!("{CAL}/events/{uid}/20130930T130000Z"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(
        cal_get(
            &s.domino_url,
            &window("2013-09-01T00:00:00Z", "2013-10-10T00:00:00Z"),
        )
        .await,
    )
    .await;
    let rows = body["events"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["summary"], "Moved");
    let series = json(cal_get(&s.domino_url, &format!("{CAL}/events/{uid}")).await).await;
    assert_eq!(series["events"][0]["exceptDates"][0]["date"], "2013-09-30");
    assert_eq!(series["events"][1]["recurrenceId"], "20130923T130000Z");
    let resp = cal_get(
        &s.domino_url,
        &format!("{CAL}/events/{uid}/20130930T130000Z"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// domino-api.md §2.1/§2.4/§7: unknown UID → 404 with cserror 1031 and "Error reading event".
#[tokio::test]
async fn cal_2_4_unknown_uid_is_404_cserror_1031() {
    let s = sims(Seed::Empty).await;
    let resp = cal_get(
        &s.domino_url,
        &format!("{CAL}/events/NOPE-Lotus_Notes_Generated"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body = json(resp).await;
    assert_eq!(body["code"], 404);
    assert_eq!(body["text"], "Not Found");
    assert_eq!(body["cserror"], 1031);
    assert_eq!(body["message"], "Error reading event");
}

/// domino-api.md §2.3: a `tzid` without a `timezones` entry → 400 "The Timezone ID is not
/// found"; `utc:true` with `tzid` → 400 "Bad date time property"; missing `date` → 400.
#[tokio::test]
async fn cal_2_3_time_parsing_rules() {
    let s = sims(Seed::Empty).await;
    let post = |ev: Value| {
        das(
            reqwest::Method::POST,
            &s.domino_url,
            "/mail/demo.nsf/api/calendar/events",
            Some(ev),
        )
    };
    let resp = post(json!({"events":[{"summary":"x","start":{"date":"2013-09-16","time":"09:00:00","tzid":"Eastern"}}]})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["message"], "The Timezone ID is not found");
    let resp = post(json!({"timezones":[eastern()],"events":[{"summary":"x","start":{"date":"2013-09-16","time":"09:00:00","tzid":"Eastern","utc":true}}]})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["message"], "Bad date time property");
    let resp =
        post(json!({"events":[{"summary":"x","start":{"time":"09:00:00","utc":true}}]})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

/// domino-api.md §2.3: all-day values are `{"date"}` only; `categories` is one string; `class`
/// is lower case; `last-modified` is iCal UTC basic format.
#[tokio::test]
async fn cal_2_3_event_json_shapes() {
    let s = sims(Seed::Empty).await;
    let (uid, _) = create_event(
        &s.domino_url,
        json!({"events":[{"summary":"Holiday","start":{"date":"2013-09-16"},"end":{"date":"2013-09-17"},
            "class":"PRIVATE","categories":"Projects;Phone Calls"}]}),
    )
    .await;
    let body = json(cal_get(&s.domino_url, &format!("{CAL}/events/{uid}")).await).await;
    let ev = &body["events"][0];
    assert_eq!(ev["start"], json!({"date":"2013-09-16"}));
    assert_eq!(ev["class"], "private");
    assert_eq!(ev["categories"], "Projects;Phone Calls");
    let lm = ev["last-modified"].as_str().unwrap();
    assert!(
        lm.len() == 16 && lm.ends_with('Z') && lm.as_bytes()[8] == b'T',
        "{lm}"
    );
}

/// domino-api.md §2.3: `class` `confidential` round-trips (single GET and list rows), and
/// is treated like private ("treat both as private"): the backing document is marked
/// `OrgConfidential` "1" as for `private` (§3.3), and not for `public`.
#[tokio::test]
async fn cal_2_3_confidential_class_is_private() {
    let s = sims(Seed::Empty).await;
    let d = &s.domino_url;
    let mut uids = Vec::new();
    for (summary, class) in [
        ("Secret", "CONFIDENTIAL"),
        ("Hidden", "private"),
        ("Open", "public"),
    ] {
        let (uid, created) = create_event(
            d,
            json!({"events":[{"summary":summary,"class":class,
                "start":{"date":"2030-01-10","time":"09:00:00","utc":true},
                "end":{"date":"2030-01-10","time":"10:00:00","utc":true}}]}),
        )
        .await;
        assert_eq!(created["events"][0]["class"], class.to_lowercase());
        uids.push(uid);
    }
    let ev = json(cal_get(d, &format!("{CAL}/events/{}", uids[0])).await).await;
    assert_eq!(ev["events"][0]["class"], "confidential");
    let list =
        json(cal_get(d, &window("2030-01-10T00:00:00Z", "2030-01-11T00:00:00Z")).await).await;
    let class_of = |summary: &str| {
        list["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["summary"] == summary)
            .map(|e| e["class"].clone())
    };
    assert_eq!(class_of("Secret"), Some(json!("confidential")));
    assert_eq!(class_of("Hidden"), Some(json!("private")));

    let docs = json(cal_get(d, "/mail/demo.nsf/api/data/documents").await).await;
    let mut marks = std::collections::BTreeMap::new();
    for entry in docs.as_array().unwrap() {
        let href = entry["@href"].as_str().unwrap();
        let doc = json(cal_get(d, href).await).await;
        marks.insert(
            doc["Subject"].as_str().unwrap().to_owned(),
            doc["OrgConfidential"].clone(),
        );
    }
    assert_eq!(marks["Secret"], "1");
    assert_eq!(marks["Hidden"], "1");
    assert_eq!(marks["Open"], "");
}

/// domino-api.md §2.1/§2.4: PUT → 200 + updated event (sequence bumped on a time change);
/// DELETE → 200 and the event is gone (404 afterwards).
#[tokio::test]
async fn cal_2_4_put_and_delete() {
    let s = sims(Seed::Empty).await;
    let (uid, _) = create_event(&s.domino_url, duke_meeting()).await;
    let mut body = duke_meeting();
    body["events"][0]["start"]["time"] = json!("11:00:00");
    body["events"][0]["end"]["time"] = json!("12:00:00");
    body["events"][0]
        .as_object_mut()
        .unwrap()
        .remove("description");
    let resp = das(
        reqwest::Method::PUT,
        &s.domino_url,
        &format!("{CAL}/events/{uid}?workflow=false"),
        Some(body),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let b = json(resp).await;
    assert_eq!(b["events"][0]["sequence"], 1);
    assert_eq!(b["events"][0]["description"], "Status updates");
    let resp = das(
        reqwest::Method::DELETE,
        &s.domino_url,
        &format!("{CAL}/events/{uid}"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        cal_get(&s.domino_url, &format!("{CAL}/events/{uid}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

/// domino-api.md §2.1 (implicit scheduling) and §6.2 #14: a meeting with an attendee who is a
/// user puts a notice in that user's mail file (`invitations`, `notices/{id}`, a list row with
/// `x-lotus-noticetype` "I" whose event GET fails); `workflow=false` sends none.
#[tokio::test]
async fn cal_2_1_notices_and_workflow_false() {
    let s = sims(Seed::Empty).await;
    let mut meeting = duke_meeting();
    meeting["events"][0]["attendees"][1]["email"] = json!("user2@example.com");
    let mut quiet = meeting.clone();
    quiet["events"][0]["summary"] = json!("Quiet");
    let resp = das(
        reqwest::Method::POST,
        &s.domino_url,
        &format!("{CAL}/events?workflow=false"),
        Some(quiet),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let (uid, _) = create_event(&s.domino_url, meeting).await;
    let inv = das_as(
        "user2",
        "pw2",
        reqwest::Method::GET,
        &s.domino_url,
        "/mail/user2.nsf/api/calendar/invitations",
        None,
    )
    .await;
    let inv = json(inv).await;
    let notices = inv["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0]["summary"], "1x1 with Duke");
    assert_eq!(notices[0]["scheduleMethod"], "request");
    let href = notices[0]["href"].as_str().unwrap();
    let n = json(
        das_as(
            "user2",
            "pw2",
            reqwest::Method::GET,
            &s.domino_url,
            href,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(n["scheduleMethod"], "request");
    assert_eq!(n["events"][0]["id"], uid.as_str());
    assert_eq!(n["timezones"][0]["tzid"], "Eastern");
    let rows = json(
        das_as("user2", "pw2", reqwest::Method::GET, &s.domino_url,
            "/mail/user2.nsf/api/calendar/events?since=2013-09-01T00:00:00Z&before=2013-10-01T00:00:00Z", None)
        .await,
    )
    .await;
    assert_eq!(rows["events"][0]["x-lotus-noticetype"], json!({"data":"I"}));
    let resp = das_as(
        "user2",
        "pw2",
        reqwest::Method::GET,
        &s.domino_url,
        &format!("/mail/user2.nsf/api/calendar/events/{uid}"),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// domino-api.md §2.1: the calendar service ignores `$AllowRESTDbAPI` but honours the server
/// "Calendar" service switch (403 when disabled); no database → 404 "No database context.".
#[tokio::test]
async fn cal_2_1_switches() {
    let s = sims(Seed::Empty).await;
    control(
        &s.domino_url,
        "/_sim/config",
        json!({"databases":{"mail/demo.nsf":{"allow_rest":0}}}),
    )
    .await;
    assert_eq!(
        cal_get(&s.domino_url, &format!("{CAL}/events"))
            .await
            .status(),
        StatusCode::OK
    );
    control(
        &s.domino_url,
        "/_sim/config",
        json!({"enabled_services":["Data"]}),
    )
    .await;
    assert_eq!(
        cal_get(&s.domino_url, &format!("{CAL}/events"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    control(
        &s.domino_url,
        "/_sim/config",
        json!({"enabled_services":["Data","Calendar"]}),
    )
    .await;
    let resp = cal_get(&s.domino_url, "/api/calendar/events").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(json(resp).await["message"], "No database context.");
}

/// domino-api.md §3.1 and §6.2 #2: calendar entries are documents (form Appointment) that
/// `documents?since=` lists.
#[tokio::test]
async fn cal_3_1_entries_are_appointment_documents() {
    let s = sims(Seed::Empty).await;
    create_event(&s.domino_url, duke_meeting()).await;
    let docs = json(
        cal_get(
            &s.domino_url,
            "/mail/demo.nsf/api/data/documents?since=2000-01-01T00:00:00Z",
        )
        .await,
    )
    .await;
    let docs = docs.as_array().unwrap();
    assert_eq!(docs.len(), 1);
    let unid = docs[0]["@unid"].as_str().unwrap();
    let doc = json(
        cal_get(
            &s.domino_url,
            &format!("/mail/demo.nsf/api/data/documents/unid/{unid}"),
        )
        .await,
    )
    .await;
    assert_eq!(doc["@form"], "Appointment");
    assert_eq!(doc["Subject"], "1x1 with Duke");
}

/// Demo seed (brief): both users have calendars with meetings, all-day, private and recurring
/// entries, in UTC and `tzid` times; user2 has invitations from demo.
#[tokio::test]
async fn seed_demo_calendars() {
    let s = sims(Seed::Demo).await;
    let now = chrono::Utc::now();
    let since = (now - chrono::Duration::days(32)).format("%Y-%m-%dT%H:%M:%SZ");
    let before = (now + chrono::Duration::days(33)).format("%Y-%m-%dT%H:%M:%SZ");
    let mut rows = Vec::new();
    let mut start = 0;
    loop {
        let resp = cal_get(
            &s.domino_url,
            &format!("{CAL}/events?since={since}&before={before}&start={start}&count=100"),
        )
        .await;
        let text = resp.text().await.unwrap();
        if text.is_empty() {
            break;
        }
        let v: Value = serde_json::from_str(&text).unwrap();
        let page = v["events"].as_array().unwrap().clone();
        start += page.len();
        rows.extend(page);
    }
    assert!(rows.len() > 40, "{}", rows.len());
    assert!(rows.iter().any(|r| r.get("recurrenceId").is_some()));
    assert!(rows.iter().any(|r| r["class"] == "private"));
    assert!(rows.iter().any(|r| r["start"].get("tzid").is_some()));
    assert!(rows.iter().any(|r| r["start"].get("time").is_none()));
    let inv = json(
        das_as(
            "user2",
            "pw2",
            reqwest::Method::GET,
            &s.domino_url,
            "/mail/user2.nsf/api/calendar/invitations",
            None,
        )
        .await,
    )
    .await;
    assert!(!inv["notices"].as_array().unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// Zoho CRM

async fn zget(base: &str, token: &str, path: &str) -> reqwest::Response {
    http()
        .get(format!("{base}/crm/v8{path}"))
        .header("authorization", auth(token))
        .send()
        .await
        .expect("request")
}

async fn zsend(
    base: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> reqwest::Response {
    http()
        .request(method, format!("{base}/crm/v8{path}"))
        .header("authorization", auth(token))
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn zpost(base: &str, token: &str, path: &str, body: Value) -> reqwest::Response {
    zsend(base, token, reqwest::Method::POST, path, body).await
}

/// The v7 Events insert sample of zoho-crm-api.md §3.4 (ids replaced by real ones).
fn meeting(contact: &str) -> Value {
    json!({"data":[{"Event_Title":"New Meeting","All_day":false,
        "Start_DateTime":"2030-05-20T09:00:00+05:30","End_DateTime":"2030-05-20T10:00:00+05:30",
        "Participants":[{"name":"John","type":"contact","participant":contact},
                        {"type":"email","Email":"patricia.boyle@zylker.com"}],
        "Remind_At":[{"unit":15,"period":"minutes"},{"unit":1,"period":"days","time":"10.30"}],
        "Venue":"Room 1","Description":"Kickoff"}]})
}

async fn new_contact(z: &str, t: &str, last: &str, email: &str) -> String {
    let r = json(
        zpost(
            z,
            t,
            "/Contacts",
            json!({"data":[{"Last_Name":last,"Email":email}]}),
        )
        .await,
    )
    .await;
    r["data"][0]["details"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// zoho-crm-api.md §3.4: the Events insert sample is accepted (201); the record renders
/// Participants with `invited`, `status`, `id`, Remind_At as an array, and datetimes in the
/// calling user's offset (demo: +09:00).
#[tokio::test]
async fn zoho_3_4_events_insert_sample_and_get() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let c = new_contact(z, &t, "Smith", "john@example.org").await;
    let resp = zpost(z, &t, "/Events", meeting(&c)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let id = json(resp).await["data"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ev = json(zget(z, &t, &format!("/Events/{id}")).await).await;
    let ev = &ev["data"][0];
    assert_eq!(ev["Event_Title"], "New Meeting");
    assert_eq!(ev["Start_DateTime"], "2030-05-20T12:30:00+09:00");
    assert_eq!(ev["End_DateTime"], "2030-05-20T13:30:00+09:00");
    assert_eq!(ev["All_day"], false);
    assert_eq!(ev["Venue"], "Room 1");
    let p = ev["Participants"].as_array().unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p[0]["type"], "contact");
    assert_eq!(p[0]["participant"], c.as_str());
    assert_eq!(p[0]["name"], "Smith");
    assert_eq!(p[0]["Email"], "john@example.org");
    assert_eq!(p[1]["Email"], "patricia.boyle@zylker.com");
    for x in p {
        assert!(x["invited"].is_boolean() && x["status"].is_string() && x["id"].is_string());
    }
    assert_eq!(ev["Remind_At"][0], json!({"unit":15,"period":"minutes"}));
    assert_eq!(ev["$event_cancelled"], false);
    // List, update, delete like Contacts.
    let list = json(zget(z, &t, "/Events?fields=Event_Title,Start_DateTime").await).await;
    assert_eq!(list["data"][0]["id"], id.as_str());
    let resp = zsend(
        z,
        &t,
        reqwest::Method::PUT,
        &format!("/Events/{id}"),
        json!({"data":[{"Venue":"Room 2"}]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let ev = json(zget(z, &t, &format!("/Events/{id}")).await).await;
    assert_eq!(ev["data"][0]["Venue"], "Room 2");
    assert_eq!(
        ev["data"][0]["Participants"][0]["id"], p[0]["id"],
        "participant ids kept"
    );
    let resp = http()
        .delete(format!("{z}/crm/v8/Events/{id}"))
        .header("authorization", auth(&t))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        zget(z, &t, &format!("/Events/{id}")).await.status(),
        StatusCode::NO_CONTENT
    );
}

/// zoho-crm-api.md §3.4: Event_Title, Start_DateTime and End_DateTime are mandatory; an end
/// before the start is INVALID_DATA; datetimes need an ISO offset.
#[tokio::test]
async fn zoho_3_4_events_mandatory_and_time_checks() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let resp = zpost(z, &t, "/Events", json!({"data":[
        {"Event_Title":"x","Start_DateTime":"2030-05-20T09:00:00+00:00"},
        {"Event_Title":"y","Start_DateTime":"2030-05-20T09:00:00+00:00","End_DateTime":"2030-05-20T08:00:00+00:00"},
        {"Event_Title":"z","Start_DateTime":"2030-05-20 09:00","End_DateTime":"2030-05-20T10:00:00+00:00"},
    ]})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let b = json(resp).await;
    assert_eq!(b["data"][0]["code"], "MANDATORY_NOT_FOUND");
    assert_eq!(b["data"][0]["details"]["api_name"], "End_DateTime");
    assert_eq!(b["data"][1]["code"], "INVALID_DATA");
    assert_eq!(b["data"][1]["details"]["api_name"], "End_DateTime");
    assert_eq!(b["data"][2]["code"], "INVALID_DATA");
    assert_eq!(b["data"][2]["details"]["api_name"], "Start_DateTime");
}

/// zoho-crm-api.md §3.4 and §7.3 #9: at most 50 participants (`LIMIT_EXCEEDED`); type is
/// lower case; an `email` participant needs `Email`.
#[tokio::test]
async fn zoho_3_4_participants_limit_and_shape() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let many: Vec<Value> = (0..51)
        .map(|k| json!({"type":"email","Email":format!("p{k}@example.org")}))
        .collect();
    let base = json!({"Event_Title":"Big","Start_DateTime":"2030-05-20T09:00:00+00:00","End_DateTime":"2030-05-20T10:00:00+00:00"});
    let mut big = base.clone();
    big["Participants"] = Value::Array(many);
    let mut bad_type = base.clone();
    bad_type["Participants"] = json!([{"type":"Contact","participant":"1"}]);
    let mut no_email = base.clone();
    no_email["Participants"] = json!([{"type":"email"}]);
    let b = json(zpost(z, &t, "/Events", json!({"data":[big, bad_type, no_email]})).await).await;
    assert_eq!(b["data"][0]["code"], "LIMIT_EXCEEDED");
    assert_eq!(
        b["data"][0]["message"],
        "Only 50 participants can be added to an event."
    );
    assert_eq!(b["data"][1]["code"], "INVALID_DATA");
    assert_eq!(b["data"][2]["code"], "INVALID_DATA");
}

/// zoho-crm-api.md §3.4: `Remind_At` takes the v7 array form and the v2 datetime string;
/// §3.3: a task's `Remind_At` takes the `{"ALARM":"ACTION=…;TRIGGER=…;TRIGGER_TIME=…"}` form.
#[tokio::test]
async fn zoho_3_4_remind_at_forms() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let ev = |r: Value| json!({"Event_Title":"R","Start_DateTime":"2030-05-20T09:00:00+00:00","End_DateTime":"2030-05-20T10:00:00+00:00","Remind_At":r});
    let resp = zpost(
        z,
        &t,
        "/Events",
        json!({"data":[
            ev(json!([{"unit":30,"period":"mins"}])),
            ev(json!("2030-05-20T08:45:00+00:00")),
            ev(json!([{"unit":"soon"}])),
        ]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::MULTI_STATUS);
    let b = json(resp).await;
    assert_eq!(b["data"][0]["code"], "SUCCESS");
    assert_eq!(b["data"][1]["code"], "SUCCESS");
    assert_eq!(b["data"][2]["code"], "INVALID_DATA");
    let id = b["data"][0]["details"]["id"].as_str().unwrap();
    let got = json(zget(z, &t, &format!("/Events/{id}")).await).await;
    assert_eq!(
        got["data"][0]["Remind_At"],
        json!([{"unit":30,"period":"minutes"}])
    );

    // §3.3: a task's reminder in the v7 `{"ALARM"}` form is kept as given.
    let alarm = json!({"ALARM":"ACTION=EMAIL;TRIGGER=-P1D;TRIGGER_TIME=22:52"});
    let resp = zpost(
        z,
        &t,
        "/Tasks",
        json!({"data":[{"Subject":"Call back","Due_Date":"2030-02-01","Remind_At":alarm}]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let id = json(resp).await["data"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = json(zget(z, &t, &format!("/Tasks/{id}")).await).await;
    assert_eq!(got["data"][0]["Remind_At"], alarm);
    let listed = json(zget(z, &t, "/Tasks?fields=Subject,Remind_At").await).await;
    assert_eq!(listed["data"][0]["Remind_At"], alarm);
}

/// zoho-crm-api.md §3.4: `POST /Events/{id}/actions/cancel` works once for an event with
/// invited participants before its end; a repeat is NOT_ALLOWED "The event is already
/// cancelled"; `$event_cancelled` shows it.
#[tokio::test]
async fn zoho_3_4_cancel_meeting() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let mut body = meeting(&new_contact(z, &t, "Smith", "john@example.org").await);
    body["data"][0]["$send_notification"] = json!(true);
    let id = json(zpost(z, &t, "/Events", body).await).await["data"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cancel = json!({"data":[{"send_cancelling_mail":false}]});
    let resp = zpost(
        z,
        &t,
        &format!("/Events/{id}/actions/cancel"),
        cancel.clone(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let ev = json(zget(z, &t, &format!("/Events/{id}")).await).await;
    assert_eq!(ev["data"][0]["$event_cancelled"], true);
    let resp = zpost(z, &t, &format!("/Events/{id}/actions/cancel"), cancel).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let b = json(resp).await;
    assert_eq!(b["code"], "NOT_ALLOWED");
    assert_eq!(b["message"], "The event is already cancelled");
}

/// zoho-crm-api.md §1.7 and §7.3 #6: upsert does not support Tasks or Events (400
/// `INVALID_MODULE`, the simulator's choice of code).
#[tokio::test]
async fn zoho_1_7_upsert_refused_for_tasks_and_events() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    for m in ["Tasks", "Events"] {
        let resp = zpost(
            z,
            &t,
            &format!("/{m}/upsert"),
            json!({"data":[{"Subject":"x"}]}),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(json(resp).await["code"], "INVALID_MODULE");
    }
}

/// zoho-crm-api.md §1.7: upsert on Contacts matches by the system field Email (or the listed
/// `duplicate_check_fields`), answering `action` and `duplicate_field` per record.
#[tokio::test]
async fn zoho_1_7_upsert_contacts() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let id = new_contact(z, &t, "Boyle", "patricia@zylker.com").await;
    let resp = zpost(
        z,
        &t,
        "/Contacts/upsert",
        json!({"data":[
        {"Last_Name":"Boyle","Email":"Patricia@zylker.com","Title":"CEO"},
        {"Last_Name":"New","Email":"new@zylker.com"},
    ],"duplicate_check_fields":["Email"]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let b = json(resp).await;
    assert_eq!(b["data"][0]["action"], "update");
    assert_eq!(b["data"][0]["duplicate_field"], "Email");
    assert_eq!(b["data"][0]["details"]["id"], id.as_str());
    assert_eq!(b["data"][0]["message"], "record updated");
    assert_eq!(b["data"][1]["action"], "insert");
    // The simulator's choice (lib.rs): no `duplicate_field` key on an insert.
    assert!(
        b["data"][1].get("duplicate_field").is_none(),
        "{}",
        b["data"][1]
    );
    let c = json(zget(z, &t, &format!("/Contacts/{id}")).await).await;
    assert_eq!(c["data"][0]["Title"], "CEO");
    let resp = zpost(
        z,
        &t,
        "/Contacts/upsert",
        json!({"data":[{"Last_Name":"X"}],"duplicate_check_fields":["Title"]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

/// zoho-crm-api.md §3.5: with `X-EXTERNAL: {Module}.{Field}` GET, PUT and DELETE address a
/// record by its external value, and so do the list's `ids=` ("`GET /Contacts?ids=ext1,ext2`");
/// unknown value → 204 on GET.
#[tokio::test]
async fn zoho_3_5_external_id_get_put_delete() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let resp = zpost(z, &t, "/settings/fields?module=Contacts", json!({"fields":[{"field_label":"Ext Sync Id","data_type":"text","length":255,"external":{"type":"org","show":true}}]})).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let id = json(
        zpost(
            z,
            &t,
            "/Contacts",
            json!({"data":[{"Last_Name":"Ext","Ext_Sync_Id":"abc-1"}]}),
        )
        .await,
    )
    .await["data"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ext = |m: reqwest::Method, path: &str| {
        http()
            .request(m, format!("{z}/crm/v8{path}"))
            .header("authorization", auth(&t))
            .header("x-external", "Contacts.Ext_Sync_Id")
    };
    let got = json(
        ext(reqwest::Method::GET, "/Contacts/abc-1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got["data"][0]["id"], id.as_str());
    let resp = ext(reqwest::Method::PUT, "/Contacts/abc-1")
        .json(&json!({"data":[{"Title":"Eng"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        json(zget(z, &t, &format!("/Contacts/{id}")).await).await["data"][0]["Title"],
        "Eng"
    );
    assert_eq!(
        ext(reqwest::Method::GET, "/Contacts/nope")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    // `GET /Contacts?ids=ext1,ext2` looks the list's ids up by external value too.
    let other = json(
        zpost(
            z,
            &t,
            "/Contacts",
            json!({"data":[{"Last_Name":"Ext2","Ext_Sync_Id":"abc-2"}]}),
        )
        .await,
    )
    .await["data"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = json(
        ext(
            reqwest::Method::GET,
            "/Contacts?fields=Last_Name,Ext_Sync_Id&ids=abc-1,abc-2,nope",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let mut found: Vec<(&str, &str)> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap(),
                r["Ext_Sync_Id"].as_str().unwrap(),
            )
        })
        .collect();
    found.sort_unstable();
    let mut want = vec![(id.as_str(), "abc-1"), (other.as_str(), "abc-2")];
    want.sort_unstable();
    assert_eq!(found, want);
    // Without the header the same values are not record ids.
    assert_eq!(
        zget(z, &t, "/Contacts?fields=Last_Name&ids=abc-1")
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let resp = ext(reqwest::Method::DELETE, "/Contacts/abc-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        zget(z, &t, &format!("/Contacts/{id}")).await.status(),
        StatusCode::NO_CONTENT
    );
}

/// zoho-crm-api.md §2.2: search by criteria (escaped comma, `and`, `in`), email, phone and
/// word; none found → 204; no parameter → EXPECTED_PARAM_MISSING; `word` under 2 chars →
/// INVALID_DATA; past 2,000 records → LIMIT_REACHED.
#[tokio::test]
async fn zoho_2_2_search() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    zpost(z, &t, "/Contacts", json!({"data":[
        {"Last_Name":"Burns,B","First_Name":"Al","Email":"al@burns.com","Phone":"+1 (555) 0100"},
        {"Last_Name":"Burnside","Email":"b@side.com"},
    ]})).await;
    let q = |p: &str| {
        let path = format!("/Contacts/search?{p}");
        let (z, t) = (z.clone(), t.clone());
        async move { zget(&z, &t, &path).await }
    };
    let b =
        json(q("criteria=((Last_Name:equals:Burns%5C%2CB)and(First_Name:starts_with:A))").await)
            .await;
    assert_eq!(b["data"].as_array().unwrap().len(), 1);
    assert_eq!(b["info"]["more_records"], false);
    let b = json(q("criteria=(Email:in:al@burns.com,b@side.com)").await).await;
    assert_eq!(b["data"].as_array().unwrap().len(), 2);
    let b = json(q("email=AL@burns.com").await).await;
    assert_eq!(b["data"][0]["Last_Name"], "Burns,B");
    let b = json(q("phone=15550100").await).await;
    assert_eq!(b["data"].as_array().unwrap().len(), 1);
    let b = json(q("word=burn").await).await;
    assert_eq!(b["data"].as_array().unwrap().len(), 2);
    assert_eq!(q("email=none@x.com").await.status(), StatusCode::NO_CONTENT);
    let r = q("").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(r).await["code"], "EXPECTED_PARAM_MISSING");
    assert_eq!(json(q("word=a").await).await["code"], "INVALID_DATA");
    assert_eq!(
        json(q("word=burn&page=11&per_page=200").await).await["code"],
        "LIMIT_REACHED"
    );
    assert_eq!(
        json(q("criteria=(Nope:equals:1)").await).await["code"],
        "INVALID_QUERY"
    );
}

/// zoho-crm-api.md §2.3: COQL `select … from … where … order by … limit offset, count`;
/// lookups give only `{id}`; none → 204; errors SYNTAX_ERROR and INVALID_QUERY (unknown
/// column, Events Participants not supported).
#[tokio::test]
async fn zoho_2_3_coql() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    // Lookups are written by id (§3.2): the Account first.
    let acme = json(
        zpost(
            z,
            &t,
            "/Accounts",
            json!({"data":[{"Account_Name":"Acme"}]}),
        )
        .await,
    )
    .await;
    let acme = acme["data"][0]["details"]["id"].clone();
    zpost(
        z,
        &t,
        "/Contacts",
        json!({"data":[
            {"Last_Name":"Alpha","Email":"a@x.com","Account_Name":{"id":acme}},
            {"Last_Name":"Beta","Email":"b@x.com"},
            {"Last_Name":"Gamma","Email":"c@y.com"},
        ]}),
    )
    .await;
    let coql = |q: &str| {
        let body = json!({ "select_query": q });
        let (z, t) = (z.clone(), t.clone());
        async move { zpost(&z, &t, "/coql", body).await }
    };
    let b = json(coql("select Last_Name, Email, Account_Name from Contacts where Email like '%@x.com' and Last_Name != 'Zed' order by Last_Name desc limit 0, 10").await).await;
    let rows = b["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["Last_Name"], "Beta");
    assert!(
        rows[1]["Account_Name"]["id"].is_string() && rows[1]["Account_Name"].get("name").is_none()
    );
    assert!(rows[0]["id"].is_string());
    assert_eq!(b["info"], json!({"count":2,"more_records":false}));
    let b = json(coql("select Last_Name from Contacts where Modified_Time >= '2000-01-01T00:00:00+00:00' limit 1").await).await;
    assert_eq!(b["info"], json!({"count":1,"more_records":true}));
    assert_eq!(
        coql("select Last_Name from Contacts where Last_Name = 'Nobody'")
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let r = coql("select from Contacts").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(r).await["code"], "SYNTAX_ERROR");
    let r = json(coql("select Nope from Contacts").await).await;
    assert_eq!(
        (r["code"].as_str(), r["message"].as_str()),
        (
            Some("INVALID_QUERY"),
            Some("column given seems to be invalid")
        )
    );
    let r = json(coql("select Participants from Events").await).await;
    assert_eq!(r["code"], "INVALID_QUERY");
}

/// tags.json: `POST /{module}/actions/add_tags` (body `tags`, `ids`, `over_write`) tags
/// records (so a test can mark one Private); `remove_tags` removes; unknown ids fail per item.
#[tokio::test]
async fn zoho_tags_add_and_remove() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let id = new_contact(z, &t, "Tagged", "t@x.com").await;
    let resp = zpost(
        z,
        &t,
        "/Contacts/actions/add_tags",
        json!({"tags":[{"name":"Private"}],"over_write":false,"ids":[id, "1"]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::MULTI_STATUS);
    let b = json(resp).await;
    assert_eq!(b["data"][0]["code"], "SUCCESS");
    assert_eq!(b["data"][0]["details"]["tags"][0]["name"], "Private");
    assert_eq!(b["data"][1]["code"], "INVALID_DATA");
    let c = json(zget(z, &t, &format!("/Contacts/{id}")).await).await;
    assert_eq!(c["data"][0]["Tag"][0]["name"], "Private");
    let resp = zpost(
        z,
        &t,
        &format!("/Contacts/{id}/actions/remove_tags"),
        json!({"tags":[{"name":"Private"}],"over_write":false,"ids":[]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let c = json(zget(z, &t, &format!("/Contacts/{id}")).await).await;
    assert_eq!(c["data"][0]["Tag"], json!([]));
}

/// zoho-crm-api.md §5: credits are charged per call (1 per read, 1 per 10 records written,
/// 2 for `/deleted`); `X-API-CREDITS-REMAINING` appears once half are used; over budget → 429
/// `TOO_MANY_REQUESTS` with the documented text.
#[tokio::test]
async fn zoho_5_credits_header_and_429() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let cfg = json(control(z, "/_sim/config", json!({"credits": 10})).await).await;
    assert_eq!(cfg["credits"], 10);
    assert_eq!(cfg["concurrency"], 20);
    let r = zget(z, &t, "/Contacts?fields=Last_Name").await;
    assert!(r.headers().get("x-api-credits-remaining").is_none());
    let rows: Vec<Value> = (0..11)
        .map(|k| json!({"Last_Name":format!("N{k}")}))
        .collect();
    zpost(z, &t, "/Contacts", json!({ "data": rows })).await; // 2 credits
    let r = zget(z, &t, "/Contacts/deleted").await; // 2 credits: 5 used
    assert_eq!(r.headers().get("x-api-credits-remaining").unwrap(), "5");
    let cfg = json(http().get(format!("{z}/_sim/config")).send().await.unwrap()).await;
    assert_eq!(cfg["credits_used"], 5);
    for _ in 0..5 {
        assert_eq!(
            zget(z, &t, "/Contacts?fields=Last_Name").await.status(),
            StatusCode::OK
        );
    }
    let r = zget(z, &t, "/Contacts?fields=Last_Name").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let b = json(r).await;
    assert_eq!(b["code"], "TOO_MANY_REQUESTS");
    assert_eq!(
        b["message"],
        "Number of API requests for the 24 hour period is exceeded or the concurrency limit of the user for the app is exceeded"
    );
    // The window is a rolling 24 h.
    control(z, "/_sim/clock", json!({"advance_secs": 86_401})).await;
    let t = token(z, "demo-refresh").await;
    assert_eq!(zget(z, &t, "/org").await.status(), StatusCode::OK);
}

/// zoho-crm-api.md §5: more requests in flight than the concurrency limit (latency counts as
/// in flight) → some get 429 `TOO_MANY_REQUESTS`.
#[tokio::test]
async fn zoho_5_concurrency_429() {
    let s = sims(Seed::Empty).await;
    let z = s.zoho_url.clone();
    let t = token(&z, "demo-refresh").await;
    control(&z, "/_sim/config", json!({"concurrency": 2})).await;
    control(&z, "/_sim/latency", json!({"ms": 300})).await;
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let (z, t) = (z.clone(), t.clone());
        tasks.push(tokio::spawn(
            async move { zget(&z, &t, "/org").await.status() },
        ));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let rejected = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!((1..=3).contains(&rejected), "{statuses:?}");
    assert!(statuses.contains(&StatusCode::OK));
}

/// Demo seed (brief): ~20 Zoho Events for the demo user, some matching a Notes calendar
/// entry by title and start, some tagged Private, some with Participants.
#[tokio::test]
async fn seed_demo_zoho_events_match_notes() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let b = json(
        zget(
            z,
            &t,
            "/Events?fields=Event_Title,Start_DateTime,Participants,Tag,All_day,Owner&per_page=200",
        )
        .await,
    )
    .await;
    // The org's other users have meetings too.
    let events: Vec<&Value> = b["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["Owner"]["id"] == "5725767000000411001")
        .collect();
    assert!((18..=22).contains(&events.len()), "{}", events.len());
    assert!(events.iter().any(|e| {
        e["Tag"]
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x["name"] == "Private"))
    }));
    assert!(
        events
            .iter()
            .any(|e| e["Participants"].as_array().is_some_and(|p| !p.is_empty()))
    );
    // A timed event matches a Notes row by title and start instant.
    let now = chrono::Utc::now();
    let since = (now - chrono::Duration::days(32)).format("%Y-%m-%dT%H:%M:%SZ");
    let before = (now + chrono::Duration::days(33)).format("%Y-%m-%dT%H:%M:%SZ");
    let mut rows = Vec::new();
    for start in [0, 100] {
        let text = cal_get(
            &s.domino_url,
            &format!("{CAL}/events?since={since}&before={before}&start={start}&count=100"),
        )
        .await
        .text()
        .await
        .unwrap();
        if !text.is_empty() {
            let v: Value = serde_json::from_str(&text).unwrap();
            rows.extend(v["events"].as_array().unwrap().clone());
        }
    }
    let matched = events
        .iter()
        .filter(|e| rows.iter().any(|r| r["summary"] == e["Event_Title"]))
        .count();
    assert!(matched >= 8, "{matched}");
}

/// domino-api.md §2.1: `DELETE …/events/{uid}/{recurrenceId}?recurrenceRange=future` ends the
/// series before that instance; `previous` removes the instances before it.
#[tokio::test]
async fn cal_2_1_delete_instance_ranges() {
    let s = sims(Seed::Empty).await;
    let (uid, _) = create_event(
        &s.domino_url,
        json!({"events":[{"summary":"Daily","start":{"date":"2013-09-16","time":"13:00:00","utc":true},
            "end":{"date":"2013-09-16","time":"14:00:00","utc":true},"recurrenceRule":"FREQ=DAILY;COUNT=6"}]}),
    )
    .await;
    let del = |q: &str| {
        let path = format!("{CAL}/events/{uid}/{q}");
        let d = s.domino_url.clone();
        async move { das(reqwest::Method::DELETE, &d, &path, None).await.status() }
    };
    assert_eq!(
        del("20130920T130000Z?recurrenceRange=future").await,
        StatusCode::OK
    );
    assert_eq!(
        del("20130917T130000Z?recurrenceRange=previous").await,
        StatusCode::OK
    );
    let body = json(cal_get(&s.domino_url, &format!("{CAL}/events/{uid}/instances")).await).await;
    let rids: Vec<&str> = body["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["recurrenceId"].as_str().unwrap())
        .collect();
    assert_eq!(rids, ["20130918T130000Z", "20130919T130000Z"]);
}

/// domino-api.md §2.2: `since` together with `sincenow` is 400; `sincenow`/`days` give a
/// window relative to now.
#[tokio::test]
async fn cal_2_2_sincenow_and_days() {
    let s = sims(Seed::Empty).await;
    let resp = cal_get(
        &s.domino_url,
        &format!("{CAL}/events?since=2013-09-01T00:00:00Z&sincenow=1"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = cal_get(&s.domino_url, &format!("{CAL}/events?days=0")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    create_event(
        &s.domino_url,
        json!({"events":[{"summary":"Soon","start":{"date":tomorrow,"time":"12:00:00","utc":true}}]}),
    )
    .await;
    let body = json(cal_get(&s.domino_url, &format!("{CAL}/events?sincenow=0&days=3")).await).await;
    assert_eq!(body["events"][0]["summary"], "Soon");
    let resp = cal_get(&s.domino_url, &format!("{CAL}/events?sincenow=3&days=3")).await;
    assert!(resp.text().await.unwrap().is_empty());
}

/// Control API: a Domino dump carries events and notices, and loading it restores them.
#[tokio::test]
async fn control_dump_load_round_trips_calendars() {
    let s = sims(Seed::Demo).await;
    let dump = s.domino().dump();
    assert!(
        dump["databases"]["mail/demo.nsf"]["events"]
            .as_array()
            .unwrap()
            .len()
            >= 39
    );
    assert!(
        !dump["databases"]["mail/user2.nsf"]["notices"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let w = window("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z");
    let before = cal_get(&s.domino_url, &format!("{w}&count=100"))
        .await
        .text()
        .await
        .unwrap();
    s.domino().load(&dump).expect("load");
    let after = cal_get(&s.domino_url, &format!("{w}&count=100"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(before, after);
    let zd = s.zoho().dump();
    assert!(!zd["modules"]["Events"].as_array().unwrap().is_empty());
    s.zoho().load(&zd).expect("zoho load");
    assert_eq!(
        s.zoho().dump()["modules"]["Events"],
        zd["modules"]["Events"]
    );
}

/// zoho-crm-api.md §5: heavy calls (writes of more than 10 records) have a sub-concurrency;
/// `edition` sets the documented concurrency.
#[tokio::test]
async fn zoho_5_sub_concurrency_and_edition() {
    let s = sims(Seed::Empty).await;
    let z = s.zoho_url.clone();
    let t = token(&z, "demo-refresh").await;
    let cfg = json(control(&z, "/_sim/config", json!({"edition": "professional"})).await).await;
    assert_eq!(cfg["concurrency"], 15);
    assert_eq!(cfg["credits"], 52_500);
    control(
        &z,
        "/_sim/config",
        json!({"sub_concurrency": 1, "concurrency": 20}),
    )
    .await;
    control(&z, "/_sim/latency", json!({"ms": 300})).await;
    let rows: Vec<Value> = (0..11)
        .map(|k| json!({"Last_Name":format!("H{k}")}))
        .collect();
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let (z, t, body) = (z.clone(), t.clone(), json!({ "data": rows.clone() }));
        tasks.push(tokio::spawn(async move {
            zpost(&z, &t, "/Contacts", body).await.status()
        }));
    }
    let light = {
        let (z, t) = (z.clone(), t.clone());
        tokio::spawn(async move { zget(&z, &t, "/org").await.status() })
    };
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::CREATED), "{statuses:?}");
    assert_eq!(light.await.unwrap(), StatusCode::OK);
}

/// modules.json and DESIGN.md §4.2 (SDKs read it first): `GET /settings/modules` lists the
/// modules with `api_name`, `id`, `api_supported`, `generated_type`; one module by api name;
/// an unknown one → 204.
#[tokio::test]
async fn zoho_settings_modules() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let b = json(zget(z, &t, "/settings/modules").await).await;
    let names: Vec<&str> = b["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["api_name"].as_str().unwrap())
        .collect();
    for m in ["Contacts", "Tasks", "Events"] {
        assert!(names.contains(&m), "{names:?}");
    }
    assert_eq!(b["modules"][0]["api_supported"], true);
    assert_eq!(b["modules"][0]["generated_type"], "default");
    let one = json(zget(z, &t, "/settings/modules/Events").await).await;
    assert_eq!(one["modules"].as_array().unwrap().len(), 1);
    assert_eq!(one["modules"][0]["singular_label"], "Meeting");
    assert_eq!(
        zget(z, &t, "/settings/modules/Nope").await.status(),
        StatusCode::NO_CONTENT
    );
}

/// domino-api.md §2.1: `PUT …/events/{uid}/{recurrenceId}?recurrenceRange=future` changes that
/// instance and the later ones; earlier instances keep their values.
#[tokio::test]
async fn cal_2_1_put_instance_range_future() {
    let s = sims(Seed::Empty).await;
    let (uid, _) = create_event(
        &s.domino_url,
        json!({"events":[{"summary":"Daily","location":"A","start":{"date":"2013-09-16","time":"13:00:00","utc":true},
            "end":{"date":"2013-09-16","time":"14:00:00","utc":true},"recurrenceRule":"FREQ=DAILY;COUNT=4"}]}),
    )
    .await;
    let resp = das(
        reqwest::Method::PUT,
        &s.domino_url,
        &format!("{CAL}/events/{uid}/20130918T130000Z?recurrenceRange=future"),
        Some(json!({"events":[{"summary":"Daily","location":"B","start":{"date":"2013-09-18","time":"13:00:00","utc":true}}]})),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(
        cal_get(
            &s.domino_url,
            &window("2013-09-01T00:00:00Z", "2013-10-01T00:00:00Z"),
        )
        .await,
    )
    .await;
    let locs: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["location"].as_str().unwrap())
        .collect();
    assert_eq!(locs, ["A", "A", "B", "B"]);
}

/// domino-api.md §2.1: `PUT …/action` without `type` → 400 "Action type not specified.";
/// unknown → 400 "Unknown action type."; a non-JSON body → 415 "Unsupported media type.";
/// accepting a notice puts the meeting on the attendee's calendar and the organizer's copy
/// records the reply.
#[tokio::test]
async fn cal_2_1_actions() {
    let s = sims(Seed::Empty).await;
    let mut meeting = duke_meeting();
    meeting["events"][0]["attendees"][1]["email"] = json!("user2@example.com");
    meeting["events"][0]["organizer"]["email"] = json!("demo@example.com");
    let (uid, _) = create_event(&s.domino_url, meeting).await;
    let act = |q: &str| format!("{CAL}/events/{uid}/action{q}");
    let resp = das(reqwest::Method::PUT, &s.domino_url, &act(""), None).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["message"], "Action type not specified.");
    let resp = das(
        reqwest::Method::PUT,
        &s.domino_url,
        &act("?type=dance"),
        None,
    )
    .await;
    assert_eq!(json(resp).await["message"], "Unknown action type.");
    let resp = http()
        .put(format!("{}{}", s.domino_url, act("?type=accept")))
        .basic_auth("demo", Some("demo"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(json(resp).await["message"], "Unsupported media type.");
    let d = s.domino_url.clone();
    let u2 = |m: reqwest::Method, p: String| {
        let d = d.clone();
        async move { das_as("user2", "pw2", m, &d, &p, None).await }
    };
    let inv = json(
        u2(
            reqwest::Method::GET,
            "/mail/user2.nsf/api/calendar/invitations".into(),
        )
        .await,
    )
    .await;
    let href = inv["notices"][0]["href"].as_str().unwrap().to_owned();
    let resp = u2(reqwest::Method::PUT, format!("{href}/action?type=accept")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mine = json(
        u2(
            reqwest::Method::GET,
            format!("/mail/user2.nsf/api/calendar/events/{uid}"),
        )
        .await,
    )
    .await;
    assert_eq!(mine["events"][0]["attendees"][1]["status"], "accepted");
    let inv = json(
        u2(
            reqwest::Method::GET,
            "/mail/user2.nsf/api/calendar/invitations".into(),
        )
        .await,
    )
    .await;
    assert_eq!(inv["notices"], json!([]));
    let org = json(cal_get(&s.domino_url, &format!("{CAL}/events/{uid}")).await).await;
    assert_eq!(org["events"][0]["attendees"][1]["status"], "accepted");
}

/// zoho-crm-api.md §4: a token without the module's scope gets 401 `OAUTH_SCOPE_MISMATCH`
/// ("Client does not have ZohoCRM.modules.{module}.CREATE scope"); the scope a client asks for in
/// the authorization-code flow is the scope its tokens carry.
#[tokio::test]
async fn zoho_4_scope_mismatch() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let redirect = "http://127.0.0.1:9/callback";
    let params = [
        ("scope", "ZohoCRM.modules.contacts.READ,ZohoCRM.users.READ"),
        ("client_id", "demo-client"),
        ("response_type", "code"),
        ("access_type", "offline"),
        ("redirect_uri", redirect),
        ("state", "s1"),
        ("user", "demo"),
    ];
    let resp = http()
        .post(format!("{z}/oauth/v2/auth"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&params))
        .send()
        .await
        .expect("consent");
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = header(&resp, "location").expect("redirect");
    let code = url::Url::parse(&location)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let resp = http()
        .post(format!("{z}/oauth/v2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "demo-client"),
            ("client_secret", "demo-secret"),
            ("redirect_uri", redirect),
            ("code", code.as_str()),
        ]))
        .send()
        .await
        .expect("exchange");
    let body = json(resp).await;
    assert_eq!(
        body["scope"],
        "ZohoCRM.modules.contacts.READ ZohoCRM.users.READ"
    );
    let limited = body["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    let get = http()
        .get(format!("{z}/crm/v8/Contacts?fields=Last_Name"))
        .header("Authorization", auth(&limited))
        .send()
        .await
        .expect("list");
    assert_eq!(
        get.status(),
        StatusCode::NO_CONTENT,
        "reading contacts is in scope"
    );
    let post = http()
        .post(format!("{z}/crm/v8/Contacts"))
        .header("Authorization", auth(&limited))
        .json(&json!({"data": [{"Last_Name": "X"}]}))
        .send()
        .await
        .expect("insert");
    assert_eq!(post.status(), StatusCode::UNAUTHORIZED);
    let err = json(post).await;
    assert_eq!(err["code"], "OAUTH_SCOPE_MISMATCH");
    assert_eq!(
        err["message"],
        "Client does not have ZohoCRM.modules.contacts.CREATE scope"
    );
    let tasks = http()
        .get(format!("{z}/crm/v8/Tasks?fields=Subject"))
        .header("Authorization", auth(&limited))
        .send()
        .await
        .expect("tasks");
    assert_eq!(tasks.status(), StatusCode::UNAUTHORIZED);
    // A refresh of that grant keeps its scope; the demo refresh token has them all.
    let full = token(z, "demo-refresh").await;
    let post = http()
        .post(format!("{z}/crm/v8/Contacts"))
        .header("Authorization", auth(&full))
        .json(&json!({"data": [{"Last_Name": "X"}]}))
        .send()
        .await
        .expect("insert");
    assert_eq!(post.status(), StatusCode::CREATED);
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// §2.2 "Indexing delay: a just-created/edited record may not be found (204 NO CONTENT); use
/// COQL for immediate consistency." With a lag set, a new record is found by COQL at once and
/// by search only once the lag has passed.
#[tokio::test]
async fn zoho_2_2_search_index_lag() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let lag = control(z, "/_sim/config", json!({"search_index_delay_secs": 30})).await;
    assert_eq!(json(lag).await["search_index_delay_secs"], 30);
    let t = token(z, "demo-refresh").await;
    zpost(
        z,
        &t,
        "/Contacts",
        json!({"data":[{"Last_Name":"Lagged","Email":"lag@x.example"}]}),
    )
    .await;
    let found = zget(z, &t, "/Contacts/search?email=lag@x.example").await;
    assert_eq!(found.status(), StatusCode::NO_CONTENT);
    let coql = zpost(
        z,
        &t,
        "/coql",
        json!({"select_query": "select Last_Name from Contacts where Email = 'lag@x.example'"}),
    )
    .await;
    assert_eq!(json(coql).await["data"][0]["Last_Name"], "Lagged");
    control(z, "/_sim/clock", json!({"advance_secs": 31})).await;
    let t = token(z, "demo-refresh").await;
    let found = json(zget(z, &t, "/Contacts/search?email=lag@x.example").await).await;
    assert_eq!(found["data"][0]["Last_Name"], "Lagged");
    s.shutdown().await;
}
