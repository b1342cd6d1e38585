//! One real portal node (TLS, sled on disk in a temporary folder), driven through
//! its gRPC API: add two people, give them tokens, create a task, work on it, and
//! print what the portal recorded.
//!
//! `cargo run -p portalnet-examples --example single_portal`

use portalnet_node::clock::SystemClock;
use portalnet_proto::v1 as pb;
use std::sync::Arc;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("alpha.test");
    let init = portalnet_node::init::init(&dir, "alpha.test", "127.0.0.1:0".parse()?, &SystemClock)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let node = portalnet_node::start(&dir, Arc::new(SystemClock), Some(listener), Default::default()).await?;
    println!("portal alpha.test serving on {} (data in {})", node.endpoint, dir.display());

    let pem = std::fs::read_to_string(dir.join("tls/cert.pem"))?;
    let channel = Endpoint::from_shared(node.endpoint.clone())?
        .tls_config(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem)))?
        .connect()
        .await?;
    let authed = |token: &str| {
        let value: tonic::metadata::MetadataValue<_> =
            format!("Bearer {token}").parse().expect("ascii token");
        move |mut req: tonic::Request<()>| {
            req.metadata_mut().insert("authorization", value.clone());
            Ok(req)
        }
    };
    let mut admin = pb::user_service_client::UserServiceClient::with_interceptor(
        channel.clone(),
        authed(&init.admin_token),
    );
    let mut tokens = Vec::new();
    for (login, name) in [("anna", "Anna Nowak"), ("bob", "Bob Kowalski")] {
        admin
            .add_user(pb::AddUserRequest {
                login: login.into(),
                display_name: name.into(),
                email: format!("{login}@alpha.test"),
                ..Default::default()
            })
            .await?;
        tokens
            .push(admin.issue_token(pb::IssueTokenRequest { login: login.into() }).await?.into_inner().token);
    }
    let mut anna =
        pb::task_service_client::TaskServiceClient::with_interceptor(channel.clone(), authed(&tokens[0]));
    let mut bob =
        pb::task_service_client::TaskServiceClient::with_interceptor(channel.clone(), authed(&tokens[1]));

    let task = anna
        .create_task(pb::CreateTaskRequest {
            title: "Order roof tiles".into(),
            responsible: "bob".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    bob.set_status(pb::SetStatusRequest { id: task.id, status: pb::TaskStatus::InProgress as i32 }).await?;
    bob.add_comment(pb::AddCommentRequest { task_id: task.id, text: "Ordered 400 tiles.".into() }).await?;
    bob.set_status(pb::SetStatusRequest { id: task.id, status: pb::TaskStatus::AwaitingControl as i32 })
        .await?;
    // Bob may not complete it himself: the creator accepts the work.
    let refused =
        bob.set_status(pb::SetStatusRequest { id: task.id, status: pb::TaskStatus::Completed as i32 }).await;
    println!(
        "bob completes the task himself: {}",
        refused.err().map(|e| e.message().to_string()).unwrap_or_default()
    );
    anna.set_status(pb::SetStatusRequest { id: task.id, status: pb::TaskStatus::Completed as i32 }).await?;

    println!("history of task {}:", task.id);
    for e in anna
        .history(pb::HistoryRequest { task_id: task.id, ..Default::default() })
        .await?
        .into_inner()
        .entries
    {
        println!("  v{} {:<6} {}", e.version, e.actor, e.summary);
    }
    node.stop().await?;
    Ok(())
}
