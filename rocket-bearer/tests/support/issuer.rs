//! The test authorization server: panva's oidc-provider, run by `node` from
//! tests/issuer/ (its README.md says what it serves), on a loopback port of
//! its own for one test, and killed when the test drops it.
//!
//! ```ignore
//! let issuer = Issuer::start().await;
//! let token = issuer.token(OAuthClient::Reader, "read", "http://127.0.0.1:8000/").await;
//! let kid = issuer.rotate(false).await;
//! let key = ProofKey::generate();
//! let bound = issuer.dpop_token(OAuthClient::OpaqueReader, "read", "http://127.0.0.1:8000/", &key).await;
//! assert_eq!(issuer.introspect(&bound).await["cnf"]["jkt"], key.thumbprint());
//! ```

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::time::timeout;

use super::dpop::ProofKey;

/// The one line a test run without the issuer fails with; also the
/// `#[ignore]` reason of the tests that need it.
pub const NEEDS_ISSUER: &str = "needs oidc-provider: npm ci --prefix rocket-bearer/tests/issuer";

/// The line when `node` itself is missing.
const NEEDS_NODE: &str = "needs node (Node.js 20 or later) and oidc-provider: npm ci --prefix rocket-bearer/tests/issuer";

/// Starting takes 0.3-0.6 s on a busy 2-core machine; CI gets much more.
const STARTUP: Duration = Duration::from_secs(20);

/// The issuer exits at once when its stdin closes; this bounds a stuck one.
const SHUTDOWN: Duration = Duration::from_secs(10);

/// The resource server's client_id at the issuer: what it authenticates to
/// the introspection endpoint with (RFC 7662 §2.1), by HTTP Basic.
pub const RESOURCE_SERVER_ID: &str = "resource-server";

/// The secret of [`RESOURCE_SERVER_ID`].
pub const RESOURCE_SERVER_SECRET: &str = "resource-server-secret";

/// The clients registered at the issuer, each allowed the scopes named.
/// Their tokens are RFC 9068 JWTs unless said otherwise; "opaque" ones are
/// random strings that only [`Issuer::introspect`] reads. A step-up claim
/// (RFC 9470) is in a JWT's claims, and in an opaque token's introspection
/// response; other clients' tokens carry neither `acr` nor `auth_time`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthClient {
    /// `reader`: scope `read`.
    Reader,
    /// `admin`: scopes `read admin`.
    Admin,
    /// `short-lived`: scopes `read admin`, and its tokens expire one second
    /// after they are issued.
    ShortLived,
    /// `resource-server`: the resource server's own credentials
    /// ([`RESOURCE_SERVER_ID`]), which [`Issuer::introspect`] uses; no
    /// scope of its own.
    ResourceServer,
    /// `opaque-reader`: scope `read`; its tokens are opaque.
    OpaqueReader,
    /// `mfa`: scopes `read admin`; its tokens carry `acr` `mfa` and
    /// `auth_time` = their `iat`.
    Mfa,
    /// `mfa-stale`: scopes `read admin`; its tokens carry `acr` `mfa` and
    /// `auth_time` = their `iat` - 3600.
    MfaStale,
    /// `password`: scopes `read admin`; its tokens carry `acr` `pwd` and
    /// `auth_time` = their `iat`.
    Password,
    /// `opaque-password`: scope `read`; its tokens are opaque, introspected
    /// with `acr` `pwd` and `auth_time` = their `iat`.
    OpaquePassword,
    /// `opaque-mfa-stale`: scope `read`; its tokens are opaque, introspected
    /// with `acr` `mfa` and `auth_time` = their `iat` - 3600.
    OpaqueMfaStale,
}

impl OAuthClient {
    /// Its client_id and client_secret (tests/issuer/issuer.mjs); the
    /// client_id is its tokens' `client_id` (and a JWT's `sub`).
    pub fn credentials(self) -> (&'static str, &'static str) {
        match self {
            Self::Reader => ("reader", "reader-secret"),
            Self::Admin => ("admin", "admin-secret"),
            Self::ShortLived => ("short-lived", "short-lived-secret"),
            Self::ResourceServer => (RESOURCE_SERVER_ID, RESOURCE_SERVER_SECRET),
            Self::OpaqueReader => ("opaque-reader", "opaque-reader-secret"),
            Self::Mfa => ("mfa", "mfa-secret"),
            Self::MfaStale => ("mfa-stale", "mfa-stale-secret"),
            Self::Password => ("password", "password-secret"),
            Self::OpaquePassword => ("opaque-password", "opaque-password-secret"),
            Self::OpaqueMfaStale => ("opaque-mfa-stale", "opaque-mfa-stale-secret"),
        }
    }
}

/// A running test authorization server.
pub struct Issuer {
    /// Dropped first: killing the process before its state dir goes.
    process: Option<Process>,
    url: String,
    http: reqwest::Client,
    /// Its keys (keys.json), kept across restarts, and its stderr (issuer.log).
    state: TempDir,
    /// Options of issuer.mjs beyond the harness's own, kept across restarts.
    options: Vec<String>,
}

struct Process {
    child: Child,
    /// Held open: the issuer (run with --exit-with-stdin) exits when it
    /// closes, also when the test process dies without dropping anything.
    stdin: ChildStdin,
}

impl Issuer {
    /// Starts an issuer on a free loopback port with a fresh key; panics
    /// with [`NEEDS_ISSUER`] when node or the node_modules are missing.
    pub async fn start() -> Issuer {
        Issuer::start_with(Vec::new()).await
    }

    /// Starts an issuer as [`Issuer::start`] does, whose jwks_uri answers
    /// with `Cache-Control: max-age=<seconds>`.
    pub async fn start_with_jwks_max_age(seconds: u32) -> Issuer {
        Issuer::start_with(vec!["--jwks-max-age".to_owned(), seconds.to_string()]).await
    }

    async fn start_with(options: Vec<String>) -> Issuer {
        let state = tempfile::tempdir().expect("a temporary directory for the issuer's keys");
        let (process, url) = spawn(state.path(), 0, &options).await;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        Issuer {
            process: Some(process),
            url,
            http,
            state,
            options,
        }
    }

    /// The issuer identifier (`http://127.0.0.1:PORT`, no trailing slash),
    /// what a resource server is configured with and what its tokens' `iss`
    /// is.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Another issuer served by the same process with the same keys: its
    /// tokens carry a `kid` the main issuer publishes, but another `iss`.
    pub fn other_issuer_url(&self) -> String {
        format!("{}/other", self.url)
    }

    /// An access token by the client credentials grant (RFC 6749 §4.4) for
    /// `resource` (RFC 8707): an ES256 `at+jwt` (RFC 9068) whose `aud` is
    /// `resource` and whose `scope` is `scope` (no `scope` claim if empty);
    /// for an opaque client, an opaque token with that audience and scope.
    /// Panics if the issuer refuses, e.g. a scope the client is not allowed.
    pub async fn token(&self, client: OAuthClient, scope: &str, resource: &str) -> String {
        self.token_from(&self.url, client, scope, resource).await
    }

    /// An access token as [`Issuer::token`] gives, bound to `key` (RFC 9449
    /// §5): the token request carries a DPoP proof of `key` for `POST
    /// {issuer}/token`, and the token is of type `DPoP`; a JWT carries
    /// `cnf.jkt` = [`ProofKey::thumbprint`], an opaque token's introspection
    /// response does.
    pub async fn dpop_token(
        &self,
        client: OAuthClient,
        scope: &str,
        resource: &str,
        key: &ProofKey,
    ) -> String {
        let token_endpoint = format!("{}/token", self.url);
        let proof = key.proof("POST", &token_endpoint, None, None);
        let body = self
            .token_request(&self.url, client, scope, resource, Some(&proof))
            .await;
        assert_eq!(
            body["token_type"], "DPoP",
            "a token request with a DPoP proof gets a DPoP token: {body}"
        );
        access_token(&body)
    }

    /// The same as [`Issuer::token`], from [`Issuer::other_issuer_url`].
    pub async fn other_issuer_token(
        &self,
        client: OAuthClient,
        scope: &str,
        resource: &str,
    ) -> String {
        self.token_from(&self.other_issuer_url(), client, scope, resource)
            .await
    }

    async fn token_from(
        &self,
        issuer: &str,
        client: OAuthClient,
        scope: &str,
        resource: &str,
    ) -> String {
        let body = self
            .token_request(issuer, client, scope, resource, None)
            .await;
        access_token(&body)
    }

    /// The token response to a client credentials request at `issuer`'s
    /// token endpoint, with a `DPoP` header if `proof` is given; panics if
    /// the issuer refuses.
    async fn token_request(
        &self,
        issuer: &str,
        client: OAuthClient,
        scope: &str,
        resource: &str,
        proof: Option<&str>,
    ) -> Value {
        let (id, secret) = client.credentials();
        let mut form = vec![("grant_type", "client_credentials"), ("resource", resource)];
        if !scope.is_empty() {
            form.push(("scope", scope));
        }
        let mut request = self
            .http
            .post(format!("{issuer}/token"))
            .basic_auth(id, Some(secret))
            .form(&form);
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        let response = request
            .send()
            .await
            .expect("the issuer answers a token request");
        let status = response.status();
        let body: Value = response.json().await.expect("a token response is JSON");
        assert!(
            status.is_success(),
            "the issuer refused {id} a token: {status} {body}"
        );
        body
    }

    /// The issuer's RFC 8414 metadata (§3), from
    /// `/.well-known/oauth-authorization-server`.
    pub async fn metadata(&self) -> Value {
        let url = format!("{}/.well-known/oauth-authorization-server", self.url);
        let response = self.http.get(url).send().await.expect("the issuer answers");
        assert!(
            response.status().is_success(),
            "the issuer serves its metadata"
        );
        response.json().await.expect("the metadata is JSON")
    }

    /// The introspection endpoint (RFC 7662) as the metadata names it
    /// (`introspection_endpoint`): what a resource server configured with
    /// [`Issuer::url`] discovers.
    pub async fn introspection_endpoint(&self) -> String {
        self.endpoint("introspection_endpoint").await
    }

    /// The revocation endpoint (RFC 7009) as the metadata names it.
    pub async fn revocation_endpoint(&self) -> String {
        self.endpoint("revocation_endpoint").await
    }

    async fn endpoint(&self, name: &str) -> String {
        self.metadata().await[name]
            .as_str()
            .unwrap_or_else(|| panic!("the metadata names the {name}"))
            .to_owned()
    }

    /// The introspection response (RFC 7662 §2.2) for `token`, asked by the
    /// resource server ([`RESOURCE_SERVER_ID`]): `{"active":false}` for a
    /// token that is unknown, expired or revoked. Opaque tokens only:
    /// oidc-provider answers a JWT with 400 `unsupported_token_type`, and
    /// this panics on anything but 200.
    pub async fn introspect(&self, token: &str) -> Value {
        let response = self
            .http
            .post(self.introspection_endpoint().await)
            .basic_auth(RESOURCE_SERVER_ID, Some(RESOURCE_SERVER_SECRET))
            .form(&[("token", token)])
            .send()
            .await
            .expect("the issuer answers an introspection request");
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .expect("an introspection response is JSON");
        assert_eq!(status, 200, "the issuer refused to introspect: {body}");
        body
    }

    /// Revokes `token` (RFC 7009) as `client`, the client it was issued to
    /// (oidc-provider lets no other revoke it): it then introspects as
    /// inactive. Opaque tokens only, as [`Issuer::introspect`].
    pub async fn revoke(&self, client: OAuthClient, token: &str) {
        let (id, secret) = client.credentials();
        let response = self
            .http
            .post(self.revocation_endpoint().await)
            .basic_auth(id, Some(secret))
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            .expect("the issuer answers a revocation request");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "the issuer refused {id} a revocation: {body}");
    }

    /// Rotates the signing key while the issuer runs: a new ES256 key with
    /// a new `kid` signs from now on, and is published beside the old ones;
    /// with `retire_old`, the new key is then the only one published.
    /// Returns the new `kid`.
    pub async fn rotate(&self, retire_old: bool) -> String {
        let rotated = self.control("rotate").await;
        if retire_old {
            self.control("retire").await;
        }
        rotated["signing"]
            .as_str()
            .expect("the rotation names the new kid")
            .to_owned()
    }

    /// How many times the jwks_uri (of either issuer) has been fetched since
    /// the process started.
    pub async fn jwks_fetches(&self) -> u64 {
        let url = format!("{}/_test/jwks-fetches", self.url);
        let response = self.http.get(url).send().await.expect("the issuer answers");
        let body: Value = response.json().await.expect("the count is JSON");
        body["jwks_fetches"].as_u64().expect("a count")
    }

    async fn control(&self, action: &str) -> Value {
        let url = format!("{}/_test/{action}", self.url);
        let response = self
            .http
            .post(url)
            .send()
            .await
            .expect("the issuer answers");
        assert!(response.status().is_success(), "/_test/{action} failed");
        response.json().await.expect("a test control answers JSON")
    }

    /// Stops the issuer and waits until it has exited: its port refuses
    /// connections until [`Issuer::restart`].
    pub async fn stop(&mut self) {
        let Some(Process { mut child, stdin }) = self.process.take() else {
            return;
        };
        drop(stdin);
        if timeout(SHUTDOWN, child.wait()).await.is_err() {
            child.kill().await.expect("the issuer is killed");
        }
    }

    /// Starts the issuer again on the same port with the same keys (and the
    /// jwks fetch count back at zero), stopping it first if it runs.
    pub async fn restart(&mut self) {
        self.stop().await;
        let port = self
            .url
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("the issuer's URL ends with its port");
        let (process, url) = spawn(self.state.path(), port, &self.options).await;
        assert_eq!(url, self.url, "the issuer restarts on its port");
        self.process = Some(process);
    }
}

/// Runs issuer.mjs and waits for its ready line, `listening URL`.
async fn spawn(state: &Path, port: u16, options: &[String]) -> (Process, String) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/issuer");
    assert!(
        dir.join("node_modules/oidc-provider/package.json")
            .is_file(),
        "{NEEDS_ISSUER}"
    );
    let log = state.join("issuer.log");
    let stderr = File::create(&log).expect("the issuer's log file opens");
    let mut child = Command::new("node")
        .arg(dir.join("issuer.mjs"))
        .args(["--port", &port.to_string(), "--exit-with-stdin", "--state"])
        .arg(state)
        .args(options)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|error| match error.kind() {
            std::io::ErrorKind::NotFound => panic!("{NEEDS_NODE}"),
            _ => panic!("node does not run: {error}"),
        });
    let stdout = child.stdout.take().expect("the issuer's stdout is piped");
    let stdin = child.stdin.take().expect("the issuer's stdin is piped");
    let line = timeout(STARTUP, BufReader::new(stdout).lines().next_line()).await;
    let url = match line {
        Ok(Ok(Some(line))) => line.strip_prefix("listening ").map(str::to_owned),
        Err(_) => {
            child.kill().await.expect("the issuer is killed");
            panic!("the issuer was not ready in {STARTUP:?}: {}", failure(&log));
        }
        Ok(_) => None,
    };
    let url = url.unwrap_or_else(|| panic!("the issuer did not start: {}", failure(&log)));
    (Process { child, stdin }, url)
}

/// What the issuer wrote to stderr that says why it failed: node's error
/// line, or else its last line.
fn failure(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    // Node's report of an uncaught error: `TypeError: message`.
    let error = text.lines().find(|line| {
        line.split_once(": ")
            .is_some_and(|(name, _)| name.ends_with("Error") && !name.contains(' '))
    });
    error
        .or_else(|| lines.next_back())
        .unwrap_or("nothing on stderr")
        .to_owned()
}

/// The `access_token` of a token response.
fn access_token(body: &Value) -> String {
    body["access_token"]
        .as_str()
        .expect("a token response has an access_token")
        .to_owned()
}
