//! The one error type of this crate. Every refusal has its own variant, so callers
//! (and tests) can tell them apart, and every message says what is wrong and what to
//! do about it. Values that come from the wire are printed quoted (`{:?}`), so control
//! characters in a hostile request cannot forge log lines.

/// Why a signed request, an address or a key rotation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// A field is missing, too long or of the wrong size (nonce not 16 bytes,
    /// signature not 64 bytes, key bytes that are not an ed25519 public key…).
    #[error(
        "malformed signed request: {field} {problem}; the sender must build requests with \
         portalnet-federation's Signer"
    )]
    Malformed { field: &'static str, problem: String },

    /// The request was signed for another gRPC method (prevents cross-method replay).
    #[error(
        "request was signed for method {signed_for:?} but arrived at {expected:?}; the sender must \
         sign each call for the method it actually calls"
    )]
    WrongMethod { signed_for: String, expected: String },

    /// The request was signed for another portal or directory.
    #[error(
        "request was signed for {signed_for:?}, this is {this:?}; the sender must address the \
         request to the portal it sends it to"
    )]
    WrongDestination { signed_for: String, this: String },

    /// No key is known for the origin.
    #[error(
        "portal {portal:?} is not registered (no public key known for it); it must register with \
         the directory first"
    )]
    UnknownPortal { portal: String },

    /// The request's timestamp is too far from the receiver's clock.
    #[error(
        "request timestamp is {}; portal clocks must agree within ±{} (synchronise both clocks, \
         e.g. with NTP, and resend)",
        describe_skew(*.skew_ms),
        describe_duration(.window_ms.unsigned_abs())
    )]
    OutsideWindow {
        /// Request timestamp minus the receiver's time: positive when the request
        /// comes from the future.
        skew_ms: i64,
        window_ms: i64,
    },

    /// The signature does not match the request and the origin's key.
    #[error(
        "bad signature on request from {origin:?}: the request was altered or not signed with \
         the portal's registered key; if the portal rotated its key, refresh the directory lookup"
    )]
    BadSignature { origin: String },

    /// The (origin, nonce) pair was already accepted within the time window.
    #[error(
        "this request was already received (replayed nonce from {origin:?}); the sender must use \
         a fresh nonce for every request"
    )]
    Replayed { origin: String },

    /// The replay cache is full of unexpired nonces; the request was not accepted.
    #[error(
        "too many requests in the replay window (nonce cache holds its maximum of {capacity} \
         entries); retry later"
    )]
    Busy { capacity: usize },

    /// The shared replay store (several directory nodes on one database) could not
    /// be asked whether the nonce is new; the request was not accepted.
    #[error("cannot check this request's nonce against the shared replay store ({reason}); retry later")]
    NonceStoreUnavailable { reason: String },

    /// The signed payload is not the expected inner message.
    #[error(
        "payload of request from {origin:?} is not a valid {message_type}: {reason}; sender and \
         receiver may run incompatible protocol versions"
    )]
    UndecodablePayload { origin: String, message_type: &'static str, reason: String },

    /// A portal spoke for a user of another portal.
    #[error(
        "portal {origin:?} may speak only for its own users, but the message names {address:?}; \
         that user's own portal must send it"
    )]
    ForeignUser { origin: String, address: String },

    /// An address is not of the form `login@portal`.
    #[error("{address:?} is not a user address; expected login@portal, e.g. ada@alpha.test")]
    InvalidAddress { address: String },

    /// A key-rotation announcement is not signed by the portal's current (old) key.
    #[error(
        "key rotation for {portal:?} is not signed by its current key; the announcement must be \
         signed with the key being replaced"
    )]
    BadRotation { portal: String },
}

impl SignError {
    /// `true` when the same request may succeed if sent again later unchanged
    /// ([`SignError::Busy`], [`SignError::NonceStoreUnavailable`]). Every other refusal is permanent for that request.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SignError::Busy { .. } | SignError::NonceStoreUnavailable { .. })
    }

    pub(crate) fn malformed(field: &'static str, problem: impl Into<String>) -> Self {
        SignError::Malformed { field, problem: problem.into() }
    }
}

/// `"6 min 0 s ahead of this portal's clock"` / `"… behind …"`.
fn describe_skew(skew_ms: i64) -> String {
    let dir = if skew_ms >= 0 { "ahead of" } else { "behind" };
    format!("{} {dir} this portal's clock", describe_duration(skew_ms.unsigned_abs()))
}

/// A duration for people: `"5 min"`, `"6 min 1 s"`, `"1.5 s"`, `"42 ms"`.
fn describe_duration(ms: u64) -> String {
    if ms < 1_000 {
        return format!("{ms} ms");
    }
    let secs = ms / 1_000;
    if secs < 60 {
        let tenths = (ms % 1_000) / 100;
        return if tenths == 0 { format!("{secs} s") } else { format!("{secs}.{tenths} s") };
    }
    let (min, s) = (secs / 60, secs % 60);
    if s == 0 { format!("{min} min") } else { format!("{min} min {s} s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(describe_duration(0), "0 ms");
        assert_eq!(describe_duration(999), "999 ms");
        assert_eq!(describe_duration(1_500), "1.5 s");
        assert_eq!(describe_duration(300_000), "5 min");
        assert_eq!(describe_duration(361_000), "6 min 1 s");
        assert_eq!(describe_skew(-360_000), "6 min behind this portal's clock");
        // Extreme values must not panic.
        let _ = describe_skew(i64::MIN);
        let _ = describe_skew(i64::MAX);
    }

    #[test]
    fn window_message_names_offset_and_window() {
        let e = SignError::OutsideWindow { skew_ms: 360_000, window_ms: 300_000 };
        let s = e.to_string();
        assert!(s.contains("6 min ahead"), "{s}");
        assert!(s.contains("±5 min"), "{s}");
    }

    #[test]
    fn wire_values_are_quoted() {
        let e = SignError::UnknownPortal { portal: "evil\nFAKE LOG LINE".into() };
        assert!(!e.to_string().contains('\n'));
    }
}
