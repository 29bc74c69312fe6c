//! Related items, their searches, the audit history and the case event configuration through
//! the Rust SDK (which has every one of these operations but BatchCreateRelatedItem; the boto3
//! suite covers that one).

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::types::*;
use caseload_sdk_tests::{AGENT, Server, error_code, fv, message};

fn contact_arn(n: &str) -> String {
    format!("arn:aws:connect:us-east-1:000000000000:instance/i-1/contact/{n}")
}
fn file_arn(n: &str) -> String {
    format!("arn:aws:connect:us-east-1:000000000000:instance/i-1/file/{n}")
}

fn comment(body: &str) -> RelatedItemInputContent {
    RelatedItemInputContent::Comment(
        CommentContent::builder()
            .body(body)
            .content_type(CommentBodyTextType::Plaintext)
            .build()
            .unwrap(),
    )
}
fn contact(n: &str) -> RelatedItemInputContent {
    RelatedItemInputContent::Contact(
        Contact::builder()
            .contact_arn(contact_arn(n))
            .build()
            .unwrap(),
    )
}
fn file(n: &str) -> RelatedItemInputContent {
    RelatedItemInputContent::File(
        FileContent::builder()
            .file_arn(file_arn(n))
            .build()
            .unwrap(),
    )
}
fn sla(name: &str, minutes: i64, target: &str) -> RelatedItemInputContent {
    RelatedItemInputContent::Sla(SlaInputContent::SlaInputConfiguration(
        SlaInputConfiguration::builder()
            .name(name)
            .r#type(SlaType::CaseField)
            .field_id("status")
            .target_field_values(FieldValueUnion::StringValue(target.into()))
            .target_sla_minutes(minutes)
            .build()
            .unwrap(),
    ))
}

struct Fx {
    c: Client,
    d: String,
    t: String,
    num: String,
}

impl Fx {
    async fn new(c: Client) -> Fx {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let d = c
            .create_domain()
            .name(format!("related-{n}"))
            .send()
            .await
            .unwrap()
            .domain_id
            .clone();
        let t = c
            .create_template()
            .domain_id(&d)
            .name("T")
            .send()
            .await
            .unwrap()
            .template_id
            .clone();
        let num = c
            .create_field()
            .domain_id(&d)
            .name("Amount")
            .r#type(FieldType::Number)
            .send()
            .await
            .unwrap()
            .field_id
            .clone();
        Fx { c, d, t, num }
    }

    async fn case(&self) -> String {
        self.c
            .create_case()
            .domain_id(&self.d)
            .template_id(&self.t)
            .fields(fv("title", FieldValueUnion::StringValue("t".into())))
            .send()
            .await
            .unwrap()
            .case_id
            .clone()
    }

    async fn add(
        &self,
        case: &str,
        t: RelatedItemType,
        content: RelatedItemInputContent,
    ) -> String {
        self.c
            .create_related_item()
            .domain_id(&self.d)
            .case_id(case)
            .r#type(t)
            .content(content)
            .performed_by(UserUnion::UserArn(AGENT.into()))
            .send()
            .await
            .unwrap()
            .related_item_id
            .clone()
    }

    /// Every item of a case, newest first, following nextToken in pages of `page`.
    async fn items(
        &self,
        case: &str,
        filters: Vec<RelatedItemTypeFilter>,
        page: i32,
    ) -> Vec<SearchRelatedItemsResponseItem> {
        let mut out = vec![];
        let mut token: Option<String> = None;
        loop {
            let r = self
                .c
                .search_related_items()
                .domain_id(&self.d)
                .case_id(case)
                .set_filters(Some(filters.clone()))
                .max_results(page)
                .set_next_token(token)
                .send()
                .await
                .unwrap();
            out.extend(r.related_items.into_iter().flatten());
            token = r.next_token;
            if token.is_none() {
                return out;
            }
        }
    }
}

#[tokio::test]
async fn create_search_update_and_delete_each_type() {
    let server = Server::start();
    let fx = Fx::new(server.client()).await;
    let case = fx.case().await;
    let linked = fx.case().await;
    let con = fx.add(&case, RelatedItemType::Contact, contact("c1")).await;
    let com = fx
        .add(&case, RelatedItemType::Comment, comment("hello"))
        .await;
    let fil = fx.add(&case, RelatedItemType::File, file("f1")).await;
    let s = fx
        .add(&case, RelatedItemType::Sla, sla("reply", 60, "closed"))
        .await;
    let link = fx
        .add(
            &case,
            RelatedItemType::ConnectCase,
            RelatedItemInputContent::ConnectCase(
                ConnectCaseInputContent::builder()
                    .case_id(&linked)
                    .build()
                    .unwrap(),
            ),
        )
        .await;
    let cus = fx
        .add(
            &case,
            RelatedItemType::Custom,
            RelatedItemInputContent::Custom(
                CustomInputContent::builder()
                    .fields(fv(&fx.num, FieldValueUnion::DoubleValue(4.0)))
                    .build()
                    .unwrap(),
            ),
        )
        .await;

    let items = fx.items(&case, vec![], 4).await;
    let ids: Vec<&str> = items.iter().map(|i| i.related_item_id.as_str()).collect();
    assert_eq!(ids, [&cus, &link, &s, &fil, &com, &con]);
    for i in &items {
        assert_eq!(i.performed_by, Some(UserUnion::UserArn(AGENT.into())));
    }
    let content = |id: &str| {
        items
            .iter()
            .find(|i| i.related_item_id == id)
            .unwrap()
            .content
            .clone()
            .unwrap()
    };
    let c = content(&con);
    let c = c.as_contact().unwrap();
    assert_eq!(c.contact_arn, contact_arn("c1"));
    assert_eq!(c.channel, "VOICE");
    let sc = content(&s);
    let cfg = sc.as_sla().unwrap().sla_configuration.as_ref().unwrap();
    assert_eq!(cfg.status, SlaStatus::Active);
    assert_eq!(cfg.field_id.as_deref(), Some("status"));
    assert_eq!(content(&link).as_connect_case().unwrap().case_id, linked);

    // Filters: OR across filters, each selecting on its own members.
    let only = fx
        .items(
            &case,
            vec![
                RelatedItemTypeFilter::Comment(CommentFilter::builder().build()),
                RelatedItemTypeFilter::Contact(
                    ContactFilter::builder()
                        .contact_arn(contact_arn("c1"))
                        .build(),
                ),
            ],
            25,
        )
        .await;
    assert_eq!(
        only.iter()
            .map(|i| i.related_item_id.as_str())
            .collect::<Vec<_>>(),
        [&com, &con]
    );
    let active = fx
        .items(
            &case,
            vec![RelatedItemTypeFilter::Sla(
                SlaFilter::builder().status(SlaStatus::Active).build(),
            )],
            25,
        )
        .await;
    assert_eq!(active.len(), 1);

    // Updates: a comment's text; a custom item's fields, replaced whole.
    let r =
        fx.c.update_related_item()
            .domain_id(&fx.d)
            .case_id(&case)
            .related_item_id(&com)
            .content(RelatedItemUpdateContent::Comment(
                CommentUpdateContent::builder()
                    .body("edited")
                    .content_type(CommentBodyTextType::Plaintext)
                    .build()
                    .unwrap(),
            ))
            .performed_by(UserUnion::CustomEntity("bot".into()))
            .send()
            .await
            .unwrap();
    assert_eq!(r.r#type, RelatedItemType::Comment);
    assert_eq!(r.content.unwrap().as_comment().unwrap().body, "edited");
    assert_eq!(r.created_by, Some(UserUnion::UserArn(AGENT.into())));
    assert_eq!(
        r.last_updated_user,
        Some(UserUnion::CustomEntity("bot".into()))
    );
    assert!(
        r.related_item_arn
            .ends_with(&format!("/case/{case}/related-item/{com}"))
    );
    let e =
        fx.c.update_related_item()
            .domain_id(&fx.d)
            .case_id(&case)
            .related_item_id(&con)
            .content(RelatedItemUpdateContent::Comment(
                CommentUpdateContent::builder()
                    .body("x")
                    .content_type(CommentBodyTextType::Plaintext)
                    .build()
                    .unwrap(),
            ))
            .send()
            .await
            .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(
        message(&e).contains("which cannot be updated"),
        "{}",
        message(&e)
    );
    let r =
        fx.c.update_related_item()
            .domain_id(&fx.d)
            .case_id(&case)
            .related_item_id(&cus)
            .content(RelatedItemUpdateContent::Custom(
                CustomUpdateContent::builder()
                    .fields(fv(&fx.num, FieldValueUnion::DoubleValue(5.0)))
                    .build()
                    .unwrap(),
            ))
            .send()
            .await
            .unwrap();
    assert_eq!(
        r.content.unwrap().as_custom().unwrap().fields,
        vec![fv(&fx.num, FieldValueUnion::DoubleValue(5.0))]
    );

    // Deletes: files are not deleted here; the rest are, once.
    let del = |id: String| {
        let (c, d, case) = (fx.c.clone(), fx.d.clone(), case.clone());
        async move {
            c.delete_related_item()
                .domain_id(d)
                .case_id(case)
                .related_item_id(id)
                .send()
                .await
        }
    };
    let e = del(fil.clone()).await.unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    del(com.clone()).await.unwrap();
    let e = del(com.clone()).await.unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    let aws_sdk_connectcases::operation::delete_related_item::DeleteRelatedItemError::ResourceNotFoundException(rnf) =
        e.into_service_error()
    else {
        panic!("not a ResourceNotFoundException");
    };
    assert_eq!(rnf.resource_id, com);
    assert_eq!(rnf.resource_type, "RelatedItem");
    del(s.clone()).await.unwrap();
    assert_eq!(fx.items(&case, vec![], 25).await.len(), 4);
}

#[tokio::test]
async fn quotas_are_service_quota_exceeded() {
    let server = Server::start_with(&[
        "--max-related-items",
        "3",
        "--max-slas",
        "1",
        "--max-files",
        "1",
    ]);
    let fx = Fx::new(server.client()).await;
    let case = fx.case().await;
    fx.add(&case, RelatedItemType::File, file("1")).await;
    fx.add(&case, RelatedItemType::Sla, sla("a", 10, "closed"))
        .await;
    for (t, content, want) in [
        (
            RelatedItemType::File,
            file("2"),
            "maximum of 1 File related items",
        ),
        (
            RelatedItemType::Sla,
            sla("b", 10, "closed"),
            "maximum of 1 Sla related items",
        ),
    ] {
        let e =
            fx.c.create_related_item()
                .domain_id(&fx.d)
                .case_id(&case)
                .r#type(t)
                .content(content)
                .send()
                .await
                .unwrap_err();
        assert_eq!(error_code(&e), "ServiceQuotaExceededException");
        assert!(message(&e).contains(want), "{}", message(&e));
        assert_eq!(e.raw_response().unwrap().status().as_u16(), 402);
    }
    fx.add(&case, RelatedItemType::Comment, comment("x")).await;
    let e =
        fx.c.create_related_item()
            .domain_id(&fx.d)
            .case_id(&case)
            .r#type(RelatedItemType::Comment)
            .content(comment("y"))
            .send()
            .await
            .unwrap_err();
    assert_eq!(
        message(&e),
        format!("Case {case} already has the maximum of 3 related items")
    );
    let e =
        fx.c.create_related_item()
            .domain_id(&fx.d)
            .case_id("missing")
            .r#type(RelatedItemType::Comment)
            .content(comment("y"))
            .send()
            .await
            .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn domain_wide_search_and_cases_for_contact_page_through_everything() {
    let server = Server::start();
    let fx = Fx::new(server.client()).await;
    let mut cases = vec![];
    for _ in 0..5 {
        cases.push(fx.case().await);
    }
    cases.sort();
    let mut made = vec![];
    for round in 0..3 {
        for case in &cases {
            made.push((
                case.clone(),
                fx.add(
                    case,
                    RelatedItemType::Contact,
                    contact(&format!("c{round}")),
                )
                .await,
            ));
        }
    }
    let all = |sorts: Vec<SearchAllRelatedItemsSort>, filters: Vec<RelatedItemTypeFilter>| {
        let (c, d) = (fx.c.clone(), fx.d.clone());
        async move {
            let mut out = vec![];
            let mut token: Option<String> = None;
            loop {
                let r = c
                    .search_all_related_items()
                    .domain_id(&d)
                    .set_sorts(Some(sorts.clone()))
                    .set_filters(Some(filters.clone()))
                    .max_results(4)
                    .set_next_token(token)
                    .send()
                    .await
                    .unwrap();
                out.extend(
                    r.related_items
                        .into_iter()
                        .flatten()
                        .map(|i| (i.case_id, i.related_item_id)),
                );
                token = r.next_token;
                if token.is_none() {
                    return out;
                }
            }
        }
    };
    let newest = all(vec![], vec![]).await;
    assert_eq!(newest, made.iter().rev().cloned().collect::<Vec<_>>());
    let sort = |p, o| {
        SearchAllRelatedItemsSort::builder()
            .sort_property(p)
            .sort_order(o)
            .build()
            .unwrap()
    };
    let by_case = all(
        vec![
            sort(SearchAllRelatedItemsSortProperty::CaseId, Order::Ascending),
            sort(
                SearchAllRelatedItemsSortProperty::AssociationTime,
                Order::Ascending,
            ),
        ],
        vec![],
    )
    .await;
    let mut want = made.clone();
    want.sort_by(|a, b| a.0.cmp(&b.0)); // stable: creation order within a case
    assert_eq!(by_case, want);
    let c1 = all(
        vec![],
        vec![RelatedItemTypeFilter::Contact(
            ContactFilter::builder()
                .contact_arn(contact_arn("c1"))
                .build(),
        )],
    )
    .await;
    assert_eq!(c1, made[5..10].iter().rev().cloned().collect::<Vec<_>>());

    let mut listed = vec![];
    let mut token: Option<String> = None;
    loop {
        let r =
            fx.c.list_cases_for_contact()
                .domain_id(&fx.d)
                .contact_arn(contact_arn("c2"))
                .max_results(2)
                .set_next_token(token)
                .send()
                .await
                .unwrap();
        assert!(r.cases.len() <= 2);
        listed.extend(r.cases.into_iter().map(|c| c.case_id));
        token = r.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(listed, cases);
}

#[tokio::test]
async fn audit_history_and_event_configuration() {
    let server = Server::start();
    let fx = Fx::new(server.client()).await;
    let case = fx.case().await;
    let com = fx
        .add(&case, RelatedItemType::Comment, comment("one"))
        .await;
    fx.c.delete_related_item()
        .domain_id(&fx.d)
        .case_id(&case)
        .related_item_id(&com)
        .send()
        .await
        .unwrap();
    let mut events = vec![];
    let mut token: Option<String> = None;
    loop {
        let r =
            fx.c.get_case_audit_events()
                .domain_id(&fx.d)
                .case_id(&case)
                .max_results(1)
                .set_next_token(token)
                .send()
                .await
                .unwrap();
        assert_eq!(r.audit_events.len(), 1);
        events.extend(r.audit_events.into_iter().flatten());
        token = r.next_token;
        if token.is_none() {
            break;
        }
    }
    let types: Vec<AuditEventType> = events.iter().map(|e| e.r#type.clone()).collect();
    assert_eq!(
        types,
        [
            AuditEventType::RelatedItemDeleted,
            AuditEventType::RelatedItemCreated,
            AuditEventType::CaseCreated
        ]
    );
    assert_eq!(events[1].related_item_type, Some(RelatedItemType::Comment));
    assert_eq!(
        events[1].performed_by.as_ref().unwrap().user,
        Some(UserUnion::UserArn(AGENT.into()))
    );
    let e =
        fx.c.get_case_audit_events()
            .domain_id(&fx.d)
            .case_id("missing")
            .send()
            .await
            .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");

    let got =
        fx.c.get_case_event_configuration()
            .domain_id(&fx.d)
            .send()
            .await
            .unwrap();
    assert!(!got.event_bridge.unwrap().enabled);
    let config = EventBridgeConfiguration::builder()
        .enabled(true)
        .included_data(
            EventIncludedData::builder()
                .case_data(
                    CaseEventIncludedData::builder()
                        .fields(FieldIdentifier::builder().id(&fx.num).build().unwrap())
                        .build()
                        .unwrap(),
                )
                .related_item_data(
                    RelatedItemEventIncludedData::builder()
                        .include_content(true)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .build()
        .unwrap();
    fx.c.put_case_event_configuration()
        .domain_id(&fx.d)
        .event_bridge(config.clone())
        .send()
        .await
        .unwrap();
    let got =
        fx.c.get_case_event_configuration()
            .domain_id(&fx.d)
            .send()
            .await
            .unwrap();
    assert_eq!(got.event_bridge, Some(config));
}
