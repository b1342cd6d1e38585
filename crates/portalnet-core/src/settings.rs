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
}
