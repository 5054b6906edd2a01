//! Step 1 of the planner: each link decided from how its two records look this run — unchanged,
//! read, or gone — with one exhaustive `match` per direction (a comment per arm). A record
//! that turned private or left the user's scope is withdrawn; a change beats a delete. A link
//! whose record is gone may find the twin that a lost answer left unlinked on that side.

use std::collections::BTreeSet;

use super::merge::{conflict_fields, merge, update_to};
use super::{
    LinkOp, ModulePlan, Obs, PlanInput, PlanItem, SideSnapshot, Verdict, Write, item, needs_xref,
    set_write, source_of,
};
use crate::mapping::label;
use crate::model::{Fields, NotesUnid, Side, ZohoId};
use crate::reason::{KeptBecause, Reason};
use crate::state::Link;

/// The first record of `side` that no link holds and no other link has claimed, whose cross-ID
/// names `xref` (the other side's id of a link whose record here is gone): the link's new
/// member. It is marked claimed.
fn claim_twin<'a>(
    side: &'a SideSnapshot,
    linked: &BTreeSet<&str>,
    claimed: &mut BTreeSet<&'a str>,
    xref: &str,
) -> Option<&'a str> {
    let (id, _) = side.records.iter().find(|(id, r)| {
        !linked.contains(id.as_str())
            && !claimed.contains(id.as_str())
            && r.xref.as_deref() == Some(xref)
    })?;
    claimed.insert(id.as_str());
    Some(id.as_str())
}

/// Decides every link: the items go to `out.items`, pairs with nothing to do are counted in
/// `out.unchanged`. Returns the unlinked Notes and CRM records claimed as a link's twin.
pub(super) fn decide_links<'a>(
    input: &PlanInput<'a>,
    linked_unids: &BTreeSet<&str>,
    linked_zids: &BTreeSet<&str>,
    out: &mut ModulePlan,
) -> (BTreeSet<&'a str>, BTreeSet<&'a str>) {
    // A linked record gone from one side may have a twin there that the last run created but
    // never heard back about (its answer was lost after the server acted): an unlinked record
    // carrying the link's cross-ID. That record is the link's new member, not a new record.
    let mut claimed_notes: BTreeSet<&str> = BTreeSet::new();
    let mut claimed_crm: BTreeSet<&str> = BTreeSet::new();
    for link in input.links {
        let mut l = link.clone();
        if matches!(input.notes.observe(&l.unid.0), Obs::Gone)
            && let Some(u) = claim_twin(input.notes, linked_unids, &mut claimed_notes, &l.zoho_id.0)
        {
            l.unid = NotesUnid(u.to_owned());
        }
        if matches!(input.crm.observe(&l.zoho_id.0), Obs::Gone)
            && let Some(z) = claim_twin(input.crm, linked_zids, &mut claimed_crm, &l.unid.0)
        {
            l.zoho_id = ZohoId(z.to_owned());
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
    (claimed_notes, claimed_crm)
}

/// Decides one link, `None` when there is nothing to do: scope and privacy first, then the
/// direction's `match`.
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

/// Two-way: a delete on one side, or a field-level three-way merge of both.
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

/// One-way: the target mirrors the source; `so` and `to` are the source's and the target's.
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

/// The content a side holds: the base when unchanged, `None` when gone.
fn content<'a>(o: Obs<'a>, base: &'a Fields) -> Option<&'a Fields> {
    match o {
        Obs::Unchanged => Some(base),
        Obs::Now(r) => Some(&r.fields),
        Obs::Gone => None,
    }
}

/// Why a copy that is a write target was kept: it changed; otherwise it is the one-way source.
fn kept_because(is_target: bool) -> KeptBecause {
    if is_target {
        KeptBecause::Changed
    } else {
        KeptBecause::OneWaySource
    }
}
