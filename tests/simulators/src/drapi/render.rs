//! A document as the REST API shows it: `@meta` (GET, writes, `/query`) or flat `@unid`…
//! metadata (`/lists`, `/bulk/*`), then `Form` and the mode's readable fields that the document
//! has, in case-insensitive alphabetical order (domino-rest-api.md §3.2–3.5, §8.11).

use serde_json::{Map, Value, json};

use super::auth::{local_time, utc_time};
use super::schema::{Form, Mode};
use super::values::{self, RichTextAs};
use crate::domino::model::Document;

/// Where the metadata goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Meta {
    /// `{"@meta":{"unid","noteid",…}}`.
    Nested,
    /// `{"@unid","@noteid",…}` at the top.
    Flat,
    /// `meta=false`: none.
    Off,
}

/// The weak ETag: the hex Unix seconds of the last change, after a space (`W/" 633eead8"`);
/// one-second granularity (domino-rest-api.md §3.7, inferred from every example).
pub(crate) fn etag(doc: &Document) -> String {
    format!("W/\" {:08x}\"", doc.modified.timestamp().max(0))
}

/// The revision: 8 hex digits of the Notes sequence number, 16 of the last change's time
/// (24 characters, as the real examples; opaque to clients). New on every save.
pub(crate) fn revision(doc: &Document) -> String {
    format!(
        "{:08X}{:016X}",
        doc.sequence,
        doc.modified.timestamp().max(0)
    )
}

/// Rough size in bytes: what the items take as JSON.
fn size(doc: &Document) -> usize {
    doc.items
        .iter()
        .map(|(n, v)| n.len() + v.to_dump().to_string().len())
        .sum()
}

/// How to show one document.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape<'a> {
    pub meta: Meta,
    pub rich: RichTextAs,
    /// The caller (for `unread`).
    pub user: &'a str,
    /// Whether the caller may change it (`isEditable`).
    pub editable: bool,
}

/// The JSON of `doc` seen through `form`'s `mode`.
pub(crate) fn document(doc: &Document, form: &Form, mode: &Mode, shape: Shape<'_>) -> Value {
    let mut out = Map::new();
    let unread = !doc.read_by.contains(&shape.user.to_lowercase());
    match shape.meta {
        Meta::Nested => {
            out.insert(
                "@meta".into(),
                json!({
                    "noteid": doc.note_id,
                    "unid": doc.unid,
                    "created": local_time(doc.created),
                    "lastmodified": local_time(doc.modified),
                    "lastaccessed": local_time(doc.modified),
                    "lastmodifiedinfile": utc_time(doc.modified),
                    "addedtofile": local_time(doc.created),
                    "noteclass": ["DATA", "DOCUMENT"],
                    "unread": unread,
                    "revision": revision(doc),
                    "etag": etag(doc),
                    "size": size(doc),
                    "isEditable": shape.editable,
                }),
            );
        }
        Meta::Flat => {
            out.insert("@unid".into(), json!(doc.unid));
            out.insert("@noteid".into(), json!(doc.note_id));
            out.insert("@created".into(), json!(local_time(doc.created)));
            out.insert("@lastmodified".into(), json!(local_time(doc.modified)));
            out.insert("@lastaccessed".into(), json!(local_time(doc.modified)));
            out.insert("@size".into(), json!(size(doc)));
            out.insert("@unread".into(), json!(unread));
            out.insert("@etag".into(), json!(etag(doc)));
            out.insert("@revision".into(), json!(revision(doc)));
        }
        Meta::Off => {}
    }
    out.insert("Form".into(), json!(form.shown_name()));
    for (name, value) in fields(doc, mode, shape.rich) {
        out.insert(name, value);
    }
    Value::Object(out)
}

/// The mode's readable fields the document has, as `(field name, JSON)`, sorted by name (any
/// case).
fn fields(doc: &Document, mode: &Mode, rich: RichTextAs) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = mode
        .fields
        .iter()
        .filter(|f| f.readable() && !f.name.eq_ignore_ascii_case("Form"))
        .filter_map(|f| {
            let item = doc.get(&f.name)?;
            values::read(item, f, rich).map(|v| (f.name.clone(), v))
        })
        .collect();
    out.sort_by(|a, b| {
        a.0.to_lowercase()
            .cmp(&b.0.to_lowercase())
            .then_with(|| a.0.cmp(&b.0))
    });
    out.dedup_by(|a, b| a.0.eq_ignore_ascii_case(&b.0));
    out
}

/// `@warnings` for a write answer: each configured field the document has no value for
/// ("No values found for item website", HCL's fixture).
pub(crate) fn warnings(doc: &Document, mode: &Mode) -> Vec<String> {
    mode.fields
        .iter()
        .filter(|f| f.readable() && doc.get(&f.name).is_none())
        .map(|f| format!("No values found for item {}", f.name))
        .collect()
}
