//! The untranslated-text check: what a Japanese user reads on a screen has no English in it.
//!
//! It collects the text the page shows inside the widget (rendered text, every option of every
//! list, and the `aria-label`, `title` and `placeholder` a screen reader or tooltip gives), minus
//! what is data rather than wording: elements marked `translate="no"` (record labels, e-mail
//! addresses, the server's own words folded under "技術的な詳細"), URLs, e-mail addresses and
//! Domino view names like `($ToDo)`. Any Latin word left must be a product name or a value on
//! [`ALLOWED`].

use anyhow::{Result, ensure};
use serde_json::{Value, json};

use crate::webdriver::Session;

/// Product names, key names and values that stay Latin in Japanese text.
pub const ALLOWED: &[&str] = &[
    "IBM",
    "Notes",
    "Zoho",
    "CRM",
    "Domino",
    "DAS",
    "Designer",
    "Web",
    "Engine",
    "To",
    "Do",
    "OK",
    "API",
    "REST",
    "DQL",
    "PIM",
    "Enter",
    "Notes_UNID",
    "English",
];

const COLLECT: &str = r#"
const root = document.querySelector('main.nzsync');
const out = [];
if (!root) return out;
const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const n = walker.currentNode, el = n.parentElement;
  if (!n.textContent.trim() || el.closest('[translate=no]')) continue;
  if (el.closest('option')) { out.push(n.textContent); continue; }
  if (!el.getClientRects().length) continue;
  out.push(n.textContent);
}
for (const el of root.querySelectorAll('[aria-label], [title], [placeholder]')) {
  if (el.closest('[translate=no]')) continue;
  for (const a of ['aria-label', 'title', 'placeholder']) {
    const v = el.getAttribute(a);
    if (v) out.push(v);
  }
}
return out;
"#;

/// The Latin words of `text` that are not data and not [`ALLOWED`].
pub fn untranslated(text: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let is_run = |c: char| c.is_ascii_alphanumeric() || "_.:/@$()+-%?=&#'".contains(c);
    for run in text.split(|c: char| !is_run(c)).filter(|r| !r.is_empty()) {
        // Values: URLs, e-mail addresses, Domino view names.
        if run.contains("://") || run.contains('@') || run.contains('$') {
            continue;
        }
        for word in run.split(|c: char| !(c.is_ascii_alphabetic() || c == '_')) {
            if word.chars().any(|c| c.is_ascii_alphabetic()) && !ALLOWED.contains(&word) {
                bad.push(word.to_owned());
            }
        }
    }
    bad
}

/// Fails when the screen shows untranslated (Latin) words in Japanese; `screen` names it in
/// the message.
pub async fn assert_japanese(s: &Session, screen: &str) -> Result<()> {
    let texts = s.exec(COLLECT, json!([])).await?;
    let texts: Vec<&str> = texts
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    ensure!(!texts.is_empty(), "{screen}: nothing on the screen");
    let mut bad: Vec<String> = Vec::new();
    for t in &texts {
        for w in untranslated(t) {
            bad.push(format!("{w:?} in {t:?}"));
        }
    }
    ensure!(
        bad.is_empty(),
        "{screen}: untranslated text in Japanese: {bad:#?}"
    );
    Ok(())
}

#[test]
fn the_check_tells_wording_from_values() {
    assert!(untranslated("「Domino Web Engine」で、DASを有効にします。").is_empty());
    assert!(untranslated("例: https://mail.example.com (http:// または https://)").is_empty());
    assert!(untranslated("ビュー($ToDo)で demo@example.com").is_empty());
    assert_eq!(untranslated("同期を開始する: failed"), ["failed"]);
    assert_eq!(untranslated("Server Name"), ["Server", "Name"]);
}
