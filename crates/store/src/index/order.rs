//! Precomputed orders of a segment's documents, for large result sets.
//!
//! Feeding every match to the collector costs a column lookup per match: ~15 ms for the 150,000
//! open cases of a 1M-case domain, ~80 ms for the 800,000 closed ones. With exact totals the
//! matches must be visited anyway, but only as bits: the first `k` in the query's order are found
//! by walking the segment's documents in that order (computed once per segment and order, then
//! shared by every search until the segment is merged away) and keeping those whose bit is set.
//! The walk stops after `k` hits; at worst it crosses the segment once (~5 ns a document).
//!
//! The same orders answer range filters: over the documents sorted by one field ascending, the
//! values within bounds are one contiguous slice, found by two binary searches.

use super::cache::SegmentCache;
use super::collect::SortCollector;
use std::sync::Arc;
use tantivy::index::SegmentId;
use tantivy::{DocId, SegmentReader};

/// The orders kept at most, counted in documents (4 bytes each): 64 MB. Searches that ask for
/// more orders than fit evict the least recently used.
const BUDGET_DOCS: usize = 16 << 20;

/// The thresholds that choose between equivalent ways of indexing and searching (tests set them
/// to force each way).
#[derive(Clone, Copy, Debug)]
pub struct Tuning {
    /// Matches in a segment from which walking an order pays off (below it, looking up each
    /// match is cheaper than the walk's expected length).
    pub walk_min_matches: usize,
    /// Segments smaller than this are never given a precomputed order: recent writes land in
    /// small segments that come and go with every commit.
    pub order_min_docs: DocId,
    /// A Text field is indexed without words and grams while it has shown at most this many
    /// distinct values in a domain (`encode::TermUse::FewValued`); 0 indexes them always.
    pub few_values_max: usize,
    /// ... and only once it has shown at least this many values in all: a field of mostly
    /// distinct values (titles, ids) is then never marked, and searching it never needs the
    /// marked documents' one-by-one check.
    pub few_values_min_seen: u64,
    /// `contains` checks each distinct value of a segment's column once when it has at most
    /// this many, and verifies the few-valued documents one by one otherwise.
    pub few_scan_max_values: u64,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            walk_min_matches: 2048,
            order_min_docs: 16_384,
            few_values_max: 256,
            few_values_min_seen: 1024,
            few_scan_max_values: 4096,
        }
    }
}

impl Tuning {
    /// Whether `reader`'s documents may be walked in an order.
    pub fn ordered(&self, reader: &SegmentReader) -> bool {
        reader.max_doc() >= self.order_min_docs
    }
}

pub struct Orders(SegmentCache<Vec<(String, bool)>, [DocId]>);

impl Default for Orders {
    fn default() -> Orders {
        Orders(SegmentCache::new(BUDGET_DOCS, <[DocId]>::len))
    }
}

impl Orders {
    /// `reader`'s documents in the order of `sorts` (`sort.<field>` columns, descending?), then
    /// case id; computed on first use, outside the lock: a search that needs another order (or
    /// the same one, computed twice then) is not held up by a sort of a million documents.
    pub fn get(
        &self,
        reader: &SegmentReader,
        sorts: &[(String, bool)],
    ) -> tantivy::Result<Arc<[DocId]>> {
        let segment = reader.segment_id();
        if let Some(docs) = self.0.get(segment, sorts) {
            return Ok(docs);
        }
        let plan = SortCollector {
            sorts: sorts.to_vec(),
            after: None,
            k: 0,
        };
        let docs: Arc<[DocId]> = plan.segment(reader)?.permutation(reader.max_doc()).into();
        Ok(self.0.insert(segment, sorts.to_vec(), docs))
    }

    /// Forgets the orders of segments no longer searched (merged into others).
    pub fn keep_only(&self, live: &[SegmentId]) {
        self.0.keep_only(live);
    }
}
