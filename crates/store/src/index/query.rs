//! Compiles a `CaseQuery`'s filter and search terms into a Tantivy query over the `terms` field.
//! Each construct mirrors the reference evaluator (`caseload_domain::search::eval`).

use super::Fields;
use super::encode;
use caseload_domain::search::{CaseQuery, Filter, Op};
use caseload_domain::value::Value;
use std::ops::Bound;
use std::sync::Arc;
use tantivy::query::doc_predicate_query::{
    ConstOrVariableSegmentPredicate, DocPredicate, DocPredicateQuery, SegmentDocPredicate,
};
use tantivy::query::{
    AllQuery, AllScorer, BooleanQuery, EmptyQuery, EnableScoring, Occur, Query, RangeQuery,
    TermQuery, Weight,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, SegmentReader, Term};

fn term(fields: &Fields, text: &str) -> Term {
    Term::from_field_text(fields.terms, text)
}

fn term_query(fields: &Fields, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(term(fields, text), IndexRecordOption::Basic))
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

/// The whole query: the domain's scope, the filter, and the search terms.
pub fn compile(fields: &Fields, q: &CaseQuery, scope: &str) -> Box<dyn Query> {
    let mut must: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, term_query(fields, scope))];
    if let Some(f) = &q.filter {
        must.push((Occur::Must, filter(fields, f)));
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
                        term_query(fields, &format!("{}{w}", encode::word_prefix(f))),
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
    Box::new(BooleanQuery::new(must))
}

fn or(clauses: Vec<(Occur, Box<dyn Query>)>) -> Box<dyn Query> {
    if clauses.is_empty() {
        Box::new(EmptyQuery)
    } else {
        Box::new(BooleanQuery::new(clauses))
    }
}

fn filter(fields: &Fields, f: &Filter) -> Box<dyn Query> {
    match f {
        Filter::Not(inner) => all_but(filter(fields, inner)),
        Filter::And(children) if children.is_empty() => Box::new(AllQuery),
        Filter::And(children) => Box::new(BooleanQuery::new(
            children
                .iter()
                .map(|c| (Occur::Must, filter(fields, c)))
                .collect(),
        )),
        Filter::Or(children) => or(children
            .iter()
            .map(|c| (Occur::Should, filter(fields, c)))
            .collect()),
        Filter::Tag { key, value: None } => term_query(fields, &encode::tag_key_term(key)),
        Filter::Tag {
            key,
            value: Some(v),
        } => term_query(fields, &encode::tag_value_term(key, v)),
        Filter::Field(p) => {
            let fid = p.field_id.as_str();
            if p.value == Value::Empty {
                // Only `equalTo emptyValue` reaches here: "has no value".
                return all_but(term_query(fields, &encode::has_term(fid)));
            }
            match p.op {
                Op::EqualTo => match encode::equal_term(fid, &p.value) {
                    Some(t) => term_query(fields, &t),
                    None => Box::new(EmptyQuery),
                },
                Op::Contains => match &p.value {
                    Value::String(needle) => contains(fields, fid, &needle.to_lowercase()),
                    _ => Box::new(EmptyQuery),
                },
                Op::GreaterThan
                | Op::GreaterThanOrEqualTo
                | Op::LessThan
                | Op::LessThanOrEqualTo => {
                    let Some(key) = encode::sort_key(&p.value) else {
                        return Box::new(EmptyQuery);
                    };
                    // A range over the fast `sort` column, whose keys order like the values
                    // (see `encode`): each segment turns the bounds into an ordinal range once,
                    // then a document costs one column lookup.
                    let (lower, upper) = match p.op {
                        Op::GreaterThan => (Bound::Excluded(key), Bound::Unbounded),
                        Op::GreaterThanOrEqualTo => (Bound::Included(key), Bound::Unbounded),
                        Op::LessThan => (Bound::Unbounded, Bound::Excluded(key)),
                        _ => (Bound::Unbounded, Bound::Included(key)),
                    };
                    Box::new(DocPredicateQuery::from(SortRange {
                        column: format!("sort.{fid}"),
                        lower,
                        upper,
                    }))
                }
            }
        }
    }
}

/// `contains`: a case-insensitive substring. Needles up to `GRAM` characters are one indexed
/// gram; longer ones intersect their grams and verify each candidate against the stored value,
/// so the answer is exact.
fn contains(fields: &Fields, field_id: &str, needle: &str) -> Box<dyn Query> {
    if needle.is_empty() {
        return term_query(fields, &encode::has_term(field_id));
    }
    let grams = encode::needle_grams(needle);
    let candidates: Vec<(Occur, Box<dyn Query>)> = grams
        .iter()
        .map(|g| {
            (
                Occur::Must,
                term_query(fields, &encode::gram_term(field_id, g)),
            )
        })
        .collect();
    let candidates = BooleanQuery::new(candidates);
    if needle.chars().count() <= encode::GRAM {
        return Box::new(candidates);
    }
    let weight = match candidates.weight(EnableScoring::disabled_from_schema(&fields.schema)) {
        Ok(w) => Arc::from(w),
        Err(_) => return Box::new(EmptyQuery),
    };
    Box::new(DocPredicateQuery::from(Verified {
        candidates: weight,
        column: format!("sort.{field_id}"),
        needle: needle.to_owned(),
    }))
}

struct Verified {
    candidates: Arc<dyn Weight>,
    column: String,
    needle: String,
}

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verified")
            .field("column", &self.column)
            .field("needle", &self.needle)
            .finish()
    }
}

impl DocPredicate for Verified {
    type SegmentDocPredicate = Verdicts;

    /// Verifies the whole segment up front: the candidates' values are resolved in ordinal order
    /// in one pass over the column's dictionary (resolving them one document at a time would
    /// decode a dictionary block per document), and the documents whose value contains the
    /// needle become the segment's answer.
    fn doc_predicate(
        &self,
        reader: &SegmentReader,
    ) -> tantivy::Result<ConstOrVariableSegmentPredicate<Verdicts>> {
        let Some(column) = reader.fast_fields().str(&self.column)? else {
            return Ok(ConstOrVariableSegmentPredicate::Const(false));
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
        let mut found = tantivy::BitSet::with_max_value(reader.max_doc());
        let mut any = false;
        for (ord, doc) in docs {
            if matching.binary_search(&ord).is_ok() {
                found.insert(doc);
                any = true;
            }
        }
        if !any {
            return Ok(ConstOrVariableSegmentPredicate::Const(false));
        }
        Ok(ConstOrVariableSegmentPredicate::Variable {
            predicate: Verdicts(found),
            necessary_condition: Box::new(self.candidates.scorer(reader, 1.0)?),
        })
    }
}

/// The segment's verified documents: the candidates are walked again and each is looked up.
pub struct Verdicts(tantivy::BitSet);

impl SegmentDocPredicate for Verdicts {
    fn eval(&mut self, doc: DocId) -> bool {
        self.0.contains(doc)
    }
}

/// Documents whose `sort` value for one field lies within bounds.
#[derive(Debug)]
struct SortRange {
    column: String,
    lower: Bound<String>,
    upper: Bound<String>,
}

impl DocPredicate for SortRange {
    type SegmentDocPredicate = OrdRange;

    fn doc_predicate(
        &self,
        reader: &SegmentReader,
    ) -> tantivy::Result<ConstOrVariableSegmentPredicate<OrdRange>> {
        let Some(column) = reader.fast_fields().str(&self.column)? else {
            return Ok(ConstOrVariableSegmentPredicate::Const(false));
        };
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
        if lo >= hi {
            return Ok(ConstOrVariableSegmentPredicate::Const(false));
        }
        Ok(ConstOrVariableSegmentPredicate::Variable {
            predicate: OrdRange { column, lo, hi },
            necessary_condition: Box::new(AllScorer::new(reader.max_doc())),
        })
    }
}

/// Ordinals `lo..hi` of one segment's column.
pub struct OrdRange {
    column: tantivy::columnar::StrColumn,
    lo: u64,
    hi: u64,
}

impl SegmentDocPredicate for OrdRange {
    fn eval(&mut self, doc: DocId) -> bool {
        self.column
            .ords()
            .first(doc)
            .is_some_and(|o| self.lo <= o && o < self.hi)
    }
}
