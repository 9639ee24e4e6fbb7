//! The end-to-end tests that need more than curl: the page in headless
//! Chromium (`browser`), the deployment behind nginx (`nginx`, through
//! `proxy`), and nginx, two instances and a monitoring host in network
//! namespaces (`hosts`). Each is ignored unless asked for, and says what it
//! needs. A package of its own, outside the workspace's default members, so
//! that a plain `cargo test` neither builds their dependencies (rustls,
//! socket2, fantoccini, hyper-util) nor lists them:
//! `cargo test -p e2e-tools -- --include-ignored` runs them.

/// The project's root, where the binary runs: the package above this one.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

mod browser;
mod hosts;
mod nginx;
mod proxy;
// The harness of `tests/e2e` too, which uses the rest of it.
#[allow(dead_code)]
#[path = "../../../tests/shared/scrape.rs"]
mod scrape;
#[allow(dead_code)]
#[path = "../../../tests/shared/server.rs"]
mod server;
