//! The replica's trust boundary on real storage (found by review in stop 24): a home
//! portal speaks for its own people only; a change is attributed to a person of the
//! receiver only when it is the proposal that person made there, doing what it
//! asked; a stranger's refused proposals leave nothing behind and tell it nothing.

use ed25519_dalek::SigningKey;
use portalnet_core::event::EventBody;
use portalnet_core::permissions::Actor;
use portalnet_core::task::{Change, FieldChange, FileMeta, TaskStatus};
use portalnet_core::user::UserKind;
use portalnet_federation::chain::{event_hash, sign_event};
use portalnet_node::replication::wire::{event_in, event_out, item_in};
use portalnet_portal::replica::InOp;
use portalnet_portal::{Attached, Commented, InEvent, InItem, InProposal, Outcome, Portal};
use portalnet_proto::v1 as pb;
use portalnet_store::replication::ProposalState;

use super::common;

struct Node {
    portal: Portal,
    key: ed25519_dalek::VerifyingKey,
    signing: SigningKey,
    _tmp: tempfile::TempDir,
}

fn node(id: &str) -> Node {
    let (portal, key, tmp) = common::networked_portal(id);
    let signing = portalnet_node::identity::Identity::load(&tmp.path().join(id)).unwrap().signing;
    Node { portal, key, signing, _tmp: tmp }
}

fn admin() -> Actor {
    Actor { login: "admin".into(), admin: true, kind: UserKind::Employee }
}

fn forge(key: &SigningKey, body: &EventBody, prev: [u8; 32]) -> (InItem, [u8; 32]) {
    forge_bytes(key, body, body.to_bytes(), prev)
}

/// [`forge`] with the body's bytes as given.
fn forge_bytes(key: &SigningKey, body: &EventBody, bytes: Vec<u8>, prev: [u8; 32]) -> (InItem, [u8; 32]) {
    let hash = event_hash(&prev, &bytes);
    let signature = sign_event(key, &body.home, body.task, body.version, &hash);
    let ev = InEvent {
        home: body.home.clone(),
        task: body.task,
        version: body.version,
        body: bytes,
        prev_hash: prev,
        hash,
        signature: signature.to_vec(),
        file_content: Vec::new(),
        catch_up: false,
    };
    (InItem::Event(ev), hash)
}

/// alpha homes a task with jan@beta responsible; beta holds version 1 and jan
/// proposed one comment ("ok"). Returns (alpha, beta, v1 body, v1 hash, proposal id).
fn setup() -> (Node, Node, EventBody, [u8; 32], u64, u64) {
    let alpha = node("alpha.test");
    let beta = node("beta.test");
    let jan = portalnet_core::user::NewUser::new("jan", "Jan Kowalski", "jan@beta.test", "", false).unwrap();
    beta.portal.add_user(&admin(), jan).unwrap();
    let task = alpha.portal.create_task(&admin(), common::task_for_jan_at_beta("Forged")).unwrap();
    let e1 = alpha.portal.tables.events.get(&(task.id, 1)).unwrap().unwrap();
    let v1 = EventBody::from_bytes(e1.body.as_bytes()).unwrap();
    let v1_hash: [u8; 32] = hex::decode(&e1.hash).unwrap().try_into().unwrap();
    let item = InItem::Event(event_in(event_out(&e1, Vec::new(), false)).unwrap());
    let out = beta.portal.apply_batch("alpha.test", vec![item], &[alpha.key], &|_| None).unwrap();
    assert_eq!(out, vec![Outcome::Applied { version: 1 }]);
    let local = beta.portal.tables.replicas.get(&format!("alpha.test#{}", task.id)).unwrap().unwrap();
    let jan_actor = Actor { login: "jan".into(), admin: false, kind: UserKind::Employee };
    let Commented::Pending(p) = beta.portal.add_comment(&jan_actor, local, "ok").unwrap() else { panic!() };
    (alpha, beta, v1, v1_hash, p.id, local)
}

/// The event alpha (the home) wrote for version `v` of its task, as it travels.
fn event_of(alpha: &Node, task: u64, v: u64) -> InItem {
    let e = alpha.portal.tables.events.get(&(task, v)).unwrap().unwrap();
    let file = e
        .file_id
        .map(|id| {
            let t = alpha.portal.tables.tasks.get(&task).unwrap().unwrap();
            let f = t.files.iter().find(|f| f.id == id).unwrap().clone();
            alpha.portal.tables.blobs.read(&f.sha256).unwrap().unwrap()
        })
        .unwrap_or_default();
    InItem::Event(event_in(event_out(&e, file, false)).unwrap())
}

fn jan() -> Actor {
    Actor { login: "jan".into(), admin: false, kind: UserKind::Employee }
}

/// The legitimate round: jan's proposal (a comment, then a file) is applied by
/// the home and its event comes back attributed to jan. Beta accepts it whether
/// the home's answer (settled in the outbox) or the event arrives first.
#[test]
fn a_proposal_applied_at_its_home_comes_back_as_its_makers_change() {
    let (alpha, beta, _v1, _h1, pid, local) = setup();
    let alpha_task = beta.portal.tables.tasks.get(&local).unwrap().unwrap().home.unwrap().task;
    let deliver = |id: u64, op: InOp| {
        let p = InProposal { id: id.to_string(), task: alpha_task, actor: "jan@beta.test".into(), op };
        alpha.portal.apply_batch("beta.test", vec![InItem::Proposal(p)], &[beta.key], &|_| None).unwrap()
    };
    // The comment: the event first.
    assert_eq!(deliver(pid, InOp::Comment("ok".into())), [Outcome::Applied { version: 2 }]);
    let out =
        beta.portal.apply_batch("alpha.test", vec![event_of(&alpha, alpha_task, 2)], &[alpha.key], &|_| None);
    assert_eq!(out.unwrap(), [Outcome::Applied { version: 2 }]);
    assert_eq!(beta.portal.proposal(pid).unwrap().unwrap().state, ProposalState::Applied { version: 2 });
    // The file: the home's answer first, then the event.
    let content = b"minutes of the meeting".to_vec();
    let Attached::Pending(fp) =
        beta.portal.attach_file(&jan(), local, "minutes.txt", "text/plain", content.clone()).unwrap()
    else {
        panic!("a file on a replica is a proposal")
    };
    let op = InOp::File { name: "minutes.txt".into(), content_type: "text/plain".into(), content };
    let answer = deliver(fp.id, op);
    assert_eq!(answer, [Outcome::Applied { version: 3 }]);
    beta.portal.remove_outbox("alpha.test", std::iter::empty(), &[(fp.id, answer[0].clone())], &[]).unwrap();
    let out =
        beta.portal.apply_batch("alpha.test", vec![event_of(&alpha, alpha_task, 3)], &[alpha.key], &|_| None);
    assert_eq!(out.unwrap(), [Outcome::Applied { version: 3 }]);
    // An empty file (stored nowhere before the lock) comes back too.
    let Attached::Pending(ep) =
        beta.portal.attach_file(&jan(), local, "empty.txt", "text/plain", Vec::new()).unwrap()
    else {
        panic!("a file on a replica is a proposal")
    };
    let op = InOp::File { name: "empty.txt".into(), content_type: "text/plain".into(), content: Vec::new() };
    assert_eq!(deliver(ep.id, op), [Outcome::Applied { version: 4 }]);
    let out =
        beta.portal.apply_batch("alpha.test", vec![event_of(&alpha, alpha_task, 4)], &[alpha.key], &|_| None);
    assert_eq!(out.unwrap(), [Outcome::Applied { version: 4 }]);
    assert_eq!(beta.portal.proposal(ep.id).unwrap().unwrap().state, ProposalState::Applied { version: 4 });
    let t = beta.portal.tables.tasks.get(&local).unwrap().unwrap();
    let files: Vec<_> = t.files.iter().map(|f| (f.name.as_str(), f.uploaded_by.as_str())).collect();
    assert_eq!(files, [("minutes.txt", "jan"), ("empty.txt", "jan")]);
}

/// jan proposed the comment "ok"; the home sends a status change and another
/// comment in jan's name, both citing that proposal. Both are refused, and the
/// proposal itself, applied as a comment, still comes back.
#[test]
fn a_home_cannot_reuse_a_proposal_for_other_changes() {
    let (alpha, beta, v1, h1, pid, local) = setup();
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.state.version = 2;
    v2.actor = "jan@beta.test".into();
    v2.change = Change::Status { from: TaskStatus::New, to: TaskStatus::Completed };
    v2.state.status = TaskStatus::Completed;
    v2.proposal = Some(format!("beta.test:{pid}"));
    let (i2, _) = forge(&alpha.signing, &v2, h1);
    let mut c2 = v1.clone();
    c2.version = 2;
    c2.state.version = 2;
    c2.actor = "jan@beta.test".into();
    c2.change = Change::Comment { comment_id: 99 };
    c2.state.comment_count = 1;
    c2.proposal = Some(format!("beta.test:{pid}"));
    c2.comment = Some(portalnet_core::task::Comment {
        id: 99,
        task_id: v1.task,
        author: "jan@beta.test".into(),
        text: "I refuse to work on this".into(),
        created_at: v1.at,
    });
    let (i3, _) = forge(&alpha.signing, &c2, h1);
    for item in [i2, i3] {
        let out = beta.portal.apply_batch("alpha.test", vec![item], &[alpha.key], &|_| None).unwrap();
        assert!(
            matches!(&out[0], Outcome::Rejected { kind: portalnet_store::replication::RefusalKind::Forbidden, reason } if reason.contains("no such proposal")),
            "{out:?}"
        );
    }
    assert_eq!(beta.portal.tables.tasks.get(&local).unwrap().unwrap().status, TaskStatus::New);
    assert_eq!(beta.portal.proposal(pid).unwrap().unwrap().state, ProposalState::Pending);
    // What jan asked for, once: accepted; the same proposal cited again by the
    // next version: refused.
    let mut ok = c2.clone();
    ok.comment.as_mut().unwrap().text = "ok".into();
    let (i4, h2) = forge(&alpha.signing, &ok, h1);
    let out = beta.portal.apply_batch("alpha.test", vec![i4], &[alpha.key], &|_| None).unwrap();
    assert_eq!(out, [Outcome::Applied { version: 2 }]);
    let mut again = ok.clone();
    (again.version, again.state.version, again.state.comment_count) = (3, 3, 2);
    again.change = Change::Comment { comment_id: 100 };
    again.comment.as_mut().unwrap().id = 100;
    let (i5, _) = forge(&alpha.signing, &again, h2);
    let out = beta.portal.apply_batch("alpha.test", vec![i5], &[alpha.key], &|_| None).unwrap();
    assert!(matches!(out[0], Outcome::Rejected { .. }), "{out:?}");
}

/// A change by alpha's own person whose task state lists a file "uploaded by"
/// jan@beta, who never uploaded it: refused.
#[test]
fn a_file_in_the_state_is_not_attributed_to_our_person() {
    let (alpha, beta, v1, h1, _pid, local) = setup();
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.state.version = 2;
    v2.change = Change::Updated {
        fields: vec![FieldChange { field: "title".into(), from: v1.state.title.clone(), to: "x".into() }],
    };
    v2.state.title = "x".into();
    v2.state.files.push(FileMeta {
        id: 5,
        name: "confession.pdf".into(),
        content_type: "application/pdf".into(),
        size: 10,
        sha256: "00".repeat(32),
        uploaded_by: "jan@beta.test".into(),
        uploaded_at: v1.at,
    });
    let (i2, _) = forge(&alpha.signing, &v2, h1);
    let out = beta.portal.apply_batch("alpha.test", vec![i2], &[alpha.key], &|_| None).unwrap();
    assert!(
        matches!(&out[0], Outcome::Rejected { reason, .. } if reason.contains("uploader of file 5")),
        "{out:?}"
    );
    assert!(beta.portal.tables.tasks.get(&local).unwrap().unwrap().files.is_empty());
}

/// A third portal's event (its own person acting) cites jan's pending proposal
/// to alpha, and so does an event of alpha's own person: both apply (they speak
/// for their own people) and the proposal stays pending.
#[test]
fn another_home_cannot_settle_our_proposal() {
    let (alpha, beta, v1, h1, pid, _local) = setup();
    let mut own = v1.clone();
    (own.version, own.state.version) = (2, 2);
    own.change = Change::Status { from: TaskStatus::New, to: TaskStatus::InProgress };
    own.state.status = TaskStatus::InProgress;
    own.proposal = Some(format!("beta.test:{pid}"));
    let (item, _) = forge(&alpha.signing, &own, h1);
    let out = beta.portal.apply_batch("alpha.test", vec![item], &[alpha.key], &|_| None).unwrap();
    assert_eq!(out, [Outcome::Applied { version: 2 }]);
    assert_eq!(beta.portal.proposal(pid).unwrap().unwrap().state, ProposalState::Pending);
    let gamma = node("gamma.test");
    let mut b = v1.clone();
    b.home = "gamma.test".into();
    (b.task, b.version, b.state.id, b.state.version) = (77, 1, 77, 1);
    b.state.creator = "boss@gamma.test".into();
    b.actor = "boss@gamma.test".into();
    b.change = Change::Created { title: b.state.title.clone(), responsible: b.state.responsible.clone() };
    b.proposal = Some(format!("beta.test:{pid}"));
    let (item, g1) = forge(&gamma.signing, &b, [0; 32]);
    let out = beta.portal.apply_batch("gamma.test", vec![item], &[gamma.key], &|_| None).unwrap();
    assert_eq!(out, [Outcome::Applied { version: 1 }]);
    assert_eq!(beta.portal.proposal(pid).unwrap().unwrap().state, ProposalState::Pending);
    // gamma then does exactly what jan asked of alpha, in jan's name: refused.
    let mut c = b.clone();
    (c.version, c.state.version, c.state.comment_count) = (2, 2, 1);
    c.actor = "jan@beta.test".into();
    c.change = Change::Comment { comment_id: 1 };
    c.comment = Some(portalnet_core::task::Comment {
        id: 1,
        task_id: 77,
        author: "jan@beta.test".into(),
        text: "ok".into(),
        created_at: v1.at,
    });
    let (item, _) = forge(&gamma.signing, &c, g1);
    let out = beta.portal.apply_batch("gamma.test", vec![item], &[gamma.key], &|_| None).unwrap();
    assert!(matches!(out[0], Outcome::Rejected { .. }), "{out:?}");
    assert_eq!(beta.portal.proposal(pid).unwrap().unwrap().state, ProposalState::Pending);
}

/// The portal acme.test, with a person of its own in the task, proposes a change
/// as the e-mail participant `mailto:joe@acme.test`: refused, nothing written.
#[test]
fn no_portal_speaks_for_an_email_participant() {
    let alpha = node("alpha.test");
    let acme = node("acme.test");
    let task = alpha
        .portal
        .create_task(
            &admin(),
            portalnet_core::task::NewTask {
                title: "Mail task".into(),
                description: String::new(),
                responsible: Some("mailto:joe@acme.test".into()),
                accomplices: vec![],
                observers: vec!["ann@acme.test".into()],
                deadline: None,
                group: None,
            },
        )
        .unwrap();
    let item = item_in(pb::DeliverItem {
        kind: Some(pb::deliver_item::Kind::Proposal(pb::Proposal {
            id: "p1".into(),
            task: task.id,
            actor: "mailto:joe@acme.test".into(),
            op: Some(pb::proposal::Op::Status(pb::ProposeStatus { status: "in_progress".into() })),
        })),
        ..Default::default()
    });
    let out = alpha.portal.apply_batch("acme.test", vec![item], &[acme.key], &|_| None).unwrap();
    assert!(matches!(out[0], Outcome::Rejected { .. }), "{out:?}");
    assert!(alpha.portal.tables.history.get(&(task.id, 2)).unwrap().is_none());
}

/// A portal with no part in any task here sends proposals (with files) for tasks
/// that do not exist and for one it has no part in: refused alike, and nothing
/// stays on disk — no outcome rows, no blobs.
#[test]
fn a_strangers_proposals_leave_nothing_and_tell_nothing() {
    let alpha = node("alpha.test");
    let secret = alpha.portal.create_task(&admin(), common::task_for_jan_at_beta("Secret merger")).unwrap();
    let outcomes = alpha.portal.tables.proposal_outcomes.len();
    let blobs = alpha.portal.tables.blobs.stored().unwrap().len();
    let probe = |i: u64, task: u64| {
        InItem::Proposal(InProposal {
            id: format!("probe-{i}"),
            task,
            actor: "x@evil.test".into(),
            op: InOp::File {
                name: "a.bin".into(),
                content_type: String::new(),
                content: vec![i as u8; 64 * 1024],
            },
        })
    };
    let items = (0..20).map(|i| probe(i, if i == 0 { secret.id } else { 1_000 + i })).collect();
    let out = alpha.portal.apply_batch("evil.test", items, &[], &|_| None).unwrap();
    let kinds: Vec<_> = out
        .iter()
        .map(|o| match o {
            Outcome::Rejected { kind, .. } => *kind,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(kinds.iter().all(|k| *k == kinds[0]), "an existing task is told from missing ones: {out:?}");
    assert_eq!(alpha.portal.tables.proposal_outcomes.len(), outcomes);
    assert_eq!(alpha.portal.tables.blobs.stored().unwrap().len(), blobs);
}

/// Versions are the peer's numbers: u64::MAX followed by another event of the
/// same task must not overflow (it panicked in debug builds).
#[test]
fn gaps_take_any_version() {
    let beta = node("beta.test");
    let ev = |version| {
        InItem::Event(InEvent {
            home: "alpha.test".into(),
            task: 9,
            version,
            body: Vec::new(),
            prev_hash: [0; 32],
            hash: [0; 32],
            signature: Vec::new(),
            file_content: Vec::new(),
            catch_up: false,
        })
    };
    let gaps = beta.portal.gaps("alpha.test", &[ev(u64::MAX), ev(5)]).unwrap();
    assert_eq!(gaps.len(), 1);
    assert_eq!((gaps[0].from, gaps[0].to), (1, u64::MAX - 1));
}

/// A signed event whose body is JSON with invalid UTF-8 inside a field the reader
/// skips is refused alone; the rest of its batch applies.
#[test]
fn an_event_body_that_is_not_utf8_is_refused_alone() {
    let (alpha, beta, v1, h1, _pid, _local) = setup();
    let mut v2 = v1.clone();
    v2.version = 2;
    v2.state.version = 2;
    v2.change = Change::Status { from: TaskStatus::New, to: TaskStatus::InProgress };
    v2.state.status = TaskStatus::InProgress;
    let mut bytes = v2.to_bytes();
    assert_eq!(bytes.pop(), Some(b'}'));
    bytes.extend_from_slice(b",\"x-unknown\":\"\xff\"}");
    assert!(EventBody::from_bytes(&bytes).is_ok(), "the reader skips the unknown field");
    let (bad, _) = forge_bytes(&alpha.signing, &v2, bytes, h1);
    let (good, _) = forge(&alpha.signing, &v2, h1);
    let out = beta.portal.apply_batch("alpha.test", vec![bad, good], &[alpha.key], &|_| None).unwrap();
    assert!(matches!(&out[0], Outcome::Rejected { reason, .. } if reason.contains("not UTF-8")), "{out:?}");
    assert_eq!(out[1], Outcome::Applied { version: 2 });
}
