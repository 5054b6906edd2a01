//! Field mapping between Domino DAS JSON, Zoho CRM JSON and the canonical [`Record`]
//! (`DESIGN.md` §4.4).
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
//! Company (`CompanyName` ↔ `Account_Name`, [`Conv::AccountName`]): Notes holds the company as
//! text, Zoho as a lookup to an Account. Read from Zoho, the lookup's `name` is the company.
//! Written to Zoho, the name must become an Account id: the mapping writes the marker
//! `{"name": …}` and the engine swaps it for `{"id": …}` of the Account with exactly that name
//! (found, or created when none exists) before sending. An empty company clears the lookup. For
//! the merge the company is an ordinary text field.

use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use crate::model::{Fields, Module, Record};
use crate::time::Timestamp;

/// The Notes item that holds the Zoho record id (cross-ID, `DESIGN.md` B5).
pub const NOTES_XREF_ITEM: &str = "ZohoCRMId";
/// The Zoho External-ID field that holds the Notes UNID (cross-ID, `DESIGN.md` B5).
pub const CRM_XREF_FIELD: &str = "Notes_UNID";
/// The label the Zoho custom field is created with; Zoho derives `Notes_UNID` from it.
pub const CRM_XREF_LABEL: &str = "Notes UNID";
/// The Notes item that marks a document private ("Mark Private").
pub const NOTES_PRIVATE_ITEM: &str = "OrgConfidential";
/// Written to a mandatory Zoho field when the Notes side has no value; read back as empty.
pub const CRM_PLACEHOLDER: &str = "(none)";
/// The Zoho Contacts lookup to `Accounts` that holds the company.
pub const CRM_ACCOUNT_FIELD: &str = "Account_Name";
/// The Zoho module of companies.
pub const CRM_ACCOUNTS_MODULE: &str = "Accounts";

/// What the mapping needs to know about the user.
#[derive(Clone, Copy, Debug)]
pub struct MapCtx {
    /// The user's time zone: dates of to-dos are calendar days there.
    pub tz: Tz,
    /// The current time (a completion stamp written to Notes).
    pub now: Timestamp,
}

impl Default for MapCtx {
    fn default() -> Self {
        Self {
            tz: Tz::UTC,
            now: Timestamp(0),
        }
    }
}

/// How a field's value is converted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conv {
    /// Text on both sides.
    Text,
    /// Text; mandatory in Zoho, so empty is written as [`CRM_PLACEHOLDER`].
    RequiredInCrm,
    /// Rich text in Notes (its text/plain part is read), text in Zoho.
    RichText,
    /// A calendar day (`YYYY-MM-DD`, in the user's time zone): a Notes date or date-time item,
    /// a Zoho date field.
    Day,
    /// `high` / `normal` / `low`: Notes `Importance` 1/2/3, Zoho `Priority`.
    Priority,
    /// `yes` when completed: Notes `CompletedDateTime` set, Zoho `Status` = `Completed`.
    Completed,
    /// A company name: text in Notes, a Zoho lookup to `Accounts` (`{"name":…,"id":…}` read,
    /// `{"id":…}` written). [`crm_record`] writes `{"name": …}`; see [`crm_account_name`].
    AccountName,
}

/// One mapped field: its canonical name and its names on each side.
#[derive(Clone, Copy, Debug)]
pub struct FieldMap {
    /// Canonical name, used in the base snapshot and the report.
    pub canonical: &'static str,
    /// Notes item name.
    pub notes: &'static str,
    /// Zoho field API name.
    pub crm: &'static str,
    /// How values convert.
    pub conv: Conv,
}

const fn f(canonical: &'static str, notes: &'static str, crm: &'static str) -> FieldMap {
    FieldMap {
        canonical,
        notes,
        crm,
        conv: Conv::Text,
    }
}

const fn c(
    canonical: &'static str,
    notes: &'static str,
    crm: &'static str,
    conv: Conv,
) -> FieldMap {
    FieldMap {
        canonical,
        notes,
        crm,
        conv,
    }
}

/// Contacts: Notes `Person` ↔ Zoho `Contacts`.
pub const CONTACT_FIELDS: &[FieldMap] = &[
    f("first_name", "FirstName", "First_Name"),
    c("last_name", "LastName", "Last_Name", Conv::RequiredInCrm),
    f("email", "MailAddress", "Email"),
    f("office_phone", "OfficePhoneNumber", "Phone"),
    f("mobile", "CellPhoneNumber", "Mobile"),
    f("home_phone", "PhoneNumber", "Home_Phone"),
    f("job_title", "JobTitle", "Title"),
    f("department", "Department", "Department"),
    c(
        "company",
        "CompanyName",
        CRM_ACCOUNT_FIELD,
        Conv::AccountName,
    ),
    f("street", "OfficeStreetAddress", "Mailing_Street"),
    f("city", "OfficeCity", "Mailing_City"),
    f("state", "OfficeState", "Mailing_State"),
    f("zip", "OfficeZip", "Mailing_Zip"),
    f("country", "OfficeCountry", "Mailing_Country"),
];

/// To-dos: Notes `Task` ↔ Zoho `Tasks`.
pub const TASK_FIELDS: &[FieldMap] = &[
    c("subject", "Subject", "Subject", Conv::RequiredInCrm),
    c("description", "Body", "Description", Conv::RichText),
    c("due_date", "DueDateTime", "Due_Date", Conv::Day),
    c("priority", "Importance", "Priority", Conv::Priority),
    c("completed", "CompletedDateTime", "Status", Conv::Completed),
];

/// The field table of `module`.
#[must_use]
pub fn fields_of(module: Module) -> &'static [FieldMap] {
    match module {
        Module::Contacts => CONTACT_FIELDS,
        Module::Tasks => TASK_FIELDS,
        // Events are mapped as whole objects by `crate::calendar`.
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
        return crate::calendar::CRM_EVENT_FIELDS.to_owned();
    }
    let mut names: Vec<&str> = fields_of(module).iter().map(|m| m.crm).collect();
    names.extend([CRM_XREF_FIELD, "Tag", "Modified_Time"]);
    names.join(",")
}

/// Reads a DAS document (`GET …/documents/unid/{unid}`) into a canonical record.
#[must_use]
pub fn record_from_notes(module: Module, doc: &Value, ctx: &MapCtx) -> Record {
    let mut fields = Fields::default();
    for m in fields_of(module) {
        let v = doc
            .get(m.notes)
            .or_else(|| fallback_item(m.notes).and_then(|alt| doc.get(alt)));
        if let Some(v) = v {
            fields.set(m.canonical, &notes_read(m.conv, v, ctx));
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

/// Another item that holds the same value when the first is absent.
fn fallback_item(item: &str) -> Option<&'static str> {
    match item {
        "DueDateTime" => Some("DueDate"),
        _ => None,
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

/// Whether a Zoho record carries the private tag (case-insensitive).
#[must_use]
pub fn crm_is_private(rec: &Value, private_tag: &str) -> bool {
    rec.get("Tag")
        .and_then(Value::as_array)
        .is_some_and(|tags| {
            tags.iter().any(|t| {
                t.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(private_tag))
            })
        })
}

/// The Notes UNID a Zoho record carries in its cross-ID field, if any.
#[must_use]
pub fn crm_xref(rec: &Value) -> Option<String> {
    rec.get(CRM_XREF_FIELD)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
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

fn notes_read(conv: Conv, v: &Value, ctx: &MapCtx) -> String {
    let text = das_text(v);
    match conv {
        Conv::Text | Conv::RequiredInCrm | Conv::RichText | Conv::AccountName => text,
        Conv::Day => day_in_zone(&text, ctx.tz).unwrap_or_default(),
        Conv::Priority => match text.trim() {
            "1" => "high".into(),
            "2" => "normal".into(),
            "3" => "low".into(),
            _ => String::new(),
        },
        Conv::Completed => {
            if text.trim().is_empty() {
                String::new()
            } else {
                "yes".into()
            }
        }
    }
}

fn notes_write(conv: Conv, v: Option<&str>, ctx: &MapCtx) -> Value {
    match (conv, v) {
        (Conv::Text | Conv::RequiredInCrm | Conv::RichText | Conv::AccountName, v) => {
            Value::String(v.unwrap_or_default().to_owned())
        }
        // Noon in the user's zone: the same calendar day whatever zone reads it back.
        (Conv::Day, Some(day)) => match noon_utc(day, ctx.tz) {
            Some(t) => json!({"type": "datetime", "data": t.to_das()}),
            None => Value::String(String::new()),
        },
        (Conv::Priority, Some(p)) => Value::String(
            match p {
                "high" => "1",
                "low" => "3",
                _ => "2",
            }
            .into(),
        ),
        (Conv::Completed, Some(_)) => json!({"type": "datetime", "data": ctx.now.to_das()}),
        (Conv::Day | Conv::Priority | Conv::Completed, None) => Value::String(String::new()),
    }
}

fn crm_read(conv: Conv, v: &Value, _ctx: &MapCtx) -> String {
    let text = crm_text(v);
    match conv {
        // A lookup reads as its `name` (see `crm_text`).
        Conv::Text | Conv::RichText | Conv::Day | Conv::AccountName => text,
        Conv::RequiredInCrm if text.trim() == CRM_PLACEHOLDER => String::new(),
        Conv::RequiredInCrm => text,
        Conv::Priority => match text.trim().to_ascii_lowercase().as_str() {
            "highest" | "high" => "high".into(),
            "normal" => "normal".into(),
            "low" | "lowest" => "low".into(),
            _ => String::new(),
        },
        Conv::Completed => {
            if text.trim().eq_ignore_ascii_case("completed") {
                "yes".into()
            } else {
                String::new()
            }
        }
    }
}

fn crm_write(conv: Conv, v: Option<&str>, _ctx: &MapCtx) -> Value {
    match (conv, v) {
        (Conv::Text | Conv::RichText | Conv::Day, Some(v)) => Value::String(v.to_owned()),
        (Conv::Text | Conv::RichText | Conv::Day | Conv::Priority | Conv::AccountName, None) => {
            Value::Null
        }
        // The marker the engine replaces with the Account's id.
        (Conv::AccountName, Some(name)) => json!({ "name": name }),
        (Conv::RequiredInCrm, v) => Value::String(v.unwrap_or(CRM_PLACEHOLDER).to_owned()),
        (Conv::Priority, Some(p)) => Value::String(
            match p {
                "high" => "High",
                "low" => "Low",
                _ => "Normal",
            }
            .into(),
        ),
        (Conv::Completed, Some(_)) => Value::String("Completed".into()),
        (Conv::Completed, None) => Value::String("Not Started".into()),
    }
}

/// The company a Zoho JSON record from [`crm_record`] / [`crm_new_record`] names in its
/// `Account_Name` marker (`{"name": …}` without an id), if any.
#[must_use]
pub fn crm_account_name(rec: &Map<String, Value>) -> Option<&str> {
    let o = rec.get(CRM_ACCOUNT_FIELD)?.as_object()?;
    if o.contains_key("id") {
        return None;
    }
    o.get("name").and_then(Value::as_str)
}

/// Replaces the `Account_Name` marker of `rec` with the lookup `{"id": id}`.
pub fn set_crm_account_id(rec: &mut Map<String, Value>, id: &str) {
    rec.insert(CRM_ACCOUNT_FIELD.to_owned(), json!({ "id": id }));
}

/// The calendar day, in `tz`, of a DAS date (`2026-11-25`) or date-time (`…Z`) value.
#[must_use]
pub fn day_in_zone(value: &str, tz: Tz) -> Option<String> {
    let v = value.trim();
    if v.len() == 10 {
        return NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .ok()
            .map(|d| d.to_string());
    }
    let t = Timestamp::parse_iso(v)?;
    let utc = chrono::DateTime::from_timestamp_millis(t.0)?;
    Some(utc.with_timezone(&tz).date_naive().to_string())
}

/// 12:00 on `day` in `tz`, as an instant.
#[must_use]
pub fn noon_utc(day: &str, tz: Tz) -> Option<Timestamp> {
    let d = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok()?;
    let local = d.and_time(NaiveTime::from_hms_opt(12, 0, 0)?);
    let t = tz.from_local_datetime(&local).earliest()?;
    Some(Timestamp(t.timestamp_millis()))
}

/// A short human label for the report: "Smith, John <john@example.com>", "Call back (2026-11-25)".
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
        Module::Events => crate::calendar::label(fields),
        Module::Tasks => {
            let subject = fields.get("subject").unwrap_or("(no subject)");
            match fields.get("due_date") {
                Some(d) => format!("{subject} ({d})"),
                None => subject.to_owned(),
            }
        }
    }
}

/// The first-sync match key of a record (contacts: e-mail, case-insensitive; to-dos: subject
/// and due date).
#[must_use]
pub fn match_key(module: Module, fields: &Fields) -> Option<String> {
    match module {
        Module::Contacts => fields.get("email").map(str::to_lowercase),
        Module::Events => crate::calendar::match_key(fields),
        Module::Tasks => {
            let subject = fields.get("subject")?.to_lowercase();
            Some(format!(
                "{subject}\u{1f}{}",
                fields.get("due_date").unwrap_or_default()
            ))
        }
    }
}

/// DAS item value → text. Multi-value items join with ", "; numbers print as DAS does
/// (integral values without ".0"); rich text yields its text/plain part; typed date-times
/// (`strongtype`) their data.
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
            Some("richtext") => o.get("data").map(das_text).unwrap_or_default(),
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

    fn ctx() -> MapCtx {
        MapCtx {
            tz: "Asia/Tokyo".parse().unwrap(),
            now: Timestamp::parse_iso("2026-11-25T03:00:00Z").unwrap(),
        }
    }

    #[test]
    fn notes_person_maps_to_canonical_and_back() {
        let doc = json!({"@unid":"AB","@form":"Person","FirstName":"John","LastName":"Smith",
            "MailAddress":"john@example.com","OfficePhoneNumber":"+1 555 0100",
            "CellPhoneNumber":["+1 555 0101"],"ZohoCRMId":"5725767000000412001","Categories":["VIP"]});
        let r = record_from_notes(Module::Contacts, &doc, &ctx());
        assert_eq!(r.fields.get("first_name"), Some("John"));
        assert_eq!(r.fields.get("mobile"), Some("+1 555 0101"));
        assert_eq!(r.xref.as_deref(), Some("5725767000000412001"));
        assert!(!r.private);
        let items = notes_items(
            Module::Contacts,
            &r.fields,
            &["city".into()],
            Some("Z1"),
            &ctx(),
        );
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
            &ctx(),
        );
        assert!(r.private);
        let r = record_from_notes(
            Module::Contacts,
            &json!({"LastName":"X","OrgConfidential":""}),
            &ctx(),
        );
        assert!(!r.private);
    }

    #[test]
    fn zoho_contact_maps_to_canonical_and_back() {
        let rec = json!({"id":"1","First_Name":"Aiko","Last_Name":"Tanaka","Email":null,
            "Phone":"03-1234-5678","Notes_UNID":"ABC","Tag":[{"name":"private","id":"9"}]});
        let r = record_from_crm(Module::Contacts, &rec, "Private", &ctx());
        assert_eq!(r.fields.get("office_phone"), Some("03-1234-5678"));
        assert_eq!(r.fields.get("email"), None);
        assert!(r.private);
        assert_eq!(r.xref.as_deref(), Some("ABC"));
        let out = crm_record(Module::Contacts, &r.fields, &["email".into()], None, &ctx());
        assert_eq!(out["Last_Name"], "Tanaka");
        assert_eq!(out["Email"], Value::Null);
        assert!(!out.contains_key("Notes_UNID"));
    }

    #[test]
    fn company_is_text_in_notes_and_an_account_lookup_in_zoho() {
        let c = ctx();
        let doc = json!({"LastName": "Smith", "CompanyName": " Acme Corp "});
        let r = record_from_notes(Module::Contacts, &doc, &c);
        assert_eq!(r.fields.get("company"), Some("Acme Corp"));
        // Written to Zoho as a name marker the engine resolves to an Account id.
        let mut out = crm_new_record(Module::Contacts, &r.fields, None, &c);
        assert_eq!(out["Account_Name"], json!({"name": "Acme Corp"}));
        assert_eq!(crm_account_name(&out), Some("Acme Corp"));
        set_crm_account_id(&mut out, "77");
        assert_eq!(out["Account_Name"], json!({"id": "77"}));
        assert_eq!(crm_account_name(&out), None, "resolved: no marker left");
        // Read from Zoho, the lookup's name is the company; a cleared lookup is no company.
        let rec = json!({"Last_Name": "Smith", "Account_Name": {"name": "Acme Corp", "id": "77"}});
        assert_eq!(
            record_from_crm(Module::Contacts, &rec, "Private", &c).fields,
            r.fields
        );
        let rec = json!({"Last_Name": "Smith", "Account_Name": null});
        assert_eq!(
            record_from_crm(Module::Contacts, &rec, "Private", &c)
                .fields
                .get("company"),
            None
        );
        // Clearing: null in Zoho, an empty item in Notes.
        let cleared = crm_record(
            Module::Contacts,
            &Fields::default(),
            &["company".into()],
            None,
            &c,
        );
        assert_eq!(cleared["Account_Name"], Value::Null);
        assert_eq!(crm_account_name(&cleared), None);
        let items = notes_items(
            Module::Contacts,
            &Fields::default(),
            &["company".into()],
            None,
            &c,
        );
        assert_eq!(items["CompanyName"], "");
        assert!(crm_list_fields(Module::Contacts).contains("Account_Name"));
    }

    #[test]
    fn missing_mandatory_last_name_uses_a_placeholder_that_reads_back_empty() {
        let mut f = Fields::default();
        f.set("email", "x@y.z");
        let rec = crm_new_record(Module::Contacts, &f, None, &ctx());
        assert_eq!(rec["Last_Name"], CRM_PLACEHOLDER);
        let back = record_from_crm(Module::Contacts, &Value::Object(rec), "Private", &ctx());
        assert_eq!(back.fields, f);
    }

    #[test]
    fn task_days_priorities_and_completion_convert_both_ways() {
        let c = ctx();
        // 2026-11-25T20:00Z is already the 26th in Tokyo.
        let doc = json!({"Subject":"Call back","Body":{"type":"multipart","content":[
            {"contentType":"text/plain; charset=\"UTF-8\"","data":"Ask about the order"}]},
            "DueDateTime":"2026-11-25T20:00:00Z","Importance":"1","CompletedDateTime":"2026-11-20T01:00:00Z"});
        let r = record_from_notes(Module::Tasks, &doc, &c);
        assert_eq!(r.fields.get("due_date"), Some("2026-11-26"));
        assert_eq!(r.fields.get("description"), Some("Ask about the order"));
        assert_eq!(r.fields.get("priority"), Some("high"));
        assert_eq!(r.fields.get("completed"), Some("yes"));
        let z = crm_record(Module::Tasks, &r.fields, &[], None, &c);
        assert_eq!(z["Due_Date"], "2026-11-26");
        assert_eq!(z["Priority"], "High");
        assert_eq!(z["Status"], "Completed");
        let back = record_from_crm(Module::Tasks, &Value::Object(z), "Private", &c);
        assert_eq!(back.fields, r.fields);
        let items = notes_items(Module::Tasks, &r.fields, &[], None, &c);
        assert_eq!(
            items["DueDateTime"]["data"], "2026-11-26T03:00:00Z",
            "noon in Tokyo"
        );
        assert_eq!(
            day_in_zone("2026-11-26T03:00:00Z", c.tz).as_deref(),
            Some("2026-11-26")
        );
        let cleared = crm_record(
            Module::Tasks,
            &Fields::default(),
            &["completed".into(), "priority".into()],
            None,
            &c,
        );
        assert_eq!(cleared["Status"], "Not Started");
        assert_eq!(cleared["Priority"], Value::Null);
    }

    #[test]
    fn zoho_priority_and_status_variants() {
        let r = record_from_crm(
            Module::Tasks,
            &json!({"Subject":"S","Priority":"Highest","Status":"In Progress"}),
            "Private",
            &ctx(),
        );
        assert_eq!(r.fields.get("priority"), Some("high"));
        assert_eq!(r.fields.get("completed"), None);
        let r = record_from_crm(
            Module::Tasks,
            &json!({"Subject":"S","Priority":"Lowest","Status":"Completed","Due_Date":null}),
            "Private",
            &ctx(),
        );
        assert_eq!(r.fields.get("priority"), Some("low"));
        assert_eq!(r.fields.get("completed"), Some("yes"));
    }

    #[test]
    fn task_date_only_items_and_fallback_item() {
        let r = record_from_notes(
            Module::Tasks,
            &json!({"Subject":"S","DueDate":"2026-12-01"}),
            &ctx(),
        );
        assert_eq!(r.fields.get("due_date"), Some("2026-12-01"));
        assert_eq!(
            match_key(Module::Tasks, &r.fields),
            Some("s\u{1f}2026-12-01".into())
        );
    }

    #[test]
    fn list_fields_stay_within_zoho_limit() {
        for m in Module::ALL {
            assert!(crm_list_fields(m).split(',').count() <= 50);
        }
    }
}
