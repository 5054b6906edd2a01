//! Criteria of custom views: read from and written as custom_views.json's `Criteria` shape,
//! and evaluated on a record.
//!
//! A leaf compares one field with a value:
//! `{"comparator":"equal","field":{"api_name":"Mailing_City","id":"…"},"value":"Tokyo",
//! "group_operator":null,"group":[]}`; a group joins others:
//! `{"comparator":null,"field":{"api_name":null,"id":null},"value":null,"group_operator":"and",
//! "group":[…]}` (the spec requires all five keys on every node, so both kinds carry them).
//! A view without criteria is rendered as a node with every key null and an empty group.
//!
//! Evaluation (the simulator's choices; the references say nothing of custom-view criteria):
//! text compares case-insensitively; `Owner`, `Created_By` and `Modified_By` match a user id
//! or full name, and the value `${CURRENTUSER}` is the calling user; lookups match the linked
//! record's id or name; `Tag` matches any of the record's tag names; `Created_Time`,
//! `Modified_Time`, date and datetime fields order as instants, `${LASTnDAYS}` being now minus
//! n days and `${TODAY}` today's midnight UTC; `${EMPTY}` (or `null`, or `""`) is an empty
//! value; an array value (`in`, `not_in`, or `equal`) matches any of its items.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use super::model::{Module, Record, ZohoData, full_name, parse_time};

/// Deepest nesting of groups accepted.
const MAX_DEPTH: usize = 8;

/// How a leaf compares its field with its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Comparator {
    Equal,
    NotEqual,
    StartsWith,
    EndsWith,
    Contains,
    NotContains,
    In,
    NotIn,
    GreaterThan,
    GreaterEqual,
    LessThan,
    LessEqual,
}

impl Comparator {
    const NAMES: [(Comparator, &'static str); 12] = [
        (Comparator::Equal, "equal"),
        (Comparator::NotEqual, "not_equal"),
        (Comparator::StartsWith, "starts_with"),
        (Comparator::EndsWith, "ends_with"),
        (Comparator::Contains, "contains"),
        (Comparator::NotContains, "not_contains"),
        (Comparator::In, "in"),
        (Comparator::NotIn, "not_in"),
        (Comparator::GreaterThan, "greater_than"),
        (Comparator::GreaterEqual, "greater_equal"),
        (Comparator::LessThan, "less_than"),
        (Comparator::LessEqual, "less_equal"),
    ];

    fn parse(name: &str) -> Option<Comparator> {
        Comparator::NAMES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(c, _)| *c)
    }

    fn name(self) -> &'static str {
        Comparator::NAMES
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("equal", |(_, n)| n)
    }
}

/// How a group joins its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GroupOperator {
    And,
    Or,
}

/// A view's filter: one comparison, or a group of them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Criteria {
    Leaf {
        field: String,
        comparator: Comparator,
        value: Value,
    },
    Group {
        operator: GroupOperator,
        group: Vec<Criteria>,
    },
}

/// What a criterion is evaluated against besides the record.
pub(crate) struct Scope<'a> {
    pub data: &'a ZohoData,
    pub module: &'a Module,
    /// The calling user (`${CURRENTUSER}`).
    pub user_id: &'a str,
    pub now: DateTime<Utc>,
}

/// The node of a view without criteria (every key the spec requires, all empty).
pub(crate) fn none_json() -> Value {
    json!({
        "comparator": null,
        "field": { "api_name": null, "id": null },
        "value": null,
        "group_operator": null,
        "group": [],
    })
}

/// Read criteria given in the spec's shape (`None`: the empty node, or `null`). Fields must
/// be fields of `module`.
pub(crate) fn parse(v: &Value, module: &Module) -> Result<Option<Criteria>, String> {
    if v.is_null() {
        return Ok(None);
    }
    let empty = |key: &str| v.get(key).is_none_or(Value::is_null);
    let no_group = v
        .get("group")
        .is_none_or(|g| g.as_array().is_some_and(Vec::is_empty));
    let no_field = v
        .get("field")
        .is_none_or(|f| f.is_null() || f.get("api_name").is_some_and(Value::is_null));
    if empty("comparator") && empty("group_operator") && no_group && no_field {
        return Ok(None);
    }
    parse_node(v, module, 0).map(Some)
}

fn parse_node(v: &Value, module: &Module, depth: usize) -> Result<Criteria, String> {
    if depth > MAX_DEPTH {
        return Err(format!("criteria nest deeper than {MAX_DEPTH} groups"));
    }
    let obj = v.as_object().ok_or("a criterion must be an object")?;
    if let Some(group) = obj.get("group").and_then(Value::as_array)
        && !group.is_empty()
    {
        let operator = match obj.get("group_operator").and_then(Value::as_str) {
            Some(op) if op.eq_ignore_ascii_case("and") => GroupOperator::And,
            Some(op) if op.eq_ignore_ascii_case("or") => GroupOperator::Or,
            Some(op) => return Err(format!("unknown group_operator {op:?} (and, or)")),
            None if group.len() == 1 => GroupOperator::And,
            None => return Err("a group of criteria needs a group_operator".into()),
        };
        let group = group
            .iter()
            .map(|member| parse_node(member, module, depth + 1))
            .collect::<Result<_, _>>()?;
        return Ok(Criteria::Group { operator, group });
    }
    let field = match obj.get("field") {
        Some(Value::String(name)) => name.clone(),
        Some(Value::Object(f)) => f
            .get("api_name")
            .and_then(Value::as_str)
            .ok_or("a criterion's field needs an api_name")?
            .to_owned(),
        _ => return Err("a criterion needs a field".into()),
    };
    if module.field(&field).is_none() {
        return Err(format!("{} has no field {field:?}", module.api_name));
    }
    let name = obj
        .get("comparator")
        .and_then(Value::as_str)
        .ok_or("a criterion needs a comparator")?;
    let comparator =
        Comparator::parse(name).ok_or_else(|| format!("unknown comparator {name:?}"))?;
    let value = obj.get("value").cloned().unwrap_or(Value::Null);
    Ok(Criteria::Leaf {
        field,
        comparator,
        value,
    })
}

impl Criteria {
    /// A leaf `field comparator value`.
    pub(crate) fn leaf(field: &str, comparator: Comparator, value: Value) -> Criteria {
        Criteria::Leaf {
            field: field.to_owned(),
            comparator,
            value,
        }
    }

    /// The spec's shape, with field ids from `module`.
    pub(crate) fn to_json(&self, module: &Module) -> Value {
        match self {
            Criteria::Leaf {
                field,
                comparator,
                value,
            } => json!({
                "comparator": comparator.name(),
                "field": { "api_name": field, "id": module.field(field).map(|f| f.id.clone()) },
                "value": value,
                "group_operator": null,
                "group": [],
            }),
            Criteria::Group { operator, group } => json!({
                "comparator": null,
                "field": { "api_name": null, "id": null },
                "value": null,
                "group_operator": match operator { GroupOperator::And => "and", GroupOperator::Or => "or" },
                "group": group.iter().map(|c| c.to_json(module)).collect::<Vec<_>>(),
            }),
        }
    }

    /// Whether record `r` passes.
    pub(crate) fn matches(&self, scope: &Scope<'_>, r: &Record) -> bool {
        match self {
            Criteria::Group {
                operator: GroupOperator::And,
                group,
            } => group.iter().all(|c| c.matches(scope, r)),
            Criteria::Group {
                operator: GroupOperator::Or,
                group,
            } => group.iter().any(|c| c.matches(scope, r)),
            Criteria::Leaf {
                field,
                comparator,
                value,
            } => {
                let have = record_side(scope, r, field);
                let want = operands(scope, value);
                compare(*comparator, &have, &want, scope.now)
            }
        }
    }
}

/// What a record holds in `field`, as the texts a criterion may match (lower case).
fn record_side(scope: &Scope<'_>, r: &Record, field: &str) -> Vec<String> {
    let user = |id: &str| {
        let mut out = vec![id.to_lowercase()];
        if let Some(u) = scope.data.user(id) {
            out.push(u.full_name().to_lowercase());
        }
        out
    };
    let time = |t: DateTime<Utc>| vec![t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()];
    match field {
        "Owner" => user(&r.owner),
        "Created_By" => user(&r.created_by),
        "Modified_By" => user(&r.modified_by),
        "Created_Time" => time(r.created),
        "Modified_Time" => time(r.modified),
        "Full_Name" => vec![full_name(r).to_lowercase()],
        "id" => vec![r.id.to_string()],
        "Tag" => r
            .tags
            .iter()
            .filter_map(|id| scope.module.tags.iter().find(|t| &t.id == id))
            .map(|t| t.name.to_lowercase())
            .collect(),
        _ => {
            let lookup = scope
                .module
                .field(field)
                .and_then(|f| f.lookup_module.as_deref());
            match (lookup, r.values.get(field)) {
                (_, None | Some(Value::Null)) => vec![String::new()],
                (Some(target), Some(stored)) => {
                    let id = stored.get("id").and_then(Value::as_str).unwrap_or_default();
                    let mut out = vec![id.to_lowercase()];
                    let linked = scope.data.module(target).and_then(|m| {
                        let linked = m.record(id.parse().ok()?)?;
                        Some(m.display_name(linked))
                    });
                    out.extend(linked.map(|n| n.to_lowercase()));
                    out
                }
                (None, Some(v)) => vec![text(v).to_lowercase()],
            }
        }
    }
}

/// The value(s) a criterion compares with (lower case), tokens resolved.
fn operands(scope: &Scope<'_>, v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().flat_map(|i| operands(scope, i)).collect(),
        Value::Object(o) => o
            .get("id")
            .or_else(|| o.get("name"))
            .map(|inner| operands(scope, inner))
            .unwrap_or_default(),
        Value::String(s) if s == "${CURRENTUSER}" => vec![scope.user_id.to_lowercase()],
        Value::String(s) if s == "${EMPTY}" => vec![String::new()],
        other => vec![text(other).to_lowercase()],
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(";"),
        other => other.to_string(),
    }
}

/// An instant a value stands for: a datetime, a date (midnight UTC), or a relative token.
fn instant(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    // Operands arrive lower-cased; ISO timestamps parse in upper case.
    let token = s.trim().to_ascii_lowercase();
    if token == "${today}" {
        return now.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    if let Some(days) = token
        .strip_prefix("${last")
        .and_then(|rest| rest.strip_suffix("days}"))
        .and_then(|n| n.parse::<i64>().ok())
    {
        return Some(crate::common::plus_days(now, days.saturating_neg()));
    }
    let token = token.to_ascii_uppercase();
    parse_time(&token).or_else(|| {
        NaiveDate::parse_from_str(&token, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
    })
}

/// Order two texts: as instants, as numbers, else as text.
fn order(a: &str, b: &str, now: DateTime<Utc>) -> Option<std::cmp::Ordering> {
    if let (Some(x), Some(y)) = (instant(a, now), instant(b, now)) {
        return Some(x.cmp(&y));
    }
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return x.partial_cmp(&y);
    }
    (!a.is_empty() && !b.is_empty()).then(|| a.cmp(b))
}

fn compare(c: Comparator, have: &[String], want: &[String], now: DateTime<Utc>) -> bool {
    let any = |test: &dyn Fn(&str, &str) -> bool| {
        have.iter()
            .any(|h| want.iter().any(|w| test(h.as_str(), w.as_str())))
    };
    let ordered = |accept: &dyn Fn(std::cmp::Ordering) -> bool| {
        any(&|h, w| order(h, w, now).is_some_and(accept))
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    match c {
        Comparator::Equal | Comparator::In => any(&|h, w| h == w),
        Comparator::NotEqual | Comparator::NotIn => !any(&|h, w| h == w),
        Comparator::StartsWith => any(&|h, w| h.starts_with(w)),
        Comparator::EndsWith => any(&|h, w| h.ends_with(w)),
        Comparator::Contains => any(&|h, w| h.contains(w)),
        Comparator::NotContains => !any(&|h, w| h.contains(w)),
        Comparator::GreaterThan => ordered(&|o| o == Greater),
        Comparator::GreaterEqual => ordered(&|o| o != Less),
        Comparator::LessThan => ordered(&|o| o == Less),
        Comparator::LessEqual => ordered(&|o| matches!(o, Less | Equal)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zoho::model::standard_modules;

    fn contacts() -> Module {
        standard_modules().remove(0)
    }

    #[test]
    fn the_spec_shape_round_trips() {
        let m = contacts();
        let c = Criteria::Group {
            operator: GroupOperator::Or,
            group: vec![
                Criteria::leaf("Mailing_City", Comparator::Equal, json!("Tokyo")),
                Criteria::leaf("Last_Name", Comparator::StartsWith, json!("Sa")),
            ],
        };
        let rendered = c.to_json(&m);
        assert_eq!(rendered["group"][0]["group"], json!([]));
        assert!(rendered["group"][1]["field"]["id"].is_string());
        assert_eq!(parse(&rendered, &m), Ok(Some(c)));
        assert_eq!(parse(&none_json(), &m), Ok(None));
    }

    #[test]
    fn bad_criteria_are_refused() {
        let m = contacts();
        let leaf =
            |f: &str, c: &str| json!({ "field": { "api_name": f }, "comparator": c, "value": "x" });
        assert!(parse(&leaf("Nope", "equal"), &m).is_err());
        assert!(parse(&leaf("Email", "like"), &m).is_err());
        let group = json!({ "group_operator": "xor", "group": [leaf("Email", "equal")] });
        assert!(parse(&group, &m).is_err());
    }

    #[test]
    fn relative_tokens_are_instants() {
        let now = parse_time("2026-05-10T12:00:00Z").unwrap();
        assert_eq!(
            instant("${LAST7DAYS}", now),
            parse_time("2026-05-03T12:00:00Z")
        );
        assert_eq!(instant("${TODAY}", now), parse_time("2026-05-10T00:00:00Z"));
        assert_eq!(
            order("2026-05-04T00:00:00+00:00", "${last7days}", now),
            Some(std::cmp::Ordering::Greater)
        );
    }

    /// A view's `${LASTnDAYS}` with more days than chrono can count back (from a dump or
    /// `/_sim/custom_views`) is the first instant, not an overflow.
    #[test]
    fn huge_relative_tokens_saturate() {
        let now = parse_time("2026-05-10T12:00:00Z").unwrap();
        assert_eq!(
            instant("${LAST9223372036854775807DAYS}", now),
            Some(DateTime::<Utc>::MIN_UTC)
        );
        assert_eq!(
            instant("${LAST-9223372036854775808DAYS}", now),
            Some(DateTime::<Utc>::MAX_UTC)
        );
    }
}
