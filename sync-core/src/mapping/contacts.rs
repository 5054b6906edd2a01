//! Contacts: Notes `Person` ↔ Zoho `Contacts` — the field table, the company as a Zoho
//! Account, and a contact's label and first-sync key.
//!
//! Company (`CompanyName` ↔ `Account_Name`, [`Conv::AccountName`]): Notes holds the company as
//! text, Zoho as a lookup to an Account. Read from Zoho, the lookup's `name` is the company.
//! Written to Zoho, the name must become an Account id: the mapping writes the marker
//! `{"name": …}` and the engine swaps it for `{"id": …}` of the Account with exactly that name
//! (found, or created when none exists) before sending. An empty company clears the lookup. For
//! the merge the company is an ordinary text field.

use serde_json::{Map, Value, json};

use super::values::{Conv, FieldMap, c, f};
use crate::model::Fields;

/// The Zoho Contacts lookup to `Accounts` that holds the company.
pub const CRM_ACCOUNT_FIELD: &str = "Account_Name";
/// The Zoho module of companies.
pub const CRM_ACCOUNTS_MODULE: &str = "Accounts";

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

/// The company a Zoho JSON record from [`crm_record`](super::crm_record) /
/// [`crm_new_record`](super::crm_new_record) names in its `Account_Name` marker
/// (`{"name": …}` without an id), if any.
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

/// "Smith, John <john@example.com>".
pub(super) fn label(fields: &Fields) -> String {
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

/// First-sync key: the e-mail address, case-insensitive.
pub(super) fn match_key(fields: &Fields) -> Option<String> {
    fields.get("email").map(str::to_lowercase)
}
