//! A sorted list that can seek by position: the order of a view, kept up to date as documents
//! come, change and go, so a view page is a seek plus the page.
//!
//! Keys are kept in blocks of at most [`MAX_BLOCK`] (a two-level B-tree without the tree):
//! insert and remove are a binary search over the blocks plus a shift inside one block, and
//! finding the entry at position `n` walks the block lengths (1,000 blocks at a million keys).

/// A block is split in two when it grows past this.
const MAX_BLOCK: usize = 2048;

/// Keys in ascending order, with duplicates allowed.
#[derive(Clone, Debug)]
pub(crate) struct OrderIndex<K> {
    blocks: Vec<Vec<K>>,
    len: usize,
}

impl<K> Default for OrderIndex<K> {
    fn default() -> Self {
        OrderIndex {
            blocks: Vec::new(),
            len: 0,
        }
    }
}

impl<K: Ord> OrderIndex<K> {
    /// Number of keys.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Drop every key.
    pub(crate) fn clear(&mut self) {
        self.blocks.clear();
        self.len = 0;
    }

    /// The block a key belongs in: the first whose last key is not below it (else the last).
    fn block_for(&self, key: &K) -> usize {
        let i = self
            .blocks
            .partition_point(|b| b.last().is_some_and(|last| last < key));
        i.min(self.blocks.len().saturating_sub(1))
    }

    /// Add a key at its place.
    pub(crate) fn insert(&mut self, key: K) {
        self.len += 1;
        if self.blocks.is_empty() {
            self.blocks.push(vec![key]);
            return;
        }
        let b = self.block_for(&key);
        let block = &mut self.blocks[b];
        let at = block.partition_point(|k| k <= &key);
        block.insert(at, key);
        if block.len() > MAX_BLOCK {
            let tail = block.split_off(block.len() / 2);
            self.blocks.insert(b + 1, tail);
        }
    }

    /// Remove one key equal to `key`; whether there was one.
    pub(crate) fn remove(&mut self, key: &K) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let b = self.block_for(key);
        let block = &mut self.blocks[b];
        let Ok(at) = block.binary_search(key) else {
            return false;
        };
        block.remove(at);
        self.after_removal(b);
        true
    }

    /// Remove the first key `matches` accepts, by a scan (for keys whose order changed under
    /// them); whether there was one.
    pub(crate) fn remove_by(&mut self, matches: impl Fn(&K) -> bool) -> bool {
        for b in 0..self.blocks.len() {
            if let Some(at) = self.blocks[b].iter().position(&matches) {
                self.blocks[b].remove(at);
                self.after_removal(b);
                return true;
            }
        }
        false
    }

    fn after_removal(&mut self, b: usize) {
        self.len -= 1;
        if self.blocks[b].is_empty() {
            self.blocks.remove(b);
        }
    }

    /// The keys from position `start` (0-based) on, in order.
    pub(crate) fn iter_from(&self, start: usize) -> impl Iterator<Item = &K> {
        let mut skip = start;
        let mut first = self.blocks.len();
        for (i, b) in self.blocks.iter().enumerate() {
            if skip < b.len() {
                first = i;
                break;
            }
            skip -= b.len();
        }
        self.blocks
            .get(first..)
            .unwrap_or_default()
            .iter()
            .flatten()
            .skip(skip)
    }

    /// All keys, in order.
    #[cfg(test)]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &K> {
        self.blocks.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn matches_a_sorted_vec_through_inserts_removes_and_seeks() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut index = OrderIndex::default();
        let mut model: Vec<u32> = Vec::new();
        for round in 0..20_000 {
            let k = rng.random_range(0..3_000_u32);
            if round % 3 == 2 {
                let had = model.iter().position(|x| *x == k);
                assert_eq!(index.remove(&k), had.is_some());
                if let Some(p) = had {
                    model.remove(p);
                }
            } else {
                index.insert(k);
                let at = model.partition_point(|x| *x <= k);
                model.insert(at, k);
            }
            if round % 997 == 0 {
                let start = rng.random_range(0..=model.len());
                let got: Vec<u32> = index.iter_from(start).take(100).copied().collect();
                let want: Vec<u32> = model.iter().skip(start).take(100).copied().collect();
                assert_eq!(got, want);
            }
        }
        assert_eq!(index.len(), model.len());
        assert!(index.iter().copied().eq(model.iter().copied()));
        assert_eq!(index.iter_from(model.len() + 5).count(), 0);
        let first = model[0];
        assert!(index.remove_by(|k| *k == first));
        assert_eq!(index.len(), model.len() - 1);
        index.clear();
        assert_eq!(index.iter().count(), 0);
    }
}
