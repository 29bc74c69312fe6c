//! The queries a backend answers: SearchCases' (`CaseQuery`) and the related-item searches'
//! (`RelatedQuery`), compiled and validated by the domain layer (`search::compile`,
//! `related::query`), whose reference evaluators define what a correct answer is.

use super::records::RelatedItemRecord;
use crate::value::Value;
use caseload_model::Timestamp;
use caseload_model::shapes::{FieldType, RelatedItemType, SlaStatus};
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

/// One filter of a search: an item of `item_type` whose attributes satisfy the rest. A search's
/// filters are alternatives (an item matching any of them is returned); within one filter every
/// given member must hold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemFilter {
    pub item_type: RelatedItemType,
    /// The item's `ref_key` must equal this (contact ARN, file ARN, linked case id, SLA name).
    pub ref_key: Option<String>,
    /// Contact only: the channel must be one of these (none: any channel).
    pub channels: Vec<String>,
    /// Sla only: the status the SLA has at the query's `now`.
    pub sla_status: Option<SlaStatus>,
    /// Custom only: the filter the item's fields must satisfy, with SearchCases' algebra.
    pub custom: Option<Filter>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SortProperty {
    AssociationTime,
    CaseId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ItemSort {
    pub property: SortProperty,
    pub descending: bool,
}

/// What an item is ordered by: its association time, its case and its insertion order (which
/// breaks every tie). Also a position in a result order (a page token carries one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemKey {
    pub association_ms: i64,
    pub case_id: String,
    pub seq: i64,
}

/// A validated related-item search.
#[derive(Clone, Debug, PartialEq)]
pub struct RelatedQuery {
    pub account_id: String,
    pub domain_id: String,
    /// SearchRelatedItems: the one case searched. SearchAllRelatedItems: `None`, the domain.
    pub case_id: Option<String>,
    /// Alternatives; empty matches every item.
    pub filters: Vec<ItemFilter>,
    /// Never empty and always names AssociationTime (`compile_sorts`).
    pub sorts: Vec<ItemSort>,
    /// Keyset position: only items strictly after it in the query's order.
    pub after: Option<ItemKey>,
    pub limit: usize,
    /// The instant SLA statuses are evaluated at.
    pub now: Timestamp,
    /// How many index entries a backend may examine per filter before it answers with what it
    /// has and a position to resume from, so that a selective filter over a large domain costs
    /// a bounded amount of work per request.
    pub scan_budget: usize,
}

impl RelatedItemRecord {
    pub fn key(&self) -> ItemKey {
        ItemKey {
            association_ms: self.association_time.unix_millis(),
            case_id: self.case_id.clone(),
            seq: self.seq,
        }
    }
}
