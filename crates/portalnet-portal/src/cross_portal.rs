//! The cross-portal rules at the home portal (R13–R16), checked before a change
//! to a task homed here, and the wait for the home's answer to a change proposed
//! here. What the rules need to know of the Network (other portals' state, who is
//! published) comes through [`Network`], which the node implements over the
//! directory; the rules themselves are here.

use crate::Portal;
use crate::error::{PortalError, PortalResult};
use portalnet_core::error::text;
use portalnet_core::task::{Change, Comment, Task};
use portalnet_core::{Timestamp, address};
use portalnet_store::replication::{ProposalState, RefusalKind};
use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

/// How long a change to a task homed elsewhere waits for its home's answer before
/// the call returns with the change pending.
pub const PROPOSAL_WAIT: Duration = Duration::from_secs(3);

/// What the cross-portal rules ask of the Network.
pub trait Network: Send + Sync {
    /// Why no work with `portal` may go on now, or `None` when it may: a rule's
    /// refusal (final), or `Unavailable` when it could not be checked (retry).
    fn blocked(&self, portal: &str, now: Timestamp) -> impl Future<Output = Option<PortalError>> + Send;

    /// `Ok` when every address is a person published in the directory (R16).
    fn check_people(
        &self,
        people: &[String],
        now: Timestamp,
    ) -> impl Future<Output = PortalResult<()>> + Send;
}

impl Portal {
    /// R13–R16 at the home portal, before a change to a task homed here: every
    /// portal with a participant (now or after the change) has the network on and
    /// active, and every newly named person of another portal is published. A task
    /// homed elsewhere is its home's to check. `network` is `None` when this portal
    /// is linked to no directory.
    pub async fn check_cross_portal<N: Network>(
        &self,
        network: Option<&N>,
        task: Option<&Task>,
        named: &[String],
    ) -> PortalResult<()> {
        let me = self.portal_id();
        if task.is_some_and(|t| t.home.is_some()) {
            return Ok(());
        }
        // A malformed address is the caller's mistake, whatever the network's state.
        for a in named {
            address::participant("participant", a)?;
        }
        let held: Vec<&str> = task.map(|t| t.participants()).unwrap_or_default();
        let new_people: Vec<String> = named
            .iter()
            .filter(|a| address::split(a).1.is_some_and(|portal| portal != me))
            .filter(|a| !held.contains(&a.as_str()))
            .cloned()
            .collect();
        let mut portals: BTreeSet<String> = task.map(|t| address::remote_portals(t, me)).unwrap_or_default();
        portals.extend(new_people.iter().filter_map(|a| address::split(a).1.map(str::to_string)));
        if portals.is_empty() {
            return Ok(());
        }
        self.check_own_network()?;
        let network = network.ok_or_else(|| PortalError::precondition(text!("error-no-directory-people")))?;
        for portal in &portals {
            if let Some(why) = network.blocked(portal, self.now()).await {
                return Err(why);
            }
        }
        network.check_people(&new_people, self.now()).await
    }

    /// Waits (up to `wait`) for the home's answer to proposal `pid` on replica
    /// `task`, and for its event to arrive here: `Ok(Some(version))` when applied,
    /// `Ok(None)` when still pending, the home's refusal as an error.
    pub async fn await_proposal(&self, task: u64, pid: u64, wait: Duration) -> PortalResult<Option<u64>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let changed = self.replica_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.proposal(pid)?.map(|r| r.state) {
                Some(ProposalState::Applied { version }) if self.task(task)?.version >= version => {
                    return Ok(Some(version));
                }
                Some(ProposalState::Rejected { reason, kind }) => {
                    let home = self.task(task)?.home.map(|h| h.portal).unwrap_or_default();
                    let why = text!("error-proposal-refused", portal = home, reason = reason);
                    return Err(match kind {
                        RefusalKind::Malformed => PortalError::invalid(why),
                        RefusalKind::Forbidden => PortalError::denied(why),
                        RefusalKind::NotFound => PortalError::Domain(portalnet_core::Error::not_found(why)),
                        RefusalKind::Precondition | RefusalKind::Other => PortalError::precondition(why),
                    });
                }
                _ => {}
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return Ok(None);
            }
        }
    }

    /// What event `version` of task `id` recorded (for a proposal's reply).
    pub fn change_at(&self, id: u64, version: u64) -> PortalResult<Option<Change>> {
        Ok(self.tables.history.get(&(id, version))?.map(|h| h.change))
    }

    /// Comment `comment_id` of task `id`, as stored (for a proposal's reply).
    pub fn stored_comment(&self, id: u64, comment_id: u64) -> PortalResult<Option<Comment>> {
        Ok(self.tables.comments.get(&(id, comment_id))?)
    }
}
