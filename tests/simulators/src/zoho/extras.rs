//! Upsert (zoho-crm-api.md §1.7), search (§2.2), COQL (§2.3) and the record tag actions
//! (`tags.json`: `POST /{module}[/{id}]/actions/add_tags|remove_tags`).

use std::collections::BTreeSet;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::model::{FieldDef, Module, Record, TagDef, ZohoData, full_name, parse_time, unique_key};
use super::records::{
    CrmCtx, SortBy, all_failed_status, already_modified, batch_response, body_error,
    if_unmodified_since, insert_one, invalid_param, render_record, success, update_one,
    write_items,
};
use super::{error_body, zoho_error, zoho_json};
use crate::common::param;

// ---------------------------------------------------------------------------------------
// Upsert

/// The system duplicate-check field of a module (§1.7).
fn system_duplicate_field(module: &str) -> Option<&'static str> {
    match module {
        "Contacts" => Some("Email"),
        "Accounts" => Some("Account_Name"),
        _ => None,
    }
}

pub(crate) fn upsert(ctx: &mut CrmCtx<'_>, mi: usize) -> Response {
    let module_name = ctx.data.modules[mi].api_name;
    if matches!(module_name, "Tasks" | "Events") {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "INVALID_MODULE",
            "the given module is not supported for this api",
            json!({ "api_name": module_name }),
        );
    }
    let items = match write_items(ctx) {
        Ok(items) => items,
        Err(r) => return r,
    };
    let body: Value = serde_json::from_slice(ctx.body).unwrap_or(Value::Null);
    let module = &ctx.data.modules[mi];
    let allowed: Vec<String> = system_duplicate_field(module_name)
        .map(str::to_owned)
        .into_iter()
        .chain(
            module
                .fields
                .iter()
                .filter(|f| f.is_unique())
                .map(|f| f.api_name.clone()),
        )
        .collect();
    let order: Vec<String> = match body.get("duplicate_check_fields") {
        None | Some(Value::Null) => allowed.clone(),
        Some(Value::Array(list)) => {
            let mut order = Vec::new();
            for (k, f) in list.iter().enumerate() {
                match f.as_str() {
                    Some(name) if allowed.iter().any(|a| a == name) => order.push(name.to_owned()),
                    _ => {
                        return zoho_error(
                            StatusCode::BAD_REQUEST,
                            "INVALID_DATA",
                            "invalid data",
                            json!({ "api_name": "duplicate_check_fields",
                                    "json_path": format!("$.duplicate_check_fields[{k}]") }),
                        );
                    }
                }
            }
            order
        }
        Some(_) => return body_error(),
    };
    let tz = ctx.tz();
    let if_unmodified = if_unmodified_since(ctx);
    let mut results = Vec::with_capacity(items.len());
    let mut precondition_failures = 0;
    for (i, item) in items.iter().enumerate() {
        let mut matched = None;
        for field in &order {
            let Some(key) = item.get(field).and_then(unique_key) else {
                continue;
            };
            let module = &ctx.data.modules[mi];
            if let Some(pos) = module
                .records
                .holding(field, &key, None)
                .and_then(|r| module.records.slot_of(r.id))
            {
                matched = Some((pos, field.clone()));
                break;
            }
        }
        // "(also on upsert)" (§1.6): a matched record changed since the header's time is
        // not updated.
        if let Some((pos, _)) = &matched
            && let Some(refusal) = ctx.data.modules[mi]
                .records
                .slot(*pos)
                .and_then(|r| already_modified(r, if_unmodified))
        {
            precondition_failures += 1;
            results.push(Err(refusal));
            continue;
        }
        let result = match matched {
            Some((pos, field)) => update_one(ctx, mi, pos, item, i).map(|r| {
                upsert_success(
                    success(ctx.data, &r, tz, "record updated"),
                    Some(&field),
                    "update",
                )
            }),
            None => insert_one(ctx, mi, item, i)
                .map(|r| upsert_success(success(ctx.data, &r, tz, "record added"), None, "insert")),
        };
        results.push(result);
    }
    let all_failed = all_failed_status(precondition_failures, results.len());
    batch_response(results, StatusCode::OK, all_failed)
}

/// A write success with `duplicate_field` and `action`, in the documented key order.
fn upsert_success(v: Value, field: Option<&str>, action: &str) -> Value {
    let mut out = Map::new();
    out.insert("code".into(), v["code"].clone());
    // Left out on inserts: the v8 OAS types it as a non-nullable string.
    if let Some(f) = field {
        out.insert("duplicate_field".into(), json!(f));
    }
    out.insert("action".into(), json!(action));
    for k in ["details", "message", "status"] {
        out.insert(k.into(), v[k].clone());
    }
    Value::Object(out)
}

// ---------------------------------------------------------------------------------------
// Values for criteria

/// A record's value of a field, as text/number/time for comparisons.
fn field_value(r: &Record, f: &FieldDef) -> Option<Value> {
    match f.api_name.as_str() {
        "id" => return Some(json!(r.id.to_string())),
        "Owner" => return Some(json!(r.owner)),
        "Created_By" => return Some(json!(r.created_by)),
        "Modified_By" => return Some(json!(r.modified_by)),
        "Created_Time" => return Some(json!(r.created.to_rfc3339())),
        "Modified_Time" => return Some(json!(r.modified.to_rfc3339())),
        "Full_Name" => return Some(json!(full_name(r))),
        _ => {}
    }
    match r.values.get(&f.api_name)? {
        Value::Null => None,
        Value::Object(o) if f.data_type == "lookup" => o.get("id").cloned(),
        v => Some(v.clone()),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Exact,
    Number,
    Date,
    DateTime,
    Bool,
    Id,
    Unsupported,
}

fn kind(f: &FieldDef) -> Kind {
    match f.data_type.as_str() {
        "text" | "textarea" | "picklist" | "website" => Kind::Text,
        "email" | "phone" => Kind::Exact,
        "integer" | "double" | "currency" | "percent" | "bigint" => Kind::Number,
        "date" => Kind::Date,
        "datetime" => Kind::DateTime,
        "boolean" => Kind::Bool,
        "lookup" | "ownerlookup" => Kind::Id,
        _ => Kind::Unsupported,
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    parse_time(s)
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// Compare a record value with a criterion value: `Some(ordering)` when comparable.
fn compare(k: Kind, have: &Value, want: &str) -> Option<std::cmp::Ordering> {
    match k {
        Kind::Number => {
            // Record ids are 19 digits: compare integers exactly, not as floats.
            let whole = have
                .as_i64()
                .map(i128::from)
                .or_else(|| as_text(have).trim().parse::<i128>().ok());
            if let (Some(a), Ok(b)) = (whole, want.trim().parse::<i128>()) {
                return Some(a.cmp(&b));
            }
            let a = have.as_f64().or_else(|| as_text(have).parse().ok())?;
            let b: f64 = want.trim().parse().ok()?;
            a.partial_cmp(&b)
        }
        Kind::Date => Some(parse_date(&as_text(have))?.cmp(&parse_date(want)?)),
        Kind::DateTime => Some(parse_datetime(&as_text(have))?.cmp(&parse_datetime(want)?)),
        Kind::Bool => Some(if as_text(have).eq_ignore_ascii_case(want.trim()) {
            std::cmp::Ordering::Equal
        } else {
            std::cmp::Ordering::Less
        }),
        Kind::Text | Kind::Exact | Kind::Id => {
            Some(as_text(have).to_lowercase().cmp(&want.to_lowercase()))
        }
        Kind::Unsupported => None,
    }
}

fn valid_value(k: Kind, v: &str) -> bool {
    match k {
        Kind::Number => v.trim().parse::<f64>().is_ok(),
        Kind::Date => parse_date(v).is_some(),
        Kind::DateTime => parse_datetime(v).is_some(),
        Kind::Bool => matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "false"),
        _ => true,
    }
}

// ---------------------------------------------------------------------------------------
// Search

enum Crit {
    Cond {
        field: String,
        op: String,
        /// Values split on unescaped commas, unescaped.
        values: Vec<String>,
    },
    All(Vec<Crit>),
    Any(Vec<Crit>),
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Split on an unescaped separator.
fn split_unescaped(s: &str, sep: char, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            cur.push('\\');
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep && parts.len() + 1 < max {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    if escaped {
        cur.push('\\');
    }
    parts.push(cur);
    parts
}

fn parse_criteria(s: &[char], i: &mut usize, count: &mut usize) -> Option<Crit> {
    if s.get(*i) != Some(&'(') {
        return None;
    }
    *i += 1;
    if s.get(*i) == Some(&'(') {
        let mut items = vec![parse_criteria(s, i, count)?];
        let mut op: Option<String> = None;
        loop {
            match s.get(*i) {
                Some(')') => {
                    *i += 1;
                    break;
                }
                Some(_) => {
                    let start = *i;
                    while s.get(*i).is_some_and(char::is_ascii_alphabetic) {
                        *i += 1;
                    }
                    let word: String = s[start..*i].iter().collect::<String>().to_ascii_lowercase();
                    if !matches!(word.as_str(), "and" | "or")
                        || op.as_ref().is_some_and(|o| *o != word)
                    {
                        return None;
                    }
                    op = Some(word);
                    items.push(parse_criteria(s, i, count)?);
                }
                None => return None,
            }
        }
        return Some(if op.as_deref() == Some("or") {
            Crit::Any(items)
        } else {
            Crit::All(items)
        });
    }
    let mut raw = String::new();
    let mut escaped = false;
    loop {
        let c = *s.get(*i)?;
        *i += 1;
        if escaped {
            raw.push('\\');
            raw.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ')' {
            break;
        } else {
            raw.push(c);
        }
    }
    let parts = split_unescaped(&raw, ':', 3);
    let [field, op, value] = <[String; 3]>::try_from(parts).ok()?;
    *count += 1;
    Some(Crit::Cond {
        field: unescape(field.trim()),
        op: op.trim().to_ascii_lowercase(),
        values: split_unescaped(&value, ',', usize::MAX)
            .iter()
            .map(|v| unescape(v))
            .collect(),
    })
}

fn invalid_query(reason: &str, extra: Value) -> Response {
    let mut details = json!({ "reason": reason });
    if let (Value::Object(d), Value::Object(e)) = (&mut details, extra) {
        d.extend(e);
    }
    zoho_error(
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
        "Invalid query formed",
        details,
    )
}

/// Check fields and operators of a criteria tree.
fn check_criteria(c: &Crit, module: &Module) -> Result<(), Response> {
    match c {
        Crit::All(list) | Crit::Any(list) => {
            list.iter().try_for_each(|c| check_criteria(c, module))
        }
        Crit::Cond { field, op, values } => {
            let Some(f) = module.field(field) else {
                return Err(invalid_query(
                    "the field is not available for search",
                    json!({ "api_name": field }),
                ));
            };
            let k = kind(f);
            let ok = match k {
                Kind::Text | Kind::Exact => {
                    matches!(op.as_str(), "equals" | "not_equal" | "starts_with" | "in")
                }
                Kind::Number | Kind::Date | Kind::DateTime => matches!(
                    op.as_str(),
                    "equals"
                        | "not_equal"
                        | "greater_than"
                        | "greater_equal"
                        | "less_than"
                        | "less_equal"
                        | "between"
                        | "in"
                ),
                Kind::Bool => matches!(op.as_str(), "equals" | "not_equal"),
                Kind::Id => matches!(op.as_str(), "equals" | "not_equal" | "in"),
                Kind::Unsupported => false,
            };
            if !ok {
                return Err(invalid_query(
                    "invalid operator found",
                    json!({ "api_name": field, "operator": op }),
                ));
            }
            if (op == "between" && values.len() != 2) || values.iter().any(|v| !valid_value(k, v)) {
                return Err(invalid_query(
                    "invalid value found",
                    json!({ "api_name": field, "operator": op }),
                ));
            }
            Ok(())
        }
    }
}

fn matches_criteria(c: &Crit, module: &Module, r: &Record) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match c {
        Crit::All(list) => list.iter().all(|c| matches_criteria(c, module, r)),
        Crit::Any(list) => list.iter().any(|c| matches_criteria(c, module, r)),
        Crit::Cond { field, op, values } => {
            let Some(f) = module.field(field) else {
                return false;
            };
            let k = kind(f);
            let have = field_value(r, f);
            let first = values.first().map_or("", String::as_str);
            let Some(have) = have else {
                return op == "not_equal";
            };
            let cmp = |w: &str| compare(k, &have, w);
            match op.as_str() {
                // "equals behaves like contains" for text (zoho-crm-api.md §2.2).
                "equals" if k == Kind::Text => as_text(&have)
                    .to_lowercase()
                    .contains(&first.to_lowercase()),
                "equals" => cmp(first) == Some(Equal),
                "not_equal" if k == Kind::Text => !as_text(&have)
                    .to_lowercase()
                    .contains(&first.to_lowercase()),
                "not_equal" => cmp(first) != Some(Equal),
                "starts_with" => as_text(&have)
                    .to_lowercase()
                    .starts_with(&first.to_lowercase()),
                "in" => values.iter().any(|v| cmp(v) == Some(Equal)),
                "greater_than" => cmp(first) == Some(Greater),
                "greater_equal" => matches!(cmp(first), Some(Greater | Equal)),
                "less_than" => cmp(first) == Some(Less),
                "less_equal" => matches!(cmp(first), Some(Less | Equal)),
                "between" => {
                    matches!(cmp(first), Some(Greater | Equal))
                        && matches!(
                            cmp(values.get(1).map_or("", String::as_str)),
                            Some(Less | Equal)
                        )
                }
                _ => false,
            }
        }
    }
}

const SEARCH_LIMIT: u64 = 2000;

pub(crate) fn search(ctx: &mut CrmCtx<'_>, mi: usize) -> Response {
    let module = &ctx.data.modules[mi];
    let criteria = param(&ctx.query, "criteria").map(str::to_owned);
    let email = param(&ctx.query, "email").map(str::to_owned);
    let phone = param(&ctx.query, "phone").map(str::to_owned);
    let word = param(&ctx.query, "word").map(str::to_owned);
    let matcher: Box<dyn Fn(&Record) -> bool> = if let Some(c) = criteria {
        let chars: Vec<char> = c.trim().chars().collect();
        let mut i = 0;
        let mut count = 0;
        let Some(tree) = parse_criteria(&chars, &mut i, &mut count).filter(|_| i == chars.len())
        else {
            return invalid_query("the criteria is not in the expected format", json!({}));
        };
        if count > 10 {
            return invalid_query("more than 10 criteria", json!({}));
        }
        if let Err(r) = check_criteria(&tree, module) {
            return r;
        }
        Box::new(move |r| matches_criteria(&tree, module, r))
    } else if let Some(e) = email {
        let e = e.to_lowercase();
        let fields: Vec<&FieldDef> = module
            .fields
            .iter()
            .filter(|f| f.data_type == "email")
            .collect();
        Box::new(move |r| {
            fields.iter().any(|f| {
                r.values
                    .get(&f.api_name)
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.to_lowercase() == e)
            })
        })
    } else if let Some(p) = phone {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        let want = digits(&p);
        let fields: Vec<&FieldDef> = module
            .fields
            .iter()
            .filter(|f| f.data_type == "phone")
            .collect();
        Box::new(move |r| {
            !want.is_empty()
                && fields.iter().any(|f| {
                    r.values
                        .get(&f.api_name)
                        .and_then(Value::as_str)
                        .is_some_and(|v| digits(v) == want)
                })
        })
    } else if let Some(w) = word {
        if w.trim().chars().count() < 2 {
            return zoho_error(
                StatusCode::BAD_REQUEST,
                "INVALID_DATA",
                "the word given should have at least 2 characters",
                json!({ "param_name": "word" }),
            );
        }
        let w = w.trim().to_lowercase();
        let fields: Vec<&FieldDef> = module
            .fields
            .iter()
            .filter(|f| {
                matches!(
                    f.data_type.as_str(),
                    "text" | "email" | "phone" | "picklist" | "website"
                )
            })
            .collect();
        Box::new(move |r| {
            fields.iter().any(|f| {
                r.values
                    .get(&f.api_name)
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.to_lowercase().contains(&w))
            })
        })
    } else {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "EXPECTED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({ "expected_params": ["criteria", "email", "phone", "word"] }),
        );
    };
    let per_page = match param(&ctx.query, "per_page").map(|v| v.trim().parse::<u64>()) {
        None => 200,
        Some(Ok(n)) if (1..=200).contains(&n) => n,
        _ => return invalid_param("per_page"),
    };
    let page = match param(&ctx.query, "page").map(|v| v.trim().parse::<u64>()) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        _ => return invalid_param("page"),
    };
    if (page - 1).saturating_mul(per_page) >= SEARCH_LIMIT {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "LIMIT_REACHED",
            "Maximum response iteration limit reached",
            json!({ "limit": SEARCH_LIMIT }),
        );
    }
    let fields = param(&ctx.query, "fields").map(|list| {
        list.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect::<BTreeSet<String>>()
    });
    // Records changed within the index lag are not searchable yet (§2.2).
    let indexed_before = ctx.now - chrono::Duration::seconds(ctx.data.search_index_delay_secs);
    let mut hits: Vec<&Record> = module
        .records
        .iter()
        .filter(|r| r.modified <= indexed_before && matcher(r))
        .collect();
    hits.sort_by_key(|r| std::cmp::Reverse(r.id));
    hits.truncate(usize::try_from(SEARCH_LIMIT).unwrap_or(2000));
    let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let take = usize::try_from(per_page).unwrap_or(200);
    let more = hits.len() > skip.saturating_add(take);
    let tz = ctx.tz();
    let data: Vec<Value> = hits
        .iter()
        .skip(skip)
        .take(take)
        .map(|r| render_record(ctx.data, module, r, fields.as_ref(), tz, fields.is_none()))
        .collect();
    if data.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    zoho_json(
        StatusCode::OK,
        &json!({ "data": data, "info": {
            "per_page": per_page, "count": data.len(), "sort_by": "id", "page": page,
            "sort_order": "desc", "more_records": more,
        }}),
    )
}

// ---------------------------------------------------------------------------------------
// COQL

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(String),
    Sym(String),
}

fn tokenize(q: &str) -> Result<Vec<(Tok, usize)>, usize> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(start + 1),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        s.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            out.push((Tok::Str(s), start + 1));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            i += 1;
            while chars
                .get(i)
                .is_some_and(|d| d.is_ascii_digit() || *d == '.')
            {
                i += 1;
            }
            out.push((Tok::Num(chars[start..i].iter().collect()), start + 1));
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            while chars
                .get(i)
                .is_some_and(|d| d.is_alphanumeric() || *d == '_' || *d == '.' || *d == '$')
            {
                i += 1;
            }
            out.push((Tok::Word(chars[start..i].iter().collect()), start + 1));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym = if matches!(two.as_str(), "!=" | ">=" | "<=" | "<>") {
                two
            } else if "=<>(),*".contains(c) {
                c.to_string()
            } else {
                return Err(start + 1);
            };
            i += sym.len();
            out.push((Tok::Sym(sym), start + 1));
        }
    }
    Ok(out)
}

enum Cond {
    Cmp {
        col: String,
        op: String,
        values: Vec<Value>,
    },
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    conditions: usize,
}

fn syntax_error(near: &str, column: usize) -> Response {
    zoho_error(
        StatusCode::BAD_REQUEST,
        "SYNTAX_ERROR",
        "error occured while parsing the query",
        json!({ "line": 1, "column": column, "near": near }),
    )
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn error(&self) -> Response {
        match self.toks.get(self.pos) {
            Some((t, col)) => {
                let near = match t {
                    Tok::Word(s) | Tok::Num(s) | Tok::Sym(s) => s.clone(),
                    Tok::Str(s) => format!("'{s}'"),
                };
                syntax_error(&near, *col)
            }
            None => syntax_error("<EOF>", self.toks.last().map_or(1, |(_, c)| c + 1)),
        }
    }

    fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if x == s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Result<String, Response> {
        match self.peek() {
            Some(Tok::Word(w))
                if ![
                    "from", "where", "and", "or", "order", "by", "limit", "offset",
                ]
                .iter()
                .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                let w = w.clone();
                self.pos += 1;
                Ok(w)
            }
            _ => Err(self.error()),
        }
    }

    fn value(&mut self) -> Result<Value, Response> {
        let v = match self.peek() {
            Some(Tok::Str(s)) => json!(s),
            Some(Tok::Num(n)) => json!(n),
            Some(Tok::Word(w))
                if w.eq_ignore_ascii_case("true") || w.eq_ignore_ascii_case("false") =>
            {
                json!(w.to_ascii_lowercase())
            }
            _ => return Err(self.error()),
        };
        self.pos += 1;
        Ok(v)
    }

    fn or_expr(&mut self) -> Result<Cond, Response> {
        let mut left = self.and_expr()?;
        while self.keyword("or") {
            let right = self.and_expr()?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Cond, Response> {
        let mut left = self.primary()?;
        while self.keyword("and") {
            let right = self.primary()?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Cond, Response> {
        if self.sym("(") {
            let c = self.or_expr()?;
            if !self.sym(")") {
                return Err(self.error());
            }
            return Ok(c);
        }
        let col = self.ident()?;
        self.conditions += 1;
        let op = if let Some(Tok::Sym(s)) = self.peek() {
            let s = match s.as_str() {
                "<>" => "!=".to_owned(),
                "=" | "!=" | ">" | "<" | ">=" | "<=" => s.clone(),
                _ => return Err(self.error()),
            };
            self.pos += 1;
            s
        } else if self.keyword("is") {
            let not = self.keyword("not");
            if !self.keyword("null") {
                return Err(self.error());
            }
            return Ok(Cond::Cmp {
                col,
                op: if not { "is not null" } else { "is null" }.into(),
                values: Vec::new(),
            });
        } else if self.keyword("not") {
            if self.keyword("like") {
                "not like".into()
            } else if self.keyword("in") {
                "not in".into()
            } else {
                return Err(self.error());
            }
        } else if self.keyword("like") {
            "like".into()
        } else if self.keyword("in") {
            "in".into()
        } else if self.keyword("between") {
            let a = self.value()?;
            if !self.keyword("and") {
                return Err(self.error());
            }
            let b = self.value()?;
            return Ok(Cond::Cmp {
                col,
                op: "between".into(),
                values: vec![a, b],
            });
        } else {
            return Err(self.error());
        };
        let values = if op.ends_with("in") {
            if !self.sym("(") {
                return Err(self.error());
            }
            let mut list = vec![self.value()?];
            while self.sym(",") {
                list.push(self.value()?);
            }
            if !self.sym(")") {
                return Err(self.error());
            }
            list
        } else {
            vec![self.value()?]
        };
        Ok(Cond::Cmp { col, op, values })
    }
}

struct Query {
    columns: Vec<String>,
    module: String,
    filter: Option<Cond>,
    order: Vec<(String, bool)>,
    offset: usize,
    limit: usize,
}

fn parse_query(q: &str) -> Result<(Query, usize), Response> {
    let toks = tokenize(q)
        .map_err(|col| syntax_error(&q.chars().skip(col - 1).take(10).collect::<String>(), col))?;
    let mut p = Parser {
        toks,
        pos: 0,
        conditions: 0,
    };
    if !p.keyword("select") {
        return Err(p.error());
    }
    let mut columns = vec![p.ident()?];
    while p.sym(",") {
        columns.push(p.ident()?);
    }
    if !p.keyword("from") {
        return Err(p.error());
    }
    let module = p.ident()?;
    let filter = if p.keyword("where") {
        Some(p.or_expr()?)
    } else {
        None
    };
    let mut order = Vec::new();
    if p.keyword("order") {
        if !p.keyword("by") {
            return Err(p.error());
        }
        loop {
            let col = p.ident()?;
            let desc = if p.keyword("desc") {
                true
            } else {
                p.keyword("asc");
                false
            };
            order.push((col, desc));
            if !p.sym(",") {
                break;
            }
        }
    }
    let (mut offset, mut limit) = (0, 200);
    if p.keyword("limit") {
        let num = |p: &mut Parser| -> Result<usize, Response> {
            match p.peek() {
                Some(Tok::Num(n)) => {
                    let n = n.parse().map_err(|_| p.error())?;
                    p.pos += 1;
                    Ok(n)
                }
                _ => Err(p.error()),
            }
        };
        let first = num(&mut p)?;
        if p.sym(",") {
            offset = first;
            limit = num(&mut p)?;
        } else {
            limit = first;
            if p.keyword("offset") {
                offset = num(&mut p)?;
            }
        }
    }
    if p.pos != p.toks.len() {
        return Err(p.error());
    }
    Ok((
        Query {
            columns,
            module,
            filter,
            order,
            offset,
            limit,
        },
        p.conditions,
    ))
}

fn column_error(message: &str, column: &str) -> Response {
    zoho_error(
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
        message,
        json!({ "column_name": column }),
    )
}

/// The record id as a COQL column: selectable, comparable (`id > …`) and sortable like a
/// `bigint` field, though the fields API does not list it.
static ID_FIELD: std::sync::LazyLock<FieldDef> = std::sync::LazyLock::new(|| FieldDef {
    api_name: "id".into(),
    field_label: "Record Id".into(),
    data_type: "bigint".into(),
    length: 19,
    system_mandatory: false,
    read_only: true,
    custom_field: false,
    unique: true,
    external: None,
    id: "0".into(),
    lookup_module: None,
    pick_list: Vec::new(),
});

/// A column a COQL query names: one of the module's fields, or the record id.
fn coql_field<'a>(module: &'a Module, col: &str) -> Option<&'a FieldDef> {
    if col == "id" {
        return Some(&ID_FIELD);
    }
    module.field(col)
}

/// Types COQL cannot filter or select on (§2.3).
fn coql_unsupported(f: &FieldDef) -> bool {
    matches!(
        f.data_type.as_str(),
        "multiselectlookup" | "event_reminder" | "RRULE"
    )
}

fn check_cond(c: &Cond, module: &Module) -> Result<(), Response> {
    match c {
        Cond::And(a, b) | Cond::Or(a, b) => {
            check_cond(a, module)?;
            check_cond(b, module)
        }
        Cond::Cmp { col, op, values } => {
            let f = coql_field(module, col)
                .filter(|_| col != "Tag")
                .ok_or_else(|| column_error("column given seems to be invalid", col))?;
            if coql_unsupported(f) || f.data_type == "textarea" {
                return Err(column_error("data type not supported", col));
            }
            let k = kind(f);
            let ok = (matches!(k, Kind::Text | Kind::Exact) || !op.contains("like"))
                && values.iter().all(|v| valid_value(k, &as_text(v)));
            if !ok {
                return Err(column_error(
                    "value given seems to be invalid for the column",
                    col,
                ));
            }
            Ok(())
        }
    }
}

fn like(have: &str, pattern: &str) -> bool {
    let have = have.to_lowercase();
    let pattern = pattern.to_lowercase();
    let parts: Vec<&str> = pattern.split('%').collect();
    if parts.len() == 1 {
        return have == pattern;
    }
    let mut rest = have.as_str();
    for (k, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if k == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if k == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

fn eval(c: &Cond, module: &Module, r: &Record) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match c {
        Cond::And(a, b) => eval(a, module, r) && eval(b, module, r),
        Cond::Or(a, b) => eval(a, module, r) || eval(b, module, r),
        Cond::Cmp { col, op, values } => {
            let Some(f) = coql_field(module, col) else {
                return false;
            };
            let k = kind(f);
            let have = field_value(r, f).filter(|v| unique_key(v).is_some());
            let first = values.first().map(as_text).unwrap_or_default();
            match (op.as_str(), have) {
                ("is null", h) => h.is_none(),
                ("is not null", h) => h.is_some(),
                (_, None) => false,
                (op, Some(h)) => {
                    let cmp = |w: &str| compare(k, &h, w);
                    match op {
                        "=" => cmp(&first) == Some(Equal),
                        "!=" => cmp(&first) != Some(Equal),
                        ">" => cmp(&first) == Some(Greater),
                        ">=" => matches!(cmp(&first), Some(Greater | Equal)),
                        "<" => cmp(&first) == Some(Less),
                        "<=" => matches!(cmp(&first), Some(Less | Equal)),
                        "like" => like(&as_text(&h), &first),
                        "not like" => !like(&as_text(&h), &first),
                        "in" => values.iter().any(|v| cmp(&as_text(v)) == Some(Equal)),
                        "not in" => !values.iter().any(|v| cmp(&as_text(v)) == Some(Equal)),
                        "between" => {
                            matches!(cmp(&first), Some(Greater | Equal))
                                && matches!(
                                    cmp(&values.get(1).map(as_text).unwrap_or_default()),
                                    Some(Less | Equal)
                                )
                        }
                        _ => false,
                    }
                }
            }
        }
    }
}

/// A selected column: name, field, and the target module and field of a `Lookup.Field` hop.
type Column<'a> = (String, &'a FieldDef, Option<(&'a Module, &'a FieldDef)>);

/// Most records per COQL call (v4+) and the most reachable with LIMIT/OFFSET (v7+).
const COQL_MAX_LIMIT: usize = 2000;
const COQL_MAX_TOTAL: usize = 100_000;

pub(crate) fn coql(ctx: &mut CrmCtx<'_>) -> Response {
    let body: Value = match serde_json::from_slice(ctx.body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return body_error(),
    };
    let Some(q) = body.get("select_query").and_then(Value::as_str) else {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            json!({ "param_name": "select_query" }),
        );
    };
    let (query, conditions) = match parse_query(q) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(mi) = ctx.data.module_index(&query.module) else {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
            "Invalid module given",
            json!({ "module": query.module }),
        );
    };
    if conditions > 25
        || query.columns.len() > 50
        || query.limit > COQL_MAX_LIMIT
        || query.offset.saturating_add(query.limit) > COQL_MAX_TOTAL
    {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "LIMIT_EXCEEDED",
            "limit exceeded",
            json!({ "limit": COQL_MAX_LIMIT }),
        );
    }
    let data: &ZohoData = ctx.data;
    let module = &data.modules[mi];
    // Columns: a field, or `Lookup.Field` (one hop).
    let mut columns: Vec<Column<'_>> = Vec::new();
    for col in &query.columns {
        let (head, tail) = match col.split_once('.') {
            Some((h, t)) => (h, Some(t)),
            None => (col.as_str(), None),
        };
        let Some(f) = coql_field(module, head) else {
            return column_error("column given seems to be invalid", col);
        };
        if coql_unsupported(f) {
            return column_error("data type not supported", col);
        }
        let hop = match tail {
            None => None,
            Some(t) => {
                let target = f.lookup_module.as_deref().and_then(|m| data.module(m));
                let Some((tm, tf)) = target.and_then(|m| Some((m, m.field(t)?))) else {
                    return column_error("column given seems to be invalid", col);
                };
                Some((tm, tf))
            }
        };
        columns.push((col.clone(), f, hop));
    }
    if let Some(filter) = &query.filter
        && let Err(r) = check_cond(filter, module)
    {
        return r;
    }
    let mut order_fields = Vec::new();
    for (col, desc) in &query.order {
        let Some(f) = coql_field(module, col) else {
            return column_error("column given seems to be invalid", col);
        };
        order_fields.push((f, *desc));
    }
    let matches = |r: &&Record| query.filter.as_ref().is_none_or(|c| eval(c, module, r));
    // In id order (asked for, or by default), walk the id index from the keyset bound
    // (`id > …`) instead of filtering and sorting the whole module: one page costs its rows.
    let by_id = match query.order.as_slice() {
        [] => Some(false),
        [(col, desc)] if col == "id" => Some(*desc),
        _ => None,
    };
    let (rows, more): (Vec<&Record>, bool) = if let Some(desc) = by_id {
        let after = query.filter.as_ref().and_then(|c| id_bound(c, desc));
        let mut walk = module
            .records
            .ordered(SortBy::Id, desc, after.map(|a| (0, a)))
            .filter(matches)
            .skip(query.offset);
        let rows: Vec<&Record> = walk.by_ref().take(query.limit).collect();
        let more = walk.next().is_some();
        (rows, more)
    } else {
        let mut rows: Vec<&Record> = module.records.iter().filter(matches).collect();
        rows.sort_by(|a, b| {
            for (f, desc) in &order_fields {
                let k = kind(f);
                let (va, vb) = (field_value(a, f), field_value(b, f));
                let ord = match (va, vb) {
                    (Some(x), Some(y)) => {
                        compare(k, &x, &as_text(&y)).unwrap_or(std::cmp::Ordering::Equal)
                    }
                    (None, Some(_)) => std::cmp::Ordering::Less,
                    (Some(_), None) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                };
                let ord = if *desc { ord.reverse() } else { ord };
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
            }
            a.id.cmp(&b.id)
        });
        let total = rows.len();
        let rows: Vec<&Record> = rows
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .collect();
        let more = total > query.offset.saturating_add(rows.len());
        (rows, more)
    };
    let tz = ctx.tz();
    let out: Vec<Value> = rows
        .iter()
        .map(|r| {
            let full = render_record(data, module, r, None, tz, false);
            let mut m = Map::new();
            for (col, f, hop) in &columns {
                let v = match hop {
                    Some((tm, tf)) => {
                        let target = r
                            .values
                            .get(&f.api_name)
                            .and_then(|v| v.get("id"))
                            .and_then(Value::as_str)
                            .and_then(|id| tm.record(id.parse().ok()?));
                        target.map_or(Value::Null, |t| {
                            render_record(data, tm, t, None, tz, false)[tf.api_name.as_str()]
                                .clone()
                        })
                    }
                    // Lookup columns give only the id (§2.3).
                    None if matches!(f.data_type.as_str(), "lookup" | "ownerlookup") => {
                        match full.get(&f.api_name).and_then(|v| v.get("id")) {
                            Some(id) => json!({ "id": id }),
                            None => Value::Null,
                        }
                    }
                    None => full.get(&f.api_name).cloned().unwrap_or(Value::Null),
                };
                m.insert(col.clone(), v);
            }
            m.insert("id".into(), json!(r.id.to_string()));
            Value::Object(m)
        })
        .collect();
    if out.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    zoho_json(
        StatusCode::OK,
        &json!({ "data": out, "info": { "count": out.len(), "more_records": more } }),
    )
}

/// The id a keyset query starts after: a top-level `id > N` (ascending) or `id < N`
/// (descending) among the conditions joined by `and`.
fn id_bound(c: &Cond, desc: bool) -> Option<u64> {
    match c {
        Cond::And(a, b) => id_bound(a, desc).or_else(|| id_bound(b, desc)),
        Cond::Or(..) => None,
        Cond::Cmp { col, op, values } => {
            let wanted = if desc { "<" } else { ">" };
            (col == "id" && op == wanted)
                .then(|| values.first().map(as_text)?.trim().parse().ok())
                .flatten()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tags on records

const MAX_TAG_IDS: usize = 100;

/// `POST /{module}/actions/add_tags|remove_tags` (ids in the body or `ids=`) and
/// `POST /{module}/{id}/actions/add_tags|remove_tags`; tags in the body (`tags`) or
/// `tag_names=` (v2 style).
///
/// Errors have the shapes tags.json gives them: a body that is not a JSON object is a top-level
/// `INVALID_DATA` whose details name what was expected where (`Expected_Data_Type`); a missing
/// `tags` or `ids` is a `REQUIRED_PARAM_MISSING` result in `data` (`Record_Action_Wrapper_Error`,
/// the only place the document lists that code).
pub(crate) fn tags(ctx: &mut CrmCtx<'_>, mi: usize, path_id: Option<&str>, add: bool) -> Response {
    let body: Value = if ctx.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(ctx.body) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return zoho_error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_DATA",
                    "body",
                    json!({ "api_name": "body", "json_path": "$", "expected_data_type": "jsonobject" }),
                );
            }
        }
    };
    let missing = |name: &str| {
        zoho_json(
            StatusCode::BAD_REQUEST,
            &json!({ "data": [error_body(
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                json!({ "param": name }),
            )] }),
        )
    };
    let mut tag_refs: Vec<(Option<String>, Option<String>)> = Vec::new();
    if let Some(list) = body.get("tags").and_then(Value::as_array) {
        for t in list {
            let id = t.get("id").and_then(Value::as_str).map(str::to_owned);
            let name = t.get("name").and_then(Value::as_str).map(str::to_owned);
            tag_refs.push((id, name));
        }
    } else if let Some(names) = param(&ctx.query, "tag_names") {
        tag_refs.extend(
            names
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|n| (None, Some(n.to_owned()))),
        );
    }
    if tag_refs.is_empty() {
        return missing("tags");
    }
    let ids: Vec<String> = match path_id {
        Some(id) => vec![id.to_owned()],
        None => match body.get("ids").and_then(Value::as_array) {
            Some(list) => list
                .iter()
                .filter_map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .or_else(|| v.as_u64().map(|n| n.to_string()))
                })
                .collect(),
            None => param(&ctx.query, "ids")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        },
    };
    if ids.is_empty() {
        return missing("ids");
    }
    if ids.len() > MAX_TAG_IDS {
        return zoho_error(
            StatusCode::BAD_REQUEST,
            "LIMIT_EXCEEDED",
            "Record count exceeded",
            json!({ "limit": MAX_TAG_IDS }),
        );
    }
    let over_write = body
        .get("over_write")
        .and_then(Value::as_bool)
        .or_else(|| param(&ctx.query, "over_write").map(|v| v.eq_ignore_ascii_case("true")))
        .unwrap_or(false);
    // Resolve tags: by id (must exist) or by name (created when adding).
    let mut tag_ids = Vec::new();
    for (k, (id, name)) in tag_refs.iter().enumerate() {
        let tags = &ctx.data.modules[mi].tags;
        let found = match (id, name) {
            (Some(id), _) => tags.iter().find(|t| &t.id == id).map(|t| t.id.clone()),
            (None, Some(n)) => tags
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(n))
                .map(|t| t.id.clone()),
            (None, None) => None,
        };
        let id = match (found, name) {
            (Some(id), _) => id,
            (None, Some(n))
                if add && id.is_none() && !n.trim().is_empty() && n.chars().count() <= 25 =>
            {
                let id = ctx.data.new_meta_id();
                ctx.data.modules[mi].tags.push(TagDef {
                    id: id.clone(),
                    name: n.trim().to_owned(),
                    created: Some(ctx.now),
                    created_by: Some(ctx.user_id.clone()),
                });
                id
            }
            (None, _) if !add => continue,
            _ => {
                return zoho_error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_DATA",
                    "invalid data",
                    json!({ "api_name": "tags", "json_path": format!("$.tags[{k}]") }),
                );
            }
        };
        if !tag_ids.contains(&id) {
            tag_ids.push(id);
        }
    }
    let now = ctx.now;
    let user = ctx.user_id.clone();
    let mut results = Vec::new();
    for (k, given) in ids.iter().enumerate() {
        let module = &mut ctx.data.modules[mi];
        let Some(mut record) = given
            .parse::<u64>()
            .ok()
            .and_then(|n| module.records.get_mut(n))
        else {
            results.push(Err(error_body(
                "INVALID_DATA",
                "invalid data",
                json!({ "api_name": "ids", "json_path": format!("$.ids[{k}]") }),
            )));
            continue;
        };
        if add {
            if over_write {
                record.tags.clear();
            }
            for id in &tag_ids {
                if !record.tags.contains(id) {
                    record.tags.push(id.clone());
                }
            }
        } else {
            record.tags.retain(|t| !tag_ids.contains(t));
        }
        record.modified = now;
        record.modified_by.clone_from(&user);
        let tags_json: Vec<Value> = record
            .tags
            .iter()
            .filter_map(|id| module.tags.iter().find(|t| &t.id == id))
            .map(|t| json!({ "id": t.id, "name": t.name, "color_code": super::records::tag_color(&t.id) }))
            .collect();
        results.push(Ok(json!({
            "code": "SUCCESS",
            "details": { "id": given, "tags": tags_json },
            "message": "tags updated successfully",
            "status": "success",
        })));
    }
    batch_response(results, StatusCode::OK, StatusCode::BAD_REQUEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        assert!(like("Jane Doe", "jane%"));
        assert!(like("Jane Doe", "%doe"));
        assert!(like("Jane Doe", "%ne d%"));
        assert!(!like("Jane Doe", "doe%"));
    }

    #[test]
    fn criteria_parsing_with_escapes() {
        let s: Vec<char> = r"((Last_Name:equals:Burns\,B)and(Email:in:a@x.com,b@x.com))"
            .chars()
            .collect();
        let (mut i, mut n) = (0, 0);
        let c = parse_criteria(&s, &mut i, &mut n).unwrap();
        assert_eq!(i, s.len());
        assert_eq!(n, 2);
        let Crit::All(list) = c else { panic!() };
        let Crit::Cond { values, .. } = &list[0] else {
            panic!()
        };
        assert_eq!(values, &["Burns,B"]);
        let Crit::Cond { values, .. } = &list[1] else {
            panic!()
        };
        assert_eq!(values.len(), 2);
    }

    #[test]
    fn coql_parses_the_reference_example() {
        let (q, n) = parse_query("select Last_Name, Email from Contacts where Modified_Time >= '2024-01-01T00:00:00+00:00' order by Modified_Time asc limit 0, 2000").unwrap();
        assert_eq!(q.columns, ["Last_Name", "Email"]);
        assert_eq!(q.module, "Contacts");
        assert_eq!((q.offset, q.limit, n), (0, 2000, 1));
        assert!(parse_query("select from Contacts").is_err());
    }
}
