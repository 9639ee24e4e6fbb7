//! What only the wire shows: `Content-Length`, the unknown method's 400 and
//! the log.

use crate::server::{INVALID_TOKEN, NO_CREDENTIALS, Server};

#[test]
fn the_401_on_the_wire_has_a_content_length_of_26() {
    let server = Server::start("release", &[]);
    server
        .exchange("POST", "/example", &[])
        .assert_unauthorized(NO_CREDENTIALS);
}

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
}

#[test]
fn the_debug_log_never_shows_the_token() {
    let server = Server::start("debug", &[]);
    server
        .exchange("GET", "/example", &["Authorization: Bearer s3cr3t-t0ken"])
        .assert_unauthorized(INVALID_TOKEN);
    let log = server.stdout_until(|line| line.contains("Response succeeded"));
    assert!(
        log.iter().any(|line| line.contains("GET /example")),
        "{log:#?}"
    );
    assert!(!log.iter().any(|line| line.contains("s3cr3t")), "{log:#?}");
}
