//! Change Password (F7): the new Domino password is checked with the server, then stored.

use serde_json::{Value, json};
use yew::prelude::*;

use super::connect::connect_error;
use super::input_value;
use crate::api::{self, ApiError, Domino, Method};
use crate::i18n::{Lang, T};

/// Properties of [`ChangePassword`].
#[derive(Properties, PartialEq)]
pub struct PasswordProps {
    /// UI language.
    pub lang: Lang,
    /// The stored connection (shown, not editable here).
    pub domino: Option<Domino>,
}

/// The Change Password screen.
#[component(ChangePassword)]
pub fn change_password(props: &PasswordProps) -> Html {
    let lang = props.lang;
    let t = |k| lang.t(k);
    let password = use_state(String::new);
    let error = use_state(|| None::<ApiError>);
    let done = use_state(|| false);
    let busy = use_state(|| false);
    let missing = use_state(|| false);
    let onsubmit = {
        let (password, error, done, busy, missing) = (
            password.clone(),
            error.clone(),
            done.clone(),
            busy.clone(),
            missing.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            missing.set(password.is_empty());
            if password.is_empty() || *busy {
                return;
            }
            busy.set(true);
            done.set(false);
            error.set(None);
            let body = json!({ "password": *password });
            let (error, done, busy, password) =
                (error.clone(), done.clone(), busy.clone(), password.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let r: Result<Value, ApiError> =
                    api::call(Method::Post, "/api/password", Some(&body), &[]).await;
                busy.set(false);
                match r {
                    Ok(_) => {
                        done.set(true);
                        password.set(String::new());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let oninput = {
        let password = password.clone();
        Callback::from(move |e: InputEvent| password.set(input_value(&e)))
    };
    html! {
        <section class="card narrow" aria-labelledby="password-title">
            <h2 id="password-title">{ t(T::ChangePassword) }</h2>
            <p>{ t(T::PasswordIntro) }</p>
            if let Some(d) = &props.domino {
                <dl class="facts">
                    <dt>{ t(T::ServerName) }</dt><dd translate="no">{ d.server.clone() }</dd>
                    <dt>{ t(T::UserName) }</dt><dd id="password-user" translate="no">{ d.user.clone().unwrap_or_default() }</dd>
                </dl>
            }
            <form id="password-form" {onsubmit} novalidate=true>
                <div class="field">
                    <label for="new-password">{ t(T::NewPassword) }</label>
                    <input id="new-password" type="password" autocomplete="new-password" value={(*password).clone()}
                        {oninput} aria-invalid={missing.to_string()}
                        aria-describedby={missing.then_some("new-password-error")} />
                    if *missing { <small id="new-password-error" class="error">{ t(T::ErrRequired) }</small> }
                </div>
                if let Some(e) = &*error { { connect_error(lang, e) } }
                if *done { <p class="ok" role="status" id="password-done">{ t(T::PasswordChanged) }</p> }
                <div class="actions">
                    <button id="password-submit" type="submit" class="primary" disabled={*busy}>{ t(T::Submit) }</button>
                    if *busy { <span class="muted" role="status">{ t(T::Checking) }</span> }
                </div>
            </form>
        </section>
    }
}
