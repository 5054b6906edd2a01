//! The `nzsync` host: configuration, the store (SQLite, or PostgreSQL for a fleet), the
//! upstream clients, the wasmtime runner that executes the sync-core component, diagnostics,
//! and the web server.
//!
//! `main.rs` only parses the command line and calls [`commands`].

pub mod check;
pub mod commands;
pub mod config;
pub mod crm_cleanup;
pub mod domino_access;
pub mod drapi;
pub mod runner;
pub mod server;
pub mod server_config;
pub mod store;
pub mod upstream;
pub mod web;
pub mod zoho_token;
