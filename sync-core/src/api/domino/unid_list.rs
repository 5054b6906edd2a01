//! Lists of documents read as they arrive, keeping only their UNIDs: DAS's changed-documents
//! list (`documents?since=…`, `reference/domino-api.md` §1.5) and the Domino REST API's view
//! entries (`/lists/{view}?count=-1`, `reference/domino-rest-api.md` §3.2). Both are one JSON
//! array of objects that carry `@unid`, unpaged, tens of megabytes for a large mail file.

/// One entry of a list: only its UNID is read (`@modified`, `@href`, `@etag`, columns… are
/// skipped without being kept).
#[derive(serde::Deserialize)]
struct ListedDoc<'a> {
    #[serde(rename = "@unid", borrow, default)]
    unid: Option<std::borrow::Cow<'a, str>>,
}

/// The longest entry of a list read (DAS's are about 150 bytes); a longer one
/// makes the answer unreadable rather than the reader's memory unbounded.
const MAX_ENTRY: usize = 64 * 1024;

/// How much of the answer's start [`UnidListReader::head`] keeps, for messages and for
/// recognising a login page.
const HEAD: usize = 4 * 1024;

/// Where [`UnidListReader`] is in the answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum ListAt {
    /// Before the opening `[`.
    #[default]
    Before,
    /// Inside the list.
    Entries,
    /// After the closing `]`.
    After,
    /// Not a list of documents.
    Unreadable,
}

/// Reads a list of documents (DAS `documents?since=…`: every data document of the file
/// modified since then, all forms; DRAPI `/lists/{view}?count=-1`: every entry of the view) as
/// it arrives, in parts split anywhere. The answer of a large mail file is tens of megabytes;
/// the reader holds only the entry it is in and the first few kilobytes (for messages), and
/// gives each UNID to its caller as the entry ends.
#[derive(Debug, Default)]
pub(crate) struct UnidListReader {
    at: ListAt,
    /// The entry being read, from its first byte.
    entry: Vec<u8>,
    /// Brackets and braces open inside the entry.
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// A comma was read and no entry has followed it yet.
    after_comma: bool,
    head: Vec<u8>,
}

impl UnidListReader {
    /// Reads the next part of the answer, giving `each` the UNID of every entry it completes.
    pub fn feed(&mut self, part: &[u8], mut each: impl FnMut(&str)) {
        if self.head.len() < HEAD {
            let room = HEAD - self.head.len();
            self.head.extend_from_slice(&part[..part.len().min(room)]);
        }
        for &b in part {
            match self.at {
                ListAt::Before if b.is_ascii_whitespace() => {}
                ListAt::Before if b == b'[' => self.at = ListAt::Entries,
                ListAt::After if b.is_ascii_whitespace() => {}
                ListAt::Before | ListAt::After => self.at = ListAt::Unreadable,
                ListAt::Unreadable => return,
                ListAt::Entries => self.entry_byte(b, &mut each),
            }
        }
    }

    fn entry_byte(&mut self, b: u8, each: &mut impl FnMut(&str)) {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
            }
            self.push(b);
            return;
        }
        if self.depth == 0 {
            match b {
                b',' => {
                    if !self.end_entry(each) {
                        return;
                    }
                    self.after_comma = true;
                    return;
                }
                b']' => {
                    let empty_list = self.entry.is_empty() && !self.after_comma;
                    if empty_list || self.end_entry(each) {
                        self.at = ListAt::After;
                    }
                    return;
                }
                _ if b.is_ascii_whitespace() && self.entry.is_empty() => return,
                _ => {}
            }
        }
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        self.push(b);
    }

    fn push(&mut self, b: u8) {
        if self.entry.len() >= MAX_ENTRY {
            self.at = ListAt::Unreadable;
            self.entry = Vec::new();
            return;
        }
        self.entry.push(b);
    }

    /// The entry read so far is complete: its UNID to `each`. `false` when it is not an entry.
    fn end_entry(&mut self, each: &mut impl FnMut(&str)) -> bool {
        match serde_json::from_slice::<ListedDoc<'_>>(&self.entry) {
            Ok(doc) => {
                if let Some(u) = &doc.unid {
                    each(u);
                }
                self.entry.clear();
                self.after_comma = false;
                true
            }
            Err(_) => {
                self.at = ListAt::Unreadable;
                self.entry = Vec::new();
                false
            }
        }
    }

    /// The whole answer was read: `Some` when it was such a list.
    pub fn finish(&self) -> Option<()> {
        (self.at == ListAt::After).then_some(())
    }

    /// The answer's first few kilobytes, as text.
    pub fn head(&self) -> String {
        String::from_utf8_lossy(&self.head).into_owned()
    }
}

/// The UNIDs of a whole list answer, each given to `each`; `None` when the body is not a list.
#[cfg(test)]
pub(crate) fn changed_unids(body: &str, each: impl FnMut(&str)) -> Option<()> {
    let mut reader = UnidListReader::default();
    reader.feed(body.as_bytes(), each);
    reader.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_documents_give_their_unids_and_anything_else_is_refused() {
        let body = r#"[{"@modified":"2026-12-05T01:00:00Z","@unid":"AB12","@href":"/x"},
                       {"@href":"/no-unid"},{"@unid":"CD\u0033\u0034"}]"#;
        let mut got = Vec::new();
        assert_eq!(changed_unids(body, |u| got.push(u.to_owned())), Some(()));
        assert_eq!(got, ["AB12", "CD34"]);
        assert_eq!(changed_unids("[]", |_| panic!("no entry")), Some(()));
        for bad in [
            "",
            "{}",
            "[1]",
            r#"[{"@unid":7}]"#,
            "[{",
            "[,]",
            r#"[{"@unid":"A"},]"#,
            r#"[{"@unid":"A"}] x"#,
            r#"[{"@unid":"A"}{"@unid":"B"}]"#,
        ] {
            assert_eq!(changed_unids(bad, |_| {}), None, "{bad}");
        }
    }

    /// Split anywhere (inside a string, an escape, a multi-byte character), the answer reads
    /// exactly as it does whole.
    #[test]
    fn changed_documents_read_in_parts_as_whole() {
        let body = r#" [ {"@modified":"2026-12-05T01:00:00Z","@unid":"AB12","@href":"/a,]}\"x"},
            {"@unid":"CD34","@href":"/文書/\u00e9"} , {"@href":"/none"},{"@unid":"EF56"} ] "#;
        let mut whole = Vec::new();
        assert_eq!(changed_unids(body, |u| whole.push(u.to_owned())), Some(()));
        assert_eq!(whole, ["AB12", "CD34", "EF56"]);
        let bytes = body.as_bytes();
        for cut in 0..=bytes.len() {
            for second in cut..=bytes.len() {
                let mut reader = UnidListReader::default();
                let mut got = Vec::new();
                for part in [&bytes[..cut], &bytes[cut..second], &bytes[second..]] {
                    reader.feed(part, |u| got.push(u.to_owned()));
                }
                assert_eq!(reader.finish(), Some(()), "cut at {cut}, {second}");
                assert_eq!(got, whole, "cut at {cut}, {second}");
            }
        }
    }

    /// DRAPI view entries (`@unid` first, then `@noteid`, `@index`, `@etag` and columns) give
    /// their UNIDs the same way.
    #[test]
    fn drapi_view_entries_give_their_unids() {
        let body = r#"[{"@unid":"4AC215AEB536D747002588D3005162A8","@noteid":102158,"@index":"1",
            "@etag":"W/\" 633eead8\"","$1":"2022-10-06T14:48:56Z","first_name":"Test"}]"#;
        let mut got = Vec::new();
        assert_eq!(changed_unids(body, |u| got.push(u.to_owned())), Some(()));
        assert_eq!(got, ["4AC215AEB536D747002588D3005162A8"]);
    }

    /// A login page is not a list; its start is kept for the message that says so.
    #[test]
    fn a_page_instead_of_the_list_is_refused_and_its_start_kept() {
        let page = format!("<html><body>{}</body></html>", "x".repeat(10_000));
        let mut reader = UnidListReader::default();
        reader.feed(page.as_bytes(), |_| panic!("no entry"));
        assert_eq!(reader.finish(), None);
        assert!(reader.head().starts_with("<html>"));
        assert_eq!(reader.head().len(), HEAD);
        let long = format!(r#"[{{"@unid":"A","x":"{}"}}]"#, "y".repeat(MAX_ENTRY));
        assert_eq!(changed_unids(&long, |_| {}), None);
    }
}
