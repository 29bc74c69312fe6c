//! Keeps the first `k` matches of a segment in the query's order after the keyset cursor.
//!
//! Two ways to use a segment's `SegmentSort`: feed it every match (`collect`, then
//! `first_docs`), which costs a column lookup per match; or, for large match sets, walk a
//! precomputed order of the segment's documents (`order::Orders`) and stop after `k` matches
//! (`permutation`, `cursor_start`). Both orders are the same: sort components, then case id;
//! `hit` then turns the documents that reach the cross-segment merge into text.
//!
//! Within a segment, values are compared by their ordinal in the segment's sorted dictionary of
//! the `sort` column (byte order = the evaluator's value order, see `encode`), so no string is
//! touched per document. The cursor is translated into each segment's ordinals once. Only the
//! kept hits are turned back into strings, to merge segments.

use std::cmp::Ordering;
use tantivy::columnar::StrColumn;
use tantivy::{DocId, SegmentReader};

/// Sorts are at most 2 (the model's limit); one more slot for the case id.
const SLOTS: usize = 3;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Sort keys (encoded as in the `sort` column), `None` where the case has no value.
    pub keys: Vec<Option<String>>,
    pub case_id: String,
}

pub struct SortCollector {
    /// `sort.<field id>` column names and whether each is descending.
    pub sorts: Vec<(String, bool)>,
    /// Only hits strictly after this position are kept.
    pub after: Option<Hit>,
    pub k: usize,
}

/// One component of a comparable key: missing values last in either direction.
fn component(ord: Option<u64>, descending: bool) -> (u8, u64) {
    match ord {
        None => (1, 0),
        Some(o) if descending => (0, u64::MAX - o),
        Some(o) => (0, o),
    }
}

/// Orders two hits (across segments) like the reference evaluator.
pub fn compare(a: &Hit, b: &Hit, descending: &[bool]) -> Ordering {
    for ((x, y), desc) in a.keys.iter().zip(&b.keys).zip(descending) {
        let o = match (x, y) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) if *desc => y.cmp(x),
            (Some(x), Some(y)) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.case_id.cmp(&b.case_id)
}

/// Where a cursor value falls in a segment's dictionary: the first ordinal not below it, and
/// whether that ordinal is the value itself.
#[derive(Clone, Copy)]
struct Position {
    ord: u64,
    exact: bool,
}

fn position(column: Option<&StrColumn>, value: &str) -> tantivy::Result<Position> {
    let Some(column) = column else {
        return Ok(Position {
            ord: 0,
            exact: false,
        });
    };
    let dict = column.dictionary();
    if let Some(ord) = dict.term_ord(value.as_bytes())? {
        return Ok(Position { ord, exact: true });
    }
    let mut stream = dict.range().ge(value.as_bytes()).into_stream()?;
    let ord = if stream.advance() {
        stream.term_ord()
    } else {
        dict.num_terms() as u64
    };
    Ok(Position { ord, exact: false })
}

/// `ord` (a value of this segment) compared with a cursor value at `p`.
fn against(ord: u64, p: Position) -> Ordering {
    if ord < p.ord {
        Ordering::Less
    } else if ord == p.ord && p.exact {
        Ordering::Equal
    } else {
        Ordering::Greater
    }
}

impl SortCollector {
    /// The collector of one segment: the sort columns opened, the cursor in its ordinals.
    pub fn segment(&self, reader: &SegmentReader) -> tantivy::Result<SegmentSort> {
        let ff = reader.fast_fields();
        let mut columns = Vec::new();
        for (name, _) in &self.sorts {
            columns.push(ff.str(name)?);
        }
        let ids = ff.str("case_id")?.ok_or_else(|| {
            tantivy::TantivyError::SchemaError("case_id is not a fast field".into())
        })?;
        let after = match &self.after {
            None => None,
            Some(hit) => {
                let mut keys = Vec::new();
                for (i, key) in hit.keys.iter().enumerate() {
                    keys.push(match key {
                        Some(v) => Some(position(columns[i].as_ref(), v)?),
                        None => None,
                    });
                }
                Some((keys, position(Some(&ids), &hit.case_id)?))
            }
        };
        Ok(SegmentSort {
            descending: self.sorts.iter().map(|(_, d)| *d).collect(),
            columns,
            ids,
            after,
            k: self.k,
            candidates: Vec::new(),
            threshold: None,
        })
    }
}

pub struct SegmentSort {
    descending: Vec<bool>,
    columns: Vec<Option<StrColumn>>,
    ids: StrColumn,
    after: Option<(Vec<Option<Position>>, Position)>,
    k: usize,
    /// Every match past the cursor with its sort components (the case id is looked up only
    /// where it decides, at harvest). Selecting the first `k` of a vector at the end costs far
    /// less than keeping a heap per document: in the common newest-first order almost every
    /// document would displace the heap's worst.
    candidates: Vec<(SortKey, DocId)>,
    /// Once pruned: no document with a larger key can be among the first `k`.
    threshold: Option<SortKey>,
}

/// The sort components of a document (unused slots stay zero).
pub(super) type SortKey = [(u8, u64); SLOTS - 1];

impl SegmentSort {
    fn ord(column: Option<&StrColumn>, doc: DocId) -> Option<u64> {
        column.and_then(|c| c.ords().first(doc))
    }

    pub(super) fn key(&self, doc: DocId) -> SortKey {
        let mut key = [(0u8, 0u64); SLOTS - 1];
        for (i, column) in self.columns.iter().enumerate() {
            key[i] = component(Self::ord(column.as_ref(), doc), self.descending[i]);
        }
        key
    }

    pub(super) fn case_ord(&self, doc: DocId) -> u64 {
        Self::ord(Some(&self.ids), doc).unwrap_or(u64::MAX)
    }

    /// True when `doc` comes strictly after the cursor.
    pub(super) fn past_cursor(&self, doc: DocId) -> bool {
        let Some((keys, id)) = &self.after else {
            return true;
        };
        for (i, cursor) in keys.iter().enumerate() {
            let o = match (Self::ord(self.columns[i].as_ref(), doc), cursor) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(ord), Some(p)) => {
                    let o = against(ord, *p);
                    if self.descending[i] { o.reverse() } else { o }
                }
            };
            if o != Ordering::Equal {
                return o == Ordering::Greater;
            }
        }
        Self::ord(Some(&self.ids), doc).is_some_and(|ord| against(ord, *id) == Ordering::Greater)
    }

    /// Every document of the segment (deleted ones too: matches never include them) in this
    /// order. Computed once per segment and order and cached by `order::Orders`.
    pub(super) fn permutation(&self, max_doc: DocId) -> Vec<DocId> {
        let mut keyed: Vec<(SortKey, u64, DocId)> = (0..max_doc)
            .map(|d| (self.key(d), self.case_ord(d), d))
            .collect();
        keyed.sort_unstable();
        keyed.into_iter().map(|(_, _, d)| d).collect()
    }

    /// Where the documents strictly after the cursor begin in `order` (a `permutation`).
    pub(super) fn cursor_start(&self, order: &[DocId]) -> usize {
        if self.after.is_none() {
            return 0;
        }
        order.partition_point(|d| !self.past_cursor(*d))
    }

    /// The first `k` documents collected, in order.
    pub(super) fn first_docs(&mut self) -> Vec<DocId> {
        self.first_k()
    }

    /// Keeps only the candidates that can still be among the first `k`: those whose key is at
    /// most the k-th smallest (ties are kept, the case id decides them at harvest). Later
    /// documents with a larger key are then refused with one comparison, so the vector stays
    /// small however many documents match.
    fn prune(&mut self) {
        let k = self.k;
        if k == 0 || self.candidates.len() <= k {
            return;
        }
        self.candidates
            .select_nth_unstable_by(k - 1, |a, b| a.0.cmp(&b.0));
        let boundary = self.candidates[k - 1].0;
        self.candidates.retain(|c| c.0 <= boundary);
        self.threshold = Some(boundary);
    }

    /// The first `k` candidates in order (sort components, then case id).
    fn first_k(&mut self) -> Vec<DocId> {
        let k = self.k.min(self.candidates.len());
        if k == 0 {
            return Vec::new();
        }
        let mut candidates = std::mem::take(&mut self.candidates);
        if candidates.len() > k {
            candidates.select_nth_unstable_by(k - 1, |a, b| a.0.cmp(&b.0));
            let boundary = candidates[k - 1].0;
            // Everything strictly before the boundary key is in; among the candidates that
            // share it (anywhere in the vector), the case id decides.
            let (mut chosen, rest): (Vec<_>, Vec<_>) =
                candidates.into_iter().partition(|c| c.0 < boundary);
            let mut ties: Vec<(u64, DocId)> = rest
                .into_iter()
                .filter(|c| c.0 == boundary)
                .map(|(_, d)| (self.case_ord(d), d))
                .collect();
            ties.sort_unstable();
            let room = k - chosen.len();
            chosen.extend(ties.into_iter().take(room).map(|(_, d)| (boundary, d)));
            candidates = chosen;
        }
        let mut keyed: Vec<(SortKey, u64, DocId)> = candidates
            .into_iter()
            .map(|(key, d)| (key, self.case_ord(d), d))
            .collect();
        keyed.sort_unstable();
        keyed.into_iter().map(|(_, _, d)| d).collect()
    }
}

impl SegmentSort {
    /// Offers one match (in document order) for the first `k`.
    pub(super) fn collect(&mut self, doc: DocId) {
        if self.k == 0 || !self.past_cursor(doc) {
            return;
        }
        let key = self.key(doc);
        if self.threshold.is_some_and(|t| key > t) {
            return;
        }
        self.candidates.push((key, doc));
        if self.candidates.len() >= self.k.saturating_mul(2).max(1024) {
            self.prune();
        }
    }

    /// The sort keys and case ids of `docs`, which are in order: only the hits kept are turned
    /// back into strings, to be merged with other segments'.
    pub(super) fn hit(&self, doc: DocId) -> Hit {
        self.hits(&[doc]).pop().unwrap_or_else(|| Hit {
            keys: Vec::new(),
            case_id: String::new(),
        })
    }

    pub(super) fn hits(&self, docs: &[DocId]) -> Vec<Hit> {
        let mut out = Vec::with_capacity(docs.len());
        let mut buf = String::new();
        let text = |column: &StrColumn, ord: u64, buf: &mut String| -> Option<String> {
            buf.clear();
            matches!(column.ord_to_str(ord, buf), Ok(true)).then(|| buf.clone())
        };
        for &doc in docs {
            let keys = self
                .columns
                .iter()
                .map(|c| {
                    c.as_ref()
                        .and_then(|c| Self::ord(Some(c), doc).and_then(|o| text(c, o, &mut buf)))
                })
                .collect();
            let case_id = Self::ord(Some(&self.ids), doc)
                .and_then(|o| text(&self.ids, o, &mut buf))
                .unwrap_or_default();
            out.push(Hit { keys, case_id });
        }
        out
    }
}
