//! Task creation through the gRPC API vs. a raw tonic echo RPC, on the same node,
//! the same TLS connection type and the same machine, in the same run.
//!
//! `cargo bench -p portalnet-node --bench task_create`
//! (PORTALNET_BENCH_N sets the requests per measurement; default 4000.)
//!
//! Every task creation is durable before it is answered (sled flush), so the
//! ratio shows what the storage write, the validation and the flush cost on top
//! of a bare RPC.

use portalnet_node::clock::SystemClock;
use portalnet_proto::v1 as pb;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

#[path = "common/mod.rs"]
mod common;
use common::measure;

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let n: usize = std::env::var("PORTALNET_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(4000);
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("bench");
    let init = portalnet_node::init::init(&dir, "bench.test", "127.0.0.1:0".parse()?, &SystemClock)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let node =
        portalnet_node::start(&dir, Arc::new(SystemClock), Some(listener), CancellationToken::new()).await?;
    let pem = std::fs::read_to_string(dir.join("tls/cert.pem"))?;
    let channel: Channel = Endpoint::from_shared(node.endpoint.clone())?
        .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))?
        .connect()
        .await?;
    let auth: tonic::metadata::MetadataValue<_> = format!("Bearer {}", init.admin_token).parse()?;

    println!("portalnet bench: task creation vs raw echo RPC (TLS, loopback, {n} requests each)");
    println!("{:<26} {:>12} {:>10} {:>10}", "measurement", "req/s", "p50", "p99");
    let mut results = Vec::new();
    for in_flight in [1usize, 64] {
        let (ch, echo_auth) = (channel.clone(), auth.clone());
        let echo = measure(n, in_flight, move |_| {
            let mut c = pb::echo_client::EchoClient::new(ch.clone());
            // A portal's echo needs a token, like task creation: both pay for it.
            let mut req = tonic::Request::new(pb::EchoMessage { payload: vec![0u8; 64] });
            req.metadata_mut().insert("authorization", echo_auth.clone());
            async move {
                c.echo(req).await.expect("echo");
            }
        })
        .await;
        let (ch, auth) = (channel.clone(), auth.clone());
        let create = measure(n, in_flight, move |i| {
            let mut c = pb::task_service_client::TaskServiceClient::new(ch.clone());
            let mut req = tonic::Request::new(pb::CreateTaskRequest {
                title: format!("Bench task {i}"),
                description: "created by the benchmark".into(),
                ..Default::default()
            });
            req.metadata_mut().insert("authorization", auth.clone());
            async move {
                c.create_task(req).await.expect("create task");
            }
        })
        .await;
        for (name, s) in [
            (format!("echo, {in_flight} in flight"), &echo),
            (format!("create task, {in_flight} in flight"), &create),
        ] {
            println!("{name:<26} {:>12.0} {:>10.1?} {:>10.1?}", s.rate, s.p50, s.p99);
        }
        results.push((in_flight, echo, create));
    }
    println!();
    for (in_flight, echo, create) in &results {
        println!(
            "ratio at {in_flight:>2} in flight: create/echo rate = {:.2}, p50 latency = {:.1}x echo, p99 = {:.1}x echo",
            create.rate / echo.rate,
            create.p50.as_secs_f64() / echo.p50.as_secs_f64(),
            create.p99.as_secs_f64() / echo.p99.as_secs_f64()
        );
    }
    let db = &node.state.portal.tables.db;
    println!(
        "storage after the run: {} bytes on disk; {} shared flushes for {} creates",
        db.size_on_disk()?,
        db.flushes_made(),
        2 * n
    );
    node.stop().await?;
    Ok(())
}
