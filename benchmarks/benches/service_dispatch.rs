//! One dispatch of the 401 through Rocket's local asynchronous client, in
//! process: the guard, the catcher, the body and the response fairings,
//! without sockets or hyper. A change in the service's own code shows here
//! without the network's noise; `benchmarks/load/loadbench.py` measures the server.
//!
//! `cargo bench -p benchmarks --bench service_dispatch` measures; `cargo test
//! -p benchmarks --benches` runs each case once.

// `criterion_group!` defines a public function that it leaves undocumented.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use rocket::http::Header;
use rocket::local::asynchronous::Client;
use rocket::tokio::runtime::{Builder, Runtime};

/// The release profile of `Rocket.toml`, as the server runs it from the
/// project's root (where `Rocket.toml` and `static/` are).
fn client(runtime: &Runtime) -> Client {
    std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .expect("the project's root exists");
    let figment = rocket::Config::figment().select("release");
    let rocket = unauthorized::custom(figment).expect("Rocket.toml configures the service");
    runtime
        .block_on(Client::untracked(rocket))
        .expect("the service ignites")
}

fn dispatch(criterion: &mut Criterion) {
    let runtime = Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let client = client(&runtime);
    let mut group = criterion.benchmark_group("401");
    group.bench_function("no credentials", |bencher| {
        bencher.iter(|| {
            runtime.block_on(async { client.get("/example").dispatch().await.into_bytes().await })
        })
    });
    group.bench_function("bearer token", |bencher| {
        bencher.iter(|| {
            runtime.block_on(async {
                client
                    .get("/example")
                    .header(Header::new("Authorization", "Bearer abc"))
                    .dispatch()
                    .await
                    .into_bytes()
                    .await
            })
        })
    });
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
