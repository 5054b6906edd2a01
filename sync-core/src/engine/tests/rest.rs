//! The engine through the Domino REST API, against answers in its shapes
//! (`reference/domino-rest-api.md` §3–4): whole documents from the view's pages, changes by
//! DQL, one UNID list for deletions, writes in bulk, the revision where the schema wants it.

use super::*;

const SCOPE: &str = "t";

fn rest_contacts() -> EngineConfig {
    EngineConfig {
        domino: DominoApi::Rest {
            scope: crate::model::DrapiScope(SCOPE.into()),
        },
        ..contacts_only()
    }
}

/// The scope's schema: `Person` with every mapped item in both modes, the contacts view, DQL
/// on; `require_revision` as given; `leave_out` an item the schema does not expose.
fn schema(require_revision: bool, leave_out: Option<&str>) -> Value {
    let mut fields: Vec<Value> = crate::mapping::fields_of(Module::Contacts)
        .iter()
        .map(|m| m.notes)
        .chain(["ZohoCRMId", "OrgConfidential", "Form", "Type"])
        .filter(|f| Some(*f) != leave_out)
        .map(|f| json!({"name": f, "type": "string"}))
        .collect();
    fields.push(json!("Categories"));
    json!({
        "schemaName": "nzsync", "nsfPath": "mail/t.nsf", "dqlAccess": true,
        "requireRevisionToUpdate": require_revision,
        "views": [{"name": "($Contacts)", "alias": ["Contacts"]}],
        "forms": [{"formName": "Person", "formModes": [
            {"modeName": "default", "fields": fields},
            {"modeName": "dql", "fields": fields}]}]
    })
}

/// A Person document as DRAPI lists it (flat metadata).
fn person(unid: &str, last: &str) -> Value {
    json!({"@unid": unid, "@noteid": 1, "@etag": "W/\" 6243a80a\"", "Form": "Person",
           "LastName": last})
}

/// The documents of [`linked_state`], each naming its CRM twin.
fn linked_people() -> Value {
    let docs: Vec<Value> = [("U1", "41"), ("U2", "42"), ("U3", "43")]
        .into_iter()
        .map(|(u, z)| {
            let mut d = person(u, u);
            d["ZohoCRMId"] = json!(z);
            d
        })
        .collect();
    Value::Array(docs)
}

/// The scope, and what every Domino REST API answer the tests do not script looks like.
fn scope_answer(r: &HttpRequest, schema: &Value) -> Option<HttpResponse> {
    (r.path == format!("/api/v1/scope?dataSource={SCOPE}")).then(|| answer(200, schema))
}

/// [`incremental_state`] with the REST API's fingerprint.
fn rest_incremental_state(config: &EngineConfig) -> SyncState {
    let now = Timestamp(1_764_000_000_000);
    let mut state = linked_state();
    let fingerprint = Engine::new(config.clone(), state.clone(), now).fingerprint(Module::Contacts);
    let m = state.modules.get_mut(&Module::Contacts).unwrap();
    m.notes_cursor = Some(now.plus_ms(-3_600_000));
    m.fingerprint = Some(fingerprint);
    state
}

fn notes_calls(asked: &[HttpRequest]) -> Vec<String> {
    asked
        .iter()
        .filter(|r| r.side == Side::Notes)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// 2,500 contacts are read in three pages of whole documents: no document is read on its own.
#[test]
fn a_full_read_lists_whole_documents_a_thousand_a_page_and_reads_none_again() {
    let schema = schema(false, None);
    let (report, asked) = drive(rest_contacts(), ready_state(), |r: &HttpRequest| {
        if let Some(a) = scope_answer(r, &schema) {
            return a;
        }
        let p = r.path.as_str();
        if let Some(q) = p.strip_prefix(
            "/api/v1/lists/%28%24Contacts%29?dataSource=t&documents=true&richTextAs=plain&start=",
        ) {
            let start: usize = q.split('&').next().unwrap().parse().unwrap();
            assert!(q.ends_with("&count=1000"), "{p}");
            let docs: Vec<Value> = (start..2500.min(start + 1000))
                .map(|i| person(&format!("{i:032X}"), &format!("P{i}")))
                .collect();
            return answer(200, &Value::Array(docs));
        }
        match (r.method.as_str(), p) {
            ("GET", _) if p.starts_with("/crm/v8/Contacts?") => answer(204, &Value::Null),
            ("POST", "/crm/v8/Contacts") => inserted(r, "5"),
            ("PATCH", _) if p.starts_with("/api/v1/document/") => {
                assert!(p.contains("?dataSource=t"), "{p}");
                answer(200, &json!({"@meta": {"unid": "X"}}))
            }
            other => panic!("unexpected request {other:?}"),
        }
    });
    assert_eq!(
        report.outcome,
        RunOutcome::Completed,
        "{}",
        report.to_text()
    );
    assert_eq!(report.modules[0].counts.created, 2500);
    let calls = notes_calls(&asked);
    let lists = calls.iter().filter(|c| c.contains("/lists/")).count();
    assert_eq!(lists, 3, "{calls:?}");
    assert!(
        !calls.iter().any(|c| c.contains("/bulk/unid")),
        "a listed document was read again"
    );
    // The cross-ID goes into each new contact's Notes twin.
    let backlinks = asked
        .iter()
        .filter(|r| r.method == "PATCH" && r.side == Side::Notes)
        .count();
    assert_eq!(backlinks, 2500);
    assert_eq!(
        calls[..2],
        [
            format!("GET /api/v1/scope?dataSource={SCOPE}"),
            "GET /api/pim-v1/info".to_owned()
        ]
    );
}

/// Nothing changed: one UNID list and one DQL query, and nothing is read or written.
#[test]
fn an_incremental_run_with_nothing_changed_costs_one_list_and_one_query() {
    let config = rest_contacts();
    let schema = schema(false, None);
    let mut linked = linked_server(&["U1", "U2", "U3"], notes_doc);
    let (report, asked) = drive(
        config.clone(),
        rest_incremental_state(&config),
        |r: &HttpRequest| {
            if let Some(a) = scope_answer(r, &schema) {
                return a;
            }
            match r.path.as_str() {
                "/api/v1/lists/%28%24Contacts%29?dataSource=t&count=-1" => answer(
                    200,
                    &json!([{"@unid": "U1", "@index": "1"}, {"@unid": "U2", "@index": "2"},
                            {"@unid": "U3", "@index": "3"}]),
                ),
                "/api/v1/query?dataSource=t&action=execute&richTextAs=plain" => {
                    let body: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
                    assert_eq!(body["forms"], json!(["Person"]));
                    // The cursor, stepped back by the overlap, at second precision.
                    assert_eq!(
                        body["query"],
                        "@ModifiedInThisFile > @dt('2025-11-24T15:00:00Z')"
                    );
                    answer(200, &json!([]))
                }
                _ => linked(r),
            }
        },
    );
    assert_eq!(
        report.outcome,
        RunOutcome::Completed,
        "{}",
        report.to_text()
    );
    assert_eq!(
        notes_calls(&asked),
        [
            format!("GET /api/v1/scope?dataSource={SCOPE}"),
            "GET /api/pim-v1/info".to_owned(),
            "POST /api/v1/query?dataSource=t&action=execute&richTextAs=plain".to_owned(),
            "GET /api/v1/lists/%28%24Contacts%29?dataSource=t&count=-1".to_owned(),
        ]
    );
}

/// The changed documents come whole from DQL: none is read again, and one the view does not
/// list (another Person document) is left out.
#[test]
fn changed_documents_come_whole_from_dql_and_unlisted_ones_are_left_out() {
    let config = rest_contacts();
    let schema = schema(false, None);
    let mut linked = linked_server(&["U1", "U2", "U3"], notes_doc);
    let (report, asked) = drive(
        config.clone(),
        rest_incremental_state(&config),
        |r: &HttpRequest| {
            if let Some(a) = scope_answer(r, &schema) {
                return a;
            }
            match r.path.as_str() {
                "/api/v1/lists/%28%24Contacts%29?dataSource=t&count=-1" => answer(
                    200,
                    &json!([{"@unid": "U1"}, {"@unid": "U2"}, {"@unid": "U3"}]),
                ),
                "/api/v1/query?dataSource=t&action=execute&richTextAs=plain" => answer(
                    200,
                    &json!([
                        {"@meta": {"unid": "U2", "revision": "R"}, "Form": "Person",
                         "LastName": "U2 changed"},
                        {"@meta": {"unid": "U9"}, "Form": "Person", "LastName": "Elsewhere"}]),
                ),
                _ => linked(r),
            }
        },
    );
    assert_eq!(
        report.outcome,
        RunOutcome::Completed,
        "{}",
        report.to_text()
    );
    let calls = notes_calls(&asked);
    assert!(!calls.iter().any(|c| c.contains("/bulk/unid")), "{calls:?}");
    let m = &report.modules[0];
    assert_eq!(
        (m.counts.updated, m.counts.created),
        (1, 0),
        "{}",
        report.to_text()
    );
    let puts = bodies(&asked, "PUT", "/crm/v8/Contacts");
    assert_eq!(puts[0]["data"][0]["Last_Name"], "U2 changed");
}

/// With `requireRevisionToUpdate`, each update names the document's current revision.
#[test]
fn updates_name_the_revision_when_the_schema_requires_it() {
    let schema = schema(true, None);
    let mut linked = linked_server(&["U1", "U2", "U3"], notes_doc);
    let (report, asked) = drive(rest_contacts(), linked_state(), |r: &HttpRequest| {
        if let Some(a) = scope_answer(r, &schema) {
            return a;
        }
        let p = r.path.as_str();
        if p.starts_with("/api/v1/lists/") {
            return answer(200, &linked_people());
        }
        if p == "/api/v1/document/U2?dataSource=t&richTextAs=plain" {
            assert_eq!(r.method, "GET");
            return answer(
                200,
                &json!({"@meta": {"unid": "U2", "revision": "0000000200AB"}}),
            );
        }
        if r.method == "PATCH" && p.starts_with("/api/v1/document/U2?") {
            assert!(p.ends_with("&revision=0000000200AB"), "{p}");
            return answer(200, &json!({"@meta": {"unid": "U2"}}));
        }
        if r.method == "GET" && p.starts_with("/crm/v8/Contacts?") {
            return answer(
                200,
                &json!({"data": [
                    {"id": "41", "Last_Name": "U1", "Notes_UNID": format!("{REPLICA}:U1"),
                     "Owner": {"id": "ME"}},
                    {"id": "42", "Last_Name": "U2 in CRM", "Notes_UNID": format!("{REPLICA}:U2"),
                     "Owner": {"id": "ME"}},
                    {"id": "43", "Last_Name": "U3", "Notes_UNID": format!("{REPLICA}:U3"),
                     "Owner": {"id": "ME"}}],
                    "info": {"more_records": false}}),
            );
        }
        linked(r)
    });
    assert_eq!(
        report.outcome,
        RunOutcome::Completed,
        "{}",
        report.to_text()
    );
    let patches: Vec<&HttpRequest> = asked
        .iter()
        .filter(|r| r.method == "PATCH" && r.side == Side::Notes)
        .collect();
    assert_eq!(patches.len(), 1, "{}", report.to_text());
    let body: Value = serde_json::from_str(patches[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(body["LastName"], "U2 in CRM");
}

/// A schema that does not expose the cross-ID item fails the module, naming it and the admin
/// step, before anything is listed or written.
#[test]
fn a_schema_without_a_mapped_item_fails_the_module_with_the_admin_step() {
    let schema = schema(false, Some("ZohoCRMId"));
    let (report, asked) = drive(rest_contacts(), ready_state(), |r: &HttpRequest| {
        if let Some(a) = scope_answer(r, &schema) {
            return a;
        }
        panic!("unexpected request {} {}", r.method, r.path);
    });
    let m = &report.modules[0];
    assert_eq!(m.status, ModuleStatus::Failed, "{}", report.to_text());
    let msg = m.message.as_deref().unwrap_or_default();
    assert!(
        msg.contains("ZohoCRMId") && msg.contains("nzsync drapi-schema"),
        "{msg}"
    );
    assert!(!asked.iter().any(|r| r.path.contains("/lists/")));
}

/// A scope the server does not know ends the run with the admin step that adds it.
#[test]
fn an_unknown_scope_ends_the_run_with_the_admin_step() {
    let (report, _) = drive(rest_contacts(), ready_state(), |r: &HttpRequest| {
        if r.path.starts_with("/api/v1/scope?") {
            return answer(
                404,
                &json!({"status": 404, "errorId": 1112,
                        "message": "A scope definition with that name cannot be found: t"}),
            );
        }
        answer(204, &Value::Null)
    });
    assert_eq!(report.outcome, RunOutcome::Failed, "{}", report.to_text());
    let error = report.error.unwrap_or_default();
    assert!(
        error.contains("Scope Management") && error.contains("nzsync drapi-schema"),
        "{error}"
    );
}

/// Deletions of many documents go in one `/bulk/delete`; a document already gone counts as
/// deleted.
#[test]
fn many_deletes_go_in_one_bulk_delete() {
    let schema = schema(false, None);
    let config = EngineConfig {
        allow_mass_delete: true,
        ..rest_contacts()
    };
    let (report, asked) = drive(config, linked_state(), |r: &HttpRequest| {
        if let Some(a) = scope_answer(r, &schema) {
            return a;
        }
        let p = r.path.as_str();
        if p.starts_with("/api/v1/lists/") {
            return answer(200, &linked_people());
        }
        if p == "/api/v1/bulk/delete?dataSource=t" {
            let body: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
            let unids = body["unids"].as_array().unwrap().clone();
            let results: Vec<Value> = unids
                .iter()
                .map(|u| {
                    if u == "U3" {
                        json!({"statusText": "Not Found", "status": 404,
                               "message": "Document not found: U3", "unid": u})
                    } else {
                        json!({"statusText": "OK", "status": 200,
                               "message": format!("Document {} deleted", u.as_str().unwrap()),
                               "unid": u})
                    }
                })
                .collect();
            return answer(200, &Value::Array(results));
        }
        if p == "/api/v1/document/U2?dataSource=t" || p == "/api/v1/document/U3?dataSource=t" {
            assert_eq!(r.method, "DELETE");
            return answer(
                200,
                &json!({"statusText": "OK", "status": 200, "unid": "U"}),
            );
        }
        if r.method == "GET" && p.starts_with("/crm/v8/Contacts?ids=") {
            return answer(204, &Value::Null);
        }
        if r.method == "GET" && p.starts_with("/crm/v8/Contacts?") {
            return answer(
                200,
                &json!({"data": [{"id": "41", "Last_Name": "U1",
                    "Notes_UNID": format!("{REPLICA}:U1"), "Owner": {"id": "ME"}}],
                    "info": {"more_records": false}}),
            );
        }
        panic!("unexpected request {} {p}", r.method);
    });
    assert_eq!(
        report.outcome,
        RunOutcome::Completed,
        "{}",
        report.to_text()
    );
    assert_eq!(report.modules[0].counts.deleted, 2, "{}", report.to_text());
    let deletes: Vec<String> = notes_calls(&asked)
        .into_iter()
        .filter(|c| c.contains("delete") || c.starts_with("DELETE"))
        .collect();
    assert_eq!(deletes, ["POST /api/v1/bulk/delete?dataSource=t"]);
}
