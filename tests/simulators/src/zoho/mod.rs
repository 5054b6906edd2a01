//! Zoho CRM REST (`/crm/v2` … `/crm/v8`) and the Zoho accounts token endpoint
//! (`/oauth/v2/token`) on one port.
//!
//! Modules: Contacts, Tasks, Accounts, Events (records, deleted records, tags on records,
//! upsert, search, tag actions, change owner (`owner.rs`), Events cancel), plus `/coql`,
//! `/settings/fields`, `/settings/modules`, `/settings/profiles` (`profiles.rs`),
//! `/settings/custom_views` (`views.rs`, criteria in
//! `criteria.rs`; `cvid` listings in `records.rs`), `/users` and `/org`, with API credits and
//! concurrency limits (`limits.rs`). Paths the simulator does not implement yet (other `actions`, other
//! `/settings/…`) answer 501 `NOT_SUPPORTED`.
//!
//! Dump shape (`/_sim/dump`, accepted by `/_sim/load`):
//! ```json
//! {"modules":{"Contacts":[{"Owner":{"name":"Demo User","id":"…","email":"demo@example.com"},
//!                          "First_Name":"Jane",…,"Created_Time":"2026-11-25T08:36:00+00:00",
//!                          "Tag":[{"name":"Private","id":"…"}],"id":"5725767000000412001"}],
//!             "Tasks":[…],"Accounts":[…],
//!             "Events":[{"Event_Title":"…","Start_DateTime":"…","End_DateTime":"…","All_day":false,
//!                        "Participants":[{"name","Email","invited","type","participant","status","id"}],
//!                        "Remind_At":[{"unit":15,"period":"minutes"}],"$event_cancelled":false,…}]},
//!  "deleted":{"Contacts":[{"id":"…","display_name":"Jane Doe","type":"recycle",
//!             "deleted_time":"2026-11-25T08:36:00Z","deleted_by":"<user id>","created_by":"<user id>"}]},
//!  "fields":{"Contacts":[{"api_name":"Notes_UNID","field_label":"Notes UNID","data_type":"text",
//!            "length":255,"unique":false,"external":{"type":"org","show":true},"id":"…",…}]},
//!  "tags":{"Contacts":[{"id":"…","name":"Private","created":"…Z","created_by":"<user id>"}]},
//!  "custom_views":{"Contacts":[{"id":"…","name":"東京の顧客","access_type":"public",
//!                   "shared_to":["<user id>"],"created_by":"<user id>","created_time":"…+00:00",
//!                   "modified_time":"…+00:00","criteria":{<custom_views.json Criteria>}|null,
//!                   "sort_by":"Created_Time","sort_order":"desc","fields":["Full_Name",…]}]}}
//! ```
//! `custom_views` holds only the views users made (system views are fixed); on load, `id`
//! may be left out (a new one is given), `created_by` may be an e-mail, and criteria may leave
//! out the keys the spec's shape fills with null.
//! Records are rendered with every field, timestamps in UTC.
//!
//! Lookups (`Account_Name`, `Who_Id`, …) are written as `{"id": …}` and read as
//! `{"name": …, "id": …}` (zoho-crm-api.md §3.2); a lookup without an id, or naming a record
//! that does not exist, is `INVALID_DATA` (`expected_data_type: jsonobject`). Nothing is
//! created from a lookup's name: a client creates the Account first.

mod control;
mod criteria;
mod events;
mod extras;
mod limits;
mod model;
mod modules_api;
mod oauth;
mod owner;
mod profiles;
mod records;
mod seed;
mod seed_manager;
mod settings;
mod store;
mod views;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::Seed;
use crate::common::{
    CallRecord, FaultRule, SimCore, SimHost, control_routes, json_body, lock, percent_decode,
    query_pairs, sim_middleware,
};
use crate::spec::Service;
use model::ZohoData;

/// Shared state of the Zoho CRM simulator. Cheap to clone.
#[derive(Clone)]
pub struct ZohoState {
    inner: Arc<Inner>,
}

struct Inner {
    core: SimCore,
    data: Mutex<ZohoData>,
    grants: Mutex<oauth::Grants>,
    limits: limits::Limits,
}

impl std::fmt::Debug for ZohoState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZohoState").finish_non_exhaustive()
    }
}

/// Default access token lifetime, seconds.
pub const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 3600;

impl ZohoState {
    /// An org with users `demo` (admin, Asia/Tokyo) and `user2` (America/New_York), client
    /// `demo-client`/`demo-secret`, refresh tokens `demo-refresh` and `user2-refresh`.
    pub fn new(seed: Seed) -> ZohoState {
        ZohoState::new_at(seed, SimCore::default().now())
    }

    /// As [`ZohoState::new`], with the seed's "now" given.
    pub(crate) fn new_at(seed: Seed, now: chrono::DateTime<chrono::Utc>) -> ZohoState {
        let core = SimCore::default();
        let data = seed::build(seed, crate::common::whole_seconds(now));
        ZohoState {
            inner: Arc::new(Inner {
                core,
                data: Mutex::new(data),
                grants: Mutex::default(),
                limits: limits::Limits::default(),
            }),
        }
    }

    /// Same state with another access token lifetime.
    #[must_use]
    pub fn with_token_lifetime(self, secs: u64) -> ZohoState {
        self.set_token_lifetime_secs(secs);
        self
    }

    /// Lifetime of access tokens issued from now on.
    pub fn set_token_lifetime_secs(&self, secs: u64) {
        lock(&self.inner.data).token_lifetime_secs = i64::try_from(secs).unwrap_or(i64::MAX);
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

    /// The URL the server is reachable at (`api_domain` when a request carries no `Host`).
    pub fn set_base_url(&self, url: &str) {
        self.inner.core.set_base_url(url);
    }

    /// Replace the fault injection rules.
    pub fn set_faults(&self, rules: Vec<FaultRule>) {
        self.inner.core.set_faults(rules, None);
    }

    /// The requests answered so far, in order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.inner.core.calls()
    }

    /// Invalidate every access token issued so far.
    pub fn expire_all_tokens(&self) {
        lock(&self.inner.data).access_tokens.clear();
    }

    /// All data as JSON (the `/_sim/dump` shape).
    pub fn dump(&self) -> Value {
        control::dump(&lock(&self.inner.data))
    }

    /// Replace the records, deleted records, fields and tags with a dump.
    pub fn load(&self, dump: &Value) -> Result<(), String> {
        let now = self.inner.core.now();
        let mut data = lock(&self.inner.data);
        let mut fresh = seed::build(Seed::Empty, now);
        control::keep_tokens(&mut fresh, &data);
        control::load(&mut fresh, dump, now)?;
        *data = fresh;
        Ok(())
    }

    /// Adds an active CRM user of the org (Standard profile, Asia/Tokyo) who has granted the
    /// client access: `refresh_token` (every scope) is theirs. Returns the new user's id. For
    /// tests with many users (a fleet of servers, each user syncing their own records). The
    /// e-mail need not be unique: a person in several orgs is a user of each, with one e-mail.
    /// Added users, with their refresh tokens, survive [`ZohoState::reset`] and
    /// [`ZohoState::load`].
    ///
    /// # Errors
    /// When `refresh_token` is another user's already.
    pub fn add_user(
        &self,
        first_name: &str,
        last_name: &str,
        email: &str,
        refresh_token: &str,
    ) -> Result<String, String> {
        let mut data = lock(&self.inner.data);
        if data.refresh_tokens.iter().any(|(t, _)| t == refresh_token) {
            return Err(format!("the refresh token {refresh_token:?} is taken"));
        }
        let n = u64::try_from(data.users.len()).unwrap_or(u64::MAX);
        let id = (model::FIRST_ADDED_USER_ID + n).to_string();
        let created = self.inner.core.now();
        data.users.push(model::User {
            id: id.clone(),
            zuid: (60_020_000 + n).to_string(),
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
            email: email.to_owned(),
            time_zone: chrono_tz::Asia::Tokyo,
            admin: false,
            role: ("Manager", "5725767000000026008"),
            profile: profiles::STANDARD,
            created,
        });
        data.refresh_tokens
            .push((refresh_token.to_owned(), id.clone()));
        Ok(id)
    }

    /// Add a custom view a user made (the `custom_views` dump shape plus `"module"`); its id.
    pub fn add_custom_view(&self, view: &Value) -> Result<String, String> {
        let now = self.inner.core.now();
        control::add_view(&mut lock(&self.inner.data), view, now)
    }

    /// Back to users/org/config only (`Seed::Empty`) or to the sample data. Issued access
    /// tokens stay valid.
    pub fn reset(&self, seed: Seed) {
        let now = self.inner.core.now();
        let mut data = lock(&self.inner.data);
        let mut fresh = seed::build(seed, now);
        control::keep_tokens(&mut fresh, &data);
        *data = fresh;
    }

    fn origin(&self, headers: &HeaderMap) -> String {
        crate::common::request_origin(headers, &self.inner.core)
    }

    fn handle(&self, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Response {
        let segments: Vec<String> = uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let query = query_pairs(uri.query());
        let now = self.inner.core.now();
        match segs.as_slice() {
            ["oauth", "v2", "token"] if method == Method::POST => {
                let origin = self.origin(headers);
                let mut grants = lock(&self.inner.grants);
                oauth::token(
                    &mut lock(&self.inner.data),
                    &mut grants,
                    &query,
                    body,
                    &origin,
                    now,
                )
            }
            ["oauth", "v2", "auth"] if method == Method::GET => {
                oauth::auth_page(&lock(&self.inner.data), &query)
            }
            ["oauth", "v2", "auth"] if method == Method::POST => {
                let origin = self.origin(headers);
                let mut grants = lock(&self.inner.grants);
                oauth::auth_accept(&lock(&self.inner.data), &mut grants, body, &origin, now)
            }
            ["oauth", "v2", "token", "revoke"] if method == Method::POST => {
                oauth::revoke(&mut lock(&self.inner.data), &query, body)
            }
            ["crm", version, rest @ ..] => {
                let Some(fields_required) = version_fields_required(version) else {
                    return invalid_url();
                };
                let mut data = lock(&self.inner.data);
                let (user_id, expires, scope) = match oauth::authenticate(&data, headers, now) {
                    Ok(found) => found,
                    Err(response) => return response,
                };
                let tz = data.user(&user_id).map_or(chrono_tz::UTC, |u| u.time_zone);
                let mut ctx = records::CrmCtx {
                    data: &mut data,
                    user_id,
                    fields_required,
                    method: method.clone(),
                    rest: rest.iter().map(|s| (*s).to_owned()).collect(),
                    query,
                    headers,
                    body,
                    now,
                    scope,
                };
                let mut response = records::route(&mut ctx);
                if let Ok(v) = HeaderValue::from_str(&model::fmt_time(expires, tz)) {
                    response.headers_mut().insert("X-ACCESSTOKEN-RESET", v);
                }
                response
            }
            _ => invalid_url(),
        }
    }
}

/// `Some(fields mandatory)` for a supported version segment.
fn version_fields_required(version: &str) -> Option<bool> {
    match version {
        "v2" | "v2.1" => Some(false),
        "v3" | "v4" | "v5" | "v6" | "v7" | "v8" => Some(true),
        _ => None,
    }
}

/// A Zoho JSON body (compact, `application/json;charset=UTF-8`).
pub(crate) fn zoho_json(status: StatusCode, value: &Value) -> Response {
    json_body(status, value, false, "application/json;charset=UTF-8")
}

/// A top-level Zoho error: `{"code","details","message","status":"error"}`.
pub(crate) fn zoho_error(
    status: StatusCode,
    code: &str,
    message: &str,
    details: Value,
) -> Response {
    zoho_json(status, &error_body(code, message, details))
}

pub(crate) fn error_body(code: &str, message: &str, details: Value) -> Value {
    json!({ "code": code, "details": details, "message": message, "status": "error" })
}

fn invalid_url() -> Response {
    zoho_error(
        StatusCode::NOT_FOUND,
        "INVALID_URL_PATTERN",
        "Please check if the URL trying to access is a correct one",
        json!({}),
    )
}

impl SimHost for ZohoState {
    const SERVICE: Service = Service::Zoho;

    fn core(&self) -> &SimCore {
        &self.inner.core
    }

    fn fault_response(&self, status: StatusCode, path: &str) -> Response {
        if path.starts_with("/oauth/") {
            return oauth::fault_page(status);
        }
        let (code, message) = match status.as_u16() {
            429 => (
                "TOO_MANY_REQUESTS",
                "Number of API requests for the 24 hour period is exceeded or the concurrency limit of the user for the app is exceeded",
            ),
            500..=599 => ("INTERNAL_ERROR", "Internal server error occurred."),
            401 => ("INVALID_TOKEN", "invalid oauth token"),
            403 => ("NO_PERMISSION", "permission denied"),
            404 => (
                "INVALID_URL_PATTERN",
                "Please check if the URL trying to access is a correct one",
            ),
            _ => ("INVALID_REQUEST", "simulated fault"),
        };
        zoho_error(status, code, message, json!({}))
    }

    fn expire_token(&self, headers: &HeaderMap) {
        if let Some(token) = oauth::bearer(headers) {
            lock(&self.inner.data).access_tokens.remove(&token);
        }
    }
}

async fn dispatch(State(state): State<ZohoState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, 64 * 1024 * 1024).await else {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "INVALID_DATA",
            "body",
            json!({ "expected_data_type": "jsonobject" }),
        );
    };
    state.handle(&parts.method, &parts.uri, &parts.headers, &body)
}

/// The Zoho simulator's router: `/crm/v{N}/…`, `/oauth/v2/token`, and the `/_sim/` control
/// routes.
pub fn zoho_router(state: ZohoState) -> Router {
    Router::new()
        .route("/_sim/dump", get(control::get_dump))
        .route("/_sim/load", post(control::post_load))
        .route("/_sim/reset", post(control::post_reset))
        .route("/_sim/custom_views", post(control::post_custom_view))
        .route(
            "/_sim/config",
            get(control::get_config).post(control::post_config),
        )
        .merge(control_routes::<ZohoState>())
        .fallback(dispatch)
        .layer(from_fn_with_state(state.clone(), limits::check))
        .layer(from_fn_with_state(
            state.clone(),
            sim_middleware::<ZohoState>,
        ))
        .layer(from_fn_with_state(state.clone(), limits::count))
        .with_state(state)
}
