//! The real clock (tests inject their own through `portalnet_core::Clock`).

use portalnet_core::{Clock, Timestamp};
use std::time::{SystemTime, UNIX_EPOCH};

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        Timestamp(i64::try_from(ms).unwrap_or(i64::MAX))
    }
}
