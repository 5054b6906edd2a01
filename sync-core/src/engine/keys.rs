//! Record keys held compactly, for the sets a run keeps of every record it lists: a Notes UNID
//! in its canonical form (32 upper-case hex digits) takes 16 bytes and a Zoho id (decimal
//! digits) 8, not a 56-byte string; any other key (an event key, a lower-case UNID) is kept as
//! text. A key reads back exactly as it was given.

use std::collections::BTreeSet;

/// One key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Key {
    /// Decimal digits without a leading zero that fit 64 bits.
    Num(u64),
    /// 32 upper-case hex digits.
    Unid(u128),
    /// Anything else.
    Text(Box<str>),
}

impl Key {
    /// `s`, held compactly where its form allows.
    pub fn new(s: &str) -> Self {
        let canonical = s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
        let decimal = !s.is_empty()
            && s.len() <= 19
            && !s.starts_with('0')
            && s.bytes().all(|b| b.is_ascii_digit());
        if decimal && let Ok(n) = s.parse::<u64>() {
            return Self::Num(n);
        }
        match u128::from_str_radix(s, 16) {
            Ok(n) if canonical => Self::Unid(n),
            _ => Self::Text(s.into()),
        }
    }

    /// The key as it was given.
    pub fn text(&self) -> String {
        match self {
            Self::Num(n) => n.to_string(),
            Self::Unid(n) => format!("{n:032X}"),
            Self::Text(t) => t.to_string(),
        }
    }
}

/// A set of keys, each form in a set of its own so that a UNID costs its 16 bytes and a Zoho
/// id its 8 (an enum of the three would cost every key the size of the largest).
#[derive(Clone, Debug, Default)]
pub(super) struct KeySet {
    nums: BTreeSet<u64>,
    unids: BTreeSet<u128>,
    texts: BTreeSet<Box<str>>,
}

impl KeySet {
    /// Adds `key`.
    pub fn insert(&mut self, key: impl AsRef<str>) {
        match Key::new(key.as_ref()) {
            Key::Num(n) => self.nums.insert(n),
            Key::Unid(n) => self.unids.insert(n),
            Key::Text(t) => self.texts.insert(t),
        };
    }

    /// Whether `key` is in the set.
    pub fn contains(&self, key: &str) -> bool {
        match Key::new(key) {
            Key::Num(n) => self.nums.contains(&n),
            Key::Unid(n) => self.unids.contains(&n),
            Key::Text(t) => self.texts.contains(&t),
        }
    }

    /// Removes `key`; whether it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        match Key::new(key) {
            Key::Num(n) => self.nums.remove(&n),
            Key::Unid(n) => self.unids.remove(&n),
            Key::Text(t) => self.texts.remove(&t),
        }
    }

    /// Takes the first key out (in the order of [`KeySet::keys`]).
    pub fn pop_first(&mut self) -> Option<String> {
        if let Some(n) = self.nums.pop_first() {
            return Some(Key::Num(n).text());
        }
        if let Some(n) = self.unids.pop_first() {
            return Some(Key::Unid(n).text());
        }
        self.texts.pop_first().map(String::from)
    }

    /// No key.
    pub fn is_empty(&self) -> bool {
        self.nums.is_empty() && self.unids.is_empty() && self.texts.is_empty()
    }

    /// The keys, compactly: Zoho ids first, then canonical UNIDs, each in order, then the
    /// others.
    pub fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        let nums = self.nums.iter().map(|n| Key::Num(*n));
        let unids = self.unids.iter().map(|n| Key::Unid(*n));
        let texts = self.texts.iter().map(|t| Key::Text(t.clone()));
        nums.chain(unids).chain(texts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_exactly_as_given() {
        let mut s = KeySet::default();
        for k in [
            "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcdef",
            "UID-1/20261205T010000Z",
            "",
            "5725767000000411001",
            "0123",
            "99999999999999999999",
        ] {
            s.insert(k);
            assert!(s.contains(k), "{k}");
        }
        assert!(!s.contains("0123456789ABCDEF0123456789ABCDEE"));
        let back: Vec<String> = s.keys().map(|k| k.text()).collect();
        assert_eq!(back.len(), 7);
        assert!(back.contains(&"0123".to_owned()));
        assert!(s.remove("5725767000000411001"));
        assert!(!s.contains("5725767000000411001"));
        assert!(back.contains(&"0123456789abcdef0123456789abcdef".to_owned()));
        assert!(back.contains(&"0123456789ABCDEF0123456789ABCDEF".to_owned()));
    }
}
