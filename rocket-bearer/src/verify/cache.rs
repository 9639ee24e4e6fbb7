//! Tokens already verified, so that a client sending the same token again
//! costs a hash and a lookup instead of a signature check (as gateways
//! such as Envoy's JWT filter do).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest::{SHA256, digest};
use serde_json::Value;

/// How many tokens are kept: at about 1 KiB each (the claims of a typical
/// access token, parsed), a few MiB per instance.
pub(crate) const CAPACITY: usize = 4096;

/// The claims of each token verified, by the SHA-256 of the token (the
/// token itself is not kept), until its `exp`, for one key-set generation.
pub(crate) struct VerifiedTokens {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    generation: u64,
    by_hash: HashMap<[u8; 32], Entry>,
}

struct Entry {
    claims: Arc<Value>,
    exp: u64,
}

fn hash(token: &str) -> [u8; 32] {
    let mut hash = [0; 32];
    hash.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    hash
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

    /// The claims of `token` if it was verified under key-set `generation`
    /// and has not expired at `now` (no leeway: never past its `exp`).
    pub(crate) fn get(&self, token: &str, generation: u64, now: u64) -> Option<Arc<Value>> {
        let hash = hash(token);
        let mut entries = self.entries();
        if entries.generation != generation {
            entries.by_hash.clear();
            entries.generation = generation;
            return None;
        }
        let entry = entries.by_hash.get(&hash)?;
        (now < entry.exp).then(|| Arc::clone(&entry.claims))
    }

    /// Keeps `token`'s claims. When full, the expired entries go; if none
    /// has, all go: the bound holds, and the cost is one signature check
    /// per token seen again.
    pub(crate) fn insert(
        &self,
        token: &str,
        generation: u64,
        now: u64,
        exp: u64,
        claims: Arc<Value>,
    ) {
        let hash = hash(token);
        let mut entries = self.entries();
        if entries.generation != generation {
            entries.by_hash.clear();
            entries.generation = generation;
        }
        if entries.by_hash.len() >= CAPACITY {
            entries.by_hash.retain(|_, entry| now < entry.exp);
            if entries.by_hash.len() >= CAPACITY {
                entries.by_hash.clear();
            }
        }
        entries.by_hash.insert(hash, Entry { claims, exp });
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

    use serde_json::json;

    use super::{CAPACITY, VerifiedTokens};

    #[test]
    fn a_token_is_kept_until_its_exp_and_for_its_key_set_only() {
        let cache = VerifiedTokens::new();
        cache.insert("a.b.c", 1, 100, 200, Arc::new(json!({"sub": "x"})));
        assert!(cache.get("a.b.c", 1, 199).is_some());
        assert!(cache.get("a.b.c", 1, 200).is_none(), "never past exp");
        assert!(cache.get("a.b.d", 1, 150).is_none());
        assert!(cache.get("a.b.c", 2, 150).is_none(), "another key set");
        assert!(
            cache.get("a.b.c", 1, 150).is_none(),
            "emptied on the change"
        );
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let cache = VerifiedTokens::new();
        for n in 0..CAPACITY * 2 + 7 {
            cache.insert(&format!("token{n}"), 0, 100, 200, Arc::new(json!({})));
            assert!(cache.len() <= CAPACITY);
        }
    }
}
