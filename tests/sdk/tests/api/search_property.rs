//! SearchCases through the real server must answer exactly what the reference evaluator
//! (`caseload_domain::search::run`) says: same cases, same order, same totalCount, across pages.
//! Random cases are created through the SDK and read back with GetCase to build the evaluator's
//! view; random filters, search terms, sorts and page sizes are then run both ways.

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::types as sdk;
use caseload_domain::search::{self, CaseQuery};
use caseload_domain::store::CaseRecord;
use caseload_domain::value::Value;
use caseload_model::Timestamp;
use caseload_model::shapes::{self as m, FieldType};
use caseload_sdk_tests::Server;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use std::collections::{BTreeMap, BTreeSet};

/// Custom fields created in the domain (name, type); ids are assigned by the server.
const CUSTOM: &[(&str, FieldType)] = &[
    ("Notes", FieldType::Text),
    ("Amount", FieldType::Number),
    ("Urgent", FieldType::Boolean),
    ("Due", FieldType::DateTime),
    ("Region", FieldType::SingleSelect),
    ("Link", FieldType::Url),
    ("Owner", FieldType::User),
];
/// System fields the queries use besides the custom ones.
const SYSTEM: &[(&str, FieldType)] = &[
    ("title", FieldType::Text),
    ("status", FieldType::SingleSelect),
    ("summary", FieldType::Text),
    ("case_id", FieldType::Text),
    ("reference_number", FieldType::Text),
    ("created_datetime", FieldType::DateTime),
    ("last_updated_datetime", FieldType::DateTime),
    ("assigned_user", FieldType::User),
];
const TEXTS: &[&str] = &[
    "printer on fire",
    "Printer jam",
    "login",
    "LOGIN broken",
    "déjà vu",
    "a-b c",
    "",
];
const NUMBERS: &[f64] = &[-2.5, 0.0, 1.0, 3.0, 1e9];
const DATES: &[&str] = &[
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00.001Z",
    "2025-06-30T12:00:00+02:00",
    "2027-02-28T23:59:59.999Z",
];
const OPTIONS: &[&str] = &["pdx", "iad", "fra"];
const STATUSES: &[&str] = &["open", "closed"];
const URLS: &[&str] = &["https://a.example/Printer", "http://b.example/x"];
const USERS: &[&str] = &[
    "arn:aws:connect:us-east-1:0:instance/i/agent/1",
    "arn:aws:connect:us-east-1:0:instance/i/agent/2",
];
const TAG_KEYS: &[&str] = &["team", "tier"];
const TAG_VALUES: &[&str] = &["blue", "red", ""];
const TERMS: &[&str] = &[
    "printer", "PRINT", "login", "jam", "déjà", "a", "c", "pdx", "open", "b",
];

/// A wire value of type `t` from a small pool, so equal values are common.
fn value(t: FieldType, id: &str) -> BoxedStrategy<m::FieldValueUnion> {
    use m::FieldValueUnion as W;
    let pick = |pool: &'static [&'static str]| {
        prop::sample::select(pool)
            .prop_map(|v| W::StringValue(v.to_owned()))
            .boxed()
    };
    match t {
        FieldType::Text => pick(TEXTS),
        FieldType::Number => prop::sample::select(NUMBERS)
            .prop_map(W::DoubleValue)
            .boxed(),
        FieldType::Boolean => any::<bool>().prop_map(W::BooleanValue).boxed(),
        FieldType::DateTime => pick(DATES),
        FieldType::SingleSelect if id == "status" => pick(STATUSES),
        FieldType::SingleSelect => pick(OPTIONS),
        FieldType::Url => pick(URLS),
        FieldType::User => prop::sample::select(USERS)
            .prop_map(|v| W::UserArnValue(v.to_owned()))
            .boxed(),
    }
}

fn empty() -> m::FieldValueUnion {
    m::FieldValueUnion::EmptyValue(m::EmptyFieldValue {})
}

fn to_sdk_value(v: &m::FieldValueUnion) -> sdk::FieldValueUnion {
    match v {
        m::FieldValueUnion::StringValue(s) => sdk::FieldValueUnion::StringValue(s.clone()),
        m::FieldValueUnion::DoubleValue(d) => sdk::FieldValueUnion::DoubleValue(*d),
        m::FieldValueUnion::BooleanValue(b) => sdk::FieldValueUnion::BooleanValue(*b),
        m::FieldValueUnion::UserArnValue(u) => sdk::FieldValueUnion::UserArnValue(u.clone()),
        m::FieldValueUnion::EmptyValue(_) => {
            sdk::FieldValueUnion::EmptyValue(sdk::EmptyFieldValue::builder().build())
        }
    }
}

fn from_sdk_value(v: &sdk::FieldValueUnion) -> Value {
    match v {
        sdk::FieldValueUnion::StringValue(s) => Value::String(s.clone()),
        sdk::FieldValueUnion::DoubleValue(d) => Value::Double(*d),
        sdk::FieldValueUnion::BooleanValue(b) => Value::Boolean(*b),
        sdk::FieldValueUnion::UserArnValue(u) => Value::UserArn(u.clone()),
        sdk::FieldValueUnion::EmptyValue(_) => Value::Empty,
        other => panic!("unexpected value {other:?}"),
    }
}

fn to_sdk_filter(f: &m::CaseFilter) -> sdk::CaseFilter {
    let fv = |v: &m::FieldValue| {
        sdk::FieldValue::builder()
            .id(&v.id)
            .value(to_sdk_value(&v.value))
            .build()
            .unwrap()
    };
    match f {
        m::CaseFilter::AndAll(list) => {
            sdk::CaseFilter::AndAll(list.iter().map(to_sdk_filter).collect())
        }
        m::CaseFilter::OrAll(list) => {
            sdk::CaseFilter::OrAll(list.iter().map(to_sdk_filter).collect())
        }
        m::CaseFilter::Not(inner) => sdk::CaseFilter::Not(Box::new(to_sdk_filter(inner))),
        m::CaseFilter::Tag(m::TagFilter::EqualTo(tv)) => {
            sdk::CaseFilter::Tag(sdk::TagFilter::EqualTo(
                sdk::TagValue::builder()
                    .set_key(tv.key.clone())
                    .set_value(tv.value.clone())
                    .build(),
            ))
        }
        m::CaseFilter::Field(ff) => sdk::CaseFilter::Field(match ff {
            m::FieldFilter::EqualTo(v) => sdk::FieldFilter::EqualTo(fv(v)),
            m::FieldFilter::Contains(v) => sdk::FieldFilter::Contains(fv(v)),
            m::FieldFilter::GreaterThan(v) => sdk::FieldFilter::GreaterThan(fv(v)),
            m::FieldFilter::GreaterThanOrEqualTo(v) => {
                sdk::FieldFilter::GreaterThanOrEqualTo(fv(v))
            }
            m::FieldFilter::LessThan(v) => sdk::FieldFilter::LessThan(fv(v)),
            m::FieldFilter::LessThanOrEqualTo(v) => sdk::FieldFilter::LessThanOrEqualTo(fv(v)),
        }),
    }
}

/// Every field the queries may use: (id, type).
type Schema = Vec<(String, FieldType)>;

/// The writable fields' values of one case (absent, cleared or set) and its tags.
fn arb_case(
    schema: &Schema,
) -> impl Strategy<Value = (Vec<(String, m::FieldValueUnion)>, BTreeMap<String, String>)> + use<> {
    let writable: Vec<BoxedStrategy<Option<(String, m::FieldValueUnion)>>> = schema
        .iter()
        .filter(|(id, _)| {
            ![
                "case_id",
                "reference_number",
                "created_datetime",
                "last_updated_datetime",
                "title",
            ]
            .contains(&id.as_str())
        })
        .map(|(id, t)| {
            let id = id.clone();
            let empty_ok = id != "status";
            prop_oneof![
                2 => Just(None),
                1 => Just(if empty_ok { Some((id.clone(), empty())) } else { None }),
                5 => value(*t, &id).prop_map(move |v| Some((id.clone(), v))),
            ]
            .boxed()
        })
        .collect();
    let title = value(FieldType::Text, "title").prop_filter(
        "titles are required",
        |v| !matches!(v, m::FieldValueUnion::StringValue(s) if s.is_empty()),
    );
    let tags = prop::collection::btree_map(
        prop::sample::select(TAG_KEYS).prop_map(str::to_owned),
        prop::sample::select(TAG_VALUES).prop_map(str::to_owned),
        0..3,
    );
    (title, writable, tags).prop_map(|(title, rest, tags)| {
        let mut fields = vec![("title".to_owned(), title)];
        fields.extend(rest.into_iter().flatten());
        (fields, tags)
    })
}

fn arb_leaf(schema: &Schema) -> BoxedStrategy<m::CaseFilter> {
    let fields = prop::sample::select(schema.clone()).prop_flat_map(|(id, t)| {
        let ops: Vec<u8> = match t {
            FieldType::Number | FieldType::DateTime => vec![0, 2, 3, 4, 5, 6],
            FieldType::Text | FieldType::Url => vec![0, 1, 6],
            _ => vec![0, 6],
        };
        (prop::sample::select(ops), value(t, &id), 0usize..6).prop_map(move |(op, v, cut)| {
            let v = match (op, v) {
                (6, _) => empty(),
                // contains: a piece of a value, in another case.
                (1, m::FieldValueUnion::StringValue(s)) => m::FieldValueUnion::StringValue(
                    s.chars()
                        .skip(cut % 3)
                        .take(4)
                        .collect::<String>()
                        .to_uppercase(),
                ),
                (_, v) => v,
            };
            let fv = m::FieldValue {
                id: id.clone(),
                value: v,
            };
            m::CaseFilter::Field(match op {
                0 | 6 => m::FieldFilter::EqualTo(fv),
                1 => m::FieldFilter::Contains(fv),
                2 => m::FieldFilter::GreaterThan(fv),
                3 => m::FieldFilter::GreaterThanOrEqualTo(fv),
                4 => m::FieldFilter::LessThan(fv),
                _ => m::FieldFilter::LessThanOrEqualTo(fv),
            })
        })
    });
    let tags = (
        prop::sample::select(TAG_KEYS),
        prop::option::of(prop::sample::select(TAG_VALUES)),
    )
        .prop_map(|(k, v)| {
            m::CaseFilter::Tag(m::TagFilter::EqualTo(m::TagValue {
                key: Some(k.to_owned()),
                value: v.map(str::to_owned),
            }))
        });
    prop_oneof![4 => fields, 1 => tags].boxed()
}

#[derive(Clone, Debug)]
struct Query {
    filter: Option<m::CaseFilter>,
    term: String,
    sorts: Vec<m::Sort>,
    page: i32,
}

fn arb_query(schema: &Schema) -> impl Strategy<Value = Query> + use<> {
    let filter = arb_leaf(schema).prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| m::CaseFilter::Not(Box::new(f))),
            prop::collection::vec(inner.clone(), 0..4).prop_map(m::CaseFilter::AndAll),
            prop::collection::vec(inner, 0..4).prop_map(m::CaseFilter::OrAll),
        ]
    });
    let sorts = prop::collection::vec(
        (prop::sample::select(schema.clone()), any::<bool>()).prop_map(|((id, _), desc)| m::Sort {
            field_id: id,
            sort_order: if desc { m::Order::Desc } else { m::Order::Asc },
        }),
        0..=2,
    );
    let term = prop::collection::vec(prop::sample::select(TERMS), 0..3).prop_map(|w| w.join(" "));
    (prop::option::weighted(0.8, filter), term, sorts, 1i32..12).prop_map(
        |(filter, term, sorts, page)| Query {
            filter,
            term,
            sorts,
            page,
        },
    )
}

/// All pages of a search through the server: case ids in order, and the total of each page.
async fn through_server(c: &Client, d: &str, q: &Query) -> (Vec<String>, BTreeSet<i64>) {
    let mut ids = vec![];
    let mut totals = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let sorts = q
            .sorts
            .iter()
            .map(|s| {
                let order = if s.sort_order == m::Order::Desc {
                    sdk::Order::Descending
                } else {
                    sdk::Order::Ascending
                };
                sdk::Sort::builder()
                    .field_id(&s.field_id)
                    .sort_order(order)
                    .build()
                    .unwrap()
            })
            .collect();
        let r = c
            .search_cases()
            .domain_id(d)
            .set_filter(q.filter.as_ref().map(to_sdk_filter))
            .search_term(&q.term)
            .set_sorts(Some(sorts))
            .max_results(q.page)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{q:?}: {e:?}"));
        totals.insert(r.total_count());
        ids.extend(
            r.cases()
                .iter()
                .map(|c| c.as_ref().unwrap().case_id().to_owned()),
        );
        match r.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => return (ids, totals),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_through_the_server_matches_the_evaluator() {
    let server = Server::start();
    let c = server.client();
    let d = c
        .create_domain()
        .name("property")
        .send()
        .await
        .unwrap()
        .domain_id()
        .to_owned();
    let mut schema: Schema = SYSTEM
        .iter()
        .map(|(id, t)| ((*id).to_owned(), *t))
        .collect();
    for (name, t) in CUSTOM {
        let id = c
            .create_field()
            .domain_id(&d)
            .name(*name)
            .r#type(sdk::FieldType::from(t.as_str()))
            .send()
            .await
            .unwrap()
            .field_id()
            .to_owned();
        if *t == FieldType::SingleSelect {
            let mut req = c.batch_put_field_options().domain_id(&d).field_id(&id);
            for o in OPTIONS {
                req = req.options(
                    sdk::FieldOption::builder()
                        .name(*o)
                        .value(*o)
                        .active(true)
                        .build()
                        .unwrap(),
                );
            }
            req.send().await.unwrap();
        }
        schema.push((id, *t));
    }
    let t = c
        .create_template()
        .domain_id(&d)
        .name("T")
        .send()
        .await
        .unwrap()
        .template_id()
        .to_owned();

    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let mut cases: Vec<CaseRecord> = vec![];
    let all_ids: Vec<sdk::FieldIdentifier> = schema
        .iter()
        .map(|(id, _)| id.as_str())
        .chain(["last_closed_datetime", "last_reopened_datetime"])
        .map(|id| sdk::FieldIdentifier::builder().id(id).build().unwrap())
        .collect();
    for _ in 0..40 {
        let (fields, tags) = arb_case(&schema).new_tree(&mut runner).unwrap().current();
        let mut req = c.create_case().domain_id(&d).template_id(&t);
        for (id, v) in &fields {
            req = req.fields(
                sdk::FieldValue::builder()
                    .id(id)
                    .value(to_sdk_value(v))
                    .build()
                    .unwrap(),
            );
        }
        for (k, v) in &tags {
            req = req.tags(k, v);
        }
        let id = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{fields:?}: {e:?}"))
            .case_id()
            .to_owned();
        // The evaluator sees the case as GetCase returns it: every field, system ones included.
        let got = c
            .get_case()
            .domain_id(&d)
            .case_id(&id)
            .set_fields(Some(all_ids.clone()))
            .send()
            .await
            .unwrap();
        cases.push(CaseRecord {
            account_id: String::new(),
            domain_id: d.clone(),
            case_id: id,
            template_id: t.clone(),
            reference_number: String::new(),
            fields: got
                .fields()
                .iter()
                .map(|f| (f.id().to_owned(), from_sdk_value(f.value().unwrap())))
                .collect(),
            tags: got
                .tags()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            created: Timestamp::now(),
            updated: Timestamp::now(),
            version: 1,
        });
    }

    let type_of = |id: &str| schema.iter().find(|(f, _)| f == id).map(|(_, t)| *t);
    let term_fields: BTreeSet<String> = schema
        .iter()
        .filter(|(_, t)| {
            matches!(
                t,
                FieldType::Text | FieldType::Url | FieldType::SingleSelect
            )
        })
        .map(|(id, _)| id.clone())
        .chain(["customer_id", "assigned_queue", "case_reason"].map(str::to_owned))
        .collect();
    let handle = tokio::runtime::Handle::current();
    let strategy = arb_query(&schema);
    let result = runner.run(&strategy, |q| {
        let want = search::run(
            &CaseQuery {
                account_id: String::new(),
                domain_id: d.clone(),
                filter: q
                    .filter
                    .as_ref()
                    .map(|f| search::compile_filter(f, &type_of).unwrap()),
                search_terms: search::words(&q.term),
                term_fields: term_fields.clone(),
                sorts: search::compile_sorts(&q.sorts, &type_of).unwrap(),
                after: None,
                limit: usize::MAX,
            },
            cases.clone(),
        );
        let want_ids: Vec<String> = want.cases.iter().map(|c| c.case_id.clone()).collect();
        let (got, totals) =
            tokio::task::block_in_place(|| handle.block_on(through_server(&c, &d, &q)));
        prop_assert_eq!(
            totals.into_iter().collect::<Vec<_>>(),
            vec![want.total as i64]
        );
        prop_assert_eq!(got, want_ids);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
