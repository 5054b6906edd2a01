//! The component export (wasm32-wasip2): `wit/engine.wit` over [`crate::Engine`].
//! Only type conversions live here; the logic is in the pure modules.

use std::cell::RefCell;

use exports::nzsync::engine::sync as wit;

use crate::http::{Header, HttpResponse, TransportError, TransportErrorKind};
use crate::{Engine, EngineConfig, Output, Side, SyncState, Timestamp};

wit_bindgen::generate!({ path: "wit", world: "sync-engine" });

struct Component;

impl wit::Guest for Component {
    type Engine = EngineResource;

    fn version() -> String {
        env!("CARGO_PKG_VERSION").to_owned()
    }
}

struct EngineResource {
    inner: RefCell<Engine>,
}

fn headers_in(h: Vec<wit::Header>) -> Vec<Header> {
    h.into_iter()
        .map(|h| Header {
            name: h.name,
            value: h.value,
        })
        .collect()
}

impl wit::GuestEngine for EngineResource {
    fn create(config_json: String, state_json: String, now: i64) -> Result<wit::Engine, String> {
        let config: EngineConfig = serde_json::from_str(&config_json)
            .map_err(|e| format!("invalid engine config: {e}"))?;
        let state: SyncState = if state_json.trim().is_empty() {
            SyncState::default()
        } else {
            serde_json::from_str(&state_json).map_err(|e| format!("invalid sync state: {e}"))?
        };
        let engine = Engine::new(config, state, Timestamp(now));
        Ok(wit::Engine::new(Self {
            inner: RefCell::new(engine),
        }))
    }

    fn poll(&self) -> wit::Output {
        match self.inner.borrow_mut().poll_output() {
            Output::Request(r) => wit::Output::Request(wit::HttpRequest {
                id: r.id,
                side: match r.side {
                    Side::Notes => wit::Side::Notes,
                    Side::Crm => wit::Side::Crm,
                },
                method: r.method,
                path: r.path,
                headers: r
                    .headers
                    .into_iter()
                    .map(|h| wit::Header {
                        name: h.name,
                        value: h.value,
                    })
                    .collect(),
                body: r.body,
            }),
            Output::State(c) => wit::Output::State(serde_json::to_string(&c).unwrap_or_default()),
            Output::Wait(t) => wit::Output::Wait(t.map(|t| t.0)),
            Output::Done(report) => {
                wit::Output::Done(serde_json::to_string(&report).unwrap_or_default())
            }
        }
    }

    fn handle_response(
        &self,
        id: u64,
        now: i64,
        answer: Result<wit::HttpResponse, wit::TransportError>,
    ) -> Result<(), String> {
        let result = match answer {
            Ok(r) => Ok(HttpResponse {
                status: r.status,
                headers: headers_in(r.headers),
                body: r.body,
            }),
            Err(e) => Err(TransportError {
                kind: match e.kind {
                    wit::TransportErrorKind::Connect => TransportErrorKind::Connect,
                    wit::TransportErrorKind::Timeout => TransportErrorKind::Timeout,
                    wit::TransportErrorKind::Other => TransportErrorKind::Other,
                },
                message: e.message,
            }),
        };
        self.inner
            .borrow_mut()
            .handle_response(id, Timestamp(now), result)
            .map_err(|e| e.to_string())
    }

    fn handle_timeout(&self, now: i64) {
        self.inner.borrow_mut().handle_timeout(Timestamp(now));
    }

    fn progress(&self) -> String {
        serde_json::to_string(&self.inner.borrow().progress()).unwrap_or_default()
    }
}

export!(Component);
