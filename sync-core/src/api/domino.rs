//! Domino Access Services: paths, and the words for its answers (`reference/domino-api.md`).

use serde_json::Value;

use super::parse_json;
use crate::engine::{EngineConfig, NOTES_PAGE};
use crate::http::{HttpResponse, encode, encode_path};
use crate::model::Module;
use crate::time::Timestamp;

/// One entry of `documents?since=…`: only its UNID is read (`@modified` and `@href` are
/// skipped without being kept).
#[derive(serde::Deserialize)]
struct ChangedDoc<'a> {
    #[serde(rename = "@unid", borrow, default)]
    unid: Option<std::borrow::Cow<'a, str>>,
}

/// The UNIDs of a `documents?since=…` answer (`reference/domino-api.md` §3: every data document
/// of the file modified since then, all forms, in one unpaged answer), each given to `each`;
/// `None` when the body is not that list. The answer of a large mail file is tens of
/// megabytes, so it is read entry by entry into what the caller keeps, never into a JSON tree.
pub(crate) fn changed_unids(body: &str, mut each: impl FnMut(&str)) -> Option<()> {
    let docs: Vec<ChangedDoc<'_>> = serde_json::from_str(body).ok()?;
    for d in &docs {
        if let Some(u) = &d.unid {
            each(u);
        }
    }
    Some(())
}

impl EngineConfig {
    pub(crate) fn notes_db_path(&self, rest: &str) -> String {
        format!(
            "/{}/api/data/{rest}",
            encode_path(self.mail_db.trim_matches('/'))
        )
    }

    pub(crate) fn notes_cal_path(&self, rest: &str) -> String {
        format!(
            "/{}/api/calendar/{rest}",
            encode_path(self.mail_db.trim_matches('/'))
        )
    }

    /// `events/{uid}` or `events/{uid}/{recurrenceId}` for a Notes event key.
    pub(crate) fn event_path(&self, key: &str, query: &str) -> String {
        let segs: Vec<String> = key.split('/').map(encode).collect();
        self.notes_cal_path(&format!("events/{}{query}", segs.join("/")))
    }

    pub(crate) fn events_list_path(
        &self,
        (since, before): (Timestamp, Timestamp),
        start: usize,
    ) -> String {
        self.notes_cal_path(&format!(
            "events?since={}&before={}&start={start}&count={NOTES_PAGE}",
            encode(&since.to_das()),
            encode(&before.to_das())
        ))
    }

    pub(crate) fn view_path(&self, module: Module, start: usize) -> String {
        let view = match module {
            Module::Contacts => &self.contacts_view,
            Module::Tasks => &self.tasks_view,
            // Events are listed by the calendar service, not a view.
            Module::Events => "($Calendar)",
        };
        self.notes_db_path(&format!(
            "collections/name/{}?start={start}&count={NOTES_PAGE}",
            encode(view)
        ))
    }
}

pub(crate) fn das_message(resp: &HttpResponse) -> String {
    parse_json(resp)
        .and_then(|b| {
            b.get("message")
                .or_else(|| b.get("text"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| format!("HTTP {}", resp.status))
}

/// The admin step that fixes a DAS refusal (`DESIGN.md` F2, the seed's menu paths).
#[must_use]
pub fn das_hint(message: &str) -> &'static str {
    if message.contains("not enabled for this database")
        || message.contains("Cannot access resource")
    {
        " — ask the Domino admin to open the mail file's properties in Domino Designer, Advanced \
         tab, and set \"Allow Domino Data Service\" to \"Views and documents\""
    } else if message.contains("not enabled for this view") {
        " — ask the Domino admin to open the view's properties in Domino Designer, Advanced tab, \
         and enable \"Allow Domino Data Service operations\""
    } else if message == "Forbidden" || message == "HTTP 403" {
        " — ask the Domino admin to enable Data and Calendar under Current Server Document → \
         Internet Protocols → Domino Web Engine → Domino Access Services → Enabled services"
    } else {
        ""
    }
}

pub(crate) fn notes_error_text(doing: &str, resp: &HttpResponse) -> String {
    format!(
        "IBM Notes failed {doing}: {} (HTTP {})",
        das_message(resp),
        resp.status
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_documents_give_their_unids_and_anything_else_is_refused() {
        let body = r#"[{"@modified":"2026-12-05T01:00:00Z","@unid":"AB12","@href":"/x"},
                       {"@href":"/no-unid"},{"@unid":"CD\u0033\u0034"}]"#;
        let mut got = Vec::new();
        assert_eq!(changed_unids(body, |u| got.push(u.to_owned())), Some(()));
        assert_eq!(got, ["AB12", "CD34"]);
        assert_eq!(changed_unids("[]", |_| panic!("no entry")), Some(()));
        for bad in ["", "{}", "[1]", r#"[{"@unid":7}]"#, "[{"] {
            assert_eq!(changed_unids(bad, |_| {}), None, "{bad}");
        }
    }
}
