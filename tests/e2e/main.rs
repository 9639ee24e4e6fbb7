//! The real binary over real sockets: what Rocket's local `Client` cannot
//! show. Every test starts its own server through [`server::Server`]. The
//! tests that need a browser, nginx or network namespaces are a package of
//! their own, `e2e-tools/`, with the same harness.

/// The project's root, where the binary runs: this package's.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[path = "../shared/accept.rs"]
mod accept;
mod bad_input;
mod curl;
mod drain;
mod idle;
mod lifecycle;
mod log;
mod metrics;
mod page;
mod render;
#[path = "../shared/scrape.rs"]
mod scrape;
#[path = "../shared/server.rs"]
mod server;
mod startup;
mod tcp;
