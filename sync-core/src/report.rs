//! The run report (B6): per module what was created, updated, deleted, skipped, in conflict or
//! in error, each entry with its reason.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::model::{Module, NotesUnid, ZohoId};
use crate::plan::{FieldConflict, PlanItem, Verdict, Write};
use crate::reason::{Action, Reason};
use crate::time::Timestamp;

/// How a module's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleStatus {
    /// Read, planned and (unless a dry run) written.
    Completed,
    /// Could not be read or written; see the message.
    Failed,
    /// Held back by the mass-delete guard; see the message.
    Guarded,
    /// Switched off in the settings.
    Off,
    /// On in the settings, but an earlier module's failure stopped the run before it ran.
    NotRun,
}

impl ModuleStatus {
    /// The status in words, as the terminal and the API spell it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Guarded => "held back",
            Self::Off => "off",
            Self::NotRun => "did not run",
        }
    }

    /// The module was on but did not finish its work: it failed or never ran.
    #[must_use]
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::NotRun)
    }
}

/// The words of the engine's failure for a listing that meets Zoho's 100,000-record wall and
/// cannot go past it ([`FailureCause::CrmListingLimit`]).
pub const CRM_LISTING_LIMIT: &str = "more than the 100,000 records Zoho pages through";

/// Why a module failed or did not run, as a reader in any language needs it: the widget words
/// it in the user's language and shows the admin step; [`ModuleReport::message`] has the
/// server's own words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCause {
    /// Domino Access Services is off on the server (the Data or the Calendar service).
    DasServer,
    /// The mail file does not allow the Domino data service (or allows views only).
    DasDatabase,
    /// A view of the mail file does not allow the Domino data service.
    DasView,
    /// IBM Notes refused the user name or password.
    NotesLogin,
    /// Zoho CRM refused the access token.
    CrmLogin,
    /// A server did not answer.
    Unreachable,
    /// An earlier module's failure stopped the run before this module ran.
    RunStopped,
    /// Zoho CRM pages a listing only through its first 100,000 records, and what is past them
    /// cannot be read another way: the module is synced through a custom view, or it is events
    /// (the query language cannot read a view or participants).
    CrmListingLimit,
    /// Anything else; the message says what.
    Other,
}

impl FailureCause {
    /// The cause a failure message names. The messages are the engine's, which quote the
    /// servers' exact texts (`reference/domino-api.md` §4.2 for DAS).
    #[must_use]
    pub fn of_message(message: &str) -> Self {
        if message.contains("not enabled for this view") {
            Self::DasView
        } else if message.contains("not enabled for this database")
            || message.contains("Cannot access resource")
        {
            Self::DasDatabase
        } else if message.contains("refused access: Forbidden")
            || message.contains("refused access: HTTP 403")
        {
            Self::DasServer
        } else if message.contains("rejected the user name or password")
            || message.contains("login page instead of data")
        {
            Self::NotesLogin
        } else if message.contains("Zoho CRM rejected the access token") {
            Self::CrmLogin
        } else if message.contains("did not answer") {
            Self::Unreachable
        } else if message.contains(CRM_LISTING_LIMIT) {
            Self::CrmListingLimit
        } else {
            Self::Other
        }
    }
}

/// Counts shown on the dashboard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Records created (on either side).
    pub created: u32,
    /// Records updated.
    pub updated: u32,
    /// Records deleted.
    pub deleted: u32,
    /// Records not synced (private, one way, guard).
    pub skipped: u32,
    /// Records with fields changed on both sides.
    pub conflicts: u32,
    /// Records whose writes failed.
    pub errors: u32,
    /// Pairs linked on first sight (first sync, lost state).
    pub linked: u32,
    /// Pairs unlinked (both copies kept).
    pub unlinked: u32,
    /// Pairs already in step.
    pub unchanged: u32,
}

/// One dashboard row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportEntry {
    /// Category.
    pub verdict: Verdict,
    /// Readable name.
    pub label: String,
    /// Notes document, if any.
    pub unid: Option<NotesUnid>,
    /// Zoho record, if any.
    pub zoho_id: Option<ZohoId>,
    /// What was (or would be) done in Notes.
    pub notes: Option<String>,
    /// What was (or would be) done in CRM.
    pub crm: Option<String>,
    /// Why, in English.
    pub reason: String,
    /// Why, as data: the widget words it in the user's language.
    #[serde(default)]
    pub why: Reason,
    /// What was (or would be) done in Notes, as data.
    #[serde(default)]
    pub notes_action: Option<Action>,
    /// What was (or would be) done in CRM, as data.
    #[serde(default)]
    pub crm_action: Option<Action>,
    /// Fields that changed.
    pub fields: Vec<String>,
    /// Fields changed on both sides and who won.
    pub conflicts: Vec<FieldConflict>,
    /// Set when a write failed: what the server said.
    pub error: Option<String>,
}

impl ReportEntry {
    /// The row for a plan item (before or after execution).
    #[must_use]
    pub fn from_item(it: &PlanItem) -> Self {
        Self {
            verdict: it.verdict,
            label: it.label.clone(),
            unid: it.unid.clone(),
            zoho_id: it.zoho_id.clone(),
            notes: it.notes.as_ref().map(|w| action(w).to_string()),
            crm: it.crm.as_ref().map(|w| action(w).to_string()),
            reason: it.reason.clone(),
            why: it.why.clone(),
            notes_action: it.notes.as_ref().map(action),
            crm_action: it.crm.as_ref().map(action),
            fields: it.fields.clone(),
            conflicts: it.conflicts.clone(),
            error: None,
        }
    }
}

fn action(w: &Write) -> Action {
    match w {
        Write::Create { .. } => Action::Create,
        Write::Delete => Action::Delete,
        Write::Update { set, clear, xref } => Action::Update {
            fields: set
                .names()
                .map(str::to_owned)
                .chain(clear.iter().cloned())
                .collect(),
            xref: *xref,
        },
    }
}

impl ReportEntry {
    /// Sets why the entry is what it is (the typed reason and its English text).
    pub fn because(&mut self, why: Reason) {
        self.reason = why.to_string();
        self.why = why;
    }
}

/// One module's part of the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleReport {
    /// The module.
    pub module: Module,
    /// How it ended.
    pub status: ModuleStatus,
    /// Why it failed or was held back.
    pub message: Option<String>,
    /// The counts.
    pub counts: Counts,
    /// The rows (unchanged pairs are only counted): the first [`ENTRIES_PER_KIND`] of each kind
    /// (each verdict, and errors), so a run of 100,000 records keeps a report of bounded size.
    pub entries: Vec<ReportEntry>,
    /// Rows counted but not listed, beyond [`ENTRIES_PER_KIND`] of their kind.
    #[serde(default)]
    pub omitted: u32,
    /// The kinds already listed [`ENTRIES_PER_KIND`] times, so a run of a million records
    /// does not count the listed rows again for each one past the limit.
    #[serde(skip)]
    full: FullKinds,
}

/// The kinds of rows a [`ModuleReport`] lists no more of: a cache of what its rows show, so it
/// takes no part in comparing reports.
#[derive(Clone, Copy, Debug, Default)]
struct FullKinds(u8);

impl FullKinds {
    fn bit(kind: Option<Verdict>) -> u8 {
        1 << match kind {
            None => 0,
            Some(Verdict::Created) => 1,
            Some(Verdict::Deleted) => 2,
            Some(Verdict::Updated) => 3,
            Some(Verdict::Skipped) => 4,
            Some(Verdict::Linked) => 5,
            Some(Verdict::Unlinked) => 6,
            Some(Verdict::InStep) => 7,
        }
    }
}

impl PartialEq for FullKinds {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for FullKinds {}

/// The most rows a module's report lists of one kind (one verdict, or errors); the counts
/// always cover every record.
pub const ENTRIES_PER_KIND: usize = 1_000;

/// The kind a row is listed under: its verdict, or an error.
fn kind(e: &ReportEntry) -> Option<Verdict> {
    if e.error.is_some() {
        None
    } else {
        Some(e.verdict)
    }
}

impl ModuleReport {
    /// Why the module failed or did not run (`None` when it did not fail).
    #[must_use]
    pub fn failure_cause(&self) -> Option<FailureCause> {
        match self.status {
            ModuleStatus::NotRun => Some(FailureCause::RunStopped),
            ModuleStatus::Failed => Some(
                self.message
                    .as_deref()
                    .map_or(FailureCause::Other, FailureCause::of_message),
            ),
            _ => None,
        }
    }

    /// An empty report for `module` with `status`.
    #[must_use]
    pub fn new(module: Module, status: ModuleStatus) -> Self {
        Self {
            module,
            status,
            message: None,
            counts: Counts::default(),
            entries: Vec::new(),
            omitted: 0,
            full: FullKinds::default(),
        }
    }

    /// Adds a row and counts it.
    pub fn push(&mut self, entry: ReportEntry) {
        let c = &mut self.counts;
        if entry.error.is_some() {
            c.errors += 1;
        } else {
            match entry.verdict {
                Verdict::Created => c.created += 1,
                Verdict::Deleted => c.deleted += 1,
                Verdict::Updated => c.updated += 1,
                Verdict::Skipped => c.skipped += 1,
                Verdict::Linked => c.linked += 1,
                Verdict::Unlinked => c.unlinked += 1,
                Verdict::InStep => c.unchanged += 1,
            }
        }
        if !entry.conflicts.is_empty() {
            c.conflicts += 1;
        }
        if entry.verdict != Verdict::InStep || entry.error.is_some() {
            let k = kind(&entry);
            let bit = FullKinds::bit(k);
            let full = self.full.0 & bit != 0
                || (self.entries.len() >= ENTRIES_PER_KIND
                    && self.entries.iter().filter(|e| kind(e) == k).count() >= ENTRIES_PER_KIND);
            if full {
                self.full.0 |= bit;
                self.omitted += 1;
            } else {
                self.entries.push(entry);
            }
        }
    }
}

/// How the whole run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every module completed and every write succeeded.
    Completed,
    /// The run finished, but some records failed or a module was held back or failed.
    Partial,
    /// The run could not be carried out (credentials, servers).
    Failed,
}

/// Requests made, per side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    /// Requests to Domino.
    pub notes: u32,
    /// Requests to Zoho CRM.
    pub crm: u32,
    /// Of those, retries after 429, 5xx or transport errors.
    pub retries: u32,
}

/// The whole run's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// A preview: nothing was written.
    pub dry_run: bool,
    /// When the run started.
    pub started: Timestamp,
    /// When it finished.
    pub finished: Timestamp,
    /// How it ended.
    pub outcome: RunOutcome,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Per module.
    pub modules: Vec<ModuleReport>,
    /// Requests made.
    pub requests: RequestCounts,
}

impl RunOutcome {
    /// The outcome in words, as the terminal spells it: a run that did not complete never
    /// reads "completed".
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Partial => "incomplete",
            Self::Failed => "failed",
        }
    }
}

impl RunReport {
    /// The modules that were on but failed or did not run.
    pub fn failed_modules(&self) -> impl Iterator<Item = &ModuleReport> {
        self.modules.iter().filter(|m| m.status.is_failure())
    }

    /// The report as text for a terminal.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let title = if self.dry_run {
            "Preview (nothing was written)"
        } else {
            "Sync report"
        };
        let mut why = Vec::new();
        for status in [
            ModuleStatus::Failed,
            ModuleStatus::NotRun,
            ModuleStatus::Guarded,
        ] {
            let names: Vec<String> = self
                .modules
                .iter()
                .filter(|m| m.status == status)
                .map(|m| m.module.to_string())
                .collect();
            if !names.is_empty() {
                why.push(format!("{}: {}", status.as_str(), names.join(", ")));
            }
        }
        let errors: u32 = self.modules.iter().map(|m| m.counts.errors).sum();
        if errors > 0 {
            why.push(format!("{errors} records failed"));
        }
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(" ({})", why.join("; "))
        };
        let _ = writeln!(
            s,
            "{title}: {}{why}, {} → {}",
            self.outcome.as_str(),
            self.started,
            self.finished
        );
        if let Some(e) = &self.error {
            let _ = writeln!(s, "error: {e}");
        }
        for m in &self.modules {
            let c = &m.counts;
            let _ = writeln!(
                s,
                "\n{}: {} — created {}, updated {}, deleted {}, skipped {}, conflicts {}, errors {}, linked {}, unlinked {}, unchanged {}",
                m.module,
                m.status.as_str(),
                c.created,
                c.updated,
                c.deleted,
                c.skipped,
                c.conflicts,
                c.errors,
                c.linked,
                c.unlinked,
                c.unchanged
            );
            if let Some(msg) = &m.message {
                let _ = writeln!(s, "  ! {msg}");
            }
            for e in &m.entries {
                let mut what = Vec::new();
                if let Some(n) = &e.notes {
                    what.push(format!("Notes: {n}"));
                }
                if let Some(c) = &e.crm {
                    what.push(format!("CRM: {c}"));
                }
                let _ = write!(
                    s,
                    "  {:<9} {}  — {}",
                    format!("{:?}", e.verdict).to_lowercase(),
                    e.label,
                    e.reason
                );
                if !what.is_empty() {
                    let _ = write!(s, " [{}]", what.join("; "));
                }
                if let Some(err) = &e.error {
                    let _ = write!(s, " ERROR: {err}");
                }
                s.push('\n');
            }
            if m.omitted > 0 {
                let _ = writeln!(
                    s,
                    "  … and {} more, counted above but not listed (at most {ENTRIES_PER_KIND} of each kind are)",
                    m.omitted
                );
            }
        }
        let _ = writeln!(
            s,
            "\nrequests: {} to IBM Notes, {} to Zoho CRM ({} retries)",
            self.requests.notes, self.requests.crm, self.requests.retries
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(module: Module, status: ModuleStatus, message: Option<&str>) -> ModuleReport {
        let mut m = ModuleReport::new(module, status);
        m.message = message.map(str::to_owned);
        m
    }

    fn report(outcome: RunOutcome, modules: Vec<ModuleReport>) -> RunReport {
        RunReport {
            dry_run: false,
            started: Timestamp(0),
            finished: Timestamp(1000),
            outcome,
            error: None,
            modules,
            requests: RequestCounts::default(),
        }
    }

    #[test]
    fn a_large_run_lists_the_first_rows_of_each_kind_and_counts_them_all() {
        let mut m = ModuleReport::new(Module::Contacts, ModuleStatus::Completed);
        let row = |verdict, error: Option<&str>| ReportEntry {
            verdict,
            label: "x".into(),
            unid: None,
            zoho_id: None,
            notes: None,
            crm: None,
            reason: String::new(),
            why: Reason::None,
            notes_action: None,
            crm_action: None,
            fields: Vec::new(),
            conflicts: Vec::new(),
            error: error.map(str::to_owned),
        };
        for _ in 0..ENTRIES_PER_KIND + 5 {
            m.push(row(Verdict::Created, None));
        }
        for _ in 0..3 {
            m.push(row(Verdict::Updated, None));
            m.push(row(Verdict::Updated, Some("refused")));
        }
        assert_eq!(
            m.counts.created,
            u32::try_from(ENTRIES_PER_KIND).unwrap_or(0) + 5
        );
        assert_eq!((m.counts.updated, m.counts.errors), (3, 3));
        assert_eq!(m.entries.len(), ENTRIES_PER_KIND + 6);
        assert_eq!(m.omitted, 5);
        let text = report(RunOutcome::Completed, vec![m]).to_text();
        assert!(text.contains("… and 5 more"), "{text}");
    }

    #[test]
    fn a_run_with_a_failed_module_never_reads_completed() {
        let r = report(
            RunOutcome::Partial,
            vec![
                module(Module::Contacts, ModuleStatus::Completed, None),
                module(
                    Module::Tasks,
                    ModuleStatus::Failed,
                    Some("IBM Notes refused"),
                ),
                module(Module::Events, ModuleStatus::NotRun, Some("did not run")),
            ],
        );
        let text = r.to_text();
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with("Sync report: incomplete (failed: to-dos; did not run: events)"),
            "{text}"
        );
        assert!(text.contains("\nto-dos: failed — "), "{text}");
        assert!(text.contains("\nevents: did not run — "), "{text}");
        assert!(text.contains("  ! IBM Notes refused"), "{text}");
        let names: Vec<Module> = r.failed_modules().map(|m| m.module).collect();
        assert_eq!(names, vec![Module::Tasks, Module::Events]);

        let ok = report(
            RunOutcome::Completed,
            vec![module(Module::Contacts, ModuleStatus::Completed, None)],
        );
        assert!(ok.to_text().starts_with("Sync report: completed, "));
    }

    #[test]
    fn failure_causes_follow_the_servers_texts() {
        // The engine's words around DAS's exact 403 texts (`reference/domino-api.md` §4.2).
        let cases = [
            (
                "IBM Notes refused access: The Domino data service is not enabled for this view [($ToDo)].",
                FailureCause::DasView,
            ),
            (
                "IBM Notes refused access: The Domino data service is not enabled for this database.",
                FailureCause::DasDatabase,
            ),
            (
                "IBM Notes refused access: Cannot access resource",
                FailureCause::DasDatabase,
            ),
            (
                "IBM Notes refused access: Forbidden — ask the Domino admin",
                FailureCause::DasServer,
            ),
            (
                "IBM Notes rejected the user name or password (HTTP 401)",
                FailureCause::NotesLogin,
            ),
            (
                "Zoho CRM rejected the access token: INVALID_TOKEN",
                FailureCause::CrmLogin,
            ),
            (
                "IBM Notes did not answer: connection refused",
                FailureCause::Unreachable,
            ),
            (
                "could not list Zoho Contacts: it has more than the 100,000 records Zoho pages through, and COQL cannot read a custom view; sync the scope mine instead: PAGINATION_LIMIT_EXCEEDED (HTTP 400)",
                FailureCause::CrmListingLimit,
            ),
            (
                "could not list Zoho Tasks: INTERNAL_ERROR (HTTP 500)",
                FailureCause::Other,
            ),
        ];
        for (message, cause) in cases {
            assert_eq!(FailureCause::of_message(message), cause, "{message}");
            let m = module(Module::Tasks, ModuleStatus::Failed, Some(message));
            assert_eq!(m.failure_cause(), Some(cause));
        }
        let not_run = module(Module::Events, ModuleStatus::NotRun, Some("did not run"));
        assert_eq!(not_run.failure_cause(), Some(FailureCause::RunStopped));
        let done = module(Module::Contacts, ModuleStatus::Completed, None);
        assert_eq!(done.failure_cause(), None);
    }
}
