//! The portal's metrics: the catalogue of every metric a node exports, and
//! [`Metrics`], the node's own Prometheus recorder. Each node owns its recorder
//! (not the process-wide `metrics` recorder), so several nodes in one process
//! (tests, `portald devnet`) each expose only their own figures. A disabled
//! [`Metrics`] records nothing and costs a branch per call. Serving `/metrics` is
//! the node's business.
//!
//! Names follow Prometheus conventions: `portalnet_` prefix, base units
//! (`_seconds`, `_bytes`), `_total` for counters, bounded label sets (a service,
//! method, gRPC code, peer portal id, worker name or a small fixed reason; never a
//! user or task id).

use metrics::{Key, Label, Metadata, Recorder};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::sync::Arc;

/// Every metric a node exports: name, kind and help text (README lists them too).
pub const CATALOG: &[(&str, &str, &str)] = &[
    (
        "portalnet_connections_refused_total",
        "counter",
        "Connections closed as accepted, over a listener's limit, by listener and limit ([connections])",
    ),
    (
        "portalnet_grpc_server_requests_total",
        "counter",
        "gRPC calls served, by service, method and status code",
    ),
    (
        "portalnet_grpc_server_request_duration_seconds",
        "histogram",
        "gRPC call latency, by service and method",
    ),
    (
        "portalnet_replication_outbox_depth",
        "gauge",
        "Entries waiting in the replication outbox, per destination portal",
    ),
    (
        "portalnet_replication_outbox_oldest_age_seconds",
        "gauge",
        "Age of the oldest waiting outbox entry, per destination portal",
    ),
    (
        "portalnet_replication_deliveries_total",
        "counter",
        "Delivery attempts of an outbox batch, per destination portal and result (ok, failed)",
    ),
    (
        "portalnet_replication_items_delivered_total",
        "counter",
        "Outbox entries a destination portal answered for",
    ),
    (
        "portalnet_replication_items_refused_by_peer_total",
        "counter",
        "Events of tasks homed here that a destination portal refused",
    ),
    (
        "portalnet_replication_items_received_total",
        "counter",
        "Items received from a portal, by kind (event, proposal) and outcome (applied, duplicate, refused)",
    ),
    (
        "portalnet_replication_refusals_total",
        "counter",
        "Received items refused, by sending portal and reason",
    ),
    (
        "portalnet_proposals_total",
        "counter",
        "Proposals made here on tasks homed elsewhere, by outcome (queued, applied, refused)",
    ),
    ("portalnet_proposals_pending", "gauge", "Proposals waiting for their home portal, per home portal"),
    ("portalnet_mail_in_accepted_total", "counter", "Inbound mail recipients accepted"),
    (
        "portalnet_mail_in_refused_total",
        "counter",
        "Inbound mail recipients refused, by reply code class (4xx, 5xx)",
    ),
    (
        "portalnet_mail_in_dropped_total",
        "counter",
        "Inbound mail accepted and dropped, by reason (auto_reply, duplicate)",
    ),
    ("portalnet_mail_out_queued_total", "counter", "E-mail messages queued for delivery"),
    ("portalnet_mail_out_sent_total", "counter", "E-mail messages the transport took"),
    (
        "portalnet_mail_out_failed_total",
        "counter",
        "E-mail delivery failures, by kind (temporary, permanent)",
    ),
    (
        "portalnet_mail_out_queue_depth",
        "gauge",
        "E-mail messages waiting in the outbox (not failed for good)",
    ),
    ("portalnet_directory_syncs_total", "counter", "Portal to directory sync rounds, by result (ok, failed)"),
    (
        "portalnet_directory_sync_lag_seconds",
        "gauge",
        "How long a change of people has waited to reach the directory (0: in step)",
    ),
    ("portalnet_directory_searches_total", "counter", "Directory searches answered"),
    ("portalnet_directory_publishes_total", "counter", "Directory publishes accepted, by portal"),
    (
        "portalnet_directory_last_publish_timestamp_seconds",
        "gauge",
        "When each portal last published its people (Unix seconds)",
    ),
    ("portalnet_storage_flush_duration_seconds", "histogram", "Time to flush storage to disk"),
    ("portalnet_storage_flush_failures_total", "counter", "Failed storage flushes"),
    ("portalnet_storage_size_bytes", "gauge", "Size of the node's storage on disk"),
    (
        "portalnet_worker_state",
        "gauge",
        "Background workers: 1 for the state each is in (idle, busy, backing_off, stopped)",
    ),
    ("portalnet_worker_failures", "gauge", "Consecutive failures of each background worker"),
];

/// Latency buckets (seconds) for every `_seconds` histogram.
const BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

/// A node's metrics; cheap to clone. `Metrics::default()` is disabled.
#[derive(Clone, Default)]
pub struct Metrics(Option<Arc<Inner>>);

static META: Metadata<'static> = Metadata::new("portalnet", metrics::Level::INFO, None);

impl Metrics {
    pub fn enabled() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        for (name, kind, help) in CATALOG {
            let (name, help) =
                (metrics::KeyName::from_const_str(name), metrics::SharedString::const_str(help));
            match *kind {
                "counter" => recorder.describe_counter(name, None, help),
                "gauge" => recorder.describe_gauge(name, None, help),
                _ => recorder.describe_histogram(name, Some(metrics::Unit::Seconds), help),
            }
        }
        let handle = recorder.handle();
        Self(Some(Arc::new(Inner { recorder, handle })))
    }

    pub fn disabled() -> Self {
        Self(None)
    }

    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    fn key(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
        Key::from_parts(name, labels.iter().map(|(k, v)| Label::new(*k, v.to_string())).collect::<Vec<_>>())
    }

    pub fn add(&self, name: &'static str, labels: &[(&'static str, &str)], n: u64) {
        if let Some(i) = &self.0 {
            i.recorder.register_counter(&Self::key(name, labels), &META).increment(n);
        }
    }

    pub fn inc(&self, name: &'static str, labels: &[(&'static str, &str)]) {
        self.add(name, labels, 1);
    }

    pub fn set(&self, name: &'static str, labels: &[(&'static str, &str)], v: f64) {
        if let Some(i) = &self.0 {
            i.recorder.register_gauge(&Self::key(name, labels), &META).set(v);
        }
    }

    pub fn observe(&self, name: &'static str, labels: &[(&'static str, &str)], v: f64) {
        if let Some(i) = &self.0 {
            i.recorder.register_histogram(&Self::key(name, labels), &META).record(v);
        }
    }

    /// The exposition-format text (empty when disabled).
    pub fn render(&self) -> String {
        match &self.0 {
            Some(i) => {
                i.handle.run_upkeep();
                i.handle.render()
            }
            None => String::new(),
        }
    }
}
