//! What a portal stores to replicate tasks with other portals (R17): the signed
//! event chain of every task it holds, the durable per-destination outbox, the
//! proposals its people made on replicas, and which proposals it applied as home.

use portalnet_core::task::{TaskHome, TaskStatus};
use portalnet_core::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One event of a task's history, exactly as its home portal signed it.
/// Stored under (local task id, version) on the home and on every replica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub home: String,
    /// The task's id at its home.
    pub task: u64,
    pub version: u64,
    /// The event body's JSON, as hashed (UTF-8 by construction).
    pub body: String,
    /// Hex.
    pub prev_hash: String,
    /// Hex.
    pub hash: String,
    /// Hex, the home portal's ed25519 signature.
    pub signature: String,
    /// The file the event attaches, whose bytes travel with it.
    #[serde(default)]
    pub file_id: Option<u64>,
    /// W3C `traceparent` of the call that caused it, so its delivery continues
    /// the same trace (none in data written before traces were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// What an outbox entry delivers; the item itself is stored once elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutboxItem {
    /// Event `version` of local task `task` (a task homed here). `catch_up`: sent
    /// because the destination just gained its first participant, as history.
    Event {
        task: u64,
        version: u64,
        #[serde(default)]
        catch_up: bool,
    },
    /// Proposal `id` of [`ProposalRecord`] (to the task's home).
    Proposal { id: u64 },
}

/// One entry of the replication outbox, under (destination portal, sequence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub item: OutboxItem,
    pub enqueued_at: Timestamp,
    /// W3C `traceparent` of the call that caused it, so its delivery continues
    /// the same trace (none in data written before traces were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// A change a person of this portal made to a task homed elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalRecord {
    pub id: u64,
    /// The replica's local task id.
    pub task: u64,
    pub home: TaskHome,
    /// Local login of the person who made it.
    pub actor: String,
    pub op: ProposalOp,
    pub created_at: Timestamp,
    pub state: ProposalState,
    /// W3C `traceparent` of the call that caused it, so its delivery continues
    /// the same trace (none in data written before traces were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ProposalOp {
    Status {
        to: TaskStatus,
    },
    Comment {
        text: String,
    },
    /// The file's bytes, base64 (kept here until the home applies it).
    File {
        name: String,
        content_type: String,
        content_b64: String,
        size: u64,
    },
}

impl ProposalOp {
    pub fn summary(&self) -> String {
        match self {
            ProposalOp::Status { to } => format!("status → {}", to.name()),
            ProposalOp::Comment { .. } => "comment".into(),
            ProposalOp::File { name, size, .. } => format!("file \"{name}\" ({size} bytes)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ProposalState {
    Pending,
    /// The home applied it as event `version`.
    Applied {
        version: u64,
    },
    /// The home refused it, for a reason of `kind`.
    Rejected {
        reason: String,
        #[serde(default)]
        kind: RefusalKind,
    },
}

/// Why a portal refused a received item: a small fixed set in the portal's own
/// terms, stored with proposals and their outcomes (format 1 stored a gRPC code
/// instead; see `schema.rs`), a metric label, and mapped to a code on the wire by
/// the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// Unreadable, inconsistent or out of range (hash, body, fields).
    Malformed,
    /// Not the sender's to say: wrong home, bad signature, no participant there.
    Forbidden,
    /// A rule or the history held here says no (conflict, network off, status).
    Precondition,
    /// Names a task or person this portal does not have.
    NotFound,
    #[default]
    Other,
}

impl RefusalKind {
    pub fn label(self) -> &'static str {
        match self {
            RefusalKind::Malformed => "malformed",
            RefusalKind::Forbidden => "forbidden",
            RefusalKind::Precondition => "precondition",
            RefusalKind::NotFound => "not_found",
            RefusalKind::Other => "other",
        }
    }

    /// The kind a gRPC status code stored by format 1 meant (frozen: these are
    /// the numbers of gRPC's status codes, not a live dependency on them).
    pub fn from_grpc_code_v1(code: i64) -> Self {
        match code {
            3 | 11 => RefusalKind::Malformed,
            7 | 16 => RefusalKind::Forbidden,
            6 | 9 | 10 => RefusalKind::Precondition,
            5 => RefusalKind::NotFound,
            _ => RefusalKind::Other,
        }
    }
}

/// At a home portal: the outcome of a proposal it received, so a retry of the
/// same proposal gets the same answer and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalOutcome {
    pub task: u64,
    /// 0 when rejected.
    pub version: u64,
    #[serde(default)]
    pub rejected: Option<String>,
    /// Why, when rejected.
    #[serde(default)]
    pub kind: RefusalKind,
}

/// What this portal last learned from the directory about another portal it works
/// with, kept durably so that work between portals that know each other goes on
/// while the directory is unreachable (the directory's word wins when it answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerRecord {
    pub portal_id: String,
    pub endpoint: String,
    /// Hex ed25519 public key, current.
    pub public_key: String,
    /// Hex keys the portal used before, oldest first.
    #[serde(default)]
    pub previous_keys: Vec<String>,
    pub network_enabled: bool,
    /// Unix ms as the directory recorded it; 0 when off.
    #[serde(default)]
    pub network_enabled_since: i64,
    #[serde(default)]
    pub tls_certificate: String,
    /// When the directory said so (this portal's clock).
    pub fetched_at: Timestamp,
}

/// At a home portal: a destination refused an event of one of its tasks for a rule
/// of its own. Kept under (local task id, sequence) and shown with the task's
/// history, so the creator sees which portal refused what and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRefusal {
    pub portal: String,
    pub version: u64,
    pub reason: String,
    pub at: Timestamp,
}
