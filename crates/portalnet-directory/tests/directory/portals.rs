//! Portals: registration, key rotation, the network setting; persistence.

use crate::*;

#[test]
fn register_and_update_endpoint() {
    let f = fixture();
    let d = &f.directory;
    let p = register_new(d, "Alpha.Test", "https://alpha.test:7443", key(1));
    assert_eq!(p.portal_id, "alpha.test");
    assert!(!p.network_enabled);
    assert_eq!(p.network_enabled_since, None);
    assert_eq!(p.registered_at, T0);
    assert!(p.previous_keys.is_empty());
    // Same key: the endpoint changes, nothing else.
    let later = T0.plus_millis(5_000);
    let p2 = d.register("alpha.test", "https://alpha.example:443", key(1), None, later).unwrap();
    assert_eq!(p2.endpoint, "https://alpha.example:443");
    assert_eq!(p2.registered_at, T0);
    assert_eq!(d.portal("ALPHA.test").unwrap(), Some(p2.clone()));
    // Another key without a rotation: refused.
    assert!(matches!(
        d.register("alpha.test", "https://evil:1", key(2), None, later),
        Err(Error::PermissionDenied(_))
    ));
    assert_eq!(d.portal("alpha.test").unwrap(), Some(p2));
    assert_eq!(d.portal("nobody.test").unwrap(), None);
    assert_eq!(d.portal("not a portal").unwrap(), None);

    assert_invalid(d.register("alpha", "https://a:1", key(1), None, T0));
    assert_invalid(d.register("beta.test", "", key(1), None, T0));
    assert_invalid(d.register("beta.test", "https://a b", key(1), None, T0));
    assert_invalid(d.register("beta.test", &format!("https://{}", "a".repeat(600)), key(1), None, T0));
    assert_eq!(d.portals().unwrap().len(), 1);
}

#[test]
fn rotating_keeps_previous_keys() {
    let f = fixture();
    let d = &f.directory;
    register_new(d, "alpha.test", "https://alpha.test:1", key(1));
    let t1 = T0.plus_millis(1);
    let p = d.rotate_key("alpha.test", key(1), key(2), "https://alpha.test:2", t1).unwrap();
    assert_eq!(p.public_key, key(2));
    assert_eq!(p.previous_keys, [key(1)]);
    assert_eq!(p.endpoint, "https://alpha.test:2");
    assert_eq!(p.key_rotated_at, Some(t1));
    let p = d.rotate_key("alpha.test", key(2), key(3), "https://alpha.test:2", t1).unwrap();
    assert_eq!(p.previous_keys, [key(1), key(2)]);
    // The current key again: only the endpoint.
    let p = d.rotate_key("alpha.test", key(3), key(3), "https://alpha.test:3", t1).unwrap();
    assert_eq!(p.previous_keys, [key(1), key(2)]);
    assert_eq!(p.endpoint, "https://alpha.test:3");
    // A key used before: refused.
    assert!(matches!(
        d.rotate_key("alpha.test", key(3), key(1), "https://alpha.test:3", t1),
        Err(Error::FailedPrecondition(_))
    ));
    // A rotation checked against a key replaced since (a race between two
    // rotations, or two directory nodes): refused, nothing written.
    assert!(matches!(
        d.rotate_key("alpha.test", key(2), key(4), "https://alpha.test:9", t1),
        Err(Error::PermissionDenied(_))
    ));
    let p = d.portal("alpha.test").unwrap().unwrap();
    assert_eq!((p.public_key, p.endpoint.as_str()), (key(3), "https://alpha.test:3"));
    // The new key registers (updates) as usual; the old one is refused.
    assert!(d.register("alpha.test", "https://alpha.test:4", key(3), None, t1).is_ok());
    assert!(matches!(
        d.register("alpha.test", "https://x:1", key(1), None, t1),
        Err(Error::PermissionDenied(_))
    ));
    assert!(matches!(d.rotate_key("ghost.test", key(8), key(9), "https://g:1", t1), Err(Error::NotFound(_))));
}

#[test]
fn network_enabled_since_follows_the_setting() {
    let f = fixture();
    let d = &f.directory;
    register_new(d, "alpha.test", "https://alpha.test:1", key(1));
    let (t1, t2, t3) = (T0.plus_millis(1_000), T0.plus_millis(2_000), T0.plus_millis(3_000));
    let p = d.set_network("alpha.test", true, t1).unwrap();
    assert!(p.network_enabled);
    assert_eq!(p.network_enabled_since, Some(t1));
    // Switching on again keeps the first time (R15 counts from it).
    assert_eq!(d.set_network("alpha.test", true, t2).unwrap().network_enabled_since, Some(t1));
    let p = d.set_network("alpha.test", false, t2).unwrap();
    assert!(!p.network_enabled);
    assert_eq!(p.network_enabled_since, None);
    assert_eq!(d.set_network("alpha.test", false, t3).unwrap().network_enabled_since, None);
    assert_eq!(d.set_network("alpha.test", true, t3).unwrap().network_enabled_since, Some(t3));
    assert!(matches!(d.set_network("ghost.test", true, t3), Err(Error::NotFound(_))));
    assert_invalid(d.set_network("ghost", true, t3));
}

#[test]
fn everything_survives_reopening_the_database() {
    let f = fixture();
    let path = f.dir.path().to_path_buf();
    {
        let d = &f.directory;
        portal(d, "alpha.test", true);
        portal(d, "beta.test", false);
        publish(d, "alpha.test", vec![entry_with_email("jan", "Jan Kowalski", "jan@mail.example")]);
        publish(d, "beta.test", vec![entry("ola", "Ольга Петрова")]);
        d.sync().unwrap();
    }
    let Fixture { dir, db, directory } = f;
    drop(directory);
    drop(db);
    let db = open_db(&path);
    let d = Directory::open(&db).unwrap();
    assert_eq!(found(&d, "kow jan"), ["Jan Kowalski"]);
    assert_eq!(found(&d, "ольга"), Vec::<String>::new());
    assert_eq!(d.lookup_email("JAN@mail.example").unwrap().unwrap().address, "jan@alpha.test");
    let p = d.portal("alpha.test").unwrap().unwrap();
    assert!(p.network_enabled);
    assert_eq!(p.entries, 1);
    // Hidden people come back after reopening too.
    d.set_network("beta.test", true, T0).unwrap();
    assert_eq!(found(&d, "ольга"), ["Ольга Петрова"]);
    // Account numbering continues: a new account does not reuse an id.
    publish(&d, "alpha.test", vec![entry_with_email("new", "New Person", "new@mail.example")]);
    assert_eq!(d.account_of("alpha.test", "new").unwrap().unwrap().addresses, ["new@alpha.test"]);
    assert_eq!(d.account_of("alpha.test", "jan").unwrap().unwrap().addresses, ["jan@alpha.test"]);
    drop(dir);
}
