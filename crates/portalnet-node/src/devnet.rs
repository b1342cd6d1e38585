//! `portald devnet`: several portals on loopback in one process, each with its own
//! data folder and port, seeded with demo people, groups and tasks on first run.

use crate::config::{DirectoryLink, NodeConfig};
use crate::directory::server::DirectoryHandle;
use crate::server::{NodeHandle, start};
use anyhow::{Context, Result, anyhow};
use portalnet_core::Clock;
use portalnet_core::group::{GroupRole, NewGroup};
use portalnet_core::task::{NewTask, TaskStatus};
use portalnet_core::user::NewUser;
use portalnet_portal::{Portal, actor_of};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub const PORTAL_NAMES: [&str; 8] = [
    "alpha.test",
    "beta.test",
    "gamma.test",
    "delta.test",
    "epsilon.test",
    "zeta.test",
    "eta.test",
    "theta.test",
];

/// One portal of a running devnet.
pub struct DevPortal {
    pub id: String,
    pub dir: PathBuf,
    pub handle: NodeHandle,
    pub admin_token: String,
}

/// A running devnet: the directory and the portals.
pub struct Devnet {
    pub directory: DirectoryHandle,
    pub portals: Vec<DevPortal>,
}

impl Devnet {
    pub async fn stop(self) -> Result<()> {
        for p in self.portals {
            p.handle.stop().await?;
        }
        self.directory.stop().await
    }
}

/// The id devnet gives its directory.
pub const DIRECTORY_ID: &str = "directory.test";

/// Starts (initialising on first run) a Network directory and `n` portals under
/// `dir`: the directory on `base_port - 1`, portal i on `base_port + i` (ephemeral
/// ports when `base_port` is 0). On first run each portal is enrolled, seeded, registered and
/// has network communication switched on; cross-portal work opens after
/// `activation_delay_secs` (R15, shortened for demos).
pub async fn start_devnet(
    dir: &Path,
    n: usize,
    base_port: u16,
    activation_delay_secs: u64,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) -> Result<Devnet> {
    if n == 0 || n > PORTAL_NAMES.len() {
        return Err(anyhow!("--portals must be between 1 and {}", PORTAL_NAMES.len()));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let port = |offset: i32| if base_port == 0 { 0 } else { (i32::from(base_port) + offset) as u16 };
    let ddir = dir.join("directory");
    crate::directory::server::init_if_needed(&ddir, DIRECTORY_ID, ([127, 0, 0, 1], port(-1)).into())?;
    let directory =
        crate::directory::server::start(&ddir, clock.clone(), None, shutdown.child_token()).await?;
    let link = DirectoryLink {
        endpoint: directory.endpoint.clone(),
        endpoints: Vec::new(),
        id: directory.id.clone(),
        ca: std::fs::canonicalize(&directory.cert).unwrap_or(directory.cert.clone()),
    };
    let mut portals = Vec::with_capacity(n);
    for (i, id) in PORTAL_NAMES.iter().take(n).enumerate() {
        let pdir = dir.join(id);
        let fresh = !pdir.join(crate::config::CONFIG_FILE).exists();
        if fresh {
            let listen: SocketAddr = ([127, 0, 0, 1], port(i as i32)).into();
            crate::init::init(&pdir, id, listen, clock.as_ref())?;
        }
        // The devnet's operator is this process: it enrols each portal id its
        // directory does not know yet, and the portal presents the secret.
        if directory.directory.portal(id).context("reading the directory")?.is_none() {
            let secret =
                crate::directory::enrolment::enrol_in_process(&directory.directory, id, clock.now())?;
            crate::directory::enrolment::save_for_portal(&pdir, &secret)?;
        }
        // Point the portal at this run's directory (its port may be new).
        let mut cfg = NodeConfig::load(&pdir)?;
        cfg.directory = Some(link.clone());
        cfg.network.activation_delay_secs = activation_delay_secs;
        // Mail in (R18–R22): LMTP on gRPC port + 200, SMTP on + 300.
        let grpc_offset = i as i32;
        cfg.mail.lmtp_listen.get_or_insert(([127, 0, 0, 1], port(grpc_offset + 200)).into());
        cfg.mail.smtp_listen.get_or_insert(([127, 0, 0, 1], port(grpc_offset + 300)).into());
        cfg.save(&pdir)?;
        let handle = start(&pdir, clock.clone(), None, shutdown.child_token()).await?;
        let admin_token =
            std::fs::read_to_string(pdir.join(crate::init::ADMIN_TOKEN_FILE))?.trim().to_string();
        if fresh {
            let portal = &handle.state.portal;
            seed(portal, i, &pdir).map_err(|e| anyhow!("seeding {id}: {e}"))?;
            if let Some(client) = &handle.state.directory {
                // As `network enable` does: the sync task's registration answer
                // must not land after this switch and undo it.
                let _state = client.network_state.lock().await;
                client
                    .register(&handle.endpoint, portal.now())
                    .await
                    .map_err(|s| anyhow!("{}", s.message()))?;
                let rec =
                    client.set_network(true, portal.now()).await.map_err(|s| anyhow!("{}", s.message()))?;
                portal
                    .record_network(crate::directory::client::network_of(&rec))
                    .context("recording the network setting")?;
            }
            portal.durable().await.context("flushing the portal")?;
        }
        let env = exports(&handle.endpoint, &admin_token, &pdir);
        std::fs::write(pdir.join("env.sh"), format!("{env}\n"))?;
        portals.push(DevPortal { id: id.to_string(), dir: pdir, handle, admin_token });
    }
    Ok(Devnet { directory, portals })
}

pub fn exports(endpoint: &str, token: &str, dir: &Path) -> String {
    let ca = dir.join("tls/cert.pem");
    let ca = std::fs::canonicalize(&ca).unwrap_or(ca);
    format!("export PORTALCTL_ENDPOINT={endpoint} PORTALCTL_TOKEN={token} PORTALCTL_CA={}", ca.display())
}

/// Demo people per portal: Polish names on even portals, Russian on odd ones.
const PEOPLE: [[(&str, &str, &str); 3]; 2] = [
    [
        ("anna", "Anna Nowak", "Project manager"),
        ("lukasz", "Łukasz Ślązak", "Developer"),
        ("zofia", "Zofia Wiśniewska", "Designer"),
    ],
    [
        ("anton", "Антон Ёлкин", "Руководитель проекта"),
        ("olga", "Ольга Смирнова", "Инженер"),
        ("ivan", "Иван Петров", "Аналитик"),
    ],
];

fn seed(portal: &Portal, index: usize, dir: &Path) -> Result<(), crate::NodeError> {
    let admin = actor_of(
        &portal
            .tables
            .users
            .get(&"admin".to_string())?
            .ok_or_else(|| crate::NodeError::invalid("the admin user is missing"))?,
    );
    let domain = portal.settings.portal_id.clone();
    let people = PEOPLE[index % 2];
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).map_err(|e| crate::NodeError::invalid(e.to_string()))?;
    let mut actors = Vec::new();
    for (login, name, position) in people {
        let u = portal
            .add_user(&admin, NewUser::new(login, name, &format!("{login}@{domain}"), position, false)?)?;
        let token = portal.issue_token(&admin, login)?;
        std::fs::write(tokens.join(format!("{login}.token")), token)
            .map_err(|e| crate::NodeError::invalid(e.to_string()))?;
        actors.push(actor_of(&u));
    }
    let (lead, dev, third) = (&actors[0], &actors[1], &actors[2]);
    let (group, _) = portal.create_group(
        lead,
        NewGroup::new("Launch", "Everything for the launch", portal.limits())?,
        &[],
    )?;
    portal.add_member(lead, group.id, &dev.login, GroupRole::Moderator)?;
    portal.add_member(lead, group.id, &third.login, GroupRole::Member)?;
    let task = |title: &str, responsible: &str, observers: Vec<String>| NewTask {
        title: title.into(),
        description: format!("Demo task seeded by devnet on {domain}."),
        responsible: Some(responsible.into()),
        accomplices: vec![],
        observers,
        deadline: Some(portal.now().plus_millis(7 * 24 * 3600 * 1000)),
        group: Some(group.id),
    };
    let t1 =
        portal.create_task(lead, task("Prepare the launch plan", &dev.login, vec![third.login.clone()]))?;
    portal.set_status(dev, t1.id, TaskStatus::InProgress)?;
    portal.add_comment(dev, t1.id, "Started; first draft by Friday.")?;
    let t2 = portal.create_task(lead, task("Design the landing page", &third.login, vec![]))?;
    portal.set_status(&actors[2], t2.id, TaskStatus::AwaitingControl)?;
    portal.create_task(dev, task("Review the budget", &lead.login, vec![]))?;
    Ok(())
}
