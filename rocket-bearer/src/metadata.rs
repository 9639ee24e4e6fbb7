//! OAuth 2.0 Protected Resource Metadata (RFC 9728): the document that tells
//! a client which authorization servers issue tokens for this resource, and
//! the `resource_metadata` parameter that points every challenge at it.

use std::fmt;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::uri::Absolute;
use rocket::http::{ContentType, Method};
use rocket::route::{self, Handler, Route};
use rocket::{Build, Data, Request, Rocket};
use serde::Serialize;

/// The well-known suffix of RFC 9728 §3.
const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// What this resource tells clients about itself (RFC 9728 §2). Attach it
/// to your rocket and it serves the document at the well-known URL that
/// §3.1 derives from the resource identifier, as `application/json`, and
/// every challenge of the library carries `resource_metadata="<that URL>"`
/// (§5.1), which is how an MCP client, say, finds where to get a token.
///
/// ```
/// use rocket_bearer::ResourceMetadata;
///
/// let metadata = ResourceMetadata::new("https://api.example.com/mcp")?
///     .authorization_server("https://auth.example.com")?
///     .scopes_supported(["read", "admin"])
///     .resource_name("Example MCP server");
/// assert_eq!(
///     metadata.url(),
///     "https://api.example.com/.well-known/oauth-protected-resource/mcp"
/// );
/// let rocket = rocket::build()
///     .attach(metadata)
///     .register("/", rocket_bearer::catchers());
/// # Ok::<(), rocket_bearer::InvalidMetadata>(())
/// ```
///
/// The document is served at the path the identifier has
/// (`/.well-known/oauth-protected-resource/mcp` above): behind a proxy that
/// rewrites paths, give the identifier clients use and route that path to
/// the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceMetadata {
    resource: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authorization_servers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scopes_supported: Vec<String>,
    bearer_methods_supported: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_documentation: Option<String>,
    #[serde(skip)]
    url: String,
    #[serde(skip)]
    path: String,
}

/// A URL refused as a resource identifier or an issuer: one line naming the
/// value and what it lacks.
///
/// ```
/// use rocket_bearer::ResourceMetadata;
///
/// let error = ResourceMetadata::new("http://api.example.com/").unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     r#"resource "http://api.example.com/" must be an https URL (http only to a loopback host) without query or fragment"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidMetadata {
    field: &'static str,
    value: String,
}

impl fmt::Display for InvalidMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:?} must be an https URL (http only to a loopback host) without query or fragment",
            self.field, self.value
        )
    }
}

impl std::error::Error for InvalidMetadata {}

/// `url` parsed as an absolute `https` URL, or `http` to a loopback host
/// (RFC 9728 §2, §7.1; RFC 8252 §8.3 for loopback), without query or
/// fragment, and without `"` or `\`, so that it stands in a quoted-string.
/// Its path, `""` for none or `/`.
pub(crate) fn checked_url<'a>(
    field: &'static str,
    url: &'a str,
) -> Result<&'a str, InvalidMetadata> {
    let invalid = || InvalidMetadata {
        field,
        value: url.to_owned(),
    };
    let parsed = Absolute::parse(url).map_err(|_| invalid())?;
    let host = parsed.authority().map(|authority| authority.host());
    let secure = match parsed.scheme() {
        "https" => host.is_some_and(|host| !host.is_empty()),
        "http" => host.is_some_and(is_loopback),
        _ => false,
    };
    let quotable = url
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    if !secure || !quotable || parsed.query().is_some() || url.contains('#') {
        return Err(invalid());
    }
    // The path is the URL's tail, since there is no query or fragment.
    let path = &url[url.len() - parsed.path().as_str().len()..];
    Ok(if path == "/" { "" } else { path })
}

/// `127.0.0.0/8`, `[::1]` or `localhost`.
pub(crate) fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|address| address.is_loopback())
}

impl ResourceMetadata {
    /// Metadata for the resource identified by `resource`: an `https` URL
    /// (`http` only to a loopback host, for development) without query or
    /// fragment (RFC 9728 §1.2). For an MCP server, the server's canonical
    /// URL; with the `verify` feature, the audience its tokens carry.
    pub fn new(resource: &str) -> Result<ResourceMetadata, InvalidMetadata> {
        let path = checked_url("resource", resource)?;
        let origin = &resource[..resource.len() - path.len()];
        let origin = origin.trim_end_matches('/');
        let url = format!("{origin}{WELL_KNOWN}{path}");
        Ok(ResourceMetadata {
            resource: resource.to_owned(),
            authorization_servers: Vec::new(),
            scopes_supported: Vec::new(),
            bearer_methods_supported: ["header"],
            resource_name: None,
            resource_documentation: None,
            path: format!("{WELL_KNOWN}{path}"),
            url,
        })
    }

    /// Adds the issuer identifier of an authorization server that issues
    /// tokens for this resource (`authorization_servers`, RFC 9728 §2; the
    /// MCP authorization specification wants at least one).
    pub fn authorization_server(
        mut self,
        issuer: &str,
    ) -> Result<ResourceMetadata, InvalidMetadata> {
        checked_url("authorization server", issuer)?;
        self.authorization_servers.push(issuer.to_owned());
        Ok(self)
    }

    /// The scopes this resource's routes ask for (`scopes_supported`).
    pub fn scopes_supported<S: Into<String>>(
        mut self,
        scopes: impl IntoIterator<Item = S>,
    ) -> ResourceMetadata {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// A name for people (`resource_name`).
    pub fn resource_name(mut self, name: impl Into<String>) -> ResourceMetadata {
        self.resource_name = Some(name.into());
        self
    }

    /// A page for developers using this resource (`resource_documentation`).
    pub fn resource_documentation(mut self, url: impl Into<String>) -> ResourceMetadata {
        self.resource_documentation = Some(url.into());
        self
    }

    /// The resource identifier.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The document's URL, derived from the identifier as RFC 9728 §3.1
    /// says: `/.well-known/oauth-protected-resource` inserted between the
    /// host and the path.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Attaching the metadata manages it (the catchers read it for
/// `resource_metadata`) and mounts the document's route.
#[rocket::async_trait]
impl Fairing for ResourceMetadata {
    fn info(&self) -> Info {
        Info {
            name: "rocket_bearer::ResourceMetadata",
            kind: Kind::Ignite | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let body = match serde_json::to_string(self) {
            Ok(body) => body,
            Err(_) => return Err(rocket),
        };
        let route = Route::new(Method::Get, "/", Document(body));
        Ok(rocket
            .manage(self.clone())
            .mount(self.path.as_str(), vec![route]))
    }
}

/// The route that serves the document, serialized once at ignition.
#[derive(Clone)]
struct Document(String);

#[rocket::async_trait]
impl Handler for Document {
    async fn handle<'r>(&self, request: &'r Request<'_>, _: Data<'r>) -> route::Outcome<'r> {
        route::Outcome::from(request, (ContentType::JSON, self.0.clone()))
    }
}
