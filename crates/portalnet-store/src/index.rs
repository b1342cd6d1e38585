//! Secondary indexes of a portal's tables and the counters kept beside them: tasks
//! by participant, group, status and open deadline, report totals, users by e-mail,
//! invitations by e-mail, groups by member, proposals by task, the user counters. Every write of
//! a task, user, invitation or group goes through one `put_*` function here, which
//! replaces the old row's entries with the new row's in the same write, so an index
//! cannot go stale; [`Tables::rebuild_indexes`] builds them from the rows (the
//! migration of a data folder written before they existed) and
//! [`Tables::index_mismatches`] compares them with such a rebuild (tests).

use crate::codec::{decode, encode};
use crate::db::{Db, Tree, WriteTx};
use crate::error::StoreError;
use crate::replication::ProposalRecord;
use crate::schema::Tables;
use portalnet_core::group::Group;
use portalnet_core::invitation::Invitation;
use portalnet_core::task::{Task, TaskStatus};
use portalnet_core::user::{User, UserKind};
use portalnet_core::validate::email_key;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The format of the indexes: a data folder whose `meta` says less is rebuilt at open.
/// 3: invitations by group and by inviter; outbox depth per destination.
pub const SCHEMA_VERSION: u64 = 3;
const SCHEMA_KEY: &[u8] = b"schema.version";

/// The index trees (raw keys; values are empty unless said).
#[derive(Clone)]
pub struct Indexes {
    /// participant string, 0, task id (BE).
    pub task_participant: Tree,
    /// group id (BE), task id (BE).
    pub task_group: Tree,
    /// status byte, task id (BE).
    pub task_status: Tree,
    /// deadline (sortable BE), task id (BE) → [`OpenDeadline`]: tasks not completed
    /// with a deadline, so overdue counts read only tasks past their deadline.
    pub task_deadline: Tree,
    /// `responsible\0<login>`, `status\0<name>`, `group\0<id or empty>`, `all` →
    /// [`TaskCounts`] (JSON record).
    pub task_totals: Tree,
    /// e-mail key → login.
    pub user_email: Tree,
    /// login of every extranet user.
    pub user_extranet: Tree,
    /// e-mail key, 0, invitation id (BE).
    pub invitation_email: Tree,
    /// login, 0, group id (BE).
    pub group_member: Tree,
    /// `users.all`, `users.active`, `users.active_extranet`, and per destination
    /// `outbox.depth\0<portal>`, `outbox.proposals\0<portal>` → count (u64 BE).
    pub index_counters: Tree,
    /// local task id (BE), proposal id (BE): the proposals made on a replica.
    pub proposal_task: Tree,
    /// group id (BE), invitation id (BE).
    pub invitation_group: Tree,
    /// inviter's login, 0, invitation id (BE).
    pub invitation_inviter: Tree,
}

const TREES: [&str; 13] = [
    "idx_task_participant",
    "idx_task_group",
    "idx_task_status",
    "idx_task_deadline",
    "idx_task_totals",
    "idx_user_email",
    "idx_user_extranet",
    "idx_invitation_email",
    "idx_group_member",
    "idx_counters",
    "idx_proposal_task",
    "idx_invitation_group",
    "idx_invitation_inviter",
];

const ACTIVE_USERS: &[u8] = b"users.active";
const ACTIVE_EXTRANET: &[u8] = b"users.active_extranet";
const ALL_USERS: &[u8] = b"users.all";
const OUTBOX_COUNTERS: &str = "outbox.";

/// The counter keys of a destination's outbox: (entries, proposals among them).
fn outbox_keys(dest: &str) -> (Vec<u8>, Vec<u8>) {
    (format!("outbox.depth\0{dest}").into_bytes(), format!("outbox.proposals\0{dest}").into_bytes())
}

/// What one outbox entry adds to its destination's counters.
fn outbox_counts(e: &crate::replication::OutboxEntry) -> (i64, i64) {
    (1, i64::from(matches!(e.item, crate::replication::OutboxItem::Proposal { .. })))
}

/// What one user adds to the user counters: (all, active, active extranet).
fn user_counts(u: &User) -> [(&'static [u8], i64); 3] {
    [
        (ALL_USERS, 1),
        (ACTIVE_USERS, i64::from(u.is_active())),
        (ACTIVE_EXTRANET, i64::from(u.is_active() && u.kind == UserKind::Extranet)),
    ]
}

/// The user counters as stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserCounts {
    pub all: u64,
    pub active: u64,
    pub active_extranet: u64,
}

/// Counts of tasks per status, for one report row (overdue is counted at report time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCounts {
    pub total: i64,
    pub new: i64,
    pub in_progress: i64,
    pub awaiting_control: i64,
    pub completed: i64,
    pub deferred: i64,
    /// Tasks with an e-mail participant.
    pub with_email: i64,
}

impl crate::codec::Record for TaskCounts {
    const NAME: &'static str = "task totals";
    const VERSION: u16 = 1;
}

impl TaskCounts {
    fn add(&mut self, t: &Task, sign: i64) {
        self.total += sign;
        *match t.status {
            TaskStatus::New => &mut self.new,
            TaskStatus::InProgress => &mut self.in_progress,
            TaskStatus::AwaitingControl => &mut self.awaiting_control,
            TaskStatus::Completed => &mut self.completed,
            TaskStatus::Deferred => &mut self.deferred,
        } += sign;
        if t.participants().iter().any(|p| portalnet_core::address::is_email(p)) {
            self.with_email += sign;
        }
    }

    fn is_zero(&self) -> bool {
        *self == TaskCounts::default()
    }
}

/// What an overdue count needs of an open task with a deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenDeadline {
    pub responsible: String,
    pub group: Option<u64>,
    pub status: TaskStatus,
}

impl crate::codec::Record for OpenDeadline {
    const NAME: &'static str = "open deadline";
    const VERSION: u16 = 1;
}

pub fn status_byte(s: TaskStatus) -> u8 {
    match s {
        TaskStatus::New => 1,
        TaskStatus::InProgress => 2,
        TaskStatus::AwaitingControl => 3,
        TaskStatus::Completed => 4,
        TaskStatus::Deferred => 5,
    }
}

/// A deadline's key bytes: sorts like the signed number.
pub fn deadline_bytes(ms: i64) -> [u8; 8] {
    ((ms as u64) ^ (1 << 63)).to_be_bytes()
}

/// The prefix of a string-keyed index entry: the string and a 0 byte.
pub fn str_prefix(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

fn str_id(s: &str, id: u64) -> Vec<u8> {
    let mut v = str_prefix(s);
    v.extend_from_slice(&id.to_be_bytes());
    v
}

fn two_ids(a: u64, b: u64) -> Vec<u8> {
    let mut v = a.to_be_bytes().to_vec();
    v.extend_from_slice(&b.to_be_bytes());
    v
}

/// The id at the end of an index key (its last 8 bytes).
pub fn trailing_id(key: &[u8]) -> Option<u64> {
    let start = key.len().checked_sub(8)?;
    Some(u64::from_be_bytes(key.get(start..)?.try_into().ok()?))
}

/// The keys of a report row a task counts in (besides `all`).
pub fn totals_keys(t: &Task) -> [String; 4] {
    [
        format!("responsible\0{}", t.responsible),
        format!("status\0{}", t.status.name()),
        format!("group\0{}", t.group.map(|g| g.to_string()).unwrap_or_default()),
        "all".to_string(),
    ]
}

type Entries = Vec<(usize, Vec<u8>, Vec<u8>)>;

impl Indexes {
    pub fn open(db: &Db) -> Result<Self, StoreError> {
        Ok(Self {
            task_participant: db.tree(TREES[0])?,
            task_group: db.tree(TREES[1])?,
            task_status: db.tree(TREES[2])?,
            task_deadline: db.tree(TREES[3])?,
            task_totals: db.tree(TREES[4])?,
            user_email: db.tree(TREES[5])?,
            user_extranet: db.tree(TREES[6])?,
            invitation_email: db.tree(TREES[7])?,
            group_member: db.tree(TREES[8])?,
            index_counters: db.tree(TREES[9])?,
            proposal_task: db.tree(TREES[10])?,
            invitation_group: db.tree(TREES[11])?,
            invitation_inviter: db.tree(TREES[12])?,
        })
    }

    fn by_slot(&self, slot: usize) -> &Tree {
        match slot {
            0 => &self.task_participant,
            1 => &self.task_group,
            2 => &self.task_status,
            3 => &self.task_deadline,
            5 => &self.user_email,
            6 => &self.user_extranet,
            7 => &self.invitation_email,
            10 => &self.proposal_task,
            11 => &self.invitation_group,
            12 => &self.invitation_inviter,
            _ => &self.group_member,
        }
    }

    /// Every index entry of a task (the one description of them).
    fn task_entries(t: &Task) -> Result<Entries, StoreError> {
        let mut out: Entries = Vec::new();
        for p in t.participants() {
            out.push((0, str_id(p, t.id), Vec::new()));
        }
        if let Some(g) = t.group {
            out.push((1, two_ids(g, t.id), Vec::new()));
        }
        let mut s = vec![status_byte(t.status)];
        s.extend_from_slice(&t.id.to_be_bytes());
        out.push((2, s, Vec::new()));
        if let Some(d) = t.deadline
            && t.status != TaskStatus::Completed
        {
            let mut k = deadline_bytes(d.0).to_vec();
            k.extend_from_slice(&t.id.to_be_bytes());
            let v = OpenDeadline { responsible: t.responsible.clone(), group: t.group, status: t.status };
            out.push((3, k, encode(&v)?));
        }
        Ok(out)
    }

    fn user_entries(u: &User) -> Entries {
        let mut out: Entries = vec![(5, email_key(&u.email).into_bytes(), u.login.as_bytes().to_vec())];
        if u.kind == UserKind::Extranet {
            out.push((6, u.login.as_bytes().to_vec(), Vec::new()));
        }
        out
    }

    fn invitation_entries(i: &Invitation) -> Entries {
        vec![
            (7, str_id(&email_key(&i.email), i.id), Vec::new()),
            (11, two_ids(i.group, i.id), Vec::new()),
            (12, str_id(&i.inviter, i.id), Vec::new()),
        ]
    }

    fn proposal_entries(p: &ProposalRecord) -> Entries {
        vec![(10, two_ids(p.task, p.id), Vec::new())]
    }

    fn group_entries(g: &Group) -> Entries {
        g.members.keys().map(|m| (8, str_id(m, g.id), Vec::new())).collect()
    }

    /// Replaces `old`'s entries by `new`'s (entries both have stay untouched).
    fn swap(&self, tx: &mut WriteTx<'_>, old: Entries, new: Entries) {
        for e in &old {
            if !new.iter().any(|n| n.0 == e.0 && n.1 == e.1) {
                tx.remove(self.by_slot(e.0), &e.1);
            }
        }
        for e in new {
            if !old.contains(&e) {
                tx.insert(self.by_slot(e.0), &e.1, e.2);
            }
        }
    }

    fn add_totals(&self, tx: &mut WriteTx<'_>, t: &Task, sign: i64) -> Result<(), StoreError> {
        for key in totals_keys(t) {
            let mut c: TaskCounts = match tx.get(&self.task_totals, key.as_bytes())? {
                Some(b) => decode(&b)?,
                None => TaskCounts::default(),
            };
            c.add(t, sign);
            if c.is_zero() {
                tx.remove(&self.task_totals, key.as_bytes());
            } else {
                tx.insert(&self.task_totals, key.as_bytes(), encode(&c)?);
            }
        }
        Ok(())
    }

    fn bump(&self, tx: &mut WriteTx<'_>, key: &[u8], delta: i64) -> Result<(), StoreError> {
        if delta == 0 {
            return Ok(());
        }
        let cur = counter(tx.get(&self.index_counters, key)?);
        let next = (cur as i64 + delta).max(0) as u64;
        tx.insert(&self.index_counters, key, next.to_be_bytes().to_vec());
        Ok(())
    }

    /// The user counters (admin included), as of committed state.
    pub fn user_counts(&self) -> Result<UserCounts, StoreError> {
        Ok(UserCounts {
            all: counter(self.index_counters.get(ALL_USERS)?),
            active: counter(self.index_counters.get(ACTIVE_USERS)?),
            active_extranet: counter(self.index_counters.get(ACTIVE_EXTRANET)?),
        })
    }

    /// Active users as `tx` sees them.
    pub fn tx_active_users(&self, tx: &WriteTx<'_>) -> Result<u64, StoreError> {
        Ok(counter(tx.get(&self.index_counters, ACTIVE_USERS)?))
    }

    /// Report totals of one row key (see [`totals_keys`]).
    pub fn totals(&self, key: &str) -> Result<TaskCounts, StoreError> {
        self.task_totals.get(key.as_bytes())?.map(|b| decode(&b)).transpose().map(Option::unwrap_or_default)
    }

    /// Every report row under `prefix` (`responsible\0`, `status\0`, `group\0`).
    pub fn totals_under(&self, prefix: &str) -> Result<Vec<(String, TaskCounts)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.task_totals.scan_prefix(prefix.as_bytes()) {
            let (k, v) = kv?;
            let key = String::from_utf8_lossy(k.get(prefix.len()..).unwrap_or_default()).into_owned();
            out.push((key, decode(&v)?));
        }
        Ok(out)
    }

    /// Open tasks whose deadline is before `now_ms`.
    pub fn overdue(&self, now_ms: i64) -> impl Iterator<Item = Result<OpenDeadline, StoreError>> + '_ {
        let end = deadline_bytes(now_ms);
        self.task_deadline
            .scan_from(&[])
            .take_while(move |kv| kv.as_ref().map_or(true, |(k, _)| k.get(..8).is_some_and(|d| d < &end[..])))
            .map(|kv| decode(&kv?.1))
    }

    /// Ids under a raw prefix of an index whose keys end in an id (tasks,
    /// invitations), in id order, from `after` (exclusive) on.
    pub fn ids_under<'a>(
        tree: &'a Tree,
        prefix: &[u8],
        after: Option<u64>,
    ) -> impl Iterator<Item = Result<u64, StoreError>> + use<'a> {
        let mut from = prefix.to_vec();
        match after {
            Some(a) if a < u64::MAX => from.extend_from_slice(&(a + 1).to_be_bytes()),
            Some(_) => from.extend_from_slice(&[0xFF; 9]),
            None => {}
        }
        let prefix = prefix.to_vec();
        tree.scan_from(&from)
            .take_while(move |kv| kv.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix)))
            .map(|kv| {
                let (k, _) = kv?;
                trailing_id(&k).ok_or_else(|| StoreError::Corrupt {
                    what: "task index key".into(),
                    reason: format!("{} bytes", k.len()),
                })
            })
    }
}

fn counter(b: Option<Vec<u8>>) -> u64 {
    b.and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok()).map_or(0, u64::from_be_bytes)
}

impl Tables {
    /// Writes a task with its index entries and report totals: the only way a task
    /// is written (home changes, replicas, mail-made tasks).
    pub fn put_task(&self, tx: &mut WriteTx<'_>, task: &Task) -> Result<(), StoreError> {
        let old = self.tasks.tx_get(tx, &task.id)?;
        let old_entries = old.as_ref().map(Indexes::task_entries).transpose()?.unwrap_or_default();
        self.idx.swap(tx, old_entries, Indexes::task_entries(task)?);
        if let Some(o) = &old {
            self.idx.add_totals(tx, o, -1)?;
        }
        self.idx.add_totals(tx, task, 1)?;
        self.tasks.tx_put(tx, &task.id, task)
    }

    /// Writes a user with their e-mail index entry and the active-user count.
    pub fn put_user(&self, tx: &mut WriteTx<'_>, user: &User) -> Result<(), StoreError> {
        let old = self.users.tx_get(tx, &user.login)?;
        let old_entries = old.as_ref().map(Indexes::user_entries).unwrap_or_default();
        self.idx.swap(tx, old_entries, Indexes::user_entries(user));
        let before = old.as_ref().map(user_counts);
        for (i, (key, n)) in user_counts(user).into_iter().enumerate() {
            self.idx.bump(tx, key, n - before.map_or(0, |b| b[i].1))?;
        }
        self.users.tx_put(tx, &user.login, user)
    }

    pub fn put_invitation(&self, tx: &mut WriteTx<'_>, inv: &Invitation) -> Result<(), StoreError> {
        let old = self.invitations.tx_get(tx, &inv.id)?;
        let old_entries = old.as_ref().map(Indexes::invitation_entries).unwrap_or_default();
        self.idx.swap(tx, old_entries, Indexes::invitation_entries(inv));
        self.invitations.tx_put(tx, &inv.id, inv)
    }

    pub fn put_group(&self, tx: &mut WriteTx<'_>, group: &Group) -> Result<(), StoreError> {
        let old = self.groups.tx_get(tx, &group.id)?;
        let old_entries = old.as_ref().map(Indexes::group_entries).unwrap_or_default();
        self.idx.swap(tx, old_entries, Indexes::group_entries(group));
        self.groups.tx_put(tx, &group.id, group)
    }

    pub fn put_proposal(&self, tx: &mut WriteTx<'_>, p: &ProposalRecord) -> Result<(), StoreError> {
        let old = self.proposals.tx_get(tx, &p.id)?;
        let old_entries = old.as_ref().map(Indexes::proposal_entries).unwrap_or_default();
        self.idx.swap(tx, old_entries, Indexes::proposal_entries(p));
        self.proposals.tx_put(tx, &p.id, p)
    }

    /// Queues an outbox entry for `dest`, counted in its depth: the only way an
    /// entry is added.
    pub fn put_outbox(
        &self,
        tx: &mut WriteTx<'_>,
        dest: &str,
        seq: u64,
        entry: &crate::replication::OutboxEntry,
    ) -> Result<(), StoreError> {
        let key = (dest.to_string(), seq);
        let old = self.fed_outbox.tx_get(tx, &key)?;
        let (d_old, p_old) = old.as_ref().map_or((0, 0), outbox_counts);
        let (d, p) = outbox_counts(entry);
        let (depth, proposals) = outbox_keys(dest);
        self.idx.bump(tx, &depth, d - d_old)?;
        self.idx.bump(tx, &proposals, p - p_old)?;
        self.fed_outbox.tx_put(tx, &key, entry)
    }

    /// Removes an outbox entry (delivered or dropped) and uncounts it.
    pub fn remove_outbox(&self, tx: &mut WriteTx<'_>, dest: &str, seq: u64) -> Result<(), StoreError> {
        let key = (dest.to_string(), seq);
        let Some(old) = self.fed_outbox.tx_get(tx, &key)? else { return Ok(()) };
        let (d, p) = outbox_counts(&old);
        let (depth, proposals) = outbox_keys(dest);
        self.idx.bump(tx, &depth, -d)?;
        self.idx.bump(tx, &proposals, -p)?;
        self.fed_outbox.tx_remove(tx, &key);
        Ok(())
    }

    /// Entries and proposals queued for `dest`, from the counters (no scan).
    pub fn outbox_depth(&self, dest: &str) -> Result<(u64, u64), StoreError> {
        let (depth, proposals) = outbox_keys(dest);
        Ok((counter(self.idx.index_counters.get(&depth)?), counter(self.idx.index_counters.get(&proposals)?)))
    }

    /// The proposals made here on the local task `task`, by id.
    pub fn proposals_of(&self, task: u64) -> Result<Vec<ProposalRecord>, StoreError> {
        let mut out = Vec::new();
        for id in Indexes::ids_under(&self.idx.proposal_task, &task.to_be_bytes(), None) {
            if let Some(p) = self.proposals.get(&id?)? {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// The login whose address is `email` (compared case-insensitively), as `tx` sees it.
    pub fn tx_user_by_email(&self, tx: &WriteTx<'_>, email: &str) -> Result<Option<String>, StoreError> {
        Ok(tx
            .get(&self.idx.user_email, email_key(email).as_bytes())?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Invitations to `email` (case-insensitively), as `tx` sees them.
    pub fn tx_invitations_to(&self, tx: &WriteTx<'_>, email: &str) -> Result<Vec<Invitation>, StoreError> {
        let mut out = Vec::new();
        for (k, _) in tx.scan_prefix(&self.idx.invitation_email, &str_prefix(&email_key(email)))? {
            if let Some(id) = trailing_id(&k)
                && let Some(inv) = self.invitations.tx_get(tx, &id)?
            {
                out.push(inv);
            }
        }
        Ok(out)
    }

    /// Ids of the groups `login` belongs to.
    pub fn groups_of(&self, login: &str) -> Result<Vec<u64>, StoreError> {
        Indexes::ids_under(&self.idx.group_member, &str_prefix(login), None).collect()
    }

    /// Logins of extranet users.
    pub fn extranet_logins(&self) -> Result<Vec<String>, StoreError> {
        self.idx
            .user_extranet
            .scan_prefix(&[])
            .map(|kv| kv.map(|(k, _)| String::from_utf8_lossy(&k).into_owned()))
            .collect()
    }

    /// The schema version the data folder's indexes are at.
    pub fn schema_version(&self) -> Result<u64, StoreError> {
        let meta = self.db.tree("meta")?;
        Ok(counter(meta.get(SCHEMA_KEY)?))
    }

    /// Builds the indexes when the folder's schema version is older than this
    /// build's (a folder written by an earlier release). Idempotent and crash-safe:
    /// every index tree is emptied first, filled in bounded writes, and the version
    /// is written last, in the write that stores the totals; a crash before that
    /// means the next start rebuilds from scratch.
    pub fn migrate(&self) -> Result<bool, StoreError> {
        if self.schema_version()? >= SCHEMA_VERSION {
            return Ok(false);
        }
        self.rebuild_indexes()?;
        Ok(true)
    }

    /// Empties and rebuilds every index from the tables (see [`Tables::migrate`]).
    pub fn rebuild_indexes(&self) -> Result<(), StoreError> {
        let idx = &self.idx;
        for slot in 0..TREES.len() {
            let tree = match slot {
                4 => &idx.task_totals,
                9 => &idx.index_counters,
                s => idx.by_slot(s),
            };
            self.db.clear_tree(tree)?;
        }
        const CHUNK: usize = 2000;
        let mut totals: BTreeMap<String, TaskCounts> = BTreeMap::new();
        let mut batch: Entries = Vec::new();
        let flush = |batch: &mut Entries| -> Result<(), StoreError> {
            let entries = std::mem::take(batch);
            self.db.write(|tx| {
                for (slot, k, v) in entries {
                    tx.insert(idx.by_slot(slot), &k, v);
                }
                Ok::<(), StoreError>(())
            })
        };
        for kv in self.tasks.iter() {
            let (_, t) = kv?;
            batch.extend(Indexes::task_entries(&t)?);
            for key in totals_keys(&t) {
                totals.entry(key).or_default().add(&t, 1);
            }
            if batch.len() >= CHUNK {
                flush(&mut batch)?;
            }
        }
        let mut users: BTreeMap<&'static [u8], i64> = BTreeMap::new();
        for kv in self.users.iter() {
            let (_, u) = kv?;
            for (k, n) in user_counts(&u) {
                *users.entry(k).or_default() += n;
            }
            batch.extend(Indexes::user_entries(&u));
            if batch.len() >= CHUNK {
                flush(&mut batch)?;
            }
        }
        for kv in self.invitations.iter() {
            batch.extend(Indexes::invitation_entries(&kv?.1));
            if batch.len() >= CHUNK {
                flush(&mut batch)?;
            }
        }
        for kv in self.groups.iter() {
            batch.extend(Indexes::group_entries(&kv?.1));
            if batch.len() >= CHUNK {
                flush(&mut batch)?;
            }
        }
        for kv in self.proposals.iter() {
            batch.extend(Indexes::proposal_entries(&kv?.1));
            if batch.len() >= CHUNK {
                flush(&mut batch)?;
            }
        }
        flush(&mut batch)?;
        let outbox = self.outbox_counted()?;
        let meta = self.db.tree("meta")?;
        self.db.write(|tx| {
            for (k, n) in &outbox {
                tx.insert(&idx.index_counters, k, n.to_be_bytes().to_vec());
            }
            for (k, c) in &totals {
                tx.insert(&idx.task_totals, k.as_bytes(), encode(c)?);
            }
            for k in [ALL_USERS, ACTIVE_USERS, ACTIVE_EXTRANET] {
                let n = users.get(k).copied().unwrap_or(0).max(0) as u64;
                tx.insert(&idx.index_counters, k, n.to_be_bytes().to_vec());
            }
            tx.insert(&meta, SCHEMA_KEY, SCHEMA_VERSION.to_be_bytes().to_vec());
            Ok::<(), StoreError>(())
        })
    }

    /// The outbox counters as the entries say (reads the whole outbox: rebuilds
    /// and checks only).
    fn outbox_counted(&self) -> Result<BTreeMap<Vec<u8>, u64>, StoreError> {
        let mut out: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for kv in self.fed_outbox.iter() {
            let ((dest, _), e) = kv?;
            let (d, p) = outbox_counts(&e);
            let (depth, proposals) = outbox_keys(&dest);
            *out.entry(depth).or_default() += d as u64;
            if p > 0 {
                *out.entry(proposals).or_default() += p as u64;
            }
        }
        Ok(out)
    }

    /// How the stored indexes differ from a rebuild from the tables (empty: equal).
    /// Reads everything: for tests and `portald` checks, never for requests.
    pub fn index_mismatches(&self) -> Result<Vec<String>, StoreError> {
        let mut want: BTreeSet<(usize, Vec<u8>, Vec<u8>)> = BTreeSet::new();
        let mut totals: BTreeMap<String, TaskCounts> = BTreeMap::new();
        for kv in self.tasks.iter() {
            let (_, t) = kv?;
            want.extend(Indexes::task_entries(&t)?);
            for key in totals_keys(&t) {
                totals.entry(key).or_default().add(&t, 1);
            }
        }
        let mut counted = UserCounts::default();
        for kv in self.users.iter() {
            let (_, u) = kv?;
            let [_, (_, a), (_, e)] = user_counts(&u);
            counted.all += 1;
            counted.active += a as u64;
            counted.active_extranet += e as u64;
            want.extend(Indexes::user_entries(&u));
        }
        for kv in self.invitations.iter() {
            want.extend(Indexes::invitation_entries(&kv?.1));
        }
        for kv in self.groups.iter() {
            want.extend(Indexes::group_entries(&kv?.1));
        }
        for kv in self.proposals.iter() {
            want.extend(Indexes::proposal_entries(&kv?.1));
        }
        let mut have: BTreeSet<(usize, Vec<u8>, Vec<u8>)> = BTreeSet::new();
        for slot in [0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12] {
            for kv in self.idx.by_slot(slot).scan_prefix(&[]) {
                let (k, v) = kv?;
                have.insert((slot, k, v));
            }
        }
        let mut out = Vec::new();
        for e in want.difference(&have) {
            out.push(format!("missing in {}: {}", TREES[e.0], String::from_utf8_lossy(&e.1)));
        }
        for e in have.difference(&want) {
            out.push(format!("stale in {}: {}", TREES[e.0], String::from_utf8_lossy(&e.1)));
        }
        let stored: BTreeMap<String, TaskCounts> = self.idx.totals_under("")?.into_iter().collect();
        if stored != totals {
            out.push(format!("report totals differ: stored {stored:?}, rebuilt {totals:?}"));
        }
        let mut stored_outbox: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for kv in self.idx.index_counters.scan_prefix(OUTBOX_COUNTERS.as_bytes()) {
            let (k, v) = kv?;
            let n = counter(Some(v));
            if n > 0 {
                stored_outbox.insert(k, n);
            }
        }
        let counted_outbox = self.outbox_counted()?;
        if stored_outbox != counted_outbox {
            out.push(format!("outbox counters: stored {stored_outbox:?}, counted {counted_outbox:?}"));
        }
        let stored_users = self.idx.user_counts()?;
        if stored_users != counted {
            out.push(format!("user counts: stored {stored_users:?}, counted {counted:?}"));
        }
        Ok(out)
    }
}
