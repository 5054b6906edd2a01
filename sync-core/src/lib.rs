//! # sync-core
//!
//! The sans-IO heart of notes-zoho-sync: it keeps a CRM user's contacts, to-dos and events in
//! step between an HCL Notes / Domino mail file (Domino Access Services, or the Domino REST API)
//! and Zoho CRM (REST API v8).
//!
//! sync-core **performs no I/O and reads no clock**. Its [`Engine`] asks for HTTP requests
//! ([`Output::Request`]) and is told the answers and the time; the same code runs in the browser
//! (the widget, through the host's proxy), inside wasmtime (the `nzsync` host, as a component)
//! and natively in tests.
//!
//! ```text
//!   stored state ─┐                       ┌─▶ Output::Request ──▶ embedder performs it
//!   config ───────┼─▶ Engine::new ─ poll ─┼─▶ Output::State   ──▶ embedder stores it
//!   now ──────────┘        ▲              └─▶ Output::Done(report)
//!                          └── handle_response(id, now, answer)
//! ```
//!
//! Key concepts:
//! - **Link**: a Notes document and a Zoho record known to be the same item, with the **base**
//!   (the content both held at the last sync) for the three-way merge.
//! - **Plan**: plain data ([`plan::ModulePlan`]) saying what will be written where and why; a
//!   dry run shows it, a real run executes it.
//! - **Cross-IDs**: each record carries its twin's id (Zoho `Notes_UNID`, Notes `ZohoCRMId`), so
//!   a lost state or a re-setup re-links instead of duplicating. The Zoho side also names the
//!   mail file ([`xref`]), so one user's sync never takes another's document for its own.
//! - **Owner scope**: a user's sync covers the CRM records they own, or a custom view they
//!   picked ([`Scope`]); a record that leaves the scope is withdrawn like one that turned
//!   private.

/// The engine's wasm builds (the component, the widget, the JS package) allocate with talc, not
/// the target's default dlmalloc: the engine allocates for every answer it parses, and talc
/// is faster at it and as compact (`tests/bench/BENCHMARKS.md`, the engine bench). The guest
/// is single-threaded, which is what talc's cell needs.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

pub(crate) mod api;
pub mod engine;
pub mod http;
pub mod mapping;
pub mod model;
pub mod plan;
pub mod reason;
pub mod report;
pub mod state;
pub mod testing;
pub mod time;
pub mod xref;

// The generated canonical-ABI glue is `unsafe` by nature; no hand-written unsafe code lives there.
#[cfg(all(target_family = "wasm", target_os = "wasi"))]
#[allow(unsafe_code)]
mod component;

// The wasm-bindgen export for JavaScript embedders (browsers, Node).
#[cfg(all(feature = "js", target_arch = "wasm32", target_os = "unknown"))]
mod js;

pub use api::domino::rest::drapi_schema_problem;
pub use engine::{
    Engine, EngineConfig, InputError, LinkQuery, LinkSupply, LinkWant, Output, Progress,
    ProgressPhase,
};
pub use http::{
    Header, HttpRequest, HttpResponse, TransportError, TransportErrorKind, text_prefix_len,
};
/// Calendar events, by the path they had before the mapping became one file per module: the
/// same module as [`mapping::events`].
pub use mapping::events as calendar;
pub use model::{
    ConflictPolicy, Direction, DominoApi, DrapiScope, Fields, Module, NotesUnid, Record, Scope,
    Scopes, Settings, Side, ZohoId,
};
pub use report::RunReport;
pub use state::{Link, StateChange, SyncState};
pub use time::Timestamp;
pub use xref::MailFile;
