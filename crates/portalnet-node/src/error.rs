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

/// The language a gRPC caller asks refusals in: `x-portal-language` (portalctl sends
/// it from `--language` or the locale), else `accept-language`.
pub fn request_lang(meta: &tonic::metadata::MetadataMap) -> Option<portalnet_mail::Lang> {
    let get = |k: &str| meta.get(k).and_then(|v| v.to_str().ok());
    get("x-portal-language")
        .and_then(portalnet_mail::Lang::parse)
        .or_else(|| get("accept-language").and_then(portalnet_mail::Lang::from_accept_language))
}

/// As `Status::from`, with the refusals that have translations (authentication,
/// storage and internal errors) in `lang`; other messages stay as built (English).
pub fn status_in(e: NodeError, lang: Option<portalnet_mail::Lang>) -> Status {
    use portalnet_mail::{Arg, tr};
    let Some(l) = lang else { return e.into() };
    match e {
        NodeError::Unauthenticated(r) => Status::unauthenticated(match &r {
            AuthRefusal::Missing => tr(l, "error-token-missing", &[]),
            AuthRefusal::Unknown => tr(l, "error-token-unknown", &[]),
            AuthRefusal::Dismissed(login) => tr(l, "error-user-dismissed", &[("login", Arg::Str(login))]),
        }),
        NodeError::Store(_) | NodeError::Internal(_) => {
            let id = if matches!(e, NodeError::Store(_)) { "error-storage" } else { "error-internal" };
            let english = Status::from(e);
            Status::new(english.code(), tr(l, id, &[]))
        }
        other => other.into(),
    }
}

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
            NodeError::Unauthenticated(r) => Status::unauthenticated(r.to_string()),
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
