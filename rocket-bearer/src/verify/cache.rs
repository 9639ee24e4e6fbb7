//! Tokens already verified, so that a client sending the same token again
//! costs a hash and a lookup instead of a signature check (as gateways
//! such as Envoy's JWT filter do).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest::{SHA256, digest};

/// How many tokens are kept: at about 330 bytes each (a typical access
/// token's claims as JSON, 200 bytes, and its slot in the table), 1.3 MiB
/// per instance when full, as the benchmarks' `benches/cache_memory.rs`
/// measures (BENCHMARKS.md).
pub(crate) const CAPACITY: usize = 4096;

/// The SHA-256 of a token: what the cache keys it by (the token itself is
/// not kept). Computed once per request, for the lookup and the insertion.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TokenHash([u8; 32]);

impl TokenHash {
    pub(crate) fn of(token: &str) -> TokenHash {
        let mut hash = [0; 32];
        hash.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
        TokenHash(hash)
    }
}

/// The claims of each token verified, as the JSON it signed (decoded from
/// base64url; smaller than a parsed tree, and read into the claims type of
/// each route), by the token's hash, until its `exp` or until the key set
/// that verified it is due for a refetch, whichever comes first, for one
/// key-set generation.
pub(crate) struct VerifiedTokens {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    generation: u64,
    by_hash: HashMap<TokenHash, Entry>,
}

impl Entries {
    /// Forgets every token if `generation` is newer than the cache's: a
    /// request that read the generation before a refetch (and verified
    /// with the set before it) neither empties the cache nor adds to it.
    fn advance(&mut self, generation: u64) {
        if generation > self.generation {
            self.by_hash.clear();
            self.generation = generation;
        }
    }
}

struct Entry {
    claims: Arc<[u8]>,
    until: u64,
}

impl VerifiedTokens {
    pub(crate) fn new() -> VerifiedTokens {
        VerifiedTokens {
            entries: Mutex::new(Entries::default()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The claims of the token hashed to `hash` if it was verified under
    /// key-set `generation` and is still kept at `now` (no leeway: never
    /// past its `exp`). A newer generation empties the cache.
    pub(crate) fn get(&self, hash: &TokenHash, generation: u64, now: u64) -> Option<Arc<[u8]>> {
        let mut entries = self.entries();
        if entries.generation != generation {
            entries.advance(generation);
            return None;
        }
        let entry = entries.by_hash.get(hash)?;
        (now < entry.until).then(|| Arc::clone(&entry.claims))
    }

    /// Keeps a token's claims until `until` (its `exp`, or earlier), if
    /// it was verified under the newest generation seen. When full, the
    /// entries no longer kept go; if none has, all go: the bound holds,
    /// and the cost is one signature check per token seen again.
    pub(crate) fn insert(
        &self,
        hash: TokenHash,
        generation: u64,
        now: u64,
        until: u64,
        claims: Arc<[u8]>,
    ) {
        let mut entries = self.entries();
        if entries.generation != generation {
            entries.advance(generation);
        }
        if entries.generation != generation {
            return;
        }
        if entries.by_hash.len() >= CAPACITY {
            entries.by_hash.retain(|_, entry| now < entry.until);
            if entries.by_hash.len() >= CAPACITY {
                entries.by_hash.clear();
            }
        }
        entries.by_hash.insert(hash, Entry { claims, until });
    }

    /// How many tokens are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries().by_hash.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{CAPACITY, TokenHash, VerifiedTokens};

    fn claims() -> Arc<[u8]> {
        Arc::from(&br#"{"sub":"x"}"#[..])
    }

    #[test]
    fn a_token_is_kept_until_its_exp_and_for_its_key_set_only() {
        let cache = VerifiedTokens::new();
        let (token, other) = (TokenHash::of("a.b.c"), TokenHash::of("a.b.d"));
        cache.insert(token, 1, 100, 200, claims());
        assert_eq!(cache.get(&token, 1, 199).as_deref(), Some(&claims()[..]));
        assert!(cache.get(&token, 1, 200).is_none(), "never past exp");
        assert!(cache.get(&other, 1, 150).is_none());
        assert!(cache.get(&token, 2, 150).is_none(), "another key set");
        assert!(cache.get(&token, 1, 150).is_none(), "emptied on the change");
    }

    #[test]
    fn a_request_verified_with_an_older_key_set_neither_adds_nor_empties() {
        let cache = VerifiedTokens::new();
        let (token, late) = (TokenHash::of("a.b.c"), TokenHash::of("a.b.d"));
        cache.insert(token, 2, 100, 200, claims());
        cache.insert(late, 1, 100, 200, claims());
        assert!(cache.get(&late, 1, 150).is_none());
        assert!(cache.get(&late, 2, 150).is_none(), "not added");
        assert!(cache.get(&token, 2, 150).is_some(), "not emptied");
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let cache = VerifiedTokens::new();
        for n in 0..CAPACITY * 2 + 7 {
            let hash = TokenHash::of(&format!("token{n}"));
            cache.insert(hash, 0, 100, 200, claims());
            assert!(cache.len() <= CAPACITY);
        }
    }
}
