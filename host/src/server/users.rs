//! Manage Users (F8): the admin lists users with their state (connected, last sync, schedule,
//! syncing now), adds users (up to the org's licence count), stops a user's syncing and removes
//! users. As the seed says, a user who is set up to sync (has a Domino connection stored) cannot
//! be removed from the list: the admin stops their syncing first. Neither happens while the
//! user's sync holds the lease.
//!
//! The admin can hand the role to another user of the integration who is a Zoho CRM
//! administrator (verified with Zoho's users and profiles APIs) or whom the operator names in
//! `[admins]`; the org has one admin, so the previous admin becomes an ordinary user.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Admin;
use super::settings::UserSettings;
use super::zoho::{self, CrmUser};
use super::{ApiError, AppState, now_ms, profile};
use crate::store::{Conn, UserRow};

async fn org_facts(state: &AppState, admin: &UserRow) -> Result<(u64, Vec<CrmUser>), ApiError> {
    let (status, org) = zoho::crm_as(state, admin, reqwest::Method::GET, "org").await?;
    let (org_id, licences) = zoho::org_info(&org).ok_or_else(|| {
        ApiError::upstream(format!("Zoho CRM did not describe the org (HTTP {status})"))
    })?;
    if org_id != admin.org_id {
        return Err(ApiError::forbidden(
            "your CRM access belongs to another org",
        ));
    }
    let (_, users) =
        zoho::crm_as(state, admin, reqwest::Method::GET, "users?type=ActiveUsers").await?;
    Ok((licences, zoho::crm_users(&users)))
}

async fn user_json(
    db: &mut Conn,
    state: &AppState,
    u: &UserRow,
    crm: &[CrmUser],
    now: i64,
) -> Result<Value, ApiError> {
    let syncing = db.lease(&u.user_id, now).await?.is_some();
    let last_sync = db.last_sync(&profile(&u.user_id)).await?.map(
        |l| json!({ "id": l.id, "number": l.number, "finished": l.finished, "outcome": l.outcome }),
    );
    let schedule = UserSettings::of(u)
        .schedule_minutes
        .filter(|_| u.connected());
    // Whether the role could be handed to them (Zoho's word is checked again on hand-over).
    let can_be_admin = state.inner.config.admins.names(&u.user_id, &u.email)
        || crm.iter().any(|c| c.user_id == u.user_id && c.crm_admin);
    Ok(json!({
        "user_id": u.user_id, "email": u.email, "name": u.name, "admin": u.is_admin,
        "can_be_admin": can_be_admin,
        "connected": u.connected(), "server": u.domino_url, "syncing": syncing, "added": u.added,
        "last_sync": last_sync, "schedule_minutes": schedule, "next_sync": u.next_sync,
    }))
}

/// The user `user_id` of the admin's org.
async fn org_user(db: &mut Conn, admin: &UserRow, user_id: &str) -> Result<UserRow, ApiError> {
    db.user(user_id)
        .await?
        .filter(|u| u.org_id == admin.org_id)
        .ok_or_else(|| ApiError::not_found("no such user in the integration"))
}

async fn refuse_while_running(db: &mut Conn, target: &UserRow) -> Result<(), ApiError> {
    if db.lease(&target.user_id, now_ms()).await?.is_some() {
        return Err(ApiError::conflict(
            "sync_running",
            format!(
                "{}'s sync is running; try again when it has finished",
                target.email
            ),
        ));
    }
    Ok(())
}

/// `GET /api/users` (admin).
pub async fn list(
    State(state): State<AppState>,
    Admin { user }: Admin,
) -> Result<Json<Value>, ApiError> {
    let (licences, crm) = org_facts(&state, &user).await?;
    let mut db = state.db().await?;
    let enabled = db.org_users(&user.org_id).await?;
    let now = now_ms();
    let mut users = Vec::with_capacity(enabled.len());
    for u in &enabled {
        users.push(user_json(&mut db, &state, u, &crm, now).await?);
    }
    drop(db);
    let available: Vec<&CrmUser> = crm
        .iter()
        .filter(|c| !enabled.iter().any(|u| u.user_id == c.user_id))
        .collect();
    Ok(Json(json!({
        "licences": licences,
        "used": enabled.len(),
        "users": users,
        "available": available,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddUser {
    /// A CRM user id or e-mail address of the admin's org.
    user: String,
}

/// `POST /api/users {"user": "<CRM user id or e-mail>"}` (admin).
pub async fn add(
    State(state): State<AppState>,
    Admin { user: admin }: Admin,
    Json(body): Json<AddUser>,
) -> Result<Json<Value>, ApiError> {
    let (licences, crm) = org_facts(&state, &admin).await?;
    let wanted = body.user.trim();
    let found = crm
        .into_iter()
        .find(|c| c.user_id == wanted || c.email.eq_ignore_ascii_case(wanted))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "{wanted:?} is not an active user of your Zoho CRM org"
            ))
        })?;
    let now = now_ms();
    let mut tx = state.begin().await?;
    // Two admins' adds (on two replicas) count the licences one after the other.
    tx.lock_org(&admin.org_id).await?;
    if tx.user(&found.user_id).await?.is_some() {
        return Err(ApiError::conflict(
            "already_added",
            format!("{} is already a user of the integration", found.email),
        ));
    }
    let used = tx.org_users(&admin.org_id).await?.len() as u64;
    if used >= licences {
        return Err(ApiError::conflict(
            "licence_limit",
            format!("all {licences} user licences of your CRM org are in use: remove a user first"),
        ));
    }
    let row = UserRow::new(
        &found.user_id,
        &admin.org_id,
        &found.email,
        &found.name,
        now,
    );
    tx.insert_user(&row).await?;
    tx.commit().await?;
    let mut db = state.db().await?;
    Ok(Json(user_json(&mut db, &state, &row, &[found], now).await?))
}

/// `POST /api/users/{user_id}/stop` (admin): stops the user's syncing. Deletes their Domino
/// connection (server, user name, encrypted password, mail file) and their schedule, so no
/// sync runs for them, by hand or on schedule, until they connect again; keeps their records in
/// both systems, their other settings, the links between their records and their run history.
/// 409 while their sync holds the lease.
pub async fn stop(
    State(state): State<AppState>,
    Admin { user: admin }: Admin,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let target = {
        let mut tx = state.begin().await?;
        let target = org_user(&mut tx, &admin, &user_id).await?;
        refuse_while_running(&mut tx, &target).await?;
        tx.clear_connection(&user_id).await?;
        let settings = UserSettings {
            schedule_minutes: None,
            ..UserSettings::of(&target)
        };
        let text =
            serde_json::to_string(&settings).map_err(|e| ApiError::internal(e.to_string()))?;
        tx.set_settings(&user_id, &text, None).await?;
        tx.commit().await?;
        target
    };
    state.inner.drapi.forget(&user_id);
    Ok(Json(json!({
        "stopped": user_id,
        "was_connected": target.connected(),
        "deleted": ["domino_connection", "schedule"],
        "kept": ["records", "settings", "links", "history"],
    })))
}

/// `DELETE /api/users/{user_id}` (admin). 409 while the user is set up to sync (stop their
/// syncing first) or their sync holds the lease.
pub async fn remove(
    State(state): State<AppState>,
    Admin { user: admin }: Admin,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if user_id == admin.user_id {
        return Err(ApiError::bad_request(
            "the admin cannot remove themselves; use Uninstall to remove the integration",
        ));
    }
    let (rows, target) = {
        let mut tx = state.begin().await?;
        let target = org_user(&mut tx, &admin, &user_id).await?;
        refuse_while_running(&mut tx, &target).await?;
        if target.connected() {
            return Err(ApiError::conflict(
                "set_up_to_sync",
                format!(
                    "{} is set up to sync: stop their syncing first (Stop syncing), then remove them",
                    target.email
                ),
            ));
        }
        // The user and all their sync state and history go together, or nothing does.
        let n = tx.delete_user(&user_id).await?;
        let n = n + tx.delete_profile(&profile(&user_id)).await?;
        tx.commit().await?;
        // Deleted data does not linger in the SQLite file.
        state.store().compact().await?;
        (n, target)
    };
    zoho::forget(&state, &target).await;
    state.inner.drapi.forget(&user_id);
    Ok(Json(json!({ "removed": user_id, "rows_deleted": rows })))
}

/// `POST /api/users/{user_id}/admin` (admin): hands the admin role to `user_id`, a user of the
/// integration whom Zoho shows as a CRM administrator (or the operator names). The caller
/// becomes an ordinary user. 409 `not_crm_admin` otherwise (nothing changes).
pub async fn hand_over(
    State(state): State<AppState>,
    Admin { user: admin }: Admin,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if user_id == admin.user_id {
        return Err(ApiError::bad_request(
            "you are the integration's admin already",
        ));
    }
    let target = org_user(&mut state.db().await?, &admin, &user_id).await?;
    let (status, v) = zoho::crm_as(
        &state,
        &admin,
        reqwest::Method::GET,
        &format!(
            "users/{}",
            url::form_urlencoded::byte_serialize(user_id.as_bytes()).collect::<String>()
        ),
    )
    .await?;
    let crm = zoho::crm_users(&v)
        .into_iter()
        .find(|c| c.user_id == user_id)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "{} is not a user of your Zoho CRM org (HTTP {status})",
                target.email
            ))
        })?;
    let token = zoho::access_token(&state, &admin, false).await?;
    if zoho::may_administer(&state, &token, &crm).await?.is_none() {
        return Err(ApiError::conflict(
            "not_crm_admin",
            format!(
                "{} is not a Zoho CRM administrator: only a user with the Administrator profile in Zoho CRM (or one the operator names) can be the integration's admin",
                target.email
            ),
        ));
    }
    {
        let mut tx = state.begin().await?;
        tx.lock_org(&admin.org_id).await?;
        // Still the admin, and the target still a user, now that Zoho has answered.
        let current = tx.user(&admin.user_id).await?.filter(|u| u.is_admin);
        if current.is_none() {
            return Err(ApiError::forbidden(
                "only the integration's admin can manage users",
            ));
        }
        org_user(&mut tx, &admin, &user_id).await?;
        tx.make_admin(&admin.org_id, &user_id).await?;
        tx.commit().await?;
    }
    tracing::info!(from = %admin.user_id, to = %user_id, "admin role handed over");
    Ok(Json(
        json!({ "admin": user_id, "previous_admin": admin.user_id }),
    ))
}
