//! The sort keys of view entries: a document's place in a view, computed once when it is
//! written, so a view is kept in order instead of being sorted for every page.
//!
//! The order is the one `View`'s columns define (the sorted columns in turn, reversed for a
//! descending view, then the note id): a column compares date/time values by instant, numbers
//! by value, and anything else (or two values of different types) by Notes collation of the
//! first value's text; a document without the item comes first.

use std::cmp::Ordering;

use super::model::{Column, ColumnSource, Document, ItemValue, View};
use super::order::OrderIndex;

/// Text in Notes collation: case-insensitive, then case-sensitive (see `model::collate`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Collated {
    lower: String,
    text: String,
}

impl Collated {
    fn of(text: String) -> Collated {
        Collated {
            lower: text.to_lowercase(),
            text,
        }
    }
}

/// One column's value as the view sorts it.
#[derive(Clone, Debug)]
pub(crate) enum ColKey {
    /// The document has no such item.
    Missing,
    /// A date/time item: its first value's instant, and its text for comparing with others.
    Time(Option<i64>, Collated),
    /// A number item: its first value, and its text.
    Number(f64, Collated),
    /// Any other item, by its first value's text.
    Text(Collated),
    /// `LastName, FirstName`: by last name, then first name.
    LastFirst(Collated, Collated),
}

impl ColKey {
    fn of(column: &Column, doc: &Document) -> ColKey {
        match &column.source {
            ColumnSource::LastFirst => ColKey::LastFirst(
                Collated::of(doc.text("LastName")),
                Collated::of(doc.text("FirstName")),
            ),
            ColumnSource::Item(item) => match doc.get(item) {
                None => ColKey::Missing,
                Some(v @ ItemValue::Time(times)) => ColKey::Time(
                    times.first().map(super::model::NotesTime::sort_key),
                    Collated::of(v.first_text()),
                ),
                Some(v @ ItemValue::Number(numbers)) => {
                    // JSON has no NaN; -0 and 0 compare equal, as before.
                    let n = numbers.first().copied().unwrap_or(0.0);
                    ColKey::Number(if n == 0.0 { 0.0 } else { n }, Collated::of(v.first_text()))
                }
                Some(v) => ColKey::Text(Collated::of(v.first_text())),
            },
        }
    }

    fn text(&self) -> Option<&Collated> {
        match self {
            ColKey::Time(_, t) | ColKey::Number(_, t) | ColKey::Text(t) => Some(t),
            ColKey::Missing | ColKey::LastFirst(..) => None,
        }
    }
}

impl Ord for ColKey {
    fn cmp(&self, other: &ColKey) -> Ordering {
        match (self, other) {
            (ColKey::Missing, ColKey::Missing) => Ordering::Equal,
            (ColKey::Missing, _) => Ordering::Less,
            (_, ColKey::Missing) => Ordering::Greater,
            (ColKey::Time(a, _), ColKey::Time(b, _)) => a.cmp(b),
            (ColKey::Number(a, _), ColKey::Number(b, _)) => a.total_cmp(b),
            (ColKey::LastFirst(la, fa), ColKey::LastFirst(lb, fb)) => la.cmp(lb).then(fa.cmp(fb)),
            (a, b) => a.text().cmp(&b.text()),
        }
    }
}

impl PartialOrd for ColKey {
    fn partial_cmp(&self, other: &ColKey) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ColKey {
    fn eq(&self, other: &ColKey) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ColKey {}

/// A document's place in one view.
#[derive(Clone, Debug)]
pub(crate) struct ViewKey {
    cols: Vec<ColKey>,
    descending: bool,
    note_id: u32,
    /// The document's slot in the database's store.
    pub slot: usize,
}

impl Ord for ViewKey {
    fn cmp(&self, other: &ViewKey) -> Ordering {
        let cols = self.cols.cmp(&other.cols);
        let cols = if self.descending {
            cols.reverse()
        } else {
            cols
        };
        cols.then(self.note_id.cmp(&other.note_id))
            .then(self.slot.cmp(&other.slot))
    }
}

impl PartialOrd for ViewKey {
    fn partial_cmp(&self, other: &ViewKey) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ViewKey {
    fn eq(&self, other: &ViewKey) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ViewKey {}

impl ViewKey {
    /// The key of the document in `slot` in `view`, or `None` when the view does not select it.
    pub(crate) fn of(view: &View, doc: &Document, slot: usize) -> Option<ViewKey> {
        let selected = doc
            .get("Form")
            .is_some_and(|f| f.first_text().eq_ignore_ascii_case(&view.form));
        selected.then(|| ViewKey {
            cols: view
                .columns
                .iter()
                .filter(|c| c.sorted)
                .map(|c| ColKey::of(c, doc))
                .collect(),
            descending: view.descending,
            note_id: doc.note_id,
            slot,
        })
    }
}

/// The entries of one view in view order.
pub(crate) type ViewIndex = OrderIndex<ViewKey>;

/// Move a document's entry in `index` from `before` to `after` (either may be absent).
pub(crate) fn reindex(index: &mut ViewIndex, before: Option<&ViewKey>, after: Option<ViewKey>) {
    if let (Some(b), Some(a)) = (before, &after)
        && b == a
        && b.cols.iter().zip(&a.cols).all(|(x, y)| same(x, y))
    {
        return;
    }
    if let Some(b) = before
        && !index.remove(b)
    {
        // Keys of different types need not order consistently; find the entry by its slot.
        let slot = b.slot;
        index.remove_by(|k| k.slot == slot);
    }
    if let Some(a) = after {
        index.insert(a);
    }
}

/// Whether two column keys are identical (not merely equal in order: equal keys of different
/// types sort differently against third values).
fn same(a: &ColKey, b: &ColKey) -> bool {
    match (a, b) {
        (ColKey::Missing, ColKey::Missing) => true,
        (ColKey::Time(x, s), ColKey::Time(y, t)) => x == y && s == t,
        (ColKey::Number(x, s), ColKey::Number(y, t)) => x.to_bits() == y.to_bits() && s == t,
        (ColKey::Text(s), ColKey::Text(t)) => s == t,
        (ColKey::LastFirst(a1, a2), ColKey::LastFirst(b1, b2)) => a1 == b1 && a2 == b2,
        _ => false,
    }
}
