//! The one harness of the end-to-end tests, `tests/e2e` and
//! `e2e-tools/tests/tools`: the compiled binary, started on an ephemeral
//! loopback port in the project's root (`crate::ROOT`, where `Rocket.toml`
//! and `static/` are) and stopped by its own handle when dropped.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// The service's binary. Cargo builds it for the tests of its own package
/// (`tests/e2e`) and names it to them; the tests in `e2e-tools/`, another
/// package, have cargo build it the first time they ask (see [`build`]), so
/// that they never run a stale build.
pub fn binary() -> &'static str {
    if let Some(binary) = option_env!("CARGO_BIN_EXE_unauthorized") {
        return binary;
    }
    static BUILT: OnceLock<String> = OnceLock::new();
    BUILT.get_or_init(build)
}

/// `cargo build --bin unauthorized` for the profile and into the target
/// directory of the running test (`<target>/<profile>/deps/<test>`), with
/// the cargo that runs the tests: the path of the binary it built.
fn build() -> String {
    let test = std::env::current_exe().expect("the test's own path");
    let profile_dir = test
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from <target>/<profile>/deps");
    let target = profile_dir.parent().expect("a target directory");
    let profile = match profile_dir.file_name().and_then(OsStr::to_str) {
        Some("debug") => "dev",
        Some(profile) => profile,
        None => panic!("no profile in {}", test.display()),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--package",
            "unauthorized",
            "--bin",
            "unauthorized",
        ])
        .args(["--profile", profile, "--target-dir"])
        .arg(target)
        .arg("--manifest-path")
        .arg(Path::new(crate::ROOT).join("Cargo.toml"))
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "cargo could not build the service: {status}"
    );
    let binary = profile_dir.join("unauthorized");
    binary.to_str().expect("a UTF-8 path").to_owned()
}

/// How long any network step or wait may take before the test fails instead
/// of hanging. Generous: an outcome is checked, never a timing.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
pub const UNAUTHORIZED_PROBLEM: &str =
    r#"{"type":"about:blank","title":"Unauthorized","status":401}"#;
pub const NO_CREDENTIALS: &str = r#"Bearer realm="example""#;
pub const INVALID_TOKEN: &str = r#"Bearer realm="example", error="invalid_token""#;

/// The build that tests of the release profile may run instead of the test
/// build: the one named by `UNAUTHORIZED_BINARY` (`.ci/run` passes the
/// release build), else the test build (with `debug_assertions`, where
/// Rocket's own logger would panic on a closed stdout).
pub fn program() -> String {
    std::env::var("UNAUTHORIZED_BINARY").unwrap_or_else(|_| binary().to_owned())
}

/// The binary in the project's root, with an empty environment but for a
/// loopback address, an ephemeral port, no drain before shutting down, and
/// `vars`: the `ROCKET_*` variables of whoever runs the tests must not
/// change what they prove.
pub fn command(program: &str, vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(crate::ROOT)
        .env_clear()
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", "0")
        .env("ROCKET_DRAIN", "0")
        .envs(vars.iter().copied())
        .stdin(Stdio::null());
    command
}

/// Runs the binary with `vars` until it exits: its status code and stderr.
pub fn run_to_exit(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = command(binary(), vars).output().expect("the binary runs");
    let stderr = String::from_utf8(output.stderr).expect("stderr is UTF-8");
    (output.status.code(), stderr)
}

/// A running server. Dropping it kills the process, also when a test fails.
pub struct Server {
    child: Child,
    /// `127.0.0.1:<port>`, from the server's own "listening on" line.
    pub address: String,
    /// Stdout line by line, and stderr as one text, read by threads for the
    /// process's whole life so that a full pipe never stalls the server.
    /// Behind locks, so that threads can share a server.
    stdout: Mutex<mpsc::Receiver<String>>,
    stderr: Mutex<mpsc::Receiver<String>>,
}

impl Server {
    /// Starts the binary in `profile` with `vars`, once it says where it
    /// listens.
    pub fn start(profile: &str, vars: &[(&str, &str)]) -> Server {
        let mut command = command(binary(), vars);
        command.env("ROCKET_PROFILE", profile);
        Server::spawn(command)
    }

    /// Like [`Server::start`], under an open-files limit of `nofile`, set by
    /// util-linux's `prlimit`, which then becomes the binary.
    pub fn start_with_open_files(profile: &str, nofile: usize) -> Server {
        let mut command = command("prlimit", &[("ROCKET_PROFILE", profile)]);
        command.arg(format!("--nofile={nofile}")).arg(binary());
        Server::spawn(command)
    }

    /// Runs `command`, made by [`command`] (or, through another program,
    /// such as `prlimit` or `ip netns exec`, that becomes the binary), once
    /// it says where it listens.
    pub fn spawn(command: Command) -> Server {
        Server::try_spawn(command).unwrap_or_else(|failure| panic!("{failure}"))
    }

    /// Like [`Server::spawn`], or what the binary printed when it exits
    /// before it listens.
    pub fn try_spawn(mut command: Command) -> Result<Server, String> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let out = child.stdout.take().expect("stdout is piped");
        let err = child.stderr.take().expect("stderr is piped");
        let (lines, stdout) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let (text, stderr) = mpsc::channel();
        std::thread::spawn(move || {
            let mut all = String::new();
            let _ = BufReader::new(err).read_to_string(&mut all);
            let _ = text.send(all);
        });
        // Built before the wait, so that a failed start still kills the child.
        let mut server = Server {
            child,
            address: String::new(),
            stdout: Mutex::new(stdout),
            stderr: Mutex::new(stderr),
        };
        let lines = server.try_stdout_until(|line| line.starts_with("listening on http://"));
        let lines = lines.map_err(|failure| {
            let stderr = server.stderr.lock().expect("no reader panicked");
            let stderr = stderr.recv_timeout(PATIENCE).unwrap_or_default();
            format!("{failure}, and on stderr {stderr:?}")
        })?;
        let listening = lines.last().map(String::as_str).unwrap_or_default();
        server.address = listening
            .trim_start_matches("listening on http://")
            .to_owned();
        Ok(server)
    }

    /// The port the server listens on.
    pub fn port(&self) -> &str {
        self.address.rsplit_once(':').expect("host:port").1
    }

    /// The process id, for `kill` and `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How many files the server has open, from `/proc/PID/fd`.
    pub fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .expect("/proc/PID/fd is readable")
            .count()
    }

    /// Waits until the server has at least `count` files open, or fails.
    pub fn wait_for_open_files(&self, count: usize) {
        wait_until(
            || self.open_files() >= count,
            || {
                format!(
                    "the server has {} files open, not {count}",
                    self.open_files()
                )
            },
        );
    }

    /// The server's resident memory in KiB, from `/proc/PID/status`.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("/proc/PID/status is readable");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in kB")
    }

    /// The lines the server prints up to the first one that `done` accepts.
    pub fn stdout_until(&self, done: impl Fn(&str) -> bool) -> Vec<String> {
        self.try_stdout_until(done)
            .unwrap_or_else(|failure| panic!("{failure}"))
    }

    /// Like [`Server::stdout_until`], or what the server printed when its
    /// stdout closes (or stays silent for [`PATIENCE`]) first.
    fn try_stdout_until(&self, done: impl Fn(&str) -> bool) -> Result<Vec<String>, String> {
        let stdout = self.stdout.lock().expect("no reader panicked");
        let mut lines = Vec::new();
        loop {
            match stdout.recv_timeout(PATIENCE) {
                Ok(line) => {
                    let last = done(&line);
                    lines.push(line);
                    if last {
                        return Ok(lines);
                    }
                }
                Err(e) => return Err(format!("{e}: the server printed {lines:#?}")),
            }
        }
    }

    /// Reads stdout like [`Server::stdout_until`], but keeps no line: for
    /// floods of long lines, which a failure would otherwise print whole.
    /// Fails with how many lines came when stdout closes or stays silent
    /// for [`PATIENCE`] first.
    pub fn skim_stdout_until(&self, mut done: impl FnMut(&str) -> bool) {
        let stdout = self.stdout.lock().expect("no reader panicked");
        let mut read = 0;
        loop {
            match stdout.recv_timeout(PATIENCE) {
                Ok(line) if done(&line) => return,
                Ok(_) => read += 1,
                Err(e) => panic!("{e} after {read} lines"),
            }
        }
    }

    /// Sends `signal` (`TERM`, `INT`, …): see [`signal`].
    pub fn signal(&self, signal: &str) {
        self::signal(self.pid(), signal);
    }

    /// Waits for the process to exit: its status and everything it wrote to
    /// stderr.
    pub fn wait_for_exit(mut self) -> (ExitStatus, String) {
        let mut status = None;
        wait_until(
            || {
                status = self.child.try_wait().expect("the child can be waited for");
                status.is_some()
            },
            || "the server did not exit".to_owned(),
        );
        let status = status.expect("the child exited");
        let stderr = self.stderr.lock().expect("no reader panicked");
        let stderr = stderr.recv_timeout(PATIENCE).expect("stderr closes");
        (status, stderr)
    }

    /// A new connection to the server: see [`connect`].
    pub fn connect(&self) -> TcpStream {
        connect(&self.address)
    }

    /// Sends `raw` on a new connection: see [`send_raw`].
    pub fn send_raw(&self, raw: &[u8]) -> String {
        send_raw(&self.address, raw)
    }

    /// Sends `method path` with `headers` on a new connection, and reads the
    /// answer until the server closes it (`Connection: close`).
    pub fn exchange(&self, method: &str, path: &str, headers: &[&str]) -> Answer {
        Answer::parse(&self.send_raw(request(method, path, headers).as_bytes()))
    }
}

/// What becomes of the stdout of a server started by [`start_unread`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdout {
    /// Closed before the server prints anything: `unauthorized | head -0`.
    Closed,
    /// Open and never read, so that it fills: a stalled log collector.
    Unread,
}

/// A server started by [`start_unread`], killed when dropped, also when a
/// test fails.
pub struct Unread(Child);

impl Unread {
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// Waits for the process to exit: its status code and stderr.
    pub fn wait_for_exit(mut self) -> (Option<i32>, String) {
        let mut status = None;
        wait_until(
            || {
                status = self.0.try_wait().expect("the child can be waited for");
                status.is_some()
            },
            || "the server did not exit".to_owned(),
        );
        let mut stderr = String::new();
        if let Some(mut pipe) = self.0.stderr.take() {
            pipe.read_to_string(&mut stderr).expect("stderr is UTF-8");
        }
        (status.and_then(|status| status.code()), stderr)
    }
}

impl Drop for Unread {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `program` (the binary, or another build of it) in `profile` with
/// `vars` on a free port, its stdout `Closed` or `Unread`, and waits until
/// it accepts connections, since it cannot say where it listens: the
/// server, its address, and the stdout pipe while it must stay open. A port
/// taken by another process in between is tried again with another.
pub fn start_unread(
    program: &str,
    profile: &str,
    vars: &[(&str, &str)],
    stdout: Stdout,
) -> (Unread, String, Option<std::process::ChildStdout>) {
    retry_while_port_taken("cannot listen on", || {
        let port = free_port().to_string();
        let mut child = command(program, vars)
            .env("ROCKET_PROFILE", profile)
            .env("ROCKET_PORT", &port)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let pipe = child.stdout.take();
        let pipe = match stdout {
            Stdout::Closed => {
                drop(pipe);
                None
            }
            Stdout::Unread => pipe,
        };
        let address = format!("127.0.0.1:{port}");
        match wait_for_listener(&mut child, &address) {
            Ok(()) => Ok((Unread(child), address, pipe)),
            Err(status) => {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                Err(format!("the server exited ({status}): {stderr}"))
            }
        }
    })
}

/// Waits until `done` holds, asking every 10 ms; after [`PATIENCE`], fails
/// the test with what `failure` says. An outcome, never a timing.
pub fn wait_until(mut done: impl FnMut() -> bool, failure: impl FnOnce() -> String) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        if Instant::now() > deadline {
            panic!("{}", failure());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until `child` itself listens on `address` and accepts there: its
/// exit status if it exits first. Another process that took the port in
/// between does not count. One that never listens is killed, and the test
/// fails.
pub fn wait_for_listener(child: &mut Child, address: &str) -> Result<(), ExitStatus> {
    let port: u16 = address
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .expect("host:port");
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return Err(status);
        }
        // The cheap check first: /proc is read only once something accepts.
        if TcpStream::connect(address).is_ok() && listens_on(child.id(), port) {
            return Ok(());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nothing listened on {address}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether process `pid` holds a socket listening on TCP `port`: the
/// listening sockets of its network namespace (`/proc/PID/net/tcp` and
/// `tcp6`, which list them first, so that the many closed connections after
/// them are never read), matched by inode against its open files
/// (`/proc/PID/fd`).
fn listens_on(pid: u32, port: u16) -> bool {
    let mut listening = Vec::new();
    for table in ["tcp", "tcp6"] {
        let Ok(table) = std::fs::File::open(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        let lines = BufReader::new(table).lines().skip(1).map_while(Result::ok);
        // sl local_address rem_address st … uid timeout inode; st 0A is LISTEN.
        let fields = lines.map(|line| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        });
        for fields in fields.take_while(|fields| fields.get(3).is_some_and(|st| st == "0A")) {
            let local_port = fields
                .get(1)
                .and_then(|local| local.rsplit_once(':'))
                .and_then(|(_, hex)| u16::from_str_radix(hex, 16).ok());
            if local_port == Some(port)
                && let Some(inode) = fields.get(9)
            {
                listening.push(format!("socket:[{inode}]"));
            }
        }
    }
    let files = std::fs::read_dir(format!("/proc/{pid}/fd"));
    files.into_iter().flatten().flatten().any(|file| {
        std::fs::read_link(file.path()).is_ok_and(|target| {
            listening
                .iter()
                .any(|socket| target.as_os_str() == socket.as_str())
        })
    })
}

/// A loopback port free at this moment, for a program that cannot say
/// which ephemeral port it got; another process may take it first (see
/// [`retry_while_port_taken`]).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Sends `signal` (`TERM`, `INT`, `HUP`, …) to process `pid` with
/// util-linux's `kill`.
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// Runs `start` until it succeeds, up to five times while its failure says
/// `taken`: a free port handed over, or an ephemeral one reused, can be
/// taken by another process first. Any other failure ends the test.
pub fn retry_while_port_taken<T>(taken: &str, mut start: impl FnMut() -> Result<T, String>) -> T {
    let mut refusals = Vec::new();
    for _ in 0..5 {
        match start() {
            Ok(started) => return started,
            Err(failure) if failure.contains(taken) => {
                refusals.push(failure);
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(failure) => panic!("{failure}"),
        }
    }
    panic!("the port was taken in five tries: {refusals:#?}");
}

/// A new connection to `address`, with [`PATIENCE`] on every read and write.
pub fn connect(address: &str) -> TcpStream {
    let stream = TcpStream::connect(address).expect("the server accepts");
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("a read timeout");
    stream
        .set_write_timeout(Some(PATIENCE))
        .expect("a write timeout");
    stream
}

/// Sends `raw` to `address` on a new connection and reads until the server
/// closes it: whatever came back, as text.
pub fn send_raw(address: &str, raw: &[u8]) -> String {
    let mut stream = connect(address);
    stream.write_all(raw).expect("the request is sent");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("the server closes");
    String::from_utf8(answer).expect("the answer is UTF-8")
}

/// An HTTP/1.1 request for `method path` with `headers`, closing the
/// connection after its answer.
pub fn request(method: &str, path: &str, headers: &[&str]) -> String {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n");
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("Connection: close\r\n\r\n");
    request
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP/1.1 answer as it came off the wire.
#[derive(Debug)]
pub struct Answer {
    pub status_line: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn parse(raw: &str) -> Answer {
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

    /// The value of header `name` (lower case), which must appear at most
    /// once.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut values = self.headers.iter().filter(|(n, _)| n == name);
        let value = values.next().map(|(_, value)| value.as_str());
        assert!(values.next().is_none(), "{name} twice in {self:#?}");
        value
    }

    /// Reads one answer off a connection that stays open: the head up to
    /// its blank line, then `Content-Length` bytes of body (none after a
    /// HEAD, whose `Content-Length` is the GET's).
    pub fn read_from(reader: &mut impl BufRead, head_only: bool) -> Answer {
        let mut head = String::new();
        loop {
            let read = reader.read_line(&mut head).expect("the answer arrives");
            assert!(read > 0, "the connection closed after {head:?}");
            if head.ends_with("\r\n\r\n") {
                break;
            }
        }
        let mut answer = Answer::parse(&head);
        if !head_only {
            let length = answer.header("content-length").map_or(0, |length| {
                length.parse().expect("Content-Length is a number")
            });
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("the body arrives");
            answer.body = String::from_utf8(body).expect("the body is UTF-8");
        }
        answer
    }

    /// Checks that this is the contract's 401 with `challenge`, whose body
    /// is `body` of type `content_type`: the status line (HTTP/2 has no
    /// reason phrase), every header but `Date` and `Connection`, and the
    /// body, byte for byte.
    pub fn assert_unauthorized_as(&self, challenge: &str, content_type: &str, body: Body) {
        let version = self.status_line.split(' ').next().unwrap_or_default();
        let status_line = match version {
            "HTTP/2" => "HTTP/2 401 ".to_owned(),
            _ => format!("{version} 401 Unauthorized"),
        };
        assert_eq!(self.status_line, status_line, "{self:#?}");
        let (length, body) = match body {
            Body::Full(body) => (body.len(), body),
            Body::HeadOf(body) => (body.len(), ""),
        };
        let length = length.to_string();
        let expected = vec![
            ("content-length", length.as_str()),
            ("content-type", content_type),
            ("permissions-policy", "interest-cohort=()"),
            ("vary", "Accept"),
            ("www-authenticate", challenge),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "SAMEORIGIN"),
        ];
        assert_eq!(self.sorted_headers(), expected, "{self:#?}");
        assert_eq!(self.body, body, "{self:#?}");
    }

    /// Every header but `Date` and `Connection`, which vary, sorted.
    pub fn sorted_headers(&self) -> Vec<(&str, &str)> {
        let mut headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .filter(|(name, _)| !matches!(*name, "date" | "connection"))
            .collect();
        headers.sort();
        headers
    }

    /// Checks that this is the contract's plain 401 with `challenge`.
    pub fn assert_unauthorized(&self, challenge: &str) {
        self.assert_unauthorized_as(challenge, "application/json", Body::Full(UNAUTHORIZED));
    }
}

/// The body an answer must have: this one, or none after a HEAD whose GET
/// gets this one.
#[derive(Clone, Copy)]
pub enum Body {
    Full(&'static str),
    HeadOf(&'static str),
}
