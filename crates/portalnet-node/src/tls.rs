//! TLS material: the configured certificate, or a self-signed one created at first
//! start (valid for `localhost`, `127.0.0.1`, `::1` and the portal id). Clients
//! trust it by passing the certificate file as their CA (`portalctl --ca`).

use crate::config::{NodeConfig, resolve};
use anyhow::{Context, Result};
use std::path::Path;

pub struct TlsFiles {
    pub cert_pem: String,
    pub key_pem: String,
}

pub fn ensure(dir: &Path, cfg: &NodeConfig) -> Result<TlsFiles> {
    ensure_for(dir, &cfg.tls, &cfg.portal_id)
}

/// The same for any node (portal or directory) named `id`.
pub fn ensure_for(dir: &Path, tls: &crate::config::TlsConfig, id: &str) -> Result<TlsFiles> {
    let cert = resolve(dir, &tls.cert);
    let key = resolve(dir, &tls.key);
    if !cert.exists() && !key.exists() {
        let names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into(), id.to_string()];
        let ck =
            rcgen::generate_simple_self_signed(names).context("cannot create a self-signed certificate")?;
        if let Some(parent) = cert.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if let Some(parent) = key.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&cert, ck.cert.pem()).with_context(|| format!("cannot write {}", cert.display()))?;
        crate::fsutil::write_private(&key, ck.signing_key.serialize_pem().as_bytes())?;
        tracing::info!(cert = %cert.display(), "created a self-signed TLS certificate");
    }
    Ok(TlsFiles {
        cert_pem: std::fs::read_to_string(&cert)
            .with_context(|| format!("cannot read {}", cert.display()))?,
        key_pem: std::fs::read_to_string(&key).with_context(|| format!("cannot read {}", key.display()))?,
    })
}
