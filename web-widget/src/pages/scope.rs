//! "Which records" in the sync settings (owner scope, `DESIGN.md` §4.3): per module, the
//! user's own records (the default) or a CRM custom view listed from Zoho CRM.

use serde::Deserialize;
use sync_core::{Module, Scope};
use yew::prelude::*;

use super::select_value;
use crate::api;
use crate::i18n::{Lang, T};

/// A custom view as `GET /crm/v8/settings/custom_views` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
struct View {
    id: String,
    #[serde(default)]
    display_value: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    system_name: Option<String>,
}

impl View {
    fn label(&self) -> String {
        self.display_value
            .clone()
            .or_else(|| self.name.clone())
            .unwrap_or_else(|| self.id.clone())
    }

    /// The system "My …" views are what `mine` already is.
    fn is_my_view(&self) -> bool {
        self.system_name
            .as_deref()
            .is_some_and(|n| n.to_ascii_uppercase().starts_with("MY"))
    }
}

#[derive(Deserialize)]
struct Views {
    #[serde(default)]
    custom_views: Vec<View>,
}

/// Properties of [`ScopePicker`].
#[derive(Properties, PartialEq)]
pub struct ScopeProps {
    /// UI language.
    pub lang: Lang,
    /// The module.
    pub module: Module,
    /// The current choice.
    pub scope: Scope,
    /// A new choice.
    pub on_change: Callback<Scope>,
}

/// One module's choice of records.
#[component(ScopePicker)]
pub fn scope_picker(props: &ScopeProps) -> Html {
    let lang = props.lang;
    let t = |k| lang.t(k);
    // None: loading; Some(Err): the CRM could not list them (the user can still keep "mine").
    let views = use_state(|| None::<Result<Vec<View>, String>>);
    {
        let views = views.clone();
        use_effect_with(props.module, move |module| {
            let path = format!(
                "/proxy/zoho/crm/v8/settings/custom_views?module={}",
                module.crm_api_name()
            );
            wasm_bindgen_futures::spawn_local(async move {
                let r = api::get::<Views>(&path).await;
                views.set(Some(r.map(|v| v.custom_views).map_err(|e| e.message)));
            });
        });
    }
    let id = format!("scope-{}", props.module.crm_api_name().to_ascii_lowercase());
    let onchange = {
        let on_change = props.on_change.clone();
        Callback::from(move |e: Event| {
            let v = select_value(&e);
            on_change.emit(if v == "mine" {
                Scope::Mine
            } else {
                Scope::View(v)
            });
        })
    };
    let current = match &props.scope {
        Scope::Mine => "mine".to_owned(),
        Scope::View(cvid) => cvid.clone(),
    };
    let label = match props.module {
        Module::Contacts => t(T::ScopeContacts),
        Module::Tasks => t(T::ScopeTasks),
        Module::Events => t(T::ScopeEvents),
    };
    let listed: Vec<View> = match &*views {
        Some(Ok(v)) => v.iter().filter(|v| !v.is_my_view()).cloned().collect(),
        _ => Vec::new(),
    };
    // A chosen view the CRM no longer lists stays visible, so saving does not change it.
    let unknown = matches!(&props.scope, Scope::View(c) if !listed.iter().any(|v| &v.id == c));
    html! {
        <div class="field inline">
            <label for={id.clone()}>{ label }</label>
            <select id={id} data-module={props.module.crm_api_name()} {onchange}>
                <option value="mine" selected={current == "mine"}>{ t(T::ScopeMine) }</option>
                // The views' names are the CRM's own (data, as the CRM names them).
                if !listed.is_empty() || unknown {
                    <optgroup label={t(T::ScopeView)}>
                        { for listed.iter().map(|v| html! {
                            <option value={v.id.clone()} selected={current == v.id} translate="no">
                                { v.label() }
                            </option>
                        }) }
                        if unknown {
                            <option value={current.clone()} selected=true>
                                { format!("{current} ({})", t(T::ScopeViewGone)) }
                            </option>
                        }
                    </optgroup>
                }
            </select>
            if let Some(Err(e)) = &*views {
                <div class="hint" role="status">
                    <p>{ t(T::ScopeViewsUnavailable) }</p>
                    { crate::components::technical_details(lang, e) }
                </div>
            }
        </div>
    }
}
