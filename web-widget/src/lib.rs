//! The notes-zoho-sync widget, shown in the Zoho CRM web tab ("IBM Notes Sync").
//!
//! It links `sync-core` as an ordinary crate and runs the sync engine in the browser
//! ([`driver`]), reaching Domino and Zoho only through the host's proxy. The host builds it for
//! `wasm32-unknown-unknown`, runs wasm-bindgen over it and serves the result at `/widget/`.
//!
//! Layout: [`api`] (the host's HTTP API and its types), [`i18n`] (English and Japanese),
//! [`crm`] (Zoho CRM's embedded-app SDK), [`driver`] (the engine in the browser),
//! [`components`] (shared pieces) and one module per screen under [`pages`]. [`App`] holds who
//! is signed in and which screen is shown.
//!
//! Look. Inside Zoho CRM the widget is one quiet tab page: no title of its own (the CRM's tab
//! already names it), no language menu (the CRM user's language and time zone are used), white
//! background and flat cards, as Zoho's own widgets look. Outside the CRM it keeps its title
//! and the language menu. Both: one type scale (15 px body, 1.15 rem headings), one blue
//! (`#1565c0`, 5.8:1 on white) for primary buttons and links, grey text at 5.9:1, a visible
//! orange focus ring, every control labelled and reachable by keyboard, and Start Sync never
//! greyed out unless it really cannot run (then it says why).

pub mod api;
pub mod components;
pub mod crm;
pub mod driver;
pub mod i18n;
pub mod pages;
pub mod reasons;
pub mod transport;

use yew::prelude::*;

use crate::api::{ApiError, Me, Readiness};
use crate::components::{ErrorBox, ReadinessPanel, check_reason};
use crate::crm::CrmUser;
use crate::i18n::{Lang, T};
use crate::pages::connect::Connect;
use crate::pages::dashboard::Dashboard;
use crate::pages::meetings::Meetings;
use crate::pages::password::ChangePassword;
use crate::pages::signin::SignIn;
use crate::pages::sync::{Entry, SyncFlow};
use crate::pages::uninstall::Uninstall;
use crate::pages::users::ManageUsers;

/// Which screen is shown once signed in and connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The dashboard, optionally opened on one run.
    Dashboard(Option<i64>),
    /// Schedule Meetings.
    Meetings,
    /// Start Sync or Sync Settings.
    Sync(Entry),
    /// Change Password.
    Password,
    /// Manage Users.
    Users,
    /// Uninstall.
    Uninstall,
}

impl View {
    /// The view named by the URL fragment (`#meetings`, `#users`, …), for deep links.
    #[must_use]
    pub fn from_hash(hash: &str) -> Self {
        match hash.trim_start_matches('#') {
            "meetings" => Self::Meetings,
            "settings" => Self::Sync(Entry::Settings),
            "password" => Self::Password,
            "users" => Self::Users,
            "uninstall" => Self::Uninstall,
            _ => Self::Dashboard(None),
        }
    }

    fn hash(self) -> &'static str {
        match self {
            Self::Dashboard(_) | Self::Sync(Entry::StartSync) => "",
            Self::Meetings => "meetings",
            Self::Sync(Entry::Settings) => "settings",
            Self::Password => "password",
            Self::Users => "users",
            Self::Uninstall => "uninstall",
        }
    }
}

/// The widget inside Zoho CRM: the SDK is loading, told who the user is, or could not.
#[derive(Clone, PartialEq)]
enum Crm {
    Loading,
    Ready(CrmUser),
    Failed(String),
}

#[derive(Clone, PartialEq)]
enum Session {
    Loading,
    SignedOut,
    Failed(ApiError),
    Ready(Box<Me>),
    Uninstalled,
}

fn location_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

fn set_hash(hash: &str) {
    if let Some(w) = web_sys::window()
        && let Ok(h) = w.history()
    {
        let url = if hash.is_empty() {
            w.location().pathname().unwrap_or_else(|_| "/".into())
        } else {
            format!("#{hash}")
        };
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// Properties of [`GearMenu`].
#[derive(Properties, PartialEq)]
pub struct GearMenuProps {
    /// UI language.
    pub lang: Lang,
    /// The caller is the admin (Manage Users is shown).
    pub admin: bool,
    /// A menu entry was chosen.
    pub on_pick: Callback<View>,
    /// Sign out was chosen.
    pub on_sign_out: Callback<()>,
}

/// The gear icon, top right: Sync Settings, Change Password, Manage Users (admin), Uninstall
/// (the admin) or Disconnect (anyone else), Sign out.
#[component(GearMenu)]
pub fn gear_menu(props: &GearMenuProps) -> Html {
    let t = |k| props.lang.t(k);
    let open = use_state(|| false);
    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    let onkeydown = {
        let open = open.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                open.set(false);
            }
        })
    };
    let item = |id: &'static str, label: T, view: View| {
        let (open, pick) = (open.clone(), props.on_pick.clone());
        html! {
            <li role="none"><button type="button" role="menuitem" id={id}
                onclick={Callback::from(move |_| { open.set(false); pick.emit(view); })}>{ t(label) }</button></li>
        }
    };
    let sign_out = {
        let (open, out) = (open.clone(), props.on_sign_out.clone());
        Callback::from(move |_| {
            open.set(false);
            out.emit(());
        })
    };
    html! {
        <div class="gear" {onkeydown}>
            <button id="gear" type="button" class="icon" aria-haspopup="menu" aria-expanded={open.to_string()}
                aria-controls="gear-menu" aria-label={t(T::SettingsMenu)} title={t(T::SettingsMenu)} onclick={toggle}>
                <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
                    <path d="M19.4 13a7.5 7.5 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.6 7.6 0 0 0-1.7-1L15 3h-4l-.3 2.9a7.6 7.6 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.5 7.5 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1a7.6 7.6 0 0 0 1.7 1L11 21h4l.3-2.9a7.6 7.6 0 0 0 1.7-1l2.5 1 2-3.5zM13 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7z" fill="currentColor"/>
                </svg>
            </button>
            if *open {
                <ul id="gear-menu" role="menu" aria-label={t(T::SettingsMenu)}>
                    { item("menu-sync-settings", T::SyncSettings, View::Sync(Entry::Settings)) }
                    { item("menu-password", T::ChangePassword, View::Password) }
                    if props.admin { { item("menu-users", T::ManageUsers, View::Users) } }
                    { item("menu-uninstall", if props.admin { T::Uninstall } else { T::Disconnect }, View::Uninstall) }
                    <li role="none"><button type="button" role="menuitem" id="menu-sign-out" onclick={sign_out}>{ t(T::SignOut) }</button></li>
                </ul>
            }
        </div>
    }
}

/// A sign-out button (the screens before the toolbar have no gear menu).
fn sign_out_button(lang: Lang, on: &Callback<()>) -> Html {
    let on = on.clone();
    html! {
        <button id="sign-out" type="button" class="link"
            onclick={Callback::from(move |_| on.emit(()))}>{ lang.t(T::SignOut) }</button>
    }
}

/// The widget's root component.
#[component(App)]
pub fn app() -> Html {
    let crm = use_state(|| crm::service_origin().map(|_| Crm::Loading));
    let lang = use_state(Lang::initial);
    let session = use_state(|| Session::Loading);
    let view = use_state(|| View::from_hash(&location_hash()));
    // Screens are mounted anew each time they are chosen (Manage Users reads the list again).
    let nav = use_state(|| 0u32);
    // A sync ran, and no readiness check failed since: no preview needed before the next one
    // unless the settings change.
    let has_synced = use_state(|| false);
    let failed_since_sync = use_state(|| false);
    // A check, preview or sync is running.
    let busy = use_state(|| false);
    let reload = use_state(|| 0u32);
    // The readiness checks (F2) of the connected user: `None` while they run.
    let readiness = use_state(|| None::<Result<Readiness, ApiError>>);
    let recheck = use_state(|| 0u32);
    // The panel shows after Connect, and whenever a check fails.
    let show_readiness = use_state(|| false);
    let admin_left = use_state(|| false);

    // Inside Zoho CRM: who the user is, their language and time zone.
    {
        let (crm, lang) = (crm.clone(), lang.clone());
        use_effect_with((), move |()| {
            if crm.is_some() {
                wasm_bindgen_futures::spawn_local(async move {
                    match crm::connect().await {
                        Ok(user) => {
                            if let Some(l) = user.lang {
                                lang.set(l);
                            }
                            i18n::set_time_zone(user.time_zone.clone());
                            crm.set(Some(Crm::Ready(user)));
                        }
                        Err(e) => crm.set(Some(Crm::Failed(e))),
                    }
                });
            }
        });
    }
    {
        let session = session.clone();
        use_effect_with(*reload, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                session.set(match api::get::<Me>("/api/me").await {
                    Ok(me) => {
                        api::set_csrf(&me.csrf_token);
                        Session::Ready(Box::new(me))
                    }
                    Err(e) if e.status == 401 => Session::SignedOut,
                    Err(e) => Session::Failed(e),
                });
            });
        });
    }
    {
        let readiness = readiness.clone();
        let connected = matches!(&*session, Session::Ready(me) if me.enabled && me.connected);
        use_effect_with((connected, *recheck), move |(connected, _)| {
            if *connected {
                readiness.set(None);
                wasm_bindgen_futures::spawn_local(async move {
                    readiness.set(Some(api::get::<Readiness>("/api/readiness").await));
                });
            }
        });
    }
    // A failed check keeps the panel open until the user closes it, also once the checks pass.
    {
        let (show, failed_since_sync) = (show_readiness.clone(), failed_since_sync.clone());
        use_effect_with((*readiness).clone(), move |r| {
            if matches!(r, Some(Ok(r)) if !r.ready) || matches!(r, Some(Err(_))) {
                show.set(true);
                failed_since_sync.set(true);
            }
        });
    }
    let in_crm = crm.is_some();
    {
        let lang = *lang;
        // The CRM's language is the CRM's, not a choice to remember.
        use_effect_with((lang, in_crm), move |(l, in_crm)| {
            if *in_crm {
                if let Some(root) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.document_element())
                {
                    let _ = root.set_attribute("lang", l.code());
                }
            } else {
                l.remember();
            }
        });
    }
    // Follow links to `#users`, `#meetings`, … while the widget is open.
    {
        let view = view.clone();
        use_effect_with((), move |()| {
            use wasm_bindgen::JsCast as _;
            use wasm_bindgen::closure::Closure;
            let listener = web_sys::window().map(|w| {
                let cb = Closure::<dyn Fn()>::new(move || {
                    view.set(View::from_hash(&location_hash()));
                });
                let _ =
                    w.add_event_listener_with_callback("hashchange", cb.as_ref().unchecked_ref());
                (w, cb)
            });
            move || {
                if let Some((w, cb)) = listener {
                    let _ = w.remove_event_listener_with_callback(
                        "hashchange",
                        cb.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }
    let l = *lang;
    let t = |k| l.t(k);
    let go = {
        let (view, nav) = (view.clone(), nav.clone());
        Callback::from(move |v: View| {
            set_hash(v.hash());
            view.set(v);
            nav.set(nav.wrapping_add(1));
        })
    };
    let on_lang = {
        let lang = lang.clone();
        Callback::from(move |e: Event| lang.set(Lang::from_code(&pages::select_value(&e))))
    };
    let sign_out = {
        let session = session.clone();
        Callback::from(move |()| {
            let session = session.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _: Result<serde_json::Value, ApiError> =
                    api::call(api::Method::Post, "/auth/logout", None, &[]).await;
                session.set(Session::SignedOut);
            });
        })
    };
    let crm_user = match &*crm {
        Some(Crm::Ready(u)) => Some(u.clone()),
        _ => None,
    };
    let body = match (&*crm, &*session) {
        (Some(Crm::Loading), _) | (_, Session::Loading) => {
            html! { <p role="status" id="loading">{ if in_crm { t(T::CrmLoading) } else { t(T::Loading) } }</p> }
        }
        (Some(Crm::Failed(why)), _) => html! {
            <section class="card narrow" id="crm-unavailable">
                <p role="alert" class="error">{ t(T::CrmUnavailable) }</p>
                { components::technical_details(l, why) }
            </section>
        },
        (_, Session::SignedOut) => {
            let reload = reload.clone();
            html! { <SignIn lang={l} crm={crm_user.clone()} on_signed_in={Callback::from(move |()| reload.set(*reload + 1))} /> }
        }
        (_, Session::Uninstalled) => {
            // Signing in again goes through the sign-in screen (inside the CRM, its window).
            let session = session.clone();
            html! {
                <section class="card narrow"><p role="status" id="uninstalled">
                    { if *admin_left { t(T::Uninstalled) } else { t(T::Disconnected) } }</p>
                <button id="sign-in-again" type="button"
                    onclick={Callback::from(move |_| session.set(Session::SignedOut))}>{ t(T::SignIn) }</button>
                </section>
            }
        }
        (_, Session::Failed(e)) => {
            let reload = reload.clone();
            html! {
                <section class="card narrow">
                    <ErrorBox lang={l} error={e.clone()} />
                    <button type="button" onclick={Callback::from(move |_| reload.set(*reload + 1))}>{ t(T::Retry) }</button>
                </section>
            }
        }
        // Only the account the CRM is open with is shown.
        (_, Session::Ready(me)) if crm_user.as_ref().is_some_and(|u| u.user_id != me.user_id) => {
            let crm_email = crm_user
                .as_ref()
                .map(|u| u.email.clone())
                .unwrap_or_default();
            html! {
                <section class="card narrow" id="account-mismatch">
                    <p role="alert" class="error">
                        { l.tf(T::AccountMismatch, &[("signed", &me.email), ("crm", &crm_email)]) }
                    </p>
                    <div class="actions">{ sign_out_button(l, &sign_out) }</div>
                </section>
            }
        }
        (_, Session::Ready(me)) if !me.enabled => {
            let text = if me.reason.as_deref() == Some("not_installed") {
                T::NotInstalled
            } else {
                T::NotEnabled
            };
            html! {
                <section class="card narrow">
                    <p role="alert" id="not-enabled">{ t(text) }</p>
                    <div class="actions">{ sign_out_button(l, &sign_out) }</div>
                </section>
            }
        }
        (_, Session::Ready(me)) if !me.connected => {
            let (reload, show) = (reload.clone(), show_readiness.clone());
            let on_connected = Callback::from(move |()| {
                show.set(true);
                reload.set(*reload + 1);
            });
            html! {
                <>
                <Connect lang={l} {on_connected} />
                <p class="muted signed-in-as"><span translate="no">{ me.email.clone() }</span>{ " · " }{ sign_out_button(l, &sign_out) }</p>
                </>
            }
        }
        (_, Session::Ready(me)) => {
            let v = *view;
            let tab = |label: T, target: View, id: &'static str| {
                let go = go.clone();
                let current =
                    matches!((v, target), (View::Dashboard(_), View::Dashboard(_))) || v == target;
                html! {
                    <button type="button" role="tab" id={id} aria-selected={current.to_string()}
                        class={classes!("tab", current.then_some("current"))}
                        onclick={Callback::from(move |_| go.emit(target))}>{ t(label) }</button>
                }
            };
            let home = {
                let go = go.clone();
                Callback::from(move |run: Option<i64>| go.emit(View::Dashboard(run)))
            };
            let on_history = {
                let has_synced = has_synced.clone();
                Callback::from(move |b: bool| has_synced.set(b))
            };
            let on_synced = {
                let (has_synced, failed) = (has_synced.clone(), failed_since_sync.clone());
                Callback::from(move |()| {
                    has_synced.set(true);
                    failed.set(false);
                })
            };
            let on_readiness = {
                let readiness = readiness.clone();
                Callback::from(move |r: Result<Readiness, ApiError>| readiness.set(Some(r)))
            };
            let on_busy = {
                let busy = busy.clone();
                Callback::from(move |b: bool| busy.set(b))
            };
            let screen = match v {
                View::Dashboard(focus) => html! { <Dashboard lang={l} {focus} {on_history} /> },
                View::Meetings => html! { <Meetings lang={l} /> },
                View::Sync(entry) => {
                    html! { <SyncFlow lang={l} {entry} preview_first={!*has_synced || *failed_since_sync} on_done={home} {on_readiness} {on_busy} {on_synced} /> }
                }
                View::Password => html! { <ChangePassword lang={l} domino={me.domino.clone()} /> },
                View::Users => html! { <ManageUsers lang={l} /> },
                View::Uninstall => {
                    let (session, admin_left) = (session.clone(), admin_left.clone());
                    let home = home.clone();
                    let admin = me.admin;
                    html! { <Uninstall lang={l} admin={me.admin}
                    on_done={Callback::from(move |()| { set_hash(""); admin_left.set(admin); session.set(Session::Uninstalled) })}
                    on_cancel={Callback::from(move |()| home.emit(None))} /> }
                }
            };
            let start_sync = {
                let go = go.clone();
                Callback::from(move |_| go.emit(View::Sync(Entry::StartSync)))
            };
            // Start Sync waits for the checks and for a running sync, and is held back with the
            // reason while a check fails.
            let blocked: Option<String> = match &*readiness {
                _ if *busy => Some(t(T::SyncBusy).to_owned()),
                None => Some(t(T::ReadinessChecking).to_owned()),
                Some(Ok(r)) if !r.ready => Some(r.first_failure().map_or_else(
                    || t(T::ReadinessNotReady).to_owned(),
                    |c| check_reason(l, c),
                )),
                Some(_) => None,
            };
            let failing = matches!(&*readiness, Some(Ok(r)) if !r.ready)
                || matches!(&*readiness, Some(Err(_)));
            let panel = (*show_readiness || failing).then(|| {
                let recheck = recheck.clone();
                let show = show_readiness.clone();
                html! {
                    <ReadinessPanel lang={l} readiness={(*readiness).clone()}
                        on_recheck={Callback::from(move |()| recheck.set(*recheck + 1))}
                        on_close={Callback::from(move |()| show.set(false))} />
                }
            });
            html! {
                <>
                <div class="toolbar">
                    <nav role="tablist" aria-label={t(T::AppTitle)}>
                        { tab(T::Dashboard, View::Dashboard(None), "tab-dashboard") }
                        { tab(T::ScheduleMeetings, View::Meetings, "tab-meetings") }
                    </nav>
                    <span class="who muted" translate="no">{ me.email.clone() }</span>
                    <button id="start-sync" type="button" class="primary" onclick={start_sync}
                        aria-describedby={blocked.is_some().then_some("start-sync-blocked")}
                        disabled={blocked.is_some()}>{ t(T::StartSync) }</button>
                    <GearMenu lang={l} admin={me.admin} on_pick={go.clone()} on_sign_out={sign_out.clone()} />
                </div>
                if let Some(why) = blocked.clone() {
                    <p id="start-sync-blocked" class="muted blocked" data-checking={readiness.is_none().to_string()}>
                        { t(T::StartSyncBlocked) }{ " " }{ why }
                    </p>
                }
                { for panel }
                <div role="tabpanel" id="screen" key={*nav}>{ screen }</div>
                </>
            }
        }
    };
    html! {
        <main class={classes!("nzsync", in_crm.then_some("crm"))} lang={l.code()}>
            if !in_crm {
                <header class="top">
                    <h1>{ t(T::AppTitle) }</h1>
                    <div class="lang">
                        <label for="lang">{ t(T::Language) }</label>
                        <select id="lang" onchange={on_lang}>
                            <option value="en" selected={l == Lang::En}>{ "English" }</option>
                            <option value="ja" selected={l == Lang::Ja}>{ "日本語" }</option>
                        </select>
                    </div>
                </header>
            }
            { body }
        </main>
    }
}

/// Mounts the widget into the element with id `nzsync-root` (or the body).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("nzsync-root"));
    match root {
        Some(el) => {
            yew::Renderer::<App>::with_root(el).render();
        }
        None => {
            yew::Renderer::<App>::new().render();
        }
    }
}
