//! The JSON error responses and the catchers that send them: the 401 with
//! its challenge, and every other status.

use rocket::http::{Header, Status};
use rocket::response::Responder;
use rocket::serde::json::Json;
use rocket::{Catcher, Request, catch, catcher, catchers};
use serde::Serialize;

use crate::auth::Rejection;
use crate::config::Realm;
use crate::negotiation::prefers_problem_details;

/// The catchers that make every error JSON: a 401 whose challenge follows the
/// [`Rejection`] a guard recorded, and a default catcher for every other
/// status. Register them at `/` on any Rocket app:
///
/// ```
/// use unauthorized::{Realm, catchers};
///
/// let realm = Realm::new("my api").expect("a valid realm");
/// let rocket = rocket::build().register("/", catchers(&realm));
/// ```
pub fn catchers(realm: &Realm) -> Vec<Catcher> {
    let unauthorized = Catcher::new(401, UnauthorizedCatcher::new(realm));
    let mut catchers = catchers![default];
    catchers.push(unauthorized);
    catchers
}

/// The 401 catcher: it holds both challenges for the realm, built once when
/// the rocket is built, and picks one by the request's [`Rejection`].
#[derive(Clone)]
struct UnauthorizedCatcher {
    missing_credentials: Challenge,
    invalid_token: Challenge,
}

impl UnauthorizedCatcher {
    /// RFC 6750 §3: no error code without credentials; `invalid_token` for
    /// a token that is not accepted. One space after the scheme, parameters
    /// separated by commas (RFC 9110 §11.3).
    fn new(realm: &Realm) -> UnauthorizedCatcher {
        let missing_credentials = format!("Bearer realm=\"{realm}\"");
        let invalid_token = format!("{missing_credentials}, error=\"invalid_token\"");
        UnauthorizedCatcher {
            missing_credentials: Challenge(missing_credentials),
            invalid_token: Challenge(invalid_token),
        }
    }

    fn challenge(&self, rejection: Rejection) -> &Challenge {
        match rejection {
            Rejection::MissingCredentials => &self.missing_credentials,
            Rejection::InvalidToken => &self.invalid_token,
        }
    }
}

#[rocket::async_trait]
impl catcher::Handler for UnauthorizedCatcher {
    async fn handle<'r>(&self, status: Status, request: &'r Request<'_>) -> catcher::Result<'r> {
        let response = Unauthorized {
            body: ErrorBody::new(status, request),
            challenge: self.challenge(Rejection::recorded(request)).clone(),
        };
        response.respond_to(request)
    }
}

/// Every status but 401, as JSON.
#[catch(default)]
fn default(status: Status, request: &Request<'_>) -> ErrorBody {
    ErrorBody::new(status, request)
}

/// The 401 response: RFC 9110 §15.5.2 requires a `WWW-Authenticate`
/// challenge on every 401.
#[derive(rocket::Responder)]
#[response(status = 401)]
struct Unauthorized {
    body: ErrorBody,
    challenge: Challenge,
}

/// A `WWW-Authenticate` field value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Challenge(String);

impl From<Challenge> for Header<'static> {
    fn from(challenge: Challenge) -> Header<'static> {
        Header::new("WWW-Authenticate", challenge.0)
    }
}

/// The body of every error, negotiated: `{"message":"<reason phrase>"}` as
/// `application/json`, or RFC 9457 problem details for a client that prefers
/// them. Either way the response says `Vary: Accept` (RFC 9110 §12.5.5).
#[derive(rocket::Responder)]
enum ErrorBody {
    Message(Json<Message>, VaryAccept),
    #[response(content_type = "application/problem+json")]
    Problem(Json<Problem>, VaryAccept),
}

impl ErrorBody {
    fn new(status: Status, request: &Request<'_>) -> ErrorBody {
        let reason = status.reason_lossy();
        if prefers_problem_details(request.headers()) {
            let problem = Problem {
                kind: "about:blank",
                title: reason,
                status: status.code,
            };
            ErrorBody::Problem(Json(problem), VaryAccept)
        } else {
            ErrorBody::Message(Json(Message { message: reason }), VaryAccept)
        }
    }
}

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

/// RFC 9457 §3.1; `about:blank` says the status alone explains the problem.
#[derive(Serialize)]
struct Problem {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
}

struct VaryAccept;

impl From<VaryAccept> for Header<'static> {
    fn from(_: VaryAccept) -> Header<'static> {
        Header::new("Vary", "Accept")
    }
}
