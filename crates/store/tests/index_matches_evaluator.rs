//! The search index must answer exactly like the reference evaluator
//! (`caseload_domain::search::run`): same matches, same total, same order, same pages when a
//! search is followed page by page through keyset cursors. Random cases, filters, search terms
//! and sorts, through the real `SqliteStore`.

use caseload_domain::schema::fields::FieldDoc;
use caseload_domain::search::{self, CaseQuery, Cursor, FieldPredicate, Filter, Op, SortSpec};
use caseload_domain::store::{AuditRecord, CaseRecord, ResourceKind, ResourceRecord, Store};
use caseload_domain::value::Value;
use caseload_model::Timestamp;
use caseload_model::shapes::FieldType;
use caseload_store::SqliteStore;
use caseload_store::index::Tuning;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const FIELDS: &[(&str, FieldType)] = &[
    ("title", FieldType::Text),
    ("notes", FieldType::Text),
    ("amount", FieldType::Number),
    ("urgent", FieldType::Boolean),
    ("due", FieldType::DateTime),
    ("status", FieldType::SingleSelect),
    ("owner", FieldType::User),
];
const WORDS: &[&str] = &[
    "printer",
    "Fire",
    "print",
    "ink",
    "déjà",
    "vu",
    "on",
    "a",
    "x-ray",
    "FIRE",
    // The character that pads the index's grams (`encode::PAD`), inside a value.
    "in\u{1f}k",
];
const STATUSES: &[&str] = &["open", "closed", "pending"];

/// Takes every segment's matches by walking a precomputed order, however few.
const WALK_ALWAYS: Tuning = Tuning {
    walk_min_matches: 0,
    order_min_docs: 0,
    few_values_max: 256,
    few_values_min_seen: 0,
    few_scan_max_values: 4096,
};

/// The ways `contains` can find a value: through grams only (no field few-valued), through the
/// few-valued marker with a scan of the segment's distinct values, or with the marked documents
/// verified one by one; and with a field few-valued for its first two values only, both kinds
/// of document in one segment (also when marking starts only after a few values).
fn few_tunings() -> impl Strategy<Value = (usize, u64, u64)> {
    (
        prop::sample::select(vec![0usize, 2, 256]),
        prop::sample::select(vec![0u64, 3]),
        prop::sample::select(vec![0u64, 4096]),
    )
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..4).prop_map(|w| w.join(" "))
}

fn value_for(t: FieldType) -> BoxedStrategy<Value> {
    let v: BoxedStrategy<Value> = match t {
        FieldType::Text => text().prop_map(Value::String).boxed(),
        FieldType::Number => prop::sample::select(vec![-2.5, -0.0, 0.0, 1.0, 3.0, 1e9])
            .prop_map(Value::Double)
            .boxed(),
        FieldType::Boolean => any::<bool>().prop_map(Value::Boolean).boxed(),
        FieldType::DateTime => (0i64..5)
            .prop_map(|d| {
                Value::String(
                    Timestamp::from_unix_millis(1_700_000_000_000 + d * 86_400_000).to_iso8601(),
                )
            })
            .boxed(),
        FieldType::SingleSelect => prop::sample::select(STATUSES)
            .prop_map(|s| Value::String(s.to_owned()))
            .boxed(),
        _ => prop::sample::select(vec!["arn:u1", "arn:u2", "arn:U3"])
            .prop_map(|s| Value::UserArn(s.to_owned()))
            .boxed(),
    };
    prop_oneof![8 => v, 1 => Just(Value::Empty)].boxed()
}

fn case_fields() -> impl Strategy<Value = BTreeMap<String, Value>> {
    let per_field: Vec<BoxedStrategy<Option<(String, Value)>>> = FIELDS
        .iter()
        .map(|(id, t)| {
            prop::option::weighted(0.7, value_for(*t))
                .prop_map(move |v| v.map(|v| ((*id).to_owned(), v)))
                .boxed()
        })
        .collect();
    per_field.prop_map(|kv| kv.into_iter().flatten().collect())
}

fn tags() -> impl Strategy<Value = BTreeMap<String, Option<String>>> {
    prop::collection::btree_map(
        prop::sample::select(vec!["team".to_owned(), "tier".to_owned()]),
        prop::option::weighted(
            0.8,
            prop::sample::select(vec!["a".to_owned(), "b".to_owned()]),
        ),
        0..3,
    )
}

fn predicate() -> impl Strategy<Value = FieldPredicate> {
    (0..FIELDS.len(), 0..6usize, any::<bool>()).prop_flat_map(|(i, op, empty)| {
        let (id, t) = FIELDS[i];
        let ops: Vec<Op> = match t {
            FieldType::Text => vec![Op::EqualTo, Op::Contains],
            FieldType::Number | FieldType::DateTime => vec![
                Op::EqualTo,
                Op::GreaterThan,
                Op::GreaterThanOrEqualTo,
                Op::LessThan,
                Op::LessThanOrEqualTo,
            ],
            _ => vec![Op::EqualTo],
        };
        let op = ops[op % ops.len()];
        let value: BoxedStrategy<Value> = if op == Op::EqualTo && empty {
            Just(Value::Empty).boxed()
        } else if op == Op::Contains {
            prop_oneof![
                prop::sample::select(vec![
                    "pri",
                    "IRE",
                    "rint",
                    "FIRE",
                    "rinT",
                    "Fire p",
                    "r f",
                    "printer fire",
                    "é",
                    "x",
                    "zzzz",
                    "",
                    // Shorter than a gram: found through the grams they begin.
                    "ir",
                    "E",
                    "a",
                    "à",
                    "e ",
                    "k",
                    "nk",
                    // The padding character: verified.
                    "\u{1f}",
                    "k\u{1f}",
                    "n\u{1f}k"
                ])
                .prop_map(|s| Value::String(s.to_owned())),
                text().prop_map(Value::String),
            ]
            .boxed()
        } else {
            value_for(t)
                .prop_filter("a value", |v| *v != Value::Empty)
                .boxed()
        };
        value.prop_map(move |value| FieldPredicate {
            field_id: id.to_owned(),
            field_type: t,
            op,
            value,
        })
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    let leaf = prop_oneof![
        4 => predicate().prop_map(Filter::Field),
        1 => (prop::sample::select(vec!["team", "tier", "none"]), prop::option::of(prop::sample::select(vec!["a", "b"])))
            .prop_map(|(k, v)| Filter::Tag { key: k.to_owned(), value: v.map(str::to_owned) }),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| Filter::Not(Box::new(f))),
            prop::collection::vec(inner.clone(), 0..3).prop_map(Filter::And),
            prop::collection::vec(inner, 0..3).prop_map(Filter::Or),
        ]
    })
}

fn sorts() -> impl Strategy<Value = Vec<SortSpec>> {
    prop::collection::vec((0..FIELDS.len(), any::<bool>()), 0..3).prop_map(|s| {
        let mut out: Vec<SortSpec> = s
            .into_iter()
            .map(|(i, descending)| SortSpec {
                field_id: FIELDS[i].0.to_owned(),
                field_type: FIELDS[i].1,
                descending,
            })
            .collect();
        if out.is_empty() {
            out.push(SortSpec {
                field_id: "due".into(),
                field_type: FieldType::DateTime,
                descending: true,
            });
        }
        out
    })
}

fn search_terms() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop::sample::select(vec![
            "printer", "fire", "pri", "f", "déj", "x", "ray", "nothing", "2023", "open", "clo",
        ]),
        0..3,
    )
    .prop_map(|w| w.into_iter().map(str::to_owned).collect())
}

/// Runs a test's async body on a runtime of its own.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn ids(cs: &[CaseRecord]) -> Vec<String> {
    cs.iter().map(|c| c.case_id.clone()).collect()
}

fn record(
    i: usize,
    fields: BTreeMap<String, Value>,
    tags: BTreeMap<String, Option<String>>,
) -> CaseRecord {
    CaseRecord {
        account_id: "000000000000".into(),
        domain_id: "d".into(),
        case_id: format!("case-{i:03}"),
        template_id: "t".into(),
        reference_number: format!("{:08}", i),
        fields,
        tags,
        created: Timestamp::from_unix_millis(0),
        updated: Timestamp::from_unix_millis(0),
        version: 1,
    }
}

/// Stores the domain's fields, so that the index knows their types and indexes each value only
/// for the queries its type allows (no words for DateTime, no grams for SingleSelect).
async fn define_fields(store: &SqliteStore) {
    for (id, t) in FIELDS {
        let doc = FieldDoc {
            v: 1,
            field_type: *t,
            namespace: caseload_model::shapes::FieldNamespace::Custom,
            description: None,
            attributes: None,
            options: vec![],
        };
        let r = ResourceRecord {
            account_id: "000000000000".into(),
            domain_id: "d".into(),
            kind: ResourceKind::Field,
            id: (*id).to_owned(),
            name: (*id).to_owned(),
            deleted: false,
            created: Timestamp::from_unix_millis(0),
            modified: Timestamp::from_unix_millis(0),
            body: serde_json::to_value(&doc).unwrap(),
            tags: Default::default(),
        };
        store.insert_resource(&r, usize::MAX).await.unwrap();
    }
}

fn audit(c: &CaseRecord) -> AuditRecord {
    AuditRecord {
        event_id: format!("e-{}", c.case_id),
        case_id: c.case_id.clone(),
        performed_time: c.created,
        body: serde_json::json!({}),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn index_pages_equal_evaluator_pages(
        cases in prop::collection::vec((case_fields(), tags()), 0..24),
        filter in prop::option::of(filter()),
        terms in search_terms(),
        sorts in sorts(),
        limit in 1usize..6,
        // Cases deleted after indexing: the index must forget them.
        deleted in prop::collection::btree_set(0usize..24, 0..4),
        // Walk every segment in a precomputed order (the path of large result sets), or look
        // each match up (the path of small ones).
        walk in any::<bool>(),
        (few_values_max, few_values_min_seen, few_scan_max_values) in few_tunings(),
    ) {
        block_on(async {
            let store = SqliteStore::in_memory().unwrap();
            define_fields(&store).await;
            let base = if walk { WALK_ALWAYS } else { Tuning::default() };
            store.tune_search(Tuning { few_values_max, few_values_min_seen, few_scan_max_values, ..base });
            // A second domain whose cases must never appear.
            let mut other = record(999, BTreeMap::from([("title".to_owned(), Value::String("printer".into()))]), BTreeMap::new());
            other.domain_id = "other".into();
            store.insert_case(&other, &audit(&other), None, None).await.unwrap();
            let mut all = Vec::new();
            for (i, (fields, tags)) in cases.into_iter().enumerate() {
                let c = record(i, fields, tags);
                store.insert_case(&c, &audit(&c), None, None).await.unwrap();
                all.push(c);
            }
            for i in &deleted {
                if *i < all.len() {
                    store
                        .delete_case(&all[*i], None)
                        .await
                        .unwrap();
                }
            }
            all.retain(|c| !deleted.contains(&c.case_id[5..].parse::<usize>().unwrap()));
            let term_fields: BTreeSet<String> = ["title", "notes", "status"].iter().map(|s| s.to_string()).collect();
            let mut q = CaseQuery {
                account_id: "000000000000".into(),
                domain_id: "d".into(),
                filter: filter.clone(),
                search_terms: terms.clone(),
                term_fields,
                sorts: sorts.clone(),
                after: None,
                limit,
            };
            // Follow every page, comparing each with the evaluator's page at the same cursor.
            for _page in 0..30 {
                let want = search::run(&q, all.clone());
                let got = store.search_cases(&q).await.unwrap();
                prop_assert_eq!(got.total, want.total, "total for {:?}", &q);
                prop_assert_eq!(ids(&got.cases), ids(&want.cases), "page for {:?}", &q);
                prop_assert_eq!(got.more, want.more);
                let Some(last) = got.cases.last() else { break };
                if !got.more { break; }
                q.after = Some(Cursor { sort_values: search::sort_key(last, &q.sorts), case_id: last.case_id.clone() });
            }
            Ok(())
        })?;
    }
}

/// `contains` ignores case on both sides, for needles shorter than a gram (found through the
/// grams they begin), as long as one, and longer (verified); needles with the grams' padding
/// character are verified too.
#[test]
fn contains_matches_the_evaluator_for_every_needle_length() {
    // Grams only; few-valued for the first two titles (both kinds in one segment), scanned or
    // verified; few-valued throughout.
    for (few_values_max, few_scan_max_values) in [(0, 0), (2, 0), (2, 4096), (256, 0), (256, 4096)]
    {
        block_on(async {
            let store = SqliteStore::in_memory().unwrap();
            store.tune_search(Tuning {
                few_values_max,
                few_values_min_seen: 0,
                few_scan_max_values,
                ..Tuning::default()
            });
            let mut all = Vec::new();
            for (i, title) in [
                "Printer ON FIRE",
                "printer on fire",
                "Printer, on fire?",
                "printer offline",
                "ink",
                "a\u{1f}b",
            ]
            .iter()
            .enumerate()
            {
                let c = record(
                    i,
                    BTreeMap::from([("title".to_owned(), Value::String((*title).into()))]),
                    BTreeMap::new(),
                );
                store.insert_case(&c, &audit(&c), None, None).await.unwrap();
                all.push(c);
            }
            // (needle, whether some title has it)
            for (needle, found) in [
                ("on fire", true),
                ("ON FIRE", true),
                ("Printer", true),
                ("r on f", true),
                ("fire?", true),
                ("p", true),
                ("K", true),
                ("nk", true),
                ("e?", true),
                ("ink", true),
                ("\u{1f}", true),
                ("\u{1f}b", true),
                ("b", true),
                // At the end of "ink" the grams are padded: "k" then the padding is not "k\u{1f}".
                ("k\u{1f}", false),
                ("q", false),
                ("zz", false),
            ] {
                let q = CaseQuery {
                    account_id: "000000000000".into(),
                    domain_id: "d".into(),
                    filter: Some(Filter::Field(FieldPredicate {
                        field_id: "title".into(),
                        field_type: FieldType::Text,
                        op: Op::Contains,
                        value: Value::String(needle.into()),
                    })),
                    search_terms: vec![],
                    term_fields: BTreeSet::new(),
                    sorts: vec![SortSpec {
                        field_id: "title".into(),
                        field_type: FieldType::Text,
                        descending: false,
                    }],
                    after: None,
                    limit: 10,
                };
                let want: Vec<String> = search::run(&q, all.clone())
                    .cases
                    .into_iter()
                    .map(|c| c.case_id)
                    .collect();
                let got: Vec<String> = store
                    .search_cases(&q)
                    .await
                    .unwrap()
                    .cases
                    .into_iter()
                    .map(|c| c.case_id)
                    .collect();
                assert_eq!(!want.is_empty(), found, "{needle:?}");
                assert_eq!(
                    got, want,
                    "{needle:?} {few_values_max} {few_scan_max_values}"
                );
            }
        });
    }
}

/// Enough matches that the collector prunes its candidates while collecting (it does so past a
/// thousand), with many ties on the sort keys, compared page by page with the evaluator.
#[test]
fn large_result_sets_page_like_the_evaluator() {
    block_on(async {
        let store = SqliteStore::in_memory().unwrap();
        let mut all = Vec::new();
        let mut x: u64 = 7;
        for i in 0..3000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut fields = BTreeMap::from([
                ("amount".to_owned(), Value::Double(((x >> 33) % 17) as f64)),
                (
                    "status".to_owned(),
                    Value::String(STATUSES[((x >> 40) % 3) as usize].to_owned()),
                ),
            ]);
            if !(x >> 20).is_multiple_of(5) {
                fields.insert(
                    "title".to_owned(),
                    Value::String(format!("t{}", (x >> 45) % 50)),
                );
            }
            let c = record(i, fields, BTreeMap::new());
            all.push(c);
        }
        // One batch, so the index holds them in one segment and the collector must prune.
        store.import_cases(all.clone()).await.unwrap();
        // Deleted documents stay in the segment: searches must leave them out.
        for i in (0..300).step_by(7) {
            store.delete_case(&all[i], None).await.unwrap();
        }
        let deleted: BTreeSet<String> = (0..300)
            .step_by(7)
            .map(|i| all[i].case_id.clone())
            .collect();
        all.retain(|c| !deleted.contains(&c.case_id));
        let status = |v: &str| {
            Filter::Field(FieldPredicate {
                field_id: "status".into(),
                field_type: FieldType::SingleSelect,
                op: Op::EqualTo,
                value: Value::String(v.into()),
            })
        };
        // A negation, and a single term (whose matches are a copy of its cached bitset).
        let filters = [Filter::Not(Box::new(status("closed"))), status("open")];
        for (tuning, filter) in [Tuning::default(), WALK_ALWAYS]
            .into_iter()
            .flat_map(|t| filters.iter().map(move |f| (t, f)))
        {
            store.tune_search(tuning);
            for (sorts, limit) in [
                (vec![("amount", true), ("title", false)], 7usize),
                (vec![("title", true)], 25),
                (vec![("amount", false)], 100),
            ] {
                let mut q = CaseQuery {
                    account_id: "000000000000".into(),
                    domain_id: "d".into(),
                    filter: Some(filter.clone()),
                    search_terms: vec![],
                    term_fields: BTreeSet::new(),
                    sorts: sorts
                        .iter()
                        .map(|(f, d)| SortSpec {
                            field_id: (*f).into(),
                            field_type: if *f == "amount" {
                                FieldType::Number
                            } else {
                                FieldType::Text
                            },
                            descending: *d,
                        })
                        .collect(),
                    after: None,
                    limit,
                };
                for _ in 0..4 {
                    let want = search::run(&q, all.clone());
                    let got = store.search_cases(&q).await.unwrap();
                    assert_eq!(got.total, want.total);
                    assert_eq!(ids(&got.cases), ids(&want.cases), "{:?}", q.sorts);
                    let last = got.cases.last().unwrap();
                    q.after = Some(Cursor {
                        sort_values: search::sort_key(last, &q.sorts),
                        case_id: last.case_id.clone(),
                    });
                }
            }
        }
    });
}

/// Two range predicates on one field become one range: every pair of operators and bounds
/// (equal bounds included, where an excluded bound is the tighter) against the evaluator. On a
/// DateTime field equality is a range too (DateTime values have no equality terms).
#[test]
fn range_pairs_on_one_field_match_the_evaluator() {
    block_on(async {
        let store = SqliteStore::in_memory().unwrap();
        let all: Vec<CaseRecord> = (0..60)
            .map(|i| {
                let mut fields = BTreeMap::new();
                if i % 7 != 0 {
                    fields.insert("amount".to_owned(), Value::Double((i % 12) as f64));
                    fields.insert("due".to_owned(), day((i % 12) as f64));
                }
                record(i, fields, BTreeMap::new())
            })
            .collect();
        store.import_cases(all.clone()).await.unwrap();
        let ops = [
            Op::GreaterThan,
            Op::GreaterThanOrEqualTo,
            Op::LessThan,
            Op::LessThanOrEqualTo,
            Op::EqualTo,
        ];
        let (amount, due) = (
            |op: Op, v: f64| {
                Filter::Field(FieldPredicate {
                    field_id: "amount".into(),
                    field_type: FieldType::Number,
                    op,
                    value: Value::Double(v),
                })
            },
            |op: Op, v: f64| {
                Filter::Field(FieldPredicate {
                    field_id: "due".into(),
                    field_type: FieldType::DateTime,
                    op,
                    value: day(v),
                })
            },
        );
        let fields: [&dyn Fn(Op, f64) -> Filter; 2] = [&amount, &due];
        for (tuning, range) in [Tuning::default(), WALK_ALWAYS]
            .into_iter()
            .flat_map(|t| fields.map(|f| (t, f)))
        {
            store.tune_search(tuning);
            let query = |filter: Filter| CaseQuery {
                account_id: "000000000000".into(),
                domain_id: "d".into(),
                filter: Some(filter),
                search_terms: vec![],
                term_fields: BTreeSet::new(),
                sorts: vec![],
                after: None,
                limit: 100,
            };
            let mut matched = 0;
            for a in ops {
                for b in ops {
                    for (x, y) in [(3.0, 8.0), (8.0, 3.0), (5.0, 5.0), (-1.0, 20.0)] {
                        let q = query(Filter::And(vec![range(a, x), range(b, y)]));
                        let want = search::run(&q, all.clone());
                        let got = store.search_cases(&q).await.unwrap();
                        assert_eq!(got.total, want.total, "{a:?} {x} and {b:?} {y}");
                        assert_eq!(ids(&got.cases), ids(&want.cases));
                        matched += usize::from(want.total > 0);
                    }
                }
            }
            // Alone, equality has matches; so do most pairs.
            let q = query(range(Op::EqualTo, 5.0));
            let want = search::run(&q, all.clone());
            assert!(want.total > 0);
            let got = store.search_cases(&q).await.unwrap();
            assert_eq!(ids(&got.cases), ids(&want.cases));
            assert!(matched > 40, "{matched}");
        }
    });
}

/// Midnight `d` days after a fixed start, as a DateTime value.
fn day(d: f64) -> Value {
    Value::String(
        Timestamp::from_unix_millis(1_700_000_000_000 + d as i64 * 86_400_000).to_iso8601(),
    )
}
