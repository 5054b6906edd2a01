//! `nzsync`: parses the command line and dispatches to [`nzsync::commands`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use nzsync::commands;

#[derive(Parser)]
#[command(
    name = "nzsync",
    version,
    about = "Keeps contacts, to-dos and events in step between HCL Notes/Domino and Zoho CRM"
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

/// Which Domino API the demo syncs through.
#[derive(Clone, Copy, ValueEnum)]
enum ApiArg {
    /// Domino Access Services.
    Das,
    /// The Domino REST API.
    Rest,
}

/// What `drapi-schema` prints.
#[derive(Clone, Copy, ValueEnum)]
enum PartArg {
    /// `{"schema": …, "scope": …}`.
    All,
    /// The schema alone (the body of `POST /api/setup-v1/schema`).
    Schema,
    /// The scope alone (the body of `POST /api/setup-v1/admin/scope`).
    Scope,
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
        /// The Domino API the demo's headless configs sync through.
        #[arg(long, value_enum, default_value_t = ApiArg::Das)]
        domino_api: ApiArg,
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
    /// Check the connection to Domino and Zoho, and that Domino Access Services or the Domino
    /// REST API is set up for the mail file.
    Check {
        /// The config file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Print the schema and scope a Domino admin imports into the Domino REST API so a mail
    /// file syncs through it (JSON on stdout, the steps on stderr).
    DrapiSchema {
        /// The mail file, e.g. mail/jdoe.nsf.
        #[arg(long)]
        mail_db: String,
        /// The scope's name (lower-case letters and digits; by default from the mail file's
        /// path, e.g. mailjdoe).
        #[arg(long)]
        scope: Option<String>,
        /// The Domino REST API's base URL, for the import requests the steps show.
        #[arg(long, default_value = "https://domino.example.com:8880")]
        url: String,
        /// Print only this part.
        #[arg(long, value_enum, default_value_t = PartArg::All)]
        part: PartArg,
    },
    /// Start the Domino and Zoho CRM simulators alone.
    Sim {
        /// Domino simulator port (Domino Access Services).
        #[arg(long, default_value_t = 18081)]
        domino_port: u16,
        /// The Domino REST API's port (default: the Domino port + 2).
        #[arg(long)]
        drapi_port: Option<u16>,
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
            domino_api,
        } => {
            let crm = commands::DemoCrm {
                frame_ancestors,
                sdk_url: crm_sdk_url,
                domino_api: match domino_api {
                    ApiArg::Das => commands::DemoApi::Das,
                    ApiArg::Rest => commands::DemoApi::Rest,
                },
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
        Command::DrapiSchema {
            mail_db,
            scope,
            url,
            part,
        } => commands::drapi_schema(
            &mail_db,
            scope.as_deref(),
            &url,
            match part {
                PartArg::All => commands::SchemaPart::All,
                PartArg::Schema => commands::SchemaPart::Schema,
                PartArg::Scope => commands::SchemaPart::Scope,
            },
        ),
        Command::Sim {
            domino_port,
            drapi_port,
            zoho_port,
            latency_ms,
            seed,
            domino_users,
            spec_check,
        } => {
            commands::sim(commands::SimOptions {
                domino_port,
                drapi_port,
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
