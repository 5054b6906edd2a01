//! Custom views (custom_views.json): `GET /settings/custom_views?module=` (with `page`,
//! `per_page`), `GET /settings/custom_views/{id}?module=`, and the filter a `cvid` puts on a
//! record listing.
//!
//! Every module has the same system views (fixed ids, `system_defined: true`, access
//! `public`, category `public_views`):
//!
//! | name | system_name | criteria | sort |
//! | --- | --- | --- | --- |
//! | All {plural} (default) | `ALLVIEWS` | none | Created_Time desc |
//! | My {plural} | `MY` + upper-case API name: `MYCONTACTS`, `MYTASKS`, `MYACCOUNTS`, `MYEVENTS` | Owner equal `${CURRENTUSER}` | Created_Time desc |
//! | Recently Created {plural} | `RECENTLYCREATED` | Created_Time greater_equal `${LAST7DAYS}` | Created_Time desc |
//! | Recently Modified {plural} | `RECENTLYMODIFIED` | Modified_Time greater_equal `${LAST7DAYS}` | Modified_Time desc |
//! | My Open Tasks (Tasks only) | `MYOPENTASKS` | Owner equal `${CURRENTUSER}` and Status not_equal Completed | Created_Time desc |
//!
//! {plural} is the module's plural label: Events are "Meetings" ("My Meetings", `MYEVENTS`).
//! System views are rendered as created by the org's first user (custom_views.json requires
//! `created_by`), with `created_time` and `modified_time` null.
//!
//! Views users made are part of the data (`custom_views` in `/_sim/dump` and `/_sim/load`,
//! `POST /_sim/custom_views`). `access_type` `public` views are seen by everyone;
//! `only_to_me` by their creator (category `created_by_me`) and administrators
//! (`other_users_views`); `shared` by their creator and the users in `shared_to`
//! (`shared_with_me`). A view another user may not see is, to that user, unknown.
//!
//! Errors: no `module` → 400 `REQUIRED_PARAM_MISSING` (`param_name`); an unknown module → 400
//! `INVALID_MODULE` with `details.api_name` `module`; `page`/`per_page` not a positive number
//! (or `per_page` over 200) → 400 `INVALID_DATA` with `details` `api_name`/`json_path`/
//! `param_name` naming the parameter; a non-numeric view id → 400 `INVALID_DATA` "the id given
//! seems to be invalid" with `details.id`; a numeric id of no view the caller sees in that
//! module → 204; a page past the end → 204.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::criteria::{self, Comparator, Criteria, GroupOperator, Scope};
use super::model::{Module, Record, ZohoData, fmt_time, parse_time};
use super::records::{CrmCtx, SortBy};
use super::{zoho_error, zoho_json};
use crate::common::param;

const MAX_PER_PAGE: u64 = 200;

/// Who sees a view users made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Public,
    OnlyToMe,
    Shared,
}

impl Access {
    fn name(self) -> &'static str {
        match self {
            Access::Public => "public",
            Access::OnlyToMe => "only_to_me",
            Access::Shared => "shared",
        }
    }

    fn parse(name: &str) -> Option<Access> {
        match name {
            "public" => Some(Access::Public),
            "only_to_me" => Some(Access::OnlyToMe),
            "shared" => Some(Access::Shared),
            _ => None,
        }
    }
}

/// One custom view of a module, system-defined or made by a user.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CustomView {
    pub id: String,
    pub name: String,
    /// Set on system views only.
    pub system_name: Option<String>,
    pub criteria: Option<Criteria>,
    /// The creating user's id (system views: `None`, rendered as the org's first user).
    pub created_by: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    pub access: Access,
    /// User ids a `shared` view is shared with.
    pub shared_to: Vec<String>,
    /// Listing order: `Created_Time` or `Modified_Time`.
    pub sort_by: SortBy,
    pub descending: bool,
    /// The view's columns (API names).
    pub fields: Vec<String>,
    pub default: bool,
}

/// First id of the system views; each module gets a block of 20.
const SYSTEM_VIEW_BASE: u64 = 5_725_767_000_000_087_501;

fn module_block(api_name: &str) -> u64 {
    match api_name {
        "Contacts" => 0,
        "Tasks" => 20,
        "Accounts" => 40,
        _ => 60,
    }
}

/// The columns of a module's system views.
fn default_columns(api_name: &str) -> Vec<String> {
    let list: &[&str] = match api_name {
        "Contacts" => &["Full_Name", "Account_Name", "Email", "Phone", "Owner"],
        "Tasks" => &["Subject", "Due_Date", "Status", "Priority", "Owner"],
        "Accounts" => &["Account_Name", "Phone", "Website", "Owner"],
        _ => &["Event_Title", "Start_DateTime", "End_DateTime", "Owner"],
    };
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The system views of a module, in listing order.
pub(crate) fn system_views(module: &Module) -> Vec<CustomView> {
    let (_, plural) = super::modules_api::labels(module.api_name);
    let base = SYSTEM_VIEW_BASE + module_block(module.api_name);
    let mine = Criteria::leaf("Owner", Comparator::Equal, json!("${CURRENTUSER}"));
    let view = |n: u64, name: String, system_name: String, criteria, sort_by| CustomView {
        id: (base + n).to_string(),
        name,
        system_name: Some(system_name),
        criteria,
        created_by: None,
        created: None,
        modified: None,
        access: Access::Public,
        shared_to: Vec::new(),
        sort_by,
        descending: true,
        fields: default_columns(module.api_name),
        default: n == 0,
    };
    let recent = |field: &str| {
        Some(Criteria::leaf(
            field,
            Comparator::GreaterEqual,
            json!("${LAST7DAYS}"),
        ))
    };
    let mut views = vec![
        view(
            0,
            format!("All {plural}"),
            "ALLVIEWS".into(),
            None,
            SortBy::Created,
        ),
        view(
            1,
            format!("My {plural}"),
            format!("MY{}", module.api_name.to_uppercase()),
            Some(mine.clone()),
            SortBy::Created,
        ),
        view(
            2,
            format!("Recently Created {plural}"),
            "RECENTLYCREATED".into(),
            recent("Created_Time"),
            SortBy::Created,
        ),
        view(
            3,
            format!("Recently Modified {plural}"),
            "RECENTLYMODIFIED".into(),
            recent("Modified_Time"),
            SortBy::Modified,
        ),
    ];
    if module.api_name == "Tasks" {
        let open = Criteria::Group {
            operator: GroupOperator::And,
            group: vec![
                mine,
                Criteria::leaf("Status", Comparator::NotEqual, json!("Completed")),
            ],
        };
        views.push(view(
            4,
            "My Open Tasks".into(),
            "MYOPENTASKS".into(),
            Some(open),
            SortBy::Created,
        ));
    }
    views
}

/// `(view, category)` of every view of module `mi` that `user_id` sees, in listing order.
fn visible(data: &ZohoData, mi: usize, user_id: &str) -> Vec<(CustomView, &'static str)> {
    let module = &data.modules[mi];
    let admin = data.user(user_id).is_some_and(|u| u.admin);
    let mut out: Vec<(CustomView, &'static str)> = system_views(module)
        .into_iter()
        .map(|v| (v, "public_views"))
        .collect();
    for v in &module.views {
        let mine = v.created_by.as_deref() == Some(user_id);
        let category = match v.access {
            _ if mine => Some("created_by_me"),
            Access::Public => Some("public_views"),
            Access::Shared if v.shared_to.iter().any(|u| u == user_id) => Some("shared_with_me"),
            Access::OnlyToMe | Access::Shared if admin => Some("other_users_views"),
            Access::OnlyToMe | Access::Shared => None,
        };
        if let Some(category) = category {
            out.push((v.clone(), category));
        }
    }
    out
}

/// The view a `cvid` names, if `user_id` sees it in module `mi`.
pub(crate) fn find(data: &ZohoData, mi: usize, user_id: &str, id: &str) -> Option<CustomView> {
    visible(data, mi, user_id)
        .into_iter()
        .map(|(v, _)| v)
        .find(|v| v.id == id)
}

impl CustomView {
    /// Whether record `r` of `module` is in the view for `user_id`.
    pub(crate) fn shows(
        &self,
        data: &ZohoData,
        module: &Module,
        user_id: &str,
        now: DateTime<Utc>,
        r: &Record,
    ) -> bool {
        let scope = Scope {
            data,
            module,
            user_id,
            now,
        };
        self.criteria.as_ref().is_none_or(|c| c.matches(&scope, r))
    }

    fn field_ref(module: &Module, api_name: &str) -> Value {
        json!({ "id": module.field(api_name).map(|f| f.id.clone()), "api_name": api_name })
    }

    /// The custom_views.json shape, for a caller who sees it under `category`.
    fn to_json(&self, data: &ZohoData, module: &Module, category: &str, tz: Tz) -> Value {
        let creator = self
            .created_by
            .clone()
            .or_else(|| data.users.first().map(|u| u.id.clone()))
            .unwrap_or_default();
        let time = |t: Option<DateTime<Utc>>| t.map(|t| fmt_time(t, tz));
        let (_, plural) = super::modules_api::labels(module.api_name);
        let shared_to: Vec<Value> = self
            .shared_to
            .iter()
            .map(|id| {
                let name = data.user(id).map(super::model::User::full_name);
                json!({ "type": "users", "name": name.unwrap_or_default(), "id": id, "subordinates": null })
            })
            .collect();
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|f| {
                let mut r = Self::field_ref(module, f);
                r["_pin"] = json!(false);
                r
            })
            .collect();
        json!({
            "display_value": self.name,
            "system_name": self.system_name,
            "category": category,
            "created_time": time(self.created),
            "modified_time": time(self.modified),
            "last_accessed_time": null,
            "name": self.name,
            "created_by": data.user_json(&creator),
            "modified_by": data.user_json(&creator),
            "module": { "api_name": module.api_name, "name": plural, "id": module.id },
            "criteria": self.criteria.as_ref().map_or_else(criteria::none_json, |c| c.to_json(module)),
            "default": self.default,
            "system_defined": self.system_name.is_some(),
            "locked": false,
            "favorite": null,
            "offline": false,
            "access_type": self.access.name(),
            "shared_to": shared_to,
            "fields": fields,
            "sort_by": Self::field_ref(module, self.sort_by.name()),
            "sort_order": if self.descending { "desc" } else { "asc" },
            "id": self.id,
        })
    }

    /// The `/_sim/dump` shape (user ids, UTC times, criteria in the spec's shape).
    pub(crate) fn dump(&self, module: &Module) -> Value {
        let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339());
        json!({
            "id": self.id,
            "name": self.name,
            "access_type": self.access.name(),
            "shared_to": self.shared_to,
            "created_by": self.created_by,
            "created_time": time(self.created),
            "modified_time": time(self.modified),
            "criteria": self.criteria.as_ref().map(|c| c.to_json(module)),
            "sort_by": self.sort_by.name(),
            "sort_order": if self.descending { "desc" } else { "asc" },
            "fields": self.fields,
        })
    }

    /// A user's view from the dump shape (`POST /_sim/custom_views` takes the same keys).
    /// Without an `id` the view's id is empty (the caller gives it one); `created_by` (an id
    /// or e-mail) defaults to the org's first user, times to `now`, `access_type` to `public`,
    /// `sort_by` to `Created_Time` desc, `fields` to the module's usual columns.
    pub(crate) fn load(
        v: &Value,
        data: &ZohoData,
        mi: usize,
        now: DateTime<Utc>,
    ) -> Result<CustomView, String> {
        let module = &data.modules[mi];
        let obj = v.as_object().ok_or("a custom view must be an object")?;
        let text = |key: &str| obj.get(key).and_then(Value::as_str);
        let name = text("name")
            .filter(|n| !n.trim().is_empty())
            .ok_or("a custom view needs a name")?
            .to_owned();
        let id = match obj.get("id") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.clone()
            }
            Some(other) => return Err(format!("invalid custom view id {other}")),
        };
        let user = |given: &str| {
            data.users
                .iter()
                .find(|u| u.id == given || u.email.eq_ignore_ascii_case(given))
                .map(|u| u.id.clone())
                .ok_or_else(|| format!("no user {given:?}"))
        };
        let created_by = match text("created_by") {
            Some(given) => user(given)?,
            None => data.users.first().map(|u| u.id.clone()).unwrap_or_default(),
        };
        let access = match text("access_type") {
            None => Access::Public,
            Some(a) => Access::parse(a)
                .ok_or_else(|| format!("unknown access_type {a:?} (public, only_to_me, shared)"))?,
        };
        let shared_to = match obj.get("shared_to") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .map(|u| {
                    let given = u
                        .as_str()
                        .or_else(|| u.get("id").and_then(Value::as_str))
                        .ok_or("shared_to lists user ids")?;
                    user(given)
                })
                .collect::<Result<_, String>>()?,
            Some(_) => return Err("shared_to must be an array".into()),
        };
        let time = |key: &str| match obj.get(key) {
            None | Some(Value::Null) => Ok(now),
            Some(Value::String(s)) => parse_time(s).ok_or_else(|| format!("invalid {key} {s:?}")),
            Some(other) => Err(format!("invalid {key} {other}")),
        };
        let created = time("created_time")?;
        let modified = time("modified_time")?;
        let sort_by = match text("sort_by") {
            None => SortBy::Created,
            Some("Created_Time") => SortBy::Created,
            Some("Modified_Time") => SortBy::Modified,
            Some(other) => {
                return Err(format!(
                    "unknown sort_by {other:?} (Created_Time, Modified_Time)"
                ));
            }
        };
        let descending = match text("sort_order") {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(other) => return Err(format!("unknown sort_order {other:?} (asc, desc)")),
        };
        let fields = match obj.get("fields") {
            None | Some(Value::Null) => default_columns(module.api_name),
            Some(Value::Array(list)) => list
                .iter()
                .map(|f| {
                    let api_name = f
                        .as_str()
                        .or_else(|| f.get("api_name").and_then(Value::as_str))
                        .ok_or("fields lists API names")?;
                    if module.field(api_name).is_none() {
                        return Err(format!("{} has no field {api_name:?}", module.api_name));
                    }
                    Ok(api_name.to_owned())
                })
                .collect::<Result<_, String>>()?,
            Some(_) => return Err("fields must be an array".into()),
        };
        let criteria = criteria::parse(obj.get("criteria").unwrap_or(&Value::Null), module)?;
        Ok(CustomView {
            id,
            name,
            system_name: None,
            criteria,
            created_by: Some(created_by),
            created: Some(created),
            modified: Some(modified),
            access,
            shared_to,
            sort_by,
            descending,
            fields,
            default: false,
        })
    }
}

/// The module's default view as `/settings/modules` gives it (`custom_view`).
pub(crate) fn default_view_json(data: &ZohoData, module: &Module, tz: Tz) -> Value {
    system_views(module)
        .iter()
        .find(|v| v.default)
        .map_or(Value::Null, |v| v.to_json(data, module, "public_views", tz))
}

/// `details` of a bad listing parameter: custom_views.json's INVALID_DATA error needs
/// `api_name` and `json_path`; `param_name` is what the other Zoho APIs use.
fn bad_param(name: &str) -> Response {
    zoho_error(
        StatusCode::BAD_REQUEST,
        "INVALID_DATA",
        "invalid data",
        json!({ "api_name": name, "json_path": name, "param_name": name }),
    )
}

fn module_param(ctx: &CrmCtx<'_>) -> Result<usize, Response> {
    let Some(name) = param(&ctx.query, "module") else {
        return Err(zoho_error(
            StatusCode::BAD_REQUEST,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({ "param_name": "module" }),
        ));
    };
    ctx.data.module_index(name).ok_or_else(|| {
        zoho_error(
            StatusCode::BAD_REQUEST,
            "INVALID_MODULE",
            "The module name given seems to be invalid",
            json!({ "api_name": "module" }),
        )
    })
}

fn positive(ctx: &CrmCtx<'_>, name: &str, default: u64, max: u64) -> Result<u64, Response> {
    match param(&ctx.query, name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| bad_param(name)),
    }
}

/// `GET /settings/custom_views?module=` and `GET /settings/custom_views/{id}?module=`.
pub(crate) fn get(ctx: &CrmCtx<'_>, id: Option<&str>) -> Response {
    let mi = match module_param(ctx) {
        Ok(mi) => mi,
        Err(r) => return r,
    };
    if let Some(id) = id
        && (id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()))
    {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "INVALID_DATA",
            "the id given seems to be invalid",
            json!({ "id": id }),
        );
    }
    let (per_page, page) = match (
        positive(ctx, "per_page", MAX_PER_PAGE, MAX_PER_PAGE),
        positive(ctx, "page", 1, u64::MAX),
    ) {
        (Ok(per_page), Ok(page)) => (per_page, page),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let tz = ctx.tz();
    let module = &ctx.data.modules[mi];
    let all = visible(ctx.data, mi, &ctx.user_id);
    let default_id = all
        .iter()
        .find(|(v, _)| v.default)
        .map(|(v, _)| v.id.clone());
    let selected: Vec<&(CustomView, &str)> = all
        .iter()
        .filter(|(v, _)| id.is_none_or(|id| v.id == id))
        .collect();
    let per = usize::try_from(per_page).unwrap_or(usize::MAX);
    let start = usize::try_from(page - 1)
        .ok()
        .and_then(|p| p.checked_mul(per))
        .unwrap_or(usize::MAX);
    let slice: Vec<Value> = selected
        .iter()
        .skip(start)
        .take(per)
        .map(|(v, category)| v.to_json(ctx.data, module, category, tz))
        .collect();
    if slice.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let more = start + slice.len() < selected.len();
    zoho_json(
        StatusCode::OK,
        &json!({
            "custom_views": slice,
            "info": {
                "per_page": per_page,
                "count": slice.len(),
                "page": page,
                "more_records": more,
                "default": default_id,
                "translation": {
                    "public_views": "Public Views",
                    "other_users_views": "Other Users' Views",
                    "shared_with_me": "Shared With Me",
                    "created_by_me": "Created By Me",
                },
            },
        }),
    )
}
