//! What the store hands back, the same from either backend, and the few rules both backends
//! share (how a module is written, how an outcome is named).

use sync_core::{Module, RunReport, StateChange};

use super::StoreError;
use crate::config::DominoApiChoice;

/// A summary row of the run history.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RunSummary {
    /// Row id.
    pub id: i64,
    /// Start, ms since the epoch.
    pub started: i64,
    /// End, ms since the epoch.
    pub finished: i64,
    /// A preview.
    pub dry_run: bool,
    /// `completed`, `partial` or `failed`.
    pub outcome: String,
}

/// The newest sync (not preview) of a profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastSync {
    /// Its run id.
    pub id: i64,
    /// Its number among the profile's syncs (1, 2, …).
    pub number: i64,
    /// When it finished, ms since the epoch.
    pub finished: i64,
    /// `completed`, `partial` or `failed`.
    pub outcome: String,
}

/// A user the admin enabled (or the admin), with their sealed secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    /// The Zoho CRM user id.
    pub user_id: String,
    /// The Zoho CRM org id.
    pub org_id: String,
    /// E-mail address, as Zoho CRM last said.
    pub email: String,
    /// Full name, as Zoho CRM last said.
    pub name: String,
    /// The integration's admin.
    pub is_admin: bool,
    /// When the user was added, ms since the epoch.
    pub added: i64,
    /// The Zoho refresh token, sealed (`server::crypto`).
    pub refresh_token: Option<Vec<u8>>,
    /// The Domino server the user connected to.
    pub domino_url: Option<String>,
    /// The Domino user name.
    pub domino_user: Option<String>,
    /// The Domino password, sealed (`server::crypto`).
    pub domino_password: Option<Vec<u8>>,
    /// The mail file's path on the Domino server.
    pub mail_db: Option<String>,
    /// The Domino API the user connected through (`domino_url` is its base URL): never
    /// `Auto`, which is settled at Connect.
    pub domino_api: DominoApiChoice,
    /// The sync settings, JSON (`server::UserSettings`).
    pub settings: Option<String>,
    /// When the next scheduled sync is due, ms since the epoch.
    pub next_sync: Option<i64>,
}

impl UserRow {
    /// A new user of `org_id`, without a connection, settings or CRM access of their own.
    #[must_use]
    pub fn new(user_id: &str, org_id: &str, email: &str, name: &str, added: i64) -> Self {
        Self {
            user_id: user_id.to_owned(),
            org_id: org_id.to_owned(),
            email: email.to_owned(),
            name: name.to_owned(),
            is_admin: false,
            added,
            refresh_token: None,
            domino_url: None,
            domino_user: None,
            domino_password: None,
            mail_db: None,
            domino_api: DominoApiChoice::Das,
            settings: None,
            next_sync: None,
        }
    }

    /// Whether the user's Domino connection (server, user name and password) is stored.
    #[must_use]
    pub fn connected(&self) -> bool {
        self.domino_url.is_some() && self.domino_user.is_some() && self.domino_password.is_some()
    }
}

/// A signed-in browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// The Zoho CRM user id.
    pub user_id: String,
    /// The Zoho CRM org id.
    pub org_id: String,
    /// E-mail address at sign-in.
    pub email: String,
    /// Full name at sign-in.
    pub name: String,
    /// The session's CSRF token.
    pub csrf: String,
}

/// The columns of `srv_users`, in [`UserRow`]'s order (both backends read them so).
pub(crate) const USER_COLUMNS: &str = "user_id, org_id, email, name, is_admin, added, \
     refresh_token, domino_url, domino_user, domino_password, mail_db, settings, next_sync, \
     domino_api";

/// How `srv_users.domino_api` holds `api` (`Auto` is settled before it is stored).
pub(crate) fn domino_api_key(api: DominoApiChoice) -> &'static str {
    match api {
        DominoApiChoice::Rest => "rest",
        DominoApiChoice::Das | DominoApiChoice::Auto => "das",
    }
}

/// `srv_users.domino_api` read back: `rest`, else (`das`, or NULL from before the column)
/// Domino Access Services.
pub(crate) fn domino_api_of(key: Option<&str>) -> DominoApiChoice {
    if key == Some("rest") {
        DominoApiChoice::Rest
    } else {
        DominoApiChoice::Das
    }
}

/// The tables that hold a profile's sync state (not its history).
pub(crate) const STATE_TABLES: [&str; 5] = [
    "links",
    "module_state",
    "notes_private",
    "crm_left_scope",
    "mail_file",
];

/// The tables that hold a profile's history and cache: with [`STATE_TABLES`], every table
/// keyed by profile.
pub(crate) const HISTORY_TABLES: [&str; 3] = ["runs", "created", "zoho_tokens"];

/// How a module is written in the store (its serde name, `contacts`).
pub(crate) fn module_key(m: Module) -> Result<String, StoreError> {
    Ok(serde_json::to_value(m)?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// The module a stored key names.
pub(crate) fn module_from(s: &str) -> Result<Module, StoreError> {
    Ok(serde_json::from_value(serde_json::Value::String(
        s.to_owned(),
    ))?)
}

/// How a run's outcome is written in the store (`completed`, `partial`, `failed`).
pub(crate) fn outcome_key(report: &RunReport) -> Result<String, StoreError> {
    Ok(serde_json::to_value(report.outcome)?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// A change to one of a profile's sets of keys: the Notes documents remembered as private
/// (`notes_private`) and the CRM records that left the sync's scope (`crm_left_scope`).
pub(crate) struct SetMember<'a> {
    /// The set's table.
    pub table: &'static str,
    /// Its key column.
    pub column: &'static str,
    /// The module.
    pub module: Module,
    /// The key.
    pub key: &'a str,
    /// Whether the key is now in the set (else it leaves it).
    pub member: bool,
}

/// `change` as a change to a set of keys, if it is one.
pub(crate) fn set_member(change: &StateChange) -> Option<SetMember<'_>> {
    match change {
        StateChange::NotesPrivate {
            module,
            unid,
            private,
        } => Some(SetMember {
            table: "notes_private",
            column: "unid",
            module: *module,
            key: &unid.0,
            member: *private,
        }),
        StateChange::CrmLeftScope {
            module,
            zoho_id,
            left,
        } => Some(SetMember {
            table: "crm_left_scope",
            column: "zoho_id",
            module: *module,
            key: &zoho_id.0,
            member: *left,
        }),
        _ => None,
    }
}
