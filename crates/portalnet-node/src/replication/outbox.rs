//! Delivery of the replication outbox: one worker per destination portal sends its
//! entries in order, in batches, signed once per batch, and removes them only when
//! the destination answered for each (after its own durable write). A destination
//! that cannot be reached is retried with exponential backoff, jittered and capped
//! ([`ReplicationConfig::max_backoff`], 5 minutes by default): entries never expire,
//! so a peer that was away for a week gets everything, in order, when it returns.
//! `portalctl portal outbox retry PORTAL`, or any message from that portal, cuts the
//! wait short.

use super::peers::Peers;
use super::wire::{BATCH_BYTES, MAX_DELIVER_ITEMS, event_out, outcome_in, proposal_out};
use crate::directory::client::method;
use crate::grpc::error::{NodeError, NodeResult, from_status};
use crate::trace_context::TraceContext;
use crate::worker::{Backoff, Step, Worker};
use portalnet_core::Timestamp;
use portalnet_federation::Signer;
use portalnet_portal::{Outcome, Portal, Refused};
use portalnet_proto::v1::{self as pb, deliver_item::Kind};
use portalnet_store::portal_prefix;
use portalnet_store::replication::OutboxItem;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Debug, Clone)]
pub struct ReplicationConfig {
    /// The longest wait between two attempts to reach a portal.
    pub max_backoff: Duration,
    /// The first wait after a failure; doubles with each failure.
    pub min_backoff: Duration,
    /// At most [`MAX_DELIVER_ITEMS`], what receivers take.
    pub batch_items: usize,
    /// A batch stops growing past this many bytes (a single larger item goes alone).
    pub batch_bytes: usize,
}

impl Default for ReplicationConfig {
    fn default() -> Self {
        Self {
            max_backoff: Duration::from_secs(300),
            min_backoff: Duration::from_millis(500),
            batch_items: MAX_DELIVER_ITEMS,
            batch_bytes: BATCH_BYTES,
        }
    }
}

/// What the operator sees of one destination (`portalctl portal outbox`) beside
/// its worker's state (last error, failures, next try: the worker registry's).
#[derive(Debug, Clone, Default)]
pub struct PeerStatus {
    pub last_attempt_at: Option<Timestamp>,
    pub last_success_at: Option<Timestamp>,
    pub delivered: u64,
    /// Events the destination refused for a rule of its own.
    pub refused: u64,
    pub last_refusal: String,
    /// The destination refused a batch whole for good: the next one holds only
    /// the oldest entry, so that what it refuses is one entry, named.
    pub head_alone: bool,
}

/// Outbox entries to remove after a delivery (`seqs`), and what is sent: `items`,
/// with the proposal id of each (`None` for an event).
#[derive(Default)]
struct Batch {
    seqs: Vec<u64>,
    items: Vec<pb::DeliverItem>,
    proposals: Vec<Option<u64>>,
    /// For an event: (local task, version).
    events: Vec<Option<(u64, u64)>>,
    /// The trace each item continues.
    traces: Vec<TraceContext>,
}

/// Whether a whole-call answer says the request as sent can never pass (a limit,
/// a malformed envelope), rather than that the receiver cannot take it now.
fn refused_as_sent(code: tonic::Code) -> bool {
    matches!(code, tonic::Code::InvalidArgument | tonic::Code::OutOfRange)
}

/// One destination's outbox as the metrics show it.
pub struct OutboxGauge {
    pub peer: String,
    pub depth: u64,
    pub oldest_age_ms: i64,
    /// Proposals among the entries (made here, not yet answered by their home).
    pub proposals: u64,
}

fn worker_name(dest: &str) -> String {
    format!("outbox:{dest}")
}

/// How a destination's worker is woken.
struct Bell {
    bell: Notify,
    /// Set by an explicit retry: skip the rest of the backoff.
    force: AtomicBool,
}

/// One destination's delivery loop, a [`Worker`] run with the configured backoff.
struct OutboxWorker {
    replicator: Arc<Replicator>,
    dest: String,
    bell: Arc<Bell>,
}

impl Worker for OutboxWorker {
    fn name(&self) -> String {
        worker_name(&self.dest)
    }

    async fn work(&mut self) -> NodeResult<Step> {
        let (r, dest) = (&self.replicator, self.dest.as_str());
        // Reads events and their file bytes: off the async workers.
        let (me, d) = (r.clone(), dest.to_string());
        let batch = match crate::worker::off_workers(move || me.load_batch(&d)).await {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(%dest, error = %e, "cannot read the replication outbox");
                r.peers.forget(dest);
                return Err(e);
            }
        };
        if batch.seqs.is_empty() {
            return Ok(Step::Idle);
        }
        // A stopping node does not wait for a peer: what was not acknowledged
        // stays queued and goes out after the restart.
        let sent = tokio::select! {
            _ = r.shutdown.cancelled() => return Ok(Step::Idle),
            sent = r.send(dest, batch) => sent,
        };
        sent.map(|()| Step::Busy).inspect_err(|_| {
            r.portal
                .metrics
                .inc("portalnet_replication_deliveries_total", &[("peer", dest), ("result", "failed")]);
            // The peer's cached address goes too: it may have moved.
            r.peers.forget(dest);
        })
    }

    async fn wait_for_work(&mut self) {
        self.bell.bell.notified().await
    }

    async fn retry_now(&mut self) {
        loop {
            self.bell.bell.notified().await;
            if self.bell.force.swap(false, Ordering::SeqCst) {
                return;
            }
        }
    }
}

pub struct Replicator {
    pub portal: Arc<Portal>,
    pub peers: Arc<Peers>,
    /// Shared with blocking threads, where batches are signed.
    signer: Arc<Signer>,
    config: ReplicationConfig,
    status: Mutex<BTreeMap<String, PeerStatus>>,
    workers: Mutex<HashMap<String, Arc<Bell>>>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl Replicator {
    pub fn new(
        portal: Arc<Portal>,
        peers: Arc<Peers>,
        signer: Signer,
        mut config: ReplicationConfig,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        // A batch receivers would refuse whole could never be delivered.
        config.batch_items = config.batch_items.clamp(1, MAX_DELIVER_ITEMS);
        config.batch_bytes = config.batch_bytes.min(BATCH_BYTES);
        Arc::new(Self {
            portal,
            peers,
            signer: Arc::new(signer),
            config,
            status: Mutex::new(BTreeMap::new()),
            workers: Mutex::new(HashMap::new()),
            tracker: TaskTracker::new(),
            shutdown,
        })
    }

    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// Starts a worker for every destination with entries, then one for every
    /// destination a write marks. Returns when shut down, after its workers.
    pub async fn run(self: Arc<Self>) {
        for dest in self.destinations_with_entries() {
            self.wake(&dest, false);
        }
        self.announce();
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => break,
                _ = self.portal.fed.bell.notified() => {}
            }
            for dest in self.portal.fed.take() {
                self.wake(&dest, false);
            }
        }
        self.tracker.close();
        self.tracker.wait().await;
    }

    /// Wakes (or starts) the worker for `dest`; `force` skips its backoff.
    pub fn wake(self: &Arc<Self>, dest: &str, force: bool) {
        let Ok(mut workers) = self.workers.lock() else { return };
        let w = workers.entry(dest.to_string()).or_insert_with(|| {
            let bell = Arc::new(Bell { bell: Notify::new(), force: AtomicBool::new(false) });
            let worker =
                OutboxWorker { replicator: self.clone(), dest: dest.to_string(), bell: bell.clone() };
            let backoff = Backoff { min: self.config.min_backoff, max: self.config.max_backoff };
            let p = &self.portal;
            let run = crate::worker::run(
                worker,
                p.workers.clone(),
                p.clock.clone(),
                backoff,
                self.shutdown.clone(),
            );
            self.tracker.spawn(run);
            bell
        });
        if force {
            w.force.store(true, Ordering::SeqCst);
        }
        w.bell.notify_one();
    }

    /// Tells every portal this one knows that it is (back) up, so that what they
    /// queued for it while it was away is delivered now, not at their next
    /// backoff. Best effort: a portal that is away itself says hello when it is back.
    fn announce(self: &Arc<Self>) {
        let me = self.portal.portal_id().to_string();
        for dest in self.peers.known_ids().into_iter().filter(|d| *d != me) {
            let r = self.clone();
            self.tracker.spawn(async move {
                let signed = r.signer.sign(method::HELLO, &dest, r.portal.now(), &pb::Hello {});
                let call = async {
                    r.peers.client(&dest).await?.hello(signed).await?;
                    Ok::<(), tonic::Status>(())
                };
                tokio::select! {
                    _ = r.shutdown.cancelled() => {}
                    res = tokio::time::timeout(Duration::from_secs(15), call) => match res {
                        Ok(Ok(())) => tracing::debug!(%dest, "told the portal this one is back"),
                        Ok(Err(s)) => tracing::debug!(%dest, error = %s.message(), "hello not delivered"),
                        Err(_) => tracing::debug!(%dest, "hello timed out"),
                    },
                }
            });
        }
    }

    /// `portal` just called us: if delivery to it was failing, retry now, looking
    /// its address up afresh (it may have come back somewhere else).
    pub fn peer_is_back(self: &Arc<Self>, portal: &str) {
        let failing = self.portal.workers.get(&worker_name(portal)).is_some_and(|w| w.failures > 0);
        if failing {
            self.peers.forget(portal);
            self.wake(portal, true);
        }
    }

    fn destinations_with_entries(&self) -> Vec<String> {
        let tree = self.portal.tables.fed_outbox.tree();
        let mut out = Vec::new();
        let mut from: Vec<u8> = Vec::new();
        while let Some(Ok((k, _))) = tree.scan_from(&from).next() {
            let Some(end) = k.iter().position(|b| *b == 0) else { break };
            let dest = String::from_utf8_lossy(&k[..end]).into_owned();
            from = k[..end].to_vec();
            from.push(1);
            out.push(dest);
        }
        out
    }

    fn update(&self, dest: &str, f: impl FnOnce(&mut PeerStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(s.entry(dest.to_string()).or_default());
        }
    }

    /// Up to a batch of entries for `dest`, oldest first. An entry whose item is
    /// no longer stored is only removed.
    fn load_batch(&self, dest: &str) -> NodeResult<Batch> {
        let t = &self.portal.tables;
        let me = self.portal.portal_id();
        let mut batch = Batch::default();
        let mut bytes = 0usize;
        let alone = self.status.lock().ok().and_then(|s| s.get(dest).map(|s| s.head_alone)).unwrap_or(false);
        let max_items = if alone { 1 } else { self.config.batch_items };
        for kv in t.fed_outbox.scan_raw(&portal_prefix(dest)) {
            let ((_, seq), entry) = kv?;
            let stored_trace: Option<String>;
            let (kind, proposal, event) = match entry.item {
                OutboxItem::Event { task, version, catch_up } => {
                    let Some(e) = t.events.get(&(task, version))? else {
                        tracing::error!(
                            task,
                            version,
                            "outbox names an event that is not stored; skipping it"
                        );
                        batch.seqs.push(seq);
                        continue;
                    };
                    let content = match e.file_id {
                        Some(f) => self.portal.file_bytes(task, f)?,
                        None => Vec::new(),
                    };
                    stored_trace = e.traceparent.clone();
                    (Kind::Event(event_out(&e, content, catch_up)), None, Some((task, version)))
                }
                OutboxItem::Proposal { id } => {
                    let Some(p) = t.proposals.get(&id)? else {
                        batch.seqs.push(seq);
                        continue;
                    };
                    stored_trace = p.traceparent.clone();
                    (Kind::Proposal(proposal_out(&p, me).map_err(NodeError::Internal)?), Some(id), None)
                }
            };
            let trace =
                crate::trace_context::from_stored(entry.traceparent.as_deref().or(stored_trace.as_deref()));
            let item = pb::DeliverItem { kind: Some(kind), traceparent: trace.to_string() };
            let size = prost::Message::encoded_len(&item);
            if !batch.items.is_empty()
                && (bytes + size > self.config.batch_bytes || batch.items.len() >= max_items)
            {
                break;
            }
            bytes += size;
            batch.seqs.push(seq);
            batch.items.push(item);
            batch.proposals.push(proposal);
            batch.events.push(event);
            batch.traces.push(trace);
        }
        Ok(batch)
    }

    /// Sends a batch and records what the destination answered. An error means
    /// the destination was not reached (or storage failed): retried, never a refusal.
    async fn send(&self, dest: &str, batch: Batch) -> NodeResult<()> {
        // Never let a peer hold what this portal could still lose in a crash.
        self.portal.durable().await?;
        let now = self.portal.now();
        self.update(dest, |s| s.last_attempt_at = Some(now));
        let Batch { seqs, items, proposals, events, traces } = batch;
        let mut outcomes = Vec::new();
        if !items.is_empty() {
            let n = items.len();
            let head = match items.first().and_then(|i| i.kind.as_ref()) {
                Some(Kind::Event(e)) => format!("event {} of task {}", e.version, e.task),
                Some(Kind::Proposal(p)) => format!("proposal {} on task {}#{}", p.id, dest, p.task),
                None => "an empty entry".to_string(),
            };
            let debug = tracing::enabled!(tracing::Level::DEBUG);
            for (t, item) in traces.iter().zip(&items).filter(|_| debug) {
                let span = t.span("deliver");
                let _g = span.enter();
                let what = match &item.kind {
                    Some(Kind::Event(e)) => format!("event {} of task {}", e.version, e.task),
                    Some(Kind::Proposal(p)) => format!("proposal {} on task {}", p.id, p.task),
                    None => String::new(),
                };
                tracing::debug!(%dest, item = %what, "delivering");
            }
            // Encoding, hashing and signing up to 4 MiB: off the async workers.
            let (signer, to) = (self.signer.clone(), dest.to_string());
            let signed = crate::worker::off_workers(move || {
                Ok(signer.sign(method::DELIVER, &to, now, &pb::DeliverBatch { items }))
            })
            .await?;
            let mut client = self.peers.client(dest).await.map_err(|s| from_status(&s))?;
            // The call carries the first item's trace; each item carries its own.
            let call = traces.first().copied().unwrap_or_else(TraceContext::root);
            let reply = call
                .scope(client.deliver(signed))
                .await
                .map_err(|s| self.not_taken(dest, &s, n, &head))?
                .into_inner();
            if reply.results.len() != n {
                let got = reply.results.len();
                return Err(NodeError::Unavailable(format!("{dest} answered {got} results for {n} items")));
            }
            outcomes = reply.results.iter().map(outcome_in).collect();
        }
        let mut settled = Vec::new();
        let mut refused = Vec::new();
        let m = &self.portal.metrics;
        for ((proposal, event), outcome) in proposals.into_iter().zip(events).zip(outcomes) {
            match (proposal, event, outcome) {
                (Some(pid), _, o) => {
                    let outcome = if matches!(o, Outcome::Rejected { .. }) { "refused" } else { "applied" };
                    m.inc("portalnet_proposals_total", &[("outcome", outcome)]);
                    settled.push((pid, o))
                }
                (None, Some((task, version)), Outcome::Rejected { reason, .. }) => {
                    refused.push(Refused { task, version, reason })
                }
                _ => {}
            }
        }
        let (portal, to, done_seqs) = (self.portal.clone(), dest.to_string(), seqs.clone());
        let refused = crate::worker::off_workers(move || {
            portal.remove_outbox(&to, done_seqs.into_iter(), &settled, &refused).map(|()| refused)
        })
        .await?;
        for r in &refused {
            tracing::warn!(%dest, task = r.task, version = r.version, reason = %r.reason, "a replicated event was refused");
        }
        let done = seqs.len() as u64;
        m.inc("portalnet_replication_deliveries_total", &[("peer", dest), ("result", "ok")]);
        m.add("portalnet_replication_items_delivered_total", &[("peer", dest)], done);
        if !refused.is_empty() {
            m.add(
                "portalnet_replication_items_refused_by_peer_total",
                &[("peer", dest)],
                refused.len() as u64,
            );
        }
        let now = self.portal.now();
        self.update(dest, |s| {
            s.last_success_at = Some(now);
            s.head_alone = false;
            s.delivered += done;
            s.refused += refused.len() as u64;
            if let Some(r) = refused.last() {
                s.last_refusal = format!("task {} version {}: {}", r.task, r.version, r.reason);
            }
        });
        Ok(())
    }

    /// The error for a delivery `dest` answered with `s` as a whole (`n` items, the
    /// oldest `head`). Most such answers pass (the peer is away, restarting, not
    /// active yet). One saying the request itself is wrong never passes as sent,
    /// and the oldest entry holds back every later one: it is not dropped (a
    /// current receiver may take it, or a smaller batch), but retried alone with
    /// the backoff and reported as stuck (the worker's last error, the log).
    fn not_taken(&self, dest: &str, s: &tonic::Status, n: usize, head: &str) -> NodeError {
        let (code, message) = (s.code(), s.message());
        if !refused_as_sent(code) {
            return NodeError::Unavailable(format!("{dest} answered {code:?}: {message}"));
        }
        let next = if n > 1 {
            self.update(dest, |st| st.head_alone = true);
            "the next try sends it alone"
        } else {
            "it cannot pass until the operators of both portals resolve this (a current portald on both)"
        };
        let why = format!(
            "stuck: {dest} refuses delivery as sent ({code:?}: {message}); {head}, the oldest entry for it, \
             stays queued and holds back all later ones; {next}"
        );
        tracing::error!(%dest, entries = n, error = %why, "replication to a portal is stuck");
        NodeError::Unavailable(why)
    }

    /// Destinations with entries or a known status, in order.
    fn known_destinations(&self) -> Vec<String> {
        let mut dests: Vec<String> = self.destinations_with_entries();
        if let Ok(s) = self.status.lock() {
            dests.extend(s.keys().cloned());
        }
        dests.sort();
        dests.dedup();
        dests
    }

    /// Depth, age of the oldest entry and proposals waiting for `peer`: from the
    /// counters kept with the entries and the first entry, whatever the backlog.
    fn queue(&self, peer: String, now: Timestamp) -> Result<OutboxGauge, crate::NodeError> {
        let t = &self.portal.tables;
        let (depth, proposals) = t.outbox_depth(&peer)?;
        let oldest = match t.fed_outbox.scan_raw(&portal_prefix(&peer)).next() {
            Some(kv) => Some(kv?.1.enqueued_at),
            None => None,
        };
        let oldest_age_ms = oldest.map_or(0, |o: Timestamp| (now.0 - o.0).max(0));
        Ok(OutboxGauge { peer, depth, oldest_age_ms, proposals })
    }

    /// [`Self::queue`] of every destination with entries or a known status (for
    /// the metrics; a destination whose entries cannot be read is left out).
    pub fn gauges(&self) -> Vec<OutboxGauge> {
        let now = self.portal.now();
        self.known_destinations().into_iter().filter_map(|d| self.queue(d, now).ok()).collect()
    }

    /// One row per destination with entries or a known status.
    pub fn rows(&self) -> Result<Vec<pb::OutboxRow>, crate::NodeError> {
        let now = self.portal.now();
        let mut rows = Vec::new();
        for d in self.known_destinations() {
            let s = self.status.lock().ok().and_then(|s| s.get(&d).cloned()).unwrap_or_default();
            // Reaching the destination: its worker's state, the one `portal workers` shows.
            let w = self.portal.workers.get(&worker_name(&d)).unwrap_or_default();
            let q = self.queue(d, now)?;
            rows.push(pb::OutboxRow {
                portal_id: q.peer,
                depth: q.depth,
                oldest_age_ms: q.oldest_age_ms,
                last_error: w.last_error,
                last_attempt_at: s.last_attempt_at.map_or(0, |t| t.0),
                last_success_at: s.last_success_at.map_or(0, |t| t.0),
                failed_attempts: w.failures,
                next_attempt_at: w.next_try.map_or(0, |t| t.0),
                delivered: s.delivered,
                refused: s.refused,
                last_refusal: s.last_refusal,
            });
        }
        Ok(rows)
    }
}
