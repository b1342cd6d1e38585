//! The directory's one error type. Each variant maps to one gRPC status code at the
//! node's boundary; the message is meant for the portal that sent the request and
//! never names another portal's people.

use portalnet_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed request: a field is missing, too long, or a search is too short.
    #[error("{0}")]
    InvalidArgument(String),
    /// The portal or entry named is not in the directory.
    #[error("{0}")]
    NotFound(String),
    /// E.g. the e-mail address already belongs to another Network account.
    #[error("{0}")]
    AlreadyExists(String),
    /// Well-formed, but the current state does not allow it.
    #[error("{0}")]
    FailedPrecondition(String),
    /// E.g. registering a known portal id under another key without a rotation.
    #[error("{0}")]
    PermissionDenied(String),
    /// A directory session token that is expired, forged or not this portal's.
    #[error("{0}")]
    Unauthenticated(String),
    /// Rate limit: the message says when to try again.
    #[error("{0}")]
    ResourceExhausted(String),
    /// Storage failed (internal).
    #[error("directory storage: {0}")]
    Store(#[from] StoreError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Self::InvalidArgument(msg.into())
    }
    pub(crate) fn not_found(msg: impl Into<String>) -> Self {
        Self::NotFound(msg.into())
    }
}

impl From<portalnet_core::Error> for Error {
    fn from(e: portalnet_core::Error) -> Self {
        use portalnet_core::Error as E;
        match e {
            E::InvalidArgument(m) => Self::InvalidArgument(m.to_string()),
            E::NotFound(m) => Self::NotFound(m.to_string()),
            E::PermissionDenied(m) => Self::PermissionDenied(m.to_string()),
            E::AlreadyExists(m) => Self::AlreadyExists(m.to_string()),
            E::FailedPrecondition(m) => Self::FailedPrecondition(m.to_string()),
        }
    }
}
