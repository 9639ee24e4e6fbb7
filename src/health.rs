//! Liveness and readiness, for orchestrators and load balancers: `GET
//! /healthz` says the process serves; `GET /readyz` says whether it wants
//! traffic, and stops wanting it when a drain begins ([`crate::drain`]).
//!
//! Status documents, not errors: the same JSON for every client (no
//! negotiation), never cached by anyone in between.

use rocket::http::{Header, Status};
use rocket::{Responder, Route, State, get, routes};

use crate::drain::Drain;

/// `/healthz` and `/readyz`.
pub fn routes() -> Vec<Route> {
    routes![healthz, readyz]
}

/// A status document: a JSON body prepared once, not to be stored.
#[derive(Responder)]
#[response(content_type = "json")]
struct StatusDocument(&'static str, NoStore);

/// `Cache-Control: no-store` (RFC 9111 §5.2.2.5): a status is only true now.
pub(crate) struct NoStore;

impl From<NoStore> for Header<'static> {
    fn from(_: NoStore) -> Header<'static> {
        Header::new("Cache-Control", "no-store")
    }
}

/// 200 while the process serves.
#[get("/healthz")]
fn healthz() -> StatusDocument {
    StatusDocument(r#"{"status":"ok"}"#, NoStore)
}

/// 200 until a drain begins, then 503 until the process exits.
#[get("/readyz")]
fn readyz(drain: &State<Drain>) -> (Status, StatusDocument) {
    if drain.is_draining() {
        let draining = StatusDocument(r#"{"status":"draining"}"#, NoStore);
        (Status::ServiceUnavailable, draining)
    } else {
        (Status::Ok, StatusDocument(r#"{"status":"ready"}"#, NoStore))
    }
}
