//! The page and its files from the real binary: read once at start and
//! served from memory, revalidated with a 304, and clean to `httplint`
//! (PyPI `httplint`, the linter behind REDbot), which the linting test
//! needs on `PATH`; it is ignored by a plain `cargo test`.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::curl::curl_raw;
use crate::server::{PATIENCE, Server, binary, command};

const NEEDS_HTTPLINT: &str =
    r#"needs httplint: run tools/python-venv, then export PATH="$PWD/.venv/bin:$PATH""#;

/// The page and the files it names.
const FILES: [&str; 4] = ["index.html", "app.js", "style.css", "icon.svg"];

#[test]
fn the_files_are_served_as_they_were_when_the_server_started() {
    let dir = copy_of_static();
    let server = start_serving(dir.path());
    let page = fs::read_to_string(dir.path().join("index.html")).expect("the page");
    let script = fs::read_to_string(dir.path().join("app.js")).expect("the script");
    fs::write(dir.path().join("index.html"), "changed").expect("the page is changed");
    fs::remove_file(dir.path().join("app.js")).expect("the script is removed");
    fs::write(dir.path().join("new.js"), "new").expect("a file is added");

    for (path, body) in [("/", &page), ("/app.js", &script)] {
        let answer = server.exchange("GET", path, &[]);
        assert_eq!(answer.status_line, "HTTP/1.1 200 OK", "{path}");
        assert_eq!(&answer.body, body, "{path}");
    }
    let answer = server.exchange("GET", "/new.js", &[]);
    assert_eq!(answer.status_line, "HTTP/1.1 404 Not Found");
    assert_eq!(answer.body, r#"{"message":"Not Found"}"#);
}

#[test]
fn a_revalidation_is_a_304_with_only_the_validator_and_the_caching_policy() {
    let server = Server::start("release", &[]);
    let tag = etag_of(&server, "/");
    let header = format!("If-None-Match: {tag}");
    let answer = server.exchange("GET", "/", &[&header]);
    assert_eq!(answer.status_line, "HTTP/1.1 304 Not Modified");
    assert_eq!(
        answer.sorted_headers(),
        [
            ("cache-control", "no-cache"),
            ("etag", tag.as_str()),
            ("permissions-policy", "interest-cohort=()"),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "SAMEORIGIN"),
        ]
    );
    assert_eq!(answer.body, "");
}

#[test]
fn a_file_that_cannot_be_read_stops_start_up_with_one_line_naming_it() {
    let dir = copy_of_static();
    // Unreadable even by root: a symbolic link to nothing.
    let gone = dir.path().join("gone.js");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &gone).expect("a dangling link");
    let static_dir = dir.path().to_str().expect("a UTF-8 path");
    let (code, stderr) = exit_of(&[
        ("ROCKET_PROFILE", "debug"),
        ("ROCKET_STATIC_DIR", static_dir),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    let prefix = format!(
        "error: invalid configuration: static_dir: cannot read {:?}: ",
        gone.display().to_string()
    );
    assert!(stderr.starts_with(&prefix), "{stderr:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
}

#[test]
#[ignore = "needs httplint: tools/python-venv, then .venv/bin first on PATH"]
fn httplint_finds_nothing_to_warn_about_on_the_page_its_files_or_a_304() {
    let server = Server::start("release", &[]);
    let tag = etag_of(&server, "/");
    let revalidation = format!("If-None-Match: {tag}");
    let mut cases: Vec<(String, Vec<&str>)> = FILES
        .iter()
        .map(|file| (format!("/{file}"), vec!["-i"]))
        .collect();
    cases[0].0 = "/".to_owned();
    cases.push(("/".to_owned(), vec!["-i", "-H", &revalidation]));
    for (path, args) in cases {
        let raw = curl_raw(&server, &args, &path);
        assert!(
            raw.starts_with(b"HTTP/1.1 200 ") || raw.starts_with(b"HTTP/1.1 304 "),
            "{path} {args:?}"
        );
        let notes = httplint(&raw);
        let levels: Vec<&str> = notes
            .lines()
            .filter_map(|line| line.trim_start().strip_prefix("* ["))
            .filter_map(|rest| rest.split_once(']'))
            .map(|(level, _)| level)
            .collect();
        assert!(!levels.is_empty(), "{path} {args:?}: no notes in {notes}");
        assert!(
            levels.iter().all(|level| matches!(*level, "GOOD" | "INFO")),
            "{path} {args:?}:\n{notes}"
        );
    }
}

/// Runs the binary with `vars` until it exits: its status code and stderr.
/// One that is still running after [`PATIENCE`] (it started) is killed, and
/// the test fails.
fn exit_of(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut child = command(binary(), vars)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the binary did not exit: it started");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    let mut pipe = child.stderr.take().expect("stderr is piped");
    pipe.read_to_string(&mut stderr).expect("stderr is UTF-8");
    (status.code(), stderr)
}

/// A copy of the repository's `static/`, for a test to change.
fn copy_of_static() -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("unauthorized-static-")
        .tempdir()
        .expect("a temporary directory");
    for file in FILES {
        fs::copy(Path::new("static").join(file), dir.path().join(file)).expect("a copy");
    }
    dir
}

/// The binary in the debug profile, serving `dir`.
fn start_serving(dir: &Path) -> Server {
    let dir = dir.to_str().expect("a UTF-8 path");
    Server::start("debug", &[("ROCKET_STATIC_DIR", dir)])
}

/// The `ETag` of a GET of `path`.
fn etag_of(server: &Server, path: &str) -> String {
    let answer = server.exchange("GET", path, &[]);
    answer.header("etag").expect("an ETag").to_owned()
}

/// httplint's notes on the response `raw`, as it prints them (`* [LEVEL]
/// summary`), with the exchange taken to have happened now.
fn httplint(raw: &[u8]) -> String {
    let mut child = Command::new("httplint")
        .arg("--now")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{NEEDS_HTTPLINT} ({e})"));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(raw).expect("httplint reads the response");
    drop(stdin);
    let output = child.wait_with_output().expect("httplint runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 notes");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "httplint failed: {stderr}{stdout}");
    stdout
}
