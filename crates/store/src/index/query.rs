//! Compiles a `CaseQuery`'s filter and search terms into a Tantivy query over the `terms` field.
//! Each construct mirrors the reference evaluator (`caseload_domain::search::eval`).

use super::Fields;
use super::bits::DenseTerms;
use super::encode;
use super::order::{Orders, Tuning};
use super::texts::Texts;
use caseload_domain::search::{CaseQuery, Filter, Op};
use caseload_domain::value::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use tantivy::columnar::StrColumn;
use tantivy::query::{
    AllQuery, BitSetDocSet, BooleanQuery, ConstScorer, EmptyQuery, EnableScoring, Explanation,
    Occur, Query, RangeQuery, Scorer, TermQuery, Weight, intersect_scorers,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{BitSet, DocId, Score, SegmentReader, Term};

fn term(fields: &Fields, text: &str) -> Term {
    Term::from_field_text(fields.terms, text)
}

/// Terms starting with `prefix`: the range [prefix, prefix + U+10FFFF). No indexed term has that
/// character after a prefix (terms are made of field ids, words and printable values).
fn prefix_query(fields: &Fields, prefix: &str) -> Box<dyn Query> {
    Box::new(RangeQuery::new(
        Bound::Included(term(fields, prefix)),
        Bound::Excluded(term(fields, &format!("{prefix}{}", char::MAX))),
    ))
}

fn all_but(inner: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
        (Occur::MustNot, inner),
    ]))
}

/// What compiling needs besides the query: the schema's fields, and the segments' precomputed
/// orders that answer ranges.
pub struct Compiler<'a> {
    pub fields: &'a Fields,
    pub orders: &'a Arc<Orders>,
    pub texts: &'a Arc<Texts>,
    pub dense: &'a Arc<DenseTerms>,
    pub tuning: Tuning,
}

impl Compiler<'_> {
    /// The documents with one term (through its bitset where the term is dense).
    fn term(&self, text: &str) -> Box<dyn Query> {
        Box::new(DenseTermQuery {
            term: term(self.fields, text),
            dense: self.dense.clone(),
            tuning: self.tuning,
        })
    }
}

/// One term's documents: a copy of the cached bitset where the term is dense in the segment
/// (see `bits`), its postings elsewhere.
#[derive(Clone)]
struct DenseTermQuery {
    term: Term,
    dense: Arc<DenseTerms>,
    tuning: Tuning,
}

impl std::fmt::Debug for DenseTermQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DenseTermQuery")
            .field("term", &self.term)
            .finish()
    }
}

impl Query for DenseTermQuery {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(DenseTermWeight {
            query: self.clone(),
            postings: TermQuery::new(self.term.clone(), IndexRecordOption::Basic)
                .weight(scoring)?,
        }))
    }
}

struct DenseTermWeight {
    query: DenseTermQuery,
    postings: Box<dyn Weight>,
}

impl Weight for DenseTermWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let q = &self.query;
        match q.dense.get(reader, &q.term, q.tuning)? {
            Some(bits) => Ok(Box::new(ConstScorer::new(
                BitSetDocSet::from(BitSet::clone(&bits)),
                boost,
            ))),
            None => self.postings.scorer(reader, boost),
        }
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.postings.explain(reader, doc)
    }
}

/// The whole query: the domain's scope, the filter, and the search terms.
pub fn compile(c: &Compiler, q: &CaseQuery, scope: &str) -> Scoped {
    let fields = c.fields;
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(f) = &q.filter {
        conjunction(c, f, &mut must);
    }
    if let Some((last, whole)) = q.search_terms.split_last() {
        // A word matches when some searchable field has it (the last one as a prefix).
        for w in whole {
            let any: Vec<(Occur, Box<dyn Query>)> = q
                .term_fields
                .iter()
                .map(|f| {
                    (
                        Occur::Should,
                        c.term(&format!("{}{w}", encode::word_prefix(f))),
                    )
                })
                .collect();
            must.push((Occur::Must, or(any)));
        }
        let any: Vec<(Occur, Box<dyn Query>)> = q
            .term_fields
            .iter()
            .map(|f| {
                (
                    Occur::Should,
                    prefix_query(fields, &format!("{}{last}", encode::word_prefix(f))),
                )
            })
            .collect();
        must.push((Occur::Must, or(any)));
    }
    let single = match (&q.filter, q.search_terms.is_empty()) {
        (Some(f), true) => single_term(f).map(|t| term(fields, &t)),
        _ => None,
    };
    Scoped {
        scope: term(fields, scope),
        inner: (!must.is_empty()).then(|| and(must)),
        single,
        dense: c.dense.clone(),
        tuning: c.tuning,
    }
}

/// The one term a filter amounts to, if it is a single equality or tag test.
fn single_term(f: &Filter) -> Option<String> {
    match f {
        Filter::Field(p) if p.op == Op::EqualTo && p.value != Value::Empty => {
            encode::equal_term(&p.field_id, &p.value)
        }
        Filter::Tag { key, value: None } => Some(encode::tag_key_term(key)),
        Filter::Tag {
            key,
            value: Some(v),
        } => Some(encode::tag_value_term(key, v)),
        Filter::And(children) if children.len() == 1 => single_term(&children[0]),
        _ => None,
    }
}

/// A conjunction of clauses. Tantivy matches nothing with only `MustNot` clauses, so those
/// exclude from every document.
fn and(mut clauses: Vec<(Occur, Box<dyn Query>)>) -> Box<dyn Query> {
    if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    if clauses.len() == 1 {
        if let Some((Occur::Must, q)) = clauses.pop() {
            return q;
        }
        unreachable!("a single clause is a Must clause");
    }
    Box::new(BooleanQuery::new(clauses))
}

/// Adds `f` to a conjunction: nested `andAll`s are flattened, a `not` becomes an exclusion (so
/// the other clauses drive the intersection instead of every document), and the range
/// predicates on one field become a single range.
fn conjunction(c: &Compiler, f: &Filter, out: &mut Vec<(Occur, Box<dyn Query>)>) {
    let mut ranges: BTreeMap<&str, (Bound<String>, Bound<String>)> = BTreeMap::new();
    flatten(c, f, out, &mut ranges);
    for (fid, (lower, upper)) in ranges {
        out.push((Occur::Must, sort_range(c, fid, lower, upper)));
    }
}

fn flatten<'f>(
    c: &Compiler,
    f: &'f Filter,
    out: &mut Vec<(Occur, Box<dyn Query>)>,
    ranges: &mut BTreeMap<&'f str, (Bound<String>, Bound<String>)>,
) {
    match f {
        Filter::And(children) => {
            for child in children {
                flatten(c, child, out, ranges);
            }
        }
        Filter::Not(inner) => out.push((Occur::MustNot, filter(c, inner))),
        Filter::Field(p) if p.value != Value::Empty => match range_bounds(p.op, &p.value) {
            Some((lower, upper)) => {
                let (l, u) = ranges
                    .entry(p.field_id.as_str())
                    .or_insert((Bound::Unbounded, Bound::Unbounded));
                *l = tighter(
                    std::mem::replace(l, Bound::Unbounded),
                    lower,
                    Ordering::Greater,
                );
                *u = tighter(
                    std::mem::replace(u, Bound::Unbounded),
                    upper,
                    Ordering::Less,
                );
            }
            None => out.push((Occur::Must, filter(c, f))),
        },
        _ => out.push((Occur::Must, filter(c, f))),
    }
}

/// The bounds of a range predicate, `None` for any other operator (or a value without a sort
/// key, which no range matches: left to `filter`).
fn range_bounds(op: Op, value: &Value) -> Option<(Bound<String>, Bound<String>)> {
    let key = encode::sort_key(value)?;
    Some(match op {
        Op::GreaterThan => (Bound::Excluded(key), Bound::Unbounded),
        Op::GreaterThanOrEqualTo => (Bound::Included(key), Bound::Unbounded),
        Op::LessThan => (Bound::Unbounded, Bound::Excluded(key)),
        Op::LessThanOrEqualTo => (Bound::Unbounded, Bound::Included(key)),
        Op::EqualTo | Op::Contains => return None,
    })
}

/// The tighter of two lower bounds (`wins` = Greater) or upper bounds (`wins` = Less); on the
/// same key an excluded bound is the tighter.
fn tighter(a: Bound<String>, b: Bound<String>, wins: Ordering) -> Bound<String> {
    let key = |x: &Bound<String>| match x {
        Bound::Included(k) | Bound::Excluded(k) => Some(k.clone()),
        Bound::Unbounded => None,
    };
    match (key(&a), key(&b)) {
        (None, _) => b,
        (_, None) => a,
        (Some(x), Some(y)) if x.cmp(&y) == wins => a,
        (Some(x), Some(y)) if x == y && matches!(b, Bound::Excluded(_)) => b,
        (Some(x), Some(y)) if x == y => a,
        _ => b,
    }
}

fn sort_range(
    c: &Compiler,
    fid: &str,
    lower: Bound<String>,
    upper: Bound<String>,
) -> Box<dyn Query> {
    Box::new(Bits(SortRange {
        column: format!("sort.{fid}"),
        lower,
        upper,
        orders: c.orders.clone(),
        tuning: c.tuning,
    }))
}

fn or(clauses: Vec<(Occur, Box<dyn Query>)>) -> Box<dyn Query> {
    if clauses.is_empty() {
        Box::new(EmptyQuery)
    } else {
        Box::new(BooleanQuery::new(clauses))
    }
}

fn filter(c: &Compiler, f: &Filter) -> Box<dyn Query> {
    match f {
        Filter::Not(inner) => all_but(filter(c, inner)),
        Filter::And(_) => {
            let mut clauses = Vec::new();
            conjunction(c, f, &mut clauses);
            and(clauses)
        }
        Filter::Or(children) => or(children
            .iter()
            .map(|child| (Occur::Should, filter(c, child)))
            .collect()),
        Filter::Tag { key, value: None } => c.term(&encode::tag_key_term(key)),
        Filter::Tag {
            key,
            value: Some(v),
        } => c.term(&encode::tag_value_term(key, v)),
        Filter::Field(p) => {
            let fid = p.field_id.as_str();
            if p.value == Value::Empty {
                // Only `equalTo emptyValue` reaches here: "has no value".
                return all_but(c.term(&encode::has_term(fid)));
            }
            match p.op {
                Op::EqualTo => match encode::equal_term(fid, &p.value) {
                    Some(t) => c.term(&t),
                    None => Box::new(EmptyQuery),
                },
                Op::Contains => match &p.value {
                    Value::String(needle) => contains(c, fid, &needle.to_lowercase()),
                    _ => Box::new(EmptyQuery),
                },
                Op::GreaterThan
                | Op::GreaterThanOrEqualTo
                | Op::LessThan
                | Op::LessThanOrEqualTo => match range_bounds(p.op, &p.value) {
                    // A range over the fast `sort` column, whose keys order like the values
                    // (see `encode` and `SortRange`).
                    Some((lower, upper)) => sort_range(c, fid, lower, upper),
                    None => Box::new(EmptyQuery),
                },
            }
        }
    }
}

/// `contains`: a case-insensitive substring. Needles up to `GRAM` characters are one indexed
/// gram; longer ones intersect their grams and verify each candidate against the stored value,
/// so the answer is exact.
fn contains(c: &Compiler, field_id: &str, needle: &str) -> Box<dyn Query> {
    let fields = c.fields;
    if needle.is_empty() {
        return c.term(&encode::has_term(field_id));
    }
    let grams = encode::needle_grams(needle);
    let candidates: Vec<(Occur, Box<dyn Query>)> = grams
        .iter()
        .map(|g| (Occur::Must, c.term(&encode::gram_term(field_id, g))))
        .collect();
    let candidates = BooleanQuery::new(candidates);
    if needle.chars().count() <= encode::GRAM {
        return Box::new(candidates);
    }
    let weight = match candidates.weight(EnableScoring::disabled_from_schema(&fields.schema)) {
        Ok(w) => Arc::from(w),
        Err(_) => return Box::new(EmptyQuery),
    };
    Box::new(Bits(Verified {
        candidates: weight,
        column: format!("sort.{field_id}"),
        needle: needle.to_owned(),
        texts: c.texts.clone(),
        tuning: c.tuning,
    }))
}

/// A filter whose matches in a segment are computed whole, as a bitset, rather than stepped
/// through postings (`contains` after verification, ranges over the sort column).
trait SegmentBits: Clone + std::fmt::Debug + Send + Sync + 'static {
    /// How `explain` describes a match.
    const WHAT: &'static str;
    fn docs(&self, reader: &SegmentReader) -> tantivy::Result<BitSet>;
}

/// The query (and weight) of a `SegmentBits` filter.
#[derive(Clone, Debug)]
struct Bits<T>(T);

impl<T: SegmentBits> Query for Bits<T> {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl<T: SegmentBits> Weight for Bits<T> {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(ConstScorer::new(
            BitSetDocSet::from(self.0.docs(reader)?),
            boost,
        )))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.0.docs(reader)?.contains(doc) {
            Ok(Explanation::new(T::WHAT, 1.0))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} does not match: it is not one that {}",
                T::WHAT
            )))
        }
    }
}

#[derive(Clone)]
struct Verified {
    candidates: Arc<dyn Weight>,
    column: String,
    needle: String,
    texts: Arc<Texts>,
    tuning: Tuning,
}

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verified")
            .field("column", &self.column)
            .field("needle", &self.needle)
            .finish()
    }
}

impl SegmentBits for Verified {
    const WHAT: &'static str = "contains the needle";

    /// Verifies the whole segment up front, each candidate's value against the needle: through
    /// the decoded values (`texts`) in a large segment, else resolved in ordinal order in one pass
    /// over the column's dictionary (one document at a time would decode a block per document).
    fn docs(&self, reader: &SegmentReader) -> tantivy::Result<BitSet> {
        let Some(column) = reader.fast_fields().str(&self.column)? else {
            return Ok(BitSet::with_max_value(reader.max_doc()));
        };
        let mut candidates = self.candidates.scorer(reader, 1.0)?;
        let mut docs: Vec<(u64, DocId)> = Vec::new();
        let mut doc = candidates.doc();
        while doc != tantivy::TERMINATED {
            if let Some(ord) = column.ords().first(doc) {
                docs.push((ord, doc));
            }
            doc = candidates.advance();
        }
        let mut found = BitSet::with_max_value(reader.max_doc());
        let decoded = if self.tuning.ordered(reader) {
            self.texts
                .get(reader.segment_id(), &self.column, &column)
                .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))?
        } else {
            None
        };
        if let Some(texts) = decoded {
            // In ordinal order the values are read front to back instead of at random: a cache
            // miss or two per candidate otherwise, most of the query's time.
            docs.sort_unstable();
            for (ord, doc) in docs {
                if texts.get(ord).contains(&self.needle) {
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
                    let hit = std::str::from_utf8(bytes)
                        .is_ok_and(|v| v.to_lowercase().contains(&self.needle));
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
#[derive(Clone)]
struct SortRange {
    column: String,
    lower: Bound<String>,
    upper: Bound<String>,
    orders: Arc<Orders>,
    tuning: Tuning,
}

impl std::fmt::Debug for SortRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SortRange")
            .field("column", &self.column)
            .field("lower", &self.lower)
            .field("upper", &self.upper)
            .finish()
    }
}

impl SegmentBits for SortRange {
    const WHAT: &'static str = "is within the range";

    fn docs(&self, reader: &SegmentReader) -> tantivy::Result<BitSet> {
        self.range_docs(reader)
    }
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

    fn range_docs(&self, reader: &SegmentReader) -> tantivy::Result<BitSet> {
        let mut found = BitSet::with_max_value(reader.max_doc());
        let Some(column) = reader.fast_fields().str(&self.column)? else {
            return Ok(found);
        };
        let (lo, hi) = self.ords(&column)?;
        if lo >= hi {
            return Ok(found);
        }
        let ord = |doc: DocId| column.ords().first(doc);
        if self.tuning.ordered(reader) {
            // Ascending by this field, cases without a value last.
            let order = self.orders.get(reader, &[(self.column.clone(), false)])?;
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

/// The domain's documents matching `inner` (all of them without one). Most indexes hold one
/// domain, where intersecting with the scope term would only cost time: a segment whose every
/// document is in scope skips it.
pub struct Scoped {
    scope: Term,
    inner: Option<Box<dyn Query>>,
    /// The term `inner` amounts to, when it is one: its matches can then be a copy of its
    /// cached bitset.
    single: Option<Term>,
    dense: Arc<DenseTerms>,
    tuning: Tuning,
}

impl Scoped {
    pub fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<ScopedWeight> {
        Ok(ScopedWeight {
            scope: self.scope.clone(),
            scope_weight: TermQuery::new(self.scope.clone(), IndexRecordOption::Basic)
                .weight(scoring)?,
            inner: match &self.inner {
                Some(q) => Some(q.weight(scoring)?),
                None => None,
            },
            single: self.single.clone(),
            dense: self.dense.clone(),
            tuning: self.tuning,
        })
    }
}

pub struct ScopedWeight {
    scope: Term,
    scope_weight: Box<dyn Weight>,
    inner: Option<Box<dyn Weight>>,
    single: Option<Term>,
    dense: Arc<DenseTerms>,
    tuning: Tuning,
}

impl ScopedWeight {
    /// Whether every document of the segment (deleted ones included) is in scope.
    fn whole_segment(&self, reader: &SegmentReader) -> tantivy::Result<bool> {
        let index = reader.inverted_index(self.scope.field())?;
        Ok(index.doc_freq(&self.scope)? == reader.max_doc())
    }

    /// The segment's live matching documents.
    pub fn matches(&self, reader: &SegmentReader) -> tantivy::Result<BitSet> {
        let alive = reader.alive_bitset();
        if let Some(single) = &self.single
            && self.whole_segment(reader)?
            && let Some(bits) = self.dense.get(reader, single, self.tuning)?
        {
            let mut matches = BitSet::clone(&bits);
            if let Some(alive) = alive {
                matches.intersect_update(alive.bitset());
            }
            return Ok(matches);
        }
        let mut matches = BitSet::with_max_value(reader.max_doc());
        self.for_each_no_score(reader, &mut |block| {
            for &d in block {
                if alive.is_none_or(|a| a.is_alive(d)) {
                    matches.insert(d);
                }
            }
        })?;
        Ok(matches)
    }
}

impl Weight for ScopedWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        match &self.inner {
            None => self.scope_weight.scorer(reader, boost),
            Some(inner) if self.whole_segment(reader)? => inner.scorer(reader, boost),
            Some(inner) => Ok(intersect_scorers(
                vec![
                    self.scope_weight.scorer(reader, boost)?,
                    inner.scorer(reader, boost)?,
                ],
                reader.num_docs(),
            )),
        }
    }

    fn for_each_no_score(
        &self,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(&[DocId]),
    ) -> tantivy::Result<()> {
        // The inner weight's own loop may be faster than stepping its scorer (unions of terms).
        if let Some(inner) = &self.inner
            && self.whole_segment(reader)?
        {
            return inner.for_each_no_score(reader, callback);
        }
        let mut scorer = self.scorer(reader, 1.0)?;
        let mut block = Vec::with_capacity(64);
        let mut doc = scorer.doc();
        while doc != tantivy::TERMINATED {
            block.push(doc);
            if block.len() == 64 {
                callback(&block);
                block.clear();
            }
            doc = scorer.advance();
        }
        if !block.is_empty() {
            callback(&block);
        }
        Ok(())
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        match &self.inner {
            Some(inner) => inner.explain(reader, doc),
            None => self.scope_weight.explain(reader, doc),
        }
    }
}
