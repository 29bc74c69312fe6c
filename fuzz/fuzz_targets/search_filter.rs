//! A SearchCases request body (any JSON) through what the server does with it: the wire's
//! validation of `SearchCasesRequest`, the typed input, the domain's compile step (`filter`,
//! `sorts`, `searchTerm`) and the search index's plan compiler and evaluation, compared with the
//! reference evaluator (`caseload_domain::search::run`) on a small fixed set of cases.
//!
//! Properties:
//! - nothing panics; a body the wire refuses is a Validation or Serialization error, and so is a
//!   filter the compiler refuses; a body the wire accepts reads as the typed input;
//! - the index answers exactly as the evaluator does: the same total, the same first page in
//!   the same order, and the same second page after the first page's keyset cursor.
#![no_main]

use caseload_domain::schema::fields::FieldDoc;
use caseload_domain::search::{self, CaseQuery, Cursor, compile_filter, compile_sorts, words};
use caseload_domain::store::{AuditRecord, CaseRecord, ResourceKind, ResourceRecord, Store};
use caseload_domain::value::Value;
use caseload_model::shapes::{FieldNamespace, FieldType, SearchCasesRequest};
use caseload_model::{Error, Timestamp};
use caseload_store::SqliteStore;
use libfuzzer_sys::fuzz_target;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

const ACCOUNT: &str = "000000000000";
const DOMAIN: &str = "d";

/// The domain's fields: every type, and the system field of the default sort.
const FIELDS: &[(&str, FieldType)] = &[
    ("title", FieldType::Text),
    ("notes", FieldType::Text),
    ("amount", FieldType::Number),
    ("urgent", FieldType::Boolean),
    ("due", FieldType::DateTime),
    ("status", FieldType::SingleSelect),
    ("owner", FieldType::User),
    ("link", FieldType::Url),
    ("last_updated_datetime", FieldType::DateTime),
];

fn field_type(id: &str) -> Option<FieldType> {
    FIELDS.iter().find(|(f, _)| *f == id).map(|(_, t)| *t)
}

const TITLES: &[&str] = &[
    "Printer on fire",
    "printer offline",
    "Printer, on FIRE?",
    "ink",
    "déjà vu",
    "x-ray 2026",
    "a\u{1f}b",
    "",
    "Ünïcödé ΣΊΣΥΦΟΣ straße",
    "on",
];
const AMOUNTS: &[f64] = &[-2.5, 0.0, 1.0, 3.0, 1e9, 1.5, -1e-9];
const STATUSES: &[&str] = &["open", "closed", "pending"];
const OWNERS: &[&str] = &["arn:u1", "arn:u2", "arn:U3"];
const LINKS: &[&str] = &[
    "https://example.com/a?b=c",
    "http://x.test/",
    "HTTPS://EXAMPLE.COM",
];

/// The fixed cases: every field type, values absent, cleared (`Empty`) and present, ties on
/// every sort key, tags with and without values.
fn cases() -> Vec<CaseRecord> {
    (0..24u32)
        .map(|i| {
            let n = i as usize;
            let mut fields = BTreeMap::new();
            let mut put = |id: &str, every: usize, v: Value| match n % every {
                0 => {}
                1 => {
                    fields.insert(id.to_owned(), Value::Empty);
                }
                _ => {
                    fields.insert(id.to_owned(), v);
                }
            };
            put("title", 7, Value::String(TITLES[n % TITLES.len()].into()));
            put(
                "notes",
                5,
                Value::String(TITLES[(n * 3 + 1) % TITLES.len()].into()),
            );
            put("amount", 6, Value::Double(AMOUNTS[n % AMOUNTS.len()]));
            put("urgent", 4, Value::Boolean(n % 3 == 0));
            let day = |d: usize| {
                Timestamp::from_unix_millis(1_767_225_600_000 + (d as i64) * 43_200_000)
                    .to_iso8601()
            };
            put("due", 5, Value::String(day(n % 4)));
            put(
                "status",
                8,
                Value::String(STATUSES[n % STATUSES.len()].into()),
            );
            put("owner", 3, Value::UserArn(OWNERS[n % OWNERS.len()].into()));
            put("link", 4, Value::String(LINKS[n % LINKS.len()].into()));
            fields.insert("last_updated_datetime".into(), Value::String(day(n % 6)));
            let mut tags = BTreeMap::new();
            match n % 4 {
                0 => {}
                1 => {
                    tags.insert("team".to_owned(), Some("a".to_owned()));
                }
                2 => {
                    tags.insert("team".to_owned(), None);
                    tags.insert("tier".to_owned(), Some("b".to_owned()));
                }
                _ => {
                    tags.insert("tier".to_owned(), Some("a".to_owned()));
                }
            }
            CaseRecord {
                account_id: ACCOUNT.into(),
                domain_id: DOMAIN.into(),
                case_id: format!("case-{i:02}"),
                template_id: "t".into(),
                reference_number: format!("{i:08}"),
                fields,
                tags,
                created: Timestamp::from_unix_millis(0),
                updated: Timestamp::from_unix_millis(0),
                version: 1,
            }
        })
        .collect()
}

struct Fixture {
    runtime: tokio::runtime::Runtime,
    store: SqliteStore,
    /// The cases the store holds in domain `d` (one was deleted after indexing).
    cases: Vec<CaseRecord>,
}

fn audit(c: &CaseRecord) -> AuditRecord {
    AuditRecord {
        event_id: format!("e-{}", c.case_id),
        case_id: c.case_id.clone(),
        performed_time: c.created,
        body: serde_json::json!({}),
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (store, cases) = runtime.block_on(async {
            let store = SqliteStore::in_memory().unwrap();
            for (id, t) in FIELDS {
                let namespace = if id.ends_with("_datetime") {
                    FieldNamespace::System
                } else {
                    FieldNamespace::Custom
                };
                let doc = FieldDoc {
                    v: 1,
                    field_type: *t,
                    namespace,
                    description: None,
                    attributes: None,
                    options: vec![],
                };
                let r = ResourceRecord {
                    account_id: ACCOUNT.into(),
                    domain_id: DOMAIN.into(),
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
            // A case of another domain, which no search of `d` may find.
            let mut other = cases().remove(3);
            other.domain_id = "other".into();
            other.case_id = "case-other".into();
            store
                .insert_case(&other, &audit(&other), None, None)
                .await
                .unwrap();
            let mut all = cases();
            for c in &all {
                store.insert_case(c, &audit(c), None, None).await.unwrap();
            }
            // A deleted case stays in its segment until a merge: searches must leave it out.
            let gone = all.iter().find(|c| c.case_id == "case-05").unwrap();
            store.delete_case(gone, None).await.unwrap();
            all.retain(|c| c.case_id != "case-05");
            (store, all)
        });
        Fixture {
            runtime,
            store,
            cases,
        }
    })
}

fn ids(cs: &[CaseRecord]) -> Vec<&str> {
    cs.iter().map(|c| c.case_id.as_str()).collect()
}

fn input_error(e: &Error) -> bool {
    matches!(e, Error::Validation(_) | Error::Serialization(_))
}

fuzz_target!(|data: &[u8]| {
    let Ok(serde_json::Value::Object(mut body)) = serde_json::from_slice(data) else {
        return;
    };
    body.insert("domainId".into(), DOMAIN.into());
    // A token is another target's business (`next_token`); pages are followed below.
    body.remove("nextToken");
    let mut doc = serde_json::Value::Object(body);
    let shape = caseload_model::schema::SHAPES
        .iter()
        .position(|s| s.name == "SearchCasesRequest")
        .unwrap();
    if let Err(e) = caseload_wire::validate::validate_input(shape, &mut doc) {
        assert!(input_error(&e), "{e:?}");
        return;
    }
    let input: SearchCasesRequest =
        serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{doc} validated: {e}"));

    let filter = match input
        .filter
        .as_ref()
        .map(|f| compile_filter(f, &field_type))
        .transpose()
    {
        Ok(f) => f,
        Err(e) => {
            assert!(input_error(&e), "{e:?}");
            return;
        }
    };
    let sorts = match compile_sorts(input.sorts.as_deref().unwrap_or_default(), &field_type) {
        Ok(s) => s,
        Err(e) => {
            assert!(input_error(&e), "{e:?}");
            return;
        }
    };
    let term_fields: BTreeSet<String> = FIELDS
        .iter()
        .filter(|(_, t)| {
            matches!(
                t,
                FieldType::Text | FieldType::Url | FieldType::SingleSelect
            )
        })
        .map(|(id, _)| (*id).to_owned())
        .collect();
    let mut q = CaseQuery {
        account_id: ACCOUNT.into(),
        domain_id: DOMAIN.into(),
        filter,
        search_terms: words(input.search_term.as_deref().unwrap_or_default()),
        term_fields,
        sorts,
        after: None,
        limit: input.max_results.map_or(5, |n| n.clamp(1, 100) as usize),
    };

    let fx = fixture();
    for page in 0..2 {
        let want = search::run(&q, fx.cases.clone());
        let got = fx
            .runtime
            .block_on(fx.store.search_cases(&q))
            .unwrap_or_else(|e| panic!("the index failed on {q:?}: {e}"));
        assert_eq!(got.total, want.total, "total of page {page} for {q:?}");
        assert_eq!(ids(&got.cases), ids(&want.cases), "page {page} for {q:?}");
        assert_eq!(got.more, want.more, "more after page {page} for {q:?}");
        let Some(last) = got.cases.last() else { break };
        if !got.more {
            break;
        }
        q.after = Some(Cursor {
            sort_values: search::sort_key(last, &q.sorts),
            case_id: last.case_id.clone(),
        });
    }
});
