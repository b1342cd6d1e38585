//! The raw echo RPC that benchmarks measure as their baseline. On a portal it
//! needs a valid user token like every other portal service (the benchmarks send
//! one); the directory, which has no users, answers small messages to anyone
//! ([`OpenEchoSvc`]), as it answers `LookupPortal`.

use super::State;
use portalnet_proto::v1::{EchoMessage, echo_server::Echo};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// The portal's echo: authenticated, then answered.
pub struct EchoSvc(pub Arc<State>);

#[tonic::async_trait]
impl Echo for EchoSvc {
    async fn echo(&self, req: Request<EchoMessage>) -> Result<Response<EchoMessage>, Status> {
        self.0.actor(&req)?;
        Ok(Response::new(req.into_inner()))
    }
}

/// The directory's echo (its benchmark baseline): no users to authenticate, so
/// the server bounds the message size instead ([`OPEN_ECHO_MAX_BYTES`]).
pub struct OpenEchoSvc;

/// Largest message the directory's echo accepts.
pub const OPEN_ECHO_MAX_BYTES: usize = 4 * 1024;

#[tonic::async_trait]
impl Echo for OpenEchoSvc {
    async fn echo(&self, req: Request<EchoMessage>) -> Result<Response<EchoMessage>, Status> {
        Ok(Response::new(req.into_inner()))
    }
}
