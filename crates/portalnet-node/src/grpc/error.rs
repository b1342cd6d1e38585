//! The node's error type, and its conversion to a gRPC status — the one place where
//! that happens. Internal details (storage, IO) are logged, never sent.

use tonic::{Code, Status};

/// The node's errors are the portal's: one type from the operations to the wire.
pub use portalnet_portal::error::{
    AuthRefusal, ErrorKind, PortalError as NodeError, PortalResult as NodeResult,
};

/// The gRPC code of each kind of portal error.
pub fn code_of(kind: ErrorKind) -> Code {
    match kind {
        ErrorKind::InvalidArgument => Code::InvalidArgument,
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::PermissionDenied => Code::PermissionDenied,
        ErrorKind::AlreadyExists => Code::AlreadyExists,
        ErrorKind::FailedPrecondition => Code::FailedPrecondition,
        ErrorKind::Unauthenticated => Code::Unauthenticated,
        ErrorKind::Exhausted => Code::ResourceExhausted,
        ErrorKind::Unavailable => Code::Unavailable,
        ErrorKind::Internal => Code::Internal,
    }
}

/// The status for `e` with its words in `lang`. Internal details are logged, never sent.
pub fn status_in(e: NodeError, lang: portalnet_mail::Lang) -> Status {
    use portalnet_mail::{Arg, tr};
    let code = code_of(e.kind());
    let message = match e {
        NodeError::Domain(d) => d.text().in_lang(lang),
        NodeError::Unauthenticated(r) => match &r {
            AuthRefusal::Missing => tr(lang, "error-token-missing", &[]),
            AuthRefusal::Unknown => tr(lang, "error-token-unknown", &[]),
            AuthRefusal::Dismissed(login) => tr(lang, "error-user-dismissed", &[("login", Arg::Str(login))]),
        },
        NodeError::RateLimited(m) | NodeError::Unavailable(m) => m,
        NodeError::Store(e) => {
            tracing::error!(error = %e, "storage error");
            tr(lang, "error-storage", &[])
        }
        NodeError::Internal(m) => {
            tracing::error!(error = %m, "internal error");
            tr(lang, "error-internal", &[])
        }
    };
    Status::new(code, message)
}

/// An error of `kind` whose words are for another portal or an operator, in
/// English (replication and directory refusals are read by programs and logs).
pub fn plain(kind: ErrorKind, message: impl Into<String>) -> NodeError {
    use portalnet_core::Error as D;
    use portalnet_core::error::Text;
    let m: String = message.into();
    match kind {
        ErrorKind::InvalidArgument => D::invalid(Text::plain(m)).into(),
        ErrorKind::NotFound => D::not_found(Text::plain(m)).into(),
        ErrorKind::PermissionDenied => D::denied(Text::plain(m)).into(),
        ErrorKind::AlreadyExists => D::exists(Text::plain(m)).into(),
        ErrorKind::FailedPrecondition => D::precondition(Text::plain(m)).into(),
        ErrorKind::Unauthenticated | ErrorKind::Internal => NodeError::Internal(m),
        ErrorKind::Exhausted => NodeError::RateLimited(m),
        ErrorKind::Unavailable => NodeError::Unavailable(m),
    }
}

/// A directory call that failed, as the portal's own caller should see it: a
/// directory that cannot be reached is Unavailable (try again), a refusal keeps
/// the directory's code.
pub fn directory_call_failed(endpoint: &str, s: Status) -> Status {
    match s.code() {
        Code::Unavailable | Code::DeadlineExceeded | Code::Unknown => Status::unavailable(format!(
            "the Network directory at {endpoint} cannot be reached ({}); try again later",
            s.message()
        )),
        code => Status::new(code, format!("the Network directory refused: {}", s.message())),
    }
}

/// In the language of the current call's answer (see `reply_lang`). The portal's
/// error is not this crate's type, so `?` cannot convert it: handlers write
/// `.map_err(to_status)?`.
pub fn to_status(e: NodeError) -> Status {
    status_in(e, crate::reply_lang::current())
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
        E::Unauthenticated(m) => Status::unauthenticated(m),
        E::Store(e) => {
            tracing::error!(error = %e, "directory storage");
            Status::internal("internal storage error in the directory")
        }
    }
}

/// What a directory with `sessions = false` answers `OpenSession`: UNIMPLEMENTED,
/// as a directory older than sessions does, so portals sign their calls.
pub fn sessions_off() -> Status {
    Status::unimplemented("this directory opens no sessions (sessions = false): sign each call")
}

/// What a directory with `sessions = false` answers a call carrying a session
/// token: UNAUTHENTICATED, so a portal holding one asks for a new session.
pub fn session_tokens_off() -> Status {
    Status::unauthenticated("this directory takes no session tokens (sessions = false): sign the call")
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

/// `e.into_status()`: [`to_status`] where a value, not a `map_err`, is needed.
pub trait IntoStatus {
    fn into_status(self) -> Status;
}

impl IntoStatus for NodeError {
    fn into_status(self) -> Status {
        to_status(self)
    }
}

/// The gRPC code that carries a refusal of `kind` (on the wire, and to the user
/// whose proposal the home refused).
pub fn refusal_code(kind: portalnet_portal::RefusalKind) -> Code {
    use portalnet_portal::RefusalKind as K;
    match kind {
        K::Malformed => Code::InvalidArgument,
        K::Forbidden => Code::PermissionDenied,
        K::Precondition => Code::FailedPrecondition,
        K::NotFound => Code::NotFound,
        K::Other => Code::Unknown,
    }
}

/// The kind of refusal a peer's gRPC code says.
pub fn refusal_of_code(code: i32) -> portalnet_portal::RefusalKind {
    use portalnet_portal::RefusalKind as K;
    match Code::from_i32(code) {
        Code::InvalidArgument | Code::OutOfRange => K::Malformed,
        Code::PermissionDenied | Code::Unauthenticated => K::Forbidden,
        Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted => K::Precondition,
        Code::NotFound => K::NotFound,
        _ => K::Other,
    }
}

/// A status another service (the directory, a peer) answered, as the portal's
/// error: its code's kind, its message as said (English, for operators).
pub fn from_status(s: &Status) -> NodeError {
    let kind = match s.code() {
        Code::InvalidArgument | Code::OutOfRange => ErrorKind::InvalidArgument,
        Code::NotFound => ErrorKind::NotFound,
        Code::PermissionDenied | Code::Unauthenticated => ErrorKind::PermissionDenied,
        Code::AlreadyExists => ErrorKind::AlreadyExists,
        Code::FailedPrecondition | Code::Aborted => ErrorKind::FailedPrecondition,
        Code::ResourceExhausted => ErrorKind::Exhausted,
        _ => ErrorKind::Unavailable,
    };
    plain(kind, s.message())
}
