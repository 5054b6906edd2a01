//! The transport: requests queued, in flight and waiting to be retried; at most the allowed
//! number in flight per side; retried with exponential backoff according to their
//! [`RetryClass`]. It knows nothing of what the requests are for: each carries its purpose
//! through untouched, for the stage that asked.

use std::collections::{HashMap, VecDeque};

use crate::http::{Header, HttpRequest, HttpResponse, TransportError, TransportErrorKind};
use crate::model::Side;
use crate::report::RequestCounts;
use crate::time::Timestamp;

/// How safe a request is to send again when its fate is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RetryClass {
    /// Reads, updates, deletes, and Zoho inserts (the unique `Notes_UNID` field turns a repeat
    /// into a `DUPLICATE_DATA` naming the first): retried after any transient failure.
    Idempotent,
    /// A create with no idempotency key (a Notes document, a Zoho Account): retried only when
    /// the server surely did not act (connection refused, 429, 503). A lost answer is left to
    /// the next run, which finds the record instead of creating it twice.
    UnsureCreate,
}

/// A request waiting to be sent, in flight, or waiting for its retry.
#[derive(Clone, Debug)]
pub(super) struct Queued<P> {
    pub side: Side,
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<Header>,
    pub body: Option<String>,
    pub purpose: P,
    pub class: RetryClass,
    pub attempt: u32,
}

/// Requests and their retries, per side.
#[derive(Debug)]
pub(super) struct Transport<P> {
    next_id: u64,
    queue: VecDeque<Queued<P>>,
    retries: Vec<(Timestamp, Queued<P>)>,
    in_flight: HashMap<u64, Queued<P>>,
    in_flight_per_side: [u32; 2],
    limits: [u32; 2],
    max_attempts: u32,
    retry_base_ms: i64,
    /// Requests sent and retried so far.
    pub counts: RequestCounts,
}

pub(super) fn side_index(side: Side) -> usize {
    match side {
        Side::Notes => 0,
        Side::Crm => 1,
    }
}

impl<P: Clone> Transport<P> {
    /// A transport with at most `notes` / `crm` requests in flight, `max_attempts` tries per
    /// request and a first retry after `retry_base_ms`.
    pub fn new(notes: u32, crm: u32, max_attempts: u32, retry_base_ms: i64) -> Self {
        Self {
            next_id: 1,
            queue: VecDeque::new(),
            retries: Vec::new(),
            in_flight: HashMap::new(),
            in_flight_per_side: [0, 0],
            limits: [notes.max(1), crm.max(1)],
            max_attempts,
            retry_base_ms,
            counts: RequestCounts::default(),
        }
    }

    /// Queues a request.
    pub fn push(&mut self, q: Queued<P>) {
        self.queue.push_back(q);
    }

    /// The next request to send at `now`, if a side has room: due retries first.
    pub fn poll_request(&mut self, now: Timestamp) -> Option<HttpRequest> {
        self.promote_due_retries(now);
        let pos = self.queue.iter().position(|q| {
            let i = side_index(q.side);
            self.in_flight_per_side[i] < self.limits[i]
        })?;
        let q = self.queue.remove(pos)?;
        let id = self.next_id;
        self.next_id += 1;
        self.in_flight_per_side[side_index(q.side)] += 1;
        match q.side {
            Side::Notes => self.counts.notes += 1,
            Side::Crm => self.counts.crm += 1,
        }
        let req = HttpRequest {
            id,
            side: q.side,
            method: q.method.to_owned(),
            path: q.path.clone(),
            headers: q.headers.clone(),
            body: q.body.clone(),
        };
        self.in_flight.insert(id, q);
        Some(req)
    }

    /// What request `id`, in flight, is for.
    pub fn purpose(&self, id: u64) -> Option<&P> {
        self.in_flight.get(&id).map(|q| &q.purpose)
    }

    /// The request `id` answered: it is no longer in flight. `None` if it was not.
    pub fn answered(&mut self, id: u64) -> Option<Queued<P>> {
        let q = self.in_flight.remove(&id)?;
        let i = side_index(q.side);
        self.in_flight_per_side[i] = self.in_flight_per_side[i].saturating_sub(1);
        Some(q)
    }

    /// Schedules `q` again if `result` is worth a retry and attempts are left; otherwise hands
    /// it back for its stage to handle.
    pub fn retry_or_return(
        &mut self,
        q: Queued<P>,
        result: &Result<HttpResponse, TransportError>,
        now: Timestamp,
    ) -> Option<Queued<P>> {
        if !self.should_retry(&q, result) {
            return Some(q);
        }
        let delay = self.retry_base_ms.saturating_mul(1 << q.attempt.min(6));
        let mut again = q;
        again.attempt += 1;
        self.counts.retries += 1;
        self.retries.push((now.plus_ms(delay), again));
        None
    }

    fn should_retry(&self, q: &Queued<P>, result: &Result<HttpResponse, TransportError>) -> bool {
        if q.attempt + 1 >= self.max_attempts {
            return false;
        }
        let unsure_create = q.class == RetryClass::UnsureCreate;
        match result {
            Ok(r) if r.status == 429 || r.status == 503 => true,
            Ok(r) if matches!(r.status, 500 | 502 | 504) => !unsure_create,
            Ok(_) => false,
            Err(e) => e.kind == TransportErrorKind::Connect || !unsure_create,
        }
    }

    fn promote_due_retries(&mut self, now: Timestamp) {
        let mut i = 0;
        while i < self.retries.len() {
            if self.retries[i].0 <= now {
                let (_, q) = self.retries.swap_remove(i);
                self.queue.push_front(q);
            } else {
                i += 1;
            }
        }
    }

    /// The earliest instant a retry is due.
    pub fn next_retry(&self) -> Option<Timestamp> {
        self.retries.iter().map(|(t, _)| *t).min()
    }

    /// Something is queued or in flight (retries aside).
    pub fn busy(&self) -> bool {
        !self.in_flight.is_empty() || !self.queue.is_empty()
    }

    /// Drops everything not yet sent (a failed module, a fatal error); answers still in flight
    /// are awaited and ignored.
    pub fn clear_pending(&mut self) {
        self.queue.clear();
        self.retries.clear();
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Requests queued or waiting for a retry.
    pub fn pending(&self) -> usize {
        self.queue.len() + self.retries.len()
    }
}
