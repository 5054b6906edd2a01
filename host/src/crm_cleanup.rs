//! Deleting the CRM records the integration created: uninstall's option (F9), shared by
//! `nzsync uninstall --delete-crm-records` and the server's `POST /api/uninstall`.
//!
//! Only records the store lists as created by a sync or a scheduled meeting are touched; records
//! that were matched to existing CRM records at first sync, or that users created, stay. Zoho
//! deletes at most 100 ids per call ([`BATCH`]) and answers one entry per id, in input order
//! (reference §1.5, §1.8). An id Zoho no longer has (`INVALID_DATA` "record not deleted") was
//! deleted by hand since, which is the outcome asked for.

use serde_json::Value;
use sync_core::{Module, ZohoId};

/// Most ids Zoho deletes in one call.
pub const BATCH: usize = 100;

/// One `DELETE` call: the module, its ids, and the path relative to the CRM API base.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteCall {
    /// The module of every id.
    pub module: Module,
    /// At most [`BATCH`] ids.
    pub ids: Vec<ZohoId>,
    /// `{Module}?ids=a,b,…&wf_trigger=false` (no workflow rules fire on an uninstall).
    pub path: String,
}

/// The ids of the records an insert's answer says Zoho created (`status: success`; one entry
/// per record sent, reference §1.5). Nothing for an answer that is not an insert's.
#[must_use]
pub fn inserted_ids(body: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    v.get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| r.get("status").and_then(Value::as_str) == Some("success"))
        .filter_map(|r| r.get("details")?.get("id")?.as_str())
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned)
        .collect()
}

/// The fewest calls that delete `created` (grouped by module, [`BATCH`] ids each).
#[must_use]
pub fn delete_calls(created: &[(Module, ZohoId)]) -> Vec<DeleteCall> {
    let mut calls = Vec::new();
    for module in Module::ALL {
        let ids: Vec<ZohoId> = created
            .iter()
            .filter(|(m, _)| *m == module)
            .map(|(_, z)| z.clone())
            .collect();
        for chunk in ids.chunks(BATCH) {
            let list: Vec<&str> = chunk.iter().map(|z| z.0.as_str()).collect();
            calls.push(DeleteCall {
                module,
                ids: chunk.to_vec(),
                path: format!(
                    "{}?ids={}&wf_trigger=false",
                    module.crm_api_name(),
                    list.join(",")
                ),
            });
        }
    }
    calls
}

/// What an uninstall's CRM delete achieved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Records that are gone from the CRM now.
    pub deleted: Vec<(Module, ZohoId)>,
    /// Why the others are not, one line each.
    pub failures: Vec<String>,
}

impl Tally {
    /// Adds the answer (`status`, JSON `body`, or `None` when no answer came) to `call`.
    pub fn add(&mut self, call: &DeleteCall, status: u16, body: Option<&Value>) {
        let module = call.module.crm_api_name();
        let rows = body
            .and_then(|v| v.get("data"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if rows.len() != call.ids.len() {
            let why = body
                .and_then(|v| v.get("message"))
                .and_then(Value::as_str)
                .map_or_else(
                    || format!("HTTP {status}"),
                    |m| format!("HTTP {status}: {m}"),
                );
            self.failures.push(format!(
                "{module}: {} records not deleted ({why})",
                call.ids.len()
            ));
            return;
        }
        for (id, row) in call.ids.iter().zip(rows) {
            let gone = row.get("status").and_then(Value::as_str) == Some("success")
                || (row.get("code").and_then(Value::as_str) == Some("INVALID_DATA")
                    && row.get("message").and_then(Value::as_str) == Some("record not deleted"));
            if gone {
                self.deleted.push((call.module, id.clone()));
            } else {
                let why = row
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("not deleted");
                let code = row.get("code").and_then(Value::as_str).unwrap_or("?");
                self.failures
                    .push(format!("{module} {}: {code} {why}", id.0));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_insert_answer_names_only_the_records_zoho_created() {
        let answer = json!({"data": [
            {"code": "SUCCESS", "status": "success", "message": "record added",
             "details": {"id": "5725767000000411001"}},
            // A duplicate names someone's existing record: not one the sync created.
            {"code": "DUPLICATE_DATA", "status": "error", "message": "duplicate data",
             "details": {"api_name": "Notes_UNID", "duplicate_record": {"id": "5725767000000411002"}}},
            {"code": "SUCCESS", "status": "success", "details": {"id": "../Accounts"}},
            {"code": "SUCCESS", "status": "success", "details": {"id": "5725767000000411003"}},
        ]});
        let body = serde_json::to_vec(&answer).unwrap_or_default();
        assert_eq!(
            inserted_ids(&body),
            ["5725767000000411001", "5725767000000411003"]
        );
        assert!(inserted_ids(b"<html>").is_empty());
        assert!(inserted_ids(br#"{"code":"INVALID_TOKEN"}"#).is_empty());
    }

    fn ids(module: Module, n: usize) -> Vec<(Module, ZohoId)> {
        (0..n).map(|i| (module, ZohoId(format!("{i}")))).collect()
    }

    #[test]
    fn calls_group_by_module_and_batch_to_the_api_maximum() {
        let mut created = ids(Module::Events, 3);
        created.extend(ids(Module::Contacts, 250));
        let calls = delete_calls(&created);
        let shape: Vec<(Module, usize)> = calls.iter().map(|c| (c.module, c.ids.len())).collect();
        assert_eq!(
            shape,
            [
                (Module::Contacts, 100),
                (Module::Contacts, 100),
                (Module::Contacts, 50),
                (Module::Events, 3)
            ]
        );
        assert_eq!(calls[3].path, "Events?ids=0,1,2&wf_trigger=false");
        assert!(delete_calls(&[]).is_empty());
    }

    #[test]
    fn tally_counts_deleted_and_already_gone_and_names_failures() {
        let call = &delete_calls(&ids(Module::Tasks, 3))[0];
        let body = json!({"data": [
            {"code": "SUCCESS", "details": {"id": "0"}, "message": "record deleted", "status": "success"},
            {"code": "INVALID_DATA", "details": {"id": "1"}, "message": "record not deleted", "status": "error"},
            {"code": "RECORD_LOCKED", "details": {"id": "2"}, "message": "locked", "status": "error"},
        ]});
        let mut t = Tally::default();
        t.add(call, 207, Some(&body));
        assert_eq!(t.deleted.len(), 2);
        assert_eq!(t.failures, ["Tasks 2: RECORD_LOCKED locked"]);

        let mut t = Tally::default();
        t.add(call, 500, None);
        assert!(t.deleted.is_empty());
        assert_eq!(t.failures, ["Tasks: 3 records not deleted (HTTP 500)"]);
    }
}
