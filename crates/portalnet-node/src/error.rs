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
