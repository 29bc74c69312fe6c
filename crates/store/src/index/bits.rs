//! Bitsets of a segment's dense terms (a query cache, like Lucene's).
//!
//! A term that most searches name and that matches a large share of a segment (`status =
//! closed`: 800,000 of 1M cases) costs ~5 ns a document to decode from its postings on every
//! search. Kept as a bitset (one bit a document: 125 KB at 1M), it is copied in microseconds,
//! and a conjunction of two such terms is intersected a bucket of 64 documents at a time.
//! Segments never change once written (deletes are applied afterwards from the alive bitset), so
//! an entry stays true until its segment is merged away.

use super::cache::SegmentCache;
use super::order::Tuning;
use std::sync::Arc;
use tantivy::index::SegmentId;
use tantivy::schema::IndexRecordOption;
use tantivy::{BitSet, DocSet, SegmentReader, TERMINATED, Term};

/// Bytes of bitsets kept at most: 512 bitsets of 1M documents.
const BUDGET_BYTES: usize = 64 << 20;

/// A term is dense in a segment when it matches at least 1/`DENSITY` of its documents: from
/// there a bitset is smaller than the term's postings and faster to combine.
const DENSITY: u32 = 32;

pub struct DenseTerms(SegmentCache<Term, BitSet>);

impl Default for DenseTerms {
    fn default() -> DenseTerms {
        DenseTerms(SegmentCache::new(BUDGET_BYTES, size))
    }
}

fn size(bits: &BitSet) -> usize {
    bits.max_value() as usize / 8
}

impl DenseTerms {
    /// The documents of `reader` that have `term` (deleted ones included), when the term is
    /// dense in a segment large enough to keep an order for (see `Tuning`); `None` otherwise.
    pub fn get(
        &self,
        reader: &SegmentReader,
        term: &Term,
        tuning: Tuning,
    ) -> tantivy::Result<Option<Arc<BitSet>>> {
        if !tuning.ordered(reader) {
            return Ok(None);
        }
        let index = reader.inverted_index(term.field())?;
        let freq = index.doc_freq(term)?;
        if freq == 0 || freq.saturating_mul(DENSITY) < reader.max_doc() {
            return Ok(None);
        }
        let segment = reader.segment_id();
        if let Some(bits) = self.0.get(segment, term) {
            return Ok(Some(bits));
        }
        let mut bits = BitSet::with_max_value(reader.max_doc());
        if let Some(mut postings) = index.read_postings(term, IndexRecordOption::Basic)? {
            let mut doc = postings.doc();
            while doc != TERMINATED {
                bits.insert(doc);
                doc = postings.advance();
            }
        }
        Ok(Some(self.0.insert(segment, term.clone(), Arc::new(bits))))
    }

    /// Forgets the bitsets of segments no longer searched.
    pub fn keep_only(&self, live: &[SegmentId]) {
        self.0.keep_only(live);
    }
}
