//! Every error but the 401 is JSON of the same shape.

use rocket::http::{Header, Method};
use rocket::{get, post, routes};

use crate::helpers::{METHODS, NOT_FOUND, assert_json_error, client, client_for, header, service};

#[test]
fn an_unknown_path_is_a_json_404() {
    let client = client();
    for uri in ["/nope", "/example/more", "/examples", "/api/example"] {
        let response = client.get(uri).dispatch();
        assert_json_error(response, 404, NOT_FOUND);
    }
}

/// Rocket 0.5.2 has no 405: a path that exists, asked with a method that
/// has no route there, gets the JSON 404 (CONTRACT.md, "`/` and `static/`").
#[test]
fn a_method_without_a_route_is_a_json_404() {
    let client = client();
    for uri in ["/", "/app.js", "/healthz", "/readyz", "/metrics"] {
        assert_eq!(client.get(uri).dispatch().status().code, 200, "GET {uri}");
        // GET and HEAD (GET's fallback) have routes there; no other does.
        for method in METHODS
            .into_iter()
            .filter(|m| ![Method::Get, Method::Head].contains(m))
        {
            let response = client.req(method, uri).dispatch();
            assert_json_error(response, 404, NOT_FOUND);
        }
    }
}

#[get("/panic")]
fn panics() -> &'static str {
    panic!("a handler bug, for the test")
}

#[test]
fn a_panicking_handler_is_a_json_500_negotiated_like_every_error() {
    let client = client_for(service().mount("/test", routes![panics]));
    let response = client.get("/test/panic").dispatch();
    assert_json_error(response, 500, r#"{"message":"Internal Server Error"}"#);

    let problem = Header::new("Accept", "application/problem+json");
    let response = client.get("/test/panic").header(problem).dispatch();
    assert_eq!(response.status().code, 500);
    assert_eq!(
        header(&response, "Content-Type"),
        "application/problem+json"
    );
    assert_eq!(header(&response, "Vary"), "Accept");
    assert_eq!(
        response.into_string().as_deref(),
        Some(r#"{"type":"about:blank","title":"Internal Server Error","status":500}"#)
    );
}

#[post("/small/<number>")]
fn small(number: u8) -> String {
    number.to_string()
}

#[test]
fn a_parameter_rocket_cannot_parse_is_a_json_422() {
    let client = client_for(service().mount("/test", routes![small]));
    let small = client.post("/test/small/7").dispatch();
    assert_eq!(small.into_string().as_deref(), Some("7"));
    let response = client.post("/test/small/700").dispatch();
    assert_json_error(response, 422, r#"{"message":"Unprocessable Entity"}"#);
}
