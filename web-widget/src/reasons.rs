//! The report's typed reasons and actions (`sync_core::reason`) in the user's language, fields
//! by their CRM display labels. The English here is the catalogue's, not sync-core's sentence.

use sync_core::Side;
use sync_core::reason::{Action, KeptBecause, MatchOutcome, MatchedBy, Reason};

use crate::components::field_list;
use crate::i18n::{Lang, T};

fn side(lang: Lang, s: Side) -> &'static str {
    lang.t(match s {
        Side::Notes => T::InNotes,
        Side::Crm => T::InCrm,
    })
}

fn because(lang: Lang, b: KeptBecause) -> &'static str {
    lang.t(match b {
        KeptBecause::Changed => T::RBecauseChanged,
        KeptBecause::OneWaySource => T::RBecauseOneWay,
    })
}

fn fields(lang: Lang, f: &[String]) -> String {
    field_list(lang, f.iter().map(String::as_str))
}

/// Why a report row is what it is, in `lang`.
#[must_use]
pub fn reason_text(lang: Lang, why: &Reason) -> String {
    let tf = |k: T, args: &[(&str, &str)]| lang.tf(k, args);
    let one = |k: T, s: Side| {
        tf(
            k,
            &[("side", side(lang, s)), ("other", side(lang, s.other()))],
        )
    };
    let way = |k: T, source: Side| {
        tf(
            k,
            &[
                ("source", side(lang, source)),
                ("target", side(lang, source.other())),
            ],
        )
    };
    match why {
        Reason::None => String::new(),
        Reason::NewIn { side: s } => one(T::RNewIn, *s),
        Reason::NotCopiedOneWay { side: s } => one(T::RNotCopiedOneWay, *s),
        Reason::PrivateIn { side: s } => one(T::RPrivateIn, *s),
        Reason::KeptOutOfScope => lang.t(T::RKeptOutOfScope).to_owned(),
        Reason::Matched { by, outcome } => {
            let by = lang.t(match by {
                MatchedBy::CrossId => T::RByCrossId,
                MatchedBy::Email => T::RByEmail,
                MatchedBy::SubjectAndDue => T::RBySubjectDue,
                MatchedBy::TitleAndStart => T::RByTitleStart,
            });
            let outcome = match outcome {
                MatchOutcome::Same => lang.t(T::ROutSame).to_owned(),
                MatchOutcome::Merged { fields: f } => {
                    tf(T::ROutMerged, &[("fields", &fields(lang, f))])
                }
                MatchOutcome::OneWay { source } => way(T::ROutOneWay, *source),
                MatchOutcome::Wins { winner, fields: f } => tf(
                    T::ROutWins,
                    &[
                        ("winner", side(lang, *winner)),
                        ("fields", &fields(lang, f)),
                    ],
                ),
            };
            tf(T::RMatched, &[("by", by), ("outcome", &outcome)])
        }
        Reason::Relinked => lang.t(T::RRelinked).to_owned(),
        Reason::LeftScopeGone => lang.t(T::RLeftScopeGone).to_owned(),
        Reason::LeftScopeRemoved => lang.t(T::RLeftScopeRemoved).to_owned(),
        Reason::LeftScopeKept { because: b } => {
            tf(T::RLeftScopeKept, &[("because", because(lang, *b))])
        }
        Reason::PrivateGone { side: s } => one(T::RPrivateGone, *s),
        Reason::PrivateRemoved { side: s } => one(T::RPrivateRemoved, *s),
        Reason::PrivateKept {
            side: s,
            because: b,
        } => tf(
            T::RPrivateKept,
            &[
                ("side", side(lang, *s)),
                ("other", side(lang, s.other())),
                ("because", because(lang, *b)),
            ],
        ),
        Reason::DeletedBoth => lang.t(T::RDeletedBoth).to_owned(),
        Reason::DeletedIn { side: s } => one(T::RDeletedIn, *s),
        Reason::RestoredChangeBeatsDelete { side: s } => one(T::RRestoredChange, *s),
        Reason::SourceDeletedTargetKept { source } => way(T::RSourceDeletedKept, *source),
        Reason::RestoredFromSource { source } => way(T::RRestoredFromSource, *source),
        Reason::TargetEditsReplaced { source } => way(T::RTargetEditsReplaced, *source),
        Reason::ChangedIn { side: s, fields: f } => tf(
            T::RChangedIn,
            &[("side", side(lang, *s)), ("fields", &fields(lang, f))],
        ),
        Reason::ChangedBothWins { winner, fields: f } => tf(
            T::RChangedBothWins,
            &[
                ("winner", side(lang, *winner)),
                ("fields", &fields(lang, f)),
            ],
        ),
        Reason::ChangedBothMerged => lang.t(T::RChangedBothMerged).to_owned(),
        Reason::CrossIdsWritten => lang.t(T::RCrossIdsWritten).to_owned(),
        Reason::HeldBack { would_be } => {
            tf(T::RHeldBack, &[("would_be", &reason_text(lang, would_be))])
        }
        Reason::NotADocument => lang.t(T::RNotADocument).to_owned(),
        // The cross-ID's value is an internal identifier: not shown.
        Reason::ForeignCrossId {
            reason, replaced, ..
        } => tf(
            if *replaced {
                T::RForeignReplaced
            } else {
                T::RForeignLeft
            },
            &[("reason", &reason_text(lang, reason))],
        ),
    }
}

/// A write to one side, in `lang`: create, delete, or the fields updated by their CRM labels
/// (the cross-ID as "link to the other side").
#[must_use]
pub fn action_words(lang: Lang, action: &Action) -> String {
    match action {
        Action::Create => lang.t(T::ActCreate).to_owned(),
        Action::Delete => lang.t(T::ActDelete).to_owned(),
        Action::Update { fields: f, xref } => {
            let mut names: Vec<&str> = f.iter().map(String::as_str).collect();
            if *xref {
                names.push("xref");
            }
            if names.is_empty() {
                lang.t(T::ActUpdate).to_owned()
            } else {
                format!(
                    "{}: {}",
                    lang.t(T::ActUpdate),
                    field_list(lang, names.into_iter())
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_in_both_languages_with_crm_labels() {
        let r = Reason::ChangedIn {
            side: Side::Notes,
            fields: vec!["job_title".into(), "office_phone".into()],
        };
        assert_eq!(
            reason_text(Lang::En, &r),
            "changed in IBM Notes: Title, Phone"
        );
        assert_eq!(
            reason_text(Lang::Ja, &r),
            "IBM Notesで変更されました: 役職、電話"
        );
        let m = Reason::Matched {
            by: MatchedBy::TitleAndStart,
            outcome: MatchOutcome::Same,
        };
        assert!(reason_text(Lang::En, &m).starts_with("matched by title and start"));
        let a = Action::Update {
            fields: vec!["email".into()],
            xref: true,
        };
        assert_eq!(
            action_words(Lang::En, &a),
            "update: Email, link to the other side"
        );
        assert_eq!(action_words(Lang::Ja, &a), "更新: メール、相手側へのリンク");
    }
}
