//! The tower layer on every gRPC server of a node: it continues the caller's
//! trace (or starts one), runs the call inside a span with its `trace_id`, and
//! counts the call by service, method and status code with its latency. It also
//! holds the language the client asked its answer in (`reply_lang`).
//!
//! A unary call that fails answers "trailers-only": its `grpc-status` is in the
//! response headers. A success puts it in the trailers, which this layer does not
//! wait for: no `grpc-status` header means OK. Method labels come from the
//! services the node serves (descriptor sets); any other path counts as
//! `unknown`, so a client cannot grow the label set.

use crate::metrics::Metrics;
use crate::trace_context::{self, TraceContext};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tracing::Instrument;

/// `/pkg.Service/Method` → (service, method) labels, for the services a node serves.
#[derive(Default)]
pub struct KnownMethods(HashMap<String, (String, String)>);

impl KnownMethods {
    /// Every method of every service in the encoded descriptor sets.
    pub fn from_descriptor_sets(sets: &[&[u8]]) -> Self {
        let mut map = HashMap::new();
        for bytes in sets {
            let Ok(set) = <prost_types::FileDescriptorSet as prost::Message>::decode(*bytes) else {
                continue;
            };
            for file in set.file {
                let package = file.package.clone().unwrap_or_default();
                for svc in &file.service {
                    let svc_name = svc.name.clone().unwrap_or_default();
                    let full =
                        if package.is_empty() { svc_name.clone() } else { format!("{package}.{svc_name}") };
                    for m in &svc.method {
                        let method = m.name.clone().unwrap_or_default();
                        map.insert(format!("/{full}/{method}"), (full.clone(), method));
                    }
                }
            }
        }
        for m in ["ServerReflectionInfo"] {
            for svc in ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"] {
                map.insert(format!("/{svc}/{m}"), (svc.to_string(), m.to_string()));
            }
        }
        Self(map)
    }

    /// The node's own services, health and reflection.
    pub fn node() -> Self {
        Self::from_descriptor_sets(&[
            portalnet_proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ])
    }

    fn labels(&self, path: &str) -> (&str, &str) {
        self.0.get(path).map_or(("unknown", "unknown"), |(s, m)| (s.as_str(), m.as_str()))
    }
}

#[derive(Clone)]
pub struct RpcLayer {
    metrics: Metrics,
    known: Arc<KnownMethods>,
}

impl RpcLayer {
    pub fn new(metrics: Metrics, known: KnownMethods) -> Self {
        Self { metrics, known: Arc::new(known) }
    }
}

impl<S> tower_layer::Layer<S> for RpcLayer {
    type Service = RpcService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RpcService { inner, layer: self.clone() }
    }
}

#[derive(Clone)]
pub struct RpcService<S> {
    inner: S,
    layer: RpcLayer,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for RpcService<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    ResBody: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        let ctx = req
            .headers()
            .get(trace_context::HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(TraceContext::parse)
            .map_or_else(TraceContext::root, |c| c.child());
        let (service, method) = self.layer.known.labels(req.uri().path());
        let (service, method) = (service.to_string(), method.to_string());
        let span =
            tracing::info_span!("rpc", trace_id = %ctx.trace_id_hex(), rpc = %method, service = %service);
        crate::otlp::link(&span, &ctx);
        let asked = crate::reply_lang::asked(req.headers());
        let fut = crate::reply_lang::scope(asked, ctx.scope(self.inner.call(req)));
        let metrics = self.layer.metrics.clone();
        let started = Instant::now();
        Box::pin(
            async move {
                let res = fut.await;
                if metrics.is_enabled() {
                    let code = match &res {
                        Ok(r) => r
                            .headers()
                            .get("grpc-status")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<i32>().ok())
                            .map_or(tonic::Code::Ok, tonic::Code::from_i32),
                        Err(_) => tonic::Code::Unknown,
                    };
                    let labels = [("service", service.as_str()), ("method", method.as_str())];
                    metrics.observe(
                        "portalnet_grpc_server_request_duration_seconds",
                        &labels,
                        started.elapsed().as_secs_f64(),
                    );
                    metrics.inc(
                        "portalnet_grpc_server_requests_total",
                        &[labels[0], labels[1], ("code", crate::metrics::code_label(code))],
                    );
                }
                res
            }
            .instrument(span),
        )
    }
}
