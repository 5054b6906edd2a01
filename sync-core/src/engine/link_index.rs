//! A module's stored links as the engine holds them while it runs: for each link its Notes key,
//! its Zoho id and a digest of its base, sorted by Notes key and indexed by Zoho id. The bases
//! themselves are read again from the embedder, a window at a time, for the pairs a window
//! decides (unless they are held anyway: links given in the state, and events, whose bases place
//! them in the calendar window).

use std::cmp::Ordering;

use crate::model::Fields;
use crate::state::Link;

use super::keys::{self, Key};

/// One stored link, without its base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LinkEntry {
    /// The Notes key (UNID, or event key).
    pub unid: Box<str>,
    /// The Zoho record id.
    pub zid: Box<str>,
    /// [`Fields::digest`] of the base.
    pub digest: u128,
}

/// A column of keys, held in the most compact form every key in it takes: canonical UNIDs as
/// 16 bytes, Zoho ids as 8, anything else as text. A column starts compact and turns to text
/// the first time a key does not fit (a module's keys are all of one kind in practice: UNIDs,
/// event keys, Zoho ids).
#[derive(Debug)]
enum Column {
    Unids(Vec<u128>),
    Nums(Vec<u64>),
    Texts(Vec<Box<str>>),
}

impl Column {
    fn push(&mut self, key: &str) {
        match (&mut *self, Key::new(key)) {
            (Self::Unids(v), Key::Unid(n)) => v.push(n.get()),
            (Self::Nums(v), Key::Num(n)) => v.push(n),
            (Self::Texts(v), _) => v.push(key.into()),
            (Self::Unids(v), _) if v.is_empty() => *self = Self::first(key),
            (Self::Nums(v), _) if v.is_empty() => *self = Self::first(key),
            _ => {
                let mut texts: Vec<Box<str>> = (0..self.len())
                    .map(|i| self.text(i).into_boxed_str())
                    .collect();
                texts.push(key.into());
                *self = Self::Texts(texts);
            }
        }
    }

    /// A column holding `key`, in its form.
    fn first(key: &str) -> Self {
        match Key::new(key) {
            Key::Unid(n) => Self::Unids(vec![n.get()]),
            Key::Num(n) => Self::Nums(vec![n]),
            Key::Text(t) => Self::Texts(vec![t]),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Unids(v) => v.len(),
            Self::Nums(v) => v.len(),
            Self::Texts(v) => v.len(),
        }
    }

    /// The key at `i`, as it was given.
    fn text(&self, i: usize) -> String {
        match self {
            Self::Unids(v) => Key::Unid(keys::UnidBits::new(v[i])).text(),
            Self::Nums(v) => Key::Num(v[i]).text(),
            Self::Texts(v) => v[i].to_string(),
        }
    }

    /// How the key at `i` orders against `probe` (the column's own order).
    fn cmp_at(&self, i: usize, probe: &Probe<'_>) -> Ordering {
        match (self, probe) {
            (Self::Unids(v), Probe::Unid(n)) => v[i].cmp(n),
            (Self::Nums(v), Probe::Num(n)) => v[i].cmp(n),
            (Self::Texts(v), Probe::Text(t)) => v[i].as_ref().cmp(t),
            // A key the column cannot hold is not in it.
            _ => Ordering::Less,
        }
    }

    /// `key` in the column's form, or `None` when the column cannot hold it (so it is absent).
    fn probe<'a>(&self, key: &'a str) -> Option<Probe<'a>> {
        match (self, Key::new(key)) {
            (Self::Unids(_), Key::Unid(n)) => Some(Probe::Unid(n.get())),
            (Self::Nums(_), Key::Num(n)) => Some(Probe::Num(n)),
            (Self::Texts(_), _) => Some(Probe::Text(key)),
            _ => None,
        }
    }

    /// Reorders the column: position `k` takes the key at `order[k]`.
    fn permute(&mut self, order: &[u32]) {
        fn apply<T: Clone>(v: &[T], order: &[u32]) -> Vec<T> {
            order.iter().map(|i| v[*i as usize].clone()).collect()
        }
        match self {
            Self::Unids(v) => *v = apply(v, order),
            Self::Nums(v) => *v = apply(v, order),
            Self::Texts(v) => *v = apply(v, order),
        }
    }

    fn order(&self, a: usize, b: usize) -> Ordering {
        match self {
            Self::Unids(v) => v[a].cmp(&v[b]),
            Self::Nums(v) => v[a].cmp(&v[b]),
            Self::Texts(v) => v[a].cmp(&v[b]),
        }
    }
}

impl Default for Column {
    fn default() -> Self {
        Self::Unids(Vec::new())
    }
}

/// A key looked up in a [`Column`], in the column's form.
enum Probe<'a> {
    Unid(u128),
    Num(u64),
    Text(&'a str),
}

/// The links of the module being run, held column by column (about 44 bytes a link when the
/// keys are UNIDs and Zoho ids, so a million links take some 44 MB).
#[derive(Debug, Default)]
pub(super) struct LinkIndex {
    /// Notes keys, sorted (in the column's order).
    unids: Column,
    /// Zoho ids, beside `unids`.
    zids: Column,
    /// Digests of the bases, beside `unids`.
    digests: Vec<u128>,
    /// Positions, sorted by Zoho id.
    by_zid: Vec<u32>,
    /// The bases, beside `unids`, when they are held.
    bases: Option<Vec<Fields>>,
}

impl LinkIndex {
    /// An index that holds the bases (`keep_bases`) or only their digests.
    pub fn new(keep_bases: bool) -> Self {
        Self {
            bases: keep_bases.then(Vec::new),
            ..Self::default()
        }
    }

    /// Adds links (in any order; [`LinkIndex::finish`] sorts).
    pub fn extend(&mut self, links: Vec<Link>) {
        for l in links {
            self.unids.push(&l.unid.0);
            self.zids.push(&l.zoho_id.0);
            self.digests.push(l.base.digest());
            if let Some(b) = self.bases.as_mut() {
                b.push(l.base);
            }
        }
    }

    /// Every link is in: sorts, and indexes by Zoho id.
    pub fn finish(&mut self) {
        let n = u32::try_from(self.digests.len()).unwrap_or(u32::MAX);
        let mut order: Vec<u32> = (0..n).collect();
        order.sort_by(|a, b| self.unids.order(*a as usize, *b as usize));
        self.unids.permute(&order);
        self.zids.permute(&order);
        self.digests = order.iter().map(|i| self.digests[*i as usize]).collect();
        if let Some(bases) = self.bases.take() {
            let mut bases: Vec<Option<Fields>> = bases.into_iter().map(Some).collect();
            self.bases = Some(
                order
                    .iter()
                    .filter_map(|i| bases[*i as usize].take())
                    .collect(),
            );
        }
        drop(order);
        let mut by_zid: Vec<u32> = (0..n).collect();
        by_zid.sort_by(|a, b| self.zids.order(*a as usize, *b as usize));
        self.by_zid = by_zid;
    }

    /// How many links there are.
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    /// The link at `i`.
    pub fn get(&self, i: usize) -> Option<LinkEntry> {
        let digest = *self.digests.get(i)?;
        Some(LinkEntry {
            unid: self.unids.text(i).into_boxed_str(),
            zid: self.zids.text(i).into_boxed_str(),
            digest,
        })
    }

    /// The Notes key of the link at `i`, compactly.
    pub fn unid_key(&self, i: usize) -> Key {
        match &self.unids {
            Column::Unids(v) => Key::Unid(keys::UnidBits::new(v[i])),
            Column::Nums(v) => Key::Num(v[i]),
            Column::Texts(v) => Key::new(&v[i]),
        }
    }

    /// The Notes key of the link at `i`.
    pub fn unid_text(&self, i: usize) -> String {
        self.unids.text(i)
    }

    /// The Zoho id of the link at `i`.
    pub fn zid_text(&self, i: usize) -> String {
        self.zids.text(i)
    }

    /// Every link, by Notes key.
    pub fn iter(&self) -> impl Iterator<Item = LinkEntry> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The position of the link of Notes key `unid`.
    pub fn by_unid(&self, unid: &str) -> Option<usize> {
        let probe = self.unids.probe(unid)?;
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.unids.cmp_at(mid, &probe) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The position of the link of Zoho record `zid`.
    pub fn by_zid(&self, zid: &str) -> Option<usize> {
        let probe = self.zids.probe(zid)?;
        let at = self
            .by_zid
            .binary_search_by(|i| self.zids.cmp_at(*i as usize, &probe))
            .ok()?;
        Some(self.by_zid[at] as usize)
    }

    /// The Notes key linked to Zoho record `zid`.
    pub fn unid_of(&self, zid: &str) -> Option<String> {
        self.by_zid(zid).map(|i| self.unids.text(i))
    }

    /// Whether Zoho record `zid` is linked.
    pub fn has_zid(&self, zid: &str) -> bool {
        self.by_zid(zid).is_some()
    }

    /// The link at `i` with its base, when the bases are held.
    pub fn link(&self, i: usize) -> Option<Link> {
        let base = self.bases.as_ref()?.get(i)?.clone();
        Some(Link {
            unid: crate::model::NotesUnid(self.unids.text(i)),
            zoho_id: crate::model::ZohoId(self.zids.text(i)),
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
            let keys: Vec<String> = ix.iter().map(|e| e.unid.into()).collect();
            assert_eq!(keys, ["A", "B", "C"]);
            assert_eq!(ix.by_unid("B"), Some(1));
            assert_eq!(ix.unid_of("3").as_deref(), Some("A"));
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

    const U1: &str = "0123456789ABCDEF0123456789ABCDEF";
    const U2: &str = "1123456789ABCDEF0123456789ABCDEF";

    #[test]
    fn compact_columns_hold_any_key_and_find_only_what_they_hold() {
        let mut ix = LinkIndex::new(false);
        ix.extend(vec![
            link(U2, "5725767000000411001", "b"),
            link(U1, "42", "a"),
        ]);
        ix.finish();
        assert!(matches!(ix.unids, Column::Unids(_)));
        assert!(matches!(ix.zids, Column::Nums(_)));
        assert_eq!(ix.by_unid(U1), Some(0));
        assert_eq!(ix.by_unid(&U1.to_ascii_lowercase()), None);
        assert_eq!(ix.by_unid("event-1"), None);
        assert_eq!(ix.unid_of("5725767000000411001").as_deref(), Some(U2));
        assert_eq!(ix.by_zid("042"), None);

        // A key of another form turns the column to text; every key reads back as given.
        let mut ix = LinkIndex::new(false);
        ix.extend(vec![link(U2, "7", "b"), link(U1, "42", "a")]);
        ix.extend(vec![link("uid-1/20261205T010000Z", "zoho-x", "c")]);
        ix.finish();
        assert!(matches!(ix.unids, Column::Texts(_)));
        assert!(matches!(ix.zids, Column::Texts(_)));
        let keys: Vec<String> = ix.iter().map(|e| e.unid.into()).collect();
        assert_eq!(keys, [U1, U2, "uid-1/20261205T010000Z"]);
        assert_eq!(ix.by_zid("zoho-x"), Some(2));
        assert_eq!(ix.unid_of("7").as_deref(), Some(U2));
        assert_eq!(ix.by_unid(U2), Some(1));
    }
}
