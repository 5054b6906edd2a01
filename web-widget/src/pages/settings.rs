//! The sync settings dialog (F3): Sync Contacts, Sync Tasks, Sync Events with its range, Sync
//! Type with its direction, Conflict Behavior (for Two Way only: one way has no conflicts),
//! the sync schedule (off, every 15 / 30 / 60 minutes, daily; run by the server), Save.

use serde_json::Value;
use sync_core::calendar::EventsWindow;
use sync_core::{ConflictPolicy, Direction, Module, Scope};
use yew::prelude::*;

use super::scope::ScopePicker;
use super::select_value;
use crate::api::{self, ApiError, Method, UserSettings};
use crate::components::ErrorBox;

/// The schedules offered, minutes (`None`: off). The server runs them (`schedule.rs`).
const SCHEDULES: [(Option<u32>, T); 5] = [
    (None, T::ScheduleOff),
    (Some(15), T::Every15),
    (Some(30), T::Every30),
    (Some(60), T::Every60),
    (Some(1440), T::Daily),
];
use crate::i18n::{Lang, T};

/// Properties of [`SettingsDialog`].
#[derive(Properties, PartialEq)]
pub struct SettingsProps {
    /// UI language.
    pub lang: Lang,
    /// Saved: the settings as they were before, when something changed.
    pub on_saved: Callback<Option<UserSettings>>,
    /// Closed without saving.
    pub on_cancel: Callback<()>,
}

fn radio(
    name: &'static str,
    value: &'static str,
    label: &'static str,
    checked: bool,
    on: Callback<()>,
) -> Html {
    let id = format!("{name}-{value}");
    html! {
        <label class="choice" for={id.clone()}>
            <input type="radio" id={id} name={name} value={value} checked={checked}
                onchange={Callback::from(move |_| on.emit(()))} />
            { " " }{ label }
        </label>
    }
}

/// The settings dialog.
#[component(SettingsDialog)]
pub fn settings_dialog(props: &SettingsProps) -> Html {
    let lang = props.lang;
    let t = |k| lang.t(k);
    let loaded = use_state(|| None::<UserSettings>);
    let form = use_state(|| None::<UserSettings>);
    let error = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    {
        let (loaded, form, error) = (loaded.clone(), form.clone(), error.clone());
        use_effect_with((), move |()| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::get::<UserSettings>("/api/settings").await {
                    Ok(s) => {
                        loaded.set(Some(s.clone()));
                        form.set(Some(s));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }
    let Some(s) = (*form).clone() else {
        return html! {
            <section class="card" role="dialog" aria-modal="true" aria-labelledby="settings-title">
                <h2 id="settings-title">{ t(T::SyncSettings) }</h2>
                if let Some(e) = &*error { <ErrorBox {lang} error={e.clone()} /> } else { <p role="status">{ t(T::Loading) }</p> }
            </section>
        };
    };
    let update = |f: fn(&mut UserSettings)| {
        let form = form.clone();
        Callback::from(move |()| {
            if let Some(mut s) = (*form).clone() {
                f(&mut s);
                form.set(Some(s));
            }
        })
    };
    let on_range = {
        let form = form.clone();
        Callback::from(move |e: Event| {
            if let Some(mut s) = (*form).clone() {
                s.events = match select_value(&e).as_str() {
                    "today" => EventsWindow::Today,
                    "past_month" => EventsWindow::PastMonth,
                    _ => EventsWindow::All,
                };
                form.set(Some(s));
            }
        })
    };
    let on_direction = {
        let form = form.clone();
        Callback::from(move |e: Event| {
            if let Some(mut s) = (*form).clone() {
                s.direction = if select_value(&e) == "crm_to_notes" {
                    Direction::CrmToNotes
                } else {
                    Direction::NotesToCrm
                };
                form.set(Some(s));
            }
        })
    };
    let onsubmit = {
        let (form, loaded, error, busy) =
            (form.clone(), loaded.clone(), error.clone(), busy.clone());
        let saved = props.on_saved.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(s) = (*form).clone() else { return };
            let before = (*loaded).clone().filter(|old| *old != s);
            let (error, busy, saved) = (error.clone(), busy.clone(), saved.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let body = serde_json::to_value(&s).unwrap_or(Value::Null);
                let r: Result<Value, ApiError> =
                    api::call(Method::Put, "/api/settings", Some(&body), &[]).await;
                busy.set(false);
                match r {
                    Ok(_) => saved.emit(before),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let on_scope = |module: Module| {
        let form = form.clone();
        Callback::from(move |scope: Scope| {
            if let Some(mut s) = (*form).clone() {
                match module {
                    Module::Contacts => s.scope.contacts = scope,
                    Module::Tasks => s.scope.tasks = scope,
                    Module::Events => s.scope.events = scope,
                }
                form.set(Some(s));
            }
        })
    };
    let on_schedule = {
        let form = form.clone();
        Callback::from(move |e: Event| {
            if let Some(mut s) = (*form).clone() {
                s.schedule_minutes = select_value(&e).parse().ok();
                form.set(Some(s));
            }
        })
    };
    // A schedule the server holds but this menu does not offer stays selectable as it is.
    let other_schedule = s
        .schedule_minutes
        .filter(|m| !SCHEDULES.iter().any(|(v, _)| *v == Some(*m)));
    let events_on = s.events != EventsWindow::Off;
    let one_way = s.direction != Direction::TwoWay;
    let cancel = props.on_cancel.clone();
    html! {
        <section class="card" role="dialog" aria-modal="true" aria-labelledby="settings-title">
            <h2 id="settings-title">{ t(T::SyncSettings) }</h2>
            <form id="settings-form" {onsubmit}>
                <fieldset>
                    <legend>{ t(T::SyncContacts) }</legend>
                    { radio("contacts", "yes", t(T::Yes), s.contacts, update(|s| s.contacts = true)) }
                    { radio("contacts", "no", t(T::No), !s.contacts, update(|s| s.contacts = false)) }
                </fieldset>
                <fieldset>
                    <legend>{ t(T::SyncTasks) }</legend>
                    { radio("tasks", "yes", t(T::Yes), s.tasks, update(|s| s.tasks = true)) }
                    { radio("tasks", "no", t(T::No), !s.tasks, update(|s| s.tasks = false)) }
                </fieldset>
                <fieldset>
                    <legend>{ t(T::SyncEvents) }</legend>
                    { radio("events", "yes", t(T::Yes), events_on, update(|s| if s.events == EventsWindow::Off { s.events = EventsWindow::All })) }
                    { radio("events", "no", t(T::No), !events_on, update(|s| s.events = EventsWindow::Off)) }
                    if events_on {
                        <div class="field inline">
                            <label for="events-range">{ t(T::WhichEvents) }</label>
                            <select id="events-range" onchange={on_range}>
                                <option value="all" selected={s.events == EventsWindow::All}>{ t(T::AllEvents) }</option>
                                <option value="today" selected={s.events == EventsWindow::Today}>{ t(T::TodaysEvents) }</option>
                                <option value="past_month" selected={s.events == EventsWindow::PastMonth}>{ t(T::PastMonth) }</option>
                            </select>
                        </div>
                    }
                </fieldset>
                <fieldset>
                    <legend>{ t(T::SyncType) }</legend>
                    { radio("sync-type", "one-way", t(T::OneWay), one_way, update(|s| if s.direction == Direction::TwoWay { s.direction = Direction::NotesToCrm })) }
                    { radio("sync-type", "two-way", t(T::TwoWay), !one_way, update(|s| s.direction = Direction::TwoWay)) }
                    if one_way {
                        <div class="field inline">
                            <label for="direction">{ t(T::Direction) }</label>
                            <select id="direction" onchange={on_direction}>
                                <option value="notes_to_crm" selected={s.direction == Direction::NotesToCrm}>{ t(T::NotesToCrm) }</option>
                                <option value="crm_to_notes" selected={s.direction == Direction::CrmToNotes}>{ t(T::CrmToNotes) }</option>
                            </select>
                        </div>
                    }
                </fieldset>
                if s.contacts || s.tasks || events_on {
                    <fieldset id="scope">
                        <legend>{ t(T::WhichRecords) }</legend>
                        <p class="hint">{ t(T::WhichRecordsHint) }</p>
                        if s.contacts {
                            <ScopePicker {lang} module={Module::Contacts} scope={s.scope.contacts.clone()} on_change={on_scope(Module::Contacts)} />
                        }
                        if s.tasks {
                            <ScopePicker {lang} module={Module::Tasks} scope={s.scope.tasks.clone()} on_change={on_scope(Module::Tasks)} />
                        }
                        if events_on {
                            <ScopePicker {lang} module={Module::Events} scope={s.scope.events.clone()} on_change={on_scope(Module::Events)} />
                        }
                    </fieldset>
                }
                if !one_way {
                    <fieldset id="conflict">
                        <legend>{ t(T::ConflictBehavior) }</legend>
                        { radio("conflict", "crm", t(T::CrmWins), s.conflict == ConflictPolicy::CrmWins, update(|s| s.conflict = ConflictPolicy::CrmWins)) }
                        { radio("conflict", "notes", t(T::NotesWins), s.conflict == ConflictPolicy::NotesWins, update(|s| s.conflict = ConflictPolicy::NotesWins)) }
                    </fieldset>
                }
                <div class="field">
                    <label for="schedule">{ t(T::SyncSchedule) }</label>
                    <select id="schedule" onchange={on_schedule} aria-describedby="schedule-hint">
                        { for SCHEDULES.iter().map(|(v, label)| html! {
                            <option value={v.map(|m| m.to_string()).unwrap_or_default()}
                                selected={s.schedule_minutes == *v}>{ t(*label) }</option>
                        }) }
                        if let Some(m) = other_schedule {
                            <option value={m.to_string()} selected=true>{ crate::pages::users::schedule_text(lang, Some(m)) }</option>
                        }
                    </select>
                    <small id="schedule-hint" class="muted">{ t(T::ScheduleHint) }</small>
                </div>
                if let Some(e) = &*error { <ErrorBox {lang} error={e.clone()} /> }
                <div class="actions">
                    <button id="settings-save" type="submit" class="primary" disabled={*busy}>{ t(T::Save) }</button>
                    <button id="settings-cancel" type="button" onclick={Callback::from(move |_| cancel.emit(()))}>{ t(T::Cancel) }</button>
                </div>
            </form>
        </section>
    }
}
