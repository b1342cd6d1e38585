//! Enrolment: a new portal id registers only with a one-time secret enrolled for
//! exactly that id, unexpired; only the secret's SHA-256 is stored (issue 11, 2).

use crate::*;
use portalnet_directory::{ENROLMENT_TTL_MS, secret_sha256};

const SECRET: &str = "pne_0123456789abcdefghijklmnopqrstuvwxyz";

#[track_caller]
fn denied<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(Error::PermissionDenied(m)) => m,
        other => panic!("expected PermissionDenied, got {other:?}"),
    }
}

#[test]
fn a_new_id_without_a_secret_is_refused_and_nothing_is_stored() {
    let f = fixture();
    let d = &f.directory;
    let m = denied(d.register("alpha.test", "https://alpha.test:1", key(1), None, T0));
    assert!(m.contains("alpha.test") && m.contains("portald directory enrol"), "{m}");
    let m = denied(d.register("alpha.test", "https://alpha.test:1", key(1), Some(SECRET), T0));
    assert!(m.contains("not known"), "{m}");
    assert_eq!(d.portal("alpha.test").unwrap(), None);
    assert!(d.portals().unwrap().is_empty());
}

#[test]
fn a_secret_is_bound_to_one_id() {
    let f = fixture();
    let d = &f.directory;
    d.enrol("alpha.test", SECRET, T0, ENROLMENT_TTL_MS).unwrap();
    let m = denied(d.register("beta.test", "https://beta.test:1", key(2), Some(SECRET), T0));
    assert!(m.contains("another portal id"), "{m}");
    assert_eq!(d.portal("beta.test").unwrap(), None);
    // The refusal did not use it up: alpha registers with it.
    assert_eq!(d.enrolments().unwrap()[0].used_at, None);
    d.register("alpha.test", "https://alpha.test:1", key(1), Some(SECRET), T0).unwrap();
}

#[test]
fn a_secret_is_used_once() {
    let f = fixture();
    let d = &f.directory;
    d.enrol("alpha.test", SECRET, T0, ENROLMENT_TTL_MS).unwrap();
    let t1 = T0.plus_millis(1_000);
    d.register("alpha.test", "https://alpha.test:1", key(1), Some(SECRET), t1).unwrap();
    let e = &d.enrolments().unwrap()[0];
    assert_eq!((e.portal_id.as_str(), e.used_at), ("alpha.test", Some(t1)));
    // Someone else holding the spent secret and another key gets nothing.
    let m = denied(d.register("alpha.test", "https://evil:1", key(9), Some(SECRET), t1));
    assert!(m.contains("another key"), "{m}");
    assert_eq!(d.portal("alpha.test").unwrap().unwrap().public_key, key(1));
    // The same secret cannot be enrolled again.
    assert!(matches!(d.enrol("alpha.test", SECRET, t1, ENROLMENT_TTL_MS), Err(Error::AlreadyExists(_))));
}

#[test]
fn a_secret_expires() {
    let f = fixture();
    let d = &f.directory;
    d.enrol("alpha.test", SECRET, T0, 60_000).unwrap();
    let m = denied(d.register(
        "alpha.test",
        "https://alpha.test:1",
        key(1),
        Some(SECRET),
        T0.plus_millis(60_000),
    ));
    assert!(m.contains("expired") && m.contains("portald directory enrol"), "{m}");
    assert_eq!(d.portal("alpha.test").unwrap(), None);
    d.register("alpha.test", "https://alpha.test:1", key(1), Some(SECRET), T0.plus_millis(59_999)).unwrap();
}

#[test]
fn only_the_hash_is_stored() {
    let f = fixture();
    let d = &f.directory;
    let e = d.enrol("alpha.test", SECRET, T0, ENROLMENT_TTL_MS).unwrap();
    assert_eq!(e.secret_sha256, secret_sha256(SECRET));
    assert_eq!(e.expires_at, T0.plus_millis(ENROLMENT_TTL_MS));
    let tree = f.db.tree("dir_enrolments").unwrap();
    let raw: Vec<(Vec<u8>, Vec<u8>)> = tree.scan_prefix(b"").map(Result::unwrap).collect();
    assert_eq!(raw.len(), 1);
    let (k, v) = &raw[0];
    assert_eq!(k, secret_sha256(SECRET).as_bytes());
    for bytes in [k, v] {
        assert!(!String::from_utf8_lossy(bytes).contains("0123456789abcdefghij"), "secret stored in clear");
    }
    // Weak secrets and malformed hashes are refused.
    assert_invalid(d.enrol("alpha.test", "short", T0, ENROLMENT_TTL_MS));
    assert_invalid(d.add_enrolment("alpha.test", "not-a-hash", T0, T0.plus_millis(1)));
    assert_invalid(d.add_enrolment("not an id", &secret_sha256("x"), T0, T0.plus_millis(1)));
    assert_invalid(d.add_enrolment("alpha.test", &secret_sha256("x"), T0, T0));
}

/// A registered portal proves itself by its key: endpoint updates and key
/// rotations need no secret.
#[test]
fn a_registered_portal_needs_no_secret() {
    let f = fixture();
    let d = &f.directory;
    register_new(d, "alpha.test", "https://alpha.test:1", key(1));
    let p = d.register("alpha.test", "https://alpha.test:2", key(1), None, T0).unwrap();
    assert_eq!(p.endpoint, "https://alpha.test:2");
    let p = d.rotate_key("alpha.test", key(1), key(2), "https://alpha.test:3", T0).unwrap();
    assert_eq!(p.public_key, key(2));
    assert_eq!(
        d.register("alpha.test", "https://alpha.test:4", key(2), None, T0).unwrap().previous_keys,
        [key(1)]
    );
}
