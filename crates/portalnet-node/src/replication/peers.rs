//! Other portals as this one reaches them: their directory records (endpoint, keys,
//! TLS certificate, network setting), and a gRPC channel to each that pins the
//! certificate the portal registered in the directory.
//!
//! The directory's word is cached briefly in memory and kept durably in the
//! `peers` table, so that work between portals that already know each other goes
//! on while the directory cannot be reached: a record is refreshed from the
//! directory when it answers, and the last one it gave is used when it does not.
//! Only what truly needs the directory (a portal never seen, a new person) fails
//! then, and it fails as *temporary* (`Unavailable`, "try again later"): an outage
//! is never turned into a refusal.

use crate::directory::client::DirectoryClient;
use crate::grpc::error::{ErrorKind, IntoStatus, plain};
use crate::trace_context::{Propagate, Traced};
use ed25519_dalek::VerifyingKey;
use portalnet_core::{Clock, Timestamp};
use portalnet_federation::verifying_key_from_bytes;
use portalnet_proto::v1::{self as pb, replication_client::ReplicationClient};
use portalnet_store::replication::PeerRecord;
use portalnet_store::schema::Tables;
use portalnet_store::{Db, Table};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::Status;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

/// How long a directory record is trusted for routing and R14 checks while the
/// directory answers.
pub const RECORD_TTL: Duration = Duration::from_secs(5);

/// How long one look-up may wait for the directory before the known record is
/// used instead (a paused directory must not stall every change for 30 s).
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// After the directory failed to answer, known records are used without asking it
/// again for this long.
const DIRECTORY_RETRY: Duration = Duration::from_secs(5);

struct Cached {
    record: pb::PortalRecord,
    at: Instant,
    channel: Option<Channel>,
}

/// Why cross-portal work with a portal cannot go on now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// A rule says no (network off, not yet active, not registered): final.
    Rule(String),
    /// It could not be checked (the directory is unreachable and the portal is not
    /// known here yet): try again later.
    Unknown(String),
}

pub struct Peers {
    pub directory: Arc<DirectoryClient>,
    cache: Mutex<HashMap<String, Cached>>,
    /// What the directory last said of each portal, durably.
    known: Table<String, PeerRecord>,
    db: Db,
    clock: Arc<dyn Clock>,
    /// When the directory last failed to answer.
    directory_failed_at: Mutex<Option<Instant>>,
    /// R15 delay, applied to every portal (the Network's rule, shortened alike in
    /// development).
    activation_delay_ms: i64,
}

impl Peers {
    pub fn new(
        directory: Arc<DirectoryClient>,
        tables: &Tables,
        clock: Arc<dyn Clock>,
        activation_delay_ms: i64,
    ) -> Self {
        Self {
            directory,
            cache: Mutex::new(HashMap::new()),
            known: tables.peers.clone(),
            db: tables.db.clone(),
            clock,
            directory_failed_at: Mutex::new(None),
            activation_delay_ms,
        }
    }

    /// The record of `portal`: from memory when at most `max_age` old, else from
    /// the directory, else (the directory unreachable) the last one it gave.
    /// NotFound when the directory says the portal is not registered; Unavailable
    /// when it cannot be asked and the portal is not known here.
    pub async fn record(&self, portal: &str, max_age: Duration) -> Result<pb::PortalRecord, Status> {
        if let Some(c) = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(portal).filter(|c| c.at.elapsed() <= max_age).map(|c| c.record.clone()))
        {
            return Ok(c);
        }
        let recently_failed = self
            .directory_failed_at
            .lock()
            .ok()
            .and_then(|f| *f)
            .is_some_and(|at| at.elapsed() < DIRECTORY_RETRY);
        if recently_failed && let Some(rec) = self.last_known(portal) {
            return Ok(rec);
        }
        let asked = tokio::time::timeout(LOOKUP_TIMEOUT, self.directory.lookup_portal(portal)).await;
        let failure = match asked {
            Ok(Ok(rec)) => {
                if let Ok(mut f) = self.directory_failed_at.lock() {
                    *f = None;
                }
                self.remember(portal, &rec);
                return Ok(rec);
            }
            Ok(Err(s)) if s.code() == tonic::Code::NotFound => {
                let why = format!("portal {portal} is not registered in the Network directory");
                return Err(plain(ErrorKind::NotFound, why).into_status());
            }
            Ok(Err(s)) => s.message().to_string(),
            Err(_) => format!("no answer within {} s", LOOKUP_TIMEOUT.as_secs()),
        };
        if let Ok(mut f) = self.directory_failed_at.lock() {
            *f = Some(Instant::now());
        }
        match self.last_known(portal) {
            Some(rec) => {
                tracing::warn!(%portal, error = %failure, "directory unreachable; using the portal's known record");
                Ok(rec)
            }
            None => Err(plain(
                ErrorKind::Unavailable,
                format!(
                    "portal {portal} is not known here yet and the Network directory at {} cannot be \
                 reached ({failure}); try again later",
                    self.directory.link.endpoint
                ),
            )
            .into_status()),
        }
    }

    /// The newest record held of `portal`, however old: memory first, then disk.
    fn last_known(&self, portal: &str) -> Option<pb::PortalRecord> {
        if let Some(rec) = self.cache.lock().ok().and_then(|c| c.get(portal).map(|c| c.record.clone())) {
            return Some(rec);
        }
        match self.known.get(&portal.to_string()) {
            Ok(found) => found.map(|p| record_of(&p)),
            Err(e) => {
                tracing::error!(%portal, error = %e, "cannot read the known peers");
                None
            }
        }
    }

    /// Caches `rec`, and stores it durably when it says something new.
    fn remember(&self, portal: &str, rec: &pb::PortalRecord) {
        if let Ok(mut c) = self.cache.lock() {
            // Keep the channel while the portal is reached the same way.
            let channel = c
                .remove(portal)
                .filter(|old| {
                    old.record.endpoint == rec.endpoint && old.record.tls_certificate == rec.tls_certificate
                })
                .and_then(|old| old.channel);
            c.insert(portal.to_string(), Cached { record: rec.clone(), at: Instant::now(), channel });
        }
        let new = peer_of(rec, self.clock.now());
        let key = portal.to_string();
        let stored = self.known.get(&key).ok().flatten();
        if stored.is_some_and(|old| PeerRecord { fetched_at: new.fetched_at, ..old } == new) {
            return;
        }
        // Not flushed here: the next durable write of this portal carries it, and a
        // record lost in a crash is only asked of the directory again.
        let written = self.db.write(|tx| self.known.tx_put(tx, &key, &new));
        if let Err(e) = written {
            tracing::error!(%portal, error = %e, "cannot store the portal's record");
        }
    }

    /// Every portal this one has a record of (to tell them it is back).
    pub fn known_ids(&self) -> Vec<String> {
        self.known.iter().filter_map(|kv| kv.ok().map(|(k, _)| k)).collect()
    }

    /// Forgets what is cached in memory of `portal` (after a failed call: it may
    /// have moved); the stored record stays for when the directory is away.
    pub fn forget(&self, portal: &str) {
        if let Ok(mut c) = self.cache.lock() {
            c.remove(portal);
        }
    }

    /// The portal's keys, current first, then older ones (history they signed
    /// stays valid).
    pub fn keys(rec: &pb::PortalRecord) -> Vec<VerifyingKey> {
        std::iter::once(&rec.public_key)
            .chain(rec.previous_keys.iter().rev())
            .filter_map(|k| verifying_key_from_bytes(k).ok())
            .collect()
    }

    /// A client for `portal`'s replication service.
    pub async fn client(&self, portal: &str) -> Result<ReplicationClient<Traced>, Status> {
        let rec = self.record(portal, Duration::from_secs(60)).await?;
        if let Some(ch) = self.cache.lock().ok().and_then(|c| c.get(portal).and_then(|c| c.channel.clone())) {
            return Ok(ReplicationClient::with_interceptor(ch, Propagate)
                .max_decoding_message_size(MAX_REPLICATION_MESSAGE));
        }
        if rec.tls_certificate.is_empty() {
            let why = format!(
                "portal {portal} registered no TLS certificate in the directory; it must run a current portald"
            );
            return Err(plain(ErrorKind::FailedPrecondition, why).into_status());
        }
        let channel = Endpoint::from_shared(rec.endpoint.clone())
            .map_err(|e| {
                plain(ErrorKind::FailedPrecondition, format!("portal {portal} has a bad endpoint: {e}"))
                    .into_status()
            })?
            .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&rec.tls_certificate)))
            .map_err(|e| {
                let why = format!("portal {portal}'s certificate is not usable: {e}");
                plain(ErrorKind::FailedPrecondition, why).into_status()
            })?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .connect_lazy();
        if let Ok(mut c) = self.cache.lock() {
            let entry = c.entry(portal.to_string()).or_insert_with(|| Cached {
                record: rec.clone(),
                // Known but not fresh: the next look-up asks the directory again.
                at: Instant::now().checked_sub(RECORD_TTL).unwrap_or_else(Instant::now),
                channel: None,
            });
            entry.channel = Some(channel.clone());
        }
        Ok(ReplicationClient::with_interceptor(channel, Propagate)
            .max_decoding_message_size(MAX_REPLICATION_MESSAGE))
    }

    /// Whether cross-portal work with `portal` is possible now (R13–R15): `None`
    /// when it is, else why not, telling a rule's refusal from a failed check.
    pub async fn blocked(&self, portal: &str, now: Timestamp) -> Option<Blocked> {
        match self.record(portal, RECORD_TTL).await {
            Err(s) if s.code() == tonic::Code::NotFound => Some(Blocked::Rule(s.message().to_string())),
            Err(s) => Some(Blocked::Unknown(s.message().to_string())),
            Ok(rec) => self.blocked_by(&rec, now).map(Blocked::Rule),
        }
    }

    fn blocked_by(&self, rec: &pb::PortalRecord, now: Timestamp) -> Option<String> {
        let portal = &rec.portal_id;
        if !rec.network_enabled {
            return Some(format!("network communication is off on portal {portal} (R13)"));
        }
        let from = Timestamp(rec.network_enabled_since.saturating_add(self.activation_delay_ms));
        (now < from).then(|| {
            format!(
                "portal {portal} switched network communication on at {}; tasks with its people are \
                 possible from {} (R15)",
                Timestamp(rec.network_enabled_since).to_utc_string(),
                from.to_utc_string()
            )
        })
    }

    /// Checks that every `login@portal` in `addresses` is a published person of a
    /// portal whose network is on and active (R14, R16).
    pub async fn check_people(&self, addresses: &[String], now: Timestamp) -> Result<(), Status> {
        let mut portals: Vec<&str> =
            addresses.iter().filter_map(|a| a.split_once('@').map(|x| x.1)).collect();
        portals.sort_unstable();
        portals.dedup();
        for p in portals {
            if let Some(why) = self.blocked(p, now).await {
                return Err(why.into_status());
            }
        }
        for chunk in addresses.chunks(100) {
            let found = self
                .directory
                .lookup_addresses(chunk.to_vec(), now)
                .await
                .map_err(|s| crate::directory::client::directory_error(&self.directory.link, s))?;
            for a in chunk {
                if !found.people.iter().any(|p| &p.address == a) {
                    let portal = a.split_once('@').map_or("", |x| x.1);
                    return Err(plain(
                        ErrorKind::NotFound,
                        format!(
                            "`{a}` is not a person published by portal {portal} in the Network directory; \
                         find people with `portalctl network search NAME` (R16)"
                        ),
                    )
                    .into_status());
                }
            }
        }
        Ok(())
    }
}

/// What the portal's cross-portal rules ask of the Network, answered from the
/// directory (and the records kept of it).
impl portalnet_portal::Network for Peers {
    async fn blocked(&self, portal: &str, now: Timestamp) -> Option<crate::NodeError> {
        Peers::blocked(self, portal, now).await.map(|b| match b {
            Blocked::Rule(why) => plain(ErrorKind::FailedPrecondition, why),
            Blocked::Unknown(why) => plain(ErrorKind::Unavailable, why),
        })
    }

    async fn check_people(&self, people: &[String], now: Timestamp) -> crate::NodeResult<()> {
        Peers::check_people(self, people, now).await.map_err(|s| crate::grpc::error::from_status(&s))
    }
}

impl Blocked {
    /// The refusal a caller gets: FailedPrecondition for a rule, Unavailable (try
    /// again) for a check that could not be made.
    pub fn into_status(self) -> Status {
        match self {
            Blocked::Rule(why) => plain(ErrorKind::FailedPrecondition, why).into_status(),
            Blocked::Unknown(why) => plain(ErrorKind::Unavailable, why).into_status(),
        }
    }
}

fn peer_of(rec: &pb::PortalRecord, now: Timestamp) -> PeerRecord {
    PeerRecord {
        portal_id: rec.portal_id.clone(),
        endpoint: rec.endpoint.clone(),
        public_key: hex::encode(&rec.public_key),
        previous_keys: rec.previous_keys.iter().map(hex::encode).collect(),
        network_enabled: rec.network_enabled,
        network_enabled_since: rec.network_enabled_since,
        tls_certificate: rec.tls_certificate.clone(),
        fetched_at: now,
    }
}

fn record_of(p: &PeerRecord) -> pb::PortalRecord {
    pb::PortalRecord {
        portal_id: p.portal_id.clone(),
        endpoint: p.endpoint.clone(),
        public_key: hex::decode(&p.public_key).unwrap_or_default(),
        network_enabled: p.network_enabled,
        network_enabled_since: p.network_enabled_since,
        registered_at: 0,
        previous_keys: p.previous_keys.iter().filter_map(|k| hex::decode(k).ok()).collect(),
        tls_certificate: p.tls_certificate.clone(),
    }
}

/// The transport limit of Replication calls, both ways: a signed request as large
/// as any receiver's envelope check admits (one item carrying the largest file), and
/// an `EventList` answer, which FetchEvents keeps to one such event or
/// [`BATCH_BYTES`](super::wire::BATCH_BYTES).
pub const MAX_REPLICATION_MESSAGE: usize = portalnet_federation::MAX_SIGNED_LEN;
