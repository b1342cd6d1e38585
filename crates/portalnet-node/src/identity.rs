//! The portal's ed25519 key pair, kept in `portal.key` (the 32-byte secret, hex,
//! readable by the owner only).

use anyhow::{Context, Result, bail};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use std::path::Path;

pub const KEY_FILE: &str = "portal.key";
/// The key used before a rotation, kept to sign the announcement of the new one.
pub const PREVIOUS_KEY_FILE: &str = "portal.key.previous";

pub struct Identity {
    pub signing: SigningKey,
}

impl Identity {
    pub fn generate() -> Self {
        Self { signing: SigningKey::generate(&mut rand::rngs::OsRng) }
    }

    pub fn load(dir: &Path) -> Result<Self> {
        Self::load_file(&dir.join(KEY_FILE))
    }

    /// The previous key, if the portal rotated its key.
    pub fn load_previous(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(PREVIOUS_KEY_FILE);
        if path.exists() { Self::load_file(&path).map(Some) } else { Ok(None) }
    }

    /// Makes a new key; the current one becomes the previous one.
    pub fn rotate(dir: &Path) -> Result<Self> {
        let current = Self::load(dir)?;
        crate::fsutil::write_private(
            &dir.join(PREVIOUS_KEY_FILE),
            hex::encode(current.signing.to_bytes()).as_bytes(),
        )?;
        let next = Self::generate();
        next.save(dir)?;
        Ok(next)
    }

    fn load_file(path: &Path) -> Result<Self> {
        let path = path.to_path_buf();
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let bytes = hex::decode(text.trim()).with_context(|| format!("{} is not hex", path.display()))?;
        let Ok(secret) = <[u8; 32]>::try_from(bytes.as_slice()) else {
            bail!("{} must hold 32 bytes, found {}", path.display(), bytes.len());
        };
        Ok(Self { signing: SigningKey::from_bytes(&secret) })
    }

    pub fn save(&self, dir: &Path) -> Result<()> {
        crate::fsutil::write_private(&dir.join(KEY_FILE), hex::encode(self.signing.to_bytes()).as_bytes())
    }

    pub fn public_hex(&self) -> String {
        hex::encode(self.signing.verifying_key().to_bytes())
    }

    /// SHA-256 of the public key, hex, in groups of four for reading aloud.
    pub fn fingerprint(&self) -> String {
        let d = Sha256::digest(self.signing.verifying_key().to_bytes());
        let h = hex::encode(&d[..16]);
        h.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(":")
    }
}
