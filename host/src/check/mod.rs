//! Connection and readiness checks (F1, F2). Each check names what is wrong and the admin step
//! that fixes it. Only what the sync settings need is checked: the contacts and to-do views (or
//! forms) when those modules sync, the calendar when events sync; the others are listed as not
//! needed. `nzsync check` prints them, and the server's Connect and `GET /api/readiness` answer
//! them.
//!
//! One file per Domino API: `das.rs` (Domino Access Services, in the seed's menu paths) and
//! `rest.rs` (the Domino REST API's set-up steps); the Zoho checks are here.

mod das;
mod rest;

pub use das::{STEP_CALENDAR_SERVICE, STEP_DATA_SERVICE};

use serde::Serialize;
use serde_json::Value;
use sync_core::{HttpRequest, HttpResponse, Side};

use crate::config::{Config, EventsSetting};
use crate::upstream::Upstreams;

/// What a check looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    /// The server answers as Domino with DAS, and takes the user name and password.
    DominoServer,
    /// The server's Data service (DAS at server level).
    DataService,
    /// The mail file allows the data service for views and documents (database level).
    MailFile,
    /// The contacts view allows the data service (view level).
    ContactsView,
    /// The to-do view allows the data service (view level).
    TodoView,
    /// The server's Calendar service, and the mail file's calendar through it.
    CalendarService,
    /// The Domino REST API answers at the configured URL.
    DrapiService,
    /// The Domino REST API's login takes the user name and password.
    DrapiLogin,
    /// The Domino REST API has a scope for the mail file, and the user may use it.
    DrapiScope,
    /// The scope's schema exposes the contacts: form `Person`, its items, the view.
    DrapiContacts,
    /// The scope's schema exposes the to-dos: form `Task`, its items, the view.
    DrapiTasks,
    /// The scope's schema allows DQL (changes are found with it).
    DrapiDql,
    /// The PIM API answers with the user's calendar.
    DrapiCalendar,
    /// The Zoho refresh token gives access tokens.
    ZohoOauth,
    /// The Zoho CRM API answers.
    ZohoApi,
}

impl CheckId {
    /// A check of the Domino side (the connection Connect stores), not of Zoho.
    #[must_use]
    pub fn is_domino(self) -> bool {
        !matches!(self, Self::ZohoOauth | Self::ZohoApi)
    }

    /// The check's name, for the terminal.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::DominoServer => "Domino server",
            Self::DataService => "DAS on the server (Data)",
            Self::MailFile => "DAS on the mail file",
            Self::ContactsView => "DAS on the contacts view",
            Self::TodoView => "DAS on the to-do view",
            Self::CalendarService => "Calendar service",
            Self::DrapiService => "Domino REST API",
            Self::DrapiLogin => "DRAPI login",
            Self::DrapiScope => "DRAPI scope",
            Self::DrapiContacts => "DRAPI schema: contacts",
            Self::DrapiTasks => "DRAPI schema: to-dos",
            Self::DrapiDql => "DRAPI DQL access",
            Self::DrapiCalendar => "DRAPI calendar (PIM)",
            Self::ZohoOauth => "Zoho OAuth",
            Self::ZohoApi => "Zoho CRM API",
        }
    }
}

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// It passed.
    Ok,
    /// It failed; the check says why and what to do.
    Failed,
    /// Not checked because a check it depends on failed.
    NotChecked,
    /// The sync settings do not need it (the module is off).
    NotNeeded,
}

/// What a failed check found, as a code the widget words in the user's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// The server did not answer.
    Unreachable,
    /// Domino refused the user name or password, or the user has no access.
    WrongPassword,
    /// The server is not a Domino server with DAS.
    NotDomino,
    /// The mail file does not exist on the server.
    NoMailFile,
    /// The Data service is off on the server.
    DasOffServer,
    /// The mail file does not allow the data service.
    DasOffDatabase,
    /// The mail file allows the data service for views only, not for documents.
    DasViewsOnly,
    /// A view does not allow the data service.
    DasOffView,
    /// The mail file has no such view.
    NoView,
    /// The Calendar service is off on the server.
    CalendarOff,
    /// The URL does not answer as a Domino REST API.
    NotDrapi,
    /// The Domino REST API has no active scope of that name.
    DrapiNoScope,
    /// The Domino REST API refuses the user the scope or the mail file.
    DrapiNoAccess,
    /// The scope's schema does not expose what a module needs.
    DrapiSchema,
    /// The scope's schema does not allow DQL.
    DrapiDqlOff,
    /// The Domino REST API's PIM part (the calendar) is off.
    DrapiPimOff,
    /// Zoho refused the OAuth credentials.
    ZohoRefused,
    /// Zoho's accounts server gave this refresh token all the access tokens it allows for now
    /// (ten in ten minutes).
    ZohoRateLimited,
    /// Anything else; the detail says what.
    Other,
}

impl Problem {
    /// The code, as the API spells it.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Unreachable => "unreachable",
            Self::WrongPassword => "wrong_password",
            Self::NotDomino => "not_domino",
            Self::NoMailFile => "no_mail_file",
            Self::DasOffServer => "das_off_server",
            Self::DasOffDatabase => "das_off_database",
            Self::DasViewsOnly => "das_views_only",
            Self::DasOffView => "das_off_view",
            Self::NoView => "no_view",
            Self::CalendarOff => "calendar_off",
            Self::NotDrapi => "not_drapi",
            Self::DrapiNoScope => "drapi_no_scope",
            Self::DrapiNoAccess => "drapi_no_access",
            Self::DrapiSchema => "drapi_schema",
            Self::DrapiDqlOff => "drapi_dql_off",
            Self::DrapiPimOff => "drapi_pim_off",
            Self::ZohoRefused => "zoho_refused",
            Self::ZohoRateLimited => "zoho_rate_limited",
            Self::Other => "other",
        }
    }

    /// A problem of the connection itself (server, password, mail file) rather than of DAS:
    /// Connect and Change Password refuse to store such a connection.
    #[must_use]
    pub fn refuses_connection(self) -> bool {
        matches!(
            self,
            Self::Unreachable
                | Self::WrongPassword
                | Self::NotDomino
                | Self::NotDrapi
                | Self::NoMailFile
        )
    }
}

/// One check's result.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What was checked.
    pub id: CheckId,
    /// Its name, for the terminal.
    pub name: &'static str,
    /// How it came out.
    pub status: CheckStatus,
    /// Whether it passed.
    pub ok: bool,
    /// For a failure, what was found.
    #[serde(rename = "code", skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// The view or database the check looked at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// What was found, in the server's words where it has them.
    pub detail: String,
    /// For a failure, the step that fixes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The same step in Japanese, where the check words it (the widget words every step from
    /// the problem's code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_ja: Option<String>,
}

impl Check {
    fn ok(id: CheckId, target: Option<String>, detail: String) -> Self {
        Self::with(id, CheckStatus::Ok, None, target, detail, None)
    }

    fn failed(
        id: CheckId,
        problem: Problem,
        target: Option<String>,
        detail: String,
        step: Option<String>,
    ) -> Self {
        Self::with(id, CheckStatus::Failed, Some(problem), target, detail, step)
    }

    fn skipped(id: CheckId, status: CheckStatus, detail: &str) -> Self {
        Self::with(id, status, None, None, detail.to_owned(), None)
    }

    fn with(
        id: CheckId,
        status: CheckStatus,
        problem: Option<Problem>,
        target: Option<String>,
        detail: String,
        step: Option<String>,
    ) -> Self {
        Self {
            id,
            name: id.label(),
            status,
            ok: status == CheckStatus::Ok,
            problem,
            target,
            detail,
            step,
            step_ja: None,
        }
    }

    /// The step, in English and in Japanese.
    fn with_steps(mut self, [en, ja]: [String; 2]) -> Self {
        self.step = Some(en);
        self.step_ja = Some(ja);
        self
    }
}

/// Every check, in order.
#[derive(Clone, Debug, Serialize)]
pub struct Readiness {
    /// Every needed check passed.
    pub ready: bool,
    /// The checks, needed or not.
    pub checks: Vec<Check>,
}

impl Readiness {
    fn of(checks: Vec<Check>) -> Self {
        Self {
            ready: checks
                .iter()
                .all(|c| matches!(c.status, CheckStatus::Ok | CheckStatus::NotNeeded)),
            checks,
        }
    }

    /// The first failed check.
    #[must_use]
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == CheckStatus::Failed)
    }
}

/// What the checks cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    /// Contacts sync: the contacts view.
    pub contacts: bool,
    /// To-dos sync: the to-do view.
    pub tasks: bool,
    /// Events sync: the Calendar service.
    pub events: bool,
    /// The Zoho side too.
    pub zoho: bool,
}

impl Needs {
    /// What `config`'s `[sync]` settings need, Zoho included.
    #[must_use]
    pub fn of(config: &Config) -> Self {
        Self {
            contacts: config.sync.contacts,
            tasks: config.sync.tasks,
            events: config.sync.events != EventsSetting::Off,
            zoho: true,
        }
    }

    /// The same, without the Zoho side.
    #[must_use]
    pub fn domino_only(self) -> Self {
        Self {
            zoho: false,
            ..self
        }
    }
}

/// A GET the diagnostics send.
pub(crate) fn req(side: Side, path: String) -> HttpRequest {
    HttpRequest {
        id: 0,
        side,
        method: "GET".into(),
        path,
        headers: Vec::new(),
        body: None,
    }
}

/// The message of a DAS error body (`message`, else `text`), empty when there is none.
pub(crate) fn das_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.get("text"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// The server's words for a refusal: its DAS message, else the status.
fn said(r: &HttpResponse) -> String {
    let msg = das_message(&r.body);
    if msg.is_empty() {
        format!("HTTP {}", r.status)
    } else {
        format!("{msg} (HTTP {})", r.status)
    }
}

/// Runs the checks `needs` asks for, of the Domino API the config names and of Zoho; a check
/// whose prerequisite failed is not checked.
pub async fn run(config: &Config, up: &Upstreams, needs: Needs) -> Readiness {
    let mut out = if up.domino_is_rest() {
        rest::checks(config, up, needs).await
    } else {
        das::checks(config, up, needs).await
    };
    if needs.zoho {
        zoho_checks(config, up, &mut out).await;
    }
    Readiness::of(out)
}

async fn zoho_checks(config: &Config, up: &Upstreams, out: &mut Vec<Check>) {
    if let Err(e) = up.zoho_token(false).await {
        let problem = match e {
            crate::upstream::TokenError::Refused(_) => Problem::ZohoRefused,
            crate::upstream::TokenError::RateLimited(_) => Problem::ZohoRateLimited,
            crate::upstream::TokenError::Unavailable { .. } => Problem::Unreachable,
        };
        out.push(Check::failed(
            CheckId::ZohoOauth,
            problem,
            None,
            e.to_string(),
            None,
        ));
        out.push(Check::skipped(
            CheckId::ZohoApi,
            CheckStatus::NotChecked,
            "not checked: no Zoho access token",
        ));
        return;
    }
    out.push(Check::ok(
        CheckId::ZohoOauth,
        None,
        "the refresh token gives access tokens".into(),
    ));
    let path = format!("/crm/{}/users?type=CurrentUser", config.zoho.api_version);
    out.push(match up.perform(&req(Side::Crm, path)).await {
        Ok(r) if r.status == 200 => Check::ok(
            CheckId::ZohoApi,
            None,
            format!("{} answers", config.zoho.api_domain),
        ),
        Ok(r) => Check::failed(
            CheckId::ZohoApi,
            Problem::Other,
            None,
            format!(
                "HTTP {}: {}",
                r.status,
                r.body.chars().take(200).collect::<String>()
            ),
            None,
        ),
        Err(e) => Check::failed(
            CheckId::ZohoApi,
            Problem::Unreachable,
            None,
            e.message,
            None,
        ),
    });
}
