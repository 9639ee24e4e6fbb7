//! Shutdown: SIGTERM and SIGINT let the requests in flight finish, then the
//! process exits 0; another signal during the graceful shutdown changes
//! nothing.

use std::io::{Read, Write};

use crate::server::Answer;
use crate::server::{NO_CREDENTIALS, Server};

/// Requests whose body is still on its way when the signal arrives.
const IN_FLIGHT: usize = 3;

/// What hyper sends when Rocket starts to peek at a body announced with
/// `Expect: 100-continue`: proof that the request is in the server.
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

#[test]
fn sigterm_and_sigint_let_requests_in_flight_finish_and_exit_0_whatever_signal_follows() {
    for signal in ["TERM", "INT"] {
        let server = Server::start("debug", &[]);
        let mut streams: Vec<_> = (0..IN_FLIGHT).map(|_| server.connect()).collect();
        for stream in &mut streams {
            stream
                .write_all(b"POST /example HTTP/1.1\r\nHost: x\r\nContent-Length: 14\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
                .expect("the head is sent");
            let mut interim = [0; CONTINUE.len()];
            stream.read_exact(&mut interim).expect("100 Continue");
            assert_eq!(interim, CONTINUE);
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
