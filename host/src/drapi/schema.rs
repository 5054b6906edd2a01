//! What an admin imports so a mail file syncs through the Domino REST API
//! (`reference/domino-rest-api.md` §2.4): a **schema** (`KeepDatabase`) that exposes the forms
//! `Person` and `Task` with every item the sync reads and writes, in the modes `default` and
//! `dql`, the contacts and to-do views, DQL access and deletion; and a **scope** (`RestMapping`)
//! that names the mail file and that schema. `nzsync drapi-schema --mail-db …` prints both.
//!
//! The items come from the mapping itself (`sync_core::mapping::fields_of`), so the schema and
//! what the sync checks for ([`sync_core`]'s readiness of a module) cannot drift apart.

use serde_json::{Value, json};
use sync_core::mapping::{Conv, NOTES_PRIVATE_ITEM, NOTES_XREF_ITEM, fields_of, notes_form};
use sync_core::{DrapiScope, EngineConfig, Module};

/// The schema name the printed schema and scope use.
pub const SCHEMA_NAME: &str = "nzsync";

/// A field of a mode (`KeepField`).
fn field(name: &str, format: Option<&str>) -> Value {
    let mut f = json!({"name": name, "type": "string", "fieldAccess": "RW"});
    if let (Some(fmt), Some(o)) = (format, f.as_object_mut()) {
        o.insert("format".into(), json!(fmt));
    }
    f
}

/// The fields of `module`'s form: every mapped item (typed as the mapping writes it), the
/// items a new document gets, the cross-ID and the privacy mark.
fn fields(module: Module) -> Vec<Value> {
    let mut out = vec![field("Form", None)];
    for m in fields_of(module) {
        let format = match m.conv {
            Conv::RichText => Some("richtext"),
            Conv::Day | Conv::Completed => Some("date-time"),
            _ => None,
        };
        out.push(field(m.notes, format));
    }
    match module {
        Module::Contacts => out.push(field("Type", None)),
        // The older item a due date may be held in (read when `DueDateTime` is absent).
        Module::Tasks => {
            out.push(field("DueDate", Some("date")));
            out.push(field("TaskType", None));
        }
        Module::Events => {}
    }
    out.push(field(NOTES_PRIVATE_ITEM, None));
    out.push(field(NOTES_XREF_ITEM, None));
    out
}

fn mode(name: &str, fields: &[Value]) -> Value {
    json!({
        "modeName": name,
        "fields": fields,
        "readAccessFormula": {"formulaType": "domino", "formula": "@True"},
        "writeAccessFormula": {"formulaType": "domino", "formula": "@True"},
        "deleteAccessFormula": {"formulaType": "domino", "formula": "@True"},
        "computeWithForm": false,
    })
}

/// The schema (`KeepDatabase`) for the mail file `nsf_path`, with the views `config` names.
#[must_use]
pub fn schema(nsf_path: &str, config: &EngineConfig) -> Value {
    let forms: Vec<Value> = [Module::Contacts, Module::Tasks]
        .into_iter()
        .map(|m| {
            let f = fields(m);
            json!({
                "formName": notes_form(m),
                "formModes": [mode("default", &f), mode("dql", &f)],
            })
        })
        .collect();
    let view = |name: &str| {
        let alias = name.trim_start_matches("($").trim_end_matches(')');
        json!({"name": name, "alias": [alias]})
    };
    json!({
        "schemaName": SCHEMA_NAME,
        "nsfPath": nsf_path,
        "description": "Contacts and to-dos for notes-zoho-sync",
        "isActive": true,
        "requireRevisionToUpdate": false,
        "dqlAccess": true,
        "dqlFormula": {"formulaType": "domino", "formula": "@True"},
        "openAccess": true,
        "allowCode": false,
        "prohibitRefresh": true,
        "formulaEngine": "domino",
        "views": [view(&config.contacts_view), view(&config.tasks_view)],
        "agents": [],
        "forms": forms,
    })
}

/// The scope (`RestMapping`) that names the mail file `nsf_path` and the schema.
#[must_use]
pub fn scope(nsf_path: &str, name: &DrapiScope) -> Value {
    json!({
        "apiName": name.0,
        "schemaName": SCHEMA_NAME,
        "nsfPath": nsf_path,
        "description": format!("Mail file {nsf_path} for notes-zoho-sync"),
        "isActive": true,
        "server": "*",
        "maximumAccessLevel": "Editor",
    })
}

/// The admin's steps, in English and Japanese, for the mail file `nsf_path`, the scope
/// `name`, at the Domino REST API `base`.
#[must_use]
pub fn steps(nsf_path: &str, name: &DrapiScope, base: &str) -> [String; 2] {
    let enc = sync_core::http::encode(nsf_path);
    [
        format!(
            "To expose {nsf_path} to notes-zoho-sync through the Domino REST API:\n\
             1. Let the REST API open mail files: set \"nsfExclusions\": {{\"mail/\": false}} in a \
             JSON file in keepconfig.d and restart it (`restart task restapi`).\n\
             2. Import the schema: Admin UI → Schema Management → Import, or\n   \
             POST {base}/api/setup-v1/schema?nsfPath={enc}&configName={SCHEMA_NAME} with the \
             \"schema\" object (a JWT with the $SETUP scope, Designer access to the mail file).\n\
             3. Add the scope: Admin UI → Scope Management → Add Scope (name {name}, schema \
             {SCHEMA_NAME}), or POST {base}/api/setup-v1/admin/scope with the \"scope\" object.\n\
             4. Give the user Editor access in the mail file's ACL.\n\
             5. Check: `nzsync check --config nzsync.toml` with [domino] api = \"rest\"."
        ),
        format!(
            "{nsf_path} を Domino REST API 経由で notes-zoho-sync に公開する手順:\n\
             1. REST API がメールファイルを開けるようにする: keepconfig.d の JSON ファイルに \
             \"nsfExclusions\": {{\"mail/\": false}} を設定し、REST API を再起動します \
             (`restart task restapi`)。\n\
             2. スキーマを取り込む: Admin UI → Schema Management → Import、または\n   \
             {base}/api/setup-v1/schema?nsfPath={enc}&configName={SCHEMA_NAME} へ \"schema\" \
             オブジェクトを POST します ($SETUP スコープの JWT、メールファイルの設計者アクセスが必要)。\n\
             3. スコープを追加する: Admin UI → Scope Management → Add Scope (名前 {name}、スキーマ \
             {SCHEMA_NAME})、または {base}/api/setup-v1/admin/scope へ \"scope\" オブジェクトを POST します。\n\
             4. メールファイルの ACL でユーザーに編集者アクセスを与えます。\n\
             5. 確認: [domino] api = \"rest\" にして `nzsync check --config nzsync.toml` を実行します。"
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every item the sync needs is in both modes of both forms, typed as the mapping writes
    /// it; the scope names the mail file and the schema.
    #[test]
    fn the_schema_exposes_every_item_the_sync_needs_in_both_modes() {
        let config = EngineConfig::default();
        let s = schema("mail/jdoe.nsf", &config);
        assert_eq!(s["nsfPath"], "mail/jdoe.nsf");
        assert_eq!(s["dqlAccess"], true);
        assert_eq!(s["prohibitRefresh"], true);
        let views: Vec<&str> = s["views"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(views, ["($Contacts)", "($ToDo)"]);
        for (form, module) in [("Person", Module::Contacts), ("Task", Module::Tasks)] {
            let f = s["forms"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["formName"] == form)
                .unwrap();
            for mode in f["formModes"].as_array().unwrap() {
                let names: Vec<&str> = mode["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["name"].as_str().unwrap())
                    .collect();
                for m in fields_of(module) {
                    assert!(
                        names.contains(&m.notes),
                        "{form}/{}: {}",
                        mode["modeName"],
                        m.notes
                    );
                }
                assert!(names.contains(&NOTES_XREF_ITEM) && names.contains(&NOTES_PRIVATE_ITEM));
            }
        }
        let due = s["forms"][1]["formModes"][0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "DueDateTime")
            .unwrap();
        assert_eq!(due["format"], "date-time");
        let sc = scope("mail/jdoe.nsf", &DrapiScope::for_mail_file("mail/jdoe.nsf"));
        assert_eq!(sc["apiName"], "mailjdoe");
        assert_eq!(sc["schemaName"], SCHEMA_NAME);
    }
}
