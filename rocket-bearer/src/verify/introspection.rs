//! Opaque tokens, asked about at the issuer's introspection endpoint
//! (RFC 7662) with the resource server's own client credentials, and the
//! answers kept for a while, by the token's hash.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rocket::tokio::sync::Semaphore;
use rocket::tokio::time::timeout;
use serde::Deserialize;
use serde_json::Value;
use url::form_urlencoded;

use super::Failure;
use super::cache::{TokenHash, VerifiedTokens};
use super::keys::{MAX_DOCUMENT, Remote, http_client, retry_after, without_url};

/// How long an inactive answer is kept: a client retrying a revoked or
/// expired token costs the issuer one call per 5 s, and a token made active
/// (rare: a token is active from its issue) is seen within 5 s.
const INACTIVE_FOR: u64 = 5;

/// The introspection endpoint: configured (`bearer_introspection_endpoint`),
/// or read from the issuer's metadata, at launch or, if the issuer did not
/// answer then, when the first opaque token comes.
pub(crate) struct Endpoint {
    url: OnceLock<String>,
    /// Where to discover it while it is not known.
    issuer: Option<Arc<Remote>>,
}

impl Endpoint {
    pub(crate) fn configured(url: String) -> Endpoint {
        Endpoint {
            url: OnceLock::from(url),
            issuer: None,
        }
    }

    /// The endpoint `issuer`'s metadata lists, asked now for at most
    /// `wait`; `Err` if the metadata lists none.
    pub(crate) async fn discovered(issuer: Arc<Remote>, wait: Duration) -> Result<Endpoint, ()> {
        let url = OnceLock::new();
        match timeout(wait, issuer.introspection_endpoint()).await {
            Ok(Ok(Some(found))) => {
                let _ = url.set(found);
            }
            Ok(Ok(None)) => return Err(()),
            // Discovered when the first opaque token comes.
            Ok(Err(_)) | Err(_) => {}
        }
        Ok(Endpoint {
            url,
            issuer: Some(issuer),
        })
    }
}

/// The introspection client, and the answers kept.
pub(crate) struct Introspection {
    endpoint: Endpoint,
    client_id: String,
    client_secret: String,
    http: reqwest::Client,
    /// The most seconds an active answer is kept (it is never kept past
    /// the token's `exp`); 0: not kept, the issuer is asked every time.
    max_age: u64,
    /// Active answers by token hash, as the JSON the issuer sent.
    answers: VerifiedTokens,
    /// Tokens answered inactive, apart: junk tokens sent in numbers cannot
    /// push the active answers out.
    inactive: VerifiedTokens,
    /// At most this many calls to the issuer at once: a flood of tokens
    /// never seen waits here rather than flooding the issuer.
    calls: Semaphore,
    /// Calls that failed in a row, for `Retry-After`.
    failures: AtomicU32,
}

/// Names its endpoint and client, never the secret.
impl fmt::Debug for Introspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Introspection")
            .field("client_id", &self.client_id)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

/// The members of an answer read before the claims (RFC 7662 §2.2);
/// `exp` as any JSON, so that an answer with a fractional one is refused as
/// claims this resource cannot read, not as an issuer that failed.
#[derive(Deserialize)]
struct Answer {
    active: bool,
    token_type: Option<String>,
    cnf: Option<Value>,
    exp: Option<Value>,
}

/// Calls to the issuer at once, at most.
const CONCURRENT_CALLS: usize = 32;

impl Introspection {
    pub(crate) fn new(
        endpoint: Endpoint,
        client_id: String,
        client_secret: String,
        max_age: u64,
    ) -> Result<Introspection, String> {
        let http = http_client()?;
        // RFC 6749 §2.3.1: each form-urlencoded before Basic encodes them.
        let encoded = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect();
        Ok(Introspection {
            endpoint,
            client_id: encoded(&client_id),
            client_secret: encoded(&client_secret),
            http,
            max_age,
            answers: VerifiedTokens::new(),
            inactive: VerifiedTokens::new(),
            calls: Semaphore::new(CONCURRENT_CALLS),
            failures: AtomicU32::new(0),
        })
    }

    /// The token's claims as the issuer's answer gives them (RFC 7662
    /// §2.2), from the answers kept when there is one: `active: false` is
    /// [`Failure::Inactive`]; an issuer that cannot be asked is
    /// [`Failure::Unavailable`].
    pub(crate) async fn claims(&self, token: &str, now: u64) -> Result<Arc<[u8]>, Failure> {
        let hash = TokenHash::of(token);
        if let Some(json) = self.answers.get(&hash, 0, now) {
            return Ok(json);
        }
        if self.inactive.get(&hash, 0, now).is_some() {
            return Err(Failure::Inactive);
        }
        let json = {
            let _call = self.calls.acquire().await.map_err(|_| self.unavailable())?;
            self.ask(token).await?
        };
        let answer: Answer = serde_json::from_slice(&json).map_err(|_| self.unavailable())?;
        self.failures.store(0, Ordering::Release);
        if !answer.active {
            let until = now.saturating_add(INACTIVE_FOR);
            self.inactive
                .insert(hash, 0, now, until, Arc::from(&[][..]));
            return Err(Failure::Inactive);
        }
        // RFC 9449 §6.2: a DPoP token names its key in cnf.jkt.
        let names_key = answer
            .cnf
            .as_ref()
            .and_then(|cnf| cnf.get("jkt"))
            .is_some_and(Value::is_string);
        let dpop = answer
            .token_type
            .is_some_and(|kind| kind.eq_ignore_ascii_case("DPoP"));
        if dpop && !names_key {
            return Err(Failure::UnreadableClaims);
        }
        let json: Arc<[u8]> = Arc::from(json);
        let exp = answer.exp.as_ref().and_then(Value::as_u64);
        if let Some(exp) = exp.filter(|_| self.max_age > 0) {
            let until = exp.min(now.saturating_add(self.max_age));
            self.answers.insert(hash, 0, now, until, Arc::clone(&json));
        }
        Ok(json)
    }

    /// Whether the endpoint refuses this client's credentials (RFC 7662
    /// §2.3: 401, or RFC 6749 §5.2's `invalid_client`), asked at launch
    /// about a token no issuer made; `false` too when it cannot be asked.
    pub(crate) async fn refuses_credentials(&self) -> bool {
        let Some(endpoint) = self.known_endpoint() else {
            return false;
        };
        let sent = self
            .post(endpoint, "rocket-bearer-launch-check")
            .send()
            .await;
        let Ok(response) = sent else {
            return false;
        };
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        status == 401 || (status == 400 && body.contains("invalid_client"))
    }

    /// The endpoint, if configured or already discovered.
    fn known_endpoint(&self) -> Option<&str> {
        self.endpoint.url.get().map(String::as_str)
    }

    /// The introspection request for `token` (RFC 7662 §2.1), authenticated
    /// with the client's credentials (`client_secret_basic`).
    fn post(&self, endpoint: &str, token: &str) -> reqwest::RequestBuilder {
        self.http
            .post(endpoint)
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .header("Accept", "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")])
    }

    fn unavailable(&self) -> Failure {
        let failures = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
        Failure::Unavailable(retry_after(failures))
    }

    /// POSTs the token to the endpoint, authenticated with the client's
    /// credentials (`client_secret_basic`, RFC 6749 §2.3.1), and reads an
    /// answer of at most 1 MiB.
    async fn ask(&self, token: &str) -> Result<Vec<u8>, Failure> {
        let endpoint = match (self.known_endpoint(), &self.endpoint.issuer) {
            (Some(url), _) => url,
            (None, None) => return Err(self.unavailable()),
            // Not discovered at launch: asked of the issuer's metadata now.
            (None, Some(remote)) => match remote.introspection_endpoint().await {
                Ok(Some(url)) => self.endpoint.url.get_or_init(|| url).as_str(),
                Ok(None) => {
                    rocket::error!(
                        "rocket_bearer: the issuer lists no introspection_endpoint: set bearer_introspection_endpoint"
                    );
                    return Err(self.unavailable());
                }
                Err(_) => return Err(Failure::Unavailable(remote.retry_after().await)),
            },
        };
        let sent = self.post(endpoint, token).send().await;
        let mut response = match sent {
            Ok(response) if response.status().is_success() => response,
            Ok(response) if response.status() == reqwest::StatusCode::UNAUTHORIZED => {
                rocket::error!(
                    "rocket_bearer: the introspection endpoint refused this resource server's credentials (401): check bearer_introspection_client_id and bearer_introspection_client_secret"
                );
                return Err(self.unavailable());
            }
            Ok(response) => {
                rocket::warn!(
                    "rocket_bearer: the introspection endpoint answered {}",
                    response.status()
                );
                return Err(self.unavailable());
            }
            Err(error) => {
                rocket::warn!(
                    "rocket_bearer: cannot reach the introspection endpoint: {}",
                    without_url(&error)
                );
                return Err(self.unavailable());
            }
        };
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() <= MAX_DOCUMENT => {
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Ok(Some(_)) | Err(_) => return Err(self.unavailable()),
            }
        }
    }
}
