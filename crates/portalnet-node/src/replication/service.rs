//! The Replication gRPC service: what other portals send this one.

use super::Replicator;
use super::peers::{Blocked, Peers};
use super::wire::{event_out, item_in, outcome_out};
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

pub struct ReplicationSvc {
    pub replicator: Arc<Replicator>,
    pub verifier: Arc<Verifier>,
}

impl ReplicationSvc {
    fn portal(&self) -> &Arc<Portal> {
        &self.replicator.portal
    }

    /// Verifies the envelope with the origin's registered key (refreshing it once,
    /// in case the origin rotated) and decodes the payload. The signature check and
    /// the decoding run on a blocking thread, not on an async worker.
    async fn open<M: prost::Message + Default + Send + 'static>(
        &self,
        req: pb::Signed,
        method: &'static str,
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
            crate::grpc::blocking(move || verifier.decode_with_key::<M>(&req, method, &k, now))
        };
        let msg = match decode(key(&rec)?).await? {
            Err(SignError::BadSignature { .. }) => {
                peers.forget(&origin);
                rec = peers.record(&origin, Duration::ZERO).await?;
                decode(key(&rec)?).await?.map_err(sign_status)?.1
            }
            other => other.map_err(sign_status)?.1,
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

#[tonic::async_trait]
impl Replication for ReplicationSvc {
    async fn deliver(&self, req: Request<pb::Signed>) -> Result<Response<pb::DeliverResult>, Status> {
        let (origin, batch, rec) = self.open::<pb::DeliverBatch>(req.into_inner(), method::DELIVER).await?;
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
        if !gaps.is_empty() {
            let mut client = self.replicator.peers.client(&origin).await?;
            for g in gaps {
                let fetch = pb::FetchEventsRequest { task: g.task, from_version: g.from, to_version: g.to };
                let signed =
                    self.replicator.signer().sign(method::FETCH_EVENTS, &origin, portal.now(), &fetch);
                let got = match client.fetch_events(signed).await {
                    Ok(got) => got,
                    // The home says these versions do not exist for us: the events
                    // that need them are refused one by one (as gaps), the rest applies.
                    Err(s) if matches!(s.code(), tonic::Code::NotFound | tonic::Code::PermissionDenied) => {
                        continue;
                    }
                    // Anything else may pass: the sender retries the whole batch.
                    Err(s) => {
                        return Err(plain(ErrorKind::Unavailable, format!(
                            "versions {}..={} of task {origin}#{} are missing here and could not be fetched: {}",
                            g.from,
                            g.to,
                            g.task,
                            s.message()
                        )).into_status());
                    }
                };
                for e in got.into_inner().events {
                    let item = super::wire::event_in(e).map_or_else(InItem::Malformed, InItem::Event);
                    fetched.push(item);
                }
            }
        }

        let items = portalnet_portal::replica::with_fetched(items, fetched);

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
        let keys = Peers::keys(&rec);
        let (index, list): (Vec<Option<usize>>, Vec<InItem>) = items.into_iter().unzip();
        // Items without a trace of their own (and fetched ones) take the call's: the
        // blocking task below cannot see the call's task-local context.
        let call = crate::trace_context::current();
        let list = list
            .into_iter()
            .zip(&index)
            .map(|(item, i)| (item, i.and_then(|i| traces.get(i).copied().flatten()).or(call)))
            .collect();
        let (p2, o2) = (portal.clone(), origin.clone());
        // Checks, the write and the (shared) flush, off the async workers; the
        // sender hears back only once what it sent is durable here.
        let outcomes = crate::grpc::blocking(move || {
            let blocked_fn = |p: &str| blocked.get(p).cloned().flatten();
            p2.write_durably(|p| p.apply_batch_traced(&o2, list, &keys, &blocked_fn))
        })
        .await?
        .map_err(to_status)?;
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
            self.open::<pb::FetchEventsRequest>(req.into_inner(), method::FETCH_EVENTS).await?;
        self.accepting()?;
        let portal = self.portal();
        let me = portal.portal_id();
        let not_found =
            || plain(ErrorKind::NotFound, format!("task {} is not homed at {me}", body.task)).into_status();
        let task = portal.task(body.task).map_err(|_| not_found())?;
        if task.home.is_some() {
            return Err(not_found());
        }
        if !address::has_participant_of(&task, me, &origin) {
            return Err(plain(
                ErrorKind::PermissionDenied,
                format!(
                    "portal {origin} has no participant in task {}: it gets none of its history",
                    body.task
                ),
            )
            .into_status());
        }
        let to = if body.to_version == 0 { task.version } else { body.to_version.min(task.version) };
        let from = body.from_version.max(1);
        if to.saturating_sub(from) > 10_000 {
            return Err(
                plain(ErrorKind::InvalidArgument, "fetch at most 10,000 versions at a time").into_status()
            );
        }
        // Events and their file bytes: storage reads, off the async workers.
        let (p, id) = (portal.clone(), task.id);
        let events = crate::grpc::blocking(move || {
            let t = &p.tables;
            let mut events = Vec::new();
            for v in from..=to {
                let e = t
                    .events
                    .get(&(id, v))
                    .map_err(crate::NodeError::from)
                    .map_err(to_status)?
                    .ok_or_else(|| plain(ErrorKind::Internal, "history incomplete").into_status())?;
                let content = match e.file_id {
                    Some(f) => p.file_bytes(id, f).map_err(to_status)?,
                    None => Vec::new(),
                };
                events.push(event_out(&e, content, true));
            }
            Ok::<_, Status>(events)
        })
        .await??;
        self.replicator.peer_is_back(&origin);
        Ok(Response::new(pb::EventList { events }))
    }

    async fn hello(&self, req: Request<pb::Signed>) -> Result<Response<pb::HelloReply>, Status> {
        let (origin, _, _) = self.open::<pb::Hello>(req.into_inner(), method::HELLO).await?;
        tracing::info!(%origin, "portal is back; delivering what waits for it");
        self.replicator.peer_is_back(&origin);
        Ok(Response::new(pb::HelloReply {}))
    }
}
