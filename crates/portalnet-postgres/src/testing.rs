//! A throw-away PostgreSQL cluster for tests and benchmarks: `initdb` in a temp
//! folder, `pg_ctl start` on a free port, stopped (`-m immediate`) and removed
//! on drop. The one place tests start PostgreSQL (directory suite, e2e, bench).
//!
//! PostgreSQL refuses to run as root, and tests run as root in CI: then the
//! folder is given to the `postgres` user and the binaries run through
//! `runuser -u postgres`. Binaries come from `PORTALNET_PG_BIN`, else
//! `/usr/lib/postgresql/15/bin` (Debian's `postgresql` package). Missing
//! binaries are an error saying so: callers fail, they do not skip.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Where Debian's `postgresql` package (PostgreSQL 15) puts the server binaries.
pub const DEFAULT_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A running throw-away cluster; superuser `postgres`, trust authentication.
pub struct TempCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    /// Stops the cluster if this process dies without dropping it.
    watchdog: Option<std::process::Child>,
}

static SHARED: OnceLock<Result<TempCluster, String>> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

impl TempCluster {
    /// The binaries' folder.
    pub fn bin_dir() -> PathBuf {
        std::env::var_os("PORTALNET_PG_BIN").map_or_else(|| PathBuf::from(DEFAULT_BIN), PathBuf::from)
    }

    /// Starts a new cluster.
    pub fn start() -> Result<TempCluster, String> {
        let bin = Self::bin_dir();
        if !bin.join("initdb").exists() || !bin.join("pg_ctl").exists() {
            return Err(format!(
                "PostgreSQL binaries not found in {} (initdb, pg_ctl): install the `postgresql` package \
                 (apt-get install -y postgresql) or set PORTALNET_PG_BIN; PostgreSQL tests do not skip",
                bin.display()
            ));
        }
        let as_postgres = is_root();
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "portalnet-pg-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if as_postgres {
            run(Command::new("chown").arg("-R").arg("postgres:postgres").arg(&dir))?;
        }
        let data = dir.join("data");
        let port = free_port()?;
        let mut cluster = TempCluster { bin, dir: dir.clone(), port, as_postgres, watchdog: None };
        run(cluster.cmd("initdb").arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ]))?;
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off",
            dir.display()
        );
        run(cluster
            .cmd("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-o")
            .arg(opts)
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-w", "start"]))?;
        // If this process dies without dropping the cluster (a static, a
        // SIGKILLed test), a watchdog stops it and removes the folder.
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop}; rm -rf '{dir}'",
            pid = std::process::id(),
            stop = cluster.stop_command(),
            dir = dir.display()
        );
        cluster.watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        Ok(cluster)
    }

    /// One cluster for the whole test process, started on first use. Give each
    /// test its own database with [`TempCluster::fresh_database`].
    pub fn shared() -> Result<&'static TempCluster, String> {
        SHARED.get_or_init(TempCluster::start).as_ref().map_err(Clone::clone)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `db`.
    pub fn url_of(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// The URL of the default `postgres` database.
    pub fn url(&self) -> String {
        self.url_of("postgres")
    }

    /// Creates a new empty database and returns its URL.
    pub fn fresh_database(&self) -> Result<String, String> {
        let name = format!("t{}_{}", std::process::id(), DATABASES.fetch_add(1, Ordering::Relaxed));
        run(self
            .cmd_client("createdb")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres"])
            .arg(&name))?;
        Ok(self.url_of(&name))
    }

    /// The server log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    fn cmd(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    /// Client tools connect over TCP and need no user switch.
    fn cmd_client(&self, tool: &str) -> Command {
        let client = self.bin.join(tool);
        Command::new(if client.exists() { client } else { PathBuf::from(tool) })
    }

    fn stop_command(&self) -> String {
        let pg_ctl = self.bin.join("pg_ctl");
        let data = self.dir.join("data");
        let base = format!("{} -D '{}' -m immediate stop", pg_ctl.display(), data.display());
        if self.as_postgres { format!("runuser -u postgres -- {base}") } else { base }
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .arg("-c")
            .arg(self.stop_command())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| format!("no free port: {e}"))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{cmd:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}
