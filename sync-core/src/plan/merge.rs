//! Field-level merge: the three-way merge of two contents against their base, with the
//! conflicts it resolved, and the writes that turn a side's content into the merged one.

use super::{FieldConflict, Write};
use crate::model::{ConflictPolicy, Fields, Side};

/// Field-level three-way merge: a field changed on one side takes that side's value; a field
/// changed on both sides (or, without a base, set differently on both) takes the winner's.
pub(super) fn merge(
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

/// The writes that turn `current` into `want`; `None` when there is nothing to write.
pub(super) fn update_to(current: &Fields, want: &Fields, xref: bool) -> Option<Write> {
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

/// The fields named by `conflicts`.
pub(super) fn conflict_fields(conflicts: &[FieldConflict]) -> Vec<String> {
    conflicts.iter().map(|c| c.field.clone()).collect()
}
