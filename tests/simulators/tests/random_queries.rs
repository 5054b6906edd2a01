//! Property tests: random query values (empty, huge, negative, malformed, any text) thrown at
//! the DAS calendar and view routes and at the Zoho paging routes always get an answer, and
//! never a 5xx. A handler that panics fails the case (under `oneshot` the panic reaches the
//! test); one that hangs fails it after ten seconds.

use std::sync::OnceLock;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use nzsync_sim::{DominoState, Seed, ZohoState, domino_router, zoho_router};
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt as _;

const CAL: &str = "/mail/demo.nsf/api/calendar";
const BASIC_DEMO: &str = "Basic ZGVtbzpkZW1v";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// The demo data, shared by every case (writes from one case stay for the next).
fn domino() -> &'static DominoState {
    static STATE: OnceLock<DominoState> = OnceLock::new();
    STATE.get_or_init(|| DominoState::new(Vec::new(), Seed::Demo))
}

fn zoho() -> &'static (ZohoState, String) {
    static STATE: OnceLock<(ZohoState, String)> = OnceLock::new();
    STATE.get_or_init(|| {
        let state = ZohoState::new(Seed::Demo);
        let req = Request::post(
            "/oauth/v2/token?grant_type=refresh_token&client_id=demo-client&client_secret=demo-secret&refresh_token=demo-refresh",
        )
        .body(Body::empty())
        .expect("request");
        let (_, body) = runtime().block_on(answer(zoho_router(state.clone()), req));
        let token: Value = serde_json::from_slice(&body).expect("token JSON");
        let token = token["access_token"].as_str().expect("access token");
        (state, format!("Zoho-oauthtoken {token}"))
    })
}

/// The answer's status and body, within ten seconds.
async fn answer(router: axum::Router, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let what = format!("{} {}", req.method(), req.uri());
    let resp = tokio::time::timeout(Duration::from_secs(10), router.oneshot(req))
        .await
        .unwrap_or_else(|_| panic!("no answer within 10 s to {what}"))
        .expect("infallible service");
    let status = resp.status();
    let body = to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap_or_else(|e| panic!("{what}: the body broke off: {e}"));
    (status, body.to_vec())
}

/// A value a client might send: empty, numbers at and past the ends of every integer type,
/// timestamps (well-formed or not, with years of any width), recurrence ranges, or any text.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => boundary(),
        1 => Just(String::new()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => (-400i64..400).prop_map(|n| n.to_string()),
        1 => "-?[0-9]{10,30}",
        1 => "[+-]?[0-9]{4,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z?",
        1 => "[+-]?[0-9]{4,6}[0-9]{4}(T[0-9]{6}Z)?",
        1 => prop::sample::select(vec!["all", "future", "previous", "ALL", "this", "0x7fffffff"])
            .prop_map(str::to_owned),
        1 => "\\PC{0,16}",
    ]
}

/// Numbers at the ends of the integer types and of the documented ranges.
fn boundary() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "0",
        "1",
        "2",
        "100",
        "101",
        "200",
        "201",
        "2000",
        "224147035",
        "-224147035",
        "2147483647",
        "-2147483648",
        "4294967295",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
    ])
    .prop_map(str::to_owned)
}

fn query(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(names), value()), 0..6).prop_map(|pairs| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            q.append_pair(name, &value);
        }
        q.finish()
    })
}

const CALENDAR_PARAMS: &[&str] = &[
    "since",
    "before",
    "sincenow",
    "days",
    "start",
    "count",
    "fields",
    "receivedsince",
    "recurrenceRange",
    "workflow",
    "id",
];

const VIEW_PARAMS: &[&str] = &[
    "start",
    "count",
    "ps",
    "page",
    "si",
    "search",
    "keys",
    "keysexactmatch",
    "sortcolumn",
    "sortorder",
    "systemcolumns",
    "entrycount",
    "parentid",
    "category",
    "expandlevel",
    "compact",
];

const ZOHO_PARAMS: &[&str] = &[
    "page",
    "per_page",
    "page_token",
    "sort_by",
    "sort_order",
    "ids",
    "cvid",
    "fields",
    "type",
    "word",
    "email",
];

fn das_request(method: &str, path: &str, range: Option<String>) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", BASIC_DEMO);
    if let Some(r) = range {
        req = req.header("range", r);
    }
    req.body(Body::empty()).expect("request")
}

fn assert_answered(status: StatusCode, body: &[u8], what: &str) {
    assert!(
        !status.is_server_error(),
        "{what} → {status}: {}",
        String::from_utf8_lossy(body)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The event list, invitations, and one instance of a series (GET and DELETE).
    #[test]
    fn calendar_routes_always_answer_below_500(
        q in query(CALENDAR_PARAMS),
        rid in prop_oneof![value(), "[0-9]{8}T[0-9]{6}Z"],
        route in 0usize..4,
    ) {
        let uid = runtime().block_on(async {
            // A recurring event of the demo calendar: its instances are rows with a
            // recurrenceId; without one (the first case deleted them all) any UID will do.
            let req = das_request("GET", &format!("{CAL}/events?sincenow=-400&days=800&count=100"), None);
            let (_, body) = answer(domino_router(domino().clone()), req).await;
            serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| {
                    v["events"].as_array()?.iter()
                        .find(|e| e.get("recurrenceId").is_some())
                        .and_then(|e| e["id"].as_str().map(str::to_owned))
                })
                .unwrap_or_else(|| "00000000000000000000000000000000-Lotus_Notes_Generated".into())
        });
        let rid: String = url::form_urlencoded::byte_serialize(rid.as_bytes()).collect();
        let (method, path) = match route {
            0 => ("GET", format!("{CAL}/events?{q}")),
            1 => ("GET", format!("{CAL}/invitations?{q}")),
            2 => ("GET", format!("{CAL}/events/{uid}/{rid}?{q}")),
            _ => ("DELETE", format!("{CAL}/events/{uid}/{rid}?{q}")),
        };
        let (status, body) = runtime().block_on(
            answer(domino_router(domino().clone()), das_request(method, &path, None)),
        );
        assert_answered(status, &body, &format!("{method} {path}"));
    }

    /// View entries by name and documents since, with paging parameters and `Range` headers.
    #[test]
    fn view_routes_always_answer_below_500(
        q in query(VIEW_PARAMS),
        view in prop::sample::select(vec!["%28%24Contacts%29", "Contacts", "%28%24ToDo%29", "People", "Nope"]),
        range in prop::option::of((value(), value()).prop_map(|(a, b)| format!("items={a}-{b}"))),
        first in prop::option::of(prop::sample::select(vec!["0", "1", "100"])),
    ) {
        let path = format!("/mail/demo.nsf/api/data/collections/name/{view}?{q}");
        // `items=<small>-<any>` reaches the count arithmetic more often than two random ends.
        let range = match (first, range) {
            (Some(a), Some(r)) => Some(format!("items={a}-{}", r.rsplit('-').next().unwrap_or(""))),
            (_, r) => r,
        };
        let (status, body) = runtime().block_on(
            answer(domino_router(domino().clone()), das_request("GET", &path, range.clone())),
        );
        assert_answered(status, &body, &format!("GET {path} (Range: {range:?})"));
        let path = format!("/mail/demo.nsf/api/data/documents?{q}");
        let (status, body) = runtime().block_on(
            answer(domino_router(domino().clone()), das_request("GET", &path, None)),
        );
        assert_answered(status, &body, &format!("GET {path}"));
    }

    /// Zoho listings, search and deleted records with random paging.
    #[test]
    fn zoho_paging_routes_always_answer_below_500(
        per_page in prop::option::of(1u32..=200),
        page in value(),
        q in query(ZOHO_PARAMS),
        route in prop::sample::select(vec![
            "/crm/v8/Contacts?fields=Last_Name&",
            "/crm/v2/Tasks?",
            "/crm/v8/Contacts/search?word=ab&",
            "/crm/v8/Events/deleted?",
            "/crm/v8/settings/custom_views?module=Contacts&",
            "/crm/v8/users?",
        ]),
    ) {
        let (state, token) = zoho();
        // A valid `per_page` with any `page`, then the other parameters (a later duplicate of
        // a name loses: the first value counts).
        let mut paging = url::form_urlencoded::Serializer::new(String::new());
        if let Some(n) = per_page {
            paging.append_pair("per_page", &n.to_string());
        }
        paging.append_pair("page", &page);
        let path = format!("{route}{}&{q}", paging.finish());
        let req = Request::get(path.as_str())
            .header("authorization", token.as_str())
            .body(Body::empty())
            .expect("request");
        let (status, body) = runtime().block_on(answer(zoho_router(state.clone()), req));
        assert_answered(status, &body, &format!("GET {path}"));
    }
}
