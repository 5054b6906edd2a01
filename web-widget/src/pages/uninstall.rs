//! Uninstall (F9): a confirmation that says exactly what is deleted, then OK. For the
//! integration's admin it uninstalls the integration for the organisation; for anyone else it
//! only disconnects that user, and is called Disconnect.

use serde_json::{Value, json};
use yew::prelude::*;

use super::checked;
use crate::api::{self, ApiError, Method};
use crate::components::ErrorBox;
use crate::i18n::{Lang, T};

/// Properties of [`Uninstall`].
#[derive(Properties, PartialEq)]
pub struct UninstallProps {
    /// UI language.
    pub lang: Lang,
    /// The caller is the integration's admin (the whole org's data goes).
    pub admin: bool,
    /// Uninstalled.
    pub on_done: Callback<()>,
    /// Not now.
    pub on_cancel: Callback<()>,
}

/// The Uninstall confirmation.
#[component(Uninstall)]
pub fn uninstall(props: &UninstallProps) -> Html {
    let lang = props.lang;
    let t = |k| lang.t(k);
    let delete_crm = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let on_ok = {
        let (delete_crm, error, busy, done) = (
            delete_crm.clone(),
            error.clone(),
            busy.clone(),
            props.on_done.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            let body = json!({ "confirm": true, "delete_crm_records": *delete_crm });
            let (error, busy, done) = (error.clone(), busy.clone(), done.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let r: Result<Value, ApiError> =
                    api::call(Method::Post, "/api/uninstall", Some(&body), &[]).await;
                busy.set(false);
                match r {
                    Ok(_) => done.emit(()),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let on_check = {
        let delete_crm = delete_crm.clone();
        Callback::from(move |e: Event| delete_crm.set(checked(&e)))
    };
    let cancel = props.on_cancel.clone();
    html! {
        <section class="card narrow" role="alertdialog" aria-modal="true" aria-labelledby="uninstall-title" aria-describedby="uninstall-what">
            <h2 id="uninstall-title">{ if props.admin { t(T::Uninstall) } else { t(T::Disconnect) } }</h2>
            <div id="uninstall-what">
                <p><strong>{ if props.admin { t(T::UninstallIntro) } else { t(T::DisconnectIntro) } }</strong></p>
                <p>{ if props.admin { t(T::UninstallOrg) } else { t(T::UninstallUser) } }</p>
                <p>{ t(T::UninstallKeeps) }</p>
            </div>
            <div class="field">
                <label class="choice" for="delete-crm-records">
                    <input id="delete-crm-records" type="checkbox" checked={*delete_crm} onchange={on_check} />
                    { " " }{ t(T::DeleteCrmRecords) }
                </label>
            </div>
            if let Some(e) = &*error { <ErrorBox {lang} error={e.clone()} /> }
            <div class="actions">
                <button id="uninstall-ok" type="button" class="danger" onclick={on_ok} disabled={*busy}>{ t(T::Ok) }</button>
                <button id="uninstall-cancel" type="button" onclick={Callback::from(move |_| cancel.emit(()))}>{ t(T::Cancel) }</button>
            </div>
        </section>
    }
}
