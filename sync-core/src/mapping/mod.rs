//! Field mapping between Domino JSON (DAS or the Domino REST API: the same items), Zoho CRM JSON
//! and the canonical [`Record`] (`DESIGN.md` §4.4).
//!
//! Each module has one table of [`FieldMap`] rows; both directions read the same table, so a
//! field is either mapped both ways or not at all. Each row names a [`Conv`]: how a value is
//! read from and written to each side. Conversions that depend on time (dates of to-dos, "now"
//! for a completion stamp) take a [`MapCtx`] with the user's time zone.
//!
//! Stated rules for values a side cannot hold:
//! - Zoho requires `Last_Name` (Contacts) and `Subject` (Tasks). A record without one is written
//!   to Zoho with the placeholder [`CRM_PLACEHOLDER`], and that placeholder reads back as empty,
//!   so it never travels back to Notes.
//! - Values longer than a Zoho field allows are not truncated (that would lose Notes data on the
//!   way back): Zoho refuses that record and the report says which field and why.
//!
//! One file a job, imported in one direction only (`values` ← `contacts`, `tasks`, `events` ←
//! this file):
//! - `values`: what every module shares — [`MapCtx`], the cross-ID names, field rows and value
//!   conversions;
//! - `contacts`, `tasks`: each module's field table, label and first-sync key (contacts also
//!   the company as a Zoho Account);
//! - [`events`]: calendar events, mapped as whole objects, and the sync windows;
//! - [`jscal`]: calendar events in the JSCalendar form of the Domino REST API;
//! - this file: the dispatch by [`Module`] that the engine and the planner call.

use serde_json::{Map, Value, json};

use crate::model::{Fields, Module, Record};

mod contacts;
pub mod events;
pub mod jscal;
mod tasks;
mod values;

pub use contacts::{
    CONTACT_FIELDS, CRM_ACCOUNT_FIELD, CRM_ACCOUNTS_MODULE, crm_account_name, set_crm_account_id,
};
pub use tasks::TASK_FIELDS;
pub use values::{
    CRM_PLACEHOLDER, CRM_XREF_FIELD, CRM_XREF_LABEL, Conv, FieldMap, MapCtx, NOTES_PRIVATE_ITEM,
    NOTES_XREF_ITEM, NotesDialect, crm_is_private, crm_xref, day_in_zone, noon_utc,
};
use values::{crm_read, crm_write, das_text, notes_read, notes_write};

/// The field table of `module`.
#[must_use]
pub fn fields_of(module: Module) -> &'static [FieldMap] {
    match module {
        Module::Contacts => CONTACT_FIELDS,
        Module::Tasks => TASK_FIELDS,
        // Events are mapped as whole objects by `events`.
        Module::Events => &[],
    }
}

/// The Notes form of `module`'s documents.
#[must_use]
pub fn notes_form(module: Module) -> &'static str {
    match module {
        Module::Contacts => "Person",
        Module::Tasks => "Task",
        Module::Events => "Appointment",
    }
}

/// Items a new Notes document of `module` gets besides its mapped fields.
#[must_use]
pub fn notes_create_items(module: Module) -> Vec<(&'static str, Value)> {
    match module {
        Module::Contacts => vec![("Type", json!("Person"))],
        Module::Tasks => vec![("TaskType", json!("1"))],
        Module::Events => Vec::new(),
    }
}

/// The Zoho fields to request when listing `module` (`fields` is mandatory and ≤ 50).
#[must_use]
pub fn crm_list_fields(module: Module) -> String {
    if module == Module::Events {
        return events::CRM_EVENT_FIELDS.to_owned();
    }
    let mut names: Vec<&str> = fields_of(module).iter().map(|m| m.crm).collect();
    names.extend([CRM_XREF_FIELD, "Tag", "Modified_Time"]);
    names.join(",")
}

/// Reads a Notes document (DAS `GET …/documents/unid/{unid}`, or DRAPI's JSON of one) into a
/// canonical record.
#[must_use]
pub fn record_from_notes(module: Module, doc: &Value, ctx: &MapCtx) -> Record {
    let mut fields = Fields::default();
    for m in fields_of(module) {
        let v = doc
            .get(m.notes)
            .or_else(|| tasks::fallback_item(m.notes).and_then(|alt| doc.get(alt)));
        if let Some(v) = v {
            fields.set(m.canonical, &notes_read(m.conv, v, ctx));
        }
    }
    // "Mark Private" writes "1"; a schema may type the item as a boolean (DRAPI: true).
    let private = doc
        .get(NOTES_PRIVATE_ITEM)
        .is_some_and(|v| *v == Value::Bool(true) || das_text(v).trim() == "1");
    let xref = doc
        .get(NOTES_XREF_ITEM)
        .map(das_text)
        .filter(|s| !s.trim().is_empty());
    Record {
        fields,
        private,
        xref: xref.map(|s| s.trim().to_owned()),
    }
}

/// The items to write to Notes for `fields`; fields named in `clear` are written empty.
#[must_use]
pub fn notes_items(
    module: Module,
    fields: &Fields,
    clear: &[String],
    xref: Option<&str>,
    ctx: &MapCtx,
) -> Value {
    let mut items = Map::new();
    for m in fields_of(module) {
        match fields.get(m.canonical) {
            Some(v) => {
                items.insert(m.notes.to_owned(), notes_write(m.conv, Some(v), ctx));
            }
            None if clear.iter().any(|c| c == m.canonical) => {
                items.insert(m.notes.to_owned(), notes_write(m.conv, None, ctx));
            }
            None => {}
        }
    }
    if let Some(x) = xref {
        items.insert(NOTES_XREF_ITEM.to_owned(), Value::String(x.to_owned()));
    }
    Value::Object(items)
}

/// Reads a Zoho record (as listed with [`crm_list_fields`]) into a canonical record.
#[must_use]
pub fn record_from_crm(module: Module, rec: &Value, private_tag: &str, ctx: &MapCtx) -> Record {
    let mut fields = Fields::default();
    for m in fields_of(module) {
        if let Some(v) = rec.get(m.crm) {
            fields.set(m.canonical, &crm_read(m.conv, v, ctx));
        }
    }
    Record {
        fields,
        private: crm_is_private(rec, private_tag),
        xref: crm_xref(rec),
    }
}

/// The Zoho JSON for `fields`; fields named in `clear` and absent from `fields` are cleared.
#[must_use]
pub fn crm_record(
    module: Module,
    fields: &Fields,
    clear: &[String],
    xref: Option<&str>,
    ctx: &MapCtx,
) -> Map<String, Value> {
    let mut rec = Map::new();
    for m in fields_of(module) {
        match fields.get(m.canonical) {
            Some(v) => {
                rec.insert(m.crm.to_owned(), crm_write(m.conv, Some(v), ctx));
            }
            None if clear.iter().any(|c| c == m.canonical) => {
                rec.insert(m.crm.to_owned(), crm_write(m.conv, None, ctx));
            }
            None => {}
        }
    }
    if let Some(x) = xref {
        rec.insert(CRM_XREF_FIELD.to_owned(), Value::String(x.to_owned()));
    }
    rec
}

/// The Zoho JSON for a new record: the mapped fields plus placeholders for mandatory fields.
#[must_use]
pub fn crm_new_record(
    module: Module,
    fields: &Fields,
    xref: Option<&str>,
    ctx: &MapCtx,
) -> Map<String, Value> {
    let mut rec = crm_record(module, fields, &[], xref, ctx);
    for m in fields_of(module)
        .iter()
        .filter(|m| m.conv == Conv::RequiredInCrm)
    {
        rec.entry(m.crm.to_owned())
            .or_insert_with(|| Value::String(CRM_PLACEHOLDER.to_owned()));
    }
    rec
}

/// A short human label for the report: "Smith, John <john@example.com>", "Call back (2026-11-25)".
#[must_use]
pub fn label(module: Module, fields: &Fields) -> String {
    match module {
        Module::Contacts => contacts::label(fields),
        Module::Events => events::label(fields),
        Module::Tasks => tasks::label(fields),
    }
}

/// The first-sync match key of a record (contacts: e-mail, case-insensitive; to-dos: subject
/// and due date).
#[must_use]
pub fn match_key(module: Module, fields: &Fields) -> Option<String> {
    match module {
        Module::Contacts => contacts::match_key(fields),
        Module::Events => events::match_key(fields),
        Module::Tasks => tasks::match_key(fields),
    }
}

#[cfg(test)]
mod tests;
