//! The Notes reads a module's windows have yet to make.
//!
//! A full read, or the first sync after a large one (which lists every document it wrote as
//! changed), reads every document of the view: a million reads at a million documents. Most of
//! them are of linked documents, and the link index already holds their keys, sorted; so a
//! linked document's read is a bit at its link's position (with a second bit for "remembered
//! private"), and only the other reads (documents not linked, calendar entries) are queued
//! whole. The reads come out in key order, as one queue of them all would give them.

use std::collections::VecDeque;

use super::ReadFlags;
use super::keys::Key;
use super::link_index::LinkIndex;
use super::marks::Bits;
use super::window::Read;

/// The reads not yet sent.
#[derive(Debug, Default)]
pub(super) struct ReadQueue {
    /// Linked documents to read, by link position.
    linked: Bits,
    /// Those of `linked` remembered as private.
    private: Bits,
    /// No linked read is before this position.
    next: usize,
    /// Every other read, in key order.
    others: VecDeque<Read>,
}

impl ReadQueue {
    /// A queue of `reads`, in their order.
    pub fn of(reads: VecDeque<Read>) -> Self {
        Self {
            others: reads,
            ..Self::default()
        }
    }

    /// An empty queue with room for `others` reads of documents not linked (made at its final
    /// size once: at a million documents a queue that grows by doubling holds twice the room).
    pub fn with_capacity(others: usize) -> Self {
        Self {
            others: VecDeque::with_capacity(others),
            ..Self::default()
        }
    }

    /// Queues a read of the linked document at link position `i`.
    pub fn push_link(&mut self, i: usize, private: bool) {
        self.linked.set(i);
        if private {
            self.private.set(i);
        }
        self.next = self.next.min(i);
    }

    /// Queues any other read, after those queued before it.
    pub fn push(&mut self, read: Read) {
        self.others.push_back(read);
    }

    /// How many reads are queued.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.linked.len() + self.others.len()
    }

    /// Takes the first read, in key order.
    pub fn pop_front(&mut self, index: &LinkIndex) -> Option<Read> {
        let Some(i) = self.linked.next_from(self.next) else {
            return self.others.pop_front();
        };
        let key = index.unid_key(i);
        if self.others.front().is_some_and(|o| read_key(o) < key) {
            return self.others.pop_front();
        }
        self.next = i + 1;
        Some(self.take(i, key))
    }

    /// Takes the read of the link at `i` out of the queue.
    fn take(&mut self, i: usize, key: Key) -> Read {
        self.linked.clear(i);
        let private = self.private.clear(i);
        Read::Doc {
            unid: key,
            flags: ReadFlags {
                linked: true,
                private,
            },
        }
    }

    /// Takes out the reads `first` picks (given each read and, for a linked document's, its
    /// link position), in the order they would have come out.
    pub fn take_where(
        &mut self,
        index: &LinkIndex,
        mut first: impl FnMut(&Read, Option<usize>) -> bool,
    ) -> Vec<Read> {
        let mut taken = Vec::new();
        self.others.retain(|read| {
            let pick = first(read, None);
            if pick {
                taken.push(read.clone());
            }
            !pick
        });
        let linked: Vec<usize> = self.linked.iter().collect();
        for i in linked {
            let read = Read::Doc {
                unid: index.unid_key(i),
                flags: ReadFlags {
                    linked: true,
                    private: self.private.get(i),
                },
            };
            if first(&read, Some(i)) {
                self.take(i, index.unid_key(i));
                taken.push(read);
            }
        }
        taken
    }
}

/// The key a read is in order by.
fn read_key(read: &Read) -> Key {
    match read {
        Read::Doc { unid, .. } => unid.clone(),
        Read::Event { key } => Key::new(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Fields, NotesUnid, ZohoId};
    use crate::state::Link;

    fn unid(n: u8) -> String {
        format!("{n:02X}{}", "0".repeat(30))
    }

    fn doc(n: u8, linked: bool) -> Read {
        Read::Doc {
            unid: Key::new(&unid(n)),
            flags: ReadFlags {
                linked,
                private: false,
            },
        }
    }

    fn keys(reads: &[Read]) -> Vec<String> {
        reads.iter().map(|r| read_key(r).text()).collect()
    }

    #[test]
    fn reads_come_out_in_key_order_whether_linked_or_not() {
        let mut ix = LinkIndex::new(false);
        ix.extend(
            [2u8, 4, 6, 8]
                .iter()
                .map(|n| Link {
                    unid: NotesUnid(unid(*n)),
                    zoho_id: ZohoId(format!("{n}")),
                    base: Fields::default(),
                })
                .collect(),
        );
        ix.finish();
        let mut q = ReadQueue::default();
        for (at, private) in [(3, true), (0, false), (2, false)] {
            q.push_link(at, private); // The documents 08, 02 and 06.
        }
        for n in [1, 5, 9] {
            q.push(doc(n, false));
        }
        assert_eq!(q.len(), 6);
        // A read the guard must see first comes out of the queue.
        let first = q.take_where(&ix, |r, at| {
            at == Some(2) || read_key(r) == Key::new(&unid(9))
        });
        assert_eq!(keys(&first), [unid(9), unid(6)]);
        let mut out = Vec::new();
        while let Some(r) = q.pop_front(&ix) {
            out.push(r);
        }
        assert_eq!(keys(&out), [unid(1), unid(2), unid(5), unid(8)]);
        let flags: Vec<(bool, bool)> = out
            .iter()
            .map(|r| match r {
                Read::Doc { flags, .. } => (flags.linked, flags.private),
                Read::Event { .. } => (false, false),
            })
            .collect();
        assert_eq!(
            flags,
            [(false, false), (true, false), (false, false), (true, true)]
        );
        assert_eq!(q.len(), 0);
    }
}
