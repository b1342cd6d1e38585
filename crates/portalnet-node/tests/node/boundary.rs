//! The node's boundary with other portals, mail and web links, fed arbitrary
//! input (issue 11, Found 4): Replication messages from any strings and bytes go
//! through `item_in` and `apply_batch`; tokens of every kind (API, invitation,
//! mail addresses, task links) go to their lookups. Nothing panics; every refusal
//! is a clean error or a per-item rejection with a bounded reason.

use portalnet_core::Clock;
use portalnet_core::permissions::Actor;
use portalnet_core::user::UserKind;
use portalnet_node::NodeError;
use portalnet_node::clock::SystemClock;
use portalnet_node::replication::wire::{event_in, item_in};
use portalnet_portal::{InItem, Outcome, Portal};
use portalnet_proto::v1 as pb;
use proptest::prelude::*;

use super::common;
use std::sync::{Arc, OnceLock};

/// Most bytes a reason or message may have when the input was huge.
const BOUNDED: usize = 1024;

struct Node {
    portal: Portal,
    task: u64,
    _tmp: tempfile::TempDir,
}

/// One home portal for the whole file (opening sled per case would be slow),
/// with a task that has a participant on beta.test, so beta's proposals reach
/// the proposal rules.
fn node() -> &'static Node {
    static NODE: OnceLock<Node> = OnceLock::new();
    NODE.get_or_init(|| {
        let clock = Arc::new(SystemClock);
        let (portal, _, tmp) = common::open_portal("alpha.test", clock.clone(), Default::default());
        portal
            .record_network(portalnet_core::settings::NetworkSetting {
                enabled: true,
                enabled_since: Some(portalnet_core::Timestamp(clock.now().0 - 1)),
            })
            .unwrap();
        let admin = Actor { login: "admin".into(), admin: true, kind: UserKind::Employee };
        let task = portal.create_task(&admin, common::task_for_jan_at_beta("Shared")).unwrap().id;
        Node { portal, task, _tmp: tmp }
    })
}

/// Text that trips byte-index parsing, or anything at all.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("@".to_string()),
        Just("mailto:".to_string()),
        Just("mailto".to_string()),
        Just("ł".to_string()),
        Just("Ж".to_string()),
        Just("😀".to_string()),
        Just("beta.test".to_string()),
        Just("jan".to_string()),
        Just("task+".to_string()),
        Just("reply+".to_string()),
        Just("pn_".to_string()),
        "[a-z2-7]{1,32}",
    ];
    prop_oneof![
        ".*",
        "\\PC*",
        proptest::collection::vec(piece, 0..10).prop_map(|v| v.concat()),
        ("\\PC{1,2}", 1..2000usize).prop_map(|(s, n)| s.repeat(n)),
    ]
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..80),
        proptest::collection::vec(any::<u8>(), 32..=32),
        proptest::collection::vec(any::<u8>(), 64..=64),
    ]
}

fn event() -> impl Strategy<Value = pb::Event> {
    (text(), any::<u64>(), 0u64..4, bytes(), bytes(), bytes(), bytes(), any::<bool>()).prop_map(
        |(home, task, version, body, prev_hash, hash, signature, catch_up)| pb::Event {
            home,
            task,
            version,
            body,
            prev_hash,
            hash,
            signature,
            file_content: Vec::new(),
            catch_up,
        },
    )
}

fn proposal(task: u64) -> impl Strategy<Value = pb::Proposal> {
    use pb::proposal::Op;
    let op = prop_oneof![
        Just(None::<Op>),
        text().prop_map(|status| Some(Op::Status(pb::ProposeStatus { status }))),
        prop_oneof![Just("in_progress".to_string()), Just("deferred".to_string())]
            .prop_map(|status| Some(Op::Status(pb::ProposeStatus { status }))),
        text().prop_map(|text| Some(Op::Comment(pb::ProposeComment { text }))),
        (text(), text(), bytes()).prop_map(|(name, content_type, content)| {
            Some(Op::File(pb::ProposeFile { name, content_type, content }))
        }),
    ];
    let actor =
        prop_oneof![text(), Just("jan@beta.test".to_string()), text().prop_map(|l| format!("{l}@beta.test"))];
    let task = prop_oneof![Just(task), any::<u64>()];
    (text(), task, actor, op).prop_map(|(id, task, actor, op)| pb::Proposal { id, task, actor, op })
}

fn item(task: u64) -> impl Strategy<Value = pb::DeliverItem> {
    use pb::deliver_item::Kind;
    prop_oneof![
        Just(pb::DeliverItem { kind: None, ..Default::default() }),
        event().prop_map(|e| pb::DeliverItem { kind: Some(Kind::Event(e)), ..Default::default() }),
        proposal(task).prop_map(|p| pb::DeliverItem { kind: Some(Kind::Proposal(p)), ..Default::default() }),
    ]
}

fn bounded_error(e: &NodeError) -> Result<(), TestCaseError> {
    prop_assert!(matches!(e, NodeError::Domain(_) | NodeError::Unauthenticated(_)), "{e:?}");
    prop_assert!(e.to_string().len() < BOUNDED, "{} bytes", e.to_string().len());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any batch a peer may send: converted item by item, then applied by the
    /// home; every item gets an outcome, and a refusal's reason is bounded.
    #[test]
    fn replication_items_never_panic(items in proptest::collection::vec(item(node().task), 0..6)) {
        let n = node();
        let converted: Vec<InItem> = items.into_iter().map(item_in).collect();
        for it in &converted {
            if let InItem::Malformed(reason) = it {
                prop_assert!(reason.len() < BOUNDED, "{} bytes", reason.len());
            }
        }
        let count = converted.len();
        match n.portal.apply_batch("beta.test", converted, &[], &|_| None) {
            Ok(outcomes) => {
                prop_assert_eq!(outcomes.len(), count);
                for o in outcomes {
                    if let Outcome::Rejected { reason, .. } = o {
                        prop_assert!(reason.len() < BOUNDED, "{} bytes: {}", reason.len(), reason);
                    }
                }
            }
            Err(e) => bounded_error(&e)?,
        }
    }

    /// Any bytes as a DeliverBatch: prost refuses or the items are converted.
    #[test]
    fn replication_payload_bytes(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(batch) = <pb::DeliverBatch as prost::Message>::decode(raw.as_slice()) {
            for it in batch.items {
                let _ = item_in(it);
            }
        }
        if let Ok(e) = <pb::Event as prost::Message>::decode(raw.as_slice()) {
            let _ = event_in(e);
        }
    }

    /// Tokens of every kind, and mail recipients, from anyone.
    #[test]
    fn tokens_never_panic(t in text(), name in text(), login in text()) {
        let p = &node().portal;
        for r in [
            p.authenticate(Some(&t)).map(drop),
            p.invitation_by_token(&t).map(drop),
            p.accept_invitation(&t, &name, &login).map(drop),
            p.link_access(&t).map(drop),
            p.mail_target(&t).map(drop),
            p.mail_target(&format!("task+{t}@alpha.test")).map(drop),
            p.mail_target(&format!("reply+{t}@alpha.test")).map(drop),
        ] {
            // Nothing here exists, so everything is refused.
            let e = r.unwrap_err();
            bounded_error(&e)?;
        }
    }
}

/// Found 4 over Replication: a proposal whose actor is `łłłł` or `mailtoł` is
/// refused alone, with a reason that says what is wrong.
#[test]
fn multi_byte_actors_are_refused_per_item() {
    let n = node();
    for actor in ["łłłł", "mailtoł", "łłłł@beta.test"] {
        let item = pb::DeliverItem {
            kind: Some(pb::deliver_item::Kind::Proposal(pb::Proposal {
                id: "p1".into(),
                task: n.task,
                actor: actor.into(),
                op: Some(pb::proposal::Op::Comment(pb::ProposeComment { text: "hi".into() })),
            })),
            ..Default::default()
        };
        let InItem::Malformed(reason) = item_in(item) else { panic!("{actor} accepted") };
        assert!(reason.contains("actor `") && reason.contains("not a valid"), "{reason}");
        let out = n.portal.apply_batch("beta.test", vec![InItem::Malformed(reason)], &[], &|_| None).unwrap();
        assert!(matches!(&out[0], Outcome::Rejected { kind: portalnet_portal::RefusalKind::Malformed, .. }));
    }
}
