//! The Zoho CRM simulator over loopback HTTP. Each test names the section of
//! `reference/zoho-crm-api.md` it checks.

mod common;

use std::collections::BTreeSet;

use common::{auth, control, http, json, sims, token};
use nzsync_sim::Seed;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn get(base: &str, token: &str, path: &str) -> reqwest::Response {
    http()
        .get(format!("{base}/crm/v8{path}"))
        .header("authorization", auth(token))
        .send()
        .await
        .expect("request")
}

async fn write(
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

/// Insert `records` into Contacts and return their ids, in order.
async fn insert_ids(base: &str, token: &str, records: Value) -> Vec<String> {
    let r = json(
        write(
            base,
            token,
            reqwest::Method::POST,
            "/Contacts",
            json!({ "data": records }),
        )
        .await,
    )
    .await;
    r["data"]
        .as_array()
        .expect("per-record results")
        .iter()
        .map(|d| d["details"]["id"].as_str().expect("inserted").to_owned())
        .collect()
}

/// `DELETE` a CRM path (no body).
async fn delete(base: &str, token: &str, path: &str) -> reqwest::Response {
    http()
        .delete(format!("{base}/crm/v8{path}"))
        .header("authorization", auth(token))
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

/// §4: the refresh grant answers the documented shape; API answers carry
/// `X-ACCESSTOKEN-RESET`.
#[tokio::test]
async fn s4_refresh_grant_returns_token_and_api_domain() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let resp = http()
        .post(format!("{z}/oauth/v2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=refresh_token&client_id=demo-client&client_secret=demo-secret&refresh_token=demo-refresh")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "scope",
            "api_domain",
            "token_type",
            "expires_in"
        ]
    );
    assert!(body["access_token"].as_str().unwrap().starts_with("1000."));
    assert_eq!(body["api_domain"], z.as_str());
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(
        body["scope"],
        "ZohoCRM.modules.ALL ZohoCRM.settings.ALL ZohoCRM.users.READ ZohoCRM.org.READ"
    );
    let t = body["access_token"].as_str().unwrap();
    let resp = get(z, t, "/users?type=CurrentUser").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let reset = header(&resp, "x-accesstoken-reset").expect("X-ACCESSTOKEN-RESET");
    assert!(reset.ends_with("+09:00"), "{reset}");
    s.shutdown().await;
}

/// §4: a bad client and a bad refresh token are 200 with an `error` member.
#[tokio::test]
async fn s4_bad_client_and_bad_refresh_token() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let ask = |q: &str| http().post(format!("{z}/oauth/v2/token?{q}")).send();
    let resp = ask("grant_type=refresh_token&client_id=demo-client&client_secret=nope&refresh_token=demo-refresh").await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await, json!({ "error": "invalid_client" }));
    let resp = ask("grant_type=refresh_token&client_id=demo-client&client_secret=demo-secret&refresh_token=nope").await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await, json!({ "error": "invalid_code" }));
    s.shutdown().await;
}

/// §4: at most 10 access tokens per refresh token in 10 minutes.
#[tokio::test]
async fn s4_token_rate_limit_eleventh_request_denied() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    for _ in 0..10 {
        token(z, "demo-refresh").await;
    }
    let resp = http()
        .post(format!(
            "{z}/oauth/v2/token?grant_type=refresh_token&client_id=demo-client&client_secret=demo-secret&refresh_token=demo-refresh"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json(resp).await,
        json!({
            "error_description": "You have made too many requests continuously. Please try again after some time.",
            "error": "Access Denied",
            "status": "failure",
        })
    );
    // Another refresh token has its own budget; after 10 minutes the first one works again.
    token(z, "user2-refresh").await;
    control(z, "/_sim/clock", json!({ "advance_secs": 601 })).await;
    token(z, "demo-refresh").await;
    s.shutdown().await;
}

/// §4 and profiles.json: a 5xx or 429 injected on the token endpoint answers an HTML error
/// page with that status (the accounts server is not the CRM API), and the next refresh works.
#[tokio::test]
async fn s4_token_endpoint_faults_answer_the_accounts_servers_page() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    control(
        z,
        "/_sim/faults",
        json!({ "rules": [
            { "kind": "status", "status": 503, "path_prefix": "/oauth/v2/token", "times": 1 },
            { "kind": "status", "status": 429, "path_prefix": "/oauth/v2/token", "times": 1 },
        ] }),
    )
    .await;
    let ask = || {
        http()
            .post(format!("{z}/oauth/v2/token?grant_type=refresh_token&client_id=demo-client&client_secret=demo-secret&refresh_token=demo-refresh"))
            .send()
    };
    for status in [503, 429] {
        let resp = ask().await.unwrap();
        assert_eq!(resp.status().as_u16(), status);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{resp:?}"
        );
    }
    assert!(json(ask().await.unwrap()).await["access_token"].is_string());
    s.shutdown().await;
}

/// profiles.json: the system profiles, Administrator and Standard; a user's `profile` names
/// one, and `/_sim/config` `user_profiles` moves a user from one to the other.
#[tokio::test]
async fn profiles_tell_an_administrator_from_other_users() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "user2-refresh").await;
    let me = json(get(z, &t, "/users?type=CurrentUser").await).await;
    let profile = me["users"][0]["profile"].clone();
    assert_eq!(profile["name"], "Standard");
    let list = json(get(z, &t, "/settings/profiles").await).await;
    let names: Vec<&str> = list["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Administrator", "Standard"]);
    assert!(list["profiles"][0].get("permissions_details").is_none());
    let one = json(
        get(
            z,
            &t,
            &format!("/settings/profiles/{}", profile["id"].as_str().unwrap()),
        )
        .await,
    )
    .await;
    assert_eq!(one["profiles"][0]["name"], "Standard");
    assert_eq!(one["profiles"][0]["custom"], false);
    assert!(one["profiles"][0]["permissions_details"].is_array());
    assert_eq!(
        get(z, &t, "/settings/profiles/1234").await.status(),
        StatusCode::NO_CONTENT
    );
    control(
        z,
        "/_sim/config",
        json!({ "user_profiles": { "user2@example.com": "Administrator" } }),
    )
    .await;
    let me = json(get(z, &t, "/users?type=CurrentUser").await).await;
    assert_eq!(me["users"][0]["profile"]["name"], "Administrator");
    let admins = json(get(z, &t, "/users?type=AdminUsers").await).await;
    assert_eq!(admins["users"].as_array().unwrap().len(), 2);
    s.shutdown().await;
}

/// §4: an expired or unknown token gets 401 `INVALID_TOKEN`.
#[tokio::test]
async fn s4_expired_and_unknown_token_get_invalid_token() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let expected = json!({ "code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error" });
    let resp = get(z, "1000.nope", "/org").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(resp).await, expected);
    let resp = http().get(format!("{z}/crm/v8/org")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    control(z, "/_sim/config", json!({ "token_lifetime_secs": 60 })).await;
    let t = token(z, "demo-refresh").await;
    assert_eq!(get(z, &t, "/org").await.status(), StatusCode::OK);
    control(z, "/_sim/clock", json!({ "advance_secs": 61 })).await;
    let resp = get(z, &t, "/org").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(resp).await, expected);
    s.shutdown().await;
}

/// §1.2: `fields` is mandatory from v3 (optional in v2) and at most 50.
#[tokio::test]
async fn s1_2_fields_required_and_limited() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let resp = get(z, &t, "/Contacts").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = json(resp).await;
    assert_eq!(body["code"], "REQUIRED_PARAM_MISSING");
    assert_eq!(body["details"]["param_name"], "fields");
    assert_eq!(body["status"], "error");

    let many: Vec<String> = (0..51).map(|i| format!("F{i}")).collect();
    let resp = get(z, &t, &format!("/Contacts?fields={}", many.join(","))).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["code"], "LIMIT_EXCEEDED");

    let resp = http()
        .get(format!("{z}/crm/v2/Contacts?per_page=1"))
        .header("authorization", auth(&t))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let resp = get(z, &t, "/Nope?fields=id").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["code"], "INVALID_MODULE");
    s.shutdown().await;
}

/// §1.2: only the requested fields plus `id`; the `info` block.
#[tokio::test]
async fn s1_2_list_returns_requested_fields_and_info() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let resp = get(z, &t, "/Contacts?fields=Last_Name,Email,Account_Name,Tag&per_page=5&sort_by=Modified_Time&sort_order=asc").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 5);
    for r in data {
        let keys: BTreeSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            BTreeSet::from(["Last_Name", "Email", "Account_Name", "Tag", "id"])
        );
        let id = r["id"].as_str().unwrap();
        assert_eq!(id.len(), 19);
        assert!(r["Account_Name"]["name"].is_string() && r["Account_Name"]["id"].is_string());
    }
    let info = body["info"].as_object().unwrap();
    let keys: Vec<&str> = info.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "per_page",
            "next_page_token",
            "count",
            "sort_by",
            "page",
            "page_token_expiry",
            "sort_order",
            "more_records"
        ]
    );
    assert_eq!(info["per_page"], 5);
    assert_eq!(info["count"], 5);
    assert_eq!(info["page"], 1);
    assert_eq!(info["sort_by"], "Modified_Time");
    assert_eq!(info["sort_order"], "asc");
    assert_eq!(info["more_records"], true);
    s.shutdown().await;
}

/// §1.2: `page_token` walks every record once; it is bound to the user and the parameters,
/// cannot be combined with `page`, and expires after 24 h.
#[tokio::test]
async fn s1_2_page_tokens_walk_all_records_and_are_bound() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let base = "/Contacts?fields=Last_Name&per_page=40";
    let mut seen = BTreeSet::new();
    let mut resp = json(get(z, &t, base).await).await;
    let first_token = resp["info"]["next_page_token"].as_str().unwrap().to_owned();
    let mut pages = 1;
    loop {
        for r in resp["data"].as_array().unwrap() {
            assert!(
                seen.insert(r["id"].as_str().unwrap().to_owned()),
                "duplicate {r}"
            );
        }
        if resp["info"]["more_records"] == false {
            assert!(resp["info"].get("next_page_token").is_none());
            break;
        }
        assert!(resp["info"]["page_token_expiry"].is_string());
        let next = resp["info"]["next_page_token"].as_str().unwrap().to_owned();
        resp = json(get(z, &t, &format!("{base}&page_token={next}")).await).await;
        pages += 1;
        assert_eq!(resp["info"]["page"], pages);
        assert!(resp["info"]["previous_page_token"].is_string());
    }
    let total = s.zoho().dump()["modules"]["Contacts"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(seen.len(), total);

    let resp = get(
        z,
        &t,
        &format!("/Contacts?fields=Last_Name&per_page=50&page_token={first_token}"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["code"], "TOKEN_BOUND_DATA_MISMATCH");
    let resp = get(z, &t, &format!("{base}&page=2&page_token={first_token}")).await;
    assert_eq!(json(resp).await["code"], "AMBIGUITY_DURING_PROCESSING");
    let t2 = token(z, "user2-refresh").await;
    let resp = get(z, &t2, &format!("{base}&page_token={first_token}")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["code"], "INVALID_DATA");
    control(z, "/_sim/clock", json!({ "advance_secs": 86_401 })).await;
    let t = token(z, "demo-refresh").await;
    let resp = get(z, &t, &format!("{base}&page_token={first_token}")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["code"], "EXPIRED_VALUE");
    s.shutdown().await;
}

/// §1.2: beyond 2,000 records with `page` → `DISCRETE_PAGINATION_LIMIT_EXCEEDED`.
#[tokio::test]
async fn s1_2_discrete_pagination_limit() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let resp = get(z, &t, "/Contacts?fields=Last_Name&per_page=200&page=11").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json(resp).await,
        json!({
            "code": "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
            "details": { "limit": 2000 },
            "message": "You can only get the first 2000 records without using page_token param",
            "status": "error",
        })
    );
    // Page 10 of 200 is still allowed (and empty here).
    let resp = get(z, &t, "/Contacts?fields=Last_Name&per_page=200&page=10").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = get(z, &t, "/Contacts?fields=Last_Name&per_page=201").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    s.shutdown().await;
}

/// §1.2: nothing to list → 204 with an empty body; `If-Modified-Since` with nothing newer →
/// 304; with something newer → only that.
#[tokio::test]
async fn s1_2_empty_is_204_and_if_modified_since_is_304() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let resp = get(z, &t, "/Contacts?fields=Last_Name").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.text().await.unwrap().is_empty());

    let r = write(
        z,
        &t,
        reqwest::Method::POST,
        "/Contacts",
        json!({ "data": [{ "Last_Name": "Old" }] }),
    )
    .await;
    let old = json(r).await["data"][0]["details"]["Modified_Time"]
        .as_str()
        .unwrap()
        .to_owned();
    let ims = |v: &str| {
        http()
            .get(format!("{z}/crm/v8/Contacts?fields=Last_Name"))
            .header("authorization", auth(&t))
            .header("if-modified-since", v)
            .send()
    };
    let resp = ims(&old).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    control(z, "/_sim/clock", json!({ "advance_secs": 2 })).await;
    write(
        z,
        &t,
        reqwest::Method::POST,
        "/Contacts",
        json!({ "data": [{ "Last_Name": "New" }] }),
    )
    .await;
    let resp = ims(&old).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["Last_Name"], "New");
    s.shutdown().await;
}

/// §1.3: one record as `{"data":[record]}`; an unknown id → 204.
#[tokio::test]
async fn s1_3_get_one_and_unknown_is_204() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let list = json(get(z, &t, "/Contacts?fields=Last_Name&per_page=1").await).await;
    let id = list["data"][0]["id"].as_str().unwrap().to_owned();
    let body = json(get(z, &t, &format!("/Contacts/{id}")).await).await;
    let record = &body["data"][0];
    assert_eq!(record["id"], id.as_str());
    for key in [
        "Owner",
        "Created_By",
        "Modified_By",
        "Created_Time",
        "Modified_Time",
        "Full_Name",
        "Tag",
        "Last_Name",
    ] {
        assert!(record.get(key).is_some(), "{key}");
    }
    assert!(record["Owner"]["email"].is_string());
    assert_eq!(body.as_object().unwrap().len(), 1);
    assert_eq!(
        get(z, &t, "/Contacts/5725767000009999999").await.status(),
        StatusCode::NO_CONTENT
    );
    s.shutdown().await;
}

/// §1.4 and §1.5: insert → 201 all ok, 207 mixed, 400 all failed; per-record bodies in input
/// order; more than 100 → `LIMIT_EXCEEDED`.
#[tokio::test]
async fn s1_4_insert_statuses_and_per_record_errors() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let resp = write(
        z,
        &t,
        reqwest::Method::POST,
        "/Contacts",
        json!({ "data": [{ "Last_Name": "A", "Email": "a@example.com" }], "trigger": [] }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body = json(resp).await;
    let item = &body["data"][0];
    assert_eq!(item["code"], "SUCCESS");
    assert_eq!(item["message"], "record added");
    assert_eq!(item["status"], "success");
    let keys: Vec<&str> = item["details"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "Modified_Time",
            "Modified_By",
            "Created_Time",
            "id",
            "Created_By",
            "$approval_state"
        ]
    );
    assert!(
        item["details"]["Created_Time"]
            .as_str()
            .unwrap()
            .ends_with("+09:00")
    );

    let resp = write(
        z,
        &t,
        reqwest::Method::POST,
        "/Contacts",
        json!({ "data": [
            { "First_Name": "NoLast" },
            { "Last_Name": "Ok" },
            { "Last_Name": "BadMail", "Email": "not-an-email" },
            { "Last_Name": "x".repeat(81) },
        ]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::MULTI_STATUS);
    let body = json(resp).await;
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 4);
    assert_eq!(
        data[0],
        json!({ "code": "MANDATORY_NOT_FOUND", "details": { "api_name": "Last_Name", "json_path": "$.data[0].Last_Name" }, "message": "required field not found", "status": "error" })
    );
    assert_eq!(data[1]["code"], "SUCCESS");
    assert_eq!(data[2]["code"], "INVALID_DATA");
    assert_eq!(data[2]["details"]["expected_data_type"], "email");
    assert_eq!(data[2]["details"]["api_name"], "Email");
    assert_eq!(data[3]["details"]["maximum_length"], 80);

    let resp = write(
        z,
        &t,
        reqwest::Method::POST,
        "/Tasks",
        json!({ "data": [{ "Due_Date": "2026-01-01" }] }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json(resp).await["data"][0]["details"]["api_name"],
        "Subject"
    );

    let many: Vec<Value> = (0..101)
        .map(|i| json!({ "Last_Name": format!("N{i}") }))
        .collect();
    let resp = write(
        z,
        &t,
        reqwest::Method::POST,
        "/Contacts",
        json!({ "data": many }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["code"], "LIMIT_EXCEEDED");
    s.shutdown().await;
}

/// §1.6: update by body ids and by path; bad id → `INVALID_DATA`; `null` clears; mixed → 207;
/// more than 100 records → `LIMIT_EXCEEDED` ("Max 100 per call").
#[tokio::test]
async fn s1_6_update_statuses_and_null_clears() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let r = json(
        write(
            z,
            &t,
            reqwest::Method::POST,
            "/Contacts",
            json!({ "data": [{ "Last_Name": "A", "Title": "CEO", "Phone": "1" }] }),
        )
        .await,
    )
    .await;
    let id = r["data"][0]["details"]["id"].as_str().unwrap().to_owned();
    let created = r["data"][0]["details"]["Modified_Time"]
        .as_str()
        .unwrap()
        .to_owned();
    control(z, "/_sim/clock", json!({ "advance_secs": 3 })).await;

    let resp = write(
        z,
        &t,
        reqwest::Method::PUT,
        "/Contacts",
        json!({ "data": [{ "id": id, "Title": null, "Phone": "2" }] }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert_eq!(body["data"][0]["message"], "record updated");
    assert_ne!(
        body["data"][0]["details"]["Modified_Time"],
        created.as_str()
    );
    let rec = json(get(z, &t, &format!("/Contacts/{id}")).await).await;
    assert_eq!(rec["data"][0]["Title"], Value::Null);
    assert_eq!(rec["data"][0]["Phone"], "2");

    let resp = write(z, &t, reqwest::Method::PUT, "/Contacts", json!({ "data": [{ "id": id, "Phone": "3" }, { "id": "123", "Phone": "4" }, { "Phone": "5" }] })).await;
    assert_eq!(resp.status(), StatusCode::MULTI_STATUS);
    let body = json(resp).await;
    assert_eq!(body["data"][0]["code"], "SUCCESS");
    assert_eq!(
        body["data"][1],
        json!({ "code": "INVALID_DATA", "details": { "id": "123" }, "message": "the id given seems to be invalid", "status": "error" })
    );
    assert_eq!(body["data"][2]["code"], "MANDATORY_NOT_FOUND");

    let resp = write(
        z,
        &t,
        reqwest::Method::PUT,
        &format!("/Contacts/{id}"),
        json!({ "data": [{ "Last_Name": null }] }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["data"][0]["code"], "MANDATORY_NOT_FOUND");
    let resp = write(
        z,
        &t,
        reqwest::Method::PUT,
        &format!("/Contacts/{id}"),
        json!({ "data": [{ "Last_Name": "B" }] }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let many: Vec<Value> = (0..101)
        .map(|_| json!({ "id": id, "Phone": "6" }))
        .collect();
    let resp = write(
        z,
        &t,
        reqwest::Method::PUT,
        "/Contacts",
        json!({ "data": many }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = json(resp).await;
    assert_eq!(body["code"], "LIMIT_EXCEEDED");
    assert_eq!(body["details"]["limit"], 100);
    s.shutdown().await;
}

/// §1.8 and §2.1: delete by ids and by path; deleting again → `record not deleted`; more
/// than 100 ids → `LIMIT_EXCEEDED` ("Max 100 ids per call"); the deleted list, 204 when
/// empty, 304 with `If-Modified-Since`.
#[tokio::test]
async fn s1_8_delete_and_deleted_records() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    assert_eq!(
        get(z, &t, "/Contacts/deleted").await.status(),
        StatusCode::NO_CONTENT
    );
    let r = json(
        write(
            z,
            &t,
            reqwest::Method::POST,
            "/Contacts",
            json!({ "data": [{ "First_Name": "Jane", "Last_Name": "Doe" }, { "Last_Name": "B" }] }),
        )
        .await,
    )
    .await;
    let a = r["data"][0]["details"]["id"].as_str().unwrap().to_owned();
    let b = r["data"][1]["details"]["id"].as_str().unwrap().to_owned();
    let del = |path: String| {
        http()
            .delete(format!("{z}/crm/v8{path}"))
            .header("authorization", auth(&t))
            .send()
    };
    let resp = del(format!("/Contacts?ids={a}")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        json(resp).await["data"][0],
        json!({ "code": "SUCCESS", "details": { "id": a }, "message": "record deleted", "status": "success" })
    );
    let resp = del(format!("/Contacts?ids={a},{b}")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::MULTI_STATUS);
    let body = json(resp).await;
    assert_eq!(body["data"][0]["message"], "record not deleted");
    assert_eq!(body["data"][1]["code"], "SUCCESS");
    let resp = del(format!("/Contacts/{b}")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        del("/Contacts".into()).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let many: Vec<String> = (0..101)
        .map(|i| (4_150_868_000_000_000_000_u64 + i).to_string())
        .collect();
    let resp = del(format!("/Contacts?ids={}", many.join(",")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = json(resp).await;
    assert_eq!(body["code"], "LIMIT_EXCEEDED");
    assert_eq!(body["details"]["limit"], 100);

    let resp = get(z, &t, "/Contacts/deleted?type=recycle").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    let rows = body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let jane = rows.iter().find(|r| r["id"] == a.as_str()).unwrap();
    assert_eq!(jane["display_name"], "Jane Doe");
    assert_eq!(jane["type"], "recycle");
    assert_eq!(jane["deleted_by"]["id"], "5725767000000411001");
    assert_eq!(body["info"]["more_records"], false);
    assert_eq!(
        get(z, &t, "/Contacts/deleted?type=permanent")
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get(z, &t, "/Contacts/deleted?type=bogus").await.status(),
        StatusCode::BAD_REQUEST
    );
    // The later of the two deletes (they may fall in different seconds).
    let last_deleted = rows
        .iter()
        .filter_map(|r| r["deleted_time"].as_str())
        .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .max()
        .unwrap()
        .to_rfc3339();
    let resp = http()
        .get(format!("{z}/crm/v8/Contacts/deleted"))
        .header("authorization", auth(&t))
        .header("if-modified-since", last_deleted)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        get(z, &t, &format!("/Contacts/{a}")).await.status(),
        StatusCode::NO_CONTENT
    );
    s.shutdown().await;
}

/// §1.6: `If-Unmodified-Since` on update, "(also on upsert)" (§1.7 lists the header too): a
/// record modified after that time is not written and answers `ALREADY_MODIFIED`; all such
/// → 412, mixed with successes → 207.
#[tokio::test]
async fn s1_6_if_unmodified_since_already_modified() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let r = json(
        write(
            z,
            &t,
            reqwest::Method::POST,
            "/Contacts",
            json!({ "data": [
                { "Last_Name": "A", "Email": "a@example.com" },
                { "Last_Name": "B", "Email": "b@example.com" },
            ]}),
        )
        .await,
    )
    .await;
    let a = r["data"][0]["details"]["id"].as_str().unwrap().to_owned();
    let b = r["data"][1]["details"]["id"].as_str().unwrap().to_owned();
    // The time both were written, in the caller's offset, as the reference's example has it.
    let written = r["data"][0]["details"]["Modified_Time"]
        .as_str()
        .unwrap()
        .to_owned();
    control(z, "/_sim/clock", json!({ "advance_secs": 5 })).await;
    let resp = write(
        z,
        &t,
        reqwest::Method::PUT,
        "/Contacts",
        json!({ "data": [{ "id": a, "Title": "changed elsewhere" }] }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let send = |method: reqwest::Method, path: &str, body: Value| {
        http()
            .request(method, format!("{z}/crm/v8{path}"))
            .header("authorization", auth(&t))
            .header("if-unmodified-since", &written)
            .json(&body)
            .send()
    };
    let already_modified = |id: &str| {
        json!({ "code": "ALREADY_MODIFIED", "details": { "id": id },
                "message": "Record updated time has already passed if-unmodified-since time",
                "status": "error" })
    };

    // Update: A changed after the header's time, B did not.
    let resp = send(
        reqwest::Method::PUT,
        "/Contacts",
        json!({ "data": [{ "id": a, "Phone": "1" }, { "id": b, "Phone": "2" }] }),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::MULTI_STATUS);
    let body = json(resp).await;
    assert_eq!(body["data"][0], already_modified(&a));
    assert_eq!(body["data"][1]["code"], "SUCCESS");
    let resp = send(
        reqwest::Method::PUT,
        &format!("/Contacts/{a}"),
        json!({ "data": [{ "Phone": "3" }] }),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(json(resp).await["data"][0], already_modified(&a));
    let rec = json(get(z, &t, &format!("/Contacts/{a}")).await).await;
    assert_eq!(rec["data"][0]["Phone"], Value::Null, "A was not written");

    // Upsert: the matched A is refused; an insert has no record to have changed.
    let resp = send(
        reqwest::Method::POST,
        "/Contacts/upsert",
        json!({ "data": [{ "Last_Name": "A", "Email": "a@example.com", "Phone": "4" }] }),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(json(resp).await["data"][0], already_modified(&a));
    let resp = send(
        reqwest::Method::POST,
        "/Contacts/upsert",
        json!({ "data": [
            { "Last_Name": "A", "Email": "a@example.com", "Phone": "5" },
            { "Last_Name": "C", "Email": "c@example.com" },
        ]}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::MULTI_STATUS);
    let body = json(resp).await;
    assert_eq!(body["data"][0], already_modified(&a));
    assert_eq!(body["data"][1]["action"], "insert");
    let rec = json(get(z, &t, &format!("/Contacts/{a}")).await).await;
    assert_eq!(rec["data"][0]["Phone"], Value::Null, "A was not written");

    // A header at or after the last change lets the upsert update A.
    let now = rec["data"][0]["Modified_Time"].as_str().unwrap().to_owned();
    let resp = http()
        .post(format!("{z}/crm/v8/Contacts/upsert"))
        .header("authorization", auth(&t))
        .header("if-unmodified-since", &now)
        .json(&json!({ "data": [{ "Last_Name": "A", "Email": "a@example.com", "Phone": "6" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["data"][0]["action"], "update");
    s.shutdown().await;
}

/// §1.8: "malformed ids → `UNABLE_TO_PARSE_DATA_TYPE`", per record; a well-formed id of no
/// record stays `INVALID_DATA`.
#[tokio::test]
async fn s1_8_delete_malformed_id_is_unable_to_parse() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let a = insert_ids(z, &t, json!([{ "Last_Name": "A" }]))
        .await
        .remove(0);
    let resp = delete(z, &t, &format!("/Contacts?ids=abc,{a},123")).await;
    assert_eq!(resp.status(), StatusCode::MULTI_STATUS);
    let body = json(resp).await;
    assert_eq!(body["data"][0]["code"], "UNABLE_TO_PARSE_DATA_TYPE");
    assert_eq!(body["data"][0]["status"], "error");
    assert_eq!(body["data"][0]["details"]["id"], "abc");
    assert_eq!(body["data"][1]["code"], "SUCCESS");
    assert_eq!(body["data"][2]["code"], "INVALID_DATA");
    assert_eq!(
        body["data"][2]["message"],
        "the id given seems to be invalid"
    );
    let resp = delete(z, &t, "/Contacts/12x4").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json(resp).await["data"][0]["code"],
        "UNABLE_TO_PARSE_DATA_TYPE"
    );
    s.shutdown().await;
}

/// §2.1: "recycle-bin deletions visible 60 days": past that, `/deleted` has no rows → 204.
#[tokio::test]
async fn s2_1_deleted_records_kept_60_days() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let a = insert_ids(z, &t, json!([{ "Last_Name": "A" }]))
        .await
        .remove(0);
    let resp = delete(z, &t, &format!("/Contacts/{a}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    control(z, "/_sim/clock", json!({ "advance_secs": 59 * 86_400 })).await;
    // Access tokens live an hour: take a fresh one after each jump.
    let t = token(z, "demo-refresh").await;
    let resp = get(z, &t, "/Contacts/deleted").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await["data"][0]["id"], a.as_str());
    control(z, "/_sim/clock", json!({ "advance_secs": 2 * 86_400 })).await;
    let t = token(z, "demo-refresh").await;
    let resp = get(z, &t, "/Contacts/deleted").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(resp.text().await.unwrap().is_empty());
    s.shutdown().await;
}

/// §3.5: creating the `Notes_UNID` external field; external org values are unique
/// (`DUPLICATE_DATA` with `duplicate_record`); only an admin may create fields.
#[tokio::test]
async fn s3_5_external_field_creation_and_duplicate_data() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let fields = json(get(z, &t, "/settings/fields?module=Contacts").await).await;
    let names: Vec<&str> = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["api_name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Last_Name") && !names.contains(&"Notes_UNID"));
    let last = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["api_name"] == "Last_Name")
        .unwrap();
    assert_eq!(last["system_mandatory"], true);
    assert_eq!(last["data_type"], "text");
    assert_eq!(last["json_type"], "string");

    let def = json!({ "fields": [{ "field_label": "Notes UNID", "data_type": "text", "length": 255, "external": { "type": "org", "show": true } }] });
    let t2 = token(z, "user2-refresh").await;
    let resp = write(
        z,
        &t2,
        reqwest::Method::POST,
        "/settings/fields?module=Contacts",
        def.clone(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = write(
        z,
        &t,
        reqwest::Method::POST,
        "/settings/fields?module=Contacts",
        def.clone(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(json(resp).await["fields"][0]["code"], "SUCCESS");
    let resp = write(
        z,
        &t,
        reqwest::Method::POST,
        "/settings/fields?module=Contacts",
        def,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["fields"][0]["code"], "INVALID_DATA");
    let fields = json(get(z, &t, "/settings/fields?module=Contacts").await).await;
    let unid = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["api_name"] == "Notes_UNID")
        .unwrap();
    assert_eq!(unid["external"]["type"], "org");
    assert_eq!(unid["length"], 255);

    let unid_value = "0123456789ABCDEF0123456789ABCDEF";
    let resp = write(
        z,
        &t,
        reqwest::Method::POST,
        "/Contacts",
        json!({ "data": [
            { "Last_Name": "One", "Notes_UNID": unid_value },
            { "Last_Name": "Two", "Notes_UNID": unid_value },
        ]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::MULTI_STATUS);
    let body = json(resp).await;
    let first_id = body["data"][0]["details"]["id"].as_str().unwrap();
    let dup = &body["data"][1];
    assert_eq!(dup["code"], "DUPLICATE_DATA");
    assert_eq!(dup["message"], "duplicate data");
    assert_eq!(dup["details"]["api_name"], "Notes_UNID");
    assert_eq!(dup["details"]["duplicate_record"]["id"], first_id);
    assert_eq!(
        dup["details"]["duplicate_record"]["module"]["api_name"],
        "Contacts"
    );

    // External id lookups with X-EXTERNAL.
    let resp = http()
        .get(format!("{z}/crm/v8/Contacts/{unid_value}"))
        .header("authorization", auth(&t))
        .header("x-external", "Contacts.Notes_UNID")
        .send()
        .await
        .unwrap();
    assert_eq!(json(resp).await["data"][0]["id"], first_id);
    s.shutdown().await;
}

/// §3.2: timestamps are rendered in the calling user's offset, second precision.
#[tokio::test]
async fn s3_2_times_rendered_in_the_callers_offset() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let t2 = token(z, "user2-refresh").await;
    let r = json(write(z, &t, reqwest::Method::POST, "/Tasks", json!({ "data": [{ "Subject": "Call", "Due_Date": "2026-12-01", "Priority": "High" }] })).await).await;
    let id = r["data"][0]["details"]["id"].as_str().unwrap().to_owned();
    let a = json(get(z, &t, &format!("/Tasks/{id}")).await).await;
    let b = json(get(z, &t2, &format!("/Tasks/{id}")).await).await;
    let ta = a["data"][0]["Created_Time"].as_str().unwrap();
    let tb = b["data"][0]["Created_Time"].as_str().unwrap();
    assert!(ta.ends_with("+09:00") && ta.len() == 25, "{ta}");
    assert!(tb.ends_with("-05:00") || tb.ends_with("-04:00"), "{tb}");
    assert_eq!(
        chrono_like(ta),
        chrono_like(tb),
        "same instant in two offsets"
    );
    assert_eq!(a["data"][0]["Due_Date"], "2026-12-01");
    s.shutdown().await;
}

/// Seconds since the epoch of `yyyy-MM-ddTHH:mm:ss±hh:mm`, without a date library.
fn chrono_like(s: &str) -> i64 {
    let num = |a: usize, b: usize| s[a..b].parse::<i64>().expect("digits");
    let (y, mo, d, h, mi, se) = (
        num(0, 4),
        num(5, 7),
        num(8, 10),
        num(11, 13),
        num(14, 16),
        num(17, 19),
    );
    let sign = if &s[19..20] == "-" { -1 } else { 1 };
    let off = sign * (num(20, 22) * 3600 + num(23, 25) * 60);
    // Days from civil (Howard Hinnant).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + h * 3600 + mi * 60 + se - off
}

/// §3.2: `Account_Name` is a lookup written as `{"id"}` and read as `{"name","id"}`; a lookup
/// by name alone, or to a missing record, is `INVALID_DATA` and creates nothing.
#[tokio::test]
async fn s3_2_account_lookup_by_id_only() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let acme = json(
        write(
            z,
            &t,
            reqwest::Method::POST,
            "/Accounts",
            json!({ "data": [{ "Account_Name": "Acme" }] }),
        )
        .await,
    )
    .await;
    let acme = acme["data"][0]["details"]["id"].clone();
    let r = json(
        write(
            z,
            &t,
            reqwest::Method::POST,
            "/Contacts",
            json!({ "data": [
                { "Last_Name": "A", "Account_Name": { "id": acme } },
                { "Last_Name": "B", "Account_Name": { "name": "Acme" } },
                { "Last_Name": "C", "Account_Name": { "id": "1" } },
            ]}),
        )
        .await,
    )
    .await;
    assert_eq!(r["data"][0]["status"], "success");
    assert_eq!(r["data"][1]["code"], "INVALID_DATA");
    assert_eq!(r["data"][1]["details"]["api_name"], "Account_Name");
    assert_eq!(r["data"][2]["code"], "INVALID_DATA");
    let list = json(get(z, &t, "/Contacts?fields=Last_Name,Account_Name").await).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        list["data"][0]["Account_Name"],
        json!({ "name": "Acme", "id": acme })
    );
    let accounts = json(get(z, &t, "/Accounts?fields=Account_Name").await).await;
    assert_eq!(accounts["data"].as_array().unwrap().len(), 1);
    s.shutdown().await;
}

/// §8 / org.json / users.json: the current user, all users, and the org's licence count.
#[tokio::test]
async fn s8_users_and_org() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "user2-refresh").await;
    let me = json(get(z, &t, "/users?type=CurrentUser").await).await;
    assert_eq!(me["users"].as_array().unwrap().len(), 1);
    assert_eq!(me["users"][0]["email"], "user2@example.com");
    assert_eq!(me["users"][0]["time_zone"], "America/New_York");
    let all = json(get(z, &t, "/users?type=AllUsers").await).await;
    assert_eq!(all["users"].as_array().unwrap().len(), 3);
    assert_eq!(all["info"]["count"], 3);
    let admin = all["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "demo@example.com")
        .unwrap();
    assert_eq!(admin["profile"]["name"], "Administrator");
    let org = json(get(z, &t, "/org").await).await;
    assert_eq!(
        org["org"][0]["license_details"]["users_license_purchased"],
        5
    );
    assert_eq!(org["org"][0]["time_zone"], "Asia/Tokyo");
    s.shutdown().await;
}

/// The demo seed: contacts overlapping Notes by e-mail, some tagged Private, and tasks.
#[tokio::test]
async fn seed_demo_has_overlap_and_private_tags() {
    let s = sims(Seed::Demo).await;
    let zoho = s.zoho().dump();
    let contacts = zoho["modules"]["Contacts"].as_array().unwrap();
    assert!((120..=200).contains(&contacts.len()), "{}", contacts.len());
    let private = contacts
        .iter()
        .filter(|c| {
            c["Tag"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == "Private")
        })
        .count();
    assert!((3..=10).contains(&private), "{private}");
    let domino = s.domino().dump();
    let notes_mail: BTreeSet<String> = domino["databases"]["mail/demo.nsf"]["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["items"]["MailAddress"].as_str())
        .map(str::to_lowercase)
        .collect();
    let shared = contacts
        .iter()
        .filter(|c| c["Owner"]["id"] == "5725767000000411001")
        .filter_map(|c| c["Email"].as_str())
        .filter(|e| notes_mail.contains(&e.to_lowercase()))
        .count();
    assert_eq!(shared, 40);
    let notes_todos: BTreeSet<(String, String)> = domino["databases"]["mail/demo.nsf"]["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["form"] == "Task")
        .map(|d| {
            (
                d["items"]["Subject"].as_str().unwrap().to_owned(),
                d["items"]["DueDateTime"]["data"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    let matching_tasks = zoho["modules"]["Tasks"]
        .as_array()
        .unwrap()
        .iter()
        // The sales manager has one with a demo to-do's subject and due date, too.
        .filter(|t| t["Owner"]["id"] == "5725767000000411001")
        .filter(|t| {
            let key = (
                t["Subject"].as_str().unwrap().to_owned(),
                t["Due_Date"].as_str().unwrap().to_owned(),
            );
            notes_todos.contains(&key)
        })
        .count();
    assert_eq!(matching_tasks, 8);
    assert!(zoho["modules"]["Tasks"].as_array().unwrap().len() >= 20);
    s.shutdown().await;
}
