//! RFC 9728 Protected Resource Metadata in an app: the document at its
//! well-known URL, and `resource_metadata` on every challenge.

use rocket::http::{Header, Status};
use rocket::local::blocking::Client;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{get, routes};
use rocket_bearer::{Credentials, Realm, Rejection, ResourceMetadata, Scope};

const ADMIN: Scope = Scope::from_static("admin");

/// A guard whose answer is chosen by the token: `reader` lacks the scope,
/// anything else is invalid.
struct Scripted;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Scripted {
    type Error = Rejection;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Rejection> {
        match Credentials::require(request) {
            Err(rejection) => rejection.reject(request),
            Ok(token) if token.as_str() == "reader" => {
                Rejection::insufficient_scope(ADMIN).reject(request)
            }
            Ok(_) => Rejection::invalid_token().reject(request),
        }
    }
}

#[get("/tools")]
fn tools(_guard: Scripted) -> &'static str {
    "never"
}

fn client(resource: &str) -> Client {
    let metadata = ResourceMetadata::new(resource)
        .and_then(|metadata| metadata.authorization_server("https://auth.example.com/tenant"))
        .expect("a valid resource and issuer")
        .scopes_supported(["read", "admin"])
        .resource_name("Example MCP server")
        .resource_documentation("https://docs.example.com/mcp");
    let rocket = rocket::build()
        .mount("/mcp", routes![tools])
        .manage(Realm::from_static("mcp"))
        .attach(metadata)
        .register("/", rocket_bearer::catchers());
    Client::untracked(rocket).expect("the app ignites")
}

#[test]
fn the_document_is_served_at_the_well_known_url_of_the_resource_with_its_path() {
    let client = client("https://api.example.com/mcp");
    let response = client
        .get("/.well-known/oauth-protected-resource/mcp")
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.headers().get_one("Content-Type"),
        Some("application/json")
    );
    assert_eq!(
        response.into_string().as_deref(),
        Some(concat!(
            r#"{"resource":"https://api.example.com/mcp","#,
            r#""authorization_servers":["https://auth.example.com/tenant"],"#,
            r#""scopes_supported":["read","admin"],"#,
            r#""bearer_methods_supported":["header"],"#,
            r#""resource_name":"Example MCP server","#,
            r#""resource_documentation":"https://docs.example.com/mcp"}"#
        ))
    );
}

#[test]
fn every_challenge_points_at_the_document() {
    let client = client("https://api.example.com/mcp");
    let url = "https://api.example.com/.well-known/oauth-protected-resource/mcp";
    let cases = [
        (
            None,
            401,
            format!(r#"Bearer realm="mcp", resource_metadata="{url}""#),
        ),
        (
            Some("Bearer"),
            400,
            format!(
                r#"Bearer realm="mcp", error="invalid_request", error_description="no token after Bearer", resource_metadata="{url}""#
            ),
        ),
        (
            Some("Bearer forged"),
            401,
            format!(r#"Bearer realm="mcp", error="invalid_token", resource_metadata="{url}""#),
        ),
        (
            Some("Bearer reader"),
            403,
            format!(
                r#"Bearer realm="mcp", error="insufficient_scope", scope="admin", resource_metadata="{url}""#
            ),
        ),
    ];
    for (authorization, status, challenge) in cases {
        let mut request = client.get("/mcp/tools");
        if let Some(value) = authorization {
            request.add_header(Header::new("Authorization", value));
        }
        let response = request.dispatch();
        assert_eq!(response.status().code, status, "{authorization:?}");
        assert_eq!(
            response.headers().get_one("WWW-Authenticate"),
            Some(challenge.as_str())
        );
    }
}

#[test]
fn a_resource_at_the_root_has_its_document_at_the_bare_well_known_path() {
    let metadata = ResourceMetadata::new("http://127.0.0.1:8000/").expect("loopback http");
    assert_eq!(
        metadata.url(),
        "http://127.0.0.1:8000/.well-known/oauth-protected-resource"
    );
    let client = client("http://127.0.0.1:8000/");
    let response = client
        .get("/.well-known/oauth-protected-resource")
        .dispatch();
    assert_eq!(response.status(), Status::Ok);
    let body = response.into_string().unwrap_or_default();
    assert!(
        body.starts_with(r#"{"resource":"http://127.0.0.1:8000/","#),
        "{body}"
    );
}

#[test]
fn a_resource_identifier_must_be_https_or_loopback_http_without_query_or_fragment() {
    for refused in [
        "http://api.example.com/",
        "https://api.example.com/a?b=c",
        "https://api.example.com/a#b",
        "api.example.com",
        "/mcp",
        "ftp://api.example.com/",
        "https://api.example.com/\"",
    ] {
        let error = ResourceMetadata::new(refused).expect_err(refused);
        assert_eq!(
            error.to_string(),
            format!(
                "resource {refused:?} must be an https URL (http only to a loopback host) without query or fragment"
            )
        );
    }
    for taken in [
        "https://api.example.com",
        "https://api.example.com/mcp/",
        "http://localhost:8000/",
        "http://127.0.0.1/",
        "http://[::1]:8000/",
    ] {
        assert!(ResourceMetadata::new(taken).is_ok(), "{taken}");
    }
    let issuer = ResourceMetadata::new("https://api.example.com/")
        .and_then(|metadata| metadata.authorization_server("http://auth.example.com"))
        .expect_err("plain http issuer");
    assert_eq!(
        issuer.to_string(),
        r#"authorization server "http://auth.example.com" must be an https URL (http only to a loopback host) without query or fragment"#
    );
}
