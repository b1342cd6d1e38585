//! Other portals as this one reaches them: their directory records (endpoint, keys,
//! TLS certificate, network setting), cached briefly, and a gRPC channel to each
//! that pins the certificate the portal registered in the directory.

use crate::network::DirectoryClient;
use ed25519_dalek::VerifyingKey;
use portalnet_core::Timestamp;
use portalnet_federation::verifying_key_from_bytes;
use portalnet_proto::v1::{self as pb, replication_client::ReplicationClient};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::Status;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

/// How long a directory record is trusted for routing and R14 checks.
pub const RECORD_TTL: Duration = Duration::from_secs(5);

struct Cached {
    record: pb::PortalRecord,
    at: Instant,
    channel: Option<Channel>,
}

pub struct Peers {
    pub directory: Arc<DirectoryClient>,
    cache: Mutex<HashMap<String, Cached>>,
    /// R15 delay, applied to every portal (the Network's rule, shortened alike in
    /// development).
    activation_delay_ms: i64,
}

impl Peers {
    pub fn new(directory: Arc<DirectoryClient>, activation_delay_ms: i64) -> Self {
        Self { directory, cache: Mutex::new(HashMap::new()), activation_delay_ms }
    }

    /// The directory's record of `portal`, at most `max_age` old.
    pub async fn record(&self, portal: &str, max_age: Duration) -> Result<pb::PortalRecord, Status> {
        if let Some(c) = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(portal).filter(|c| c.at.elapsed() <= max_age).map(|c| c.record.clone()))
        {
            return Ok(c);
        }
        let rec = self.directory.lookup_portal(portal).await.map_err(|s| match s.code() {
            tonic::Code::NotFound => {
                Status::not_found(format!("portal {portal} is not registered in the Network directory"))
            }
            _ => crate::network::directory_error(&self.directory.link, s),
        })?;
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
        Ok(rec)
    }

    /// Forgets what is cached of `portal` (after a failed call: it may have moved).
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
    pub async fn client(&self, portal: &str) -> Result<ReplicationClient<Channel>, Status> {
        let rec = self.record(portal, Duration::from_secs(60)).await?;
        if let Some(ch) = self.cache.lock().ok().and_then(|c| c.get(portal).and_then(|c| c.channel.clone())) {
            return Ok(ReplicationClient::new(ch).max_decoding_message_size(MAX_REPLICATION_MESSAGE));
        }
        if rec.tls_certificate.is_empty() {
            return Err(Status::failed_precondition(format!(
                "portal {portal} registered no TLS certificate in the directory; it must run a current portald"
            )));
        }
        let channel = Endpoint::from_shared(rec.endpoint.clone())
            .map_err(|e| Status::failed_precondition(format!("portal {portal} has a bad endpoint: {e}")))?
            .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&rec.tls_certificate)))
            .map_err(|e| {
                Status::failed_precondition(format!("portal {portal}'s certificate is not usable: {e}"))
            })?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .connect_lazy();
        if let Ok(mut c) = self.cache.lock()
            && let Some(entry) = c.get_mut(portal)
        {
            entry.channel = Some(channel.clone());
        }
        Ok(ReplicationClient::new(channel).max_decoding_message_size(MAX_REPLICATION_MESSAGE))
    }

    /// Why cross-portal work with `portal` is not possible now (R13–R15), if not.
    pub async fn blocked(&self, portal: &str, now: Timestamp) -> Option<String> {
        match self.record(portal, RECORD_TTL).await {
            Err(s) => Some(format!("portal {portal} cannot be checked: {}", s.message())),
            Ok(rec) => self.blocked_by(&rec, now),
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
                return Err(Status::failed_precondition(why));
            }
        }
        for chunk in addresses.chunks(100) {
            let found = self
                .directory
                .lookup_addresses(chunk.to_vec(), now)
                .await
                .map_err(|s| crate::network::directory_error(&self.directory.link, s))?;
            for a in chunk {
                if !found.people.iter().any(|p| &p.address == a) {
                    let portal = a.split_once('@').map_or("", |x| x.1);
                    return Err(Status::not_found(format!(
                        "`{a}` is not a person published by portal {portal} in the Network directory; \
                         find people with `portalctl network search NAME` (R16)"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Batches stay well under this; one event with the largest file fits.
pub const MAX_REPLICATION_MESSAGE: usize = 64 * 1024 * 1024;
