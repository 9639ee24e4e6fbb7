//! The memory the cache of verified tokens holds: a verifier with static
//! keys (`bearer_jwks_file`) verifies distinct tokens shaped as the test
//! authorization server's, and dhat's allocator counts the bytes still
//! allocated after each step (the claims handed out are dropped, so what
//! remains is the cache: its table, and each token's parsed claims).
//! Prints a table; a count, not a timing, so `cargo test -p benchmarks
//! --benches` runs it whole.
//!
//! `cargo bench -p benchmarks --bench cache_memory`

use benchmarks::tokens::Issuer;
use rocket::figment::Figment;
use rocket::tokio::runtime::Builder;
use rocket_bearer::verify::{Claims, Verifier};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const ISSUER: &str = "http://127.0.0.1:9000";
const AUDIENCE: &str = "http://127.0.0.1:8000/";

/// rocket-bearer's bound on the cache (`CAPACITY` in src/verify/cache.rs);
/// the last row checks it: one token past it empties the cache.
const CAPACITY: usize = 4096;

fn main() {
    let runtime = Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let issuer = Issuer::generate(ISSUER, AUDIENCE);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, issuer.jwks()).expect("the JWKS file is written");
    let figment = Figment::new()
        .merge(("bearer_jwks_file", &jwks))
        .merge(("bearer_issuer", ISSUER))
        .merge(("bearer_audience", AUDIENCE));
    let verifier = runtime
        .block_on(Verifier::from_figment(&figment))
        .expect("the verifier is configured");
    let tokens: Vec<String> = (0..=CAPACITY as u64).map(|n| issuer.token(n)).collect();
    let verify = |token: &String| {
        runtime
            .block_on(verifier.verify::<()>(token))
            .map(|_: Claims<()>| ())
            .expect("the token verifies");
    };

    let _profiler = dhat::Profiler::builder().testing().build();
    let held = || dhat::HeapStats::get().curr_bytes;
    let empty = held();
    println!(
        "Cache of verified tokens: bytes held after verifying N distinct tokens \
         of {} bytes (dhat's count of live heap bytes, less those before the first)",
        tokens[0].len()
    );
    println!();
    println!("| tokens verified | bytes held | bytes per token |");
    println!("| ---: | ---: | ---: |");
    let mut verified = 0;
    for step in [1, 256, 1024, 2048, 3072, CAPACITY] {
        tokens[verified..step].iter().for_each(verify);
        verified = step;
        let bytes = held() - empty;
        println!("| {step} | {bytes} | {:.0} |", bytes as f64 / step as f64);
    }
    verify(&tokens[CAPACITY]);
    let bytes = held() - empty;
    println!(
        "| {} (past capacity: emptied, then one kept) | {bytes} | |",
        CAPACITY + 1
    );
}
