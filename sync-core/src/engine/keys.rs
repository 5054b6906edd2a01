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
    Unid(UnidBits),
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
            Ok(n) if canonical => Self::Unid(UnidBits::new(n)),
            _ => Self::Text(s.into()),
        }
    }

    /// The key as it was given.
    pub fn text(&self) -> String {
        match self {
            Self::Num(n) => n.to_string(),
            Self::Unid(n) => format!("{:032X}", n.get()),
            Self::Text(t) => t.to_string(),
        }
    }
}

/// A canonical UNID's 128 bits as two halves (high first, so they order as the number does):
/// a [`Key`] then aligns to 8 bytes and takes 24, where a `u128` would make it 32, and every
/// queue of keys a run holds (the documents its windows will read) a quarter larger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct UnidBits([u64; 2]);

impl UnidBits {
    pub fn new(n: u128) -> Self {
        let half = |v: u128| u64::try_from(v & u128::from(u64::MAX)).unwrap_or(u64::MAX);
        Self([half(n >> 64), half(n)])
    }

    pub fn get(self) -> u128 {
        (u128::from(self.0[0]) << 64) | u128::from(self.0[1])
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
            Key::Unid(n) => self.unids.insert(n.get()),
            Key::Text(t) => self.texts.insert(t),
        };
    }

    /// Whether `key` is in the set.
    pub fn contains(&self, key: &str) -> bool {
        match Key::new(key) {
            Key::Num(n) => self.nums.contains(&n),
            Key::Unid(n) => self.unids.contains(&n.get()),
            Key::Text(t) => self.texts.contains(&t),
        }
    }

    /// Removes `key`; whether it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        match Key::new(key) {
            Key::Num(n) => self.nums.remove(&n),
            Key::Unid(n) => self.unids.remove(&n.get()),
            Key::Text(t) => self.texts.remove(&t),
        }
    }

    /// Takes the first key out (in the order of [`KeySet::keys`]).
    pub fn pop_first(&mut self) -> Option<String> {
        if let Some(n) = self.nums.pop_first() {
            return Some(Key::Num(n).text());
        }
        if let Some(n) = self.unids.pop_first() {
            return Some(Key::Unid(UnidBits::new(n)).text());
        }
        self.texts.pop_first().map(String::from)
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.nums.len() + self.unids.len() + self.texts.len()
    }

    /// No key.
    pub fn is_empty(&self) -> bool {
        self.nums.is_empty() && self.unids.is_empty() && self.texts.is_empty()
    }

    /// The keys, compactly: Zoho ids first, then canonical UNIDs, each in order, then the
    /// others.
    pub fn keys(&self) -> impl Iterator<Item = Key> + '_ {
        let nums = self.nums.iter().map(|n| Key::Num(*n));
        let unids = self.unids.iter().map(|n| Key::Unid(UnidBits::new(*n)));
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

    #[test]
    fn a_key_and_a_queued_read_stay_small() {
        // A run queues one read per listed document: at a million documents every byte of
        // these counts a megabyte.
        assert_eq!(size_of::<Key>(), 24);
        assert_eq!(size_of::<super::super::window::Read>(), 32);
        let n = u128::from_str_radix("0123456789ABCDEF0123456789ABCDEF", 16).unwrap_or(0);
        assert_eq!(UnidBits::new(n).get(), n);
        assert!(UnidBits::new(1 << 64) > UnidBits::new(u128::from(u64::MAX)));
    }
}
