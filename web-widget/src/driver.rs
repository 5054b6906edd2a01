//! Drives the sans-IO sync engine in the browser, the way the headless runner drives it under
//! wasmtime: the engine's HTTP requests go through the host's proxy (see `transport`), its
//! state changes are stored with `/api/sync/state-changes` before any later request is sent
//! (crash safety), the lease is held and renewed for the whole run, and the final report is
//! recorded with `/api/runs`.
//!
//! Cancelling stops sending new requests; the state changes already emitted are stored, so the
//! next sync continues from there (answers still in flight are dropped: the cross-IDs make the
//! next run re-link anything they created instead of duplicating it).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

use futures_util::StreamExt;
use futures_util::future::{Either, select};
use futures_util::stream::SelectAll;
use gloo_timers::future::TimeoutFuture;
use serde::Deserialize;
use serde_json::{Value, json};
use sync_core::report::{Counts, ModuleStatus};
use sync_core::{
    Engine, EngineConfig, Link, LinkQuery, LinkWant, Module, Output, RunReport, StateChange,
    SyncState, Timestamp,
};

use crate::api::{self, ApiError, Method};
use crate::transport::{Arrival, Arrivals, perform};

/// Renew the lease this often (it lasts two minutes).
const RENEW_MS: i64 = 30_000;
/// Wake up at least this often while waiting, to renew the lease and notice a cancel.
const MAX_WAIT_MS: i64 = 1_000;

/// Where one module is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleState {
    /// Not started yet.
    Waiting,
    /// Running; the engine's phase (setup, listing, reading, writing, linking).
    Running(String),
    /// Its turn is over and the next module runs; how it ended is known with the report.
    Ended,
    /// The run is over: how this module ended.
    Finished(ModuleStatus),
}

/// Progress of one module, for its progress bar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleProgress {
    /// The module.
    pub module: Module,
    /// Where it is.
    pub state: ModuleState,
    /// Records read from both sides so far.
    pub records_read: u32,
    /// Requests answered so far (this module).
    pub requests_done: u32,
    /// Requests known to be needed so far (this module; grows while listing).
    pub requests_known: u32,
    /// The module's counts, once done.
    pub counts: Option<Counts>,
}

impl ModuleProgress {
    /// Percent done, 0–100.
    #[must_use]
    pub fn percent(&self) -> u32 {
        match self.state {
            ModuleState::Waiting | ModuleState::Finished(ModuleStatus::NotRun) => 0,
            ModuleState::Ended
            | ModuleState::Finished(
                ModuleStatus::Completed | ModuleStatus::Guarded | ModuleStatus::Off,
            ) => 100,
            // A failed module's bar stays where it stopped.
            ModuleState::Running(_) | ModuleState::Finished(ModuleStatus::Failed) => {
                let known = self.requests_known.max(1);
                (self.requests_done.min(known) * 95 / known).max(3)
            }
        }
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RunEnd {
    /// The engine finished; the report and its id in the history.
    Finished(Box<RunReport>, i64),
    /// The user cancelled.
    Cancelled,
}

#[derive(Deserialize)]
struct Lease {
    lease: String,
}

#[derive(Deserialize)]
struct StartState {
    state: SyncState,
    config: EngineConfig,
}

fn now() -> Timestamp {
    // Milliseconds since the epoch fit an i64 exactly for the next few hundred thousand years.
    #[allow(clippy::cast_possible_truncation)]
    Timestamp(js_sys::Date::now() as i64)
}

/// Every request in flight, each with its arrivals.
type InFlight = SelectAll<Arrivals>;

struct Run<'a> {
    lease: String,
    dry_run: bool,
    cancel: &'a Cell<bool>,
    last_renew: i64,
    pending: Vec<StateChange>,
    rows: Vec<ModuleProgress>,
    /// Request counters when the current module started: (module, done, known).
    base: Option<(Module, u32, u32)>,
}

impl Run<'_> {
    async fn flush(&mut self) -> Result<(), ApiError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let changes = std::mem::take(&mut self.pending);
        let _: Value = api::call(
            Method::Post,
            "/api/sync/state-changes",
            Some(&json!({ "changes": changes })),
            &[("X-Sync-Lease", &self.lease)],
        )
        .await?;
        Ok(())
    }

    async fn renew_if_due(&mut self) -> Result<(), ApiError> {
        let t = now().0;
        if t - self.last_renew < RENEW_MS {
            return Ok(());
        }
        let _: Value = api::call(
            Method::Post,
            "/api/sync/lease/renew",
            None,
            &[("X-Sync-Lease", &self.lease)],
        )
        .await?;
        self.last_renew = t;
        Ok(())
    }

    fn track(&mut self, engine: &Engine) {
        let p = engine.progress();
        let Some(module) = p.module else {
            return;
        };
        if self.base.is_none_or(|(m, _, _)| m != module) {
            for row in &mut self.rows {
                if row.module == module {
                    break;
                }
                row.state = ModuleState::Ended;
            }
            self.base = Some((module, p.requests_done, p.requests_known));
        }
        let (_, done0, _) = self.base.unwrap_or((module, 0, 0));
        if let Some(row) = self.rows.iter_mut().find(|r| r.module == module) {
            row.state = ModuleState::Running(p.phase.as_str().to_owned());
            row.records_read = p.records_read;
            row.requests_done = p.requests_done.saturating_sub(done0);
            row.requests_known = p.requests_known.saturating_sub(done0);
        }
    }

    fn finish(&mut self, report: &RunReport) {
        let ended: BTreeMap<Module, (ModuleStatus, Counts)> = report
            .modules
            .iter()
            .map(|m| (m.module, (m.status, m.counts)))
            .collect();
        for row in &mut self.rows {
            // A module the report does not name did not run.
            let (status, counts) = ended
                .get(&row.module)
                .map_or((ModuleStatus::NotRun, None), |(s, c)| (*s, Some(*c)));
            row.state = ModuleState::Finished(status);
            if !status.is_failure() {
                row.requests_done = row.requests_known;
            }
            row.counts = counts;
        }
    }

    async fn drive(
        &mut self,
        mut engine: Engine,
        on_progress: &dyn Fn(Vec<ModuleProgress>),
    ) -> Result<RunEnd, ApiError> {
        let mut in_flight: InFlight = SelectAll::new();
        loop {
            if self.cancel.get() {
                self.flush().await?;
                return Ok(RunEnd::Cancelled);
            }
            self.renew_if_due().await?;
            match engine.poll_output() {
                Output::Request(req) => {
                    // Store what already happened before anything else is sent.
                    self.flush().await?;
                    in_flight.push(perform(req));
                }
                Output::State(change) => {
                    if !self.dry_run {
                        self.pending.push(change);
                    }
                }
                Output::Links(q) => {
                    // The stored links, read from the server as the engine needs them, once
                    // what it already changed is stored there.
                    self.flush().await?;
                    let links = read_links(&q).await?;
                    // An unknown id cannot happen: the engine just asked for it.
                    let _ = engine.handle_links(q.id, links);
                }
                Output::Wait(until) => {
                    self.flush().await?;
                    self.track(&engine);
                    on_progress(self.rows.clone());
                    let wait = until
                        .map_or(MAX_WAIT_MS, |t| t.0 - now().0)
                        .clamp(0, MAX_WAIT_MS);
                    let timer = TimeoutFuture::new(u32::try_from(wait).unwrap_or(0));
                    if in_flight.is_empty() {
                        timer.await;
                        engine.handle_timeout(now());
                        continue;
                    }
                    match select(in_flight.next(), timer).await {
                        Either::Left((Some(Arrival::Part(id, part)), _)) => {
                            // An unknown id cannot happen: every part is of a request it sent.
                            let _ = engine.handle_response_part(id, &part);
                        }
                        Either::Left((Some(Arrival::Answer(id, answer)), _)) => {
                            // An unknown id cannot happen: every answer is for a request it sent.
                            let _ = engine.handle_response(id, now(), answer);
                        }
                        Either::Left((None, _)) | Either::Right(_) => {
                            engine.handle_timeout(now());
                        }
                    }
                }
                Output::Done(report) => {
                    self.flush().await?;
                    self.finish(&report);
                    on_progress(self.rows.clone());
                    #[derive(Deserialize)]
                    struct Recorded {
                        id: i64,
                    }
                    let recorded: Recorded = api::call(
                        Method::Post,
                        "/api/runs",
                        Some(&serde_json::to_value(&*report).map_err(|e| ApiError {
                            status: 0,
                            code: "report".into(),
                            message: e.to_string(),
                        })?),
                        &[("X-Sync-Lease", &self.lease)],
                    )
                    .await?;
                    return Ok(RunEnd::Finished(report, recorded.id));
                }
            }
        }
    }
}

/// One sync (or, with `dry_run`, a preview) of the signed-in user, holding the lease
/// throughout. `on_progress` gets the per-module progress as it moves; setting `cancel`
/// stops the run.
///
/// # Errors
/// [`ApiError`] when the lease is taken (`sync_running`), the user is not connected, or the
/// host refuses to store the state or the report.
pub async fn run(
    dry_run: bool,
    cancel: Rc<Cell<bool>>,
    on_progress: impl Fn(Vec<ModuleProgress>),
) -> Result<RunEnd, ApiError> {
    // A lease an earlier run could not give back (the host was unreachable when it ended)
    // would refuse this run until it expired: give it back first.
    if let Some(stale) = UNRELEASED_LEASE.take()
        && release(&stale).await.is_err()
    {
        UNRELEASED_LEASE.set(Some(stale));
    }
    let lease: Lease = api::call(Method::Post, "/api/sync/lease", None, &[]).await?;
    let mut run = Run {
        lease: lease.lease,
        dry_run,
        cancel: &cancel,
        last_renew: now().0,
        pending: Vec::new(),
        rows: Vec::new(),
        base: None,
    };
    let result = async {
        let start: StartState = api::get("/api/sync/state").await?;
        let mut config = start.config;
        config.dry_run = dry_run;
        run.rows = Module::ALL
            .into_iter()
            .filter(|m| config.settings.enabled(*m))
            .map(|module| ModuleProgress {
                module,
                state: ModuleState::Waiting,
                records_read: 0,
                requests_done: 0,
                requests_known: 0,
                counts: None,
            })
            .collect();
        on_progress(run.rows.clone());
        let engine = Engine::new(config, start.state, now());
        run.drive(engine, &on_progress).await
    }
    .await;
    let lease = run.lease.clone();
    if release(&lease).await.is_err() {
        UNRELEASED_LEASE.set(Some(lease));
    }
    result
}

thread_local! {
    /// The lease of a run that ended while the host could not be reached.
    static UNRELEASED_LEASE: std::cell::RefCell<Option<String>> =
        const { std::cell::RefCell::new(None) };
}

/// Gives the lease back. An answer from the host, even a refusal (the lease expired or is
/// another run's now), settles it; only an unreachable host is an error worth retrying.
async fn release(lease: &str) -> Result<(), ApiError> {
    match api::call::<Value>(
        Method::Delete,
        "/api/sync/lease",
        None,
        &[("X-Sync-Lease", lease)],
    )
    .await
    {
        Err(e) if e.is_unreachable() => Err(e),
        _ => Ok(()),
    }
}

/// A page of the user's stored links, from `/api/sync/links`.
async fn read_links(q: &LinkQuery) -> Result<Vec<Link>, ApiError> {
    #[derive(Deserialize)]
    struct Page {
        links: Vec<Link>,
    }
    let module = q.module.crm_api_name().to_lowercase();
    let page: Page = match &q.want {
        LinkWant::Page { after, limit } => {
            let mut path = format!("/api/sync/links?module={module}&limit={limit}");
            if let Some(after) = after {
                path.push_str(&format!(
                    "&after={}",
                    js_sys::encode_uri_component(&after.0)
                ));
            }
            api::get(&path).await?
        }
        LinkWant::Unids { unids } => {
            let body = json!({ "module": module, "unids": unids });
            api::call(Method::Post, "/api/sync/links", Some(&body), &[]).await?
        }
    };
    Ok(page.links)
}
