//! Per-domain values cached between schema changes. An entry is tagged with the store's schema
//! generation (see `Store::schema_generation`) read *before* the value was loaded, so a change
//! racing with the load can only make the entry stale at once, never hide behind it.

use std::collections::HashMap;
use std::sync::Mutex;

/// (account, domain id) → value, valid while the store's schema generation is unchanged. Other
/// keys (a template: account, domain id, template id) are possible.
pub(crate) struct GenerationCache<V, K = (String, String)> {
    entries: Mutex<HashMap<K, (u64, V)>>,
}

impl<V, K> Default for GenerationCache<V, K> {
    fn default() -> Self {
        GenerationCache {
            entries: Mutex::default(),
        }
    }
}

impl<V: Clone, K: Eq + std::hash::Hash> GenerationCache<V, K> {
    /// The cached value for `key` if it was read at `generation`. `None` generation (a backend
    /// that cannot tell) never hits.
    pub fn get(&self, generation: Option<u64>, key: &K) -> Option<V> {
        let g = generation?;
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| *at == g)
            .map(|(_, v)| v.clone())
    }

    /// Remembers `value`, loaded after `generation` was read.
    pub fn put(&self, generation: Option<u64>, key: K, value: V) {
        if let Some(g) = generation {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.insert(key, (g, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_only_at_the_generation_it_was_loaded_at() {
        let c = GenerationCache::default();
        let k = ("a".to_owned(), "d".to_owned());
        c.put(Some(3), k.clone(), 7);
        assert_eq!(c.get(Some(3), &k), Some(7));
        assert_eq!(c.get(Some(4), &k), None);
        assert_eq!(c.get(None, &k), None);
        c.put(None, k.clone(), 9);
        assert_eq!(c.get(Some(3), &k), Some(7));
    }
}
