//! Authentication as a type: the request guard and its typed error.
//!
//! Rocket 0.5 drops a guard's error before the catcher runs, so a rejecting
//! guard records its [`Rejection`] on the request with [`Rejection::reject`]
//! and the 401 catcher (see [`crate::catchers`]) reads it back to choose the
//! challenge.

use rocket::Request;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome};

/// Proof that a request carries credentials this service accepts.
///
/// The service accepts none, so the type has no values: add a parameter of
/// this type to a handler to require credentials, and the handler never runs.
/// With [`catchers`](crate::catchers) registered, every request is answered
/// by the 401 catcher with the challenge its [`Rejection`] calls for.
///
/// ```
/// use rocket::get;
/// use unauthorized::Authenticated;
///
/// #[get("/secret")]
/// fn secret(user: Authenticated) -> &'static str {
///     match user {}
/// }
/// ```
#[derive(Debug)]
pub enum Authenticated {}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Authenticated {
    type Error = Rejection;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Rejection> {
        match bearer_token(request) {
            None => Rejection::MissingCredentials.reject(request),
            Some(_token) => Rejection::InvalidToken.reject(request),
        }
    }
}

/// Why a request is refused with 401: the guard's typed error, and what
/// the 401 catcher turns into a `WWW-Authenticate` challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// No Bearer credentials: no `Authorization` header, an empty one, or
    /// another scheme. The challenge carries no error code (RFC 6750 §3.1).
    MissingCredentials,
    /// Bearer credentials that are not accepted, whatever the token (or none
    /// after the scheme): the challenge says `error="invalid_token"`
    /// (RFC 6750 §3.1).
    InvalidToken,
}

impl Rejection {
    /// Records this reason on `request` for the 401 catcher and returns the
    /// outcome a guard returns to refuse the request with 401.
    ///
    /// Call it from your own guard's `from_request`; where a request passes
    /// several rejecting guards, the first reason recorded stands. The record
    /// outlives the guard: a handler that takes the guard as `Option<_>` or
    /// `Result<_, _>` and then answers 401 itself gets this reason's
    /// challenge.
    pub fn reject<T>(self, request: &Request<'_>) -> Outcome<T, Rejection> {
        request.local_cache(|| self);
        Outcome::Error((Status::Unauthorized, self))
    }

    /// The reason a guard recorded on `request`; a 401 that no guard
    /// explained (a handler returning `Status::Unauthorized`, say) counts as
    /// missing credentials.
    pub(crate) fn recorded(request: &Request<'_>) -> Rejection {
        *request.local_cache(|| Rejection::MissingCredentials)
    }

    /// The reason a guard recorded on `request`, if one did: for the access
    /// log and the metrics, once the response is ready.
    pub(crate) fn recorded_reason(request: &Request<'_>) -> Option<Rejection> {
        let mut recorded = true;
        let rejection = *request.local_cache(|| {
            recorded = false;
            Rejection::MissingCredentials
        });
        recorded.then_some(rejection)
    }
}

/// The Bearer token of `request`, if its first `Authorization` header uses the
/// Bearer scheme: `Some("")` for `Bearer` alone, `None` for no header, an
/// empty one, or another scheme.
///
/// The scheme is the value up to its first space, matched case-insensitively
/// (RFC 9110 §11.1), so `bearer abc` is a Bearer credential. Only spaces
/// follow a scheme (RFC 9110 §11.4): `Bearer\tabc` is another scheme.
pub fn bearer_token<'r>(request: &'r Request<'_>) -> Option<&'r str> {
    let credentials = request.headers().get_one("Authorization")?;
    let (scheme, token) = credentials.split_once(' ').unwrap_or((credentials, ""));
    scheme
        .eq_ignore_ascii_case("Bearer")
        .then(|| token.trim_start_matches(' '))
}
