//! The whole `AccessToken` guard through Rocket's local asynchronous client
//! (no socket, log off), on a rocket built like the `resource_server`
//! example (`GET /me` for any valid token, the RFC 9728 metadata) with
//! static keys: a JWKS file made for the run (`bearer_jwks_file`). Three
//! requests: a valid token seen for the first time (a new `jti` each
//! time, so a new SHA-256 and a cache miss: the signature is checked), the
//! same valid token again (a hit in the cache of verified tokens), and no
//! token (the 401 the guard answers before any key).
//!
//! `cargo bench -p benchmarks --bench verifier_guard` measures; `cargo test
//! -p benchmarks --benches` runs each case once.

// `criterion_group!` defines a public function that it leaves undocumented.
#![allow(missing_docs)]

use std::cell::Cell;

use benchmarks::tokens::Issuer;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rocket::config::LogLevel;
use rocket::figment::Figment;
use rocket::http::{Header, Status};
use rocket::local::asynchronous::Client;
use rocket::serde::json::{Value, json};
use rocket::tokio::runtime::{Builder, Runtime};
use rocket::{Config, get, routes};
use rocket_bearer::ResourceMetadata;
use rocket_bearer::verify::{AccessToken, Verifier};

const ISSUER: &str = "http://127.0.0.1:9000";
const AUDIENCE: &str = "http://127.0.0.1:8000/";

/// The example's `GET /me`.
#[get("/me")]
fn me(token: AccessToken) -> Value {
    json!({ "sub": token.claims().sub })
}

/// The example's rocket, its keys from `jwks`.
fn client(runtime: &Runtime, jwks: &std::path::Path) -> Client {
    let config = Config {
        log_level: LogLevel::Off,
        ..Config::default()
    };
    let figment = Figment::from(config)
        .merge(("bearer_jwks_file", jwks))
        .merge(("bearer_issuer", ISSUER))
        .merge(("bearer_audience", AUDIENCE));
    let metadata = ResourceMetadata::new(AUDIENCE)
        .and_then(|metadata| metadata.authorization_server(ISSUER))
        .expect("valid metadata")
        .scopes_supported(["admin"]);
    let rocket = rocket::custom(figment)
        .attach(Verifier::fairing())
        .attach(metadata)
        .mount("/", routes![me])
        .register("/", rocket_bearer::catchers());
    runtime
        .block_on(Client::untracked(rocket))
        .expect("the rocket ignites")
}

/// One `GET /me`, with `token` if any, and the body read.
async fn answer(client: &Client, token: Option<&str>) -> (Status, Vec<u8>) {
    let mut request = client.get("/me");
    if let Some(token) = token {
        request = request.header(Header::new("Authorization", format!("Bearer {token}")));
    }
    let response = request.dispatch().await;
    let status = response.status();
    (status, response.into_bytes().await.unwrap_or_default())
}

fn guard(criterion: &mut Criterion) {
    let runtime = Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let issuer = Issuer::generate(ISSUER, AUDIENCE);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, issuer.jwks()).expect("the JWKS file is written");
    let client = client(&runtime, &jwks);

    let cached = issuer.token(0);
    let ok = (Status::Ok, br#"{"sub":"reader"}"#.to_vec());
    let refused = (
        Status::Unauthorized,
        br#"{"message":"Unauthorized"}"#.to_vec(),
    );
    assert_eq!(runtime.block_on(answer(&client, Some(&cached))), ok);
    assert_eq!(runtime.block_on(answer(&client, None)), refused);
    let mut forged = issuer.token(1);
    forged.replace_range(forged.len() - 8.., "AAAAAAAA");
    assert_eq!(
        runtime.block_on(answer(&client, Some(&forged))).0,
        Status::Unauthorized,
        "the signature is checked"
    );

    let mut group = criterion.benchmark_group("AccessToken guard");
    let next = Cell::new(2);
    group.bench_function("first-seen token", |bencher| {
        bencher.iter_batched(
            || {
                next.set(next.get() + 1);
                issuer.token(next.get())
            },
            |token| runtime.block_on(answer(&client, Some(&token))),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("cached token", |bencher| {
        bencher.iter(|| runtime.block_on(answer(&client, Some(&cached))))
    });
    group.bench_function("401 without token", |bencher| {
        bencher.iter(|| runtime.block_on(answer(&client, None)))
    });
    group.finish();
}

criterion_group!(benches, guard);
criterion_main!(benches);
