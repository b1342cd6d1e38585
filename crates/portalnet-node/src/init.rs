//! `portald init`: a new data folder with config, key pair, TLS certificate,
//! storage, the `admin` user and the admin's API token (in `admin.token`).

use crate::config::NodeConfig;
use crate::identity::Identity;
use anyhow::{Context, Result, bail};
use portalnet_core::Clock;
use portalnet_core::settings::PortalSettings;
use portalnet_portal::init_portal;
use portalnet_store::Db;
use portalnet_store::schema::Tables;
use std::net::SocketAddr;
use std::path::Path;

pub const ADMIN_TOKEN_FILE: &str = "admin.token";
pub const DB_DIR: &str = "db";

pub struct Initialised {
    pub config: NodeConfig,
    pub admin_token: String,
}

pub fn init(dir: &Path, portal: &str, listen: SocketAddr, clock: &dyn Clock) -> Result<Initialised> {
    let portal_id = portalnet_core::validate::portal_id(portal).context("the portal id")?;
    if dir.join(crate::config::CONFIG_FILE).exists() {
        bail!("{} already holds a portal; use `portald run --dir {}`", dir.display(), dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let config = NodeConfig {
        display_name: portal_id.clone(),
        language: "en".into(),
        portal_id: portal_id.clone(),
        listen,
        storage_cache_mb: crate::config::DEFAULT_STORAGE_CACHE_MB,
        public_endpoint: None,
        tls: Default::default(),
        limits: Default::default(),
        web: crate::config::WebConfig { listen: Some(web_listen(listen)), public_url: None },
        mail: Default::default(),
        invitations: Default::default(),
        directory: None,
        network: Default::default(),
        replication: Default::default(),
        metrics: Default::default(),
        log: Default::default(),
        connections: Default::default(),
    };
    Identity::generate().save(dir)?;
    crate::tls::ensure(dir, &config)?;
    let db = Db::open(&dir.join(DB_DIR))?;
    let tables = Tables::open(&db)?;
    let settings = PortalSettings {
        portal_id,
        display_name: config.display_name.clone(),
        created_at: clock.now(),
        limits: config.limits.clone(),
        seats: 0,
        network: Default::default(),
    };
    let admin_token = init_portal(&tables, settings, clock.now()).context("cannot write the new portal")?;
    crate::fsutil::write_private(&dir.join(ADMIN_TOKEN_FILE), admin_token.as_bytes())?;
    // Written last: its presence means the folder is complete.
    config.save(dir)?;
    Ok(Initialised { config, admin_token })
}

/// The web listener sits beside the gRPC one: same address, port + 100 (or a free
/// port when the gRPC port is chosen by the system).
pub fn web_listen(grpc: SocketAddr) -> SocketAddr {
    let port = if grpc.port() == 0 { 0 } else { grpc.port().saturating_add(100) };
    SocketAddr::new(grpc.ip(), port)
}
