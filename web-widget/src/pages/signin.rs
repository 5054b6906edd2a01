//! First visit: sign in with Zoho (the host's OAuth code flow).
//!
//! At the top of a tab the link simply navigates to `/auth/login`. Inside the CRM's web tab the
//! widget is framed: Zoho's consent page refuses to be framed, and taking the whole CRM tab
//! away is not what a user expects, so sign-in opens in a popup window
//! (`/auth/login?popup=1`). When it is done the popup posts `nzsync-signed-in` to this window
//! (same origin only) and closes, and the widget reloads who is signed in. A blocked popup
//! falls back to navigating the top window.

use wasm_bindgen::JsCast as _;
use wasm_bindgen::closure::Closure;
use yew::prelude::*;

use crate::i18n::{Lang, T};

/// Properties of [`SignIn`].
#[derive(Properties, PartialEq)]
pub struct SignInProps {
    /// UI language.
    pub lang: Lang,
    /// Called when sign-in finished in a popup window.
    pub on_signed_in: Callback<()>,
}

/// The message `/auth/popup.js` posts when sign-in finished.
const SIGNED_IN_MESSAGE: &str = "nzsync-signed-in";

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
    let t = |k| props.lang.t(k);
    let waiting = use_state(|| false);
    // Listen for the popup's message while this screen is shown.
    {
        let on_signed_in = props.on_signed_in.clone();
        use_effect_with((), move |()| {
            let listener = web_sys::window().map(|w| {
                let origin = w.location().origin().unwrap_or_default();
                let cb = Closure::<dyn Fn(web_sys::MessageEvent)>::new(
                    move |e: web_sys::MessageEvent| {
                        if e.origin() == origin
                            && e.data().as_string().as_deref() == Some(SIGNED_IN_MESSAGE)
                        {
                            on_signed_in.emit(());
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
    let onclick = {
        let waiting = waiting.clone();
        Callback::from(move |e: MouseEvent| {
            if !framed() {
                return; // The link navigates this tab.
            }
            let opened = web_sys::window().and_then(|w| {
                w.open_with_url_and_target_and_features(
                    "/auth/login?popup=1",
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
    html! {
        <section class="card narrow" aria-labelledby="signin-title">
            <h2 id="signin-title">{ t(T::AppTitle) }</h2>
            <p>{ t(T::SignInIntro) }</p>
            <a id="sign-in" class="button primary" href="/auth/login" target="_top" {onclick}>{ t(T::SignIn) }</a>
            if *waiting {
                <p role="status" id="sign-in-waiting">{ t(T::SignInPopup) }</p>
            }
        </section>
    }
}
