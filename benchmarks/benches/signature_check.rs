//! The floor of a verified request: the signature check alone, as
//! jsonwebtoken makes it for each token (the public key read from its
//! bytes, then the signature verified), on aws-lc-rs beside pure-Rust p256
//! (what jsonwebtoken's `rust_crypto` backend runs), and on aws-lc-rs with
//! the key parsed once (what rocket-bearer's `verify` feature does), for
//! ES256, the algorithm of the test authorization server's tokens; RS256
//! on aws-lc-rs for scale; and
//! jsonwebtoken's whole `decode` of the same ES256 token, which adds the
//! header, base64 and the claims read and validated.
//!
//! `cargo bench -p benchmarks --bench signature_check` measures; `cargo
//! test -p benchmarks --benches` runs each case once.

// `criterion_group!` defines a public function that it leaves undocumented.
#![allow(missing_docs)]

use std::hint::black_box;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, KeyPair, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    RSA_PKCS1_SHA256, UnparsedPublicKey,
};
use benchmarks::tokens::{Issuer, signed_parts};
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::Value;

const ISSUER: &str = "http://127.0.0.1:9000";
const AUDIENCE: &str = "http://127.0.0.1:8000/";

fn es256(criterion: &mut Criterion) {
    let issuer = Issuer::generate(ISSUER, AUDIENCE);
    let token = issuer.token(0);
    let (message, signature) = signed_parts(&token);
    let public_key = issuer.public_key();

    let aws_lc = || {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, black_box(public_key))
            .verify(black_box(message), black_box(&signature))
            .is_ok()
    };
    // jsonwebtoken's rust_crypto Es256Verifier: the key from its SEC1
    // bytes, the fixed-size signature, `verify`.
    let p256 = || {
        VerifyingKey::from_sec1_bytes(black_box(public_key)).is_ok_and(|key| {
            Signature::from_slice(black_box(&signature))
                .is_ok_and(|signature| key.verify(black_box(message), &signature).is_ok())
        })
    };
    assert!(aws_lc() && p256(), "both backends accept the signature");
    let mut forged = signature.clone();
    forged[40] ^= 1;
    assert!(
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key)
            .verify(message, &forged)
            .is_err()
    );

    let parsed = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key).expect("a P-256 key");
    let aws_lc_parsed = || {
        parsed
            .verify_sig(black_box(message), black_box(&signature))
            .is_ok()
    };
    assert!(aws_lc_parsed());
    let mut group = criterion.benchmark_group("ES256 signature check");
    group.bench_function("aws-lc-rs", |bencher| bencher.iter(aws_lc));
    group.bench_function("aws-lc-rs, key parsed once", |bencher| {
        bencher.iter(aws_lc_parsed)
    });
    group.bench_function("p256 (pure Rust)", |bencher| bencher.iter(p256));
    group.finish();

    // The same token through jsonwebtoken::decode, on aws-lc-rs, with the
    // key read from the JWKS document as the verifier reads it.
    let jwks: JwkSet = serde_json::from_str(&issuer.jwks()).expect("a JWKS document");
    let key = DecodingKey::from_jwk(&jwks.keys[0]).expect("a decoding key");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[ISSUER]);
    let decode = || jsonwebtoken::decode::<Value>(black_box(&token), &key, &validation).is_ok();
    assert!(decode(), "jsonwebtoken accepts the token");
    let mut group = criterion.benchmark_group("ES256 jsonwebtoken::decode");
    group.bench_function("aws-lc-rs", |bencher| bencher.iter(decode));
    group.finish();
}

fn rs256(criterion: &mut Criterion) {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("an RSA 2048 key pair");
    let message = b"header.claims, as long as an access token's signing input";
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut signature,
    )
    .expect("an RS256 signature");
    let public_key = pair.public_key().as_ref().to_vec();
    let aws_lc = || {
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, black_box(&public_key))
            .verify(black_box(message), black_box(&signature))
            .is_ok()
    };
    assert!(aws_lc(), "aws-lc-rs accepts the signature");
    let mut group = criterion.benchmark_group("RS256 (2048) signature check");
    group.bench_function("aws-lc-rs", |bencher| bencher.iter(aws_lc));
    group.finish();
}

criterion_group!(benches, es256, rs256);
criterion_main!(benches);
