//! Prometheus metrics of one node (portal or directory). Each node owns its own
//! recorder (not the process-wide `metrics` recorder), so several nodes in one
//! process (tests, `portald devnet`) each expose only their own figures. A
//! disabled [`Metrics`] records nothing and costs a branch per call.
//!
//! Names follow Prometheus conventions: `portalnet_` prefix, base units
//! (`_seconds`, `_bytes`), `_total` for counters, bounded label sets (a service,
//! method, gRPC code, peer portal id, worker name or a small fixed reason; never a
//! user or task id). Gauges that describe state (outbox depth, storage size,
//! workers) are set when `/metrics` is scraped ([`collect_portal`]).

use metrics::{Key, Label, Metadata, Recorder};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::sync::Arc;

/// Every metric a node exports: name, kind and help text (README lists them too).
pub const CATALOG: &[(&str, &str, &str)] = &[
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

/// The label for a gRPC code, as Prometheus users know them (`OK`, `NOT_FOUND`…).
pub fn code_label(code: tonic::Code) -> &'static str {
    use tonic::Code as C;
    match code {
        C::Ok => "OK",
        C::Cancelled => "CANCELLED",
        C::Unknown => "UNKNOWN",
        C::InvalidArgument => "INVALID_ARGUMENT",
        C::DeadlineExceeded => "DEADLINE_EXCEEDED",
        C::NotFound => "NOT_FOUND",
        C::AlreadyExists => "ALREADY_EXISTS",
        C::PermissionDenied => "PERMISSION_DENIED",
        C::ResourceExhausted => "RESOURCE_EXHAUSTED",
        C::FailedPrecondition => "FAILED_PRECONDITION",
        C::Aborted => "ABORTED",
        C::OutOfRange => "OUT_OF_RANGE",
        C::Unimplemented => "UNIMPLEMENTED",
        C::Internal => "INTERNAL",
        C::Unavailable => "UNAVAILABLE",
        C::DataLoss => "DATA_LOSS",
        C::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Sets the gauges that describe a portal's state now: outbox per destination,
/// pending proposals, mail outbox, storage size, workers, directory sync lag.
pub fn collect_portal(state: &crate::grpc::State) {
    let portal = &state.portal;
    let m = &portal.metrics;
    if !m.is_enabled() {
        return;
    }
    if let Some(r) = &state.replicator {
        for row in r.gauges() {
            let peer = [("peer", row.peer.as_str())];
            m.set("portalnet_replication_outbox_depth", &peer, row.depth as f64);
            m.set(
                "portalnet_replication_outbox_oldest_age_seconds",
                &peer,
                row.oldest_age_ms as f64 / 1000.0,
            );
            m.set("portalnet_proposals_pending", &peer, row.proposals as f64);
        }
    }
    let waiting =
        portal.tables.mail_outbox.iter().filter(|kv| kv.as_ref().is_ok_and(|(_, m)| !m.failed)).count();
    m.set("portalnet_mail_out_queue_depth", &[], waiting as f64);
    if let Ok(size) = portal.tables.db.size_on_disk() {
        m.set("portalnet_storage_size_bytes", &[], size as f64);
    }
    m.set("portalnet_directory_sync_lag_seconds", &[], portal.directory_lag_secs());
    portal.workers.export(m);
}

/// `GET /metrics` for a portal: state gauges are refreshed, then rendered.
pub fn router(state: Arc<crate::grpc::State>) -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(scrape)).with_state(state)
}

async fn scrape(
    axum::extract::State(state): axum::extract::State<Arc<crate::grpc::State>>,
) -> axum::response::Response {
    let text = tokio::task::spawn_blocking(move || {
        collect_portal(&state);
        state.portal.metrics.render()
    })
    .await
    .unwrap_or_default();
    exposition(text)
}

/// The exposition-format response for `text`.
pub fn exposition(text: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// `GET /metrics` for a node with nothing to refresh (the directory).
pub fn static_router(metrics: Metrics) -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let m = metrics.clone();
            async move { exposition(m.render()) }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every metric the Grafana dashboard queries is one the nodes export.
    #[test]
    fn dashboard_names_only_exported_metrics() {
        let dash = include_str!("../../../examples/grafana/portalnet.json");
        let mut seen = 0;
        for (i, _) in dash.match_indices("portalnet_") {
            let name: String = dash
                .get(i..)
                .unwrap_or_default()
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            let base = ["_bucket", "_count", "_sum"]
                .iter()
                .fold(name.as_str(), |n, s| n.strip_suffix(s).unwrap_or(n));
            assert!(CATALOG.iter().any(|(n, _, _)| *n == base), "dashboard queries unknown metric {name}");
            seen += 1;
        }
        assert!(seen > 10);
    }

    #[test]
    fn rendered_text_has_help_and_labels_and_nothing_when_disabled() {
        let m = Metrics::enabled();
        m.inc("portalnet_mail_out_sent_total", &[]);
        m.observe("portalnet_storage_flush_duration_seconds", &[], 0.002);
        m.set("portalnet_replication_outbox_depth", &[("peer", "beta.test")], 3.0);
        let text = m.render();
        assert!(text.contains("# HELP portalnet_mail_out_sent_total"), "{text}");
        assert!(text.contains("portalnet_mail_out_sent_total 1"), "{text}");
        assert!(text.contains("portalnet_replication_outbox_depth{peer=\"beta.test\"} 3"), "{text}");
        assert!(text.contains("portalnet_storage_flush_duration_seconds_bucket{le=\"0.0025\"} 1"), "{text}");
        let off = Metrics::disabled();
        off.inc("portalnet_mail_out_sent_total", &[]);
        assert_eq!(off.render(), "");
    }
}
