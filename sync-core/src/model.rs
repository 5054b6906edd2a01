//! The canonical model between the two APIs: sides, modules, identifiers, records, settings.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// One of the two systems kept in step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Zoho CRM, reached through its REST API.
    Crm,
    /// HCL Notes / Domino, reached through Domino Access Services or the Domino REST API.
    Notes,
}

impl Side {
    /// The other side.
    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Self::Crm => Self::Notes,
            Self::Notes => Self::Crm,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Crm => "Zoho CRM",
            Self::Notes => "IBM Notes",
        })
    }
}

/// A kind of record that is synced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Module {
    /// Notes `Person` documents and Zoho `Contacts`.
    Contacts,
    /// Notes to-dos (`Task` documents) and Zoho `Tasks`.
    Tasks,
    /// Notes calendar entries (calendar service) and Zoho `Events` ("Meetings").
    Events,
}

impl Module {
    /// Every module, in the order a run handles them.
    pub const ALL: [Self; 3] = [Self::Contacts, Self::Tasks, Self::Events];

    /// The Zoho module API name.
    #[must_use]
    pub fn crm_api_name(self) -> &'static str {
        match self {
            Self::Contacts => "Contacts",
            Self::Tasks => "Tasks",
            Self::Events => "Events",
        }
    }

    /// Whether dates of this module depend on the user's time zone.
    #[must_use]
    pub fn needs_time_zone(self) -> bool {
        match self {
            Self::Contacts => false,
            Self::Tasks | Self::Events => true,
        }
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Contacts => "contacts",
            Self::Tasks => "to-dos",
            Self::Events => "events",
        })
    }
}

/// Which Domino API a run reads and writes the mail file through (`DESIGN.md` §3): the planner,
/// the mapping and every guarantee are the same for both.
///
/// Serialized as `{"api": "das"}` or `{"api": "rest", "scope": "maildemo"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "api", rename_all = "snake_case")]
pub enum DominoApi {
    /// Domino Access Services (`/{mail file}/api/data`, `/api/calendar`): every Domino version,
    /// one request per document.
    #[default]
    Das,
    /// The Domino REST API (Domino 12.0.2 and later): the basis API on the mail file's scope,
    /// with bulk reads, and PIM for the calendar.
    Rest {
        /// The scope that names the mail file (every basis call's `dataSource`).
        scope: DrapiScope,
    },
}

/// A Domino REST API scope name (`apiName`): lower-case letters and digits only, the
/// `dataSource` of every basis call.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DrapiScope(pub String);

impl DrapiScope {
    /// The scope name `nzsync drapi-schema` gives a mail file: its path without `.nsf`, in
    /// lower-case letters and digits (`mail/JDoe.nsf` → `mailjdoe`).
    #[must_use]
    pub fn for_mail_file(path: &str) -> Self {
        let path = path.trim().to_ascii_lowercase();
        let stem = path.strip_suffix(".nsf").unwrap_or(&path);
        Self(stem.chars().filter(char::is_ascii_alphanumeric).collect())
    }

    /// Refuses a name the Domino REST API cannot have (`[a-z0-9]`, not empty), so a typo or
    /// an injected parameter never reaches a request.
    ///
    /// # Errors
    /// A plain sentence naming the bad value.
    pub fn check(&self) -> Result<(), String> {
        let ok = !self.0.is_empty()
            && self
                .0
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{:?} is not a Domino REST API scope name (lower-case letters and digits only)",
                self.0
            ))
        }
    }
}

impl fmt::Display for DrapiScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Notes document's universal id (32 hex digits).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NotesUnid(pub String);

/// A Zoho CRM record id (a string of digits; never parsed as a number).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ZohoId(pub String);

impl fmt::Display for NotesUnid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for ZohoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The synced content of a record: canonical field name → value. Empty values are absent, so
/// "cleared" and "never set" compare equal on both sides.
///
/// Compact, since a run holds one per record read and per link: the pairs live in one boxed
/// string, sorted by name, each name and value ended by a NUL (`name\0value\0…`). A record of
/// fifteen fields takes its text plus 16 bytes, where a map of `String`s took over a kilobyte.
/// Values cannot hold NUL (it is dropped on `set`; no synced item carries one). Serialized as a
/// JSON object, as it always was.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Fields {
    buf: Box<str>,
}

impl Fields {
    /// The value of `field`, if set.
    #[must_use]
    pub fn get(&self, field: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == field).map(|(_, v)| v)
    }

    /// Sets `field` to `value` after trimming; an empty value removes the field.
    pub fn set(&mut self, field: &str, value: &str) {
        let value = value.trim();
        let clean;
        let value = if value.contains('\0') {
            clean = value.replace('\0', "");
            clean.as_str()
        } else {
            value
        };
        let field = field.trim_matches('\0');
        let mut pairs: Vec<(&str, &str)> = self.iter().filter(|(n, _)| *n != field).collect();
        if !value.is_empty() && !field.is_empty() {
            let at = pairs.partition_point(|(n, _)| *n < field);
            pairs.insert(at, (field, value));
        }
        self.buf = join(&pairs);
    }

    /// The fields and their values, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut parts = self.buf.split_terminator('\0');
        std::iter::from_fn(move || Some((parts.next()?, parts.next()?)))
    }

    /// The names of the fields set, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(n, _)| n)
    }

    /// No field is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The size of the content in bytes (names and values).
    #[must_use]
    pub fn len_bytes(&self) -> usize {
        self.buf.len()
    }

    /// How many fields are set.
    #[must_use]
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// A 128-bit digest of the content (two 64-bit FNV-1a-style lanes over the canonical form,
    /// with different offsets and multipliers): equal content has an equal digest, in every build and on every
    /// platform, so a digest can stand in for content that is not held (a link's base, while
    /// the engine streams). Two 64-bit lanes, not one 128-bit FNV: wasm32 has no 128-bit
    /// multiply, and a library call per byte made the digest a visible share of the engine's
    /// time in wasm. Digests live within a run; none is stored.
    #[must_use]
    pub fn digest(&self) -> u128 {
        const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
        const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
        let (mut a, mut b) = (0xcbf2_9ce4_8422_2325_u64, 0x8422_2325_cbf2_9ce4_u64);
        for byte in self.buf.bytes() {
            a = (a ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
            b = (b ^ u64::from(byte)).wrapping_mul(GOLDEN);
        }
        (u128::from(a) << 64) | u128::from(b)
    }

    /// The compact form the fields are held in: each field as its name, a NUL, its value and a
    /// NUL, sorted by name. It crosses to the engine's wasm builds as it is
    /// ([`Fields::from_canonical`]; WIT `handle-links-compact`).
    #[must_use]
    pub fn as_canonical(&self) -> &str {
        &self.buf
    }

    /// Fields from their compact form ([`Fields::as_canonical`]), taken as they are after a
    /// check of the form: NUL-ended names and values in pairs, names strictly ascending, no
    /// name or value empty.
    ///
    /// # Errors
    /// What breaks the form, when something does.
    pub fn from_canonical(text: String) -> Result<Self, String> {
        if !text.is_empty() && !text.ends_with('\0') {
            return Err("the last value is not ended by a NUL".to_owned());
        }
        let mut parts = text.split_terminator('\0');
        let mut last: Option<&str> = None;
        while let Some(name) = parts.next() {
            let Some(value) = parts.next() else {
                return Err(format!("the field {name:?} has no value"));
            };
            if name.is_empty() || value.is_empty() {
                return Err("an empty field name or value".to_owned());
            }
            if last.is_some_and(|l| l >= name) {
                return Err(format!("the field {name:?} is out of order"));
            }
            last = Some(name);
        }
        Ok(Self {
            buf: text.into_boxed_str(),
        })
    }

    /// The names of fields whose values differ between `self` and `other`, sorted.
    #[must_use]
    pub fn diff(&self, other: &Self) -> Vec<String> {
        let (mut a, mut b) = (self.iter().peekable(), other.iter().peekable());
        let mut out = Vec::new();
        loop {
            match (a.peek().copied(), b.peek().copied()) {
                (None, None) => return out,
                (Some((n, _)), None) => {
                    out.push(n.to_owned());
                    a.next();
                }
                (None, Some((n, _))) => {
                    out.push(n.to_owned());
                    b.next();
                }
                (Some((na, va)), Some((nb, vb))) => {
                    if na < nb {
                        out.push(na.to_owned());
                        a.next();
                    } else if nb < na {
                        out.push(nb.to_owned());
                        b.next();
                    } else {
                        if va != vb {
                            out.push(na.to_owned());
                        }
                        a.next();
                        b.next();
                    }
                }
            }
        }
    }
}

/// `name\0value\0…` of pairs sorted by name.
fn join(pairs: &[(&str, &str)]) -> Box<str> {
    let mut s = String::with_capacity(pairs.iter().map(|(n, v)| n.len() + v.len() + 2).sum());
    for (n, v) in pairs {
        s.push_str(n);
        s.push('\0');
        s.push_str(v);
        s.push('\0');
    }
    s.into_boxed_str()
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Fields {
    /// Fields from pairs, as [`Fields::set`] would store them (a later pair wins).
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut pairs: Vec<(K, V)> = iter.into_iter().collect();
        // Sorted by name, a later pair of the same name after an earlier one (stable sort),
        // so that the last of each run of one name is the one kept.
        pairs.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        let mut kept: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(pairs.len());
        for (i, (k, v)) in pairs.iter().enumerate() {
            let (k, v) = (k.as_ref(), v.as_ref());
            if pairs.get(i + 1).is_some_and(|next| next.0.as_ref() == k) {
                continue; // A later pair of this name wins.
            }
            let (k, v) = (without_nul(k), without_nul(v.trim()));
            if !k.is_empty() && !v.is_empty() {
                kept.push((k, v));
            }
        }
        // Dropping NULs can change the order of names that held one.
        if kept.windows(2).any(|w| w[0].0 >= w[1].0) {
            let map: BTreeMap<Cow<'_, str>, Cow<'_, str>> = kept.into_iter().collect();
            kept = map.into_iter().collect();
        }
        let refs: Vec<(&str, &str)> = kept.iter().map(|(k, v)| (&**k, &**v)).collect();
        Self { buf: join(&refs) }
    }
}

/// `s` without NUL characters, borrowed when it has none.
fn without_nul(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', ""))
    } else {
        Cow::Borrowed(s)
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// A JSON object of strings, read straight into pairs (borrowed from the input where
        /// it has no escapes) rather than into a map of owned strings first.
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = Fields;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of field names and text values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Fields, A::Error> {
                let mut pairs: Vec<(Text<'de>, Text<'de>)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(pairs.into_iter().collect())
            }
        }
        d.deserialize_map(Pairs)
    }
}

/// Text read from a deserializer: borrowed from its input when it can be.
struct Text<'de>(Cow<'de, str>);

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("text")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A record as read from one side, in canonical form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The synced content.
    pub fields: Fields,
    /// Private on its side (Notes `OrgConfidential`, CRM tag): never sent to the other side.
    pub private: bool,
    /// The other side's id as stored on this record (Zoho `Notes_UNID`, Notes `ZohoCRMId`).
    pub xref: Option<String>,
}

/// Which way changes flow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// CRM → Notes only: Notes mirrors CRM for every CRM record.
    CrmToNotes,
    /// Notes → CRM only: CRM mirrors Notes for every Notes record.
    NotesToCrm,
    /// Both ways, with field-level merge.
    #[default]
    TwoWay,
}

/// Which side wins a field changed on both sides since the last sync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    /// "CRM always wins".
    #[default]
    CrmWins,
    /// "IBM Notes always wins".
    NotesWins,
}

impl ConflictPolicy {
    /// The side that wins.
    #[must_use]
    pub fn winner(self) -> Side {
        match self {
            Self::CrmWins => Side::Crm,
            Self::NotesWins => Side::Notes,
        }
    }
}

/// Which events are synced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventsWindow {
    /// A year back to two years ahead (the calendar service needs a window).
    #[default]
    All,
    /// Today, in the user's zone.
    Today,
    /// The past month up to the end of today, in the user's zone.
    PastMonth,
    /// No events.
    Off,
}

/// The user's sync settings (feature F3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Sync contacts.
    pub contacts: bool,
    /// Sync to-dos.
    pub tasks: bool,
    /// Which events to sync.
    pub events: EventsWindow,
    /// Which way changes flow.
    pub direction: Direction,
    /// Who wins a field changed on both sides.
    pub conflict: ConflictPolicy,
    /// Which CRM records each module covers (`DESIGN.md` §4.3: owner scope).
    pub scope: Scopes,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            contacts: true,
            tasks: true,
            events: EventsWindow::All,
            direction: Direction::TwoWay,
            conflict: ConflictPolicy::CrmWins,
            scope: Scopes::default(),
        }
    }
}

/// Which CRM records a user's sync of one module covers.
///
/// Serialized as `"mine"` or `{"view": "<cvid>"}` (TOML: `contacts = "mine"`,
/// `tasks = { view = "4150868000000087501" }`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The records the user owns (`Owner`): what Zoho's own Google and Microsoft 365 syncs do.
    #[default]
    Mine,
    /// The records of a CRM custom view the user picked (its `cvid`), whoever owns them.
    View(String),
}

/// The scope of each module.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scopes {
    /// Contacts.
    pub contacts: Scope,
    /// To-dos.
    pub tasks: Scope,
    /// Events.
    pub events: Scope,
}

impl Scope {
    /// Refuses a view id that cannot be a Zoho id (digits only), so a typo or an injected
    /// parameter never reaches a request.
    ///
    /// # Errors
    /// A plain sentence naming the bad value.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Self::Mine => Ok(()),
            Self::View(cvid) if !cvid.is_empty() && cvid.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(())
            }
            Self::View(cvid) => Err(format!(
                "scope view {cvid:?} is not a Zoho custom view id (digits only)"
            )),
        }
    }
}

impl Scopes {
    /// Checks each module's scope (see [`Scope::check`]).
    ///
    /// # Errors
    /// The first bad value, named with its module.
    pub fn check(&self) -> Result<(), String> {
        for m in Module::ALL {
            self.of(m).check().map_err(|e| format!("{m}: {e}"))?;
        }
        Ok(())
    }

    /// The scope of `module`.
    #[must_use]
    pub fn of(&self, module: Module) -> &Scope {
        match module {
            Module::Contacts => &self.contacts,
            Module::Tasks => &self.tasks,
            Module::Events => &self.events,
        }
    }
}

impl Settings {
    /// Whether `module` is switched on.
    #[must_use]
    pub fn enabled(&self, module: Module) -> bool {
        match module {
            Module::Contacts => self.contacts,
            Module::Tasks => self.tasks,
            Module::Events => self.events != EventsWindow::Off,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_cross_in_their_compact_form_and_a_broken_one_is_refused() {
        let f: Fields = [
            ("last_name", "山田"),
            ("email", "a@example.jp"),
            ("city", "東京"),
        ]
        .into_iter()
        .collect();
        let back = Fields::from_canonical(f.as_canonical().to_owned());
        assert_eq!(back.as_ref(), Ok(&f));
        assert_eq!(Fields::from_canonical(String::new()), Ok(Fields::default()));
        // The digest stands for the content: the same for equal fields, not for others.
        let mut moved = f.clone();
        moved.set("city", "大阪");
        assert_eq!(back.map(|b| b.digest()), Ok(f.digest()));
        assert_ne!(moved.digest(), f.digest());
        assert_ne!(Fields::default().digest(), f.digest());
        for broken in [
            "email\0a@x\0city\0Tokyo\0",  // out of order
            "city\0Tokyo\0city\0Osaka\0", // a name twice
            "city\0Tokyo",                // not ended by a NUL
            "city\0",                     // a name without a value
            "city\0\0",                   // an empty value
            "\0Tokyo\0",                  // an empty name
        ] {
            assert!(
                Fields::from_canonical(broken.to_owned()).is_err(),
                "{broken:?}"
            );
        }
    }

    #[test]
    fn scope_names_come_from_the_mail_file_and_bad_ones_are_refused() {
        assert_eq!(DrapiScope::for_mail_file("mail/demo.nsf").0, "maildemo");
        assert_eq!(DrapiScope::for_mail_file(" Mail/J_Doe.NSF ").0, "mailjdoe");
        assert_eq!(DrapiScope::for_mail_file("mail/user2.nsf").0, "mailuser2");
        assert!(DrapiScope("maildemo".into()).check().is_ok());
        for bad in ["", "Mail", "mail demo", "a&b=c"] {
            assert!(DrapiScope(bad.into()).check().is_err(), "{bad}");
        }
        let json = serde_json::to_string(&DominoApi::Rest {
            scope: DrapiScope("maildemo".into()),
        })
        .unwrap_or_default();
        assert_eq!(json, r#"{"api":"rest","scope":"maildemo"}"#);
        assert_eq!(
            serde_json::to_string(&DominoApi::Das).unwrap_or_default(),
            r#"{"api":"das"}"#
        );
    }

    #[test]
    fn empty_values_are_absent() {
        let mut f = Fields::default();
        f.set("email", "  a@b.c ");
        f.set("city", "   ");
        assert_eq!(f.get("email"), Some("a@b.c"));
        assert_eq!(f.get("city"), None);
        f.set("email", "");
        assert_eq!(f, Fields::default());
    }

    #[test]
    fn diff_lists_changed_added_and_removed_fields() {
        let mut a = Fields::default();
        a.set("x", "1");
        a.set("y", "2");
        let mut b = Fields::default();
        b.set("y", "3");
        b.set("z", "4");
        assert_eq!(a.diff(&b), vec!["x", "y", "z"]);
        assert_eq!(b.diff(&a), vec!["x", "y", "z"]);
        assert!(a.diff(&a).is_empty());
        assert_eq!(Fields::default().diff(&b), vec!["y", "z"]);
    }

    #[test]
    fn fields_keep_their_json_shape_and_order() {
        let mut f = Fields::default();
        f.set("z", "last");
        f.set("a", "first");
        f.set("m", "mid\0dle");
        assert_eq!(f.names().collect::<Vec<_>>(), vec!["a", "m", "z"]);
        assert_eq!(f.get("m"), Some("middle"));
        let json = serde_json::to_string(&f).unwrap_or_default();
        assert_eq!(json, r#"{"a":"first","m":"middle","z":"last"}"#);
        let back: Fields = serde_json::from_str(r#"{"z":"last","a":"first","m":"middle","e":""}"#)
            .unwrap_or_default();
        assert_eq!(back, f);
        f.set("a", "");
        assert_eq!(f.len(), 2);
        assert_eq!(f.get("a"), None);
    }
}
