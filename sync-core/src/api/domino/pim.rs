//! The Domino REST API's PIM calendar (`reference/domino-rest-api.md` §5): the user's own
//! mailbox (`/api/pim-v1/calendar/default`, no scope or schema), in JSCalendar form
//! ([`crate::mapping::jscal`]).
//!
//! - The window is listed in one call by days (`startdate`, `enddate` inclusive), and each
//!   entry carries everything the mapping reads: nothing is read again but linked events that
//!   left the window.
//! - Occurrences of a series come as entries of their own (`uid` and `recurrenceId`), as DAS
//!   lists them. PIM has no address for one occurrence: an occurrence is changed or deleted by
//!   writing its series back with a `recurrenceOverrides` entry. A server that lists a series
//!   as one entry (with `recurrenceRules`) is refused with a message: its occurrences cannot be
//!   told apart.
//! - Every write passes `send=false`, so a sync never sends invitations; a delete has no
//!   `send` and removes the entry and its replies.

use serde_json::Value;

use super::rest::rest_message;
use super::{CalendarApi, Call, EventsPage};
use crate::api::parse_json;
use crate::http::{HttpResponse, encode};
use crate::mapping::MapCtx;
use crate::mapping::jscal::{
    jscal_event, jscal_exclude, jscal_key, jscal_occurrence, jscal_update, record_from_jscal,
};
use crate::model::{Fields, Record};
use crate::time::Timestamp;

/// The PIM calendar of the signed-in user.
#[derive(Debug, Default)]
pub(crate) struct Pim;

/// The calendar's path, with `rest` after `default`.
fn calendar(rest: &str) -> String {
    format!("/api/pim-v1/calendar/default{rest}")
}

/// The entry `uid` of a key `uid` or `uid/recurrenceId`.
fn entry_path(key: &str, query: &str) -> String {
    let uid = key.split_once('/').map_or(key, |(u, _)| u);
    calendar(&format!("/{}{query}", encode(uid)))
}

impl CalendarApi for Pim {
    fn events_page_call(&self, (since, before): (Timestamp, Timestamp), _start: usize) -> Call {
        // Whole UTC days covering the window; entries outside it are left out afterwards.
        let first = &since.to_das()[..10];
        let last = before.plus_ms(-1).to_das();
        Call::get(calendar(&format!(
            "?startdate={first}&enddate={}",
            &last[..10]
        )))
    }

    fn events_page_size(&self) -> Option<usize> {
        None
    }

    fn event_rows_complete(&self) -> bool {
        true
    }

    fn rewritten_entry<'k>(&self, key: &'k str) -> Option<&'k str> {
        // Writes PUT the whole entry (a series with all its overrides).
        Some(key.split_once('/').map_or(key, |(uid, _)| uid))
    }

    fn event_holds_xref(&self) -> bool {
        false // JSCalendar has no place for it.
    }

    fn events_page(&self, resp: &HttpResponse, _ctx: &MapCtx) -> Result<EventsPage, String> {
        let refused = || {
            format!(
                "IBM Notes failed listing calendar events: {} (HTTP {})",
                rest_message(resp),
                resp.status
            )
        };
        let Some(Value::Array(entries)) = parse_json(resp).filter(|_| resp.status == 200) else {
            return Err(refused());
        };
        let mut rows = Vec::with_capacity(entries.len());
        for ev in &entries {
            if ev.get("recurrenceRules").is_some_and(|r| !r.is_null()) {
                return Err(format!(
                    "the Domino REST API lists the recurring series {:?} as one entry, so its \
                     occurrences cannot be synced one by one; sync events through Domino Access \
                     Services ([domino] api = \"das\")",
                    ev.get("title").and_then(Value::as_str).unwrap_or_default()
                ));
            }
            if let Some(key) = jscal_key(ev) {
                rows.push((key, record_from_jscal(ev)));
            }
        }
        Ok(EventsPage {
            rows,
            len: entries.len(),
        })
    }

    fn event_read_call(&self, key: &str) -> Call {
        Call::get(entry_path(key, ""))
    }

    fn event_read(&self, key: &str, resp: &HttpResponse, _ctx: &MapCtx) -> Option<Option<Record>> {
        if resp.status == 404 {
            return Some(None);
        }
        let body = parse_json(resp).filter(|_| resp.status == 200)?;
        Some(match key.split_once('/') {
            Some((_, rid)) => jscal_occurrence(&body, rid),
            None => Some(record_from_jscal(&body)),
        })
    }

    fn event_update_call(
        &self,
        key: &str,
        current: &HttpResponse,
        fields: &Fields,
        _xref: Option<&str>,
    ) -> Option<Call> {
        let body = parse_json(current).filter(|_| current.status == 200)?;
        let entry = jscal_update(&body, key, fields)?;
        Some(Call::with_body(
            "PUT",
            entry_path(key, "?send=false"),
            entry,
        ))
    }

    fn event_create_call(&self, fields: &Fields, _xref: Option<&str>) -> Call {
        Call::with_body("POST", calendar("?send=false"), jscal_event(fields))
    }

    fn event_created(&self, resp: &HttpResponse) -> Option<Result<String, String>> {
        let body = parse_json(resp).filter(|_| resp.status == 200)?;
        Some(jscal_key(&body).ok_or_else(|| {
            "IBM Notes (Domino REST API) created the event but sent no uid".to_owned()
        }))
    }

    fn event_delete_call(&self, key: &str) -> Option<Call> {
        // An occurrence is excluded through its series: read first.
        (!key.contains('/')).then(|| Call {
            method: "DELETE",
            path: entry_path(key, ""),
            body: None,
        })
    }

    fn event_delete_after_read(&self, key: &str, current: &HttpResponse) -> Option<Call> {
        let (_, rid) = key.split_once('/')?;
        let body = parse_json(current).filter(|_| current.status == 200)?;
        let series = jscal_exclude(&body, rid)?;
        Some(Call::with_body(
            "PUT",
            entry_path(key, "?send=false"),
            series,
        ))
    }

    fn event_deleted(&self, resp: &HttpResponse) -> bool {
        matches!(resp.status, 200 | 404)
    }
}
