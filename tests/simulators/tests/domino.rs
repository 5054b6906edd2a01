//! The Domino DAS simulator over loopback HTTP. Each test names the section of
//! `reference/domino-api.md` it checks.

mod common;

use common::{control, http, json, sims};
use nzsync_sim::Seed;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CONTACTS: &str = "/mail/demo.nsf/api/data/collections/name/%28%24Contacts%29";
const DOCS: &str = "/mail/demo.nsf/api/data/documents";

async fn get(base: &str, path: &str) -> reqwest::Response {
    http()
        .get(format!("{base}{path}"))
        .basic_auth("demo", Some("demo"))
        .send()
        .await
        .expect("request")
}

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Create a Person document and return its UNID (from the Location header).
async fn create_person(base: &str, body: Value) -> String {
    let resp = http()
        .post(format!("{base}{DOCS}?form=Person"))
        .basic_auth("demo", Some("demo"))
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = header(&resp, "location").expect("Location header");
    location.rsplit('/').next().expect("unid").to_owned()
}

/// §1.1: `/api` lists the services; it needs no credentials.
#[tokio::test]
async fn s1_1_api_root_lists_services() {
    let s = sims(Seed::Empty).await;
    let resp = http()
        .get(format!("{}/api", s.domino_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(&resp, "content-type").as_deref(),
        Some("application/json")
    );
    let body = json(resp).await;
    let names: Vec<&str> = body["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Core", "Data", "Calendar"]);
    assert_eq!(body["services"][1]["href"], "/api/data");
    s.shutdown().await;
}

/// §4.3: missing or wrong Basic credentials get 401 with the Basic challenge and HTML.
#[tokio::test]
async fn s4_3_missing_or_wrong_credentials_get_basic_challenge() {
    let s = sims(Seed::Empty).await;
    for resp in [
        http()
            .get(format!("{}{CONTACTS}", s.domino_url))
            .send()
            .await
            .unwrap(),
        http()
            .get(format!("{}{CONTACTS}", s.domino_url))
            .basic_auth("demo", Some("wrong"))
            .send()
            .await
            .unwrap(),
        http()
            .get(format!("{}/api/data", s.domino_url))
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            header(&resp, "www-authenticate").as_deref(),
            Some("Basic realm=\"/\"")
        );
        assert!(
            header(&resp, "content-type")
                .unwrap()
                .starts_with("text/html")
        );
    }
    s.shutdown().await;
}

/// §4.3: an authenticated user without access to a mail file gets 401 HTML "not authorized".
#[tokio::test]
async fn s4_3_other_users_mail_file_is_not_authorized() {
    let s = sims(Seed::Empty).await;
    let resp = get(&s.domino_url, "/mail/user2.nsf/api/data/collections").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("You are not authorized to perform this operation"),
        "{body}"
    );
    // user2 may open their own.
    let resp = http()
        .get(format!(
            "{}/mail/user2.nsf/api/data/collections",
            s.domino_url
        ))
        .basic_auth("user2", Some("pw2"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    s.shutdown().await;
}

/// §4.3: `POST /names.nsf?Login` answers 302 with `DomAuthSessId`, and the cookie works.
#[tokio::test]
async fn s4_3_session_login_sets_cookie_and_cookie_authenticates() {
    let s = sims(Seed::Empty).await;
    let resp = http()
        .post(format!("{}/names.nsf?Login", s.domino_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Username=demo&Password=demo&RedirectTo=%2Fmail%2Fdemo.nsf")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(header(&resp, "location").as_deref(), Some("/mail/demo.nsf"));
    let cookie = header(&resp, "set-cookie").expect("Set-Cookie");
    assert!(cookie.starts_with("DomAuthSessId="), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let resp = http()
        .get(format!("{}{CONTACTS}", s.domino_url))
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // A wrong password gets the login form again, and no session.
    let resp = http()
        .post(format!("{}/names.nsf?Login", s.domino_url))
        .body("Username=demo&Password=nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, "set-cookie").is_none());
    s.shutdown().await;
}

/// §1.4: default page of 10, `Content-Range`, more than 100 → 400 (two spaces), beyond the
/// end → `[]` without `Content-Range`, `ps`/`page`, `Range` header, `entrycount=false`.
#[tokio::test]
async fn s1_4_view_paging_limits_and_content_range() {
    let s = sims(Seed::Demo).await;
    let d = &s.domino_url;
    let resp = get(d, CONTACTS).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        header(&resp, "content-range").as_deref(),
        Some("items 0-9/200")
    );
    assert_eq!(json(resp).await.as_array().unwrap().len(), 10);

    let resp = get(d, &format!("{CONTACTS}?start=195&count=100")).await;
    assert_eq!(
        header(&resp, "content-range").as_deref(),
        Some("items 195-199/200")
    );
    assert_eq!(json(resp).await.as_array().unwrap().len(), 5);

    let resp = get(d, &format!("{CONTACTS}?count=101")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = json(resp).await;
    assert_eq!(body["code"], 400);
    assert_eq!(body["text"], "Bad Request");
    assert_eq!(
        body["message"],
        "Limit exceeded.  Cannot read more than 100 entries."
    );

    let resp = get(d, &format!("{CONTACTS}?start=200&count=10")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(header(&resp, "content-range").is_none());
    assert_eq!(json(resp).await, json!([]));

    let resp = get(d, &format!("{CONTACTS}?ps=20&page=2&si=1")).await;
    assert_eq!(
        header(&resp, "content-range").as_deref(),
        Some("items 41-60/200")
    );
    let page = json(resp).await;
    assert_eq!(page[0]["@position"], "42");

    let resp = http()
        .get(format!("{d}{CONTACTS}?count=5"))
        .basic_auth("demo", Some("demo"))
        .header("range", "items=10-34")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&resp, "content-range").as_deref(),
        Some("items 10-34/200")
    );

    let resp = get(d, &format!("{CONTACTS}?entrycount=false")).await;
    assert!(header(&resp, "content-range").is_none());

    let resp = get(d, &format!("{CONTACTS}?count=abc")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["message"], "Invalid parameter count: abc");
    s.shutdown().await;
}

/// §1.4: views by title or alias, case-insensitive, URL-encoded; unknown view → 404.
#[tokio::test]
async fn s1_4_view_lookup_by_title_alias_and_unknown() {
    let s = sims(Seed::Demo).await;
    let d = &s.domino_url;
    for name in ["%28%24Contacts%29", "Contacts", "contacts", "(%24contacts)"] {
        let resp = get(
            d,
            &format!("/mail/demo.nsf/api/data/collections/name/{name}?count=1"),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::OK, "{name}");
    }
    let resp = get(d, "/mail/demo.nsf/api/data/collections/name/NoSuchView").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        json(resp).await["message"],
        "The URI must refer to an existing view."
    );
    let resp = get(d, "/mail/demo.nsf/api/data/collections/bogus/x").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        json(resp).await["message"],
        "The query method bogus not supported"
    );
    s.shutdown().await;
}

/// §1.3 and §1.4: the view list includes hidden views; entries are in view order with the
/// system properties and columns by programmatic name.
#[tokio::test]
async fn s1_4_view_entries_are_sorted_and_carry_system_properties() {
    let s = sims(Seed::Demo).await;
    let d = &s.domino_url;
    let views = json(get(d, "/mail/demo.nsf/api/data/collections").await).await;
    let titles: Vec<&str> = views
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["@title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"($Contacts)") && titles.contains(&"($ToDo)"),
        "{titles:?}"
    );
    let unid = views[0]["@unid"].as_str().unwrap();
    let by_unid = get(
        d,
        &format!("/mail/demo.nsf/api/data/collections/unid/{unid}?count=1"),
    )
    .await;
    assert_eq!(by_unid.status(), StatusCode::OK);

    let entries = json(get(d, &format!("{CONTACTS}?count=100")).await).await;
    let entries = entries.as_array().unwrap();
    let names: Vec<String> = entries
        .iter()
        .map(|e| e["$17"].as_str().unwrap().to_lowercase())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let first = entries[0].as_object().unwrap();
    let keys: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "@href",
            "@link",
            "@entryid",
            "@unid",
            "@noteid",
            "@position",
            "@siblings",
            "@form",
            "$17",
            "MailAddress",
            "CompanyName",
            "OfficePhoneNumber"
        ]
    );
    let unid = first["@unid"].as_str().unwrap();
    assert_eq!(unid.len(), 32);
    assert!(
        unid.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
    );
    assert_eq!(first["@entryid"], format!("1-{unid}"));
    assert_eq!(first["@siblings"], 200);
    assert_eq!(first["@form"], "Person");
    assert_eq!(
        first["@link"]["href"],
        format!("/mail/demo.nsf/api/data/documents/unid/{unid}")
    );

    let todo = json(get(d, "/mail/demo.nsf/api/data/collections/name/ToDo?count=3").await).await;
    let due = todo[0]["DueDateTime"].as_str().unwrap();
    assert!(due.ends_with("T00:00:00Z") && due.len() == 20, "{due}");
    assert!(todo[0]["Subject"].is_string() && todo[0]["Importance"].is_string());
    s.shutdown().await;
}

/// §4.2: the three DAS switches answer with the exact 403 texts.
#[tokio::test]
async fn s4_2_das_switches_give_exact_403_texts() {
    let s = sims(Seed::Demo).await;
    let d = &s.domino_url;

    let r = control(
        d,
        "/_sim/config",
        json!({ "enabled_services": ["Calendar"] }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let resp = get(d, CONTACTS).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        json(resp).await,
        json!({ "code": 403, "text": "Forbidden" })
    );
    control(
        d,
        "/_sim/config",
        json!({ "enabled_services": ["Data", "Calendar"] }),
    )
    .await;

    control(
        d,
        "/_sim/config",
        json!({ "databases": { "mail/demo.nsf": { "allow_rest": 0 } } }),
    )
    .await;
    let resp = get(d, CONTACTS).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        json(resp).await,
        json!({ "code": 403, "text": "Forbidden", "message": "The Domino data service is not enabled for this database." })
    );

    control(
        d,
        "/_sim/config",
        json!({ "databases": { "mail/demo.nsf": { "allow_rest": 1 } } }),
    )
    .await;
    assert_eq!(get(d, CONTACTS).await.status(), StatusCode::OK);
    assert_eq!(get(d, DOCS).await.status(), StatusCode::OK);
    let unid = json(get(d, &format!("{CONTACTS}?count=1")).await).await[0]["@unid"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = get(d, &format!("{DOCS}/unid/{unid}")).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(resp).await["message"], "Cannot access resource");
    let resp = http()
        .post(format!("{d}{DOCS}?form=Person"))
        .basic_auth("demo", Some("demo"))
        .json(&json!({ "LastName": "X" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    control(
        d,
        "/_sim/config",
        json!({ "databases": { "mail/demo.nsf": { "allow_rest": 2, "views": { "($Contacts)": { "das": false } } } } }),
    )
    .await;
    let resp = get(d, CONTACTS).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        json(resp).await["message"],
        "The Domino data service is not enabled for this view [($Contacts)]."
    );
    // The view list does not check the view flag.
    assert_eq!(
        get(d, "/mail/demo.nsf/api/data/collections").await.status(),
        StatusCode::OK
    );
    s.shutdown().await;
}

/// §1.6: POST → 201, empty body, absolute Location; write rules for `$`/`@`/Form keys,
/// arrays and datetime objects.
#[tokio::test]
async fn s1_6_post_creates_document_with_201_and_absolute_location() {
    let s = sims(Seed::Empty).await;
    let d = &s.domino_url;
    let resp = http()
        .post(format!("{d}{DOCS}?form=Person"))
        .basic_auth("demo", Some("demo"))
        .json(&json!({
            "FirstName": "Jane", "LastName": "Doe", "Form": "Memo", "$PublicAccess": "1",
            "@unid": "X", "Categories": ["A", "B"], "Rank": 3,
            "Birthday": { "type": "datetime", "data": "1990-05-17T00:00:00Z" }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = header(&resp, "location").unwrap();
    assert!(
        location.starts_with(&format!("{d}/mail/demo.nsf/api/data/documents/unid/")),
        "{location}"
    );
    assert!(resp.text().await.unwrap().is_empty());

    let doc = json(get(&location, "").await).await;
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "@href",
            "@unid",
            "@noteid",
            "@created",
            "@modified",
            "@authors",
            "@form",
            "FirstName",
            "LastName",
            "Categories",
            "Rank",
            "Birthday"
        ]
    );
    assert_eq!(doc["@form"], "Person");
    assert_eq!(doc["@authors"], "CN=demo/O=SimOrg");
    assert_eq!(doc["Categories"], json!(["A", "B"]));
    assert_eq!(doc["Rank"], 3);
    assert_eq!(doc["Birthday"], "1990-05-17T00:00:00Z");
    let created = doc["@created"].as_str().unwrap();
    assert!(created.len() == 20 && created.ends_with('Z'), "{created}");

    let resp = http()
        .post(format!("{d}{DOCS}?form=Person"))
        .basic_auth("demo", Some("demo"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json(resp).await["message"],
        "Error while parsing the JSON content"
    );
    s.shutdown().await;
}

/// §1.6: GET sends `Last-Modified`; `If-Modified-Since` → 304; `markread` and `fields`
/// validation; `fields` and `strongtype`.
#[tokio::test]
async fn s1_6_get_document_headers_and_parameters() {
    let s = sims(Seed::Empty).await;
    let d = &s.domino_url;
    let unid = create_person(d, json!({ "FirstName": "A", "LastName": "B" })).await;
    let path = format!("{DOCS}/unid/{unid}");
    let resp = get(d, &path).await;
    let last_modified = header(&resp, "last-modified").expect("Last-Modified");
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");
    let resp = http()
        .get(format!("{d}{path}"))
        .basic_auth("demo", Some("demo"))
        .header("if-modified-since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);

    let resp = get(d, &format!("{path}?markread=maybe")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["message"], "Invalid parameter.");
    let resp = get(d, &format!("{path}?fields=%24Revisions")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json(resp).await["message"],
        "Invalid fields parameter: $Revisions"
    );

    let doc = json(get(d, &format!("{path}?fields=LastName&strongtype=true")).await).await;
    assert_eq!(doc["LastName"], "B");
    assert!(doc.get("FirstName").is_none());
    assert_eq!(doc["@modified"]["type"], "datetime");
    s.shutdown().await;
}

/// §1.6: PATCH changes only the given items, PUT deletes omitted ones; both 200 empty;
/// `If-Unmodified-Since` → 412; `X-HTTP-Method-Override` (§1.1).
#[tokio::test]
async fn s1_6_patch_put_and_preconditions() {
    let s = sims(Seed::Empty).await;
    let d = &s.domino_url;
    let unid = create_person(
        d,
        json!({ "FirstName": "A", "LastName": "B", "JobTitle": "CEO" }),
    )
    .await;
    let url = format!("{d}{DOCS}/unid/{unid}");
    let before = get(d, &format!("{DOCS}/unid/{unid}")).await;
    let stamp = header(&before, "last-modified").unwrap();

    // Ensure the modified second moves on.
    control(d, "/_sim/clock", json!({ "advance_secs": 5 })).await;
    let resp = http()
        .patch(&url)
        .basic_auth("demo", Some("demo"))
        .json(&json!({ "JobTitle": "CTO", "Form": "Memo" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().is_empty());
    let doc = json(get(d, &format!("{DOCS}/unid/{unid}")).await).await;
    assert_eq!(doc["JobTitle"], "CTO");
    assert_eq!(doc["FirstName"], "A");
    assert_eq!(doc["@form"], "Person");

    let resp = http()
        .patch(&url)
        .basic_auth("demo", Some("demo"))
        .header("if-unmodified-since", &stamp)
        .json(&json!({ "JobTitle": "CFO" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);
    assert!(resp.text().await.unwrap().is_empty());

    let resp = http()
        .post(&url)
        .basic_auth("demo", Some("demo"))
        .header("x-http-method-override", "PUT")
        .json(&json!({ "LastName": "B" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let doc = json(get(d, &format!("{DOCS}/unid/{unid}")).await).await;
    assert_eq!(doc["LastName"], "B");
    assert!(
        doc.get("FirstName").is_none() && doc.get("JobTitle").is_none(),
        "{doc}"
    );
    assert_eq!(doc["@form"], "Person");
    s.shutdown().await;
}

/// §1.6 and §1.7: DELETE with a stale `If-Unmodified-Since` → 412 with an empty body (and
/// nothing deleted); DELETE → 200; unknown UNID → 404 exception JSON.
#[tokio::test]
async fn s1_6_delete_and_unknown_unid() {
    let s = sims(Seed::Empty).await;
    let d = &s.domino_url;
    let unid = create_person(d, json!({ "LastName": "Gone" })).await;
    let stamp = header(
        &get(d, &format!("{DOCS}/unid/{unid}")).await,
        "last-modified",
    )
    .unwrap();
    control(d, "/_sim/clock", json!({ "advance_secs": 5 })).await;
    let resp = http()
        .patch(format!("{d}{DOCS}/unid/{unid}"))
        .basic_auth("demo", Some("demo"))
        .json(&json!({ "JobTitle": "Changed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = http()
        .delete(format!("{d}{DOCS}/unid/{unid}"))
        .basic_auth("demo", Some("demo"))
        .header("if-unmodified-since", &stamp)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);
    assert!(resp.text().await.unwrap().is_empty());
    assert_eq!(
        get(d, &format!("{DOCS}/unid/{unid}")).await.status(),
        StatusCode::OK,
        "not deleted"
    );
    let resp = http()
        .delete(format!("{d}{DOCS}/unid/{unid}"))
        .basic_auth("demo", Some("demo"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = get(d, &format!("{DOCS}/unid/{unid}")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        header(&resp, "content-type").as_deref(),
        Some("application/json")
    );
    let body = json(resp).await;
    assert_eq!(body["code"], 404);
    assert_eq!(body["text"], "Not Found");
    assert_eq!(body["type"], "text");
    assert!(body["data"].as_str().unwrap().contains("NotesException"));
    s.shutdown().await;
}

/// §1.6 value encoding over HTTP: date-only → `"2019-03-02"`, time-only → `"11:30:15"`,
/// with `strongtype=true` both `{"data":…,"type":"datetime"}`; rich text written as
/// `{"type":"richtext"}` reads back (default `multipart=true`) as the §1.6 example's
/// multipart/alternative with text/plain and text/html parts, and with `multipart=false` as
/// `{"type":"richtext","contentType":"text/html","data":…}`; names items read as canonical
/// strings, typed or not. The §1.6 write rules know no `names` type: such a write is 400.
#[tokio::test]
async fn s1_6_item_types_round_trip() {
    let s = sims(Seed::Empty).await;
    let d = &s.domino_url;
    let resp = http()
        .post(format!("{d}{DOCS}?form=Task"))
        .basic_auth("demo", Some("demo"))
        .json(&json!({
            "Subject": "Types",
            "DueDate": "2019-03-04",
            "StartDate": { "type": "datetime", "data": "2019-03-02" },
            "AlarmTime": { "type": "datetime", "data": "11:30:15" },
            "Body": { "type": "richtext", "contentType": "text/html", "data": "<p><b>Hello</b> &amp; bye</p>" }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = header(&resp, "location").unwrap();

    let doc = json(get(&location, "").await).await;
    assert_eq!(doc["DueDate"], "2019-03-04");
    assert_eq!(doc["StartDate"], "2019-03-02");
    assert_eq!(doc["AlarmTime"], "11:30:15");
    assert_eq!(doc["Body"]["type"], "multipart");
    let parts = doc["Body"]["content"].as_array().unwrap();
    assert_eq!(parts.len(), 3, "{parts:?}");
    let alternative = parts[0]["contentType"].as_str().unwrap();
    assert!(
        alternative.starts_with("multipart/alternative; boundary=\""),
        "{alternative}"
    );
    let boundary = parts[0]["boundary"].as_str().unwrap();
    assert!(
        alternative.contains(boundary.trim_start_matches("--")),
        "{boundary}"
    );
    assert_eq!(parts[1]["contentType"], "text/plain; charset=\"UTF-8\"");
    assert_eq!(parts[1]["contentTransferEncoding"], "7bit");
    assert_eq!(parts[1]["data"], "Hello & bye");
    assert_eq!(parts[2]["contentType"], "text/html; charset=\"UTF-8\"");
    assert_eq!(parts[2]["data"], "<p><b>Hello</b> &amp; bye</p>");

    let typed = json(get(&location, "?strongtype=true").await).await;
    assert_eq!(
        typed["DueDate"],
        json!({ "data": "2019-03-04", "type": "datetime" })
    );
    assert_eq!(
        typed["StartDate"],
        json!({ "data": "2019-03-02", "type": "datetime" })
    );
    assert_eq!(
        typed["AlarmTime"],
        json!({ "data": "11:30:15", "type": "datetime" })
    );
    assert_eq!(typed["Body"], doc["Body"]);

    let html = json(get(&location, "?multipart=false").await).await;
    assert_eq!(
        html["Body"],
        json!({ "type": "richtext", "contentType": "text/html", "data": "<p><b>Hello</b> &amp; bye</p>" })
    );
    assert_eq!(html["StartDate"], "2019-03-02");
    let both = json(get(&location, "?multipart=false&strongtype=true").await).await;
    assert_eq!(both["Body"], html["Body"]);
    assert_eq!(both["AlarmTime"], typed["AlarmTime"]);

    // Names: the user's Person document in the directory holds names items.
    let people = json(get(d, "/names.nsf/api/data/collections/name/People").await).await;
    let me = people
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["InternetAddress"] == "demo@example.com")
        .expect("demo's Person document");
    let href = me["@link"]["href"].as_str().unwrap();
    for query in ["", "?strongtype=true"] {
        let person = json(get(d, &format!("{href}{query}")).await).await;
        assert_eq!(person["FullName"], json!(["CN=demo/O=SimOrg", "demo"]));
        assert_eq!(person["MailServer"], "CN=sim/O=SimOrg");
    }

    let resp = http()
        .patch(&location)
        .basic_auth("demo", Some("demo"))
        .json(&json!({ "AssignedTo": { "type": "names", "data": "CN=demo/O=SimOrg" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = json(resp).await;
    assert_eq!(body["code"], 400);
    assert!(
        body["message"].as_str().unwrap().contains("names"),
        "{body}"
    );
    assert!(
        json(get(&location, "").await)
            .await
            .get("AssignedTo")
            .is_none()
    );
    s.shutdown().await;
}

/// §1.6 / §6.2 #5: "GET document marks it read by default (`markread=false` to avoid)"; the
/// view entry then carries `@read: true` (§1.4: "`@read` appears only when true").
#[tokio::test]
async fn s1_6_markread_marks_the_view_entry_read() {
    let s = sims(Seed::Empty).await;
    let d = &s.domino_url;
    let unid = create_person(d, json!({ "FirstName": "Read", "LastName": "Me" })).await;
    let entry = || async {
        let entries = json(get(d, CONTACTS).await).await;
        entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["@unid"] == unid.as_str())
            .cloned()
            .expect("the entry")
    };
    assert!(entry().await.get("@read").is_none());
    let resp = get(d, &format!("{DOCS}/unid/{unid}?markread=false")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(entry().await.get("@read").is_none(), "markread=false");
    let resp = get(d, &format!("{DOCS}/unid/{unid}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(entry().await["@read"], true, "default markread=true");
    s.shutdown().await;
}

/// §1.2: `GET /api/data` lists the databases the user may open, each item shaped like the
/// §1.2 example; with a database in the path it is 400 "URI path must not include a
/// database."; §1.1: `/{db}/api` is 404 "Database context not allowed.".
#[tokio::test]
async fn s1_2_database_list_and_database_context() {
    let s = sims(Seed::Empty).await;
    let d = &s.domino_url;
    let resp = get(d, "/api/data").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let list = json(resp).await;
    let list = list.as_array().unwrap();
    let paths: Vec<&str> = list
        .iter()
        .map(|db| db["@filepath"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"mail/demo.nsf"), "{paths:?}");
    assert!(paths.contains(&"names.nsf"), "{paths:?}");
    assert!(!paths.contains(&"mail/user2.nsf"), "{paths:?}");
    let mail = list
        .iter()
        .find(|db| db["@filepath"] == "mail/demo.nsf")
        .unwrap();
    let keys: Vec<&str> = mail
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["@title", "@filepath", "@replicaid", "@template", "@href"]
    );
    assert_eq!(mail["@href"], "/mail/demo.nsf/api/data/collections");
    let replica = mail["@replicaid"].as_str().unwrap();
    assert!(
        replica.len() == 16 && replica.chars().all(|c| c.is_ascii_hexdigit()),
        "{replica}"
    );

    let resp = get(d, "/mail/demo.nsf/api/data").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = json(resp).await;
    assert_eq!(body["code"], 400);
    assert_eq!(body["message"], "URI path must not include a database.");
    let resp = get(d, "/mail/demo.nsf/api").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body = json(resp).await;
    assert_eq!(body["code"], 404);
    assert_eq!(body["message"], "Database context not allowed.");
    s.shutdown().await;
}

/// §1.4: `GET …/collections/name/{view}/design` lists the columns with the documented keys
/// (`@columnnumber`, `@name` = programmatic name, `@title`, …).
#[tokio::test]
async fn s1_4_view_design() {
    let s = sims(Seed::Empty).await;
    let resp = get(&s.domino_url, &format!("{CONTACTS}/design")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let cols = json(resp).await;
    let cols = cols.as_array().unwrap();
    let keys: Vec<&str> = cols[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "@columnnumber",
            "@name",
            "@title",
            "@width",
            "@alignment",
            "@hidden",
            "@response",
            "@twistie",
            "@field",
            "@category"
        ]
    );
    assert_eq!(cols[0]["@columnnumber"], 1);
    assert_eq!(cols[0]["@name"], "$17");
    assert_eq!(cols[0]["@title"], "Name");
    let names: Vec<&str> = cols.iter().map(|c| c["@name"].as_str().unwrap()).collect();
    assert!(names.contains(&"MailAddress"), "{names:?}");
    // The view entries carry the columns under these programmatic names.
    create_person(
        &s.domino_url,
        json!({ "LastName": "Col", "MailAddress": "col@example.com" }),
    )
    .await;
    let entries = json(get(&s.domino_url, CONTACTS).await).await;
    for name in &names {
        assert!(entries[0].get(*name).is_some(), "{name} in {}", entries[0]);
    }
    let resp = get(
        &s.domino_url,
        "/mail/demo.nsf/api/data/collections/name/Nope/design",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        json(resp).await["message"],
        "The URI must refer to an existing view."
    );
    s.shutdown().await;
}

/// §1.5: `/documents?since=` lists documents modified strictly after `since`, all forms,
/// never deleted ones.
#[tokio::test]
async fn s1_5_documents_since_lists_modified_after() {
    let s = sims(Seed::Demo).await;
    let d = &s.domino_url;
    let all = json(get(d, DOCS).await).await;
    let all = all.as_array().unwrap();
    assert!(all.len() > 200, "contacts, to-dos and mails: {}", all.len());
    let latest = all
        .iter()
        .map(|e| e["@modified"].as_str().unwrap().to_owned())
        .max()
        .unwrap();
    let none = json(get(d, &format!("{DOCS}?since={latest}")).await).await;
    assert_eq!(none, json!([]));

    control(d, "/_sim/clock", json!({ "advance_secs": 10 })).await;
    let unid = create_person(d, json!({ "LastName": "New" })).await;
    let since = json(get(d, &format!("{DOCS}?since={latest}")).await).await;
    let since = since.as_array().unwrap();
    assert_eq!(since.len(), 1);
    assert_eq!(since[0]["@unid"], unid.as_str());
    assert_eq!(
        since[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["@modified", "@unid", "@href"]
    );
    http()
        .delete(format!("{d}{DOCS}/unid/{unid}"))
        .basic_auth("demo", Some("demo"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(get(d, &format!("{DOCS}?since={latest}")).await).await,
        json!([])
    );
    let resp = get(d, &format!("{DOCS}?since=yesterday")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    s.shutdown().await;
}

/// §1.1: bodies are pretty-printed unless `compact=true`.
#[tokio::test]
async fn s1_1_compact_removes_whitespace() {
    let s = sims(Seed::Demo).await;
    let pretty = get(&s.domino_url, &format!("{CONTACTS}?count=2"))
        .await
        .text()
        .await
        .unwrap();
    let compact = get(&s.domino_url, &format!("{CONTACTS}?count=2&compact=true"))
        .await
        .text()
        .await
        .unwrap();
    assert!(pretty.contains("\n  "));
    assert!(!compact.contains('\n') && !compact.contains(": "));
    let a: Value = serde_json::from_str(&pretty).unwrap();
    let b: Value = serde_json::from_str(&compact).unwrap();
    assert_eq!(a, b);
    s.shutdown().await;
}

/// §3.2 and §3.3: the demo seed has Person and Task documents with the documented items, some
/// marked private, and the second user has their own data.
#[tokio::test]
async fn s3_demo_seed_has_contacts_todos_and_private_marks() {
    let s = sims(Seed::Demo).await;
    let d = &s.domino_url;
    let todo = get(d, "/mail/demo.nsf/api/data/collections/name/ToDo?count=1").await;
    let total: usize = header(&todo, "content-range")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((20..=60).contains(&total), "{total}");
    let dump = json(http().get(format!("{d}/_sim/dump")).send().await.unwrap()).await;
    let docs = dump["databases"]["mail/demo.nsf"]["documents"]
        .as_array()
        .unwrap();
    let private = docs
        .iter()
        .filter(|d| d["items"]["OrgConfidential"] == "1")
        .count();
    assert!(private >= 3, "{private}");
    let person = docs.iter().find(|d| d["form"] == "Person").unwrap();
    for item in [
        "FirstName",
        "LastName",
        "MailAddress",
        "OfficePhoneNumber",
        "CompanyName",
        "OfficeCity",
        "OfficeCountry",
    ] {
        assert!(person["items"][item].is_string(), "{item}");
    }
    let task = docs.iter().find(|d| d["form"] == "Task").unwrap();
    assert_eq!(task["items"]["DueDateTime"]["type"], "datetime");
    let user2 = &dump["databases"]["mail/user2.nsf"]["documents"];
    assert!(user2.as_array().unwrap().len() >= 30);
    assert!(docs.iter().any(|d| {
        d["items"]["LastName"]
            .as_str()
            .is_some_and(|n| !n.is_ascii())
    }));
    s.shutdown().await;
}

/// §4.3: a session-auth server answers anonymous requests with 200 and the HTML login form.
#[tokio::test]
async fn s4_3_anonymous_gets_login_form_when_configured() {
    let s = sims(Seed::Empty).await;
    let d = &s.domino_url;
    control(d, "/_sim/config", json!({ "anonymous_login_form": true })).await;
    let resp = http().get(format!("{d}{CONTACTS}")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        header(&resp, "content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(resp.text().await.unwrap().contains("name=\"Username\""));
    s.shutdown().await;
}
