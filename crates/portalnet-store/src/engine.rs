//! The seam for engines other than the embedded one: what a [`Db`](crate::Db)
//! needs from a shared, networked key-value store (PostgreSQL, in its own crate,
//! so that this crate knows no network).
//!
//! The contract is the façade's: named trees of ordered byte keys (bytewise
//! order), reads of committed state outside a write, and writes that run one at a
//! time *across every process sharing the engine* (a write sees a stable state,
//! reads its own writes through [`EngineTx`], and commits atomically and durably).

use crate::error::StoreError;

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// One change a write commits: `value` None removes the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub tree: String,
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

/// A shared key-value engine. Calls block the calling thread (the engine may
/// run its own async runtime inside).
pub trait Engine: Send + Sync + 'static {
    /// A short name for logs and errors ("postgres").
    fn name(&self) -> &'static str;
    fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// The values of `keys`, in their order: one round trip where the engine can
    /// (a search's page of results, a write's rows read up front).
    fn get_many(&self, tree: &str, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.get(tree, k)).collect()
    }
    /// At most `limit` entries whose key starts with `prefix` and is at or after
    /// `start` (key, inclusive?) — all of them under the prefix when None — in key order.
    fn scan(
        &self,
        tree: &str,
        prefix: &[u8],
        start: Option<(&[u8], bool)>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError>;
    /// Entries in the tree.
    fn len(&self, tree: &str) -> Result<u64, StoreError>;
    /// Removes every entry of the tree; whether there was any.
    fn drop_tree(&self, tree: &str) -> Result<bool, StoreError>;
    /// Starts a write: returns once this caller is the only writer of the whole
    /// engine (every process), until the returned transaction commits or drops.
    fn begin(&self) -> Result<Box<dyn EngineTx>, StoreError>;
    /// Bytes the engine's data takes, roughly.
    fn size(&self) -> Result<u64, StoreError>;
}

/// A write under way. Dropped without [`EngineTx::commit`]: nothing is written.
pub trait EngineTx {
    /// Committed state as of this write (no other writer can change it meanwhile).
    fn get(&mut self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// [`EngineTx::get`] of many keys, in their order, in one round trip where the
    /// engine can.
    fn get_many(&mut self, tree: &str, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|k| self.get(tree, k)).collect()
    }
    /// Every entry under `prefix`, in key order.
    fn scan_prefix(&mut self, tree: &str, prefix: &[u8]) -> Result<Vec<Entry>, StoreError>;
    /// Applies the changes (in order) and commits durably.
    fn commit(self: Box<Self>, changes: Vec<Change>) -> Result<(), StoreError>;
}

/// The smallest key above every key that starts with `prefix` (None: no bound,
/// the prefix is empty or all 0xff).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}
