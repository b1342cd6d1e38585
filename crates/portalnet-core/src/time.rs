//! Time as Unix milliseconds, and the clock trait that the node implements. Rules
//! that depend on time (overdue tasks, later: expiry, activation delays) take the
//! time as an argument so tests can set it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn millis(self) -> i64 {
        self.0
    }
    pub const fn plus_millis(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }
}

/// Source of the current time. The node uses the system clock; tests inject their own.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}
