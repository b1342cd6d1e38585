//! What the Network directory knows of this portal (R13–R15): the network
//! setting as the directory last confirmed it, the people the portal publishes,
//! and the counters that say whether the directory is in step. Talking to the
//! directory is the node's business.

use crate::Portal;
use crate::error::{PortalError, PortalResult};
use portalnet_core::error::text;
use portalnet_core::settings::NetworkSetting;
use portalnet_core::user::{User, UserKind};
use portalnet_store::schema::SETTINGS_KEY;

/// The built-in administrator account is not a person: it is never published.
const UNPUBLISHED: &str = "admin";

/// Counter bumped by every change of published people.
pub const DIRECTORY_CHANGES: &str = "directory.changes";
/// The value of [`DIRECTORY_CHANGES`] the directory has confirmed.
pub const DIRECTORY_PUBLISHED: &str = "directory.published";

impl Portal {
    pub fn network_setting(&self) -> PortalResult<NetworkSetting> {
        Ok(self.tables.portal_settings()?.map(|s| s.network).unwrap_or_default())
    }

    /// Stores what the directory confirmed, and asks for a publish.
    pub fn record_network(&self, setting: NetworkSetting) -> PortalResult<NetworkSetting> {
        let t = &self.tables;
        t.db.write(|tx| {
            let key = SETTINGS_KEY.to_string();
            let mut s = t
                .settings
                .tx_get(tx, &key)?
                .ok_or_else(|| PortalError::precondition(text!("error-no-portal")))?;
            s.network = setting.clone();
            t.settings.tx_put(tx, &key, &s)?;
            self.directory_changed(tx)
        })?;
        self.directory_wake.notify_one();
        Ok(setting)
    }

    /// Every active employee, as the directory shows them (R13: no extranet users).
    pub fn published_people(&self) -> PortalResult<Vec<User>> {
        let mut out = Vec::new();
        for kv in self.tables.users.iter() {
            let (_, u) = kv?;
            if u.is_active() && u.kind == UserKind::Employee && u.login != UNPUBLISHED {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// A counter of the directory's progress ([`DIRECTORY_CHANGES`], [`DIRECTORY_PUBLISHED`]).
    pub fn directory_counter(&self, name: &str) -> PortalResult<u64> {
        Ok(self.tables.counters.get(&name.to_string())?.unwrap_or(0))
    }

    /// Records that the directory holds the people as of change `changes`.
    pub fn directory_published(&self, changes: u64) -> PortalResult<()> {
        let t = &self.tables;
        Ok(t.db.write(|tx| t.counters.tx_put(tx, &DIRECTORY_PUBLISHED.to_string(), &changes))?)
    }
}
