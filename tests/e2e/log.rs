//! The log: one JSON line per request at `normal`, none at `off`, never a
//! token or a query string; and a closed or full stdout never stops the
//! server.

use std::cell::Cell;
use std::process::Child;

use serde_json::{Value, json};

use crate::curl::curl_path;
use crate::metrics::scrape;
use crate::server::{
    Answer, BINARY, INVALID_TOKEN, NO_CREDENTIALS, Server, Stdout, connect, program, request,
    send_raw, signal, start_unread, wait_until,
};

/// The access line of `line`, without its timestamp and duration, which
/// vary; `None` for any other line. Fails on an access line without a
/// timestamp, or with a duration that is not a whole number of µs.
fn access(line: &str) -> Option<Value> {
    let mut value: Value = serde_json::from_str(line).ok()?;
    let object = value.as_object_mut()?;
    if object.get("target")? != "access" {
        return None;
    }
    let timestamp = object.remove("timestamp");
    assert!(timestamp.is_some_and(|t| t.is_string()), "{line}");
    if let Some(duration) = object.remove("duration_us") {
        assert!(duration.is_u64(), "{line}");
    }
    Some(value)
}

#[test]
fn each_request_is_one_json_line_without_query_token_or_credentials() {
    let server = Server::start("debug", &[]);
    let secret = ["Authorization: Bearer s3cr3t-t0ken"];
    server
        .exchange("GET", "/example?access_token=qu3ry-t0ken", &secret)
        .assert_unauthorized(INVALID_TOKEN);
    server
        .exchange("HEAD", "/example/", &[])
        .assert_unauthorized_as(
            NO_CREDENTIALS,
            "application/json",
            crate::server::Body::HeadOf(crate::server::UNAUTHORIZED),
        );
    let foo = server.exchange("FOO", "/example?access_token=qu3ry-t0ken", &secret);
    assert_eq!(foo.status_line, "HTTP/1.1 400 Bad Request");
    let missing = server.exchange("POST", "/nothing?a=b", &[]);
    assert_eq!(missing.status_line, "HTTP/1.1 404 Not Found");
    let healthz = server.exchange("GET", "/healthz", &[]);
    assert_eq!(healthz.status_line, "HTTP/1.1 200 OK");

    // After the listening line, Rocket's last launch message, then one
    // access line per request and nothing else.
    let log = server.stdout_until(|line| line.contains(r#""path":"/healthz""#));
    let lines: Vec<Value> = log
        .iter()
        .filter(|line| !line.contains(r#""target":"rocket::launch""#))
        .map(|line| access(line).unwrap_or_else(|| panic!("not an access line: {line}")))
        .collect();
    let line = |fields: Value| {
        let mut line = json!({"level": "INFO", "target": "access"});
        let object = line.as_object_mut().expect("an object");
        object.extend(fields.as_object().expect("an object").clone());
        line
    };
    assert_eq!(
        lines,
        [
            line(
                json!({"method": "GET", "path": "/example", "status": 401, "reason": "invalid_token"})
            ),
            line(
                json!({"method": "HEAD", "path": "/example/", "status": 401, "reason": "missing_credentials"})
            ),
            // Rocket records an unknown method as GET: the line names none.
            line(json!({"path": "/example", "status": 400})),
            line(json!({"method": "POST", "path": "/nothing", "status": 404})),
            line(json!({"method": "GET", "path": "/healthz", "status": 200})),
        ]
    );
    for forbidden in ["s3cr3t", "qu3ry", "access_token", "?a=b", "Authorization"] {
        assert!(
            !log.iter().any(|line| line.contains(forbidden)),
            "{forbidden} in {log:#?}"
        );
    }
}

/// At `debug`, Rocket logs each request whole, headers included, and h2
/// describes every frame: the service drops those records, and Rocket's
/// other per-request ones, over HTTP/1.1 and HTTP/2 alike.
#[test]
fn the_debug_log_level_shows_no_token_either() {
    let server = Server::start("debug", &[("ROCKET_LOG_LEVEL", "debug")]);
    let path = "/example?access_token=qu3ry-t0ken";
    let secret = "Authorization: Bearer s3cr3t-t0ken";
    server
        .exchange("GET", path, &[secret])
        .assert_unauthorized(INVALID_TOKEN);
    curl_path(
        &server,
        &["-i", "--http2-prior-knowledge", "-H", secret],
        path,
    )
    .assert_unauthorized(INVALID_TOKEN);
    let accesses = std::cell::Cell::new(0);
    let log = server.stdout_until(|line| {
        accesses.set(accesses.get() + usize::from(access(line).is_some()));
        accesses.get() == 2
    });
    for forbidden in ["s3cr3t", "qu3ry", "access_token", "uthorization"] {
        assert!(
            !log.iter().any(|line| line.contains(forbidden)),
            "{forbidden} in {log:#?}"
        );
    }
    // Rocket's launch messages, then the access lines: nothing from hyper
    // or h2.
    for line in &log {
        let target = serde_json::from_str::<Value>(line).expect("a JSON line")["target"].clone();
        let target = target.as_str().expect("a target");
        assert!(
            target == "access" || target.starts_with("rocket::"),
            "{line}"
        );
    }
}

/// The release profile's `log_level = "off"`: the listening line, then
/// nothing but the service's own line about the signal; with no drain
/// (the harness's `ROCKET_DRAIN=0`), no line announces one.
#[test]
fn the_release_profile_logs_no_request() {
    let server = Server::start("release", &[]);
    for _ in 0..3 {
        server
            .exchange("GET", "/example", &[])
            .assert_unauthorized(NO_CREDENTIALS);
    }
    server.signal("TERM");
    let log = server.stdout_until(|line| line.contains("shutting down"));
    assert_eq!(
        log,
        ["SIGTERM: shutting down, requests in flight have 2 s of grace and 3 s of mercy"]
    );
    let (status, stderr) = server.wait_for_exit();
    assert_eq!((status.code(), stderr.as_str()), (Some(0), ""));
}

/// Waits for `child` to exit: its status and stderr.
fn wait_for_exit(mut child: Child) -> (Option<i32>, String) {
    let mut status = None;
    wait_until(
        || {
            status = child.try_wait().expect("the child can be waited for");
            status.is_some()
        },
        || "the server did not exit".to_owned(),
    );
    let output = child.wait_with_output().expect("the child is reaped");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (status.and_then(|status| status.code()), stderr)
}

/// `unauthorized | head -0`: with its stdout closed before it prints a
/// line, the server serves, logs nothing, and exits 0 on SIGTERM, in both
/// profiles.
#[test]
fn a_closed_stdout_does_not_stop_the_server_nor_its_shutdown() {
    for profile in ["debug", "release"] {
        let (child, address, _) = start_unread(&program(), profile, &[], Stdout::Closed);
        for _ in 0..3 {
            let answer = send_raw(&address, request("GET", "/example", &[]).as_bytes());
            Answer::parse(&answer).assert_unauthorized(NO_CREDENTIALS);
        }
        // The listening line at least; at `normal`, Rocket's launch
        // messages and an access line per request too. The log's own thread
        // writes (and fails) after the answers, so the count is awaited.
        let least = if profile == "debug" { 4.0 } else { 1.0 };
        let dropped = Cell::new(0.0);
        wait_until(
            || {
                dropped.set(scrape(&address).value("unauthorized_log_lines_dropped_total"));
                dropped.get() >= least
            },
            || {
                format!(
                    "{profile}: {} lines counted as dropped, not {least}",
                    dropped.get()
                )
            },
        );
        signal(child.id(), "TERM");
        let (code, stderr) = wait_for_exit(child);
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "{profile}");
    }
}

/// A log collector that stalls: the pipe fills, then the queue, then lines
/// are dropped and counted, while every request is answered and SIGTERM
/// still stops the server.
#[test]
fn a_full_stdout_drops_lines_without_stopping_requests_or_signals() {
    let (child, address, _stdout) = start_unread(BINARY, "debug", &[], Stdout::Unread);
    // Long paths make long lines: the 64 KiB pipe and the 4 MiB queue fill
    // after about 540 of them.
    let path = format!("/{}", "a".repeat(8000));
    let raw = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut stream = std::io::BufReader::new(connect(&address));
    let mut sent = 0;
    let mut dropped = 0.0;
    while dropped == 0.0 {
        assert!(sent < 2000, "{sent} requests and no line dropped");
        for _ in 0..100 {
            std::io::Write::write_all(stream.get_mut(), raw.as_bytes()).expect("sent");
            let answer = Answer::read_from(&mut stream, false);
            assert_eq!(answer.status_line, "HTTP/1.1 404 Not Found");
        }
        sent += 100;
        dropped = scrape(&address).value("unauthorized_log_lines_dropped_total");
    }
    let answer = send_raw(&address, request("GET", "/example", &[]).as_bytes());
    Answer::parse(&answer).assert_unauthorized(NO_CREDENTIALS);
    signal(child.id(), "TERM");
    let (code, stderr) = wait_for_exit(child);
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    eprintln!("stdout never read: {dropped} lines dropped after {sent} long requests");
}
