//! `/metrics`, read as Prometheus reads it: N requests move the right series
//! by exactly N, and a flood of random paths and methods adds no series.

use std::collections::BTreeMap;

use crate::server::{Answer, INVALID_TOKEN, NO_CREDENTIALS, Server, request, send_raw};

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

    /// How much `series` grew since `before`.
    fn delta(&self, before: &Scrape, series: &str) -> f64 {
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

pub const MISSING: &str =
    r#"unauthorized_responses_total{status="401",reason="missing_credentials"}"#;
const INVALID: &str = r#"unauthorized_responses_total{status="401",reason="invalid_token"}"#;
const OK: &str = r#"unauthorized_responses_total{status="200"}"#;
const NOT_FOUND: &str = r#"unauthorized_responses_total{status="404"}"#;
const BAD_REQUEST: &str = r#"unauthorized_responses_total{status="400"}"#;
const DURATIONS: &str = "unauthorized_request_duration_seconds_count";
const IN_FLIGHT: &str = "unauthorized_requests_in_flight";

const LOG_LINES_DROPPED: &str = "unauthorized_log_lines_dropped_total";

/// The release profile with its log on, so that each request queues a line
/// and the count of dropped ones has something to count.
#[test]
fn n_requests_to_example_move_their_series_by_exactly_n() {
    const N: usize = 25;
    let server = Server::start("release", &[("ROCKET_LOG_LEVEL", "normal")]);
    let before = scrape(&server.address);
    for _ in 0..N {
        server
            .exchange("GET", "/example", &[])
            .assert_unauthorized(NO_CREDENTIALS);
    }
    for _ in 0..N * 2 {
        server
            .exchange("POST", "/example?x=1", &["Authorization: Bearer abc"])
            .assert_unauthorized(INVALID_TOKEN);
    }
    let after = scrape(&server.address);
    assert_eq!(after.delta(&before, MISSING), N as f64, "{after:#?}");
    assert_eq!(after.delta(&before, INVALID), (N * 2) as f64, "{after:#?}");
    // The first scrape, counted once it was answered; and its duration too.
    assert_eq!(after.delta(&before, OK), 1.0, "{after:#?}");
    assert_eq!(after.delta(&before, DURATIONS), (N * 3 + 1) as f64);
    // Only the scrape itself is in flight.
    assert_eq!(after.value(IN_FLIGHT), 1.0, "{after:#?}");
    assert!(after.value("process_start_time_seconds") > 1.7e9);
    // Every line of these requests was queued, and stdout (read by the
    // harness) took them all: the series is there, and at 0.
    assert_eq!(after.0.get(LOG_LINES_DROPPED), Some(&0.0), "{after:#?}");
}

#[test]
fn random_paths_and_methods_add_no_series() {
    let server = Server::start("release", &[]);
    // One 404 and one 400 first, so that their series exist.
    assert_eq!(
        server.exchange("GET", "/nothing", &[]).status_line,
        "HTTP/1.1 404 Not Found"
    );
    assert_eq!(
        server.exchange("FOO", "/example", &[]).status_line,
        "HTTP/1.1 400 Bad Request"
    );
    scrape(&server.address);
    let before = scrape(&server.address);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        // xorshift: enough variety, and the same paths on every run.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    const FLOOD: u64 = 200;
    let (mut not_found, mut bad_request) = (0, 0);
    for _ in 0..FLOOD {
        let (path, method) = (format!("/{:x}/{:x}", next(), next()), next());
        let method = ["GET", "POST", "DELETE", "PURGE", "BREW", "M-SEARCH"][method as usize % 6];
        // Rocket routes the nine methods it knows (a 404 on these paths),
        // and answers any other with a 400.
        let (status_line, count) = match method {
            "GET" | "POST" | "DELETE" => ("HTTP/1.1 404 Not Found", &mut not_found),
            _ => ("HTTP/1.1 400 Bad Request", &mut bad_request),
        };
        *count += 1;
        let answer = server.exchange(method, &path, &[]);
        assert_eq!(answer.status_line, status_line, "{method} {path}");
    }
    let after = scrape(&server.address);
    let series = |scrape: &Scrape| scrape.0.keys().cloned().collect::<Vec<_>>();
    assert_eq!(series(&after), series(&before));
    assert_eq!(after.delta(&before, NOT_FOUND), f64::from(not_found));
    assert_eq!(after.delta(&before, BAD_REQUEST), f64::from(bad_request));
}
