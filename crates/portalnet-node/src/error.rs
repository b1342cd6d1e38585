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
    Unauthenticated(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
    /// A limit on how often something may be done was reached; later it may be done.
    #[error("{0}")]
    RateLimited(String),
}

pub type NodeResult<T> = Result<T, NodeError>;

impl NodeError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        NodeError::Domain(Domain::invalid(msg))
    }
}

impl From<NodeError> for Status {
    fn from(e: NodeError) -> Status {
        match e {
            NodeError::Domain(d) => {
                let code = match &d {
                    Domain::InvalidArgument(_) => Code::InvalidArgument,
                    Domain::NotFound(_) => Code::NotFound,
                    Domain::PermissionDenied(_) => Code::PermissionDenied,
                    Domain::AlreadyExists(_) => Code::AlreadyExists,
                    Domain::FailedPrecondition(_) => Code::FailedPrecondition,
                };
                Status::new(code, d.to_string())
            }
            NodeError::Unauthenticated(m) => Status::unauthenticated(m),
            NodeError::RateLimited(m) => Status::resource_exhausted(m),
            NodeError::Store(e) => {
                tracing::error!(error = %e, "storage error");
                Status::internal("internal storage error; the portal operator can find it in the node's log")
            }
            NodeError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                Status::internal("internal error; the portal operator can find it in the node's log")
            }
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
        _ => Status::unauthenticated(e.to_string()),
    }
}
