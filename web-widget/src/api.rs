//! The host's HTTP API (`/api/*`) as typed calls, and its answers.
//!
//! Every state-changing call carries the session's CSRF token (from `/api/me`) in
//! `X-CSRF-Token`. Errors come back as `{"error":{"code","message"}}` and become [`ApiError`].

use std::cell::RefCell;

use gloo_net::http::{Request, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_core::calendar::EventsWindow;
use sync_core::{ConflictPolicy, Direction, RunReport};

thread_local! {
    static CSRF: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A refused or failed call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status (0 when the server could not be reached).
    pub status: u16,
    /// The server's error code, e.g. `wrong_password`.
    pub code: String,
    /// The server's plain message.
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ApiError {
    /// The host did not answer (no connection, or a gateway in front of it said it is down).
    #[must_use]
    pub fn is_unreachable(&self) -> bool {
        matches!(self.status, 0 | 502 | 503 | 504)
    }

    fn network(e: &impl std::fmt::Display) -> Self {
        Self {
            status: 0,
            code: "network".into(),
            message: format!("the server could not be reached: {e}"),
        }
    }
}

/// HTTP methods the API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl Method {
    /// From an engine request's method name.
    #[must_use]
    pub fn parse(s: &str) -> Self {
        match s.to_ascii_uppercase().as_str() {
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            _ => Self::Get,
        }
    }

    /// A request builder for `url`.
    #[must_use]
    pub fn builder(self, url: &str) -> RequestBuilder {
        match self {
            Self::Get => Request::get(url),
            Self::Post => Request::post(url),
            Self::Put => Request::put(url),
            Self::Patch => Request::patch(url),
            Self::Delete => Request::delete(url),
        }
    }
}

/// Remembers the CSRF token for later state-changing calls.
pub fn set_csrf(token: &str) {
    CSRF.with(|c| token.clone_into(&mut c.borrow_mut()));
}

/// The CSRF token of the session.
#[must_use]
pub fn csrf() -> String {
    CSRF.with(|c| c.borrow().clone())
}

/// One call: `method path` with an optional JSON body and extra headers; the JSON answer.
///
/// # Errors
/// [`ApiError`] for a non-2xx answer or when the server cannot be reached.
pub async fn call<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Result<T, ApiError> {
    let mut b = method.builder(path).header("Accept", "application/json");
    if method != Method::Get {
        b = b.header("X-CSRF-Token", &csrf());
    }
    for (k, v) in headers {
        b = b.header(k, v);
    }
    let req = match body {
        Some(v) => b.json(v).map_err(|e| ApiError::network(&e))?,
        None => b.build().map_err(|e| ApiError::network(&e))?,
    };
    let resp = req.send().await.map_err(|e| ApiError::network(&e))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| ApiError::network(&e))?;
    if !(200..300).contains(&status) {
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let err = v.get("error");
        let field = |k: &str| {
            err.and_then(|e| e.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        return Err(ApiError {
            status,
            code: field("code").unwrap_or_else(|| "http".into()),
            message: field("message").unwrap_or_else(|| format!("HTTP {status}")),
        });
    }
    serde_json::from_str(&text).map_err(|e| ApiError {
        status,
        code: "bad_answer".into(),
        message: format!("unreadable answer from the server: {e}"),
    })
}

/// `GET path`.
///
/// # Errors
/// See [`call`].
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    call(Method::Get, path, None, &[]).await
}

/// The Domino connection of the signed-in user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Domino {
    /// The server URL.
    pub server: String,
    /// The Notes user name.
    #[serde(default)]
    pub user: Option<String>,
    /// The mail file.
    #[serde(default)]
    pub mail_db: Option<String>,
}

/// `GET /api/me`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Me {
    /// CRM user id.
    pub user_id: String,
    /// E-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Added by the admin (or the admin).
    pub enabled: bool,
    /// The integration's admin.
    pub admin: bool,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// A Domino connection is stored.
    #[serde(default)]
    pub connected: bool,
    /// The stored connection.
    #[serde(default)]
    pub domino: Option<Domino>,
    /// Why a user is not enabled: `not_installed` (no CRM administrator set the integration
    /// up for the org yet) or `not_added`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The user's sync settings (`/api/settings`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSettings {
    /// Sync contacts.
    pub contacts: bool,
    /// Sync to-dos.
    pub tasks: bool,
    /// Which events.
    pub events: EventsWindow,
    /// Which way.
    pub direction: Direction,
    /// Who wins a conflict.
    pub conflict: ConflictPolicy,
    /// Headless schedule, minutes (kept as it is).
    #[serde(default)]
    pub schedule_minutes: Option<u32>,
    /// Which CRM records each module covers (kept as it is unless the settings page changes
    /// it).
    #[serde(default)]
    pub scope: sync_core::Scopes,
}

/// Per-module counts of a run, as the run list gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct RunTotals {
    /// Records created, updated or deleted on either side.
    pub synced: u32,
    /// Records that failed.
    pub errors: u32,
}

/// One row of `GET /api/runs`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RunSummary {
    /// Run id.
    pub id: i64,
    /// Start, ms since the epoch.
    pub started: i64,
    /// End, ms since the epoch.
    pub finished: i64,
    /// A preview.
    pub dry_run: bool,
    /// `completed`, `partial` or `failed`.
    pub outcome: String,
    /// Its number among the runs of its kind (syncs and previews are numbered apart).
    #[serde(default)]
    pub number: i64,
    /// Totals (absent from older servers).
    #[serde(default)]
    pub totals: Option<RunTotals>,
    /// Each module's status.
    #[serde(default)]
    pub modules: Vec<RunModule>,
}

/// A module's status in a run of the list.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RunModule {
    /// The module.
    pub module: sync_core::Module,
    /// How it ended.
    pub status: sync_core::report::ModuleStatus,
}

/// `GET /api/runs`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Runs {
    /// Newest first.
    pub runs: Vec<RunSummary>,
}

/// `GET /api/runs/{id}`.
///
/// # Errors
/// See [`call`].
pub async fn run_report(id: i64) -> Result<RunReport, ApiError> {
    get(&format!("/api/runs/{id}")).await
}

/// A user of the integration (`GET /api/users`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct IntegrationUser {
    /// CRM user id.
    pub user_id: String,
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// The admin.
    pub admin: bool,
    /// A Zoho CRM administrator (or named by the operator): the admin role can go to them.
    #[serde(default)]
    pub can_be_admin: bool,
    /// Has connected Domino: set up to sync.
    pub connected: bool,
    /// Their sync holds the lease now.
    pub syncing: bool,
    /// Their newest sync.
    #[serde(default)]
    pub last_sync: Option<LastSync>,
    /// Their schedule, minutes.
    #[serde(default)]
    pub schedule_minutes: Option<u32>,
}

/// A user's newest sync (`GET /api/users`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct LastSync {
    /// Run id.
    pub id: i64,
    /// Its number among the user's syncs.
    pub number: i64,
    /// End, ms since the epoch.
    pub finished: i64,
    /// `completed`, `partial` or `failed`.
    pub outcome: String,
}

/// A CRM user not yet added.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CrmUser {
    /// CRM user id.
    pub user_id: String,
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
}

/// `GET /api/users`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct UsersInfo {
    /// The org's licence count.
    pub licences: u64,
    /// Users added.
    pub used: u64,
    /// The users.
    pub users: Vec<IntegrationUser>,
    /// CRM users that can be added.
    pub available: Vec<CrmUser>,
}

/// `GET /api/setup`: the admin's CRM set-up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct SetupInfo {
    /// Every field exists.
    pub ready: bool,
    /// Each field and whether it exists.
    pub fields: Vec<SetupField>,
}

/// A field of the CRM set-up.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct SetupField {
    /// The Zoho module (`Events` for meetings).
    pub module: String,
    /// The field's API name.
    pub field: String,
    /// It exists.
    pub present: bool,
}

/// A match of `GET /api/meetings/attendees`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendee {
    /// `contact`, `user` or `email`.
    #[serde(rename = "type")]
    pub kind: String,
    /// CRM id, for contacts and users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// E-mail.
    pub email: String,
}

/// One readiness check (`GET /api/readiness`, `POST /api/connect`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ReadinessCheck {
    /// What was checked: `domino_server`, `data_service`, `mail_file`, `contacts_view`,
    /// `todo_view`, `calendar_service` (Domino Access Services); `drapi_service`,
    /// `drapi_login`, `drapi_scope`, `drapi_contacts`, `drapi_tasks`, `drapi_dql`,
    /// `drapi_calendar` (the Domino REST API); `zoho_oauth`, `zoho_api`.
    pub id: String,
    /// `ok`, `failed`, `not_checked` or `not_needed`.
    pub status: String,
    /// For a failure, what was found (`das_off_view`, …).
    #[serde(default)]
    pub code: Option<String>,
    /// The view or database looked at.
    #[serde(default)]
    pub target: Option<String>,
    /// The server's words.
    #[serde(default)]
    pub detail: String,
}

/// `GET /api/readiness`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Readiness {
    /// Every needed check passed.
    pub ready: bool,
    /// The checks.
    pub checks: Vec<ReadinessCheck>,
}

impl Readiness {
    /// The first failed check.
    #[must_use]
    pub fn first_failure(&self) -> Option<&ReadinessCheck> {
        self.checks.iter().find(|c| c.status == "failed")
    }
}
