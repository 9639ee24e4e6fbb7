//! `/example` refuses every request with the contract's 401.

use rocket::http::Method;

use crate::helpers::{
    INVALID_TOKEN, METHODS, NO_CREDENTIALS, UNAUTHORIZED, UNAUTHORIZED_PROBLEM, assert_refused,
    assert_refused_as, client, send,
};

#[test]
fn example_refuses_every_method_with_the_challenge_its_credentials_call_for() {
    let client = client();
    for (credentials, challenge) in [
        (&[][..], NO_CREDENTIALS),
        (
            &[("Authorization", "Bearer abc.def.ghi")][..],
            INVALID_TOKEN,
        ),
        (
            &[("Authorization", "Basic dXNlcjpwYXNz")][..],
            NO_CREDENTIALS,
        ),
    ] {
        for method in METHODS {
            let response = send(&client, method, "/example", credentials);
            assert_refused(response, method, challenge);
        }
    }
}

/// HEAD has the headers GET has, each checked against the contract rather
/// than against the GET's answer, and no body.
#[test]
fn head_has_the_headers_of_get_and_an_empty_body() {
    let client = client();
    for (accept, content_type, body) in [
        ("application/json", "application/json", UNAUTHORIZED),
        (
            "application/problem+json",
            "application/problem+json",
            UNAUTHORIZED_PROBLEM,
        ),
    ] {
        let headers = [("Accept", accept)];
        let get = send(&client, Method::Get, "/example", &headers);
        assert_refused_as(get, NO_CREDENTIALS, content_type, body);
        let head = send(&client, Method::Head, "/example", &headers);
        assert_refused_as(head, NO_CREDENTIALS, content_type, "");
    }
}

#[test]
fn the_scheme_is_matched_case_insensitively() {
    let client = client();
    for value in ["bearer abc", "BEARER abc", "bEaReR abc"] {
        let response = send(
            &client,
            Method::Post,
            "/example",
            &[("Authorization", value)],
        );
        assert_refused(response, Method::Post, INVALID_TOKEN);
    }
}

#[test]
fn bearer_without_a_token_is_an_invalid_token() {
    let client = client();
    for value in ["Bearer", "Bearer ", "bearer"] {
        let response = send(
            &client,
            Method::Get,
            "/example",
            &[("Authorization", value)],
        );
        assert_refused(response, Method::Get, INVALID_TOKEN);
    }
}

#[test]
fn an_empty_or_foreign_authorization_is_missing_credentials() {
    let client = client();
    for value in [
        "",
        "Bearerabc",
        "Bearer\tabc",
        "Token abc",
        "Digest username=\"a\"",
        "abc",
    ] {
        let response = send(
            &client,
            Method::Get,
            "/example",
            &[("Authorization", value)],
        );
        assert_refused(response, Method::Get, NO_CREDENTIALS);
    }
}

#[test]
fn only_the_first_authorization_header_counts() {
    let client = client();
    let bearer_first = [
        ("Authorization", "Bearer abc"),
        ("Authorization", "Basic dXNlcjpwYXNz"),
    ];
    let response = send(&client, Method::Get, "/example", &bearer_first);
    assert_refused(response, Method::Get, INVALID_TOKEN);

    let basic_first = [
        ("Authorization", "Basic dXNlcjpwYXNz"),
        ("Authorization", "Bearer abc"),
    ];
    let response = send(&client, Method::Get, "/example", &basic_first);
    assert_refused(response, Method::Get, NO_CREDENTIALS);
}

#[test]
fn query_strings_and_the_trailing_slash_are_the_same_resource() {
    let client = client();
    for uri in [
        "/example?",
        "/example?a=1&b",
        "/example/",
        "/example/?token=x",
        "//example",
    ] {
        for method in [Method::Get, Method::Post, Method::Trace] {
            let response = send(&client, method, uri, &[]);
            assert_refused(response, method, NO_CREDENTIALS);
        }
    }
}

#[test]
fn a_request_body_does_not_change_the_answer() {
    let client = client();
    let response = client
        .post("/example")
        .header(rocket::http::ContentType::JSON)
        .body(r#"{"user":"admin","password":"hunter2"}"#)
        .dispatch();
    assert_refused(response, Method::Post, NO_CREDENTIALS);
}
