//! The log: at every level Rocket.toml sets, the token never shows.

use crate::server::{INVALID_TOKEN, Server};

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
