//! Builds the two WebAssembly artefacts that `nzsync` embeds:
//! - the sync-core **component** (`wasm32-wasip2`), run headless under wasmtime;
//! - the **widget** (`web-widget` for `wasm32-unknown-unknown`, then wasm-bindgen), served at
//!   `/widget/`;
//! - the **JS package** of sync-core (`wasm32-unknown-unknown` with the `js` feature, then
//!   wasm-bindgen for the `web` and `nodejs` targets), which `nzsync js-package` writes out.
//!
//! They are built by a nested cargo with its own target directory (`target/wasm-build`), so the
//! outer build's lock is never waited on, and in release mode (size and speed matter in a
//! browser and under wasmtime). Only `cargo` and the targets from `rust-toolchain.toml` are needed.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest
        .parent()
        .expect("host/ sits in the workspace root")
        .to_path_buf();
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target_dir = root.join("target").join("wasm-build");

    for p in [
        "sync-core/src",
        "sync-core/wit",
        "sync-core/Cargo.toml",
        "web-widget/src",
        "web-widget/Cargo.toml",
        "Cargo.lock",
        "www",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }

    cargo_build(&root, &target_dir, "sync-core", "wasm32-wasip2", &[]);
    let component = target_dir.join("wasm32-wasip2/release/sync_core.wasm");
    std::fs::copy(&component, out.join("sync_core.wasm")).expect("copy the sync-core component");

    cargo_build(
        &root,
        &target_dir,
        "web-widget",
        "wasm32-unknown-unknown",
        &[],
    );
    let widget = target_dir.join("wasm32-unknown-unknown/release/web_widget.wasm");
    let widget_out = out.join("widget");
    std::fs::create_dir_all(&widget_out).expect("create the widget output dir");
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&widget)
        .web(true)
        .expect("wasm-bindgen web target")
        .out_name("widget")
        .generate(&widget_out)
        .expect("wasm-bindgen generates the widget bundle");

    cargo_build(
        &root,
        &target_dir,
        "sync-core",
        "wasm32-unknown-unknown",
        &["--features", "js"],
    );
    let js = target_dir.join("wasm32-unknown-unknown/release/sync_core.wasm");
    for (flavour, node) in [("web", false), ("node", true)] {
        let dir = out.join("js").join(flavour);
        std::fs::create_dir_all(&dir).expect("create the JS package dir");
        let mut b = wasm_bindgen_cli_support::Bindgen::new();
        b.input_path(&js).typescript(true).out_name("sync_core");
        if node {
            b.nodejs(true).expect("wasm-bindgen nodejs target");
        } else {
            b.web(true).expect("wasm-bindgen web target");
        }
        b.generate(&dir)
            .expect("wasm-bindgen generates the JS package");
    }
}

fn cargo_build(root: &Path, target_dir: &Path, package: &str, target: &str, extra: &[&str]) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            package,
            "--target",
            target,
            "--target-dir",
        ])
        .arg(target_dir)
        .args(extra);
    // The outer build's settings (clippy's wrapper, coverage or sanitizer flags, features of
    // this package) must not leak into the nested one.
    for (key, _) in env::vars() {
        if key.starts_with("CARGO_FEATURE_")
            || key.starts_with("CARGO_CFG_")
            || matches!(
                key.as_str(),
                "RUSTFLAGS"
                    | "CARGO_ENCODED_RUSTFLAGS"
                    | "RUSTC_WRAPPER"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "CARGO_TARGET_DIR"
                    | "CARGO_BUILD_TARGET"
                    | "CARGO_MAKEFLAGS"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "RUSTDOCFLAGS"
                    | "CARGO_LLVM_COV"
            )
        {
            cmd.env_remove(key);
        }
    }
    let status = cmd.status().expect("run the nested cargo build");
    assert!(status.success(), "building {package} for {target} failed");
}
