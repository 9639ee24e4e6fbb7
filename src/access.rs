//! Every response, logged and counted: one access line (method, path
//! without the query, status, the rejection reason where a guard recorded
//! one, duration) and the metrics of [`crate::metrics`].
//!
//! A fairing sees each request that Rocket parses. A request that Rocket
//! cannot parse (an unknown method such as `FOO`) skips the fairings and
//! goes straight to the 400 catcher; the default catcher, wrapped by
//! [`observing_unseen`], logs and counts that one.

use std::time::{Duration, Instant};

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Method, Status};
use rocket::{Catcher, Data, Request, Response, catcher};
use rocket_bearer::Rejection;

use crate::logger;
use crate::metrics::{InFlight, Metrics};

/// The fairing that starts the clock on each request and, once the response
/// is ready, logs and counts it.
pub struct Access;

/// What the fairing notes when a request arrives, kept in the request's
/// local cache: `None` there means the fairing never saw the request.
struct Seen {
    start: Instant,
    /// The method as the client sent it: Rocket routes a HEAD as a GET when
    /// no HEAD route matches, and the response fairing sees the GET.
    method: Method,
    /// Dropped with the request, also when its task is cancelled.
    _in_flight: Option<InFlight>,
}

#[rocket::async_trait]
impl Fairing for Access {
    fn info(&self) -> Info {
        Info {
            name: "Access log and metrics",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, request: &mut Request<'_>, _: &mut Data<'_>) {
        let in_flight = request.rocket().state::<Metrics>().map(Metrics::in_flight);
        let method = request.method();
        request.local_cache(|| {
            Some(Seen {
                start: Instant::now(),
                method,
                _in_flight: in_flight,
            })
        });
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        if let Some(seen) = request.local_cache(|| None::<Seen>) {
            let took = seen.start.elapsed();
            record(request, Some(seen.method), response.status(), Some(took));
        }
    }
}

/// Wraps the default catcher among `catchers` so that it logs and counts
/// the responses of requests that the fairing never saw; the others are
/// returned as they are.
pub fn observing_unseen(catchers: Vec<Catcher>) -> Vec<Catcher> {
    catchers
        .into_iter()
        .map(|mut catcher| {
            if catcher.code.is_none() {
                catcher.handler = Box::new(Unseen(catcher.handler));
            }
            catcher
        })
        .collect()
}

#[derive(Clone)]
struct Unseen(Box<dyn catcher::Handler>);

#[rocket::async_trait]
impl catcher::Handler for Unseen {
    async fn handle<'r>(&self, status: Status, request: &'r Request<'_>) -> catcher::Result<'r> {
        let mut unseen = false;
        request.local_cache(|| {
            unseen = true;
            None::<Seen>
        });
        let response = self.0.handle(status, request).await;
        if unseen {
            // Rocket answers a failed catcher with its 500.
            let sent = response
                .as_ref()
                .map_or(Status::InternalServerError, |r| r.status());
            // Rocket records an unparsable method as GET: the line leaves
            // the method out rather than name the wrong one; and there is
            // no start to time from.
            record(request, None, sent, None);
        }
        response
    }
}

/// One access line and the response's metrics.
fn record(request: &Request<'_>, method: Option<Method>, status: Status, took: Option<Duration>) {
    let reason = reason_label(request);
    if let Some(metrics) = request.rocket().state::<Metrics>() {
        metrics.responded(status.code, reason, took);
    }
    tracing::info!(
        target: logger::ACCESS,
        method = method.map(Method::as_str),
        path = request.uri().path().as_str(),
        status = status.code,
        reason,
        duration_us = took.map(|took| u64::try_from(took.as_micros()).unwrap_or(u64::MAX)),
    );
}

/// The reason a guard recorded on `request`, as a label: RFC 6750 §3.1's
/// error code (`invalid_token`, …), or `missing_credentials` for a refusal
/// without one; `None` where no guard recorded one (a 404, a static file).
fn reason_label(request: &Request<'_>) -> Option<&'static str> {
    let rejection = Rejection::recorded(request)?;
    Some(rejection.error_code().unwrap_or("missing_credentials"))
}
