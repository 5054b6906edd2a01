//! The planner: a pure function from (Notes snapshot, CRM snapshot, links, settings) to a
//! [`ModulePlan`], the plain data that a dry run shows and a real run executes.
//!
//! Decisions, in order:
//! 1. **Linked pairs** (from the state): each side is observed as unchanged, present with
//!    content, or gone. One exhaustive `match` per direction decides (a comment per arm).
//! 2. **Unlinked records** are paired by cross-ID (Zoho `Notes_UNID`, Notes `ZohoCRMId`), then by
//!    match key (contacts: e-mail, case-insensitive); what stays single is created on the
//!    other side, as the direction allows.
//! 3. **Guard** (B4): a side that lists empty while links exist, or a plan that deletes more
//!    than half of the links on one side, holds the whole module back unless overridden.
//!
//! Rules that apply everywhere: a change beats a delete; private records never cross and a
//! record that turns private is withdrawn from the other side (`DESIGN.md` §4.3); cross-IDs
//! are written on both sides whatever the direction; in one-way runs the target mirrors the
//! source for every source record and records only on the target are left alone.
//!
//! One file a concern:
//! - this file: the plan's types and [`plan`], which runs the three steps in order;
//! - `linked`: step 1, a linked pair (changes, conflicts, deletes, privacy, scope), and the
//!   twin a lost answer left behind;
//! - `matching`: step 2, pairing unlinked records and deciding each pair and single;
//! - `guard`: step 3, the mass-delete guard and its words (the engine's windows use them too);
//! - `merge`: the field-level three-way merge and the writes that reach a wanted content.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{Direction, Fields, Module, NotesUnid, Record, Settings, Side, ZohoId};
use crate::reason::Reason;
use crate::state::Link;

mod guard;
mod linked;
mod matching;
mod merge;

pub(crate) use guard::{guard_deletes_message, guard_empty_message};

/// What one side showed this run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideSnapshot {
    /// Records read this run, by id (UNID or Zoho id).
    pub records: BTreeMap<String, Record>,
    /// Ids seen to exist but not read because they are unchanged since the last sync.
    pub unchanged: BTreeSet<String>,
    /// Ids reported deleted (Zoho's deleted-records list).
    pub deleted: BTreeSet<String>,
    /// The listing covered every record, so a linked id not seen is gone.
    pub complete: bool,
    /// CRM only: records that exist but are out of the user's scope (owned by another user,
    /// or not in the chosen view). A linked one is withdrawn like a record that turned private;
    /// an unlinked Notes document naming one is not created in CRM again.
    #[serde(default)]
    pub out_of_scope: BTreeSet<String>,
}

/// How a linked record looks on one side this run.
#[derive(Clone, Copy, Debug)]
enum Obs<'a> {
    /// Not changed since the last sync (content = the link's base).
    Unchanged,
    /// Read this run.
    Now(&'a Record),
    /// Deleted.
    Gone,
}

impl SideSnapshot {
    /// How the record `id` looks on this side this run.
    fn observe(&self, id: &str) -> Obs<'_> {
        if let Some(r) = self.records.get(id) {
            Obs::Now(r)
        } else if self.unchanged.contains(id) {
            Obs::Unchanged
        } else if self.deleted.contains(id) || self.complete {
            Obs::Gone
        } else {
            // An incremental listing that did not mention it: not changed.
            Obs::Unchanged
        }
    }
}

/// A write to one side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Write {
    /// Create a record with these fields (and the cross-ID to its twin).
    Create {
        /// The content.
        fields: Fields,
    },
    /// Delete the record.
    Delete,
    /// Change only these fields; `xref` also writes the cross-ID.
    Update {
        /// Fields to set.
        set: Fields,
        /// Fields to clear.
        clear: Vec<String>,
        /// Also (re)write the cross-ID.
        xref: bool,
    },
}

/// What happens to the stored link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", content = "base", rename_all = "snake_case")]
pub enum LinkOp {
    /// Leave it.
    Keep,
    /// Forget it.
    Remove,
    /// Store it with this base once the writes have succeeded.
    Set(Fields),
}

/// The outcome category shown on the dashboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Created on a side.
    Created,
    /// Deleted on a side.
    Deleted,
    /// Both sides already agree; only the stored base moves (not listed on the dashboard).
    InStep,
    /// Paired with its twin on the other side (first sync or lost state).
    Linked,
    /// Not synced, for the stated reason.
    Skipped,
    /// Stopped syncing; both copies are kept.
    Unlinked,
    /// Changed on a side.
    Updated,
}

/// A field changed on both sides differently since the last sync.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldConflict {
    /// Canonical field name.
    pub field: String,
    /// The side whose value was kept.
    pub winner: Side,
}

/// One decided item of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItem {
    /// The Notes document, if it exists.
    pub unid: Option<NotesUnid>,
    /// The Zoho record, if it exists.
    pub zoho_id: Option<ZohoId>,
    /// A readable name for the report.
    pub label: String,
    /// The write to Notes.
    pub notes: Option<Write>,
    /// The write to CRM.
    pub crm: Option<Write>,
    /// What happens to the link.
    pub link: LinkOp,
    /// The dashboard category.
    pub verdict: Verdict,
    /// Why (rule and side), in words: [`PlanItem::why`] in English.
    pub reason: String,
    /// Why, as data (the widget words it in the user's language).
    #[serde(default)]
    pub why: Reason,
    /// The fields that change.
    pub fields: Vec<String>,
    /// Fields changed on both sides, and who won.
    pub conflicts: Vec<FieldConflict>,
}

impl PlanItem {
    /// Sets why the item is what it is (the typed reason and its English text).
    pub fn because(&mut self, why: Reason) {
        self.reason = why.to_string();
        self.why = why;
    }
}

/// The plan for one module.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModulePlan {
    /// Decided items (unchanged pairs are not listed).
    pub items: Vec<PlanItem>,
    /// Linked pairs with nothing to do.
    pub unchanged: usize,
    /// Set when the mass-delete guard holds the module back: the reason.
    pub guard: Option<String>,
}

impl ModulePlan {
    /// Whether executing the plan writes anything.
    #[must_use]
    pub fn has_writes(&self) -> bool {
        self.guard.is_none()
            && self
                .items
                .iter()
                .any(|i| i.notes.is_some() || i.crm.is_some())
    }
}

/// Everything the planner looks at.
#[derive(Clone, Copy, Debug)]
pub struct PlanInput<'a> {
    /// The module planned.
    pub module: Module,
    /// The user's settings.
    pub settings: &'a Settings,
    /// The links from the last sync.
    pub links: &'a [Link],
    /// The Notes side.
    pub notes: &'a SideSnapshot,
    /// The CRM side.
    pub crm: &'a SideSnapshot,
    /// Skip the mass-delete guard for this run.
    pub allow_mass_delete: bool,
}

/// Plans one module. Pure and total: the same input gives the same plan.
#[must_use]
pub fn plan(input: &PlanInput<'_>) -> ModulePlan {
    let mut out = ModulePlan::default();
    let linked_unids: BTreeSet<&str> = input.links.iter().map(|l| l.unid.0.as_str()).collect();
    let linked_zids: BTreeSet<&str> = input.links.iter().map(|l| l.zoho_id.0.as_str()).collect();

    let (claimed_notes, claimed_crm) =
        linked::decide_links(input, &linked_unids, &linked_zids, &mut out);

    // Unlinked records on each side.
    let notes_free: BTreeMap<&str, &Record> = input
        .notes
        .records
        .iter()
        .filter(|(id, _)| {
            !linked_unids.contains(id.as_str()) && !claimed_notes.contains(id.as_str())
        })
        .map(|(id, r)| (id.as_str(), r))
        .collect();
    let crm_free: BTreeMap<&str, &Record> = input
        .crm
        .records
        .iter()
        .filter(|(id, _)| !linked_zids.contains(id.as_str()) && !claimed_crm.contains(id.as_str()))
        .map(|(id, r)| (id.as_str(), r))
        .collect();
    matching::decide_unlinked(input, notes_free, crm_free, &mut out.items);

    if !input.allow_mass_delete {
        out.guard = guard::guard(input, &out.items);
    }
    out
}

/// A plan item with no writes, the link kept and no reason yet.
fn item(
    unid: Option<&NotesUnid>,
    zoho_id: Option<&ZohoId>,
    label: String,
    verdict: Verdict,
) -> PlanItem {
    PlanItem {
        unid: unid.cloned(),
        zoho_id: zoho_id.cloned(),
        label,
        notes: None,
        crm: None,
        link: LinkOp::Keep,
        verdict,
        reason: String::new(),
        why: Reason::None,
        fields: Vec::new(),
        conflicts: Vec::new(),
    }
}

/// Sets the write to `side`.
fn set_write(it: &mut PlanItem, side: Side, w: Option<Write>) {
    match side {
        Side::Notes => it.notes = w,
        Side::Crm => it.crm = w,
    }
}

/// The side a one-way `direction` copies from; `None` for two-way.
fn source_of(direction: Direction) -> Option<Side> {
    match direction {
        Direction::TwoWay => None,
        Direction::NotesToCrm => Some(Side::Notes),
        Direction::CrmToNotes => Some(Side::Crm),
    }
}

/// Whether a record read this run lacks the cross-ID `other_id` (so it must be written).
fn needs_xref(o: Obs<'_>, other_id: &str) -> bool {
    matches!(o, Obs::Now(r) if r.xref.as_deref() != Some(other_id))
}
