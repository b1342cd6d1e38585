//! The portal's side of the Network (R13–R16): a client of the directory that signs
//! every request with the portal key, and the sync task that registers the portal
//! and keeps the directory's copy of its people in step.

use crate::config::DirectoryLink;
use crate::grpc::error::IntoStatus;
use crate::worker::{Backoff, Step, Worker};
use ed25519_dalek::SigningKey;
use portalnet_core::Timestamp;
use portalnet_core::settings::NetworkSetting;
use portalnet_federation::Signer;
use portalnet_portal::{DIRECTORY_CHANGES, DIRECTORY_PUBLISHED, Portal};
use portalnet_proto::v1 as pb;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

pub mod method {
    pub const REGISTER: &str = "/portalnet.v1.Directory/Register";
    pub const SET_NETWORK: &str = "/portalnet.v1.Directory/SetNetwork";
    pub const PUBLISH: &str = "/portalnet.v1.Directory/Publish";
    pub const SEARCH: &str = "/portalnet.v1.Directory/Search";
    pub const LOOKUP_EMAIL: &str = "/portalnet.v1.Directory/LookupEmail";
    pub const CHANGE_ACCOUNT_EMAIL: &str = "/portalnet.v1.Directory/ChangeAccountEmail";
    pub const LOOKUP_ADDRESSES: &str = "/portalnet.v1.Directory/LookupAddresses";
    pub const LINK_REQUESTS: &str = "/portalnet.v1.Directory/LinkRequests";
    pub const APPROVE_LINK: &str = "/portalnet.v1.Directory/ApproveLink";
    pub const OPEN_SESSION: &str = "/portalnet.v1.Directory/OpenSession";
    pub const DELIVER: &str = "/portalnet.v1.Replication/Deliver";
    pub const FETCH_EVENTS: &str = "/portalnet.v1.Replication/FetchEvents";
    pub const HELLO: &str = "/portalnet.v1.Replication/Hello";
}

type Client = pb::directory_client::DirectoryClient<crate::trace_context::Traced>;

pub struct DirectoryClient {
    pub link: DirectoryLink,
    /// One client per directory node ([`DirectoryLink::all_endpoints`]).
    clients: Vec<Client>,
    /// The node that answered last: tried first.
    current: std::sync::atomic::AtomicUsize,
    signer: Signer,
    public_key: [u8; 32],
    /// The key this portal used before (`portal.key.previous`), to sign a rotation.
    previous: Option<SigningKey>,
    /// PEM of this portal's TLS certificate, registered for other portals to pin.
    tls_certificate: String,
    /// The data folder, where an enrolment secret waits for the first registration.
    dir: std::path::PathBuf,
    /// The directory session of the read-only calls ([`Self::read_call`]).
    session: std::sync::Mutex<Option<pb::Session>>,
    /// Until when (ms) read-only calls are signed without asking for a session:
    /// the directory answered `OpenSession` with UNIMPLEMENTED (an older
    /// version, or `sessions = false`). 0: sessions are tried.
    no_sessions_until: std::sync::atomic::AtomicI64,
    /// Held from a call that answers with the portal's network state until that
    /// state is recorded, so a slow registration answer ("off") cannot overwrite
    /// a switch made after it (`network enable` racing the first registration).
    pub network_state: tokio::sync::Mutex<()>,
}

impl DirectoryClient {
    pub fn new(
        dir: &Path,
        link: &DirectoryLink,
        portal_id: &str,
        key: SigningKey,
        tls_certificate: String,
    ) -> anyhow::Result<Self> {
        let ca = std::fs::read_to_string(crate::config::resolve(dir, &link.ca)).map_err(|e| {
            anyhow::anyhow!("cannot read the directory's certificate {}: {e}", link.ca.display())
        })?;
        let mut clients = Vec::new();
        for endpoint in link.all_endpoints() {
            let channel = Endpoint::from_shared(endpoint)?
                .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca.clone())))?
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(30))
                .connect_lazy();
            clients.push(pb::directory_client::DirectoryClient::with_interceptor(
                channel,
                crate::trace_context::Propagate,
            ));
        }
        if clients.is_empty() {
            anyhow::bail!("the directory link has no endpoint");
        }
        let previous = crate::identity::Identity::load_previous(dir)?.map(|i| i.signing);
        Ok(Self {
            link: link.clone(),
            clients,
            current: std::sync::atomic::AtomicUsize::new(0),
            public_key: key.verifying_key().to_bytes(),
            signer: Signer::new(portal_id.to_string(), key),
            previous,
            tls_certificate,
            dir: dir.to_path_buf(),
            session: std::sync::Mutex::new(None),
            no_sessions_until: std::sync::atomic::AtomicI64::new(0),
            network_state: tokio::sync::Mutex::new(()),
        })
    }

    fn sign<M: prost::Message>(&self, method: &str, msg: &M, now: Timestamp) -> pb::Signed {
        self.signer.sign(method, &self.link.id, now, msg)
    }

    /// Makes a call on the node that answered last, then on the others in turn
    /// while a node cannot be reached. `call` builds (and signs) the request
    /// again for each node: a fresh nonce, since nodes share replay protection
    /// and one that received the first attempt may have accepted it.
    async fn call<T, F, Fut>(&self, call: F) -> Result<T, tonic::Status>
    where
        F: Fn(Client) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        use std::sync::atomic::Ordering::Relaxed;
        let n = self.clients.len();
        let first = self.current.load(Relaxed);
        let mut failed = None;
        for i in 0..n {
            let at = (first + i) % n;
            let Some(client) = self.clients.get(at) else { continue };
            match call(client.clone()).await {
                Ok(r) => {
                    self.current.store(at, Relaxed);
                    return Ok(r.into_inner());
                }
                Err(s) if unreachable(&s) => {
                    tracing::debug!(node = at, error = %s.message(), "directory node unreachable, trying the next");
                    failed = Some(s);
                }
                Err(s) => return Err(s),
            }
        }
        Err(failed.unwrap_or_else(|| {
            crate::grpc::error::NodeError::Internal("no directory endpoint".into()).into_status()
        }))
    }

    /// Registers (or re-registers) the portal. The first registration presents the
    /// enrolment secret kept by `portald link --enrolment`; once the directory
    /// accepted the portal, the secret is spent and removed.
    pub async fn register(&self, endpoint: &str, now: Timestamp) -> Result<pb::PortalRecord, tonic::Status> {
        let rotation_signature = self
            .previous
            .as_ref()
            .map(|old| {
                portalnet_federation::sign_rotation(old, self.signer.portal_id(), &self.public_key).to_vec()
            })
            .unwrap_or_default();
        let req = pb::RegisterPortal {
            portal_id: self.signer.portal_id().to_string(),
            endpoint: endpoint.to_string(),
            public_key: self.public_key.to_vec(),
            rotation_signature,
            tls_certificate: self.tls_certificate.clone(),
            enrolment_secret: crate::directory::enrolment::portal_secret(&self.dir).unwrap_or_default(),
        };
        let rec = self
            .call(|mut c| {
                let signed = self.sign(method::REGISTER, &req, now);
                async move { c.register(signed).await }
            })
            .await?;
        crate::directory::enrolment::forget_portal_secret(&self.dir);
        Ok(rec)
    }

    pub async fn set_network(
        &self,
        enabled: bool,
        now: Timestamp,
    ) -> Result<pb::PortalRecord, tonic::Status> {
        let req = pb::SetNetworkRequest { enabled };
        self.call(|mut c| {
            let signed = self.sign(method::SET_NETWORK, &req, now);
            async move { c.set_network(signed).await }
        })
        .await
    }

    pub async fn publish(&self, req: &pb::PublishRequest, now: Timestamp) -> Result<u32, tonic::Status> {
        Ok(self
            .call(|mut c| {
                let signed = self.sign(method::PUBLISH, req, now);
                async move { c.publish(signed).await }
            })
            .await?
            .entries)
    }

    pub async fn search(
        &self,
        req: &pb::SearchRequest,
        now: Timestamp,
    ) -> Result<pb::SearchResponse, tonic::Status> {
        self.read_call(method::SEARCH, req, now, |mut c, r| async move { c.search(r).await }).await
    }

    /// A read-only call made with the directory session (opened, or opened again
    /// when refused as expired or unknown); signed as every other call when the
    /// directory opens no sessions (an older version, or `sessions = false`),
    /// which is remembered for [`NO_SESSIONS_RECHECK_MS`] so that each call does
    /// not first ask for a session in vain.
    async fn read_call<M, T, F, Fut>(
        &self,
        method: &str,
        msg: &M,
        now: Timestamp,
        call: F,
    ) -> Result<T, tonic::Status>
    where
        M: prost::Message,
        F: Fn(Client, pb::Signed) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        use std::sync::atomic::Ordering::Relaxed;
        let with_token = |token: Vec<u8>| {
            let call = &call;
            self.call(move |c| call(c, self.signer.with_session(method, &self.link.id, &token, msg)))
        };
        if now.0 >= self.no_sessions_until.load(Relaxed) {
            let refused = match self.session_token(now).await {
                Ok(token) => match with_token(token).await {
                    // Expired, unknown, or no longer accepted: a new session,
                    // unless the directory opens none any more.
                    Err(s) if s.code() == tonic::Code::Unauthenticated => {
                        self.forget_session();
                        match self.session_token(now).await {
                            Ok(token) => return with_token(token).await,
                            Err(s) => s,
                        }
                    }
                    done => return done,
                },
                Err(s) => s,
            };
            if refused.code() != tonic::Code::Unimplemented {
                return Err(refused);
            }
            self.no_sessions_until.store(now.0.saturating_add(NO_SESSIONS_RECHECK_MS), Relaxed);
        }
        self.call(|c| call(c, self.sign(method, msg, now))).await
    }

    /// The current session's token; a new session when there is none or it ends
    /// within [`SESSION_RENEW_MS`].
    async fn session_token(&self, now: Timestamp) -> Result<Vec<u8>, tonic::Status> {
        if let Some(s) = &*self.session.lock().unwrap_or_else(|p| p.into_inner())
            && s.expires_at.saturating_sub(now.0) > SESSION_RENEW_MS
        {
            return Ok(s.token.clone());
        }
        let req = pb::OpenSessionRequest {};
        let s = self
            .call(|mut c| {
                let signed = self.sign(method::OPEN_SESSION, &req, now);
                async move { c.open_session(signed).await }
            })
            .await?;
        let token = s.token.clone();
        *self.session.lock().unwrap_or_else(|p| p.into_inner()) = Some(s);
        Ok(token)
    }

    fn forget_session(&self) {
        *self.session.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Any registered portal's record (open call).
    pub async fn lookup_portal(&self, portal_id: &str) -> Result<pb::PortalRecord, tonic::Status> {
        let req = pb::LookupPortalRequest { portal_id: portal_id.to_string() };
        self.call(|mut c| {
            let signed = req.clone();
            async move { c.lookup_portal(signed).await }
        })
        .await
    }

    /// Which of `addresses` are published people of portals with the network on.
    pub async fn lookup_addresses(
        &self,
        addresses: Vec<String>,
        now: Timestamp,
    ) -> Result<pb::SearchResponse, tonic::Status> {
        let req = pb::LookupAddressesRequest { addresses };
        self.read_call(
            method::LOOKUP_ADDRESSES,
            &req,
            now,
            |mut c, r| async move { c.lookup_addresses(r).await },
        )
        .await
    }

    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    pub async fn change_account_email(
        &self,
        login: &str,
        email: &str,
        now: Timestamp,
    ) -> Result<pb::Account, tonic::Status> {
        let req = pb::ChangeAccountEmailRequest { login: login.into(), new_email: email.into() };
        self.call(|mut c| {
            let signed = self.sign(method::CHANGE_ACCOUNT_EMAIL, &req, now);
            async move { c.change_account_email(signed).await }
        })
        .await
    }
}

impl DirectoryClient {
    /// The Network account of `login` with its waiting link requests (R11).
    pub async fn link_requests(&self, login: &str, now: Timestamp) -> Result<pb::Account, tonic::Status> {
        let req = pb::AccountLinksRequest { login: login.into() };
        self.call(|mut c| {
            let signed = self.sign(method::LINK_REQUESTS, &req, now);
            async move { c.link_requests(signed).await }
        })
        .await
    }

    /// `login` agrees that `address` joins their Network account (R11).
    pub async fn approve_link(
        &self,
        login: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<pb::Account, tonic::Status> {
        let req = pb::ApproveLinkRequest { login: login.into(), address: address.into() };
        self.call(|mut c| {
            let signed = self.sign(method::APPROVE_LINK, &req, now);
            async move { c.approve_link(signed).await }
        })
        .await
    }
}

/// Whether a failed call may not have reached a working node (connection
/// refused or lost, no answer in time): then the next node is tried.
fn unreachable(s: &tonic::Status) -> bool {
    matches!(
        s.code(),
        tonic::Code::Unavailable
            | tonic::Code::Unknown
            | tonic::Code::DeadlineExceeded
            | tonic::Code::Cancelled
    )
}

/// A directory call that failed, as the portal's own caller should see it.
pub fn directory_error(link: &DirectoryLink, s: tonic::Status) -> tonic::Status {
    crate::grpc::error::directory_call_failed(&link.all_endpoints().join(", "), s)
}

/// The network setting a directory record states.
pub fn network_of(rec: &pb::PortalRecord) -> NetworkSetting {
    NetworkSetting {
        enabled: rec.network_enabled,
        enabled_since: (rec.network_enabled_since > 0).then_some(Timestamp(rec.network_enabled_since)),
    }
}

/// A person as the directory shows them.
pub fn directory_entry(u: portalnet_core::user::User) -> pb::DirectoryEntry {
    pb::DirectoryEntry { login: u.login, display_name: u.display_name, position: u.position, email: u.email }
}

/// A session is renewed when it has less than this left (2 minutes): clocks of
/// portal and directory may differ, and a call may be slow.
pub const SESSION_RENEW_MS: i64 = 2 * 60 * 1000;

/// How long a portal signs its read-only calls without asking again for a
/// session after the directory opened none (10 minutes): a directory upgraded
/// or reconfigured meanwhile is noticed within that time.
pub const NO_SESSIONS_RECHECK_MS: i64 = 10 * 60 * 1000;

/// How the directory sync retries: 1 s doubling up to 60 s.
pub const SYNC_BACKOFF: Backoff = Backoff { min: Duration::from_secs(1), max: Duration::from_secs(60) };

/// Registers the portal, then publishes its people whenever they change while
/// network communication is on; a [`Worker`] retried with [`SYNC_BACKOFF`].
pub struct DirectorySync {
    pub portal: Arc<Portal>,
    pub client: Arc<DirectoryClient>,
    /// This portal's endpoint as it registers it.
    pub endpoint: String,
    registered: bool,
    /// A stopping node does not wait for the directory.
    shutdown: CancellationToken,
}

impl DirectorySync {
    pub fn new(
        portal: Arc<Portal>,
        client: Arc<DirectoryClient>,
        endpoint: String,
        shutdown: CancellationToken,
    ) -> Self {
        Self { portal, client, endpoint, registered: false, shutdown }
    }
}

impl Worker for DirectorySync {
    fn name(&self) -> String {
        "directory-sync".into()
    }

    async fn work(&mut self) -> crate::NodeResult<Step> {
        let m = &self.portal.metrics;
        // Storage writes in a round are synchronous, so the round stops only at a
        // call to the directory (or a flush wait), never half-written.
        let round = sync_once(&self.portal, &self.client, &self.endpoint, &mut self.registered);
        let done = tokio::select! {
            _ = self.shutdown.cancelled() => return Ok(Step::Idle),
            done = round => done,
        };
        match done {
            Ok(()) => {
                m.inc("portalnet_directory_syncs_total", &[("result", "ok")]);
                Ok(Step::Idle)
            }
            Err(e) => {
                m.inc("portalnet_directory_syncs_total", &[("result", "failed")]);
                // The whole chain: which call, and why.
                Err(crate::NodeError::Unavailable(format!("{e:#}")))
            }
        }
    }

    async fn wait_for_work(&mut self) {
        tokio::select! {
            _ = self.portal.directory_wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
        }
    }

    /// A change of people or of the network switch is worth trying at once, even
    /// while backing off (the directory may be back, or the portal just registered).
    async fn retry_now(&mut self) {
        self.portal.directory_wake.notified().await
    }
}

/// The calls that replace everything a portal published with `people` (in login
/// order): one `replace_all` when they fit one call, else one per range of
/// [`portalnet_directory::MAX_UPSERTS`] logins, each replacing its range (from its
/// first login to the next range's), the first open below and the last above.
fn publish_requests(people: Vec<pb::DirectoryEntry>) -> Vec<pb::PublishRequest> {
    let chunks: Vec<Vec<pb::DirectoryEntry>> =
        people.chunks(portalnet_directory::MAX_UPSERTS).map(<[_]>::to_vec).collect();
    if chunks.len() <= 1 {
        let upsert = chunks.into_iter().next().unwrap_or_default();
        return vec![pb::PublishRequest {
            upsert,
            remove: Vec::new(),
            replace_all: true,
            ..Default::default()
        }];
    }
    let starts: Vec<String> =
        chunks.iter().map(|c| c.first().map(|e| e.login.clone()).unwrap_or_default()).collect();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, upsert)| pb::PublishRequest {
            upsert,
            remove: Vec::new(),
            replace_all: true,
            range_from: if i == 0 { String::new() } else { starts[i].clone() },
            range_to: starts.get(i + 1).cloned().unwrap_or_default(),
        })
        .collect()
}

async fn sync_once(
    portal: &Portal,
    client: &DirectoryClient,
    endpoint: &str,
    registered: &mut bool,
) -> anyhow::Result<()> {
    if !*registered {
        let _state = client.network_state.lock().await;
        let rec = client
            .register(endpoint, portal.now())
            .await
            .map_err(|s| anyhow::anyhow!("register: {}", s.message()))?;
        portal.record_network(network_of(&rec)).map_err(|e| anyhow::anyhow!("{e}"))?;
        portal.durable().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        *registered = true;
        tracing::info!(directory = %client.link.endpoint, "registered with the Network directory");
    }
    let changes = portal.directory_counter(DIRECTORY_CHANGES).map_err(|e| anyhow::anyhow!("{e}"))?;
    let pending = &portal.directory_pending_since;
    if portal.directory_counter(DIRECTORY_PUBLISHED).map_err(|e| anyhow::anyhow!("{e}"))? == changes {
        pending.store(0, std::sync::atomic::Ordering::Relaxed);
        return Ok(());
    }
    let _ = pending.compare_exchange(
        0,
        portal.now().0.max(1),
        std::sync::atomic::Ordering::Relaxed,
        std::sync::atomic::Ordering::Relaxed,
    );
    if portal.network_setting().map_err(|e| anyhow::anyhow!("{e}"))?.enabled {
        let people = portal.published_people().map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut n = 0;
        for req in publish_requests(people.into_iter().map(directory_entry).collect()) {
            n = client
                .publish(&req, portal.now())
                .await
                .map_err(|s| anyhow::anyhow!("publish: {}", s.message()))?;
        }
        tracing::info!(entries = n, "published people to the Network directory");
    }
    portal.directory_published(changes).map_err(|e| anyhow::anyhow!("{e}"))?;
    portal.durable().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    pending.store(0, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}
