//! Connection and DAS-readiness checks (F1, F2): each names what is wrong and the admin step
//! that fixes it. `nzsync check` prints them; the server's Connect uses the same checks.

use serde::Serialize;
use serde_json::Value;
use sync_core::http::{encode, encode_path};
use sync_core::{HttpRequest, Side};

use crate::config::Config;
use crate::upstream::Upstreams;

/// One check's result.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was found, and for a failure, what to do.
    pub detail: String,
}

/// A GET the diagnostics send.
pub(crate) fn req(side: Side, path: String) -> HttpRequest {
    HttpRequest {
        id: 0,
        side,
        method: "GET".into(),
        path,
        headers: Vec::new(),
        body: None,
    }
}

/// The message of a DAS error body (`message`, else `text`), empty when there is none.
pub(crate) fn das_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .or_else(|| v.get("text"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

/// Runs every check in order; later checks are skipped once one fails that they depend on.
pub async fn run(config: &Config, up: &Upstreams) -> Vec<Check> {
    let mut out = Vec::new();
    let db = config.mail_db();
    let view = "($Contacts)";

    // F1: the server is a Domino server with DAS, and the password is right.
    let domino_ok = match up.perform(&req(Side::Notes, "/api".into())).await {
        Err(e) => {
            out.push(Check {
                name: "domino server",
                ok: false,
                detail: format!("cannot reach {}: {e}", config.domino.url),
            });
            false
        }
        Ok(r) if r.status == 401 => {
            out.push(Check {
                name: "domino login",
                ok: false,
                detail: "wrong user name or password (HTTP 401)".into(),
            });
            false
        }
        Ok(r) => match serde_json::from_str::<Value>(&r.body)
            .ok()
            .and_then(|v| v.get("services").cloned())
        {
            Some(Value::Array(services)) => {
                let data_on = services.iter().any(|s| {
                    s.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case("data"))
                        && s.get("enabled").and_then(Value::as_bool) == Some(true)
                });
                out.push(Check {
                    name: "domino server",
                    ok: true,
                    detail: format!("{} answers as a Domino server with DAS", config.domino.url),
                });
                if !data_on {
                    out.push(Check {
                        name: "DAS on the server",
                        ok: false,
                        detail: format!(
                            "the Data service is off{}",
                            sync_core::engine::das_hint("Forbidden")
                        ),
                    });
                }
                data_on
            }
            _ => {
                out.push(Check {
                    name: "domino server",
                    ok: false,
                    detail: format!(
                        "{} answered HTTP {} but not as a Domino server with Domino Access Services (GET /api)",
                        config.domino.url, r.status
                    ),
                });
                false
            }
        },
    };
    if domino_ok {
        let path = format!("/{}/api/data/collections", encode_path(&db));
        match up.perform(&req(Side::Notes, path)).await {
            Ok(r) if r.status == 200 => out.push(Check {
                name: "DAS on the mail file",
                ok: true,
                detail: format!("{db} allows the data service"),
            }),
            Ok(r) => {
                let msg = das_message(&r.body);
                let detail = match r.status {
                    401 => "wrong user name or password, or no access to the mail file (HTTP 401)"
                        .to_owned(),
                    404 => format!("no database {db} on the server (set domino.mail_db)"),
                    _ => format!("{msg}{}", sync_core::engine::das_hint(&msg)),
                };
                out.push(Check {
                    name: "DAS on the mail file",
                    ok: false,
                    detail,
                });
            }
            Err(e) => out.push(Check {
                name: "DAS on the mail file",
                ok: false,
                detail: e.to_string(),
            }),
        }
        let path = format!(
            "/{}/api/data/collections/name/{}?count=1",
            encode_path(&db),
            encode(view)
        );
        match up.perform(&req(Side::Notes, path)).await {
            Ok(r) if r.status == 200 => out.push(Check {
                name: "DAS on the contacts view",
                ok: true,
                detail: format!("{view} allows the data service"),
            }),
            Ok(r) => {
                let msg = das_message(&r.body);
                out.push(Check {
                    name: "DAS on the contacts view",
                    ok: false,
                    detail: format!("{msg}{}", sync_core::engine::das_hint(&msg)),
                });
            }
            Err(e) => out.push(Check {
                name: "DAS on the contacts view",
                ok: false,
                detail: e.to_string(),
            }),
        }
    }

    match up.zoho_token(true).await {
        Ok(_) => {
            out.push(Check {
                name: "zoho oauth",
                ok: true,
                detail: "the refresh token gives access tokens".into(),
            });
            let path = format!("/crm/{}/users?type=CurrentUser", config.zoho.api_version);
            match up.perform(&req(Side::Crm, path)).await {
                Ok(r) if r.status == 200 => out.push(Check {
                    name: "zoho crm api",
                    ok: true,
                    detail: format!("{} answers", config.zoho.api_domain),
                }),
                Ok(r) => out.push(Check {
                    name: "zoho crm api",
                    ok: false,
                    detail: format!(
                        "HTTP {}: {}",
                        r.status,
                        r.body.chars().take(200).collect::<String>()
                    ),
                }),
                Err(e) => out.push(Check {
                    name: "zoho crm api",
                    ok: false,
                    detail: e.to_string(),
                }),
            }
        }
        Err(e) => out.push(Check {
            name: "zoho oauth",
            ok: false,
            detail: e.to_string(),
        }),
    }
    out
}
