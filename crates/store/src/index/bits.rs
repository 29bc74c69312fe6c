//! Bitsets of a segment's dense terms (a query cache, like Lucene's).
//!
//! A term that most searches name and that matches a large share of a segment (`status =
//! closed`: 800,000 of 1M cases) costs ~5 ns a document to decode from its postings on every
//! search. Kept as a bitset (one bit a document: 125 KB at 1M), it is copied in microseconds,
//! and a conjunction of two such terms is intersected a bucket of 64 documents at a time.
//! Segments never change once written (deletes are applied afterwards from the alive bitset), so
//! an entry stays true until its segment is merged away. The union of the terms with a prefix
//! (a word being typed, a short `contains` needle) is kept the same way when it is dense.

use super::cache::SegmentCache;
use super::docbits::DocBits;
use super::order::Tuning;
use std::sync::Arc;
use tantivy::index::SegmentId;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{SegmentReader, Term};

/// Bytes of bitsets kept at most: 512 bitsets of 1M documents.
const BUDGET_BYTES: usize = 64 << 20;

/// A term is dense in a segment when it matches at least 1/`DENSITY` of its documents: from
/// there a bitset is smaller than the term's postings and faster to combine.
const DENSITY: u32 = 32;

#[derive(PartialEq)]
enum Key {
    Term(Term),
    /// The terms of the `terms` field that start with this.
    Prefix(String),
}

pub struct DenseTerms(SegmentCache<Key, DocBits>);

impl Default for DenseTerms {
    fn default() -> DenseTerms {
        DenseTerms(SegmentCache::new(BUDGET_BYTES, DocBits::size))
    }
}

impl DenseTerms {
    /// The documents of `reader` that have `term` (deleted ones included), when the term is
    /// dense in a segment large enough to keep an order for (see `Tuning`); `None` otherwise.
    pub fn get(
        &self,
        reader: &SegmentReader,
        term: &Term,
        tuning: Tuning,
    ) -> tantivy::Result<Option<Arc<DocBits>>> {
        if !tuning.ordered(reader) {
            return Ok(None);
        }
        let index = reader.inverted_index(term.field())?;
        let freq = index.doc_freq(term)?;
        if freq == 0 || freq.saturating_mul(DENSITY) < reader.max_doc() {
            return Ok(None);
        }
        let segment = reader.segment_id();
        let key = Key::Term(term.clone());
        if let Some(bits) = self.0.get(segment, &key) {
            return Ok(Some(bits));
        }
        let bits = postings_bits(reader, term)?;
        Ok(Some(self.0.insert(segment, key, Arc::new(bits))))
    }

    /// The documents of `reader` with a term of `field` starting with `prefix` (deleted ones
    /// included): from the cache, else computed (and kept if dense, as `get` would).
    pub fn prefix(
        &self,
        reader: &SegmentReader,
        field: Field,
        prefix: &str,
        tuning: Tuning,
    ) -> tantivy::Result<Arc<DocBits>> {
        let ordered = tuning.ordered(reader);
        let key = Key::Prefix(prefix.to_owned());
        if ordered && let Some(bits) = self.0.get(reader.segment_id(), &key) {
            return Ok(bits);
        }
        let bits = Arc::new(prefix_bits(reader, field, prefix)?);
        if ordered && (bits.len() as u64) * u64::from(DENSITY) >= u64::from(reader.max_doc()) {
            return Ok(self.0.insert(reader.segment_id(), key, bits));
        }
        Ok(bits)
    }

    /// Forgets the bitsets of segments no longer searched.
    pub fn keep_only(&self, live: &[SegmentId]) {
        self.0.keep_only(live);
    }
}

/// The documents of `reader` that have `term`, read from its postings (deleted ones included).
pub fn postings_bits(reader: &SegmentReader, term: &Term) -> tantivy::Result<DocBits> {
    let mut bits = DocBits::empty(reader.max_doc());
    let index = reader.inverted_index(term.field())?;
    if let Some(postings) = index.read_postings(term, IndexRecordOption::Basic)? {
        bits.insert_all(postings);
    }
    Ok(bits)
}

/// The documents of `reader` with a term of `field` in [prefix, prefix + U+10FFFF): no indexed
/// term has that character after a prefix (terms are made of field ids, words and printable
/// values).
fn prefix_bits(reader: &SegmentReader, field: Field, prefix: &str) -> tantivy::Result<DocBits> {
    let mut found = DocBits::empty(reader.max_doc());
    let index = reader.inverted_index(field)?;
    let end = format!("{prefix}{}", char::MAX);
    let mut terms = index
        .terms()
        .range()
        .ge(prefix.as_bytes())
        .lt(end.as_bytes())
        .into_stream()?;
    while terms.advance() {
        found.insert_all(
            index.read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)?,
        );
    }
    Ok(found)
}
