//! Owner scope in the Zoho CRM simulator: custom views (custom_views.json), `cvid` and `ids`
//! listings (zoho-crm-api.md §1.2), record owners and change owner (change_owner.json), the
//! cost of `cvid` calls (§5), and the sales manager of the demo seed.

mod common;

use std::collections::BTreeSet;

use common::{auth, control, http, json, sims, token};
use nzsync_sim::Seed;
use reqwest::StatusCode;
use serde_json::{Value, json};

const DEMO: &str = "5725767000000411001";
const USER2: &str = "5725767000000411005";
const MANAGER: &str = "5725767000000411009";

async fn get(z: &str, t: &str, path: &str) -> reqwest::Response {
    http()
        .get(format!("{z}/crm/v8{path}"))
        .header("authorization", auth(t))
        .send()
        .await
        .expect("request")
}

async fn get_since(z: &str, t: &str, path: &str, since: &str) -> reqwest::Response {
    http()
        .get(format!("{z}/crm/v8{path}"))
        .header("authorization", auth(t))
        .header("if-modified-since", since)
        .send()
        .await
        .expect("request")
}

async fn send(
    z: &str,
    t: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> reqwest::Response {
    http()
        .request(method, format!("{z}/crm/v8{path}"))
        .header("authorization", auth(t))
        .json(&body)
        .send()
        .await
        .expect("request")
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// A token of `user` (e-mail) with `scope`, through the authorization-code flow (the sales
/// manager has no refresh token of her own).
async fn signed_in(z: &str, user: &str, scope: &str) -> String {
    let redirect = "http://127.0.0.1:9/callback";
    let resp = http()
        .post(format!("{z}/oauth/v2/auth"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("scope", scope),
            ("client_id", "demo-client"),
            ("response_type", "code"),
            ("access_type", "offline"),
            ("redirect_uri", redirect),
            ("user", user),
        ]))
        .send()
        .await
        .expect("consent");
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
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
    json(resp).await["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

async fn manager_token(z: &str) -> String {
    signed_in(
        z,
        "miho.yamaguchi@example.com",
        "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL",
    )
    .await
}

/// The views of `module` the caller sees.
async fn views(z: &str, t: &str, module: &str) -> Vec<Value> {
    let resp = get(z, t, &format!("/settings/custom_views?module={module}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    json(resp).await["custom_views"]
        .as_array()
        .expect("custom_views")
        .clone()
}

/// The id of the view of `module` with this `system_name` (or name).
async fn view_id(z: &str, t: &str, module: &str, which: &str) -> String {
    views(z, t, module)
        .await
        .iter()
        .find(|v| v["system_name"] == which || v["name"] == which)
        .and_then(|v| v["id"].as_str())
        .unwrap_or_else(|| panic!("no view {which} of {module}"))
        .to_owned()
}

/// Every record of a listing, following page tokens.
async fn list_all(z: &str, t: &str, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let url = match &next {
            Some(tok) => format!("{path}&page_token={tok}"),
            None => path.to_owned(),
        };
        let resp = get(z, t, &url).await;
        if resp.status() == StatusCode::NO_CONTENT {
            return out;
        }
        assert_eq!(resp.status(), StatusCode::OK, "{url}");
        let body = json(resp).await;
        out.extend(body["data"].as_array().expect("data").iter().cloned());
        match body["info"]["next_page_token"].as_str() {
            Some(tok) => next = Some(tok.to_owned()),
            None => return out,
        }
    }
}

/// Records of the dump of `module` owned by `owner`.
fn owned(dump: &Value, module: &str, owner: &str) -> BTreeSet<String> {
    dump["modules"][module]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["Owner"]["id"] == owner)
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

fn ids(records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

/// custom_views.json: every module has the system views, "My …" with `system_name`
/// `MY{MODULE}`; users' views show to whom they should, with the category that says why.
#[tokio::test]
async fn custom_views_list_system_and_user_views() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let demo = token(z, "demo-refresh").await;
    let user2 = token(z, "user2-refresh").await;

    let resp = get(z, &demo, "/settings/custom_views?module=Contacts").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    let list = body["custom_views"].as_array().unwrap();
    let find = |name: &str| {
        list.iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let all = find("All Contacts");
    assert_eq!(
        (all["system_name"].clone(), all["default"].clone()),
        (json!("ALLVIEWS"), json!(true))
    );
    assert_eq!(body["info"]["default"], all["id"]);
    let my = find("My Contacts");
    assert_eq!(my["system_name"], "MYCONTACTS");
    assert_eq!(my["system_defined"], true);
    assert_eq!(my["display_value"], "My Contacts");
    assert_eq!(my["category"], "public_views");
    assert_eq!(my["criteria"]["field"]["api_name"], "Owner");
    assert_eq!(my["criteria"]["value"], "${CURRENTUSER}");
    assert_eq!(my["module"]["api_name"], "Contacts");
    assert!(find("Recently Modified Contacts")["system_name"] == "RECENTLYMODIFIED");
    let tokyo = find("東京の顧客");
    assert_eq!(tokyo["system_defined"], false);
    assert_eq!(tokyo["system_name"], Value::Null);
    assert_eq!(tokyo["category"], "created_by_me");
    assert_eq!(tokyo["created_by"]["id"], DEMO);
    // user2's own view: demo is an administrator, so sees it among other users' views.
    assert_eq!(find("My VIP contacts")["category"], "other_users_views");
    assert_eq!(body["info"]["count"], list.len());
    assert_eq!(body["info"]["more_records"], false);

    let names = |list: &[Value]| -> Vec<(String, String)> {
        list.iter()
            .filter(|v| v["system_defined"] == true)
            .map(|v| {
                (
                    v["system_name"].as_str().unwrap().to_owned(),
                    v["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let tasks = views(z, &demo, "Tasks").await;
    assert!(names(&tasks).contains(&("MYTASKS".into(), "My Tasks".into())));
    assert!(names(&tasks).contains(&("MYOPENTASKS".into(), "My Open Tasks".into())));
    let events = views(z, &demo, "Events").await;
    assert!(names(&events).contains(&("MYEVENTS".into(), "My Meetings".into())));
    assert!(names(&events).contains(&("ALLVIEWS".into(), "All Meetings".into())));

    // The manager's task view is shared with demo only; user2 (no administrator) does not see
    // it, and sees her own only_to_me view as hers.
    let shared = tasks
        .iter()
        .find(|v| v["name"] == "Team open tasks")
        .unwrap();
    assert_eq!(shared["category"], "shared_with_me");
    assert_eq!(shared["access_type"], "shared");
    assert_eq!(shared["shared_to"][0]["id"], DEMO);
    let theirs = views(z, &user2, "Tasks").await;
    assert!(theirs.iter().all(|v| v["name"] != "Team open tasks"));
    let contacts2 = views(z, &user2, "Contacts").await;
    let vip = contacts2
        .iter()
        .find(|v| v["name"] == "My VIP contacts")
        .unwrap();
    assert_eq!(vip["category"], "created_by_me");

    // One view by id; paging.
    let one = json(
        get(
            z,
            &demo,
            &format!(
                "/settings/custom_views/{}?module=Contacts",
                my["id"].as_str().unwrap()
            ),
        )
        .await,
    )
    .await;
    assert_eq!(one["custom_views"].as_array().unwrap().len(), 1);
    assert_eq!(one["custom_views"][0]["id"], my["id"]);
    let page2 = json(
        get(
            z,
            &demo,
            "/settings/custom_views?module=Contacts&per_page=2&page=2",
        )
        .await,
    )
    .await;
    assert_eq!(page2["custom_views"][0]["id"], list[2]["id"]);
    assert_eq!(page2["info"]["more_records"], true);
    s.shutdown().await;
}

/// custom_views.json errors: no module, an unknown module (`details.api_name`), a malformed
/// or unknown view id, bad paging.
#[tokio::test]
async fn custom_view_errors() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let err = |resp: reqwest::Response| async move { (resp.status(), json(resp).await) };

    let (status, body) = err(get(z, &t, "/settings/custom_views").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "REQUIRED_PARAM_MISSING");
    assert_eq!(body["details"]["param_name"], "module");
    let (status, body) = err(get(z, &t, "/settings/custom_views?module=Deals").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "INVALID_MODULE");
    assert_eq!(body["details"]["api_name"], "module");
    let (status, body) = err(get(z, &t, "/settings/custom_views/abc?module=Contacts").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (body["code"].clone(), body["details"]["id"].clone()),
        (json!("INVALID_DATA"), json!("abc"))
    );
    let resp = get(
        z,
        &t,
        "/settings/custom_views/5725767000000999999?module=Contacts",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // A Tasks view asked for as a Contacts view is no Contacts view.
    let my_tasks = view_id(z, &t, "Tasks", "MYTASKS").await;
    let resp = get(
        z,
        &t,
        &format!("/settings/custom_views/{my_tasks}?module=Contacts"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (status, body) =
        err(get(z, &t, "/settings/custom_views?module=Contacts&per_page=201").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["details"]["param_name"], "per_page");
    let resp = get(z, &t, "/settings/custom_views?module=Contacts&page=9").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    s.shutdown().await;
}

/// §1.2 `cvid`: "My …" lists exactly the caller's records — for demo, user2 and the sales
/// manager alike — and "All …" everyone's.
#[tokio::test]
async fn my_view_lists_the_callers_records() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let dump = s.zoho().dump();
    let tokens = [
        (DEMO, token(z, "demo-refresh").await),
        (USER2, token(z, "user2-refresh").await),
        (MANAGER, manager_token(z).await),
    ];
    for (module, system_name) in [
        ("Contacts", "MYCONTACTS"),
        ("Tasks", "MYTASKS"),
        ("Events", "MYEVENTS"),
    ] {
        let field = if module == "Events" {
            "Event_Title"
        } else if module == "Tasks" {
            "Subject"
        } else {
            "Last_Name"
        };
        for (user, t) in &tokens {
            let cvid = view_id(z, t, module, system_name).await;
            let got = list_all(
                z,
                t,
                &format!("/{module}?cvid={cvid}&fields={field},Owner&per_page=200"),
            )
            .await;
            assert!(
                got.iter().all(|r| r["Owner"]["id"] == *user),
                "{module} of {user}"
            );
            assert_eq!(ids(&got), owned(&dump, module, user), "{module} of {user}");
        }
    }
    let (_, t) = &tokens[2];
    let all = view_id(z, t, "Contacts", "ALLVIEWS").await;
    let everyone = list_all(
        z,
        t,
        &format!("/Contacts?cvid={all}&fields=Last_Name&per_page=200"),
    )
    .await;
    assert_eq!(
        everyone.len(),
        dump["modules"]["Contacts"].as_array().unwrap().len()
    );
    s.shutdown().await;
}

/// §2.3 COQL keyset paging, the way past the 100,000 records `page_token` and `LIMIT … OFFSET`
/// reach: `where Owner = … and id > {last} order by id asc` walks one user's records page by page,
/// each exactly once; the bound compares 19-digit ids exactly, and `Account_Name.Account_Name`
/// joins the company's name to the lookup's id.
#[tokio::test]
async fn coql_keyset_pages_walk_one_owners_records_once() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let dump = s.zoho().dump();
    let t = token(z, "demo-refresh").await;
    let mut seen: Vec<Value> = Vec::new();
    let mut after = "0".to_owned();
    loop {
        let q = format!(
            "select Last_Name, Account_Name, Account_Name.Account_Name, Owner from Contacts \
             where (Owner = '{DEMO}' and id > {after}) order by id asc limit 0, 7"
        );
        let resp = send(
            z,
            &t,
            reqwest::Method::POST,
            "/coql",
            json!({ "select_query": q }),
        )
        .await;
        if resp.status() == StatusCode::NO_CONTENT {
            break;
        }
        assert_eq!(resp.status(), StatusCode::OK, "{after}");
        let body = json(resp).await;
        let page = body["data"].as_array().expect("data").clone();
        assert!(page.len() <= 7);
        after = page.last().expect("a row")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        seen.extend(page);
        if body["info"]["more_records"] != json!(true) {
            break;
        }
    }
    let got: Vec<String> = seen
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    let mut sorted = got.clone();
    sorted.sort_by_key(|id| id.parse::<u64>().expect("numeric id"));
    sorted.dedup();
    assert_eq!(got, sorted, "in id order, each once");
    assert_eq!(ids(&seen), owned(&dump, "Contacts", DEMO));
    assert!(seen.iter().all(|r| r["Owner"]["id"] == DEMO));
    let with_company = seen
        .iter()
        .find(|r| r["Account_Name"].is_object())
        .expect("a contact with a company");
    assert!(with_company["Account_Name"]["id"].is_string());
    assert!(with_company["Account_Name.Account_Name"].is_string());
    // The bound is exclusive, to the last digit.
    let first = &got[0];
    let q = format!("select Last_Name from Contacts where id > {first} order by id asc limit 1");
    let next = json(
        send(
            z,
            &t,
            reqwest::Method::POST,
            "/coql",
            json!({ "select_query": q }),
        )
        .await,
    )
    .await;
    let next_id: u64 = next["data"][0]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("numeric");
    assert!(next_id > first.parse::<u64>().expect("numeric"));
    // LIMIT/OFFSET still stops at 100,000.
    let q = "select Last_Name from Contacts where id > 0 limit 100000, 1";
    let r = send(
        z,
        &t,
        reqwest::Method::POST,
        "/coql",
        json!({ "select_query": q }),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(r).await["code"], "LIMIT_EXCEEDED");
    s.shutdown().await;
}

/// §1.2 `cvid` with `If-Modified-Since`: 304 when nothing in the view changed; only the view's
/// changed records otherwise (another user's change does not show).
#[tokio::test]
async fn cvid_with_if_modified_since() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let demo = token(z, "demo-refresh").await;
    let user2 = token(z, "user2-refresh").await;
    let dump = s.zoho().dump();
    let mine = owned(&dump, "Contacts", DEMO);
    let theirs = owned(&dump, "Contacts", USER2);
    let cvid = view_id(z, &demo, "Contacts", "MYCONTACTS").await;
    let path = format!("/Contacts?cvid={cvid}&fields=Last_Name,Owner");

    // user2 changes one of theirs: T0 is after every seeded change.
    let theirs_id = theirs.iter().next().unwrap();
    let r = json(
        send(
            z,
            &user2,
            reqwest::Method::PUT,
            "/Contacts",
            json!({"data":[{"id": theirs_id, "Title":"Boss"}]}),
        )
        .await,
    )
    .await;
    let t0 = r["data"][0]["details"]["Modified_Time"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = get_since(z, &demo, &path, &t0).await;
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert!(resp.bytes().await.unwrap().is_empty());

    control(z, "/_sim/clock", json!({"advance_secs": 5})).await;
    let mine_id = mine.iter().next().unwrap();
    send(
        z,
        &user2,
        reqwest::Method::PUT,
        "/Contacts",
        json!({"data":[{"id": mine_id, "Title":"Chief"}]}),
    )
    .await;
    control(z, "/_sim/clock", json!({"advance_secs": 5})).await;
    send(
        z,
        &user2,
        reqwest::Method::PUT,
        "/Contacts",
        json!({"data":[{"id": theirs_id, "Title":"Boss 2"}]}),
    )
    .await;
    let resp = get_since(z, &demo, &path, &t0).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert_eq!(
        ids(body["data"].as_array().unwrap()),
        BTreeSet::from([mine_id.clone()])
    );
    // Without the view both changes show.
    let body = json(get_since(z, &demo, "/Contacts?fields=Last_Name,Owner", &t0).await).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    s.shutdown().await;
}

/// §1.2: page tokens are bound to the other parameters, `cvid` included; paging through a
/// view visits each of its records once.
#[tokio::test]
async fn page_tokens_are_bound_to_the_cvid() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let my = view_id(z, &t, "Contacts", "MYCONTACTS").await;
    let all = view_id(z, &t, "Contacts", "ALLVIEWS").await;
    let first = json(
        get(
            z,
            &t,
            &format!("/Contacts?cvid={my}&fields=Last_Name,Owner&per_page=60"),
        )
        .await,
    )
    .await;
    assert_eq!(first["info"]["more_records"], true);
    assert_eq!(first["info"]["sort_by"], "Created_Time");
    let next = first["info"]["next_page_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = json(
        get(
            z,
            &t,
            &format!("/Contacts?cvid={my}&fields=Last_Name,Owner&per_page=60&page_token={next}"),
        )
        .await,
    )
    .await;
    let a = ids(first["data"].as_array().unwrap());
    let b = ids(second["data"].as_array().unwrap());
    assert_eq!((a.len(), b.len()), (60, 60));
    assert!(a.is_disjoint(&b));
    assert!(
        second["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["Owner"]["id"] == DEMO)
    );
    for other in [format!("cvid={all}&"), String::new()] {
        let resp = get(
            z,
            &t,
            &format!("/Contacts?{other}fields=Last_Name,Owner&per_page=60&page_token={next}"),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(json(resp).await["code"], "TOKEN_BOUND_DATA_MISMATCH");
    }
    let every = list_all(
        z,
        &t,
        &format!("/Contacts?cvid={my}&fields=Last_Name&per_page=60"),
    )
    .await;
    assert_eq!(every.len(), ids(&every).len());
    assert_eq!(every.len(), 150);
    s.shutdown().await;
}

/// §1.2: `cvid` with `sort_by` → `AMBIGUITY_DURING_PROCESSING`; a malformed, unknown, other
/// module's or hidden view → `INVALID_DATA` on `cvid`.
#[tokio::test]
async fn cvid_errors() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let demo = token(z, "demo-refresh").await;
    let user2 = token(z, "user2-refresh").await;
    let my = view_id(z, &demo, "Contacts", "MYCONTACTS").await;
    let resp = get(
        z,
        &demo,
        &format!("/Contacts?cvid={my}&fields=Last_Name&sort_by=Modified_Time"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = json(resp).await;
    assert_eq!(body["code"], "AMBIGUITY_DURING_PROCESSING");
    let due_to: Vec<&str> = body["details"]["ambiguity_due_to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["api_name"].as_str().unwrap())
        .collect();
    assert_eq!(due_to, ["cvid", "sort_by"]);
    // `sort_order` alone is fine.
    let resp = get(
        z,
        &demo,
        &format!("/Contacts?cvid={my}&fields=Last_Name&sort_order=asc&per_page=1"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let tasks_view = view_id(z, &demo, "Tasks", "MYTASKS").await;
    let team = view_id(z, &demo, "Tasks", "Team open tasks").await;
    let cases = [
        (&demo, "Contacts", "abc".to_owned()),
        (&demo, "Contacts", "5725767000000999999".to_owned()),
        (&demo, "Contacts", tasks_view),
        (&user2, "Tasks", team.clone()),
    ];
    for (t, module, cvid) in cases {
        let resp = get(z, t, &format!("/{module}?cvid={cvid}&fields=id")).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{module} {cvid}");
        let body = json(resp).await;
        assert_eq!(
            (body["code"].clone(), body["details"]["param_name"].clone()),
            (json!("INVALID_DATA"), json!("cvid"))
        );
    }
    // demo, whom it is shared with, may list it.
    let resp = get(
        z,
        &demo,
        &format!("/Tasks?cvid={team}&fields=Subject,Owner,Status"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert!(
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["Owner"]["id"] != MANAGER && r["Status"] != "Completed")
    );
    s.shutdown().await;
}

/// A view with criteria (or-group of equal / and-group of starts_with, not_equal) lists
/// exactly the records its criteria select; the seeded "東京の顧客" view too.
#[tokio::test]
async fn criteria_views_filter_records() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "user2-refresh").await;
    let leaf =
        |f: &str, c: &str, v: &str| json!({"field":{"api_name": f}, "comparator": c, "value": v});
    let resp = control(
        z,
        "/_sim/custom_views",
        json!({
            "module": "Contacts", "name": "US or Ta-", "created_by": "user2@example.com",
            "criteria": {"group_operator": "or", "group": [
                leaf("Mailing_Country", "equal", "united states"),
                {"group_operator": "and", "group": [
                    leaf("Last_Name", "starts_with", "Ta"),
                    leaf("Owner", "not_equal", DEMO),
                ]},
            ]},
        }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let id = json(resp).await["id"].as_str().unwrap().to_owned();

    let dump = s.zoho().dump();
    let expected: BTreeSet<String> = dump["modules"]["Contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            let text = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            text("Mailing_Country").eq_ignore_ascii_case("United States")
                || (text("Last_Name").to_lowercase().starts_with("ta") && c["Owner"]["id"] != DEMO)
        })
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(expected.len() > 10, "{}", expected.len());
    let got = list_all(
        z,
        &t,
        &format!("/Contacts?cvid={id}&fields=Last_Name&per_page=200"),
    )
    .await;
    assert_eq!(ids(&got), expected);

    let view = json(
        get(
            z,
            &t,
            &format!("/settings/custom_views/{id}?module=Contacts"),
        )
        .await,
    )
    .await;
    let c = &view["custom_views"][0]["criteria"];
    assert_eq!(c["group_operator"], "or");
    assert_eq!(c["group"][1]["group"][0]["comparator"], "starts_with");
    assert!(c["group"][0]["field"]["id"].is_string());

    let tokyo = view_id(z, &t, "Contacts", "東京の顧客").await;
    let got = list_all(
        z,
        &t,
        &format!("/Contacts?cvid={tokyo}&fields=Mailing_State&per_page=200"),
    )
    .await;
    let in_tokyo = dump["modules"]["Contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["Mailing_State"] == "東京都")
        .count();
    assert!(in_tokyo > 0);
    assert_eq!(got.len(), in_tokyo);
    assert!(got.iter().all(|c| c["Mailing_State"] == "東京都"));

    let bad = control(
        z,
        "/_sim/custom_views",
        json!({"module":"Contacts","name":"x","criteria": leaf("Nope","equal","1")}),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    s.shutdown().await;
}

/// change_owner.json and updates of `Owner`: the record changes owner, `Modified_Time` and
/// `Modified_By`, and moves from one user's "My …" view to the other's.
#[tokio::test]
async fn owner_change_moves_the_record_between_my_views() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let demo = token(z, "demo-refresh").await;
    let user2 = token(z, "user2-refresh").await;
    let dump = s.zoho().dump();
    let x = owned(&dump, "Contacts", DEMO).into_iter().next().unwrap();
    let task = owned(&dump, "Tasks", DEMO).into_iter().next().unwrap();
    let my_demo = view_id(z, &demo, "Contacts", "MYCONTACTS").await;
    let in_view = |t: String, cvid: String| {
        let x = x.clone();
        async move {
            get(
                z,
                &t,
                &format!("/Contacts?cvid={cvid}&ids={x}&fields=Owner"),
            )
            .await
            .status()
        }
    };
    assert_eq!(in_view(demo.clone(), my_demo.clone()).await, StatusCode::OK);
    let before = json(get(z, &demo, &format!("/Contacts/{x}")).await).await["data"][0].clone();

    control(z, "/_sim/clock", json!({"advance_secs": 30})).await;
    let resp = send(
        z,
        &demo,
        reqwest::Method::POST,
        "/Contacts/actions/change_owner",
        json!({
            "ids": [x, "5725767000000999999"], "owner": {"id": USER2}, "notify": true,
            "related_modules": [{"api_name": "Tasks", "id": task}],
        }),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let body = json(resp).await;
    assert_eq!(
        body["data"][0],
        json!({"code":"SUCCESS","details":{"id": x},"message":"owner is successfully updated","status":"success"})
    );
    assert_eq!(body["data"][1]["code"], "INVALID_DATA");
    assert_eq!(body["data"][1]["details"]["id"], "5725767000000999999");

    let after = json(get(z, &demo, &format!("/Contacts/{x}")).await).await["data"][0].clone();
    assert_eq!(after["Owner"]["id"], USER2);
    assert_eq!(after["Owner"]["email"], "user2@example.com");
    assert_eq!(after["Owner"]["name"], "User Two");
    assert_eq!(after["Modified_By"]["id"], DEMO);
    assert_ne!(after["Modified_Time"], before["Modified_Time"]);
    let t = json(get(z, &demo, &format!("/Tasks/{task}")).await).await;
    assert_eq!(t["data"][0]["Owner"]["id"], USER2);
    assert_eq!(
        in_view(demo.clone(), my_demo.clone()).await,
        StatusCode::NO_CONTENT
    );
    let my_user2 = view_id(z, &user2, "Contacts", "MYCONTACTS").await;
    assert_eq!(in_view(user2.clone(), my_user2).await, StatusCode::OK);

    // One record by path, then back by an update of `Owner`.
    let resp = send(
        z,
        &user2,
        reqwest::Method::POST,
        &format!("/Contacts/{x}/actions/change_owner"),
        json!({"owner": {"id": MANAGER}}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let r = json(get(z, &demo, &format!("/Contacts/{x}")).await).await;
    assert_eq!(
        (
            r["data"][0]["Owner"]["id"].clone(),
            r["data"][0]["Modified_By"]["id"].clone()
        ),
        (json!(MANAGER), json!(USER2))
    );
    control(z, "/_sim/clock", json!({"advance_secs": 30})).await;
    let resp = send(
        z,
        &user2,
        reqwest::Method::PUT,
        "/Contacts",
        json!({"data":[{"id": x, "Owner": {"id": DEMO}}]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let last = json(get(z, &demo, &format!("/Contacts/{x}")).await).await["data"][0].clone();
    assert_eq!(last["Owner"]["id"], DEMO);
    assert_ne!(last["Modified_Time"], after["Modified_Time"]);
    assert_eq!(in_view(demo.clone(), my_demo).await, StatusCode::OK);
    s.shutdown().await;
}

/// `Owner` in a write must be a user of the org (`{"id"}`); without it the caller owns the
/// record. change_owner refuses an unknown owner, a missing owner or ids, and a token with
/// neither its scope nor an update scope.
#[tokio::test]
async fn invalid_owners_are_refused() {
    let s = sims(Seed::Empty).await;
    let z = &s.zoho_url;
    let t = token(z, "user2-refresh").await;
    let resp = send(
        z,
        &t,
        reqwest::Method::POST,
        "/Contacts",
        json!({"data":[
            {"Last_Name": "Mine"},
            {"Last_Name": "Nobody's", "Owner": {"id": "5725767000000411999"}},
            {"Last_Name": "Bare id", "Owner": DEMO},
            {"Last_Name": "Theirs", "Owner": {"id": MANAGER}},
        ]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::MULTI_STATUS);
    let body = json(resp).await;
    for i in [1, 2] {
        assert_eq!(body["data"][i]["code"], "INVALID_DATA");
        assert_eq!(body["data"][i]["details"]["api_name"], "Owner");
        assert_eq!(
            body["data"][i]["details"]["json_path"],
            format!("$.data[{i}].Owner")
        );
    }
    let mine = body["data"][0]["details"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = json(get(z, &t, "/Contacts?fields=Last_Name,Owner").await).await;
    let owners: Vec<(Value, Value)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["Last_Name"].clone(), r["Owner"]["id"].clone()))
        .collect();
    assert_eq!(owners.len(), 2);
    assert!(owners.contains(&(json!("Mine"), json!(USER2))));
    assert!(owners.contains(&(json!("Theirs"), json!(MANAGER))));

    let co = |body: Value| {
        send(
            z,
            &t,
            reqwest::Method::POST,
            "/Contacts/actions/change_owner",
            body,
        )
    };
    let resp = co(json!({"ids": [mine], "owner": {"id": "5725767000000411999"}})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = json(resp).await;
    assert_eq!(
        (
            body["code"].clone(),
            body["message"].clone(),
            body["details"]["param_name"].clone()
        ),
        (
            json!("INVALID_DATA"),
            json!("the owner id given is invalid"),
            json!("owner")
        )
    );
    let resp = co(json!({"ids": [mine]})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = json(resp).await;
    assert_eq!(
        (body["code"].clone(), body["details"]["api_name"].clone()),
        (json!("MANDATORY_NOT_FOUND"), json!("owner"))
    );
    let resp = co(json!({"owner": {"id": DEMO}})).await;
    assert_eq!(json(resp).await["details"]["api_name"], "ids");
    let resp = co(json!({"ids": ["5725767000000999999"], "owner": {"id": DEMO}})).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(resp).await["data"][0]["code"], "INVALID_DATA");

    let reader = signed_in(z, "user2", "ZohoCRM.modules.contacts.READ").await;
    let resp = send(
        z,
        &reader,
        reqwest::Method::POST,
        "/Contacts/actions/change_owner",
        json!({"ids": [mine], "owner": {"id": DEMO}}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(resp).await["code"], "OAUTH_SCOPE_MISMATCH");
    let owner_only = signed_in(z, "user2", "ZohoCRM.change_owner.CREATE").await;
    let resp = send(
        z,
        &owner_only,
        reqwest::Method::POST,
        "/Contacts/actions/change_owner",
        json!({"ids": [mine], "owner": {"id": DEMO}}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    s.shutdown().await;
}

/// §1.2 `ids`: the records named that exist (deleted and unknown ids are left out), with just
/// the fields asked for; at most 100 ids; none found → 204.
#[tokio::test]
async fn ids_listing() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let dump = s.zoho().dump();
    let mine: Vec<String> = owned(&dump, "Contacts", DEMO)
        .into_iter()
        .take(100)
        .collect();
    let gone = mine[2].clone();
    let resp = http()
        .delete(format!("{z}/crm/v8/Contacts/{gone}"))
        .header("authorization", auth(&t))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let asked = [
        mine[0].as_str(),
        mine[1].as_str(),
        gone.as_str(),
        "5725767000000999999",
        MANAGER,
    ]
    .join(",");
    let body = json(get(z, &t, &format!("/Contacts?ids={asked}&fields=id,Owner")).await).await;
    let rows = body["data"].as_array().unwrap();
    assert_eq!(
        ids(rows),
        BTreeSet::from([mine[0].clone(), mine[1].clone()])
    );
    for r in rows {
        let keys: BTreeSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["Owner", "id"]));
        assert_eq!(r["Owner"]["id"], DEMO);
    }
    let hundred = mine.join(",");
    let body = json(get(z, &t, &format!("/Contacts?ids={hundred}&fields=id,Owner")).await).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 99);
    let resp = get(
        z,
        &t,
        &format!("/Contacts?ids={hundred},{MANAGER}&fields=id"),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body = json(resp).await;
    assert_eq!(
        (body["code"].clone(), body["details"]["limit"].clone()),
        (json!("LIMIT_EXCEEDED"), json!(100))
    );
    let resp = get(z, &t, &format!("/Contacts?ids={gone}&fields=id")).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    s.shutdown().await;
}

/// §5: a `cvid` listing costs 3 credits and counts against the sub-concurrency limit; a plain
/// listing costs 1 and does not.
#[tokio::test]
async fn cvid_calls_cost_three_credits_and_are_heavy() {
    let s = sims(Seed::Demo).await;
    let z = s.zoho_url.clone();
    let t = token(&z, "demo-refresh").await;
    let my = view_id(&z, &t, "Contacts", "MYCONTACTS").await;
    let used = || async {
        json(
            http()
                .get(format!("{}/_sim/config", s.zoho_url))
                .send()
                .await
                .unwrap(),
        )
        .await["credits_used"]
            .as_u64()
            .unwrap()
    };
    control(&z, "/_sim/config", json!({"reset_credits": true})).await;
    assert_eq!(
        get(&z, &t, &format!("/Contacts?cvid={my}&fields=id&per_page=1"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(used().await, 3);
    assert_eq!(
        get(&z, &t, "/Contacts?fields=id&per_page=1").await.status(),
        StatusCode::OK
    );
    assert_eq!(used().await, 4);

    control(&z, "/_sim/config", json!({"sub_concurrency": 1})).await;
    control(&z, "/_sim/latency", json!({"ms": 300})).await;
    let burst = |path: String| {
        let (z, t) = (z.clone(), t.clone());
        async move {
            let calls: Vec<_> = (0..3)
                .map(|_| {
                    let (z, t, path) = (z.clone(), t.clone(), path.clone());
                    tokio::spawn(async move { get(&z, &t, &path).await.status() })
                })
                .collect();
            let mut out = Vec::new();
            for c in calls {
                out.push(c.await.unwrap());
            }
            out
        }
    };
    let heavy = burst(format!("/Contacts?cvid={my}&fields=id&per_page=1")).await;
    assert!(heavy.contains(&StatusCode::TOO_MANY_REQUESTS), "{heavy:?}");
    let light = burst("/Contacts?fields=id&per_page=1".to_owned()).await;
    assert!(light.iter().all(|s| *s == StatusCode::OK), "{light:?}");
    control(&z, "/_sim/latency", json!({"ms": 0})).await;
    s.shutdown().await;
}

/// The vendor specs describe every new answer, and none breaks them.
#[tokio::test]
async fn new_answers_keep_to_the_specs() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let my = view_id(z, &t, "Contacts", "MYCONTACTS").await;
    get(
        z,
        &t,
        &format!("/settings/custom_views/{my}?module=Contacts"),
    )
    .await;
    get(z, &t, "/settings/custom_views?module=Deals").await;
    get(z, &t, "/settings/custom_views").await;
    get(z, &t, "/settings/modules/Contacts").await;
    get(
        z,
        &t,
        &format!("/Contacts?cvid={my}&fields=Last_Name,Owner&per_page=5"),
    )
    .await;
    get(
        z,
        &t,
        &format!("/Contacts?cvid={my}&fields=Last_Name&sort_by=id"),
    )
    .await;
    get(z, &t, "/Contacts?cvid=1&fields=Last_Name").await;
    let x = owned(&s.zoho().dump(), "Contacts", DEMO)
        .into_iter()
        .next()
        .unwrap();
    send(
        z,
        &t,
        reqwest::Method::POST,
        "/Contacts/actions/change_owner",
        json!({"ids":[x, "1"], "owner":{"id": USER2}}),
    )
    .await;
    send(
        z,
        &t,
        reqwest::Method::POST,
        &format!("/Contacts/{x}/actions/change_owner"),
        json!({"owner":{"id": DEMO}}),
    )
    .await;
    send(
        z,
        &t,
        reqwest::Method::POST,
        "/Contacts/actions/change_owner",
        json!({"ids":["1"], "owner":{"id": DEMO}}),
    )
    .await;
    send(
        z,
        &t,
        reqwest::Method::POST,
        "/Contacts/actions/change_owner",
        json!({"ids":[x], "owner":{"id": "1"}}),
    )
    .await;
    send(
        z,
        &t,
        reqwest::Method::POST,
        "/Contacts/actions/change_owner",
        json!({"ids":[x]}),
    )
    .await;
    let report = s.zoho().spec_report().expect("spec check on");
    for op in [
        "GET /crm/v8/settings/custom_views 200",
        "GET /crm/v8/settings/custom_views 400",
        "GET /crm/v8/settings/custom_views/{id} 200",
        "GET /crm/v8/settings/modules/{api_name} 200",
        "POST /crm/v8/{module}/actions/change_owner 202",
        "POST /crm/v8/{module}/actions/change_owner 400",
        "POST /crm/v8/{module}/{id}/actions/change_owner 202",
    ] {
        assert!(
            report.checked.contains_key(op),
            "{op} not checked: {:?}",
            report.checked
        );
    }
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    s.shutdown().await;
}

/// `/_sim/dump` and `/_sim/load` carry the users' custom views unchanged; a loaded view
/// without an id gets one; a view naming no field of its module is refused.
#[tokio::test]
async fn custom_views_survive_dump_and_load() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let dump = json(http().get(format!("{z}/_sim/dump")).send().await.unwrap()).await;
    assert_eq!(
        dump["custom_views"]["Contacts"].as_array().unwrap().len(),
        2
    );
    assert_eq!(dump["custom_views"]["Tasks"][0]["shared_to"], json!([DEMO]));
    let t = token(z, "demo-refresh").await;
    let before = views(z, &t, "Contacts").await;

    control(z, "/_sim/reset", json!({})).await;
    assert_eq!(views(z, &t, "Contacts").await.len(), 4);
    let resp = control(z, "/_sim/load", dump.clone()).await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let again = json(http().get(format!("{z}/_sim/dump")).send().await.unwrap()).await;
    assert_eq!(again["custom_views"], dump["custom_views"]);
    assert_eq!(views(z, &t, "Contacts").await, before);

    let mut extra = dump.clone();
    extra["custom_views"]["Events"] = json!([{ "name": "Zoom calls", "criteria":
        {"field": {"api_name": "Venue"}, "comparator": "equal", "value": "Zoom"} }]);
    assert_eq!(
        control(z, "/_sim/load", extra).await.status(),
        StatusCode::NO_CONTENT
    );
    let zoom = view_id(z, &t, "Events", "Zoom calls").await;
    let events = list_all(
        z,
        &t,
        &format!("/Events?cvid={zoom}&fields=Venue&per_page=200"),
    )
    .await;
    let at_zoom = dump["modules"]["Events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["Venue"] == "Zoom")
        .count();
    assert!(at_zoom >= 10);
    assert_eq!(events.len(), at_zoom);
    let mut bad = dump;
    bad["custom_views"]["Events"] = json!([{ "name": "x", "criteria":
        {"field": {"api_name": "Nope"}, "comparator": "equal", "value": "Zoom"} }]);
    assert_eq!(
        control(z, "/_sim/load", bad).await.status(),
        StatusCode::BAD_REQUEST
    );
    s.shutdown().await;
}

/// The demo seed's third user: a sales manager in `/users` who never syncs, with contacts
/// sharing e-mails with demo's and user2's Notes contacts and names with others', to-dos and
/// meetings (private-looking ones among them); demo's and user2's records are as before.
#[tokio::test]
async fn seed_has_a_sales_manager_with_overlapping_records() {
    let s = sims(Seed::Demo).await;
    let z = &s.zoho_url;
    let t = token(z, "demo-refresh").await;
    let users = json(get(z, &t, "/users?type=ActiveUsers").await).await;
    let manager = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == MANAGER)
        .expect("manager");
    assert_eq!(manager["full_name"], "美穂 山口");
    assert_eq!(manager["role"]["name"], "Sales Manager");
    assert_eq!(manager["status"], "active");

    let dump = s.zoho().dump();
    let count = |m: &str, o: &str| owned(&dump, m, o).len();
    assert_eq!(
        (
            count("Contacts", DEMO),
            count("Contacts", USER2),
            count("Contacts", MANAGER)
        ),
        (150, 20, 20)
    );
    assert_eq!(
        (
            count("Tasks", DEMO),
            count("Tasks", USER2),
            count("Tasks", MANAGER)
        ),
        (19, 5, 6)
    );
    assert_eq!(
        (
            count("Events", DEMO),
            count("Events", USER2),
            count("Events", MANAGER)
        ),
        (20, 0, 6)
    );

    let domino = s.domino().dump();
    let notes_mail = |db: &str| -> BTreeSet<String> {
        domino["databases"][db]["documents"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["items"]["MailAddress"].as_str())
            .map(str::to_lowercase)
            .collect()
    };
    let contacts = dump["modules"]["Contacts"].as_array().unwrap();
    let hers: Vec<&Value> = contacts
        .iter()
        .filter(|c| c["Owner"]["id"] == MANAGER)
        .collect();
    let email = |c: &Value| c["Email"].as_str().unwrap_or_default().to_lowercase();
    assert_eq!(
        hers.iter()
            .filter(|c| notes_mail("mail/demo.nsf").contains(&email(c)))
            .count(),
        6
    );
    assert_eq!(
        hers.iter()
            .filter(|c| notes_mail("mail/user2.nsf").contains(&email(c)))
            .count(),
        2
    );
    let others_emails: BTreeSet<String> = contacts
        .iter()
        .filter(|c| c["Owner"]["id"] != MANAGER)
        .map(email)
        .collect();
    assert_eq!(
        hers.iter()
            .filter(|c| others_emails.contains(&email(c)))
            .count(),
        3
    );
    let name = |c: &Value| (c["First_Name"].clone(), c["Last_Name"].clone());
    let namesakes = hers.iter().filter(|h| {
        contacts
            .iter()
            .any(|c| c["Owner"]["id"] != MANAGER && name(c) == name(h) && email(c) != email(h))
    });
    assert!(namesakes.count() >= 3);

    let titles = |m: &str, key: &str| -> Vec<String> {
        dump["modules"][m]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["Owner"]["id"] == MANAGER)
            .map(|r| r[key].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(titles("Tasks", "Subject").contains(&"Dentist appointment".to_owned()));
    assert!(titles("Events", "Event_Title").contains(&"Dentist appointment".to_owned()));
    let weekly = dump["modules"]["Events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["Event_Title"] == "Sales team weekly")
        .unwrap();
    let invited: BTreeSet<&str> = weekly["Participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["participant"].as_str().unwrap())
        .collect();
    assert_eq!(invited, BTreeSet::from([DEMO, USER2]));
    s.shutdown().await;
}
