//! Step 3 of the planner, the mass-delete guard (B4): a side that lists empty while links
//! exist, or a plan that deletes more than half of the links on one side, holds the whole
//! module back unless the run overrides it. The words are shared with the engine, which
//! guards a streamed module the same way.

use super::{PlanInput, PlanItem, SideSnapshot, Write};
use crate::model::{Module, Side};

/// The guard's reason to hold the module back, if any.
pub(super) fn guard(input: &PlanInput<'_>, items: &[PlanItem]) -> Option<String> {
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

impl SideSnapshot {
    /// A complete listing that showed nothing at all.
    fn is_empty_listing(&self) -> bool {
        self.complete
            && self.records.is_empty()
            && self.unchanged.is_empty()
            && self.out_of_scope.is_empty()
    }
}
