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
        // Notes creates and deletes go as many a request as the Domino API takes (a batch is
        // sent as soon as it is full, so writes keep the plan's order where it takes one).
        let mut notes_creates: Vec<(usize, Value)> = Vec::new();
        let mut notes_deletes: Vec<(usize, String)> = Vec::new();
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
                    self.bump(i);
                    if module == Module::Events {
                        let call = self
                            .notes
                            .calendar()
                            .map(|c| c.event_create_call(fields, zid));
                        if let Some(call) = call {
                            self.enqueue_notes(call, Purpose::NotesEventCreate { item: i });
                        }
                    } else {
                        notes_creates.push((i, self.new_notes_items(module, fields, zid)));
                        if notes_creates.len() >= self.notes.create_batch() {
                            self.enqueue_notes_creates(module, std::mem::take(&mut notes_creates));
                        }
                    }
                }
                // Only the cross-ID, to an event that cannot hold it: its link stands for it.
                Some(Write::Update { set, clear, .. })
                    if module == Module::Events
                        && set.is_empty()
                        && clear.is_empty()
                        && !self.notes.calendar().is_some_and(|c| c.event_holds_xref()) => {}
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
                        self.bump(i);
                        if module == Module::Events {
                            self.enqueue_event_delete(i, &u.0);
                        } else {
                            notes_deletes.push((i, u.0.clone()));
                            if notes_deletes.len() >= self.notes.delete_batch() {
                                self.enqueue_notes_deletes(std::mem::take(&mut notes_deletes));
                            }
                        }
                    }
                }
                None => {}
            }
        }
        if !notes_creates.is_empty() {
            self.enqueue_notes_creates(module, notes_creates);
        }
        if !notes_deletes.is_empty() {
            self.enqueue_notes_deletes(notes_deletes);
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
        // A record the CRM created is the sync's even when a later step of the item failed (its
        // back-link, say): the uninstall must know it.
        if let Some(created) = exec.new_zid.clone() {
            self.outputs
                .push_back(Output::State(StateChange::CrmCreated {
                    module,
                    zoho_id: created,
                }));
        }
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

    /// The items of a new Notes document of `module`: the mapped fields, the cross-ID and the
    /// items every such document gets.
    fn new_notes_items(&self, module: Module, fields: &Fields, zid: Option<&str>) -> Value {
        let mut items = notes_items(module, fields, &[], zid, &self.ctx);
        if let Some(o) = items.as_object_mut() {
            for (name, value) in notes_create_items(module) {
                o.insert(name.into(), value);
            }
        }
        items
    }

    /// Deletes the event `key` for plan item `item`: at once, or after reading it where the
    /// Domino API deletes an occurrence through its series.
    fn enqueue_event_delete(&mut self, item: usize, key: &str) {
        let Some(cal) = self.notes.calendar() else {
            return;
        };
        let (call, purpose) = match cal.event_delete_call(key) {
            Some(call) => (call, Purpose::NotesEventDelete { item }),
            None => (
                cal.event_read_call(key),
                Purpose::NotesEventDeletePrefetch {
                    item,
                    key: key.to_owned(),
                },
            ),
        };
        self.enqueue_event_write(key, item, call, purpose);
    }

    /// Starts the write of plan item `item` to the event `key` (its first request): at once,
    /// or after the write in flight to the same entry where the API rewrites entries whole
    /// (`series.rs`).
    fn enqueue_event_write(&mut self, key: &str, item: usize, call: Call, purpose: Purpose) {
        let entry = self
            .notes
            .calendar()
            .and_then(|c| c.rewritten_entry(key))
            .map(str::to_owned);
        let now = match (entry, self.run.as_mut()) {
            (Some(entry), Some(run)) => run.series.start(&entry, item, call, purpose),
            _ => Some((call, purpose)),
        };
        if let Some((call, purpose)) = now {
            self.enqueue_notes(call, purpose);
        }
    }

    /// The write of plan item `item` to an event is over: the next write waiting for the same
    /// entry goes.
    pub(super) fn event_write_done(&mut self, item: usize) {
        if let Some((call, purpose)) = self.run.as_mut().and_then(|r| r.series.done(item)) {
            self.enqueue_notes(call, purpose);
        }
    }

    /// One request creating the documents of `creates` (plan item, items).
    fn enqueue_notes_creates(&mut self, module: Module, creates: Vec<(usize, Value)>) {
        let (items, docs): (Vec<usize>, Vec<Value>) = creates.into_iter().unzip();
        let call = self.notes.create_call(module, docs);
        self.enqueue_notes(call, Purpose::NotesCreate { items });
    }

    /// One request deleting the documents of `deletes` (plan item, UNID).
    fn enqueue_notes_deletes(&mut self, deletes: Vec<(usize, String)>) {
        let (items, unids): (Vec<usize>, Vec<String>) = deletes.into_iter().unzip();
        let call = self.notes.delete_call(&unids);
        self.enqueue_notes(call, Purpose::NotesDelete { items, unids });
    }

    /// Enqueues the change of a Notes record. Documents are PATCHed field by field (after
    /// reading their revision, where the Domino API wants it named). An event is read first
    /// and its merged content written back (see [`Engine::on_event_prefetch`]), without
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
                if let Some(call) = self.notes.calendar().map(|c| c.event_read_call(key)) {
                    self.enqueue_event_write(key, item, call, purpose);
                }
            }
            Module::Contacts | Module::Tasks => {
                let items = notes_items(module, set, clear, zid, &self.ctx);
                match self.notes.revision_call(key) {
                    Some(call) => {
                        let purpose = Purpose::NotesRevision {
                            item,
                            backlink,
                            unid: key.to_owned(),
                            items,
                        };
                        self.enqueue_notes(call, purpose);
                    }
                    None => {
                        let call = self.notes.update_call(key, items, None);
                        self.enqueue_notes(call, Purpose::NotesUpdate { item, backlink });
                    }
                }
            }
        }
    }

    /// A document's revision, read before its update: the update goes at that revision.
    pub(super) fn on_revision(
        &mut self,
        item: usize,
        backlink: bool,
        unid: &str,
        items: Value,
        resp: &HttpResponse,
    ) {
        match self.notes.revision(resp) {
            Some(rev) => {
                let call = self.notes.update_call(unid, items, Some(&rev));
                self.enqueue_notes(call, Purpose::NotesUpdate { item, backlink });
            }
            None => {
                let t = is_transient(resp.status) || backlink;
                let msg = self
                    .notes
                    .error_text("reading a document before updating it", resp);
                self.item_error(item, &msg, t);
            }
        }
    }

    /// The answer to a create of documents for `items`.
    pub(super) fn on_notes_created(&mut self, items: &[usize], resp: &HttpResponse) {
        let results = self
            .notes
            .created(items.len(), resp)
            .filter(|r| r.len() == items.len());
        let Some(results) = results else {
            let t = is_transient(resp.status);
            let msg = self.notes.error_text("creating a document", resp);
            for &i in items {
                self.item_error(i, &msg, t);
            }
            return;
        };
        for (&i, result) in items.iter().zip(results) {
            self.on_notes_created_one(i, result);
        }
    }

    /// A document or event created for plan item `item` (its UNID or key), or why not.
    pub(super) fn on_notes_created_one(&mut self, item: usize, result: Result<String, String>) {
        match result {
            Ok(unid) => {
                if let Some(e) = self.run.as_mut().and_then(|r| r.exec.get_mut(item)) {
                    e.new_unid = Some(NotesUnid(unid));
                }
                self.item_ok(item);
            }
            Err(msg) => self.item_error(item, &msg, false),
        }
    }

    /// The answer to a delete of documents for `items`.
    pub(super) fn on_notes_deleted(
        &mut self,
        items: &[usize],
        unids: &[String],
        resp: &HttpResponse,
    ) {
        let results = self
            .notes
            .deleted(unids, resp)
            .filter(|r| r.len() == items.len());
        let Some(results) = results else {
            let t = is_transient(resp.status);
            let msg = self.notes.error_text("deleting a document", resp);
            for &i in items {
                self.item_error(i, &msg, t);
            }
            return;
        };
        for (&i, result) in items.iter().zip(results) {
            match result {
                Ok(()) => self.item_ok(i),
                Err(msg) => self.item_error(i, &msg, false),
            }
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
