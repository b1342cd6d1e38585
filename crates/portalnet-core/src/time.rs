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

    /// (year, month, day, hour, minute) in UTC, for formatting in a language.
    pub fn utc_parts(self) -> (i64, u32, u32, u32, u32) {
        let secs = self.0.div_euclid(1000);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        (y, m, d, (rem / 3600) as u32, (rem % 3600 / 60) as u32)
    }

    /// `YYYY-MM-DD HH:MM UTC`, for messages meant for people.
    pub fn to_utc_string(self) -> String {
        let secs = self.0.div_euclid(1000);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
    }
}

/// A moment in a refusal, written as the reader's language writes dates.
impl From<Timestamp> for portalnet_i18n::Value {
    fn from(t: Timestamp) -> Self {
        let (year, month, day, hour, minute) = t.utc_parts();
        portalnet_i18n::Value::Time(portalnet_i18n::DateTime { year, month, day, hour, minute })
    }
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Source of the current time. The node uses the system clock; tests inject their own.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn utc_strings() {
        assert_eq!(Timestamp(0).to_utc_string(), "1970-01-01 00:00 UTC");
        assert_eq!(Timestamp(951_782_400_000).to_utc_string(), "2000-02-29 00:00 UTC");
        assert_eq!(Timestamp(1_795_000_000_000).to_utc_string(), "2026-11-18 11:06 UTC");
        assert_eq!(Timestamp(-1).to_utc_string(), "1969-12-31 23:59 UTC");
    }
}
