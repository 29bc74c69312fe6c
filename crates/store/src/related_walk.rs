//! The plan of a domain-wide related-item search (SearchAllRelatedItems), shared by the backends:
//! they read rows, this decides which rows to read next and what the page is.
//!
//! One walk per filter goes down the index whose prefix is the filter's scope (the domain; its
//! type; its type and `ref_key`) and whose next column is the query's first sort (association
//! time or case id). Rows come in that order in chunks; rows sharing the first sort's value form
//! a group, which is completed and put into the query's full order before it is used. Each row is
//! checked against the whole filter, so the index only narrows. A walk stops when it has one
//! match more than a page, at the end of its index, or when it has examined `scan_budget` rows;
//! the walks' results are merged up to the earliest point every walk got to, and a page that
//! stopped on the budget ends there with a token to resume (possibly short, even empty). So a
//! request's cost is bounded whatever the domain's size, and following `nextToken` visits every
//! match exactly once.
//!
//! A backend drives a `Walk` as a small state machine:
//!
//! ```ignore
//! let mut walk = Walk::new(q, filter);
//! let mut next = Next::Chunk;
//! let walked = loop {
//!     next = match next {
//!         // At most CHUNK rows of the scope from `walk.from()`, in the first sort's order.
//!         Next::Chunk => walk.chunk(read_chunk(walk.from())?),
//!         // Every row of the scope whose first sort value is `value`.
//!         Next::Group(value) => walk.group(read_group(&value)?),
//!         Next::Done(walked) => break walked,
//!     };
//! };
//! ```
//!
//! and `page` merges the walks of a query's filters.

use caseload_domain::related::query::{compare, matches_one};
use caseload_domain::store::{
    ItemFilter, ItemKey, RelatedItemRecord, RelatedPage, RelatedQuery, SortProperty,
};

/// Rows read per query of a walk.
pub(crate) const CHUNK: usize = 256;

/// An item's value of the query's first sort.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Primary {
    Time(i64),
    Case(String),
}

impl Primary {
    fn of(k: &ItemKey, p: SortProperty) -> Primary {
        match p {
            SortProperty::AssociationTime => Primary::Time(k.association_ms),
            SortProperty::CaseId => Primary::Case(k.case_id.clone()),
        }
    }
}

/// The column of the query's first sort and its direction, for the walks' `ORDER BY`.
pub(crate) fn order_by(q: &RelatedQuery) -> (&'static str, &'static str) {
    let first = q.sorts[0];
    let column = match first.property {
        SortProperty::AssociationTime => "association_ms",
        SortProperty::CaseId => "case_id",
    };
    (column, if first.descending { "DESC" } else { "ASC" })
}

/// The comparison of the first sort's column with a `From` value that selects the rows from it.
pub(crate) fn from_op(q: &RelatedQuery, inclusive: bool) -> &'static str {
    match (q.sorts[0].descending, inclusive) {
        (false, true) => ">=",
        (false, false) => ">",
        (true, true) => "<=",
        (true, false) => "<",
    }
}

/// Where the next chunk starts: the first sort's value, and whether rows with that value are
/// included (the cursor's own group is; a group already read is not).
pub(crate) type From = Option<(Primary, bool)>;

/// What one walk found: its matches in order, and how far it got (`None`: to the end).
pub(crate) struct Walked {
    matches: Vec<RelatedItemRecord>,
    complete_to: Option<ItemKey>,
}

/// What a walk needs next.
pub(crate) enum Next {
    /// The next chunk: at most `CHUNK` rows of the scope from `Walk::from`, in the first sort's
    /// order (ascending or descending as the query says).
    Chunk,
    /// Every row of the scope with this first sort value (a group that filled a whole chunk).
    Group(Primary),
    Done(Walked),
}

pub(crate) struct Walk<'q> {
    q: &'q RelatedQuery,
    filter: Option<&'q ItemFilter>,
    from: From,
    examined: usize,
    matches: Vec<RelatedItemRecord>,
    last_seen: Option<ItemKey>,
}

impl<'q> Walk<'q> {
    pub fn new(q: &'q RelatedQuery, filter: Option<&'q ItemFilter>) -> Walk<'q> {
        Walk {
            q,
            filter,
            from: q
                .after
                .as_ref()
                .map(|a| (Primary::of(a, q.sorts[0].property), true)),
            examined: 0,
            matches: vec![],
            last_seen: None,
        }
    }

    pub fn from(&self) -> &From {
        &self.from
    }

    /// Takes the rows `Next::Chunk` asked for.
    pub fn chunk(&mut self, rows: Vec<RelatedItemRecord>) -> Next {
        let primary = self.q.sorts[0].property;
        let full = rows.len() == CHUNK;
        let mut groups: Vec<Vec<RelatedItemRecord>> = vec![];
        for r in rows {
            let v = Primary::of(&r.key(), primary);
            match groups.last_mut() {
                Some(g) if Primary::of(&g[0].key(), primary) == v => g.push(r),
                _ => groups.push(vec![r]),
            }
        }
        if full {
            // The chunk's last group may continue past it: leave it to the next chunk, unless it
            // is the only one, which is then read whole (and the walk goes on after it).
            if let Some(last) = groups.pop()
                && groups.is_empty()
            {
                let v = Primary::of(&last[0].key(), primary);
                self.from = Some((v.clone(), false));
                return Next::Group(v);
            }
        }
        self.take(groups, full)
    }

    /// Takes the rows `Next::Group` asked for.
    pub fn group(&mut self, rows: Vec<RelatedItemRecord>) -> Next {
        self.take(vec![rows], true)
    }

    /// Examines whole groups in order; `more` when the scope may hold rows beyond them.
    fn take(&mut self, groups: Vec<Vec<RelatedItemRecord>>, more: bool) -> Next {
        let q = self.q;
        if groups.is_empty() && !more {
            return self.done(None);
        }
        for mut g in groups {
            if g.is_empty() {
                continue;
            }
            g.sort_by(|a, b| compare(&a.key(), &b.key(), &q.sorts));
            let v = Primary::of(&g[0].key(), q.sorts[0].property);
            for item in g {
                let k = item.key();
                if q.after
                    .as_ref()
                    .is_some_and(|a| compare(&k, a, &q.sorts).is_le())
                {
                    continue;
                }
                self.examined += 1;
                let hit = self.filter.is_none_or(|f| matches_one(f, &item, q.now));
                self.last_seen = Some(k);
                if hit {
                    self.matches.push(item);
                    if self.matches.len() > q.limit {
                        return self.done(self.last_seen.clone());
                    }
                }
            }
            self.from = Some((v, false));
            if self.examined >= q.scan_budget.max(1) && self.last_seen.is_some() {
                return self.done(self.last_seen.clone());
            }
        }
        if more { Next::Chunk } else { self.done(None) }
    }

    fn done(&mut self, complete_to: Option<ItemKey>) -> Next {
        Next::Done(Walked {
            matches: std::mem::take(&mut self.matches),
            complete_to,
        })
    }
}

/// The page of a query from the walks of its filters (one walk when it has none).
pub(crate) fn page(q: &RelatedQuery, walks: Vec<Walked>) -> RelatedPage {
    // Results are only complete up to the earliest point a walk stopped at.
    let bound = walks
        .iter()
        .filter_map(|w| w.complete_to.clone())
        .min_by(|a, b| compare(a, b, &q.sorts));
    let mut items: Vec<RelatedItemRecord> = walks
        .into_iter()
        .flat_map(|w| w.matches)
        .filter(|i| {
            bound
                .as_ref()
                .is_none_or(|b| compare(&i.key(), b, &q.sorts).is_le())
        })
        .collect();
    items.sort_by(|a, b| compare(&a.key(), &b.key(), &q.sorts));
    // An item matching several filters was found by several walks.
    items.dedup_by_key(|i| i.seq);
    let next = if items.len() > q.limit {
        items.truncate(q.limit);
        items.last().map(RelatedItemRecord::key)
    } else {
        bound
    };
    RelatedPage { items, next }
}

#[cfg(test)]
mod tests {
    //! Walks over an index kept in memory, with groups larger than a chunk (the backends' tests
    //! have too few items to fill one), against the reference evaluator.

    use super::*;
    use caseload_domain::related::query::run;
    use caseload_domain::store::ItemSort;
    use caseload_model::Timestamp;
    use caseload_model::shapes::RelatedItemType;

    fn item(seq: i64, case: usize, ms: i64, comment: bool) -> RelatedItemRecord {
        RelatedItemRecord {
            account_id: "a".into(),
            domain_id: "d".into(),
            case_id: format!("case-{case}"),
            related_item_id: format!("item-{seq}"),
            item_type: if comment {
                RelatedItemType::Comment
            } else {
                RelatedItemType::File
            },
            association_time: Timestamp::from_unix_millis(ms),
            seq,
            ref_key: None,
            body: serde_json::json!({}),
            tags: Default::default(),
            version: 1,
        }
    }

    fn value(p: &Primary, i: &RelatedItemRecord) -> std::cmp::Ordering {
        match p {
            Primary::Time(ms) => i.association_time.unix_millis().cmp(ms),
            Primary::Case(id) => i.case_id.cmp(id),
        }
    }

    /// What a backend's statement returns: the scope's rows from `from` in the first sort's
    /// order (ties in an order of the index's own, here by descending seq), at most `limit`.
    fn read(
        all: &[RelatedItemRecord],
        q: &RelatedQuery,
        f: Option<&ItemFilter>,
        keep: impl Fn(&RelatedItemRecord) -> bool,
        limit: usize,
    ) -> Vec<RelatedItemRecord> {
        let first = [q.sorts[0]];
        let mut rows: Vec<RelatedItemRecord> = all
            .iter()
            .filter(|i| f.is_none_or(|f| f.item_type == i.item_type))
            .filter(|i| keep(i))
            .cloned()
            .collect();
        rows.sort_by(|a, b| compare(&a.key(), &b.key(), &first).then(b.seq.cmp(&a.seq)));
        rows.truncate(limit);
        rows
    }

    fn walk(all: &[RelatedItemRecord], q: &RelatedQuery, f: Option<&ItemFilter>) -> Walked {
        let descending = q.sorts[0].descending;
        let mut walk = Walk::new(q, f);
        let mut next = Next::Chunk;
        loop {
            next = match next {
                Next::Chunk => {
                    let from = walk.from().clone();
                    let rows = read(
                        all,
                        q,
                        f,
                        |i| match &from {
                            None => true,
                            Some((v, inclusive)) => {
                                let o = value(v, i);
                                let o = if descending { o.reverse() } else { o };
                                o.is_gt() || (*inclusive && o.is_eq())
                            }
                        },
                        CHUNK,
                    );
                    walk.chunk(rows)
                }
                Next::Group(v) => walk.group(read(all, q, f, |i| value(&v, i).is_eq(), usize::MAX)),
                Next::Done(walked) => return walked,
            };
        }
    }

    #[test]
    fn walks_with_groups_larger_than_a_chunk_visit_what_the_evaluator_returns() {
        // 700 items on three instants and three cases: every group of the first sort holds
        // more than a chunk.
        let all: Vec<RelatedItemRecord> = (0..700)
            .map(|n| item(n, (n % 3) as usize, (n % 5 / 2) * 1000, n % 4 != 0))
            .collect();
        let comments = ItemFilter {
            item_type: RelatedItemType::Comment,
            ref_key: None,
            channels: vec![],
            sla_status: None,
            custom: None,
        };
        let sort = |property, descending| ItemSort {
            property,
            descending,
        };
        for sorts in [
            vec![sort(SortProperty::AssociationTime, false)],
            vec![sort(SortProperty::AssociationTime, true)],
            vec![
                sort(SortProperty::CaseId, true),
                sort(SortProperty::AssociationTime, false),
            ],
        ] {
            for (filters, limit, budget) in [
                (vec![], 50, 1000),
                (vec![comments.clone()], 7, 30),
                (vec![comments.clone()], 300, 10_000),
            ] {
                let mut q = RelatedQuery {
                    account_id: "a".into(),
                    domain_id: "d".into(),
                    case_id: None,
                    filters,
                    sorts: sorts.clone(),
                    after: None,
                    limit,
                    now: Timestamp::from_unix_millis(0),
                    scan_budget: budget,
                };
                let want: Vec<i64> = run(
                    &RelatedQuery {
                        limit: usize::MAX,
                        ..q.clone()
                    },
                    all.clone(),
                )
                .items
                .iter()
                .map(|i| i.seq)
                .collect();
                let mut got = vec![];
                for _ in 0..10_000 {
                    let walks = match q.filters.first() {
                        None => vec![walk(&all, &q, None)],
                        Some(f) => vec![walk(&all, &q, Some(f))],
                    };
                    let page = page(&q, walks);
                    assert!(page.items.len() <= q.limit);
                    got.extend(page.items.iter().map(|i| i.seq));
                    match page.next {
                        Some(next) => q.after = Some(next),
                        None => break,
                    }
                }
                assert_eq!(got, want, "{:?} limit {limit} budget {budget}", q.sorts);
            }
        }
    }
}
