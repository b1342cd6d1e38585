//! Ranking over every match (issue 13): skewed names, where thousands of people
//! share a first name and a surname prefix, rank exactly as a brute-force full
//! ranking computed here from the rules; and random publishes, renames, removals
//! and network switches keep search equal to that ranking, also after reopening.

use crate::*;
use portalnet_directory::{SCAN_LIMIT, fold};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Who is published: (portal, login) → display name; and which portals are on.
#[derive(Default, Clone, Debug)]
pub struct Model {
    pub people: BTreeMap<(String, String), String>,
    pub visible: BTreeMap<String, bool>,
}

impl Model {
    /// Every match of `query`, best first, as addresses: the rules of R16 applied
    /// to everyone, with no index (full name; more whole words; folded name;
    /// address).
    pub fn rank(&self, query: &str) -> Vec<String> {
        let words = fold::words(query);
        let full = words.join(" ");
        let mut distinct: Vec<&str> = Vec::new();
        for w in &words {
            if !distinct.contains(&w.as_str()) {
                distinct.push(w);
            }
        }
        let mut hits = Vec::new();
        for ((portal, login), name) in &self.people {
            if !self.visible.get(portal).copied().unwrap_or(false) {
                continue;
            }
            let nw = fold::words(name);
            if !distinct.iter().all(|q| nw.iter().any(|w| w.starts_with(q))) {
                continue;
            }
            let folded = nw.join(" ");
            let whole = distinct.iter().filter(|q| nw.iter().any(|w| w == **q)).count();
            hits.push((folded != full, std::cmp::Reverse(whole), folded, format!("{login}@{portal}")));
        }
        hits.sort();
        hits.into_iter().map(|h| h.3).collect()
    }
}

/// One page of `d.search` as addresses.
pub fn page(d: &Directory, q: &str, limit: u32, offset: u32) -> (Vec<String>, bool) {
    let (people, more) = d.search(q, limit, offset).unwrap();
    (people.into_iter().map(|p| p.address).collect(), more)
}

/// Pages of the search equal the model's full ranking, cut the same way.
#[track_caller]
pub fn assert_ranks_like(d: &Directory, model: &Model, q: &str, pages: &[(u32, u32)]) {
    let all = model.rank(q);
    for &(limit, offset) in pages {
        let (got, more) = page(d, q, limit, offset);
        let want: Vec<String> = all.iter().skip(offset as usize).take(limit as usize).cloned().collect();
        assert_eq!(got, want, "query {q:?}, limit {limit}, offset {offset}");
        assert_eq!(more, all.len() > (offset + limit) as usize, "more, query {q:?}, offset {offset}");
    }
}

/// Half are Kowalska, so the word alone has more hits than the old bound too.
const SURNAMES: &[&str] = &["Kowalska", "Kowalski", "Kowalska", "Kowalczyk", "Kowalska", "Kowalik"];

#[test]
fn skewed_names_rank_like_a_full_ranking() {
    let f = fixture();
    let d = &f.directory;
    let mut model = Model::default();
    // Portals sort before the one holding the exact name, so in key order the
    // crowd comes first: an index that ranks only the first hits misses it.
    for p in ["aaa.test", "bbb.test", "zzz.test"] {
        portal(d, p, true);
        model.visible.insert(p.to_string(), true);
    }
    for (p, n) in [("aaa.test", 0usize), ("bbb.test", 1)] {
        let batch: Vec<Entry> = (0..3_000)
            .map(|i| {
                let k = n * 3_000 + i;
                // Everyone is Anna, every surname starts with "kowal"; a third
                // are hyphenated "Kowalska-…", sharing both whole words with the
                // query but not the full name; a few have a second given name.
                let surname = SURNAMES[k % SURNAMES.len()];
                let name = match k % 7 {
                    0 => format!("Anna {surname}-{}", ["Nowak", "Wiśniewska", "Zielińska"][k % 3]),
                    1 => format!("Anna Maria {surname}"),
                    2 => format!("Annabel {surname}"),
                    // Only one portal holds the exact name.
                    _ if surname == "Kowalska" => format!("Anna Kowalska {}", ["Kowal", "Nowak"][k % 2]),
                    _ => format!("Anna {surname}"),
                };
                entry(&format!("u{k:05}"), &name)
            })
            .collect();
        for e in &batch {
            model.people.insert((p.to_string(), e.login.clone()), e.display_name.clone());
        }
        publish(d, p, batch);
    }
    publish(d, "zzz.test", vec![entry("zz", "Anna Kowalska"), entry("zy", "ANNA kowalská")]);
    for (login, name) in [("zz", "Anna Kowalska"), ("zy", "ANNA kowalská")] {
        model.people.insert(("zzz.test".to_string(), login.to_string()), name.to_string());
    }
    assert!(model.rank("anna").len() > 2 * SCAN_LIMIT, "the crowd outnumbers the old bound");
    assert!(model.rank("kowalska").len() > SCAN_LIMIT, "and so do the Kowalskas");

    // The exact full name ranks first, in any case and diacritics.
    let (top, more) = page(d, "Anna Kowalska", 2, 0);
    assert_eq!(top, ["zy@zzz.test", "zz@zzz.test"]);
    assert!(more);
    assert_eq!(page(d, "ANNA KOWALSKÁ", 1, 0).0, ["zy@zzz.test"]);

    // Top pages equal the brute-force full ranking, deep pages included.
    let pages = [(50, 0), (20, 20), (50, 950), (1, 999)];
    for q in [
        "anna kowalska",
        "kowalska anna",
        "anna",
        "an",
        "ann",
        "anna kow",
        "kowal",
        "kowalska",
        "kowalsk",
        "an ko",
        "maria",
        "anna maria kowalczyk",
        "anna nowak",
        "annab kowalik",
        "anna kowalska wis",
        "ko an",
        "anna qqq",
    ] {
        assert_ranks_like(d, &model, q, &pages);
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// Upsert people of a portal: (login index, name).
    Publish(usize, Vec<(usize, String)>),
    /// Remove logins of a portal.
    Remove(usize, Vec<usize>),
    /// Switch a portal's network.
    Network(usize, bool),
    /// Replace all of a portal's people.
    ReplaceAll(usize, Vec<(usize, String)>),
}

const PORTALS: &[&str] = &["alpha.test", "beta.test", "gamma.test"];
/// Few words, sharing prefixes, in two scripts and with diacritics, so queries
/// have many matches with ties.
const WORDS: &[&str] = &[
    "Anna",
    "Ann",
    "Annabel",
    "ANNA",
    "Jan",
    "Janek",
    "Kowal",
    "Kowalski",
    "Ёлкин",
    "Елка",
    "Łukasz",
    "lukasz",
];
const QUERIES: &[&str] = &[
    "an",
    "ann",
    "anna",
    "jan",
    "jan kow",
    "kowal",
    "kowalski jan",
    "ел",
    "елкин",
    "łuk",
    "lu",
    "anna anna",
    "a k",
];

fn name() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(WORDS), 1..4).prop_map(|w| w.join(" "))
}

fn people() -> impl Strategy<Value = Vec<(usize, String)>> {
    proptest::collection::vec((0..12usize, name()), 0..8)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..PORTALS.len(), people()).prop_map(|(p, v)| Op::Publish(p, v)),
        2 => (0..PORTALS.len(), proptest::collection::vec(0..12usize, 1..4)).prop_map(|(p, v)| Op::Remove(p, v)),
        2 => (0..PORTALS.len(), any::<bool>()).prop_map(|(p, on)| Op::Network(p, on)),
        1 => (0..PORTALS.len(), people()).prop_map(|(p, v)| Op::ReplaceAll(p, v)),
    ]
}

fn login(i: usize) -> String {
    format!("u{i:02}")
}

/// Publishes `people` of portal `p` (the last name given to a login wins).
fn upsert(d: &Directory, model: &mut Model, p: usize, people: Vec<(usize, String)>, replace_all: bool) {
    let seen: BTreeMap<usize, String> = people.into_iter().collect();
    let batch: Vec<Entry> = seen.iter().map(|(i, n)| entry(&login(*i), n)).collect();
    d.publish(PORTALS[p], batch, Vec::new(), replace_all).unwrap();
    if replace_all {
        model.people.retain(|(portal, _), _| portal != PORTALS[p]);
    }
    for (i, n) in seen {
        model.people.insert((PORTALS[p].to_string(), login(i)), n);
    }
}

fn run(d: &Directory, model: &mut Model, op: Op) {
    match op {
        Op::Publish(p, people) => upsert(d, model, p, people, false),
        Op::ReplaceAll(p, people) => upsert(d, model, p, people, true),
        Op::Remove(p, logins) => {
            let mut logins: Vec<String> = logins.into_iter().map(login).collect();
            logins.sort();
            logins.dedup();
            d.publish(PORTALS[p], Vec::new(), logins.clone(), false).unwrap();
            for l in logins {
                model.people.remove(&(PORTALS[p].to_string(), l));
            }
        }
        Op::Network(p, on) => {
            d.set_network(PORTALS[p], on, T0).unwrap();
            model.visible.insert(PORTALS[p].to_string(), on);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// After any sequence of changes, every query's pages are the full ranking of
    /// the model, and so they are after reopening the database.
    #[test]
    fn search_equals_a_full_ranking_after_any_changes(ops in proptest::collection::vec(op(), 1..25)) {
        let f = fixture();
        let mut model = Model::default();
        for (i, p) in PORTALS.iter().enumerate() {
            portal(&f.directory, p, i != 2);
            model.visible.insert(p.to_string(), i != 2);
        }
        let pages = [(50, 0), (3, 0), (3, 3), (2, 5)];
        for op in ops {
            run(&f.directory, &mut model, op);
            for q in QUERIES {
                assert_ranks_like(&f.directory, &model, q, &pages);
            }
        }
        let Fixture { dir, db, directory } = f;
        directory.sync().unwrap();
        drop(directory);
        drop(db);
        let db = open_db(dir.path());
        let d = Directory::open(&db).unwrap();
        for q in QUERIES {
            assert_ranks_like(&d, &model, q, &pages);
        }
    }
}
