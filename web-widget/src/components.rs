//! Pieces shared by the screens: error boxes, the run report with expandable rows, times.

use sync_core::plan::Verdict;
use sync_core::reason::{Action, Reason};
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
        "server_scheme" => (t(T::ErrServerScheme), None),
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
        "not_drapi" => (t(T::ErrNotDrapi), None),
        "drapi_no_scope" => (t(T::ErrDrapiNoScope), t(T::StepDrapiScope)),
        "drapi_no_access" => (t(T::ErrDrapiNoAccess), t(T::StepDrapiAccess)),
        "drapi_schema" => (t(T::ErrDrapiSchema), t(T::StepDrapiSchema)),
        "drapi_dql_off" => (t(T::ErrDrapiDqlOff), t(T::StepDrapiDql)),
        "drapi_pim_off" => (t(T::ErrDrapiPimOff), t(T::StepDrapiPim)),
        "zoho_refused" => (t(T::ErrZohoRefused), None),
        "zoho_rate_limited" => (t(T::ErrZohoRateLimited), None),
        "zoho_unavailable" => (t(T::ErrZohoUnavailable), None),
        "setup_needed" => (t(T::ErrSetupNeeded), t(T::StepSetupNeeded)),
        "not_crm_admin" => (t(T::ErrNotCrmAdmin), None),
        "other" => (t(T::ErrCheckOther), None),
        _ => (None, None),
    }
}

/// A problem: the headline and the admin step in the user's language, then — folded away,
/// for whoever supports the user — the server's own words, which are English and unchanged.
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
            if let Some(h) = headline { <p class="headline">{ h }</p> }
            if let Some(s) = step { <p class="step">{ s }</p> }
            { technical_details(lang, details) }
        </div>
    }
}

/// The server's own words (English, as the server wrote them), folded away under "Technical
/// details": the user reads the catalogue's text; support can open this.
pub fn technical_details(lang: Lang, details: &str) -> Html {
    if details.trim().is_empty() {
        return html! {};
    }
    html! {
        <details class="details">
            <summary>{ lang.t(T::TechnicalDetails) }</summary>
            <p lang="en" translate="no">{ details.to_owned() }</p>
        </details>
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
        FailureCause::CrmListingLimit if m.module == Module::Events => (
            "crm_listing_limit",
            t(T::WhyCrmEventsTooLarge),
            t(T::StepCrmEventsTooLarge),
        ),
        FailureCause::CrmListingLimit => (
            "crm_listing_limit",
            t(T::WhyCrmViewTooLarge),
            t(T::StepCrmViewTooLarge),
        ),
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

/// A time (ms since the epoch) in the user's locale and time zone (the CRM user's zone when
/// Zoho CRM told it, else the browser's), e.g. "2026/11/25 10:00" or "Nov 25, 2026, 10:00 AM".
#[must_use]
pub fn local_time(ms: i64, lang: Lang) -> String {
    #[allow(clippy::cast_precision_loss)]
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    let options = js_sys::Object::new();
    let set = |k: &str, v: &str| {
        let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
    };
    set("dateStyle", "medium");
    set("timeStyle", "short");
    if let Some(zone) = crate::i18n::time_zone() {
        set("timeZone", &zone);
    }
    let text: String = d.to_locale_string(lang.code(), &options).into();
    if text == "Invalid Date" || text.is_empty() {
        // An unknown zone name: the browser's own zone.
        return d
            .to_locale_string(lang.code(), &wasm_bindgen::JsValue::UNDEFINED)
            .into();
    }
    text
}

/// `text` with every ISO 8601 instant in it (`2026-11-25T08:00:00Z`, with an offset, or a
/// date) written as [`local_time`]: record labels carry the engine's UTC stamps.
#[must_use]
pub fn local_stamps(lang: Lang, text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let digits = |from: usize, n: usize| {
        bytes.len() >= from + n && bytes[from..from + n].iter().all(u8::is_ascii_digit)
    };
    while i < bytes.len() {
        let stamp = digits(i, 4)
            && bytes.get(i + 4) == Some(&b'-')
            && digits(i + 5, 2)
            && bytes.get(i + 7) == Some(&b'-')
            && digits(i + 8, 2)
            && bytes.get(i + 10) == Some(&b'T');
        if stamp {
            let end = text[i..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '+' | '.')))
                .map_or(text.len(), |n| i + n);
            let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&text[i..end]));
            let ms = d.get_time();
            if !ms.is_nan() {
                #[allow(clippy::cast_possible_truncation)]
                out.push_str(&local_time(ms as i64, lang));
                i = end;
                continue;
            }
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// A record's label as the user reads it: times in their zone; in Japanese a contact's name
/// family name first without the comma ("Yamada, Taro <…>" → "Yamada Taro <…>").
#[must_use]
pub fn record_label(lang: Lang, module: Module, label: &str) -> String {
    let label = local_stamps(lang, label);
    if lang == Lang::Ja && module == Module::Contacts {
        let (name, rest) = label
            .find(" <")
            .map_or((label.as_str(), ""), |i| label.split_at(i));
        if let Some((last, first)) = name.split_once(", ") {
            return format!("{last} {first}{rest}");
        }
    }
    label
}

/// A person's name from its parts, family name first in Japanese.
#[must_use]
pub fn person_name(lang: Lang, first: &str, last: &str) -> String {
    let (a, b) = if lang == Lang::Ja {
        (last, first)
    } else {
        (first, last)
    };
    format!("{a} {b}").trim().to_owned()
}

/// What the sync did (or would do) on one side — `create`, `delete`, `update a, b` from the
/// engine — in the user's words, fields by their CRM display labels.
#[must_use]
pub fn action_text(lang: Lang, action: &str) -> String {
    match action {
        "create" => lang.t(T::ActCreate).to_owned(),
        "delete" => lang.t(T::ActDelete).to_owned(),
        other => match other.strip_prefix("update") {
            Some(fields) => {
                let names = field_list(lang, fields.trim().split(", ").filter(|f| !f.is_empty()));
                if names.is_empty() {
                    lang.t(T::ActUpdate).to_owned()
                } else {
                    format!("{}: {names}", lang.t(T::ActUpdate))
                }
            }
            None => other.to_owned(),
        },
    }
}

/// Field names by their CRM display labels, joined as the language joins lists.
#[must_use]
pub fn field_list<'a>(lang: Lang, fields: impl Iterator<Item = &'a str>) -> String {
    let sep = if lang == Lang::Ja { "、" } else { ", " };
    fields
        .map(|f| {
            lang.field_label(f)
                .map_or_else(|| f.to_owned(), str::to_owned)
        })
        .collect::<Vec<_>>()
        .join(sep)
}

/// Properties of [`ErrorBox`].
#[derive(Properties, PartialEq)]
pub struct ErrorBoxProps {
    /// UI language.
    pub lang: Lang,
    /// The error.
    pub error: ApiError,
}

/// The catalogue's text for an error code of the host's API that has no admin step: what
/// went wrong in the user's language.
fn error_text(e: &ApiError) -> T {
    match e.code.as_str() {
        "bad_request" | "unsupported_media_type" | "method_not_allowed" => T::ErrBadRequest,
        "forbidden" | "cross_origin" => T::ErrForbidden,
        "not_found" => T::ErrNotFound,
        "internal" | "report" | "bad_answer" => T::ErrInternal,
        "upstream" => T::ErrUpstream,
        "network" => T::ErrNetwork,
        "not_signed_in" | "sign_in_again" => T::ErrSignedOut,
        "csrf" => T::ErrCsrf,
        "sync_running" => T::ErrSyncRunning,
        "too_many_requests" => T::ErrTooMany,
        "invalid_meeting" => T::ErrInvalidMeeting,
        "licence_limit" => T::ErrLicenceLimit,
        "already_added" => T::ErrAlreadyAdded,
        "not_connected" => T::ErrNotConnected,
        "set_up_to_sync" => T::ErrSetUpToSync,
        "sign_in_failed" => T::ErrSignInFailed,
        "crm_event_not_created" => T::ErrCrmEventNotCreated,
        "no_lease" => T::ErrNoLease,
        "too_large" | "body_timeout" => T::ErrTooLarge,
        "not_added" => T::NotEnabled,
        "not_installed" => T::NotInstalled,
        _ if e.is_unreachable() => T::ErrNetwork,
        _ if e.status == 401 => T::ErrSignedOut,
        _ if e.status == 403 => T::ErrForbidden,
        _ if e.status >= 500 => T::ErrInternal,
        _ => T::ErrGeneric,
    }
}

/// An error from the server in the user's language — with the admin step when its code has
/// one — and the server's own words folded away; announced to screen readers.
pub fn api_error_html(lang: Lang, e: &ApiError) -> Html {
    let (headline, step) = match problem_texts(lang, &e.code, None) {
        (Some(h), step) => (h, step),
        (None, _) => (lang.t(error_text(e)).to_owned(), None),
    };
    problem_box(lang, &e.code, Some(headline), step, &e.message, true)
}

/// An error from the server, announced to screen readers.
#[component(ErrorBox)]
pub fn error_box(props: &ErrorBoxProps) -> Html {
    api_error_html(props.lang, &props.error)
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
        .map(|msg| html! { <div class="module-message">{ technical_details(lang, msg) }</div> });
    // A large run lists the first rows of each kind; the counts cover the rest.
    let omitted = (m.omitted > 0).then(|| {
        let count = m.omitted.to_string();
        html! { <p class="muted omitted">{ lang.tf(T::EntriesOmitted, &[("count", &count)]) }</p> }
    });
    if m.entries.is_empty() && omitted.is_none() {
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
            <tbody>{ for m.entries.iter().map(|e| entry(lang, m.module, e)) }</tbody>
        </table>
        { for omitted }
        </>
    }
}

/// A write in words: the typed action, else the engine's text.
fn action_cell(lang: Lang, typed: Option<&Action>, text: Option<&str>) -> String {
    match (typed, text) {
        (Some(a), _) => crate::reasons::action_words(lang, a),
        (None, Some(t)) => action_text(lang, t),
        (None, None) => String::new(),
    }
}

fn entry(lang: Lang, module: Module, e: &ReportEntry) -> Html {
    let conflicts = (!e.conflicts.is_empty()).then(|| {
        let sep = if lang == Lang::Ja { "、" } else { ", " };
        let fields: Vec<String> = e
            .conflicts
            .iter()
            .map(|c| {
                let side = match c.winner {
                    sync_core::Side::Notes => lang.t(T::InNotes),
                    sync_core::Side::Crm => lang.t(T::InCrm),
                };
                format!(
                    "{} ({side} ✓)",
                    field_list(lang, std::iter::once(c.field.as_str()))
                )
            })
            .collect();
        format!("{}: {}", lang.t(T::Conflicts), fields.join(sep))
    });
    html! {
        <tr class={classes!("entry", e.error.is_some().then_some("failed"))}>
            <td translate="no">{ record_label(lang, module, &e.label) }</td>
            <td>{ verdict_text(lang, e.verdict) }</td>
            <td>{ action_cell(lang, e.notes_action.as_ref(), e.notes.as_deref()) }</td>
            <td>{ action_cell(lang, e.crm_action.as_ref(), e.crm.as_deref()) }</td>
            <td>
                if e.why == Reason::None {
                    // A report stored before reasons were typed: sync-core's English only.
                    { technical_details(lang, &e.reason) }
                } else {
                    <span class="reason">{ crate::reasons::reason_text(lang, &e.why) }</span>
                }
                if let Some(c) = conflicts { <br/><span class="conflicts">{ c }</span> }
                if let Some(err) = &e.error {
                    <p class="error">{ lang.t(T::EntryFailed) }</p>
                    { technical_details(lang, err) }
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
        "drapi_service" => T::CheckDrapiService,
        "drapi_login" => T::CheckDrapiLogin,
        "drapi_scope" => T::CheckDrapiScope,
        "drapi_contacts" => T::CheckDrapiContacts,
        "drapi_tasks" => T::CheckDrapiTasks,
        "drapi_dql" => T::CheckDrapiDql,
        "drapi_calendar" => T::CheckDrapiCalendar,
        "zoho_oauth" => T::CheckZohoOauth,
        "zoho_api" => T::CheckZohoApi,
        other => return other.to_owned(),
    };
    lang.t(key).to_owned()
}

/// A failed readiness check, named: the reason Start Sync is held back. What is wrong and the
/// admin's steps are in the readiness panel, once.
#[must_use]
pub fn check_reason(lang: Lang, c: &ReadinessCheck) -> String {
    format!("{} ({})", check_name(lang, &c.id), lang.t(T::CheckFailed))
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
        Some(Err(e)) => ("error", html! { <ErrorBox {lang} error={e.clone()} /> }),
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
