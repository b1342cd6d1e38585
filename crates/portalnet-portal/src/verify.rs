//! Checking a task's whole history as held here (R17): every event's hash links to
//! the one before, its body matches its hash, and the home portal signed it.

use super::Portal;
use crate::error::PortalResult;
use ed25519_dalek::VerifyingKey;
use portalnet_core::event::{EventBody, GENESIS};
use portalnet_core::permissions::{Action, Actor, authorize};
use portalnet_federation::chain::{event_hash, verify_event};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub ok: bool,
    pub events: u64,
    /// Hex hash of the newest event.
    pub head_hash: String,
    pub home: String,
    pub problems: Vec<String>,
}

impl Portal {
    /// The task's home portal and its id there, as this portal stores it.
    pub fn home_of(&self, actor: &Actor, id: u64) -> PortalResult<(String, u64)> {
        let task = self.get_task(actor, id)?;
        Ok(match task.home {
            Some(h) => (h.portal, h.task),
            None => (self.portal_id().to_string(), id),
        })
    }

    /// Checks task `id`'s history against the home portal's `keys` (any of them:
    /// history signed before a key rotation stays valid).
    pub fn verify_history(
        &self,
        actor: &Actor,
        id: u64,
        keys: &[VerifyingKey],
    ) -> PortalResult<VerifyReport> {
        let task = self.task(id)?;
        authorize(self.relation(actor, &task)?, Action::View, id, task.status)?;
        let (home, home_id) = match &task.home {
            Some(h) => (h.portal.clone(), h.task),
            None => (self.portal_id().to_string(), id),
        };
        let mut problems = Vec::new();
        let mut prev = GENESIS;
        let mut expected = 1u64;
        for kv in self.tables.events.scan_raw(&id.to_be_bytes()) {
            let ((_, version), e) = kv?;
            if version != expected {
                problems.push(format!("version {expected} is missing (next held: {version})"));
            }
            expected = version + 1;
            let stored_prev = hex::decode(&e.prev_hash).ok();
            if stored_prev.as_deref() != Some(&prev[..]) {
                problems.push(format!("version {version} does not link to the version before it"));
            }
            let hash = event_hash(&prev, e.body.as_bytes());
            if hex::encode(hash) != e.hash {
                problems.push(format!("version {version}: its body does not match its hash"));
            }
            let sig = hex::decode(&e.signature).unwrap_or_default();
            if !keys.iter().any(|k| verify_event(k, &home, home_id, version, &hash, &sig)) {
                problems.push(format!("version {version} is not signed by {home}"));
            }
            match EventBody::from_bytes(e.body.as_bytes()) {
                Ok(b) if b.home == home && b.task == home_id && b.version == version => {}
                Ok(_) => problems.push(format!("version {version}: its body names another task or version")),
                Err(err) => problems.push(format!("version {version}: {err}")),
            }
            prev = hash;
        }
        if expected - 1 != task.version {
            problems.push(format!(
                "the task is at version {} but its history ends at {}",
                task.version,
                expected - 1
            ));
        }
        Ok(VerifyReport {
            ok: problems.is_empty(),
            events: expected - 1,
            head_hash: hex::encode(prev),
            home,
            problems,
        })
    }

    /// The hash of each event of task `id`, by version.
    pub fn event_hashes(&self, id: u64) -> PortalResult<Vec<(u64, String)>> {
        Ok(self
            .tables
            .events
            .scan_raw(&id.to_be_bytes())
            .map(|kv| kv.map(|((_, v), e)| (v, e.hash)))
            .collect::<Result<_, _>>()?)
    }
}
