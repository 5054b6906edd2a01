//! Answers routed to the stage that asked: each [`Purpose`] to its handler.

use super::*;

impl Engine {
    /// The answer `resp` to `q`; `changed` holds the UNIDs of a changed-documents list that
    /// arrived in parts.
    pub(super) fn on_response(
        &mut self,
        q: Queued,
        resp: &HttpResponse,
        changed: Option<bodies::ChangedUnids>,
    ) {
        // A token without the COQL scope: look the companies up in the Account list instead.
        if matches!(q.purpose, Purpose::CrmAccountsQuery)
            && resp.status == 401
            && crm_error_code(resp).as_deref() == Some("OAUTH_SCOPE_MISMATCH")
        {
            self.start_accounts_listing();
            return;
        }
        // A server that does not list its databases to this user still syncs: the mail file is
        // then named by its path.
        if matches!(q.purpose, Purpose::NotesDatabases) {
            self.on_databases(resp);
            return;
        }
        // Credentials and switched-off services end the run: nothing else can succeed.
        if let Some(msg) = fatal_message(q.side, resp) {
            self.fatal(msg);
            return;
        }
        let server_time = resp
            .header("Date")
            .and_then(Timestamp::parse_http_date)
            .unwrap_or(self.now);
        match q.purpose.clone() {
            Purpose::CrmCurrentUser => self.on_current_user(resp),
            Purpose::NotesDatabases => self.on_databases(resp),
            Purpose::CrmViews => self.on_crm_views(resp),
            Purpose::CrmScopeProbe => self.on_scope_probe(&q, resp),
            Purpose::CrmIdsLookup => self.on_ids_lookup(resp),
            Purpose::CrmRefetch => self.on_crm_refetch(resp),
            Purpose::CrmFields => self.on_crm_fields(resp),
            Purpose::CrmFieldCreate => {
                if (200..300).contains(&resp.status) {
                    self.mark_xref_ready();
                } else {
                    let msg = crm_error_text(resp);
                    self.fail_module(format!(
                        "could not create the Zoho field {CRM_XREF_FIELD}: {msg}"
                    ));
                }
            }
            Purpose::NotesSince => {
                let changed = changed.unwrap_or_else(|| bodies::ChangedUnids::of(&resp.body));
                self.on_changed_since(resp, changed, server_time);
            }
            Purpose::NotesEventsPage { start } => self.on_events_page(start, resp, server_time),
            Purpose::NotesEventRead { key } => self.on_event_read(key, resp),
            Purpose::NotesEventPrefetch {
                item,
                backlink,
                key,
                fields,
                zid,
            } => {
                self.on_event_prefetch(item, backlink, &key, &fields, zid.as_deref(), resp);
            }
            Purpose::NotesViewPage { start, walk } => {
                self.on_view_page(start, walk, resp, server_time)
            }
            Purpose::CrmListPage => self.on_crm_page(&q, resp, server_time),
            Purpose::CrmDeletedPage { page } => self.on_crm_deleted(&q, page, resp),
            Purpose::NotesRead { unid, flags } => {
                if resp.status == 404 {
                    return; // Deleted between listing and reading: it is gone.
                }
                match parse_json(resp) {
                    Some(doc) if resp.status == 200 => {
                        if let Some(run) = self.run.as_mut() {
                            let rec = record_from_notes(run.module, &doc, &self.ctx);
                            let private = rec.private && !flags.linked;
                            if private != flags.private && !self.config.dry_run {
                                self.outputs
                                    .push_back(Output::State(StateChange::NotesPrivate {
                                        module: run.module,
                                        unid: NotesUnid(unid.clone()),
                                        private,
                                    }));
                            }
                            run.notes.records.insert(unid, rec);
                        }
                    }
                    // For a linked document, an answer that is not a document costs only that
                    // document: it counts as unchanged, is reported, and is read again next run
                    // (the cursors do not advance). An unlinked one still fails the module: its
                    // content is unknown, so a CRM record matching it could be duplicated.
                    _ if resp.status == 200 && flags.linked => {
                        self.unreadable_document(unid, resp);
                    }
                    _ => self.fail_module(notes_error_text("reading a document", resp)),
                }
            }
            Purpose::NotesCreate { item } => {
                if resp.status == 201 {
                    let unid = resp
                        .header("Location")
                        .and_then(|l| l.rsplit('/').next())
                        .map(|u| u.split('?').next().unwrap_or(u).to_owned())
                        .filter(|u| !u.is_empty());
                    match unid {
                        Some(u) => {
                            if let Some(e) = self.run.as_mut().and_then(|r| r.exec.get_mut(item)) {
                                e.new_unid = Some(NotesUnid(u));
                            }
                            self.item_ok(item);
                        }
                        None => self.item_error(
                            item,
                            "IBM Notes created the document but sent no Location",
                            false,
                        ),
                    }
                } else {
                    let t = is_transient(resp.status);
                    self.item_error(item, &notes_error_text("creating a document", resp), t);
                }
            }
            Purpose::NotesUpdate { item, backlink } => {
                if resp.status == 200 {
                    if !backlink {
                        self.item_ok(item);
                    }
                } else {
                    let t = is_transient(resp.status) || backlink;
                    self.item_error(item, &notes_error_text("updating a document", resp), t);
                }
            }
            Purpose::NotesDelete { item } => {
                // 404: already gone, which is what we wanted.
                if resp.status == 200 || resp.status == 404 {
                    self.item_ok(item);
                } else {
                    let t = is_transient(resp.status);
                    self.item_error(item, &notes_error_text("deleting a document", resp), t);
                }
            }
            Purpose::CrmInsert { items } => self.on_crm_write(&items, resp, CrmWrite::Insert),
            Purpose::CrmUpdate {
                items,
                backlink: false,
            } => self.on_crm_write(&items, resp, CrmWrite::Update),
            Purpose::CrmUpdate {
                items,
                backlink: true,
            } => self.on_crm_write(&items, resp, CrmWrite::Backlink),
            Purpose::CrmDelete { items } => self.on_crm_write(&items, resp, CrmWrite::Delete),
            Purpose::CrmAccountsQuery => self.on_accounts_found(&q, resp, false),
            Purpose::CrmAccountsList => self.on_accounts_found(&q, resp, true),
            Purpose::CrmAccountsInsert { names } => self.on_accounts_created(&names, resp),
        }
    }
}
