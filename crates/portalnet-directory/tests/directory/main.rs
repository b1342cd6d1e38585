//! The directory against a real database: sled in a temporary folder, or (the
//! same modules compiled again as the `directory_pg` test, `../directory_pg.rs`)
//! a fresh database in a throw-away PostgreSQL cluster.

pub mod accounts;
pub mod consent;
pub mod consistency;
pub mod enrolment;
pub mod migration;
pub mod no_panic;
pub mod portals;
pub mod publish;
pub mod ranking;
pub mod search;
pub mod sessions;

// `pub`: the modules import them through `crate::*`, also when this file is a
// module of `directory_pg`.
pub use portalnet_core::time::Timestamp;
pub use portalnet_directory::{Directory, Entry, Error, Person, PortalRecord};
pub use portalnet_store::Db;
pub use tempfile::TempDir;

pub const T0: Timestamp = Timestamp(1_700_000_000_000);

pub struct Fixture {
    pub dir: TempDir,
    pub db: Db,
    pub directory: Directory,
}

/// Whether this build of the suite runs on PostgreSQL (the `directory_pg` test).
pub fn on_postgres() -> bool {
    env!("CARGO_CRATE_NAME") == "directory_pg"
}

/// The database of a fixture: sled in `dir`, or on PostgreSQL the database
/// whose URL the fixture wrote into `dir` (a new one the first time). Opening
/// it again reopens the same data.
pub fn open_db(dir: &std::path::Path) -> Db {
    if !on_postgres() {
        return Db::open(dir).expect("open db");
    }
    let file = dir.join("postgres-url");
    let url = match std::fs::read_to_string(&file) {
        Ok(url) => url,
        Err(_) => {
            let cluster = portalnet_postgres::testing::TempCluster::shared()
                .unwrap_or_else(|e| panic!("the directory suite on PostgreSQL needs PostgreSQL: {e}"));
            let url = cluster.fresh_database().expect("create a database");
            std::fs::write(&file, &url).expect("remember the database URL");
            url
        }
    };
    portalnet_postgres::PgEngine::connect(&url).expect("connect to PostgreSQL").db()
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = open_db(dir.path());
    let directory = Directory::open(&db).expect("open directory");
    Fixture { dir, db, directory }
}

pub fn key(n: u8) -> [u8; 32] {
    [n; 32]
}

/// Enrols `id` with a fresh secret (valid for the default 7 days from `T0`) and
/// returns the secret.
pub fn enrol(d: &Directory, id: &str) -> String {
    let secret = format!("test-enrolment-secret-for-{id}-{}", d.enrolments().unwrap().len());
    d.enrol(id, &secret, T0, portalnet_directory::ENROLMENT_TTL_MS).unwrap();
    secret
}

/// Enrols and registers a new portal `id` with `key`.
pub fn register_new(d: &Directory, id: &str, endpoint: &str, key: [u8; 32]) -> PortalRecord {
    let secret = enrol(d, id);
    d.register(id, endpoint, key, Some(&secret), T0).unwrap()
}

/// Registers `id` and sets its network.
pub fn portal(d: &Directory, id: &str, enabled: bool) {
    register_new(d, id, &format!("https://{id}:7443"), key(1));
    d.set_network(id, enabled, T0).unwrap();
}

pub fn entry(login: &str, name: &str) -> Entry {
    Entry {
        login: login.into(),
        display_name: name.into(),
        position: format!("position of {login}"),
        email: format!("{login}@mail.example"),
    }
}

pub fn entry_with_email(login: &str, name: &str, email: &str) -> Entry {
    Entry { email: email.into(), ..entry(login, name) }
}

pub fn publish(d: &Directory, portal: &str, entries: Vec<Entry>) -> u32 {
    d.publish(portal, entries, Vec::new(), false).unwrap()
}

/// Display names of a whole result list.
pub fn names(people: &[Person]) -> Vec<&str> {
    people.iter().map(|p| p.display_name.as_str()).collect()
}

/// Display names found for `q` (first page of 50).
pub fn found(d: &Directory, q: &str) -> Vec<String> {
    d.search(q, 50, 0).unwrap().0.into_iter().map(|p| p.display_name).collect()
}

#[track_caller]
pub fn assert_invalid<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(Error::InvalidArgument(m)) => m,
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}
