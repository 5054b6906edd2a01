//! One module's run: its state across the stages, and its start (full or incremental read,
//! decided from the stored cursors and the settings fingerprint).

use super::*;

impl Engine {
    /// The settings a module's cursors belong to, as text. A struct (fields in alphabetical
    /// order, as the stored fingerprints have always been written) rather than a JSON object,
    /// whose key order would depend on serde_json's `preserve_order` feature: a build with it
    /// would otherwise see every stored fingerprint as changed and re-read everything.
    pub(super) fn fingerprint(&self, module: Module) -> String {
        #[derive(Serialize)]
        struct Fingerprint<'a> {
            conflict: crate::model::ConflictPolicy,
            direction: crate::model::Direction,
            // Left out for DAS, so the fingerprints stored before there were two APIs still
            // hold; another API (or scope) reads everything once.
            #[serde(skip_serializing_if = "is_das")]
            domino: &'a DominoApi,
            events: calendar::EventsWindow,
            mail_db: &'a str,
            module: Module,
            private_tag: &'a str,
            scope: &'a Scope,
        }
        serde_json::to_string(&Fingerprint {
            conflict: self.config.settings.conflict,
            direction: self.config.settings.direction,
            domino: &self.config.domino,
            events: self.config.settings.events,
            mail_db: &self.config.mail_db,
            module,
            private_tag: &self.config.private_tag,
            scope: self.config.settings.scope.of(module),
        })
        .unwrap_or_default()
    }

    pub(super) fn start_module(&mut self, module: Module) {
        if !self.config.settings.enabled(module) {
            self.report
                .modules
                .push(ModuleReport::new(module, ModuleStatus::Off));
            return;
        }
        let (cursors_fingerprint, xref_ready, notes_cursor, crm_cursor) = self
            .state
            .modules
            .get(&module)
            .map(|m| {
                (
                    m.fingerprint.clone(),
                    m.crm_xref_ready,
                    m.notes_cursor,
                    m.crm_cursor,
                )
            })
            .unwrap_or_default();
        let fingerprint_ok =
            cursors_fingerprint.as_deref() == Some(self.fingerprint(module).as_str());
        let crm_incremental = fingerprint_ok
            && xref_ready
            && crm_cursor.is_some_and(|c| self.now.0 - c.0 < CRM_DELETED_RETENTION_MS);
        self.run = Some(ModuleRun {
            module,
            phase: Phase::Links,
            failed: None,
            xref_exists: xref_ready,
            notes_incremental: fingerprint_ok && notes_cursor.is_some(),
            crm_incremental,
            notes_listed: marks::Keys::new(Side::Notes),
            notes_changed: marks::Keys::new(Side::Notes),
            notes: side::SideRun::new(Side::Notes, true),
            crm: side::SideRun::new(Side::Crm, !crm_incremental),
            notes_cursor_next: None,
            crm_cursor_next: None,
            plan: ModulePlan::default(),
            exec: Vec::new(),
            transient_errors: false,
            notes_rows: BTreeMap::new(),
            window: None,
            accounts: BTreeMap::new(),
            accounts_wanted: BTreeSet::new(),
            account_errors: BTreeMap::new(),
            accounts_listing: false,
            unreadable: Vec::new(),
            records_read: 0,
            index: link_index::LinkIndex::new(
                module == Module::Events || self.config.links == LinkSupply::InState,
            ),
            crm_not_mine: BTreeSet::new(),
            crm_foreign_xref: BTreeMap::new(),
            crm_probed: BTreeSet::new(),
            windows: window::Windows::default(),
            pool_bytes: 0,
            crm_spilled: keys::KeySet::default(),
            notes_pool_bytes: 0,
            series: series::SeriesWrites::default(),
        });
        self.start_link_reads(module);
    }

    /// With the links read: the cross-ID field is checked (and created) unless known to exist.
    pub(super) fn start_setup(&mut self) {
        self.forget_event_links_of_another_api();
        let Some(run) = self.run.as_mut() else { return };
        run.phase = Phase::Start;
        if run.xref_exists {
            return;
        }
        run.phase = Phase::Setup;
        let path = self.config.crm_path(&format!(
            "settings/fields?module={}",
            run.module.crm_api_name()
        ));
        self.enqueue(Side::Crm, "GET", path, None, Purpose::CrmFields);
    }
}

fn is_das(api: &&DominoApi) -> bool {
    **api == DominoApi::Das
}

impl Engine {
    /// Events linked through another Domino API are forgotten, and link again as on a first
    /// sync (by cross-ID, then title and start): each API keys an event its own way (DAS by
    /// its iCalendar UID, the REST API's PIM by its entry's uid), so a key of the other API
    /// names no event this run lists, and its link would take the event for deleted or moved
    /// while the same event, listed under its new key, was created a second time. Contacts and
    /// to-dos are keyed by their UNIDs through both APIs and keep their links.
    fn forget_event_links_of_another_api(&mut self) {
        let Some(run) = self.run.as_ref() else { return };
        if run.module != Module::Events {
            return;
        }
        let stored = self
            .state
            .modules
            .get(&Module::Events)
            .and_then(|m| m.fingerprint.as_deref())
            .and_then(|f| serde_json::from_str::<Value>(f).ok());
        let Some(stored) = stored else { return };
        let api = stored.get("domino").map_or(Some(DominoApi::Das), |d| {
            serde_json::from_value(d.clone()).ok()
        });
        let same_keys = matches!(
            (api, &self.config.domino),
            (Some(DominoApi::Das), DominoApi::Das)
                | (Some(DominoApi::Rest { .. }), DominoApi::Rest { .. })
        );
        if same_keys {
            return;
        }
        let Some(run) = self.run.as_mut() else { return };
        let links: Vec<Link> = (0..run.index.len())
            .filter_map(|i| run.index.link(i))
            .collect();
        let mut fresh = link_index::LinkIndex::new(true);
        fresh.finish();
        run.index = fresh;
        if self.config.dry_run {
            return;
        }
        for l in links {
            self.outputs
                .push_back(Output::State(StateChange::LinkRemoved {
                    module: Module::Events,
                    unid: Some(l.unid),
                    zoho_id: Some(l.zoho_id),
                }));
        }
    }
}
