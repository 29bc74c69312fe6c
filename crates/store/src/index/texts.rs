//! The lower-cased values of one text column of a segment, by ordinal, for verifying `contains`.
//!
//! Resolving candidates through the column's dictionary decodes every term between them: with
//! nearly distinct titles and a common needle that is the whole dictionary, per query (~6 ms per
//! 100,000 cases). Decoded once into one buffer, a candidate costs an ordinal lookup and a
//! substring search. Kept for large segments only, within a memory budget, least recently used
//! out; a segment without one is verified through the dictionary as before.

use std::sync::{Arc, Mutex};
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

struct Entry {
    segment: SegmentId,
    column: String,
    texts: Arc<LowerTexts>,
    used: u64,
}

#[derive(Default)]
pub struct Texts {
    entries: Mutex<(Vec<Entry>, u64)>,
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
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (entries, clock) = &mut *guard;
        *clock += 1;
        if let Some(e) = entries
            .iter_mut()
            .find(|e| e.segment == segment && e.column == name)
        {
            e.used = *clock;
            return Ok(Some(e.texts.clone()));
        }
        let texts = Arc::new(LowerTexts::decode(column)?);
        if texts.size() > BUDGET_BYTES {
            return Ok(None);
        }
        entries.push(Entry {
            segment,
            column: name.to_owned(),
            texts: texts.clone(),
            used: *clock,
        });
        let mut total: usize = entries.iter().map(|e| e.texts.size()).sum();
        while total > BUDGET_BYTES {
            let Some(oldest) = (0..entries.len()).min_by_key(|i| entries[*i].used) else {
                break;
            };
            total -= entries.swap_remove(oldest).texts.size();
        }
        Ok(Some(texts))
    }

    /// Forgets the values of segments no longer searched.
    pub fn keep_only(&self, live: &[SegmentId]) {
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        guard.0.retain(|e| live.contains(&e.segment));
    }
}
