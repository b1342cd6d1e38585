//! Publishing entries: validation, all-or-nothing, removal, replace_all.

use crate::*;
use portalnet_directory::MAX_UPSERTS;

#[test]
fn upsert_remove_and_replace_all() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    assert_eq!(publish(d, "alpha.test", vec![entry("anna", "Anna A"), entry("bob", "Bob B")]), 2);
    // Unchanged and changed entries: the count stays.
    assert_eq!(publish(d, "alpha.test", vec![entry("anna", "Anna A"), entry("bob", "Robert B")]), 2);
    assert_eq!(found(d, "rob"), ["Robert B"]);
    assert_eq!(found(d, "bob"), Vec::<String>::new(), "the old name is out of the index");
    // Position changes show.
    let mut e = entry("anna", "Anna A");
    e.position = "Boss".into();
    publish(d, "alpha.test", vec![e]);
    assert_eq!(d.search("anna", 1, 0).unwrap().0[0].position, "Boss");

    assert_eq!(d.publish("alpha.test", vec![entry("cyd", "Cyd C")], vec!["bob".into()], false).unwrap(), 2);
    assert_eq!(found(d, "rob"), Vec::<String>::new());
    // Removing someone never published is no error.
    assert_eq!(d.publish("alpha.test", vec![], vec!["ghost".into()], false).unwrap(), 2);

    assert_eq!(d.publish("alpha.test", vec![entry("dan", "Dan D")], vec![], true).unwrap(), 1);
    assert_eq!(found(d, "anna"), Vec::<String>::new());
    assert_eq!(found(d, "dan"), ["Dan D"]);
    assert_eq!(d.portal("alpha.test").unwrap().unwrap().entries, 1);
    assert_eq!(d.publish("alpha.test", vec![], vec![], true).unwrap(), 0);
    assert_eq!(d.entry_count().unwrap(), 0);
}

#[test]
fn invalid_entries_refuse_the_whole_call() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    let bad_login = Entry { login: "Anna Nowak".into(), ..entry("x", "Anna") };
    let empty_name = entry("anna", "   ");
    let long_name = entry("anna", &"ą".repeat(201));
    let control = entry("anna", "Anna\u{0}Nowak");
    let bad_email = entry_with_email("anna", "Anna", "anna.example");
    let long_position = Entry { position: "p".repeat(201), ..entry("anna", "Anna") };
    for bad in [bad_login, empty_name, long_name, control, bad_email, long_position] {
        let m = assert_invalid(d.publish(
            "alpha.test",
            vec![entry("ok", "Okay Person"), bad.clone()],
            vec![],
            false,
        ));
        assert!(!m.is_empty());
        assert_eq!(d.entry_count().unwrap(), 0, "nothing written for {bad:?}");
    }
    assert_invalid(d.publish("alpha.test", vec![entry("anna", "A"), entry("anna", "B")], vec![], false));
    assert_invalid(d.publish("alpha.test", vec![entry("anna", "A")], vec!["anna".into()], false));
    assert_invalid(d.publish("alpha.test", vec![], vec!["Bad Login".into()], false));
    let too_many: Vec<Entry> = (0..=MAX_UPSERTS).map(|i| entry(&format!("u{i}"), "Some One")).collect();
    assert_invalid(d.publish("alpha.test", too_many, vec![], false));
    assert_eq!(d.entry_count().unwrap(), 0);
    // A 200-character name and trimmed fields are fine.
    let mut e = entry(" anna ", &format!("  {}  ", "ą".repeat(200)));
    e.email = " anna@mail.example ".into();
    assert_eq!(publish(d, "alpha.test", vec![e]), 1);
    let stored = d.entry("alpha.test", "anna").unwrap().unwrap();
    assert_eq!(stored.display_name, "ą".repeat(200));
    assert_eq!(stored.email, "anna@mail.example");
}

#[test]
fn unknown_portals_cannot_publish() {
    let f = fixture();
    let d = &f.directory;
    assert!(matches!(
        d.publish("ghost.test", vec![entry("a1", "A")], vec![], false),
        Err(Error::NotFound(_))
    ));
    assert_invalid(d.publish("not a portal", vec![], vec![], false));
}

#[test]
fn a_full_batch_publishes() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    let batch: Vec<Entry> =
        (0..MAX_UPSERTS).map(|i| entry(&format!("u{i}"), &format!("Person {i} Nowak"))).collect();
    assert_eq!(publish(d, "alpha.test", batch), MAX_UPSERTS as u32);
    assert_eq!(d.search("person 9999", 10, 0).unwrap().0[0].address, "u9999@alpha.test");
}

/// A replace limited to a range of logins removes what is missing in that range
/// only: a portal with more people than one call holds refreshes them range by
/// range (the first range open below, the last above).
#[test]
fn a_replace_by_range_touches_only_its_range() {
    use portalnet_directory::LoginRange;
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    let all = ["ada", "bob", "cyd", "dan", "eve", "fay"];
    publish(d, "alpha.test", all.iter().map(|l| entry(l, &format!("{l} Person"))).collect());
    let range = |from: &str, to: Option<&str>| LoginRange { from: from.into(), to: to.map(Into::into) };
    // [cyd, eve): dan left out, cyd kept, a new one in.
    let n = d.publish_range(
        "alpha.test",
        vec![entry("cyd", "cyd Person"), entry("cat", "cat Person")],
        range("cyd", Some("eve")),
    );
    assert_eq!(n.unwrap(), 6, "dan out, cat in (cat sorts before cyd, still an upsert)");
    // The first range, open below: [.., bob) without ada.
    assert_eq!(d.publish_range("alpha.test", vec![], range("", Some("bob"))).unwrap(), 5);
    // The last range, open above: [eve, ..) with eve only.
    assert_eq!(
        d.publish_range("alpha.test", vec![entry("eve", "eve Person")], range("eve", None)).unwrap(),
        4
    );
    let mut left: Vec<String> = ["bob", "cat", "cyd", "eve"]
        .iter()
        .filter(|l| d.entry("alpha.test", l).unwrap().is_some())
        .map(|l| l.to_string())
        .collect();
    left.sort();
    assert_eq!(left, ["bob", "cat", "cyd", "eve"]);
    for gone in ["ada", "dan", "fay"] {
        assert!(d.entry("alpha.test", gone).unwrap().is_none(), "{gone}");
    }
    assert_eq!(found(d, "dan"), Vec::<String>::new(), "the index follows");
}
