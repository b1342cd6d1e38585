//! Node lifecycle in-process: init, start on an ephemeral port, stop — including a
//! stop while a client still holds its connection open.

use portalnet_node::clock::SystemClock;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn stop_does_not_wait_forever_for_an_open_connection() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("n");
    let init =
        portalnet_node::init::init(&dir, "alpha.test", "127.0.0.1:0".parse().unwrap(), &SystemClock).unwrap();
    assert!(init.admin_token.starts_with("pn_"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let node = portalnet_node::start(&dir, Arc::new(SystemClock), Some(listener), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(std::fs::read_to_string(dir.join("endpoint")).unwrap(), node.endpoint);

    // A client connects, makes a call, and keeps the connection.
    let ch = super::common::tls_channel(&dir, &node.endpoint).await;
    let mut echo = portalnet_proto::v1::echo_client::EchoClient::new(ch.clone());
    let mut req = tonic::Request::new(portalnet_proto::v1::EchoMessage { payload: b"hi".to_vec() });
    req.metadata_mut().insert("authorization", format!("Bearer {}", init.admin_token).parse().unwrap());
    let r = echo.echo(req).await.unwrap();
    assert_eq!(r.into_inner().payload, b"hi");

    let started = Instant::now();
    node.stop().await.unwrap();
    assert!(started.elapsed() < portalnet_node::server::SHUTDOWN_GRACE + Duration::from_secs(5));
    assert!(!dir.join("endpoint").exists());
    drop(ch);
}
