//! What the benchmarks share: access tokens signed by a key made for the
//! run (`tokens`), for the verifier's benchmarks in process
//! (`benches/signature_check.rs`, `benches/verifier_guard.rs`,
//! `benches/cache_memory.rs`) and on the wire (`src/bin/mint_tokens.rs`,
//! run by `load/loadbench.py --verifier`).

pub mod tokens;
