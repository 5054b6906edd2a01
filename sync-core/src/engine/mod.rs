//! The sans-IO engine: it decides which HTTP requests a sync needs, consumes the answers, plans
//! with [`crate::plan`], executes the plan and reports.
//!
//! Calling order (the "drain rule"):
//! 1. [`Engine::new`] with the config, the stored state and the current time.
//! 2. Call [`Engine::poll_output`] until it returns [`Output::Wait`] or [`Output::Done`]:
//!    - [`Output::Request`]: perform it (concurrently if you like) and later pass the answer to
//!      [`Engine::handle_response`];
//!    - [`Output::State`]: store the change before going on (crash safety);
//! 3. On [`Output::Wait`], wait for an answer or until the given instant, then call
//!    [`Engine::handle_response`] or [`Engine::handle_timeout`] and go back to 2. A large
//!    answer may be handed over in parts as it arrives ([`Engine::handle_response_part`], any
//!    number of times, then [`Engine::handle_response`] with the rest).
//! 4. [`Output::Done`] carries the report; the engine does nothing more.
//!
//! The engine is composed of small parts, one file each:
//! - `transport`: the queue, requests in flight per side, retries by class;
//! - `module_run`: a module's state and its start (full or incremental read);
//! - `setup`: the token's user, the mail file's replica ID, the cross-ID field;
//! - `notes_listing` / `crm_listing` / `events`: reading each side;
//! - `accounts`: contacts' companies as Zoho Accounts;
//! - `execute` and `backlinks`: writing the plan and the cross-IDs;
//! - `outcome`: how a module and the run end; `dispatch`: answers routed to their stage;
//! - `bodies`: answers still arriving in parts;
//! - `series`: writes to a calendar entry the API rewrites whole, one at a time.
//!
//! The paths and error words of each API are in `crate::api`; the Domino side goes through one
//! interface (`crate::api::domino::NotesApi`), whichever API the config names.
//!
//! The engine keeps at most `notes_concurrency` / `crm_concurrency` requests in flight per side,
//! retries 429, 5xx and transport failures with exponential backoff (never a non-idempotent
//! Notes create whose fate is unknown), batches Zoho writes 100 at a time, and reads and writes
//! Domino as its API allows (`crate::api::domino`: DAS one document a request and views 100
//! entries a page, the Domino REST API in bulk).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::api::domino::{self, Call, NotesApi};
use crate::api::zoho::{
    Keyset, coql_row_as_listed, crm_error_code, crm_error_text, listed_ids, listed_records,
    my_view_system_name,
};
use crate::api::{is_transient, parse_json};
use crate::http::{Header, HttpRequest, HttpResponse, TransportError, encode};
use crate::mapping::events as calendar;
use crate::mapping::{
    CRM_ACCOUNT_FIELD, CRM_ACCOUNTS_MODULE, CRM_XREF_FIELD, CRM_XREF_LABEL, MapCtx, NotesDialect,
    crm_account_name, crm_new_record, crm_record, match_key, notes_create_items, notes_items,
    record_from_crm, record_from_notes, set_crm_account_id,
};
use crate::model::{DominoApi, Fields, Module, NotesUnid, Scope, Settings, Side, ZohoId};
use crate::plan::{LinkOp, ModulePlan, PlanInput, PlanItem, SideSnapshot, Write, plan};
use crate::reason::Reason;
use crate::report::{
    ModuleReport, ModuleStatus, ReportEntry, RequestCounts, RunOutcome, RunReport,
};
use crate::state::{Link, StateChange, SyncState};
use crate::time::Timestamp;
use crate::xref::{CrmXref, MailFile};

mod accounts;
mod backlinks;
mod bodies;
mod crm_listing;
mod dispatch;
mod events;
mod execute;
pub(crate) mod keys;
mod link_index;
mod links;
mod marks;
mod module_run;
mod notes_listing;
mod outcome;
mod progress;
mod read_queue;
mod series;
mod setup;
mod side;
pub(crate) mod transport;
mod window;

use execute::CrmBatch;
use links::LinkReads;
pub use links::{LINK_PAGE, LinkQuery, LinkSupply, LinkWant};
pub use progress::{Progress, ProgressPhase};
use transport::{RetryClass, Transport};

pub use crate::api::domino::das::{NOTES_PAGE, das_hint};
use accounts::remember_account;

/// Notes documents a window reads, decides and writes together, unless configured.
pub const DEFAULT_WINDOW: u32 = 2_000;
/// Unlinked CRM content a run holds while it reads Notes, unless configured.
pub const DEFAULT_CRM_POOL_BYTES: u64 = 32 << 20;
/// Notes content a run holds from listings that carry whole documents, unless configured.
pub const DEFAULT_NOTES_POOL_BYTES: u64 = 32 << 20;
/// Zoho takes at most this many records per write call.
pub const CRM_WRITE_BATCH: usize = 100;
/// Zoho lists at most this many records per page.
pub const CRM_PAGE: usize = 200;
/// The largest view total (`Content-Range`) believed enough to ask for every page at once; a
/// larger one is walked page by page, so a wrong header cannot queue millions of requests.
const MAX_VIEW_TOTAL: usize = 1_000_000;
/// Cursors are the server's own `Date` of the first listing answer, stepped back this far: it
/// covers the gap between the server evaluating `since` / `If-Modified-Since` and stamping the
/// answer, with second-precision timestamps on both APIs. Re-reading a record is harmless (its
/// content is compared with the base); missing one is not.
const CURSOR_OVERLAP_MS: i64 = 10_000;
/// Zoho keeps deleted-record ids 60 days; older cursors force a full read.
const CRM_DELETED_RETENTION_MS: i64 = 50 * 86_400_000;
/// Company names per COQL `in (…)` (the v4–v6 limit; v7 allows 100).
const COQL_IN_VALUES: usize = 50;
/// Record ids per `GET /{module}?ids=…` lookup.
const CRM_IDS_PER_LOOKUP: usize = 100;

/// What the engine needs to know about the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineConfig {
    /// The user's mail file, e.g. `mail/jdoe.nsf`.
    pub mail_db: String,
    /// The Domino API the mail file is read and written through (DAS unless given).
    pub domino: DominoApi,
    /// The sync settings.
    pub settings: Settings,
    /// Plan only: read both sides, write nothing, report what would happen.
    pub dry_run: bool,
    /// Skip the mass-delete guard for this run.
    pub allow_mass_delete: bool,
    /// Requests in flight to Domino at most.
    pub notes_concurrency: u32,
    /// Requests in flight to Zoho at most.
    pub crm_concurrency: u32,
    /// Zoho tag that marks a record private.
    pub private_tag: String,
    /// Zoho API version path segment, e.g. `v8`.
    pub crm_api_version: String,
    /// Attempts per request before giving up (1 = no retry).
    pub max_attempts: u32,
    /// First retry delay in milliseconds; doubles per attempt.
    pub retry_base_ms: i64,
    /// The Domino view listing contacts (title or alias).
    pub contacts_view: String,
    /// The Domino view listing to-dos (title or alias).
    pub tasks_view: String,
    /// The user's IANA time zone (to-do dates are days there); when absent, the Zoho user's.
    pub time_zone: Option<String>,
    /// Where the stored links come from: the state given to [`Engine::new`], or the embedder
    /// on request ([`Output::Links`]).
    pub links: LinkSupply,
    /// Notes documents read, decided and written together (the run's memory grows with this,
    /// not with the mail file); at least 1.
    pub window: u32,
    /// The most content of unlinked CRM records (bytes, roughly) a run holds while it reads
    /// Notes; beyond it, such records keep only what pairs them and are read again by id, 100
    /// a call, when a window needs them.
    pub crm_pool_bytes: u64,
    /// The most Notes content (bytes, roughly) a run holds from listings that carry whole
    /// documents (the Domino REST API's); beyond it, listed documents are read again in bulk,
    /// a window at a time.
    pub notes_pool_bytes: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            mail_db: String::new(),
            domino: DominoApi::Das,
            settings: Settings::default(),
            dry_run: false,
            allow_mass_delete: false,
            notes_concurrency: 4,
            crm_concurrency: 4,
            private_tag: "Private".into(),
            crm_api_version: "v8".into(),
            max_attempts: 5,
            retry_base_ms: 500,
            contacts_view: "($Contacts)".into(),
            tasks_view: "($ToDo)".into(),
            time_zone: None,
            links: LinkSupply::InState,
            window: DEFAULT_WINDOW,
            crm_pool_bytes: DEFAULT_CRM_POOL_BYTES,
            notes_pool_bytes: DEFAULT_NOTES_POOL_BYTES,
        }
    }
}

/// What the engine wants next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Perform this request.
    Request(HttpRequest),
    /// Store this change to the sync state now.
    State(StateChange),
    /// Read these stored links and pass them to [`Engine::handle_links`]
    /// ([`LinkSupply::OnRequest`] only).
    Links(LinkQuery),
    /// Nothing to do until an answer arrives or, if given, this instant passes.
    Wait(Option<Timestamp>),
    /// The run is over.
    Done(Box<RunReport>),
}

/// Misuse of the engine by its embedder.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// An answer for a request the engine is not waiting for.
    #[error("no request {0} is in flight")]
    UnknownRequest(u64),
}

/// What an answer is for.
#[derive(Clone, Debug, PartialEq)]
enum Purpose {
    CrmCurrentUser,
    /// What the server shows of the mail file, to learn its replica ID.
    NotesMailFile,
    /// How the server exposes the mail file (the REST API's schema).
    NotesSchema,
    CrmFields,
    /// The module's custom views, to find the system "My …" view (scope `mine`).
    CrmViews,
    /// View scope, incremental: every record of the module changed since the cursor (ids and
    /// owners only), to see linked records that left the view.
    CrmScopeProbe,
    /// Linked records missing from a complete listing: still there (out of scope) or gone.
    CrmIdsLookup,
    /// Unlinked records whose content was not held, read again for a window.
    CrmRefetch,
    /// A page of the calendar-service event list (no total is given: page until short).
    NotesEventsPage {
        start: usize,
    },
    /// One event (or instance), by key `uid` or `uid/recurrenceId`.
    NotesEventRead {
        key: String,
    },
    /// An event read before it is rewritten: the update is merged into what Notes holds.
    NotesEventPrefetch {
        item: usize,
        backlink: bool,
        key: String,
        fields: Fields,
        zid: Option<String>,
    },
    CrmFieldCreate,
    /// The documents changed since the cursor.
    NotesChanges,
    /// `walk`: no total was known, so ask for the next page after this one if it is full.
    NotesViewPage {
        start: usize,
        walk: bool,
    },
    /// Every UNID of the view in one answer.
    NotesViewUnids,
    CrmListPage,
    /// A COQL page of a listing past the records `page_token` reaches.
    CrmKeysetPage {
        keyset: Keyset,
    },
    CrmDeletedPage {
        page: u32,
    },
    /// Documents read by UNID, with what the state says of each.
    NotesRead {
        docs: Vec<(String, ReadFlags)>,
    },
    /// Documents created for these plan items.
    NotesCreate {
        items: Vec<usize>,
    },
    /// An event created for a plan item.
    NotesEventCreate {
        item: usize,
    },
    /// A document's revision, read before it is updated with `items`.
    NotesRevision {
        item: usize,
        backlink: bool,
        unid: String,
        items: Value,
    },
    NotesUpdate {
        item: usize,
        backlink: bool,
    },
    /// Documents deleted for these plan items (their UNIDs, in the same order).
    NotesDelete {
        items: Vec<usize>,
        unids: Vec<String>,
    },
    /// An event deleted for a plan item.
    NotesEventDelete {
        item: usize,
    },
    /// An event read before one of its occurrences is deleted (for a plan item).
    NotesEventDeletePrefetch {
        item: usize,
        key: String,
    },
    CrmInsert {
        items: Vec<usize>,
    },
    CrmUpdate {
        items: Vec<usize>,
        backlink: bool,
    },
    CrmDelete {
        items: Vec<usize>,
    },
    /// Contacts: Accounts with these exact names (COQL).
    CrmAccountsQuery,
    /// Contacts: a page of every Account (when COQL cannot be used).
    CrmAccountsList,
    /// Contacts: Accounts created for these company names.
    CrmAccountsInsert {
        names: Vec<String>,
    },
}

/// What the state says about a Notes document being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ReadFlags {
    /// It is linked.
    linked: bool,
    /// It is remembered as private.
    private: bool,
}

impl Purpose {
    /// How safe the request is to send again when its fate is unknown.
    fn retry_class(&self) -> RetryClass {
        // A Notes create has no idempotency key; an Account create neither (Account_Name is
        // not unique, so a repeated insert would create a second Account; the next run finds
        // the first by name instead). Zoho record inserts are protected by the unique
        // Notes_UNID field.
        match self {
            Self::NotesCreate { .. }
            | Self::NotesEventCreate { .. }
            | Self::CrmAccountsInsert { .. } => RetryClass::UnsureCreate,
            _ => RetryClass::Idempotent,
        }
    }
}

/// A request of the engine's, with what its answer is for.
type Queued = transport::Queued<Purpose>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The module's stored links are being read.
    Links,
    Start,
    Setup,
    Listing,
    /// Linked records the CRM listing did not show are looked up (left the scope, or gone).
    Settling,
    /// The documents the mass-delete guard must see are being read.
    Confirming,
    /// A window of Notes documents is being read.
    Fetching,
    /// A window waits for the bases of its links.
    Bases,
    /// A window waits for CRM records read again by id.
    Refetch,
    /// Contacts: company names looked up as Zoho Accounts.
    Accounts,
    /// Contacts: missing Accounts created.
    AccountCreates,
    Writing,
    Backlinks,
}

#[derive(Clone, Debug, Default)]
struct ItemExec {
    pending: u32,
    error: Option<String>,
    transient: bool,
    new_unid: Option<NotesUnid>,
    new_zid: Option<ZohoId>,
    committed: bool,
}

/// One module's run.
#[derive(Debug)]
struct ModuleRun {
    module: Module,
    phase: Phase,
    failed: Option<String>,
    xref_exists: bool,
    notes_incremental: bool,
    crm_incremental: bool,
    /// Documents the module's view listed.
    notes_listed: marks::Keys,
    /// Documents of the file changed since the cursor (`documents?since`: every form).
    notes_changed: marks::Keys,
    notes: side::SideRun,
    crm: side::SideRun,
    notes_cursor_next: Option<Timestamp>,
    crm_cursor_next: Option<Timestamp>,
    plan: ModulePlan,
    exec: Vec<ItemExec>,
    transient_errors: bool,
    /// Events: the list rows (summary data) by key.
    notes_rows: BTreeMap<String, crate::model::Record>,
    /// Events: the window `[since, before)`.
    window: Option<(Timestamp, Timestamp)>,
    /// Contacts: Zoho Account ids by exact name (from listed contacts, lookups and creates).
    accounts: BTreeMap<String, String>,
    /// Contacts: company names the CRM writes of this run need.
    accounts_wanted: BTreeSet<String>,
    /// Contacts: names that could not be resolved: why, and whether it was transient.
    account_errors: BTreeMap<String, (String, bool)>,
    /// Contacts: the whole Account list was asked for (COQL could not be used).
    accounts_listing: bool,
    /// Notes documents whose answer was not a document (reported as errors).
    unreadable: Vec<ReportEntry>,
    /// Records read from both sides (kept for progress once they are dropped after planning).
    records_read: usize,
    /// The module's stored links when the run started (bases held only where needed).
    index: link_index::LinkIndex,
    /// View scope: records in the view that another user owns.
    crm_not_mine: BTreeSet<String>,
    /// Records whose `Notes_UNID` names another mail file (or an earlier version's form), with
    /// the value found.
    crm_foreign_xref: BTreeMap<String, String>,
    /// View scope, incremental: ids changed since the cursor in the whole module.
    crm_probed: BTreeSet<String>,
    /// What is left to read, decide and write, window by window.
    windows: window::Windows,
    /// Content of unlinked CRM records held, in bytes (roughly).
    pool_bytes: u64,
    /// Unlinked CRM records listed but not held (beyond `crm_pool_bytes`).
    crm_spilled: keys::KeySet,
    /// Content of Notes documents held from listings, in bytes (roughly).
    notes_pool_bytes: u64,
    /// Writes to calendar entries the API rewrites whole, one at a time per entry.
    series: series::SeriesWrites,
}

impl ModuleRun {
    /// The position in the link index of the link of Notes key `unid`.
    fn link_index(&self, unid: &str) -> Option<usize> {
        self.index.by_unid(unid)
    }

    /// Keeps a listed CRM record for planning. A linked record whose content, cross-ID and
    /// privacy are as the link remembers is only noted as unchanged: the planner decides it the
    /// same way, and its content is not held (contacts and to-dos; events need their start to
    /// place them in the calendar window).
    fn keep_crm(&mut self, zid: String, rec: crate::model::Record, budget: u64) {
        if self.module != Module::Events
            && !rec.private
            && let Some(link) = self.index.by_zid(&zid).and_then(|i| self.index.get(i))
            && rec.xref.as_deref() == Some(link.unid.as_ref())
            && rec.fields.digest() == link.digest
        {
            self.crm.records.remove(&zid);
            self.crm.unchanged.insert(&self.index, &zid);
            return;
        }
        self.crm.unchanged.remove(&self.index, &zid);
        if !self.index.has_zid(&zid) {
            // Unlinked: indexed by what pairs it; held, or beyond the budget read again later.
            self.windows.index_free(self.module, &zid, &rec);
            let size = u64::try_from(rec.fields.len_bytes()).unwrap_or(u64::MAX) + 128;
            if self.module != Module::Events && self.pool_bytes.saturating_add(size) > budget {
                self.crm_spilled.insert(&zid);
                return;
            }
            self.pool_bytes = self.pool_bytes.saturating_add(size);
        }
        self.crm.records.insert(zid, rec);
    }

    /// The CRM record `zid` is gone: reported deleted, or missing from a complete listing (and
    /// not out of scope).
    fn crm_gone(&self, zid: &str) -> bool {
        self.crm.deleted.contains(zid)
            || (self.crm.complete && !self.crm_listed(zid) && !self.crm.out_of_scope.contains(zid))
    }

    /// The CRM listed the record `zid` in scope this run.
    fn crm_listed(&self, zid: &str) -> bool {
        self.crm.records.contains_key(zid) || self.crm.unchanged.contains(&self.index, zid)
    }
}

/// The sync engine. See the module docs for the calling order.
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    state: SyncState,
    now: Timestamp,
    transport: Transport<Purpose>,
    /// Answers still arriving in parts.
    partials: bodies::Partials,
    link_reads: LinkReads,
    outputs: VecDeque<Output>,
    modules: VecDeque<Module>,
    run: Option<ModuleRun>,
    report: RunReport,
    finished: bool,
    ctx: MapCtx,
    /// The Zoho user the token belongs to (`users?type=CurrentUser`).
    crm_user: Option<String>,
    /// The user's mail file, as cross-IDs name it.
    mail_file: MailFile,
    /// The Domino API the config names.
    notes: Box<dyn NotesApi>,
}

impl Engine {
    /// A new run over `state` (the stored sync state) starting at `now`.
    #[must_use]
    pub fn new(config: EngineConfig, state: SyncState, now: Timestamp) -> Self {
        let report = RunReport {
            dry_run: config.dry_run,
            started: now,
            finished: now,
            outcome: RunOutcome::Completed,
            error: None,
            modules: Vec::new(),
            requests: RequestCounts::default(),
        };
        let known_mail_file = state
            .mail_file
            .clone()
            .filter(|m| m.is_for(&config.mail_db));
        let mail_file = known_mail_file
            .clone()
            .unwrap_or_else(|| MailFile::new(&config.mail_db, None));
        let notes = domino::backend(&config);
        let dialect = match &config.domino {
            DominoApi::Das => NotesDialect::Das,
            DominoApi::Rest { .. } => NotesDialect::Rest,
        };
        let transport = Transport::new(
            config.notes_concurrency,
            config.crm_concurrency,
            config.max_attempts,
            config.retry_base_ms,
        );
        let mut engine = Self {
            config,
            state,
            now,
            transport,
            partials: bodies::Partials::default(),
            link_reads: LinkReads::default(),
            outputs: VecDeque::new(),
            modules: Module::ALL.into_iter().collect(),
            run: None,
            report,
            finished: false,
            ctx: MapCtx {
                tz: chrono_tz::Tz::UTC,
                now,
                notes: dialect,
            },
            crm_user: None,
            mail_file,
            notes,
        };
        if let Some(name) = engine.config.time_zone.clone() {
            match name.parse::<chrono_tz::Tz>() {
                Ok(tz) => engine.ctx.tz = tz,
                Err(_) => {
                    engine.fatal(format!(
                        "unknown time zone {name:?} (use an IANA name such as Asia/Tokyo)"
                    ));
                    return engine;
                }
            }
        }
        // Who the token belongs to (owner scope) and, unless configured, their time zone; read
        // once, before the first module.
        let path = engine.config.crm_path("users?type=CurrentUser");
        engine.enqueue(Side::Crm, "GET", path, None, Purpose::CrmCurrentUser);
        // How the server exposes the mail file (where the API says), read once per run.
        if let Some(call) = engine.notes.schema_call() {
            engine.enqueue_notes(call, Purpose::NotesSchema);
        }
        // The mail file's replica ID names it in cross-IDs; learnt once, then remembered.
        if known_mail_file.is_none() {
            let call = engine.notes.mail_file_call();
            engine.enqueue_notes(call, Purpose::NotesMailFile);
        }
        engine
    }

    /// The sync state as the engine currently sees it (the stored state plus the changes
    /// emitted so far).
    #[must_use]
    pub fn state(&self) -> &SyncState {
        &self.state
    }

    /// Applies an emitted change to the engine's view of the state. Links read on request
    /// live in the embedder's store only.
    fn remember(&mut self, change: &StateChange) {
        let link_change = matches!(
            change,
            StateChange::LinkSet { .. } | StateChange::LinkRemoved { .. }
        );
        if !(link_change && self.config.links == LinkSupply::OnRequest) {
            self.state.apply(change);
        }
    }

    /// The next thing to do. See the module docs.
    pub fn poll_output(&mut self) -> Output {
        loop {
            if let Some(o) = self.outputs.pop_front() {
                if let Output::State(change) = &o {
                    self.remember(change);
                }
                return o;
            }
            if self.finished {
                return Output::Done(Box::new(self.report.clone()));
            }
            if let Some(o) = self.poll_link_read() {
                return o;
            }
            if let Some(req) = self.transport.poll_request(self.now) {
                return Output::Request(req);
            }
            if self.transport.busy() || self.link_reads.busy() {
                return Output::Wait(self.transport.next_retry());
            }
            if let Some(t) = self.transport.next_retry() {
                return Output::Wait(Some(t));
            }
            self.advance();
        }
    }

    /// Time passed without an answer (after [`Output::Wait`] with an instant).
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.now = self.now.max(now);
        self.ctx.now = self.now;
    }

    /// The answer to request `id`.
    ///
    /// # Errors
    /// [`InputError::UnknownRequest`] when no request `id` is in flight.
    pub fn handle_response(
        &mut self,
        id: u64,
        now: Timestamp,
        result: Result<HttpResponse, TransportError>,
    ) -> Result<(), InputError> {
        self.now = self.now.max(now);
        self.ctx.now = self.now;
        let q = self
            .transport
            .answered(id)
            .ok_or(InputError::UnknownRequest(id))?;
        let none = link_index::LinkIndex::default();
        let index = self.run.as_ref().map_or(&none, |r| &r.index);
        let (result, changed) = self.partials.complete(id, result, index);
        if self.finished {
            return Ok(());
        }
        let Some(q) = self.transport.retry_or_return(q, &result, self.now) else {
            return Ok(());
        };
        if self.run.as_ref().is_some_and(|r| r.failed.is_some()) {
            return Ok(()); // The module already failed: drain.
        }
        match result {
            Ok(resp) => self.on_response(q, &resp, changed),
            Err(e) => {
                let msg = format!("{} did not answer: {e}", q.side);
                self.on_failure(q, &msg, true);
            }
        }
        Ok(())
    }

    /// A part of the answer to request `id`, as it arrives: an embedder may hand a large body
    /// over in any number of parts, then call [`Engine::handle_response`] with the status, the
    /// headers and the rest of the body. The parts and that rest, joined in order, are the whole
    /// body. A changed-documents list is read as its parts arrive and never held whole.
    ///
    /// # Errors
    /// [`InputError::UnknownRequest`] when no request `id` is in flight.
    pub fn handle_response_part(&mut self, id: u64, part: &str) -> Result<(), InputError> {
        let unid_list = match self
            .transport
            .purpose(id)
            .ok_or(InputError::UnknownRequest(id))?
        {
            Purpose::NotesChanges => self.notes.changes_shape() == domino::ChangesShape::UnidStream,
            Purpose::NotesViewUnids => true,
            _ => false,
        };
        if !self.finished {
            let none = link_index::LinkIndex::default();
            let index = self.run.as_ref().map_or(&none, |r| &r.index);
            self.partials.add(id, unid_list, part, index);
        }
        Ok(())
    }

    /// Queues a request for `purpose`.
    fn enqueue(
        &mut self,
        side: Side,
        method: &'static str,
        path: String,
        body: Option<Value>,
        purpose: Purpose,
    ) {
        self.enqueue_with(side, method, path, Vec::new(), body, purpose);
    }

    /// Queues a request to Domino for `purpose`.
    fn enqueue_notes(&mut self, call: Call, purpose: Purpose) {
        self.enqueue(Side::Notes, call.method, call.path, call.body, purpose);
    }

    /// Queues a request for `purpose` with extra headers.
    fn enqueue_with(
        &mut self,
        side: Side,
        method: &'static str,
        path: String,
        mut headers: Vec<Header>,
        body: Option<Value>,
        purpose: Purpose,
    ) {
        if body.is_some() {
            headers.push(Header {
                name: "Content-Type".into(),
                value: "application/json".into(),
            });
        }
        self.transport.push(Queued {
            side,
            method,
            path,
            headers,
            body: body.map(|b| b.to_string()),
            class: purpose.retry_class(),
            purpose,
            attempt: 0,
        });
    }

    /// Moves the run forward when nothing is queued or in flight.
    fn advance(&mut self) {
        let Some(run) = self.run.as_mut() else {
            match self.modules.pop_front() {
                Some(module) => self.start_module(module),
                None => self.finish(),
            }
            return;
        };
        if run.failed.is_some() {
            self.end_module();
            return;
        }
        match run.phase {
            Phase::Links => self.start_setup(),
            Phase::Start | Phase::Setup => self.start_listing(),
            Phase::Listing => self.start_settling(),
            Phase::Settling => self.start_fetching(),
            Phase::Confirming => self.open_windows(),
            Phase::Fetching => self.plan_window(),
            // Only reached if the read of the bases was dropped (a failed module ends first).
            Phase::Bases => self.end_module(),
            Phase::Refetch => self.refetched(),
            Phase::Accounts => self.start_account_creates(),
            Phase::AccountCreates => self.start_writing(),
            Phase::Writing => self.start_backlinks(),
            Phase::Backlinks => self.end_window(),
        }
    }
}

/// The kind of Zoho write a batch answer belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CrmWrite {
    /// Records created (answers carry the new ids).
    Insert,
    /// Content updates of plan items.
    Update,
    /// Cross-ID updates after Notes creates (a failure is retried next run).
    Backlink,
    /// Deletions.
    Delete,
}

/// Answers that end the whole run: rejected credentials, a login page instead of data.
fn fatal_message(notes: &dyn NotesApi, side: Side, resp: &HttpResponse) -> Option<String> {
    match side {
        Side::Notes => notes.fatal(resp),
        Side::Crm if resp.status == 401 => Some(format!(
            "Zoho CRM rejected the access token: {}",
            crm_error_text(resp)
        )),
        Side::Crm => None,
    }
}

/// Runs the planner on already-read snapshots (used by tests and embedders that read data
/// themselves).
#[must_use]
pub fn plan_snapshots(
    module: Module,
    settings: &Settings,
    links: &[Link],
    notes: &BTreeMap<String, crate::model::Record>,
    crm: &BTreeMap<String, crate::model::Record>,
) -> ModulePlan {
    let n = SideSnapshot {
        records: notes.clone(),
        complete: true,
        ..SideSnapshot::default()
    };
    let c = SideSnapshot {
        records: crm.clone(),
        complete: true,
        ..SideSnapshot::default()
    };
    plan(&PlanInput {
        module,
        settings,
        links,
        notes: &n,
        crm: &c,
        allow_mass_delete: false,
    })
}

#[cfg(test)]
mod tests;
