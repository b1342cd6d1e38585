//! Key rotation: a portal announces its new public key signed by its old key, so
//! anyone who trusts the old key can move to the new one. History signed by old keys
//! stays verifiable with those keys.
//!
//! The signed message is `b"portalnet-rotate-v1" ‖ portal_id ‖ 0x00 ‖ new_key` (32
//! bytes). Its prefix differs from the [request domain tag](crate::SIGNED_DOMAIN_TAG),
//! so a rotation signature can never pass as a request signature, nor the reverse.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::SignError;
use crate::keys::verifying_key_from_bytes;

/// Domain tag at the start of a rotation message.
pub const ROTATION_DOMAIN_TAG: &[u8] = b"portalnet-rotate-v1";

/// The bytes the old key signs to announce `new_key` for `portal_id`.
pub fn rotation_message(portal_id: &str, new_key: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ROTATION_DOMAIN_TAG.len() + portal_id.len() + 1 + new_key.len());
    out.extend_from_slice(ROTATION_DOMAIN_TAG);
    out.extend_from_slice(portal_id.as_bytes());
    out.push(0);
    out.extend_from_slice(new_key);
    out
}

/// Signs the announcement of `new_key` for `portal_id` with the key being replaced.
pub fn sign_rotation(old: &SigningKey, portal_id: &str, new_key: &[u8; 32]) -> [u8; 64] {
    old.sign(&rotation_message(portal_id, new_key)).to_bytes()
}

/// Checks that `sig` announces `new_key` for `portal_id` and was made with `old`.
/// Refuses a signature that is not 64 bytes or a new key that is not a valid ed25519
/// public key ([`SignError::Malformed`]), and a signature that does not verify
/// ([`SignError::BadRotation`]).
pub fn verify_rotation(
    old: &VerifyingKey,
    portal_id: &str,
    new_key: &[u8; 32],
    sig: &[u8],
) -> Result<(), SignError> {
    let sig: &[u8; 64] = sig.try_into().map_err(|_| {
        SignError::malformed("rotation signature", format!("is {} bytes, must be 64", sig.len()))
    })?;
    verifying_key_from_bytes(new_key)?;
    old.verify_strict(&rotation_message(portal_id, new_key), &Signature::from_bytes(sig))
        .map_err(|_| SignError::BadRotation { portal: portal_id.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (SigningKey, SigningKey) {
        (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]))
    }

    #[test]
    fn message_layout() {
        let m = rotation_message("a.test", &[9; 32]);
        assert_eq!(&m[..19], b"portalnet-rotate-v1");
        assert_eq!(&m[19..25], b"a.test");
        assert_eq!(m[25], 0);
        assert_eq!(&m[26..], &[9; 32]);
        assert_ne!(&m[..ROTATION_DOMAIN_TAG.len()], &crate::SIGNED_DOMAIN_TAG[..ROTATION_DOMAIN_TAG.len()]);
    }

    #[test]
    fn sign_and_verify() {
        let (old, new) = keys();
        let new_pub = new.verifying_key().to_bytes();
        let sig = sign_rotation(&old, "a.test", &new_pub);
        assert_eq!(verify_rotation(&old.verifying_key(), "a.test", &new_pub, &sig), Ok(()));
    }

    #[test]
    fn refusals() {
        let (old, new) = keys();
        let new_pub = new.verifying_key().to_bytes();
        let sig = sign_rotation(&old, "a.test", &new_pub);
        let bad_rotation = |r| matches!(r, Err(SignError::BadRotation { .. }));
        // Wrong old key (e.g. the new key signing for itself).
        assert!(bad_rotation(verify_rotation(&new.verifying_key(), "a.test", &new_pub, &sig)));
        // Another portal, another new key, a flipped signature bit.
        assert!(bad_rotation(verify_rotation(&old.verifying_key(), "b.test", &new_pub, &sig)));
        let other = SigningKey::from_bytes(&[3; 32]).verifying_key().to_bytes();
        assert!(bad_rotation(verify_rotation(&old.verifying_key(), "a.test", &other, &sig)));
        let mut flipped = sig;
        flipped[10] ^= 1;
        assert!(bad_rotation(verify_rotation(&old.verifying_key(), "a.test", &new_pub, &flipped)));
        // Wrong signature length.
        assert!(matches!(
            verify_rotation(&old.verifying_key(), "a.test", &new_pub, &sig[..63]),
            Err(SignError::Malformed { .. })
        ));
    }
}
