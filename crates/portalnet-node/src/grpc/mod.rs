//! gRPC services, one per concern. Each method authenticates the caller, converts
//! the request at the boundary (`convert.rs`), calls the portal, waits for
//! durability when it wrote, and converts the answer; `error.rs` is the one place
//! where errors (the portal's, the directory's, signed requests') become statuses.

pub mod convert;
mod echo;
pub mod error;
mod groups;
mod invites;
mod mail;
mod network;
mod portal;
mod tasks;
mod users;

pub use echo::{EchoSvc, OPEN_ECHO_MAX_BYTES, OpenEchoSvc};
pub use groups::GroupSvc;
pub use invites::InvitationSvc;
pub use mail::MailSvc;
pub use network::NetworkSvc;
pub use portal::{PortalSvc, ReportSvc};
pub use tasks::{TaskSvc, UNARY_FILE_BYTES};
pub use users::UserSvc;

use crate::grpc::error::IntoStatus;
use crate::grpc::error::to_status;
use portalnet_core::permissions::Actor;
use portalnet_portal::Portal;
use tonic::{Request, Status};

/// What every service shares.
pub struct State {
    pub portal: std::sync::Arc<Portal>,
    pub endpoints: Vec<String>,
    pub public_key: String,
    pub fingerprint: String,
    /// The Network directory, when the portal is linked to one.
    pub directory: Option<std::sync::Arc<crate::directory::client::DirectoryClient>>,
    /// Delay between switching the network on and cross-portal tasks (R15).
    pub activation_delay_ms: i64,
    /// Replication with other portals, when the portal is linked to a directory.
    pub replicator: Option<std::sync::Arc<crate::replication::Replicator>>,
    /// Inbound mail listeners, when configured (shown by `portal info`).
    pub lmtp_addr: Option<std::net::SocketAddr>,
    pub smtp_addr: Option<std::net::SocketAddr>,
}

impl State {
    pub fn actor<T>(&self, req: &Request<T>) -> Result<Actor, Status> {
        let token = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.strip_prefix("Bearer ").unwrap_or(v));
        crate::reply_lang::set_reader(self.portal.options.language);
        let (actor, lang) = self.portal.authenticate(token).map_err(to_status)?;
        if let Some(lang) = lang {
            crate::reply_lang::set_reader(lang);
        }
        Ok(actor)
    }

    pub fn replicator(&self) -> Result<&std::sync::Arc<crate::replication::Replicator>, Status> {
        self.replicator.as_ref().ok_or_else(|| {
            crate::grpc::error::NodeError::precondition(portalnet_core::error::text!(
                "error-no-directory-people"
            ))
            .into_status()
        })
    }

    /// Waits until what was just committed survives a killed process.
    pub async fn durable(&self) -> Result<(), Status> {
        self.portal.durable().await.map_err(to_status)
    }

    /// Runs a portal operation that writes on a blocking thread, and answers once
    /// what it committed is durable: storage work and the flush wait (shared with
    /// concurrent writers) never hold an async worker.
    pub async fn write<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Portal) -> crate::NodeResult<T> + Send + 'static,
    ) -> Result<T, Status> {
        self.portal.write_off_workers(op).await.map_err(to_status)
    }

    /// Runs a portal operation (a blob read, a history check, a write whose
    /// durability the caller awaits itself) on a blocking thread.
    pub async fn run<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Portal) -> crate::NodeResult<T> + Send + 'static,
    ) -> Result<T, Status> {
        let portal = self.portal.clone();
        blocking(move || op(&portal)).await?.map_err(to_status)
    }
}

/// Runs `f` on tokio's blocking pool ([`crate::worker::off_workers`]); a panic in
/// it is an internal error, not a crash.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Status> {
    crate::worker::off_workers(move || Ok(f())).await.map_err(to_status)
}
