//! End-to-end checks of signing and verification through the public API.

use std::collections::HashMap;

use ed25519_dalek::{SigningKey, VerifyingKey};
use portalnet_core::Timestamp;
use portalnet_federation::{DEFAULT_WINDOW_MS, NONCE_MARGIN_MS, SignError, Signer, Verifier};
use portalnet_proto::v1::{RegisterPortal, Signed};
use prost::Message;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const METHOD: &str = "/portalnet.v1.Portal/Deliver";
const NOW: Timestamp = Timestamp(1_800_000_000_000);
const MIN: i64 = 60_000;

struct World {
    alpha: Signer,
    keys: HashMap<String, VerifyingKey>,
    beta: Verifier,
}

fn world() -> World {
    let alpha = Signer::new("alpha.test", SigningKey::from_bytes(&[1; 32]));
    let keys = HashMap::from([("alpha.test".to_owned(), alpha.verifying_key())]);
    World { alpha, keys, beta: Verifier::new("beta.test") }
}

fn msg() -> RegisterPortal {
    RegisterPortal {
        portal_id: "alpha.test".into(),
        endpoint: "https://alpha.test:7443".into(),
        public_key: vec![5; 32],
        ..Default::default()
    }
}

#[test]
fn round_trip() {
    let w = world();
    let req = w.alpha.sign(METHOD, "beta.test", NOW, &msg());
    let (origin, got): (String, RegisterPortal) = w.beta.decode(&req, METHOD, &w.keys, NOW).unwrap();
    assert_eq!(origin, "alpha.test");
    assert_eq!(got, msg());
}

#[test]
fn destination_matches_without_regard_to_case() {
    let w = world();
    let req = w.alpha.sign(METHOD, "Beta.TEST", NOW, &msg());
    assert!(w.beta.verify(&req, METHOD, &w.keys, NOW).is_ok());
}

#[test]
fn verify_with_key_for_first_registration() {
    let w = world();
    let newcomer = Signer::generate("gamma.test");
    let dir = Verifier::new("directory.test");
    let req = newcomer.sign(METHOD, "directory.test", NOW, &msg());
    // Unknown to the lookup …
    assert!(matches!(dir.verify(&req, METHOD, &w.keys, NOW), Err(SignError::UnknownPortal { .. })));
    // … but verifiable with the key it brings along, and only with that key.
    let other = w.alpha.verifying_key();
    assert!(matches!(dir.verify_with_key(&req, METHOD, &other, NOW), Err(SignError::BadSignature { .. })));
    let (origin, _): (String, RegisterPortal) =
        dir.decode_with_key(&req, METHOD, &newcomer.verifying_key(), NOW).unwrap();
    assert_eq!(origin, "gamma.test");
}

/// Which refusal a case expects; one per `SignError` variant that `verify` produces.
#[derive(Debug, PartialEq)]
enum Refusal {
    Malformed,
    WrongMethod,
    WrongDestination,
    UnknownPortal,
    OutsideWindow,
    BadSignature,
    Replayed,
    Undecodable,
}

fn refusal(e: &SignError) -> Refusal {
    match e {
        SignError::Malformed { .. } => Refusal::Malformed,
        SignError::WrongMethod { .. } => Refusal::WrongMethod,
        SignError::WrongDestination { .. } => Refusal::WrongDestination,
        SignError::UnknownPortal { .. } => Refusal::UnknownPortal,
        SignError::OutsideWindow { .. } => Refusal::OutsideWindow,
        SignError::BadSignature { .. } => Refusal::BadSignature,
        SignError::Replayed { .. } => Refusal::Replayed,
        SignError::UndecodablePayload { .. } => Refusal::Undecodable,
        other => panic!("unexpected refusal {other}"),
    }
}

#[test]
fn each_refusal_has_its_own_variant() {
    type Case = (&'static str, fn(&World) -> (Signed, Timestamp), Refusal);
    let good = |w: &World| w.alpha.sign(METHOD, "beta.test", NOW, &msg());
    let cases: Vec<Case> = vec![
        (
            "unknown portal",
            |_| (Signer::generate("zeta.test").sign(METHOD, "beta.test", NOW, &msg()), NOW),
            Refusal::UnknownPortal,
        ),
        (
            "payload byte flipped",
            |w| {
                let mut r = w.alpha.sign(METHOD, "beta.test", NOW, &msg());
                r.payload[3] ^= 0x01;
                (r, NOW)
            },
            Refusal::BadSignature,
        ),
        (
            "signature byte flipped",
            |w| {
                let mut r = w.alpha.sign(METHOD, "beta.test", NOW, &msg());
                r.signature[0] ^= 0x80;
                (r, NOW)
            },
            Refusal::BadSignature,
        ),
        (
            "signed by another key",
            |_| {
                let mallory = Signer::new("alpha.test", SigningKey::from_bytes(&[9; 32]));
                (mallory.sign(METHOD, "beta.test", NOW, &msg()), NOW)
            },
            Refusal::BadSignature,
        ),
        (
            "wrong destination",
            |w| (w.alpha.sign(METHOD, "gamma.test", NOW, &msg()), NOW),
            Refusal::WrongDestination,
        ),
        (
            "wrong method",
            |w| (w.alpha.sign("/portalnet.v1.Portal/Other", "beta.test", NOW, &msg()), NOW),
            Refusal::WrongMethod,
        ),
        (
            "6 min early (from the future)",
            |w| (w.alpha.sign(METHOD, "beta.test", NOW.plus_millis(6 * MIN), &msg()), NOW),
            Refusal::OutsideWindow,
        ),
        (
            "6 min late",
            |w| (w.alpha.sign(METHOD, "beta.test", NOW.plus_millis(-6 * MIN), &msg()), NOW),
            Refusal::OutsideWindow,
        ),
        (
            "nonce 15 bytes",
            |w| {
                let mut r = w.alpha.sign(METHOD, "beta.test", NOW, &msg());
                r.nonce.pop();
                (r, NOW)
            },
            Refusal::Malformed,
        ),
        (
            "nonce 17 bytes",
            |w| {
                let mut r = w.alpha.sign(METHOD, "beta.test", NOW, &msg());
                r.nonce.push(0);
                (r, NOW)
            },
            Refusal::Malformed,
        ),
        (
            "signature 63 bytes",
            |w| {
                let mut r = w.alpha.sign(METHOD, "beta.test", NOW, &msg());
                r.signature.pop();
                (r, NOW)
            },
            Refusal::Malformed,
        ),
        (
            "signature missing",
            |w| {
                let mut r = w.alpha.sign(METHOD, "beta.test", NOW, &msg());
                r.signature.clear();
                (r, NOW)
            },
            Refusal::Malformed,
        ),
        (
            "origin missing",
            |w| {
                let mut r = w.alpha.sign(METHOD, "beta.test", NOW, &msg());
                r.origin.clear();
                (r, NOW)
            },
            Refusal::Malformed,
        ),
        (
            "origin oversized",
            |w| {
                let mut r = w.alpha.sign(METHOD, "beta.test", NOW, &msg());
                r.origin = "a".repeat(300);
                (r, NOW)
            },
            Refusal::Malformed,
        ),
        (
            "undecodable payload",
            |w| (w.alpha.sign_bytes(METHOD, "beta.test", NOW, vec![0x00, 0xff]), NOW),
            Refusal::Undecodable,
        ),
    ];
    for (name, make, want) in cases {
        let w = world();
        let (req, now) = make(&w);
        let err = w.beta.decode::<RegisterPortal>(&req, METHOD, &w.keys, now).unwrap_err();
        assert_eq!(refusal(&err), want, "{name}: {err}");
        assert!(!err.to_string().is_empty());
    }

    // Replay: the second verify of the same request.
    let w = world();
    let req = good(&w);
    w.beta.verify(&req, METHOD, &w.keys, NOW).unwrap();
    let err = w.beta.verify(&req, METHOD, &w.keys, NOW.plus_millis(1)).unwrap_err();
    assert_eq!(refusal(&err), Refusal::Replayed);
    assert!(err.to_string().contains("already received"), "{err}");
}

#[test]
fn window_edges_and_messages() {
    let w = world();
    for skew in [-DEFAULT_WINDOW_MS, 0, DEFAULT_WINDOW_MS] {
        let req = w.alpha.sign(METHOD, "beta.test", NOW.plus_millis(skew), &msg());
        assert!(w.beta.verify(&req, METHOD, &w.keys, NOW).is_ok(), "skew {skew}");
    }
    let req = w.alpha.sign(METHOD, "beta.test", NOW.plus_millis(-6 * MIN), &msg());
    let err = w.beta.verify(&req, METHOD, &w.keys, NOW).unwrap_err();
    assert_eq!(err, SignError::OutsideWindow { skew_ms: -6 * MIN, window_ms: DEFAULT_WINDOW_MS });
    let text = err.to_string();
    assert!(text.contains("6 min behind") && text.contains("±5 min"), "{text}");
    // Extreme timestamps are refused without overflow.
    for ts in [i64::MIN, i64::MAX] {
        let req = w.alpha.sign(METHOD, "beta.test", Timestamp(ts), &msg());
        assert!(matches!(w.beta.verify(&req, METHOD, &w.keys, NOW), Err(SignError::OutsideWindow { .. })));
    }
}

#[test]
fn messages_name_what_is_wrong() {
    let w = world();
    let req = w.alpha.sign(METHOD, "gamma.test", NOW, &msg());
    let text = w.beta.verify(&req, METHOD, &w.keys, NOW).unwrap_err().to_string();
    assert!(text.contains("signed for \"gamma.test\", this is \"beta.test\""), "{text}");
    let req = Signer::generate("zeta.test").sign(METHOD, "beta.test", NOW, &msg());
    let text = w.beta.verify(&req, METHOD, &w.keys, NOW).unwrap_err().to_string();
    assert!(text.contains("portal \"zeta.test\" is not registered"), "{text}");
}

#[test]
fn forged_copy_does_not_burn_the_nonce() {
    let w = world();
    let real = w.alpha.sign(METHOD, "beta.test", NOW, &msg());
    let mut forged = real.clone();
    forged.payload = RegisterPortal { endpoint: "https://evil.test".into(), ..msg() }.encode_to_vec();
    assert!(matches!(w.beta.verify(&forged, METHOD, &w.keys, NOW), Err(SignError::BadSignature { .. })));
    let mut bad_sig = real.clone();
    bad_sig.signature[5] ^= 1;
    assert!(matches!(w.beta.verify(&bad_sig, METHOD, &w.keys, NOW), Err(SignError::BadSignature { .. })));
    assert!(w.beta.nonces().is_empty());
    assert!(w.beta.verify(&real, METHOD, &w.keys, NOW).is_ok());
}

#[test]
fn nonces_are_evicted_after_the_window() {
    let w = world();
    let first = w.alpha.sign(METHOD, "beta.test", NOW, &msg());
    w.beta.verify(&first, METHOD, &w.keys, NOW).unwrap();
    assert_eq!(w.beta.nonces().len(), 1);

    let later = NOW.plus_millis(DEFAULT_WINDOW_MS + NONCE_MARGIN_MS + 1);
    let second = w.alpha.sign(METHOD, "beta.test", later, &msg());
    w.beta.verify(&second, METHOD, &w.keys, later).unwrap();
    assert_eq!(w.beta.nonces().len(), 1, "the first nonce was forgotten");
    // Replaying the first request is still refused, now by the window.
    assert!(matches!(w.beta.verify(&first, METHOD, &w.keys, later), Err(SignError::OutsideWindow { .. })));
}

#[test]
fn full_nonce_cache_refuses_with_busy() {
    let w = world();
    let beta = Verifier::new("beta.test").with_nonce_capacity(2);
    for _ in 0..2 {
        let req = w.alpha.sign(METHOD, "beta.test", NOW, &msg());
        beta.verify(&req, METHOD, &w.keys, NOW).unwrap();
    }
    let req = w.alpha.sign(METHOD, "beta.test", NOW, &msg());
    let err = beta.verify(&req, METHOD, &w.keys, NOW).unwrap_err();
    assert_eq!(err, SignError::Busy { capacity: 2 });
    assert!(err.is_retryable());
    // Once the old nonces expire, the same request (re-signed with a fresh time) passes.
    let later = NOW.plus_millis(DEFAULT_WINDOW_MS + NONCE_MARGIN_MS + 1);
    let req = w.alpha.sign(METHOD, "beta.test", later, &msg());
    assert!(beta.verify(&req, METHOD, &w.keys, later).is_ok());
}

#[test]
fn custom_window() {
    let w = world();
    let beta = Verifier::new("beta.test").with_window_ms(1_000);
    let req = w.alpha.sign(METHOD, "beta.test", NOW.plus_millis(1_001), &msg());
    assert!(matches!(beta.verify(&req, METHOD, &w.keys, NOW), Err(SignError::OutsideWindow { .. })));
    assert_eq!(Verifier::new("x").with_window_ms(-5).window_ms(), 0);
}

/// Property-style: random requests round-trip, and any single-byte change to any
/// signed field or the signature is refused, without recording the nonce.
#[test]
fn random_requests_and_single_byte_tampering() {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    for i in 0..64 {
        let origin = format!("p{}.test", rng.gen_range(0..1000));
        let dest = format!("q{}.test", rng.gen_range(0..1000));
        let method = format!("/portalnet.v1.S/M{}", rng.gen_range(0..50));
        let signer = Signer::new(origin.clone(), SigningKey::from_bytes(&rng.r#gen()));
        let keys = HashMap::from([(origin.clone(), signer.verifying_key())]);
        let verifier = Verifier::new(dest.clone());
        let now = Timestamp(rng.gen_range(0..4_000_000_000_000));
        let sent = now.plus_millis(rng.gen_range(-DEFAULT_WINDOW_MS..=DEFAULT_WINDOW_MS));
        let payload: Vec<u8> = (0..rng.gen_range(0..200)).map(|_| rng.r#gen()).collect();
        let req = signer.sign_bytes(&method, &dest, sent, payload.clone());

        let mut tampered = req.clone();
        match rng.gen_range(0..7) {
            0 => flip_str(&mut tampered.method, &mut rng),
            1 => flip_str(&mut tampered.origin, &mut rng),
            2 => flip_str(&mut tampered.destination, &mut rng),
            3 => tampered.timestamp ^= 1 << rng.gen_range(0..20),
            4 => flip(&mut tampered.nonce, &mut rng),
            5 if !tampered.payload.is_empty() => flip(&mut tampered.payload, &mut rng),
            5 => tampered.payload.push(0),
            _ => flip(&mut tampered.signature, &mut rng),
        }
        assert!(verifier.verify(&tampered, &method, &keys, now).is_err(), "case {i}: {tampered:?}");
        assert!(verifier.nonces().is_empty(), "case {i}: tampered request recorded a nonce");

        let ok = verifier.verify(&req, &method, &keys, now).unwrap_or_else(|e| panic!("case {i}: {e}"));
        assert_eq!((ok.origin, ok.payload), (origin.as_str(), payload.as_slice()));
        assert!(matches!(verifier.verify(&req, &method, &keys, now), Err(SignError::Replayed { .. })));
    }
}

/// Garbage in any field must yield an error, never a panic.
#[test]
fn garbage_never_panics() {
    let mut rng = StdRng::seed_from_u64(7);
    let w = world();
    for _ in 0..2_000 {
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        let req = Signed {
            method: text(bytes(&mut rng, 8)),
            origin: if rng.gen_bool(0.5) { "alpha.test".into() } else { text(bytes(&mut rng, 12)) },
            destination: if rng.gen_bool(0.5) { "beta.test".into() } else { text(bytes(&mut rng, 12)) },
            timestamp: rng.r#gen(),
            nonce: bytes(&mut rng, 20),
            payload: bytes(&mut rng, 40),
            signature: bytes(&mut rng, 70),
            session: bytes(&mut rng, 50),
        };
        let _ = w.beta.decode::<RegisterPortal>(&req, METHOD, &w.keys, NOW);
        let _ = w.beta.verify_with_key(&req, &req.method, &w.alpha.verifying_key(), Timestamp(req.timestamp));
        let _ = w.beta.addressed(&req, METHOD);
    }
}

fn bytes(rng: &mut StdRng, max: usize) -> Vec<u8> {
    (0..rng.gen_range(0..max)).map(|_| rng.r#gen()).collect()
}

fn flip(bytes: &mut [u8], rng: &mut StdRng) {
    let i = rng.gen_range(0..bytes.len());
    bytes[i] ^= 1 << rng.gen_range(0..8);
}

fn flip_str(s: &mut String, rng: &mut StdRng) {
    // Stay within ASCII so the string remains valid UTF-8.
    let mut b = std::mem::take(s).into_bytes();
    let i = rng.gen_range(0..b.len());
    b[i] ^= 1 << rng.gen_range(0..6);
    *s = String::from_utf8_lossy(&b).into_owned();
}
