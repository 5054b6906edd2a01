//! What the Domino REST API holds besides Domino's data: its settings, the scopes (kept in
//! `KeepConfig.nsf`) and the schemas (kept in each NSF). Dumped under `"drapi"` with the
//! Domino data, reset with it, and changed by the setup API or `POST /_sim/config`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::schema::{Schema, Scope, mail_schema, mail_scope, valid_api_name};

/// How the PIM calendar list shows a recurring series (not documented, domino-rest-api.md
/// §5.1; the choice is the simulator's, see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SeriesForm {
    /// One entry per occurrence in the window, each with `recurrenceId`.
    #[default]
    Instances,
    /// One entry per series with `recurrenceRules` (and `recurrenceOverrides`).
    Series,
}

/// Server settings a test can change with `POST /_sim/config`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Settings {
    /// `JwtDuration`: lifetime of a token from `POST /api/v1/auth` (default 2 h).
    pub jwt_lifetime_secs: i64,
    /// Status of a failed login: 401 (the spec) or 500 (HCL's 2023 Postman test).
    pub login_failure_status: u16,
    /// Whether the PIM API (`verticles.PIM.active`) is on.
    pub pim: bool,
    /// Whether the setup API (`versions.setup.active`) is on.
    pub setup: bool,
    /// Status of an update refused for a missing or stale `revision` (undocumented; 409).
    pub revision_conflict_status: u16,
    /// How the PIM calendar list shows recurring series.
    pub recurring: SeriesForm,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            jwt_lifetime_secs: 7200,
            login_failure_status: 401,
            pim: true,
            setup: true,
            revision_conflict_status: 409,
            recurring: SeriesForm::Instances,
        }
    }
}

/// Settings, scopes and schemas.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DrapiConfig {
    pub settings: Settings,
    /// By `apiName`.
    pub scopes: BTreeMap<String, Scope>,
    /// By (lower-case NSF path, schema name).
    pub schemas: BTreeMap<(String, String), Schema>,
}

/// `(user name, mail file path)` of each Domino user.
pub(crate) type MailFiles = [(String, String)];

impl DrapiConfig {
    /// Default settings, and for each user's mail file the schema and scope the sync needs.
    pub(crate) fn seeded(mail_files: &MailFiles) -> DrapiConfig {
        let mut config = DrapiConfig {
            settings: Settings::default(),
            scopes: BTreeMap::new(),
            schemas: BTreeMap::new(),
        };
        for (user, path) in mail_files {
            let schema = mail_schema(path);
            config
                .schemas
                .insert((path.to_lowercase(), schema.schema_name.clone()), schema);
            let scope = mail_scope(user, path);
            config.scopes.insert(scope.api_name.clone(), scope);
        }
        config
    }

    /// The scope with this name.
    pub(crate) fn scope(&self, name: &str) -> Option<&Scope> {
        self.scopes.get(name)
    }

    /// The schema a scope names.
    pub(crate) fn schema_of(&self, scope: &Scope) -> Option<&Schema> {
        self.schemas
            .get(&(scope.nsf_path.to_lowercase(), scope.schema_name.clone()))
    }

    /// Dump shape: `{"settings":{…},"scopes":[RestMapping…],"schemas":[KeepDatabase…]}`.
    pub(crate) fn dump(&self) -> Value {
        json!({
            "settings": self.settings,
            "scopes": self.scopes.values().collect::<Vec<_>>(),
            "schemas": self.schemas.values().map(Schema::to_json).collect::<Vec<_>>(),
        })
    }

    /// The configuration a dump describes; parts it leaves out are as seeded.
    pub(crate) fn from_dump(v: &Value, mail_files: &MailFiles) -> Result<DrapiConfig, String> {
        let mut config = DrapiConfig::seeded(mail_files);
        let obj = v.as_object().ok_or("\"drapi\" must be an object")?;
        if let Some(s) = obj.get("settings") {
            config.settings =
                serde_json::from_value(s.clone()).map_err(|e| format!("drapi settings: {e}"))?;
        }
        if let Some(list) = obj.get("scopes") {
            config.scopes.clear();
            for s in list.as_array().ok_or("drapi scopes must be an array")? {
                let scope = parse_scope(s)?;
                config.scopes.insert(scope.api_name.clone(), scope);
            }
        }
        if let Some(list) = obj.get("schemas") {
            config.schemas.clear();
            for s in list.as_array().ok_or("drapi schemas must be an array")? {
                let schema = Schema::from_json(s)?;
                config.schemas.insert(
                    (schema.nsf_path.to_lowercase(), schema.schema_name.clone()),
                    schema,
                );
            }
        }
        Ok(config)
    }

    /// Apply a `POST /_sim/config` body (see the module docs of `drapi`); `Err` changes
    /// nothing the caller keeps (it works on a copy).
    pub(crate) fn apply(&mut self, v: &Value) -> Result<(), String> {
        let obj = v.as_object().ok_or("expected a JSON object")?;
        let mut settings = serde_json::to_value(&self.settings).unwrap_or_default();
        for key in [
            "jwt_lifetime_secs",
            "login_failure_status",
            "pim",
            "setup",
            "revision_conflict_status",
            "recurring",
        ] {
            if let (Some(value), Value::Object(m)) = (obj.get(key), &mut settings) {
                m.insert(key.into(), value.clone());
            }
        }
        self.settings =
            serde_json::from_value(settings).map_err(|e| format!("invalid setting: {e}"))?;
        if self.settings.jwt_lifetime_secs <= 0 {
            return Err("jwt_lifetime_secs must be positive".into());
        }
        for key in ["login_failure_status", "revision_conflict_status"] {
            let status = match key {
                "login_failure_status" => self.settings.login_failure_status,
                _ => self.settings.revision_conflict_status,
            };
            if !(400..=599).contains(&status) {
                return Err(format!("{key} must be an error status (400-599)"));
            }
        }
        if let Some(scopes) = obj.get("scopes") {
            let scopes = scopes.as_object().ok_or("scopes must be an object")?;
            for (name, change) in scopes {
                self.change_scope(name, change)?;
            }
        }
        if let Some(schemas) = obj.get("schemas") {
            let schemas = schemas.as_object().ok_or("schemas must be an object")?;
            for (scope, change) in schemas {
                self.change_schema(scope, change)?;
            }
        }
        Ok(())
    }

    /// `null` removes the scope; an object is merged into it (or is a new scope).
    fn change_scope(&mut self, name: &str, change: &Value) -> Result<(), String> {
        match change {
            Value::Null => {
                self.scopes.remove(name);
                Ok(())
            }
            Value::Object(fields) => {
                let mut merged = self
                    .scopes
                    .get(name)
                    .map(|s| serde_json::to_value(s).unwrap_or_default())
                    .unwrap_or_else(|| json!({ "apiName": name }));
                if let Value::Object(m) = &mut merged {
                    for (k, v) in fields {
                        m.insert(k.clone(), v.clone());
                    }
                }
                let scope = parse_scope(&merged)?;
                if scope.api_name != name {
                    return Err(format!("scope {name}: apiName cannot be changed"));
                }
                self.scopes.insert(name.to_owned(), scope);
                Ok(())
            }
            _ => Err(format!("scope {name}: expected null or an object")),
        }
    }

    /// Change the schema scope `scope` names: `null` removes it; an object may replace top-level
    /// keys (`dqlAccess`, `requireRevisionToUpdate`, `isActive`, `views`, …) and take
    /// `remove_forms`, `remove_modes` `{form:[mode]}`, `remove_fields` `{form:[field]}` (from
    /// every mode of the form) and `add_fields` `{form:[KeepField]}` (to every mode).
    fn change_schema(&mut self, scope: &str, change: &Value) -> Result<(), String> {
        let key = {
            let s = self
                .scopes
                .get(scope)
                .ok_or_else(|| format!("schemas: no scope {scope}"))?;
            (s.nsf_path.to_lowercase(), s.schema_name.clone())
        };
        let Value::Object(fields) = change else {
            if change.is_null() {
                self.schemas.remove(&key);
                return Ok(());
            }
            return Err(format!("schemas.{scope}: expected null or an object"));
        };
        let current = self
            .schemas
            .get(&key)
            .ok_or_else(|| format!("schemas.{scope}: the scope's schema does not exist"))?;
        let mut json = current.to_json();
        let mut edits = Map::new();
        if let Value::Object(m) = &mut json {
            for (k, v) in fields {
                if k.starts_with("remove_") || k.starts_with("add_") {
                    edits.insert(k.clone(), v.clone());
                } else {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        let mut schema = Schema::from_json(&json)?;
        if let Some(list) = edits.get("remove_forms") {
            let names = string_list(list, "remove_forms")?;
            schema.forms.retain(|f| !names.iter().any(|n| f.matches(n)));
        }
        for (edit, mapping) in &edits {
            if edit == "remove_forms" {
                continue;
            }
            let per_form = mapping
                .as_object()
                .ok_or_else(|| format!("{edit} must map form names to lists"))?;
            for (form_name, list) in per_form {
                let form = schema
                    .forms
                    .iter_mut()
                    .find(|f| f.matches(form_name))
                    .ok_or_else(|| format!("{edit}: no form {form_name}"))?;
                match edit.as_str() {
                    "remove_modes" => {
                        let names = string_list(list, edit)?;
                        form.form_modes.retain(|m| {
                            !names.iter().any(|n| n.eq_ignore_ascii_case(&m.mode_name))
                        });
                    }
                    "remove_fields" => {
                        let names = string_list(list, edit)?;
                        for mode in &mut form.form_modes {
                            mode.fields
                                .retain(|f| !names.iter().any(|n| n.eq_ignore_ascii_case(&f.name)));
                        }
                    }
                    "add_fields" => {
                        let added: Vec<super::schema::Field> = serde_json::from_value(list.clone())
                            .map_err(|e| format!("add_fields: {e}"))?;
                        for mode in &mut form.form_modes {
                            mode.fields.extend(added.iter().cloned());
                        }
                    }
                    other => return Err(format!("unknown schema edit {other}")),
                }
            }
        }
        self.schemas.insert(key, schema);
        Ok(())
    }
}

fn string_list(v: &Value, what: &str) -> Result<Vec<String>, String> {
    v.as_array()
        .and_then(|a| {
            a.iter()
                .map(|x| x.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| format!("{what}: expected a list of names"))
}

/// Parse a `RestMapping`; `Err` names what is wrong.
pub(crate) fn parse_scope(v: &Value) -> Result<Scope, String> {
    let scope: Scope =
        serde_json::from_value(v.clone()).map_err(|e| format!("Invalid scope: {e}"))?;
    if !valid_api_name(&scope.api_name) {
        return Err(format!(
            "Invalid scope: apiName {:?} must be lower-case letters and digits",
            scope.api_name
        ));
    }
    if scope.nsf_path.trim().is_empty() || scope.schema_name.trim().is_empty() {
        return Err("Invalid scope: nsfPath and schemaName are required".into());
    }
    Ok(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Vec<(String, String)> {
        vec![("demo".into(), "mail/demo.nsf".into())]
    }

    #[test]
    fn sim_config_edits_scopes_and_schemas() {
        let mut c = DrapiConfig::seeded(&files());
        c.apply(&json!({"schemas":{"maildemo":{"dqlAccess":false,
            "remove_forms":["Task"],"remove_fields":{"Person":["ZohoCRMId"]},
            "remove_modes":{"Person":["dql"]}}}}))
            .unwrap();
        let scope = c.scope("maildemo").unwrap().clone();
        let schema = c.schema_of(&scope).unwrap();
        assert!(!schema.dql_access);
        assert!(schema.form("Task").is_none());
        let person = schema.form("Person").unwrap();
        assert!(person.mode("dql").is_none());
        assert!(person.mode("default").unwrap().field("ZohoCRMId").is_none());
        c.apply(&json!({"scopes":{"maildemo":null}})).unwrap();
        assert!(c.scope("maildemo").is_none());
        let mut bad = c.clone();
        assert!(bad.apply(&json!({"jwt_lifetime_secs":0})).is_err());
        assert!(bad.apply(&json!({"scopes":{"X":{}}})).is_err());
        assert!(bad.apply(&json!({"schemas":{"nosuch":{}}})).is_err());
    }

    #[test]
    fn dump_round_trips() {
        let mut c = DrapiConfig::seeded(&files());
        c.settings.recurring = SeriesForm::Series;
        let back = DrapiConfig::from_dump(&c.dump(), &files()).unwrap();
        assert_eq!(back, c);
    }
}
