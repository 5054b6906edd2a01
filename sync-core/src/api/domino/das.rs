//! Domino Access Services (`reference/domino-api.md`): the data service for contacts and to-dos
//! (view pages of 100 entries, `documents?since=` for changes, one request per document) and the
//! calendar service for events (`workflow=false` on every write).

use serde_json::{Value, json};

use super::{CalendarApi, Call, ChangesShape, DocRead, EventsPage, Listing, NotesApi, ViewPage};
use crate::api::parse_json;
use crate::engine::EngineConfig;
use crate::http::{HttpResponse, encode, encode_path};
use crate::mapping::MapCtx;
use crate::mapping::events::{self as calendar, CalZones};
use crate::model::{Fields, Module, Record};
use crate::time::Timestamp;
use crate::xref::MailFile;

/// DAS returns at most this many view entries (and calendar rows) per request.
pub const NOTES_PAGE: usize = 100;

/// Domino Access Services for one mail file.
#[derive(Debug)]
pub(crate) struct Das {
    mail_db: String,
    contacts_view: String,
    tasks_view: String,
}

impl Das {
    pub fn new(config: &EngineConfig) -> Self {
        Self {
            mail_db: config.mail_db.clone(),
            contacts_view: config.contacts_view.clone(),
            tasks_view: config.tasks_view.clone(),
        }
    }

    fn db_path(&self, rest: &str) -> String {
        format!(
            "/{}/api/data/{rest}",
            encode_path(self.mail_db.trim_matches('/'))
        )
    }

    fn cal_path(&self, rest: &str) -> String {
        format!(
            "/{}/api/calendar/{rest}",
            encode_path(self.mail_db.trim_matches('/'))
        )
    }

    /// `events/{uid}` or `events/{uid}/{recurrenceId}` for a Notes event key.
    fn event_path(&self, key: &str, query: &str) -> String {
        let segs: Vec<String> = key.split('/').map(encode).collect();
        self.cal_path(&format!("events/{}{query}", segs.join("/")))
    }

    fn doc_path(&self, unid: &str) -> String {
        self.db_path(&format!("documents/unid/{}", encode(unid)))
    }
}

/// The message of a DAS error body (`message`, else `text`), else the status.
pub(crate) fn das_message(resp: &HttpResponse) -> String {
    parse_json(resp)
        .and_then(|b| {
            b.get("message")
                .or_else(|| b.get("text"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| format!("HTTP {}", resp.status))
}

/// The admin step that fixes a DAS refusal (`DESIGN.md` F2, the seed's menu paths).
#[must_use]
pub fn das_hint(message: &str) -> &'static str {
    if message.contains("not enabled for this database")
        || message.contains("Cannot access resource")
    {
        " — ask the Domino admin to open the mail file's properties in Domino Designer, Advanced \
         tab, and set \"Allow Domino Data Service\" to \"Views and documents\""
    } else if message.contains("not enabled for this view") {
        " — ask the Domino admin to open the view's properties in Domino Designer, Advanced tab, \
         and enable \"Allow Domino Data Service operations\""
    } else if message == "Forbidden" || message == "HTTP 403" {
        " — ask the Domino admin to enable Data and Calendar under Current Server Document → \
         Internet Protocols → Domino Web Engine → Domino Access Services → Enabled services"
    } else {
        ""
    }
}

/// The event of a calendar answer that key `uid` or `uid/recurrenceId` names: the instance with
/// that recurrence id, else the first event.
fn event_instance<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    let rid = key.split_once('/').map(|(_, r)| r);
    let events = body.get("events")?.as_array()?;
    events
        .iter()
        .find(|e| e.get("recurrenceId").and_then(Value::as_str) == rid)
        .or_else(|| events.first())
}

/// The last path segment of a `Location` header, without a query: the new document's UNID or
/// the new event's UID.
fn location_id(resp: &HttpResponse) -> Option<String> {
    resp.header("Location")
        .and_then(|l| l.rsplit('/').next())
        .map(|u| u.split('?').next().unwrap_or(u).to_owned())
        .filter(|u| !u.is_empty())
}

impl NotesApi for Das {
    fn mail_file_call(&self) -> Call {
        Call::get("/api/data".to_owned())
    }

    fn mail_file(&self, mail_db: &str, resp: Option<&HttpResponse>) -> MailFile {
        let list = resp.filter(|r| r.status == 200).map(|r| r.body.as_str());
        MailFile::from_database_list(mail_db, list)
    }

    fn schema_call(&self) -> Option<Call> {
        None
    }

    fn read_schema(&mut self, _resp: &HttpResponse) -> Result<(), String> {
        Ok(())
    }

    fn module_problem(&self, _module: Module) -> Option<String> {
        None
    }

    fn fatal(&self, resp: &HttpResponse) -> Option<String> {
        let html = resp
            .header("Content-Type")
            .is_some_and(|c| c.contains("text/html"))
            || resp.body.trim_start().starts_with('<');
        if resp.status == 401 {
            Some("IBM Notes rejected the user name or password (HTTP 401)".into())
        } else if resp.status == 200 && html {
            Some(
                "IBM Notes answered with a login page instead of data: check the user name and \
                 password (the server uses session authentication)"
                    .into(),
            )
        } else if resp.status == 403 {
            let msg = das_message(resp);
            Some(format!("IBM Notes refused access: {msg}{}", das_hint(&msg)))
        } else {
            None
        }
    }

    fn error_text(&self, doing: &str, resp: &HttpResponse) -> String {
        format!(
            "IBM Notes failed {doing}: {} (HTTP {})",
            das_message(resp),
            resp.status
        )
    }

    fn listing(&self, _incremental: bool) -> Listing {
        Listing::Pages { size: NOTES_PAGE }
    }

    fn view_page_call(&self, module: Module, _incremental: bool, start: usize) -> Call {
        let view = match module {
            Module::Contacts => &self.contacts_view,
            Module::Tasks => &self.tasks_view,
            // Events are listed by the calendar service, not a view.
            Module::Events => "($Calendar)",
        };
        Call::get(self.db_path(&format!(
            "collections/name/{}?start={start}&count={NOTES_PAGE}",
            encode(view)
        )))
    }

    fn view_unids_call(&self, module: Module) -> Call {
        // DAS pages every view (`listing` never asks for this); the first page stands in.
        self.view_page_call(module, true, 0)
    }

    fn view_page(&self, resp: &HttpResponse) -> Option<ViewPage> {
        let Some(Value::Array(entries)) = parse_json(resp).filter(|_| resp.status == 200) else {
            return None;
        };
        let total = resp
            .header("Content-Range")
            .and_then(|r| r.rsplit('/').next())
            .and_then(|t| t.trim().parse::<usize>().ok());
        let docs = entries
            .iter()
            .filter_map(|e| e.get("@unid").and_then(Value::as_str))
            .map(|u| (u.to_owned(), None))
            .collect();
        Some(ViewPage {
            docs,
            len: entries.len(),
            total,
        })
    }

    fn changes_call(&self, _module: Module, since: Timestamp) -> Option<Call> {
        Some(Call::get(self.db_path(&format!(
            "documents?since={}",
            encode(&since.to_das())
        ))))
    }

    fn changes_shape(&self) -> ChangesShape {
        ChangesShape::UnidStream
    }

    fn changed_docs(&self, _resp: &HttpResponse) -> Option<Vec<(String, Value)>> {
        None
    }

    fn read_batch(&self) -> usize {
        1
    }

    fn read_call(&self, _module: Module, unids: &[String]) -> Call {
        let unid = unids.first().map_or("", String::as_str);
        Call::get(self.db_path(&format!("documents/unid/{}?markread=false", encode(unid))))
    }

    fn read_answer(&self, _asked: &[String], resp: &HttpResponse) -> Option<Vec<DocRead>> {
        match resp.status {
            // Deleted between listing and reading: it is gone.
            404 => Some(vec![DocRead::Gone]),
            200 => Some(vec![match parse_json(resp) {
                Some(doc) => DocRead::Doc(doc),
                None => DocRead::Unreadable(self.error_text("reading a document", resp)),
            }]),
            _ => None,
        }
    }

    fn create_batch(&self) -> usize {
        1
    }

    fn create_call(&self, module: Module, docs: Vec<Value>) -> Call {
        let items = docs.into_iter().next().unwrap_or_else(|| json!({}));
        Call::with_body(
            "POST",
            self.db_path(&format!(
                "documents?form={}",
                crate::mapping::notes_form(module)
            )),
            items,
        )
    }

    fn created(&self, _asked: usize, resp: &HttpResponse) -> Option<Vec<Result<String, String>>> {
        (resp.status == 201).then(|| {
            vec![
                location_id(resp).ok_or_else(|| {
                    "IBM Notes created the document but sent no Location".to_owned()
                }),
            ]
        })
    }

    fn revision_call(&self, _unid: &str) -> Option<Call> {
        None
    }

    fn revision(&self, _resp: &HttpResponse) -> Option<String> {
        None
    }

    fn update_call(&self, unid: &str, items: Value, _revision: Option<&str>) -> Call {
        Call::with_body("PATCH", self.doc_path(unid), items)
    }

    fn updated(&self, resp: &HttpResponse) -> bool {
        resp.status == 200
    }

    fn delete_batch(&self) -> usize {
        1
    }

    fn delete_call(&self, unids: &[String]) -> Call {
        Call {
            method: "DELETE",
            path: self.doc_path(unids.first().map_or("", String::as_str)),
            body: None,
        }
    }

    fn deleted(&self, _asked: &[String], resp: &HttpResponse) -> Option<Vec<Result<(), String>>> {
        // 404: already gone, which is what was wanted.
        matches!(resp.status, 200 | 404).then(|| vec![Ok(())])
    }

    fn calendar(&self) -> Option<&dyn CalendarApi> {
        Some(self)
    }
}

/// The calendar service (`reference/domino-api.md` §2): pages of summary rows, one GET per
/// event, and `workflow=false` on every write.
impl CalendarApi for Das {
    fn events_page_call(&self, (since, before): (Timestamp, Timestamp), start: usize) -> Call {
        Call::get(self.cal_path(&format!(
            "events?since={}&before={}&start={start}&count={NOTES_PAGE}",
            encode(&since.to_das()),
            encode(&before.to_das())
        )))
    }

    fn events_page_size(&self) -> Option<usize> {
        Some(NOTES_PAGE)
    }

    fn rewritten_entry<'k>(&self, _key: &'k str) -> Option<&'k str> {
        None // Each instance has a URL of its own.
    }

    fn event_holds_xref(&self) -> bool {
        true // The X-property `x-nzsync-zoho-id`.
    }

    fn event_rows_complete(&self) -> bool {
        // List rows are summaries: no description, attendees or alarm.
        false
    }

    fn events_page(&self, resp: &HttpResponse, _ctx: &MapCtx) -> Result<EventsPage, String> {
        let refused = || self.error_text("listing calendar events", resp);
        if resp.status != 200 {
            return Err(refused());
        }
        // An empty window is 200 with no body at all.
        let body = if resp.body.trim().is_empty() {
            json!({"events": []})
        } else {
            parse_json(resp).ok_or_else(refused)?
        };
        let zones = CalZones::from_answer(&body);
        let events = body
            .get("events")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let rows = events
            .iter()
            .filter_map(|ev| {
                let id = ev.get("id").and_then(Value::as_str)?;
                let key = match ev.get("recurrenceId").and_then(Value::as_str) {
                    Some(rid) => format!("{id}/{rid}"),
                    None => id.to_owned(),
                };
                Some((key, calendar::record_from_notes_event(ev, &zones, None)))
            })
            .collect();
        Ok(EventsPage {
            rows,
            len: events.len(),
        })
    }

    fn event_read_call(&self, key: &str) -> Call {
        Call::get(self.event_path(key, ""))
    }

    fn event_read(&self, key: &str, resp: &HttpResponse, _ctx: &MapCtx) -> Option<Option<Record>> {
        if resp.status == 404 {
            return Some(None);
        }
        let body = parse_json(resp).filter(|_| resp.status == 200)?;
        let zones = CalZones::from_answer(&body);
        Some(
            event_instance(&body, key)
                .map(|ev| calendar::record_from_notes_event(ev, &zones, None)),
        )
    }

    fn event_update_call(
        &self,
        key: &str,
        current: &HttpResponse,
        fields: &Fields,
        xref: Option<&str>,
    ) -> Option<Call> {
        let body = parse_json(current).filter(|_| current.status == 200)?;
        let raw = event_instance(&body, key).cloned().unwrap_or(Value::Null);
        let mut put = json!({"events": [calendar::merge_notes_event(&raw, fields, xref)]});
        if let Some(tz) = body.get("timezones") {
            put["timezones"] = tz.clone();
        }
        Some(Call::with_body(
            "PUT",
            self.event_path(key, "?workflow=false"),
            put,
        ))
    }

    fn event_create_call(&self, fields: &Fields, xref: Option<&str>) -> Call {
        Call::with_body(
            "POST",
            self.cal_path("events?workflow=false"),
            json!({"events": [calendar::notes_event(fields, xref)]}),
        )
    }

    fn event_created(&self, resp: &HttpResponse) -> Option<Result<String, String>> {
        (resp.status == 201).then(|| {
            location_id(resp)
                .ok_or_else(|| "IBM Notes created the document but sent no Location".to_owned())
        })
    }

    fn event_delete_call(&self, key: &str) -> Option<Call> {
        Some(Call {
            method: "DELETE",
            path: self.event_path(key, "?workflow=false"),
            body: None,
        })
    }

    fn event_delete_after_read(&self, key: &str, _current: &HttpResponse) -> Option<Call> {
        self.event_delete_call(key)
    }

    fn event_deleted(&self, resp: &HttpResponse) -> bool {
        matches!(resp.status, 200 | 404)
    }
}
