//! `GET /metrics`: Prometheus' text exposition format (0.0.4), encoded by `prometheus-client`.
//! Unauthenticated like `/health` and `/ready`; its label values are operation names, status
//! codes, error codes and the node's name, never anything from a request.
//!
//! The API's requests are counted in `http::handle` (`Metrics::request`); the backend's numbers
//! (`backend`) are read from any `caseload_store::stats::Stats` at scrape time. A scrape takes
//! no lock the request path holds for more than a counter update and never waits on the
//! database.
//!
//! `/metrics` is no API operation: `--throttle` and `--fault-rate` never apply to it (a scrape
//! must not spend a client's request budget, nor be failed on purpose). It shares the listener's
//! connection cap with everyone else without a reserved slot: at the cap a scrape still gets in by
//! evicting the connection idle longest, and is refused only when every connection has a request
//! in progress; then the failed scrape (`up == 0`) is itself the signal, and
//! `caseload_connections_refused_total` counts afterwards how many were turned away. The cap is
//! applied at accept, before a byte of the request is read, so a scrape cannot be told from a
//! client there: a reserved place would need a listener of its own.

mod backend;
mod labels;

use crate::http::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use caseload_model::Operation;
use caseload_store::stats::Stats;
use labels::{OperationLabel, Outcome};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const PATH: &str = "/metrics";

/// Latency buckets, in seconds: from a cached GetCase (~100 µs) to a search held back by a
/// slow index (the search wait defaults to 5 s).
const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

type Latencies = Family<OperationLabel, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<Outcome, Counter>,
    latency: Latencies,
    in_flight: Gauge,
    connections: Connections,
}

/// The listener's connections (`listener::serve` keeps them current).
#[derive(Clone, Debug, Default)]
pub struct Connections {
    /// Open now.
    pub open: Gauge,
    /// The cap.
    pub max: Gauge,
    /// Closed at once on arrival because every connection had a request in progress.
    pub refused: Counter,
    /// Idle connections closed to make room for a new one.
    pub evicted: Counter,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Node {
    node: String,
}

impl Metrics {
    /// The registry, with the backend's metrics when there is one (the index lag sampled from
    /// now on: call within the runtime).
    pub fn new(node: &str, store: Option<Arc<dyn Stats>>) -> Metrics {
        let mut registry = Registry::with_prefix("caseload");
        registry.register(
            "node",
            "The node's name (--node-name), always 1",
            Info::new(Node {
                node: node.to_owned(),
            }),
        );
        let requests = Family::<Outcome, Counter>::default();
        registry.register(
            "requests",
            "API requests answered, by operation, HTTP status and error code",
            requests.clone(),
        );
        let latency: Latencies = Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        registry.register_with_unit(
            "request_duration",
            "Time from a request's arrival to its answer, by operation",
            Unit::Seconds,
            latency.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "requests_in_flight",
            "API requests being handled now",
            in_flight.clone(),
        );
        let connections = Connections::default();
        for (name, help, gauge) in [
            (
                "connections",
                "Client connections open now",
                &connections.open,
            ),
            (
                "connections_max",
                "Most client connections served at once (--max-connections)",
                &connections.max,
            ),
        ] {
            registry.register(name, help, gauge.clone());
        }
        for (name, help, counter) in [
            (
                "connections_refused",
                "Connections closed on arrival because every connection had a request in progress",
                &connections.refused,
            ),
            (
                "connections_evicted",
                "Idle connections closed to make room for a new one at the cap",
                &connections.evicted,
            ),
        ] {
            registry.register(name, help, counter.clone());
        }
        if let Some(stats) = store {
            let lag = Arc::new(Mutex::new(backend::IndexLag::new(Instant::now())));
            backend::spawn_sampler(stats.clone(), lag.clone());
            registry.register_collector(Box::new(backend::BackendCollector { stats, lag }));
        }
        Metrics {
            registry,
            requests,
            latency,
            in_flight,
            connections,
        }
    }

    /// What the listener updates.
    pub fn connections(&self) -> Connections {
        self.connections.clone()
    }

    /// Counts an API request in flight until the returned guard is dropped.
    pub fn request(&self) -> InFlight<'_> {
        self.in_flight.inc();
        InFlight {
            metrics: self,
            started: Instant::now(),
        }
    }

    fn answered<B>(&self, op: Option<Operation>, response: &http::Response<B>, took: Duration) {
        self.requests
            .get_or_create(&labels::outcome(op, response))
            .inc();
        self.latency
            .get_or_create(&OperationLabel {
                operation: labels::operation(op),
            })
            .observe(took.as_secs_f64());
    }

    fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// An API request being handled.
pub struct InFlight<'a> {
    metrics: &'a Metrics,
    started: Instant,
}

impl InFlight<'_> {
    /// Counts the request as answered with `response`.
    pub fn answered<B>(self, op: Option<Operation>, response: &http::Response<B>) {
        self.metrics.answered(op, response, self.started.elapsed());
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.metrics.in_flight.dec();
    }
}

pub async fn scrape(State(state): State<Arc<AppState>>) -> Response {
    match state.metrics.encode() {
        Ok(text) => (
            [(
                http::header::CONTENT_TYPE,
                prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            )],
            text,
        )
            .into_response(),
        // Writing into a String does not fail; should an encoder ever, the scrape says so.
        Err(_) => (
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "cannot encode the metrics\n",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> http::Response<()> {
        http::Response::builder().status(200).body(()).unwrap()
    }

    #[test]
    fn the_exposition_has_the_node_the_requests_and_their_latency() {
        let m = Metrics::new("node-a", None);
        m.request().answered(Some(Operation::CreateCase), &ok());
        let held = m.request();
        let text = m.encode().unwrap();
        drop(held);
        assert!(text.contains("# TYPE caseload_node_info gauge\n"), "{text}");
        assert!(
            text.contains("caseload_node_info{node=\"node-a\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE caseload_requests_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "caseload_requests_total{operation=\"CreateCase\",status=\"200\",error=\"\"} 1\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("# TYPE caseload_request_duration_seconds histogram\n"),
            "{text}"
        );
        assert!(
            text.contains("caseload_request_duration_seconds_count{operation=\"CreateCase\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("caseload_requests_in_flight 1\n"), "{text}");
        assert!(
            m.encode()
                .unwrap()
                .contains("caseload_requests_in_flight 0\n")
        );
    }
}
