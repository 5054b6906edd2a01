//! HCL Domino REST API (DRAPI, ex "Project KEEP"): the second face of the simulated Domino
//! server, faithful to `reference/domino-rest-api.md` and HCL's OpenAPI specs (basis 1.3.7,
//! PIM 1.0.2, setup 1.1.4, vendored in `specs/domino-rest-api/`).
//!
//! It serves the same state as the DAS simulator ([`crate::domino`]): the same users and
//! passwords, mail files, documents (UNIDs, items, modified times) and calendar entries, so a
//! document written through DAS reads through DRAPI and back. Its own port has its own call
//! log, faults, latency and spec report; the clock, the data, dumps, loads and resets are the
//! server's and shared.
//!
//! Files, one concern each: `auth.rs` (JWT login, logout, bearer), `schema.rs` and
//! `config.rs` (schemas, scopes, settings), `access.rs` (`dataSource` → database, ACL, forms
//! and modes), `values.rs` and `render.rs` (items and documents as JSON), `documents.rs`,
//! `lists.rs`, `dql.rs` and `query.rs`, `bulk.rs`, `scopes.rs` (`/scope`, `/scopes`,
//! `/userinfo`), `pim/` (calendar in JSCalendar form), `setup.rs` (setup API), `control.rs`
//! (`/_sim/`), `errors.rs` (both error shapes).
//!
//! ## Choices (where the reference says \[inferred\] or nothing)
//!
//! Server and authentication:
//! - `POST /api/v1/auth` takes the DAS users' names (short name, `name@example.com` or
//!   `CN=name/O=SimOrg`) and passwords. The token is a JWT whose signature the server checks by
//!   memory (see `auth.rs`); it lives `jwt_lifetime_secs` (default 7200) and the server allows
//!   `leeway` (5 s) past `exp`. There is no refresh. A missing token gets 401 "No JWT bearer
//!   token provided", an unknown one "Invalid JWT token", an expired or logged-out one "JWT
//!   token expired", all in the basis error shape, also on PIM paths (the JWT check runs before
//!   either API; PIM's spec gives its 401 no body). A wrong password gets 401 (or
//!   `login_failure_status`, e.g. 500) "Invalid credentials or account locked".
//!   `POST /_sim/config {"expire_tokens":true}` is a restart: every token stops working.
//! - The server's local time is UTC+01:00: `created`, `lastmodified`, `issueDate` carry that
//!   offset, `lastmodifiedinfile` and JSCalendar times use `Z`. Domino keeps whole seconds here,
//!   so the hundredths are always `.00`.
//! - `etag` is `W/" %08x"` of the Unix seconds of the last change; `revision` is 8 hex digits
//!   of the Notes sequence number (1 when created, +1 per save through either API) and 16 of
//!   the time: a new one on every save, even within a second.
//!
//! Scopes and schemas:
//! - Every user's mail file comes with the schema `nzsync` and the scope `mail{name}`
//!   (`maildemo`, `mailuser2`): forms `Person` and `Task` with the items of DESIGN.md §4.4,
//!   `OrgConfidential`, `Categories` (multi-value) and `ZohoCRMId`, modes `default` and `dql`,
//!   deletion allowed, `dqlAccess` on, lists `($Contacts)` and `($ToDo)`,
//!   `requireRevisionToUpdate` off. `POST /_sim/config` removes or limits them (below), as does
//!   the setup API.
//! - Check order of a data call: bearer (401), `dataSource` given (400), scope exists and is
//!   active (404 errorId 1112), JWT scopes include `$DATA` or the scope's name (403), schema
//!   exists (404 errorId 1037), NSF exists (404), the caller may open it (403: a mail file is
//!   its owner's alone; effective access is the lower of the ACL, Manager for the owner, and
//!   the scope's `maximumAccessLevel`).
//! - A document whose form the schema lacks, or a mode the form lacks: 403 "No form and mode
//!   configuration found for Form/mode". Items outside the mode are neither returned nor
//!   written: a write drops them and names them in `@warnings` ("Field X is not in mode Y");
//!   the answer's `@warnings` also lists each configured field the document has no value for
//!   ("No values found for item X", HCL's fixture). `Form` shows the last alias of the form's
//!   configuration, or its name. Formulas other than `@False` count as true.
//! - A mode's `required` fields must have a value after a create or update (400 "Required field
//!   X is missing").
//!
//! Documents (`/document`):
//! - An unknown or deleted UNID: 404 "Document not found: X"; a malformed one: 400 "Invalid
//!   UNID: X".
//! - Values: strings to `date-time`/`date` fields become dates (RFC 3339 with any fraction,
//!   `Z` or offset; a local time is UTC); an unparsable one is 400. Booleans become 1/0;
//!   `{type,encoding,content}` becomes rich text (text types only; others 400). `null` in a
//!   PATCH removes the item. Dates read back as `…Z`, dates only as `yyyy-mm-dd`.
//! - Rich text is read as `richTextAs` says (default html on `/document` and `/query`, mime on
//!   `/lists` and `/bulk`, as the spec's parameter texts say); markdown is given as plain text.
//! - PUT replaces the mode's writable fields: those it does not send are removed.
//! - `requireRevisionToUpdate`: PATCH and PUT without `revision` or with another than the
//!   document's current one are refused with `revision_conflict_status` (default 409,
//!   undocumented) "The revision is required to update this document" / "The document was
//!   changed since revision R (current: C)". Without the setting `revision` is ignored.
//! - DELETE answers `{"statusText":"OK","status":200,"message":"Document X deleted","unid":X}`
//!   (HCL's fixture; the spec's `StatusMessage` differs, see the errata).
//!
//! Lists (`/lists/{name}`): only the schema's lists (else 404 "The list {name} is not
//! configured for this database"), matched by name or alias. Entries carry `@unid`, `@noteid`
//! (number), `@index` (1-based position, as text), `@etag`, then the columns by programmatic
//! name in alphabetical order. `documents=true` gives flat-meta documents (default mode),
//! skipping entries whose form the schema lacks. `count` defaults to 1000, `-1` is all,
//! other negatives are 400; `start` is 0-based. There is no total and no `Content-Range`;
//! arrays are streamed (chunked).
//!
//! Query (`/query?action=execute`): see `dql.rs` for the DQL understood and its errors.
//! Results are in the order documents were added, in mode `dql` (or the body's `mode`);
//! documents whose form has no such mode are left out. `dqlAccess` off → 403 "DQL access is
//! not allowed for this database". `action` is required (400); `action=explain|parse` → 501.
//! `count` defaults to all; `start`/`count` page the results. `maxScanDocs` (default 500,000)
//! is enforced: a query that would scan more documents is 400.
//!
//! Bulk: `/bulk/unid` answers in the order asked, with `{"statusText","status":404,"message",
//! "unid"}` in place of an unknown UNID (400 for a malformed one, 403 for a form the schema
//! lacks); `/bulk/create` answers per document by position
//! (a refused one: `{"status":400|403,"statusText","message"}`); `/bulk/delete` per UNID
//! (`status` 404 or 403 for failures); `/bulk/etag` answers `{"UNID":{"exists":true,
//! "etag":"W/\" …\""}}` and `{"exists":false}` for a deleted or unknown document (the spec's
//! schema example, not its response example: the only form that can tell a deletion).
//!
//! PIM calendar: see `pim/mod.rs`.
//!
//! `/bulk/update` applies `replaceItems` to every DQL match through the body's `mode` (default
//! `default`), answering flat metadata (the whole document with `returnUpdatedDocument`).
//!
//! Setup: see `setup.rs`. `POST /_sim/config` on this port takes, any subset:
//! ```json
//! {"jwt_lifetime_secs":7200,"expire_tokens":true,"login_failure_status":401,"pim":true,
//!  "setup":true,"revision_conflict_status":409,"recurring":"instances",
//!  "scopes":{"maildemo":null,"mailuser2":{"isActive":false}},
//!  "schemas":{"maildemo":{"dqlAccess":false,"requireRevisionToUpdate":true,
//!     "remove_forms":["Task"],"remove_modes":{"Person":["dql"]},
//!     "remove_fields":{"Person":["ZohoCRMId"]},"add_fields":{"Person":[{"name":"X","type":"string"}]}}}}
//! ```
//! (`scopes`: `null` removes, an object merges; `schemas` is keyed by scope name and edits the
//! schema that scope names.)
//!
//! ## Errata (HCL's specs against the server)
//! The spec check applies these (`spec::ERRATA`): `DocumentMeta` requires `Form`, but no
//! example's `@meta` has it; `StatusMessage` requires text `status` and `statusCode`, but the
//! server's delete, bulk-delete and logout answers (the spec's own examples and HCL's fixtures)
//! carry `statusText` and a numeric `status`.
//!
//! ## Not yet
//! OData, `/raw`, attachments, agents, formulas, `/bulk/folder`, `/listspivot`, view keys
//! (`key`, `startKey`, `category`, `column` sorting), full-text search, external field names,
//! field groups, `computeWithForm`, validation rules, PIM mail, `/pimitem`, `/search`,
//! `calendarresponse`, the 302 for a scope or mailbox on another server, other
//! calendars than `default`, `mailboxid` delegation, quick config (`/admin/quickconfig`),
//! `/info`, `/openapi`, the admin UI, OAuth, back-pressure (`concurrentRequestMaxCount`) and the
//! 503 of `tell restapi refresh` (a `status` fault gives both).

mod access;
mod auth;
mod bulk;
pub(crate) mod config;
mod control;
mod documents;
mod dql;
mod errors;
mod lists;
mod pim;
mod query;
mod render;
mod schema;
mod scopes;
mod setup;
pub(crate) mod state;
mod values;

use axum::Router;
use axum::body::{Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use crate::common::{
    SimCore, SimHost, control_routes, lock, percent_decode, query_pairs, sim_middleware,
};
use crate::domino::DominoState;
use crate::spec::Service;
use config::DrapiConfig;
use errors::{Answer, Api, ApiError};
use state::Shared;

/// Largest request body read (the real server's `bodyHandler.bodyLimit` has no stated default).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// The Domino REST API's view of a Domino server. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct DrapiState {
    domino: DominoState,
}

impl DrapiState {
    fn shared(&self) -> &Shared {
        self.domino.drapi()
    }

    fn config(&self) -> std::sync::MutexGuard<'_, DrapiConfig> {
        lock(&self.shared().config)
    }

    /// The server's clock (shared with DAS).
    fn now(&self) -> DateTime<Utc> {
        self.domino.clock().now()
    }
}

/// One request, parsed.
pub(crate) struct Req<'a> {
    pub method: Method,
    /// Path segments after the API's base (`/api/v1`, …), percent-decoded.
    pub segs: Vec<String>,
    pub query: Vec<(String, String)>,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
}

impl Req<'_> {
    /// A query parameter (names are case-sensitive).
    pub(crate) fn q(&self, name: &str) -> Option<&str> {
        crate::common::param(&self.query, name)
    }

    /// A boolean parameter; anything but `true`/`false` is 400.
    pub(crate) fn flag(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.q(name).map(str::to_ascii_lowercase).as_deref() {
            None | Some("") => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ApiError::bad_request(format!(
                "Invalid value for parameter {name}: {other}"
            ))),
        }
    }

    /// An integer parameter (a Java `int`); anything else is 400.
    pub(crate) fn int(&self, name: &str) -> Result<Option<i32>, ApiError> {
        match self.q(name) {
            None | Some("") => Ok(None),
            Some(v) => v.trim().parse::<i32>().map(Some).map_err(|_| {
                ApiError::bad_request(format!("Invalid value for parameter {name}: {v}"))
            }),
        }
    }

    fn segs(&self) -> Vec<&str> {
        self.segs.iter().map(String::as_str).collect()
    }
}

fn not_found(method: &Method, path: &str) -> ApiError {
    ApiError::not_found(format!("No such endpoint: {method} {path}"))
}

fn method_not_allowed(method: &Method, path: &str) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method {method} is not allowed on {path}"),
    )
}

impl DrapiState {
    fn handle(&self, method: Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Response {
        let path = uri.path();
        let all: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let (api, rest) = match all.as_slice() {
            [a, v, rest @ ..] if a == "api" && v == "v1" => ("v1", rest.to_vec()),
            [a, v, rest @ ..] if a == "api" && v == "pim-v1" => ("pim", rest.to_vec()),
            [a, v, rest @ ..] if a == "api" && v == "setup-v1" => ("setup", rest.to_vec()),
            _ => return not_found(&method, path).render(Api::Basis),
        };
        let req = Req {
            method,
            segs: rest,
            query: query_pairs(uri.query()),
            headers,
            body,
        };
        let (answer, shape) = match api {
            "v1" => (self.basis(&req, path), Api::Basis),
            "pim" => (pim::route(self, &req, path), Api::Pim),
            _ => (setup::route(self, &req, path), Api::Basis),
        };
        match answer {
            Ok(r) => r,
            // The JWT check answers in the basis shape on every API.
            Err(e) if e.status == StatusCode::UNAUTHORIZED => e.render(Api::Basis),
            Err(e) => e.render(shape),
        }
    }

    fn basis(&self, req: &Req<'_>, path: &str) -> Answer {
        let m = &req.method;
        let segs = req.segs();
        match (segs.as_slice(), m) {
            (["auth"], &Method::POST) => auth::login(self, req),
            (["auth", "logout"], &Method::POST | &Method::GET) => auth::logout(self, req),
            (["auth"] | ["auth", "logout"], _) => Err(method_not_allowed(m, path)),
            (["scopes"], &Method::GET) => scopes::list(self, req),
            (["scope"], &Method::GET) => scopes::one(self, req),
            (["scope", "access"], &Method::GET) => scopes::access(self, req),
            (["userinfo"], &Method::GET) => scopes::userinfo(self, req),
            (["lists", name], &Method::GET) => lists::entries(self, req, name),
            (["query"], &Method::POST) => query::run(self, req),
            (["document"], &Method::POST) => documents::create(self, req),
            (["document", unid], &Method::GET) => documents::get(self, req, unid),
            (["document", unid], &Method::PATCH) => documents::update(self, req, unid, false),
            (["document", unid], &Method::PUT) => documents::update(self, req, unid, true),
            (["document", unid], &Method::DELETE) => documents::delete(self, req, unid),
            (["bulk", "unid"], &Method::POST) => bulk::by_unid(self, req),
            (["bulk", "create"], &Method::POST) => bulk::create(self, req),
            (["bulk", "delete"], &Method::POST) => bulk::delete(self, req),
            (["bulk", "etag"], &Method::POST) => bulk::etags(self, req),
            (["bulk", "update"], &Method::PATCH) => bulk::update(self, req),
            (
                ["scopes" | "scope" | "userinfo" | "query" | "document"]
                | ["scope", "access"]
                | ["lists" | "document", _]
                | ["bulk", "unid" | "create" | "delete" | "etag" | "update"],
                _,
            ) => Err(method_not_allowed(m, path)),
            _ => Err(not_found(m, path)),
        }
    }
}

impl SimHost for DrapiState {
    const SERVICE: Service = Service::Drapi;

    fn core(&self) -> &SimCore {
        &self.shared().core
    }

    fn clock(&self) -> &SimCore {
        self.domino.clock()
    }

    fn fault_response(&self, status: StatusCode, path: &str) -> Response {
        let e = ApiError::new(
            status,
            status.canonical_reason().unwrap_or("Error").to_owned(),
        );
        e.render(if path.starts_with("/api/pim-v1") {
            Api::Pim
        } else {
            Api::Basis
        })
    }

    fn expire_token(&self, headers: &HeaderMap) {
        auth::expire(self, headers);
    }
}

async fn dispatch(State(state): State<DrapiState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY).await else {
        return ApiError::bad_request("The request body could not be read").render(Api::Basis);
    };
    state.handle(parts.method, &parts.uri, &parts.headers, &body)
}

/// The Domino REST API's router over a Domino server's state: `/api/v1`, `/api/pim-v1`,
/// `/api/setup-v1`, and its own `/_sim/` control routes.
pub fn drapi_router(domino: DominoState) -> Router {
    let state = DrapiState { domino };
    Router::new()
        .route("/_sim/dump", get(control::get_dump))
        .route("/_sim/load", post(control::post_load))
        .route("/_sim/reset", post(control::post_reset))
        .route(
            "/_sim/config",
            get(control::get_config).post(control::post_config),
        )
        .merge(control_routes::<DrapiState>())
        .fallback(dispatch)
        .layer(from_fn_with_state(
            state.clone(),
            sim_middleware::<DrapiState>,
        ))
        .with_state(state)
}
