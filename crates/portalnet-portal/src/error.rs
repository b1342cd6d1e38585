//! The portal's error type. It names what went wrong in the portal's own terms
//! ([`ErrorKind`]); the node maps kinds to a transport's codes (gRPC status, SMTP
//! reply) in one place each.

use portalnet_core::Error as Domain;
use portalnet_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error(transparent)]
    Domain(#[from] Domain),
    #[error("{0}")]
    Unauthenticated(AuthRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
    /// A limit on how often something may be done was reached; later it may be done.
    #[error("{0}")]
    RateLimited(String),
    /// Something needed could not be reached (another portal, the directory):
    /// temporary, to be retried — never a refusal.
    #[error("{0}")]
    Unavailable(String),
}

pub type PortalResult<T> = Result<T, PortalError>;

/// Why an API call is not let in; said in the caller's language by the node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthRefusal {
    #[error(
        "missing API token: send `authorization: Bearer <token>` (portalctl: --token or PORTALCTL_TOKEN)"
    )]
    Missing,
    #[error(
        "API token not recognised on this portal: ask an administrator for one (`portalctl token issue LOGIN`)"
    )]
    Unknown,
    #[error("user `{0}` is dismissed; their tokens no longer work")]
    Dismissed(String),
}

/// What kind of failure an error is, whatever carries it to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidArgument,
    NotFound,
    PermissionDenied,
    AlreadyExists,
    FailedPrecondition,
    Unauthenticated,
    /// Retry later: a rate limit.
    Exhausted,
    /// Retry later: something could not be reached.
    Unavailable,
    /// Not the caller's doing (storage, a bug): logged, never detailed to them.
    Internal,
}

impl PortalError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            PortalError::Domain(d) => match d {
                Domain::InvalidArgument(_) => ErrorKind::InvalidArgument,
                Domain::NotFound(_) => ErrorKind::NotFound,
                Domain::PermissionDenied(_) => ErrorKind::PermissionDenied,
                Domain::AlreadyExists(_) => ErrorKind::AlreadyExists,
                Domain::FailedPrecondition(_) => ErrorKind::FailedPrecondition,
            },
            PortalError::Unauthenticated(_) => ErrorKind::Unauthenticated,
            PortalError::RateLimited(_) => ErrorKind::Exhausted,
            PortalError::Unavailable(_) => ErrorKind::Unavailable,
            PortalError::Store(_) | PortalError::Internal(_) => ErrorKind::Internal,
        }
    }

    /// Refusals by rule, for code that checks a rule itself.
    pub fn invalid(msg: impl Into<portalnet_core::error::Text>) -> Self {
        PortalError::Domain(Domain::invalid(msg))
    }
    pub fn denied(msg: impl Into<portalnet_core::error::Text>) -> Self {
        PortalError::Domain(Domain::denied(msg))
    }
    pub fn precondition(msg: impl Into<portalnet_core::error::Text>) -> Self {
        PortalError::Domain(Domain::precondition(msg))
    }
}
