//! Public keys: where a receiver finds them, how they are parsed and how they are
//! shown to people.

use std::collections::{BTreeMap, HashMap};

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

use crate::SignError;

/// The receiver's source of portal keys: the directory reads its registry, a portal
/// its cache of directory lookups.
pub trait KeyLookup {
    /// The current public key of `portal_id`, or `None` if the portal is unknown.
    fn key_of(&self, portal_id: &str) -> Option<VerifyingKey>;
}

impl<S: std::hash::BuildHasher> KeyLookup for HashMap<String, VerifyingKey, S> {
    fn key_of(&self, portal_id: &str) -> Option<VerifyingKey> {
        self.get(portal_id).copied()
    }
}

impl KeyLookup for BTreeMap<String, VerifyingKey> {
    fn key_of(&self, portal_id: &str) -> Option<VerifyingKey> {
        self.get(portal_id).copied()
    }
}

impl<F: Fn(&str) -> Option<VerifyingKey>> KeyLookup for F {
    fn key_of(&self, portal_id: &str) -> Option<VerifyingKey> {
        self(portal_id)
    }
}

/// Parses a 32-byte ed25519 public key as found in protobuf `bytes` fields.
/// Refuses wrong lengths and byte strings that are not a valid curve point
/// ([`SignError::Malformed`] with field `"public key"`).
pub fn verifying_key_from_bytes(bytes: &[u8]) -> Result<VerifyingKey, SignError> {
    let arr: &[u8; 32] = bytes
        .try_into()
        .map_err(|_| SignError::malformed("public key", format!("is {} bytes, must be 32", bytes.len())))?;
    VerifyingKey::from_bytes(arr)
        .map_err(|_| SignError::malformed("public key", "is not a valid ed25519 public key"))
}

/// A short fingerprint for people to compare keys: the first 16 bytes of SHA-256 of
/// the key, in lowercase hex, in groups of four digits separated by `:`
/// (e.g. `"d049:cee4:…"`, 39 characters).
pub fn fingerprint(key: &VerifyingKey) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(key.as_bytes());
    let mut out = String::with_capacity(39);
    for (i, byte) in digest.iter().take(16).enumerate() {
        if i > 0 && i % 2 == 0 {
            out.push(':');
        }
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn fingerprint_format() {
        let key = SigningKey::from_bytes(&[1; 32]).verifying_key();
        let fp = fingerprint(&key);
        assert_eq!(fp.len(), 39);
        let groups: Vec<&str> = fp.split(':').collect();
        assert_eq!(groups.len(), 8);
        assert!(groups.iter().all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_hexdigit())));
        let digest = Sha256::digest(key.as_bytes());
        let want: String = digest[..2].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(groups[0], want);
        assert_ne!(fp, fingerprint(&SigningKey::from_bytes(&[2; 32]).verifying_key()));
    }

    #[test]
    fn key_bytes_are_checked() {
        let key = SigningKey::from_bytes(&[1; 32]).verifying_key();
        assert_eq!(verifying_key_from_bytes(key.as_bytes()), Ok(key));
        for bad in [&[][..], &[0; 31][..], &[0; 33][..]] {
            assert!(matches!(
                verifying_key_from_bytes(bad),
                Err(SignError::Malformed { field: "public key", .. })
            ));
        }
        // Not every 32-byte string decompresses to a curve point; find one that does not.
        let invalid = (0u8..=255)
            .map(|b| {
                let mut k = [b; 32];
                k[31] &= 0x7f;
                k
            })
            .find(|k| VerifyingKey::from_bytes(k).is_err());
        if let Some(k) = invalid {
            assert!(matches!(verifying_key_from_bytes(&k), Err(SignError::Malformed { .. })));
        }
    }

    #[test]
    fn lookups() {
        let key = SigningKey::from_bytes(&[1; 32]).verifying_key();
        let map: HashMap<String, VerifyingKey> = [("a.test".to_owned(), key)].into();
        assert_eq!(map.key_of("a.test"), Some(key));
        assert_eq!(map.key_of("b.test"), None);
        let f = |id: &str| (id == "a.test").then_some(key);
        assert_eq!(f.key_of("a.test"), Some(key));
        assert_eq!(f.key_of("b.test"), None);
    }
}
