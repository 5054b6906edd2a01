//! HCL Domino with Domino Access Services (DAS): the data service (databases, views,
//! documents), Basic and session authentication, and the three DAS switches
//! (server services, database `$AllowRESTDbAPI`, view flag).
//!
//! Paths have a variable depth (`/mail/demo.nsf/api/data/...`), so everything that is not a
//! control route goes through one fallback handler that parses the path itself. The calendar
//! service (`/{db}/api/calendar/...`) is in `calendar.rs` (times and RRULEs in `caltime.rs`).
//!
//! Dump shape (`/_sim/dump`, accepted by `/_sim/load`; item values as DAS JSON with
//! `strongtype=true`, plus `{"type":"names"}` for names items):
//! ```json
//! {"enabled_services":["Data","Calendar"],"anonymous_login_form":false,
//!  "databases":{"mail/demo.nsf":{"title":"Mail - demo","owner":"demo","allow_rest":2,
//!    "views":{"($Contacts)":{"das":true},"($ToDo)":{"das":true},"($Inbox)":{"das":true}},
//!    "documents":[{"unid":"…32 hex…","noteid":"8FA","form":"Person","created":"2026-11-25T08:36:00Z",
//!                  "modified":"2026-11-25T08:36:00Z","authors":["CN=demo/O=SimOrg"],
//!                  "items":{"FirstName":"Jane","Categories":["A","B"],
//!                           "DueDateTime":{"data":"2026-12-01","type":"datetime"},
//!                           "Body":{"type":"multipart","content":[…]}}}]},
//!   "names.nsf":{…}}}
//! ```
//! Mail files with calendar entries add (and a load accepts) `events` and `notices`:
//! ```json
//! "events":[{"uid":"…-Lotus_Notes_Generated","unid":"<backing Appointment doc>","sequence":0,
//!            "last_modified":"20261125T083600Z","timezones":[{"tzid":"Eastern",…}],
//!            "event":{"summary":"…","start":{"date":"2026-11-25","time":"09:00:00","tzid":"Eastern"},
//!                     "end":{…},"recurrenceRule":"FREQ=WEEKLY;COUNT=4","class":"public",…},
//!            "overrides":{"20261202T140000Z":{…instance VEVENT…}},"excepted":["20261209T140000Z"]}],
//! "notices":[{"id":"<backing Notice doc UNID>","uid":"…","method":"request",
//!             "received":"20261125T083600Z","timezones":[…],"event":{…}}]
//! ```
//! An event or notice whose backing document is missing from `documents` gets one.
//!
//! The dump also carries the Domino REST API's settings, scopes and schemas under `"drapi"`
//! (`{"settings":{…},"scopes":[RestMapping…],"schemas":[KeepDatabase…]}`, see
//! [`crate::drapi`]); a load without it gets the seeded ones.
//!
//! A load starts from the empty server (the users' empty mail files and the directory), then
//! applies the dump: flags it gives, and the documents of each database it names.

mod auth;
pub(crate) mod calendar;
pub(crate) mod caltime;
pub(crate) mod control;
mod data;
pub(crate) mod model;
mod order;
mod seed;
mod store;
mod view_index;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::Seed;
use crate::common::{
    CallRecord, FaultRule, SimCore, SimHost, control_routes, json_body, lock, percent_decode,
    query_pairs, request_origin, sim_middleware,
};
use crate::spec::Service;
use model::{DominoServer, DominoUser};

/// Shared state of the Domino simulator. Cheap to clone.
#[derive(Clone)]
pub struct DominoState {
    inner: Arc<Inner>,
}

struct Inner {
    core: SimCore,
    users: Vec<DominoUser>,
    server: Mutex<DominoServer>,
    /// `DomAuthSessId` → user name.
    sessions: Mutex<HashMap<String, String>>,
    /// The Domino REST API's side of the same server (see [`crate::drapi`]).
    drapi: crate::drapi::state::Shared,
}

impl std::fmt::Debug for DominoState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DominoState")
            .field(
                "users",
                &self.inner.users.iter().map(|u| &u.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl DominoState {
    /// A server with these users (`(name, password)`; empty means `demo`/`demo`), each with the
    /// mail file `mail/{name}.nsf`, seeded as asked.
    pub fn new(users: Vec<(String, String)>, seed: Seed) -> DominoState {
        DominoState::new_at(users, seed, SimCore::default().now())
    }

    /// As [`DominoState::new`], with the seed's "now" given (both simulators share one, so
    /// relative dates in the sample data agree).
    pub(crate) fn new_at(
        users: Vec<(String, String)>,
        seed: Seed,
        now: chrono::DateTime<chrono::Utc>,
    ) -> DominoState {
        let users: Vec<DominoUser> = if users.is_empty() {
            vec![DominoUser {
                name: "demo".into(),
                password: "demo".into(),
            }]
        } else {
            users
                .into_iter()
                .map(|(name, password)| DominoUser { name, password })
                .collect()
        };
        let core = SimCore::default();
        let server = build_server(&users, seed, crate::common::whole_seconds(now));
        let drapi = crate::drapi::state::Shared::new(&mail_files(&users));
        DominoState {
            inner: Arc::new(Inner {
                core,
                users,
                server: Mutex::new(server),
                sessions: Mutex::new(HashMap::new()),
                drapi,
            }),
        }
    }

    /// Latency added before every non-`/_sim/` request.
    pub fn set_latency_ms(&self, ms: u64) {
        self.inner.core.set_latency_ms(ms);
    }

    /// Check every answer against the vendor spec from now on (with an empty report), or stop.
    pub fn set_spec_check(&self, enabled: bool) {
        self.inner.core.set_spec_check(enabled);
    }

    /// What the spec check found so far, or `None` while it is off.
    #[must_use]
    pub fn spec_report(&self) -> Option<crate::spec::SpecReport> {
        self.inner.core.spec_report()
    }

    /// The URL the server is reachable at (used when a request carries no `Host`).
    pub fn set_base_url(&self, url: &str) {
        self.inner.core.set_base_url(url);
    }

    /// Latency added before every non-`/_sim/` request on the Domino REST API's port.
    pub fn set_drapi_latency_ms(&self, ms: u64) {
        self.inner.drapi.core.set_latency_ms(ms);
    }

    /// Check every Domino REST API answer against HCL's specs from now on, or stop.
    pub fn set_drapi_spec_check(&self, enabled: bool) {
        self.inner.drapi.core.set_spec_check(enabled);
    }

    /// What the spec check found on the Domino REST API's port, or `None` while it is off.
    #[must_use]
    pub fn drapi_spec_report(&self) -> Option<crate::spec::SpecReport> {
        self.inner.drapi.core.spec_report()
    }

    /// The Domino REST API's URL (its JWT issuer).
    pub fn set_drapi_base_url(&self, url: &str) {
        self.inner.drapi.core.set_base_url(url);
    }

    /// Replace the Domino REST API port's fault injection rules.
    pub fn set_drapi_faults(&self, rules: Vec<FaultRule>) {
        self.inner.drapi.core.set_faults(rules, None);
    }

    /// The requests the Domino REST API's port answered so far, in order.
    pub fn drapi_calls(&self) -> Vec<CallRecord> {
        self.inner.drapi.core.calls()
    }

    /// Replace the fault injection rules.
    pub fn set_faults(&self, rules: Vec<FaultRule>) {
        self.inner.core.set_faults(rules, None);
    }

    /// The requests answered so far, in order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.inner.core.calls()
    }

    /// All data as JSON (the `/_sim/dump` shape), with the Domino REST API's scopes, schemas
    /// and settings under `"drapi"`.
    pub fn dump(&self) -> Value {
        let mut dump = control::dump(&lock(&self.inner.server));
        if let Value::Object(m) = &mut dump {
            m.insert("drapi".into(), lock(&self.inner.drapi.config).dump());
        }
        dump
    }

    /// Replace the data with a dump (the `/_sim/load` shape). The Domino REST API's
    /// configuration is the dump's `"drapi"`, or as seeded when it has none.
    pub fn load(&self, dump: &Value) -> Result<(), String> {
        let now = self.inner.core.now();
        let files = mail_files(&self.inner.users);
        let drapi = match dump.get("drapi") {
            Some(v) => crate::drapi::config::DrapiConfig::from_dump(v, &files)?,
            None => crate::drapi::config::DrapiConfig::seeded(&files),
        };
        let mut fresh = DominoServer::empty(&self.inner.users, now);
        control::load(&mut fresh, dump, now)?;
        *lock(&self.inner.server) = fresh;
        *lock(&self.inner.drapi.config) = drapi;
        Ok(())
    }

    /// Back to the users and their empty mail files (`Seed::Empty`) or to the sample data; the
    /// Domino REST API's configuration goes back to its seeded scopes and schemas.
    pub fn reset(&self, seed: Seed) {
        let server = build_server(&self.inner.users, seed, self.inner.core.now());
        *lock(&self.inner.server) = server;
        *lock(&self.inner.drapi.config) =
            crate::drapi::config::DrapiConfig::seeded(&mail_files(&self.inner.users));
    }

    /// The Domino REST API's side of this server.
    pub(crate) fn drapi(&self) -> &crate::drapi::state::Shared {
        &self.inner.drapi
    }

    /// The server's data, locked.
    pub(crate) fn server(&self) -> std::sync::MutexGuard<'_, DominoServer> {
        lock(&self.inner.server)
    }

    /// The server's control state, whose clock both APIs use.
    pub(crate) fn clock(&self) -> &SimCore {
        &self.inner.core
    }

    /// The user with this login name (short name, e-mail or canonical name) and password.
    pub(crate) fn user_with_password(&self, name: &str, password: &str) -> Option<String> {
        auth::find_user(self, name, password)
    }

    /// `(user name, mail file key)` of every user.
    pub(crate) fn user_mail_keys(&self) -> Vec<(String, String)> {
        self.inner
            .users
            .iter()
            .map(|u| (u.name.clone(), u.mail_path().to_lowercase()))
            .collect()
    }

    /// Run a DAS calendar-service request for `user` on the database `db_key`, as if it came
    /// in over HTTP (`rest`: the path after `api/calendar`); the Domino REST API's PIM
    /// calendar writes go through the same store this way.
    pub(crate) fn calendar_call(
        &self,
        user: &str,
        db_key: &str,
        method: Method,
        rest: &[String],
        query: Vec<(String, String)>,
        body: &Bytes,
    ) -> Response {
        let headers = HeaderMap::new();
        let mut segments = vec!["db".to_owned(), "api".to_owned(), "calendar".to_owned()];
        segments.extend(rest.iter().cloned());
        let req = DasRequest {
            method,
            raw_segments: segments.clone(),
            segments,
            query,
            headers: &headers,
            body,
        };
        let mut server = lock(&self.inner.server);
        if !server.databases.contains_key(db_key) {
            return das_error(StatusCode::NOT_FOUND, None);
        }
        calendar::handle(calendar::CalCtx {
            server: &mut server,
            db_key: db_key.to_owned(),
            user: user.to_owned(),
            req: &req,
            rest_start: 3,
            origin: String::new(),
            now: self.inner.core.now(),
            users: self.user_mail_keys(),
        })
    }

    fn handle(
        &self,
        method: Method,
        uri: &axum::http::Uri,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Response {
        let raw_path = uri.path();
        let raw_segments: Vec<String> = raw_path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let segments: Vec<String> = raw_segments.iter().map(|s| percent_decode(s)).collect();
        let query = query_pairs(uri.query());
        let flags: Vec<&str> = uri
            .query()
            .map(|q| q.split('&').collect())
            .unwrap_or_default();
        let has_flag = |name: &str| flags.iter().any(|f| f.eq_ignore_ascii_case(name));
        // `?Login` / `?Logout` work on any path (`/names.nsf?Login`, `/?Login`).
        if has_flag("Login") {
            return if method == Method::POST {
                auth::login(self, body, &query)
            } else {
                auth::anonymous_answer(true)
            };
        }
        if has_flag("Logout") {
            return auth::logout(self, headers, &query);
        }
        // DAS reads an optional parameter sent empty (`count=`) as one not sent.
        let query = query.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let method = effective_method(method, headers);
        let req = DasRequest {
            method,
            segments,
            raw_segments,
            query,
            headers,
            body,
        };
        self.route(&req)
    }

    fn route(&self, req: &DasRequest<'_>) -> Response {
        let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
        let credentials = auth::authenticate(self, req.headers);
        if credentials == auth::Credentials::Invalid {
            return auth::challenge();
        }
        let nsf = segs
            .iter()
            .position(|s| s.to_ascii_lowercase().ends_with(".nsf"));
        let Some(nsf) = nsf else {
            return self.route_server(req, &segs, &credentials);
        };
        let db_path = segs[..=nsf].join("/");
        let rest = &segs[nsf + 1..];
        match rest {
            [] => html_not_found(),
            ["api"] => das_error(StatusCode::NOT_FOUND, Some("Database context not allowed.")),
            ["api", service, ..] => {
                let service = service.to_ascii_lowercase();
                let server_flag = match service.as_str() {
                    "data" => "Data",
                    "calendar" => "Calendar",
                    _ => {
                        return das_error(StatusCode::NOT_FOUND, Some("Resource not found."));
                    }
                };
                let mut server = lock(&self.inner.server);
                if !server.service_enabled(server_flag) {
                    return das_error(StatusCode::FORBIDDEN, None);
                }
                let db_key = db_path.to_lowercase();
                let Some(db) = server.databases.get(&db_key) else {
                    return das_exception(
                        StatusCode::NOT_FOUND,
                        &format!("Unable to open database {db_path}"),
                    );
                };
                let auth::Credentials::User(user) = credentials else {
                    return auth::anonymous_answer(server.anonymous_login_form);
                };
                if db
                    .owner
                    .as_deref()
                    .is_some_and(|o| !o.eq_ignore_ascii_case(&user))
                {
                    return auth::not_authorized();
                }
                match server_flag {
                    "Data" => {
                        if db.allow_rest == 0 {
                            return das_error(
                                StatusCode::FORBIDDEN,
                                Some("The Domino data service is not enabled for this database."),
                            );
                        }
                        let now = self.inner.core.now();
                        let origin = request_origin(req.headers, &self.inner.core);
                        data::handle(data::DataCtx {
                            server: &mut server,
                            db_key,
                            user,
                            req,
                            rest_start: nsf + 3,
                            origin,
                            now,
                        })
                    }
                    _ => {
                        // The calendar service ignores `$AllowRESTDbAPI` (domino-api.md §2.1).
                        let now = self.inner.core.now();
                        let origin = request_origin(req.headers, &self.inner.core);
                        let users = self
                            .inner
                            .users
                            .iter()
                            .map(|u| (u.name.clone(), u.mail_path().to_lowercase()))
                            .collect();
                        calendar::handle(calendar::CalCtx {
                            server: &mut server,
                            db_key,
                            user,
                            req,
                            rest_start: nsf + 3,
                            origin,
                            now,
                            users,
                        })
                    }
                }
            }
            _ => html_not_found(),
        }
    }

    /// Paths without a database: `/api`, `/api/data`, `/api/calendar` …
    fn route_server(
        &self,
        req: &DasRequest<'_>,
        segs: &[&str],
        credentials: &auth::Credentials,
    ) -> Response {
        let server = lock(&self.inner.server);
        match segs {
            [] => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
                "<html><head><title>Domino</title></head><body><h1>HCL Domino (simulated)</h1></body></html>",
            )
                .into_response(),
            ["api"] => {
                if req.method != Method::GET {
                    return das_error(StatusCode::METHOD_NOT_ALLOWED, None);
                }
                let service = |name: &str, href: &str, enabled: bool| {
                    json!({ "name": name, "enabled": enabled, "version": "9.0.1", "href": href })
                };
                let body = json!({ "services": [
                    service("Core", "/api/core", true),
                    service("Data", "/api/data", server.service_enabled("Data")),
                    service("Calendar", "/api/calendar", server.service_enabled("Calendar")),
                ]});
                das_json(StatusCode::OK, &body, compact(&req.query))
            }
            ["api", "data"] => {
                if !server.service_enabled("Data") {
                    return das_error(StatusCode::FORBIDDEN, None);
                }
                let auth::Credentials::User(user) = credentials else {
                    return auth::anonymous_answer(server.anonymous_login_form);
                };
                if req.method != Method::GET {
                    return das_error(StatusCode::METHOD_NOT_ALLOWED, None);
                }
                let list: Vec<Value> = server
                    .databases
                    .values()
                    .filter(|db| db.owner.as_deref().is_none_or(|o| o.eq_ignore_ascii_case(user)))
                    .map(|db| {
                        json!({
                            "@title": db.title,
                            "@filepath": db.path,
                            "@replicaid": db.replica_id,
                            "@template": db.template,
                            "@href": format!("/{}/api/data/collections", db.path),
                        })
                    })
                    .collect();
                das_json(StatusCode::OK, &Value::Array(list), compact(&req.query))
            }
            ["api", "calendar", ..] => {
                if !server.service_enabled("Calendar") {
                    return das_error(StatusCode::FORBIDDEN, None);
                }
                das_error(StatusCode::NOT_FOUND, Some("No database context."))
            }
            ["api", "data", ..] | ["api", ..] => das_error(StatusCode::NOT_FOUND, Some("Resource not found.")),
            _ => html_not_found(),
        }
    }
}

/// `(user name, mail file path)` of each user.
fn mail_files(users: &[DominoUser]) -> Vec<(String, String)> {
    users
        .iter()
        .map(|u| (u.name.clone(), u.mail_path()))
        .collect()
}

fn build_server(
    users: &[DominoUser],
    seed: Seed,
    now: chrono::DateTime<chrono::Utc>,
) -> DominoServer {
    let mut server = DominoServer::empty(users, now);
    if seed == Seed::Demo {
        seed::populate(&mut server, users, now);
    }
    server
}

/// `POST` with `X-HTTP-Method-Override: PATCH|PUT|DELETE` is that method.
fn effective_method(method: Method, headers: &HeaderMap) -> Method {
    if method != Method::POST {
        return method;
    }
    headers
        .get("x-http-method-override")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Method::from_bytes(v.trim().to_ascii_uppercase().as_bytes()).ok())
        .unwrap_or(method)
}

/// One parsed DAS request.
pub(crate) struct DasRequest<'a> {
    pub method: Method,
    /// Path segments, percent-decoded.
    pub segments: Vec<String>,
    /// Path segments as sent.
    pub raw_segments: Vec<String>,
    /// Query parameters in order, without those sent empty (DAS treats them as absent).
    pub query: Vec<(String, String)>,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
}

pub(crate) fn compact(query: &[(String, String)]) -> bool {
    crate::common::param(query, "compact").is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// A DAS JSON body: pretty-printed unless `compact`.
pub(crate) fn das_json(status: StatusCode, value: &Value, compact: bool) -> Response {
    json_body(status, value, !compact, "application/json")
}

/// DAS message error: `{"code":403,"text":"Forbidden","message":"…"}`.
pub(crate) fn das_error(status: StatusCode, message: Option<&str>) -> Response {
    let mut body = json!({
        "code": status.as_u16(),
        "text": status.canonical_reason().unwrap_or(""),
    });
    if let (Some(m), Value::Object(map)) = (message, &mut body) {
        map.insert("message".into(), Value::String(m.to_owned()));
    }
    das_json(status, &body, false)
}

/// DAS exception error: message plus `"type":"text"` and a stack trace in `data`.
pub(crate) fn das_exception(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "code": status.as_u16(),
        "text": status.canonical_reason().unwrap_or(""),
        "message": message,
        "type": "text",
        "data": format!(
            "NotesException: {message}\n\tat lotus.domino.local.Database.NgetDocumentByUNID(Native Method)\n\tat lotus.domino.local.Database.getDocumentByUNID(Unknown Source)\n\tat com.ibm.domino.services.rest.das.document.DocumentResource.getDocument(DocumentResource.java:210)\n"
        ),
    });
    das_json(status, &body, false)
}

fn html_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
        "<html><head><title>Error</title></head><body><h1>Error 404</h1>HTTP Web Server: Item Not Found Exception</body></html>",
    )
        .into_response()
}

impl SimHost for DominoState {
    const SERVICE: Service = Service::Domino;

    fn core(&self) -> &SimCore {
        &self.inner.core
    }

    fn fault_response(&self, status: StatusCode, _path: &str) -> Response {
        let text = status.canonical_reason().unwrap_or("Error");
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
            format!(
                "<html><head><title>Error</title></head><body><h1>Error {}</h1>{text}</body></html>",
                status.as_u16()
            ),
        )
            .into_response()
    }
}

async fn dispatch(State(state): State<DominoState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, 64 * 1024 * 1024).await else {
        return das_error(
            StatusCode::BAD_REQUEST,
            Some("Error while parsing the JSON content"),
        );
    };
    let mut response = state.handle(parts.method, &parts.uri, &parts.headers, &body);
    response
        .headers_mut()
        .insert(header::SERVER, HeaderValue::from_static("Lotus-Domino"));
    response
}

/// The Domino simulator's router: DAS under `/api` and `/{db}.nsf/api/…`, login, and the
/// `/_sim/` control routes.
pub fn domino_router(state: DominoState) -> Router {
    Router::new()
        .route("/_sim/dump", get(control::get_dump))
        .route("/_sim/load", post(control::post_load))
        .route("/_sim/reset", post(control::post_reset))
        .route(
            "/_sim/config",
            get(control::get_config).post(control::post_config),
        )
        .merge(control_routes::<DominoState>())
        .fallback(dispatch)
        .layer(from_fn_with_state(
            state.clone(),
            sim_middleware::<DominoState>,
        ))
        .with_state(state)
}
