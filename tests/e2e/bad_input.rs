//! What attackers send and no client would. Each case is answered by the
//! layer named beside it, exactly as pinned here; after each one the server
//! still answers `/example`.

use crate::server::{Answer, NO_CREDENTIALS, Server};

/// hyper's own answer to a request it cannot parse: no catcher, no fairing,
/// no body, and the connection closed.
fn hyper_answer(status: &str) -> String {
    format!("HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: 0\r\ndate: ")
}

/// After a bad request, the server still answers `/example` as ever.
fn assert_still_serving(server: &Server) {
    server
        .exchange("GET", "/example", &[])
        .assert_unauthorized(NO_CREDENTIALS);
}

#[test]
fn malformed_requests_get_hypers_empty_400_or_431_and_a_closed_connection() {
    let server = Server::start("release", &[]);
    let huge_header = format!("X-Big: {}\r\n", "a".repeat(500 << 10));
    let many_headers: String = (0..100).map(|i| format!("X-{i}: a\r\n")).collect();
    for (case, raw, status) in [
        ("a garbage request line", "hello world\r\n\r\n".to_owned(), "400 Bad Request"),
        ("a header without a colon", "GET /example HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n".to_owned(), "400 Bad Request"),
        ("a NUL in the path", "GET /exa\0mple HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(), "400 Bad Request"),
        ("an unknown HTTP version", "GET /example HTTP/9.9\r\nHost: x\r\n\r\n".to_owned(), "400 Bad Request"),
        (
            "two different Content-Lengths",
            "POST /example HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!".to_owned(),
            "400 Bad Request",
        ),
        (
            "a header block of 500 KiB, over hyper's limit of about 400 KiB",
            format!("GET /example HTTP/1.1\r\nHost: x\r\n{huge_header}\r\n"),
            "431 Request Header Fields Too Large",
        ),
        (
            "101 header fields, over hyper's limit of 100",
            format!("GET /example HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n"),
            "431 Request Header Fields Too Large",
        ),
    ] {
        let answer = server.send_raw(raw.as_bytes());
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(head.starts_with(&hyper_answer(status)), "{case}: {answer:?}");
        assert_eq!(head.lines().count(), 4, "{case}: {answer:?}");
        assert_eq!(body, "", "{case}");
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
/// GET, and response fairings (Shield) do not run for it.
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
    assert_still_serving(&server);
}
