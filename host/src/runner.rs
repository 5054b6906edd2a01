//! Runs the sync-core component under wasmtime: one [`Runner`] (one compiled component, one
//! wasmtime `Engine`) per process, one `Store` per sync.
//!
//! The guest gets an empty WASI context (no files, no environment, no network, no clock it
//! could use to do I/O), a memory limit and a wall-clock deadline per call (epoch
//! interruption), which stops a guest that loops. Counting fuel as well (a deterministic budget
//! per call, [`Limits::fuel_per_call`]) is off by default: it cost the engine a fifth of its
//! time (`tests/bench/BENCHMARKS.md`, the engine bench) for no protection the deadline lacks. Everything it wants from the world it asks for through the
//! engine's `output::request`, which the host performs with [`Upstreams::perform`].
//!
//! Compiling the component to native code takes most of a short run's time, so the compiled
//! code is cached on disk (wasmtime's own cache, keyed by the component's bytes, the wasmtime
//! version and the compiler settings): in `$NZSYNC_CACHE_DIR`, else `$XDG_CACHE_HOME/nzsync`,
//! else `~/.cache/nzsync`. `NZSYNC_CACHE_DIR=` (empty) turns the cache off. Like any cache of
//! native code it must only be writable by the user who runs `nzsync`.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sync_core::{
    EngineConfig, Header, HttpResponse, Link, LinkWant, Module, RunReport, StateChange, SyncState,
    TransportError, TransportErrorKind,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use wasmtime::component::{Component, Linker, ResourceAny, ResourceTable};
use wasmtime::{Cache, CacheConfig, Config, Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::upstream::Upstreams;

mod bindings {
    wasmtime::component::bindgen!({ path: "../sync-core/wit", world: "sync-engine" });
}

use bindings::exports::nzsync::engine::sync as wit;

/// The sync-core component, built by `build.rs`.
pub static COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sync_core.wasm"));

/// The environment variable naming the compiled-code cache directory (empty: no cache).
pub const CACHE_DIR_ENV: &str = "NZSYNC_CACHE_DIR";

/// Where compiled code is cached, if anywhere (see the module docs).
fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os(CACHE_DIR_ENV) {
        Some(d) if d.is_empty() => None,
        Some(d) => Some(PathBuf::from(d)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|d| d.join("nzsync")),
    }
}

/// wasmtime's compiled-code cache in `dir`; `None` (compile every time) when there is no such
/// directory or it cannot be used.
fn compile_cache(dir: Option<PathBuf>) -> Option<Cache> {
    let dir = dir?.join("wasmtime");
    std::fs::create_dir_all(&dir).ok()?;
    let mut config = CacheConfig::new();
    config.with_directory(dir);
    match Cache::new(config) {
        Ok(cache) => Some(cache),
        Err(e) => {
            tracing::debug!("compiling without a cache: {e}");
            None
        }
    }
}

/// Performs one engine request (see [`Runner::run_with`]): the host's is
/// [`Upstreams::perform_in_parts`]. It may hand the body to the [`BodyParts`] as it arrives and
/// return the answer with the rest.
pub type Transport = Arc<
    dyn Fn(
            sync_core::HttpRequest,
            BodyParts,
        ) -> Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send>>
        + Send
        + Sync,
>;

/// What arrives for the engine while it waits.
enum Arrival {
    /// A part of an answer's body, with its room among the answer's parts waiting (given back
    /// when the engine has taken the part).
    Part(u64, String, OwnedSemaphorePermit),
    /// An answer (with the rest of its body), or why none came.
    Answer(u64, Result<HttpResponse, TransportError>),
}

/// Where a [`Transport`] hands the parts of one answer's body as they arrive; they reach the
/// engine (`handle-response-part`) before the answer itself.
#[derive(Clone)]
pub struct BodyParts {
    id: u64,
    /// The size a part reaches before it is handed on.
    pub bytes: usize,
    tx: mpsc::UnboundedSender<Arrival>,
    /// Room for this answer's parts waiting for the engine.
    room: Arc<Semaphore>,
}

impl BodyParts {
    /// Hands on the next part, once fewer than [`PARTS_WAITING`] of this answer's parts wait for
    /// the engine: the answer is read from the network no faster than the engine takes it.
    pub async fn send(&self, part: String) {
        if let Ok(permit) = self.room.clone().acquire_owned().await {
            let _ = self.tx.send(Arrival::Part(self.id, part, permit));
        }
    }
}

/// How many parts of one answer may wait for the engine at once. Past it the transport waits,
/// and with it the reading of the answer: a million-document changed list arrives from a
/// server on loopback far faster than the engine reads it, and without this bound it was held
/// whole in the queue, 180 MB at a million documents. (Per answer, not one bound for all that
/// arrives: answers keep the order they arrive in, which a shared bound would shuffle.)
const PARTS_WAITING: usize = 16;

/// A fuel budget for one call into the guest, for an embedder that wants one
/// ([`Limits::fuel_per_call`]): far more than any call of a sync of a million records takes.
pub const FUEL_PER_CALL: u64 = 20_000_000_000;

/// How long one epoch tick is.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Resource limits for a guest.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Linear memory of the guest at most, in bytes.
    pub memory_bytes: usize,
    /// Fuel (roughly, wasm instructions) for one call into the guest; `None` (the default)
    /// runs the guest without counting them, each call bounded by `call_deadline` alone.
    pub fuel_per_call: Option<u64>,
    /// Wall-clock time for one call into the guest.
    pub call_deadline: Duration,
    /// Wall-clock time for the whole run.
    pub run_deadline: Duration,
    /// A successful answer's body is handed to the guest in parts of this size as it arrives,
    /// so that neither side holds a large one twice (a mail file's changed-documents list).
    pub part_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 1 << 30,
            fuel_per_call: None,
            call_deadline: Duration::from_secs(60),
            run_deadline: Duration::from_secs(6 * 3600),
            part_bytes: 64 * 1024,
        }
    }
}

/// When set, the guest's compiled functions are named in `/tmp/perf-<pid>.map`, so that
/// `perf record` attributes the time spent in them.
pub const PERF_MAP_ENV: &str = "NZSYNC_PERF_MAP";

/// Sets [`Limits::part_bytes`] for `nzsync sync` and the server's runs (the tests hand every
/// answer over in small parts with it).
pub const PART_BYTES_ENV: &str = "NZSYNC_PART_BYTES";

impl Limits {
    /// The defaults, with [`PART_BYTES_ENV`] applied when it holds a positive number.
    #[must_use]
    pub fn from_env() -> Self {
        let mut limits = Self::default();
        if let Some(n) = std::env::var(PART_BYTES_ENV)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
        {
            limits.part_bytes = n;
        }
        limits
    }
}

/// Runner failures (the sync itself reports its own problems in the report).
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// wasmtime could not load or call the component, or a limit tripped.
    #[error("sync engine (wasm) failed: {0}")]
    Guest(String),
    /// The engine refused its input.
    #[error("sync engine refused its input: {0}")]
    Input(String),
    /// The run took longer than allowed.
    #[error("the sync did not finish within {0:?}")]
    Timeout(Duration),
    /// The state could not be stored.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn guest_err(e: impl std::fmt::Display) -> RunnerError {
    RunnerError::Guest(format!("{e:#}"))
}

/// What a [`RunState`] answers: a boxed future (the trait is used as `dyn RunState`).
pub type RunStateFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, RunnerError>> + Send + 'a>>;

/// The stored side of a run: where its state changes go and where its links come from.
pub trait RunState {
    /// Stores a batch of changes, in order, before the run goes on.
    ///
    /// # Errors
    /// When they cannot be stored: the run stops.
    fn persist<'a>(&'a mut self, changes: &'a [StateChange]) -> RunStateFuture<'a, ()>;

    /// The links of `module` that `want` selects (asked only when the engine config reads links
    /// on request).
    ///
    /// # Errors
    /// When they cannot be read: the run stops.
    fn links<'a>(&'a mut self, module: Module, want: &'a LinkWant)
    -> RunStateFuture<'a, Vec<Link>>;
}

/// A run's state in a profile of the [`crate::store::Store`]: changes are stored (unless it is
/// a preview) and links read page by page, each on a store handle of its own (none is held
/// while the run waits for the network).
pub struct ProfileState<'a> {
    /// The store.
    pub store: &'a crate::store::Store,
    /// The profile.
    pub profile: &'a str,
    /// A preview stores nothing.
    pub dry_run: bool,
}

impl RunState for ProfileState<'_> {
    fn persist<'a>(&'a mut self, changes: &'a [StateChange]) -> RunStateFuture<'a, ()> {
        Box::pin(async move {
            if self.dry_run {
                return Ok(());
            }
            Ok(self
                .store
                .conn()
                .await?
                .apply(self.profile, changes)
                .await?)
        })
    }

    fn links<'a>(
        &'a mut self,
        module: Module,
        want: &'a LinkWant,
    ) -> RunStateFuture<'a, Vec<Link>> {
        Box::pin(async move {
            Ok(self
                .store
                .conn()
                .await?
                .links(self.profile, module, want)
                .await?)
        })
    }
}

/// A run whose state is held in memory and not kept (benchmark replays): links are read from
/// the state, through an index by Notes key as a store's would be (a page costs its own
/// length, not a scan of every link); changes are dropped.
pub struct Unkept<'a> {
    /// Each module's links, by Notes key.
    sorted: std::collections::BTreeMap<Module, Vec<&'a Link>>,
}

impl<'a> Unkept<'a> {
    /// Links read from `state`.
    #[must_use]
    pub fn new(state: &'a SyncState) -> Self {
        let sorted = state
            .modules
            .iter()
            .map(|(m, ms)| {
                let mut links: Vec<&Link> = ms.links.iter().collect();
                links.sort_by(|a, b| a.unid.0.cmp(&b.unid.0));
                (*m, links)
            })
            .collect();
        Self { sorted }
    }
}

impl RunState for Unkept<'_> {
    fn persist<'a>(&'a mut self, _: &'a [StateChange]) -> RunStateFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    fn links<'a>(
        &'a mut self,
        module: Module,
        want: &'a LinkWant,
    ) -> RunStateFuture<'a, Vec<Link>> {
        let sorted = self.sorted.get(&module).map_or(&[][..], Vec::as_slice);
        let links: Vec<Link> = match want {
            LinkWant::Page { after, limit } => {
                let from = after.as_ref().map_or(0, |a| {
                    sorted.partition_point(|l| l.unid.0.as_str() <= a.0.as_str())
                });
                let limit = usize::try_from(*limit).unwrap_or(usize::MAX);
                sorted[from..]
                    .iter()
                    .take(limit)
                    .map(|l| (*l).clone())
                    .collect()
            }
            LinkWant::Unids { unids } => unids
                .iter()
                .filter_map(|u| {
                    let i = sorted
                        .binary_search_by(|l| l.unid.0.as_str().cmp(u.0.as_str()))
                        .ok()?;
                    Some(sorted[i].clone())
                })
                .collect(),
        };
        Box::pin(async move { Ok(links) })
    }
}

/// The store's state: exactly the capabilities the guest has.
struct GuestState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: GuestLimits,
}

/// The guest's limits, and how large its linear memory grew (a linear memory never shrinks:
/// this is what the guest holds at its largest).
struct GuestLimits {
    limits: StoreLimits,
    memory_peak: usize,
}

impl wasmtime::ResourceLimiter for GuestLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.memory_peak = self.memory_peak.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A compiled component, ready to run syncs.
pub struct Runner {
    engine: Engine,
    component: Component,
    linker: Linker<GuestState>,
    limits: Limits,
    ticking: Arc<AtomicBool>,
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.ticking.store(false, Ordering::Relaxed);
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Runner {
    /// Compiles the embedded component.
    ///
    /// # Errors
    /// [`RunnerError::Guest`] when wasmtime cannot compile or link it.
    pub fn new(limits: Limits) -> Result<Self, RunnerError> {
        Self::with_component(COMPONENT, limits)
    }

    /// Compiles `bytes` (tests use this to load other builds).
    ///
    /// # Errors
    /// [`RunnerError::Guest`] when wasmtime cannot compile or link it.
    pub fn with_component(bytes: &[u8], limits: Limits) -> Result<Self, RunnerError> {
        Self::compile(bytes, limits, cache_dir())
    }

    /// Compiles `bytes`, reusing and filling the compiled-code cache in `cache` if given.
    fn compile(bytes: &[u8], limits: Limits, cache: Option<PathBuf>) -> Result<Self, RunnerError> {
        let mut config = Config::new();
        // Components, a deterministic budget per call, and a wall-clock deadline per call.
        config
            .wasm_component_model(true)
            .consume_fuel(limits.fuel_per_call.is_some())
            .epoch_interruption(true)
            .cache(compile_cache(cache));
        // For profiling the guest with `perf` (developers; see `tests/bench/BENCHMARKS.md`).
        if std::env::var_os(PERF_MAP_ENV).is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config).map_err(guest_err)?;
        let component = Component::new(&engine, bytes).map_err(guest_err)?;
        let mut linker = Linker::new(&engine);
        // The Rust standard library on wasip2 imports WASI; the context we give it is empty.
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(guest_err)?;
        let ticking = Arc::new(AtomicBool::new(true));
        let (flag, ticker) = (ticking.clone(), engine.clone());
        std::thread::Builder::new()
            .name("nzsync-epoch".into())
            .spawn(move || {
                while flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    ticker.increment_epoch();
                }
            })
            .map_err(guest_err)?;
        Ok(Self {
            engine,
            component,
            linker,
            limits,
            ticking,
        })
    }

    fn arm(&self, store: &mut Store<GuestState>) -> Result<(), RunnerError> {
        if let Some(fuel) = self.limits.fuel_per_call {
            store.set_fuel(fuel).map_err(guest_err)?;
        }
        let ticks = self.limits.call_deadline.as_millis() / EPOCH_TICK.as_millis().max(1);
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX).max(1));
        Ok(())
    }

    /// Runs one sync to the end from `state`. Each batch of state changes goes to
    /// `run_state` before the runner waits for the network, so the store is never behind by
    /// more than one batch; links the engine asks for are read from it.
    ///
    /// # Errors
    /// [`RunnerError`] when the guest traps, a limit trips or `persist` fails; problems of the
    /// sync itself (credentials, servers, records) are in the returned report.
    pub async fn run(
        &self,
        config: &EngineConfig,
        state: &SyncState,
        upstreams: Arc<Upstreams>,
        run_state: &mut (dyn RunState + Send),
    ) -> Result<RunReport, RunnerError> {
        let transport: Transport = Arc::new(move |req: sync_core::HttpRequest, parts| {
            let up = upstreams.clone();
            Box::pin(async move {
                let send = |part| -> crate::upstream::PartSent {
                    let parts = parts.clone();
                    Box::pin(async move { parts.send(part).await })
                };
                let parts = crate::upstream::Parts {
                    bytes: parts.bytes,
                    send: &send,
                };
                up.perform_in_parts(&req, Some(&parts)).await
            })
        });
        self.run_with(config, state, transport, now_ms, run_state)
            .await
    }

    /// [`Runner::run`] with the transport and the clock supplied by the caller: the
    /// benchmarks replay recorded answers from memory with a fixed `now`, so what they time is
    /// the guest's work. Requests are handed to `transport` (each on its own task) in the order
    /// the engine issues them; answers are given back in the order they arrive; the tasks end
    /// with the run (also when its future is dropped). A fixed clock
    /// suits only runs without retries (a retry waits for `now` to pass its due time).
    ///
    /// # Errors
    /// As [`Runner::run`].
    pub async fn run_with(
        &self,
        config: &EngineConfig,
        state: &SyncState,
        transport: Transport,
        now_ms: impl Fn() -> i64,
        run_state: &mut (dyn RunState + Send),
    ) -> Result<RunReport, RunnerError> {
        let started = Instant::now();
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.memory_bytes)
            .instances(8)
            .build();
        let mut store = Store::new(
            &self.engine,
            GuestState {
                wasi: WasiCtx::builder().build(),
                table: ResourceTable::new(),
                limits: GuestLimits {
                    limits,
                    memory_peak: 0,
                },
            },
        );
        store.limiter(|s| &mut s.limits);
        self.arm(&mut store)?;
        let instance = bindings::SyncEngine::instantiate(&mut store, &self.component, &self.linker)
            .map_err(guest_err)?;
        let api = instance.nzsync_engine_sync().engine();
        let config_json = serde_json::to_string(config).map_err(guest_err)?;
        let state_json = serde_json::to_string(state).map_err(guest_err)?;
        self.arm(&mut store)?;
        let engine: ResourceAny = api
            .call_create(&mut store, &config_json, &state_json, now_ms())
            .map_err(guest_err)?
            .map_err(RunnerError::Input)?;

        let (tx, mut rx) = mpsc::unbounded_channel::<Arrival>();
        let mut changes: Vec<StateChange> = Vec::new();
        // The requests in flight: a run that ends early (an error, or its future dropped when
        // it lost its lease) takes them with it, so no retry of theirs leaves after it.
        let mut in_flight = tokio::task::JoinSet::new();
        let report = loop {
            while in_flight.try_join_next().is_some() {}
            if started.elapsed() > self.limits.run_deadline {
                return Err(RunnerError::Timeout(self.limits.run_deadline));
            }
            self.arm(&mut store)?;
            match api.call_poll(&mut store, engine).map_err(guest_err)? {
                wit::Output::Request(r) => {
                    // Write-ahead: what the engine changed before it asked for this request is
                    // stored before the request leaves, so a process killed at any point never
                    // has a write on a server that depends on a state change it lost (a back-link
                    // sent before the link it completes, say).
                    flush(run_state, &mut changes).await?;
                    let req = sync_core::HttpRequest {
                        id: r.id,
                        side: match r.side {
                            wit::Side::Notes => sync_core::Side::Notes,
                            wit::Side::Crm => sync_core::Side::Crm,
                        },
                        method: r.method,
                        path: r.path,
                        headers: r
                            .headers
                            .into_iter()
                            .map(|h| Header {
                                name: h.name,
                                value: h.value,
                            })
                            .collect(),
                        body: r.body,
                    };
                    let id = req.id;
                    let parts = BodyParts {
                        id,
                        bytes: self.limits.part_bytes,
                        tx: tx.clone(),
                        room: Arc::new(Semaphore::new(PARTS_WAITING)),
                    };
                    let (tx, answer) = (tx.clone(), transport(req, parts));
                    in_flight.spawn(async move {
                        let result = answer.await;
                        let _ = tx.send(Arrival::Answer(id, result));
                    });
                }
                wit::Output::States(batch) => {
                    for json in batch {
                        changes.push(serde_json::from_str(&json).map_err(guest_err)?);
                    }
                }
                wit::Output::Links(q) => {
                    // Links the guest asks for, from the store, once what it changed is stored.
                    let module: Module =
                        serde_json::from_value(serde_json::Value::String(q.module.clone()))
                            .map_err(guest_err)?;
                    let want = match q.want {
                        wit::LinkWant::Page(p) => sync_core::LinkWant::Page {
                            after: p.after.map(sync_core::NotesUnid),
                            limit: p.limit,
                        },
                        wit::LinkWant::Unids(unids) => sync_core::LinkWant::Unids {
                            unids: unids.into_iter().map(sync_core::NotesUnid).collect(),
                        },
                    };
                    flush(run_state, &mut changes).await?;
                    // The bases cross in the engine's compact form, not as JSON to parse.
                    let links: Vec<wit::LinkCompact> = run_state
                        .links(module, &want)
                        .await?
                        .into_iter()
                        .map(|l| wit::LinkCompact {
                            base: l.base.as_canonical().to_owned(),
                            unid: l.unid.0,
                            zoho_id: l.zoho_id.0,
                        })
                        .collect();
                    self.arm(&mut store)?;
                    api.call_handle_links_compact(&mut store, engine, q.id, &links)
                        .map_err(guest_err)?
                        .map_err(RunnerError::Input)?;
                }
                wit::Output::Wait(until) => {
                    flush(run_state, &mut changes).await?;
                    let answer = match until {
                        Some(t) => {
                            let wait = Duration::from_millis(
                                u64::try_from(t.saturating_sub(now_ms())).unwrap_or(0),
                            );
                            tokio::time::timeout(wait, rx.recv()).await.ok().flatten()
                        }
                        None => rx.recv().await,
                    };
                    self.arm(&mut store)?;
                    match answer {
                        Some(Arrival::Part(id, part, _room)) => {
                            api.call_handle_response_part(&mut store, engine, id, &part)
                                .map_err(guest_err)?
                                .map_err(RunnerError::Input)?;
                        }
                        Some(Arrival::Answer(id, result)) => {
                            let result = result.map(|r| wit::HttpResponse {
                                status: r.status,
                                headers: r
                                    .headers
                                    .into_iter()
                                    .map(|h| wit::Header {
                                        name: h.name,
                                        value: h.value,
                                    })
                                    .collect(),
                                body: r.body,
                            });
                            let result = result.map_err(|e| wit::TransportError {
                                kind: match e.kind {
                                    TransportErrorKind::Connect => wit::TransportErrorKind::Connect,
                                    TransportErrorKind::Timeout => wit::TransportErrorKind::Timeout,
                                    TransportErrorKind::Other => wit::TransportErrorKind::Other,
                                },
                                message: e.message,
                            });
                            api.call_handle_response(
                                &mut store,
                                engine,
                                id,
                                now_ms(),
                                result.as_ref(),
                            )
                            .map_err(guest_err)?
                            .map_err(RunnerError::Input)?;
                        }
                        None => api
                            .call_handle_timeout(&mut store, engine, now_ms())
                            .map_err(guest_err)?,
                    }
                }
                wit::Output::Done(json) => {
                    flush(run_state, &mut changes).await?;
                    break serde_json::from_str::<RunReport>(&json).map_err(guest_err)?;
                }
            }
        };
        // What the guest held at its largest, beside the process's resident set (the memory
        // bench reads it with `RUST_LOG=nzsync::runner=debug`).
        tracing::debug!(
            guest_memory_peak_bytes = store.data().limits.memory_peak,
            "the engine's linear memory at its largest"
        );
        Ok(report)
    }
}

/// Stores the state changes gathered so far, if any, and forgets them.
async fn flush(
    run_state: &mut (dyn RunState + Send),
    changes: &mut Vec<StateChange>,
) -> Result<(), RunnerError> {
    if !changes.is_empty() {
        run_state.persist(changes).await?;
        changes.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-memory store answers every link read as `LinkWant::select` defines it, from its
    /// index instead of a scan.
    #[tokio::test]
    async fn unkept_links_are_read_as_a_store_reads_them() {
        let mut state = SyncState::default();
        let links = &mut state.modules.entry(Module::Contacts).or_default().links;
        for i in [7u32, 3, 11, 1, 9, 5, 2] {
            links.push(Link {
                unid: sync_core::NotesUnid(format!("U{i:02}")),
                zoho_id: sync_core::ZohoId(format!("{i}")),
                base: sync_core::Fields::default(),
            });
        }
        let wants = [
            LinkWant::Page {
                after: None,
                limit: 3,
            },
            LinkWant::Page {
                after: Some(sync_core::NotesUnid("U03".into())),
                limit: 3,
            },
            LinkWant::Page {
                after: Some(sync_core::NotesUnid("U04".into())),
                limit: 100,
            },
            LinkWant::Page {
                after: Some(sync_core::NotesUnid("U11".into())),
                limit: 3,
            },
            LinkWant::Unids {
                unids: ["U05", "U06", "U01"]
                    .map(|u| sync_core::NotesUnid(u.into()))
                    .to_vec(),
            },
        ];
        let mut unkept = Unkept::new(&state);
        for want in &wants {
            let mut got = unkept.links(Module::Contacts, want).await.unwrap();
            let mut expected = want.select(&state.modules[&Module::Contacts].links);
            if matches!(want, LinkWant::Unids { .. }) {
                got.sort_by(|a, b| a.unid.0.cmp(&b.unid.0));
                expected.sort_by(|a, b| a.unid.0.cmp(&b.unid.0));
            }
            assert_eq!(got, expected, "{want:?}");
        }
        assert!(
            unkept
                .links(Module::Tasks, &wants[0])
                .await
                .unwrap()
                .is_empty()
        );
    }

    /// The compiled component lands in the cache directory, and a runner built from the cache
    /// works like a freshly compiled one.
    #[test]
    fn compiled_code_is_cached_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        // The compiled artifacts; wasmtime's cache worker also keeps usage statistics
        // (`*.stats`) and temporary files beside them, written in the background on a hit.
        let artifacts = |d: &std::path::Path| {
            let mut files: Vec<PathBuf> = walk(d)
                .into_iter()
                .filter(|p| p.is_file())
                .filter(|p| {
                    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                    !name.ends_with(".stats") && !name.contains("wip")
                })
                .collect();
            files.sort();
            files
        };
        Runner::compile(COMPONENT, Limits::default(), Some(dir.path().to_owned())).unwrap();
        let cached = artifacts(dir.path());
        assert!(!cached.is_empty(), "nothing was cached");
        let again = Runner::compile(COMPONENT, Limits::default(), Some(dir.path().to_owned()));
        assert!(again.is_ok());
        assert_eq!(
            artifacts(dir.path()),
            cached,
            "the second compile did not reuse the cache"
        );
    }

    fn walk(d: &std::path::Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            }
            out.push(p);
        }
        out
    }
}
