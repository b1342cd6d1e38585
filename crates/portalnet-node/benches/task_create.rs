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
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

struct Stats {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

async fn measure<F, Fut>(n: usize, in_flight: usize, call: F) -> Stats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let started = Instant::now();
    let per = n / in_flight;
    let mut workers = Vec::with_capacity(in_flight);
    for w in 0..in_flight {
        let call = call.clone();
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per);
            for i in 0..per {
                let t = Instant::now();
                call(w * per + i).await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::with_capacity(n);
    for w in workers {
        lat.extend(w.await.expect("bench worker"));
    }
    let elapsed = started.elapsed();
    lat.sort();
    let pick = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    Stats { rate: lat.len() as f64 / elapsed.as_secs_f64(), p50: pick(0.50), p99: pick(0.99) }
}

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
        let ch = channel.clone();
        let echo = measure(n, in_flight, move |_| {
            let mut c = pb::echo_client::EchoClient::new(ch.clone());
            async move {
                c.echo(pb::EchoMessage { payload: vec![0u8; 64] }).await.expect("echo");
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
    println!("storage after the run: {} bytes on disk", node.state.portal.tables.db.size_on_disk()?);
    node.stop().await?;
    Ok(())
}
