//! Signed requests between portals, and between portals and the directory.
//!
//! Authenticity does not rest on TLS: the sending portal signs, with its ed25519 key,
//! the [canonical bytes](canonical) of `{method, origin, destination, timestamp,
//! nonce, payload}` and sends them as a [`Signed`](portalnet_proto::v1::Signed)
//! message. The receiver checks the method, the destination, the origin's key, the
//! clock window, the signature and the nonce ([`Verifier`]), so replays and forgeries
//! are refused, each with its own [`SignError`] variant.
//!
//! Also here: the rule that a portal speaks only for its own users ([`speaks_for`]),
//! key rotation announcements ([`sign_rotation`], [`verify_rotation`]) and key
//! fingerprints for people ([`fingerprint`]).
//!
//! Synchronous and free of IO: time is passed in as a
//! [`Timestamp`](portalnet_core::Timestamp), keys come from the caller through
//! [`KeyLookup`].
//!
//! ```
//! use portalnet_core::Timestamp;
//! use portalnet_federation::{Signer, Verifier};
//! use std::collections::HashMap;
//!
//! let alpha = Signer::generate("alpha.test");
//! let keys = HashMap::from([("alpha.test".to_owned(), alpha.verifying_key())]);
//! let beta = Verifier::new("beta.test");
//!
//! let now = Timestamp(1_800_000_000_000);
//! let req = alpha.sign_bytes("/portalnet.v1.Portal/Ping", "beta.test", now, b"hi".to_vec());
//! let ok = beta.verify(&req, "/portalnet.v1.Portal/Ping", &keys, now).unwrap();
//! assert_eq!((ok.origin, ok.payload), ("alpha.test", &b"hi"[..]));
//! // The same request again is a replay.
//! assert!(beta.verify(&req, "/portalnet.v1.Portal/Ping", &keys, now).is_err());
//! ```

pub mod address;
pub mod canonical;
pub mod chain;
pub mod error;
pub mod keys;
pub mod nonce;
pub mod rotation;
pub mod signer;
pub mod verifier;

pub use address::speaks_for;
pub use canonical::{SIGNED_DOMAIN_TAG, canonical_bytes, canonical_bytes_of};
pub use error::SignError;
pub use keys::{KeyLookup, fingerprint, verifying_key_from_bytes};
pub use nonce::{DEFAULT_NONCE_CAPACITY, NonceCache, SharedNonces};
pub use rotation::{ROTATION_DOMAIN_TAG, rotation_message, sign_rotation, verify_rotation};
pub use signer::{NONCE_LEN, Signer};
pub use verifier::{
    DEFAULT_WINDOW_MS, MAX_METHOD_LEN, MAX_PAYLOAD_LEN, MAX_PORTAL_ID_LEN, MAX_SIGNED_LEN, NONCE_MARGIN_MS,
    PAYLOAD_OVERHEAD_LEN, SIGNATURE_LEN, Verified, Verifier,
};
