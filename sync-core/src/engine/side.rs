//! What a module run knows of one side as a whole, across its windows: the records it holds
//! (read, not yet decided), the ids it saw unchanged, and what the CRM reported deleted or out
//! of scope. Each window takes what it decides out of here into a planner
//! [`SideSnapshot`](crate::plan::SideSnapshot) of its own.
//!
//! The unchanged ids are kept compactly ([`KeySet`]): an incremental run of a large mail file
//! notes nearly every record as unchanged.

use std::collections::{BTreeMap, BTreeSet};

use super::keys::KeySet;
use crate::model::Record;

/// One side of a module run.
#[derive(Debug, Default)]
pub(super) struct SideRun {
    /// Records read and not yet decided, by id (UNID, event key or Zoho id).
    pub records: BTreeMap<String, Record>,
    /// Ids seen to exist but not read because they are unchanged since the last sync.
    pub unchanged: KeySet,
    /// Ids reported deleted (Zoho's deleted-records list).
    pub deleted: BTreeSet<String>,
    /// The listing covered every record, so a linked id not seen is gone.
    pub complete: bool,
    /// CRM only: records that exist but are out of the user's scope.
    pub out_of_scope: BTreeSet<String>,
}

impl SideRun {
    /// A side whose listing is `complete` (or not: an incremental CRM listing).
    pub fn new(complete: bool) -> Self {
        Self {
            complete,
            ..Self::default()
        }
    }
}
