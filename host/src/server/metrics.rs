//! Prometheus metrics at `GET /metrics`, for the operator of a fleet.
//!
//! | metric | type | labels | what |
//! | --- | --- | --- | --- |
//! | `nzsync_runs_started_total` | counter | `kind` | syncs started on this replica |
//! | `nzsync_runs_finished_total` | counter | `kind`, `outcome` | syncs that ended with a report (`completed`, `partial`, `failed`) |
//! | `nzsync_runs_failed_total` | counter | `kind` | syncs that failed: a report saying so, or no report at all (the runner or the connection failed) |
//! | `nzsync_run_duration_seconds` | histogram | `kind` | from a run's start to its end, as its report says |
//! | `nzsync_upstream_requests_total` | counter | `side` (`notes`, `crm`) | requests the runs made, retries included |
//! | `nzsync_upstream_retries_total` | counter | `side` (`all`) | of those, retries after 429, 5xx or a transport error |
//! | `nzsync_jobs_total` | counter | `outcome` (`run`, `defer`, `wait`, `skip`, `fail`, `error`) | scheduled-sync jobs this replica ran |
//! | `nzsync_job_queue_depth` | gauge | | jobs waiting in the fleet's queue, read at each scrape |
//!
//! `kind` is `scheduled` (a job), `manual` (`POST /api/sync/run`) or `browser` (the widget: it
//! starts when the widget takes the sync lease and finishes when it posts its report).
//!
//! Counters are per replica (Prometheus sums them over a fleet); the queue depth is the
//! fleet's. No label carries a user, an org or anything a user typed.
//!
//! **Who may read them.** `/metrics` is off (404) unless the operator sets a bearer token,
//! `[metrics] token_env` (or `token`) in `server.toml`; a scrape then needs
//! `Authorization: Bearer <token>`, and anything else gets 401.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sync_core::RunReport;
use sync_core::report::RunOutcome;

use super::AppState;
use super::jobs::JobOutcome;

/// Where a run came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// A scheduled sync, run as a job.
    Scheduled,
    /// `POST /api/sync/run`.
    Manual,
    /// The widget's own run in the browser.
    Browser,
}

impl RunKind {
    fn label(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Manual => "manual",
            Self::Browser => "browser",
        }
    }
}

/// Bucket bounds of the run duration, in seconds: a quiet incremental run takes about a
/// second, a first sync of a large address book many minutes.
const DURATION_BUCKETS: [f64; 12] = [
    0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

/// The process's recorder, installed at the first call (one per process: the replicas a test
/// starts in one process share it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("nzsync_run_duration_seconds".into()),
                &DURATION_BUCKETS,
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics stays empty");
        }
        handle
    })
}

/// A run started.
pub fn run_started(kind: RunKind) {
    metrics::counter!("nzsync_runs_started_total", "kind" => kind.label()).increment(1);
}

/// A run ended with `report`.
pub fn run_finished(kind: RunKind, report: &RunReport) {
    let outcome = match report.outcome {
        RunOutcome::Completed => "completed",
        RunOutcome::Partial => "partial",
        RunOutcome::Failed => "failed",
    };
    metrics::counter!("nzsync_runs_finished_total", "kind" => kind.label(), "outcome" => outcome)
        .increment(1);
    if report.outcome == RunOutcome::Failed {
        metrics::counter!("nzsync_runs_failed_total", "kind" => kind.label()).increment(1);
    }
    let ms = report.finished.0.saturating_sub(report.started.0).max(0);
    #[allow(clippy::cast_precision_loss)] // Milliseconds of a run fit an f64 exactly.
    metrics::histogram!("nzsync_run_duration_seconds", "kind" => kind.label())
        .record(ms as f64 / 1000.0);
    let r = report.requests;
    metrics::counter!("nzsync_upstream_requests_total", "side" => "notes")
        .increment(u64::from(r.notes));
    metrics::counter!("nzsync_upstream_requests_total", "side" => "crm")
        .increment(u64::from(r.crm));
    metrics::counter!("nzsync_upstream_retries_total", "side" => "all")
        .increment(u64::from(r.retries));
}

/// A run ended without a report (the runner, the store or the user's connection failed).
pub fn run_failed(kind: RunKind) {
    metrics::counter!("nzsync_runs_failed_total", "kind" => kind.label()).increment(1);
}

/// A scheduled-sync job ended with `outcome` (`Err`: the store failed, the queue retries it).
pub fn job_done<E>(outcome: &Result<JobOutcome, E>) {
    let label = match outcome {
        Ok(JobOutcome::Run { .. }) => "run",
        Ok(JobOutcome::Defer) => "defer",
        Ok(JobOutcome::Skip) => "skip",
        Ok(JobOutcome::Wait) => "wait",
        Ok(JobOutcome::Lost { .. }) => "lost",
        Ok(JobOutcome::Fail { .. }) => "fail",
        Err(_) => "error",
    };
    metrics::counter!("nzsync_jobs_total", "outcome" => label).increment(1);
}

/// Whether `headers` carry the bearer `token` (compared in constant time).
fn authorised(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (a, b) = (given.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// `GET /metrics` → the Prometheus text format; 404 when the operator set no token, 401
/// without it.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.metrics_token() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !authorised(&headers, token) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    }
    if let Some(queue) = state.job_queue() {
        match queue.depth().await {
            #[allow(clippy::cast_precision_loss)] // A queue's length fits an f64 exactly.
            Ok(n) => metrics::gauge!("nzsync_job_queue_depth").set(n as f64),
            Err(e) => tracing::warn!(error = %e, "metrics: the job queue does not answer"),
        }
    }
    let handle = handle();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_let_in() {
        let mut h = HeaderMap::new();
        assert!(!authorised(&h, "s3cret"));
        for (value, ok) in [
            ("Bearer s3cret", true),
            ("Bearer s3cre", false),
            ("Bearer s3cret ", false),
            ("bearer s3cret", false),
            ("Basic s3cret", false),
            ("s3cret", false),
        ] {
            h.insert(header::AUTHORIZATION, value.parse().unwrap());
            assert_eq!(authorised(&h, "s3cret"), ok, "{value}");
        }
    }
}
