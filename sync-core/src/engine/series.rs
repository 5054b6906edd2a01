//! Writes that rewrite a whole calendar entry, one at a time per entry. Through the Domino REST
//! API's PIM an occurrence of a series is changed or deleted by reading the series and writing
//! it back with that occurrence's override; two occurrences of one series written in the same
//! window would each write back the series as they read it, and the later write would undo
//! the earlier. So a write to an entry that has one in flight waits for it (DAS addresses each
//! occurrence on its own: its writes never wait).

use std::collections::{BTreeMap, VecDeque};

use super::Purpose;
use crate::api::domino::Call;

/// The writes of a window to entries the API rewrites whole.
#[derive(Debug, Default)]
pub(super) struct SeriesWrites {
    /// Entries with a write in flight, and the writes waiting for each.
    busy: BTreeMap<String, VecDeque<(Call, Purpose)>>,
    /// The entry of each plan item whose write was started here.
    of_item: BTreeMap<usize, String>,
}

impl SeriesWrites {
    /// The write of plan item `item` to `entry` (its first request, `call` for `purpose`):
    /// handed back to be sent now when the entry is free, else kept until it is.
    pub fn start(
        &mut self,
        entry: &str,
        item: usize,
        call: Call,
        purpose: Purpose,
    ) -> Option<(Call, Purpose)> {
        self.of_item.insert(item, entry.to_owned());
        match self.busy.get_mut(entry) {
            Some(waiting) => {
                waiting.push_back((call, purpose));
                None
            }
            None => {
                self.busy.insert(entry.to_owned(), VecDeque::new());
                Some((call, purpose))
            }
        }
    }

    /// The write of plan item `item` is over (done or failed): the next write waiting for its
    /// entry, to send now.
    pub fn done(&mut self, item: usize) -> Option<(Call, Purpose)> {
        let entry = self.of_item.remove(&item)?;
        let waiting = self.busy.get_mut(&entry)?;
        match waiting.pop_front() {
            Some(next) => Some(next),
            None => {
                self.busy.remove(&entry);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(path: &str) -> Call {
        Call::get(path.to_owned())
    }

    #[test]
    fn writes_to_one_entry_go_one_after_another_and_others_go_at_once() {
        let mut s = SeriesWrites::default();
        let p = |item| Purpose::NotesEventDelete { item };
        assert!(s.start("S", 0, call("/a"), p(0)).is_some());
        assert!(
            s.start("S", 1, call("/b"), p(1)).is_none(),
            "waits for item 0"
        );
        assert!(s.start("T", 2, call("/c"), p(2)).is_some(), "another entry");
        assert!(s.start("S", 3, call("/d"), p(3)).is_none());
        assert_eq!(s.done(2), None);
        assert_eq!(s.done(0).map(|(c, _)| c.path), Some("/b".to_owned()));
        assert_eq!(s.done(1).map(|(c, _)| c.path), Some("/d".to_owned()));
        assert_eq!(s.done(3), None);
        assert!(s.busy.is_empty() && s.of_item.is_empty());
        // An item never started here (a document's write) releases nothing.
        assert_eq!(s.done(9), None);
    }
}
