//! The real binary, for what Rocket's local `Client` cannot show: start-up
//! errors and exit status, the variables read verbatim, `Content-Length`,
//! the unknown method's 400, and the log. (curl, malformed input, load and
//! shutdown on the wire are left to a fuller end-to-end suite.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BINARY: &str = env!("CARGO_BIN_EXE_unauthorized");

// Each run starts from an empty environment: the `ROCKET_*` variables of
// whoever runs the tests must not change what they prove.

/// Runs the binary with `vars` until it exits: its status code and stderr.
fn run_to_exit(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(BINARY)
        .env_clear()
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", "0")
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8(output.stderr).expect("stderr is UTF-8");
    (output.status.code(), stderr)
}

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
    ] {
        let (code, stderr) = run_to_exit(&vars);
        assert_eq!(code, Some(1), "{vars:?}");
        assert_eq!(stderr, format!("{line}\n"), "{vars:?}");
    }
}

/// The binary, started on an ephemeral loopback port and killed when dropped.
struct Server {
    child: Child,
    address: String,
    /// The child's stdout, line by line, read by a thread that keeps the
    /// pipe drained so that the server never blocks on it.
    stdout: mpsc::Receiver<String>,
}

/// How long a test waits for the server before it fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(30);

impl Server {
    /// Starts the binary in `profile` with `vars`, once it says where it
    /// listens.
    fn start(profile: &str, vars: &[(&str, &str)]) -> Server {
        let mut child = Command::new(BINARY)
            .env_clear()
            .env("ROCKET_PROFILE", profile)
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_PORT", "0")
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        // Built before the wait, so that a failed start still kills the child.
        let mut server = Server {
            child,
            address: String::new(),
            stdout: receiver,
        };
        let lines = server.stdout_until(|line| line.starts_with("listening on http://"));
        let listening = lines.last().map(String::as_str).unwrap_or_default();
        server.address = listening
            .trim_start_matches("listening on http://")
            .to_owned();
        server
    }

    /// The lines the server prints up to the first one that `done` accepts.
    fn stdout_until(&self, done: impl Fn(&str) -> bool) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            match self.stdout.recv_timeout(PATIENCE) {
                Ok(line) => {
                    let last = done(&line);
                    lines.push(line);
                    if last {
                        return lines;
                    }
                }
                Err(e) => panic!("{e}: the server printed {lines:#?}"),
            }
        }
    }

    /// Sends `method path` with `headers` on a new connection, and reads the
    /// answer until the server closes it (`Connection: close`).
    fn exchange(&self, method: &str, path: &str, headers: &[&str]) -> Answer {
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n");
        for header in headers {
            request.push_str(header);
            request.push_str("\r\n");
        }
        request.push_str("Connection: close\r\n\r\n");
        let mut stream = TcpStream::connect(&self.address).expect("the server accepts");
        stream
            .set_read_timeout(Some(PATIENCE))
            .expect("a read timeout");
        stream
            .write_all(request.as_bytes())
            .expect("the request is sent");
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .expect("the answer arrives");
        Answer::parse(&answer)
    }
}

/// An HTTP/1.1 answer as it came off the wire.
#[derive(Debug)]
struct Answer {
    status_line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn parse(raw: &str) -> Answer {
        let (head, body) = raw.split_once("\r\n\r\n").expect("a head, then a body");
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default().to_owned();
        let headers = lines
            .map(|line| line.split_once(": ").expect("a header line"))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .collect();
        Answer {
            status_line,
            headers,
            body: body.to_owned(),
        }
    }

    /// The value of header `name`, which must appear at most once.
    fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.iter().filter(|(n, _)| n == name);
        let value = values.next().map(|(_, value)| value.as_str());
        assert!(values.next().is_none(), "{name} twice in {self:#?}");
        value
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

#[test]
fn the_401_on_the_wire_has_a_content_length_of_26() {
    let server = Server::start("release", &[]);
    let answer = server.exchange("POST", "/example", &[]);
    assert_eq!(answer.status_line, "HTTP/1.1 401 Unauthorized");
    assert_eq!(answer.header("content-length"), Some("26"));
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(
        answer.header("www-authenticate"),
        Some(r#"Bearer realm="example""#)
    );
    assert_eq!(answer.header("server"), None);
    assert_eq!(answer.body, r#"{"message":"Unauthorized"}"#);
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

/// The message after the address is the operating system's: Linux's here.
#[test]
fn a_port_in_use_stops_start_up_with_one_line_and_exit_status_1() {
    let server = Server::start("release", &[]);
    let port = server.address.rsplit_once(':').expect("host:port").1;
    let (code, stderr) = run_to_exit(&[("ROCKET_PORT", port)]);
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
fn the_debug_log_never_shows_the_token() {
    let server = Server::start("debug", &[]);
    let answer = server.exchange("GET", "/example", &["Authorization: Bearer s3cr3t-t0ken"]);
    assert_eq!(
        answer.header("www-authenticate"),
        Some(r#"Bearer realm="example", error="invalid_token""#)
    );
    let log = server.stdout_until(|line| line.contains("Response succeeded"));
    assert!(
        log.iter().any(|line| line.contains("GET /example")),
        "{log:#?}"
    );
    assert!(!log.iter().any(|line| line.contains("s3cr3t")), "{log:#?}");
}
