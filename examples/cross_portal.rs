//! Three real portal nodes and a Network directory in this process (TLS, sled on
//! disk, gRPC over loopback): a task created on alpha with its responsible person
//! on beta and an observer on gamma; beta starts the work, gamma comments, alpha
//! sets a deadline. Prints what each portal sees and how long replication took.
//!
//! `cargo run -p portalnet-examples --example cross_portal`

use portalnet_core::Clock;
use portalnet_node::clock::SystemClock;
use portalnet_proto::v1 as pb;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

type Auth = Box<dyn FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Send + Sync>;
type Tasks = pb::task_service_client::TaskServiceClient<InterceptedService<Channel, Auth>>;

fn auth(token: &str) -> Auth {
    let value: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().expect("ascii token");
    Box::new(move |mut req: tonic::Request<()>| {
        req.metadata_mut().insert("authorization", value.clone());
        Ok(req)
    })
}

async fn channel(endpoint: &str, ca: &Path) -> anyhow::Result<Channel> {
    let pem = std::fs::read_to_string(ca)?;
    Ok(Endpoint::from_shared(endpoint.to_string())?
        .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))?
        .connect()
        .await?)
}

struct Portal {
    id: &'static str,
    _node: portalnet_node::NodeHandle,
    tasks: Tasks,
}

/// Starts portal `id` linked to the directory, switches the network on and adds
/// one person; returns their task client.
async fn portal(
    root: &Path,
    dir: &portalnet_node::directory::server::DirectoryHandle,
    id: &'static str,
    (login, name): (&str, &str),
) -> anyhow::Result<Portal> {
    let pdir = root.join(id);
    let init = portalnet_node::init::init(&pdir, id, "127.0.0.1:0".parse()?, &SystemClock)?;
    let mut cfg = portalnet_node::config::NodeConfig::load(&pdir)?;
    cfg.directory = Some(portalnet_node::config::DirectoryLink {
        endpoint: dir.endpoint.clone(),
        endpoints: Vec::new(),
        id: dir.id.clone(),
        ca: dir.cert.clone(),
    });
    // R15 asks for a day between switching the network on and cross-portal work;
    // the example does not wait.
    cfg.network.activation_delay_secs = 0;
    cfg.save(&pdir)?;
    // The directory's operator (this program) enrols the id; the portal presents it.
    let secret =
        portalnet_node::directory::enrolment::enrol_in_process(&dir.directory, id, SystemClock.now())?;
    portalnet_node::directory::enrolment::save_for_portal(&pdir, &secret)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let node =
        portalnet_node::start(&pdir, Arc::new(SystemClock), Some(listener), Default::default()).await?;
    let ch = channel(&node.endpoint, &pdir.join("tls/cert.pem")).await?;
    let mut network = pb::network_service_client::NetworkServiceClient::with_interceptor(
        ch.clone(),
        auth(&init.admin_token),
    );
    let start = Instant::now();
    while network.enable(pb::NetworkRequest {}).await.is_err() {
        anyhow::ensure!(start.elapsed() < Duration::from_secs(30), "{id} could not switch its network on");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut users =
        pb::user_service_client::UserServiceClient::with_interceptor(ch.clone(), auth(&init.admin_token));
    let req = pb::AddUserRequest {
        login: login.into(),
        display_name: name.into(),
        email: format!("{login}@{id}"),
        ..Default::default()
    };
    users.add_user(req).await?;
    let token = users.issue_token(pb::IssueTokenRequest { login: login.into() }).await?.into_inner().token;
    println!("{id}: serving on {}, {name} ({login}@{id}) added", node.endpoint);
    Ok(Portal {
        id,
        _node: node,
        tasks: pb::task_service_client::TaskServiceClient::with_interceptor(ch, auth(&token)),
    })
}

/// The local id of alpha's task `home_id` on `p`, and the time it took to arrive.
async fn arrival(
    p: &mut Portal,
    home_id: u64,
    version: u64,
    since: Instant,
) -> anyhow::Result<(u64, Duration)> {
    loop {
        let list = p.tasks.list_tasks(pb::ListTasksRequest::default()).await?.into_inner().tasks;
        let found = list
            .into_iter()
            .find(|t| (t.home == "alpha.test" || t.home.is_empty()) && t.home_task_id == home_id);
        if let Some(t) = found.filter(|t| t.version >= version) {
            return Ok((t.id, since.elapsed()));
        }
        anyhow::ensure!(since.elapsed() < Duration::from_secs(30), "{} did not get version {version}", p.id);
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn show(p: &str, t: &pb::Task) {
    let home = if t.home.is_empty() { "here".to_string() } else { format!("{} #{}", t.home, t.home_task_id) };
    println!(
        "  {p:<11} task {:>2} v{} {:<13} responsible {:<16} observers {:?} comments {} home {home}",
        t.id,
        t.version,
        pb::TaskStatus::try_from(t.status).map(|s| s.as_str_name()).unwrap_or("?"),
        t.responsible,
        t.observers,
        t.comment_count
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let ddir = tmp.path().join("directory");
    portalnet_node::directory::server::init_if_needed(&ddir, "directory.test", "127.0.0.1:0".parse()?)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let dir = portalnet_node::directory::server::start(
        &ddir,
        Arc::new(SystemClock),
        Some(listener),
        Default::default(),
    )
    .await?;
    println!("directory.test: serving on {}", dir.endpoint);
    let mut a = portal(tmp.path(), &dir, "alpha.test", ("anna", "Anna Nowak")).await?;
    let mut b = portal(tmp.path(), &dir, "beta.test", ("jan", "Jan Kowalski")).await?;
    let mut c = portal(tmp.path(), &dir, "gamma.test", ("olga", "Ольга Смирнова")).await?;

    // The directory learns of new people in the background: retry until it has them.
    let start = Instant::now();
    let create = pb::CreateTaskRequest {
        title: "Translate the launch plan".into(),
        responsible: "jan@beta.test".into(),
        observers: vec!["olga@gamma.test".into()],
        ..Default::default()
    };
    let task = loop {
        match a.tasks.create_task(create.clone()).await {
            Ok(t) => break t.into_inner(),
            Err(e) if start.elapsed() < Duration::from_secs(30) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    let t0 = Instant::now();
    let (on_b, db) = arrival(&mut b, task.id, 1, t0).await?;
    let (on_c, dc) = arrival(&mut c, task.id, 1, t0).await?;
    println!("\ncreated on alpha: on beta after {db:?}, on gamma after {dc:?}");

    let t0 = Instant::now();
    b.tasks.set_status(pb::SetStatusRequest { id: on_b, status: pb::TaskStatus::InProgress as i32 }).await?;
    let (_, da) = arrival(&mut a, task.id, 2, t0).await?;
    let (_, dc) = arrival(&mut c, task.id, 2, t0).await?;
    println!("status changed on beta (a proposal to alpha): on alpha after {da:?}, on gamma after {dc:?}");

    let t0 = Instant::now();
    c.tasks
        .add_comment(pb::AddCommentRequest {
            task_id: on_c, text: "Я посмотрю перевод.".into()
        })
        .await?;
    let (_, da) = arrival(&mut a, task.id, 3, t0).await?;
    let (_, db) = arrival(&mut b, task.id, 3, t0).await?;
    println!("comment on gamma: on alpha after {da:?}, on beta after {db:?}");

    let t0 = Instant::now();
    let deadline = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64
        + 7 * 86_400_000;
    a.tasks.update_task(pb::UpdateTaskRequest { id: task.id, deadline, ..Default::default() }).await?;
    let (_, db) = arrival(&mut b, task.id, 4, t0).await?;
    let (_, dc) = arrival(&mut c, task.id, 4, t0).await?;
    println!("deadline set on alpha: on beta after {db:?}, on gamma after {dc:?}\n");

    println!("what each portal sees:");
    let mut heads = Vec::new();
    for (p, id) in [(&mut a, task.id), (&mut b, on_b), (&mut c, on_c)] {
        let t = p.tasks.get_task(pb::GetTaskRequest { id }).await?.into_inner();
        show(p.id, &t);
        let v = p
            .tasks
            .verify_history(pb::HistoryRequest { task_id: id, ..Default::default() })
            .await?
            .into_inner();
        heads.push((p.id, v.ok, v.head_hash));
    }
    println!("\nverified history (signatures + hash chain):");
    for (p, ok, h) in &heads {
        println!("  {p:<11} ok={ok} head {h}");
    }
    anyhow::ensure!(heads.iter().all(|(_, ok, h)| *ok && *h == heads[0].2), "portals disagree");
    println!("all three portals hold the same history");
    Ok(())
}
