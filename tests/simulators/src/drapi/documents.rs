//! `/api/v1/document`: read, create, update (PATCH, PUT with `revision`) and delete one
//! document (domino-rest-api.md §4.1–4.3).

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::access::{
    self, Target, check_delete, check_read, check_write, form_mode, form_mode_named,
};
use super::errors::{Answer, ApiError, json_answer};
use super::render::{self, Meta, Shape};
use super::schema::{Form, Mode};
use super::values::{self, RichTextAs};
use super::{DrapiState, Req, auth};
use crate::domino::model::{Document, ItemValue, canonical_name};

/// 32 hexadecimal digits.
pub(crate) fn is_unid(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A UNID from a path or body: 400 when malformed.
pub(crate) fn check_unid(unid: &str) -> Result<(), ApiError> {
    if is_unid(unid) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!("Invalid UNID: {unid}")))
    }
}

pub(crate) fn doc_not_found(unid: &str) -> ApiError {
    ApiError::not_found(format!("Document not found: {unid}"))
}

/// A JSON object body, or 400.
pub(crate) fn object_body(req: &Req<'_>) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(req.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request(
            "The request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(format!("Invalid JSON: {e}"))),
    }
}

fn mode_param(req: &Req<'_>) -> String {
    req.q("mode")
        .filter(|m| !m.is_empty())
        .unwrap_or("default")
        .to_owned()
}

/// The changes a body makes to a document through a mode: items to set (`Some`) or remove
/// (`None`), and warnings for the keys the mode does not let it write.
pub(crate) struct Changes {
    pub items: Vec<(String, Option<ItemValue>)>,
    pub warnings: Vec<String>,
}

/// Read a body's fields through `mode` (keys starting with `@` and `Form` are not items).
pub(crate) fn changes(body: &Map<String, Value>, mode: &Mode) -> Result<Changes, ApiError> {
    let mut out = Changes {
        items: Vec::new(),
        warnings: Vec::new(),
    };
    for (key, value) in body {
        if key.starts_with('@') || key.eq_ignore_ascii_case("Form") {
            continue;
        }
        match mode.field(key) {
            Some(field) if field.writable() => {
                let item = values::write(value, field).map_err(ApiError::bad_request)?;
                out.items.push((field.name.clone(), item));
            }
            Some(_) => out.warnings.push(format!(
                "Field {key} is read-only in mode {}",
                mode.mode_name
            )),
            None => out
                .warnings
                .push(format!("Field {key} is not in mode {}", mode.mode_name)),
        }
    }
    Ok(out)
}

/// Apply changes to a document; with `replace` (PUT) the mode's writable fields the body did
/// not give are removed.
pub(crate) fn apply(doc: &mut Document, changes: &Changes, mode: &Mode, replace: bool) {
    if replace {
        doc.items.retain(|(name, _)| {
            name.eq_ignore_ascii_case("Form")
                || !mode.field(name).is_some_and(super::schema::Field::writable)
                || changes
                    .items
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name))
        });
    }
    for (name, item) in &changes.items {
        match item {
            Some(v) => doc.set(name, v.clone()),
            None => doc.items.retain(|(n, _)| !n.eq_ignore_ascii_case(name)),
        }
    }
}

/// The mode's required fields must have a value.
pub(crate) fn check_required(doc: &Document, mode: &Mode) -> Result<(), ApiError> {
    for name in &mode.required {
        if name.eq_ignore_ascii_case("Form") {
            continue;
        }
        let present = doc
            .get(name)
            .is_some_and(|v| !matches!(v, ItemValue::Text(t) if t.iter().all(String::is_empty)));
        if !present {
            return Err(ApiError::bad_request(format!(
                "Required field {name} is missing"
            )));
        }
    }
    Ok(())
}

fn rich(req: &Req<'_>) -> Result<RichTextAs, ApiError> {
    RichTextAs::parse(req.q("richTextAs"), RichTextAs::Html).map_err(ApiError::bad_request)
}

/// The `@meta` answer of a write, with `@warnings`.
pub(crate) fn written(
    doc: &Document,
    form: &Form,
    mode: &Mode,
    user: &str,
    rich: RichTextAs,
    mut warnings: Vec<String>,
) -> Value {
    let mut v = render::document(
        doc,
        form,
        mode,
        Shape {
            meta: Meta::Nested,
            rich,
            user,
            editable: true,
        },
    );
    warnings.extend(render::warnings(doc, mode));
    if let (Value::Object(m), false) = (&mut v, warnings.is_empty()) {
        m.insert("@warnings".into(), json!(warnings));
    }
    v
}

/// `GET /document/{unid}` (B:getDocument).
pub(crate) fn get(state: &DrapiState, req: &Req<'_>, unid: &str) -> Answer {
    let session = auth::caller(state, req.headers)?;
    let target = access::target(state, &session, req)?;
    check_unid(unid)?;
    let mode = mode_param(req);
    let meta = if req.flag("meta")?.unwrap_or(true) {
        Meta::Nested
    } else {
        Meta::Off
    };
    let rich = rich(req)?;
    let mark_read = req.flag("markRead")?.unwrap_or(false);
    let mark_unread = req.flag("markUnread")?.unwrap_or(false);
    let mut server = state.domino.server();
    let db = server
        .databases
        .get_mut(&target.db_key)
        .ok_or_else(|| doc_not_found(unid))?;
    let slot = db
        .documents
        .slot_of(unid)
        .ok_or_else(|| doc_not_found(unid))?;
    let doc = db.documents.get(slot).ok_or_else(|| doc_not_found(unid))?;
    let (form, m) = form_mode(&target.schema, doc, &mode)?;
    check_read(form, m)?;
    let user = target.user.to_lowercase();
    if mark_read {
        db.documents.mark_read(slot, user.clone());
    } else if mark_unread {
        db.documents.mark_unread(slot, &user);
    }
    let doc = db.documents.get(slot).ok_or_else(|| doc_not_found(unid))?;
    let editable = target.may_edit(doc) && m.write_access_formula.allows();
    Ok(json_answer(
        StatusCode::OK,
        &render::document(
            doc,
            form,
            m,
            Shape {
                meta,
                rich,
                user: &target.user,
                editable,
            },
        ),
    ))
}

/// Create one document in the target's database from a body; the document's UNID, or the
/// error. Shared with `/bulk/create`.
pub(crate) fn insert(
    state: &DrapiState,
    target: &Target,
    body: &Map<String, Value>,
    parent: Option<String>,
) -> Result<(String, Vec<String>), ApiError> {
    let form_value = body
        .get("Form")
        .or_else(|| body.get("form"))
        .and_then(Value::as_str)
        .filter(|f| !f.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("'Form' is required"))?
        .to_owned();
    let (form, mode) = form_mode_named(&target.schema, &form_value, "default")?;
    check_write(target, form, mode)?;
    let changes = changes(body, mode)?;
    let now = state.now();
    let mut doc = Document {
        items: vec![("Form".to_owned(), ItemValue::text(&form_value))],
        ..Document::default()
    };
    apply(&mut doc, &changes, mode, false);
    check_required(&doc, mode)?;
    let mut server = state.domino.server();
    let unid = server.new_unid();
    let db = server.databases.get_mut(&target.db_key).ok_or_else(|| {
        ApiError::not_found(format!(
            "Database {} could not be opened",
            target.scope.nsf_path
        ))
    })?;
    if let Some(p) = &parent
        && db.doc(p).is_none()
    {
        return Err(doc_not_found(p));
    }
    let mut added = db.add(
        unid.clone(),
        now,
        now,
        &canonical_name(&target.user),
        doc.items,
    );
    added.parent = parent.map(|p| p.to_ascii_uppercase());
    drop(added);
    Ok((unid, changes.warnings))
}

/// `POST /document` (B:createDocument): 200 with the new document.
pub(crate) fn create(state: &DrapiState, req: &Req<'_>) -> Answer {
    let session = auth::caller(state, req.headers)?;
    let target = access::target(state, &session, req)?;
    let rich = rich(req)?;
    let body = object_body(req)?;
    let parent = match req.q("parentUnid").filter(|p| !p.is_empty()) {
        Some(p) => {
            check_unid(p)?;
            Some(p.to_owned())
        }
        None => None,
    };
    let (unid, warnings) = insert(state, &target, &body, parent)?;
    let server = state.domino.server();
    let doc = server
        .databases
        .get(&target.db_key)
        .and_then(|db| db.doc(&unid))
        .ok_or_else(|| doc_not_found(&unid))?;
    let (form, mode) = form_mode(&target.schema, doc, "default")?;
    Ok(json_answer(
        StatusCode::OK,
        &written(doc, form, mode, &target.user, rich, warnings),
    ))
}

/// The revision check of `requireRevisionToUpdate` (the answer is undocumented: `status` is
/// the setting `revision_conflict_status`, basis error shape).
fn check_revision(
    status: StatusCode,
    target: &Target,
    req: &Req<'_>,
    doc: &Document,
) -> Result<(), ApiError> {
    if !target.schema.require_revision_to_update {
        return Ok(());
    }
    let current = render::revision(doc);
    match req.q("revision").filter(|r| !r.is_empty()) {
        None => Err(ApiError::new(
            status,
            "The revision is required to update this document",
        )),
        Some(r) if r.eq_ignore_ascii_case(&current) => Ok(()),
        Some(r) => Err(ApiError::new(
            status,
            format!("The document was changed since revision {r} (current: {current})"),
        )),
    }
}

/// `PATCH` (B:patchDocument) or, with `replace`, `PUT` (B:updateDocument) `/document/{unid}`.
pub(crate) fn update(state: &DrapiState, req: &Req<'_>, unid: &str, replace: bool) -> Answer {
    let session = auth::caller(state, req.headers)?;
    let target = access::target(state, &session, req)?;
    check_unid(unid)?;
    let rich = rich(req)?;
    let mode_name = mode_param(req);
    let body = object_body(req)?;
    let new_form = body
        .get("Form")
        .and_then(Value::as_str)
        .filter(|f| !f.trim().is_empty())
        .map(str::to_owned);
    if replace && new_form.is_none() {
        return Err(ApiError::bad_request("'Form' is required"));
    }
    let now = state.now();
    // The configuration is locked before the server, never while it is held.
    let conflict = StatusCode::from_u16(state.config().settings.revision_conflict_status)
        .unwrap_or(StatusCode::CONFLICT);
    let mut server = state.domino.server();
    let db = server
        .databases
        .get_mut(&target.db_key)
        .ok_or_else(|| doc_not_found(unid))?;
    let current = db.doc(unid).ok_or_else(|| doc_not_found(unid))?.clone();
    let (form, _) = form_mode(&target.schema, &current, &mode_name)?;
    // A body may move the document to another configured form.
    let (form, mode) = match &new_form {
        Some(f) if !form.matches(f) => form_mode_named(&target.schema, f, &mode_name)?,
        _ => form_mode(&target.schema, &current, &mode_name)?,
    };
    check_write(&target, form, mode)?;
    if !target.may_edit(&current) {
        return Err(ApiError::forbidden(format!(
            "Not allowed to change document {}",
            current.unid
        )));
    }
    check_revision(conflict, &target, req, &current)?;
    let changes = changes(&body, mode)?;
    let mut updated = current;
    if let Some(f) = &new_form {
        updated.set("Form", ItemValue::text(f));
    }
    apply(&mut updated, &changes, mode, replace);
    check_required(&updated, mode)?;
    let author = canonical_name(&target.user);
    if !updated.authors.contains(&author) {
        updated.authors.push(author);
    }
    updated.modified = now;
    {
        let mut doc = db.doc_mut(unid).ok_or_else(|| doc_not_found(unid))?;
        *doc = updated;
    }
    let doc = db.doc(unid).ok_or_else(|| doc_not_found(unid))?;
    Ok(json_answer(
        StatusCode::OK,
        &written(doc, form, mode, &target.user, rich, changes.warnings),
    ))
}

/// Delete one document of the target's database through `mode`; the per-document answer.
pub(crate) fn remove(
    state: &DrapiState,
    target: &Target,
    unid: &str,
    mode: &str,
) -> Result<Value, ApiError> {
    check_unid(unid)?;
    let mut server = state.domino.server();
    let db = server
        .databases
        .get_mut(&target.db_key)
        .ok_or_else(|| doc_not_found(unid))?;
    let doc = db.doc(unid).ok_or_else(|| doc_not_found(unid))?;
    let (form, m) = form_mode(&target.schema, doc, mode)?;
    check_delete(target, form, m, doc)?;
    let unid = doc.unid.clone();
    db.remove_document(&unid);
    Ok(json!({
        "statusText": "OK",
        "status": 200,
        "message": format!("Document {unid} deleted"),
        "unid": unid,
    }))
}

/// `DELETE /document/{unid}` (B:deleteDocument).
pub(crate) fn delete(state: &DrapiState, req: &Req<'_>, unid: &str) -> Answer {
    let session = auth::caller(state, req.headers)?;
    let target = access::target(state, &session, req)?;
    let answer = remove(state, &target, unid, &mode_param(req))?;
    Ok(json_answer(StatusCode::OK, &answer))
}
