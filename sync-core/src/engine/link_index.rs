//! A module's stored links as the engine holds them while it runs: for each link its Notes key,
//! its Zoho id and a digest of its base, sorted by Notes key and indexed by Zoho id. The bases
//! themselves are read again from the embedder, a window at a time, for the pairs a window
//! decides (unless they are held anyway: links given in the state, and events, whose bases place
//! them in the calendar window).

use crate::model::Fields;
use crate::state::Link;

/// One stored link, without its base.
#[derive(Debug)]
pub(super) struct LinkEntry {
    /// The Notes key (UNID, or event key).
    pub unid: Box<str>,
    /// The Zoho record id.
    pub zid: Box<str>,
    /// [`Fields::digest`] of the base.
    pub digest: u128,
}

/// The links of the module being run.
#[derive(Debug, Default)]
pub(super) struct LinkIndex {
    /// Sorted by Notes key (byte order).
    entries: Vec<LinkEntry>,
    /// Positions in `entries`, sorted by Zoho id.
    by_zid: Vec<u32>,
    /// The bases, beside `entries`, when they are held.
    bases: Option<Vec<Fields>>,
}

impl LinkIndex {
    /// An index that holds the bases (`keep_bases`) or only their digests.
    pub fn new(keep_bases: bool) -> Self {
        Self {
            entries: Vec::new(),
            by_zid: Vec::new(),
            bases: keep_bases.then(Vec::new),
        }
    }

    /// Adds links (in any order; [`LinkIndex::finish`] sorts).
    pub fn extend(&mut self, links: Vec<Link>) {
        for l in links {
            self.entries.push(LinkEntry {
                unid: l.unid.0.into_boxed_str(),
                zid: l.zoho_id.0.into_boxed_str(),
                digest: l.base.digest(),
            });
            if let Some(b) = self.bases.as_mut() {
                b.push(l.base);
            }
        }
    }

    /// Every link is in: sorts, and indexes by Zoho id.
    pub fn finish(&mut self) {
        let mut order: Vec<usize> = (0..self.entries.len()).collect();
        order.sort_by(|a, b| self.entries[*a].unid.cmp(&self.entries[*b].unid));
        let mut entries: Vec<Option<LinkEntry>> = std::mem::take(&mut self.entries)
            .into_iter()
            .map(Some)
            .collect();
        self.entries = order.iter().filter_map(|i| entries[*i].take()).collect();
        if let Some(bases) = self.bases.take() {
            let mut bases: Vec<Option<Fields>> = bases.into_iter().map(Some).collect();
            self.bases = Some(order.iter().filter_map(|i| bases[*i].take()).collect());
        }
        let mut by_zid: Vec<u32> = (0..self.entries.len())
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        by_zid.sort_by(|a, b| {
            self.entries[*a as usize]
                .zid
                .cmp(&self.entries[*b as usize].zid)
        });
        self.by_zid = by_zid;
    }

    /// How many links there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The link at `i`.
    pub fn get(&self, i: usize) -> Option<&LinkEntry> {
        self.entries.get(i)
    }

    /// Every link, by Notes key.
    pub fn iter(&self) -> impl Iterator<Item = &LinkEntry> {
        self.entries.iter()
    }

    /// The position of the link of Notes key `unid`.
    pub fn by_unid(&self, unid: &str) -> Option<usize> {
        self.entries
            .binary_search_by(|e| e.unid.as_ref().cmp(unid))
            .ok()
    }

    /// The position of the link of Zoho record `zid`.
    pub fn by_zid(&self, zid: &str) -> Option<usize> {
        let at = self
            .by_zid
            .binary_search_by(|i| self.entries[*i as usize].zid.as_ref().cmp(zid))
            .ok()?;
        Some(self.by_zid[at] as usize)
    }

    /// The Notes key linked to Zoho record `zid`.
    pub fn unid_of(&self, zid: &str) -> Option<&str> {
        self.by_zid(zid).map(|i| self.entries[i].unid.as_ref())
    }

    /// Whether Zoho record `zid` is linked.
    pub fn has_zid(&self, zid: &str) -> bool {
        self.by_zid(zid).is_some()
    }

    /// The link at `i` with its base, when the bases are held.
    pub fn link(&self, i: usize) -> Option<Link> {
        let e = self.entries.get(i)?;
        let base = self.bases.as_ref()?.get(i)?.clone();
        Some(Link {
            unid: crate::model::NotesUnid(e.unid.to_string()),
            zoho_id: crate::model::ZohoId(e.zid.to_string()),
            base,
        })
    }

    /// Whether the bases are held (otherwise they are read from the embedder when needed).
    pub fn holds_bases(&self) -> bool {
        self.bases.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NotesUnid, ZohoId};

    fn link(u: &str, z: &str, name: &str) -> Link {
        let mut base = Fields::default();
        base.set("last_name", name);
        Link {
            unid: NotesUnid(u.into()),
            zoho_id: ZohoId(z.into()),
            base,
        }
    }

    #[test]
    fn links_are_found_by_either_id_with_or_without_their_bases() {
        for keep in [true, false] {
            let mut ix = LinkIndex::new(keep);
            ix.extend(vec![link("C", "1", "c"), link("A", "3", "a")]);
            ix.extend(vec![link("B", "2", "b")]);
            ix.finish();
            let keys: Vec<&str> = ix.iter().map(|e| e.unid.as_ref()).collect();
            assert_eq!(keys, ["A", "B", "C"]);
            assert_eq!(ix.by_unid("B"), Some(1));
            assert_eq!(ix.unid_of("3"), Some("A"));
            assert!(!ix.has_zid("4"));
            let mut a = Fields::default();
            a.set("last_name", "a");
            assert_eq!(ix.get(0).map(|e| e.digest), Some(a.digest()));
            assert_eq!(ix.link(0).is_some(), keep);
            assert_eq!(
                ix.link(2).map(|l| l.zoho_id.0),
                keep.then(|| "1".to_owned())
            );
        }
    }
}
