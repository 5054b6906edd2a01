//! `nzsync`: parses the command line and dispatches to [`nzsync::commands`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use nzsync::commands;

#[derive(Parser)]
#[command(
    name = "nzsync",
    version,
    about = "Keeps contacts in step between HCL Notes/Domino and Zoho CRM"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum SeedArg {
    Demo,
    Empty,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole product on simulators with sample data, with the widget in the browser.
    Demo {
        /// Port of the web server (127.0.0.1).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Folder for the demo's config and store.
        #[arg(long, default_value = "nzsync-demo")]
        data: PathBuf,
        /// Another local page that may frame the widget, e.g. a Zoho CRM stand-in
        /// (an origin, repeatable).
        #[arg(long = "frame-ancestor")]
        frame_ancestors: Vec<String>,
        /// Load Zoho's embedded-app SDK from this URL instead of Zoho's.
        #[arg(long)]
        crm_sdk_url: Option<String>,
    },
    /// The web server for the widget: sign-in, users, settings, proxy, scheduled syncs.
    Serve {
        /// The server config file (see README, "Server").
        #[arg(long)]
        config: PathBuf,
    },
    /// One headless sync, inside the sync-core component under wasmtime.
    Sync {
        /// The config file.
        #[arg(long)]
        config: PathBuf,
        /// Preview: read both sides, write nothing, show what would happen.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Let this run delete more than half of a module's linked records.
        #[arg(long)]
        allow_mass_delete: bool,
    },
    /// Check the connection to Domino and Zoho and that Domino Access Services is enabled.
    Check {
        /// The config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Start the Domino and Zoho CRM simulators alone.
    Sim {
        /// Domino simulator port.
        #[arg(long, default_value_t = 18081)]
        domino_port: u16,
        /// Zoho CRM simulator port.
        #[arg(long, default_value_t = 18082)]
        zoho_port: u16,
        /// Latency added to every API request, in milliseconds.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Sample data to load.
        #[arg(long, value_enum, default_value_t = SeedArg::Demo)]
        seed: SeedArg,
        /// A Domino user, NAME:PASSWORD (repeatable; default demo:demo and user2:user2).
        #[arg(long = "domino-user", value_parser = parse_user)]
        domino_users: Vec<(String, String)>,
        /// Check every answer against IBM's and Zoho's OpenAPI specs; `GET /_sim/spec` on
        /// either port reports what was checked and any mismatch.
        #[arg(long)]
        spec_check: bool,
    },
    /// Delete everything stored for a config (sync state, run history) or for a whole server;
    /// optionally first the CRM records the integration created.
    #[command(group(clap::ArgGroup::new("target").required(true).args(["config", "server_config"])))]
    Uninstall {
        /// The headless sync's config file (`nzsync.toml`).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The server's config file: removes every org and user the server stores.
        #[arg(long)]
        server_config: Option<PathBuf>,
        /// Also delete, from Zoho CRM, the records the integration created (never records it
        /// matched to existing ones; never anything in IBM Notes).
        #[arg(long)]
        delete_crm_records: bool,
        /// Confirm: this cannot be undone.
        #[arg(long)]
        yes: bool,
    },
    /// Write the Zoho CRM extension for this server (then `zet validate` and `zet pack` in it).
    Extension {
        /// The server's public URL, https://host[:port] (what users and Zoho CRM reach).
        #[arg(long)]
        public_url: String,
        /// The folder to write (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the sync-core JavaScript package (wasm-bindgen; `web/` and `node/`) to a folder.
    JsPackage {
        /// The folder to write (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
}

fn parse_user(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((n, p)) if !n.is_empty() && !p.is_empty() => Ok((n.to_owned(), p.to_owned())),
        _ => Err(format!("{s:?} is not NAME:PASSWORD")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo {
            port,
            data,
            frame_ancestors,
            crm_sdk_url,
        } => {
            let crm = commands::DemoCrm {
                frame_ancestors,
                sdk_url: crm_sdk_url,
            };
            commands::demo(port, &data, &crm).await
        }
        Command::Serve { config } => commands::serve(&config).await,
        Command::Sync {
            config,
            dry_run,
            json,
            allow_mass_delete,
        } => commands::sync(&config, dry_run, json, allow_mass_delete).await,
        Command::Check { config } => commands::check(&config).await,
        Command::Sim {
            domino_port,
            zoho_port,
            latency_ms,
            seed,
            domino_users,
            spec_check,
        } => {
            commands::sim(commands::SimOptions {
                domino_port,
                zoho_port,
                latency_ms,
                demo_seed: matches!(seed, SeedArg::Demo),
                domino_users,
                spec_check,
            })
            .await
        }
        Command::Uninstall {
            config,
            server_config,
            delete_crm_records,
            yes,
        } => {
            match config
                .map(commands::UninstallTarget::Config)
                .or(server_config.map(commands::UninstallTarget::Server))
            {
                Some(target) => commands::uninstall(&target, delete_crm_records, yes).await,
                None => Err(anyhow::anyhow!("give --config or --server-config")),
            }
        }
        Command::Extension { public_url, out } => commands::extension(&public_url, &out),
        Command::JsPackage { out } => commands::js_package(&out),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nzsync: {}", commands::error_text(&e));
            ExitCode::from(commands::EXIT_FAILED)
        }
    }
}
