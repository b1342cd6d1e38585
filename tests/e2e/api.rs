//! The gRPC API of one real node over TLS (in-process server on 127.0.0.1:0):
//! the whole single-portal story, the rights of each participant, bad input with
//! its status code (and nothing changed), restart, health and reflection.

use portalnet_proto::v1 as pb;
use portalnet_tests::new_task as create;
use portalnet_tests::{Clients, InProcess, new_group, new_user, refusal};
use tonic::Code;

struct World {
    node: InProcess,
    admin: Clients,
    anna: Clients,
    bob: Clients,
    carol: Clients,
    dave: Clients,
}

async fn world() -> World {
    let node = InProcess::start("alpha.test").await.unwrap();
    let admin = node.admin().await.unwrap();
    let tok = |login: &'static str, name: &'static str| {
        let mut admin = admin.clone();
        async move {
            admin.users.add_user(new_user(login, name)).await.unwrap();
            admin
                .users
                .issue_token(pb::IssueTokenRequest { login: login.into() })
                .await
                .unwrap()
                .into_inner()
                .token
        }
    };
    let (a, b, c, d) = (
        tok("anna", "Anna Nowak").await,
        tok("bob", "Bob Builder").await,
        tok("carol", "Carol Ślązak").await,
        tok("dave", "Dave Outsider").await,
    );
    World {
        anna: node.clients(&a).await.unwrap(),
        bob: node.clients(&b).await.unwrap(),
        carol: node.clients(&c).await.unwrap(),
        dave: node.clients(&d).await.unwrap(),
        admin,
        node,
    }
}

#[tokio::test]
async fn single_portal_story_and_rights() {
    let mut w = world().await;
    // A group with anna as owner and bob as member.
    let g =
        new_group(&mut w.anna.groups, pb::CreateGroupRequest { name: "Roof".into(), ..Default::default() })
            .await;
    assert_eq!(g.owner, "anna");
    w.anna
        .groups
        .add_member(pb::AddMemberRequest { group_id: g.id, login: "bob".into(), role: 0 })
        .await
        .unwrap();
    // bob (a plain member) may not add members.
    let (c, m) = refusal(
        w.bob.groups.add_member(pb::AddMemberRequest { group_id: g.id, login: "dave".into(), role: 0 }).await,
    );
    assert_eq!(c, Code::PermissionDenied, "{m}");

    // anna creates a task for bob, observed by carol.
    let mut req = create("Fix the roof", "bob", &["carol"]);
    req.group_id = g.id;
    req.deadline = 1; // long past: overdue
    let t = w.anna.tasks.create_task(req).await.unwrap().into_inner();
    assert_eq!((t.creator.as_str(), t.responsible.as_str(), t.version), ("anna", "bob", 1));
    assert_eq!(t.status, pb::TaskStatus::New as i32);
    assert!(t.overdue);

    // bob starts it; carol (observer) may not; bob may not complete it (creator accepts).
    let t2 = w
        .bob
        .tasks
        .set_status(pb::SetStatusRequest { id: t.id, status: pb::TaskStatus::InProgress as i32 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t2.status, pb::TaskStatus::InProgress as i32);
    let (c, _) = refusal(
        w.carol
            .tasks
            .set_status(pb::SetStatusRequest { id: t.id, status: pb::TaskStatus::Deferred as i32 })
            .await,
    );
    assert_eq!(c, Code::PermissionDenied);
    let (c, m) = refusal(
        w.bob
            .tasks
            .set_status(pb::SetStatusRequest { id: t.id, status: pb::TaskStatus::Completed as i32 })
            .await,
    );
    assert_eq!(c, Code::PermissionDenied);
    assert!(m.contains("creator"), "{m}");

    // carol comments; bob attaches a file; carol (observer) may not attach.
    w.carol
        .tasks
        .add_comment(pb::AddCommentRequest { task_id: t.id, text: "Looks <b>urgent</b>".into() })
        .await
        .unwrap();
    let f = w
        .bob
        .tasks
        .attach_file(pb::AttachFileRequest {
            task_id: t.id,
            name: "plan.txt".into(),
            content_type: "text/plain".into(),
            content: b"step 1".to_vec(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(f.size, 6);
    let (c, _) = refusal(
        w.carol
            .tasks
            .attach_file(pb::AttachFileRequest {
                task_id: t.id,
                name: "x".into(),
                content_type: String::new(),
                content: vec![1],
            })
            .await,
    );
    assert_eq!(c, Code::PermissionDenied);
    let got = w
        .carol
        .tasks
        .get_file(pb::GetFileRequest { task_id: t.id, file_id: f.id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.content, b"step 1");

    // Only the creator edits.
    let (c, _) = refusal(
        w.bob
            .tasks
            .update_task(pb::UpdateTaskRequest {
                id: t.id,
                title: Some("Mine now".into()),
                ..Default::default()
            })
            .await,
    );
    assert_eq!(c, Code::PermissionDenied);
    let t3 = w
        .anna
        .tasks
        .update_task(pb::UpdateTaskRequest {
            id: t.id,
            title: Some("Fix the whole roof".into()),
            deadline: -1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((t3.title.as_str(), t3.deadline, t3.overdue), ("Fix the whole roof", 0, false));

    // The history has every change, in order.
    let h = w
        .carol
        .tasks
        .history(pb::HistoryRequest { task_id: t.id, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let kinds: Vec<&str> = h.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["created", "status", "comment", "file", "updated"]);
    assert_eq!(h.iter().map(|e| e.version).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(h[1].actor, "bob");

    // dave takes no part: sees nothing, and cannot tell the task exists.
    let (c, m) = refusal(w.dave.tasks.get_task(pb::GetTaskRequest { id: t.id }).await);
    assert_eq!((c, m.as_str()), (Code::NotFound, format!("task {} not found", t.id).as_str()));
    let (c, _) =
        refusal(w.dave.tasks.add_comment(pb::AddCommentRequest { task_id: t.id, text: "hi".into() }).await);
    assert_eq!(c, Code::NotFound);
    assert!(
        w.dave.tasks.list_tasks(pb::ListTasksRequest::default()).await.unwrap().into_inner().tasks.is_empty()
    );
    let (c, _) =
        refusal(w.dave.tasks.history(pb::HistoryRequest { task_id: t.id, ..Default::default() }).await);
    assert_eq!(c, Code::NotFound);
    // The admin sees everything.
    assert_eq!(
        w.admin.tasks.list_tasks(pb::ListTasksRequest::default()).await.unwrap().into_inner().tasks.len(),
        1
    );

    // Reports count per responsible person, with overdue.
    w.bob.tasks.create_task(create("Buy nails", "bob", &[])).await.unwrap();
    let r = w
        .admin
        .reports
        .task_report(pb::TaskReportRequest { by: pb::ReportBy::Responsible as i32 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.rows.len(), 1);
    assert_eq!(
        (r.rows[0].key.as_str(), r.rows[0].total, r.rows[0].new, r.rows[0].in_progress),
        ("bob", 2, 1, 1)
    );
    let r = w
        .admin
        .reports
        .task_report(pb::TaskReportRequest { by: pb::ReportBy::Group as i32 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        r.rows.iter().map(|r| (r.key.as_str(), r.total)).collect::<Vec<_>>(),
        [("(no group)", 1), ("Roof", 1)]
    );
}

#[tokio::test]
async fn bad_input_gets_the_right_code_and_changes_nothing() {
    let mut w = world().await;
    let t = w.anna.tasks.create_task(create("Base", "bob", &[])).await.unwrap().into_inner();
    let snapshot = |mut c: Clients, id: u64| async move {
        let t = c.tasks.get_task(pb::GetTaskRequest { id }).await.unwrap().into_inner();
        let h = c
            .tasks
            .history(pb::HistoryRequest { task_id: id, ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        (t, h.entries.len())
    };
    let before = snapshot(w.anna.clone(), t.id).await;

    // Wrong and missing tokens.
    let mut wrong = w.node.clients("pn_not-a-real-token").await.unwrap();
    let (c, m) = refusal(wrong.tasks.list_tasks(pb::ListTasksRequest::default()).await);
    assert_eq!(c, Code::Unauthenticated);
    assert!(m.contains("token issue"), "{m}");
    let ch = portalnet_tests::channel(&w.node.endpoint, &portalnet_tests::Node::ca(&w.node)).await.unwrap();
    let (c, m) = refusal(
        pb::task_service_client::TaskServiceClient::new(ch).list_tasks(pb::ListTasksRequest::default()).await,
    );
    assert_eq!(c, Code::Unauthenticated);
    assert!(m.contains("missing API token"), "{m}");

    // Missing and malformed fields.
    let cases: Vec<(pb::CreateTaskRequest, &str)> = vec![
        (create("", "bob", &[]), "title is required"),
        (create("x", "Bob!", &[]), "not a valid login"),
        (create(&"t".repeat(300), "bob", &[]), "limit is 255"),
        (pb::CreateTaskRequest { title: "x".into(), deadline: -5, ..Default::default() }, "deadline"),
    ];
    for (req, want) in cases {
        let (c, m) = refusal(w.anna.tasks.create_task(req).await);
        assert_eq!(c, Code::InvalidArgument, "{m}");
        assert!(m.contains(want), "{m:?} should mention {want:?}");
    }
    let (c, _) = refusal(w.anna.tasks.set_status(pb::SetStatusRequest { id: t.id, status: 0 }).await);
    assert_eq!(c, Code::InvalidArgument);
    let (c, _) = refusal(w.anna.tasks.set_status(pb::SetStatusRequest { id: t.id, status: 99 }).await);
    assert_eq!(c, Code::InvalidArgument);
    let (c, _) = refusal(w.anna.tasks.get_task(pb::GetTaskRequest { id: 0 }).await);
    assert_eq!(c, Code::InvalidArgument);
    let (c, _) =
        refusal(w.anna.tasks.update_task(pb::UpdateTaskRequest { id: t.id, ..Default::default() }).await);
    assert_eq!(c, Code::InvalidArgument);
    let (c, _) = refusal(
        w.admin.users.add_user(pb::AddUserRequest { login: "eve".into(), ..Default::default() }).await,
    );
    assert_eq!(c, Code::InvalidArgument);

    // Unknown ids.
    let (c, _) = refusal(w.anna.tasks.get_task(pb::GetTaskRequest { id: 999 }).await);
    assert_eq!(c, Code::NotFound);
    let (c, m) = refusal(w.anna.tasks.create_task(create("x", "nobody", &[])).await);
    assert_eq!(c, Code::NotFound);
    assert!(m.contains("nobody"), "{m}");
    let (c, _) = refusal(w.anna.groups.get_group(pb::GetGroupRequest { id: 42 }).await);
    assert_eq!(c, Code::NotFound);
    let (c, _) = refusal(w.anna.tasks.get_file(pb::GetFileRequest { task_id: t.id, file_id: 7 }).await);
    assert_eq!(c, Code::NotFound);

    // Oversized files: one byte over the limit, streamed (a clear message naming
    // the limit), and a deprecated whole-file message over its 4 MiB (refused by
    // its length prefix before the message is read).
    let limit = w.anna.portal.info(pb::InfoRequest {}).await.unwrap().into_inner().max_file_bytes as usize;
    let meta = pb::UploadFileRequest {
        part: Some(pb::upload_file_request::Part::Meta(pb::UploadFileMeta {
            task_id: t.id,
            name: "big.bin".into(),
            content_type: String::new(),
        })),
    };
    let chunk = 64 * 1024;
    let chunks = (0..limit / chunk + 1).map(move |i| pb::UploadFileRequest {
        part: Some(pb::upload_file_request::Part::Chunk(vec![
            7u8;
            if i < limit / chunk {
                chunk
            } else {
                limit % chunk + 1
            }
        ])),
    });
    let upload = tokio_stream::iter(std::iter::once(meta).chain(chunks));
    let (c, m) = refusal(w.anna.tasks.upload_file(upload).await);
    assert_eq!(c, Code::InvalidArgument);
    assert!(m.contains(&format!("limit of {limit} bytes")), "{m}");
    let attach = |n: usize| pb::AttachFileRequest {
        task_id: t.id,
        name: "big.bin".into(),
        content_type: String::new(),
        content: vec![7u8; n],
    };
    let e = w.anna.tasks.attach_file(attach(6 * 1024 * 1024)).await.unwrap_err();
    assert!(matches!(e.code(), Code::OutOfRange | Code::ResourceExhausted), "{e:?}");

    // Acting outside one's rights.
    let (c, _) = refusal(w.bob.users.add_user(new_user("mallory", "Mallory")).await);
    assert_eq!(c, Code::PermissionDenied);
    let (c, _) = refusal(w.bob.users.issue_token(pb::IssueTokenRequest { login: "anna".into() }).await);
    assert_eq!(c, Code::PermissionDenied);
    let (c, _) = refusal(
        w.bob
            .tasks
            .update_task(pb::UpdateTaskRequest { id: t.id, title: Some("mine".into()), ..Default::default() })
            .await,
    );
    assert_eq!(c, Code::PermissionDenied);
    let (c, _) = refusal(
        w.anna.tasks.set_status(pb::SetStatusRequest { id: t.id, status: pb::TaskStatus::New as i32 }).await,
    );
    assert_eq!(c, Code::FailedPrecondition);
    let (c, m) = refusal(w.admin.users.add_user(new_user("anna", "Another Anna")).await);
    assert_eq!(c, Code::AlreadyExists, "{m}");
    let mut dup_mail = new_user("anna2", "Anna Two");
    dup_mail.email = "ANNA@example.test".into();
    let (c, m) = refusal(w.admin.users.add_user(dup_mail).await);
    assert_eq!(c, Code::AlreadyExists);
    assert!(m.contains("anna"), "{m}");

    // Nothing of the above changed the task.
    assert_eq!(snapshot(w.anna.clone(), t.id).await, before);
    assert_eq!(
        w.admin
            .users
            .list_users(pb::ListUsersRequest { include_dismissed: true, ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .users
            .len(),
        5
    );

    // A dismissed user's token stops working, and they cannot be given tasks.
    w.admin.users.dismiss_user(pb::DismissUserRequest { login: "carol".into() }).await.unwrap();
    let (c, m) = refusal(w.carol.tasks.list_tasks(pb::ListTasksRequest::default()).await);
    assert_eq!(c, Code::Unauthenticated);
    assert!(m.contains("dismissed"), "{m}");
    let (c, _) = refusal(w.anna.tasks.create_task(create("x", "carol", &[])).await);
    assert_eq!(c, Code::FailedPrecondition);
    let (c, _) = refusal(w.admin.users.dismiss_user(pb::DismissUserRequest { login: "carol".into() }).await);
    assert_eq!(c, Code::FailedPrecondition);
    let (c, _) = refusal(w.admin.users.dismiss_user(pb::DismissUserRequest { login: "admin".into() }).await);
    assert_eq!(c, Code::FailedPrecondition);
}

#[tokio::test]
async fn everything_is_there_after_a_restart() {
    let mut w = world().await;
    let g = new_group(
        &mut w.anna.groups,
        pb::CreateGroupRequest { name: "Ops".into(), description: "d".into(), ..Default::default() },
    )
    .await;
    let t = w.anna.tasks.create_task(create("Keep me", "bob", &["carol"])).await.unwrap().into_inner();
    w.bob.tasks.add_comment(pb::AddCommentRequest { task_id: t.id, text: "noted".into() }).await.unwrap();
    w.bob
        .tasks
        .attach_file(pb::AttachFileRequest {
            task_id: t.id,
            name: "a.bin".into(),
            content_type: String::new(),
            content: vec![1, 2, 3],
        })
        .await
        .unwrap();
    let anna_token = {
        let r = w.admin.users.issue_token(pb::IssueTokenRequest { login: "anna".into() }).await.unwrap();
        r.into_inner().token
    };

    w.node.restart().await.unwrap();
    let mut anna = w.node.clients(&anna_token).await.unwrap();
    let t2 = anna.tasks.get_task(pb::GetTaskRequest { id: t.id }).await.unwrap().into_inner();
    assert_eq!((t2.title.as_str(), t2.version, t2.comment_count, t2.files.len()), ("Keep me", 3, 1, 1));
    let g2 = anna.groups.get_group(pb::GetGroupRequest { id: g.id }).await.unwrap().into_inner();
    assert_eq!(g2.name, "Ops");
    let f = anna
        .tasks
        .get_file(pb::GetFileRequest { task_id: t.id, file_id: t2.files[0].id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(f.content, [1, 2, 3]);
    // Ids continue after the restart instead of starting over.
    let t3 = anna.tasks.create_task(create("Next", "anna", &[])).await.unwrap().into_inner();
    assert_eq!(t3.id, t.id + 1);
}

#[tokio::test]
async fn health_and_reflection_answer_over_tls() {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let node = InProcess::start("alpha.test").await.unwrap();
    assert!(portalnet_tests::healthy(&node.endpoint, &portalnet_tests::Node::ca(&node)).await);
    let ch = portalnet_tests::channel(&node.endpoint, &portalnet_tests::Node::ca(&node)).await.unwrap();
    let mut refl = ServerReflectionClient::new(ch);
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = refl.server_reflection_info(tokio_stream::iter([req])).await.unwrap().into_inner();
    let resp = stream.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else { panic!("{resp:?}") };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for want in ["portalnet.v1.TaskService", "portalnet.v1.UserService", "grpc.health.v1.Health"] {
        assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
    }
    // And a plain-text (non-TLS) client is refused.
    let plain = tonic::transport::Endpoint::from_shared(node.endpoint.replace("https", "http")).unwrap();
    let ok = match plain.connect().await {
        Ok(ch) => {
            pb::portal_service_client::PortalServiceClient::new(ch).info(pb::InfoRequest {}).await.is_ok()
        }
        Err(_) => false,
    };
    assert!(!ok, "a plaintext call must not succeed");
}

/// Issue 15: health means something. While storage flushes fail the node says
/// NOT_SERVING (and the write's caller gets an error); the next good flush makes
/// it SERVING again. Metrics count the failed flush.
#[tokio::test]
async fn health_is_not_serving_while_storage_fails() {
    let node = InProcess::start("alpha.test").await.unwrap();
    let (endpoint, ca) = (node.endpoint.clone(), portalnet_tests::Node::ca(&node));
    assert!(portalnet_tests::healthy(&endpoint, &ca).await);
    let portal = node.handle.as_ref().unwrap().state.portal.clone();
    let mut admin = node.admin().await.unwrap();
    portal.fail_flushes_for_test(true);
    let e = admin.users.add_user(new_user("bob", "Bob")).await.unwrap_err();
    assert_eq!(e.code(), Code::Internal, "{e:?}");
    portalnet_tests::wait_for("NOT_SERVING", || {
        let (endpoint, ca) = (endpoint.clone(), ca.clone());
        async move { (!portalnet_tests::healthy(&endpoint, &ca).await).then_some(()) }
    })
    .await
    .unwrap();
    portal.fail_flushes_for_test(false);
    admin.users.add_user(new_user("carl", "Carl")).await.unwrap();
    portalnet_tests::wait_for("SERVING again", || {
        let (endpoint, ca) = (endpoint.clone(), ca.clone());
        async move { portalnet_tests::healthy(&endpoint, &ca).await.then_some(()) }
    })
    .await
    .unwrap();
    let url = node.handle.as_ref().unwrap().metrics_url.clone().unwrap();
    let s = portalnet_tests::scrape::scrape(&url).await.unwrap();
    assert_eq!(portalnet_tests::scrape::value(&s, "portalnet_storage_flush_failures_total", &[]), 1.0);
    let internal = [("method", "AddUser"), ("code", "INTERNAL")];
    assert_eq!(portalnet_tests::scrape::value(&s, "portalnet_grpc_server_requests_total", &internal), 1.0);
}

/// Issue 15 (3): the directory's health turns NOT_SERVING as soon as it starts
/// stopping, before it closes its connections, so clients move to another
/// directory first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_health_turns_not_serving_when_it_stops() {
    use tonic_health::pb::health_check_response::ServingStatus;
    let dir = portalnet_tests::TestDirectory::start(std::sync::Arc::new(portalnet_node::clock::SystemClock))
        .await
        .unwrap();
    let ch = portalnet_tests::channel(&dir.handle.endpoint, &dir.handle.cert).await.unwrap();
    let mut h = tonic_health::pb::health_client::HealthClient::new(ch);
    let req = tonic_health::pb::HealthCheckRequest { service: "portalnet.v1.Directory".into() };
    let mut watch = h.watch(req).await.unwrap().into_inner();
    assert_eq!(watch.message().await.unwrap().unwrap().status, ServingStatus::Serving as i32);
    let portalnet_tests::TestDirectory { tmp: _tmp, handle } = dir;
    let stopping = tokio::spawn(handle.stop());
    assert_eq!(watch.message().await.unwrap().unwrap().status, ServingStatus::NotServing as i32);
    drop(watch);
    stopping.await.unwrap().unwrap();
}
