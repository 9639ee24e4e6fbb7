//! `/metrics`, read as Prometheus reads it: the samples of one scrape.

use std::collections::BTreeMap;

use crate::server::{Answer, request, send_raw};

/// The exact `Content-Type` README.md gives.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One scrape: each sample's value by its name and labels, as written
/// (`unauthorized_responses_total{status="401",reason="invalid_token"}`).
#[derive(Debug)]
pub struct Scrape(BTreeMap<String, f64>);

impl Scrape {
    /// The value of `series`, 0 when it is absent (a counter not yet
    /// incremented has no series).
    pub fn value(&self, series: &str) -> f64 {
        self.0.get(series).copied().unwrap_or(0.0)
    }

    /// The value of `series`, `None` when it is absent.
    pub fn get(&self, series: &str) -> Option<f64> {
        self.0.get(series).copied()
    }

    /// Every series, in order.
    pub fn series(&self) -> impl Iterator<Item = &String> {
        self.0.keys()
    }

    /// How much `series` grew since `before`.
    pub fn delta(&self, before: &Scrape, series: &str) -> f64 {
        self.value(series) - before.value(series)
    }
}

/// `GET /metrics` on a new connection: see [`read_scrape`].
pub fn scrape(address: &str) -> Scrape {
    read_scrape(Answer::parse(&send_raw(
        address,
        request("GET", "/metrics", &[]).as_bytes(),
    )))
}

/// The samples of the answer to `GET /metrics`, which must be a 200 in the
/// OpenMetrics text format, not to be stored, that ends with `# EOF`.
pub fn read_scrape(answer: Answer) -> Scrape {
    assert_eq!(answer.status_line, "HTTP/1.1 200 OK", "{answer:#?}");
    assert_eq!(answer.header("content-type"), Some(OPENMETRICS));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert!(answer.body.ends_with("# EOF\n"), "{}", answer.body);
    let samples = answer
        .body
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a series and its value");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect();
    Scrape(samples)
}

/// The series of the refusals without credentials.
pub const MISSING: &str =
    r#"unauthorized_responses_total{status="401",reason="missing_credentials"}"#;
