//! The notes-zoho-sync widget, shown in the Zoho CRM web tab ("IBM Notes Sync").
//!
//! It links `sync-core` as an ordinary crate. The host builds it for `wasm32-unknown-unknown`,
//! runs wasm-bindgen over it and serves the result at `/widget/`.

use yew::prelude::*;

/// The widget's root component.
#[function_component(App)]
pub fn app() -> Html {
    let settings = sync_core::Settings::default();
    html! {
        <main class="nzsync">
            <h1>{ "IBM Notes Sync" }</h1>
            <p>{ "Keeps your contacts in step between IBM Notes and Zoho CRM." }</p>
            <p class="muted">
                { format!("Default sync type: {:?}, conflicts: {:?}", settings.direction, settings.conflict) }
            </p>
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
