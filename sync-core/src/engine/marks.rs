//! Sets of one side's record keys that cost a bit for the key of a stored link.
//!
//! A run keeps several sets of keys as large as the mail file: the documents the view listed,
//! those changed since the last sync, the records it saw unchanged on each side. After the
//! first sync nearly every one of those keys is a stored link's, and the link index
//! ([`LinkIndex`]) already holds it, sorted. So a [`Keys`] marks a linked key as one bit at
//! the link's position, and holds only the other keys (documents not linked yet, keys of
//! another form) itself: at 1,000,000 linked documents a set takes 125 KB, not the 25 MB a
//! tree of 16-byte keys takes.
//!
//! The positions are the index's, so a set is filled only once the index is complete (the
//! links are read first, [`super::Phase::Links`]) and is read against that same index.

use super::keys::{Key, KeySet};
use super::link_index::LinkIndex;
use crate::model::Side;

/// A set of positions, a bit each.
#[derive(Clone, Debug, Default)]
pub(super) struct Bits {
    words: Vec<u64>,
    count: usize,
}

impl Bits {
    /// Sets bit `i`; whether it was clear.
    pub fn set(&mut self, i: usize) -> bool {
        let (w, b) = (i / 64, 1u64 << (i % 64));
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        let fresh = self.words[w] & b == 0;
        self.words[w] |= b;
        self.count += usize::from(fresh);
        fresh
    }

    /// Clears bit `i`; whether it was set.
    pub fn clear(&mut self, i: usize) -> bool {
        let Some(word) = self.words.get_mut(i / 64) else {
            return false;
        };
        let b = 1u64 << (i % 64);
        let was = *word & b != 0;
        *word &= !b;
        self.count -= usize::from(was);
        was
    }

    /// Whether bit `i` is set.
    pub fn get(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    /// The first set bit at or after `from`.
    pub fn next_from(&self, from: usize) -> Option<usize> {
        let mut w = from / 64;
        let mut word = self.words.get(w)? & (u64::MAX << (from % 64));
        loop {
            if word != 0 {
                return Some(w * 64 + word.trailing_zeros() as usize);
            }
            w += 1;
            word = *self.words.get(w)?;
        }
    }

    /// The set bits, in order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            let i = self.next_from(at)?;
            at = i + 1;
            Some(i)
        })
    }

    /// How many bits are set.
    pub fn len(&self) -> usize {
        self.count
    }
}

/// A set of one side's record keys: a stored link's key as a bit at the link's position in the
/// index, any other key held compactly ([`KeySet`]). It answers exactly as a set of the keys
/// would, as long as it is asked against the index it was filled against.
#[derive(Clone, Debug)]
pub(super) struct Keys {
    /// Whose keys: Notes keys are found in the index by Notes key, CRM ids by Zoho id.
    side: Side,
    linked: Bits,
    others: KeySet,
}

impl Keys {
    /// An empty set of `side`'s keys.
    pub fn new(side: Side) -> Self {
        Self {
            side,
            linked: Bits::default(),
            others: KeySet::default(),
        }
    }

    /// The position in `index` of the link `key` is a key of.
    fn position(&self, index: &LinkIndex, key: &str) -> Option<usize> {
        match self.side {
            Side::Notes => index.by_unid(key),
            Side::Crm => index.by_zid(key),
        }
    }

    /// Adds `key`.
    pub fn insert(&mut self, index: &LinkIndex, key: &str) {
        match self.position(index, key) {
            Some(i) => {
                self.linked.set(i);
            }
            None => self.others.insert(key),
        }
    }

    /// Adds the key of the link at position `i`.
    pub fn insert_link(&mut self, i: usize) {
        self.linked.set(i);
    }

    /// Whether `key` is in the set.
    pub fn contains(&self, index: &LinkIndex, key: &str) -> bool {
        match self.position(index, key) {
            Some(i) => self.linked.get(i),
            None => self.others.contains(key),
        }
    }

    /// Whether the key of the link at position `i` is in the set.
    pub fn contains_link(&self, i: usize) -> bool {
        self.linked.get(i)
    }

    /// Removes `key`; whether it was there.
    pub fn remove(&mut self, index: &LinkIndex, key: &str) -> bool {
        match self.position(index, key) {
            Some(i) => self.linked.clear(i),
            None => self.others.remove(key),
        }
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.linked.len() + self.others.len()
    }

    /// No key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many keys are no link's.
    pub fn others_len(&self) -> usize {
        self.others.len()
    }

    /// The positions of the links whose keys are in the set, in order.
    pub fn links(&self) -> impl Iterator<Item = usize> + '_ {
        self.linked.iter()
    }

    /// The keys that are no link's, in the order of [`KeySet::keys`].
    pub fn others(&self) -> impl Iterator<Item = Key> + '_ {
        self.others.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Fields, NotesUnid, ZohoId};
    use crate::state::Link;

    const U1: &str = "0123456789ABCDEF0123456789ABCDEF";
    const U2: &str = "1123456789ABCDEF0123456789ABCDEF";
    const U3: &str = "2123456789ABCDEF0123456789ABCDEF";

    fn index() -> LinkIndex {
        let link = |u: &str, z: &str| Link {
            unid: NotesUnid(u.into()),
            zoho_id: ZohoId(z.into()),
            base: Fields::default(),
        };
        let mut ix = LinkIndex::new(false);
        ix.extend(vec![link(U2, "7"), link(U1, "5725767000000411001")]);
        ix.finish();
        ix
    }

    #[test]
    fn a_set_answers_as_a_set_of_its_keys() {
        let ix = index();
        let mut notes = Keys::new(Side::Notes);
        for k in [U2, U3, "uid-1/20261205T010000Z", &U1.to_ascii_lowercase()] {
            notes.insert(&ix, k);
            notes.insert(&ix, k);
        }
        assert_eq!(notes.len(), 4);
        assert!(notes.contains(&ix, U2) && notes.contains(&ix, U3));
        assert!(
            !notes.contains(&ix, U1),
            "the lower-case form is another key"
        );
        assert!(notes.contains(&ix, &U1.to_ascii_lowercase()));
        // U2 is the link at position 1 (the index sorts by Notes key): a bit, not a key.
        assert_eq!(notes.links().collect::<Vec<_>>(), [1]);
        assert!(notes.contains_link(1) && !notes.contains_link(0));
        let others: Vec<String> = notes.others().map(|k| k.text()).collect();
        assert_eq!(others.len(), 3);
        assert!(notes.remove(&ix, U2) && !notes.remove(&ix, U2));
        assert!(notes.remove(&ix, U3));
        assert_eq!(notes.len(), 2);

        let mut crm = Keys::new(Side::Crm);
        crm.insert(&ix, "5725767000000411001");
        crm.insert(&ix, "42");
        assert_eq!(crm.links().collect::<Vec<_>>(), [0]);
        assert!(crm.contains(&ix, "42") && !crm.contains(&ix, "7"));
        assert!(!crm.is_empty());
    }

    #[test]
    fn bits_walk_in_order_across_words() {
        let mut b = Bits::default();
        for i in [130, 3, 64, 63, 3] {
            b.set(i);
        }
        assert_eq!(b.len(), 4);
        assert_eq!(b.iter().collect::<Vec<_>>(), [3, 63, 64, 130]);
        assert_eq!(b.next_from(65), Some(130));
        assert_eq!(b.next_from(131), None);
        assert!(b.clear(64) && !b.clear(64) && !b.clear(10_000));
        assert_eq!(b.iter().collect::<Vec<_>>(), [3, 63, 130]);
        assert!(!b.get(64) && b.get(130));
    }
}
