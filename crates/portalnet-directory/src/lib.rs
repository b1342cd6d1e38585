//! The Network directory (R11, R13–R16): its storage and logic, no network.
//!
//! Portals register (id, endpoint, public key) and switch network communication on
//! or off; they publish their people; anyone with a registered portal searches
//! people by name, or looks one up by exact e-mail; a Network account is a person's
//! global identity and owns one e-mail address unique across the directory; an
//! address of another portal joins it only when the account's owner approves. A
//! new portal id registers only with a one-time enrolment secret from the
//! directory's operator. The node verifies signatures and wires gRPC around this
//! crate.
//!
//! Storage is a [`portalnet_store::Db`] with five tables, all prefixed `dir_`:
//! portals, entries (`portal ‖ 0 ‖ login`), the e-mail index (case-folded e-mail →
//! account id), accounts, and enrolments (secret SHA-256 → enrolment). Every
//! change is one atomic [`portalnet_store::Db::write`]. Writes reach sled's log in
//! memory: the caller calls [`Directory::sync`] (or `Db::sync`) before
//! acknowledging a change that must survive a crash.
//!
//! The name index is in memory (`index.rs`): built from the stored entries when
//! the directory opens, and changed by every write that changes who is
//! searchable, right after it commits and before the call returns, in commit
//! order. Only people of portals whose network is on are in it: switching a
//! portal off takes its people out (its entries stay stored), switching it on puts
//! them back. Open one `Directory` per database and clone it: two opened on one
//! database would not see each other's index changes.
//!
//! Methods take `&self`; a `Directory` is shared between threads as it is (writes
//! are serialised by the `Db`).

mod accounts;
mod enrol;
mod error;
pub mod fold;
mod index;
mod portals;
mod publish;
mod ratelimit;
mod records;
mod search;

pub use enrol::{ENROLMENT_TTL_MS, MIN_SECRET_CHARS, secret_sha256};
pub use error::{Error, Result};
pub use ratelimit::RateLimiter;
pub use records::{Account, Enrolment, Entry, Person, PortalRecord};

use index::{Changes, NameIndex};
use portalnet_store::{Db, Table};
use records::{AccountRecord, EntryKey, EntryName, EntryRecord};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// Most entries one [`Directory::publish`] may upsert, and most logins it may remove.
pub const MAX_UPSERTS: usize = 10_000;
pub const MAX_REMOVES: usize = 10_000;
/// Search page size when the request asks for 0, and the largest allowed.
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 50;
/// `offset + limit` may not exceed this: no deep paging.
pub const MAX_WINDOW: u32 = 1_000;
/// How many index keys a search ranked at most before the index was kept in
/// memory (tests build crowds larger than this to show that every match is
/// ranked now).
pub const SCAN_LIMIT: usize = 2_000;
/// Distinct words of one display name that are indexed (the rest still count when
/// checking the other words of a query, but cannot drive a search).
pub const MAX_INDEXED_WORDS: usize = 16;
/// Longest query, in characters, and most words in it.
pub const MAX_QUERY_CHARS: usize = 200;
pub const MAX_QUERY_WORDS: usize = 8;
/// Addresses one Network account may be linked to.
pub const MAX_ADDRESSES_PER_ACCOUNT: usize = 1_000;
/// Link requests one Network account keeps; more are not recorded (the entries
/// stay unlinked), so strangers cannot grow an account without bound.
pub const MAX_LINK_REQUESTS: usize = 100;
/// Longest position, in characters, and longest endpoint, in bytes.
pub const MAX_POSITION_CHARS: usize = 200;
pub const MAX_ENDPOINT: usize = 512;

/// The directory over one database. Cheap to clone.
#[derive(Clone)]
pub struct Directory {
    db: Db,
    portals: Table<String, PortalRecord>,
    entries: Table<EntryKey, EntryRecord>,
    /// The name index, shared by clones.
    index: Arc<RwLock<NameIndex>>,
    /// Held from before a write that changes the index until its changes are
    /// applied, so they are applied in commit order.
    index_writer: Arc<Mutex<()>>,
    /// `email_key(email)` → account id.
    emails: Table<String, u64>,
    accounts: Table<u64, AccountRecord>,
    /// Secret SHA-256 (hex) → enrolment.
    enrolments: Table<String, Enrolment>,
}

impl Directory {
    /// Opens the directory's tables in `db`, creating them if needed, and builds
    /// the name index from the stored entries of visible portals.
    pub fn open(db: &Db) -> Result<Directory> {
        // The name index of earlier versions, kept in storage; now rebuilt in memory.
        db.drop_tree("dir_names")?;
        let d = Directory {
            db: db.clone(),
            portals: Table::open(db, "dir_portals")?,
            entries: Table::open(db, "dir_entries")?,
            emails: Table::open(db, "dir_emails")?,
            accounts: Table::open(db, "dir_accounts")?,
            enrolments: Table::open(db, "dir_enrolments")?,
            index: Arc::default(),
            index_writer: Arc::default(),
        };
        let mut changes = Changes::default();
        for p in d.portals.iter() {
            let (id, portal) = p?;
            if !portal.network_enabled {
                continue;
            }
            for kv in d.entries.tree().scan_prefix(&EntryKey::portal_prefix(&id)) {
                let (k, v) = kv?;
                let Some(key) = <EntryKey as portalnet_store::Key>::from_bytes(&k) else { continue };
                let EntryName { display_name } = portalnet_store::decode(&v)?;
                changes.add(&display_name, key.address());
            }
        }
        d.index.write().unwrap_or_else(|p| p.into_inner()).apply(changes);
        Ok(d)
    }

    /// People in the name index (published by portals whose network is on).
    pub fn indexed_people(&self) -> usize {
        self.index.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Bytes the name index holds in memory, roughly.
    pub fn index_bytes(&self) -> usize {
        self.index.read().unwrap_or_else(|p| p.into_inner()).heap_bytes()
    }

    /// Taken before a write that changes the index; see [`Directory::apply`].
    fn index_writer(&self) -> MutexGuard<'_, ()> {
        self.index_writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies the index changes of a committed write, under the guard taken
    /// before it.
    fn apply(&self, _guard: &MutexGuard<'_, ()>, changes: Changes) {
        if !changes.is_empty() {
            self.index.write().unwrap_or_else(|p| p.into_inner()).apply(changes);
        }
    }

    /// Makes every change committed so far survive a killed process.
    pub fn sync(&self) -> Result<()> {
        Ok(self.db.sync()?)
    }

    /// Entries stored, over all portals (visible or not): the sum of the portals'
    /// counts, so one read per portal, not one per entry.
    pub fn entry_count(&self) -> Result<u64> {
        let mut n = 0u64;
        for p in self.portals.iter() {
            n += u64::from(p?.1.entries);
        }
        Ok(n)
    }
}
