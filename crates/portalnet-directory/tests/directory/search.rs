//! Name search (R16): Unicode folding, ranking, paging, visibility, limits.

use crate::*;
use portalnet_directory::{MAX_WINDOW, SCAN_LIMIT};

#[test]
fn unicode_pairs_match_both_ways() {
    let pairs = [
        ("Łukasz", "lukasz"),
        ("Ślązak", "slazak"),
        ("Антон", "антон"),
        ("Ёлкин", "елкин"),
        ("ÉMILE", "emile"),
        ("Müller", "muller"),
    ];
    for (stored, typed) in pairs {
        for (name, query) in [(stored, typed), (typed, stored)] {
            let f = fixture();
            let d = &f.directory;
            portal(d, "alpha.test", true);
            publish(d, "alpha.test", vec![entry("p1", name), entry("p2", "Somebody Else")]);
            assert_eq!(found(d, query), [name], "{query} should find {name}");
        }
    }
}

#[test]
fn names_in_latin_polish_and_cyrillic() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    portal(d, "beta.test", true);
    publish(
        d,
        "alpha.test",
        vec![
            entry("jan", "Jan Kowalski"),
            entry("lukasz", "Łukasz Żółkiewski"),
            entry("agnieszka", "Agnieszka Nowak-Jeziorańska"),
            entry("emile", "Émile Zola"),
            entry("anna", "Anna Müller"),
        ],
    );
    publish(
        d,
        "beta.test",
        vec![entry("anton", "Антон Ёлкин"), entry("olga", "Ольга Петрова"), entry("sergey", "Сергей Жуков")],
    );
    let table: &[(&str, &[&str])] = &[
        ("jan kow", &["Jan Kowalski"]),
        ("kowalski jan", &["Jan Kowalski"]),
        ("JAN", &["Jan Kowalski"]),
        ("  jan  ", &["Jan Kowalski"]),
        ("lukasz zolk", &["Łukasz Żółkiewski"]),
        ("ŻÓŁK", &["Łukasz Żółkiewski"]),
        ("żół", &["Émile Zola", "Łukasz Żółkiewski"]),
        ("jeziora", &["Agnieszka Nowak-Jeziorańska"]),
        ("nowak-jez", &["Agnieszka Nowak-Jeziorańska"]),
        ("emile", &["Émile Zola"]),
        ("zola émile", &["Émile Zola"]),
        ("mull", &["Anna Müller"]),
        ("muel", &[]),
        ("ант", &["Антон Ёлкин"]),
        ("елк", &["Антон Ёлкин"]),
        ("ЁЛКИН АНТОН", &["Антон Ёлкин"]),
        ("петр", &["Ольга Петрова"]),
        ("жук", &["Сергей Жуков"]),
        ("jan kox", &[]),
        ("kowalskij", &[]),
        ("owalski", &[]),
        ("zz", &[]),
    ];
    for (query, want) in table {
        assert_eq!(found(d, query), *want, "query {query:?}");
    }
    let (people, more) = d.search("антон", 0, 0).unwrap();
    assert!(!more);
    assert_eq!(
        people,
        [Person {
            display_name: "Антон Ёлкин".into(),
            position: "position of anton".into(),
            portal_id: "beta.test".into(),
            address: "anton@beta.test".into(),
        }]
    );
}

#[test]
fn ranking_full_name_then_whole_words_then_name_then_address() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    portal(d, "beta.test", true);
    publish(
        d,
        "alpha.test",
        vec![
            entry("a1", "Janina Kowalskich"), // prefixes only
            entry("a2", "Jan Kowalskiewicz"), // one whole word (jan)
            entry("a3", "Jan Kowalski"),      // full name
            entry("a4", "Kowalski Jan"),      // both whole words, not the full name
            entry("a5", "Jan Kowalski Nowak"),
        ],
    );
    publish(d, "beta.test", vec![entry("a0", "Jan Kowalski"), entry("b1", "Janek Kowalski")]);
    let (people, _) = d.search("Jan Kowalski", 50, 0).unwrap();
    let got: Vec<(&str, &str)> =
        people.iter().map(|p| (p.display_name.as_str(), p.address.as_str())).collect();
    assert_eq!(
        got,
        [
            // (1) full-name matches, by address
            ("Jan Kowalski", "a0@beta.test"),
            ("Jan Kowalski", "a3@alpha.test"),
            // (2) two whole words, by folded name
            ("Jan Kowalski Nowak", "a5@alpha.test"),
            ("Kowalski Jan", "a4@alpha.test"),
            // (2) one whole word
            ("Jan Kowalskiewicz", "a2@alpha.test"),
            ("Janek Kowalski", "b1@beta.test"),
            // (3) the rest
            ("Janina Kowalskich", "a1@alpha.test"),
        ]
    );
}

#[test]
fn pages_neither_repeat_nor_skip() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    portal(d, "beta.test", true);
    let mut all = Vec::new();
    for (p, portal_id) in ["alpha.test", "beta.test"].iter().enumerate() {
        let batch: Vec<Entry> = (0..65)
            .map(|i| {
                // Half the people share a name, so ties are broken by address.
                let name =
                    if i % 2 == 0 { "Anna Same".to_string() } else { format!("Anna N{}", (i * 7) % 13) };
                entry(&format!("u{p}{i:03}"), &name)
            })
            .collect();
        all.extend(batch.iter().map(|e| format!("{}@{portal_id}", e.login)));
        publish(d, portal_id, batch);
    }
    all.sort();
    for limit in [1u32, 7, 20, 50] {
        let mut seen = Vec::new();
        let mut offset = 0;
        loop {
            let (people, more) = d.search("ann", limit, offset).unwrap();
            assert!(people.len() <= limit as usize);
            seen.extend(people.iter().map(|p| p.address.clone()));
            offset += limit;
            if !more {
                break;
            }
            assert_eq!(people.len(), limit as usize, "a full page before `more`");
        }
        assert_eq!(seen.len(), 130, "limit {limit}");
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, all, "limit {limit}: every person exactly once");
    }
    // Same query, same page: same answer.
    assert_eq!(d.search("ann", 20, 40).unwrap(), d.search("ann", 20, 40).unwrap());
    // Past the end: empty, no more.
    assert_eq!(d.search("ann", 20, 200).unwrap(), (vec![], false));
}

#[test]
fn hidden_portals_are_not_found_and_come_back() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    portal(d, "hidden.test", false);
    publish(d, "alpha.test", vec![entry("ann", "Anna Visible")]);
    // Published while off: stored, not searchable.
    publish(d, "hidden.test", vec![entry_with_email("ann", "Anna Hidden", "hidden@mail.example")]);
    assert_eq!(found(d, "anna"), ["Anna Visible"]);
    assert_eq!(d.lookup_email("hidden@mail.example").unwrap(), None);
    assert!(d.entry("hidden.test", "ann").unwrap().is_some());

    d.set_network("hidden.test", true, T0).unwrap();
    assert_eq!(found(d, "anna"), ["Anna Hidden", "Anna Visible"]);
    assert_eq!(d.lookup_email("HIDDEN@mail.example").unwrap().unwrap().address, "ann@hidden.test");

    // Changes while off are seen after switching on again.
    d.set_network("hidden.test", false, T0).unwrap();
    assert_eq!(found(d, "anna"), ["Anna Visible"]);
    assert_eq!(d.lookup_email("hidden@mail.example").unwrap(), None);
    publish(d, "hidden.test", vec![entry_with_email("ann", "Anna Renamed", "hidden@mail.example")]);
    assert_eq!(found(d, "renamed"), Vec::<String>::new());
    d.set_network("hidden.test", true, T0).unwrap();
    assert_eq!(found(d, "anna"), ["Anna Renamed", "Anna Visible"]);
    assert_eq!(found(d, "hidden"), Vec::<String>::new());
}

#[test]
fn many_hidden_people_do_not_crowd_out_visible_ones() {
    let f = fixture();
    let d = &f.directory;
    // Sorts before the visible portal in the index, and outnumbers the scan bound.
    portal(d, "aaa.test", true);
    portal(d, "zzz.test", true);
    let crowd: Vec<Entry> = (0..SCAN_LIMIT + 500).map(|i| entry(&format!("u{i}"), "Anna Crowd")).collect();
    publish(d, "aaa.test", crowd);
    publish(d, "zzz.test", vec![entry("anna", "Anna Crowd"), entry("ann", "Anna Other")]);
    d.set_network("aaa.test", false, T0).unwrap();
    let (people, more) = d.search("anna", 50, 0).unwrap();
    assert_eq!(names(&people), ["Anna Crowd", "Anna Other"]);
    assert!(!more);
}

#[test]
fn common_prefixes_are_bounded_and_whole_words_come_first() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    portal(d, "beta.test", true);
    // More people whose word starts with "an" than the scan examines...
    let crowd: Vec<Entry> = (0..SCAN_LIMIT).map(|i| entry(&format!("u{i}"), "Annabel Crowd")).collect();
    publish(d, "alpha.test", crowd);
    // ...and one whose word is exactly "an", in a portal sorting after.
    publish(d, "beta.test", vec![entry("an", "An Exact")]);
    let (people, more) = d.search("an", 50, 0).unwrap();
    assert_eq!(people.first().map(|p| p.display_name.as_str()), Some("An Exact"));
    assert!(more);
    // A rare second word drives the scan, so the crowd does not hide a match.
    publish(d, "beta.test", vec![entry("rare", "Annabel Rareword")]);
    assert_eq!(found(d, "ann rarew"), ["Annabel Rareword"]);
    // A word nobody has: nothing, at once.
    assert_eq!(found(d, "annabel qqq"), Vec::<String>::new());
}

#[test]
fn refusals_and_limits() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    let batch: Vec<Entry> = (0..60).map(|i| entry(&format!("u{i}"), &format!("Anna P{i}"))).collect();
    publish(d, "alpha.test", batch);

    for short in ["", " ", "a", "  a  ", "ł"] {
        assert_invalid(d.search(short, 10, 0));
    }
    assert_invalid(d.search("!?", 10, 0));
    assert_invalid(d.search(&"a".repeat(201), 10, 0));
    assert_invalid(d.search("a b c d e f g h i", 10, 0));
    assert_invalid(d.search("anna", 51, 0));
    assert_invalid(d.search("anna", 20, MAX_WINDOW - 19));
    assert_invalid(d.search("anna", 1, u32::MAX));
    assert!(d.search("anna", 20, MAX_WINDOW - 20).is_ok());

    let (people, more) = d.search("anna", 0, 0).unwrap();
    assert_eq!(people.len(), 20, "0 means 20");
    assert!(more);
    let (people, more) = d.search("anna", 50, 10).unwrap();
    assert_eq!(people.len(), 50);
    assert!(!more);
    // Two-character queries are allowed.
    assert_eq!(d.search("an", 50, 0).unwrap().0.len(), 50);
    assert_eq!(d.search("a p1", 50, 0).unwrap().0.len(), 11);
}

#[test]
fn results_never_carry_the_email() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    publish(d, "alpha.test", vec![entry_with_email("jan", "Jan Kowalski", "secret@mail.example")]);
    let (people, _) = d.search("jan", 10, 0).unwrap();
    let json = serde_json::to_string(&people).unwrap();
    assert!(!json.contains("secret"), "{json}");
    let json = serde_json::to_string(&d.lookup_email("secret@mail.example").unwrap()).unwrap();
    assert!(!json.contains("secret"), "{json}");
}

#[test]
fn a_person_with_two_matching_words_is_listed_once() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    publish(
        d,
        "alpha.test",
        vec![entry("a1", "Anna Annabel Anna"), entry("a2", "Annette Ann-Marie"), entry("a3", "Bob Annis")],
    );
    let (people, more) = d.search("ann", 50, 0).unwrap();
    // "Ann-Marie" has the whole word "ann": first.
    assert_eq!(names(&people), ["Annette Ann-Marie", "Anna Annabel Anna", "Bob Annis"]);
    assert!(!more);
    assert_eq!(found(d, "anna annabel"), ["Anna Annabel Anna"]);
}

#[test]
fn a_rare_short_word_drives_when_the_long_one_is_common() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    portal(d, "beta.test", true);
    let crowd: Vec<Entry> = (0..SCAN_LIMIT).map(|i| entry(&format!("u{i}"), "Annabel Crowd")).collect();
    publish(d, "alpha.test", crowd);
    // Its "annabel" key sorts after the whole crowd's, beyond the scan bound.
    publish(d, "beta.test", vec![entry("xu", "Annabel Xu")]);
    assert_eq!(found(d, "annabel xu"), ["Annabel Xu"]);
    assert_eq!(found(d, "xu annabel"), ["Annabel Xu"]);
}

#[test]
fn odd_input_never_panics() {
    let f = fixture();
    let d = &f.directory;
    portal(d, "alpha.test", true);
    publish(d, "alpha.test", vec![entry("a1", "ﷺ Ǆemal 山田太郎 ǅ"), entry("a2", "\u{301}Zoë\u{301}")]);
    for q in ["\u{301}\u{301}", "🙂🙂", "\0\0", "--", "\u{200b}\u{200b}", "\u{fffd}\u{fffd}"] {
        assert_invalid(d.search(q, 10, 0));
    }
    for q in ["ﷺ", "صلى", "dz", "山田", "zoe", "ǅe", "a\u{0}b", &"ą ".repeat(8), "%_*"] {
        let _ = d.search(q, 10, 0);
    }
    assert_eq!(found(d, "山田"), ["ﷺ Ǆemal 山田太郎 ǅ"]);
    assert_eq!(found(d, "dzem"), ["ﷺ Ǆemal 山田太郎 ǅ"]);
    assert_eq!(found(d, "zoe"), ["\u{301}Zoë\u{301}"]);
}

/// A page of results is answered from the index: what it shows follows every
/// change of the entry, the position alone included, and a restart (or, on
/// PostgreSQL, another node) shows the same.
#[test]
fn results_show_the_current_name_and_position() {
    let Fixture { dir, db, directory: d } = fixture();
    portal(&d, "alpha.test", true);
    publish(&d, "alpha.test", vec![entry("jan", "Jan Kowalski"), entry("ola", "Ola Kowalska")]);
    let shown = |d: &Directory| -> Vec<(String, String)> {
        let (people, _) = d.search("kowal", 20, 0).unwrap();
        people.into_iter().map(|p| (p.display_name, p.position)).collect()
    };
    let pair = |n: &str, p: &str| (n.to_string(), p.to_string());
    assert_eq!(shown(&d), [pair("Jan Kowalski", "position of jan"), pair("Ola Kowalska", "position of ola")]);
    // The position alone changes.
    let welder = Entry { position: "Welder".into(), ..entry("jan", "Jan Kowalski") };
    publish(&d, "alpha.test", vec![welder]);
    assert_eq!(shown(&d), [pair("Jan Kowalski", "Welder"), pair("Ola Kowalska", "position of ola")]);
    // The display name changes in case only: same folded name, new display.
    publish(&d, "alpha.test", vec![entry("ola", "OLA KOWALSKA")]);
    assert_eq!(shown(&d), [pair("Jan Kowalski", "Welder"), pair("OLA KOWALSKA", "position of ola")]);
    // Off and on again: rebuilt from storage, the same.
    d.set_network("alpha.test", false, T0).unwrap();
    d.set_network("alpha.test", true, T0).unwrap();
    let want = [pair("Jan Kowalski", "Welder"), pair("OLA KOWALSKA", "position of ola")];
    assert_eq!(shown(&d), want);
    drop(d);
    drop(db);
    let again = Directory::open(&open_db(dir.path())).unwrap();
    assert_eq!(shown(&again), want);
}
