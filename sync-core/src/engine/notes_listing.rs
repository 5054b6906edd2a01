//! Reading IBM Notes documents: the view pages (every UNID), the documents changed since the
//! cursor, then each document that must be read.

use super::*;

impl Engine {
    pub(super) fn start_listing(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        run.phase = Phase::Listing;
        let module = run.module;
        let (notes_inc, crm_inc, xref) =
            (run.notes_incremental, run.crm_incremental, run.xref_exists);
        let ms = self.state.modules.get(&module);
        let (notes_cursor, crm_cursor) = ms
            .map(|m| (m.notes_cursor, m.crm_cursor))
            .unwrap_or_default();
        if notes_inc && let Some(c) = notes_cursor {
            self.changed_since(c);
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
            let path = self.config.events_list_path(window, 0);
            self.enqueue(
                Side::Notes,
                "GET",
                path,
                None,
                Purpose::NotesEventsPage { start: 0 },
            );
        } else {
            self.enqueue_view_page(module, 0, true);
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

    /// Asks for the documents changed since `cursor` (the module's).
    fn changed_since(&mut self, cursor: Timestamp) {
        let path = self
            .config
            .notes_db_path(&format!("documents?since={}", encode(&cursor.to_das())));
        self.enqueue(Side::Notes, "GET", path, None, Purpose::NotesSince);
    }

    /// The answer to `documents?since=`: the UNIDs, kept compactly.
    pub(super) fn on_changed_since(
        &mut self,
        resp: &HttpResponse,
        changed: bodies::ChangedUnids,
        server_time: Timestamp,
    ) {
        let read = (resp.status == 200).then(|| changed.finish()).flatten();
        let Some(unids) = read else {
            self.fail_module(notes_error_text("listing changed documents", resp));
            return;
        };
        if let Some(run) = self.run.as_mut() {
            run.notes_changed = unids;
            run.notes_cursor_next
                .get_or_insert(server_time.plus_ms(-CURSOR_OVERLAP_MS));
        }
    }

    /// Both sides are listed: which documents must be read (the rest are unchanged), then
    /// the windows that read, decide and write them.
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
        let mut reads = Vec::new();
        let mut unchanged = std::mem::take(&mut run.notes.unchanged);
        for key in run.notes_listed.keys() {
            let unid = key.text();
            let same = run.notes_incremental && !run.notes_changed.contains(&unid);
            let linked = run.index.by_unid(&unid).is_some();
            if same && linked {
                unchanged.insert(unid);
            } else if same && private.contains(unid.as_str()) {
                // Private when last read and not changed since: still private, never synced.
            } else {
                let private = private.contains(unid.as_str());
                reads.push((key, ReadFlags { linked, private }));
            }
        }
        run.notes.unchanged = unchanged;
        // A linked document missing from the listing is read before it counts as deleted:
        // offset paging can skip an entry when another is deleted while the pages are read,
        // and a skipped entry must not delete its CRM twin. (404: gone; 200: still there.)
        // When more than half are missing the mass-delete guard holds the module back anyway,
        // so the reads are only spent when that guard is overridden.
        let missing: Vec<String> = run
            .index
            .iter()
            .map(|e| String::from(e.unid))
            .filter(|u| !run.notes_listed.contains(u))
            .collect();
        if missing.len() * 2 <= run.index.len() || self.config.allow_mass_delete {
            for unid in missing {
                let flags = ReadFlags {
                    linked: true,
                    private: false,
                };
                reads.push((keys::Key::new(&unid), flags));
            }
        }
        // Remembered private documents that are no longer listed are gone.
        if !self.config.dry_run {
            for unid in private.iter().filter(|u| !run.notes_listed.contains(u)) {
                self.outputs
                    .push_back(Output::State(StateChange::NotesPrivate {
                        module,
                        unid: NotesUnid((*unid).to_owned()),
                        private: false,
                    }));
            }
        }
        run.windows.to_read = reads
            .into_iter()
            .map(|(unid, flags)| window::Read::Doc { unid, flags })
            .collect();
        self.start_windows();
    }

    pub(super) fn on_view_page(
        &mut self,
        start: usize,
        walk: bool,
        resp: &HttpResponse,
        server_time: Timestamp,
    ) {
        let Some(Value::Array(entries)) = parse_json(resp).filter(|_| resp.status == 200) else {
            self.fail_module(notes_error_text("listing the view", resp));
            return;
        };
        let total = resp
            .header("Content-Range")
            .and_then(|r| r.rsplit('/').next())
            .and_then(|t| t.trim().parse::<usize>().ok());
        let Some(run) = self.run.as_mut() else { return };
        let module = run.module;
        if start == 0 {
            run.notes_cursor_next
                .get_or_insert(server_time.plus_ms(-CURSOR_OVERLAP_MS));
        }
        let n = entries.len();
        for e in entries {
            if let Some(u) = e.get("@unid").and_then(Value::as_str) {
                run.notes_listed.insert(u);
            }
        }
        if start == 0 {
            // The total is known from the first page: ask for the rest at once.
            match total.filter(|t| *t <= MAX_VIEW_TOTAL) {
                Some(total) => {
                    let mut s = NOTES_PAGE;
                    while s < total {
                        self.enqueue_view_page(module, s, false);
                        s += NOTES_PAGE;
                    }
                }
                // No total, or one too large to believe: walk page by page.
                None if n == NOTES_PAGE => {
                    self.enqueue_view_page(module, NOTES_PAGE, true);
                }
                None => {}
            }
        } else if walk && n == NOTES_PAGE {
            // No Content-Range: walk page by page until a short page.
            let next = start + NOTES_PAGE;
            self.enqueue_view_page(module, next, true);
        }
    }

    /// A linked document whose answer could not be read as one (see `Purpose::NotesRead`).
    pub(super) fn unreadable_document(&mut self, unid: String, resp: &HttpResponse) {
        let Some(run) = self.run.as_mut() else { return };
        run.notes.unchanged.insert(unid.clone());
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
            error: Some(notes_error_text("reading a document", resp)),
        });
    }

    /// Asks for the view page at `start`; `walk`: no total is known, so the next page is asked
    /// for once this one comes back full.
    fn enqueue_view_page(&mut self, module: Module, start: usize, walk: bool) {
        let path = self.config.view_path(module, start);
        self.enqueue(
            Side::Notes,
            "GET",
            path,
            None,
            Purpose::NotesViewPage { start, walk },
        );
    }
}
