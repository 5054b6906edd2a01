//! Records API (zoho-crm-api.md §1, §2.1): list with paging and page tokens, get one,
//! insert, update, delete, deleted records; and the routing of `/crm/v{N}/…`.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use super::model::{
    DeletedRecord, Module, PageToken, Record, TagDef, ValueError, ZohoData, fmt_time, full_name,
    normalize, parse_time, unique_key,
};
use super::profiles;
use super::views::{self, CustomView};
use super::{error_body, events, extras, modules_api, owner, settings, zoho_error, zoho_json};
use crate::common::{param, random_hex};

/// Records per write call.
const MAX_WRITE: usize = 100;
const MAX_FIELDS: usize = 50;
const MAX_PER_PAGE: u64 = 200;
/// Record ids per `ids` listing.
const MAX_IDS: usize = 100;
/// Records reachable with `page` alone.
const DISCRETE_LIMIT: u64 = 2000;
/// Records reachable with page tokens.
pub(super) const TOKEN_LIMIT: u64 = 100_000;
/// Up to this many records changed since `If-Modified-Since` are sorted for each page; more
/// are walked in listing order.
const FEW: usize = 5_000;
const RECYCLE_RETENTION_DAYS: i64 = 60;
const PERMANENT_RETENTION_DAYS: i64 = 120;

pub(crate) struct CrmCtx<'a> {
    pub data: &'a mut ZohoData,
    pub user_id: String,
    pub fields_required: bool,
    pub method: Method,
    /// Path segments after `/crm/v{N}`.
    pub rest: Vec<String>,
    pub query: Vec<(String, String)>,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    pub now: DateTime<Utc>,
    /// The access token's scopes.
    pub scope: String,
}

impl CrmCtx<'_> {
    pub(crate) fn tz(&self) -> Tz {
        self.data
            .user(&self.user_id)
            .map_or(chrono_tz::UTC, |u| u.time_zone)
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn bad_method() -> Response {
    zoho_error(
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST_METHOD",
        "The http request method type is not a valid one",
        json!({}),
    )
}

/// A path crm-oas describes but the simulator does not implement: 501 `NOT_SUPPORTED` for the
/// methods the spec gives it (`documented`), 400 `INVALID_REQUEST_METHOD` for the others, as
/// for a path it implements.
fn unimplemented(method: &Method, documented: &[Method]) -> Response {
    if documented.contains(method) {
        not_supported()
    } else {
        bad_method()
    }
}

fn not_supported() -> Response {
    zoho_error(
        StatusCode::NOT_IMPLEMENTED,
        "NOT_SUPPORTED",
        "not implemented by the simulator",
        json!({}),
    )
}

pub(super) fn invalid_module() -> Response {
    zoho_error(
        StatusCode::BAD_REQUEST,
        "INVALID_MODULE",
        "The module name given seems to be invalid",
        json!({}),
    )
}

pub(super) fn invalid_param(name: &str) -> Response {
    zoho_error(
        StatusCode::BAD_REQUEST,
        "INVALID_DATA",
        "invalid data",
        json!({ "param_name": name }),
    )
}

pub(super) fn required_param(name: &str) -> Response {
    zoho_error(
        StatusCode::BAD_REQUEST,
        "REQUIRED_PARAM_MISSING",
        "One of the expected parameter is missing",
        json!({ "param_name": name }),
    )
}

pub(crate) fn route(ctx: &mut CrmCtx<'_>) -> Response {
    let rest: Vec<String> = ctx.rest.clone();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let get = ctx.method == Method::GET;
    let method = ctx.method.clone();
    match rest.as_slice() {
        ["users"] if get => settings::users(ctx, None),
        ["users"] => unimplemented(&method, &[Method::POST, Method::PUT]),
        ["users", "actions", "count"] => unimplemented(&method, &[Method::GET]),
        ["users", id] if get => settings::users(ctx, Some(id)),
        ["users", _] => unimplemented(&method, &[Method::PUT, Method::DELETE]),
        ["users", _, "actions", "associated_groups"] => unimplemented(&method, &[Method::GET]),
        ["org"] if get => settings::org(ctx),
        ["org", "photo"] => unimplemented(&method, &[Method::GET, Method::POST, Method::DELETE]),
        ["settings", "fields"] => match method {
            Method::GET => settings::fields(ctx, None),
            Method::POST => settings::create_fields(ctx),
            _ => unimplemented(&method, &[Method::PATCH]),
        },
        ["settings", "fields", id] if get => settings::fields(ctx, Some(id)),
        ["settings", "fields", _] => unimplemented(&method, &[Method::PATCH, Method::DELETE]),
        ["users" | "org", ..] => bad_method(),
        ["coql"] if method == Method::POST => extras::coql(ctx),
        ["coql"] => bad_method(),
        ["settings", "modules"] if get => modules_api::modules(ctx, None),
        ["settings", "modules"] => unimplemented(&method, &[Method::POST, Method::PUT]),
        ["settings", "modules", which] if get => modules_api::modules(ctx, Some(which)),
        ["settings", "modules", _] => unimplemented(&method, &[Method::PUT]),
        ["settings", "custom_views", "actions", "change_sort"]
        | ["settings", "custom_views", _, "actions", "change_sort"] => {
            unimplemented(&method, &[Method::PUT])
        }
        ["settings", "custom_views"] if get => views::get(ctx, None),
        ["settings", "custom_views", id] if get => views::get(ctx, Some(id)),
        ["settings", "profiles"] if get => profiles::get(ctx, None),
        ["settings", "profiles", id] if get => profiles::get(ctx, Some(id)),
        // Profile administration is described (profiles.json) but not simulated: the product
        // only reads profiles. Methods the spec does not describe are INVALID_REQUEST_METHOD.
        ["settings", "profiles"] => bad_method(),
        ["settings", "profiles", _] => unimplemented(&method, &[Method::PUT, Method::DELETE]),
        ["settings", "profiles", _, "actions", "clone"] => unimplemented(&method, &[Method::POST]),
        ["settings", "custom_views", ..] => bad_method(),
        ["settings", "tags"] => unimplemented(&method, &[Method::GET, Method::POST, Method::PUT]),
        ["settings", "tags", _] => unimplemented(&method, &[Method::PUT, Method::DELETE]),
        ["settings", "tags", _, "actions", "merge"] => unimplemented(&method, &[Method::POST]),
        ["settings", "tags", _, "actions", "records_count"] => {
            unimplemented(&method, &[Method::GET])
        }
        ["settings", ..] => not_supported(),
        [module, tail @ ..] => {
            let Some(mi) = ctx.data.module_index(module) else {
                return invalid_module();
            };
            // Change owner has its own scope (change_owner.json), checked there.
            let change_owner = match tail {
                ["actions", "change_owner"] => Some(None),
                [id, "actions", "change_owner"] => Some(Some(*id)),
                _ => None,
            };
            if let Some(id) = change_owner
                && ctx.method == Method::POST
            {
                return owner::change_owner(ctx, mi, module, id);
            }
            let op = super::oauth::operation(&ctx.method);
            if !super::oauth::scope_allows(&ctx.scope, module, op) {
                return super::oauth::scope_mismatch(module, op);
            }
            match (tail, &ctx.method) {
                ([], &Method::GET) => list(ctx, mi),
                ([], &Method::POST) => insert(ctx, mi),
                ([], &Method::PUT) => update(ctx, mi, None),
                ([], &Method::DELETE) => {
                    let ids = param(&ctx.query, "ids").map(str::to_owned);
                    match ids {
                        Some(ids) => delete(ctx, mi, &ids),
                        None => required_param("ids"),
                    }
                }
                (["deleted"], &Method::GET) => deleted(ctx, mi),
                (["upsert"], &Method::POST) => extras::upsert(ctx, mi),
                (["search"], &Method::GET) => extras::search(ctx, mi),
                (["actions", action @ ("add_tags" | "remove_tags")], &Method::POST) => {
                    let add = *action == "add_tags";
                    extras::tags(ctx, mi, None, add)
                }
                ([id, "actions", action @ ("add_tags" | "remove_tags")], &Method::POST) => {
                    let add = *action == "add_tags";
                    extras::tags(ctx, mi, Some(id), add)
                }
                ([id, "actions", "cancel"], &Method::POST)
                    if ctx.data.modules[mi].api_name == "Events" =>
                {
                    events::cancel(ctx, mi, id)
                }
                (["upsert"], _) => bad_method(),
                (["search"], _) => bad_method(),
                (["actions", "count" | "fetch_full_data"], _) => {
                    unimplemented(&method, &[Method::GET])
                }
                (["actions", "mass_update"], _) => {
                    unimplemented(&method, &[Method::GET, Method::POST])
                }
                (["actions", "assign_territories" | "remove_territories"], _)
                | (
                    [
                        _,
                        "actions",
                        "assign_territories" | "remove_territories" | "clone",
                    ],
                    _,
                ) => unimplemented(&method, &[Method::POST]),
                ([_, "actions", "fetch_full_data"], _) => unimplemented(&method, &[Method::GET]),
                ([_, "photo"], _) => {
                    unimplemented(&method, &[Method::GET, Method::POST, Method::DELETE])
                }
                (
                    ["actions", "add_tags" | "remove_tags" | "change_owner"]
                    | [
                        _,
                        "actions",
                        "add_tags" | "remove_tags" | "change_owner" | "cancel",
                    ],
                    _,
                ) => bad_method(),
                // Other actions Zoho has (convert, …) are not simulated.
                (["actions", ..], _) => not_supported(),
                ([id], &Method::GET) => get_one(ctx, mi, id),
                ([id], &Method::PUT) => update(ctx, mi, Some(id)),
                ([id], &Method::DELETE) => delete(ctx, mi, id),
                ([_] | [], _) => bad_method(),
                _ => zoho_error(
                    StatusCode::NOT_FOUND,
                    "INVALID_URL_PATTERN",
                    "Please check if the URL trying to access is a correct one",
                    json!({}),
                ),
            }
        }
        [] => zoho_error(
            StatusCode::NOT_FOUND,
            "INVALID_URL_PATTERN",
            "Please check if the URL trying to access is a correct one",
            json!({}),
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Rendering

/// The colours `tags.json` allows.
const TAG_COLORS: [&str; 13] = [
    "#57B1FD", "#879BFC", "#658BA8", "#FD87BD", "#969696", "#F48435", "#1DB9B4", "#E7A826",
    "#63C57E", "#F17574", "#D297EE", "#A8C026", "#B88562",
];

/// A tag's colour: one of the allowed ones, fixed per tag id.
pub(crate) fn tag_color(id: &str) -> &'static str {
    let n = id.bytes().fold(0_usize, |a, b| {
        a.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    TAG_COLORS[n % TAG_COLORS.len()]
}

/// A record's tags with the keys `tags.json` requires; a tag's creation time and user stand in
/// for its modification (tags are not renamed), the org's creation and the first user when
/// unknown.
pub(crate) fn tags_json(data: &ZohoData, module: &Module, r: &Record, tz: Tz) -> Value {
    Value::Array(
        r.tags
            .iter()
            .filter_map(|id| module.tags.iter().find(|t| &t.id == id))
            .map(|t| {
                let time = fmt_time(t.created.unwrap_or(data.org_created), tz);
                let by = t
                    .created_by
                    .clone()
                    .or_else(|| data.users.first().map(|u| u.id.clone()))
                    .unwrap_or_default();
                json!({
                    "name": t.name,
                    "id": t.id,
                    "color_code": tag_color(&t.id),
                    "created_time": time,
                    "modified_time": time,
                    "created_by": data.user_json(&by),
                    "modified_by": data.user_json(&by),
                })
            })
            .collect(),
    )
}

fn lookup_json(data: &ZohoData, target: Option<&str>, stored: &Value) -> Value {
    let Some(id) = stored.get("id").and_then(Value::as_str) else {
        return Value::Null;
    };
    let name = target.and_then(|m| data.module(m)).and_then(|m| {
        let r = m.record(id.parse().ok()?)?;
        Some(m.display_name(r))
    });
    json!({ "name": name, "id": id })
}

/// One record as JSON: the requested fields (all when `None`) and `id`, in `tz`.
pub(crate) fn render_record(
    data: &ZohoData,
    module: &Module,
    r: &Record,
    fields: Option<&BTreeSet<String>>,
    tz: Tz,
    meta: bool,
) -> Value {
    let mut out = Map::new();
    for f in &module.fields {
        if fields.is_some_and(|set| !set.contains(&f.api_name)) {
            continue;
        }
        let v = match f.api_name.as_str() {
            "Owner" => data.user_json(&r.owner),
            "Created_By" => data.user_json(&r.created_by),
            "Modified_By" => data.user_json(&r.modified_by),
            "Created_Time" => json!(fmt_time(r.created, tz)),
            "Modified_Time" => json!(fmt_time(r.modified, tz)),
            "Full_Name" => json!(full_name(r)),
            "Tag" => tags_json(data, module, r, tz),
            "Participants" if module.api_name == "Events" => r
                .values
                .get("Participants")
                .map_or(Value::Null, |p| events::render_participants(data, p)),
            _ => match (f.data_type.as_str(), r.values.get(&f.api_name)) {
                (_, None | Some(Value::Null)) => Value::Null,
                ("lookup", Some(stored)) => lookup_json(data, f.lookup_module.as_deref(), stored),
                ("datetime", Some(Value::String(s))) => {
                    parse_time(s).map_or_else(|| json!(s), |t| json!(fmt_time(t, tz)))
                }
                (_, Some(v)) => v.clone(),
            },
        };
        out.insert(f.api_name.clone(), v);
    }
    if module.api_name == "Events" && fields.is_none_or(|f| f.contains("$event_cancelled")) {
        let cancelled = r.values.get("$event_cancelled") == Some(&json!(true));
        out.insert("$event_cancelled".into(), json!(cancelled));
    }
    if meta {
        out.insert("$approval_state".into(), json!("approved"));
        out.insert("$editable".into(), json!(true));
        out.insert("$in_merge".into(), json!(false));
        out.insert("$locked_for_me".into(), json!(false));
    }
    out.insert("id".into(), json!(r.id.to_string()));
    Value::Object(out)
}

// ---------------------------------------------------------------------------------------
// Reading

/// The order of a listing (`sort_by`, or a custom view's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SortBy {
    Id,
    Created,
    Modified,
}

impl SortBy {
    pub(crate) fn name(self) -> &'static str {
        match self {
            SortBy::Id => "id",
            SortBy::Created => "Created_Time",
            SortBy::Modified => "Modified_Time",
        }
    }

    /// (sort key, id): the cursor of a record.
    fn key(self, r: &Record) -> (i64, u64) {
        let k = match self {
            SortBy::Id => 0,
            SortBy::Created => r.created.timestamp(),
            SortBy::Modified => r.modified.timestamp(),
        };
        (k, r.id)
    }
}

fn parse_u64(ctx: &CrmCtx<'_>, name: &str, default: u64) -> Result<u64, Response> {
    match param(&ctx.query, name) {
        None => Ok(default),
        Some(v) => v.trim().parse::<u64>().map_err(|_| invalid_param(name)),
    }
}

fn if_modified_since(ctx: &CrmCtx<'_>) -> Result<Option<DateTime<Utc>>, Response> {
    match ctx.header("if-modified-since") {
        None => Ok(None),
        Some(v) => parse_time(v)
            .map(Some)
            .ok_or_else(|| invalid_param("If-Modified-Since")),
    }
}

/// `X-EXTERNAL: Module.Field`: the external field to look ids up by.
fn external_field(ctx: &CrmCtx<'_>, module: &Module) -> Option<String> {
    let header = ctx.header("x-external")?;
    let (m, f) = header.split_once('.')?;
    (m.eq_ignore_ascii_case(module.api_name)
        && module.field(f).is_some_and(|fd| fd.external.is_some()))
    .then(|| f.to_owned())
}

/// Resolve a path or `ids` value to a record id (through `X-EXTERNAL` when given).
fn resolve_id(ctx: &CrmCtx<'_>, module: &Module, value: &str) -> Option<u64> {
    if let Some(field) = external_field(ctx, module) {
        let exact = |r: &&Record| r.values.get(&field).and_then(Value::as_str) == Some(value);
        // The unique-value index finds the records equal to it but for case.
        return match super::model::unique_key(&Value::String(value.to_owned())) {
            Some(key) => module.records.holders(&field, &key).into_iter().find(exact),
            None => module.records.iter().find(exact),
        }
        .map(|r| r.id);
    }
    value.trim().parse().ok()
}

struct ListParams {
    fields: Option<BTreeSet<String>>,
    per_page: u64,
    page: Option<u64>,
    sort_by: SortBy,
    descending: bool,
    ids: Option<BTreeSet<u64>>,
    since: Option<DateTime<Utc>>,
    /// The view a `cvid` names.
    view: Option<CustomView>,
    binding: String,
}

/// 400 `AMBIGUITY_DURING_PROCESSING` for two parameters that cannot be given together (§1.2).
fn ambiguity(a: &str, b: &str) -> Response {
    zoho_error(
        StatusCode::BAD_REQUEST,
        "AMBIGUITY_DURING_PROCESSING",
        &format!("{a} and {b} cannot be given together"),
        json!({ "ambiguity_due_to": [
            { "api_name": a, "json_path": a },
            { "api_name": b, "json_path": b },
        ]}),
    )
}

fn list_params(ctx: &CrmCtx<'_>, mi: usize) -> Result<ListParams, Response> {
    let module = &ctx.data.modules[mi];
    let fields = match param(&ctx.query, "fields") {
        Some(list) => {
            let set: BTreeSet<String> = list
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            if set.len() > MAX_FIELDS {
                return Err(zoho_error(
                    StatusCode::BAD_REQUEST,
                    "LIMIT_EXCEEDED",
                    "Fields limit exceeded",
                    json!({ "limit": MAX_FIELDS }),
                ));
            }
            Some(set)
        }
        None if ctx.fields_required => return Err(required_param("fields")),
        None => None,
    };
    let per_page = parse_u64(ctx, "per_page", MAX_PER_PAGE)?;
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(invalid_param("per_page"));
    }
    let page = match param(&ctx.query, "page") {
        None => None,
        Some(_) => {
            let p = parse_u64(ctx, "page", 1)?;
            if p == 0 {
                return Err(invalid_param("page"));
            }
            Some(p)
        }
    };
    let view = match param(&ctx.query, "cvid") {
        None => None,
        // A view lists in its own order (§1.2: "cannot combine with cvid").
        Some(_) if param(&ctx.query, "sort_by").is_some() => {
            return Err(ambiguity("cvid", "sort_by"));
        }
        Some(id) => Some(
            views::find(ctx.data, mi, &ctx.user_id, id.trim())
                .ok_or_else(|| invalid_param("cvid"))?,
        ),
    };
    let sort_by = match (param(&ctx.query, "sort_by"), &view) {
        (None, Some(v)) => v.sort_by,
        (None | Some("id"), _) => SortBy::Id,
        (Some("Created_Time"), _) => SortBy::Created,
        (Some("Modified_Time"), _) => SortBy::Modified,
        (Some(_), _) => return Err(invalid_param("sort_by")),
    };
    let descending = match param(&ctx.query, "sort_order") {
        None => view.as_ref().is_none_or(|v| v.descending),
        Some("desc") => true,
        Some("asc") => false,
        Some(_) => return Err(invalid_param("sort_order")),
    };
    let ids = match param(&ctx.query, "ids") {
        None => None,
        Some(list) => {
            let given: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if given.len() > MAX_IDS {
                return Err(zoho_error(
                    StatusCode::BAD_REQUEST,
                    "LIMIT_EXCEEDED",
                    "ids limit exceeded",
                    json!({ "limit": MAX_IDS, "param_name": "ids" }),
                ));
            }
            Some(
                given
                    .into_iter()
                    .filter_map(|v| resolve_id(ctx, module, v))
                    .collect::<BTreeSet<u64>>(),
            )
        }
    };
    let since = if_modified_since(ctx)?;
    let binding = format!(
        "{}|{:?}|{}|{}|{}|{:?}|{:?}|{:?}",
        module.api_name,
        fields,
        per_page,
        sort_by.name(),
        descending,
        ids,
        since.map(|t| t.timestamp()),
        view.as_ref().map(|v| &v.id),
    );
    Ok(ListParams {
        fields,
        per_page,
        page,
        sort_by,
        descending,
        ids,
        since,
        view,
        binding,
    })
}

fn issue_token(data: &mut ZohoData, token: PageToken) -> String {
    // Tokens live 24 h, so one expiring before this one was issued is already dead.
    let issued_at = token.expires - Duration::hours(24);
    data.page_tokens.retain(|_, t| t.expires > issued_at);
    let id = random_hex(48).to_lowercase();
    data.page_tokens.insert(id.clone(), token);
    id
}

fn list(ctx: &mut CrmCtx<'_>, mi: usize) -> Response {
    let p = match list_params(ctx, mi) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let tz = ctx.tz();
    let token_param = param(&ctx.query, "page_token").map(str::to_owned);
    let mut page_token: Option<PageToken> = None;
    if let Some(t) = &token_param {
        if p.page.is_some() {
            return ambiguity("page", "page_token");
        }
        let Some(found) = ctx.data.page_tokens.get(t).cloned() else {
            return invalid_param("page_token");
        };
        if found.user_id != ctx.user_id || found.module != ctx.data.modules[mi].api_name {
            return invalid_param("page_token");
        }
        if found.expires <= ctx.now {
            return zoho_error(
                StatusCode::BAD_REQUEST,
                "EXPIRED_VALUE",
                "the given page_token has expired",
                json!({ "param_name": "page_token" }),
            );
        }
        if found.binding != p.binding {
            return zoho_error(
                StatusCode::BAD_REQUEST,
                "TOKEN_BOUND_DATA_MISMATCH",
                "the page_token is bound to other parameter values",
                json!({ "param_name": "page_token" }),
            );
        }
        page_token = Some(found);
    }
    let page = page_token.as_ref().map_or(p.page.unwrap_or(1), |t| t.page);
    if page_token.is_none() && page.saturating_mul(p.per_page) > DISCRETE_LIMIT {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
            "You can only get the first 2000 records without using page_token param",
            json!({ "limit": DISCRETE_LIMIT }),
        );
    }

    let module = &ctx.data.modules[mi];
    let per_page = usize::try_from(p.per_page).unwrap_or(200);
    let keep = |r: &&Record| {
        p.ids.as_ref().is_none_or(|ids| ids.contains(&r.id))
            && p.since.is_none_or(|s| r.modified > s)
            && p.view
                .as_ref()
                .is_none_or(|v| v.shows(ctx.data, module, &ctx.user_id, ctx.now, r))
    };
    let order = |a: &(i64, u64), b: &(i64, u64)| -> Ordering {
        let o = a.cmp(b);
        if p.descending { o.reverse() } else { o }
    };
    let cursor = page_token.as_ref().map(|t| t.after);
    // The candidates from the first one the page can hold: all of them when few (`ids`, or
    // a short `If-Modified-Since` list), else walked in listing order from the cursor.
    let few: Option<Vec<&Record>> = match (&p.ids, p.since) {
        (Some(ids), _) => Some(
            ids.iter()
                .filter_map(|id| module.records.get(*id))
                .collect(),
        ),
        (None, Some(s)) => {
            let changed: Vec<&Record> = module
                .records
                .modified_from(s.timestamp())
                .take(FEW + 1)
                .collect();
            (changed.len() <= FEW).then_some(changed)
        }
        (None, None) => None,
    };
    let walked = few.is_none();
    let (candidates, start): (Vec<&Record>, usize) = match few {
        Some(mut all) => {
            all.retain(keep);
            all.sort_by(|a, b| order(&p.sort_by.key(a), &p.sort_by.key(b)));
            // Page tokens are cursors: continue after the (sort key, id) of the last record
            // served.
            let start = match cursor {
                Some(None) => 0,
                Some(Some(cursor)) => all
                    .iter()
                    .position(|r| order(&p.sort_by.key(r), &cursor) == Ordering::Greater)
                    .unwrap_or(all.len()),
                None => {
                    usize::try_from((page - 1).saturating_mul(p.per_page)).unwrap_or(usize::MAX)
                }
            };
            (all, start)
        }
        None => {
            let from = module
                .records
                .ordered(p.sort_by, p.descending, cursor.flatten())
                .filter(keep);
            match cursor {
                // One more than the page, to know whether there are more.
                Some(_) => (from.take(per_page + 1).collect(), 0),
                None => {
                    // Paging by number stops at record 2,000, so this walk is short.
                    let start = usize::try_from((page - 1).saturating_mul(p.per_page))
                        .unwrap_or(usize::MAX);
                    let head = from.take(start.saturating_add(per_page + 1)).collect();
                    (head, start)
                }
            }
        }
    };
    let slice: Vec<&Record> = candidates
        .iter()
        .skip(start)
        .take(per_page)
        .copied()
        .collect();
    if slice.is_empty() {
        let none_at_all = if walked && cursor.is_some() {
            module
                .records
                .ordered(p.sort_by, p.descending, None)
                .find(keep)
                .is_none()
        } else {
            candidates.is_empty()
        };
        if p.since.is_some() && none_at_all {
            return StatusCode::NOT_MODIFIED.into_response();
        }
        return StatusCode::NO_CONTENT.into_response();
    }
    let served_before = page_token
        .as_ref()
        .map_or((page - 1).saturating_mul(p.per_page), |t| t.offset);
    let token_limit = ctx.data.page_token_records;
    if page_token.is_some() && served_before.saturating_add(slice.len() as u64) > token_limit {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "PAGINATION_LIMIT_EXCEEDED",
            &format!("You can only get the first {token_limit} records using page_token param"),
            json!({ "limit": token_limit }),
        );
    }
    let slice_len = slice.len();
    let more = start + slice_len < candidates.len();
    let data_json: Vec<Value> = slice
        .iter()
        .map(|r| render_record(ctx.data, module, r, p.fields.as_ref(), tz, false))
        .collect();
    let last_key = p.sort_by.key(slice[slice_len - 1]);
    // Paging by number gets tokens for the current and previous pages too, so next and
    // previous links behave the same as when paging by token.
    let cursor_before = |index: usize| {
        index
            .checked_sub(1)
            .and_then(|i| candidates.get(i))
            .map(|r| p.sort_by.key(r))
    };
    let by_number = page_token.is_none();
    let current_cursor = cursor_before(start);
    let previous_cursor =
        (by_number && page > 1).then(|| cursor_before(start.saturating_sub(per_page)));
    let expires = ctx.now + Duration::hours(24);
    let api_name = module.api_name;
    let user_id = ctx.user_id.clone();
    let make =
        |after: Option<(i64, u64)>, page: u64, offset: u64, previous: Option<String>| PageToken {
            user_id: user_id.clone(),
            module: api_name,
            binding: p.binding.clone(),
            after,
            page,
            offset,
            previous,
            expires,
        };
    let previous = match previous_cursor {
        Some(cursor) => Some(issue_token(
            ctx.data,
            make(cursor, page - 1, (page - 2) * p.per_page, None),
        )),
        None => page_token.as_ref().and_then(|t| t.previous.clone()),
    };
    let next = if more {
        let current = match &token_param {
            Some(t) => t.clone(),
            None => issue_token(
                ctx.data,
                make(current_cursor, page, served_before, previous.clone()),
            ),
        };
        Some(issue_token(
            ctx.data,
            make(
                Some(last_key),
                page + 1,
                served_before + slice_len as u64,
                Some(current),
            ),
        ))
    } else {
        None
    };
    let mut info = Map::new();
    info.insert("per_page".into(), json!(p.per_page));
    if let Some(n) = &next {
        info.insert("next_page_token".into(), json!(n));
    }
    info.insert("count".into(), json!(slice_len));
    info.insert("sort_by".into(), json!(p.sort_by.name()));
    info.insert("page".into(), json!(page));
    if let Some(prev) = &previous {
        info.insert("previous_page_token".into(), json!(prev));
    }
    if next.is_some() || previous.is_some() {
        info.insert("page_token_expiry".into(), json!(fmt_time(expires, tz)));
    }
    info.insert(
        "sort_order".into(),
        json!(if p.descending { "desc" } else { "asc" }),
    );
    info.insert("more_records".into(), json!(more));
    zoho_json(StatusCode::OK, &json!({ "data": data_json, "info": info }))
}

fn get_one(ctx: &mut CrmCtx<'_>, mi: usize, id: &str) -> Response {
    let tz = ctx.tz();
    let module = &ctx.data.modules[mi];
    let fields = param(&ctx.query, "fields").map(|list| {
        list.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect::<BTreeSet<String>>()
    });
    let Some(record) = resolve_id(ctx, module, id).and_then(|id| module.record(id)) else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let body = render_record(
        ctx.data,
        module,
        record,
        fields.as_ref(),
        tz,
        fields.is_none(),
    );
    zoho_json(StatusCode::OK, &json!({ "data": [body] }))
}

fn deleted(ctx: &mut CrmCtx<'_>, mi: usize) -> Response {
    let kind = param(&ctx.query, "type").unwrap_or("all").to_owned();
    if !matches!(kind.as_str(), "all" | "recycle" | "permanent") {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "PATTERN_NOT_MATCHED",
            "Please check whether the input values are correct",
            json!({ "param_name": "type" }),
        );
    }
    let per_page = match parse_u64(ctx, "per_page", MAX_PER_PAGE) {
        Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => n,
        Ok(_) => return invalid_param("per_page"),
        Err(r) => return r,
    };
    let page = match parse_u64(ctx, "page", 1) {
        Ok(0) => return invalid_param("page"),
        Ok(n) => n,
        Err(r) => return r,
    };
    let since = match if_modified_since(ctx) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let tz = ctx.tz();
    let now = ctx.now;
    let module = &ctx.data.modules[mi];
    let mut rows: Vec<&DeletedRecord> = module
        .deleted
        .iter()
        .filter(|d| kind == "all" || d.kind == kind)
        .filter(|d| {
            let keep = if d.kind == "permanent" {
                PERMANENT_RETENTION_DAYS
            } else {
                RECYCLE_RETENTION_DAYS
            };
            d.deleted_time > now - Duration::days(keep)
        })
        .filter(|d| since.is_none_or(|s| d.deleted_time > s))
        .collect();
    rows.sort_by(|a, b| {
        b.deleted_time
            .cmp(&a.deleted_time)
            .then_with(|| b.id.cmp(&a.id))
    });
    if rows.is_empty() {
        return if since.is_some() {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            StatusCode::NO_CONTENT.into_response()
        };
    }
    let start = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let per = usize::try_from(per_page).unwrap_or(200);
    let slice: Vec<&&DeletedRecord> = rows.iter().skip(start).take(per).collect();
    if slice.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let name_id = |id: &Option<String>| match id {
        Some(id) => ctx
            .data
            .user(id)
            .map_or_else(|| json!({ "name": "", "id": id }), |u| u.name_id()),
        None => Value::Null,
    };
    let data_json: Vec<Value> = slice
        .iter()
        .map(|d| {
            json!({
                "deleted_by": name_id(&d.deleted_by),
                "id": d.id,
                "display_name": d.display_name,
                "type": d.kind,
                "created_by": name_id(&d.created_by),
                "deleted_time": fmt_time(d.deleted_time, tz),
            })
        })
        .collect();
    let more = start + slice.len() < rows.len();
    zoho_json(
        StatusCode::OK,
        &json!({
            "data": data_json,
            "info": { "per_page": per_page, "count": slice.len(), "page": page, "more_records": more },
        }),
    )
}

// ---------------------------------------------------------------------------------------
// Writing

/// `{"data":[…]}` of a write request, or the top-level error.
pub(super) fn write_items(ctx: &CrmCtx<'_>) -> Result<Vec<Map<String, Value>>, Response> {
    let body: Value = serde_json::from_slice(ctx.body).map_err(|_| body_error())?;
    let Value::Object(obj) = body else {
        return Err(body_error());
    };
    let items = match obj.get("data") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(Value::Array(_)) | None | Some(Value::Null) => return Err(required_param("data")),
        Some(_) => return Err(body_error()),
    };
    if items.len() > MAX_WRITE {
        return Err(limit_exceeded());
    }
    items
        .iter()
        .map(|i| i.as_object().cloned().ok_or_else(body_error))
        .collect()
}

pub(super) fn body_error() -> Response {
    zoho_error(
        StatusCode::BAD_REQUEST,
        "INVALID_DATA",
        "body",
        json!({ "expected_data_type": "jsonobject" }),
    )
}

fn limit_exceeded() -> Response {
    zoho_error(
        StatusCode::BAD_REQUEST,
        "LIMIT_EXCEEDED",
        "Record count exceeded",
        json!({ "limit": MAX_WRITE }),
    )
}

/// The answer to a batch: 201/200 all ok, 207 mixed, 400 (or `all_failed`) all failed.
pub(super) fn batch_response(
    results: Vec<Result<Value, Value>>,
    ok: StatusCode,
    all_failed: StatusCode,
) -> Response {
    let oks = results.iter().filter(|r| r.is_ok()).count();
    let status = if oks == results.len() {
        ok
    } else if oks == 0 {
        all_failed
    } else {
        StatusCode::MULTI_STATUS
    };
    let data: Vec<Value> = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| e))
        .collect();
    zoho_json(status, &json!({ "data": data }))
}

fn path(i: usize, field: &str) -> String {
    format!("$.data[{i}].{field}")
}

fn invalid_value(i: usize, field: &str, expected: &str) -> Value {
    error_body(
        "INVALID_DATA",
        "invalid data",
        json!({ "expected_data_type": expected, "api_name": field, "json_path": path(i, field) }),
    )
}

fn invalid_id(id: &str) -> Value {
    error_body(
        "INVALID_DATA",
        "the id given seems to be invalid",
        json!({ "id": id }),
    )
}

/// Whether `id` has the form of a record id (digits only), as opposed to a malformed one.
fn is_record_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// The per-record error for a delete of a malformed id: "malformed ids →
/// `UNABLE_TO_PARSE_DATA_TYPE`" (§1.8).
fn unparsable_id(id: &str) -> Value {
    error_body(
        "UNABLE_TO_PARSE_DATA_TYPE",
        "either the request body or parameters is in wrong format",
        json!({ "id": id }),
    )
}

struct Prepared {
    values: Map<String, Value>,
    owner: Option<String>,
    tags: Option<Vec<TagRef>>,
}

enum TagRef {
    Existing(String),
    New(String),
}

/// Validate one input record against the module's fields (`existing` for updates).
fn prepare(
    data: &ZohoData,
    mi: usize,
    item: &Map<String, Value>,
    i: usize,
    existing: Option<&Record>,
) -> Result<Prepared, Value> {
    let module = &data.modules[mi];
    let mut prepared = Prepared {
        values: Map::new(),
        owner: None,
        tags: None,
    };
    for (key, value) in item {
        if key == "id" || key.starts_with('$') {
            continue;
        }
        let Some(f) = module.field(key) else {
            continue;
        };
        if f.read_only {
            continue;
        }
        let events = module.api_name == "Events";
        match (key.as_str(), f.data_type.as_str()) {
            ("Participants", _) if events => {
                let notify = item
                    .get("$send_notification")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let v = events::participants(
                    data,
                    value,
                    i,
                    existing.and_then(|r| r.values.get("Participants")),
                    notify,
                )?;
                prepared.values.insert(key.clone(), v);
            }
            ("Remind_At", _) if events => {
                prepared
                    .values
                    .insert(key.clone(), events::remind_at(value, i)?);
            }
            ("Owner", _) => {
                let id = value.get("id").and_then(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .or_else(|| v.as_u64().map(|n| n.to_string()))
                });
                match id {
                    Some(id) if data.user(&id).is_some() => prepared.owner = Some(id),
                    _ => return Err(invalid_value(i, key, "jsonobject")),
                }
            }
            ("Tag", _) => {
                let refs = match value {
                    Value::Null => Vec::new(),
                    Value::Array(list) => {
                        let mut refs = Vec::new();
                        for t in list {
                            if let Some(id) = t.get("id").and_then(Value::as_str) {
                                if !module.tags.iter().any(|d| d.id == id) {
                                    return Err(invalid_value(i, key, "jsonarray"));
                                }
                                refs.push(TagRef::Existing(id.to_owned()));
                            } else if let Some(name) = t.get("name").and_then(Value::as_str) {
                                refs.push(TagRef::New(name.to_owned()));
                            } else {
                                return Err(invalid_value(i, key, "jsonarray"));
                            }
                        }
                        refs
                    }
                    _ => return Err(invalid_value(i, key, "jsonarray")),
                };
                prepared.tags = Some(refs);
            }
            (_, "lookup") => {
                let target = f.lookup_module.as_deref().unwrap_or_default();
                match value {
                    Value::Null => {
                        prepared.values.insert(key.clone(), Value::Null);
                    }
                    Value::Object(o) => {
                        let id = o.get("id").and_then(|v| {
                            v.as_str()
                                .map(str::to_owned)
                                .or_else(|| v.as_u64().map(|n| n.to_string()))
                        });
                        if let Some(id) = id {
                            let exists = data
                                .module(target)
                                .and_then(|m| m.record(id.parse().ok()?))
                                .is_some();
                            if !exists {
                                return Err(invalid_value(i, key, "jsonobject"));
                            }
                            prepared.values.insert(key.clone(), json!({ "id": id }));
                        } else {
                            return Err(invalid_value(i, key, "jsonobject"));
                        }
                    }
                    _ => return Err(invalid_value(i, key, "jsonobject")),
                }
            }
            _ => match normalize(f, value) {
                Ok(v) => {
                    prepared.values.insert(key.clone(), v);
                }
                Err(ValueError::Type(expected)) => return Err(invalid_value(i, key, expected)),
                Err(ValueError::TooLong(max)) => {
                    return Err(error_body(
                        "INVALID_DATA",
                        "invalid data",
                        json!({ "maximum_length": max, "api_name": key, "json_path": path(i, key) }),
                    ));
                }
            },
        }
    }
    // Mandatory fields must have a value after the write.
    for f in module.fields.iter().filter(|f| f.system_mandatory) {
        let value = prepared
            .values
            .get(&f.api_name)
            .or_else(|| existing.and_then(|r| r.values.get(&f.api_name)));
        let present = value.is_some_and(|v| unique_key(v).is_some());
        if !present {
            return Err(error_body(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                json!({ "api_name": f.api_name, "json_path": path(i, &f.api_name) }),
            ));
        }
    }
    if module.api_name == "Events" {
        events::check_times(&prepared.values, existing, i)?;
    }
    // Unique fields.
    for f in module.fields.iter().filter(|f| f.is_unique()) {
        let Some(key) = prepared.values.get(&f.api_name).and_then(unique_key) else {
            continue;
        };
        let clash = module
            .records
            .holding(&f.api_name, &key, existing.map(|e| e.id));
        if let Some(other) = clash {
            let owner = data.user(&other.owner).map_or_else(
                || json!({ "name": null, "id": other.owner }),
                |u| u.name_id(),
            );
            return Err(error_body(
                "DUPLICATE_DATA",
                "duplicate data",
                json!({
                    "api_name": f.api_name,
                    "json_path": path(i, &f.api_name),
                    "duplicate_record": {
                        "id": other.id.to_string(),
                        "module": { "api_name": module.api_name, "id": module.id },
                        "Owner": owner,
                    },
                }),
            ));
        }
    }
    Ok(prepared)
}

/// Create pending tags; returns the values and tag ids to store.
fn resolve_pending(
    data: &mut ZohoData,
    mi: usize,
    mut prepared: Prepared,
    user_id: &str,
    now: DateTime<Utc>,
) -> (Map<String, Value>, Option<String>, Option<Vec<String>>) {
    let tags = prepared.tags.map(|refs| {
        let mut ids = Vec::new();
        for r in refs {
            let id = match r {
                TagRef::Existing(id) => id,
                TagRef::New(name) => {
                    let found = data.modules[mi]
                        .tags
                        .iter()
                        .find(|t| t.name.eq_ignore_ascii_case(&name))
                        .map(|t| t.id.clone());
                    match found {
                        Some(id) => id,
                        None => {
                            let id = data.new_meta_id();
                            data.modules[mi].tags.push(TagDef {
                                id: id.clone(),
                                name,
                                created: Some(now),
                                created_by: Some(user_id.to_owned()),
                            });
                            id
                        }
                    }
                }
            };
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    });
    events::fill_ids(data, &mut prepared.values);
    (prepared.values, prepared.owner, tags)
}

pub(super) fn success(data: &ZohoData, r: &Record, tz: Tz, message: &str) -> Value {
    let by = |id: &str| {
        data.user(id)
            .map_or_else(|| json!({ "name": null, "id": id }), |u| u.name_id())
    };
    json!({
        "code": "SUCCESS",
        "details": {
            "Modified_Time": fmt_time(r.modified, tz),
            "Modified_By": by(&r.modified_by),
            "Created_Time": fmt_time(r.created, tz),
            "id": r.id.to_string(),
            "Created_By": by(&r.created_by),
            "$approval_state": "approved",
        },
        "message": message,
        "status": "success",
    })
}

/// Task completion stamps `Closed_Time`.
fn apply_side_effects(module: &str, r: &mut Record, now: DateTime<Utc>) {
    if module == "Tasks" {
        let completed = r.text("Status") == "Completed";
        if completed && r.values.get("Closed_Time").is_none_or(Value::is_null) {
            r.values.insert(
                "Closed_Time".into(),
                json!(now.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()),
            );
        } else if !completed {
            r.values.remove("Closed_Time");
        }
    }
}

/// Insert one validated item; the stored record.
pub(super) fn insert_one(
    ctx: &mut CrmCtx<'_>,
    mi: usize,
    item: &Map<String, Value>,
    i: usize,
) -> Result<Record, Value> {
    let prepared = prepare(ctx.data, mi, item, i, None)?;
    let (values, owner, tags) = resolve_pending(ctx.data, mi, prepared, &ctx.user_id, ctx.now);
    let id = ctx.data.new_id();
    let mut record = Record {
        id,
        created: ctx.now,
        modified: ctx.now,
        created_by: ctx.user_id.clone(),
        modified_by: ctx.user_id.clone(),
        owner: owner.unwrap_or_else(|| ctx.user_id.clone()),
        values: values.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        tags: tags.unwrap_or_default(),
    };
    let api_name = ctx.data.modules[mi].api_name;
    apply_side_effects(api_name, &mut record, ctx.now);
    ctx.data.modules[mi].records.push(record.clone());
    Ok(record)
}

/// Apply one validated item to the record at `pos`; the updated record.
pub(super) fn update_one(
    ctx: &mut CrmCtx<'_>,
    mi: usize,
    pos: usize,
    item: &Map<String, Value>,
    i: usize,
) -> Result<Record, Value> {
    let existing = ctx.data.modules[mi].records.slot(pos);
    let prepared = prepare(ctx.data, mi, item, i, existing)?;
    let (values, owner, tags) = resolve_pending(ctx.data, mi, prepared, &ctx.user_id, ctx.now);
    let api_name = ctx.data.modules[mi].api_name;
    let Some(mut record) = ctx.data.modules[mi].records.slot_mut(pos) else {
        return Err(invalid_id(&pos.to_string()));
    };
    for (k, v) in values {
        if v.is_null() {
            record.values.remove(&k);
        } else {
            record.values.insert(k, v);
        }
    }
    if let Some(owner) = owner {
        record.owner = owner;
    }
    if let Some(tags) = tags {
        record.tags = tags;
    }
    record.modified = ctx.now;
    record.modified_by.clone_from(&ctx.user_id);
    apply_side_effects(api_name, &mut record, ctx.now);
    Ok(record.clone())
}

fn insert(ctx: &mut CrmCtx<'_>, mi: usize) -> Response {
    let items = match write_items(ctx) {
        Ok(items) => items,
        Err(r) => return r,
    };
    let tz = ctx.tz();
    let mut results = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let result = insert_one(ctx, mi, item, i)
            .map(|record| success(ctx.data, &record, tz, "record added"));
        results.push(result);
    }
    batch_response(results, StatusCode::CREATED, StatusCode::BAD_REQUEST)
}

fn update(ctx: &mut CrmCtx<'_>, mi: usize, path_id: Option<&str>) -> Response {
    let items = match write_items(ctx) {
        Ok(items) => items,
        Err(r) => return r,
    };
    let tz = ctx.tz();
    let if_unmodified = if_unmodified_since(ctx);
    let mut results = Vec::with_capacity(items.len());
    let mut precondition_failures = 0;
    for (i, item) in items.iter().enumerate() {
        let given = match path_id {
            Some(id) => Some(id.to_owned()),
            None => item.get("id").and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            }),
        };
        let Some(given) = given else {
            results.push(Err(error_body(
                "MANDATORY_NOT_FOUND",
                "required field not found",
                json!({ "api_name": "id", "json_path": path(i, "id") }),
            )));
            continue;
        };
        let module = &ctx.data.modules[mi];
        let Some((pos, existing)) = resolve_id(ctx, module, &given).and_then(|id| {
            let pos = module.records.slot_of(id)?;
            Some((pos, module.records.slot(pos)?))
        }) else {
            results.push(Err(invalid_id(&given)));
            continue;
        };
        if let Some(refusal) = already_modified(existing, if_unmodified) {
            precondition_failures += 1;
            results.push(Err(refusal));
            continue;
        }
        let result = update_one(ctx, mi, pos, item, i)
            .map(|record| success(ctx.data, &record, tz, "record updated"));
        results.push(result);
    }
    let all_failed = all_failed_status(precondition_failures, results.len());
    batch_response(results, StatusCode::OK, all_failed)
}

/// The `If-Unmodified-Since` header of an update or upsert (§1.6), when it parses.
pub(super) fn if_unmodified_since(ctx: &CrmCtx<'_>) -> Option<DateTime<Utc>> {
    ctx.header("if-unmodified-since").and_then(parse_time)
}

/// The per-record `ALREADY_MODIFIED` error (§1.6) when `record` changed after `since`.
pub(super) fn already_modified(record: &Record, since: Option<DateTime<Utc>>) -> Option<Value> {
    since.filter(|t| record.modified > *t).map(|_| {
        error_body(
            "ALREADY_MODIFIED",
            "Record updated time has already passed if-unmodified-since time",
            json!({ "id": record.id.to_string() }),
        )
    })
}

/// The status of a batch where every record failed: 412 when each failed its
/// `If-Unmodified-Since` precondition (§1.6), else 400.
pub(super) fn all_failed_status(precondition_failures: usize, records: usize) -> StatusCode {
    if precondition_failures == records {
        StatusCode::PRECONDITION_FAILED
    } else {
        StatusCode::BAD_REQUEST
    }
}

fn delete(ctx: &mut CrmCtx<'_>, mi: usize, ids: &str) -> Response {
    let list: Vec<&str> = ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if list.is_empty() {
        return required_param("ids");
    }
    if list.len() > MAX_WRITE {
        return limit_exceeded();
    }
    let mut results = Vec::with_capacity(list.len());
    for given in list {
        let module = &ctx.data.modules[mi];
        let id = resolve_id(ctx, module, given);
        let pos = id.and_then(|id| module.records.slot_of(id));
        let Some(pos) = pos else {
            let was_deleted =
                id.is_some_and(|id| module.deleted.iter().any(|d| d.id == id.to_string()));
            let malformed = external_field(ctx, module).is_none() && !is_record_id(given);
            results.push(Err(if was_deleted {
                error_body("INVALID_DATA", "record not deleted", json!({ "id": given }))
            } else if malformed {
                unparsable_id(given)
            } else {
                invalid_id(given)
            }));
            continue;
        };
        let module = &mut ctx.data.modules[mi];
        let Some(record) = module.records.remove_slot(pos) else {
            results.push(Err(invalid_id(given)));
            continue;
        };
        let display = module.display_name(&record);
        module.deleted.push(DeletedRecord {
            id: record.id.to_string(),
            display_name: Some(display),
            kind: "recycle".into(),
            deleted_time: ctx.now,
            deleted_by: Some(ctx.user_id.clone()),
            created_by: Some(record.created_by.clone()),
        });
        results.push(Ok(json!({
            "code": "SUCCESS",
            "details": { "id": record.id.to_string() },
            "message": "record deleted",
            "status": "success",
        })));
    }
    batch_response(results, StatusCode::OK, StatusCode::BAD_REQUEST)
}
