//! Compiles a `CaseQuery` into a plan evaluated per segment as a set of documents (`DocBits`).
//! Each construct mirrors the reference evaluator (`caseload_domain::search::eval`):
//! - a term (equality, presence, tag, word) is its postings, or its cached bitset where it is
//!   dense in the segment (`bits`);
//! - a range is a slice of the segment's documents ordered by the field (`order`);
//! - `contains` intersects the needle's n-grams and verifies the candidates against the
//!   lower-cased stored values (`texts`);
//! - `andAll`, `orAll` and `not` are word-wise intersection, union and difference.
//!
//! Every leaf is computed whole, so a conjunction with a rare term still reads its other
//! terms' postings in full; the terms that would be costly to read (those matching a large share
//! of a segment) are exactly the dense ones, which are cached as bitsets.

use super::Fields;
use super::bits::{DenseTerms, postings_bits};
use super::docbits::DocBits;
use super::encode;
use super::order::{Orders, Tuning};
use super::texts::Texts;
use caseload_domain::search::{CaseQuery, FieldPredicate, Filter, Op, words};
use caseload_domain::value::Value;
use caseload_model::shapes::FieldType;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use tantivy::columnar::StrColumn;
use tantivy::{DocId, SegmentReader, Term};

fn term(fields: &Fields, text: &str) -> Term {
    Term::from_field_text(fields.terms, text)
}

/// What compiling and evaluating need besides the query: the schema's fields and the caches
/// shared by every search.
pub struct Compiler<'a> {
    pub fields: &'a Fields,
    pub orders: &'a Arc<Orders>,
    pub texts: &'a Arc<Texts>,
    pub dense: &'a Arc<DenseTerms>,
    pub tuning: Tuning,
}

/// A filter, as set operations over leaves each computed whole for a segment.
#[derive(Debug)]
enum Plan {
    All,
    Nothing,
    Term(Term),
    /// The documents with some term starting with `prefix` (a word typed so far).
    Prefix(String),
    And(Vec<Plan>),
    Or(Vec<Plan>),
    Not(Box<Plan>),
    Range(SortRange),
    /// Candidates, verified against the stored values.
    Contains(Box<Plan>, Verify),
    /// `contains` among a field's few-valued values (see `encode::TermUse::FewValued`).
    Few(Few),
}

/// The whole query: the domain's scope, the filter, and the search terms.
pub fn compile(c: &Compiler, q: &CaseQuery, scope: &str) -> Compiled {
    let fields = c.fields;
    let mut clauses: Vec<Plan> = Vec::new();
    if let Some(f) = &q.filter {
        conjunction(c, f, &mut clauses);
    }
    if let Some((last, whole)) = q.search_terms.split_last() {
        // A word matches when some searchable field has it (the last one as a prefix): among
        // its word terms, or among the words of its few-valued values (which have none).
        let few = |f: &str, word: &str, prefix: bool| {
            Plan::Few(Few {
                marker: term(fields, &encode::few_term(f)),
                field_id: f.to_owned(),
                verify: Verify {
                    column: format!("sort.{f}"),
                    check: Check::Word {
                        word: word.to_owned(),
                        prefix,
                    },
                },
            })
        };
        for w in whole {
            clauses.push(Plan::Or(
                q.term_fields
                    .iter()
                    .flat_map(|f| {
                        [
                            Plan::Term(term(fields, &format!("{}{w}", encode::word_prefix(f)))),
                            few(f, w, false),
                        ]
                    })
                    .collect(),
            ));
        }
        clauses.push(Plan::Or(
            q.term_fields
                .iter()
                .flat_map(|f| {
                    [
                        Plan::Prefix(format!("{}{last}", encode::word_prefix(f))),
                        few(f, last, true),
                    ]
                })
                .collect(),
        ));
    }
    Compiled {
        scope: term(fields, scope),
        plan: and(clauses),
        fields_terms: fields.terms,
        orders: c.orders.clone(),
        texts: c.texts.clone(),
        dense: c.dense.clone(),
        tuning: c.tuning,
    }
}

fn and(mut clauses: Vec<Plan>) -> Plan {
    match clauses.len() {
        0 => Plan::All,
        1 => clauses.pop().unwrap_or(Plan::All),
        _ => Plan::And(clauses),
    }
}

/// Adds `f` to a conjunction: nested `andAll`s are flattened, and the range predicates on one
/// field become a single range.
fn conjunction(c: &Compiler, f: &Filter, out: &mut Vec<Plan>) {
    let mut ranges: BTreeMap<&str, (Bound<String>, Bound<String>)> = BTreeMap::new();
    flatten(c, f, out, &mut ranges);
    for (fid, (lower, upper)) in ranges {
        out.push(sort_range(fid, lower, upper));
    }
}

fn flatten<'f>(
    c: &Compiler,
    f: &'f Filter,
    out: &mut Vec<Plan>,
    ranges: &mut BTreeMap<&'f str, (Bound<String>, Bound<String>)>,
) {
    match f {
        Filter::And(children) => {
            for child in children {
                flatten(c, child, out, ranges);
            }
        }
        Filter::Field(p) if p.value != Value::Empty => match range_bounds(p) {
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
            None => out.push(filter(c, f)),
        },
        _ => out.push(filter(c, f)),
    }
}

/// The bounds of a range predicate, `None` for any other operator (or a value without a sort
/// key, which no range matches: left to `filter`). Equality on a DateTime is the range of one
/// value: DateTime values have no equality terms (`encode::TermUse::Sorted`).
fn range_bounds(p: &FieldPredicate) -> Option<(Bound<String>, Bound<String>)> {
    let key = encode::sort_key(&p.value)?;
    Some(match p.op {
        Op::EqualTo if p.field_type == FieldType::DateTime => {
            (Bound::Included(key.clone()), Bound::Included(key))
        }
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

fn sort_range(fid: &str, lower: Bound<String>, upper: Bound<String>) -> Plan {
    Plan::Range(SortRange {
        column: format!("sort.{fid}"),
        lower,
        upper,
    })
}

fn filter(c: &Compiler, f: &Filter) -> Plan {
    let t = |text: &str| Plan::Term(term(c.fields, text));
    match f {
        Filter::Not(inner) => Plan::Not(Box::new(filter(c, inner))),
        Filter::And(_) => {
            let mut clauses = Vec::new();
            conjunction(c, f, &mut clauses);
            and(clauses)
        }
        Filter::Or(children) => Plan::Or(children.iter().map(|child| filter(c, child)).collect()),
        Filter::Tag { key, value: None } => t(&encode::tag_key_term(key)),
        Filter::Tag {
            key,
            value: Some(v),
        } => t(&encode::tag_value_term(key, v)),
        Filter::Field(p) => {
            let fid = p.field_id.as_str();
            if p.value == Value::Empty {
                // Only `equalTo emptyValue` reaches here: "has no value".
                return Plan::Not(Box::new(t(&encode::has_term(fid))));
            }
            if let Some((lower, upper)) = range_bounds(p) {
                // A range over the fast `sort` column, whose keys order like the values (see
                // `encode` and `SortRange`).
                return sort_range(fid, lower, upper);
            }
            match p.op {
                Op::EqualTo => match encode::equal_term(fid, &p.value) {
                    Some(e) => t(&e),
                    None => Plan::Nothing,
                },
                Op::Contains => match &p.value {
                    Value::String(needle) => contains(c, fid, &needle.to_lowercase()),
                    _ => Plan::Nothing,
                },
                // A value without a sort key, which no range matches.
                Op::GreaterThan
                | Op::GreaterThanOrEqualTo
                | Op::LessThan
                | Op::LessThanOrEqualTo => Plan::Nothing,
            }
        }
    }
}

/// `contains`: a case-insensitive substring, found through the field's grams (see
/// `encode::GRAM`) and, for values indexed without grams, among the field's distinct values
/// (`Few`). A needle of up to `GRAM` characters is exactly the grams starting with it; a longer
/// one intersects its windows and verifies each candidate against the stored value, as does a
/// needle containing the grams' padding character.
fn contains(c: &Compiler, field_id: &str, needle: &str) -> Plan {
    if needle.is_empty() {
        return Plan::Term(term(c.fields, &encode::has_term(field_id)));
    }
    let gram = |g: &str| encode::gram_term(field_id, g);
    let candidates = match encode::needle_grams(needle) {
        encode::NeedleGrams::Prefix(p) if p.chars().count() == encode::GRAM => {
            Plan::Term(term(c.fields, &gram(&p)))
        }
        encode::NeedleGrams::Prefix(p) => Plan::Prefix(gram(&p)),
        encode::NeedleGrams::All(windows) => and(windows
            .iter()
            .map(|g| Plan::Term(term(c.fields, &gram(g))))
            .collect()),
    };
    let verify = Verify {
        column: format!("sort.{field_id}"),
        check: Check::Contains(needle.to_owned()),
    };
    let grams = if needle.chars().count() <= encode::GRAM && !needle.contains(encode::PAD) {
        candidates
    } else {
        Plan::Contains(Box::new(candidates), verify.clone())
    };
    Plan::Or(vec![
        grams,
        Plan::Few(Few {
            marker: term(c.fields, &encode::few_term(field_id)),
            field_id: field_id.to_owned(),
            verify,
        }),
    ])
}

/// A compiled query, ready to be evaluated segment by segment.
pub struct Compiled {
    scope: Term,
    plan: Plan,
    fields_terms: tantivy::schema::Field,
    orders: Arc<Orders>,
    texts: Arc<Texts>,
    dense: Arc<DenseTerms>,
    tuning: Tuning,
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
                let mut found: Option<DocBits> = None;
                for child in children.iter().filter(|c| !matches!(c, Plan::Not(_))) {
                    let set = self.eval(child, reader)?;
                    match &mut found {
                        None => found = Some(set.owned()),
                        Some(f) => f.and(set.get()),
                    }
                    if found.as_ref().is_some_and(DocBits::is_empty) {
                        return Ok(Set::Owned(DocBits::empty(max_doc)));
                    }
                }
                let mut found = found.unwrap_or_else(|| DocBits::full(max_doc));
                for child in children {
                    if let Plan::Not(inner) = child {
                        found.and_not(self.eval(inner, reader)?.get());
                    }
                }
                Set::Owned(found)
            }
            Plan::Or(children) => {
                let mut found: Option<DocBits> = None;
                for child in children {
                    let set = self.eval(child, reader)?;
                    match &mut found {
                        None => found = Some(set.owned()),
                        Some(f) => f.or(set.get()),
                    }
                }
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
enum Check {
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
struct Verify {
    column: String,
    check: Check,
}

/// `contains` or a search word among the values of one field indexed without grams or words.
#[derive(Debug)]
struct Few {
    field_id: String,
    /// `encode::few_term` of the field.
    marker: Term,
    verify: Verify,
}

impl Verify {
    /// The candidates whose value passes the check, through
    /// the decoded values (`texts`) in a large segment, else resolved in ordinal order in one pass
    /// over the column's dictionary (one document at a time would decode a block per document).
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
struct SortRange {
    column: String,
    lower: Bound<String>,
    upper: Bound<String>,
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
