//! Reading IBM Notes documents: the module's view (every UNID, and whole documents where the
//! API lists them), the documents changed since the cursor, then each document that must still
//! be read. What the requests look like is the Domino API's business (`crate::api::domino`).

use super::*;
use crate::api::domino::{ChangesShape, DocRead, Listing};

impl Engine {
    pub(super) fn start_listing(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        run.phase = Phase::Listing;
        let module = run.module;
        if let Some(problem) = self.notes.module_problem(module) {
            self.fail_module(problem);
            return;
        }
        let Some(run) = self.run.as_ref() else { return };
        let (notes_inc, crm_inc, xref) =
            (run.notes_incremental, run.crm_incremental, run.xref_exists);
        let ms = self.state.modules.get(&module);
        let (notes_cursor, crm_cursor) = ms
            .map(|m| (m.notes_cursor, m.crm_cursor))
            .unwrap_or_default();
        if notes_inc
            && let Some(c) = notes_cursor
            && let Some(call) = self.notes.changes_call(module, c)
        {
            self.enqueue_notes(call, Purpose::NotesChanges);
        }
        if module == Module::Events {
            let Some(window) =
                calendar::window_bounds(self.config.settings.events, self.now, self.ctx.tz)
            else {
                return;
            };
            if let Some(r) = self.run.as_mut() {
                r.window = Some(window);
            }
            let Some(call) = self.notes.calendar().map(|c| c.events_page_call(window, 0)) else {
                self.fail_module(
                    "the calendar of the mail file cannot be reached through this Domino API"
                        .to_owned(),
                );
                return;
            };
            self.enqueue_notes(call, Purpose::NotesEventsPage { start: 0 });
        } else {
            match self.notes.listing(notes_inc) {
                Listing::Pages { .. } => self.enqueue_view_page(module, 0, true),
                Listing::AllUnids => {
                    let call = self.notes.view_unids_call(module);
                    self.enqueue_notes(call, Purpose::NotesViewUnids);
                }
            }
        }

        // CRM, by scope (DESIGN §4.3). A full read lists the scope's view: the system "My …"
        // view for `mine` (found first), the chosen view otherwise. An incremental read of
        // `mine` lists the whole module changed since the cursor with owners, which also shows
        // linked records reassigned away; of a view, the view changed since the cursor, plus a
        // probe of the module for linked records that left it.
        let fields = self.config.crm_fields(module, xref);
        let scope = self.config.settings.scope.of(module).clone();
        let mut headers = Vec::new();
        if crm_inc && let Some(c) = crm_cursor {
            headers.push(Header {
                name: "If-Modified-Since".into(),
                value: c.to_offset(0),
            });
            let del = self.config.crm_path(&format!(
                "{}/deleted?type=all&per_page={CRM_PAGE}&page=1",
                module.crm_api_name()
            ));
            self.enqueue_with(
                Side::Crm,
                "GET",
                del,
                headers.clone(),
                None,
                Purpose::CrmDeletedPage { page: 1 },
            );
        }
        match (&scope, crm_inc) {
            (Scope::Mine, false) => {
                let path = self.config.crm_path(&format!(
                    "settings/custom_views?module={}",
                    module.crm_api_name()
                ));
                self.enqueue(Side::Crm, "GET", path, None, Purpose::CrmViews);
            }
            (Scope::Mine, true) => {
                let path = self.config.crm_list_path(module, None, &fields);
                self.enqueue_with(Side::Crm, "GET", path, headers, None, Purpose::CrmListPage);
            }
            (Scope::View(cvid), _) => {
                if crm_inc {
                    let probe = self.config.crm_list_path(module, None, "Owner");
                    self.enqueue_with(
                        Side::Crm,
                        "GET",
                        probe,
                        headers.clone(),
                        None,
                        Purpose::CrmScopeProbe,
                    );
                }
                let path = self.config.crm_list_path(module, Some(cvid), &fields);
                self.enqueue_with(Side::Crm, "GET", path, headers, None, Purpose::CrmListPage);
            }
        }
    }

    /// The answer to the changes request: the UNIDs of the documents changed (kept
    /// compactly), and their content when the API sends it.
    pub(super) fn on_changes(
        &mut self,
        resp: &HttpResponse,
        streamed: Option<bodies::ChangedUnids>,
        server_time: Timestamp,
    ) {
        match self.notes.changes_shape() {
            ChangesShape::UnidStream => {
                let streamed = streamed.unwrap_or_else(|| {
                    let none = link_index::LinkIndex::default();
                    let index = self.run.as_ref().map_or(&none, |r| &r.index);
                    bodies::ChangedUnids::of(&resp.body, index)
                });
                let read = (resp.status == 200).then(|| streamed.finish()).flatten();
                let Some(unids) = read else {
                    let msg = self.notes.error_text("listing changed documents", resp);
                    self.fail_module(msg);
                    return;
                };
                if let Some(run) = self.run.as_mut() {
                    run.notes_changed = unids;
                }
            }
            ChangesShape::Documents => {
                let Some(docs) = self.notes.changed_docs(resp) else {
                    let msg = self.notes.error_text("listing changed documents", resp);
                    self.fail_module(msg);
                    return;
                };
                for (unid, doc) in docs {
                    if let Some(run) = self.run.as_mut() {
                        run.notes_changed.insert(&run.index, &unid);
                    }
                    self.hold_document(&unid, &doc);
                }
            }
        }
        if let Some(run) = self.run.as_mut() {
            run.notes_cursor_next
                .get_or_insert(server_time.plus_ms(-CURSOR_OVERLAP_MS));
        }
    }

    /// Keeps a document a listing carried whole, unless the content held from listings is at
    /// its budget (it is then read again in bulk by its window). What the state says of it
    /// (linked, remembered private) is settled once both sides are listed.
    fn hold_document(&mut self, unid: &str, doc: &Value) {
        let budget = self.config.notes_pool_bytes;
        let Some(run) = self.run.as_mut() else { return };
        let rec = record_from_notes(run.module, doc, &self.ctx);
        let size = held_size(&rec);
        if run.notes_pool_bytes.saturating_add(size) > budget {
            return;
        }
        run.notes_pool_bytes = run.notes_pool_bytes.saturating_add(size);
        run.notes.records.insert(unid.to_owned(), rec);
    }

    /// Both sides are listed: which documents must be read (the rest are unchanged, or were
    /// listed whole), then the windows that read, decide and write them.
    pub(super) fn start_fetching(&mut self) {
        if self
            .run
            .as_ref()
            .is_some_and(|r| r.module == Module::Events)
        {
            self.start_fetching_events();
            return;
        }
        let Some(run) = self.run.as_mut() else { return };
        run.phase = Phase::Fetching;
        let module = run.module;
        let ms = self.state.modules.get(&module);
        let private: BTreeSet<&str> = ms
            .map(|m| m.notes_private.iter().map(|u| u.0.as_str()).collect())
            .unwrap_or_default();
        // Documents held from the listings: those the view does not show are not the
        // module's (a change query sees every document of the form); the rest were read.
        let held: Vec<String> = run.notes.records.keys().cloned().collect();
        let mut taken = Vec::new();
        for unid in held {
            if !run.notes_listed.contains(&run.index, &unid) {
                if let Some(rec) = run.notes.records.remove(&unid) {
                    run.notes_pool_bytes = run.notes_pool_bytes.saturating_sub(held_size(&rec));
                }
                continue;
            }
            let flags = ReadFlags {
                linked: run.index.by_unid(&unid).is_some(),
                private: private.contains(unid.as_str()),
            };
            taken.push((unid, flags));
        }
        // A linked document missing from the listing is read before it counts as deleted:
        // offset paging can skip an entry when another is deleted while the pages are read,
        // and a skipped entry must not delete its CRM twin. (Gone: deleted; there: still
        // there.) When more than half are missing the mass-delete guard holds the module back
        // anyway, so the reads are only spent when that guard is overridden.
        let missing: Vec<usize> = (0..run.index.len())
            .filter(|i| !run.notes_listed.contains_link(*i))
            .collect();
        // The reads the windows will make: a linked document's is a bit at its link (at a
        // million documents, nearly all of them), any other's an entry of its own.
        let mut reads = read_queue::ReadQueue::with_capacity(run.notes_listed.others_len());
        let mut unchanged =
            std::mem::replace(&mut run.notes.unchanged, marks::Keys::new(Side::Notes));
        let held = !run.notes.records.is_empty();
        for i in run.notes_listed.links() {
            let unid = (held || !private.is_empty()).then(|| run.index.unid_text(i));
            if let Some(u) = &unid
                && run.notes.records.contains_key(u)
            {
                continue; // Listed whole.
            }
            let private = unid.as_deref().is_some_and(|u| private.contains(u));
            if run.notes_incremental && !run.notes_changed.contains_link(i) {
                unchanged.insert_link(i);
            } else {
                reads.push_link(i, private);
            }
        }
        for key in run.notes_listed.others() {
            let unid = key.text();
            if run.notes.records.contains_key(&unid) {
                continue; // Listed whole.
            }
            let same = run.notes_incremental && !run.notes_changed.contains(&run.index, &unid);
            if same && private.contains(unid.as_str()) {
                // Private when last read and not changed since: still private, never synced.
            } else {
                let private = private.contains(unid.as_str());
                let flags = ReadFlags {
                    linked: false,
                    private,
                };
                reads.push(window::Read::Doc { unid: key, flags });
            }
        }
        run.notes.unchanged = unchanged;
        if missing.len() * 2 <= run.index.len() || self.config.allow_mass_delete {
            for i in missing {
                reads.push_link(i, false);
            }
        }
        // Remembered private documents that are no longer listed are gone.
        if !self.config.dry_run {
            for unid in private
                .iter()
                .filter(|u| !run.notes_listed.contains(&run.index, u))
            {
                self.outputs
                    .push_back(Output::State(StateChange::NotesPrivate {
                        module,
                        unid: NotesUnid((*unid).to_owned()),
                        private: false,
                    }));
            }
        }
        run.windows.to_read = reads;
        for (unid, flags) in taken {
            let private = self
                .run
                .as_ref()
                .and_then(|r| r.notes.records.get(&unid))
                .is_some_and(|r| r.private);
            self.note_privacy(&unid, private, flags);
        }
        self.start_windows();
    }

    /// A page of the module's view: the UNIDs listed (and documents listed whole kept); the
    /// first page asks for the rest.
    pub(super) fn on_view_page(
        &mut self,
        start: usize,
        walk: bool,
        resp: &HttpResponse,
        server_time: Timestamp,
    ) {
        let Some(page) = self.notes.view_page(resp) else {
            let msg = self.notes.error_text("listing the view", resp);
            self.fail_module(msg);
            return;
        };
        let Some(run) = self.run.as_mut() else { return };
        let module = run.module;
        let incremental = run.notes_incremental;
        if start == 0 {
            run.notes_cursor_next
                .get_or_insert(server_time.plus_ms(-CURSOR_OVERLAP_MS));
        }
        for (unid, _) in &page.docs {
            run.notes_listed.insert(&run.index, unid);
        }
        for (unid, doc) in &page.docs {
            if let Some(doc) = doc {
                self.hold_document(unid, doc);
            }
        }
        let Listing::Pages { size } = self.notes.listing(incremental) else {
            return;
        };
        let n = page.len;
        if start == 0 {
            // The total is known from the first page: ask for the rest at once.
            match page.total.filter(|t| *t <= MAX_VIEW_TOTAL) {
                Some(total) => {
                    let mut s = size;
                    while s < total {
                        self.enqueue_view_page(module, s, false);
                        s += size;
                    }
                }
                // No total, or one too large to believe: walk page by page.
                None if n == size => {
                    self.enqueue_view_page(module, size, true);
                }
                None => {}
            }
        } else if walk && n == size {
            // No total: walk page by page until a short page.
            let next = start + size;
            self.enqueue_view_page(module, next, true);
        }
    }

    /// Every UNID of the module's view, from one answer read as it arrived.
    pub(super) fn on_view_unids(
        &mut self,
        resp: &HttpResponse,
        streamed: Option<bodies::ChangedUnids>,
        server_time: Timestamp,
    ) {
        let streamed = streamed.unwrap_or_else(|| {
            let none = link_index::LinkIndex::default();
            let index = self.run.as_ref().map_or(&none, |r| &r.index);
            bodies::ChangedUnids::of(&resp.body, index)
        });
        let read = (resp.status == 200).then(|| streamed.finish()).flatten();
        let Some(unids) = read else {
            let msg = self.notes.error_text("listing the view", resp);
            self.fail_module(msg);
            return;
        };
        let Some(run) = self.run.as_mut() else { return };
        run.notes_cursor_next
            .get_or_insert(server_time.plus_ms(-CURSOR_OVERLAP_MS));
        run.notes_listed = unids;
    }

    /// The answer to a read of documents by UNID: each one into the window (or gone).
    pub(super) fn on_documents_read(
        &mut self,
        docs: Vec<(String, ReadFlags)>,
        resp: &HttpResponse,
    ) {
        let asked: Vec<String> = docs.iter().map(|(u, _)| u.clone()).collect();
        let read = self
            .notes
            .read_answer(&asked, resp)
            .filter(|a| a.len() == docs.len());
        let Some(answers) = read else {
            // For linked documents, an answer that is not one costs only those documents (see
            // below); otherwise the module fails.
            let msg = self.notes.error_text("reading a document", resp);
            if resp.status == 200 && docs.iter().all(|(_, f)| f.linked) {
                for (unid, _) in docs {
                    self.unreadable_document(unid, msg.clone());
                }
            } else {
                self.fail_module(msg);
            }
            return;
        };
        for ((unid, flags), answer) in docs.into_iter().zip(answers) {
            match answer {
                // Deleted between listing and reading: it is gone.
                DocRead::Gone => {}
                DocRead::Doc(doc) => {
                    let Some(module) = self.run.as_ref().map(|r| r.module) else {
                        return;
                    };
                    let rec = record_from_notes(module, &doc, &self.ctx);
                    let private = rec.private;
                    if let Some(run) = self.run.as_mut() {
                        run.notes.records.insert(unid.clone(), rec);
                    }
                    self.note_privacy(&unid, private, flags);
                }
                // For a linked document, an answer that is not a document costs only that
                // document: it counts as unchanged, is reported, and is read again next run
                // (the cursors do not advance). An unlinked one fails the module: its content
                // is unknown, so a CRM record matching it could be duplicated.
                DocRead::Unreadable(msg) if flags.linked => self.unreadable_document(unid, msg),
                DocRead::Unreadable(msg) => {
                    self.fail_module(msg);
                    return;
                }
            }
        }
    }

    /// Remembers whether an unlinked document read is private (so an unchanged private one is
    /// not read again), when that changed.
    fn note_privacy(&mut self, unid: &str, private: bool, flags: ReadFlags) {
        let private = private && !flags.linked;
        if private == flags.private || self.config.dry_run {
            return;
        }
        let Some(module) = self.run.as_ref().map(|r| r.module) else {
            return;
        };
        self.outputs
            .push_back(Output::State(StateChange::NotesPrivate {
                module,
                unid: NotesUnid(unid.to_owned()),
                private,
            }));
    }

    /// A linked document whose answer could not be read as one: `error` says why.
    pub(super) fn unreadable_document(&mut self, unid: String, error: String) {
        let Some(run) = self.run.as_mut() else { return };
        run.notes.unchanged.insert(&run.index, &unid);
        run.transient_errors = true;
        run.unreadable.push(ReportEntry {
            verdict: crate::plan::Verdict::Skipped,
            label: unid.clone(),
            unid: Some(NotesUnid(unid)),
            zoho_id: None,
            notes: None,
            crm: None,
            reason: Reason::NotADocument.to_string(),
            why: Reason::NotADocument,
            notes_action: None,
            crm_action: None,
            fields: Vec::new(),
            conflicts: Vec::new(),
            error: Some(error),
        });
    }

    /// Asks for the view page at `start`; `walk`: no total is known, so the next page is asked
    /// for once this one comes back full.
    fn enqueue_view_page(&mut self, module: Module, start: usize, walk: bool) {
        let incremental = self.run.as_ref().is_some_and(|r| r.notes_incremental);
        let call = self.notes.view_page_call(module, incremental, start);
        self.enqueue_notes(call, Purpose::NotesViewPage { start, walk });
    }
}

/// What holding a record costs, roughly, in bytes.
fn held_size(rec: &crate::model::Record) -> u64 {
    u64::try_from(rec.fields.len_bytes())
        .unwrap_or(u64::MAX)
        .saturating_add(128)
}
