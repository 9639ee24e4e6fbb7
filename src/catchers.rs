//! The JSON error responses and the catchers that send them: the 401 with
//! its challenge, and every other status.

use rocket::http::{Accept, Header, Status};
use rocket::response::Responder;
use rocket::serde::json::Json;
use rocket::{Catcher, Request, catch, catcher, catchers};
use serde::Serialize;

use crate::auth::Rejection;
use crate::config::Realm;

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

/// The 401 catcher: it holds both challenges for the realm, prepared once when
/// the rocket is built, and picks one by the request's [`Rejection`].
#[derive(Clone)]
struct UnauthorizedCatcher {
    missing_credentials: Challenge,
    invalid_token: Challenge,
}

impl UnauthorizedCatcher {
    fn new(realm: &Realm) -> UnauthorizedCatcher {
        UnauthorizedCatcher {
            missing_credentials: Challenge::new(realm, Rejection::MissingCredentials),
            invalid_token: Challenge::new(realm, Rejection::InvalidToken),
        }
    }
}

#[rocket::async_trait]
impl catcher::Handler for UnauthorizedCatcher {
    async fn handle<'r>(&self, status: Status, request: &'r Request<'_>) -> catcher::Result<'r> {
        let challenge = match Rejection::recorded(request) {
            Rejection::MissingCredentials => &self.missing_credentials,
            Rejection::InvalidToken => &self.invalid_token,
        };
        let response = Unauthorized {
            body: ErrorBody::new(status, request),
            challenge: challenge.clone(),
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

/// A `WWW-Authenticate` value for the Bearer scheme (RFC 6750 §3): one space
/// after the scheme, parameters separated by commas (RFC 9110 §11.3).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Challenge(String);

impl Challenge {
    fn new(realm: &Realm, rejection: Rejection) -> Challenge {
        match rejection {
            Rejection::MissingCredentials => Challenge(format!("Bearer realm=\"{realm}\"")),
            Rejection::InvalidToken => {
                Challenge(format!("Bearer realm=\"{realm}\", error=\"invalid_token\""))
            }
        }
    }
}

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
        if prefers_problem_details(request) {
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

/// Whether the request's `Accept` gives `application/problem+json` a higher
/// quality than `application/json` (RFC 9110 §12.5.1). Each type takes the q
/// of the most specific range that matches it (the first of equally specific
/// ones), and no match means q 0. Ties, no `Accept` and an unparsable one
/// mean no. Several `Accept` headers are one list, in order.
fn prefers_problem_details(request: &Request<'_>) -> bool {
    let header = request
        .headers()
        .get("Accept")
        .collect::<Vec<_>>()
        .join(", ");
    if header.is_empty() {
        return false;
    }
    let Ok(accept) = header.parse::<Accept>() else {
        return false;
    };
    match (quality(&accept, "problem+json"), quality(&accept, "json")) {
        (Some(problem), Some(json)) => problem > json,
        _ => false,
    }
}

/// The q that `accept` gives `application/<subtype>`, or `None` when a
/// matching range has a q value that is not an RFC 9110 §12.4.2 qvalue.
fn quality(accept: &Accept, subtype: &str) -> Option<f32> {
    let matches = |range: &&rocket::http::QMediaType| {
        let range = range.media_type();
        (range.top() == "*" || range.top() == "application")
            && (range.sub() == "*" || range.sub() == subtype)
    };
    let best = accept
        .iter()
        .filter(matches)
        .min_by_key(|range| std::cmp::Reverse(range.media_type().specificity()));
    let Some(range) = best else {
        return Some(0.0);
    };
    match range.media_type().params().find(|(name, _)| *name == "q") {
        Some((_, value)) => qvalue(value),
        None => Some(1.0),
    }
}

/// Parses `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`.
fn qvalue(text: &str) -> Option<f32> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits_ok = fraction.len() <= 3 && fraction.bytes().all(|b| b.is_ascii_digit());
    let valid = match whole {
        "0" => digits_ok,
        "1" => digits_ok && fraction.bytes().all(|b| b == b'0'),
        _ => false,
    };
    valid.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::qvalue;

    #[test]
    fn qvalue_follows_the_rfc_grammar() {
        assert_eq!(qvalue("0"), Some(0.0));
        assert_eq!(qvalue("0.5"), Some(0.5));
        assert_eq!(qvalue("0.123"), Some(0.123));
        assert_eq!(qvalue("1"), Some(1.0));
        assert_eq!(qvalue("1.000"), Some(1.0));
        assert_eq!(qvalue("1."), Some(1.0));
        assert_eq!(qvalue("1.5"), None);
        assert_eq!(qvalue("0.1234"), None);
        assert_eq!(qvalue("2"), None);
        assert_eq!(qvalue(".5"), None);
        assert_eq!(qvalue("abc"), None);
        assert_eq!(qvalue(""), None);
    }
}
