//! The unit of replication (R17): one entry of a task's history as its home portal
//! wrote it, carrying the task's whole state after the change, so a replica that
//! applies events in version order holds exactly what the home holds.
//!
//! Everything in an event names people qualified (`login@portal`, see
//! [`crate::address`]); each portal localizes when it stores.

use crate::task::{Change, Comment, FileMeta, Task, TaskId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The hash of "no previous event": the `prev_hash` of version 1.
pub const GENESIS: [u8; 32] = [0; 32];

/// What the home portal hashes and signs. Serialized as JSON; the exact bytes
/// travel and are stored, so no replica ever re-serializes before hashing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBody {
    /// Format of this body; bump when fields change meaning.
    pub format: u16,
    pub home: String,
    pub task: TaskId,
    pub version: u64,
    pub at: Timestamp,
    /// Who made the change, `login@portal`.
    pub actor: String,
    pub change: Change,
    /// The task after the change, participants qualified, `id` = the home's id.
    pub state: Task,
    /// The comment a `Comment` change added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<Comment>,
    /// The file a `File` change attached (its bytes travel beside the body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileMeta>,
    /// The proposal (`portal:id`) this event applied, if a replica asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal: Option<String>,
}

pub const EVENT_FORMAT: u16 = 1;

impl EventBody {
    pub fn to_bytes(&self) -> Vec<u8> {
        // A struct of strings, numbers and enums always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn from_bytes(b: &[u8]) -> Result<Self, String> {
        let body: EventBody =
            serde_json::from_slice(b).map_err(|e| format!("event body is not valid: {e}"))?;
        if body.format != EVENT_FORMAT {
            return Err(format!(
                "event format {} is not supported (this portal reads {EVENT_FORMAT})",
                body.format
            ));
        }
        if body.version == 0 || body.state.version != body.version || body.state.id != body.task {
            return Err("event body is inconsistent: version or task id does not match its state".into());
        }
        Ok(body)
    }
}

/// What a replica does with an incoming event, given what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Already held: acknowledge, change nothing.
    Duplicate,
    /// The next one, linking to the head: apply.
    Apply,
    /// Versions `from..=to` are missing: fetch them from the home first.
    Gap { from: u64, to: u64 },
    /// The next version, but it does not link to the head: refuse.
    BrokenChain,
}

/// The replica's decision for event `(version, prev_hash)` when it holds versions
/// `1..=head` ending in `head_hash` (head 0: nothing held).
pub fn decide(head: u64, head_hash: &[u8; 32], version: u64, prev_hash: &[u8; 32]) -> Step {
    if version <= head {
        Step::Duplicate
    } else if version > head + 1 {
        Step::Gap { from: head + 1, to: version - 1 }
    } else if prev_hash == head_hash {
        Step::Apply
    } else {
        Step::BrokenChain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions() {
        let h = [7u8; 32];
        assert_eq!(decide(0, &GENESIS, 1, &GENESIS), Step::Apply);
        assert_eq!(decide(0, &GENESIS, 1, &h), Step::BrokenChain);
        assert_eq!(decide(3, &h, 2, &GENESIS), Step::Duplicate);
        assert_eq!(decide(3, &h, 4, &h), Step::Apply);
        assert_eq!(decide(3, &h, 4, &GENESIS), Step::BrokenChain);
        assert_eq!(decide(3, &h, 9, &h), Step::Gap { from: 4, to: 8 });
    }
}
