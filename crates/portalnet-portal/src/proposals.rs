//! A replica's side of a change (R17): a person here acts on a task homed on
//! another portal. The change is checked against the replica as far as it can be,
//! stored as a proposal and queued for the home portal in one write; the home
//! decides, and its event comes back like any other.

use super::Portal;
use crate::error::{PortalError, PortalResult};
use portalnet_core::Error;
use portalnet_core::error::text;
use portalnet_core::permissions::{Action, Actor, authorize};
use portalnet_core::task::check_file;
use portalnet_core::validate;
use portalnet_store::replication::{OutboxItem, ProposalOp, ProposalRecord, ProposalState};
use std::collections::HashMap;

impl Portal {
    /// Stores and queues a proposal for replica task `id`.
    pub(crate) fn propose(&self, actor: &Actor, id: u64, op: ProposalOp) -> PortalResult<ProposalRecord> {
        // Checked here so an obvious refusal comes at once, not after a round trip;
        // the home checks again against its own, current state.
        let task = self.task(id)?;
        let home =
            task.home.clone().ok_or_else(|| PortalError::Internal(format!("task {id} is homed here")))?;
        // Being an admin here gives no rights on another portal's task.
        let rel = self.relation(&Actor { admin: false, ..actor.clone() }, &task)?;
        if !rel.creator && !rel.responsible && !rel.accomplice && !rel.observer {
            authorize(self.relation(actor, &task)?, Action::View, id, task.status)?;
            return Err(PortalError::Domain(Error::denied(text!(
                "error-not-participant",
                task = id,
                portal = &home.portal
            ))));
        }
        match &op {
            ProposalOp::Status { to } => authorize(rel, Action::SetStatus(*to), id, task.status)?,
            ProposalOp::Comment { text } => {
                authorize(rel, Action::Comment, id, task.status)?;
                let text = validate::text("comment", text, self.limits().max_comment_bytes)?;
                if text.trim().is_empty() {
                    return Err(PortalError::Domain(Error::invalid(text!("error-comment-required"))));
                }
            }
            ProposalOp::File { name, content_type, size, .. } => {
                authorize(rel, Action::Attach, id, task.status)?;
                check_file(name, content_type, *size, self.limits())?;
            }
        }
        self.check_own_network()?;
        let now = self.now();
        self.write(|tx| {
            let pid = tx.next_id("proposal")?;
            let record = ProposalRecord {
                id: pid,
                task: id,
                home: home.clone(),
                actor: actor.login.clone(),
                op,
                created_at: now,
                state: ProposalState::Pending,
                traceparent: crate::trace::current_header(),
            };
            self.tables.put_proposal(tx, &record)?;
            self.enqueue(tx, &home.portal, OutboxItem::Proposal { id: pid }, now)?;
            Ok(record)
        })
        .inspect(|r| {
            self.metrics.inc("portalnet_proposals_total", &[("outcome", "queued")]);
            tracing::info!(proposal = r.id, task = id, home = %r.home.portal, change = %r.op.summary(), "proposal queued for the home portal");
        })
    }

    pub fn proposal(&self, id: u64) -> PortalResult<Option<ProposalRecord>> {
        Ok(self.tables.proposals.get(&id)?)
    }

    /// Proposals on the local tasks `ids` that their home has not applied (pending
    /// or refused), by task, read through the proposals-by-task index.
    pub fn open_proposals(&self, ids: &[u64]) -> PortalResult<HashMap<u64, Vec<ProposalRecord>>> {
        let mut out: HashMap<u64, Vec<ProposalRecord>> = HashMap::new();
        for &id in ids {
            for p in self.tables.proposals_of(id)? {
                if !matches!(p.state, ProposalState::Applied { .. }) {
                    out.entry(p.task).or_default().push(p);
                }
            }
        }
        Ok(out)
    }
}
