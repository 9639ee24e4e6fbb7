//! The JSON error responses and the catchers that send them: the 401 with
//! its challenge, and every other status.

use rocket::http::{Header, Status};
use rocket::response::{self, Responder};
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
            // One small copy per response: the header needs an owned value,
            // and leaking the realm's text to borrow it was not worth it.
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
    #[response(content_type = "json")]
    Message(JsonText<Message>, VaryAccept),
    #[response(content_type = "application/problem+json")]
    Problem(JsonText<Problem>, VaryAccept),
}

/// The 401's bodies, as `serde_json` writes them, so that the flood of 401s
/// is answered from static bytes; other statuses are serialized per request.
const UNAUTHORIZED_MESSAGE: &str = r#"{"message":"Unauthorized"}"#;
const UNAUTHORIZED_PROBLEM: &str = r#"{"type":"about:blank","title":"Unauthorized","status":401}"#;

impl ErrorBody {
    fn new(status: Status, request: &Request<'_>) -> ErrorBody {
        let reason = status.reason_lossy();
        let problem = prefers_problem_details(request.headers());
        match (status, problem) {
            (Status::Unauthorized, false) => {
                ErrorBody::Message(JsonText::Prepared(UNAUTHORIZED_MESSAGE), VaryAccept)
            }
            (Status::Unauthorized, true) => {
                ErrorBody::Problem(JsonText::Prepared(UNAUTHORIZED_PROBLEM), VaryAccept)
            }
            (_, false) => {
                let message = Message { message: reason };
                ErrorBody::Message(JsonText::Serialized(Json(message)), VaryAccept)
            }
            (_, true) => {
                let problem = Problem {
                    kind: "about:blank",
                    title: reason,
                    status: status.code,
                };
                ErrorBody::Problem(JsonText::Serialized(Json(problem)), VaryAccept)
            }
        }
    }
}

/// A JSON body: text prepared once where the status fixes it, or a value
/// serialized for this response. The Content-Type is [`ErrorBody`]'s.
enum JsonText<T> {
    Prepared(&'static str),
    Serialized(Json<T>),
}

impl<'r, T: Serialize> Responder<'r, 'static> for JsonText<T> {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        match self {
            JsonText::Prepared(text) => text.respond_to(request),
            JsonText::Serialized(json) => json.respond_to(request),
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

#[cfg(test)]
mod tests {
    use super::{Message, Problem, UNAUTHORIZED_MESSAGE, UNAUTHORIZED_PROBLEM};

    #[test]
    fn the_prepared_401_bodies_are_what_serde_writes() -> serde_json::Result<()> {
        let message = Message {
            message: "Unauthorized",
        };
        assert_eq!(serde_json::to_string(&message)?, UNAUTHORIZED_MESSAGE);
        let problem = Problem {
            kind: "about:blank",
            title: "Unauthorized",
            status: 401,
        };
        assert_eq!(serde_json::to_string(&problem)?, UNAUTHORIZED_PROBLEM);
        Ok(())
    }
}
