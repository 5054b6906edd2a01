//! A throw-away PostgreSQL cluster on a loopback port, for tests that run against a real
//! PostgreSQL server: [`Cluster::start`] creates it in a temporary folder, its `Drop` stops
//! it (also when a test panics) and the folder goes with it.
//!
//! The server binaries come from `NZSYNC_PG_BIN` when set, else from the newest
//! `/usr/lib/postgresql/*/bin` (Debian's `postgresql` package), else from `pg_config
//! --bindir`. Without them the test fails and says how to install them: a missing PostgreSQL
//! never turns into a skipped test. `initdb` refuses to run as root, so as root the cluster
//! is created and run as the `postgres` user (which the Debian package adds).
//!
//! The cluster collates text by ICU's `en-US` rules, not byte by byte, so a query that relies
//! on byte order without saying so is caught.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A running cluster; stopped when dropped.
pub struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
    databases: AtomicU32,
    // Last: removed after the server has stopped.
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// Creates and starts a cluster (trust authentication, superuser `postgres`, no fsync).
    ///
    /// # Panics
    /// When the PostgreSQL binaries are missing or the cluster does not start; the message
    /// says why.
    pub fn start() -> Self {
        let bin = server_bin();
        let as_postgres = running_as_root();
        let dir = tempfile::tempdir().expect("a temporary folder for the PostgreSQL cluster");
        if as_postgres {
            run(
                Command::new("chown").arg("postgres:").arg(dir.path()),
                "chown the cluster folder to the postgres user",
            );
        }
        let data = dir.path().join("data");
        run(
            command(&bin, "initdb", as_postgres)
                .arg("-D")
                .arg(&data)
                .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
                .args([
                    "--locale=C.UTF-8",
                    "--locale-provider=icu",
                    "--icu-locale=en-US",
                ]),
            "initdb",
        );
        // A free port now; another process could take it before the server binds, so a
        // failed start is retried on another one.
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let options = format!(
                "-k {} -h 127.0.0.1 -p {port} -c fsync=off -c max_connections=200",
                dir.path().display()
            );
            let out = command(&bin, "pg_ctl", as_postgres)
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.path().join("server.log"))
                .args(["-w", "-t", "60", "-o", &options, "start"])
                .output()
                .expect("run pg_ctl");
            if out.status.success() {
                return Self {
                    bin,
                    data,
                    port,
                    as_postgres,
                    databases: AtomicU32::new(0),
                    _dir: dir,
                };
            }
            last = format!(
                "{}{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
            );
        }
        panic!("the test PostgreSQL cluster did not start:\n{last}");
    }

    /// The cluster's data folder (its files, as PostgreSQL wrote them).
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name` (trust authentication: no password needed).
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// A new, empty database; its URL.
    pub async fn database(&self) -> String {
        let name = format!("t{}", self.databases.fetch_add(1, Ordering::Relaxed));
        let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&self.url("postgres"))
            .await
            .expect("connect to the test cluster");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        self.url(&name)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = command(&self.bin, "pg_ctl", self.as_postgres)
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// The folder of the PostgreSQL server binaries.
fn server_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("NZSYNC_PG_BIN") {
        let bin = PathBuf::from(dir);
        assert!(
            bin.join("initdb").exists() && bin.join("pg_ctl").exists(),
            "NZSYNC_PG_BIN={} holds no initdb and pg_ctl: point it at PostgreSQL's server \
             binaries, or unset it to use Debian's `postgresql` package",
            bin.display()
        );
        return bin;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if bin.join("initdb").exists() {
            return bin;
        }
    }
    panic!(
        "PostgreSQL's server binaries (initdb, pg_ctl) were not found: these tests need a real \
         PostgreSQL. Install Debian's `postgresql` package (apt-get install postgresql), or set \
         NZSYNC_PG_BIN to the folder that holds initdb and pg_ctl."
    );
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program` of `bin`, run as the `postgres` user when `as_postgres`.
fn command(bin: &Path, program: &str, as_postgres: bool) -> Command {
    let path = bin.join(program);
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

fn run(c: &mut Command, what: &str) {
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("{what} could not run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
