//! Raw TCP, with no client library smoothing things over: keep-alive,
//! pipelining, and a body far larger than anyone should send.

use std::io::{BufReader, ErrorKind, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use crate::server::{Answer, Body, INVALID_TOKEN, NO_CREDENTIALS, Server, UNAUTHORIZED};

/// The `i`th request of a sequence: methods and credentials vary, so that
/// an answer out of order shows.
fn nth_request(i: usize) -> (String, bool, &'static str) {
    let head = i % 3 == 1;
    let method = ["GET", "HEAD", "POST"][i % 3];
    let (authorization, challenge) = if i.is_multiple_of(2) {
        ("", NO_CREDENTIALS)
    } else {
        ("Authorization: Bearer t0k3n\r\n", INVALID_TOKEN)
    };
    let text = format!("{method} /example?i={i} HTTP/1.1\r\nHost: x\r\n{authorization}\r\n");
    (text, head, challenge)
}

fn assert_answers_each_in_turn(reader: &mut BufReader<TcpStream>, range: std::ops::Range<usize>) {
    for i in range {
        let (_, head, challenge) = nth_request(i);
        let body = if head {
            Body::HeadOf(UNAUTHORIZED)
        } else {
            Body::Full(UNAUTHORIZED)
        };
        let answer = Answer::read_from(reader, head);
        assert_eq!(answer.header("connection"), None, "request {i}");
        answer.assert_unauthorized_as(challenge, "application/json", body);
    }
}

#[test]
fn one_connection_is_kept_alive_across_many_requests() {
    let server = Server::start("release", &[]);
    let mut stream = server.connect();
    let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
    for i in 0..300 {
        stream
            .write_all(nth_request(i).0.as_bytes())
            .expect("the request is sent");
        assert_answers_each_in_turn(&mut reader, i..i + 1);
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = Server::start("release", &[]);
    let mut stream = server.connect();
    let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
    let all: String = (0..100).map(|i| nth_request(i).0).collect();
    stream
        .write_all(all.as_bytes())
        .expect("the requests are sent");
    assert_answers_each_in_turn(&mut reader, 0..100);
}

/// How much of an announced gigabyte the client sends at most before it
/// gives up waiting for the answer: far more than the socket buffers hold.
const SENT_AT_MOST: usize = 256 << 20;

/// Sends `head`, then keeps sending `chunk` (up to [`SENT_AT_MOST`]) while
/// reading the answer; the writer stops when the answer has arrived, and a
/// reset or broken pipe is what a server that reads no body may do. Returns
/// the answer and how many body bytes were sent.
fn post_while_reading(server: &Server, head: &str, chunk: &[u8]) -> (Answer, usize) {
    let mut stream = server.connect();
    stream.write_all(head.as_bytes()).expect("the head is sent");
    let answered = Arc::new(AtomicBool::new(false));
    let writer = {
        let mut stream = stream.try_clone().expect("a second handle");
        let answered = Arc::clone(&answered);
        let chunk = chunk.to_vec();
        thread::spawn(move || {
            let mut sent = 0;
            while sent < SENT_AT_MOST && !answered.load(Ordering::SeqCst) {
                match stream.write_all(&chunk) {
                    Ok(()) => sent += chunk.len(),
                    Err(e)
                        if matches!(
                            e.kind(),
                            ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
                        ) =>
                    {
                        break;
                    }
                    Err(e) => panic!("after {sent} bytes: {e}"),
                }
            }
            sent
        })
    };
    let answer = Answer::read_from(&mut BufReader::new(stream), false);
    answered.store(true, Ordering::SeqCst);
    let sent = writer.join().expect("the writer ends");
    (answer, sent)
}

#[test]
fn a_gigabyte_post_is_answered_before_its_body_is_sent() {
    let server = Server::start("release", &[]);
    let before = server.rss_kib();
    let chunk = vec![b'x'; 64 << 10];
    let announced = "POST /example HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n";
    let chunked = "POST /example HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
    framed.extend_from_slice(&chunk);
    framed.extend_from_slice(b"\r\n");
    for (head, chunk) in [(announced, &chunk), (chunked, &framed)] {
        let (answer, sent) = post_while_reading(&server, head, chunk);
        answer.assert_unauthorized(NO_CREDENTIALS);
        // hyper will not read the rest of a body nobody asked for: it closes.
        assert_eq!(answer.header("connection"), Some("close"));
        assert!(sent < SENT_AT_MOST, "{head}: the whole bound was sent");
    }
    let grown = server.rss_kib().saturating_sub(before);
    assert!(grown < 16 << 10, "the server grew by {grown} KiB");
}

/// A bounded load: [`CONNECTIONS`] clients at once, each sending
/// [`REQUESTS`] requests on its own connection, pipelined in batches.
const CONNECTIONS: usize = 32;
const REQUESTS: usize = 400;

#[test]
fn many_concurrent_connections_get_the_exact_401_every_time() {
    let server = Server::start("release", &[]);
    thread::scope(|scope| {
        for _ in 0..CONNECTIONS {
            scope.spawn(|| {
                let mut stream = server.connect();
                let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
                for batch in (0..REQUESTS).step_by(20) {
                    let requests: String = (batch..batch + 20).map(|i| nth_request(i).0).collect();
                    stream
                        .write_all(requests.as_bytes())
                        .expect("the requests are sent");
                    assert_answers_each_in_turn(&mut reader, batch..batch + 20);
                }
            });
        }
    });
}
