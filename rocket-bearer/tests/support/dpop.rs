//! DPoP proofs (RFC 9449 §4) minted by the tests, as a client would: a key
//! pair of the client's, whose public key a proof carries in its header, and
//! a proof per request, signed ES256 with it.
//!
//! ```ignore
//! let key = ProofKey::generate();
//! let token = issuer.dpop_token(OAuthClient::Reader, "read", RESOURCE, &key).await;
//! let proof = key.proof("GET", "http://127.0.0.1:8000/items", Some(&token), None);
//! // A proof with one field broken:
//! let (header, mut claims) = key.proof_parts("GET", url, Some(&token), None);
//! claims["htm"] = "POST".into();
//! let proof = key.mint(&header, &claims);
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// A client's DPoP key: a fresh P-256 key pair, signing ES256.
pub struct ProofKey {
    pair: EcdsaKeyPair,
}

impl ProofKey {
    /// A new key pair, of its own: no other proof key has it.
    pub fn generate() -> ProofKey {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .expect("aws-lc-rs generates a P-256 key pair");
        ProofKey { pair }
    }

    /// The public key's coordinates, base64url without padding (RFC 7518
    /// §6.2.1.2-3): the key is the uncompressed point 0x04 || x || y.
    fn coordinates(&self) -> (String, String) {
        let point = self.pair.public_key().as_ref();
        assert_eq!(
            (point.len(), point[0]),
            (65, 0x04),
            "a P-256 public key is an uncompressed point"
        );
        (
            URL_SAFE_NO_PAD.encode(&point[1..33]),
            URL_SAFE_NO_PAD.encode(&point[33..]),
        )
    }

    /// The public key as a JWK (RFC 7517), what a proof's `jwk` header
    /// carries: `{"kty":"EC","crv":"P-256","x":…,"y":…}`, nothing else.
    pub fn jwk(&self) -> Value {
        let (x, y) = self.coordinates();
        json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y })
    }

    /// The key's JWK SHA-256 thumbprint (RFC 7638), base64url without
    /// padding: what a token bound to this key carries as `cnf.jkt` (RFC
    /// 9449 §6.1).
    pub fn thumbprint(&self) -> String {
        let (x, y) = self.coordinates();
        // The required members only, in lexicographic order, no whitespace
        // (RFC 7638 §3.2).
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes()))
    }

    /// A valid proof for a request of `method` to `url` (RFC 9449 §4.2),
    /// issued now with a fresh `jti`; with `access_token`, it carries the
    /// token's hash (`ath`), as a proof sent with a token must; with
    /// `nonce`, that nonce (a resource server's `DPoP-Nonce`).
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> String {
        let (header, claims) = self.proof_parts(method, url, access_token, nonce);
        self.mint(&header, &claims)
    }

    /// The header and claims [`ProofKey::proof`] signs, for a test to change
    /// one thing in before [`ProofKey::mint`]: the header
    /// `{"typ":"dpop+jwt","alg":"ES256","jwk":…}` and the claims
    /// `{"jti","htm","htu","iat"}`, with `ath` and `nonce` when given.
    pub fn proof_parts(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> (Value, Value) {
        let header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk() });
        let mut claims = json!({
            "jti": jti(),
            "htm": method,
            "htu": url,
            "iat": now(),
        });
        if let Some(token) = access_token {
            claims["ath"] = ath(token).into();
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = nonce.into();
        }
        (header, claims)
    }

    /// A compact JWS of `header` and `claims` as given, signed ES256 with
    /// this key (whatever the header says): a proof with any field wrong.
    pub fn mint(&self, header: &Value, claims: &Value) -> String {
        let signing_input = format!("{}.{}", encode(header), encode(claims));
        let signature = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .expect("aws-lc-rs signs with a P-256 key");
        // ECDSA_P256_SHA256_FIXED: r || s, 64 bytes, what JWS ES256 wants
        // (RFC 7518 §3.4).
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// An access token's hash as a proof carries it (`ath`, RFC 9449 §4.2):
/// base64url of the SHA-256 of its ASCII.
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, access_token.as_bytes()))
}

/// A fresh proof identifier: 16 random bytes, base64url.
fn jti() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system's random source answers");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Seconds since the Unix epoch.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// A JOSE header or claims set as a JWS part: base64url of its JSON.
fn encode(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("a JSON value serializes"))
}
