//! Schedule Meeting (F6): one request makes a meeting in the caller's Notes calendar (Domino
//! sends the invitations) and the matching CRM Event with participants, and links the two so no
//! later sync duplicates them.
//!
//! - `POST /api/meetings {subject, attendees:[{email, name?, type?, id?}], location?, start,
//!   end, reminder_minutes?}` → 201 `{notes_uid, zoho_id}`.
//!   Order: validate (422 naming the field) → check CRM contact/user ids and make sure the
//!   `Notes_UNID` field exists on Events (the admin's set-up makes it: the admin's meeting
//!   runs the set-up; anybody else's is refused with 409 `setup_needed` naming the admin step,
//!   before anything is created) → `POST /{mail_db}/api/calendar/events` without
//!   `workflow=false` (Domino sends the notices) → `GET` it back → `POST /crm/v8/Events` with
//!   `Notes_UNID` → store the link with the Notes event's canonical fields as its base. When the
//!   CRM create fails after the Notes meeting exists: 502 saying so, with `notes_uid`; the Notes
//!   meeting stays (its invitations went out).
//! - `GET /api/meetings/attendees?q=` → `[{type, id, name, email}]`: CRM contacts (word or
//!   e-mail search; a list filtered here for 1–2 characters) and active CRM users.
//!
//! Choices: times are kept to the whole minute; an attendee equal to the organizer is left out
//! (Notes lists the organizer as chair); a contact or user attendee takes its e-mail from CRM;
//! a reminder must fit Zoho's `Remind_At` (a unit of at most 60 minutes, hours, days or weeks).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sync_core::calendar::{self, CalZones};
use sync_core::http::{encode, encode_path};
use sync_core::mapping::jscal::{jscal_event, jscal_key, record_from_jscal};
use sync_core::mapping::{CRM_XREF_FIELD, MapCtx, crm_is_private};
use sync_core::{
    Fields, Header, HttpRequest, HttpResponse, Link, MailFile, Module, NotesUnid, Side,
    StateChange, Timestamp, ZohoId,
};

use super::auth::Member;
use super::{ApiError, AppState, connect, now_ms, profile, zoho};
use crate::config::{Config, DominoApiChoice};
use crate::store::UserRow;
use crate::upstream::Upstreams;

/// Most participants Zoho takes on one event.
pub const MAX_ATTENDEES: usize = 50;
/// Longest reminder, minutes (four weeks).
pub const MAX_REMINDER_MINUTES: i64 = 40_320;
/// Longest subject (Zoho `Event_Title`).
pub const MAX_SUBJECT: usize = 255;
/// Longest location (Zoho `Venue`).
const MAX_LOCATION: usize = 255;
/// Longest e-mail address (Zoho `Email`).
const MAX_EMAIL: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingBody {
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    attendees: Vec<AttendeeBody>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
    #[serde(default)]
    reminder_minutes: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendeeBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Contact,
    User,
    Email,
}

#[derive(Clone, Debug)]
struct Attendee {
    email: String,
    name: Option<String>,
    kind: Kind,
    id: Option<String>,
}

#[derive(Debug)]
struct Meeting {
    subject: String,
    location: String,
    start: Timestamp,
    end: Timestamp,
    reminder: Option<i64>,
    attendees: Vec<Attendee>,
}

fn invalid(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_meeting",
        format!("{field}: {message}"),
    )
}

/// A plausible e-mail address: one `@`, a local part, a dotted domain, no spaces.
fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && e.len() <= MAX_EMAIL
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && e.chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | ',' | ';' | '"'))
}

/// Zoho `Remind_At` for `minutes`: a unit of at most 60 in the largest exact period.
fn remind_at(minutes: i64) -> Option<Value> {
    [
        ("minutes", 1),
        ("hours", 60),
        ("days", 1_440),
        ("weeks", 10_080),
    ]
    .into_iter()
    .find(|(_, per)| minutes % per == 0 && minutes / per <= 60)
    .map(|(period, per)| json!([{ "unit": minutes / per, "period": period }]))
}

fn when(field: &str, v: Option<&str>) -> Result<Timestamp, ApiError> {
    let v = v.map(str::trim).filter(|v| !v.is_empty()).ok_or_else(|| {
        invalid(
            field,
            "required, as ISO 8601 with an offset or Z, like 2026-03-02T09:00:00+01:00",
        )
    })?;
    let t = Timestamp::parse_iso(v).ok_or_else(|| {
        invalid(
            field,
            format!("{v:?} is not ISO 8601 with an offset or Z, like 2026-03-02T09:00:00+01:00"),
        )
    })?;
    // Whole minutes, as calendars show them.
    Ok(Timestamp(t.0.div_euclid(60_000) * 60_000))
}

/// Checks the request; `organizer` (lower case) is left out of the attendees.
fn validate(body: MeetingBody, organizer: &str) -> Result<Meeting, ApiError> {
    let subject = body
        .subject
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if subject.is_empty() {
        return Err(invalid("subject", "required"));
    }
    if subject.chars().count() > MAX_SUBJECT {
        return Err(invalid(
            "subject",
            format!("at most {MAX_SUBJECT} characters"),
        ));
    }
    let location = body
        .location
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if location.chars().count() > MAX_LOCATION {
        return Err(invalid(
            "location",
            format!("at most {MAX_LOCATION} characters"),
        ));
    }
    let start = when("start", body.start.as_deref())?;
    let end = when("end", body.end.as_deref())?;
    if end <= start {
        return Err(invalid("end", "must be after the start"));
    }
    if body.attendees.is_empty() {
        return Err(invalid("attendees", "at least one attendee is required"));
    }
    if body.attendees.len() > MAX_ATTENDEES {
        return Err(invalid(
            "attendees",
            format!(
                "at most {MAX_ATTENDEES} attendees (Zoho CRM's limit), {} given",
                body.attendees.len()
            ),
        ));
    }
    let mut attendees: Vec<Attendee> = Vec::new();
    for (i, a) in body.attendees.into_iter().enumerate() {
        let field = format!("attendees[{i}]");
        let email = a.email.trim().to_lowercase();
        if !valid_email(&email) {
            return Err(invalid(
                &format!("{field}.email"),
                format!("{:?} is not a valid e-mail address", a.email),
            ));
        }
        let id = a.id.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let kind = match a.kind.as_deref().map(str::trim) {
            None | Some("") => {
                if id.is_some() {
                    return Err(invalid(
                        &format!("{field}.type"),
                        "required with an id: contact or user",
                    ));
                }
                Kind::Email
            }
            Some("email") => Kind::Email,
            Some("contact") => Kind::Contact,
            Some("user") => Kind::User,
            Some(other) => {
                return Err(invalid(
                    &format!("{field}.type"),
                    format!("{other:?} is not contact, user or email"),
                ));
            }
        };
        if kind != Kind::Email {
            match &id {
                Some(id) if id.chars().all(|c| c.is_ascii_digit()) && id.len() <= 30 => {}
                Some(id) => {
                    return Err(invalid(
                        &format!("{field}.id"),
                        format!("{id:?} is not a CRM id"),
                    ));
                }
                None => {
                    return Err(invalid(
                        &format!("{field}.id"),
                        "required for a contact or user attendee",
                    ));
                }
            }
        }
        attendees.push(Attendee {
            email,
            name: a
                .name
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty()),
            kind,
            id: if kind == Kind::Email { None } else { id },
        });
    }
    let reminder = match body.reminder_minutes {
        None => None,
        Some(m) if !(0..=MAX_REMINDER_MINUTES).contains(&m) => {
            return Err(invalid(
                "reminder_minutes",
                format!("must be between 0 and {MAX_REMINDER_MINUTES} (four weeks)"),
            ));
        }
        Some(m) if remind_at(m).is_none() => {
            return Err(invalid(
                "reminder_minutes",
                format!(
                    "{m} cannot be a Zoho CRM reminder: use up to 60 minutes, or whole hours up to 60, whole days up to 60, or whole weeks"
                ),
            ));
        }
        Some(m) => Some(m),
    };
    let mut meeting = Meeting {
        subject,
        location,
        start,
        end,
        reminder,
        attendees,
    };
    tidy_attendees(&mut meeting, organizer)?;
    Ok(meeting)
}

/// Drops duplicates and the organizer; at least one attendee must remain.
fn tidy_attendees(m: &mut Meeting, organizer: &str) -> Result<(), ApiError> {
    let mut seen = std::collections::HashSet::new();
    m.attendees
        .retain(|a| a.email != organizer && seen.insert(a.email.clone()));
    if m.attendees.is_empty() {
        return Err(invalid(
            "attendees",
            "at least one attendee other than yourself is required",
        ));
    }
    Ok(())
}

impl Meeting {
    /// The canonical event fields (`sync_core::mapping::events`).
    fn fields(&self) -> Fields {
        let mut f = Fields::default();
        f.set("title", &self.subject);
        f.set("location", &self.location);
        f.set("start", &self.start.to_das());
        f.set("end", &self.end.to_das());
        let mut emails: Vec<&str> = self.attendees.iter().map(|a| a.email.as_str()).collect();
        emails.sort_unstable();
        f.set("attendees", &emails.join(", "));
        if let Some(r) = self.reminder {
            f.set("reminder", &r.to_string());
        }
        f
    }

    /// The calendar-service create body: UTC times, the organizer as chair, public.
    fn notes_body(&self, organizer: &str, organizer_name: &str) -> Value {
        let mut ev = calendar::notes_event(&self.fields(), None);
        let person = |email: &str, name: Option<&str>| {
            let mut p = json!({ "email": email });
            if let Some(n) = name.filter(|n| !n.is_empty()) {
                p["displayName"] = json!(n);
            }
            p
        };
        let mut chair = person(organizer, Some(organizer_name));
        chair["role"] = json!("chair");
        chair["status"] = json!("accepted");
        chair["rsvp"] = json!(false);
        let mut list = vec![chair];
        for a in &self.attendees {
            let mut p = person(&a.email, a.name.as_deref());
            p["role"] = json!("req-participant");
            p["status"] = json!("needs-action");
            p["rsvp"] = json!(true);
            list.push(p);
        }
        if let Some(o) = ev.as_object_mut() {
            o.remove("description");
            o.insert("attendees".into(), Value::Array(list));
            o.insert("organizer".into(), person(organizer, Some(organizer_name)));
            o.insert("class".into(), json!("public"));
            o.insert("transparency".into(), json!("opaque"));
        }
        json!({ "events": [ev] })
    }

    /// The meeting as a new JSCalendar entry: the organizer as owner and chair, each attendee
    /// asked to reply.
    fn pim_body(&self, organizer: &str, organizer_name: &str) -> Value {
        let mut ev = jscal_event(&self.fields());
        let person = |email: &str, name: Option<&str>, roles: Value, status: &str| {
            let mut p = json!({ "@type": "Participant", "email": email, "roles": roles,
                "participationStatus": status });
            if let Some(n) = name.filter(|n| !n.is_empty()) {
                p["name"] = json!(n);
            }
            p
        };
        let mut people = serde_json::Map::new();
        people.insert(
            "organizer".into(),
            person(
                organizer,
                Some(organizer_name),
                json!({ "owner": true, "chair": true }),
                "accepted",
            ),
        );
        for (i, a) in self.attendees.iter().enumerate() {
            let mut p = person(
                &a.email,
                a.name.as_deref(),
                json!({ "attendee": true }),
                "needs-action",
            );
            p["expectReply"] = json!(true);
            people.insert(format!("attendee-{i}"), p);
        }
        if let Some(o) = ev.as_object_mut() {
            o.remove("description");
            o.insert("participants".into(), Value::Object(people));
            o.insert("privacy".into(), json!("public"));
        }
        ev
    }

    /// The CRM Event for `POST /Events`.
    fn crm_body(&self, unid: &str, ctx: &MapCtx) -> Value {
        let mut rec = calendar::crm_event(&self.fields(), &[], &[], true, Some(unid), ctx);
        rec.remove("Description");
        let participants: Vec<Value> = self
            .attendees
            .iter()
            .map(|a| {
                let mut p = match (a.kind, &a.id) {
                    (Kind::Contact, Some(id)) => json!({ "type": "contact", "participant": id }),
                    (Kind::User, Some(id)) => json!({ "type": "user", "participant": id }),
                    _ => json!({ "type": "email", "Email": a.email }),
                };
                if let Some(n) = &a.name {
                    p["name"] = json!(n);
                }
                p
            })
            .collect();
        rec.insert("Participants".into(), Value::Array(participants));
        match self.reminder.and_then(remind_at) {
            Some(r) => rec.insert("Remind_At".into(), r),
            None => rec.remove("Remind_At"),
        };
        json!({ "data": [Value::Object(rec)], "trigger": [] })
    }
}

/// The caller's two upstreams.
struct Calls {
    up: Upstreams,
    config: Config,
}

impl Calls {
    async fn new(state: &AppState, user: &UserRow) -> Result<Self, ApiError> {
        let (config, _) = connect::stored(state, user)?;
        // A person is waiting: blips of Zoho's token endpoint are retried only briefly.
        let up = connect::user_upstreams(state, user)
            .await?
            .with_retry(crate::zoho_token::Retry::INTERACTIVE);
        Ok(Self { up, config })
    }

    async fn call(
        &self,
        side: Side,
        method: &str,
        path: String,
        body: Option<&Value>,
    ) -> Result<HttpResponse, ApiError> {
        let req = HttpRequest {
            id: 0,
            side,
            method: method.into(),
            path,
            headers: body
                .map(|_| Header {
                    name: "Content-Type".into(),
                    value: "application/json".into(),
                })
                .into_iter()
                .collect(),
            body: body.map(Value::to_string),
        };
        self.up.perform(&req).await.map_err(|e| {
            let who = match side {
                Side::Notes => format!("your Domino server {}", self.config.domino.url),
                Side::Crm => "Zoho CRM".to_owned(),
            };
            ApiError::upstream(format!("cannot reach {who}: {}", e.message))
        })
    }

    async fn crm(
        &self,
        method: &str,
        rest: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), ApiError> {
        let path = format!("/crm/{}/{rest}", self.config.zoho.api_version);
        let r = self.call(Side::Crm, method, path, body).await?;
        Ok((
            r.status,
            serde_json::from_str(&r.body).unwrap_or(Value::Null),
        ))
    }

    fn events_path(&self) -> String {
        format!(
            "/{}/api/calendar/events",
            encode_path(&self.config.mail_db())
        )
    }
}

/// The message of a Zoho error answer (top level or the first record's).
fn crm_error(status: u16, v: &Value) -> String {
    let e = v
        .get("data")
        .and_then(Value::as_array)
        .and_then(|d| d.first())
        .unwrap_or(v);
    let code = e.get("code").and_then(Value::as_str).unwrap_or("error");
    let msg = e.get("message").and_then(Value::as_str).unwrap_or("");
    let field = e
        .get("details")
        .and_then(|d| d.get("api_name"))
        .and_then(Value::as_str)
        .map(|f| format!(" ({f})"))
        .unwrap_or_default();
    format!("HTTP {status} {code}: {msg}{field}")
}

/// Looks up contact and user attendees in CRM: unknown ids are refused, and their e-mail is
/// CRM's (a contact without one is invited by e-mail only).
async fn resolve_ids(calls: &Calls, m: &mut Meeting, organizer: &str) -> Result<(), ApiError> {
    let mut users: Option<Vec<zoho::CrmUser>> = None;
    for (i, a) in m.attendees.iter_mut().enumerate() {
        let Some(id) = a.id.clone() else { continue };
        let field = format!("attendees[{i}].id");
        match a.kind {
            Kind::User => {
                if users.is_none() {
                    let (status, v) = calls.crm("GET", "users?type=AllUsers", None).await?;
                    if status != 200 {
                        return Err(ApiError::upstream(format!(
                            "could not read the CRM users: {}",
                            crm_error(status, &v)
                        )));
                    }
                    users = Some(zoho::crm_users(&v));
                }
                let found = users
                    .as_ref()
                    .and_then(|us| us.iter().find(|u| u.user_id == id));
                let Some(u) = found else {
                    return Err(invalid(&field, format!("no CRM user {id}")));
                };
                if !u.email.is_empty() {
                    a.email = u.email.to_lowercase();
                }
                if a.name.is_none() && !u.name.is_empty() {
                    a.name = Some(u.name.clone());
                }
            }
            Kind::Contact => {
                let (status, v) = calls.crm("GET", &format!("Contacts/{id}"), None).await?;
                let rec = v
                    .get("data")
                    .and_then(Value::as_array)
                    .and_then(|d| d.first());
                let Some(rec) = rec.filter(|_| status == 200) else {
                    if status == 204 || status == 200 {
                        return Err(invalid(&field, format!("no CRM contact {id}")));
                    }
                    return Err(ApiError::upstream(format!(
                        "could not read the CRM contact {id}: {}",
                        crm_error(status, &v)
                    )));
                };
                match rec.get("Email").and_then(Value::as_str).map(str::trim) {
                    Some(e) if valid_email(&e.to_lowercase()) => a.email = e.to_lowercase(),
                    _ => {
                        a.kind = Kind::Email;
                        a.id = None;
                    }
                }
                if a.name.is_none() {
                    a.name = rec
                        .get("Full_Name")
                        .and_then(Value::as_str)
                        .filter(|n| !n.is_empty())
                        .map(str::to_owned);
                }
            }
            Kind::Email => {}
        }
    }
    tidy_attendees(m, organizer)
}

/// Makes sure Events has the `Notes_UNID` external field. Making fields is the admin's
/// set-up (`setup.rs`): the admin's meeting makes the missing ones; anybody else's meeting
/// before the set-up is refused with 409 `setup_needed`, naming the admin step (Zoho would
/// refuse them `NO_PERMISSION`).
async fn ensure_xref_field(
    state: &AppState,
    calls: &Calls,
    user: &UserRow,
) -> Result<(), ApiError> {
    let module = Module::Events.crm_api_name();
    let rest = format!("settings/fields?module={module}");
    let (status, v) = calls.crm("GET", &rest, None).await?;
    if status != 200 {
        return Err(ApiError::upstream(format!(
            "could not read the Zoho field settings of {module}: {}",
            crm_error(status, &v)
        )));
    }
    let exists = v.get("fields").and_then(Value::as_array).is_some_and(|fs| {
        fs.iter()
            .any(|f| f.get("api_name").and_then(Value::as_str) == Some(CRM_XREF_FIELD))
    });
    if exists {
        return Ok(());
    }
    if !user.is_admin {
        return Err(ApiError::conflict(
            "setup_needed",
            format!(
                "Zoho CRM Events has no {CRM_XREF_FIELD} field yet, and only the integration's admin may create it: {}. Then schedule the meeting again.",
                super::setup::ADMIN_STEP
            ),
        ));
    }
    let token = zoho::access_token(state, user, false).await?;
    super::setup::ensure(state, &token).await
}

/// The user's zone: the configured one, else the Zoho user's, else UTC.
async fn map_ctx(calls: &Calls) -> MapCtx {
    let mut ctx = MapCtx {
        now: Timestamp(now_ms()),
        ..MapCtx::default()
    };
    let zone = match &calls.config.sync.time_zone {
        Some(z) => Some(z.clone()),
        None => match calls.crm("GET", "users?type=CurrentUser", None).await {
            Ok((200, v)) => v
                .get("users")
                .and_then(Value::as_array)
                .and_then(|u| u.first())
                .and_then(|u| u.get("time_zone"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        },
    };
    if let Some(tz) = zone.and_then(|z| z.parse().ok()) {
        ctx.tz = tz;
    }
    ctx
}

/// The UID from a `Location: …/events/{uid}` header.
fn uid_from_location(loc: &str) -> Option<String> {
    let last = loc.trim_end_matches('/').rsplit('/').next()?;
    let uid = url::form_urlencoded::parse(format!("u={last}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    (!uid.is_empty()).then_some(uid)
}

/// `POST /api/meetings`.
pub async fn schedule(
    State(state): State<AppState>,
    Member { user }: Member,
    body: Result<Json<MeetingBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let calls = Calls::new(&state, &user).await?;
    let Json(body) = body.map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_meeting",
            format!("meeting: {}", e.body_text()),
        )
    })?;
    let organizer = user.email.trim().to_lowercase();
    let mut meeting = validate(body, &organizer)?;
    resolve_ids(&calls, &mut meeting, &organizer).await?;
    ensure_xref_field(&state, &calls, &user).await?;
    let ctx = map_ctx(&calls).await;

    // The Notes meeting (Domino sends the invitations), and its fields as Notes renders them.
    let (uid, read) = match NotesCalendar::of(&calls.config) {
        NotesCalendar::Das => create_das(&calls, &meeting, &organizer, &user.name).await?,
        NotesCalendar::Pim => create_pim(&calls, &meeting, &organizer, &user.name).await?,
    };
    tracing::info!(user = %user.user_id, %uid, "meeting created in Notes");
    let base = read
        .as_ref()
        .map_or_else(|| meeting.fields(), |r| r.fields.clone());

    // The CRM Event.
    let not_in_crm = |why: String| {
        tracing::warn!(user = %user.user_id, %uid, %why, "meeting not created in CRM");
        (
            StatusCode::BAD_GATEWAY,
            Json(json!({
                "error": {
                    "code": "crm_event_not_created",
                    "message": format!(
                        "the Notes meeting was created (UID {uid}) and Domino sent the invitations, but the CRM Event was not: {why}"
                    ),
                },
                "notes_uid": uid,
            })),
        )
            .into_response()
    };
    // The CRM cross-ID names the mail file as the sync engine writes it (DESIGN §4.3).
    let store_profile = profile(&user.user_id);
    let mail_file = mail_file(&state, &calls, &store_profile).await?;
    let xref = mail_file.crm_xref(&uid);
    let (status, v) = match calls
        .crm("POST", "Events", Some(&meeting.crm_body(&xref, &ctx)))
        .await
    {
        Ok(x) => x,
        Err(e) => return Ok(not_in_crm(e.message)),
    };
    let rec = v
        .get("data")
        .and_then(Value::as_array)
        .and_then(|d| d.first());
    let zoho_id = rec
        .filter(|r| r.get("code").and_then(Value::as_str) == Some("SUCCESS"))
        .and_then(|r| r.get("details")?.get("id")?.as_str())
        .map(str::to_owned);
    let Some(zoho_id) = zoho_id.filter(|_| (200..300).contains(&status)) else {
        return Ok(not_in_crm(crm_error(status, &v)));
    };

    // The cross-ID on the Notes side (B5), without notices; the rest of the event as read. A
    // PIM calendar entry cannot hold it: the link alone pairs them, as the sync's own do.
    let das_read = read.as_ref().and_then(|r| r.das.as_ref());
    let base = match NotesCalendar::of(&calls.config) {
        NotesCalendar::Pim => base,
        NotesCalendar::Das => match write_notes_xref(&calls, &uid, &zoho_id, das_read).await {
            Ok(Some(fields)) => fields,
            Ok(None) => base,
            Err(why) => {
                tracing::warn!(user = %user.user_id, %uid, %why, "cross-ID not written to Notes");
                base
            }
        },
    };

    let mut tx = state.begin().await?;
    // Remembered as created by the integration: uninstall may delete it (F9).
    tx.add_created(&store_profile, Module::Events, &ZohoId(zoho_id.clone()))
        .await?;
    tx.apply(
        &store_profile,
        &[
            StateChange::XrefReady {
                module: Module::Events,
            },
            StateChange::LinkSet {
                module: Module::Events,
                link: Link {
                    unid: NotesUnid(uid.clone()),
                    zoho_id: ZohoId(zoho_id.clone()),
                    base,
                },
            },
        ],
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "notes_uid": uid, "zoho_id": zoho_id })),
    )
        .into_response())
}

/// Which calendar a meeting is made in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NotesCalendar {
    /// Domino Access Services' calendar service.
    Das,
    /// The Domino REST API's PIM calendar.
    Pim,
}

impl NotesCalendar {
    fn of(config: &Config) -> Self {
        if config.domino.api == DominoApiChoice::Rest {
            Self::Pim
        } else {
            Self::Das
        }
    }
}

/// A new meeting as Notes renders it: its canonical fields, and DAS's answer (which the
/// Notes-side cross-ID is written back into).
struct NotesMeeting {
    fields: Fields,
    das: Option<Value>,
}

/// Domino's refusal to create the meeting: nothing was created.
fn not_created(status: u16, message: &str) -> ApiError {
    ApiError::upstream(format!(
        "Domino did not create the meeting (HTTP {status}{}); nothing was created",
        if message.is_empty() {
            String::new()
        } else {
            format!(": {message}")
        }
    ))
}

/// `POST /{mail_db}/api/calendar/events` without `workflow=false` (Domino sends the
/// invitations), then `GET` it back: the new event's UID and what Notes made of it.
async fn create_das(
    calls: &Calls,
    meeting: &Meeting,
    organizer: &str,
    organizer_name: &str,
) -> Result<(String, Option<NotesMeeting>), ApiError> {
    let notes_body = meeting.notes_body(organizer, organizer_name);
    let r = calls
        .call(Side::Notes, "POST", calls.events_path(), Some(&notes_body))
        .await?;
    let created: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    let uid = r
        .header("Location")
        .and_then(uid_from_location)
        .or_else(|| {
            created
                .get("events")
                .and_then(Value::as_array)
                .and_then(|e| e.first())
                .and_then(|e| e.get("id"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    let Some(uid) = uid.filter(|_| r.status == 201 || r.status == 200) else {
        return Err(not_created(r.status, &crate::check::das_message(&r.body)));
    };
    let read = calls
        .call(
            Side::Notes,
            "GET",
            format!("{}/{}", calls.events_path(), encode(&uid)),
            None,
        )
        .await
        .ok()
        .filter(|r| r.status == 200)
        .and_then(|r| serde_json::from_str::<Value>(&r.body).ok());
    let fields = [read.as_ref(), Some(&created)]
        .into_iter()
        .flatten()
        .find_map(|body| {
            let ev = body.get("events")?.as_array()?.first()?;
            Some(calendar::record_from_notes_event(ev, &CalZones::from_answer(body), None).fields)
        });
    Ok((uid, fields.map(|fields| NotesMeeting { fields, das: read })))
}

/// `POST /api/pim-v1/calendar/default?send=true` (the REST API sends the invitations): the new
/// entry's UID and what Notes made of it (the answer is the entry).
async fn create_pim(
    calls: &Calls,
    meeting: &Meeting,
    organizer: &str,
    organizer_name: &str,
) -> Result<(String, Option<NotesMeeting>), ApiError> {
    let body = meeting.pim_body(organizer, organizer_name);
    let r = calls
        .call(
            Side::Notes,
            "POST",
            "/api/pim-v1/calendar/default?send=true".into(),
            Some(&body),
        )
        .await?;
    let created: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    let Some(uid) = jscal_key(&created).filter(|_| r.status == 200 || r.status == 201) else {
        let message = created
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Err(not_created(r.status, message));
    };
    let fields = record_from_jscal(&created).fields;
    Ok((uid, Some(NotesMeeting { fields, das: None })))
}

/// The user's mail file as cross-IDs name it: remembered by the sync state, else learnt from
/// the server (DAS: its database list, `GET /api/data`; the Domino REST API: the mailbox's
/// `GET /api/pim-v1/info`) and remembered; by its path when the server does not say.
async fn mail_file(
    state: &AppState,
    calls: &Calls,
    store_profile: &str,
) -> Result<MailFile, ApiError> {
    let mail_db = calls.config.mail_db();
    let known = state
        .db()
        .await?
        .load_state_without_links(store_profile)
        .await?
        .mail_file;
    if let Some(mf) = known.filter(|m| m.is_for(&mail_db)) {
        return Ok(mf);
    }
    let mf = match NotesCalendar::of(&calls.config) {
        NotesCalendar::Das => {
            let list = calls
                .call(Side::Notes, "GET", "/api/data".into(), None)
                .await
                .ok()
                .filter(|r| r.status == 200);
            MailFile::from_database_list(&mail_db, list.as_ref().map(|r| r.body.as_str()))
        }
        NotesCalendar::Pim => {
            let info = calls
                .call(Side::Notes, "GET", "/api/pim-v1/info".into(), None)
                .await
                .ok()
                .filter(|r| r.status == 200);
            MailFile::from_pim_info(&mail_db, info.as_ref().map(|r| r.body.as_str()))
        }
    };
    state
        .db()
        .await?
        .apply(
            store_profile,
            &[StateChange::MailFile {
                mail_file: mf.clone(),
            }],
        )
        .await?;
    Ok(mf)
}

/// PUTs the event as read back with `x-nzsync-zoho-id` added (`workflow=false`: no second
/// round of notices). The canonical fields of the answer, when it has the event.
async fn write_notes_xref(
    calls: &Calls,
    uid: &str,
    zoho_id: &str,
    read: Option<&Value>,
) -> Result<Option<Fields>, String> {
    let mut body = read
        .cloned()
        .ok_or_else(|| "the new meeting could not be read back".to_owned())?;
    let ev = body
        .get_mut("events")
        .and_then(Value::as_array_mut)
        .and_then(|e| e.first_mut())
        .and_then(Value::as_object_mut)
        .ok_or_else(|| "the new meeting could not be read back".to_owned())?;
    ev.remove("href");
    ev.insert(
        calendar::NOTES_EVENT_XREF.into(),
        json!({ "data": zoho_id }),
    );
    let r = calls
        .call(
            Side::Notes,
            "PUT",
            format!("{}/{}?workflow=false", calls.events_path(), encode(uid)),
            Some(&body),
        )
        .await
        .map_err(|e| e.message)?;
    if r.status != 200 {
        return Err(format!(
            "HTTP {}: {}",
            r.status,
            crate::check::das_message(&r.body)
        ));
    }
    let answer: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    Ok(answer
        .get("events")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
        .map(|ev| {
            calendar::record_from_notes_event(ev, &CalZones::from_answer(&answer), None).fields
        }))
}

#[derive(Deserialize)]
pub struct AttendeeQuery {
    #[serde(default)]
    q: String,
}

/// Most matches of each kind.
const MAX_MATCHES: usize = 25;

/// `GET /api/meetings/attendees?q=` → `[{type, id, name, email}]`.
pub async fn attendees(
    State(state): State<AppState>,
    Member { user }: Member,
    Query(query): Query<AttendeeQuery>,
) -> Result<Json<Value>, ApiError> {
    let calls = Calls::new(&state, &user).await?;
    let q = query.q.trim().to_lowercase();
    if q.is_empty() {
        return Ok(Json(json!([])));
    }
    let matches = |s: &str| s.to_lowercase().contains(&q);
    let private_tag = calls.config.sync.private_tag.clone();
    let mut out = Vec::new();

    let fields = "Full_Name,First_Name,Last_Name,Email,Tag";
    let rest = if q.chars().count() <= 2 {
        format!("Contacts?fields={fields}&per_page=200")
    } else if valid_email(&q) {
        format!("Contacts/search?email={}&per_page=50", encode(&q))
    } else {
        format!("Contacts/search?word={}&per_page=50", encode(&q))
    };
    let (status, v) = calls.crm("GET", &rest, None).await?;
    if status != 200 && status != 204 {
        return Err(ApiError::upstream(format!(
            "could not search the CRM contacts: {}",
            crm_error(status, &v)
        )));
    }
    for c in v
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default();
        let email = text("Email");
        let mut name = text("Full_Name").to_owned();
        if name.is_empty() {
            name = format!("{} {}", text("First_Name"), text("Last_Name"))
                .trim()
                .to_owned();
        }
        let Some(id) = c.get("id").and_then(Value::as_str) else {
            continue;
        };
        if email.is_empty() || crm_is_private(c, &private_tag) {
            continue;
        }
        if (matches(&name) || matches(email)) && out.len() < MAX_MATCHES {
            out.push(json!({ "type": "contact", "id": id, "name": name, "email": email }));
        }
    }

    let (status, v) = calls.crm("GET", "users?type=ActiveUsers", None).await?;
    if status != 200 && status != 204 {
        return Err(ApiError::upstream(format!(
            "could not read the CRM users: {}",
            crm_error(status, &v)
        )));
    }
    out.extend(
        zoho::crm_users(&v)
            .into_iter()
            .filter(|u| u.user_id != user.user_id && !u.email.is_empty())
            .filter(|u| matches(&u.name) || matches(&u.email))
            .take(MAX_MATCHES)
            .map(|u| json!({ "type": "user", "id": u.user_id, "name": u.name, "email": u.email })),
    );
    Ok(Json(Value::Array(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminders_fit_zoho_units() {
        assert_eq!(
            remind_at(15),
            Some(json!([{ "unit": 15, "period": "minutes" }]))
        );
        assert_eq!(
            remind_at(0),
            Some(json!([{ "unit": 0, "period": "minutes" }]))
        );
        assert_eq!(
            remind_at(120),
            Some(json!([{ "unit": 2, "period": "hours" }]))
        );
        assert_eq!(
            remind_at(MAX_REMINDER_MINUTES),
            Some(json!([{ "unit": 28, "period": "days" }]))
        );
        assert_eq!(remind_at(61), None);
    }

    #[test]
    fn emails_and_locations() {
        assert!(valid_email("a.b@example.com"));
        assert!(!valid_email("a b@example.com"));
        assert!(!valid_email("nobody"));
        assert!(!valid_email("x@localhost"));
        assert!(!valid_email("@example.com"));
        assert_eq!(
            uid_from_location("/mail/demo.nsf/api/calendar/events/ABC-Lotus_Notes_Generated")
                .as_deref(),
            Some("ABC-Lotus_Notes_Generated")
        );
    }
}
