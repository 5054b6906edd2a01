//! What a module run knows of one side as a whole, across its windows: the records it holds
//! (read, not yet decided), the ids it saw unchanged, and what the CRM reported deleted or out
//! of scope. Each window takes what it decides out of here into a planner
//! [`SideSnapshot`](crate::plan::SideSnapshot) of its own.
//!
//! The unchanged ids are kept compactly ([`Keys`]: a bit for a linked record's): an
//! incremental run of a large mail file notes nearly every record as unchanged.

use std::collections::{BTreeMap, BTreeSet};

use super::marks::Keys;
use crate::model::{Record, Side};

/// One side of a module run.
#[derive(Debug)]
pub(super) struct SideRun {
    /// Records read and not yet decided, by id (UNID, event key or Zoho id).
    pub records: BTreeMap<String, Record>,
    /// Ids seen to exist but not read because they are unchanged since the last sync.
    pub unchanged: Keys,
    /// Ids reported deleted (Zoho's deleted-records list).
    pub deleted: BTreeSet<String>,
    /// The listing covered every record, so a linked id not seen is gone.
    pub complete: bool,
    /// CRM only: records that exist but are out of the user's scope.
    pub out_of_scope: BTreeSet<String>,
}

impl SideRun {
    /// `side`'s run, whose listing is `complete` (or not: an incremental CRM listing).
    pub fn new(side: Side, complete: bool) -> Self {
        Self {
            records: BTreeMap::new(),
            unchanged: Keys::new(side),
            deleted: BTreeSet::new(),
            complete,
            out_of_scope: BTreeSet::new(),
        }
    }
}
