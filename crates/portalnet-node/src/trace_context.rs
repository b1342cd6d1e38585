//! The trace context on the wire: every outgoing portal-to-portal or
//! portal-to-directory call carries the current context in its metadata
//! ([`Propagate`]); the context itself is the portal's ([`portalnet_portal::trace`]).

pub use portalnet_portal::trace::*;

/// Adds the current context to every outgoing call of a client.
#[derive(Clone, Copy, Default)]
pub struct Propagate;

impl tonic::service::Interceptor for Propagate {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(c) = current()
            && let Ok(v) = c.child().to_string().parse()
        {
            req.metadata_mut().insert(HEADER, v);
        }
        Ok(req)
    }
}

/// A client channel that carries the trace context.
pub type Traced = tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Propagate>;
