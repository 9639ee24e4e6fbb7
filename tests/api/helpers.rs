//! What every test starts from: the service's own rocket, and the checks a
//! user makes on a refused request.

use rocket::figment::Figment;
use rocket::http::Method;
use rocket::local::blocking::{Client, LocalResponse};

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
pub const NO_CREDENTIALS: &str = r#"Bearer realm="example""#;
pub const INVALID_TOKEN: &str = r#"Bearer realm="example", error="invalid_token""#;

/// A client for the service as `main` builds it, from `Rocket.toml`.
pub fn client() -> Client {
    client_for(unauthorized::rocket().expect("Rocket.toml is valid"))
}

/// A client for the service built from `figment`.
pub fn client_with(figment: Figment) -> Client {
    client_for(unauthorized::custom(figment).expect("the configuration is valid"))
}

pub fn client_for(rocket: rocket::Rocket<rocket::Build>) -> Client {
    Client::untracked(rocket).expect("the rocket ignites")
}

/// The value of `name`, which must appear exactly once.
pub fn header<'a>(response: &'a LocalResponse<'_>, name: &str) -> &'a str {
    let values: Vec<&str> = response.headers().get(name).collect();
    match values[..] {
        [value] => value,
        _ => panic!("expected one {name} header, got {values:?}"),
    }
}

/// Checks everything the contract says of a refused request but the body,
/// which the caller reads (HEAD has none).
pub fn assert_refused_headers(response: &LocalResponse<'_>, challenge: &str, content_type: &str) {
    assert_eq!(response.status().code, 401);
    assert_eq!(header(response, "Content-Type"), content_type);
    assert_eq!(header(response, "WWW-Authenticate"), challenge);
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

/// The whole refused response: headers, and the plain body byte for byte
/// (none for HEAD).
pub fn assert_refused(response: LocalResponse<'_>, method: Method, challenge: &str) {
    assert_refused_headers(&response, challenge, "application/json");
    let expected: &[u8] = if method == Method::Head {
        b""
    } else {
        UNAUTHORIZED.as_bytes()
    };
    assert_eq!(
        response.into_bytes().unwrap_or_default(),
        expected,
        "{method}"
    );
}
