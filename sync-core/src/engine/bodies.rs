//! Answers handed over in parts ([`Engine::handle_response_part`]): what the engine keeps of an
//! answer that is still arriving. The changed-documents list is read as it arrives, keeping
//! only its UNIDs, so a mail file's list of hundreds of thousands of documents never exists
//! whole in the engine; any other answer is gathered and read whole when it is complete.

use std::collections::HashMap;

use super::link_index::LinkIndex;
use super::marks::Keys;
use crate::api::domino::UnidListReader;
use crate::http::{HttpResponse, TransportError, TransportErrorKind};
use crate::model::Side;

/// The most an answer gathered in parts may hold: beyond it, the answer counts as unreadable
/// (as an embedder's own limit on a body would).
const MAX_GATHERED: usize = 64 * 1024 * 1024;

/// The UNIDs of a changed-documents list, read part by part.
/// A linked document's UNID is marked against the run's link index (a bit), so a list of a
/// million linked documents takes 125 KB.
#[derive(Debug)]
pub(super) struct ChangedUnids {
    reader: UnidListReader,
    unids: Keys,
}

impl Default for ChangedUnids {
    fn default() -> Self {
        Self {
            reader: UnidListReader::default(),
            unids: Keys::new(Side::Notes),
        }
    }
}

impl ChangedUnids {
    /// A whole answer, read at once against `index`.
    pub fn of(body: &str, index: &LinkIndex) -> Self {
        let mut c = Self::default();
        c.feed(body, index);
        c
    }

    fn feed(&mut self, part: &str, index: &LinkIndex) {
        let unids = &mut self.unids;
        self.reader
            .feed(part.as_bytes(), |u| unids.insert(index, u));
    }

    /// The UNIDs; `None` when the answer was not a changed-documents list.
    pub fn finish(self) -> Option<Keys> {
        self.reader.finish().map(|()| self.unids)
    }
}

/// An answer still arriving.
#[derive(Debug)]
enum Partial {
    /// Gathered, to be read whole.
    Text(String),
    /// Gathered beyond [`MAX_GATHERED`]: the rest is dropped.
    TooLarge,
    /// A changed-documents list, read as it arrives.
    Changed(ChangedUnids),
}

/// The answers still arriving, by request id.
#[derive(Debug, Default)]
pub(super) struct Partials(HashMap<u64, Partial>);

impl Partials {
    /// A part of the answer to `id`; `changed_list` when that answer is a changed-documents
    /// list (its UNIDs marked against `index`, the run's links).
    pub fn add(&mut self, id: u64, changed_list: bool, part: &str, index: &LinkIndex) {
        let p = self.0.entry(id).or_insert_with(|| {
            if changed_list {
                Partial::Changed(ChangedUnids::default())
            } else {
                Partial::Text(String::new())
            }
        });
        match p {
            Partial::Changed(c) => c.feed(part, index),
            Partial::Text(t) if t.len() + part.len() > MAX_GATHERED => *p = Partial::TooLarge,
            Partial::Text(t) => t.push_str(part),
            Partial::TooLarge => {}
        }
    }

    /// The answer to `id` is complete with `result`: the whole answer, and for a
    /// changed-documents list read in parts, its UNIDs (the answer's body then holds only its
    /// first kilobytes, for messages).
    pub fn complete(
        &mut self,
        id: u64,
        result: Result<HttpResponse, TransportError>,
        index: &LinkIndex,
    ) -> (Result<HttpResponse, TransportError>, Option<ChangedUnids>) {
        let Some(partial) = self.0.remove(&id) else {
            return (result, None);
        };
        let Ok(mut resp) = result else {
            return (result, None);
        };
        match partial {
            Partial::Text(mut t) => {
                t.push_str(&resp.body);
                resp.body = t;
                (Ok(resp), None)
            }
            Partial::TooLarge => (
                Err(TransportError {
                    kind: TransportErrorKind::Other,
                    message: format!("answer larger than {MAX_GATHERED} bytes"),
                }),
                None,
            ),
            Partial::Changed(mut c) => {
                c.feed(&resp.body, index);
                resp.body = c.reader.head();
                (Ok(resp), Some(c))
            }
        }
    }
}
