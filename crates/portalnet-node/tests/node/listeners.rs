//! What a client may hold of the node's listeners (`[connections]`): a silent or
//! trickling client is closed, and connections over the limits are closed as they
//! are accepted, while the listener keeps serving others. Each test sets the one
//! limit it checks low and every other limit far away, so only that limit can
//! close the connection within the test's deadline.

use portalnet_node::clock::SystemClock;
use portalnet_node::config::{ConnectionsConfig, NodeConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::common;

/// Far beyond any deadline of these tests.
const NEVER: u64 = 3600;
/// How long a test waits for what must happen.
const DEADLINE: Duration = Duration::from_secs(20);

fn limits(
    max: usize,
    per_address: usize,
    handshake_secs: u64,
    idle_secs: u64,
    request_secs: u64,
) -> ConnectionsConfig {
    ConnectionsConfig { max, per_address, handshake_secs, idle_secs, request_secs }
}

/// A portal node served with `conns`, in a folder kept by the guard.
async fn node(conns: ConnectionsConfig) -> (portalnet_node::NodeHandle, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("alpha.test");
    portalnet_node::init::init(&dir, "alpha.test", "127.0.0.1:0".parse().unwrap(), &SystemClock).unwrap();
    let mut cfg = NodeConfig::load(&dir).unwrap();
    cfg.connections = conns;
    cfg.web.listen = None;
    cfg.save(&dir).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let node = portalnet_node::start(&dir, Arc::new(SystemClock), Some(listener), CancellationToken::new())
        .await
        .unwrap();
    (node, tmp)
}

/// Reads until the server closes the connection (end of stream or an error);
/// how long that took, or None if it stayed open for `wait`.
async fn closed_within(s: &mut TcpStream, wait: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(wait.saturating_sub(started.elapsed()), s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

/// An echo over a new TLS channel: whether the gRPC port serves.
async fn echo(node: &portalnet_node::NodeHandle) -> bool {
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
    let pem = std::fs::read_to_string(node.dir.join("tls/cert.pem")).unwrap();
    let Ok(ep) = Endpoint::from_shared(node.endpoint.clone())
        .unwrap()
        .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))
    else {
        return false;
    };
    let Ok(Ok(ch)) = tokio::time::timeout(Duration::from_secs(5), ep.connect()).await else { return false };
    let mut c = portalnet_proto::v1::echo_client::EchoClient::new(ch);
    // Without a token the portal answers UNAUTHENTICATED: an answer all the same.
    let req = portalnet_proto::v1::EchoMessage { payload: vec![1] };
    match tokio::time::timeout(Duration::from_secs(5), c.echo(req)).await {
        Ok(Ok(_)) => true,
        Ok(Err(s)) => s.code() == tonic::Code::Unauthenticated,
        Err(_) => false,
    }
}

/// Waits until `f` holds, or fails the test at the deadline.
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = Instant::now() + DEADLINE;
    while Instant::now() < until {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within {DEADLINE:?}");
}

#[tokio::test]
async fn grpc_closes_a_client_that_never_starts_its_tls_handshake() {
    let (node, _tmp) = node(limits(64, 64, 1, NEVER, NEVER)).await;
    let mut silent = TcpStream::connect(node.addr).await.unwrap();
    let took = closed_within(&mut silent, DEADLINE).await.expect("a silent client is closed");
    assert!(took >= Duration::from_millis(900), "closed after {took:?}, before the handshake deadline");
    assert!(echo(&node).await, "the port still serves");
    node.stop().await.unwrap();
}

#[tokio::test]
async fn grpc_closes_a_connection_silent_for_idle_secs() {
    // The TLS handshake may take an hour: only the idle limit can close it.
    let (node, _tmp) = node(limits(64, 64, NEVER, 1, NEVER)).await;
    let mut silent = TcpStream::connect(node.addr).await.unwrap();
    closed_within(&mut silent, DEADLINE).await.expect("a connection sending nothing is closed");
    node.stop().await.unwrap();
}

#[tokio::test]
async fn grpc_limits_connections_per_address_and_frees_their_places() {
    let (node, _tmp) = node(limits(64, 2, NEVER, NEVER, NEVER)).await;
    let mut held =
        vec![TcpStream::connect(node.addr).await.unwrap(), TcpStream::connect(node.addr).await.unwrap()];
    // The listener takes the two places in the order it accepts: wait until the
    // third is refused, which it is at once once both are taken.
    let mut third = TcpStream::connect(node.addr).await.unwrap();
    closed_within(&mut third, DEADLINE).await.expect("a third connection from one address is closed");
    assert!(!echo(&node).await, "a gRPC call from the same address is refused while both places are held");
    for s in &mut held {
        assert!(
            closed_within(s, Duration::from_millis(200)).await.is_none(),
            "the two held connections stay open"
        );
    }
    held.clear();
    eventually("a call is served once the places are given back", || echo(&node)).await;
    node.stop().await.unwrap();
}

#[tokio::test]
async fn grpc_limits_connections_in_all() {
    let (node, _tmp) = node(limits(1, 64, NEVER, NEVER, NEVER)).await;
    let held = TcpStream::connect(node.addr).await.unwrap();
    let mut second = TcpStream::connect(node.addr).await.unwrap();
    closed_within(&mut second, DEADLINE).await.expect("a connection over the total is closed");
    drop(held);
    eventually("a call is served once the place is given back", || echo(&node)).await;
    node.stop().await.unwrap();
}

/// The web pages of a fresh portal served under `conns`; the address.
async fn web(conns: ConnectionsConfig) -> (SocketAddr, CancellationToken, tempfile::TempDir) {
    let (portal, _, tmp) = common::open_portal("alpha.test", Arc::new(SystemClock), common::unlimited());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let site = Arc::new(portalnet_node::web::Site { portal: Arc::new(portal), endpoint: String::new() });
    let stop = CancellationToken::new();
    let token = stop.clone();
    tokio::spawn(async move { portalnet_node::web::serve(l, site, &conns, token).await.unwrap() });
    (addr, stop, tmp)
}

/// `GET /healthz` on a new connection: whether it was answered `ok`.
async fn healthy(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect(addr).await else { return false };
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").await.is_err() {
        return false;
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    let out = String::from_utf8_lossy(&out);
    out.starts_with("HTTP/1.1 200") && out.ends_with("ok")
}

#[tokio::test]
async fn web_closes_a_request_head_that_trickles() {
    let (addr, stop, _tmp) = web(limits(64, 64, 1, NEVER, NEVER)).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: a\r\n").await.unwrap();
    let took = closed_within(&mut slow, DEADLINE).await.expect("a head not finished in time is closed");
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
    // A kept-alive connection left idle after its answer is closed the same way.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").await.unwrap();
    closed_within(&mut kept, DEADLINE).await.expect("an idle kept-alive connection is closed");
    assert!(healthy(addr).await);
    stop.cancel();
}

#[tokio::test]
async fn web_answers_408_to_a_form_that_trickles() {
    let (addr, stop, _tmp) = web(limits(64, 64, NEVER, NEVER, 1)).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(
        b"POST /invite/abc HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 100\r\n\r\npassword=",
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(DEADLINE, slow.read_to_end(&mut out)).await.expect("answered in time").unwrap();
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 408"), "{out}");
    stop.cancel();
}

#[tokio::test]
async fn web_limits_connections_and_frees_their_places() {
    let (addr, stop, _tmp) = web(limits(2, 64, NEVER, NEVER, NEVER)).await;
    let held = [TcpStream::connect(addr).await.unwrap(), TcpStream::connect(addr).await.unwrap()];
    let mut third = TcpStream::connect(addr).await.unwrap();
    closed_within(&mut third, DEADLINE).await.expect("a connection over the limit is closed");
    drop(held);
    eventually("pages are served once the places are given back", || healthy(addr)).await;
    stop.cancel();
}

/// Connects to a fixed address and counts its connections.
#[derive(Clone)]
struct Counting(SocketAddr, Arc<std::sync::atomic::AtomicUsize>);

impl tower_service::Service<http::Uri> for Counting {
    type Response = hyper_util::rt::TokioIo<TcpStream>;
    type Error = std::io::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Uri) -> Self::Future {
        let (addr, n) = (self.0, self.1.clone());
        Box::pin(async move {
            n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(hyper_util::rt::TokioIo::new(TcpStream::connect(addr).await?))
        })
    }
}

#[tokio::test]
async fn grpc_keeps_a_quiet_healthy_connection_open() {
    // Quiet for twice `idle_secs`: the server's pings, answered, keep it open.
    let (node, _tmp) = node(limits(64, 64, NEVER, 2, NEVER)).await;
    use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};
    let pem = std::fs::read_to_string(node.dir.join("tls/cert.pem")).unwrap();
    let connects = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ch = Endpoint::from_shared(node.endpoint.clone())
        .unwrap()
        .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))
        .unwrap()
        .connect_with_connector(Counting(node.addr, connects.clone()))
        .await
        .unwrap();
    let mut c = portalnet_proto::v1::echo_client::EchoClient::new(ch);
    let call = |c: &mut portalnet_proto::v1::echo_client::EchoClient<_>| {
        let mut c = c.clone();
        async move {
            match c.echo(portalnet_proto::v1::EchoMessage { payload: vec![1] }).await {
                Ok(_) => true,
                Err(s) => s.code() == tonic::Code::Unauthenticated,
            }
        }
    };
    assert!(call(&mut c).await);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(call(&mut c).await, "answered after a quiet spell");
    assert_eq!(
        connects.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the same connection served both calls"
    );
    node.stop().await.unwrap();
}
