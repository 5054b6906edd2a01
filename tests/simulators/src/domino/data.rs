//! The DAS data service scoped to a database (domino-api.md §1.3–1.6): view list, view
//! entries and design, document list, document CRUD.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::model::{
    Database, Document, DominoServer, ItemValue, NotesTime, View, canonical_name, das_time,
    is_date_field, parse_rfc1123, rfc1123,
};
use super::{DasRequest, compact, das_error, das_exception, das_json};
use crate::common::param;

/// `DataServiceMaxViewEntries` default.
const MAX_VIEW_ENTRIES: usize = 100;
const DEFAULT_VIEW_COUNT: usize = 10;

pub(crate) struct DataCtx<'a> {
    pub server: &'a mut DominoServer,
    pub db_key: String,
    pub user: String,
    pub req: &'a DasRequest<'a>,
    /// Index in `req.segments` of the first segment after `api/data`.
    pub rest_start: usize,
    /// `http://host:port`, for absolute `Location` headers.
    pub origin: String,
    pub now: DateTime<Utc>,
}

impl DataCtx<'_> {
    fn db(&self) -> Option<&Database> {
        self.server.databases.get(&self.db_key)
    }

    fn query(&self) -> &[(String, String)] {
        &self.req.query
    }

    fn compact(&self) -> bool {
        compact(&self.req.query)
    }
}

fn method_not_allowed() -> Response {
    das_error(StatusCode::METHOD_NOT_ALLOWED, None)
}

pub(crate) fn handle(mut ctx: DataCtx<'_>) -> Response {
    let rest: Vec<String> = ctx.req.segments[ctx.rest_start.min(ctx.req.segments.len())..].to_vec();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    match rest.as_slice() {
        [] => das_error(
            StatusCode::BAD_REQUEST,
            Some("URI path must not include a database."),
        ),
        ["collections"] => {
            if ctx.req.method != Method::GET {
                return method_not_allowed();
            }
            view_list(&ctx)
        }
        ["collections", key, value, tail @ ..] => collection(&ctx, key, value, tail),
        ["collections", ..] => das_error(
            StatusCode::NOT_FOUND,
            Some("The URI must refer to an existing view."),
        ),
        ["documents"] => match ctx.req.method {
            Method::GET => document_list(&ctx),
            Method::POST => create_document(&mut ctx),
            _ => method_not_allowed(),
        },
        ["documents", "unid", unid] => document(&mut ctx, unid),
        ["documents", "unid", _, ..] => das_error(
            StatusCode::NOT_IMPLEMENTED,
            Some("Attachments are not implemented by the simulator."),
        ),
        _ => das_error(StatusCode::NOT_FOUND, Some("Resource not found.")),
    }
}

fn view_list(ctx: &DataCtx<'_>) -> Response {
    let Some(db) = ctx.db() else {
        return das_error(StatusCode::NOT_FOUND, None);
    };
    let list: Vec<Value> = db
        .views
        .iter()
        .map(|v| {
            json!({
                "@title": v.title,
                "@folder": v.folder,
                "@private": false,
                "@modified": das_time(v.modified),
                "@unid": v.unid,
                "@href": format!("/{}/api/data/collections/unid/{}", db.path, v.unid),
            })
        })
        .collect();
    das_json(StatusCode::OK, &Value::Array(list), ctx.compact())
}

fn collection(ctx: &DataCtx<'_>, key: &str, value: &str, tail: &[&str]) -> Response {
    let Some(db) = ctx.db() else {
        return das_error(StatusCode::NOT_FOUND, None);
    };
    let view = match key {
        "name" => db.view(value),
        "unid" => db.view_by_unid(value),
        other => {
            return das_error(
                StatusCode::NOT_FOUND,
                Some(&format!("The query method {other} not supported")),
            );
        }
    };
    let Some(view) = view else {
        return das_error(
            StatusCode::NOT_FOUND,
            Some("The URI must refer to an existing view."),
        );
    };
    if !view.das_enabled {
        return das_error(
            StatusCode::FORBIDDEN,
            Some(&format!(
                "The Domino data service is not enabled for this view [{}].",
                view.title
            )),
        );
    }
    match (tail, &ctx.req.method) {
        ([], &Method::GET) => view_entries(ctx, db, view, key),
        ([], &Method::PUT) => {
            if view.folder {
                StatusCode::OK.into_response()
            } else {
                das_error(
                    StatusCode::BAD_REQUEST,
                    Some("Cannot perform folder operations on a view."),
                )
            }
        }
        ([], &Method::POST) => das_error(
            StatusCode::NOT_IMPLEMENTED,
            Some("Creating documents through a view is not implemented by the simulator."),
        ),
        (["design"], &Method::GET) => view_design(ctx, view),
        (["unid", _], &Method::GET) => method_not_allowed(),
        (["unid", _], _) => das_error(
            StatusCode::NOT_IMPLEMENTED,
            Some("View entry updates are not implemented by the simulator."),
        ),
        _ => method_not_allowed(),
    }
}

fn view_design(ctx: &DataCtx<'_>, view: &View) -> Response {
    let cols: Vec<Value> = view
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "@columnnumber": i + 1,
                "@name": c.name,
                "@title": c.title,
                "@width": c.width,
                "@alignment": 0,
                "@hidden": false,
                "@response": false,
                "@twistie": false,
                "@field": matches!(c.source, super::model::ColumnSource::Item(_)),
                "@category": false,
            })
        })
        .collect();
    das_json(StatusCode::OK, &Value::Array(cols), ctx.compact())
}

/// A non-negative integer parameter; `Err` carries the 400 answer.
fn count_param(ctx: &DataCtx<'_>, name: &str) -> Result<Option<usize>, Response> {
    match param(ctx.query(), name) {
        None => Ok(None),
        Some(v) => v.trim().parse::<usize>().map(Some).map_err(|_| {
            das_error(
                StatusCode::BAD_REQUEST,
                Some(&format!("Invalid parameter {name}: {v}")),
            )
        }),
    }
}

/// `start`/`count`, `ps`/`page`/`si`, or `Range: items=a-b` (which wins).
fn paging(ctx: &DataCtx<'_>) -> Result<(usize, usize), Response> {
    let mut start = count_param(ctx, "start")?.unwrap_or(0);
    let mut count = count_param(ctx, "count")?.unwrap_or(DEFAULT_VIEW_COUNT);
    if let Some(ps) = count_param(ctx, "ps")? {
        let page = count_param(ctx, "page")?.unwrap_or(0);
        let si = count_param(ctx, "si")?.unwrap_or(0);
        count = ps;
        start = ps.saturating_mul(page).saturating_add(si);
    }
    let range = ctx
        .req
        .headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.trim().strip_prefix("items="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| {
            Some((
                a.trim().parse::<usize>().ok()?,
                b.trim().parse::<usize>().ok()?,
            ))
        });
    if let Some((a, b)) = range
        && b >= a
    {
        start = a;
        // `items=0-18446744073709551615` asks for too many, not for an overflow.
        count = (b - a).saturating_add(1);
    }
    if count > MAX_VIEW_ENTRIES {
        return Err(das_error(
            StatusCode::BAD_REQUEST,
            Some(&format!(
                "Limit exceeded.  Cannot read more than {MAX_VIEW_ENTRIES} entries."
            )),
        ));
    }
    Ok((start, count))
}

/// `systemcolumns` bit mask (decimal or `0x…`); all bits when absent.
fn system_columns(ctx: &DataCtx<'_>) -> u32 {
    param(ctx.query(), "systemcolumns")
        .and_then(|v| {
            let v = v.trim();
            v.strip_prefix("0x")
                .or_else(|| v.strip_prefix("0X"))
                .map_or_else(|| v.parse().ok(), |h| u32::from_str_radix(h, 16).ok())
        })
        .unwrap_or(u32::MAX)
}

fn view_entries(ctx: &DataCtx<'_>, db: &Database, view: &View, key: &str) -> Response {
    if param(ctx.query(), "search").is_some() {
        return das_error(
            StatusCode::BAD_REQUEST,
            Some("Database is not full text indexed."),
        );
    }
    let (start, count) = match paging(ctx) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let total_in_view = view.len();
    // sortcolumn: only resortable columns; anything else is silently ignored.
    let sort_col = param(ctx.query(), "sortcolumn").and_then(|name| {
        view.columns
            .iter()
            .find(|c| c.resortable && c.name.eq_ignore_ascii_case(name))
    });
    let keys = param(ctx.query(), "keys");
    // (view position, document) of the page, and the number of entries it is a page of.
    let (page, total): (Vec<(usize, &Document)>, usize) = if sort_col.is_none() && keys.is_none() {
        // The view's own order: a seek to `start`, then the page.
        let page = view
            .rows_from(db, start)
            .take(count)
            .enumerate()
            .map(|(i, d)| (start + i + 1, d))
            .collect();
        (page, total_in_view)
    } else {
        let rows = resorted_or_filtered(ctx, view, db, sort_col, keys);
        let total = rows.len();
        (rows.into_iter().skip(start).take(count).collect(), total)
    };
    render_entries(ctx, db, view, key, (start, page, total, total_in_view))
}

/// The whole view, resorted by `sort_col` and filtered by `keys`, with view positions (these
/// parameters are for people browsing; they sort and scan the view).
fn resorted_or_filtered<'a>(
    ctx: &DataCtx<'_>,
    view: &'a View,
    db: &'a Database,
    sort_col: Option<&super::model::Column>,
    keys: Option<&str>,
) -> Vec<(usize, &'a Document)> {
    let mut rows: Vec<(usize, &Document)> = view
        .rows_from(db, 0)
        .enumerate()
        .map(|(i, d)| (i + 1, d))
        .collect();
    if let Some(col) = sort_col {
        let descending =
            param(ctx.query(), "sortorder").is_some_and(|o| o.eq_ignore_ascii_case("descending"));
        rows.sort_by(|a, b| {
            let o = col
                .compare(a.1, b.1)
                .then_with(|| a.1.note_id.cmp(&b.1.note_id));
            if descending { o.reverse() } else { o }
        });
        for (i, row) in rows.iter_mut().enumerate() {
            row.0 = i + 1;
        }
    }
    // keys: match on the first sorted (or the resorted) column, prefix by default.
    if let Some(keys) = keys {
        let exact =
            param(ctx.query(), "keysexactmatch").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let key_col = sort_col.or_else(|| view.columns.iter().find(|c| c.sorted));
        if let Some(col) = key_col {
            let wanted = keys.to_lowercase();
            rows.retain(|(_, d)| {
                let v = col.value(d);
                let s = match &v {
                    Value::String(s) => s.clone(),
                    Value::Array(a) => a
                        .first()
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    other => other.to_string(),
                }
                .to_lowercase();
                if exact {
                    s == wanted
                } else {
                    s.starts_with(&wanted)
                }
            });
        }
    }
    rows
}

/// The entries of a page: `(start, page, total, total_in_view)`.
fn render_entries(
    ctx: &DataCtx<'_>,
    db: &Database,
    view: &View,
    key: &str,
    (start, page, total, total_in_view): (usize, Vec<(usize, &Document)>, usize, usize),
) -> Response {
    let mask = system_columns(ctx);
    let raw_view = ctx
        .req
        .raw_segments
        .get(ctx.rest_start + 2)
        .cloned()
        .unwrap_or_else(|| view.title.clone());
    let entries: Vec<Value> = page
        .iter()
        .map(|(pos, doc)| {
            let mut e = Map::new();
            if mask & 0x800 != 0 {
                e.insert(
                    "@href".into(),
                    json!(format!("/{}/api/data/collections/{key}/{raw_view}/unid/{}", db.path, doc.unid)),
                );
                e.insert(
                    "@link".into(),
                    json!({ "rel": "document", "href": format!("/{}/api/data/documents/unid/{}", db.path, doc.unid) }),
                );
            }
            e.insert("@entryid".into(), json!(format!("{pos}-{}", doc.unid)));
            if mask & 0x2 != 0 {
                e.insert("@unid".into(), json!(doc.unid));
            }
            if mask & 0x1 != 0 {
                e.insert("@noteid".into(), json!(format!("{:X}", doc.note_id)));
            }
            if mask & 0x4 != 0 {
                e.insert("@position".into(), json!(pos.to_string()));
            }
            if mask & 0x8 != 0 && doc.read_by.contains(&ctx.user.to_lowercase()) {
                e.insert("@read".into(), json!(true));
            }
            if mask & 0x10 != 0 && total_in_view > 0 {
                e.insert("@siblings".into(), json!(total_in_view));
            }
            if mask & 0x100 != 0
                && let Some(form) = doc.form()
            {
                e.insert("@form".into(), json!(form));
            }
            for col in &view.columns {
                e.insert(col.name.clone(), col.value(doc));
            }
            Value::Object(e)
        })
        .collect();
    let served = entries.len();
    let mut response = das_json(StatusCode::OK, &Value::Array(entries), ctx.compact());
    let entry_count =
        param(ctx.query(), "entrycount").is_none_or(|v| !v.eq_ignore_ascii_case("false"));
    if entry_count && total > 0 && start < total {
        let last = start + served.max(1) - 1;
        if let Ok(v) = HeaderValue::from_str(&format!("items {start}-{last}/{total}")) {
            response.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    response
}

fn document_list(ctx: &DataCtx<'_>) -> Response {
    let Some(db) = ctx.db() else {
        return das_error(StatusCode::NOT_FOUND, None);
    };
    if param(ctx.query(), "search").is_some() {
        return das_error(
            StatusCode::BAD_REQUEST,
            Some("Database is not full text indexed."),
        );
    }
    let since = match param(ctx.query(), "since") {
        None => None,
        Some(s) => match NotesTime::parse(s) {
            Some(NotesTime::DateTime(t)) => Some(t),
            Some(NotesTime::Date(d)) => Some(d.and_time(chrono::NaiveTime::MIN).and_utc()),
            _ => {
                return das_error(
                    StatusCode::BAD_REQUEST,
                    Some(&format!("Invalid parameter since: {s}")),
                );
            }
        },
    };
    let docs: Vec<&Document> = match since {
        Some(s) => db.documents.modified_after(s),
        None => db.documents.iter().collect(),
    };
    let list: Vec<Value> = docs
        .into_iter()
        .map(|d| {
            json!({
                "@modified": das_time(d.modified),
                "@unid": d.unid,
                "@href": format!("/{}/api/data/documents/unid/{}", db.path, d.unid),
            })
        })
        .collect();
    das_json(StatusCode::OK, &Value::Array(list), ctx.compact())
}

fn need_documents_level(ctx: &DataCtx<'_>) -> Option<Response> {
    let level = ctx.db().map_or(0, |d| d.allow_rest);
    (level < 2).then(|| das_error(StatusCode::FORBIDDEN, Some("Cannot access resource")))
}

fn parse_body(ctx: &DataCtx<'_>) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(ctx.req.body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(das_error(
            StatusCode::BAD_REQUEST,
            Some("Error while parsing the JSON content"),
        )),
    }
}

/// Keys that `updateFields` ignores.
fn writable_key(key: &str) -> bool {
    !(key.starts_with('$') || key.starts_with('@') || key.eq_ignore_ascii_case("Form"))
}

/// Apply the body's items to a document (`updateFields`); `Err` is the 400 answer.
fn apply_items(doc: &mut Document, body: &Map<String, Value>) -> Result<(), Response> {
    let form = doc.form();
    let mut updates = Vec::new();
    for (key, value) in body.iter().filter(|(k, _)| writable_key(k)) {
        let item = ItemValue::from_client_json(value, is_date_field(form.as_deref(), key))
            .map_err(|e| das_error(StatusCode::BAD_REQUEST, Some(&e)))?;
        updates.push((key.clone(), item));
    }
    for (key, item) in updates {
        doc.set(&key, item);
    }
    Ok(())
}

fn create_document(ctx: &mut DataCtx<'_>) -> Response {
    if let Some(r) = need_documents_level(ctx) {
        return r;
    }
    let body = match parse_body(ctx) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let form = param(ctx.query(), "form").map(str::to_owned);
    // An empty `parentid` is no `parentid` (the request's query has none left); one that is
    // not a UNID is a bad parameter; a UNID of no document is the store's 404.
    let parent = param(ctx.query(), "parentid").map(str::to_owned);
    if let Some(p) = &parent {
        if !is_unid(p) {
            return das_error(
                StatusCode::BAD_REQUEST,
                Some(&format!("Invalid parameter parentid: {p}")),
            );
        }
        if ctx.db().and_then(|db| db.doc(p)).is_none() {
            return das_exception(StatusCode::NOT_FOUND, "Invalid universal id");
        }
    }
    let unid = ctx.server.new_unid();
    let author = canonical_name(&ctx.user);
    let now = ctx.now;
    let Some(db) = ctx.server.databases.get_mut(&ctx.db_key) else {
        return das_error(StatusCode::NOT_FOUND, None);
    };
    let mut items = Vec::new();
    if let Some(f) = &form {
        items.push(("Form".to_owned(), ItemValue::text(f)));
    }
    let db_path = db.path.clone();
    let mut doc = db.add(unid.clone(), now, now, &author, items);
    doc.parent = parent.map(|p| p.to_ascii_uppercase());
    let applied = apply_items(&mut doc, &body);
    drop(doc);
    if let Err(r) = applied {
        db.remove_document(&unid);
        return r;
    }
    let location = format!("{}/{db_path}/api/data/documents/unid/{unid}", ctx.origin);
    let mut response = StatusCode::CREATED.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// 32 hexadecimal digits, the form of a universal id.
fn is_unid(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn header_time(ctx: &DataCtx<'_>, name: header::HeaderName) -> Option<DateTime<Utc>> {
    ctx.req
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_rfc1123)
}

fn document(ctx: &mut DataCtx<'_>, unid: &str) -> Response {
    if let Some(r) = need_documents_level(ctx) {
        return r;
    }
    let exists = ctx.db().and_then(|db| db.doc(unid)).is_some();
    if !exists {
        return das_exception(StatusCode::NOT_FOUND, "Invalid universal id");
    }
    match ctx.req.method {
        Method::GET => get_document(ctx, unid),
        Method::PUT | Method::PATCH => update_document(ctx, unid),
        Method::DELETE => delete_document(ctx, unid),
        _ => method_not_allowed(),
    }
}

fn bool_param(ctx: &DataCtx<'_>, name: &str, default: bool) -> bool {
    param(ctx.query(), name).map_or(default, |v| v.eq_ignore_ascii_case("true"))
}

fn get_document(ctx: &mut DataCtx<'_>, unid: &str) -> Response {
    let markread = match param(ctx.query(), "markread") {
        None => true,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => return das_error(StatusCode::BAD_REQUEST, Some("Invalid parameter.")),
    };
    let fields: Option<Vec<String>> = match param(ctx.query(), "fields") {
        None => None,
        Some(list) => {
            let names: Vec<String> = list.split(',').map(|s| s.trim().to_owned()).collect();
            let valid = names.iter().all(|n| {
                !n.is_empty()
                    && n.chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            });
            if !valid {
                return das_error(
                    StatusCode::BAD_REQUEST,
                    Some(&format!("Invalid fields parameter: {list}")),
                );
            }
            Some(names)
        }
    };
    let hidden = bool_param(ctx, "hidden", false);
    let strongtype = bool_param(ctx, "strongtype", false);
    let multipart = bool_param(ctx, "multipart", true);
    let lowercase = bool_param(ctx, "lowercasefields", false);
    let if_modified_since = header_time(ctx, header::IF_MODIFIED_SINCE);
    let user = ctx.user.to_lowercase();
    let compact = ctx.compact();
    let Some(db) = ctx.server.databases.get_mut(&ctx.db_key) else {
        return das_error(StatusCode::NOT_FOUND, None);
    };
    let db_path = db.path.clone();
    let Some(slot) = db.documents.slot_of(unid) else {
        return das_exception(StatusCode::NOT_FOUND, "Invalid universal id");
    };
    if db
        .documents
        .get(slot)
        .is_some_and(|d| if_modified_since.is_some_and(|t| d.modified <= t))
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    if markread {
        db.documents.mark_read(slot, user);
    }
    let Some(doc) = db.documents.get(slot) else {
        return das_exception(StatusCode::NOT_FOUND, "Invalid universal id");
    };
    let time = |t: DateTime<Utc>| {
        if strongtype {
            json!({ "data": das_time(t), "type": "datetime" })
        } else {
            json!(das_time(t))
        }
    };
    let mut out = Map::new();
    out.insert(
        "@href".into(),
        json!(format!("/{db_path}/api/data/documents/unid/{}", doc.unid)),
    );
    out.insert("@unid".into(), json!(doc.unid));
    out.insert("@noteid".into(), json!(format!("{:X}", doc.note_id)));
    if let Some(p) = &doc.parent {
        out.insert("@parentid".into(), json!(p));
    }
    out.insert("@created".into(), time(doc.created));
    out.insert("@modified".into(), time(doc.modified));
    match doc.authors.len() {
        0 => {}
        1 => {
            out.insert("@authors".into(), json!(doc.authors[0]));
        }
        _ => {
            out.insert("@authors".into(), json!(doc.authors));
        }
    }
    if let Some(form) = doc.form() {
        out.insert("@form".into(), json!(form));
    }
    let wanted = |name: &str| {
        fields
            .as_ref()
            .is_none_or(|f| f.iter().any(|w| w.eq_ignore_ascii_case(name)))
    };
    let key = |name: &str| {
        if lowercase {
            name.to_lowercase()
        } else {
            name.to_owned()
        }
    };
    if hidden {
        for (name, value) in doc
            .items
            .iter()
            .filter(|(n, _)| n.starts_with('$') && !n.eq_ignore_ascii_case("$FILE"))
        {
            if let Some(v) = value.to_das(strongtype, multipart) {
                out.insert(key(name), v);
            }
        }
    }
    for (name, value) in doc
        .items
        .iter()
        .filter(|(n, _)| !n.starts_with('$') && !n.eq_ignore_ascii_case("Form") && wanted(n))
    {
        if let Some(v) = value.to_das(strongtype, multipart) {
            out.insert(key(name), v);
        }
    }
    let mut response = das_json(StatusCode::OK, &Value::Object(out), compact);
    if let Ok(v) = HeaderValue::from_str(&rfc1123(doc.modified)) {
        response.headers_mut().insert(header::LAST_MODIFIED, v);
    }
    response
}

fn update_document(ctx: &mut DataCtx<'_>, unid: &str) -> Response {
    let body = match parse_body(ctx) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let replace = ctx.req.method == Method::PUT;
    let form = param(ctx.query(), "form").map(str::to_owned);
    let if_unmodified = header_time(ctx, header::IF_UNMODIFIED_SINCE);
    let author = canonical_name(&ctx.user);
    let now = ctx.now;
    let Some(mut doc) = ctx
        .server
        .databases
        .get_mut(&ctx.db_key)
        .and_then(|db| db.doc_mut(unid))
    else {
        return das_exception(StatusCode::NOT_FOUND, "Invalid universal id");
    };
    if if_unmodified.is_some_and(|t| doc.modified > t) {
        return StatusCode::PRECONDITION_FAILED.into_response();
    }
    let mut updated = doc.clone();
    if let Some(f) = &form {
        updated.set("Form", ItemValue::text(f));
    }
    if let Err(r) = apply_items(&mut updated, &body) {
        return r;
    }
    if replace {
        // Item names are compared case-sensitively here, as DAS does.
        updated
            .items
            .retain(|(name, _)| !writable_key(name) || body.contains_key(name));
    }
    if !updated.authors.contains(&author) {
        updated.authors.push(author);
    }
    updated.modified = now;
    *doc = updated;
    StatusCode::OK.into_response()
}

fn delete_document(ctx: &mut DataCtx<'_>, unid: &str) -> Response {
    let if_unmodified = header_time(ctx, header::IF_UNMODIFIED_SINCE);
    let Some(db) = ctx.server.databases.get_mut(&ctx.db_key) else {
        return das_error(StatusCode::NOT_FOUND, None);
    };
    let Some(doc) = db.doc(unid) else {
        return das_exception(StatusCode::NOT_FOUND, "Invalid universal id");
    };
    if if_unmodified.is_some_and(|t| doc.modified > t) {
        return StatusCode::PRECONDITION_FAILED.into_response();
    }
    db.remove_document(unid);
    StatusCode::OK.into_response()
}
