//! What the mapping of every module shares: the context ([`MapCtx`]), the cross-ID and privacy
//! names on each side, the field rows ([`FieldMap`]) and how a value is read from and written
//! to each side ([`Conv`]).
//!
//! This layer knows no module: the per-module files build on it, never the other way.

use chrono::{NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde_json::{Value, json};

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

/// What the mapping needs to know about the user.
#[derive(Clone, Copy, Debug)]
pub struct MapCtx {
    /// The user's time zone: dates of to-dos are calendar days there.
    pub tz: Tz,
    /// The current time (a completion stamp written to Notes).
    pub now: Timestamp,
    /// How the Domino API the run speaks writes item values.
    pub notes: NotesDialect,
}

impl Default for MapCtx {
    fn default() -> Self {
        Self {
            tz: Tz::UTC,
            now: Timestamp(0),
            notes: NotesDialect::Das,
        }
    }
}

/// How a Domino API writes item values: the same items, in each API's JSON. Both are read
/// alike (each API's forms are told apart by their shape).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NotesDialect {
    /// Domino Access Services: date-times as `{"type":"datetime","data":"…Z"}`, rich text as
    /// text, a cleared item written empty (`reference/domino-api.md` §1.6).
    #[default]
    Das,
    /// The Domino REST API: date-times as ISO strings, rich text as
    /// `{"type":"text/plain","encoding":"PLAIN","content":…}`, a cleared date or rich text item
    /// removed with `null` (an empty string is no date) (`reference/domino-rest-api.md` §4.5).
    Rest,
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
    /// `{"id":…}` written). [`crm_record`](super::crm_record) writes `{"name": …}`; see
    /// [`crm_account_name`](super::crm_account_name).
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

/// A text field row (for the per-module tables).
pub(super) const fn f(canonical: &'static str, notes: &'static str, crm: &'static str) -> FieldMap {
    FieldMap {
        canonical,
        notes,
        crm,
        conv: Conv::Text,
    }
}

/// A field row with its conversion (for the per-module tables).
pub(super) const fn c(
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

/// A DAS item value → canonical text, by `conv`.
pub(super) fn notes_read(conv: Conv, v: &Value, ctx: &MapCtx) -> String {
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

/// Canonical text (`None`: cleared) → the item value in the run's Domino API, by `conv`.
pub(super) fn notes_write(conv: Conv, v: Option<&str>, ctx: &MapCtx) -> Value {
    match ctx.notes {
        NotesDialect::Das => das_write(conv, v, ctx),
        NotesDialect::Rest => rest_write(conv, v, ctx),
    }
}

/// Canonical text (`None`: cleared) → the DRAPI item value, by `conv`.
fn rest_write(conv: Conv, v: Option<&str>, ctx: &MapCtx) -> Value {
    match (conv, v) {
        (Conv::RichText, Some(text)) => {
            json!({"type": "text/plain", "encoding": "PLAIN", "content": text})
        }
        // Noon in the user's zone: the same calendar day whatever zone reads it back.
        (Conv::Day, Some(day)) => match noon_utc(day, ctx.tz) {
            Some(t) => Value::String(t.to_das()),
            None => Value::Null,
        },
        (Conv::Completed, Some(_)) => Value::String(ctx.now.to_das()),
        (Conv::RichText | Conv::Day | Conv::Completed, None) => Value::Null,
        (Conv::Text | Conv::RequiredInCrm | Conv::AccountName | Conv::Priority, _) => {
            das_write(conv, v, ctx)
        }
    }
}

/// Canonical text (`None`: cleared) → the DAS item value, by `conv`.
fn das_write(conv: Conv, v: Option<&str>, ctx: &MapCtx) -> Value {
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

/// A Zoho field value → canonical text, by `conv`.
pub(super) fn crm_read(conv: Conv, v: &Value, _ctx: &MapCtx) -> String {
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

/// Canonical text (`None`: cleared) → the Zoho field value, by `conv`.
pub(super) fn crm_write(conv: Conv, v: Option<&str>, _ctx: &MapCtx) -> Value {
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

/// An item value (DAS or DRAPI JSON) → text. Multi-value items join with ", "; numbers print
/// as DAS does (integral values without ".0"); rich text yields its text/plain part (DAS
/// multipart) or its content (DRAPI `{type, encoding, content}`, read as plain text); typed
/// date-times (`strongtype`) their data.
pub(super) fn das_text(v: &Value) -> String {
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
            Some(t) if t.starts_with("text/") => o.get("content").map(das_text).unwrap_or_default(),
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
