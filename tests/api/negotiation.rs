//! Problem details (RFC 9457) for the clients that prefer them, by the
//! contract's q-value rule; the plain body for everyone else.

use rocket::http::{Header, Method};

use crate::helpers::{
    NO_CREDENTIALS, UNAUTHORIZED, UNAUTHORIZED_PROBLEM, assert_refused_headers, client,
};

/// `Accept` values whose client prefers problem details.
const PREFERS_PROBLEM: [&str; 10] = [
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
];

/// `Accept` values that get the plain body: ties, no preference, nonsense.
const PREFERS_PLAIN: [&str; 14] = [
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
    "",
];

#[test]
fn a_client_preferring_problem_details_gets_them_with_the_same_challenge() {
    let client = client();
    for accept in PREFERS_PROBLEM {
        let response = client
            .post("/example")
            .header(Header::new("Accept", accept))
            .dispatch();
        assert_refused_headers(&response, NO_CREDENTIALS, "application/problem+json");
        assert_eq!(
            response.into_string().as_deref(),
            Some(UNAUTHORIZED_PROBLEM),
            "{accept}"
        );
    }
}

#[test]
fn every_other_client_gets_the_plain_body() {
    let client = client();
    for accept in PREFERS_PLAIN {
        let response = client
            .post("/example")
            .header(Header::new("Accept", accept))
            .dispatch();
        assert_refused_headers(&response, NO_CREDENTIALS, "application/json");
        assert_eq!(
            response.into_string().as_deref(),
            Some(UNAUTHORIZED),
            "{accept:?}"
        );
    }
}

#[test]
fn no_accept_header_gets_the_plain_body() {
    let client = client();
    let response = client.post("/example").dispatch();
    assert_refused_headers(&response, NO_CREDENTIALS, "application/json");
    assert_eq!(response.into_string().as_deref(), Some(UNAUTHORIZED));
}

#[test]
fn several_accept_headers_are_read_as_one_list() {
    let client = client();
    let response = client
        .get("/example")
        .header(Header::new("Accept", "application/json;q=0.1"))
        .header(Header::new("Accept", "application/problem+json"))
        .dispatch();
    assert_refused_headers(&response, NO_CREDENTIALS, "application/problem+json");
    assert_eq!(
        response.into_string().as_deref(),
        Some(UNAUTHORIZED_PROBLEM)
    );
}

#[test]
fn head_with_problem_details_has_their_content_type_and_no_body() {
    let client = client();
    let response = client
        .req(Method::Head, "/example")
        .header(Header::new("Accept", "application/problem+json"))
        .header(Header::new("Authorization", "Bearer abc"))
        .dispatch();
    assert_refused_headers(
        &response,
        r#"Bearer realm="example", error="invalid_token""#,
        "application/problem+json",
    );
    assert_eq!(response.into_bytes(), Some(vec![]));
}
