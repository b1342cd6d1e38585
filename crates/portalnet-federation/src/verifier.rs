//! The receiving side: checks a [`Signed`] request before anything acts on it.
//!
//! Checks run in this order, each refusal with its own [`SignError`] variant:
//!
//! 1. shape: fields present, not oversized, nonce 16 bytes, signature 64 bytes
//!    ([`SignError::Malformed`]);
//! 2. method: signed for the method being called ([`SignError::WrongMethod`]), so a
//!    request cannot be replayed against another method;
//! 3. destination: signed for this portal ([`SignError::WrongDestination`]);
//! 4. origin key known ([`SignError::UnknownPortal`]; skipped by
//!    [`Verifier::verify_with_key`]);
//! 5. timestamp within ± the window of `now` ([`SignError::OutsideWindow`]);
//! 6. signature ([`SignError::BadSignature`], strict ed25519 verification);
//! 7. nonce not seen before ([`SignError::Replayed`], or [`SignError::Busy`] when the
//!    replay cache is full). The nonce is recorded only after the signature has
//!    verified, so a forger cannot burn the nonce of a genuine request;
//! 8. payload decodes ([`SignError::UndecodablePayload`]; [`Verifier::decode`] and
//!    [`Verified::decode`] only).
//!
//! Checks 1–5 are cheap and allocate nothing on success, so junk is refused before
//! the signature is computed.

use ed25519_dalek::{Signature, VerifyingKey};
use portalnet_core::Timestamp;
use portalnet_core::limits::MAX_FILE_BYTES;
use portalnet_proto::v1::Signed;

use crate::SignError;
use crate::canonical::canonical_bytes_of;
use crate::keys::KeyLookup;
use crate::nonce::{NonceCache, SharedNonces, key_of};
use crate::signer::NONCE_LEN;
use std::sync::Arc;

/// Default accepted clock difference between sender and receiver: ±5 minutes.
pub const DEFAULT_WINDOW_MS: i64 = 300_000;
/// How long past the window a nonce is still remembered, in case the receiver's
/// clock steps back.
pub const NONCE_MARGIN_MS: i64 = 60_000;
/// Longest accepted `method` (a full gRPC method name).
pub const MAX_METHOD_LEN: usize = 256;
/// Longest accepted `origin` / `destination` (a DNS name is at most 253 characters).
pub const MAX_PORTAL_ID_LEN: usize = 253;
/// Room a signed payload keeps besides the one file it may carry: the rest of a
/// replication item (an event's body holds the whole task state as JSON) and the
/// framing. Also the most a batch of several items may hold.
pub const PAYLOAD_OVERHEAD_LEN: usize = 4 * 1024 * 1024;
/// Largest accepted `payload`: one replication item (an event or a proposal)
/// carrying the largest file a portal accepts, so that no file a portal took in
/// can block delivery to another for good.
pub const MAX_PAYLOAD_LEN: usize = MAX_FILE_BYTES as usize + PAYLOAD_OVERHEAD_LEN;
/// Largest encoded [`Signed`] a verifier can accept: the payload plus the other
/// fields at their limits (method, ids, nonce, signature, a session token), with
/// room to spare. Transport limits for signed calls derive from it.
pub const MAX_SIGNED_LEN: usize = MAX_PAYLOAD_LEN + 64 * 1024;
/// Length of an ed25519 signature in bytes.
pub const SIGNATURE_LEN: usize = 64;

/// A request that passed every check: who sent it and the signed payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified<'a> {
    pub origin: &'a str,
    pub payload: &'a [u8],
}

impl Verified<'_> {
    /// Decodes the payload as `M` ([`SignError::UndecodablePayload`] if it is not one).
    pub fn decode<M: prost::Message + Default>(&self) -> Result<M, SignError> {
        M::decode(self.payload).map_err(|e| SignError::UndecodablePayload {
            origin: self.origin.to_owned(),
            message_type: short_type_name::<M>(),
            reason: e.to_string(),
        })
    }
}

/// Verifies requests addressed to one portal (or to the directory) and remembers
/// their nonces. Share one `Verifier` between all handlers of a node (it is `Sync`),
/// so that a replay is caught whichever handler receives it.
#[derive(Debug)]
pub struct Verifier {
    my_id: String,
    window_ms: i64,
    nonces: NonceCache,
    /// Asked after `nonces` when receivers share replay protection.
    shared: Option<Arc<dyn SharedNonces>>,
}

impl Verifier {
    /// A verifier for requests to `my_id`, with the default ±5 min window and a
    /// nonce cache of [`DEFAULT_NONCE_CAPACITY`](crate::DEFAULT_NONCE_CAPACITY).
    pub fn new(my_id: impl Into<String>) -> Self {
        Verifier {
            my_id: my_id.into(),
            window_ms: DEFAULT_WINDOW_MS,
            nonces: NonceCache::default(),
            shared: None,
        }
    }

    /// Sets the accepted clock difference (negative values count as 0).
    pub fn with_window_ms(mut self, window_ms: i64) -> Self {
        self.window_ms = window_ms.max(0);
        self
    }

    /// Replaces the nonce cache with an empty one holding at most `capacity` entries.
    pub fn with_nonce_capacity(mut self, capacity: usize) -> Self {
        self.nonces = NonceCache::new(capacity);
        self
    }

    /// Also checks every nonce against `shared` (after the local cache), so a
    /// request accepted by another receiver sharing it is refused as a replay.
    pub fn with_shared_nonces(mut self, shared: Arc<dyn SharedNonces>) -> Self {
        self.shared = Some(shared);
        self
    }

    pub fn my_id(&self) -> &str {
        &self.my_id
    }

    pub fn window_ms(&self) -> i64 {
        self.window_ms
    }

    pub fn nonces(&self) -> &NonceCache {
        &self.nonces
    }

    /// Verifies `req` as a call of `expected_method` on this portal, with the
    /// origin's key from `keys`, at time `now`. See the [module docs](self) for the
    /// checks and their order.
    pub fn verify<'a>(
        &self,
        req: &'a Signed,
        expected_method: &str,
        keys: &dyn KeyLookup,
        now: Timestamp,
    ) -> Result<Verified<'a>, SignError> {
        let (nonce, signature) = check_shape(req)?;
        self.check_addressing(req, expected_method)?;
        let key = keys
            .key_of(&req.origin)
            .ok_or_else(|| SignError::UnknownPortal { portal: req.origin.clone() })?;
        self.check_rest(req, &key, nonce, &signature, now)
    }

    /// Like [`Verifier::verify`] with an explicit key instead of a lookup: used by the
    /// directory for a first registration, where the key comes from the payload itself
    /// (the signature then proves possession of the private key).
    pub fn verify_with_key<'a>(
        &self,
        req: &'a Signed,
        expected_method: &str,
        key: &VerifyingKey,
        now: Timestamp,
    ) -> Result<Verified<'a>, SignError> {
        let (nonce, signature) = check_shape(req)?;
        self.check_addressing(req, expected_method)?;
        self.check_rest(req, key, nonce, &signature, now)
    }

    /// Checks 1–3 of a request that carries a directory session token instead of
    /// a signature (`Signed.session`): shape, method, destination. The caller
    /// checks the token itself against `origin` (the directory does, in
    /// `portalnet_directory::sessions`); timestamp, nonce and signature are
    /// ignored, as the token replaces them.
    pub fn addressed<'a>(&self, req: &'a Signed, expected_method: &str) -> Result<Verified<'a>, SignError> {
        check_fields(req)?;
        check_payload(req)?;
        self.check_addressing(req, expected_method)?;
        Ok(Verified { origin: &req.origin, payload: &req.payload })
    }

    /// [`Verifier::verify`], then decodes the payload as `M`. Returns the origin and
    /// the message.
    pub fn decode<M: prost::Message + Default>(
        &self,
        req: &Signed,
        expected_method: &str,
        keys: &dyn KeyLookup,
        now: Timestamp,
    ) -> Result<(String, M), SignError> {
        let v = self.verify(req, expected_method, keys, now)?;
        Ok((v.origin.to_owned(), v.decode()?))
    }

    /// [`Verifier::verify_with_key`], then decodes the payload as `M`.
    pub fn decode_with_key<M: prost::Message + Default>(
        &self,
        req: &Signed,
        expected_method: &str,
        key: &VerifyingKey,
        now: Timestamp,
    ) -> Result<(String, M), SignError> {
        let v = self.verify_with_key(req, expected_method, key, now)?;
        Ok((v.origin.to_owned(), v.decode()?))
    }

    fn check_addressing(&self, req: &Signed, expected_method: &str) -> Result<(), SignError> {
        if req.method != expected_method {
            return Err(SignError::WrongMethod {
                signed_for: req.method.clone(),
                expected: expected_method.to_owned(),
            });
        }
        // Portal ids are DNS-like names, so they compare without regard to case.
        if !req.destination.eq_ignore_ascii_case(&self.my_id) {
            return Err(SignError::WrongDestination {
                signed_for: req.destination.clone(),
                this: self.my_id.clone(),
            });
        }
        Ok(())
    }

    /// Window, signature, then nonce.
    fn check_rest<'a>(
        &self,
        req: &'a Signed,
        key: &VerifyingKey,
        nonce: &[u8; NONCE_LEN],
        signature: &Signature,
        now: Timestamp,
    ) -> Result<Verified<'a>, SignError> {
        let skew_ms = req.timestamp.saturating_sub(now.millis());
        if skew_ms.unsigned_abs() > self.window_ms.unsigned_abs() {
            return Err(SignError::OutsideWindow { skew_ms, window_ms: self.window_ms });
        }
        key.verify_strict(&canonical_bytes_of(req), signature)
            .map_err(|_| SignError::BadSignature { origin: req.origin.clone() })?;
        let expires = Timestamp(req.timestamp.saturating_add(self.window_ms).saturating_add(NONCE_MARGIN_MS));
        self.nonces.check_and_record(&req.origin, nonce, expires, now)?;
        if let Some(shared) = &self.shared {
            let fresh = shared
                .claim(&key_of(&req.origin, nonce), expires, now)
                .map_err(|reason| SignError::NonceStoreUnavailable { reason })?;
            if !fresh {
                return Err(SignError::Replayed { origin: req.origin.clone() });
            }
        }
        Ok(Verified { origin: &req.origin, payload: &req.payload })
    }
}

/// Check 1: presence and sizes. Returns the nonce and the parsed signature.
fn check_shape(req: &Signed) -> Result<(&[u8; NONCE_LEN], Signature), SignError> {
    check_fields(req)?;
    let nonce: &[u8; NONCE_LEN] = req.nonce.as_slice().try_into().map_err(|_| {
        SignError::malformed("nonce", format!("is {} bytes, must be {NONCE_LEN}", req.nonce.len()))
    })?;
    check_payload(req)?;
    let sig: &[u8; SIGNATURE_LEN] = req.signature.as_slice().try_into().map_err(|_| {
        SignError::malformed(
            "signature",
            format!("is {} bytes, must be {SIGNATURE_LEN}", req.signature.len()),
        )
    })?;
    Ok((nonce, Signature::from_bytes(sig)))
}

/// The names every request carries, signed or with a session: present, not oversized.
fn check_fields(req: &Signed) -> Result<(), SignError> {
    check_text("method", &req.method, MAX_METHOD_LEN)?;
    check_text("origin", &req.origin, MAX_PORTAL_ID_LEN)?;
    check_text("destination", &req.destination, MAX_PORTAL_ID_LEN)
}

fn check_payload(req: &Signed) -> Result<(), SignError> {
    // An empty payload is legitimate: it is how an all-default message encodes.
    if req.payload.len() > MAX_PAYLOAD_LEN {
        return Err(SignError::malformed(
            "payload",
            format!("is {} bytes, at most {MAX_PAYLOAD_LEN} are accepted", req.payload.len()),
        ));
    }
    Ok(())
}

fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), SignError> {
    if value.is_empty() {
        return Err(SignError::malformed(field, "is missing"));
    }
    if value.len() > max {
        return Err(SignError::malformed(
            field,
            format!("is {} bytes, at most {max} are accepted", value.len()),
        ));
    }
    Ok(())
}

/// `"Search"` for `portalnet_proto::v1::Search`.
fn short_type_name<M>() -> &'static str {
    let full = std::any::type_name::<M>();
    full.rsplit("::").next().unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Signer;

    /// One item with the largest file a portal accepts passes the envelope check;
    /// a byte more than the limit does not.
    #[test]
    fn the_largest_file_fits_the_envelope() {
        let alpha = Signer::generate("alpha.test");
        let now = Timestamp(1_800_000_000_000);
        let file = MAX_FILE_BYTES as usize;
        let v = Verifier::new("beta.test");
        let req = alpha.sign_bytes("/m", "beta.test", now, vec![7; file + 64 * 1024]);
        assert!(v.verify_with_key(&req, "/m", &alpha.verifying_key(), now).is_ok());
        assert!(prost::Message::encoded_len(&req) <= MAX_SIGNED_LEN);
        let req = alpha.sign_bytes("/m", "beta.test", now, vec![7; MAX_PAYLOAD_LEN + 1]);
        let e = v.verify_with_key(&req, "/m", &alpha.verifying_key(), now).unwrap_err();
        assert!(matches!(e, SignError::Malformed { field: "payload", .. }), "{e}");
    }
}
