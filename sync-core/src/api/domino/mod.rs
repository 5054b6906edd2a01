//! The Domino side of a sync, through one interface ([`NotesApi`]) with two implementations:
//! Domino Access Services ([`das`], `reference/domino-api.md`) and the Domino REST API
//! ([`rest`], `reference/domino-rest-api.md`). The engine asks the interface for each request it
//! needs (list a module's view, find what changed, read documents, create, update, delete,
//! the calendar) and gives it the answers back to read; it never knows which API it speaks.
//!
//! Each operation answers in the engine's words ([`ViewPage`], [`DocRead`], [`EventsPage`], …),
//! and an API that can do many records in one call says so through its batch sizes: DAS reads,
//! creates and deletes one document a call, the REST API a thousand.

use serde_json::Value;

use crate::engine::EngineConfig;
use crate::http::HttpResponse;
use crate::mapping::MapCtx;
use crate::model::{DominoApi, Fields, Module, Record};
use crate::time::Timestamp;
use crate::xref::MailFile;

pub(crate) mod das;
mod pim;
pub(crate) mod rest;
mod unid_list;

pub(crate) use unid_list::UnidListReader;

/// A request to the Domino server, before the engine gives it an id: the path is relative to
/// the API's base URL (the Domino HTTP server for DAS, the REST API's own port for DRAPI).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Call {
    pub method: &'static str,
    pub path: String,
    pub body: Option<Value>,
}

impl Call {
    pub fn get(path: String) -> Self {
        Self {
            method: "GET",
            path,
            body: None,
        }
    }

    pub fn with_body(method: &'static str, path: String, body: Value) -> Self {
        Self {
            method,
            path,
            body: Some(body),
        }
    }
}

/// How a module's view is listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Listing {
    /// Page by page from offset 0, `size` entries a page (each page's answer read whole).
    Pages { size: usize },
    /// Every UNID of the view in one answer, read as it arrives.
    AllUnids,
}

/// One page of a module's view.
#[derive(Debug, Default)]
pub(crate) struct ViewPage {
    /// Each document listed: its UNID, and its content when the listing carries documents.
    pub docs: Vec<(String, Option<Value>)>,
    /// Entries on the page, with or without a UNID (a full page asks for the next).
    pub len: usize,
    /// The number of entries in the view, when the server says it.
    pub total: Option<usize>,
}

/// How the answer to a changed-documents request is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChangesShape {
    /// The UNIDs of every document of the file changed (all forms), read as they arrive.
    UnidStream,
    /// The module's changed documents themselves.
    Documents,
}

/// A document asked for by UNID.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum DocRead {
    /// Its content.
    Doc(Value),
    /// It does not exist (any more).
    Gone,
    /// The answer for it was not a document: why.
    Unreadable(String),
}

/// One row of a calendar listing: the event (or instance) key and its record.
#[derive(Debug, Default)]
pub(crate) struct EventsPage {
    pub rows: Vec<(String, Record)>,
    /// Rows in the answer (a full page asks for the next).
    pub len: usize,
}

/// One Domino API, as the engine uses it. Implementations hold no state of a run beyond what
/// the server told them about itself (the REST API's schema settings).
pub(crate) trait NotesApi: std::fmt::Debug + Send + Sync {
    // ---- the mail file and the server ----

    /// The request that shows the mail file's replica ID.
    fn mail_file_call(&self) -> Call;

    /// The mail file's identity from that request's answer (`None`: no answer came), by its
    /// path alone when the answer does not show it.
    fn mail_file(&self, mail_db: &str, resp: Option<&HttpResponse>) -> MailFile;

    /// The request that reads how the server exposes the mail file, when the API has one.
    fn schema_call(&self) -> Option<Call>;

    /// Reads the answer to [`NotesApi::schema_call`]; `Err` says what the admin must set up
    /// for the whole run (a missing scope).
    fn read_schema(&mut self, resp: &HttpResponse) -> Result<(), String>;

    /// What keeps `module` from syncing through this API, with the admin step that fixes it
    /// (a form, field or view the schema does not expose); `None` when it can sync.
    fn module_problem(&self, module: Module) -> Option<String>;

    /// An answer that ends the whole run (rejected credentials, a switched-off service, a
    /// login page instead of data): what to tell the user, with the admin step.
    fn fatal(&self, resp: &HttpResponse) -> Option<String>;

    /// The sentence for a failed request: `IBM Notes failed {doing}: …`.
    fn error_text(&self, doing: &str, resp: &HttpResponse) -> String;

    // ---- contacts and to-dos ----

    /// How `module`'s view is listed on a full (`incremental` false) or incremental read.
    fn listing(&self, incremental: bool) -> Listing;

    /// The page of `module`'s view at `start` ([`Listing::Pages`]).
    fn view_page_call(&self, module: Module, incremental: bool, start: usize) -> Call;

    /// Every UNID of `module`'s view ([`Listing::AllUnids`]).
    fn view_unids_call(&self, module: Module) -> Call;

    /// Reads a page of the view; `None` when the answer is not one.
    fn view_page(&self, resp: &HttpResponse) -> Option<ViewPage>;

    /// The request for the documents of `module` changed since `since`, when the API finds
    /// them for this module.
    fn changes_call(&self, module: Module, since: Timestamp) -> Option<Call>;

    /// How the answer to [`NotesApi::changes_call`] is read.
    fn changes_shape(&self) -> ChangesShape;

    /// The changed documents of a [`ChangesShape::Documents`] answer, with their UNIDs;
    /// `None` when the answer is not that.
    fn changed_docs(&self, resp: &HttpResponse) -> Option<Vec<(String, Value)>>;

    /// Documents read by one request at most.
    fn read_batch(&self) -> usize;

    /// The request that reads the documents `unids` of `module`.
    fn read_call(&self, module: Module, unids: &[String]) -> Call;

    /// What the answer says of each document asked (in the order of `asked`); `None` when the
    /// answer as a whole is not one.
    fn read_answer(&self, asked: &[String], resp: &HttpResponse) -> Option<Vec<DocRead>>;

    /// Documents created by one request at most.
    fn create_batch(&self) -> usize;

    /// The request that creates documents of `module` with these items (each a JSON object of
    /// the mapping's items).
    fn create_call(&self, module: Module, docs: Vec<Value>) -> Call;

    /// The UNID of each document created (`asked` of them, in order), or why one was not;
    /// `None` when the answer as a whole refused them.
    fn created(&self, asked: usize, resp: &HttpResponse) -> Option<Vec<Result<String, String>>>;

    /// The request for a document's current revision, when updates must name it.
    fn revision_call(&self, unid: &str) -> Option<Call>;

    /// The revision in the answer to [`NotesApi::revision_call`].
    fn revision(&self, resp: &HttpResponse) -> Option<String>;

    /// The request that changes the items of document `unid` (at `revision` when the API
    /// asked for one).
    fn update_call(&self, unid: &str, items: Value, revision: Option<&str>) -> Call;

    /// Whether the answer to an update says it was done.
    fn updated(&self, resp: &HttpResponse) -> bool;

    /// Documents deleted by one request at most.
    fn delete_batch(&self) -> usize;

    /// The request that deletes the documents `unids`.
    fn delete_call(&self, unids: &[String]) -> Call;

    /// Whether each document (in the order of `asked`) is gone (deleted now, or already), or
    /// why not; `None` when the answer as a whole refused them.
    fn deleted(&self, asked: &[String], resp: &HttpResponse) -> Option<Vec<Result<(), String>>>;

    // ---- calendar ----

    /// The calendar of the mail file, when this API reaches it.
    fn calendar(&self) -> Option<&dyn CalendarApi>;
}

/// The calendar of a mail file, as the engine uses it.
pub(crate) trait CalendarApi {
    /// The page at `start` of the calendar entries starting in `window`.
    fn events_page_call(&self, window: (Timestamp, Timestamp), start: usize) -> Call;

    /// Calendar entries a page holds at most (a full page asks for the next); `None` when one
    /// answer holds them all.
    fn events_page_size(&self) -> Option<usize>;

    /// Whether calendar rows carry everything the mapping reads (otherwise each row that may
    /// have changed is read whole).
    fn event_rows_complete(&self) -> bool;

    /// The entry a write to `key` rewrites whole, when the API rewrites whole entries (writes
    /// to one entry must then go one after another); `None` when each key is written alone.
    fn rewritten_entry<'k>(&self, key: &'k str) -> Option<&'k str>;

    /// Whether an event can hold the Zoho id (the Notes-side cross-ID). Where it cannot, a
    /// linked event's link stands for it: nothing tries to write it.
    fn event_holds_xref(&self) -> bool;

    /// Reads a calendar page; `Err` says why the answer cannot be used.
    fn events_page(&self, resp: &HttpResponse, ctx: &MapCtx) -> Result<EventsPage, String>;

    /// The request that reads the event (or instance) `key` whole.
    fn event_read_call(&self, key: &str) -> Call;

    /// The event `key` from its answer: `Some(None)` when it is gone, `None` when the answer
    /// is not one.
    fn event_read(&self, key: &str, resp: &HttpResponse, ctx: &MapCtx) -> Option<Option<Record>>;

    /// The request that writes `fields` into the event `key` as the server holds it
    /// (`current`, the answer to [`CalendarApi::event_read_call`]), keeping what the mapping does
    /// not carry, and never sending notices; `None` when `current` is not an event.
    fn event_update_call(
        &self,
        key: &str,
        current: &HttpResponse,
        fields: &Fields,
        xref: Option<&str>,
    ) -> Option<Call>;

    /// The request that creates an event with `fields`, never sending invitations.
    fn event_create_call(&self, fields: &Fields, xref: Option<&str>) -> Call;

    /// The new event's key, or why there is none; `None` when the answer refused it.
    fn event_created(&self, resp: &HttpResponse) -> Option<Result<String, String>>;

    /// The request that deletes the event (or instance) `key`, never sending notices; `None`
    /// when the event must be read first ([`CalendarApi::event_delete_after_read`]).
    fn event_delete_call(&self, key: &str) -> Option<Call>;

    /// The request that deletes `key` from the event as the server holds it (`current`, the
    /// answer to [`CalendarApi::event_read_call`]); `None` when `current` is not an event.
    fn event_delete_after_read(&self, key: &str, current: &HttpResponse) -> Option<Call>;

    /// Whether the answer to a delete says the event is gone.
    fn event_deleted(&self, resp: &HttpResponse) -> bool;
}

/// The implementation of the API `config` names.
pub(crate) fn backend(config: &EngineConfig) -> Box<dyn NotesApi> {
    match &config.domino {
        DominoApi::Das => Box::new(das::Das::new(config)),
        DominoApi::Rest { scope } => Box::new(rest::Rest::new(config, scope.clone())),
    }
}
