//! What the per-segment caches (`order`, `bits`, `texts`) share: entries keyed by segment and
//! a key, a size budget with the least recently used out, and forgetting merged-away segments.
//! Values are computed by the caller outside the lock, so a slow computation never holds up a
//! search that needs another entry (two searches may compute the same one; the first kept wins).

use std::borrow::Borrow;
use std::sync::{Arc, Mutex};
use tantivy::index::SegmentId;

struct Entry<K, V: ?Sized> {
    segment: SegmentId,
    key: K,
    value: Arc<V>,
    used: u64,
}

pub struct SegmentCache<K, V: ?Sized> {
    entries: Mutex<(Vec<Entry<K, V>>, u64)>,
    budget: usize,
    size: fn(&V) -> usize,
}

impl<K, V: ?Sized> SegmentCache<K, V> {
    /// A cache holding values of at most `budget` in all, as measured by `size`.
    pub fn new(budget: usize, size: fn(&V) -> usize) -> Self {
        SegmentCache {
            entries: Mutex::new((Vec::new(), 0)),
            budget,
            size,
        }
    }

    pub fn get<Q>(&self, segment: SegmentId, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: PartialEq + ?Sized,
    {
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (entries, clock) = &mut *guard;
        *clock += 1;
        let e = entries
            .iter_mut()
            .find(|e| e.segment == segment && e.key.borrow() == key)?;
        e.used = *clock;
        Some(e.value.clone())
    }

    /// Keeps `value` (unless another search kept one first: that one is returned) and evicts the
    /// least recently used entries beyond the budget.
    pub fn insert(&self, segment: SegmentId, key: K, value: Arc<V>) -> Arc<V>
    where
        K: PartialEq,
    {
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (entries, clock) = &mut *guard;
        *clock += 1;
        if let Some(e) = entries
            .iter_mut()
            .find(|e| e.segment == segment && e.key == key)
        {
            e.used = *clock;
            return e.value.clone();
        }
        entries.push(Entry {
            segment,
            key,
            value: value.clone(),
            used: *clock,
        });
        let mut total: usize = entries.iter().map(|e| (self.size)(&e.value)).sum();
        while total > self.budget && entries.len() > 1 {
            let Some(oldest) = (0..entries.len()).min_by_key(|i| entries[*i].used) else {
                break;
            };
            total -= (self.size)(&entries.swap_remove(oldest).value);
        }
        value
    }

    /// Forgets the entries of segments no longer searched (merged into others).
    pub fn keep_only(&self, live: &[SegmentId]) {
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        guard.0.retain(|e| live.contains(&e.segment));
    }
}
