//! Where a run is, for a progress bar.

use serde::{Deserialize, Serialize};

use super::{Engine, Phase};
use crate::model::Module;

/// What a module's run is doing. Serialized as the words embedders have always matched on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressPhase {
    /// No module has started yet.
    #[default]
    Starting,
    /// Reading the stored links and checking the cross-ID field.
    Setup,
    /// Listing both sides.
    Listing,
    /// Reading records.
    Reading,
    /// Contacts: looking up and creating companies as Zoho Accounts.
    Companies,
    /// Writing.
    Writing,
    /// Writing cross-IDs into new records' twins.
    Linking,
    /// The run is over.
    Done,
}

impl ProgressPhase {
    /// The phase as the word it serializes to.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Setup => "setup",
            Self::Listing => "listing",
            Self::Reading => "reading",
            Self::Companies => "companies",
            Self::Writing => "writing",
            Self::Linking => "linking",
            Self::Done => "done",
        }
    }
}

impl From<Phase> for ProgressPhase {
    fn from(p: Phase) -> Self {
        match p {
            Phase::Links | Phase::Start | Phase::Setup => Self::Setup,
            Phase::Listing | Phase::Settling => Self::Listing,
            Phase::Confirming | Phase::Fetching | Phase::Bases | Phase::Refetch => Self::Reading,
            Phase::Accounts | Phase::AccountCreates => Self::Companies,
            Phase::Writing => Self::Writing,
            Phase::Backlinks => Self::Linking,
        }
    }
}

/// A progress summary for a progress bar.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The module being synced, if any.
    pub module: Option<Module>,
    /// What it is doing.
    pub phase: ProgressPhase,
    /// Requests answered so far.
    pub requests_done: u32,
    /// Requests known to be needed so far (grows while listing).
    pub requests_known: u32,
    /// Records read so far in the module (both sides).
    pub records_read: u32,
}

impl Engine {
    /// Where the run is, for a progress bar.
    #[must_use]
    pub fn progress(&self) -> Progress {
        let counts = self.transport.counts;
        let sent = counts.notes + counts.crm;
        let in_flight = u32::try_from(self.transport.in_flight()).unwrap_or(u32::MAX);
        let queued = u32::try_from(self.transport.pending()).unwrap_or(u32::MAX);
        let (module, phase, read) = match &self.run {
            Some(r) => (
                Some(r.module),
                r.phase.into(),
                r.records_read
                    .max(r.notes.records.len() + r.crm.records.len()),
            ),
            None if self.finished => (None, ProgressPhase::Done, 0),
            None => (None, ProgressPhase::Starting, 0),
        };
        Progress {
            module,
            phase,
            requests_done: sent.saturating_sub(in_flight),
            requests_known: sent.saturating_add(queued),
            records_read: u32::try_from(read).unwrap_or(u32::MAX),
        }
    }
}
