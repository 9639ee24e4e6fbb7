//! The keys that verify tokens: static ones, or those an issuer publishes,
//! discovered (RFC 8414, OpenID Connect Discovery), cached, refetched once
//! for a key not seen yet, and expired as the issuer's `Cache-Control` says.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use aws_lc_rs::hmac;
use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED, ED25519, ParsedPublicKey,
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA384, RSA_PKCS1_2048_8192_SHA512,
    RSA_PSS_2048_8192_SHA256, RSA_PSS_2048_8192_SHA384, RSA_PSS_2048_8192_SHA512,
    VerificationAlgorithm,
};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};
use rocket::tokio::sync::Mutex;
use rocket::tokio::time::{Instant, sleep, sleep_until};
use serde::Deserialize;

use crate::metadata::checked_url;

/// At most one fetch of the issuer's keys a second: a client sending
/// tokens with random `kid`s cannot make the server hammer the issuer.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The key set's lifetime when the issuer sends no `max-age`, and the
/// bounds an issuer's `max-age` is held to: refetched at most every 5 s
/// (an issuer sending `no-cache` costs one fetch per 5 s, not one per
/// request), and at least daily, so that a removed key stops verifying.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
const MAX_AGE_BOUNDS: (Duration, Duration) = (Duration::from_secs(5), Duration::from_secs(86_400));

/// The most a key set or a discovery document may weigh.
pub(crate) const MAX_DOCUMENT: usize = 1 << 20;

/// How long one fetch may take, connection included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why no key verifies a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyFailure {
    /// The key set, fresh from the issuer, has no key for this `kid`.
    Unknown,
    /// The key was published for another algorithm than the token's.
    WrongAlgorithm,
    /// The issuer could not be reached: try again in this many seconds.
    Unavailable(u32),
}

/// One published key, parsed once for each algorithm it can check
/// (RFC 7518 §3): reading an EC point or an RSA modulus again for each
/// token would cost every first-seen token about a microsecond more
/// (BENCHMARKS.md).
pub(crate) struct Key {
    checks: Vec<(Algorithm, SignatureCheck)>,
    /// What the JWK's `alg` allows (RFC 7517 §4.4).
    published_for: PublishedFor,
    /// The key's bytes as published, to tell a key replaced under the
    /// same `kid` from the same key fetched again.
    material: Box<[u8]>,
}

/// The algorithms a key may check, by its JWK's `alg` (RFC 7517 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PublishedFor {
    /// No `alg`: any algorithm of the key's family.
    AnyOfFamily,
    /// This signature algorithm only.
    One(Algorithm),
    /// An algorithm this verifier does not check signatures with
    /// (`RSA-OAEP`, `ES512`, one it does not know): none. Read as "no
    /// `alg`", such a key would verify every algorithm of its family.
    Other,
}

enum SignatureCheck {
    Public(ParsedPublicKey),
    /// Boxed: an HMAC key holds its hash states, 1.2 KiB.
    Hmac(Box<hmac::Key>),
}

impl Key {
    /// The key `decoding` holds, ready for each algorithm of its family
    /// that accepts it (a P-256 point for ES256, not ES384). A key none
    /// accepts (P-521, say) is kept, so that its `kid` stays known, and
    /// verifies nothing.
    fn new(decoding: &DecodingKey, published_for: PublishedFor) -> Key {
        Key::parsed(decoding, published_for, None)
    }

    /// The key, parsed for `only` that algorithm when given.
    fn parsed(decoding: &DecodingKey, published_for: PublishedFor, only: Option<Algorithm>) -> Key {
        let wanted = |name: &Algorithm| only.is_none_or(|only| only == *name);
        use Algorithm::{ES256, ES384, EdDSA, HS256, HS384, HS512, PS256, PS384, PS512};
        use Algorithm::{RS256, RS384, RS512};
        let public =
            |bytes: &[u8], algorithms: &[(Algorithm, &'static dyn VerificationAlgorithm)]| {
                algorithms
                    .iter()
                    .filter(|(name, _)| wanted(name))
                    .filter_map(|&(name, verification)| {
                        let key = ParsedPublicKey::new(verification, bytes).ok()?;
                        Some((name, SignatureCheck::Public(key)))
                    })
                    .collect()
            };
        let material = match decoding.kind() {
            DecodingKeyKind::SecretOrDer(bytes) => bytes.clone(),
            DecodingKeyKind::RsaModulusExponent { n, e } => {
                // n's length first, so that no other (n, e) reads the same.
                let mut bytes = n.len().to_be_bytes().to_vec();
                bytes.extend_from_slice(n);
                bytes.extend_from_slice(e);
                bytes
            }
        }
        .into_boxed_slice();
        let checks: Vec<(Algorithm, SignatureCheck)> = match (decoding.family(), decoding.kind()) {
            (AlgorithmFamily::Hmac, DecodingKeyKind::SecretOrDer(secret)) => [
                (HS256, hmac::HMAC_SHA256),
                (HS384, hmac::HMAC_SHA384),
                (HS512, hmac::HMAC_SHA512),
            ]
            .into_iter()
            .filter(|(name, _)| wanted(name))
            .map(|(name, hmac)| {
                (
                    name,
                    SignatureCheck::Hmac(Box::new(hmac::Key::new(hmac, secret))),
                )
            })
            .collect(),
            (AlgorithmFamily::Ec, DecodingKeyKind::SecretOrDer(point)) => public(
                point,
                &[
                    (ES256, &ECDSA_P256_SHA256_FIXED),
                    (ES384, &ECDSA_P384_SHA384_FIXED),
                ],
            ),
            (AlgorithmFamily::Ed, DecodingKeyKind::SecretOrDer(point)) => {
                public(point, &[(EdDSA, &ED25519)])
            }
            (AlgorithmFamily::Rsa, DecodingKeyKind::RsaModulusExponent { n, e }) => {
                let components = PublicKeyComponents { n, e };
                [
                    (RS256, &RSA_PKCS1_2048_8192_SHA256),
                    (RS384, &RSA_PKCS1_2048_8192_SHA384),
                    (RS512, &RSA_PKCS1_2048_8192_SHA512),
                    (PS256, &RSA_PSS_2048_8192_SHA256),
                    (PS384, &RSA_PSS_2048_8192_SHA384),
                    (PS512, &RSA_PSS_2048_8192_SHA512),
                ]
                .into_iter()
                .filter(|(name, _)| wanted(name))
                .filter_map(|(name, parameters)| {
                    let key = components.to_parsed_public_key(parameters).ok()?;
                    Some((name, SignatureCheck::Public(key)))
                })
                .collect()
            }
            _ => Vec::new(),
        };
        Key {
            checks,
            published_for,
            material,
        }
    }

    /// A DPoP proof's `jwk`, parsed for the proof's `alg` only (an RSA
    /// key is not parsed for the five algorithms it will not check).
    pub(crate) fn for_algorithm(decoding: &DecodingKey, algorithm: Algorithm) -> Key {
        Key::parsed(decoding, PublishedFor::One(algorithm), Some(algorithm))
    }

    /// Whether this key can check signatures by `algorithm`.
    pub(crate) fn checks(&self, algorithm: Algorithm) -> bool {
        self.checks.iter().any(|(name, _)| *name == algorithm)
    }

    /// Whether `signature` is this key's, by `algorithm`, over `message`:
    /// `false` too for an algorithm the key cannot check (a key of another
    /// family than the token's `alg`).
    pub(crate) fn verifies(&self, algorithm: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        match self.checks.iter().find(|(name, _)| *name == algorithm) {
            Some((_, SignatureCheck::Public(key))) => key.verify_sig(message, signature).is_ok(),
            Some((_, SignatureCheck::Hmac(key))) => hmac::verify(key, message, signature).is_ok(),
            None => false,
        }
    }
}

/// A key set, by `kid`; keys without a `kid` under `""`.
#[derive(Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, Arc<Key>>,
    expires: Option<Instant>,
}

impl KeySet {
    /// The keys of a JWKS document that are for signatures and that this
    /// verifier can use; the rest are skipped (RFC 7517 §5).
    pub(crate) fn from_jwks(jwks: &JwkSet) -> KeySet {
        let keys = jwks
            .keys
            .iter()
            .filter(|jwk| is_for_signatures(jwk))
            .filter_map(|jwk| {
                let decoding = DecodingKey::from_jwk(jwk).ok()?;
                let published_for = match jwk.common.key_algorithm {
                    None => PublishedFor::AnyOfFamily,
                    Some(algorithm) => signature_algorithm(algorithm)
                        .map_or(PublishedFor::Other, PublishedFor::One),
                };
                let kid = jwk.common.key_id.clone().unwrap_or_default();
                Some((kid, Arc::new(Key::new(&decoding, published_for))))
            })
            .collect();
        KeySet {
            keys,
            expires: None,
        }
    }

    /// One shared secret.
    pub(crate) fn from_secret(secret: &[u8]) -> Option<KeySet> {
        let key = Key::new(
            &DecodingKey::from_secret(secret).ok()?,
            PublishedFor::AnyOfFamily,
        );
        Some(KeySet {
            keys: HashMap::from([(String::new(), Arc::new(key))]),
            expires: None,
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key for `kid`. A token without a `kid`, or with one a set of a
    /// single key without a `kid` (a shared secret, say) cannot name, gets
    /// that single key.
    fn find(&self, kid: Option<&str>, algorithm: Algorithm) -> Result<Arc<Key>, KeyFailure> {
        let only = || match self.keys.len() {
            1 => self.keys.values().next(),
            _ => None,
        };
        let key = match kid {
            Some(kid) => self.keys.get(kid).or_else(|| self.keys.get("").and(only())),
            None => only(),
        }
        .ok_or(KeyFailure::Unknown)?;
        match key.published_for {
            PublishedFor::AnyOfFamily => Ok(Arc::clone(key)),
            PublishedFor::One(published) if published == algorithm => Ok(Arc::clone(key)),
            PublishedFor::One(_) | PublishedFor::Other => Err(KeyFailure::WrongAlgorithm),
        }
    }

    /// Whether `other` holds the same keys under the same `kid`s: a set
    /// fetched again unchanged keeps what was verified with it, a key
    /// removed, added or replaced under its `kid` does not.
    fn same_keys(&self, other: &KeySet) -> bool {
        self.keys.len() == other.keys.len()
            && self.keys.iter().all(|(kid, key)| {
                other.keys.get(kid).is_some_and(|other| {
                    other.material == key.material && other.published_for == key.published_for
                })
            })
    }
}

/// Whether a JWK may verify signatures: its `use`, when present, is `sig`
/// (RFC 7517 §4.2), and its `key_ops`, when present, hold `verify` (§4.3).
fn is_for_signatures(jwk: &Jwk) -> bool {
    use jsonwebtoken::jwk::{KeyOperations, PublicKeyUse};
    let use_allows = matches!(
        jwk.common.public_key_use,
        None | Some(PublicKeyUse::Signature)
    );
    let operations_allow = jwk
        .common
        .key_operations
        .as_deref()
        .is_none_or(|operations| {
            operations
                .iter()
                .any(|operation| matches!(operation, KeyOperations::Verify))
        });
    use_allows && operations_allow
}

fn signature_algorithm(algorithm: KeyAlgorithm) -> Option<Algorithm> {
    algorithm.to_string().parse().ok()
}

/// Where keys come from, with what a fetch needs.
pub(crate) enum Keys {
    Static(KeySet),
    Issuer(Arc<Remote>),
}

/// An issuer's keys, fetched over `https` (or `http` to a loopback host).
pub(crate) struct Remote {
    issuer: String,
    client: reqwest::Client,
    /// The current set; readers clone the `Arc` and never wait on a fetch.
    current: RwLock<Arc<KeySet>>,
    /// Held by the one fetch under way: a request that misses waits here,
    /// and finds the set the fetch brought.
    fetch: Mutex<FetchState>,
    /// Bumped when a fetch ends, however it ends.
    attempts: AtomicU64,
    /// Bumped when a fetch brings a set with other `kid`s.
    generation: AtomicU64,
}

#[derive(Default)]
struct FetchState {
    jwks_uri: Option<String>,
    /// The issuer's introspection endpoint, if its metadata lists one.
    introspection_endpoint: Option<String>,
    last: Option<Instant>,
    failures: u32,
    last_failed: bool,
}

/// The two discovery documents' fields this verifier reads.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
    introspection_endpoint: Option<String>,
}

impl Keys {
    /// The key for a token's `kid` and `alg`. A `kid` the cached set does
    /// not have costs one fetch (shared by every request that waits on the
    /// same miss, and at most one a second); an expired set is refetched
    /// by the first request that finds it so, while the others go on with
    /// it; an unreachable issuer keeps the cached keys working.
    pub(crate) async fn find(
        &self,
        kid: Option<&str>,
        algorithm: Algorithm,
    ) -> Result<Arc<Key>, KeyFailure> {
        let remote = match self {
            Keys::Static(set) => return set.find(kid, algorithm),
            Keys::Issuer(remote) => remote,
        };
        let seen = remote.attempts.load(Ordering::Acquire);
        let set = remote.current();
        let stale = set.expires.is_none_or(|expires| Instant::now() >= expires);
        match set.find(kid, algorithm) {
            Ok(key) if !stale => return Ok(key),
            Ok(key) => {
                // Refresh in passing if nobody else is; keep the key if the
                // issuer cannot be reached.
                if let Ok(mut state) = remote.fetch.try_lock()
                    && state.last.is_none_or(|last| last.elapsed() >= MIN_INTERVAL)
                    && remote.fetch_now(&mut state).await.is_ok()
                {
                    return remote.current().find(kid, algorithm);
                }
                return Ok(key);
            }
            Err(KeyFailure::WrongAlgorithm) if !stale => return Err(KeyFailure::WrongAlgorithm),
            Err(_) => {}
        }
        let mut state = remote.fetch.lock().await;
        if remote.attempts.load(Ordering::Acquire) == seen {
            // Nobody fetched since this request looked: wait out the
            // interval since the last fetch, then fetch.
            if let Some(last) = state.last {
                sleep_until(last + MIN_INTERVAL).await;
            }
            remote.fetch_now(&mut state).await.ok();
        }
        match remote.current().find(kid, algorithm) {
            Err(KeyFailure::Unknown) if state.last_failed => {
                Err(KeyFailure::Unavailable(retry_after(state.failures)))
            }
            found => found,
        }
    }

    /// Bumped each time the issuer's key set changes, so that what was
    /// verified with the old set is forgotten.
    pub(crate) fn generation(&self) -> u64 {
        match self {
            Keys::Static(_) => 0,
            Keys::Issuer(remote) => remote.generation.load(Ordering::Acquire),
        }
    }

    /// Until when, in seconds since the epoch at `now`, a token verified
    /// now may be taken as verified without asking the keys again: until
    /// the issuer's set is due for a refetch, so that a key the issuer
    /// removed stops verifying the tokens cached with it too, though no
    /// new token came to refetch the set; static keys, for ever.
    pub(crate) fn fresh_until(&self, now: u64) -> u64 {
        let remote = match self {
            Keys::Static(_) => return u64::MAX,
            Keys::Issuer(remote) => remote,
        };
        remote.current().expires.map_or(now, |expires| {
            let left = expires.saturating_duration_since(Instant::now());
            now.saturating_add(left.as_secs())
        })
    }

    /// Whether any key is loaded: for the app's readiness.
    pub(crate) fn loaded(&self) -> bool {
        match self {
            Keys::Static(set) => !set.is_empty(),
            Keys::Issuer(remote) => !remote.current().is_empty(),
        }
    }
}

/// Seconds before a client should try again after a failed fetch: the
/// backoff the failures so far call for, 1 s doubling up to 16 s.
pub(crate) fn retry_after(failures: u32) -> u32 {
    1 << failures.saturating_sub(1).min(4)
}

/// The client every call to the issuer goes through: each call bounded by
/// [`FETCH_TIMEOUT`], and no redirect (one could leave https; the
/// documents' URLs are exact).
pub(crate) fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .connect_timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| format!("cannot make an HTTP client: {error}"))
}

impl Remote {
    pub(crate) fn new(issuer: String) -> Result<Remote, String> {
        let client = http_client()?;
        Ok(Remote {
            issuer,
            client,
            current: RwLock::new(Arc::new(KeySet::default())),
            fetch: Mutex::new(FetchState::default()),
            attempts: AtomicU64::new(0),
            generation: AtomicU64::new(0),
        })
    }

    fn current(&self) -> Arc<KeySet> {
        let current = self
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(&current)
    }

    /// The introspection endpoint the issuer's metadata lists (RFC 8414
    /// §2): `Ok(None)` if it lists none, an error if the metadata could not
    /// be had yet (discovery is tried again at most once a second).
    pub(crate) async fn introspection_endpoint(&self) -> Result<Option<String>, String> {
        let mut state = self.fetch.lock().await;
        if state.jwks_uri.is_none() {
            if state.last.is_some_and(|last| last.elapsed() < MIN_INTERVAL) {
                return Err("the issuer's metadata is not loaded yet".to_owned());
            }
            self.fetch_now(&mut state).await?;
        }
        Ok(state.introspection_endpoint.clone())
    }

    /// Seconds a client should wait after a failed fetch.
    pub(crate) async fn retry_after(&self) -> u32 {
        retry_after(self.fetch.lock().await.failures)
    }

    /// Loads the keys now (discovery first, if not done yet): what the
    /// launch does, for a bounded time.
    pub(crate) async fn load(&self) -> Result<(), String> {
        let mut state = self.fetch.lock().await;
        self.fetch_now(&mut state).await
    }

    /// Fetches the keys until some are loaded, waiting the backoff between
    /// attempts: what runs after a launch that could not load them, so that
    /// readiness recovers without waiting for a token to ask.
    pub(crate) async fn load_until_loaded(self: Arc<Self>) {
        while self.current().is_empty() {
            let failures = self.fetch.lock().await.failures;
            sleep(Duration::from_secs(retry_after(failures).into())).await;
            let mut state = self.fetch.lock().await;
            if self.current().is_empty()
                && state.last.is_none_or(|last| last.elapsed() >= MIN_INTERVAL)
            {
                self.fetch_now(&mut state).await.ok();
            }
        }
    }

    /// Fetches the key set, after discovering its URL if needed; records
    /// the attempt however it ends.
    async fn fetch_now(&self, state: &mut FetchState) -> Result<(), String> {
        let result = self.fetch_set(state).await;
        state.last = Some(Instant::now());
        state.last_failed = result.is_err();
        state.failures = match result {
            Ok(_) => 0,
            Err(_) => state.failures.saturating_add(1),
        };
        let outcome = result.map(|set| {
            let mut current = self
                .current
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if !current.same_keys(&set) {
                self.generation.fetch_add(1, Ordering::AcqRel);
            }
            *current = Arc::new(set);
        });
        self.attempts.fetch_add(1, Ordering::AcqRel);
        outcome
    }

    async fn fetch_set(&self, state: &mut FetchState) -> Result<KeySet, String> {
        let jwks_uri = match &state.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let discovery = self.discover().await?;
                state.introspection_endpoint = discovery.introspection_endpoint;
                state.jwks_uri = Some(discovery.jwks_uri.clone());
                discovery.jwks_uri
            }
        };
        let (body, max_age) = self.get(&jwks_uri).await?;
        let jwks: JwkSet = serde_json::from_slice(&body).map_err(|error| {
            format!("the key set at {jwks_uri} is not a JWKS document: {error}")
        })?;
        let mut set = KeySet::from_jwks(&jwks);
        if set.is_empty() {
            return Err(format!(
                "the key set at {jwks_uri} has no key this verifier can use"
            ));
        }
        set.expires = Some(Instant::now() + max_age);
        Ok(set)
    }

    /// The `jwks_uri` of the issuer's metadata: RFC 8414 §3's well-known
    /// URL first, then OpenID Connect Discovery's; the document's `issuer`
    /// must be the configured one, exactly (RFC 8414 §3.3).
    async fn discover(&self) -> Result<Discovery, String> {
        let mut errors = Vec::new();
        for url in discovery_urls(&self.issuer) {
            let body = match self.get(&url).await {
                Ok((body, _)) => body,
                Err(error) => {
                    errors.push(error);
                    continue;
                }
            };
            let discovery: Discovery = serde_json::from_slice(&body)
                .map_err(|error| format!("the metadata at {url} cannot be read: {error}"))?;
            if discovery.issuer != self.issuer {
                return Err(format!(
                    "the metadata at {url} names the issuer {:?}, not {:?}",
                    discovery.issuer, self.issuer
                ));
            }
            checked_url("jwks_uri", &discovery.jwks_uri).map_err(|error| error.to_string())?;
            if let Some(endpoint) = &discovery.introspection_endpoint {
                checked_url("introspection_endpoint", endpoint)
                    .map_err(|error| error.to_string())?;
            }
            return Ok(discovery);
        }
        // Both URLs tried, both named.
        Err(errors.join("; "))
    }

    /// GETs a document of at most [`MAX_DOCUMENT`] bytes, and how long it
    /// may be kept (`Cache-Control: max-age`, within [`MAX_AGE_BOUNDS`]).
    async fn get(&self, url: &str) -> Result<(Vec<u8>, Duration), String> {
        let mut response = self
            .client
            .get(url)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|error| format!("cannot fetch {url}: {}", without_url(&error)))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        let max_age = max_age(
            response
                .headers()
                .get_all("Cache-Control")
                .iter()
                .filter_map(|value| value.to_str().ok()),
        );
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| format!("cannot read {url}: {}", without_url(&error)))?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT {
                return Err(format!("{url} is larger than {MAX_DOCUMENT} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, max_age))
    }
}

/// reqwest's error without the URL it repeats.
pub(crate) fn without_url(error: &reqwest::Error) -> String {
    use std::error::Error;
    let mut text = error.to_string();
    if let Some(source) = error.source() {
        text = source.to_string();
    }
    text
}

/// RFC 8414 §3.1 inserts the well-known path between the host and the
/// issuer's path; OpenID Connect Discovery §4 appends it.
fn discovery_urls(issuer: &str) -> [String; 2] {
    let issuer = issuer.trim_end_matches('/');
    let (origin, path) = match issuer.find("://").map(|at| at + 3) {
        Some(start) => match issuer[start..].find('/') {
            Some(slash) => issuer.split_at(start + slash),
            None => (issuer, ""),
        },
        None => (issuer, ""),
    };
    [
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!("{issuer}/.well-known/openid-configuration"),
    ]
}

/// The lifetime `Cache-Control` gives: `max-age`, held within the bounds;
/// `no-cache` or `no-store` as the lower bound; none as the default.
fn max_age<'a>(values: impl Iterator<Item = &'a str>) -> Duration {
    let (lower, upper) = MAX_AGE_BOUNDS;
    let mut age = None;
    for directive in values.flat_map(|value| value.split(',')).map(str::trim) {
        let lowercase = directive.to_ascii_lowercase();
        if lowercase == "no-cache" || lowercase == "no-store" {
            return lower;
        }
        if let Some(seconds) = lowercase.strip_prefix("max-age=") {
            age = seconds
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    age.map_or(DEFAULT_MAX_AGE, |age| age.clamp(lower, upper))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use jsonwebtoken::Algorithm;
    use jsonwebtoken::jwk::JwkSet;

    use super::super::settings::ASYMMETRIC;
    use super::{KeyFailure, KeySet, discovery_urls, max_age, retry_after};

    #[test]
    fn discovery_urls_follow_rfc_8414_and_openid_connect() {
        assert_eq!(
            discovery_urls("https://as.example/realms/api"),
            [
                "https://as.example/.well-known/oauth-authorization-server/realms/api",
                "https://as.example/realms/api/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            discovery_urls("http://127.0.0.1:3000"),
            [
                "http://127.0.0.1:3000/.well-known/oauth-authorization-server",
                "http://127.0.0.1:3000/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn cache_control_is_honoured_within_bounds() {
        let age = |values: &[&str]| max_age(values.iter().copied());
        assert_eq!(age(&[]), Duration::from_secs(300));
        assert_eq!(age(&["public, max-age=600"]), Duration::from_secs(600));
        assert_eq!(age(&["max-age=0"]), Duration::from_secs(5));
        assert_eq!(age(&["no-cache"]), Duration::from_secs(5));
        assert_eq!(age(&["max-age=31536000"]), Duration::from_secs(86_400));
        assert_eq!(age(&["max-age=soon"]), Duration::from_secs(300));
    }

    #[test]
    fn a_single_key_without_kid_verifies_any_token_and_a_kid_picks_its_key() {
        let secret = KeySet::from_secret(b"0123456789abcdef0123456789abcdef").expect("a key");
        assert!(secret.find(None, Algorithm::HS256).is_ok());
        assert!(secret.find(Some("any"), Algorithm::HS256).is_ok());
        let jwks: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "oct", "kid": "a", "k": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"},
            {"kty": "oct", "kid": "b", "alg": "HS384", "k": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"}
        ]}))
        .expect("a JWKS");
        let set = KeySet::from_jwks(&jwks);
        assert!(set.find(Some("a"), Algorithm::HS256).is_ok());
        assert_eq!(
            set.find(Some("c"), Algorithm::HS256).err(),
            Some(KeyFailure::Unknown)
        );
        assert_eq!(
            set.find(None, Algorithm::HS256).err(),
            Some(KeyFailure::Unknown)
        );
        assert_eq!(
            set.find(Some("b"), Algorithm::HS256).err(),
            Some(KeyFailure::WrongAlgorithm),
            "a key published for HS384"
        );
    }

    #[test]
    fn a_key_replaced_under_its_kid_makes_another_set_and_a_refetch_the_same() {
        let set = |keys: serde_json::Value| {
            let jwks: JwkSet =
                serde_json::from_value(serde_json::json!({ "keys": keys })).expect("a JWKS");
            KeySet::from_jwks(&jwks)
        };
        let a = serde_json::json!({"kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB"});
        let b = serde_json::json!({"kty": "oct", "kid": "b", "k": "MDEyMzQ1Njc4OWFiY2RlZg"});
        let b_replaced =
            serde_json::json!({"kty": "oct", "kid": "b", "k": "ZmVkY2JhOTg3NjU0MzIxMA"});
        let b_for_hs384 = serde_json::json!({"kty": "oct", "kid": "b", "alg": "HS384",
            "k": "MDEyMzQ1Njc4OWFiY2RlZg"});
        let current = set(serde_json::json!([a, b]));
        assert!(current.same_keys(&set(serde_json::json!([b, a]))));
        assert!(!current.same_keys(&set(serde_json::json!([a, b_replaced]))));
        assert!(!current.same_keys(&set(serde_json::json!([a, b_for_hs384]))));
        assert!(!current.same_keys(&set(serde_json::json!([a]))));
        assert!(
            !current.same_keys(&set(serde_json::json!([a, {"kty": "oct", "kid": "c",
            "k": "MDEyMzQ1Njc4OWFiY2RlZg"}])))
        );
    }

    #[test]
    fn a_key_is_used_only_for_the_signatures_its_jwk_allows() {
        let k = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY";
        let jwks: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "oct", "kid": "any", "k": k},
            {"kty": "oct", "kid": "sig", "use": "sig", "key_ops": ["sign", "verify"], "k": k},
            {"kty": "oct", "kid": "oaep", "alg": "RSA-OAEP", "k": k},
            {"kty": "oct", "kid": "unknown-alg", "alg": "HS1024", "k": k},
            {"kty": "oct", "kid": "enc", "use": "enc", "k": k},
            {"kty": "oct", "kid": "other-use", "use": "tls", "k": k},
            {"kty": "oct", "kid": "encrypt", "key_ops": ["encrypt", "decrypt"], "k": k},
            {"kty": "oct", "kid": "no-ops", "key_ops": [], "k": k}
        ]}))
        .expect("a JWKS");
        let set = KeySet::from_jwks(&jwks);
        for kid in ["any", "sig"] {
            assert!(set.find(Some(kid), Algorithm::HS256).is_ok(), "{kid}");
        }
        // Published for an algorithm that is not a signature this verifier
        // checks: known, and refused for every algorithm of its family.
        for kid in ["oaep", "unknown-alg"] {
            for algorithm in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
                assert_eq!(
                    set.find(Some(kid), algorithm).err(),
                    Some(KeyFailure::WrongAlgorithm),
                    "{kid} {algorithm:?}"
                );
            }
        }
        // Not for signatures at all: skipped, as if not published.
        for kid in ["enc", "other-use", "encrypt", "no-ops"] {
            assert_eq!(
                set.find(Some(kid), Algorithm::HS256).err(),
                Some(KeyFailure::Unknown),
                "{kid}"
            );
        }
    }

    #[test]
    fn each_key_checks_the_algorithms_of_its_family_and_no_other() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
            Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RSA_PSS_SHA512,
        };
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use serde_json::json;

        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let random = SystemRandom::new();
        let message = b"header.claims";
        let mut jwks = Vec::new();
        let mut signatures = Vec::new();
        for (kid, signing, curve, algorithm) in [
            (
                "p256",
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                "P-256",
                Algorithm::ES256,
            ),
            (
                "p384",
                &ECDSA_P384_SHA384_FIXED_SIGNING,
                "P-384",
                Algorithm::ES384,
            ),
        ] {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &random).expect("generated");
            let pair = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref()).expect("a key pair");
            let point = pair.public_key().as_ref();
            let half = (point.len() - 1) / 2;
            jwks.push(json!({"kty": "EC", "kid": kid, "crv": curve,
                "x": b64(&point[1..=half]), "y": b64(&point[1 + half..])}));
            let signature = pair.sign(&random, message).expect("signed");
            signatures.push((kid, algorithm, signature.as_ref().to_vec()));
        }
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&random).expect("generated");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("a key pair");
        jwks.push(json!({"kty": "OKP", "kid": "ed", "crv": "Ed25519",
            "x": b64(pair.public_key().as_ref())}));
        signatures.push(("ed", Algorithm::EdDSA, pair.sign(message).as_ref().to_vec()));
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("an RSA key pair");
        let components = aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        jwks.push(json!({"kty": "RSA", "kid": "rsa",
            "n": b64(&components.n), "e": b64(&components.e)}));
        for (padding, algorithm) in [
            (
                &RSA_PKCS1_SHA256 as &dyn aws_lc_rs::signature::RsaEncoding,
                Algorithm::RS256,
            ),
            (&RSA_PSS_SHA512, Algorithm::PS512),
        ] {
            let mut signature = vec![0; pair.public_modulus_len()];
            pair.sign(padding, &random, message, &mut signature)
                .expect("signed");
            signatures.push(("rsa", algorithm, signature));
        }
        let secret = b"0123456789abcdef0123456789abcdef";
        jwks.push(json!({"kty": "oct", "kid": "hmac", "k": b64(secret)}));
        let tag = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA384, secret),
            message,
        );
        signatures.push(("hmac", Algorithm::HS384, tag.as_ref().to_vec()));

        // A P-521 key, which no algorithm here accepts: kept, so that its
        // kid is known, and verifying nothing.
        jwks.push(json!({"kty": "EC", "kid": "p521", "crv": "P-521",
            "x": b64(&[7; 66]), "y": b64(&[9; 66])}));
        let set: JwkSet = serde_json::from_value(json!({ "keys": jwks })).expect("a JWKS");
        let set = KeySet::from_jwks(&set);
        let p521 = set
            .find(Some("p521"), Algorithm::ES256)
            .expect("a known kid");
        let (_, _, signature) = &signatures[0];
        assert!(!p521.verifies(Algorithm::ES256, message, signature));
        let hmac = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
        let every: Vec<Algorithm> = hmac.into_iter().chain(ASYMMETRIC).collect();
        for (kid, algorithm, signature) in &signatures {
            let key = set.find(Some(kid), *algorithm).expect("the key");
            assert!(
                key.verifies(*algorithm, message, signature),
                "{kid} {algorithm:?}"
            );
            let mut tampered = signature.clone();
            tampered[0] ^= 1;
            assert!(!key.verifies(*algorithm, message, &tampered), "{kid}");
            assert!(
                !key.verifies(*algorithm, b"header.other", signature),
                "{kid}"
            );
            for other in every.iter().filter(|other| *other != algorithm) {
                assert!(
                    !key.verifies(*other, message, signature),
                    "{kid} as {other:?}"
                );
            }
        }
    }

    #[test]
    fn the_backoff_doubles_from_one_second_to_sixteen() {
        let seconds: Vec<u32> = (1..=7).map(retry_after).collect();
        assert_eq!(seconds, [1, 2, 4, 8, 16, 16, 16]);
    }
}
