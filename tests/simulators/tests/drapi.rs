//! The Domino REST API simulator over loopback HTTP. Each test names the fact of
//! `reference/domino-rest-api.md` it checks (`// ref: §…`); every answer is also checked
//! against HCL's OpenAPI specs (the test fails on a mismatch, see `common::sims`).

mod common;

use common::{control, http, json, sims};
use nzsync_sim::Seed;
use reqwest::StatusCode;
use serde_json::{Value, json};

const DS: &str = "dataSource=maildemo";

/// Log in and return the bearer token.
async fn login(base: &str, user: &str, password: &str) -> String {
    let resp = http()
        .post(format!("{base}/api/v1/auth"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    body["bearer"].as_str().expect("bearer").to_owned()
}

async fn demo_token(base: &str) -> String {
    login(base, "demo", "demo").await
}

async fn call(
    method: reqwest::Method,
    base: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut rb = http()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    rb.send().await.expect("request")
}

async fn get(base: &str, path: &str, token: &str) -> reqwest::Response {
    call(reqwest::Method::GET, base, path, token, None).await
}

async fn post(base: &str, path: &str, token: &str, body: Value) -> reqwest::Response {
    call(reqwest::Method::POST, base, path, token, Some(body)).await
}

/// Status and JSON body.
async fn answer(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    (status, json(resp).await)
}

/// Create a Person through DRAPI; its `@meta`-form answer.
async fn create_person(base: &str, token: &str, fields: Value) -> Value {
    let mut body = json!({"Form": "Person"});
    if let (Value::Object(b), Value::Object(f)) = (&mut body, fields) {
        b.extend(f);
    }
    let (status, doc) =
        answer(post(base, &format!("/api/v1/document?{DS}"), token, body).await).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    doc
}

fn unid(doc: &Value) -> String {
    doc["@meta"]["unid"].as_str().expect("unid").to_owned()
}

/// The basis error shape: `status` (number, equal to the HTTP status), `message`, `details`.
fn assert_basis_error(status: StatusCode, body: &Value) {
    assert_eq!(body["status"], json!(status.as_u16()), "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(body["details"].is_string(), "{body}");
    assert!(body.get("code").is_none(), "{body}");
}

// ---- authentication ----

/// ref: §2.1 B:authLogin, §2.2: the login answers a three-part JWT with the documented
/// claims, `leeway` and `expSeconds` 7200 (2 h); every other call needs it.
#[tokio::test]
async fn s2_1_login_answers_a_jwt_that_every_call_needs() {
    let s = sims(Seed::Demo).await;
    let base = &s.drapi_url;
    let resp = http()
        .post(format!("{base}/api/v1/auth"))
        .json(&json!({"username":"demo","password":"demo","scope":"MAIL $DATA"}))
        .send()
        .await
        .unwrap();
    let (status, body) = answer(resp).await;
    assert_eq!(status, StatusCode::OK);
    let token = body["bearer"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 3);
    assert_eq!(body["claims"]["sub"], "CN=demo/O=SimOrg");
    assert_eq!(body["claims"]["scopes"], "MAIL $DATA");
    assert_eq!(body["claims"]["aud"], json!(["Domino"]));
    assert_eq!(body["leeway"], 5);
    assert_eq!(body["expSeconds"], 7200);
    let exp = body["claims"]["exp"].as_i64().unwrap();
    assert_eq!(exp - body["claims"]["iat"].as_i64().unwrap(), 7200);
    // The payload is the claims, readable by anyone.
    use base64::Engine;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.split('.').nth(1).unwrap())
        .unwrap();
    let payload: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(payload["exp"], exp);

    let path = format!("/api/v1/lists/Contacts?{DS}&count=1");
    let none = http().get(format!("{base}{path}")).send().await.unwrap();
    let (status, err) = answer(none).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_basis_error(status, &err);
    let (status, err) = answer(get(base, &path, "not.a.token").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_basis_error(status, &err);
    // A forged token with valid claims but another signature is refused too.
    let forged = format!(
        "{}.{}.AAAA",
        token.split('.').next().unwrap(),
        token.split('.').nth(1).unwrap()
    );
    assert_eq!(
        get(base, &path, &forged).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(get(base, &path, token).await.status(), StatusCode::OK);
    s.shutdown().await;
}

/// ref: §2.1: a wrong password is 401 "Invalid credentials or account locked" (or 500, as
/// HCL's Postman test saw, when configured); the e-mail works as user name.
#[tokio::test]
async fn s2_1_wrong_password_is_401_or_the_configured_500() {
    let s = sims(Seed::Empty).await;
    let base = &s.drapi_url;
    let attempt = || async {
        let resp = http()
            .post(format!("{base}/api/v1/auth"))
            .json(&json!({"username":"demo","password":"nope"}))
            .send()
            .await
            .unwrap();
        answer(resp).await
    };
    let (status, body) = attempt().await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Invalid credentials or account locked");
    assert_basis_error(status, &body);
    control(base, "/_sim/config", json!({"login_failure_status": 500})).await;
    assert_eq!(attempt().await.0, StatusCode::INTERNAL_SERVER_ERROR);
    login(base, "demo@example.com", "demo").await;
    // additionalProperties: false.
    let resp = http()
        .post(format!("{base}/api/v1/auth"))
        .json(&json!({"username":"demo","password":"demo","extra":1}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    s.shutdown().await;
}

/// ref: §2.1 (JwtDuration 2 h, no refresh, expired → 401; M:whatsnew/v1.1.6), §8.2: the token
/// works until its lifetime (plus the 5 s leeway) is over, then 401 until a new login; a
/// restart invalidates every token.
#[tokio::test]
async fn s2_1_token_expires_after_two_hours_and_a_new_login_is_needed() {
    let s = sims(Seed::Demo).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let path = format!("/api/v1/lists/Contacts?{DS}&count=1");
    control(base, "/_sim/clock", json!({"advance_secs": 7200})).await;
    assert_eq!(
        get(base, &path, &token).await.status(),
        StatusCode::OK,
        "within the leeway"
    );
    control(base, "/_sim/clock", json!({"advance_secs": 5})).await;
    let (status, body) = answer(get(base, &path, &token).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "JWT token expired");
    let fresh = demo_token(base).await;
    assert_eq!(get(base, &path, &fresh).await.status(), StatusCode::OK);
    control(base, "/_sim/config", json!({"expire_tokens": true})).await;
    assert_eq!(
        get(base, &path, &fresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A shorter configured lifetime.
    control(base, "/_sim/config", json!({"jwt_lifetime_secs": 60})).await;
    let short = demo_token(base).await;
    control(base, "/_sim/clock", json!({"advance_secs": 66})).await;
    assert_eq!(
        get(base, &path, &short).await.status(),
        StatusCode::UNAUTHORIZED
    );
    s.shutdown().await;
}

/// ref: §2.1 B:authLogout, §8.3: logout answers the status message and the token is dead.
#[tokio::test]
async fn s2_1_logout_ends_the_token() {
    let s = sims(Seed::Empty).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let (status, body) =
        answer(post(base, "/api/v1/auth/logout", &token, json!({"logout":"Yes"})).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["statusText"], "OK");
    assert_eq!(body["status"], 200);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("CN=demo/O=SimOrg logged out (")
    );
    assert_eq!(
        get(base, "/api/v1/userinfo", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    s.shutdown().await;
}

// ---- scopes, schemas, visibility ----

/// ref: §1.3 B:getScope, §2.5 levels 4–6: an unknown scope is 404 with errorId 1112; the
/// seeded scope shows its schema (forms Person and Task, modes default and dql, DQL on);
/// `/scope/access` gives the effective level (the scope caps the owner's Manager at Editor).
#[tokio::test]
async fn s2_5_scope_probe_shows_the_schema_or_404_1112() {
    let s = sims(Seed::Empty).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let (status, body) = answer(get(base, "/api/v1/scope?dataSource=nosuch", &token).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["errorId"], 1112);
    assert_eq!(
        body["message"],
        "A scope definition with that name cannot be found: nosuch"
    );
    let (status, schema) = answer(get(base, &format!("/api/v1/scope?{DS}"), &token).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(schema["apiName"], "maildemo");
    assert_eq!(schema["nsfPath"], "mail/demo.nsf");
    assert_eq!(schema["dqlAccess"], true);
    let forms: Vec<&str> = schema["forms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["formName"].as_str().unwrap())
        .collect();
    assert_eq!(forms, ["Person", "Task"]);
    let person_fields: Vec<&str> = schema["forms"][0]["formModes"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for f in [
        "FirstName",
        "LastName",
        "MailAddress",
        "CompanyName",
        "ZohoCRMId",
        "OrgConfidential",
    ] {
        assert!(person_fields.contains(&f), "{f}");
    }
    let (status, access) =
        answer(get(base, &format!("/api/v1/scope/access?{DS}"), &token).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(access["Level"], "EDITOR");
    let (_, scopes) = answer(get(base, "/api/v1/scopes", &token).await).await;
    let names: Vec<&str> = scopes
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["apiName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["maildemo", "mailuser2"]);
    let (_, me) = answer(get(base, "/api/v1/userinfo", &token).await).await;
    assert_eq!(me["mailFile"], "mail/demo.nsf");
    s.shutdown().await;
}

/// ref: §0 "a user can only open their own mail file" (ACL), §6.2 (ACL refuses → 403), §2.2
/// (a JWT scope limits access): another user's scope is 403, as is a token without `$DATA`.
#[tokio::test]
async fn s2_2_other_mail_files_and_limited_tokens_are_403() {
    let s = sims(Seed::Demo).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let (status, body) =
        answer(get(base, "/api/v1/lists/Contacts?dataSource=mailuser2", &token).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_basis_error(status, &body);
    let resp = http()
        .post(format!("{base}/api/v1/auth"))
        .json(&json!({"username":"demo","password":"demo","scope":"MAIL"}))
        .send()
        .await
        .unwrap();
    let mail_only = json(resp).await["bearer"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/lists/Contacts?{DS}&count=1");
    assert_eq!(
        get(base, &path, &mail_only).await.status(),
        StatusCode::FORBIDDEN
    );
    let resp = http()
        .post(format!("{base}/api/v1/auth"))
        .json(&json!({"username":"demo","password":"demo","scope":"maildemo"}))
        .send()
        .await
        .unwrap();
    let scoped = json(resp).await["bearer"].as_str().unwrap().to_owned();
    assert_eq!(get(base, &path, &scoped).await.status(), StatusCode::OK);
    let (status, _) = answer(get(base, "/api/v1/lists/Contacts?count=1", &token).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "dataSource is required");
    s.shutdown().await;
}

/// ref: §2.3 visibility (V:references_limitation), §8.5: only configured forms are readable;
/// items outside the mode are neither returned nor written; a removed form's documents get
/// 403 "No form and mode configuration found for Task/default".
#[tokio::test]
async fn s2_3_only_the_modes_fields_are_read_or_written() {
    let s = sims(Seed::Empty).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let doc = create_person(
        base,
        &token,
        json!({"LastName":"Ito","Secret":"x","ZohoCRMId":"42"}),
    )
    .await;
    assert_eq!(doc["LastName"], "Ito");
    assert_eq!(doc["ZohoCRMId"], "42");
    assert!(doc.get("Secret").is_none());
    let warnings = doc["@warnings"].as_array().unwrap();
    assert!(
        warnings.contains(&json!("Field Secret is not in mode default")),
        "{warnings:?}"
    );
    assert!(warnings.contains(&json!("No values found for item FirstName")));
    let id = unid(&doc);
    // The item was not written: DAS, which sees every item, does not have it either.
    let das = http()
        .get(format!(
            "{}/mail/demo.nsf/api/data/documents/unid/{id}",
            s.domino_url
        ))
        .basic_auth("demo", Some("demo"))
        .send()
        .await
        .unwrap();
    let das = json(das).await;
    assert_eq!(das["LastName"], "Ito");
    assert!(das.get("Secret").is_none());
    // Remove the field from the schema: it disappears from reads.
    control(
        base,
        "/_sim/config",
        json!({"schemas":{"maildemo":{"remove_fields":{"Person":["ZohoCRMId"]}}}}),
    )
    .await;
    let (_, read) = answer(get(base, &format!("/api/v1/document/{id}?{DS}"), &token).await).await;
    assert!(read.get("ZohoCRMId").is_none(), "{read}");
    assert_eq!(read["LastName"], "Ito");
    control(
        base,
        "/_sim/config",
        json!({"schemas":{"maildemo":{"remove_forms":["Person"]}}}),
    )
    .await;
    let (status, err) =
        answer(get(base, &format!("/api/v1/document/{id}?{DS}"), &token).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        err["message"],
        "No form and mode configuration found for Person/default"
    );
    s.shutdown().await;
}

// ---- documents ----

/// ref: §4.1 B:createDocument (200, not 201; `@meta`), §4.2 PATCH (null removes), PUT, §4.3
/// delete, §8.11 metadata (etag `W/" %08x"` of the seconds, revision new on each write,
/// `lastmodified` with hundredths and an offset, `lastmodifiedinfile` in `Z`).
#[tokio::test]
async fn s4_documents_create_patch_put_delete() {
    let s = sims(Seed::Empty).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let doc = create_person(
        base,
        &token,
        json!({"FirstName":"Jane","LastName":"Doe","Categories":["A","B"],"OrgConfidential":"1"}),
    )
    .await;
    let meta = &doc["@meta"];
    let id = unid(&doc);
    assert_eq!(id.len(), 32);
    assert!(meta["noteid"].is_u64());
    let etag = meta["etag"].as_str().unwrap();
    let secs =
        u32::from_str_radix(etag.trim_start_matches("W/\" ").trim_end_matches('"'), 16).unwrap();
    let modified =
        chrono::DateTime::parse_from_rfc3339(meta["lastmodified"].as_str().unwrap()).unwrap();
    assert_eq!(i64::from(secs), modified.timestamp());
    assert!(
        meta["lastmodified"]
            .as_str()
            .unwrap()
            .ends_with(".00+01:00"),
        "{meta}"
    );
    assert!(
        meta["lastmodifiedinfile"]
            .as_str()
            .unwrap()
            .ends_with(".00Z"),
        "{meta}"
    );
    assert_eq!(doc["Categories"], json!(["A", "B"]));
    let rev1 = meta["revision"].as_str().unwrap().to_owned();
    assert_eq!(rev1.len(), 24);

    let patch = call(
        reqwest::Method::PATCH,
        base,
        &format!("/api/v1/document/{id}?{DS}"),
        &token,
        Some(json!({"JobTitle":"CEO","OrgConfidential":null})),
    )
    .await;
    let (status, patched) = answer(patch).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["JobTitle"], "CEO");
    assert_eq!(patched["FirstName"], "Jane");
    assert!(patched.get("OrgConfidential").is_none());
    let rev2 = patched["@meta"]["revision"].as_str().unwrap().to_owned();
    assert_ne!(
        rev1, rev2,
        "a new revision on every save, even within a second"
    );

    let put = call(
        reqwest::Method::PUT,
        base,
        &format!("/api/v1/document/{id}?{DS}"),
        &token,
        Some(json!({"Form":"Person","LastName":"Roe"})),
    )
    .await;
    let (status, replaced) = answer(put).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replaced["LastName"], "Roe");
    assert!(
        replaced.get("FirstName").is_none(),
        "PUT replaces the mode's fields: {replaced}"
    );
    let put = call(
        reqwest::Method::PUT,
        base,
        &format!("/api/v1/document/{id}?{DS}"),
        &token,
        Some(json!({"LastName":"x"})),
    )
    .await;
    assert_eq!(put.status(), StatusCode::BAD_REQUEST, "PUT needs Form");

    let del = call(
        reqwest::Method::DELETE,
        base,
        &format!("/api/v1/document/{id}?{DS}"),
        &token,
        None,
    )
    .await;
    let (status, body) = answer(del).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"statusText":"OK","status":200,"message":format!("Document {id} deleted"),"unid":id})
    );
    let (status, err) =
        answer(get(base, &format!("/api/v1/document/{id}?{DS}"), &token).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_basis_error(status, &err);
    let (status, _) = answer(get(base, &format!("/api/v1/document/XYZ?{DS}"), &token).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = answer(
        post(
            base,
            &format!("/api/v1/document?{DS}"),
            &token,
            json!({"LastName":"x"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "'Form' is required");
    let (status, _) = answer(
        post(
            base,
            &format!("/api/v1/document?{DS}"),
            &token,
            json!({"Form":"Memo"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "Memo is not in the schema");
    s.shutdown().await;
}

/// ref: §4.2 (`revision` with `requireRevisionToUpdate`; a stale one is refused, status
/// undocumented → 409 chosen, configurable), §8.10.
#[tokio::test]
async fn s4_2_revision_is_required_and_a_stale_one_is_refused() {
    let s = sims(Seed::Empty).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let doc = create_person(base, &token, json!({"LastName":"Rev"})).await;
    let id = unid(&doc);
    let rev = doc["@meta"]["revision"].as_str().unwrap().to_owned();
    let patch = |q: String, body: Value| {
        let token = token.clone();
        let id = id.clone();
        async move {
            answer(
                call(
                    reqwest::Method::PATCH,
                    base,
                    &format!("/api/v1/document/{id}?{DS}{q}"),
                    &token,
                    Some(body),
                )
                .await,
            )
            .await
        }
    };
    // Not required: no revision is fine.
    assert_eq!(
        patch(String::new(), json!({"JobTitle":"A"})).await.0,
        StatusCode::OK
    );
    control(
        base,
        "/_sim/config",
        json!({"schemas":{"maildemo":{"requireRevisionToUpdate":true}}}),
    )
    .await;
    let (status, err) = patch(String::new(), json!({"JobTitle":"B"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_basis_error(status, &err);
    let (status, _) = patch(format!("&revision={rev}"), json!({"JobTitle":"B"})).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the first PATCH made that revision stale"
    );
    let (_, now) = answer(get(base, &format!("/api/v1/document/{id}?{DS}"), &token).await).await;
    let current = now["@meta"]["revision"].as_str().unwrap().to_owned();
    let (status, done) = patch(format!("&revision={current}"), json!({"JobTitle":"B"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["JobTitle"], "B");
    control(
        base,
        "/_sim/config",
        json!({"revision_conflict_status": 412}),
    )
    .await;
    assert_eq!(
        patch(format!("&revision={current}"), json!({})).await.0,
        StatusCode::PRECONDITION_FAILED
    );
    s.shutdown().await;
}

// ---- lists ----

/// ref: §3.2 B:fetchViewEntries: entries with `@unid`, numeric `@noteid`, `@index`, `@etag`,
/// then columns alphabetically; `start`/`count` page (default 1000, -1 all); `documents=true`
/// gives whole documents with flat metadata; no total header.
#[tokio::test]
async fn s3_2_lists_page_entries_and_documents() {
    let s = sims(Seed::Demo).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let list = |q: String| {
        let token = token.clone();
        async move {
            let resp = get(
                base,
                &format!("/api/v1/lists/%28%24Contacts%29?{DS}{q}"),
                &token,
            )
            .await;
            assert!(resp.headers().get("content-range").is_none());
            answer(resp).await
        }
    };
    let (status, all) = list(String::new()).await;
    assert_eq!(status, StatusCode::OK);
    let all = all.as_array().unwrap().clone();
    assert_eq!(
        all.len(),
        200,
        "the demo user's 200 contacts, under the default count"
    );
    let first = all[0].as_object().unwrap();
    let keys: Vec<&String> = first.keys().collect();
    assert_eq!(&keys[..4], ["@unid", "@noteid", "@index", "@etag"]);
    let columns: Vec<&String> = keys[4..].to_vec();
    let mut sorted = columns.clone();
    sorted.sort();
    assert_eq!(columns, sorted, "columns in alphabetical order");
    assert!(first["@noteid"].is_u64());
    assert_eq!(first["@index"], "1");
    let mut paged = Vec::new();
    for page in 0..5 {
        let (_, p) = list(format!("&start={}&count=50", page * 50)).await;
        let p = p.as_array().unwrap().clone();
        if page < 4 {
            assert_eq!(p.len(), 50);
        } else {
            assert!(p.is_empty(), "a short (here empty) page ends the list");
        }
        paged.extend(p);
    }
    assert_eq!(paged, all);
    assert_eq!(paged[50]["@index"], "51");
    let (_, every) = list("&count=-1".into()).await;
    assert_eq!(every.as_array().unwrap().len(), 200);
    let (_, docs) = list("&documents=true&count=3".into()).await;
    let d = &docs[0];
    assert_eq!(d["@unid"], all[0]["@unid"]);
    assert!(d["@lastmodified"].is_string() && d["@etag"].is_string());
    assert!(d.get("@meta").is_none());
    assert_eq!(d["Form"], "Person");
    assert!(d["LastName"].is_string());
    for bad in ["&count=-2", "&count=x", "&start=-1", "&count=99999999999"] {
        assert_eq!(list(bad.into()).await.0, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, err) =
        answer(get(base, &format!("/api/v1/lists/%28%24Inbox%29?{DS}"), &token).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        err["message"],
        "The list ($Inbox) is not configured for this database"
    );
    s.shutdown().await;
}

// ---- DQL ----

/// ref: §3.7 (DQL `@ModifiedInThisFile > @dt('…')` finds changes; compares with
/// `lastmodifiedinfile`; second precision; `Z`, offsets and fractions), §3.3 (`forms`,
/// `and`/`or`, `@meta` documents, `start`/`count`).
#[tokio::test]
async fn s3_7_dql_since_queries_have_second_precision() {
    let s = sims(Seed::Empty).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let a = create_person(base, &token, json!({"LastName":"A"})).await;
    control(base, "/_sim/clock", json!({"advance_secs": 1})).await;
    let b = create_person(base, &token, json!({"LastName":"B"})).await;
    let (status, task) = answer(
        post(
            base,
            &format!("/api/v1/document?{DS}"),
            &token,
            json!({"Form":"Task","Subject":"T"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{task}");
    let at_a = a["@meta"]["lastmodifiedinfile"]
        .as_str()
        .unwrap()
        .to_owned();
    let at_b = b["@meta"]["lastmodifiedinfile"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(at_a, at_b);
    let query = |q: String, forms: Value| {
        let token = token.clone();
        async move {
            answer(
                post(
                    base,
                    &format!("/api/v1/query?{DS}&action=execute"),
                    &token,
                    json!({"query": q, "forms": forms}),
                )
                .await,
            )
            .await
        }
    };
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|d| d["LastName"].as_str().unwrap_or("-").to_owned())
            .collect()
    };
    let (status, r) = query(
        format!("@ModifiedInThisFile > @dt('{at_a}')"),
        json!(["Person"]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(names(&r), ["B"], "strictly after A's second");
    assert!(r[0]["@meta"]["unid"].is_string());
    let (_, r) = query(
        format!("@ModifiedInThisFile >= @dt('{at_a}')"),
        json!(["Person"]),
    )
    .await;
    assert_eq!(names(&r), ["A", "B"]);
    // A fraction inside A's second: A is not after it.
    let frac = at_a.replace(".00Z", ".50Z");
    let (_, r) = query(
        format!("@ModifiedInThisFile > @dt('{frac}')"),
        json!(["Person"]),
    )
    .await;
    assert_eq!(names(&r), ["B"]);
    // The same instant with an offset.
    let t = chrono::DateTime::parse_from_rfc3339(&at_a)
        .unwrap()
        .with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap());
    let (_, r) = query(
        format!("@ModifiedInThisFile > @dt('{}')", t.to_rfc3339()),
        json!(["Person"]),
    )
    .await;
    assert_eq!(names(&r), ["B"]);
    // Without forms, both forms come back; `or` and `and`.
    let (_, r) = query(format!("@ModifiedInThisFile > @dt('{at_a}')"), json!([])).await;
    assert_eq!(r.as_array().unwrap().len(), 2);
    let (_, r) = query("LastName = 'a' or Subject = 'T'".into(), json!([])).await;
    assert_eq!(r.as_array().unwrap().len(), 2);
    let (_, r) = query("@All".into(), json!(["Task"])).await;
    assert_eq!(r[0]["Subject"], "T");
    let (_, r) = query("Form = 'Person' and LastName = 'B'".into(), json!([])).await;
    assert_eq!(names(&r), ["B"]);
    let (_, page) = answer(
        post(
            base,
            &format!("/api/v1/query?{DS}&action=execute&start=1&count=1"),
            &token,
            json!({"query":"@All","forms":["Person"]}),
        )
        .await,
    )
    .await;
    assert_eq!(names(&page), ["B"]);
    s.shutdown().await;
}

/// ref: §3.3 (DQL errors: no `@Modified`; `action` required; unknown body keys refused),
/// §8.5 (no `dqlAccess` → 403; a form without a `dql` mode returns nothing).
#[tokio::test]
async fn s3_3_bad_dql_is_400_and_dql_needs_access_and_a_dql_mode() {
    let s = sims(Seed::Demo).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let run = |body: Value, action: &'static str| {
        let token = token.clone();
        async move {
            answer(post(base, &format!("/api/v1/query?{DS}{action}"), &token, body).await).await
        }
    };
    for q in [
        "@Modified > @dt('2025-01-01')",
        "Form = ",
        "LastName = 'x' and (",
        "@ModifiedInThisFile > '2025'",
    ] {
        let (status, err) = run(json!({"query": q}), "&action=execute").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
        assert_basis_error(status, &err);
    }
    assert_eq!(
        run(json!({"query":"@All"}), "").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        run(json!({"query":"@All","bogus":1}), "&action=execute")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let (status, r) = run(
        json!({"query":"@All","forms":["Person"]}),
        "&action=execute",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r.as_array().unwrap().len(), 200);
    control(
        base,
        "/_sim/config",
        json!({"schemas":{"maildemo":{"remove_modes":{"Person":["dql"]}}}}),
    )
    .await;
    let (_, r) = run(
        json!({"query":"@All","forms":["Person"]}),
        "&action=execute",
    )
    .await;
    assert_eq!(r, json!([]), "no dql mode, no documents");
    control(
        base,
        "/_sim/config",
        json!({"schemas":{"maildemo":{"dqlAccess":false}}}),
    )
    .await;
    let (status, err) = run(json!({"query":"@All"}), "&action=execute").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        err["message"],
        "DQL access is not allowed for this database"
    );
    s.shutdown().await;
}

// ---- bulk ----

/// ref: §4.4 B:bulkCreateDocuments (results by position, flat meta), B:bulkDeleteDocuments
/// (`"Document X deleted"` per UNID), §3.4 B:bulkGetDocumentsByUnid (order kept, a missing
/// UNID gets its own result), §3.5 B:bulkDocumentEtagByUnid (deletions show).
#[tokio::test]
async fn s4_4_bulk_create_read_etag_delete() {
    let s = sims(Seed::Empty).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let docs: Vec<Value> = (0..25)
        .map(|i| json!({"Form":"Person","LastName":format!("P{i:02}")}))
        .collect();
    let mut body = docs.clone();
    body.insert(3, json!({"LastName":"no form"}));
    let (status, created) = answer(
        post(
            base,
            &format!("/api/v1/bulk/create?{DS}"),
            &token,
            json!({"documents": body}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let created = created.as_array().unwrap().clone();
    assert_eq!(created.len(), 26);
    assert_eq!(created[3]["status"], 400, "the failure keeps its position");
    assert_eq!(created[4]["LastName"], "P03");
    let unids: Vec<String> = created
        .iter()
        .filter_map(|d| d["@unid"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(unids.len(), 25);
    assert!(created[0]["@etag"].is_string());

    let mut ask: Vec<String> = unids.iter().rev().cloned().collect();
    ask.insert(1, "0".repeat(32));
    let (status, read) = answer(
        post(
            base,
            &format!("/api/v1/bulk/unid?{DS}"),
            &token,
            json!({"unids": ask}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read[0]["LastName"], "P24");
    assert_eq!(read[1]["status"], 404);
    assert_eq!(read[2]["LastName"], "P23");

    let gone: Vec<String> = unids[..10].to_vec();
    let (status, deleted) = answer(
        post(
            base,
            &format!("/api/v1/bulk/delete?{DS}"),
            &token,
            json!({"unids": gone}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        deleted[0],
        json!({"statusText":"OK","status":200,"message":format!("Document {} deleted", unids[0]),"unid":unids[0]})
    );
    let (_, again) = answer(
        post(
            base,
            &format!("/api/v1/bulk/delete?{DS}"),
            &token,
            json!({"unids": [unids[0]]}),
        )
        .await,
    )
    .await;
    assert_eq!(again[0]["status"], 404);

    let (status, etags) = answer(
        post(
            base,
            &format!("/api/v1/bulk/etag?{DS}"),
            &token,
            json!({"unids": unids}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(etags[&unids[0]], json!({"exists": false}));
    assert_eq!(etags[&unids[20]]["exists"], true);
    assert_eq!(etags[&unids[20]]["etag"], created[21]["@etag"]);
    let (_, left) = answer(
        get(
            base,
            &format!("/api/v1/lists/Contacts?{DS}&count=-1"),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(left.as_array().unwrap().len(), 15);
    s.shutdown().await;
}

// ---- one Domino, two APIs ----

/// ref: §7 (same items, same UNIDs), §0: a document written through DAS reads through DRAPI
/// with the same UNID, items and modification time, and a DRAPI write reads through DAS.
#[tokio::test]
async fn cross_api_das_and_drapi_see_the_same_documents() {
    let s = sims(Seed::Empty).await;
    let (das, base) = (&s.domino_url, &s.drapi_url);
    let token = demo_token(base).await;
    let resp = http()
        .post(format!(
            "{das}/mail/demo.nsf/api/data/documents?form=Person"
        ))
        .basic_auth("demo", Some("demo"))
        .json(&json!({"FirstName":"Kenji","LastName":"Sato","ZohoCRMId":"777"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let id = resp.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let (status, doc) =
        answer(get(base, &format!("/api/v1/document/{id}?{DS}"), &token).await).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["LastName"], "Sato");
    assert_eq!(doc["ZohoCRMId"], "777");
    let das_doc = json(
        http()
            .get(format!("{das}/mail/demo.nsf/api/data/documents/unid/{id}"))
            .basic_auth("demo", Some("demo"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let das_modified =
        chrono::DateTime::parse_from_rfc3339(das_doc["@modified"].as_str().unwrap()).unwrap();
    let drapi_modified =
        chrono::DateTime::parse_from_rfc3339(doc["@meta"]["lastmodified"].as_str().unwrap())
            .unwrap();
    assert_eq!(das_modified, drapi_modified);
    let rev = doc["@meta"]["revision"].as_str().unwrap().to_owned();

    // DAS changes it: DRAPI sees the new value and a new revision.
    let resp = http()
        .patch(format!("{das}/mail/demo.nsf/api/data/documents/unid/{id}"))
        .basic_auth("demo", Some("demo"))
        .json(&json!({"JobTitle":"CTO"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, doc) = answer(get(base, &format!("/api/v1/document/{id}?{DS}"), &token).await).await;
    assert_eq!(doc["JobTitle"], "CTO");
    assert_ne!(doc["@meta"]["revision"].as_str().unwrap(), rev);

    // DRAPI writes: DAS reads it.
    let created = create_person(
        base,
        &token,
        json!({"LastName":"Yamada","MailAddress":"y@example.com"}),
    )
    .await;
    let new_id = unid(&created);
    let das_doc = json(
        http()
            .get(format!(
                "{das}/mail/demo.nsf/api/data/documents/unid/{new_id}"
            ))
            .basic_auth("demo", Some("demo"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(das_doc["LastName"], "Yamada");
    assert_eq!(das_doc["@form"], "Person");
    // DAS's view lists it; DRAPI's delete removes it for DAS too.
    call(
        reqwest::Method::DELETE,
        base,
        &format!("/api/v1/document/{new_id}?{DS}"),
        &token,
        None,
    )
    .await;
    let resp = http()
        .get(format!(
            "{das}/mail/demo.nsf/api/data/documents/unid/{new_id}"
        ))
        .basic_auth("demo", Some("demo"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // The dump of either port is the same server.
    let d1 = json(http().get(format!("{das}/_sim/dump")).send().await.unwrap()).await;
    let d2 = json(
        http()
            .get(format!("{base}/_sim/dump"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(d1, d2);
    assert!(d1["drapi"]["scopes"].is_array());
    s.shutdown().await;
}

// ---- faults, latency, call log ----

/// ref: §8.16 (faults: 401 mid-run, 503, truncated bodies); the port has its own call log and
/// fault rules, in the basis error shape.
#[tokio::test]
async fn faults_and_the_call_log_are_per_port() {
    let s = sims(Seed::Demo).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let path = format!("/api/v1/lists/Contacts?{DS}&count=2");
    control(
        base,
        "/_sim/faults",
        json!({"rules":[{"kind":"status","status":503,"path_prefix":"/api/v1/lists","times":1}]}),
    )
    .await;
    let (status, err) = answer(get(base, &path, &token).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_basis_error(status, &err);
    assert_eq!(get(base, &path, &token).await.status(), StatusCode::OK);
    control(
        base,
        "/_sim/faults",
        json!({"rules":[{"kind":"expire_token","times":1}]}),
    )
    .await;
    assert_eq!(
        get(base, &path, &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(base, &path, &token).await.status(),
        StatusCode::UNAUTHORIZED,
        "the token stays expired"
    );
    let token = demo_token(base).await;
    control(
        base,
        "/_sim/faults",
        json!({"rules":[{"kind":"drop","times":1}]}),
    )
    .await;
    assert!(
        http()
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .is_err()
    );
    control(
        base,
        "/_sim/faults",
        json!({"rules":[{"kind":"truncate","times":1}]}),
    )
    .await;
    let resp = get(base, &path, &token).await;
    assert!(resp.text().await.is_err(), "a truncated body fails to read");
    let calls = json(
        http()
            .get(format!("{base}/_sim/calls"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let statuses: Vec<u64> = calls["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 503, 200, 401, 401, 200, 0, 200]);
    let das_calls = json(
        http()
            .get(format!("{}/_sim/calls", s.domino_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(das_calls["calls"], json!([]), "DAS's log is its own");
    assert_eq!(s.domino().drapi_calls().len(), 8);
    // Latency and delay are the port's own too.
    control(
        base,
        "/_sim/faults",
        json!({"rules":[{"kind":"delay","ms":120,"times":1}]}),
    )
    .await;
    control(base, "/_sim/latency", json!({"ms": 60})).await;
    let das_latency = json(
        http()
            .get(format!("{}/_sim/latency", s.domino_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(das_latency["ms"], 0);
    let started = std::time::Instant::now();
    assert_eq!(get(base, &path, &token).await.status(), StatusCode::OK);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(180),
        "{:?}",
        started.elapsed()
    );
    s.shutdown().await;
}

/// ref: §8 (answers and errors follow the reference and HCL's specs): every answer matched
/// HCL's specs, and the operations a sync uses were checked (not left undescribed).
#[tokio::test]
async fn spec_check_covers_the_operations_a_sync_uses() {
    let s = sims(Seed::Demo).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let doc = create_person(base, &token, json!({"LastName":"Spec"})).await;
    let id = unid(&doc);
    get(base, &format!("/api/v1/document/{id}?{DS}"), &token).await;
    call(
        reqwest::Method::PATCH,
        base,
        &format!("/api/v1/document/{id}?{DS}"),
        &token,
        Some(json!({"JobTitle":"x"})),
    )
    .await;
    get(
        base,
        &format!("/api/v1/lists/Contacts?{DS}&documents=true&count=5"),
        &token,
    )
    .await;
    post(
        base,
        &format!("/api/v1/query?{DS}&action=execute"),
        &token,
        json!({"query":"@All","forms":["Task"]}),
    )
    .await;
    post(
        base,
        &format!("/api/v1/bulk/unid?{DS}"),
        &token,
        json!({"unids":[id]}),
    )
    .await;
    post(
        base,
        &format!("/api/v1/bulk/etag?{DS}"),
        &token,
        json!({"unids":[id]}),
    )
    .await;
    post(
        base,
        &format!("/api/v1/bulk/create?{DS}"),
        &token,
        json!({"documents":[{"Form":"Task","Subject":"s"}]}),
    )
    .await;
    post(
        base,
        &format!("/api/v1/bulk/delete?{DS}"),
        &token,
        json!({"unids":[id]}),
    )
    .await;
    get(base, "/api/v1/scope?dataSource=nosuch", &token).await;
    get(base, &format!("/api/v1/document/{id}?{DS}"), &token).await;
    let today = chrono::Utc::now().date_naive();
    get(
        base,
        &format!("/api/pim-v1/calendar/default?startdate={today}&enddate={today}"),
        &token,
    )
    .await;
    get(base, "/api/pim-v1/info", &token).await;
    let event = json!({"@type":"jsevent","title":"x","start":"2031-01-01T10:00:00","duration":"PT1H","timeZone":"Asia/Tokyo"});
    let created = json(
        post(
            base,
            "/api/pim-v1/calendar/default?send=false",
            &token,
            event.clone(),
        )
        .await,
    )
    .await;
    let uid = created["uid"].as_str().expect("uid").to_owned();
    get(base, &format!("/api/pim-v1/calendar/default/{uid}"), &token).await;
    call(
        reqwest::Method::PUT,
        base,
        &format!("/api/pim-v1/calendar/default/{uid}?send=false"),
        &token,
        Some(event),
    )
    .await;
    call(
        reqwest::Method::DELETE,
        base,
        &format!("/api/pim-v1/calendar/default/{uid}"),
        &token,
        None,
    )
    .await;
    get(base, "/api/pim-v1/calendar/default?startdate=nope", &token).await;
    let admin = token_with(base, "MAIL $DATA $SETUP").await;
    get(
        base,
        "/api/setup-v1/schema?nsfPath=mail/demo.nsf&configName=nzsync",
        &admin,
    )
    .await;
    get(base, "/api/setup-v1/admin/scopes", &admin).await;
    let report = s.drapi_spec_report().expect("spec check on");
    for op in [
        "POST /api/v1/auth 200",
        "POST /api/v1/document 200",
        "GET /api/v1/document/{unid} 200",
        "PATCH /api/v1/document/{unid} 200",
        "GET /api/v1/lists/{name} 200",
        "POST /api/v1/query 200",
        "POST /api/v1/bulk/unid 200",
        "POST /api/v1/bulk/etag 200",
        "POST /api/v1/bulk/create 200",
        "POST /api/v1/bulk/delete 200",
        "GET /api/v1/scope 404",
        "GET /api/v1/document/{unid} 404 as ErrorMessage",
        "GET /api/pim-v1/calendar/{calid} 200",
        "GET /api/pim-v1/calendar/{calid} 400",
        "GET /api/pim-v1/info 200",
        "POST /api/pim-v1/calendar/{calid} 200",
        "GET /api/pim-v1/calendar/{calid}/{calentryid} 200",
        "PUT /api/pim-v1/calendar/{calid}/{calentryid} 200",
        "DELETE /api/pim-v1/calendar/{calid}/{calentryid} 200",
        "GET /api/setup-v1/schema 200",
        "GET /api/setup-v1/admin/scopes 200",
    ] {
        assert!(
            report.checked.contains_key(op),
            "{op} not checked: {report:?}"
        );
    }
    assert!(report.undescribed.is_empty(), "{:?}", report.undescribed);
    s.shutdown().await;
}

// ---- PIM calendar ----

/// GET through DAS as a user (Basic).
async fn das_get(base: &str, user: &str, password: &str, path: &str) -> reqwest::Response {
    http()
        .get(format!("{base}{path}"))
        .basic_auth(user, Some(password))
        .send()
        .await
        .expect("das request")
}

/// Every DAS calendar row of demo's mail file in `[since, before)` (pages of 100).
async fn das_rows(base: &str, since: &str, before: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    loop {
        let path = format!(
            "/mail/demo.nsf/api/calendar/events?since={since}&before={before}&start={}&count=100",
            rows.len()
        );
        let text = das_get(base, "demo", "demo", &path)
            .await
            .text()
            .await
            .expect("body");
        if text.is_empty() {
            return rows;
        }
        let v: Value = serde_json::from_str(&text).expect("JSON");
        let page = v["events"].as_array().expect("events").clone();
        if page.is_empty() {
            return rows;
        }
        rows.extend(page);
    }
}

/// The PIM list of demo's calendar for `startdate`..`enddate`.
async fn pim_list(base: &str, token: &str, from: &str, to: &str) -> Vec<Value> {
    let (status, v) = answer(
        get(
            base,
            &format!("/api/pim-v1/calendar/default?startdate={from}&enddate={to}"),
            token,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v.as_array().expect("an array").clone()
}

/// ref: §5.1 P:getOneCalendar (the `jsevent` array with uid, title, start, duration, timeZone,
/// privacy, participants, locations, created/updated, referenceFolder), §5.3, §8.13: the PIM
/// list shows the same entries, recurring instances included, as the DAS calendar service.
#[tokio::test]
async fn s5_1_pim_lists_the_das_calendar_in_jscalendar_form() {
    let s = sims(Seed::Demo).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(10);
    let to = today + chrono::Duration::days(10);
    let pim = pim_list(base, &token, &from.to_string(), &to.to_string()).await;
    let das = das_rows(
        &s.domino_url,
        &format!("{from}T00:00:00Z"),
        &format!("{}T00:00:00Z", to + chrono::Duration::days(1)),
    )
    .await;
    let das: Vec<Value> = das
        .into_iter()
        .filter(|r| r.get("x-lotus-noticetype").is_none())
        .collect();
    assert!(pim.len() > 10, "{}", pim.len());
    assert_eq!(
        pim.len(),
        das.len(),
        "one PIM entry per DAS row (instances included)"
    );
    let mut pim_titles: Vec<&str> = pim.iter().map(|e| e["title"].as_str().unwrap()).collect();
    let mut das_titles: Vec<&str> = das.iter().map(|e| e["summary"].as_str().unwrap()).collect();
    pim_titles.sort_unstable();
    das_titles.sort_unstable();
    assert_eq!(pim_titles, das_titles);
    for e in &pim {
        assert_eq!(e["@type"], "jsevent");
        assert_eq!(e["uid"].as_str().unwrap().len(), 32);
        assert!(e["referenceFolder"][0].is_string());
        assert!(e["created"].as_str().unwrap().ends_with('Z'));
        assert!(e["duration"].as_str().unwrap().starts_with('P'));
    }
    // The DAS UID is the UNID with its suffix; UTC entries start at the same wall time.
    for row in &das {
        let id = row["id"]
            .as_str()
            .unwrap()
            .trim_end_matches("-Lotus_Notes_Generated");
        let matching: Vec<&Value> = pim.iter().filter(|e| e["uid"] == id).collect();
        assert!(!matching.is_empty(), "{row}");
        if row["start"]["utc"] == true && row.get("recurrenceId").is_none() {
            let start = format!(
                "{}T{}",
                row["start"]["date"].as_str().unwrap(),
                row["start"]["time"].as_str().unwrap()
            );
            assert_eq!(matching[0]["start"], start.as_str());
            assert_eq!(matching[0]["timeZone"], "Etc/UTC");
        }
    }
    let eastern = pim
        .iter()
        .find(|e| {
            e["timeZone"]
                .as_str()
                .is_some_and(|z| z.contains("ZN=Eastern"))
        })
        .expect("an Eastern entry");
    assert_eq!(eastern["timeZone"], "Z=5$DO=1$DL=3 2 1 11 1 1$ZN=Eastern");
    let all_day = pim
        .iter()
        .find(|e| e["showWithoutTime"] == true)
        .expect("an all-day entry");
    assert!(all_day["start"].as_str().unwrap().ends_with("T00:00:00"));
    assert!(all_day.get("timeZone").is_none());
    assert!(pim.iter().any(|e| e["privacy"] == "private"));
    let meeting = pim
        .iter()
        .find(|e| e.get("participants").is_some())
        .expect("a meeting");
    let roles: Vec<&Value> = meeting["participants"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| &p["roles"])
        .collect();
    assert!(
        roles
            .iter()
            .any(|r| r["owner"] == true && r["chair"] == true)
    );
    assert!(roles.iter().any(|r| r["attendee"] == true));
    // Series: each instance in the window, with the series' uid and a recurrenceId.
    let standups: Vec<&Value> = pim
        .iter()
        .filter(|e| e["title"] == "Team standup")
        .collect();
    assert!(standups.len() >= 6, "{}", standups.len());
    assert!(
        standups
            .iter()
            .all(|e| e["uid"] == standups[0]["uid"] && e["recurrenceId"].is_string())
    );
    s.shutdown().await;
}

/// ref: §5.1 ("whether a series comes back once or once per occurrence is not documented"),
/// §5.3 (recurrenceRules, recurrenceOverrides), §8.13 (configurable form): the series form
/// shows the standup once with its rule, and a deleted instance as `excluded`.
#[tokio::test]
async fn s5_3_recurring_series_as_one_entry_with_rules_and_overrides() {
    let s = sims(Seed::Demo).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (
        (today - chrono::Duration::days(30)).to_string(),
        (today + chrono::Duration::days(45)).to_string(),
    );
    let instances = pim_list(base, &token, &from, &to).await;
    let standup = instances
        .iter()
        .find(|e| e["title"] == "Team standup")
        .unwrap()
        .clone();
    let uid = standup["uid"].as_str().unwrap().to_owned();
    let n = instances
        .iter()
        .filter(|e| e["uid"] == uid.as_str())
        .count();
    assert_eq!(n, 24, "COUNT=24, all within the window");
    // Delete one instance through DAS.
    let das_uid = format!("{uid}-Lotus_Notes_Generated");
    let rows = das_rows(
        &s.domino_url,
        &format!("{from}T00:00:00Z"),
        &format!("{to}T00:00:00Z"),
    )
    .await;
    let rid = rows.iter().find(|r| r["id"] == das_uid.as_str()).unwrap()["recurrenceId"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = http()
        .delete(format!(
            "{}/mail/demo.nsf/api/calendar/events/{das_uid}/{rid}?workflow=false",
            s.domino_url
        ))
        .basic_auth("demo", Some("demo"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        pim_list(base, &token, &from, &to)
            .await
            .iter()
            .filter(|e| e["uid"] == uid.as_str())
            .count(),
        23
    );
    control(base, "/_sim/config", json!({"recurring": "series"})).await;
    let series = pim_list(base, &token, &from, &to).await;
    let one: Vec<&Value> = series.iter().filter(|e| e["uid"] == uid.as_str()).collect();
    assert_eq!(one.len(), 1);
    let rule = &one[0]["recurrenceRules"][0];
    assert_eq!(rule["frequency"], "weekly");
    assert_eq!(rule["count"], 24);
    let days: Vec<&str> = rule["byDay"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["day"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["mo", "we", "fr"]);
    let overrides = one[0]["recurrenceOverrides"].as_object().unwrap();
    assert_eq!(overrides.len(), 1);
    assert_eq!(
        overrides.values().next().unwrap(),
        &json!({"excluded": true})
    );
    // One entry's GET is the series form too.
    let (status, got) =
        answer(get(base, &format!("/api/pim-v1/calendar/default/{uid}"), &token).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["recurrenceRules"], one[0]["recurrenceRules"]);
    s.shutdown().await;
}

/// The invitations DAS shows user2.
async fn user2_notices(das: &str) -> Vec<Value> {
    let v = json(
        das_get(
            das,
            "user2",
            "pw2",
            "/mail/user2.nsf/api/calendar/invitations",
        )
        .await,
    )
    .await;
    v["notices"].as_array().expect("notices").clone()
}

/// ref: §5.2 (`send` = sent to invitees or draft; sync writes pass `send=false`), §8.13 (record
/// invitations so tests can assert sync writes never send): creating, replacing and changing
/// attendees with `send=false` leaves no notice; `send=true` sends one as DAS's workflow does.
#[tokio::test]
async fn s5_2_send_false_never_invites_and_send_true_does() {
    let s = sims(Seed::Empty).await;
    let (base, das) = (&s.drapi_url, &s.domino_url);
    let token = demo_token(base).await;
    let meeting = json!({"@type":"jsevent","title":"Quiet sync","start":"2031-03-04T10:00:00","duration":"PT1H",
        "timeZone":"Europe/Berlin",
        "participants":{"a":{"@type":"Participant","email":"demo@example.com","roles":{"owner":true,"chair":true}},
                        "b":{"@type":"Participant","email":"user2@example.com","roles":{"attendee":true}}}});
    let (status, created) = answer(
        post(
            base,
            "/api/pim-v1/calendar/default?send=false",
            &token,
            meeting.clone(),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let uid = created["uid"].as_str().unwrap().to_owned();
    assert_eq!(created["title"], "Quiet sync");
    assert_eq!(created["timeZone"], "Europe/Berlin");
    assert_eq!(created["start"], "2031-03-04T10:00:00");
    assert_eq!(created["duration"], "PT1H");
    let mut changed = meeting.clone();
    changed["title"] = json!("Quiet sync, moved");
    changed["start"] = json!("2031-03-05T10:00:00");
    let put = call(
        reqwest::Method::PUT,
        base,
        &format!("/api/pim-v1/calendar/default/{uid}?send=false"),
        &token,
        Some(changed),
    )
    .await;
    let (status, updated) = answer(put).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["title"], "Quiet sync, moved");
    let patch = call(
        reqwest::Method::PATCH,
        base,
        &format!("/api/pim-v1/calendar/default/{uid}?send=false"),
        &token,
        Some(json!({"add":[{"email":"guest@outside.example","roles":{"optional":true}}]})),
    )
    .await;
    let (status, patched) = answer(patch).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["participants"].as_object().unwrap().len(), 3);
    assert!(
        user2_notices(das).await.is_empty(),
        "send=false sent an invitation"
    );
    // The entry is on demo's calendar for DAS too, at the right instant (Berlin is UTC+1).
    let v = json(
        das_get(
            das,
            "demo",
            "demo",
            &format!("/mail/demo.nsf/api/calendar/events/{uid}-Lotus_Notes_Generated"),
        )
        .await,
    )
    .await;
    assert!(
        v.get("events").is_none(),
        "PIM entries have DAS UIDs of their own: {v}"
    );
    let rows = das_rows(das, "2031-03-05T00:00:00Z", "2031-03-06T00:00:00Z").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["summary"], "Quiet sync, moved");
    assert_eq!(rows[0]["start"]["tzid"], "Europe/Berlin");

    let mut loud = meeting;
    loud["title"] = json!("Scheduled meeting");
    let (status, _) =
        answer(post(base, "/api/pim-v1/calendar/default?send=true", &token, loud).await).await;
    assert_eq!(status, StatusCode::OK);
    let notices = user2_notices(das).await;
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0]["summary"], "Scheduled meeting");

    let del = call(
        reqwest::Method::DELETE,
        base,
        &format!("/api/pim-v1/calendar/default/{uid}"),
        &token,
        None,
    )
    .await;
    assert_eq!(del.status(), StatusCode::OK);
    assert!(
        das_rows(das, "2031-03-05T00:00:00Z", "2031-03-06T00:00:00Z")
            .await
            .is_empty()
    );
    assert_eq!(
        user2_notices(das).await.len(),
        1,
        "no cancellation was sent"
    );
    s.shutdown().await;
}

/// ref: §5.2–5.3 (create, read, update with recurrenceOverrides), cross-API: a series written
/// through PIM expands in DAS; excluding an instance removes it there; a DAS-written event
/// reads through PIM.
#[tokio::test]
async fn s5_2_pim_and_das_write_the_same_calendar() {
    let s = sims(Seed::Empty).await;
    let (base, das) = (&s.drapi_url, &s.domino_url);
    let token = demo_token(base).await;
    let series = json!({"@type":"jsevent","title":"Standup","start":"2031-01-06T09:00:00","duration":"PT15M",
        "timeZone":"Etc/UTC","privacy":"private","description":"Daily <b>sync</b>",
        "locations":{"l":{"@type":"Location","name":"Room 1"}},
        "recurrenceRules":[{"@type":"RecurrenceRule","frequency":"daily","count":5}]});
    let (status, created) = answer(
        post(
            base,
            "/api/pim-v1/calendar/default?send=false",
            &token,
            series.clone(),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let uid = created["uid"].as_str().unwrap().to_owned();
    assert_eq!(created["privacy"], "private");
    assert_eq!(created["description"], "Daily sync");
    assert_eq!(created["recurrenceRules"][0]["frequency"], "daily");
    let rows = das_rows(das, "2031-01-01T00:00:00Z", "2031-02-01T00:00:00Z").await;
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["class"], "private");
    assert_eq!(rows[0]["location"], "Room 1");
    let mut update = series;
    update["recurrenceOverrides"] = json!({"2031-01-08T09:00:00": {"excluded": true},
                                           "2031-01-09T09:00:00": {"title": "Standup (demo day)"}});
    let put = call(
        reqwest::Method::PUT,
        base,
        &format!("/api/pim-v1/calendar/default/{uid}?send=false"),
        &token,
        Some(update),
    )
    .await;
    let (status, updated) = answer(put).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    let overrides = &updated["recurrenceOverrides"];
    assert_eq!(overrides["2031-01-08T09:00:00"], json!({"excluded": true}));
    assert_eq!(
        overrides["2031-01-09T09:00:00"]["title"],
        "Standup (demo day)"
    );
    let rows = das_rows(das, "2031-01-01T00:00:00Z", "2031-02-01T00:00:00Z").await;
    let titles: Vec<&str> = rows
        .iter()
        .map(|r| r["summary"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["Standup", "Standup", "Standup (demo day)", "Standup"]
    );
    let listed = pim_list(base, &token, "2031-01-01", "2031-01-31").await;
    assert_eq!(listed.len(), 4);
    assert_eq!(listed[2]["recurrenceId"], "2031-01-09T09:00:00");

    // Written through DAS, read through PIM.
    let body = json!({"events":[{"summary":"From DAS","start":{"date":"2031-02-02","time":"08:00:00","utc":true},
        "end":{"date":"2031-02-02","time":"08:30:00","utc":true},"class":"confidential"}]});
    let resp = http()
        .post(format!(
            "{das}/mail/demo.nsf/api/calendar/events?workflow=false"
        ))
        .basic_auth("demo", Some("demo"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let feb = pim_list(base, &token, "2031-02-02", "2031-02-02").await;
    assert_eq!(feb.len(), 1);
    assert_eq!(feb[0]["title"], "From DAS");
    assert_eq!(feb[0]["privacy"], "secret");
    assert_eq!(feb[0]["duration"], "PT30M");
    assert_eq!(
        pim_list(base, &token, "2031-02-03", "2031-02-10").await,
        Vec::<Value>::new(),
        "enddate is inclusive, startdate too"
    );
    s.shutdown().await;
}

/// ref: §6.1 (PIM errors `{"code","message"}`, basis `{"status","message","details"}`), §5
/// (PIM needs the MAIL scope, the caller's own mailbox), §2.5 level 7 (PIM can be off).
#[tokio::test]
async fn s6_1_both_error_shapes() {
    let s = sims(Seed::Empty).await;
    let base = &s.drapi_url;
    let token = demo_token(base).await;
    let pim_error = |status: StatusCode, body: &Value| {
        assert_eq!(body["code"], json!(status.as_u16()), "{body}");
        assert!(body["message"].is_string());
        assert!(
            body.get("status").is_none() && body.get("details").is_none(),
            "{body}"
        );
    };
    let (status, body) = answer(
        get(
            base,
            "/api/pim-v1/calendar/default?startdate=tomorrow",
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    pim_error(status, &body);
    let (status, body) = answer(
        get(
            base,
            &format!("/api/pim-v1/calendar/default/{}", "A".repeat(32)),
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    pim_error(status, &body);
    let (status, body) = answer(
        post(
            base,
            "/api/pim-v1/calendar/default",
            &token,
            json!({"title":"no start"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    pim_error(status, &body);
    let (status, body) = answer(
        get(
            base,
            "/api/pim-v1/calendar/default?mailboxid=mail/user2.nsf",
            &token,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    pim_error(status, &body);
    let (status, body) = answer(get(base, "/api/pim-v1/info", &token).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["filepath"], "mail/demo.nsf");
    assert_eq!(body["viewInfo"][0]["View"], "($Calendar)");
    // Basis on the same port.
    let (status, body) = answer(get(base, "/api/v1/scope?dataSource=nosuch", &token).await).await;
    assert_basis_error(status, &body);
    // No PIM without the MAIL scope; no PIM at all when it is off.
    let resp = http()
        .post(format!("{base}/api/v1/auth"))
        .json(&json!({"username":"demo","password":"demo","scope":"$DATA"}))
        .send()
        .await
        .unwrap();
    let data_only = json(resp).await["bearer"].as_str().unwrap().to_owned();
    let (status, body) = answer(get(base, "/api/pim-v1/calendar/default", &data_only).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    pim_error(status, &body);
    control(base, "/_sim/config", json!({"pim": false})).await;
    assert_eq!(
        get(base, "/api/pim-v1/info", &token).await.status(),
        StatusCode::NOT_FOUND
    );
    s.shutdown().await;
}

// ---- setup API and readiness ----

async fn token_with(base: &str, scope: &str) -> String {
    let resp = http()
        .post(format!("{base}/api/v1/auth"))
        .json(&json!({"username":"demo","password":"demo","scope":scope}))
        .send()
        .await
        .expect("login");
    json(resp).await["bearer"]
        .as_str()
        .expect("bearer")
        .to_owned()
}

/// ref: §2.4 (S:createUpdateSchema with nsfPath and configName, S:createUpdateScopeMapping,
/// S:getSchema's 404 errorId 1037, S:createUpdateSchema's 403 errorId 1033), §1.2 (setup writes
/// need `$SETUP`), §2.3 (a scope is one NSF and one schema): an admin exposes only what the
/// schema lists, and removing the scope closes it again.
#[tokio::test]
async fn s2_4_setup_api_creates_schemas_and_scopes() {
    let s = sims(Seed::Demo).await;
    let base = &s.drapi_url;
    let plain = demo_token(base).await;
    let admin = token_with(base, "MAIL $DATA $SETUP").await;
    let schema = json!({"schemaName":"ignored","nsfPath":"ignored","isActive":true,"formulaEngine":"domino",
        "dqlAccess":false,"requireRevisionToUpdate":true,
        "views":[{"name":"($Contacts)","alias":["Contacts"]}],
        "forms":[{"formName":"Person","formModes":[{"modeName":"default",
            "fields":[{"name":"LastName","type":"string"},{"name":"MailAddress","type":"string"}],
            "readAccessFormula":{"formulaType":"domino","formula":"@True"},
            "writeAccessFormula":{"formulaType":"domino","formula":"@True"},
            "deleteAccessFormula":{"formulaType":"domino","formula":"@False"}}]}]});
    let path = "/api/setup-v1/schema?nsfPath=mail/demo.nsf&configName=contacts";
    let (status, err) = answer(post(base, path, &plain, schema.clone()).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no $SETUP scope");
    assert_basis_error(status, &err);
    let (status, err) = answer(
        post(
            base,
            "/api/setup-v1/schema?nsfPath=mail/user2.nsf&configName=contacts",
            &admin,
            schema.clone(),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(err["errorId"], 1033);
    assert_eq!(
        err["message"],
        "You need Designer access for this operation"
    );
    let (status, saved) = answer(post(base, path, &admin, schema).await).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["schemaName"], "contacts");
    assert_eq!(saved["nsfPath"], "mail/demo.nsf");
    let (status, got) = answer(get(base, path, &admin).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, saved);
    let (status, err) = answer(
        get(
            base,
            "/api/setup-v1/schema?nsfPath=mail/demo.nsf&configName=nosuch",
            &admin,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["errorId"], 1037);
    let (_, list) =
        answer(get(base, "/api/setup-v1/schemas?nsfPath=mail/demo.nsf", &admin).await).await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["apiName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["contacts", "nzsync"]);

    let (status, _) = answer(
        post(
            base,
            "/api/setup-v1/admin/scope",
            &admin,
            json!({"apiName":"Demo Contacts","schemaName":"contacts","nsfPath":"mail/demo.nsf"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "apiName is [a-z0-9]");
    let scope = json!({"apiName":"democontacts","schemaName":"contacts","nsfPath":"mail/demo.nsf","isActive":true,"server":"*"});
    let (status, mapping) =
        answer(post(base, "/api/setup-v1/admin/scope", &admin, scope).await).await;
    assert_eq!(status, StatusCode::OK, "{mapping}");
    assert_eq!(mapping["apiName"], "democontacts");
    let (_, scopes) = answer(get(base, "/api/setup-v1/admin/scopes", &admin).await).await;
    assert!(
        scopes
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["apiName"] == "democontacts")
    );

    // Only the new schema's fields are visible through the new scope; DQL is off.
    let (status, docs) = answer(
        get(
            base,
            "/api/v1/lists/Contacts?dataSource=democontacts&documents=true&count=5",
            &plain,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for d in docs.as_array().unwrap() {
        let items: Vec<&String> = d
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| !k.starts_with('@'))
            .collect();
        assert!(
            items
                .iter()
                .all(|k| ["Form", "LastName", "MailAddress"].contains(&k.as_str())),
            "{items:?}"
        );
    }
    let (status, _) = answer(
        post(
            base,
            "/api/v1/query?dataSource=democontacts&action=execute",
            &plain,
            json!({"query":"@All"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let one = docs[0]["@unid"].as_str().unwrap();
    let del = call(
        reqwest::Method::DELETE,
        base,
        &format!("/api/v1/document/{one}?dataSource=democontacts"),
        &plain,
        None,
    )
    .await;
    assert_eq!(
        del.status(),
        StatusCode::FORBIDDEN,
        "deleteAccessFormula @False"
    );

    let del = call(
        reqwest::Method::DELETE,
        base,
        "/api/setup-v1/admin/scope?scopeName=democontacts",
        &admin,
        None,
    )
    .await;
    assert_eq!(del.status(), StatusCode::OK);
    let (status, err) = answer(
        get(
            base,
            "/api/v1/lists/Contacts?dataSource=democontacts",
            &plain,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["errorId"], 1112);
    let del = call(reqwest::Method::DELETE, base, path, &admin, None).await;
    let (status, body) = answer(del).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["message"], "Deleted contacts from mail/demo.nsf");
    control(base, "/_sim/config", json!({"setup": false})).await;
    assert_eq!(
        get(base, "/api/setup-v1/admin/scopes", &admin)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    s.shutdown().await;
}

/// ref: §2.5 (the readiness levels: reachable, credentials, token scopes, scope, schema
/// content, ACL level, PIM), each one made to fail through `/_sim/config` the way a readiness
/// check will meet it.
#[tokio::test]
async fn s2_5_each_readiness_step_can_be_missing() {
    let s = sims(Seed::Empty).await;
    let base = &s.drapi_url;
    let cfg = |v: Value| async move {
        let resp = control(base, "/_sim/config", v).await;
        assert_eq!(resp.status(), StatusCode::OK);
    };
    // 1–3: reachable, credentials, token scopes.
    let resp = http()
        .post(format!("{base}/api/v1/auth"))
        .json(&json!({"username":"demo","password":"demo"}))
        .send()
        .await
        .unwrap();
    let (status, login) = answer(resp).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(login["claims"]["scopes"], "MAIL $DATA");
    let token = login["bearer"].as_str().unwrap().to_owned();
    let scope_probe = || {
        let token = token.clone();
        async move { answer(get(base, &format!("/api/v1/scope?{DS}"), &token).await).await }
    };
    // 4: the scope.
    cfg(json!({"scopes":{"maildemo":null}})).await;
    let (status, err) = scope_probe().await;
    assert_eq!(
        (status, err["errorId"].clone()),
        (StatusCode::NOT_FOUND, json!(1112))
    );
    cfg(json!({"scopes":{"maildemo":{"schemaName":"nzsync","nsfPath":"mail/demo.nsf"}}})).await;
    assert_eq!(scope_probe().await.0, StatusCode::OK);
    cfg(json!({"scopes":{"maildemo":{"isActive":false}}})).await;
    assert_eq!(
        scope_probe().await.0,
        StatusCode::NOT_FOUND,
        "an inactive scope is no scope"
    );
    cfg(json!({"scopes":{"maildemo":{"isActive":true}}})).await;
    // 5: the schema and its content.
    cfg(json!({"schemas":{"maildemo":{"remove_forms":["Task"],"remove_fields":{"Person":["ZohoCRMId"]},"remove_modes":{"Person":["dql"]},"dqlAccess":false}}})).await;
    let (status, schema) = scope_probe().await;
    assert_eq!(status, StatusCode::OK);
    let forms = schema["forms"].as_array().unwrap();
    assert_eq!(forms.len(), 1, "Task is gone");
    let modes: Vec<&str> = forms[0]["formModes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["modeName"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["default"]);
    let fields = forms[0]["formModes"][0]["fields"].as_array().unwrap();
    assert!(!fields.iter().any(|f| f["name"] == "ZohoCRMId"));
    assert_eq!(schema["dqlAccess"], false);
    let (status, _) = answer(
        post(
            base,
            &format!("/api/v1/query?{DS}&action=execute"),
            &token,
            json!({"query":"@All"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = answer(
        post(
            base,
            &format!("/api/v1/document?{DS}"),
            &token,
            json!({"Form":"Task","Subject":"x"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a form not in the schema");
    cfg(json!({"schemas":{"maildemo":null}})).await;
    let (status, err) = scope_probe().await;
    assert_eq!(
        (status, err["errorId"].clone()),
        (StatusCode::NOT_FOUND, json!(1037))
    );
    // 6: the ACL level the scope allows.
    cfg(json!({"scopes":{"maildemo":{"schemaName":"nzsync","nsfPath":"mail/user2.nsf"}}})).await;
    let (status, _) = answer(get(base, &format!("/api/v1/scope/access?{DS}"), &token).await).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a scope on someone else's mail file"
    );
    assert_eq!(
        post(base, "/_sim/reset", &token, json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    cfg(json!({"scopes":{"maildemo":{"maximumAccessLevel":"Reader"}}})).await;
    let (_, access) = answer(get(base, &format!("/api/v1/scope/access?{DS}"), &token).await).await;
    assert_eq!(access["Level"], "READER");
    let (status, _) = answer(
        post(
            base,
            &format!("/api/v1/document?{DS}"),
            &token,
            json!({"Form":"Person","LastName":"x"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // 7: PIM.
    assert_eq!(
        get(base, "/api/pim-v1/info", &token).await.status(),
        StatusCode::OK
    );
    cfg(json!({"pim": false})).await;
    assert_eq!(
        get(base, "/api/pim-v1/info", &token).await.status(),
        StatusCode::NOT_FOUND
    );
    // Bad control requests change nothing.
    let resp = control(
        base,
        "/_sim/config",
        json!({"jwt_lifetime_secs": -5, "pim": true}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        get(base, "/api/pim-v1/info", &token).await.status(),
        StatusCode::NOT_FOUND
    );
    s.shutdown().await;
}
