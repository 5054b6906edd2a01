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
use crate::engine::crm_listing::own_xref;

/// A Notes read waiting for its window.
#[derive(Clone, Debug)]
pub(super) enum Read {
    /// A document of a view, with what the state says about it (its UNID held compactly: a
    /// run lists every document of the view before the windows read them).
    Doc { unid: keys::Key, flags: ReadFlags },
    /// A calendar event (or instance), by key.
    Event { key: String },
}

/// What a module still has to decide, window by window.
#[derive(Debug, Default)]
pub(super) struct Windows {
    /// Notes reads not yet sent.
    pub to_read: read_queue::ReadQueue,
    /// The keys read in the current window.
    pub keys: Vec<String>,
    /// Links already decided (by index into the run's links, sorted by UNID).
    pub decided: Vec<bool>,
    /// The next link the last windows look at.
    pub next_link: usize,
    /// Unlinked CRM records by the Notes key their cross-ID names.
    pub crm_by_xref: HashMap<String, String>,
    /// Unlinked CRM records by a hash of their match key. Two keys that share a hash only
    /// bring a record into a window it does not pair in; the planner compares the keys.
    pub crm_by_key: KeyIndex,
    /// The module's report, filled window by window.
    pub report: Option<ModuleReport>,
    /// Set when the mass-delete guard holds the module back: why.
    pub guard: Option<String>,
    /// A window waiting for the bases of its links.
    pub waiting: Option<Waiting>,
}

impl Windows {
    /// Indexes an unlinked CRM record by what can pair it: the Notes key its cross-ID names,
    /// and its match key.
    pub fn index_free(&mut self, module: Module, zid: &str, rec: &crate::model::Record) {
        if let Some(x) = &rec.xref {
            self.crm_by_xref.insert(x.clone(), zid.to_owned());
        }
        if !rec.private
            && let Some(k) = match_key(module, &rec.fields)
        {
            self.crm_by_key.insert(key_hash(&k), zid);
        }
    }
}

/// A window planned but for the bases of its links, which the embedder is reading.
#[derive(Debug)]
pub(super) struct Waiting {
    notes: SideSnapshot,
    crm: SideSnapshot,
    links: Vec<usize>,
    unchanged: usize,
}

impl Engine {
    /// Both sides are listed and the reads are known. The documents the guard must see are
    /// read first: linked ones the listing did not show (offset paging can skip an entry; a
    /// skipped one must not count as deleted) and linked ones whose CRM record is gone or out
    /// of scope (a change beats a delete). Then the windows open.
    pub(super) fn start_windows(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        let crm_away = |run: &ModuleRun, key: &str| {
            run.link_index(key)
                .and_then(|i| run.index.get(i))
                .is_some_and(|e| {
                    run.crm_gone(&e.zid) || run.crm.out_of_scope.contains(e.zid.as_ref())
                })
        };
        let mut reads = std::mem::take(&mut run.windows.to_read);
        let confirm = reads.take_where(&run.index, |read, at| {
            if let Some(i) = at {
                // A linked document's read, by its link's position.
                let listed = run.notes_listed.contains_link(i)
                    || (!run.notes_rows.is_empty()
                        && run.notes_rows.contains_key(&run.index.unid_text(i)));
                let z = run.index.zid_text(i);
                return !listed || run.crm_gone(&z) || run.crm.out_of_scope.contains(&z);
            }
            let key = match read {
                Read::Doc { unid, .. } => unid.text(),
                Read::Event { key } => key.clone(),
            };
            let key = key.as_str();
            let linked = run.link_index(key).is_some();
            let listed =
                run.notes_listed.contains(&run.index, key) || run.notes_rows.contains_key(key);
            linked && (!listed || crm_away(run, key))
        });
        run.windows.to_read = reads;
        run.phase = Phase::Confirming;
        self.enqueue_reads(confirm);
    }

    /// The documents the guard must see are in: the guard decides, and the first window
    /// starts.
    pub(super) fn open_windows(&mut self) {
        let guard = self.guard_on_listings();
        let Some(run) = self.run.as_mut() else { return };
        let module = run.module;
        run.windows.guard = guard;
        run.windows.report = Some(ModuleReport::new(module, ModuleStatus::Completed));
        run.windows.decided = vec![false; run.index.len()];
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
        // Records already held (listed whole) fill the window first.
        let held = run.notes.records.len();
        let mut reads = Vec::new();
        while reads.len() + held < window {
            match run.windows.to_read.pop_front(&run.index) {
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
        self.enqueue_reads(reads);
    }

    /// Reads documents (as many a request as the Domino API takes) and events (one each)
    /// into the current window.
    fn enqueue_reads(&mut self, reads: Vec<Read>) {
        let batch = self.notes.read_batch().max(1);
        let mut docs: Vec<(String, ReadFlags)> = Vec::new();
        for read in reads {
            let key = match read {
                Read::Doc { unid, flags } => {
                    let unid = unid.text();
                    docs.push((unid.clone(), flags));
                    if docs.len() >= batch {
                        self.enqueue_doc_reads(std::mem::take(&mut docs));
                    }
                    unid
                }
                Read::Event { key } => {
                    if let Some(call) = self.notes.calendar().map(|c| c.event_read_call(&key)) {
                        self.enqueue_notes(call, Purpose::NotesEventRead { key: key.clone() });
                    }
                    key
                }
            };
            if let Some(run) = self.run.as_mut() {
                run.windows.keys.push(key);
            }
        }
        if !docs.is_empty() {
            self.enqueue_doc_reads(docs);
        }
    }

    /// One request reading the documents `docs`.
    fn enqueue_doc_reads(&mut self, docs: Vec<(String, ReadFlags)>) {
        let Some(module) = self.run.as_ref().map(|r| r.module) else {
            return;
        };
        let unids: Vec<String> = docs.iter().map(|(u, _)| u.clone()).collect();
        let call = self.notes.read_call(module, &unids);
        self.enqueue_notes(call, Purpose::NotesRead { docs });
    }

    /// The window's documents are in: plan it with the links and CRM records it involves.
    pub(super) fn plan_window(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        let module = run.module;
        let window = usize::try_from(self.config.window.max(1)).unwrap_or(usize::MAX);
        let mut keys = std::mem::take(&mut run.windows.keys);
        // The window's reads, then records held from the listings up to the window's size.
        let mut records = BTreeMap::new();
        for k in &keys {
            if let Some(r) = run.notes.records.remove(k) {
                records.insert(k.clone(), r);
            }
        }
        while records.len() < window {
            match run.notes.records.pop_first() {
                Some((k, r)) => {
                    run.notes_pool_bytes = run
                        .notes_pool_bytes
                        .saturating_sub(u64::try_from(r.fields.len_bytes()).unwrap_or(0) + 128);
                    keys.push(k.clone());
                    records.insert(k, r);
                }
                None => break,
            }
        }
        keys.sort();
        keys.dedup();
        let mut notes = SideSnapshot {
            unchanged: keys
                .iter()
                .filter(|k| run.notes.unchanged.contains(&run.index, k))
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
        let mut fetch = Vec::new();
        for k in &keys {
            if let Some(i) = run.link_index(k) {
                take_link(run, i, &mut links, &mut crm, &mut fetch);
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
                match run.index.by_zid(z) {
                    Some(i) if !run.windows.decided[i] && !notes_present(run, i) => {
                        take_link(run, i, &mut links, &mut crm, &mut fetch);
                    }
                    Some(_) => {}
                    None => take_free(run, z, &mut crm, &mut fetch),
                }
                if run.crm.out_of_scope.contains(z) {
                    crm.out_of_scope.insert(z.clone());
                }
            }
            if let Some(z) = run.windows.crm_by_xref.get(&k).cloned() {
                take_free(run, &z, &mut crm, &mut fetch);
            }
            // Index entries stay: a record taken but not paired goes back to the pool, where
            // a later window finds it again (entries of records already decided find nothing).
            if let Some(key) = key {
                for z in run.windows.crm_by_key.get(key_hash(&key)) {
                    take_free(run, &z, &mut crm, &mut fetch);
                }
            }
        }
        let unchanged = settle_unchanged(run, &mut links, &mut notes, &mut crm);
        self.refetch_then_plan(
            Waiting {
                notes,
                crm,
                links,
                unchanged,
            },
            fetch,
        );
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
        let mut unchanged = 0;
        let mut fetch = Vec::new();
        while links.len() < window && run.windows.next_link < run.index.len() {
            let i = run.windows.next_link;
            run.windows.next_link += 1;
            if run.windows.decided[i] {
                continue;
            }
            if in_step(run, i) {
                // What settling would find, without building the window's entries for it.
                run.windows.decided[i] = true;
                unchanged += 1;
                continue;
            }
            let unid = run.index.unid_text(i);
            if run.notes.unchanged.contains_link(i) {
                notes.unchanged.insert(unid);
            }
            take_link(run, i, &mut links, &mut crm, &mut fetch);
            unchanged += settle_unchanged(run, &mut links, &mut notes, &mut crm);
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
            // Then those whose content was not held, read again.
            while crm.records.len() + fetch.len() < window {
                match run.crm_spilled.pop_first() {
                    Some(z) => fetch.push(z),
                    None => break,
                }
            }
            if crm.records.is_empty() && fetch.is_empty() && unchanged == 0 {
                return false;
            }
        }
        self.refetch_then_plan(
            Waiting {
                notes,
                crm,
                links,
                unchanged,
            },
            fetch,
        );
        true
    }

    /// Plans a window once the CRM records it needs that were not held are read again by id
    /// (100 a call), and the bases of its links are known.
    fn refetch_then_plan(&mut self, w: Waiting, fetch: Vec<String>) {
        if fetch.is_empty() {
            self.with_bases(w);
            return;
        }
        let Some(run) = self.run.as_mut() else { return };
        let module = run.module;
        run.phase = Phase::Refetch;
        run.windows.waiting = Some(w);
        let xref = run.xref_exists;
        let fields = self.config.crm_fields(module, xref);
        for chunk in fetch.chunks(CRM_IDS_PER_LOOKUP) {
            let path = self.config.crm_path(&format!(
                "{}?ids={}&fields={fields}",
                module.crm_api_name(),
                chunk.join(",")
            ));
            self.enqueue(Side::Crm, "GET", path, None, Purpose::CrmRefetch);
        }
    }

    /// Records read again by id: into the waiting window (those gone or no longer the user's
    /// are simply not there).
    pub(super) fn on_crm_refetch(&mut self, resp: &HttpResponse) {
        let Some(body) = self.crm_listing(resp, "read Zoho records again") else {
            return;
        };
        let Some(module) = self.run.as_ref().map(|r| r.module) else {
            return;
        };
        let view_scope = matches!(self.config.settings.scope.of(module), Scope::View(_));
        let mut got = Vec::new();
        for (id, rec) in listed_records(&body) {
            if view_scope || self.owned_by_me(rec) {
                got.push((id.to_owned(), self.crm_record_of(module, rec)));
            }
        }
        let Some(run) = self.run.as_mut() else { return };
        for (id, rec) in got {
            let rec = own_xref(&self.mail_file, run, &id, rec);
            if let Some(w) = run.windows.waiting.as_mut() {
                w.crm.records.insert(id, rec);
            }
        }
    }

    /// Every record read again is in: on to the bases.
    pub(super) fn refetched(&mut self) {
        let Some(w) = self.run.as_mut().and_then(|r| r.windows.waiting.take()) else {
            return;
        };
        self.with_bases(w);
    }

    /// Plans a window once the bases of its links are known: at once when they are held,
    /// otherwise after the embedder has read them ([`LinkWant::Unids`]).
    fn with_bases(&mut self, w: Waiting) {
        let Some(run) = self.run.as_mut() else { return };
        if run.index.holds_bases() || w.links.is_empty() {
            let links: Vec<Link> = w.links.iter().filter_map(|i| run.index.link(*i)).collect();
            self.plan_and_execute(&links, &w.notes, w.crm, w.unchanged);
            return;
        }
        let unids = w
            .links
            .iter()
            .filter_map(|i| run.index.get(*i))
            .map(|e| NotesUnid(e.unid.to_string()))
            .collect();
        let module = run.module;
        run.phase = Phase::Bases;
        run.windows.waiting = Some(w);
        self.link_reads.push(module, LinkWant::Unids { unids });
    }

    /// The bases a waiting window asked for: every one must be there (the store's links
    /// cannot change while the user's run holds the lease).
    pub(super) fn bases_read(&mut self, asked: &[NotesUnid], links: Vec<Link>) {
        let Some(run) = self.run.as_mut() else { return };
        let Some(w) = run.windows.waiting.take() else {
            return;
        };
        let got: BTreeSet<&str> = links.iter().map(|l| l.unid.0.as_str()).collect();
        let missing = asked.iter().filter(|u| !got.contains(u.0.as_str())).count();
        if missing > 0 || links.len() != asked.len() {
            self.fail_module(format!(
                "the stored links changed during the run: {missing} of the links it started \
                 with could not be read again; the next run starts from what is stored then"
            ));
            return;
        }
        self.plan_and_execute(&links, &w.notes, w.crm, w.unchanged);
    }

    /// Plans one window and starts its writes. CRM records it took but did not pair go back
    /// to the pool for a later window.
    fn plan_and_execute(
        &mut self,
        links: &[Link],
        notes: &SideSnapshot,
        mut crm: SideSnapshot,
        unchanged: usize,
    ) {
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
        p.unchanged += unchanged;
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

    /// The mass-delete guard (B4), decided before any window writes: a side that lists
    /// nothing while links exist, or more than half of the links to be deleted on one side.
    /// A pair is deleted on one side when it is gone on the other and unchanged here since the
    /// last sync (a change beats a delete; a copy changed in Notes is kept when its record
    /// leaves the scope): the documents that decide it were read first
    /// ([`Engine::start_windows`]), and content is compared with the link's base by digest.
    fn guard_on_listings(&self) -> Option<String> {
        let run = self.run.as_ref()?;
        let links = run.index.len();
        if self.config.allow_mass_delete || links == 0 {
            return None;
        }
        let module = run.module;
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
            && run.crm_spilled.is_empty()
            && run.crm.unchanged.is_empty()
            && run.crm.out_of_scope.is_empty();
        for (side, empty) in [(Side::Notes, notes_empty), (Side::Crm, crm_empty)] {
            if empty {
                return Some(crate::plan::guard_empty_message(side, module, links));
            }
        }
        let (mut notes_deletes, mut crm_deletes) = (0, 0);
        for e in run.index.iter() {
            let (u, z): (&str, &str) = (&e.unid, &e.zid);
            // Each side: gone (`None`), or present, as the base (`true`) or changed.
            let notes = match run.notes.records.get(u) {
                Some(r) => Some(r.fields.digest() == e.digest),
                None if run.notes.unchanged.contains(&run.index, u)
                    || run.notes_listed.contains(&run.index, u)
                    || run.notes_rows.contains_key(u) =>
                {
                    Some(true)
                }
                None => None,
            };
            let crm_away = run.crm.out_of_scope.contains(z);
            let crm = match run.crm.records.get(z) {
                Some(r) => Some(r.fields.digest() == e.digest),
                None if run.crm_gone(z) || crm_away => None,
                None => Some(true),
            };
            if notes == Some(true) && (crm.is_none() || crm_away) {
                notes_deletes += 1;
            }
            if notes.is_none() && crm == Some(true) && !crm_away {
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
    run.index.get(i).is_some_and(|l| {
        let u: &str = &l.unid;
        run.notes.unchanged.contains(&run.index, u)
            || run.notes_listed.contains(&run.index, u)
            || run.notes_rows.contains_key(u)
    })
}

/// Whether link `i`'s pair is, on both sides, as the link remembers, with nothing else of the
/// run bound to it: its Notes side unchanged, its CRM side listed unchanged (or, from an
/// incremental listing, not listed, reported deleted or out of scope) and no unlinked CRM
/// record naming its document. [`take_link`] then [`settle_unchanged`] would take it out of its
/// window again; at a hundred thousand links in step, an incremental run's usual case, this
/// answers the same from the link's bits, with no key written out.
fn in_step(run: &ModuleRun, i: usize) -> bool {
    if !run.notes.unchanged.contains_link(i) {
        return false;
    }
    if run.crm.unchanged.contains_link(i) {
        return true;
    }
    !run.crm.complete
        && run.crm.records.is_empty()
        && run.crm.deleted.is_empty()
        && run.crm.out_of_scope.is_empty()
        && run.windows.crm_by_xref.is_empty()
}

/// Takes link `i` into a window: the link itself, and what the CRM showed of its record (and,
/// when that is gone, an unlinked twin naming the link's document).
fn take_link(
    run: &mut ModuleRun,
    i: usize,
    links: &mut Vec<usize>,
    crm: &mut SideSnapshot,
    fetch: &mut Vec<String>,
) {
    if run.windows.decided.get(i).copied().unwrap_or(true) {
        return;
    }
    run.windows.decided[i] = true;
    let Some(entry) = run.index.get(i) else {
        return;
    };
    let (unid, z) = (entry.unid.to_string(), entry.zid.to_string());
    let z = &z;
    let mut present = false;
    if let Some(r) = run.crm.records.remove(z) {
        crm.records.insert(z.clone(), r);
        present = true;
    }
    if run.crm.unchanged.contains(&run.index, z) {
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
    if !present && let Some(twin) = run.windows.crm_by_xref.get(&unid).cloned() {
        take_free(run, &twin, crm, fetch);
    }
    links.push(i);
}

/// Takes out of a window the links whose pair is, on both sides, as the link remembers (the
/// planner would decide nothing for them): their bases need not be read. Returns how many.
fn settle_unchanged(
    run: &ModuleRun,
    links: &mut Vec<usize>,
    notes: &mut SideSnapshot,
    crm: &mut SideSnapshot,
) -> usize {
    let before = links.len();
    links.retain(|i| {
        let Some(e) = run.index.get(*i) else {
            return true;
        };
        let (u, z) = (e.unid.as_ref(), e.zid.as_ref());
        let notes_same = notes.unchanged.contains(u)
            || notes.records.get(u).is_some_and(|r| {
                !r.private && r.xref.as_deref() == Some(z) && r.fields.digest() == e.digest
            });
        let crm_same = crm.unchanged.contains(z)
            || (!crm.complete
                && !crm.records.contains_key(z)
                && !crm.deleted.contains(z)
                && !crm.out_of_scope.contains(z));
        if notes_same && crm_same {
            notes.records.remove(u);
            notes.unchanged.remove(u);
            crm.unchanged.remove(z);
            false
        } else {
            true
        }
    });
    before - links.len()
}

/// Moves an unlinked CRM record from the pool into a window, if it is still there.
/// A record whose content was not held is read again by id before the window is planned.
fn take_free(run: &mut ModuleRun, zid: &str, crm: &mut SideSnapshot, fetch: &mut Vec<String>) {
    if run.index.has_zid(zid) {
        return;
    }
    if let Some(r) = run.crm.records.remove(zid) {
        crm.records.insert(zid.to_owned(), r);
    } else if run.crm_spilled.remove(zid) {
        fetch.push(zid.to_owned());
    }
}

/// A 64-bit FNV-1a hash of a match key.
fn key_hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Zoho ids by a 64-bit hash, compactly: a decimal id (every Zoho id) takes 16 bytes with its
/// hash, in a list sorted on first lookup; any other id is kept as text.
#[derive(Debug, Default)]
pub(super) struct KeyIndex {
    numeric: Vec<(u64, u64)>,
    sorted: bool,
    text: HashMap<u64, Vec<String>>,
}

impl KeyIndex {
    /// Adds `zid` under `hash`.
    fn insert(&mut self, hash: u64, zid: &str) {
        let decimal = !zid.is_empty() && !zid.starts_with('0') && zid.len() <= 19;
        match zid.parse::<u64>() {
            Ok(n) if decimal && n.to_string() == zid => {
                self.numeric.push((hash, n));
                self.sorted = false;
            }
            _ => self.text.entry(hash).or_default().push(zid.to_owned()),
        }
    }

    /// The ids under `hash`.
    fn get(&mut self, hash: u64) -> Vec<String> {
        if !self.sorted {
            self.numeric.sort_unstable();
            self.numeric.dedup();
            self.sorted = true;
        }
        let from = self.numeric.partition_point(|(h, _)| *h < hash);
        let mut ids: Vec<String> = self.numeric[from..]
            .iter()
            .take_while(|(h, _)| *h == hash)
            .map(|(_, n)| n.to_string())
            .collect();
        ids.extend(self.text.get(&hash).into_iter().flatten().cloned());
        ids
    }
}
