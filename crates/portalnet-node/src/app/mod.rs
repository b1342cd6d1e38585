//! The portal's operations: each takes the acting user, checks the domain rules in
//! `core`, and commits its whole effect in one storage write. The gRPC layer only
//! converts and calls these; tests may call them directly.

mod auth;
mod groups;
mod reports;
mod tasks;
mod users;

pub use auth::{actor_of, hash_token, init_portal, new_token};
pub use tasks::TaskFilter;

use crate::error::{NodeError, NodeResult};
use portalnet_core::group::Group;
use portalnet_core::permissions::{Actor, Relation};
use portalnet_core::settings::PortalSettings;
use portalnet_core::task::Task;
use portalnet_core::user::User;
use portalnet_core::{Clock, Error, Timestamp};
use portalnet_store::schema::Tables;
use std::sync::Arc;

pub struct Portal {
    pub tables: Tables,
    pub clock: Arc<dyn Clock>,
    pub settings: PortalSettings,
}

impl Portal {
    /// Opens a portal whose storage `portald init` has prepared.
    pub fn open(tables: Tables, clock: Arc<dyn Clock>) -> NodeResult<Self> {
        let settings = tables.portal_settings()?.ok_or_else(|| {
            NodeError::Domain(Error::precondition(
                "this data folder holds no portal: run `portald init` first",
            ))
        })?;
        Ok(Self { tables, clock, settings })
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn limits(&self) -> &portalnet_core::limits::Limits {
        &self.settings.limits
    }

    /// Makes committed writes survive a killed process; called before answering.
    pub async fn durable(&self) -> NodeResult<()> {
        let db = self.tables.db.clone();
        match tokio::task::spawn_blocking(move || db.sync()).await {
            Ok(r) => Ok(r?),
            Err(e) => Err(NodeError::Internal(format!("flush task failed: {e}"))),
        }
    }

    fn user(&self, login: &str) -> NodeResult<User> {
        self.tables.users.get(&login.to_string())?.ok_or_else(|| {
            NodeError::Domain(Error::not_found(format!("user `{login}` not found on this portal")))
        })
    }

    fn group(&self, id: u64) -> NodeResult<Group> {
        self.tables
            .groups
            .get(&id)?
            .ok_or_else(|| NodeError::Domain(Error::not_found(format!("group {id} not found"))))
    }

    /// How `actor` relates to `task` (group membership is looked up here).
    fn relation(&self, actor: &Actor, task: &Task) -> NodeResult<Relation> {
        let in_group = match task.group {
            Some(g) => self.tables.groups.get(&g)?.is_some_and(|g| g.is_member(&actor.login)),
            None => false,
        };
        Ok(Relation::of(actor, task, in_group))
    }
}

fn require_admin(actor: &Actor, what: &str) -> NodeResult<()> {
    if actor.admin {
        Ok(())
    } else {
        Err(NodeError::Domain(Error::denied(format!("only portal administrators may {what}"))))
    }
}
