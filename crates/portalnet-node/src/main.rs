//! `portald`: initialise, run, or run a local network of portals.

use anyhow::Result;
use clap::{Parser, Subcommand};
use portalnet_node::clock::SystemClock;
use portalnet_node::devnet::{exports, start_devnet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Prints a line to stdout, ignoring a closed pipe: whoever read our output may
/// have gone, and that is no reason to fail a shutdown.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

#[derive(Parser)]
#[command(name = "portald", version, about = "portalnet portal node")]
struct Args {
    #[command(subcommand)]
    cmd: Cmd,
    /// Log format: text or json (one object per line, with span fields such as
    /// trace_id). Default: `[log] format` in portald.toml, else text.
    #[arg(long, global = true, env = "PORTALD_LOG_FORMAT")]
    log_format: Option<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a data folder: config, key pair, TLS certificate, storage, admin token.
    Init {
        #[arg(long)]
        dir: PathBuf,
        /// The portal's DNS-like id, e.g. alpha.test.
        #[arg(long)]
        portal: String,
        #[arg(long, default_value = "127.0.0.1:7400")]
        listen: SocketAddr,
        /// The portal's language: en, pl or ru (its e-mail; its pages when the browser asks for none of these).
        #[arg(long, default_value = "en", value_parser = ["en", "pl", "ru"])]
        language: String,
    },
    /// Run the portal in DIR until SIGINT or SIGTERM.
    Run {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Run a Network directory and N portals on loopback in one process
    /// (initialised, seeded and networked on first run).
    Devnet {
        #[arg(long, default_value_t = 3)]
        portals: usize,
        #[arg(long)]
        dir: PathBuf,
        /// Port of the first portal (the others follow, the directory takes the one
        /// before); 0 picks free ports.
        #[arg(long, default_value_t = 7401)]
        base_port: u16,
        /// Seconds from switching the network on to cross-portal tasks (R15: one
        /// day in production).
        #[arg(long, default_value_t = 30)]
        activation_delay_secs: u64,
    },
    /// Run the Network directory in DIR (created on first run); `enrol` and
    /// `enrolments` manage the portal ids it accepts.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Directory {
        #[command(subcommand)]
        action: Option<DirectoryCmd>,
        #[arg(long, required = true)]
        dir: Option<PathBuf>,
        /// The directory's id (the destination portals sign for).
        #[arg(long, default_value = "directory.test")]
        id: String,
        #[arg(long, default_value = "127.0.0.1:7400")]
        listen: SocketAddr,
        /// Keep the directory's state in PostgreSQL (postgres://user:password@host/db)
        /// instead of sled in DIR; directory nodes given the same database serve one
        /// Network together. Overrides `database` in directory.toml.
        #[arg(long, env = "PORTALD_DATABASE")]
        database: Option<String>,
    },
    /// Link a portal to a Network directory (written to portald.toml).
    Link {
        #[arg(long)]
        dir: PathBuf,
        /// The directory's endpoint, e.g. https://127.0.0.1:7400; several nodes of
        /// one directory: repeat the option or separate them with commas.
        #[arg(long, required = true, value_delimiter = ',')]
        directory: Vec<String>,
        /// The directory's id.
        #[arg(long, default_value = "directory.test")]
        directory_id: String,
        /// The directory's TLS certificate (PEM) to trust.
        #[arg(long)]
        directory_ca: PathBuf,
        #[arg(long)]
        activation_delay_secs: Option<u64>,
        /// The one-time enrolment secret from the directory's operator, needed for
        /// the portal's first registration (kept in DIR until then).
        #[arg(long, value_name = "SECRET")]
        enrolment: Option<String>,
    },
    /// Make a new key pair for the portal; the old key signs its announcement to
    /// the directory at the next start.
    RotateKey {
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum DirectoryCmd {
    /// Enrol PORTAL_ID: print a one-time secret that lets that portal register
    /// (only its SHA-256 is stored). Works while the directory runs.
    Enrol {
        #[arg(long)]
        dir: PathBuf,
        portal_id: String,
        /// Days the secret stays valid.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=365))]
        valid_days: u32,
    },
    /// List enrolments: waiting, used, expired.
    Enrolments {
        #[arg(long)]
        dir: PathBuf,
    },
}

#[tokio::main]
async fn main() {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let fmt = match log_format(&args).as_str() {
        "json" => tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr).boxed(),
        _ => tracing_subscriber::fmt::layer().with_writer(std::io::stderr).boxed(),
    };
    // Traces over OTLP only when asked for; a bad endpoint is said, not fatal.
    let (provider, tracer) = match otlp_endpoint(&args) {
        Some((endpoint, service)) => match portalnet_node::otlp::start(&endpoint, &service) {
            Ok((p, t)) => (Some(p), Some(t)),
            Err(e) => {
                eprintln!("warning: traces are not exported: {e:#}");
                (None, None)
            }
        },
        None => (None, None),
    };
    let otel = tracer.map(|t| tracing_opentelemetry::layer().with_tracer(t));
    tracing_subscriber::registry().with(filter).with(fmt).with(otel).init();
    let result = run(args).await;
    if let Some(p) = provider
        && let Err(e) = p.shutdown()
    {
        eprintln!("warning: the last traces were not exported: {e}");
    }
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// `PORTALD_OTLP_ENDPOINT`, else `[log] otlp_endpoint` of the portal being run;
/// with the service name the traces carry (the portal id, or `directory`).
fn otlp_endpoint(args: &Args) -> Option<(String, String)> {
    let config = match &args.cmd {
        Cmd::Run { dir } => portalnet_node::config::NodeConfig::load(dir).ok(),
        _ => None,
    };
    let service = match (&args.cmd, &config) {
        (Cmd::Directory { .. }, _) => "directory".to_string(),
        (_, Some(c)) => c.portal_id.clone(),
        _ => "portald".to_string(),
    };
    std::env::var("PORTALD_OTLP_ENDPOINT")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .or_else(|| config.and_then(|c| c.log.otlp_endpoint))
        .map(|e| (e.trim().to_string(), service))
}

async fn run(args: Args) -> Result<()> {
    let clock = Arc::new(SystemClock);
    match args.cmd {
        Cmd::Init { dir, portal, listen, language } => {
            let done = portalnet_node::init::init(&dir, &portal, listen, clock.as_ref())?;
            if language != done.config.language {
                let mut config = done.config.clone();
                config.language = language;
                config.save(&dir)?;
            }
            say!("initialised portal {} in {}", done.config.portal_id, dir.display());
            say!("admin token (also in {}): {}", dir.join("admin.token").display(), done.admin_token);
            say!("start it with: portald run --dir {}", dir.display());
            Ok(())
        }
        Cmd::Run { dir } => {
            let shutdown = CancellationToken::new();
            let node = portalnet_node::start(&dir, clock, None, shutdown.clone()).await?;
            say!("portald: {} serving on {}", node.state.portal.settings.portal_id, node.endpoint);
            tokio::spawn(on_signal(shutdown));
            node.wait().await?;
            say!("portald: stopped");
            Ok(())
        }
        Cmd::Devnet { portals, dir, base_port, activation_delay_secs } => {
            let shutdown = CancellationToken::new();
            let net = start_devnet(&dir, portals, base_port, activation_delay_secs, clock, shutdown.clone())
                .await?;
            say!("directory  {}  ({})", net.directory.endpoint, net.directory.id);
            for p in &net.portals {
                say!("{}  {}", p.id, p.handle.endpoint);
                say!("  {}", exports(&p.handle.endpoint, &p.admin_token, &p.dir));
                let show = |a: Option<SocketAddr>| a.map_or_else(|| "off".to_string(), |a| a.to_string());
                say!(
                    "  mail in: lmtp {} smtp {}; web {}",
                    show(p.handle.lmtp_addr),
                    show(p.handle.smtp_addr),
                    p.handle.web_url.as_deref().unwrap_or("off")
                );
            }
            say!("devnet ready: {} portals; Ctrl-C stops them", net.portals.len());
            tokio::spawn(on_signal(shutdown.clone()));
            shutdown.cancelled().await;
            net.stop().await?;
            say!("devnet: stopped");
            Ok(())
        }
        Cmd::Directory { action: Some(action), .. } => directory_cmd(action, clock.as_ref()),
        Cmd::Directory { action: None, dir, id, listen, database } => {
            let dir = dir.ok_or_else(|| anyhow::anyhow!("--dir is required"))?;
            portalnet_node::directory::server::init_if_needed(&dir, &id, listen)?;
            let shutdown = CancellationToken::new();
            let d =
                portalnet_node::directory::server::start_on(&dir, database, clock, None, shutdown.clone())
                    .await?;
            say!("directory {} serving on {} (portals trust {})", d.id, d.endpoint, d.cert.display());
            tokio::spawn(on_signal(shutdown.clone()));
            d.wait().await?;
            say!("directory: stopped");
            Ok(())
        }
        Cmd::Link { dir, directory, directory_id, directory_ca, activation_delay_secs, enrolment } => {
            let mut cfg = portalnet_node::config::NodeConfig::load(&dir)?;
            let ca = std::fs::canonicalize(&directory_ca)
                .map_err(|e| anyhow::anyhow!("{}: {e}", directory_ca.display()))?;
            cfg.directory = Some(portalnet_node::config::DirectoryLink {
                endpoint: directory.first().cloned().unwrap_or_default(),
                endpoints: directory.iter().skip(1).cloned().collect(),
                id: directory_id,
                ca,
            });
            if let Some(s) = activation_delay_secs {
                cfg.network.activation_delay_secs = s;
            }
            if let Some(secret) = &enrolment {
                portalnet_node::directory::enrolment::save_for_portal(&dir, secret)?;
            }
            cfg.save(&dir)?;
            say!("linked; restart the portal (portald run --dir {})", dir.display());
            if enrolment.is_none() {
                say!(
                    "a portal the directory does not know yet registers only with an enrolment secret: \
                     ask the directory's operator (`portald directory enrol --dir DIR {}`) and link again \
                     with --enrolment SECRET",
                    cfg.portal_id
                );
            }
            Ok(())
        }
        Cmd::RotateKey { dir } => {
            let id = portalnet_node::identity::Identity::rotate(&dir)?;
            say!(
                "new key {}; the old one is kept to sign the rotation. Restart the portal.",
                id.fingerprint()
            );
            Ok(())
        }
    }
}

fn directory_cmd(action: DirectoryCmd, clock: &dyn portalnet_core::Clock) -> Result<()> {
    match action {
        DirectoryCmd::Enrol { dir, portal_id, valid_days } => {
            let ttl = i64::from(valid_days) * 24 * 3600 * 1000;
            let now = portalnet_core::Clock::now(clock);
            let secret = portalnet_node::directory::enrolment::enrol(&dir, &portal_id, now, ttl)?;
            say!("{secret}");
            eprintln!(
                "enrolled {portal_id} until {}: give the portal's operator this one-time secret, who links \
                 with `portald link --dir PORTAL_DIR --directory ENDPOINT --directory-ca CERT --enrolment SECRET`",
                now.plus_millis(ttl).to_utc_string()
            );
            Ok(())
        }
        DirectoryCmd::Enrolments { dir } => {
            let list = portalnet_node::directory::enrolment::list(&dir, portalnet_core::Clock::now(clock))?;
            if list.is_empty() {
                say!("no enrolments");
            }
            for e in list {
                say!(
                    "{}  {}  expires {}  {}",
                    e.portal_id,
                    e.hash_prefix,
                    e.expires_at.to_utc_string(),
                    e.state
                );
            }
            Ok(())
        }
    }
}

/// `--log-format` / `PORTALD_LOG_FORMAT`, else `[log] format` of the portal being run.
fn log_format(args: &Args) -> String {
    if let Some(f) = &args.log_format {
        return f.trim().to_ascii_lowercase();
    }
    match &args.cmd {
        Cmd::Run { dir } => portalnet_node::config::NodeConfig::load(dir)
            .ok()
            .and_then(|c| c.log.format)
            .map(|f| f.trim().to_ascii_lowercase())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Cancels `token` on SIGINT or SIGTERM.
async fn on_signal(token: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                let _ = ctrl_c.await;
                token.cancel();
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
    token.cancel();
}
