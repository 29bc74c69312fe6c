//! The domain-wide related-item search (index walks with a scan budget, short pages included)
//! must visit exactly what the reference evaluator (`related::query::run`) returns, in the same
//! order, when its pages are followed to the end. Random items (with association times that tie),
//! filters, sorts, page sizes and budgets, through the backend's store.

use caseload_domain::related::ItemDoc;
use caseload_domain::related::query::{
    ItemFilter, ItemSort, RelatedQuery, SortProperty, ref_key, run,
};
use caseload_domain::search::{FieldPredicate, Filter, Op};
use caseload_domain::store::CaseKey;
use caseload_domain::store::{AuditRecord, CaseRecord, NewRelatedItem, RelatedItemRecord, Store};
use caseload_domain::value::Value;
use caseload_model::Timestamp;
use caseload_model::shapes::*;

const ACCOUNT: &str = "000000000000";
const DOMAIN: &str = "d";
const BASE_MS: i64 = 1_800_000_000_000;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

fn audit() -> AuditRecord {
    AuditRecord {
        event_id: uuid(),
        case_id: String::new(),
        performed_time: Timestamp::from_unix_millis(BASE_MS),
        body: serde_json::json!({}),
    }
}

fn uuid() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("id-{}", N.fetch_add(1, Ordering::Relaxed))
}

fn case(i: usize) -> CaseRecord {
    CaseRecord {
        account_id: ACCOUNT.into(),
        domain_id: DOMAIN.into(),
        case_id: format!("case-{i}"),
        template_id: "t".into(),
        reference_number: format!("{i:08}"),
        fields: Default::default(),
        tags: Default::default(),
        created: Timestamp::from_unix_millis(BASE_MS),
        updated: Timestamp::from_unix_millis(BASE_MS),
        version: 1,
    }
}

const ARNS: &[&str] = &["arn:a", "arn:b", "arn:c"];
const CHANNELS: &[&str] = &["VOICE", "CHAT"];
const NAMES: &[&str] = &["reply", "resolve"];

fn content(rng: &mut Rng) -> RelatedItemContent {
    let t = |ms: i64| Timestamp::from_unix_millis(BASE_MS + ms);
    match rng.below(5) {
        0 => RelatedItemContent::Comment(CommentContent {
            body: "c".into(),
            content_type: CommentBodyTextType::TextPlain,
        }),
        1 => RelatedItemContent::Contact(ContactContent {
            channel: rng.pick(CHANNELS).to_string(),
            connected_to_system_time: t(0),
            contact_arn: rng.pick(ARNS).to_string(),
        }),
        2 => RelatedItemContent::File(FileContent {
            file_arn: rng.pick(ARNS).to_string(),
        }),
        3 => RelatedItemContent::Sla(SlaContent {
            sla_configuration: SlaConfiguration {
                completion_time: (rng.below(2) == 0).then(|| t(rng.below(3) as i64 * 1000)),
                field_id: Some("status".into()),
                name: rng.pick(NAMES).to_string(),
                status: SlaStatus::Active,
                target_field_values: None,
                target_time: t(rng.below(3) as i64 * 1000),
                r#type: SlaType::CaseField,
            },
        }),
        _ => RelatedItemContent::Custom(CustomContent {
            fields: vec![FieldValue {
                id: "n".into(),
                value: FieldValueUnion::DoubleValue(rng.below(4) as f64),
            }],
        }),
    }
}

fn type_of(c: &RelatedItemContent) -> RelatedItemType {
    match c {
        RelatedItemContent::Comment(_) => RelatedItemType::Comment,
        RelatedItemContent::Contact(_) => RelatedItemType::Contact,
        RelatedItemContent::File(_) => RelatedItemType::File,
        RelatedItemContent::Sla(_) => RelatedItemType::Sla,
        RelatedItemContent::ConnectCase(_) => RelatedItemType::ConnectCase,
        RelatedItemContent::Custom(_) => RelatedItemType::Custom,
    }
}

fn filter(rng: &mut Rng) -> ItemFilter {
    let item_type = *rng.pick(&[
        RelatedItemType::Comment,
        RelatedItemType::Contact,
        RelatedItemType::File,
        RelatedItemType::Sla,
        RelatedItemType::Custom,
    ]);
    let mut f = ItemFilter {
        item_type,
        ref_key: None,
        channels: vec![],
        sla_status: None,
        custom: None,
    };
    match item_type {
        RelatedItemType::Contact | RelatedItemType::File if rng.below(2) == 0 => {
            f.ref_key = Some(rng.pick(ARNS).to_string());
        }
        _ => {}
    }
    if item_type == RelatedItemType::Contact && rng.below(2) == 0 {
        f.channels = vec![rng.pick(CHANNELS).to_string()];
    }
    if item_type == RelatedItemType::Sla {
        if rng.below(2) == 0 {
            f.ref_key = Some(rng.pick(NAMES).to_string());
        }
        if rng.below(2) == 0 {
            f.sla_status = Some(*rng.pick(SlaStatus::ALL));
        }
    }
    if item_type == RelatedItemType::Custom && rng.below(2) == 0 {
        f.custom = Some(Filter::Field(FieldPredicate {
            field_id: "n".into(),
            field_type: FieldType::Number,
            op: Op::GreaterThan,
            value: Value::Double(rng.below(4) as f64),
        }));
    }
    f
}

fn sorts(rng: &mut Rng) -> Vec<ItemSort> {
    let at = |descending| ItemSort {
        property: SortProperty::AssociationTime,
        descending,
    };
    let case = |descending| ItemSort {
        property: SortProperty::CaseId,
        descending,
    };
    let (a, b) = (rng.below(2) == 0, rng.below(2) == 0);
    match rng.below(4) {
        0 => vec![at(a)],
        1 => vec![case(a), at(b)],
        2 => vec![at(a), case(b)],
        _ => vec![at(true)],
    }
}

pub async fn related_search_visits_what_the_evaluator_returns(store: &dyn Store) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    const CASES: usize = 6;
    for i in 0..CASES {
        store
            .insert_case(&case(i), &audit(), None, None)
            .await
            .unwrap();
    }
    // An item of another domain must never show up.
    let mut other = case(0);
    other.domain_id = "other".into();
    store
        .insert_case(&other, &audit(), None, None)
        .await
        .unwrap();
    for n in 0..150 {
        let c = content(&mut rng);
        let domain = if n % 50 == 0 { "other" } else { DOMAIN };
        let doc = ItemDoc {
            v: 1,
            content: c.clone(),
            created_by: None,
            last_updated_user: None,
        };
        let item = RelatedItemRecord {
            account_id: ACCOUNT.into(),
            domain_id: domain.into(),
            case_id: format!(
                "case-{}",
                if domain == DOMAIN {
                    rng.below(CASES)
                } else {
                    0
                }
            ),
            related_item_id: uuid(),
            item_type: type_of(&c),
            // Few distinct times, so ties are common.
            association_time: Timestamp::from_unix_millis(BASE_MS + rng.below(8) as i64),
            seq: 0,
            ref_key: ref_key(&c),
            body: serde_json::to_value(&doc).unwrap(),
            tags: Default::default(),
            version: 1,
        };
        store
            .insert_related_items(
                &[NewRelatedItem {
                    item,
                    audit: audit(),
                    event: None,
                    max_in_case: usize::MAX,
                    max_of_type: usize::MAX,
                    case_update: None,
                }],
                None,
            )
            .await
            .unwrap();
    }
    let mut all = vec![];
    for i in 0..CASES {
        all.extend(
            store
                .list_related_items(CaseKey::new(ACCOUNT, DOMAIN, &format!("case-{i}")))
                .await
                .unwrap(),
        );
    }
    assert_eq!(all.len(), 147);

    for round in 0..200 {
        let filters: Vec<ItemFilter> = (0..rng.below(3)).map(|_| filter(&mut rng)).collect();
        let mut q = RelatedQuery {
            account_id: ACCOUNT.into(),
            domain_id: DOMAIN.into(),
            case_id: None,
            filters,
            sorts: sorts(&mut rng),
            after: None,
            limit: 1 + rng.below(6),
            now: Timestamp::from_unix_millis(BASE_MS + 1500),
            scan_budget: 1 + rng.below(10),
        };
        let want: Vec<String> = run(
            &RelatedQuery {
                limit: usize::MAX,
                ..q.clone()
            },
            all.clone(),
        )
        .items
        .into_iter()
        .map(|i| i.related_item_id)
        .collect();
        let mut got = vec![];
        for _ in 0..1000 {
            let page = store.search_related_items(&q).await.unwrap();
            assert!(page.items.len() <= q.limit);
            got.extend(page.items.into_iter().map(|i| i.related_item_id));
            match page.next {
                Some(next) => q.after = Some(next),
                None => break,
            }
        }
        assert_eq!(got, want, "round {round}: {q:?}");
    }
}
