//! The documents of one database, indexed: by UNID (a document request is a lookup, not a
//! scan), by modification time (`documents?since=` reads only what changed) and in every
//! view's order (see `view_index`), all kept up to date as documents are added, changed and
//! removed.
//!
//! Documents live in slots numbered in the order they were added; a removed document leaves
//! its slot empty, so listing in slot order is the order documents were added in, as before.

use std::collections::{BTreeSet, HashMap};
use std::ops::{Bound, Deref, DerefMut};

use chrono::{DateTime, Utc};

use super::model::{Database, Document};
use super::view_index::{ViewKey, reindex};

/// The documents of a database and their UNID and time indexes (view orders live in the views).
#[derive(Clone, Debug, Default)]
pub(crate) struct Documents {
    slots: Vec<Option<Document>>,
    /// Upper-case UNID → slot (the first document added with that UNID).
    by_unid: HashMap<String, usize>,
    /// (modified, slot) of every document.
    by_modified: BTreeSet<(DateTime<Utc>, usize)>,
    live: usize,
    /// Documents added with a UNID another document already had (only a load can do that).
    shadowed: usize,
}

impl Documents {
    /// Number of documents.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// The slot of the document with this UNID (any case).
    pub(crate) fn slot_of(&self, unid: &str) -> Option<usize> {
        self.by_unid.get(&unid.to_ascii_uppercase()).copied()
    }

    /// The document in `slot`.
    pub(crate) fn get(&self, slot: usize) -> Option<&Document> {
        self.slots.get(slot).and_then(Option::as_ref)
    }

    /// The document with this UNID (any case).
    pub(crate) fn by_unid(&self, unid: &str) -> Option<&Document> {
        self.slot_of(unid).and_then(|s| self.get(s))
    }

    /// All documents, in the order they were added.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Document> {
        self.slots.iter().flatten()
    }

    /// Documents modified strictly after `since`, in the order they were added.
    pub(crate) fn modified_after(&self, since: DateTime<Utc>) -> Vec<&Document> {
        let mut slots: Vec<usize> = self
            .by_modified
            .range((Bound::Excluded((since, usize::MAX)), Bound::Unbounded))
            .map(|(_, s)| *s)
            .collect();
        slots.sort_unstable();
        slots.into_iter().filter_map(|s| self.get(s)).collect()
    }

    /// Mark the document in `slot` read by `user` (nothing any index depends on).
    pub(crate) fn mark_read(&mut self, slot: usize, user: String) {
        if let Some(Some(doc)) = self.slots.get_mut(slot) {
            doc.read_by.insert(user);
        }
    }

    /// Mark the document in `slot` unread by `user`.
    pub(crate) fn mark_unread(&mut self, slot: usize, user: &str) {
        if let Some(Some(doc)) = self.slots.get_mut(slot) {
            doc.read_by.remove(user);
        }
    }

    fn take(&mut self, slot: usize) -> Option<Document> {
        self.slots.get_mut(slot).and_then(Option::take)
    }

    /// Put a document (back) in its slot, indexed by time, and by UNID when `new_unid`.
    fn put(&mut self, slot: usize, doc: Document, new_unid: bool) {
        if new_unid {
            let key = doc.unid.to_ascii_uppercase();
            match self.by_unid.entry(key) {
                std::collections::hash_map::Entry::Occupied(_) => self.shadowed += 1,
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(slot);
                }
            }
        }
        self.by_modified.insert((doc.modified, slot));
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Some(doc);
        }
    }

    /// Forget that the document in `slot` has this UNID.
    fn forget_unid(&mut self, slot: usize, unid: &str) {
        let key = unid.to_ascii_uppercase();
        if self.by_unid.get(&key) != Some(&slot) {
            return;
        }
        self.by_unid.remove(&key);
        if self.shadowed == 0 {
            return;
        }
        // The next document with the same UNID takes its place, as a scan would find it.
        let other = self
            .slots
            .iter()
            .enumerate()
            .find(|(i, d)| {
                *i != slot
                    && d.as_ref()
                        .is_some_and(|d| d.unid.eq_ignore_ascii_case(unid))
            })
            .map(|(i, _)| i);
        if let Some(other) = other {
            self.shadowed -= 1;
            self.by_unid.insert(key, other);
        }
    }
}

/// What a document was indexed under before a change.
struct Indexed {
    unid: String,
    modified: DateTime<Utc>,
    views: Vec<Option<ViewKey>>,
}

/// A document being changed; its indexes are brought up to date when this is dropped.
pub(crate) struct DocMut<'a> {
    db: &'a mut Database,
    slot: usize,
    doc: Document,
    /// `None` for a document being added (not indexed yet).
    before: Option<Indexed>,
}

impl Deref for DocMut<'_> {
    type Target = Document;
    fn deref(&self) -> &Document {
        &self.doc
    }
}

impl DerefMut for DocMut<'_> {
    fn deref_mut(&mut self) -> &mut Document {
        &mut self.doc
    }
}

impl Drop for DocMut<'_> {
    fn drop(&mut self) {
        let mut doc = std::mem::take(&mut self.doc);
        let slot = self.slot;
        let before = self.before.take();
        // Every change of a stored document is a save, which Notes counts.
        if before.is_some() {
            doc.sequence = doc.sequence.saturating_add(1);
        }
        let mut new_unid = true;
        if let Some(b) = &before {
            self.db.documents.by_modified.remove(&(b.modified, slot));
            new_unid = !b.unid.eq_ignore_ascii_case(&doc.unid);
            if new_unid {
                self.db.documents.forget_unid(slot, &b.unid);
            }
        }
        for (i, view) in self.db.views.iter_mut().enumerate() {
            let old = before
                .as_ref()
                .and_then(|b| b.views.get(i))
                .and_then(Option::as_ref);
            let new = ViewKey::of(view, &doc, slot);
            reindex(&mut view.index, old, new);
        }
        self.db.documents.put(slot, doc, new_unid);
    }
}

impl Database {
    /// The document with this UNID (any case).
    pub(crate) fn doc(&self, unid: &str) -> Option<&Document> {
        self.documents.by_unid(unid)
    }

    /// The document with this UNID, to change; indexes follow when the guard is dropped.
    pub(crate) fn doc_mut(&mut self, unid: &str) -> Option<DocMut<'_>> {
        let slot = self.documents.slot_of(unid)?;
        let doc = self.documents.take(slot)?;
        let views = self
            .views
            .iter()
            .map(|v| ViewKey::of(v, &doc, slot))
            .collect();
        let before = Indexed {
            unid: doc.unid.clone(),
            modified: doc.modified,
            views,
        };
        Some(DocMut {
            db: self,
            slot,
            doc,
            before: Some(before),
        })
    }

    /// Add a document (indexed when the guard is dropped).
    pub(crate) fn insert_document(&mut self, doc: Document) -> DocMut<'_> {
        let slot = self.documents.slots.len();
        self.documents.slots.push(None);
        self.documents.live += 1;
        DocMut {
            db: self,
            slot,
            doc,
            before: None,
        }
    }

    /// Remove the document with this UNID; it, if there was one.
    pub(crate) fn remove_document(&mut self, unid: &str) -> Option<Document> {
        let slot = self.documents.slot_of(unid)?;
        self.remove_slot(slot)
    }

    fn remove_slot(&mut self, slot: usize) -> Option<Document> {
        let doc = self.documents.take(slot)?;
        self.documents.live -= 1;
        self.documents.by_modified.remove(&(doc.modified, slot));
        self.documents.forget_unid(slot, &doc.unid);
        for view in &mut self.views {
            let key = ViewKey::of(view, &doc, slot);
            reindex(&mut view.index, key.as_ref(), None);
        }
        Some(doc)
    }

    /// Remove the documents whose UNID is exactly `unid`.
    pub(crate) fn remove_documents_with_unid(&mut self, unid: &str) {
        while let Some(slot) = self.documents.slot_of(unid)
            && self.documents.get(slot).is_some_and(|d| d.unid == unid)
        {
            self.remove_slot(slot);
        }
    }

    /// Whether a document has exactly this UNID.
    pub(crate) fn has_exact_unid(&self, unid: &str) -> bool {
        self.doc(unid).is_some_and(|d| d.unid == unid)
    }

    /// Remove every document.
    pub(crate) fn clear_documents(&mut self) {
        self.documents = Documents::default();
        for view in &mut self.views {
            view.index.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use chrono::{Duration, NaiveDate, TimeZone, Utc};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::super::model::{Database, Document, ItemValue, NotesTime, View, mail_views};

    /// The view order as it was computed before the index: select by form, sort every time.
    fn sorted_by_scan<'a>(view: &View, db: &'a Database) -> Vec<&'a Document> {
        let mut rows: Vec<&Document> = db
            .documents
            .iter()
            .filter(|d| d.form().is_some_and(|f| f.eq_ignore_ascii_case(&view.form)))
            .collect();
        rows.sort_by(|a, b| {
            let mut ord = Ordering::Equal;
            for col in view.columns.iter().filter(|c| c.sorted) {
                ord = ord.then_with(|| col.compare(a, b));
            }
            let ord = if view.descending { ord.reverse() } else { ord };
            ord.then_with(|| a.note_id.cmp(&b.note_id))
        });
        rows
    }

    fn random_items(rng: &mut StdRng) -> Vec<(String, ItemValue)> {
        let names = ["", "a", "A", "b", "Bé", "ab", "Ab", "z", "日本"];
        let pick = |rng: &mut StdRng| names[rng.random_range(0..names.len())];
        let base = Utc
            .with_ymd_and_hms(2027, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let time = |rng: &mut StdRng| match rng.random_range(0..3) {
            0 => NotesTime::DateTime(base + Duration::hours(rng.random_range(0..96))),
            1 => NotesTime::Date(
                NaiveDate::from_ymd_opt(2027, 1, rng.random_range(1..5)).unwrap_or_default(),
            ),
            _ => NotesTime::DateTime(base),
        };
        match rng.random_range(0..3) {
            0 => vec![
                ("Form".into(), ItemValue::text("Person")),
                ("LastName".into(), ItemValue::text(pick(rng))),
                ("FirstName".into(), ItemValue::text(pick(rng))),
            ],
            1 => {
                let mut items = vec![("Form".into(), ItemValue::text("Task"))];
                if rng.random_bool(0.8) {
                    items.push(("DueDateTime".into(), ItemValue::Time(vec![time(rng)])));
                }
                items
            }
            _ => vec![
                ("Form".into(), ItemValue::text("Memo")),
                ("PostedDate".into(), ItemValue::Time(vec![time(rng)])),
            ],
        }
    }

    #[test]
    fn views_stay_in_the_order_a_full_sort_gives() {
        let now = Utc::now();
        let mut db = Database::new("mail/t.nsf", "t", "", None, mail_views("mail/t.nsf", now));
        let mut rng = StdRng::seed_from_u64(14);
        let mut unids: Vec<String> = Vec::new();
        for round in 0..3_000 {
            match rng.random_range(0..10) {
                0..5 => {
                    let unid = format!("{round:032X}");
                    let items = random_items(&mut rng);
                    db.add(unid.clone(), now, now, "CN=t", items);
                    unids.push(unid);
                }
                5..8 if !unids.is_empty() => {
                    let unid = &unids[rng.random_range(0..unids.len())];
                    let items = random_items(&mut rng);
                    if let Some(mut doc) = db.doc_mut(unid) {
                        for (k, v) in items.into_iter().skip(1) {
                            doc.set(&k, v);
                        }
                        doc.modified = now + Duration::seconds(round);
                    }
                }
                8 if !unids.is_empty() => {
                    let unid = unids.swap_remove(rng.random_range(0..unids.len()));
                    assert!(db.remove_document(&unid).is_some());
                }
                _ => {}
            }
        }
        assert_eq!(db.documents.len(), unids.len());
        for view in &db.views {
            let want: Vec<u32> = sorted_by_scan(view, &db)
                .iter()
                .map(|d| d.note_id)
                .collect();
            let got: Vec<u32> = view.rows_from(&db, 0).map(|d| d.note_id).collect();
            assert_eq!(got, want, "{}", view.title);
            assert_eq!(view.len(), want.len());
            let page: Vec<u32> = view.rows_from(&db, 7).take(5).map(|d| d.note_id).collect();
            assert_eq!(
                page,
                want.iter().skip(7).take(5).copied().collect::<Vec<_>>()
            );
        }
        let since = now + Duration::seconds(1_500);
        let got: Vec<&str> = db
            .documents
            .modified_after(since)
            .iter()
            .map(|d| d.unid.as_str())
            .collect();
        let want: Vec<&str> = db
            .documents
            .iter()
            .filter(|d| d.modified > since)
            .map(|d| d.unid.as_str())
            .collect();
        assert_eq!(got, want);
        for unid in &unids {
            assert_eq!(db.doc(&unid.to_lowercase()).map(|d| &d.unid), Some(unid));
        }
    }
}
