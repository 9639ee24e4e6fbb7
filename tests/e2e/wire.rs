//! What only the wire shows: `Content-Length` and the log.

use crate::server::{INVALID_TOKEN, NO_CREDENTIALS, Server};

#[test]
fn the_401_on_the_wire_has_a_content_length_of_26() {
    let server = Server::start("release", &[]);
    server
        .exchange("POST", "/example", &[])
        .assert_unauthorized(NO_CREDENTIALS);
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
