//! The Network directory at scale, through gRPC over TLS with signed requests:
//! loading N synthetic people (default 1,000,000; Latin, Polish and Cyrillic names)
//! from 100 portals, then search latency and rate — next to a raw echo RPC on the
//! same server in the same run; the same searches in process (server-side, no
//! RPC); then the directory is stopped and started again from its folder in a
//! fresh process (this bench, re-run with PORTALNET_BENCH_RESTART), which prints
//! how long a directory holding N people takes to start and serve, its searches
//! and its RSS.
//!
//! Then, in the same run, the same on PostgreSQL (`--database`, a throw-away
//! cluster from `portalnet_postgres::testing`) when its binaries are there, with
//! PORTALNET_BENCH_PG_PEOPLE people (default: the same N).
//!
//! `cargo bench -p portalnet-node --bench directory_search`
//! (PORTALNET_BENCH_PEOPLE sets N; PORTALNET_BENCH_SEARCHES the searches per run;
//! PORTALNET_BENCH_KEEP=<folder> keeps the loaded sled directory in that folder.)

use portalnet_core::Clock;
use portalnet_federation::Signer;
use portalnet_node::clock::SystemClock;
use portalnet_proto::v1 as pb;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

const FIRST: &[&str] = &[
    "Anna",
    "Jan",
    "Łukasz",
    "Zofia",
    "Piotr",
    "Małgorzata",
    "Krzysztof",
    "Agnieszka",
    "Tomasz",
    "Katarzyna",
    "Антон",
    "Ольга",
    "Иван",
    "Мария",
    "Сергей",
    "Ёлка",
    "Дмитрий",
    "Наталья",
    "John",
    "Emily",
    "Émile",
    "Jürgen",
    "Paweł",
    "Grzegorz",
    "Michał",
    "Joanna",
    "Алексей",
    "Татьяна",
    "Michael",
    "Sarah",
];
const LAST: &[&str] = &[
    "Nowak",
    "Kowalski",
    "Wiśniewska",
    "Ślązak",
    "Wójcik",
    "Kamińska",
    "Lewandowski",
    "Zieliński",
    "Szymańska",
    "Dąbrowski",
    "Иванов",
    "Смирнова",
    "Ёлкин",
    "Петров",
    "Кузнецова",
    "Попов",
    "Соколов",
    "Лебедева",
    "Smith",
    "Müller",
    "Johnson",
    "Brown",
    "Garcia",
    "Kozłowski",
    "Jankowski",
    "Mazur",
    "Krawczyk",
    "Волков",
    "Новиков",
    "Фёдоров",
];
const QUERIES: &[&str] = &[
    "an",
    "kow",
    "jan kow",
    "łuk",
    "slazak",
    "wiś",
    "анто",
    "ёлк",
    "елкин",
    "ольга смир",
    "emile",
    "muller",
    "nowak ann",
    "sm",
    "kraw",
];

#[path = "common/mod.rs"]
mod common;
use common::measure;

fn memory() -> String {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get =
        |k: &str| s.lines().find_map(|l| l.strip_prefix(k)).map(|v| v.trim().to_string()).unwrap_or_default();
    format!("RSS {} (peak {})", get("VmRSS:"), get("VmHWM:"))
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    match std::env::var_os("PORTALNET_BENCH_RESTART") {
        Some(dir) => rt.block_on(restart(std::path::PathBuf::from(dir))),
        None => {
            let people: usize = std::env::var("PORTALNET_BENCH_PEOPLE")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1_000_000);
            rt.block_on(run(people, None))?;
            let pg_people: usize = std::env::var("PORTALNET_BENCH_PG_PEOPLE")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(people);
            match portalnet_postgres::testing::TempCluster::start() {
                Ok(cluster) => {
                    let url = cluster.fresh_database().map_err(anyhow::Error::msg)?;
                    rt.block_on(run(pg_people, Some(url)))?;
                    drop(cluster);
                }
                Err(e) => println!("\nengine postgres: not measured ({e})"),
            }
            Ok(())
        }
    }
}

/// Server-side latency of `searches` searches one after another, in process.
fn server_side(directory: &portalnet_directory::Directory, searches: usize) -> (Duration, Duration, usize) {
    let mut lat = Vec::with_capacity(searches);
    let mut found = 0;
    for i in 0..searches {
        let t = Instant::now();
        let (people, _) = directory.search(QUERIES[i % QUERIES.len()], 20, 0).expect("search");
        lat.push(t.elapsed());
        found += people.len();
    }
    lat.sort();
    let pick = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    (pick(0.50), pick(0.99), found)
}

/// The child process: starts the directory from `dir` (already holding the
/// people), searches in process and reports.
async fn restart(dir: std::path::PathBuf) -> anyhow::Result<()> {
    let searches: usize =
        std::env::var("PORTALNET_BENCH_SEARCHES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let started = Instant::now();
    let d =
        portalnet_node::directory::server::start(&dir, Arc::new(SystemClock), None, CancellationToken::new())
            .await?;
    let start_secs = started.elapsed().as_secs_f64();
    let t = Instant::now();
    d.directory.search("anna", 20, 0).map_err(|e| anyhow::anyhow!("{e}"))?;
    let first = t.elapsed();
    println!(
        "restart: a directory holding {} people started and serving in {start_secs:.2} s \
         (first search {first:.1?}); name index ~{} MiB; {}",
        d.directory.indexed_people(),
        d.directory.index_bytes() >> 20,
        memory()
    );
    let (p50, p99, found) = server_side(&d.directory, searches);
    println!(
        "restart: server-side search, 1 in flight: p50 {p50:.1?}, p99 {p99:.1?} ({:.1} results per query); {}",
        found as f64 / searches as f64,
        memory()
    );
    d.stop().await?;
    Ok(())
}

/// Trees of the raw-storage baseline, apart from the directory's own.
const RAW_TREES: [&str; 3] = ["bench_raw_entries", "bench_raw_emails", "bench_raw_accounts"];

/// The shapes of the directory's entry, e-mail key and account records, so that
/// the floor writes values of the same sizes through the same codec.
#[derive(serde::Serialize, serde::Deserialize)]
struct RawEntry {
    display_name: String,
    position: String,
    email: String,
    account: u64,
}
#[derive(serde::Serialize, serde::Deserialize)]
struct RawId(u64);
#[derive(serde::Serialize, serde::Deserialize)]
struct RawAccount {
    email: String,
    addresses: Vec<String>,
    owner: String,
    requests: Vec<String>,
}
impl portalnet_store::Record for RawEntry {
    const NAME: &'static str = "bench entry";
    const VERSION: u16 = 2;
}
impl portalnet_store::Record for RawId {
    const NAME: &'static str = "bench account id";
    const VERSION: u16 = 1;
}
impl portalnet_store::Record for RawAccount {
    const NAME: &'static str = "bench account";
    const VERSION: u16 = 2;
}

/// Writes, for `people` people of `portals` portals, the rows a load writes (an
/// entry, an e-mail key, an account: the same JSON shapes, through the store's codec) in writes of up to
/// 10,000 people, each made durable, one after the other (the directory has
/// one writer at a time too). Returns the seconds taken.
fn raw_store_load(db: &portalnet_store::Db, people: usize, portals: usize) -> anyhow::Result<f64> {
    let [entries, emails, accounts] = RAW_TREES.map(|t| db.tree(t));
    let (entries, emails, accounts) = (entries?, emails?, accounts?);
    let per_portal = people.div_ceil(portals);
    let started = Instant::now();
    let mut id = 0u64;
    let mut written = 0;
    for p in 0..portals {
        let mut i = 0;
        while i < per_portal && written < people {
            let n = (per_portal - i).min(10_000).min(people - written);
            db.write(|tx| {
                for k in i..i + n {
                    id += 1;
                    let email = format!("u{k}@p{p}.bench.test");
                    let address = format!("u{k}@p{p:03}.bench.test");
                    let entry = RawEntry {
                        display_name: format!("{} {}", FIRST[k % FIRST.len()], LAST[k % LAST.len()]),
                        position: "Engineer".into(),
                        email: email.clone(),
                        account: id,
                    };
                    let account = RawAccount {
                        email: email.clone(),
                        addresses: vec![address.clone()],
                        owner: address,
                        requests: vec![],
                    };
                    let key = format!("p{p:03}.bench.test\0u{k}");
                    tx.insert(&entries, key.as_bytes(), portalnet_store::encode(&entry)?);
                    tx.insert(&emails, email.as_bytes(), portalnet_store::encode(&RawId(id))?);
                    tx.insert(&accounts, &id.to_be_bytes(), portalnet_store::encode(&account)?);
                }
                Ok::<_, portalnet_store::StoreError>(())
            })?;
            db.sync()?;
            i += n;
            written += n;
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

async fn run(people: usize, database: Option<String>) -> anyhow::Result<()> {
    let searches: usize =
        std::env::var("PORTALNET_BENCH_SEARCHES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let tmp = tempfile::tempdir()?;
    // PORTALNET_BENCH_KEEP=<folder> keeps the loaded directory there, to measure
    // its restart again (`PORTALNET_BENCH_RESTART=<folder>/directory`).
    let tmp_path = match std::env::var_os("PORTALNET_BENCH_KEEP") {
        Some(keep) => std::path::PathBuf::from(keep),
        None => tmp.path().to_owned(),
    };
    let dir = tmp_path.join("directory");
    let mut cfg =
        portalnet_node::directory::server::init_if_needed(&dir, "directory.test", "127.0.0.1:0".parse()?)?;
    // The bench measures the index, not the scraping guard.
    cfg.search_rate_per_sec = 1e9;
    cfg.search_burst = u32::MAX;
    // PORTALNET_BENCH_CACHE_MB=<MiB> overrides the storage cache setting.
    if let Some(mb) = std::env::var("PORTALNET_BENCH_CACHE_MB").ok().and_then(|v| v.parse().ok()) {
        cfg.storage_cache_mb = mb;
    }
    let engine = if database.is_some() { "postgres" } else { "sled" };
    cfg.database = database;
    std::fs::write(dir.join(portalnet_node::directory::server::CONFIG_FILE), toml::to_string(&cfg)?)?;
    let clock = Arc::new(SystemClock);
    let d =
        portalnet_node::directory::server::start(&dir, clock.clone(), None, CancellationToken::new()).await?;
    let pem = std::fs::read_to_string(&d.cert)?;
    let ch: Channel = Endpoint::from_shared(d.endpoint.clone())?
        .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))?
        .connect()
        .await?;
    let client = pb::directory_client::DirectoryClient::new(ch.clone()).max_encoding_message_size(64 << 20);

    println!(
        "\nportalnet bench: Network directory search, engine {engine} ({people} people, TLS, signed requests)"
    );
    let portals = 100usize;
    let per_portal = people.div_ceil(portals);
    let mut signers = Vec::new();
    for p in 0..portals {
        let s = Signer::generate(format!("p{p:03}.bench.test"));
        let now = clock.now();
        let reg = pb::RegisterPortal {
            portal_id: s.portal_id().into(),
            endpoint: "https://127.0.0.1:1".into(),
            public_key: s.verifying_key().to_bytes().to_vec(),
            rotation_signature: vec![],
            tls_certificate: String::new(),
            enrolment_secret: portalnet_node::directory::enrolment::enrol_in_process(
                &d.directory,
                s.portal_id(),
                now,
            )?,
        };
        client
            .clone()
            .register(s.sign("/portalnet.v1.Directory/Register", "directory.test", now, &reg))
            .await?;
        let on = pb::SetNetworkRequest { enabled: true };
        client
            .clone()
            .set_network(s.sign("/portalnet.v1.Directory/SetNetwork", "directory.test", now, &on))
            .await?;
        signers.push(s);
    }
    // Portals publish independently: PORTALNET_BENCH_LOAD_IN_FLIGHT calls at a time
    // (default 4), each a signed batch of at most 10,000 people of one portal.
    let load_in_flight: usize =
        std::env::var("PORTALNET_BENCH_LOAD_IN_FLIGHT").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let mut batches = Vec::new();
    let mut loaded = 0usize;
    for p in 0..signers.len() {
        let mut i = 0;
        while i < per_portal && loaded < people {
            let n = (per_portal - i).min(10_000).min(people - loaded);
            batches.push((p, i, n));
            i += n;
            loaded += n;
        }
    }
    let signers = Arc::new(signers);
    let started = Instant::now();
    let mut calls = tokio::task::JoinSet::new();
    for (p, i, n) in batches {
        if calls.len() >= load_in_flight.max(1) {
            calls.join_next().await.expect("a call under way")??;
        }
        let (mut client, signers, clock) = (client.clone(), signers.clone(), clock.clone());
        calls.spawn(async move {
            let upsert = (i..i + n)
                .map(|k| {
                    let g = p * per_portal + k;
                    pb::DirectoryEntry {
                        login: format!("u{k}"),
                        display_name: format!(
                            "{} {}",
                            FIRST[g % FIRST.len()],
                            LAST[(g / FIRST.len()) % LAST.len()]
                        ),
                        position: "Engineer".into(),
                        email: format!("u{k}@p{p}.bench.test"),
                    }
                })
                .collect();
            let req = pb::PublishRequest { upsert, ..Default::default() };
            let signed =
                signers[p].sign("/portalnet.v1.Directory/Publish", "directory.test", clock.now(), &req);
            client.publish(signed).await?;
            anyhow::Ok(())
        });
    }
    while let Some(r) = calls.join_next().await {
        r??;
    }
    let load_secs = started.elapsed().as_secs_f64();
    println!(
        "load: {loaded} people in {load_secs:.1} s = {:.0} people/s ({load_in_flight} signed publishes in flight); {}",
        loaded as f64 / load_secs,
        memory()
    );

    println!("{:<32} {:>12} {:>10} {:>10}", "measurement", "req/s", "p50", "p99");
    let signer = Arc::new(
        Arc::try_unwrap(signers).map_err(|_| anyhow::anyhow!("signers still shared"))?.swap_remove(0),
    );
    // A directory session: searches carry its token instead of a signature.
    let open = pb::OpenSessionRequest {};
    let token = client
        .clone()
        .open_session(signer.sign(
            "/portalnet.v1.Directory/OpenSession",
            "directory.test",
            clock.now(),
            &open,
        ))
        .await?
        .into_inner()
        .token;
    let token = Arc::new(token);
    let mut rows = Vec::new();
    for in_flight in [1usize, 16] {
        let c = pb::echo_client::EchoClient::new(ch.clone());
        let echo = measure(searches, in_flight, move |_| {
            let mut c = c.clone();
            async move {
                c.echo(pb::EchoMessage { payload: vec![0; 64] }).await.expect("echo");
            }
        })
        .await;
        let (c, s) = (client.clone(), signer.clone());
        let signed = measure(searches, in_flight, move |i| {
            let mut c = c.clone();
            let req = pb::SearchRequest { query: QUERIES[i % QUERIES.len()].into(), limit: 20, offset: 0 };
            let signed = s.sign("/portalnet.v1.Directory/Search", "directory.test", SystemClock.now(), &req);
            async move {
                c.search(signed).await.expect("search");
            }
        })
        .await;
        let (c, s, t) = (client.clone(), signer.clone(), token.clone());
        let session = measure(searches, in_flight, move |i| {
            let mut c = c.clone();
            let req = pb::SearchRequest { query: QUERIES[i % QUERIES.len()].into(), limit: 20, offset: 0 };
            let req = s.with_session("/portalnet.v1.Directory/Search", "directory.test", &t, &req);
            async move {
                c.search(req).await.expect("search with a session");
            }
        })
        .await;
        for (name, st) in [
            (format!("echo, {in_flight} in flight"), &echo),
            (format!("search signed, {in_flight} in flight"), &signed),
            (format!("search session, {in_flight} in flight"), &session),
        ] {
            println!("{name:<32} {:>12.0} {:>10.1?} {:>10.1?}", st.rate, st.p50, st.p99);
        }
        rows.push((in_flight, echo, signed, session));
    }
    for (in_flight, echo, signed, session) in &rows {
        for (how, search) in [("signed", signed), ("session", session)] {
            println!(
                "ratio at {in_flight:>2} in flight, {how:<7}: search/echo rate = {:.2}, p50 = {:.1}x echo, p99 = {:.1}x echo",
                search.rate / echo.rate,
                search.p50.as_secs_f64() / echo.p50.as_secs_f64(),
                search.p99.as_secs_f64() / echo.p99.as_secs_f64()
            );
        }
    }
    let (p50, p99, _) = server_side(&d.directory, searches);
    println!("server-side search (in process, no RPC), 1 in flight: p50 {p50:.1?}, p99 {p99:.1?}");
    println!("memory after the run (directory and client share the process): {}", memory());
    d.stop().await?;
    drop(client);
    drop(ch);
    // A fresh process, so its start time and RSS are the directory's alone.
    let out = std::process::Command::new(std::env::current_exe()?)
        .env("PORTALNET_BENCH_RESTART", &dir)
        .env("PORTALNET_BENCH_SEARCHES", searches.to_string())
        .stderr(std::process::Stdio::inherit())
        .output()?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    anyhow::ensure!(out.status.success(), "the restarted directory failed: {}", out.status);
    // The floor under the load: the storage engine alone writing the rows a
    // load writes (three per person), in the same batches, without the
    // directory's reads, checks, accounts logic, index or RPCs. Last, so that
    // its gigabyte of writes does not overlap the searches.
    let cache = cfg.storage_cache_mb.saturating_mul(1 << 20);
    let raw_url = cfg.database.clone();
    let raw = tokio::task::spawn_blocking(move || -> anyhow::Result<f64> {
        match raw_url {
            Some(url) => {
                let db = portalnet_postgres::PgEngine::connect(&url)?.db();
                let secs = raw_store_load(&db, people, portals)?;
                for t in RAW_TREES {
                    db.drop_tree(t)?;
                }
                Ok(secs)
            }
            None => {
                let raw_dir = tempfile::tempdir()?;
                let db = portalnet_store::Db::open_with_cache(raw_dir.path(), cache)?;
                raw_store_load(&db, people, portals)
            }
        }
    })
    .await??;
    println!(
        "raw storage, same rows (3 per person) in the same batches, no directory logic: {raw:.1} s = {:.0} people/s; \
         the directory's load takes {:.2}x that",
        people as f64 / raw,
        load_secs / raw
    );
    Ok(())
}
