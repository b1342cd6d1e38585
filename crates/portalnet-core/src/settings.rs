//! Portal-wide settings, kept in the portal's storage.

use crate::limits::Limits;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSettings {
    /// DNS-like id of the portal, e.g. `alpha.test`.
    pub portal_id: String,
    pub display_name: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub limits: Limits,
    /// Business users the plan allows (R8): employees and extranet users together;
    /// 0 means no limit.
    #[serde(default)]
    pub seats: u32,
    /// Network communication (R13), as last confirmed by the directory.
    #[serde(default)]
    pub network: NetworkSetting,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSetting {
    pub enabled: bool,
    /// When it was last switched on, as the directory recorded it (R15).
    pub enabled_since: Option<Timestamp>,
}

impl NetworkSetting {
    /// When cross-portal tasks become possible: one activation delay after the
    /// setting was switched on (R15); `None` while it is off.
    pub fn available_from(&self, delay_ms: i64) -> Option<Timestamp> {
        self.enabled_since.filter(|_| self.enabled).map(|t| t.plus_millis(delay_ms))
    }

    pub fn available_at(&self, now: Timestamp, delay_ms: i64) -> bool {
        self.available_from(delay_ms).is_some_and(|t| now >= t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_waits_one_delay_after_switching_on() {
        let day = 24 * 3600 * 1000;
        let off = NetworkSetting::default();
        assert_eq!(off.available_from(day), None);
        let on = NetworkSetting { enabled: true, enabled_since: Some(Timestamp(1_000)) };
        assert_eq!(on.available_from(day), Some(Timestamp(1_000 + day)));
        assert!(!on.available_at(Timestamp(day), day));
        assert!(on.available_at(Timestamp(1_000 + day), day));
        let switched_off = NetworkSetting { enabled: false, ..on };
        assert!(!switched_off.available_at(Timestamp(10 * day), day));
    }
}
