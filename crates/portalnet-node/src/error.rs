//! The node's error type, and its conversion to a gRPC status — the one place where
//! that happens. Internal details (storage, IO) are logged, never sent.

use portalnet_core::Error as Domain;
use portalnet_store::StoreError;
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
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
}

pub type NodeResult<T> = Result<T, NodeError>;

/// Why an API call is not let in; said in the caller's language by [`status_in`].
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

/// The status for `e` with its words in `lang`. Internal details are logged, never sent.
pub fn status_in(e: NodeError, lang: portalnet_mail::Lang) -> Status {
    use portalnet_mail::{Arg, tr};
    match e {
        NodeError::Domain(d) => {
            let code = match &d {
                Domain::InvalidArgument(_) => Code::InvalidArgument,
                Domain::NotFound(_) => Code::NotFound,
                Domain::PermissionDenied(_) => Code::PermissionDenied,
                Domain::AlreadyExists(_) => Code::AlreadyExists,
                Domain::FailedPrecondition(_) => Code::FailedPrecondition,
            };
            Status::new(code, d.text().in_lang(lang))
        }
        NodeError::Unauthenticated(r) => Status::unauthenticated(match &r {
            AuthRefusal::Missing => tr(lang, "error-token-missing", &[]),
            AuthRefusal::Unknown => tr(lang, "error-token-unknown", &[]),
            AuthRefusal::Dismissed(login) => tr(lang, "error-user-dismissed", &[("login", Arg::Str(login))]),
        }),
        NodeError::RateLimited(m) => Status::resource_exhausted(m),
        NodeError::Store(e) => {
            tracing::error!(error = %e, "storage error");
            Status::internal(tr(lang, "error-storage", &[]))
        }
        NodeError::Internal(m) => {
            tracing::error!(error = %m, "internal error");
            Status::internal(tr(lang, "error-internal", &[]))
        }
    }
}

/// Refusals by rule, for code that checks a rule itself (the API handlers).
impl NodeError {
    pub fn invalid(msg: impl Into<portalnet_core::error::Text>) -> Self {
        NodeError::Domain(Domain::invalid(msg))
    }
    pub fn denied(msg: impl Into<portalnet_core::error::Text>) -> Self {
        NodeError::Domain(Domain::denied(msg))
    }
    pub fn precondition(msg: impl Into<portalnet_core::error::Text>) -> Self {
        NodeError::Domain(Domain::precondition(msg))
    }
}

/// In the language of the current call's answer (see `reply_lang`).
impl From<NodeError> for Status {
    fn from(e: NodeError) -> Status {
        status_in(e, crate::reply_lang::current())
    }
}

/// The directory server's refusals (its own error type); storage details stay in the log.
pub fn directory_status(e: portalnet_directory::Error) -> Status {
    use portalnet_directory::Error as E;
    match e {
        E::InvalidArgument(m) => Status::invalid_argument(m),
        E::NotFound(m) => Status::not_found(m),
        E::AlreadyExists(m) => Status::already_exists(m),
        E::FailedPrecondition(m) => Status::failed_precondition(m),
        E::PermissionDenied(m) => Status::permission_denied(m),
        E::ResourceExhausted(m) => Status::resource_exhausted(m),
        E::Store(e) => {
            tracing::error!(error = %e, "directory storage");
            Status::internal("internal storage error in the directory")
        }
    }
}

/// A refused signed request from another portal or for the directory.
pub fn sign_status(e: portalnet_federation::SignError) -> Status {
    use portalnet_federation::SignError;
    match e {
        SignError::Malformed { .. }
        | SignError::UndecodablePayload { .. }
        | SignError::InvalidAddress { .. } => Status::invalid_argument(e.to_string()),
        SignError::ForeignUser { .. } => Status::permission_denied(e.to_string()),
        SignError::Busy { .. } => Status::resource_exhausted(e.to_string()),
        SignError::NonceStoreUnavailable { .. } => Status::unavailable(e.to_string()),
        _ => Status::unauthenticated(e.to_string()),
    }
}
