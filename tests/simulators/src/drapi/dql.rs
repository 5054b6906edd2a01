//! Domino Query Language as `POST /query` runs it (domino-rest-api.md §3.3, §3.7; HCL's DQL
//! syntax pages).
//!
//! Understood: terms `item op value`, `@ModifiedInThisFile`, `@Created` and
//! `@DocumentUniqueID` on the left, `@All` alone; operators `= > >= < <=`, `in [all] (…)`,
//! `contains [all] (…)`; `and`, `or`, `and not`, `or not`, a leading `not` and parentheses;
//! values `'text'`, numbers, `@dt('…')` (RFC 3339 with any fraction and `Z` or an offset, a
//! local date-time taken as UTC, or a date) and `?Variables`. Keywords and `@` names are
//! case-insensitive; text compares case-insensitively; a multi-value item matches when one of
//! its values does (`in all`/`contains all`: each listed value is among them). Rich text
//! never matches.
//!
//! Errors (texts inferred): a syntax error, an unknown `@` name (there is no `@Modified`), a
//! time term compared with something other than `@dt`, an undefined variable → 400 "DQL
//! syntax error: …"; `'view'.column` terms → 501 (not simulated).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use crate::domino::model::{Document, ItemValue, NotesTime};

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

/// What a term looks at.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Lhs {
    Item(String),
    Modified,
    Created,
    Unid,
}

/// A value in a query.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Val {
    Text(String),
    Num(f64),
    Time(DateTime<Utc>),
}

/// A parsed query.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    All,
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(Lhs, Op, Val),
    In {
        lhs: Lhs,
        all: bool,
        values: Vec<Val>,
    },
    Contains {
        lhs: Lhs,
        all: bool,
        values: Vec<Val>,
    },
}

/// Why a query was refused: `NotSimulated` for valid DQL the simulator does not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DqlError {
    Syntax(String),
    NotSimulated(String),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(f64),
    Var(String),
    Op(Op),
    Open,
    Close,
    Comma,
    Dot,
}

fn syntax(m: impl Into<String>) -> DqlError {
    DqlError::Syntax(m.into())
}

fn lex(q: &str) -> Result<Vec<Tok>, DqlError> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '.' => {
                out.push(Tok::Dot);
                i += 1;
            }
            '=' => {
                out.push(Tok::Op(Op::Eq));
                i += 1;
            }
            '>' | '<' => {
                let eq = chars.get(i + 1) == Some(&'=');
                out.push(Tok::Op(match (c, eq) {
                    ('>', true) => Op::Ge,
                    ('>', false) => Op::Gt,
                    (_, true) => Op::Le,
                    _ => Op::Lt,
                }));
                i += if eq { 2 } else { 1 };
            }
            '\'' | '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(syntax("unterminated string")),
                        // A doubled quote is a quote.
                        Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                            s.push(c);
                            i += 2;
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            s.push(other);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            '?' => {
                let start = i + 1;
                i = start;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                if i == start {
                    return Err(syntax("a variable needs a name after ?"));
                }
                out.push(Tok::Var(chars[start..i].iter().collect()));
            }
            _ if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_digit() || *c == '.' || *c == 'e' || *c == 'E')
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = text
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| syntax(format!("invalid number {text}")))?;
                out.push(Tok::Num(n));
            }
            _ if c.is_alphabetic() || c == '@' || c == '_' || c == '$' => {
                let start = i;
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
                {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
            other => return Err(syntax(format!("unexpected character {other:?}"))),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    vars: &'a Map<String, Value>,
    depth: usize,
}

/// Deepest nesting of parentheses and `not`s accepted.
const MAX_DEPTH: usize = 200;

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn expr(&mut self) -> Result<Expr, DqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(syntax("the query is nested too deeply"));
        }
        let mut left = self.and_expr()?;
        while self.keyword("or") {
            self.pos += 1;
            let negate = self.keyword("not");
            if negate {
                self.pos += 1;
            }
            let right = self.and_expr()?;
            let right = if negate {
                Expr::Not(Box::new(right))
            } else {
                right
            };
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, DqlError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            let negate = self.keyword("not");
            if negate {
                self.pos += 1;
            }
            let right = self.unary()?;
            let right = if negate {
                Expr::Not(Box::new(right))
            } else {
                right
            };
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, DqlError> {
        if self.keyword("not") {
            self.pos += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(syntax("the query is nested too deeply"));
            }
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            let e = self.expr()?;
            if self.next() != Some(Tok::Close) {
                return Err(syntax("missing )"));
            }
            return Ok(e);
        }
        self.term()
    }

    fn term(&mut self) -> Result<Expr, DqlError> {
        let lhs = match self.next() {
            Some(Tok::Word(w)) if w.starts_with('@') => match w.to_ascii_lowercase().as_str() {
                "@all" => return Ok(Expr::All),
                "@modifiedinthisfile" => Lhs::Modified,
                "@created" => Lhs::Created,
                "@documentuniqueid" => Lhs::Unid,
                _ => return Err(syntax(format!("unknown term {w}"))),
            },
            Some(Tok::Word(w)) => {
                if ["and", "or", "not", "in", "contains", "all"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k))
                {
                    return Err(syntax(format!("expected a term, found {w}")));
                }
                Lhs::Item(w)
            }
            Some(Tok::Str(view)) if self.peek() == Some(&Tok::Dot) => {
                return Err(DqlError::NotSimulated(format!(
                    "view column terms ('{view}'.column) are not simulated"
                )));
            }
            Some(t) => return Err(syntax(format!("expected a term, found {t:?}"))),
            None => return Err(syntax("expected a term, found the end of the query")),
        };
        let expr = match self.next() {
            Some(Tok::Op(op)) => {
                let v = self.value()?;
                Expr::Cmp(lhs.clone(), op, v)
            }
            Some(Tok::Word(w))
                if w.eq_ignore_ascii_case("in") || w.eq_ignore_ascii_case("contains") =>
            {
                let all = self.keyword("all");
                if all {
                    self.pos += 1;
                }
                let values = self.list()?;
                if w.eq_ignore_ascii_case("in") {
                    Expr::In {
                        lhs: lhs.clone(),
                        all,
                        values,
                    }
                } else {
                    Expr::Contains {
                        lhs: lhs.clone(),
                        all,
                        values,
                    }
                }
            }
            Some(t) => return Err(syntax(format!("expected an operator, found {t:?}"))),
            None => return Err(syntax("expected an operator, found the end of the query")),
        };
        // Time terms only compare with @dt values.
        if matches!(lhs, Lhs::Modified | Lhs::Created) {
            let times_only = match &expr {
                Expr::Cmp(_, _, v) => matches!(v, Val::Time(_)),
                Expr::In { values, .. } | Expr::Contains { values, .. } => {
                    values.iter().all(|v| matches!(v, Val::Time(_)))
                }
                _ => true,
            };
            if !times_only {
                return Err(syntax(
                    "@ModifiedInThisFile and @Created compare with @dt('…')",
                ));
            }
        }
        Ok(expr)
    }

    fn list(&mut self) -> Result<Vec<Val>, DqlError> {
        if self.next() != Some(Tok::Open) {
            return Err(syntax("expected ( after in/contains"));
        }
        let mut values = vec![self.value()?];
        loop {
            match self.next() {
                Some(Tok::Comma) => values.push(self.value()?),
                Some(Tok::Close) => return Ok(values),
                _ => return Err(syntax("expected , or ) in a value list")),
            }
        }
    }

    fn value(&mut self) -> Result<Val, DqlError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Val::Text(s)),
            Some(Tok::Num(n)) => Ok(Val::Num(n)),
            Some(Tok::Var(name)) => match self.vars.get(&name) {
                Some(Value::String(s)) => Ok(Val::Text(s.clone())),
                Some(Value::Number(n)) => Ok(Val::Num(n.as_f64().unwrap_or(0.0))),
                Some(Value::Bool(b)) => Ok(Val::Num(if *b { 1.0 } else { 0.0 })),
                _ => Err(syntax(format!("variable {name} is not defined"))),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("@dt") => {
                if self.next() != Some(Tok::Open) {
                    return Err(syntax("expected ( after @dt"));
                }
                let Some(Tok::Str(text)) = self.next() else {
                    return Err(syntax("@dt takes a quoted date"));
                };
                if self.next() != Some(Tok::Close) {
                    return Err(syntax("expected ) after the @dt date"));
                }
                parse_dt(&text)
                    .map(Val::Time)
                    .ok_or_else(|| syntax(format!("invalid date {text:?} in @dt")))
            }
            Some(t) => Err(syntax(format!("expected a value, found {t:?}"))),
            None => Err(syntax("expected a value, found the end of the query")),
        }
    }
}

/// A `@dt` date: RFC 3339 (fraction and offset kept), a local date-time as UTC, or a date
/// (midnight UTC).
fn parse_dt(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Parse a query with its `variables`.
pub(crate) fn parse(query: &str, vars: &Map<String, Value>) -> Result<Expr, DqlError> {
    let toks = lex(query)?;
    if toks.is_empty() {
        return Err(syntax("the query is empty"));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        vars,
        depth: 0,
    };
    let e = p.expr()?;
    if p.pos < p.toks.len() {
        return Err(syntax(format!(
            "unexpected {:?} after the end of the query",
            p.toks[p.pos]
        )));
    }
    Ok(e)
}

/// The earliest modification time a match can have, when the query says so at its top level
/// (`… and @ModifiedInThisFile > @dt(…)`): the store reads only what changed after it.
pub(crate) fn modified_floor(e: &Expr) -> Option<DateTime<Utc>> {
    match e {
        Expr::Cmp(Lhs::Modified, Op::Gt | Op::Ge, Val::Time(t)) => Some(*t),
        Expr::And(a, b) => match (modified_floor(a), modified_floor(b)) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        },
        _ => None,
    }
}

fn cmp_f64(a: f64, op: Op, b: f64) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        Op::Lt => a < b,
        Op::Le => a <= b,
    }
}

fn cmp_ord(o: std::cmp::Ordering, op: Op) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match op {
        Op::Eq => o == Equal,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
        Op::Lt => o == Less,
        Op::Le => o != Greater,
    }
}

/// The values a term sees in a document, as query values.
fn values_of(doc: &Document, lhs: &Lhs) -> Vec<Val> {
    match lhs {
        Lhs::Modified => vec![Val::Time(doc.modified)],
        Lhs::Created => vec![Val::Time(doc.created)],
        Lhs::Unid => vec![Val::Text(doc.unid.clone())],
        Lhs::Item(name) => match doc.get(name) {
            None => Vec::new(),
            Some(ItemValue::Text(v) | ItemValue::Names(v)) => {
                v.iter().map(|s| Val::Text(s.clone())).collect()
            }
            Some(ItemValue::Number(v)) => v.iter().map(|n| Val::Num(*n)).collect(),
            Some(ItemValue::Time(v)) => v
                .iter()
                .filter_map(|t| match t {
                    NotesTime::DateTime(t) => Some(Val::Time(*t)),
                    NotesTime::Date(d) => d.and_hms_opt(0, 0, 0).map(|t| Val::Time(t.and_utc())),
                    NotesTime::Time(_) => None,
                })
                .collect(),
            Some(ItemValue::RichText(_)) => Vec::new(),
        },
    }
}

fn compare(have: &Val, op: Op, want: &Val) -> bool {
    match (have, want) {
        (Val::Text(a), Val::Text(b)) => cmp_ord(a.to_lowercase().cmp(&b.to_lowercase()), op),
        (Val::Num(a), Val::Num(b)) => cmp_f64(*a, op, *b),
        (Val::Time(a), Val::Time(b)) => cmp_ord(a.cmp(b), op),
        _ => false,
    }
}

fn contains(have: &Val, want: &Val) -> bool {
    match (have, want) {
        (Val::Text(a), Val::Text(b)) => a.to_lowercase().contains(&b.to_lowercase()),
        _ => compare(have, Op::Eq, want),
    }
}

/// Whether a document matches.
pub(crate) fn matches(e: &Expr, doc: &Document) -> bool {
    match e {
        Expr::All => true,
        Expr::Not(x) => !matches(x, doc),
        Expr::And(a, b) => matches(a, doc) && matches(b, doc),
        Expr::Or(a, b) => matches(a, doc) || matches(b, doc),
        Expr::Cmp(lhs, op, v) => values_of(doc, lhs).iter().any(|h| compare(h, *op, v)),
        Expr::In { lhs, all, values } => {
            let have = values_of(doc, lhs);
            let found = |w: &Val| have.iter().any(|h| compare(h, Op::Eq, w));
            if *all {
                values.iter().all(found)
            } else {
                values.iter().any(found)
            }
        }
        Expr::Contains { lhs, all, values } => {
            let have = values_of(doc, lhs);
            let found = |w: &Val| have.iter().any(|h| contains(h, w));
            if *all {
                values.iter().all(found)
            } else {
                values.iter().any(found)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(q: &str) -> Result<Expr, DqlError> {
        parse(q, &Map::new())
    }

    fn doc(form: &str, modified: &str) -> Document {
        Document {
            unid: "A".repeat(32),
            modified: parse_dt(modified).unwrap(),
            items: vec![
                ("Form".into(), ItemValue::text(form)),
                (
                    "Categories".into(),
                    ItemValue::Text(vec!["VIP".into(), "Partner".into()]),
                ),
            ],
            ..Document::default()
        }
    }

    #[test]
    fn since_queries_compare_at_the_precision_given() {
        let d = doc("Person", "2025-05-01T10:00:00Z");
        let q = |s: &str| matches(&p(s).unwrap(), &d);
        assert!(!q("@ModifiedInThisFile > @dt('2025-05-01T10:00:00Z')"));
        assert!(q("@ModifiedInThisFile >= @dt('2025-05-01T10:00:00Z')"));
        assert!(q("@ModifiedInThisFile > @dt('2025-05-01T09:59:59.99Z')"));
        assert!(!q("@ModifiedInThisFile > @dt('2025-05-01T10:00:00.01Z')"));
        assert!(q("@modifiedinthisfile > @dt('2025-05-01T11:59:59+02:00')"));
        assert!(q("@ModifiedInThisFile > @dt('2025-05-01')"));
        assert!(q(
            "Form = 'person' and @ModifiedInThisFile > @dt('2025-05-01T09:00:00')"
        ));
        assert!(!q(
            "Form = 'Task' or not @ModifiedInThisFile > @dt('2025-01-01')"
        ));
        assert!(q(
            "(Form = 'Task' or Form = 'Person') and not Form = 'Task'"
        ));
        assert!(q("Categories in ('vip')"));
        assert!(!q("Categories in all ('VIP', 'Other')"));
        assert!(q("Categories contains all ('art', 'vi')"));
        assert!(q("@All"));
        assert_eq!(
            modified_floor(&p("Form = 'x' and @ModifiedInThisFile > @dt('2025-05-01')").unwrap()),
            parse_dt("2025-05-01")
        );
    }

    #[test]
    fn bad_queries_are_refused_without_panicking() {
        for q in [
            "",
            "@Modified > @dt('2025-01-01')",
            "Form =",
            "Form = 'x' and",
            "(Form = 'x'",
            "Form 'x'",
            "@ModifiedInThisFile > '2025'",
            "@ModifiedInThisFile > @dt('yesterday')",
            "Form = ?Missing",
            "Form = 'unterminated",
            "a = 1 b = 2",
            "Form ~ 'x'",
        ] {
            assert!(matches!(p(q), Err(DqlError::Syntax(_))), "{q}");
        }
        assert!(matches!(
            p("'People'.LastName = 'x'"),
            Err(DqlError::NotSimulated(_))
        ));
        let deep = format!("{}Form = 'x'{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(p(&deep).is_err());
        let nots = format!("{}Form = 'x'", "not ".repeat(10_000));
        assert!(p(&nots).is_err());
        let vars = json!({"Color":"Red"});
        let vars = vars.as_object().unwrap();
        assert_eq!(
            parse("Color = ?Color", vars).unwrap(),
            Expr::Cmp(Lhs::Item("Color".into()), Op::Eq, Val::Text("Red".into()))
        );
    }
}
