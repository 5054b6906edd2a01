//! The dashboard (F4, B6): the last sync's details per module, each row expandable to its
//! records and reasons, and for a module that failed or did not run, why; the history of syncs
//! and, apart from it, of previews (each numbered on its own: the first sync is "Sync #1"); a
//! chart of records synced per sync.

use sync_core::RunReport;
use yew::prelude::*;

use crate::api::{self, ApiError, RunSummary, Runs};
use crate::components::{ErrorBox, ReportView, local_time, outcome_with_failures};
use crate::i18n::{Lang, T};

/// Properties of [`Dashboard`].
#[derive(Properties, PartialEq)]
pub struct DashboardProps {
    /// UI language.
    pub lang: Lang,
    /// The run to show first (the one just finished), else the newest sync.
    #[prop_or_default]
    pub focus: Option<i64>,
    /// Told whether any sync (not preview) has run.
    #[prop_or_default]
    pub on_history: Callback<bool>,
}

/// Bars of records synced per sync, oldest left, as inline SVG.
fn chart(lang: Lang, runs: &[RunSummary]) -> Html {
    let mut real: Vec<&RunSummary> = runs.iter().filter(|r| !r.dry_run).take(20).collect();
    real.reverse();
    if real.is_empty() {
        return html! {};
    }
    let values: Vec<u32> = real
        .iter()
        .map(|r| r.totals.as_ref().map_or(0, |t| t.synced))
        .collect();
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let (w, h, bar) = (600u32, 160u32, 24u32);
    let step = (w - 20) / u32::try_from(real.len()).unwrap_or(1).max(1);
    let label = lang.t(T::ChartTitle);
    html! {
        <figure class="chart">
            <figcaption id="chart-title">{ label }</figcaption>
            <svg id="runs-chart" viewBox={format!("0 0 {w} {}", h + 20)} role="img" aria-labelledby="chart-title"
                preserveAspectRatio="xMinYMin meet">
                <line x1="10" y1={h.to_string()} x2={(w - 10).to_string()} y2={h.to_string()} class="axis" />
                { for real.iter().zip(&values).enumerate().map(|(i, (r, v))| {
                    let i = u32::try_from(i).unwrap_or(0);
                    let bh = (v * (h - 30) / max).max(1);
                    let x = 10 + i * step + step.saturating_sub(bar) / 2;
                    let y = h - bh;
                    let when = local_time(r.started, lang);
                    html! {
                        <g class="bar" data-run={r.id.to_string()} data-synced={v.to_string()}>
                            <title>{ format!("{when}: {v}") }</title>
                            <rect x={x.to_string()} y={y.to_string()} width={bar.to_string()} height={bh.to_string()} />
                            <text x={(x + bar / 2).to_string()} y={(y - 4).to_string()} text-anchor="middle">{ v }</text>
                            <text x={(x + bar / 2).to_string()} y={(h + 14).to_string()} text-anchor="middle" class="muted">{ format!("#{}", r.number) }</text>
                        </g>
                    }
                }) }
            </svg>
        </figure>
    }
}

/// The dashboard.
#[component(Dashboard)]
pub fn dashboard(props: &DashboardProps) -> Html {
    let lang = props.lang;
    let t = |k| lang.t(k);
    let runs = use_state(|| None::<Vec<RunSummary>>);
    let selected = use_state(|| props.focus);
    let report = use_state(|| None::<(i64, RunReport)>);
    let error = use_state(|| None::<ApiError>);
    {
        let (runs, selected, error, on_history) = (
            runs.clone(),
            selected.clone(),
            error.clone(),
            props.on_history.clone(),
        );
        use_effect_with(props.focus, move |focus| {
            let focus = *focus;
            wasm_bindgen_futures::spawn_local(async move {
                match api::get::<Runs>("/api/runs").await {
                    Ok(r) => {
                        let newest = r.runs.iter().find(|x| !x.dry_run).map(|x| x.id);
                        on_history.emit(newest.is_some());
                        selected.set(focus.or(newest));
                        runs.set(Some(r.runs));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }
    {
        let (report, error) = (report.clone(), error.clone());
        use_effect_with(*selected, move |sel| {
            if let Some(id) = *sel {
                wasm_bindgen_futures::spawn_local(async move {
                    match api::run_report(id).await {
                        Ok(r) => report.set(Some((id, r))),
                        Err(e) => error.set(Some(e)),
                    }
                });
            }
        });
    }
    let Some(list) = &*runs else {
        return html! {
            <section class="card">
                if let Some(e) = &*error { <ErrorBox {lang} error={e.clone()} /> } else { <p role="status">{ t(T::Loading) }</p> }
            </section>
        };
    };
    let failed_of = |r: &RunSummary| -> Vec<sync_core::Module> {
        r.modules
            .iter()
            .filter(|m| m.status.is_failure())
            .map(|m| m.module)
            .collect()
    };
    let details = match (&*report, *selected) {
        (Some((id, r)), Some(sel)) if *id == sel => {
            let kind = if r.dry_run {
                t(T::PreviewRun)
            } else {
                t(T::SyncRun)
            };
            let number = list.iter().find(|x| x.id == *id).map_or(0, |x| x.number);
            let outcome = serde_json::to_value(r.outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let failed: Vec<sync_core::Module> = r.failed_modules().map(|m| m.module).collect();
            html! {
                <section class="card" aria-labelledby="last-run-title" id="last-run" data-run={id.to_string()}
                    data-outcome={outcome.clone()}>
                    <h2 id="last-run-title">{ format!("{kind} #{number}") }</h2>
                    <p class="muted" id="last-run-outcome">{ format!("{} · {}", local_time(r.started.0, lang), outcome_with_failures(lang, &outcome, &failed)) }</p>
                    if let Some(e) = &r.error { { crate::components::technical_details(lang, e) } }
                    <ReportView {lang} report={r.clone()} id="last-run-report" />
                </section>
            }
        }
        (_, Some(_)) => {
            html! { <section class="card"><p role="status">{ t(T::Loading) }</p></section> }
        }
        (_, None) => html! { <section class="card"><p id="no-runs">{ t(T::NoRuns) }</p></section> },
    };
    let row = |r: &RunSummary| {
        let sel = selected.clone();
        let id = r.id;
        let kind = if r.dry_run {
            t(T::PreviewRun)
        } else {
            t(T::SyncRun)
        };
        let name = format!("{kind} #{}", r.number);
        let synced = r
            .totals
            .as_ref()
            .map(|t| t.synced.to_string())
            .unwrap_or_default();
        html! {
            <tr data-run={id.to_string()} data-number={r.number.to_string()} data-outcome={r.outcome.clone()}
                aria-current={(Some(id) == *selected).then_some("true")}>
                <td>{ local_time(r.started, lang) }</td>
                <td class="run-name">{ name.clone() }</td>
                <td class="outcome">{ outcome_with_failures(lang, &r.outcome, &failed_of(r)) }</td>
                <td class="num">{ synced }</td>
                <td><button type="button" class="link" onclick={Callback::from(move |_| sel.set(Some(id)))}
                    aria-label={format!("{} {name}", t(T::Details))}>{ t(T::Details) }</button></td>
            </tr>
        }
    };
    let head = html! {
        <thead><tr>
            <th scope="col">{ t(T::Started) }</th>
            <th scope="col">{ t(T::Kind) }</th>
            <th scope="col">{ t(T::Outcome) }</th>
            <th scope="col">{ t(T::RecordsSynced) }</th>
            <th scope="col"><span class="sr-only">{ t(T::Details) }</span></th>
        </tr></thead>
    };
    let syncs: Vec<&RunSummary> = list.iter().filter(|r| !r.dry_run).collect();
    let previews: Vec<&RunSummary> = list.iter().filter(|r| r.dry_run).collect();
    html! {
        <>
        if let Some(e) = &*error { <ErrorBox {lang} error={e.clone()} /> }
        { details }
        if !syncs.is_empty() {
            <section class="card" aria-labelledby="history-title">
                <h2 id="history-title">{ t(T::RunHistory) }</h2>
                { chart(lang, list) }
                <div class="table-wrap">
                <table id="run-history">
                    { head.clone() }
                    <tbody>{ for syncs.iter().map(|r| row(r)) }</tbody>
                </table>
                </div>
            </section>
        }
        if !previews.is_empty() {
            <section class="card" aria-labelledby="previews-title">
                <h2 id="previews-title">{ t(T::Previews) }</h2>
                <div class="table-wrap">
                <table id="preview-history">
                    { head }
                    <tbody>{ for previews.iter().map(|r| row(r)) }</tbody>
                </table>
                </div>
            </section>
        }
        </>
    }
}
