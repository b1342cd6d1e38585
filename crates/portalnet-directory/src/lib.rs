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
//! account id), accounts, and enrolments (secret SHA-256 → enrolment); the key
//! of session tokens is `dir/session_secret` in `meta`. Every
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
//!
//! On a shared database (PostgreSQL, [`Db::is_shared`]) several directory nodes
//! write, and each keeps its own index: every write that changes the index also
//! stores those changes in a change log (`dir_changes`, numbered by a counter
//! taken in the same write, so in commit order with no gaps — writes are
//! serialised across nodes). A node applies the log in order: its own changes
//! right after its write (first any earlier ones of other nodes it has not
//! applied), and the others' when [`Directory::catch_up`] polls. Changes are
//! idempotent set operations on (name, address), so applying the log from a
//! point before the state the index was built from converges to the same index.
//! The log keeps the last [`LOG_KEEP`] changes; a node further behind rebuilds
//! its index from the entries.

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
mod sessions;

pub use accounts::MAX_LINK_REQUESTS_PER_PORTAL;
pub use enrol::{ENROLMENT_TTL_MS, MIN_SECRET_CHARS, secret_sha256};
pub use error::{Error, Result};
pub use publish::LoginRange;
pub use ratelimit::RateLimiter;
pub use records::{Account, Enrolment, Entry, Person, PortalRecord};
pub use sessions::{SESSION_TTL_MS, Session};

use index::{Changes, NameIndex};
use portalnet_store::{Db, Table, WriteTx};
use records::{AccountRecord, EntryKey, EntryRecord, EntryShown};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};

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

/// Index changes the change log of a shared database keeps (older ones are
/// pruned; a node behind by more rebuilds its index).
pub const LOG_KEEP: u64 = 10_000;
/// How long a portal's key (and network setting) read from storage is used
/// without reading it again ([`Directory::portal_key`], [`Directory::network_on`]): 1 s.
pub const KEY_CACHE_MS: u64 = 1_000;
/// The log's counter (in the store's `meta` tree).
const LOG_COUNTER: &str = "dir_changes";

/// The directory over one database. Cheap to clone.
#[derive(Clone)]
pub struct Directory {
    db: Db,
    portals: Table<String, PortalRecord>,
    entries: Table<EntryKey, EntryRecord>,
    /// The name index, shared by clones.
    index: Arc<RwLock<NameIndex>>,
    /// Held while changes are applied to the index (a write's, in its turn; a
    /// catch-up's; a rebuild). Holds the change-log position the index has
    /// applied (shared database only).
    index_writer: Arc<Mutex<Applied>>,
    /// The change log, on a shared database.
    log: Option<Table<u64, Changes>>,
    /// Changes the log keeps ([`LOG_KEEP`]; smaller in tests).
    log_keep: u64,
    /// `email_key(email)` → account id.
    emails: Table<String, u64>,
    accounts: Table<u64, AccountRecord>,
    /// Secret SHA-256 (hex) → enrolment.
    enrolments: Table<String, Enrolment>,
    /// The key of session tokens (`sessions.rs`), once read or made.
    session_secret: Arc<OnceLock<[u8; 32]>>,
    /// Portal id → its key and when it was read ([`Directory::portal_key`]).
    /// At most one entry per registered portal.
    keys: Arc<Mutex<KeyCache>>,
    /// The order in which writes apply their index changes (commit order).
    turns: Arc<Turns>,
}

/// Turns 1, 2, 3 … taken by index-changing writes under the write lock, and
/// ended in the same order once each write's changes are applied.
#[derive(Default)]
struct Turns {
    taken: std::sync::atomic::AtomicU64,
    ended: Mutex<u64>,
    next_may_go: std::sync::Condvar,
}

impl Turns {
    fn take(&self) -> Turn<'_> {
        Turn { turns: self, n: self.taken.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 }
    }
}

/// A write's turn: ended when dropped, after every earlier one, however the
/// write ends (a failed commit or a panic included), so no later write waits
/// for it forever.
struct Turn<'a> {
    turns: &'a Turns,
    n: u64,
}

impl Turn<'_> {
    /// Waits until every earlier turn has ended.
    fn wait_for_earlier(&self) {
        let mut ended = self.turns.ended.lock().unwrap_or_else(|p| p.into_inner());
        while *ended + 1 < self.n {
            ended = self.turns.next_may_go.wait(ended).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.wait_for_earlier();
        *self.turns.ended.lock().unwrap_or_else(|p| p.into_inner()) = self.n;
        self.turns.next_may_go.notify_all();
    }
}

/// Portal id → (key, when it was read).
/// What [`Directory::portal_key`] and [`Directory::network_on`] keep of a portal:
/// its key and whether its network is on.
type KnownPortal = ([u8; 32], bool);

/// Portal id → what is known of it, and when it was read.
type KeyCache = HashMap<String, (KnownPortal, std::time::Instant)>;

/// Where the index stands in the change log of a shared database.
#[derive(Debug, Default)]
struct Applied {
    /// Every logged change up to this number is applied.
    seq: u64,
    /// A change could not be applied in order: rebuild at the next catch-up.
    stale: bool,
}

impl Directory {
    /// Opens the directory's tables in `db`, creating them if needed, and builds
    /// the name index from the stored entries of visible portals.
    pub fn open(db: &Db) -> Result<Directory> {
        Self::open_keeping(db, LOG_KEEP)
    }

    /// [`Directory::open`] with a change log that keeps `log_keep` changes (at
    /// least 10); tests use a short log to reach pruning and a node left behind.
    pub fn open_keeping(db: &Db, log_keep: u64) -> Result<Directory> {
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
            log: if db.is_shared() { Some(Table::open(db, "dir_changes")?) } else { None },
            log_keep: log_keep.max(10),
            session_secret: Arc::default(),
            keys: Arc::default(),
            turns: Arc::default(),
        };
        let mut writer = d.index_writer();
        d.rebuild(&mut writer)?;
        drop(writer);
        // Made now, so that opening a session never waits for a write.
        d.session_secret()?;
        Ok(d)
    }

    /// Builds the index again from the stored entries of visible portals, then
    /// applies the change log from where it stood before the entries were read.
    fn rebuild(&self, applied: &mut MutexGuard<'_, Applied>) -> Result<()> {
        let from = self.log_counter()?;
        let mut index = NameIndex::default();
        // Slot by slot, then indexed at once: nothing gathered per person but
        // the slot the index keeps, so the index is not interleaved in memory
        // with a million names freed afterwards (a restarted 1M directory
        // held ~170 MB more when the changes were gathered first).
        let mut new = Vec::new();
        for p in self.portals.iter() {
            let (id, portal) = p?;
            if !portal.network_enabled {
                continue;
            }
            for kv in self.entries.tree().scan_prefix(&EntryKey::portal_prefix(&id)) {
                let (k, v) = kv?;
                let Some(key) = <EntryKey as portalnet_store::Key>::from_bytes(&k) else { continue };
                let EntryShown { display_name, position } = portalnet_store::decode(&v)?;
                new.extend(index.add_slot(&display_name, &position, &key.address()));
            }
        }
        index.index_new(new);
        *self.index.write().unwrap_or_else(|p| p.into_inner()) = index;
        applied.seq = from;
        applied.stale = false;
        self.replay(applied)?;
        Ok(())
    }

    /// The last change-log number taken (0 without a log).
    fn log_counter(&self) -> Result<u64> {
        if self.log.is_none() {
            return Ok(0);
        }
        let meta = self.db.tree("meta")?;
        Ok(meta
            .get(format!("seq/{LOG_COUNTER}").as_bytes())?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map_or(0, u64::from_be_bytes))
    }

    /// Applies the logged changes after `applied`, in order. Rebuilds when the
    /// log no longer holds the next one (pruned). How many were applied.
    fn replay(&self, applied: &mut MutexGuard<'_, Applied>) -> Result<usize> {
        let Some(log) = &self.log else { return Ok(0) };
        let last = self.log_counter()?;
        if applied.seq >= last {
            return Ok(0);
        }
        let mut n = 0;
        for kv in log.tree().scan_from(&(applied.seq + 1).to_be_bytes()) {
            let (k, v) = kv?;
            let Some(seq) = <u64 as portalnet_store::Key>::from_bytes(&k) else { continue };
            if seq > last {
                break;
            }
            if seq != applied.seq + 1 {
                break;
            }
            let changes: Changes = portalnet_store::decode(&v)?;
            self.index.write().unwrap_or_else(|p| p.into_inner()).apply(changes);
            applied.seq = seq;
            n += 1;
        }
        if applied.seq < last {
            // Pruned before this node read it.
            self.rebuild(applied)?;
        }
        Ok(n)
    }

    /// Applies the index changes other directory nodes sharing the database
    /// made since the last call (a no-op on an embedded database). How many
    /// changes were applied. Directory nodes call it every few hundred
    /// milliseconds; a search sees another node's write after that delay.
    pub fn catch_up(&self) -> Result<usize> {
        if self.log.is_none() {
            return Ok(0);
        }
        let mut applied = self.index_writer();
        if applied.stale {
            self.rebuild(&mut applied)?;
            return Ok(0);
        }
        self.replay(&mut applied)
    }

    /// Runs a write that changes the index and applies its changes to the index,
    /// in commit order; on a shared database, logs the changes in the same write.
    ///
    /// The write takes a turn while it holds the write lock, so turns follow
    /// commits. After the commit it waits until the earlier turns are applied,
    /// applies its own and ends its turn: the next write commits while this one
    /// updates the index, instead of waiting for it. A write whose commit failed
    /// still ends its turn, applying nothing.
    fn write_indexed<T>(&self, f: impl FnOnce(&mut WriteTx<'_>) -> Result<(T, Changes)>) -> Result<T> {
        let mut turn = None;
        let written: Result<_> = self.db.write(|tx| {
            let (out, changes) = f(tx)?;
            let seq = match &self.log {
                Some(log) if !changes.is_empty() => {
                    let seq = tx.next_id(LOG_COUNTER)?;
                    log.tx_put(tx, &seq, &changes)?;
                    // Prune a tenth of the log at a time, the oldest first.
                    let step = self.log_keep / 10;
                    if seq.is_multiple_of(step) && seq > self.log_keep {
                        for old in seq.saturating_sub(self.log_keep + step)..seq - self.log_keep {
                            log.tx_remove(tx, &old);
                        }
                    }
                    Some(seq)
                }
                _ => None,
            };
            // Last: nothing after it can fail but the commit.
            turn = Some(self.turns.take());
            Ok((out, changes, seq))
        });
        let (out, changes, seq) = written?;
        if let Some(turn) = &turn {
            turn.wait_for_earlier();
        }
        let mut applied = self.index_writer();
        self.apply(&mut applied, changes, seq);
        Ok(out)
        // `turn` ends here, after the apply.
    }

    /// People in the name index (published by portals whose network is on).
    pub fn indexed_people(&self) -> usize {
        self.index.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Bytes the name index holds in memory, roughly.
    pub fn index_bytes(&self) -> usize {
        self.index.read().unwrap_or_else(|p| p.into_inner()).heap_bytes()
    }

    /// Taken to change the index; see [`Directory::apply`].
    fn index_writer(&self) -> MutexGuard<'_, Applied> {
        self.index_writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies the index changes of a committed write, in its turn. On a shared
    /// database (`seq` from the log): other nodes' earlier changes first, and
    /// nothing when a catch-up already applied this one from the log (applying
    /// it again could undo a later change).
    fn apply(&self, applied: &mut MutexGuard<'_, Applied>, changes: Changes, seq: Option<u64>) {
        if let Some(seq) = seq {
            if applied.seq >= seq && !applied.stale {
                return;
            }
            if applied.seq + 1 < seq && !applied.stale {
                // Up to, not including, this write: it is applied below.
                if self.replay_until(applied, seq - 1).is_err() {
                    // Cannot read the log now: the index is rebuilt at the next catch-up.
                    applied.stale = true;
                }
            }
            applied.seq = applied.seq.max(seq);
        }
        if !changes.is_empty() {
            self.index.write().unwrap_or_else(|p| p.into_inner()).apply(changes);
        }
    }

    /// Applies logged changes up to `until` (inclusive); stale if one is missing.
    fn replay_until(&self, applied: &mut MutexGuard<'_, Applied>, until: u64) -> Result<()> {
        let Some(log) = &self.log else { return Ok(()) };
        for kv in log.tree().scan_from(&(applied.seq + 1).to_be_bytes()) {
            let (k, v) = kv?;
            let Some(seq) = <u64 as portalnet_store::Key>::from_bytes(&k) else { continue };
            if seq > until || seq != applied.seq + 1 {
                break;
            }
            let changes: Changes = portalnet_store::decode(&v)?;
            self.index.write().unwrap_or_else(|p| p.into_inner()).apply(changes);
            applied.seq = seq;
        }
        if applied.seq < until {
            applied.stale = true;
        }
        Ok(())
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
