//! Start Sync: the settings dialog, then (before the first sync and after a settings change) a
//! preview — the engine's dry run — then the sync itself with a progress bar per module,
//! cancellable.

use std::cell::Cell;
use std::rc::Rc;

use sync_core::RunReport;
use yew::prelude::*;

use super::settings::SettingsDialog;
use crate::api::ApiError;
use crate::components::{ErrorBox, ReportView, module_name};
use crate::driver::{self, ModuleProgress, ModuleState, RunEnd};
use crate::i18n::{Lang, T};

/// Where the flow starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The Start Sync button: settings, (preview), sync.
    StartSync,
    /// Settings → Sync Settings: settings, and a preview when they changed.
    Settings,
}

/// Properties of [`SyncFlow`].
#[derive(Properties, PartialEq)]
pub struct SyncFlowProps {
    /// UI language.
    pub lang: Lang,
    /// Where the flow starts.
    pub entry: Entry,
    /// No sync has completed yet (a preview comes first).
    pub first: bool,
    /// The flow is over; the id of the run to show on the dashboard, if one ran.
    pub on_done: Callback<Option<i64>>,
}

#[derive(Clone, PartialEq)]
enum Step {
    Settings,
    Previewing,
    Preview(Box<RunReport>),
    Running,
    Finished(Box<RunReport>, i64),
    Cancelled,
    Failed(ApiError),
}

fn progress_rows(lang: Lang, rows: &[ModuleProgress]) -> Html {
    let t = |k| lang.t(k);
    html! {
        <ul class="progress-list">
        { for rows.iter().map(|r| {
            let key = r.module.crm_api_name().to_lowercase();
            let name = module_name(lang, r.module);
            let state = match &r.state {
                ModuleState::Waiting => t(T::Waiting).to_owned(),
                ModuleState::Running(phase) => match phase.as_str() {
                    "setup" | "starting" => t(T::PhaseSetup).to_owned(),
                    "listing" => t(T::PhaseListing).to_owned(),
                    "reading" => t(T::PhaseReading).to_owned(),
                    "writing" => t(T::PhaseWriting).to_owned(),
                    "linking" => t(T::PhaseLinking).to_owned(),
                    other => other.to_owned(),
                },
                ModuleState::Done => t(T::Done).to_owned(),
            };
            let counts = r.counts.map(|c| format!(
                " — {} {}, {} {}, {} {}, {} {}, {} {}",
                t(T::Created), c.created, t(T::Updated), c.updated, t(T::Deleted), c.deleted,
                t(T::Conflicts), c.conflicts, t(T::Errors), c.errors,
            ));
            html! {
                <li class="module-progress" data-module={key.clone()} data-state={match r.state { ModuleState::Done => "done", ModuleState::Waiting => "waiting", ModuleState::Running(_) => "running" }}>
                    <label for={format!("progress-{key}")}>{ name }</label>
                    <progress id={format!("progress-{key}")} max="100" value={r.percent().to_string()}></progress>
                    <span class="muted">
                        { format!("{state} · {} {} · {}/{} {}", r.records_read, t(T::RecordsRead), r.requests_done, r.requests_known, t(T::Requests)) }
                        { counts.unwrap_or_default() }
                    </span>
                </li>
            }
        }) }
        </ul>
    }
}

/// The Start Sync flow.
#[component(SyncFlow)]
pub fn sync_flow(props: &SyncFlowProps) -> Html {
    let lang = props.lang;
    let t = |k| lang.t(k);
    let step = use_state(|| Step::Settings);
    let rows = use_state(Vec::<ModuleProgress>::new);
    let cancel = use_mut_ref(|| Rc::new(Cell::new(false)));

    let start = {
        let (step, rows, cancel) = (step.clone(), rows.clone(), cancel.clone());
        Callback::from(move |dry_run: bool| {
            let flag = Rc::new(Cell::new(false));
            *cancel.borrow_mut() = flag.clone();
            step.set(if dry_run {
                Step::Previewing
            } else {
                Step::Running
            });
            rows.set(Vec::new());
            let (step, rows) = (step.clone(), rows.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let r = driver::run(dry_run, flag, |p| rows.set(p)).await;
                step.set(match r {
                    Ok(RunEnd::Finished(report, _)) if dry_run => Step::Preview(report),
                    Ok(RunEnd::Finished(report, id)) => Step::Finished(report, id),
                    Ok(RunEnd::Cancelled) => Step::Cancelled,
                    Err(e) => Step::Failed(e),
                });
            });
        })
    };
    let done = props.on_done.clone();
    let close = {
        let done = done.clone();
        Callback::from(move |_: MouseEvent| done.emit(None))
    };
    match &*step {
        Step::Settings => {
            let (entry, first, start, done) =
                (props.entry, props.first, start.clone(), done.clone());
            let on_saved = Callback::from(move |changed: bool| match entry {
                Entry::StartSync => start.emit(changed || first),
                Entry::Settings if changed => start.emit(true),
                Entry::Settings => done.emit(None),
            });
            let done = props.on_done.clone();
            html! {
                <SettingsDialog {lang} {on_saved} on_cancel={Callback::from(move |()| done.emit(None))} />
            }
        }
        Step::Previewing | Step::Running => {
            let previewing = *step == Step::Previewing;
            let cancel = cancel.clone();
            let on_cancel = Callback::from(move |_: MouseEvent| cancel.borrow().set(true));
            html! {
                <section class="card" aria-labelledby="sync-title" aria-busy="true">
                    <h2 id="sync-title">{ if previewing { t(T::Preview) } else { t(T::Syncing) } }</h2>
                    <p role="status">{ if previewing { t(T::Previewing) } else { t(T::Syncing) } }</p>
                    { progress_rows(lang, &rows) }
                    <div class="actions">
                        <button id="sync-cancel" type="button" onclick={on_cancel}>{ t(T::Cancel) }</button>
                    </div>
                </section>
            }
        }
        Step::Preview(report) => {
            let start = start.clone();
            html! {
                <section class="card" aria-labelledby="preview-title" id="preview">
                    <h2 id="preview-title">{ t(T::Preview) }</h2>
                    <p>{ t(T::PreviewIntro) }</p>
                    if let Some(e) = &report.error { <p class="error" role="alert">{ e.clone() }</p> }
                    <ReportView {lang} report={(**report).clone()} id="preview-report" />
                    <div class="actions">
                        <button id="sync-now" type="button" class="primary"
                            onclick={Callback::from(move |_| start.emit(false))}>{ t(T::SyncNow) }</button>
                        <button type="button" onclick={close}>{ t(T::Cancel) }</button>
                    </div>
                </section>
            }
        }
        Step::Finished(report, id) => {
            let id = *id;
            html! {
                <section class="card" aria-labelledby="done-title" id="sync-finished">
                    <h2 id="done-title">{ t(T::SyncDone) }</h2>
                    if let Some(e) = &report.error { <p class="error" role="alert">{ e.clone() }</p> }
                    { progress_rows(lang, &rows) }
                    <div class="actions">
                        <button id="to-dashboard" type="button" class="primary"
                            onclick={Callback::from(move |_| done.emit(Some(id)))}>{ t(T::Dashboard) }</button>
                    </div>
                </section>
            }
        }
        Step::Cancelled => html! {
            <section class="card" aria-labelledby="cancelled-title">
                <h2 id="cancelled-title">{ t(T::Cancel) }</h2>
                <p role="status" id="sync-cancelled">{ t(T::SyncCancelled) }</p>
                <div class="actions"><button type="button" class="primary" onclick={close}>{ t(T::Dashboard) }</button></div>
            </section>
        },
        Step::Failed(e) => html! {
            <section class="card" aria-labelledby="failed-title">
                <h2 id="failed-title">{ t(T::SyncFailed) }</h2>
                <ErrorBox error={e.clone()} />
                <div class="actions"><button type="button" class="primary" onclick={close}>{ t(T::Close) }</button></div>
            </section>
        },
    }
}
