//! The web server's routes. For now: the widget page and its WebAssembly bundle.

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
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

/// Routes for the widget page and bundle.
pub fn widget_routes() -> Router {
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
        .route("/healthz", get(|| async { (StatusCode::OK, "ok") }))
}
