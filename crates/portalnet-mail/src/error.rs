//! The mail crate's one error type, telling permanent from temporary failures.

use std::error::Error as StdError;
use std::path::PathBuf;

/// Everything that can go wrong rendering or delivering a message.
///
/// [`MailError::is_permanent`] tells the caller whether retrying the same message can help.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// An address that does not parse; `field` says where it came from (`from`, `to`,
    /// `reply_to`, `envelope from`, `envelope to`).
    #[error("invalid {field} address {value:?}: {reason}")]
    InvalidAddress { field: &'static str, value: String, reason: String },

    /// A header value the caller supplied (message ids, extra headers) cannot be written as given.
    #[error("invalid {field} header {value:?}: {reason}")]
    InvalidHeader { field: String, value: String, reason: &'static str },

    /// The delivery id cannot be used as a file name.
    #[error("invalid delivery id {id:?}: {reason}")]
    InvalidId { id: String, reason: &'static str },

    /// The message or envelope could not be assembled.
    #[error("cannot build message: {reason}")]
    Build { reason: String },

    /// Writing the `.eml` file failed (disk full, permissions, ...).
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The relay could not be reached, timed out, or answered 4xx: try again later.
    #[error("SMTP delivery via {relay} failed temporarily: {source}")]
    SmtpTemporary {
        relay: String,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },

    /// The relay answered 5xx, or cannot take this message at all: retrying will not help.
    #[error("SMTP delivery via {relay} failed permanently: {source}")]
    SmtpPermanent {
        relay: String,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

impl MailError {
    /// True when sending the same message again cannot succeed; false for failures worth a retry
    /// (I/O errors, unreachable relay, 4xx replies).
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::InvalidAddress { .. }
            | Self::InvalidHeader { .. }
            | Self::InvalidId { .. }
            | Self::Build { .. }
            | Self::SmtpPermanent { .. } => true,
            Self::Io { .. } | Self::SmtpTemporary { .. } => false,
        }
    }
}
