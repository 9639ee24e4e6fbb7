//! One 401 through the library beside a plain Rocket catcher that writes the
//! same bytes: what the reason's record, the challenge built per response
//! and the negotiation cost over the least a Rocket app can do.
//!
//! `cargo bench -p benchmarks --bench library_catcher` measures; `cargo test
//! -p benchmarks --benches` runs each case once.

// `criterion_group!` defines a public function that it leaves undocumented.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use rocket::Config;
use rocket::config::LogLevel;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::tokio::runtime::{Builder, Runtime};
use rocket::{Build, Responder, Rocket, catch, catchers, get, routes};
use rocket_bearer::{Realm, Rejection};

/// The library's way: the guard records `invalid_token`, the library's 401
/// catcher answers it.
struct Refused;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Refused {
    type Error = Rejection;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Rejection> {
        Rejection::invalid_token().reject(request)
    }
}

#[get("/")]
fn through_the_library(_refused: Refused) {}

/// The plain way: the guard fails with 401, and a catcher writes fixed bytes.
struct PlainRefused;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for PlainRefused {
    type Error = ();

    async fn from_request(_: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Error((Status::Unauthorized, ()))
    }
}

#[get("/")]
fn plain(_refused: PlainRefused) {}

#[derive(Responder)]
#[response(status = 401, content_type = "json")]
struct PlainUnauthorized {
    body: &'static str,
    challenge: Header<'static>,
    vary: Header<'static>,
}

#[catch(401)]
fn plain_unauthorized() -> PlainUnauthorized {
    PlainUnauthorized {
        body: r#"{"message":"Unauthorized"}"#,
        challenge: Header::new(
            "WWW-Authenticate",
            r#"Bearer realm="bench", error="invalid_token""#,
        ),
        vary: Header::new("Vary", "Accept"),
    }
}

/// Rocket's defaults with its log off, as a service under load runs; not
/// `Config::figment()`, which would read the workspace's `Rocket.toml`.
fn quiet() -> Config {
    Config {
        log_level: LogLevel::Off,
        ..Config::default()
    }
}

fn library() -> Rocket<Build> {
    rocket::custom(quiet())
        .mount("/", routes![through_the_library])
        .manage(Realm::from_static("bench"))
        .register("/", rocket_bearer::catchers())
}

fn bare() -> Rocket<Build> {
    rocket::custom(quiet())
        .mount("/", routes![plain])
        .register("/", catchers![plain_unauthorized])
}

/// One GET, and the body read; both rockets must answer the same bytes.
async fn answer(client: &Client) -> (Option<String>, Vec<u8>) {
    let response = client.get("/").dispatch().await;
    let challenge = response
        .headers()
        .get_one("WWW-Authenticate")
        .map(str::to_owned);
    let content_type = response.content_type();
    assert_eq!(content_type, Some(ContentType::JSON));
    (challenge, response.into_bytes().await.unwrap_or_default())
}

fn client(runtime: &Runtime, rocket: Rocket<Build>) -> Client {
    runtime
        .block_on(Client::untracked(rocket))
        .expect("the rocket ignites")
}

fn one_401(criterion: &mut Criterion) {
    let runtime = Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let library = client(&runtime, library());
    let bare = client(&runtime, bare());
    assert_eq!(
        runtime.block_on(answer(&library)),
        runtime.block_on(answer(&bare)),
        "both write the same challenge and body"
    );
    let mut group = criterion.benchmark_group("401 invalid_token");
    group.bench_function("rocket-bearer", |bencher| {
        bencher.iter(|| runtime.block_on(answer(&library)))
    });
    group.bench_function("plain catcher", |bencher| {
        bencher.iter(|| runtime.block_on(answer(&bare)))
    });
    group.finish();
}

criterion_group!(benches, one_401);
criterion_main!(benches);
