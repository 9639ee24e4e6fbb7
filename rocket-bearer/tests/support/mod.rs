//! What the test files share: `mod support;` in a file under tests/.
//!
//! Each test file is its own crate and uses a part of this, so the rest
//! would be dead code there.
#![allow(dead_code)]

pub mod dpop;
pub mod issuer;
pub mod jwt;
