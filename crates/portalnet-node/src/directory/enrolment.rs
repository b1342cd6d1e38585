//! Enrolment secrets, the proof of a new portal id (see `portalnet_directory`):
//! the operator's side (`portald directory enrol` makes a secret and hands its
//! SHA-256 to the directory) and the portal's side (`portald link --enrolment`
//! keeps the secret until the first registration succeeds).
//!
//! The operator runs `enrol` while the directory may be running, and sled lets
//! one process open the storage, so the command drops a file into the directory's
//! data folder (`enrolments/*.json`: id, SHA-256, expiry — never the secret); the
//! directory imports such files into its storage at start and before it refuses
//! an unknown portal id, then deletes them. Whoever may write the data folder is
//! the operator. The directory writes `enrolments/status.json` after each change,
//! which `portald directory enrolments` reads.

use anyhow::{Context, Result, anyhow};
use base64::Engine;
use portalnet_core::Timestamp;
use portalnet_directory::{Directory, Enrolment};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The folder, in the directory's data folder, of enrolments waiting to be imported.
pub const INBOX: &str = "enrolments";
/// What the running directory last stored, for `portald directory enrolments`.
const STATUS_FILE: &str = "status.json";
/// The secret in the portal's data folder until its first registration succeeds.
pub const PORTAL_SECRET_FILE: &str = "enrolment.secret";

/// A new secret: `pne_` + 256 random bits (base64url).
pub fn new_secret() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("pne_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// One enrolment as a file in the inbox.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    portal_id: String,
    secret_sha256: String,
    created_at: Timestamp,
    expires_at: Timestamp,
}

/// The operator's command: enrols `portal_id` with the directory in `dir` for
/// `ttl_ms`, and returns the secret to hand to the portal's operator.
pub fn enrol(dir: &Path, portal_id: &str, now: Timestamp, ttl_ms: i64) -> Result<String> {
    let portal_id = portalnet_core::validate::portal_id(portal_id).map_err(|e| anyhow!("portal id: {e}"))?;
    if !dir.join(crate::directory::server::CONFIG_FILE).exists() {
        anyhow::bail!(
            "{} holds no Network directory: create it first with `portald directory --dir {}`",
            dir.display(),
            dir.display()
        );
    }
    if ttl_ms <= 0 {
        anyhow::bail!("an enrolment must be valid for at least one day");
    }
    let secret = new_secret();
    let pending = Pending {
        portal_id,
        secret_sha256: portalnet_directory::secret_sha256(&secret),
        created_at: now,
        expires_at: now.plus_millis(ttl_ms),
    };
    let inbox = dir.join(INBOX);
    std::fs::create_dir_all(&inbox).with_context(|| format!("cannot create {}", inbox.display()))?;
    // Written under another name and renamed, so the directory never reads half a file.
    let name: String = pending.secret_sha256.chars().take(16).collect();
    let tmp = inbox.join(format!("{name}.tmp"));
    crate::fsutil::write_private(&tmp, &serde_json::to_vec_pretty(&pending)?)?;
    let path = inbox.join(format!("{name}.json"));
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(secret)
}

/// Enrols `portal_id` directly in a directory this process runs (devnet, tests).
pub fn enrol_in_process(directory: &Directory, portal_id: &str, now: Timestamp) -> Result<String> {
    let secret = new_secret();
    directory
        .enrol(portal_id, &secret, now, portalnet_directory::ENROLMENT_TTL_MS)
        .with_context(|| format!("enrolling {portal_id}"))?;
    Ok(secret)
}

fn inbox_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir.join(INBOX)) else { return Vec::new() };
    let mut files: Vec<PathBuf> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json") && p.file_name().is_some_and(|n| n != STATUS_FILE)
        })
        .collect();
    files.sort();
    files
}

fn read_pending(path: &Path) -> Result<Pending> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("{} is not an enrolment", path.display()))
}

/// Imports the inbox of the directory in `dir` into its storage and deletes the
/// imported files; a file that cannot be imported is logged and left (renamed
/// `.bad` when it is not an enrolment at all). Returns how many were imported.
pub fn import(dir: &Path, directory: &Directory) -> usize {
    let mut imported = 0;
    for path in inbox_files(dir) {
        let pending = match read_pending(&path) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "enrolment file set aside");
                let _ = std::fs::rename(&path, path.with_extension("bad"));
                continue;
            }
        };
        match directory.add_enrolment(
            &pending.portal_id,
            &pending.secret_sha256,
            pending.created_at,
            pending.expires_at,
        ) {
            Ok(_) | Err(portalnet_directory::Error::AlreadyExists(_)) => {
                imported += 1;
                if let Err(e) = std::fs::remove_file(&path) {
                    tracing::warn!(error = %e, file = %path.display(), "cannot remove an imported enrolment");
                }
                tracing::info!(portal = %pending.portal_id, "enrolment imported");
            }
            Err(e) => tracing::warn!(error = %e, file = %path.display(), "enrolment not imported"),
        }
    }
    if imported > 0 {
        write_status(dir, directory);
    }
    imported
}

/// Saves what the directory stores about enrolments (no secrets) for listing.
pub fn write_status(dir: &Path, directory: &Directory) {
    let result = directory
        .enrolments()
        .map_err(anyhow::Error::from)
        .and_then(|all| Ok(serde_json::to_vec_pretty(&all)?))
        .and_then(|bytes| {
            std::fs::create_dir_all(dir.join(INBOX))?;
            let tmp = dir.join(INBOX).join("status.tmp");
            std::fs::write(&tmp, bytes)?;
            std::fs::rename(&tmp, dir.join(INBOX).join(STATUS_FILE))?;
            Ok(())
        });
    if let Err(e) = result {
        tracing::warn!(error = %format!("{e:#}"), "cannot write the enrolment status file");
    }
}

/// One line of `portald directory enrolments`.
pub struct Listed {
    pub portal_id: String,
    /// The first hex digits of the secret's SHA-256, to tell enrolments apart.
    pub hash_prefix: String,
    pub expires_at: Timestamp,
    pub state: String,
}

/// Enrolments of the directory in `dir`: those stored (as of the directory's last
/// change) and those waiting in the inbox.
pub fn list(dir: &Path, now: Timestamp) -> Result<Vec<Listed>> {
    let mut out = Vec::new();
    let status = dir.join(INBOX).join(STATUS_FILE);
    if status.exists() {
        let bytes = std::fs::read(&status).with_context(|| format!("cannot read {}", status.display()))?;
        let stored: Vec<Enrolment> =
            serde_json::from_slice(&bytes).with_context(|| format!("{} is not valid", status.display()))?;
        for e in stored {
            let state = match e.used_at {
                Some(t) => format!("used {}", t.to_utc_string()),
                None if now >= e.expires_at => "expired".to_string(),
                None => "waiting".to_string(),
            };
            out.push(Listed {
                portal_id: e.portal_id,
                hash_prefix: e.secret_sha256.chars().take(12).collect(),
                expires_at: e.expires_at,
                state,
            });
        }
    }
    for path in inbox_files(dir) {
        let p = read_pending(&path)?;
        out.push(Listed {
            portal_id: p.portal_id,
            hash_prefix: p.secret_sha256.chars().take(12).collect(),
            expires_at: p.expires_at,
            state: "not yet imported (the directory imports it at start or at the portal's registration)"
                .into(),
        });
    }
    Ok(out)
}

/// The portal's side: keeps `secret` in the data folder `dir` (0600) for the
/// first registration.
pub fn save_for_portal(dir: &Path, secret: &str) -> Result<()> {
    let secret = secret.trim();
    if secret.len() < portalnet_directory::MIN_SECRET_CHARS {
        anyhow::bail!("this is not an enrolment secret: `portald directory enrol` prints one (pne_…)");
    }
    crate::fsutil::write_private(&dir.join(PORTAL_SECRET_FILE), secret.as_bytes())
}

/// The secret waiting in the portal's data folder, if any.
pub fn portal_secret(dir: &Path) -> Option<String> {
    let s = std::fs::read_to_string(dir.join(PORTAL_SECRET_FILE)).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// After a successful registration the secret is spent: remove it.
pub fn forget_portal_secret(dir: &Path) {
    let path = dir.join(PORTAL_SECRET_FILE);
    if path.exists()
        && let Err(e) = std::fs::remove_file(&path)
    {
        tracing::warn!(error = %e, file = %path.display(), "cannot remove the used enrolment secret");
    }
}
