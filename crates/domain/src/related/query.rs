//! SearchRelatedItems and SearchAllRelatedItems semantics, independent of any index: the compiled
//! query a backend executes, and the reference evaluator (`run`) that defines what a correct
//! answer is. Backends are tested against `run`.
//!
//! Everything here is pure: no storage, no clock (the query carries `now`, which an SLA's status
//! depends on), no I/O.

use super::{ItemDoc, sla};
use crate::search::{compile_filter, matches_values};
pub use crate::store::{ItemFilter, ItemKey, ItemSort, RelatedQuery, SortProperty};
use crate::store::{RelatedItemRecord, RelatedPage};
use crate::value::Value;
use caseload_model::shapes::{
    CaseFilter, CustomFieldsFilter, FieldType, Order, RelatedItemContent, RelatedItemType,
    RelatedItemTypeFilter, SearchAllRelatedItemsSort, SearchAllRelatedItemsSortProperty,
};
use caseload_model::{Error, Result, Timestamp};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The attribute an item is found by with an equality filter, as backends index it.
pub fn ref_key(content: &RelatedItemContent) -> Option<String> {
    match content {
        RelatedItemContent::Contact(c) => Some(c.contact_arn.clone()),
        RelatedItemContent::File(f) => Some(f.file_arn.clone()),
        RelatedItemContent::ConnectCase(c) => Some(c.case_id.clone()),
        RelatedItemContent::Sla(s) => Some(s.sla_configuration.name.clone()),
        RelatedItemContent::Comment(_) | RelatedItemContent::Custom(_) => None,
    }
}

fn custom_to_case_filter(f: &CustomFieldsFilter) -> CaseFilter {
    match f {
        CustomFieldsFilter::Field(ff) => CaseFilter::Field(ff.clone()),
        CustomFieldsFilter::Not(inner) => CaseFilter::Not(Box::new(custom_to_case_filter(inner))),
        CustomFieldsFilter::AndAll(list) => {
            CaseFilter::AndAll(list.iter().map(custom_to_case_filter).collect())
        }
        CustomFieldsFilter::OrAll(list) => {
            CaseFilter::OrAll(list.iter().map(custom_to_case_filter).collect())
        }
    }
}

/// Compiles the wire's filters; `field_type` resolves the domain's field ids for custom filters.
pub fn compile_filters(
    filters: &[RelatedItemTypeFilter],
    field_type: &impl Fn(&str) -> Option<FieldType>,
) -> Result<Vec<ItemFilter>> {
    filters
        .iter()
        .map(|f| {
            let of = |item_type| ItemFilter {
                item_type,
                ref_key: None,
                channels: vec![],
                sla_status: None,
                custom: None,
            };
            Ok(match f {
                RelatedItemTypeFilter::Contact(c) => ItemFilter {
                    ref_key: c.contact_arn.clone(),
                    channels: c.channel.clone().unwrap_or_default(),
                    ..of(RelatedItemType::Contact)
                },
                RelatedItemTypeFilter::Comment(_) => of(RelatedItemType::Comment),
                RelatedItemTypeFilter::File(file) => ItemFilter {
                    ref_key: file.file_arn.clone(),
                    ..of(RelatedItemType::File)
                },
                RelatedItemTypeFilter::Sla(s) => ItemFilter {
                    ref_key: s.name.clone(),
                    sla_status: s.status,
                    ..of(RelatedItemType::Sla)
                },
                RelatedItemTypeFilter::ConnectCase(c) => ItemFilter {
                    ref_key: c.case_id.clone(),
                    ..of(RelatedItemType::ConnectCase)
                },
                RelatedItemTypeFilter::Custom(c) => ItemFilter {
                    custom: c
                        .fields
                        .as_ref()
                        .map(|f| compile_filter(&custom_to_case_filter(f), field_type))
                        .transpose()?,
                    ..of(RelatedItemType::Custom)
                },
            })
        })
        .collect()
}

/// Compiles SearchAllRelatedItems' sorts: the given ones (each property at most once), then
/// AssociationTime descending unless it was given. No sorts means newest first.
pub fn compile_sorts(sorts: &[SearchAllRelatedItemsSort]) -> Result<Vec<ItemSort>> {
    let mut out: Vec<ItemSort> = vec![];
    for s in sorts {
        let property = match s.sort_property {
            SearchAllRelatedItemsSortProperty::AssociationTime => SortProperty::AssociationTime,
            SearchAllRelatedItemsSortProperty::CaseId => SortProperty::CaseId,
        };
        if out.iter().any(|o| o.property == property) {
            return Err(Error::validation(format!(
                "sorts names sortProperty {} more than once",
                s.sort_property.as_str()
            )));
        }
        out.push(ItemSort {
            property,
            descending: s.sort_order == Order::Desc,
        });
    }
    if !out
        .iter()
        .any(|s| s.property == SortProperty::AssociationTime)
    {
        out.push(NEWEST_FIRST);
    }
    Ok(out)
}

/// SearchRelatedItems' order, and SearchAllRelatedItems' default.
pub const NEWEST_FIRST: ItemSort = ItemSort {
    property: SortProperty::AssociationTime,
    descending: true,
};

/// The total order of results: by each sort in turn, then by insertion order in the direction
/// of the AssociationTime sort (so items associated in the same millisecond keep the order they
/// were made in).
pub fn compare(a: &ItemKey, b: &ItemKey, sorts: &[ItemSort]) -> Ordering {
    for s in sorts {
        let o = match s.property {
            SortProperty::AssociationTime => a.association_ms.cmp(&b.association_ms),
            SortProperty::CaseId => a.case_id.cmp(&b.case_id),
        };
        let o = if s.descending { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    let newest_first = sorts
        .iter()
        .find(|s| s.property == SortProperty::AssociationTime)
        .is_none_or(|s| s.descending);
    let o = a.seq.cmp(&b.seq);
    if newest_first { o.reverse() } else { o }
}

/// True when `item` satisfies one of `filters` (or there are none).
pub fn matches(filters: &[ItemFilter], item: &RelatedItemRecord, now: Timestamp) -> bool {
    filters.is_empty() || filters.iter().any(|f| matches_one(f, item, now))
}

/// True when `item` satisfies `f`.
pub fn matches_one(f: &ItemFilter, item: &RelatedItemRecord, now: Timestamp) -> bool {
    if item.item_type != f.item_type {
        return false;
    }
    if f.ref_key.is_some() && f.ref_key != item.ref_key {
        return false;
    }
    if f.channels.is_empty() && f.sla_status.is_none() && f.custom.is_none() {
        return true;
    }
    let Ok(doc) = ItemDoc::from_body(&item.body) else {
        return false;
    };
    match &doc.content {
        RelatedItemContent::Contact(c) => f.channels.is_empty() || f.channels.contains(&c.channel),
        RelatedItemContent::Sla(s) => f
            .sla_status
            .is_none_or(|want| sla::status(&s.sla_configuration, now) == want),
        RelatedItemContent::Custom(c) => f.custom.as_ref().is_none_or(|filter| {
            let values: BTreeMap<String, Value> = c
                .fields
                .iter()
                .map(|fv| (fv.id.clone(), Value::from_wire(&fv.value)))
                .collect();
            matches_values(filter, &values, &item.tags)
        }),
        _ => true,
    }
}

/// Runs `q` over `items` (all of the case or domain searched) with the reference semantics.
pub fn run(q: &RelatedQuery, items: Vec<RelatedItemRecord>) -> RelatedPage {
    let mut hits: Vec<RelatedItemRecord> = items
        .into_iter()
        .filter(|i| q.case_id.as_ref().is_none_or(|c| *c == i.case_id))
        .filter(|i| matches(&q.filters, i, q.now))
        .filter(|i| {
            q.after
                .as_ref()
                .is_none_or(|a| compare(&i.key(), a, &q.sorts).is_gt())
        })
        .collect();
    hits.sort_by(|a, b| compare(&a.key(), &b.key(), &q.sorts));
    let more = hits.len() > q.limit;
    hits.truncate(q.limit);
    let next = if more {
        hits.last().map(RelatedItemRecord::key)
    } else {
        None
    };
    RelatedPage { items: hits, next }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ms: i64, case: &str, seq: i64) -> ItemKey {
        ItemKey {
            association_ms: ms,
            case_id: case.into(),
            seq,
        }
    }

    #[test]
    fn orders_are_total_and_follow_the_sorts() {
        let newest = compile_sorts(&[]).unwrap();
        assert_eq!(newest, vec![NEWEST_FIRST]);
        // Same millisecond: the later insertion comes first when newest first.
        assert!(compare(&key(5, "a", 2), &key(5, "a", 1), &newest).is_lt());
        assert!(compare(&key(6, "a", 1), &key(5, "a", 2), &newest).is_lt());
        let by_case = compile_sorts(&[SearchAllRelatedItemsSort {
            sort_order: Order::Asc,
            sort_property: SearchAllRelatedItemsSortProperty::CaseId,
        }])
        .unwrap();
        assert_eq!(by_case.len(), 2);
        assert!(compare(&key(1, "a", 1), &key(9, "b", 2), &by_case).is_lt());
        assert!(compare(&key(9, "a", 1), &key(1, "a", 2), &by_case).is_lt());
        let oldest = compile_sorts(&[SearchAllRelatedItemsSort {
            sort_order: Order::Asc,
            sort_property: SearchAllRelatedItemsSortProperty::AssociationTime,
        }])
        .unwrap();
        assert!(compare(&key(5, "z", 1), &key(5, "a", 2), &oldest).is_lt());
        let twice = [
            SearchAllRelatedItemsSort {
                sort_order: Order::Asc,
                sort_property: SearchAllRelatedItemsSortProperty::CaseId,
            },
            SearchAllRelatedItemsSort {
                sort_order: Order::Desc,
                sort_property: SearchAllRelatedItemsSortProperty::CaseId,
            },
        ];
        assert_eq!(
            compile_sorts(&twice).unwrap_err().to_string(),
            "sorts names sortProperty CaseId more than once"
        );
    }
}
