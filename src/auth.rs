//! The service's guard: it reads the credentials with the library and
//! accepts none of them.

use rocket::Request;
use rocket::request::{FromRequest, Outcome};
use rocket_bearer::{Credentials, Rejection};

/// Proof that a request carries credentials this service accepts.
///
/// The service accepts none, so the type has no values: a handler that takes
/// it never runs, and the compiler knows it (`match authenticated {}`). Every
/// request is answered by the library's 401 catcher with the challenge the
/// recorded [`Rejection`] calls for.
#[derive(Debug)]
pub enum Authenticated {}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Authenticated {
    type Error = Rejection;

    /// The contract: the first `Authorization` header counts, and Bearer
    /// with any token, a malformed one or none is `invalid_token`; no
    /// header, an empty one or another scheme is missing credentials.
    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Rejection> {
        let first = request.headers().get_one("Authorization");
        let rejection = match first.map_or(Credentials::Missing, Credentials::parse) {
            Credentials::Bearer(_) | Credentials::Malformed(_) => Rejection::invalid_token().into(),
            Credentials::Missing | Credentials::OtherScheme => Rejection::missing_credentials(),
        };
        rejection.reject(request)
    }
}
