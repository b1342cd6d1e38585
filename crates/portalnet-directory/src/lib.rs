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
//! Storage is a [`portalnet_store::Db`] with six tables, all prefixed `dir_`:
//! portals, entries (`portal ‖ 0 ‖ login`), the name index
//! (`folded word ‖ 0 ‖ portal ‖ 0 ‖ login` → folded name), the e-mail index
//! (case-folded e-mail → account id), accounts, and enrolments (secret SHA-256 →
//! enrolment). Every change is one atomic
//! [`portalnet_store::Db::write`]. Writes reach sled's log in memory: the caller
//! calls [`Directory::sync`] (or `Db::sync`) before acknowledging a change that
//! must survive a crash.
//!
//! Only portals whose network is on are in the name index: switching a portal off
//! removes its people's index keys (its entries stay stored), switching it on
//! writes them again. So hidden portals cost a search nothing and cannot crowd
//! visible people out of the bounded scan.
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

use portalnet_store::{Db, Table, Tree};
use records::{AccountRecord, EntryKey, EntryRecord};

/// Most entries one [`Directory::publish`] may upsert, and most logins it may remove.
pub const MAX_UPSERTS: usize = 10_000;
pub const MAX_REMOVES: usize = 10_000;
/// Search page size when the request asks for 0, and the largest allowed.
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 50;
/// `offset + limit` may not exceed this: no deep paging.
pub const MAX_WINDOW: u32 = 1_000;
/// Name-index keys a search examines at most. For prefixes more common than this,
/// results are ranked among the first `SCAN_LIMIT` index hits in key order, where
/// whole-word matches of the driving word come first.
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
    /// The name index; keys are built by hand (see `records::name_key`).
    names: Tree,
    /// `email_key(email)` → account id.
    emails: Table<String, u64>,
    accounts: Table<u64, AccountRecord>,
    /// Secret SHA-256 (hex) → enrolment.
    enrolments: Table<String, Enrolment>,
}

impl Directory {
    /// Opens the directory's tables in `db`, creating them if needed.
    pub fn open(db: &Db) -> Result<Directory> {
        Ok(Directory {
            db: db.clone(),
            portals: Table::open(db, "dir_portals")?,
            entries: Table::open(db, "dir_entries")?,
            names: db.tree("dir_names")?,
            emails: Table::open(db, "dir_emails")?,
            accounts: Table::open(db, "dir_accounts")?,
            enrolments: Table::open(db, "dir_enrolments")?,
        })
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
