//! The verifier's load benchmark's tokens: `benchmarks/load/loadbench.py
//! --verifier` runs it before the resource server starts.
//!
//! Usage: `mint_tokens DIR COUNT ISSUER AUDIENCE`. It makes a fresh ES256
//! key pair, writes `DIR/jwks.json` (its public key, for
//! `ROCKET_BEARER_JWKS_FILE`) and `DIR/tokens.txt` (COUNT access tokens
//! from ISSUER to AUDIENCE, one a line, each with its own `jti`), then
//! times the floor of a first-seen token on this CPU: the ES256 signature
//! check alone, as the verifier makes it with aws-lc-rs (the public key
//! parsed once, the signature verified per token), and prints one line:
//! `signature check: X µs (median of 5 passes over N tokens)`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use std::{env, fs};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey};
use benchmarks::tokens::{Issuer, signed_parts};

/// Passes over the tokens, and the most tokens a pass checks.
const PASSES: usize = 5;
const PER_PASS: usize = 2000;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let [dir, count, issuer, audience] = args.as_slice() else {
        eprintln!("usage: mint_tokens DIR COUNT ISSUER AUDIENCE");
        return ExitCode::FAILURE;
    };
    let Ok(count @ 1..) = count.parse::<usize>() else {
        eprintln!("error: COUNT {count:?} must be a positive number");
        return ExitCode::FAILURE;
    };
    let dir = PathBuf::from(dir);
    let issuer = Issuer::generate(issuer, audience);
    let tokens: Vec<String> = (0..count as u64).map(|n| issuer.token(n)).collect();
    let written = fs::write(dir.join("jwks.json"), issuer.jwks())
        .and_then(|()| fs::write(dir.join("tokens.txt"), tokens.join("\n") + "\n"));
    if let Err(error) = written {
        eprintln!("error: cannot write to {}: {error}", dir.display());
        return ExitCode::FAILURE;
    }
    let parts: Vec<_> = tokens
        .iter()
        .take(PER_PASS)
        .map(|token| signed_parts(token))
        .collect();
    let Ok(key) = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, issuer.public_key()) else {
        eprintln!("error: the key pair's public key does not parse");
        return ExitCode::FAILURE;
    };
    let mut passes: Vec<f64> = (0..PASSES)
        .map(|_| {
            let start = Instant::now();
            for (message, signature) in &parts {
                key.verify_sig(message, signature)
                    .expect("the signature verifies");
            }
            start.elapsed().as_secs_f64() * 1e6 / parts.len() as f64
        })
        .collect();
    passes.sort_by(f64::total_cmp);
    println!(
        "signature check: {:.2} µs (median of {PASSES} passes over {} tokens)",
        passes[PASSES / 2],
        parts.len()
    );
    ExitCode::SUCCESS
}
