//! Connection and readiness checks (F1, F2). Each check names what is wrong and the admin step
//! that fixes it, in the seed's menu paths. Only the services the sync settings need are
//! checked: the contacts view `($Contacts)` when contacts sync, the to-do view `($ToDo)` when
//! to-dos sync, the server's Calendar service (and the mail file's calendar answering through
//! it) when events sync; the others are listed as not needed. `nzsync check` prints them, and
//! the server's Connect and `GET /api/readiness` answer them.
//!
//! No separate check reads the mail file's calendar profile: the calendar resources check only
//! the server's Calendar service and the ACL (`reference/domino-api.md` §2.1), and the probe of
//! the mail file's event list goes through everything the events module needs.

use serde::Serialize;
use serde_json::Value;
use sync_core::http::{encode, encode_path};
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
            Self::Unreachable | Self::WrongPassword | Self::NotDomino | Self::NoMailFile
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
        }
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

/// The admin step for the server's Data service.
pub const STEP_DATA_SERVICE: &str = "ask the Domino admin: in the IBM Notes server's Configuration, open the Current Server \
     Document → Internet Protocols tab → Domino Web Engine → Domino Access Services, select \
     Data under Enabled services, and save";
/// The admin step for the server's Calendar service.
pub const STEP_CALENDAR_SERVICE: &str = "ask the Domino admin: in the IBM Notes server's Configuration, open the Current Server \
     Document → Internet Protocols tab → Domino Web Engine → Domino Access Services, select \
     Calendar under Enabled services, and save";

fn step_database(db: &str) -> String {
    format!(
        "ask the Domino admin: in Domino Designer, open the properties of the mail file {db} → \
         Advanced tab → set \"Allow Domino Data Service\" to \"Views and documents\""
    )
}

fn step_view(view: &str, db: &str) -> String {
    format!(
        "ask the Domino admin: in Domino Designer, select the view {view} of the mail file {db} → \
         view properties → Advanced tab → enable \"Allow Domino Data Service operations\""
    )
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

/// Whether `/api`'s service list has `name` enabled.
fn service_on(services: &[Value], name: &str) -> bool {
    services.iter().any(|s| {
        s.get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
            && s.get("enabled").and_then(Value::as_bool) == Some(true)
    })
}

/// A UNID no document has: a GET of it answers 404 when documents are allowed, and DAS's
/// "Cannot access resource" when the mail file allows views only (the database level is
/// checked before the document is looked up).
const NO_SUCH_UNID: &str = "00000000000000000000000000000000";

/// Runs the checks `needs` asks for; a check whose prerequisite failed is not checked.
pub async fn run(config: &Config, up: &Upstreams, needs: Needs) -> Readiness {
    let mut out = Vec::new();
    let db = config.mail_db();
    let engine = config.engine_config(false, false);
    let server = &config.domino.url;
    let get = |path: String| async move { up.perform(&req(Side::Notes, path)).await };

    // F1: the server is a Domino server with DAS, and the password is right.
    let services = match get("/api".into()).await {
        Err(e) => {
            out.push(Check::failed(
                CheckId::DominoServer,
                Problem::Unreachable,
                None,
                format!("cannot reach {server}: {}", e.message),
                None,
            ));
            None
        }
        Ok(r) if r.status == 401 => {
            out.push(Check::failed(
                CheckId::DominoServer,
                Problem::WrongPassword,
                None,
                "wrong user name or password (HTTP 401)".into(),
                None,
            ));
            None
        }
        Ok(r) => match serde_json::from_str::<Value>(&r.body)
            .ok()
            .and_then(|v| v.get("services").and_then(Value::as_array).cloned())
        {
            Some(services) => {
                out.push(Check::ok(
                    CheckId::DominoServer,
                    None,
                    format!("{server} answers as a Domino server with Domino Access Services"),
                ));
                Some(services)
            }
            None => {
                out.push(Check::failed(
                    CheckId::DominoServer,
                    Problem::NotDomino,
                    None,
                    format!(
                        "{server} answered HTTP {} but not as a Domino server with Domino Access Services (GET /api)",
                        r.status
                    ),
                    None,
                ));
                None
            }
        },
    };
    let views = [
        (
            CheckId::ContactsView,
            needs.contacts,
            engine.contacts_view.as_str(),
            "contacts",
        ),
        (
            CheckId::TodoView,
            needs.tasks,
            engine.tasks_view.as_str(),
            "to-dos",
        ),
    ];
    let not_needed = |id: CheckId, what: &str| {
        Check::skipped(
            id,
            CheckStatus::NotNeeded,
            &format!("not needed: {what} are off in the sync settings"),
        )
    };

    // F2, data service: server, database, views.
    let data_on = match &services {
        None => {
            let why = "not checked: the Domino server check failed";
            out.push(Check::skipped(
                CheckId::DataService,
                CheckStatus::NotChecked,
                why,
            ));
            false
        }
        Some(list) if service_on(list, "data") => {
            out.push(Check::ok(
                CheckId::DataService,
                None,
                "the Data service is enabled".into(),
            ));
            true
        }
        Some(_) => {
            out.push(Check::failed(
                CheckId::DataService,
                Problem::DasOffServer,
                None,
                "the Data service is not among the server's enabled Domino Access Services".into(),
                Some(STEP_DATA_SERVICE.into()),
            ));
            false
        }
    };
    let mail_ok = if data_on {
        let check = mail_file(up, &db).await;
        let ok = check.ok;
        out.push(check);
        ok
    } else {
        out.push(Check::skipped(
            CheckId::MailFile,
            CheckStatus::NotChecked,
            "not checked: the server's Data service is not available",
        ));
        false
    };
    for (id, needed, view, what) in views {
        if !needed {
            out.push(not_needed(id, what));
        } else if !mail_ok {
            out.push(Check::skipped(
                id,
                CheckStatus::NotChecked,
                "not checked: the mail file check failed",
            ));
        } else {
            out.push(view_check(up, id, &db, view).await);
        }
    }

    // F2, calendar service.
    if !needs.events {
        out.push(not_needed(CheckId::CalendarService, "events"));
    } else {
        match &services {
            None => out.push(Check::skipped(
                CheckId::CalendarService,
                CheckStatus::NotChecked,
                "not checked: the Domino server check failed",
            )),
            Some(list) if !service_on(list, "calendar") => out.push(Check::failed(
                CheckId::CalendarService,
                Problem::CalendarOff,
                None,
                "the Calendar service is not among the server's enabled Domino Access Services"
                    .into(),
                Some(STEP_CALENDAR_SERVICE.into()),
            )),
            Some(_) => out.push(calendar_check(up, &db).await),
        }
    }

    if needs.zoho {
        zoho_checks(config, up, &mut out).await;
    }
    Readiness::of(out)
}

/// The mail file allows the data service for views and documents.
async fn mail_file(up: &Upstreams, db: &str) -> Check {
    let id = CheckId::MailFile;
    let target = Some(db.to_owned());
    let path = format!("/{}/api/data/collections", encode_path(db));
    let r = match up.perform(&req(Side::Notes, path)).await {
        Ok(r) => r,
        Err(e) => return Check::failed(id, Problem::Unreachable, target, e.message, None),
    };
    match r.status {
        200 => {}
        401 => {
            return Check::failed(
                id,
                Problem::WrongPassword,
                target,
                format!(
                    "wrong user name or password, or no access to the mail file {db} (HTTP 401)"
                ),
                None,
            );
        }
        404 => {
            return Check::failed(
                id,
                Problem::NoMailFile,
                target,
                format!("there is no mail file {db} on the server: {}", said(&r)),
                None,
            );
        }
        403 => {
            return Check::failed(
                id,
                Problem::DasOffDatabase,
                target,
                said(&r),
                Some(step_database(db)),
            );
        }
        _ => return Check::failed(id, Problem::Other, target, said(&r), None),
    }
    // Views answer at "Views only"; the sync also reads and writes documents.
    let path = format!(
        "/{}/api/data/documents/unid/{NO_SUCH_UNID}?markread=false",
        encode_path(db)
    );
    match up.perform(&req(Side::Notes, path)).await {
        Ok(r) if r.status == 403 => Check::failed(
            id,
            Problem::DasViewsOnly,
            target,
            format!(
                "{}: the mail file allows the data service for views only, not for documents",
                said(&r)
            ),
            Some(step_database(db)),
        ),
        Ok(_) => Check::ok(
            id,
            target,
            format!("{db} allows the data service for views and documents"),
        ),
        Err(e) => Check::failed(id, Problem::Unreachable, target, e.message, None),
    }
}

/// A view allows the data service.
async fn view_check(up: &Upstreams, id: CheckId, db: &str, view: &str) -> Check {
    let target = Some(view.to_owned());
    let path = format!(
        "/{}/api/data/collections/name/{}?count=1",
        encode_path(db),
        encode(view)
    );
    match up.perform(&req(Side::Notes, path)).await {
        Ok(r) if r.status == 200 => {
            Check::ok(id, target, format!("{view} allows the data service"))
        }
        Ok(r) if r.status == 403 => Check::failed(
            id,
            Problem::DasOffView,
            target,
            said(&r),
            Some(step_view(view, db)),
        ),
        Ok(r) if r.status == 404 => Check::failed(
            id,
            Problem::NoView,
            target,
            format!("the mail file {db} has no view {view}: {}", said(&r)),
            None,
        ),
        Ok(r) if r.status == 401 => Check::failed(
            id,
            Problem::WrongPassword,
            target,
            format!("no access to the view {view} (HTTP 401)"),
            None,
        ),
        Ok(r) => Check::failed(id, Problem::Other, target, said(&r), None),
        Err(e) => Check::failed(id, Problem::Unreachable, target, e.message, None),
    }
}

/// The mail file's calendar answers through the Calendar service.
async fn calendar_check(up: &Upstreams, db: &str) -> Check {
    let id = CheckId::CalendarService;
    let target = Some(db.to_owned());
    let path = format!("/{}/api/calendar/events?count=1", encode_path(db));
    match up.perform(&req(Side::Notes, path)).await {
        Ok(r) if r.status == 200 => Check::ok(
            id,
            target,
            format!("the calendar of {db} answers through the Calendar service"),
        ),
        Ok(r) if r.status == 403 => Check::failed(
            id,
            Problem::CalendarOff,
            target,
            said(&r),
            Some(STEP_CALENDAR_SERVICE.into()),
        ),
        Ok(r) if r.status == 404 => Check::failed(
            id,
            Problem::NoMailFile,
            target,
            format!("the calendar service finds no mail file {db}: {}", said(&r)),
            None,
        ),
        Ok(r) if r.status == 401 => Check::failed(
            id,
            Problem::WrongPassword,
            target,
            format!("no access to the calendar of {db} (HTTP 401)"),
            None,
        ),
        Ok(r) => Check::failed(id, Problem::Other, target, said(&r), None),
        Err(e) => Check::failed(id, Problem::Unreachable, target, e.message, None),
    }
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
