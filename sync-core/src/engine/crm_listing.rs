//! Reading Zoho CRM records in the user's scope (DESIGN §4.3): the "My …" view or the chosen
//! view, incremental listings, deleted records, and linked records that left the scope.

use super::*;
use crate::report::CRM_LISTING_LIMIT;

impl Engine {
    /// The module's custom views: list the system "My …" view. Without it (an older token
    /// lacking the custom-views scope, a view renamed away) the whole module is listed
    /// instead: slower, and as right, since owners are checked record by record.
    pub(super) fn on_crm_views(&mut self, resp: &HttpResponse) {
        let Some(run) = self.run.as_ref() else { return };
        let module = run.module;
        let system_name = my_view_system_name(module);
        let cvid = parse_json(resp)
            .filter(|_| resp.status == 200)
            .and_then(|b| {
                b.get("custom_views")?
                    .as_array()?
                    .iter()
                    .find(|v| {
                        v.get("system_name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| n.eq_ignore_ascii_case(system_name))
                    })
                    .and_then(|v| v.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
        let fields = self.config.crm_fields(module, run.xref_exists);
        let path = self.config.crm_list_path(module, cvid.as_deref(), &fields);
        self.enqueue(Side::Crm, "GET", path, None, Purpose::CrmListPage);
    }

    /// View scope, incremental: remember which records of the module changed.
    pub(super) fn on_scope_probe(&mut self, q: &Queued, resp: &HttpResponse) {
        let Some(body) = self.crm_listing(resp, "list changed Zoho records") else {
            return;
        };
        let Some(run) = self.run.as_mut() else { return };
        run.crm_probed.extend(listed_ids(&body).map(str::to_owned));
        self.follow_page_token(q, &body, Purpose::CrmScopeProbe);
    }

    /// A Zoho listing's body; `None` when it lists nothing (204, or 304 after
    /// `If-Modified-Since`) or failed, which fails the module with `doing` in the message.
    pub(super) fn crm_listing(&mut self, resp: &HttpResponse, doing: &str) -> Option<Value> {
        if resp.status == 204 || resp.status == 304 {
            return None;
        }
        let body = parse_json(resp).filter(|_| resp.status == 200);
        if body.is_none() {
            self.fail_module(format!("could not {doing}: {}", crm_error_text(resp)));
        }
        body
    }

    /// Linked records missing from a complete listing: those returned still exist, outside the
    /// scope unless they are the user's own (then they count as listed); the rest are gone.
    pub(super) fn on_ids_lookup(&mut self, resp: &HttpResponse) {
        let Some(body) = self.crm_listing(resp, "look up linked Zoho records") else {
            return;
        };
        let Some(module) = self.run.as_ref().map(|r| r.module) else {
            return;
        };
        let view_scope = matches!(self.config.settings.scope.of(module), Scope::View(_));
        let mut own = Vec::new();
        let mut away = Vec::new();
        for (id, rec) in listed_records(&body) {
            if view_scope || !self.owned_by_me(rec) {
                away.push(id.to_owned());
            } else {
                own.push((id.to_owned(), self.crm_record_of(module, rec)));
            }
        }
        let Some(run) = self.run.as_mut() else { return };
        run.crm.out_of_scope.extend(away);
        for (id, rec) in own {
            let rec = own_xref(&self.mail_file, run, &id, rec);
            run.keep_crm(id, rec, self.config.crm_pool_bytes);
        }
    }

    /// Whether a listed Zoho record's `Owner` is the syncing user.
    pub(super) fn owned_by_me(&self, rec: &Value) -> bool {
        let owner = rec
            .get("Owner")
            .and_then(|o| o.get("id"))
            .and_then(Value::as_str);
        owner.is_some() && owner == self.crm_user.as_deref()
    }

    /// Asks for the next page of a Zoho listing when the answer says there is one.
    pub(super) fn follow_page_token(&mut self, q: &Queued, body: &Value, purpose: Purpose) {
        let info = body.get("info");
        let more = info
            .and_then(|i| i.get("more_records"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let token = info
            .and_then(|i| i.get("next_page_token"))
            .and_then(Value::as_str);
        if let (true, Some(token)) = (more, token) {
            let base = q
                .path
                .split("&page_token=")
                .next()
                .unwrap_or(&q.path)
                .to_owned();
            let path = format!("{base}&page_token={}", encode(token));
            let headers = q.headers.clone();
            self.enqueue_with(Side::Crm, "GET", path, headers, None, purpose);
        }
    }

    /// Settles which linked records left the scope before the module is planned: remembered
    /// ones still away, ones a view probe saw change but the view did not list, and, after a
    /// complete listing, a lookup of the linked records it did not show.
    pub(super) fn start_settling(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        run.phase = Phase::Settling;
        let module = run.module;
        let remembered = self
            .state
            .modules
            .get(&module)
            .map(|m| m.crm_left_scope.clone())
            .unwrap_or_default();
        for z in remembered {
            if run.crm_listed(&z.0) {
                if !self.config.dry_run {
                    self.outputs
                        .push_back(Output::State(StateChange::CrmLeftScope {
                            module,
                            zoho_id: z,
                            left: false,
                        }));
                }
            } else {
                run.crm.out_of_scope.insert(z.0);
            }
        }
        if run.crm.complete {
            let missing: Vec<String> = run
                .index
                .iter()
                .map(|e| String::from(e.zid))
                .filter(|z| !run.crm_listed(z) && !run.crm.out_of_scope.contains(z))
                .collect();
            let xref = run.xref_exists;
            let fields = self.config.crm_fields(module, xref);
            for chunk in missing.chunks(CRM_IDS_PER_LOOKUP) {
                let path = self.config.crm_path(&format!(
                    "{}?ids={}&fields={fields}",
                    module.crm_api_name(),
                    chunk.join(",")
                ));
                self.enqueue(Side::Crm, "GET", path, None, Purpose::CrmIdsLookup);
            }
        } else {
            let away: Vec<String> = run
                .crm_probed
                .iter()
                .filter(|z| {
                    run.index.has_zid(z) && !run.crm_listed(z) && !run.crm.deleted.contains(*z)
                })
                .cloned()
                .collect();
            run.crm.out_of_scope.extend(away);
        }
    }

    /// Whether this run may write its cross-ID into the Zoho record `zid`: not over another
    /// mail file's cross-ID on a record someone else owns (DESIGN §4.3: never overwritten
    /// blindly). The owner's sync claims its own records.
    pub(super) fn may_write_xref(&self, zid: Option<&ZohoId>) -> bool {
        let Some(run) = self.run.as_ref() else {
            return false;
        };
        zid.is_none_or(|z| {
            !(run.crm_foreign_xref.contains_key(&z.0) && run.crm_not_mine.contains(&z.0))
        })
    }

    /// A listed Zoho record in canonical form.
    pub(super) fn crm_record_of(&self, module: Module, rec: &Value) -> crate::model::Record {
        match module {
            Module::Events => calendar::record_from_crm_event(rec, &self.config.private_tag),
            Module::Contacts | Module::Tasks => {
                record_from_crm(module, rec, &self.config.private_tag, &self.ctx)
            }
        }
    }

    pub(super) fn on_crm_page(&mut self, q: &Queued, resp: &HttpResponse, server_time: Timestamp) {
        let Some(run) = self.run.as_mut() else { return };
        if !q.path.contains("page_token=") {
            run.crm_cursor_next
                .get_or_insert(server_time.plus_ms(-CURSOR_OVERLAP_MS));
        }
        if resp.status == 204 || resp.status == 304 {
            return; // Nothing (new) to list.
        }
        if resp.status == 400
            && crm_error_code(resp).as_deref() == Some("PAGINATION_LIMIT_EXCEEDED")
        {
            self.list_past_page_tokens(q, resp);
            return;
        }
        let Some(body) = parse_json(resp).filter(|_| resp.status == 200) else {
            let msg = format!(
                "could not list Zoho {}: {}",
                run.module.crm_api_name(),
                crm_error_text(resp)
            );
            self.fail_module(msg);
            return;
        };
        self.take_listed(&body);
        self.follow_page_token(q, &body, Purpose::CrmListPage);
    }

    /// A page of listed Zoho records: the companies they name remembered, and each kept
    /// (in scope) or noted (out of it).
    fn take_listed(&mut self, body: &Value) {
        let Some(run) = self.run.as_mut() else { return };
        let module = run.module;
        if module == Module::Contacts {
            for rec in body
                .get("data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let lookup = rec.get(CRM_ACCOUNT_FIELD);
                if let (Some(name), Some(id)) = (
                    lookup.and_then(|l| l.get("name")).and_then(Value::as_str),
                    lookup.and_then(|l| l.get("id")).and_then(Value::as_str),
                ) {
                    remember_account(&mut run.accounts, name, id);
                }
            }
        }
        // Owner scope (DESIGN §4.3): with `mine`, a record someone else owns is not the user's
        // to sync, whatever listed it; a linked one has left the scope. With a view, every
        // record it lists is in scope, and those others own are noted (cross-ID claims).
        let view_scope = matches!(self.config.settings.scope.of(module), Scope::View(_));
        let mut listed = Vec::new();
        for (id, rec) in listed_records(body) {
            let mine = self.owned_by_me(rec);
            let record = (mine || view_scope).then(|| self.crm_record_of(module, rec));
            listed.push((id.to_owned(), mine, record));
        }
        let Some(run) = self.run.as_mut() else { return };
        for (id, mine, record) in listed {
            match record {
                Some(rec) => {
                    if !mine {
                        run.crm_not_mine.insert(id.clone());
                    }
                    let rec = own_xref(&self.mail_file, run, &id, rec);
                    run.keep_crm(id, rec, self.config.crm_pool_bytes);
                }
                None => {
                    if run.index.has_zid(&id) {
                        run.crm.out_of_scope.insert(id);
                    }
                }
            }
        }
    }

    /// Zoho pages a listing through `page_token` only to record 100,000 (reference §1.2,
    /// `PAGINATION_LIMIT_EXCEEDED`). A user who owns more goes on by COQL, walking the module
    /// in id order 2,000 records at a time (§2.3): the user's own records for a complete
    /// listing, every owner's changes for an incremental one, as the listing it continues.
    /// Records that listing already showed are skipped. A custom view cannot be read by COQL,
    /// nor can events' participants: those fail the module, saying why.
    fn list_past_page_tokens(&mut self, q: &Queued, resp: &HttpResponse) {
        let Some(run) = self.run.as_ref() else { return };
        let module = run.module;
        let since = q
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("If-Modified-Since"))
            .map(|h| h.value.clone());
        let owner = if since.is_none() {
            self.crm_user.clone()
        } else {
            None
        };
        let refused = if module == Module::Events {
            Some("COQL cannot read the participants of events")
        } else if matches!(self.config.settings.scope.of(module), Scope::View(_)) {
            Some("COQL cannot read a custom view; sync the scope mine instead")
        } else if since.is_none() && owner.is_none() {
            Some("the Zoho user is not known")
        } else {
            None
        };
        if let Some(reason) = refused {
            self.fail_module(format!(
                "could not list Zoho {}: it has {CRM_LISTING_LIMIT}, and {reason}: {}",
                module.crm_api_name(),
                crm_error_text(resp)
            ));
            return;
        }
        self.enqueue_keyset(Keyset {
            owner,
            since,
            after: 0,
        });
    }

    /// Asks for the keyset listing's next 2,000 records.
    fn enqueue_keyset(&mut self, keyset: Keyset) {
        let Some(run) = self.run.as_ref() else { return };
        let module = run.module;
        let fields = self.config.crm_fields(module, run.xref_exists);
        let body = self.config.crm_keyset_query(module, &fields, &keyset);
        let path = self.config.crm_path("coql");
        self.enqueue(
            Side::Crm,
            "POST",
            path,
            Some(body),
            Purpose::CrmKeysetPage { keyset },
        );
    }

    /// A page of a keyset listing: its rows read as listed records, those already listed
    /// skipped, and the next page asked for while there are more.
    pub(super) fn on_keyset_page(&mut self, keyset: Keyset, resp: &HttpResponse) {
        let Some(mut body) = self.crm_listing(resp, "list Zoho records by COQL") else {
            return;
        };
        let more = body
            .get("info")
            .and_then(|i| i.get("more_records"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut last = None;
        if let (Some(rows), Some(run)) = (
            body.get_mut("data").and_then(Value::as_array_mut),
            self.run.as_ref(),
        ) {
            last = rows
                .last()
                .and_then(|r| r.get("id"))
                .and_then(Value::as_str)
                .and_then(|id| id.parse::<u64>().ok());
            rows.retain(|r| {
                r.get("id")
                    .and_then(Value::as_str)
                    .is_none_or(|id| !run.crm_listed(id) && !run.crm_spilled.contains(id))
            });
            rows.iter_mut().for_each(coql_row_as_listed);
        }
        self.take_listed(&body);
        match last {
            Some(after) if more && after > keyset.after => {
                self.enqueue_keyset(Keyset { after, ..keyset });
            }
            _ => {}
        }
    }

    pub(super) fn on_crm_deleted(&mut self, q: &Queued, page: u32, resp: &HttpResponse) {
        let Some(body) = self.crm_listing(resp, "list deleted Zoho records") else {
            return;
        };
        let Some(run) = self.run.as_mut() else { return };
        run.crm.deleted.extend(listed_ids(&body).map(str::to_owned));
        let more = body
            .get("info")
            .and_then(|i| i.get("more_records"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if more {
            let base = q.path.split("&page=").next().unwrap_or(&q.path).to_owned();
            let path = format!("{base}&page={}", page + 1);
            let headers = q.headers.clone();
            self.enqueue_with(
                Side::Crm,
                "GET",
                path,
                headers,
                None,
                Purpose::CrmDeletedPage { page: page + 1 },
            );
        }
    }
}

/// A listed Zoho record with its cross-ID read against the user's mail file: the user's own
/// cross-ID becomes the bare Notes key the planner pairs by; another mail file's, or an earlier
/// version's, counts as none and is noted (reported, and not overwritten on a record the user
/// does not own). An earlier version's value naming the document this record is linked to is
/// the user's own: it is rewritten in the new form like any missing cross-ID.
pub(super) fn own_xref(
    mail_file: &MailFile,
    run: &mut ModuleRun,
    id: &str,
    mut rec: crate::model::Record,
) -> crate::model::Record {
    let Some(raw) = rec.xref.take() else {
        return rec;
    };
    match mail_file.read_crm_xref(&raw) {
        CrmXref::Ours(key) => rec.xref = Some(key.to_owned()),
        CrmXref::Legacy(key) if run.index.unid_of(id).is_some_and(|k| k == key) => {}
        CrmXref::Legacy(_) | CrmXref::Foreign => {
            run.crm_foreign_xref.insert(id.to_owned(), raw);
        }
    }
    rec
}
