//! `/api/setup-v1`: what an admin does so a database is reachable (domino-rest-api.md §2.4):
//! schemas in an NSF (`/schema`, `/schemas`) and scopes (`/admin/scope`, `/admin/scopes`).
//!
//! Choices: every endpoint needs a JWT whose scopes include `$SETUP` (403 otherwise); a user
//! has Designer access to their own mail file only, and may manage the scopes that point at it
//! (else 403 "You need Designer access for this operation", errorId 1033). `configName` and
//! `apiName` must be lower-case letters and digits (400). `POST /_sim/config {"setup":false}`
//! switches the API off (404 on every path). Quick config is not simulated (404).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::config::parse_scope;
use super::errors::{Answer, ApiError, json_answer};
use super::schema::{Schema, Scope, valid_api_name};
use super::state::Session;
use super::{DrapiState, Req, auth, method_not_allowed, not_found};

fn designer_needed() -> ApiError {
    ApiError::forbidden("You need Designer access for this operation").with_id(1033)
}

fn normal_path(p: &str) -> String {
    p.trim()
        .replace('\\', "/")
        .trim_start_matches('/')
        .to_lowercase()
}

/// The caller may design `nsf`: it is their mail file.
fn check_designer(state: &DrapiState, session: &Session, nsf: &str) -> Result<(), ApiError> {
    let server = state.domino.server();
    let owned = server
        .databases
        .get(&normal_path(nsf))
        .and_then(|db| db.owner.as_deref())
        .is_some_and(|o| o.eq_ignore_ascii_case(&session.user));
    if owned {
        Ok(())
    } else {
        Err(designer_needed())
    }
}

fn required<'r>(req: &'r Req<'_>, name: &str) -> Result<&'r str, ApiError> {
    req.q(name)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("The parameter {name} is required")))
}

fn schema_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Config not found: REST/{name}.json")).with_id(1037)
}

/// Route a setup request.
pub(crate) fn route(state: &DrapiState, req: &Req<'_>, path: &str) -> Answer {
    if !state.config().settings.setup {
        return Err(not_found(&req.method, path));
    }
    let segs = req.segs();
    let known = matches!(
        segs.as_slice(),
        ["schema" | "schemas"] | ["admin", "scope" | "scopes"]
    );
    if !known {
        return Err(not_found(&req.method, path));
    }
    let session = auth::caller(state, req.headers)?;
    if !session.has_scope("$SETUP") {
        return Err(ApiError::forbidden(format!(
            "The JWT's scopes ({}) do not include $SETUP",
            session.scopes.join(" ")
        )));
    }
    match (segs.as_slice(), &req.method) {
        (["schema"], &Method::GET) => get_schema(state, &session, req),
        (["schema"], &Method::POST) => post_schema(state, &session, req),
        (["schema"], &Method::DELETE) => delete_schema(state, &session, req),
        (["schemas"], &Method::GET) => list_schemas(state, &session, req),
        (["admin", "scope"], &Method::GET) => get_scope(state, &session, req),
        (["admin", "scope"], &Method::POST) => post_scope(state, &session, req),
        (["admin", "scope"], &Method::DELETE) => delete_scope(state, &session, req),
        (["admin", "scopes"], &Method::GET) => Ok(json_answer(
            StatusCode::OK,
            &Value::Array(state.config().scopes.values().map(mapping).collect()),
        )),
        _ => Err(method_not_allowed(&req.method, path)),
    }
}

fn key(req: &Req<'_>) -> Result<(String, String), ApiError> {
    let nsf = required(req, "nsfPath")?;
    let name = required(req, "configName")?;
    Ok((normal_path(nsf), name.to_owned()))
}

fn get_schema(state: &DrapiState, session: &Session, req: &Req<'_>) -> Answer {
    let (nsf, name) = key(req)?;
    check_designer(state, session, &nsf)?;
    let config = state.config();
    let schema = config
        .schemas
        .get(&(nsf, name.clone()))
        .ok_or_else(|| schema_not_found(&name))?;
    Ok(json_answer(StatusCode::OK, &schema.to_json()))
}

fn post_schema(state: &DrapiState, session: &Session, req: &Req<'_>) -> Answer {
    let (nsf, name) = key(req)?;
    if !valid_api_name(&name) {
        return Err(ApiError::bad_request(format!(
            "Invalid configName {name}: use lower-case letters and digits"
        )));
    }
    check_designer(state, session, &nsf)?;
    let body: Value = serde_json::from_slice(req.body)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON: {e}")))?;
    let mut schema = Schema::from_json(&body).map_err(ApiError::bad_request)?;
    schema.schema_name = name.clone();
    schema.nsf_path = req.q("nsfPath").unwrap_or_default().trim().to_owned();
    if let Some(p) = req.flag("prohibitRefresh")? {
        schema.extra.insert("prohibitRefresh".into(), json!(p));
    }
    let answer = schema.to_json();
    if req.flag("dryRun")? != Some(true) {
        state.config().schemas.insert((nsf, name), schema);
    }
    Ok(json_answer(StatusCode::OK, &answer))
}

fn delete_schema(state: &DrapiState, session: &Session, req: &Req<'_>) -> Answer {
    let (nsf, name) = key(req)?;
    check_designer(state, session, &nsf)?;
    let removed = state.config().schemas.remove(&(nsf.clone(), name.clone()));
    if removed.is_none() {
        return Err(schema_not_found(&name));
    }
    Ok(json_answer(
        StatusCode::OK,
        &json!({ "statusText": "OK", "status": 200, "message": format!("Deleted {name} from {nsf}") }),
    ))
}

fn list_schemas(state: &DrapiState, session: &Session, req: &Req<'_>) -> Answer {
    let nsf = normal_path(required(req, "nsfPath")?);
    check_designer(state, session, &nsf)?;
    let list: Vec<Value> = state
        .config()
        .schemas
        .iter()
        .filter(|((path, _), _)| *path == nsf)
        .map(|((_, name), schema)| {
            json!({
                "apiName": name,
                "comment": format!("REST API configuration {name}"),
                "prohibitRefresh": schema.extra.get("prohibitRefresh").and_then(Value::as_bool).unwrap_or(false),
            })
        })
        .collect();
    Ok(json_answer(StatusCode::OK, &Value::Array(list)))
}

/// A scope as the setup API shows it (`RestMapping`).
fn mapping(scope: &Scope) -> Value {
    let mut v = serde_json::to_value(scope).unwrap_or_else(|_| json!({}));
    if let Value::Object(m) = &mut v {
        m.insert("Form".into(), json!("KeepDatabase"));
        m.insert("Type".into(), json!("KeepDatabase"));
    }
    v
}

fn no_scope(name: &str) -> ApiError {
    super::access::no_such_scope(name)
}

fn get_scope(state: &DrapiState, _session: &Session, req: &Req<'_>) -> Answer {
    let name = required(req, "scopeName")?;
    let config = state.config();
    let scope = config.scope(name).ok_or_else(|| no_scope(name))?;
    Ok(json_answer(StatusCode::OK, &mapping(scope)))
}

fn post_scope(state: &DrapiState, session: &Session, req: &Req<'_>) -> Answer {
    let body: Value = serde_json::from_slice(req.body)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON: {e}")))?;
    let mut v = body;
    if let Some(m) = v.as_object_mut() {
        // `createSchema` is a request flag, not part of the mapping.
        m.remove("createSchema");
    }
    let scope = parse_scope(&v).map_err(ApiError::bad_request)?;
    check_designer(state, session, &scope.nsf_path)?;
    let mut config = state.config();
    if let Some(old) = config.scope(&scope.api_name)
        && check_designer(state, session, &old.nsf_path).is_err()
    {
        return Err(designer_needed());
    }
    let answer = mapping(&scope);
    config.scopes.insert(scope.api_name.clone(), scope);
    Ok(json_answer(StatusCode::OK, &answer))
}

fn delete_scope(state: &DrapiState, session: &Session, req: &Req<'_>) -> Answer {
    let name = required(req, "scopeName")?;
    let mut config = state.config();
    let scope = config.scope(name).cloned().ok_or_else(|| no_scope(name))?;
    check_designer(state, session, &scope.nsf_path)?;
    config.scopes.remove(name);
    Ok(json_answer(StatusCode::OK, &mapping(&scope)))
}
