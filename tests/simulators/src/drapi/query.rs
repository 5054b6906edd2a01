//! `POST /api/v1/query?action=execute` (B:query): DQL over the scope's database, answering the
//! matching documents in `@meta` form through the `dql` mode (domino-rest-api.md §3.3, §3.7).

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::access::{self, Target, check_read, form_mode};
use super::dql::{self, DqlError, Expr};
use super::errors::{Answer, ApiError, streamed_array};
use super::render::{self, Meta, Shape};
use super::schema::Schema;
use super::values::RichTextAs;
use super::{DrapiState, Req, auth};
use crate::domino::model::Document;

/// `QueryRequest` (additional properties are refused, as the spec says).
// Limits and view or full-text options are accepted and ignored: the simulated databases have
// no views to refresh, no full-text index and no time limit.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct QueryRequest {
    pub query: String,
    #[serde(default)]
    pub variables: Map<String, Value>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub forms: Vec<String>,
    #[serde(default)]
    pub include_form_alias: Option<bool>,
    #[serde(default)]
    pub max_scan_docs: Option<i64>,
    #[serde(default)]
    pub max_scan_entries: Option<i64>,
    #[serde(default)]
    pub timeout_secs: Option<i64>,
    #[serde(default)]
    pub no_views: Option<bool>,
    #[serde(default)]
    pub view_refresh: Option<bool>,
    #[serde(default)]
    pub mark_read: Option<bool>,
    #[serde(default)]
    pub ft_refresh: Option<bool>,
}

/// Default `maxScanDocs`.
const MAX_SCAN_DOCS: i64 = 500_000;

impl From<DqlError> for ApiError {
    fn from(e: DqlError) -> ApiError {
        match e {
            DqlError::Syntax(m) => ApiError::bad_request(format!("DQL syntax error: {m}")),
            DqlError::NotSimulated(m) => ApiError::new(StatusCode::NOT_IMPLEMENTED, m),
        }
    }
}

/// The query with `forms` added: `(query) and (Form = 'F' or Form = 'alias' …)`.
pub(crate) fn with_forms(expr: Expr, forms: &[String], schema: &Schema, aliases: bool) -> Expr {
    if forms.is_empty() {
        return expr;
    }
    let mut names: Vec<String> = Vec::new();
    for f in forms {
        names.push(f.clone());
        if aliases && let Some(conf) = schema.form(f) {
            names.push(conf.form_name.clone());
            names.extend(conf.alias.iter().cloned());
        }
    }
    let clause = dql::Expr::In {
        lhs: dql::Lhs::Item("Form".into()),
        all: false,
        values: names.into_iter().map(dql::Val::Text).collect(),
    };
    Expr::And(Box::new(expr), Box::new(clause))
}

/// The documents of the target's database that match, in the order they were added, that
/// are visible in `mode`; `Err` when more than `max_scan` documents would be scanned.
pub(crate) fn matching<'d>(
    docs: &'d crate::domino::model::Database,
    target: &Target,
    expr: &Expr,
    mode: &str,
    max_scan: i64,
) -> Result<Vec<&'d Document>, ApiError> {
    let candidates: Vec<&Document> = match dql::modified_floor(expr) {
        Some(t) => {
            let floor = crate::common::plus_secs(crate::common::whole_seconds(t), -1);
            docs.documents.modified_after(floor)
        }
        None => docs.documents.iter().collect(),
    };
    if i64::try_from(candidates.len()).unwrap_or(i64::MAX) > max_scan.max(0) {
        return Err(ApiError::bad_request(format!(
            "DQL execution error: the query scans {} documents, more than maxScanDocs ({max_scan})",
            candidates.len()
        )));
    }
    Ok(candidates
        .into_iter()
        .filter(|d| {
            form_mode(&target.schema, d, mode).is_ok_and(|(form, m)| check_read(form, m).is_ok())
        })
        .filter(|d| dql::matches(expr, d))
        .collect())
}

/// `POST /query?dataSource=…&action=execute[&start][&count][&richTextAs]`.
pub(crate) fn run(state: &DrapiState, req: &Req<'_>) -> Answer {
    let session = auth::caller(state, req.headers)?;
    let target = access::target(state, &session, req)?;
    match req.q("action") {
        Some("execute") => {}
        Some(a @ ("explain" | "parse")) => {
            return Err(ApiError::new(
                StatusCode::NOT_IMPLEMENTED,
                format!("action={a} is not simulated"),
            ));
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid value for parameter action: {other}"
            )));
        }
        None => return Err(ApiError::bad_request("The parameter action is required")),
    }
    if !target.schema.dql_allowed() {
        return Err(ApiError::forbidden(
            "DQL access is not allowed for this database",
        ));
    }
    let start = req.int("start")?.unwrap_or(0);
    let start = usize::try_from(start).map_err(|_| {
        ApiError::bad_request(format!("Invalid value for parameter start: {start}"))
    })?;
    let count = match req.int("count")? {
        None | Some(-1) => usize::MAX,
        Some(n) => usize::try_from(n).map_err(|_| {
            ApiError::bad_request(format!("Invalid value for parameter count: {n}"))
        })?,
    };
    let rich =
        RichTextAs::parse(req.q("richTextAs"), RichTextAs::Html).map_err(ApiError::bad_request)?;
    let body: QueryRequest = serde_json::from_slice(req.body)
        .map_err(|e| ApiError::bad_request(format!("Invalid query request: {e}")))?;
    let mode = body
        .mode
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "dql".into());
    let expr = dql::parse(&body.query, &body.variables)?;
    let expr = with_forms(
        expr,
        &body.forms,
        &target.schema,
        body.include_form_alias.unwrap_or(true),
    );
    let max_scan = body.max_scan_docs.unwrap_or(MAX_SCAN_DOCS);
    let mut server = state.domino.server();
    let db = server.databases.get(&target.db_key).ok_or_else(|| {
        ApiError::not_found(format!(
            "Database {} could not be opened",
            target.scope.nsf_path
        ))
    })?;
    let found = matching(db, &target, &expr, &mode, max_scan)?;
    let mut out = Vec::new();
    let mut read = Vec::new();
    for doc in found.into_iter().skip(start).take(count) {
        let Ok((form, m)) = form_mode(&target.schema, doc, &mode) else {
            continue;
        };
        out.push(render::document(
            doc,
            form,
            m,
            Shape {
                meta: Meta::Nested,
                rich,
                user: &target.user,
                editable: target.may_edit(doc),
            },
        ));
        read.push(doc.unid.clone());
    }
    if body.mark_read == Some(true)
        && let Some(db) = server.databases.get_mut(&target.db_key)
    {
        for unid in read {
            if let Some(slot) = db.documents.slot_of(&unid) {
                db.documents.mark_read(slot, target.user.to_lowercase());
            }
        }
    }
    Ok(streamed_array(out))
}
