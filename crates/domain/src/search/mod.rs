//! SearchCases semantics, independent of any index: the compiled query a backend executes
//! (`CaseQuery`), the compiler from the wire's filter (`compile`), and the reference evaluator
//! (`eval`, `run`) that defines what a correct answer is. Backends are tested against `run`.
//!
//! Everything here is pure: no storage, no clock, no I/O.

mod compile;
mod eval;

pub use compile::{MAX_FILTER_CHILDREN, MAX_FILTER_DEPTH, compile_filter, compile_sorts, words};
pub use eval::{compare, matches, matches_terms, matches_values, sort_key};

use crate::store::{CasePage, CaseRecord};
use crate::value::Value;
use caseload_model::shapes::FieldType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A validated search, with every field's type resolved from the domain's schema.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseQuery {
    pub account_id: String,
    pub domain_id: String,
    pub filter: Option<Filter>,
    /// Lower-cased words of `searchTerm`; all must match (the last one as a prefix).
    pub search_terms: Vec<String>,
    /// The fields whose values `search_terms` are matched against: the domain's Text, Url and
    /// SingleSelect fields, deleted ones included. The evaluator needs it because a DateTime value
    /// is also a string, and must not be found by a search for "2026".
    pub term_fields: BTreeSet<String>,
    /// Never empty: the default order is `last_updated_datetime` descending.
    pub sorts: Vec<SortSpec>,
    /// Keyset position: return only cases strictly after this one in the query's order.
    pub after: Option<Cursor>,
    pub limit: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Filter {
    Field(FieldPredicate),
    Not(Box<Filter>),
    /// All children match; an empty list matches every case.
    And(Vec<Filter>),
    /// Some child matches; an empty list matches no case.
    Or(Vec<Filter>),
    /// A tag with that key and, if given, that value.
    Tag {
        key: String,
        value: Option<String>,
    },
}

/// `field_id op value`. The compiler guarantees that `op` is allowed for `field_type` and that
/// `value` is the member that type takes (DateTime values already canonical), or `Value::Empty`
/// with `EqualTo` ("has no value").
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldPredicate {
    pub field_id: String,
    pub field_type: FieldType,
    pub op: Op,
    pub value: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Op {
    EqualTo,
    Contains,
    GreaterThan,
    GreaterThanOrEqualTo,
    LessThan,
    LessThanOrEqualTo,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SortSpec {
    pub field_id: String,
    pub field_type: FieldType,
    pub descending: bool,
}

/// Where a page ended: the last case's sort values and id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub sort_values: Vec<Option<Value>>,
    pub case_id: String,
}

/// The field and order SearchCases uses when the request has no sorts.
pub const DEFAULT_SORT_FIELD: &str = "last_updated_datetime";

/// Runs `q` over `cases` with the reference semantics: filter, exact total, order, keyset page.
///
/// Linear in the number of cases plus `O(limit · log limit)` for the page: only the page is
/// fully sorted, the rest is partitioned.
pub fn run(q: &CaseQuery, cases: Vec<CaseRecord>) -> CasePage {
    let mut total = 0u64;
    let mut after: Vec<(Vec<Option<Value>>, CaseRecord)> = Vec::new();
    for case in cases {
        if !matches_query(q, &case) {
            continue;
        }
        total += 1;
        let key = sort_key(&case, &q.sorts);
        let past_cursor = q.after.as_ref().is_none_or(|c| {
            compare(&key, &case.case_id, &c.sort_values, &c.case_id, &q.sorts).is_gt()
        });
        if past_cursor {
            after.push((key, case));
        }
    }
    let order = |a: &(Vec<Option<Value>>, CaseRecord), b: &(Vec<Option<Value>>, CaseRecord)| {
        compare(&a.0, &a.1.case_id, &b.0, &b.1.case_id, &q.sorts)
    };
    let more = after.len() > q.limit;
    if more {
        // Partition so that the first `limit` are the smallest; only those need sorting.
        after.select_nth_unstable_by(q.limit, order);
        after.truncate(q.limit);
    }
    after.sort_unstable_by(order);
    CasePage {
        cases: after.into_iter().map(|(_, c)| c).collect(),
        total,
        more,
    }
}

/// True when `case` satisfies both the filter and the search terms of `q`.
pub fn matches_query(q: &CaseQuery, case: &CaseRecord) -> bool {
    q.filter.as_ref().is_none_or(|f| matches(f, case))
        && matches_terms(&q.search_terms, &q.term_fields, case)
}

#[cfg(test)]
mod tests;
