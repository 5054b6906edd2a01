//! Property test: random requests to the Domino REST API simulator (any method on its routes
//! and on made-up ones, malformed and huge query values, bad UNIDs and JWTs, random JSON, DQL
//! made of random tokens, random JSCalendar) always get a complete answer, never a panic and
//! never a 5xx other than 501 (not simulated). Under `oneshot` a panicking handler fails the
//! case; one that hangs fails it after ten seconds.

use std::sync::OnceLock;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use nzsync_sim::{DominoState, Seed, drapi_router};
use proptest::prelude::*;
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// The demo data with users demo and user2, shared by every case (writes stay for the next).
fn domino() -> &'static DominoState {
    static STATE: OnceLock<DominoState> = OnceLock::new();
    STATE.get_or_init(|| {
        DominoState::new(
            vec![
                ("demo".into(), "demo".into()),
                ("user2".into(), "pw2".into()),
            ],
            Seed::Demo,
        )
    })
}

/// A token of demo's with every scope.
fn token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let req = Request::post("/api/v1/auth")
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"username":"demo","password":"demo","scope":"MAIL $DATA $SETUP"})
                    .to_string(),
            ))
            .expect("request");
        let (_, body) = runtime().block_on(answer(req));
        let v: Value = serde_json::from_slice(&body).expect("login JSON");
        v["bearer"].as_str().expect("bearer").to_owned()
    })
}

async fn answer(req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let what = format!("{} {}", req.method(), req.uri());
    let resp = tokio::time::timeout(
        Duration::from_secs(10),
        drapi_router(domino().clone()).oneshot(req),
    )
    .await
    .unwrap_or_else(|_| panic!("no answer within 10 s to {what}"))
    .expect("infallible service");
    let status = resp.status();
    let body = to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap_or_else(|e| panic!("{what}: the body broke off: {e}"));
    (status, body.to_vec())
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        6 => prop::sample::select(vec![
            "-1", "0", "1", "1000", "-2", "2147483647", "2147483648", "-2147483649",
            "99999999999999999999", "true", "false", "TRUE", "maildemo", "mailuser2", "nosuch",
            "2031-01-01", "2031-13-45", "0000-01-01", "9999-12-31", "mime", "html", "plain",
            "markdown", "xml", "execute", "explain", "parse", "default", "dql", "nomode",
            "00000001004CACFB00258A04",
        ])
        .prop_map(str::to_owned),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => "\\PC{0,24}",
    ]
}

fn unid() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9A-F]{32}",
        "[0-9a-zA-Z]{0,40}",
        Just("%2E%2E".to_owned()),
        Just("(%24Contacts)".to_owned()),
        Just("%28%24Contacts%29".to_owned()),
        Just("Contacts".to_owned()),
        Just("ToDo".to_owned()),
    ]
}

/// A route as the server knows it: its method and path.
fn route() -> impl Strategy<Value = (&'static str, String)> {
    prop_oneof![
        (
            prop::sample::select(vec!["GET", "PATCH", "PUT", "DELETE"]),
            unid()
        )
            .prop_map(|(m, u)| (m, format!("/api/v1/document/{u}"))),
        Just(("POST", "/api/v1/document".to_owned())),
        unid().prop_map(|u| ("GET", format!("/api/v1/lists/{u}"))),
        Just(("POST", "/api/v1/query".to_owned())),
        prop::sample::select(vec!["unid", "create", "delete", "etag"])
            .prop_map(|b| ("POST", format!("/api/v1/bulk/{b}"))),
        Just(("PATCH", "/api/v1/bulk/update".to_owned())),
        prop::sample::select(vec![
            ("POST", "/api/v1/auth"),
            ("POST", "/api/v1/auth/logout"),
            ("GET", "/api/v1/scope"),
            ("GET", "/api/v1/scopes"),
            ("GET", "/api/v1/scope/access"),
            ("GET", "/api/v1/userinfo"),
            ("GET", "/api/pim-v1/info"),
            ("GET", "/api/pim-v1/calendar/default"),
            ("POST", "/api/pim-v1/calendar/default"),
            ("GET", "/api/pim-v1/calendar/other"),
            ("GET", "/api/setup-v1/schema"),
            ("POST", "/api/setup-v1/schema"),
            ("DELETE", "/api/setup-v1/schema"),
            ("GET", "/api/setup-v1/schemas"),
            ("GET", "/api/setup-v1/admin/scope"),
            ("POST", "/api/setup-v1/admin/scope"),
            ("DELETE", "/api/setup-v1/admin/scope"),
            ("GET", "/api/setup-v1/admin/scopes"),
        ])
        .prop_map(|(m, p)| (m, p.to_owned())),
        (
            prop::sample::select(vec!["GET", "PUT", "PATCH", "DELETE"]),
            unid()
        )
            .prop_map(|(m, u)| (m, format!("/api/pim-v1/calendar/default/{u}"))),
    ]
}

/// A route, or any method on any path.
fn request_line() -> impl Strategy<Value = (&'static str, String)> {
    prop_oneof![
        8 => route(),
        1 => (
            prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
            prop_oneof![route().prop_map(|(_, p)| p), "(/[a-z0-9%]{0,8}){0,5}"],
        ),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec![
        "dataSource",
        "count",
        "start",
        "documents",
        "richTextAs",
        "mode",
        "meta",
        "action",
        "revision",
        "startdate",
        "enddate",
        "send",
        "markRead",
        "nsfPath",
        "configName",
        "scopeName",
        "parentUnid",
        "mailboxid",
        "ical",
        "includeAll",
    ]);
    prop::collection::vec((names, value()), 0..3).prop_map(|pairs| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("dataSource", "maildemo");
        s.append_pair("action", "execute");
        for (k, v) in pairs {
            s.append_pair(k, &v);
        }
        s.finish()
    })
}

/// A DQL query made of random tokens.
fn dql() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "(",
        ")",
        "and",
        "or",
        "not",
        "@dt('2025-01-01T00:00:00.5+02:00')",
        "@dt('x')",
        "@ModifiedInThisFile",
        "@Created",
        "@DocumentUniqueID",
        "@All",
        "@Modified",
        ">",
        ">=",
        "<",
        "=",
        "'Person'",
        "'it''s'",
        "Form",
        "LastName",
        "in",
        "contains",
        "all",
        ",",
        "?v",
        "?missing",
        "42",
        "-1e999",
        "'view'.col",
        "'",
        "\"",
    ]);
    prop::collection::vec(tokens, 0..14).prop_map(|t| t.join(" "))
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        value().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "Form",
                    "LastName",
                    "Categories",
                    "DueDateTime",
                    "Body",
                    "unids",
                    "documents",
                    "query",
                    "forms",
                    "mode",
                    "variables",
                    "start",
                    "duration",
                    "timeZone",
                    "title",
                    "participants",
                    "recurrenceRules",
                    "recurrenceOverrides",
                    "showWithoutTime",
                    "add",
                    "remove",
                    "apiName",
                    "schemaName",
                    "nsfPath",
                    "username",
                    "password",
                    "logout",
                    "replaceItems",
                    "content",
                    "type",
                ])
                .prop_map(str::to_owned),
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A local date-time, mostly well-formed.
fn local_time() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T[01][0-9]:[0-5]0:00",
        1 => value(),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (value(), json_value(), local_time()).prop_map(|(name, extra, due)| {
            json!({"Form": "Person", "LastName": name, "Categories": ["a", extra],
                   "DueDateTime": due, "Body": {"type":"text/html","content":"<b>x</b>"}})
            .to_string()
            .into_bytes()
        }),
        (local_time(), prop::sample::select(vec!["Etc/UTC", "Asia/Tokyo", "Europe/Berlin",
            "Z=5$DO=1$DL=3 2 1 11 1 1$ZN=Eastern", "Nowhere/Land", ""]), any::<bool>(), "PT[0-9]{1,3}M")
            .prop_map(|(start, tz, all_day, duration)| {
                json!({"@type":"jsevent","title":"t","start":start,"timeZone":tz,"duration":duration,
                    "showWithoutTime":all_day,
                    "participants":{"a":{"email":"user2@example.com","roles":{"attendee":true}}},
                    "recurrenceRules":[{"frequency":"weekly","count":4}],
                    "recurrenceOverrides":{start.clone():{"title":"moved"}}})
                .to_string()
                .into_bytes()
            }),
        Just(Vec::new()),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        dql().prop_map(|q| json!({"query": q, "variables": {"v": "x"}}).to_string().into_bytes()),
        (value(), value(), any::<bool>()).prop_map(|(start, tz, all_day)| {
            json!({"@type":"jsevent","title":"t","start":start,"timeZone":tz,"duration":"PT1H",
                "showWithoutTime":all_day,
                "recurrenceRules":[{"frequency":"daily","count":3}],
                "recurrenceOverrides":{start.clone():{"excluded":true}}})
            .to_string()
            .into_bytes()
        }),
        prop::collection::vec("[0-9A-F]{0,33}", 0..5)
            .prop_map(|u| json!({"unids": u}).to_string().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..64),
    ]
}

fn auth() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        6 => Just(Some(String::new())),
        1 => Just(None),
        1 => "\\PC{0,40}".prop_map(Some),
        1 => "[A-Za-z0-9_-]{1,20}\\.[A-Za-z0-9_-]{1,40}\\.[A-Za-z0-9_-]{0,20}".prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn random_requests_never_panic_or_fail(
        (method, path) in request_line(),
        query in query(),
        body in body(),
        auth in auth(),
    ) {
        let uri = format!("{path}?{query}");
        let Ok(mut req) = Request::builder().method(method).uri(&uri).body(Body::from(body)) else {
            return Ok(());
        };
        let bearer = match auth {
            Some(t) if t.is_empty() => Some(format!("Bearer {}", token())),
            Some(t) => Some(format!("Bearer {t}")),
            None => None,
        };
        if let Some(b) = bearer
            && let Ok(v) = b.parse()
        {
            req.headers_mut().insert("authorization", v);
        }
        req.headers_mut().insert("content-type", axum::http::HeaderValue::from_static("application/json"));
        let (status, _) = runtime().block_on(answer(req));
        prop_assert!(
            !status.is_server_error() || status == StatusCode::NOT_IMPLEMENTED,
            "{method} {uri} → {status}"
        );
    }
}
