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
