//! Networks of portals for cross-portal task tests: a directory and portals, each
//! linked to it, the network switched on and active (the injected clock moved past
//! the activation delay), and one person per portal with a token.

use crate::{Clients, InProcess, ManualClock, TestDirectory, new_user, wait_for};
use anyhow::Result;
use portalnet_proto::v1 as pb;
use std::sync::Arc;
use std::time::Duration;

pub const DAY: u64 = 24 * 3600;

/// One portal of a test network and its person.
pub struct Member {
    pub node: InProcess,
    pub admin: Clients,
    /// The person's login (bare) and address (`login@portal`).
    pub login: String,
    pub address: String,
    pub user: Clients,
    pub token: String,
}

pub struct Fed {
    pub clock: ManualClock,
    pub dir: TestDirectory,
    pub members: Vec<Member>,
}

/// Portals `ids`, with one person each: `people[i]` = (login, display name).
pub async fn fed(ids: &[&str], people: &[(&str, &str)]) -> Result<Fed> {
    let clock = ManualClock::new();
    let dir = TestDirectory::start(Arc::new(clock.clone())).await?;
    let mut members = Vec::new();
    for (id, (login, name)) in ids.iter().zip(people) {
        let node = InProcess::start_linked(id, &dir.handle, DAY, Arc::new(clock.clone())).await?;
        let mut admin = node.admin().await?;
        let token = add_person(&mut admin, login, name).await?;
        let user = node.clients(&token).await?;
        members.push(Member {
            node,
            admin,
            login: login.to_string(),
            address: format!("{login}@{id}"),
            user,
            token,
        });
    }
    for m in &mut members {
        enable(&mut m.admin).await?;
    }
    clock.advance(Duration::from_secs(DAY + 1));
    // Everyone is findable before the test starts (R16). Read from the directory's
    // storage: searching would spend the search rate limit, which the stopped
    // clock never refills.
    for m in &members {
        let address = m.address.clone();
        let d = dir.handle.directory.clone();
        wait_for(&format!("{address} in the directory"), || {
            let found = d.lookup_addresses(std::slice::from_ref(&address)).ok().is_some_and(|p| p.len() == 1);
            async move { found.then_some(()) }
        })
        .await?;
    }
    Ok(Fed { clock, dir, members })
}

/// Adds an employee and returns a token for them.
pub async fn add_person(admin: &mut Clients, login: &str, name: &str) -> Result<String> {
    admin.users.add_user(new_user(login, name)).await?;
    let req = pb::IssueTokenRequest { login: login.to_string() };
    Ok(admin.users.issue_token(req).await?.into_inner().token)
}

/// Switches network communication on, retrying until the directory has the portal
/// registered (it registers in the background at start).
pub async fn enable(admin: &mut Clients) -> Result<()> {
    let a = admin.clone();
    wait_for("network enabled", || {
        let mut a = a.clone();
        async move { a.network.enable(pb::NetworkRequest {}).await.ok().map(|_| ()) }
    })
    .await
}

/// Waits until `c` sees task `id` satisfying `ok`, and returns it.
pub async fn task_where(
    c: &Clients,
    id: u64,
    what: &str,
    ok: impl Fn(&pb::Task) -> bool,
) -> Result<pb::Task> {
    let ok = &ok;
    wait_for(what, || {
        let mut c = c.clone();
        async move {
            let t = c.tasks.get_task(pb::GetTaskRequest { id }).await.ok()?.into_inner();
            ok(&t).then_some(t)
        }
    })
    .await
}

/// The local id of the task homed at `home` with id `home_id`, once `c` has it.
pub async fn replica_id(c: &Clients, home: &str, home_id: u64) -> Result<u64> {
    wait_for(&format!("replica of {home}#{home_id}"), || {
        let mut c = c.clone();
        let home = home.to_string();
        async move {
            let list = c.tasks.list_tasks(pb::ListTasksRequest::default()).await.ok()?.into_inner().tasks;
            list.into_iter().find(|t| t.home == home && t.home_task_id == home_id).map(|t| t.id)
        }
    })
    .await
}

/// `task history --verify` over gRPC: (ok, events, head hash, problems).
pub async fn verify(c: &Clients, id: u64) -> Result<pb::VerifyHistoryResponse> {
    Ok(c.tasks
        .clone()
        .verify_history(pb::HistoryRequest { task_id: id, ..Default::default() })
        .await?
        .into_inner())
}
