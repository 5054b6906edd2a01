//! Start Sync: the settings dialog, then a preview — the engine's dry run — whenever the
//! settings changed, before the first sync, and when a readiness check failed since the last
//! sync (an admin has since switched something on: what the sync would now do is new), then
//! the sync itself with a progress bar per module, cancellable.
//! Saved settings are what the engine reads, so a change is saved before its preview; Cancel
//! on that preview puts the previous settings back. Changed settings are checked first (the readiness checks the new settings
//! need); a failed check stops the flow with its reason. A run in which a module failed never
//! reads "completed": each module ends with its own status and, when it failed or did not run,
//! the reason in the user's language; a preview that failed offers no "Sync now".

use std::cell::Cell;
use std::rc::Rc;

use sync_core::RunReport;
use sync_core::report::{ModuleStatus, RunOutcome};
use yew::prelude::*;

use super::settings::SettingsDialog;
use crate::api::{self, ApiError, Readiness, UserSettings};
use crate::components::{ErrorBox, ReportView, module_name, module_why, status_key, status_text};
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
    /// No sync ran yet, or a readiness check failed since the last: a preview comes first.
    pub preview_first: bool,
    /// The flow is over; the id of the run to show on the dashboard, if one ran.
    pub on_done: Callback<Option<i64>>,
    /// The readiness checks ran again (after a settings change).
    #[prop_or_default]
    pub on_readiness: Callback<Result<Readiness, ApiError>>,
    /// A sync (not a preview) ran to its end.
    #[prop_or_default]
    pub on_synced: Callback<()>,
    /// Whether a check, preview or sync is running (Start Sync waits meanwhile).
    #[prop_or_default]
    pub on_busy: Callback<bool>,
}

#[derive(Clone, PartialEq)]
enum Step {
    Settings,
    Checking,
    NotReady,
    Previewing,
    Preview(Box<RunReport>),
    Running,
    Finished(Box<RunReport>, i64),
    Cancelled,
    Failed(ApiError),
    /// The preview of changed settings was cancelled and the previous ones put back.
    Restored,
}

impl Step {
    fn busy(&self) -> bool {
        matches!(self, Self::Checking | Self::Previewing | Self::Running)
    }
}

/// A preview in which a module failed or did not run: a sync would not do what it shows.
fn preview_failed(report: &RunReport) -> bool {
    report.outcome == RunOutcome::Failed || report.failed_modules().next().is_some()
}

fn outcome_key(o: RunOutcome) -> &'static str {
    match o {
        RunOutcome::Completed => "completed",
        RunOutcome::Partial => "partial",
        RunOutcome::Failed => "failed",
    }
}

fn progress_rows(lang: Lang, rows: &[ModuleProgress], report: Option<&RunReport>) -> Html {
    let t = |k| lang.t(k);
    html! {
        <ul class="progress-list">
        { for rows.iter().map(|r| {
            let key = r.module.crm_api_name().to_lowercase();
            let name = module_name(lang, r.module);
            let (state, data_state) = match &r.state {
                ModuleState::Waiting => (t(T::Waiting).to_owned(), "waiting"),
                ModuleState::Running(phase) => (match phase.as_str() {
                    "setup" | "starting" => t(T::PhaseSetup).to_owned(),
                    "listing" => t(T::PhaseListing).to_owned(),
                    "reading" => t(T::PhaseReading).to_owned(),
                    "writing" => t(T::PhaseWriting).to_owned(),
                    "linking" => t(T::PhaseLinking).to_owned(),
                    other => other.to_owned(),
                }, "running"),
                ModuleState::Ended => (t(T::ModuleEnded).to_owned(), "ended"),
                ModuleState::Finished(s) => (status_text(lang, *s).to_owned(), status_key(*s)),
            };
            let failed = matches!(r.state, ModuleState::Finished(s) if s.is_failure());
            let counts = r.counts.filter(|_| !failed).map(|c| format!(
                " — {} {}, {} {}, {} {}, {} {}, {} {}",
                t(T::Created), c.created, t(T::Updated), c.updated, t(T::Deleted), c.deleted,
                t(T::Conflicts), c.conflicts, t(T::Errors), c.errors,
            ));
            let why = report
                .zip(report.and_then(|rep| rep.modules.iter().find(|m| m.module == r.module)))
                .filter(|_| failed)
                .map(|(rep, m)| module_why(lang, rep, m));
            html! {
                <li class={classes!("module-progress", failed.then_some("failed"))} data-module={key.clone()} data-state={data_state}>
                    <label for={format!("progress-{key}")}>{ name }</label>
                    <progress id={format!("progress-{key}")} max="100" value={r.percent().to_string()}></progress>
                    <span class="muted state">
                        <span class="state-text">{ state }</span>
                        { format!(" · {} {} · {}/{} {}", r.records_read, t(T::RecordsRead), r.requests_done, r.requests_known, t(T::Requests)) }
                        { counts.unwrap_or_default() }
                    </span>
                    { for why }
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
    // The settings before this flow changed them: a cancelled preview puts them back.
    let previous = use_state(|| None::<UserSettings>);
    {
        let on_busy = props.on_busy.clone();
        use_effect_with(step.busy(), move |busy| {
            on_busy.emit(*busy);
            let on_busy = on_busy.clone();
            move || on_busy.emit(false)
        });
    }

    let start = {
        let (step, rows, cancel) = (step.clone(), rows.clone(), cancel.clone());
        let on_readiness = props.on_readiness.clone();
        let on_synced = props.on_synced.clone();
        Callback::from(move |dry_run: bool| {
            let flag = Rc::new(Cell::new(false));
            *cancel.borrow_mut() = flag.clone();
            step.set(if dry_run {
                Step::Previewing
            } else {
                Step::Running
            });
            rows.set(Vec::new());
            let (step, rows, on_readiness, on_synced) = (
                step.clone(),
                rows.clone(),
                on_readiness.clone(),
                on_synced.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let r = driver::run(dry_run, flag, |p| rows.set(p)).await;
                if !dry_run && matches!(r, Ok(RunEnd::Finished(..))) {
                    on_synced.emit(());
                }
                // A module failed: check the servers again, so a service switched off since the
                // last check shows in the readiness panel and holds Start Sync back.
                if let Ok(RunEnd::Finished(report, _)) = &r
                    && report.failed_modules().next().is_some()
                {
                    on_readiness.emit(api::get::<Readiness>("/api/readiness").await);
                }
                step.set(match r {
                    Ok(RunEnd::Finished(report, _)) if dry_run => Step::Preview(report),
                    Ok(RunEnd::Finished(report, id)) => Step::Finished(report, id),
                    Ok(RunEnd::Cancelled) => Step::Cancelled,
                    Err(e) => Step::Failed(e),
                });
            });
        })
    };
    // New settings may need services the old ones did not: check them before anything runs.
    let check_then_start = {
        let (step, start, on_readiness) = (step.clone(), start.clone(), props.on_readiness.clone());
        Callback::from(move |dry_run: bool| {
            step.set(Step::Checking);
            let (step, start, on_readiness) = (step.clone(), start.clone(), on_readiness.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::get::<Readiness>("/api/readiness").await;
                on_readiness.emit(r.clone());
                match r {
                    Ok(r) if r.ready => start.emit(dry_run),
                    Ok(_) => step.set(Step::NotReady),
                    Err(e) => step.set(Step::Failed(e)),
                }
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
            let (entry, preview_first, start, check, done, previous) = (
                props.entry,
                props.preview_first,
                start.clone(),
                check_then_start.clone(),
                done.clone(),
                previous.clone(),
            );
            let on_saved = Callback::from(move |before: Option<UserSettings>| {
                let changed = before.is_some();
                previous.set(before);
                match entry {
                    // New settings may need services the old ones did not: checked, then
                    // previewed.
                    _ if changed => check.emit(true),
                    Entry::StartSync => start.emit(preview_first),
                    Entry::Settings => done.emit(None),
                }
            });
            let done = props.on_done.clone();
            html! {
                <SettingsDialog {lang} {on_saved} on_cancel={Callback::from(move |()| done.emit(None))} />
            }
        }
        Step::Checking => html! {
            <section class="card" aria-labelledby="sync-title" aria-busy="true" id="sync-checking">
                <h2 id="sync-title">{ t(T::ReadinessTitle) }</h2>
                <p role="status">{ t(T::ReadinessChecking) }</p>
            </section>
        },
        Step::NotReady => html! {
            <section class="card" aria-labelledby="not-ready-title" id="sync-not-ready">
                <h2 id="not-ready-title">{ t(T::ReadinessTitle) }</h2>
                <p class="error" role="alert">{ t(T::ReadinessNotReady) }</p>
                <div class="actions"><button type="button" class="primary" onclick={close}>{ t(T::Close) }</button></div>
            </section>
        },
        Step::Previewing | Step::Running => {
            let previewing = *step == Step::Previewing;
            let cancel = cancel.clone();
            let on_cancel = Callback::from(move |_: MouseEvent| cancel.borrow().set(true));
            html! {
                <section class="card" aria-labelledby="sync-title" aria-busy="true">
                    <h2 id="sync-title">{ if previewing { t(T::Preview) } else { t(T::Syncing) } }</h2>
                    <p role="status">{ if previewing { t(T::PreviewReading) } else { t(T::SyncWriting) } }</p>
                    { progress_rows(lang, &rows, None) }
                    <div class="actions">
                        <button id="sync-cancel" type="button" onclick={on_cancel}>{ t(T::Cancel) }</button>
                    </div>
                </section>
            }
        }
        Step::Preview(report) => {
            let start = start.clone();
            let failed = preview_failed(report);
            // Not now: changed settings go back to what they were, so nothing unpreviewed runs
            // later (by hand or on schedule).
            let close = match (*previous).clone() {
                Some(old) => {
                    let (step, previous) = (step.clone(), previous.clone());
                    Callback::from(move |_: MouseEvent| {
                        let (step, previous, old) = (step.clone(), previous.clone(), old.clone());
                        wasm_bindgen_futures::spawn_local(async move {
                            let body = serde_json::to_value(&old).unwrap_or_default();
                            let r: Result<serde_json::Value, ApiError> =
                                api::call(api::Method::Put, "/api/settings", Some(&body), &[])
                                    .await;
                            previous.set(None);
                            step.set(match r {
                                Ok(_) => Step::Restored,
                                Err(e) => Step::Failed(e),
                            });
                        });
                    })
                }
                None => close,
            };
            html! {
                <section class="card" aria-labelledby="preview-title" id="preview"
                    data-outcome={outcome_key(report.outcome)}>
                    <h2 id="preview-title">{ t(T::Preview) }</h2>
                    if failed {
                        <p class="error" role="alert" id="preview-failed">{ t(T::PreviewFailed) }</p>
                    } else {
                        <p>{ t(T::PreviewIntro) }</p>
                    }
                    if let Some(e) = &report.error { { crate::components::technical_details(lang, e) } }
                    <ReportView {lang} report={(**report).clone()} id="preview-report" />
                    <div class="actions">
                        if !failed {
                            <button id="sync-now" type="button" class="primary"
                                onclick={Callback::from(move |_| start.emit(false))}>{ t(T::SyncNow) }</button>
                        }
                        <button id="preview-close" type="button" class={classes!(failed.then_some("primary"))}
                            onclick={close}>{ if failed { t(T::Close) } else { t(T::Cancel) } }</button>
                    </div>
                </section>
            }
        }
        Step::Restored => html! {
            <section class="card" aria-labelledby="restored-title" id="settings-restored">
                <h2 id="restored-title">{ t(T::SyncSettings) }</h2>
                <p role="status">{ t(T::SettingsRestored) }</p>
                <div class="actions"><button type="button" class="primary" onclick={close}>{ t(T::Dashboard) }</button></div>
            </section>
        },
        Step::Finished(report, id) => {
            let id = *id;
            let title = match report.outcome {
                RunOutcome::Completed => T::SyncCompleted,
                RunOutcome::Partial => T::SyncIncomplete,
                RunOutcome::Failed => T::SyncFailedAll,
            };
            let completed = report.outcome == RunOutcome::Completed
                && report
                    .modules
                    .iter()
                    .all(|m| matches!(m.status, ModuleStatus::Completed | ModuleStatus::Off));
            html! {
                <section class="card" aria-labelledby="done-title" id="sync-finished"
                    data-outcome={outcome_key(report.outcome)}>
                    <h2 id="done-title" class={classes!((!completed).then_some("error"))}>{ t(title) }</h2>
                    if let Some(e) = &report.error { { crate::components::technical_details(lang, e) } }
                    { progress_rows(lang, &rows, Some(report)) }
                    <div class="actions">
                        <button id="to-dashboard" type="button" class="primary"
                            onclick={Callback::from(move |_| done.emit(Some(id)))}>{ t(T::Dashboard) }</button>
                    </div>
                </section>
            }
        }
        Step::Cancelled => html! {
            <section class="card" aria-labelledby="cancelled-title">
                <h2 id="cancelled-title">{ t(T::CancelledTitle) }</h2>
                <p role="status" id="sync-cancelled">{ t(T::SyncCancelled) }</p>
                <div class="actions"><button type="button" class="primary" onclick={close}>{ t(T::Dashboard) }</button></div>
            </section>
        },
        Step::Failed(e) => html! {
            <section class="card" aria-labelledby="failed-title">
                <h2 id="failed-title">{ t(T::SyncFailed) }</h2>
                <ErrorBox {lang} error={e.clone()} />
                <div class="actions"><button type="button" class="primary" onclick={close}>{ t(T::Close) }</button></div>
            </section>
        },
    }
}
