//! Zoho access tokens: the one cache the CLI, the wasmtime runner and the web server share.
//!
//! Zoho grants at most ten access tokens per refresh token in ten minutes, and an access token
//! lives an hour (zoho-crm-api.md §4). So a token is fetched once per credential and reused
//! until shortly before it expires; concurrent requests for the same credential wait for one
//! refresh (single flight) and share its outcome; a request Zoho answered `INVALID_TOKEN`
//! replaces exactly the token it used, unless another request already did.
//!
//! **Blips are retried.** HTTP 5xx and 429 from the token endpoint, an unreadable answer and a
//! connection that failed or dropped are retried with exponential backoff and jitter
//! (honouring `Retry-After`), for at most the caller's budget ([`Retry`]) and never past the
//! run's deadline. What remains is reported as what it is ([`TokenError`]): refused
//! credentials (`invalid_client`, `invalid_code`, `invalid_grant`, … — never retried, and
//! remembered for the credential), Zoho's rate limit (remembered for a short cool-down), or an
//! accounts server that stayed unavailable.
//!
//! **Kept between runs and shared by a fleet, encrypted.** With a [`TokenVault`] (the store,
//! see `store::StoreVault`, for the CLI and for `nzsync serve`) a token outlives the process,
//! so scheduled `nzsync sync` runs every few minutes spend no refresh allowance. A cache reads
//! the vault again whenever it holds no usable token, and refreshes under the vault's lock
//! ([`TokenVault::lock`], a PostgreSQL advisory lock), so the replicas of a fleet share one
//! token per credential and refresh it once, not once each. It is sealed with XChaCha20-Poly1305 under a key derived
//! with HKDF-SHA256 from the refresh token itself, and stored under an id derived the same way
//! with another label. Why that key: only someone who holds the refresh token can read the
//! cached access token, and that person can mint access tokens anyway, so the cache gives
//! nobody anything new; there is no key file to create, protect, back up or lose; a new refresh
//! token (a re-authorised client) makes the old entry unreadable and unused; and a stolen store
//! file alone yields nothing, as Zoho refresh tokens carry 256 random bits. The id reveals
//! nothing about the token either (a different HKDF output).
//!
//! Secrets never appear in errors or logs: messages carry the accounts server's URL, Zoho's
//! error code and description, the HTTP status, never a token.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hkdf::Hkdf;
use sha2::Sha256;

use crate::server::crypto::MasterKey;
use crate::upstream::describe;

/// How long before its expiry a token is no longer handed out (at most a quarter of its life).
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
/// How long a rate-limit answer is remembered before the token endpoint is asked again.
pub const RATE_LIMIT_COOL_DOWN: Duration = Duration::from_secs(30);
/// The environment variable that sets a run's retry budget for the token endpoint
/// (milliseconds; default [`Retry::RUN`]'s).
pub const RETRY_BUDGET_ENV: &str = "NZSYNC_TOKEN_RETRY_MS";

/// One OAuth credential: a client and a refresh token, at one accounts server.
#[derive(Clone)]
pub struct Credential {
    accounts: String,
    client_id: String,
    client_secret: String,
    refresh_token: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("accounts", &self.accounts)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// The credential of `client_id`/`client_secret` with `refresh_token` at `accounts_url`.
    #[must_use]
    pub fn new(
        accounts_url: &str,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
    ) -> Self {
        Self {
            accounts: accounts_url.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            refresh_token: refresh_token.to_owned(),
        }
    }

    /// The token endpoint.
    #[must_use]
    pub fn token_url(&self) -> String {
        format!("{}/oauth/v2/token", self.accounts)
    }

    fn derive(&self, label: &str) -> [u8; 32] {
        let hk = Hkdf::<Sha256>::new(
            Some(b"nzsync zoho access token cache v1"),
            self.refresh_token.as_bytes(),
        );
        let info = format!("{label}\n{}\n{}", self.accounts, self.client_id);
        let mut out = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 8160.
        let _ = hk.expand(info.as_bytes(), &mut out);
        out
    }

    /// The cache id of this credential (hex; reveals nothing about the refresh token).
    #[must_use]
    pub fn id(&self) -> String {
        self.derive("id")
            .iter()
            .fold(String::with_capacity(64), |mut s, b| {
                use std::fmt::Write as _;
                let _ = write!(s, "{b:02x}");
                s
            })
    }

    fn sealing_key(&self) -> MasterKey {
        MasterKey::new(&self.derive("seal"))
    }
}

/// Why Zoho would not give an access token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The accounts server refused the client or the refresh token (Zoho's error code).
    #[error(
        "Zoho refused the OAuth credentials ({0}): check zoho.client_id, client_secret and refresh_token"
    )]
    Refused(String),
    /// Zoho's limit of ten access tokens per refresh token in ten minutes.
    #[error(
        "Zoho's accounts server gives at most 10 access tokens per refresh token in 10 minutes, and this refresh token has had them ({0}); try again in a few minutes"
    )]
    RateLimited(String),
    /// The accounts server could not be reached, or kept failing, for the whole retry budget.
    #[error(
        "cannot get a Zoho access token from {url}: the accounts server is unavailable ({message}; {attempts} attempts); try again later"
    )]
    Unavailable {
        /// The token endpoint.
        url: String,
        /// The last failure.
        message: String,
        /// How many requests were made.
        attempts: u32,
    },
}

/// How long, and how, a refresh retries blips.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// The wait before the first retry (doubling after each).
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// How long a refresh may take, retries included.
    pub budget: Duration,
}

impl Retry {
    /// For a sync run (headless or CLI): blips of up to two minutes are ridden out.
    pub const RUN: Retry = Retry {
        first_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(15),
        budget: Duration::from_secs(120),
    };
    /// For a request a person waits for (the widget's proxy calls, Schedule Meeting).
    pub const INTERACTIVE: Retry = Retry {
        first_delay: Duration::from_millis(250),
        max_delay: Duration::from_secs(2),
        budget: Duration::from_secs(8),
    };

    /// [`Retry::RUN`], with its budget from [`RETRY_BUDGET_ENV`] when set.
    #[must_use]
    pub fn run() -> Retry {
        let budget = std::env::var(RETRY_BUDGET_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(Self::RUN.budget, Duration::from_millis);
        Retry {
            budget,
            ..Self::RUN
        }
    }
}

/// Which token a caller wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want<'a> {
    /// The cached one while it is good, else a new one.
    Current,
    /// Not `failed` (Zoho refused it): a new one, unless the cache already holds another.
    Replacing(&'a str),
    /// One fetched after this call began (a caller that cannot name the token that failed).
    Newer,
}

/// A future of a [`TokenVault`] or a [`VaultLock`].
pub type VaultFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A sealed token and its expiry (ms since the epoch).
pub type Sealed = (Vec<u8>, i64);

/// Where a cache keeps sealed tokens between runs and shares them between processes.
///
/// A vault only ever sees sealed tokens. Its failures cost a refresh at worst, so it logs
/// them and answers as if nothing were stored.
pub trait TokenVault: Send + Sync {
    /// The sealed token stored under `id`.
    fn load<'a>(&'a self, id: &'a str) -> VaultFuture<'a, Option<Sealed>>;
    /// Stores a sealed token under `id`.
    fn save<'a>(&'a self, id: &'a str, sealed: &'a [u8], expires_ms: i64) -> VaultFuture<'a, ()>;
    /// Deletes what is stored under `id`.
    fn forget<'a>(&'a self, id: &'a str) -> VaultFuture<'a, ()>;
    /// Takes the lock under which one process of all those sharing this vault (the replicas
    /// of a fleet) refreshes the token of `id`; the others wait, then read what it stored.
    /// `None` when the vault is one process's only: its own single flight is enough.
    fn lock<'a>(&'a self, id: &'a str) -> VaultFuture<'a, Option<Box<dyn VaultLock>>>;
}

/// The refresh lock of one credential in a shared [`TokenVault`], released by
/// [`VaultLock::save`] or when dropped.
pub trait VaultLock: Send {
    /// What is stored now, read under the lock (another process may have refreshed while
    /// this one waited for it).
    fn load(&mut self) -> VaultFuture<'_, Option<Sealed>>;
    /// Stores a new sealed token, then releases the lock.
    fn save(self: Box<Self>, sealed: Vec<u8>, expires_ms: i64) -> VaultFuture<'static, ()>;
}

#[derive(Clone)]
struct Held {
    value: String,
    /// Handed out until then (expiry less the margin).
    good_until: Instant,
}

#[derive(Default)]
struct SlotState {
    token: Option<Held>,
    /// Refused credentials stay refused.
    refused: Option<TokenError>,
    rate_limited: Option<(Instant, TokenError)>,
    /// The outcome of the last refresh, with its flight number.
    last_failure: Option<(u64, TokenError)>,
}

#[derive(Default)]
struct Slot {
    /// Refreshes finished (success or failure): a waiter compares it with the value it saw
    /// on arrival to share the outcome of the flight it waited for.
    flights: AtomicU64,
    /// Successful refreshes.
    generation: AtomicU64,
    state: tokio::sync::Mutex<SlotState>,
}

/// The token cache (see the module docs). Cheap to share behind an `Arc`.
pub struct TokenCache {
    http: reqwest::Client,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    vault: Option<Box<dyn TokenVault>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The instant until which a token that lives `lifetime` from now is handed out.
fn good_until(lifetime: Duration) -> Instant {
    let margin = EXPIRY_MARGIN.min(lifetime / 4);
    Instant::now() + lifetime.saturating_sub(margin)
}

/// One answer of the token endpoint, classified.
enum Answer {
    Token {
        value: String,
        lifetime: Duration,
    },
    Refused(String),
    RateLimited(String),
    /// Worth another try: what went wrong, and how long the server asked to wait.
    Blip {
        message: String,
        limited: bool,
        retry_after: Option<Duration>,
    },
}

fn oauth_error(v: &serde_json::Value) -> Option<String> {
    let code = v.get("error").and_then(serde_json::Value::as_str)?;
    Some(
        match v
            .get("error_description")
            .and_then(serde_json::Value::as_str)
        {
            Some(d) => format!("{code}: {d}"),
            None => code.to_owned(),
        },
    )
}

fn classify(status: u16, retry_after: Option<Duration>, body: &str) -> Answer {
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    if let Some(v) = &json
        && let Some(t) = v.get("access_token").and_then(serde_json::Value::as_str)
    {
        // Zoho's SDKs decide by the token's presence, not the status; older answers say
        // `expires_in_sec`.
        let secs = v
            .get("expires_in")
            .or_else(|| v.get("expires_in_sec"))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(3600);
        return Answer::Token {
            value: t.to_owned(),
            lifetime: Duration::from_secs(secs),
        };
    }
    if status == 429 || status >= 500 {
        return Answer::Blip {
            message: format!("HTTP {status}"),
            limited: status == 429,
            retry_after,
        };
    }
    match json.as_ref().and_then(oauth_error) {
        Some(e) => {
            let lower = e.to_ascii_lowercase();
            if lower.starts_with("access denied") || lower.contains("too many requests") {
                Answer::RateLimited(e)
            } else {
                Answer::Refused(e)
            }
        }
        // Not Zoho's JSON (a proxy's page, a cut answer): try again. Only Zoho's own word
        // refuses a credential (and a refusal is remembered).
        None => Answer::Blip {
            message: format!("HTTP {status} with an unreadable answer"),
            limited: false,
            retry_after,
        },
    }
}

fn jitter(d: Duration) -> Duration {
    use rand::Rng as _;
    d.mul_f64(rand::rng().random_range(0.75..1.25))
}

impl TokenCache {
    /// A cache that keeps tokens in memory only.
    #[must_use]
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            slots: Mutex::new(HashMap::new()),
            vault: None,
        }
    }

    /// Also keeps tokens, sealed, in `vault` (see the module docs).
    #[must_use]
    pub fn with_vault(mut self, vault: impl TokenVault + 'static) -> Self {
        self.vault = Some(Box::new(vault));
        self
    }

    fn slot(&self, id: &str) -> Arc<Slot> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(id.to_owned())
            .or_default()
            .clone()
    }

    /// Remembers a token obtained elsewhere (the sign-in's code exchange).
    pub async fn remember(&self, cred: &Credential, token: &str, expires_in: Duration) {
        let id = cred.id();
        let slot = self.slot(&id);
        let mut state = slot.state.lock().await;
        self.hold(cred, &id, &mut state, token, expires_in, None)
            .await;
        slot.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Forgets everything about `cred` (a removed user, an uninstall).
    pub async fn forget(&self, cred: &Credential) {
        let id = cred.id();
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&id);
        if let Some(v) = &self.vault {
            v.forget(&id).await;
        }
    }

    /// Holds `token` for its `lifetime`, and stores it sealed in the vault: through `lock`
    /// (which that releases) when this process refreshed under the vault's lock.
    async fn hold(
        &self,
        cred: &Credential,
        id: &str,
        state: &mut SlotState,
        token: &str,
        lifetime: Duration,
        lock: Option<Box<dyn VaultLock>>,
    ) {
        state.token = Some(Held {
            value: token.to_owned(),
            good_until: good_until(lifetime),
        });
        state.rate_limited = None;
        state.last_failure = None;
        if let Some(v) = &self.vault {
            let expires =
                now_ms().saturating_add(i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX));
            let sealed = cred.sealing_key().seal(&vault_context(id), token);
            match lock {
                Some(lock) => lock.save(sealed, expires).await,
                None => v.save(id, &sealed, expires).await,
            }
        }
    }

    /// Takes the sealed token `stored` when it opens and has time left; `true` when it is
    /// another token than the one held (a newer one, from another run or replica).
    fn take_stored(
        cred: &Credential,
        id: &str,
        state: &mut SlotState,
        stored: Option<Sealed>,
    ) -> bool {
        let Some((sealed, expires_ms)) = stored else {
            return false;
        };
        let Ok(left) = u64::try_from(expires_ms.saturating_sub(now_ms())) else {
            return false;
        };
        match cred.sealing_key().open(&vault_context(id), &sealed) {
            Ok(value) => {
                let other = state.token.as_ref().is_none_or(|t| t.value != value);
                state.token = Some(Held {
                    value,
                    good_until: good_until(Duration::from_millis(left)),
                });
                other
            }
            Err(_) => {
                tracing::debug!("a cached Zoho access token could not be opened; ignored");
                false
            }
        }
    }

    /// An access token for `cred` as `want` asks, refreshing (with `retry`, and never past
    /// `deadline`) when needed.
    ///
    /// # Errors
    /// [`TokenError`] when Zoho refuses, rate-limits or stays unavailable.
    pub async fn token(
        &self,
        cred: &Credential,
        want: Want<'_>,
        retry: Retry,
        deadline: Option<Instant>,
    ) -> Result<String, TokenError> {
        let id = cred.id();
        let slot = self.slot(&id);
        let flights_seen = slot.flights.load(Ordering::SeqCst);
        let generation_seen = slot.generation.load(Ordering::SeqCst);
        let mut state = slot.state.lock().await;
        if let Some(e) = &state.refused {
            return Err(e.clone());
        }
        let usable = |state: &SlotState| {
            state
                .token
                .as_ref()
                .filter(|t| t.good_until > Instant::now())
                .filter(|t| match want {
                    Want::Current => true,
                    Want::Replacing(failed) => t.value != failed,
                    Want::Newer => slot.generation.load(Ordering::SeqCst) > generation_seen,
                })
                .map(|t| t.value.clone())
        };
        if let Some(t) = usable(&state) {
            return Ok(t);
        }
        // Another run, or another replica, may have stored a newer token.
        if let Some(v) = &self.vault
            && Self::take_stored(cred, &id, &mut state, v.load(&id).await)
        {
            slot.generation.fetch_add(1, Ordering::SeqCst);
            if let Some(t) = usable(&state) {
                return Ok(t);
            }
        }
        let now = Instant::now();
        // The flight this caller waited for failed: share its outcome instead of flying again.
        if let Some((flight, e)) = &state.last_failure
            && *flight > flights_seen
        {
            return Err(e.clone());
        }
        if let Some((until, e)) = &state.rate_limited
            && *until > now
        {
            return Err(e.clone());
        }
        // Replicas sharing the vault refresh one at a time: the one that waited reads what the
        // other stored, and refreshes only when that is not good either.
        let mut lock = match &self.vault {
            Some(v) => v.lock(&id).await,
            None => None,
        };
        if let Some(l) = lock.as_mut()
            && Self::take_stored(cred, &id, &mut state, l.load().await)
        {
            slot.generation.fetch_add(1, Ordering::SeqCst);
            if let Some(t) = usable(&state) {
                return Ok(t);
            }
        }
        let outcome = self.refresh(cred, retry, deadline).await;
        let flight = slot.flights.fetch_add(1, Ordering::SeqCst) + 1;
        match outcome {
            Ok((value, lifetime)) => {
                self.hold(cred, &id, &mut state, &value, lifetime, lock)
                    .await;
                slot.generation.fetch_add(1, Ordering::SeqCst);
                Ok(value)
            }
            Err(e) => {
                drop(lock);
                match &e {
                    TokenError::Refused(_) => state.refused = Some(e.clone()),
                    TokenError::RateLimited(_) => {
                        state.rate_limited =
                            Some((Instant::now() + RATE_LIMIT_COOL_DOWN, e.clone()));
                    }
                    TokenError::Unavailable { .. } => {}
                }
                state.token = None;
                state.last_failure = Some((flight, e.clone()));
                Err(e)
            }
        }
    }

    /// One refresh, retrying blips within the budget.
    async fn refresh(
        &self,
        cred: &Credential,
        retry: Retry,
        deadline: Option<Instant>,
    ) -> Result<(String, Duration), TokenError> {
        let url = cred.token_url();
        let started = Instant::now();
        let until = deadline.map_or(started + retry.budget, |d| d.min(started + retry.budget));
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("client_id", &cred.client_id)
            .append_pair("client_secret", &cred.client_secret)
            .append_pair("refresh_token", &cred.refresh_token)
            .finish();
        let mut delay = retry.first_delay;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let answer = match self
                .http
                .post(&url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send()
                .await
            {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    match resp.text().await {
                        Ok(text) => classify(status, retry_after, &text),
                        Err(e) => Answer::Blip {
                            message: format!("HTTP {status}, answer cut short: {}", describe(&e)),
                            limited: false,
                            retry_after: None,
                        },
                    }
                }
                Err(e) => Answer::Blip {
                    message: describe(&e),
                    limited: false,
                    retry_after: None,
                },
            };
            let (message, limited, retry_after) = match answer {
                Answer::Token { value, lifetime } => {
                    if attempts > 1 {
                        tracing::info!(attempts, "Zoho access token refreshed after retries");
                    }
                    return Ok((value, lifetime));
                }
                Answer::Refused(e) => return Err(TokenError::Refused(e)),
                Answer::RateLimited(e) => return Err(TokenError::RateLimited(e)),
                Answer::Blip {
                    message,
                    limited,
                    retry_after,
                } => (message, limited, retry_after),
            };
            let wait = retry_after.unwrap_or_else(|| jitter(delay));
            tracing::warn!(%url, attempt = attempts, %message, wait_ms = wait.as_millis() as u64, "Zoho token endpoint failed; retrying");
            if Instant::now() + wait >= until {
                return Err(if limited {
                    TokenError::RateLimited(format!("HTTP 429 for {} attempts", attempts))
                } else {
                    TokenError::Unavailable {
                        url,
                        message,
                        attempts,
                    }
                });
            }
            tokio::time::sleep(wait).await;
            delay = (delay * 2).min(retry.max_delay);
        }
    }
}

fn vault_context(id: &str) -> String {
    format!("zoho_access_token:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified_by_what_they_mean() {
        let ok = classify(200, None, r#"{"access_token":"a","expires_in":3600}"#);
        assert!(
            matches!(ok, Answer::Token { lifetime, .. } if lifetime == Duration::from_secs(3600))
        );
        for code in ["invalid_client", "invalid_code", "invalid_grant"] {
            let a = classify(200, None, &format!(r#"{{"error":"{code}"}}"#));
            assert!(matches!(a, Answer::Refused(ref e) if e == code));
        }
        let limited = classify(
            400,
            None,
            r#"{"error_description":"You have made too many requests continuously. Please try again after some time.","error":"Access Denied","status":"failure"}"#,
        );
        assert!(matches!(limited, Answer::RateLimited(_)));
        for status in [500, 502, 503, 504, 429] {
            let a = classify(status, None, "<html>down</html>");
            assert!(matches!(a, Answer::Blip { limited, .. } if limited == (status == 429)));
        }
        for status in [200, 400, 403] {
            assert!(matches!(
                classify(status, None, "<html>proxy</html>"),
                Answer::Blip { .. }
            ));
        }
    }

    #[test]
    fn the_cache_id_and_key_depend_on_the_refresh_token_and_reveal_nothing() {
        let a = Credential::new("http://a/", "c", "s", "1000.aaaa.bbbb");
        let b = Credential::new("http://a", "c", "other-secret", "1000.aaaa.bbbb");
        let c = Credential::new("http://a", "c", "s", "1000.aaaa.cccc");
        assert_eq!(
            a.id(),
            b.id(),
            "the client secret does not name the cache entry"
        );
        assert_ne!(a.id(), c.id());
        assert_eq!(a.id().len(), 64);
        assert!(!a.id().contains("aaaa"));
        let sealed = a.sealing_key().seal("x", "1000.token.value");
        assert_eq!(
            a.sealing_key().open("x", &sealed).unwrap(),
            "1000.token.value"
        );
        assert!(c.sealing_key().open("x", &sealed).is_err());
        assert!(!format!("{a:?}").contains("aaaa"));
    }
}

#[cfg(test)]
mod cache_tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;

    /// Sealed token and expiry, by credential id.
    type Entries = HashMap<String, (Vec<u8>, i64)>;

    /// A vault in memory (what the CLI's store keeps, between "processes").
    #[derive(Clone, Default)]
    struct MemVault(Arc<Mutex<Entries>>);

    impl TokenVault for MemVault {
        fn load<'a>(&'a self, id: &'a str) -> VaultFuture<'a, Option<Sealed>> {
            let found = self.0.lock().unwrap().get(id).cloned();
            Box::pin(async move { found })
        }
        fn save<'a>(
            &'a self,
            id: &'a str,
            sealed: &'a [u8],
            expires_ms: i64,
        ) -> VaultFuture<'a, ()> {
            self.0
                .lock()
                .unwrap()
                .insert(id.to_owned(), (sealed.to_vec(), expires_ms));
            Box::pin(async {})
        }
        fn forget<'a>(&'a self, id: &'a str) -> VaultFuture<'a, ()> {
            self.0.lock().unwrap().remove(id);
            Box::pin(async {})
        }
        fn lock<'a>(&'a self, _: &'a str) -> VaultFuture<'a, Option<Box<dyn VaultLock>>> {
            Box::pin(async { None })
        }
    }

    async fn sims() -> nzsync_sim::Simulators {
        nzsync_sim::start(nzsync_sim::SimConfig::loopback(nzsync_sim::Seed::Empty))
            .await
            .unwrap()
    }

    fn token_calls(sims: &nzsync_sim::Simulators) -> usize {
        sims.zoho()
            .calls()
            .iter()
            .filter(|c| c.path == "/oauth/v2/token")
            .count()
    }

    fn cred(sims: &nzsync_sim::Simulators, refresh: &str) -> Credential {
        Credential::new(&sims.zoho_url, "demo-client", "demo-secret", refresh)
    }

    /// A token kept in the vault serves the next cache (the next run) without a refresh; it is
    /// stored sealed; another refresh token neither opens nor uses it.
    #[tokio::test]
    async fn a_vault_carries_the_token_to_the_next_run_sealed() {
        let sims = sims().await;
        let vault = MemVault::default();
        let http = crate::upstream::client().unwrap();
        let first = TokenCache::new(http.clone()).with_vault(vault.clone());
        let c = cred(&sims, "demo-refresh");
        let t1 = first
            .token(&c, Want::Current, Retry::INTERACTIVE, None)
            .await
            .unwrap();
        assert_eq!(token_calls(&sims), 1);
        let stored = vault.0.lock().unwrap().clone();
        assert_eq!(stored.len(), 1);
        let (sealed, _) = stored.values().next().unwrap();
        assert!(!sealed.windows(t1.len()).any(|w| w == t1.as_bytes()));
        let next = TokenCache::new(http.clone()).with_vault(vault.clone());
        let t2 = next
            .token(&c, Want::Current, Retry::INTERACTIVE, None)
            .await
            .unwrap();
        assert_eq!(t1, t2);
        assert_eq!(token_calls(&sims), 1, "the next run refreshed");
        // Zoho refused it: the next run's replacement is stored for the one after.
        let t3 = next
            .token(&c, Want::Replacing(&t2), Retry::INTERACTIVE, None)
            .await
            .unwrap();
        assert_ne!(t3, t2);
        let after = TokenCache::new(http.clone()).with_vault(vault.clone());
        let t4 = after
            .token(&c, Want::Current, Retry::INTERACTIVE, None)
            .await
            .unwrap();
        assert_eq!(t4, t3);
        let other = after
            .token(
                &cred(&sims, "user2-refresh"),
                Want::Current,
                Retry::INTERACTIVE,
                None,
            )
            .await
            .unwrap();
        assert_ne!(other, t3);
        assert_eq!(token_calls(&sims), 3);
        after.forget(&c).await;
        assert_eq!(
            vault.0.lock().unwrap().len(),
            1,
            "only user2's entry is left"
        );
    }

    /// Callers that arrive while a refresh is in flight wait for it and share its outcome: one
    /// flight of retries, not one per caller. A refused grant is not asked again.
    #[tokio::test]
    async fn waiting_callers_share_one_flight_and_its_failure() {
        let sims = sims().await;
        reqwest::Client::new()
            .post(format!("{}/_sim/faults", sims.zoho_url))
            .json(&serde_json::json!({ "rules": [
                { "kind": "status", "status": 503, "path_prefix": "/oauth/v2/token" }
            ] }))
            .send()
            .await
            .unwrap();
        let cache = TokenCache::new(crate::upstream::client().unwrap());
        let c = cred(&sims, "demo-refresh");
        let retry = Retry {
            first_delay: Duration::from_millis(40),
            max_delay: Duration::from_millis(40),
            budget: Duration::from_millis(400),
        };
        let (a, b, d) = tokio::join!(
            cache.token(&c, Want::Current, retry, None),
            cache.token(&c, Want::Current, retry, None),
            cache.token(&c, Want::Current, retry, None),
        );
        let Err(TokenError::Unavailable { attempts, .. }) = a.clone() else {
            panic!("{a:?}");
        };
        assert!(attempts > 1, "blips were not retried");
        assert_eq!(b, a);
        assert_eq!(d, a);
        assert_eq!(token_calls(&sims), attempts as usize);

        let bad = cred(&sims, "not-a-token");
        reqwest::Client::new()
            .delete(format!("{}/_sim/faults", sims.zoho_url))
            .send()
            .await
            .unwrap();
        let before = token_calls(&sims);
        for _ in 0..3 {
            let e = cache.token(&bad, Want::Current, retry, None).await;
            assert_eq!(e, Err(TokenError::Refused("invalid_code".into())));
        }
        assert_eq!(token_calls(&sims), before + 1);
    }
}
