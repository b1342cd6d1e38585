//! Property test of the replica side of R17 on real storage: whatever batches a
//! replica receives — any subsets of the home's events, repeated, reordered,
//! interleaved — it ends with exactly the home's history (same events, same head
//! hash), filling gaps from the home as the Replication service does.

use ed25519_dalek::VerifyingKey;
use portalnet_core::permissions::Actor;
use portalnet_core::task::TaskStatus;
use portalnet_core::user::UserKind;
use portalnet_node::replication::wire::{event_in, event_out};
use portalnet_portal::replica::with_fetched;
use portalnet_portal::{InItem, Outcome, Portal, StatusSet};
use proptest::prelude::*;

use super::common;

struct Node {
    portal: Portal,
    key: VerifyingKey,
    _tmp: tempfile::TempDir,
}

fn node(id: &str) -> Node {
    let (portal, key, tmp) = common::networked_portal(id);
    Node { portal, key, _tmp: tmp }
}

fn admin() -> Actor {
    Actor { login: "admin".into(), admin: true, kind: UserKind::Employee }
}

/// The home's events of task `id`, as they travel.
fn events(home: &Portal, id: u64) -> Vec<InItem> {
    home.tables
        .events
        .scan_raw(&id.to_be_bytes())
        .map(|kv| InItem::Event(event_in(event_out(&kv.unwrap().1, Vec::new(), false)).unwrap()))
        .collect()
}

/// What the Replication service does with one batch, with the home's storage as
/// the place gaps are fetched from.
fn deliver(home: &Node, replica: &Portal, all: &[InItem], batch: Vec<InItem>) -> Vec<Outcome> {
    let gaps = replica.gaps("alpha.test", &batch).unwrap();
    let fetched: Vec<InItem> = gaps
        .iter()
        .flat_map(|g| {
            all.iter().filter(move |i| matches!(i, InItem::Event(e) if e.task == g.task && (g.from..=g.to).contains(&e.version)))
        })
        .cloned()
        .collect();
    let items = with_fetched(batch.into_iter().enumerate().map(|(i, it)| (Some(i), it)).collect(), fetched);
    let list = items.into_iter().map(|(_, i)| i).collect();
    replica.apply_batch("alpha.test", list, &[home.key], &|_| None).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_delivery_converges_to_the_home(
        changes in 1usize..25,
        batches in proptest::collection::vec(proptest::collection::vec(any::<prop::sample::Index>(), 0..12), 1..8),
        last_batch in any::<prop::sample::Index>(),
    ) {
        let home = node("alpha.test");
        let replica = node("beta.test");
        // The receiver names only its own active employees (issue 11): jan is one.
        let jan = portalnet_core::user::NewUser::new("jan", "Jan Kowalski", "jan@beta.test", "", false).unwrap();
        replica.portal.add_user(&admin(), jan).unwrap();
        let task = home.portal.create_task(&admin(), common::task_for_jan_at_beta("Replicated")).unwrap();
        for i in 0..changes {
            if i % 3 == 2 {
                let to = if i % 2 == 0 { TaskStatus::InProgress } else { TaskStatus::Deferred };
                let StatusSet::Done(_) = home.portal.set_status(&admin(), task.id, to).unwrap_or_else(|_| {
                    home.portal.set_status(&admin(), task.id, TaskStatus::New).unwrap()
                }) else { panic!("homed here") };
            } else {
                home.portal.add_comment(&admin(), task.id, &format!("c{i}")).unwrap();
            }
        }
        let all = events(&home.portal, task.id);
        let n = all.len();
        // Arbitrary batches (subsets, repeats, any order); the newest event is in
        // one of them, so the replica must end at the head.
        let mut plan: Vec<Vec<usize>> =
            batches.iter().map(|b| b.iter().map(|ix| ix.index(n)).collect()).collect();
        let k = last_batch.index(plan.len());
        plan[k].push(n - 1);
        for b in plan {
            let batch: Vec<InItem> = b.iter().map(|&i| all[i].clone()).collect();
            for o in deliver(&home, &replica.portal, &all, batch) {
                prop_assert!(!matches!(o, Outcome::Rejected { .. }), "a genuine event was refused: {o:?}");
            }
        }
        let local = replica.portal.tables.replicas.get(&format!("alpha.test#{}", task.id)).unwrap().unwrap();
        let hashes = |p: &Portal, id: u64| p.event_hashes(id).unwrap();
        prop_assert_eq!(hashes(&replica.portal, local), hashes(&home.portal, task.id));
        let r = replica.portal.verify_history(&admin(), local, &[home.key]).unwrap();
        prop_assert!(r.ok, "{:?}", r.problems);
        let h = home.portal.verify_history(&admin(), task.id, &[home.key]).unwrap();
        prop_assert_eq!(r.head_hash, h.head_hash);
        let (ht, rt) = (home.portal.tables.tasks.get(&task.id).unwrap().unwrap(), replica.portal.tables.tasks.get(&local).unwrap().unwrap());
        prop_assert_eq!((ht.version, ht.status, ht.comment_count), (rt.version, rt.status, rt.comment_count));
        // The replica's writes went through the same index upkeep as the home's.
        for p in [&home.portal, &replica.portal] {
            prop_assert_eq!(p.tables.index_mismatches().unwrap(), Vec::<String>::new());
        }
    }
}
