//! Traces exported over OTLP/gRPC, off unless an endpoint is configured
//! (`[log] otlp_endpoint` or `PORTALD_OTLP_ENDPOINT`); off, the only cost is one
//! relaxed atomic load per span. Each exported span carries the W3C trace id
//! that the node propagates between portals ([`crate::trace_context`]), so the
//! trace id in one node's JSON logs finds the same trace in the collector, across
//! every portal it went through.

use crate::trace_context::TraceContext;
use anyhow::{Context as _, Result};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tracing_opentelemetry::OpenTelemetrySpanExt;

static ON: AtomicBool = AtomicBool::new(false);

/// How often collected spans are sent: short, so a trace shows up while someone
/// is still looking for it.
const EXPORT_EVERY: Duration = Duration::from_millis(500);

/// A tracer provider exporting to `endpoint` as service `service` (the portal id,
/// or `directory`), and its tracer for the `tracing` layer. Needs a Tokio runtime.
/// Call [`SdkTracerProvider::shutdown`] on exit to send what is still batched.
pub fn start(endpoint: &str, service: &str) -> Result<(SdkTracerProvider, SdkTracer)> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .with_timeout(Duration::from_secs(5))
        .build()
        .with_context(|| format!("cannot export traces to {endpoint}"))?;
    let batch = BatchConfigBuilder::default().with_scheduled_delay(EXPORT_EVERY).build();
    let processor = BatchSpanProcessor::builder(exporter).with_batch_config(batch).build();
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service.to_string()).build();
    let provider =
        SdkTracerProvider::builder().with_span_processor(processor).with_resource(resource).build();
    let tracer = opentelemetry::trace::TracerProvider::tracer(&provider, "portald");
    ON.store(true, Ordering::Relaxed);
    portalnet_portal::trace::set_span_linker(link);
    Ok((provider, tracer))
}

/// Makes `span` part of the trace `ctx` when traces are exported.
pub fn link(span: &tracing::Span, ctx: &TraceContext) {
    if !ON.load(Ordering::Relaxed) {
        return;
    }
    let parent = SpanContext::new(
        TraceId::from_bytes(ctx.trace_id.to_be_bytes()),
        SpanId::from_bytes(ctx.span_id.to_be_bytes()),
        if ctx.sampled { TraceFlags::SAMPLED } else { TraceFlags::default() },
        true,
        TraceState::default(),
    );
    let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(parent));
}
