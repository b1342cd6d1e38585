//! The home portal's side of a task's history (R17): every change to a task homed
//! here is written with its history entry, its signed event, one outbox entry per
//! portal that must hear of it and the mail its e-mail participants get (R21), all
//! in the same storage write.

use super::Portal;
use crate::error::{PortalError, PortalResult};
use portalnet_core::address::{self, qualify, qualify_change, qualify_comment, qualify_task};
use portalnet_core::error::text;
use portalnet_core::event::{EVENT_FORMAT, EventBody, GENESIS};
use portalnet_core::task::{Change, Comment, FileMeta, HistoryEntry, Task};
use portalnet_core::{Error, Timestamp};
use portalnet_federation::chain::{event_hash, sign_event};
use portalnet_store::WriteTx;
use portalnet_store::replication::{OutboxEntry, OutboxItem, StoredEvent};

/// What an event carries besides the task's state.
#[derive(Default, Clone, Copy)]
pub(crate) struct Extra<'a> {
    /// The task before the change (`None` when it is created).
    pub before: Option<&'a Task>,
    pub comment: Option<&'a Comment>,
    pub file: Option<&'a FileMeta>,
    /// `origin:id` of the proposal this change applies.
    pub proposal: Option<&'a str>,
}

impl Portal {
    /// Writes `task` (homed here), appends its history entry and its event (version
    /// = `task.version`), and queues the event for every other portal with a
    /// participant before or after the change. A portal that gains its first
    /// participant gets the whole history first; one that loses its last gets this
    /// event and nothing after it.
    pub(crate) fn record(
        &self,
        tx: &mut WriteTx<'_>,
        task: &Task,
        actor: &str,
        change: Change,
        extra: Extra<'_>,
        now: Timestamp,
    ) -> PortalResult<()> {
        let t = &self.tables;
        let me = self.portal_id().to_string();
        let body = EventBody {
            format: EVENT_FORMAT,
            home: me.clone(),
            task: task.id,
            version: task.version,
            at: now,
            actor: qualify(actor, &me),
            change: qualify_change(&change, &me),
            state: qualify_task(task, &me),
            comment: extra.comment.map(|c| qualify_comment(c, &me)),
            file: extra.file.map(|f| FileMeta { uploaded_by: qualify(&f.uploaded_by, &me), ..f.clone() }),
            proposal: extra.proposal.map(str::to_string),
        };
        let prev = if task.version <= 1 {
            GENESIS
        } else {
            let prev = t.events.tx_get(tx, &(task.id, task.version - 1))?.ok_or_else(|| {
                PortalError::Internal(format!("task {} has no event {}", task.id, task.version - 1))
            })?;
            decode_hash(&prev.hash)?
        };
        let bytes = body.to_bytes();
        let hash = event_hash(&prev, &bytes);
        let signature = sign_event(&self.options.signing_key, &me, task.id, task.version, &hash);
        let event = StoredEvent {
            home: me.clone(),
            task: task.id,
            version: task.version,
            body: String::from_utf8(bytes).map_err(|e| PortalError::Internal(e.to_string()))?,
            prev_hash: hex::encode(prev),
            hash: hex::encode(hash),
            signature: hex::encode(signature),
            file_id: extra.file.map(|f| f.id),
            traceparent: crate::trace::current_header(),
        };
        self.mail_notices(tx, task, actor, &change, extra, now)?;
        let entry = HistoryEntry {
            task_id: task.id,
            version: task.version,
            at: now,
            actor: actor.to_string(),
            change,
        };
        t.put_task(tx, task)?;
        t.history.tx_put(tx, &(task.id, task.version), &entry)?;
        t.events.tx_put(tx, &(task.id, task.version), &event)?;

        let old = extra.before.map(|b| address::remote_portals(b, &me)).unwrap_or_default();
        let new = address::remote_portals(task, &me);
        for dest in old.union(&new) {
            if !old.contains(dest) {
                for v in 1..task.version {
                    let item = OutboxItem::Event { task: task.id, version: v, catch_up: true };
                    self.enqueue(tx, dest, item, now)?;
                }
            }
            let item = OutboxItem::Event { task: task.id, version: task.version, catch_up: false };
            self.enqueue(tx, dest, item, now)?;
        }
        Ok(())
    }

    /// Queues `item` for `dest`, after everything already queued for it.
    pub(crate) fn enqueue(
        &self,
        tx: &mut WriteTx<'_>,
        dest: &str,
        item: OutboxItem,
        now: Timestamp,
    ) -> PortalResult<()> {
        let seq = tx.next_id("fed_outbox")?;
        self.tables.put_outbox(
            tx,
            dest,
            seq,
            &OutboxEntry { item, enqueued_at: now, traceparent: crate::trace::current_header() },
        )?;
        self.fed.mark(dest);
        Ok(())
    }

    /// R13–R15 on this portal: network communication is on and past its activation.
    pub fn check_own_network(&self) -> PortalResult<()> {
        let n = self.network_setting()?;
        let me = self.portal_id();
        match n.available_from(self.options.activation_delay_ms) {
            None => Err(PortalError::Domain(Error::precondition(text!("error-network-off", portal = me)))),
            Some(from) if self.now() < from => Err(PortalError::Domain(Error::precondition(text!(
                "error-network-not-yet",
                portal = me,
                since = n.enabled_since.unwrap_or_default(),
                from = from
            )))),
            Some(_) => Ok(()),
        }
    }
}

pub(crate) fn decode_hash(h: &str) -> PortalResult<[u8; 32]> {
    hex::decode(h)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| PortalError::Internal("a stored event hash is not 32 bytes of hex".into()))
}
