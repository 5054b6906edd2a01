//! Pieces shared by the screens: error boxes, the run report with expandable rows, times.

use sync_core::plan::Verdict;
use sync_core::report::{FailureCause, ModuleReport, ModuleStatus, ReportEntry};
use sync_core::{Module, RunReport};
use yew::prelude::*;

use crate::api::{ApiError, Readiness, ReadinessCheck};
use crate::i18n::{Lang, T};

/// A module's name.
#[must_use]
pub fn module_name(lang: Lang, m: Module) -> &'static str {
    lang.t(match m {
        Module::Contacts => T::Contacts,
        Module::Tasks => T::Tasks,
        Module::Events => T::Events,
    })
}

/// A run or module outcome in words.
#[must_use]
pub fn outcome_text(lang: Lang, outcome: &str) -> &'static str {
    lang.t(match outcome {
        "completed" => T::Completed,
        "partial" => T::Partial,
        "guarded" => T::Guarded,
        "off" => T::Off,
        _ => T::Failed,
    })
}

/// A module's status in words.
#[must_use]
pub fn status_text(lang: Lang, s: ModuleStatus) -> &'static str {
    lang.t(match s {
        ModuleStatus::Completed => T::Completed,
        ModuleStatus::Failed => T::Failed,
        ModuleStatus::Guarded => T::Guarded,
        ModuleStatus::Off => T::Off,
        ModuleStatus::NotRun => T::NotRun,
    })
}

/// A module's status as the DOM names it (`data-state`, `data-status`).
#[must_use]
pub fn status_key(s: ModuleStatus) -> &'static str {
    match s {
        ModuleStatus::Completed => "completed",
        ModuleStatus::Failed => "failed",
        ModuleStatus::Guarded => "guarded",
        ModuleStatus::Off => "off",
        ModuleStatus::NotRun => "not_run",
    }
}

/// A run's outcome in words, followed by the modules that failed or did not run.
#[must_use]
pub fn outcome_with_failures(lang: Lang, outcome: &str, failed: &[Module]) -> String {
    let mut text = outcome_text(lang, outcome).to_owned();
    if !failed.is_empty() {
        let names: Vec<&str> = failed.iter().map(|m| module_name(lang, *m)).collect();
        let sep = if lang == Lang::Ja { "、" } else { ", " };
        text.push_str(&format!(
            " — {}: {}",
            lang.t(T::FailedModules),
            names.join(sep)
        ));
    }
    text
}

/// The headline and the admin step for a problem code of Connect or of a readiness check, in
/// the user's language; `target` is the view a view check looked at.
#[must_use]
pub fn problem_texts(
    lang: Lang,
    code: &str,
    target: Option<&str>,
) -> (Option<String>, Option<String>) {
    let t = |k| Some(lang.t(k).to_owned());
    let view = |k| target.map(|v| lang.tf(k, &[("view", v)]));
    match code {
        "wrong_password" => (t(T::ErrWrongPassword), None),
        "unreachable" | "network" => (t(T::ErrUnreachable), None),
        "not_domino" => (t(T::ErrNotDomino), None),
        "cannot_use_server" => (t(T::ErrCannotUseServer), None),
        "no_mail_file" => (t(T::ErrNoMailFile), None),
        "das_off_server" => (t(T::ErrDasServer), t(T::StepDasServer)),
        "das_off_database" => (t(T::ErrDasDatabase), t(T::StepDasDatabase)),
        "das_views_only" => (t(T::ErrDasViewsOnly), t(T::StepDasDatabase)),
        "das_off_view" => (
            view(T::ErrDasViewNamed).or_else(|| t(T::ErrDasView)),
            view(T::StepDasViewNamed).or_else(|| t(T::StepDasView)),
        ),
        "no_view" => (view(T::ErrNoView), None),
        "calendar_off" => (t(T::ErrCalendarOff), t(T::StepCalendarService)),
        "zoho_refused" => (t(T::ErrZohoRefused), None),
        "zoho_rate_limited" => (t(T::ErrZohoRateLimited), None),
        "zoho_unavailable" => (t(T::ErrZohoUnavailable), None),
        "setup_needed" => (t(T::ErrSetupNeeded), t(T::StepSetupNeeded)),
        "not_crm_admin" => (t(T::ErrNotCrmAdmin), None),
        "other" => (t(T::ErrCheckOther), None),
        _ => (None, None),
    }
}

/// A problem: the headline and the admin step in the user's language, then the server's own
/// words.
pub fn problem_box(
    lang: Lang,
    code: &str,
    headline: Option<String>,
    step: Option<String>,
    details: &str,
    alert: bool,
) -> Html {
    html! {
        <div class="error" role={alert.then_some("alert")} data-code={code.to_owned()}>
            if let Some(h) = headline.clone() { <p class="headline">{ h }</p> }
            if let Some(s) = step { <p class="step">{ s }</p> }
            if !details.is_empty() {
                <p class="details">
                    if headline.is_some() { { lang.t(T::ServerDetails) }{ " " } }
                    { details.to_owned() }
                </p>
            }
        </div>
    }
}

/// The view a DAS message names (`… for this view [($ToDo)].`).
fn view_in(message: &str) -> Option<&str> {
    let rest = &message[message.find("this view [")? + "this view [".len()..];
    Some(&rest[..rest.find(']')?])
}

/// Why a module failed or did not run, in the user's language, with the admin step and the
/// server's words; nothing for a module that did not fail.
pub fn module_why(lang: Lang, report: &RunReport, m: &ModuleReport) -> Html {
    let Some(cause) = m.failure_cause() else {
        return html! {};
    };
    let message = m.message.clone().unwrap_or_default();
    let t = |k| Some(lang.t(k).to_owned());
    let (code, headline, step) = match cause {
        FailureCause::DasServer => ("das_server", t(T::ErrDasServer), t(T::StepDasServer)),
        FailureCause::DasDatabase => ("das_database", t(T::ErrDasDatabase), t(T::StepDasDatabase)),
        FailureCause::DasView => match view_in(&message) {
            Some(v) => (
                "das_view",
                Some(lang.tf(T::ErrDasViewNamed, &[("view", v)])),
                Some(lang.tf(T::StepDasViewNamed, &[("view", v)])),
            ),
            None => ("das_view", t(T::ErrDasView), t(T::StepDasView)),
        },
        FailureCause::NotesLogin => ("notes_login", t(T::WhyNotesLogin), None),
        FailureCause::CrmLogin => ("crm_login", t(T::ErrZohoRefused), None),
        FailureCause::Unreachable => ("unreachable", t(T::WhyUnreachable), None),
        FailureCause::RunStopped => {
            let at = report
                .modules
                .iter()
                .find(|x| x.status == ModuleStatus::Failed)
                .map_or("", |x| module_name(lang, x.module));
            (
                "run_stopped",
                Some(lang.tf(T::WhyRunStopped, &[("module", at)])),
                None,
            )
        }
        FailureCause::Other => ("other", t(T::WhyOther), None),
    };
    // A module that did not run repeats nothing of the failure: the failed module shows it.
    let details = if cause == FailureCause::RunStopped {
        ""
    } else {
        message.as_str()
    };
    html! {
        <div class="why" data-module={m.module.crm_api_name().to_lowercase()} data-cause={code}>
            { problem_box(lang, code, headline, step, details, false) }
        </div>
    }
}

fn verdict_text(lang: Lang, v: Verdict) -> &'static str {
    lang.t(match v {
        Verdict::Created => T::Created,
        Verdict::Deleted => T::Deleted,
        Verdict::Updated | Verdict::InStep => T::Updated,
        Verdict::Linked => T::Linked,
        Verdict::Skipped => T::Skipped,
        Verdict::Unlinked => T::Unlinked,
    })
}

/// A time (ms since the epoch) in the browser's locale and zone.
#[must_use]
pub fn local_time(ms: i64, lang: Lang) -> String {
    #[allow(clippy::cast_precision_loss)]
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    d.to_locale_string(lang.code(), &wasm_bindgen::JsValue::UNDEFINED)
        .into()
}

/// Properties of [`ErrorBox`].
#[derive(Properties, PartialEq)]
pub struct ErrorBoxProps {
    /// The error.
    pub error: ApiError,
}

/// An error from the server in the user's language when its code has a text (with the admin
/// step and the server's own words), else the server's message; announced to screen readers.
pub fn api_error_html(lang: Lang, e: &ApiError) -> Html {
    match problem_texts(lang, &e.code, None) {
        (Some(headline), step) => {
            problem_box(lang, &e.code, Some(headline), step, &e.message, true)
        }
        (None, _) => html! { <ErrorBox error={e.clone()} /> },
    }
}

/// An error from the server, announced to screen readers.
#[component(ErrorBox)]
pub fn error_box(props: &ErrorBoxProps) -> Html {
    html! { <p class="error" role="alert">{ props.error.message.clone() }</p> }
}

/// Properties of [`ReportView`].
#[derive(Properties, PartialEq)]
pub struct ReportViewProps {
    /// UI language.
    pub lang: Lang,
    /// The report.
    pub report: RunReport,
    /// Prefix for element ids (several reports can be on one page).
    #[prop_or(AttrValue::Static("report"))]
    pub id: AttrValue,
}

/// Per module: created, updated, deleted, skipped, conflicts, errors; each row expands to its
/// records and the reason for each.
#[component(ReportView)]
pub fn report_view(props: &ReportViewProps) -> Html {
    let lang = props.lang;
    let open = use_state(Vec::<Module>::new);
    let t = |k| lang.t(k);
    let rows = props.report.modules.iter().map(|m| {
        let is_open = open.contains(&m.module);
        let toggle = {
            let open = open.clone();
            let module = m.module;
            Callback::from(move |_| {
                let mut v = (*open).clone();
                if let Some(i) = v.iter().position(|x| *x == module) {
                    v.remove(i);
                } else {
                    v.push(module);
                }
                open.set(v);
            })
        };
        let key = m.module.crm_api_name().to_owned();
        let detail_id = format!("{}-{}-records", props.id, key.to_lowercase());
        let c = m.counts;
        html! {
            <>
            <tr class="module-row" data-module={key.to_lowercase()} data-status={status_key(m.status)}>
                <th scope="row">{ module_name(lang, m.module) }</th>
                <td class="status">{ status_text(lang, m.status) }</td>
                <td class="num" data-count="created">{ c.created }</td>
                <td class="num" data-count="updated">{ c.updated }</td>
                <td class="num" data-count="deleted">{ c.deleted }</td>
                <td class="num" data-count="skipped">{ c.skipped }</td>
                <td class="num" data-count="conflicts">{ c.conflicts }</td>
                <td class="num" data-count="errors">{ c.errors }</td>
                <td>
                    <button type="button" class="link" aria-expanded={is_open.to_string()}
                        aria-controls={detail_id.clone()} onclick={toggle}>
                        { if is_open { t(T::HideRecords) } else { t(T::ShowRecords) } }
                    </button>
                </td>
            </tr>
            if m.status.is_failure() {
                <tr class="module-why" data-module={key.to_lowercase()}>
                    <td colspan="9">{ module_why(lang, &props.report, m) }</td>
                </tr>
            }
            if is_open {
                <tr class="records" id={detail_id}>
                    <td colspan="9">{ entries(lang, m) }</td>
                </tr>
            }
            </>
        }
    });
    html! {
        <div class="table-wrap">
        <table class="report">
            <thead><tr>
                <th scope="col">{ t(T::Module) }</th>
                <th scope="col">{ t(T::Status) }</th>
                <th scope="col">{ t(T::Created) }</th>
                <th scope="col">{ t(T::Updated) }</th>
                <th scope="col">{ t(T::Deleted) }</th>
                <th scope="col">{ t(T::Skipped) }</th>
                <th scope="col">{ t(T::Conflicts) }</th>
                <th scope="col">{ t(T::Errors) }</th>
                <th scope="col"><span class="sr-only">{ t(T::Details) }</span></th>
            </tr></thead>
            <tbody>{ for rows }</tbody>
        </table>
        </div>
    }
}

fn entries(lang: Lang, m: &ModuleReport) -> Html {
    let t = |k| lang.t(k);
    let message = m
        .message
        .as_ref()
        .map(|msg| html! { <p class="module-message">{ msg.clone() }</p> });
    if m.entries.is_empty() {
        return html! { <>{ for message }<p class="muted">{ t(T::NoRecords) }</p></> };
    }
    html! {
        <>
        { for message }
        <table class="entries">
            <thead><tr>
                <th scope="col">{ t(T::Record) }</th>
                <th scope="col">{ t(T::Action) }</th>
                <th scope="col">{ t(T::InNotes) }</th>
                <th scope="col">{ t(T::InCrm) }</th>
                <th scope="col">{ t(T::Reason) }</th>
            </tr></thead>
            <tbody>{ for m.entries.iter().map(|e| entry(lang, e)) }</tbody>
        </table>
        </>
    }
}

fn entry(lang: Lang, e: &ReportEntry) -> Html {
    let mut reason = e.reason.clone();
    if !e.conflicts.is_empty() {
        let fields: Vec<String> = e
            .conflicts
            .iter()
            .map(|c| format!("{} ({} ✓)", c.field, c.winner))
            .collect();
        reason.push_str(&format!(
            " [{}: {}]",
            lang.t(T::Conflicts),
            fields.join(", ")
        ));
    }
    html! {
        <tr class={classes!("entry", e.error.is_some().then_some("failed"))}>
            <td>{ e.label.clone() }</td>
            <td>{ verdict_text(lang, e.verdict) }</td>
            <td>{ e.notes.clone().unwrap_or_default() }</td>
            <td>{ e.crm.clone().unwrap_or_default() }</td>
            <td>
                { reason }
                if let Some(err) = &e.error {
                    <br/><span class="error">{ err.clone() }</span>
                }
            </td>
        </tr>
    }
}

fn check_name(lang: Lang, id: &str) -> String {
    let key = match id {
        "domino_server" => T::CheckDominoServer,
        "data_service" => T::CheckDataService,
        "mail_file" => T::CheckMailFile,
        "contacts_view" => T::CheckContactsView,
        "todo_view" => T::CheckTodoView,
        "calendar_service" => T::CheckCalendar,
        "zoho_oauth" => T::CheckZohoOauth,
        "zoho_api" => T::CheckZohoApi,
        other => return other.to_owned(),
    };
    lang.t(key).to_owned()
}

/// A readiness check's name and, for a failure, its headline: the reason Start Sync is held
/// back.
#[must_use]
pub fn check_reason(lang: Lang, c: &ReadinessCheck) -> String {
    let name = check_name(lang, &c.id);
    let code = c.code.as_deref().unwrap_or("other");
    match problem_texts(lang, code, c.target.as_deref()).0 {
        // The headline leads into the admin's steps (": …"), which the panel shows.
        Some(h) => format!("{name}: {}", h.trim_end_matches([':', '：'])),
        None => format!("{name}: {}", c.detail),
    }
}

/// Properties of [`ReadinessPanel`].
#[derive(Properties, PartialEq)]
pub struct ReadinessProps {
    /// UI language.
    pub lang: Lang,
    /// The checks (`None` while they run).
    pub readiness: Option<Result<Readiness, ApiError>>,
    /// Run the checks again.
    pub on_recheck: Callback<()>,
    /// Hide the panel (offered once every check passed).
    pub on_close: Callback<()>,
}

/// The readiness panel (F2): every check the settings need, each failure with its reason and
/// the admin step in the user's language.
#[component(ReadinessPanel)]
pub fn readiness_panel(props: &ReadinessProps) -> Html {
    let lang = props.lang;
    let t = |k| lang.t(k);
    let recheck = {
        let cb = props.on_recheck.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let close = {
        let cb = props.on_close.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let (state, body) = match &props.readiness {
        None => (
            "checking",
            html! { <p role="status">{ t(T::ReadinessChecking) }</p> },
        ),
        Some(Err(e)) => ("error", html! { <ErrorBox error={e.clone()} /> }),
        Some(Ok(r)) => {
            let rows = r.checks.iter().map(|c| {
                let (mark, word) = match c.status.as_str() {
                    "ok" => ("✓", t(T::CheckOk)),
                    "failed" => ("✗", t(T::CheckFailed)),
                    "not_needed" => ("–", t(T::CheckNotNeeded)),
                    _ => ("–", t(T::CheckNotChecked)),
                };
                let failed = c.status == "failed";
                let code = c.code.clone().unwrap_or_else(|| "other".into());
                html! {
                    <li class={classes!("check", failed.then_some("failed"))} data-check={c.id.clone()}
                        data-status={c.status.clone()} data-code={c.code.clone()}>
                        <span class="mark" aria-hidden="true">{ mark }</span>{ " " }
                        <strong>{ check_name(lang, &c.id) }</strong>{ " — " }{ word }
                        if failed {
                            {{
                                let (headline, step) = problem_texts(lang, &code, c.target.as_deref());
                                problem_box(lang, &code, headline, step, &c.detail, false)
                            }}
                        }
                    </li>
                }
            });
            (
                if r.ready { "ready" } else { "not_ready" },
                html! {
                    <>
                    <p role="status">{ if r.ready { t(T::ReadinessReady) } else { t(T::ReadinessNotReady) } }</p>
                    <ul class="checks">{ for rows }</ul>
                    </>
                },
            )
        }
    };
    let ready = state == "ready";
    html! {
        <section class="card readiness" id="readiness" aria-labelledby="readiness-title" data-state={state}>
            <h2 id="readiness-title">{ t(T::ReadinessTitle) }</h2>
            { body }
            <div class="actions">
                <button id="readiness-recheck" type="button" onclick={recheck}
                    disabled={state == "checking"}>{ t(T::Recheck) }</button>
                if ready {
                    <button id="readiness-close" type="button" onclick={close}>{ t(T::Close) }</button>
                }
            </div>
        </section>
    }
}
