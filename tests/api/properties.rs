//! Properties over arbitrary requests: whatever the method, path, query,
//! `Authorization` and `Accept`, `/example` answers with exactly the
//! contract's 401, nothing else answers 2xx but the static files and the
//! operational endpoints, and every error the service gives (400, 401,
//! 404, and 422 for any other status) is JSON of the contract's shape,
//! negotiated by the contract's q-value rule.
//!
//! Every expectation is computed from the request alone: the `Accept`
//! header is generated as a list of elements whose meaning the contract
//! fixes (a range and its q, or an element that is skipped), and a model of
//! the rule written from the contract says which body wins.

use proptest::prelude::{Strategy, prop_oneof};
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};
use rocket::http::{Header, Method, Status};
use rocket::local::blocking::{Client, LocalRequest, LocalResponse};
use rocket::{post, routes};

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

/// An `Accept` range that counts, with its q, as the test wrote it.
#[derive(Debug, Clone)]
struct Weighed {
    range: &'static str,
    q: f64,
}

impl Weighed {
    /// How specifically this range matches `media_type`, if it does.
    fn specificity(&self, media_type: &str) -> Option<u8> {
        let (kind, _) = media_type.split_once('/').unwrap_or_default();
        match self.range {
            "*/*" => Some(1),
            range if range == format!("{kind}/*") => Some(2),
            range if range == media_type => Some(3),
            _ => None,
        }
    }
}

/// An `Accept` header as the test sent it: the ranges that count, and the
/// header values (one or several headers, read as one list).
#[derive(Debug, Clone)]
struct Accept {
    weighed: Vec<Weighed>,
    values: Vec<String>,
}

impl Accept {
    /// RFC 9110 §12.5.1: the q of the most specific range that matches, the
    /// first of equally specific ones; 0 when none does.
    fn quality(&self, media_type: &str) -> f64 {
        let mut best: Option<(u8, f64)> = None;
        for range in &self.weighed {
            if let Some(specificity) = range.specificity(media_type)
                && best.is_none_or(|(most, _)| specificity > most)
            {
                best = Some((specificity, range.q));
            }
        }
        best.map_or(0.0, |(_, q)| q)
    }
}

/// Whether the contract gives this client problem details: only when its
/// `Accept` gives `application/problem+json` a higher q than
/// `application/json`. No `Accept` means the plain body.
fn prefers_problem(accept: &Option<Accept>) -> bool {
    accept.as_ref().is_some_and(|accept| {
        accept.quality("application/problem+json") > accept.quality("application/json")
    })
}

/// Adds the `Accept` headers, if any, to `request`.
fn add_accept(request: &mut LocalRequest<'_>, accept: &Option<Accept>) {
    for value in accept.iter().flat_map(|accept| &accept.values) {
        request.add_header(Header::new("Accept", value.clone()));
    }
}

/// The letter case a range is written in: RFC 9110 §8.3.1 makes type and
/// subtype case-insensitive.
#[derive(Debug, Clone, Copy)]
enum Case {
    Lower,
    Upper,
    Alternating,
}

fn spell(range: &str, case: Case) -> String {
    match case {
        Case::Lower => range.to_owned(),
        Case::Upper => range.to_ascii_uppercase(),
        Case::Alternating => range
            .char_indices()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect(),
    }
}

const RANGES: [&str; 7] = [
    "application/json",
    "application/problem+json",
    "application/*",
    "*/*",
    "text/html",
    "text/*",
    "application/xml",
];

/// `weight = OWS ";" OWS "q=" qvalue` (RFC 9110 §12.4.2), the parameter
/// name in any case.
const WEIGHT: [&str; 5] = [";q=", " ; q=", ";Q=", "; q=", ";\tq="];

/// Each valid spelling of a qvalue, with its value.
const QVALUES: [(&str, f64); 11] = [
    ("1", 1.0),
    ("1.", 1.0),
    ("1.0", 1.0),
    ("1.000", 1.0),
    ("0.9", 0.9),
    ("0.5", 0.5),
    ("0.50", 0.5),
    ("0.001", 0.001),
    ("0", 0.0),
    ("0.", 0.0),
    ("0.000", 0.0),
];

/// Outside the qvalue grammar: the element carrying one is malformed.
const BAD_QVALUES: [&str; 10] = [
    "2", "1.5", "1.001", "0.1234", ".5", "-0", "abc", "", "1.0000", "0.5x",
];

/// One element of an `Accept` list: the range it adds to the model, or
/// `None` for one that counts for neither type.
fn element() -> impl Strategy<Value = (Option<Weighed>, String)> {
    let weighed = (
        select(RANGES.to_vec()),
        select(vec![Case::Lower, Case::Upper, Case::Alternating]),
        proptest::option::of((select(WEIGHT.to_vec()), select(QVALUES.to_vec()))),
    )
        .prop_map(|(range, case, weight)| {
            let mut text = spell(range, case);
            let q = match weight {
                Some((equals, (qvalue, q))) => {
                    text.push_str(equals);
                    text.push_str(qvalue);
                    q
                }
                None => 1.0,
            };
            (Some(Weighed { range, q }), text)
        });
    // A range with a parameter matches only a type with the same
    // parameter (RFC 9110 §12.5.1); the two types negotiated have none.
    let parameterised = (
        select(vec![
            "application/json;charset=utf-8",
            "application/problem+json;v=2",
            "application/* ;level=1",
            "*/*;a=\"b,c\"",
            // A quoted comma splits nothing (RFC 9110 §5.6.4).
            "text/html;a=\"x,application/problem+json,y\"",
        ]),
        proptest::option::of(select(QVALUES.to_vec())),
    )
        .prop_map(|(range, q)| {
            let text = match q {
                Some((qvalue, _)) => format!("{range};q={qvalue}"),
                None => range.to_owned(),
            };
            (None, text)
        });
    // An element with a malformed qvalue is skipped, like any malformed
    // element, and the rest of the list still counts.
    let bad_q = (select(RANGES.to_vec()), select(BAD_QVALUES.to_vec()))
        .prop_map(|(range, qvalue)| (None, format!("{range};q={qvalue}")));
    // Anything printable that is no media range: no `/`; no `,` or `"`,
    // which would split or quote the list around it.
    let junk = proptest::string::string_regex("[ !#-+.0-\\[\\]-~-]{0,12}")
        .expect("a valid pattern")
        .prop_map(|text| (None, text));
    prop_oneof![6 => weighed, 1 => parameterised, 1 => bad_q, 2 => junk]
}

/// An `Accept` list of up to six elements, separated with the optional
/// whitespace (and empty elements) RFC 9110 §5.6.1 allows, sent as one
/// header or split over several.
fn accept() -> impl Strategy<Value = Accept> {
    let item = (
        element(),
        select(vec![",", ", ", " , ", ",\t", ",, "]),
        0..4_u8,
    );
    proptest::collection::vec(item, 1..7).prop_map(|items| {
        let mut weighed = Vec::new();
        let mut values: Vec<String> = Vec::new();
        for ((range, text), separator, split) in items {
            weighed.extend(range);
            match values.last_mut() {
                // One element in four starts a header of its own.
                Some(value) if split > 0 => {
                    value.push_str(separator);
                    value.push_str(&text);
                }
                _ => values.push(text),
            }
        }
        Accept { weighed, values }
    })
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
const ERRORS: [(u16, &str, &str); 3] = [
    (
        400,
        r#"{"message":"Bad Request"}"#,
        r#"{"type":"about:blank","title":"Bad Request","status":400}"#,
    ),
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

/// What gets each other error: a URI that Rocket's local client cannot
/// parse, which it hands to the 400 catcher as Rocket's server hands it a
/// request with an unknown method (over the wire, the server reads these
/// URIs leniently: a 404), and a parameter Rocket cannot parse (422, like
/// any status without a catcher of its own). A panicking handler's 500,
/// whose first panic alone costs more than all these cases, is
/// `errors.rs`'s.
#[derive(Debug, Clone)]
enum Trouble {
    BadUri(Method, String),
    Unparsable(u32),
}

#[test]
fn every_other_error_is_negotiated_the_same_way() {
    // No HEAD: the local client answers a URI it cannot parse from the
    // catcher directly, without the dispatch that strips HEAD's body.
    let not_head: Vec<Method> = METHODS
        .into_iter()
        .filter(|&method| method != Method::Head)
        .collect();
    let bad_uri = (
        select(not_head),
        proptest::string::string_regex("[a-z]{0,4}").expect("a valid pattern"),
        select(vec![
            ' ', '<', '>', '"', '{', '}', '|', '\\', '^', '`', '#', 'é',
        ]),
    )
        .prop_map(|(method, segment, bad)| Trouble::BadUri(method, format!("/{segment}{bad}x")));
    let trouble = prop_oneof![bad_uri, (256_u32..100_000).prop_map(Trouble::Unparsable)];
    let client = client_for(service().mount("/test", routes![small]));
    let strategy = (trouble, proptest::option::of(accept()));
    run(client, strategy, |client, (trouble, accept)| {
        let (method, uri, code) = match trouble.clone() {
            Trouble::BadUri(method, uri) => (method, uri, 400),
            Trouble::Unparsable(number) => (Method::Post, format!("/test/small/{number}"), 422),
        };
        let mut request = client.req(method, uri);
        add_accept(&mut request, &accept);
        let response = request.dispatch();
        let request = format!("{trouble:?} {accept:?}");
        assert_negotiated_error(response, &request, code, method, &accept);
    });
}
