//! SearchCases semantics, independent of any index: the compiled query a backend executes, and
//! the reference evaluator (`matches`, `compare`) that defines what a correct answer is. Backends
//! are tested against the evaluator.

use crate::value::Value;
use caseload_model::shapes::FieldType;
use serde::{Deserialize, Serialize};

/// A validated search, with every field's type resolved from the domain's schema.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseQuery {
    pub account_id: String,
    pub domain_id: String,
    pub filter: Option<Filter>,
    /// Lower-cased words of `searchTerm`; all must match.
    pub search_terms: Vec<String>,
    /// Never empty: the default order is `last_updated_datetime` descending.
    pub sorts: Vec<SortSpec>,
    /// Keyset position: return only cases strictly after this one in the query's order.
    pub after: Option<Cursor>,
    pub limit: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    Field(FieldPredicate),
    Not(Box<Filter>),
    And(Vec<Filter>),
    Or(Vec<Filter>),
    /// A tag with that key and, if given, that value.
    Tag {
        key: String,
        value: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldPredicate {
    pub field_id: String,
    pub field_type: FieldType,
    pub op: Op,
    pub value: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    EqualTo,
    Contains,
    GreaterThan,
    GreaterThanOrEqualTo,
    LessThan,
    LessThanOrEqualTo,
}

#[derive(Clone, Debug, PartialEq)]
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

/// Runs `q` over `cases` with the reference semantics: filter, exact total, order, keyset page.
pub fn run(q: &CaseQuery, cases: Vec<crate::store::CaseRecord>) -> crate::store::CasePage {
    let _ = (q, cases);
    unimplemented!("the reference evaluator is being built")
}
