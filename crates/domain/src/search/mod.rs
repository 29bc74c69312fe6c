//! SearchCases semantics, independent of any index: the compiler from the wire's filter (`compile`), and the reference evaluator
//! (`eval`, `run`) that defines what a correct answer is. Backends are tested against `run`.
//!
//! Everything here is pure: no storage, no clock, no I/O.

mod compile;
mod eval;

pub use compile::{MAX_FILTER_CHILDREN, MAX_FILTER_DEPTH, compile_filter, compile_sorts, words};
pub use eval::{compare, matches, matches_terms, matches_values, sort_key};

use crate::store::{CasePage, CaseRecord};
pub use crate::store::{CaseQuery, Cursor, FieldPredicate, Filter, Op, SortSpec};
use crate::value::Value;

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
