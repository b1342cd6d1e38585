//! The engine façade: a database of named trees and serialised, atomic writes.

use crate::error::StoreError;
use sled::Transactional;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// sled's own default page cache (1 GiB).
pub const DEFAULT_CACHE_BYTES: u64 = 1 << 30;

/// An open database: one folder on disk.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    sled: sled::Db,
    /// One writer at a time: a write closure sees a stable state and its commit
    /// cannot conflict, so it never has to run twice.
    write_lock: Mutex<()>,
    /// Held while flushing.
    flush_lock: Mutex<()>,
}

/// A named keyspace with ordered byte keys. Reads go straight to the engine;
/// writes go through [`Db::write`].
#[derive(Clone)]
pub struct Tree {
    name: Arc<str>,
    inner: sled::Tree,
}

type Pending = BTreeMap<(Arc<str>, Vec<u8>), Option<Vec<u8>>>;

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// The view of one write: reads see the committed state plus this write's own
/// changes; nothing is visible to others until the closure returns `Ok`.
pub struct WriteTx<'db> {
    db: &'db Db,
    trees: BTreeMap<Arc<str>, sled::Tree>,
    pending: Pending,
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
        Ok(Db { inner: Arc::new(Inner { sled, write_lock: Mutex::new(()), flush_lock: Mutex::new(()) }) })
    }

    pub fn tree(&self, name: &str) -> Result<Tree, StoreError> {
        Ok(Tree { name: Arc::from(name), inner: self.inner.sled.open_tree(name)? })
    }

    /// Removes a tree and everything in it, if it exists (a table a newer version
    /// no longer keeps). Whether it existed.
    pub fn drop_tree(&self, name: &str) -> Result<bool, StoreError> {
        let _guard = self.lock();
        Ok(self.inner.sled.drop_tree(name)?)
    }

    /// Runs `f` as the only writer and commits what it wrote atomically, or nothing
    /// if it returns an error.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut WriteTx<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let _guard = self.lock();
        let mut tx = WriteTx { db: self, trees: BTreeMap::new(), pending: BTreeMap::new() };
        let out = f(&mut tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Makes every write committed before this call survive a killed process.
    /// Blocking. Flushes are serialised: many concurrent `flush_async` calls
    /// deadlock sled 0.34 (seen in our benchmark at 64 in flight). Each caller
    /// flushes for itself — sled returns at once when its log is already stable —
    /// because skipping the flush when another caller's flush started after our
    /// commit lost acknowledged writes under SIGKILL in `tests/processes.rs`.
    pub fn sync(&self) -> Result<(), StoreError> {
        let _one_at_a_time = self.inner.flush_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.inner.sled.flush()?;
        Ok(())
    }

    /// Bytes the database takes on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.inner.sled.size_on_disk()?)
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        // A writer that panicked left no partial commit behind (commit is atomic),
        // so the lock is safe to take over.
        self.inner.write_lock.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Tree {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.inner.get(key)?.map(|v| v.to_vec()))
    }

    /// Every entry whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> impl Iterator<Item = Result<Entry, StoreError>> + '_ {
        self.inner
            .scan_prefix(prefix)
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(StoreError::from))
    }

    /// Entries with `from <= key`, in key order.
    pub fn scan_from(&self, from: &[u8]) -> impl Iterator<Item = Result<Entry, StoreError>> + '_ {
        self.inner
            .range(from.to_vec()..)
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(StoreError::from))
    }

    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl WriteTx<'_> {
    pub fn get(&self, tree: &Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.pending.get(&(tree.name.clone(), key.to_vec())) {
            Some(v) => Ok(v.clone()),
            None => tree.get(key),
        }
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
        for kv in tree.scan_prefix(prefix) {
            let (k, v) = kv?;
            merged.insert(k, v);
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
        self.trees.entry(tree.name.clone()).or_insert_with(|| tree.inner.clone());
    }

    fn commit(self) -> Result<(), StoreError> {
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
