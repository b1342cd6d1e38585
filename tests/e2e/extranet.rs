//! Extranet (R1–R12, R24) against a real node over TLS: the whole story of both
//! source articles, every refusal with its message, token life (expiry with an
//! injected clock, revoke, reuse, resend), the last-seat race, e-mail address
//! variants, and the isolation matrix.

use portalnet_proto::v1 as pb;
use portalnet_tests::{Clients, InProcess, ManualClock, Node, new_group, new_user, refusal, wait_for};
use std::sync::Arc;
use std::time::Duration;
use tonic::Code;

struct World {
    node: InProcess,
    clock: ManualClock,
    admin: Clients,
    /// Employees: owner, moderator and member of the extranet group, and one outside it.
    olga: Clients,
    mike: Clients,
    mem: Clients,
    emp: Clients,
    group: u64,
}

async fn world(policy: pb::InvitePolicy) -> World {
    let clock = ManualClock::new();
    let node = InProcess::start_with_clock("alpha.test", Arc::new(clock.clone())).await.unwrap();
    let mut admin = node.admin().await.unwrap();
    let mut tokens = Vec::new();
    for (login, name) in
        [("olga", "Olga Owner"), ("mike", "Mike Moderator"), ("mem", "Mem Member"), ("emp", "Emp Loyee")]
    {
        let mut u = new_user(login, name);
        u.email = format!("{login}@Example.test");
        admin.users.add_user(u).await.unwrap();
        tokens.push(
            admin
                .users
                .issue_token(pb::IssueTokenRequest { login: login.into() })
                .await
                .unwrap()
                .into_inner()
                .token,
        );
    }
    let mut olga = node.clients(&tokens[0]).await.unwrap();
    let g = new_group(
        &mut olga.groups,
        pb::CreateGroupRequest {
            name: "Contractors".into(),
            extranet: true,
            invite_policy: policy as i32,
            ..Default::default()
        },
    )
    .await;
    for (login, role) in [("mike", pb::GroupRole::Moderator), ("mem", pb::GroupRole::Member)] {
        olga.groups
            .add_member(pb::AddMemberRequest { group_id: g.id, login: login.into(), role: role as i32 })
            .await
            .unwrap();
    }
    World {
        mike: node.clients(&tokens[1]).await.unwrap(),
        mem: node.clients(&tokens[2]).await.unwrap(),
        emp: node.clients(&tokens[3]).await.unwrap(),
        olga,
        admin,
        clock,
        group: g.id,
        node,
    }
}

fn invite(email: &str, group: u64) -> pb::InviteRequest {
    pb::InviteRequest { email: email.into(), group_id: group, ..Default::default() }
}

/// The invitation e-mail written for `to` (as `.eml` in the data folder); returns
/// (whole message, token).
async fn mail_for(node: &InProcess, to: &str) -> (String, String) {
    let dir = node.dir().join("mail/outbox");
    let to = to.to_string();
    wait_for(&format!("an invitation e-mail to {to}"), || {
        let (dir, to) = (dir.clone(), to.clone());
        async move {
            let mut found = None;
            for e in std::fs::read_dir(&dir).ok()? {
                let path = e.ok()?.path();
                let raw = std::fs::read(&path).ok()?;
                let msg = mail_parser::MessageParser::default().parse(&raw)?;
                let addressed =
                    msg.to().and_then(|a| a.first()).and_then(|a| a.address()) == Some(to.as_str());
                if addressed {
                    // The decoded text part, then the raw message for header checks.
                    let body = msg.body_text(0)?.into_owned();
                    let token = token_in(&body)?;
                    let text = format!("{}\n{body}", String::from_utf8_lossy(&raw));
                    // The newest token wins (resends write a new message).
                    found = Some((path.metadata().ok()?.modified().ok()?, text, token));
                }
            }
            found.map(|(_, t, k)| (t, k))
        }
    })
    .await
    .unwrap()
}

fn token_in(mail: &str) -> Option<String> {
    let (_, after) = mail.split_once("/invite/")?;
    Some(after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect())
}

async fn accept(node: &InProcess, token: &str, name: &str) -> Result<pb::AcceptResponse, tonic::Status> {
    // No API token: the invitation token is the credential.
    let ch = portalnet_tests::channel(node.endpoint(), &node.ca()).await.unwrap();
    let mut c = pb::invitation_service_client::InvitationServiceClient::new(ch);
    c.accept(pb::AcceptRequest { token: token.into(), display_name: name.into(), login: String::new() })
        .await
        .map(|r| r.into_inner())
}

/// Both source articles, start to end: an extranet group, invitations from both
/// entry points, the e-mail, acceptance, work inside the group, nothing outside it,
/// R6, R7, the report, and the move to the intranet (R9) — but never back (R10).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_story() {
    let mut w = world(pb::InvitePolicy::Moderators).await;
    // R1 (at creation): a second extranet group, created with an invitation.
    let created = w
        .olga
        .groups
        .create_group(pb::CreateGroupRequest {
            name: "Suppliers".into(),
            extranet: true,
            invite_policy: pb::InvitePolicy::Moderators as i32,
            invite_emails: vec!["Jan.Kowalski@Firma.pl".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let suppliers = created.group.unwrap();
    assert!(suppliers.extranet);
    assert_eq!(created.invitations.len(), 1);
    let inv = created.invitations[0].invitation.clone().unwrap();
    assert!(inv.admits_to_group && created.invitations[0].notice.is_empty());
    assert_eq!(inv.state, pb::InvitationState::Pending as i32);
    assert_eq!(inv.expires_at - inv.created_at, 14 * 24 * 3600 * 1000);

    // The e-mail really went out: subject, both parts, the link and the token.
    let (mail, token) = mail_for(&w.node, "Jan.Kowalski@Firma.pl").await;
    assert!(token.len() >= 40, "token {token:?} too short");
    assert!(mail.contains("Subject: Invitation to Suppliers on alpha.test"), "{mail}");
    assert!(mail.contains("multipart/alternative") && mail.contains("text/html"), "{mail}");
    assert!(mail.contains(&format!("portalctl invite accept {token}")));

    // R4: accepting makes an extranet user, in the group, with a token.
    let acc = accept(&w.node, &token, "Jan Kowalski").await.unwrap();
    let jan_user = acc.user.unwrap();
    assert_eq!((jan_user.login.as_str(), jan_user.kind), ("jan.kowalski", pb::UserKind::Extranet as i32));
    assert_eq!(acc.group_ids, vec![suppliers.id]);
    let mut jan = w.node.clients(&acc.api_token).await.unwrap();
    assert_eq!(jan.users.who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner().login, "jan.kowalski");

    // R3 (the general flow) into Contractors, by the moderator: admitted fully.
    let r = w.mike.invites.invite(invite("anna@contractor.test", w.group)).await.unwrap().into_inner();
    assert!(r.invitation.unwrap().admits_to_group && r.notice.is_empty());
    // R6: a plain member's invitation admits to the portal, not the group, and says so up front.
    let r = w.mem.invites.invite(invite("piotr@contractor.test", w.group)).await.unwrap().into_inner();
    assert!(!r.invitation.as_ref().unwrap().admits_to_group);
    assert!(r.notice.contains("will join the portal as an extranet user but not the group"), "{}", r.notice);
    let (mail, t) = mail_for(&w.node, "piotr@contractor.test").await;
    assert!(mail.contains("Subject: Invitation to alpha.test"), "R6 mail names no group: {mail}");
    let piotr = accept(&w.node, &t, "Piotr Nowak").await.unwrap();
    assert!(piotr.group_ids.is_empty());

    // Work inside the group: a task there, for jan.
    let task = w
        .olga
        .tasks
        .create_task(pb::CreateTaskRequest {
            title: "Deliver bricks".into(),
            responsible: "jan.kowalski".into(),
            group_id: suppliers.id,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    jan.tasks
        .set_status(pb::SetStatusRequest { id: task.id, status: pb::TaskStatus::InProgress as i32 })
        .await
        .unwrap();
    jan.tasks
        .add_comment(pb::AddCommentRequest { task_id: task.id, text: "Truck booked".into() })
        .await
        .unwrap();
    let mine = jan.tasks.list_tasks(pb::ListTasksRequest::default()).await.unwrap().into_inner().tasks;
    assert_eq!(mine.iter().map(|t| t.id).collect::<Vec<_>>(), [task.id]);

    // And nothing outside it.
    let outside = w
        .emp
        .tasks
        .create_task(pb::CreateTaskRequest { title: "Payroll".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(refusal(jan.tasks.get_task(pb::GetTaskRequest { id: outside.id }).await).0, Code::NotFound);
    let (c, m) = refusal(jan.users.list_users(pb::ListUsersRequest::default()).await);
    assert_eq!(c, Code::PermissionDenied, "R7: {m}");
    assert_eq!(
        refusal(jan.users.get_user(pb::GetUserRequest { login: "emp".into() }).await).0,
        Code::NotFound
    );
    assert_eq!(
        jan.users.get_user(pb::GetUserRequest { login: "olga".into() }).await.unwrap().into_inner().login,
        "olga"
    );
    let groups = jan.groups.list_groups(pb::ListGroupsRequest::default()).await.unwrap().into_inner().groups;
    assert_eq!(groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["Suppliers"]);
    assert_eq!(refusal(jan.groups.get_group(pb::GetGroupRequest { id: w.group }).await).0, Code::NotFound);
    // R7: the "Employees" picker is not there for jan: he cannot hand work to emp.
    let (c, _) = refusal(
        jan.tasks
            .create_task(pb::CreateTaskRequest {
                title: "x".into(),
                responsible: "emp".into(),
                group_id: suppliers.id,
                ..Default::default()
            })
            .await,
    );
    assert_eq!(c, Code::PermissionDenied);
    // An extranet user takes part only in tasks of their groups.
    let (c, m) = refusal(
        w.olga
            .tasks
            .create_task(pb::CreateTaskRequest {
                title: "x".into(),
                responsible: "jan.kowalski".into(),
                ..Default::default()
            })
            .await,
    );
    assert_eq!(c, Code::FailedPrecondition, "{m}");

    // R24: the report counts jan's task and says he is extranet.
    let report = w
        .admin
        .reports
        .task_report(pb::TaskReportRequest { by: pb::ReportBy::Responsible as i32 })
        .await
        .unwrap()
        .into_inner();
    let row = report.rows.iter().find(|r| r.key == "jan.kowalski").expect("jan in the report");
    assert_eq!((row.kind.as_str(), row.total, row.in_progress), ("extranet", 1, 1));
    let jan_report = jan.reports.task_report(pb::TaskReportRequest::default()).await.unwrap().into_inner();
    assert_eq!(jan_report.totals.unwrap().total, 1, "jan's report covers only what he sees");

    // R9: move to the intranet keeps groups and tasks; R10: never back.
    let moved = w
        .admin
        .users
        .move_to_intranet(pb::MoveUserRequest { login: "jan.kowalski".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved.kind, pb::UserKind::Employee as i32);
    assert_eq!(
        jan.tasks.get_task(pb::GetTaskRequest { id: task.id }).await.unwrap().into_inner().responsible,
        "jan.kowalski"
    );
    let g = w.olga.groups.get_group(pb::GetGroupRequest { id: suppliers.id }).await.unwrap().into_inner();
    assert!(g.members.iter().any(|m| m.login == "jan.kowalski"));
    assert_eq!(
        jan.users.list_users(pb::ListUsersRequest::default()).await.unwrap().into_inner().users.len(),
        7
    );
    let (c, m) =
        refusal(w.admin.users.move_to_extranet(pb::MoveUserRequest { login: "jan.kowalski".into() }).await);
    assert_eq!(c, Code::FailedPrecondition);
    assert!(m.contains("dismiss") && m.contains("invite the person again"), "{m}");
    let report = w.admin.reports.task_report(pb::TaskReportRequest::default()).await.unwrap().into_inner();
    assert_eq!(report.rows.iter().find(|r| r.key == "jan.kowalski").unwrap().kind, "employee");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_refusals() {
    // Owner-only: nobody else may invite (our reading of R5; R6 covers only the
    // owner-and-moderators policy).
    let mut w = world(pb::InvitePolicy::Owner).await;
    let (c, m) = refusal(w.mike.invites.invite(invite("x@y.test", w.group)).await);
    assert_eq!(c, Code::PermissionDenied);
    assert!(m.contains("only the owner (olga)"), "{m}");
    assert_eq!(refusal(w.mem.invites.invite(invite("x@y.test", w.group)).await).0, Code::PermissionDenied);
    assert_eq!(refusal(w.emp.invites.invite(invite("x@y.test", w.group)).await).0, Code::PermissionDenied);
    w.olga.invites.invite(invite("x@y.test", w.group)).await.unwrap();

    // R2: no invitations into a group without the extranet flag — until it is set.
    let plain = new_group(
        &mut w.olga.groups,
        pb::CreateGroupRequest { name: "Internal".into(), ..Default::default() },
    )
    .await;
    let (c, m) = refusal(w.olga.invites.invite(invite("z@y.test", plain.id)).await);
    assert_eq!(c, Code::FailedPrecondition);
    assert!(m.contains("not available in extranet") && m.contains("--extranet"), "{m}");
    let (c, _) = refusal(
        w.olga
            .groups
            .create_group(pb::CreateGroupRequest {
                name: "Bad".into(),
                invite_emails: vec!["q@y.test".into()],
                ..Default::default()
            })
            .await,
    );
    assert_eq!(c, Code::FailedPrecondition, "R1 at creation follows R2 too");
    assert_eq!(
        refusal(
            w.mike
                .groups
                .update_group(pb::UpdateGroupRequest {
                    id: plain.id,
                    extranet: Some(true),
                    ..Default::default()
                })
                .await
        )
        .0,
        Code::PermissionDenied
    );
    let g = w
        .olga
        .groups
        .update_group(pb::UpdateGroupRequest {
            id: plain.id,
            extranet: Some(true),
            invite_policy: pb::InvitePolicy::Members as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(g.extranet);
    assert_eq!(g.invite_policy, pb::InvitePolicy::Members as i32);
    w.olga.invites.invite(invite("z@y.test", plain.id)).await.unwrap();

    // An extranet user cannot join a non-extranet group.
    let (_, t) = mail_for(&w.node, "x@y.test").await;
    let x = accept(&w.node, &t, "Xavier").await.unwrap();
    let other =
        new_group(&mut w.olga.groups, pb::CreateGroupRequest { name: "Closed".into(), ..Default::default() })
            .await;
    let (c, m) = refusal(
        w.olga
            .groups
            .add_member(pb::AddMemberRequest { group_id: other.id, login: x.user.unwrap().login, role: 0 })
            .await,
    );
    assert_eq!(c, Code::FailedPrecondition, "{m}");
}

/// R11 with case and Unicode variants: an address of a user (active or dismissed)
/// is refused with guidance, and accepted once the admin frees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_in_use_are_refused_until_freed() {
    let mut w = world(pb::InvitePolicy::Members).await;
    let mut u = new_user("lukasz", "Łukasz Ślązak");
    u.email = "łukasz.ślązak@przykład.pl".into();
    w.admin.users.add_user(u).await.unwrap();
    for variant in
        ["OLGA@example.TEST", "Olga@Example.test", "ŁUKASZ.ŚLĄZAK@PRZYKŁAD.PL", " łukasz.ślązak@przykład.pl "]
    {
        let (c, m) = refusal(w.olga.invites.invite(invite(variant, w.group)).await);
        assert_eq!(c, Code::AlreadyExists, "{variant}: {m}");
        assert!(m.contains("set-email") && m.contains("Network account"), "{m}");
    }
    // Dismissed: still taken, and the message says so.
    w.admin.users.dismiss_user(pb::DismissUserRequest { login: "lukasz".into() }).await.unwrap();
    let (_, m) = refusal(w.olga.invites.invite(invite("Łukasz.Ślązak@przykład.pl", w.group)).await);
    assert!(m.contains("(dismissed)"), "{m}");
    // The admin frees the address; the invitation goes through.
    w.admin
        .users
        .set_email(pb::SetEmailRequest { login: "lukasz".into(), email: "old.lukasz@przykład.pl".into() })
        .await
        .unwrap();
    let r = w.olga.invites.invite(invite("Łukasz.Ślązak@przykład.pl", w.group)).await.unwrap().into_inner();
    assert_eq!(r.invitation.unwrap().email, "Łukasz.Ślązak@przykład.pl");
    // A second pending invitation to the same person (any case) is refused.
    let (c, m) = refusal(w.mike.invites.invite(invite("łukasz.ślązak@PRZYKŁAD.pl", w.group)).await);
    assert_eq!(c, Code::AlreadyExists);
    assert!(m.contains("pending invitation"), "{m}");
    // set-email itself keeps addresses unique.
    assert_eq!(
        refusal(
            w.admin
                .users
                .set_email(pb::SetEmailRequest { login: "emp".into(), email: "MIKE@example.test".into() })
                .await
        )
        .0,
        Code::AlreadyExists
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_are_single_use_and_can_be_revoked_or_replaced() {
    let mut w = world(pb::InvitePolicy::Members).await;
    let a =
        w.olga.invites.invite(invite("a@ext.test", w.group)).await.unwrap().into_inner().invitation.unwrap();
    let (_, ta) = mail_for(&w.node, "a@ext.test").await;

    // Expiry (14 days by default), with the node's clock moved forward.
    w.clock.advance(Duration::from_secs(14 * 24 * 3600 + 1));
    let (c, m) = refusal(accept(&w.node, &ta, "A").await);
    assert_eq!(c, Code::FailedPrecondition);
    assert!(m.contains("expired"), "{m}");
    let listed = w
        .olga
        .invites
        .list_invitations(pb::ListInvitationsRequest { group_id: w.group, all: true, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.invitations[0].state, pb::InvitationState::Expired as i32);

    // Resend: a new token; the old one is dead.
    let resent = w.olga.invites.resend(pb::InvitationRef { id: a.id }).await.unwrap().into_inner();
    assert_eq!(resent.state, pb::InvitationState::Pending as i32);
    let ta2 = wait_for("the resent e-mail", || {
        let node = &w.node;
        let ta = ta.clone();
        async move {
            let (_, t) = mail_for(node, "a@ext.test").await;
            (t != ta).then_some(t)
        }
    })
    .await
    .unwrap();
    let (c, m) = refusal(accept(&w.node, &ta, "A").await);
    assert_eq!(c, Code::NotFound, "{m}");
    let user = accept(&w.node, &ta2, "A").await.unwrap();
    assert_eq!(user.user.unwrap().kind, pb::UserKind::Extranet as i32);
    // Single use.
    let (c, m) = refusal(accept(&w.node, &ta2, "A again").await);
    assert_eq!(c, Code::FailedPrecondition);
    assert!(m.contains("already been used"), "{m}");
    assert_eq!(
        refusal(w.olga.invites.resend(pb::InvitationRef { id: a.id }).await).0,
        Code::FailedPrecondition
    );

    // Revoke.
    let b =
        w.olga.invites.invite(invite("b@ext.test", w.group)).await.unwrap().into_inner().invitation.unwrap();
    let (_, tb) = mail_for(&w.node, "b@ext.test").await;
    assert_eq!(
        refusal(w.emp.invites.revoke(pb::InvitationRef { id: b.id }).await).0,
        Code::NotFound,
        "not his to revoke"
    );
    w.mike.invites.revoke(pb::InvitationRef { id: b.id }).await.unwrap();
    let (c, m) = refusal(accept(&w.node, &tb, "B").await);
    assert_eq!(c, Code::FailedPrecondition);
    assert!(m.contains("withdrawn"), "{m}");
    // Garbage tokens.
    for bad in ["", "nope", &"x".repeat(5000)] {
        let (c, _) = refusal(accept(&w.node, bad, "B").await);
        assert!(matches!(c, Code::NotFound | Code::InvalidArgument), "{bad:?}: {c:?}");
    }
}

/// R8: employees and extranet users share the seats; two acceptances racing for
/// the last seat cannot both win; dismissing frees a seat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seats_are_counted_and_the_last_one_is_taken_once() {
    let mut w = world(pb::InvitePolicy::Members).await;
    // admin + 4 employees active; allow one more.
    let plan = w.admin.portal.set_plan(pb::SetPlanRequest { seats: 6 }).await.unwrap().into_inner();
    assert_eq!((plan.seats, plan.used, plan.employees, plan.extranet), (6, 5, 5, 0));
    assert_eq!(
        refusal(w.olga.portal.set_plan(pb::SetPlanRequest { seats: 100 }).await).0,
        Code::PermissionDenied
    );
    let mut tokens = Vec::new();
    for who in ["r1@ext.test", "r2@ext.test", "r3@ext.test"] {
        w.olga.invites.invite(invite(who, w.group)).await.unwrap();
        tokens.push(mail_for(&w.node, who).await.1);
    }
    // Race for the one free seat, 3 at once.
    let mut racers = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let (endpoint, ca, t) = (w.node.endpoint.clone(), w.node.ca(), t.clone());
        racers.push(tokio::spawn(async move {
            let ch = portalnet_tests::channel(&endpoint, &ca).await.unwrap();
            let mut c = pb::invitation_service_client::InvitationServiceClient::new(ch);
            c.accept(pb::AcceptRequest { token: t, display_name: format!("Racer {i}"), login: String::new() })
                .await
        }));
    }
    let mut won = 0;
    for r in racers {
        match r.await.unwrap() {
            Ok(_) => won += 1,
            Err(e) => {
                assert_eq!(e.code(), Code::FailedPrecondition);
                assert!(
                    e.message().contains("allows 6 business users") && e.message().contains("6 are active"),
                    "{}",
                    e.message()
                );
            }
        }
    }
    assert_eq!(won, 1, "exactly one racer takes the last seat");
    let plan = w.admin.portal.get_plan(pb::GetPlanRequest {}).await.unwrap().into_inner();
    assert_eq!((plan.used, plan.extranet), (6, 1));
    // Full: new invitations and new employees are refused, naming limit and count.
    let (c, m) = refusal(w.olga.invites.invite(invite("r4@ext.test", w.group)).await);
    assert_eq!(c, Code::FailedPrecondition);
    assert!(m.contains("allows 6") && m.contains("6 are active"), "{m}");
    assert_eq!(
        refusal(w.admin.users.add_user(new_user("late", "Late Comer")).await).0,
        Code::FailedPrecondition
    );
    // Dismissing frees a seat.
    w.admin.users.dismiss_user(pb::DismissUserRequest { login: "emp".into() }).await.unwrap();
    let mut accepted_late = false;
    for t in &tokens {
        if accept(&w.node, t, "Late Racer").await.is_ok() {
            accepted_late = true;
            break;
        }
    }
    assert!(accepted_late);
}

/// R12 as a table: for each API, what an employee outside the group, a group
/// member (employee), an extranet member and an extranet outsider get.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolation_matrix() {
    let mut w = world(pb::InvitePolicy::Members).await;
    // Two extranet users: one in Contractors, one in another extranet group.
    let other = new_group(
        &mut w.olga.groups,
        pb::CreateGroupRequest { name: "Other".into(), extranet: true, ..Default::default() },
    )
    .await;
    w.olga.invites.invite(invite("in@ext.test", w.group)).await.unwrap();
    w.olga.invites.invite(invite("out@ext.test", other.id)).await.unwrap();
    let ext_in = accept(&w.node, &mail_for(&w.node, "in@ext.test").await.1, "Ext In").await.unwrap();
    let ext_out = accept(&w.node, &mail_for(&w.node, "out@ext.test").await.1, "Ext Out").await.unwrap();
    let mut ext_in_c = w.node.clients(&ext_in.api_token).await.unwrap();
    let mut ext_out_c = w.node.clients(&ext_out.api_token).await.unwrap();
    // A group task (with a comment and a file) and a task outside any group.
    let gt = w
        .olga
        .tasks
        .create_task(pb::CreateTaskRequest {
            title: "Group work".into(),
            responsible: "mem".into(),
            group_id: w.group,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    w.olga.tasks.add_comment(pb::AddCommentRequest { task_id: gt.id, text: "c".into() }).await.unwrap();
    let f = w
        .olga
        .tasks
        .attach_file(pb::AttachFileRequest {
            task_id: gt.id,
            name: "f.txt".into(),
            content_type: String::new(),
            content: b"x".to_vec(),
        })
        .await
        .unwrap()
        .into_inner();
    let pt = w
        .olga
        .tasks
        .create_task(pb::CreateTaskRequest { title: "Private".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();

    // who → expected outcome per API ('Y' allowed/sees, 'N' not found or not listed, 'D' denied).
    let viewers: Vec<(&str, &mut Clients)> = vec![
        ("employee outside", &mut w.emp),
        ("group member", &mut w.mem),
        ("extranet member", &mut ext_in_c),
        ("extranet outsider", &mut ext_out_c),
    ];
    let expect: &[(&str, [char; 4])] = &[
        ("list users", ['Y', 'Y', 'D', 'D']),
        ("get group member mike", ['Y', 'Y', 'Y', 'N']),
        ("get employee emp", ['Y', 'Y', 'N', 'N']),
        ("list groups has Contractors", ['Y', 'Y', 'Y', 'N']),
        ("get group", ['Y', 'Y', 'Y', 'N']),
        ("get group task", ['N', 'Y', 'Y', 'N']),
        ("list tasks has group task", ['N', 'Y', 'Y', 'N']),
        ("comments of group task", ['N', 'Y', 'Y', 'N']),
        ("file of group task", ['N', 'Y', 'Y', 'N']),
        ("history of group task", ['N', 'Y', 'Y', 'N']),
        ("get private task", ['N', 'N', 'N', 'N']),
        ("report counts group task", ['N', 'Y', 'Y', 'N']),
    ];
    for (col, (who, c)) in viewers.into_iter().enumerate() {
        for (api, want) in expect {
            let got = match *api {
                "list users" => outcome(c.users.list_users(pb::ListUsersRequest::default()).await),
                "get group member mike" => {
                    outcome(c.users.get_user(pb::GetUserRequest { login: "mike".into() }).await)
                }
                "get employee emp" => {
                    outcome(c.users.get_user(pb::GetUserRequest { login: "emp".into() }).await)
                }
                "list groups has Contractors" => {
                    let gs = c
                        .groups
                        .list_groups(pb::ListGroupsRequest::default())
                        .await
                        .unwrap()
                        .into_inner()
                        .groups;
                    if gs.iter().any(|g| g.id == w.group) { 'Y' } else { 'N' }
                }
                "get group" => outcome(c.groups.get_group(pb::GetGroupRequest { id: w.group }).await),
                "get group task" => outcome(c.tasks.get_task(pb::GetTaskRequest { id: gt.id }).await),
                "list tasks has group task" => {
                    let ts =
                        c.tasks.list_tasks(pb::ListTasksRequest::default()).await.unwrap().into_inner().tasks;
                    if ts.iter().any(|t| t.id == gt.id) { 'Y' } else { 'N' }
                }
                "comments of group task" => outcome(
                    c.tasks
                        .list_comments(pb::ListCommentsRequest { task_id: gt.id, ..Default::default() })
                        .await,
                ),
                "file of group task" => {
                    outcome(c.tasks.get_file(pb::GetFileRequest { task_id: gt.id, file_id: f.id }).await)
                }
                "history of group task" => outcome(
                    c.tasks.history(pb::HistoryRequest { task_id: gt.id, ..Default::default() }).await,
                ),
                "get private task" => outcome(c.tasks.get_task(pb::GetTaskRequest { id: pt.id }).await),
                "report counts group task" => {
                    let r =
                        c.reports.task_report(pb::TaskReportRequest::default()).await.unwrap().into_inner();
                    if r.totals.map(|t| t.total).unwrap_or(0) >= 1 { 'Y' } else { 'N' }
                }
                other => panic!("unknown api {other}"),
            };
            assert_eq!(got, want[col], "{who}: {api}");
        }
    }
}

fn outcome<T>(r: Result<tonic::Response<T>, tonic::Status>) -> char {
    match r {
        Ok(_) => 'Y',
        Err(e) if e.code() == Code::NotFound => 'N',
        Err(e) if e.code() == Code::PermissionDenied => 'D',
        Err(e) => panic!("unexpected {e:?}"),
    }
}

/// The link in the e-mail opens a real page on the node's web port; the form
/// accepts the invitation; the page escapes what people typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_opens_an_accept_page() {
    let mut w = world(pb::InvitePolicy::Members).await;
    w.olga.invites.invite(invite("web@ext.test", w.group)).await.unwrap();
    let (mail, token) = mail_for(&w.node, "web@ext.test").await;
    let web = w.node.handle.as_ref().unwrap().web_url.clone().expect("web pages served");
    assert!(mail.contains(&format!("{web}/invite/{token}")), "{mail}");
    let addr = web.trim_start_matches("http://").to_string();
    let page =
        http(&addr, &format!("GET /invite/{token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert_secure(&page);
    assert!(page.contains("Contractors") && page.contains("<form method=\"post\""), "{page}");
    let body = "name=%3Cscript%3Ealert(1)%3C%2Fscript%3E+Web&login=webby";
    let req = format!(
        "POST /invite/{token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let done = http(&addr, &req).await;
    assert!(done.starts_with("HTTP/1.1 200"), "{done}");
    assert_secure(&done);
    assert!(done.contains("&lt;script&gt;") && !done.contains("<script>"), "{done}");
    let api_token =
        done.split("<code id=\"token\">").nth(1).and_then(|s| s.split('<').next()).unwrap().to_string();
    let mut me = w.node.clients(&api_token).await.unwrap();
    assert_eq!(me.users.who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner().login, "webby");
    // The link is single-use; an unknown one is a 404.
    let again =
        http(&addr, &format!("GET /invite/{token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).await;
    assert!(again.starts_with("HTTP/1.1 409") && again.contains("already been used"), "{again}");
    let unknown = http(&addr, "GET /invite/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
    assert_secure(&again);
    assert_secure(&unknown);
    let nowhere = http(&addr, "GET /no/such/page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert_secure(&nowhere);
}

/// Found 6: every page of the web port (the invitation page carries a secret
/// token in its address, like the task page) sends the same security headers.
fn assert_secure(response: &str) {
    let head = response.split("\r\n\r\n").next().unwrap_or_default().to_ascii_lowercase();
    for h in [
        "content-security-policy: default-src 'none';",
        "referrer-policy: no-referrer",
        "cache-control: no-store",
        "x-content-type-options: nosniff",
    ] {
        assert!(head.contains(h), "{h} missing in:\n{head}");
    }
}

/// Found 5, least information: an extranet user sees no one else's e-mail
/// address, no refusal names the user who owns an address, and the plan and the
/// Network settings are for employees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extranet_users_learn_only_what_they_need() {
    let mut w = world(pb::InvitePolicy::Members).await;
    let mut zofia = new_user("zofia", "Zofia Nowak");
    zofia.email = "z.nowak@example.test".into();
    w.admin.users.add_user(zofia).await.unwrap();
    w.olga.invites.invite(invite("vera@ext.test", w.group)).await.unwrap();
    let (_, t) = mail_for(&w.node, "vera@ext.test").await;
    let vera = accept(&w.node, &t, "Vera").await.unwrap();
    let mut vera = w.node.clients(&vera.api_token).await.unwrap();

    // A co-member: name yes, e-mail no. Her own: yes. Employees: unchanged.
    let olga = vera.users.get_user(pb::GetUserRequest { login: "olga".into() }).await.unwrap().into_inner();
    assert_eq!((olga.display_name.as_str(), olga.email.as_str()), ("Olga Owner", ""));
    let me = vera.users.who_am_i(pb::WhoAmIRequest {}).await.unwrap().into_inner();
    assert_eq!(me.email, "vera@ext.test");
    let by_emp = w.emp.users.get_user(pb::GetUserRequest { login: "olga".into() }).await.unwrap();
    assert_eq!(by_emp.into_inner().email, "olga@Example.test");

    // Refusals say the address is taken, not by whom: to an extranet user and to
    // an employee alike.
    for c in [&mut vera, &mut w.mem] {
        let (code, m) = refusal(c.invites.invite(invite("Z.Nowak@example.test", w.group)).await);
        assert_eq!(code, Code::AlreadyExists, "{m}");
        assert!(m.contains("already belongs to a user") && !m.contains("zofia"), "{m}");
    }
    let (code, m) = refusal(
        vera.network
            .set_account_email(pb::SetAccountEmailRequest { email: "z.nowak@example.test".into() })
            .await,
    );
    assert_eq!(code, Code::AlreadyExists, "{m}");
    assert!(!m.contains("zofia"), "{m}");

    // As a moderator she manages the group's invitations, but sees the address
    // only of those she sent.
    w.olga.invites.invite(invite("other@ext.test", w.group)).await.unwrap();
    let role = pb::GroupRole::Moderator as i32;
    w.olga
        .groups
        .add_member(pb::AddMemberRequest { group_id: w.group, login: me.login.clone(), role })
        .await
        .unwrap();
    vera.invites.invite(invite("mine@ext.test", w.group)).await.unwrap();
    let listed = vera.invites.list_invitations(pb::ListInvitationsRequest::default()).await.unwrap();
    let mut emails: Vec<String> = listed.into_inner().invitations.into_iter().map(|i| i.email).collect();
    emails.sort();
    assert_eq!(emails, ["", "mine@ext.test"]);

    // The plan and the Network settings are for employees.
    let (code, m) = refusal(vera.portal.get_plan(pb::GetPlanRequest {}).await);
    assert_eq!(code, Code::PermissionDenied, "{m}");
    assert!(m.contains("employees"), "{m}");
    let (code, m) = refusal(vera.network.status(pb::NetworkRequest {}).await);
    assert_eq!(code, Code::PermissionDenied, "{m}");
    assert!(m.contains("employees"), "{m}");
    w.emp.portal.get_plan(pb::GetPlanRequest {}).await.unwrap();
    w.emp.network.status(pb::NetworkRequest {}).await.unwrap();
}

async fn http(addr: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}
