//! The in-memory name index follows storage (issue 13): a publish, rename,
//! removal or network switch is visible to the next search; reopening the
//! database rebuilds the same answers; searches running during writes never see
//! anyone twice, and see the last state once the writes are done.

use crate::ranking::{Model, assert_ranks_like, page};
use crate::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[test]
fn every_change_is_visible_to_the_next_search() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    portal(d, "beta.test", true);
    publish(d, "alpha.test", vec![entry("anna", "Anna Nowak"), entry("jan", "Jan Kowalski")]);
    assert_eq!(found(d, "nowak"), ["Anna Nowak"]);

    // Rename: the old words go, the new ones come, in the same call.
    publish(d, "alpha.test", vec![entry("anna", "Anna Zielińska")]);
    assert_eq!(found(d, "nowak"), Vec::<String>::new());
    assert_eq!(found(d, "zielinska"), ["Anna Zielińska"]);
    assert_eq!(found(d, "anna"), ["Anna Zielińska"]);
    // A change of case only is still one person.
    publish(d, "alpha.test", vec![entry("anna", "ANNA ZIELIŃSKA")]);
    assert_eq!(found(d, "anna z"), ["ANNA ZIELIŃSKA"]);

    // Removal.
    d.publish("alpha.test", Vec::new(), vec!["jan".into()], false).unwrap();
    assert_eq!(found(d, "jan"), Vec::<String>::new());

    // Replace-all removes whoever is not listed.
    publish(d, "beta.test", vec![entry("b1", "Anna Beta"), entry("b2", "Jan Beta")]);
    d.publish("beta.test", vec![entry("b2", "Jan Beta")], Vec::new(), true).unwrap();
    assert_eq!(found(d, "beta"), ["Jan Beta"]);

    // Network off: gone from search, back when on, with changes made meanwhile.
    d.set_network("beta.test", false, T0).unwrap();
    assert_eq!(found(d, "beta"), Vec::<String>::new());
    publish(d, "beta.test", vec![entry("b2", "Jan Gamma"), entry("b3", "Olga Beta")]);
    assert_eq!(found(d, "beta"), Vec::<String>::new());
    assert_eq!(found(d, "gamma"), Vec::<String>::new());
    d.set_network("beta.test", true, T0).unwrap();
    assert_eq!(found(d, "beta"), ["Olga Beta"]);
    assert_eq!(found(d, "gamma"), ["Jan Gamma"]);
    // Switching on twice indexes nobody twice.
    d.set_network("beta.test", true, T0).unwrap();
    assert_eq!(d.search("beta", 50, 0).unwrap().0.len(), 1);

    // A refused publish changes nothing, in storage or in search.
    let bad = Entry { login: "BAD LOGIN".into(), ..entry("x", "Anna Refused") };
    assert!(d.publish("alpha.test", vec![entry("new", "Anna New"), bad], Vec::new(), false).is_err());
    assert_eq!(found(d, "anna"), ["ANNA ZIELIŃSKA"]);

    // A name with no letters or digits is stored and never found.
    publish(d, "alpha.test", vec![entry("emoji", "🙂 🙂")]);
    assert_eq!(d.indexed_people(), 3);
}

#[test]
fn reopening_rebuilds_the_same_answers() {
    let f = fixture();
    let mut model = Model::default();
    {
        let d = &f.directory;
        for (p, on) in [("alpha.test", true), ("beta.test", true), ("gamma.test", false)] {
            portal(d, p, on);
            model.visible.insert(p.to_string(), on);
        }
        for (p, names) in [
            ("alpha.test", ["Anna Nowak", "Jan Kowalski", "Łukasz Żółkiewski", "Anna Maria Kowalska"]),
            ("beta.test", ["Антон Ёлкин", "Anna Nowak", "Ольга Петрова", "Annabel Kowal"]),
            ("gamma.test", ["Anna Hidden", "Jan Hidden", "Anna Nowak", "Olga Hidden"]),
        ] {
            let batch: Vec<Entry> =
                names.iter().enumerate().map(|(i, n)| entry(&format!("u{i}"), n)).collect();
            for e in &batch {
                model.people.insert((p.to_string(), e.login.clone()), e.display_name.clone());
            }
            publish(d, p, batch);
        }
        // Changes after the first publish are what the rebuilt index must hold.
        publish(d, "alpha.test", vec![entry("u0", "Anna Renamed")]);
        model.people.insert(("alpha.test".into(), "u0".into()), "Anna Renamed".into());
        d.publish("beta.test", Vec::new(), vec!["u1".into()], false).unwrap();
        model.people.remove(&("beta.test".to_string(), "u1".to_string()));
        d.set_network("alpha.test", false, T0).unwrap();
        d.set_network("alpha.test", true, T0).unwrap();
        d.set_network("beta.test", false, T0).unwrap();
        model.visible.insert("beta.test".into(), false);
        d.sync().unwrap();
    }
    let queries = ["anna", "an", "nowak", "jan kow", "kowal", "ел", "антон", "hidden", "renamed", "olga"];
    let before: Vec<_> = queries.iter().map(|q| page(&f.directory, q, 50, 0)).collect();
    let pages = [(50, 0), (1, 1)];
    for q in queries {
        assert_ranks_like(&f.directory, &model, q, &pages);
    }

    let Fixture { dir, db, directory } = f;
    let people = directory.indexed_people();
    drop(directory);
    drop(db);
    let db = open_db(dir.path());
    let d = Directory::open(&db).unwrap();
    assert_eq!(d.indexed_people(), people);
    let after: Vec<_> = queries.iter().map(|q| page(&d, q, 50, 0)).collect();
    assert_eq!(after, before);
    // And it goes on following changes.
    d.set_network("beta.test", true, T0).unwrap();
    model.visible.insert("beta.test".into(), true);
    for q in queries {
        assert_ranks_like(&d, &model, q, &pages);
    }
}

#[test]
fn searches_during_writes_see_each_person_once_and_end_at_the_last_state() {
    let f = fixture();
    let d = f.directory.clone();
    portal(&d, "alpha.test", true);
    let crowd: Vec<Entry> = (0..300).map(|i| entry(&format!("c{i:03}"), "Anna Crowd")).collect();
    publish(&d, "alpha.test", crowd);
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (d, stop) = (d.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut searches = 0;
                while !stop.load(Ordering::Relaxed) {
                    for q in ["anna", "an", "ann cr", "moving"] {
                        let (people, _) = d.search(q, 50, 0).unwrap();
                        let mut addresses: Vec<&str> = people.iter().map(|p| p.address.as_str()).collect();
                        addresses.sort();
                        let n = addresses.len();
                        addresses.dedup();
                        assert_eq!(addresses.len(), n, "nobody twice for {q:?}");
                        searches += 1;
                    }
                }
                searches
            })
        })
        .collect();
    for i in 0..60 {
        let name = if i % 2 == 0 { "Anna Moving" } else { "Zofia Moving" };
        publish(&d, "alpha.test", vec![entry("mover", name)]);
        d.set_network("alpha.test", i % 3 != 0, T0).unwrap();
    }
    d.set_network("alpha.test", true, T0).unwrap();
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    assert_eq!(found(&d, "moving"), ["Zofia Moving"]);
    assert_eq!(d.search("anna", 50, 250).unwrap().0.len(), 50);
    assert_eq!(d.search("anna", 50, 300).unwrap().0.len(), 0);
    assert_eq!(d.indexed_people(), 301);
}

/// Writers in several threads renaming the same people: each write's index
/// changes are applied in commit order (a write does not wait for the one
/// before it to update the index, only to have done so before its own), so the
/// index ends where storage does: a directory opened afresh shows the same.
#[test]
fn concurrent_writers_leave_the_index_where_storage_is() {
    let f = fixture();
    let d = f.directory.clone();
    portal(&d, "alpha.test", true);
    portal(&d, "beta.test", true);
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let d = d.clone();
            std::thread::spawn(move || {
                for i in 0..40 {
                    let people: Vec<Entry> = (0..8)
                        .map(|k| Entry {
                            position: format!("writer {t} round {i}"),
                            ..entry(&format!("p{k}"), &format!("Anna W{t}r{i} K{k}"))
                        })
                        .collect();
                    let portal = if (t + i) % 2 == 0 { "alpha.test" } else { "beta.test" };
                    d.publish(portal, people, Vec::new(), false).unwrap();
                    if i % 10 == 9 {
                        d.set_network(portal, t % 2 == 0, T0).unwrap();
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    d.set_network("alpha.test", true, T0).unwrap();
    d.set_network("beta.test", true, T0).unwrap();
    let shown = |d: &Directory| -> Vec<(String, String, String)> {
        let (people, more) = d.search("anna", 50, 0).unwrap();
        assert!(!more);
        people.into_iter().map(|p| (p.address, p.display_name, p.position)).collect()
    };
    let fresh = Directory::open(&f.db).unwrap();
    let now = shown(&d);
    assert_eq!(now.len(), 16, "8 people on each of two portals");
    assert_eq!(now, shown(&fresh));
    assert_eq!(d.indexed_people(), 16);
}
