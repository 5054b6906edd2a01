//! Stored links, as the engine reads them: a module's links are asked for page by page
//! ([`Output::Links`]) and answered from the embedder's store ([`Engine::handle_links`]), so
//! the whole state never crosses into the engine as one document. An embedder that keeps the
//! state in memory passes it to [`Engine::new`] instead ([`LinkSupply::InState`]), and the
//! engine reads the links from there.

use serde::{Deserialize, Serialize};

use super::{Engine, InputError, Output};
use crate::model::{Module, NotesUnid};
use crate::state::Link;

/// Links per page asked of the embedder.
pub const LINK_PAGE: u32 = 1_000;

/// Where the engine reads the stored links from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkSupply {
    /// From the [`crate::SyncState`] given to [`Engine::new`], which carries every link.
    #[default]
    InState,
    /// From the embedder, through [`Output::Links`]; the state given to [`Engine::new`] carries
    /// no links (any it carries are ignored), and link changes are not applied to
    /// [`Engine::state`]: the embedder's store is where they live.
    OnRequest,
}

/// A read of stored links the engine needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkQuery {
    /// Identifies the answer in [`Engine::handle_links`].
    pub id: u64,
    /// The module whose links are read.
    pub module: Module,
    /// Which links.
    pub want: LinkWant,
}

impl LinkQuery {
    /// The answer from a state that holds every link (what an in-memory store answers).
    #[must_use]
    pub fn answer_from(&self, state: &crate::SyncState) -> Vec<Link> {
        state
            .modules
            .get(&self.module)
            .map(|m| self.want.select(&m.links))
            .unwrap_or_default()
    }
}

/// Which links a [`LinkQuery`] reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum LinkWant {
    /// The links in ascending UNID order (byte order) after `after` (all when `None`), at most
    /// `limit`. A page shorter than `limit` is the last.
    Page {
        /// The last UNID of the previous page.
        after: Option<NotesUnid>,
        /// The most links to return.
        limit: u32,
    },
    /// The links with these Notes keys (the bases a window needs); keys not stored are left
    /// out of the answer.
    Unids {
        /// The Notes keys.
        unids: Vec<NotesUnid>,
    },
}

impl LinkWant {
    /// The links of `links` this query selects (what a store answers).
    #[must_use]
    pub fn select(&self, links: &[Link]) -> Vec<Link> {
        match self {
            Self::Page { after, limit } => {
                let mut page: Vec<&Link> = links
                    .iter()
                    .filter(|l| {
                        after
                            .as_ref()
                            .is_none_or(|a| l.unid.0.as_str() > a.0.as_str())
                    })
                    .collect();
                // The first `limit` in order, without sorting the rest (a store pages through
                // a module's links this way, so each page costs linear time, not a sort).
                let limit = usize::try_from(*limit).unwrap_or(usize::MAX);
                let by_unid = |a: &&Link, b: &&Link| a.unid.0.cmp(&b.unid.0);
                if limit < page.len() {
                    if limit == 0 {
                        return Vec::new();
                    }
                    page.select_nth_unstable_by(limit - 1, by_unid);
                    page.truncate(limit);
                }
                page.sort_by(by_unid);
                page.into_iter().cloned().collect()
            }
            Self::Unids { unids } => {
                let wanted: std::collections::BTreeSet<&str> =
                    unids.iter().map(|u| u.0.as_str()).collect();
                links
                    .iter()
                    .filter(|l| wanted.contains(l.unid.0.as_str()))
                    .cloned()
                    .collect()
            }
        }
    }
}

/// The link reads of a run: queued, then in flight until answered.
#[derive(Debug, Default)]
pub(super) struct LinkReads {
    next_id: u64,
    queued: Vec<LinkQuery>,
    in_flight: Vec<LinkQuery>,
}

impl LinkReads {
    /// Queues a read of `module`'s links.
    pub fn push(&mut self, module: Module, want: LinkWant) {
        self.next_id += 1;
        self.queued.push(LinkQuery {
            id: self.next_id,
            module,
            want,
        });
    }

    /// The next read to hand to the embedder.
    pub fn poll(&mut self) -> Option<LinkQuery> {
        if self.queued.is_empty() {
            return None;
        }
        let q = self.queued.remove(0);
        self.in_flight.push(q.clone());
        Some(q)
    }

    /// The read `id` was answered: what it asked.
    pub fn answered(&mut self, id: u64) -> Option<LinkQuery> {
        let at = self.in_flight.iter().position(|q| q.id == id)?;
        Some(self.in_flight.remove(at))
    }

    /// A read is queued or awaited.
    pub fn busy(&self) -> bool {
        !self.queued.is_empty() || !self.in_flight.is_empty()
    }

    /// Forgets reads not yet handed out (a failed module or run).
    pub fn clear_pending(&mut self) {
        self.queued.clear();
    }
}

impl Engine {
    /// Starts reading the links of the module being run, from the first page.
    pub(super) fn start_link_reads(&mut self, module: Module) {
        match self.config.links {
            LinkSupply::InState => {
                let links = self
                    .state
                    .modules
                    .get(&module)
                    .map(|m| m.links.clone())
                    .unwrap_or_default();
                if let Some(run) = self.run.as_mut() {
                    run.index.extend(links);
                    run.index.finish();
                }
            }
            LinkSupply::OnRequest => self.link_reads.push(
                module,
                LinkWant::Page {
                    after: None,
                    limit: LINK_PAGE,
                },
            ),
        }
    }

    /// The answer to link read `id`: the links it selected.
    ///
    /// # Errors
    /// [`InputError::UnknownRequest`] when no link read `id` is awaited.
    pub fn handle_links(&mut self, id: u64, links: Vec<Link>) -> Result<(), InputError> {
        let q = self
            .link_reads
            .answered(id)
            .ok_or(InputError::UnknownRequest(id))?;
        if self.finished {
            return Ok(());
        }
        let Some(run) = self.run.as_mut().filter(|r| r.module == q.module) else {
            return Ok(());
        };
        match q.want {
            LinkWant::Page { limit, .. } => {
                let full = links.len() >= usize::try_from(limit).unwrap_or(usize::MAX);
                let last = links.last().map(|l| l.unid.clone());
                run.index.extend(links);
                match (full, last) {
                    (true, Some(after)) => self.link_reads.push(
                        q.module,
                        LinkWant::Page {
                            after: Some(after),
                            limit,
                        },
                    ),
                    _ => run.index.finish(),
                }
            }
            LinkWant::Unids { unids } => self.bases_read(&unids, links),
        }
        Ok(())
    }

    /// The next link read for the embedder, as an output.
    pub(super) fn poll_link_read(&mut self) -> Option<Output> {
        self.link_reads.poll().map(Output::Links)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Fields, ZohoId};

    #[test]
    fn pages_come_in_unid_order_and_unids_select_only_stored_links() {
        let links: Vec<Link> = ["D", "A", "E", "C", "B"]
            .iter()
            .enumerate()
            .map(|(i, u)| Link {
                unid: NotesUnid((*u).into()),
                zoho_id: ZohoId(i.to_string()),
                base: Fields::default(),
            })
            .collect();
        let page = |after: Option<&str>, limit| {
            LinkWant::Page {
                after: after.map(|a| NotesUnid(a.into())),
                limit,
            }
            .select(&links)
            .into_iter()
            .map(|l| l.unid.0)
            .collect::<Vec<_>>()
        };
        assert_eq!(page(None, 2), ["A", "B"]);
        assert_eq!(page(Some("B"), 2), ["C", "D"]);
        assert_eq!(page(Some("D"), 2), ["E"]);
        assert_eq!(page(Some("E"), 2), Vec::<String>::new());
        assert_eq!(page(None, 0), Vec::<String>::new());
        assert_eq!(page(None, 9), ["A", "B", "C", "D", "E"]);
        let some = LinkWant::Unids {
            unids: vec![NotesUnid("C".into()), NotesUnid("Z".into())],
        }
        .select(&links);
        assert_eq!(some.len(), 1);
        assert_eq!(some[0].zoho_id.0, "3");
    }
}
