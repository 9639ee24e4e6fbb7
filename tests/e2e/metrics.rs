//! `/metrics`, read as Prometheus reads it: N requests move the right series
//! by exactly N, and a flood of random paths and methods adds no series.

use crate::scrape::{MISSING, Scrape, scrape};
use crate::server::{INVALID_TOKEN, NO_CREDENTIALS, Server};

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
    assert_eq!(after.get(LOG_LINES_DROPPED), Some(0.0), "{after:#?}");
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
    let series = |scrape: &Scrape| scrape.series().cloned().collect::<Vec<_>>();
    assert_eq!(series(&after), series(&before));
    assert_eq!(after.delta(&before, NOT_FOUND), f64::from(not_found));
    assert_eq!(after.delta(&before, BAD_REQUEST), f64::from(bad_request));
}
