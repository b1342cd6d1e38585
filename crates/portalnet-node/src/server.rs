//! Starting and stopping a node. A node takes a bound listener (or binds its
//! configured address) and a shutdown token, so tests run nodes on ephemeral ports.

use crate::config::NodeConfig;
use crate::grpc::{self, State};
use crate::identity::Identity;
use crate::init::DB_DIR;
use crate::lifecycle::NodeTasks;
use anyhow::{Context, Result};
use portalnet_core::Clock;
use portalnet_federation::Signer;
use portalnet_portal::{Portal, PortalOptions};
use portalnet_proto::v1::{
    echo_server::EchoServer, group_service_server::GroupServiceServer,
    invitation_service_server::InvitationServiceServer, mail_service_server::MailServiceServer,
    network_service_server::NetworkServiceServer, portal_service_server::PortalServiceServer,
    replication_server::ReplicationServer, report_service_server::ReportServiceServer,
    task_service_server::TaskServiceServer, user_service_server::UserServiceServer,
};
use portalnet_store::Db;
use portalnet_store::schema::Tables;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Identity as TlsIdentity, Server, ServerTlsConfig};

/// Messages other than file uploads stay small.
const MAX_MESSAGE: usize = 1024 * 1024;

/// How long a stopping node waits for open calls and connections.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Written in the data folder while the node runs: its `https://` endpoint.
pub const ENDPOINT_FILE: &str = "endpoint";

pub struct NodeHandle {
    pub addr: SocketAddr,
    /// Inbound mail listeners, when configured.
    pub lmtp_addr: Option<SocketAddr>,
    pub smtp_addr: Option<SocketAddr>,
    pub endpoint: String,
    /// Base URL of the web pages, when they are served.
    pub web_url: Option<String>,
    /// Where Prometheus scrapes this node, when metrics are on and served.
    pub metrics_url: Option<String>,
    pub dir: PathBuf,
    pub state: Arc<State>,
    /// The gRPC server, web and mail listeners, and background workers.
    tasks: NodeTasks,
}

impl NodeHandle {
    /// Stops accepting, lets calls in progress and workers finish, and flushes
    /// storage. Whatever still runs after [`SHUTDOWN_GRACE`] (all tasks share it) is
    /// aborted first, so nothing of this node writes after the final flush, and a
    /// client that keeps its connection open cannot hold a stopping node forever.
    pub async fn stop(mut self) -> Result<()> {
        let tasks = self.tasks.stop(SHUTDOWN_GRACE).await;
        self.state.portal.durable().await.context("final flush of storage")?;
        let _ = std::fs::remove_file(self.dir.join(ENDPOINT_FILE));
        tasks
    }

    /// Runs until the shutdown token fires, then stops. If a part of the node dies
    /// first (a server, a listener, a worker), the node stops and this says why.
    pub async fn wait(mut self) -> Result<()> {
        let died = self.tasks.watch().await;
        let stopped = self.stop().await;
        died.and(stopped)
    }
}

/// Starts the node in `dir`. Binds `listener` if given, else the configured address.
pub async fn start(
    dir: &Path,
    clock: Arc<dyn Clock>,
    listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> Result<NodeHandle> {
    let config = NodeConfig::load(dir)?;
    let identity = Identity::load(dir)?;
    let tls = crate::tls::ensure(dir, &config)?;
    let db = Db::open_with_cache(&dir.join(DB_DIR), config.storage_cache_mb.saturating_mul(1 << 20))
        .with_context(|| format!("cannot open storage in {}", dir.display()))?;
    let listener = match listener {
        Some(l) => l,
        None => TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {} (is another node using it?)", config.listen))?,
    };
    let addr = listener.local_addr()?;
    let endpoint = format!("https://{addr}");
    let web_listener = match config.web.listen {
        Some(a) => {
            Some(TcpListener::bind(a).await.with_context(|| format!("cannot listen for web pages on {a}"))?)
        }
        None => None,
    };
    let web_url = match (&config.web.public_url, &web_listener) {
        (Some(u), _) => Some(u.trim_end_matches('/').to_string()),
        (None, Some(l)) => Some(format!("http://{}", l.local_addr()?)),
        (None, None) => None,
    };
    let bind_mail = |a: Option<SocketAddr>, what: &'static str| async move {
        match a {
            Some(a) => TcpListener::bind(a)
                .await
                .map(Some)
                .with_context(|| format!("cannot listen for {what} on {a} (is another node using it?)")),
            None => Ok(None),
        }
    };
    let lmtp_listener = bind_mail(config.mail.lmtp_listen, "LMTP").await?;
    let smtp_listener = bind_mail(config.mail.smtp_listen, "SMTP").await?;
    let lmtp_addr = lmtp_listener.as_ref().map(TcpListener::local_addr).transpose()?;
    let smtp_addr = smtp_listener.as_ref().map(TcpListener::local_addr).transpose()?;
    let options = PortalOptions {
        invite_ttl_ms: i64::from(config.invitations.ttl_hours) * 3600 * 1000,
        web_url: web_url.clone().unwrap_or_default(),
        mail_from: config.mail.from.clone().unwrap_or_else(|| format!("portal@{}", config.portal_id)),
        signing_key: identity.signing.clone(),
        activation_delay_ms: i64::try_from(config.network.activation_delay_secs.saturating_mul(1000))
            .unwrap_or(i64::MAX),
        mail_domain: config
            .mail
            .domain
            .clone()
            .unwrap_or_else(|| config.portal_id.clone())
            .to_ascii_lowercase(),
        mail_limits: config.mail.limits(),
        language: portalnet_mail::Lang::parse(&config.language).with_context(|| {
            format!(
                "language = {:?} in {}: the portal speaks en, pl and ru",
                config.language,
                crate::config::CONFIG_FILE
            )
        })?,
    };
    let metrics = if config.metrics.effective_enabled() {
        crate::metrics::Metrics::enabled()
    } else {
        crate::metrics::Metrics::disabled()
    };
    let metrics_listener = match (metrics.is_enabled(), config.metrics.listen) {
        (true, Some(a)) => {
            Some(TcpListener::bind(a).await.with_context(|| format!("cannot listen for metrics on {a}"))?)
        }
        _ => None,
    };
    let metrics_addr = metrics_listener.as_ref().map(TcpListener::local_addr).transpose()?;
    let tables = Tables::open(&db)?;
    let tables = tokio::task::spawn_blocking(move || prepare_blobs(tables))
        .await
        .context("the blob store's start-up task failed")??;
    let portal = Arc::new(
        Portal::open(tables, clock, options).context("cannot open the portal")?.with_metrics(metrics.clone()),
    );
    let directory = match &config.directory {
        Some(link) => Some(Arc::new(crate::directory::client::DirectoryClient::new(
            dir,
            link,
            &config.portal_id,
            identity.signing.clone(),
            tls.cert_pem.clone(),
        )?)),
        None => None,
    };
    let replicator = directory.as_ref().map(|d| {
        let peers = Arc::new(crate::replication::Peers::new(
            d.clone(),
            &portal.tables,
            portal.clock.clone(),
            portal.options.activation_delay_ms,
        ));
        let config = crate::replication::ReplicationConfig {
            max_backoff: std::time::Duration::from_secs(config.replication.max_backoff_secs.max(1)),
            min_backoff: std::time::Duration::from_millis(config.replication.min_backoff_ms.max(1)),
            batch_items: config.replication.batch_items.max(1),
            ..Default::default()
        };
        crate::replication::Replicator::new(
            portal.clone(),
            peers,
            Signer::new(d.signer().portal_id().to_string(), d.signer().signing_key().clone()),
            config,
            shutdown.clone(),
        )
    });
    let state = Arc::new(State {
        portal: portal.clone(),
        endpoints: vec![endpoint.clone()],
        public_key: identity.public_hex(),
        fingerprint: identity.fingerprint(),
        directory: directory.clone(),
        activation_delay_ms: i64::try_from(config.network.activation_delay_secs.saturating_mul(1000))
            .unwrap_or(i64::MAX),
        replicator: replicator.clone(),
        lmtp_addr,
        smtp_addr,
    });
    let mut tasks = NodeTasks::new(shutdown.clone());
    spawn_server(&mut tasks, state.clone(), tls, listener, &config.connections, shutdown.clone())?;
    let transport = mail_transport(dir, &config)?;
    let mailer = crate::mail::outbox::Mailer::new(portal.clone(), transport, shutdown.clone());
    tasks.spawn("mailer", background(&portal, mailer, crate::mail::outbox::BACKOFF, &shutdown));
    let sweep = crate::mail::outbox::MailSweep(portal.clone());
    tasks.spawn("mail sweep", background(&portal, sweep, crate::mail::outbox::BACKOFF, &shutdown));
    if let Some(r) = replicator {
        tasks.spawn("replication", ran_until(shutdown.clone(), r.run()));
    }
    if let Some(client) = directory {
        let advertised = config.public_endpoint.clone().unwrap_or_else(|| endpoint.clone());
        let sync = crate::directory::client::DirectorySync::new(
            portal.clone(),
            client,
            advertised,
            shutdown.clone(),
        );
        tasks.spawn(
            "directory sync",
            background(&portal, sync, crate::directory::client::SYNC_BACKOFF, &shutdown),
        );
    }
    let metrics_on_web = metrics.is_enabled() && metrics_listener.is_none();
    if let Some(l) = web_listener {
        let (state, shutdown, conns) = (state.clone(), shutdown.clone(), config.connections.clone());
        let site = crate::web::Site {
            portal: state.portal.clone(),
            endpoint: state.endpoints.first().cloned().unwrap_or_default(),
        };
        tasks.spawn("web", async move {
            let mut app = crate::web::router(Arc::new(site));
            if metrics_on_web {
                app = crate::web::secured(app.merge(crate::metrics::router(state.clone())));
            }
            crate::listen::serve_http(l, app, &conns, "web", state.portal.metrics.clone(), shutdown)
                .await
                .context("web server")
        });
    }
    if let Some(l) = metrics_listener {
        let app = crate::metrics::router(state.clone());
        let (shutdown, conns, m) =
            (shutdown.clone(), config.connections.clone(), state.portal.metrics.clone());
        tasks.spawn("metrics", async move {
            crate::listen::serve_http(l, app, &conns, "metrics", m, shutdown).await.context("metrics server")
        });
    }
    for (listener, protocol, name) in [
        (lmtp_listener, portalnet_inbound::Protocol::Lmtp, "lmtp listener"),
        (smtp_listener, portalnet_inbound::Protocol::Smtp, "smtp listener"),
    ] {
        if let Some(l) = listener {
            let handler = Arc::new(crate::mail::listener::PortalMail { portal: portal.clone() });
            let cfg = portalnet_inbound::ListenerConfig::new(protocol, portal.mail_domain().to_string());
            let serve = portalnet_inbound::serve(l, cfg, handler, shutdown.clone());
            tasks.spawn(name, ran_until(shutdown.clone(), serve));
        }
    }
    std::fs::write(dir.join(ENDPOINT_FILE), &endpoint)?;
    tracing::info!(portal = %config.portal_id, %endpoint, web = web_url.as_deref().unwrap_or("off"), "portal node serving");
    Ok(NodeHandle {
        addr,
        metrics_url: match (metrics_addr, &web_url) {
            (Some(a), _) => Some(format!("http://{a}/metrics")),
            (None, Some(w)) if metrics_on_web => Some(format!("{w}/metrics")),
            _ => None,
        },
        lmtp_addr,
        smtp_addr,
        endpoint,
        web_url,
        dir: dir.to_path_buf(),
        state,
        tasks,
    })
}

/// A loop that returns nothing ran as it should only if it returned because the
/// node is stopping; returning earlier is a death.
/// A background worker of the portal, run by the one worker lifecycle
/// ([`crate::worker::run`]) as a task of the node.
fn background<W: crate::worker::Worker>(
    portal: &Arc<Portal>,
    worker: W,
    backoff: crate::worker::Backoff,
    shutdown: &CancellationToken,
) -> impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static {
    let run =
        crate::worker::run(worker, portal.workers.clone(), portal.clock.clone(), backoff, shutdown.clone());
    ran_until(shutdown.clone(), run)
}

async fn ran_until(shutdown: CancellationToken, fut: impl std::future::Future<Output = ()>) -> Result<()> {
    fut.await;
    if shutdown.is_cancelled() { Ok(()) } else { Err(anyhow::anyhow!("ended while the node was running")) }
}

/// Before anything writes: file bytes earlier releases kept in the database move
/// to the blob store, and blobs no record names (a crash between a blob's write
/// and its commit) and temporary blob files are removed.
fn prepare_blobs(tables: Tables) -> Result<Tables> {
    let moved = tables.migrate_file_blobs().context("cannot move file bytes to the blob store")?;
    if moved > 0 {
        tracing::info!(files = moved, "file bytes moved from the database to the blob store");
    }
    let gone = tables.collect_blob_garbage().context("cannot clean the blob store")?;
    if gone.orphans + gone.temporary > 0 {
        tracing::info!(orphans = gone.orphans, temporary = gone.temporary, "blob store cleaned at start");
    }
    Ok(tables)
}

/// The gRPC server and its health reporter, as tasks of the node.
fn spawn_server(
    tasks: &mut NodeTasks,
    state: Arc<State>,
    tls: crate::tls::TlsFiles,
    listener: TcpListener,
    conns: &crate::config::ConnectionsConfig,
    shutdown: CancellationToken,
) -> Result<()> {
    // Files stream in chunks (UploadFile); only the deprecated whole-file call
    // carries one in a message: room for a small file plus the rest of the message.
    // Anything larger is refused by its length prefix, before it is read.
    let max_upload =
        usize::try_from(grpc::UNARY_FILE_BYTES).unwrap_or(usize::MAX).saturating_add(MAX_MESSAGE);
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(portalnet_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("cannot build the reflection service")?;
    let (health, health_svc) = tonic_health::server::health_reporter();
    let identity = TlsIdentity::from_pem(tls.cert_pem, tls.key_pem);
    let mut builder = Server::builder()
        .tls_config(ServerTlsConfig::new().identity(identity).timeout(conns.handshake()))
        .context("TLS certificate or key is not usable")?
        .concurrency_limit_per_connection(256)
        .timeout(std::time::Duration::from_secs(60))
        .http2_keepalive_interval(Some(conns.keepalive()))
        .layer(crate::rpc_layer::RpcLayer::new(
            state.portal.metrics.clone(),
            crate::rpc_layer::KnownMethods::node(),
        ));
    let router = builder
        .add_service(health_svc)
        .add_service(reflection)
        .add_service(
            UserServiceServer::new(grpc::UserSvc(state.clone())).max_decoding_message_size(MAX_MESSAGE),
        )
        .add_service(
            GroupServiceServer::new(grpc::GroupSvc(state.clone())).max_decoding_message_size(MAX_MESSAGE),
        )
        .add_service(
            TaskServiceServer::new(grpc::TaskSvc(state.clone())).max_decoding_message_size(max_upload),
        )
        .add_service(
            PortalServiceServer::new(grpc::PortalSvc(state.clone())).max_decoding_message_size(MAX_MESSAGE),
        )
        .add_service(
            ReportServiceServer::new(grpc::ReportSvc(state.clone())).max_decoding_message_size(MAX_MESSAGE),
        )
        .add_service(
            InvitationServiceServer::new(grpc::InvitationSvc(state.clone()))
                .max_decoding_message_size(MAX_MESSAGE),
        )
        .add_service(
            NetworkServiceServer::new(grpc::NetworkSvc(state.clone())).max_decoding_message_size(MAX_MESSAGE),
        )
        .add_service(
            MailServiceServer::new(grpc::MailSvc(state.clone())).max_decoding_message_size(MAX_MESSAGE),
        )
        .add_optional_service(state.replicator.clone().map(|r| {
            let verifier = std::sync::Arc::new(portalnet_federation::Verifier::new(
                state.portal.portal_id().to_string(),
            ));
            ReplicationServer::new(crate::replication::ReplicationSvc { replicator: r, verifier })
                .max_decoding_message_size(crate::replication::peers::MAX_REPLICATION_MESSAGE)
                .max_encoding_message_size(crate::replication::peers::MAX_REPLICATION_MESSAGE)
        }))
        .add_service(EchoServer::new(grpc::EchoSvc(state.clone())).max_decoding_message_size(MAX_MESSAGE));
    let health_loop = report_health(health, state.portal.storage_ok.subscribe(), shutdown.clone());
    tasks.spawn("health", ran_until(shutdown.clone(), health_loop));
    let incoming = crate::listen::Incoming::grpc(listener, conns, state.portal.metrics.clone());
    tasks.spawn("grpc server", async move {
        router.serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned()).await.context("gRPC server")
    });
    Ok(())
}

/// The services whose health a portal reports (and "", the node as a whole).
const HEALTH_SERVICES: [&str; 10] = [
    "",
    "portalnet.v1.UserService",
    "portalnet.v1.GroupService",
    "portalnet.v1.TaskService",
    "portalnet.v1.PortalService",
    "portalnet.v1.ReportService",
    "portalnet.v1.InvitationService",
    "portalnet.v1.NetworkService",
    "portalnet.v1.MailService",
    "portalnet.v1.Replication",
];

/// SERVING while storage flushes succeed; NOT_SERVING while they fail and from
/// the moment the node starts stopping.
async fn report_health(
    health: tonic_health::server::HealthReporter,
    mut storage_ok: tokio::sync::watch::Receiver<bool>,
    shutdown: CancellationToken,
) {
    use tonic_health::ServingStatus as S;
    let set = |status: S| {
        let health = health.clone();
        async move {
            for svc in HEALTH_SERVICES {
                health.set_service_status(svc, status).await;
            }
        }
    };
    loop {
        let ok = *storage_ok.borrow_and_update();
        if !ok {
            tracing::error!("storage is failing: health reports NOT_SERVING until a flush succeeds");
        }
        set(if ok { S::Serving } else { S::NotServing }).await;
        tokio::select! {
            _ = shutdown.cancelled() => break,
            changed = storage_ok.changed() => if changed.is_err() { break },
        }
    }
    set(S::NotServing).await;
}

fn mail_transport(dir: &Path, config: &NodeConfig) -> Result<portalnet_mail::Transport> {
    Ok(match &config.mail.smtp_relay {
        Some(relay) => {
            let (host, port) = relay
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
                .with_context(|| format!("mail.smtp_relay `{relay}` must be HOST:PORT"))?;
            portalnet_mail::Transport::Smtp { host, port }
        }
        None => portalnet_mail::Transport::Files {
            dir: crate::config::resolve(dir, config.mail.dir.as_deref().unwrap_or(Path::new("mail/outbox"))),
        },
    })
}
