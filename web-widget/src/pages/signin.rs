//! First visit: sign in with Zoho (the host's OAuth code flow).

use yew::prelude::*;

use crate::i18n::{Lang, T};

/// Properties of [`SignIn`].
#[derive(Properties, PartialEq)]
pub struct SignInProps {
    /// UI language.
    pub lang: Lang,
}

/// The sign-in screen.
#[component(SignIn)]
pub fn sign_in(props: &SignInProps) -> Html {
    let t = |k| props.lang.t(k);
    html! {
        <section class="card narrow" aria-labelledby="signin-title">
            <h2 id="signin-title">{ t(T::AppTitle) }</h2>
            <p>{ t(T::SignInIntro) }</p>
            <a id="sign-in" class="button primary" href="/auth/login" target="_top">{ t(T::SignIn) }</a>
        </section>
    }
}
