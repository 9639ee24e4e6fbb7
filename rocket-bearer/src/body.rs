//! The JSON body of every error the library answers, negotiated: the plain
//! `{"message":"<reason phrase>"}` or RFC 9457 problem details.

use std::io::Cursor;

use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use serde::Serialize;

use crate::challenge::Description;
use crate::negotiation::prefers_problem_details;

/// An error body for `status`: `{"message":"<reason phrase>"}` as
/// `application/json`, or problem details as `application/problem+json` for
/// a client that prefers them (see [`prefers_problem_details`]), with
/// `detail` only when there is a description. Either way the response says
/// `Vary: Accept` (RFC 9110 §12.5.5).
pub(crate) struct ErrorBody<'a> {
    status: Status,
    detail: Option<&'a Description>,
    problem: bool,
}

impl<'a> ErrorBody<'a> {
    pub(crate) fn new(
        status: Status,
        detail: Option<&'a Description>,
        request: &Request<'_>,
    ) -> ErrorBody<'a> {
        let problem = prefers_problem_details(request.headers());
        ErrorBody {
            status,
            detail,
            problem,
        }
    }

    /// The body's text: prepared once for the library's three statuses,
    /// which a flood of refusals answers, serialized otherwise.
    fn text(&self) -> Result<Text, serde_json::Error> {
        let prepared = match (self.problem, self.detail) {
            (false, _) => prepared_message(self.status),
            (true, None) => prepared_problem(self.status),
            (true, Some(_)) => None,
        };
        if let Some(text) = prepared {
            return Ok(Text::Prepared(text));
        }
        let title = self.status.reason_lossy();
        let text = match self.problem {
            false => serde_json::to_string(&Message { message: title })?,
            true => serde_json::to_string(&Problem {
                kind: "about:blank",
                title,
                status: self.status.code,
                detail: self.detail.map(Description::as_str),
            })?,
        };
        Ok(Text::Serialized(text))
    }
}

enum Text {
    Prepared(&'static str),
    Serialized(String),
}

impl<'r> Responder<'r, 'static> for ErrorBody<'_> {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let text = self.text().map_err(|_| Status::InternalServerError)?;
        let content_type = match self.problem {
            false => ContentType::JSON,
            true => ContentType::new("application", "problem+json"),
        };
        let mut response = Response::build();
        match text {
            Text::Prepared(text) => response.sized_body(text.len(), Cursor::new(text)),
            Text::Serialized(text) => response.sized_body(text.len(), Cursor::new(text)),
        };
        response
            .status(self.status)
            .header(content_type)
            .header(Header::new("Vary", "Accept"))
            .ok()
    }
}

/// The plain body of 400, 401 and 403, as `serde_json` writes them (a unit
/// test checks it).
fn prepared_message(status: Status) -> Option<&'static str> {
    match status.code {
        400 => Some(r#"{"message":"Bad Request"}"#),
        401 => Some(r#"{"message":"Unauthorized"}"#),
        403 => Some(r#"{"message":"Forbidden"}"#),
        _ => None,
    }
}

/// Problem details without `detail` for 400, 401 and 403.
fn prepared_problem(status: Status) -> Option<&'static str> {
    match status.code {
        400 => Some(r#"{"type":"about:blank","title":"Bad Request","status":400}"#),
        401 => Some(r#"{"type":"about:blank","title":"Unauthorized","status":401}"#),
        403 => Some(r#"{"type":"about:blank","title":"Forbidden","status":403}"#),
        _ => None,
    }
}

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

/// RFC 9457 §3.1; `about:blank` says the status alone explains the problem.
#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use rocket::http::Status;

    use super::{Message, Problem, prepared_message, prepared_problem};

    #[test]
    fn the_prepared_bodies_are_what_serde_writes() -> serde_json::Result<()> {
        for status in [Status::BadRequest, Status::Unauthorized, Status::Forbidden] {
            let title = status.reason_lossy();
            let message = serde_json::to_string(&Message { message: title })?;
            assert_eq!(prepared_message(status), Some(message.as_str()));
            let problem = Problem {
                kind: "about:blank",
                title,
                status: status.code,
                detail: None,
            };
            let problem = serde_json::to_string(&problem)?;
            assert_eq!(prepared_problem(status), Some(problem.as_str()));
        }
        Ok(())
    }
}
