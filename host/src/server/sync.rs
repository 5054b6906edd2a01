//! Syncing: the per-user lease (one sync at a time), the state the browser-run engine starts
//! from and reports back into, the run history, and headless runs under wasmtime.
//!
//! The lease is a random token valid for [`LEASE_MS`]; the holder renews it while the sync
//! runs and sends it in `X-Sync-Lease` with every state change and the final report.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use sync_core::{LinkSupply, LinkWant, Module, NotesUnid, RunReport, StateChange, SyncState};

use super::auth::Member;
use super::crypto::{random_token, same};
use super::lease::LeaseRenewal;
use super::metrics::RunKind;
use super::{ApiError, AppState, connect, now_ms, profile};
use crate::runner::ProfileState;
use crate::store::UserRow;

/// How long a lease lasts unless renewed.
pub const LEASE_MS: i64 = 120_000;
const LEASE_HEADER: &str = "x-sync-lease";

/// Takes the lease of `user_id`, or says that a sync holds it. One statement in the store, so
/// two replicas never both take it.
async fn acquire(state: &AppState, user_id: &str) -> Result<(String, i64), ApiError> {
    let now = now_ms();
    let token = random_token();
    let expires = now + LEASE_MS;
    if !state
        .db()
        .await?
        .take_lease(user_id, &token, now, expires)
        .await?
    {
        return Err(ApiError::conflict(
            "sync_running",
            "a sync is already running for you; wait for it to finish",
        ));
    }
    Ok((token, expires))
}

fn no_lease() -> ApiError {
    ApiError::conflict(
        "no_lease",
        "this sync does not hold the lease (it expired or another sync took it): start the sync again",
    )
}

/// Checks the `X-Sync-Lease` header against the user's current lease.
async fn check_lease(
    state: &AppState,
    user_id: &str,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    let given = headers
        .get(LEASE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match state.db().await?.lease(user_id, now_ms()).await? {
        Some((token, _)) if !given.is_empty() && same(&token, given) => Ok(token),
        _ => Err(no_lease()),
    }
}

/// `POST /api/sync/lease` → `{lease, expires}`; 409 while another sync holds it.
pub async fn acquire_lease(
    State(state): State<AppState>,
    Member { user }: Member,
) -> Result<Json<Value>, ApiError> {
    let (token, expires) = acquire(&state, &user.user_id).await?;
    super::metrics::run_started(RunKind::Browser);
    Ok(Json(json!({ "lease": token, "expires": expires })))
}

/// `POST /api/sync/lease/renew` (header `X-Sync-Lease`) → `{lease, expires}`.
pub async fn renew_lease(
    State(state): State<AppState>,
    Member { user }: Member,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = check_lease(&state, &user.user_id, &headers).await?;
    let expires = now_ms() + LEASE_MS;
    if !state
        .db()
        .await?
        .renew_lease(&user.user_id, &token, expires)
        .await?
    {
        return Err(no_lease());
    }
    Ok(Json(json!({ "lease": token, "expires": expires })))
}

/// `DELETE /api/sync/lease` (header `X-Sync-Lease`).
pub async fn release_lease(
    State(state): State<AppState>,
    Member { user }: Member,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = check_lease(&state, &user.user_id, &headers).await?;
    state
        .db()
        .await?
        .delete_lease(&user.user_id, &token)
        .await?;
    Ok(Json(json!({ "released": true })))
}

/// `GET /api/sync/state` → `{state, config}`: what the browser engine starts from. The links
/// are not in it: the engine reads them page by page from `/api/sync/links`.
pub async fn get_state(
    State(state): State<AppState>,
    Member { user }: Member,
) -> Result<Json<Value>, ApiError> {
    let (config, _) = connect::stored(&state, &user)?;
    let sync_state = state
        .db()
        .await?
        .load_state_without_links(&profile(&user.user_id))
        .await?;
    let mut engine_config = config.engine_config(false, false);
    engine_config.links = LinkSupply::OnRequest;
    Ok(Json(json!({
        "state": sync_state,
        "config": engine_config,
    })))
}

/// The most links one `/api/sync/links` answer carries.
const MAX_LINKS_PER_READ: u32 = 5_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinksQuery {
    module: Module,
    after: Option<String>,
    limit: u32,
}

/// `GET /api/sync/links?module=…&after=…&limit=…` → `{links:[Link]}`: a page of the caller's
/// own links (ascending UNID after `after`), as the browser-run engine asks for them. Only the
/// caller's profile is ever read.
pub async fn get_links(
    State(state): State<AppState>,
    Member { user }: Member,
    query: Result<Query<LinksQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(format!("links: {}", e.body_text())))?;
    if q.limit == 0 || q.limit > MAX_LINKS_PER_READ {
        return Err(ApiError::bad_request(format!(
            "links: limit must be 1 to {MAX_LINKS_PER_READ}"
        )));
    }
    let want = LinkWant::Page {
        after: q.after.map(NotesUnid),
        limit: q.limit,
    };
    let links = state
        .db()
        .await?
        .links(&profile(&user.user_id), q.module, &want)
        .await?;
    Ok(Json(json!({ "links": links })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinksByUnid {
    module: Module,
    unids: Vec<String>,
}

/// `POST /api/sync/links {module, unids}` → `{links:[Link]}`: the caller's own links with these
/// Notes keys (the bases a window of the browser-run engine needs); keys not stored are left
/// out. A read with a body, because a window's keys do not fit in a URL.
pub async fn post_links(
    State(state): State<AppState>,
    Member { user }: Member,
    body: Result<Json<LinksByUnid>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(q) = body.map_err(|e| ApiError::bad_request(format!("links: {}", e.body_text())))?;
    if q.unids.len() > MAX_LINKS_PER_READ as usize {
        return Err(ApiError::bad_request(format!(
            "links: at most {MAX_LINKS_PER_READ} keys per read"
        )));
    }
    let want = LinkWant::Unids {
        unids: q.unids.into_iter().map(NotesUnid).collect(),
    };
    let links = state
        .db()
        .await?
        .links(&profile(&user.user_id), q.module, &want)
        .await?;
    Ok(Json(json!({ "links": links })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangesBody {
    changes: Vec<StateChange>,
}

/// `POST /api/sync/state-changes {changes:[StateChange]}` (header `X-Sync-Lease`). A
/// `crm_created` change is not stored from here: the proxy remembered the records the
/// browser's sync created from Zoho's own answers, and an uninstall deletes only those.
pub async fn post_state_changes(
    State(state): State<AppState>,
    Member { user }: Member,
    headers: HeaderMap,
    body: Result<Json<ChangesBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) =
        body.map_err(|e| ApiError::bad_request(format!("state changes: {}", e.body_text())))?;
    check_lease(&state, &user.user_id, &headers).await?;
    let changes: Vec<StateChange> = body
        .changes
        .into_iter()
        .filter(|c| !matches!(c, StateChange::CrmCreated { .. }))
        .collect();
    state
        .db()
        .await?
        .apply(&profile(&user.user_id), &changes)
        .await?;
    Ok(Json(json!({ "applied": changes.len() })))
}

/// Stores a finished report.
async fn record(state: &AppState, user_id: &str, report: &RunReport) -> Result<i64, ApiError> {
    Ok(state
        .db()
        .await?
        .record_run(&profile(user_id), report)
        .await?)
}

/// `POST /api/runs` (a `RunReport`, header `X-Sync-Lease`) → `{id}`.
pub async fn post_run(
    State(state): State<AppState>,
    Member { user }: Member,
    headers: HeaderMap,
    body: Result<Json<RunReport>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(report) =
        body.map_err(|e| ApiError::bad_request(format!("run report: {}", e.body_text())))?;
    check_lease(&state, &user.user_id, &headers).await?;
    let id = record(&state, &user.user_id, &report).await?;
    super::metrics::run_finished(RunKind::Browser, &report);
    Ok(Json(json!({ "id": id })))
}

/// `GET /api/runs` → `{runs:[summary + number + totals {synced, errors} + modules]}`, newest
/// first (the caller's only). `number` counts syncs and previews apart (the first sync is 1
/// whatever previews came before it); `synced` counts records created, updated or deleted on
/// either side; `modules` is each module's status (`completed`, `failed`, `not_run`, …).
pub async fn list_runs(
    State(state): State<AppState>,
    Member { user }: Member,
) -> Result<Json<Value>, ApiError> {
    let p = profile(&user.user_id);
    let mut db = state.db().await?;
    let numbers = db.run_numbers(&p).await?;
    let runs = db.runs(&p, 100).await?;
    // Totals per run for the dashboard's chart (records synced per run).
    let mut out = Vec::with_capacity(runs.len());
    for r in runs {
        out.push({
            let mut v = serde_json::to_value(&r).map_err(|e| ApiError::internal(e.to_string()))?;
            v["number"] = json!(numbers.get(&r.id).copied().unwrap_or(0));
            if let Some(report) = db.run_report(&p, r.id).await? {
                let (mut synced, mut errors) = (0u32, 0u32);
                for m in &report.modules {
                    synced += m.counts.created + m.counts.updated + m.counts.deleted;
                    errors += m.counts.errors;
                }
                v["totals"] = json!({ "synced": synced, "errors": errors });
                v["modules"] = report
                    .modules
                    .iter()
                    .map(|m| json!({ "module": m.module, "status": m.status }))
                    .collect();
            }
            v
        });
    }
    Ok(Json(json!({ "runs": out })))
}

/// `GET /api/runs/{id}` → the report (the caller's only; 404 otherwise).
pub async fn get_run(
    State(state): State<AppState>,
    Member { user }: Member,
    Path(id): Path<i64>,
) -> Result<Json<RunReport>, ApiError> {
    state
        .db()
        .await?
        .run_report(&profile(&user.user_id), id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no run {id} in your history")))
}

/// Options of a headless run.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunOptions {
    /// Preview only.
    pub dry_run: bool,
    /// Let this run delete more than half of a module's linked records.
    pub allow_mass_delete: bool,
}

/// One headless sync for `user` under wasmtime, holding the lease throughout.
///
/// # Errors
/// [`ApiError`] when the lease is taken, the user is not connected, or the runner fails.
pub async fn run_headless(
    state: &AppState,
    user: &UserRow,
    opts: RunOptions,
) -> Result<(i64, RunReport), ApiError> {
    connect::stored(state, user)?;
    let runner = state.runner().await?;
    let (token, expires) = acquire(state, &user.user_id).await?;
    let renewal = LeaseRenewal::start(state, &user.user_id, &token, expires, LEASE_MS);
    let result = async {
        let report = match renewal
            .hold(sync_holding_lease(
                state,
                &runner,
                user,
                opts,
                RunKind::Manual,
            ))
            .await
        {
            Ok(report) => report?,
            Err(_) => {
                // Cut off where it stood: its state writes so far are kept, nothing recorded.
                super::metrics::run_failed(RunKind::Manual);
                return Err(no_lease());
            }
        };
        let id = record(state, &user.user_id, &report).await?;
        Ok::<_, ApiError>((id, report))
    }
    .await;
    renewal.stop().await;
    if let Ok(mut db) = state.db().await {
        let _ = db.delete_lease(&user.user_id, &token).await;
    }
    result
}

/// The engine's run for `user`, whose lease the caller holds: its report, not yet recorded.
/// The run's state changes are written as it goes (crash-safe: a run cut off and run again
/// converges).
///
/// # Errors
/// [`ApiError`] when the user is not connected, the store fails or the runner fails.
pub(super) async fn sync_holding_lease(
    state: &AppState,
    runner: &crate::runner::Runner,
    user: &UserRow,
    opts: RunOptions,
    kind: RunKind,
) -> Result<RunReport, ApiError> {
    let (config, _) = connect::stored(state, user)?;
    let up = Arc::new(super::connect::user_upstreams(state, user).await?);
    let p = profile(&user.user_id);
    let sync_state: SyncState = state.db().await?.load_state_without_links(&p).await?;
    let mut engine_config = config.engine_config(opts.dry_run, opts.allow_mass_delete);
    engine_config.links = LinkSupply::OnRequest;
    let mut run_state = ProfileState {
        store: state.store(),
        profile: &p,
        dry_run: opts.dry_run,
    };
    super::metrics::run_started(kind);
    let result = runner
        .run(&engine_config, &sync_state, up, &mut run_state)
        .await
        .map_err(|e| ApiError::internal(e.to_string()));
    match &result {
        Ok(report) => super::metrics::run_finished(kind, report),
        Err(_) => super::metrics::run_failed(kind),
    }
    result
}

/// `POST /api/sync/run {dry_run?, allow_mass_delete?}` → `{id, report}`: a headless sync now.
pub async fn run_now(
    State(state): State<AppState>,
    Member { user }: Member,
    body: Option<Json<RunOptions>>,
) -> Result<Json<Value>, ApiError> {
    let opts = body.map(|Json(o)| o).unwrap_or_default();
    let (id, report) = run_headless(&state, &user, opts).await?;
    Ok(Json(json!({ "id": id, "report": report })))
}
