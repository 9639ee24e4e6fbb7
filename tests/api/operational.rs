//! `/healthz`, `/readyz` and `/metrics`: status documents, the same for
//! every client, never stored, and the JSON 404 for any method but GET and
//! HEAD. (The drain that turns `/readyz` to 503 needs a signal: see
//! `tests/e2e/drain.rs`.)

use rocket::http::{Method, Status};

use crate::helpers::{
    METHODS, NOT_FOUND, assert_json_error, assert_shield_and_no_server, client, header, send,
};

/// Each endpoint with the body it answers GET with and its `Content-Type`.
const DOCUMENTS: [(&str, Option<&str>, &str); 3] = [
    ("/healthz", Some(r#"{"status":"ok"}"#), "application/json"),
    ("/readyz", Some(r#"{"status":"ready"}"#), "application/json"),
    (
        "/metrics",
        None,
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
    ),
];

#[test]
fn status_documents_are_not_negotiated_and_never_stored() {
    let client = client();
    let accepts: [&[(&str, &str)]; 3] = [
        &[],
        &[("Accept", "application/problem+json")],
        &[("Accept", "text/html")],
    ];
    for (path, body, content_type) in DOCUMENTS {
        for method in [Method::Get, Method::Head] {
            for accept in accepts {
                let response = send(&client, method, path, accept);
                assert_eq!(response.status(), Status::Ok, "{method} {path}");
                assert_eq!(header(&response, "Content-Type"), content_type);
                assert_eq!(header(&response, "Cache-Control"), "no-store");
                assert_eq!(response.headers().get_one("Vary"), None);
                assert_shield_and_no_server(&response);
                let text = response.into_string().unwrap_or_default();
                match (method, body) {
                    (Method::Head, _) => assert_eq!(text, "", "{path}"),
                    (_, Some(body)) => assert_eq!(text, body, "{path}"),
                    (_, None) => assert!(text.ends_with("# EOF\n"), "{text}"),
                }
            }
        }
    }
}

#[test]
fn other_methods_get_the_json_404() {
    let client = client();
    for (path, _, _) in DOCUMENTS {
        for method in METHODS {
            if matches!(method, Method::Get | Method::Head) {
                continue;
            }
            let response = send(&client, method, path, &[]);
            assert_json_error(response, 404, NOT_FOUND);
        }
    }
}

/// Through Rocket's local client too, `/metrics` counts what it serves.
#[test]
fn metrics_count_each_401_by_its_reason() {
    let client = client();
    for _ in 0..3 {
        client.get("/example").dispatch();
    }
    client
        .post("/example")
        .header(rocket::http::Header::new("Authorization", "Bearer x"))
        .dispatch();
    let text = client
        .get("/metrics")
        .dispatch()
        .into_string()
        .unwrap_or_default();
    for line in [
        r#"unauthorized_responses_total{status="401",reason="missing_credentials"} 3"#,
        r#"unauthorized_responses_total{status="401",reason="invalid_token"} 1"#,
        "unauthorized_request_duration_seconds_count 4",
        "unauthorized_requests_in_flight 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
    }
}
