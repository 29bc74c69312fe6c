//! Compiles a `CaseQuery` into a plan of set operations (`Plan`), which `eval` computes per
//! segment as a set of documents. Each construct mirrors the reference evaluator
//! (`caseload_domain::search::eval`):
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
use super::bits::DenseTerms;
use super::encode;
use super::eval::{Check, Compiled, Few, SortRange, Verify};
use super::order::{Orders, Tuning};
use super::texts::Texts;
use caseload_domain::store::{CaseQuery, FieldPredicate, Filter, Op};
use caseload_domain::value::Value;
use caseload_model::shapes::FieldType;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use tantivy::Term;

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
pub(super) enum Plan {
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
        let few_word = |f: &str, word: &str, prefix: bool| {
            let word = word.to_owned();
            few(fields, f, Check::Word { word, prefix })
        };
        for w in whole {
            clauses.push(Plan::Or(
                q.term_fields
                    .iter()
                    .flat_map(|f| {
                        [
                            Plan::Term(term(fields, &format!("{}{w}", encode::word_prefix(f)))),
                            few_word(f, w, false),
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
                        few_word(f, last, true),
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
    Plan::Or(vec![grams, few(c.fields, field_id, verify.check)])
}

/// The documents whose value of `field_id` was indexed as few-valued and passes `check`.
fn few(fields: &Fields, field_id: &str, check: Check) -> Plan {
    Plan::Few(Few {
        marker: term(fields, &encode::few_term(field_id)),
        field_id: field_id.to_owned(),
        verify: Verify {
            column: format!("sort.{field_id}"),
            check,
        },
    })
}
