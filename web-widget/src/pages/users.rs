//! Manage Users (F8): the admin sees the licence use, adds CRM users of the org and removes
//! users (not while their sync runs). Anyone else gets the host's refusal.

use serde_json::{Value, json};
use yew::prelude::*;

use super::select_value;
use crate::api::{self, ApiError, Method, UsersInfo};
use crate::components::ErrorBox;
use crate::i18n::{Lang, T};

/// Properties of [`ManageUsers`].
#[derive(Properties, PartialEq)]
pub struct UsersProps {
    /// UI language.
    pub lang: Lang,
}

/// The Manage Users screen.
#[component(ManageUsers)]
pub fn manage_users(props: &UsersProps) -> Html {
    let lang = props.lang;
    let t = |k| lang.t(k);
    let info = use_state(|| None::<UsersInfo>);
    let error = use_state(|| None::<ApiError>);
    let notice = use_state(|| None::<T>);
    let reload = use_state(|| 0u32);
    let chosen = use_state(String::new);
    {
        let (info, error) = (info.clone(), error.clone());
        use_effect_with(*reload, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::get::<UsersInfo>("/api/users").await {
                    Ok(i) => info.set(Some(i)),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }
    let act = {
        let (error, notice, reload) = (error.clone(), notice.clone(), reload.clone());
        move |method: Method, path: String, body: Option<Value>, ok: T| {
            let (error, notice, reload) = (error.clone(), notice.clone(), reload.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let r: Result<Value, ApiError> = api::call(method, &path, body.as_ref(), &[]).await;
                match r {
                    Ok(_) => {
                        error.set(None);
                        notice.set(Some(ok));
                    }
                    Err(e) => {
                        notice.set(None);
                        error.set(Some(e));
                    }
                }
                reload.set(*reload + 1);
            });
        }
    };
    let Some(i) = &*info else {
        return html! {
            <section class="card" aria-labelledby="users-title">
                <h2 id="users-title">{ t(T::ManageUsers) }</h2>
                if let Some(e) = &*error {
                    if e.status == 403 {
                        <p class="error" role="alert" id="users-refused">{ t(T::NotAdmin) }</p>
                    } else {
                        <ErrorBox error={e.clone()} />
                    }
                } else { <p role="status">{ t(T::Loading) }</p> }
            </section>
        };
    };
    let full = i.used >= i.licences;
    let rows = i.users.iter().map(|u| {
        let act = act.clone();
        let id = u.user_id.clone();
        let remove = Callback::from(move |_| {
            act(Method::Delete, format!("/api/users/{id}"), None, T::UserRemoved);
        });
        html! {
            <tr data-email={u.email.clone()}>
                <td>{ u.name.clone() }</td>
                <td>{ u.email.clone() }</td>
                <td>{ if u.admin { t(T::Admin) } else { t(T::Member) } }</td>
                <td>{ if u.syncing { t(T::SyncingNow) } else { "" } }</td>
                <td>
                    if !u.admin {
                        <button type="button" class="danger" onclick={remove} disabled={u.syncing}
                            title={u.syncing.then_some(t(T::CannotRemoveSyncing))}
                            aria-label={format!("{} {}", t(T::Remove), u.email)}>{ t(T::Remove) }</button>
                    }
                </td>
            </tr>
        }
    });
    let on_choose = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| chosen.set(select_value(&e)))
    };
    let onsubmit = {
        let (chosen, act) = (chosen.clone(), act.clone());
        let first = i
            .available
            .first()
            .map(|u| u.user_id.clone())
            .unwrap_or_default();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let who = if chosen.is_empty() {
                first.clone()
            } else {
                (*chosen).clone()
            };
            if who.is_empty() {
                return;
            }
            chosen.set(String::new());
            act(
                Method::Post,
                "/api/users".into(),
                Some(json!({ "user": who })),
                T::UserAdded,
            );
        })
    };
    html! {
        <section class="card" aria-labelledby="users-title">
            <h2 id="users-title">{ t(T::ManageUsers) }</h2>
            <p id="licences">{ format!("{}: {} / {}", t(T::LicencesUsed), i.used, i.licences) }</p>
            if let Some(n) = *notice { <p class="ok" role="status">{ t(n) }</p> }
            if let Some(e) = &*error { <ErrorBox error={e.clone()} /> }
            <div class="table-wrap">
            <table id="users-table">
                <caption class="sr-only">{ t(T::Users) }</caption>
                <thead><tr>
                    <th scope="col">{ t(T::Name) }</th>
                    <th scope="col">{ t(T::Email) }</th>
                    <th scope="col">{ t(T::Role) }</th>
                    <th scope="col">{ t(T::Status) }</th>
                    <th scope="col"><span class="sr-only">{ t(T::Remove) }</span></th>
                </tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
            </div>
            if full {
                <p class="muted">{ t(T::NoMoreLicences) }</p>
            } else if !i.available.is_empty() {
                <form id="add-user-form" class="row" {onsubmit}>
                    <div class="field">
                        <label for="add-user">{ t(T::AddUser) }</label>
                        <select id="add-user" onchange={on_choose}>
                            { for i.available.iter().map(|u| html! {
                                <option value={u.user_id.clone()} selected={*chosen == u.user_id}>{ format!("{} <{}>", u.name, u.email) }</option>
                            }) }
                        </select>
                    </div>
                    <div class="actions"><button id="add-user-submit" type="submit" class="primary">{ t(T::Add) }</button></div>
                </form>
            }
        </section>
    }
}
