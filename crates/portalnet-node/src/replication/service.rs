//! The Replication gRPC service: what other portals send this one.

use super::Replicator;
use super::peers::{Blocked, Peers};
use super::wire::{
    BATCH_BYTES, MAX_DELIVER_ITEMS, MAX_FETCH_SPAN, count_items, event_out, item_in, outcome_out,
};
use crate::directory::client::method;
use crate::grpc::error::sign_status;
use crate::grpc::error::to_status;
use crate::grpc::error::{ErrorKind, IntoStatus, plain};
use crate::trace_context::TraceContext;
use portalnet_core::address;
use portalnet_federation::{SignError, Verifier};
use portalnet_portal::{InItem, Portal};
use portalnet_proto::v1::{self as pb, replication_server::Replication};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tonic::{Request, Response, Status};

/// Most bytes of events one Deliver call fetches from the home to fill gaps. Past
/// it the call applies what it fetched and fails as temporary, so a long gap is
/// filled over several tries instead of in one unbounded allocation.
pub const MAX_FETCHED_BYTES: usize = 64 * 1024 * 1024;

/// Why a request was not opened: its envelope, or a limit of the call itself.
enum Unopened {
    Sign(SignError),
    Limit(String),
}

/// A Deliver batch over [`MAX_DELIVER_ITEMS`] is refused whole, before its items
/// are decoded; an undecodable payload is left to the decoding, which says why.
fn deliver_limit(payload: &[u8]) -> Result<(), String> {
    match count_items(payload, MAX_DELIVER_ITEMS) {
        Ok(n) if n > MAX_DELIVER_ITEMS => Err(format!(
            "a Deliver batch holds at most {MAX_DELIVER_ITEMS} items and this one holds more; \
             send them in smaller batches"
        )),
        _ => Ok(()),
    }
}

fn no_limit(_: &[u8]) -> Result<(), String> {
    Ok(())
}

pub struct ReplicationSvc {
    pub replicator: Arc<Replicator>,
    pub verifier: Arc<Verifier>,
}

impl ReplicationSvc {
    fn portal(&self) -> &Arc<Portal> {
        &self.replicator.portal
    }

    /// Verifies the envelope with the origin's registered key (refreshing it once,
    /// in case the origin rotated), checks the call's own `limit` on the payload
    /// and decodes it. The signature check and the decoding run on a blocking
    /// thread, not on an async worker.
    async fn open<M: prost::Message + Default + Send + 'static>(
        &self,
        req: pb::Signed,
        method: &'static str,
        limit: fn(&[u8]) -> Result<(), String>,
    ) -> Result<(String, M, pb::PortalRecord), Status> {
        let origin = portalnet_core::validate::portal_id(&req.origin)
            .map_err(|e| plain(ErrorKind::InvalidArgument, format!("origin: {e}")).into_status())?;
        let peers = &self.replicator.peers;
        let now = self.portal().now();
        let mut rec = peers.record(&origin, Duration::from_secs(60)).await?;
        let key = |rec: &pb::PortalRecord| {
            portalnet_federation::verifying_key_from_bytes(&rec.public_key).map_err(sign_status)
        };
        let req = Arc::new(req);
        let decode = |k| {
            let (verifier, req) = (self.verifier.clone(), req.clone());
            crate::grpc::blocking(move || {
                let v = verifier.verify_with_key(&req, method, &k, now).map_err(Unopened::Sign)?;
                limit(v.payload).map_err(Unopened::Limit)?;
                v.decode::<M>().map_err(Unopened::Sign)
            })
        };
        let opened = |r: Result<M, Unopened>| {
            r.map_err(|e| match e {
                Unopened::Sign(e) => sign_status(e),
                Unopened::Limit(why) => plain(ErrorKind::InvalidArgument, why).into_status(),
            })
        };
        let msg = match decode(key(&rec)?).await? {
            Err(Unopened::Sign(SignError::BadSignature { .. })) => {
                peers.forget(&origin);
                rec = peers.record(&origin, Duration::ZERO).await?;
                opened(decode(key(&rec)?).await?)?
            }
            other => opened(other)?,
        };
        Ok((origin, msg, rec))
    }

    /// R13–R15 about the sender, on the receiving side, as the directory recorded
    /// them (not as the sender claims): work from a portal whose network is off or
    /// not yet active is refused whole and stays queued at the sender; when that
    /// cannot be checked, the sender is told to try again later.
    async fn sender_active(&self, origin: &str) -> Result<(), Status> {
        match self.replicator.peers.blocked(origin, self.portal().now()).await {
            None => Ok(()),
            Some(Blocked::Rule(why)) => Err(plain(
                ErrorKind::FailedPrecondition,
                format!(
                    "{why}; portal {} takes no cross-portal work from it until then",
                    self.portal().portal_id()
                ),
            )
            .into_status()),
            Some(b @ Blocked::Unknown(_)) => Err(b.into_status()),
        }
    }

    /// R13–R15 on the receiving side: this portal takes cross-portal work only
    /// while its own network communication is on and active.
    fn accepting(&self) -> Result<(), Status> {
        self.portal().check_own_network().map_err(|e| {
            let why = format!("{}; it accepts no cross-portal work now", to_status(e).message());
            plain(ErrorKind::FailedPrecondition, why).into_status()
        })
    }
}

impl ReplicationSvc {
    /// Applies `items` (each with its index in the batch; fetched ones `None`) from
    /// `origin` in one durable write, off the async workers; the outcomes in order.
    async fn apply(
        &self,
        portal: &Arc<Portal>,
        origin: &str,
        rec: &pb::PortalRecord,
        items: Vec<(Option<usize>, InItem)>,
        traces: &[Option<TraceContext>],
    ) -> Result<(Vec<Option<usize>>, Vec<portalnet_portal::Outcome>), Status> {
        // R14 for proposals: every portal of the task must still be active. A
        // portal that cannot be checked now fails the whole batch as temporary:
        // the sender retries it, and no proposal is refused for an outage.
        let mut blocked: HashMap<String, Option<String>> = HashMap::new();
        for (_, item) in &items {
            let InItem::Proposal(p) = item else { continue };
            let Ok(task) = portal.task(p.task) else { continue };
            for other in address::remote_portals(&task, portal.portal_id()) {
                if let std::collections::hash_map::Entry::Vacant(slot) = blocked.entry(other) {
                    let why = match self.replicator.peers.blocked(slot.key(), portal.now()).await {
                        None => None,
                        Some(Blocked::Rule(why)) => Some(why),
                        Some(b @ Blocked::Unknown(_)) => return Err(b.into_status()),
                    };
                    slot.insert(why);
                }
            }
        }
        let keys = Peers::keys(rec);
        let (index, list): (Vec<Option<usize>>, Vec<InItem>) = items.into_iter().unzip();
        // Items without a trace of their own (and fetched ones) take the call's: the
        // blocking task below cannot see the call's task-local context.
        let call = crate::trace_context::current();
        let list = list
            .into_iter()
            .zip(&index)
            .map(|(item, i)| (item, i.and_then(|i| traces.get(i).copied().flatten()).or(call)))
            .collect();
        let (p2, o2) = (portal.clone(), origin.to_string());
        // Checks, the write and the (shared) flush, off the async workers; the
        // sender hears back only once what it sent is durable here.
        let outcomes = crate::grpc::blocking(move || {
            let blocked_fn = |p: &str| blocked.get(p).cloned().flatten();
            p2.write_durably(|p| p.apply_batch_traced(&o2, list, &keys, &blocked_fn))
        })
        .await?
        .map_err(to_status)?;
        Ok((index, outcomes))
    }
}

#[tonic::async_trait]
impl Replication for ReplicationSvc {
    async fn deliver(&self, req: Request<pb::Signed>) -> Result<Response<pb::DeliverResult>, Status> {
        let (origin, batch, rec) =
            self.open::<pb::DeliverBatch>(req.into_inner(), method::DELIVER, deliver_limit).await?;
        self.accepting()?;
        self.sender_active(&origin).await?;
        let portal = self.portal().clone();
        let n = batch.items.len();
        let traces: Vec<Option<TraceContext>> =
            batch.items.iter().map(|i| TraceContext::parse(&i.traceparent)).collect();
        let items: Vec<(Option<usize>, InItem)> =
            batch.items.into_iter().map(item_in).enumerate().map(|(i, it)| (Some(i), it)).collect();

        // Fill gaps from the home (the origin) before applying.
        let gaps = portal.gaps(&origin, items.iter().map(|(_, i)| i)).map_err(to_status)?;
        let mut fetched = Vec::new();
        let mut fetched_bytes = 0usize;
        let mut cut_short = false;
        if !gaps.is_empty() {
            let mut client = self.replicator.peers.client(&origin).await?;
            'gaps: for g in gaps {
                // The home answers in parts (by bytes and by versions): ask again
                // from the first version it left out.
                let mut from = g.from;
                while from <= g.to {
                    if fetched_bytes >= MAX_FETCHED_BYTES {
                        cut_short = true;
                        break 'gaps;
                    }
                    let to = g.to.min(from.saturating_add(MAX_FETCH_SPAN));
                    let fetch = pb::FetchEventsRequest { task: g.task, from_version: from, to_version: to };
                    let signed =
                        self.replicator.signer().sign(method::FETCH_EVENTS, &origin, portal.now(), &fetch);
                    let got = match client.fetch_events(signed).await {
                        Ok(got) => got.into_inner().events,
                        // The home says these versions do not exist for us: the events
                        // that need them are refused one by one (as gaps), the rest applies.
                        Err(s)
                            if matches!(s.code(), tonic::Code::NotFound | tonic::Code::PermissionDenied) =>
                        {
                            continue 'gaps;
                        }
                        // Anything else may pass: the sender retries the whole batch.
                        Err(s) => {
                            return Err(plain(ErrorKind::Unavailable, format!(
                                "versions {from}..={to} of task {origin}#{} are missing here and could not be fetched: {}",
                                g.task,
                                s.message()
                            )).into_status());
                        }
                    };
                    let last = got.iter().map(|e| e.version).max();
                    for e in got {
                        fetched_bytes = fetched_bytes.saturating_add(prost::Message::encoded_len(&e));
                        fetched.push(super::wire::event_in(e).map_or_else(InItem::Malformed, InItem::Event));
                    }
                    // An answer that does not move on ends this gap: what is still
                    // missing is refused as a gap, as when the home has nothing.
                    match last {
                        Some(last) if last >= from && last < g.to => from = last + 1,
                        _ => break,
                    }
                }
            }
        }

        // Past the fetch budget only what was fetched is applied (in version
        // order): the batch's own items wait for the sender's next try, when the
        // gaps left are smaller.
        let (index, outcomes) = if cut_short {
            let fetched = portalnet_portal::replica::with_fetched(Vec::new(), fetched);
            let (_, outcomes) = self.apply(&portal, &origin, &rec, fetched, &traces).await?;
            if outcomes.iter().any(|o| matches!(o, portalnet_portal::Outcome::Applied { .. })) {
                return Err(plain(
                    ErrorKind::Unavailable,
                    format!(
                        "{fetched_bytes} bytes of history missing here were fetched from {origin} and \
                         applied; the rest follows on the next try"
                    ),
                )
                .into_status());
            }
            // Nothing fetched could be applied (refused here): trying again would
            // fetch the same. The batch's own items are answered now, their events
            // refused as gaps, as when the home has nothing to send.
            self.apply(&portal, &origin, &rec, items, &traces).await?
        } else {
            let items = portalnet_portal::replica::with_fetched(items, fetched);
            self.apply(&portal, &origin, &rec, items, &traces).await?
        };
        let mut results = vec![pb::ItemResult::default(); n];
        for (i, o) in index.into_iter().zip(outcomes.iter()) {
            if let Some(i) = i {
                results[i] = outcome_out(o);
            }
        }
        // A portal that talks to us is reachable again: deliver what waits for it now.
        self.replicator.peer_is_back(&origin);
        Ok(Response::new(pb::DeliverResult { results }))
    }

    async fn fetch_events(&self, req: Request<pb::Signed>) -> Result<Response<pb::EventList>, Status> {
        let (origin, body, _) =
            self.open::<pb::FetchEventsRequest>(req.into_inner(), method::FETCH_EVENTS, no_limit).await?;
        self.accepting()?;
        // History is cross-portal traffic too: none for a portal whose network is off.
        self.sender_active(&origin).await?;
        let portal = self.portal();
        let me = portal.portal_id();
        // One answer for a task that is not here and for one the caller has no
        // part in, so that no portal learns which task ids exist here.
        let not_found = || {
            let why = format!("task {} is not homed at {me} with a participant of {origin}", body.task);
            plain(ErrorKind::NotFound, why).into_status()
        };
        let task = match portal.task(body.task) {
            Ok(task) => task,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(not_found()),
            Err(e) => return Err(to_status(e)),
        };
        if task.home.is_some() || !address::has_participant_of(&task, me, &origin) {
            return Err(not_found());
        }
        let to = if body.to_version == 0 { task.version } else { body.to_version.min(task.version) };
        let from = body.from_version.max(1);
        if to.saturating_sub(from) > MAX_FETCH_SPAN {
            return Err(
                plain(ErrorKind::InvalidArgument, "fetch at most 10,000 versions at a time").into_status()
            );
        }
        // Events and their file bytes: storage reads, off the async workers. The
        // answer stops at a byte budget (one larger event goes alone), so that it
        // never holds more than one large file; the caller asks again from the
        // first version left out.
        let (p, id) = (portal.clone(), task.id);
        let sizes: Vec<(u64, u64)> = task.files.iter().map(|f| (f.id, f.size)).collect();
        let events = crate::grpc::blocking(move || {
            let t = &p.tables;
            let mut events = Vec::new();
            let mut bytes = 0usize;
            for v in from..=to {
                let e = t
                    .events
                    .get(&(id, v))
                    .map_err(crate::NodeError::from)
                    .map_err(to_status)?
                    .ok_or_else(|| plain(ErrorKind::Internal, "history incomplete").into_status())?;
                // A file that cannot fit this answer is not read for it.
                let file_size =
                    e.file_id.and_then(|f| sizes.iter().find(|(id, _)| *id == f)).map(|(_, s)| *s);
                let file_size = usize::try_from(file_size.unwrap_or(0)).unwrap_or(usize::MAX);
                if !events.is_empty() && bytes.saturating_add(file_size) > BATCH_BYTES {
                    break;
                }
                let content = match e.file_id {
                    Some(f) => p.file_bytes(id, f).map_err(to_status)?,
                    None => Vec::new(),
                };
                let event = event_out(&e, content, true);
                let size = prost::Message::encoded_len(&event);
                if !events.is_empty() && bytes.saturating_add(size) > BATCH_BYTES {
                    break;
                }
                bytes = bytes.saturating_add(size);
                events.push(event);
            }
            Ok::<_, Status>(events)
        })
        .await??;
        self.replicator.peer_is_back(&origin);
        Ok(Response::new(pb::EventList { events }))
    }

    async fn hello(&self, req: Request<pb::Signed>) -> Result<Response<pb::HelloReply>, Status> {
        let (origin, _, _) = self.open::<pb::Hello>(req.into_inner(), method::HELLO, no_limit).await?;
        tracing::info!(%origin, "portal is back; delivering what waits for it");
        self.replicator.peer_is_back(&origin);
        Ok(Response::new(pb::HelloReply {}))
    }
}
