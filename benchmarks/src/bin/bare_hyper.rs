//! The load benchmark's floor: a bare hyper 1 server on tokio that answers
//! every request with the service's 401 for a request without credentials,
//! the same status, headers and 26-byte body, written from static bytes.
//! `benchmarks/load/loadbench.py` builds and runs it beside the service and a Go peer.
//!
//! Usage: `cargo run --release -p benchmarks --bin bare_hyper -- 127.0.0.1:PORT`; it
//! prints `listening on http://ADDR` like the service.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    CONTENT_TYPE, HeaderName, HeaderValue, VARY, WWW_AUTHENTICATE, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const BODY: &[u8] = br#"{"message":"Unauthorized"}"#;

/// The service's 401 headers but `Content-Length` and `Date`, which hyper
/// writes, in the order the service sends them.
const HEADERS: [(HeaderName, HeaderValue); 6] = [
    (CONTENT_TYPE, HeaderValue::from_static("application/json")),
    (VARY, HeaderValue::from_static("Accept")),
    (
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"example\""),
    ),
    (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    (X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN")),
    (
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("interest-cohort=()"),
    ),
];

#[tokio::main]
async fn main() -> ExitCode {
    let address = std::env::args().nth(1).unwrap_or("127.0.0.1:8081".into());
    let address: SocketAddr = match address.parse() {
        Ok(address) => address,
        Err(error) => return fail(format!("address {address:?}: {error}")),
    };
    let listener = match TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => return fail(format!("cannot listen on {address}: {error}")),
    };
    println!("listening on http://{address}");
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(error) => return fail(format!("accept: {error}")),
        };
        // As Rocket does: responses leave as soon as they are written.
        if let Err(error) = stream.set_nodelay(true) {
            return fail(format!("nodelay: {error}"));
        }
        tokio::spawn(async move {
            let service = service_fn(unauthorized);
            // A client that leaves mid-request is no error of the server's.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn unauthorized(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(BODY)));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response.headers_mut().extend(HEADERS);
    Ok(response)
}

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
