//! The verifier's configuration, read from the rocket's figment
//! (`Rocket.toml` and `ROCKET_*` variables) and checked before launch.

use std::fmt;
use std::path::PathBuf;

use jsonwebtoken::{Algorithm, AlgorithmFamily};
use rocket::figment::Figment;
use serde::de::DeserializeOwned;

use crate::metadata::checked_url;

/// The leeway on `exp` and `nbf` when none is set: a minute. RFC 9068 and
/// RFC 7519 §4.1.4 allow "some small leeway" and fix none; a minute covers
/// the skew of hosts that keep time (NTP keeps it under a second) with a
/// wide margin, and is small beside access tokens' usual lifetimes (five
/// minutes to an hour). It is also `jsonwebtoken`'s and Spring Security's.
pub(crate) const DEFAULT_LEEWAY: u64 = 60;

/// The most leeway taken: five minutes. A clock further off is broken,
/// and a leeway as long as a token's lifetime would turn the `exp` check
/// off.
const MAX_LEEWAY: u64 = 300;

/// The shortest HMAC secret taken: 256 bits, the output size of HS256's
/// hash (RFC 7518 §3.2).
const MIN_SECRET: usize = 32;

/// Where the keys come from.
pub(crate) enum KeySource {
    /// Discovered from the issuer (RFC 8414, OpenID Connect Discovery).
    Issuer,
    /// A JWKS document read once from a file.
    JwksFile(PathBuf),
    /// A shared secret for HS256, HS384 or HS512.
    Secret(Vec<u8>),
}

/// The checked settings.
pub(crate) struct Settings {
    pub(crate) issuer: Option<String>,
    pub(crate) audience: String,
    pub(crate) leeway: u64,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) accept_plain_jwt: bool,
    pub(crate) keys: KeySource,
    /// DPoP nonces required, made with this secret (RFC 9449 §9).
    pub(crate) dpop_nonce_secret: Option<Vec<u8>>,
    /// The origin clients address, for a DPoP proof's `htu`.
    pub(crate) public_origin: Option<url::Url>,
    pub(crate) introspection: Option<IntrospectionSettings>,
}

/// Opaque tokens asked about at the issuer (RFC 7662).
pub(crate) struct IntrospectionSettings {
    /// `None`: the one the issuer's metadata lists.
    pub(crate) endpoint: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) max_age: u64,
}

/// How long an active introspection answer is kept when no maximum is set:
/// a minute, so that a revoked token stops working within a minute while
/// a client sending it again and again costs the issuer one call a minute.
const DEFAULT_INTROSPECTION_MAX_AGE: u64 = 60;

/// A configuration value the verifier cannot work with: one line naming
/// the key (and, from Figment, where the value came from). It never
/// repeats a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub(crate) fn new(key: &str, problem: impl fmt::Display) -> ConfigError {
        ConfigError(format!("{key}: {problem}"))
    }
}

fn error(key: &str, problem: impl fmt::Display) -> ConfigError {
    ConfigError::new(key, problem)
}

/// The value of `key`, if the figment has one.
fn optional<T: DeserializeOwned>(figment: &Figment, key: &str) -> Result<Option<T>, ConfigError> {
    if !figment.contains(key) {
        return Ok(None);
    }
    figment
        .extract_inner(key)
        .map(Some)
        // Figment's message names the key and the value's source; for a
        // wrong type it shows the type found, not a string's text.
        .map_err(|figment_error| ConfigError(figment_error.to_string().replace('\n', " ")))
}

impl Settings {
    pub(crate) fn from_figment(figment: &Figment) -> Result<Settings, ConfigError> {
        let issuer: Option<String> = optional(figment, "bearer_issuer")?;
        if let Some(issuer) = &issuer {
            checked_url("bearer_issuer", issuer).map_err(|e| ConfigError(e.to_string()))?;
        }
        let audience: String = optional(figment, "bearer_audience")?.ok_or_else(|| {
            error(
                "bearer_audience",
                "missing: the identifier of this resource, which its tokens carry in aud (RFC 8707)",
            )
        })?;
        if audience.is_empty() {
            return Err(error("bearer_audience", "must not be empty"));
        }
        let jwks_file: Option<PathBuf> = optional(figment, "bearer_jwks_file")?;
        // Not through Figment's message, which would show a number's digits.
        let secret: Option<String> = optional(figment, "bearer_hmac_secret")
            .map_err(|_| error("bearer_hmac_secret", "must be a string"))?;
        let keys = match (jwks_file, secret) {
            (Some(_), Some(_)) => {
                return Err(error(
                    "bearer_hmac_secret",
                    "set either bearer_jwks_file or bearer_hmac_secret, not both",
                ));
            }
            (Some(path), None) => KeySource::JwksFile(path),
            (None, Some(secret)) if secret.len() < MIN_SECRET => {
                return Err(error(
                    "bearer_hmac_secret",
                    format!("must be at least {MIN_SECRET} bytes (RFC 7518 section 3.2)"),
                ));
            }
            (None, Some(secret)) => KeySource::Secret(secret.into_bytes()),
            (None, None) if issuer.is_some() => KeySource::Issuer,
            (None, None) => {
                return Err(error(
                    "bearer_issuer",
                    "missing: set the issuer whose keys verify tokens, or static keys (bearer_jwks_file or bearer_hmac_secret)",
                ));
            }
        };
        let symmetric = matches!(keys, KeySource::Secret(_));
        let algorithms = match optional::<Vec<String>>(figment, "bearer_algorithms")? {
            None if symmetric => vec![Algorithm::HS256],
            None => ASYMMETRIC.to_vec(),
            Some(names) => algorithms(&names, symmetric)?,
        };
        // RFC 7518 §3.2: a key at least as long as the hash's output.
        if let KeySource::Secret(secret) = &keys {
            for algorithm in &algorithms {
                let needed = match algorithm {
                    Algorithm::HS384 => 48,
                    Algorithm::HS512 => 64,
                    _ => MIN_SECRET,
                };
                if secret.len() < needed {
                    return Err(error(
                        "bearer_hmac_secret",
                        format!(
                            "must be at least {needed} bytes for {algorithm:?} (RFC 7518 section 3.2)"
                        ),
                    ));
                }
            }
        }
        let leeway = optional(figment, "bearer_leeway")?.unwrap_or(DEFAULT_LEEWAY);
        if leeway > MAX_LEEWAY {
            return Err(error(
                "bearer_leeway",
                format!(
                    "must be at most {MAX_LEEWAY} seconds: a small leeway (RFC 7519 section 4.1.4)"
                ),
            ));
        }
        let dpop_nonce_secret: Option<String> = optional(figment, "bearer_dpop_nonce_secret")
            .map_err(|_| error("bearer_dpop_nonce_secret", "must be a string"))?;
        if dpop_nonce_secret
            .as_ref()
            .is_some_and(|secret| secret.len() < MIN_SECRET)
        {
            return Err(error(
                "bearer_dpop_nonce_secret",
                format!("must be at least {MIN_SECRET} bytes"),
            ));
        }
        let public_origin = match optional::<String>(figment, "bearer_public_origin")? {
            None => None,
            Some(origin) => Some(public_origin(&origin)?),
        };
        let introspection = introspection(figment, issuer.is_some())?;
        Ok(Settings {
            issuer,
            audience,
            leeway,
            algorithms,
            accept_plain_jwt: optional(figment, "bearer_accept_plain_jwt")?.unwrap_or(false),
            keys,
            dpop_nonce_secret: dpop_nonce_secret.map(String::into_bytes),
            public_origin,
            introspection,
        })
    }
}

/// `https://api.example.com`: a scheme, a host and maybe a port, nothing
/// else (http only to a loopback host, as for the issuer).
fn public_origin(origin: &str) -> Result<url::Url, ConfigError> {
    let key = "bearer_public_origin";
    let invalid = || {
        error(
            key,
            format!("{origin:?} must be an origin such as https://api.example.com, without path"),
        )
    };
    checked_url(key, origin).map_err(|e| ConfigError(e.to_string()))?;
    let url = url::Url::parse(origin).map_err(|_| invalid())?;
    if url.path() != "/" || !url.username().is_empty() || url.password().is_some() {
        return Err(invalid());
    }
    Ok(url)
}

/// The introspection settings: a client id and secret together, or
/// neither; an endpoint of its own, or the issuer's to discover.
fn introspection(
    figment: &Figment,
    has_issuer: bool,
) -> Result<Option<IntrospectionSettings>, ConfigError> {
    let client_id: Option<String> = optional(figment, "bearer_introspection_client_id")?;
    let client_secret: Option<String> = optional(figment, "bearer_introspection_client_secret")
        .map_err(|_| error("bearer_introspection_client_secret", "must be a string"))?;
    let endpoint: Option<String> = optional(figment, "bearer_introspection_endpoint")?;
    let max_age: Option<u64> = optional(figment, "bearer_introspection_max_age")?;
    let (client_id, client_secret) = match (client_id, client_secret) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => (id, secret),
        (None, None) if endpoint.is_none() && max_age.is_none() => return Ok(None),
        _ => {
            return Err(error(
                "bearer_introspection_client_id",
                "introspection needs both bearer_introspection_client_id and bearer_introspection_client_secret (RFC 7662 section 2.1)",
            ));
        }
    };
    if let Some(endpoint) = &endpoint {
        checked_url("bearer_introspection_endpoint", endpoint)
            .map_err(|e| ConfigError(e.to_string()))?;
    } else if !has_issuer {
        return Err(error(
            "bearer_introspection_endpoint",
            "missing: set it, or bearer_issuer to discover it",
        ));
    }
    let max_age = max_age.unwrap_or(DEFAULT_INTROSPECTION_MAX_AGE);
    Ok(Some(IntrospectionSettings {
        endpoint,
        client_id,
        client_secret,
        max_age,
    }))
}

/// The algorithms taken with public keys when none are set: every
/// asymmetric one the verifier checks (`keys::Key`).
pub(crate) const ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::EdDSA,
];

/// The allow-list from its names. `none` is no algorithm `jsonwebtoken`
/// knows, so it never parses; HMAC with public keys, or a public-key
/// algorithm with a secret, is refused: a token's `alg` must never make a
/// public key into an HMAC secret (algorithm confusion, RFC 8725 §2.1).
fn algorithms(names: &[String], symmetric: bool) -> Result<Vec<Algorithm>, ConfigError> {
    let key = "bearer_algorithms";
    if names.is_empty() {
        return Err(error(key, "must list at least one algorithm"));
    }
    names
        .iter()
        .map(|name| {
            let algorithm: Algorithm = name.parse().map_err(|_| {
                error(
                    key,
                    format!("{name:?} is not an algorithm this verifier knows"),
                )
            })?;
            match (algorithm.family() == AlgorithmFamily::Hmac, symmetric) {
                (true, false) => Err(error(
                    key,
                    format!("{name} needs a shared secret, and these keys are public"),
                )),
                (false, true) => Err(error(
                    key,
                    format!("{name} needs public keys, and bearer_hmac_secret is a secret"),
                )),
                _ => Ok(algorithm),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rocket::figment::Figment;
    use rocket::figment::providers::Serialized;

    use super::Settings;

    fn settings(pairs: &[(&str, serde_json::Value)]) -> Result<Settings, String> {
        let mut figment = Figment::new();
        for (key, value) in pairs {
            figment = figment.merge(Serialized::default(key, value));
        }
        Settings::from_figment(&figment).map_err(|error| error.to_string())
    }

    #[test]
    fn each_bad_value_is_one_line_naming_its_key_and_never_the_secret() {
        use serde_json::json;
        let issuer = ("bearer_issuer", json!("https://as.example"));
        let audience = ("bearer_audience", json!("https://api.example/"));
        let cases = [
            (
                vec![issuer.clone()],
                "bearer_audience: missing: the identifier of this resource, which its tokens carry in aud (RFC 8707)",
            ),
            (
                vec![audience.clone()],
                "bearer_issuer: missing: set the issuer whose keys verify tokens, or static keys (bearer_jwks_file or bearer_hmac_secret)",
            ),
            (
                vec![
                    ("bearer_issuer", json!("http://as.example")),
                    audience.clone(),
                ],
                r#"bearer_issuer "http://as.example" must be an https URL (http only to a loopback host) without query or fragment"#,
            ),
            (
                vec![
                    audience.clone(),
                    ("bearer_hmac_secret", json!(12345678901234567890u64)),
                ],
                "bearer_hmac_secret: must be a string",
            ),
            (
                vec![
                    issuer.clone(),
                    audience.clone(),
                    ("bearer_algorithms", json!(["HS256"])),
                ],
                "bearer_algorithms: HS256 needs a shared secret, and these keys are public",
            ),
            (
                vec![
                    issuer.clone(),
                    audience.clone(),
                    ("bearer_algorithms", json!(["none"])),
                ],
                r#"bearer_algorithms: "none" is not an algorithm this verifier knows"#,
            ),
            (
                vec![
                    audience.clone(),
                    ("bearer_hmac_secret", json!("short-s3cret")),
                ],
                "bearer_hmac_secret: must be at least 32 bytes (RFC 7518 section 3.2)",
            ),
            (
                vec![
                    audience.clone(),
                    (
                        "bearer_hmac_secret",
                        json!("0123456789abcdef0123456789abcdef"),
                    ),
                    ("bearer_algorithms", json!(["ES256"])),
                ],
                "bearer_algorithms: ES256 needs public keys, and bearer_hmac_secret is a secret",
            ),
            (
                vec![
                    audience.clone(),
                    (
                        "bearer_hmac_secret",
                        json!("0123456789abcdef0123456789abcdef0123456789abcdef"),
                    ),
                    ("bearer_algorithms", json!(["HS256", "HS384", "HS512"])),
                ],
                "bearer_hmac_secret: must be at least 64 bytes for HS512 (RFC 7518 section 3.2)",
            ),
            (
                vec![
                    issuer.clone(),
                    audience.clone(),
                    ("bearer_leeway", json!(301)),
                ],
                "bearer_leeway: must be at most 300 seconds: a small leeway (RFC 7519 section 4.1.4)",
            ),
            (
                vec![
                    issuer.clone(),
                    audience.clone(),
                    ("bearer_dpop_nonce_secret", json!("short-s3cret")),
                ],
                "bearer_dpop_nonce_secret: must be at least 32 bytes",
            ),
            (
                vec![
                    issuer.clone(),
                    audience.clone(),
                    ("bearer_public_origin", json!("https://api.example/v1")),
                ],
                r#"bearer_public_origin: "https://api.example/v1" must be an origin such as https://api.example.com, without path"#,
            ),
            (
                vec![
                    issuer.clone(),
                    audience.clone(),
                    ("bearer_public_origin", json!("http://api.example")),
                ],
                r#"bearer_public_origin "http://api.example" must be an https URL (http only to a loopback host) without query or fragment"#,
            ),
            (
                vec![
                    issuer.clone(),
                    audience.clone(),
                    ("bearer_introspection_client_id", json!("api")),
                ],
                "bearer_introspection_client_id: introspection needs both bearer_introspection_client_id and bearer_introspection_client_secret (RFC 7662 section 2.1)",
            ),
            (
                vec![
                    audience.clone(),
                    (
                        "bearer_hmac_secret",
                        json!("0123456789abcdef0123456789abcdef"),
                    ),
                    ("bearer_introspection_client_id", json!("api")),
                    ("bearer_introspection_client_secret", json!("s3cret")),
                ],
                "bearer_introspection_endpoint: missing: set it, or bearer_issuer to discover it",
            ),
            (
                vec![
                    issuer.clone(),
                    audience.clone(),
                    ("bearer_introspection_client_id", json!("api")),
                    ("bearer_introspection_client_secret", json!("s3cret")),
                    (
                        "bearer_introspection_endpoint",
                        json!("http://as.example/introspect"),
                    ),
                ],
                r#"bearer_introspection_endpoint "http://as.example/introspect" must be an https URL (http only to a loopback host) without query or fragment"#,
            ),
        ];
        for (pairs, expected) in cases {
            let message = settings(&pairs).err().expect("refused");
            assert_eq!(message, expected);
            assert!(!message.contains("s3cret") && !message.contains("1234"));
        }
        let message = settings(&[
            issuer.clone(),
            audience.clone(),
            ("bearer_leeway", json!("soon")),
        ])
        .err()
        .expect("refused");
        assert!(
            message.contains("bearer_leeway") && !message.contains('\n'),
            "{message}"
        );
    }

    #[test]
    fn defaults_are_a_minute_of_leeway_and_the_asymmetric_algorithms_or_hs256() {
        use serde_json::json;
        let audience = ("bearer_audience", json!("https://api.example/"));
        let public = settings(&[
            ("bearer_issuer", json!("https://as.example")),
            audience.clone(),
        ])
        .expect("valid");
        assert_eq!(public.leeway, 60);
        assert!(!public.accept_plain_jwt);
        assert_eq!(public.algorithms.len(), 9);
        let shared = settings(&[
            audience,
            (
                "bearer_hmac_secret",
                json!("0123456789abcdef0123456789abcdef"),
            ),
        ])
        .expect("valid");
        assert_eq!(shared.algorithms, [jsonwebtoken::Algorithm::HS256]);
    }
}
