//! The Domino REST API (DRAPI) from the host's side: the JWT login ([`session`]), settling
//! `[domino] api = "auto"` by asking the server ([`settle`]), and the schema and scope an admin
//! imports so a mail file can sync through it ([`schema`], `nzsync drapi-schema`).

pub mod schema;
pub mod session;

use std::sync::Arc;

use crate::config::{Config, DominoApiChoice, Secrets};
use crate::domino_access::DominoAccess;
use session::{JwtSession, LoginError, Want, answered_as_drapi};

/// A config whose Domino API is settled (`das` or `rest`), and, when the Domino REST API was
/// chosen by logging in to it, the session that holds the token (so the run does not log in
/// twice).
#[derive(Debug)]
pub struct Settled {
    /// The config, `api` no longer `auto`.
    pub config: Config,
    /// The session of the login that settled it.
    pub session: Option<Arc<JwtSession>>,
}

/// Settles `api = "auto"`: the Domino REST API at `rest_url` (else `url`) when it answers
/// there as one (its login takes the credentials, or refuses them in its own words: the run
/// then says so), else Domino Access Services at `url`. Any other choice stays as it is.
///
/// # Errors
/// A plain message when a URL is unusable.
pub async fn settle(config: &Config, secrets: &Secrets) -> Result<Settled, String> {
    settle_through(config, secrets, None).await
}

/// [`settle`], reaching the server only through `access` when given (the web server: the
/// address a user typed is checked against what the operator allows at the request itself,
/// and reached only at an allowed address).
///
/// # Errors
/// A plain message when a URL is unusable.
pub async fn settle_through(
    config: &Config,
    secrets: &Secrets,
    access: Option<&DominoAccess>,
) -> Result<Settled, String> {
    let mut config = config.clone();
    if config.domino.api != DominoApiChoice::Auto {
        return Ok(Settled {
            config,
            session: None,
        });
    }
    let base = config
        .domino
        .rest_url
        .clone()
        .unwrap_or_else(|| config.domino.url.clone());
    let session = Arc::new(JwtSession::new(
        &base,
        &config.domino.user,
        &secrets.domino_password,
        &config.drapi_scope().0,
    )?);
    let own;
    let http = match access {
        Some(a) => a.client(),
        None => {
            own = crate::upstream::client()
                .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
            &own
        }
    };
    let rest = match session.token(http, access, Want::Current).await {
        Ok(_) => true,
        Err(LoginError::Refused(answer)) => answered_as_drapi(&answer),
        Err(LoginError::Transport(_)) => false,
    };
    tracing::debug!(rest, "settled [domino] api = \"auto\"");
    if rest {
        config.domino.api = DominoApiChoice::Rest;
        config.domino.rest_url = Some(base);
        Ok(Settled {
            config,
            session: Some(session),
        })
    } else {
        config.domino.api = DominoApiChoice::Das;
        config.domino.rest_url = None;
        Ok(Settled {
            config,
            session: None,
        })
    }
}
