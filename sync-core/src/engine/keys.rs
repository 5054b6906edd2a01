//! Record keys held compactly, for the sets a run keeps of every record it lists: a Notes UNID
//! in its canonical form (32 upper-case hex digits) takes 16 bytes and a Zoho id (decimal
//! digits) 8, not a 56-byte string; any other key (an event key, a lower-case UNID) is kept as
//! text. A key reads back exactly as it was given.

use std::collections::BTreeSet;

/// One key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Key {
    /// Decimal digits without a leading zero that fit 64 bits.
    Num(u64),
    /// 32 upper-case hex digits.
    Unid(u128),
    /// Anything else.
    Text(Box<str>),
}

impl Key {
    fn new(s: &str) -> Self {
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

    fn text(&self) -> String {
        match self {
            Self::Num(n) => n.to_string(),
            Self::Unid(n) => format!("{n:032X}"),
            Self::Text(t) => t.to_string(),
        }
    }
}

/// A set of keys.
#[derive(Clone, Debug, Default)]
pub(super) struct KeySet(BTreeSet<Key>);

impl KeySet {
    /// Adds `key`.
    pub fn insert(&mut self, key: &str) {
        self.0.insert(Key::new(key));
    }

    /// Whether `key` is in the set.
    pub fn contains(&self, key: &str) -> bool {
        self.0.contains(&Key::new(key))
    }

    /// Removes `key`; whether it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        self.0.remove(&Key::new(key))
    }

    /// Takes the first key out.
    pub fn pop_first(&mut self) -> Option<String> {
        self.0.pop_first().map(|k| k.text())
    }

    /// No key.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys, as text (canonical UNIDs first, in order, then the others).
    pub fn iter(&self) -> impl Iterator<Item = String> + '_ {
        self.0.iter().map(Key::text)
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
        let back: Vec<String> = s.iter().collect();
        assert_eq!(back.len(), 7);
        assert!(back.contains(&"0123".to_owned()));
        assert!(s.remove("5725767000000411001"));
        assert!(!s.contains("5725767000000411001"));
        assert!(back.contains(&"0123456789abcdef0123456789abcdef".to_owned()));
        assert!(back.contains(&"0123456789ABCDEF0123456789ABCDEF".to_owned()));
    }
}
