//! Calendar events: the list of the window, full reads of what the list rows cannot settle
//! (where rows are summaries), and the read before each event update (merged, then written
//! back). What the requests look like is the Domino API's business (`crate::api::domino`).

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
                run.notes_changed.contains(&run.index, unid)
                    || run
                        .notes_changed
                        .contains(&run.index, &unid.to_ascii_uppercase())
            })
        };
        let fresh =
            run.notes_incremental && notes_cursor.is_some_and(|c| self.now.0 - c.0 < 86_400_000);
        let in_window = |start: Option<&str>| {
            start.is_some_and(|s| calendar::starts_within(s, since, before, tz))
        };
        let complete = self
            .notes
            .calendar()
            .is_some_and(|c| c.event_rows_complete());
        let mut reads = Vec::new();
        for (key, row) in &run.notes_rows {
            let summary_same = links.get(key.as_str()).is_some_and(|l| {
                calendar::NOTES_SUMMARY_FIELDS
                    .iter()
                    .all(|f| row.fields.get(f) == l.base.get(f))
            });
            if row.private || complete {
                // Rows that carry everything are the records themselves.
                run.notes.records.insert(key.clone(), row.clone());
            } else if fresh && summary_same && !doc_changed(key) {
                run.notes.unchanged.insert(&run.index, key);
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
                run.notes.unchanged.insert(&run.index, key); // Out of the window: dormant.
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
                    run.crm.unchanged.insert(&run.index, &id);
                }
                None | Some(_) => {}
            }
        }
        if run.crm.complete {
            for (id, l) in &crm_links {
                if !run.crm.records.contains_key(*id) && !in_window(l.base.get("start")) {
                    run.crm.unchanged.insert(&run.index, id);
                }
            }
        }
        run.windows.to_read = read_queue::ReadQueue::of(
            reads
                .into_iter()
                .map(|key| window::Read::Event { key })
                .collect(),
        );
        self.start_windows();
    }

    pub(super) fn on_events_page(
        &mut self,
        start: usize,
        resp: &HttpResponse,
        server_time: Timestamp,
    ) {
        let Some(cal) = self.notes.calendar() else {
            return;
        };
        let page = match cal.events_page(resp, &self.ctx) {
            Ok(page) => page,
            Err(msg) => {
                self.fail_module(msg);
                return;
            }
        };
        let size = cal.events_page_size();
        // Rows listed by whole days may start outside the window: they are not its events.
        let exact = cal.event_rows_complete();
        let tz = self.ctx.tz;
        let Some(run) = self.run.as_mut() else { return };
        if start == 0 {
            run.notes_cursor_next
                .get_or_insert(server_time.plus_ms(-CURSOR_OVERLAP_MS));
        }
        let holds_xref = cal.event_holds_xref();
        for (key, mut rec) in page.rows {
            if !holds_xref {
                rec.xref = run
                    .index
                    .by_unid(&key)
                    .and_then(|i| run.index.get(i))
                    .map(|e| e.zid.to_string());
            }
            let outside = exact
                && run.window.is_some_and(|(since, before)| {
                    !rec.fields
                        .get("start")
                        .is_some_and(|s| calendar::starts_within(s, since, before, tz))
                });
            if !outside {
                run.notes_rows.insert(key, rec);
            }
        }
        if let Some(size) = size
            && page.len == size
            && let Some(window) = run.window
            && let Some(cal) = self.notes.calendar()
        {
            let call = cal.events_page_call(window, start + size);
            self.enqueue_notes(
                call,
                Purpose::NotesEventsPage {
                    start: start + size,
                },
            );
        }
    }

    pub(super) fn on_event_read(&mut self, key: String, resp: &HttpResponse) {
        let read = self
            .notes
            .calendar()
            .and_then(|c| c.event_read(&key, resp, &self.ctx));
        let Some(read) = read else {
            let msg = self.notes.error_text("reading a calendar event", resp);
            self.fail_module(msg);
            return;
        };
        let holds_xref = self.notes.calendar().is_none_or(|c| c.event_holds_xref());
        // Gone: absent from a complete snapshot, so deleted.
        if let (Some(mut rec), Some(run)) = (read, self.run.as_mut()) {
            if !holds_xref {
                rec.xref = run
                    .index
                    .by_unid(&key)
                    .and_then(|i| run.index.get(i))
                    .map(|e| e.zid.to_string());
            }
            run.notes.records.insert(key, rec);
        }
    }

    /// The event read before an update: merge and write it (the same write, still pending).
    pub(super) fn on_event_prefetch(
        &mut self,
        item: usize,
        backlink: bool,
        key: &str,
        fields: &Fields,
        zid: Option<&str>,
        resp: &HttpResponse,
    ) {
        let call = self
            .notes
            .calendar()
            .and_then(|c| c.event_update_call(key, resp, fields, zid));
        match call {
            Some(call) => self.enqueue_notes(call, Purpose::NotesUpdate { item, backlink }),
            None => {
                let t = is_transient(resp.status) || backlink;
                let msg = self
                    .notes
                    .error_text("reading an event before updating it", resp);
                self.item_error(item, &msg, t);
                self.event_write_done(item);
            }
        }
    }

    /// The event read before one of its occurrences is deleted: write the deletion (the same
    /// write, still pending). An event already gone is what the delete wanted.
    pub(super) fn on_event_delete_prefetch(&mut self, item: usize, key: &str, resp: &HttpResponse) {
        if resp.status == 404 {
            self.item_ok(item);
            self.event_write_done(item);
            return;
        }
        let call = self
            .notes
            .calendar()
            .and_then(|c| c.event_delete_after_read(key, resp));
        match call {
            Some(call) => self.enqueue_notes(call, Purpose::NotesEventDelete { item }),
            None => {
                let t = is_transient(resp.status);
                let msg = self
                    .notes
                    .error_text("reading an event before deleting it", resp);
                self.item_error(item, &msg, t);
                self.event_write_done(item);
            }
        }
    }
}
