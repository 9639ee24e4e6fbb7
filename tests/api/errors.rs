//! Every error but the 401 is JSON of the same shape, negotiated the same way.

use rocket::http::{Header, Method};
use rocket::local::blocking::LocalResponse;
use rocket::{get, post, routes};

use crate::helpers::{assert_shield_and_no_server, client, client_for, header};

/// Checks a JSON error response: status, headers and exact body.
fn assert_json_error(response: LocalResponse<'_>, status: u16, body: &str) {
    assert_eq!(response.status().code, status);
    assert_eq!(header(&response, "Content-Type"), "application/json");
    assert_eq!(header(&response, "Vary"), "Accept");
    assert_eq!(response.headers().get_one("WWW-Authenticate"), None);
    assert_shield_and_no_server(&response);
    assert_eq!(response.into_string().as_deref(), Some(body));
}

#[test]
fn an_unknown_path_is_a_json_404() {
    let client = client();
    for uri in ["/nope", "/example/more", "/examples", "/api/example"] {
        let response = client.get(uri).dispatch();
        assert_json_error(response, 404, r#"{"message":"Not Found"}"#);
    }
}

#[test]
fn a_404_in_problem_details_for_a_client_that_prefers_them() {
    let client = client();
    let response = client
        .get("/nope")
        .header(Header::new("Accept", "application/problem+json"))
        .dispatch();
    assert_eq!(response.status().code, 404);
    assert_eq!(
        header(&response, "Content-Type"),
        "application/problem+json"
    );
    assert_eq!(header(&response, "Vary"), "Accept");
    assert_eq!(
        response.into_string().as_deref(),
        Some(r#"{"type":"about:blank","title":"Not Found","status":404}"#)
    );
}

#[get("/panic")]
fn panics() -> &'static str {
    panic!("a handler bug, for the test")
}

#[post("/small/<number>")]
fn small(number: u8) -> String {
    number.to_string()
}

#[test]
fn a_panicking_handler_is_a_json_500() {
    let client = client_for(service().mount("/test", routes![panics]));
    let response = client.get("/test/panic").dispatch();
    assert_json_error(response, 500, r#"{"message":"Internal Server Error"}"#);
}

#[test]
fn a_parameter_rocket_cannot_parse_is_a_json_422() {
    let client = client_for(service().mount("/test", routes![small]));
    let small = client.post("/test/small/7").dispatch();
    assert_eq!(small.into_string().as_deref(), Some("7"));
    let response = client.post("/test/small/700").dispatch();
    assert_json_error(response, 422, r#"{"message":"Unprocessable Entity"}"#);
}

#[test]
fn a_method_without_a_route_is_a_json_404() {
    let client = client();
    for method in [Method::Post, Method::Put, Method::Delete, Method::Options] {
        let response = client.req(method, "/nope").dispatch();
        assert_json_error(response, 404, r#"{"message":"Not Found"}"#);
    }
}

fn service() -> rocket::Rocket<rocket::Build> {
    unauthorized::rocket().expect("Rocket.toml is valid")
}
