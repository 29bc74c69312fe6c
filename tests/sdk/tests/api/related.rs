//! Related items, their searches, the audit history and the case event configuration through
//! the Rust SDK (which has every one of these operations but BatchCreateRelatedItem; the boto3
//! suite covers that one).

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::config::http::HttpResponse;
use aws_sdk_connectcases::error::SdkError;
use aws_sdk_connectcases::operation::create_related_item::{
    CreateRelatedItemError, CreateRelatedItemOutput,
};
use aws_sdk_connectcases::primitives::{DateTime, DateTimeFormat};
use aws_sdk_connectcases::types::*;
use caseload_sdk_tests::{AGENT, Server, error_body, error_code, fv, ident, message, n, s};

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
fn comment_update(body: &str) -> RelatedItemUpdateContent {
    RelatedItemUpdateContent::Comment(
        CommentUpdateContent::builder()
            .body(body)
            .content_type(CommentBodyTextType::Plaintext)
            .build()
            .unwrap(),
    )
}
fn contact(n: &str) -> RelatedItemInputContent {
    contact_at(&contact_arn(n))
}
fn contact_at(arn: &str) -> RelatedItemInputContent {
    RelatedItemInputContent::Contact(Contact::builder().contact_arn(arn).build().unwrap())
}
fn file(n: &str) -> RelatedItemInputContent {
    file_at(&file_arn(n))
}
fn file_at(arn: &str) -> RelatedItemInputContent {
    RelatedItemInputContent::File(FileContent::builder().file_arn(arn).build().unwrap())
}
fn sla(name: &str, minutes: i64, target: &str) -> RelatedItemInputContent {
    sla_with(name, minutes, Some("status"), Some(target))
}
/// An SLA on `field` reaching `target`, either left out to test what is required.
fn sla_with(
    name: &str,
    minutes: i64,
    field: Option<&str>,
    target: Option<&str>,
) -> RelatedItemInputContent {
    RelatedItemInputContent::Sla(SlaInputContent::SlaInputConfiguration(
        SlaInputConfiguration::builder()
            .name(name)
            .r#type(SlaType::CaseField)
            .set_field_id(field.map(str::to_owned))
            .set_target_field_values(target.map(|t| vec![s(t)]))
            .target_sla_minutes(minutes)
            .build()
            .unwrap(),
    ))
}
fn custom(fields: Vec<FieldValue>) -> RelatedItemInputContent {
    RelatedItemInputContent::Custom(
        CustomInputContent::builder()
            .set_fields(Some(fields))
            .build()
            .unwrap(),
    )
}
fn link(case: &str) -> RelatedItemInputContent {
    RelatedItemInputContent::ConnectCase(
        ConnectCaseInputContent::builder()
            .case_id(case)
            .build()
            .unwrap(),
    )
}
fn sort(p: SearchAllRelatedItemsSortProperty, o: Order) -> SearchAllRelatedItemsSort {
    SearchAllRelatedItemsSort::builder()
        .sort_property(p)
        .sort_order(o)
        .build()
        .unwrap()
}
/// (case, item) of each item, in order.
fn pairs(items: Vec<SearchAllRelatedItemsResponseItem>) -> Vec<(String, String)> {
    items
        .into_iter()
        .map(|i| (i.case_id, i.related_item_id))
        .collect()
}
/// The first `len` characters of a time in the wire format, to compare it with a stored value
/// at that precision.
fn prefix(t: &DateTime, len: usize) -> String {
    t.fmt(DateTimeFormat::DateTime).unwrap()[..len].to_owned()
}

struct Fx {
    c: Client,
    d: String,
    t: String,
    text: String,
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
        let field = |name: &'static str, t: FieldType| {
            let (c, d) = (c.clone(), d.clone());
            async move {
                c.create_field()
                    .domain_id(&d)
                    .name(name)
                    .r#type(t)
                    .send()
                    .await
                    .unwrap()
                    .field_id
            }
        };
        let text = field("Notes", FieldType::Text).await;
        let num = field("Amount", FieldType::Number).await;
        Fx { c, d, t, text, num }
    }

    async fn case(&self) -> String {
        self.case_tagged(&[]).await
    }

    /// `n` new cases' ids, sorted.
    async fn sorted_cases(&self, n: usize) -> Vec<String> {
        let mut cases = vec![];
        for _ in 0..n {
            cases.push(self.case().await);
        }
        cases.sort();
        cases
    }

    async fn case_tagged(&self, tags: &[(&str, &str)]) -> String {
        let mut create = self
            .c
            .create_case()
            .domain_id(&self.d)
            .template_id(&self.t)
            .fields(fv("title", s("t")));
        for (k, v) in tags {
            create = create.tags(*k, *v);
        }
        create.send().await.unwrap().case_id
    }

    async fn add(
        &self,
        case: &str,
        t: RelatedItemType,
        content: RelatedItemInputContent,
    ) -> String {
        self.try_add(case, t, content)
            .await
            .unwrap()
            .related_item_id
    }

    async fn try_add(
        &self,
        case: &str,
        t: RelatedItemType,
        content: RelatedItemInputContent,
    ) -> Result<CreateRelatedItemOutput, SdkError<CreateRelatedItemError, HttpResponse>> {
        self.try_add_in(&self.d, case, t, content).await
    }

    async fn try_add_in(
        &self,
        domain: &str,
        case: &str,
        t: RelatedItemType,
        content: RelatedItemInputContent,
    ) -> Result<CreateRelatedItemOutput, SdkError<CreateRelatedItemError, HttpResponse>> {
        self.c
            .create_related_item()
            .domain_id(domain)
            .case_id(case)
            .r#type(t)
            .content(content)
            .performed_by(UserUnion::UserArn(AGENT.into()))
            .send()
            .await
    }

    /// Every item of the domain in the order of `sorts`, following nextToken in pages of `page`.
    async fn all_items(
        &self,
        sorts: Vec<SearchAllRelatedItemsSort>,
        filters: Vec<RelatedItemTypeFilter>,
        page: i32,
    ) -> Vec<SearchAllRelatedItemsResponseItem> {
        let mut out = vec![];
        let mut token: Option<String> = None;
        loop {
            let r = self
                .c
                .search_all_related_items()
                .domain_id(&self.d)
                .set_sorts(Some(sorts.clone()))
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

    /// The case's next_sla_breach_datetime, if it has one.
    async fn breach(&self, case: &str) -> Option<String> {
        let got = self
            .c
            .get_case()
            .domain_id(&self.d)
            .case_id(case)
            .fields(ident("next_sla_breach_datetime"))
            .send()
            .await
            .unwrap();
        got.fields
            .into_iter()
            .find(|f| f.id == "next_sla_breach_datetime")
            .and_then(|f| f.value)
            .map(|v| v.as_string_value().unwrap().clone())
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
            .content(comment_update("edited"))
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
            .content(comment_update("x"))
            .send()
            .await
            .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(
        message(&e).contains("is of type Contact, which cannot be updated"),
        "{}",
        message(&e)
    );
    // A missing item, and an item asked for under another case, are not found.
    let other = fx.case().await;
    for (under, id) in [(&case, "missing"), (&other, com.as_str())] {
        let e =
            fx.c.update_related_item()
                .domain_id(&fx.d)
                .case_id(under)
                .related_item_id(id)
                .content(comment_update("x"))
                .send()
                .await
                .unwrap_err();
        assert_eq!(error_code(&e), "ResourceNotFoundException");
        assert_eq!(error_body(&e)["resourceType"], "RelatedItem");
        assert_eq!(error_body(&e)["resourceId"], id);
    }
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
    assert!(
        message(&e).contains("DeleteAttachedFile"),
        "{}",
        message(&e)
    );
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
        (RelatedItemType::File, file("2"), "File"),
        (RelatedItemType::Sla, sla("b", 10, "closed"), "Sla"),
    ] {
        let e = fx.try_add(&case, t, content).await.unwrap_err();
        assert_eq!(error_code(&e), "ServiceQuotaExceededException");
        assert_eq!(
            message(&e),
            format!("Case {case} already has the maximum of 1 {want} related items")
        );
        assert_eq!(e.raw_response().unwrap().status().as_u16(), 402);
    }
    fx.add(&case, RelatedItemType::Comment, comment("x")).await;
    let e = fx
        .try_add(&case, RelatedItemType::Comment, comment("y"))
        .await
        .unwrap_err();
    assert_eq!(
        message(&e),
        format!("Case {case} already has the maximum of 3 related items")
    );
    // Another case has its own room.
    fx.add(&fx.case().await, RelatedItemType::Comment, comment("y"))
        .await;
    let e = fx
        .try_add("missing", RelatedItemType::Comment, comment("y"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn domain_wide_search_and_cases_for_contact_page_through_everything() {
    let server = Server::start();
    let fx = Fx::new(server.client()).await;
    let cases = fx.sorted_cases(5).await;
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
    let newest = pairs(fx.all_items(vec![], vec![], 4).await);
    assert_eq!(newest, made.iter().rev().cloned().collect::<Vec<_>>());
    let by_case = pairs(
        fx.all_items(
            vec![
                sort(SearchAllRelatedItemsSortProperty::CaseId, Order::Ascending),
                sort(
                    SearchAllRelatedItemsSortProperty::AssociationTime,
                    Order::Ascending,
                ),
            ],
            vec![],
            4,
        )
        .await,
    );
    let mut want = made.clone();
    want.sort_by(|a, b| a.0.cmp(&b.0)); // stable: creation order within a case
    assert_eq!(by_case, want);
    let c1 = pairs(
        fx.all_items(
            vec![],
            vec![RelatedItemTypeFilter::Contact(
                ContactFilter::builder()
                    .contact_arn(contact_arn("c1"))
                    .build(),
            )],
            4,
        )
        .await,
    );
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

#[tokio::test]
async fn every_type_reads_back_with_its_arn_tags_and_content() {
    let server = Server::start();
    let fx = Fx::new(server.client()).await;
    let case = fx.case_tagged(&[("team", "blue")]).await;
    let other = fx.case().await;
    let values = vec![fv(&fx.text, s("x")), fv(&fx.num, n(2.0))];
    let mut made = vec![];
    for (t, content) in [
        (RelatedItemType::Contact, contact("c-1")),
        (RelatedItemType::Comment, comment("hello")),
        (RelatedItemType::File, file("f-1")),
        (RelatedItemType::Sla, sla("first reply", 60, "closed")),
        (RelatedItemType::ConnectCase, link(&other)),
        (RelatedItemType::Custom, custom(values.clone())),
    ] {
        let r = fx.try_add(&case, t.clone(), content).await.unwrap();
        assert_eq!(
            r.related_item_arn,
            format!(
                "arn:aws:cases:us-east-1:000000000000:domain/{}/case/{case}/related-item/{}",
                fx.d, r.related_item_id
            )
        );
        made.push((t, r.related_item_id));
    }
    let items = fx.items(&case, vec![], 25).await;
    // Newest first, each with the case's tags.
    let listed: Vec<_> = items
        .iter()
        .map(|i| (i.r#type.clone(), i.related_item_id.clone()))
        .collect();
    assert_eq!(listed, made.iter().rev().cloned().collect::<Vec<_>>());
    for i in &items {
        let tags = i.tags.clone().unwrap();
        assert_eq!(tags.len(), 1, "{tags:?}");
        assert_eq!(tags["team"].as_deref(), Some("blue"));
    }
    let of = |t: RelatedItemType| items.iter().find(|i| i.r#type == t).unwrap();
    let contact_item = of(RelatedItemType::Contact);
    let c = contact_item.content.as_ref().unwrap().as_contact().unwrap();
    assert_eq!(c.connected_to_system_time, contact_item.association_time);
    let body = of(RelatedItemType::Comment).content.clone().unwrap();
    let body = body.as_comment().unwrap();
    assert_eq!(
        (body.body.as_str(), &body.content_type),
        ("hello", &CommentBodyTextType::Plaintext)
    );
    let f = of(RelatedItemType::File).content.clone().unwrap();
    assert_eq!(f.as_file().unwrap().file_arn, file_arn("f-1"));
    let cus = of(RelatedItemType::Custom).content.clone().unwrap();
    assert_eq!(cus.as_custom().unwrap().fields, values);
    let sla_item = of(RelatedItemType::Sla);
    let content = sla_item.content.clone().unwrap();
    let cfg = content.as_sla().unwrap().sla_configuration.clone().unwrap();
    assert_eq!(cfg.name, "first reply");
    assert_eq!(
        cfg.target_time.secs() - sla_item.association_time.secs(),
        3600
    );
    assert!(cfg.completion_time.is_none());
    // The SLA sets the case's next breach.
    let breach = fx.breach(&case).await.unwrap();
    assert!(
        breach.starts_with(&prefix(&cfg.target_time, 19)),
        "{breach} vs {:?}",
        cfg.target_time
    );
}

#[tokio::test]
async fn invalid_content_is_a_validation_error_naming_the_member() {
    let server = Server::start();
    let fx = Fx::new(server.client()).await;
    let case = fx.case().await;
    let reply = |field, target| sla_with("first reply", 60, field, target);
    for (t, content, want) in [
        (
            RelatedItemType::Comment,
            contact("c"),
            "type is Comment but content has a contact member",
        ),
        (
            RelatedItemType::Contact,
            contact_at("not-an-arn"),
            "content.contact.contactArn",
        ),
        (
            RelatedItemType::File,
            file_at(&contact_arn("c")),
            "content.file.fileArn",
        ),
        (
            RelatedItemType::Sla,
            reply(None, Some("closed")),
            "fieldId is required",
        ),
        (
            RelatedItemType::Sla,
            reply(Some("status"), None),
            "targetFieldValues is required",
        ),
        (
            RelatedItemType::Sla,
            reply(Some("title"), Some("closed")),
            "is of type Text; an SLA tracks a SingleSelect field",
        ),
        (
            RelatedItemType::Sla,
            reply(Some("status"), Some("nope")),
            "options of field 'status'",
        ),
        (
            RelatedItemType::Sla,
            reply(Some("gone"), Some("closed")),
            "'gone' is not a field of this domain",
        ),
        (
            RelatedItemType::Custom,
            custom(vec![fv("title", s("x"))]),
            "'title' is a system field",
        ),
        (
            RelatedItemType::Custom,
            custom(vec![fv("nope", s("x"))]),
            "Field 'nope' does not exist",
        ),
    ] {
        let e = fx.try_add(&case, t, content).await.unwrap_err();
        assert_eq!(error_code(&e), "ValidationException", "{want}");
        assert!(message(&e).contains(want), "{want}: {}", message(&e));
    }
}

#[tokio::test]
async fn missing_cases_and_domains_self_links_and_size_limits_are_refused() {
    let server = Server::start();
    let fx = Fx::new(server.client()).await;
    let case = fx.case().await;
    let e = fx
        .try_add(&case, RelatedItemType::ConnectCase, link("missing-case"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    assert_eq!(error_body(&e)["resourceId"], "missing-case");
    assert_eq!(error_body(&e)["resourceType"], "Case");
    let e = fx
        .try_add(&case, RelatedItemType::ConnectCase, link(&case))
        .await
        .unwrap_err();
    assert!(
        message(&e).contains("cannot be linked to itself"),
        "{}",
        message(&e)
    );
    let e = fx
        .try_add("missing-case", RelatedItemType::Comment, comment("x"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    assert_eq!(error_body(&e)["resourceType"], "Case");
    let e = fx
        .try_add_in("missing", &case, RelatedItemType::Comment, comment("x"))
        .await
        .unwrap_err();
    assert_eq!(error_body(&e)["resourceType"], "Domain");
    let e = fx
        .try_add(&case, RelatedItemType::Comment, comment(&"x".repeat(15001)))
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(message(&e).contains("15000"), "{}", message(&e));
    let six = (0..6).map(|i| fv(&fx.text, s(&i.to_string()))).collect();
    let e = fx
        .try_add(&case, RelatedItemType::Custom, custom(six))
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ServiceQuotaExceededException");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 402);
    assert!(message(&e).contains("at most 5 fields"), "{}", message(&e));
}

#[tokio::test]
async fn an_sla_is_met_when_its_field_reaches_a_target_and_sets_the_next_breach() {
    let server = Server::start();
    let fx = Fx::new(server.client()).await;
    let case = fx.case().await;
    let early = fx
        .add(&case, RelatedItemType::Sla, sla("early", 10, "closed"))
        .await;
    // Already met: the case is open.
    fx.add(&case, RelatedItemType::Sla, sla("late", 100, "open"))
        .await;
    let slas = |filter: SlaFilter| {
        let case = case.clone();
        let fx = &fx;
        async move {
            fx.items(&case, vec![RelatedItemTypeFilter::Sla(filter)], 25)
                .await
        }
    };
    let config = |i: &SearchRelatedItemsResponseItem| {
        i.content
            .clone()
            .unwrap()
            .as_sla()
            .unwrap()
            .sla_configuration
            .clone()
            .unwrap()
    };
    let all = slas(SlaFilter::builder().build()).await;
    let mut statuses: Vec<String> = all
        .iter()
        .map(|i| config(i).status.as_str().to_owned())
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["Active", "Met"]);
    // Only the pending SLA counts for the next breach.
    let target = config(all.iter().find(|i| i.related_item_id == early).unwrap()).target_time;
    let breach = fx.breach(&case).await.unwrap();
    assert!(breach.starts_with(&prefix(&target, 16)), "{breach}");

    fx.c.update_case()
        .domain_id(&fx.d)
        .case_id(&case)
        .fields(fv("status", s("closed")))
        .send()
        .await
        .unwrap();
    let met = slas(
        SlaFilter::builder()
            .name("early")
            .status(SlaStatus::Met)
            .build(),
    )
    .await;
    assert_eq!(
        met.iter()
            .map(|i| i.related_item_id.as_str())
            .collect::<Vec<_>>(),
        [early.as_str()]
    );
    assert!(config(&met[0]).completion_time.is_some());
    assert!(
        slas(SlaFilter::builder().status(SlaStatus::Active).build())
            .await
            .is_empty()
    );
    assert_eq!(fx.breach(&case).await, None);
    // The change shows in the case's audit event.
    let audit =
        fx.c.get_case_audit_events()
            .domain_id(&fx.d)
            .case_id(&case)
            .send()
            .await
            .unwrap();
    let latest = audit.audit_events[0].clone().unwrap();
    assert_eq!(latest.r#type, AuditEventType::CaseUpdated);
    assert!(
        latest
            .fields
            .iter()
            .flatten()
            .any(|f| f.event_field_id == "next_sla_breach_datetime")
    );

    // Deleting a pending SLA clears the next breach.
    let other = fx.case().await;
    let pending = fx
        .add(&other, RelatedItemType::Sla, sla("reply", 60, "closed"))
        .await;
    assert!(fx.breach(&other).await.is_some());
    fx.c.delete_related_item()
        .domain_id(&fx.d)
        .case_id(&other)
        .related_item_id(&pending)
        .send()
        .await
        .unwrap();
    assert_eq!(fx.breach(&other).await, None);
}

#[tokio::test]
async fn search_related_items_filters_and_tokens() {
    let server = Server::start();
    let fx = Fx::new(server.client()).await;
    let search = |case: &str,
                  filters: Vec<RelatedItemTypeFilter>,
                  max: Option<i32>,
                  token: Option<String>| {
        fx.c.search_related_items()
            .domain_id(&fx.d)
            .case_id(case)
            .set_filters(Some(filters))
            .set_max_results(max)
            .set_next_token(token)
            .send()
    };
    let case = fx.case().await;
    let mut comments = vec![];
    for i in 0..12 {
        comments.push(
            fx.add(&case, RelatedItemType::Comment, comment(&format!("c{i}")))
                .await,
        );
    }
    let mut contacts = vec![];
    for i in 0..3 {
        contacts.push(
            fx.add(&case, RelatedItemType::Contact, contact(&i.to_string()))
                .await,
        );
    }
    let mut customs = vec![];
    for i in 0..4 {
        customs.push(
            fx.add(
                &case,
                RelatedItemType::Custom,
                custom(vec![fv(&fx.num, n(f64::from(i)))]),
            )
            .await,
        );
    }
    let ids = |items: Vec<SearchRelatedItemsResponseItem>| -> Vec<String> {
        items.into_iter().map(|i| i.related_item_id).collect()
    };
    let made: Vec<String> = [comments.clone(), contacts.clone(), customs.clone()].concat();
    let newest: Vec<String> = made.iter().rev().cloned().collect();
    assert_eq!(ids(fx.items(&case, vec![], 5).await), newest);
    // Without maxResults, one page of at most 25.
    let one = search(&case, vec![], None, None).await.unwrap();
    assert_eq!(one.related_items.len(), 19);
    assert!(one.next_token.is_none());

    // OR across filters; AND within one.
    let contact_filter = |arn: Option<String>, channels: &[&str]| {
        RelatedItemTypeFilter::Contact(
            ContactFilter::builder()
                .set_contact_arn(arn)
                .set_channel(
                    (!channels.is_empty())
                        .then(|| channels.iter().map(|c| (*c).to_owned()).collect()),
                )
                .build(),
        )
    };
    let got = fx
        .items(
            &case,
            vec![
                contact_filter(Some(contact_arn("1")), &[]),
                RelatedItemTypeFilter::Comment(CommentFilter::builder().build()),
            ],
            25,
        )
        .await;
    let want: Vec<String> = std::iter::once(contacts[1].clone())
        .chain(comments.iter().rev().cloned())
        .collect();
    assert_eq!(ids(got), want);
    let none = fx
        .items(
            &case,
            vec![contact_filter(Some(contact_arn("1")), &["CHAT"])],
            25,
        )
        .await;
    assert!(none.is_empty());
    let voice = fx
        .items(&case, vec![contact_filter(None, &["VOICE", "CHAT"])], 25)
        .await;
    assert_eq!(voice.len(), 3);

    // Custom filters take SearchCases' algebra.
    let custom_filter = |f: CustomFieldsFilter| {
        vec![RelatedItemTypeFilter::Custom(
            CustomFilter::builder().fields(f).build(),
        )]
    };
    let got = fx
        .items(
            &case,
            custom_filter(CustomFieldsFilter::OrAll(vec![
                CustomFieldsFilter::Field(FieldFilter::GreaterThanOrEqualTo(fv(&fx.num, n(3.0)))),
                CustomFieldsFilter::Not(Box::new(CustomFieldsFilter::Field(
                    FieldFilter::GreaterThan(fv(&fx.num, n(0.0))),
                ))),
            ])),
            25,
        )
        .await;
    assert_eq!(ids(got), [customs[3].clone(), customs[0].clone()]);
    let contains = CustomFieldsFilter::Field(FieldFilter::Contains(fv(&fx.num, n(1.0))));
    let e = search(&case, custom_filter(contains), None, None)
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(message(&e).contains("contains"), "{}", message(&e));

    // A token belongs to its query.
    let page = search(&case, vec![], Some(2), None).await.unwrap();
    let e = search(
        &case,
        vec![RelatedItemTypeFilter::Comment(
            CommentFilter::builder().build(),
        )],
        None,
        page.next_token,
    )
    .await
    .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(message(&e).contains("nextToken"), "{}", message(&e));
    let e = search(&case, vec![], Some(26), None).await.unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    let e = search("missing", vec![], None, None).await.unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn search_all_related_items_sorts_filters_and_forgets_deleted_cases() {
    let server = Server::start();
    let fx = Fx::new(server.client()).await;
    let cases = fx.sorted_cases(4).await;
    let mut made = vec![]; // (case, item), in creation order
    for round in 0..3 {
        for case in &cases {
            let item = fx
                .add(case, RelatedItemType::Comment, comment(&round.to_string()))
                .await;
            made.push((case.clone(), item));
        }
    }
    fx.add(&cases[0], RelatedItemType::File, file("x")).await;
    let all = |sorts: Vec<SearchAllRelatedItemsSort>, filters: Vec<RelatedItemTypeFilter>| {
        fx.all_items(sorts, filters, 5)
    };
    let comments = || {
        vec![RelatedItemTypeFilter::Comment(
            CommentFilter::builder().build(),
        )]
    };
    let newest = all(vec![], comments()).await;
    assert_eq!(
        pairs(newest),
        made.iter().rev().cloned().collect::<Vec<_>>()
    );
    let oldest = all(
        vec![sort(
            SearchAllRelatedItemsSortProperty::AssociationTime,
            Order::Ascending,
        )],
        comments(),
    )
    .await;
    assert_eq!(pairs(oldest), made);
    let by_case = all(
        vec![
            sort(SearchAllRelatedItemsSortProperty::CaseId, Order::Descending),
            sort(
                SearchAllRelatedItemsSortProperty::AssociationTime,
                Order::Ascending,
            ),
        ],
        comments(),
    )
    .await;
    let mut want = made.clone();
    want.sort_by(|a, b| b.0.cmp(&a.0)); // stable: creation order within a case
    assert_eq!(pairs(by_case), want);
    assert_eq!(all(vec![], vec![]).await.len(), 13);
    let files = all(
        vec![],
        vec![RelatedItemTypeFilter::File(
            FileFilter::builder().file_arn(file_arn("x")).build(),
        )],
    )
    .await;
    assert_eq!(
        files
            .iter()
            .map(|i| (i.case_id.as_str(), &i.r#type))
            .collect::<Vec<_>>(),
        [(cases[0].as_str(), &RelatedItemType::File)]
    );
    let e =
        fx.c.search_all_related_items()
            .domain_id(&fx.d)
            .sorts(sort(
                SearchAllRelatedItemsSortProperty::CaseId,
                Order::Ascending,
            ))
            .sorts(sort(
                SearchAllRelatedItemsSortProperty::CaseId,
                Order::Descending,
            ))
            .send()
            .await
            .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(message(&e).contains("more than once"), "{}", message(&e));
    let e =
        fx.c.search_all_related_items()
            .domain_id("missing")
            .send()
            .await
            .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    // Deleting a case takes its items with it.
    fx.c.delete_case()
        .domain_id(&fx.d)
        .case_id(&cases[0])
        .send()
        .await
        .unwrap();
    let left: std::collections::BTreeSet<String> = all(vec![], vec![])
        .await
        .into_iter()
        .map(|i| i.case_id)
        .collect();
    assert_eq!(
        left,
        cases[1..]
            .iter()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
    );
}

#[tokio::test]
async fn cases_for_a_contact_are_listed_once_and_forget_deleted_cases() {
    let server = Server::start();
    let fx = Fx::new(server.client()).await;
    let cases = fx.sorted_cases(4).await;
    for case in &cases {
        fx.add(case, RelatedItemType::Contact, contact("shared"))
            .await;
    }
    // Twice on one case: listed once.
    fx.add(&cases[0], RelatedItemType::Contact, contact("shared"))
        .await;
    fx.add(&fx.case().await, RelatedItemType::Contact, contact("other"))
        .await;
    let list = |arn: String| {
        fx.c.list_cases_for_contact()
            .domain_id(&fx.d)
            .contact_arn(arn)
            .send()
    };
    let page = list(contact_arn("shared")).await.unwrap();
    let listed: Vec<&str> = page.cases.iter().map(|c| c.case_id.as_str()).collect();
    assert_eq!(listed, cases);
    assert!(page.cases.iter().all(|c| c.template_id == fx.t));
    fx.c.delete_case()
        .domain_id(&fx.d)
        .case_id(&cases[1])
        .send()
        .await
        .unwrap();
    let page = list(contact_arn("shared")).await.unwrap();
    let listed: Vec<&str> = page.cases.iter().map(|c| c.case_id.as_str()).collect();
    assert_eq!(listed, [&*cases[0], &*cases[2], &*cases[3]]);
    assert!(list(contact_arn("nobody")).await.unwrap().cases.is_empty());
    let e =
        fx.c.list_cases_for_contact()
            .domain_id(&fx.d)
            .contact_arn(contact_arn("shared"))
            .max_results(11)
            .send()
            .await
            .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    let e =
        fx.c.list_cases_for_contact()
            .domain_id("missing")
            .contact_arn(contact_arn("shared"))
            .send()
            .await
            .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn audit_history_records_old_and_new_values_newest_first() {
    let server = Server::start();
    let fx = Fx::new(server.client()).await;
    let case =
        fx.c.create_case()
            .domain_id(&fx.d)
            .template_id(&fx.t)
            .fields(fv("title", s("t")))
            .performed_by(UserUnion::UserArn(AGENT.into()))
            .send()
            .await
            .unwrap()
            .case_id;
    let item =
        fx.c.create_related_item()
            .domain_id(&fx.d)
            .case_id(&case)
            .r#type(RelatedItemType::Comment)
            .content(comment("one"))
            .performed_by(UserUnion::CustomEntity("bot".into()))
            .send()
            .await
            .unwrap()
            .related_item_id;
    fx.c.update_related_item()
        .domain_id(&fx.d)
        .case_id(&case)
        .related_item_id(&item)
        .content(comment_update("two"))
        .send()
        .await
        .unwrap();
    fx.c.delete_related_item()
        .domain_id(&fx.d)
        .case_id(&case)
        .related_item_id(&item)
        .send()
        .await
        .unwrap();
    fx.c.update_case()
        .domain_id(&fx.d)
        .case_id(&case)
        .fields(fv("title", s("renamed")))
        .send()
        .await
        .unwrap();
    let audit = |page: Option<i32>, token: Option<String>, case: &str| {
        fx.c.get_case_audit_events()
            .domain_id(&fx.d)
            .case_id(case)
            .set_max_results(page)
            .set_next_token(token)
            .send()
    };
    let events: Vec<AuditEvent> = audit(None, None, &case)
        .await
        .unwrap()
        .audit_events
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(
        events.iter().map(|e| e.r#type.clone()).collect::<Vec<_>>(),
        [
            AuditEventType::CaseUpdated,
            AuditEventType::RelatedItemDeleted,
            AuditEventType::RelatedItemUpdated,
            AuditEventType::RelatedItemCreated,
            AuditEventType::CaseCreated,
        ]
    );
    let times: Vec<i64> = events.iter().map(|e| e.performed_time.secs()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    for e in &events {
        let by = e.performed_by.as_ref().unwrap();
        assert!(
            by.iam_principal_arn
                .starts_with("arn:aws:iam::000000000000:"),
            "{by:?}"
        );
    }
    let body = |e: &AuditEvent| {
        e.fields
            .iter()
            .flatten()
            .find(|f| f.event_field_id == "comment.body")
            .cloned()
            .unwrap()
    };
    let sv = |v: &str| Some(AuditEventFieldValueUnion::StringValue(v.into()));
    let (deleted, updated, created) = (&events[1], &events[2], &events[3]);
    assert_eq!(created.related_item_type, Some(RelatedItemType::Comment));
    assert_eq!(
        created.performed_by.as_ref().unwrap().user,
        Some(UserUnion::CustomEntity("bot".into()))
    );
    assert_eq!(
        (body(created).old_value, body(created).new_value),
        (None, sv("one"))
    );
    assert_eq!(updated.fields.len(), 1);
    assert_eq!(
        (body(updated).old_value, body(updated).new_value),
        (sv("one"), sv("two"))
    );
    assert_eq!(body(deleted).old_value, sv("two"));
    assert!(matches!(
        body(deleted).new_value,
        Some(AuditEventFieldValueUnion::EmptyValue(_))
    ));
    assert_eq!(
        events[4].performed_by.as_ref().unwrap().user,
        Some(UserUnion::UserArn(AGENT.into()))
    );

    let e = audit(Some(26), None, &case).await.unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    let e = audit(None, Some("garbage".into()), &case)
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    let e = audit(None, None, "missing").await.unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    assert_eq!(error_body(&e)["resourceId"], "missing");
}

#[tokio::test]
async fn event_configuration_checks_its_fields_and_forgets_deleted_ones() {
    let server = Server::start();
    let fx = Fx::new(server.client()).await;
    let with_fields = |ids: &[&str]| {
        let mut data = CaseEventIncludedData::builder();
        for id in ids {
            data = data.fields(ident(id));
        }
        EventBridgeConfiguration::builder()
            .enabled(true)
            .included_data(
                EventIncludedData::builder()
                    .case_data(data.build().unwrap())
                    .build(),
            )
            .build()
            .unwrap()
    };
    let put = |config: EventBridgeConfiguration, domain: &str| {
        fx.c.put_case_event_configuration()
            .domain_id(domain)
            .event_bridge(config)
            .send()
    };
    put(with_fields(&["title", &fx.text]), &fx.d).await.unwrap();
    // A deleted field is no longer returned.
    fx.c.delete_field()
        .domain_id(&fx.d)
        .field_id(&fx.text)
        .send()
        .await
        .unwrap();
    let got =
        fx.c.get_case_event_configuration()
            .domain_id(&fx.d)
            .send()
            .await
            .unwrap();
    assert_eq!(got.event_bridge, Some(with_fields(&["title"])));

    let e = put(with_fields(&["nope"]), &fx.d).await.unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(message(&e).contains("'nope'"), "{}", message(&e));
    let e = put(with_fields(&[&fx.text]), &fx.d).await.unwrap_err();
    assert!(message(&e).contains("deleted"), "{}", message(&e));
    let off = EventBridgeConfiguration::builder()
        .enabled(false)
        .build()
        .unwrap();
    let e = put(off, "missing").await.unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    assert_eq!(error_body(&e)["resourceType"], "Domain");
    let e =
        fx.c.get_case_event_configuration()
            .domain_id("missing")
            .send()
            .await
            .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    assert_eq!(error_body(&e)["resourceType"], "Domain");
}
