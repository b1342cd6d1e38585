//! Test support: real portal nodes over TLS — in-process on `127.0.0.1:0`, or as
//! separate `portald` processes — plus authenticated gRPC clients and a way to run
//! `portalctl`. Every wait has a deadline; nothing sleeps for luck.

pub mod browser;
pub mod extranet;
pub mod fed;
pub mod mailnode;
pub mod otlp;
pub mod procnet;
pub mod proxy;
pub mod scrape;
pub mod smtp;

use anyhow::{Context, Result, anyhow, bail};
use portalnet_core::{Clock, Timestamp};
use portalnet_proto::v1 as pb;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

pub use pb::group_service_client::GroupServiceClient;
pub use pb::invitation_service_client::InvitationServiceClient;
pub use pb::network_service_client::NetworkServiceClient;
pub use pb::portal_service_client::PortalServiceClient;
pub use pb::report_service_client::ReportServiceClient;
pub use pb::task_service_client::TaskServiceClient;
pub use pb::user_service_client::UserServiceClient;

pub const DEADLINE: Duration = Duration::from_secs(30);

/// A clock the test moves by hand (starts at the real time).
#[derive(Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new() -> Self {
        Self(Arc::new(AtomicI64::new(portalnet_node::clock::SystemClock.now().0)))
    }
    pub fn advance(&self, d: Duration) {
        self.0.fetch_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX), Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// Path of a binary of this workspace, built by `cargo test --workspace`.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` (or cargo test --workspace)",
        path.display()
    );
    path
}

/// Polls `f` until it returns `Some`, or fails after `DEADLINE`.
pub async fn wait_for<T, F, Fut>(what: &str, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return Ok(v);
        }
        if start.elapsed() > DEADLINE {
            bail!("timed out after {DEADLINE:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[derive(Clone)]
pub struct Auth(MetadataValue<Ascii>);

impl Interceptor for Auth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

pub type Authed = InterceptedService<Channel, Auth>;

/// Authenticated clients of every portal service.
#[derive(Clone)]
pub struct Clients {
    pub users: UserServiceClient<Authed>,
    pub groups: GroupServiceClient<Authed>,
    pub tasks: TaskServiceClient<Authed>,
    pub portal: PortalServiceClient<Authed>,
    pub reports: ReportServiceClient<Authed>,
    pub invites: InvitationServiceClient<Authed>,
    pub network: NetworkServiceClient<Authed>,
}

/// A TLS channel to `endpoint`, trusting the node's certificate `ca`.
pub async fn channel(endpoint: &str, ca: &Path) -> Result<Channel> {
    let pem = std::fs::read_to_string(ca)?;
    let ep = Endpoint::from_shared(endpoint.to_string())?
        .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))?
        .connect_timeout(Duration::from_secs(5));
    Ok(ep.connect().await?)
}

pub fn clients(ch: Channel, token: &str) -> Clients {
    let auth = Auth(format!("Bearer {token}").parse().expect("ascii token"));
    let max = 64 * 1024 * 1024;
    Clients {
        users: UserServiceClient::with_interceptor(ch.clone(), auth.clone()),
        groups: GroupServiceClient::with_interceptor(ch.clone(), auth.clone()),
        tasks: TaskServiceClient::with_interceptor(ch.clone(), auth.clone()).max_encoding_message_size(max),
        portal: PortalServiceClient::with_interceptor(ch.clone(), auth.clone()),
        reports: ReportServiceClient::with_interceptor(ch.clone(), auth.clone()),
        invites: InvitationServiceClient::with_interceptor(ch.clone(), auth.clone()),
        network: NetworkServiceClient::with_interceptor(ch, auth),
    }
}

/// What every kind of test node offers.
pub trait Node {
    fn endpoint(&self) -> &str;
    fn dir(&self) -> &Path;
    fn admin_token(&self) -> String {
        std::fs::read_to_string(self.dir().join("admin.token")).expect("admin.token").trim().to_string()
    }
    fn ca(&self) -> PathBuf {
        self.dir().join("tls/cert.pem")
    }
}

/// A node running inside the test process.
pub struct InProcess {
    pub tmp: Option<tempfile::TempDir>,
    pub dir: PathBuf,
    pub handle: Option<portalnet_node::NodeHandle>,
    pub endpoint: String,
    pub clock: Arc<dyn Clock>,
}

impl InProcess {
    /// Initialises a fresh portal in a temporary folder and starts it.
    pub async fn start(portal: &str) -> Result<Self> {
        Self::start_with_clock(portal, Arc::new(portalnet_node::clock::SystemClock)).await
    }

    /// A portal linked to `directory` (`[directory]` in its config), with the given
    /// activation delay, reading time from `clock`.
    pub async fn start_linked(
        portal: &str,
        directory: &portalnet_node::directory::server::DirectoryHandle,
        activation_delay_secs: u64,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join(portal);
        portalnet_node::init::init(&dir, portal, "127.0.0.1:0".parse()?, clock.as_ref())?;
        let mut cfg = portalnet_node::config::NodeConfig::load(&dir)?;
        cfg.directory = Some(portalnet_node::config::DirectoryLink {
            endpoint: directory.endpoint.clone(),
            endpoints: Vec::new(),
            id: directory.id.clone(),
            ca: directory.cert.clone(),
        });
        cfg.network.activation_delay_secs = activation_delay_secs;
        cfg.save(&dir)?;
        // As an operator would: the directory enrols the id, the portal keeps the secret.
        let secret = portalnet_node::directory::enrolment::enrol_in_process(
            &directory.directory,
            portal,
            clock.now(),
        )?;
        portalnet_node::directory::enrolment::save_for_portal(&dir, &secret)?;
        let mut n = Self { tmp: Some(tmp), dir, handle: None, endpoint: String::new(), clock };
        n.restart().await?;
        Ok(n)
    }

    /// The same, reading time from `clock` (for expiry and other time rules).
    pub async fn start_with_clock(portal: &str, clock: Arc<dyn Clock>) -> Result<Self> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join(portal);
        portalnet_node::init::init(&dir, portal, "127.0.0.1:0".parse()?, clock.as_ref())?;
        let mut n = Self { tmp: Some(tmp), dir, handle: None, endpoint: String::new(), clock };
        n.restart().await?;
        Ok(n)
    }

    /// Stops the node, lets `edit` change its `portald.toml`, and starts it again.
    pub async fn reconfigure(
        &mut self,
        edit: impl FnOnce(&mut portalnet_node::config::NodeConfig),
    ) -> Result<()> {
        if let Some(h) = self.handle.take() {
            h.stop().await?;
        }
        let mut cfg = portalnet_node::config::NodeConfig::load(&self.dir)?;
        edit(&mut cfg);
        cfg.save(&self.dir)?;
        self.restart().await
    }

    /// Stops and starts the node again on the same address, so peers that know
    /// it (from the directory, earlier) reach it where they last saw it.
    pub async fn restart_in_place(&mut self) -> Result<()> {
        let addr = self.handle.as_ref().ok_or_else(|| anyhow!("not running"))?.addr;
        self.start_on(&addr.to_string()).await
    }

    /// Stops the node (if running) and starts it again on the same data folder.
    pub async fn restart(&mut self) -> Result<()> {
        self.start_on("127.0.0.1:0").await
    }

    async fn start_on(&mut self, addr: &str) -> Result<()> {
        if let Some(h) = self.handle.take() {
            h.stop().await?;
        }
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let h = portalnet_node::start(
            &self.dir,
            self.clock.clone(),
            Some(listener),
            tokio_util::sync::CancellationToken::new(),
        )
        .await?;
        self.endpoint = h.endpoint.clone();
        self.handle = Some(h);
        Ok(())
    }

    pub async fn clients(&self, token: &str) -> Result<Clients> {
        Ok(clients(channel(&self.endpoint, &self.ca()).await?, token))
    }

    pub async fn admin(&self) -> Result<Clients> {
        self.clients(&self.admin_token()).await
    }
}

impl Node for InProcess {
    fn endpoint(&self) -> &str {
        &self.endpoint
    }
    fn dir(&self) -> &Path {
        &self.dir
    }
}

/// A `portald run` child process.
pub struct Process {
    pub dir: PathBuf,
    pub child: Option<Child>,
    pub endpoint: String,
    pub log: PathBuf,
}

impl Process {
    /// `portald init` in `dir` (listening on an ephemeral port), then `run`.
    pub async fn init_and_run(dir: &Path, portal: &str) -> Result<Self> {
        let mut p = Self::init(dir, portal)?;
        p.run().await?;
        Ok(p)
    }

    /// `portald init` in `dir` (listening on an ephemeral port), not yet running:
    /// the caller may edit `portald.toml` first.
    pub fn init(dir: &Path, portal: &str) -> Result<Self> {
        let out = Command::new(bin("portald"))
            .args(["init", "--dir"])
            .arg(dir)
            .args(["--portal", portal, "--listen", "127.0.0.1:0"])
            .output()?;
        if !out.status.success() {
            bail!("portald init failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            child: None,
            endpoint: String::new(),
            log: dir.join("portald.log"),
        })
    }

    /// Starts `portald run` and waits until it answers health checks over TLS.
    pub async fn run(&mut self) -> Result<()> {
        let _ = std::fs::remove_file(self.dir.join("endpoint"));
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        let child = Command::new(bin("portald"))
            .args(["run", "--dir"])
            .arg(&self.dir)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        let child = self.child.insert(child);
        let dir = self.dir.clone();
        // Also ends when the process exits first (a port taken, say), with the log.
        let started = wait_for("the node's endpoint file", || {
            let exited = child.try_wait().ok().flatten();
            let endpoint = std::fs::read_to_string(dir.join("endpoint")).ok().filter(|s| !s.is_empty());
            async move {
                match (endpoint, exited) {
                    (Some(e), _) => Some(Ok(e)),
                    (None, Some(status)) => Some(Err(status)),
                    (None, None) => None,
                }
            }
        })
        .await;
        let log = || format!("node log:\n{}", std::fs::read_to_string(&self.log).unwrap_or_default());
        let endpoint = match started.with_context(log)? {
            Ok(endpoint) => endpoint,
            Err(status) => anyhow::bail!("portald exited with {status} before serving; {}", log()),
        };
        let ca = self.ca();
        wait_for("a healthy node", || {
            let (endpoint, ca) = (endpoint.clone(), ca.clone());
            async move { healthy(&endpoint, &ca).await.then_some(()) }
        })
        .await?;
        self.endpoint = endpoint;
        Ok(())
    }

    /// SIGKILL: no chance to flush or say goodbye.
    pub fn kill(&mut self) -> Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill()?;
            c.wait()?;
        }
        Ok(())
    }

    /// SIGSTOP: the process holds its sockets but answers nothing until [`Self::resume`].
    pub fn pause(&self) -> Result<()> {
        self.signal("-STOP")
    }

    /// SIGCONT after [`Self::pause`].
    pub fn resume(&self) -> Result<()> {
        self.signal("-CONT")
    }

    fn signal(&self, sig: &str) -> Result<()> {
        let c = self.child.as_ref().ok_or_else(|| anyhow!("not running"))?;
        let st = Command::new("kill").args([sig, &c.id().to_string()]).status()?;
        if !st.success() {
            bail!("kill {sig} failed");
        }
        Ok(())
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(&mut self) -> Result<std::process::ExitStatus> {
        let mut c = self.child.take().ok_or_else(|| anyhow!("not running"))?;
        let pid = c.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        let start = Instant::now();
        loop {
            if let Some(st) = c.try_wait()? {
                return Ok(st);
            }
            if start.elapsed() > DEADLINE {
                c.kill()?;
                bail!("portald did not stop within {DEADLINE:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub async fn clients(&self, token: &str) -> Result<Clients> {
        Ok(clients(channel(&self.endpoint, &self.ca()).await?, token))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

impl Node for Process {
    fn endpoint(&self) -> &str {
        &self.endpoint
    }
    fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Whether the standard gRPC health service answers SERVING.
pub async fn healthy(endpoint: &str, ca: &Path) -> bool {
    let Ok(ch) = channel(endpoint, ca).await else { return false };
    let mut h = tonic_health::pb::health_client::HealthClient::new(ch);
    matches!(
        h.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await,
        Ok(r) if r.get_ref().status == tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    )
}

/// Runs `portalctl` against `node` with `token`; returns its output.
pub fn ctl(node: &dyn Node, token: &str, args: &[&str]) -> Output {
    Command::new(bin("portalctl"))
        .args(args)
        .env("PORTALCTL_ENDPOINT", node.endpoint())
        .env("PORTALCTL_TOKEN", token)
        .env("PORTALCTL_CA", node.ca())
        .output()
        .expect("run portalctl")
}

/// Runs `portalctl --json …`, asserts success, and parses stdout.
pub fn ctl_json(node: &dyn Node, token: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = ctl(node, token, &all);
    assert!(
        out.status.success(),
        "portalctl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("portalctl {args:?} printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stdout))
    })
}

/// Helper for readable requests.
pub fn new_user(login: &str, name: &str) -> pb::AddUserRequest {
    pb::AddUserRequest {
        login: login.into(),
        display_name: name.into(),
        email: format!("{login}@example.test"),
        ..Default::default()
    }
}

/// A Network directory running inside the test process, in a temporary folder.
pub struct TestDirectory {
    pub tmp: tempfile::TempDir,
    pub handle: portalnet_node::directory::server::DirectoryHandle,
}

impl TestDirectory {
    pub async fn start(clock: Arc<dyn Clock>) -> Result<Self> {
        Self::start_with(clock, |_| {}).await
    }

    /// [`Self::start`] with settings of the test's own.
    pub async fn start_with(
        clock: Arc<dyn Clock>,
        configure: impl FnOnce(&mut portalnet_node::directory::server::DirectoryConfig),
    ) -> Result<Self> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join("directory");
        let mut cfg = portalnet_node::directory::server::init_if_needed(
            &dir,
            "directory.test",
            "127.0.0.1:0".parse()?,
        )?;
        // Prometheus metrics on an ephemeral port (`handle.metrics_url`).
        cfg.metrics_listen = Some("127.0.0.1:0".parse()?);
        configure(&mut cfg);
        Self::launch(tmp, cfg, "127.0.0.1:0".parse()?, clock).await
    }

    /// The same directory stopped and started again from its folder, on the same
    /// address, with its settings changed by `configure`.
    pub async fn restarted(
        self,
        clock: Arc<dyn Clock>,
        configure: impl FnOnce(&mut portalnet_node::directory::server::DirectoryConfig),
    ) -> Result<Self> {
        let Self { tmp, handle } = self;
        let addr = handle.addr;
        handle.stop().await?;
        let mut cfg =
            portalnet_node::directory::server::DirectoryConfig::load(&tmp.path().join("directory"))?;
        configure(&mut cfg);
        Self::launch(tmp, cfg, addr, clock).await
    }

    /// Writes `cfg` into the directory's folder in `tmp` and starts it on `addr`.
    async fn launch(
        tmp: tempfile::TempDir,
        cfg: portalnet_node::directory::server::DirectoryConfig,
        addr: std::net::SocketAddr,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let dir = tmp.path().join("directory");
        std::fs::write(
            dir.join(portalnet_node::directory::server::CONFIG_FILE),
            toml::to_string_pretty(&cfg)?,
        )?;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let handle = portalnet_node::directory::server::start(
            &dir,
            clock,
            Some(listener),
            tokio_util::sync::CancellationToken::new(),
        )
        .await?;
        Ok(Self { tmp, handle })
    }

    /// An unauthenticated client of the directory (the calls carry signed envelopes).
    pub async fn client(&self) -> Result<pb::directory_client::DirectoryClient<Channel>> {
        Ok(pb::directory_client::DirectoryClient::new(
            channel(&self.handle.endpoint, &self.handle.cert).await?,
        ))
    }
}

/// A task creation request: title, responsible person, observers.
pub fn new_task(title: &str, responsible: &str, observers: &[&str]) -> pb::CreateTaskRequest {
    pb::CreateTaskRequest {
        title: title.into(),
        responsible: responsible.into(),
        observers: observers.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// The code and message of a call that must be refused (panics if it succeeded).
pub fn refusal<T: std::fmt::Debug>(r: Result<T, tonic::Status>) -> (tonic::Code, String) {
    let e = r.expect_err("expected a refusal");
    (e.code(), e.message().to_string())
}

/// Creates a group as the caller of `groups` and returns it.
pub async fn new_group(groups: &mut GroupServiceClient<Authed>, req: pb::CreateGroupRequest) -> pb::Group {
    groups.create_group(req).await.expect("create group").into_inner().group.expect("group in reply")
}

/// A new extranet group `name`, and an invitation of `email` into it (its e-mail
/// queued in the same write).
pub async fn invite_into_new_group(admin: &mut Clients, name: &str, email: &str) -> pb::Group {
    let req = pb::CreateGroupRequest { name: name.into(), extranet: true, ..Default::default() };
    let g = new_group(&mut admin.groups, req).await;
    let invite = pb::InviteRequest { email: email.into(), group_id: g.id, ..Default::default() };
    admin.invites.invite(invite).await.expect("invite");
    g
}

/// A task's whole history, following pages (lists answer 100 rows per page by default).
pub async fn full_history(
    tasks: &TaskServiceClient<Authed>,
    task_id: u64,
) -> Result<Vec<pb::HistoryEntry>, tonic::Status> {
    let mut c = tasks.clone();
    let (mut out, mut page_token) = (Vec::new(), String::new());
    loop {
        let r = c.history(pb::HistoryRequest { task_id, page_size: 1000, page_token }).await?.into_inner();
        out.extend(r.entries);
        if r.next_page_token.is_empty() {
            return Ok(out);
        }
        page_token = r.next_page_token;
    }
}

/// A task's comments, following pages.
pub async fn full_comments(
    tasks: &TaskServiceClient<Authed>,
    task_id: u64,
) -> Result<Vec<pb::Comment>, tonic::Status> {
    let mut c = tasks.clone();
    let (mut out, mut page_token) = (Vec::new(), String::new());
    loop {
        let r = c
            .list_comments(pb::ListCommentsRequest { task_id, page_size: 1000, page_token })
            .await?
            .into_inner();
        out.extend(r.comments);
        if r.next_page_token.is_empty() {
            return Ok(out);
        }
        page_token = r.next_page_token;
    }
}

/// Every task the caller sees, following pages.
pub async fn full_task_list(tasks: &TaskServiceClient<Authed>) -> Result<Vec<pb::Task>, tonic::Status> {
    let mut c = tasks.clone();
    let (mut out, mut page_token) = (Vec::new(), String::new());
    loop {
        let req = pb::ListTasksRequest { page_size: 1000, page_token, ..Default::default() };
        let r = c.list_tasks(req).await?.into_inner();
        out.extend(r.tasks);
        if r.next_page_token.is_empty() {
            return Ok(out);
        }
        page_token = r.next_page_token;
    }
}
