//! `portald.toml` in the data folder: what `portald init` decided and an operator
//! may edit. Every path is relative to the data folder unless absolute.

use anyhow::{Context, Result};
use portalnet_core::limits::Limits;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "portald.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeConfig {
    /// DNS-like id of the portal, e.g. `alpha.test`.
    pub portal_id: String,
    #[serde(default)]
    pub display_name: String,
    /// The portal's language (`en`, `pl`, `ru`): its e-mail, and its pages when the
    /// browser asks for none of these.
    #[serde(default = "default_language")]
    pub language: String,
    /// Address of the gRPC listener (TLS).
    pub listen: SocketAddr,
    /// Storage page cache, in MiB: what the node keeps of its data in memory beyond
    /// what requests read now (sled's own default is 1 GiB). Lists and reports read
    /// through indexes, so a small cache serves them.
    #[serde(default = "default_storage_cache_mb")]
    pub storage_cache_mb: u64,
    /// The endpoint other portals reach this one at, as registered in the
    /// directory (behind a proxy or NAT); default `https://<listen address>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_endpoint: Option<String>,
    #[serde(default)]
    pub tls: TlsConfig,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub web: WebConfig,
    #[serde(default)]
    pub mail: MailConfig,
    #[serde(default)]
    pub invitations: InvitationConfig,
    /// The Network directory this portal registers with (R13–R16). None: the
    /// portal stays out of the Network.
    #[serde(default)]
    pub directory: Option<DirectoryLink>,
    #[serde(default)]
    pub network: NetworkConfig,
    #[serde(default)]
    pub replication: ReplicationSection,
    #[serde(default, skip_serializing_if = "MetricsConfig::is_default")]
    pub metrics: MetricsConfig,
    #[serde(default, skip_serializing_if = "LogConfig::is_default")]
    pub log: LogConfig,
    #[serde(default, skip_serializing_if = "ConnectionsConfig::is_default")]
    pub connections: ConnectionsConfig,
}

/// What clients may hold of the gRPC and web listeners (`crate::listen`); the
/// mail listeners have limits of their own. The defaults keep the node well
/// inside a process's usual 1,024 file descriptors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionsConfig {
    /// Connections each listener serves at once; one more is closed as it is accepted.
    pub max: usize,
    /// Connections to the gRPC port from one IP address (other portals, clients).
    /// The web listener counts only `max`: behind a proxy every visitor has its address.
    pub per_address: usize,
    /// Seconds a client has for the TLS handshake (gRPC) or a request's head (web,
    /// also between requests on a kept-alive connection).
    pub handshake_secs: u64,
    /// Seconds a gRPC connection may send nothing before it is closed; the server
    /// pings a quiet connection three times in that span (at most once a minute),
    /// and a healthy client's answers keep it open.
    pub idle_secs: u64,
    /// Seconds a web request (its form included) has to be read and answered;
    /// a download then streams at the reader's pace.
    pub request_secs: u64,
}

impl Default for ConnectionsConfig {
    fn default() -> Self {
        Self { max: 512, per_address: 128, handshake_secs: 10, idle_secs: 300, request_secs: 60 }
    }
}

impl ConnectionsConfig {
    pub(crate) fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The TLS handshake's and the HTTP request head's deadline.
    pub fn handshake(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.handshake_secs.max(1))
    }

    /// How long a gRPC connection may send nothing.
    pub fn idle(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.idle_secs.max(1))
    }

    /// A web request's deadline.
    pub fn request(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.request_secs.max(1))
    }

    /// How often the gRPC server pings a connection that has sent nothing: three
    /// times per [`Self::idle`] (at most once a minute), so a healthy client's
    /// answers keep it open however long it has nothing to ask.
    pub fn keepalive(&self) -> std::time::Duration {
        (self.idle() / 3).clamp(std::time::Duration::from_millis(300), std::time::Duration::from_secs(60))
    }
}

/// Prometheus metrics (`/metrics`, exposition format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    /// Off: nothing is recorded and no endpoint answers. The environment variable
    /// `PORTALD_METRICS=off` (or `on`) overrides it.
    pub enabled: bool,
    /// A separate plain-HTTP listener for `/metrics` only (keep it private). None:
    /// `/metrics` on the web listener, if there is one.
    pub listen: Option<SocketAddr>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self { enabled: true, listen: None }
    }
}

impl MetricsConfig {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// `enabled`, unless `PORTALD_METRICS` says otherwise.
    pub fn effective_enabled(&self) -> bool {
        match std::env::var("PORTALD_METRICS").ok().as_deref().map(str::trim) {
            Some("off" | "0" | "false") => false,
            Some("on" | "1" | "true") => true,
            _ => self.enabled,
        }
    }
}

/// Logging; `RUST_LOG` filters as usual.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogConfig {
    /// `text` (default) or `json` (one object per line, with the spans' fields,
    /// e.g. `trace_id`). `portald --log-format` and `PORTALD_LOG_FORMAT` win.
    pub format: Option<String>,
    /// Where to export traces over OTLP/gRPC, e.g. `http://127.0.0.1:4317` (an
    /// OpenTelemetry Collector, Jaeger, Tempo). Off when unset; `PORTALD_OTLP_ENDPOINT`
    /// wins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otlp_endpoint: Option<String>,
}

impl LogConfig {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

fn default_language() -> String {
    "en".into()
}

/// Delivery to other portals (cross-portal tasks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReplicationSection {
    /// The longest wait between attempts to reach an unreachable portal. Entries
    /// never expire; this only bounds how late a returning portal is noticed
    /// (`portalctl portal outbox retry` or any message from it is immediate).
    pub max_backoff_secs: u64,
    /// The first wait after a failed delivery; it doubles with each failure.
    pub min_backoff_ms: u64,
    /// Entries per delivery batch, at most 256 (what receivers take in one call).
    pub batch_items: usize,
}

impl Default for ReplicationSection {
    fn default() -> Self {
        Self { max_backoff_secs: 300, min_backoff_ms: 500, batch_items: 256 }
    }
}

/// How a portal reaches and trusts the directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectoryLink {
    /// `https://host:port`
    pub endpoint: String,
    /// More nodes of the same directory (on one PostgreSQL database): a call
    /// that cannot reach one node goes to the next; the last that answered is
    /// tried first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<String>,
    /// The directory's id: the destination of signed requests.
    pub id: String,
    /// PEM certificate the directory's TLS certificate must chain to (its
    /// self-signed certificate in development).
    pub ca: PathBuf,
}

impl DirectoryLink {
    /// `endpoint` then `endpoints`, each once, empty ones left out.
    pub fn all_endpoints(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for e in std::iter::once(&self.endpoint).chain(&self.endpoints) {
            if !e.is_empty() && !all.contains(e) {
                all.push(e.clone());
            }
        }
        all
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkConfig {
    /// Delay between switching network communication on and cross-portal tasks
    /// becoming possible (R15). One day unless shortened for tests and devnet.
    pub activation_delay_secs: u64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self { activation_delay_secs: 24 * 3600 }
    }
}

/// The portal's small web server (invitation pages). Plain HTTP: put a TLS proxy
/// in front for the public, and set `public_url` to its address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebConfig {
    /// Where to listen; none: no web pages (links in e-mail then point nowhere).
    pub listen: Option<SocketAddr>,
    /// Base URL used in links; default `http://<listen address>`.
    pub public_url: Option<String>,
}

/// E-mail, outbound and inbound (R18–R22).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MailConfig {
    /// Domain of the task addresses (`task+…@`) and reply addresses (`reply+…@`)
    /// the portal receives; default the portal id. The mail server in front must
    /// route this domain to the LMTP listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// LMTP listener: a mail server in front (Postfix) hands mail over here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lmtp_listen: Option<SocketAddr>,
    /// Plain SMTP listener, for development and tests (no TLS, no AUTH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_listen: Option<SocketAddr>,
    /// Sender address; default `portal@<portal id>`.
    pub from: Option<String>,
    /// `host:port` of a plain-SMTP relay. Without it, messages are written as
    /// `.eml` files into `dir`.
    pub smtp_relay: Option<String>,
    /// Folder for `.eml` files (default `mail/outbox`).
    pub dir: Option<PathBuf>,
    /// Tasks one sender may create through one task address per `rate_window_secs`
    /// (default 20); past it the message is refused with 451 4.7.1 (try later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks_per_sender: Option<u32>,
    /// Tasks one task address may receive per `rate_window_secs` from everyone (default 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks_per_address: Option<u32>,
    /// Replies one e-mail participant's link may post per `rate_window_secs`
    /// (default 60); past it the reply is refused with 451 4.7.1. Bounds a mail
    /// loop between auto-responders that ignore `Auto-Submitted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies_per_link: Option<u32>,
    /// The window of the limits, in seconds (default 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_window_secs: Option<u64>,
    /// How long a received message is remembered so a redelivery does nothing (default 30 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_retention_days: Option<u32>,
}

impl MailConfig {
    /// The limits, defaults filled in.
    pub fn limits(&self) -> portalnet_portal::MailLimits {
        use portalnet_portal::MailLimits as L;
        let secs = self.rate_window_secs.unwrap_or(L::DEFAULT_WINDOW_SECS).max(1);
        L {
            tasks_per_sender: self.tasks_per_sender.unwrap_or(L::DEFAULT_TASKS_PER_SENDER),
            tasks_per_address: self.tasks_per_address.unwrap_or(L::DEFAULT_TASKS_PER_ADDRESS),
            replies_per_link: self.replies_per_link.unwrap_or(L::DEFAULT_REPLIES_PER_LINK),
            window_ms: i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX),
            seen_retention_ms: i64::from(self.seen_retention_days.unwrap_or(L::DEFAULT_SEEN_RETENTION_DAYS))
                * 86_400_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvitationConfig {
    /// How long an invitation can be accepted.
    pub ttl_hours: u32,
}

impl Default for InvitationConfig {
    fn default() -> Self {
        Self { ttl_hours: 14 * 24 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TlsConfig {
    /// PEM certificate chain. Created self-signed at first start if missing.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self { cert: "tls/cert.pem".into(), key: "tls/key.pem".into() }
    }
}

/// The portal's storage cache unless `portald.toml` says otherwise.
pub const DEFAULT_STORAGE_CACHE_MB: u64 = 32;

fn default_storage_cache_mb() -> u64 {
    DEFAULT_STORAGE_CACHE_MB
}

impl NodeConfig {
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("cannot read {}: run `portald init --dir {}` first", path.display(), dir.display())
        })?;
        let config: Self = toml::from_str(&text)
            .with_context(|| format!("{} is not a valid portald config", path.display()))?;
        // One per-file limit across the Network: a larger file taken here could
        // not be delivered to any other portal (their envelopes admit 25 MiB).
        let max = portalnet_core::limits::MAX_FILE_BYTES;
        if config.limits.max_file_bytes > max {
            anyhow::bail!(
                "{}: [limits] max_file_bytes is {}, above the Network's per-file limit of {max} bytes \
                 (25 MiB); set it to {max} or less",
                path.display(),
                config.limits.max_file_bytes
            );
        }
        Ok(config)
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(CONFIG_FILE);
        let text = toml::to_string_pretty(self)?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// A path from the config, resolved against the data folder.
pub fn resolve(dir: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() { p.to_path_buf() } else { dir.join(p) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A per-file limit above the Network's is refused at start, saying the most
    /// it may be; at the limit the config loads.
    #[test]
    fn max_file_bytes_above_the_networks_limit_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("alpha.test");
        let listen = "127.0.0.1:0".parse().unwrap();
        crate::init::init(&dir, "alpha.test", listen, &crate::clock::SystemClock).unwrap();
        let max = portalnet_core::limits::MAX_FILE_BYTES;
        let mut config = NodeConfig::load(&dir).unwrap();
        assert_eq!(config.limits.max_file_bytes, max);
        config.limits.max_file_bytes = max + 1;
        config.save(&dir).unwrap();
        let e = format!("{:#}", NodeConfig::load(&dir).unwrap_err());
        assert!(e.contains("max_file_bytes") && e.contains(&max.to_string()), "{e}");
    }
}
