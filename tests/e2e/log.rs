//! The log: one JSON line per request at `normal`, none at `off`, never a
//! token or a query string; and a closed or full stdout never stops the
//! server.

use std::cell::Cell;
use std::io::{BufRead, BufReader, Write};
use std::sync::mpsc;
use std::time::Instant;

use serde_json::{Value, json};

use crate::curl::curl_path;
use crate::scrape::scrape;
use crate::server::{
    Answer, INVALID_TOKEN, NO_CREDENTIALS, PATIENCE, Server, Stdout, binary, connect, program,
    request, send_raw, signal, start_unread, wait_until,
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
        let (code, stderr) = child.wait_for_exit();
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "{profile}");
    }
}

/// The name of the log's own thread (`src/logger.rs`).
const LOG_WRITER: &str = "log-writer";

/// Where the log's thread of process `pid` waits, as the kernel names it
/// (`/proc/PID/task/TID/wchan`): `anon_pipe_write` or `pipe_write` while it
/// is blocked writing to a full pipe, a sleep or a futex while it rests or
/// waits for lines.
fn log_writer_waits_in(pid: u32) -> String {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("/proc/PID/task");
    let task = tasks
        .flatten()
        .find(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|comm| comm.trim_end() == LOG_WRITER)
        })
        .unwrap_or_else(|| panic!("no thread named {LOG_WRITER} in process {pid}"));
    std::fs::read_to_string(task.path().join("wchan")).expect("/proc/PID/task/TID/wchan")
}

/// A flood of requests with 16 KB paths on four connections at once, at
/// `normal`, while the harness reads stdout as fast as it comes: no line is
/// dropped, and every request has its line. A writer that paced itself
/// whatever stdout did (it once rested 10 ms after every 64 KiB it wrote:
/// at most about 400 of these lines a second) drops lines here. Bounded:
/// 2000 requests, within [`PATIENCE`].
#[test]
fn under_load_every_request_has_its_line_when_stdout_keeps_up() {
    const CONNECTIONS: usize = 4;
    const EACH: usize = 500;
    let server = Server::start("debug", &[]);
    let raw = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(16_000));
    let deadline = Instant::now() + PATIENCE;
    std::thread::scope(|scope| {
        for _ in 0..CONNECTIONS {
            scope.spawn(|| {
                let mut stream = BufReader::new(server.connect());
                for _ in 0..EACH {
                    assert!(
                        Instant::now() < deadline,
                        "the flood outlasted {PATIENCE:?}"
                    );
                    stream.get_mut().write_all(raw.as_bytes()).expect("sent");
                    let answer = Answer::read_from(&mut stream, false);
                    assert_eq!(answer.status_line, "HTTP/1.1 404 Not Found");
                }
            });
        }
    });
    let dropped = scrape(&server.address).value("unauthorized_log_lines_dropped_total");
    assert_eq!(dropped, 0.0, "lines dropped while stdout kept up");
    let mut lines = 0;
    server.skim_stdout_until(|line| {
        let flood = access(line).is_some_and(|line| line["status"] == 404);
        lines += usize::from(flood);
        lines == CONNECTIONS * EACH
    });
}

/// A log collector that stalls: the pipe fills, then the queue behind it,
/// and only then are lines dropped and counted, the log's thread blocked
/// writing to the full pipe (not resting while stdout could take more).
/// Every request is answered all along, lines flow again once the
/// collector reads, and SIGTERM still stops the server.
#[test]
fn a_full_stdout_drops_lines_only_behind_a_full_pipe_without_stopping_requests_or_signals() {
    let (child, address, stdout) = start_unread(binary(), "debug", &[], Stdout::Unread);
    let stdout = stdout.expect("stdout stays open");
    // Long paths make long lines: the 64 KiB pipe and the 4 MiB queue fill
    // after about 540 of them.
    let path = format!("/{}", "a".repeat(8000));
    let raw = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut stream = BufReader::new(connect(&address));
    let mut sent = 0;
    let mut dropped = 0.0;
    while dropped == 0.0 {
        assert!(sent < 2000, "{sent} requests and no line dropped");
        for _ in 0..10 {
            stream.get_mut().write_all(raw.as_bytes()).expect("sent");
            let answer = Answer::read_from(&mut stream, false);
            assert_eq!(answer.status_line, "HTTP/1.1 404 Not Found");
        }
        sent += 10;
        dropped = scrape(&address).value("unauthorized_log_lines_dropped_total");
    }
    // Each answer comes after its line is queued, and a line is the path
    // and less than 200 bytes more: the first line dropped came after the
    // 4 MiB queue filled behind the full pipe.
    let line = path.len() + 200;
    assert!(
        sent * line >= 4 << 20,
        "a line dropped after {sent} lines of less than {line} bytes"
    );
    let waits_in = log_writer_waits_in(child.id());
    assert!(
        waits_in.contains("pipe_write"),
        "the log's thread waits in {waits_in}"
    );
    let answer = send_raw(&address, request("GET", "/example", &[]).as_bytes());
    Answer::parse(&answer).assert_unauthorized(NO_CREDENTIALS);

    // The collector reads again: once the queue is written, a new request
    // has its line.
    let (marked, marks) = mpsc::channel();
    let collector = std::thread::spawn(move || {
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        while stdout.read_line(&mut line).is_ok_and(|read| read > 0) {
            if line.contains(r#""path":"/after-the-stall""#) {
                let _ = marked.send(());
            }
            line.clear();
        }
    });
    wait_until(
        || {
            let answer = send_raw(&address, request("GET", "/after-the-stall", &[]).as_bytes());
            assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{answer}");
            marks.try_recv().is_ok()
        },
        || "no line came after the stall".to_owned(),
    );
    signal(child.id(), "TERM");
    let (code, stderr) = child.wait_for_exit();
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    collector.join().expect("the collector reads to the end");
    eprintln!("stdout stalled: {dropped} lines dropped after {sent} long requests");
}
