//! `portald devnet`: several portals on loopback in one process, each with its own
//! data folder and port, seeded with demo people, groups and tasks on first run.

use crate::app::{Portal, actor_of};
use crate::server::{NodeHandle, start};
use anyhow::{Context, Result, anyhow};
use portalnet_core::Clock;
use portalnet_core::group::{GroupRole, NewGroup};
use portalnet_core::task::{NewTask, TaskStatus};
use portalnet_core::user::NewUser;
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

/// Starts (initialising on first run) `n` portals under `dir`. Port `base_port + i`
/// for portal i, or ephemeral ports when `base_port` is 0.
pub async fn start_devnet(
    dir: &Path,
    n: usize,
    base_port: u16,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) -> Result<Vec<DevPortal>> {
    if n == 0 || n > PORTAL_NAMES.len() {
        return Err(anyhow!("--portals must be between 1 and {}", PORTAL_NAMES.len()));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut out = Vec::with_capacity(n);
    for (i, id) in PORTAL_NAMES.iter().take(n).enumerate() {
        let pdir = dir.join(id);
        let fresh = !pdir.join(crate::config::CONFIG_FILE).exists();
        if fresh {
            let port = if base_port == 0 { 0 } else { base_port + i as u16 };
            let listen: SocketAddr = ([127, 0, 0, 1], port).into();
            crate::init::init(&pdir, id, listen, clock.as_ref())?;
        }
        let handle = start(&pdir, clock.clone(), None, shutdown.child_token()).await?;
        let admin_token =
            std::fs::read_to_string(pdir.join(crate::init::ADMIN_TOKEN_FILE))?.trim().to_string();
        if fresh {
            seed(&handle.state.portal, i, &pdir).map_err(|e| anyhow!("seeding {id}: {e}"))?;
            handle.state.portal.durable().await.map_err(|e| anyhow!("{e}"))?;
        }
        let env = exports(&handle.endpoint, &admin_token, &pdir);
        std::fs::write(pdir.join("env.sh"), format!("{env}\n"))?;
        out.push(DevPortal { id: id.to_string(), dir: pdir, handle, admin_token });
    }
    Ok(out)
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
