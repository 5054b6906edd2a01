//! The widget inside Zoho CRM's web tab, through Zoho's embedded-app SDK.
//!
//! Zoho frames a widget with `?serviceOrigin=<the CRM's origin>` in its URL (the SDK reads it to
//! know whom to talk to). When that parameter is there and the page is framed, the widget loads
//! Zoho's SDK (its URL comes from the host, `GET /widget/crm.json`), registers for the
//! `PageLoad` event, calls `ZOHO.embeddedApp.init()`, and once the page is loaded asks
//! `ZOHO.CRM.CONFIG.getCurrentUser()` and `ZOHO.CRM.CONFIG.getOrgInfo()` who is using the CRM.
//! Zoho documents these calls in the SDK's help (help.zwidgets.com, v1.2) and in
//! `github.com/zoho/embeddedApp-js-sdk` (README: "To register Listeners with EmbededApp").
//!
//! What the SDK says is used for the user's language and time zone, to say whose consent is
//! asked, and to refuse a session of another Zoho account. It is a claim made inside the
//! browser: the host never grants anything on it (see `host/src/server/auth.rs`).

use serde::Deserialize;
use wasm_bindgen::{JsCast as _, JsValue};

use crate::i18n::Lang;

/// Who uses the CRM, as the SDK tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrmUser {
    /// CRM user id.
    pub user_id: String,
    /// E-mail.
    pub email: String,
    /// Full name as the CRM shows it.
    pub name: String,
    /// CRM org id, when the SDK gave it.
    pub org_id: Option<String>,
    /// The user's CRM language.
    pub lang: Option<Lang>,
    /// The user's CRM time zone (IANA name).
    pub time_zone: Option<String>,
}

/// `serviceOrigin` of the page's URL when the page is framed: the origin of the Zoho CRM that
/// frames it. `None` outside the CRM (a tab of its own, or a frame without the parameter).
#[must_use]
pub fn service_origin() -> Option<String> {
    let w = web_sys::window()?;
    let framed = match w.top() {
        Ok(Some(top)) => !js_sys::Object::is(&top, &w),
        _ => true,
    };
    if !framed {
        return None;
    }
    let search = w.location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.get("serviceOrigin").filter(|o| !o.is_empty())
}

#[derive(Deserialize)]
struct SdkConfig {
    sdk: String,
}

#[derive(Deserialize)]
struct Users {
    #[serde(default)]
    users: Vec<UserInfo>,
}

#[derive(Deserialize)]
struct UserInfo {
    id: serde_json::Value,
    #[serde(default)]
    email: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    time_zone: Option<String>,
}

#[derive(Deserialize)]
struct Orgs {
    #[serde(default)]
    org: Vec<OrgInfo>,
}

#[derive(Deserialize)]
struct OrgInfo {
    id: serde_json::Value,
}

fn id_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn get(obj: &JsValue, path: &[&str]) -> Result<JsValue, String> {
    let mut v = obj.clone();
    for key in path {
        v = js_sys::Reflect::get(&v, &JsValue::from_str(key))
            .ok()
            .filter(|x| !x.is_undefined() && !x.is_null())
            .ok_or_else(|| format!("the SDK has no {}", path.join(".")))?;
    }
    Ok(v)
}

/// Calls `ZOHO.<path>(args…)` and awaits its answer when it is a promise.
async fn call(zoho: &JsValue, path: &[&str], args: &[JsValue]) -> Result<JsValue, String> {
    let (name, owner) = path.split_last().ok_or("empty path")?;
    let this = get(zoho, owner)?;
    let f: js_sys::Function = get(&this, &[name])?
        .dyn_into()
        .map_err(|_| format!("ZOHO.{} is not a function", path.join(".")))?;
    let list: js_sys::Array = args.iter().collect();
    let out = f
        .apply(&this, &list)
        .map_err(|e| format!("ZOHO.{}: {e:?}", path.join(".")))?;
    match out.dyn_into::<js_sys::Promise>() {
        Ok(p) => wasm_bindgen_futures::JsFuture::from(p)
            .await
            .map_err(|e| format!("ZOHO.{}: {e:?}", path.join("."))),
        Err(v) => Ok(v),
    }
}

fn parse<T: serde::de::DeserializeOwned>(v: &JsValue) -> Result<T, String> {
    let text: String = js_sys::JSON::stringify(v)
        .map_err(|e| format!("{e:?}"))?
        .into();
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// Loads `src` as a classic script and waits until it ran.
async fn load_script(src: &str) -> Result<(), String> {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let script: web_sys::HtmlScriptElement = doc
        .create_element("script")
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "not a script element")?;
    script.set_src(src);
    let loaded = js_sys::Promise::new(&mut |resolve, reject| {
        script.set_onload(Some(&resolve));
        script.set_onerror(Some(&reject));
    });
    doc.head()
        .ok_or("no head")?
        .append_child(&script)
        .map_err(|e| format!("{e:?}"))?;
    wasm_bindgen_futures::JsFuture::from(loaded)
        .await
        .map(|_| ())
        .map_err(|_| format!("Zoho's SDK did not load from {src}"))
}

/// Resolves after `ms`, or never when the page loads first (raced below).
async fn timeout(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// Loads Zoho's SDK, waits for the CRM's `PageLoad`, and asks who the user is.
///
/// # Errors
/// A plain message when the SDK does not load or the CRM does not answer in time.
pub async fn connect() -> Result<CrmUser, String> {
    let config: SdkConfig = crate::api::get("/widget/crm.json")
        .await
        .map_err(|e| e.message)?;
    load_script(&config.sdk).await?;
    let window = web_sys::window().ok_or("no window")?;
    let zoho = get(&window, &["ZOHO"])?;
    // Register for PageLoad before init, as Zoho's examples do: the CRM answers init with it.
    let page_loaded = {
        let zoho = zoho.clone();
        js_sys::Promise::new(&mut |resolve, _reject| {
            let on = get(&zoho, &["embeddedApp", "on"])
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
            if let (Some(on), Ok(app)) = (on, get(&zoho, &["embeddedApp"])) {
                let _ = on.call2(&app, &JsValue::from_str("PageLoad"), &resolve);
            }
        })
    };
    call(&zoho, &["embeddedApp", "init"], &[]).await?;
    let loaded = wasm_bindgen_futures::JsFuture::from(page_loaded);
    futures_util::pin_mut!(loaded);
    let wait = timeout(15_000);
    futures_util::pin_mut!(wait);
    if let futures_util::future::Either::Right(_) = futures_util::future::select(loaded, wait).await
    {
        return Err("Zoho CRM did not load the page (no PageLoad event)".into());
    }
    let users: Users = parse(&call(&zoho, &["CRM", "CONFIG", "getCurrentUser"], &[]).await?)?;
    let user = users
        .users
        .into_iter()
        .next()
        .ok_or("Zoho CRM did not say who the user is")?;
    let org_id = match call(&zoho, &["CRM", "CONFIG", "getOrgInfo"], &[]).await {
        Ok(v) => parse::<Orgs>(&v)
            .ok()
            .and_then(|o| o.org.into_iter().next())
            .map(|o| id_text(&o.id)),
        Err(_) => None,
    };
    let lang = user
        .language
        .as_deref()
        .or(user.locale.as_deref())
        .map(Lang::from_code);
    Ok(CrmUser {
        user_id: id_text(&user.id),
        email: user.email,
        name: user.full_name,
        org_id,
        lang,
        time_zone: user.time_zone,
    })
}
