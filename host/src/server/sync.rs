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
use sync_core::{Link, LinkSupply, LinkWant, Module, NotesUnid, RunReport, StateChange, SyncState};

use super::auth::Member;
use super::crypto::{random_token, same};
use super::db::{self, UserRow};
use super::{ApiError, AppState, connect, now_ms, profile};
use crate::runner::{RunState, RunnerError};

/// How long a lease lasts unless renewed.
pub const LEASE_MS: i64 = 120_000;
const LEASE_HEADER: &str = "x-sync-lease";

/// Takes the lease of `user_id`, or says who holds it.
fn acquire(state: &AppState, user_id: &str) -> Result<(String, i64), ApiError> {
    let now = now_ms();
    let mut store = state.store();
    let tx = store.connection().transaction()?;
    if db::lease(&tx, user_id, now)?.is_some() {
        return Err(ApiError::conflict(
            "sync_running",
            "a sync is already running for you; wait for it to finish",
        ));
    }
    let token = random_token();
    let expires = now + LEASE_MS;
    db::put_lease(&tx, user_id, &token, expires)?;
    tx.commit()?;
    Ok((token, expires))
}

/// Checks the `X-Sync-Lease` header against the user's current lease.
fn check_lease(state: &AppState, user_id: &str, headers: &HeaderMap) -> Result<String, ApiError> {
    let given = headers
        .get(LEASE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match db::lease(state.store().connection(), user_id, now_ms())? {
        Some((token, _)) if !given.is_empty() && same(&token, given) => Ok(token),
        _ => Err(ApiError::conflict(
            "no_lease",
            "this sync does not hold the lease (it expired or another sync took it): start the sync again",
        )),
    }
}

/// `POST /api/sync/lease` → `{lease, expires}`; 409 while another sync holds it.
pub async fn acquire_lease(
    State(state): State<AppState>,
    Member { user }: Member,
) -> Result<Json<Value>, ApiError> {
    let (token, expires) = acquire(&state, &user.user_id)?;
    Ok(Json(json!({ "lease": token, "expires": expires })))
}

/// `POST /api/sync/lease/renew` (header `X-Sync-Lease`) → `{lease, expires}`.
pub async fn renew_lease(
    State(state): State<AppState>,
    Member { user }: Member,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = check_lease(&state, &user.user_id, &headers)?;
    let expires = now_ms() + LEASE_MS;
    db::put_lease(state.store().connection(), &user.user_id, &token, expires)?;
    Ok(Json(json!({ "lease": token, "expires": expires })))
}

/// `DELETE /api/sync/lease` (header `X-Sync-Lease`).
pub async fn release_lease(
    State(state): State<AppState>,
    Member { user }: Member,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let token = check_lease(&state, &user.user_id, &headers)?;
    db::delete_lease(state.store().connection(), &user.user_id, &token)?;
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
        .store()
        .load_state_without_links(&profile(&user.user_id))?;
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
        .store()
        .links(&profile(&user.user_id), q.module, &want)?;
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
        .store()
        .links(&profile(&user.user_id), q.module, &want)?;
    Ok(Json(json!({ "links": links })))
}

/// A headless run's state in the server's store.
struct ServerRunState<'a> {
    state: &'a AppState,
    profile: &'a str,
    dry_run: bool,
}

impl RunState for ServerRunState<'_> {
    fn persist(&mut self, changes: &[StateChange]) -> Result<(), RunnerError> {
        if self.dry_run {
            return Ok(());
        }
        Ok(self.state.store().apply(self.profile, changes)?)
    }

    fn links(&mut self, module: Module, want: &LinkWant) -> Result<Vec<Link>, RunnerError> {
        Ok(self.state.store().links(self.profile, module, want)?)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangesBody {
    changes: Vec<StateChange>,
}

/// `POST /api/sync/state-changes {changes:[StateChange]}` (header `X-Sync-Lease`).
pub async fn post_state_changes(
    State(state): State<AppState>,
    Member { user }: Member,
    headers: HeaderMap,
    body: Result<Json<ChangesBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) =
        body.map_err(|e| ApiError::bad_request(format!("state changes: {}", e.body_text())))?;
    check_lease(&state, &user.user_id, &headers)?;
    state
        .store()
        .apply(&profile(&user.user_id), &body.changes)?;
    Ok(Json(json!({ "applied": body.changes.len() })))
}

/// Stores a finished report (the store also remembers which CRM records the sync created).
fn record(state: &AppState, user_id: &str, report: &RunReport) -> Result<i64, ApiError> {
    Ok(state.store().record_run(&profile(user_id), report)?)
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
    check_lease(&state, &user.user_id, &headers)?;
    let id = record(&state, &user.user_id, &report)?;
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
    let mut store = state.store();
    let numbers = db::run_numbers(store.connection(), &p)?;
    let runs = store.runs(&p, 100)?;
    // Totals per run for the dashboard's chart (records synced per run).
    let runs = runs
        .into_iter()
        .map(|r| {
            let mut v = serde_json::to_value(&r).map_err(|e| ApiError::internal(e.to_string()))?;
            v["number"] = json!(numbers.get(&r.id).copied().unwrap_or(0));
            if let Some(report) = store.run_report(&p, r.id)? {
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
            Ok(v)
        })
        .collect::<Result<Vec<Value>, ApiError>>()?;
    Ok(Json(json!({ "runs": runs })))
}

/// `GET /api/runs/{id}` → the report (the caller's only; 404 otherwise).
pub async fn get_run(
    State(state): State<AppState>,
    Member { user }: Member,
    Path(id): Path<i64>,
) -> Result<Json<RunReport>, ApiError> {
    state
        .store()
        .run_report(&profile(&user.user_id), id)?
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
    let (config, _) = connect::stored(state, user)?;
    let runner = state.runner().await?;
    let (token, _) = acquire(state, &user.user_id)?;
    let renewer = {
        let state = state.clone();
        let user_id = user.user_id.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(
                u64::try_from(LEASE_MS / 4).unwrap_or(30_000),
            ));
            loop {
                tick.tick().await;
                let _ = db::put_lease(
                    state.store().connection(),
                    &user_id,
                    &token,
                    now_ms() + LEASE_MS,
                );
            }
        })
    };
    let result = async {
        let up = Arc::new(super::connect::user_upstreams(state, user).await?);
        let p = profile(&user.user_id);
        let sync_state: SyncState = state.store().load_state_without_links(&p)?;
        let mut engine_config = config.engine_config(opts.dry_run, opts.allow_mass_delete);
        engine_config.links = LinkSupply::OnRequest;
        let mut run_state = ServerRunState {
            state,
            profile: &p,
            dry_run: opts.dry_run,
        };
        let report = runner
            .run(&engine_config, &sync_state, up, &mut run_state)
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let id = record(state, &user.user_id, &report)?;
        Ok::<_, ApiError>((id, report))
    }
    .await;
    renewer.abort();
    // Wait for the renewer to stop so it cannot write the lease back after the release.
    let _ = renewer.await;
    let _ = db::delete_lease(state.store().connection(), &user.user_id, &token);
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
