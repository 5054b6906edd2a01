//! The JavaScript binding (wasm-bindgen, `js` feature): [`crate::Engine`] as a JS class.
//! Only conversions live here. Plain JS objects cross the boundary (serde-wasm-bindgen in its
//! JSON-compatible mode), shaped like the Rust types' JSON.
//!
//! ```js
//! const engine = new SyncEngine(config, state, Date.now());
//! for (;;) {
//!   const out = engine.poll();            // {kind, value}
//!   if (out.kind === "request") { /* fetch, then engine.handleResponse(id, Date.now(), answer) */ }
//!   else if (out.kind === "state") { /* store out.value */ }
//!   else if (out.kind === "links") { /* read out.value's links, engine.handleLinks(id, links) */ }
//!   else if (out.kind === "wait") { /* await an answer, or out.value (ms) */ }
//!   else { /* out.kind === "done": out.value is the report */ break; }
//! }
//! ```
//! An answer is `{status, headers: [{name, value}], body}` or
//! `{error: {kind: "connect" | "timeout" | "other", message}}`.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::{Engine, EngineConfig, HttpResponse, Output, SyncState, Timestamp, TransportError};

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}

fn from_js<T: for<'de> Deserialize<'de>>(v: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(v).map_err(|e| JsError::new(&format!("invalid {what}: {e}")))
}

/// The JS view of [`Output`].
#[derive(Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
enum JsOutput<'a> {
    Request(&'a crate::HttpRequest),
    State(&'a crate::StateChange),
    Links(&'a crate::LinkQuery),
    Wait(Option<Timestamp>),
    Done(&'a crate::RunReport),
}

/// An answer from JS: a response (`status`, `headers`, `body`), or a transport failure
/// (`error`). Read field by field into this one shape rather than tried against each (an
/// untagged enum would first copy the whole answer, body and all, to try it).
#[derive(Deserialize)]
struct JsAnswer {
    error: Option<TransportError>,
    status: Option<u16>,
    headers: Option<Vec<crate::Header>>,
    body: Option<String>,
}

impl JsAnswer {
    fn into_result(self) -> Result<Result<HttpResponse, TransportError>, JsError> {
        if let Some(error) = self.error {
            return Ok(Err(error));
        }
        match (self.status, self.headers, self.body) {
            (Some(status), Some(headers), Some(body)) => Ok(Ok(HttpResponse {
                status,
                headers,
                body,
            })),
            _ => Err(JsError::new(
                "invalid answer: expected {status, headers, body} or {error}",
            )),
        }
    }
}

/// The sync engine, for JavaScript.
#[wasm_bindgen]
pub struct SyncEngine {
    inner: Engine,
}

#[wasm_bindgen]
impl SyncEngine {
    /// A run: `config` is an `EngineConfig`, `state` a `SyncState` (or null), `now_ms` the time.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, state: JsValue, now_ms: f64) -> Result<SyncEngine, JsError> {
        let config: EngineConfig = from_js(config, "engine config")?;
        let state: SyncState = if state.is_null() || state.is_undefined() {
            SyncState::default()
        } else {
            from_js(state, "sync state")?
        };
        #[allow(clippy::cast_possible_truncation)]
        Ok(Self {
            inner: Engine::new(config, state, Timestamp(now_ms as i64)),
        })
    }

    /// The next thing to do: `{kind: "request" | "state" | "wait" | "done", value}`.
    pub fn poll(&mut self) -> Result<JsValue, JsError> {
        match self.inner.poll_output() {
            Output::Request(r) => to_js(&JsOutput::Request(&r)),
            Output::State(c) => to_js(&JsOutput::State(&c)),
            Output::Links(q) => to_js(&JsOutput::Links(&q)),
            Output::Wait(t) => to_js(&JsOutput::Wait(t)),
            Output::Done(report) => to_js(&JsOutput::Done(&report)),
        }
    }

    /// The answer to request `id`.
    #[wasm_bindgen(js_name = handleResponse)]
    pub fn handle_response(
        &mut self,
        id: f64,
        now_ms: f64,
        answer: JsValue,
    ) -> Result<(), JsError> {
        let result = from_js::<JsAnswer>(answer, "answer")?.into_result()?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        self.inner
            .handle_response(id as u64, Timestamp(now_ms as i64), result)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// A part of the body of the answer to request `id`, as it arrives (for example from a
    /// `ReadableStream` through a `TextDecoder`); `handleResponse` then brings the status, the
    /// headers and the rest of the body.
    #[wasm_bindgen(js_name = handleResponsePart)]
    pub fn handle_response_part(&mut self, id: f64, part: &str) -> Result<(), JsError> {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        self.inner
            .handle_response_part(id as u64, part)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// The answer to link read `id`: an array of `{unid, zoho_id, base}` (see `LinkQuery`).
    #[wasm_bindgen(js_name = handleLinks)]
    pub fn handle_links(&mut self, id: f64, links: JsValue) -> Result<(), JsError> {
        let links: Vec<crate::Link> = from_js(links, "links")?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        self.inner
            .handle_links(id as u64, links)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Time passed without an answer.
    #[wasm_bindgen(js_name = handleTimeout)]
    pub fn handle_timeout(&mut self, now_ms: f64) {
        #[allow(clippy::cast_possible_truncation)]
        self.inner.handle_timeout(Timestamp(now_ms as i64));
    }

    /// The sync state with every change emitted so far applied (store it for the next run).
    pub fn state(&self) -> Result<JsValue, JsError> {
        to_js(self.inner.state())
    }

    /// Progress for a progress bar.
    pub fn progress(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.progress())
    }
}
