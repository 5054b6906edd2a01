//! `/api/v1/bulk/*`: many documents per call (domino-rest-api.md §3.4–3.5, §4.4). Answers are
//! arrays (one result per input, in order) with flat `@unid` metadata; a result that failed is
//! `{"statusText","status","message","unid"}`, the shape of `/bulk/delete`'s results.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::access::{self, Target, check_read, check_write, form_mode};
use super::documents::{
    self, apply, changes, check_required, check_unid, doc_not_found, object_body,
};
use super::errors::{Answer, ApiError, json_answer, streamed_array};
use super::query::{matching, with_forms};
use super::render::{self, Meta, Shape};
use super::values::RichTextAs;
use super::{DrapiState, Req, auth, dql};
use crate::domino::model::canonical_name;

/// `BulkUnids` (no other properties).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BulkUnids {
    #[serde(default)]
    unids: Vec<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    mark_read: Option<bool>,
    #[serde(default)]
    mark_unread: Option<bool>,
}

fn unids_body(req: &Req<'_>) -> Result<BulkUnids, ApiError> {
    serde_json::from_slice(req.body)
        .map_err(|e| ApiError::bad_request(format!("Invalid request: {e}")))
}

/// A failed item.
fn failure(e: &ApiError, unid: Option<&str>) -> Value {
    let mut v = json!({
        "statusText": e.status.canonical_reason().unwrap_or("Error"),
        "status": e.status.as_u16(),
        "message": e.message,
    });
    if let (Some(u), Value::Object(m)) = (unid, &mut v) {
        m.insert("unid".into(), json!(u));
    }
    v
}

fn mode_of(b: &BulkUnids) -> String {
    b.mode
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "default".into())
}

fn rich(req: &Req<'_>) -> Result<RichTextAs, ApiError> {
    RichTextAs::parse(req.q("richTextAs"), RichTextAs::Mime).map_err(ApiError::bad_request)
}

fn meta(req: &Req<'_>) -> Result<Meta, ApiError> {
    Ok(if req.flag("meta")?.unwrap_or(true) {
        Meta::Flat
    } else {
        Meta::Off
    })
}

/// `POST /bulk/unid` (B:bulkGetDocumentsByUnid).
pub(crate) fn by_unid(state: &DrapiState, req: &Req<'_>) -> Answer {
    let session = auth::caller(state, req.headers)?;
    let target = access::target(state, &session, req)?;
    let rich = rich(req)?;
    let meta = meta(req)?;
    let body = unids_body(req)?;
    let mode = mode_of(&body);
    let user = target.user.to_lowercase();
    let mut server = state.domino.server();
    let db = server
        .databases
        .get_mut(&target.db_key)
        .ok_or_else(|| ApiError::not_found("Database could not be opened"))?;
    let mut out = Vec::with_capacity(body.unids.len());
    for unid in &body.unids {
        let found = check_unid(unid).and_then(|()| {
            let slot = db
                .documents
                .slot_of(unid)
                .ok_or_else(|| doc_not_found(unid))?;
            let doc = db.documents.get(slot).ok_or_else(|| doc_not_found(unid))?;
            let (form, m) = form_mode(&target.schema, doc, &mode)?;
            check_read(form, m)?;
            let v = render::document(
                doc,
                form,
                m,
                Shape {
                    meta,
                    rich,
                    user: &target.user,
                    editable: target.may_edit(doc),
                },
            );
            Ok((slot, v))
        });
        match found {
            Ok((slot, v)) => {
                if body.mark_read == Some(true) {
                    db.documents.mark_read(slot, user.clone());
                } else if body.mark_unread == Some(true) {
                    db.documents.mark_unread(slot, &user);
                }
                out.push(v);
            }
            Err(e) => out.push(failure(&e, Some(unid))),
        }
    }
    Ok(streamed_array(out))
}

/// `POST /bulk/create {"documents":[…]}` (B:bulkCreateDocuments).
pub(crate) fn create(state: &DrapiState, req: &Req<'_>) -> Answer {
    let session = auth::caller(state, req.headers)?;
    let target = access::target(state, &session, req)?;
    let rich = rich(req)?;
    let body = object_body(req)?;
    let list = body
        .get("documents")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("The body needs an array \"documents\""))?;
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let result = match item.as_object() {
            None => Err(ApiError::bad_request("Each document must be a JSON object")),
            Some(doc) => documents::insert(state, &target, doc, None),
        };
        match result {
            Ok((unid, _)) => out.push(created(state, &target, &unid, rich)),
            Err(e) => out.push(failure(&e, None)),
        }
    }
    Ok(streamed_array(out))
}

fn created(state: &DrapiState, target: &Target, unid: &str, rich: RichTextAs) -> Value {
    let server = state.domino.server();
    let doc = server
        .databases
        .get(&target.db_key)
        .and_then(|db| db.doc(unid));
    let shown = doc.and_then(|d| {
        let (form, m) = form_mode(&target.schema, d, "default").ok()?;
        Some(render::document(
            d,
            form,
            m,
            Shape {
                meta: Meta::Flat,
                rich,
                user: &target.user,
                editable: true,
            },
        ))
    });
    shown.unwrap_or_else(|| failure(&doc_not_found(unid), Some(unid)))
}

/// `POST /bulk/delete {"unids":[…]}` (B:bulkDeleteDocuments).
pub(crate) fn delete(state: &DrapiState, req: &Req<'_>) -> Answer {
    let session = auth::caller(state, req.headers)?;
    let target = access::target(state, &session, req)?;
    let body = unids_body(req)?;
    let mode = mode_of(&body);
    let out: Vec<Value> = body
        .unids
        .iter()
        .map(
            |unid| match documents::remove(state, &target, unid, &mode) {
                Ok(v) => v,
                Err(e) => failure(&e, Some(unid)),
            },
        )
        .collect();
    Ok(streamed_array(out))
}

/// `POST /bulk/etag {"unids":[…]}` (B:bulkDocumentEtagByUnid): `{"UNID":{"exists":true,
/// "etag":…}}`, `{"exists":false}` for a deleted, unknown or malformed UNID.
pub(crate) fn etags(state: &DrapiState, req: &Req<'_>) -> Answer {
    let session = auth::caller(state, req.headers)?;
    let target = access::target(state, &session, req)?;
    let body = unids_body(req)?;
    let server = state.domino.server();
    let db = server.databases.get(&target.db_key);
    let mut out = Map::new();
    for unid in &body.unids {
        let doc = db
            .filter(|_| documents::is_unid(unid))
            .and_then(|db| db.doc(unid))
            .filter(|d| form_mode(&target.schema, d, "default").is_ok());
        let v = match doc {
            Some(d) => json!({ "exists": true, "etag": render::etag(d) }),
            None => json!({ "exists": false }),
        };
        out.insert(unid.clone(), v);
    }
    Ok(json_answer(StatusCode::OK, &Value::Object(out)))
}

/// `BulkUpdateDocuments`.
// Limits and view or full-text options are accepted and ignored: the simulated databases have
// no views to refresh, no full-text index and no time limit.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BulkUpdate {
    query: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    replace_items: Map<String, Value>,
    #[serde(default)]
    max_scan_docs: Option<i64>,
    #[serde(default)]
    max_scan_entries: Option<i64>,
    #[serde(default)]
    timeout_secs: Option<i64>,
    #[serde(default)]
    view_refresh: Option<bool>,
    #[serde(default)]
    no_views: Option<bool>,
    #[serde(default)]
    variables: Map<String, Value>,
    #[serde(default)]
    start: Option<i64>,
    #[serde(default)]
    count: Option<f64>,
    #[serde(default)]
    return_updated_document: Option<bool>,
    #[serde(default)]
    forms: Vec<String>,
    #[serde(default)]
    include_form_alias: Option<bool>,
    #[serde(default)]
    ft_refresh: Option<bool>,
}

/// `PATCH /bulk/update` (B:bulkUpdateDocumentsByQuery): the same `replaceItems` to every
/// document the DQL query finds (needs DQL access).
pub(crate) fn update(state: &DrapiState, req: &Req<'_>) -> Answer {
    let session = auth::caller(state, req.headers)?;
    let target = access::target(state, &session, req)?;
    let rich = rich(req)?;
    let body: BulkUpdate = serde_json::from_slice(req.body)
        .map_err(|e| ApiError::bad_request(format!("Invalid request: {e}")))?;
    if !target.schema.dql_allowed() {
        return Err(ApiError::forbidden(
            "DQL access is not allowed for this database",
        ));
    }
    let mode = body
        .mode
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "default".into());
    let expr = dql::parse(&body.query, &body.variables)?;
    let expr = with_forms(
        expr,
        &body.forms,
        &target.schema,
        body.include_form_alias.unwrap_or(true),
    );
    let start = usize::try_from(body.start.unwrap_or(0).max(0)).unwrap_or(0);
    let count = body
        .count
        .filter(|c| c.is_finite() && *c >= 0.0)
        .map_or(usize::MAX, |c| {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = c.min(1e15) as usize;
            n
        });
    let now = state.now();
    let author = canonical_name(&target.user);
    let mut server = state.domino.server();
    let db = server
        .databases
        .get_mut(&target.db_key)
        .ok_or_else(|| ApiError::not_found("Database could not be opened"))?;
    let unids: Vec<String> = matching(
        db,
        &target,
        &expr,
        &mode,
        body.max_scan_docs.unwrap_or(500_000),
    )?
    .into_iter()
    .skip(start)
    .take(count)
    .map(|d| d.unid.clone())
    .collect();
    let mut out = Vec::with_capacity(unids.len());
    for unid in unids {
        let result = (|| {
            let current = db.doc(&unid).ok_or_else(|| doc_not_found(&unid))?.clone();
            let (form, m) = form_mode(&target.schema, &current, &mode)?;
            check_write(&target, form, m)?;
            if !target.may_edit(&current) {
                return Err(ApiError::forbidden(format!(
                    "Not allowed to change document {unid}"
                )));
            }
            let ch = changes(&body.replace_items, m)?;
            let mut updated = current;
            apply(&mut updated, &ch, m, false);
            check_required(&updated, m)?;
            if !updated.authors.contains(&author) {
                updated.authors.push(author.clone());
            }
            updated.modified = now;
            if let Some(mut doc) = db.doc_mut(&unid) {
                *doc = updated;
            }
            let doc = db.doc(&unid).ok_or_else(|| doc_not_found(&unid))?;
            let shown = render::document(
                doc,
                form,
                m,
                Shape {
                    meta: Meta::Flat,
                    rich,
                    user: &target.user,
                    editable: true,
                },
            );
            Ok(if body.return_updated_document == Some(true) {
                shown
            } else {
                let mut meta = Map::new();
                if let Value::Object(all) = shown {
                    meta.extend(all.into_iter().filter(|(k, _)| k.starts_with('@')));
                }
                Value::Object(meta)
            })
        })();
        out.push(result.unwrap_or_else(|e| failure(&e, Some(&unid))));
    }
    Ok(streamed_array(out))
}
