//! Bitsets of a segment's dense terms (a query cache, like Lucene's).
//!
//! A term that most searches name and that matches a large share of a segment (`status =
//! closed`: 800,000 of 1M cases) costs ~5 ns a document to decode from its postings on every
//! search. Kept as a bitset (one bit a document: 125 KB at 1M), it is copied in microseconds,
//! and a conjunction of two such terms is intersected a bucket of 64 documents at a time.
//! Segments never change once written (deletes are applied afterwards from the alive bitset), so
//! an entry stays true until its segment is merged away.

use super::order::Tuning;
use std::sync::{Arc, Mutex};
use tantivy::index::SegmentId;
use tantivy::schema::IndexRecordOption;
use tantivy::{BitSet, DocSet, SegmentReader, TERMINATED, Term};

/// Bytes of bitsets kept at most: 512 bitsets of 1M documents.
const BUDGET_BYTES: usize = 64 << 20;

/// A term is dense in a segment when it matches at least 1/`DENSITY` of its documents: from
/// there a bitset is smaller than the term's postings and faster to combine.
const DENSITY: u32 = 32;

struct Entry {
    segment: SegmentId,
    term: Term,
    bits: Arc<BitSet>,
    used: u64,
}

#[derive(Default)]
pub struct DenseTerms {
    entries: Mutex<(Vec<Entry>, u64)>,
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
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (entries, clock) = &mut *guard;
        *clock += 1;
        if let Some(e) = entries
            .iter_mut()
            .find(|e| e.segment == segment && e.term == *term)
        {
            e.used = *clock;
            return Ok(Some(e.bits.clone()));
        }
        let mut bits = BitSet::with_max_value(reader.max_doc());
        if let Some(mut postings) = index.read_postings(term, IndexRecordOption::Basic)? {
            let mut doc = postings.doc();
            while doc != TERMINATED {
                bits.insert(doc);
                doc = postings.advance();
            }
        }
        let bits = Arc::new(bits);
        entries.push(Entry {
            segment,
            term: term.clone(),
            bits: bits.clone(),
            used: *clock,
        });
        let mut total: usize = entries.iter().map(|e| size(&e.bits)).sum();
        while total > BUDGET_BYTES && entries.len() > 1 {
            let Some(oldest) = (0..entries.len()).min_by_key(|i| entries[*i].used) else {
                break;
            };
            total -= size(&entries.swap_remove(oldest).bits);
        }
        Ok(Some(bits))
    }

    /// Forgets the bitsets of segments no longer searched.
    pub fn keep_only(&self, live: &[SegmentId]) {
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        guard.0.retain(|e| live.contains(&e.segment));
    }
}
