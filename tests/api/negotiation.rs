//! Problem details (RFC 9457) for the clients that prefer them, by the
//! contract's q-value rule; the plain body for everyone else.

use rocket::http::Method;

use crate::helpers::{
    INVALID_TOKEN, NO_CREDENTIALS, NOT_FOUND, UNAUTHORIZED, UNAUTHORIZED_PROBLEM,
    assert_json_error, assert_refused_as, client, send,
};

const PROBLEM_JSON: &str = "application/problem+json";

/// `Accept` values whose client prefers problem details.
const PREFERS_PROBLEM: [&str; 16] = [
    "application/problem+json",
    "text/html, application/problem+json",
    "application/json;q=0.5, application/problem+json",
    "application/problem+json;q=0.9, application/json;q=0.8",
    "application/problem+json, */*;q=0.1",
    "application/*;q=0.5, application/problem+json",
    "application/json;q=0, */*",
    "application/json;q=0.2, application/*;q=0.3",
    "APPLICATION/PROBLEM+JSON",
    "application/json;charset=utf-8;q=0.1, application/problem+json",
    // Empty elements are skipped (RFC 9110 §5.6.1), and so is a malformed one.
    "application/problem+json,",
    "text/html, , application/problem+json",
    "text/html;q=2, application/problem+json",
    "application/json;charset=x;q=1.5, application/problem+json;q=0.1",
    // Whitespace before a parameter is allowed (RFC 9110 §5.6.6).
    "application/problem+json ;q=0.9, application/json ; q=0.5",
    // A range with parameters does not match the bare type (RFC 9110 §12.5.1).
    "application/json;version=2, application/problem+json;q=0.5",
];

/// `Accept` values that get the plain body: ties, no preference, nonsense.
const PREFERS_PLAIN: [&str; 18] = [
    "*/*",
    "application/*",
    "application/json",
    "text/html",
    "application/json, application/problem+json",
    "application/problem+json, application/json",
    "application/problem+json;q=0.8, application/json;q=0.8",
    "application/json, application/problem+json;q=0.5",
    "application/problem+json;q=0",
    "application/problem+json;q=0.5, */*",
    "application/problem+json;q=abc",
    "application/problem+json;q=1.5",
    "application/problem+json;q=0.0001",
    "application/problem+json;q=abc, application/json;q=0.1",
    "application/json;q=0.9, application/problem+json;q=0.90",
    "*/problem+json",
    // Of two equally specific ranges, the first counts.
    "application/problem+json;q=0.5, application/problem+json, application/json;q=0.8",
    "",
];

#[test]
fn a_client_preferring_problem_details_gets_them_with_the_same_challenge() {
    let client = client();
    for accept in PREFERS_PROBLEM {
        let response = send(&client, Method::Post, "/example", &[("Accept", accept)]);
        assert_refused_as(response, NO_CREDENTIALS, PROBLEM_JSON, UNAUTHORIZED_PROBLEM);
    }
}

#[test]
fn every_other_client_gets_the_plain_body() {
    let client = client();
    for accept in PREFERS_PLAIN {
        let response = send(&client, Method::Post, "/example", &[("Accept", accept)]);
        assert_refused_as(response, NO_CREDENTIALS, "application/json", UNAUTHORIZED);
    }
}

#[test]
fn no_accept_header_gets_the_plain_body() {
    let client = client();
    let response = send(&client, Method::Post, "/example", &[]);
    assert_refused_as(response, NO_CREDENTIALS, "application/json", UNAUTHORIZED);
}

#[test]
fn several_accept_headers_are_read_as_one_list() {
    let client = client();
    let accept = [
        ("Accept", "application/json;q=0.1"),
        ("Accept", "application/problem+json"),
    ];
    let response = send(&client, Method::Get, "/example", &accept);
    assert_refused_as(response, NO_CREDENTIALS, PROBLEM_JSON, UNAUTHORIZED_PROBLEM);
}

#[test]
fn an_empty_accept_header_before_a_real_one_is_skipped() {
    let client = client();
    let accept = [("Accept", ""), ("Accept", "application/problem+json")];
    let response = send(&client, Method::Get, "/example", &accept);
    assert_refused_as(response, NO_CREDENTIALS, PROBLEM_JSON, UNAUTHORIZED_PROBLEM);
}

#[test]
fn head_with_problem_details_has_their_content_type_and_no_body() {
    let client = client();
    let headers = [("Accept", PROBLEM_JSON), ("Authorization", "Bearer abc")];
    let response = send(&client, Method::Head, "/example", &headers);
    assert_refused_as(response, INVALID_TOKEN, PROBLEM_JSON, "");
}

#[test]
fn other_errors_are_negotiated_the_same_way() {
    let client = client();
    let response = send(&client, Method::Get, "/nope", &[("Accept", "*/*")]);
    assert_json_error(response, 404, NOT_FOUND);

    let response = send(&client, Method::Get, "/nope", &[("Accept", PROBLEM_JSON)]);
    assert_eq!(response.status().code, 404);
    assert_eq!(
        response.content_type().map(|t| t.to_string()).as_deref(),
        Some(PROBLEM_JSON)
    );
    assert_eq!(response.headers().get_one("Vary"), Some("Accept"));
    assert_eq!(
        response.into_string().as_deref(),
        Some(r#"{"type":"about:blank","title":"Not Found","status":404}"#)
    );
}
