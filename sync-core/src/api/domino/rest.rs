//! The Domino REST API (`reference/domino-rest-api.md`): the basis API on the mail file's scope
//! for contacts and to-dos (views listed a thousand documents a page, DQL for changes, bulk
//! reads, creates and deletes), and PIM for the calendar (`pim.rs`).
//!
//! Every basis call names the scope (`dataSource`) and asks for rich text as plain text
//! (`richTextAs=plain`), the text DAS reads from its text/plain part. Answers come in two error
//! shapes, basis `{status, message, details}` and PIM `{code, message}`; both are read.

use serde_json::{Value, json};

use super::pim::Pim;
use super::{CalendarApi, Call, ChangesShape, DocRead, Listing, NotesApi, ViewPage};
use crate::api::parse_json;
use crate::engine::EngineConfig;
use crate::http::{HttpResponse, encode};
use crate::mapping::{NOTES_PRIVATE_ITEM, NOTES_XREF_ITEM, fields_of, notes_form};
use crate::model::{DrapiScope, Module};
use crate::time::Timestamp;
use crate::xref::MailFile;

/// Documents a view page, a bulk read, a bulk create and a bulk delete take at most (the
/// lists' default page; the bulk calls document no maximum).
pub const REST_BATCH: usize = 1000;

/// The basis API's base path.
const BASIS: &str = "/api/v1";

/// The `errorId` of "A scope definition with that name cannot be found".
const NO_SUCH_SCOPE: u64 = 1112;

/// The Domino REST API for one mail file's scope.
#[derive(Debug)]
pub(crate) struct Rest {
    scope: DrapiScope,
    mail_db: String,
    contacts_view: String,
    tasks_view: String,
    /// What the scope's schema exposes, once read.
    schema: Option<SchemaFacts>,
    /// The calendar, through PIM.
    pim: Pim,
}

/// A mode of a form: its name and the names of its fields.
type ModeFields = (String, Vec<String>);

/// What a schema (`GET /api/v1/scope`, `KeepDatabase`) says, as far as a sync cares.
#[derive(Clone, Debug, Default)]
struct SchemaFacts {
    name: String,
    dql_access: bool,
    require_revision: bool,
    /// Each form: its name and aliases, and its modes.
    forms: Vec<(Vec<String>, Vec<ModeFields>)>,
    /// Each list: its name and aliases.
    views: Vec<Vec<String>>,
}

impl SchemaFacts {
    fn read(body: &Value) -> Self {
        let strings = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        };
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let forms = body
            .get("forms")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|f| {
                let mut names: Vec<String> = text(f, "formName").into_iter().collect();
                names.extend(strings(f.get("alias")));
                let modes = f
                    .get("formModes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|m| {
                        let fields = m
                            .get("fields")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|f| {
                                f.as_str()
                                    .or_else(|| f.get("name").and_then(Value::as_str))
                                    .map(str::to_owned)
                            })
                            .collect();
                        (text(m, "modeName").unwrap_or_default(), fields)
                    })
                    .collect();
                (names, modes)
            })
            .collect();
        let views = body
            .get("views")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|v| {
                let mut names: Vec<String> = text(v, "name").into_iter().collect();
                names.extend(strings(v.get("alias")));
                names
            })
            .collect();
        let flag = |k: &str| body.get(k).and_then(Value::as_bool).unwrap_or(false);
        Self {
            name: text(body, "schemaName").unwrap_or_default(),
            dql_access: flag("dqlAccess"),
            require_revision: flag("requireRevisionToUpdate"),
            forms,
            views,
        }
    }

    fn form(&self, name: &str) -> Option<&[ModeFields]> {
        self.forms
            .iter()
            .find(|(names, _)| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
            .map(|(_, modes)| modes.as_slice())
    }

    fn has_view(&self, name: &str) -> bool {
        self.views
            .iter()
            .any(|names| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
    }
}

/// An error answer's message, in either shape (`message`; else the status).
pub(crate) fn rest_message(resp: &HttpResponse) -> String {
    parse_json(resp)
        .and_then(|b| b.get("message").and_then(Value::as_str).map(str::to_owned))
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| format!("HTTP {}", resp.status))
}

/// An error answer's `errorId`, when the basis API gives one.
fn error_id(resp: &HttpResponse) -> Option<u64> {
    parse_json(resp).and_then(|b| b.get("errorId").and_then(Value::as_u64))
}

impl Rest {
    pub fn new(config: &EngineConfig, scope: DrapiScope) -> Self {
        Self {
            scope,
            mail_db: config.mail_db.clone(),
            contacts_view: config.contacts_view.clone(),
            tasks_view: config.tasks_view.clone(),
            schema: None,
            pim: Pim,
        }
    }

    /// A basis path with the scope named: `/api/v1/{rest}?dataSource=…[&{query}]`.
    fn basis(&self, rest: &str, query: &str) -> String {
        let sep = if query.is_empty() { "" } else { "&" };
        format!(
            "{BASIS}/{rest}?dataSource={}{sep}{query}",
            encode(&self.scope.0)
        )
    }

    fn view(&self, module: Module) -> &str {
        match module {
            Module::Contacts => &self.contacts_view,
            Module::Tasks | Module::Events => &self.tasks_view,
        }
    }

    /// The admin step that fixes a refusal of the basis API, from its words.
    fn hint(&self, status: u16, message: &str) -> String {
        let scope = &self.scope;
        let db = &self.mail_db;
        let schema = self
            .schema
            .as_ref()
            .map_or("the scope's schema", |s| s.name.as_str());
        if message.contains("scope definition with that name cannot be found") {
            format!(
                " — ask the Domino admin to add the scope {scope} for the mail file {db} (Domino \
                 REST API Admin UI → Scope Management → Add Scope; `nzsync drapi-schema \
                 --mail-db {db}` prints the schema and scope to import)"
            )
        } else if message.contains("Config not found") {
            format!(
                " — ask the Domino admin to create the schema the scope {scope} names in {db} \
                 (Admin UI → Schema Management; `nzsync drapi-schema --mail-db {db}` prints it)"
            )
        } else if message.contains("is not configured for this database") {
            format!(
                " — ask the Domino admin to add the view to {schema} (Admin UI → Schema \
                 Management → Database Views)"
            )
        } else if message.contains("No form and mode configuration") {
            format!(
                " — ask the Domino admin to activate the form with modes default and dql in \
                 {schema} (Admin UI → Schema Management → Database Forms)"
            )
        } else if message.contains("DQL access") {
            format!(
                " — ask the Domino admin to turn on DQL Access in {schema} (Admin UI → Schema \
                 Management → Edit Schema)"
            )
        } else if message.contains("do not include") {
            format!(
                " — ask the Domino admin to let logins use the scope {scope} (its schema's \"In \
                 $DATA Scope\", or the scope in the application's allowed scopes)"
            )
        } else if message.contains("not allowed to access") {
            format!(
                " — ask the Domino admin to give the user Editor access to {db} (the mail file's \
                 ACL, and the scope {scope}'s Maximum Access Level)"
            )
        } else if status == 302 {
            format!(
                " — the scope {scope} names a database on another server: connect to the \
                 Domino REST API of the server that holds {db}"
            )
        } else {
            String::new()
        }
    }

    /// The items a module's sync reads and writes: the mapped items, the cross-ID and the
    /// privacy mark.
    fn needed_items(module: Module) -> Vec<&'static str> {
        let mut items: Vec<&'static str> = fields_of(module).iter().map(|m| m.notes).collect();
        items.extend([NOTES_XREF_ITEM, NOTES_PRIVATE_ITEM]);
        items
    }

    /// The per-document results of a bulk answer (`asked` by UNID): each document's own, found
    /// by its UNID (else by position).
    fn by_unid<'a>(asked: &[String], results: &'a [Value]) -> Vec<Option<&'a Value>> {
        let unid_of = |v: &'a Value| {
            v.get("@unid")
                .or_else(|| v.get("unid"))
                .or_else(|| v.get("@meta").and_then(|m| m.get("unid")))
                .and_then(Value::as_str)
        };
        asked
            .iter()
            .enumerate()
            .map(|(i, u)| {
                results
                    .iter()
                    .find(|r| unid_of(r).is_some_and(|x| x.eq_ignore_ascii_case(u)))
                    .or_else(|| results.get(i).filter(|r| unid_of(r).is_none()))
            })
            .collect()
    }
}

/// What keeps `module` from syncing through a scope whose schema says `schema`, with the
/// admin step: a form, mode, item or view it does not expose. Events go through PIM (the
/// user's own mailbox, no schema).
fn schema_problem(
    schema: &SchemaFacts,
    module: Module,
    scope: &DrapiScope,
    mail_db: &str,
    view: &str,
) -> Option<String> {
    if module == Module::Events {
        return None;
    }
    let form = notes_form(module);
    let step = format!(
        "ask the Domino admin to update the schema {} of the scope {scope} (Domino REST API Admin \
         UI → Schema Management; `nzsync drapi-schema --mail-db {mail_db}` prints one that \
         works)",
        schema.name
    );
    let Some(modes) = schema.form(form) else {
        return Some(format!(
            "the Domino REST API does not expose the form {form} of {mail_db}: {step}"
        ));
    };
    for mode in ["default", "dql"] {
        let Some((_, fields)) = modes.iter().find(|(m, _)| m.eq_ignore_ascii_case(mode)) else {
            return Some(format!(
                "the form {form} has no mode {mode} in the Domino REST API schema: {step}"
            ));
        };
        let missing: Vec<&str> = Rest::needed_items(module)
            .into_iter()
            .filter(|item| !fields.iter().any(|f| f.eq_ignore_ascii_case(item)))
            .collect();
        if !missing.is_empty() {
            return Some(format!(
                "the mode {mode} of the form {form} does not expose {} in the Domino REST API \
                 schema: {step}",
                missing.join(", ")
            ));
        }
    }
    if !schema.has_view(view) {
        return Some(format!(
            "the Domino REST API schema does not list the view {view}: {step}"
        ));
    }
    None
}

/// What in the schema keeps `module` from syncing through the Domino REST API scope `scope`
/// of `config`'s mail file, whose schema is `schema` (the body of `GET /api/v1/scope`): a form,
/// mode, item or view it does not expose, with the admin step that fixes it; `None` when the
/// schema exposes everything. The engine checks the same (and DQL access) before it lists a
/// module.
#[must_use]
pub fn drapi_schema_problem(
    schema: &Value,
    module: Module,
    scope: &DrapiScope,
    config: &EngineConfig,
) -> Option<String> {
    let view = match module {
        Module::Contacts => &config.contacts_view,
        Module::Tasks | Module::Events => &config.tasks_view,
    };
    schema_problem(
        &SchemaFacts::read(schema),
        module,
        scope,
        &config.mail_db,
        view,
    )
}

/// A bulk result that is an error (`{"status": 404, "message": …}`), with its status.
fn item_status(v: &Value) -> Option<u64> {
    if v.get("@unid").is_some() || v.get("@meta").is_some() {
        return None;
    }
    v.get("status")
        .or_else(|| v.get("code"))
        .and_then(Value::as_u64)
        .filter(|s| *s >= 300)
}

fn item_message(v: &Value) -> String {
    let status = item_status(v).unwrap_or(0);
    let msg = v
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("refused");
    format!("IBM Notes (Domino REST API) refused it: {msg} (HTTP {status})")
}

impl NotesApi for Rest {
    fn mail_file_call(&self) -> Call {
        Call::get("/api/pim-v1/info".to_owned())
    }

    fn mail_file(&self, mail_db: &str, resp: Option<&HttpResponse>) -> MailFile {
        MailFile::from_pim_info(
            mail_db,
            resp.filter(|r| r.status == 200).map(|r| r.body.as_str()),
        )
    }

    fn schema_call(&self) -> Option<Call> {
        Some(Call::get(self.basis("scope", "")))
    }

    fn read_schema(&mut self, resp: &HttpResponse) -> Result<(), String> {
        match parse_json(resp).filter(|_| resp.status == 200) {
            Some(body) => {
                self.schema = Some(SchemaFacts::read(&body));
                Ok(())
            }
            None => {
                let msg = rest_message(resp);
                let hint = if error_id(resp) == Some(NO_SUCH_SCOPE) {
                    self.hint(404, "scope definition with that name cannot be found")
                } else {
                    self.hint(resp.status, &msg)
                };
                Err(format!(
                    "IBM Notes (Domino REST API) could not open the scope {}: {msg} (HTTP {}){hint}",
                    self.scope, resp.status
                ))
            }
        }
    }

    fn module_problem(&self, module: Module) -> Option<String> {
        let schema = self.schema.as_ref()?;
        if let Some(problem) = schema_problem(
            schema,
            module,
            &self.scope,
            &self.mail_db,
            self.view(module),
        ) {
            return Some(problem);
        }
        (module != Module::Events && !schema.dql_access).then(|| {
            format!(
                "the Domino REST API schema {} of the scope {} does not allow DQL (changes are \
                 found with it): ask the Domino admin to turn on DQL Access (Admin UI → Schema \
                 Management → Edit Schema)",
                schema.name, self.scope
            )
        })
    }

    fn fatal(&self, resp: &HttpResponse) -> Option<String> {
        let html = resp
            .header("Content-Type")
            .is_some_and(|c| c.contains("text/html"))
            || resp.body.trim_start().starts_with('<');
        let msg = rest_message(resp);
        match resp.status {
            // The host has logged in again once already when this reaches the engine.
            401 => Some(format!(
                "IBM Notes (Domino REST API) refused the login or its token: {msg} (HTTP 401) — \
                 check the user name and password (a token refused right after a new login \
                 means the REST API restarted meanwhile: run again)"
            )),
            302 => Some(format!(
                "IBM Notes (Domino REST API) sent the request to another server (HTTP 302){}",
                self.hint(302, &msg)
            )),
            200 if html => Some(
                "the Domino REST API URL answered with a web page instead of data: check that \
                 [domino] url is the Domino REST API's (e.g. https://domino.example.com:8880)"
                    .to_owned(),
            ),
            404 if error_id(resp) == Some(NO_SUCH_SCOPE) => Some(format!(
                "IBM Notes (Domino REST API): {msg}{}",
                self.hint(404, &msg)
            )),
            403 if msg.contains("do not include") || msg.contains("not allowed to access") => {
                Some(format!(
                    "IBM Notes (Domino REST API) refused access: {msg}{}",
                    self.hint(403, &msg)
                ))
            }
            _ => None,
        }
    }

    fn error_text(&self, doing: &str, resp: &HttpResponse) -> String {
        let msg = rest_message(resp);
        format!(
            "IBM Notes failed {doing}: {msg} (HTTP {}){}",
            resp.status,
            self.hint(resp.status, &msg)
        )
    }

    fn listing(&self, incremental: bool) -> Listing {
        if incremental {
            Listing::AllUnids
        } else {
            Listing::Pages { size: REST_BATCH }
        }
    }

    fn view_page_call(&self, module: Module, _incremental: bool, start: usize) -> Call {
        Call::get(self.basis(
            &format!("lists/{}", encode(self.view(module))),
            &format!("documents=true&richTextAs=plain&start={start}&count={REST_BATCH}"),
        ))
    }

    fn view_unids_call(&self, module: Module) -> Call {
        Call::get(self.basis(&format!("lists/{}", encode(self.view(module))), "count=-1"))
    }

    fn view_page(&self, resp: &HttpResponse) -> Option<ViewPage> {
        let Some(Value::Array(entries)) = parse_json(resp).filter(|_| resp.status == 200) else {
            return None;
        };
        let len = entries.len();
        let docs = entries
            .into_iter()
            .filter_map(|e| {
                let unid = e.get("@unid").and_then(Value::as_str)?.to_owned();
                Some((unid, Some(e)))
            })
            .collect();
        Some(ViewPage {
            docs,
            len,
            total: None,
        })
    }

    fn changes_call(&self, module: Module, since: Timestamp) -> Option<Call> {
        if module == Module::Events {
            return None; // The calendar's window is read whole.
        }
        Some(Call::with_body(
            "POST",
            self.basis("query", "action=execute&richTextAs=plain"),
            json!({
                "query": format!("@ModifiedInThisFile > @dt('{}')", since.to_das()),
                "forms": [notes_form(module)],
            }),
        ))
    }

    fn changes_shape(&self) -> ChangesShape {
        ChangesShape::Documents
    }

    fn changed_docs(&self, resp: &HttpResponse) -> Option<Vec<(String, Value)>> {
        let Some(Value::Array(docs)) = parse_json(resp).filter(|_| resp.status == 200) else {
            return None;
        };
        Some(
            docs.into_iter()
                .filter_map(|d| {
                    let unid = d
                        .get("@meta")
                        .and_then(|m| m.get("unid"))
                        .or_else(|| d.get("@unid"))
                        .and_then(Value::as_str)?
                        .to_owned();
                    Some((unid, d))
                })
                .collect(),
        )
    }

    fn read_batch(&self) -> usize {
        REST_BATCH
    }

    fn read_call(&self, _module: Module, unids: &[String]) -> Call {
        Call::with_body(
            "POST",
            self.basis("bulk/unid", "richTextAs=plain"),
            json!({"unids": unids, "mode": "default"}),
        )
    }

    fn read_answer(&self, asked: &[String], resp: &HttpResponse) -> Option<Vec<DocRead>> {
        let Some(Value::Array(results)) = parse_json(resp).filter(|_| resp.status == 200) else {
            return None;
        };
        Some(
            Self::by_unid(asked, &results)
                .into_iter()
                .map(|r| match r {
                    // Left out of the answer: not known to be gone.
                    None => DocRead::Unreadable(
                        "IBM Notes (Domino REST API) left the document out of its answer".into(),
                    ),
                    Some(v) => match item_status(v) {
                        None => DocRead::Doc(v.clone()),
                        Some(404) => DocRead::Gone,
                        Some(_) => DocRead::Unreadable(item_message(v)),
                    },
                })
                .collect(),
        )
    }

    fn create_batch(&self) -> usize {
        REST_BATCH
    }

    fn create_call(&self, module: Module, docs: Vec<Value>) -> Call {
        let mut docs: Vec<Value> = docs
            .into_iter()
            .map(|mut d| {
                if let Some(o) = d.as_object_mut() {
                    o.insert("Form".into(), json!(notes_form(module)));
                }
                d
            })
            .collect();
        if docs.len() == 1 {
            let doc = docs.pop().unwrap_or_else(|| json!({}));
            Call::with_body("POST", self.basis("document", "richTextAs=plain"), doc)
        } else {
            Call::with_body(
                "POST",
                self.basis("bulk/create", "richTextAs=plain"),
                json!({ "documents": docs }),
            )
        }
    }

    fn created(&self, asked: usize, resp: &HttpResponse) -> Option<Vec<Result<String, String>>> {
        let body = parse_json(resp).filter(|_| resp.status == 200)?;
        let one = |v: &Value| -> Result<String, String> {
            if item_status(v).is_some() {
                return Err(item_message(v));
            }
            v.get("@meta")
                .and_then(|m| m.get("unid"))
                .or_else(|| v.get("@unid"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    "IBM Notes (Domino REST API) created the document but sent no UNID".to_owned()
                })
        };
        match body {
            Value::Array(results) if results.len() == asked => {
                Some(results.iter().map(one).collect())
            }
            Value::Object(_) if asked == 1 => Some(vec![one(&body)]),
            _ => None,
        }
    }

    fn revision_call(&self, unid: &str) -> Option<Call> {
        let required = self.schema.as_ref().is_some_and(|s| s.require_revision);
        required.then(|| {
            Call::get(self.basis(&format!("document/{}", encode(unid)), "richTextAs=plain"))
        })
    }

    fn revision(&self, resp: &HttpResponse) -> Option<String> {
        parse_json(resp)
            .filter(|_| resp.status == 200)?
            .get("@meta")?
            .get("revision")?
            .as_str()
            .map(str::to_owned)
    }

    fn update_call(&self, unid: &str, items: Value, revision: Option<&str>) -> Call {
        let query = match revision {
            Some(r) => format!("richTextAs=plain&revision={}", encode(r)),
            None => "richTextAs=plain".to_owned(),
        };
        Call::with_body(
            "PATCH",
            self.basis(&format!("document/{}", encode(unid)), &query),
            items,
        )
    }

    fn updated(&self, resp: &HttpResponse) -> bool {
        resp.status == 200
    }

    fn delete_batch(&self) -> usize {
        REST_BATCH
    }

    fn delete_call(&self, unids: &[String]) -> Call {
        match unids {
            [unid] => Call {
                method: "DELETE",
                path: self.basis(&format!("document/{}", encode(unid)), ""),
                body: None,
            },
            _ => Call::with_body(
                "POST",
                self.basis("bulk/delete", ""),
                json!({"unids": unids, "mode": "default"}),
            ),
        }
    }

    fn deleted(&self, asked: &[String], resp: &HttpResponse) -> Option<Vec<Result<(), String>>> {
        // 404: already gone, which is what was wanted.
        if asked.len() == 1 && resp.status == 404 {
            return Some(vec![Ok(())]);
        }
        let body = parse_json(resp).filter(|_| resp.status == 200)?;
        let one = |v: Option<&Value>| match v.and_then(item_status) {
            None | Some(404) => Ok(()),
            Some(_) => Err(v.map(item_message).unwrap_or_default()),
        };
        match &body {
            Value::Array(results) => {
                Some(Self::by_unid(asked, results).into_iter().map(one).collect())
            }
            Value::Object(_) if asked.len() == 1 => Some(vec![one(Some(&body))]),
            _ => None,
        }
    }

    fn calendar(&self) -> Option<&dyn CalendarApi> {
        Some(&self.pim)
    }
}
