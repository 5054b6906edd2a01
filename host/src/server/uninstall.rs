//! Uninstall (F9). The admin removes the whole org's data; any other user removes their own.
//! Every stored byte goes (sessions, users, credentials, settings, links, history, the list of
//! created records), then the file is vacuumed. Records in Notes and CRM stay unless
//! `delete_crm_records` asks to delete the CRM records the sync created (and only those).

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Member;
use super::db::{self, UserRow};
use super::{ApiError, AppState, now_ms, profile, zoho};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UninstallBody {
    confirm: bool,
    #[serde(default)]
    delete_crm_records: bool,
}

/// Deletes the CRM records the sync created for `owner`, with `caller`'s CRM access.
/// Returns (deleted, failures).
async fn delete_created(
    state: &AppState,
    caller: &UserRow,
    owner: &UserRow,
) -> Result<(usize, Vec<String>), ApiError> {
    let created = db::created(state.store().connection(), &profile(&owner.user_id))?;
    let mut deleted = 0;
    let mut failures = Vec::new();
    let mut modules: Vec<&str> = created.iter().map(|(m, _)| m.as_str()).collect();
    modules.dedup();
    for module in modules {
        let ids: Vec<&str> = created
            .iter()
            .filter(|(m, _)| m == module)
            .map(|(_, z)| z.as_str())
            .collect();
        // Zoho deletes at most 100 records per call.
        for chunk in ids.chunks(100) {
            let path = format!("{module}?ids={}", chunk.join(","));
            let (status, v) = zoho::crm_as(state, caller, reqwest::Method::DELETE, &path).await?;
            let rows = v
                .get("data")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if rows.is_empty() && status >= 300 {
                failures.push(format!("{module}: HTTP {status}"));
            }
            for row in rows {
                let ok = row.get("status").and_then(Value::as_str) == Some("success")
                    // Already gone (deleted by hand since): nothing left to delete.
                    || row.get("message").and_then(Value::as_str) == Some("record not deleted");
                if ok {
                    deleted += 1;
                } else {
                    failures.push(format!(
                        "{module} {}: {}",
                        row.pointer("/details/id")
                            .and_then(Value::as_str)
                            .unwrap_or("?"),
                        row.get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("not deleted")
                    ));
                }
            }
        }
    }
    Ok((deleted, failures))
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
    let scope: Vec<UserRow> = if user.is_admin {
        db::org_users(state.store().connection(), &user.org_id)?
    } else {
        vec![user.clone()]
    };
    let now = now_ms();
    for u in &scope {
        if db::lease(state.store().connection(), &u.user_id, now)?.is_some() {
            return Err(ApiError::conflict(
                "sync_running",
                format!(
                    "{}'s sync is running; uninstall when it has finished",
                    u.email
                ),
            ));
        }
    }
    let mut crm_deleted = 0;
    let mut crm_failures = Vec::new();
    if body.delete_crm_records {
        for u in &scope {
            // The owner's own CRM access when it is stored, else the caller's.
            let caller = if u.refresh_token.is_some() { u } else { &user };
            let (n, f) = delete_created(&state, caller, u).await?;
            crm_deleted += n;
            crm_failures.extend(f);
        }
    }
    let mut rows = 0;
    {
        let mut store = state.store();
        for u in &scope {
            let tx = store.connection().transaction()?;
            rows += db::delete_user(&tx, &u.user_id, &profile(&u.user_id))?;
            tx.commit()?;
            rows += store.delete_profile(&profile(&u.user_id))?;
        }
        if user.is_admin {
            rows += db::delete_org(store.connection(), &user.org_id)?;
        }
        // Rewrite the file and empty the write-ahead log so no deleted page lingers.
        let conn = store.connection();
        conn.execute_batch("VACUUM")?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    for u in &scope {
        zoho::forget(&state, &u.user_id).await;
    }
    Ok(Json(json!({
        "uninstalled": if user.is_admin { "org" } else { "user" },
        "rows_deleted": rows,
        "crm_records_deleted": crm_deleted,
        "crm_failures": crm_failures,
    })))
}
