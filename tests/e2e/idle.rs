//! Idle connections: Rocket 0.5.2 sets no header-read timeout, so a client
//! that sends nothing, or half a request, keeps its connection open. Under a
//! small open-files limit: how many it takes before a new client waits, and
//! what that client gets then (docs/TESTING.md, "Idle connections").

use std::io::{BufReader, ErrorKind, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::server::{Answer, NO_CREDENTIALS, PATIENCE, Server};

/// The open-files limit the server runs under here.
const NOFILE: usize = 256;
/// The silent and the half-sent connections held open below the limit.
const IDLE: usize = 50;

/// Opens connections one at a time, each accepted before the next, until
/// the server holds [`NOFILE`] files; counting ahead would miss a file the
/// server is still closing (the last exchange's connection).
fn fill_to_the_limit(server: &Server) -> Vec<TcpStream> {
    let mut filling = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let open = server.open_files();
        if open >= NOFILE {
            return filling;
        }
        assert!(
            Instant::now() < deadline,
            "the server stays at {open} files"
        );
        filling.push(server.connect());
        let accepted = Instant::now() + Duration::from_secs(1);
        while server.open_files() <= open && Instant::now() < accepted {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

#[test]
fn a_hundred_idle_connections_do_not_keep_a_new_client_from_its_401() {
    let server = Server::start_with_open_files("release", NOFILE);
    let own = server.open_files();
    let _silent: Vec<TcpStream> = (0..IDLE).map(|_| server.connect()).collect();
    let _half_sent: Vec<TcpStream> = (0..IDLE)
        .map(|_| {
            let mut stream = server.connect();
            stream
                .write_all(b"GET /example HTTP/1.1\r\nHost: x\r\nAuthor")
                .expect("half a request is sent");
            stream
        })
        .collect();
    server.wait_for_open_files(own + 2 * IDLE);
    server
        .exchange("GET", "/example", &[])
        .assert_unauthorized(NO_CREDENTIALS);
}

/// Once idle connections take every file the server may open, the accept
/// loop fails with EMFILE and retries every 250 ms; the kernel still
/// completes a new client's handshake, so the client connects, sends its
/// request and gets nothing: the denial of service docs/TESTING.md states.
/// When connections close, the next retry accepts it and it gets its 401.
/// How long after is printed, for docs/TESTING.md.
#[test]
fn at_the_open_files_limit_a_new_client_gets_no_answer_until_connections_close() {
    let server = Server::start_with_open_files("release", NOFILE);
    let filling = fill_to_the_limit(&server);
    let mut waiting = server.connect();
    waiting
        .write_all(b"GET /example HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("the request is sent");
    let mut reader = BufReader::new(waiting.try_clone().expect("a second handle"));
    // Eight retries of the accept loop, each refused.
    let wait = Duration::from_secs(2);
    waiting
        .set_read_timeout(Some(wait))
        .expect("a read timeout");
    let mut peek = [0; 1];
    let first_wait = waiting.peek(&mut peek);
    assert!(
        first_wait
            .as_ref()
            .is_err_and(|e| matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "at {NOFILE} open files the new client got {first_wait:?} within {wait:?}"
    );
    waiting
        .set_read_timeout(Some(PATIENCE))
        .expect("a read timeout");
    let freed = Instant::now();
    drop(filling);
    let answer = Answer::read_from(&mut reader, false);
    let after = freed.elapsed();
    answer.assert_unauthorized(NO_CREDENTIALS);
    eprintln!(
        "at {NOFILE} open files a new client got no answer in {wait:?}; \
         its 401 came {after:?} after the idle connections closed"
    );
}
