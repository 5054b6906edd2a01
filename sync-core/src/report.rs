//! The run report (B6): per module what was created, updated, deleted, skipped, in conflict or
//! in error, each entry with its reason.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::model::{Module, NotesUnid, ZohoId};
use crate::plan::{FieldConflict, PlanItem, Verdict, Write};
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
    /// Why.
    pub reason: String,
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
            notes: it.notes.as_ref().map(describe),
            crm: it.crm.as_ref().map(describe),
            reason: it.reason.clone(),
            fields: it.fields.clone(),
            conflicts: it.conflicts.clone(),
            error: None,
        }
    }
}

fn describe(w: &Write) -> String {
    match w {
        Write::Create { .. } => "create".into(),
        Write::Delete => "delete".into(),
        Write::Update { set, clear, xref } => {
            let mut names: Vec<&str> = set.0.keys().map(String::as_str).collect();
            names.extend(clear.iter().map(String::as_str));
            if *xref {
                names.push("cross-ID");
            }
            format!("update {}", names.join(", "))
        }
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
    /// The rows (unchanged pairs are only counted).
    pub entries: Vec<ReportEntry>,
}

impl ModuleReport {
    /// An empty report for `module` with `status`.
    #[must_use]
    pub fn new(module: Module, status: ModuleStatus) -> Self {
        Self {
            module,
            status,
            message: None,
            counts: Counts::default(),
            entries: Vec::new(),
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
            self.entries.push(entry);
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

impl RunReport {
    /// The report as text for a terminal.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let title = if self.dry_run {
            "Preview (nothing was written)"
        } else {
            "Sync report"
        };
        let _ = writeln!(
            s,
            "{title}: {:?}, {} → {}",
            self.outcome, self.started, self.finished
        );
        if let Some(e) = &self.error {
            let _ = writeln!(s, "error: {e}");
        }
        for m in &self.modules {
            let c = &m.counts;
            let _ = writeln!(
                s,
                "\n{} ({:?}): created {}, updated {}, deleted {}, skipped {}, conflicts {}, errors {}, linked {}, unlinked {}, unchanged {}",
                m.module,
                m.status,
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
        }
        let _ = writeln!(
            s,
            "\nrequests: {} to IBM Notes, {} to Zoho CRM ({} retries)",
            self.requests.notes, self.requests.crm, self.requests.retries
        );
        s
    }
}
