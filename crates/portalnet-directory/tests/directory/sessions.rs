//! Directory sessions: a token opened for one portal is accepted for that
//! portal only, until it expires or the portal's key changes, and by every
//! directory node sharing the database.

use crate::*;
use portalnet_directory::SESSION_TTL_MS;

fn unauthenticated(r: Result<(), Error>) -> String {
    match r {
        Err(Error::Unauthenticated(m)) => m,
        other => panic!("expected Unauthenticated, got {other:?}"),
    }
}

#[test]
fn a_session_is_accepted_for_its_portal_until_it_expires() {
    let f = fixture();
    let d = &f.directory;
    register_new(d, "alpha.test", "https://alpha.test:1", key(1));
    register_new(d, "beta.test", "https://beta.test:1", key(2));
    let s = d.open_session("Alpha.Test", T0).unwrap();
    assert_eq!(s.expires_at, T0.plus_millis(SESSION_TTL_MS));
    d.check_session("alpha.test", &s.token, T0).unwrap();
    d.check_session("ALPHA.test", &s.token, T0.plus_millis(SESSION_TTL_MS - 1)).unwrap();
    let m = unauthenticated(d.check_session("alpha.test", &s.token, T0.plus_millis(SESSION_TTL_MS)));
    assert!(m.contains("expired") && m.contains("OpenSession"), "{m}");
    // Another portal's token, an unknown portal, a portal id that is no id.
    unauthenticated(d.check_session("beta.test", &s.token, T0));
    unauthenticated(d.check_session("ghost.test", &s.token, T0));
    unauthenticated(d.check_session("not a portal", &s.token, T0));
    // An unregistered portal gets no session.
    assert!(matches!(d.open_session("ghost.test", T0), Err(Error::NotFound(_))));
}

#[test]
fn forged_and_damaged_tokens_are_refused() {
    let f = fixture();
    let d = &f.directory;
    register_new(d, "alpha.test", "https://alpha.test:1", key(1));
    let s = d.open_session("alpha.test", T0).unwrap();
    assert_eq!(s.token.len(), 41);
    // Every single-bit change anywhere, a moved expiry included, is refused.
    for i in 0..s.token.len() {
        let mut t = s.token.clone();
        t[i] ^= 0x01;
        unauthenticated(d.check_session("alpha.test", &t, T0));
    }
    for t in [vec![], vec![1], s.token[..40].to_vec(), [s.token.clone(), vec![0]].concat()] {
        let m = unauthenticated(d.check_session("alpha.test", &t, T0));
        assert!(m.contains("malformed"), "{m}");
    }
}

#[test]
fn a_key_rotation_ends_the_portals_sessions() {
    let f = fixture();
    let d = &f.directory;
    register_new(d, "alpha.test", "https://alpha.test:1", key(1));
    let old = d.open_session("alpha.test", T0).unwrap();
    d.rotate_key("alpha.test", key(1), key(2), "https://alpha.test:1", T0.plus_millis(1)).unwrap();
    let m = unauthenticated(d.check_session("alpha.test", &old.token, T0.plus_millis(2)));
    assert!(m.contains("current key"), "{m}");
    let new = d.open_session("alpha.test", T0.plus_millis(2)).unwrap();
    d.check_session("alpha.test", &new.token, T0.plus_millis(3)).unwrap();
}

/// The secret is stored: a directory opened again on the same database (a
/// restart, or another node of a shared one) accepts the tokens of the first.
#[test]
fn sessions_outlive_a_reopen_of_the_database() {
    let Fixture { dir, db, directory } = fixture();
    register_new(&directory, "alpha.test", "https://alpha.test:1", key(1));
    let s = directory.open_session("alpha.test", T0).unwrap();
    drop(directory);
    drop(db);
    let again = Directory::open(&open_db(dir.path())).unwrap();
    again.check_session("alpha.test", &s.token, T0).unwrap();
    if on_postgres() {
        // Two nodes at once: each accepts the other's tokens.
        let other = Directory::open(&open_db(dir.path())).unwrap();
        let t = other.open_session("alpha.test", T0).unwrap();
        again.check_session("alpha.test", &t.token, T0).unwrap();
    }
}
