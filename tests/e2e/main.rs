//! End-to-end suites: the real `nzsync` binary against the Domino and Zoho simulators, over
//! loopback. Built as an integration test of the `nzsync` package (see host/Cargo.toml).

#![allow(clippy::unwrap_used)] // A failed unwrap is how a test reports failure.

mod backend_switch;
mod cli_errors;
mod contacts_sync;
mod crash_kill;
mod credits;
mod differential;
mod engine_faults;
mod engine_faults_cases;
mod events_sync;
mod fault_matrix;
mod js_package;
mod outcomes;
mod owner_scope;
mod postgres_store;
mod readiness;
mod rest_calls;
mod rest_readiness;
mod sim_command;
mod spec_coverage;
mod tasks_sync;
mod uninstall;
mod world;
