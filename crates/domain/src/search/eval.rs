//! The reference evaluator: what a case matches, and the total order of results. Written for
//! clarity, not speed; every search backend must agree with it exactly.

use super::{FieldPredicate, Filter, Op, SortSpec, words};
use crate::store::{CaseRecord, Tags};
use crate::value::Value;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// True when `case` satisfies `f`.
pub fn matches(f: &Filter, case: &CaseRecord) -> bool {
    matches_values(f, &case.fields, &case.tags)
}

/// True when a record with these field values and tags satisfies `f`. Custom related items are
/// filtered with the same algebra as cases, so they share this evaluator.
pub fn matches_values(f: &Filter, fields: &BTreeMap<String, Value>, tags: &Tags) -> bool {
    match f {
        Filter::Field(p) => field_matches(p, fields),
        Filter::Not(inner) => !matches_values(inner, fields, tags),
        Filter::And(all) => all.iter().all(|c| matches_values(c, fields, tags)),
        Filter::Or(any) => any.iter().any(|c| matches_values(c, fields, tags)),
        Filter::Tag { key, value } => match (tags.get(key), value) {
            (Some(_), None) => true,
            (Some(stored), Some(wanted)) => stored.as_deref() == Some(wanted.as_str()),
            (None, _) => false,
        },
    }
}

/// A case's value for `field_id`, treating a cleared field like one never set.
fn stored<'a>(case: &'a CaseRecord, field_id: &str) -> Option<&'a Value> {
    stored_in(&case.fields, field_id)
}

fn stored_in<'a>(fields: &'a BTreeMap<String, Value>, field_id: &str) -> Option<&'a Value> {
    fields.get(field_id).filter(|v| **v != Value::Empty)
}

fn field_matches(p: &FieldPredicate, fields: &BTreeMap<String, Value>) -> bool {
    let Some(have) = stored_in(fields, &p.field_id) else {
        // Only "equalTo emptyValue" matches a field without a value.
        return p.op == Op::EqualTo && p.value == Value::Empty;
    };
    match p.op {
        Op::EqualTo => same(have, &p.value),
        Op::Contains => match (have, &p.value) {
            (Value::String(h), Value::String(n)) => h.to_lowercase().contains(&n.to_lowercase()),
            _ => false,
        },
        Op::GreaterThan => same_kind_cmp(have, &p.value) == Some(Ordering::Greater),
        Op::GreaterThanOrEqualTo => matches!(
            same_kind_cmp(have, &p.value),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        Op::LessThan => same_kind_cmp(have, &p.value) == Some(Ordering::Less),
        Op::LessThanOrEqualTo => matches!(
            same_kind_cmp(have, &p.value),
            Some(Ordering::Less | Ordering::Equal)
        ),
    }
}

/// Equality of two values of the same member; numbers by numeric value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) | (Value::UserArn(x), Value::UserArn(y)) => x == y,
        (Value::Double(x), Value::Double(y)) => x == y,
        (Value::Boolean(x), Value::Boolean(y)) => x == y,
        _ => false,
    }
}

/// Order of two values of the same member; `None` when they are of different members. DateTime
/// values are canonical UTC strings, so string order is chronological order.
fn same_kind_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) | (Value::UserArn(x), Value::UserArn(y)) => {
            Some(x.cmp(y))
        }
        (Value::Double(x), Value::Double(y)) => Some(x.total_cmp(y)),
        (Value::Boolean(x), Value::Boolean(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// True when every word of `terms` is a word of some value of a `term_fields` field of `case`;
/// the last word only needs to begin a word (so a search can be typed incrementally). No terms
/// match every case.
pub fn matches_terms(terms: &[String], term_fields: &BTreeSet<String>, case: &CaseRecord) -> bool {
    let Some((last, whole)) = terms.split_last() else {
        return true;
    };
    let have: BTreeSet<String> = case
        .fields
        .iter()
        .filter(|(id, _)| term_fields.contains(*id))
        .filter_map(|(_, v)| match v {
            Value::String(s) => Some(words(s)),
            _ => None,
        })
        .flatten()
        .collect();
    whole.iter().all(|w| have.contains(w))
        && have
            .range::<String, _>(last..)
            .next()
            .is_some_and(|w| w.starts_with(last.as_str()))
}

/// The values `case` is ordered by under `sorts` (`None` where it has no value).
pub fn sort_key(case: &CaseRecord, sorts: &[SortSpec]) -> Vec<Option<Value>> {
    sorts
        .iter()
        .map(|s| stored(case, &s.field_id).cloned())
        .collect()
}

/// The total order of search results: by each sort in turn, cases without a value last in either
/// direction, then by case id ascending so that no two cases are ever equal (keyset paging
/// depends on it).
pub fn compare(
    a_key: &[Option<Value>],
    a_id: &str,
    b_key: &[Option<Value>],
    b_id: &str,
    sorts: &[SortSpec],
) -> Ordering {
    for ((a, b), s) in a_key.iter().zip(b_key).zip(sorts) {
        let o = match (a, b) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => {
                let o = value_order(x, y);
                if s.descending { o.reverse() } else { o }
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a_id.cmp(b_id)
}

/// A total order over values. Values of one field always share a member; ranking the members
/// keeps the order total even if they did not.
fn value_order(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::String(_) => 0,
            Value::Double(_) => 1,
            Value::Boolean(_) => 2,
            Value::UserArn(_) => 3,
            Value::Empty => 4,
        }
    }
    same_kind_cmp(a, b).unwrap_or_else(|| rank(a).cmp(&rank(b)))
}
