//! The authentication page (F1): Server Name, User Name, Password, the Domino API (Domino Access
//! Services, the Domino REST API, or whichever answers), Submit. The host checks them with
//! Domino before saving; a wrong server, password or mail file is refused with what is wrong.
//! Once stored, the readiness panel (F2) shows what else the settings need (Domino Access
//! Services at each level or the REST API's set-up steps, the Calendar service) and how the
//! admin turns it on.

use serde_json::{Value, json};
use yew::prelude::*;

use super::{input_value, select_value};
use crate::api::{self, ApiError, Method};
use crate::components::api_error_html;
use crate::i18n::{Lang, T};

/// The explanation of a failed Connect or Change Password: headline (the catalogue's text for
/// its code, or a general one), admin step, the server's words folded away.
pub fn connect_error(lang: Lang, e: &ApiError) -> Html {
    api_error_html(lang, e)
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
    let api = use_state(|| "das".to_owned());
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let missing = use_state(Vec::<&'static str>::new);

    let onsubmit = {
        let (server, user, password, api) =
            (server.clone(), user.clone(), password.clone(), api.clone());
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
            // The server name is a URL: without its scheme the server would only say it is
            // not one, so say what to type.
            let lower = server.trim().to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://")) {
                error.set(Some(ApiError {
                    status: 0,
                    code: "server_scheme".into(),
                    message: String::new(),
                }));
                return;
            }
            busy.set(true);
            error.set(None);
            let body = json!({ "server": server.trim(), "user": user.trim(),
                "password": *password, "api": *api });
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
                { api_choice(lang, &api) }
                if let Some(e) = &*error { { connect_error(lang, e) } }
                <div class="actions">
                    <button id="connect-submit" type="submit" class="primary" disabled={*busy}>{ t(T::Submit) }</button>
                    if *busy { <span class="muted" role="status">{ t(T::Checking) }</span> }
                </div>
            </form>
        </section>
    }
}

/// The Domino API select: `das`, `rest` or `auto`, as `POST /api/connect` takes it.
fn api_choice(lang: Lang, api: &UseStateHandle<String>) -> Html {
    let t = |k| lang.t(k);
    let onchange = {
        let api = api.clone();
        Callback::from(move |e: Event| api.set(select_value(&e)))
    };
    let option = |value: &'static str, label: T| {
        html! { <option {value} selected={**api == value}>{ t(label) }</option> }
    };
    html! {
        <div class="field">
            <label for="domino-api">{ t(T::DominoApi) }</label>
            <select id="domino-api" name="domino-api" {onchange} aria-describedby="domino-api-hint">
                { option("das", T::DominoApiDas) }
                { option("rest", T::DominoApiRest) }
                { option("auto", T::DominoApiAuto) }
            </select>
            <small id="domino-api-hint" class="muted">{ t(T::DominoApiHint) }</small>
        </div>
    }
}
