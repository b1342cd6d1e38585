//! The tables of a portal node, and the format version of each record.

use crate::blobs::{BlobStore, is_sha256};
use crate::codec::Record;
use crate::db::{Db, Tree, WriteTx};
use crate::error::StoreError;
use crate::index::Indexes;
use crate::replication::{
    DeliveryRefusal, OutboxEntry, PeerRecord, ProposalOutcome, ProposalRecord, RefusalKind, StoredEvent,
};
use crate::table::Table;
use portalnet_core::group::Group;
use portalnet_core::invitation::Invitation;
use portalnet_core::settings::PortalSettings;
use portalnet_core::task::{Comment, HistoryEntry, Task};
use portalnet_core::time::Timestamp;
use portalnet_core::user::User;
use serde::{Deserialize, Serialize};

/// An API token, stored under the SHA-256 of its secret (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub login: String,
    pub created_at: Timestamp,
}

macro_rules! record {
    ($t:ty, $name:literal, $v:literal) => {
        impl Record for $t {
            const NAME: &'static str = $name;
            const VERSION: u16 = $v;
        }
    };
}

record!(PortalSettings, "portal settings", 1);
record!(User, "user", 1);
record!(TokenRecord, "token", 1);
record!(Group, "group", 1);
record!(Task, "task", 1);
record!(HistoryEntry, "history entry", 1);
record!(Comment, "comment", 1);
record!(Invitation, "invitation", 1);
record!(OutboxMail, "outgoing e-mail", 1);
record!(StoredEvent, "task event", 1);
record!(OutboxEntry, "replication outbox entry", 1);
record!(MailAddressRecord, "task e-mail address", 1);
record!(TaskLinkRecord, "task link", 1);
record!(LinkRef, "task link token", 1);
record!(InboundSeen, "received message", 1);
record!(PeerRecord, "known portal", 1);
record!(DeliveryRefusal, "refused delivery", 1);

/// Format 2 of proposals and their outcomes: the refusal is a [`RefusalKind`],
/// not a gRPC code (format 1), so no transport's numbers are stored.
impl Record for ProposalRecord {
    const NAME: &'static str = "proposal";
    const VERSION: u16 = 2;

    fn migrate(from: u16, mut value: serde_json::Value) -> Result<serde_json::Value, String> {
        if from == 1 {
            if let Some(state) = value.get_mut("state") {
                code_to_kind(state);
            }
            return Ok(value);
        }
        Err(format!("no migration from format version {from}"))
    }
}

impl Record for ProposalOutcome {
    const NAME: &'static str = "proposal outcome";
    const VERSION: u16 = 2;

    fn migrate(from: u16, mut value: serde_json::Value) -> Result<serde_json::Value, String> {
        if from == 1 {
            code_to_kind(&mut value);
            return Ok(value);
        }
        Err(format!("no migration from format version {from}"))
    }
}

/// Format 1 → 2: `"code": <gRPC code>` becomes `"kind": "<refusal kind>"`.
fn code_to_kind(v: &mut serde_json::Value) {
    if let Some(obj) = v.as_object_mut() {
        let code = obj.remove("code").and_then(|c| c.as_i64()).unwrap_or(0);
        let kind = RefusalKind::from_grpc_code_v1(code);
        obj.insert("kind".into(), serde_json::to_value(kind).unwrap_or_default());
    }
}

/// An employee's secret task address `task+<token>@<mail domain>` (R18). The
/// token is kept as is: its owner may ask to see the address again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailAddressRecord {
    pub login: String,
    pub token: String,
    pub created_at: Timestamp,
}

/// What one e-mail participant of one task may do (R21, R22): open the task page
/// at `<task page url>/<token>` and reply to `reply+<token>@<mail domain>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskLinkRecord {
    pub id: u64,
    pub task: u64,
    /// `mailto:joe@example.com`
    pub participant: String,
    pub token: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub revoked: bool,
    /// Notifications sent so far; numbers the thread's Message-IDs.
    #[serde(default)]
    pub notices_sent: u32,
}

/// Where a link token points: (task, link id) in [`Tables::task_links`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRef {
    pub task: u64,
    pub link: u64,
}

/// A received message that was acted on, kept so a redelivery does nothing twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundSeen {
    /// The task it created or commented on.
    pub task: u64,
    pub at: Timestamp,
}

/// An e-mail waiting to be delivered. Written in the same write as the change it
/// tells about; removed once the transport has taken it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMail {
    pub id: u64,
    pub from: String,
    pub to: String,
    /// The rendered RFC 5322 message, base64.
    pub message_b64: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub next_attempt_at: Timestamp,
    #[serde(default)]
    pub last_error: Option<String>,
    /// Set after a permanent refusal: kept for the operator, not retried.
    #[serde(default)]
    pub failed: bool,
}

pub const SETTINGS_KEY: &str = "portal";

/// Every table of a portal. Cheap to clone.
#[derive(Clone)]
pub struct Tables {
    pub db: Db,
    pub settings: Table<String, PortalSettings>,
    pub users: Table<String, User>,
    /// SHA-256 (hex) of a token → whose it is.
    pub tokens: Table<String, TokenRecord>,
    pub groups: Table<u64, Group>,
    pub tasks: Table<u64, Task>,
    /// (task, version) → history entry.
    pub history: Table<(u64, u64), HistoryEntry>,
    /// (task, comment id) → comment.
    pub comments: Table<(u64, u64), Comment>,
    /// (task, file id) → the file's bytes, raw: where releases before the blob
    /// store kept them. Emptied at start by [`Tables::migrate_file_blobs`].
    pub file_blobs: Tree,
    /// The files' bytes, by SHA-256, in `<data>/blobs` (see [`BlobStore`]).
    pub blobs: BlobStore,
    /// hex SHA-256 ‖ task ‖ file id → nothing: which files name a blob, so the
    /// blobs no record names can be found ([`blob_ref_key`]).
    pub blob_refs: Tree,
    pub invitations: Table<u64, Invitation>,
    /// SHA-256 (hex) of an invitation's current token → the invitation id.
    pub invitation_tokens: Table<String, u64>,
    pub mail_outbox: Table<u64, OutboxMail>,
    /// Small named counters: e.g. `directory.changes` (bumped with every change the
    /// directory must learn of) and `directory.published` (the value last pushed).
    pub counters: Table<String, u64>,
    /// (local task, version) → the signed event (every task, homed here or not).
    pub events: Table<(u64, u64), StoredEvent>,
    /// `home#task` → the local id of a replicated task.
    pub replicas: Table<String, u64>,
    /// (destination portal, sequence) → what to deliver there, in order.
    pub fed_outbox: Table<(String, u64), OutboxEntry>,
    /// Changes people here made to tasks homed elsewhere.
    pub proposals: Table<u64, ProposalRecord>,
    /// `origin:proposal id` → what this portal, as home, did with it.
    pub proposal_outcomes: Table<String, ProposalOutcome>,
    /// login → the employee's secret task address (R18).
    pub mail_addresses: Table<String, MailAddressRecord>,
    /// token of a task address → its owner's login.
    pub mail_address_tokens: Table<String, String>,
    /// (task, link id) → an e-mail participant's link (R21, R22).
    pub task_links: Table<(u64, u64), TaskLinkRecord>,
    /// link token → the link.
    pub task_link_tokens: Table<String, LinkRef>,
    /// SHA-256 (hex) of (recipient, Message-ID, content hash) → what it made.
    pub inbound_seen: Table<String, InboundSeen>,
    /// portal id → what the directory last said of a portal this one works with.
    pub peers: Table<String, PeerRecord>,
    /// (local task, sequence) → a destination's refusal of one of its events.
    pub delivery_refusals: Table<(u64, u64), DeliveryRefusal>,
    /// Indexes and counters over the tables above (`index.rs`).
    pub idx: Indexes,
}

impl Record for u64 {
    const NAME: &'static str = "id";
    const VERSION: u16 = 1;
}

impl Record for String {
    const NAME: &'static str = "text";
    const VERSION: u16 = 1;
}

impl Tables {
    /// Opens the tables, building the indexes first when the folder was written by
    /// a release without them ([`Tables::migrate`]).
    pub fn open(db: &Db) -> Result<Self, StoreError> {
        let tables = Self::open_unmigrated(db)?;
        tables.migrate()?;
        Ok(tables)
    }

    /// The tables as they are on disk, indexes possibly missing (migration tests).
    pub fn open_unmigrated(db: &Db) -> Result<Self, StoreError> {
        Ok(Self {
            db: db.clone(),
            settings: Table::open(db, "settings")?,
            users: Table::open(db, "users")?,
            tokens: Table::open(db, "tokens")?,
            groups: Table::open(db, "groups")?,
            tasks: Table::open(db, "tasks")?,
            history: Table::open(db, "history")?,
            comments: Table::open(db, "comments")?,
            file_blobs: db.tree("file_blobs")?,
            blobs: BlobStore::open(&blob_dir(db.path().ok_or_else(|| StoreError::Io {
                what: "keep files: a portal's files live beside its database, on disk".into(),
                source: std::io::Error::from(std::io::ErrorKind::Unsupported),
            })?))?,
            blob_refs: db.tree("blob_refs")?,
            invitations: Table::open(db, "invitations")?,
            invitation_tokens: Table::open(db, "invitation_tokens")?,
            mail_outbox: Table::open(db, "mail_outbox")?,
            counters: Table::open(db, "counters")?,
            events: Table::open(db, "events")?,
            replicas: Table::open(db, "replicas")?,
            fed_outbox: Table::open(db, "fed_outbox")?,
            proposals: Table::open(db, "proposals")?,
            proposal_outcomes: Table::open(db, "proposal_outcomes")?,
            mail_addresses: Table::open(db, "mail_addresses")?,
            mail_address_tokens: Table::open(db, "mail_address_tokens")?,
            task_links: Table::open(db, "task_links")?,
            task_link_tokens: Table::open(db, "task_link_tokens")?,
            inbound_seen: Table::open(db, "inbound_seen")?,
            peers: Table::open(db, "peers")?,
            delivery_refusals: Table::open(db, "delivery_refusals")?,
            idx: Indexes::open(db)?,
        })
    }

    /// Notes, inside a write, that file `file` of task `task` names blob `sha256`.
    /// The blob must be stored (and synced) before this write commits.
    pub fn add_blob_ref(&self, tx: &mut WriteTx<'_>, sha256: &str, task: u64, file: u64) {
        tx.insert(&self.blob_refs, &blob_ref_key(sha256, task, file), Vec::new());
    }

    /// Whether any record names blob `sha256`.
    pub fn blob_named(&self, sha256: &str) -> Result<bool, StoreError> {
        Ok(self.blob_refs.scan_prefix(sha256.as_bytes()).next().transpose()?.is_some())
    }

    /// Moves file bytes kept in the database by earlier releases ([`Tables::file_blobs`])
    /// into the blob store, one file per write: the blob is stored and synced, then
    /// one write names it and removes the row. Run at start; a crash half-way leaves
    /// rows still to move (and maybe an orphan blob), so running it again finishes
    /// the job. How many files it moved.
    pub fn migrate_file_blobs(&self) -> Result<usize, StoreError> {
        let mut moved = 0;
        loop {
            let Some(row) = self.file_blobs.scan_prefix(&[]).next().transpose()? else { break };
            let (key, bytes) = row;
            let (task, file) = match <(u64, u64) as crate::table::Key>::from_bytes(&key) {
                Some(k) => k,
                None => {
                    return Err(StoreError::Corrupt {
                        what: "file_blobs key".into(),
                        reason: format!("{} bytes instead of 16", key.len()),
                    });
                }
            };
            let id = self.blobs.put(&bytes)?;
            drop(bytes);
            self.db.write(|tx| {
                self.add_blob_ref(tx, &id.sha256, task, file);
                tx.remove(&self.file_blobs, &key);
                Ok::<_, StoreError>(())
            })?;
            moved += 1;
        }
        if moved > 0 {
            self.db.sync()?;
        }
        Ok(moved)
    }

    /// Removes blobs no record names and temporary blob files (a crash between a
    /// blob's write and the commit naming it leaves one). Run at start, before
    /// anything writes.
    pub fn collect_blob_garbage(&self) -> Result<crate::blobs::Collected, StoreError> {
        self.blobs.collect_garbage(|sha| self.blob_named(sha))
    }

    pub fn portal_settings(&self) -> Result<Option<PortalSettings>, StoreError> {
        self.settings.get(&SETTINGS_KEY.to_string())
    }

    /// How many records each table holds, decoding every key and value: a record this
    /// build cannot read is an error naming it. The format test runs it on data
    /// folders written by earlier releases.
    pub fn decode_all(&self) -> Result<std::collections::BTreeMap<&'static str, usize>, StoreError> {
        fn count<K: crate::table::Key, V: Record>(t: &Table<K, V>) -> Result<usize, StoreError> {
            t.iter().try_fold(0, |n, kv| kv.map(|_| n + 1))
        }
        Ok(std::collections::BTreeMap::from([
            ("settings", count(&self.settings)?),
            ("users", count(&self.users)?),
            ("tokens", count(&self.tokens)?),
            ("groups", count(&self.groups)?),
            ("tasks", count(&self.tasks)?),
            ("history", count(&self.history)?),
            ("comments", count(&self.comments)?),
            ("file_blobs", self.file_blobs.len()),
            ("blob_refs", self.blob_refs.len()),
            ("invitations", count(&self.invitations)?),
            ("invitation_tokens", count(&self.invitation_tokens)?),
            ("mail_outbox", count(&self.mail_outbox)?),
            ("counters", count(&self.counters)?),
            ("events", count(&self.events)?),
            ("replicas", count(&self.replicas)?),
            ("fed_outbox", count(&self.fed_outbox)?),
            ("proposals", count(&self.proposals)?),
            ("proposal_outcomes", count(&self.proposal_outcomes)?),
            ("mail_addresses", count(&self.mail_addresses)?),
            ("mail_address_tokens", count(&self.mail_address_tokens)?),
            ("task_links", count(&self.task_links)?),
            ("task_link_tokens", count(&self.task_link_tokens)?),
            ("inbound_seen", count(&self.inbound_seen)?),
            ("peers", count(&self.peers)?),
            ("delivery_refusals", count(&self.delivery_refusals)?),
        ]))
    }

    /// Records stored at the format this build writes whose bytes would change if
    /// written again: a change of the live types' serde form (in core or here)
    /// that did not bump the record's version. Older formats are skipped (they
    /// migrate). Names each table and key that differs.
    pub fn rewritten_differently(&self) -> Result<Vec<String>, StoreError> {
        fn check<K: crate::table::Key, V: Record>(
            name: &str,
            t: &Table<K, V>,
            out: &mut Vec<String>,
        ) -> Result<(), StoreError> {
            for kv in t.tree().scan_prefix(&[]) {
                let (k, stored) = kv?;
                if stored.get(1..3) != Some(&V::VERSION.to_be_bytes()[..]) {
                    continue;
                }
                let again = crate::codec::encode(&crate::codec::decode::<V>(&stored)?)?;
                if again != stored {
                    out.push(format!(
                        "{name} {}: stored {} / now {}",
                        hex_key(&k),
                        String::from_utf8_lossy(&stored),
                        String::from_utf8_lossy(&again)
                    ));
                }
            }
            Ok(())
        }
        fn hex_key(k: &[u8]) -> String {
            k.iter().map(|b| format!("{b:02x}")).collect()
        }
        let mut out = Vec::new();
        check("settings", &self.settings, &mut out)?;
        check("users", &self.users, &mut out)?;
        check("tokens", &self.tokens, &mut out)?;
        check("groups", &self.groups, &mut out)?;
        check("tasks", &self.tasks, &mut out)?;
        check("history", &self.history, &mut out)?;
        check("comments", &self.comments, &mut out)?;
        check("invitations", &self.invitations, &mut out)?;
        check("invitation_tokens", &self.invitation_tokens, &mut out)?;
        check("mail_outbox", &self.mail_outbox, &mut out)?;
        check("counters", &self.counters, &mut out)?;
        check("events", &self.events, &mut out)?;
        check("replicas", &self.replicas, &mut out)?;
        check("fed_outbox", &self.fed_outbox, &mut out)?;
        check("proposals", &self.proposals, &mut out)?;
        check("proposal_outcomes", &self.proposal_outcomes, &mut out)?;
        check("mail_addresses", &self.mail_addresses, &mut out)?;
        check("mail_address_tokens", &self.mail_address_tokens, &mut out)?;
        check("task_links", &self.task_links, &mut out)?;
        check("task_link_tokens", &self.task_link_tokens, &mut out)?;
        check("inbound_seen", &self.inbound_seen, &mut out)?;
        check("peers", &self.peers, &mut out)?;
        check("delivery_refusals", &self.delivery_refusals, &mut out)?;
        Ok(out)
    }
}

/// The key of a replicated task in [`Tables::replicas`].
pub fn replica_key(home: &str, task: u64) -> String {
    format!("{home}#{task}")
}

/// The key of a received proposal in [`Tables::proposal_outcomes`].
pub fn proposal_key(origin: &str, id: &str) -> String {
    format!("{origin}:{id}")
}

/// Where the blob store of the database in `db` lives: `blobs` beside it
/// (`<data>/db` → `<data>/blobs`).
pub fn blob_dir(db: &std::path::Path) -> std::path::PathBuf {
    db.parent().unwrap_or(db).join("blobs")
}

/// The key of a file's reference to its blob in [`Tables::blob_refs`].
pub fn blob_ref_key(sha256: &str, task: u64, file: u64) -> Vec<u8> {
    debug_assert!(is_sha256(sha256));
    let mut k = sha256.as_bytes().to_vec();
    k.extend_from_slice(&task.to_be_bytes());
    k.extend_from_slice(&file.to_be_bytes());
    k
}

/// The key of a file's bytes in [`Tables::file_blobs`].
pub fn blob_key(task: u64, file: u64) -> Vec<u8> {
    let mut k = task.to_be_bytes().to_vec();
    k.extend_from_slice(&file.to_be_bytes());
    k
}
