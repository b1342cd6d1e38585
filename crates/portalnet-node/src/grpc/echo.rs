use portalnet_proto::v1::{EchoMessage, echo_server::Echo};
use tonic::{Request, Response, Status};

/// The raw echo RPC that benchmarks measure as their baseline.
pub struct EchoSvc;

#[tonic::async_trait]
impl Echo for EchoSvc {
    async fn echo(&self, req: Request<EchoMessage>) -> Result<Response<EchoMessage>, Status> {
        Ok(Response::new(req.into_inner()))
    }
}
