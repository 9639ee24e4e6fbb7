//! DPoP proofs (RFC 9449): the checks of §4.3 on the `DPoP` header, the
//! server nonces of §9, and the replay check of §11.1.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use rocket::http::Method;
use rocket::request::Request;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::Failure;
use super::keys::Key;

// The algorithms a proof may be signed with, as the DPoP challenge's
// `algs` lists them (`challenge::DPOP_ALGS`, RFC 9449 §7.1): every
// asymmetric one the verifier checks, never `none` or HMAC (§4.3, check 5).
use super::settings::ASYMMETRIC as ALGORITHMS;

/// How far a proof's `iat` may be from the server's clock, either way
/// (§4.3, check 11; §11.1): a proof is made for one request, at once, so a
/// minute covers the skew of clocks that keep time, and bounds how long a
/// proof can be replayed elsewhere.
pub(crate) const PROOF_WINDOW: u64 = 60;

/// A nonce names the 30-second step it was issued in, and is accepted in
/// that step and the three after it: 90 to 120 seconds.
const NONCE_STEP: u64 = 30;
const NONCE_STEPS_ACCEPTED: u64 = 3;

/// How many proofs one instance remembers: each until its `iat` leaves
/// the window (one to two minutes, by buckets of a minute), so enough for
/// 8,000 DPoP requests a second, more than one instance verifies (two
/// signatures each); about 32 bytes each, 32 MiB if ever full. When it is
/// full of proofs still in the window, new proofs get 503 rather than an
/// unchecked replay.
const SEEN_CAPACITY: usize = 1 << 20;

/// Members of a JWK that only a private key has (RFC 7518 §6.2.2, §6.3.2,
/// §6.4.1; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The proof's header fields read (RFC 9449 §4.2).
#[derive(Deserialize)]
struct Header {
    typ: Option<String>,
    alg: String,
    jwk: Option<Value>,
    crit: Option<Value>,
}

/// The proof's claims read (RFC 9449 §4.2).
#[derive(Deserialize)]
struct Claims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<u64>,
    ath: Option<String>,
    nonce: Option<String>,
}

/// A proof that passed every check that does not need the token: what the
/// token is then checked against (§4.3, check 12).
pub(crate) struct CheckedProof {
    /// The `ath` claim: the base64url SHA-256 of the token it was made for.
    ath: String,
    /// The RFC 7638 thumbprint of the proof's key, as `cnf.jkt` names it.
    pub(crate) thumbprint: String,
    jti: String,
    iat: u64,
}

impl CheckedProof {
    /// Whether the proof was made for `token` (`ath`, RFC 9449 §4.2).
    pub(crate) fn is_for(&self, token: &str) -> bool {
        let hash = URL_SAFE_NO_PAD.encode(digest(&SHA256, token.as_bytes()));
        verify_slices_are_equal(hash.as_bytes(), self.ath.as_bytes()).is_ok()
    }
}

/// What checks proofs: nonces when required, the proofs seen, and the
/// origin clients address.
pub(crate) struct Proofs {
    nonces: Option<Nonces>,
    seen: SeenProofs,
    /// The scheme, host and port clients send requests to, when set
    /// (`bearer_public_origin`); else `http(s)://` and the `Host` header.
    public_origin: Option<Url>,
}

impl Proofs {
    pub(crate) fn new(nonce_secret: Option<&[u8]>, public_origin: Option<Url>) -> Proofs {
        Proofs {
            nonces: nonce_secret.map(Nonces::new),
            seen: SeenProofs::default(),
            public_origin,
        }
    }

    /// Whether proofs must carry a nonce of this server's.
    pub(crate) fn nonces_required(&self) -> bool {
        self.nonces.is_some()
    }

    /// The nonce to send now, when nonces are required.
    pub(crate) fn current_nonce(&self, now: u64) -> Option<String> {
        self.nonces.as_ref().map(|nonces| nonces.issue(now))
    }

    /// The checks of RFC 9449 §4.3 on `proof` for `request`, at `now`, but
    /// for those that need the verified token (`ath` and the key binding):
    /// one JWT typed `dpop+jwt`, signed with an accepted asymmetric
    /// algorithm by the public key its header carries, for this method and
    /// URL, made within [`PROOF_WINDOW`], with a current nonce when nonces
    /// are required. Whether it was seen before is [`Proofs::first_use`]'s,
    /// once the token is verified.
    pub(crate) fn check(
        &self,
        proof: &str,
        request: &Request<'_>,
        now: u64,
    ) -> Result<CheckedProof, Failure> {
        let mut parts = proof.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Failure::ProofNotJwt);
        };
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| Failure::ProofNotJwt)
        };
        let header: Header =
            serde_json::from_slice(&decode(header)?).map_err(|_| Failure::ProofNotJwt)?;
        let claims: Claims =
            serde_json::from_slice(&decode(claims)?).map_err(|_| Failure::ProofNotJwt)?;
        let signature = decode(signature)?;
        if header.crit.is_some() {
            return Err(Failure::ProofNotJwt);
        }
        if !header
            .typ
            .as_deref()
            .is_some_and(|typ| typ.eq_ignore_ascii_case("dpop+jwt"))
        {
            return Err(Failure::ProofNotDpopType);
        }
        let algorithm = header
            .alg
            .parse::<Algorithm>()
            .ok()
            .filter(|algorithm| ALGORITHMS.contains(algorithm))
            .ok_or(Failure::ProofAlgorithmNotAccepted)?;
        let (Some(jti), Some(htm), Some(htu), Some(iat), Some(ath)) =
            (claims.jti, claims.htm, claims.htu, claims.iat, claims.ath)
        else {
            return Err(Failure::ProofClaimMissing);
        };
        let jwk = header.jwk.ok_or(Failure::ProofKeyUnusable)?;
        if PRIVATE_MEMBERS
            .iter()
            .any(|member| jwk.get(member).is_some())
        {
            return Err(Failure::ProofKeyPrivate);
        }
        let thumbprint = thumbprint(&jwk, algorithm).ok_or(Failure::ProofKeyUnusable)?;
        let jwk: Jwk = serde_json::from_value(jwk).map_err(|_| Failure::ProofKeyUnusable)?;
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|_| Failure::ProofKeyUnusable)?;
        // Parsed for the proof's algorithm only: an RSA key is not parsed
        // six times for one signature.
        let key = Key::for_algorithm(&decoding, algorithm);
        if !key.checks(algorithm) {
            return Err(Failure::ProofKeyUnusable);
        }
        let (message, _) = proof.rsplit_once('.').ok_or(Failure::ProofNotJwt)?;
        if !key.verifies(algorithm, message.as_bytes(), &signature) {
            return Err(Failure::ProofBadSignature);
        }
        if htm != sent_method(request).as_str() {
            return Err(Failure::ProofWrongMethod);
        }
        if !self.is_request_url(&htu, request) {
            return Err(Failure::ProofWrongUrl);
        }
        if iat.abs_diff(now) > PROOF_WINDOW {
            return Err(Failure::ProofOutsideWindow);
        }
        if let Some(nonces) = &self.nonces {
            match claims.nonce {
                None => return Err(Failure::NonceMissing),
                Some(nonce) if !nonces.accepts(&nonce, now) => return Err(Failure::NonceStale),
                Some(_) => {}
            }
        }
        Ok(CheckedProof {
            ath,
            thumbprint,
            jti,
            iat,
        })
    }

    /// Records a proof whose token was verified and bound to its key, so
    /// that it is never accepted again on this instance (§11.1). Recorded
    /// only then: a client without a token cannot fill the record, nor use
    /// up another client's proof by sending it with a junk token first.
    pub(crate) fn first_use(&self, proof: &CheckedProof, now: u64) -> Result<(), Failure> {
        self.seen
            .first_time(&proof.thumbprint, &proof.jti, proof.iat, now)
    }

    /// Whether `htu` is the URL of `request` as the client addressed it,
    /// without query and fragment (§4.3, check 9), compared after the
    /// normalization of RFC 3986 §6.2.2 and §6.2.3 (letter case of scheme
    /// and host, default port, dot segments), as the WHATWG URL parser
    /// does it.
    fn is_request_url(&self, htu: &str, request: &Request<'_>) -> bool {
        let Ok(htu) = Url::parse(htu) else {
            return false;
        };
        let path = request.uri().path();
        // Rocket routes on the path as sent, where `/x/../me` is not `/me`:
        // a proof for `/me` must not open the route that takes `/x/../me`.
        if has_dot_segment(path.as_str()) {
            return false;
        }
        // Appended, not joined: a path such as `//other.example/x` must
        // not become another host.
        let expected = match &self.public_origin {
            Some(origin) => {
                let origin = origin.as_str().trim_end_matches('/');
                Url::parse(&format!("{origin}{path}")).ok()
            }
            None => {
                let scheme = match request.rocket().config().tls_enabled() {
                    true => "https",
                    false => "http",
                };
                let host = request.host().map(ToString::to_string);
                host.and_then(|host| Url::parse(&format!("{scheme}://{host}{path}")).ok())
            }
        };
        expected.is_some_and(|expected| {
            htu.scheme() == expected.scheme()
                && htu.host_str() == expected.host_str()
                && htu.port_or_known_default() == expected.port_or_known_default()
                && htu.path() == expected.path()
        })
    }
}

/// The method the client sent: Rocket answers a `HEAD` with no route of its
/// own as a `GET`, after the verifier's request fairing noted the `HEAD`.
fn sent_method(request: &Request<'_>) -> Method {
    request
        .local_cache(|| SentMethod(None))
        .0
        .unwrap_or_else(|| request.method())
}

/// A request's method as received, noted when Rocket may change it.
pub(crate) struct SentMethod(pub(crate) Option<Method>);

/// Whether a path has a `.` or `..` segment, plain or percent-encoded.
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let decoded = segment.replace("%2e", ".").replace("%2E", ".");
        decoded == "." || decoded == ".."
    })
}

/// The key's RFC 7638 thumbprint (SHA-256, base64url), from the JWK as the
/// client sent it: its required members, in lexicographic order, as JSON
/// without whitespace; `None` for a key whose `kty` (and `crv`) does not
/// fit the proof's `alg`.
fn thumbprint(jwk: &Value, algorithm: Algorithm) -> Option<String> {
    let member = |name: &str| jwk.get(name)?.as_str();
    let (kty, members): (&str, &[&str]) = match algorithm {
        Algorithm::ES256 if member("crv")? == "P-256" => ("EC", &["crv", "kty", "x", "y"]),
        Algorithm::ES384 if member("crv")? == "P-384" => ("EC", &["crv", "kty", "x", "y"]),
        Algorithm::EdDSA if member("crv")? == "Ed25519" => ("OKP", &["crv", "kty", "x"]),
        Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512
        | Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512 => ("RSA", &["e", "kty", "n"]),
        _ => return None,
    };
    if member("kty")? != kty {
        return None;
    }
    let mut canonical = String::from("{");
    for (at, name) in members.iter().enumerate() {
        let value = serde_json::to_string(member(name)?).ok()?;
        if at > 0 {
            canonical.push(',');
        }
        canonical.extend(["\"", name, "\":", &value]);
    }
    canonical.push('}');
    Some(URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes())))
}

/// Nonces no instance needs to remember (RFC 9449 §9): the step of time
/// they were issued in and an HMAC of it under a secret the instances
/// share. Any instance accepts any instance's nonce while it is current,
/// and every instance issues the same nonce in the same step.
struct Nonces {
    key: hmac::Key,
    /// The nonce of the current step, made once per step.
    current: Mutex<(u64, String)>,
}

impl Nonces {
    fn new(secret: &[u8]) -> Nonces {
        Nonces {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            current: Mutex::new((u64::MAX, String::new())),
        }
    }

    /// The MAC of a step: 128 bits of HMAC-SHA256, domain-separated.
    fn mac(&self, step: u64) -> [u8; 16] {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(b"rocket-bearer DPoP nonce\0");
        context.update(&step.to_be_bytes());
        let mut mac = [0; 16];
        mac.copy_from_slice(&context.sign().as_ref()[..16]);
        mac
    }

    fn issue(&self, now: u64) -> String {
        let step = now / NONCE_STEP;
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if current.0 != step {
            let mut bytes = step.to_be_bytes().to_vec();
            bytes.extend_from_slice(&self.mac(step));
            *current = (step, URL_SAFE_NO_PAD.encode(bytes));
        }
        current.1.clone()
    }

    /// Whether `nonce` was issued by an instance sharing the secret, in
    /// this step or the [`NONCE_STEPS_ACCEPTED`] before it (or the next
    /// one, for an instance whose clock is a little ahead).
    fn accepts(&self, nonce: &str, now: u64) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(nonce) else {
            return false;
        };
        let Some((step, mac)) = bytes.split_first_chunk::<8>() else {
            return false;
        };
        let step = u64::from_be_bytes(*step);
        let current = now / NONCE_STEP;
        step <= current.saturating_add(1)
            && current.saturating_sub(step) <= NONCE_STEPS_ACCEPTED
            && verify_slices_are_equal(mac, &self.mac(step)).is_ok()
    }
}

/// The proofs this instance has accepted, by key and `jti`, in buckets of
/// [`PROOF_WINDOW`] seconds of their `iat`: a bucket goes whole once the
/// `iat` check refuses all its proofs (§11.1), so forgetting costs nothing
/// per proof and a full record is never scanned.
#[derive(Default)]
struct SeenProofs {
    buckets: Mutex<BTreeMap<u64, HashSet<[u8; 16]>>>,
}

impl SeenProofs {
    /// Records a proof made at `iat`; [`Failure::ProofReplayed`] if it
    /// was seen before, unavailable when the record is full of proofs still
    /// in the window.
    fn first_time(&self, thumbprint: &str, jti: &str, iat: u64, now: u64) -> Result<(), Failure> {
        // By key too: a client cannot use up another's jti.
        let hash = digest(&SHA256, format!("{thumbprint}.{jti}").as_bytes());
        let mut id = [0; 16];
        id.copy_from_slice(&hash.as_ref()[..16]);
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A bucket whose last iat is before now - window holds no proof
        // that could be accepted again.
        while let Some((&first, _)) = buckets.first_key_value() {
            if (first + 1) * PROOF_WINDOW > now.saturating_sub(PROOF_WINDOW) {
                break;
            }
            buckets.pop_first();
        }
        let bucket = iat / PROOF_WINDOW;
        if buckets.get(&bucket).is_some_and(|ids| ids.contains(&id)) {
            return Err(Failure::ProofReplayed);
        }
        if buckets.values().map(HashSet::len).sum::<usize>() >= SEEN_CAPACITY {
            return Err(Failure::Unavailable(1));
        }
        buckets.entry(bucket).or_default().insert(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rocket::http::uri::{Authority, Host};
    use rocket::local::blocking::Client;
    use url::Url;

    use jsonwebtoken::Algorithm;

    use super::{Failure, NONCE_STEP, Nonces, Proofs, SeenProofs, has_dot_segment, thumbprint};

    #[test]
    fn a_proof_names_the_request_s_path_on_the_public_origin_or_on_its_host() {
        let client = Client::untracked(rocket::build()).expect("a rocket");
        let origin = Url::parse("https://api.example").expect("a URL");
        let public = Proofs::new(None, Some(origin));
        let by_host = Proofs::new(None, None);
        let mut request = client.get("/me?page=2");
        let authority = Authority::parse("127.0.0.1:8000").expect("an authority");
        request.inner_mut().set_host(Host::from(authority));
        let request = request.inner();
        for htu in [
            "https://api.example/me",
            "HTTPS://API.EXAMPLE:443/me?other=1#top",
        ] {
            assert!(public.is_request_url(htu, request), "{htu}");
        }
        for htu in [
            "http://api.example/me",
            "https://api.example:8443/me",
            "https://api.example/me/",
            "https://api.example/ME",
            "https://127.0.0.1:8000/me",
            "/me",
            "not a URL",
        ] {
            assert!(!public.is_request_url(htu, request), "{htu}");
        }
        assert!(by_host.is_request_url("http://127.0.0.1:8000/me", request));
        assert!(!by_host.is_request_url("https://127.0.0.1:8000/me", request));
        // A path that would read as another host once joined.
        let sneaky = client.get("//other.example/me");
        let sneaky = sneaky.inner();
        assert!(!public.is_request_url("https://other.example/me", sneaky));
        assert!(public.is_request_url("https://api.example//other.example/me", sneaky));
    }

    #[test]
    fn the_challenge_lists_the_algorithms_proofs_are_checked_with() {
        let names: Vec<String> = super::ALGORITHMS
            .iter()
            .map(|algorithm| format!("{algorithm:?}"))
            .collect();
        assert_eq!(names.join(" "), crate::challenge::DPOP_ALGS);
    }

    #[test]
    fn a_nonce_is_accepted_by_any_instance_with_the_secret_for_up_to_two_minutes() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let (one, other) = (Nonces::new(secret), Nonces::new(secret));
        let now = 1_000_000 * NONCE_STEP;
        let nonce = one.issue(now);
        assert_eq!(other.issue(now + NONCE_STEP - 1), nonce, "the same step");
        for later in [0, 1, 3 * NONCE_STEP, 4 * NONCE_STEP - 1] {
            assert!(other.accepts(&nonce, now + later), "{later} s later");
        }
        assert!(!other.accepts(&nonce, now + 4 * NONCE_STEP), "expired");
        assert!(
            other.accepts(&nonce, now - NONCE_STEP),
            "a clock a step behind"
        );
        assert!(!other.accepts(&nonce, now - 2 * NONCE_STEP));
        let stranger = Nonces::new(b"another secret, another instance");
        assert!(!stranger.accepts(&nonce, now), "another secret");
        for garbage in ["", "abc", "!!!!", &nonce[1..]] {
            assert!(!other.accepts(garbage, now), "{garbage}");
        }
    }

    #[test]
    fn a_proof_is_accepted_once_per_key_while_its_window_lasts() {
        let seen = SeenProofs::default();
        assert_eq!(seen.first_time("key", "jti-1", 100, 100), Ok(()));
        let again = |now| seen.first_time("key", "jti-1", 100, now);
        assert_eq!(again(150), Err(Failure::ProofReplayed));
        assert_eq!(seen.first_time("other key", "jti-1", 100, 150), Ok(()));
        assert_eq!(seen.first_time("key", "jti-2", 100, 150), Ok(()));
        // Kept while the iat check could take it (iat + 60), and until its
        // bucket (iat 60 to 119) is wholly out of the window.
        assert_eq!(again(160), Err(Failure::ProofReplayed));
        assert_eq!(again(179), Err(Failure::ProofReplayed));
        assert_eq!(again(180), Ok(()), "forgotten with its bucket");
    }

    #[test]
    fn a_thumbprint_is_rfc_7638_s_over_the_jwk_as_sent_for_the_proof_s_alg() {
        // RFC 7638 §3.1's example key and thumbprint.
        let rsa = serde_json::json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        let expected = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
        assert_eq!(
            thumbprint(&rsa, Algorithm::RS256).as_deref(),
            Some(expected)
        );
        assert_eq!(
            thumbprint(&rsa, Algorithm::PS512).as_deref(),
            Some(expected)
        );
        assert_eq!(thumbprint(&rsa, Algorithm::ES256), None, "not an EC key");
        let ec = serde_json::json!({"kty": "EC", "crv": "P-256", "x": "a", "y": "b"});
        assert!(thumbprint(&ec, Algorithm::ES256).is_some());
        assert_eq!(
            thumbprint(&ec, Algorithm::ES384),
            None,
            "P-256 is not ES384's"
        );
        let no_y = serde_json::json!({"kty": "EC", "crv": "P-256", "x": "a"});
        assert_eq!(thumbprint(&no_y, Algorithm::ES256), None);
    }

    #[test]
    fn a_path_with_a_dot_segment_plain_or_encoded_is_never_a_proof_s_url() {
        for path in ["/x/../me", "/x/%2e%2e/me", "/./me", "/x/.%2E/me", "/me/.."] {
            assert!(has_dot_segment(path), "{path}");
        }
        for path in ["/me", "/a.b/..c", "/.well-known/x", "/x/.../me"] {
            assert!(!has_dot_segment(path), "{path}");
        }
    }
}
