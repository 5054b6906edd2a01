//! Why the planner decided what it did, as data: a [`Reason`] is a code with its parameters.
//! Its `Display` is the English sentence the terminal and the JSON report have always shown;
//! the widget words the same code in the user's language. [`Action`] is the write itself in the
//! same spirit ("update email, phone").
//!
//! Field names are canonical (`email`, `job_title`); a reader shows them by the CRM's display
//! labels.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{Module, Side};

/// How an unlinked pair was found to be the same item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// Each names the other (Zoho `Notes_UNID`, Notes `ZohoCRMId`).
    CrossId,
    /// Contacts: the same e-mail address (case-insensitive).
    Email,
    /// To-dos: the same subject (case-insensitive) and due date.
    SubjectAndDue,
    /// Events: the same title and start.
    TitleAndStart,
}

impl MatchedBy {
    /// What pairs unlinked records of `module` when no cross-ID does.
    #[must_use]
    pub fn key_of(module: Module) -> Self {
        match module {
            Module::Contacts => Self::Email,
            Module::Tasks => Self::SubjectAndDue,
            Module::Events => Self::TitleAndStart,
        }
    }
}

impl fmt::Display for MatchedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CrossId => "matched by cross-ID",
            Self::Email => "matched by e-mail",
            Self::SubjectAndDue => "matched by subject and due date",
            Self::TitleAndStart => "matched by title and start",
        })
    }
}

/// Why a copy was kept instead of being removed or overwritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeptBecause {
    /// It changed since the last sync, and nothing the user wrote is thrown away.
    Changed,
    /// It is the source of a one-way sync, which never loses source records.
    OneWaySource,
}

impl fmt::Display for KeptBecause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Changed => "changed since the last sync",
            Self::OneWaySource => "the one-way source",
        })
    }
}

/// Why a plan item is what it is. One variant per rule of the planner ([`crate::plan`]), with the
/// sides and fields it names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    /// Nothing to say (an item that only moves the stored base).
    #[default]
    None,
    /// Only on `side`: created on the other.
    NewIn {
        /// Where it was found.
        side: Side,
    },
    /// Only on `side`, and a one-way sync towards `side` does not copy it back.
    NotCopiedOneWay {
        /// Where it was found (the one-way target).
        side: Side,
    },
    /// Private on `side`: never synced.
    PrivateIn {
        /// Where it is private.
        side: Side,
    },
    /// A Notes copy whose CRM record left the user's scope: kept in Notes only.
    KeptOutOfScope,
    /// An unlinked pair found to be the same item.
    Matched {
        /// How they were paired.
        by: MatchedBy,
        /// What happened to their content.
        outcome: MatchOutcome,
    },
    /// A link re-pointed at the copy an earlier run created but never heard back about.
    Relinked,
    /// Left the user's CRM scope; its Notes copy was already deleted.
    LeftScopeGone,
    /// Left the user's CRM scope; its unchanged Notes copy was removed.
    LeftScopeRemoved,
    /// Left the user's CRM scope; its Notes copy was kept and unlinked.
    LeftScopeKept {
        /// Why the copy was kept.
        because: KeptBecause,
    },
    /// Turned private on `side`; its copy on the other side was already deleted.
    PrivateGone {
        /// Where it turned private.
        side: Side,
    },
    /// Turned private on `side`; its unchanged copy on the other side was removed.
    PrivateRemoved {
        /// Where it turned private.
        side: Side,
    },
    /// Turned private on `side`; its copy on the other side was kept and unlinked.
    PrivateKept {
        /// Where it turned private.
        side: Side,
        /// Why the copy was kept.
        because: KeptBecause,
    },
    /// Deleted on both sides: the link is forgotten.
    DeletedBoth,
    /// Deleted on `side`: deleted on the other too.
    DeletedIn {
        /// Where it was deleted.
        side: Side,
    },
    /// Deleted on `side` but changed on the other since the last sync: restored there.
    RestoredChangeBeatsDelete {
        /// Where it was deleted.
        side: Side,
    },
    /// One way: deleted in the source but changed in the target: kept and unlinked.
    SourceDeletedTargetKept {
        /// The one-way source.
        source: Side,
    },
    /// One way: deleted in the target: restored from the source.
    RestoredFromSource {
        /// The one-way source.
        source: Side,
    },
    /// One way: edits made in the target were replaced by the source's values.
    TargetEditsReplaced {
        /// The one-way source.
        source: Side,
    },
    /// Changed on `side` in these fields.
    ChangedIn {
        /// Where it changed.
        side: Side,
        /// The fields.
        fields: Vec<String>,
    },
    /// Changed on both sides in the same fields: the conflict policy's winner kept.
    ChangedBothWins {
        /// The side whose values were kept.
        winner: Side,
        /// The fields in conflict.
        fields: Vec<String>,
    },
    /// Changed on both sides in different fields: merged.
    ChangedBothMerged,
    /// Only the cross-IDs were written.
    CrossIdsWritten,
    /// Held back by the mass-delete guard; what the item would have been.
    HeldBack {
        /// The reason it would have had.
        would_be: Box<Reason>,
    },
    /// A linked Notes document answered with something that is not a document: read again at
    /// the next run.
    NotADocument,
    /// The record's cross-ID names another mail file (or an earlier version's form).
    ForeignCrossId {
        /// The reason of the item itself.
        reason: Box<Reason>,
        /// The value found.
        value: String,
        /// The record is the user's own, so the value was replaced.
        replaced: bool,
    },
}

/// What happened to an unlinked pair's content when it was linked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "content", rename_all = "snake_case")]
pub enum MatchOutcome {
    /// Both sides already held the same content.
    Same,
    /// Each side took the other's fields that it lacked.
    Merged {
        /// The fields that differed.
        fields: Vec<String>,
    },
    /// One way: the source's values were kept.
    OneWay {
        /// The one-way source.
        source: Side,
    },
    /// Set differently on both sides: the conflict policy's winner kept.
    Wins {
        /// The side whose values were kept.
        winner: Side,
        /// The fields in conflict.
        fields: Vec<String>,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => Ok(()),
            Self::NewIn { side } => write!(f, "new in {side}"),
            Self::NotCopiedOneWay { side } => write!(
                f,
                "only in {side}; one way {} → {side} does not copy it",
                side.other()
            ),
            Self::PrivateIn { side } => write!(f, "private in {side}"),
            Self::KeptOutOfScope => f.write_str(
                "its CRM record is no longer in your scope (reassigned to another owner or out \
                 of your view); kept in Notes only",
            ),
            Self::Matched { by, outcome } => match outcome {
                MatchOutcome::Same => write!(f, "{by}; same content on both sides"),
                MatchOutcome::Merged { fields } => {
                    write!(f, "{by}; fields merged: {}", fields.join(", "))
                }
                MatchOutcome::OneWay { source } => {
                    write!(f, "{by}; one way: {source}'s values kept")
                }
                MatchOutcome::Wins { winner, fields } => write!(
                    f,
                    "{by}; set differently on both sides, {winner} always wins for: {}",
                    fields.join(", ")
                ),
            },
            Self::Relinked => {
                f.write_str("re-linked by cross-ID to the copy a previous run created")
            }
            Self::LeftScopeGone => {
                f.write_str("left your scope in CRM; its Notes copy was already deleted")
            }
            Self::LeftScopeRemoved => f.write_str(
                "left your scope in CRM (reassigned to another owner or out of your view): its \
                 Notes copy was removed",
            ),
            Self::LeftScopeKept { because } => write!(
                f,
                "left your scope in CRM (reassigned to another owner or out of your view); its \
                 Notes copy was {because} so it was kept and unlinked"
            ),
            Self::PrivateGone { side } => {
                write!(f, "became private in {side}; its copy was already deleted")
            }
            Self::PrivateRemoved { side } => write!(
                f,
                "became private in {side}: its copy in {} was removed",
                side.other()
            ),
            Self::PrivateKept { side, because } => write!(
                f,
                "became private in {side}; its copy in {} was {because} so it was kept and \
                 unlinked",
                side.other()
            ),
            Self::DeletedBoth => f.write_str("deleted on both sides"),
            Self::DeletedIn { side } => write!(f, "deleted in {side}"),
            Self::RestoredChangeBeatsDelete { side } => write!(
                f,
                "deleted in {side} but changed in {} since the last sync: restored (a change \
                 beats a delete)",
                side.other()
            ),
            Self::SourceDeletedTargetKept { source } => write!(
                f,
                "deleted in {source} but changed in {} since the last sync: kept and unlinked",
                source.other()
            ),
            Self::RestoredFromSource { source } => write!(
                f,
                "deleted in {target}: restored from {source} (one way {source} → {target})",
                target = source.other()
            ),
            Self::TargetEditsReplaced { source } => write!(
                f,
                "one way {source} → {target}: edits made in {target} were replaced by \
                 {source}'s values",
                target = source.other()
            ),
            Self::ChangedIn { side, fields } => {
                write!(f, "changed in {side}: {}", fields.join(", "))
            }
            Self::ChangedBothWins { winner, fields } => write!(
                f,
                "changed on both sides; {winner} always wins for: {}",
                fields.join(", ")
            ),
            Self::ChangedBothMerged => {
                f.write_str("changed on both sides in different fields: merged")
            }
            Self::CrossIdsWritten => f.write_str("cross-IDs written"),
            Self::HeldBack { would_be } => write!(
                f,
                "held back by the mass-delete guard (would be: {would_be})"
            ),
            Self::NotADocument => f.write_str(
                "IBM Notes answered with something that is not a document; it is read again at \
                 the next run",
            ),
            Self::ForeignCrossId {
                reason,
                value,
                replaced: true,
            } => write!(
                f,
                "{reason}; its cross-ID {value:?} named another mail file and was replaced, \
                 since the record is yours"
            ),
            Self::ForeignCrossId {
                reason,
                value,
                replaced: false,
            } => write!(
                f,
                "{reason}; its cross-ID {value:?} names another mail file and was left as it is"
            ),
        }
    }
}

/// A write to one side, as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Action {
    /// Create the record.
    Create,
    /// Delete the record.
    Delete,
    /// Change these fields (set or cleared), and the cross-ID when `xref`.
    Update {
        /// Canonical field names.
        fields: Vec<String>,
        /// The cross-ID is written too.
        xref: bool,
    },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Create => f.write_str("create"),
            Self::Delete => f.write_str("delete"),
            Self::Update { fields, xref } => {
                let mut names: Vec<&str> = fields.iter().map(String::as_str).collect();
                if *xref {
                    names.push("cross-ID");
                }
                write!(f, "update {}", names.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_serialize_as_codes_with_their_parameters() {
        let r = Reason::ChangedIn {
            side: Side::Notes,
            fields: vec!["email".into()],
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap_or_default(),
            serde_json::json!({"code": "changed_in", "side": "notes", "fields": ["email"]})
        );
        assert_eq!(r.to_string(), "changed in IBM Notes: email");
        let m = Reason::Matched {
            by: MatchedBy::TitleAndStart,
            outcome: MatchOutcome::Same,
        };
        assert_eq!(
            serde_json::to_value(&m).unwrap_or_default(),
            serde_json::json!({"code": "matched", "by": "title_and_start",
                               "outcome": {"content": "same"}})
        );
        assert_eq!(
            m.to_string(),
            "matched by title and start; same content on both sides"
        );
    }
}
