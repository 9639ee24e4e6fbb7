//! Prometheus metrics, served at `GET /metrics` in the OpenMetrics text
//! format by `prometheus-client`, the Prometheus project's Rust client.
//!
//! Every label is bounded: the status code, and the reason a guard recorded
//! (four values at most). No path and no method becomes a label, so a flood
//! of random paths or methods adds no series.

use std::fmt;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabel, EncodeLabelSet, EncodeMetric, LabelSetEncoder,
};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use rocket::http::ContentType;
use rocket::{Responder, Route, State, get, routes};

use crate::health::NoStore;
use crate::logger;

/// `/metrics`.
pub fn routes() -> Vec<Route> {
    routes![metrics]
}

/// The service's metrics, managed as Rocket state: the access fairing
/// ([`crate::access`]) updates them, `/metrics` encodes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    responses: Family<ResponseLabels, Counter>,
    duration: Histogram,
    in_flight: Gauge,
}

impl Metrics {
    /// The metrics of a service starting now.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let started = Gauge::<f64, AtomicU64>::default();
        let since_epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        started.set(since_epoch.as_secs_f64());
        registry.register(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch, in seconds",
            started,
        );

        let service = registry.sub_registry_with_prefix("unauthorized");
        let responses = Family::<ResponseLabels, Counter>::default();
        service.register(
            "responses",
            "Responses sent, by status and, for authentication failures, by the reason the guard recorded",
            responses.clone(),
        );
        // 100 µs to about 1.6 s, each bucket 4 times the one before: a 401
        // takes tens of µs, a starved instance much longer.
        let duration = Histogram::new(exponential_buckets(0.0001, 4.0, 8));
        service.register_with_unit(
            "request_duration",
            "Time from the request's arrival in Rocket to its response, before the body is written",
            Unit::Seconds,
            duration.clone(),
        );
        let in_flight = Gauge::default();
        service.register(
            "requests_in_flight",
            "Requests received and not yet answered or dropped",
            in_flight.clone(),
        );
        service.register_collector(Box::new(DroppedLogLines));
        Metrics {
            registry,
            responses,
            duration,
            in_flight,
        }
    }

    /// Counts a request in flight until the returned value is dropped, so
    /// that a request whose task is cancelled does not stay counted.
    pub(crate) fn in_flight(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// Counts a response with `status` and `reason`, and the time it took
    /// when it is known.
    pub(crate) fn responded(
        &self,
        status: u16,
        reason: Option<&'static str>,
        took: Option<Duration>,
    ) {
        self.responses
            .get_or_create(&ResponseLabels { status, reason })
            .inc();
        if let Some(took) = took {
            self.duration.observe(took.as_secs_f64());
        }
    }

    /// The OpenMetrics text of every metric.
    fn encode(&self) -> Result<String, fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

/// One request in flight; dropping it (with the request) counts it out.
pub(crate) struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// `status="401",reason="invalid_token"`; no `reason` label where no guard
/// recorded one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ResponseLabels {
    status: u16,
    reason: Option<&'static str>,
}

impl EncodeLabelSet for ResponseLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), fmt::Error> {
        ("status", self.status).encode(encoder.encode_label())?;
        if let Some(reason) = self.reason {
            ("reason", reason).encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

/// The log's dropped lines, read from [`logger::dropped_lines`] at each
/// scrape.
#[derive(Debug)]
struct DroppedLogLines;

impl Collector for DroppedLogLines {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let dropped = ConstCounter::new(logger::dropped_lines());
        let metric = encoder.encode_descriptor(
            "log_lines_dropped",
            "Log lines dropped because stdout was closed, failed or too slow",
            None,
            dropped.metric_type(),
        )?;
        dropped.encode(metric)
    }
}

/// OpenMetrics 1.0 text, which Prometheus scrapes (and asks for first).
#[derive(Responder)]
struct OpenMetrics(String, ContentType, NoStore);

/// `GET /metrics`. Not negotiated: one format, which every Prometheus
/// since 2.5 reads.
#[get("/metrics")]
fn metrics(metrics: &State<Metrics>) -> Result<OpenMetrics, rocket::http::Status> {
    let text = metrics
        .encode()
        .map_err(|_| rocket::http::Status::InternalServerError)?;
    let content_type = ContentType::new("application", "openmetrics-text")
        .with_params([("version", "1.0.0"), ("charset", "utf-8")]);
    Ok(OpenMetrics(text, content_type, NoStore))
}
