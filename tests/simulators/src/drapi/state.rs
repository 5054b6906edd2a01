//! The state of the Domino REST API beside Domino's: its own port's control state (call log,
//! faults, latency, spec check), its configuration, and the tokens it issued.

use std::collections::HashMap;
use std::sync::Mutex;

use super::config::{DrapiConfig, MailFiles};
use crate::common::SimCore;

/// A JWT the server issued, as it remembers it.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    /// The Domino user's short name.
    pub user: String,
    /// The `scopes` claim, split at spaces.
    pub scopes: Vec<String>,
    pub expires: i64,
    /// Logged out, or expired by a fault.
    pub revoked: bool,
}

impl Session {
    /// Whether the token's scopes include `scope` (case-sensitive, as the server compares).
    pub(crate) fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Most tokens kept; older expired ones are forgotten first.
const MAX_TOKENS: usize = 100_000;

/// Held by [`crate::DominoState`], so that the REST API is a second face of the same server.
#[derive(Debug)]
pub(crate) struct Shared {
    pub core: SimCore,
    pub config: Mutex<DrapiConfig>,
    tokens: Mutex<HashMap<String, Session>>,
}

impl Shared {
    pub(crate) fn new(mail_files: &MailFiles) -> Shared {
        Shared {
            core: SimCore::default(),
            config: Mutex::new(DrapiConfig::seeded(mail_files)),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn remember(&self, token: String, session: Session, now: i64) {
        let mut tokens = crate::common::lock(&self.tokens);
        if tokens.len() >= MAX_TOKENS {
            tokens.retain(|_, s| s.expires > now && !s.revoked);
            if tokens.len() >= MAX_TOKENS {
                tokens.clear();
            }
        }
        tokens.insert(token, session);
    }

    pub(crate) fn session(&self, token: &str) -> Option<Session> {
        crate::common::lock(&self.tokens).get(token).cloned()
    }

    /// Revoke one token (logout, or the `expire_token` fault).
    pub(crate) fn revoke(&self, token: &str) {
        if let Some(s) = crate::common::lock(&self.tokens).get_mut(token) {
            s.revoked = true;
        }
    }

    /// Forget every token, as a restart does (the signing key is new).
    pub(crate) fn restart(&self) {
        crate::common::lock(&self.tokens).clear();
    }
}
