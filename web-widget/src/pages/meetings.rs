//! Schedule Meetings (F6): Subject, Attendees (CRM contacts and users, with search, or any
//! e-mail address), Location, Start, End, Reminder, Schedule. The host makes the Notes meeting
//! (Domino sends the invitations) and the linked CRM Event. Before the admin's CRM set-up
//! (the `Notes_UNID` field on Meetings) the page says so and names the admin step; the host
//! refuses a meeting then with `setup_needed`, shown with the same words.

use serde_json::{Value, json};
use yew::prelude::*;

use super::{input_value, select_value};
use crate::api::{self, ApiError, Attendee, Method, SetupInfo};
use crate::components::api_error_html;
use crate::i18n::{Lang, T};

/// Properties of [`Meetings`].
#[derive(Properties, PartialEq)]
pub struct MeetingsProps {
    /// UI language.
    pub lang: Lang,
}

/// Search once typing has paused this long (each search costs CRM API calls).
const SEARCH_PAUSE_MS: u32 = 350;

/// A plausible e-mail address (the host checks it again).
fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// The offset from UTC, minutes, of time zone `zone` at the instant `ms` (from Intl's
/// `longOffset` name, "GMT+09:00"); `None` for a zone the browser does not know.
fn zone_offset(zone: &str, ms: f64) -> Option<i32> {
    let options = js_sys::Object::new();
    let set = |k: &str, v: &str| {
        let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
    };
    set("timeZone", zone);
    set("timeZoneName", "longOffset");
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::of1(&"en-US".into()), &options);
    let parts = format.format_to_parts(&js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms)));
    let name = parts.iter().find_map(|p| {
        let kind = js_sys::Reflect::get(&p, &"type".into()).ok()?.as_string()?;
        (kind == "timeZoneName")
            .then(|| js_sys::Reflect::get(&p, &"value".into()).ok()?.as_string())
            .flatten()
    })?;
    let rest = name.strip_prefix("GMT")?;
    if rest.is_empty() {
        return Some(0);
    }
    let sign = if rest.starts_with('-') { -1 } else { 1 };
    let (h, m) = rest[1..].split_once(':').unwrap_or((&rest[1..], "0"));
    Some(sign * (h.parse::<i32>().ok()? * 60 + m.parse::<i32>().ok()?))
}

/// `2026-11-25T10:00` (a `datetime-local` value, read in the user's time zone: the CRM user's
/// when Zoho CRM told it, else the browser's) as ISO 8601 with that zone's offset at that
/// instant.
fn with_offset(local: &str) -> Option<String> {
    if local.len() < 16 {
        return None;
    }
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(local));
    if d.get_time().is_nan() {
        return None;
    }
    let offset = match crate::i18n::time_zone() {
        Some(zone) => {
            // The wall time as if it were UTC, less the zone's offset near it; then the offset
            // at that instant (right also across a daylight-saving change).
            let as_utc = js_sys::Date::parse(&format!("{}:00Z", &local[..16]));
            let first = zone_offset(&zone, as_utc)?;
            zone_offset(&zone, as_utc - f64::from(first) * 60_000.0)?
        }
        // getTimezoneOffset is UTC minus local, in minutes.
        #[allow(clippy::cast_possible_truncation)]
        None => -(d.get_timezone_offset() as i32),
    };
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.abs();
    Some(format!(
        "{}:00{sign}{:02}:{:02}",
        &local[..16],
        a / 60,
        a % 60
    ))
}

/// The instant of a `datetime-local` value in the user's time zone, ms since the epoch.
fn instant(local: &str) -> f64 {
    with_offset(local).map_or(f64::NAN, |iso| js_sys::Date::parse(&iso))
}

/// The reminders offered, minutes before the start.
const REMINDERS: [i64; 9] = [5, 10, 15, 30, 60, 120, 1440, 2880, 10080];

/// A reminder in words: minutes, hours, days or weeks before.
fn reminder_text(lang: Lang, minutes: i64) -> String {
    let n = |v: i64| [("n", v.to_string())];
    let tf = |k, v: i64| {
        lang.tf(
            k,
            &n(v)
                .iter()
                .map(|(a, b)| (*a, b.as_str()))
                .collect::<Vec<_>>(),
        )
    };
    match minutes {
        10080 => lang.t(T::ReminderWeek).to_owned(),
        1440 => lang.t(T::ReminderDay).to_owned(),
        60 => lang.t(T::ReminderHour).to_owned(),
        m if m % 1440 == 0 => tf(T::ReminderDays, m / 1440),
        m if m % 60 == 0 => tf(T::ReminderHours, m / 60),
        m => tf(T::ReminderMinutes, m),
    }
}

#[derive(Clone, Default, PartialEq)]
struct Errors {
    subject: Option<T>,
    attendees: Option<T>,
    start: Option<T>,
    end: Option<T>,
}

/// The Schedule Meetings tab.
#[component(Meetings)]
pub fn meetings(props: &MeetingsProps) -> Html {
    let lang = props.lang;
    let t = |k| lang.t(k);
    let subject = use_state(String::new);
    let location = use_state(String::new);
    let start = use_state(String::new);
    let end = use_state(String::new);
    let reminder = use_state(|| None::<i64>);
    let attendees = use_state(Vec::<Attendee>::new);
    let query = use_state(String::new);
    let matches = use_state(Vec::<Attendee>::new);
    let errors = use_state(Errors::default);
    let server_error = use_state(|| None::<ApiError>);
    let done = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let setup = use_state(|| None::<SetupInfo>);
    // The start is in the past and the user confirmed that this is meant.
    let past_ok = use_state(|| false);
    {
        let setup = setup.clone();
        use_effect_with((), move |()| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(s) = api::get::<SetupInfo>("/api/setup").await {
                    setup.set(Some(s));
                }
            });
        });
    }

    // Search CRM contacts and users once typing pauses; answers to older queries are dropped.
    let latest = use_mut_ref(String::new);
    {
        let (matches, latest) = (matches.clone(), latest.clone());
        use_effect_with((*query).clone(), move |q| {
            let q = q.trim().to_owned();
            q.clone_into(&mut latest.borrow_mut());
            if q.chars().count() < 2 {
                matches.set(Vec::new());
            } else {
                wasm_bindgen_futures::spawn_local(async move {
                    gloo_timers::future::TimeoutFuture::new(SEARCH_PAUSE_MS).await;
                    if *latest.borrow() != q {
                        return;
                    }
                    let path = format!(
                        "/api/meetings/attendees?q={}",
                        js_sys::encode_uri_component(&q)
                    );
                    if let Ok(found) = api::get::<Vec<Attendee>>(&path).await
                        && *latest.borrow() == q
                    {
                        matches.set(found);
                    }
                });
            }
        });
    }
    let add = {
        let (attendees, query, matches) = (attendees.clone(), query.clone(), matches.clone());
        Callback::from(move |a: Attendee| {
            let mut v = (*attendees).clone();
            if !v.iter().any(|x| x.email.eq_ignore_ascii_case(&a.email)) {
                v.push(a);
            }
            attendees.set(v);
            query.set(String::new());
            matches.set(Vec::new());
        })
    };
    let on_query_key = {
        let (add, errors) = (add.clone(), errors.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.key() != "Enter" {
                return;
            }
            e.prevent_default();
            // The field itself: the state may not have caught up with the last keystrokes.
            let q = e
                .target_unchecked_into::<web_sys::HtmlInputElement>()
                .value()
                .trim()
                .to_owned();
            if looks_like_email(&q) {
                add.emit(Attendee {
                    kind: "email".into(),
                    id: None,
                    name: String::new(),
                    email: q,
                });
            } else if !q.is_empty() {
                errors.set(Errors {
                    attendees: Some(T::ErrEmail),
                    ..(*errors).clone()
                });
            }
        })
    };
    // Typing clears the last success message: it is about the meeting scheduled before.
    let text = |state: &UseStateHandle<String>| {
        let (s, done) = (state.clone(), done.clone());
        Callback::from(move |e: InputEvent| {
            s.set(input_value(&e));
            if done.is_some() {
                done.set(None);
            }
        })
    };
    let on_reminder = {
        let reminder = reminder.clone();
        Callback::from(move |e: Event| reminder.set(select_value(&e).parse().ok()))
    };
    let onsubmit = {
        let (subject, location, start, end, reminder, attendees) = (
            subject.clone(),
            location.clone(),
            start.clone(),
            end.clone(),
            reminder.clone(),
            attendees.clone(),
        );
        let (errors, server_error, done, busy, past_ok) = (
            errors.clone(),
            server_error.clone(),
            done.clone(),
            busy.clone(),
            past_ok.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut errs = Errors::default();
            if subject.trim().is_empty() {
                errs.subject = Some(T::ErrSubject);
            }
            if attendees.is_empty() {
                errs.attendees = Some(T::ErrAttendees);
            }
            let s = with_offset(&start);
            let en = with_offset(&end);
            if s.is_none() {
                errs.start = Some(T::ErrStart);
            }
            if en.is_none() {
                errs.end = Some(T::ErrEnd);
            } else if s.is_some() && end.as_str() <= start.as_str() {
                errs.end = Some(T::ErrEndBeforeStart);
            }
            // A start in the past is refused unless the user confirmed it.
            let started = instant(&start);
            if s.is_some() && started < js_sys::Date::now() && !*past_ok {
                errs.start = Some(T::ErrStartPast);
            }
            let ok = errs == Errors::default();
            errors.set(errs);
            done.set(None);
            server_error.set(None);
            if !ok || *busy {
                return;
            }
            let body = json!({
                "subject": subject.trim(),
                "attendees": *attendees,
                "location": location.trim(),
                "start": s,
                "end": en,
                "reminder_minutes": *reminder,
            });
            busy.set(true);
            let (server_error, done, busy, past_ok) = (
                server_error.clone(),
                done.clone(),
                busy.clone(),
                past_ok.clone(),
            );
            let (subject, location, start, end, attendees) = (
                subject.clone(),
                location.clone(),
                start.clone(),
                end.clone(),
                attendees.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let r: Result<Value, ApiError> =
                    api::call(Method::Post, "/api/meetings", Some(&body), &[]).await;
                busy.set(false);
                match r {
                    Ok(_) => {
                        done.set(Some((*subject).clone()));
                        for s in [&subject, &location, &start, &end] {
                            s.set(String::new());
                        }
                        attendees.set(Vec::new());
                        past_ok.set(false);
                    }
                    Err(e) => server_error.set(Some(e)),
                }
            });
        })
    };
    // The error line is always there, empty and hidden without an error: removing it while
    // the user types would disturb the field being typed in.
    let err = |id: &str, e: Option<T>| {
        html! {
            <small id={format!("{id}-error")} class="error" hidden={e.is_none()}>
                { e.map(t).unwrap_or_default() }
            </small>
        }
    };
    let described = |id: &str, e: Option<T>| e.map(|_| format!("{id}-error"));
    let chips = attendees.iter().map(|a| {
        let attendees = attendees.clone();
        let email = a.email.clone();
        let remove = Callback::from(move |_| {
            attendees.set(
                attendees
                    .iter()
                    .filter(|x| x.email != email)
                    .cloned()
                    .collect(),
            );
        });
        let kind = match a.kind.as_str() {
            "contact" => t(T::Contact),
            "user" => t(T::CrmUser),
            _ => "",
        };
        let shown = if a.name.is_empty() {
            a.email.clone()
        } else {
            format!("{} <{}>", a.name, a.email)
        };
        html! {
            <li class="chip" data-email={a.email.clone()} translate="no">
                { shown }{ if kind.is_empty() { String::new() } else { format!(" ({kind})") } }
                <button type="button" class="link" onclick={remove}
                    aria-label={format!("{} {}", t(T::Remove), a.email)}>{ "×" }</button>
            </li>
        }
    });
    let found = matches.iter().map(|m| {
        let add = add.clone();
        let a = m.clone();
        let kind = if m.kind == "user" {
            t(T::CrmUser)
        } else {
            t(T::Contact)
        };
        html! {
            <li>
                <button type="button" class="match" data-email={m.email.clone()} translate="no"
                    onclick={Callback::from(move |_| add.emit(a.clone()))}>
                    { format!("{} <{}> ({kind})", m.name, m.email) }
                </button>
            </li>
        }
    });
    // An error shows while what it is about is still so: typing the subject removes "Enter a
    // subject." at once.
    let mut e = (*errors).clone();
    if !subject.trim().is_empty() {
        e.subject = None;
    }
    if !attendees.is_empty() && e.attendees == Some(T::ErrAttendees) {
        e.attendees = None;
    }
    if e.attendees == Some(T::ErrEmail)
        && (query.trim().is_empty() || looks_like_email(query.trim()))
    {
        e.attendees = None;
    }
    let start_ms = instant(&start);
    match e.start {
        Some(T::ErrStart) if with_offset(&start).is_some() => e.start = None,
        Some(T::ErrStartPast)
            if *past_ok || start_ms.is_nan() || start_ms >= js_sys::Date::now() =>
        {
            e.start = None;
        }
        _ => {}
    }
    match e.end {
        Some(T::ErrEnd) if with_offset(&end).is_some() => e.end = None,
        Some(T::ErrEndBeforeStart) if end.as_str() > start.as_str() => e.end = None,
        _ => {}
    }
    html! {
        <section class="card" aria-labelledby="meetings-title">
            <h2 id="meetings-title">{ t(T::ScheduleMeetings) }</h2>
            if (*setup).as_ref().is_some_and(|s| !s.ready) {
                <div class="error" id="meeting-setup-needed" role="status" data-code="setup_needed">
                    <p class="headline">{ t(T::ErrSetupNeeded) }</p>
                    <p class="step">{ t(T::StepSetupNeeded) }</p>
                </div>
            }
            <form id="meeting-form" {onsubmit} novalidate=true>
                <div class="field">
                    <label for="meeting-subject">{ t(T::Subject) }</label>
                    <input id="meeting-subject" type="text" maxlength="255" value={(*subject).clone()}
                        oninput={text(&subject)} aria-invalid={e.subject.is_some().to_string()}
                        aria-describedby={described("meeting-subject", e.subject)} />
                    { err("meeting-subject", e.subject) }
                </div>
                <div class="field">
                    <label for="meeting-attendees">{ t(T::Attendees) }</label>
                    if !attendees.is_empty() { <ul class="chips" id="attendee-list">{ for chips }</ul> }
                    <input id="meeting-attendees" type="search" autocomplete="off" value={(*query).clone()}
                        oninput={text(&query)} onkeydown={on_query_key}
                        aria-invalid={e.attendees.is_some().to_string()}
                        aria-describedby={described("meeting-attendees", e.attendees).unwrap_or_else(|| "meeting-attendees-hint".into())} />
                    <small id="meeting-attendees-hint" class="muted">{ t(T::AttendeesHint) }</small>
                    if !matches.is_empty() { <ul class="matches" id="attendee-matches">{ for found }</ul> }
                    { err("meeting-attendees", e.attendees) }
                </div>
                <div class="field">
                    <label for="meeting-location">{ t(T::Location) }</label>
                    <input id="meeting-location" type="text" maxlength="255" value={(*location).clone()} oninput={text(&location)} />
                </div>
                <div class="row">
                    <div class="field">
                        <label for="meeting-start">{ t(T::Start) }</label>
                        <input id="meeting-start" type="datetime-local" value={(*start).clone()} oninput={text(&start)}
                            aria-invalid={e.start.is_some().to_string()} aria-describedby={described("meeting-start", e.start)} />
                        { err("meeting-start", e.start) }
                        if e.start == Some(T::ErrStartPast) || *past_ok {
                            <label class="choice" for="meeting-past-ok">
                                <input id="meeting-past-ok" type="checkbox" checked={*past_ok}
                                    onchange={{
                                        let past_ok = past_ok.clone();
                                        Callback::from(move |ev: Event| past_ok.set(super::checked(&ev)))
                                    }} />
                                { " " }{ t(T::ConfirmPast) }
                            </label>
                        }
                    </div>
                    <div class="field">
                        <label for="meeting-end">{ t(T::End) }</label>
                        <input id="meeting-end" type="datetime-local" value={(*end).clone()} oninput={text(&end)}
                            aria-invalid={e.end.is_some().to_string()} aria-describedby={described("meeting-end", e.end)} />
                        { err("meeting-end", e.end) }
                    </div>
                </div>
                <div class="field">
                    <label for="meeting-reminder">{ t(T::Reminder) }</label>
                    <select id="meeting-reminder" onchange={on_reminder}>
                        <option value="" selected={reminder.is_none()}>{ t(T::NoReminder) }</option>
                        { for REMINDERS.iter().map(|m| html! {
                            <option value={m.to_string()} selected={*reminder == Some(*m)}>{ reminder_text(lang, *m) }</option>
                        }) }
                    </select>
                </div>
                if let Some(e) = &*server_error { { api_error_html(lang, e) } }
                if let Some(s) = &*done { <p class="ok" role="status" id="meeting-done">{ t(T::MeetingScheduled) }{ " " }<span translate="no">{ format!("({s})") }</span></p> }
                <div class="actions">
                    <button id="meeting-schedule" type="submit" class="primary" disabled={*busy}>{ t(T::Schedule) }</button>
                </div>
            </form>
        </section>
    }
}
