//! Start-up: what the configuration says, and how the binary refuses a bad one.

use std::process::Stdio;

use crate::server::{
    Answer, BINARY, NO_CREDENTIALS, Server, command, free_port, request, run_to_exit, send_raw,
    wait_for_listener,
};

#[test]
fn bad_configuration_stops_start_up_with_one_line_and_exit_status_1() {
    for (vars, line) in [
        (
            [("ROCKET_REALM", " 007\\")],
            r#"error: invalid configuration: realm " 007\\" must be non-empty visible ASCII and spaces, without '"' or '\' for key "realm" in ROCKET_REALM environment variable"#,
        ),
        (
            [("ROCKET_STATIC_DIR", " 2024")],
            r#"error: invalid configuration: static_dir " 2024" is not a directory (relative to the working directory)"#,
        ),
        (
            [("ROCKET_PORT", "abc")],
            r#"error: invalid configuration: invalid type: found string "abc", expected u16 for key "PORT" in `ROCKET_` environment variable(s)"#,
        ),
        (
            [("ROCKET_WORKERS", "many")],
            r#"error: invalid configuration: invalid type: found string "many", expected usize for key "WORKERS" in `ROCKET_` environment variable(s)"#,
        ),
        (
            [("ROCKET_WORKERS", "0")],
            "error: invalid configuration: workers is 0, it must be at least 1",
        ),
        (
            [("ROCKET_MAX_BLOCKING", "0")],
            "error: invalid configuration: max_blocking is 0, it must be at least 1",
        ),
    ] {
        let (code, stderr) = run_to_exit(&vars);
        assert_eq!(code, Some(1), "{vars:?}");
        assert_eq!(stderr, format!("{line}\n"), "{vars:?}");
    }
}

/// The message after the address is the operating system's: Linux's here.
#[test]
fn a_port_in_use_stops_start_up_with_one_line_and_exit_status_1() {
    let server = Server::start("release", &[]);
    let (code, stderr) = run_to_exit(&[("ROCKET_PORT", server.port())]);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        format!(
            "error: cannot listen on {}: Address already in use (os error 98)\n",
            server.address
        )
    );
}

#[test]
fn the_realm_variable_is_taken_verbatim_even_when_it_looks_like_data() {
    for realm in ["007", "[a]", " padded ", "1.50", "true"] {
        let server = Server::start("release", &[("ROCKET_REALM", realm)]);
        let answer = server.exchange("HEAD", "/example", &[]);
        let challenge = format!("Bearer realm=\"{realm}\"");
        assert_eq!(answer.status_line, "HTTP/1.1 401 Unauthorized");
        assert_eq!(answer.header("www-authenticate"), Some(challenge.as_str()));
    }
}

/// `unauthorized | head -1`: once the reader is gone, the service keeps
/// serving in the release profile, which logs nothing but its first line.
#[test]
fn a_closed_stdout_does_not_stop_the_release_server() {
    // A free port, found by binding one and letting it go: the service's
    // "listening on" line cannot be read here, since its stdout is closed.
    let port = free_port().to_string();
    let mut child = command(
        BINARY,
        &[("ROCKET_PROFILE", "release"), ("ROCKET_PORT", &port)],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("the binary starts");
    drop(child.stdout.take());
    let address = format!("127.0.0.1:{port}");
    // Waits until the server accepts: it cannot say so on its stdout.
    let listening = wait_for_listener(&mut child, &address);
    assert_eq!(listening, Ok(()), "the server exited");
    let answer = send_raw(&address, request("GET", "/example", &[]).as_bytes());
    let _ = child.kill();
    let output = child.wait_with_output().expect("the child is reaped");
    Answer::parse(&answer).assert_unauthorized(NO_CREDENTIALS);
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}
