//! To-dos: Notes `Task` ↔ Zoho `Tasks` — the field table, the older item a due date may be
//! held in, and a to-do's label and first-sync key.

use super::values::{Conv, FieldMap, c};
use crate::model::Fields;

/// To-dos: Notes `Task` ↔ Zoho `Tasks`.
pub const TASK_FIELDS: &[FieldMap] = &[
    c("subject", "Subject", "Subject", Conv::RequiredInCrm),
    c("description", "Body", "Description", Conv::RichText),
    c("due_date", "DueDateTime", "Due_Date", Conv::Day),
    c("priority", "Importance", "Priority", Conv::Priority),
    c("completed", "CompletedDateTime", "Status", Conv::Completed),
];

/// Another item that holds the same value when the first is absent.
pub(super) fn fallback_item(item: &str) -> Option<&'static str> {
    match item {
        "DueDateTime" => Some("DueDate"),
        _ => None,
    }
}

/// "Call back (2026-11-25)".
pub(super) fn label(fields: &Fields) -> String {
    let subject = fields.get("subject").unwrap_or("(no subject)");
    match fields.get("due_date") {
        Some(d) => format!("{subject} ({d})"),
        None => subject.to_owned(),
    }
}

/// First-sync key: subject (case-insensitive) and due date.
pub(super) fn match_key(fields: &Fields) -> Option<String> {
    let subject = fields.get("subject")?.to_lowercase();
    Some(format!(
        "{subject}\u{1f}{}",
        fields.get("due_date").unwrap_or_default()
    ))
}
