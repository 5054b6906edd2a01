//! How modules and the run end: failures (of a request, a module, the whole run), the module's
//! report and cursors, and the run's outcome.

use super::*;

impl Engine {
    pub(super) fn end_module(&mut self) {
        let Some(mut run) = self.run.take() else {
            return;
        };
        let module = run.module;
        // The rows of the windows written so far, whether or not the module got to its end.
        let mut rep = run
            .windows
            .report
            .take()
            .unwrap_or_else(|| ModuleReport::new(module, ModuleStatus::Completed));
        if let Some(reason) = &run.failed {
            rep.status = ModuleStatus::Failed;
            rep.message = Some(reason.clone());
            self.report.outcome = RunOutcome::Partial;
            // A failed read or write leaves the cursors as they were; force a full read.
            if !self.config.dry_run {
                self.outputs.push_back(Output::State(StateChange::Cursors {
                    module,
                    notes: None,
                    crm: None,
                    fingerprint: None,
                }));
            }
            self.report.modules.push(rep);
            return;
        }
        if let Some(g) = &run.windows.guard {
            rep.status = ModuleStatus::Guarded;
            rep.message = Some(g.clone());
            self.report.outcome = RunOutcome::Partial;
        }
        for e in &run.unreadable {
            rep.push(e.clone());
        }
        if rep.counts.errors > 0 {
            self.report.outcome = RunOutcome::Partial;
        }
        if !self.config.dry_run && run.windows.guard.is_none() {
            let keep_incremental = !run.transient_errors;
            self.outputs.push_back(Output::State(StateChange::Cursors {
                module,
                notes: run.notes_cursor_next.filter(|_| keep_incremental),
                crm: run.crm_cursor_next.filter(|_| keep_incremental),
                fingerprint: keep_incremental.then(|| self.fingerprint(module)),
            }));
        }
        self.report.modules.push(rep);
    }

    pub(super) fn finish(&mut self) {
        self.report.finished = self.now;
        self.report.requests = self.transport.counts;
        self.finished = true;
        // An error that ended the whole run left modules unreported: the one it stopped (or,
        // when it came before any module, the first) failed with that error, and the later
        // ones did not run. Every module that is on appears in the report, with its reason.
        if let Some(error) = self.report.error.clone() {
            let mut stopped = None;
            for module in Module::ALL {
                if self.report.modules.iter().any(|m| m.module == module) {
                    continue;
                }
                let rep = if !self.config.settings.enabled(module) {
                    ModuleReport::new(module, ModuleStatus::Off)
                } else if let Some(at) = stopped {
                    let mut rep = ModuleReport::new(module, ModuleStatus::NotRun);
                    rep.message = Some(format!(
                        "did not run: the sync stopped when {at} failed ({error})"
                    ));
                    rep
                } else {
                    stopped = Some(module);
                    let mut rep = ModuleReport::new(module, ModuleStatus::Failed);
                    rep.message = Some(error.clone());
                    rep
                };
                self.report.modules.push(rep);
            }
            self.report
                .modules
                .sort_by_key(|m| Module::ALL.iter().position(|x| *x == m.module));
        }
        // The outcome says how far the run got: completed only when every module that is on
        // completed with no record failing; failed when none of them ran (the run could not be
        // carried out at all); otherwise partial.
        let on: Vec<&ModuleReport> = self
            .report
            .modules
            .iter()
            .filter(|m| m.status != ModuleStatus::Off)
            .collect();
        let ran = on
            .iter()
            .any(|m| matches!(m.status, ModuleStatus::Completed | ModuleStatus::Guarded));
        let failing = on.iter().any(|m| m.status.is_failure());
        if self.report.error.is_some() || failing {
            self.report.outcome = if ran {
                RunOutcome::Partial
            } else {
                RunOutcome::Failed
            };
        }
        if self.report.outcome == RunOutcome::Failed && self.report.error.is_none() {
            self.report.error = self.report.modules.iter().find_map(|m| m.message.clone());
        }
    }

    pub(super) fn fatal(&mut self, message: String) {
        self.report.outcome = RunOutcome::Failed;
        self.report.error = Some(message);
        self.transport.clear_pending();
        self.link_reads.clear_pending();
        self.run = None;
        self.modules.clear();
        self.finish();
    }

    pub(super) fn fail_module(&mut self, message: String) {
        if let Some(run) = self.run.as_mut()
            && run.failed.is_none()
        {
            run.failed = Some(message);
        }
        self.transport.clear_pending();
        self.link_reads.clear_pending();
    }

    pub(super) fn on_failure(&mut self, q: Queued, message: &str, transient: bool) {
        match q.purpose {
            Purpose::NotesEventCreate { item }
            | Purpose::NotesRevision { item, .. }
            | Purpose::NotesUpdate { item, .. }
            | Purpose::NotesEventPrefetch { item, .. }
            | Purpose::NotesEventDelete { item }
            | Purpose::NotesEventDeletePrefetch { item, .. } => {
                self.item_error(item, message, transient);
                self.event_write_done(item);
            }
            Purpose::NotesCreate { items } | Purpose::NotesDelete { items, .. } => {
                for i in items {
                    self.item_error(i, message, transient);
                }
            }
            Purpose::CrmInsert { items }
            | Purpose::CrmUpdate { items, .. }
            | Purpose::CrmDelete { items } => {
                for i in items {
                    self.item_error(i, message, transient);
                }
            }
            Purpose::CrmAccountsQuery | Purpose::CrmAccountsList => {
                self.accounts_failed(None, message, transient);
            }
            Purpose::CrmAccountsInsert { names } => {
                self.accounts_failed(Some(&names), message, transient);
            }
            Purpose::CrmCurrentUser | Purpose::NotesSchema => self.fatal(message.to_owned()),
            Purpose::NotesMailFile => self.on_mail_file(None),
            Purpose::CrmFields
            | Purpose::CrmViews
            | Purpose::CrmScopeProbe
            | Purpose::CrmIdsLookup
            | Purpose::CrmRefetch
            | Purpose::CrmFieldCreate
            | Purpose::NotesChanges
            | Purpose::NotesViewPage { .. }
            | Purpose::NotesViewUnids
            | Purpose::CrmListPage
            | Purpose::CrmKeysetPage { .. }
            | Purpose::CrmDeletedPage { .. }
            | Purpose::NotesRead { .. }
            | Purpose::NotesEventsPage { .. }
            | Purpose::NotesEventRead { .. } => self.fail_module(message.to_owned()),
        }
    }
}
