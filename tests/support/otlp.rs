//! A small OTLP/gRPC trace collector for tests: it answers `Export` like an
//! OpenTelemetry Collector and keeps, for every span received, the service that
//! sent it and its trace id.

use anyhow::Result;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use tonic::{Request, Response, Status};

#[derive(Clone, Default)]
pub struct Collector {
    /// (service name, trace id in lowercase hex), one per span.
    spans: Arc<Mutex<Vec<(String, String)>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        req: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let mut got = Vec::new();
        for rs in req.into_inner().resource_spans {
            let service = rs
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.as_ref())
                .and_then(|v| match &v.value {
                    Some(Value::StringValue(s)) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for span in rs.scope_spans.into_iter().flat_map(|s| s.spans) {
                let id: String = span.trace_id.iter().map(|b| format!("{b:02x}")).collect();
                got.push((service.clone(), id));
            }
        }
        self.spans.lock().map_err(|_| Status::internal("poisoned"))?.extend(got);
        Ok(Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

impl Collector {
    /// Listens on loopback; returns the collector and its endpoint (`http://…`).
    pub async fn start() -> Result<(Self, String)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let c = Self::default();
        let svc = TraceServiceServer::new(c.clone());
        tokio::spawn(async move {
            let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
            let _ = tonic::transport::Server::builder().add_service(svc).serve_with_incoming(incoming).await;
        });
        Ok((c, endpoint))
    }

    /// The services that sent at least one span of trace `trace`.
    pub fn services_with(&self, trace: &str) -> BTreeSet<String> {
        let spans = self.spans.lock().map(|s| s.clone()).unwrap_or_default();
        spans.into_iter().filter(|(_, t)| t == trace).map(|(s, _)| s).collect()
    }
}
