//! Field mapping between Domino DAS JSON, Zoho CRM JSON and the canonical [`Record`]
//! (`DESIGN.md` §4.4).
//!
//! Each module has one table of [`FieldMap`] rows; both directions read the same table, so a
//! field is either mapped both ways or not at all.

use serde_json::{Map, Value};

use crate::model::{Fields, Module, Record};

/// The Notes item that holds the Zoho record id (cross-ID, `DESIGN.md` B5).
pub const NOTES_XREF_ITEM: &str = "ZohoCRMId";
/// The Zoho External-ID field that holds the Notes UNID (cross-ID, `DESIGN.md` B5).
pub const CRM_XREF_FIELD: &str = "Notes_UNID";
/// The label the Zoho custom field is created with; Zoho derives `Notes_UNID` from it.
pub const CRM_XREF_LABEL: &str = "Notes UNID";
/// The Notes item that marks a document private ("Mark Private").
pub const NOTES_PRIVATE_ITEM: &str = "OrgConfidential";

/// One mapped field: its canonical name and its names on each side.
#[derive(Clone, Copy, Debug)]
pub struct FieldMap {
    /// Canonical name, used in the base snapshot and the report.
    pub canonical: &'static str,
    /// Notes item name.
    pub notes: &'static str,
    /// Zoho field API name.
    pub crm: &'static str,
}

const fn f(canonical: &'static str, notes: &'static str, crm: &'static str) -> FieldMap {
    FieldMap {
        canonical,
        notes,
        crm,
    }
}

/// Contacts: Notes `Person` ↔ Zoho `Contacts`.
pub const CONTACT_FIELDS: &[FieldMap] = &[
    f("first_name", "FirstName", "First_Name"),
    f("last_name", "LastName", "Last_Name"),
    f("email", "MailAddress", "Email"),
    f("office_phone", "OfficePhoneNumber", "Phone"),
    f("mobile", "CellPhoneNumber", "Mobile"),
    f("home_phone", "PhoneNumber", "Home_Phone"),
    f("job_title", "JobTitle", "Title"),
    f("department", "Department", "Department"),
    f("street", "OfficeStreetAddress", "Mailing_Street"),
    f("city", "OfficeCity", "Mailing_City"),
    f("state", "OfficeState", "Mailing_State"),
    f("zip", "OfficeZip", "Mailing_Zip"),
    f("country", "OfficeCountry", "Mailing_Country"),
];

/// The field table of `module`.
#[must_use]
pub fn fields_of(module: Module) -> &'static [FieldMap] {
    match module {
        Module::Contacts => CONTACT_FIELDS,
    }
}

/// The Notes form of `module`'s documents.
#[must_use]
pub fn notes_form(module: Module) -> &'static str {
    match module {
        Module::Contacts => "Person",
    }
}

/// The Zoho fields to request when listing `module` (`fields` is mandatory and ≤ 50).
#[must_use]
pub fn crm_list_fields(module: Module) -> String {
    let mut names: Vec<&str> = fields_of(module).iter().map(|m| m.crm).collect();
    names.extend([CRM_XREF_FIELD, "Tag", "Modified_Time"]);
    names.join(",")
}

/// Reads a DAS document (`GET …/documents/unid/{unid}`) into a canonical record.
#[must_use]
pub fn record_from_notes(module: Module, doc: &Value) -> Record {
    let mut fields = Fields::default();
    for m in fields_of(module) {
        if let Some(v) = doc.get(m.notes) {
            fields.set(m.canonical, &das_text(v));
        }
    }
    let private = doc
        .get(NOTES_PRIVATE_ITEM)
        .map(das_text)
        .is_some_and(|v| v.trim() == "1");
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

/// The items to write to Notes for `fields`; fields absent from `fields` but named in `clear`
/// are written as empty text so a PATCH clears them.
#[must_use]
pub fn notes_items(module: Module, fields: &Fields, clear: &[String], xref: Option<&str>) -> Value {
    let mut items = Map::new();
    for m in fields_of(module) {
        match fields.get(m.canonical) {
            Some(v) => {
                items.insert(m.notes.to_owned(), Value::String(v.to_owned()));
            }
            None if clear.iter().any(|c| c == m.canonical) => {
                items.insert(m.notes.to_owned(), Value::String(String::new()));
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
pub fn record_from_crm(module: Module, rec: &Value, private_tag: &str) -> Record {
    let mut fields = Fields::default();
    for m in fields_of(module) {
        if let Some(v) = rec.get(m.crm) {
            fields.set(m.canonical, &crm_text(v));
        }
    }
    let private = rec
        .get("Tag")
        .and_then(Value::as_array)
        .is_some_and(|tags| {
            tags.iter().any(|t| {
                t.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(private_tag))
            })
        });
    let xref = rec
        .get(CRM_XREF_FIELD)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    Record {
        fields,
        private,
        xref,
    }
}

/// The Zoho JSON for `fields`; fields named in `clear` and absent from `fields` become `null`.
#[must_use]
pub fn crm_record(
    module: Module,
    fields: &Fields,
    clear: &[String],
    xref: Option<&str>,
) -> Map<String, Value> {
    let mut rec = Map::new();
    for m in fields_of(module) {
        match fields.get(m.canonical) {
            Some(v) => {
                rec.insert(m.crm.to_owned(), Value::String(v.to_owned()));
            }
            None if clear.iter().any(|c| c == m.canonical) => {
                rec.insert(m.crm.to_owned(), Value::Null);
            }
            None => {}
        }
    }
    if let Some(x) = xref {
        rec.insert(CRM_XREF_FIELD.to_owned(), Value::String(x.to_owned()));
    }
    rec
}

/// A short human label for the report: "Smith, John <john@example.com>".
#[must_use]
pub fn label(module: Module, fields: &Fields) -> String {
    match module {
        Module::Contacts => {
            let name = match (fields.get("last_name"), fields.get("first_name")) {
                (Some(l), Some(f)) => format!("{l}, {f}"),
                (Some(n), None) | (None, Some(n)) => n.to_owned(),
                (None, None) => "(no name)".to_owned(),
            };
            match fields.get("email") {
                Some(e) => format!("{name} <{e}>"),
                None => name,
            }
        }
    }
}

/// The first-sync match key of a record (contacts: e-mail, case-insensitive).
#[must_use]
pub fn match_key(module: Module, fields: &Fields) -> Option<String> {
    match module {
        Module::Contacts => fields.get("email").map(str::to_lowercase),
    }
}

/// DAS item value → text. Multi-value items join with ", "; numbers print as DAS does
/// (integral values without ".0"); rich text yields its text/plain part.
fn das_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
            _ => n.to_string(),
        },
        Value::Array(items) => items
            .iter()
            .map(das_text)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(o) => match o.get("type").and_then(Value::as_str) {
            Some("datetime") => o.get("data").map(das_text).unwrap_or_default(),
            Some("multipart") => o
                .get("content")
                .and_then(Value::as_array)
                .and_then(|parts| {
                    parts.iter().find(|p| {
                        p.get("contentType")
                            .and_then(Value::as_str)
                            .is_some_and(|c| c.starts_with("text/plain"))
                    })
                })
                .and_then(|p| p.get("data"))
                .map(das_text)
                .unwrap_or_default(),
            _ => String::new(),
        },
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
    }
}

/// Zoho field value → text (lookups give their name).
fn crm_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Object(o) => o.get("name").map(crm_text).unwrap_or_default(),
        Value::Array(items) => items.iter().map(crm_text).collect::<Vec<_>>().join(", "),
        Value::Null => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn notes_person_maps_to_canonical_and_back() {
        let doc = json!({"@unid":"AB","@form":"Person","FirstName":"John","LastName":"Smith",
            "MailAddress":"john@example.com","OfficePhoneNumber":"+1 555 0100",
            "CellPhoneNumber":["+1 555 0101"],"ZohoCRMId":"5725767000000412001","Categories":["VIP"]});
        let r = record_from_notes(Module::Contacts, &doc);
        assert_eq!(r.fields.get("first_name"), Some("John"));
        assert_eq!(r.fields.get("mobile"), Some("+1 555 0101"));
        assert_eq!(r.xref.as_deref(), Some("5725767000000412001"));
        assert!(!r.private);
        let items = notes_items(Module::Contacts, &r.fields, &["city".into()], Some("Z1"));
        assert_eq!(items["LastName"], "Smith");
        assert_eq!(items["OfficeCity"], "");
        assert_eq!(items["ZohoCRMId"], "Z1");
        assert!(items.get("Categories").is_none());
    }

    #[test]
    fn notes_private_flag_is_org_confidential_one() {
        let r = record_from_notes(
            Module::Contacts,
            &json!({"LastName":"X","OrgConfidential":"1"}),
        );
        assert!(r.private);
        let r = record_from_notes(
            Module::Contacts,
            &json!({"LastName":"X","OrgConfidential":""}),
        );
        assert!(!r.private);
    }

    #[test]
    fn zoho_contact_maps_to_canonical_and_back() {
        let rec = json!({"id":"1","First_Name":"Aiko","Last_Name":"Tanaka","Email":null,
            "Phone":"03-1234-5678","Notes_UNID":"ABC","Tag":[{"name":"private","id":"9"}]});
        let r = record_from_crm(Module::Contacts, &rec, "Private");
        assert_eq!(r.fields.get("office_phone"), Some("03-1234-5678"));
        assert_eq!(r.fields.get("email"), None);
        assert!(r.private);
        assert_eq!(r.xref.as_deref(), Some("ABC"));
        let out = crm_record(Module::Contacts, &r.fields, &["email".into()], None);
        assert_eq!(out["Last_Name"], "Tanaka");
        assert_eq!(out["Email"], Value::Null);
        assert!(!out.contains_key("Notes_UNID"));
    }

    #[test]
    fn list_fields_stay_within_zoho_limit() {
        assert!(crm_list_fields(Module::Contacts).split(',').count() <= 50);
    }
}
