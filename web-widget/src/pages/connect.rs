//! The authentication page (F1, F2): Server Name, User Name, Password, Submit. The host checks
//! them with Domino before saving; each failure says what is wrong and, when Domino Access
//! Services is off, at which level and how the admin turns it on (the seed's menu paths).

use serde_json::{Value, json};
use yew::prelude::*;

use super::input_value;
use crate::api::{self, ApiError, Method};
use crate::i18n::{Lang, T};

/// The explanation of a failed Connect or Change Password: headline, admin step, details.
pub fn connect_error(lang: Lang, e: &ApiError) -> Html {
    let t = |k| lang.t(k);
    let (headline, step) = match e.code.as_str() {
        "wrong_password" => (Some(T::ErrWrongPassword), None),
        "unreachable" | "network" => (Some(T::ErrUnreachable), None),
        "not_domino" => (Some(T::ErrNotDomino), None),
        "no_mail_file" => (Some(T::ErrNoMailFile), None),
        "das_off_server" => (Some(T::ErrDasServer), Some(T::StepDasServer)),
        "das_off_database" => (Some(T::ErrDasDatabase), Some(T::StepDasDatabase)),
        "das_off_view" => (Some(T::ErrDasView), Some(T::StepDasView)),
        _ => (None, None),
    };
    html! {
        <div class="error" role="alert" data-code={e.code.clone()}>
            if let Some(h) = headline {
                <p class="headline">{ t(h) }</p>
            }
            if let Some(s) = step {
                <p class="step">{ t(s) }</p>
            }
            <p class="details">
                if headline.is_some() { { t(T::ServerDetails) }{ " " } }
                { e.message.clone() }
            </p>
        </div>
    }
}

/// Properties of [`Connect`].
#[derive(Properties, PartialEq)]
pub struct ConnectProps {
    /// UI language.
    pub lang: Lang,
    /// Called once the connection is verified and stored.
    pub on_connected: Callback<()>,
}

/// The authentication page.
#[component(Connect)]
pub fn connect(props: &ConnectProps) -> Html {
    let lang = props.lang;
    let t = |k| lang.t(k);
    let server = use_state(String::new);
    let user = use_state(String::new);
    let password = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let missing = use_state(Vec::<&'static str>::new);

    let onsubmit = {
        let (server, user, password) = (server.clone(), user.clone(), password.clone());
        let (busy, error, missing) = (busy.clone(), error.clone(), missing.clone());
        let done = props.on_connected.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut empty = Vec::new();
            for (id, v) in [
                ("server-name", &*server),
                ("user-name", &*user),
                ("password", &*password),
            ] {
                if v.trim().is_empty() {
                    empty.push(id);
                }
            }
            missing.set(empty.clone());
            if !empty.is_empty() || *busy {
                return;
            }
            busy.set(true);
            error.set(None);
            let body =
                json!({ "server": server.trim(), "user": user.trim(), "password": *password });
            let (busy, error, done) = (busy.clone(), error.clone(), done.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let r: Result<Value, ApiError> =
                    api::call(Method::Post, "/api/connect", Some(&body), &[]).await;
                busy.set(false);
                match r {
                    Ok(_) => done.emit(()),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let field = |id: &'static str,
                 label: T,
                 kind: &'static str,
                 state: &UseStateHandle<String>,
                 autocomplete: &'static str,
                 hint: Option<T>| {
        let s = state.clone();
        let oninput = Callback::from(move |e: InputEvent| s.set(input_value(&e)));
        let invalid = missing.contains(&id);
        let err_id = format!("{id}-error");
        let hint_id = format!("{id}-hint");
        let describedby = if invalid {
            err_id.clone()
        } else if hint.is_some() {
            hint_id.clone()
        } else {
            String::new()
        };
        html! {
            <div class="field">
                <label for={id}>{ t(label) }</label>
                <input id={id} name={id} type={kind} value={(**state).clone()} {oninput}
                    autocomplete={autocomplete} required=true
                    aria-invalid={invalid.to_string()}
                    aria-describedby={(!describedby.is_empty()).then_some(describedby)} />
                if let Some(h) = hint {
                    <small id={hint_id} class="muted">{ t(h) }</small>
                }
                if invalid {
                    <small id={err_id} class="error">{ t(T::ErrRequired) }</small>
                }
            </div>
        }
    };
    html! {
        <section class="card narrow" aria-labelledby="auth-title">
            <h2 id="auth-title">{ t(T::AuthTitle) }</h2>
            <p>{ t(T::AuthIntro) }</p>
            <form id="connect-form" {onsubmit} novalidate=true>
                { field("server-name", T::ServerName, "url", &server, "url", Some(T::ServerNameHint)) }
                { field("user-name", T::UserName, "text", &user, "username", None) }
                { field("password", T::Password, "password", &password, "current-password", None) }
                if let Some(e) = &*error { { connect_error(lang, e) } }
                <div class="actions">
                    <button id="connect-submit" type="submit" class="primary" disabled={*busy}>{ t(T::Submit) }</button>
                    if *busy { <span class="muted" role="status">{ t(T::Checking) }</span> }
                </div>
            </form>
        </section>
    }
}
