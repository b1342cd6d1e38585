//! The engine façade: a database of named trees and serialised, atomic writes.

use crate::engine::{Change, Engine, EngineTx};
use crate::error::StoreError;
use sled::Transactional;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// sled's own default page cache (1 GiB).
pub const DEFAULT_CACHE_BYTES: u64 = 1 << 30;

/// An open database: one folder on disk (sled), or a shared engine
/// ([`Db::with_engine`]).
#[derive(Clone)]
pub struct Db {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Sled(Arc<Inner>),
    /// Commits are durable when they return and writes are serialised by the
    /// engine across processes: no write lock or group commit here.
    Shared(Arc<dyn Engine>),
}

struct Inner {
    sled: sled::Db,
    /// The folder it lives in.
    path: std::path::PathBuf,
    /// One writer at a time: a write closure sees a stable state and its commit
    /// cannot conflict, so it never has to run twice.
    write_lock: Mutex<()>,
    /// Group commit: which flushes started and which finished (see [`Db::sync`]).
    flushes: Mutex<Flushes>,
    /// Rung when a flush ends, well or not.
    flush_ended: Condvar,
    /// Rung when the last write under way has finished (a leader may be lingering).
    quiet: Condvar,
}

/// How long a flush leader waits, at most, for writes already under way, so that
/// they share its flush instead of waiting for the next one.
const LINGER: std::time::Duration = std::time::Duration::from_millis(1);

/// The group-commit state. Flushes are numbered 0, 1, 2, … in the order they start;
/// only one runs at a time.
#[derive(Default)]
struct Flushes {
    /// The number the next flush to start gets. A [`FlushTicket`] is this value as
    /// read after a commit.
    next: u64,
    /// Every ticket below this is durable: flush `n` succeeded, so `covered >= n + 1`.
    covered: u64,
    /// A flush is running (one at a time: concurrent sled flushes deadlock 0.34).
    running: bool,
    /// sled flushes made so far (tests check that writers share them).
    made: u64,
    /// Writes under way (in [`Db::write`], also waiting for the write lock).
    writing: u64,
}

/// Proof of when a commit happened relative to flushes: the number of the first
/// flush that is guaranteed to cover it. Take it (with [`Db::ticket`]) after the
/// write, on the thread that wrote (or later); [`Db::sync_ticket`] waits for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlushTicket(u64);

/// A named keyspace with ordered byte keys. Reads go straight to the engine;
/// writes go through [`Db::write`].
#[derive(Clone)]
pub struct Tree {
    name: Arc<str>,
    inner: TreeKind,
}

#[derive(Clone)]
enum TreeKind {
    Sled(sled::Tree),
    Shared(Arc<dyn Engine>),
}

/// Rows a shared engine's scan fetches per round trip.
const SCAN_PAGE: usize = 10_000;

type Pending = BTreeMap<(Arc<str>, Vec<u8>), Option<Vec<u8>>>;

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// The view of one write: reads see the committed state plus this write's own
/// changes; nothing is visible to others until the closure returns `Ok`.
pub struct WriteTx<'db> {
    db: &'db Db,
    trees: BTreeMap<Arc<str>, sled::Tree>,
    pending: Pending,
    /// Committed values read up front ([`WriteTx::prefetch`]) on a shared engine,
    /// so that a write touching many rows does not pay a round trip per row.
    fetched: Pending,
    /// The shared engine's transaction (reads under its global write lock).
    shared: Option<RefCell<Box<dyn EngineTx>>>,
}

impl Db {
    /// Opens (creating if needed) the database in `path`.
    ///
    /// A handle just dropped in this process keeps the folder's lock until sled's
    /// background flusher lets go (up to its flush interval), so a lock held
    /// elsewhere is waited for, briefly, before it is reported.
    pub fn open(path: &Path) -> Result<Db, StoreError> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// [`Db::open`] with the engine's page cache bounded to `cache_bytes`: what
    /// the process keeps of the data in memory beyond what it reads now.
    pub fn open_with_cache(path: &Path, cache_bytes: u64) -> Result<Db, StoreError> {
        const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
        let start = std::time::Instant::now();
        let config =
            sled::Config::new().path(path).mode(sled::Mode::HighThroughput).cache_capacity(cache_bytes);
        let sled = loop {
            match config.open() {
                // sled reports the held lock as `Other` with the OS error in its text.
                Err(sled::Error::Io(e))
                    if (e.kind() == std::io::ErrorKind::WouldBlock
                        || e.to_string().contains("could not acquire lock"))
                        && start.elapsed() < LOCK_WAIT =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other?,
            }
        };
        Ok(Db {
            kind: Kind::Sled(Arc::new(Inner {
                sled,
                path: path.to_path_buf(),
                write_lock: Mutex::new(()),
                flushes: Mutex::new(Flushes::default()),
                flush_ended: Condvar::new(),
                quiet: Condvar::new(),
            })),
        })
    }

    /// The folder the database lives in; `None` on a shared engine (no folder).
    pub fn path(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Sled(inner) => Some(&inner.path),
            Kind::Shared(_) => None,
        }
    }

    /// A database on a shared engine (PostgreSQL): several processes may open
    /// it at once; each write is serialised against all of them.
    pub fn with_engine(engine: Arc<dyn Engine>) -> Db {
        Db { kind: Kind::Shared(engine) }
    }

    /// Whether other processes may write this database too (a shared engine):
    /// state derived from it in memory must then learn their writes.
    pub fn is_shared(&self) -> bool {
        matches!(self.kind, Kind::Shared(_))
    }

    /// "sled", or the shared engine's name.
    pub fn engine_name(&self) -> &'static str {
        match &self.kind {
            Kind::Sled(_) => "sled",
            Kind::Shared(e) => e.name(),
        }
    }

    pub fn tree(&self, name: &str) -> Result<Tree, StoreError> {
        let inner = match &self.kind {
            Kind::Sled(i) => TreeKind::Sled(i.sled.open_tree(name)?),
            Kind::Shared(e) => TreeKind::Shared(e.clone()),
        };
        Ok(Tree { name: Arc::from(name), inner })
    }

    /// Removes a tree and everything in it, if it exists (a table a newer version
    /// no longer keeps). Whether it existed.
    pub fn drop_tree(&self, name: &str) -> Result<bool, StoreError> {
        match &self.kind {
            Kind::Sled(i) => {
                let _guard = lock(i);
                Ok(i.sled.drop_tree(name)?)
            }
            Kind::Shared(e) => e.drop_tree(name),
        }
    }

    /// Empties a tree, as the only writer (index rebuilds; not atomic with
    /// other writes).
    pub fn clear_tree(&self, tree: &Tree) -> Result<(), StoreError> {
        match (&self.kind, &tree.inner) {
            (Kind::Sled(i), TreeKind::Sled(t)) => {
                let _guard = lock(i);
                Ok(t.clear()?)
            }
            _ => self.write(|tx| {
                for (k, _) in tx.scan_prefix(tree, &[])? {
                    tx.remove(tree, &k);
                }
                Ok(())
            }),
        }
    }

    /// Runs `f` as the only writer and commits what it wrote atomically, or nothing
    /// if it returns an error.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut WriteTx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let inner = match &self.kind {
            Kind::Sled(i) => i,
            Kind::Shared(e) => {
                let shared = Some(RefCell::new(e.begin()?));
                let mut tx = WriteTx {
                    db: self,
                    trees: BTreeMap::new(),
                    pending: BTreeMap::new(),
                    fetched: BTreeMap::new(),
                    shared,
                };
                let out = f(&mut tx)?;
                tx.commit()?;
                return Ok(out);
            }
        };
        // Dropped last, after the commit: a lingering flush leader sees it done.
        let _under_way = UnderWay::new(inner);
        let _guard = lock(inner);
        let mut tx = WriteTx {
            db: self,
            trees: BTreeMap::new(),
            pending: BTreeMap::new(),
            fetched: BTreeMap::new(),
            shared: None,
        };
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Makes every write committed before this call survive a killed process.
    /// Blocking. Same as `sync_ticket(ticket())`.
    pub fn sync(&self) -> Result<(), StoreError> {
        self.sync_ticket(self.ticket())
    }

    /// The ticket of everything committed so far (by any thread, as far as this
    /// thread has seen it: take it after the write it should cover).
    pub fn ticket(&self) -> FlushTicket {
        match &self.kind {
            Kind::Sled(i) => FlushTicket(flushes(i).next),
            Kind::Shared(_) => FlushTicket(0),
        }
    }

    /// Waits until a flush that started after the ticket was taken has finished,
    /// so every write committed before it survives a killed process. Blocking.
    ///
    /// Group commit: concurrent callers share flushes. One caller at a time leads
    /// a sled flush (many concurrent `flush_async` calls deadlock sled 0.34); the
    /// others wait for it, and return when it covers their ticket, or lead the
    /// next one when it does not (it started before their ticket) or when it failed.
    /// A leader first lets writes already under way commit (at most [`LINGER`]),
    /// before it takes its flush number, so they share its flush.
    ///
    /// Why a finished flush covers a ticket `t` (flush number `n >= t`): the ticket
    /// was read under the `flushes` mutex after the commit returned, and the leader
    /// of flush `n` takes `next` from `n` to `n + 1` under the same mutex *before*
    /// it calls sled's flush. Reading `t <= n` means the commit's critical section
    /// came first, so (mutex release → acquire) the commit's log reservation
    /// happens-before the leader's call. sled 0.34's `flush()` reads the log's
    /// `max_reserved_lsn` when it is called and makes the log stable up to it, so it
    /// includes the commit. A commit that lands between the bump and sled's call
    /// reads `n + 1` and waits for the next flush: no flag is ever trusted for a
    /// commit it may not include.
    ///
    /// The earlier shared flush (commit 1dddfa6) lost acknowledged writes under
    /// SIGKILL because it counted commits only on the single-tree path of
    /// `WriteTx::commit`: a write over several trees (a task creation: task,
    /// history, event, counters) committed through a sled transaction without
    /// bumping the counter, so its `sync` found "every counted commit already
    /// flushed" and returned without any flush. Here nothing depends on a commit
    /// path remembering to count: the ticket is read from the flush state after
    /// the write, whatever the write did, and `covered` moves only to the number a
    /// successful flush took before it started.
    ///
    /// On a shared engine every commit is durable when it returns: nothing to wait for.
    pub fn sync_ticket(&self, ticket: FlushTicket) -> Result<(), StoreError> {
        let inner = match &self.kind {
            Kind::Sled(i) => i,
            Kind::Shared(_) => return Ok(()),
        };
        let mut st = flushes(inner);
        loop {
            if st.covered > ticket.0 {
                return Ok(());
            }
            if st.running {
                st = inner.flush_ended.wait(st).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            // Lead. Writes already under way commit first (briefly: a steady stream
            // must not hold the flush back), so that this flush covers them too
            // instead of each waiting a whole flush more.
            st.running = true;
            let deadline = std::time::Instant::now() + LINGER;
            while st.writing > 0 {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                st = inner.quiet.wait_timeout(st, left).unwrap_or_else(|p| p.into_inner()).0;
            }
            // Flush `n`: its number is taken before sled's flush starts.
            let n = st.next;
            st.next += 1;
            st.made += 1;
            drop(st);
            let mut ended = EndFlush { inner, n, ok: false };
            let r = inner.sled.flush();
            ended.ok = r.is_ok();
            drop(ended);
            // A failed flush is this caller's error; waiters try a flush of their own.
            r?;
            st = flushes(inner);
        }
    }

    /// sled flushes made so far by [`Db::sync`] (group commit shares them).
    pub fn flushes_made(&self) -> u64 {
        match &self.kind {
            Kind::Sled(i) => flushes(i).made,
            Kind::Shared(_) => 0,
        }
    }

    /// Bytes the database takes on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        match &self.kind {
            Kind::Sled(i) => Ok(i.sled.size_on_disk()?),
            Kind::Shared(e) => e.size(),
        }
    }
}

fn flushes(inner: &Inner) -> MutexGuard<'_, Flushes> {
    // Plain numbers, updated in one step each: safe to take over after a panic.
    inner.flushes.lock().unwrap_or_else(|p| p.into_inner())
}

fn lock(inner: &Inner) -> MutexGuard<'_, ()> {
    // A writer that panicked left no partial commit behind (commit is atomic),
    // so the lock is safe to take over.
    inner.write_lock.lock().unwrap_or_else(|p| p.into_inner())
}

/// A write under way, counted from before it waits for the write lock until after
/// its commit.
struct UnderWay<'a>(&'a Inner);

impl<'a> UnderWay<'a> {
    fn new(inner: &'a Inner) -> Self {
        flushes(inner).writing += 1;
        UnderWay(inner)
    }
}

impl Drop for UnderWay<'_> {
    fn drop(&mut self) {
        let mut st = flushes(self.0);
        st.writing = st.writing.saturating_sub(1);
        let quiet = st.writing == 0 && st.running;
        drop(st);
        if quiet {
            self.0.quiet.notify_all();
        }
    }
}

/// Ends flush `n` (also when sled panics): marks it covered if it succeeded, frees
/// the leader's place and wakes the waiters.
struct EndFlush<'a> {
    inner: &'a Inner,
    n: u64,
    ok: bool,
}

impl Drop for EndFlush<'_> {
    fn drop(&mut self) {
        let mut st = flushes(self.inner);
        st.running = false;
        if self.ok {
            st.covered = st.covered.max(self.n + 1);
        }
        drop(st);
        self.inner.flush_ended.notify_all();
    }
}

impl Tree {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match &self.inner {
            TreeKind::Sled(t) => Ok(t.get(key)?.map(|v| v.to_vec())),
            TreeKind::Shared(e) => e.get(&self.name, key),
        }
    }

    /// The values of `keys`, in their order (one round trip on a shared engine).
    pub fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        match &self.inner {
            TreeKind::Sled(t) => keys.iter().map(|k| Ok(t.get(k)?.map(|v| v.to_vec()))).collect(),
            TreeKind::Shared(e) => e.get_many(&self.name, keys),
        }
    }

    /// Every entry whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Box<dyn Iterator<Item = Result<Entry, StoreError>> + '_> {
        match &self.inner {
            TreeKind::Sled(t) => Box::new(
                t.scan_prefix(prefix)
                    .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(StoreError::from)),
            ),
            TreeKind::Shared(e) => Box::new(Pages::new(e.as_ref(), &self.name, prefix, None)),
        }
    }

    /// Entries with `from <= key`, in key order.
    pub fn scan_from(&self, from: &[u8]) -> Box<dyn Iterator<Item = Result<Entry, StoreError>> + '_> {
        match &self.inner {
            TreeKind::Sled(t) => Box::new(
                t.range(from.to_vec()..)
                    .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(StoreError::from)),
            ),
            TreeKind::Shared(e) => Box::new(Pages::new(e.as_ref(), &self.name, &[], Some(from))),
        }
    }

    /// Entries in the tree (0 when a shared engine cannot be asked).
    pub fn len(&self) -> usize {
        match &self.inner {
            TreeKind::Sled(t) => t.len(),
            TreeKind::Shared(e) => e.len(&self.name).map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A shared engine's scan, fetched a page at a time as it is read.
struct Pages<'a> {
    engine: &'a dyn Engine,
    tree: &'a str,
    prefix: Vec<u8>,
    /// The last key returned; None before the first page.
    after: Option<Vec<u8>>,
    /// Before the first page: it starts at this key, inclusive (`scan_from`).
    from: Option<Vec<u8>>,
    page: std::vec::IntoIter<Entry>,
    done: bool,
}

impl<'a> Pages<'a> {
    fn new(engine: &'a dyn Engine, tree: &'a str, prefix: &[u8], from: Option<&[u8]>) -> Self {
        Pages {
            engine,
            tree,
            prefix: prefix.to_vec(),
            after: None,
            from: from.map(<[u8]>::to_vec),
            page: Vec::new().into_iter(),
            done: false,
        }
    }
}

impl Iterator for Pages<'_> {
    type Item = Result<Entry, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.page.next() {
                self.after = Some(e.0.clone());
                return Some(Ok(e));
            }
            if self.done {
                return None;
            }
            let start = match (&self.after, &self.from) {
                (Some(after), _) => Some((after.as_slice(), false)),
                (None, Some(from)) => Some((from.as_slice(), true)),
                (None, None) => None,
            };
            match self.engine.scan(self.tree, &self.prefix, start, SCAN_PAGE) {
                Ok(page) => {
                    self.done = page.len() < SCAN_PAGE;
                    self.page = page.into_iter();
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

impl WriteTx<'_> {
    pub fn get(&self, tree: &Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let at = (tree.name.clone(), key.to_vec());
        match self.pending.get(&at).or_else(|| self.fetched.get(&at)) {
            Some(v) => Ok(v.clone()),
            None => match &self.shared {
                Some(tx) => tx.borrow_mut().get(&tree.name, key),
                None => tree.get(key),
            },
        }
    }

    /// Whether this write runs on a shared engine (where [`WriteTx::prefetch`] pays).
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Reads the committed values of `keys` now, in one round trip, so that later
    /// [`WriteTx::get`]s of them cost nothing. Only a shared engine gains from it
    /// (the embedded one reads in process); there it is what keeps a write of ten
    /// thousand rows from making ten thousand round trips under the write lock.
    pub fn prefetch(
        &mut self,
        tree: &Tree,
        keys: impl IntoIterator<Item = Vec<u8>>,
    ) -> Result<(), StoreError> {
        let Some(tx) = &self.shared else { return Ok(()) };
        let keys: Vec<Vec<u8>> = keys.into_iter().filter(|k| self.unread(tree, k)).collect();
        if keys.is_empty() {
            return Ok(());
        }
        let values = tx.borrow_mut().get_many(&tree.name, &keys)?;
        for (k, v) in keys.into_iter().zip(values) {
            self.fetched.insert((tree.name.clone(), k), v);
        }
        Ok(())
    }

    /// Reads `keys`, which all start with `prefix`, by reading every committed
    /// row under `prefix` once: on either engine, cheaper than a read per key
    /// when the prefix holds few rows besides those keys (a portal's first
    /// publish of its people reads an empty range instead of a row per person).
    /// Later [`WriteTx::get`]s of `keys` cost nothing.
    pub fn prefetch_prefix(
        &mut self,
        tree: &Tree,
        prefix: &[u8],
        keys: impl IntoIterator<Item = Vec<u8>>,
    ) -> Result<(), StoreError> {
        let keys: Vec<Vec<u8>> =
            keys.into_iter().filter(|k| k.starts_with(prefix) && self.unread(tree, k)).collect();
        if keys.is_empty() {
            return Ok(());
        }
        let mut stored: BTreeMap<Vec<u8>, Vec<u8>> = match &self.shared {
            Some(tx) => tx.borrow_mut().scan_prefix(&tree.name, prefix)?.into_iter().collect(),
            None => tree.scan_prefix(prefix).collect::<Result<_, _>>()?,
        };
        for k in keys {
            let v = stored.remove(&k);
            self.fetched.insert((tree.name.clone(), k), v);
        }
        Ok(())
    }

    /// Whether neither this write nor a prefetch has a value for `key` yet.
    fn unread(&self, tree: &Tree, key: &[u8]) -> bool {
        let at = (tree.name.clone(), key.to_vec());
        !self.pending.contains_key(&at) && !self.fetched.contains_key(&at)
    }

    pub fn insert(&mut self, tree: &Tree, key: &[u8], value: Vec<u8>) {
        self.touch(tree);
        self.pending.insert((tree.name.clone(), key.to_vec()), Some(value));
    }

    pub fn remove(&mut self, tree: &Tree, key: &[u8]) {
        self.touch(tree);
        self.pending.insert((tree.name.clone(), key.to_vec()), None);
    }

    /// Entries under `prefix` as this write sees them, in key order.
    pub fn scan_prefix(&self, tree: &Tree, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        if let Some(tx) = &self.shared {
            merged.extend(tx.borrow_mut().scan_prefix(&tree.name, prefix)?);
        } else {
            for kv in tree.scan_prefix(prefix) {
                let (k, v) = kv?;
                merged.insert(k, v);
            }
        }
        let start = (tree.name.clone(), prefix.to_vec());
        for ((name, k), v) in self.pending.range(start..) {
            if *name != tree.name || !k.starts_with(prefix) {
                break;
            }
            match v {
                Some(v) => merged.insert(k.clone(), v.clone()),
                None => merged.remove(k),
            };
        }
        Ok(merged.into_iter().collect())
    }

    /// The next value of a named counter (1, 2, 3, …), kept in the `meta` tree.
    pub fn next_id(&mut self, counter: &str) -> Result<u64, StoreError> {
        let meta = self.db.tree("meta")?;
        let key = format!("seq/{counter}");
        let cur = match self.get(&meta, key.as_bytes())? {
            Some(b) => u64::from_be_bytes(b.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                what: format!("counter {counter}"),
                reason: format!("{} bytes instead of 8", b.len()),
            })?),
            None => 0,
        };
        let next = cur + 1;
        self.insert(&meta, key.as_bytes(), next.to_be_bytes().to_vec());
        Ok(next)
    }

    fn touch(&mut self, tree: &Tree) {
        if let TreeKind::Sled(t) = &tree.inner {
            self.trees.entry(tree.name.clone()).or_insert_with(|| t.clone());
        }
    }

    fn commit(self) -> Result<(), StoreError> {
        if let Some(tx) = self.shared {
            let changes = self
                .pending
                .into_iter()
                .map(|((tree, key), value)| Change { tree: tree.to_string(), key, value })
                .collect();
            return tx.into_inner().commit(changes);
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let names: Vec<Arc<str>> = self.trees.keys().cloned().collect();
        let trees: Vec<sled::Tree> = self.trees.into_values().collect();
        let mut batches: Vec<sled::Batch> = names.iter().map(|_| sled::Batch::default()).collect();
        for ((name, key), value) in self.pending {
            // `names` is sorted like the pending keys' tree names.
            let Ok(i) = names.binary_search(&name) else { continue };
            match value {
                Some(v) => batches[i].insert(key, v),
                None => batches[i].remove(key),
            }
        }
        if trees.len() == 1 {
            trees[0].apply_batch(batches.remove(0))?;
            return Ok(());
        }
        // Several trees: one sled transaction. We hold the write lock, so it cannot
        // conflict with another writer of ours.
        trees
            .as_slice()
            .transaction(|txs| {
                for (t, b) in txs.iter().zip(&batches) {
                    t.apply_batch(b)?;
                }
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Storage(e) => StoreError::Engine(e),
                sled::transaction::TransactionError::Abort(()) => {
                    StoreError::Corrupt { what: "transaction".into(), reason: "aborted".into() }
                }
            })?;
        Ok(())
    }
}
