//! The engine against scripted servers.
use serde_json::{Value, json};

mod rest;

use super::*;
use crate::state::ModuleState;

/// Zoho's 201 for an insert of every record in `r`'s body, ids `{prefix}0`, `{prefix}1`, …
fn inserted(r: &HttpRequest, prefix: &str) -> HttpResponse {
    let body: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
    let n = body["data"].as_array().unwrap().len();
    let data: Vec<Value> = (0..n)
        .map(|k| {
            json!({"code": "SUCCESS", "details": {"id": format!("{prefix}{k}")},
                   "message": "record added", "status": "success"})
        })
        .collect();
    answer(201, &json!({ "data": data }))
}

fn answer(status: u16, body: &Value) -> HttpResponse {
    crate::testing::json_answer(status, body)
}

fn contacts_only() -> EngineConfig {
    EngineConfig {
        mail_db: "mail/t.nsf".into(),
        settings: Settings {
            tasks: false,
            events: calendar::EventsWindow::Off,
            ..Settings::default()
        },
        time_zone: Some("UTC".into()),
        ..EngineConfig::default()
    }
}

fn ready_state() -> SyncState {
    let mut state = SyncState::default();
    state.modules.insert(
        Module::Contacts,
        ModuleState {
            crm_xref_ready: true,
            ..ModuleState::default()
        },
    );
    state
}

/// The replica ID of the test mail file `mail/t.nsf`.
const REPLICA: &str = "AAAABBBBCCCCDDDD";

/// The org around every test: who the token is (`ME`), the mail file's replica ID, and
/// the system "My Contacts" view (`900`).
fn org(r: &HttpRequest) -> Option<HttpResponse> {
    let p = r.path.as_str();
    if p == "/crm/v8/users?type=CurrentUser" {
        return Some(answer(
            200,
            &json!({"users": [{"id": "ME", "time_zone": "UTC"}]}),
        ));
    }
    if p == "/api/data" {
        return Some(answer(
            200,
            &json!([{"@filepath": "mail/t.nsf", "@replicaid": REPLICA}]),
        ));
    }
    if p == "/api/pim-v1/info" {
        return Some(answer(
            200,
            &json!({"Title": "T", "filepath": "mail/t.nsf", "replicaid": REPLICA}),
        ));
    }
    if p.starts_with("/crm/v8/settings/custom_views?") {
        return Some(answer(
            200,
            &json!({"custom_views": [
                {"id": "899", "system_name": "ALLVIEWS"},
                {"id": "900", "system_name": "MYCONTACTS"}]}),
        ));
    }
    None
}

/// Runs the engine to the end, answering each request with [`org`] or else `server`;
/// returns the report and every request made. Each run is made twice, with the links in the
/// state and with the links read on request from the driver's store (and every answer handed
/// over in parts of a few bytes): both must ask the same requests and report the same.
fn drive(
    config: EngineConfig,
    state: SyncState,
    mut server: impl FnMut(&HttpRequest) -> HttpResponse,
) -> (RunReport, Vec<HttpRequest>) {
    let now = Timestamp(1_764_000_000_000);
    let mut runs = Vec::new();
    for links in [LinkSupply::InState, LinkSupply::OnRequest] {
        let config = EngineConfig {
            links,
            ..config.clone()
        };
        let mut given = state.clone();
        if links == LinkSupply::OnRequest {
            for m in given.modules.values_mut() {
                m.links.clear();
            }
        }
        let engine = Engine::new(config, given, now);
        let mut driver = crate::testing::Driver::new(now, state.clone());
        if links == LinkSupply::OnRequest {
            driver.part_bytes = Some(7);
        }
        let run = driver
            .run(engine, |r| Ok(org(r).unwrap_or_else(|| server(r))))
            .unwrap();
        runs.push((run.report, run.asked));
    }
    let on_request = runs.pop().unwrap();
    let in_state = runs.pop().unwrap();
    assert_eq!(
        in_state, on_request,
        "links in the state and on request differ"
    );
    // Windows of one document, holding no unlinked CRM content (read again by id when
    // needed), decide the same, whatever order the writes go in.
    let engine = Engine::new(
        EngineConfig {
            window: 1,
            crm_pool_bytes: 0,
            ..config
        },
        state.clone(),
        now,
    );
    let small = crate::testing::Driver::new(now, state)
        .run(engine, |r| {
            // A record read again by id answers as the listing did.
            if r.method == "GET" && r.path.contains("?ids=") && !r.path.contains("wf_trigger") {
                return Ok(refetch(r, &mut server));
            }
            Ok(org(r).unwrap_or_else(|| server(r)))
        })
        .unwrap();
    let counts = |r: &RunReport| {
        (
            r.outcome,
            r.modules
                .iter()
                .map(|m| (m.module, m.status, m.counts))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        counts(&small.report),
        counts(&in_state.0),
        "windows of one document decide otherwise:\n{}\n{}",
        small.report.to_text(),
        in_state.0.to_text()
    );
    in_state
}

/// The answer to a read again by id (`?ids=`), cut from the scripted server's listing of
/// the module (its first page): the records with those ids.
fn refetch(r: &HttpRequest, server: &mut impl FnMut(&HttpRequest) -> HttpResponse) -> HttpResponse {
    let path = r.path.as_str();
    let ids: Vec<&str> = path
        .split("ids=")
        .nth(1)
        .and_then(|q| q.split('&').next())
        .unwrap_or("")
        .split(',')
        .collect();
    let module = path.split('?').next().unwrap_or("");
    let listing = HttpRequest {
        path: format!("{module}?cvid=900&fields=Owner&per_page=200"),
        ..r.clone()
    };
    let listed = server(&listing);
    let body: Value = serde_json::from_str(&listed.body).unwrap_or(Value::Null);
    let data: Vec<Value> = body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|rec| ids.contains(&rec["id"].as_str().unwrap_or("")))
        .cloned()
        .collect();
    if data.is_empty() {
        return answer(204, &Value::Null);
    }
    answer(
        200,
        &json!({ "data": data, "info": { "more_records": false } }),
    )
}

/// Two Notes contacts (companies "Acme" and "Globex"), CRM empty but for an Account
/// "ACME" (another spelling) and "Acme"; COQL finds both, only the exact one is used;
/// Globex is created.
fn server(coql: u16) -> impl FnMut(&HttpRequest) -> HttpResponse {
    move |r: &HttpRequest| {
        let p = r.path.as_str();
        match (r.method.as_str(), p) {
            ("GET", _) if p.contains("/collections/") => {
                answer(200, &json!([{"@unid": "U1"}, {"@unid": "U2"}]))
            }
            ("GET", _) if p.contains("/documents/unid/U1") => answer(
                200,
                &json!({"@unid": "U1", "LastName": "One", "CompanyName": "Acme"}),
            ),
            ("GET", _) if p.contains("/documents/unid/U2") => answer(
                200,
                &json!({"@unid": "U2", "LastName": "Two", "CompanyName": "Globex"}),
            ),
            (
                "GET",
                "/crm/v8/Contacts?cvid=900&fields=First_Name,Last_Name,Email,Phone,Mobile,Home_Phone,Title,Department,Account_Name,Mailing_Street,Mailing_City,Mailing_State,Mailing_Zip,Mailing_Country,Notes_UNID,Tag,Modified_Time,Owner&per_page=200",
            ) => answer(204, &Value::Null),
            ("POST", "/crm/v8/coql") if coql == 200 => answer(
                200,
                &json!({"data": [
                    {"Account_Name": "ACME", "id": "3"},
                    {"Account_Name": "Acme", "id": "8"},
                    {"Account_Name": "Acme", "id": "7"}],
                    "info": {"count": 3, "more_records": false}}),
            ),
            ("POST", "/crm/v8/coql") => answer(
                coql,
                &json!({"code": "OAUTH_SCOPE_MISMATCH", "details": {},
                        "message": "invalid oauth scope to access this URL", "status": "error"}),
            ),
            ("GET", "/crm/v8/Accounts?fields=Account_Name&per_page=200") => answer(
                200,
                &json!({"data": [
                    {"Account_Name": "ACME", "id": "3"},
                    {"Account_Name": "Acme", "id": "7"}],
                    "info": {"count": 2, "more_records": false}}),
            ),
            ("POST", "/crm/v8/Accounts") => inserted(r, "9"),
            ("POST", "/crm/v8/Contacts") => inserted(r, "5"),
            ("PATCH", _) => answer(200, &json!({})),
            other => panic!("unexpected request {other:?}"),
        }
    }
}

fn bodies(asked: &[HttpRequest], method: &str, path: &str) -> Vec<Value> {
    asked
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .map(|r| serde_json::from_str(r.body.as_deref().unwrap_or("null")).unwrap())
        .collect()
}

#[test]
fn companies_resolve_by_exact_name_with_one_query_and_missing_accounts_are_created() {
    let (report, asked) = drive(contacts_only(), ready_state(), server(200));
    assert_eq!(
        report.outcome,
        RunOutcome::Completed,
        "{}",
        report.to_text()
    );
    let coql = bodies(&asked, "POST", "/crm/v8/coql");
    assert_eq!(coql.len(), 1, "one query for both names");
    assert_eq!(
        coql[0]["select_query"],
        "select Account_Name from Accounts where Account_Name in ('Acme', 'Globex') limit 2000"
    );
    let created = bodies(&asked, "POST", "/crm/v8/Accounts");
    assert_eq!(
        created,
        vec![json!({"data": [{"Account_Name": "Globex"}], "trigger": []})]
    );
    let contacts = bodies(&asked, "POST", "/crm/v8/Contacts");
    assert_eq!(contacts.len(), 1);
    let accounts: Vec<&Value> = contacts[0]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["Account_Name"])
        .collect();
    // "Acme" is the lowest-id Account spelled exactly so; "ACME" is another company.
    assert_eq!(accounts, vec![&json!({"id": "7"}), &json!({"id": "90"})]);
}

#[test]
fn a_token_without_the_coql_scope_falls_back_to_listing_accounts() {
    let (report, asked) = drive(contacts_only(), ready_state(), server(401));
    assert_eq!(
        report.outcome,
        RunOutcome::Completed,
        "{}",
        report.to_text()
    );
    assert_eq!(
        asked
            .iter()
            .filter(|r| r.path.starts_with("/crm/v8/Accounts?"))
            .count(),
        1
    );
    let contacts = bodies(&asked, "POST", "/crm/v8/Contacts");
    assert_eq!(contacts[0]["data"][0]["Account_Name"], json!({"id": "7"}));
    assert_eq!(contacts[0]["data"][1]["Account_Name"], json!({"id": "90"}));
}

#[test]
fn companies_named_by_listed_contacts_need_no_lookup() {
    let mut srv = server(200);
    let (report, asked) = drive(contacts_only(), ready_state(), |r: &HttpRequest| {
        if r.method == "GET" && r.path.starts_with("/crm/v8/Contacts?") {
            // A CRM contact already at Acme and at Globex (not linked, no e-mail: no match).
            return answer(
                200,
                &json!({"data": [
                    {"id": "41", "Last_Name": "X", "Account_Name": {"name": "Acme", "id": "7"}},
                    {"id": "42", "Last_Name": "Y", "Account_Name": {"name": "Globex", "id": "6"}}],
                    "info": {"more_records": false}}),
            );
        }
        if r.method == "POST" && r.path.contains("/documents") {
            return HttpResponse {
                status: 201,
                headers: vec![Header {
                    name: "Location".into(),
                    value: format!("/api/data/documents/unid/N{}", r.id),
                }],
                body: String::new(),
            };
        }
        if r.method == "PUT" {
            return answer(
                200,
                &json!({"data": [
                {"code": "SUCCESS", "details": {"id": "41"}, "message": "record updated", "status": "success"},
                {"code": "SUCCESS", "details": {"id": "42"}, "message": "record updated", "status": "success"}]}),
            );
        }
        srv(r)
    });
    assert_eq!(
        report.outcome,
        RunOutcome::Completed,
        "{}",
        report.to_text()
    );
    assert!(bodies(&asked, "POST", "/crm/v8/coql").is_empty());
    assert!(bodies(&asked, "POST", "/crm/v8/Accounts").is_empty());
    let contacts = bodies(&asked, "POST", "/crm/v8/Contacts");
    assert_eq!(contacts[0]["data"][0]["Account_Name"], json!({"id": "7"}));
    assert_eq!(contacts[0]["data"][1]["Account_Name"], json!({"id": "6"}));
}

#[test]
fn a_company_that_cannot_be_created_fails_only_its_contact() {
    let mut srv = server(200);
    let (report, asked) = drive(contacts_only(), ready_state(), |r: &HttpRequest| {
        if r.method == "POST" && r.path == "/crm/v8/Accounts" {
            return answer(
                400,
                &json!({"data": [{"code": "INVALID_DATA", "details": {
                "api_name": "Account_Name", "maximum_length": 200}, "message": "invalid data",
                "status": "error"}]}),
            );
        }
        srv(r)
    });
    let contacts = bodies(&asked, "POST", "/crm/v8/Contacts");
    assert_eq!(
        contacts[0]["data"].as_array().unwrap().len(),
        1,
        "only Acme's"
    );
    let m = &report.modules[0];
    assert_eq!(m.counts.errors, 1, "{}", report.to_text());
    assert_eq!(m.counts.created, 1, "{}", report.to_text());
    let failed = m.entries.iter().find(|e| e.error.is_some()).unwrap();
    assert!(
        failed.error.as_deref().unwrap().contains("INVALID_DATA"),
        "{failed:?}"
    );
    assert_eq!(report.outcome, RunOutcome::Partial);
}

/// A state where U1, U2 and U3 are linked to CRM contacts 41, 42 and 43.
fn linked_state() -> SyncState {
    let mut state = ready_state();
    let m = state.modules.get_mut(&Module::Contacts).unwrap();
    for (u, z) in [("U1", "41"), ("U2", "42"), ("U3", "43")] {
        let mut base = Fields::default();
        base.set("last_name", u);
        m.links.push(Link {
            unid: NotesUnid(u.into()),
            zoho_id: ZohoId(z.into()),
            base,
        });
    }
    state
}

/// Both sides as the links remember them; the view lists `listed`; `doc` answers a read.
fn linked_server(
    listed: &'static [&'static str],
    mut doc: impl FnMut(&str) -> HttpResponse,
) -> impl FnMut(&HttpRequest) -> HttpResponse {
    move |r: &HttpRequest| {
        let p = r.path.as_str();
        match r.method.as_str() {
            "GET" if p.contains("/collections/") => {
                let rows: Vec<Value> = listed.iter().map(|u| json!({"@unid": u})).collect();
                answer(200, &Value::Array(rows))
            }
            "GET" if p.contains("/documents/unid/") => {
                let unid = p.rsplit('/').next().unwrap().split('?').next().unwrap();
                doc(unid)
            }
            "GET" if p.starts_with("/crm/v8/Contacts?") => answer(
                200,
                &json!({"data": [
                    {"id": "41", "Last_Name": "U1", "Notes_UNID": format!("{REPLICA}:U1"),
                     "Owner": {"id": "ME"}},
                    {"id": "42", "Last_Name": "U2", "Notes_UNID": format!("{REPLICA}:U2"),
                     "Owner": {"id": "ME"}},
                    {"id": "43", "Last_Name": "U3", "Notes_UNID": format!("{REPLICA}:U3"),
                     "Owner": {"id": "ME"}}],
                    "info": {"more_records": false}}),
            ),
            "DELETE" => answer(
                200,
                &json!({"data": [{"code": "SUCCESS", "details": {"id": "43"},
                    "message": "record deleted", "status": "success"}]}),
            ),
            "PATCH" => answer(200, &json!({})),
            "PUT" => inserted(r, "4"),
            other => panic!("unexpected request {other} {p}"),
        }
    }
}

fn notes_doc(unid: &str) -> HttpResponse {
    answer(200, &json!({"@unid": unid, "LastName": unid}))
}

fn crm_deletes(asked: &[HttpRequest]) -> Vec<&str> {
    asked
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path.as_str())
        .collect()
}

/// [`linked_state`] after a run an hour ago: the next run is incremental on the Notes side.
fn incremental_state() -> SyncState {
    let now = Timestamp(1_764_000_000_000);
    let mut state = linked_state();
    let fingerprint =
        Engine::new(contacts_only(), state.clone(), now).fingerprint(Module::Contacts);
    let m = state.modules.get_mut(&Module::Contacts).unwrap();
    m.notes_cursor = Some(now.plus_ms(-3_600_000));
    m.fingerprint = Some(fingerprint);
    state
}

/// DAS's changed-documents list naming `changed` among a thousand documents of other forms,
/// with the JSON escapes and non-ASCII text a real one carries in `@href`.
fn changed_list(changed: &[&str]) -> HttpResponse {
    let mut docs: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"@modified": "2025-11-24T15:00:00Z", "@unid": format!("{i:032X}"),
                   "@href": format!("/mail/t.nsf/api/data/documents/unid/{i:032X}?\"予定\"")})
        })
        .collect();
    for u in changed {
        docs.insert(
            500,
            json!({"@modified": "2025-11-24T15:00:00Z", "@unid": u}),
        );
    }
    answer(200, &Value::Array(docs))
}

#[test]
fn an_incremental_run_reads_the_documents_the_changed_list_names_whole_or_in_parts() {
    let mut linked = linked_server(&["U1", "U2", "U3"], notes_doc);
    let (report, asked) = drive(contacts_only(), incremental_state(), |r| {
        if r.path.contains("/api/data/documents?since=") {
            return changed_list(&["U2"]);
        }
        linked(r)
    });
    let read: Vec<&str> = asked
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/documents/unid/"))
        .map(|r| r.path.rsplit('/').next().unwrap_or_default())
        .collect();
    assert_eq!(read, ["U2?markread=false"], "{}", report.to_text());
    assert_eq!(
        report.outcome,
        RunOutcome::Completed,
        "{}",
        report.to_text()
    );
}

#[test]
fn a_login_page_instead_of_the_changed_list_ends_the_run_whole_or_in_parts() {
    let mut linked = linked_server(&["U1", "U2", "U3"], notes_doc);
    let (report, _) = drive(contacts_only(), incremental_state(), |r| {
        if r.path.contains("/api/data/documents?since=") {
            return HttpResponse {
                status: 200,
                headers: Vec::new(),
                body: format!("<html><form>{}</form></html>", "ログイン ".repeat(20_000)),
            };
        }
        linked(r)
    });
    assert_eq!(report.outcome, RunOutcome::Failed, "{}", report.to_text());
    assert!(
        report
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("login page"),
        "{}",
        report.to_text()
    );
}

#[test]
fn a_linked_document_missing_from_the_listing_is_read_before_its_twin_is_deleted() {
    // Skipped by offset paging but still there: nothing is deleted.
    let (report, asked) = drive(
        contacts_only(),
        linked_state(),
        linked_server(&["U1", "U2"], notes_doc),
    );
    assert!(
        asked.iter().any(|r| r.path.contains("/documents/unid/U3")),
        "U3 was not looked up"
    );
    assert_eq!(
        crm_deletes(&asked),
        Vec::<&str>::new(),
        "{}",
        report.to_text()
    );
    // Really deleted (404): its twin goes.
    let (report, asked) = drive(
        contacts_only(),
        linked_state(),
        linked_server(&["U1", "U2"], |u| {
            if u == "U3" {
                answer(404, &json!({"code": 404, "text": "Not Found"}))
            } else {
                notes_doc(u)
            }
        }),
    );
    assert_eq!(
        crm_deletes(&asked),
        vec!["/crm/v8/Contacts?ids=43&wf_trigger=false"],
        "{}",
        report.to_text()
    );
}

#[test]
fn an_unreadable_linked_document_is_one_error_not_a_failed_module() {
    let (report, asked) = drive(
        contacts_only(),
        linked_state(),
        linked_server(&["U1", "U2", "U3"], |u| {
            if u == "U2" {
                HttpResponse {
                    status: 200,
                    headers: Vec::new(),
                    body: "{\"@unid\": \"U2\", \"LastNa".into(),
                }
            } else {
                notes_doc(u)
            }
        }),
    );
    let m = report
        .modules
        .iter()
        .find(|m| m.module == Module::Contacts)
        .unwrap_or_else(|| panic!("{}", report.to_text()));
    assert_eq!(m.status, ModuleStatus::Completed, "{}", report.to_text());
    assert_eq!(m.counts.errors, 1, "{}", report.to_text());
    assert_eq!(report.outcome, RunOutcome::Partial);
    assert!(crm_deletes(&asked).is_empty(), "{}", report.to_text());
}

#[test]
fn a_view_total_too_large_to_believe_is_walked_page_by_page() {
    let (_, asked) = drive(contacts_only(), ready_state(), |r: &HttpRequest| {
        let p = r.path.as_str();
        if p.contains("/collections/") {
            let mut resp = answer(200, &json!([]));
            resp.headers.push(Header {
                name: "Content-Range".into(),
                value: "items 0-0/18446744073709551615".into(),
            });
            return resp;
        }
        answer(204, &Value::Null)
    });
    let pages = asked
        .iter()
        .filter(|r| r.path.contains("/collections/"))
        .count();
    assert_eq!(pages, 1);
}

/// Owner scope: of three linked contacts, 42 was reassigned (listed with another owner)
/// and 43 vanished from "My Contacts" (looked up: still there, another owner's); an
/// unlinked contact of another user is listed too. Only the user's own stay in Notes.
#[test]
fn records_of_other_owners_leave_notes_and_never_arrive() {
    let config = EngineConfig {
        allow_mass_delete: true,
        ..contacts_only()
    };
    let (report, asked) = drive(config, linked_state(), |r: &HttpRequest| {
        let p = r.path.as_str();
        match r.method.as_str() {
            "GET" if p.contains("/collections/") => answer(
                200,
                &json!([{"@unid": "U1"}, {"@unid": "U2"}, {"@unid": "U3"}]),
            ),
            "GET" if p.contains("/documents/unid/") => {
                notes_doc(p.rsplit('/').next().unwrap().split('?').next().unwrap())
            }
            "GET" if p.starts_with("/crm/v8/Contacts?cvid=900&") => answer(
                200,
                &json!({"data": [
                    {"id": "41", "Last_Name": "U1", "Notes_UNID": format!("{REPLICA}:U1"),
                     "Owner": {"id": "ME"}},
                    {"id": "42", "Last_Name": "U2", "Notes_UNID": format!("{REPLICA}:U2"),
                     "Owner": {"id": "OTHER"}},
                    {"id": "50", "Last_Name": "Theirs", "Owner": {"id": "OTHER"}}],
                    "info": {"more_records": false}}),
            ),
            "GET" if p.starts_with("/crm/v8/Contacts?ids=43&") => answer(
                200,
                &json!({"data": [{"id": "43", "Last_Name": "U3", "Owner": {"id": "OTHER"}}],
                    "info": {"more_records": false}}),
            ),
            "DELETE" => answer(200, &json!({})),
            "PATCH" => answer(200, &json!({})),
            other => panic!("unexpected request {other} {p}"),
        }
    });
    let notes_deletes: Vec<&str> = asked
        .iter()
        .filter(|r| r.method == "DELETE" && r.side == Side::Notes)
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(notes_deletes.len(), 2, "{}", report.to_text());
    assert!(notes_deletes.iter().any(|p| p.ends_with("/U2")));
    assert!(notes_deletes.iter().any(|p| p.ends_with("/U3")));
    assert!(
        !asked
            .iter()
            .any(|r| r.side == Side::Crm && r.method != "GET"),
        "nothing is written to another user's records: {asked:?}"
    );
    assert!(
        !asked.iter().any(|r| r.method == "POST"),
        "another user's contact is not created in Notes"
    );
    assert!(
        report.to_text().contains("left your scope"),
        "{}",
        report.to_text()
    );
}

/// Cross-IDs name the mail file: a new CRM record carries `{replica}:{unid}`; a record
/// whose cross-ID is an earlier version's bare UNID of its own link is rewritten so.
#[test]
fn cross_ids_written_name_the_mail_file() {
    let (report, asked) = drive(contacts_only(), linked_state(), |r: &HttpRequest| {
        let p = r.path.as_str();
        match r.method.as_str() {
            "GET" if p.contains("/collections/") => answer(
                200,
                &json!([{"@unid": "U1"}, {"@unid": "U2"}, {"@unid": "U3"}, {"@unid": "U9"}]),
            ),
            "GET" if p.contains("/documents/unid/") => {
                notes_doc(p.rsplit('/').next().unwrap().split('?').next().unwrap())
            }
            "GET" if p.starts_with("/crm/v8/Contacts?cvid=900&") => answer(
                200,
                &json!({"data": [
                    {"id": "41", "Last_Name": "U1", "Notes_UNID": "U1", "Owner": {"id": "ME"}},
                    {"id": "42", "Last_Name": "U2", "Notes_UNID": format!("{REPLICA}:U2"),
                     "Owner": {"id": "ME"}},
                    {"id": "43", "Last_Name": "U3", "Notes_UNID": format!("{REPLICA}:U3"),
                     "Owner": {"id": "ME"}}],
                    "info": {"more_records": false}}),
            ),
            "POST" => inserted(r, "60"),
            "PUT" => inserted(r, "41"),
            "PATCH" => answer(200, &json!({})),
            other => panic!("unexpected request {other} {p}"),
        }
    });
    let written: Vec<String> = asked
        .iter()
        .filter(|r| r.side == Side::Crm && matches!(r.method.as_str(), "POST" | "PUT"))
        .map(|r| r.body.clone().unwrap_or_default())
        .collect();
    let all = written.join("\n");
    assert!(all.contains(&format!("\"{REPLICA}:U9\"")), "{all}");
    assert!(
        all.contains(&format!("\"{REPLICA}:U1\"")),
        "{all}\n{}",
        report.to_text()
    );
}

/// Fingerprints are the same text in every build (with or without serde_json's
/// `preserve_order`) and the same as stored ones: the keys in alphabetical order.
#[test]
fn the_settings_fingerprint_has_a_fixed_key_order() {
    let engine = Engine::new(contacts_only(), ready_state(), Timestamp(0));
    let s = &engine.config.settings;
    let old: BTreeMap<&str, Value> = [
        ("module", json!(Module::Tasks)),
        ("direction", json!(s.direction)),
        ("conflict", json!(s.conflict)),
        ("private_tag", json!(engine.config.private_tag)),
        ("events", json!(s.events)),
        ("mail_db", json!(engine.config.mail_db)),
        ("scope", json!("mine")),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        engine.fingerprint(Module::Tasks),
        serde_json::to_string(&old).unwrap()
    );
}
