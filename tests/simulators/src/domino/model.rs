//! The Domino server's data: databases, documents with typed items, views and the DAS switches.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Number, Value, json};

use super::store::{DocMut, Documents};
use super::view_index::ViewIndex;
use crate::common::stable_hex32;

/// A Notes date/time value: date+time (kept in UTC), date-only or time-only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NotesTime {
    DateTime(DateTime<Utc>),
    Date(NaiveDate),
    Time(NaiveTime),
}

impl NotesTime {
    /// DAS rendering: `2019-03-02T11:30:15Z`, `2019-03-02` or `11:30:15`.
    pub(crate) fn das(&self) -> String {
        match self {
            NotesTime::DateTime(t) => das_time(*t),
            NotesTime::Date(d) => d.format("%Y-%m-%d").to_string(),
            NotesTime::Time(t) => t.format("%H:%M:%S").to_string(),
        }
    }

    /// View-column rendering: always a UTC timestamp (date-only values become midnight UTC).
    pub(crate) fn view_value(&self) -> String {
        match self {
            NotesTime::DateTime(t) => das_time(*t),
            NotesTime::Date(d) => format!("{}T00:00:00Z", d.format("%Y-%m-%d")),
            NotesTime::Time(t) => format!("1970-01-01T{}Z", t.format("%H:%M:%S")),
        }
    }

    /// Parse a DAS date string: `yyyy-MM-ddTHH:mm:ssZ` (UTC), any RFC 3339 timestamp with an
    /// offset, `yyyy-MM-dd` (date-only) or `HH:mm:ss` (time-only).
    pub(crate) fn parse(s: &str) -> Option<NotesTime> {
        let s = s.trim();
        if let Some(t) = parse_utc(s) {
            return Some(NotesTime::DateTime(t));
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Some(NotesTime::Date(d));
        }
        if let Ok(t) = NaiveTime::parse_from_str(s, "%H:%M:%S") {
            return Some(NotesTime::Time(t));
        }
        None
    }

    /// The instant used for sorting (date-only = midnight UTC).
    pub(crate) fn sort_key(&self) -> i64 {
        match self {
            NotesTime::DateTime(t) => t.timestamp(),
            NotesTime::Date(d) => d.and_time(NaiveTime::MIN).and_utc().timestamp(),
            NotesTime::Time(t) => i64::from(t.num_seconds_from_midnight()),
        }
    }
}

/// `yyyy-MM-ddTHH:mm:ssZ`, the DAS timestamp format (second precision, UTC).
pub(crate) fn das_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// RFC 1123 (`Tue, 23 Aug 2011 21:35:18 GMT`), as in `Last-Modified`.
pub(crate) fn rfc1123(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

pub(crate) fn parse_rfc1123(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| {
            NaiveDateTime::parse_from_str(s.trim(), "%a, %d %b %Y %H:%M:%S GMT")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// A UTC timestamp: exactly `yyyy-MM-ddTHH:mm:ssZ`, or RFC 3339 with an offset or fraction
/// (truncated to seconds).
pub(crate) fn parse_utc(s: &str) -> Option<DateTime<Utc>> {
    if s.len() == 20
        && s.ends_with('Z')
        && let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ")
    {
        return Some(t.and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .and_then(|t| DateTime::from_timestamp(t.timestamp(), 0))
}

/// Rich text as Notes stores HTML written through DAS and DAS reads it back (domino-api.md
/// §1.6 example): a `multipart/alternative` header part, then `text/plain` and `text/html`.
pub(crate) fn rich_text(plain: &str, html: &str) -> ItemValue {
    let boundary = format!("=_alt_{}", &stable_hex32(html)[..16]);
    let encoding = if plain.is_ascii() && html.is_ascii() {
        "7bit"
    } else {
        "8bit"
    };
    let part = |pairs: &[(&str, &str)]| -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect()
    };
    ItemValue::RichText(vec![
        part(&[
            (
                "contentType",
                &format!("multipart/alternative; boundary=\"{boundary}\""),
            ),
            ("boundary", &format!("--{boundary}")),
        ]),
        part(&[
            ("contentType", "text/plain; charset=\"UTF-8\""),
            ("contentTransferEncoding", encoding),
            ("data", plain),
        ]),
        part(&[
            ("contentType", "text/html; charset=\"UTF-8\""),
            ("contentTransferEncoding", encoding),
            ("data", html),
        ]),
    ])
}

/// Plain text as HTML: escaped, line breaks as `<br>`.
pub(crate) fn plain_to_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', "<br>")
}

/// The text of HTML: tags dropped (`<br>` and block ends become line breaks), the common
/// entities decoded, as the plain alternative of a rich-text item.
pub(crate) fn html_to_plain(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = &rest[open..];
            break;
        };
        let tag = rest[open + 1..open + close].trim().to_ascii_lowercase();
        let name = tag.trim_start_matches('/');
        let name = name.split([' ', '/']).next().unwrap_or_default();
        let breaks = name == "br" || (tag.starts_with('/') && matches!(name, "p" | "div" | "li"));
        if breaks && !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out.trim_end_matches('\n')
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// The value of one item. Every variant is a list: one value is written as a scalar in JSON.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ItemValue {
    Text(Vec<String>),
    Number(Vec<f64>),
    Time(Vec<NotesTime>),
    /// Names / readers / authors: canonical name strings.
    Names(Vec<String>),
    /// Rich text kept as MIME parts (`{"contentType":…,"data":…}` objects).
    RichText(Vec<Map<String, Value>>),
}

fn number_json(n: f64) -> Value {
    // Integral doubles are printed without ".0", as DAS does.
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        let i = n as i64;
        Value::Number(Number::from(i))
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

fn scalar_or_array(values: Vec<Value>) -> Option<Value> {
    match values.len() {
        0 => None,
        1 => values.into_iter().next(),
        _ => Some(Value::Array(values)),
    }
}

impl ItemValue {
    pub(crate) fn text(s: &str) -> ItemValue {
        ItemValue::Text(vec![s.to_owned()])
    }

    /// DAS JSON of the item; `None` when it has no values (such items are omitted).
    pub(crate) fn to_das(&self, strongtype: bool, multipart: bool) -> Option<Value> {
        match self {
            ItemValue::Text(v) | ItemValue::Names(v) => {
                scalar_or_array(v.iter().map(|s| Value::String(s.clone())).collect())
            }
            ItemValue::Number(v) => scalar_or_array(v.iter().map(|n| number_json(*n)).collect()),
            ItemValue::Time(v) => {
                let data = scalar_or_array(v.iter().map(|t| Value::String(t.das())).collect())?;
                Some(if strongtype {
                    json!({ "data": data, "type": "datetime" })
                } else {
                    data
                })
            }
            ItemValue::RichText(parts) => Some(if multipart {
                json!({ "type": "multipart", "content": parts })
            } else {
                json!({ "type": "richtext", "contentType": "text/html", "data": self.html() })
            }),
        }
    }

    /// Form used by `/_sim/dump`: like DAS with `strongtype=true`, plus `{"type":"names"}` so
    /// that a load restores the item type.
    pub(crate) fn to_dump(&self) -> Value {
        match self {
            ItemValue::Names(v) => json!({ "type": "names", "data": v }),
            ItemValue::Text(v) if v.is_empty() => json!([]),
            _ => self.to_das(true, true).unwrap_or_else(|| json!([])),
        }
    }

    /// HTML of rich text (the text/html part, else the escaped text/plain part).
    pub(crate) fn html(&self) -> String {
        let ItemValue::RichText(parts) = self else {
            return String::new();
        };
        let part_of = |kind: &str| {
            parts.iter().find_map(|p| {
                let ct = p.get("contentType")?.as_str()?;
                if ct.to_ascii_lowercase().starts_with(kind) {
                    p.get("data")?.as_str().map(str::to_owned)
                } else {
                    None
                }
            })
        };
        if let Some(html) = part_of("text/html") {
            return html;
        }
        plain_to_html(&part_of("text/plain").unwrap_or_default())
    }

    /// First value as display text (view columns, sorting).
    pub(crate) fn first_text(&self) -> String {
        match self {
            ItemValue::Text(v) | ItemValue::Names(v) => v.first().cloned().unwrap_or_default(),
            ItemValue::Number(v) => v
                .first()
                .map(|n| number_json(*n).to_string())
                .unwrap_or_default(),
            ItemValue::Time(v) => v.first().map(NotesTime::das).unwrap_or_default(),
            ItemValue::RichText(_) => String::new(),
        }
    }

    /// Value of a view column showing this item.
    pub(crate) fn view_json(&self) -> Value {
        let values: Vec<Value> = match self {
            ItemValue::Text(v) | ItemValue::Names(v) => {
                v.iter().map(|s| Value::String(s.clone())).collect()
            }
            ItemValue::Number(v) => v.iter().map(|n| number_json(*n)).collect(),
            ItemValue::Time(v) => v.iter().map(|t| Value::String(t.view_value())).collect(),
            ItemValue::RichText(_) => Vec::new(),
        };
        scalar_or_array(values).unwrap_or_else(|| Value::String(String::new()))
    }

    fn cmp_key(&self, other: &ItemValue) -> Ordering {
        match (self, other) {
            (ItemValue::Time(a), ItemValue::Time(b)) => {
                let ka = a.first().map(NotesTime::sort_key);
                let kb = b.first().map(NotesTime::sort_key);
                ka.cmp(&kb)
            }
            (ItemValue::Number(a), ItemValue::Number(b)) => {
                let ka = a.first().copied().unwrap_or(0.0);
                let kb = b.first().copied().unwrap_or(0.0);
                ka.partial_cmp(&kb).unwrap_or(Ordering::Equal)
            }
            _ => collate(&self.first_text(), &other.first_text()),
        }
    }

    /// Build an item from a value of `/_sim/dump` ([`ItemValue::to_dump`]): client JSON, plus
    /// `{"type":"names","data":…}` for names items, which clients cannot write.
    pub(crate) fn from_dump_json(value: &Value) -> Result<ItemValue, String> {
        if let Value::Object(obj) = value
            && obj.get("type").and_then(Value::as_str) == Some("names")
        {
            let names = match obj.get("data") {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            return Ok(ItemValue::Names(names));
        }
        Self::from_client_json(value, false)
    }

    /// Build an item from a DAS JSON value sent by a client (`updateField`).
    /// `date_field`: the form declares this item as date/time, so plain strings become dates.
    /// Value objects of the types domino-api.md §1.6 lists for writes only (`datetime`,
    /// `richtext`, `multipart`); any other `type`, `names` included, is an error.
    pub(crate) fn from_client_json(value: &Value, date_field: bool) -> Result<ItemValue, String> {
        match value {
            Value::Null => Ok(ItemValue::text("")),
            Value::Bool(b) => Ok(ItemValue::text(if *b { "true" } else { "false" })),
            Value::Number(n) => Ok(ItemValue::Number(vec![n.as_f64().unwrap_or(0.0)])),
            Value::String(s) => {
                if date_field && let Some(t) = NotesTime::parse(s) {
                    return Ok(ItemValue::Time(vec![t]));
                }
                Ok(ItemValue::text(s))
            }
            Value::Array(items) => {
                if items.iter().all(Value::is_number) {
                    return Ok(ItemValue::Number(
                        items.iter().filter_map(Value::as_f64).collect(),
                    ));
                }
                if date_field {
                    let times: Option<Vec<NotesTime>> = items
                        .iter()
                        .map(|v| v.as_str().and_then(NotesTime::parse))
                        .collect();
                    if let Some(times) = times {
                        return Ok(ItemValue::Time(times));
                    }
                }
                Ok(ItemValue::Text(
                    items
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            Value::Null => String::new(),
                            other => other.to_string(),
                        })
                        .collect(),
                ))
            }
            Value::Object(obj) => Self::from_typed_object(obj),
        }
    }

    fn from_typed_object(obj: &Map<String, Value>) -> Result<ItemValue, String> {
        let kind = obj.get("type").and_then(Value::as_str).unwrap_or_default();
        match kind {
            "datetime" => {
                let data = obj.get("data").ok_or("datetime value without data")?;
                let strings: Vec<&str> = match data {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => return Err("datetime data must be a string or an array".into()),
                };
                strings
                    .iter()
                    .map(|s| NotesTime::parse(s).ok_or_else(|| format!("Invalid date: {s}")))
                    .collect::<Result<Vec<_>, _>>()
                    .map(ItemValue::Time)
            }
            "richtext" => {
                let ct = obj
                    .get("contentType")
                    .and_then(Value::as_str)
                    .unwrap_or("text/html");
                let data = obj.get("data").and_then(Value::as_str).unwrap_or_default();
                Ok(if ct.to_ascii_lowercase().starts_with("text/plain") {
                    rich_text(data, &plain_to_html(data))
                } else {
                    rich_text(&html_to_plain(data), data)
                })
            }
            "multipart" => {
                let content = obj
                    .get("content")
                    .and_then(Value::as_array)
                    .ok_or("multipart value without content")?;
                content
                    .iter()
                    .map(|p| {
                        p.as_object()
                            .cloned()
                            .ok_or_else(|| "MIME part must be an object".to_owned())
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(ItemValue::RichText)
            }
            _ => Err(format!("unsupported item value type {kind:?}")),
        }
    }
}

/// Notes collation, approximated: case-insensitive, then case-sensitive.
pub(crate) fn collate(a: &str, b: &str) -> Ordering {
    a.to_lowercase()
        .cmp(&b.to_lowercase())
        .then_with(|| a.cmp(b))
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Document {
    pub unid: String,
    pub note_id: u32,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub authors: Vec<String>,
    pub parent: Option<String>,
    /// The Notes sequence number: 1 when added, one more on every save (the Domino REST API
    /// shows it in `revision`).
    pub sequence: u32,
    /// Items in creation order. Names are case-insensitive, as in Notes.
    pub items: Vec<(String, ItemValue)>,
    pub read_by: BTreeSet<String>,
}

impl Document {
    pub(crate) fn get(&self, name: &str) -> Option<&ItemValue> {
        self.items
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    pub(crate) fn text(&self, name: &str) -> String {
        self.get(name)
            .map(ItemValue::first_text)
            .unwrap_or_default()
    }

    pub(crate) fn form(&self) -> Option<String> {
        self.get("Form").map(ItemValue::first_text)
    }

    /// `replaceItemValue`: an existing item keeps its position and the casing of its name.
    pub(crate) fn set(&mut self, name: &str, value: ItemValue) {
        if let Some(slot) = self
            .items
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            slot.1 = value;
        } else {
            self.items.push((name.to_owned(), value));
        }
    }
}

/// Where a view column takes its value from.
#[derive(Clone, Debug)]
pub(crate) enum ColumnSource {
    Item(String),
    /// `LastName, FirstName` (or `LastName` alone).
    LastFirst,
}

#[derive(Clone, Debug)]
pub(crate) struct Column {
    /// Programmatic name (`ViewColumn.getItemName()`), the key in view entries.
    pub name: String,
    pub title: String,
    pub source: ColumnSource,
    pub width: u32,
    pub sorted: bool,
    pub resortable: bool,
}

impl Column {
    fn new(name: &str, title: &str, source: ColumnSource, width: u32) -> Column {
        Column {
            name: name.to_owned(),
            title: title.to_owned(),
            source,
            width,
            sorted: false,
            resortable: false,
        }
    }

    fn sorted(mut self) -> Column {
        self.sorted = true;
        self
    }

    fn resortable(mut self) -> Column {
        self.resortable = true;
        self
    }

    pub(crate) fn value(&self, doc: &Document) -> Value {
        match &self.source {
            ColumnSource::Item(item) => doc
                .get(item)
                .map_or_else(|| Value::String(String::new()), ItemValue::view_json),
            ColumnSource::LastFirst => {
                let last = doc.text("LastName");
                let first = doc.text("FirstName");
                Value::String(if first.is_empty() {
                    last
                } else if last.is_empty() {
                    first
                } else {
                    format!("{last}, {first}")
                })
            }
        }
    }

    /// Comparison of two documents by this column.
    pub(crate) fn compare(&self, a: &Document, b: &Document) -> Ordering {
        match &self.source {
            ColumnSource::Item(item) => match (a.get(item), b.get(item)) {
                (Some(x), Some(y)) => x.cmp_key(y),
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
            ColumnSource::LastFirst => collate(&a.text("LastName"), &b.text("LastName"))
                .then_with(|| collate(&a.text("FirstName"), &b.text("FirstName"))),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct View {
    pub unid: String,
    pub title: String,
    pub aliases: Vec<String>,
    pub das_enabled: bool,
    pub folder: bool,
    /// Selection: documents whose Form is this (case-insensitive).
    pub form: String,
    pub columns: Vec<Column>,
    pub descending: bool,
    pub modified: DateTime<Utc>,
    /// The documents the view selects, in view order (kept by `Database`'s writes).
    pub index: ViewIndex,
}

impl View {
    pub(crate) fn matches_name(&self, name: &str) -> bool {
        self.title.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }

    /// The documents of the view from position `start` (0-based) on, in view order.
    pub(crate) fn rows_from<'a>(
        &'a self,
        db: &'a Database,
        start: usize,
    ) -> impl Iterator<Item = &'a Document> {
        self.index
            .iter_from(start)
            .filter_map(|k| db.documents.get(k.slot))
    }

    /// Number of documents in the view.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }
}

/// The standard views of a mail file.
pub(crate) fn mail_views(db_path: &str, now: DateTime<Utc>) -> Vec<View> {
    let view = |title: &str,
                aliases: &[&str],
                form: &str,
                folder: bool,
                descending: bool,
                columns: Vec<Column>| View {
        unid: stable_hex32(&format!("{db_path}|{title}")),
        title: title.to_owned(),
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        das_enabled: true,
        folder,
        form: form.to_owned(),
        columns,
        descending,
        modified: now,
        index: ViewIndex::default(),
    };
    vec![
        view(
            "($Contacts)",
            &["Contacts"],
            "Person",
            false,
            false,
            vec![
                Column::new("$17", "Name", ColumnSource::LastFirst, 20)
                    .sorted()
                    .resortable(),
                Column::new(
                    "MailAddress",
                    "E-mail",
                    ColumnSource::Item("MailAddress".into()),
                    20,
                )
                .resortable(),
                Column::new(
                    "CompanyName",
                    "Company",
                    ColumnSource::Item("CompanyName".into()),
                    16,
                )
                .resortable(),
                Column::new(
                    "OfficePhoneNumber",
                    "Business Phone",
                    ColumnSource::Item("OfficePhoneNumber".into()),
                    14,
                ),
            ],
        ),
        view(
            "($ToDo)",
            &["ToDo"],
            "Task",
            false,
            false,
            vec![
                Column::new(
                    "Subject",
                    "Subject",
                    ColumnSource::Item("Subject".into()),
                    30,
                )
                .resortable(),
                Column::new(
                    "DueDateTime",
                    "Due",
                    ColumnSource::Item("DueDateTime".into()),
                    10,
                )
                .sorted()
                .resortable(),
                Column::new(
                    "Importance",
                    "Priority",
                    ColumnSource::Item("Importance".into()),
                    6,
                ),
            ],
        ),
        view(
            "($Inbox)",
            &["Inbox"],
            "Memo",
            true,
            true,
            vec![
                Column::new("$3", "Date", ColumnSource::Item("PostedDate".into()), 10).sorted(),
                Column::new("$93", "Who", ColumnSource::Item("From".into()), 20),
                Column::new("$73", "Subject", ColumnSource::Item("Subject".into()), 30),
            ],
        ),
    ]
}

/// The views of the directory (`names.nsf`).
pub(crate) fn directory_views(now: DateTime<Utc>) -> Vec<View> {
    vec![View {
        unid: stable_hex32("names.nsf|People"),
        title: "People".into(),
        aliases: vec!["($People)".into()],
        das_enabled: true,
        folder: false,
        form: "Person".into(),
        columns: vec![
            Column::new("$17", "Name", ColumnSource::LastFirst, 20).sorted(),
            Column::new(
                "InternetAddress",
                "E-mail",
                ColumnSource::Item("InternetAddress".into()),
                20,
            ),
            Column::new(
                "MailFile",
                "Mail file",
                ColumnSource::Item("MailFile".into()),
                20,
            ),
        ],
        descending: false,
        modified: now,
        index: ViewIndex::default(),
    }]
}

/// Items the standard forms declare as date/time: plain strings written to them become dates.
pub(crate) fn is_date_field(form: Option<&str>, item: &str) -> bool {
    const TASK: &[&str] = &[
        "DueDateTime",
        "DueDate",
        "StartDateTime",
        "StartDate",
        "CompletedDateTime",
        "CalendarDateTime",
    ];
    const PERSON: &[&str] = &["Birthday", "Anniversary"];
    const MEMO: &[&str] = &["PostedDate", "DeliveredDate"];
    let list: &[&str] = match form.map(str::to_ascii_lowercase).as_deref() {
        Some("task") => TASK,
        Some("person") => PERSON,
        Some("memo") => MEMO,
        _ => &[],
    };
    list.iter().any(|f| f.eq_ignore_ascii_case(item))
}

#[derive(Clone, Debug)]
pub(crate) struct Database {
    /// File path as shown in URLs, e.g. `mail/demo.nsf`.
    pub path: String,
    pub title: String,
    pub replica_id: String,
    pub template: String,
    /// Only this user may open it; everyone authenticated when `None`.
    pub owner: Option<String>,
    /// `$AllowRESTDbAPI`: 0 none, 1 views only, 2 views and documents.
    pub allow_rest: u8,
    pub views: Vec<View>,
    /// The documents, indexed (see `store`); change them through `Database`'s methods.
    pub documents: Documents,
    pub next_note_id: u32,
    /// Calendar entries (each also has a backing `Appointment` document).
    pub events: Vec<super::calendar::CalEvent>,
    /// Unprocessed scheduling notices (each also has a backing `Notice` document).
    pub notices: Vec<super::calendar::Notice>,
}

impl Database {
    pub(crate) fn new(
        path: &str,
        title: &str,
        template: &str,
        owner: Option<String>,
        views: Vec<View>,
    ) -> Database {
        Database {
            path: path.to_owned(),
            title: title.to_owned(),
            replica_id: stable_hex32(path)[..16].to_owned(),
            template: template.to_owned(),
            owner,
            allow_rest: 2,
            views,
            documents: Documents::default(),
            next_note_id: 0x8F6,
            events: Vec::new(),
            notices: Vec::new(),
        }
    }

    pub(crate) fn view(&self, name: &str) -> Option<&View> {
        self.views.iter().find(|v| v.matches_name(name))
    }

    pub(crate) fn view_by_unid(&self, unid: &str) -> Option<&View> {
        self.views
            .iter()
            .find(|v| v.unid.eq_ignore_ascii_case(unid))
    }

    /// Add a document; note ids grow by 4 as in Notes.
    pub(crate) fn add(
        &mut self,
        unid: String,
        created: DateTime<Utc>,
        modified: DateTime<Utc>,
        author: &str,
        items: Vec<(String, ItemValue)>,
    ) -> DocMut<'_> {
        let note_id = self.next_note_id;
        self.next_note_id = self.next_note_id.saturating_add(4);
        self.insert_document(Document {
            unid,
            note_id,
            created,
            modified,
            authors: vec![author.to_owned()],
            parent: None,
            sequence: 1,
            items,
            read_by: BTreeSet::new(),
        })
    }
}

/// A Domino user known to the simulator.
#[derive(Clone, Debug)]
pub(crate) struct DominoUser {
    pub name: String,
    pub password: String,
}

impl DominoUser {
    pub(crate) fn canonical(&self) -> String {
        canonical_name(&self.name)
    }

    pub(crate) fn mail_path(&self) -> String {
        format!("mail/{}.nsf", self.name.to_lowercase())
    }
}

pub(crate) fn canonical_name(user: &str) -> String {
    format!("CN={user}/O=SimOrg")
}

/// The whole server.
#[derive(Debug)]
pub(crate) struct DominoServer {
    /// Enabled DAS services besides Core (names as displayed: `Data`, `Calendar`).
    pub services: Vec<String>,
    /// Answer anonymous requests with 200 + an HTML login form instead of 401.
    pub anonymous_login_form: bool,
    /// Keyed by lower-case file path.
    pub databases: BTreeMap<String, Database>,
    pub rng: StdRng,
}

impl DominoServer {
    /// Users, their mail files and the directory, without sample data (`Seed::Empty`).
    pub(crate) fn empty(users: &[DominoUser], now: DateTime<Utc>) -> DominoServer {
        let mut server = DominoServer {
            services: vec!["Data".into(), "Calendar".into()],
            anonymous_login_form: false,
            databases: BTreeMap::new(),
            rng: StdRng::seed_from_u64(0xD0_0D1E),
        };
        let mut names = Database::new(
            "names.nsf",
            "SimOrg's Directory",
            "StdR4PublicAddressBook",
            None,
            directory_views(now),
        );
        for user in users {
            let unid = server.new_unid();
            names.add(
                unid,
                now,
                now,
                "CN=Administrator/O=SimOrg",
                vec![
                    ("Form".into(), ItemValue::text("Person")),
                    ("Type".into(), ItemValue::text("Person")),
                    ("FirstName".into(), ItemValue::text("")),
                    ("LastName".into(), ItemValue::text(&user.name)),
                    (
                        "FullName".into(),
                        ItemValue::Names(vec![user.canonical(), user.name.clone()]),
                    ),
                    ("ShortName".into(), ItemValue::text(&user.name)),
                    (
                        "InternetAddress".into(),
                        ItemValue::text(&format!("{}@example.com", user.name.to_lowercase())),
                    ),
                    (
                        "MailServer".into(),
                        ItemValue::Names(vec!["CN=sim/O=SimOrg".into()]),
                    ),
                    ("MailFile".into(), ItemValue::text(&user.mail_path())),
                ],
            );
            let path = user.mail_path();
            let db = Database::new(
                &path,
                &format!("Mail - {}", user.name),
                "StdR9Mail",
                Some(user.name.clone()),
                mail_views(&path, now),
            );
            server.databases.insert(path.to_lowercase(), db);
        }
        server.databases.insert("names.nsf".into(), names);
        server
    }

    pub(crate) fn new_unid(&mut self) -> String {
        let a: u64 = self.rng.random();
        let b: u64 = self.rng.random();
        format!("{a:016X}{b:016X}")
    }

    pub(crate) fn service_enabled(&self, service: &str) -> bool {
        self.services
            .iter()
            .any(|s| s.eq_ignore_ascii_case(service))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_rendering_drops_dot_zero() {
        assert_eq!(number_json(3.0), json!(3));
        assert_eq!(number_json(2.5), json!(2.5));
    }

    #[test]
    fn time_parsing_variants() {
        assert!(matches!(
            NotesTime::parse("2019-03-02T11:30:15Z"),
            Some(NotesTime::DateTime(_))
        ));
        assert!(matches!(
            NotesTime::parse("2019-03-02T11:30:15+09:00"),
            Some(NotesTime::DateTime(_))
        ));
        assert!(matches!(
            NotesTime::parse("2019-03-02"),
            Some(NotesTime::Date(_))
        ));
        assert!(matches!(
            NotesTime::parse("11:30:15"),
            Some(NotesTime::Time(_))
        ));
        assert_eq!(NotesTime::parse("nope"), None);
        let t = NotesTime::parse("2019-03-02T11:30:15+09:00");
        assert_eq!(t.map(|t| t.das()).as_deref(), Some("2019-03-02T02:30:15Z"));
    }

    #[test]
    fn rich_text_write_has_plain_and_html_alternatives() {
        assert_eq!(
            html_to_plain("<p>Hello <b>you</b> &amp; me</p><p>Bye<br>now</p>"),
            "Hello you & me\nBye\nnow"
        );
        let ItemValue::RichText(parts) = rich_text("Hi", "<b>Hi</b>") else {
            panic!("rich text expected");
        };
        let types: Vec<&str> = parts
            .iter()
            .filter_map(|p| p.get("contentType")?.as_str())
            .collect();
        assert!(types[0].starts_with("multipart/alternative; boundary="));
        assert_eq!(
            &types[1..],
            [
                "text/plain; charset=\"UTF-8\"",
                "text/html; charset=\"UTF-8\""
            ]
        );
        assert_eq!(
            ItemValue::from_client_json(
                &serde_json::json!({"type":"names","data":"CN=a/O=b"}),
                false
            ),
            Err("unsupported item value type \"names\"".to_owned())
        );
    }

    #[test]
    fn rfc1123_round_trip() {
        let t = parse_utc("2011-08-23T21:35:18Z").unwrap();
        assert_eq!(rfc1123(t), "Tue, 23 Aug 2011 21:35:18 GMT");
        assert_eq!(parse_rfc1123("Tue, 23 Aug 2011 21:35:18 GMT"), Some(t));
    }

    #[test]
    fn set_keeps_existing_name_casing() {
        let mut d = Document {
            unid: "A".into(),
            note_id: 1,
            created: Utc::now(),
            modified: Utc::now(),
            authors: vec![],
            parent: None,
            sequence: 1,
            items: vec![("FirstName".into(), ItemValue::text("a"))],
            read_by: BTreeSet::new(),
        };
        d.set("firstname", ItemValue::text("b"));
        assert_eq!(d.items[0].0, "FirstName");
        assert_eq!(d.text("FIRSTNAME"), "b");
    }
}
