//! Answers routed to the stage that asked: each [`Purpose`] to its handler.

use super::*;

impl Engine {
    /// The answer `resp` to `q`; `changed` holds the UNIDs of a list of documents that
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
        // A server that does not show the mail file to this user still syncs: the mail file is
        // then named by its path.
        if matches!(q.purpose, Purpose::NotesMailFile) {
            self.on_mail_file(Some(resp));
            return;
        }
        // Credentials and switched-off services end the run: nothing else can succeed.
        if let Some(msg) = fatal_message(self.notes.as_ref(), q.side, resp) {
            self.fatal(msg);
            return;
        }
        let server_time = resp
            .header("Date")
            .and_then(Timestamp::parse_http_date)
            .unwrap_or(self.now);
        match q.purpose.clone() {
            Purpose::CrmCurrentUser => self.on_current_user(resp),
            Purpose::NotesMailFile => self.on_mail_file(Some(resp)),
            Purpose::NotesSchema => {
                if let Err(msg) = self.notes.read_schema(resp) {
                    self.fatal(msg);
                }
            }
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
            Purpose::NotesChanges => self.on_changes(resp, changed, server_time),
            Purpose::NotesViewUnids => self.on_view_unids(resp, changed, server_time),
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
            Purpose::CrmKeysetPage { keyset } => self.on_keyset_page(keyset, resp),
            Purpose::CrmDeletedPage { page } => self.on_crm_deleted(&q, page, resp),
            Purpose::NotesRead { docs } => self.on_documents_read(docs, resp),
            Purpose::NotesCreate { items } => self.on_notes_created(&items, resp),
            Purpose::NotesEventCreate { item } => {
                match self.notes.calendar().and_then(|c| c.event_created(resp)) {
                    Some(result) => self.on_notes_created_one(item, result),
                    None => {
                        let t = is_transient(resp.status);
                        let msg = self.notes.error_text("creating a document", resp);
                        self.item_error(item, &msg, t);
                    }
                }
            }
            Purpose::NotesRevision {
                item,
                backlink,
                unid,
                items,
            } => self.on_revision(item, backlink, &unid, items, resp),
            Purpose::NotesUpdate { item, backlink } => {
                if self.notes.updated(resp) {
                    if !backlink {
                        self.item_ok(item);
                    }
                } else {
                    let t = is_transient(resp.status) || backlink;
                    let msg = self.notes.error_text("updating a document", resp);
                    self.item_error(item, &msg, t);
                }
                self.event_write_done(item);
            }
            Purpose::NotesDelete { items, unids } => self.on_notes_deleted(&items, &unids, resp),
            Purpose::NotesEventDeletePrefetch { item, key } => {
                self.on_event_delete_prefetch(item, &key, resp);
            }
            Purpose::NotesEventDelete { item } => {
                if self.notes.calendar().is_some_and(|c| c.event_deleted(resp)) {
                    self.item_ok(item);
                } else {
                    let t = is_transient(resp.status);
                    let msg = self.notes.error_text("deleting a document", resp);
                    self.item_error(item, &msg, t);
                }
                self.event_write_done(item);
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
