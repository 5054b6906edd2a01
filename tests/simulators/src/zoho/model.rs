//! The Zoho CRM org's data: users, OAuth clients and tokens, modules with field metadata,
//! records, deleted records and tags.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::store::Records;

/// First record id; ids grow by one.
pub(crate) const FIRST_RECORD_ID: u64 = 5_725_767_000_000_412_001;
/// First id of custom fields and tags created at run time.
pub(crate) const FIRST_META_ID: u64 = 5_725_767_000_000_150_001;
pub(crate) const ORG_ID: &str = "5725767000000000123";
/// Id of the first user added at run time (`ZohoState::add_user`); the next ones follow. Far
/// above the record ids a million records reach.
pub(crate) const FIRST_ADDED_USER_ID: u64 = 5_725_767_000_002_000_000;

#[derive(Clone, Debug)]
pub(crate) struct User {
    pub id: String,
    pub zuid: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub time_zone: Tz,
    pub admin: bool,
    pub role: (&'static str, &'static str),
    pub profile: (&'static str, &'static str),
    pub created: DateTime<Utc>,
}

impl User {
    pub(crate) fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// `{name, id, email}` as in `Owner`, `Created_By`, `Modified_By`.
    pub(crate) fn minified(&self) -> Value {
        json!({ "name": self.full_name(), "id": self.id, "email": self.email })
    }

    /// `{name, id}` as in write results.
    pub(crate) fn name_id(&self) -> Value {
        json!({ "name": self.full_name(), "id": self.id })
    }
}

/// A timestamp in a user's zone, second precision: `2026-11-25T17:36:00+09:00`.
pub(crate) fn fmt_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// Parse an ISO 8601 timestamp with offset (or `Z`), or an HTTP date; truncated to seconds.
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_rfc2822(s))
        .ok()
        .and_then(|t| DateTime::from_timestamp(t.timestamp(), 0))
}

#[derive(Clone, Debug)]
pub(crate) struct AccessToken {
    pub user_id: String,
    pub expires: DateTime<Utc>,
    /// The scopes granted, space-separated (those of its refresh token).
    pub scope: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct External {
    #[serde(rename = "type")]
    pub kind: String,
    pub show: bool,
}

/// Field metadata (the part the simulator uses; `/settings/fields` renders the full shape).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct FieldDef {
    pub api_name: String,
    pub field_label: String,
    pub data_type: String,
    #[serde(default)]
    pub length: u32,
    #[serde(default)]
    pub system_mandatory: bool,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub custom_field: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<External>,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup_module: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pick_list: Vec<String>,
}

impl FieldDef {
    pub(crate) fn json_type(&self) -> &'static str {
        if self.api_name == "Tag" {
            return "jsonarray";
        }
        match self.data_type.as_str() {
            "lookup" | "ownerlookup" | "event_reminder" | "RRULE" => "jsonobject",
            "boolean" => "boolean",
            "integer" => "integer",
            "double" | "currency" | "percent" => "double",
            "multiselectpicklist" | "multiselectlookup" => "jsonarray",
            _ => "string",
        }
    }

    /// Unique for duplicate checks: marked unique, or an external org field.
    pub(crate) fn is_unique(&self) -> bool {
        self.unique || self.external.as_ref().is_some_and(|e| e.kind == "org")
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct TagDef {
    pub id: String,
    pub name: String,
    /// When and by whom the tag was created (unknown for tags of older dumps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Record {
    pub id: u64,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    pub created_by: String,
    pub modified_by: String,
    pub owner: String,
    /// Writable fields, normalized: text as strings, dates `yyyy-MM-dd`, datetimes UTC
    /// RFC 3339, lookups `{"id":…}`.
    pub values: Map<String, Value>,
    pub tags: Vec<String>,
}

impl Record {
    pub(crate) fn text(&self, field: &str) -> String {
        self.values
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct DeletedRecord {
    pub id: String,
    pub display_name: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub deleted_time: DateTime<Utc>,
    pub deleted_by: Option<String>,
    pub created_by: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Module {
    pub api_name: &'static str,
    pub id: &'static str,
    pub fields: Vec<FieldDef>,
    /// The records, indexed (see `store`).
    pub records: Records,
    pub deleted: Vec<DeletedRecord>,
    pub tags: Vec<TagDef>,
    /// Custom views users made (the system views are not stored: see `views.rs`).
    pub views: Vec<super::views::CustomView>,
}

impl Module {
    pub(crate) fn field(&self, api_name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.api_name == api_name)
    }

    pub(crate) fn record(&self, id: u64) -> Option<&Record> {
        self.records.get(id)
    }

    /// The name shown for a record (lookups, deleted list).
    pub(crate) fn display_name(&self, r: &Record) -> String {
        match self.api_name {
            "Contacts" => full_name(r),
            "Tasks" => r.text("Subject"),
            "Accounts" => r.text("Account_Name"),
            "Events" => r.text("Event_Title"),
            _ => r.text("Name"),
        }
    }
}

pub(crate) fn full_name(r: &Record) -> String {
    let first = r.text("First_Name");
    let last = r.text("Last_Name");
    if first.is_empty() {
        last
    } else {
        format!("{first} {last}")
    }
}

/// An issued page token: a cursor bound to the user and the request parameters.
#[derive(Clone, Debug)]
pub(crate) struct PageToken {
    pub user_id: String,
    pub module: &'static str,
    pub binding: String,
    /// Continue after this (sort key, id) (`None`: from the start).
    pub after: Option<(i64, u64)>,
    pub page: u64,
    /// Records served before this page.
    pub offset: u64,
    pub previous: Option<String>,
    pub expires: DateTime<Utc>,
}

#[derive(Debug)]
pub(crate) struct ZohoData {
    pub users: Vec<User>,
    pub client_id: String,
    pub client_secret: String,
    /// refresh token → user id.
    pub refresh_tokens: Vec<(String, String)>,
    /// Scopes granted to refresh tokens that do not have all of [`super::oauth::SCOPE`].
    pub refresh_scopes: std::collections::HashMap<String, String>,
    pub access_tokens: HashMap<String, AccessToken>,
    /// refresh token → issue times in the last 10 minutes.
    pub issued: HashMap<String, VecDeque<DateTime<Utc>>>,
    pub token_lifetime_secs: i64,
    pub modules: Vec<Module>,
    pub next_id: u64,
    pub next_meta_id: u64,
    pub page_tokens: HashMap<String, PageToken>,
    pub org_created: DateTime<Utc>,
    /// Paid user licences of the org.
    pub licences: u32,
    /// Search's index lag (zoho-crm-api.md §2.2): records created or changed less than this
    /// many seconds ago are not found by `/search` yet. 0 by default.
    pub search_index_delay_secs: i64,
    /// How far a `page_token` listing pages (reference §1.2: 100,000); tests lower it.
    pub page_token_records: u64,
}

impl ZohoData {
    pub(crate) fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub(crate) fn module_index(&self, name: &str) -> Option<usize> {
        self.modules
            .iter()
            .position(|m| m.api_name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn module(&self, name: &str) -> Option<&Module> {
        self.module_index(name).map(|i| &self.modules[i])
    }

    pub(crate) fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub(crate) fn new_meta_id(&mut self) -> String {
        let id = self.next_meta_id;
        self.next_meta_id += 1;
        id.to_string()
    }

    /// The user minified, or a placeholder for ids that are not users.
    pub(crate) fn user_json(&self, id: &str) -> Value {
        self.user(id)
            .map_or_else(|| json!({ "name": null, "id": id }), User::minified)
    }
}

fn field(api_name: &str, label: &str, data_type: &str, length: u32, id: u64) -> FieldDef {
    FieldDef {
        api_name: api_name.into(),
        field_label: label.into(),
        data_type: data_type.into(),
        length,
        system_mandatory: false,
        read_only: false,
        custom_field: false,
        unique: false,
        external: None,
        id: id.to_string(),
        lookup_module: None,
        pick_list: Vec::new(),
    }
}

/// Builder for the standard field lists.
struct Fields {
    next: u64,
    list: Vec<FieldDef>,
}

impl Fields {
    fn new(first_id: u64) -> Fields {
        Fields {
            next: first_id,
            list: Vec::new(),
        }
    }

    fn add(&mut self, api_name: &str, label: &str, data_type: &str, length: u32) -> &mut FieldDef {
        self.list
            .push(field(api_name, label, data_type, length, self.next));
        self.next += 1;
        let last = self.list.len() - 1;
        &mut self.list[last]
    }

    fn text(&mut self, api_name: &str, label: &str, length: u32) -> &mut FieldDef {
        self.add(api_name, label, "text", length)
    }

    fn system(&mut self) {
        self.add("Created_By", "Created By", "ownerlookup", 120)
            .read_only = true;
        self.add("Created_Time", "Created Time", "datetime", 120)
            .read_only = true;
        self.add("Modified_By", "Modified By", "ownerlookup", 120)
            .read_only = true;
        self.add("Modified_Time", "Modified Time", "datetime", 120)
            .read_only = true;
        self.add("Tag", "Tag", "text", 2000);
    }
}

fn picklist(f: &mut FieldDef, values: &[&str]) {
    f.pick_list = values.iter().map(|v| (*v).to_owned()).collect();
}

pub(crate) fn contacts_fields() -> Vec<FieldDef> {
    let mut f = Fields::new(5_725_767_000_000_002_501);
    f.add("Owner", "Contact Owner", "ownerlookup", 120);
    picklist(
        f.add("Salutation", "Salutation", "picklist", 25),
        &["-None-", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof."],
    );
    f.text("First_Name", "First Name", 40);
    f.text("Last_Name", "Last Name", 80).system_mandatory = true;
    f.text("Full_Name", "Full Name", 120).read_only = true;
    f.add("Email", "Email", "email", 100);
    f.add("Secondary_Email", "Secondary Email", "email", 100);
    f.add("Phone", "Phone", "phone", 30);
    f.add("Other_Phone", "Other Phone", "phone", 30);
    f.add("Home_Phone", "Home Phone", "phone", 30);
    f.add("Mobile", "Mobile", "phone", 30);
    f.add("Asst_Phone", "Asst Phone", "phone", 30);
    f.text("Assistant", "Assistant", 40);
    f.add("Fax", "Fax", "phone", 30);
    f.text("Title", "Title", 100);
    f.text("Department", "Department", 100);
    f.add("Account_Name", "Account Name", "lookup", 120)
        .lookup_module = Some("Accounts".into());
    f.add("Reporting_To", "Reporting To", "lookup", 120)
        .lookup_module = Some("Contacts".into());
    f.add("Date_of_Birth", "Date of Birth", "date", 20);
    picklist(
        f.add("Lead_Source", "Lead Source", "picklist", 120),
        &[
            "-None-",
            "Advertisement",
            "Cold Call",
            "Employee Referral",
            "Partner",
            "Trade Show",
            "Web Download",
        ],
    );
    f.text("Mailing_Street", "Mailing Street", 250);
    f.text("Mailing_City", "Mailing City", 100);
    f.text("Mailing_State", "Mailing State", 100);
    f.text("Mailing_Zip", "Mailing Zip", 30);
    f.text("Mailing_Country", "Mailing Country", 100);
    f.text("Other_Street", "Other Street", 250);
    f.text("Other_City", "Other City", 100);
    f.text("Other_State", "Other State", 100);
    f.text("Other_Zip", "Other Zip", 30);
    f.text("Other_Country", "Other Country", 100);
    f.add("Description", "Description", "textarea", 32000);
    f.add("Email_Opt_Out", "Email Opt Out", "boolean", 5);
    f.text("Skype_ID", "Skype ID", 50);
    f.text("Twitter", "Twitter", 50);
    f.add("Last_Activity_Time", "Last Activity Time", "datetime", 120)
        .read_only = true;
    f.system();
    f.list
}

pub(crate) fn tasks_fields() -> Vec<FieldDef> {
    let mut f = Fields::new(5_725_767_000_000_003_501);
    f.add("Owner", "Task Owner", "ownerlookup", 120);
    f.text("Subject", "Subject", 255).system_mandatory = true;
    f.add("Due_Date", "Due Date", "date", 20);
    f.add("Who_Id", "Contact Name", "lookup", 120).lookup_module = Some("Contacts".into());
    picklist(
        f.add("Status", "Status", "picklist", 120),
        &[
            "Not Started",
            "Deferred",
            "In Progress",
            "Completed",
            "Waiting for input",
        ],
    );
    picklist(
        f.add("Priority", "Priority", "picklist", 120),
        &["High", "Highest", "Low", "Lowest", "Normal"],
    );
    f.add("Closed_Time", "Closed Time", "datetime", 120)
        .read_only = true;
    f.add(
        "Send_Notification_Email",
        "Send Notification Email",
        "boolean",
        5,
    );
    f.add("Remind_At", "Reminder", "event_reminder", 120);
    f.add("Recurring_Activity", "Repeat", "RRULE", 120);
    f.add("Description", "Description", "textarea", 32000);
    f.system();
    f.list
}

pub(crate) fn events_fields() -> Vec<FieldDef> {
    let mut f = Fields::new(5_725_767_000_000_004_501);
    f.add("Owner", "Host", "ownerlookup", 120);
    f.text("Event_Title", "Title", 255).system_mandatory = true;
    f.add("Start_DateTime", "From", "datetime", 120)
        .system_mandatory = true;
    f.add("End_DateTime", "To", "datetime", 120)
        .system_mandatory = true;
    f.add("All_day", "All day", "boolean", 5);
    f.text("Venue", "Location", 255);
    f.add("Participants", "Participants", "multiselectlookup", 120);
    f.add("Remind_At", "Reminder", "event_reminder", 120);
    f.add("Recurring_Activity", "Repeat", "RRULE", 120);
    f.add("Who_Id", "Contact Name", "lookup", 120).lookup_module = Some("Contacts".into());
    f.add("Description", "Description", "textarea", 32000);
    f.system();
    f.list
}

pub(crate) fn accounts_fields() -> Vec<FieldDef> {
    let mut f = Fields::new(5_725_767_000_000_001_501);
    f.add("Owner", "Account Owner", "ownerlookup", 120);
    f.text("Account_Name", "Account Name", 200).system_mandatory = true;
    f.add("Phone", "Phone", "phone", 30);
    f.add("Website", "Website", "website", 255);
    picklist(
        f.add("Account_Type", "Account Type", "picklist", 120),
        &[
            "-None-",
            "Analyst",
            "Competitor",
            "Customer",
            "Distributor",
            "Partner",
            "Prospect",
            "Vendor",
            "Other",
        ],
    );
    picklist(
        f.add("Industry", "Industry", "picklist", 120),
        &[
            "-None-",
            "Manufacturing",
            "Technology",
            "Retail",
            "Services",
            "Other",
        ],
    );
    f.text("Billing_Street", "Billing Street", 250);
    f.text("Billing_City", "Billing City", 100);
    f.text("Billing_State", "Billing State", 100);
    f.text("Billing_Code", "Billing Code", 30);
    f.text("Billing_Country", "Billing Country", 100);
    f.add("Description", "Description", "textarea", 32000);
    f.system();
    f.list
}

pub(crate) fn standard_modules() -> Vec<Module> {
    let module = |api_name, id, fields| Module {
        api_name,
        id,
        fields,
        records: Records::default(),
        deleted: Vec::new(),
        tags: Vec::new(),
        views: Vec::new(),
    };
    vec![
        module("Contacts", "5725767000000002179", contacts_fields()),
        module("Tasks", "5725767000000002187", tasks_fields()),
        module("Accounts", "5725767000000002177", accounts_fields()),
        module("Events", "5725767000000002185", events_fields()),
    ]
}

/// Why a value was refused.
#[derive(Debug, PartialEq)]
pub(crate) enum ValueError {
    Type(&'static str),
    TooLong(u32),
}

fn expected(f: &FieldDef) -> &'static str {
    match f.data_type.as_str() {
        "email" => "email",
        "phone" => "phone",
        "date" => "date",
        "datetime" => "datetime",
        "boolean" => "boolean",
        "integer" => "integer",
        "bigint" => "bigint",
        "double" => "double",
        "currency" => "currency",
        "picklist" => "picklist",
        "multiselectpicklist" => "multiselectpicklist",
        "website" => "website",
        "textarea" => "textarea",
        "lookup" | "ownerlookup" | "event_reminder" | "RRULE" => "jsonobject",
        _ => "text",
    }
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// Normalize a value written by a client for a plain field (not lookups, owner or tags).
/// `Value::Null` (and `""` for typed fields) clears the field.
pub(crate) fn normalize(f: &FieldDef, v: &Value) -> Result<Value, ValueError> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let string = || v.as_str().ok_or(ValueError::Type(expected(f)));
    let check_len = |s: &str| {
        if f.length > 0 && s.chars().count() > f.length as usize {
            Err(ValueError::TooLong(f.length))
        } else {
            Ok(Value::String(s.to_owned()))
        }
    };
    match f.data_type.as_str() {
        "text" | "textarea" | "phone" | "website" | "picklist" => check_len(string()?),
        "email" => {
            let s = string()?;
            if s.is_empty() {
                return Ok(Value::Null);
            }
            if !valid_email(s) {
                return Err(ValueError::Type("email"));
            }
            check_len(s)
        }
        "date" => {
            let s = string()?;
            if s.is_empty() {
                return Ok(Value::Null);
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
                .map_err(|_| ValueError::Type("date"))
        }
        "datetime" => {
            let s = string()?;
            if s.is_empty() {
                return Ok(Value::Null);
            }
            DateTime::parse_from_rfc3339(s)
                .ok()
                .and_then(|t| DateTime::from_timestamp(t.timestamp(), 0))
                .map(|t| Value::String(t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()))
                .ok_or(ValueError::Type("datetime"))
        }
        "boolean" => v
            .as_bool()
            .map(Value::Bool)
            .ok_or(ValueError::Type("boolean")),
        "integer" => v
            .as_i64()
            .filter(|n| n.abs() <= 999_999_999)
            .map(|n| json!(n))
            .ok_or(ValueError::Type("integer")),
        "bigint" => match v {
            Value::Number(n) if n.is_i64() => Ok(Value::String(n.to_string())),
            Value::String(s)
                if !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Ok(Value::String(s.clone()))
            }
            _ => Err(ValueError::Type("bigint")),
        },
        "double" | "currency" | "percent" => v
            .as_f64()
            .map(|n| json!(n))
            .ok_or(ValueError::Type(expected(f))),
        "multiselectpicklist" => match v {
            Value::Array(a) if a.iter().all(Value::is_string) => Ok(v.clone()),
            _ => Err(ValueError::Type("multiselectpicklist")),
        },
        "event_reminder" | "RRULE" => match v {
            Value::Object(_) | Value::Array(_) | Value::String(_) => Ok(v.clone()),
            _ => Err(ValueError::Type("jsonobject")),
        },
        _ => Ok(v.clone()),
    }
}

/// A field's value to compare for uniqueness (case-insensitive text).
pub(crate) fn unique_key(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.to_lowercase()),
        other => Some(other.to_string()),
    }
}

/// The full `/settings/fields` shape of one field (every key fields.json requires).
pub(crate) fn field_json(f: &FieldDef, module: &Module, created: DateTime<Utc>) -> Value {
    let system = matches!(
        f.api_name.as_str(),
        "Created_By"
            | "Created_Time"
            | "Modified_By"
            | "Modified_Time"
            | "Full_Name"
            | "Last_Activity_Time"
            | "Closed_Time"
    );
    let minified_null = json!({ "api_name": null, "id": null });
    let lookup = match &f.lookup_module {
        Some(m) => json!({
            "display_label": m,
            "api_name": m,
            "module": { "api_name": m, "id": null },
            "id": null,
            "query_details": {},
            "revalidate_filter_during_edit": false,
            "show_fields": [],
        }),
        None => json!({}),
    };
    let pick_list_values: Vec<Value> = f
        .pick_list
        .iter()
        .enumerate()
        .map(|(i, v)| {
            json!({
                "display_value": v,
                "sequence_number": i + 1,
                "reference_value": v,
                "colour_code": null,
                "actual_value": v,
                "id": format!("{}{:03}", &f.id[..f.id.len().saturating_sub(3)], i + 1),
                "type": "used",
            })
        })
        .collect();
    let external = match &f.external {
        Some(e) => json!({ "show": e.show, "type": e.kind, "allow_multiple_config": false }),
        None => json!({ "show": null, "type": null }),
    };
    let unique = if f.is_unique() {
        json!({ "casesensitive": "false" })
    } else {
        json!({})
    };
    let created_time = if f.custom_field {
        json!(fmt_time(created, Tz::UTC))
    } else {
        Value::Null
    };
    json!({
        "associated_module": minified_null,
        "data_type": f.data_type,
        "webhook": true,
        "operation_type": {
            "web_update": !f.read_only,
            "api_create": !f.read_only,
            "web_create": !f.read_only,
            "api_update": !f.read_only,
        },
        "colour_code_enabled_by_system": false,
        "field_label": f.field_label,
        "tooltip": { "name": "", "value": "" },
        "type": "used",
        "field_read_only": f.read_only,
        "customizable_properties": [],
        "display_label": f.field_label,
        "read_only": f.read_only,
        "association_details": { "related_field": minified_null, "lookup_field": minified_null },
        "businesscard_supported": !system,
        "multi_module_lookup": {},
        "id": f.id,
        "created_time": created_time,
        "filterable": true,
        "visible": true,
        "refer_from_field": { "id": null, "api_name": null },
        "profiles": [
            { "permission_type": if f.read_only { "read_only" } else { "read_write" }, "name": "Administrator", "id": "5725767000000026011" },
            { "permission_type": if f.read_only { "read_only" } else { "read_write" }, "name": "Standard", "id": "5725767000000026014" },
        ],
        "view_type": { "view": true, "edit": !f.read_only, "quick_create": f.system_mandatory, "create": !f.read_only },
        "separator": false,
        "searchable": true,
        "external": external,
        "api_name": f.api_name,
        "unique": unique,
        "enable_colour_code": false,
        "pick_list_values": pick_list_values,
        "system_mandatory": f.system_mandatory,
        "virtual_field": false,
        "json_type": f.json_type(),
        "crypt": { "mode": null, "status": null },
        "created_source": if f.custom_field { "crm" } else { "default" },
        "display_type": -1,
        "ui_type": 1,
        "modified_time": created_time,
        "email_parser": { "fields_update_supported": false, "record_operations_supported": false },
        "currency": {},
        "custom_field": f.custom_field,
        "lookup": lookup,
        "rollup_summary": {},
        "length": f.length,
        "column_name": f.api_name.to_uppercase(),
        "decimal_place": null,
        "mass_update": !f.read_only && !system,
        "blueprint_supported": false,
        "multiselectlookup": {},
        "pick_list_values_sorted_lexically": false,
        "sortable": true,
        "layout_associations": [ { "api_name": "Standard", "name": "Standard", "id": "5725767000000091055" } ],
        "available_in_user_layout": true,
        "display_field": f.api_name == "Last_Name" || f.api_name == "Subject" || f.api_name == "Account_Name",
        "quick_sequence_number": "0",
        "show_type": 7,
        "category": 0,
        "sharing_properties": {},
        "file_upolad_optionlist": [],
        "sub_module": minified_null,
        "subform": {},
        "formula": {},
        "convert_mapping": {},
        "multiuserlookup": {
            "display_label": null, "linking_module": minified_null, "connected_module": minified_null,
            "lookup_apiname": null, "api_name": null, "connectedfield_apiname": null,
            "connectedlookup_apiname": null, "id": null, "record_access": null,
        },
        "autonumber": { "starting_number_length": 0, "prefix": null, "suffix": null, "start_number": null },
        "auto_number": {},
        "history_tracking": { "module": {}, "duration_configured_field": minified_null },
        "allowed_modules": [],
        "additional_column": null,
        "common.picklist": {},
        "hipaa_compliance_enabled": false,
        "hipaa_compliance": { "restricted_in_export": false, "restricted": false },
        "_update_existing_records": false,
        "number_separator": false,
        "textarea": if f.data_type == "textarea" { json!({ "type": "large" }) } else { json!({}) },
        "static_field": false,
        "sequence_number": module.fields.iter().position(|x| x.id == f.id).map_or(0, |p| p + 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_checks_types_and_lengths() {
        let fields = contacts_fields();
        let get = |n: &str| fields.iter().find(|f| f.api_name == n).unwrap();
        assert_eq!(
            normalize(get("Last_Name"), &json!("Smith")),
            Ok(json!("Smith"))
        );
        assert_eq!(
            normalize(get("Last_Name"), &json!("x".repeat(81))),
            Err(ValueError::TooLong(80))
        );
        assert_eq!(
            normalize(get("Last_Name"), &json!(5)),
            Err(ValueError::Type("text"))
        );
        assert_eq!(
            normalize(get("Email"), &json!("nope")),
            Err(ValueError::Type("email"))
        );
        assert_eq!(
            normalize(get("Date_of_Birth"), &json!("2020-13-01")),
            Err(ValueError::Type("date"))
        );
        assert_eq!(normalize(get("Email"), &Value::Null), Ok(Value::Null));
    }

    #[test]
    fn time_rendering_uses_the_users_offset() {
        let t = parse_time("2026-11-25T08:36:00Z").unwrap();
        assert_eq!(
            fmt_time(t, chrono_tz::Asia::Tokyo),
            "2026-11-25T17:36:00+09:00"
        );
        assert_eq!(
            fmt_time(t, chrono_tz::America::New_York),
            "2026-11-25T03:36:00-05:00"
        );
    }
}
