//! The deployment README.md describes, for real: two instances of the binary
//! in the release profile on ephemeral loopback ports, and nginx in front of
//! them with the configuration `deploy/render-nginx` prints, in the
//! foreground, inside a temporary prefix of its own (pid file, logs,
//! temporary files), with a throwaway certificate made by `openssl`.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use socket2::{Domain, Socket, Type};
use tempfile::TempDir;

use crate::server::{
    Answer, PATIENCE, Server, binary, command, free_port, request, retry_while_port_taken, signal,
    wait_for_listener, wait_until,
};

pub const NEEDS_NGINX: &str = "needs nginx: apt-get install nginx";
const NEEDS_OPENSSL: &str = "needs openssl: apt-get install openssl";
pub const RENDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/render-nginx");

/// The renderer's options every test starts from: timeouts small enough
/// that a test sees them fire, an instance out of rotation for a second.
pub const TEST_SETTINGS: [&str; 8] = [
    "--header-timeout",
    "2s",
    "--body-timeout",
    "2s",
    "--upstream-timeout",
    "2s",
    "--fail-timeout",
    "1s",
];

/// An HTTPS connection to the proxy, through rustls.
pub type Tls = StreamOwned<ClientConnection, TcpStream>;

/// Two instances and nginx in front of them. Dropping it stops all three
/// and removes the prefix, also when a test fails.
pub struct Proxy {
    /// `None` while a test has an instance stopped.
    pub instances: Vec<Option<Server>>,
    /// The instances' addresses, as the upstream block names them.
    pub upstreams: Vec<String>,
    /// `127.0.0.1:<port>`, where nginx serves TLS.
    pub address: String,
    /// The certificate clients trust, in the prefix.
    pub cert: PathBuf,
    /// `deploy/render-nginx`'s arguments but the instances.
    settings: Vec<OsString>,
    nginx: Child,
    connector: Connector,
    prefix: TempDir,
}

impl Proxy {
    /// Starts two instances and nginx with the test settings, then `options`
    /// for `deploy/render-nginx` (a later option wins).
    pub fn start(options: &[&str]) -> Proxy {
        let prefix = make_prefix();
        let (cert, key) = make_certificate(prefix.path());
        let instances: Vec<Server> = (0..2).map(|_| Server::start("release", &[])).collect();
        let upstreams: Vec<String> = instances.iter().map(|i| i.address.clone()).collect();

        // nginx cannot tell which ephemeral port it got, so a free port is
        // handed to it; another process may take it first.
        let (nginx, address, settings) = retry_while_port_taken("Address already in use", || {
            let address = format!("127.0.0.1:{}", free_port());
            let mut settings: Vec<OsString> = ["--standalone", "--listen", &address, "--cert"]
                .map(OsString::from)
                .into();
            settings.extend([cert.clone().into(), "--key".into(), key.clone().into()]);
            settings.extend(TEST_SETTINGS.iter().chain(options).map(OsString::from));
            render(prefix.path(), &settings, &upstreams);
            let mut child = spawn_nginx(&mut Command::new(nginx_program()), prefix.path());
            if let Err(status) = wait_for_listener(&mut child, &address) {
                return Err(nginx_failed(status, prefix.path()));
            }
            Ok((child, address, settings))
        });
        Proxy {
            instances: instances.into_iter().map(Some).collect(),
            upstreams,
            connector: Connector {
                address: address.parse().expect("an address"),
                tls: client_config(&cert),
            },
            address,
            cert,
            settings,
            nginx,
            prefix,
        }
    }

    /// The `https://127.0.0.1:<port>` URL of `path`.
    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.address)
    }

    /// Runs `curl -sS -i --cacert CERT <args> URL` and parses what it
    /// prints; curl must succeed.
    pub fn curl(&self, args: &[&str], path: &str) -> Answer {
        Answer::parse(&run(&mut self.curl_command(args, path)))
    }

    /// `curl -sS -i --cacert CERT <args> URL`, to run.
    pub fn curl_command(&self, args: &[&str], path: &str) -> Command {
        let mut curl = Command::new("curl");
        curl.args(["-sS", "-i", "--max-time", "30", "--cacert"])
            .arg(&self.cert)
            .args(args)
            .arg(self.url(path));
        curl
    }

    /// What opens TLS connections to nginx, for other threads too.
    pub fn connector(&self) -> Connector {
        self.connector.clone()
    }

    /// A TLS connection to nginx from 127.0.0.1, handshake done.
    pub fn connect(&self) -> Tls {
        self.connector.connect()
    }

    /// Sends `raw` on a new TLS connection and reads until nginx closes it.
    pub fn send_raw(&self, raw: &[u8]) -> String {
        let mut tls = self.connect();
        tls.write_all(raw).expect("the request is sent");
        read_to_close(&mut tls)
    }

    /// Sends `method path` with `headers` over HTTP/1.1 on a new TLS
    /// connection, closed after the answer.
    pub fn exchange(&self, method: &str, path: &str, headers: &[&str]) -> Answer {
        Answer::parse(&self.send_raw(request(method, path, headers).as_bytes()))
    }

    /// The access log: one line per request, naming the instances tried.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.prefix.path().join("access.log")).expect("the access log")
    }

    /// The access log once it has at least `lines` lines.
    pub fn wait_for_access_log(&self, lines: usize) -> String {
        wait_until(
            || self.access_log().lines().count() >= lines,
            || format!("the access log has only:\n{}", self.access_log()),
        );
        self.access_log()
    }

    /// Renders the configuration again with the instances `kept` alone and
    /// has nginx load it (SIGHUP), once its old workers have finished their
    /// requests and exited.
    pub fn reload_with(&self, kept: &[usize]) {
        let upstreams: Vec<&String> = kept.iter().map(|&i| &self.upstreams[i]).collect();
        render(self.prefix.path(), &self.settings, &upstreams);
        reload(self.nginx.id());
    }

    /// Takes instance `index` from the proxy, for the test to stop it.
    pub fn take_instance(&mut self, index: usize) -> Server {
        self.instances[index]
            .take()
            .expect("the instance is running")
    }

    /// Starts instance `index` again on its port, where nginx looks for it.
    /// Another test's connection may hold that port for a moment: it was an
    /// ephemeral one.
    pub fn restart_instance(&mut self, index: usize) {
        let port = self.upstreams[index]
            .rsplit_once(':')
            .expect("host:port")
            .1
            .to_owned();
        let server = retry_while_port_taken("Address already in use", || {
            let mut command = command(binary(), &[("ROCKET_PORT", &port)]);
            command.env("ROCKET_PROFILE", "release");
            Server::try_spawn(command)
        });
        self.instances[index] = Some(server);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        stop(&mut self.nginx, self.prefix.path());
    }
}

/// A temporary prefix for nginx: its configuration, certificate, pid file,
/// logs and temporary files.
pub fn make_prefix() -> TempDir {
    let prefix = tempfile::Builder::new()
        .prefix("unauthorized-nginx-")
        .tempdir()
        .expect("a temporary prefix");
    // Started as root, nginx's workers run as nobody, and must reach
    // the temporary directories nginx makes in here.
    std::fs::set_permissions(prefix.path(), std::fs::Permissions::from_mode(0o755))
        .expect("the prefix opens to nginx's workers");
    prefix
}

/// Starts `nginx` (the program, or what runs it: `ip netns exec NS nginx`)
/// in the foreground with `prefix/nginx.conf`; what it prints before it
/// opens its error.log goes to `prefix/stderr.log`.
pub fn spawn_nginx(nginx: &mut Command, prefix: &Path) -> Child {
    let stderr = std::fs::File::create(prefix.join("stderr.log")).expect("stderr.log is created");
    nginx
        .arg("-p")
        .arg(prefix)
        .args(["-c", "nginx.conf", "-e", "stderr"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect(NEEDS_NGINX)
}

/// Why nginx, run with `prefix`, exited with `status` before it listened.
pub fn nginx_failed(status: ExitStatus, prefix: &Path) -> String {
    let stderr = std::fs::read_to_string(prefix.join("stderr.log")).unwrap_or_default();
    format!("nginx did not start ({status}): {stderr}")
}

/// Has the nginx whose master is `pid` load its configuration again
/// (SIGHUP), and waits until its old workers have finished their requests
/// and exited.
pub fn reload(pid: u32) {
    let old = workers(pid);
    signal(pid, "HUP");
    wait_until(
        || {
            let workers = workers(pid);
            !workers.is_empty() && workers.iter().all(|w| !old.contains(w))
        },
        || format!("nginx kept its old workers {old:?}"),
    );
}

/// The process ids of the workers of the nginx whose master is `pid`.
fn workers(pid: u32) -> Vec<String> {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"));
    let children = children.expect("/proc lists nginx's workers");
    children.split_whitespace().map(str::to_owned).collect()
}

/// Stops `nginx`, run with `prefix`, and its workers; prints its error.log
/// when a test is failing.
pub fn stop(nginx: &mut Child, prefix: &Path) {
    // SIGQUIT would wait for connections; SIGTERM is nginx's fast
    // shutdown, which also stops the workers.
    let _ = Command::new("kill")
        .args(["-TERM", &nginx.id().to_string()])
        .status();
    let deadline = Instant::now() + PATIENCE;
    while let Ok(None) = nginx.try_wait() {
        if Instant::now() > deadline {
            let _ = nginx.kill();
            let _ = nginx.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if std::thread::panicking() {
        let errors = std::fs::read_to_string(prefix.join("error.log"));
        eprintln!("nginx's error.log: {}", errors.unwrap_or_default());
    }
}

/// Opens TLS connections to nginx, trusting its certificate alone.
#[derive(Clone)]
pub struct Connector {
    address: SocketAddr,
    tls: Arc<ClientConfig>,
}

impl Connector {
    /// A TLS connection from 127.0.0.1, handshake done.
    pub fn connect(&self) -> Tls {
        self.connect_from(Ipv4Addr::LOCALHOST)
    }

    /// A TLS connection from `source`, any loopback address (to a
    /// per-client limit, each is another client), handshake done.
    pub fn connect_from(&self, source: Ipv4Addr) -> Tls {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
        socket
            .bind(&SocketAddr::from((source, 0)).into())
            .expect("a loopback source address");
        socket.connect(&self.address.into()).expect("nginx accepts");
        let tcp = TcpStream::from(socket);
        tcp.set_read_timeout(Some(PATIENCE))
            .expect("a read timeout");
        tcp.set_write_timeout(Some(PATIENCE))
            .expect("a write timeout");
        let name = ServerName::IpAddress(Ipv4Addr::LOCALHOST.into());
        let connection =
            ClientConnection::new(self.tls.clone(), name).expect("a TLS client connection");
        let mut tls = StreamOwned::new(connection, tcp);
        while tls.conn.is_handshaking() {
            tls.conn
                .complete_io(&mut tls.sock)
                .expect("the TLS handshake completes");
        }
        tls
    }
}

/// Everything read from `tls` until the peer closes. An nginx that closes
/// without TLS's close_notify, or resets the connection, closes it too; so
/// does one that a last write found closed.
pub fn read_to_close(tls: &mut Tls) -> String {
    use std::io::ErrorKind::{BrokenPipe, ConnectionReset, UnexpectedEof};
    let mut answer = Vec::new();
    match tls.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if matches!(e.kind(), UnexpectedEof | ConnectionReset | BrokenPipe) => {}
        Err(e) => panic!("{e} after {:?}", String::from_utf8_lossy(&answer)),
    }
    String::from_utf8(answer).expect("the answer is UTF-8")
}

/// Checks the two headers nginx adds to every answer, `Server` without a
/// version and HSTS, and returns the answer without them.
pub fn through_nginx(mut answer: Answer) -> Answer {
    assert_eq!(answer.header("server"), Some("nginx"), "{answer:#?}");
    assert_eq!(
        answer.header("strict-transport-security"),
        Some("max-age=63072000"),
        "{answer:#?}"
    );
    answer
        .headers
        .retain(|(name, _)| !matches!(name.as_str(), "server" | "strict-transport-security"));
    answer
}

/// nginx from the PATH or from /usr/sbin, where Debian puts it and where a
/// user's PATH often does not look.
pub fn nginx_program() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|nginx| nginx.is_file())
        .expect(NEEDS_NGINX)
}

/// A self-signed certificate for 127.0.0.1 and localhost, valid for a day:
/// the paths of the certificate and of its key.
pub fn make_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:P-256", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect(NEEDS_OPENSSL);
    assert!(status.success(), "openssl made no certificate");
    (cert, key)
}

/// A client that trusts `cert` alone, speaking HTTP/1.1.
fn client_config(cert: &Path) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    let cert = CertificateDer::from_pem_file(cert).expect("the certificate reads");
    roots.add(cert).expect("the certificate is a trust anchor");
    let mut config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// Writes `dir/nginx.conf`, rendered by `deploy/render-nginx` from
/// `settings` for `upstreams`.
pub fn render(dir: &Path, settings: &[OsString], upstreams: &[impl AsRef<OsStr>]) {
    let config = run(Command::new(RENDER).args(settings).args(upstreams));
    std::fs::write(dir.join("nginx.conf"), config).expect("nginx.conf is written");
}

/// Runs `command` to success: its stdout.
pub fn run(command: &mut Command) -> String {
    let output = command.output().expect("the command runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{command:?}: {stderr}");
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}
