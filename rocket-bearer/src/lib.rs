#![doc = include_str!("../README.md")]

mod body;
mod catchers;
mod challenge;
mod credentials;
mod metadata;
mod negotiation;
mod rejection;
#[cfg(feature = "verify")]
pub mod verify;

pub use catchers::{catchers, catchers_missing, default_catcher};
pub use challenge::{AcrValues, Description, ErrorUri, InvalidParameter, Realm, Scope};
pub use credentials::{Credentials, Malformed, Token};
pub use metadata::{InvalidMetadata, ResourceMetadata};
pub use rejection::{BearerError, Rejection};
