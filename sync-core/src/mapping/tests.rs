//! Contacts and to-dos through the per-module dispatch: both directions of each table, the
//! placeholder, the company lookup, and the list-field limit.

use serde_json::json;

use super::*;
use crate::time::Timestamp;

fn ctx() -> MapCtx {
    MapCtx {
        tz: "Asia/Tokyo".parse().unwrap(),
        now: Timestamp::parse_iso("2026-11-25T03:00:00Z").unwrap(),
        ..MapCtx::default()
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
