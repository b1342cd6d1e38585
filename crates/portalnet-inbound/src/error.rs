//! The inbound crate's one error type.

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes hold no header at all, so they are not an e-mail message.
    #[error("not an e-mail message: no header could be read")]
    NotAMessage,

    /// More MIME parts than a task can sensibly take; refusing keeps one message from costing
    /// unbounded work and storage.
    #[error("message has {count} MIME parts, more than the {max} accepted")]
    TooManyParts { count: usize, max: usize },

    /// The MIME parser gave up in an unexpected way (it panicked); the message is refused
    /// rather than taking the caller down with it.
    #[error("the MIME parser failed on this message")]
    ParserFailed,

    /// Reading from or writing to a mail client failed.
    #[error("mail connection I/O failed: {0}")]
    Io(#[from] std::io::Error),
}
