//! The lower-cased values of one text column of a segment, by ordinal, for verifying `contains`.
//!
//! Resolving candidates through the column's dictionary decodes every term between them: with
//! nearly distinct titles and a common needle that is the whole dictionary, per query (~6 ms per
//! 100,000 cases). Decoded once into one buffer, a candidate costs an ordinal lookup and a
//! substring search. Kept for large segments only, within a memory budget, least recently used
//! out; a segment without one is verified through the dictionary as before.

use super::cache::SegmentCache;
use std::sync::Arc;
use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;

/// Bytes of text kept at most.
const BUDGET_BYTES: usize = 256 << 20;

/// One column's values, lower-cased, concatenated in ordinal order.
pub struct LowerTexts {
    bytes: String,
    /// `ends[ord]` is where value `ord` ends in `bytes` (always a character boundary).
    ends: Vec<usize>,
}

impl LowerTexts {
    pub fn get(&self, ord: u64) -> &str {
        let i = ord as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    fn size(&self) -> usize {
        self.bytes.len() + self.ends.len() * std::mem::size_of::<usize>()
    }

    fn decode(column: &StrColumn) -> std::io::Result<LowerTexts> {
        let dict = column.dictionary();
        let mut out = LowerTexts {
            bytes: String::new(),
            ends: Vec::with_capacity(dict.num_terms()),
        };
        let mut stream = dict.stream()?;
        while stream.advance() {
            // Values are UTF-8 strings; an undecodable one could contain no needle.
            if let Ok(s) = std::str::from_utf8(stream.key()) {
                out.bytes.push_str(&s.to_lowercase());
            }
            out.ends.push(out.bytes.len());
        }
        Ok(out)
    }
}

pub struct Texts(SegmentCache<String, LowerTexts>);

impl Default for Texts {
    fn default() -> Texts {
        Texts(SegmentCache::new(BUDGET_BYTES, LowerTexts::size))
    }
}

impl Texts {
    /// The lower-cased values of `column` (named `name`) in `segment`, decoded on first use;
    /// `None` when they would not fit the budget.
    pub fn get(
        &self,
        segment: SegmentId,
        name: &str,
        column: &StrColumn,
    ) -> std::io::Result<Option<Arc<LowerTexts>>> {
        if let Some(texts) = self.0.get(segment, name) {
            return Ok(Some(texts));
        }
        let texts = LowerTexts::decode(column)?;
        if texts.size() > BUDGET_BYTES {
            return Ok(None);
        }
        Ok(Some(self.0.insert(
            segment,
            name.to_owned(),
            Arc::new(texts),
        )))
    }

    /// Forgets the values of segments no longer searched.
    pub fn keep_only(&self, live: &[SegmentId]) {
        self.0.keep_only(live);
    }
}
