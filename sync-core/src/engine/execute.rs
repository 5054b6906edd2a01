//! Executing a plan: the writes of each item to both sides (Zoho writes 100 per call), and the
//! link change committed once every write of the item has answered.

use super::*;

impl Engine {
    pub(super) fn start_writing(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        run.phase = Phase::Writing;
        let module = run.module;
        if self.config.dry_run || run.plan.guard.is_some() {
            return; // Nothing to write: the next advance ends the module.
        }
        let xref = run.xref_exists;
        let mut account_errors = Vec::new();
        let items = run.plan.items.clone();
        let (mut inserts, mut updates, mut deletes) = (Vec::new(), Vec::new(), Vec::new());
        for (i, it) in items.iter().enumerate() {
            match &it.crm {
                Some(Write::Create { fields }) => {
                    let xref_value = it
                        .unid
                        .as_ref()
                        .filter(|_| xref)
                        .map(|u| self.mail_file.crm_xref(&u.0));
                    let mut rec = self.crm_create_json(module, fields, xref_value.as_deref());
                    match self.resolve_account(&mut rec) {
                        Ok(()) => inserts.push((i, Value::Object(rec))),
                        Err(e) => account_errors.push((i, e)),
                    }
                }
                Some(Write::Update {
                    set,
                    clear,
                    xref: x,
                }) => {
                    let xref_value = it
                        .unid
                        .as_ref()
                        .filter(|_| *x && xref && self.may_write_xref(it.zoho_id.as_ref()))
                        .map(|u| self.mail_file.crm_xref(&u.0));
                    let mut rec =
                        self.crm_update_json(module, it, set, clear, xref_value.as_deref());
                    if let Err(e) = self.resolve_account(&mut rec) {
                        account_errors.push((i, e));
                    } else if let Some(z) = &it.zoho_id {
                        rec.insert("id".into(), Value::String(z.0.clone()));
                        if rec.len() > 1 {
                            updates.push((i, Value::Object(rec)));
                        }
                    }
                }
                Some(Write::Delete) => {
                    if let Some(z) = &it.zoho_id {
                        deletes.push((i, z.0.clone()));
                    }
                }
                None => {}
            }
            match &it.notes {
                Some(Write::Create { fields }) => {
                    let zid = it.zoho_id.as_ref().map(|z| z.0.as_str());
                    let (path, body) = self.notes_create_req(module, fields, zid);
                    self.enqueue(
                        Side::Notes,
                        "POST",
                        path,
                        Some(body),
                        Purpose::NotesCreate { item: i },
                    );
                    self.bump(i);
                }
                Some(Write::Update {
                    set,
                    clear,
                    xref: x,
                }) => {
                    if let Some(u) = &it.unid {
                        let zid = it.zoho_id.as_ref().filter(|_| *x).map(|z| z.0.as_str());
                        self.enqueue_notes_update(module, &u.0, it, set, clear, zid, i, false);
                        self.bump(i);
                    }
                }
                Some(Write::Delete) => {
                    if let Some(u) = &it.unid {
                        let path = self.notes_delete_path(module, &u.0);
                        self.enqueue(
                            Side::Notes,
                            "DELETE",
                            path,
                            None,
                            Purpose::NotesDelete { item: i },
                        );
                        self.bump(i);
                    }
                }
                None => {}
            }
        }
        let api = module.crm_api_name();
        let records = self.config.crm_path(api);
        let (bump, batch) = (true, CrmBatch::Records);
        self.enqueue_crm_batches("POST", &records, inserts, bump, batch, |items| {
            Purpose::CrmInsert { items }
        });
        self.enqueue_crm_batches("PUT", &records, updates, bump, batch, |items| {
            Purpose::CrmUpdate {
                items,
                backlink: false,
            }
        });
        let deletes = deletes
            .into_iter()
            .map(|(i, z)| (i, Value::String(z)))
            .collect();
        self.enqueue_crm_batches("DELETE", &records, deletes, bump, CrmBatch::Ids, |items| {
            Purpose::CrmDelete { items }
        });
        // A CRM write whose company has no Account is not sent: the item fails (its link stays,
        // so the next run tries again), its Notes write still goes.
        for (i, (msg, transient)) in account_errors {
            self.bump(i);
            self.item_error(i, &msg, transient);
        }
        // Items with nothing to write (links to set or forget) commit now.
        for i in 0..items.len() {
            self.maybe_commit(i);
        }
    }

    /// Sends Zoho writes [`CRM_WRITE_BATCH`] per call to `path`: each write is a plan item's
    /// index and its record (or, for `CrmBatch::Ids`, its id). `bump` counts each call as a
    /// pending write of its items.
    pub(super) fn enqueue_crm_batches(
        &mut self,
        method: &'static str,
        path: &str,
        writes: Vec<(usize, Value)>,
        bump: bool,
        batch: CrmBatch,
        purpose: impl Fn(Vec<usize>) -> Purpose,
    ) {
        for chunk in writes.chunks(CRM_WRITE_BATCH) {
            let items: Vec<usize> = chunk.iter().map(|(i, _)| *i).collect();
            if bump {
                items.iter().for_each(|i| self.bump(*i));
            }
            let (path, body) = match batch {
                CrmBatch::Records => {
                    let data: Vec<Value> = chunk.iter().map(|(_, v)| v.clone()).collect();
                    (path.to_owned(), Some(json!({"data": data, "trigger": []})))
                }
                CrmBatch::Ids => {
                    let ids: Vec<&str> = chunk.iter().filter_map(|(_, v)| v.as_str()).collect();
                    (
                        format!("{path}?ids={}&wf_trigger=false", ids.join(",")),
                        None,
                    )
                }
            };
            self.enqueue(Side::Crm, method, path, body, purpose(items));
        }
    }

    pub(super) fn bump(&mut self, item: usize) {
        if let Some(e) = self.run.as_mut().and_then(|r| r.exec.get_mut(item)) {
            e.pending += 1;
        }
    }

    /// Once every write of an item has answered, stores its link change.
    pub(super) fn maybe_commit(&mut self, item: usize) {
        let Some(run) = self.run.as_mut() else { return };
        let module = run.module;
        let (Some(exec), Some(it)) = (run.exec.get_mut(item), run.plan.items.get(item)) else {
            return;
        };
        if exec.pending > 0 || exec.committed {
            return;
        }
        exec.committed = true;
        if exec.error.is_some() {
            return; // Keep the old link: the next run sees the same difference and retries.
        }
        let unid = exec.new_unid.clone().or_else(|| it.unid.clone());
        let zoho_id = exec.new_zid.clone().or_else(|| it.zoho_id.clone());
        match &it.link {
            LinkOp::Keep => {}
            LinkOp::Remove => {
                self.outputs
                    .push_back(Output::State(StateChange::LinkRemoved {
                        module,
                        unid: it.unid.clone(),
                        zoho_id: it.zoho_id.clone(),
                    }));
                // Out of scope with its Notes copy kept: remember, so the copy is not created
                // in CRM again as a duplicate of the record its new owner syncs.
                if let Some(z) = it.zoho_id.as_ref()
                    && it.notes.is_none()
                    && run.crm.out_of_scope.contains(&z.0)
                {
                    self.outputs
                        .push_back(Output::State(StateChange::CrmLeftScope {
                            module,
                            zoho_id: z.clone(),
                            left: true,
                        }));
                }
            }
            LinkOp::Set(base) => {
                if let (Some(unid), Some(zoho_id)) = (unid, zoho_id) {
                    self.outputs.push_back(Output::State(StateChange::LinkSet {
                        module,
                        link: Link {
                            unid,
                            zoho_id,
                            base: base.clone(),
                        },
                    }));
                }
            }
        }
    }

    /// Zoho JSON for a new record of `module`.
    pub(super) fn crm_create_json(
        &self,
        module: Module,
        fields: &Fields,
        unid: Option<&str>,
    ) -> Map<String, Value> {
        match module {
            Module::Events => calendar::crm_event(fields, &[], &[], true, unid, &self.ctx),
            Module::Contacts | Module::Tasks => crm_new_record(module, fields, unid, &self.ctx),
        }
    }

    /// Zoho JSON that changes `set` and `clear` on a record of `module`. Events send start, end
    /// and all-day together, from the merged content.
    pub(super) fn crm_update_json(
        &self,
        module: Module,
        it: &PlanItem,
        set: &Fields,
        clear: &[String],
        unid: Option<&str>,
    ) -> Map<String, Value> {
        match module {
            Module::Events => {
                let names: Vec<&str> = set.names().collect();
                let merged = merged_content(it, set);
                calendar::crm_event(merged, &names, clear, false, unid, &self.ctx)
            }
            Module::Contacts | Module::Tasks => crm_record(module, set, clear, unid, &self.ctx),
        }
    }

    /// Path and body that create a Notes record of `module`. Events are created with
    /// `workflow=false`: a sync never sends invitations.
    pub(super) fn notes_create_req(
        &self,
        module: Module,
        fields: &Fields,
        zid: Option<&str>,
    ) -> (String, Value) {
        match module {
            Module::Events => (
                self.config.notes_cal_path("events?workflow=false"),
                json!({"events": [calendar::notes_event(fields, zid)]}),
            ),
            Module::Contacts | Module::Tasks => {
                let mut items = notes_items(module, fields, &[], zid, &self.ctx);
                if let Some(o) = items.as_object_mut() {
                    for (name, value) in notes_create_items(module) {
                        o.insert(name.into(), value);
                    }
                }
                (
                    self.config
                        .notes_db_path(&format!("documents?form={}", notes_form(module))),
                    items,
                )
            }
        }
    }

    /// Enqueues the change of a Notes record. Documents are PATCHed field by field. An event is
    /// read first and its merged content PUT back (see [`Engine::on_event_prefetch`]), without
    /// sending notices, so nothing the mapping does not carry is lost.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn enqueue_notes_update(
        &mut self,
        module: Module,
        key: &str,
        it: &PlanItem,
        set: &Fields,
        clear: &[String],
        zid: Option<&str>,
        item: usize,
        backlink: bool,
    ) {
        match module {
            Module::Events => {
                let purpose = Purpose::NotesEventPrefetch {
                    item,
                    backlink,
                    key: key.to_owned(),
                    fields: merged_content(it, set).clone(),
                    zid: zid.map(str::to_owned),
                };
                let path = self.config.event_path(key, "");
                self.enqueue(Side::Notes, "GET", path, None, purpose);
            }
            Module::Contacts | Module::Tasks => {
                let path = self
                    .config
                    .notes_db_path(&format!("documents/unid/{}", encode(key)));
                let body = notes_items(module, set, clear, zid, &self.ctx);
                self.enqueue(
                    Side::Notes,
                    "PATCH",
                    path,
                    Some(body),
                    Purpose::NotesUpdate { item, backlink },
                );
            }
        }
    }

    pub(super) fn notes_delete_path(&self, module: Module, key: &str) -> String {
        match module {
            Module::Events => self.config.event_path(key, "?workflow=false"),
            Module::Contacts | Module::Tasks => self
                .config
                .notes_db_path(&format!("documents/unid/{}", encode(key))),
        }
    }

    pub(super) fn item_error(&mut self, item: usize, message: &str, transient: bool) {
        if let Some(run) = self.run.as_mut() {
            run.transient_errors |= transient;
            let phase = run.phase;
            if let Some(e) = run.exec.get_mut(item) {
                if phase == Phase::Backlinks {
                    if e.error.is_none() {
                        e.error = Some(format!(
                            "cross-ID not written (retried next run): {message}"
                        ));
                    }
                } else {
                    e.pending = e.pending.saturating_sub(1);
                    e.error.get_or_insert_with(|| message.to_owned());
                    e.transient |= transient;
                }
            }
        }
        self.maybe_commit(item);
    }

    pub(super) fn item_ok(&mut self, item: usize) {
        if let Some(e) = self.run.as_mut().and_then(|r| r.exec.get_mut(item)) {
            e.pending = e.pending.saturating_sub(1);
        }
        self.maybe_commit(item);
    }

    pub(super) fn on_crm_write(&mut self, items: &[usize], resp: &HttpResponse, kind: CrmWrite) {
        let backlink = kind == CrmWrite::Backlink;
        let results = parse_json(resp)
            .and_then(|b| b.get("data").and_then(Value::as_array).cloned())
            .filter(|d| d.len() == items.len() && matches!(resp.status, 200 | 201 | 207 | 400));
        let Some(results) = results else {
            let msg = crm_error_text(resp);
            let t = is_transient(resp.status) || backlink;
            for &i in items {
                self.item_error(i, &format!("Zoho CRM refused the batch: {msg}"), t);
            }
            return;
        };
        for (&i, r) in items.iter().zip(&results) {
            let ok = r.get("status").and_then(Value::as_str) == Some("success");
            let details = r.get("details");
            // A retried insert that Zoho had already carried out: the unique Notes_UNID names it.
            let dup_of_ours = kind == CrmWrite::Insert
                && r.get("code").and_then(Value::as_str) == Some("DUPLICATE_DATA")
                && details
                    .and_then(|d| d.get("api_name"))
                    .and_then(Value::as_str)
                    == Some(CRM_XREF_FIELD);
            if ok || dup_of_ours {
                if kind == CrmWrite::Insert {
                    let id = if ok {
                        details.and_then(|d| d.get("id"))
                    } else {
                        details
                            .and_then(|d| d.get("duplicate_record"))
                            .and_then(|d| d.get("id"))
                    };
                    if let (Some(id), Some(e)) = (
                        id.and_then(Value::as_str),
                        self.run.as_mut().and_then(|r| r.exec.get_mut(i)),
                    ) {
                        e.new_zid = Some(ZohoId(id.to_owned()));
                    }
                }
                if !backlink {
                    self.item_ok(i);
                }
            } else {
                let code = r.get("code").and_then(Value::as_str).unwrap_or("ERROR");
                let message = r.get("message").and_then(Value::as_str).unwrap_or("");
                let field = details
                    .and_then(|d| d.get("api_name"))
                    .and_then(Value::as_str);
                let text = match field {
                    Some(f) => format!("Zoho CRM: {code} ({message}) on {f}"),
                    None => format!("Zoho CRM: {code} ({message})"),
                };
                // A record deleted meanwhile ("record not deleted") is what a delete wanted.
                if kind == CrmWrite::Delete && code == "INVALID_DATA" {
                    self.item_ok(i);
                } else {
                    self.item_error(i, &text, backlink);
                }
            }
        }
    }
}

/// The whole content a record gets from an item (the link's new base), for writes that send
/// whole objects (events); `set` when the item stores no base.
pub(super) fn merged_content<'a>(it: &'a PlanItem, set: &'a Fields) -> &'a Fields {
    match &it.link {
        LinkOp::Set(m) => m,
        LinkOp::Keep | LinkOp::Remove => set,
    }
}

/// How a batch of Zoho writes names its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CrmBatch {
    /// In the body, `{"data": [...]}` (inserts and updates).
    Records,
    /// In the query, `?ids=…` (deletes).
    Ids,
}
