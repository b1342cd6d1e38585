//! Limits of the Replication service's calls found by review (stop 24): the
//! largest file a portal accepts travels; a Deliver batch holds a bounded number
//! of items; FetchEvents answers in parts, tells no stranger which tasks exist and
//! serves no portal whose network is off. Each portal here runs the real service
//! (called directly, or served over TLS where a call must cross), with a directory
//! that cannot be reached: peers are what each portal kept of them, as in an
//! outage.

use ed25519_dalek::VerifyingKey;
use portalnet_core::Clock;
use portalnet_core::limits::MAX_FILE_BYTES;
use portalnet_core::permissions::Actor;
use portalnet_core::user::UserKind;
use portalnet_federation::{Signer, Verifier};
use portalnet_node::clock::SystemClock;
use portalnet_node::config::DirectoryLink;
use portalnet_node::directory::client::{DirectoryClient, method};
use portalnet_node::replication::peers::MAX_REPLICATION_MESSAGE;
use portalnet_node::replication::wire::{BATCH_BYTES, MAX_DELIVER_ITEMS, event_out};
use portalnet_node::replication::{Peers, ReplicationConfig, ReplicationSvc, Replicator};
use portalnet_portal::{Attached, Portal};
use portalnet_proto::v1::{self as pb, item_result::Outcome, replication_server::Replication};
use portalnet_store::replication::PeerRecord;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Request};

use super::common;

struct Node {
    id: &'static str,
    portal: Arc<Portal>,
    key: VerifyingKey,
    signer: Signer,
    tls: portalnet_node::tls::TlsFiles,
    svc: Arc<ReplicationSvc>,
    _tmp: tempfile::TempDir,
}

/// Portal `id` with its network on, its Replication service, and a directory
/// link to nowhere.
fn node(id: &'static str) -> Node {
    let clock = Arc::new(SystemClock);
    let (portal, key, tmp) = common::open_portal(id, clock.clone(), common::unlimited());
    let dir = tmp.path().join(id);
    let signing = portalnet_node::identity::Identity::load(&dir).unwrap().signing;
    portal
        .record_network(portalnet_core::settings::NetworkSetting {
            enabled: true,
            enabled_since: Some(portalnet_core::Timestamp(clock.now().0 - 1)),
        })
        .unwrap();
    let tls = portalnet_node::tls::ensure_for(&dir, &Default::default(), id).unwrap();
    let portal = Arc::new(portal);
    let link = DirectoryLink {
        endpoint: "https://127.0.0.1:1".into(),
        endpoints: vec![],
        id: "directory.test".into(),
        ca: dir.join("tls/cert.pem"),
    };
    let directory =
        Arc::new(DirectoryClient::new(&dir, &link, id, signing.clone(), tls.cert_pem.clone()).unwrap());
    let peers = Arc::new(Peers::new(directory, &portal.tables, portal.clock.clone(), 0));
    let signer = Signer::new(id.to_string(), signing.clone());
    let replicator = Replicator::new(
        portal.clone(),
        peers,
        Signer::new(id.to_string(), signing),
        ReplicationConfig::default(),
        CancellationToken::new(),
    );
    let svc = Arc::new(ReplicationSvc { replicator, verifier: Arc::new(Verifier::new(id)) });
    Node { id, portal, key, signer, tls, svc, _tmp: tmp }
}

impl Node {
    /// What this portal keeps of `other` (as the directory last said it).
    fn knows(&self, other: &Node, endpoint: &str, network_on: bool) {
        let rec = PeerRecord {
            portal_id: other.id.into(),
            endpoint: endpoint.into(),
            public_key: hex::encode(other.key.to_bytes()),
            previous_keys: vec![],
            network_enabled: network_on,
            network_enabled_since: if network_on { SystemClock.now().0 - 3_600_000 } else { 0 },
            tls_certificate: other.tls.cert_pem.clone(),
            fetched_at: SystemClock.now(),
        };
        let t = &self.portal.tables;
        t.db.write(|tx| t.peers.tx_put(tx, &other.id.to_string(), &rec)).unwrap();
    }

    fn sign<M: prost::Message>(&self, method: &str, to: &Node, msg: &M) -> Request<pb::Signed> {
        Request::new(self.signer.sign(method, to.id, SystemClock.now(), msg))
    }

    /// Serves this portal's Replication service over TLS, with the limits the
    /// node's server sets; returns its endpoint.
    async fn serve(&self) -> String {
        self.serve_with_limit(MAX_REPLICATION_MESSAGE).await
    }

    /// The same with another transport limit (a portal of an older version).
    async fn serve_with_limit(&self, limit: usize) -> String {
        use pb::replication_server::ReplicationServer;
        use tonic::transport::{Identity, Server, ServerTlsConfig};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let service = ReplicationServer::from_arc(self.svc.clone())
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit);
        let identity = Identity::from_pem(&self.tls.cert_pem, &self.tls.key_pem);
        let server = Server::builder()
            .tls_config(ServerTlsConfig::new().identity(identity))
            .unwrap()
            .add_service(service)
            .serve_with_incoming(portalnet_node::listen::Incoming::grpc(
                listener,
                &Default::default(),
                portalnet_node::metrics::Metrics::disabled(),
            ));
        tokio::spawn(server);
        format!("https://127.0.0.1:{port}")
    }
}

fn admin() -> Actor {
    Actor { login: "admin".into(), admin: true, kind: UserKind::Employee }
}

/// alpha homes a task with jan@beta responsible (beta has jan); returns its id.
fn shared_task(alpha: &Node, beta: &Node) -> u64 {
    let jan = portalnet_core::user::NewUser::new("jan", "Jan Kowalski", "jan@beta.test", "", false).unwrap();
    beta.portal.add_user(&admin(), jan).unwrap();
    alpha.portal.create_task(&admin(), common::task_for_jan_at_beta("Shared")).unwrap().id
}

fn attach(home: &Node, task: u64, name: &str, size: usize) {
    let a = home.portal.attach_file(&admin(), task, name, "application/octet-stream", vec![7; size]).unwrap();
    assert!(matches!(a, Attached::Done(_)));
}

/// Version `v` of `task` as the outbox sends it: with its file's bytes.
fn item(home: &Node, task: u64, v: u64) -> pb::DeliverItem {
    let e = home.portal.tables.events.get(&(task, v)).unwrap().unwrap();
    let content = e.file_id.map(|f| home.portal.file_bytes(task, f).unwrap()).unwrap_or_default();
    pb::DeliverItem {
        kind: Some(pb::deliver_item::Kind::Event(event_out(&e, content, false))),
        ..Default::default()
    }
}

fn fetch(from: &Node, to: &Node, task: u64, from_version: u64) -> Request<pb::Signed> {
    from.sign(method::FETCH_EVENTS, to, &pb::FetchEventsRequest { task, from_version, to_version: 0 })
}

/// Finding 5: an event with a file of the largest size a portal accepts passes
/// the receiver's envelope check and the transport, and is applied: it used to be
/// refused whole (16 MiB payload) and retried for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_file_is_delivered_and_applied() {
    let (alpha, beta) = (node("alpha.test"), node("beta.test"));
    let task = shared_task(&alpha, &beta);
    attach(&alpha, task, "big.bin", MAX_FILE_BYTES as usize);
    beta.knows(&alpha, "https://127.0.0.1:1", true);
    alpha.knows(&beta, &beta.serve().await, true);

    let batch = pb::DeliverBatch { items: vec![item(&alpha, task, 1), item(&alpha, task, 2)] };
    let signed = alpha.signer.sign(method::DELIVER, "beta.test", SystemClock.now(), &batch);
    assert!(prost::Message::encoded_len(&signed) <= MAX_REPLICATION_MESSAGE);
    // Through the client the outbox uses, to beta's served service.
    let mut client = alpha.svc.replicator.peers.client("beta.test").await.unwrap();
    let r = client.deliver(signed).await.unwrap_or_else(|s| panic!("{:?}: {}", s.code(), s.message()));
    let got: Vec<_> =
        r.into_inner().results.iter().map(|r| (r.outcome, r.version, r.reason.clone())).collect();
    let applied = Outcome::Applied as i32;
    assert_eq!(got, vec![(applied, 1, String::new()), (applied, 2, String::new())]);
    let local = beta.portal.tables.replicas.get(&format!("alpha.test#{task}")).unwrap().unwrap();
    let held = beta.portal.tables.tasks.get(&local).unwrap().unwrap();
    assert_eq!(held.files.len(), 1);
    assert_eq!(beta.portal.file_bytes(local, held.files[0].id).unwrap().len() as u64, MAX_FILE_BYTES);
}

/// Finding 6: a batch of more items than a sender puts in one is refused whole,
/// as final (InvalidArgument), before its items are decoded; one of exactly the
/// limit is answered item by item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliver_refuses_more_items_than_a_batch_holds() {
    assert!(ReplicationConfig::default().batch_items <= MAX_DELIVER_ITEMS);
    let (alpha, beta) = (node("alpha.test"), node("beta.test"));
    beta.knows(&alpha, "https://127.0.0.1:1", true);
    let batch = |n| pb::DeliverBatch { items: vec![pb::DeliverItem::default(); n] };

    let ok = beta.svc.deliver(alpha.sign(method::DELIVER, &beta, &batch(MAX_DELIVER_ITEMS))).await.unwrap();
    assert_eq!(ok.into_inner().results.len(), MAX_DELIVER_ITEMS);
    for n in [MAX_DELIVER_ITEMS + 1, 4_000_000] {
        let e = beta.svc.deliver(alpha.sign(method::DELIVER, &beta, &batch(n))).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{n} items: {}", e.message());
        assert!(e.message().contains(&format!("at most {MAX_DELIVER_ITEMS} items")), "{}", e.message());
    }
}

/// Finding 8: a portal learns nothing of which task ids exist from FetchEvents:
/// a task it has no participant in and a task that does not exist get the same
/// answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_events_tells_no_stranger_which_tasks_exist() {
    let (alpha, beta) = (node("alpha.test"), node("beta.test"));
    alpha.knows(&beta, "https://127.0.0.1:1", true);
    let mut own = common::task_for_jan_at_beta("Secret merger");
    own.responsible = None;
    let secret = alpha.portal.create_task(&admin(), own).unwrap().id;
    let missing = secret + 1000;
    let answer = |id: u64, e: tonic::Status| (e.code(), e.message().replace(&id.to_string(), "N"));
    let a = alpha.svc.fetch_events(fetch(&beta, &alpha, secret, 1)).await.unwrap_err();
    let b = alpha.svc.fetch_events(fetch(&beta, &alpha, missing, 1)).await.unwrap_err();
    let (a, b) = (answer(secret, a), answer(missing, b));
    assert_eq!(a.0, Code::NotFound, "{a:?}");
    assert_eq!(a, b, "the answer tells an existing task from a missing one");
}

/// Extra B: a portal whose network is off (as the directory recorded it) gets no
/// history either, like any other traffic from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_events_refuses_a_portal_whose_network_is_off() {
    let (alpha, beta) = (node("alpha.test"), node("beta.test"));
    let task = shared_task(&alpha, &beta);
    alpha.knows(&beta, "https://127.0.0.1:1", false);
    let e = alpha.svc.fetch_events(fetch(&beta, &alpha, task, 1)).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{}", e.message());
    assert!(e.message().contains("network communication is off"), "{}", e.message());
    alpha.knows(&beta, "https://127.0.0.1:1", true);
    let ok = alpha.svc.fetch_events(fetch(&beta, &alpha, task, 1)).await.unwrap();
    assert_eq!(ok.into_inner().events.len(), 1);
}

/// alpha's task with jan@beta: created, three 3 MiB files, a comment (v5).
fn history_with_files(alpha: &Node, beta: &Node) -> u64 {
    let task = shared_task(alpha, beta);
    for i in 0..3 {
        attach(alpha, task, &format!("part{i}.bin"), 3 * 1024 * 1024);
    }
    alpha.portal.add_comment(&admin(), task, "all parts attached").unwrap();
    task
}

/// Extra A, the home's side: FetchEvents answers at most a byte budget (one
/// larger event alone), not every file of the range at once; asking again from
/// the first version left out gets the rest, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_events_answers_in_parts() {
    let (alpha, beta) = (node("alpha.test"), node("beta.test"));
    let task = history_with_files(&alpha, &beta);
    alpha.knows(&beta, "https://127.0.0.1:1", true);
    let mut versions = Vec::new();
    let mut answers = 0;
    while versions.len() < 5 {
        let from = versions.last().map_or(1, |v| v + 1);
        let list = alpha.svc.fetch_events(fetch(&beta, &alpha, task, from)).await.unwrap().into_inner();
        assert!(!list.events.is_empty(), "nothing from version {from}");
        assert!(
            list.events.len() == 1 || prost::Message::encoded_len(&list) <= BATCH_BYTES + 64,
            "{} events, {} bytes in one answer",
            list.events.len(),
            prost::Message::encoded_len(&list)
        );
        versions.extend(list.events.iter().map(|e| e.version));
        answers += 1;
    }
    assert_eq!(versions, vec![1, 2, 3, 4, 5]);
    assert!(answers > 1, "the whole history came in one answer");
}

/// Extra A, the caller's side: a replica missing more history than one answer
/// holds fills the whole gap (asking again where the home stopped) and applies the
/// delivered event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_larger_than_one_answer_is_filled() {
    let (alpha, beta) = (node("alpha.test"), node("beta.test"));
    let task = history_with_files(&alpha, &beta);
    alpha.knows(&beta, "https://127.0.0.1:1", true);
    beta.knows(&alpha, &alpha.serve().await, true);
    let batch = pb::DeliverBatch { items: vec![item(&alpha, task, 5)] };
    let r = beta.svc.deliver(alpha.sign(method::DELIVER, &beta, &batch)).await;
    let r = r.unwrap_or_else(|s| panic!("{:?}: {}", s.code(), s.message())).into_inner();
    assert_eq!((r.results[0].outcome, r.results[0].version), (Outcome::Applied as i32, 5), "{:?}", r.results);
    let local = beta.portal.tables.replicas.get(&format!("alpha.test#{task}")).unwrap().unwrap();
    assert_eq!(beta.portal.event_hashes(local).unwrap(), alpha.portal.event_hashes(task).unwrap());
}

/// Finding 5, the sender's side: a destination that refuses a batch whole for
/// good (here a transport limit below the file's size, as an older portald has)
/// does not stall delivery silently. The batch is retried with its oldest entry
/// alone (so the entries before the refused one get through), the refused entry
/// stays queued, and `portal outbox` shows the destination as stuck on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_refused_for_good_is_shown_as_stuck_and_kept() {
    let (alpha, beta) = (node("alpha.test"), node("beta.test"));
    let task = shared_task(&alpha, &beta);
    attach(&alpha, task, "big.bin", 3 * 1024 * 1024);
    beta.knows(&alpha, "https://127.0.0.1:1", true);
    alpha.knows(&beta, &beta.serve_with_limit(1024 * 1024).await, true);
    let r = alpha.svc.replicator.clone();
    let running = tokio::spawn(r.clone().run());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let row = loop {
        let rows = r.rows().unwrap();
        let row = rows.into_iter().find(|row| row.portal_id == "beta.test");
        if let Some(row) = row.filter(|row| row.delivered == 1 && row.last_error.contains("stuck")) {
            break row;
        }
        assert!(std::time::Instant::now() < deadline, "not reported as stuck: {:?}", r.rows());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(row.last_error.contains(&format!("event 2 of task {task}")), "{}", row.last_error);
    assert!(row.last_error.contains("OutOfRange"), "{}", row.last_error);
    assert_eq!(row.depth, 1, "the refused entry stays queued");
    let local = beta.portal.tables.replicas.get(&format!("alpha.test#{task}")).unwrap().unwrap();
    assert_eq!(beta.portal.tables.tasks.get(&local).unwrap().unwrap().version, 1);
    running.abort();
}

/// Review of stop 24: past the fetch budget (64 MiB a Deliver), when nothing that
/// was fetched could be applied here (its first event is refused: it names a
/// person beta does not have), a retry would fetch the same again for ever. The
/// batch's own items are answered instead, their events refused as gaps, so the
/// home hears of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_history_past_the_fetch_budget_is_answered_not_fetched_again() {
    let (alpha, beta) = (node("alpha.test"), node("beta.test"));
    // jan@beta responsible, but beta has no jan: beta refuses version 1.
    let task = alpha.portal.create_task(&admin(), common::task_for_jan_at_beta("Unknown jan")).unwrap().id;
    for i in 0..4 {
        attach(&alpha, task, &format!("part{i}.bin"), 22 * 1024 * 1024);
    }
    alpha.portal.add_comment(&admin(), task, "all parts attached").unwrap();
    alpha.knows(&beta, "https://127.0.0.1:1", true);
    beta.knows(&alpha, &alpha.serve().await, true);
    let batch = pb::DeliverBatch { items: vec![item(&alpha, task, 6)] };
    let r = beta.svc.deliver(alpha.sign(method::DELIVER, &beta, &batch)).await;
    let r = r.unwrap_or_else(|s| panic!("{:?}: {}", s.code(), s.message())).into_inner();
    assert_eq!(r.results[0].outcome, Outcome::Rejected as i32, "{:?}", r.results);
    assert!(r.results[0].reason.contains("missing here"), "{:?}", r.results);
    assert!(beta.portal.tables.replicas.get(&format!("alpha.test#{task}")).unwrap().is_none());
}
