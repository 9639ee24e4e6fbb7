//! What attackers send and no client would. After each case the server
//! still answers `/example`.

use std::io::{ErrorKind, Read, Write};

use proptest::prelude::Strategy;
use proptest::test_runner::{Config, TestRunner};

use crate::accept::{accept, prefers_problem};
use crate::server::{Answer, NO_CREDENTIALS, Server};

/// After a bad request, the server still answers `/example` as ever.
fn assert_still_serving(server: &Server) {
    server
        .exchange("GET", "/example", &[])
        .assert_unauthorized(NO_CREDENTIALS);
}

/// Sends `raw` on a new connection and reads until the server closes it:
/// whatever came back. A reset, while sending or reading, closes the
/// connection too; a server that keeps it open fails the test.
fn send_malformed(server: &Server, raw: &[u8]) -> Vec<u8> {
    let reset =
        |e: &std::io::Error| matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe);
    let mut stream = server.connect();
    if let Err(e) = stream.write_all(raw) {
        assert!(reset(&e), "while sending: {e}");
    }
    let mut answer = Vec::new();
    if let Err(e) = stream.read_to_end(&mut answer) {
        assert!(reset(&e), "the server keeps the connection open: {e}");
    }
    answer
}

/// What we promise for a request the HTTP layer cannot parse (CONTRACT.md,
/// "Every other error is JSON too"): a closed connection, with nothing or
/// an empty 4xx before it. Which 4xx, and its headers, are hyper's.
fn assert_empty_4xx_or_nothing(case: &str, answer: &[u8]) {
    if answer.is_empty() {
        return;
    }
    let text = String::from_utf8_lossy(answer);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{case}: half an answer: {text:?}"));
    let status = head.split(' ').nth(1).unwrap_or_default();
    assert!(
        status.len() == 3 && status.starts_with('4'),
        "{case}: {text:?}"
    );
    assert_eq!(body, "", "{case}: {text:?}");
    let length = Answer::parse(&text)
        .header("content-length")
        .map(str::to_owned);
    assert!(
        matches!(length.as_deref(), None | Some("0")),
        "{case}: {text:?}"
    );
}

#[test]
fn malformed_requests_get_an_empty_4xx_or_a_closed_connection_and_the_server_still_serves() {
    let server = Server::start("release", &[]);
    let huge_header = format!("X-Big: {}\r\n", "a".repeat(500 << 10));
    let many_headers: String = (0..100).map(|i| format!("X-{i}: a\r\n")).collect();
    for (case, raw) in [
        ("a garbage request line", "hello world\r\n\r\n".to_owned()),
        ("a header without a colon", "GET /example HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n".to_owned()),
        ("a NUL in the path", "GET /exa\0mple HTTP/1.1\r\nHost: x\r\n\r\n".to_owned()),
        ("an unknown HTTP version", "GET /example HTTP/9.9\r\nHost: x\r\n\r\n".to_owned()),
        (
            "two different Content-Lengths",
            "POST /example HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!".to_owned(),
        ),
        (
            "a header block of 500 KiB",
            format!("GET /example HTTP/1.1\r\nHost: x\r\n{huge_header}\r\n"),
        ),
        (
            "101 header fields",
            format!("GET /example HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n"),
        ),
    ] {
        let answer = send_malformed(&server, raw.as_bytes());
        assert_empty_4xx_or_nothing(case, &answer);
        assert_still_serving(&server);
    }
}

/// RFC 9112 §6.3: `Transfer-Encoding` overrides `Content-Length`, and the
/// connection must be closed after the response; hyper does both.
#[test]
fn content_length_with_transfer_encoding_is_read_as_chunked_and_the_connection_closed() {
    let server = Server::start("release", &[]);
    let answer = server.send_raw(
        b"POST /example HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    let answer = Answer::parse(&answer);
    assert_eq!(answer.header("connection"), Some("close"));
    answer.assert_unauthorized(NO_CREDENTIALS);
    assert_still_serving(&server);
}

/// Rocket knows nine methods; any other is routed to the 400 catcher as a
/// GET, and response fairings (Shield) do not run for it. Its body is
/// negotiated like every error's.
#[test]
fn an_unknown_method_is_a_json_400_without_shield_headers() {
    let server = Server::start("release", &[]);
    let answer = server.exchange("FOO", "/example", &[]);
    assert_eq!(answer.status_line, "HTTP/1.1 400 Bad Request");
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.header("content-length"), Some("25"));
    assert_eq!(answer.header("vary"), Some("Accept"));
    assert_eq!(answer.header("x-content-type-options"), None);
    assert_eq!(answer.body, r#"{"message":"Bad Request"}"#);

    let problem = r#"{"type":"about:blank","title":"Bad Request","status":400}"#;
    let answer = server.exchange("FOO", "/example", &["Accept: application/problem+json"]);
    assert_eq!(answer.status_line, "HTTP/1.1 400 Bad Request");
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    let length = problem.len().to_string();
    assert_eq!(answer.header("content-length"), Some(length.as_str()));
    assert_eq!(answer.header("vary"), Some("Accept"));
    assert_eq!(answer.body, problem);
    assert_still_serving(&server);
}

/// The nine methods Rocket knows, as it spells them: any other token, in
/// any case, is a method it does not know.
const KNOWN: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH",
];

/// Whatever the method Rocket does not know, the path and the `Accept`
/// headers (from the model in `tests/shared/accept.rs`), over the wire: the
/// contract's 400, its body the one the contract's q-value rule gives, with
/// `Vary: Accept` and no challenge. 256 cases, each on a new connection.
#[test]
fn every_unknown_method_gets_the_json_400_its_accept_calls_for() {
    let server = Server::start("release", &[]);
    // RFC 9110 §9.1: a method is a token.
    let method = proptest::string::string_regex("[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,11}")
        .expect("a valid pattern")
        .prop_filter("a method Rocket knows", |method| {
            !KNOWN.contains(&method.as_str())
        });
    let path = proptest::string::string_regex("/[a-z0-9/._~-]{0,20}").expect("a valid pattern");
    let strategy = (method, path, proptest::option::of(accept()));
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |(method, path, accept)| {
        let headers: Vec<String> = accept
            .iter()
            .flat_map(|accept| &accept.values)
            .map(|value| format!("Accept: {value}"))
            .collect();
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let answer = server.exchange(&method, &path, &headers);
        let (content_type, body) = if prefers_problem(&accept) {
            (
                "application/problem+json",
                r#"{"type":"about:blank","title":"Bad Request","status":400}"#,
            )
        } else {
            ("application/json", r#"{"message":"Bad Request"}"#)
        };
        let request = format!("{method} {path} {accept:?}");
        assert_eq!(answer.status_line, "HTTP/1.1 400 Bad Request", "{request}");
        assert_eq!(
            answer.header("content-type"),
            Some(content_type),
            "{request}"
        );
        let length = body.len().to_string();
        assert_eq!(answer.header("content-length"), Some(length.as_str()));
        assert_eq!(answer.header("vary"), Some("Accept"), "{request}");
        assert_eq!(answer.header("www-authenticate"), None, "{request}");
        assert_eq!(answer.body, body, "{request}");
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
