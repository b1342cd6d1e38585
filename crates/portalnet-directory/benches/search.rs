//! Directory load and search benchmark:
//! `cargo bench -p portalnet-directory --bench search`.
//!
//! Builds PORTALNET_BENCH_PEOPLE (default 1,000,000) synthetic people — names
//! combined from Latin, Polish and Cyrillic first and last names — in portals of
//! 10,000, published in batches of 10,000 into a temporary folder; prints the load
//! rate, size on disk and peak RSS; then runs PORTALNET_BENCH_SEARCHES (default
//! 2,000) mixed searches and prints their latency and rate.

use portalnet_core::time::Timestamp;
use portalnet_directory::{Directory, Entry};
use portalnet_store::Db;
use std::path::Path;
use std::time::{Duration, Instant};

const PER_PORTAL: usize = 10_000;
const BATCH: usize = 10_000;

const LATIN_FIRST: &[&str] = &[
    "John",
    "Mary",
    "Peter",
    "Anna",
    "Thomas",
    "Julia",
    "Michael",
    "Sarah",
    "David",
    "Laura",
    "Émile",
    "Hélène",
    "François",
    "Chloé",
    "José",
    "María",
    "Jürgen",
    "Björn",
    "Søren",
    "Zoë",
    "Ángel",
    "Inês",
    "Łucja",
    "Marco",
    "Giulia",
];
const LATIN_LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Wilson",
    "Müller",
    "Schmidt",
    "Schröder",
    "Dubois",
    "Lefèvre",
    "Martínez",
    "García",
    "Núñez",
    "Rossi",
    "Bianchi",
    "Ferreira",
    "Gonçalves",
    "Andersen",
    "Østergaard",
    "Dvořák",
    "Nováková",
    "Horváth",
    "Kovačević",
    "Đorđević",
    "O'Connor",
    "Van der Berg",
    "Straße",
];
const POLISH_FIRST: &[&str] = &[
    "Jan",
    "Łukasz",
    "Małgorzata",
    "Agnieszka",
    "Krzysztof",
    "Wojciech",
    "Zofia",
    "Paweł",
    "Katarzyna",
    "Michał",
    "Józef",
    "Grzegorz",
    "Żaneta",
    "Bożena",
    "Jędrzej",
    "Ewa",
    "Piotr",
    "Dorota",
    "Stanisław",
    "Jadwiga",
    "Mikołaj",
    "Urszula",
    "Tomasz",
    "Joanna",
];
const POLISH_LAST: &[&str] = &[
    "Kowalski",
    "Nowak",
    "Wiśniewski",
    "Wójcik",
    "Kowalczyk",
    "Kamiński",
    "Lewandowski",
    "Zieliński",
    "Szymański",
    "Woźniak",
    "Dąbrowski",
    "Kozłowski",
    "Jankowski",
    "Mazur",
    "Krawczyk",
    "Piotrowski",
    "Grabowski",
    "Pawłowski",
    "Michalski",
    "Król",
    "Wieczorek",
    "Jabłoński",
    "Nowakowski",
    "Majewski",
    "Ślązak",
    "Żółkiewski",
    "Jeziorańska",
    "Głowacki",
    "Sęk",
    "Bąk",
];
const CYRILLIC_FIRST: &[&str] = &[
    "Александр",
    "Антон",
    "Мария",
    "Ольга",
    "Сергей",
    "Наталья",
    "Дмитрий",
    "Ёлка",
    "Елена",
    "Иван",
    "Татьяна",
    "Андрей",
    "Юлия",
    "Михаил",
    "Светлана",
    "Алексей",
    "Ирина",
    "Николай",
    "Олександр",
    "Богдан",
    "Ганна",
    "Їжак",
    "Фёдор",
    "Пётр",
];
const CYRILLIC_LAST: &[&str] = &[
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Ёлкин",
    "Шевченко",
    "Коваленко",
    "Бондаренко",
    "Ткаченко",
    "Лысенко",
    "Щербаков",
    "Жуков",
];
const POSITIONS: &[&str] = &["Engineer", "Manager", "Accountant", "Designer", "Sales", "Support", "Director"];

/// SplitMix64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len())]
    }
}

fn lists(rng: &mut Rng) -> (&'static [&'static str], &'static [&'static str]) {
    match rng.below(3) {
        0 => (LATIN_FIRST, LATIN_LAST),
        1 => (POLISH_FIRST, POLISH_LAST),
        _ => (CYRILLIC_FIRST, CYRILLIC_LAST),
    }
}

fn person_name(rng: &mut Rng) -> String {
    let (first, last) = lists(rng);
    let mut name = format!("{} {}", rng.pick(first), rng.pick(last));
    match rng.below(10) {
        // A double (hyphenated) surname.
        0 => {
            name.push('-');
            name.push_str(rng.pick(last));
        }
        // A second given name.
        1 => {
            let second = rng.pick(first);
            name = format!("{} {name}", second);
        }
        _ => {}
    }
    name
}

/// The first `n` characters of `word`, perhaps with diacritics dropped by hand (as
/// a person without a Polish keyboard types) or in capitals.
fn typed_prefix(rng: &mut Rng, word: &str, n: usize) -> String {
    let prefix: String = word.chars().take(n).collect();
    match rng.below(4) {
        0 => portalnet_directory::fold::fold(&prefix),
        1 => prefix.to_uppercase(),
        _ => prefix.to_lowercase(),
    }
}

fn query(rng: &mut Rng, i: usize) -> String {
    match i % 5 {
        // One word, a prefix of 2–5 letters, any script.
        0 | 1 => {
            let (first, last) = lists(rng);
            let word = if rng.below(2) == 0 { rng.pick(first) } else { rng.pick(last) };
            let n = 2 + rng.below(4);
            typed_prefix(rng, word, n)
        }
        // Two words: first-name prefix and last-name prefix ("jan kow").
        2 => {
            let (first, last) = lists(rng);
            let (f, l) = (rng.pick(first), rng.pick(last));
            let (nf, nl) = (2 + rng.below(4), 3 + rng.below(5));
            if rng.below(4) == 0 {
                format!("{} {}", typed_prefix(rng, l, nl), typed_prefix(rng, f, nf))
            } else {
                format!("{} {}", typed_prefix(rng, f, nf), typed_prefix(rng, l, nl))
            }
        }
        // Cyrillic, whole or prefix, one or two words.
        3 => {
            let f = rng.pick(CYRILLIC_FIRST);
            let l = rng.pick(CYRILLIC_LAST);
            match rng.below(3) {
                0 => {
                    let n = 3 + rng.below(6);
                    typed_prefix(rng, l, n)
                }
                1 => format!("{} {}", f, typed_prefix(rng, l, 3)),
                _ => format!("{f} {l}"),
            }
        }
        // Diacritics typed or not: Polish and Latin names with marks.
        _ => {
            let word = if rng.below(2) == 0 { rng.pick(POLISH_LAST) } else { rng.pick(LATIN_LAST) };
            let n = 3 + rng.below(5);
            let prefix: String = word.chars().take(n).collect();
            if rng.below(2) == 0 { portalnet_directory::fold::fold(&prefix) } else { prefix }
        }
    }
}

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("VmHWM:")).map(|v| v.trim().to_string()))
        .unwrap_or_else(|| "unknown".to_string())
}

fn folder_size(path: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(path) else { return 0 };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => folder_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.trim().replace('_', "").parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn load(dir: &Directory, people: usize, portals: usize) {
    let now = Timestamp(1_700_000_000_000);
    let mut rng = Rng(42);
    println!("directory bench: {people} people in {portals} portals, batches of {BATCH}");
    let start = Instant::now();
    let mut loaded = 0usize;
    for p in 0..portals {
        let portal = format!("p{p:03}.bench.test");
        let secret = format!("bench-enrolment-secret-{portal}");
        dir.enrol(&portal, &secret, now, portalnet_directory::ENROLMENT_TTL_MS).expect("enrol");
        dir.register(&portal, &format!("https://{portal}:7443"), [p as u8; 32], Some(&secret), now)
            .expect("register");
        dir.set_network(&portal, true, now).expect("network on");
        let in_portal = PER_PORTAL.min(people - loaded);
        let mut done = 0;
        while done < in_portal {
            let n = BATCH.min(in_portal - done);
            let batch: Vec<Entry> = (done..done + n)
                .map(|i| Entry {
                    login: format!("u{i:05}"),
                    display_name: person_name(&mut rng),
                    position: rng.pick(POSITIONS).to_string(),
                    email: format!("u{i:05}@{portal}"),
                })
                .collect();
            dir.publish(&portal, batch, Vec::new(), false).expect("publish");
            done += n;
        }
        loaded += in_portal;
        if (p + 1) % 10 == 0 || p + 1 == portals {
            let secs = start.elapsed().as_secs_f64();
            println!("  {loaded:>9} loaded, {:>8.0} entries/s", loaded as f64 / secs);
        }
    }
    let t_sync = Instant::now();
    dir.sync().expect("sync");
    let load = start.elapsed();
    println!(
        "load: {loaded} entries in {:.1} s = {:.0} entries/s (final sync {:.1} s)",
        load.as_secs_f64(),
        loaded as f64 / load.as_secs_f64(),
        t_sync.elapsed().as_secs_f64()
    );
}

/// Runs `queries` one after another and prints their latency and rate.
fn run_searches(dir: &Directory, label: &str, queries: &[String]) {
    let mut latencies = Vec::with_capacity(queries.len());
    let (mut results, mut empty, mut with_more) = (0usize, 0usize, 0usize);
    let start = Instant::now();
    for q in queries {
        let t = Instant::now();
        match dir.search(q, 20, 0) {
            Ok((people, more)) => {
                results += people.len();
                empty += usize::from(people.is_empty());
                with_more += usize::from(more);
            }
            Err(e) => println!("  search {q:?} refused: {e}"),
        }
        latencies.push(t.elapsed());
    }
    let total = start.elapsed();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "search, {label}: {} queries in {:.2} s = {:.0} searches/s; p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        queries.len(),
        total.as_secs_f64(),
        queries.len() as f64 / total.as_secs_f64().max(1e-9),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.90)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
    );
    println!(
        "  {:.1} results per query (page of 20), {empty} queries found nobody, {with_more} had a next page",
        results as f64 / queries.len().max(1) as f64
    );
    for q in ["jan kow", "łukasz", "lukasz", "антон", "ёлкин", "елкин", "jeziora", "müll", "ko"]
    {
        let t = Instant::now();
        let found = dir.search(q, 20, 0).map(|(p, more)| (p.len(), more));
        println!("  {q:>8}: {found:?} in {:.2} ms", ms(t.elapsed()));
    }
}

fn main() {
    let people = env_usize("PORTALNET_BENCH_PEOPLE", 1_000_000);
    let searches = env_usize("PORTALNET_BENCH_SEARCHES", 2_000);
    // PORTALNET_BENCH_DIR: keep the database there, and reuse it when it already
    // holds the people (to profile searches without loading again).
    let keep = std::env::var_os("PORTALNET_BENCH_DIR").map(std::path::PathBuf::from);
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let portals = people.div_ceil(PER_PORTAL).max(1);
    let mut rng = Rng(7);
    let queries: Vec<String> = (0..searches).map(|i| query(&mut rng, i)).collect();
    {
        let db = Db::open(&path).expect("open db");
        let dir = Directory::open(&db).expect("open directory");
        if dir.entry_count().expect("count") == people as u64 {
            println!("directory bench: reusing {people} people in {}", path.display());
        } else {
            load(&dir, people, portals);
            println!(
                "on disk: {:.0} MiB (folder), sled reports {:.0} MiB",
                folder_size(&path) as f64 / 1048576.0,
                db.size_on_disk().unwrap_or(0) as f64 / 1048576.0
            );
            println!("peak RSS after load (VmHWM): {}", peak_rss());
            run_searches(&dir, "right after loading, same process", &queries);
        }
    }
    // A node restarts far more often than it loads a million people: searches on a
    // freshly opened database are the steady state.
    let t = Instant::now();
    let db = Db::open(&path).expect("reopen db");
    let dir = Directory::open(&db).expect("reopen directory");
    println!("reopened the database in {:.1} s", t.elapsed().as_secs_f64());
    let loaded = dir.entry_count().expect("count") as usize;
    run_searches(&dir, "after reopening", &queries);

    // Exact e-mail lookups.
    let lookups = searches.min(loaded);
    let start = Instant::now();
    let mut hits = 0;
    for _ in 0..lookups {
        let portal = format!("p{:03}.bench.test", rng.below(portals));
        let email = format!("U{:05}@{portal}", rng.below(PER_PORTAL.min(loaded)));
        hits += usize::from(dir.lookup_email(&email).ok().flatten().is_some());
    }
    let total = start.elapsed();
    println!(
        "lookup_email: {lookups} in {:.2} s = {:.0}/s ({hits} found)",
        total.as_secs_f64(),
        lookups as f64 / total.as_secs_f64().max(1e-9)
    );
    println!("peak RSS at the end (VmHWM): {}", peak_rss());
}
