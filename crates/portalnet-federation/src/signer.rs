//! The sending side: a portal's id and signing key, producing [`Signed`] requests.

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use portalnet_core::Timestamp;
use portalnet_proto::v1::Signed;
use rand::RngCore;
use rand::rngs::OsRng;

use crate::canonical::canonical_bytes;
use crate::keys::fingerprint;

/// Length of a request nonce in bytes.
pub const NONCE_LEN: usize = 16;

/// A portal's identity for outgoing requests: its id and its ed25519 signing key.
pub struct Signer {
    portal_id: String,
    key: SigningKey,
}

impl Signer {
    pub fn new(portal_id: impl Into<String>, key: SigningKey) -> Self {
        Signer { portal_id: portal_id.into(), key }
    }

    /// A signer with a fresh random key (from the operating system's RNG).
    pub fn generate(portal_id: impl Into<String>) -> Self {
        Signer::new(portal_id, SigningKey::generate(&mut OsRng))
    }

    pub fn portal_id(&self) -> &str {
        &self.portal_id
    }

    /// The public key that receivers need (published in the directory).
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The private key, e.g. to [sign a key rotation](crate::sign_rotation).
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Signs `msg` (encoded as protobuf) for a call of `method` (full gRPC method
    /// name, e.g. `"/portalnet.v1.Directory/Search"`) on `destination`, at `now`,
    /// with a fresh random nonce.
    pub fn sign<M: prost::Message>(
        &self,
        method: &str,
        destination: &str,
        now: Timestamp,
        msg: &M,
    ) -> Signed {
        self.sign_bytes(method, destination, now, msg.encode_to_vec())
    }

    /// Like [`Signer::sign`] for an already encoded payload.
    pub fn sign_bytes(&self, method: &str, destination: &str, now: Timestamp, payload: Vec<u8>) -> Signed {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        self.sign_with_nonce(method, destination, now, nonce, payload)
    }

    /// Like [`Signer::sign_bytes`] with a caller-chosen nonce. The nonce must never be
    /// reused: receivers refuse a second request with the same nonce. Meant for tests
    /// and for callers with their own randomness source.
    pub fn sign_with_nonce(
        &self,
        method: &str,
        destination: &str,
        now: Timestamp,
        nonce: [u8; NONCE_LEN],
        payload: Vec<u8>,
    ) -> Signed {
        let timestamp = now.millis();
        let bytes = canonical_bytes(method, &self.portal_id, destination, timestamp, &nonce, &payload);
        let signature = self.key.sign(&bytes).to_bytes().to_vec();
        Signed {
            method: method.to_owned(),
            origin: self.portal_id.clone(),
            destination: destination.to_owned(),
            timestamp,
            nonce: nonce.to_vec(),
            payload,
            signature,
            session: Vec::new(),
        }
    }

    /// A request to the directory's read-only calls that carries a session
    /// `token` (from `Directory.OpenSession`) instead of a signature: no signing
    /// work per call.
    pub fn with_session<M: prost::Message>(
        &self,
        method: &str,
        destination: &str,
        token: &[u8],
        msg: &M,
    ) -> Signed {
        Signed {
            method: method.to_owned(),
            origin: self.portal_id.clone(),
            destination: destination.to_owned(),
            payload: msg.encode_to_vec(),
            session: token.to_vec(),
            ..Signed::default()
        }
    }
}

impl std::fmt::Debug for Signer {
    /// Shows the portal id and the key's fingerprint, never the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("portal_id", &self.portal_id)
            .field("key", &fingerprint(&self.key.verifying_key()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_filled_and_nonces_differ() {
        let s = Signer::generate("alpha.test");
        let a = s.sign_bytes("/m", "beta.test", Timestamp(42), vec![1, 2]);
        let b = s.sign_bytes("/m", "beta.test", Timestamp(42), vec![1, 2]);
        assert_eq!(a.method, "/m");
        assert_eq!(a.origin, "alpha.test");
        assert_eq!(a.destination, "beta.test");
        assert_eq!(a.timestamp, 42);
        assert_eq!(a.payload, vec![1, 2]);
        assert_eq!(a.nonce.len(), NONCE_LEN);
        assert_eq!(a.signature.len(), 64);
        assert_ne!(a.nonce, b.nonce);
    }

    #[test]
    fn debug_does_not_leak_the_private_key() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let s = Signer::new("alpha.test", key);
        let dbg = format!("{s:?}");
        assert!(dbg.contains("alpha.test"));
        assert!(!dbg.contains("[7, 7"), "{dbg}");
    }
}
