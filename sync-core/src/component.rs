//! The component export (wasm32-wasip2): `wit/engine.wit` over [`crate::Engine`].
//! Only type conversions live here; the logic is in the pure modules.

use std::cell::RefCell;

use exports::nzsync::engine::sync as wit;

use crate::http::{Header, HttpResponse, TransportError, TransportErrorKind};
use crate::model::{Fields, NotesUnid, ZohoId};
use crate::{Engine, EngineConfig, LinkWant, Output, Side, SyncState, Timestamp};

wit_bindgen::generate!({ path: "wit", world: "sync-engine" });

struct Component;

impl wit::Guest for Component {
    type Engine = EngineResource;

    fn version() -> String {
        env!("CARGO_PKG_VERSION").to_owned()
    }
}

/// State changes handed over in one `states` batch at most.
const STATE_BATCH: usize = 512;

struct EngineResource {
    inner: RefCell<Engine>,
    /// An output polled while collecting a batch of state changes, handed out next.
    stashed: RefCell<Option<Output>>,
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn headers_in(h: Vec<wit::Header>) -> Vec<Header> {
    h.into_iter()
        .map(|h| Header {
            name: h.name,
            value: h.value,
        })
        .collect()
}

impl EngineResource {
    /// The answer to link read `id`: each link with its base as read from its form, the first
    /// base that could not be read refusing the answer.
    fn take_links(
        &self,
        id: u64,
        links: impl Iterator<Item = (String, String, Result<Fields, String>)>,
    ) -> Result<(), String> {
        let mut parsed = Vec::new();
        for (unid, zoho_id, base) in links {
            let base = base.map_err(|e| format!("invalid base of link {unid}: {e}"))?;
            parsed.push(crate::Link {
                unid: NotesUnid(unid),
                zoho_id: ZohoId(zoho_id),
                base,
            });
        }
        self.inner
            .borrow_mut()
            .handle_links(id, parsed)
            .map_err(|e| e.to_string())
    }
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
            stashed: RefCell::new(None),
        }))
    }

    fn poll(&self) -> wit::Output {
        let mut engine = self.inner.borrow_mut();
        let first = self
            .stashed
            .borrow_mut()
            .take()
            .unwrap_or_else(|| engine.poll_output());
        match first {
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
            Output::State(c) => {
                // Consecutive changes cross together; the first other output waits its turn.
                let mut batch = vec![json(&c)];
                while batch.len() < STATE_BATCH {
                    match engine.poll_output() {
                        Output::State(c) => batch.push(json(&c)),
                        other => {
                            *self.stashed.borrow_mut() = Some(other);
                            break;
                        }
                    }
                }
                wit::Output::States(batch)
            }
            Output::Links(q) => wit::Output::Links(wit::LinkQuery {
                id: q.id,
                module: json(&q.module).trim_matches('"').to_owned(),
                want: match q.want {
                    LinkWant::Page { after, limit } => wit::LinkWant::Page(wit::LinkPage {
                        after: after.map(|a| a.0),
                        limit,
                    }),
                    LinkWant::Unids { unids } => {
                        wit::LinkWant::Unids(unids.into_iter().map(|u| u.0).collect())
                    }
                },
            }),
            Output::Wait(t) => wit::Output::Wait(t.map(|t| t.0)),
            Output::Done(report) => wit::Output::Done(json(&report)),
        }
    }

    fn handle_links(&self, id: u64, links: Vec<wit::Link>) -> Result<(), String> {
        self.take_links(
            id,
            links.into_iter().map(|l| {
                let base = serde_json::from_str(&l.base_json).map_err(|e| e.to_string());
                (l.unid, l.zoho_id, base)
            }),
        )
    }

    fn handle_links_compact(&self, id: u64, links: Vec<wit::LinkCompact>) -> Result<(), String> {
        self.take_links(
            id,
            links
                .into_iter()
                .map(|l| (l.unid, l.zoho_id, Fields::from_canonical(l.base))),
        )
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

    fn handle_response_part(&self, id: u64, part: String) -> Result<(), String> {
        self.inner
            .borrow_mut()
            .handle_response_part(id, &part)
            .map_err(|e| e.to_string())
    }

    fn handle_timeout(&self, now: i64) {
        self.inner.borrow_mut().handle_timeout(Timestamp(now));
    }

    fn progress(&self) -> String {
        json(&self.inner.borrow().progress())
    }
}

export!(Component);
