//! One test per arm of the planner's decision table (`sync_core::plan`), named for the arm.

#![allow(clippy::unwrap_used)] // A failed unwrap is how a test reports failure.

use std::collections::BTreeMap;

use sync_core::plan::{LinkOp, ModulePlan, PlanInput, SideSnapshot, Verdict, Write, plan};
use sync_core::{
    ConflictPolicy, Direction, Fields, Link, Module, NotesUnid, Record, Settings, Side, ZohoId,
};

fn fields(pairs: &[(&str, &str)]) -> Fields {
    let mut f = Fields::default();
    for (k, v) in pairs {
        f.set(k, v);
    }
    f
}

fn rec(pairs: &[(&str, &str)]) -> Record {
    Record {
        fields: fields(pairs),
        private: false,
        xref: None,
    }
}

fn linked_rec(pairs: &[(&str, &str)], xref: &str) -> Record {
    Record {
        xref: Some(xref.into()),
        ..rec(pairs)
    }
}

fn link(u: &str, z: &str, base: &[(&str, &str)]) -> Link {
    Link {
        unid: NotesUnid(u.into()),
        zoho_id: ZohoId(z.into()),
        base: fields(base),
    }
}

/// A snapshot: `records` read, `unchanged` ids listed but not read, complete listing.
fn snap(records: Vec<(&str, Record)>, unchanged: &[&str]) -> SideSnapshot {
    SideSnapshot {
        records: records
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<BTreeMap<_, _>>(),
        unchanged: unchanged.iter().map(|s| (*s).to_owned()).collect(),
        complete: true,
        ..SideSnapshot::default()
    }
}

/// A complete CRM snapshot where `away` exist but are out of the user's scope.
fn out_of_scope(away: &[&str]) -> SideSnapshot {
    let mut c = snap(vec![], &[]);
    c.out_of_scope = away.iter().map(|s| (*s).to_owned()).collect();
    c
}

fn run(
    settings: &Settings,
    links: &[Link],
    notes: &SideSnapshot,
    crm: &SideSnapshot,
) -> ModulePlan {
    plan(&PlanInput {
        module: Module::Contacts,
        settings,
        links,
        notes,
        crm,
        allow_mass_delete: true,
    })
}

fn two_way(conflict: ConflictPolicy) -> Settings {
    Settings {
        contacts: true,
        tasks: true,
        direction: Direction::TwoWay,
        conflict,
        ..Settings::default()
    }
}

fn one_way(direction: Direction) -> Settings {
    Settings {
        contacts: true,
        tasks: true,
        direction,
        conflict: ConflictPolicy::CrmWins,
        ..Settings::default()
    }
}

const BASE: &[(&str, &str)] = &[
    ("last_name", "Smith"),
    ("email", "s@x.com"),
    ("office_phone", "1"),
];

#[test]
fn unchanged_on_both_sides_plans_nothing() {
    let l = [link("U", "Z", BASE)];
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![], &["U"]),
        &snap(vec![], &["Z"]),
    );
    assert!(p.items.is_empty());
    assert_eq!(p.unchanged, 1);
}

#[test]
fn read_but_equal_to_base_with_cross_ids_plans_nothing() {
    let l = [link("U", "Z", BASE)];
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![("U", linked_rec(BASE, "Z"))], &[]),
        &snap(vec![("Z", linked_rec(BASE, "U"))], &[]),
    );
    assert!(p.items.is_empty(), "{p:?}");
}

#[test]
fn deleted_on_both_sides_forgets_the_link() {
    let l = [link("U", "Z", BASE)];
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![], &[]),
        &snap(vec![], &[]),
    );
    assert_eq!(p.items[0].link, LinkOp::Remove);
    assert_eq!(p.items[0].notes, None);
    assert_eq!(p.items[0].crm, None);
}

#[test]
fn deleted_in_notes_unchanged_in_crm_deletes_in_crm() {
    let l = [
        link("U", "Z", BASE),
        link("U2", "Z2", BASE),
        link("U3", "Z3", BASE),
    ];
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![], &["U2", "U3"]),
        &snap(vec![], &["Z", "Z2", "Z3"]),
    );
    assert_eq!(p.items.len(), 1);
    assert_eq!(p.items[0].crm, Some(Write::Delete));
    assert_eq!(p.items[0].verdict, Verdict::Deleted);
    assert_eq!(p.items[0].link, LinkOp::Remove);
}

#[test]
fn deleted_in_crm_unchanged_in_notes_deletes_in_notes() {
    let l = [
        link("U", "Z", BASE),
        link("U2", "Z2", BASE),
        link("U3", "Z3", BASE),
    ];
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![], &["U", "U2", "U3"]),
        &snap(vec![], &["Z2", "Z3"]),
    );
    assert_eq!(p.items[0].notes, Some(Write::Delete));
}

#[test]
fn deleted_in_crm_but_changed_in_notes_recreates_in_crm() {
    let l = [link("U", "Z", BASE)];
    let changed = rec(&[
        ("last_name", "Smith"),
        ("email", "s@x.com"),
        ("office_phone", "2"),
    ]);
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![("U", changed.clone())], &[]),
        &snap(vec![], &[]),
    );
    assert_eq!(
        p.items[0].crm,
        Some(Write::Create {
            fields: changed.fields.clone()
        })
    );
    assert_eq!(p.items[0].verdict, Verdict::Created);
    assert!(p.items[0].reason.contains("a change beats a delete"));
}

#[test]
fn deleted_in_notes_but_changed_in_crm_recreates_in_notes() {
    let l = [link("U", "Z", BASE)];
    let changed = rec(&[
        ("last_name", "Smith"),
        ("email", "s@x.com"),
        ("office_phone", "3"),
    ]);
    let p = run(
        &two_way(ConflictPolicy::NotesWins),
        &l,
        &snap(vec![], &[]),
        &snap(vec![("Z", changed.clone())], &[]),
    );
    assert_eq!(
        p.items[0].notes,
        Some(Write::Create {
            fields: changed.fields
        })
    );
}

#[test]
fn changed_in_notes_only_updates_crm_fields() {
    let l = [link("U", "Z", BASE)];
    let n = linked_rec(
        &[
            ("last_name", "Smith"),
            ("email", "s@x.com"),
            ("office_phone", "9"),
            ("city", "Oslo"),
        ],
        "Z",
    );
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![("U", n)], &[]),
        &snap(vec![], &["Z"]),
    );
    let it = &p.items[0];
    assert_eq!(it.notes, None);
    assert_eq!(
        it.crm,
        Some(Write::Update {
            set: fields(&[("city", "Oslo"), ("office_phone", "9")]),
            clear: vec![],
            xref: false
        })
    );
    assert_eq!(it.verdict, Verdict::Updated);
    assert!(it.reason.starts_with("changed in IBM Notes"));
}

#[test]
fn changed_in_crm_only_updates_notes_and_clears_removed_fields() {
    let l = [link("U", "Z", BASE)];
    let c = linked_rec(&[("last_name", "Smith"), ("email", "s@x.com")], "U");
    let p = run(
        &two_way(ConflictPolicy::NotesWins),
        &l,
        &snap(vec![], &["U"]),
        &snap(vec![("Z", c)], &[]),
    );
    assert_eq!(
        p.items[0].notes,
        Some(Write::Update {
            set: Fields::default(),
            clear: vec!["office_phone".into()],
            xref: false
        })
    );
}

#[test]
fn changed_on_both_sides_in_different_fields_merges_both_ways() {
    let l = [link("U", "Z", BASE)];
    let n = linked_rec(
        &[
            ("last_name", "Smith"),
            ("email", "s@x.com"),
            ("office_phone", "1"),
            ("city", "Oslo"),
        ],
        "Z",
    );
    let c = linked_rec(
        &[
            ("last_name", "Smith"),
            ("email", "s@x.com"),
            ("office_phone", "5"),
        ],
        "U",
    );
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![("U", n)], &[]),
        &snap(vec![("Z", c)], &[]),
    );
    let it = &p.items[0];
    assert!(it.conflicts.is_empty());
    assert_eq!(
        it.notes,
        Some(Write::Update {
            set: fields(&[("office_phone", "5")]),
            clear: vec![],
            xref: false
        })
    );
    assert_eq!(
        it.crm,
        Some(Write::Update {
            set: fields(&[("city", "Oslo")]),
            clear: vec![],
            xref: false
        })
    );
    let LinkOp::Set(base) = &it.link else {
        panic!("link set")
    };
    assert_eq!(base.get("city"), Some("Oslo"));
    assert_eq!(base.get("office_phone"), Some("5"));
}

#[test]
fn same_field_changed_on_both_sides_crm_wins_only_that_field() {
    let l = [link("U", "Z", BASE)];
    let n = linked_rec(
        &[
            ("last_name", "Smith"),
            ("email", "s@x.com"),
            ("office_phone", "N"),
            ("city", "Oslo"),
        ],
        "Z",
    );
    let c = linked_rec(
        &[
            ("last_name", "Smith"),
            ("email", "s@x.com"),
            ("office_phone", "C"),
        ],
        "U",
    );
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![("U", n)], &[]),
        &snap(vec![("Z", c)], &[]),
    );
    let it = &p.items[0];
    assert_eq!(it.conflicts.len(), 1);
    assert_eq!(it.conflicts[0].field, "office_phone");
    assert_eq!(it.conflicts[0].winner, Side::Crm);
    assert_eq!(
        it.notes,
        Some(Write::Update {
            set: fields(&[("office_phone", "C")]),
            clear: vec![],
            xref: false
        })
    );
    assert_eq!(
        it.crm,
        Some(Write::Update {
            set: fields(&[("city", "Oslo")]),
            clear: vec![],
            xref: false
        })
    );
}

#[test]
fn same_field_changed_on_both_sides_notes_wins_only_that_field() {
    let l = [link("U", "Z", BASE)];
    let n = linked_rec(
        &[
            ("last_name", "Smith"),
            ("email", "s@x.com"),
            ("office_phone", "N"),
        ],
        "Z",
    );
    let c = linked_rec(
        &[
            ("last_name", "Smith"),
            ("email", "s@x.com"),
            ("office_phone", "C"),
        ],
        "U",
    );
    let p = run(
        &two_way(ConflictPolicy::NotesWins),
        &l,
        &snap(vec![("U", n)], &[]),
        &snap(vec![("Z", c)], &[]),
    );
    assert_eq!(
        p.items[0].crm,
        Some(Write::Update {
            set: fields(&[("office_phone", "N")]),
            clear: vec![],
            xref: false
        })
    );
    assert_eq!(p.items[0].notes, None);
}

#[test]
fn changed_identically_on_both_sides_only_moves_the_base() {
    let l = [link("U", "Z", BASE)];
    let same = &[
        ("last_name", "Smith"),
        ("email", "s@x.com"),
        ("office_phone", "7"),
    ];
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![("U", linked_rec(same, "Z"))], &[]),
        &snap(vec![("Z", linked_rec(same, "U"))], &[]),
    );
    assert_eq!(p.items[0].verdict, Verdict::InStep);
    assert_eq!(p.items[0].link, LinkOp::Set(fields(same)));
}

#[test]
fn missing_cross_id_on_a_linked_record_is_written() {
    let l = [link("U", "Z", BASE)];
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![("U", rec(BASE))], &[]),
        &snap(vec![], &["Z"]),
    );
    assert_eq!(
        p.items[0].notes,
        Some(Write::Update {
            set: Fields::default(),
            clear: vec![],
            xref: true
        })
    );
    assert_eq!(p.items[0].verdict, Verdict::Linked);
}

#[test]
fn new_in_notes_is_created_in_crm() {
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &[],
        &snap(vec![("U", rec(BASE))], &[]),
        &snap(vec![], &[]),
    );
    assert_eq!(
        p.items[0].crm,
        Some(Write::Create {
            fields: fields(BASE)
        })
    );
    assert_eq!(p.items[0].verdict, Verdict::Created);
}

#[test]
fn new_in_crm_is_created_in_notes() {
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &[],
        &snap(vec![], &[]),
        &snap(vec![("Z", rec(BASE))], &[]),
    );
    assert_eq!(
        p.items[0].notes,
        Some(Write::Create {
            fields: fields(BASE)
        })
    );
}

#[test]
fn first_sync_matches_by_email_case_insensitively_and_merges() {
    let n = rec(&[
        ("last_name", "Smith"),
        ("email", "S@X.com"),
        ("city", "Oslo"),
    ]);
    let c = rec(&[
        ("last_name", "Smith"),
        ("email", "s@x.com"),
        ("office_phone", "1"),
    ]);
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &[],
        &snap(vec![("U", n)], &[]),
        &snap(vec![("Z", c)], &[]),
    );
    assert_eq!(p.items.len(), 1, "{p:?}");
    let it = &p.items[0];
    assert!(it.reason.starts_with("matched by e-mail"));
    // Fields set on one side only are filled in; e-mail differs only in case: CRM wins.
    assert_eq!(it.conflicts.len(), 1);
    let LinkOp::Set(base) = &it.link else {
        panic!()
    };
    assert_eq!(
        base,
        &fields(&[
            ("last_name", "Smith"),
            ("email", "s@x.com"),
            ("city", "Oslo"),
            ("office_phone", "1")
        ])
    );
}

#[test]
fn lost_state_relinks_by_cross_id_instead_of_duplicating() {
    let n = linked_rec(BASE, "Z");
    let c = linked_rec(&[("last_name", "Smith"), ("email", "other@x.com")], "U");
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &[],
        &snap(vec![("U", n)], &[]),
        &snap(vec![("Z", c)], &[]),
    );
    assert_eq!(p.items.len(), 1);
    assert!(p.items[0].reason.starts_with("matched by cross-ID"));
    assert!(!matches!(p.items[0].crm, Some(Write::Create { .. })));
}

#[test]
fn duplicate_emails_pair_one_to_one_and_create_the_rest() {
    let n1 = rec(&[("last_name", "A"), ("email", "x@x.com")]);
    let n2 = rec(&[("last_name", "B"), ("email", "x@x.com")]);
    let c1 = rec(&[("last_name", "A"), ("email", "x@x.com")]);
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &[],
        &snap(vec![("U1", n1), ("U2", n2)], &[]),
        &snap(vec![("Z1", c1)], &[]),
    );
    assert_eq!(p.items.len(), 2);
    assert_eq!(
        p.items
            .iter()
            .filter(|i| matches!(i.crm, Some(Write::Create { .. })))
            .count(),
        1
    );
    assert_eq!(
        p.items
            .iter()
            .filter(|i| i.verdict == Verdict::Linked)
            .count(),
        1
    );
}

#[test]
fn private_records_are_never_sent() {
    let mut n = rec(BASE);
    n.private = true;
    let mut c = rec(&[("last_name", "P"), ("email", "p@x.com")]);
    c.private = true;
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &[],
        &snap(vec![("U", n)], &[]),
        &snap(vec![("Z", c)], &[]),
    );
    assert!(
        p.items
            .iter()
            .all(|i| i.notes.is_none() && i.crm.is_none() && i.verdict == Verdict::Skipped)
    );
}

#[test]
fn record_turned_private_in_notes_is_withdrawn_from_crm_when_unchanged_there() {
    let l = [link("U", "Z", BASE)];
    let mut n = linked_rec(BASE, "Z");
    n.private = true;
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![("U", n)], &[]),
        &snap(vec![], &["Z"]),
    );
    assert_eq!(p.items[0].crm, Some(Write::Delete));
    assert_eq!(p.items[0].link, LinkOp::Remove);
}

#[test]
fn record_turned_private_in_crm_is_unlinked_when_changed_in_notes() {
    let l = [link("U", "Z", BASE)];
    let mut c = linked_rec(BASE, "U");
    c.private = true;
    let n = linked_rec(
        &[
            ("last_name", "Smith"),
            ("email", "s@x.com"),
            ("office_phone", "8"),
        ],
        "Z",
    );
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![("U", n)], &[]),
        &snap(vec![("Z", c)], &[]),
    );
    assert_eq!(p.items[0].notes, None);
    assert_eq!(p.items[0].verdict, Verdict::Unlinked);
}

#[test]
fn one_way_notes_to_crm_overwrites_crm_edits() {
    let l = [link("U", "Z", BASE)];
    let c = linked_rec(
        &[
            ("last_name", "Smith"),
            ("email", "s@x.com"),
            ("office_phone", "CRM"),
        ],
        "U",
    );
    let p = run(
        &one_way(Direction::NotesToCrm),
        &l,
        &snap(vec![], &["U"]),
        &snap(vec![("Z", c)], &[]),
    );
    assert_eq!(
        p.items[0].crm,
        Some(Write::Update {
            set: fields(&[("office_phone", "1")]),
            clear: vec![],
            xref: false
        })
    );
    assert_eq!(p.items[0].notes, None);
}

#[test]
fn one_way_notes_to_crm_restores_a_crm_deletion() {
    let l = [link("U", "Z", BASE)];
    let p = run(
        &one_way(Direction::NotesToCrm),
        &l,
        &snap(vec![], &["U"]),
        &snap(vec![], &[]),
    );
    assert_eq!(
        p.items[0].crm,
        Some(Write::Create {
            fields: fields(BASE)
        })
    );
}

#[test]
fn one_way_notes_to_crm_never_copies_crm_only_records() {
    let p = run(
        &one_way(Direction::NotesToCrm),
        &[],
        &snap(vec![], &[]),
        &snap(vec![("Z", rec(BASE))], &[]),
    );
    assert_eq!(p.items[0].verdict, Verdict::Skipped);
    assert_eq!(p.items[0].notes, None);
}

#[test]
fn one_way_crm_to_notes_deletes_notes_copy_of_deleted_crm_record() {
    let l = [
        link("U", "Z", BASE),
        link("U2", "Z2", BASE),
        link("U3", "Z3", BASE),
    ];
    let p = run(
        &one_way(Direction::CrmToNotes),
        &l,
        &snap(vec![], &["U", "U2", "U3"]),
        &snap(vec![], &["Z2", "Z3"]),
    );
    assert_eq!(p.items[0].notes, Some(Write::Delete));
}

#[test]
fn one_way_source_deleted_but_target_changed_is_kept_and_unlinked() {
    let l = [link("U", "Z", BASE)];
    let n = linked_rec(
        &[
            ("last_name", "Smith"),
            ("email", "s@x.com"),
            ("office_phone", "N"),
        ],
        "Z",
    );
    let p = run(
        &one_way(Direction::CrmToNotes),
        &l,
        &snap(vec![("U", n)], &[]),
        &snap(vec![], &[]),
    );
    assert_eq!(p.items[0].notes, None);
    assert_eq!(p.items[0].verdict, Verdict::Unlinked);
}

#[test]
fn guard_holds_a_module_when_one_side_lists_empty() {
    let l = [link("U", "Z", BASE)];
    let notes = snap(vec![], &[]);
    let crm = snap(vec![], &["Z"]);
    let settings = two_way(ConflictPolicy::CrmWins);
    let p = plan(&PlanInput {
        module: Module::Contacts,
        settings: &settings,
        links: &l,
        notes: &notes,
        crm: &crm,
        allow_mass_delete: false,
    });
    assert!(
        p.guard
            .as_deref()
            .unwrap_or_default()
            .contains("listed no contacts")
    );
    assert!(!p.has_writes());
    let p = plan(&PlanInput {
        module: Module::Contacts,
        settings: &settings,
        links: &l,
        notes: &notes,
        crm: &crm,
        allow_mass_delete: true,
    });
    assert!(p.guard.is_none());
    assert!(p.has_writes());
}

#[test]
fn guard_holds_a_module_that_would_delete_more_than_half() {
    let l: Vec<Link> = (0..4)
        .map(|i| link(&format!("U{i}"), &format!("Z{i}"), BASE))
        .collect();
    let notes = snap(vec![], &["U0"]);
    let crm = snap(vec![], &["Z0", "Z1", "Z2", "Z3"]);
    let settings = two_way(ConflictPolicy::CrmWins);
    let p = plan(&PlanInput {
        module: Module::Contacts,
        settings: &settings,
        links: &l,
        notes: &notes,
        crm: &crm,
        allow_mass_delete: false,
    });
    assert!(
        p.guard
            .as_deref()
            .unwrap_or_default()
            .contains("would delete 3 of 4"),
        "{:?}",
        p.guard
    );
}

#[test]
fn incremental_snapshot_treats_unmentioned_links_as_unchanged_and_listed_deletes_as_gone() {
    let l = [
        link("U", "Z", BASE),
        link("U2", "Z2", BASE),
        link("U3", "Z3", BASE),
    ];
    let notes = snap(vec![], &["U", "U2", "U3"]);
    let mut crm = SideSnapshot {
        complete: false,
        ..SideSnapshot::default()
    };
    crm.deleted.insert("Z2".into());
    let p = run(&two_way(ConflictPolicy::CrmWins), &l, &notes, &crm);
    assert_eq!(p.items.len(), 1);
    assert_eq!(p.items[0].unid, Some(NotesUnid("U2".into())));
    assert_eq!(p.items[0].notes, Some(Write::Delete));
}

#[test]
fn restored_copy_whose_answer_was_lost_is_relinked_not_restored_again() {
    // Last run restored the deleted Notes record U as U2 (carrying cross-ID Z), but never
    // heard back; the link still names U.
    let l = [link("U", "Z", BASE)];
    let changed = &[
        ("last_name", "Smith"),
        ("email", "s@x.com"),
        ("office_phone", "9"),
    ];
    let orphan = linked_rec(changed, "Z");
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![("U2", orphan)], &[]),
        &snap(vec![("Z", linked_rec(changed, "U"))], &[]),
    );
    assert_eq!(p.items.len(), 1, "{p:#?}");
    let it = &p.items[0];
    assert_eq!(it.unid, Some(NotesUnid("U2".into())));
    assert!(
        !matches!(it.notes, Some(Write::Create { .. })),
        "restored again: {it:?}"
    );
    assert_eq!(it.link, LinkOp::Set(fields(changed)));
    // The CRM record's cross-ID is corrected to the new UNID.
    assert_eq!(
        it.crm,
        Some(Write::Update {
            set: Fields::default(),
            clear: vec![],
            xref: true
        })
    );
}

#[test]
fn left_scope_in_crm_unchanged_in_notes_removes_the_notes_copy() {
    let l = [link("U", "Z", BASE)];
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![], &["U"]),
        &out_of_scope(&["Z"]),
    );
    assert_eq!(p.items.len(), 1, "{p:?}");
    assert_eq!(p.items[0].notes, Some(Write::Delete));
    assert_eq!(p.items[0].crm, None, "the CRM record is its new owner's");
    assert_eq!(p.items[0].link, LinkOp::Remove);
    assert_eq!(p.items[0].verdict, Verdict::Deleted);
    assert!(
        p.items[0].reason.contains("left your scope"),
        "{}",
        p.items[0].reason
    );
}

#[test]
fn left_scope_in_crm_changed_in_notes_is_unlinked_and_kept() {
    let l = [link("U", "Z", BASE)];
    let changed = linked_rec(
        &[
            ("last_name", "Smith"),
            ("email", "s@x.com"),
            ("office_phone", "2"),
        ],
        "Z",
    );
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &l,
        &snap(vec![("U", changed)], &[]),
        &out_of_scope(&["Z"]),
    );
    assert_eq!(p.items[0].notes, None);
    assert_eq!(p.items[0].crm, None);
    assert_eq!(p.items[0].link, LinkOp::Remove);
    assert_eq!(p.items[0].verdict, Verdict::Unlinked);
}

#[test]
fn left_scope_in_crm_in_one_way_from_notes_keeps_the_source() {
    let l = [link("U", "Z", BASE)];
    let p = run(
        &one_way(Direction::NotesToCrm),
        &l,
        &snap(vec![], &["U"]),
        &out_of_scope(&["Z"]),
    );
    assert_eq!((&p.items[0].notes, &p.items[0].crm), (&None, &None));
    assert_eq!(p.items[0].verdict, Verdict::Unlinked);
}

#[test]
fn a_kept_copy_naming_a_record_out_of_scope_is_not_created_again() {
    let p = run(
        &two_way(ConflictPolicy::CrmWins),
        &[],
        &snap(vec![("U", linked_rec(BASE, "Z"))], &[]),
        &out_of_scope(&["Z"]),
    );
    assert_eq!(p.items.len(), 1);
    assert_eq!(
        (&p.items[0].notes, &p.items[0].crm),
        (&None, &None),
        "{p:?}"
    );
    assert_eq!(p.items[0].verdict, Verdict::Skipped);
    assert!(p.items[0].reason.contains("no longer in your scope"));
}

#[test]
fn a_crm_listing_whose_links_all_left_scope_is_not_an_empty_side() {
    // Everything reassigned away is not "CRM listed nothing": the delete guard decides.
    let l = [
        link("U", "Z", BASE),
        link("U2", "Z2", BASE),
        link("U3", "Z3", BASE),
    ];
    let p = plan(&PlanInput {
        module: Module::Contacts,
        settings: &two_way(ConflictPolicy::CrmWins),
        links: &l,
        notes: &snap(vec![], &["U", "U2", "U3"]),
        crm: &out_of_scope(&["Z", "Z2", "Z3"]),
        allow_mass_delete: false,
    });
    let guard = p
        .guard
        .expect("three of three removed from Notes is held back");
    assert!(guard.contains("would delete 3 of 3"), "{guard}");
}
