//! Per-portal rate limiting of searches and lookups (R16: the directory cannot be
//! scraped): a token bucket for each portal id, in memory. Time is passed in.

use crate::error::{Error, Result};
use portalnet_core::time::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;

/// Buckets kept before full ones are dropped (a full bucket is the same as none).
const PRUNE_AT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Timestamp,
}

/// A token bucket per portal: `burst` requests at once, refilled at
/// `rate_per_sec`. Shared between threads as it is.
#[derive(Debug)]
pub struct RateLimiter {
    rate_per_sec: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Default for RateLimiter {
    /// 10 requests per second with bursts of 50, per portal.
    fn default() -> Self {
        Self::new(10.0, 50)
    }
}

impl RateLimiter {
    /// A rate that is not a positive finite number refills nothing; a burst of 0
    /// counts as 1.
    pub fn new(rate_per_sec: f64, burst: u32) -> Self {
        let rate_per_sec = if rate_per_sec.is_finite() && rate_per_sec > 0.0 { rate_per_sec } else { 0.0 };
        Self { rate_per_sec, burst: f64::from(burst.max(1)), buckets: Mutex::new(HashMap::new()) }
    }

    pub fn rate_per_sec(&self) -> f64 {
        self.rate_per_sec
    }

    pub fn burst(&self) -> u32 {
        // `burst` came from a u32.
        self.burst as u32
    }

    /// Takes one token of `portal_id`'s bucket, or says when one will be there.
    pub fn check(&self, portal_id: &str, now: Timestamp) -> Result<()> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= PRUNE_AT && !buckets.contains_key(portal_id) {
            buckets.retain(|_, b| self.refilled(*b, now) < self.burst);
        }
        let bucket = buckets.entry(portal_id.to_string()).or_insert(Bucket { tokens: self.burst, at: now });
        let tokens = self.refilled(*bucket, now);
        // A clock that went back does not move the bucket's time back.
        let at = bucket.at.max(now);
        if tokens >= 1.0 {
            *bucket = Bucket { tokens: tokens - 1.0, at };
            return Ok(());
        }
        *bucket = Bucket { tokens, at };
        let wait = if self.rate_per_sec > 0.0 {
            let ms = ((1.0 - tokens) / self.rate_per_sec * 1000.0).ceil().max(1.0);
            format!("try again in {} ms", ms as u64)
        } else {
            "try again later".to_string()
        };
        Err(Error::ResourceExhausted(format!("too many directory requests from {portal_id}: {wait}")))
    }

    /// The tokens of `b` at `now`.
    fn refilled(&self, b: Bucket, now: Timestamp) -> f64 {
        let elapsed_ms = now.millis().saturating_sub(b.at.millis()).max(0);
        (b.tokens + elapsed_ms as f64 / 1000.0 * self.rate_per_sec).min(self.burst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exhausted(r: Result<()>) -> String {
        match r {
            Err(Error::ResourceExhausted(m)) => m,
            other => panic!("expected ResourceExhausted, got {other:?}"),
        }
    }

    #[test]
    fn burst_then_refill() {
        let rl = RateLimiter::new(2.0, 3);
        let t = Timestamp(1_000_000);
        for _ in 0..3 {
            rl.check("a.test", t).unwrap();
        }
        let m = exhausted(rl.check("a.test", t));
        assert!(m.contains("try again in 500 ms"), "{m}");
        // Another portal has its own bucket.
        rl.check("b.test", t).unwrap();
        // Half a second later one token is back.
        exhausted(rl.check("a.test", t.plus_millis(499)));
        rl.check("a.test", t.plus_millis(500)).unwrap();
        exhausted(rl.check("a.test", t.plus_millis(500)));
        // A long pause refills only up to the burst.
        let later = t.plus_millis(60_000);
        for _ in 0..3 {
            rl.check("a.test", later).unwrap();
        }
        exhausted(rl.check("a.test", later));
    }

    #[test]
    fn wait_is_rounded_up() {
        let rl = RateLimiter::new(3.0, 1);
        let t = Timestamp(0);
        rl.check("a.test", t).unwrap();
        let m = exhausted(rl.check("a.test", t));
        assert!(m.contains("try again in 334 ms"), "{m}");
        let m = exhausted(rl.check("a.test", t.plus_millis(100)));
        assert!(m.contains("try again in 234 ms"), "{m}");
    }

    #[test]
    fn clock_going_back_gives_nothing_away() {
        let rl = RateLimiter::new(1.0, 1);
        let t = Timestamp(10_000);
        rl.check("a.test", t).unwrap();
        exhausted(rl.check("a.test", Timestamp(0)));
        exhausted(rl.check("a.test", t.plus_millis(999)));
        rl.check("a.test", t.plus_millis(1000)).unwrap();
    }

    #[test]
    fn odd_configurations_do_not_panic() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let rl = RateLimiter::new(rate, 0);
            rl.check("a.test", Timestamp(i64::MAX)).unwrap();
            let m = exhausted(rl.check("a.test", Timestamp(i64::MAX)));
            assert!(m.contains("try again later"), "{m}");
            exhausted(rl.check("a.test", Timestamp(i64::MIN)));
        }
        assert_eq!(RateLimiter::new(1.5, 0).burst(), 1);
    }

    #[test]
    fn many_portals_are_pruned_when_full() {
        let rl = RateLimiter::new(1000.0, 1);
        for i in 0..(PRUNE_AT + 10) {
            rl.check(&format!("p{i}.test"), Timestamp(i as i64 * 10)).unwrap();
        }
        let n = rl.buckets.lock().unwrap().len();
        assert!(n < PRUNE_AT, "{n}");
    }
}
