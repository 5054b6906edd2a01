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

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::mapping::{label, match_key};
use crate::model::{
    ConflictPolicy, Direction, Fields, Module, NotesUnid, Record, Settings, Side, ZohoId,
};
use crate::reason::{KeptBecause, MatchOutcome, MatchedBy, Reason};
use crate::state::Link;

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

    fn is_empty_listing(&self) -> bool {
        self.complete
            && self.records.is_empty()
            && self.unchanged.is_empty()
            && self.out_of_scope.is_empty()
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

    // A linked record gone from one side may have a twin there that the last run created but
    // never heard back about (its answer was lost after the server acted): an unlinked record
    // carrying the link's cross-ID. That record is the link's new member, not a new record.
    let mut claimed_notes: BTreeSet<&str> = BTreeSet::new();
    let mut claimed_crm: BTreeSet<&str> = BTreeSet::new();
    for link in input.links {
        let mut l = link.clone();
        if matches!(input.notes.observe(&l.unid.0), Obs::Gone) {
            let twin = input.notes.records.iter().find(|(u, r)| {
                !linked_unids.contains(u.as_str())
                    && !claimed_notes.contains(u.as_str())
                    && r.xref.as_deref() == Some(l.zoho_id.0.as_str())
            });
            if let Some((u, _)) = twin {
                claimed_notes.insert(u.as_str());
                l.unid = NotesUnid(u.clone());
            }
        }
        if matches!(input.crm.observe(&l.zoho_id.0), Obs::Gone) {
            let twin = input.crm.records.iter().find(|(z, r)| {
                !linked_zids.contains(z.as_str())
                    && !claimed_crm.contains(z.as_str())
                    && r.xref.as_deref() == Some(l.unid.0.as_str())
            });
            if let Some((z, _)) = twin {
                claimed_crm.insert(z.as_str());
                l.zoho_id = ZohoId(z.clone());
            }
        }
        let relinked = l.unid != link.unid || l.zoho_id != link.zoho_id;
        match decide_linked(input, &l) {
            Some(mut item) => {
                if relinked && item.link == LinkOp::Keep {
                    item.link = LinkOp::Set(l.base.clone());
                }
                out.items.push(item);
            }
            None if relinked => {
                let mut it = item(
                    Some(&l.unid),
                    Some(&l.zoho_id),
                    label(input.module, &l.base),
                    Verdict::InStep,
                );
                it.because(Reason::Relinked);
                it.link = LinkOp::Set(l.base.clone());
                out.items.push(it);
            }
            None => out.unchanged += 1,
        }
    }

    // Unlinked records on each side.
    let mut notes_free: BTreeMap<&str, &Record> = input
        .notes
        .records
        .iter()
        .filter(|(id, _)| {
            !linked_unids.contains(id.as_str()) && !claimed_notes.contains(id.as_str())
        })
        .map(|(id, r)| (id.as_str(), r))
        .collect();
    let mut crm_free: BTreeMap<&str, &Record> = input
        .crm
        .records
        .iter()
        .filter(|(id, _)| !linked_zids.contains(id.as_str()) && !claimed_crm.contains(id.as_str()))
        .map(|(id, r)| (id.as_str(), r))
        .collect();

    // Pair by cross-ID: a re-setup or a lost state re-links instead of duplicating (B5).
    let mut pairs: Vec<(&str, &Record, &str, &Record, MatchedBy)> = Vec::new();
    let by_xref: Vec<(&str, &str)> = crm_free
        .iter()
        .filter_map(|(z, c)| {
            c.xref
                .as_deref()
                .filter(|u| notes_free.contains_key(u))
                .map(|u| (u, *z))
        })
        .chain(notes_free.iter().filter_map(|(u, n)| {
            n.xref
                .as_deref()
                .filter(|z| crm_free.contains_key(z))
                .map(|z| (*u, z))
        }))
        .collect();
    for (u, z) in by_xref {
        if let (Some(n), Some(c)) = (notes_free.get(u).copied(), crm_free.get(z).copied()) {
            notes_free.remove(u);
            crm_free.remove(z);
            pairs.push((u, n, z, c, MatchedBy::CrossId));
        }
    }

    // Pair by match key (first sync with data on both sides). Private records are invisible
    // here: a private Notes contact must not stop a CRM contact with the same e-mail from
    // reaching Notes. (They still pair by cross-ID above, which keeps a record that was
    // withdrawn for privacy from coming back as a new one.)
    let mut notes_by_key: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (u, n) in notes_free.iter().filter(|(_, n)| !n.private) {
        if let Some(k) = match_key(input.module, &n.fields) {
            notes_by_key.entry(k).or_default().push(u);
        }
    }
    let mut crm_by_key: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (z, c) in crm_free.iter().filter(|(_, c)| !c.private) {
        if let Some(k) = match_key(input.module, &c.fields) {
            crm_by_key.entry(k).or_default().push(z);
        }
    }
    for (key, mut us) in notes_by_key {
        let Some(mut zs) = crm_by_key.remove(&key) else {
            continue;
        };
        // Same key on several records: pair them in label order, the rest stay single.
        us.sort_by_key(|u| notes_free.get(u).map(|n| label(input.module, &n.fields)));
        zs.sort_by_key(|z| crm_free.get(z).map(|c| label(input.module, &c.fields)));
        for (u, z) in us.into_iter().zip(zs) {
            if let (Some(n), Some(c)) = (notes_free.remove(u), crm_free.remove(z)) {
                pairs.push((u, n, z, c, MatchedBy::key_of(input.module)));
            }
        }
    }

    for (u, n, z, c, how) in pairs {
        out.items.push(decide_matched(input, u, n, z, c, how));
    }
    for (u, n) in notes_free {
        out.items.push(decide_single(input, Side::Notes, u, n));
    }
    for (z, c) in crm_free {
        out.items.push(decide_single(input, Side::Crm, z, c));
    }

    if !input.allow_mass_delete {
        out.guard = guard(input, &out.items);
    }
    out
}

fn guard(input: &PlanInput<'_>, items: &[PlanItem]) -> Option<String> {
    let links = input.links.len();
    if links == 0 {
        return None;
    }
    for (side, snap) in [(Side::Notes, input.notes), (Side::Crm, input.crm)] {
        if snap.is_empty_listing() {
            return Some(guard_empty_message(side, input.module, links));
        }
    }
    for side in [Side::Notes, Side::Crm] {
        let deletes = items
            .iter()
            .filter(|i| {
                matches!(
                    if side == Side::Notes {
                        &i.notes
                    } else {
                        &i.crm
                    },
                    Some(Write::Delete)
                )
            })
            .count();
        if deletes * 2 > links {
            return Some(guard_deletes_message(side, input.module, deletes, links));
        }
    }
    None
}

/// The guard's words when `side` lists nothing while `links` pairs are linked.
pub(crate) fn guard_empty_message(side: Side, module: Module, links: usize) -> String {
    format!(
        "{side} listed no {module} while {links} are linked; nothing was changed. If they \
         really were all deleted, run once with the mass-delete override"
    )
}

/// The guard's words when a run would delete `deletes` of `links` linked records in `side`.
pub(crate) fn guard_deletes_message(
    side: Side,
    module: Module,
    deletes: usize,
    links: usize,
) -> String {
    format!(
        "this run would delete {deletes} of {links} linked {module} in {side}; nothing was \
         changed. If that is intended, run once with the mass-delete override"
    )
}

/// The writes that turn `current` into `want`; `None` when there is nothing to write.
fn update_to(current: &Fields, want: &Fields, xref: bool) -> Option<Write> {
    let mut set = Fields::default();
    let mut clear = Vec::new();
    for name in current.diff(want) {
        match want.get(&name) {
            Some(v) => set.set(&name, v),
            None => clear.push(name),
        }
    }
    if set.is_empty() && clear.is_empty() && !xref {
        None
    } else {
        Some(Write::Update { set, clear, xref })
    }
}

/// Field-level three-way merge: a field changed on one side takes that side's value; a field
/// changed on both sides (or, without a base, set differently on both) takes the winner's.
fn merge(
    notes: &Fields,
    crm: &Fields,
    base: Option<&Fields>,
    policy: ConflictPolicy,
) -> (Fields, Vec<FieldConflict>) {
    let mut merged = Fields::default();
    let mut conflicts = Vec::new();
    let mut names: Vec<&str> = notes.names().chain(crm.names()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let (n, c) = (notes.get(name), crm.get(name));
        let value = if n == c {
            n
        } else {
            match base.map(|b| b.get(name)) {
                Some(b) if c == b => n,
                Some(b) if n == b => c,
                None if n.is_none() => c,
                None if c.is_none() => n,
                // Changed on both sides (or set differently on both without a base).
                Some(_) | None => {
                    let winner = policy.winner();
                    conflicts.push(FieldConflict {
                        field: name.to_owned(),
                        winner,
                    });
                    if winner == Side::Notes { n } else { c }
                }
            }
        };
        if let Some(v) = value {
            merged.set(name, v);
        }
    }
    (merged, conflicts)
}

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

impl PlanItem {
    /// Sets why the item is what it is (the typed reason and its English text).
    pub fn because(&mut self, why: Reason) {
        self.reason = why.to_string();
        self.why = why;
    }
}

/// The fields named by `conflicts`.
fn conflict_fields(conflicts: &[FieldConflict]) -> Vec<String> {
    conflicts.iter().map(|c| c.field.clone()).collect()
}

/// Why a copy that is a write target was kept: it changed; otherwise it is the one-way source.
fn kept_because(is_target: bool) -> KeptBecause {
    if is_target {
        KeptBecause::Changed
    } else {
        KeptBecause::OneWaySource
    }
}

fn set_write(it: &mut PlanItem, side: Side, w: Option<Write>) {
    match side {
        Side::Notes => it.notes = w,
        Side::Crm => it.crm = w,
    }
}

fn source_of(direction: Direction) -> Option<Side> {
    match direction {
        Direction::TwoWay => None,
        Direction::NotesToCrm => Some(Side::Notes),
        Direction::CrmToNotes => Some(Side::Crm),
    }
}

fn content<'a>(o: Obs<'a>, base: &'a Fields) -> Option<&'a Fields> {
    match o {
        Obs::Unchanged => Some(base),
        Obs::Now(r) => Some(&r.fields),
        Obs::Gone => None,
    }
}

fn needs_xref(o: Obs<'_>, other_id: &str) -> bool {
    matches!(o, Obs::Now(r) if r.xref.as_deref() != Some(other_id))
}

fn decide_linked(input: &PlanInput<'_>, link: &Link) -> Option<PlanItem> {
    let n = input.notes.observe(&link.unid.0);
    let c = input.crm.observe(&link.zoho_id.0);
    let base = &link.base;
    let name = [n, c]
        .iter()
        .find_map(|o| {
            if let Obs::Now(r) = o {
                Some(label(input.module, &r.fields))
            } else {
                None
            }
        })
        .unwrap_or_else(|| label(input.module, base));
    let mut it = item(
        Some(&link.unid),
        Some(&link.zoho_id),
        name,
        Verdict::Updated,
    );

    // A CRM record that left the user's scope (reassigned, or out of the chosen view) is
    // withdrawn from the user's Notes like one that turned private (DESIGN §4.3). The new
    // owner's sync picks it up; its Notes copy here is removed only if unchanged since the
    // last sync, so nothing the user wrote is lost.
    if input.crm.out_of_scope.contains(&link.zoho_id.0) {
        it.link = LinkOp::Remove;
        let notes_is_target = source_of(input.settings.direction) != Some(Side::Notes);
        let unchanged = match n {
            Obs::Unchanged => true,
            Obs::Now(r) => &r.fields == base,
            Obs::Gone => false,
        };
        if matches!(n, Obs::Gone) {
            it.verdict = Verdict::Unlinked;
            it.because(Reason::LeftScopeGone);
        } else if unchanged && notes_is_target {
            it.notes = Some(Write::Delete);
            it.verdict = Verdict::Deleted;
            it.because(Reason::LeftScopeRemoved);
        } else {
            it.verdict = Verdict::Unlinked;
            it.because(Reason::LeftScopeKept {
                because: kept_because(notes_is_target),
            });
        }
        return Some(it);
    }

    // A record that turned private stops syncing (DESIGN §4.3).
    for (side, own, other) in [(Side::Notes, n, c), (Side::Crm, c, n)] {
        if matches!(own, Obs::Now(r) if r.private) {
            it.link = LinkOp::Remove;
            let other_is_target = source_of(input.settings.direction).is_none_or(|s| s == side);
            let other_unchanged = match other {
                Obs::Unchanged => true,
                Obs::Now(r) => &r.fields == base,
                Obs::Gone => false,
            };
            if matches!(other, Obs::Gone) {
                it.verdict = Verdict::Unlinked;
                it.because(Reason::PrivateGone { side });
            } else if other_unchanged && other_is_target {
                set_write(&mut it, side.other(), Some(Write::Delete));
                it.verdict = Verdict::Deleted;
                it.because(Reason::PrivateRemoved { side });
            } else {
                it.verdict = Verdict::Unlinked;
                it.because(Reason::PrivateKept {
                    side,
                    because: kept_because(other_is_target),
                });
            }
            return Some(it);
        }
    }

    match source_of(input.settings.direction) {
        None => two_way_linked(input, link, n, c, it),
        Some(source) => {
            let (so, to) = if source == Side::Notes {
                (n, c)
            } else {
                (c, n)
            };
            one_way_linked(link, source, so, to, it)
        }
    }
}

fn two_way_linked(
    input: &PlanInput<'_>,
    link: &Link,
    n: Obs<'_>,
    c: Obs<'_>,
    mut it: PlanItem,
) -> Option<PlanItem> {
    let base = &link.base;
    match (n, c) {
        // Unchanged on both sides: nothing to do.
        (Obs::Unchanged, Obs::Unchanged) => None,
        // Deleted on both sides: forget the link.
        (Obs::Gone, Obs::Gone) => {
            it.link = LinkOp::Remove;
            it.verdict = Verdict::Unlinked;
            it.because(Reason::DeletedBoth);
            Some(it)
        }
        // Deleted on one side, untouched on the other: delete the other copy.
        (Obs::Gone, Obs::Unchanged) | (Obs::Unchanged, Obs::Gone) => {
            let gone = if matches!(n, Obs::Gone) {
                Side::Notes
            } else {
                Side::Crm
            };
            set_write(&mut it, gone.other(), Some(Write::Delete));
            it.link = LinkOp::Remove;
            it.verdict = Verdict::Deleted;
            it.because(Reason::DeletedIn { side: gone });
            Some(it)
        }
        // Deleted on one side, read on the other: delete unless it changed (a change beats a delete).
        (Obs::Gone, Obs::Now(r)) | (Obs::Now(r), Obs::Gone) => {
            let gone = if matches!(n, Obs::Gone) {
                Side::Notes
            } else {
                Side::Crm
            };
            if &r.fields == base {
                set_write(&mut it, gone.other(), Some(Write::Delete));
                it.link = LinkOp::Remove;
                it.verdict = Verdict::Deleted;
                it.because(Reason::DeletedIn { side: gone });
            } else {
                set_write(
                    &mut it,
                    gone,
                    Some(Write::Create {
                        fields: r.fields.clone(),
                    }),
                );
                it.link = LinkOp::Set(r.fields.clone());
                it.verdict = Verdict::Created;
                it.fields = base.diff(&r.fields);
                it.because(Reason::RestoredChangeBeatsDelete { side: gone });
            }
            Some(it)
        }
        // Present on both sides, at least one read: field-level three-way merge.
        (Obs::Unchanged | Obs::Now(_), Obs::Unchanged | Obs::Now(_)) => {
            let nf = content(n, base).unwrap_or(base);
            let cf = content(c, base).unwrap_or(base);
            let (merged, conflicts) = merge(nf, cf, Some(base), input.settings.conflict);
            let nx = needs_xref(n, &link.zoho_id.0);
            let cx = needs_xref(c, &link.unid.0);
            it.notes = update_to(nf, &merged, nx);
            it.crm = update_to(cf, &merged, cx);
            let notes_changed = base.diff(nf);
            let crm_changed = base.diff(cf);
            let content_written = |w: &Option<Write>| matches!(w, Some(Write::Update { set, clear, .. }) if !set.is_empty() || !clear.is_empty());
            if it.notes.is_none() && it.crm.is_none() && &merged == base {
                return None;
            }
            it.fields = base.diff(&merged);
            it.link = LinkOp::Set(merged);
            it.verdict = if content_written(&it.notes) || content_written(&it.crm) {
                Verdict::Updated
            } else if it.notes.is_some() || it.crm.is_some() {
                Verdict::Linked
            } else {
                Verdict::InStep
            };
            it.because(
                match (
                    notes_changed.is_empty(),
                    crm_changed.is_empty(),
                    conflicts.is_empty(),
                ) {
                    (_, _, false) => Reason::ChangedBothWins {
                        winner: input.settings.conflict.winner(),
                        fields: conflict_fields(&conflicts),
                    },
                    (false, true, true) => Reason::ChangedIn {
                        side: Side::Notes,
                        fields: notes_changed,
                    },
                    (true, false, true) => Reason::ChangedIn {
                        side: Side::Crm,
                        fields: crm_changed,
                    },
                    (false, false, true) => Reason::ChangedBothMerged,
                    (true, true, true) => Reason::CrossIdsWritten,
                },
            );
            it.conflicts = conflicts;
            Some(it)
        }
    }
}

fn one_way_linked(
    link: &Link,
    source: Side,
    so: Obs<'_>,
    to: Obs<'_>,
    mut it: PlanItem,
) -> Option<PlanItem> {
    let base = &link.base;
    let target = source.other();
    let target_id = if target == Side::Notes {
        &link.unid.0
    } else {
        &link.zoho_id.0
    };
    let source_id = if source == Side::Notes {
        &link.unid.0
    } else {
        &link.zoho_id.0
    };
    match (so, to) {
        // Unchanged on both sides: nothing to do.
        (Obs::Unchanged, Obs::Unchanged) => None,
        // Deleted on both sides: forget the link.
        (Obs::Gone, Obs::Gone) => {
            it.link = LinkOp::Remove;
            it.verdict = Verdict::Unlinked;
            it.because(Reason::DeletedBoth);
            Some(it)
        }
        // Source deleted, target untouched: delete the target copy.
        (Obs::Gone, Obs::Unchanged) => {
            set_write(&mut it, target, Some(Write::Delete));
            it.link = LinkOp::Remove;
            it.verdict = Verdict::Deleted;
            it.because(Reason::DeletedIn { side: source });
            Some(it)
        }
        // Source deleted, target read: delete it unless it changed there (a change beats a delete).
        (Obs::Gone, Obs::Now(t)) => {
            it.link = LinkOp::Remove;
            if &t.fields == base {
                set_write(&mut it, target, Some(Write::Delete));
                it.verdict = Verdict::Deleted;
                it.because(Reason::DeletedIn { side: source });
            } else {
                it.verdict = Verdict::Unlinked;
                it.because(Reason::SourceDeletedTargetKept { source });
            }
            Some(it)
        }
        // Target deleted: one-way restores it from the source.
        (Obs::Unchanged | Obs::Now(_), Obs::Gone) => {
            let sf = content(so, base).unwrap_or(base).clone();
            // The source's cross-ID is rewritten once the new target id is known.
            set_write(&mut it, target, Some(Write::Create { fields: sf.clone() }));
            it.link = LinkOp::Set(sf);
            it.verdict = Verdict::Created;
            it.because(Reason::RestoredFromSource { source });
            Some(it)
        }
        // Both present: the target takes the source's content.
        (Obs::Unchanged | Obs::Now(_), Obs::Unchanged | Obs::Now(_)) => {
            let sf = content(so, base).unwrap_or(base);
            let tf = content(to, base).unwrap_or(base);
            let tw = update_to(tf, sf, needs_xref(to, source_id));
            let sw = update_to(sf, sf, needs_xref(so, target_id));
            if tw.is_none() && sw.is_none() && sf == base {
                return None;
            }
            let target_edited = !base.diff(tf).is_empty() && tf != sf;
            it.fields = tf.diff(sf);
            let content_written = matches!(&tw, Some(Write::Update { set, clear, .. }) if !set.is_empty() || !clear.is_empty());
            set_write(&mut it, target, tw);
            set_write(&mut it, source, sw);
            it.link = LinkOp::Set(sf.clone());
            it.verdict = if content_written {
                Verdict::Updated
            } else if it.notes.is_some() || it.crm.is_some() {
                Verdict::Linked
            } else {
                Verdict::InStep
            };
            let why = if target_edited {
                Reason::TargetEditsReplaced { source }
            } else if content_written {
                Reason::ChangedIn {
                    side: source,
                    fields: it.fields.clone(),
                }
            } else {
                Reason::CrossIdsWritten
            };
            it.because(why);
            Some(it)
        }
    }
}

fn decide_matched(
    input: &PlanInput<'_>,
    u: &str,
    n: &Record,
    z: &str,
    c: &Record,
    how: MatchedBy,
) -> PlanItem {
    let unid = NotesUnid(u.to_owned());
    let zid = ZohoId(z.to_owned());
    let mut it = item(
        Some(&unid),
        Some(&zid),
        label(input.module, &n.fields),
        Verdict::Linked,
    );
    if n.private || c.private {
        let side = if n.private { Side::Notes } else { Side::Crm };
        it.verdict = Verdict::Skipped;
        it.because(Reason::PrivateIn { side });
        return it;
    }
    let (merged, conflicts) = match source_of(input.settings.direction) {
        None => merge(&n.fields, &c.fields, None, input.settings.conflict),
        Some(Side::Notes) => (n.fields.clone(), Vec::new()),
        Some(Side::Crm) => (c.fields.clone(), Vec::new()),
    };
    let no = Obs::Now(n);
    let co = Obs::Now(c);
    it.notes = update_to(&n.fields, &merged, needs_xref(no, z));
    it.crm = update_to(&c.fields, &merged, needs_xref(co, u));
    it.fields = n.fields.diff(&c.fields);
    let outcome = if it.fields.is_empty() {
        MatchOutcome::Same
    } else if conflicts.is_empty() {
        MatchOutcome::Merged {
            fields: it.fields.clone(),
        }
    } else if let Some(source) = source_of(input.settings.direction) {
        MatchOutcome::OneWay { source }
    } else {
        MatchOutcome::Wins {
            winner: input.settings.conflict.winner(),
            fields: conflict_fields(&conflicts),
        }
    };
    it.because(Reason::Matched { by: how, outcome });
    it.conflicts = conflicts;
    it.link = LinkOp::Set(merged);
    it
}

fn decide_single(input: &PlanInput<'_>, side: Side, id: &str, r: &Record) -> PlanItem {
    let (unid, zid) = match side {
        Side::Notes => (Some(NotesUnid(id.to_owned())), None),
        Side::Crm => (None, Some(ZohoId(id.to_owned()))),
    };
    let mut it = item(
        unid.as_ref(),
        zid.as_ref(),
        label(input.module, &r.fields),
        Verdict::Skipped,
    );
    if r.private {
        it.because(Reason::PrivateIn { side });
    } else if side == Side::Notes
        && r.xref
            .as_deref()
            .is_some_and(|z| input.crm.out_of_scope.contains(z))
    {
        // Kept when its CRM twin left the user's scope: creating it again would duplicate
        // the record its new owner now syncs.
        it.because(Reason::KeptOutOfScope);
    } else if source_of(input.settings.direction).is_some_and(|s| s != side) {
        it.because(Reason::NotCopiedOneWay { side });
    } else {
        set_write(
            &mut it,
            side.other(),
            Some(Write::Create {
                fields: r.fields.clone(),
            }),
        );
        it.link = LinkOp::Set(r.fields.clone());
        it.verdict = Verdict::Created;
        it.because(Reason::NewIn { side });
    }
    it
}
