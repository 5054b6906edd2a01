//! `GET /api/v1/lists/{name}`: view entries, or whole documents with `documents=true`, paged by
//! `start` and `count` (domino-rest-api.md §3.2, B:fetchViewEntries).

use serde_json::{Map, Value, json};

use super::access::{self, check_read, form_mode};
use super::errors::{Answer, ApiError, streamed_array};
use super::render::{self, Meta, Shape};
use super::values::RichTextAs;
use super::{DrapiState, Req, auth};

/// `count` when none is given.
const DEFAULT_COUNT: usize = 1000;

/// `start` and `count` (`-1`: all).
fn paging(req: &Req<'_>) -> Result<(usize, usize), ApiError> {
    let start = req.int("start")?.unwrap_or(0);
    let start = usize::try_from(start).map_err(|_| {
        ApiError::bad_request(format!("Invalid value for parameter start: {start}"))
    })?;
    let count = match req.int("count")? {
        None => DEFAULT_COUNT,
        Some(-1) => usize::MAX,
        Some(n) => usize::try_from(n).map_err(|_| {
            ApiError::bad_request(format!("Invalid value for parameter count: {n}"))
        })?,
    };
    Ok((start, count))
}

/// `GET /lists/{name}?dataSource=…[&documents=true][&start][&count][&mode][&meta][&richTextAs]`.
pub(crate) fn entries(state: &DrapiState, req: &Req<'_>, name: &str) -> Answer {
    let session = auth::caller(state, req.headers)?;
    let target = access::target(state, &session, req)?;
    let not_configured = || {
        ApiError::not_found(format!(
            "The list {name} is not configured for this database"
        ))
    };
    target.schema.view(name).ok_or_else(not_configured)?;
    let (start, count) = paging(req)?;
    let documents = req.flag("documents")?.unwrap_or(false);
    let meta = req.flag("meta")?.unwrap_or(true);
    let rich =
        RichTextAs::parse(req.q("richTextAs"), RichTextAs::Mime).map_err(ApiError::bad_request)?;
    let mode = req
        .q("mode")
        .filter(|m| !m.is_empty())
        .unwrap_or("default")
        .to_owned();
    let mark_read = req.flag("markRead")?.unwrap_or(false);
    let server = state.domino.server();
    let db = server
        .databases
        .get(&target.db_key)
        .ok_or_else(not_configured)?;
    // The schema names the list; the database must have it too.
    let view = db.view(name).ok_or_else(not_configured)?;
    let mut out = Vec::new();
    let mut read = Vec::new();
    for (i, doc) in view.rows_from(db, start).take(count).enumerate() {
        if documents {
            let Ok((form, m)) = form_mode(&target.schema, doc, &mode) else {
                continue;
            };
            if check_read(form, m).is_err() {
                continue;
            }
            out.push(render::document(
                doc,
                form,
                m,
                Shape {
                    meta: if meta { Meta::Flat } else { Meta::Off },
                    rich,
                    user: &target.user,
                    editable: target.may_edit(doc),
                },
            ));
            if mark_read {
                read.push(doc.unid.clone());
            }
        } else {
            let mut entry = Map::new();
            if meta {
                entry.insert("@unid".into(), json!(doc.unid));
                entry.insert("@noteid".into(), json!(doc.note_id));
                entry.insert("@index".into(), json!((start + i + 1).to_string()));
                entry.insert("@etag".into(), json!(render::etag(doc)));
            }
            let mut columns: Vec<(&str, Value)> = view
                .columns
                .iter()
                .map(|c| (c.name.as_str(), c.value(doc)))
                .collect();
            columns.sort_by(|a, b| a.0.cmp(b.0));
            for (k, v) in columns {
                entry.insert(k.to_owned(), v);
            }
            out.push(Value::Object(entry));
        }
    }
    drop(server);
    if !read.is_empty() {
        let mut server = state.domino.server();
        if let Some(db) = server.databases.get_mut(&target.db_key) {
            for unid in read {
                if let Some(slot) = db.documents.slot_of(&unid) {
                    db.documents.mark_read(slot, target.user.to_lowercase());
                }
            }
        }
    }
    Ok(streamed_array(out))
}
