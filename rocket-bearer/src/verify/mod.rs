//! Verifying access tokens (the `verify` feature): JWTs from an
//! authorization server, checked as RFC 9068 §4 says, their keys discovered
//! from the issuer and rotated with it; opaque tokens by introspection (RFC
//! 7662); Bearer or DPoP-bound with a proof (RFC 9449); every failure one
//! of the library's answers.
//!
//! Three steps: configure the issuer and the audience, attach
//! [`Verifier::fairing`], and take an [`AccessToken`] (or a [`DpopToken`])
//! in the routes that need one, with what the route requires, scope or
//! step-up (RFC 9470), as a [`Requirement`] in its type.
//!
//! ```toml
//! # Rocket.toml
//! [default]
//! bearer_issuer = "https://auth.example.com/realms/api"   # keys discovered from here
//! bearer_audience = "https://api.example.com/"            # this resource, as tokens name it in aud
//! ```
//!
//! ```no_run
//! use rocket::{get, launch, routes};
//! use rocket_bearer::Scope;
//! use rocket_bearer::verify::{AccessToken, Requirement, Verifier};
//!
//! /// The scope `/admin` needs, named in its signature.
//! struct Admin;
//!
//! impl Requirement for Admin {
//!     const SCOPE: Option<Scope> = Some(Scope::from_static("admin"));
//! }
//!
//! #[get("/me")]
//! fn me(token: AccessToken) -> String {
//!     format!("{:?}", token.claims().sub)
//! }
//!
//! #[get("/admin")]
//! fn admin(_token: AccessToken<Admin>) -> &'static str {
//!     "welcome"
//! }
//!
//! #[launch]
//! fn rocket() -> _ {
//!     rocket::build()
//!         .attach(Verifier::fairing())
//!         .mount("/", routes![me, admin])
//!         .register("/", rocket_bearer::catchers())
//! }
//! ```
//!
//! | configuration key | meaning | default |
//! | --- | --- | --- |
//! | `bearer_issuer` | the issuer: tokens' `iss` must equal it; its keys are discovered unless static keys are set | none |
//! | `bearer_audience` | this resource's identifier (RFC 8707): tokens' `aud` must contain it | required |
//! | `bearer_leeway` | seconds of clock skew allowed on `exp` and `nbf`, at most 300 | `60` |
//! | `bearer_algorithms` | the accepted `alg`s | the asymmetric ones; `["HS256"]` with a secret |
//! | `bearer_accept_plain_jwt` | also accept tokens whose `typ` is `JWT` or absent, for servers that do not type access tokens `at+jwt` (another type, such as `logout+jwt`, is still refused) | `false` |
//! | `bearer_jwks_file` | static keys: a JWKS document | none |
//! | `bearer_hmac_secret` | a shared secret, at least 32 bytes (48 for HS384, 64 for HS512), for tests and small setups | none |
//! | `bearer_public_origin` | the origin clients send requests to (`https://api.example.com`), for a DPoP proof's `htu` behind a proxy | `http://` (`https://` with Rocket's TLS) and the `Host` header |
//! | `bearer_dpop_nonce_secret` | DPoP proofs must carry a nonce made with this secret (RFC 9449 §9): at least 32 bytes, the same on every instance | none: no nonce |
//! | `bearer_introspection_client_id`, `bearer_introspection_client_secret` | this resource server's credentials at the issuer: tokens that are not JWTs are introspected (RFC 7662) | none: no introspection |
//! | `bearer_introspection_endpoint` | the introspection endpoint | the issuer's metadata's `introspection_endpoint` |
//! | `bearer_introspection_max_age` | seconds an active answer is kept (never past the token's `exp`); `0` asks the issuer every time | `60` |
//!
//! Each is also a `ROCKET_` variable (`ROCKET_BEARER_ISSUER`). A bad value
//! stops the launch with one line naming the key.

mod cache;
mod claims;
mod dpop;
mod introspection;
mod keys;
mod settings;

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::figment::Figment;
use rocket::http::{Header as HttpHeader, Method, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::tokio::time::timeout;
use rocket::{Build, Ignite, Response, Rocket, Sentinel};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;

use crate::catchers::catchers_missing;
use crate::challenge::{AcrValues, Description, Scheme, Schemes, Scope};
use crate::credentials::{Credentials, is_b64token};
use crate::rejection::{BearerError, Rejection};

pub use claims::{Claims, Confirmation, NoClaims};
pub use settings::ConfigError;

use cache::{TokenHash, VerifiedTokens};
use dpop::{CheckedProof, Proofs};
use introspection::{Endpoint, Introspection};
use keys::{KeyFailure, KeySet, Keys, Remote};
use settings::{KeySource, Settings};

/// How long the launch waits for the issuer's keys before it goes on
/// without them (tokens then get 503 until the issuer answers).
const LAUNCH_WAIT: Duration = Duration::from_secs(3);

/// What a route requires of a token beyond being valid, as a type: name it
/// in [`AccessToken<R>`](AccessToken) or [`DpopToken<R>`](DpopToken), and a
/// token that falls short is refused before the handler runs.
///
/// - `SCOPE`: every scope token it lists must be granted, or 403
///   `insufficient_scope` naming it (RFC 6750 §3.1);
/// - `ACR_VALUES`: the user must have authenticated with one of these
///   classes (`acr`), and
/// - `MAX_AGE`: at most this many seconds ago (`auth_time`, with the
///   leeway), or 401 `insufficient_user_authentication` naming both
///   (step-up, RFC 9470 §3), so that the client asks for a new login.
///
/// Each is `None` unless set.
///
/// ```
/// use rocket_bearer::{AcrValues, Scope};
/// use rocket_bearer::verify::Requirement;
///
/// /// Both scopes (RFC 6749 §3.3: a list, each required).
/// struct ReadWrite;
///
/// impl Requirement for ReadWrite {
///     const SCOPE: Option<Scope> = Some(Scope::from_static("read write"));
/// }
///
/// /// A second factor, within the last five minutes.
/// struct RecentMfa;
///
/// impl Requirement for RecentMfa {
///     const ACR_VALUES: Option<AcrValues> = Some(AcrValues::from_static("mfa"));
///     const MAX_AGE: Option<u64> = Some(300);
/// }
/// ```
pub trait Requirement: Send + Sync + 'static {
    /// Every scope token it lists must be granted.
    const SCOPE: Option<Scope> = None;
    /// The token's `acr` must be one of these.
    const ACR_VALUES: Option<AcrValues> = None;
    /// The token's `auth_time` must be at most this many seconds ago.
    const MAX_AGE: Option<u64> = None;
}

/// Nothing beyond a valid token: the default of [`AccessToken`].
#[derive(Debug, Clone, Copy)]
pub struct NoRequirement;

impl Requirement for NoRequirement {}

/// A request with a verified access token: add this parameter to a handler
/// to require one. `R` is the route's [`Requirement`] (none by default),
/// `C` the app's own claims (see [`Claims`]).
///
/// The token comes as a Bearer token (RFC 6750) or as a DPoP-bound token
/// with its proof (`Authorization: DPoP <token>` and a `DPoP` header, RFC
/// 9449), checked as §4.3 says; a token bound to a DPoP key is refused as
/// a Bearer token (§7.2). For a route that takes DPoP only, see
/// [`DpopToken`].
///
/// Every refusal is one of the library's answers: 401 without an error code
/// for no credentials (with both challenges: `Bearer …, DPoP algs="…"`),
/// 400 `invalid_request` for a malformed `Authorization`, 401
/// `invalid_token` with a description naming the check that failed (and
/// never the token or a claim), 401 `invalid_dpop_proof` or
/// `use_dpop_nonce` for a proof, 401 `insufficient_user_authentication`
/// and 403 `insufficient_scope` for what `R` requires, 503 with
/// `Retry-After` when the issuer cannot be asked. With a required scope,
/// every challenge names it (`scope="admin"`), as the MCP authorization
/// specification asks of a 401. Naming it in a route stops the launch if
/// the catchers or the [`Verifier`] are missing.
pub struct AccessToken<R: Requirement = NoRequirement, C = NoClaims> {
    claims: Claims<C>,
    requirement: PhantomData<fn() -> R>,
}

/// A request with a verified DPoP-bound access token and a valid proof of
/// its key (RFC 9449): add this parameter to a handler that must not take
/// a token that works for whoever holds it. A Bearer token, or a token
/// bound to no key, is refused; every challenge is `DPoP algs="…"`.
/// Otherwise as [`AccessToken`].
pub struct DpopToken<R: Requirement = NoRequirement, C = NoClaims> {
    claims: Claims<C>,
    requirement: PhantomData<fn() -> R>,
}

macro_rules! guard {
    ($name:ident, $accepts:expr) => {
        impl<R: Requirement, C> $name<R, C> {
            /// The token's claims.
            pub fn claims(&self) -> &Claims<C> {
                &self.claims
            }

            /// The token's claims, owned.
            pub fn into_claims(self) -> Claims<C> {
                self.claims
            }
        }

        /// Prints no claim value: see [`Claims`].
        impl<R: Requirement, C> fmt::Debug for $name<R, C> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.claims).finish()
            }
        }

        #[rocket::async_trait]
        impl<'r, R, C> FromRequest<'r> for $name<R, C>
        where
            R: Requirement,
            C: DeserializeOwned + Send + 'static,
        {
            type Error = Rejection;

            async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Rejection> {
                authorize::<R, C>(request, $accepts)
                    .await
                    .map(|claims| $name {
                        claims,
                        requirement: PhantomData,
                    })
            }
        }

        /// A route that takes this guard stops the launch, with an error
        /// naming what is missing, without the library's catchers or a
        /// [`Verifier`].
        impl<R: Requirement, C> Sentinel for $name<R, C> {
            fn abort(rocket: &Rocket<Ignite>) -> bool {
                if rocket.state::<Verifier>().is_none() {
                    rocket::error!(
                        "rocket_bearer: no verifier: attach rocket_bearer::verify::Verifier::fairing()"
                    );
                    return true;
                }
                catchers_missing(rocket)
            }
        }
    };
}

guard!(AccessToken, Accepts::BearerOrDpop);
guard!(DpopToken, Accepts::DpopOnly);

/// The schemes a guard takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accepts {
    BearerOrDpop,
    DpopOnly,
}

/// What `Authorization` holds, read for both schemes.
enum Presented<'r> {
    Missing,
    Token(Scheme, &'r str),
    Malformed(BearerError, Option<Scheme>),
}

const NO_DPOP_TOKEN: Description = Description::from_static("no token after DPoP");
const NOT_TOKEN68: Description =
    Description::from_static("the token is not a token68 of RFC 9449 section 7.1");

impl<'r> Presented<'r> {
    fn read(request: &'r Request<'_>) -> Presented<'r> {
        let mut values = request.headers().get("Authorization");
        let value = match (values.next(), values.next()) {
            (None, _) => return Presented::Missing,
            // Which one counts is ambiguous: an error on every challenge.
            (Some(_), Some(_)) => {
                return Presented::Malformed(crate::Malformed::Repeated.rejection(), None);
            }
            (Some(value), None) => value,
        };
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        if scheme.eq_ignore_ascii_case("DPoP") {
            let malformed = |description| {
                let error = Rejection::invalid_request().with_description(description);
                Presented::Malformed(error, Some(Scheme::Dpop))
            };
            return match token.trim_start_matches(' ') {
                "" => malformed(NO_DPOP_TOKEN),
                token if is_b64token(token) => Presented::Token(Scheme::Dpop, token),
                _ => malformed(NOT_TOKEN68),
            };
        }
        match Credentials::parse(value) {
            Credentials::Bearer(token) => Presented::Token(Scheme::Bearer, token.as_str()),
            Credentials::Malformed(malformed) => {
                Presented::Malformed(malformed.rejection(), Some(Scheme::Bearer))
            }
            Credentials::Missing | Credentials::OtherScheme => Presented::Missing,
        }
    }
}

/// The nonce the answer to a DPoP request carries in `DPoP-Nonce`, set by
/// the guard and written by the verifier's response fairing.
#[derive(Default)]
struct NonceToSend(Mutex<Option<String>>);

/// What both guards do: read the credentials, check the proof for DPoP,
/// verify the token, its binding and what `R` requires.
async fn authorize<R, C>(request: &Request<'_>, accepts: Accepts) -> Outcome<Claims<C>, Rejection>
where
    R: Requirement,
    C: DeserializeOwned,
{
    // Never taken: the Sentinel stops the launch without a verifier.
    let Some(verifier) = request.rocket().state::<Verifier>() else {
        return Outcome::Forward(Status::InternalServerError);
    };
    let refuse = |rejection: Rejection, used: Option<Scheme>| {
        // Every challenge names the scope the route requires (MCP asks it
        // of a 401, RFC 6750 §3 allows it on any).
        let rejection = match R::SCOPE {
            Some(scope) => rejection.with_required_scope(scope),
            None => rejection,
        };
        let schemes = Schemes {
            bearer: accepts == Accepts::BearerOrDpop,
            dpop: true,
            used,
        };
        rejection.with_schemes(schemes).reject(request)
    };
    let missing = || {
        // The nonce too, so that the client's first DPoP request can carry it.
        send_nonce(request, verifier, jsonwebtoken::get_current_timestamp());
        refuse(Rejection::missing_credentials(), None)
    };
    let (scheme, token) = match Presented::read(request) {
        // A DPoP-only route takes Bearer credentials as none (RFC 6750 §3.1).
        Presented::Token(Scheme::Bearer, _) | Presented::Malformed(_, Some(Scheme::Bearer))
            if accepts == Accepts::DpopOnly =>
        {
            return missing();
        }
        Presented::Token(scheme, token) => (scheme, token),
        Presented::Missing => return missing(),
        Presented::Malformed(error, used) => return refuse(error.into(), used),
    };
    let now = jsonwebtoken::get_current_timestamp();
    let failed = |failure: Failure| refuse(verifier.rejection(failure), Some(scheme));
    let proof = match scheme {
        Scheme::Bearer => None,
        Scheme::Dpop => {
            send_nonce(request, verifier, now);
            let mut proofs = request.headers().get("DPoP");
            let proof = match (proofs.next(), proofs.next()) {
                (Some(proof), None) => proof,
                (None, _) => return failed(Failure::ProofMissing),
                (Some(_), Some(_)) => return failed(Failure::ProofRepeated),
            };
            match verifier.proofs.check(proof, request, now) {
                Ok(proof) => Some(proof),
                Err(failure) => return failed(failure),
            }
        }
    };
    let claims: Claims<C> = match verifier.verified_claims(token).await {
        Ok(claims) => claims,
        Err(failure) => return failed(failure),
    };
    if let Err(failure) = binding(proof.as_ref(), &claims, token) {
        return failed(failure);
    }
    if let Some(proof) = &proof
        && let Err(failure) = verifier.proofs.first_use(proof, now)
    {
        return failed(failure);
    }
    if let Some(error) = verifier.step_up::<R, C>(&claims, now) {
        return refuse(error.into(), Some(scheme));
    }
    if let Some(scope) = R::SCOPE {
        let granted = scope
            .as_str()
            .split(' ')
            .all(|needed| claims.scope.contains(needed));
        if !granted {
            return refuse(Rejection::insufficient_scope(scope).into(), Some(scheme));
        }
    }
    Outcome::Success(claims)
}

/// RFC 9449 §8, §9: an answer that may lead to a DPoP request (one to a
/// DPoP request, a refusal without credentials) carries the nonce to use,
/// when nonces are required.
fn send_nonce(request: &Request<'_>, verifier: &Verifier, now: u64) {
    if let Some(nonce) = verifier.proofs.current_nonce(now) {
        let cell = request.local_cache(NonceToSend::default);
        *cell.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(nonce);
    }
}

/// The token's binding checked against the proof (RFC 9449 §4.3, check
/// 12; §7.2): a bound token only with a proof of its key, made for it; a
/// proof only with a bound token.
fn binding<C>(
    proof: Option<&CheckedProof>,
    claims: &Claims<C>,
    token: &str,
) -> Result<(), Failure> {
    // Bound by another method (an mTLS certificate, RFC 8705 §3), or by
    // DPoP and something else: a binding this resource cannot check
    // (RFC 7800 §3.1), so the token is not taken at all.
    if claims.cnf.as_ref().is_some_and(|cnf| !cnf.is_dpop_only()) {
        return Err(Failure::UncheckableBinding);
    }
    let bound_to = claims.cnf.as_ref().and_then(|cnf| cnf.jkt.as_deref());
    match (proof, bound_to) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(Failure::BoundTokenAsBearer),
        (Some(_), None) => Err(Failure::NotBound),
        (Some(proof), Some(_)) if !proof.is_for(token) => Err(Failure::ProofWrongToken),
        (Some(proof), Some(jkt)) if proof.thumbprint != jkt => Err(Failure::WrongKey),
        (Some(_), Some(_)) => Ok(()),
    }
}

/// Verifies tokens: the configuration, the keys and the tokens already
/// verified. The rocket manages one once [`Verifier::fairing`] is attached;
/// a handler or a guard of your own can take it as `&State<Verifier>`, to
/// verify a token read elsewhere or to report readiness.
pub struct Verifier {
    keys: Keys,
    /// The allow-list (RFC 8725 §3.1): never `none`, never HMAC with
    /// public keys (settings.rs refuses both).
    algorithms: Vec<Algorithm>,
    /// Seconds allowed on `exp` and `nbf` for clocks that differ.
    leeway: u64,
    accept_plain_jwt: bool,
    issuer: Option<String>,
    audience: String,
    /// "the token is not signed with ES256 or …", from the allow-list.
    not_accepted: Description,
    verified: VerifiedTokens,
    proofs: Proofs,
    introspection: Option<Introspection>,
}

/// Names what it checks against, never a key or a secret.
impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("keys_loaded", &self.keys_loaded())
            .field("dpop_nonces", &self.proofs.nonces_required())
            .field("introspection", &self.introspection)
            .finish_non_exhaustive()
    }
}

/// The header fields read before any key is chosen.
#[derive(Deserialize)]
struct Header {
    alg: String,
    typ: Option<String>,
    kid: Option<String>,
    /// Extensions the verifier must understand (RFC 7515 §4.1.11): it
    /// understands none, so a token that lists any is refused.
    crit: Option<Value>,
}

/// Why a token is refused: each is one answer, in [`Failure::rejection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Undecodable,
    NotAccessToken,
    AlgorithmNotAccepted,
    UnknownKey,
    BadSignature,
    Expired,
    NotYetValid,
    WrongAudience,
    WrongIssuer,
    NoExp,
    NoAud,
    NoIss,
    UnreadableClaims,
    Unavailable(u32),
    /// RFC 7662 §2.2: `active: false`.
    Inactive,
    /// RFC 7800 §3.1: a `cnf` other than DPoP's `jkt`.
    UncheckableBinding,
    // RFC 9449: the token's binding to a key.
    BoundTokenAsBearer,
    NotBound,
    WrongKey,
    // RFC 9449 §4.3: the proof.
    ProofMissing,
    ProofRepeated,
    ProofNotJwt,
    ProofNotDpopType,
    ProofAlgorithmNotAccepted,
    ProofClaimMissing,
    ProofKeyUnusable,
    ProofKeyPrivate,
    ProofBadSignature,
    ProofWrongMethod,
    ProofWrongUrl,
    ProofOutsideWindow,
    ProofReplayed,
    ProofWrongToken,
    // RFC 9449 §9: the nonce.
    NonceMissing,
    NonceStale,
}

const UNDECODABLE: Description = Description::from_static("the token cannot be decoded as a JWT");
const NOT_ACCESS_TOKEN: Description =
    Description::from_static("the token is not an access token (typ at+jwt, RFC 9068)");
const UNKNOWN_KEY: Description =
    Description::from_static("the token is signed with a key this resource does not know (kid)");
const BAD_SIGNATURE: Description = Description::from_static("the token's signature does not match");
const EXPIRED: Description = Description::from_static("the token has expired");
const NOT_YET_VALID: Description = Description::from_static("the token is not valid yet (nbf)");
const WRONG_AUDIENCE: Description =
    Description::from_static("the token is not meant for this resource (aud)");
const WRONG_ISSUER: Description =
    Description::from_static("the token is from another issuer (iss)");
const NO_EXP: Description = Description::from_static("the token has no exp claim");
const NO_AUD: Description = Description::from_static("the token has no aud claim");
const NO_ISS: Description = Description::from_static("the token has no iss claim");
const UNREADABLE_CLAIMS: Description =
    Description::from_static("the token's claims are not those this resource reads");
const INACTIVE: Description =
    Description::from_static("the token is not active: expired, revoked or unknown (RFC 7662)");
const BOUND_TOKEN_AS_BEARER: Description = Description::from_static(
    "the token is bound to a DPoP key: send it with the DPoP scheme and a proof",
);
const UNCHECKABLE_BINDING: Description =
    Description::from_static("the token is bound by a method this resource cannot check (cnf)");
const NOT_BOUND: Description =
    Description::from_static("the token is not bound to a DPoP key (cnf.jkt)");
const WRONG_KEY: Description =
    Description::from_static("the token is bound to another key than the DPoP proof's (cnf.jkt)");
const PROOF_MISSING: Description =
    Description::from_static("the DPoP scheme needs a DPoP proof header");
const PROOF_REPEATED: Description =
    Description::from_static("send one DPoP proof header, not several");
const PROOF_NOT_JWT: Description =
    Description::from_static("the DPoP proof cannot be decoded as a JWT");
const PROOF_NOT_DPOP_TYPE: Description =
    Description::from_static("the DPoP proof is not typed dpop+jwt");
const PROOF_ALGORITHM_NOT_ACCEPTED: Description =
    Description::from_static("the DPoP proof is not signed with an algorithm of algs");
const PROOF_CLAIM_MISSING: Description =
    Description::from_static("the DPoP proof lacks one of jti, htm, htu, iat and ath");
const PROOF_KEY_UNUSABLE: Description =
    Description::from_static("the DPoP proof's jwk is not a public key for its alg");
const PROOF_KEY_PRIVATE: Description =
    Description::from_static("the DPoP proof's jwk holds a private key");
const PROOF_BAD_SIGNATURE: Description =
    Description::from_static("the DPoP proof's signature does not match its jwk");
const PROOF_WRONG_METHOD: Description =
    Description::from_static("the DPoP proof is for another method (htm)");
const PROOF_WRONG_URL: Description =
    Description::from_static("the DPoP proof is for another URL (htu)");
const PROOF_OUTSIDE_WINDOW: Description =
    Description::from_static("the DPoP proof was not made within 60 seconds of now (iat)");
const PROOF_REPLAYED: Description =
    Description::from_static("the DPoP proof was used before (jti)");
const PROOF_WRONG_TOKEN: Description =
    Description::from_static("the DPoP proof is for another token (ath)");
const NONCE_MISSING: Description =
    Description::from_static("the DPoP proof must carry the nonce sent in DPoP-Nonce");
const NONCE_STALE: Description =
    Description::from_static("the DPoP proof's nonce is not current: use the one in DPoP-Nonce");
const ACR_NOT_ACCEPTED: Description = Description::from_static(
    "the user did not authenticate with a class this resource accepts (acr)",
);
const AUTH_TOO_OLD: Description =
    Description::from_static("the user authenticated too long ago for this resource (auth_time)");
const NO_AUTH_TIME: Description =
    Description::from_static("the token does not say when the user authenticated (auth_time)");

impl Failure {
    fn rejection(self, not_accepted: &Description) -> Rejection {
        let proof = |description| Rejection::invalid_dpop_proof().with_description(description);
        let nonce = |description| Rejection::use_dpop_nonce().with_description(description);
        let description = match self {
            Failure::Unavailable(seconds) => return Rejection::unavailable(seconds),
            Failure::ProofMissing => return proof(PROOF_MISSING).into(),
            Failure::ProofRepeated => return proof(PROOF_REPEATED).into(),
            Failure::ProofNotJwt => return proof(PROOF_NOT_JWT).into(),
            Failure::ProofNotDpopType => return proof(PROOF_NOT_DPOP_TYPE).into(),
            Failure::ProofAlgorithmNotAccepted => {
                return proof(PROOF_ALGORITHM_NOT_ACCEPTED).into();
            }
            Failure::ProofClaimMissing => return proof(PROOF_CLAIM_MISSING).into(),
            Failure::ProofKeyUnusable => return proof(PROOF_KEY_UNUSABLE).into(),
            Failure::ProofKeyPrivate => return proof(PROOF_KEY_PRIVATE).into(),
            Failure::ProofBadSignature => return proof(PROOF_BAD_SIGNATURE).into(),
            Failure::ProofWrongMethod => return proof(PROOF_WRONG_METHOD).into(),
            Failure::ProofWrongUrl => return proof(PROOF_WRONG_URL).into(),
            Failure::ProofOutsideWindow => return proof(PROOF_OUTSIDE_WINDOW).into(),
            Failure::ProofReplayed => return proof(PROOF_REPLAYED).into(),
            Failure::ProofWrongToken => return proof(PROOF_WRONG_TOKEN).into(),
            Failure::NonceMissing => return nonce(NONCE_MISSING).into(),
            Failure::NonceStale => return nonce(NONCE_STALE).into(),
            Failure::Inactive => INACTIVE,
            Failure::BoundTokenAsBearer => BOUND_TOKEN_AS_BEARER,
            Failure::NotBound => NOT_BOUND,
            Failure::UncheckableBinding => UNCHECKABLE_BINDING,
            Failure::WrongKey => WRONG_KEY,
            Failure::Undecodable => UNDECODABLE,
            Failure::NotAccessToken => NOT_ACCESS_TOKEN,
            Failure::AlgorithmNotAccepted => not_accepted.clone(),
            Failure::UnknownKey => UNKNOWN_KEY,
            Failure::BadSignature => BAD_SIGNATURE,
            Failure::Expired => EXPIRED,
            Failure::NotYetValid => NOT_YET_VALID,
            Failure::WrongAudience => WRONG_AUDIENCE,
            Failure::WrongIssuer => WRONG_ISSUER,
            Failure::NoExp => NO_EXP,
            Failure::NoAud => NO_AUD,
            Failure::NoIss => NO_ISS,
            Failure::UnreadableClaims => UNREADABLE_CLAIMS,
        };
        Rejection::invalid_token()
            .with_description(description)
            .into()
    }
}

impl From<KeyFailure> for Failure {
    fn from(failure: KeyFailure) -> Failure {
        match failure {
            KeyFailure::Unknown => Failure::UnknownKey,
            KeyFailure::WrongAlgorithm => Failure::AlgorithmNotAccepted,
            KeyFailure::Unavailable(seconds) => Failure::Unavailable(seconds),
        }
    }
}

impl Verifier {
    /// The fairing that reads the configuration when the rocket ignites,
    /// loads the keys (waiting at most 3 s for an issuer) and manages the
    /// verifier. A bad value stops the launch with one line naming the key.
    ///
    /// It also writes `DPoP-Nonce` on the answers to DPoP requests when
    /// nonces are required (RFC 9449 §9).
    pub fn fairing() -> impl Fairing {
        VerifierFairing
    }

    /// A verifier configured from `figment`, for an app that builds it
    /// itself (the keys are loaded as by [`fairing`](Verifier::fairing)).
    pub async fn from_figment(figment: &Figment) -> Result<Verifier, ConfigError> {
        let settings = Settings::from_figment(figment)?;
        let keys = match &settings.keys {
            KeySource::Secret(secret) => {
                Keys::Static(KeySet::from_secret(secret).ok_or_else(|| {
                    ConfigError::new("bearer_hmac_secret", "cannot be used as a key")
                })?)
            }
            KeySource::JwksFile(path) => {
                let text = std::fs::read(path).map_err(|error| {
                    ConfigError::new(
                        "bearer_jwks_file",
                        format!("cannot read {}: {error}", path.display()),
                    )
                })?;
                let jwks: JwkSet = serde_json::from_slice(&text).map_err(|error| {
                    ConfigError::new(
                        "bearer_jwks_file",
                        format!("{} is not a JWKS document: {error}", path.display()),
                    )
                })?;
                let set = KeySet::from_jwks(&jwks);
                if set.is_empty() {
                    return Err(ConfigError::new(
                        "bearer_jwks_file",
                        format!("{} has no key this verifier can use", path.display()),
                    ));
                }
                Keys::Static(set)
            }
            KeySource::Issuer => {
                let issuer = settings.issuer.clone().unwrap_or_default();
                let remote = Remote::new(issuer.clone())
                    .map_err(|error| ConfigError::new("bearer_issuer", error))?;
                let remote = Arc::new(remote);
                let problem = match timeout(LAUNCH_WAIT, remote.load()).await {
                    Ok(Ok(())) => None,
                    Ok(Err(error)) => Some(error),
                    Err(_) => Some(format!("no answer within {}s", LAUNCH_WAIT.as_secs())),
                };
                if let Some(problem) = problem {
                    rocket::warn!(
                        "rocket_bearer: keys of {issuer} not loaded at launch ({problem}); tokens get 503 until the issuer answers"
                    );
                    rocket::tokio::spawn(Arc::clone(&remote).load_until_loaded());
                }
                Keys::Issuer(remote)
            }
        };
        let introspection = match &settings.introspection {
            None => None,
            Some(introspection) => {
                Some(Verifier::introspection(&settings, introspection, &keys).await?)
            }
        };
        Ok(Verifier::new(settings, keys, introspection))
    }

    /// The introspection client: its endpoint as configured, or as the
    /// issuer's metadata lists it (checked at launch when the issuer
    /// answers, else when the first opaque token comes).
    async fn introspection(
        settings: &Settings,
        introspection: &settings::IntrospectionSettings,
        keys: &Keys,
    ) -> Result<Introspection, ConfigError> {
        let key = "bearer_introspection_endpoint";
        let discovered = |issuer| async move {
            Endpoint::discovered(issuer, LAUNCH_WAIT)
                .await
                .map_err(|()| {
                    ConfigError::new(
                        key,
                        "missing: the issuer's metadata lists no introspection_endpoint",
                    )
                })
        };
        let endpoint = match (&introspection.endpoint, keys) {
            (Some(endpoint), _) => Endpoint::configured(endpoint.clone()),
            (None, Keys::Issuer(remote)) => discovered(Arc::clone(remote)).await?,
            (None, Keys::Static(_)) => {
                let issuer = settings.issuer.clone().unwrap_or_default();
                let remote = Remote::new(issuer).map_err(|error| ConfigError::new(key, error))?;
                discovered(Arc::new(remote)).await?
            }
        };
        let introspection = Introspection::new(
            endpoint,
            introspection.client_id.clone(),
            introspection.client_secret.clone(),
            introspection.max_age,
        )
        .map_err(|error| ConfigError::new(key, error))?;
        if let Ok(true) = timeout(LAUNCH_WAIT, introspection.refuses_credentials()).await {
            return Err(ConfigError::new(
                "bearer_introspection_client_secret",
                "the introspection endpoint refuses these credentials (bearer_introspection_client_id and this secret)",
            ));
        }
        Ok(introspection)
    }

    fn new(settings: Settings, keys: Keys, introspection: Option<Introspection>) -> Verifier {
        let names: Vec<String> = settings
            .algorithms
            .iter()
            .map(|a| format!("{a:?}"))
            .collect();
        let not_accepted = Description::new(format!(
            "the token is not signed with {}",
            names.join(" or ")
        ))
        .unwrap_or(UNDECODABLE);
        Verifier {
            keys,
            algorithms: settings.algorithms,
            leeway: settings.leeway,
            accept_plain_jwt: settings.accept_plain_jwt,
            issuer: settings.issuer,
            audience: settings.audience,
            not_accepted,
            verified: VerifiedTokens::new(),
            proofs: Proofs::new(
                settings.dpop_nonce_secret.as_deref(),
                settings.public_origin,
            ),
            introspection,
        }
    }

    /// The answer to `failure`.
    fn rejection(&self, failure: Failure) -> Rejection {
        failure.rejection(&self.not_accepted)
    }

    /// What the token's authentication falls short of in `R`'s
    /// requirements (RFC 9470 §3), if anything: the refusal names all of
    /// them, the description the first that failed.
    fn step_up<R: Requirement, C>(&self, claims: &Claims<C>, now: u64) -> Option<BearerError> {
        let acr_accepted = R::ACR_VALUES.as_ref().is_none_or(|values| {
            claims
                .acr
                .as_deref()
                .is_some_and(|acr| values.as_str().split(' ').any(|value| value == acr))
        });
        let shortfall = match (acr_accepted, R::MAX_AGE, claims.auth_time) {
            (false, _, _) => ACR_NOT_ACCEPTED,
            (true, None, _) => return None,
            (true, Some(_), None) => NO_AUTH_TIME,
            (true, Some(max_age), Some(auth_time)) => {
                let limit = auth_time
                    .saturating_add(max_age)
                    .saturating_add(self.leeway);
                if now <= limit {
                    return None;
                }
                AUTH_TOO_OLD
            }
        };
        Some(
            Rejection::insufficient_user_authentication(R::ACR_VALUES, R::MAX_AGE)
                .with_description(shortfall),
        )
    }

    /// Whether keys are loaded, for the app's readiness: `false` while an
    /// issuer has not answered yet.
    pub fn keys_loaded(&self) -> bool {
        self.keys.loaded()
    }

    /// The claims of Bearer token `token` once verified, or the reason
    /// it is refused: what [`AccessToken`] does after reading a Bearer
    /// token, for a guard of your own. A token bound to a key (`cnf`: DPoP
    /// and any other binding) is refused, since no proof of the key comes
    /// with it (RFC 9449 §7.2): take DPoP-bound tokens with
    /// [`AccessToken`] or [`DpopToken`].
    pub async fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<Claims<C>, Rejection> {
        self.verified_claims(token)
            .await
            .and_then(|claims| binding(None, &claims, token).map(|()| claims))
            .map_err(|failure| failure.rejection(&self.not_accepted))
    }

    async fn verified_claims<C: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Claims<C>, Failure> {
        let now = jsonwebtoken::get_current_timestamp();
        let generation = self.keys.generation();
        let hash = TokenHash::of(token);
        if let Some(json) = self.verified.get(&hash, generation, now) {
            return read_claims(&json);
        }
        let header = match (read_header(token), &self.introspection) {
            (Ok(header), _) => header,
            // Not a JWT: an opaque token, which only its issuer can read.
            (Err(_), Some(introspection)) => {
                let json = introspection.claims(token, now).await?;
                let claims: Claims<C> =
                    serde_json::from_slice(&json).map_err(|_| unreadable(&json))?;
                self.check(&claims, now)?;
                return Ok(claims);
            }
            (Err(failure), None) => return Err(failure),
        };
        if !is_access_token_type(header.typ.as_deref(), self.accept_plain_jwt) {
            return Err(Failure::NotAccessToken);
        }
        let algorithm = header
            .alg
            .parse::<Algorithm>()
            .ok()
            .filter(|algorithm| self.algorithms.contains(algorithm))
            .ok_or(Failure::AlgorithmNotAccepted)?;
        let key = self.keys.find(header.kid.as_deref(), algorithm).await?;
        let (message, signature) = token.rsplit_once('.').ok_or(Failure::Undecodable)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| Failure::Undecodable)?;
        if !key.verifies(algorithm, message.as_bytes(), &signature) {
            return Err(Failure::BadSignature);
        }
        // Only a signed payload is read: once, into the route's claims,
        // which the checks below then read too.
        let json = signed_claims(token)?;
        let claims: Claims<C> = serde_json::from_slice(&json).map_err(|_| unreadable(&json))?;
        self.check(&claims, now)?;
        // Under the generation the key came from: a set that changed since
        // empties the cache at the next lookup.
        let until = claims.exp.min(self.keys.fresh_until(now));
        self.verified.insert(hash, generation, now, until, json);
        Ok(claims)
    }

    /// The registered claims RFC 9068 §4 requires a resource to check,
    /// in this order (`exp` is present, or the claims were not read):
    /// `aud` and `iss` present (an empty `iss` is none: an issuer is a URL,
    /// RFC 8414 §2), the time before `exp` and not before `nbf`, each with
    /// the leeway (RFC 7519 §4.1.4, §4.1.5), `iss` equal
    /// to the configured issuer, `aud` naming this resource (RFC 8707).
    fn check<C>(&self, claims: &Claims<C>, now: u64) -> Result<(), Failure> {
        if claims.aud.is_empty() {
            return Err(Failure::NoAud);
        }
        if self.issuer.is_some() && claims.iss.is_empty() {
            return Err(Failure::NoIss);
        }
        // Valid only before `exp`: at `exp` plus the leeway, expired.
        if now >= claims.exp.saturating_add(self.leeway) {
            return Err(Failure::Expired);
        }
        if claims
            .nbf()
            .is_some_and(|nbf| nbf > now.saturating_add(self.leeway))
        {
            return Err(Failure::NotYetValid);
        }
        if self
            .issuer
            .as_ref()
            .is_some_and(|issuer| claims.iss != *issuer)
        {
            return Err(Failure::WrongIssuer);
        }
        if !claims.aud.contains(&self.audience) {
            return Err(Failure::WrongAudience);
        }
        Ok(())
    }
}

/// Reads the configuration at ignition and manages the [`Verifier`]; writes
/// `DPoP-Nonce` on answers to DPoP requests.
struct VerifierFairing;

#[rocket::async_trait]
impl Fairing for VerifierFairing {
    fn info(&self) -> Info {
        Info {
            name: "rocket_bearer::Verifier",
            kind: Kind::Ignite | Kind::Request | Kind::Response,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        match Verifier::from_figment(rocket.figment()).await {
            Ok(verifier) => Ok(rocket.manage(verifier)),
            Err(error) => {
                rocket::error!("rocket_bearer: invalid configuration: {error}");
                Err(rocket)
            }
        }
    }

    /// Notes a `HEAD` before Rocket routes it as a `GET`, for a proof's
    /// `htm`.
    async fn on_request(&self, request: &mut Request<'_>, _: &mut rocket::Data<'_>) {
        if request.method() == Method::Head {
            request.local_cache(|| dpop::SentMethod(Some(Method::Head)));
        }
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let nonces = request
            .rocket()
            .state::<Verifier>()
            .is_some_and(|verifier| verifier.proofs.nonces_required());
        if !nonces {
            return;
        }
        let cell = request.local_cache(NonceToSend::default);
        let nonce = cell.0.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(nonce) = nonce {
            response.set_header(HttpHeader::new("DPoP-Nonce", nonce));
        }
    }
}

/// The claims as the token signed them: its second part, decoded from
/// base64url (RFC 7515 §7.1), whose signature has just been checked.
fn signed_claims(token: &str) -> Result<Arc<[u8]>, Failure> {
    let payload = token.split('.').nth(1).ok_or(Failure::Undecodable)?;
    URL_SAFE_NO_PAD
        .decode(payload)
        .map(Arc::from)
        .map_err(|_| Failure::Undecodable)
}

/// The claims a route reads, standard and its own.
fn read_claims<C: DeserializeOwned>(json: &[u8]) -> Result<Claims<C>, Failure> {
    serde_json::from_slice(json).map_err(|_| Failure::UnreadableClaims)
}

/// Why signed claims could not be read: no `exp` at all (RFC 9068 §2.2
/// requires it), or claims the route's type does not accept.
fn unreadable(json: &[u8]) -> Failure {
    /// The one claim a token cannot go without, looked for alone.
    #[derive(Deserialize)]
    struct Exp {
        exp: Option<IgnoredAny>,
    }
    match serde_json::from_slice::<Exp>(json) {
        Ok(Exp { exp: None }) => Failure::NoExp,
        _ => Failure::UnreadableClaims,
    }
}

/// The JOSE header, read without trusting it: three parts, the first
/// base64url JSON naming `alg`, and no `crit`.
fn read_header(token: &str) -> Result<Header, Failure> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Failure::Undecodable);
    };
    let json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| Failure::Undecodable)?;
    let header: Header = serde_json::from_slice(&json).map_err(|_| Failure::Undecodable)?;
    match header.crit {
        Some(_) => Err(Failure::Undecodable),
        None => Ok(header),
    }
}

/// Whether a token's `typ` is an access token's: `at+jwt`, or its full
/// media type, in any letter case (RFC 9068 §2.1, RFC 7515 §4.1.9); and,
/// when plain JWTs are accepted, `JWT` or none (RFC 7519 §5.1). Never the
/// type of another kind of JWT (`logout+jwt`, `secevent+jwt`): a token
/// typed for another use is refused whatever the setting (RFC 8725 §3.11).
fn is_access_token_type(typ: Option<&str>, accept_plain_jwt: bool) -> bool {
    let is_one_of = |types: [&str; 2]| {
        typ.is_some_and(|typ| types.iter().any(|name| typ.eq_ignore_ascii_case(name)))
    };
    is_one_of(["at+jwt", "application/at+jwt"])
        || accept_plain_jwt && (typ.is_none() || is_one_of(["JWT", "application/jwt"]))
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use rocket::figment::Figment;
    use serde::Deserialize;
    use serde_json::json;

    use super::cache::TokenHash;
    use super::{Failure, NoClaims, Verifier, is_access_token_type, read_header};

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const AUDIENCE: &str = "https://api.example/";

    /// The app's own claim, beside the standard ones.
    #[derive(Deserialize)]
    struct Tenant {
        tenant: String,
    }

    /// A claim the token does not carry.
    #[derive(Deserialize, Debug)]
    struct Missing {
        #[allow(dead_code)]
        department: String,
    }

    async fn verifier() -> Verifier {
        let figment = Figment::new()
            .merge(("bearer_hmac_secret", SECRET))
            .merge(("bearer_audience", AUDIENCE));
        Verifier::from_figment(&figment)
            .await
            .expect("a valid configuration")
    }

    /// An HS256 access token with these claims, valid for ten minutes.
    fn token(claims: serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("at+jwt".to_owned());
        let mut claims = claims;
        claims["aud"] = json!(AUDIENCE);
        claims["exp"] = json!(jsonwebtoken::get_current_timestamp() + 600);
        let key = EncodingKey::from_secret(SECRET.as_bytes()).expect("an HMAC key");
        jsonwebtoken::encode(&header, &claims, &key).expect("a signed token")
    }

    #[rocket::async_test]
    async fn a_token_seen_again_is_read_from_the_cache_with_the_same_claims() {
        let verifier = verifier().await;
        let token = token(json!({"sub": "alice", "scope": "read write", "tenant": "acme"}));
        for _ in 0..2 {
            let claims = verifier
                .verified_claims::<Tenant>(&token)
                .await
                .expect("verified");
            assert_eq!(claims.sub.as_deref(), Some("alice"));
            assert_eq!(claims.scope.iter().collect::<Vec<_>>(), ["read", "write"]);
            assert_eq!(claims.aud, [AUDIENCE]);
            assert_eq!(claims.extra.tenant, "acme");
        }
        // What is kept is the JSON the token signed, under the token's hash.
        let now = jsonwebtoken::get_current_timestamp();
        let kept = verifier
            .verified
            .get(&TokenHash::of(&token), 0, now)
            .expect("the token is kept");
        let signed = token.split('.').nth(1).expect("a payload");
        assert_eq!(
            &kept[..],
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signed)
                .expect("base64url")
        );
    }

    #[rocket::async_test]
    async fn a_token_that_names_a_claim_twice_is_refused() {
        // RFC 7519 §4: claim names are unique; a parser either rejects a
        // duplicate or takes the last one. Rejecting leaves no doubt about
        // which scope was granted.
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let exp = jsonwebtoken::get_current_timestamp() + 600;
        let claims = format!(
            r#"{{"sub":"alice","scope":"read","scope":"admin","aud":"{AUDIENCE}","exp":{exp}}}"#
        );
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"at+jwt"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let key = EncodingKey::from_secret(SECRET.as_bytes()).expect("an HMAC key");
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).expect("signed");
        let token = format!("{message}.{signature}");
        let verifier = verifier().await;
        let claims = verifier
            .verified_claims::<super::NoClaims>(&token)
            .await
            .map(|claims| claims.scope);
        assert_eq!(claims.err(), Some(Failure::UnreadableClaims));
    }

    #[rocket::async_test]
    async fn claims_a_route_cannot_read_are_refused_whether_first_seen_or_cached() {
        let verifier = verifier().await;
        let first_seen = token(json!({"sub": "alice"}));
        assert_eq!(
            verifier.verified_claims::<Missing>(&first_seen).await.err(),
            Some(Failure::UnreadableClaims)
        );
        let cached = token(json!({"sub": "bob"}));
        let claims = verifier.verified_claims::<Tenant>(&cached).await;
        assert_eq!(claims.err(), Some(Failure::UnreadableClaims));
        let claims = verifier.verified_claims::<super::NoClaims>(&cached).await;
        assert_eq!(claims.map(|c| c.sub).ok().flatten().as_deref(), Some("bob"));
        assert_eq!(
            verifier.verified_claims::<Missing>(&cached).await.err(),
            Some(Failure::UnreadableClaims)
        );
    }

    #[rocket::async_test]
    async fn each_registered_claim_is_checked_with_a_minute_of_leeway() {
        const ISSUER: &str = "https://as.example";
        let figment = Figment::new()
            .merge(("bearer_hmac_secret", SECRET))
            .merge(("bearer_audience", AUDIENCE))
            .merge(("bearer_issuer", ISSUER))
            .merge(("bearer_leeway", 60));
        let verifier = Verifier::from_figment(&figment).await.expect("valid");
        let now = jsonwebtoken::get_current_timestamp();
        let key = EncodingKey::from_secret(SECRET.as_bytes()).expect("an HMAC key");
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("at+jwt".to_owned());
        let valid = json!({"iss": ISSUER, "aud": AUDIENCE, "exp": now + 600, "sub": "alice"});
        let cases = [
            (json!({}), Ok(())),
            (json!({"aud": ["https://other.example/", AUDIENCE]}), Ok(())),
            (json!({"exp": now - 59}), Ok(())),
            (json!({"exp": now - 61}), Err(Failure::Expired)),
            (json!({"nbf": now + 59}), Ok(())),
            (json!({"nbf": now + 61}), Err(Failure::NotYetValid)),
            (json!({"exp": null}), Err(Failure::NoExp)),
            (json!({"exp": "soon"}), Err(Failure::UnreadableClaims)),
            (json!({"nbf": "soon"}), Err(Failure::UnreadableClaims)),
            (json!({"aud": null}), Err(Failure::NoAud)),
            (json!({"aud": []}), Err(Failure::NoAud)),
            (json!({"iss": null}), Err(Failure::NoIss)),
            (json!({"iss": ""}), Err(Failure::NoIss)),
            (
                json!({"iss": "https://as.example/"}),
                Err(Failure::WrongIssuer),
            ),
            (json!({"iss": [ISSUER]}), Err(Failure::UnreadableClaims)),
            (
                json!({"aud": "https://other.example/"}),
                Err(Failure::WrongAudience),
            ),
            (
                json!({"aud": ["https://other.example/"]}),
                Err(Failure::WrongAudience),
            ),
            // In the order of RFC 9068 §4: expiry before issuer and audience.
            (
                json!({"exp": now - 61, "iss": "x", "aud": "y"}),
                Err(Failure::Expired),
            ),
            (json!({"iss": "x", "aud": "y"}), Err(Failure::WrongIssuer)),
        ];
        for (changes, expected) in cases {
            // The valid claims, with these changed (null: removed).
            let mut claims = valid.as_object().expect("an object").clone();
            for (name, value) in changes.as_object().expect("an object") {
                match value {
                    serde_json::Value::Null => claims.remove(name),
                    value => claims.insert(name.clone(), value.clone()),
                };
            }
            let token = jsonwebtoken::encode(&header, &claims, &key).expect("a signed token");
            let verified = verifier.verified_claims::<super::NoClaims>(&token).await;
            assert_eq!(verified.map(|_| ()), expected, "{changes}");
        }
    }

    #[rocket::async_test]
    async fn a_token_expires_at_exp_plus_the_leeway_and_is_valid_from_nbf_less_it() {
        const NOW: u64 = 1_000_000;
        for leeway in [0, 60] {
            let figment = Figment::new()
                .merge(("bearer_hmac_secret", SECRET))
                .merge(("bearer_audience", AUDIENCE))
                .merge(("bearer_leeway", leeway));
            let verifier = Verifier::from_figment(&figment).await.expect("valid");
            let cases = [
                (json!({"exp": NOW - leeway}), Err(Failure::Expired)),
                (json!({"exp": NOW - leeway + 1}), Ok(())),
                (json!({"exp": NOW + 1, "nbf": NOW + leeway}), Ok(())),
                (
                    json!({"exp": NOW + 1, "nbf": NOW + leeway + 1}),
                    Err(Failure::NotYetValid),
                ),
            ];
            for (times, expected) in cases {
                let mut claims = json!({"aud": AUDIENCE});
                for (name, value) in times.as_object().expect("an object") {
                    claims[name] = value.clone();
                }
                let claims: super::Claims = serde_json::from_value(claims).expect("claims");
                assert_eq!(
                    verifier.check(&claims, NOW),
                    expected,
                    "{times}, leeway {leeway}"
                );
            }
        }
    }

    #[rocket::async_test]
    async fn verify_takes_bearer_tokens_only_and_no_binding_it_cannot_check() {
        let verifier = verifier().await;
        let cases = [
            (json!({}), Ok(())),
            (
                json!({"cnf": {"jkt": "abc"}}),
                Err(Failure::BoundTokenAsBearer),
            ),
            (
                json!({"cnf": {"x5t#S256": "abc"}}),
                Err(Failure::UncheckableBinding),
            ),
            (
                json!({"cnf": {"jkt": "abc", "x5t#S256": "abc"}}),
                Err(Failure::UncheckableBinding),
            ),
            (json!({"cnf": {}}), Err(Failure::UncheckableBinding)),
        ];
        for (claims, expected) in cases {
            let token = token(claims.clone());
            let refused = verifier.verify::<NoClaims>(&token).await.err();
            let expected = expected
                .err()
                .map(|failure| failure.rejection(&verifier.not_accepted));
            assert_eq!(refused, expected, "{claims}");
        }
    }

    #[test]
    fn the_header_is_read_before_any_key_and_crit_is_refused() {
        // {"alg":"none"}, {"alg":"ES256","crit":["b64"]}
        let none = "eyJhbGciOiJub25lIn0.e30.";
        assert_eq!(
            read_header(none).map(|h| h.alg).ok().as_deref(),
            Some("none")
        );
        let crit = "eyJhbGciOiJFUzI1NiIsImNyaXQiOlsiYjY0Il19.e30.c2ln";
        assert_eq!(read_header(crit).err(), Some(Failure::Undecodable));
        for garbage in ["", "a.b", "a.b.c.d", "!!!.e30.c2ln"] {
            assert_eq!(
                read_header(garbage).err(),
                Some(Failure::Undecodable),
                "{garbage}"
            );
        }
    }

    #[rocket::async_test]
    async fn the_plain_jwt_setting_admits_jwt_and_untyped_tokens_and_no_other_type() {
        let key = EncodingKey::from_secret(SECRET.as_bytes()).expect("an HMAC key");
        let claims = json!({"aud": AUDIENCE, "exp": jsonwebtoken::get_current_timestamp() + 600});
        let typed = |typ: Option<&str>| {
            let mut header = Header::new(Algorithm::HS256);
            header.typ = typ.map(str::to_owned);
            jsonwebtoken::encode(&header, &claims, &key).expect("a signed token")
        };
        for accept_plain_jwt in [false, true] {
            let figment = Figment::new()
                .merge(("bearer_hmac_secret", SECRET))
                .merge(("bearer_audience", AUDIENCE))
                .merge(("bearer_accept_plain_jwt", accept_plain_jwt));
            let verifier = Verifier::from_figment(&figment).await.expect("valid");
            let plain = if accept_plain_jwt {
                Ok(())
            } else {
                Err(Failure::NotAccessToken)
            };
            for (typ, expected) in [
                (Some("at+jwt"), Ok(())),
                (Some("JWT"), plain),
                (None, plain),
                (Some("logout+jwt"), Err(Failure::NotAccessToken)),
            ] {
                let verified = verifier.verified_claims::<NoClaims>(&typed(typ)).await;
                assert_eq!(
                    verified.map(|_| ()),
                    expected,
                    "{typ:?}, accept_plain_jwt {accept_plain_jwt}"
                );
            }
        }
    }

    #[test]
    fn an_access_token_is_typed_at_jwt_and_a_plain_jwt_only_when_accepted() {
        for typ in ["at+jwt", "AT+JWT", "application/at+jwt"] {
            assert!(is_access_token_type(Some(typ), false), "{typ}");
            assert!(is_access_token_type(Some(typ), true), "{typ}");
        }
        for typ in [None, Some("JWT"), Some("jwt"), Some("application/JWT")] {
            assert!(!is_access_token_type(typ, false), "{typ:?}");
            assert!(is_access_token_type(typ, true), "{typ:?}");
        }
        for typ in ["at+jwt2", "logout+jwt", "secevent+jwt", "dpop+jwt", ""] {
            assert!(!is_access_token_type(Some(typ), false), "{typ}");
            assert!(!is_access_token_type(Some(typ), true), "{typ}");
        }
    }
}
