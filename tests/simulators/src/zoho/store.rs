//! The records of one module, indexed: by id (a lookup, and the `id` listing order), by
//! created and by modified time (the other listing orders and `If-Modified-Since`), and by the
//! value of a unique field (duplicate checks and upserts), all kept up to date on every write.
//!
//! Records live in slots numbered in the order they were stored; a deleted record leaves its
//! slot empty, so iterating the slots is the order records were stored in, as before.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::{Deref, DerefMut};

use super::model::{Record, unique_key};
use super::records::SortBy;

/// Unique-field value → slots of the records holding it, per field (built when first asked).
type UniqueIndex = HashMap<String, HashMap<String, BTreeSet<usize>>>;

/// The records of a module.
#[derive(Clone, Debug, Default)]
pub(crate) struct Records {
    slots: Vec<Option<Record>>,
    /// id → slot (ids are unique: loads refuse duplicates, writes take new ids).
    by_id: BTreeMap<u64, usize>,
    /// (created, id) and (modified, id), seconds.
    by_created: BTreeSet<(i64, u64)>,
    by_modified: BTreeSet<(i64, u64)>,
    unique: RefCell<UniqueIndex>,
}

impl Records {
    /// Records stored in this order.
    pub(crate) fn from_vec(records: Vec<Record>) -> Records {
        let mut out = Records::default();
        for r in records {
            out.push(r);
        }
        out
    }

    /// All records in the order they were stored.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &Record> {
        self.slots.iter().flatten()
    }

    /// The record with this id.
    pub(crate) fn get(&self, id: u64) -> Option<&Record> {
        self.by_id.get(&id).and_then(|s| self.slot(*s))
    }

    /// The slot of the record with this id.
    pub(crate) fn slot_of(&self, id: u64) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    /// The record in `slot`.
    pub(crate) fn slot(&self, slot: usize) -> Option<&Record> {
        self.slots.get(slot).and_then(Option::as_ref)
    }

    /// The record with this id, to change; the indexes follow when the guard is dropped.
    pub(crate) fn get_mut(&mut self, id: u64) -> Option<RecMut<'_>> {
        let slot = self.slot_of(id)?;
        self.slot_mut(slot)
    }

    /// The record in `slot`, to change.
    pub(crate) fn slot_mut(&mut self, slot: usize) -> Option<RecMut<'_>> {
        let record = self.slots.get_mut(slot).and_then(Option::take)?;
        self.unindex(slot, &record);
        Some(RecMut {
            records: self,
            slot,
            record,
        })
    }

    /// Store a new record after the others.
    pub(crate) fn push(&mut self, record: Record) {
        let slot = self.slots.len();
        self.slots.push(None);
        self.put(slot, record);
    }

    /// Remove the record in `slot`.
    pub(crate) fn remove_slot(&mut self, slot: usize) -> Option<Record> {
        let record = self.slots.get_mut(slot).and_then(Option::take)?;
        self.unindex(slot, &record);
        self.by_id.remove(&record.id);
        Some(record)
    }

    fn put(&mut self, slot: usize, record: Record) {
        self.by_id.insert(record.id, slot);
        self.by_created
            .insert((record.created.timestamp(), record.id));
        self.by_modified
            .insert((record.modified.timestamp(), record.id));
        for (field, index) in self.unique.get_mut().iter_mut() {
            if let Some(key) = record.values.get(field).and_then(unique_key) {
                index.entry(key).or_default().insert(slot);
            }
        }
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Some(record);
        }
    }

    fn unindex(&mut self, slot: usize, record: &Record) {
        self.by_created
            .remove(&(record.created.timestamp(), record.id));
        self.by_modified
            .remove(&(record.modified.timestamp(), record.id));
        for (field, index) in self.unique.get_mut().iter_mut() {
            if let Some(key) = record.values.get(field).and_then(unique_key)
                && let Some(slots) = index.get_mut(&key)
            {
                slots.remove(&slot);
                if slots.is_empty() {
                    index.remove(&key);
                }
            }
        }
    }

    /// The first record (in stored order) whose `field` has the unique key `key`, other than
    /// `except`.
    pub(crate) fn holding(&self, field: &str, key: &str, except: Option<u64>) -> Option<&Record> {
        self.holders_from(field, key)
            .into_iter()
            .find(|r| except != Some(r.id))
    }

    /// The records whose `field` has the unique key `key`, in stored order.
    fn holders_from(&self, field: &str, key: &str) -> Vec<&Record> {
        let past = |_: usize| true;
        let Ok(mut unique) = self.unique.try_borrow_mut() else {
            return self
                .slots
                .iter()
                .enumerate()
                .filter(|(i, _)| past(*i))
                .filter_map(|(_, r)| r.as_ref())
                .filter(|r| r.values.get(field).and_then(unique_key).as_deref() == Some(key))
                .collect();
        };
        let index = unique.entry(field.to_owned()).or_insert_with(|| {
            let mut index: HashMap<String, BTreeSet<usize>> = HashMap::new();
            for (slot, r) in self.slots.iter().enumerate() {
                if let Some(k) = r
                    .as_ref()
                    .and_then(|r| r.values.get(field))
                    .and_then(unique_key)
                {
                    index.entry(k).or_default().insert(slot);
                }
            }
            index
        });
        let slots: Vec<usize> = index
            .get(key)
            .map(|s| s.iter().copied().filter(|s| past(*s)).collect())
            .unwrap_or_default();
        drop(unique);
        slots.into_iter().filter_map(|s| self.slot(s)).collect()
    }

    /// The records in `(key, id)` order of `index` (ascending, or descending), strictly after
    /// `after` in that direction when given.
    fn walk<'a>(
        &'a self,
        index: &'a BTreeSet<(i64, u64)>,
        descending: bool,
        after: Option<(i64, u64)>,
    ) -> Box<dyn Iterator<Item = &'a Record> + 'a> {
        use std::ops::Bound::{Excluded, Unbounded};
        let range = match (after, descending) {
            (None, _) => index.range::<(i64, u64), _>(..),
            (Some(a), false) => index.range((Excluded(a), Unbounded)),
            (Some(a), true) => index.range((Unbounded, Excluded(a))),
        };
        let ids: Box<dyn Iterator<Item = &(i64, u64)>> = if descending {
            Box::new(range.rev())
        } else {
            Box::new(range)
        };
        Box::new(ids.filter_map(|(_, id)| self.get(*id)))
    }

    /// The records in listing order `order` (the key and id of `SortBy::key`), continuing
    /// strictly after the cursor `after` when given.
    pub(crate) fn ordered<'a>(
        &'a self,
        order: SortBy,
        descending: bool,
        after: Option<(i64, u64)>,
    ) -> Box<dyn Iterator<Item = &'a Record> + 'a> {
        match order {
            SortBy::Created => self.walk(&self.by_created, descending, after),
            SortBy::Modified => self.walk(&self.by_modified, descending, after),
            SortBy::Id => {
                use std::ops::Bound::{Excluded, Unbounded};
                let range = match (after, descending) {
                    (None, _) => self.by_id.range(..),
                    (Some((_, a)), false) => self.by_id.range((Excluded(a), Unbounded)),
                    (Some((_, a)), true) => self.by_id.range((Unbounded, Excluded(a))),
                };
                if descending {
                    Box::new(range.rev().filter_map(|(_, s)| self.slot(*s)))
                } else {
                    Box::new(range.filter_map(|(_, s)| self.slot(*s)))
                }
            }
        }
    }

    /// Records modified in or after the second `since` (a superset of those modified after
    /// any instant in it), in no particular order.
    pub(crate) fn modified_from(&self, since: i64) -> impl Iterator<Item = &Record> {
        self.by_modified
            .range((since, 0)..)
            .filter_map(|(_, id)| self.get(*id))
    }

    /// The records whose `field` has the unique key `key`, in stored order.
    pub(crate) fn holders(&self, field: &str, key: &str) -> Vec<&Record> {
        self.holders_from(field, key)
    }
}

/// A record being changed; the indexes follow when it is dropped.
pub(crate) struct RecMut<'a> {
    records: &'a mut Records,
    slot: usize,
    record: Record,
}

impl Deref for RecMut<'_> {
    type Target = Record;
    fn deref(&self) -> &Record {
        &self.record
    }
}

impl DerefMut for RecMut<'_> {
    fn deref_mut(&mut self) -> &mut Record {
        &mut self.record
    }
}

impl Drop for RecMut<'_> {
    fn drop(&mut self) {
        let record = std::mem::take(&mut self.record);
        if self.records.by_id.get(&record.id) != Some(&self.slot) {
            // The id changed under the guard: forget the old one.
            self.records.by_id.retain(|_, s| *s != self.slot);
        }
        self.records.put(self.slot, record);
    }
}
