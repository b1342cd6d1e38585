//! The hash chain and signatures of a task's history (R17): the home portal hashes
//! each event onto the previous one and signs the result, so any portal holding the
//! task can check the whole history, and all replicas agree on one head hash.
//!
//! * `hash = SHA-256(b"portalnet-event-v1" ‖ prev_hash ‖ body)`
//! * signature: ed25519 over `b"portalnet-event-sig-v1" ‖ home ‖ 0x00 ‖ task (8 bytes,
//!   big-endian) ‖ version (8 bytes, big-endian) ‖ hash`
//!
//! Binding home, task and version in the signature means a signed event cannot be
//! replayed as another task's or another version's.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

pub const EVENT_HASH_TAG: &[u8] = b"portalnet-event-v1";
pub const EVENT_SIG_TAG: &[u8] = b"portalnet-event-sig-v1";

/// The hash of an event whose body bytes are `body`, following `prev`.
pub fn event_hash(prev: &[u8; 32], body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(EVENT_HASH_TAG);
    h.update(prev);
    h.update(body);
    h.finalize().into()
}

fn sig_message(home: &str, task: u64, version: u64, hash: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(EVENT_SIG_TAG.len() + home.len() + 49);
    m.extend_from_slice(EVENT_SIG_TAG);
    m.extend_from_slice(home.as_bytes());
    m.push(0);
    m.extend_from_slice(&task.to_be_bytes());
    m.extend_from_slice(&version.to_be_bytes());
    m.extend_from_slice(hash);
    m
}

/// The home portal's signature over one event.
pub fn sign_event(key: &SigningKey, home: &str, task: u64, version: u64, hash: &[u8; 32]) -> [u8; 64] {
    key.sign(&sig_message(home, task, version, hash)).to_bytes()
}

/// Whether `sig` is `key`'s signature over the event.
pub fn verify_event(
    key: &VerifyingKey,
    home: &str,
    task: u64,
    version: u64,
    hash: &[u8; 32],
    sig: &[u8],
) -> bool {
    let Ok(sig) = <&[u8; 64]>::try_from(sig) else { return false };
    key.verify_strict(&sig_message(home, task, version, hash), &Signature::from_bytes(sig)).is_ok()
}

/// A 32-byte hash from the wire, or `None` when it has another length.
pub fn hash_from_bytes(b: &[u8]) -> Option<[u8; 32]> {
    b.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_and_signature_bind_everything() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let h1 = event_hash(&[0; 32], b"one");
        let h2 = event_hash(&h1, b"two");
        assert_ne!(h2, event_hash(&[0; 32], b"two"), "the chain links");
        let sig = sign_event(&key, "alpha.test", 4, 2, &h2);
        let vk = key.verifying_key();
        assert!(verify_event(&vk, "alpha.test", 4, 2, &h2, &sig));
        assert!(!verify_event(&vk, "alpha.test", 5, 2, &h2, &sig), "another task");
        assert!(!verify_event(&vk, "alpha.test", 4, 3, &h2, &sig), "another version");
        assert!(!verify_event(&vk, "beta.test", 4, 2, &h2, &sig), "another home");
        assert!(!verify_event(&vk, "alpha.test", 4, 2, &h1, &sig), "another hash");
        assert!(!verify_event(&vk, "alpha.test", 4, 2, &h2, &sig[..10]), "short signature");
        let other = SigningKey::from_bytes(&[4; 32]).verifying_key();
        assert!(!verify_event(&other, "alpha.test", 4, 2, &h2, &sig), "another signer");
    }
}
