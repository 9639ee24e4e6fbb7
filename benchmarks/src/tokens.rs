//! An issuer made for a benchmark run: a fresh ES256 key pair (aws-lc-rs),
//! its JWKS document for `bearer_jwks_file`, and RFC 9068 access tokens
//! shaped as the test authorization server's (oidc-provider 9.13.3, see
//! `rocket-bearer/tests/issuer/README.md`): the same header and claims,
//! the same sizes, each token told apart by its `jti`.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

/// How long the tokens are valid: a day, longer than any run.
const LIFETIME: u64 = 86_400;

/// Signs access tokens for one issuer and one audience.
pub struct Issuer {
    issuer: String,
    audience: String,
    kid: String,
    key: EncodingKey,
    public_key: Vec<u8>,
    header: Header,
    issued_at: u64,
}

impl Issuer {
    /// A new key pair, for `issuer`'s tokens to `audience`.
    pub fn generate(issuer: &str, audience: &str) -> Issuer {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .expect("aws-lc-rs makes a P-256 key pair");
        let pkcs8 = pair.to_pkcs8v1().expect("the key pair as PKCS#8");
        let public_key = pair.public_key().as_ref().to_vec();
        // oidc-provider's kid: the key's RFC 7638 thumbprint, 43 characters.
        let kid = URL_SAFE_NO_PAD.encode(digest(&SHA256, &public_key));
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("at+jwt".to_owned());
        header.kid = Some(kid.clone());
        let issued_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("the clock is past 1970")
            .as_secs();
        Issuer {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            kid,
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            public_key,
            header,
            issued_at,
        }
    }

    /// The JWKS document that publishes the public key, as the issuer's
    /// `jwks_uri` would (`kid`, `use: sig`, `alg: ES256`).
    pub fn jwks(&self) -> String {
        let mut jwk =
            Jwk::from_encoding_key(&self.key, Algorithm::ES256).expect("the public key as a JWK");
        jwk.common.key_id = Some(self.kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::ES256);
        serde_json::to_string(&JwkSet { keys: vec![jwk] }).expect("a JWKS document")
    }

    /// The public key, an uncompressed SEC1 point, as the JWKS carries it.
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// The `n`th access token: the same claims for every `n` but `jti`.
    pub fn token(&self, n: u64) -> String {
        // oidc-provider's jti: 43 random URL-safe characters.
        let jti = URL_SAFE_NO_PAD.encode(digest(&SHA256, &n.to_be_bytes()));
        let claims = json!({
            "jti": jti,
            "sub": "reader",
            "iat": self.issued_at,
            "exp": self.issued_at + LIFETIME,
            "scope": "read",
            "client_id": "reader",
            "iss": self.issuer,
            "aud": self.audience,
        });
        jsonwebtoken::encode(&self.header, &claims, &self.key).expect("an ES256 signature")
    }
}

/// A token's signing input (header and claims, as sent) and its signature,
/// decoded: what a signature check reads.
pub fn signed_parts(token: &str) -> (&[u8], Vec<u8>) {
    let (message, signature) = token.rsplit_once('.').expect("a JWS in compact form");
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .expect("a base64url signature");
    (message.as_bytes(), signature)
}
