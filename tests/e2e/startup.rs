//! Start-up: how the binary refuses a bad configuration (one line on
//! stderr, exit status 1, no panic), and what it takes verbatim.

use crate::server::{NO_CREDENTIALS, Server, run_to_exit};

/// Runs the binary with `vars`, which it must refuse: exit status 1 and one
/// line on stderr, returned without its newline.
fn refusal(vars: &[(&str, &str)]) -> String {
    let (code, stderr) = run_to_exit(vars);
    assert_eq!(code, Some(1), "{vars:?}: {stderr}");
    let line = stderr.strip_suffix('\n').unwrap_or_default();
    assert!(
        !line.is_empty() && !line.contains('\n'),
        "{vars:?}: {stderr:?}"
    );
    line.to_owned()
}

/// Whether `line` has `word` as a word of its own, in any case: `PORT` in
/// `key "PORT"`, not in `ROCKET_PORT` nor `export`.
fn names(line: &str, word: &str) -> bool {
    let part_of_a_word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let lower = line.to_ascii_lowercase();
    lower
        .match_indices(&word.to_ascii_lowercase())
        .any(|(at, _)| {
            !part_of_a_word(lower[..at].chars().next_back())
                && !part_of_a_word(lower[at + word.len()..].chars().next())
        })
}

/// The keys the service checks itself: its own line, word for word.
#[test]
fn a_value_the_service_checks_stops_start_up_with_its_own_line_and_exit_status_1() {
    for (vars, line) in [
        (
            [("ROCKET_STATIC_DIR", " 2024")],
            r#"error: invalid configuration: static_dir " 2024" is not a directory (relative to the working directory)"#,
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
        assert_eq!(refusal(&vars), line, "{vars:?}");
    }
}

/// A realm outside the rule: the rule is ours, word for word; Figment adds
/// the key and the variable it came from.
#[test]
fn a_realm_outside_the_rule_stops_start_up_with_the_rule_naming_the_variable() {
    let line = refusal(&[("ROCKET_REALM", " 007\\")]);
    let rule = r#"error: invalid configuration: realm " 007\\" must be non-empty visible ASCII and spaces, without '"' or '\'"#;
    assert!(line.starts_with(rule), "{line}");
    assert!(line.contains("ROCKET_REALM"), "{line}");
}

/// What we promise for a value Figment refuses: one line that says the
/// configuration is invalid and names the key and its variable, and exit 1.
/// The rest of the line is Figment's, and its wording is not ours to pin.
#[test]
fn a_value_that_is_not_of_its_keys_type_stops_start_up_naming_the_key() {
    let cases = [
        ("ROCKET_PORT", "abc", "port"),
        ("ROCKET_PORT", "65536", "port"),
        ("ROCKET_WORKERS", "many", "workers"),
        ("ROCKET_DRAIN", "soon", "drain"),
        ("ROCKET_DRAIN", "-1", "drain"),
        ("ROCKET_DRAIN", "1.5", "drain"),
        ("ROCKET_DRAIN", "99999999999", "drain"),
    ];
    for (variable, value, key) in cases {
        let line = refusal(&[(variable, value)]);
        assert!(
            line.starts_with("error: invalid configuration: "),
            "{variable}={value}: {line}"
        );
        assert!(names(&line, key), "{variable}={value}: {line}");
        assert!(line.contains("ROCKET_"), "{variable}={value}: {line}");
    }
}

/// The line names the address; the reason after it is the operating
/// system's. The server already listening there is not disturbed.
#[test]
fn a_port_in_use_stops_start_up_with_one_line_naming_the_address_and_exit_status_1() {
    let server = Server::start("release", &[]);
    let line = refusal(&[("ROCKET_PORT", server.port())]);
    let address = format!("error: cannot listen on {}: ", server.address);
    assert!(line.starts_with(&address), "{line}");
    server
        .exchange("GET", "/example", &[])
        .assert_unauthorized(NO_CREDENTIALS);
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
