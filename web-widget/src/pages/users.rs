//! Manage Users (F8): the admin sees the licence use and each user's state (connected, last
//! sync, schedule, syncing now), adds CRM users of the org, stops a user's syncing and removes
//! users. As the seed says, a user who is set up to sync cannot be removed until their syncing
//! is stopped; both actions ask for confirmation and say what is kept and what is deleted.
//! The admin can hand the role to a user who is a Zoho CRM administrator (Make admin, with a
//! confirmation), and runs the CRM set-up (the fields every user's sync and meetings need).
//! Anyone else gets the host's refusal.

use serde_json::{Value, json};
use yew::prelude::*;

use super::select_value;
use crate::api::{self, ApiError, IntegrationUser, Method, SetupInfo, UsersInfo};
use crate::components::{ErrorBox, api_error_html, local_time, outcome_text};
use crate::i18n::{Lang, T};

/// Properties of [`ManageUsers`].
#[derive(Properties, PartialEq)]
pub struct UsersProps {
    /// UI language.
    pub lang: Lang,
}

/// An action waiting for the admin's confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Confirm {
    Stop(IntegrationUser),
    Remove(IntegrationUser),
    HandOver(IntegrationUser),
}

fn last_sync(lang: Lang, u: &IntegrationUser) -> String {
    match &u.last_sync {
        Some(l) => format!(
            "{} #{} · {} · {}",
            lang.t(T::SyncRun),
            l.number,
            local_time(l.finished, lang),
            outcome_text(lang, &l.outcome)
        ),
        None => lang.t(T::Never).to_owned(),
    }
}

fn schedule(lang: Lang, u: &IntegrationUser) -> String {
    schedule_text(lang, u.schedule_minutes)
}

/// A sync schedule in words: none, every n minutes or hours, daily.
#[must_use]
pub fn schedule_text(lang: Lang, minutes: Option<u32>) -> String {
    match minutes {
        None => lang.t(T::NoSchedule).to_owned(),
        Some(1440) => lang.t(T::Daily).to_owned(),
        Some(60) => lang.t(T::Every60).to_owned(),
        Some(m) if m % 60 == 0 => lang.tf(T::EveryHours, &[("n", &(m / 60).to_string())]),
        Some(m) => lang.tf(T::EveryMinutes, &[("n", &m.to_string())]),
    }
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
    let confirm = use_state(|| None::<Confirm>);
    let setup = use_state(|| None::<SetupInfo>);
    {
        let (info, error, setup) = (info.clone(), error.clone(), setup.clone());
        use_effect_with(*reload, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::get::<UsersInfo>("/api/users").await {
                    Ok(i) => info.set(Some(i)),
                    Err(e) => {
                        // No longer (or never) the admin: nothing of the list stays on screen.
                        info.set(None);
                        error.set(Some(e));
                        return;
                    }
                }
                if let Ok(s) = api::get::<SetupInfo>("/api/setup").await {
                    setup.set(Some(s));
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
                if let Some(n) = *notice { <p class="ok" role="status" id="users-notice">{ t(n) }</p> }
                if let Some(e) = &*error {
                    if e.status == 403 {
                        <p class="error" role="alert" id="users-refused">{ t(T::NotAdmin) }</p>
                    } else {
                        <ErrorBox {lang} error={e.clone()} />
                    }
                } else { <p role="status">{ t(T::Loading) }</p> }
            </section>
        };
    };
    let full = i.used >= i.licences;
    let rows = i.users.iter().map(|u| {
        let ask = |what: Confirm| {
            let confirm = confirm.clone();
            Callback::from(move |_: MouseEvent| confirm.set(Some(what.clone())))
        };
        // Why Remove is not offered now: a sync running, or a user still set up to sync.
        let blocked = if u.syncing {
            Some(t(T::CannotRemoveSyncing))
        } else if u.connected {
            Some(t(T::CannotRemoveSetUp))
        } else {
            None
        };
        let reason_id = format!("remove-blocked-{}", u.user_id);
        html! {
            <tr data-email={u.email.clone()} data-connected={u.connected.to_string()}>
                <td translate="no">{ u.name.clone() }</td>
                <td translate="no">{ u.email.clone() }</td>
                <td>{ if u.admin { t(T::Admin) } else { t(T::Member) } }</td>
                <td class="connected">{ if u.connected { t(T::Yes) } else { t(T::No) } }</td>
                <td class="last-sync">{ last_sync(lang, u) }</td>
                <td class="schedule">{ schedule(lang, u) }</td>
                <td class="status">{ if u.syncing { t(T::SyncingNow) } else { "" } }</td>
                <td class="row-actions">
                    if u.connected {
                        <button type="button" class="stop" onclick={ask(Confirm::Stop(u.clone()))}
                            disabled={u.syncing}
                            aria-label={format!("{} {}", t(T::StopSyncing), u.email)}>{ t(T::StopSyncing) }</button>
                    }
                    if !u.admin && u.can_be_admin {
                        <button type="button" class="make-admin" onclick={ask(Confirm::HandOver(u.clone()))}
                            aria-label={format!("{} {}", t(T::MakeAdmin), u.email)}>{ t(T::MakeAdmin) }</button>
                    }
                    if !u.admin {
                        <button type="button" class="danger remove" onclick={ask(Confirm::Remove(u.clone()))}
                            disabled={blocked.is_some()}
                            aria-describedby={blocked.is_some().then(|| reason_id.clone())}
                            aria-label={format!("{} {}", t(T::Remove), u.email)}>{ t(T::Remove) }</button>
                        if let Some(why) = blocked {
                            <small id={reason_id} class="muted remove-blocked">{ why }</small>
                        }
                    }
                </td>
            </tr>
        }
    });
    let dialog = (*confirm).clone().map(|c| {
        let (title, deletes, keeps, ok_id, method, path, done) = match &c {
            Confirm::Stop(u) => (
                lang.tf(T::StopSyncingTitle, &[("email", &u.email)]),
                t(T::StopSyncingDeletes).to_owned(),
                t(T::StopSyncingKeeps),
                "stop-ok",
                Method::Post,
                format!("/api/users/{}/stop", u.user_id),
                T::SyncStopped,
            ),
            Confirm::Remove(u) => (
                lang.tf(T::RemoveUserTitle, &[("email", &u.email)]),
                t(T::RemoveUserDeletes).to_owned(),
                t(T::RemoveUserKeeps),
                "remove-ok",
                Method::Delete,
                format!("/api/users/{}", u.user_id),
                T::UserRemoved,
            ),
            Confirm::HandOver(u) => (
                lang.tf(T::MakeAdminTitle, &[("email", &u.email)]),
                lang.tf(T::MakeAdminWhat, &[("email", &u.email)]),
                t(T::MakeAdminKeeps),
                "make-admin-ok",
                Method::Post,
                format!("/api/users/{}/admin", u.user_id),
                T::AdminHandedOver,
            ),
        };
        let on_ok = {
            let (act, confirm) = (act.clone(), confirm.clone());
            Callback::from(move |_: MouseEvent| {
                confirm.set(None);
                act(method, path.clone(), None, done);
            })
        };
        let on_cancel = {
            let confirm = confirm.clone();
            Callback::from(move |_: MouseEvent| confirm.set(None))
        };
        html! {
            <section class="card narrow confirm" role="alertdialog" aria-modal="true" id="user-confirm"
                aria-labelledby="user-confirm-title" aria-describedby="user-confirm-what">
                <h3 id="user-confirm-title">{ title }</h3>
                <div id="user-confirm-what">
                    <p class="deletes">{ deletes }</p>
                    <p class="keeps">{ keeps }</p>
                </div>
                <div class="actions">
                    <button id={ok_id} type="button" class="danger" onclick={on_ok}>{ t(T::Ok) }</button>
                    <button id="confirm-cancel" type="button" onclick={on_cancel}>{ t(T::Cancel) }</button>
                </div>
            </section>
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
            if let Some(n) = *notice { <p class="ok" role="status" id="users-notice">{ t(n) }</p> }
            if let Some(e) = &*error { { api_error_html(lang, e) } }
            { for dialog }
            <div class="table-wrap">
            <table id="users-table">
                <caption class="sr-only">{ t(T::Users) }</caption>
                <thead><tr>
                    <th scope="col">{ t(T::Name) }</th>
                    <th scope="col">{ t(T::Email) }</th>
                    <th scope="col">{ t(T::Role) }</th>
                    <th scope="col">{ t(T::Connected) }</th>
                    <th scope="col">{ t(T::LastRun) }</th>
                    <th scope="col">{ t(T::ScheduleColumn) }</th>
                    <th scope="col">{ t(T::Status) }</th>
                    <th scope="col"><span class="sr-only">{ t(T::Action) }</span></th>
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
                                <option value={u.user_id.clone()} selected={*chosen == u.user_id} translate="no">{ format!("{} <{}>", u.name, u.email) }</option>
                            }) }
                        </select>
                    </div>
                    <div class="actions"><button id="add-user-submit" type="submit" class="primary">{ t(T::Add) }</button></div>
                </form>
            }
            { setup_panel(lang, (*setup).as_ref(), &act) }
        </section>
    }
}

/// The CRM set-up: whether the fields exist, and the button that makes the missing ones.
fn setup_panel(
    lang: Lang,
    setup: Option<&SetupInfo>,
    act: &(impl Fn(Method, String, Option<Value>, T) + Clone + 'static),
) -> Html {
    let t = |k| lang.t(k);
    let Some(s) = setup else {
        return html! {};
    };
    let missing: Vec<String> = s
        .fields
        .iter()
        .filter(|f| !f.present)
        .map(|f| format!("{} ({})", f.field, f.module))
        .collect();
    let onclick = {
        let act = act.clone();
        Callback::from(move |_: MouseEvent| {
            act(Method::Post, "/api/setup".into(), None, T::CrmSetupDone);
        })
    };
    html! {
        <section id="crm-setup" aria-labelledby="crm-setup-title" data-ready={s.ready.to_string()}>
            <h3 id="crm-setup-title">{ t(T::CrmSetup) }</h3>
            <p class="muted">{ t(T::CrmSetupIntro) }</p>
            if s.ready {
                <p class="ok" id="crm-setup-ready">{ t(T::CrmSetupReady) }</p>
            } else {
                <p id="crm-setup-missing">{ t(T::CrmSetupMissing) }{ " " }<span translate="no">{ missing.join(", ") }</span></p>
                <div class="actions">
                    <button id="crm-setup-create" type="button" class="primary" {onclick}>{ t(T::CrmSetupCreate) }</button>
                </div>
            }
        </section>
    }
}
