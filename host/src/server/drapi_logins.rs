//! The Domino REST API logins of the users connected through it, kept by this replica.
//!
//! A Domino REST API token (JWT) lives about two hours and cannot be refreshed, only had again
//! by logging in (`reference/domino-rest-api.md` §2.1). The widget's engine reaches the REST API
//! through the proxy, a request at a time, and a server-side run sends thousands: logging in for
//! each would cost a login per request. So each replica keeps one [`JwtSession`] per user, in
//! memory only, and every proxied request, run and meeting of that user shares it (one login per
//! token life, single flight). The token is never stored: a replica that starts, or a session
//! whose credentials changed, logs in again. A session is keyed by the stored connection it was
//! made from (base URL, user name, sealed password, scope), so a new password or server makes a
//! new one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::drapi::session::JwtSession;

/// What a session was made from: when any of it changes, the session is made anew.
#[derive(Clone, PartialEq, Eq)]
struct Made {
    base: String,
    user: String,
    sealed_password: Vec<u8>,
    scope: String,
}

/// One Domino REST API session per user on this replica.
#[derive(Default)]
pub(super) struct DrapiLogins {
    sessions: Mutex<HashMap<String, (Made, Arc<JwtSession>)>>,
}

/// A user's stored connection to the Domino REST API, for [`DrapiLogins::session`].
pub(super) struct RestConnection<'a> {
    /// The Zoho CRM user id.
    pub user_id: &'a str,
    /// The REST API's base URL.
    pub base: &'a str,
    /// The Notes user name.
    pub user: &'a str,
    /// The password as stored (sealed): it tells a changed password apart.
    pub sealed_password: &'a [u8],
    /// The password, opened.
    pub password: &'a str,
    /// The mail file's scope.
    pub scope: &'a str,
}

impl DrapiLogins {
    /// The session of `c`'s user, made when there is none yet or their connection changed.
    ///
    /// # Errors
    /// When the base URL is not a URL.
    pub(super) fn session(&self, c: &RestConnection<'_>) -> Result<Arc<JwtSession>, String> {
        let made = Made {
            base: c.base.to_owned(),
            user: c.user.to_owned(),
            sealed_password: c.sealed_password.to_vec(),
            scope: c.scope.to_owned(),
        };
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((was, session)) = sessions.get(c.user_id)
            && *was == made
        {
            return Ok(Arc::clone(session));
        }
        let session = Arc::new(JwtSession::new(c.base, c.user, c.password, c.scope)?);
        sessions.insert(c.user_id.to_owned(), (made, Arc::clone(&session)));
        Ok(session)
    }

    /// Forgets `user_id`'s session (they disconnected, or were removed).
    pub(super) fn forget(&self, user_id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::{DrapiLogins, RestConnection};
    use std::sync::Arc;

    #[test]
    fn one_session_per_user_until_the_connection_changes() {
        let logins = DrapiLogins::default();
        let c = |sealed: &'static [u8]| RestConnection {
            user_id: "u1",
            base: "https://domino.example.com:8880",
            user: "jdoe",
            sealed_password: sealed,
            password: "pw",
            scope: "mailjdoe",
        };
        let a = logins.session(&c(b"one")).unwrap();
        assert!(Arc::ptr_eq(&a, &logins.session(&c(b"one")).unwrap()));
        let b = logins.session(&c(b"two")).unwrap();
        assert!(!Arc::ptr_eq(&a, &b), "a new password makes a new login");
        logins.forget("u1");
        assert!(!Arc::ptr_eq(&b, &logins.session(&c(b"two")).unwrap()));
        assert!(
            logins
                .session(&RestConnection {
                    base: "not a url",
                    ..c(b"x")
                })
                .is_err()
        );
    }
}
