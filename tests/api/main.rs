//! The service through Rocket's local `Client`: the very rocket that `main`
//! serves, without a socket.

#[path = "../shared/accept.rs"]
mod accept;
mod config;
mod errors;
mod example;
mod helpers;
mod negotiation;
mod operational;
mod properties;
mod static_files;
