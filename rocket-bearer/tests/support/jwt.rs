//! A JWT's header and claims, read without verifying anything: what a test
//! checks about a token it was given (RFC 7519 §7.2 steps 1-6, without the
//! signature; that is the verifier's job).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// The JOSE header (RFC 7515 §4) of a compact JWS.
pub fn header(token: &str) -> Value {
    part(token, 0)
}

/// The claims set (RFC 7519 §4) of a compact JWS.
pub fn claims(token: &str) -> Value {
    part(token, 1)
}

fn part(token: &str, index: usize) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS has three parts");
    let json = URL_SAFE_NO_PAD
        .decode(parts[index])
        .expect("a JWS part is base64url without padding");
    serde_json::from_slice(&json).expect("a JWT's header and claims are JSON")
}
