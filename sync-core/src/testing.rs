//! A synchronous driver: runs an [`Engine`] to the end as an embedder would, for tests,
//! benchmarks and tools. It answers the engine's requests with a function, stores the state
//! changes in a [`SyncState`] (which also answers the engine's link reads, as an embedder's
//! store does), and moves its clock to the instant of a timer wait.
//!
//! At each [`Output::Wait`] the oldest request in flight is answered, so the same engine and
//! the same answers always give the same sequence of requests. With [`Driver::part_bytes`], each
//! answer's body is handed over in parts first, as an embedder streaming a large answer does.

use std::collections::VecDeque;

use crate::engine::{Engine, Output};
use crate::http::{HttpRequest, HttpResponse, TransportError};
use crate::report::RunReport;
use crate::state::{StateChange, SyncState};
use crate::time::Timestamp;

/// A JSON answer with `status` (an empty body for `null`), as test servers give it.
#[must_use]
pub fn json_answer(status: u16, body: &serde_json::Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![crate::http::Header {
            name: "Content-Type".into(),
            value: "application/json".into(),
        }],
        body: if body.is_null() {
            String::new()
        } else {
            body.to_string()
        },
    }
}

/// What a driven run did.
#[derive(Clone, Debug)]
pub struct Run {
    /// The final report.
    pub report: RunReport,
    /// Every request the engine asked for, in order.
    pub asked: Vec<HttpRequest>,
    /// Every state change, in order.
    pub changes: Vec<StateChange>,
}

/// How a drive went wrong (the engine misbehaved; a run that failed is still a [`Run`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DriveError {
    /// The engine waited with nothing in flight and no instant to wait for.
    #[error("the engine waits for nothing")]
    Stuck,
    /// The engine refused an answer.
    #[error("the engine refused an answer: {0}")]
    Refused(String),
    /// More outputs than the limit: the engine does not end.
    #[error("no end after {0} outputs")]
    Endless(usize),
}

/// Drives runs: the clock, the stored state, and a bound on the outputs of one run.
#[derive(Clone, Debug)]
pub struct Driver {
    /// The clock, moved to each timer wait's instant.
    pub now: Timestamp,
    /// The stored state: changes are applied here and link reads are answered from it.
    pub store: SyncState,
    /// Outputs one run may produce before it counts as endless.
    pub max_outputs: usize,
    /// When set, each answer's body is handed over in parts of about this many bytes
    /// ([`Engine::handle_response_part`]) before [`Engine::handle_response`] brings the rest.
    pub part_bytes: Option<usize>,
}

impl Driver {
    /// A driver at `now` over the stored `store`.
    #[must_use]
    pub fn new(now: Timestamp, store: SyncState) -> Self {
        Self {
            now,
            store,
            max_outputs: 10_000_000,
            part_bytes: None,
        }
    }

    /// Runs `engine` to the end, answering each request with `answer`.
    ///
    /// # Errors
    /// [`DriveError`] when the engine misbehaves.
    pub fn run(
        &mut self,
        mut engine: Engine,
        mut answer: impl FnMut(&HttpRequest) -> Result<HttpResponse, TransportError>,
    ) -> Result<Run, DriveError> {
        let mut asked = Vec::new();
        let mut changes = Vec::new();
        let mut waiting: VecDeque<HttpRequest> = VecDeque::new();
        for _ in 0..self.max_outputs {
            match engine.poll_output() {
                Output::Request(r) => {
                    waiting.push_back(r.clone());
                    asked.push(r);
                }
                Output::State(c) => {
                    self.store.apply(&c);
                    changes.push(c);
                }
                Output::Links(q) => {
                    let links = q.answer_from(&self.store);
                    engine
                        .handle_links(q.id, links)
                        .map_err(|e| DriveError::Refused(e.to_string()))?;
                }
                Output::Wait(until) => match waiting.pop_front() {
                    Some(r) => {
                        let mut a = answer(&r);
                        if let (Some(n), Ok(resp)) = (self.part_bytes, a.as_mut()) {
                            let body = std::mem::take(&mut resp.body);
                            let mut rest = body.as_str();
                            while rest.len() > n {
                                let mut cut = n.max(1);
                                // A part ends between characters.
                                while !rest.is_char_boundary(cut) {
                                    cut += 1;
                                }
                                engine
                                    .handle_response_part(r.id, &rest[..cut])
                                    .map_err(|e| DriveError::Refused(e.to_string()))?;
                                rest = &rest[cut..];
                            }
                            resp.body = rest.to_owned();
                        }
                        engine
                            .handle_response(r.id, self.now, a)
                            .map_err(|e| DriveError::Refused(e.to_string()))?;
                    }
                    None => {
                        let t = until.ok_or(DriveError::Stuck)?;
                        self.now = self.now.max(t);
                        engine.handle_timeout(self.now);
                    }
                },
                Output::Done(report) => {
                    return Ok(Run {
                        report: *report,
                        asked,
                        changes,
                    });
                }
            }
        }
        Err(DriveError::Endless(self.max_outputs))
    }
}
