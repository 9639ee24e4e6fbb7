//! A Rocket 0.5 service that refuses every request to `/example` properly: a
//! typed request guard rejects it, and a JSON catcher registered for 401
//! answers with `{"message":"Unauthorized"}`, `Content-Type:
//! application/json` and the `WWW-Authenticate` challenge RFC 9110 §15.5.2
//! asks for.
//!
//! The guard, the reasons and the catchers come from the `rocket-bearer`
//! library in this workspace, which any Rocket app can use the same way.
//!
//! The service runs like a production one: a JSON access line per request
//! that never carries a token, `/healthz` and `/readyz`, a drain on SIGTERM
//! or SIGINT before the graceful shutdown, and Prometheus metrics at
//! `/metrics` (docs/OPERATING.md).

mod access;
mod auth;
mod config;
mod drain;
mod health;
mod logger;
mod metrics;
mod page;
mod routes;

use rocket::figment::Figment;
use rocket::{Build, Rocket};

pub use config::{ConfigError, Settings, figment};
pub use drain::handle_signals;
pub use logger::{flush as flush_log, install as install_log, print_line};

/// The service, configured from `Rocket.toml` and `ROCKET_*` variables.
pub fn rocket() -> Result<Rocket<Build>, ConfigError> {
    custom(config::figment())
}

/// The service, configured from `figment`: tests pass `Rocket.toml` with a
/// profile selected and keys merged in, without touching the process's
/// environment. The configuration is checked here, before Rocket reads it, so
/// that a bad value is one line naming the key rather than a panic.
pub fn custom(figment: Figment) -> Result<Rocket<Build>, ConfigError> {
    let settings = Settings::from_figment(&figment)?;
    let page = page::Page::read(&settings.static_dir)?;
    let [no_ctrlc, no_signals] = drain::without_rockets_signals();
    let rocket = rocket::custom(figment.merge(no_ctrlc).merge(no_signals))
        .manage(drain::Drain::new(settings.drain))
        .manage(metrics::Metrics::new())
        .attach(access::Access)
        .mount("/", routes::routes())
        .mount("/", health::routes())
        .mount("/", metrics::routes())
        .mount("/", page)
        .manage(settings.realm)
        .register("/", rocket_bearer::catchers())
        .register(
            "/",
            access::observing_unseen(vec![rocket_bearer::default_catcher()]),
        );
    Ok(rocket)
}
