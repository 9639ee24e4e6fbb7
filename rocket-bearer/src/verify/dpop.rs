//! DPoP proofs (RFC 9449): the checks of §4.3 on the `DPoP` header, the
//! server nonces of §9, and the replay check of §11.1.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey};
use rocket::request::Request;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::Failure;
use super::keys::Key;

/// The algorithms a proof may be signed with, as the DPoP challenge's
/// `algs` lists them (`challenge::DPOP_ALGS`, RFC 9449 §7.1): every
/// asymmetric one the verifier
/// checks, never `none` or HMAC (§4.3, check 5).
pub(crate) const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
];

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
/// the window, about a minute, so enough for 17,000 DPoP requests a
/// second, more than one instance verifies (two signatures each); about
/// 32 bytes each, 32 MiB if ever full. When it is full of proofs still in
/// the window, new proofs get 503 rather than an unchecked replay.
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
    /// are required, and never seen before.
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
        let jwk: Jwk = serde_json::from_value(jwk).map_err(|_| Failure::ProofKeyUnusable)?;
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|_| Failure::ProofKeyUnusable)?;
        let key = Key::any_of_family(&decoding);
        if !key.checks(algorithm) {
            return Err(Failure::ProofKeyUnusable);
        }
        let thumbprint = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|_| Failure::ProofKeyUnusable)?;
        let (message, _) = proof.rsplit_once('.').ok_or(Failure::ProofNotJwt)?;
        if !key.verifies(algorithm, message.as_bytes(), &signature) {
            return Err(Failure::ProofBadSignature);
        }
        if htm != request.method().as_str() {
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
        self.seen.first_time(&thumbprint, &jti, iat, now)?;
        Ok(CheckedProof { ath, thumbprint })
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

/// The proofs this instance has accepted, by key and `jti`, until their
/// `iat` leaves the window (§11.1).
#[derive(Default)]
struct SeenProofs {
    until: Mutex<HashMap<[u8; 16], u64>>,
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
        let mut until = self
            .until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if until.get(&id).is_some_and(|&until| now < until) {
            return Err(Failure::ProofReplayed);
        }
        if until.len() >= SEEN_CAPACITY {
            until.retain(|_, &mut until| now < until);
            if until.len() >= SEEN_CAPACITY {
                return Err(Failure::Unavailable(1));
            }
        }
        // Past iat + the window, the iat check refuses the proof anyway.
        until.insert(id, iat.saturating_add(PROOF_WINDOW + 1));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rocket::http::uri::{Authority, Host};
    use rocket::local::blocking::Client;
    use url::Url;

    use super::{Failure, NONCE_STEP, Nonces, Proofs, SeenProofs};

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
        // Forgotten only once the iat check refuses it: after iat + 60.
        assert_eq!(again(160), Err(Failure::ProofReplayed));
        assert_eq!(again(161), Ok(()));
    }
}
