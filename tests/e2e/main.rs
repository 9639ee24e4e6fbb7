//! The real binary over real sockets: what Rocket's local `Client` cannot
//! show. Every test starts its own server through [`server::Server`].

mod browser;
mod lifecycle;
mod server;
mod startup;
mod wire;
