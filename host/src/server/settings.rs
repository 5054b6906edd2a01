//! Sync settings (F3) per user, and the schedule of headless syncs (B7).

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::{Deserialize, Serialize};
use sync_core::{ConflictPolicy, Direction};

use super::auth::Member;
use super::{ApiError, AppState, now_ms};
use crate::config::{EventsSetting, SyncConfig};
use crate::store::UserRow;

/// Which events to sync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Events {
    /// All events.
    #[default]
    All,
    /// Today's events.
    Today,
    /// Events of the past month.
    PastMonth,
    /// No events.
    Off,
}

/// Shortest schedule interval, minutes (stay well inside Zoho's daily API credits).
pub const MIN_SCHEDULE_MINUTES: u32 = 15;
/// Longest schedule interval, minutes.
pub const MAX_SCHEDULE_MINUTES: u32 = 7 * 24 * 60;

/// One user's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSettings {
    /// Sync contacts.
    pub contacts: bool,
    /// Sync to-dos.
    pub tasks: bool,
    /// Which events.
    pub events: Events,
    /// Which way changes flow.
    pub direction: Direction,
    /// Who wins a field changed on both sides.
    pub conflict: ConflictPolicy,
    /// Run a headless sync every this many minutes; `null` for never.
    #[serde(default)]
    pub schedule_minutes: Option<u32>,
    /// Which CRM records each module covers: `"mine"` (default) or `{"view": "<cvid>"}`.
    #[serde(default)]
    pub scope: sync_core::Scopes,
}

impl Default for UserSettings {
    fn default() -> Self {
        Self {
            contacts: true,
            tasks: true,
            events: Events::All,
            direction: Direction::TwoWay,
            conflict: ConflictPolicy::CrmWins,
            schedule_minutes: None,
            scope: sync_core::Scopes::default(),
        }
    }
}

impl UserSettings {
    /// The stored settings of `user` (defaults when none are stored or they are unreadable).
    #[must_use]
    pub fn of(user: &UserRow) -> Self {
        user.settings
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    /// The `[sync]` section a headless run uses.
    #[must_use]
    pub fn sync_config(&self) -> SyncConfig {
        SyncConfig {
            contacts: self.contacts,
            tasks: self.tasks,
            events: match self.events {
                Events::All => EventsSetting::All,
                Events::Today => EventsSetting::Today,
                Events::PastMonth => EventsSetting::PastMonth,
                Events::Off => EventsSetting::Off,
            },
            direction: self.direction,
            conflict: self.conflict,
            scope: self.scope.clone(),
            ..SyncConfig::default()
        }
    }

    fn validate(&self) -> Result<(), String> {
        self.scope.check().map_err(|e| format!("scope.{e}"))?;
        if let Some(m) = self.schedule_minutes
            && !(MIN_SCHEDULE_MINUTES..=MAX_SCHEDULE_MINUTES).contains(&m)
        {
            return Err(format!(
                "schedule_minutes must be between {MIN_SCHEDULE_MINUTES} and {MAX_SCHEDULE_MINUTES}, or null for no schedule"
            ));
        }
        Ok(())
    }
}

/// `GET /api/settings`.
pub async fn get_settings(Member { user }: Member) -> Json<UserSettings> {
    Json(UserSettings::of(&user))
}

/// `PUT /api/settings` with the whole settings object.
pub async fn put_settings(
    State(state): State<AppState>,
    Member { user }: Member,
    body: Result<Json<UserSettings>, JsonRejection>,
) -> Result<Json<UserSettings>, ApiError> {
    let Json(settings) =
        body.map_err(|e| ApiError::bad_request(format!("settings: {}", e.body_text())))?;
    settings.validate().map_err(ApiError::bad_request)?;
    let text = serde_json::to_string(&settings).map_err(|e| ApiError::internal(e.to_string()))?;
    let next = settings
        .schedule_minutes
        .map(|m| now_ms() + i64::from(m) * 60_000);
    state
        .db()
        .await?
        .set_settings(&user.user_id, &text, next)
        .await?;
    Ok(Json(settings))
}
