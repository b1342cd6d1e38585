//! Issue 11 over real gRPC: no input panics a handler (Found 4), and nothing is
//! told to a caller that it does not need (Found 6: Echo, the directory's
//! LookupPortal). The extranet side (Found 5) is in `extranet.rs`.

use portalnet_proto::v1 as pb;
use portalnet_tests::{InProcess, ManualClock, Node, TestDirectory, new_task, refusal};
use std::sync::Arc;
use tonic::Code;

/// Found 4: participants with multi-byte letters where `mailto:` would be were
/// cut by byte index and killed the call (CANCELLED). Now: InvalidArgument that
/// names the field and the value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_byte_participants_are_invalid_arguments() {
    let node = InProcess::start("alpha.test").await.unwrap();
    let mut admin = node.admin().await.unwrap();
    for bad in ["łłłł", "mailtoł", "łłłłłłł@beta.test", "MAILTO😀"] {
        let (c, m) = refusal(admin.tasks.create_task(new_task("T", bad, &[])).await);
        assert_eq!(c, Code::InvalidArgument, "{bad}: {m}");
        // Validated before the Network is asked: the message names the field.
        assert!(m.starts_with("responsible `") && m.contains("not a valid"), "{bad}: {m}");
        let (c, m) = refusal(admin.tasks.create_task(new_task("T", "admin", &[bad])).await);
        assert_eq!(c, Code::InvalidArgument, "{bad}: {m}");
    }
    let task = admin.tasks.create_task(new_task("T", "admin", &[])).await.unwrap().into_inner();
    for bad in ["łłłł", "mailtoł"] {
        let update = |field: &str| {
            let list = Some(pb::LoginList { logins: vec![bad.into()] });
            pb::UpdateTaskRequest {
                id: task.id,
                responsible: (field == "responsible").then(|| bad.to_string()),
                accomplices: if field == "accomplices" { list.clone() } else { None },
                observers: if field == "observers" { list } else { None },
                ..Default::default()
            }
        };
        for field in ["responsible", "accomplices", "observers"] {
            let (c, m) = refusal(admin.tasks.update_task(update(field)).await);
            assert_eq!(c, Code::InvalidArgument, "{field} {bad}: {m}");
            assert!(m.contains(bad), "{field} {bad}: {m}");
        }
    }
    // The node is still serving.
    admin.tasks.get_task(pb::GetTaskRequest { id: task.id }).await.unwrap();
}

/// Found 6: a portal's Echo needs a user token like every other portal call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_needs_a_token() {
    let node = InProcess::start("alpha.test").await.unwrap();
    let ch = portalnet_tests::channel(node.endpoint(), &node.ca()).await.unwrap();
    let mut echo = pb::echo_client::EchoClient::new(ch);
    let msg = || pb::EchoMessage { payload: b"hi".to_vec() };
    let (c, m) = refusal(echo.echo(msg()).await);
    assert_eq!(c, Code::Unauthenticated, "{m}");
    let mut req = tonic::Request::new(msg());
    req.metadata_mut().insert("authorization", "Bearer pn_not-a-token".parse().unwrap());
    assert_eq!(refusal(echo.echo(req).await).0, Code::Unauthenticated);
    let mut req = tonic::Request::new(msg());
    req.metadata_mut().insert("authorization", format!("Bearer {}", node.admin_token()).parse().unwrap());
    assert_eq!(echo.echo(req).await.unwrap().into_inner().payload, b"hi");
}

/// Found 6: the directory does not echo a 200 KB portal id into its error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_portal_quotes_a_huge_id_briefly() {
    let dir = TestDirectory::start(Arc::new(ManualClock::new())).await.unwrap();
    let mut d = dir.client().await.unwrap();
    for id in ["x".repeat(200 * 1024), "ł".repeat(100 * 1024), format!("{}.test", "a".repeat(200 * 1024))] {
        let (c, m) = refusal(d.lookup_portal(pb::LookupPortalRequest { portal_id: id }).await);
        assert_eq!(c, Code::NotFound, "{m}");
        assert!(m.len() < 1024 && m.contains("is not registered"), "{} bytes", m.len());
    }
}
