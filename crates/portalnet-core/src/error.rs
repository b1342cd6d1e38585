//! One error type for every domain rule. Each variant maps to one gRPC status code
//! at the node's boundary; the message is meant for the person who sent the request
//! and says what to fix, as a [`Text`] the node says in the reader's language.

pub use portalnet_i18n::{Text, text};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request is malformed: a field is missing, too long or not allowed.
    #[error("{0}")]
    InvalidArgument(Text),
    /// The thing named does not exist (or the caller may not know it exists).
    #[error("{0}")]
    NotFound(Text),
    /// The caller is known but may not do this.
    #[error("{0}")]
    PermissionDenied(Text),
    /// Creating something that already exists.
    #[error("{0}")]
    AlreadyExists(Text),
    /// The request is well-formed but the current state does not allow it.
    #[error("{0}")]
    FailedPrecondition(Text),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// What the refusal says, in any language.
    pub fn text(&self) -> &Text {
        match self {
            Error::InvalidArgument(t)
            | Error::NotFound(t)
            | Error::PermissionDenied(t)
            | Error::AlreadyExists(t)
            | Error::FailedPrecondition(t) => t,
        }
    }

    pub fn invalid(msg: impl Into<Text>) -> Self {
        Self::InvalidArgument(msg.into())
    }
    pub fn not_found(msg: impl Into<Text>) -> Self {
        Self::NotFound(msg.into())
    }
    pub fn denied(msg: impl Into<Text>) -> Self {
        Self::PermissionDenied(msg.into())
    }
    pub fn exists(msg: impl Into<Text>) -> Self {
        Self::AlreadyExists(msg.into())
    }
    pub fn precondition(msg: impl Into<Text>) -> Self {
        Self::FailedPrecondition(msg.into())
    }
}
