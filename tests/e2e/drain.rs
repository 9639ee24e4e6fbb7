//! The drain: from the first SIGTERM or SIGINT, `/readyz` answers 503 while
//! every request is still served for `drain` seconds; then the graceful
//! shutdown and exit 0. A second signal ends the drain at once.

use std::time::{Duration, Instant};

use crate::server::{Answer, NO_CREDENTIALS, Server};

/// Checks that `answer` is the readiness document `body` with `status_line`.
fn assert_readiness(answer: &Answer, status_line: &str, body: &str) {
    assert_eq!(answer.status_line, status_line, "{answer:#?}");
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.body, body, "{answer:#?}");
}

fn assert_ready(server: &Server) {
    let answer = server.exchange("GET", "/readyz", &[]);
    assert_readiness(&answer, "HTTP/1.1 200 OK", r#"{"status":"ready"}"#);
}

fn assert_draining(server: &Server) {
    let answer = server.exchange("GET", "/readyz", &[]);
    let unavailable = "HTTP/1.1 503 Service Unavailable";
    assert_readiness(&answer, unavailable, r#"{"status":"draining"}"#);
}

/// The timeline an operator relies on, with its timestamps printed.
#[test]
fn a_drain_answers_every_request_with_readyz_at_503_then_exits_0() {
    const DRAIN: Duration = Duration::from_secs(2);
    let server = Server::start("release", &[("ROCKET_DRAIN", "2")]);
    assert_ready(&server);
    let signalled = Instant::now();
    server.signal("TERM");
    let line = server.stdout_until(|line| line.starts_with("SIGTERM: "));
    let line_at = signalled.elapsed();
    assert_eq!(
        line.last().map(String::as_str),
        Some(
            "SIGTERM: draining for 2 s, /readyz answers 503; a second SIGTERM or SIGINT ends the drain"
        )
    );
    // The first /readyz after the signal's line is already a 503: an order,
    // not a deadline (how soon is printed below, not asserted).
    assert_draining(&server);
    let first_503 = signalled.elapsed();
    // Until shortly before the drain ends (it began before its line was
    // read), every request is answered as usual.
    let mut served = 0;
    while signalled.elapsed() < line_at + DRAIN - Duration::from_millis(300) {
        server
            .exchange("GET", "/example", &[])
            .assert_unauthorized(NO_CREDENTIALS);
        assert_draining(&server);
        served += 1;
    }
    let drain_over = server.stdout_until(|_| true).remove(0);
    let over_at = signalled.elapsed();
    assert_eq!(
        drain_over,
        "drain over: shutting down, requests in flight have 2 s of grace and 3 s of mercy"
    );
    assert!(over_at >= DRAIN, "{over_at:?}");
    let (status, stderr) = server.wait_for_exit();
    let exit_at = signalled.elapsed();
    assert_eq!((status.code(), stderr.as_str()), (Some(0), ""));
    assert!(served > 0);
    eprintln!(
        "SIGTERM at 0; its line at {line_at:?}; first /readyz 503 at {first_503:?}; \
         {served} pairs of /example 401 and /readyz 503 during the drain; \
         drain over at {over_at:?}; exit 0 at {exit_at:?}"
    );
}

#[test]
fn a_second_signal_ends_the_drain_at_once() {
    for (first, second) in [("TERM", "INT"), ("INT", "TERM"), ("TERM", "TERM")] {
        let server = Server::start("release", &[("ROCKET_DRAIN", "600")]);
        server.signal(first);
        server.stdout_until(|line| line.starts_with(&format!("SIG{first}: draining for 600 s")));
        server
            .exchange("GET", "/example", &[])
            .assert_unauthorized(NO_CREDENTIALS);
        server.signal(second);
        let line = server.stdout_until(|line| line.contains("shutting down"));
        assert_eq!(
            line.last().map(String::as_str),
            Some(
                format!("SIG{second}: drain ended: shutting down, requests in flight have 2 s of grace and 3 s of mercy")
                    .as_str()
            )
        );
        let (status, stderr) = server.wait_for_exit();
        assert_eq!(
            (status.code(), stderr.as_str()),
            (Some(0), ""),
            "{first} {second}"
        );
    }
}

/// Rocket's own handling would stop accepting at the first signal: the
/// service turns it off whatever the configuration says.
#[test]
fn rockets_own_signal_handling_stays_off_whatever_the_configuration_says() {
    let shutdown = r#"{ctrlc=true,signals=["term","hup"]}"#;
    let vars = [("ROCKET_DRAIN", "600"), ("ROCKET_SHUTDOWN", shutdown)];
    let server = Server::start("release", &vars);
    server.signal("TERM");
    server.stdout_until(|line| line.starts_with("SIGTERM: draining"));
    // Rocket would have ended its accept loop by now; new connections
    // are still served.
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until {
        server
            .exchange("GET", "/example", &[])
            .assert_unauthorized(NO_CREDENTIALS);
        assert_draining(&server);
    }
    server.signal("INT");
    let (status, stderr) = server.wait_for_exit();
    assert_eq!((status.code(), stderr.as_str()), (Some(0), ""));
}
