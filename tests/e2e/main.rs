//! The real binary over real sockets: what Rocket's local `Client` cannot
//! show. Every test starts its own server through [`server::Server`].

#[path = "../shared/accept.rs"]
mod accept;
mod bad_input;
mod browser;
mod curl;
mod drain;
mod hosts;
mod idle;
mod lifecycle;
mod log;
mod metrics;
mod nginx;
mod page;
mod proxy;
mod server;
mod startup;
mod tcp;
