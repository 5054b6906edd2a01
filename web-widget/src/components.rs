//! Pieces shared by the screens: error boxes, the run report with expandable rows, times.

use sync_core::plan::Verdict;
use sync_core::report::{ModuleReport, ModuleStatus, ReportEntry};
use sync_core::{Module, RunReport};
use yew::prelude::*;

use crate::api::ApiError;
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

fn status_text(lang: Lang, s: ModuleStatus) -> &'static str {
    lang.t(match s {
        ModuleStatus::Completed => T::Completed,
        ModuleStatus::Failed => T::Failed,
        ModuleStatus::Guarded => T::Guarded,
        ModuleStatus::Off => T::Off,
        ModuleStatus::NotRun => T::NotRun,
    })
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
            <tr class="module-row" data-module={key.to_lowercase()}>
                <th scope="row">{ module_name(lang, m.module) }</th>
                <td>{ status_text(lang, m.status) }</td>
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
