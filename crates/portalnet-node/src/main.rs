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
    },
    /// Run the portal in DIR until SIGINT or SIGTERM.
    Run {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Run N portals on loopback in one process (initialised and seeded on first run).
    Devnet {
        #[arg(long, default_value_t = 3)]
        portals: usize,
        #[arg(long)]
        dir: PathBuf,
        /// Port of the first portal (the others follow); 0 picks free ports.
        #[arg(long, default_value_t = 7401)]
        base_port: u16,
    },
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<()> {
    let clock = Arc::new(SystemClock);
    match args.cmd {
        Cmd::Init { dir, portal, listen } => {
            let done = portalnet_node::init::init(&dir, &portal, listen, clock.as_ref())?;
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
        Cmd::Devnet { portals, dir, base_port } => {
            let shutdown = CancellationToken::new();
            let net = start_devnet(&dir, portals, base_port, clock, shutdown.clone()).await?;
            for p in &net {
                say!("{}  {}", p.id, p.handle.endpoint);
                say!("  {}", exports(&p.handle.endpoint, &p.admin_token, &p.dir));
            }
            say!("devnet ready: {} portals; Ctrl-C stops them", net.len());
            tokio::spawn(on_signal(shutdown.clone()));
            shutdown.cancelled().await;
            for p in net {
                p.handle.stop().await?;
            }
            say!("devnet: stopped");
            Ok(())
        }
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
