//! `/api/pim-v1`: the caller's own mailbox, with no schema or scope needed (domino-rest-api.md
//! §5): `GET /info` and the calendar in JSCalendar form (`calendar.rs`).
//!
//! Choices:
//! - The JWT's scopes must include `MAIL` (403 otherwise). `mailboxid` may name the caller's
//!   own mailbox (path, replica id, short name or e-mail); any other is 403 (delegation is not
//!   simulated). `POST /_sim/config {"pim":false}` switches the API off: 404 on every path.
//! - Only the calendar `default` exists (another `calid` is 404 `{"code":404,…}`). Contacts and
//!   tasks have no PIM endpoints (404), as in PIM 1.0.2.
//! - Errors are `{"code","message"}`; statuses as the calendar store gives them (bad JSON,
//!   times or rules 400, unknown entry 404).
//!
//! Calendar:
//! - The list (`startdate`, `enddate` as `yyyy-mm-dd`, UTC days, `enddate` inclusive, either
//!   may be left out) shows entries starting in the window, sorted by start. The form of a
//!   recurring series is undocumented; by default each occurrence in the window is its own
//!   `jsevent` with the series' `uid` and `recurrenceId` (the occurrence's original local start,
//!   as DESIGN.md syncs series); `POST /_sim/config {"recurring":"series"}` shows a series once,
//!   with `recurrenceRules` and `recurrenceOverrides` (changed instances as patches, deleted
//!   ones `{"excluded":true}`). `GET` of one entry always shows the series form. Unprocessed
//!   invitations (DAS notices) are not calendar entries here.
//! - `uid` (the `calentryid`) is the entry's backing document UNID; a DAS UID is accepted in
//!   URLs too. `timeZone` is the IANA name for zones written with one, the Notes time-zone
//!   string (`Z=5$DO=1$DL=3 2 1 11 1 1$ZN=Eastern`) for Notes zones, `Etc/UTC` for UTC times and
//!   absent for floating and all-day entries. `start` is the local time, `duration` ISO 8601;
//!   all-day entries have `showWithoutTime` and whole days. `description` is HTML (written
//!   HTML is stored as its text). `privacy`: public/private/secret ↔ class
//!   public/private/confidential. Participants: the organizer has roles owner and chair;
//!   attendees attendee, optional or informational, with `participationStatus`. `categories`
//!   without any category is `{"null":true}`, as in HCL's example (a written `null` key is
//!   dropped). `alerts` ↔ the store's alarm (`OffsetTrigger`).
//! - `POST /calendar/default?send=` creates, `PUT …/{uid}?send=` replaces the series (its
//!   `recurrenceOverrides` apply: `excluded` deletes an instance, a patch changes it),
//!   `PATCH …/{uid}` adds, updates and removes attendees; each answers 200 with the entry.
//!   `send` defaults to true ("sent out to the invitees or stay as draft"): a write with
//!   `send=false` never creates notices; with `send=true` every attendee who is a simulator user
//!   gets one, as DAS's `workflow` does. `DELETE` answers 200 without a body and sends no
//!   cancellations (it has no `send`; "Removes a calendar entry and its replies").
//! - `ical=true` and `GET /vcalendar/…` answer 501.

mod calendar;
mod jscal;
mod zones;

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::errors::{Answer, ApiError, json_answer};
use super::state::Session;
use super::{DrapiState, Req, auth, method_not_allowed, not_found};
use crate::common::stable_hex32;

/// The caller's mailbox: its database key.
pub(crate) struct Mailbox {
    pub db_key: String,
    pub user: String,
}

/// The folder id of a mail file's `($Calendar)` (stable per mail file).
pub(crate) fn calendar_folder(db_path: &str) -> String {
    stable_hex32(&format!("{}|($Calendar)", db_path.to_lowercase()))
}

fn mailbox(state: &DrapiState, session: &Session, req: &Req<'_>) -> Result<Mailbox, ApiError> {
    if !session.has_scope("MAIL") {
        return Err(ApiError::forbidden(format!(
            "The JWT's scopes ({}) do not include MAIL",
            session.scopes.join(" ")
        )));
    }
    let db_key = format!("mail/{}.nsf", session.user.to_lowercase());
    let server = state.domino.server();
    let db = server
        .databases
        .get(&db_key)
        .ok_or_else(|| ApiError::not_found(format!("No mailbox for {}", session.user)))?;
    if let Some(id) = req.q("mailboxid").filter(|m| !m.is_empty()) {
        let own = [
            db.path.as_str(),
            db.replica_id.as_str(),
            session.user.as_str(),
            &format!("{}@example.com", session.user.to_lowercase()),
        ]
        .iter()
        .any(|x| x.eq_ignore_ascii_case(id));
        if !own {
            return Err(ApiError::forbidden(format!(
                "No access to the mailbox {id}"
            )));
        }
    }
    Ok(Mailbox {
        db_key,
        user: session.user.clone(),
    })
}

/// Route a PIM request.
pub(crate) fn route(state: &DrapiState, req: &Req<'_>, path: &str) -> Answer {
    if !state.config().settings.pim {
        return Err(not_found(&req.method, path));
    }
    let segs = req.segs();
    let known = matches!(
        segs.as_slice(),
        ["info"] | ["calendar", _] | ["calendar", _, _] | ["vcalendar", _, _]
    );
    if !known {
        return Err(not_found(&req.method, path));
    }
    let session = auth::caller(state, req.headers)?;
    let mb = mailbox(state, &session, req)?;
    let m = &req.method;
    match (segs.as_slice(), m) {
        (["info"], &Method::GET) => info(state, &mb),
        (["vcalendar", _, _], &Method::GET) => Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "vCalendar output is not simulated",
        )),
        (["calendar", calid, ..], _) if *calid != "default" => {
            Err(ApiError::not_found(format!("Calendar {calid} not found")))
        }
        (["calendar", _], &Method::GET) => calendar::list(state, req, &mb),
        (["calendar", _], &Method::POST) => calendar::create(state, req, &mb),
        (["calendar", _, id], &Method::GET) => calendar::get(state, req, &mb, id),
        (["calendar", _, id], &Method::PUT) => calendar::update(state, req, &mb, id),
        (["calendar", _, id], &Method::PATCH) => calendar::attendees(state, req, &mb, id),
        (["calendar", _, id], &Method::DELETE) => calendar::delete(state, &mb, id),
        _ => Err(method_not_allowed(m, path)),
    }
}

/// `GET /info` (P:getMailboxInfo).
fn info(state: &DrapiState, mb: &Mailbox) -> Answer {
    let server = state.domino.server();
    let db = server
        .databases
        .get(&mb.db_key)
        .ok_or_else(|| ApiError::not_found("No mailbox"))?;
    let mut views = vec![json!({
        "FolderId": calendar_folder(&db.path),
        "View": "($Calendar)",
        "isFolder": false,
        "Alias": ["default"],
        "DocumentCount": db.events.len(),
        "DisplayName": "Calendar",
    })];
    for v in &db.views {
        views.push(json!({
            "FolderId": v.unid,
            "View": v.title,
            "isFolder": v.folder,
            "Alias": v.aliases,
            "DocumentCount": v.len(),
            "DisplayName": v.aliases.first().unwrap_or(&v.title),
        }));
    }
    let unread = db
        .documents
        .iter()
        .filter(|d| !d.read_by.contains(&mb.user.to_lowercase()))
        .count();
    Ok(json_answer(
        StatusCode::OK,
        &json!({
            "Title": db.title,
            "count": db.documents.iter().count(),
            "filepath": db.path,
            "replicaid": db.replica_id,
            "unread": unread,
            "viewInfo": views,
        }),
    ))
}
