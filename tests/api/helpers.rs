//! What every test starts from: the service's own rocket, a way to send a
//! request with headers, and the checks a user makes on the answer.

use rocket::Config;
use rocket::figment::Figment;
use rocket::figment::providers::{Format, Toml};
use rocket::http::{Header, Method};
use rocket::local::blocking::{Client, LocalResponse};
use rocket::{Build, Rocket};

/// The nine methods Rocket knows.
pub const METHODS: [Method; 9] = [
    Method::Get,
    Method::Head,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
    Method::Options,
    Method::Trace,
    Method::Connect,
];

pub const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
pub const UNAUTHORIZED_PROBLEM: &str =
    r#"{"type":"about:blank","title":"Unauthorized","status":401}"#;
pub const NOT_FOUND: &str = r#"{"message":"Not Found"}"#;
pub const NO_CREDENTIALS: &str = r#"Bearer realm="example""#;
pub const INVALID_TOKEN: &str = r#"Bearer realm="example", error="invalid_token""#;

/// The real `Rocket.toml` with `profile` selected, as `main` reads it but
/// without the `ROCKET_*` variables of whoever runs the tests.
pub fn rocket_toml(profile: &str) -> Figment {
    Figment::from(Config::default())
        .merge(Toml::file("Rocket.toml").nested())
        .select(profile)
}

/// The service as `cargo run` builds it: the `debug` profile.
pub fn service() -> Rocket<Build> {
    unauthorized::custom(rocket_toml("debug")).expect("Rocket.toml is valid")
}

/// A client for the service as `cargo run` builds it.
pub fn client() -> Client {
    client_for(service())
}

/// A client for the service built from `figment`.
pub fn client_with(figment: Figment) -> Client {
    client_for(unauthorized::custom(figment).expect("the configuration is valid"))
}

pub fn client_for(rocket: Rocket<Build>) -> Client {
    Client::untracked(rocket).expect("the rocket ignites")
}

/// Sends `method uri` with `headers`, in order.
pub fn send<'c>(
    client: &'c Client,
    method: Method,
    uri: &str,
    headers: &[(&'static str, &'static str)],
) -> LocalResponse<'c> {
    let mut request = client.req(method, uri.to_owned());
    for &(name, value) in headers {
        request.add_header(Header::new(name, value));
    }
    request.dispatch()
}

/// The value of `name`, which must appear exactly once.
pub fn header<'a>(response: &'a LocalResponse<'_>, name: &str) -> &'a str {
    let values: Vec<&str> = response.headers().get(name).collect();
    match values[..] {
        [value] => value,
        _ => panic!("expected one {name} header, got {values:?}"),
    }
}

/// The contract's refusal with the plain body (none for HEAD).
pub fn assert_refused(response: LocalResponse<'_>, method: Method, challenge: &str) {
    let body = if method == Method::Head {
        ""
    } else {
        UNAUTHORIZED
    };
    assert_refused_as(response, challenge, "application/json", body);
}

/// The contract's refusal: status, headers, and the body byte for byte.
pub fn assert_refused_as(
    response: LocalResponse<'_>,
    challenge: &str,
    content_type: &str,
    body: &str,
) {
    assert_eq!(response.status().code, 401);
    assert_eq!(header(&response, "WWW-Authenticate"), challenge);
    assert_error_headers(&response, content_type);
    assert_eq!(response.into_bytes().unwrap_or_default(), body.as_bytes());
}

/// Any other error: JSON of the contract's shape, and no challenge.
pub fn assert_json_error(response: LocalResponse<'_>, status: u16, body: &str) {
    assert_eq!(response.status().code, status);
    assert_eq!(response.headers().get_one("WWW-Authenticate"), None);
    assert_error_headers(&response, "application/json");
    assert_eq!(response.into_string().as_deref(), Some(body));
}

/// What every error response carries: its negotiated `Content-Type`,
/// `Vary: Accept`, Shield's defaults, and no `Server` naming the framework.
fn assert_error_headers(response: &LocalResponse<'_>, content_type: &str) {
    assert_eq!(header(response, "Content-Type"), content_type);
    assert_eq!(header(response, "Vary"), "Accept");
    assert_shield_and_no_server(response);
}

/// Shield's defaults are present and no `Server` header names the framework.
pub fn assert_shield_and_no_server(response: &LocalResponse<'_>) {
    assert_eq!(header(response, "X-Content-Type-Options"), "nosniff");
    assert_eq!(header(response, "X-Frame-Options"), "SAMEORIGIN");
    assert_eq!(header(response, "Permissions-Policy"), "interest-cohort=()");
    assert_eq!(response.headers().get_one("Server"), None);
}
