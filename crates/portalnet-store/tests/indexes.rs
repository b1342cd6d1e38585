//! The indexes kept beside a portal's tables: after any sequence of writes through
//! `Tables::put_*` they equal a rebuild from the rows; a rebuild of an index-less
//! folder is idempotent, and an interrupted one is redone from scratch at the next open.

use portalnet_core::group::{Group, GroupRole};
use portalnet_core::invitation::{Invitation, InvitationState};
use portalnet_core::task::{Task, TaskStatus};
use portalnet_core::time::Timestamp;
use portalnet_core::user::{User, UserKind, UserState};
use portalnet_store::Db;
use portalnet_store::index::{Indexes, str_prefix};
use portalnet_store::schema::Tables;
use proptest::prelude::*;

const PEOPLE: [&str; 6] = ["ann", "bob", "cy", "bob@beta.test", "mailto:joe@example.com", "dee"];

#[derive(Debug, Clone)]
enum Op {
    Task {
        id: u64,
        creator: usize,
        responsible: usize,
        others: Vec<usize>,
        status: usize,
        group: Option<u64>,
        deadline: Option<i64>,
    },
    User {
        login: usize,
        email: usize,
        extranet: bool,
        active: bool,
    },
    Invitation {
        id: u64,
        email: usize,
    },
    Group {
        id: u64,
        members: Vec<usize>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (
            1..12u64,
            0..6usize,
            0..6usize,
            proptest::collection::vec(0..6usize, 0..3),
            0..5usize,
            proptest::option::of(1..4u64),
            proptest::option::of(-5..5i64)
        )
            .prop_map(|(id, creator, responsible, others, status, group, deadline)| Op::Task {
                id,
                creator,
                responsible,
                others,
                status,
                group,
                deadline
            }),
        (0..4usize, 0..5usize, any::<bool>(), any::<bool>())
            .prop_map(|(login, email, extranet, active)| Op::User { login, email, extranet, active }),
        (1..6u64, 0..5usize).prop_map(|(id, email)| Op::Invitation { id, email }),
        (1..4u64, proptest::collection::vec(0..4usize, 1..4))
            .prop_map(|(id, members)| Op::Group { id, members }),
    ]
}

fn task(
    id: u64,
    creator: &str,
    responsible: &str,
    others: Vec<String>,
    status: TaskStatus,
    group: Option<u64>,
    deadline: Option<i64>,
) -> Task {
    Task {
        id,
        home: None,
        title: format!("t{id}"),
        description: String::new(),
        creator: creator.into(),
        responsible: responsible.into(),
        accomplices: others,
        observers: vec![],
        status,
        deadline: deadline.map(Timestamp),
        group,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
        version: 1,
        files: vec![],
        comment_count: 0,
    }
}

fn apply(t: &Tables, op: &Op) {
    let emails = ["a@x.test", "B@x.test", "b@X.test", "c@x.test", "d@x.test"];
    t.db.write(|tx| match op {
        Op::Task { id, creator, responsible, others, status, group, deadline } => {
            let others = others.iter().map(|i| PEOPLE[*i].to_string()).collect();
            let task = task(
                *id,
                PEOPLE[*creator],
                PEOPLE[*responsible],
                others,
                TaskStatus::ALL[*status],
                *group,
                deadline.map(|d| d * 1000),
            );
            t.put_task(tx, &task)
        }
        // Addresses are unique on a portal (the portal refuses a taken one).
        Op::User { login, email, .. }
            if t.tx_user_by_email(tx, emails[*email])?.is_some_and(|owner| owner != PEOPLE[*login]) =>
        {
            Ok(())
        }
        Op::User { login, email, extranet, active } => t.put_user(
            tx,
            &User {
                login: PEOPLE[*login].to_string(),
                display_name: "X".into(),
                email: emails[*email].into(),
                position: String::new(),
                kind: if *extranet { UserKind::Extranet } else { UserKind::Employee },
                state: if *active { UserState::Active } else { UserState::Dismissed },
                admin: false,
                created_at: Timestamp(0),
                language: None,
            },
        ),
        Op::Invitation { id, email } => t.put_invitation(
            tx,
            &Invitation {
                id: *id,
                email: emails[*email].into(),
                group: 1,
                inviter: "ann".into(),
                token_hash: String::new(),
                state: InvitationState::Pending,
                created_at: Timestamp(0),
                expires_at: Timestamp(1),
                admits_to_group: true,
                accepted_login: None,
                language: None,
            },
        ),
        Op::Group { id, members } => t.put_group(
            tx,
            &Group {
                id: *id,
                name: format!("g{id}"),
                description: String::new(),
                members: members
                    .iter()
                    .enumerate()
                    .map(|(i, m)| {
                        (PEOPLE[*m].to_string(), if i == 0 { GroupRole::Owner } else { GroupRole::Member })
                    })
                    .collect(),
                settings: Default::default(),
                created_at: Timestamp(0),
            },
        ),
    })
    .unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Every index equals a rebuild from the tables after any writes, and reading
    /// a participant's tasks through the index finds exactly the tasks they take part in.
    #[test]
    fn indexes_equal_a_rebuild_after_any_writes(ops in proptest::collection::vec(op(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let t = Tables::open(&db).unwrap();
        for op in &ops {
            apply(&t, op);
        }
        prop_assert_eq!(t.index_mismatches().unwrap(), Vec::<String>::new());
        for p in PEOPLE {
            let via_index: Vec<u64> = Indexes::ids_under(&t.idx.task_participant, &str_prefix(p), None).map(Result::unwrap).collect();
            let scanned: Vec<u64> = t.tasks.iter().map(Result::unwrap).filter(|(_, task)| task.participants().contains(&p)).map(|(id, _)| id).collect();
            prop_assert_eq!(via_index, scanned);
        }
        let all = t.idx.totals("all").unwrap();
        prop_assert_eq!(all.total as usize, t.tasks.iter().count());
        // A rebuild over the same rows changes nothing (idempotent).
        t.rebuild_indexes().unwrap();
        prop_assert_eq!(t.index_mismatches().unwrap(), Vec::<String>::new());
    }
}

#[test]
fn an_interrupted_rebuild_is_redone_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path()).unwrap();
        let t = Tables::open(&db).unwrap();
        apply(
            &t,
            &Op::Task {
                id: 1,
                creator: 0,
                responsible: 1,
                others: vec![2],
                status: 1,
                group: Some(1),
                deadline: Some(-1),
            },
        );
        apply(&t, &Op::User { login: 0, email: 0, extranet: true, active: true });
        // As if a rebuild had died half way: the version is gone and an index holds
        // a stale entry and lacks another.
        let meta = db.tree("meta").unwrap();
        db.write(|tx| {
            tx.remove(&meta, b"schema.version");
            tx.insert(&t.idx.task_participant, b"zed\0\0\0\0\0\0\0\0\x09", Vec::new());
            tx.remove(&t.idx.task_group, &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
            Ok::<(), portalnet_store::StoreError>(())
        })
        .unwrap();
        assert_eq!(t.index_mismatches().unwrap().len(), 2, "{:?}", t.index_mismatches());
        db.sync().unwrap();
    }
    let db = Db::open(dir.path()).unwrap();
    let t = Tables::open(&db).unwrap();
    assert_eq!(t.schema_version().unwrap(), portalnet_store::index::SCHEMA_VERSION);
    assert_eq!(t.index_mismatches().unwrap(), Vec::<String>::new());
}

/// The outbox depth per destination is kept with the entries, so `portal outbox`
/// and the metrics read two counters instead of the whole backlog; a rebuild
/// computes the same numbers.
#[test]
fn outbox_counters_follow_entries_and_equal_a_rebuild() {
    use portalnet_store::replication::{OutboxEntry, OutboxItem};
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path()).unwrap();
    let t = Tables::open(&db).unwrap();
    let entry = |item| OutboxEntry { item, enqueued_at: Timestamp(5), traceparent: None };
    db.write(|tx| {
        for seq in 1..=3 {
            t.put_outbox(
                tx,
                "beta.test",
                seq,
                &entry(OutboxItem::Event { task: 1, version: seq, catch_up: false }),
            )?;
        }
        t.put_outbox(tx, "beta.test", 4, &entry(OutboxItem::Proposal { id: 9 }))?;
        t.put_outbox(tx, "gamma.test", 5, &entry(OutboxItem::Proposal { id: 10 }))?;
        // Rewriting an entry does not count it twice.
        t.put_outbox(tx, "gamma.test", 5, &entry(OutboxItem::Proposal { id: 10 }))?;
        Ok::<_, portalnet_store::StoreError>(())
    })
    .unwrap();
    assert_eq!(t.outbox_depth("beta.test").unwrap(), (4, 1));
    assert_eq!(t.outbox_depth("gamma.test").unwrap(), (1, 1));
    assert_eq!(t.outbox_depth("delta.test").unwrap(), (0, 0));
    db.write(|tx| {
        t.remove_outbox(tx, "beta.test", 1)?;
        t.remove_outbox(tx, "beta.test", 4)?;
        // Removing what is not there changes nothing.
        t.remove_outbox(tx, "beta.test", 99)?;
        t.remove_outbox(tx, "gamma.test", 5)
    })
    .unwrap();
    assert_eq!(t.outbox_depth("beta.test").unwrap(), (2, 0));
    assert_eq!(t.outbox_depth("gamma.test").unwrap(), (0, 0));
    assert_eq!(t.index_mismatches().unwrap(), Vec::<String>::new());
    t.rebuild_indexes().unwrap();
    assert_eq!(t.outbox_depth("beta.test").unwrap(), (2, 0));
    assert_eq!(t.index_mismatches().unwrap(), Vec::<String>::new());
}
