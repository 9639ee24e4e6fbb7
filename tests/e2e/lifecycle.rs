//! Shutdown: SIGTERM and SIGINT let the requests in flight finish, then the
//! process exits 0; another signal during the graceful shutdown changes
//! nothing.

use std::io::{Read, Write};

use crate::server::Answer;
use crate::server::{NO_CREDENTIALS, Server};

/// Requests whose body is still on its way when the signal arrives.
const IN_FLIGHT: usize = 3;

/// Reads the interim answer hyper sends when Rocket starts to peek at a
/// body announced with `Expect: 100-continue` (RFC 9110 §10.1.1), proof
/// that the request is in the server: its head, up to the blank line, one
/// byte at a time so that nothing of the final answer is read.
fn read_interim(stream: &mut impl Read) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0; 1];
        stream.read_exact(&mut byte).expect("100 Continue");
        head.push(byte[0]);
    }
    String::from_utf8(head).expect("the head is UTF-8")
}

#[test]
fn sigterm_and_sigint_let_requests_in_flight_finish_and_exit_0_whatever_signal_follows() {
    for signal in ["TERM", "INT"] {
        let server = Server::start("debug", &[]);
        let mut streams: Vec<_> = (0..IN_FLIGHT).map(|_| server.connect()).collect();
        for stream in &mut streams {
            stream
                .write_all(b"POST /example HTTP/1.1\r\nHost: x\r\nContent-Length: 14\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
                .expect("the head is sent");
            let interim = read_interim(stream);
            assert!(interim.starts_with("HTTP/1.1 100 "), "{interim:?}");
        }
        server.signal(signal);
        server.stdout_until(|line| line.contains("shutting down"));
        // During grace, a signal neither kills the process nor hurries it.
        server.signal("TERM");
        server.signal("INT");
        for stream in &mut streams {
            stream
                .write_all(b"fourteen bytes")
                .expect("the rest is sent");
            let mut answer = String::new();
            stream
                .read_to_string(&mut answer)
                .expect("the answer arrives");
            Answer::parse(&answer).assert_unauthorized(NO_CREDENTIALS);
        }
        let (status, stderr) = server.wait_for_exit();
        assert_eq!(status.code(), Some(0), "SIG{signal}: {stderr}");
        assert_eq!(stderr, "", "SIG{signal}");
    }
}
