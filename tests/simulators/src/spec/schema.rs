//! A JSON value checked against a schema of an OpenAPI 2.0 (Swagger) or 3.0 document: the
//! subset of JSON Schema the vendored specs use (`$ref`, `type`, `nullable`/`x-nullable`,
//! `enum`, `properties`, `required`, `additionalProperties`, `items`, `oneOf`/`anyOf`/
//! `allOf`, `format`, `maxLength`/`minLength`, `minimum`/`maximum`, `maxItems`/`minItems`).
//!
//! Two choices follow how the vendors wrote their specs:
//! - `oneOf` passes when *at least* one branch passes. crm-oas uses `oneOf` for alternatives
//!   that overlap (a success wrapper and an error object whose properties are all optional), so
//!   "exactly one" would reject every real answer. The `ERRATA` say the same to tools outside
//!   the crate: they turn crm-oas's `oneOf`s into `anyOf` (`Change::AnyOfForOneOf`).
//! - `pattern` is not checked: the patterns in the specs (all in users.json) are shaped after
//!   one example value (an e-mail pattern that only fits nine-letter local parts at five-letter
//!   domains), not after what the servers send; the `ERRATA` drop them (`Change::NoPattern`).

use serde_json::Value;

use super::Specs;

/// How deep `$ref` chains and nesting may go before the checker gives up on a branch (the
/// specs have recursive schemas, e.g. a record whose lookup is a record).
const MAX_DEPTH: usize = 64;

/// One place where a value breaks its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mismatch {
    /// JSON pointer into the checked value, e.g. `/data/0/status`.
    pub at: String,
    /// What is wrong there.
    pub message: String,
}

/// Checks values against the schemas of one document of `specs`.
pub(crate) struct Checker<'a> {
    pub specs: &'a Specs,
    /// `$ref`s that point at documents not vendored (counted, and accepted as anything).
    pub unresolved: Vec<String>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(specs: &'a Specs) -> Self {
        Checker {
            specs,
            unresolved: Vec::new(),
        }
    }

    /// Every mismatch of `value` against `schema`, a schema of document `doc`.
    pub(crate) fn check(&mut self, doc: usize, schema: &Value, value: &Value) -> Vec<Mismatch> {
        let mut out = Vec::new();
        let mut at = String::new();
        self.walk(doc, schema, value, &mut at, &mut out, 0);
        out
    }

    fn walk(
        &mut self,
        doc: usize,
        schema: &Value,
        value: &Value,
        at: &mut String,
        out: &mut Vec<Mismatch>,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        let Some(schema) = schema.as_object() else {
            // `true`, `{}` and anything unexpected accept every value.
            return;
        };
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            match self.specs.resolve(doc, reference) {
                Some((target_doc, target)) => {
                    self.walk(target_doc, target, value, at, out, depth + 1);
                }
                None => self.unresolved.push(reference.to_owned()),
            }
            return;
        }
        if value.is_null() && nullable(schema) {
            return;
        }
        let mismatch = |out: &mut Vec<Mismatch>, at: &str, message: String| {
            out.push(Mismatch {
                at: if at.is_empty() { "/".into() } else { at.into() },
                message,
            });
        };
        if let Some(expected) = schema.get("type").and_then(Value::as_str)
            && !type_matches(expected, value)
        {
            mismatch(
                out,
                at,
                format!("expected {expected}, found {}", kind(value)),
            );
            return;
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            mismatch(out, at, format!("{value} is not one of the listed values"));
        }
        for key in ["allOf"] {
            for branch in schema
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.walk(doc, branch, value, at, out, depth + 1);
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                self.any_of(doc, branches, value, at, out, depth);
            }
        }
        match value {
            Value::Object(map) => {
                let properties = schema.get("properties").and_then(Value::as_object);
                for name in schema
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !map.contains_key(name) {
                        mismatch(out, at, format!("required property {name:?} is missing"));
                    }
                }
                for (name, item) in map {
                    let sub = properties.and_then(|p| p.get(name));
                    let extra = schema.get("additionalProperties");
                    let item_schema = match (sub, extra) {
                        (Some(s), _) => s,
                        (None, Some(Value::Bool(false))) => {
                            mismatch(out, at, format!("property {name:?} is not allowed"));
                            continue;
                        }
                        (None, Some(s)) => s,
                        (None, None) => continue,
                    };
                    let len = at.len();
                    at.push('/');
                    at.push_str(&name.replace('~', "~0").replace('/', "~1"));
                    self.walk(doc, item_schema, item, at, out, depth + 1);
                    at.truncate(len);
                }
            }
            Value::Array(items) => {
                if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                    && items.len() as u64 > max
                {
                    mismatch(
                        out,
                        at,
                        format!("{} items, at most {max} allowed", items.len()),
                    );
                }
                if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                    && (items.len() as u64) < min
                {
                    mismatch(
                        out,
                        at,
                        format!("{} items, at least {min} needed", items.len()),
                    );
                }
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        let len = at.len();
                        at.push('/');
                        at.push_str(&i.to_string());
                        self.walk(doc, item_schema, item, at, out, depth + 1);
                        at.truncate(len);
                    }
                }
            }
            Value::String(s) => {
                let chars = s.chars().count() as u64;
                if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                    && chars > max
                {
                    mismatch(
                        out,
                        at,
                        format!("{chars} characters, at most {max} allowed"),
                    );
                }
                if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                    && chars < min
                {
                    mismatch(
                        out,
                        at,
                        format!("{chars} characters, at least {min} needed"),
                    );
                }
                if let Some(format) = schema.get("format").and_then(Value::as_str)
                    && !string_format_matches(format, s)
                {
                    mismatch(out, at, format!("{s:?} is not a valid {format}"));
                }
            }
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                    && x < min
                {
                    mismatch(out, at, format!("{n} is below the minimum {min}"));
                }
                if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                    && x > max
                {
                    mismatch(out, at, format!("{n} is above the maximum {max}"));
                }
                if schema.get("format").and_then(Value::as_str) == Some("int32")
                    && n.as_i64().is_none_or(|i| i32::try_from(i).is_err())
                {
                    mismatch(out, at, format!("{n} is not an int32"));
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// At least one branch must accept `value`; when none does, the mismatches of the branch
    /// that came closest are reported.
    fn any_of(
        &mut self,
        doc: usize,
        branches: &[Value],
        value: &Value,
        at: &mut String,
        out: &mut Vec<Mismatch>,
        depth: usize,
    ) {
        // (matched only vacuously, mismatches) of the closest branch so far.
        let mut best: Option<(bool, Vec<Mismatch>)> = None;
        for branch in branches {
            let mut found = Vec::new();
            self.walk(doc, branch, value, at, &mut found, depth + 1);
            let vacuous = found.is_empty() && self.vacuous(doc, branch, value);
            if found.is_empty() && !vacuous {
                return;
            }
            if vacuous {
                found.push(Mismatch {
                    at: if at.is_empty() {
                        "/".into()
                    } else {
                        at.clone()
                    },
                    message: "has none of the properties of this alternative".into(),
                });
            }
            let closer = best
                .as_ref()
                .is_none_or(|(v, b)| (vacuous, found.len()) < (*v, b.len()));
            if closer {
                best = Some((vacuous, found));
            }
        }
        if let Some((_, best)) = best {
            out.extend(best);
        }
    }
}

impl Checker<'_> {
    /// Whether `branch` accepts the object `value` only because all its properties are
    /// optional and `value` has none of them. crm-oas offers an error object with optional
    /// properties beside every success shape; without this rule any object would pass as that
    /// error. An empty object, and a branch that lists no properties, still match.
    fn vacuous(&self, doc: usize, branch: &Value, value: &Value) -> bool {
        let Value::Object(map) = value else {
            return false;
        };
        let (mut doc, mut branch) = (doc, branch);
        for _ in 0..MAX_DEPTH {
            match branch.get("$ref").and_then(Value::as_str) {
                Some(reference) => match self.specs.resolve(doc, reference) {
                    Some((d, target)) => (doc, branch) = (d, target),
                    None => return false,
                },
                None => break,
            }
        }
        match branch.get("properties").and_then(Value::as_object) {
            Some(properties) if !properties.is_empty() && !map.is_empty() => {
                !map.keys().any(|k| properties.contains_key(k))
            }
            _ => false,
        }
    }
}

/// OpenAPI 3's `nullable`, or Swagger's vendor extension `x-nullable`.
fn nullable(schema: &serde_json::Map<String, Value>) -> bool {
    ["nullable", "x-nullable"]
        .iter()
        .any(|k| schema.get(*k).and_then(Value::as_bool) == Some(true))
}

fn type_matches(expected: &str, value: &Value) -> bool {
    match expected {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        // "file" (Swagger downloads) and anything unknown: not a JSON shape to check.
        _ => true,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn string_format_matches(format: &str, s: &str) -> bool {
    match format {
        "date-time" => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        "date" => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
        // Numeric formats on strings, `binary`, and formats the specs do not use.
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(schema: Value, value: Value) -> Vec<String> {
        let specs = Specs::from_documents(vec![(
            "test.json",
            super::super::Service::Zoho,
            json!({"openapi":"3.0.0","paths":{},"components":{"schemas":{
                "Thing":{"type":"object","required":["id"],"properties":{"id":{"type":"string"}}}}}}),
        )]);
        let mut checker = Checker::new(&specs);
        checker
            .check(0, &schema, &value)
            .into_iter()
            .map(|m| format!("{} {}", m.at, m.message))
            .collect()
    }

    #[test]
    fn types_required_and_refs() {
        let schema = json!({"type":"object","properties":{
            "data":{"type":"array","items":{"$ref":"#/components/schemas/Thing"}},
            "more":{"type":"boolean"}}});
        assert!(check(schema.clone(), json!({"data":[{"id":"1"}],"more":false})).is_empty());
        assert_eq!(
            check(schema, json!({"data":[{"id":1},{}],"more":"no"})),
            vec![
                "/data/0/id expected string, found integer",
                "/data/1 required property \"id\" is missing",
                "/more expected boolean, found string",
            ]
        );
    }

    #[test]
    fn nullable_enum_and_formats() {
        let schema = json!({"type":"object","properties":{
            "s":{"type":"string","enum":["success"]},
            "t":{"type":"string","format":"date-time","nullable":true},
            "n":{"type":"integer","format":"int32"}}});
        assert!(check(schema.clone(), json!({"s":"success","t":null,"n":3})).is_empty());
        assert_eq!(
            check(
                schema,
                json!({"s":"ok","t":"2024-01-01 10:00:00","n":5_000_000_000_u64})
            ),
            vec![
                "/s \"ok\" is not one of the listed values",
                "/t \"2024-01-01 10:00:00\" is not a valid date-time",
                "/n 5000000000 is not an int32",
            ]
        );
    }

    #[test]
    fn one_of_takes_any_passing_branch_and_reports_the_closest() {
        let schema = json!({"oneOf":[
            {"type":"object","required":["data"]},
            {"type":"object","properties":{"status":{"type":"string","enum":["error"]}}}]});
        // Both branches pass: still accepted.
        assert!(check(schema.clone(), json!({"data":[],"status":"error"})).is_empty());
        assert_eq!(
            check(schema, json!({"status":"success"})),
            vec!["/ required property \"data\" is missing"]
        );
    }

    #[test]
    fn an_alternative_whose_properties_are_all_unused_does_not_match() {
        let schema = json!({"oneOf":[
            {"type":"object","properties":{"data":{"type":"array"}}},
            {"type":"object","properties":{"status":{"type":"string"},"code":{"type":"string"}}}]});
        assert!(check(schema.clone(), json!({"data":[]})).is_empty());
        assert!(check(schema.clone(), json!({"status":"error","code":"X"})).is_empty());
        assert_eq!(
            check(schema, json!({"data":"x"})),
            vec!["/data expected array, found string"]
        );
    }

    #[test]
    fn additional_properties() {
        let closed = json!({"type":"object","properties":{"a":{}},"additionalProperties":false});
        assert_eq!(
            check(closed, json!({"a":1,"b":2})),
            vec!["/ property \"b\" is not allowed"]
        );
        let typed = json!({"type":"object","additionalProperties":{"type":"object"}});
        assert_eq!(
            check(typed, json!({"x":"text"})),
            vec!["/x expected object, found string"]
        );
    }
}
