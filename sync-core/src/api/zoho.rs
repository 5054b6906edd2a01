//! Zoho CRM v8: paths, listings, and the words for its answers (`reference/zoho-crm-api.md`).

use serde_json::Value;

use super::parse_json;
use crate::engine::{CRM_PAGE, EngineConfig};
use crate::http::{HttpResponse, encode};
use crate::mapping::{CRM_XREF_FIELD, crm_list_fields};
use crate::model::Module;

impl EngineConfig {
    pub(crate) fn crm_path(&self, rest: &str) -> String {
        format!("/crm/{}/{rest}", self.crm_api_version)
    }

    /// The fields a CRM listing asks for: the module's, its owner, and the cross-ID once the
    /// field exists.
    pub(crate) fn crm_fields(&self, module: Module, xref: bool) -> String {
        crm_list_fields(module)
            .split(',')
            .filter(|f| xref || *f != CRM_XREF_FIELD)
            .chain(["Owner"])
            .collect::<Vec<_>>()
            .join(",")
    }

    /// A listing of `module`, of the view `cvid` when given.
    pub(crate) fn crm_list_path(&self, module: Module, cvid: Option<&str>, fields: &str) -> String {
        let view = cvid.map_or_else(String::new, |c| format!("cvid={}&", encode(c)));
        self.crm_path(&format!(
            "{}?{view}fields={fields}&per_page={CRM_PAGE}",
            module.crm_api_name()
        ))
    }
}

/// Most rows of one COQL call (v4 and later; reference §2.3).
pub(crate) const COQL_ROWS: usize = 2000;

/// Where a keyset listing continues: the records past the 100,000 that `page_token` pages to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Keyset {
    /// Only this owner's records (a complete listing of the `mine` scope); `None` lists every
    /// owner's, whose owners the engine then checks (an incremental listing).
    pub owner: Option<String>,
    /// Only records changed after this instant (`If-Modified-Since` of the listing it
    /// continues), as COQL writes a date-time.
    pub since: Option<String>,
    /// The last record id already walked past.
    pub after: u64,
}

impl EngineConfig {
    /// The COQL request of a keyset listing of `module`: `fields` (a listing's, comma
    /// separated) in id order past `keyset.after`, 2,000 at a time. A lookup is asked for with
    /// its record's name as well (`Account_Name.Account_Name`), since COQL gives a lookup's id
    /// only; [`coql_row_as_listed`] puts the two together again.
    pub(crate) fn crm_keyset_query(&self, module: Module, fields: &str, keyset: &Keyset) -> Value {
        let mut columns: Vec<String> = Vec::new();
        for f in fields.split(',') {
            columns.push(f.to_owned());
            if let Some(name) = lookup_name_column(module, f) {
                columns.push(format!("{f}.{name}"));
            }
        }
        let mut criteria = vec![format!("id > {}", keyset.after)];
        if let Some(owner) = &keyset.owner {
            criteria.push(format!("Owner = '{}'", owner.replace('\'', "''")));
        }
        if let Some(since) = &keyset.since {
            criteria.push(format!("Modified_Time > '{since}'"));
        }
        // COQL wants each pair of conditions bracketed.
        let filter = criteria
            .into_iter()
            .reduce(|a, b| format!("({a} and {b})"))
            .unwrap_or_default();
        let query = format!(
            "select {} from {} where {filter} order by id asc limit {COQL_ROWS}",
            columns.join(", "),
            module.crm_api_name()
        );
        serde_json::json!({ "select_query": query })
    }
}

/// The field of the looked-up module that names its record, for a lookup among a listing's
/// fields.
fn lookup_name_column(module: Module, field: &str) -> Option<&'static str> {
    (module == Module::Contacts && field == crate::mapping::CRM_ACCOUNT_FIELD)
        .then_some(crate::mapping::CRM_ACCOUNT_FIELD)
}

/// A row of a keyset COQL answer in the shape the records API lists it: a lookup and its
/// joined name column (`Account_Name` `{"id"}` and `Account_Name.Account_Name`) become one
/// `{"id", "name"}`.
pub(crate) fn coql_row_as_listed(row: &mut Value) {
    let Some(obj) = row.as_object_mut() else {
        return;
    };
    let joined: Vec<String> = obj.keys().filter(|k| k.contains('.')).cloned().collect();
    for key in joined {
        let name = obj.remove(&key);
        let Some((lookup, _)) = key.split_once('.') else {
            continue;
        };
        if let (Some(Value::Object(target)), Some(name)) = (obj.get_mut(lookup), name) {
            target.insert("name".to_owned(), name);
        }
    }
}

/// The records of a Zoho listing's `data`, with their ids (records without one are skipped).
pub(crate) fn listed_records(body: &Value) -> impl Iterator<Item = (&str, &Value)> {
    body.get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|rec| Some((rec.get("id")?.as_str()?, rec)))
}

/// The record ids of a Zoho listing's `data`.
pub(crate) fn listed_ids(body: &Value) -> impl Iterator<Item = &str> {
    listed_records(body).map(|(id, _)| id)
}

/// The `system_name` of the module's system "My …" custom view (the user's own records).
pub(crate) fn my_view_system_name(module: Module) -> &'static str {
    match module {
        Module::Contacts => "MYCONTACTS",
        Module::Tasks => "MYTASKS",
        Module::Events => "MYEVENTS",
    }
}

/// The `code` of a Zoho error answer.
pub(crate) fn crm_error_code(resp: &HttpResponse) -> Option<String> {
    parse_json(resp)?.get("code")?.as_str().map(str::to_owned)
}

pub(crate) fn crm_error_text(resp: &HttpResponse) -> String {
    match parse_json(resp) {
        Some(b) => {
            let code = b.get("code").and_then(Value::as_str).unwrap_or("");
            let msg = b.get("message").and_then(Value::as_str).unwrap_or("");
            if code.is_empty() && msg.is_empty() {
                format!("HTTP {}", resp.status)
            } else {
                format!("{code} {msg} (HTTP {})", resp.status)
                    .trim()
                    .to_owned()
            }
        }
        None => format!("HTTP {}", resp.status),
    }
}
