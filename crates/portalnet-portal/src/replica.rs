//! The receiving side of replication (R17): events of tasks homed elsewhere, and
//! proposals for tasks homed here, as they arrive in a batch from one portal.
//!
//! A batch is applied in one storage write, but each item is judged alone: an item
//! that fails a check is refused with its reason and writes nothing, and the rest
//! of the batch applies. Only a storage failure fails the whole batch (the sender
//! then retries it all; duplicates are dropped by (task, version) and proposal id).

use super::Portal;
use super::events::{Extra, decode_hash};
use crate::error::{ErrorKind, PortalError, PortalResult};
use crate::trace::TraceContext;
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use portalnet_core::address::{self, localize, localize_change, localize_comment, localize_task};
use portalnet_core::event::{EventBody, GENESIS, Step, decide};
use portalnet_core::permissions::{Actor, Relation};
use portalnet_core::task::{self, Change, FileMeta, HistoryEntry, TaskHome, TaskStatus, check_file};
use portalnet_core::user::UserKind;
use portalnet_federation::chain::{event_hash, verify_event};
use portalnet_store::WriteTx;
use portalnet_store::replication::{
    DeliveryRefusal, ProposalOp, ProposalOutcome, ProposalRecord, ProposalState, RefusalKind, StoredEvent,
};
use portalnet_store::schema::{proposal_key, replica_key};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// An event as it arrived (converted from the wire, not yet checked).
#[derive(Debug, Clone)]
pub struct InEvent {
    pub home: String,
    pub task: u64,
    pub version: u64,
    pub body: Vec<u8>,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
    pub signature: Vec<u8>,
    pub file_content: Vec<u8>,
    pub catch_up: bool,
}

#[derive(Debug, Clone)]
pub enum InOp {
    Status(TaskStatus),
    Comment(String),
    File { name: String, content_type: String, content: Vec<u8> },
}

#[derive(Debug, Clone)]
pub struct InProposal {
    pub id: String,
    pub task: u64,
    /// `login@portal`
    pub actor: String,
    pub op: InOp,
}

#[derive(Debug, Clone)]
pub enum InItem {
    Event(InEvent),
    Proposal(InProposal),
    /// Could not be read from the wire: refused alone.
    Malformed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied { version: u64 },
    Duplicate,
    Rejected { reason: String, kind: RefusalKind },
}

impl Outcome {
    fn reject(kind: RefusalKind, reason: impl Into<String>) -> Self {
        Outcome::Rejected { reason: reason.into(), kind }
    }

    /// A domain refusal as the sender should read it (in English: the sender's
    /// operators and logs read it, not a person of ours).
    fn from_error(e: PortalError) -> PortalResult<Self> {
        let kind = match e.kind() {
            ErrorKind::InvalidArgument => RefusalKind::Malformed,
            ErrorKind::PermissionDenied | ErrorKind::Unauthenticated => RefusalKind::Forbidden,
            ErrorKind::FailedPrecondition | ErrorKind::AlreadyExists => RefusalKind::Precondition,
            ErrorKind::NotFound => RefusalKind::NotFound,
            ErrorKind::Exhausted | ErrorKind::Unavailable | ErrorKind::Internal => return Err(e),
        };
        match e {
            PortalError::Domain(d) => Ok(Outcome::Rejected { reason: d.to_string(), kind }),
            other => Err(other),
        }
    }
}

/// An event of a task homed here that a destination refused for a rule of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The local task id.
    pub task: u64,
    pub version: u64,
    pub reason: String,
}

/// The CPU-heavy checks of one received item, made before the writer lock so
/// other writers do not wait for them: an event's hash and its home's signature,
/// a file's SHA-256. Their verdicts are read under the lock in the same order as
/// before, so a refusal's reason does not depend on where they were computed.
#[derive(Debug, Default)]
struct Precheck {
    /// The event's hash matches its previous hash and body.
    hash_ok: bool,
    /// One of the home's keys signed the event (checked only when its hash holds).
    signed: bool,
    /// Hex SHA-256 of the event's or proposal's file bytes.
    file_sha: Option<String>,
    /// Those bytes are in the blob store. A proposal's are stored only when it
    /// has standing here (its task is homed here and has a participant of its
    /// sender): a stranger's refused file leaves nothing on disk.
    stored: bool,
    /// Hex SHA-256 of the file of the proposal of ours that an event says it
    /// applies (`EventBody::proposal`), to check that the event carries that file.
    cited_file_sha: Option<String>,
}

impl Precheck {
    /// The checks of `item`. A file of a signed event, or of a proposal with
    /// standing, is also written to the blob store here (synced, hashed as it is
    /// written), before the write that may name it; one the write then refuses
    /// stays an orphan until the next start collects it.
    fn of(portal: &Portal, origin: &str, item: &InItem, keys: &[VerifyingKey]) -> PortalResult<Self> {
        let me = portal.portal_id();
        let blobs = &portal.tables.blobs;
        let sha = |bytes: &[u8]| hex::encode(Sha256::digest(bytes));
        Ok(match item {
            // Refused before any of these checks: nothing to compute.
            InItem::Event(ev) if ev.home != origin || ev.home == me => Precheck::default(),
            InItem::Event(ev) => {
                let hash_ok = event_hash(&ev.prev_hash, &ev.body) == ev.hash;
                let signed = hash_ok
                    && keys
                        .iter()
                        .any(|k| verify_event(k, &ev.home, ev.task, ev.version, &ev.hash, &ev.signature));
                // Only what its home signed is worth a blob; the rest is refused anyway.
                let stored = signed && !ev.file_content.is_empty();
                let file_sha =
                    Some(if stored { blobs.put(&ev.file_content)?.sha256 } else { sha(&ev.file_content) });
                let cited_file_sha = if stored { portal.cited_file_sha(ev)? } else { None };
                Precheck { hash_ok, signed, file_sha, stored, cited_file_sha }
            }
            InItem::Proposal(p @ InProposal { op: InOp::File { content, .. }, .. }) => {
                let stored = !content.is_empty() && portal.has_standing(origin, p)?;
                let file_sha = Some(if stored { blobs.put(content)?.sha256 } else { sha(content) });
                Precheck { file_sha, stored, ..Precheck::default() }
            }
            _ => Precheck::default(),
        })
    }
}

/// The id of the proposal of ours (`<me>:<id>`) an event says it applies.
fn cited_id(me: &str, body: &EventBody) -> Option<u64> {
    body.proposal.as_deref()?.strip_prefix(me)?.strip_prefix(':')?.parse().ok()
}

/// Whether an event does what a proposal of ours asked: the status it asked
/// for, the comment it wrote, the file it sent (name, size and SHA-256).
fn does_what_it_asked(op: &ProposalOp, body: &EventBody, pre: &Precheck) -> bool {
    match (op, &body.change, &body.comment, &body.file) {
        (ProposalOp::Status { to }, Change::Status { to: done, .. }, None, None) => to == done,
        (ProposalOp::Comment { text }, Change::Comment { comment_id }, Some(c), None) => {
            c.id == *comment_id && c.text.trim_end() == text.trim_end()
        }
        (ProposalOp::File { name, size, .. }, Change::File { file_id, .. }, None, Some(f)) => {
            // An empty file is stored nowhere before the lock, so its SHA-256 was
            // not looked up: it is that of no bytes.
            let cited =
                if *size == 0 { Some(hex::encode(Sha256::digest([]))) } else { pre.cited_file_sha.clone() };
            f.id == *file_id
                && f.name == name.trim()
                && f.size == *size
                && cited.as_deref() == Some(f.sha256.as_str())
        }
        _ => false,
    }
}

/// Missing versions `from..=to` of task `task` homed at the batch's origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub task: u64,
    pub from: u64,
    pub to: u64,
}

/// Puts events fetched to fill gaps among a batch's items, and orders the events
/// of each task by version (proposals keep their relative order: they concern
/// other tasks). Items carry their index in the batch; fetched ones carry `None`.
pub fn with_fetched(
    mut items: Vec<(Option<usize>, InItem)>,
    fetched: Vec<InItem>,
) -> Vec<(Option<usize>, InItem)> {
    if fetched.is_empty() {
        return items;
    }
    items.extend(fetched.into_iter().map(|i| (None, i)));
    items.sort_by_key(|(_, i)| match i {
        InItem::Event(e) => (0, e.task, e.version),
        _ => (1, 0, 0),
    });
    items
}

impl Portal {
    /// Versions this replica lacks before it can apply the batch's events; the
    /// caller fetches them from the home and puts them in front.
    pub fn gaps<'a>(
        &self,
        origin: &str,
        items: impl IntoIterator<Item = &'a InItem>,
    ) -> PortalResult<Vec<Gap>> {
        let mut heads: HashMap<u64, u64> = HashMap::new();
        let mut out = Vec::new();
        for item in items {
            let InItem::Event(ev) = item else { continue };
            if ev.home != origin {
                continue;
            }
            let head = match heads.get(&ev.task) {
                Some(h) => *h,
                None => self.replica_head(&ev.home, ev.task)?,
            };
            // Versions are the peer's numbers: no arithmetic on them may overflow.
            let next = head.saturating_add(1);
            if ev.version > next {
                out.push(Gap { task: ev.task, from: next, to: ev.version - 1 });
            }
            heads.insert(ev.task, head.max(ev.version));
        }
        Ok(out)
    }

    /// The newest version held of task `task` homed at `home` (0: none).
    fn replica_head(&self, home: &str, task: u64) -> PortalResult<u64> {
        let Some(local) = self.tables.replicas.get(&replica_key(home, task))? else { return Ok(0) };
        Ok(self.tables.tasks.get(&local)?.map_or(0, |t| t.version))
    }

    /// Applies a batch from portal `origin`. `keys`: the origin's public keys,
    /// current first. `blocked(portal)`: why cross-portal work with that portal is
    /// not possible now (R14), if it is not.
    pub fn apply_batch(
        &self,
        origin: &str,
        items: Vec<InItem>,
        keys: &[VerifyingKey],
        blocked: &dyn Fn(&str) -> Option<String>,
    ) -> PortalResult<Vec<Outcome>> {
        let items = items.into_iter().map(|i| (i, None)).collect();
        self.apply_batch_traced(origin, items, keys, blocked)
    }

    /// [`Portal::apply_batch`], each item under its own trace context (as its
    /// sender stored it; none: the current call's). What an item writes (the event
    /// a proposal becomes, its outbox entries) keeps that context, and its log line
    /// names it.
    pub fn apply_batch_traced(
        &self,
        origin: &str,
        items: Vec<(InItem, Option<TraceContext>)>,
        keys: &[VerifyingKey],
        blocked: &dyn Fn(&str) -> Option<String>,
    ) -> PortalResult<Vec<Outcome>> {
        let now = self.now();
        let fallback = crate::trace::current();
        let ctxs: Vec<TraceContext> = items
            .iter()
            .map(|(_, c)| c.or(fallback).map_or_else(TraceContext::root, |c| c.child()))
            .collect();
        let kinds: Vec<&'static str> = items
            .iter()
            .map(|(i, _)| match i {
                InItem::Event(_) => "event",
                InItem::Proposal(_) => "proposal",
                InItem::Malformed(_) => "malformed",
            })
            .collect();
        // Hashes and signatures before the writer lock, not under it.
        let pre: Vec<Precheck> =
            items.iter().map(|(i, _)| Precheck::of(self, origin, i, keys)).collect::<PortalResult<_>>()?;
        let out = self.write(|tx| {
            let mut out = Vec::with_capacity(items.len());
            for (((item, _), ctx), pre) in items.into_iter().zip(&ctxs).zip(&pre) {
                out.push(ctx.enter(|| match item {
                    InItem::Event(ev) => self.apply_event(tx, origin, ev, pre),
                    InItem::Proposal(p) => self.apply_proposal(tx, origin, p, pre, blocked, now),
                    InItem::Malformed(reason) => Ok(Outcome::reject(RefusalKind::Malformed, reason)),
                })?);
            }
            Ok(out)
        })?;
        for ((o, ctx), kind) in out.iter().zip(&ctxs).zip(kinds) {
            let span = ctx.span("apply");
            let _g = span.enter();
            let m = &self.metrics;
            let result = match o {
                Outcome::Applied { version } => {
                    tracing::info!(%origin, kind, version, "replicated item applied");
                    "applied"
                }
                Outcome::Duplicate => {
                    tracing::debug!(%origin, kind, "replicated item already held");
                    "duplicate"
                }
                Outcome::Rejected { reason, kind: refusal } => {
                    let why = refusal.label();
                    tracing::info!(%origin, kind, reason = %reason, refusal = why, "replicated item refused");
                    m.inc("portalnet_replication_refusals_total", &[("peer", origin), ("reason", why)]);
                    "refused"
                }
            };
            m.inc(
                "portalnet_replication_items_received_total",
                &[("peer", origin), ("kind", kind), ("outcome", result)],
            );
        }
        Ok(out)
    }

    fn apply_event(
        &self,
        tx: &mut WriteTx<'_>,
        origin: &str,
        ev: InEvent,
        pre: &Precheck,
    ) -> PortalResult<Outcome> {
        let t = &self.tables;
        let me = self.portal_id().to_string();
        let what = format!("event {} of task {}#{}", ev.version, ev.home, ev.task);
        if ev.home != origin {
            return Ok(Outcome::reject(
                RefusalKind::Forbidden,
                format!("{what} came from {origin}: only a task's home portal sends its events"),
            ));
        }
        if ev.home == me {
            return Ok(Outcome::reject(RefusalKind::Malformed, format!("{what}: that task is homed here")));
        }
        if !pre.hash_ok {
            return Ok(Outcome::reject(
                RefusalKind::Malformed,
                format!("{what}: its hash does not match its body"),
            ));
        }
        if !pre.signed {
            return Ok(Outcome::reject(
                RefusalKind::Forbidden,
                format!("{what} is not signed by its home portal {}", ev.home),
            ));
        }
        // Stored as text: a body that is not UTF-8 (JSON readers skip unknown fields
        // without checking them) is refused alone, not failing the whole batch.
        if std::str::from_utf8(&ev.body).is_err() {
            return Ok(Outcome::reject(RefusalKind::Malformed, format!("{what}: its body is not UTF-8")));
        }
        let body = match EventBody::from_bytes(&ev.body) {
            Ok(b) => b,
            Err(e) => return Ok(Outcome::reject(RefusalKind::Malformed, format!("{what}: {e}"))),
        };
        if body.home != ev.home || body.task != ev.task || body.version != ev.version {
            return Ok(Outcome::reject(
                RefusalKind::Malformed,
                format!("{what}: its body names another task or version"),
            ));
        }
        let rkey = replica_key(&ev.home, ev.task);
        let local = t.replicas.tx_get(tx, &rkey)?;
        let held = match local {
            Some(id) => t.tasks.tx_get(tx, &id)?,
            None => None,
        };
        let (head, head_hash) = match &held {
            Some(task) => {
                let e = t.events.tx_get(tx, &(task.id, task.version))?;
                (task.version, e.map(|e| decode_hash(&e.hash)).transpose()?.unwrap_or(GENESIS))
            }
            None => (0, GENESIS),
        };
        match decide(head, &head_hash, ev.version, &ev.prev_hash) {
            Step::Apply => {}
            Step::Duplicate => {
                let id = held.as_ref().map_or(0, |h| h.id);
                let same =
                    t.events.tx_get(tx, &(id, ev.version))?.is_some_and(|e| e.hash == hex::encode(ev.hash));
                return Ok(if same {
                    Outcome::Duplicate
                } else {
                    Outcome::reject(
                        RefusalKind::Precondition,
                        format!("{what} conflicts with the history held here"),
                    )
                });
            }
            Step::Gap { from, to } => {
                return Ok(Outcome::reject(
                    RefusalKind::Precondition,
                    format!("{what}: versions {from}..={to} are missing here; send them first"),
                ));
            }
            Step::BrokenChain => {
                return Ok(Outcome::reject(
                    RefusalKind::Malformed,
                    format!("{what} does not link to version {head} held here (broken hash chain)"),
                ));
            }
        }
        let state = localize_task(&body.state, &me);
        let cited = self.cited_proposal(tx, &ev, &body)?;
        if let Some(why) = self.claims_about_us(tx, &body, held.as_ref(), &state, cited.as_ref(), pre)? {
            return Ok(Outcome::reject(RefusalKind::Forbidden, format!("{what}: {why}")));
        }
        let here_now = address::has_participant_of(&state, &me, &me);
        let here_before = held.as_ref().is_some_and(|h| address::has_participant_of(h, &me, &me));
        if !here_now && !here_before && !ev.catch_up {
            return Ok(Outcome::reject(
                RefusalKind::Forbidden,
                format!("{what}: portal {me} has no participant in that task"),
            ));
        }
        if let Some(f) = &body.file
            && (pre.file_sha.as_deref() != Some(f.sha256.as_str()) || ev.file_content.len() as u64 != f.size)
        {
            return Ok(Outcome::reject(
                RefusalKind::Malformed,
                format!("{what}: the file content does not match its SHA-256 and size"),
            ));
        }
        // Checked: write.
        let id = match local {
            Some(id) => id,
            None => tx.next_id("task")?,
        };
        let mut task = state;
        task.id = id;
        task.home = Some(TaskHome { portal: ev.home.clone(), task: ev.task });
        // Groups belong to the home portal; they mean nothing here.
        task.group = None;
        t.put_task(tx, &task)?;
        t.replicas.tx_put(tx, &rkey, &id)?;
        let entry = HistoryEntry {
            task_id: id,
            version: ev.version,
            at: body.at,
            actor: localize(&body.actor, &me),
            change: localize_change(&body.change, &me),
        };
        t.history.tx_put(tx, &(id, ev.version), &entry)?;
        if let Some(c) = &body.comment {
            let mut c = localize_comment(c, &me);
            c.task_id = id;
            t.comments.tx_put(tx, &(id, c.id), &c)?;
        }
        if let Some(f) = &body.file {
            // Stored by `Precheck` under the SHA-256 checked above.
            t.add_blob_ref(tx, &f.sha256, id, f.id);
        }
        // Our own proposal coming back applied: its maker acted, and
        // `claims_about_us` checked that the event does what it asked.
        if let Some(mut p) = cited
            && localize(&body.actor, &me) == p.actor
            && p.state == ProposalState::Pending
        {
            p.state = ProposalState::Applied { version: ev.version };
            t.put_proposal(tx, &p)?;
        }
        let stored = StoredEvent {
            home: ev.home.clone(),
            task: ev.task,
            version: ev.version,
            body: String::from_utf8(ev.body)
                .map_err(|_| PortalError::Internal("event body not UTF-8".into()))?,
            prev_hash: hex::encode(ev.prev_hash),
            hash: hex::encode(ev.hash),
            signature: hex::encode(&ev.signature),
            file_id: body.file.as_ref().map(|f| f.id),
            traceparent: crate::trace::current_header(),
        };
        t.events.tx_put(tx, &(id, ev.version), &stored)?;
        Ok(Outcome::Applied { version: ev.version })
    }

    /// What an event says about this portal's own people, checked against this
    /// portal's own state: the home speaks for its people, never for ours. Every
    /// person of ours it newly names must be an active employee (extranet users
    /// take part only in tasks of their groups here, R12, so they are never named
    /// from another portal); no person of ours is the task's creator; and a change
    /// or comment is attributed to a person of ours only when it is the proposal
    /// that person made here. `Some(why)` refuses the event.
    ///
    /// The reason names only what the home itself sent, and says the same for an
    /// unknown, dismissed or extranet login, so a peer learns nothing of who is here.
    fn claims_about_us(
        &self,
        tx: &WriteTx<'_>,
        body: &EventBody,
        held: Option<&task::Task>,
        state: &task::Task,
        cited: Option<&ProposalRecord>,
        pre: &Precheck,
    ) -> PortalResult<Option<String>> {
        let me = self.portal_id();
        let ours = |p: &str| !address::is_email(p) && address::split(p).1.is_none();
        if ours(&state.creator) {
            return Ok(Some(format!(
                "it names {}@{me} as the task's creator; a task's creator is a person of its home portal",
                state.creator
            )));
        }
        let before: Vec<&str> = held.map(|h| h.participants()).unwrap_or_default();
        for p in state.participants().into_iter().filter(|p| ours(p) && !before.contains(p)) {
            let fit = self
                .tables
                .users
                .tx_get(tx, &p.to_string())?
                .is_some_and(|u| u.is_active() && u.kind == UserKind::Employee);
            if !fit {
                return Ok(Some(format!(
                    "{p}@{me} cannot take part in a task of another portal: portal {me} has no active \
                     employee of that name (R12, R17)"
                )));
            }
        }
        let actor = localize(&body.actor, me);
        let event_file = body.file.as_ref().map(|f| (f.id, localize(&f.uploaded_by, me)));
        // The task's file list names uploaders too: a file of ours appears only as
        // the file this event adds, or as it was held before.
        let had = |id: u64, by: &str| {
            held.is_some_and(|h| h.files.iter().any(|f| f.id == id && f.uploaded_by == by))
        };
        let listed =
            state.files.iter().filter(|f| ours(&f.uploaded_by) && !had(f.id, &f.uploaded_by)).find(|f| {
                event_file
                    .as_ref()
                    .is_none_or(|(id, by)| (*id, by.as_str()) != (f.id, f.uploaded_by.as_str()))
            });
        if let Some(f) = listed {
            return Ok(Some(format!(
                "it names {}@{me} as the uploader of file {}, which that person did not add through \
                 this event; a portal speaks only for its own people",
                f.uploaded_by, f.id
            )));
        }
        let authors = std::iter::once(actor.as_str())
            .chain(body.comment.as_ref().map(|c| c.author.as_str()))
            .chain(body.file.as_ref().map(|f| f.uploaded_by.as_str()))
            .map(|a| localize(a, me))
            .filter(|a| ours(a))
            .collect::<Vec<_>>();
        if authors.is_empty() {
            return Ok(None);
        }
        // The proposal the event cites, made by that person for this task, still
        // waiting or applied as this very version, and asking for what the event does.
        let made_here = cited.filter(|p| {
            authors.iter().all(|a| *a == p.actor)
                && match p.state {
                    ProposalState::Pending => true,
                    ProposalState::Applied { version } => version == body.version,
                    ProposalState::Rejected { .. } => false,
                }
                && does_what_it_asked(&p.op, body, pre)
        });
        match made_here {
            Some(_) => Ok(None),
            None => Ok(Some(format!(
                "it attributes a change to {}@{me}, who made no such proposal here; a portal speaks \
                 only for its own people",
                authors[0]
            ))),
        }
    }

    /// The proposal of ours that an event says it applies, when it was made for
    /// that event's task.
    fn cited_proposal(
        &self,
        tx: &WriteTx<'_>,
        ev: &InEvent,
        body: &EventBody,
    ) -> PortalResult<Option<ProposalRecord>> {
        let Some(id) = cited_id(self.portal_id(), body) else { return Ok(None) };
        let p = self.tables.proposals.tx_get(tx, &id)?;
        Ok(p.filter(|p| p.home.portal == ev.home && p.home.task == ev.task))
    }

    /// SHA-256 of the file of the proposal of ours that a file event cites (read
    /// before the writer lock: a proposal's file never changes).
    fn cited_file_sha(&self, ev: &InEvent) -> PortalResult<Option<String>> {
        let Ok(body) = EventBody::from_bytes(&ev.body) else { return Ok(None) };
        let Some(id) = cited_id(self.portal_id(), &body) else { return Ok(None) };
        let Some(p) = self.tables.proposals.get(&id)? else { return Ok(None) };
        let ProposalOp::File { content_b64, .. } = &p.op else { return Ok(None) };
        Ok(base64::engine::general_purpose::STANDARD
            .decode(content_b64)
            .ok()
            .map(|bytes| hex::encode(Sha256::digest(bytes))))
    }

    /// Whether a proposal's sender may have it judged here at all: its task is
    /// homed here and has a participant of the sender. Read before the writer lock,
    /// to decide whether its file is worth storing; the write checks again.
    fn has_standing(&self, origin: &str, p: &InProposal) -> PortalResult<bool> {
        let me = self.portal_id();
        Ok(self
            .tables
            .tasks
            .get(&p.task)?
            .is_some_and(|t| t.home.is_none() && address::has_participant_of(&t, me, origin)))
    }

    fn apply_proposal(
        &self,
        tx: &mut WriteTx<'_>,
        origin: &str,
        p: InProposal,
        pre: &Precheck,
        blocked: &dyn Fn(&str) -> Option<String>,
        now: portalnet_core::Timestamp,
    ) -> PortalResult<Outcome> {
        let t = &self.tables;
        let key = proposal_key(origin, &p.id);
        if let Some(o) = t.proposal_outcomes.tx_get(tx, &key)? {
            return Ok(match o.rejected {
                None => Outcome::Applied { version: o.version },
                Some(reason) => Outcome::Rejected { reason, kind: o.kind },
            });
        }
        // Without standing the refusal is not recorded: a stranger's proposals
        // leave nothing here. A retry is judged again, which is safe because
        // nothing was applied.
        let task = match self.standing(tx, origin, &p) {
            Ok(task) => task,
            Err(e) => return Outcome::from_error(e),
        };
        let outcome = match self.judge_proposal(tx, origin, &p, task, pre, blocked, now) {
            Ok(version) => Outcome::Applied { version },
            Err(e) => Outcome::from_error(e)?,
        };
        let record = match &outcome {
            Outcome::Applied { version } => {
                ProposalOutcome { task: p.task, version: *version, rejected: None, kind: RefusalKind::Other }
            }
            Outcome::Rejected { reason, kind } => {
                ProposalOutcome { task: p.task, version: 0, rejected: Some(reason.clone()), kind: *kind }
            }
            Outcome::Duplicate => {
                ProposalOutcome { task: p.task, version: 0, rejected: None, kind: RefusalKind::Other }
            }
        };
        t.proposal_outcomes.tx_put(tx, &key, &record)?;
        Ok(outcome)
    }

    /// The task a proposal is for, when its sender may have it judged here: the
    /// actor is the sender's own person (an e-mail participant is nobody's), and
    /// the task is homed here with a participant of the sender. A missing task
    /// and one the sender has no part in get the same answer, so a peer cannot
    /// learn which tasks exist here.
    fn standing(&self, tx: &WriteTx<'_>, origin: &str, p: &InProposal) -> PortalResult<task::Task> {
        let me = self.portal_id();
        portalnet_federation::speaks_for(origin, &p.actor)
            .map_err(|e| PortalError::Domain(portalnet_core::Error::denied(e.to_string())))?;
        let not_found = || {
            PortalError::Domain(portalnet_core::Error::not_found(portalnet_core::error::text!(
                "error-task-not-found-on",
                task = p.task,
                portal = me
            )))
        };
        let task = self.tables.tasks.tx_get(tx, &p.task)?.ok_or_else(not_found)?;
        if task.home.is_some() || !address::has_participant_of(&task, me, origin) {
            return Err(not_found());
        }
        Ok(task)
    }

    /// Checks a proposal with standing against the task's current state and
    /// applies it; returns the version of the event it became. Every check comes
    /// before any write.
    #[allow(clippy::too_many_arguments)]
    fn judge_proposal(
        &self,
        tx: &mut WriteTx<'_>,
        origin: &str,
        p: &InProposal,
        mut task: task::Task,
        pre: &Precheck,
        blocked: &dyn Fn(&str) -> Option<String>,
        now: portalnet_core::Timestamp,
    ) -> PortalResult<u64> {
        let key: &str = &proposal_key(origin, &p.id);
        let me = self.portal_id().to_string();
        self.check_own_network()?;
        for portal in address::remote_portals(&task, &me) {
            if let Some(why) = blocked(&portal) {
                return Err(PortalError::Domain(portalnet_core::Error::precondition(why)));
            }
        }
        let before = task.clone();
        let actor = Actor { login: p.actor.clone(), admin: false, kind: UserKind::Employee };
        let rel = Relation::of(&actor, &task, false);
        let limits = self.limits();
        match &p.op {
            InOp::Status(to) => {
                let change = task::set_status(&mut task, rel, *to, now)?;
                let extra = Extra { proposal: Some(key), ..Extra::default() };
                self.record(tx, &task, &p.actor, change, Extra { before: Some(&before), ..extra }, now)?;
            }
            InOp::Comment(text) => {
                let cid = tx.next_id("comment")?;
                let (comment, change) = task::add_comment(&mut task, rel, &p.actor, text, cid, limits, now)?;
                self.tables.comments.tx_put(tx, &(task.id, cid), &comment)?;
                let extra = Extra { comment: Some(&comment), proposal: Some(key), ..Extra::default() };
                self.record(tx, &task, &p.actor, change, Extra { before: Some(&before), ..extra }, now)?;
            }
            InOp::File { name, content_type, content } => {
                let ct = if content_type.trim().is_empty() {
                    "application/octet-stream"
                } else {
                    content_type.trim()
                };
                check_file(name, ct, content.len() as u64, limits)?;
                let file_id = tx.next_id("file")?;
                let meta = FileMeta {
                    id: file_id,
                    name: name.trim().to_string(),
                    content_type: ct.to_string(),
                    size: content.len() as u64,
                    // Computed, and the blob stored, before the writer lock (`Precheck`).
                    // Stored before the writer lock when the proposal had standing
                    // then (`Precheck`); otherwise (it gained it since) here.
                    sha256: match &pre.file_sha {
                        Some(sha) if pre.stored => sha.clone(),
                        _ => self.tables.blobs.put(content)?.sha256,
                    },
                    uploaded_by: p.actor.clone(),
                    uploaded_at: now,
                };
                let change = task::attach_file(&mut task, rel, meta.clone(), limits, now)?;
                self.tables.add_blob_ref(tx, &meta.sha256, task.id, file_id);
                let extra = Extra { file: Some(&meta), proposal: Some(key), ..Extra::default() };
                self.record(tx, &task, &p.actor, change, Extra { before: Some(&before), ..extra }, now)?;
            }
        }
        Ok(task.version)
    }

    /// The refusals destinations sent for events of task `task` (homed here), oldest
    /// first. The caller has checked that the asker may see the task.
    pub fn delivery_refusals(&self, task: u64) -> PortalResult<Vec<DeliveryRefusal>> {
        let rows = self.tables.delivery_refusals.scan_raw(&task.to_be_bytes());
        rows.map(|kv| kv.map(|(_, r)| r).map_err(PortalError::from)).collect()
    }

    /// Sender side, after a destination answered: removes the delivered outbox
    /// entries and records the home's answer to each proposal, in one write.
    pub fn remove_outbox(
        &self,
        dest: &str,
        seqs: impl Iterator<Item = u64>,
        settled: &[(u64, Outcome)],
        refused: &[Refused],
    ) -> PortalResult<()> {
        let t = &self.tables;
        let now = self.now();
        self.write(|tx| {
            for r in refused {
                let seq = tx.next_id("delivery_refusal")?;
                let record = DeliveryRefusal {
                    portal: dest.to_string(),
                    version: r.version,
                    reason: r.reason.clone(),
                    at: now,
                };
                t.delivery_refusals.tx_put(tx, &(r.task, seq), &record)?;
            }
            for seq in seqs {
                t.remove_outbox(tx, dest, seq)?;
            }
            for (pid, outcome) in settled {
                let Some(mut p) = t.proposals.tx_get(tx, pid)? else { continue };
                p.state = match outcome {
                    Outcome::Applied { version } => ProposalState::Applied { version: *version },
                    Outcome::Rejected { reason, kind } => {
                        ProposalState::Rejected { reason: reason.clone(), kind: *kind }
                    }
                    Outcome::Duplicate => continue,
                };
                t.put_proposal(tx, &p)?;
            }
            Ok(())
        })
    }
}
