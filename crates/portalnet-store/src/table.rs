//! Typed tables: keys with an order-preserving byte encoding, values that are
//! versioned [`Record`]s.

use crate::codec::{Record, decode, encode};
use crate::db::{Db, Tree, WriteTx};
use crate::error::StoreError;
use std::marker::PhantomData;

/// A key whose byte form sorts like the key itself.
pub trait Key: Sized {
    fn to_bytes(&self) -> Vec<u8>;
    fn from_bytes(b: &[u8]) -> Option<Self>;
}

impl Key for u64 {
    fn to_bytes(&self) -> Vec<u8> {
        self.to_be_bytes().to_vec()
    }
    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(u64::from_be_bytes(b.try_into().ok()?))
    }
}

impl Key for String {
    fn to_bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
    fn from_bytes(b: &[u8]) -> Option<Self> {
        String::from_utf8(b.to_vec()).ok()
    }
}

impl Key for (u64, u64) {
    fn to_bytes(&self) -> Vec<u8> {
        let mut v = self.0.to_be_bytes().to_vec();
        v.extend_from_slice(&self.1.to_be_bytes());
        v
    }
    fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() != 16 {
            return None;
        }
        Some((u64::from_bytes(&b[..8])?, u64::from_bytes(&b[8..])?))
    }
}

/// (portal id, sequence): the string's bytes, a 0 byte, then the number big-endian,
/// so the entries of one portal sort together and in sequence. Ids hold no 0 byte.
impl Key for (String, u64) {
    fn to_bytes(&self) -> Vec<u8> {
        let mut v = self.0.as_bytes().to_vec();
        v.push(0);
        v.extend_from_slice(&self.1.to_be_bytes());
        v
    }
    fn from_bytes(b: &[u8]) -> Option<Self> {
        let split = b.len().checked_sub(9)?;
        if b[split] != 0 {
            return None;
        }
        Some((String::from_utf8(b[..split].to_vec()).ok()?, u64::from_bytes(&b[split + 1..])?))
    }
}

/// The key prefix of every `(portal, _)` entry.
pub fn portal_prefix(portal: &str) -> Vec<u8> {
    let mut v = portal.as_bytes().to_vec();
    v.push(0);
    v
}

pub struct Table<K, V> {
    tree: Tree,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K, V> Clone for Table<K, V> {
    fn clone(&self) -> Self {
        Self { tree: self.tree.clone(), _types: PhantomData }
    }
}

impl<K: Key, V: Record> Table<K, V> {
    pub fn open(db: &Db, name: &str) -> Result<Self, StoreError> {
        Ok(Self { tree: db.tree(name)?, _types: PhantomData })
    }

    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    pub fn get(&self, key: &K) -> Result<Option<V>, StoreError> {
        self.tree.get(&key.to_bytes())?.map(|b| decode(&b)).transpose()
    }

    /// The values of `keys`, in their order (one round trip on a shared engine).
    pub fn get_many(&self, keys: &[K]) -> Result<Vec<Option<V>>, StoreError> {
        let raw: Vec<Vec<u8>> = keys.iter().map(Key::to_bytes).collect();
        self.tree.get_many(&raw)?.into_iter().map(|v| v.map(|b| decode(&b)).transpose()).collect()
    }

    /// Every entry, in key order.
    pub fn iter(&self) -> impl Iterator<Item = Result<(K, V), StoreError>> + '_ {
        self.scan_raw(&[])
    }

    /// Entries whose key bytes start with `prefix` (for `(u64, u64)` keys: the
    /// first element's bytes), in key order.
    pub fn scan_raw(&self, prefix: &[u8]) -> impl Iterator<Item = Result<(K, V), StoreError>> + '_ {
        self.tree.scan_prefix(prefix).map(|kv| {
            let (k, v) = kv?;
            let key = K::from_bytes(&k).ok_or_else(|| StoreError::Corrupt {
                what: format!("key in {}", self.tree.name()),
                reason: format!("{} bytes do not form a key", k.len()),
            })?;
            Ok((key, decode(&v)?))
        })
    }

    pub fn len(&self) -> usize {
        self.tree.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    pub fn tx_get(&self, tx: &WriteTx<'_>, key: &K) -> Result<Option<V>, StoreError> {
        tx.get(&self.tree, &key.to_bytes())?.map(|b| decode(&b)).transpose()
    }

    /// Reads the rows of `keys` up front for this write ([`WriteTx::prefetch`]).
    pub fn tx_prefetch<'k>(
        &self,
        tx: &mut WriteTx<'_>,
        keys: impl IntoIterator<Item = &'k K>,
    ) -> Result<(), StoreError>
    where
        K: 'k,
    {
        tx.prefetch(&self.tree, keys.into_iter().map(Key::to_bytes))
    }

    /// Reads the rows of `keys` (all under `prefix`) by one read of the prefix
    /// ([`WriteTx::prefetch_prefix`]).
    pub fn tx_prefetch_prefix<'k>(
        &self,
        tx: &mut WriteTx<'_>,
        prefix: &[u8],
        keys: impl IntoIterator<Item = &'k K>,
    ) -> Result<(), StoreError>
    where
        K: 'k,
    {
        tx.prefetch_prefix(&self.tree, prefix, keys.into_iter().map(Key::to_bytes))
    }

    pub fn tx_put(&self, tx: &mut WriteTx<'_>, key: &K, value: &V) -> Result<(), StoreError> {
        tx.insert(&self.tree, &key.to_bytes(), encode(value)?);
        Ok(())
    }

    pub fn tx_remove(&self, tx: &mut WriteTx<'_>, key: &K) {
        tx.remove(&self.tree, &key.to_bytes());
    }
}
