//! Who may reach which documents: `?dataSource=` to scope, schema and NSF, the JWT's scopes,
//! the NSF's ACL capped by the scope's maximum access level, and the form and mode a document
//! is read or written through (domino-rest-api.md §2.3, §2.5, §8.4–8.5).

use axum::http::StatusCode;

use super::errors::ApiError;
use super::schema::{ACCESS_LEVELS, Form, Mode, Schema, Scope, access_rank};
use super::state::Session;
use super::{DrapiState, Req};
use crate::domino::model::{Document, canonical_name};

/// A request's database, once every check passed.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub scope: Scope,
    pub schema: Schema,
    /// Key of the database in the Domino server (lower-case path).
    pub db_key: String,
    /// The caller's short name.
    pub user: String,
    /// Effective access: the lower of the ACL and the scope's maximum (index into
    /// [`ACCESS_LEVELS`]).
    pub level: usize,
}

/// Rank of `Reader`, `Author`, `Editor` in [`ACCESS_LEVELS`].
pub(crate) const READER: usize = 2;
pub(crate) const AUTHOR: usize = 3;
pub(crate) const EDITOR: usize = 4;

impl Target {
    /// The effective access level's name, upper-case as `/scope/access` shows it.
    pub(crate) fn level_name(&self) -> String {
        ACCESS_LEVELS
            .get(self.level)
            .copied()
            .unwrap_or("NoAccess")
            .to_ascii_uppercase()
    }

    /// May the caller change (or delete) this document: Editor, or Author and among its
    /// authors.
    pub(crate) fn may_edit(&self, doc: &Document) -> bool {
        self.level >= EDITOR
            || (self.level >= AUTHOR && doc.authors.contains(&canonical_name(&self.user)))
    }
}

/// The unknown-scope answer (B:getScope's example).
pub(crate) fn no_such_scope(name: &str) -> ApiError {
    ApiError::not_found(format!(
        "A scope definition with that name cannot be found: {name}"
    ))
    .with_id(1112)
}

/// Resolve `?dataSource=` for `session`, checking in this order: the parameter is there (400),
/// the scope exists and is active (404, errorId 1112), the JWT's scopes allow it (`$DATA` or
/// the scope's name, else 403), its schema exists and is active (404, errorId 1037), its NSF
/// exists (404), and the caller may open the NSF (403).
pub(crate) fn target(
    state: &DrapiState,
    session: &Session,
    req: &Req<'_>,
) -> Result<Target, ApiError> {
    let name = req
        .q("dataSource")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("The parameter dataSource is required"))?;
    let (scope, schema) = {
        let config = state.config();
        let scope = config
            .scope(name)
            .filter(|s| s.is_active)
            .cloned()
            .ok_or_else(|| no_such_scope(name))?;
        if !session.has_scope("$DATA") && !session.has_scope(&scope.api_name) {
            return Err(ApiError::forbidden(format!(
                "The JWT's scopes ({}) do not include $DATA or {}",
                session.scopes.join(" "),
                scope.api_name
            )));
        }
        let schema = config
            .schema_of(&scope)
            .filter(|s| s.is_active)
            .cloned()
            .ok_or_else(|| {
                ApiError::not_found(format!("Config not found: REST/{}.json", scope.schema_name))
                    .with_id(1037)
            })?;
        (scope, schema)
    };
    let db_key = scope.nsf_path.to_lowercase();
    let acl = {
        let server = state.domino.server();
        let db = server.databases.get(&db_key).ok_or_else(|| {
            ApiError::not_found(format!("Database {} could not be opened", scope.nsf_path))
        })?;
        match &db.owner {
            Some(owner) if owner.eq_ignore_ascii_case(&session.user) => access_rank("Manager"),
            Some(_) => 0,
            None => READER,
        }
    };
    let level = acl.min(access_rank(&scope.maximum_access_level));
    if level < READER {
        return Err(ApiError::forbidden(format!(
            "{} is not allowed to access {}",
            canonical_name(&session.user),
            scope.nsf_path
        )));
    }
    Ok(Target {
        scope,
        schema,
        db_key,
        user: session.user.clone(),
        level,
    })
}

/// The configuration a document is seen through: its form's entry in the schema and the mode
/// asked for. A document without a configured form, or a mode the form lacks, is refused with
/// 403 "No form and mode configuration found for Form/mode".
pub(crate) fn form_mode<'s>(
    schema: &'s Schema,
    doc: &Document,
    mode: &str,
) -> Result<(&'s Form, &'s Mode), ApiError> {
    let form_value = doc.form().unwrap_or_default();
    let refused = || {
        ApiError::forbidden(format!(
            "No form and mode configuration found for {form_value}/{mode}"
        ))
    };
    let form = schema.form(&form_value).ok_or_else(refused)?;
    let m = form.mode(mode).ok_or_else(refused)?;
    Ok((form, m))
}

/// The form configuration for a `Form` value given by a client (create), with its mode.
pub(crate) fn form_mode_named<'s>(
    schema: &'s Schema,
    form_value: &str,
    mode: &str,
) -> Result<(&'s Form, &'s Mode), ApiError> {
    let refused = || {
        ApiError::forbidden(format!(
            "No form and mode configuration found for {form_value}/{mode}"
        ))
    };
    let form = schema.form(form_value).ok_or_else(refused)?;
    let m = form.mode(mode).ok_or_else(refused)?;
    Ok((form, m))
}

/// Read access through a mode (its `readAccessFormula`).
pub(crate) fn check_read(form: &Form, mode: &Mode) -> Result<(), ApiError> {
    if mode.read_access_formula.allows() {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "The mode {} of form {} does not allow reading",
            mode.mode_name, form.form_name
        )))
    }
}

/// Write access: the mode's `writeAccessFormula` and the caller's level.
pub(crate) fn check_write(target: &Target, form: &Form, mode: &Mode) -> Result<(), ApiError> {
    if !mode.write_access_formula.allows() {
        return Err(ApiError::forbidden(format!(
            "The mode {} of form {} does not allow writing",
            mode.mode_name, form.form_name
        )));
    }
    if target.level < AUTHOR {
        return Err(ApiError::forbidden(format!(
            "{} access to {} does not allow writing",
            target.level_name(),
            target.scope.nsf_path
        )));
    }
    Ok(())
}

/// Delete access: the mode's `deleteAccessFormula` and the caller's level.
pub(crate) fn check_delete(
    target: &Target,
    form: &Form,
    mode: &Mode,
    doc: &Document,
) -> Result<(), ApiError> {
    if !mode.delete_access_formula.allows() {
        return Err(ApiError::forbidden(format!(
            "The mode {} of form {} does not allow deleting",
            mode.mode_name, form.form_name
        )));
    }
    if !target.may_edit(doc) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("Not allowed to delete document {}", doc.unid),
        ));
    }
    Ok(())
}
