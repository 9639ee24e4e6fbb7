//! curl, as README.md shows it: every method, HEAD with `-I`, HTTP/1.0 and
//! HTTP/2 with prior knowledge (Rocket serves h2c on its plain port).

use std::process::Command;

use crate::server::{
    Answer, Body, INVALID_TOKEN, NO_CREDENTIALS, Server, UNAUTHORIZED, UNAUTHORIZED_PROBLEM,
};

/// Runs `curl -sS --max-time 10 <args> http://ADDRESS/example` and parses
/// what it prints; curl must succeed.
fn curl(server: &Server, args: &[&str]) -> Answer {
    curl_path(server, args, "/example")
}

/// Like [`curl`], for `path` (with a query, if any).
pub fn curl_path(server: &Server, args: &[&str], path: &str) -> Answer {
    let raw = curl_raw(server, args, path);
    Answer::parse(&String::from_utf8(raw).expect("UTF-8"))
}

/// What `curl -sS --max-time 10 <args>` prints for `path`, byte for byte;
/// curl must succeed.
pub fn curl_raw(server: &Server, args: &[&str], path: &str) -> Vec<u8> {
    let output = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .arg(format!("http://{}{path}", server.address))
        .output()
        .expect("curl runs: apt-get install curl");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "curl {args:?}: {stderr}");
    output.stdout
}

#[test]
fn curl_gets_the_contracts_401_for_every_method_it_sends_with_x() {
    let server = Server::start("release", &[]);
    let methods = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT",
    ];
    for method in methods {
        curl(&server, &["-i", "-X", method]).assert_unauthorized(NO_CREDENTIALS);
        curl(
            &server,
            &["-i", "-X", method, "-H", "Authorization: Bearer abc"],
        )
        .assert_unauthorized(INVALID_TOKEN);
        curl(
            &server,
            &["-i", "-X", method, "-H", "Accept: application/problem+json"],
        )
        .assert_unauthorized_as(
            NO_CREDENTIALS,
            "application/problem+json",
            Body::Full(UNAUTHORIZED_PROBLEM),
        );
    }
}

#[test]
fn curl_head_shows_the_headers_and_no_body() {
    let server = Server::start("release", &[]);
    curl(&server, &["-I"]).assert_unauthorized_as(
        NO_CREDENTIALS,
        "application/json",
        Body::HeadOf(UNAUTHORIZED),
    );
}

#[test]
fn curl_over_http_1_0_gets_the_same_401() {
    let server = Server::start("release", &[]);
    let answer = curl(&server, &["-i", "--http1.0"]);
    assert_eq!(answer.status_line, "HTTP/1.0 401 Unauthorized");
    answer.assert_unauthorized(NO_CREDENTIALS);
}

/// HTTP/2 has no reason phrase: curl prints `HTTP/2 401 `.
#[test]
fn curl_over_h2c_gets_the_same_401() {
    let server = Server::start("release", &[]);
    for (args, body) in [
        (["-i", "-X", "POST"], Body::Full(UNAUTHORIZED)),
        (["-I", "-H", "Accept: */*"], Body::HeadOf(UNAUTHORIZED)),
    ] {
        let answer = curl(&server, &[&["--http2-prior-knowledge"], &args[..]].concat());
        assert_eq!(answer.status_line, "HTTP/2 401 ");
        answer.assert_unauthorized_as(NO_CREDENTIALS, "application/json", body);
    }
}
