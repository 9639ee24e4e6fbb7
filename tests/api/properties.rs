//! Properties over arbitrary requests: whatever the method, path, query,
//! `Authorization` and `Accept`, `/example` answers with exactly the
//! contract's 401, nothing else answers 2xx but the static files and the
//! operational endpoints, and every error the service gives here (401,
//! 404, and 422 for any other status) is JSON of the contract's shape,
//! negotiated by the contract's q-value rule. The 400 of a method Rocket
//! does not know, which the local client cannot send, is the property of
//! `tests/e2e/bad_input.rs`, over the wire.
//!
//! Every expectation is computed from the request alone: the `Accept`
//! header is generated as a list of elements whose meaning the contract
//! fixes (a range and its q, or an element that is skipped), and a model of
//! the rule written from the contract (`tests/shared/accept.rs`) says which
//! body wins.

use proptest::prelude::{Strategy, prop_oneof};
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};
use rocket::http::{Header, Method, Status};
use rocket::local::blocking::{Client, LocalRequest, LocalResponse};
use rocket::{post, routes};

use crate::accept::{Accept, accept, prefers_problem};
use crate::helpers::{
    INVALID_TOKEN, METHODS, NO_CREDENTIALS, UNAUTHORIZED, UNAUTHORIZED_PROBLEM, assert_refused_as,
    client, client_for, header, service,
};

/// Cases per property: enough to find a wrong rule, few enough that the
/// suite stays fast.
const CASES: u32 = 256;

fn run<T: std::fmt::Debug>(
    client: Client,
    strategy: impl Strategy<Value = T>,
    test: impl Fn(&Client, T),
) {
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |value| {
        test(&client, value);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Adds the `Accept` headers, if any, to `request`.
fn add_accept(request: &mut LocalRequest<'_>, accept: &Option<Accept>) {
    for value in accept.iter().flat_map(|accept| &accept.values) {
        request.add_header(Header::new("Accept", value.clone()));
    }
}

/// Any printable value a client might put in a header, well-formed or not.
fn printable() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[ -~]{0,40}").expect("a valid pattern")
}

/// An `Authorization` value: a known scheme in any case with a token, or
/// anything printable.
fn authorization() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            select(vec![
                "Bearer", "bearer", "BEARER", "Basic", "Digest", "Bearer\t", ""
            ]),
            select(vec![" abc", " ", "", " a b", " =="]),
        )
            .prop_map(|(scheme, token)| format!("{scheme}{token}")),
        printable(),
    ]
}

/// What `/example` is reached by: the path, the same with a trailing or
/// doubled slash or a percent-encoded letter, and any query string.
fn example_uri() -> impl Strategy<Value = String> {
    (
        select(vec!["/example", "/example/", "//example", "/%65xample"]),
        proptest::option::of(
            proptest::string::string_regex("[A-Za-z0-9=&%._~-]{0,20}").expect("a valid pattern"),
        ),
    )
        .prop_map(|(path, query)| match query {
            Some(query) => format!("{path}?{query}"),
            None => path.to_owned(),
        })
}

/// Any other header a client might send: a token for a name (never one of
/// the two the contract reads), anything printable for a value.
fn other_header() -> impl Strategy<Value = (String, String)> {
    let name = proptest::string::string_regex("X-[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}")
        .expect("a valid pattern");
    (name, printable())
}

#[test]
fn every_request_to_example_gets_exactly_the_contracts_401_in_the_body_its_accept_calls_for() {
    let strategy = (
        select(METHODS.to_vec()),
        example_uri(),
        proptest::collection::vec(authorization(), 0..3),
        proptest::collection::vec(other_header(), 0..4),
        proptest::option::of(accept()),
    );
    run(
        client(),
        strategy,
        |client, (method, uri, authorizations, others, accept)| {
            let mut request = client.req(method, uri);
            for (name, value) in others {
                request.add_header(Header::new(name, value));
            }
            for value in &authorizations {
                request.add_header(Header::new("Authorization", value.clone()));
            }
            add_accept(&mut request, &accept);
            let bearer = authorizations.first().is_some_and(|value| {
                let scheme = value.split(' ').next().unwrap_or_default();
                scheme.eq_ignore_ascii_case("bearer")
            });
            let challenge = if bearer {
                INVALID_TOKEN
            } else {
                NO_CREDENTIALS
            };
            let (content_type, body) = if prefers_problem(&accept) {
                ("application/problem+json", UNAUTHORIZED_PROBLEM)
            } else {
                ("application/json", UNAUTHORIZED)
            };
            let body = if method == Method::Head { "" } else { body };
            assert_refused_as(request.dispatch(), challenge, content_type, body);
        },
    );
}

/// Each error the properties reach, with its plain body and its problem
/// details (CONTRACT.md, "Every other error is JSON too").
const ERRORS: [(u16, &str, &str); 2] = [
    (
        404,
        r#"{"message":"Not Found"}"#,
        r#"{"type":"about:blank","title":"Not Found","status":404}"#,
    ),
    (
        422,
        r#"{"message":"Unprocessable Entity"}"#,
        r#"{"type":"about:blank","title":"Unprocessable Entity","status":422}"#,
    ),
];

/// Checks that `response` is the error `code`, with the body the contract
/// gives a client that sent `accept` (none after a HEAD), `Vary: Accept`
/// and no challenge.
fn assert_negotiated_error(
    response: LocalResponse<'_>,
    request: &str,
    code: u16,
    method: Method,
    accept: &Option<Accept>,
) {
    let (_, plain, problem) = ERRORS
        .into_iter()
        .find(|&(known, _, _)| known == code)
        .expect("an error of the contract");
    let (content_type, body) = if prefers_problem(accept) {
        ("application/problem+json", problem)
    } else {
        ("application/json", plain)
    };
    let body = if method == Method::Head { "" } else { body };
    assert_eq!(response.status().code, code, "{request}");
    assert_eq!(header(&response, "Content-Type"), content_type, "{request}");
    assert_eq!(header(&response, "Vary"), "Accept", "{request}");
    assert_eq!(response.headers().get_one("WWW-Authenticate"), None);
    assert_eq!(
        response.into_string().unwrap_or_default(),
        body,
        "{request}"
    );
}

/// The files under `static/`, and `/` for `index.html`.
const STATIC: [&str; 5] = ["/", "/index.html", "/app.js", "/style.css", "/icon.svg"];

/// The status documents for operators (CONTRACT.md, "Operational endpoints").
const OPERATIONAL: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

#[test]
fn nothing_else_answers_2xx_but_the_static_files_and_operational_endpoints_and_every_404_is_negotiated()
 {
    let path = prop_oneof![
        select(STATIC.to_vec()).prop_map(str::to_owned),
        select(OPERATIONAL.to_vec()).prop_map(str::to_owned),
        proptest::collection::vec(
            // Percent-escapes of digits and punctuation only, so that no
            // segment decodes to `example`; no `.` or `..`, written plain
            // or escaped, which name another path (RFC 3986 §5.2.4:
            // `/a/..` is `/`).
            proptest::string::string_regex("([a-z0-9._~-]|%[23][0-9A-F]){1,8}")
                .expect("a valid pattern")
                .prop_filter("a dot-segment", |segment| {
                    !matches!(segment.replace("%2E", ".").as_str(), "." | "..")
                }),
            1..4,
        )
        .prop_map(|segments| format!("/{}", segments.join("/"))),
    ];
    let strategy = (
        select(METHODS.to_vec()),
        path,
        proptest::option::of(accept()),
    );
    run(client(), strategy, |client, (method, path, accept)| {
        if path == "/example" {
            return;
        }
        let mut request = client.req(method, path.clone());
        add_accept(&mut request, &accept);
        let response = request.dispatch();
        let served = (STATIC.contains(&path.as_str()) || OPERATIONAL.contains(&path.as_str()))
            && matches!(method, Method::Get | Method::Head);
        if served {
            assert_eq!(response.status(), Status::Ok, "{method} {path}");
        } else {
            let request = format!("{method} {path} {accept:?}");
            assert_negotiated_error(response, &request, 404, method, &accept);
        }
    });
}

#[post("/small/<number>")]
fn small(number: u8) -> String {
    number.to_string()
}

/// A parameter Rocket cannot parse gets a 422, like any status without a
/// catcher of its own. A panicking handler's 500, whose first panic alone
/// costs more than all these cases, is `errors.rs`'s.
#[test]
fn a_status_without_a_catcher_of_its_own_is_negotiated_the_same_way() {
    let client = client_for(service().mount("/test", routes![small]));
    let strategy = (256_u32..100_000, proptest::option::of(accept()));
    run(client, strategy, |client, (number, accept)| {
        let uri = format!("/test/small/{number}");
        let mut request = client.post(uri.clone());
        add_accept(&mut request, &accept);
        let response = request.dispatch();
        let request = format!("POST {uri} {accept:?}");
        assert_negotiated_error(response, &request, 422, Method::Post, &accept);
    });
}
