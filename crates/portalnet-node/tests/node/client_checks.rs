//! Checks at the client and mail boundary found by review (stop 24), on a real
//! portal on sled (and, for `PortalService/Info`, a node served in-process).

use portalnet_core::Clock;
use portalnet_core::group::{GroupRole, NewGroup};
use portalnet_core::limits::MAX_INVITES_PER_CALL;
use portalnet_core::permissions::Actor;
use portalnet_core::task::{NewTask, TaskPatch};
use portalnet_core::user::{NewUser, UserKind};
use portalnet_inbound::{Attachment, InboundMessage};
use portalnet_node::clock::SystemClock;
use portalnet_portal::paging::PageReq;
use portalnet_portal::{ErrorKind, MailLimits, MailOutcome, Portal, PortalError, TaskFilter, actor_of};
use std::sync::Arc;

use super::common;

const ALPHA: &str = "alpha.test";

fn alpha(mail_limits: MailLimits) -> (Portal, tempfile::TempDir) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (portal, _, tmp) = common::open_portal(ALPHA, clock, mail_limits);
    (portal, tmp)
}

fn admin(p: &Portal) -> Actor {
    actor_of(&p.tables.users.get(&"admin".to_string()).unwrap().unwrap())
}

fn employee(p: &Portal, login: &str) -> Actor {
    let new = NewUser::new(login, "Łukasz Антон", &format!("{login}@example.org"), "", false).unwrap();
    actor_of(&p.add_user(&admin(p), new).unwrap())
}

/// An extranet user (as an accepted invitation makes one), member of `group`.
fn extranet_member(p: &Portal, login: &str, group: u64) -> Actor {
    let mut user =
        NewUser::new(login, "Ext", &format!("{login}@ext.test"), "", false).unwrap().into_user(p.now());
    user.kind = UserKind::Extranet;
    p.tables.db.write(|tx| Ok::<_, PortalError>(p.tables.put_user(tx, &user)?)).unwrap();
    p.add_member(&admin(p), group, login, GroupRole::Member).unwrap();
    actor_of(&user)
}

fn extranet_group(p: &Portal, name: &str) -> u64 {
    let mut ng = NewGroup::new(name, "", p.limits()).unwrap();
    ng.settings.extranet = true;
    p.create_group(&admin(p), ng, &[]).unwrap().0.id
}

fn task(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        description: String::new(),
        responsible: None,
        accomplices: vec![],
        observers: vec![],
        deadline: None,
        group: None,
    }
}

/// Alpha's folder served by a real node in-process (TLS on `127.0.0.1:0`), and a
/// channel to it.
async fn serve(tmp: &tempfile::TempDir) -> (portalnet_node::NodeHandle, tonic::transport::Channel) {
    let dir = tmp.path().join(ALPHA);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let node = portalnet_node::start(&dir, Arc::new(SystemClock), Some(listener), cancel).await.unwrap();
    let ch = common::tls_channel(&dir, &node.endpoint).await;
    (node, ch)
}

fn refusal<T>(r: Result<T, PortalError>) -> (ErrorKind, String) {
    match r {
        Ok(_) => panic!("expected a refusal, got an answer"),
        Err(e) => (e.kind(), e.to_string()),
    }
}

// ---------------------------------------------------------------------------
// 1. A huge participant list is refused by the limit, not after quadratic work
// ---------------------------------------------------------------------------

/// 200,000 distinct accomplices (a 5 MiB request holds more): repeats are dropped in
/// linear time, so the participant limit answers at once, with today's message.
#[test]
fn a_huge_participant_list_is_refused_by_the_limit() {
    let (p, _t) = alpha(common::unlimited());
    let many: Vec<String> = (0..200_000).map(|i| format!("u{i:06}")).collect();
    let (kind, msg) = refusal(p.create_task(&admin(&p), NewTask { accomplices: many.clone(), ..task("x") }));
    assert_eq!(kind, ErrorKind::InvalidArgument, "{msg}");
    assert!(msg.contains("at most 100 participants; this one has 200002"), "{msg}");

    let t = p.create_task(&admin(&p), task("small")).unwrap();
    let patch = TaskPatch { observers: Some(many), ..TaskPatch::default() };
    let (kind, msg) = refusal(p.update_task(&admin(&p), t.id, patch));
    assert_eq!(kind, ErrorKind::InvalidArgument, "{msg}");
    assert!(msg.contains("at most 100 participants; this edit makes 200002"), "{msg}");
}

// ---------------------------------------------------------------------------
// 2. Mail with more attachments than a task holds
// ---------------------------------------------------------------------------

fn attachment(name: &str, bytes: Vec<u8>) -> Attachment {
    Attachment { name: name.into(), content_type: "application/pdf".into(), bytes: bytes.into() }
}

fn message(id: usize, attachments: Vec<Attachment>) -> InboundMessage {
    InboundMessage {
        message_id: Some(format!("m{id}@example.com")),
        from: Some("client@example.com".into()),
        subject: "Faktura".into(),
        text: "W załączeniu skany".into(),
        attachments,
        in_reply_to: vec![],
        references: vec![],
        content_hash: [u8::try_from(id % 256).unwrap(); 32],
        auto: Default::default(),
    }
}

/// R19: attachments become task files. 105 attachments (a task holds 100): the
/// task is made with the first 100, its description says 5 were left out, and
/// only the kept files' bytes are stored.
#[test]
fn mail_with_more_attachments_than_a_task_holds_makes_a_task() {
    let (p, _t) = alpha(common::unlimited());
    let bob = employee(&p, "bob");
    let rcpt = p.task_address_string(&p.task_address(&bob).unwrap());
    let files =
        (0..105).map(|i| attachment(&format!("scan-{i}.pdf"), format!("file {i}").into_bytes())).collect();
    let done = p.task_from_mail("bob", "client@example.com", &rcpt, message(1, files)).unwrap();
    let MailOutcome::Created(t) = done else { panic!("no task made: {done:?}") };
    let t = p.get_task(&bob, t.id).unwrap();
    assert_eq!(t.files.len(), 100);
    assert_eq!(t.files.last().unwrap().name, "scan-99.pdf");
    assert!(
        t.description.starts_with("W załączeniu skany")
            && t.description.ends_with("[5 more attachments not kept: a task holds at most 100 files]"),
        "{:?}",
        t.description
    );
    assert_eq!(p.tables.blobs.stored().unwrap().len(), 100, "bytes stored for files no task names");
}

/// A message refused by a rule (an attachment over the per-file limit) stores
/// nothing, and counts against its sender's limit like a task made: the 21st from
/// one sender (20 an hour) is put off for later, not refused again.
#[test]
fn refused_mail_stores_nothing_and_counts_against_the_sender() {
    let (p, _t) = alpha(MailLimits::default());
    let bob = employee(&p, "bob");
    let rcpt = p.task_address_string(&p.task_address(&bob).unwrap());
    let too_big = usize::try_from(portalnet_core::mail_task::MAX_MAIL_BYTES).unwrap() + 1;
    // One buffer shared by every message (cloning an attachment shares its bytes).
    let big = attachment("huge.bin", vec![0; too_big]);
    let per_sender = MailLimits::DEFAULT_TASKS_PER_SENDER as usize;
    for k in 1..=per_sender {
        let small = attachment("a.txt", format!("message {k}").into_bytes());
        let r = p.task_from_mail("bob", "client@example.com", &rcpt, message(k, vec![small, big.clone()]));
        let (kind, msg) = refusal(r);
        assert_eq!(kind, ErrorKind::InvalidArgument, "message {k}: {msg}");
        assert!(msg.contains("huge.bin"), "{msg}");
    }
    assert_eq!(p.tables.blobs.stored().unwrap(), Vec::<String>::new(), "a refused message left bytes behind");
    let r = p.task_from_mail("bob", "client@example.com", &rcpt, message(per_sender + 1, vec![big]));
    let (kind, msg) = refusal(r);
    assert_eq!(kind, ErrorKind::Exhausted, "{msg}");
    // Another sender is not held up by this one.
    let ok = p.task_from_mail("bob", "other@example.com", &rcpt, message(99, vec![])).unwrap();
    assert!(matches!(ok, MailOutcome::Created(_)), "{ok:?}");
}

// ---------------------------------------------------------------------------
// 3. `login@<this portal>` is this portal's own person
// ---------------------------------------------------------------------------

/// The directory search gives this portal's people as `login@alpha.test` (R16): such
/// a participant is stored as the bare login, so the person sees their task.
#[test]
fn own_portal_qualified_participants_are_stored_bare() {
    let (p, _t) = alpha(common::unlimited());
    let bob = employee(&p, "bob");
    let carol = employee(&p, "carol");
    let new = NewTask {
        responsible: Some("bob@Alpha.Test".into()),
        observers: vec!["carol@alpha.test".into(), "carol".into()],
        ..task("T")
    };
    let t = p.create_task(&admin(&p), new).unwrap();
    assert_eq!((t.responsible.as_str(), t.observers.clone()), ("bob", vec!["carol".to_string()]));
    assert!(p.get_task(&bob, t.id).is_ok());
    let listed = p.list_tasks(&bob, &TaskFilter::default(), &PageReq::first(100, "x")).unwrap();
    assert_eq!(listed.items.iter().map(|t| t.id).collect::<Vec<_>>(), vec![t.id]);

    let patch = TaskPatch { responsible: Some("carol@alpha.test".into()), ..TaskPatch::default() };
    let t = p.update_task(&admin(&p), t.id, patch).unwrap();
    assert_eq!(t.responsible, "carol");
    let listed = p.list_tasks(&carol, &TaskFilter::default(), &PageReq::first(100, "x")).unwrap();
    assert_eq!(listed.items.len(), 1);
}

// ---------------------------------------------------------------------------
// 4. Hidden groups read as missing to extranet users
// ---------------------------------------------------------------------------

/// R12: to an extranet user a group outside theirs does not exist; putting a task in
/// it is refused exactly as for a missing group. Employees, who see every group,
/// are still told they are not a member.
#[test]
fn extranet_users_cannot_tell_hidden_groups_from_missing_ones() {
    let (p, _t) = alpha(common::unlimited());
    let hidden = p.create_group(&admin(&p), NewGroup::new("Secret board", "", p.limits()).unwrap(), &[]);
    let hidden = hidden.unwrap().0.id;
    let own = extranet_group(&p, "Ext");
    let ext = extranet_member(&p, "ext", own);
    let missing = 999;

    let shape = |(kind, msg): (ErrorKind, String), id: u64| (kind, msg.replace(&id.to_string(), "N"));
    let in_hidden = shape(refusal(p.create_task(&ext, NewTask { group: Some(hidden), ..task("x") })), hidden);
    let in_missing =
        shape(refusal(p.create_task(&ext, NewTask { group: Some(missing), ..task("x") })), missing);
    assert_eq!(in_hidden, in_missing);
    assert_eq!(in_hidden.0, ErrorKind::NotFound);

    // Moving their own task there, too.
    let mine = p.create_task(&ext, NewTask { group: Some(own), ..task("mine") }).unwrap();
    let move_to = |g| TaskPatch { group: Some(Some(g)), ..TaskPatch::default() };
    let moved_hidden = shape(refusal(p.update_task(&ext, mine.id, move_to(hidden))), hidden);
    let moved_missing = shape(refusal(p.update_task(&ext, mine.id, move_to(missing))), missing);
    assert_eq!(moved_hidden, moved_missing);
    assert_eq!(moved_hidden, in_missing);

    // An employee outside the group still learns why.
    let emp = employee(&p, "emp");
    let (kind, msg) = refusal(p.create_task(&emp, NewTask { group: Some(hidden), ..task("x") }));
    assert_eq!(kind, ErrorKind::PermissionDenied, "{msg}");
    assert!(msg.contains("not a member"), "{msg}");
}

// ---------------------------------------------------------------------------
// 5. PortalService/Info describes the portal as a whole only to employees
// ---------------------------------------------------------------------------

/// Like GetPlan and the network status, the user count and the listeners' addresses
/// describe the portal as a whole: an extranet caller gets them empty.
#[tokio::test]
async fn info_leaves_the_portal_as_a_whole_out_for_extranet_users() {
    use portalnet_proto::v1::{InfoRequest, portal_service_client::PortalServiceClient};

    let (p, tmp) = alpha(common::unlimited());
    let group = extranet_group(&p, "Ext");
    extranet_member(&p, "ext", group);
    let emp = employee(&p, "emp");
    let ext_token = p.issue_token(&admin(&p), "ext").unwrap();
    let emp_token = p.issue_token(&admin(&p), &emp.login).unwrap();
    drop(p); // the node opens the same folder

    let (node, ch) = serve(&tmp).await;
    let info = |token: String| {
        let ch = ch.clone();
        async move {
            let mut req = tonic::Request::new(InfoRequest::default());
            req.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
            PortalServiceClient::new(ch).info(req).await.unwrap().into_inner()
        }
    };
    let for_emp = info(emp_token).await;
    let for_ext = info(ext_token).await;
    node.stop().await.unwrap();

    assert_eq!(for_emp.user_count, 3, "admin, ext, emp");
    assert!(!for_emp.endpoints.is_empty());
    assert_eq!((for_ext.user_count, for_ext.endpoints.len()), (0, 0));
    assert_eq!((for_ext.lmtp_listen.as_str(), for_ext.smtp_listen.as_str()), ("", ""));
    assert_eq!((for_ext.portal_id.as_str(), for_ext.version.as_str()), (ALPHA, for_emp.version.as_str()));
}

/// Over gRPC the request is validated before the Network is asked about anyone:
/// `bob@Alpha.Test` on alpha.test (network off) is alpha's own bob, not a person
/// of another portal, so creating the task needs no network; and a list over the
/// participant limit is refused by the limit, not by the network check.
#[tokio::test]
async fn create_task_over_grpc_validates_before_asking_the_network() {
    use portalnet_proto::v1::{CreateTaskRequest, task_service_client::TaskServiceClient};

    let (p, tmp) = alpha(common::unlimited());
    let bob = employee(&p, "bob");
    let token = p.issue_token(&admin(&p), &bob.login).unwrap();
    drop(p); // the node opens the same folder

    let (node, ch) = serve(&tmp).await;
    let create = |responsible: &str, observers: Vec<String>| {
        let mut req = tonic::Request::new(CreateTaskRequest {
            title: "Own people".into(),
            responsible: responsible.into(),
            observers,
            ..Default::default()
        });
        req.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
        let ch = ch.clone();
        async move { TaskServiceClient::new(ch).create_task(req).await }
    };
    let own = create("bob@Alpha.Test", vec![]).await;
    let many: Vec<String> = (0..500).map(|i| format!("u{i}@gamma.test")).collect();
    let over = create("bob", many).await;
    node.stop().await.unwrap();

    let task = own.expect("alpha's own bob needs no network").into_inner();
    assert_eq!(task.responsible, "bob");
    let status = over.expect_err("500 observers are over the limit");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("100"), "{status:?}");
}

// ---------------------------------------------------------------------------
// 6. Invitations per CreateGroup call
// ---------------------------------------------------------------------------

/// One CreateGroup call invites at most MAX_INVITES_PER_CALL people (each is a row
/// and an e-mail in the one write); more is refused before anything is written,
/// saying the limit and what to do instead.
#[test]
fn create_group_invites_at_most_a_hundred_per_call() {
    let (p, _t) = alpha(common::unlimited());
    let bob = employee(&p, "bob");
    let group = |name: &str| {
        let mut ng = NewGroup::new(name, "", p.limits()).unwrap();
        ng.settings.extranet = true;
        ng
    };
    let emails = |n: usize| (0..n).map(|i| format!("p{i}@example.org")).collect::<Vec<_>>();
    let (kind, msg) = refusal(p.create_group(&bob, group("Too many"), &emails(5_000)));
    assert_eq!(kind, ErrorKind::InvalidArgument, "{msg}");
    assert!(msg.contains("at most 100") && msg.contains("5000") && msg.contains("group invite"), "{msg}");
    let page = PageReq::first(100, "x");
    assert!(p.list_groups(&bob, &page).unwrap().items.is_empty(), "a refused call made a group");

    let (_, invited) = p.create_group(&bob, group("Exactly"), &emails(MAX_INVITES_PER_CALL)).unwrap();
    assert_eq!(invited.len(), MAX_INVITES_PER_CALL);
}

// ---------------------------------------------------------------------------
// Reports by group
// ---------------------------------------------------------------------------

/// Two groups of one name, and a group named like the row of tasks without a
/// group, each keep their own row in a report by group (they were added together),
/// for an administrator (from the totals) and for a member (from their tasks).
#[test]
fn a_report_by_group_keeps_groups_of_one_name_apart() {
    use portalnet_core::report::ReportBy;
    let (p, _t) = alpha(common::unlimited());
    let bob = employee(&p, "bob");
    let group = |name: &str| {
        let id = p.create_group(&admin(&p), NewGroup::new(name, "", p.limits()).unwrap(), &[]).unwrap().0.id;
        p.add_member(&admin(&p), id, "bob", GroupRole::Member).unwrap();
        id
    };
    let (ops1, ops2, odd) = (group("Ops"), group("Ops"), group("(no group)"));
    for (n, g) in [(2, Some(ops1)), (1, Some(ops2)), (3, Some(odd)), (4, None)] {
        for i in 0..n {
            let t = NewTask { group: g, responsible: Some("bob".into()), ..task(&format!("t{i}")) };
            p.create_task(&admin(&p), t).unwrap();
        }
    }
    let want = vec![
        ("(no group)".to_string(), 4),
        (format!("(no group) (#{odd})"), 3),
        (format!("Ops (#{ops1})"), 2),
        (format!("Ops (#{ops2})"), 1),
    ];
    for actor in [admin(&p), bob] {
        let report = p.task_report(&actor, ReportBy::Group).unwrap();
        let rows: Vec<(String, u32)> = report.rows.iter().map(|r| (r.key.clone(), r.total)).collect();
        assert_eq!(rows, want, "as {}", actor.login);
        assert_eq!(report.totals.total, 10);
    }
}
