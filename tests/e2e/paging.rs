//! Paging of lists (issue 12, AIP-158) on one real node over TLS: pages concatenate
//! to the whole list, a token is refused with other filters, writes between pages
//! neither repeat nor skip a row that exists throughout, an extranet user pages only
//! what they may see, and `portalctl` follows pages (`--limit`, `--all`) with one
//! JSON document.

use portalnet_proto::v1 as pb;
use portalnet_tests::{Clients, InProcess, Node, ctl, ctl_json, new_group, new_user, refusal, wait_for};
use std::collections::BTreeSet;
use tonic::Code;

async fn token(admin: &mut Clients, login: &str) -> String {
    admin.users.add_user(new_user(login, &format!("User {login}"))).await.unwrap();
    admin.users.issue_token(pb::IssueTokenRequest { login: login.into() }).await.unwrap().into_inner().token
}

fn task(title: String, responsible: &str, group: u64) -> pb::CreateTaskRequest {
    pb::CreateTaskRequest { title, responsible: responsible.into(), group_id: group, ..Default::default() }
}

/// Every task id `req` lists, page by page of `size`.
async fn all_pages(c: &mut Clients, req: pb::ListTasksRequest, size: i32) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut token = String::new();
    loop {
        let r = c
            .tasks
            .list_tasks(pb::ListTasksRequest { page_size: size, page_token: token, ..req.clone() })
            .await
            .unwrap()
            .into_inner();
        assert!(r.tasks.len() <= size as usize);
        ids.extend(r.tasks.iter().map(|t| t.id));
        if r.next_page_token.is_empty() {
            return ids;
        }
        token = r.next_page_token;
    }
}

/// An extranet user of `group`, by invitation and acceptance; their API token.
async fn extranet_user(node: &InProcess, admin: &mut Clients, group: u64, email: &str) -> String {
    admin
        .invites
        .invite(pb::InviteRequest { email: email.into(), group_id: group, ..Default::default() })
        .await
        .unwrap();
    let dir = node.dir().join("mail/outbox");
    let to = email.to_string();
    let invite_token = wait_for("the invitation e-mail", || {
        let (dir, to) = (dir.clone(), to.clone());
        async move {
            for e in std::fs::read_dir(&dir).ok()? {
                let raw = std::fs::read(e.ok()?.path()).ok()?;
                let msg = mail_parser::MessageParser::default().parse(&raw)?;
                if msg.to().and_then(|a| a.first()).and_then(|a| a.address()) == Some(to.as_str()) {
                    let body = msg.body_text(0)?.into_owned();
                    let (_, after) = body.split_once("/invite/")?;
                    return Some(
                        after
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                            .collect::<String>(),
                    );
                }
            }
            None
        }
    })
    .await
    .unwrap();
    let ch = portalnet_tests::channel(node.endpoint(), &node.ca()).await.unwrap();
    let mut c = pb::invitation_service_client::InvitationServiceClient::new(ch);
    let req =
        pb::AcceptRequest { token: invite_token, display_name: "Jan Guest".into(), login: "jan".into() };
    c.accept(req).await.unwrap().into_inner().api_token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_concatenate_refuse_other_filters_and_survive_writes() {
    let node = InProcess::start("alpha.test").await.unwrap();
    let mut admin = node.admin().await.unwrap();
    let anna_token = token(&mut admin, "anna").await;
    token(&mut admin, "bob").await;
    let mut anna = node.clients(&anna_token).await.unwrap();
    let g = new_group(
        &mut admin.groups,
        pb::CreateGroupRequest { name: "Guests".into(), extranet: true, ..Default::default() },
    )
    .await;
    let jan_token = extranet_user(&node, &mut admin, g.id, "jan@ext.test").await;
    let mut jan = node.clients(&jan_token).await.unwrap();

    // 60 tasks: anna's, bob's, and every fifth one in the extranet group.
    for i in 0..60u64 {
        let responsible = if i % 2 == 0 { "anna" } else { "bob" };
        let group = if i % 5 == 0 { g.id } else { 0 };
        admin.tasks.create_task(task(format!("t{i}"), responsible, group)).await.unwrap();
    }
    let whole = all_pages(&mut admin, pb::ListTasksRequest::default(), 1000).await;
    assert_eq!(whole.len(), 60);
    // Old clients (page_size 0) get the default page, all of these 60.
    let old = admin.tasks.list_tasks(pb::ListTasksRequest::default()).await.unwrap().into_inner();
    assert_eq!((old.tasks.len(), old.next_page_token.as_str()), (60, ""));
    // Pages of 7 concatenate to the whole list, in order, without repeats.
    assert_eq!(all_pages(&mut admin, pb::ListTasksRequest::default(), 7).await, whole);
    // Filtered pages equal the filtered whole.
    let annas = pb::ListTasksRequest { responsible: "anna".into(), ..Default::default() };
    let anna_whole = all_pages(&mut admin, annas.clone(), 1000).await;
    assert_eq!(anna_whole.len(), 30);
    assert_eq!(all_pages(&mut admin, annas.clone(), 4).await, anna_whole);
    // A user pages through their own tasks only (participant ∪ group indexes).
    assert_eq!(all_pages(&mut anna, pb::ListTasksRequest::default(), 3).await, anna_whole);
    // The extranet user pages only the group's tasks.
    let group_ids: Vec<u64> = whole.iter().copied().filter(|id| (id - whole[0]) % 5 == 0).collect();
    assert_eq!(all_pages(&mut jan, pb::ListTasksRequest::default(), 2).await, group_ids);
    let (code, msg) = refusal(jan.users.list_users(pb::ListUsersRequest::default()).await);
    assert_eq!(code, Code::PermissionDenied, "{msg}");

    // A token used with other filters, or made up, is refused.
    let first = admin
        .tasks
        .list_tasks(pb::ListTasksRequest { page_size: 4, ..annas.clone() })
        .await
        .unwrap()
        .into_inner();
    assert!(!first.next_page_token.is_empty());
    let other = pb::ListTasksRequest {
        responsible: "bob".into(),
        page_size: 4,
        page_token: first.next_page_token.clone(),
        ..Default::default()
    };
    let (code, msg) = refusal(admin.tasks.list_tasks(other).await);
    assert_eq!(code, Code::InvalidArgument);
    assert!(msg.contains("other filters"), "{msg}");
    let forged = pb::ListTasksRequest { page_token: "bm90IGEgdG9rZW4".into(), ..Default::default() };
    let (code, msg) = refusal(admin.tasks.list_tasks(forged).await);
    assert_eq!(code, Code::InvalidArgument, "{msg}");
    let (code, _) =
        refusal(admin.tasks.list_tasks(pb::ListTasksRequest { page_size: -1, ..Default::default() }).await);
    assert_eq!(code, Code::InvalidArgument);

    // Writes between pages: rows that exist throughout come exactly once.
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut round = 0;
    loop {
        let r = admin
            .tasks
            .list_tasks(pb::ListTasksRequest { page_size: 9, page_token: token, ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        seen.extend(r.tasks.iter().map(|t| t.id));
        if r.next_page_token.is_empty() {
            break;
        }
        token = r.next_page_token;
        // New tasks, and changes to tasks already served and still to come.
        round += 1;
        admin.tasks.create_task(task(format!("new {round}"), "bob", 0)).await.unwrap();
        for id in [whole[0], whole[whole.len() - 1 - round]] {
            let req =
                pb::UpdateTaskRequest { id, title: Some(format!("changed {round}")), ..Default::default() };
            admin.tasks.update_task(req).await.unwrap();
        }
    }
    let unique: BTreeSet<u64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no task is served twice: {seen:?}");
    for id in &whole {
        assert!(unique.contains(id), "task {id} existed throughout and was skipped");
    }

    // Users, groups, comments and history page the same way.
    let mut users = Vec::new();
    let mut token = String::new();
    loop {
        let r = admin
            .users
            .list_users(pb::ListUsersRequest { page_size: 2, page_token: token, ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        users.extend(r.users.into_iter().map(|u| u.login));
        if r.next_page_token.is_empty() {
            break;
        }
        token = r.next_page_token;
    }
    let everyone: Vec<String> = admin
        .users
        .list_users(pb::ListUsersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .users
        .into_iter()
        .map(|u| u.login)
        .collect();
    assert_eq!(users, everyone);
    assert!(everyone.len() >= 4, "{everyone:?}");
    let t = whole[1];
    for i in 0..11 {
        admin.tasks.add_comment(pb::AddCommentRequest { task_id: t, text: format!("c{i}") }).await.unwrap();
    }
    let mut comments = Vec::new();
    let mut token = String::new();
    loop {
        let req = pb::ListCommentsRequest { task_id: t, page_size: 4, page_token: token };
        let r = admin.tasks.list_comments(req).await.unwrap().into_inner();
        comments.extend(r.comments.into_iter().map(|c| c.text));
        if r.next_page_token.is_empty() {
            break;
        }
        token = r.next_page_token;
    }
    assert_eq!(comments, (0..11).map(|i| format!("c{i}")).collect::<Vec<_>>());
    let first = admin
        .tasks
        .history(pb::HistoryRequest { task_id: t, page_size: 5, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.entries.len(), 5);
    let rest = admin
        .tasks
        .history(pb::HistoryRequest { task_id: t, page_size: 100, page_token: first.next_page_token.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.entries.first().map(|e| e.version), Some(6));
    assert!(rest.next_page_token.is_empty());
    // One task's history token does not page another task's history.
    let req = pb::HistoryRequest { task_id: whole[2], page_size: 5, page_token: first.next_page_token };
    assert_eq!(refusal(admin.tasks.history(req).await).0, Code::InvalidArgument);

    // Invitations and groups page too.
    for i in 0..5 {
        let req =
            pb::InviteRequest { email: format!("guest{i}@ext.test"), group_id: g.id, ..Default::default() };
        admin.invites.invite(req).await.unwrap();
    }
    for name in ["Roof", "Walls", "Cellar"] {
        new_group(&mut admin.groups, pb::CreateGroupRequest { name: name.into(), ..Default::default() })
            .await;
    }
    let whole_invites: Vec<u64> = admin
        .invites
        .list_invitations(pb::ListInvitationsRequest { all: true, ..Default::default() })
        .await
        .unwrap()
        .into_inner()
        .invitations
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(whole_invites.len(), 6, "jan's accepted one and five pending");
    let (mut invites, mut token) = (Vec::new(), String::new());
    loop {
        let req =
            pb::ListInvitationsRequest { all: true, page_size: 2, page_token: token, ..Default::default() };
        let r = admin.invites.list_invitations(req).await.unwrap().into_inner();
        invites.extend(r.invitations.iter().map(|i| i.id));
        if r.next_page_token.is_empty() {
            break;
        }
        token = r.next_page_token;
    }
    assert_eq!(invites, whole_invites);
    let (mut groups, mut token) = (Vec::new(), String::new());
    loop {
        let r = admin
            .groups
            .list_groups(pb::ListGroupsRequest { page_size: 2, page_token: token })
            .await
            .unwrap()
            .into_inner();
        groups.extend(r.groups.into_iter().map(|g| g.name));
        if r.next_page_token.is_empty() {
            break;
        }
        token = r.next_page_token;
    }
    assert_eq!(groups, ["Guests", "Roof", "Walls", "Cellar"]);
    // The extranet user pages only their own group.
    let jan_groups =
        jan.groups.list_groups(pb::ListGroupsRequest { page_size: 1, ..Default::default() }).await;
    let jan_groups = jan_groups.unwrap().into_inner();
    assert_eq!(
        (jan_groups.groups.len(), jan_groups.next_page_token.as_str()),
        (1, ""),
        "{:?}",
        jan_groups.groups
    );

    // portalctl: the first page by default with a hint, --limit, --all; one JSON document.
    let admin_token = node.admin_token();
    for i in 0..110u64 {
        admin.tasks.create_task(task(format!("bulk {i}"), "anna", 0)).await.unwrap();
    }
    let total = all_pages(&mut admin, pb::ListTasksRequest::default(), 1000).await.len();
    assert!(total > 170, "{total}");
    let out = ctl(&node, &admin_token, &["--json", "task", "list"]);
    assert!(out.status.success());
    let first_page: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(first_page.as_array().map(Vec::len), Some(100));
    let hint = String::from_utf8_lossy(&out.stderr);
    assert!(hint.contains("--limit") && hint.contains("--all"), "{hint}");
    let limited = ctl_json(&node, &admin_token, &["task", "list", "--limit", "130"]);
    assert_eq!(limited.as_array().map(Vec::len), Some(130));
    let every = ctl_json(&node, &admin_token, &["task", "list", "--all"]);
    let ids: Vec<u64> = every.as_array().unwrap().iter().map(|t| t["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, all_pages(&mut admin, pb::ListTasksRequest::default(), 1000).await);
    let text = ctl(&node, &admin_token, &["task", "list", "--all-pages", "--responsible", "anna"]);
    assert!(text.status.success() && text.stderr.is_empty(), "{}", String::from_utf8_lossy(&text.stderr));
    let users = ctl_json(&node, &admin_token, &["user", "list", "--all-pages"]);
    assert_eq!(users.as_array().map(Vec::len), Some(everyone.len()));
    let jan_tasks = ctl_json(&node, &jan_token, &["task", "list", "--all"]);
    assert_eq!(jan_tasks.as_array().map(Vec::len), Some(group_ids.len()));
    // After all of it, the indexes equal a rebuild from the tables.
    let tables = &node.handle.as_ref().unwrap().state.portal.tables;
    assert_eq!(tables.index_mismatches().unwrap(), Vec::<String>::new());
}
