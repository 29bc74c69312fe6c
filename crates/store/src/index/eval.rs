//! Evaluates a compiled query (`query::Plan`) on one segment at a time: every leaf computed
//! whole as a set of the segment's documents (`DocBits`), combined word by word. The leaves:
//! terms (postings, or cached bitsets where dense: `bits`), prefixes, ranges over the sort
//! column (`SortRange`, from the segment's orders), candidates verified against the stored values
//! (`Verify`, through `texts`), and few-valued fields' values checked once each (`Few`).

use super::bits::{DenseTerms, postings_bits};
use super::docbits::DocBits;
use super::encode;
use super::order::{Orders, Tuning};
use super::query::Plan;
use super::texts::Texts;
use caseload_domain::search::words;
use caseload_domain::value::Value;
use std::ops::Bound;
use std::sync::Arc;
use tantivy::columnar::StrColumn;
use tantivy::{DocId, SegmentReader, Term};

/// A compiled query, ready to be evaluated segment by segment.
pub struct Compiled {
    pub(super) scope: Term,
    pub(super) plan: Plan,
    pub(super) fields_terms: tantivy::schema::Field,
    pub(super) orders: Arc<Orders>,
    pub(super) texts: Arc<Texts>,
    pub(super) dense: Arc<DenseTerms>,
    pub(super) tuning: Tuning,
}

/// A leaf's or a subtree's documents: shared when they are a cached bitset (copied only if
/// changed), owned otherwise.
enum Set {
    Shared(Arc<DocBits>),
    Owned(DocBits),
}

impl Set {
    fn get(&self) -> &DocBits {
        match self {
            Set::Shared(b) => b,
            Set::Owned(b) => b,
        }
    }

    fn owned(self) -> DocBits {
        match self {
            Set::Shared(b) => Arc::unwrap_or_clone(b),
            Set::Owned(b) => b,
        }
    }
}

impl Compiled {
    /// The segment's live documents in the domain that match the query. Most indexes hold one
    /// domain: a segment whose every document is in scope skips intersecting with it.
    pub fn matches(&self, reader: &SegmentReader) -> tantivy::Result<DocBits> {
        let mut found = self.eval(&self.plan, reader)?.owned();
        let index = reader.inverted_index(self.scope.field())?;
        if index.doc_freq(&self.scope)? != reader.max_doc() {
            found.and(self.term(&self.scope, reader)?.get());
        }
        if let Some(alive) = DocBits::alive(reader) {
            found.and(&alive);
        }
        Ok(found)
    }

    fn term(&self, term: &Term, reader: &SegmentReader) -> tantivy::Result<Set> {
        Ok(match self.dense.get(reader, term, self.tuning)? {
            Some(bits) => Set::Shared(bits),
            None => Set::Owned(postings_bits(reader, term)?),
        })
    }

    fn eval(&self, plan: &Plan, reader: &SegmentReader) -> tantivy::Result<Set> {
        let max_doc = reader.max_doc();
        Ok(match plan {
            Plan::All => Set::Owned(DocBits::full(max_doc)),
            Plan::Nothing => Set::Owned(DocBits::empty(max_doc)),
            Plan::Term(t) => self.term(t, reader)?,
            Plan::Prefix(prefix) => {
                Set::Shared(
                    self.dense
                        .prefix(reader, self.fields_terms, prefix, self.tuning)?,
                )
            }
            Plan::And(children) => {
                // The positive clauses intersected first (stopping once nothing is left), then
                // the negated ones taken away: no complement of a whole segment is computed.
                let positive = children.iter().filter(|c| !matches!(c, Plan::Not(_)));
                let found = self.fold(positive, reader, DocBits::and, DocBits::is_empty)?;
                let mut found = found.unwrap_or_else(|| DocBits::full(max_doc));
                for child in children {
                    if let Plan::Not(inner) = child
                        && !found.is_empty()
                    {
                        found.and_not(self.eval(inner, reader)?.get());
                    }
                }
                Set::Owned(found)
            }
            Plan::Or(children) => {
                let found = self.fold(children.iter(), reader, DocBits::or, |_| false)?;
                Set::Owned(found.unwrap_or_else(|| DocBits::empty(max_doc)))
            }
            Plan::Not(inner) => {
                let mut found = self.eval(inner, reader)?.owned();
                found.complement();
                Set::Owned(found)
            }
            Plan::Range(range) => Set::Owned(range.docs(reader, &self.orders, self.tuning)?),
            Plan::Contains(candidates, verify) => {
                let candidates = self.eval(candidates, reader)?;
                Set::Owned(verify.docs(reader, candidates.get(), &self.texts, self.tuning)?)
            }
            Plan::Few(few) => Set::Owned(self.few(few, reader)?),
        })
    }

    /// The plans' documents combined with `op`, from the first plan's on (`None` without any);
    /// stops as soon as `done` says no further plan can change the result.
    fn fold<'p>(
        &self,
        plans: impl Iterator<Item = &'p Plan>,
        reader: &SegmentReader,
        op: fn(&mut DocBits, &DocBits),
        done: fn(&DocBits) -> bool,
    ) -> tantivy::Result<Option<DocBits>> {
        let mut found: Option<DocBits> = None;
        for plan in plans {
            let set = self.eval(plan, reader)?;
            let f = match &mut found {
                None => found.insert(set.owned()),
                Some(f) => {
                    op(f, set.get());
                    f
                }
            };
            if done(f) {
                break;
            }
        }
        Ok(found)
    }

    /// The documents marked few-valued for the field whose value passes the check. When the
    /// segment's column has few distinct values, each is checked once and the documents with a
    /// matching one are read from its equality term; otherwise (the field had few values only
    /// in some documents) the marked documents are verified one by one.
    fn few(&self, few: &Few, reader: &SegmentReader) -> tantivy::Result<DocBits> {
        let mut found = DocBits::empty(reader.max_doc());
        let marked = self.term(&few.marker, reader)?;
        let marked = marked.get();
        if marked.is_empty() {
            return Ok(found);
        }
        let Some(column) = reader.fast_fields().str(&few.verify.column)? else {
            return Ok(found);
        };
        let dict = column.dictionary();
        if dict.num_terms() as u64 > self.tuning.few_scan_max_values {
            return few.verify.docs(reader, marked, &self.texts, self.tuning);
        }
        let mut values = dict.stream()?;
        while values.advance() {
            // A marked value is a string; its equality term is the same key as in the column.
            let Ok(value) = std::str::from_utf8(values.key()) else {
                continue;
            };
            if few.verify.check.passes(value)
                && let Some(t) = encode::equal_term(&few.field_id, &Value::String(value.to_owned()))
            {
                found.or(self
                    .term(&Term::from_field_text(self.fields_terms, &t), reader)?
                    .get());
            }
        }
        // Other documents may have the same key for a value that is not a string (a field of
        // unknown type): only marked documents are answered here.
        found.and(marked);
        Ok(found)
    }
}

/// What a value is checked for.
#[derive(Clone, Debug)]
pub(super) enum Check {
    /// Contains this (lower-cased) needle, ignoring case.
    Contains(String),
    /// Has this (lower-cased) word, or a word beginning with it (`search::words`).
    Word { word: String, prefix: bool },
}

impl Check {
    fn passes(&self, value: &str) -> bool {
        match self {
            Check::Contains(needle) => value.to_lowercase().contains(needle.as_str()),
            Check::Word { word, prefix } => words(value)
                .iter()
                .any(|w| w == word || (*prefix && w.starts_with(word.as_str()))),
        }
    }
}

/// A field's values that pass a check.
#[derive(Clone, Debug)]
pub(super) struct Verify {
    pub(super) column: String,
    pub(super) check: Check,
}

/// `contains` or a search word among the values of one field indexed without grams or words.
#[derive(Debug)]
pub(super) struct Few {
    pub(super) field_id: String,
    /// `encode::few_term` of the field.
    pub(super) marker: Term,
    pub(super) verify: Verify,
}

impl Verify {
    /// The candidates whose value passes the check, through the decoded values (`texts`) in a
    /// large segment, else resolved in ordinal order in one pass over the column's dictionary
    /// (one document at a time would decode a block per document).
    fn docs(
        &self,
        reader: &SegmentReader,
        candidates: &DocBits,
        texts: &Texts,
        tuning: Tuning,
    ) -> tantivy::Result<DocBits> {
        let mut found = DocBits::empty(reader.max_doc());
        let Some(column) = reader.fast_fields().str(&self.column)? else {
            return Ok(found);
        };
        let mut docs: Vec<(u64, DocId)> = candidates
            .iter()
            .filter_map(|doc| Some((column.ords().first(doc)?, doc)))
            .collect();
        // The decoded values are lower-cased as a whole: good for `contains`, not for words
        // (lower-casing a whole text and each word alone differ on a final sigma).
        let decoded = if let (Check::Contains(_), true) = (&self.check, tuning.ordered(reader)) {
            texts
                .get(reader.segment_id(), &self.column, &column)
                .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))?
        } else {
            None
        };
        if let (Some(texts), Check::Contains(needle)) = (decoded, &self.check) {
            // In ordinal order the values are read front to back instead of at random: a cache
            // miss or two per candidate otherwise, most of the query's time.
            docs.sort_unstable();
            for (ord, doc) in docs {
                if texts.get(ord).contains(needle.as_str()) {
                    found.insert(doc);
                }
            }
        } else {
            let mut ords: Vec<u64> = docs.iter().map(|(o, _)| *o).collect();
            ords.sort_unstable();
            ords.dedup();
            let mut matching = Vec::with_capacity(ords.len());
            let mut next = ords.iter();
            column
                .dictionary()
                .sorted_ords_to_term_cb(&ords, |bytes| {
                    let ord = next.next().copied();
                    let hit = std::str::from_utf8(bytes).is_ok_and(|v| self.check.passes(v));
                    if let (Some(ord), true) = (ord, hit) {
                        matching.push(ord);
                    }
                })
                .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))?;
            for (ord, doc) in docs {
                if matching.binary_search(&ord).is_ok() {
                    found.insert(doc);
                }
            }
        }
        Ok(found)
    }
}

/// Documents whose `sort` value for one field lies within bounds. In a large segment they are
/// a slice of the segment's documents ordered by that field (see `order`); a small one is
/// scanned, one column lookup per document.
#[derive(Debug)]
pub(super) struct SortRange {
    pub(super) column: String,
    pub(super) lower: Bound<String>,
    pub(super) upper: Bound<String>,
}

impl SortRange {
    /// The segment's ordinals within bounds, `lo..hi`.
    fn ords(&self, column: &StrColumn) -> tantivy::Result<(u64, u64)> {
        let dict = column.dictionary();
        // The first ordinal at or after (`inclusive`) or strictly after `value`.
        let first_ord = |value: &str, inclusive: bool| -> tantivy::Result<u64> {
            let range = if inclusive {
                dict.range().ge(value.as_bytes())
            } else {
                dict.range().gt(value.as_bytes())
            };
            let mut stream = range.into_stream()?;
            Ok(if stream.advance() {
                stream.term_ord()
            } else {
                dict.num_terms() as u64
            })
        };
        let lo = match &self.lower {
            Bound::Unbounded => 0,
            Bound::Included(v) => first_ord(v, true)?,
            Bound::Excluded(v) => first_ord(v, false)?,
        };
        let hi = match &self.upper {
            Bound::Unbounded => dict.num_terms() as u64,
            Bound::Included(v) => first_ord(v, false)?,
            Bound::Excluded(v) => first_ord(v, true)?,
        };
        Ok((lo, hi))
    }

    fn docs(
        &self,
        reader: &SegmentReader,
        orders: &Orders,
        tuning: Tuning,
    ) -> tantivy::Result<DocBits> {
        let mut found = DocBits::empty(reader.max_doc());
        let Some(column) = reader.fast_fields().str(&self.column)? else {
            return Ok(found);
        };
        let (lo, hi) = self.ords(&column)?;
        if lo >= hi {
            return Ok(found);
        }
        let ord = |doc: DocId| column.ords().first(doc);
        if tuning.ordered(reader) {
            // Ascending by this field, cases without a value last.
            let order = orders.get(reader, &[(self.column.clone(), false)])?;
            let start = order.partition_point(|d| ord(*d).is_some_and(|o| o < lo));
            let end = order.partition_point(|d| ord(*d).is_some_and(|o| o < hi));
            for d in &order[start..end] {
                found.insert(*d);
            }
        } else {
            for d in 0..reader.max_doc() {
                if ord(d).is_some_and(|o| lo <= o && o < hi) {
                    found.insert(d);
                }
            }
        }
        Ok(found)
    }
}
