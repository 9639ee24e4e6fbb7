//! DPoP proofs (RFC 9449 §4) for `benchmarks/load/loadbench.py
//! --beyond-bearer`: one client key for the whole run, kept in a file, so
//! that the proof of the token request (which binds the token to the key)
//! and the proofs of the flood are made with the same key. The proofs are
//! shaped as `rocket-bearer/tests/support/dpop.rs` makes them: header
//! `{"alg":"ES256","jwk":{"crv","kty","x","y"},"typ":"dpop+jwt"}`, claims
//! `{"ath","htm","htu","iat","jti"}`, signed ES256 with aws-lc-rs.
//!
//! Usage:
//!
//! - `mint_proofs mint KEY OUT COUNT METHOD URL [ACCESS_TOKEN]`: reads the
//!   P-256 key from KEY (PKCS#8), or makes one and writes it there if the
//!   file does not exist; writes COUNT proofs for `METHOD URL` to OUT, one
//!   a line, each with its own `jti`, all with `iat` = now, and with `ath`
//!   (the token's SHA-256) when ACCESS_TOKEN is given. Prints one line:
//!   `minted N proofs in X ms (Y µs each); key thumbprint T`.
//! - `mint_proofs time KEY`: times what checking a proof's signature costs
//!   on this CPU, as `mint_tokens` does for tokens, over proofs of the key:
//!   the ES256 signature check alone, the key parsed once (the floor of a
//!   token's check too), then the key parsed from its point for each proof
//!   and the signature checked, as a verifier must for a proof (its key
//!   comes in its header). Prints two lines: `proof signature check: X µs
//!   (median of 5 passes over N proofs)` and `proof key parsed and signature
//!   check: Y µs (...)`.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use std::{env, fs, io};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    ParsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Passes over the proofs `time` checks, and how many proofs a pass checks.
const PASSES: usize = 5;
const PER_PASS: usize = 2000;

/// The most proofs one `mint` makes: the benchmark's bound.
const MOST: usize = 2_000_000;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.as_slice() {
        [command, key, out, count, method, url, token @ ..]
            if command == "mint" && token.len() <= 1 =>
        {
            mint(
                key,
                out,
                count,
                method,
                url,
                token.first().map(String::as_str),
            )
        }
        [command, key] if command == "time" => time(key),
        _ => Err(
            "usage: mint_proofs mint KEY OUT COUNT METHOD URL [ACCESS_TOKEN]\n       \
                  mint_proofs time KEY"
                .to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `mint KEY OUT COUNT METHOD URL [ACCESS_TOKEN]`.
fn mint(
    key: &str,
    out: &str,
    count: &str,
    method: &str,
    url: &str,
    token: Option<&str>,
) -> Result<(), String> {
    let count = match count.parse::<usize>() {
        Ok(count @ 1..=MOST) => count,
        _ => return Err(format!("COUNT {count:?} must be a number from 1 to {MOST}")),
    };
    let key = ProofKey::load_or_generate(Path::new(key))?;
    let start = Instant::now();
    let mut text = String::with_capacity(count * 480);
    for _ in 0..count {
        text.push_str(&key.proof(method, url, token)?);
        text.push('\n');
    }
    let elapsed = start.elapsed();
    fs::write(out, text).map_err(|error| format!("cannot write {out}: {error}"))?;
    println!(
        "minted {count} proofs in {:.0} ms ({:.1} µs each); key thumbprint {}",
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e6 / count as f64,
        key.thumbprint()
    );
    Ok(())
}

/// `time KEY`.
fn time(key: &str) -> Result<(), String> {
    let key = ProofKey::load_or_generate(Path::new(key))?;
    // Proofs as the flood sends them, for a token of the same length.
    let token = "t".repeat(520);
    let proofs = (0..PER_PASS)
        .map(|_| key.proof("GET", "http://127.0.0.1:8000/me", Some(&token)))
        .collect::<Result<Vec<_>, _>>()?;
    let parts = proofs
        .iter()
        .map(|proof| {
            let (message, signature) = proof.rsplit_once('.').ok_or("a proof in compact form")?;
            let signature = URL_SAFE_NO_PAD
                .decode(signature)
                .map_err(|_| "a base64url signature")?;
            Ok((message.as_bytes(), signature))
        })
        .collect::<Result<Vec<_>, &str>>()?;
    let point = key.pair.public_key().as_ref();
    let parsed = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        .map_err(|_| "the key pair's public key does not parse")?;
    let once = median_of_passes(|| {
        for (message, signature) in &parts {
            parsed
                .verify_sig(message, signature)
                .expect("the signature verifies");
        }
    });
    let each = median_of_passes(|| {
        for (message, signature) in &parts {
            ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .expect("the public key parses")
                .verify_sig(message, signature)
                .expect("the signature verifies");
        }
    });
    println!(
        "proof signature check: {once:.2} µs (median of {PASSES} passes over {PER_PASS} proofs)"
    );
    println!(
        "proof key parsed and signature check: {each:.2} µs (median of {PASSES} passes over \
         {PER_PASS} proofs)"
    );
    Ok(())
}

/// The median over [`PASSES`] runs of `pass`, in µs per proof.
fn median_of_passes(mut pass: impl FnMut()) -> f64 {
    let mut passes: Vec<f64> = (0..PASSES)
        .map(|_| {
            let start = Instant::now();
            pass();
            start.elapsed().as_secs_f64() * 1e6 / PER_PASS as f64
        })
        .collect();
    passes.sort_by(f64::total_cmp);
    passes[PASSES / 2]
}

/// The client's DPoP key, a P-256 key pair.
struct ProofKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
    /// The proofs' header, base64url: the same for every proof.
    header: String,
}

impl ProofKey {
    /// The key in `path` (PKCS#8 v1), or a new one written there.
    fn load_or_generate(path: &Path) -> Result<ProofKey, String> {
        let pair = match fs::read(path) {
            Ok(pkcs8) => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                .map_err(|_| format!("{} holds no P-256 key (PKCS#8)", path.display()))?,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|_| "aws-lc-rs makes no P-256 key pair")?;
                let pkcs8 = pair.to_pkcs8v1().map_err(|_| "the key pair as PKCS#8")?;
                fs::write(path, pkcs8.as_ref())
                    .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
                pair
            }
            Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
        };
        let mut key = ProofKey {
            pair,
            rng: SystemRandom::new(),
            header: String::new(),
        };
        let header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": key.jwk() });
        key.header = encode(&header);
        Ok(key)
    }

    /// The public key as a JWK (RFC 7517): the uncompressed point 0x04 ||
    /// x || y, its coordinates base64url.
    fn jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        })
    }

    /// The JWK SHA-256 thumbprint (RFC 7638), what the bound token's
    /// `cnf.jkt` carries.
    fn thumbprint(&self) -> String {
        let jwk = self.jwk();
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":{},"y":{}}}"#,
            jwk["x"], jwk["y"]
        );
        URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes()))
    }

    /// A proof for `method url`, issued now with a fresh `jti`, with the
    /// token's hash (`ath`) when given.
    fn proof(&self, method: &str, url: &str, token: Option<&str>) -> Result<String, String> {
        let mut jti = [0u8; 16];
        self.rng
            .fill(&mut jti)
            .map_err(|_| "the system's random source fails")?;
        let mut claims = json!({
            "jti": URL_SAFE_NO_PAD.encode(jti),
            "htm": method,
            "htu": url,
            "iat": now(),
        });
        if let Some(token) = token {
            claims["ath"] = URL_SAFE_NO_PAD
                .encode(digest(&SHA256, token.as_bytes()))
                .into();
        }
        let signing_input = format!("{}.{}", self.header, encode(&claims));
        let signature = self
            .pair
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|_| "aws-lc-rs does not sign")?;
        // ECDSA_P256_SHA256_FIXED: r || s, what JWS ES256 wants.
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

/// Seconds since the Unix epoch.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// A JOSE header or claims set as a JWS part: base64url of its JSON.
fn encode(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}
