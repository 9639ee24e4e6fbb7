//! The `/example` resource: every method Rocket knows, each refused by the
//! [`Authenticated`] guard.

use rocket::http::Method;
use rocket::request::{FromRequest, Outcome};
use rocket::route::{self, Handler, Route};
use rocket::{Data, Request};

use crate::auth::Authenticated;

/// `/example` for GET, POST, PUT, PATCH, DELETE, OPTIONS, TRACE and CONNECT.
///
/// HEAD is absent on purpose: Rocket answers it with the GET route and strips
/// the body, keeping the headers. The route attributes stop at OPTIONS, so one
/// [`Handler`] serves every method.
pub fn routes() -> Vec<Route> {
    use Method::*;
    [Get, Post, Put, Patch, Delete, Options, Trace, Connect]
        .into_iter()
        .map(|method| Route::new(method, "/example", Example))
        .collect()
}

/// Runs the [`Authenticated`] guard and nothing else: the guard never
/// succeeds, so the 401 catcher always answers, and the body is never read.
#[derive(Clone)]
struct Example;

#[rocket::async_trait]
impl Handler for Example {
    async fn handle<'r>(&self, request: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        match Authenticated::from_request(request).await {
            Outcome::Success(authenticated) => match authenticated {},
            Outcome::Error((status, _rejection)) => route::Outcome::Error(status),
            Outcome::Forward(status) => route::Outcome::Forward((data, status)),
        }
    }
}
