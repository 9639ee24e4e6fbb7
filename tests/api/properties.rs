//! Properties over arbitrary requests: whatever the method, path, query,
//! `Authorization` and `Accept`, `/example` answers with exactly the
//! contract's 401, nothing else answers 2xx but the static files and the
//! operational endpoints, and every error is JSON of the contract's shape.

use proptest::prelude::{Just, Strategy, prop_oneof};
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};
use rocket::http::{Header, Method, Status};
use rocket::local::blocking::Client;

use crate::helpers::{
    INVALID_TOKEN, METHODS, NO_CREDENTIALS, UNAUTHORIZED, UNAUTHORIZED_PROBLEM, assert_refused_as,
    client, header,
};

/// Cases per property: enough to find a wrong rule, few enough that the
/// suite stays fast.
const CASES: u32 = 400;

fn run<T: std::fmt::Debug>(strategy: impl Strategy<Value = T>, test: impl Fn(&Client, T)) {
    let client = client();
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

/// A media range of `Accept` with its q, as the test wrote it.
#[derive(Debug, Clone)]
struct Range {
    range: &'static str,
    q: Option<&'static str>,
}

impl Range {
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

    fn q(&self) -> f64 {
        self.q.map_or(1.0, |q| q.parse().unwrap_or_default())
    }
}

/// RFC 9110 §12.5.1: the q of the most specific range that matches, the
/// first of equally specific ones; 0 when none does.
fn quality(ranges: &[Range], media_type: &str) -> f64 {
    let mut best: Option<(u8, f64)> = None;
    for range in ranges {
        if let Some(specificity) = range.specificity(media_type)
            && best.is_none_or(|(most, _)| specificity > most)
        {
            best = Some((specificity, range.q()));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

/// An `Accept` header as a list of ranges, written with the optional
/// whitespace and letter case RFC 9110 allows.
fn accept() -> impl Strategy<Value = (Vec<Range>, String)> {
    let range = (
        select(vec![
            "application/json",
            "application/problem+json",
            "application/*",
            "*/*",
            "text/html",
            "text/*",
            "application/xml",
        ]),
        proptest::option::of(select(vec![
            "1", "1.0", "1.000", "0.9", "0.5", "0.50", "0.001", "0", "0.000",
        ])),
        select(vec![";q=", " ; q=", ";Q=", "; q="]),
    );
    proptest::collection::vec(range, 1..6).prop_flat_map(|ranges| {
        let separators = proptest::collection::vec(select(vec![",", ", ", " ,\t"]), ranges.len());
        (Just(ranges), separators).prop_map(|(ranges, separators)| {
            let mut text = String::new();
            for ((range, q, equals), separator) in ranges.iter().zip(&separators) {
                if !text.is_empty() {
                    text.push_str(separator);
                }
                text.push_str(range);
                if let Some(q) = q {
                    text.push_str(equals);
                    text.push_str(q);
                }
            }
            let ranges = ranges
                .into_iter()
                .map(|(range, q, _)| Range { range, q })
                .collect();
            (ranges, text)
        })
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

#[derive(Debug)]
enum AcceptHeader {
    Ranges(Vec<Range>, String),
    Printable(String),
}

#[test]
fn every_request_to_example_gets_exactly_the_contracts_401() {
    let strategy = (
        select(METHODS.to_vec()),
        example_uri(),
        proptest::collection::vec(authorization(), 0..3),
        proptest::collection::vec(other_header(), 0..4),
        proptest::option::of(prop_oneof![
            accept().prop_map(|(ranges, text)| AcceptHeader::Ranges(ranges, text)),
            printable().prop_map(AcceptHeader::Printable),
        ]),
    );
    run(
        strategy,
        |client, (method, uri, authorizations, others, accept)| {
            let mut request = client.req(method, uri);
            for (name, value) in others {
                request.add_header(Header::new(name, value));
            }
            for value in &authorizations {
                request.add_header(Header::new("Authorization", value.clone()));
            }
            let bearer = authorizations.first().is_some_and(|value| {
                let scheme = value.split(' ').next().unwrap_or_default();
                scheme.eq_ignore_ascii_case("bearer")
            });
            let challenge = if bearer {
                INVALID_TOKEN
            } else {
                NO_CREDENTIALS
            };
            let problem = match &accept {
                None => None,
                Some(AcceptHeader::Ranges(ranges, text)) => {
                    request.add_header(Header::new("Accept", text.clone()));
                    Some(
                        quality(ranges, "application/problem+json")
                            > quality(ranges, "application/json"),
                    )
                }
                Some(AcceptHeader::Printable(text)) => {
                    request.add_header(Header::new("Accept", text.clone()));
                    None
                }
            };
            let response = request.dispatch();
            // An arbitrary `Accept` may name either body; it must be one of them.
            let problem = problem.unwrap_or_else(|| {
                matches!(accept, Some(AcceptHeader::Printable(_)))
                    && response
                        .content_type()
                        .is_some_and(|ct| ct.sub() == "problem+json")
            });
            let (content_type, body) = if problem {
                ("application/problem+json", UNAUTHORIZED_PROBLEM)
            } else {
                ("application/json", UNAUTHORIZED)
            };
            let body = if method == Method::Head { "" } else { body };
            assert_refused_as(response, challenge, content_type, body);
        },
    );
}

/// The files under `static/`, and `/` for `index.html`.
const STATIC: [&str; 5] = ["/", "/index.html", "/app.js", "/style.css", "/icon.svg"];

/// The status documents for operators (CONTRACT.md, "Operational endpoints").
const OPERATIONAL: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

#[test]
fn nothing_else_answers_2xx_but_the_static_files_and_operational_endpoints_and_every_error_is_json()
{
    let path = prop_oneof![
        select(STATIC.to_vec()).prop_map(str::to_owned),
        select(OPERATIONAL.to_vec()).prop_map(str::to_owned),
        proptest::collection::vec(
            // Percent-escapes of digits and punctuation only, so that no
            // segment decodes to `example`.
            proptest::string::string_regex("([a-z0-9._~-]|%[23][0-9A-F]){1,8}")
                .expect("a valid pattern"),
            1..4,
        )
        .prop_map(|segments| format!("/{}", segments.join("/"))),
    ];
    let strategy = (
        select(METHODS.to_vec()),
        path,
        proptest::option::of(printable()),
    );
    run(strategy, |client, (method, path, accept)| {
        if path == "/example" {
            return;
        }
        let mut request = client.req(method, path.clone());
        if let Some(accept) = accept {
            request.add_header(Header::new("Accept", accept));
        }
        let response = request.dispatch();
        let status = response.status();
        let served = (STATIC.contains(&path.as_str()) || OPERATIONAL.contains(&path.as_str()))
            && matches!(method, Method::Get | Method::Head);
        if served {
            assert_eq!(status, Status::Ok, "{method} {path}");
            return;
        }
        assert_eq!(status, Status::NotFound, "{method} {path}");
        let reason = status.reason_lossy();
        let (content_type, body) = match header(&response, "Content-Type") {
            "application/problem+json" => (
                "application/problem+json",
                format!(
                    r#"{{"type":"about:blank","title":"{reason}","status":{}}}"#,
                    status.code
                ),
            ),
            _ => ("application/json", format!(r#"{{"message":"{reason}"}}"#)),
        };
        assert_eq!(header(&response, "Content-Type"), content_type);
        assert_eq!(header(&response, "Vary"), "Accept");
        let expected = if method == Method::Head {
            String::new()
        } else {
            body
        };
        assert_eq!(
            response.into_string().unwrap_or_default(),
            expected,
            "{method} {path}"
        );
    });
}
