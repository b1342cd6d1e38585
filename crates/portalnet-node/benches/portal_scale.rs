//! One portal at two sizes, in one run (issue 12, point 7): latency of the calls
//! whose cost should follow their answer, not the portal's size, at 1k and 100k
//! tasks (100 and 10k users), the growth ratios against the issue's targets, then
//! a cold start of the node at the large size in a fresh process and its RSS after
//! full passes over every task (paging).
//!
//! `cargo bench -p portalnet-node --bench portal_scale`
//! (PORTALNET_SCALE=0.1 scales both sizes down for a quick run; PORTALNET_BENCH_N
//! sets the calls per measurement, default 200.)
//!
//! The portal is a real node over gRPC/TLS on 127.0.0.1; it is filled through the
//! `Portal` API directly (the same writes as the API makes, without a flush per
//! task), and every measured call goes over gRPC. The raw echo RPC of the same
//! node is measured at both sizes as the baseline.

use portalnet_core::permissions::Actor;
use portalnet_core::task::NewTask;
use portalnet_core::user::NewUser;
use portalnet_node::clock::SystemClock;
use portalnet_portal::Portal;
use portalnet_proto::v1 as pb;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

#[path = "common/mod.rs"]
mod common;
use common::{Stats, measure};

/// Tasks the measured user sees, at both sizes.
const VIEWER_TASKS: usize = 500;
/// Users that tasks are given to (they exist at both sizes).
const WORKERS: usize = 90;

fn memory() -> (String, String) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get =
        |k: &str| s.lines().find_map(|l| l.strip_prefix(k)).map(|v| v.trim().to_string()).unwrap_or_default();
    (get("VmRSS:"), get("VmHWM:"))
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    match std::env::var_os("PORTALNET_SCALE_CHILD") {
        Some(dir) => rt.block_on(child(std::path::PathBuf::from(dir))),
        None => rt.block_on(run()),
    }
}

fn scale() -> f64 {
    std::env::var("PORTALNET_SCALE").ok().and_then(|v| v.parse().ok()).unwrap_or(1.0)
}

struct Sizes {
    small_tasks: usize,
    big_tasks: usize,
    small_users: usize,
    big_users: usize,
}

async fn connect(endpoint: &str, dir: &std::path::Path) -> anyhow::Result<Channel> {
    let pem = std::fs::read_to_string(dir.join("tls/cert.pem"))?;
    Ok(Endpoint::from_shared(endpoint.to_string())?
        .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))?
        .connect()
        .await?)
}

fn authed<T>(msg: T, auth: &tonic::metadata::MetadataValue<tonic::metadata::Ascii>) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    req.metadata_mut().insert("authorization", auth.clone());
    req
}

/// Adds users `from..to` (logins `u00001`…) through the portal, off the async workers.
async fn fill_users(portal: &Arc<Portal>, admin: &Actor, from: usize, to: usize) -> anyhow::Result<()> {
    let (portal, admin) = (portal.clone(), admin.clone());
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        for i in from..to {
            let login = format!("u{i:05}");
            let new = NewUser::new(&login, &format!("User {i}"), &format!("{login}@corp.test"), "", false)?;
            portal.add_user(&admin, new).map_err(|e| anyhow::anyhow!("add user {login}: {e}"))?;
        }
        Ok(())
    })
    .await?
}

/// Adds tasks `from..to`; the first [`VIEWER_TASKS`] are given to `viewer`, the
/// rest to the workers, so the viewer sees the same tasks at every size.
async fn fill_tasks(portal: &Arc<Portal>, admin: &Actor, from: usize, to: usize) -> anyhow::Result<()> {
    let (portal, admin) = (portal.clone(), admin.clone());
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        for i in from..to {
            let responsible =
                if i < VIEWER_TASKS { "viewer".to_string() } else { format!("u{:05}", i % WORKERS + 1) };
            let new = NewTask {
                title: format!("Task {i}"),
                description: "filled by the scale benchmark".into(),
                responsible: Some(responsible),
                accomplices: vec![],
                observers: if i % 7 == 0 { vec![format!("u{:05}", (i / 7) % WORKERS + 1)] } else { vec![] },
                deadline: None,
                group: None,
            };
            portal.create_task(&admin, new).map_err(|e| anyhow::anyhow!("task {i}: {e}"))?;
        }
        portal.tables.db.sync()?;
        Ok(())
    })
    .await?
}

struct Row {
    name: &'static str,
    small: Stats,
    big: Stats,
    /// The issue's target for big p50 / small p50 (None: for information).
    target: Option<f64>,
}

/// Every measurement at one size.
async fn measure_all(
    ch: &Channel,
    admin: &tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
    viewer: &tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
    group: u64,
    label: &str,
    n: usize,
) -> Vec<(&'static str, Stats)> {
    let mut out = Vec::new();
    let (c, a) = (ch.clone(), admin.clone());
    out.push((
        "echo (baseline)",
        measure(n, 1, move |_| {
            let mut client = pb::echo_client::EchoClient::new(c.clone());
            let req = authed(pb::EchoMessage { payload: vec![0u8; 64] }, &a);
            async move {
                client.echo(req).await.expect("echo");
            }
        })
        .await,
    ));
    let (c, v) = (ch.clone(), viewer.clone());
    out.push((
        "list as one user",
        measure(n, 1, move |_| {
            let mut client = pb::task_service_client::TaskServiceClient::new(c.clone());
            let req = authed(pb::ListTasksRequest { page_size: 1000, ..Default::default() }, &v);
            async move {
                let r = client.list_tasks(req).await.expect("list as viewer").into_inner();
                assert_eq!(r.tasks.len(), VIEWER_TASKS);
            }
        })
        .await,
    ));
    let (c, a) = (ch.clone(), admin.clone());
    out.push((
        "first page as admin",
        measure(n, 1, move |_| {
            let mut client = pb::task_service_client::TaskServiceClient::new(c.clone());
            let req = authed(pb::ListTasksRequest::default(), &a);
            async move {
                let r = client.list_tasks(req).await.expect("admin list").into_inner();
                assert!(!r.next_page_token.is_empty());
            }
        })
        .await,
    ));
    let (c, a) = (ch.clone(), admin.clone());
    out.push((
        "report as admin",
        measure(n, 1, move |_| {
            let mut client = pb::report_service_client::ReportServiceClient::new(c.clone());
            let req = authed(pb::TaskReportRequest { by: pb::ReportBy::Responsible as i32 }, &a);
            async move {
                client.task_report(req).await.expect("report");
            }
        })
        .await,
    ));
    let (c, v) = (ch.clone(), viewer.clone());
    out.push((
        "report as one user",
        measure(n, 1, move |_| {
            let mut client = pb::report_service_client::ReportServiceClient::new(c.clone());
            let req = authed(pb::TaskReportRequest { by: pb::ReportBy::Responsible as i32 }, &v);
            async move {
                client.task_report(req).await.expect("report as viewer");
            }
        })
        .await,
    ));
    let (c, a) = (ch.clone(), admin.clone());
    let tag = label.to_string();
    out.push((
        "add user",
        measure(n, 1, move |i| {
            let mut client = pb::user_service_client::UserServiceClient::new(c.clone());
            let login = format!("add{tag}{i}");
            let req = authed(
                pb::AddUserRequest {
                    login: login.clone(),
                    display_name: format!("Added {i}"),
                    email: format!("{login}@corp.test"),
                    ..Default::default()
                },
                &a,
            );
            async move {
                client.add_user(req).await.expect("add user");
            }
        })
        .await,
    ));
    let (c, a) = (ch.clone(), admin.clone());
    let tag = label.to_string();
    out.push((
        "invite",
        measure(n, 1, move |i| {
            let mut client = pb::invitation_service_client::InvitationServiceClient::new(c.clone());
            let req = authed(
                pb::InviteRequest {
                    email: format!("guest{tag}{i}@ext.test"),
                    group_id: group,
                    ..Default::default()
                },
                &a,
            );
            async move {
                client.invite(req).await.expect("invite");
            }
        })
        .await,
    ));
    out
}

async fn run() -> anyhow::Result<()> {
    let n: usize = std::env::var("PORTALNET_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let s = scale();
    let sizes = Sizes {
        small_tasks: ((1_000.0 * s) as usize).max(VIEWER_TASKS + 100),
        big_tasks: ((100_000.0 * s) as usize).max(VIEWER_TASKS + 200),
        small_users: ((100.0 * s) as usize).max(WORKERS + 2),
        big_users: ((10_000.0 * s) as usize).max(WORKERS + 3),
    };
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("portal");
    let init = portalnet_node::init::init(&dir, "scale.test", "127.0.0.1:0".parse()?, &SystemClock)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let node =
        portalnet_node::start(&dir, Arc::new(SystemClock), Some(listener), CancellationToken::new()).await?;
    let portal = node.state.portal.clone();
    let (admin, _) = portal.authenticate(Some(&init.admin_token)).map_err(|e| anyhow::anyhow!("{e}"))?;
    portal.set_seats(&admin, 0).map_err(|e| anyhow::anyhow!("{e}"))?;
    let viewer_user = NewUser::new("viewer", "Viewer", "viewer@corp.test", "", false)?;
    portal.add_user(&admin, viewer_user).map_err(|e| anyhow::anyhow!("{e}"))?;
    let viewer_token = portal.issue_token(&admin, "viewer").map_err(|e| anyhow::anyhow!("{e}"))?;
    let settings = portalnet_core::group::GroupSettings { extranet: true, ..Default::default() };
    let new_group =
        portalnet_core::group::NewGroup { name: "Guests".into(), description: String::new(), settings };
    let (group, _) = portal.create_group(&admin, new_group, &[]).map_err(|e| anyhow::anyhow!("{e}"))?;
    let ch = connect(&node.endpoint, &dir).await?;
    let admin_auth: tonic::metadata::MetadataValue<_> = format!("Bearer {}", init.admin_token).parse()?;
    let viewer_auth: tonic::metadata::MetadataValue<_> = format!("Bearer {viewer_token}").parse()?;

    println!(
        "portalnet bench: one portal at {} and {} tasks ({} and {} users), {n} calls per measurement, 1 in flight, TLS on loopback",
        sizes.small_tasks, sizes.big_tasks, sizes.small_users, sizes.big_users
    );
    // The admin and the viewer are users too.
    fill_users(&portal, &admin, 1, sizes.small_users - 1).await?;
    fill_tasks(&portal, &admin, 0, sizes.small_tasks).await?;
    let small = measure_all(&ch, &admin_auth, &viewer_auth, group.id, "s", n).await;

    let t = Instant::now();
    fill_users(&portal, &admin, sizes.small_users - 1, sizes.big_users - 1).await?;
    fill_tasks(&portal, &admin, sizes.small_tasks, sizes.big_tasks).await?;
    let fill = t.elapsed();
    let big = measure_all(&ch, &admin_auth, &viewer_auth, group.id, "b", n).await;
    let targets = |name: &str| match name {
        "list as one user" => Some(1.5),
        "report as admin" | "report as one user" => Some(2.0),
        "add user" | "invite" => Some(1.5),
        _ => None,
    };
    let rows: Vec<Row> = small
        .into_iter()
        .zip(big)
        .map(|((name, small), (_, big))| Row { name, small, big, target: targets(name) })
        .collect();
    println!(
        "(filling from the small to the large size through the Portal API took {:.1} s)",
        fill.as_secs_f64()
    );
    println!(
        "{:<22} {:>11} {:>11} {:>11} {:>11} {:>8} {:>11} {:>10}",
        "call", "small p50", "small p99", "large p50", "large p99", "growth", "target", "÷ echo's"
    );
    let echo_small = rows[0].small.p50.as_secs_f64();
    let echo_big = rows[0].big.p50.as_secs_f64();
    for r in &rows {
        let growth = r.big.p50.as_secs_f64() / r.small.p50.as_secs_f64();
        let target = match r.target {
            Some(t) if growth <= t => format!("≤{t} ok"),
            Some(t) => format!("≤{t} MISS"),
            None => String::new(),
        };
        // The growth over the echo's own growth: what the machine's load explains.
        let relative = growth / (echo_big / echo_small);
        println!(
            "{:<22} {:>11.2?} {:>11.2?} {:>11.2?} {:>11.2?} {:>7.2}x {:>11} {:>9.2}x",
            r.name, r.small.p50, r.small.p99, r.big.p50, r.big.p99, growth, target, relative
        );
    }
    println!(
        "p50 in echo units (small → large): echo {:.2?} → {:.2?} ({:.0} → {:.0} calls/s)",
        rows[0].small.p50, rows[0].big.p50, rows[0].small.rate, rows[0].big.rate
    );
    for r in rows.iter().skip(1) {
        println!(
            "  {:<20} {:>6.1}x echo → {:>6.1}x echo",
            r.name,
            r.small.p50.as_secs_f64() / echo_small,
            r.big.p50.as_secs_f64() / echo_big
        );
    }
    let (rss, peak) = memory();
    println!("bench process after filling and measuring (node and client together): RSS {rss} (peak {peak})");
    drop(ch);
    // The node's storage must be closed before the child opens it.
    drop(portal);
    let t = Instant::now();
    node.stop().await?;
    println!("node stopped in {:.2} s", t.elapsed().as_secs_f64());
    // A fresh process: its start time and memory are the node's alone.
    let out = std::process::Command::new(std::env::current_exe()?)
        .env("PORTALNET_SCALE_CHILD", &dir)
        .env("PORTALNET_SCALE_ADMIN", &init.admin_token)
        .env("PORTALNET_SCALE_TASKS", sizes.big_tasks.to_string())
        .stderr(std::process::Stdio::inherit())
        .output()?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    anyhow::ensure!(out.status.success(), "the restarted portal failed: {}", out.status);
    Ok(())
}

/// The child: cold start of the large portal, then full passes over every task as
/// the admin, page by page, with RSS after each.
async fn child(dir: std::path::PathBuf) -> anyhow::Result<()> {
    let token = std::env::var("PORTALNET_SCALE_ADMIN")?;
    let tasks: usize = std::env::var("PORTALNET_SCALE_TASKS")?.parse()?;
    let started = Instant::now();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let node =
        portalnet_node::start(&dir, Arc::new(SystemClock), Some(listener), CancellationToken::new()).await?;
    let ch = connect(&node.endpoint, &dir).await?;
    let auth: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse()?;
    let mut client = pb::portal_service_client::PortalServiceClient::new(ch.clone());
    client.info(authed(pb::InfoRequest {}, &auth)).await?;
    let cold = started.elapsed();
    let (rss, _) = memory();
    println!(
        "cold start at {tasks} tasks: {:.3} s to the first answered call (target ≤ 0.5 s); idle RSS {rss}",
        cold.as_secs_f64()
    );
    let mut tasks_client = pb::task_service_client::TaskServiceClient::new(ch.clone());
    // PORTALNET_SCALE_PASSES: more passes, to see whether RSS levels off.
    let passes: usize =
        std::env::var("PORTALNET_SCALE_PASSES").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    for pass in 1..=passes {
        let t = Instant::now();
        let (mut seen, mut token_next, mut pages) = (0usize, String::new(), 0usize);
        loop {
            let req = authed(
                pb::ListTasksRequest {
                    page_size: 1000,
                    page_token: token_next.clone(),
                    ..Default::default()
                },
                &auth,
            );
            let r = tasks_client.list_tasks(req).await?.into_inner();
            seen += r.tasks.len();
            pages += 1;
            if r.next_page_token.is_empty() {
                break;
            }
            token_next = r.next_page_token;
        }
        anyhow::ensure!(seen == tasks, "a full pass saw {seen} tasks of {tasks}");
        let (rss, peak) = memory();
        println!(
            "full pass {pass} over {seen} tasks ({pages} pages of 1000) in {:.2} s: RSS {rss} (peak {peak}; target ≤ 128 MB)",
            t.elapsed().as_secs_f64()
        );
    }
    drop(tasks_client);
    drop(client);
    drop(ch);
    node.stop().await?;
    Ok(())
}
