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

    /// The body's text, the same for every status (RFC 9457 §3.1 for
    /// problem details).
    fn text(&self) -> Result<String, serde_json::Error> {
        let title = self.status.reason_lossy();
        match self.problem {
            false => serde_json::to_string(&Message { message: title }),
            true => serde_json::to_string(&Problem {
                kind: "about:blank",
                title,
                status: self.status.code,
                detail: self.detail.map(Description::as_str),
            }),
        }
    }
}

impl<'r> Responder<'r, 'static> for ErrorBody<'_> {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let text = self.text().map_err(|_| Status::InternalServerError)?;
        let content_type = match self.problem {
            false => ContentType::JSON,
            true => ContentType::new("application", "problem+json"),
        };
        Response::build()
            .sized_body(text.len(), Cursor::new(text))
            .status(self.status)
            .header(content_type)
            .header(Header::new("Vary", "Accept"))
            .ok()
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
