//! Deciding and writing in windows: once both sides are listed (the CRM's records in scope,
//! the Notes view's UNIDs), Notes documents are read a window at a time (`EngineConfig::window`, default [`DEFAULT_WINDOW`]); each window is
//! planned as soon as its documents are in, with the links and the CRM records it involves,
//! written, and dropped. What no window covered is decided last, a window at a time too:
//! linked pairs whose Notes side was not read (unchanged, or gone) and CRM records nothing in
//! Notes paired with. So a run holds one window of Notes content, never the whole mail file.
//!
//! The planner ([`crate::plan::plan`]) decides each window exactly as it decides a whole
//! module: a window carries every record its links and its unlinked documents can pair with
//! (by cross-ID and by match key). The mass-delete guard is decided once for the module, on
//! the listings, before any content is read ([`Engine::guard_on_listings`]).

use super::*;

/// A Notes read waiting for its window.
#[derive(Clone, Debug)]
pub(super) enum Read {
    /// A document of a view, with what the state says about it.
    Doc { unid: String, flags: ReadFlags },
    /// A calendar event (or instance), by key.
    Event { key: String },
}

/// What a module still has to decide, window by window.
#[derive(Debug, Default)]
pub(super) struct Windows {
    /// Notes reads not yet sent.
    pub to_read: VecDeque<Read>,
    /// The keys read in the current window.
    pub keys: Vec<String>,
    /// Links already decided (by index into the run's links, sorted by UNID).
    pub decided: Vec<bool>,
    /// The next link the last windows look at.
    pub next_link: usize,
    /// Unlinked CRM records by the Notes key their cross-ID names.
    pub crm_by_xref: HashMap<String, String>,
    /// Unlinked CRM records by match key.
    pub crm_by_key: HashMap<String, Vec<String>>,
    /// The module's report, filled window by window.
    pub report: Option<ModuleReport>,
    /// Set when the mass-delete guard holds the module back: why.
    pub guard: Option<String>,
}

impl Engine {
    /// Both sides are listed and the reads are known: the guard decides, the pool of CRM
    /// records is indexed, and the first window starts.
    pub(super) fn start_windows(&mut self) {
        let guard = self.guard_on_listings();
        let Some(run) = self.run.as_mut() else { return };
        let module = run.module;
        run.windows.guard = guard;
        run.windows.report = Some(ModuleReport::new(module, ModuleStatus::Completed));
        run.windows.decided = vec![false; run.links.len()];
        for (zid, rec) in &run.crm.records {
            if run.linked_zids.contains_key(zid) {
                continue;
            }
            if let Some(x) = &rec.xref {
                run.windows.crm_by_xref.insert(x.clone(), zid.clone());
            }
            if !rec.private
                && let Some(k) = match_key(module, &rec.fields)
            {
                run.windows
                    .crm_by_key
                    .entry(k)
                    .or_default()
                    .push(zid.clone());
            }
        }
        self.next_window();
    }

    /// Starts the next window: its reads, or else the next of the last windows; ends the
    /// module when nothing is left.
    pub(super) fn next_window(&mut self) {
        let window = self.window();
        let Some(run) = self.run.as_mut() else { return };
        if run.failed.is_some() {
            return; // The next advance ends the module.
        }
        run.phase = Phase::Fetching;
        let mut reads = Vec::new();
        while reads.len() < window {
            match run.windows.to_read.pop_front() {
                Some(r) => reads.push(r),
                None => break,
            }
        }
        if reads.is_empty() && run.notes.records.is_empty() {
            if !self.plan_last_window() {
                self.end_module();
            }
            return;
        }
        for read in reads {
            match read {
                Read::Doc { unid, flags } => {
                    let path = self
                        .config
                        .notes_db_path(&format!("documents/unid/{}?markread=false", encode(&unid)));
                    if let Some(run) = self.run.as_mut() {
                        run.windows.keys.push(unid.clone());
                    }
                    self.enqueue(
                        Side::Notes,
                        "GET",
                        path,
                        None,
                        Purpose::NotesRead { unid, flags },
                    );
                }
                Read::Event { key } => {
                    let path = self.config.event_path(&key, "");
                    if let Some(run) = self.run.as_mut() {
                        run.windows.keys.push(key.clone());
                    }
                    self.enqueue(
                        Side::Notes,
                        "GET",
                        path,
                        None,
                        Purpose::NotesEventRead { key },
                    );
                }
            }
        }
    }

    /// The window's documents are in: plan it with the links and CRM records it involves.
    pub(super) fn plan_window(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        let module = run.module;
        let mut keys = std::mem::take(&mut run.windows.keys);
        keys.extend(run.notes.records.keys().cloned());
        keys.sort();
        keys.dedup();
        let records = std::mem::take(&mut run.notes.records);
        let notes = SideSnapshot {
            unchanged: keys
                .iter()
                .filter(|k| run.notes.unchanged.contains(*k))
                .cloned()
                .collect(),
            records,
            complete: true,
            ..SideSnapshot::default()
        };
        let mut crm = SideSnapshot {
            complete: run.crm.complete,
            ..SideSnapshot::default()
        };
        let mut links = Vec::new();
        for k in &keys {
            if let Some(i) = run.link_index(k) {
                take_link(run, i, &mut links, &mut crm);
            }
        }
        // Unlinked documents: the CRM records they can pair with (cross-ID, match key), and a
        // link whose Notes side is gone that such a document is the twin of.
        let unlinked: Vec<(String, Option<String>, Option<String>)> = notes
            .records
            .iter()
            .filter(|(k, _)| run.link_index(k).is_none())
            .map(|(k, r)| {
                let key = (!r.private).then(|| match_key(module, &r.fields)).flatten();
                (k.clone(), r.xref.clone(), key)
            })
            .collect();
        for (k, xref, key) in unlinked {
            if let Some(z) = &xref {
                match run.linked_zids.get(z).and_then(|u| run.link_index(u)) {
                    Some(i) if !run.windows.decided[i] && !notes_present(run, i) => {
                        take_link(run, i, &mut links, &mut crm);
                    }
                    Some(_) => {}
                    None => take_free(run, z, &mut crm),
                }
                if run.crm.out_of_scope.contains(z) {
                    crm.out_of_scope.insert(z.clone());
                }
            }
            if let Some(z) = run.windows.crm_by_xref.get(&k).cloned() {
                take_free(run, &z, &mut crm);
            }
            // Index entries stay: a record taken but not paired goes back to the pool, where
            // a later window finds it again (entries of records already decided find nothing).
            if let Some(zs) = key.and_then(|key| run.windows.crm_by_key.get(&key).cloned()) {
                for z in zs {
                    take_free(run, &z, &mut crm);
                }
            }
        }
        self.plan_and_execute(&links, &notes, crm);
    }

    /// The last windows: linked pairs no window read (their Notes side unchanged, or gone),
    /// then CRM records nothing paired with. `false` when nothing is left.
    fn plan_last_window(&mut self) -> bool {
        let window = self.window();
        let Some(run) = self.run.as_mut() else {
            return false;
        };
        let mut links = Vec::new();
        let mut crm = SideSnapshot {
            complete: run.crm.complete,
            ..SideSnapshot::default()
        };
        let mut notes = SideSnapshot {
            complete: true,
            ..SideSnapshot::default()
        };
        while links.len() < window && run.windows.next_link < run.links.len() {
            let i = run.windows.next_link;
            run.windows.next_link += 1;
            if run.windows.decided[i] {
                continue;
            }
            let unid = run.links[i].unid.0.clone();
            if run.notes.unchanged.contains(&unid) {
                notes.unchanged.insert(unid);
            }
            take_link(run, i, &mut links, &mut crm);
        }
        if links.is_empty() {
            while crm.records.len() < window {
                match run.crm.records.pop_first() {
                    Some((z, r)) => {
                        crm.records.insert(z, r);
                    }
                    None => break,
                }
            }
            if crm.records.is_empty() {
                return false;
            }
        }
        self.plan_and_execute(&links, &notes, crm);
        true
    }

    /// Plans one window and starts its writes. CRM records it took but did not pair go back
    /// to the pool for a later window.
    fn plan_and_execute(&mut self, links: &[Link], notes: &SideSnapshot, mut crm: SideSnapshot) {
        let Some(run) = self.run.as_mut() else { return };
        let module = run.module;
        let mut p = plan(&PlanInput {
            module,
            settings: &self.config.settings,
            links,
            notes,
            crm: &crm,
            allow_mass_delete: true,
        });
        run.records_read += notes.records.len() + crm.records.len();
        let last = notes.records.is_empty() && links.is_empty();
        if !last {
            // CRM records only taken as candidates: not this window's to decide.
            p.items.retain(|it| {
                let single = it.unid.is_none();
                if single
                    && let Some(z) = &it.zoho_id
                    && let Some(r) = crm.records.remove(&z.0)
                {
                    run.crm.records.insert(z.0.clone(), r);
                }
                !single
            });
        }
        p.guard.clone_from(&run.windows.guard);
        run.exec = vec![ItemExec::default(); p.items.len()];
        run.plan = p;
        run.phase = Phase::Accounts;
        if self.config.dry_run || run.plan.guard.is_some() || module != Module::Contacts {
            return;
        }
        self.start_account_lookups();
    }

    /// Documents per window.
    fn window(&self) -> usize {
        usize::try_from(self.config.window.max(1)).unwrap_or(usize::MAX)
    }

    /// The window's writes are done: its rows go into the module's report.
    pub(super) fn end_window(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        let plan = std::mem::take(&mut run.plan);
        let exec = std::mem::take(&mut run.exec);
        let Some(mut rep) = run.windows.report.take() else {
            return;
        };
        rep.counts.unchanged = rep
            .counts
            .unchanged
            .saturating_add(u32::try_from(plan.unchanged).unwrap_or(u32::MAX));
        for (it, ex) in plan.items.iter().zip(&exec) {
            let mut e = ReportEntry::from_item(it);
            e.error.clone_from(&ex.error);
            if let Some(z) = &ex.new_zid {
                e.zoho_id = Some(z.clone());
            }
            if let Some(u) = &ex.new_unid {
                e.unid = Some(u.clone());
            }
            if let Some(raw) = e
                .zoho_id
                .as_ref()
                .and_then(|z| run.crm_foreign_xref.get(&z.0))
            {
                let claimed = e
                    .zoho_id
                    .as_ref()
                    .is_some_and(|z| !run.crm_not_mine.contains(&z.0));
                e.because(Reason::ForeignCrossId {
                    reason: Box::new(e.why.clone()),
                    value: raw.clone(),
                    replaced: claimed,
                });
            }
            // Held back by the guard: nothing happened, so nothing is counted as done.
            if plan.guard.is_some() && (e.notes.is_some() || e.crm.is_some()) {
                e.verdict = crate::plan::Verdict::Skipped;
                e.because(Reason::HeldBack {
                    would_be: Box::new(e.why.clone()),
                });
            }
            rep.push(e);
        }
        run.windows.report = Some(rep);
        self.next_window();
    }

    /// The mass-delete guard (B4), decided on the listings before any content is read: a side
    /// that lists nothing while links exist, or more than half of the links to be deleted on
    /// one side. Deletions are counted from the listings (a pair gone on one side and present
    /// on the other), so a change that would beat a delete still counts: the guard errs on the
    /// side of holding back.
    fn guard_on_listings(&self) -> Option<String> {
        let run = self.run.as_ref()?;
        let links = run.links.len();
        if self.config.allow_mass_delete || links == 0 {
            return None;
        }
        let module = run.module;
        let notes_listed = |u: &str| match module {
            Module::Events => run.notes_rows.contains_key(u) || run.notes.unchanged.contains(u),
            Module::Contacts | Module::Tasks => run.notes_listed.contains(u),
        };
        let notes_empty = match module {
            Module::Events => {
                run.notes_rows.is_empty()
                    && run.notes.unchanged.is_empty()
                    && run.notes.records.is_empty()
            }
            Module::Contacts | Module::Tasks => run.notes_listed.is_empty(),
        };
        let crm_empty = run.crm.complete
            && run.crm.records.is_empty()
            && run.crm.unchanged.is_empty()
            && run.crm.out_of_scope.is_empty();
        for (side, empty) in [(Side::Notes, notes_empty), (Side::Crm, crm_empty)] {
            if empty {
                return Some(crate::plan::guard_empty_message(side, module, links));
            }
        }
        let crm_gone = |z: &str| {
            run.crm.deleted.contains(z)
                || (run.crm.complete
                    && !run.crm.records.contains_key(z)
                    && !run.crm.unchanged.contains(z)
                    && !run.crm.out_of_scope.contains(z))
        };
        let (mut notes_deletes, mut crm_deletes) = (0, 0);
        for l in &run.links {
            let (n_here, c_gone) = (notes_listed(&l.unid.0), crm_gone(&l.zoho_id.0));
            if n_here && (c_gone || run.crm.out_of_scope.contains(&l.zoho_id.0)) {
                notes_deletes += 1;
            }
            if !n_here && !c_gone {
                crm_deletes += 1;
            }
        }
        for (side, deletes) in [(Side::Notes, notes_deletes), (Side::Crm, crm_deletes)] {
            if deletes * 2 > links {
                return Some(crate::plan::guard_deletes_message(
                    side, module, deletes, links,
                ));
            }
        }
        None
    }
}

/// Whether the Notes side of link `i` was seen this run (read in a window, or unchanged).
fn notes_present(run: &ModuleRun, i: usize) -> bool {
    run.links.get(i).is_some_and(|l| {
        let u = &l.unid.0;
        run.notes.unchanged.contains(u)
            || run.notes_listed.contains(u)
            || run.notes_rows.contains_key(u)
    })
}

/// Takes link `i` into a window: the link itself, and what the CRM showed of its record (and,
/// when that is gone, an unlinked twin naming the link's document).
fn take_link(run: &mut ModuleRun, i: usize, links: &mut Vec<Link>, crm: &mut SideSnapshot) {
    if run.windows.decided.get(i).copied().unwrap_or(true) {
        return;
    }
    run.windows.decided[i] = true;
    let link = run.links[i].clone();
    let z = &link.zoho_id.0;
    let mut present = false;
    if let Some(r) = run.crm.records.remove(z) {
        crm.records.insert(z.clone(), r);
        present = true;
    }
    if run.crm.unchanged.contains(z) {
        crm.unchanged.insert(z.clone());
        present = true;
    }
    if run.crm.deleted.contains(z) {
        crm.deleted.insert(z.clone());
    }
    if run.crm.out_of_scope.contains(z) {
        crm.out_of_scope.insert(z.clone());
        present = true;
    }
    if !present && let Some(twin) = run.windows.crm_by_xref.get(&link.unid.0).cloned() {
        take_free(run, &twin, crm);
    }
    links.push(link);
}

/// Moves an unlinked CRM record from the pool into a window, if it is still there.
fn take_free(run: &mut ModuleRun, zid: &str, crm: &mut SideSnapshot) {
    if run.linked_zids.contains_key(zid) {
        return;
    }
    if let Some(r) = run.crm.records.remove(zid) {
        crm.records.insert(zid.to_owned(), r);
    }
}
