//! The directory suite on PostgreSQL: the modules of `directory/` compiled
//! again; their fixture sees this crate's name and opens a fresh database in a
//! throw-away PostgreSQL cluster. Fails (does not skip) without PostgreSQL.

#[path = "directory/main.rs"]
mod suite;
pub use suite::*;

/// Two directory nodes on one database: each index learns the other's writes,
/// in commit order, and a node that opens later starts from the same state.
#[test]
fn two_nodes_on_one_database_see_each_others_writes() {
    let f = fixture();
    let a = f.directory.clone();
    let b = Directory::open(&open_db(f.dir.path())).unwrap();
    portal(&a, "alpha.test", true);
    portal(&b, "beta.test", true);
    publish(&a, "alpha.test", vec![entry("jan", "Jan Kowalski"), entry("ola", "Ola Nowak")]);
    assert_eq!(found(&b, "kowalski"), Vec::<String>::new(), "not yet caught up");
    assert!(b.catch_up().unwrap() > 0);
    assert_eq!(found(&b, "kowalski"), ["Jan Kowalski"]);
    // B renames Jan, then A publishes: A applies B's rename first, then its own.
    publish(&b, "alpha.test", vec![entry("jan", "Jan Zieliński")]);
    publish(&a, "beta.test", vec![entry("eva", "Eva Kowalska")]);
    assert_eq!(found(&a, "kowal"), ["Eva Kowalska"]);
    assert_eq!(found(&a, "zielinski"), ["Jan Zieliński"]);
    b.catch_up().unwrap();
    for d in [&a, &b] {
        assert_eq!(found(d, "kowal"), ["Eva Kowalska"]);
        assert_eq!(found(d, "jan"), ["Jan Zieliński"]);
        assert_eq!(d.indexed_people(), 3);
    }
    // Network off on one node takes the people out of the other's search.
    a.set_network("alpha.test", false, T0).unwrap();
    b.catch_up().unwrap();
    assert_eq!(found(&b, "jan"), Vec::<String>::new());
    assert_eq!(found(&b, "ola"), Vec::<String>::new());
    // A third node opening now builds the same index.
    let c = Directory::open(&open_db(f.dir.path())).unwrap();
    assert_eq!(c.indexed_people(), 1);
    assert_eq!(found(&c, "eva"), ["Eva Kowalska"]);
    assert_eq!(c.catch_up().unwrap(), 0);
}

/// The change log is pruned to its length, and a node that fell further behind
/// than the log reaches rebuilds its index instead of missing changes.
#[test]
fn a_node_behind_the_pruned_log_rebuilds_and_the_log_stays_bounded() {
    let f = fixture();
    let keep = 20;
    let a = Directory::open_keeping(&open_db(f.dir.path()), keep).unwrap();
    let b = Directory::open_keeping(&open_db(f.dir.path()), keep).unwrap();
    portal(&a, "alpha.test", true);
    b.catch_up().unwrap();
    // 60 index changes on A while B does not look: B's next change is pruned.
    for i in 0..30 {
        publish(&a, "alpha.test", vec![entry(&format!("u{i}"), &format!("Anna Nowak{i}"))]);
        publish(&a, "alpha.test", vec![entry(&format!("u{i}"), &format!("Anna Kowalska{i}"))]);
    }
    let logged = f.db.tree("dir_changes").unwrap().len() as u64;
    assert!(logged <= keep + keep / 10, "the log holds {logged} changes, more than {keep} and a step");
    assert!(logged >= keep, "the log holds {logged} changes, fewer than it keeps ({keep})");
    b.catch_up().unwrap();
    for d in [&a, &b] {
        assert_eq!(d.indexed_people(), 30);
        assert_eq!(found(d, "nowak"), Vec::<String>::new());
        assert_eq!(found(d, "kowalska29"), ["Anna Kowalska29"]);
    }
    // Caught up, B follows single changes through the log again.
    publish(&a, "alpha.test", vec![entry("u0", "Zofia Wójcik")]);
    assert_eq!(b.catch_up().unwrap(), 1);
    assert_eq!(found(&b, "wojcik"), ["Zofia Wójcik"]);
}

/// A key rotated through one node ends the portal's sessions on that node at
/// once, and on another node of the database once its cached key is older than
/// `KEY_CACHE_MS`; that node then accepts only sessions of the new key.
#[test]
fn a_rotation_through_one_node_ends_sessions_on_the_others_within_the_key_cache() {
    let f = fixture();
    let a = f.directory.clone();
    let b = Directory::open(&open_db(f.dir.path())).unwrap();
    register_new(&a, "alpha.test", "https://alpha.test:1", key(1));
    let old = a.open_session("alpha.test", T0).unwrap();
    b.check_session("alpha.test", &old.token, T0).unwrap();
    a.rotate_key("alpha.test", key(1), key(2), "https://alpha.test:1", T0).unwrap();
    assert!(matches!(a.check_session("alpha.test", &old.token, T0), Err(Error::Unauthenticated(_))));
    let deadline =
        std::time::Instant::now() + std::time::Duration::from_millis(portalnet_directory::KEY_CACHE_MS * 10);
    while b.check_session("alpha.test", &old.token, T0).is_ok() {
        assert!(std::time::Instant::now() < deadline, "node B still accepts the old key's session");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let new = a.open_session("alpha.test", T0).unwrap();
    b.check_session("alpha.test", &new.token, T0).unwrap();
}
