//! Items as the Domino REST API reads and writes them (domino-rest-api.md §4.5): arity from the
//! schema, dates as ISO strings, booleans as 0/1, rich text as `{type, encoding, content}`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::{Map, Number, Value, json};

use super::schema::Field;
use crate::domino::model::{ItemValue, NotesTime, html_to_plain, plain_to_html, rich_text};

/// How rich text is rendered (`richTextAs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RichTextAs {
    Mime,
    Html,
    Markdown,
    Plain,
}

impl RichTextAs {
    /// Parse `richTextAs`; `Err` is the 400 message.
    pub(crate) fn parse(v: Option<&str>, default: RichTextAs) -> Result<RichTextAs, String> {
        match v.map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("mime") => Ok(RichTextAs::Mime),
            Some("html") => Ok(RichTextAs::Html),
            Some("markdown") => Ok(RichTextAs::Markdown),
            Some("plain") => Ok(RichTextAs::Plain),
            Some(other) => Err(format!("Unknown rich text processor: {other}")),
        }
    }
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        let i = n as i64;
        Value::Number(Number::from(i))
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// A date/time value as DRAPI writes it: `2022-10-04T14:50:55Z`, `2022-10-04` or `14:50:55`.
fn time_text(t: &NotesTime) -> String {
    match t {
        NotesTime::DateTime(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        NotesTime::Date(d) => d.format("%Y-%m-%d").to_string(),
        NotesTime::Time(t) => t.format("%H:%M:%S").to_string(),
    }
}

fn part_text(parts: &[Map<String, Value>], kind: &str) -> Option<String> {
    parts.iter().find_map(|p| {
        let ct = p.get("contentType")?.as_str()?;
        ct.to_ascii_lowercase()
            .starts_with(kind)
            .then(|| p.get("data")?.as_str().map(str::to_owned))?
    })
}

/// The MIME text of stored parts: the multipart header part's boundary around the others.
fn mime_text(parts: &[Map<String, Value>]) -> (String, String) {
    let field = |p: &Map<String, Value>, k: &str| {
        p.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let Some(first) = parts.first() else {
        return ("text/plain".into(), String::new());
    };
    let ct = field(first, "contentType");
    if !ct.to_ascii_lowercase().starts_with("multipart/") {
        return (ct, field(first, "data"));
    }
    let boundary = field(first, "boundary");
    let boundary = boundary.trim_start_matches("--");
    let mut out = String::new();
    for p in &parts[1..] {
        out.push_str(&format!("--{boundary}\r\n"));
        out.push_str(&format!("Content-Type: {}\r\n", field(p, "contentType")));
        let enc = field(p, "contentTransferEncoding");
        if !enc.is_empty() {
            out.push_str(&format!("Content-Transfer-Encoding: {enc}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&field(p, "data"));
        out.push_str("\r\n");
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    (ct, out)
}

fn rich_json(item: &ItemValue, parts: &[Map<String, Value>], how: RichTextAs) -> Value {
    let plain = || part_text(parts, "text/plain").unwrap_or_else(|| html_to_plain(&item.html()));
    let (kind, content) = match how {
        RichTextAs::Html => ("text/html".to_owned(), item.html()),
        RichTextAs::Plain => ("text/plain".to_owned(), plain()),
        RichTextAs::Markdown => ("text/markdown".to_owned(), plain()),
        RichTextAs::Mime => mime_text(parts),
    };
    json!({ "type": kind, "encoding": "PLAIN", "content": content })
}

/// The JSON of an item read through `field`; `None` when the item has no value.
pub(crate) fn read(item: &ItemValue, field: &Field, rich: RichTextAs) -> Option<Value> {
    let values: Vec<Value> = match item {
        ItemValue::Text(v) | ItemValue::Names(v) => {
            v.iter().map(|s| Value::String(s.clone())).collect()
        }
        ItemValue::Number(v) if field.is_boolean() => v.iter().map(|n| json!(*n != 0.0)).collect(),
        ItemValue::Number(v) => v.iter().map(|n| number(*n)).collect(),
        ItemValue::Time(v) => v.iter().map(|t| Value::String(time_text(t))).collect(),
        ItemValue::RichText(parts) => vec![rich_json(item, parts, rich)],
    };
    if field.multi() {
        (!values.is_empty()).then_some(Value::Array(values))
    } else {
        // "When defined as single value in the Schema, but contains more than 1 value, only the
        // first value is returned."
        values.into_iter().next()
    }
}

/// A date/time written as text: RFC 3339 (any fraction, `Z` or offset), a local date-time
/// (taken as UTC), a date, or a time.
pub(crate) fn parse_time(s: &str) -> Option<NotesTime> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return DateTime::from_timestamp(t.timestamp(), 0).map(NotesTime::DateTime);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            let t: DateTime<Utc> = t.and_utc();
            return DateTime::from_timestamp(t.timestamp(), 0).map(NotesTime::DateTime);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(NotesTime::Date(d));
    }
    for fmt in ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"] {
        if let Ok(t) = NaiveTime::parse_from_str(s, fmt) {
            return Some(NotesTime::Time(t));
        }
    }
    None
}

fn rich_from_object(obj: &Map<String, Value>, name: &str) -> Result<ItemValue, String> {
    let kind = obj
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("text/plain")
        .to_ascii_lowercase();
    let content = obj
        .get("content")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("Rich text value of {name} needs a content"))?;
    let encoding = obj
        .get("encoding")
        .and_then(Value::as_str)
        .unwrap_or("PLAIN");
    let text = if encoding.eq_ignore_ascii_case("BASE64") {
        let bytes = STANDARD
            .decode(content.trim())
            .map_err(|_| format!("Rich text value of {name} is not valid BASE64"))?;
        String::from_utf8_lossy(&bytes).into_owned()
    } else if encoding.eq_ignore_ascii_case("PLAIN") {
        content.to_owned()
    } else {
        return Err(format!("Unknown rich text encoding {encoding} for {name}"));
    };
    if kind.starts_with("text/html") {
        Ok(rich_text(&html_to_plain(&text), &text))
    } else if kind.starts_with("text/") {
        Ok(rich_text(&text, &plain_to_html(&text)))
    } else {
        Err(format!("Unsupported rich text type {kind} for {name}"))
    }
}

/// The item a client's JSON value writes to `field`; `Ok(None)` for `null` (remove the item).
pub(crate) fn write(value: &Value, field: &Field) -> Result<Option<ItemValue>, String> {
    let name = &field.name;
    let date = |s: &str| parse_time(s).ok_or_else(|| format!("Invalid date value for {name}: {s}"));
    Ok(Some(match value {
        Value::Null => return Ok(None),
        Value::Bool(b) => ItemValue::Number(vec![if *b { 1.0 } else { 0.0 }]),
        Value::Number(n) => ItemValue::Number(vec![n.as_f64().unwrap_or(0.0)]),
        Value::String(s) if field.is_date() => ItemValue::Time(vec![date(s)?]),
        Value::String(s) if field.is_rich_text() => rich_text(s, &plain_to_html(s)),
        Value::String(s) => ItemValue::text(s),
        Value::Object(obj) if obj.contains_key("content") => rich_from_object(obj, name)?,
        Value::Object(_) => return Err(format!("Unsupported value for {name}")),
        Value::Array(list) => {
            if list.iter().all(|v| v.is_number() || v.is_boolean()) && !list.is_empty() {
                ItemValue::Number(
                    list.iter()
                        .map(|v| {
                            v.as_f64()
                                .unwrap_or(if v == &json!(true) { 1.0 } else { 0.0 })
                        })
                        .collect(),
                )
            } else if field.is_date() {
                let times = list
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .ok_or_else(|| format!("Invalid date value for {name}"))
                    })
                    .map(|s| s.and_then(date))
                    .collect::<Result<Vec<_>, _>>()?;
                ItemValue::Time(times)
            } else {
                let texts = list
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(n) => Ok(n.to_string()),
                        Value::Bool(b) => Ok(b.to_string()),
                        Value::Null => Ok(String::new()),
                        _ => Err(format!("Unsupported value in the list of {name}")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                ItemValue::Text(texts)
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(v: Value) -> Field {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn arity_follows_the_schema() {
        let item = ItemValue::Text(vec!["A".into(), "B".into()]);
        let single = field(json!({"name":"C","type":"string"}));
        let multi = field(json!({"name":"C","type":"array"}));
        assert_eq!(read(&item, &single, RichTextAs::Html), Some(json!("A")));
        assert_eq!(
            read(&item, &multi, RichTextAs::Html),
            Some(json!(["A", "B"]))
        );
        let one = ItemValue::text("x");
        assert_eq!(read(&one, &multi, RichTextAs::Html), Some(json!(["x"])));
        assert_eq!(
            read(&ItemValue::Text(vec![]), &single, RichTextAs::Html),
            None
        );
    }

    #[test]
    fn writes_map_booleans_dates_and_rich_text() {
        let plain = field(json!({"name":"F","type":"string"}));
        let date = field(json!({"name":"D","type":"string","format":"date-time"}));
        let rich = field(json!({"name":"B","type":"string","format":"richtext"}));
        assert_eq!(
            write(&json!(true), &plain),
            Ok(Some(ItemValue::Number(vec![1.0])))
        );
        assert_eq!(write(&Value::Null, &plain), Ok(None));
        let t = write(&json!("2020-06-29T12:01:00.000-04:00"), &date).unwrap();
        assert_eq!(
            t.map(|i| i.first_text()).as_deref(),
            Some("2020-06-29T16:01:00Z")
        );
        assert!(write(&json!("soon"), &date).is_err());
        let body = write(
            &json!({"type":"text/plain","encoding":"PLAIN","content":"a < b"}),
            &rich,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            read(&body, &rich, RichTextAs::Html).unwrap()["content"],
            json!("a &lt; b")
        );
        let mime = read(&body, &rich, RichTextAs::Mime).unwrap();
        assert!(
            mime["content"]
                .as_str()
                .unwrap()
                .contains("Content-Type: text/plain")
        );
        assert!(write(&json!({"type":"image/png","content":"x"}), &rich).is_err());
        assert!(write(&json!({"content":"%%","encoding":"BASE64"}), &rich).is_err());
        assert!(write(&json!([{"a":1}]), &plain).is_err());
    }
}
