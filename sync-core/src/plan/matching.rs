//! Step 2 of the planner: the records no link holds. They pair by cross-ID (a re-setup or a
//! lost state re-links instead of duplicating), then by match key (a first sync with data on
//! both sides); a pair is merged and linked, and a record left single is created on the other
//! side as the direction allows.

use std::collections::BTreeMap;

use super::merge::{conflict_fields, merge, update_to};
use super::{
    LinkOp, Obs, PlanInput, PlanItem, Verdict, Write, item, needs_xref, set_write, source_of,
};
use crate::mapping::{label, match_key};
use crate::model::{NotesUnid, Record, Side, ZohoId};
use crate::reason::{MatchOutcome, MatchedBy, Reason};

/// Pairs the unlinked records of each side and decides every pair and every single; the items
/// go to `items`.
pub(super) fn decide_unlinked<'a>(
    input: &PlanInput<'_>,
    mut notes_free: BTreeMap<&'a str, &'a Record>,
    mut crm_free: BTreeMap<&'a str, &'a Record>,
    items: &mut Vec<PlanItem>,
) {
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
        items.push(decide_matched(input, u, n, z, c, how));
    }
    for (u, n) in notes_free {
        items.push(decide_single(input, Side::Notes, u, n));
    }
    for (z, c) in crm_free {
        items.push(decide_single(input, Side::Crm, z, c));
    }
}

/// Decides a pair found by `how`: merged (or copied one way) and linked, unless private.
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

/// Decides a record with no twin on the other side: created there, unless a rule keeps it.
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
