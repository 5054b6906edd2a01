//! Uninstall (F9). The admin removes the whole org's data; any other user removes their own.
//! Every stored byte goes (sessions, users, credentials, settings, links, history, the list of
//! created records), then the file is vacuumed. Records in Notes and CRM stay unless
//! `delete_crm_records` asks to delete the CRM records the integration created (and only those,
//! see [`crate::crm_cleanup`]). `nzsync uninstall --server-config` runs [`uninstall_all`].

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Member;
use super::crypto::random_token;
use super::{ApiError, AppState, now_ms, profile, zoho};
use crate::crm_cleanup::{Tally, delete_calls};
use crate::store::UserRow;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UninstallBody {
    confirm: bool,
    #[serde(default)]
    delete_crm_records: bool,
}

/// Deletes the CRM records the integration created for `owner`, with `caller`'s CRM access,
/// and forgets the ones that are gone (so a retry after a partial failure tries only the rest).
async fn delete_created(
    state: &AppState,
    caller: &UserRow,
    owner: &UserRow,
    tally: &mut Tally,
) -> Result<(), ApiError> {
    let p = profile(&owner.user_id);
    let created = state.db().await?.created(&p).await?;
    let mut mine = Tally::default();
    for call in delete_calls(&created) {
        match zoho::crm_as(state, caller, reqwest::Method::DELETE, &call.path).await {
            Ok((status, v)) => mine.add(&call, status, Some(&v)),
            Err(e) => mine.failures.push(format!(
                "{}: {} records not deleted ({})",
                call.module.crm_api_name(),
                call.ids.len(),
                e.message()
            )),
        }
    }
    state.db().await?.forget_created(&p, &mine.deleted).await?;
    tally.deleted.append(&mut mine.deleted);
    tally.failures.append(&mut mine.failures);
    Ok(())
}

/// Removes `scope` (and the org when `org` is given): optionally their CRM records first, then
/// every stored row. Refuses while any of them has a sync running. `admin` is whose CRM access
/// deletes the records of a user whose own sign-in is not stored.
async fn remove(
    state: &AppState,
    admin: &UserRow,
    scope: &[UserRow],
    org: Option<&str>,
    delete_crm_records: bool,
) -> Result<Value, ApiError> {
    // Hold every one of their sync leases until they are gone: a sync (a browser run, or a
    // scheduled job on another replica) cannot start meanwhile and write for a removed user.
    let token = random_token();
    let held = hold_leases(state, scope, &token).await?;
    let result = remove_holding_leases(state, admin, scope, org, delete_crm_records).await;
    if result.is_err() {
        release_leases(state, &held, &token).await;
    }
    result
}

/// How long an uninstall holds the leases: longer than deleting the CRM records takes. A
/// replica that dies mid-uninstall leaves them to lapse.
const UNINSTALL_LEASE_MS: i64 = 30 * 60_000;

/// Takes the sync lease of every user of `scope` under `token`; 409 (and none kept) when
/// one of them is syncing.
async fn hold_leases<'a>(
    state: &AppState,
    scope: &'a [UserRow],
    token: &str,
) -> Result<Vec<&'a UserRow>, ApiError> {
    let now = now_ms();
    let mut held = Vec::new();
    for u in scope {
        let taken = state
            .db()
            .await?
            .take_lease(&u.user_id, token, now, now + UNINSTALL_LEASE_MS)
            .await?;
        if !taken {
            release_leases(state, &held, token).await;
            return Err(ApiError::conflict(
                "sync_running",
                format!(
                    "{}'s sync is running; uninstall when it has finished",
                    u.email
                ),
            ));
        }
        held.push(u);
    }
    Ok(held)
}

async fn release_leases(state: &AppState, held: &[&UserRow], token: &str) {
    for u in held {
        if let Ok(mut db) = state.db().await {
            let _ = db.delete_lease(&u.user_id, token).await;
        }
    }
}

/// [`remove`], once the leases are held.
async fn remove_holding_leases(
    state: &AppState,
    admin: &UserRow,
    scope: &[UserRow],
    org: Option<&str>,
    delete_crm_records: bool,
) -> Result<Value, ApiError> {
    let mut tally = Tally::default();
    if delete_crm_records {
        for u in scope {
            let caller = if u.refresh_token.is_some() { u } else { admin };
            delete_created(state, caller, u, &mut tally).await?;
        }
        if !tally.failures.is_empty() {
            // Keep everything stored, so the user can retry: the list of what is left to delete
            // would otherwise be gone with the rest.
            return Err(ApiError::conflict(
                "crm_records_not_deleted",
                format!(
                    "{} CRM records were deleted, but not all; nothing else was removed, so you can try again: {}",
                    tally.deleted.len(),
                    tally.failures.join("; ")
                ),
            ));
        }
    }
    let mut rows = 0;
    for u in scope {
        // Each user's server rows, sync state and history go together, or nothing of theirs.
        let mut tx = state.begin().await?;
        rows += tx.delete_user(&u.user_id).await?;
        rows += tx.delete_profile(&profile(&u.user_id)).await?;
        tx.commit().await?;
    }
    if let Some(org) = org {
        rows += state.db().await?.delete_org(org).await?;
    }
    // The cached access tokens go too (before the compaction, so none lingers on a page).
    for u in scope {
        zoho::forget(state, u).await;
        state.inner.drapi.forget(&u.user_id);
    }
    // SQLite: rewrite the file and empty the write-ahead log so no deleted page lingers.
    state.store().compact().await?;
    Ok(json!({
        "uninstalled": if org.is_some() { "org" } else { "user" },
        "rows_deleted": rows,
        "crm_records_deleted": tally.deleted.len(),
    }))
}

/// `POST /api/uninstall {confirm: true, delete_crm_records: bool}`.
pub async fn uninstall(
    State(state): State<AppState>,
    Member { user }: Member,
    body: Result<Json<UninstallBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) =
        body.map_err(|e| ApiError::bad_request(format!("uninstall: {}", e.body_text())))?;
    if !body.confirm {
        return Err(ApiError::bad_request(
            "uninstall deletes everything the integration stored and cannot be undone: send confirm: true",
        ));
    }
    let (scope, org) = if user.is_admin {
        (
            state.db().await?.org_users(&user.org_id).await?,
            Some(user.org_id.as_str()),
        )
    } else {
        (vec![user.clone()], None)
    };
    Ok(Json(
        remove(&state, &user, &scope, org, body.delete_crm_records).await?,
    ))
}

/// Every org's uninstall, for `nzsync uninstall --server-config` (the operator's way to remove
/// the integration from a server). One JSON summary per org.
///
/// # Errors
/// The first org that could not be removed stops it (orgs before it are gone).
pub async fn uninstall_all(
    state: &AppState,
    delete_crm_records: bool,
) -> Result<Vec<Value>, ApiError> {
    let orgs = state.db().await?.orgs().await?;
    let mut out = Vec::new();
    for (org_id, admin_id) in orgs {
        let scope = state.db().await?.org_users(&org_id).await?;
        let admin = scope
            .iter()
            .find(|u| u.user_id == admin_id)
            .or_else(|| scope.first())
            .cloned();
        let mut summary = match admin {
            Some(admin) => remove(state, &admin, &scope, Some(&org_id), delete_crm_records).await?,
            None => {
                let rows = state.db().await?.delete_org(&org_id).await?;
                json!({ "uninstalled": "org", "rows_deleted": rows, "crm_records_deleted": 0 })
            }
        };
        summary["org_id"] = json!(org_id);
        out.push(summary);
    }
    Ok(out)
}
