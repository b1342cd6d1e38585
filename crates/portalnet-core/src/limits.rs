//! Size limits on what people send. They keep one request from filling memory or disk
//! and are reported in error messages so the sender knows what to change.

use serde::{Deserialize, Serialize};

/// The one per-file limit (R19 allows 25 MB per mail message): what the API's
/// uploads, mail in and the task page accept by default. Files stream in chunks
/// to and from the blob store, so a file this size costs no more memory than a
/// small one.
pub const MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;

/// Invitations one call may send (`CreateGroup.invite_emails`): each is a row and
/// an e-mail made inside the one write that creates the group, under the writer
/// lock, so a call naming thousands would hold every other write up. More people
/// are invited afterwards, from the group (R1), in further calls.
pub const MAX_INVITES_PER_CALL: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub max_title_chars: usize,
    pub max_description_bytes: usize,
    pub max_comment_bytes: usize,
    pub max_file_bytes: u64,
    pub max_file_name_chars: usize,
    pub max_participants: usize,
    pub max_files_per_task: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_title_chars: 255,
            max_description_bytes: 64 * 1024,
            max_comment_bytes: 16 * 1024,
            max_file_bytes: MAX_FILE_BYTES,
            max_file_name_chars: 255,
            max_participants: 100,
            max_files_per_task: 100,
        }
    }
}
