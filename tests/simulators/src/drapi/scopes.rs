//! What a client can learn about its access before it reads data (domino-rest-api.md §1.3,
//! §2.5): `GET /scopes`, `GET /scope` (the whole schema), `GET /scope/access`, `GET /userinfo`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::errors::{Answer, json_answer};
use super::{DrapiState, Req, access, auth};
use crate::domino::model::canonical_name;

/// `GET /scopes[?includeAll=true]` (B:fetchScopes): the active scopes (all with `includeAll`).
pub(crate) fn list(state: &DrapiState, req: &Req<'_>) -> Answer {
    auth::caller(state, req.headers)?;
    let all = req.flag("includeAll")?.unwrap_or(false);
    let config = state.config();
    let list: Vec<Value> = config
        .scopes
        .values()
        .filter(|s| all || s.is_active)
        .map(|s| {
            json!({
                "apiName": s.api_name,
                "nsfPath": s.nsf_path,
                "schemaName": s.schema_name,
                "isActive": s.is_active,
                "description": s.description,
            })
        })
        .collect();
    Ok(json_answer(StatusCode::OK, &Value::Array(list)))
}

/// `GET /scope?dataSource=` (B:getScope): the scope's schema, with its `apiName`.
pub(crate) fn one(state: &DrapiState, req: &Req<'_>) -> Answer {
    let session = auth::caller(state, req.headers)?;
    let target = access::target(state, &session, req)?;
    let mut v = target.schema.to_json();
    if let Value::Object(m) = &mut v {
        m.insert("apiName".into(), json!(target.scope.api_name));
    }
    Ok(json_answer(StatusCode::OK, &v))
}

/// `GET /scope/access?dataSource=` (B:getScopeAccess): the caller's effective access.
pub(crate) fn access(state: &DrapiState, req: &Req<'_>) -> Answer {
    let session = auth::caller(state, req.headers)?;
    let target = access::target(state, &session, req)?;
    let mut flags = vec!["PERSON"];
    if target.level >= access::EDITOR {
        flags.extend(["CREATE_FOLDER", "PUBLICREADER", "PUBLICWRITER"]);
    }
    if target.level < access::AUTHOR {
        flags.push("NODELETE");
    }
    Ok(json_answer(
        StatusCode::OK,
        &json!({
            "User": canonical_name(&session.user),
            "Level": target.level_name(),
            "Roles": [],
            "Flags": flags,
        }),
    ))
}

/// `GET /userinfo` (B:getUserInfo): who the token is, and where their mail file is.
pub(crate) fn userinfo(state: &DrapiState, req: &Req<'_>) -> Answer {
    let session = auth::caller(state, req.headers)?;
    let name = &session.user;
    Ok(json_answer(
        StatusCode::OK,
        &json!({
            "sub": canonical_name(name),
            "name": name,
            "preferred_username": name,
            "email": format!("{}@example.com", name.to_lowercase()),
            "mailServer": "CN=sim/O=SimOrg",
            "mailFile": format!("mail/{}.nsf", name.to_lowercase()),
            "scope": session.scopes.join(" "),
        }),
    ))
}
