//! Both simulators for a client outside Rust, without building the whole host: what
//! `tests/schemathesis/run.sh` drives with schemathesis.
//!
//! ```text
//! cargo run -p nzsync-sim --example serve -- [--seed demo|empty] [--domino-port N]
//!     [--zoho-port N] [--spec-check] [--write-specs DIR]
//! ```
//!
//! Ports default to 0 (free ones). Once all listen it prints `DOMINO_URL=…`, `DRAPI_URL=…` (the
//! Domino REST API of the same Domino server) and, last, `ZOHO_URL=…` lines, then serves until
//! it gets Ctrl-C or SIGTERM.
//! `--write-specs DIR` first writes the vendored specs with the errata applied, as
//! [`nzsync_sim::spec::Specs::standalone_documents`] gives them, to `DIR/domino-das/`,
//! `DIR/domino-rest-api/` and `DIR/zoho-crm-v8/`. `--spec-check` checks every answer against them as the test suites do
//! (`GET /_sim/spec` on either port reports what it found). The users are demo/demo and
//! user2/pw2, as in the simulators' own tests.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use nzsync_sim::{Seed, SimConfig};

struct Options {
    seed: Seed,
    domino_port: u16,
    zoho_port: u16,
    spec_check: bool,
    write_specs: Option<PathBuf>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        seed: Seed::Demo,
        domino_port: 0,
        zoho_port: 0,
        spec_check: false,
        write_specs: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--seed" => options.seed = value("--seed")?.parse()?,
            "--domino-port" => {
                options.domino_port = value("--domino-port")?
                    .parse()
                    .map_err(|e| format!("--domino-port: {e}"))?;
            }
            "--zoho-port" => {
                options.zoho_port = value("--zoho-port")?
                    .parse()
                    .map_err(|e| format!("--zoho-port: {e}"))?;
            }
            "--spec-check" => options.spec_check = true,
            "--write-specs" => options.write_specs = Some(value("--write-specs")?.into()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn write_specs(dir: &std::path::Path) -> std::io::Result<()> {
    for (name, _, document) in nzsync_sim::spec::specs().standalone_documents() {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, serde_json::to_string_pretty(&document)?)?;
    }
    Ok(())
}

async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await;
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("serve: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &options.write_specs
        && let Err(e) = write_specs(dir)
    {
        eprintln!("serve: writing the specs to {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let sims = match nzsync_sim::start(SimConfig {
        domino_port: options.domino_port,
        zoho_port: options.zoho_port,
        domino_users: vec![
            ("demo".into(), "demo".into()),
            ("user2".into(), "pw2".into()),
        ],
        spec_check: options.spec_check,
        ..SimConfig::loopback(options.seed)
    })
    .await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("serve: starting the simulators: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let printed = writeln!(out, "DOMINO_URL={}", sims.domino_url)
        .and_then(|()| writeln!(out, "DRAPI_URL={}", sims.drapi_url))
        .and_then(|()| writeln!(out, "ZOHO_URL={}", sims.zoho_url))
        .and_then(|()| out.flush());
    drop(out);
    if let Err(e) = printed {
        eprintln!("serve: {e}");
        sims.shutdown().await;
        return ExitCode::FAILURE;
    }
    tokio::select! {
        () = terminated() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    sims.shutdown().await;
    ExitCode::SUCCESS
}
