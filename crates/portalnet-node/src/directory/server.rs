//! The Network directory role (`portald directory`): its own data folder, TLS
//! certificate and storage, serving the `Directory` gRPC service. Every call but
//! `LookupPortal` is a signed envelope from a registered portal (first
//! registration: signed by the key being registered, which proves possession, and
//! carrying an enrolment secret, which proves the right to the id — see
//! `enrolment.rs`).
//!
//! Storage is sled in the data folder, or PostgreSQL (`database` in
//! `directory.toml`, or `portald directory --database postgres://…`): then
//! several directory nodes share one database (see `portalnet-postgres`): each
//! node follows the others' index changes ([`CATCH_UP_EVERY`]) and checks nonces
//! against the database too, so a request accepted by one node is refused when
//! replayed to another. Search rate limits stay per node.

use crate::config::TlsConfig;
use crate::grpc::error::IntoStatus;
use crate::grpc::error::sign_status;
use anyhow::{Context, Result};
use portalnet_core::{Clock, Timestamp, quote};
use portalnet_directory::{Directory, Entry, LoginRange, RateLimiter};
use portalnet_federation::{KeyLookup, Verifier, verifying_key_from_bytes};
use portalnet_proto::v1::{self as pb, directory_server::DirectoryServer};
use portalnet_store::Db;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Identity as TlsIdentity, Server, ServerTlsConfig};
use tonic::{Request, Response, Status};

pub const CONFIG_FILE: &str = "directory.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectoryConfig {
    /// The directory's id: the destination portals sign their requests for.
    pub id: String,
    pub listen: SocketAddr,
    #[serde(default)]
    pub tls: TlsConfig,
    /// Searches a portal may make per second, on average, and in a burst (R16).
    #[serde(default = "default_rate")]
    pub search_rate_per_sec: f64,
    #[serde(default = "default_burst")]
    pub search_burst: u32,
    /// Plain-HTTP listener for Prometheus `/metrics` (keep it private). None: no
    /// metrics are recorded or served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<SocketAddr>,
    /// Storage page cache, in MiB. The name index lives in memory apart from it,
    /// and a search reads only its page's entries, so a small cache serves
    /// searches; sled's own default is 1 GiB. sled's real use is several times
    /// this figure: at 1M people, 64 MiB gave a 442 MB process and 16 MiB 364 MB,
    /// with the same search latency.
    #[serde(default = "default_cache_mb")]
    pub storage_cache_mb: u64,
    /// PostgreSQL URL (`postgres://user:password@host:5432/dbname`): the directory's
    /// state lives there, shared by every directory node given the same URL.
    /// None: sled in the data folder (one node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Directory sessions (`OpenSession`): a portal signs once and its searches
    /// and lookups carry a token instead of a signature. `false`: `OpenSession`
    /// answers UNIMPLEMENTED and every call must be signed, so each search
    /// carries the portal's own signature, which the operator can show to a
    /// third party (a token, made with the directory's secret, proves nothing
    /// to anyone else). Portals then sign their reads, as with directories
    /// older than sessions.
    #[serde(default = "default_sessions")]
    pub sessions: bool,
    /// What clients may hold of the listeners (as a portal's `[connections]`):
    /// every portal of the Network keeps a connection here, so a Network of more
    /// than `max` portals needs `max` raised, and the process's file limit with it.
    #[serde(default, skip_serializing_if = "crate::config::ConnectionsConfig::is_default")]
    pub connections: crate::config::ConnectionsConfig,
}

/// How often a directory node on a shared database applies the index changes
/// of the other nodes (the most a search lags behind another node's write).
pub const CATCH_UP_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

fn default_rate() -> f64 {
    10.0
}
fn default_sessions() -> bool {
    true
}
fn default_burst() -> u32 {
    50
}
fn default_cache_mb() -> u64 {
    16
}

impl DirectoryConfig {
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(CONFIG_FILE);
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("{} is not a valid directory config", path.display()))
    }
}

/// Creates the directory's data folder (config and TLS certificate) unless it exists.
pub fn init_if_needed(dir: &Path, id: &str, listen: SocketAddr) -> Result<DirectoryConfig> {
    if dir.join(CONFIG_FILE).exists() {
        return DirectoryConfig::load(dir);
    }
    let id = portalnet_core::validate::portal_id(id).map_err(|e| anyhow::anyhow!("directory id: {e}"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let cfg = DirectoryConfig {
        id,
        listen,
        tls: TlsConfig::default(),
        search_rate_per_sec: default_rate(),
        search_burst: default_burst(),
        metrics_listen: None,
        storage_cache_mb: default_cache_mb(),
        database: None,
        sessions: default_sessions(),
        connections: Default::default(),
    };
    std::fs::write(dir.join(CONFIG_FILE), toml::to_string_pretty(&cfg)?)?;
    Ok(cfg)
}

pub struct DirectoryHandle {
    pub addr: SocketAddr,
    pub endpoint: String,
    pub id: String,
    /// The certificate portals pin (`[directory] ca`).
    pub cert: PathBuf,
    /// The directory's data, for tests and tools in the same process.
    pub directory: Directory,
    /// Where Prometheus scrapes the directory (`metrics_listen`), if set.
    pub metrics_url: Option<String>,
    /// The gRPC server and the metrics server.
    tasks: crate::lifecycle::NodeTasks,
    db: Db,
    health: tonic_health::server::HealthReporter,
}

impl DirectoryHandle {
    /// Stops serving (calls in progress get [`crate::server::SHUTDOWN_GRACE`]),
    /// then flushes storage.
    pub async fn stop(mut self) -> Result<()> {
        // Balancers and portals stop choosing a directory that is going away.
        self.health.set_not_serving::<DirectoryServer<DirectorySvc>>().await;
        let tasks = self.tasks.stop(crate::server::SHUTDOWN_GRACE).await;
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.sync()).await??;
        tasks
    }

    /// Runs until the shutdown token fires, then stops; if its server dies first,
    /// the directory stops and this says why.
    pub async fn wait(mut self) -> Result<()> {
        let died = self.tasks.watch().await;
        let stopped = self.stop().await;
        died.and(stopped)
    }
}

pub async fn start(
    dir: &Path,
    clock: Arc<dyn Clock>,
    listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> Result<DirectoryHandle> {
    start_on(dir, None, clock, listener, shutdown).await
}

/// [`start`] with the database URL given (`--database`) over the config's.
pub async fn start_on(
    dir: &Path,
    database: Option<String>,
    clock: Arc<dyn Clock>,
    listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> Result<DirectoryHandle> {
    let cfg = DirectoryConfig::load(dir)?;
    let tls = crate::tls::ensure_for(dir, &cfg.tls, &cfg.id)?;
    let (db, shared_nonces) = match database.or_else(|| cfg.database.clone()) {
        Some(url) => {
            let pg = tokio::task::spawn_blocking(move || portalnet_postgres::PgEngine::connect(&url))
                .await?
                .context("cannot open the directory's PostgreSQL database")?;
            let nonces: Arc<dyn portalnet_federation::SharedNonces> = Arc::new(pg.clone());
            (pg.db(), Some(nonces))
        }
        None => (
            Db::open_with_cache(&dir.join("db"), cfg.storage_cache_mb.saturating_mul(1 << 20))
                .with_context(|| format!("cannot open storage in {}", dir.display()))?,
            None,
        ),
    };
    let directory = {
        let db = db.clone();
        tokio::task::spawn_blocking(move || Directory::open(&db))
            .await?
            .context("cannot open the directory")?
    };
    crate::directory::enrolment::import(dir, &directory);
    crate::directory::enrolment::write_status(dir, &directory);
    let listener = match listener {
        Some(l) => l,
        None => {
            TcpListener::bind(cfg.listen).await.with_context(|| format!("cannot listen on {}", cfg.listen))?
        }
    };
    let addr = listener.local_addr()?;
    let endpoint = format!("https://{addr}");
    let metrics_listener = match cfg.metrics_listen {
        Some(a) => {
            Some(TcpListener::bind(a).await.with_context(|| format!("cannot listen for metrics on {a}"))?)
        }
        None => None,
    };
    let metrics = match (&metrics_listener, std::env::var("PORTALD_METRICS").as_deref()) {
        (Some(_), Ok("off" | "0" | "false")) | (None, _) => crate::metrics::Metrics::disabled(),
        (Some(_), _) => crate::metrics::Metrics::enabled(),
    };
    let metrics_url = match &metrics_listener {
        Some(l) if metrics.is_enabled() => Some(format!("http://{}/metrics", l.local_addr()?)),
        _ => None,
    };
    let mut svc = DirectorySvc {
        health: None,
        metrics: metrics.clone(),
        directory: directory.clone(),
        verifier: match shared_nonces {
            Some(n) => Verifier::new(cfg.id.clone()).with_shared_nonces(n),
            None => Verifier::new(cfg.id.clone()),
        },
        limiter: RateLimiter::new(cfg.search_rate_per_sec, cfg.search_burst),
        clock,
        db: db.clone(),
        data: dir.to_path_buf(),
        sessions: cfg.sessions,
    };
    let identity = TlsIdentity::from_pem(tls.cert_pem, tls.key_pem);
    let mut builder = Server::builder()
        .tls_config(ServerTlsConfig::new().identity(identity).timeout(cfg.connections.handshake()))
        .context("TLS certificate or key is not usable")?
        .timeout(std::time::Duration::from_secs(60))
        .http2_keepalive_interval(Some(cfg.connections.keepalive()))
        .layer(crate::rpc_layer::RpcLayer::new(metrics.clone(), crate::rpc_layer::KnownMethods::node()));
    let (health, health_svc) = tonic_health::server::health_reporter();
    health.set_serving::<DirectoryServer<DirectorySvc>>().await;
    svc.health = Some(health.clone());
    let router = builder
        .add_service(health_svc)
        .add_service(DirectoryServer::new(svc).max_decoding_message_size(16 * 1024 * 1024))
        // The raw RPC that benchmarks measure as their baseline.
        .add_service(
            pb::echo_server::EchoServer::new(crate::grpc::OpenEchoSvc)
                .max_decoding_message_size(crate::grpc::OPEN_ECHO_MAX_BYTES),
        );
    let mut tasks = crate::lifecycle::NodeTasks::new(shutdown.clone());
    if let Some(l) = metrics_listener.filter(|_| metrics.is_enabled()) {
        let (app, token) = (crate::metrics::static_router(metrics.clone()), shutdown.clone());
        let (conns, m) = (cfg.connections.clone(), metrics.clone());
        tasks.spawn("metrics", async move {
            crate::listen::serve_http(l, app, &conns, "metrics", m, token).await.context("metrics server")
        });
    }
    if db.is_shared() {
        let (d, token) = (directory.clone(), shutdown.clone());
        tasks.spawn("directory catch-up", async move {
            loop {
                tokio::select! {
                    _ = token.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(CATCH_UP_EVERY) => {}
                }
                let d = d.clone();
                match tokio::task::spawn_blocking(move || d.catch_up()).await {
                    Ok(Ok(_)) => {}
                    // The database is unreachable for now: searches go on from the
                    // index as it is, and the next round catches up.
                    Ok(Err(e)) => tracing::warn!(error = %e, "cannot read other directory nodes' changes"),
                    Err(e) => tracing::warn!(error = %e, "directory catch-up task"),
                }
            }
        });
    }
    let token = shutdown.clone();
    let incoming = crate::listen::Incoming::grpc(listener, &cfg.connections, metrics.clone());
    tasks.spawn("grpc server", async move {
        router
            .serve_with_incoming_shutdown(incoming, token.cancelled_owned())
            .await
            .context("directory gRPC server")
    });
    std::fs::write(dir.join("endpoint"), &endpoint)?;
    tracing::info!(id = %cfg.id, %endpoint, "Network directory serving");
    Ok(DirectoryHandle {
        addr,
        endpoint,
        id: cfg.id.clone(),
        cert: crate::config::resolve(dir, &cfg.tls.cert),
        directory,
        metrics_url,
        tasks,
        db,
        health,
    })
}

struct DirectorySvc {
    metrics: crate::metrics::Metrics,
    directory: Directory,
    verifier: Verifier,
    limiter: RateLimiter,
    clock: Arc<dyn Clock>,
    db: Db,
    /// The data folder: its enrolment inbox is read before an unknown id is refused.
    data: PathBuf,
    /// The health service's reporter, told when storage fails or recovers.
    health: Option<tonic_health::server::HealthReporter>,
    /// [`DirectoryConfig::sessions`].
    sessions: bool,
}

struct Keys<'a>(&'a Directory);

impl KeyLookup for Keys<'_> {
    fn key_of(&self, portal_id: &str) -> Option<ed25519_dalek::VerifyingKey> {
        let (_, key) = self.0.portal_key(portal_id).ok()??;
        verifying_key_from_bytes(&key).ok()
    }
}

use crate::grpc::error::directory_status as dir_status;
use portalnet_directory::Error as DirError;

impl DirectorySvc {
    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Verifies a signed request from a registered portal and decodes its payload.
    fn open<M: prost::Message + Default>(
        &self,
        req: &pb::Signed,
        method: &str,
    ) -> Result<(String, M), Status> {
        let v = self.verifier.verify(req, method, &Keys(&self.directory), self.now()).map_err(sign_status)?;
        let msg = v.decode::<M>().map_err(sign_status)?;
        Ok((canonical(v.origin)?, msg))
    }

    /// [`Self::open`] for the read-only calls, which also accept a session token
    /// (`Signed.session`, from `OpenSession`) in place of a signature.
    fn open_read<M: prost::Message + Default>(
        &self,
        req: &pb::Signed,
        method: &str,
    ) -> Result<(String, M), Status> {
        if req.session.is_empty() {
            return self.open(req, method);
        }
        if !self.sessions {
            return Err(crate::grpc::error::session_tokens_off());
        }
        let v = self.verifier.addressed(req, method).map_err(sign_status)?;
        self.directory.check_session(v.origin, &req.session, self.now()).map_err(dir_status)?;
        let msg = v.decode::<M>().map_err(sign_status)?;
        Ok((canonical(v.origin)?, msg))
    }

    /// [`Self::open_read`] for the calls that read other portals' people: the
    /// caller's own network must be on (R13), or it would read the Network while
    /// showing nothing of its own. (Search and e-mail lookup also take the rate
    /// limit, in their handlers; exact address lookups do not.)
    fn open_people_read<M: prost::Message + Default>(
        &self,
        req: &pb::Signed,
        method: &str,
    ) -> Result<(String, M), Status> {
        let (origin, msg) = self.open_read(req, method)?;
        if !self.directory.network_on(&origin).map_err(dir_status)? {
            return Err(dir_status(DirError::FailedPrecondition(format!(
                "network communication is off for portal {origin}: a portal reads the Network only while it \
                 takes part in it (`portalctl network enable`, R13)"
            ))));
        }
        Ok((origin, msg))
    }

    async fn durable(&self) -> Result<(), Status> {
        let db = self.db.clone();
        let flushed = tokio::task::spawn_blocking(move || db.sync()).await;
        // Health tells whether storage works: NOT_SERVING from a failed flush
        // until one succeeds again.
        if let Some(h) = &self.health {
            if matches!(flushed, Ok(Ok(()))) {
                h.set_serving::<DirectoryServer<DirectorySvc>>().await;
            } else {
                h.set_not_serving::<DirectoryServer<DirectorySvc>>().await;
            }
        }
        match flushed {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(dir_status(DirError::Store(e))),
            Err(e) => {
                Err(crate::grpc::error::NodeError::Internal(format!("directory flush task: {e}"))
                    .into_status())
            }
        }
    }
}

/// Runs a directory write off the async workers: a publish of 10,000 people
/// holds its thread for a while, and with the workers blocked nothing else (the
/// next request's decoding, other calls) would move. Every write goes through here.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> portalnet_directory::Result<T> + Send + 'static,
) -> Result<T, Status> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(dir_status),
        Err(e) => {
            Err(crate::grpc::error::NodeError::Internal(format!("directory write task: {e}")).into_status())
        }
    }
}

/// Whether `body` may register at all, read before its envelope is verified:
/// a known portal presents its current key or a rotation signed by it; a new id
/// an enrolment secret for it (enrolled since the last import too). Returns the
/// portal as registered now, if it is.
fn authority(
    d: &Directory,
    data: &Path,
    body: &pb::RegisterPortal,
    new_key: [u8; 32],
    now: Timestamp,
) -> portalnet_directory::Result<Option<portalnet_directory::PortalRecord>> {
    let known = d.portal(&body.portal_id)?;
    match &known {
        Some(old) if old.public_key != new_key => {
            let refused = || {
                DirError::PermissionDenied(format!(
                    "{} is registered with another key; a new key is accepted only with a rotation \
                     signature by the old one (`portald rotate-key` keeps the old key for that)",
                    quote(&body.portal_id)
                ))
            };
            let old_key = verifying_key_from_bytes(&old.public_key).map_err(|_| refused())?;
            portalnet_federation::verify_rotation(
                &old_key,
                &body.portal_id,
                &new_key,
                &body.rotation_signature,
            )
            .map_err(|_| refused())?;
        }
        Some(_) => {}
        None => {
            // The operator may have enrolled the id since the last import.
            crate::directory::enrolment::import(data, d);
            d.check_enrolment(&body.portal_id, Some(body.enrolment_secret.as_str()), now)?;
        }
    }
    Ok(known)
}

/// The stored part of `Register`, after its [`authority`] and signature held: a
/// rotation (checked against the key it replaces, in its write), a new portal
/// (using its enrolment secret up) or a known one, then its TLS certificate.
fn register(
    d: &Directory,
    data: &Path,
    body: pb::RegisterPortal,
    known: Option<portalnet_directory::PortalRecord>,
    new_key: [u8; 32],
    now: Timestamp,
) -> portalnet_directory::Result<portalnet_directory::PortalRecord> {
    let rec = match known {
        Some(old) if old.public_key != new_key => {
            d.rotate_key(&body.portal_id, old.public_key, new_key, &body.endpoint, now)?
        }
        known => {
            let secret = Some(body.enrolment_secret.as_str()).filter(|s| !s.is_empty());
            let rec = d.register(&body.portal_id, &body.endpoint, new_key, secret, now)?;
            if known.is_none() {
                crate::directory::enrolment::write_status(data, d);
            }
            rec
        }
    };
    if body.tls_certificate.is_empty() {
        return Ok(rec);
    }
    d.set_certificate(&body.portal_id, &body.tls_certificate)
}

/// A verified origin in its stored form (lower case): rate limits, metrics and
/// entries key by it, so `ALPHA.test` and `alpha.test` are one portal.
fn canonical(origin: &str) -> Result<String, Status> {
    portalnet_core::validate::portal_id(origin).map_err(|e| dir_status(DirError::from(e)))
}

fn record(r: &portalnet_directory::PortalRecord) -> pb::PortalRecord {
    pb::PortalRecord {
        portal_id: r.portal_id.clone(),
        endpoint: r.endpoint.clone(),
        public_key: r.public_key.to_vec(),
        network_enabled: r.network_enabled,
        network_enabled_since: r.network_enabled_since.map_or(0, |t| t.0),
        registered_at: r.registered_at.0,
        previous_keys: r.previous_keys.iter().map(|k| k.to_vec()).collect(),
        tls_certificate: r.tls_certificate.clone(),
    }
}

fn people(list: Vec<portalnet_directory::Person>, more: bool) -> pb::SearchResponse {
    pb::SearchResponse {
        people: list
            .into_iter()
            .map(|p| pb::Person {
                display_name: p.display_name,
                position: p.position,
                portal_id: p.portal_id,
                address: p.address,
            })
            .collect(),
        more,
    }
}

#[tonic::async_trait]
impl pb::directory_server::Directory for DirectorySvc {
    async fn register(&self, req: Request<pb::Signed>) -> Result<Response<pb::PortalRecord>, Status> {
        let signed = req.into_inner();
        // The key to check comes from the payload: decode it before verifying.
        let body =
            <pb::RegisterPortal as prost::Message>::decode(signed.payload.as_slice()).map_err(|e| {
                dir_status(DirError::InvalidArgument(format!("payload is not a RegisterPortal: {e}")))
            })?;
        let key = verifying_key_from_bytes(&body.public_key).map_err(sign_status)?;
        if signed.origin != body.portal_id {
            return Err(dir_status(DirError::PermissionDenied(format!(
                "signed by {} but registers {}: a portal registers only itself",
                quote(&signed.origin),
                quote(&body.portal_id)
            ))));
        }
        portalnet_core::validate::portal_id(&body.portal_id).map_err(|e| dir_status(DirError::from(e)))?;
        // Any caller can make a key that signs: the authority to register (the
        // current key, a rotation signed by it, an enrolment secret) is checked
        // first, so a caller without it leaves nothing behind, not even a nonce in
        // the cache every portal's requests share.
        let (d, data, b, k, now) =
            (self.directory.clone(), self.data.clone(), body.clone(), key.to_bytes(), self.now());
        let known = blocking(move || authority(&d, &data, &b, k, now)).await?;
        self.verifier
            .verify_with_key(&signed, crate::directory::client::method::REGISTER, &key, self.now())
            .map_err(sign_status)?;
        let new_key = key.to_bytes();
        let (d, data, now) = (self.directory.clone(), self.data.clone(), self.now());
        let rec = blocking(move || register(&d, &data, body, known, new_key, now)).await?;
        self.durable().await?;
        Ok(Response::new(record(&rec)))
    }

    async fn lookup_portal(
        &self,
        req: Request<pb::LookupPortalRequest>,
    ) -> Result<Response<pb::PortalRecord>, Status> {
        let id = &req.get_ref().portal_id;
        let rec = self.directory.portal(id).map_err(dir_status)?.ok_or_else(|| {
            dir_status(DirError::NotFound(format!(
                "portal {} is not registered in this directory",
                quote(id)
            )))
        })?;
        Ok(Response::new(record(&rec)))
    }

    async fn set_network(&self, req: Request<pb::Signed>) -> Result<Response<pb::PortalRecord>, Status> {
        let (origin, body): (String, pb::SetNetworkRequest) =
            self.open(req.get_ref(), crate::directory::client::method::SET_NETWORK)?;
        let (d, now) = (self.directory.clone(), self.now());
        let rec = blocking(move || d.set_network(&origin, body.enabled, now)).await?;
        self.durable().await?;
        Ok(Response::new(record(&rec)))
    }

    async fn publish(&self, req: Request<pb::Signed>) -> Result<Response<pb::PublishResponse>, Status> {
        let (origin, body): (String, pb::PublishRequest) =
            self.open(req.get_ref(), crate::directory::client::method::PUBLISH)?;
        let upsert = body
            .upsert
            .into_iter()
            .map(|e| Entry {
                login: e.login,
                display_name: e.display_name,
                position: e.position,
                email: e.email,
            })
            .collect();
        // Entries are keyed by the signing portal: a portal publishes only its own people.
        let (d, portal) = (self.directory.clone(), origin.clone());
        let ranged = body.replace_all && !(body.range_from.is_empty() && body.range_to.is_empty());
        let n = if ranged {
            if !body.remove.is_empty() {
                return Err(dir_status(DirError::InvalidArgument(
                    "a publish that replaces a range of logins removes by leaving them out, not by `remove`"
                        .into(),
                )));
            }
            let range =
                LoginRange { from: body.range_from, to: Some(body.range_to).filter(|to| !to.is_empty()) };
            blocking(move || d.publish_range(&portal, upsert, range)).await?
        } else {
            blocking(move || d.publish(&portal, upsert, body.remove, body.replace_all)).await?
        };
        self.durable().await?;
        self.metrics.inc("portalnet_directory_publishes_total", &[("portal", &origin)]);
        let at = self.now().0 as f64 / 1000.0;
        self.metrics.set("portalnet_directory_last_publish_timestamp_seconds", &[("portal", &origin)], at);
        Ok(Response::new(pb::PublishResponse { entries: n }))
    }

    async fn search(&self, req: Request<pb::Signed>) -> Result<Response<pb::SearchResponse>, Status> {
        let (origin, body): (String, pb::SearchRequest) =
            self.open_people_read(req.get_ref(), crate::directory::client::method::SEARCH)?;
        self.rate_limit(&origin)?;
        let (list, more) = self.directory.search(&body.query, body.limit, body.offset).map_err(dir_status)?;
        self.metrics.inc("portalnet_directory_searches_total", &[]);
        Ok(Response::new(people(list, more)))
    }

    async fn lookup_email(&self, req: Request<pb::Signed>) -> Result<Response<pb::SearchResponse>, Status> {
        let (origin, body): (String, pb::LookupEmailRequest) =
            self.open_people_read(req.get_ref(), crate::directory::client::method::LOOKUP_EMAIL)?;
        self.rate_limit(&origin)?;
        let found = self.directory.lookup_email(&body.email).map_err(dir_status)?;
        Ok(Response::new(people(found.into_iter().collect(), false)))
    }

    async fn lookup_addresses(
        &self,
        req: Request<pb::Signed>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        Ok(Response::new(self.lookup_addresses_impl(req.get_ref()).await?))
    }

    async fn open_session(&self, req: Request<pb::Signed>) -> Result<Response<pb::Session>, Status> {
        if !self.sessions {
            return Err(crate::grpc::error::sessions_off());
        }
        let (origin, _): (String, pb::OpenSessionRequest) =
            self.open(req.get_ref(), crate::directory::client::method::OPEN_SESSION)?;
        let s = self.directory.open_session(&origin, self.now()).map_err(dir_status)?;
        Ok(Response::new(pb::Session { token: s.token, expires_at: s.expires_at.0 }))
    }

    async fn change_account_email(&self, req: Request<pb::Signed>) -> Result<Response<pb::Account>, Status> {
        let (origin, body): (String, pb::ChangeAccountEmailRequest) =
            self.open(req.get_ref(), crate::directory::client::method::CHANGE_ACCOUNT_EMAIL)?;
        // Its refusals tell whether an e-mail is taken: held to the search rate.
        self.rate_limit(&origin)?;
        let d = self.directory.clone();
        let account = blocking(move || d.change_account_email(&origin, &body.login, &body.new_email)).await?;
        self.durable().await?;
        Ok(Response::new(account_pb(account)))
    }

    async fn link_requests(&self, req: Request<pb::Signed>) -> Result<Response<pb::Account>, Status> {
        let (origin, body): (String, pb::AccountLinksRequest) =
            self.open(req.get_ref(), crate::directory::client::method::LINK_REQUESTS)?;
        let account = self.directory.link_requests(&origin, &body.login).map_err(dir_status)?;
        Ok(Response::new(account_pb(account)))
    }

    async fn approve_link(&self, req: Request<pb::Signed>) -> Result<Response<pb::Account>, Status> {
        let (origin, body): (String, pb::ApproveLinkRequest) =
            self.open(req.get_ref(), crate::directory::client::method::APPROVE_LINK)?;
        // The signing portal speaks for `login@origin` only; the directory checks
        // that this address's portal owns the account.
        let d = self.directory.clone();
        let result = blocking(move || Ok(d.approve_link(&origin, &body.login, &body.address))).await?;
        // A stale request is dropped even when the approval is refused.
        self.durable().await?;
        Ok(Response::new(account_pb(result.map_err(dir_status)?)))
    }
}

fn account_pb(a: portalnet_directory::Account) -> pb::Account {
    pb::Account { addresses: a.addresses, owner: a.owner, requests: a.requests }
}

impl DirectorySvc {
    async fn lookup_addresses_impl(&self, req: &pb::Signed) -> Result<pb::SearchResponse, Status> {
        let (origin, body): (String, pb::LookupAddressesRequest) =
            self.open_people_read(req, crate::directory::client::method::LOOKUP_ADDRESSES)?;
        // Exact addresses only (no enumeration by prefix), at most 100 a call: not
        // held to the search rate, so a busy portal's task checks are not throttled.
        let _ = origin;
        let found = self.directory.lookup_addresses(&body.addresses).map_err(dir_status)?;
        Ok(people(found, false))
    }

    fn rate_limit(&self, origin: &str) -> Result<(), Status> {
        self.limiter.check(origin, self.now()).map_err(dir_status)
    }
}
