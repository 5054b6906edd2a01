//! The Domino Access Services checks (F1, F2): the server answers as Domino with DAS and takes
//! the password; DAS is on at the server, the mail file and each view the settings need; the
//! Calendar service answers for the mail file when events sync.
//!
//! No separate check reads the mail file's calendar profile: the calendar resources check only
//! the server's Calendar service and the ACL (`reference/domino-api.md` §2.1), and the probe of
//! the mail file's event list goes through everything the events module needs.

use serde_json::Value;
use sync_core::Side;
use sync_core::http::{encode, encode_path};

use super::{Check, CheckId, CheckStatus, Needs, Problem, req, said};
use crate::config::Config;
use crate::upstream::Upstreams;

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

/// The DAS checks `needs` asks for; a check whose prerequisite failed is not checked.
pub(super) async fn checks(config: &Config, up: &Upstreams, needs: Needs) -> Vec<Check> {
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

    out
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
