//! Start-up: what the configuration says, and how the binary refuses a bad one.

use crate::server::{Server, run_to_exit};

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

/// What we promise for a bad `drain`: one line that says the configuration
/// is invalid and names the key and its variable, and exit 1. The rest of
/// the line is Figment's, and its wording is not ours to pin.
#[test]
fn a_drain_that_is_not_a_whole_number_of_seconds_stops_start_up_naming_the_key() {
    for value in ["soon", "-1", "1.5", "99999999999"] {
        let (code, stderr) = run_to_exit(&[("ROCKET_DRAIN", value)]);
        assert_eq!(code, Some(1), "{value}");
        assert_eq!(stderr.lines().count(), 1, "{value}: {stderr}");
        assert!(
            stderr.starts_with("error: invalid configuration: "),
            "{value}: {stderr}"
        );
        assert!(stderr.contains(r#"key "DRAIN""#), "{value}: {stderr}");
        assert!(stderr.contains("`ROCKET_`"), "{value}: {stderr}");
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
