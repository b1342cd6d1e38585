//! The checks of cross-portal replication (R13–R17) driven from outside, over real
//! gRPC and TLS on loopback: forged events and proposals sent straight to a
//! portal's `Replication` service (as a rogue portal, or with a portal's own key
//! read from its `portal.key`), a batch where one item is bad, and the R13–R15
//! refusals at the home and at the receiving side.

use ed25519_dalek::SigningKey;
use portalnet_core::Clock;
use portalnet_core::event::{EventBody, GENESIS};
use portalnet_core::task::{Change, FieldChange};
use portalnet_federation::Signer;
use portalnet_federation::chain::{event_hash, sign_event};
use portalnet_node::directory::client::method;
use portalnet_proto::v1::{self as pb, deliver_item::Kind, item_result::Outcome, proposal::Op};
use portalnet_tests::extranet::extranet_user;
use portalnet_tests::fed::{DAY, Fed, Member, add_person, fed, replica_id, task_where, verify};
use portalnet_tests::{Clients, Node, refusal, wait_for};
use std::time::Duration;
use tonic::Code;

const PORTALS: [&str; 3] = ["alpha.test", "beta.test", "gamma.test"];
const PEOPLE: [(&str, &str); 3] = [("anna", "Anna Nowak"), ("jan", "Jan Kowalski"), ("olga", "Olga Petrova")];
const ROGUE: &str = "rogue.test";

async fn net(n: usize) -> Fed {
    fed(&PORTALS[..n], &PEOPLE[..n]).await.unwrap()
}

fn create(title: &str, responsible: &str) -> pb::CreateTaskRequest {
    pb::CreateTaskRequest { title: title.into(), responsible: responsible.into(), ..Default::default() }
}

/// The portal's own signing key, read from its `portal.key`.
fn key_of(m: &Member) -> SigningKey {
    portalnet_node::identity::Identity::load(&m.node.dir).unwrap().signing
}

/// Acts as portal `id` with the key of member `m`.
fn signer(id: &str, m: &Member) -> Signer {
    Signer::new(id, key_of(m))
}

async fn replication(m: &Member) -> pb::replication_client::ReplicationClient<tonic::transport::Channel> {
    let ch = portalnet_tests::channel(&m.node.endpoint, &m.node.ca()).await.unwrap();
    pb::replication_client::ReplicationClient::new(ch)
}

/// Sends one signed batch to `to` (whose portal id is `dest`) as `from`.
async fn deliver(
    f: &Fed,
    to: &Member,
    dest: &str,
    from: &Signer,
    items: Vec<pb::DeliverItem>,
) -> Result<Vec<pb::ItemResult>, tonic::Status> {
    let signed = from.sign(method::DELIVER, dest, f.clock.now(), &pb::DeliverBatch { items });
    replication(to).await.deliver(signed).await.map(|r| r.into_inner().results)
}

fn event_item(e: pb::Event) -> pb::DeliverItem {
    pb::DeliverItem { kind: Some(Kind::Event(e)), ..Default::default() }
}

fn proposal_item(id: &str, task: u64, actor: &str, op: Op) -> pb::DeliverItem {
    pb::DeliverItem {
        kind: Some(Kind::Proposal(pb::Proposal { id: id.into(), task, actor: actor.into(), op: Some(op) })),
        ..Default::default()
    }
}

fn comment_op(text: &str) -> Op {
    Op::Comment(pb::ProposeComment { text: text.into() })
}

/// An event with body `body` following `prev`, hashed correctly and signed by `key`.
fn forge(key: &SigningKey, body: &EventBody, prev: [u8; 32]) -> pb::Event {
    let bytes = body.to_bytes();
    let hash = event_hash(&prev, &bytes);
    let signature = sign_event(key, &body.home, body.task, body.version, &hash);
    pb::Event {
        home: body.home.clone(),
        task: body.task,
        version: body.version,
        body: bytes,
        prev_hash: prev.to_vec(),
        hash: hash.to_vec(),
        signature: signature.to_vec(),
        file_content: Vec::new(),
        catch_up: false,
    }
}

/// Version 2 of the task whose version 1 is `v1`: the title changed to `title`.
fn retitled(v1: &EventBody, title: &str) -> EventBody {
    let mut b = v1.clone();
    b.version = 2;
    b.state.version = 2;
    b.change = Change::Updated {
        fields: vec![FieldChange { field: "title".into(), from: v1.state.title.clone(), to: title.into() }],
    };
    b.state.title = title.into();
    b
}

/// Version 1 of a task alpha never had (id `id`), with the same people as `v1`.
fn unknown_task(v1: &EventBody, id: u64) -> EventBody {
    let mut b = v1.clone();
    b.task = id;
    b.state.id = id;
    b.state.title = "A task alpha never created".into();
    b
}

/// A network of alpha and beta holding one real task homed at alpha (anna creates,
/// jan on beta is responsible), beta's replica at version 1, and that version as
/// alpha sent it (fetched from alpha with beta's key).
struct Held {
    f: Fed,
    task: u64,
    title: String,
    v1: EventBody,
    v1_hash: [u8; 32],
}

async fn held() -> Held {
    let f = net(2).await;
    let (a, b) = (&f.members[0], &f.members[1]);
    let title = "Audit the Kraków office".to_string();
    let t = a.user.tasks.clone().create_task(create(&title, "jan@beta.test")).await.unwrap().into_inner();
    let on_b = replica_id(&b.user, "alpha.test", t.id).await.unwrap();
    task_where(&b.user, on_b, "beta holds v1", |t| t.version == 1).await.unwrap();
    let req = pb::FetchEventsRequest { task: t.id, from_version: 1, to_version: 1 };
    let signed = signer("beta.test", b).sign(method::FETCH_EVENTS, "alpha.test", f.clock.now(), &req);
    let mut events = replication(a).await.fetch_events(signed).await.unwrap().into_inner().events;
    assert_eq!(events.len(), 1);
    let e = events.remove(0);
    let v1 = EventBody::from_bytes(&e.body).unwrap();
    let v1_hash: [u8; 32] = e.hash.as_slice().try_into().unwrap();
    Held { f, task: t.id, title, v1, v1_hash }
}

/// Beta still holds exactly what alpha sent: the one task at version 1, with its
/// title, and a history that verifies.
async fn beta_unchanged(h: &Held) {
    let b = &h.f.members[1].user;
    let list = b.tasks.clone().list_tasks(pb::ListTasksRequest::default()).await.unwrap().into_inner().tasks;
    assert_eq!(list.len(), 1, "no task was added: {list:?}");
    let t = &list[0];
    assert_eq!((t.home.as_str(), t.home_task_id), ("alpha.test", h.task));
    assert_eq!((t.version, t.title.as_str()), (1, h.title.as_str()), "nothing was applied: {t:?}");
    let got = b.tasks.clone().get_task(pb::GetTaskRequest { id: t.id }).await.unwrap().into_inner();
    assert_eq!((got.version, got.title.as_str()), (1, h.title.as_str()));
    let v = verify(b, t.id).await.unwrap();
    assert!(v.ok && v.events == 1, "{v:?}");
    assert_eq!(v.head_hash, h.v1_hash.iter().map(|x| format!("{x:02x}")).collect::<String>());
}

fn assert_rejected(r: &pb::ItemResult, code: Code, needles: &[&str]) {
    assert_eq!(r.outcome, Outcome::Rejected as i32, "{r:?}");
    assert_eq!(r.code, code as i32, "{r:?}");
    for n in needles {
        assert!(r.reason.contains(n), "reason {:?} should mention {n:?}", r.reason);
    }
}

/// A portal of another company, `id`, with a fresh key, registered with the test
/// directory (no TLS certificate) and its network switched on just now.
async fn register_portal(f: &Fed, id: &str) -> Signer {
    let s = Signer::generate(id);
    let mut d = f.dir.client().await.unwrap();
    let dir_id = f.dir.handle.id.clone();
    let reg = pb::RegisterPortal {
        portal_id: id.into(),
        endpoint: "https://127.0.0.1:1".into(),
        public_key: s.verifying_key().to_bytes().to_vec(),
        rotation_signature: vec![],
        tls_certificate: String::new(),
        // Enrolled like any portal: the rogue is a member that misbehaves.
        enrolment_secret: portalnet_node::directory::enrolment::enrol_in_process(
            &f.dir.handle.directory,
            id,
            f.clock.now(),
        )
        .unwrap(),
    };
    d.register(s.sign(method::REGISTER, &dir_id, f.clock.now(), &reg)).await.unwrap();
    let on = pb::SetNetworkRequest { enabled: true };
    let rec = d.set_network(s.sign(method::SET_NETWORK, &dir_id, f.clock.now(), &on)).await.unwrap();
    assert!(rec.into_inner().network_enabled);
    s
}

/// A rogue portal: registered, its network on and past the activation day (R15),
/// so what it sends is judged item by item.
async fn rogue(f: &Fed) -> Signer {
    let s = register_portal(f, ROGUE).await;
    f.clock.advance(Duration::from_secs(DAY + 1));
    s
}

/// R17 (1a): only a task's home portal sends its events. A rogue portal sends, in
/// its own (genuine) envelope, events of alpha's task signed with its own key: a
/// version 2 of the task beta holds and a version 1 of a task alpha never made.
/// Each is refused with a reason; beta stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_of_alpha_sent_by_a_rogue_is_refused() {
    let h = held().await;
    let r = rogue(&h.f).await;
    let b = &h.f.members[1];
    let items = vec![
        event_item(forge(r.signing_key(), &retitled(&h.v1, "Forged by rogue"), h.v1_hash)),
        event_item(forge(r.signing_key(), &unknown_task(&h.v1, h.task + 50), GENESIS)),
    ];
    let res = deliver(&h.f, b, "beta.test", &r, items).await.unwrap();
    assert_eq!(res.len(), 2, "{res:?}");
    for item in &res {
        assert_rejected(item, Code::PermissionDenied, &[ROGUE, "only a task's home portal"]);
    }
    beta_unchanged(&h).await;
}

/// R17 (1b): the rogue claims to be alpha (envelope origin and event home
/// alpha.test) but can only sign with its own key: the whole call is refused as
/// unauthenticated before any item is read; beta stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rogue_envelope_claiming_to_be_alpha_is_refused() {
    let h = held().await;
    let r = rogue(&h.f).await;
    let b = &h.f.members[1];
    let as_alpha = Signer::new("alpha.test", r.signing_key().clone());
    let items = vec![event_item(forge(r.signing_key(), &retitled(&h.v1, "Forged by rogue"), h.v1_hash))];
    let (code, msg) = refusal(deliver(&h.f, b, "beta.test", &as_alpha, items).await);
    assert_eq!(code, Code::Unauthenticated, "{msg}");
    assert!(msg.contains("signature"), "{msg}");
    beta_unchanged(&h).await;
}

/// R17 (1b'): events in alpha's true envelope (a relay holding a genuine envelope,
/// or alpha's transport key without its history key) whose event signature is a
/// rogue key's: refused per item, "not signed by its home portal"; nothing stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_signed_by_a_rogue_key_in_alphas_envelope_is_refused() {
    let h = held().await;
    let (a, b) = (&h.f.members[0], &h.f.members[1]);
    let rogue_key = SigningKey::from_bytes(&[42; 32]);
    let items = vec![
        event_item(forge(&rogue_key, &retitled(&h.v1, "Forged by rogue"), h.v1_hash)),
        event_item(forge(&rogue_key, &unknown_task(&h.v1, h.task + 50), GENESIS)),
    ];
    let res = deliver(&h.f, b, "beta.test", &signer("alpha.test", a), items).await.unwrap();
    assert_eq!(res.len(), 2, "{res:?}");
    for item in &res {
        assert_rejected(item, Code::PermissionDenied, &["not signed by its home portal alpha.test"]);
    }
    beta_unchanged(&h).await;
}

/// R17 (1c): signed by alpha's true key but not linking to what beta holds: a
/// version 2 whose prev_hash is not version 1's hash, and a version 1 of a new
/// task whose prev_hash is not the genesis. Both refused as a broken hash chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_chain_from_the_true_home_is_refused() {
    let h = held().await;
    let (a, b) = (&h.f.members[0], &h.f.members[1]);
    let key = key_of(a);
    let mut wrong = h.v1_hash;
    wrong[0] ^= 0xff;
    let items = vec![
        event_item(forge(&key, &retitled(&h.v1, "Rewritten history"), wrong)),
        event_item(forge(&key, &unknown_task(&h.v1, h.task + 50), [7; 32])),
    ];
    let res = deliver(&h.f, b, "beta.test", &signer("alpha.test", a), items).await.unwrap();
    assert_eq!(res.len(), 2, "{res:?}");
    assert_rejected(&res[0], Code::InvalidArgument, &["does not link to version 1", "broken hash chain"]);
    assert_rejected(&res[1], Code::InvalidArgument, &["does not link to version 0", "broken hash chain"]);
    beta_unchanged(&h).await;
}

/// What alpha holds of task `id`: (version, comment count).
async fn at_home(a: &Clients, id: u64) -> (u64, u32) {
    let t = a.tasks.clone().get_task(pb::GetTaskRequest { id }).await.unwrap().into_inner();
    (t.version, t.comment_count)
}

/// R17 (1d): a portal speaks only for its own people. Beta (its true key) proposes
/// a comment by `someone@gamma.test`: refused, and alpha's task is unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposal_by_an_author_of_another_portal_is_refused() {
    let f = net(2).await;
    let (a, b) = (&f.members[0], &f.members[1]);
    let t = a.user.tasks.clone().create_task(create("Shared", "jan@beta.test")).await.unwrap().into_inner();
    replica_id(&b.user, "alpha.test", t.id).await.unwrap();
    let items = vec![proposal_item("foreign-1", t.id, "someone@gamma.test", comment_op("Not mine to say"))];
    let res = deliver(&f, a, "alpha.test", &signer("beta.test", b), items).await.unwrap();
    assert_eq!(res.len(), 1, "{res:?}");
    assert_rejected(&res[0], Code::PermissionDenied, &["someone@gamma.test"]);
    assert_eq!(at_home(&a.user, t.id).await, (1, 0), "nothing applied");
    let c = a
        .user
        .tasks
        .clone()
        .list_comments(pb::ListCommentsRequest { task_id: t.id, ..Default::default() })
        .await
        .unwrap();
    assert!(c.into_inner().comments.is_empty());
}

/// R14/R17 (1e): only portals with a participant in a task may change it. Gamma
/// (its true key, its own person) proposes a comment on a task whose people are
/// on alpha and beta only: refused as not found, exactly as a task that does not
/// exist, so gamma learns nothing of which tasks alpha holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposal_from_a_portal_without_participants_is_refused() {
    let f = net(3).await;
    let (a, b, c) = (&f.members[0], &f.members[1], &f.members[2]);
    let t = a
        .user
        .tasks
        .clone()
        .create_task(create("Alpha and beta", "jan@beta.test"))
        .await
        .unwrap()
        .into_inner();
    replica_id(&b.user, "alpha.test", t.id).await.unwrap();
    let items = vec![
        proposal_item("outsider-1", t.id, "olga@gamma.test", comment_op("Let me in")),
        proposal_item("outsider-2", t.id + 100, "olga@gamma.test", comment_op("Let me in")),
    ];
    let res = deliver(&f, a, "alpha.test", &signer("gamma.test", c), items).await.unwrap();
    assert_eq!(res.len(), 2, "{res:?}");
    assert_rejected(&res[0], Code::NotFound, &[&format!("task {} not found on alpha.test", t.id)]);
    assert_rejected(&res[1], Code::NotFound, &[&format!("task {} not found on alpha.test", t.id + 100)]);
    assert_eq!(at_home(&a.user, t.id).await, (1, 0), "nothing applied");
    let list = c.user.tasks.clone().list_tasks(pb::ListTasksRequest::default()).await.unwrap();
    assert!(list.into_inner().tasks.is_empty(), "gamma holds nothing");
}

/// R17: each item of a batch is judged alone. Beta sends alpha (the home) a valid
/// comment, a status change the responsible person may not make, and two
/// malformed items: only the comment applies. Sent again, the comment is
/// acknowledged with the same version and not applied twice. (The test signs
/// with beta's key proposals beta itself never made: when their event reaches
/// beta, beta refuses it, because it attributes a comment to jan that jan did not
/// propose there; a portal believes no one about its own people.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_item_in_a_batch_is_rejected_alone() {
    let f = net(2).await;
    let (a, b) = (&f.members[0], &f.members[1]);
    let t = a.user.tasks.clone().create_task(create("Batch", "jan@beta.test")).await.unwrap().into_inner();
    let on_b = replica_id(&b.user, "alpha.test", t.id).await.unwrap();
    let batch = || {
        vec![
            proposal_item("batch-ok", t.id, "jan@beta.test", comment_op("Started on it")),
            proposal_item(
                "batch-complete",
                t.id,
                "jan@beta.test",
                Op::Status(pb::ProposeStatus { status: "completed".into() }),
            ),
            pb::DeliverItem { kind: None, ..Default::default() },
            proposal_item("", t.id, "jan@beta.test", comment_op("No id")),
        ]
    };
    let beta = signer("beta.test", b);
    let res = deliver(&f, a, "alpha.test", &beta, batch()).await.unwrap();
    assert_eq!(res.len(), 4, "{res:?}");
    assert_eq!((res[0].outcome, res[0].version), (Outcome::Applied as i32, 2), "{res:?}");
    assert_rejected(&res[1], Code::PermissionDenied, &["responsible person may not", "completed"]);
    assert_rejected(&res[2], Code::InvalidArgument, &["empty item"]);
    assert_rejected(&res[3], Code::InvalidArgument, &["id must be"]);
    assert_eq!(at_home(&a.user, t.id).await, (2, 1), "exactly one change: the comment");
    let done = a.user.tasks.clone().get_task(pb::GetTaskRequest { id: t.id }).await.unwrap().into_inner();
    assert_eq!(done.status, pb::TaskStatus::New as i32, "not completed");

    // The same batch again (a sender retrying): the comment once, the same answers.
    let again = deliver(&f, a, "alpha.test", &beta, batch()).await.unwrap();
    assert_eq!(again.len(), 4, "{again:?}");
    assert_eq!((again[0].outcome, again[0].version), (Outcome::Applied as i32, 2), "{again:?}");
    assert_eq!(again[1], res[1], "the refusal is remembered");
    assert_eq!(again[2].outcome, Outcome::Rejected as i32);
    assert_eq!(again[3].outcome, Outcome::Rejected as i32);
    assert_eq!(at_home(&a.user, t.id).await, (2, 1), "applied once");
    // Beta refuses the event: jan made no such proposal on beta.
    let row = wait_for("beta's refusal at alpha", || {
        let mut p = a.admin.portal.clone();
        async move {
            let rows = p.outbox(pb::OutboxRequest::default()).await.ok()?.into_inner().rows;
            rows.into_iter().find(|r| r.portal_id == "beta.test" && r.refused == 1)
        }
    })
    .await
    .unwrap();
    assert!(
        row.last_refusal.contains("jan@beta.test") && row.last_refusal.contains("no such proposal"),
        "{row:?}"
    );
    let held = b.user.tasks.clone().get_task(pb::GetTaskRequest { id: on_b }).await.unwrap().into_inner();
    assert_eq!((held.version, held.comment_count), (1, 0), "{held:?}");
}

/// Polls creating `req` on `c` until it is refused with `code` and a message
/// containing every one of `needles`; returns the message. (Peers' directory
/// records are cached for a few seconds, so a change shows up with a delay.)
async fn refused_until(c: &Clients, req: &pb::CreateTaskRequest, code: Code, needles: &[&str]) -> String {
    let needles: Vec<String> = needles.iter().map(|s| s.to_string()).collect();
    wait_for(&format!("create refused with {code:?} mentioning {needles:?}"), || {
        let (mut c, req, needles) = (c.clone(), req.clone(), needles.clone());
        async move {
            match c.tasks.create_task(req).await {
                Err(s) if s.code() == code && needles.iter().all(|n| s.message().contains(n.as_str())) => {
                    Some(s.message().to_string())
                }
                _ => None,
            }
        }
    })
    .await
    .unwrap()
}

/// R13–R15 at the home: naming jan@beta.test is refused while beta's network is
/// off, then while beta's activation day has not passed, and goes through once
/// the clock passes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_refuses_a_peer_that_is_off_or_not_yet_active() {
    let f = net(2).await;
    let (a, b) = (&f.members[0], &f.members[1]);
    let req = create("Across portals", "jan@beta.test");

    b.admin.network.clone().disable(pb::NetworkRequest {}).await.unwrap();
    let msg = refused_until(&a.user, &req, Code::FailedPrecondition, &["beta.test", "off", "R13"]).await;
    assert!(!msg.contains("R15"), "{msg}");

    let st = b.admin.network.clone().enable(pb::NetworkRequest {}).await.unwrap().into_inner();
    assert!(st.enabled && !st.cross_portal_available_now, "{st:?}");
    refused_until(&a.user, &req, Code::FailedPrecondition, &["beta.test", "R15"]).await;

    f.clock.advance(Duration::from_secs(DAY + 1));
    let t = wait_for("create goes through", || {
        let (mut c, req) = (a.user.tasks.clone(), req.clone());
        async move { c.create_task(req).await.ok().map(|r| r.into_inner()) }
    })
    .await
    .unwrap();
    assert_eq!(t.responsible, "jan@beta.test");
    replica_id(&b.user, "alpha.test", t.id).await.unwrap();
}

/// R16: an address nobody published is refused as not found, naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_refuses_an_unknown_address() {
    let f = net(2).await;
    let a = &f.members[0];
    let r = a.user.tasks.clone().create_task(create("Ghost", "nobody@beta.test")).await;
    let (code, msg) = refusal(r);
    assert_eq!(code, Code::NotFound, "{msg}");
    assert!(msg.contains("nobody@beta.test"), "{msg}");
    let list = a.user.tasks.clone().list_tasks(pb::ListTasksRequest::default()).await.unwrap();
    assert!(list.into_inner().tasks.is_empty());
}

/// R13/R14: the home's own network off refuses a task naming another portal's
/// person, naming the home itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_with_its_own_network_off_refuses() {
    let f = net(2).await;
    let a = &f.members[0];
    a.admin.network.clone().disable(pb::NetworkRequest {}).await.unwrap();
    let r = a.user.tasks.clone().create_task(create("From a closed portal", "jan@beta.test")).await;
    let (code, msg) = refusal(r);
    assert_eq!(code, Code::FailedPrecondition, "{msg}");
    assert!(msg.contains("alpha.test") && msg.contains("off"), "{msg}");
    // A task among alpha's own people still works.
    a.user.tasks.clone().create_task(create("At home", "anna")).await.unwrap();
}

/// R13–R15 at the receiving side: a portal whose network is off, or switched on
/// less than a day ago, answers any Deliver (even a valid, empty batch from a
/// registered portal) with FailedPrecondition; a day later it takes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_with_network_off_refuses_deliveries() {
    let f = net(2).await;
    let (a, b) = (&f.members[0], &f.members[1]);
    let alpha = signer("alpha.test", a);
    assert_eq!(deliver(&f, b, "beta.test", &alpha, vec![]).await.unwrap(), vec![], "on: accepted");

    b.admin.network.clone().disable(pb::NetworkRequest {}).await.unwrap();
    let (code, msg) = refusal(deliver(&f, b, "beta.test", &alpha, vec![]).await);
    assert_eq!(code, Code::FailedPrecondition, "{msg}");
    assert!(msg.contains("beta.test") && msg.contains("off"), "{msg}");

    b.admin.network.clone().enable(pb::NetworkRequest {}).await.unwrap();
    let (code, msg) = refusal(deliver(&f, b, "beta.test", &alpha, vec![]).await);
    assert_eq!(code, Code::FailedPrecondition, "{msg}");
    assert!(msg.contains("beta.test") && msg.contains("R15"), "{msg}");

    f.clock.advance(Duration::from_secs(DAY + 1));
    assert_eq!(deliver(&f, b, "beta.test", &alpha, vec![]).await.unwrap(), vec![], "active again");
}

/// R17: an event whose missing versions its home refuses for good to provide
/// (here: "not homed at alpha") is refused alone, with the replica's own `Gap`
/// reason, like any other bad item; the valid event beside it still applies.
///
/// Ignored: a product bug. `replication/service.rs` answers the whole Deliver with
/// `Unavailable` whenever the gap fetch fails, even when the home refused it for
/// good (NotFound / PermissionDenied): the valid item is not applied and the
/// sender retries the same batch forever, holding up its whole queue to this
/// portal. (A transient fetch failure must still fail the batch: the sender drops
/// rejected events.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]

async fn event_with_an_unfillable_gap_is_rejected_alone() {
    let h = held().await;
    let (a, b) = (&h.f.members[0], &h.f.members[1]);
    let key = key_of(a);
    // Version 3 of a task alpha never had: versions 1..=2 cannot be fetched.
    let mut gap = unknown_task(&h.v1, h.task + 60);
    gap.version = 3;
    gap.state.version = 3;
    let items = vec![
        event_item(forge(&key, &unknown_task(&h.v1, h.task + 50), GENESIS)),
        event_item(forge(&key, &gap, [5; 32])),
    ];
    let res = deliver(&h.f, b, "beta.test", &signer("alpha.test", a), items).await.unwrap();
    assert_eq!(res.len(), 2, "{res:?}");
    assert_eq!((res[0].outcome, res[0].version), (Outcome::Applied as i32, 1), "{res:?}");
    assert_rejected(&res[1], Code::FailedPrecondition, &["versions 1..=2"]);
}

/// Version 1 of a task homed at `home` (id `id`), created by `boss@home`, with
/// `responsible` and `observers`; the rest as in `v1`.
fn new_task_of(v1: &EventBody, home: &str, id: u64, responsible: &str, observers: &[String]) -> EventBody {
    let mut b = v1.clone();
    let boss = format!("boss@{home}");
    b.home = home.into();
    (b.task, b.version, b.state.id, b.state.version) = (id, 1, id, 1);
    b.state.creator = boss.clone();
    b.actor = boss;
    b.state.responsible = responsible.into();
    b.state.accomplices = Vec::new();
    b.state.observers = observers.to_vec();
    b.change = Change::Created { title: b.state.title.clone(), responsible: responsible.into() };
    (b.comment, b.file, b.proposal) = (None, None, None);
    b
}

async fn task_count(c: &Clients) -> usize {
    c.tasks.clone().list_tasks(pb::ListTasksRequest::default()).await.unwrap().into_inner().tasks.len()
}

/// Issue 11, Found 1 (R12, R17): a registered, active portal of another company
/// sends "task created" events naming people of beta. Beta believes nothing it
/// says about beta's own people: naming beta's extranet user (as responsible or
/// observer), a dismissed employee, a login nobody has, a login nobody has *yet*,
/// one of beta's people as the creator, or as the author of a change they never
/// proposed, is refused item by item and stores nothing. The reason is the same
/// for an unknown, dismissed or extranet login (a peer learns nothing of who is
/// here). The newcomer who later takes the unused login sees no task, and the
/// honest event in the same batch applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_naming_people_the_receiver_does_not_have_are_refused() {
    let h = held().await;
    let b = &h.f.members[1];
    let guest = extranet_user(&b.node, &b.admin, "guest@example.org", "Gość Zewnętrzny").await.unwrap();
    let guest_addr = format!("{}@beta.test", guest.user.as_ref().unwrap().login);
    add_person(&mut b.admin.clone(), "gone", "Gone Away").await.unwrap();
    b.admin.users.clone().dismiss_user(pb::DismissUserRequest { login: "gone".into() }).await.unwrap();
    let r = rogue(&h.f).await;
    let base = h.task + 100;
    let jan = "jan@beta.test".to_string();
    let refused_people = [
        (guest_addr.clone(), vec![]),
        (jan.clone(), vec![guest_addr.clone()]),
        ("gone@beta.test".to_string(), vec![]),
        ("ghost@beta.test".to_string(), vec![]),
        ("newbie@beta.test".to_string(), vec![]),
    ];
    let mut items = Vec::new();
    for (i, (responsible, observers)) in refused_people.iter().enumerate() {
        let body = new_task_of(&h.v1, ROGUE, base + i as u64, responsible, observers);
        items.push(event_item(forge(r.signing_key(), &body, GENESIS)));
    }
    let mut as_creator = new_task_of(&h.v1, ROGUE, base + 10, &jan, &[]);
    as_creator.state.creator = jan.clone();
    let mut as_author = new_task_of(&h.v1, ROGUE, base + 11, &jan, &[]);
    as_author.actor = jan.clone();
    let honest = new_task_of(&h.v1, ROGUE, base + 20, &jan, &[]);
    for body in [&as_creator, &as_author, &honest] {
        items.push(event_item(forge(r.signing_key(), body, GENESIS)));
    }

    let res = deliver(&h.f, b, "beta.test", &r, items).await.unwrap();
    assert_eq!(res.len(), 8, "{res:?}");
    let named = [&guest_addr, &guest_addr, "gone@beta.test", "ghost@beta.test", "newbie@beta.test"];
    let mut reasons = Vec::new();
    for (item, who) in res.iter().zip(named) {
        assert_rejected(item, Code::PermissionDenied, &[who, "no active employee of that name"]);
        // The same words for every login, but for the login and the task number.
        reasons.push(item.reason.replace(who, "X").replace(|c: char| c.is_ascii_digit(), ""));
    }
    assert!(reasons.iter().all(|r| *r == reasons[0]), "one reason for all: {reasons:#?}");
    assert_rejected(&res[5], Code::PermissionDenied, &["jan@beta.test", "creator"]);
    assert_rejected(&res[6], Code::PermissionDenied, &["jan@beta.test", "no such proposal"]);
    assert_eq!((res[7].outcome, res[7].version), (Outcome::Applied as i32, 1), "{res:?}");

    // Stored: alpha's task and the honest one, nothing else.
    assert_eq!(task_count(&b.admin).await, 2);
    let guest_c = b.node.clients(&guest.api_token).await.unwrap();
    assert_eq!(task_count(&guest_c).await, 0, "the extranet user sees nothing (R12)");
    let newbie = add_person(&mut b.admin.clone(), "newbie", "New Person").await.unwrap();
    assert_eq!(task_count(&b.node.clients(&newbie).await.unwrap()).await, 0, "no task waited for the login");
}

/// Issue 11, Found 2 (R15 on receipt): a portal that switched its network on a
/// moment ago sends a valid new task naming jan. Beta checks the sender's
/// activation as the directory recorded it, refuses the whole call with
/// FailedPrecondition naming R15 and stores nothing; the sender keeps it queued,
/// and once the day has passed the same batch applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_not_yet_active_is_refused_on_receipt() {
    let h = held().await;
    let b = &h.f.members[1];
    let fresh = register_portal(&h.f, "fresh.test").await;
    let body = new_task_of(&h.v1, "fresh.test", 7, "jan@beta.test", &[]);
    let items = || vec![event_item(forge(fresh.signing_key(), &body, GENESIS))];
    let (code, msg) = refusal(deliver(&h.f, b, "beta.test", &fresh, items()).await);
    assert_eq!(code, Code::FailedPrecondition, "{msg}");
    assert!(msg.contains("fresh.test") && msg.contains("R15"), "{msg}");
    beta_unchanged(&h).await;

    h.f.clock.advance(Duration::from_secs(DAY + 1));
    let res = deliver(&h.f, b, "beta.test", &fresh, items()).await.unwrap();
    assert_eq!((res[0].outcome, res[0].version), (Outcome::Applied as i32, 1), "{res:?}");
}

/// The directory lists a person `ghost` for beta, whom beta never had: alpha's
/// checks pass when a task names ghost@beta.test, and only beta can say no.
fn publish_ghost_at_beta(f: &Fed) {
    let ghost = portalnet_directory::Entry {
        login: "ghost".into(),
        display_name: "Ghost Writer".into(),
        position: String::new(),
        email: "ghost@example.org".into(),
    };
    f.dir.handle.directory.publish("beta.test", vec![ghost], vec![], false).unwrap();
}

/// Issue 11 (1): a receiver's refusal goes back to the home with its reason: it
/// shows in the home's `portal outbox` (refused count and last refusal, while the
/// last error stays empty: beta was reached) and in the task's history there; the
/// receiver stores nothing. The directory lists a `ghost` for beta that beta never
/// had, so alpha's own checks pass and only beta can say no.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_event_shows_at_the_home() {
    let f = net(2).await;
    let (a, b) = (&f.members[0], &f.members[1]);
    publish_ghost_at_beta(&f);
    let t = a.user.tasks.clone().create_task(create("For a ghost", "ghost@beta.test")).await.unwrap();
    let id = t.into_inner().id;
    let row = wait_for("alpha's outbox shows beta's refusal", || {
        let mut p = a.admin.portal.clone();
        async move {
            let rows = p.outbox(pb::OutboxRequest::default()).await.ok()?.into_inner().rows;
            rows.into_iter().find(|r| r.portal_id == "beta.test" && r.refused >= 1)
        }
    })
    .await
    .unwrap();
    assert!(row.last_refusal.contains("ghost@beta.test"), "{row:?}");
    assert!(row.last_refusal.contains("no active employee"), "{row:?}");
    assert!(row.last_error.is_empty(), "beta was reached: {row:?}");
    assert_eq!(row.depth, 0, "a refused event is not retried: {row:?}");
    let hist = a
        .user
        .tasks
        .clone()
        .history(pb::HistoryRequest { task_id: id, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(hist.refusals.len(), 1, "{hist:?}");
    let r = &hist.refusals[0];
    assert_eq!((r.portal_id.as_str(), r.version), ("beta.test", 1));
    assert!(r.reason.contains("ghost@beta.test"), "{r:?}");
    assert_eq!(task_count(&b.admin).await, 0, "beta stored nothing");
}

/// Issue 15: every portal's `/metrics`, read with a real exposition-format
/// parser, moves as expected after a cross-portal comment (B proposes, A applies,
/// C receives the event), a delivery refused by B, and an e-mail notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follow_comments_refusals_and_mail() {
    use portalnet_tests::scrape::{label_values, scrape, value};
    let f = net(3).await;
    let (a, b, c) = (&f.members[0], &f.members[1], &f.members[2]);
    let url =
        |m: &Member| m.node.handle.as_ref().unwrap().metrics_url.clone().expect("metrics on the web port");
    // A task on alpha with jan@beta responsible, olga@gamma and an e-mail address observing.
    let req = pb::CreateTaskRequest {
        observers: vec![c.address.clone(), "mailto:joe@example.org".into()],
        ..create("Metrics", &b.address)
    };
    let t = a.user.tasks.clone().create_task(req).await.unwrap().into_inner();
    let on_b = replica_id(&b.user, "alpha.test", t.id).await.unwrap();
    let on_c = replica_id(&c.user, "alpha.test", t.id).await.unwrap();
    let req = pb::AddCommentRequest { task_id: on_b, text: "From beta".into() };
    b.user.tasks.clone().add_comment(req).await.unwrap();
    task_where(&c.user, on_c, "the comment reaches gamma", |t| t.version >= 2).await.unwrap();
    task_where(&b.user, on_b, "beta's proposal comes back applied", |t| t.version >= 2).await.unwrap();
    // A refused delivery: beta has no employee `ghost`.
    publish_ghost_at_beta(&f);
    a.user.tasks.clone().create_task(create("For a ghost", "ghost@beta.test")).await.unwrap();

    let sa = wait_for("alpha's metrics show beta's refusal and the mail sent", || {
        let u = url(a);
        async move {
            let s = scrape(&u).await.ok()?;
            let refused =
                value(&s, "portalnet_replication_items_refused_by_peer_total", &[("peer", "beta.test")]);
            let sent = value(&s, "portalnet_mail_out_sent_total", &[]);
            (refused >= 1.0 && sent >= 1.0).then_some(s)
        }
    })
    .await
    .unwrap();
    let grpc = "portalnet_grpc_server_requests_total";
    let create_ok = [("service", "portalnet.v1.TaskService"), ("method", "CreateTask"), ("code", "OK")];
    assert_eq!(value(&sa, grpc, &create_ok), 2.0);
    let deliver_ok = [("service", "portalnet.v1.Replication"), ("method", "Deliver"), ("code", "OK")];
    assert!(value(&sa, grpc, &deliver_ok) >= 1.0, "beta delivered its proposal to alpha");
    let latency = "portalnet_grpc_server_request_duration_seconds_count";
    assert_eq!(value(&sa, latency, &create_ok[..2]), 2.0);
    let received = "portalnet_replication_items_received_total";
    let proposal_applied = [("peer", "beta.test"), ("kind", "proposal"), ("outcome", "applied")];
    assert_eq!(value(&sa, received, &proposal_applied), 1.0);
    for peer in ["beta.test", "gamma.test"] {
        let ok = [("peer", peer), ("result", "ok")];
        assert!(value(&sa, "portalnet_replication_deliveries_total", &ok) >= 1.0, "{peer}");
        assert_eq!(value(&sa, "portalnet_replication_outbox_depth", &[("peer", peer)]), 0.0, "{peer}");
        let worker = format!("outbox:{peer}");
        let state = [("worker", worker.as_str()), ("state", "idle")];
        assert_eq!(value(&sa, "portalnet_worker_state", &state), 1.0, "{peer}");
    }
    assert!(value(&sa, "portalnet_mail_out_queued_total", &[]) >= 1.0);
    assert!(value(&sa, "portalnet_storage_flush_duration_seconds_count", &[]) >= 1.0);
    assert!(value(&sa, "portalnet_storage_size_bytes", &[]) > 0.0);
    assert_eq!(value(&sa, "portalnet_worker_state", &[("worker", "mailer"), ("state", "idle")]), 1.0);

    let sb = scrape(&url(b)).await.unwrap();
    assert_eq!(value(&sb, "portalnet_proposals_total", &[("outcome", "queued")]), 1.0);
    assert_eq!(value(&sb, "portalnet_proposals_total", &[("outcome", "applied")]), 1.0);
    assert_eq!(value(&sb, "portalnet_proposals_pending", &[("peer", "alpha.test")]), 0.0);
    let events = [("peer", "alpha.test"), ("kind", "event"), ("outcome", "applied")];
    assert!(value(&sb, received, &events) >= 2.0, "creation and comment");
    let refused = [("peer", "alpha.test"), ("kind", "event"), ("outcome", "refused")];
    assert_eq!(value(&sb, received, &refused), 1.0, "the ghost's task");
    assert_eq!(value(&sb, "portalnet_replication_refusals_total", &[("peer", "alpha.test")]), 1.0);
    let reasons = label_values(&sb, "portalnet_replication_refusals_total", "reason");
    let known = ["malformed", "forbidden", "precondition", "not_found", "other"];
    assert!(reasons.iter().all(|r| known.contains(&r.as_str())), "{reasons:?}");
    assert_eq!(value(&sb, "portalnet_mail_out_sent_total", &[]), 0.0, "beta mailed nobody");

    let sc = scrape(&url(c)).await.unwrap();
    assert!(value(&sc, received, &events) >= 2.0, "gamma got creation and comment");
    assert_eq!(value(&sc, received, &[("outcome", "refused")]), 0.0);
    // Labels stay bounded: no task, comment or user ids anywhere.
    for s in [&sa, &sb, &sc] {
        for x in &s.samples {
            for k in x.labels.keys() {
                let allowed = ["service", "method", "code", "peer", "kind", "outcome", "result", "reason"];
                let more = ["class", "worker", "state", "le", "quantile", "portal"];
                assert!(allowed.contains(&k.as_str()) || more.contains(&k.as_str()), "{}: {k}", x.metric);
            }
        }
    }

    // The workers, as `portalctl portal workers` shows them (admins only).
    let w = a.admin.portal.clone().workers(pb::WorkersRequest {}).await.unwrap().into_inner().workers;
    let names: Vec<&str> = w.iter().map(|w| w.name.as_str()).collect();
    for want in ["mailer", "directory-sync", "outbox:beta.test", "outbox:gamma.test"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert!(w.iter().all(|w| w.state != "stopped"), "{w:?}");
    let e = a.user.portal.clone().workers(pb::WorkersRequest {}).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);

    // The directory is a node too: its calls and the portals' publishes are counted.
    let sd = scrape(f.dir.handle.metrics_url.as_deref().expect("directory metrics")).await.unwrap();
    for p in ["alpha.test", "beta.test", "gamma.test"] {
        assert!(value(&sd, "portalnet_directory_publishes_total", &[("portal", p)]) >= 1.0, "{p}");
    }
    let lookups = [("method", "LookupAddresses"), ("code", "OK")];
    assert!(
        value(&sd, "portalnet_grpc_server_requests_total", &lookups) >= 1.0,
        "alpha checked jan and olga"
    );
}
