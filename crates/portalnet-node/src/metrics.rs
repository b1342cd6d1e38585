//! Serving a node's Prometheus metrics (`/metrics`) and the gauges read when it is
//! scraped; the catalogue and the recorder are the portal's
//! ([`portalnet_portal::metrics`]).
//!
//! Names follow Prometheus conventions: `portalnet_` prefix, base units
//! (`_seconds`, `_bytes`), `_total` for counters, bounded label sets (a service,
//! method, gRPC code, peer portal id, worker name or a small fixed reason; never a
//! user or task id). Gauges that describe state (outbox depth, storage size,
//! workers) are set when `/metrics` is scraped ([`collect_portal`]).

pub use portalnet_portal::metrics::{CATALOG, Metrics};
use std::sync::Arc;

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
