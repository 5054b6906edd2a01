//! Schemas (`KeepDatabase`: forms, modes, fields, views, DQL access) and scopes (`RestMapping`:
//! a name for one NSF and one schema), as the setup API writes them and `GET /api/v1/scope`
//! shows them (domino-rest-api.md §2.3–2.4).
//!
//! Unknown keys of every object are kept (`extra`), so what an admin posts comes back as posted;
//! the keys the simulator acts on are typed.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A formula of a schema. The simulator evaluates `@True` and `@False` only; any other
/// formula counts as true (the Notes formula engine is not simulated).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Formula {
    #[serde(default = "domino")]
    pub formula_type: String,
    #[serde(default)]
    pub formula: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn domino() -> String {
    "domino".into()
}

impl Formula {
    pub(crate) fn of(formula: &str) -> Formula {
        Formula {
            formula_type: domino(),
            formula: formula.to_owned(),
            extra: Map::new(),
        }
    }

    /// Whether the formula lets the request through (`@False` alone refuses).
    pub(crate) fn allows(&self) -> bool {
        !self.formula.trim().eq_ignore_ascii_case("@False")
    }
}

fn at_true() -> Formula {
    Formula::of("@True")
}

fn at_false() -> Formula {
    Formula::of("@False")
}

/// A field of a mode (`KeepField`): the item it maps to and how it is typed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Field {
    pub name: String,
    #[serde(rename = "type", default = "string")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multivalue: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn string() -> String {
    "string".into()
}

impl Field {
    fn new(name: &str, kind: &str, format: Option<&str>) -> Field {
        Field {
            name: name.to_owned(),
            kind: kind.to_owned(),
            format: format.map(str::to_owned),
            multivalue: None,
            field_access: Some("RW".into()),
            items: None,
            extra: Map::new(),
        }
    }

    /// Delivered as an array: typed `array`, or marked multi-value.
    pub(crate) fn multi(&self) -> bool {
        self.kind == "array" || self.multivalue == Some(true)
    }

    /// The format of the values: the field's own, or that of its `items` for arrays.
    pub(crate) fn value_format(&self) -> Option<&str> {
        self.format
            .as_deref()
            .filter(|f| *f != "string" || self.kind != "array")
            .or_else(|| self.items.as_ref()?.get("format")?.as_str())
    }

    /// A date/time field (`date-time` or `date`): strings written to it become dates.
    pub(crate) fn is_date(&self) -> bool {
        matches!(self.value_format(), Some("date-time" | "date"))
    }

    pub(crate) fn is_rich_text(&self) -> bool {
        self.value_format() == Some("richtext")
    }

    pub(crate) fn is_boolean(&self) -> bool {
        self.kind == "boolean"
            || self
                .items
                .as_ref()
                .and_then(|i| i.get("type"))
                .and_then(Value::as_str)
                == Some("boolean")
    }

    /// Readable: access `RW` or `RO` (the default is `RW`).
    pub(crate) fn readable(&self) -> bool {
        !self
            .field_access
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("WO"))
    }

    /// Writable: access `RW` or `WO`.
    pub(crate) fn writable(&self) -> bool {
        !self
            .field_access
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case("RO"))
    }
}

/// `fields` of a mode: names alone, or `KeepField` objects (the spec allows both).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum FieldSpec {
    Name(String),
    Field(Box<Field>),
}

fn fields_from_specs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Field>, D::Error> {
    let specs = Vec::<FieldSpec>::deserialize(d)?;
    Ok(specs
        .into_iter()
        .map(|s| match s {
            FieldSpec::Name(n) => Field::new(&n, "string", None),
            FieldSpec::Field(f) => *f,
        })
        .collect())
}

/// A mode of a form (`KeepFormMode`): the fields it shows and who may read, write, delete.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Mode {
    pub mode_name: String,
    #[serde(default, deserialize_with = "fields_from_specs")]
    pub fields: Vec<Field>,
    #[serde(default)]
    pub required: Vec<String>,
    #[serde(default = "at_true")]
    pub read_access_formula: Formula,
    #[serde(default = "at_true")]
    pub write_access_formula: Formula,
    #[serde(default = "at_false")]
    pub delete_access_formula: Formula,
    #[serde(default)]
    pub compute_with_form: bool,
    #[serde(default)]
    pub validation_rules: Vec<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Mode {
    /// The field for an item (names compare case-insensitively, as Notes item names do).
    pub(crate) fn field(&self, item: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(item))
    }
}

/// A form of a schema (`KeepForm`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Form {
    pub form_name: String,
    #[serde(default)]
    pub alias: Vec<String>,
    #[serde(default)]
    pub form_modes: Vec<Mode>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Form {
    /// Whether documents with this `Form` value belong to this configuration (its name or an
    /// alias, any case).
    pub(crate) fn matches(&self, form: &str) -> bool {
        self.form_name.eq_ignore_ascii_case(form)
            || self.alias.iter().any(|a| a.eq_ignore_ascii_case(form))
    }

    /// The `Form` value documents read through this configuration show: "the last alias of
    /// the found form configuration", or its name.
    pub(crate) fn shown_name(&self) -> &str {
        self.alias
            .last()
            .map_or(self.form_name.as_str(), String::as_str)
    }

    pub(crate) fn mode(&self, name: &str) -> Option<&Mode> {
        self.form_modes
            .iter()
            .find(|m| m.mode_name.eq_ignore_ascii_case(name))
    }
}

/// A list (view or folder) a schema exposes (`ViewInfo`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ViewConf {
    pub name: String,
    #[serde(default)]
    pub alias: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ViewConf {
    pub(crate) fn matches(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self.alias.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// A schema (`KeepDatabase`), kept in its NSF.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Schema {
    #[serde(default)]
    pub schema_name: String,
    #[serde(default)]
    pub nsf_path: String,
    #[serde(default = "domino")]
    pub formula_engine: String,
    #[serde(default = "yes")]
    pub is_active: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub require_revision_to_update: bool,
    #[serde(default)]
    pub dql_access: bool,
    #[serde(default = "at_true")]
    pub dql_formula: Formula,
    #[serde(default)]
    pub open_access: bool,
    #[serde(default)]
    pub allow_code: bool,
    #[serde(default)]
    pub views: Vec<ViewConf>,
    #[serde(default)]
    pub agents: Vec<Value>,
    #[serde(default)]
    pub forms: Vec<Form>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn yes() -> bool {
    true
}

impl Schema {
    /// The form configuration documents with this `Form` value fall under.
    pub(crate) fn form(&self, form: &str) -> Option<&Form> {
        self.forms.iter().find(|f| f.matches(form))
    }

    pub(crate) fn view(&self, name: &str) -> Option<&ViewConf> {
        self.views.iter().find(|v| v.matches(name))
    }

    /// Whether DQL may run: `dqlAccess` on and its formula not `@False`.
    pub(crate) fn dql_allowed(&self) -> bool {
        self.dql_access && self.dql_formula.allows()
    }

    /// Parse a posted `KeepDatabase`; `Err` names what is wrong.
    pub(crate) fn from_json(v: &Value) -> Result<Schema, String> {
        let schema: Schema =
            serde_json::from_value(v.clone()).map_err(|e| format!("Invalid schema: {e}"))?;
        for form in &schema.forms {
            if form.form_name.trim().is_empty() {
                return Err("Invalid schema: a form needs a formName".into());
            }
            if form.form_modes.is_empty() {
                return Err(format!(
                    "Invalid schema: form {} needs at least one mode",
                    form.form_name
                ));
            }
        }
        Ok(schema)
    }

    pub(crate) fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| json!({}))
    }
}

/// A scope (`RestMapping`): the name a database is known by to REST clients.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Scope {
    pub api_name: String,
    pub schema_name: String,
    pub nsf_path: String,
    #[serde(default = "yes")]
    pub is_active: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default = "any_server")]
    pub server: String,
    #[serde(default = "editor")]
    pub maximum_access_level: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn any_server() -> String {
    "*".into()
}

fn editor() -> String {
    "Editor".into()
}

/// Whether `name` is a valid scope or schema name: lower-case letters and digits
/// (`RestMapping.apiName` pattern `[a-z0-9]`).
pub(crate) fn valid_api_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// ACL levels in order, as `maximumAccessLevel` names them.
pub(crate) const ACCESS_LEVELS: &[&str] = &[
    "NoAccess",
    "Depositor",
    "Reader",
    "Author",
    "Editor",
    "Designer",
    "Manager",
];

/// The rank of an access level name (any case); unknown names rank as Editor, the default.
pub(crate) fn access_rank(level: &str) -> usize {
    ACCESS_LEVELS
        .iter()
        .position(|l| l.eq_ignore_ascii_case(level))
        .unwrap_or(4)
}

/// The name of the schema and scope the simulator gives every user's mail file.
pub(crate) const MAIL_SCHEMA: &str = "nzsync";

/// The scope name of a user's mail file: `mail` and the user's name in lower-case letters and
/// digits (`demo` → `maildemo`).
pub(crate) fn mail_scope_name(user: &str) -> String {
    let name: String = user
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    format!("mail{name}")
}

fn mode(name: &str, fields: &[Field], delete: &str) -> Mode {
    Mode {
        mode_name: name.to_owned(),
        fields: fields.to_vec(),
        required: Vec::new(),
        read_access_formula: at_true(),
        write_access_formula: at_true(),
        delete_access_formula: Formula::of(delete),
        compute_with_form: false,
        validation_rules: Vec::new(),
        extra: Map::new(),
    }
}

fn form(name: &str, fields: &[Field]) -> Form {
    Form {
        form_name: name.to_owned(),
        alias: Vec::new(),
        form_modes: vec![
            mode("default", fields, "@True"),
            mode("dql", fields, "@True"),
        ],
        extra: Map::new(),
    }
}

/// The schema an admin sets up for a mail file so the sync works (domino-rest-api.md §2.4):
/// forms `Person` and `Task` with the mapped items (DESIGN.md §4.4), `OrgConfidential`,
/// `Categories` and the cross-ID item `ZohoCRMId`, modes `default` and `dql`, deletion
/// allowed, DQL on, the contacts and to-do views, revision not required.
pub(crate) fn mail_schema(nsf_path: &str) -> Schema {
    let text = |n: &str| Field::new(n, "string", None);
    let names = |n: &str| {
        let mut f = Field::new(n, "array", None);
        f.items = Some(json!({"type":"string"}));
        f
    };
    let mut person: Vec<Field> = [
        "Form",
        "Type",
        "FirstName",
        "LastName",
        "FullName",
        "MailAddress",
        "OfficePhoneNumber",
        "CellPhoneNumber",
        "PhoneNumber",
        "JobTitle",
        "Department",
        "CompanyName",
        "OfficeStreetAddress",
        "OfficeCity",
        "OfficeState",
        "OfficeZip",
        "OfficeCountry",
        "OrgConfidential",
        "ZohoCRMId",
    ]
    .iter()
    .map(|n| text(n))
    .collect();
    person.push(names("Categories"));
    person.push(Field::new("Birthday", "string", Some("date")));
    let date_time = |n: &str| Field::new(n, "string", Some("date-time"));
    let task: Vec<Field> = vec![
        text("Form"),
        text("Subject"),
        Field::new("Body", "string", Some("richtext")),
        date_time("StartDateTime"),
        date_time("DueDateTime"),
        Field::new("DueDate", "string", Some("date")),
        date_time("CompletedDateTime"),
        text("Importance"),
        text("TaskType"),
        text("OrgConfidential"),
        names("Categories"),
        text("ZohoCRMId"),
    ];
    let view = |name: &str, alias: &str| ViewConf {
        name: name.to_owned(),
        alias: vec![alias.to_owned()],
        extra: Map::new(),
    };
    Schema {
        schema_name: MAIL_SCHEMA.to_owned(),
        nsf_path: nsf_path.to_owned(),
        formula_engine: domino(),
        is_active: true,
        description: "Contacts and to-dos for notes-zoho-sync".into(),
        require_revision_to_update: false,
        dql_access: true,
        dql_formula: at_true(),
        open_access: true,
        allow_code: false,
        views: vec![view("($Contacts)", "Contacts"), view("($ToDo)", "ToDo")],
        agents: Vec::new(),
        forms: vec![form("Person", &person), form("Task", &task)],
        extra: {
            let mut m = Map::new();
            m.insert("prohibitRefresh".into(), json!(true));
            m
        },
    }
}

/// The scope of a user's mail file.
pub(crate) fn mail_scope(user: &str, nsf_path: &str) -> Scope {
    Scope {
        api_name: mail_scope_name(user),
        schema_name: MAIL_SCHEMA.to_owned(),
        nsf_path: nsf_path.to_owned(),
        is_active: true,
        description: format!("Mail file of {user}"),
        server: any_server(),
        maximum_access_level: editor(),
        extra: Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_round_trip_and_fields_may_be_names() {
        let s = mail_schema("mail/demo.nsf");
        let back = Schema::from_json(&s.to_json()).unwrap();
        assert_eq!(back, s);
        let v = json!({"schemaName":"x","nsfPath":"a.nsf","forms":[{"formName":"F",
            "formModes":[{"modeName":"default","fields":["A",{"name":"B","type":"array"}]}]}],
            "owners":["me"]});
        let s = Schema::from_json(&v).unwrap();
        let mode = s.form("f").and_then(|f| f.mode("DEFAULT")).unwrap();
        assert!(!mode.field("a").unwrap().multi());
        assert!(mode.field("b").unwrap().multi());
        assert!(!mode.delete_access_formula.allows());
        assert_eq!(s.to_json()["owners"], json!(["me"]));
        assert!(Schema::from_json(&json!({"forms":[{"formName":"F","formModes":[]}]})).is_err());
        assert!(Schema::from_json(&json!({"forms":7})).is_err());
    }

    #[test]
    fn scope_names() {
        assert_eq!(mail_scope_name("User 2"), "mailuser2");
        assert!(valid_api_name("maildemo"));
        assert!(!valid_api_name("Mail"));
        assert!(access_rank("reader") < access_rank("Editor"));
    }
}
