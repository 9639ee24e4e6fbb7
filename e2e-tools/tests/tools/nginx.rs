//! The deployment behind nginx (`deploy/`), over HTTPS: the contract through
//! the proxy, nginx's own errors as JSON, slow clients, the per-client limit,
//! and an instance that dies or drains under load; and the production
//! files: the port 80 for ACME, and the systemd unit, checked by
//! `systemd-analyze verify`. Each is ignored unless asked for; asked to run
//! without its tool, each fails with the install line. The renderer's own
//! test, which needs only bash, is `tests/e2e/render.rs`, at the root.

use std::io::{BufReader, Write};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rocket::http::Status;

use tempfile::TempDir;

use crate::proxy::{
    Connector, Proxy, RENDER, Tls, make_certificate, make_prefix, nginx_failed, nginx_program,
    read_to_close, run, spawn_nginx, stop, through_nginx,
};
use crate::server::{
    Answer, Body, INVALID_TOKEN, NO_CREDENTIALS, UNAUTHORIZED, UNAUTHORIZED_PROBLEM, binary,
    free_port, retry_while_port_taken, wait_for_listener, wait_until,
};

/// The port-80 server for ACME's HTTP-01 challenge, as deploy/README.md
/// installs it.
const ACME_HTTP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/acme-http.conf");

/// Checks that `answer` is one of nginx's own errors: `status_line`, and
/// JSON of the contract's shape whose message is the one the service
/// itself gives for that status (Rocket's reason phrase), with no header
/// but nginx's.
fn assert_nginx_error(answer: Answer, status_line: &str) {
    let answer = through_nginx(answer);
    let code = status_line.split(' ').nth(1).and_then(|c| c.parse().ok());
    let status = code.and_then(Status::from_code).expect("a status code");
    let body = format!(r#"{{"message":"{}"}}"#, status.reason_lossy());
    let length = body.len().to_string();
    assert_eq!(answer.status_line, status_line, "{answer:#?}");
    let expected = [
        ("content-length", length.as_str()),
        ("content-type", "application/json"),
    ];
    assert_eq!(answer.sorted_headers(), expected, "{answer:#?}");
    assert_eq!(answer.body, body, "{answer:#?}");
}

/// Without `--standalone`, the output goes into the `http` block of an
/// nginx of its own: `nginx -t` accepts it there, beside
/// `deploy/acme-http.conf` as the README installs both.
#[test]
#[ignore = "needs nginx: apt-get install nginx openssl gettext-base"]
fn the_files_for_an_existing_nginx_pass_nginx_t() {
    let nginx = nginx_program();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (cert, key) = make_certificate(dir.path());
    let log = dir.path().join("access.log");
    let site = run(Command::new(RENDER)
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .arg("--access-log")
        .arg(&log)
        .args(["127.0.0.1:8001", "127.0.0.1:8002"]));
    std::fs::write(dir.path().join("unauthorized.conf"), site).expect("the file is written");
    std::fs::copy(ACME_HTTP, dir.path().join("acme-http.conf")).expect("the file is copied");
    let main = "pid nginx.pid;\nevents {}\nhttp {\n    include unauthorized.conf;\n    include acme-http.conf;\n}\n";
    std::fs::write(dir.path().join("nginx.conf"), main).expect("nginx.conf is written");
    let output = Command::new(nginx)
        .arg("-p")
        .arg(dir.path())
        .args(["-c", "nginx.conf", "-e", "stderr", "-t"])
        .output()
        .expect("nginx runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("test is successful"), "{stderr}");
}

/// `deploy/acme-http.conf`, the port 80 that a certificate by ACME's
/// HTTP-01 challenge needs: the challenge's file as text, anything else a
/// redirect to the same URL over HTTPS. The test serves it on a free
/// loopback port instead of 80, from a webroot of its own.
#[test]
#[ignore = "needs nginx: apt-get install nginx openssl gettext-base"]
fn port_80_for_acme_serves_the_challenge_and_redirects_the_rest_to_https() {
    let prefix = make_prefix();
    let webroot = prefix.path().join("acme");
    let challenges = webroot.join(".well-known/acme-challenge");
    std::fs::create_dir_all(&challenges).expect("the webroot is made");
    std::fs::write(challenges.join("tok3n"), "tok3n.thumbpr1nt").expect("a challenge");
    let file = std::fs::read_to_string(ACME_HTTP).expect("deploy/acme-http.conf reads");
    let only_once = |text: &str, from: &str, to: &str| {
        assert_eq!(text.matches(from).count(), 1, "{from} in {ACME_HTTP}");
        text.replace(from, to)
    };
    // In the foreground, every path inside the prefix, as render-nginx's
    // --standalone writes it.
    let main = "daemon off;
pid nginx.pid;
error_log error.log;
events {}
http {
    access_log off;
    client_body_temp_path body;
    proxy_temp_path proxy;
    fastcgi_temp_path fastcgi;
    uwsgi_temp_path uwsgi;
    scgi_temp_path scgi;
    include acme-http.conf;
}
";
    std::fs::write(prefix.path().join("nginx.conf"), main).expect("nginx.conf is written");
    let root = format!("root {};", webroot.display());
    let (nginx, address) = retry_while_port_taken("Address already in use", || {
        let address = format!("127.0.0.1:{}", free_port());
        let site = only_once(&file, "listen 80;", &format!("listen {address};"));
        let site = only_once(&site, "root /var/www/acme;", &root);
        std::fs::write(prefix.path().join("acme-http.conf"), site).expect("the file is written");
        let mut child = spawn_nginx(&mut Command::new(nginx_program()), prefix.path());
        match wait_for_listener(&mut child, &address) {
            Ok(()) => Ok((child, address)),
            Err(status) => Err(nginx_failed(status, prefix.path())),
        }
    });
    let nginx = Nginx {
        child: nginx,
        prefix,
    };
    let get = |path: &str, host: &str| {
        let url = format!("http://{address}{path}");
        Answer::parse(&run(Command::new("curl")
            .args(["-sS", "-i", "-H"])
            .arg(format!("Host: {host}"))
            .arg(url)))
    };

    let challenge = get("/.well-known/acme-challenge/tok3n", "api.example.com");
    assert_eq!(challenge.status_line, "HTTP/1.1 200 OK", "{challenge:#?}");
    assert_eq!(challenge.header("content-type"), Some("text/plain"));
    assert_eq!(challenge.body, "tok3n.thumbpr1nt");
    let unknown = get("/.well-known/acme-challenge/other", "api.example.com");
    assert_eq!(
        unknown.status_line, "HTTP/1.1 404 Not Found",
        "{unknown:#?}"
    );
    for (path, host, location) in [
        (
            "/example",
            "api.example.com",
            "https://api.example.com/example",
        ),
        (
            "/example?a=b",
            "api.example.com",
            "https://api.example.com/example?a=b",
        ),
        ("/", "localhost", "https://localhost/"),
        (
            "/.well-known/other",
            "localhost",
            "https://localhost/.well-known/other",
        ),
    ] {
        let answer = get(path, host);
        assert_eq!(
            answer.status_line, "HTTP/1.1 301 Moved Permanently",
            "{answer:#?}"
        );
        assert_eq!(answer.header("location"), Some(location), "{path}");
        assert_eq!(answer.header("server"), Some("nginx"), "{path}");
    }
    drop(nginx);
}

/// nginx run by a test in a prefix of its own; stopped when dropped, also
/// when the test fails.
struct Nginx {
    child: Child,
    prefix: TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        stop(&mut self.child, self.prefix.path());
    }
}

/// The systemd unit of deploy/README.md, checked by `systemd-analyze
/// verify` as far as a machine without systemd running allows: in a root
/// laid out as the README installs it (the unit in /etc/systemd/system, the
/// release in /opt/unauthorized/VERSION with `current` linking to it, the
/// real binary there), beside systemd's own units, which the unit's
/// dependencies name. `verify` only warns about an unknown key or a bad
/// value, so any output fails the test too.
#[test]
#[ignore = "needs systemd-analyze: apt-get install systemd"]
fn the_systemd_unit_passes_systemd_analyze_verify_where_the_readme_installs_it() {
    const NEEDS_SYSTEMD: &str = "needs systemd-analyze: apt-get install systemd";
    let systemd_units = Path::new("/usr/lib/systemd/system");
    assert!(
        systemd_units.join("sysinit.target").is_file(),
        "{NEEDS_SYSTEMD}"
    );
    let root = tempfile::tempdir().expect("a temporary root");
    let root = root.path();
    let units = root.join("etc/systemd/system");
    let release = root.join("opt/unauthorized/v1");
    std::fs::create_dir_all(&units).expect("/etc/systemd/system");
    std::fs::create_dir_all(&release).expect("/opt/unauthorized/v1");
    std::fs::create_dir_all(root.join("usr/lib/systemd")).expect("/usr/lib/systemd");
    let unit = Path::new(crate::ROOT).join("deploy/unauthorized@.service");
    std::fs::copy(&unit, units.join("unauthorized@.service")).expect("the unit is copied");
    std::fs::copy(binary(), release.join("unauthorized")).expect("the binary is copied");
    std::os::unix::fs::symlink("v1", root.join("opt/unauthorized/current")).expect("a link");
    run(Command::new("cp")
        .arg("-a")
        .arg(systemd_units)
        .arg(root.join("usr/lib/systemd/system")));
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", root.display()))
        .args(["unauthorized@8001.service", "unauthorized@8002.service"])
        .output()
        .expect(NEEDS_SYSTEMD);
    let said = String::from_utf8_lossy(&output.stderr) + String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}: {said}", output.status);
    assert_eq!(said, "", "systemd-analyze verify warned");
}

#[test]
#[ignore = "needs nginx: apt-get install nginx openssl gettext-base"]
fn the_contract_holds_through_nginx_over_https() {
    let proxy = Proxy::start(&[]);
    // curl picks HTTP/2 by ALPN, as browsers do; and HTTP/1.1 when asked.
    for version in ["--http2", "--http1.1"] {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            through_nginx(proxy.curl(&[version, "-X", method], "/example"))
                .assert_unauthorized(NO_CREDENTIALS);
        }
        let bearer = proxy.curl(&[version, "-H", "Authorization: Bearer abc"], "/example");
        through_nginx(bearer).assert_unauthorized(INVALID_TOKEN);
        let problem = ["-H", "Accept: application/problem+json"];
        through_nginx(proxy.curl(&[&[version][..], &problem].concat(), "/example"))
            .assert_unauthorized_as(
                NO_CREDENTIALS,
                "application/problem+json",
                Body::Full(UNAUTHORIZED_PROBLEM),
            );
        through_nginx(proxy.curl(&[version, "-I"], "/example")).assert_unauthorized_as(
            NO_CREDENTIALS,
            "application/json",
            Body::HeadOf(UNAUTHORIZED),
        );
        let missing = through_nginx(proxy.curl(&[version], "/nothing"));
        assert!(missing.status_line.contains(" 404 "), "{missing:#?}");
        assert_eq!(missing.header("content-type"), Some("application/json"));
        assert_eq!(missing.body, r#"{"message":"Not Found"}"#);
    }
    // And over rustls, a request written by hand.
    let post = proxy.send_raw(post_example("a=b").as_bytes());
    through_nginx(Answer::parse(&post)).assert_unauthorized(NO_CREDENTIALS);
}

#[test]
#[ignore = "needs nginx: apt-get install nginx openssl gettext-base"]
fn nginx_answers_its_own_errors_as_json() {
    let mut proxy = Proxy::start(&[]);
    // A garbage request line; no Host header; a header line without a colon.
    let garbage = proxy.send_raw(b"garbage\r\n\r\n");
    assert_nginx_error(Answer::parse(&garbage), "HTTP/1.1 400 Bad Request");
    let no_host = proxy.send_raw(b"GET /example HTTP/1.1\r\n\r\n");
    assert_nginx_error(Answer::parse(&no_host), "HTTP/1.1 400 Bad Request");
    let no_colon = proxy.send_raw(b"GET /example HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n");
    assert_nginx_error(Answer::parse(&no_colon), "HTTP/1.1 400 Bad Request");
    // Plain HTTP on the TLS port (nginx's 497) and a head too large (494).
    let plain =
        crate::server::send_raw(&proxy.address, b"GET /example HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_nginx_error(Answer::parse(&plain), "HTTP/1.1 400 Bad Request");
    let huge = format!("X-Huge: {}", "a".repeat(64 * 1024));
    let answer = proxy.exchange("GET", "/example", &[&huge]);
    assert_nginx_error(answer, "HTTP/1.1 400 Bad Request");
    // Over HTTP/2, nginx closes the connection instead, with no answer.
    let output = proxy
        .curl_command(&["--http2", "-H", &huge], "/example")
        .output()
        .expect("curl runs");
    assert!(
        !output.status.success() && output.stdout.is_empty(),
        "{output:?}"
    );
    // A request line over nginx's 8 KiB buffer.
    let long = format!("/example?{}", "a".repeat(10 * 1024));
    let long = proxy.exchange("GET", &long, &[]);
    assert_nginx_error(long, "HTTP/1.1 414 Request-URI Too Large");
    // The error page's own URI is not a resource.
    let internal = proxy.exchange("GET", "/.json-error", &[]);
    assert_nginx_error(internal, "HTTP/1.1 404 Not Found");
    // nginx refuses TRACE itself, before any location; CONNECT too.
    for method in ["TRACE", "CONNECT"] {
        let answer = proxy.exchange(method, "/example", &[]);
        assert_nginx_error(answer, "HTTP/1.1 405 Not Allowed");
    }
    // Both instances stopped (SIGSTOP): they accept and never answer.
    for instance in proxy.instances.iter().flatten() {
        instance.signal("STOP");
    }
    let silent = proxy.exchange("GET", "/example", &[]);
    assert_nginx_error(silent, "HTTP/1.1 504 Gateway Time-out");
    // Both instances gone: nothing to connect to.
    for index in 0..2 {
        let instance = proxy.take_instance(index);
        instance.signal("KILL");
        instance.wait_for_exit();
    }
    let gone = proxy.exchange("GET", "/example", &[]);
    assert_nginx_error(gone, "HTTP/1.1 502 Bad Gateway");
    // The same over HTTP/2.
    let gone = proxy.curl(&["--http2"], "/example");
    assert_nginx_error(gone, "HTTP/2 502 ");
}

/// Health, readiness and metrics are for the instances' own addresses: to
/// the public they are the JSON 404, however the path is written.
#[test]
#[ignore = "needs nginx: apt-get install nginx openssl gettext-base"]
fn the_operational_endpoints_are_the_json_404_through_nginx() {
    let proxy = Proxy::start(&[]);
    let instance = proxy.instances[0].as_ref().expect("an instance");
    for path in ["/healthz", "/readyz", "/metrics"] {
        let direct = instance.exchange("GET", path, &[]);
        assert_eq!(direct.status_line, "HTTP/1.1 200 OK", "{path}: {direct:#?}");
    }
    let paths = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/healthz/",
        "//metrics",
        "/%6Detrics",
        "/%72eadyz",
        "/./healthz",
        "/readyz?full=1",
    ];
    for path in paths {
        assert_nginx_error(proxy.exchange("GET", path, &[]), "HTTP/1.1 404 Not Found");
        let head = through_nginx(proxy.exchange("HEAD", path, &[]));
        assert_eq!(head.status_line, "HTTP/1.1 404 Not Found", "HEAD {path}");
        assert_eq!(head.header("content-type"), Some("application/json"));
        assert_eq!(head.body, "", "HEAD {path}");
        let http2 = proxy.curl(&["--http2", "--path-as-is"], path);
        assert_nginx_error(http2, "HTTP/2 404 ");
    }
}

/// The decision README.md states: a body over `--max-body` (64 KiB) is
/// refused by nginx with the JSON 413 before any of it is read, and nothing
/// reaches an instance; a smaller one is forwarded and gets the 401.
#[test]
#[ignore = "needs nginx: apt-get install nginx openssl gettext-base"]
fn a_very_large_post_gets_the_json_413_before_its_body_is_sent() {
    let proxy = Proxy::start(&[]);
    let too_large = "HTTP/1.1 413 Request Entity Too Large";
    // Only the head of a gigabyte POST is sent, and the answer comes.
    let mut tls = BufReader::new(proxy.connect());
    tls.get_mut()
        .write_all(b"POST /example HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n")
        .expect("the head is sent");
    let answer = Answer::read_from(&mut tls, false);
    assert_nginx_error(answer, too_large);
    // nginx logs a request once its client has left.
    drop(tls);
    // Chunked, the size is known only once 64 KiB have come.
    let mut tls = BufReader::new(proxy.connect());
    let head = "POST /example HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, "a".repeat(16 * 1024));
    tls.get_mut()
        .write_all(head.as_bytes())
        .expect("the head is sent");
    for _ in 0..5 {
        tls.get_mut()
            .write_all(chunk.as_bytes())
            .expect("a chunk is sent");
    }
    let answer = Answer::read_from(&mut tls, false);
    assert_nginx_error(answer, too_large);
    drop(tls);
    // Over HTTP/2, as curl and browsers send it.
    let big = proxy.curl(
        &["--http2", "--data-binary", &"a".repeat(65 * 1024)],
        "/example",
    );
    assert_nginx_error(big, "HTTP/2 413 ");
    // Exactly 64 KiB: forwarded whole, and refused by the guard.
    let post = proxy.send_raw(post_example(&"a".repeat(64 * 1024)).as_bytes());
    through_nginx(Answer::parse(&post)).assert_unauthorized(NO_CREDENTIALS);
    let log = proxy.wait_for_access_log(4);
    let forwarded = log.lines().filter(|line| !line.contains(" upstream=- "));
    assert_eq!(
        forwarded.count(),
        1,
        "only the last POST reached an instance:\n{log}"
    );
}

#[test]
#[ignore = "needs nginx: apt-get install nginx openssl gettext-base"]
fn both_instances_receive_requests() {
    let proxy = Proxy::start(&[]);
    let mut tls = BufReader::new(proxy.connect());
    for _ in 0..20 {
        let answer = get_example(&mut tls);
        assert_eq!(answer.status_line, "HTTP/1.1 401 Unauthorized");
    }
    let log = proxy.access_log();
    for upstream in &proxy.upstreams {
        let served = log.lines().filter(|line| served_by(line) == Some(upstream));
        assert!(served.count() >= 5, "{upstream} served few of:\n{log}");
    }
}

/// A client that stops halfway through its request head, or its body, or
/// never sends a byte, is disconnected without an answer once the timeout
/// (2 s in the tests) passes. nginx logs a 408 and sends nothing.
#[test]
#[ignore = "needs nginx: apt-get install nginx openssl gettext-base"]
fn slow_clients_are_disconnected_by_the_timeouts() {
    let proxy = Proxy::start(&[]);
    let mut half_head = proxy.connect();
    half_head
        .write_all(b"GET /example HTTP/1.1\r\nHost: x\r\n")
        .expect("half a head is sent");
    let mut half_body = proxy.connect();
    half_body
        .write_all(b"POST /example HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        .expect("a head and part of a body are sent");
    let start = Instant::now();
    assert_eq!(read_to_close(&mut half_head), "");
    assert_eq!(read_to_close(&mut half_body), "");
    eprintln!("half-sent head and body closed after {:?}", start.elapsed());
    // A TCP client that never starts TLS.
    let mut silent = crate::server::connect(&proxy.address);
    let mut nothing = Vec::new();
    let read = std::io::Read::read_to_end(&mut silent, &mut nothing);
    assert!(read.is_ok() && nothing.is_empty(), "{read:?} {nothing:?}");
    // The TCP client never made a request: two lines, both 408 with no byte sent.
    let log = proxy.wait_for_access_log(2);
    assert_eq!(
        log.lines().filter(|l| l.contains("\" 408 0 ")).count(),
        2,
        "{log}"
    );
}

/// The header timeout bounds the whole head, not each pause: a client that
/// sends one byte every 100 ms, and would take 7 s to finish its head, is
/// cut off after 2 s without an answer.
#[test]
#[ignore = "needs nginx: apt-get install nginx openssl gettext-base"]
fn a_client_that_trickles_its_head_is_cut_off_at_the_header_timeout() {
    let proxy = Proxy::start(&[]);
    let head = b"GET /example HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nX-Slow: 0123456789\r\n\r\n";
    let mut trickle = proxy.connect();
    let start = Instant::now();
    let mut sent = 0;
    for byte in head {
        if trickle.write_all(&[*byte]).is_err() {
            break;
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(read_to_close(&mut trickle), "", "the head was finished");
    eprintln!(
        "a head trickled at 10 bytes/s: cut off after {sent} of {} bytes, {:?}",
        head.len(),
        start.elapsed()
    );
    assert!(sent < head.len(), "the whole head went through");
}

/// Hundreds of clients, each from its own loopback address so that a
/// per-client limit cannot tell them apart, each holding half a request:
/// a fresh request still gets its 401, and each of them is disconnected.
#[test]
#[ignore = "needs nginx: apt-get install nginx openssl gettext-base"]
fn hundreds_of_half_sent_requests_do_not_stop_a_fresh_one() {
    const CLIENTS: u32 = 300;
    // Long enough for the clients to connect before the first is cut off.
    let proxy = Proxy::start(&["--header-timeout", "10s"]);
    let opening = Instant::now();
    let mut slow: Vec<(Tls, Instant)> = (0..CLIENTS)
        .map(|n| {
            let source = Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 0, 2)) + n);
            let mut tls = proxy.connector().connect_from(source);
            tls.write_all(b"GET /example HTTP/1.1\r\nHost: x\r\nAccept: ")
                .expect("half a head is sent");
            (tls, Instant::now())
        })
        .collect();
    let opened = opening.elapsed();
    let fresh = Instant::now();
    through_nginx(proxy.curl(&[], "/example")).assert_unauthorized(NO_CREDENTIALS);
    let (fresh, answered) = (fresh.elapsed(), Instant::now());
    let mut held = Vec::new();
    for (tls, sent) in &mut slow {
        assert_eq!(read_to_close(tls), "", "a slow client got an answer");
        let closed = Instant::now();
        assert!(
            closed > answered,
            "a slow client was gone before the fresh request"
        );
        held.push(closed - *sent);
    }
    held.sort();
    eprintln!(
        "{CLIENTS} half-sent TLS clients opened in {opened:?}; a fresh request answered in \
         {fresh:?}; each held for {:?} to {:?} (header timeout 10 s)",
        held[0],
        held[held.len() - 1]
    );
}

/// With `--per-client 2`, a third request in progress from one address gets
/// the JSON 429, another address is served, and a finished request frees
/// its place.
#[test]
#[ignore = "needs nginx: apt-get install nginx openssl gettext-base"]
fn the_per_client_limit_refuses_one_request_too_many_with_json_429() {
    let proxy = Proxy::start(&["--per-client", "2", "--body-timeout", "30s"]);
    // Two uploads in progress: nginx's "100 Continue" proves that each
    // has passed the limit and is waiting for its body.
    let mut uploads: Vec<BufReader<Tls>> = (0..2)
        .map(|_| {
            let mut tls = BufReader::new(proxy.connect());
            tls.get_mut()
                .write_all(
                    b"POST /example HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\
                      Expect: 100-continue\r\n\r\n",
                )
                .expect("the head is sent");
            let continued = Answer::read_from(&mut tls, true);
            assert_eq!(continued.status_line, "HTTP/1.1 100 Continue");
            tls
        })
        .collect();
    let refused = proxy.exchange("GET", "/example", &[]);
    assert_nginx_error(refused, "HTTP/1.1 429 Too Many Requests");
    let mut other = BufReader::new(proxy.connector().connect_from(Ipv4Addr::new(127, 0, 0, 2)));
    assert_eq!(
        get_example(&mut other).status_line,
        "HTTP/1.1 401 Unauthorized"
    );
    // One upload ends; its place is free once nginx has logged it.
    let mut upload = uploads.pop().expect("two uploads");
    upload
        .get_mut()
        .write_all(b"a=b")
        .expect("the body is sent");
    through_nginx(Answer::read_from(&mut upload, false)).assert_unauthorized(NO_CREDENTIALS);
    wait_until(
        || {
            let answer = proxy.exchange("GET", "/example", &[]);
            let served = answer.status_line == "HTTP/1.1 401 Unauthorized";
            if !served {
                assert_nginx_error(answer, "HTTP/1.1 429 Too Many Requests");
            }
            served
        },
        || "the finished upload's place stays taken".to_owned(),
    );
}

#[test]
#[ignore = "needs nginx: apt-get install nginx openssl gettext-base"]
fn a_killed_instance_costs_no_request_and_gets_traffic_again_once_back() {
    let mut proxy = Proxy::start(&[]);
    let load = Load::start(&proxy, Traffic::KeepAliveGets);
    load.wait_for(300);
    let killed = proxy.take_instance(0);
    killed.signal("KILL");
    killed.wait_for_exit();
    let at_kill = load.done();
    load.wait_for(at_kill + 600);
    let log_before = proxy.access_log().len();
    proxy.restart_instance(0);
    let back = Instant::now();
    wait_until(
        || {
            proxy.access_log()[log_before..]
                .lines()
                .any(|line| served_by(line) == Some(&proxy.upstreams[0]))
        },
        || "the instance got no traffic again".to_owned(),
    );
    let back = back.elapsed();
    let report = load.finish();
    report.assert_no_failure();
    eprintln!(
        "killed mid-load: {}; served again {back:?} after restart (fail_timeout 1 s)",
        report.summary(&proxy)
    );
}

#[test]
#[ignore = "needs nginx: apt-get install nginx openssl gettext-base"]
fn sigterm_drains_an_instance_behind_nginx_without_a_failed_request() {
    let mut proxy = Proxy::start(&[]);
    let load = Load::start(&proxy, Traffic::KeepAliveGets);
    load.wait_for(300);
    drain(&mut proxy, 0);
    let at_exit = load.done();
    load.wait_for(at_exit + 300);
    let report = load.finish();
    report.assert_no_failure();
    eprintln!("drained mid-load: {}", report.summary(&proxy));
}

/// nginx never retries a POST it has sent, and an instance that stops
/// drops the requests it has not read yet, so the drain that loses no POST
/// takes the instance out of nginx first: render without it, reload, then
/// SIGTERM.
#[test]
#[ignore = "needs nginx: apt-get install nginx openssl gettext-base"]
fn an_instance_taken_out_of_nginx_first_drains_without_a_failed_post() {
    let mut proxy = Proxy::start(&[]);
    let load = Load::start(&proxy, Traffic::NewPosts);
    load.wait_for(100);
    proxy.reload_with(&[1]);
    let at_reload = load.done();
    load.wait_for(at_reload + 100);
    let log_before_drain = proxy.access_log().len();
    drain(&mut proxy, 0);
    let at_exit = load.done();
    load.wait_for(at_exit + 100);
    let report = load.finish();
    report.assert_no_failure();
    let log = proxy.access_log();
    let after = &log[log_before_drain..];
    assert!(
        after
            .lines()
            .all(|line| served_by(line) == Some(&proxy.upstreams[1])),
        "{after}"
    );
    eprintln!(
        "taken out, then drained, under POSTs: {}",
        report.summary(&proxy)
    );
}

/// Sends `GET /example` on an open keep-alive connection and reads the
/// answer.
fn get_example(tls: &mut BufReader<Tls>) -> Answer {
    tls.get_mut()
        .write_all(Traffic::KeepAliveGets.request())
        .expect("the request is sent");
    Answer::read_from(tls, false)
}

/// Stops instance `index` with SIGTERM, which must end it gracefully:
/// exit 0, nothing on stderr.
fn drain(proxy: &mut Proxy, index: usize) {
    let draining = proxy.take_instance(index);
    draining.signal("TERM");
    let (status, stderr) = draining.wait_for_exit();
    assert!(status.success() && stderr.is_empty(), "{status}: {stderr}");
}

/// `POST /example` with `body`, closing the connection after the answer.
fn post_example(body: &str) -> String {
    let length = body.len();
    format!(
        "POST /example HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n{body}"
    )
}

/// The instance that gave the final answer to the request an access-log
/// line records: the last of `upstream=a, b`.
pub fn served_by(line: &str) -> Option<&str> {
    let upstreams = line
        .split(" upstream=")
        .nth(1)?
        .split(" upstream_status=")
        .next()?;
    upstreams.rsplit(", ").next()
}

/// Every instance nginx sent the request of access-log line `line` to, in
/// order: the last answered it, the others failed or timed out first.
pub fn attempted_on(line: &str) -> impl Iterator<Item = &str> {
    line.split(" upstream=")
        .nth(1)
        .and_then(|rest| rest.split(" upstream_status=").next())
        .into_iter()
        .flat_map(|upstreams| upstreams.split(", "))
}

/// How many of the requests in access-log lines `log` were retried on
/// another instance: their `upstream=` names more than one.
pub fn retried(log: &str) -> usize {
    log.lines()
        .filter(|line| {
            line.split(" upstream=")
                .nth(1)
                .is_some_and(|u| u.contains(", "))
        })
        .count()
}

/// What a load sends.
#[derive(Clone, Copy)]
enum Traffic {
    /// `GET /example`, over keep-alive connections: nginx may retry a GET.
    KeepAliveGets,
    /// `POST /example` with a small body, each on a new connection, so
    /// that no client ever writes onto a connection nginx is closing.
    NewPosts,
}

impl Traffic {
    fn request(self) -> &'static [u8] {
        match self {
            Traffic::KeepAliveGets => b"GET /example HTTP/1.1\r\nHost: localhost\r\n\r\n",
            Traffic::NewPosts => {
                b"POST /example HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\
                  Connection: close\r\n\r\na=b"
            }
        }
    }
}

/// A bounded load on four connections at a time, each answer checked; it
/// stops when told, or after [`Load::MAX`] requests.
struct Load {
    done: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    failures: Arc<Mutex<Vec<String>>>,
    clients: Vec<JoinHandle<Duration>>,
}

/// What a load saw.
struct Report {
    requests: usize,
    failures: Vec<String>,
    slowest: Duration,
}

impl Report {
    fn assert_no_failure(&self) {
        assert!(self.failures.is_empty(), "{:#?}", self.failures);
    }

    /// The figures, for the test's output.
    fn summary(&self, proxy: &Proxy) -> String {
        let retried = retried(&proxy.access_log());
        format!(
            "{} requests, none failed, {retried} retried on another instance, slowest {:?}",
            self.requests, self.slowest
        )
    }
}

impl Load {
    const MAX: usize = 50_000;
    const CLIENTS: usize = 4;

    fn start(proxy: &Proxy, traffic: Traffic) -> Load {
        let done = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let clients = (0..Load::CLIENTS)
            .map(|_| {
                let connector = proxy.connector();
                let (done, stop, failures) = (done.clone(), stop.clone(), failures.clone());
                std::thread::spawn(move || client(&connector, traffic, &done, &stop, &failures))
            })
            .collect();
        Load {
            done,
            stop,
            failures,
            clients,
        }
    }

    fn done(&self) -> usize {
        self.done.load(Ordering::SeqCst)
    }

    /// Waits until `count` requests have been answered.
    fn wait_for(&self, count: usize) {
        wait_until(
            || {
                assert!(self.done() < Load::MAX, "the load ended early");
                self.done() >= count
            },
            || format!("{} requests, not {count}", self.done()),
        );
    }

    fn finish(self) -> Report {
        self.stop.store(true, Ordering::SeqCst);
        let slowest = self
            .clients
            .into_iter()
            .map(|client| client.join().expect("a load client ran to its end"))
            .max()
            .unwrap_or_default();
        let failures = std::mem::take(&mut *self.failures.lock().expect("no client panicked"));
        Report {
            requests: self.done.load(Ordering::SeqCst),
            failures,
            slowest,
        }
    }
}

/// One load client. A connection is opened again when nginx closes it
/// (`Connection: close`, also after `keepalive_requests`, 1000). Any answer
/// but the exact 401 is a failure; so is a connection that breaks.
fn client(
    connector: &Connector,
    traffic: Traffic,
    done: &AtomicUsize,
    stop: &AtomicBool,
    failures: &Mutex<Vec<String>>,
) -> Duration {
    let mut slowest = Duration::ZERO;
    let mut open: Option<BufReader<Tls>> = None;
    while !stop.load(Ordering::SeqCst) && done.load(Ordering::SeqCst) < Load::MAX {
        let start = Instant::now();
        let tls = open.get_or_insert_with(|| BufReader::new(connector.connect()));
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            tls.get_mut()
                .write_all(traffic.request())
                .expect("the request is sent");
            Answer::read_from(tls, false)
        }));
        slowest = slowest.max(start.elapsed());
        match answer {
            Ok(answer)
                if answer.status_line == "HTTP/1.1 401 Unauthorized"
                    && answer.body == UNAUTHORIZED =>
            {
                done.fetch_add(1, Ordering::SeqCst);
                if answer.header("connection") == Some("close") {
                    open = None;
                }
            }
            Ok(answer) => failures
                .lock()
                .expect("a lock")
                .push(format!("{answer:#?}")),
            Err(_) => {
                failures
                    .lock()
                    .expect("a lock")
                    .push("a broken connection".into());
                open = None;
            }
        }
    }
    slowest
}

/// The front's TLS is Mozilla's "intermediate" configuration, as sslyze
/// checks it: the one finding allowed is the throwaway certificate's,
/// which no client trusts.
#[test]
#[ignore = "needs nginx and sslyze: apt-get install nginx openssl gettext-base; tools/python-venv, then .venv/bin first on PATH"]
fn the_front_meets_mozillas_intermediate_tls_configuration() {
    let found = Command::new("python3")
        .args(["-c", "import sslyze"])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        found,
        r#"needs sslyze: run tools/python-venv, then export PATH="$PWD/.venv/bin:$PATH""#
    );
    let proxy = Proxy::start(&[]);
    let output = Command::new("python3")
        .args([
            "-m",
            "sslyze",
            "--mozilla_config=intermediate",
            &proxy.address,
        ])
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let findings: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("        * "))
        .map(|finding| finding.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(findings, ["certificate_path_validation"], "{stdout}");
    assert_eq!(output.status.code(), Some(1), "{stdout}");
}
