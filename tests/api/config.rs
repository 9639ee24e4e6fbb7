//! `Rocket.toml`'s profiles resolve to the contract's values, and bad
//! configuration is refused with one line naming the key.

use std::net::{IpAddr, Ipv4Addr};

use rocket::Config;
use rocket::config::LogLevel;
use rocket::figment::providers::Serialized;
use rocket::http::Method;

use rocket_bearer::Realm;
use unauthorized::{ConfigError, Settings};

use crate::helpers::{assert_refused, client_with, rocket_toml as profile};

fn config(profile_name: &str) -> (Config, Settings) {
    let figment = profile(profile_name);
    let config = Config::try_from(&figment).expect("the profile is valid");
    let settings = Settings::from_figment(&figment).expect("the profile is valid");
    (config, settings)
}

#[test]
fn every_profile_listens_on_8080_with_the_example_realm_and_no_server_header() {
    for name in ["default", "debug", "release"] {
        let (config, settings) = config(name);
        assert_eq!(config.port, 8080, "{name}");
        assert_eq!(settings.realm.as_str(), "example", "{name}");
        assert_eq!(settings.static_dir.to_str(), Some("static"), "{name}");
        assert_eq!(config.ident.as_str(), None, "{name}");
    }
}

#[test]
fn the_debug_profile_listens_on_loopback_logs_each_request_and_stops_at_once() {
    let (config, settings) = config("debug");
    assert_eq!(config.address, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(config.log_level, LogLevel::Normal);
    assert_eq!(settings.drain, 0);
}

#[test]
fn the_release_profile_listens_on_loopback_logs_nothing_and_drains_10_s() {
    let (config, settings) = config("release");
    assert_eq!(config.address, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(config.log_level, LogLevel::Off);
    assert_eq!(settings.drain, 10);
}

/// The service handles SIGTERM and SIGINT itself (its drain): Rocket's own
/// handling stays off whatever the configuration says.
#[test]
fn rockets_own_signal_handling_is_off_whatever_the_configuration_says() {
    let shutdown = Serialized::global(
        "shutdown",
        serde_json::json!({"ctrlc": true, "signals": ["term", "hup"], "grace": 7}),
    );
    let client = client_with(profile("release").merge(shutdown));
    let config = client.rocket().config();
    assert!(!config.shutdown.ctrlc);
    assert!(config.shutdown.signals.is_empty());
    assert_eq!(config.shutdown.grace, 7);
}

#[test]
fn another_realm_changes_the_challenge() {
    for (realm, challenge) in [
        ("staging api", r#"Bearer realm="staging api""#),
        (
            "a!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
            r#"Bearer realm="a!#$%&'()*+,-./:;<=>?@[]^_`{|}~""#,
        ),
    ] {
        let client = client_with(profile("debug").merge(("realm", realm)));
        let response = client.get("/example").dispatch();
        assert_refused(response, Method::Get, challenge);

        let response = client
            .get("/example")
            .header(rocket::http::Header::new("Authorization", "Bearer x"))
            .dispatch();
        let invalid = format!(r#"{}, error="invalid_token""#, &challenge);
        assert_refused(response, Method::Get, &invalid);
    }
}

#[test]
fn a_realm_is_text_and_a_number_in_the_configuration_is_refused() {
    let figment = profile("debug").merge(("realm", "2024"));
    let settings = Settings::from_figment(&figment).expect("a quoted number is a realm");
    assert_eq!(settings.realm.as_str(), "2024");

    let figment = profile("debug").merge(("realm", 1.50));
    let error = unauthorized::custom(figment).expect_err("a float is no realm");
    assert_one_line_naming(&error, "realm");
}

/// What we promise for a value Figment refuses: one line that says the
/// configuration is invalid and names the key. The rest is Figment's
/// wording, not ours to pin.
fn assert_one_line_naming(error: &ConfigError, key: &str) {
    let message = error.to_string();
    assert!(message.starts_with("invalid configuration: "), "{message}");
    assert!(!message.contains('\n'), "{message}");
    assert!(names(&message, key), "{key} not named in {message}");
}

/// Whether `message` has `key` as a word of its own, in any case: `port` in
/// `key "global.port"`, not in `export`.
fn names(message: &str, key: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let lower = message.to_ascii_lowercase();
    lower
        .match_indices(&key.to_ascii_lowercase())
        .any(|(at, _)| {
            !word(lower[..at].chars().next_back()) && !word(lower[at + key.len()..].chars().next())
        })
}

#[test]
fn a_realm_outside_the_rule_is_refused_naming_the_key() {
    for bad in [
        "",
        "a\"b",
        "a\\b",
        "café",
        "tab\there",
        "line\nbreak",
        "nul\0",
        "del\x7f",
    ] {
        let figment = profile("debug").merge(("realm", bad));
        let error = unauthorized::custom(figment).expect_err(bad);
        // The rule is ours, word for word; Figment adds where the key is.
        let message = error.to_string();
        let rule = format!(
            "invalid configuration: realm {bad:?} must be non-empty visible ASCII and spaces, without '\"' or '\\'"
        );
        assert!(message.starts_with(&rule), "{message}");
        assert!(!message.contains('\n'), "{message}");
        assert!(Realm::new(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn a_missing_static_directory_is_refused_naming_the_key() {
    let figment = profile("debug").merge(("static_dir", "no/such/dir"));
    let error = unauthorized::custom(figment).expect_err("no such directory");
    assert!(
        matches!(&error, ConfigError::MissingStaticDir(dir) if dir.to_str() == Some("no/such/dir")),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "invalid configuration: static_dir \"no/such/dir\" is not a directory (relative to the working directory)"
    );
}

#[test]
fn a_port_that_is_not_a_number_is_refused_naming_the_key() {
    let figment = profile("debug").merge(("port", "abc"));
    let error = unauthorized::custom(figment).expect_err("abc is no port");
    assert_one_line_naming(&error, "port");
}

/// tokio would panic on a runtime without threads of either kind.
#[test]
fn zero_workers_or_blocking_threads_are_refused_naming_the_key() {
    for key in ["workers", "max_blocking"] {
        let figment = profile("debug").merge((key, 0));
        let error = unauthorized::custom(figment).expect_err("0 threads");
        assert_eq!(
            error.to_string(),
            format!("invalid configuration: {key} is 0, it must be at least 1")
        );
    }
}
