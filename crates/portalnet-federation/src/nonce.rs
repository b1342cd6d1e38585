//! Replay protection: the (origin, nonce) pairs accepted recently.
//!
//! A request is accepted only while its timestamp is within the verifier's window of
//! the receiver's clock, so a nonce needs to be remembered only until its request's
//! timestamp has left the window (the verifier adds a margin for a receiver clock that
//! steps back). After that, a replay is refused by the window check instead.
//!
//! Memory is bounded: requests with far-future timestamps are refused by the window
//! before they reach the cache, and the cache holds at most `capacity` entries. When
//! it is full of unexpired entries it refuses new requests with [`SignError::Busy`]
//! rather than forget a nonce that could still be replayed: under a flood, honest
//! requests are delayed (the sender retries), never replayed.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use portalnet_core::Timestamp;
use sha2::{Digest, Sha256};

use crate::SignError;

/// A replay store shared by several receivers (directory nodes on one database),
/// asked after the local [`NonceCache`] accepted a nonce, so that a request
/// accepted by one node is refused when replayed to another.
pub trait SharedNonces: Send + Sync + std::fmt::Debug {
    /// Records `key` until `expires` (inclusive). `Ok(true)` when it was not
    /// recorded (or its record had expired by `now`), `Ok(false)` when it is
    /// already recorded: a replay. Of two concurrent claims exactly one is new.
    fn claim(&self, key: &[u8; 16], expires: Timestamp, now: Timestamp) -> Result<bool, String>;
}

/// Default maximum number of remembered nonces (about 40 MB when full).
pub const DEFAULT_NONCE_CAPACITY: usize = 1_000_000;

/// Entries are keyed by the first 16 bytes of SHA-256(len(origin) ‖ origin ‖ nonce):
/// fixed size whatever the origin's length, and, because the origin is part of the
/// key, one portal cannot block another portal's request by reusing its nonce.
type Key = [u8; 16];

/// Thread-safe set of recently accepted (origin, nonce) pairs with expiry.
pub struct NonceCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    seen: HashSet<Key>,
    /// Min-heap by expiry (Unix ms) of the entries in `seen`.
    by_expiry: BinaryHeap<Reverse<(i64, Key)>>,
}

impl NonceCache {
    /// An empty cache that holds at most `capacity` unexpired entries.
    pub fn new(capacity: usize) -> Self {
        NonceCache { capacity, inner: Mutex::new(Inner::default()) }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of remembered entries (expired ones included until the next eviction).
    pub fn len(&self) -> usize {
        self.lock().seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every entry whose expiry is before `now`.
    pub fn evict_expired(&self, now: Timestamp) {
        self.lock().evict(now.millis());
    }

    /// Records `(origin, nonce)` until `expires` (inclusive), after evicting expired
    /// entries. Refuses with [`SignError::Replayed`] if the pair is already known, and
    /// with [`SignError::Busy`] if the cache is full of unexpired entries. Checking and
    /// recording happen under one lock, so of two concurrent copies exactly one wins.
    pub fn check_and_record(
        &self,
        origin: &str,
        nonce: &[u8; 16],
        expires: Timestamp,
        now: Timestamp,
    ) -> Result<(), SignError> {
        let key = key_of(origin, nonce);
        let mut inner = self.lock();
        inner.evict(now.millis());
        if inner.seen.contains(&key) {
            return Err(SignError::Replayed { origin: origin.to_owned() });
        }
        if inner.seen.len() >= self.capacity {
            return Err(SignError::Busy { capacity: self.capacity });
        }
        inner.seen.insert(key);
        inner.by_expiry.push(Reverse((expires.millis(), key)));
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No code path panics while holding the lock, and the state is consistent
        // after every statement, so a poisoned lock is still safe to use.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for NonceCache {
    /// A cache with [`DEFAULT_NONCE_CAPACITY`].
    fn default() -> Self {
        NonceCache::new(DEFAULT_NONCE_CAPACITY)
    }
}

impl std::fmt::Debug for NonceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceCache").field("len", &self.len()).field("capacity", &self.capacity).finish()
    }
}

impl Inner {
    fn evict(&mut self, now_ms: i64) {
        while let Some(Reverse((expires, key))) = self.by_expiry.peek().copied() {
            if expires >= now_ms {
                break;
            }
            self.by_expiry.pop();
            self.seen.remove(&key);
        }
    }
}

/// The key under which `(origin, nonce)` is remembered (also in a [`SharedNonces`]).
pub fn key_of(origin: &str, nonce: &[u8; 16]) -> Key {
    let mut h = Sha256::new();
    h.update((origin.len() as u64).to_be_bytes());
    h.update(origin.as_bytes());
    h.update(nonce);
    let digest = h.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    const N1: [u8; 16] = [1; 16];
    const N2: [u8; 16] = [2; 16];

    #[test]
    fn second_copy_is_replayed() {
        let c = NonceCache::default();
        assert_eq!(c.check_and_record("a.test", &N1, Timestamp(100), Timestamp(0)), Ok(()));
        assert!(matches!(
            c.check_and_record("a.test", &N1, Timestamp(100), Timestamp(1)),
            Err(SignError::Replayed { .. })
        ));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn same_nonce_from_another_origin_is_independent() {
        let c = NonceCache::default();
        assert_eq!(c.check_and_record("a.test", &N1, Timestamp(100), Timestamp(0)), Ok(()));
        assert_eq!(c.check_and_record("b.test", &N1, Timestamp(100), Timestamp(0)), Ok(()));
        // The origin's length is part of the key: "ab"+nonce ≠ "a"+"b"-prefixed nonce.
        assert_ne!(key_of("ab", &N1), key_of("a", &N1));
    }

    #[test]
    fn entries_are_evicted_after_expiry() {
        let c = NonceCache::default();
        c.check_and_record("a.test", &N1, Timestamp(100), Timestamp(0)).unwrap();
        c.check_and_record("a.test", &N2, Timestamp(200), Timestamp(0)).unwrap();
        c.evict_expired(Timestamp(100));
        assert_eq!(c.len(), 2, "kept through its expiry, inclusive");
        c.evict_expired(Timestamp(101));
        assert_eq!(c.len(), 1);
        // Once expired, the pair may be recorded again.
        assert_eq!(c.check_and_record("a.test", &N1, Timestamp(300), Timestamp(150)), Ok(()));
        c.evict_expired(Timestamp(i64::MAX));
        assert!(c.is_empty());
    }

    #[test]
    fn full_cache_refuses_instead_of_forgetting() {
        let c = NonceCache::new(2);
        c.check_and_record("a.test", &N1, Timestamp(100), Timestamp(0)).unwrap();
        c.check_and_record("a.test", &N2, Timestamp(100), Timestamp(0)).unwrap();
        let err = c.check_and_record("a.test", &[3; 16], Timestamp(100), Timestamp(0)).unwrap_err();
        assert_eq!(err, SignError::Busy { capacity: 2 });
        assert!(err.is_retryable());
        // A replay is still reported as a replay when full.
        assert!(matches!(
            c.check_and_record("a.test", &N1, Timestamp(100), Timestamp(0)),
            Err(SignError::Replayed { .. })
        ));
        // After expiry there is room again.
        assert_eq!(c.check_and_record("a.test", &[3; 16], Timestamp(300), Timestamp(101)), Ok(()));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn zero_capacity_refuses_everything_without_panicking() {
        let c = NonceCache::new(0);
        assert!(matches!(
            c.check_and_record("a.test", &N1, Timestamp(1), Timestamp(0)),
            Err(SignError::Busy { .. })
        ));
    }

    #[test]
    fn concurrent_copies_exactly_one_wins() {
        let c = std::sync::Arc::new(NonceCache::default());
        let wins: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let c = c.clone();
                    s.spawn(move || c.check_and_record("a.test", &N1, Timestamp(10), Timestamp(0)).is_ok())
                })
                .collect();
            handles.into_iter().map(|h| usize::from(h.join().unwrap_or(false))).sum()
        });
        assert_eq!(wins, 1);
    }
}
