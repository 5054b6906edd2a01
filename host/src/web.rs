//! The web server's routes. For now: the widget page and its WebAssembly bundle, and the
//! Content-Security-Policy its pages get.

use std::sync::{LazyLock, OnceLock};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The page the widget mounts into.
pub static INDEX_HTML: &str = include_str!("../../www/index.html");
/// wasm-bindgen's JS glue for the widget.
pub static WIDGET_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/widget/widget.js"));
/// The widget's WebAssembly.
pub static WIDGET_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/widget/widget_bg.wasm"));

macro_rules! js_file {
    ($flavour:literal, $name:literal) => {
        (
            $flavour,
            $name,
            include_bytes!(concat!(env!("OUT_DIR"), "/js/", $flavour, "/", $name)) as &[u8],
        )
    };
}

/// The sync-core JS package (wasm-bindgen), per flavour: `(flavour, file name, bytes)`.
pub static JS_PACKAGE: &[(&str, &str, &[u8])] = &[
    js_file!("web", "sync_core.js"),
    js_file!("web", "sync_core.d.ts"),
    js_file!("web", "sync_core_bg.wasm"),
    js_file!("web", "sync_core_bg.wasm.d.ts"),
    js_file!("node", "sync_core.js"),
    js_file!("node", "sync_core.d.ts"),
    js_file!("node", "sync_core_bg.wasm"),
    js_file!("node", "sync_core_bg.wasm.d.ts"),
];

fn asset(content_type: &'static str, body: impl IntoResponse) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// The origins that may frame the widget's pages besides the server's own: Zoho CRM in every
/// data centre, and the hosts Zoho serves extension widgets from (the web tab's
/// `app/widget.html` frames the widget, and every ancestor must be allowed).
pub const ZOHO_FRAME_ANCESTORS: &[&str] = &[
    "https://crm.zoho.com",
    "https://crm.zoho.eu",
    "https://crm.zoho.in",
    "https://crm.zoho.com.au",
    "https://crm.zoho.jp",
    "https://crm.zoho.com.cn",
    "https://crm.zohocloud.ca",
    "https://crm.zoho.sa",
    "https://*.zappsusercontent.com",
    "https://*.zappsusercontent.eu",
];

/// Zoho's embedded-app SDK for widgets, as Zoho publishes it (the widget loads it only when
/// Zoho CRM frames it, `web-widget/src/crm.rs`).
pub const ZOHO_WIDGET_SDK: &str = "https://live.zwidgets.com/js-sdk/1.2/ZohoEmbededAppSDK.min.js";

static CRM_SDK: OnceLock<String> = OnceLock::new();

/// Loads the embedded-app SDK from `url` instead of Zoho's (an operator's own copy, or the
/// stand-in the browser tests serve). Takes effect only before the first page is served;
/// `false` when it came too late.
pub fn use_crm_sdk(url: &str) -> bool {
    CRM_SDK.set(url.to_owned()).is_ok()
}

fn crm_sdk() -> &'static str {
    CRM_SDK.get_or_init(|| ZOHO_WIDGET_SDK.to_owned())
}

/// The origin (`scheme://host[:port]`) of the SDK's URL, for the page's `script-src`.
fn crm_sdk_origin() -> String {
    url::Url::parse(crm_sdk()).map_or_else(
        |_| "https://live.zwidgets.com".to_owned(),
        |u| u.origin().ascii_serialization(),
    )
}

/// `'sha256-…'` of every inline `<script>` (without `src`) or `<style>` element of `page`.
fn inline_hashes(page: &str, tag: &str) -> Vec<String> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(gt) = after.find('>') else { break };
        let attrs = &after[..gt];
        let body_start = &after[gt + 1..];
        let Some(end) = body_start.find(&close) else {
            break;
        };
        if !attrs.contains("src=") {
            let digest = sha2::Sha256::digest(&body_start.as_bytes()[..end]);
            out.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &body_start[end + close.len()..];
    }
    out
}

/// The script and style sources of the widget's pages: its own files, WebAssembly compiled
/// from them (`'wasm-unsafe-eval'`: wasm-bindgen's `init` compiles `widget_bg.wasm`), Zoho's
/// embedded-app SDK (its origin), and the exact inline boot script and style sheet of
/// [`INDEX_HTML`] by hash. No `'unsafe-inline'`, no `'unsafe-eval'`.
static PAGE_SOURCES: LazyLock<String> = LazyLock::new(|| {
    let scripts = inline_hashes(INDEX_HTML, "script").join(" ");
    let styles = inline_hashes(INDEX_HTML, "style").join(" ");
    let sdk = crm_sdk_origin();
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' {scripts} {sdk}; \
         style-src 'self' {styles}; img-src 'self' data:; connect-src 'self'; \
         base-uri 'none'; form-action 'self'"
    )
});

/// The Content-Security-Policy of an HTML answer: [`PAGE_SOURCES`] and who may frame it —
/// the server itself, [`ZOHO_FRAME_ANCESTORS`] and `extra_ancestors` (the operator's).
#[must_use]
pub fn page_csp(extra_ancestors: &[String]) -> String {
    let mut ancestors = vec!["'self'"];
    ancestors.extend(ZOHO_FRAME_ANCESTORS);
    ancestors.extend(extra_ancestors.iter().map(String::as_str));
    format!(
        "{}; frame-ancestors {}",
        PAGE_SOURCES.as_str(),
        ancestors.join(" ")
    )
}

/// Routes for the widget page and bundle.
pub fn widget_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/widget/widget.js",
            get(|| async { asset("text/javascript; charset=utf-8", WIDGET_JS) }),
        )
        .route(
            "/widget/widget_bg.wasm",
            get(|| async { asset("application/wasm", WIDGET_WASM) }),
        )
        .route(
            "/widget/crm.json",
            get(|| async {
                asset(
                    "application/json",
                    serde_json::json!({ "sdk": crm_sdk() }).to_string(),
                )
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_names_its_inline_boot_script_and_style_by_hash() {
        let csp = page_csp(&["https://crm.example.com".to_owned()]);
        // index.html has one inline module script (the boot) and one style sheet.
        assert_eq!(inline_hashes(INDEX_HTML, "script").len(), 1, "{csp}");
        assert_eq!(inline_hashes(INDEX_HTML, "style").len(), 1, "{csp}");
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{csp}"
        );
        // Zoho's widget SDK may load (inside the CRM), from its origin only.
        assert!(
            csp.contains(" https://live.zwidgets.com; style-src"),
            "{csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
            "{csp}"
        );
        assert!(
            csp.ends_with("https://*.zappsusercontent.eu https://crm.example.com"),
            "{csp}"
        );
        // A script with `src` is not hashed.
        assert!(inline_hashes("<script src=\"/a.js\"></script>", "script").is_empty());
    }
}
