//! First visit: sign in with Zoho (the host's OAuth code flow).
//!
//! At the top of a tab the link simply navigates to `/auth/login`. Inside the CRM's web tab the
//! widget is framed: Zoho's consent page refuses to be framed, and taking the whole CRM tab
//! away is not what a user expects, so sign-in opens in a popup window
//! (`/auth/login?popup=1`). When it is done the popup posts `nzsync-signed-in` to this window
//! (same origin only) and closes, and the widget reloads who is signed in. A blocked popup
//! falls back to navigating the top window.
//!
//! Inside Zoho CRM (the SDK told who the user is, [`crate::crm`]) the screen names that user:
//! when the host already holds their consent it offers "Continue as …" (Zoho only confirms who
//! it is, no consent page); otherwise one line says why a one-time consent is needed. Either way
//! the sign-in carries `expect=<CRM user id>`, and the host refuses to sign in any other Zoho
//! account; the popup then reports `nzsync-account-mismatch`.

use wasm_bindgen::JsCast as _;
use wasm_bindgen::closure::Closure;
use yew::prelude::*;

use crate::crm::CrmUser;
use crate::i18n::{Lang, T};

/// Properties of [`SignIn`].
#[derive(Properties, PartialEq)]
pub struct SignInProps {
    /// UI language.
    pub lang: Lang,
    /// The CRM's user, inside Zoho CRM.
    #[prop_or_default]
    pub crm: Option<CrmUser>,
    /// Called when sign-in finished in a popup window.
    pub on_signed_in: Callback<()>,
}

/// The message `/auth/popup.js` posts when sign-in finished.
const SIGNED_IN_MESSAGE: &str = "nzsync-signed-in";
/// The message the popup posts when Zoho signed in another account than the CRM's.
const MISMATCH_MESSAGE: &str = "nzsync-account-mismatch";

#[derive(serde::Deserialize)]
struct Grant {
    grant: bool,
}

/// Whether the widget runs inside a frame (the CRM's web tab) rather than a tab of its own.
fn framed() -> bool {
    let Some(w) = web_sys::window() else {
        return false;
    };
    match w.top() {
        Ok(Some(top)) => !js_sys::Object::is(&top, &w),
        _ => true,
    }
}

/// The sign-in screen.
#[component(SignIn)]
pub fn sign_in(props: &SignInProps) -> Html {
    let lang = props.lang;
    let t = |k| lang.t(k);
    let waiting = use_state(|| false);
    let mismatch = use_state(|| false);
    // Inside the CRM: does the host hold this user's consent already?
    let grant = use_state(|| None::<bool>);
    {
        let (grant, crm) = (grant.clone(), props.crm.clone());
        use_effect_with(crm, move |crm| {
            if let Some(u) = crm.clone() {
                wasm_bindgen_futures::spawn_local(async move {
                    let path = format!(
                        "/auth/crm-grant?user_id={}&org_id={}",
                        js_sys::encode_uri_component(&u.user_id),
                        js_sys::encode_uri_component(u.org_id.as_deref().unwrap_or_default()),
                    );
                    let r = crate::api::get::<Grant>(&path).await;
                    grant.set(Some(r.is_ok_and(|g| g.grant)));
                });
            }
        });
    }
    // Listen for the popup's message while this screen is shown.
    {
        let (on_signed_in, mismatch, waiting) = (
            props.on_signed_in.clone(),
            mismatch.clone(),
            waiting.clone(),
        );
        use_effect_with((), move |()| {
            let listener = web_sys::window().map(|w| {
                let origin = w.location().origin().unwrap_or_default();
                let cb = Closure::<dyn Fn(web_sys::MessageEvent)>::new(
                    move |e: web_sys::MessageEvent| {
                        if e.origin() != origin {
                            return;
                        }
                        match e.data().as_string().as_deref() {
                            Some(SIGNED_IN_MESSAGE) => on_signed_in.emit(()),
                            Some(MISMATCH_MESSAGE) => {
                                waiting.set(false);
                                mismatch.set(true);
                            }
                            _ => {}
                        }
                    },
                );
                let _ = w.add_event_listener_with_callback("message", cb.as_ref().unchecked_ref());
                (w, cb)
            });
            move || {
                if let Some((w, cb)) = listener {
                    let _ = w.remove_event_listener_with_callback(
                        "message",
                        cb.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }
    let expect = props
        .crm
        .as_ref()
        .map(|u| format!("&expect={}", js_sys::encode_uri_component(&u.user_id)))
        .unwrap_or_default();
    let popup_url = format!("/auth/login?popup=1{expect}");
    let onclick = {
        let (waiting, mismatch) = (waiting.clone(), mismatch.clone());
        let popup_url = popup_url.clone();
        Callback::from(move |e: MouseEvent| {
            if !framed() {
                return; // The link navigates this tab.
            }
            mismatch.set(false);
            let opened = web_sys::window().and_then(|w| {
                w.open_with_url_and_target_and_features(
                    &popup_url,
                    "nzsync-sign-in",
                    "popup,width=520,height=680",
                )
                .ok()
                .flatten()
            });
            if opened.is_some() {
                e.prevent_default();
                waiting.set(true);
            }
            // Blocked: the link's own target (the top window) takes over.
        })
    };
    let (title, intro, button) = match (&props.crm, *grant) {
        (Some(u), Some(true)) => (
            t(T::SignInTitle).to_owned(),
            lang.tf(T::ContinueWhy, &[("name", &u.name)]),
            lang.tf(T::ContinueAs, &[("name", &u.name)]),
        ),
        (Some(_), _) => (
            t(T::SignInTitleCrm).to_owned(),
            t(T::ConsentWhy).to_owned(),
            t(T::GiveConsent).to_owned(),
        ),
        (None, _) => (
            t(T::SignInTitle).to_owned(),
            t(T::SignInIntro).to_owned(),
            t(T::SignIn).to_owned(),
        ),
    };
    let href = if expect.is_empty() {
        "/auth/login".to_owned()
    } else {
        format!("/auth/login?{}", expect.trim_start_matches('&'))
    };
    html! {
        <section class="card narrow" aria-labelledby="signin-title" id="signin"
            data-grant={(*grant).map(|g| g.to_string())}>
            <h2 id="signin-title">{ title }</h2>
            <p id="signin-why">{ intro }</p>
            <a id="sign-in" class="button primary" {href} target="_top" {onclick}>{ button }</a>
            if *waiting {
                <p role="status" id="sign-in-waiting">{ t(T::SignInPopup) }</p>
            }
            if *mismatch {
                <p role="alert" class="error" id="sign-in-mismatch">
                    { lang.tf(T::AccountMismatchPopup, &[("crm", &props.crm.as_ref().map(|u| u.email.clone()).unwrap_or_default())]) }
                </p>
            }
        </section>
    }
}
