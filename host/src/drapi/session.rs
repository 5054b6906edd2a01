//! The Domino REST API's login (`reference/domino-rest-api.md` §2.1): `POST /api/v1/auth` with
//! the user name and password gives a JWT that lives about two hours and cannot be refreshed.
//! One [`JwtSession`] per Domino user and run holds the token **in memory only**, logs in again
//! shortly before it expires or when the server answers 401 (a restart of the REST API kills
//! every token), and lets concurrent requests share one login (single flight). The token and
//! the password never appear in a log, an error or a `Debug` output.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sync_core::{HttpResponse, TransportError, TransportErrorKind};
use tokio::sync::Mutex;
use url::Url;

use crate::domino_access::DominoAccess;

/// The lifetime assumed when the login answer does not say (the server's default).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(2 * 3600);

/// How long before its end a token is replaced: a request never starts with a token about to
/// die on the way (at most a tenth of a short lifetime).
const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);

/// A token, and when it stops being used.
struct Jwt {
    bearer: String,
    renew_at: Instant,
}

/// Why no token could be had.
#[derive(Debug)]
pub enum LoginError {
    /// The server answered the login, refusing it (wrong password, login switched off, not a
    /// Domino REST API): its answer, for the engine or the checks to read.
    Refused(HttpResponse),
    /// No answer came.
    Transport(TransportError),
}

/// One user's login to one Domino REST API.
pub struct JwtSession {
    login_url: Url,
    username: String,
    password: String,
    scopes: String,
    current: Mutex<Option<Jwt>>,
}

impl std::fmt::Debug for JwtSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSession")
            .field("login_url", &self.login_url.as_str())
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Which token a caller wants.
#[derive(Clone, Copy, Debug)]
pub enum Want<'a> {
    /// The current one (a new one when there is none, or it is about to expire).
    Current,
    /// Any but this one, which the server refused.
    Replacing(&'a str),
}

impl JwtSession {
    /// A session that logs `username` in at `base` (the REST API's base URL), asking for the
    /// mail and data scopes and `scope` (the mail file's).
    ///
    /// # Errors
    /// When `base` is not a URL.
    pub fn new(base: &str, username: &str, password: &str, scope: &str) -> Result<Self, String> {
        let base = Url::parse(base.trim_end_matches('/'))
            .map_err(|e| format!("{base:?} is not a URL: {e}"))?;
        let login_url = crate::upstream::pinned_url(&base, "/api/v1/auth")
            .ok_or_else(|| format!("cannot log in at {base}"))?;
        Ok(Self {
            login_url,
            username: username.to_owned(),
            password: password.to_owned(),
            scopes: format!("MAIL $DATA {scope}"),
            current: Mutex::new(None),
        })
    }

    /// A token as `want` asks, logging in when needed. Requests that need one at once wait for
    /// a single login.
    ///
    /// # Errors
    /// [`LoginError`] when the login is refused or unanswered.
    pub async fn token(
        &self,
        http: &reqwest::Client,
        access: Option<&DominoAccess>,
        want: Want<'_>,
    ) -> Result<String, LoginError> {
        let mut current = self.current.lock().await;
        if let Some(jwt) = current.as_ref() {
            let refused = matches!(want, Want::Replacing(t) if t == jwt.bearer);
            if !refused && Instant::now() < jwt.renew_at {
                return Ok(jwt.bearer.clone());
            }
        }
        *current = None;
        let jwt = self.login(http, access).await?;
        let bearer = jwt.bearer.clone();
        *current = Some(jwt);
        Ok(bearer)
    }

    /// Forgets the token (the next request logs in again).
    pub async fn forget(&self) {
        *self.current.lock().await = None;
    }

    async fn login(
        &self,
        http: &reqwest::Client,
        access: Option<&DominoAccess>,
    ) -> Result<Jwt, LoginError> {
        let transport =
            |message: String, kind| LoginError::Transport(TransportError { kind, message });
        if let Some(access) = access {
            access.admit_url(&self.login_url).map_err(|e| {
                transport(
                    format!("refused to connect: {e}"),
                    TransportErrorKind::Connect,
                )
            })?;
        }
        let body = json!({
            "username": self.username,
            "password": self.password,
            "scope": self.scopes,
        });
        let resp = http
            .post(self.login_url.clone())
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| {
                let kind = crate::upstream::transport_kind(&e);
                // The request carries the password in its body, never in the URL: the
                // error's text names only the URL.
                transport(
                    format!(
                        "cannot log in to the Domino REST API: {}",
                        crate::upstream::describe(&e)
                    ),
                    kind,
                )
            })?;
        let answer = crate::upstream::response_from(resp)
            .await
            .map_err(LoginError::Transport)?;
        let parsed: Option<Value> = serde_json::from_str(&answer.body).ok();
        let bearer = parsed
            .as_ref()
            .filter(|_| answer.status == 200)
            .and_then(|v| v.get("bearer"))
            .and_then(Value::as_str)
            .filter(|b| !b.is_empty());
        let Some(bearer) = bearer else {
            return Err(LoginError::Refused(answer));
        };
        let lifetime = parsed
            .as_ref()
            .and_then(|v| v.get("expSeconds"))
            .and_then(Value::as_u64)
            .filter(|s| *s > 0)
            .map_or(DEFAULT_LIFETIME, Duration::from_secs);
        let margin = RENEW_BEFORE.min(lifetime / 10);
        Ok(Jwt {
            bearer: bearer.to_owned(),
            renew_at: Instant::now() + lifetime.saturating_sub(margin),
        })
    }
}

/// Whether a refused login was answered by a Domino REST API (its JSON error shape), rather
/// than by some other server.
#[must_use]
pub fn answered_as_drapi(resp: &HttpResponse) -> bool {
    // The basis API's `{status, message}`; DAS errors are `{code, text, message}`.
    serde_json::from_str::<Value>(&resp.body).is_ok_and(|v| {
        v.get("message").is_some_and(Value::is_string)
            && v.get("status").is_some_and(Value::is_u64)
            && v.get("text").is_none()
    })
}
