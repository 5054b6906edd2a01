//! Manage Users (F8): the admin lists, adds (up to the org's licence count) and removes users.
//! A user whose sync holds the lease cannot be removed.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Admin;
use super::db::{self, UserRow};
use super::zoho::{self, CrmUser};
use super::{ApiError, AppState, now_ms, profile};

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

fn user_json(state: &AppState, u: &UserRow, now: i64) -> Result<Value, ApiError> {
    let syncing = db::lease(state.store().connection(), &u.user_id, now)?.is_some();
    Ok(json!({
        "user_id": u.user_id, "email": u.email, "name": u.name, "admin": u.is_admin,
        "connected": u.connected(), "syncing": syncing, "added": u.added,
    }))
}

/// `GET /api/users` (admin).
pub async fn list(
    State(state): State<AppState>,
    Admin { user }: Admin,
) -> Result<Json<Value>, ApiError> {
    let (licences, crm) = org_facts(&state, &user).await?;
    let enabled = db::org_users(state.store().connection(), &user.org_id)?;
    let now = now_ms();
    let users = enabled
        .iter()
        .map(|u| user_json(&state, u, now))
        .collect::<Result<Vec<_>, _>>()?;
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
    let mut store = state.store();
    let tx = store.connection().transaction()?;
    if db::user(&tx, &found.user_id)?.is_some() {
        return Err(ApiError::conflict(
            "already_added",
            format!("{} is already a user of the integration", found.email),
        ));
    }
    let used = db::org_users(&tx, &admin.org_id)?.len() as u64;
    if used >= licences {
        return Err(ApiError::conflict(
            "licence_limit",
            format!("all {licences} user licences of your CRM org are in use: remove a user first"),
        ));
    }
    let row = UserRow {
        user_id: found.user_id.clone(),
        org_id: admin.org_id.clone(),
        email: found.email.clone(),
        name: found.name.clone(),
        is_admin: false,
        added: now,
        refresh_token: None,
        domino_url: None,
        domino_user: None,
        domino_password: None,
        mail_db: None,
        settings: None,
        next_sync: None,
    };
    db::insert_user(&tx, &row)?;
    tx.commit()?;
    drop(store);
    Ok(Json(user_json(&state, &row, now)?))
}

/// `DELETE /api/users/{user_id}` (admin). 409 while that user's sync holds the lease.
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
    let rows = {
        let mut store = state.store();
        let tx = store.connection().transaction()?;
        let target = db::user(&tx, &user_id)?
            .filter(|u| u.org_id == admin.org_id)
            .ok_or_else(|| ApiError::not_found("no such user in the integration"))?;
        if db::lease(&tx, &user_id, now_ms())?.is_some() {
            return Err(ApiError::conflict(
                "sync_running",
                format!(
                    "{}'s sync is running; remove them when it has finished",
                    target.email
                ),
            ));
        }
        let n = db::delete_user(&tx, &user_id)?;
        tx.commit()?;
        n + store.delete_profile(&profile(&user_id))?
    };
    zoho::forget(&state, &user_id).await;
    Ok(Json(json!({ "removed": user_id, "rows_deleted": rows })))
}
