//! Placeholder until the jwt example lands in the next commit.

fn main() {}
