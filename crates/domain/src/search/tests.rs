//! The evaluator and compiler: table tests of each rule, and a property test that checks `run`
//! (filter, order, keyset paging, totals) against a brute-force oracle written independently:
//! filters evaluated as set algebra over all cases, order computed from explicit sort keys.

use super::*;
use crate::store::{CaseRecord, Tags};
use caseload_model::Timestamp;
use caseload_model::shapes::FieldType;
use caseload_model::shapes::{
    CaseFilter, EmptyFieldValue, FieldFilter, FieldValue, FieldValueUnion as W, Order, Sort,
    TagFilter, TagValue,
};
use proptest::prelude::*;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

const SCHEMA: &[(&str, FieldType)] = &[
    ("title", FieldType::Text),
    ("notes", FieldType::Text),
    ("amount", FieldType::Number),
    ("flag", FieldType::Boolean),
    ("due", FieldType::DateTime),
    ("status", FieldType::SingleSelect),
    ("link", FieldType::Url),
    ("owner", FieldType::User),
    ("last_updated_datetime", FieldType::DateTime),
];

fn field_type(id: &str) -> Option<FieldType> {
    SCHEMA.iter().find(|(f, _)| *f == id).map(|(_, t)| *t)
}

fn term_fields() -> BTreeSet<String> {
    SCHEMA
        .iter()
        .filter(|(_, t)| {
            matches!(
                t,
                FieldType::Text | FieldType::Url | FieldType::SingleSelect
            )
        })
        .map(|(f, _)| (*f).to_owned())
        .collect()
}

fn case(id: &str, fields: &[(&str, Value)], tags: &[(&str, Option<&str>)]) -> CaseRecord {
    CaseRecord {
        account_id: "a".into(),
        domain_id: "d".into(),
        case_id: id.into(),
        template_id: "t".into(),
        reference_number: "00000001".into(),
        fields: fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
        tags: tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
            .collect::<Tags>(),
        created: Timestamp::from_unix_millis(0),
        updated: Timestamp::from_unix_millis(0),
        version: 1,
    }
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

fn fv(id: &str, value: W) -> FieldValue {
    FieldValue {
        id: id.into(),
        value,
    }
}

fn compile(f: &CaseFilter) -> Result<Filter, caseload_model::Error> {
    compile_filter(f, &field_type)
}

fn query(filter: Option<CaseFilter>, term: &str, sorts: &[Sort], limit: usize) -> CaseQuery {
    CaseQuery {
        account_id: "a".into(),
        domain_id: "d".into(),
        filter: filter.map(|f| compile(&f).unwrap()),
        search_terms: words(term),
        term_fields: term_fields(),
        sorts: compile_sorts(sorts, &field_type).unwrap(),
        after: None,
        limit,
    }
}

fn ids(page: &crate::store::CasePage) -> Vec<&str> {
    page.cases.iter().map(|c| c.case_id.as_str()).collect()
}

fn sample() -> Vec<CaseRecord> {
    vec![
        case(
            "c1",
            &[
                ("title", s("Printer on fire")),
                ("amount", Value::Double(10.0)),
                ("due", s("2026-01-01T00:00:00.000Z")),
                ("status", s("open")),
                ("last_updated_datetime", s("2026-03-01T00:00:00.000Z")),
            ],
            &[("team", Some("blue"))],
        ),
        case(
            "c2",
            &[
                ("title", s("printer jam")),
                ("amount", Value::Double(2.5)),
                ("flag", Value::Boolean(true)),
                ("status", s("closed")),
                ("link", s("https://Example.com/Ticket/42")),
                ("last_updated_datetime", s("2026-03-02T00:00:00.000Z")),
            ],
            &[("team", Some("red")), ("vip", None)],
        ),
        case(
            "c3",
            &[
                ("title", s("Login broken")),
                ("notes", Value::Empty),
                ("due", s("2025-12-31T23:00:00.000Z")),
                ("owner", Value::UserArn("arn:aws:connect:u1".into())),
                ("last_updated_datetime", s("2026-03-02T00:00:00.000Z")),
            ],
            &[],
        ),
    ]
}

fn eq(id: &str, v: W) -> CaseFilter {
    CaseFilter::Field(FieldFilter::EqualTo(fv(id, v)))
}

#[test]
fn each_operator_follows_its_rule() {
    let cases = sample();
    let check = |f: CaseFilter, want: &[&str]| {
        let page = run(
            &query(Some(f.clone()), "", &[asc("title")], 100),
            cases.clone(),
        );
        let mut got = ids(&page);
        got.sort_unstable();
        assert_eq!(got, want, "{f:?}");
        assert_eq!(page.total, want.len() as u64);
    };
    // Text equality is exact and case-sensitive.
    check(eq("title", W::StringValue("printer jam".into())), &["c2"]);
    check(eq("title", W::StringValue("Printer Jam".into())), &[]);
    // contains: case-insensitive substring, across word boundaries, Text and Url.
    check(
        CaseFilter::Field(FieldFilter::Contains(fv(
            "title",
            W::StringValue("NTER O".into()),
        ))),
        &["c1"],
    );
    check(
        CaseFilter::Field(FieldFilter::Contains(fv(
            "link",
            W::StringValue("example.COM/t".into()),
        ))),
        &["c2"],
    );
    // Numbers by value, DateTime by instant whatever the offset.
    check(eq("amount", W::DoubleValue(10.0)), &["c1"]);
    check(
        CaseFilter::Field(FieldFilter::GreaterThan(fv("amount", W::DoubleValue(2.5)))),
        &["c1"],
    );
    check(
        CaseFilter::Field(FieldFilter::GreaterThanOrEqualTo(fv(
            "amount",
            W::DoubleValue(2.5),
        ))),
        &["c1", "c2"],
    );
    check(
        CaseFilter::Field(FieldFilter::LessThan(fv("amount", W::DoubleValue(10.0)))),
        &["c2"],
    );
    check(
        eq("due", W::StringValue("2026-01-01T01:00:00+01:00".into())),
        &["c1"],
    );
    check(
        CaseFilter::Field(FieldFilter::LessThanOrEqualTo(fv(
            "due",
            W::StringValue("2026-01-01T00:00:00Z".into()),
        ))),
        &["c1", "c3"],
    );
    check(
        CaseFilter::Field(FieldFilter::LessThan(fv(
            "due",
            W::StringValue("2026-01-01T00:00:00Z".into()),
        ))),
        &["c3"],
    );
    check(eq("flag", W::BooleanValue(true)), &["c2"]);
    check(
        eq("owner", W::UserArnValue("arn:aws:connect:u1".into())),
        &["c3"],
    );
    // emptyValue: cleared or never set.
    check(
        eq("notes", W::EmptyValue(EmptyFieldValue {})),
        &["c1", "c2", "c3"],
    );
    check(eq("flag", W::EmptyValue(EmptyFieldValue {})), &["c1", "c3"]);
    // not is the complement, including cases without the field.
    check(
        CaseFilter::Not(Box::new(eq("status", W::StringValue("open".into())))),
        &["c2", "c3"],
    );
    check(CaseFilter::AndAll(vec![]), &["c1", "c2", "c3"]);
    check(CaseFilter::OrAll(vec![]), &[]);
    check(
        CaseFilter::OrAll(vec![
            eq("status", W::StringValue("open".into())),
            eq("flag", W::BooleanValue(true)),
        ]),
        &["c1", "c2"],
    );
    check(
        CaseFilter::AndAll(vec![
            eq("status", W::StringValue("closed".into())),
            eq("flag", W::BooleanValue(true)),
        ]),
        &["c2"],
    );
    let tag = |k: Option<&str>, v: Option<&str>| {
        CaseFilter::Tag(TagFilter::EqualTo(TagValue {
            key: k.map(Into::into),
            value: v.map(Into::into),
        }))
    };
    check(tag(Some("team"), None), &["c1", "c2"]);
    check(tag(Some("team"), Some("red")), &["c2"]);
    check(tag(Some("vip"), None), &["c2"]);
    check(tag(Some("vip"), Some("")), &[]);
    check(tag(Some("nope"), None), &[]);
}

fn asc(f: &str) -> Sort {
    Sort {
        field_id: f.into(),
        sort_order: Order::Asc,
    }
}

fn desc(f: &str) -> Sort {
    Sort {
        field_id: f.into(),
        sort_order: Order::Desc,
    }
}

#[test]
fn search_terms_match_words_and_a_last_prefix() {
    let cases = sample();
    let check = |term: &str, want: &[&str]| {
        let page = run(&query(None, term, &[asc("title")], 100), cases.clone());
        let mut got = ids(&page);
        got.sort_unstable();
        assert_eq!(got, want, "{term:?}");
    };
    check("printer", &["c1", "c2"]);
    check("PRINT", &["c1", "c2"]);
    check("print jam", &[]); // only the last word may be a prefix
    check("printer ja", &["c2"]);
    check("fire printer", &["c1"]);
    check("closed", &["c2"]); // SingleSelect values are searched
    check("ticket", &["c2"]); // and Url values
    check("2026", &[]); // DateTime values are not
    check("10", &[]); // nor numbers
    check("  ", &["c1", "c2", "c3"]);
}

#[test]
fn order_is_total_with_missing_values_last_both_ways() {
    let cases = sample();
    let order = |sorts: &[Sort]| ids(&run(&query(None, "", sorts, 100), cases.clone())).join(",");
    assert_eq!(order(&[asc("amount")]), "c2,c1,c3");
    assert_eq!(order(&[desc("amount")]), "c1,c2,c3");
    assert_eq!(order(&[asc("flag")]), "c2,c1,c3");
    assert_eq!(order(&[desc("due")]), "c1,c3,c2");
    assert_eq!(order(&[asc("due")]), "c3,c1,c2");
    // Default: last_updated_datetime descending, ties by case id.
    assert_eq!(order(&[]), "c2,c3,c1");
    assert_eq!(
        order(&[desc("last_updated_datetime"), desc("title")]),
        "c2,c3,c1"
    );
    assert_eq!(order(&[asc("status"), desc("amount")]), "c2,c1,c3");
}

#[test]
fn keyset_pages_cover_everything_once() {
    let cases = sample();
    let mut q = query(None, "", &[asc("amount")], 1);
    let mut seen = vec![];
    loop {
        let page = run(&q, cases.clone());
        assert_eq!(page.total, 3);
        let last = page.cases.last().unwrap();
        seen.push(last.case_id.clone());
        if !page.more {
            break;
        }
        q.after = Some(Cursor {
            sort_values: sort_key(last, &q.sorts),
            case_id: last.case_id.clone(),
        });
    }
    assert_eq!(seen, ["c2", "c1", "c3"]);
}

#[test]
fn bad_filters_are_refused_with_clear_messages() {
    let err = |f: CaseFilter| compile(&f).unwrap_err().to_string();
    assert_eq!(
        err(CaseFilter::Field(FieldFilter::GreaterThan(fv(
            "title",
            W::StringValue("a".into())
        )))),
        "The greaterThan operator cannot be used on field 'title' of type Text; it applies to Number and DateTime fields"
    );
    assert_eq!(
        err(CaseFilter::Field(FieldFilter::Contains(fv(
            "amount",
            W::DoubleValue(1.0)
        )))),
        "The contains operator cannot be used on field 'amount' of type Number; it applies to Text and Url fields"
    );
    assert_eq!(
        err(eq("nope", W::StringValue("a".into()))),
        "The filter uses field 'nope', which does not exist in this domain"
    );
    assert_eq!(
        err(eq("amount", W::StringValue("1".into()))),
        "Field 'amount' is of type Number and takes a doubleValue, not a stringValue"
    );
    assert_eq!(
        err(CaseFilter::Field(FieldFilter::Contains(fv(
            "title",
            W::EmptyValue(EmptyFieldValue {})
        )))),
        "emptyValue can only be used with equalTo (field 'title' uses contains)"
    );
    assert!(err(eq("due", W::StringValue("soon".into()))).contains("ISO-8601"));
    let mut deep = eq("flag", W::BooleanValue(true));
    for _ in 0..4 {
        deep = CaseFilter::Not(Box::new(deep));
    }
    assert!(compile(&deep).is_ok());
    deep = CaseFilter::AndAll(vec![deep]);
    assert_eq!(
        err(deep),
        "The filter is nested more than 5 levels deep; simplify it"
    );
    let eleven = vec![eq("flag", W::BooleanValue(true)); 11];
    assert_eq!(
        err(CaseFilter::OrAll(eleven)),
        "orAll has 11 filters; at most 10 are allowed"
    );
    assert_eq!(
        err(CaseFilter::Tag(TagFilter::EqualTo(TagValue {
            key: None,
            value: Some("x".into())
        }))),
        "A tag filter needs a key (and optionally a value)"
    );
    assert_eq!(
        compile_sorts(&[asc("nope")], &field_type)
            .unwrap_err()
            .to_string(),
        "Cannot sort by field 'nope': it does not exist in this domain"
    );
    assert!(compile_sorts(&[asc("title"), asc("flag"), asc("due")], &field_type).is_err());
}

// ---- Property test against a brute-force oracle ----

const TEXTS: &[&str] = &[
    "alpha",
    "Alpha beta",
    "beta-gamma",
    "",
    "gamma delta",
    "ALPHA",
];
const NUMBERS: &[f64] = &[-1.5, 0.0, 1.0, 2.0, 10.0];
const DATES: &[&str] = &[
    "2026-01-01T00:00:00.000Z",
    "2026-01-01T00:00:00.001Z",
    "2025-06-30T12:00:00.000Z",
    "2027-02-28T23:59:59.999Z",
];
const OPTIONS: &[&str] = &["open", "closed", "pending"];
const URLS: &[&str] = &[
    "https://a.example/x",
    "http://b.example/Alpha",
    "https://a.example/y",
];
const USERS: &[&str] = &["arn:u:1", "arn:u:2"];
const TAG_KEYS: &[&str] = &["k1", "k2", "k3"];
const TAG_VALUES: &[&str] = &["v1", "v2", ""];

/// A value of type `t` drawn from a small pool so that equal values are common.
fn arb_value(t: FieldType) -> BoxedStrategy<Value> {
    let pick = |pool: &'static [&'static str], f: fn(String) -> Value| {
        proptest::sample::select(pool)
            .prop_map(move |v| f(v.to_owned()))
            .boxed()
    };
    match t {
        FieldType::Text => pick(TEXTS, Value::String),
        FieldType::Number => proptest::sample::select(NUMBERS)
            .prop_map(Value::Double)
            .boxed(),
        FieldType::Boolean => any::<bool>().prop_map(Value::Boolean).boxed(),
        FieldType::DateTime => pick(DATES, Value::String),
        FieldType::SingleSelect => pick(OPTIONS, Value::String),
        FieldType::Url => pick(URLS, Value::String),
        FieldType::User => pick(USERS, Value::UserArn),
    }
}

fn arb_case(n: usize) -> impl Strategy<Value = CaseRecord> {
    let fields: Vec<_> = SCHEMA
        .iter()
        .map(|(id, t)| {
            // Absent, cleared, or set.
            prop_oneof![
                2 => Just(None),
                1 => Just(Some(((*id).to_owned(), Value::Empty))),
                5 => arb_value(*t).prop_map(move |v| Some(((*id).to_owned(), v))),
            ]
        })
        .collect();
    let tags = proptest::collection::btree_map(
        proptest::sample::select(TAG_KEYS).prop_map(str::to_owned),
        proptest::option::weighted(
            0.8,
            proptest::sample::select(TAG_VALUES).prop_map(str::to_owned),
        ),
        0..3,
    );
    (fields, tags).prop_map(move |(fields, tags)| {
        let mut c = case(&format!("case-{n:03}"), &[], &[]);
        c.fields = fields.into_iter().flatten().collect::<BTreeMap<_, _>>();
        c.tags = tags;
        c
    })
}

fn wire(v: &Value) -> W {
    v.to_wire()
}

/// A leaf filter that is valid for the field's type.
fn arb_leaf() -> BoxedStrategy<CaseFilter> {
    let field = proptest::sample::select(SCHEMA).prop_flat_map(|(id, t)| {
        let ops: Vec<u8> = match t {
            FieldType::Number | FieldType::DateTime => vec![0, 2, 3, 4, 5, 6],
            FieldType::Text | FieldType::Url => vec![0, 1, 6],
            _ => vec![0, 6],
        };
        (proptest::sample::select(ops), arb_value(t)).prop_map(move |(op, v)| {
            let mut v = v;
            if op == 1 {
                // contains: a piece of some value, in another case.
                if let Value::String(s) = &v {
                    let piece: String = s.chars().skip(1).take(4).collect();
                    v = Value::String(piece.to_uppercase());
                }
            }
            let f = fv(
                id,
                if op == 6 {
                    W::EmptyValue(EmptyFieldValue {})
                } else {
                    wire(&v)
                },
            );
            CaseFilter::Field(match op {
                0 | 6 => FieldFilter::EqualTo(f),
                1 => FieldFilter::Contains(f),
                2 => FieldFilter::GreaterThan(f),
                3 => FieldFilter::GreaterThanOrEqualTo(f),
                4 => FieldFilter::LessThan(f),
                _ => FieldFilter::LessThanOrEqualTo(f),
            })
        })
    });
    let tag = (
        proptest::sample::select(TAG_KEYS),
        proptest::option::of(proptest::sample::select(TAG_VALUES)),
    )
        .prop_map(|(k, v)| {
            CaseFilter::Tag(TagFilter::EqualTo(TagValue {
                key: Some(k.to_owned()),
                value: v.map(str::to_owned),
            }))
        });
    prop_oneof![4 => field, 1 => tag].boxed()
}

fn arb_filter() -> impl Strategy<Value = CaseFilter> {
    arb_leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| CaseFilter::Not(Box::new(f))),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(CaseFilter::AndAll),
            proptest::collection::vec(inner, 0..4).prop_map(CaseFilter::OrAll),
        ]
    })
}

fn arb_sorts() -> impl Strategy<Value = Vec<Sort>> {
    proptest::collection::vec(
        (proptest::sample::select(SCHEMA), any::<bool>())
            .prop_map(|((id, _), d)| if d { desc(id) } else { asc(id) }),
        0..=2,
    )
}

fn arb_term() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        proptest::sample::select(
            &[
                "alpha", "al", "BETA", "gam", "delta", "open", "example", "x",
            ][..],
        ),
        0..3,
    )
    .prop_map(|w| w.join(" "))
}

/// The oracle's filter: the set of matching case indexes, by set algebra.
fn oracle_set(f: &CaseFilter, cases: &[CaseRecord]) -> BTreeSet<usize> {
    let all: BTreeSet<usize> = (0..cases.len()).collect();
    match f {
        CaseFilter::Not(inner) => all.difference(&oracle_set(inner, cases)).copied().collect(),
        CaseFilter::AndAll(list) => list.iter().fold(all, |acc, c| {
            acc.intersection(&oracle_set(c, cases)).copied().collect()
        }),
        CaseFilter::OrAll(list) => list.iter().flat_map(|c| oracle_set(c, cases)).collect(),
        CaseFilter::Tag(TagFilter::EqualTo(tv)) => all
            .into_iter()
            .filter(|i| {
                let tags = &cases[*i].tags;
                let key = tv.key.as_ref().unwrap();
                match &tv.value {
                    None => tags.contains_key(key),
                    Some(v) => tags.get(key) == Some(&Some(v.clone())),
                }
            })
            .collect(),
        CaseFilter::Field(ff) => all
            .into_iter()
            .filter(|i| oracle_leaf(ff, &cases[*i]))
            .collect(),
    }
}

fn oracle_leaf(ff: &FieldFilter, c: &CaseRecord) -> bool {
    let (op, f) = match ff {
        FieldFilter::EqualTo(f) => ("eq", f),
        FieldFilter::Contains(f) => ("contains", f),
        FieldFilter::GreaterThan(f) => ("gt", f),
        FieldFilter::GreaterThanOrEqualTo(f) => ("ge", f),
        FieldFilter::LessThan(f) => ("lt", f),
        FieldFilter::LessThanOrEqualTo(f) => ("le", f),
    };
    let have = match c.fields.get(&f.id) {
        None | Some(Value::Empty) => None,
        Some(v) => Some(v.to_wire()),
    };
    let t = field_type(&f.id).unwrap();
    match (&f.value, have) {
        (W::EmptyValue(_), have) => have.is_none(),
        (_, None) => false,
        (want, Some(have)) => {
            // Compare as numbers: doubles directly, date-times as epoch milliseconds.
            let num = |w: &W| match w {
                W::DoubleValue(d) => Some(*d),
                W::StringValue(s) if t == FieldType::DateTime => {
                    Timestamp::parse(s).map(|ts| ts.unix_millis() as f64)
                }
                _ => None,
            };
            match op {
                "eq" => match (num(want), num(&have)) {
                    (Some(a), Some(b)) => a == b,
                    _ => *want == have,
                },
                "contains" => match (want, &have) {
                    (W::StringValue(n), W::StringValue(h)) => {
                        h.to_lowercase().contains(&n.to_lowercase())
                    }
                    _ => false,
                },
                _ => {
                    let (a, b) = (num(&have).unwrap(), num(want).unwrap());
                    match op {
                        "gt" => a > b,
                        "ge" => a >= b,
                        "lt" => a < b,
                        _ => a <= b,
                    }
                }
            }
        }
    }
}

/// The oracle's search-term rule, phrased on the raw text: each word must occur in some searched
/// value delimited by non-alphanumeric characters (only at its start for the last word).
fn oracle_terms(term: &str, c: &CaseRecord) -> bool {
    let ws: Vec<String> = term
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let values: Vec<String> = c
        .fields
        .iter()
        .filter(|(id, _)| term_fields().contains(*id))
        .filter_map(|(_, v)| match v {
            Value::String(s) => Some(s.to_lowercase()),
            _ => None,
        })
        .collect();
    let n = ws.len();
    ws.iter().enumerate().all(|(i, w)| {
        let prefix_ok = i + 1 == n;
        values.iter().any(|v| {
            v.match_indices(w.as_str()).any(|(at, _)| {
                let before = v[..at].chars().next_back();
                let after = v[at + w.len()..].chars().next();
                !before.is_some_and(char::is_alphanumeric)
                    && (prefix_ok || !after.is_some_and(char::is_alphanumeric))
            })
        })
    })
}

/// The oracle's order: a sortable tuple per case, built from scratch.
fn oracle_order(sorts: &[Sort], cases: &[CaseRecord], mut idx: Vec<usize>) -> Vec<usize> {
    let sorts = if sorts.is_empty() {
        vec![desc("last_updated_datetime")]
    } else {
        sorts.to_vec()
    };
    idx.sort_by(|&a, &b| {
        for s in &sorts {
            let get = |i: usize| match cases[i].fields.get(&s.field_id) {
                None | Some(Value::Empty) => None,
                Some(v) => Some(v.clone()),
            };
            let o = match (get(a), get(b)) {
                (None, None) => Ordering::Equal,
                (None, _) => Ordering::Greater,
                (_, None) => Ordering::Less,
                (Some(x), Some(y)) => {
                    let o = match (x, y) {
                        (Value::Double(x), Value::Double(y)) => x.partial_cmp(&y).unwrap(),
                        (Value::Boolean(x), Value::Boolean(y)) => x.cmp(&y),
                        (Value::String(x), Value::String(y))
                        | (Value::UserArn(x), Value::UserArn(y)) => {
                            if field_type(&s.field_id) == Some(FieldType::DateTime) {
                                Timestamp::parse(&x).cmp(&Timestamp::parse(&y))
                            } else {
                                x.cmp(&y)
                            }
                        }
                        _ => unreachable!("one field, one member"),
                    };
                    if s.sort_order == Order::Desc {
                        o.reverse()
                    } else {
                        o
                    }
                }
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        cases[a].case_id.cmp(&cases[b].case_id)
    });
    idx
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn run_agrees_with_the_oracle_across_pages(
        cases in (0usize..30).prop_flat_map(|n| (0..n).map(arb_case).collect::<Vec<_>>()),
        filter in proptest::option::of(arb_filter()),
        term in arb_term(),
        sorts in arb_sorts(),
        limit in 1usize..7,
    ) {
        let matching: Vec<usize> = match &filter {
            Some(f) => oracle_set(f, &cases).into_iter().collect(),
            None => (0..cases.len()).collect(),
        };
        let matching: Vec<usize> = matching.into_iter().filter(|i| oracle_terms(&term, &cases[*i])).collect();
        let want: Vec<String> = oracle_order(&sorts, &cases, matching)
            .into_iter()
            .map(|i| cases[i].case_id.clone())
            .collect();

        let mut q = query(filter, &term, &sorts, limit);
        let mut got: Vec<String> = vec![];
        loop {
            let page = run(&q, cases.clone());
            prop_assert_eq!(page.total, want.len() as u64);
            prop_assert!(page.cases.len() <= limit);
            got.extend(page.cases.iter().map(|c| c.case_id.clone()));
            prop_assert_eq!(page.more, got.len() < want.len());
            if !page.more {
                break;
            }
            let last = page.cases.last().unwrap();
            // The cursor goes through a token in real use: round-trip it through JSON.
            let cursor = Cursor { sort_values: sort_key(last, &q.sorts), case_id: last.case_id.clone() };
            q.after = Some(serde_json::from_value(serde_json::to_value(&cursor).unwrap()).unwrap());
        }
        prop_assert_eq!(got, want);
    }
}
