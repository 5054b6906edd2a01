//! Calendar events: the calendar service's list of the window, full reads of what the list
//! rows cannot settle, and the read before each event update (merged, then PUT back).

use super::*;

impl Engine {
    /// Events: read in full what the list rows cannot settle, and look up linked events that
    /// vanished from the window (deleted, or moved out of it: B3).
    pub(super) fn start_fetching_events(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        run.phase = Phase::Fetching;
        let Some((since, before)) = run.window else {
            return;
        };
        let tz = self.ctx.tz;
        let notes_cursor = self
            .state
            .modules
            .get(&Module::Events)
            .and_then(|m| m.notes_cursor);
        // Events hold their bases (they place linked events in the calendar window).
        let all_links: Vec<Link> = (0..run.index.len())
            .filter_map(|i| run.index.link(i))
            .collect();
        let links: BTreeMap<&str, &Link> =
            all_links.iter().map(|l| (l.unid.0.as_str(), l)).collect();
        // Summary rows settle an unchanged event only while the last full read is recent:
        // description, attendees and alarms are not in the rows. An event whose backing
        // document changed since the last run (`documents?since=`) is read whatever its row
        // says: a Notes-generated UID is the document's UNID followed by
        // `-Lotus_Notes_Generated`, so description-, attendee- and alarm-only edits arrive at
        // the next run. Events with other UIDs (e.g. invitations) wait for the daily full read.
        let doc_changed = |key: &str| {
            let uid = key.split('/').next().unwrap_or(key);
            uid.split_once('-').is_some_and(|(unid, _)| {
                run.notes_changed.contains(unid)
                    || run.notes_changed.contains(&unid.to_ascii_uppercase())
            })
        };
        let fresh =
            run.notes_incremental && notes_cursor.is_some_and(|c| self.now.0 - c.0 < 86_400_000);
        let in_window = |start: Option<&str>| {
            start.is_some_and(|s| calendar::starts_within(s, since, before, tz))
        };
        let mut reads = Vec::new();
        for (key, row) in &run.notes_rows {
            let summary_same = links.get(key.as_str()).is_some_and(|l| {
                calendar::NOTES_SUMMARY_FIELDS
                    .iter()
                    .all(|f| row.fields.get(f) == l.base.get(f))
            });
            if row.private {
                run.notes.records.insert(key.clone(), row.clone());
            } else if fresh && summary_same && !doc_changed(key) {
                run.notes.unchanged.insert(key.clone());
            } else {
                reads.push(key.clone());
            }
        }
        for (key, link) in &links {
            if run.notes_rows.contains_key(*key) {
                continue;
            }
            if in_window(link.base.get("start")) {
                reads.push((*key).to_owned()); // 404: deleted; 200: moved out of the window.
            } else {
                run.notes.unchanged.insert((*key).to_owned()); // Out of the window: dormant.
            }
        }
        // CRM: unlinked records outside the window are not synced; linked ones outside it on
        // both the base and now are dormant.
        let crm_links: BTreeMap<&str, &Link> = all_links
            .iter()
            .map(|l| (l.zoho_id.0.as_str(), l))
            .collect();
        let ids: Vec<String> = run.crm.records.keys().cloned().collect();
        for id in ids {
            let now_in = run
                .crm
                .records
                .get(&id)
                .is_some_and(|r| in_window(r.fields.get("start")));
            match crm_links.get(id.as_str()) {
                None if !now_in => {
                    run.crm.records.remove(&id);
                }
                Some(l) if !now_in && !in_window(l.base.get("start")) => {
                    run.crm.records.remove(&id);
                    run.crm.unchanged.insert(id);
                }
                None | Some(_) => {}
            }
        }
        if run.crm.complete {
            for (id, l) in &crm_links {
                if !run.crm.records.contains_key(*id) && !in_window(l.base.get("start")) {
                    run.crm.unchanged.insert((*id).to_owned());
                }
            }
        }
        run.windows.to_read = reads
            .into_iter()
            .map(|key| window::Read::Event { key })
            .collect();
        self.start_windows();
    }

    pub(super) fn on_events_page(
        &mut self,
        start: usize,
        resp: &HttpResponse,
        server_time: Timestamp,
    ) {
        if resp.status != 200 {
            self.fail_module(notes_error_text("listing calendar events", resp));
            return;
        }
        // An empty window is 200 with no body at all.
        let body = if resp.body.trim().is_empty() {
            json!({"events": []})
        } else {
            match parse_json(resp) {
                Some(b) => b,
                None => {
                    self.fail_module(notes_error_text("listing calendar events", resp));
                    return;
                }
            }
        };
        let zones = CalZones::from_answer(&body);
        let Some(run) = self.run.as_mut() else { return };
        if start == 0 {
            run.notes_cursor_next
                .get_or_insert(server_time.plus_ms(-CURSOR_OVERLAP_MS));
        }
        let events = body
            .get("events")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for ev in &events {
            let Some(id) = ev.get("id").and_then(Value::as_str) else {
                continue;
            };
            let key = match ev.get("recurrenceId").and_then(Value::as_str) {
                Some(rid) => format!("{id}/{rid}"),
                None => id.to_owned(),
            };
            run.notes_rows
                .insert(key, calendar::record_from_notes_event(ev, &zones, None));
        }
        if events.len() == NOTES_PAGE
            && let Some(window) = run.window
        {
            let path = self.config.events_list_path(window, start + NOTES_PAGE);
            self.enqueue(
                Side::Notes,
                "GET",
                path,
                None,
                Purpose::NotesEventsPage {
                    start: start + NOTES_PAGE,
                },
            );
        }
    }

    pub(super) fn on_event_read(&mut self, key: String, resp: &HttpResponse) {
        if resp.status == 404 {
            return; // Deleted: absent from a complete snapshot, so gone.
        }
        let Some(body) = parse_json(resp).filter(|_| resp.status == 200) else {
            self.fail_module(notes_error_text("reading a calendar event", resp));
            return;
        };
        let zones = CalZones::from_answer(&body);
        if let (Some(ev), Some(run)) = (event_instance(&body, &key), self.run.as_mut()) {
            run.notes
                .records
                .insert(key, calendar::record_from_notes_event(ev, &zones, None));
        }
    }

    /// The event read before an update: merge and PUT it (the same write, still pending).
    pub(super) fn on_event_prefetch(
        &mut self,
        item: usize,
        backlink: bool,
        key: &str,
        fields: &Fields,
        zid: Option<&str>,
        resp: &HttpResponse,
    ) {
        let Some(body) = parse_json(resp).filter(|_| resp.status == 200) else {
            let t = is_transient(resp.status) || backlink;
            self.item_error(
                item,
                &notes_error_text("reading an event before updating it", resp),
                t,
            );
            return;
        };
        let raw = event_instance(&body, key).cloned().unwrap_or(Value::Null);
        let mut put = json!({"events": [calendar::merge_notes_event(&raw, fields, zid)]});
        if let Some(tz) = body.get("timezones") {
            put["timezones"] = tz.clone();
        }
        let path = self.config.event_path(key, "?workflow=false");
        self.enqueue(
            Side::Notes,
            "PUT",
            path,
            Some(put),
            Purpose::NotesUpdate { item, backlink },
        );
    }
}

/// The event of a calendar answer that key `uid` or `uid/recurrenceId` names: the instance with
/// that recurrence id, else the first event.
fn event_instance<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    let rid = key.split_once('/').map(|(_, r)| r);
    let events = body.get("events")?.as_array()?;
    events
        .iter()
        .find(|e| e.get("recurrenceId").and_then(Value::as_str) == rid)
        .or_else(|| events.first())
}
