//! Fields, field options, templates and layouts through the Rust SDK.

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::config::http::HttpResponse;
use aws_sdk_connectcases::error::SdkError;
use aws_sdk_connectcases::types::{
    BasicLayout, FieldAttributes, FieldGroup, FieldItem, FieldNamespace, FieldOption, FieldType,
    LayoutConfiguration, LayoutContent, LayoutSections, RequiredField, Section,
    TagPropagationConfiguration, TagPropagationResourceType, TemplateRule, TemplateStatus,
    TextAttributes,
};
use caseload_sdk_tests::{Server, TempDir, error_body, error_code, ident, message};

/// The ids every domain starts with (DESIGN.md §2).
const SYSTEM_FIELDS: &[&str] = &[
    "title",
    "status",
    "summary",
    "case_reason",
    "customer_id",
    "reference_number",
    "assigned_queue",
    "assigned_user",
    "case_id",
    "created_datetime",
    "last_updated_datetime",
    "last_closed_datetime",
    "last_reopened_datetime",
    "next_sla_breach_datetime",
    "last_updated_user",
];

async fn domain(c: &Client) -> String {
    c.create_domain()
        .name("schema")
        .send()
        .await
        .unwrap()
        .domain_id()
        .to_owned()
}

async fn field(c: &Client, d: &str, name: &str, t: FieldType) -> String {
    c.create_field()
        .domain_id(d)
        .name(name)
        .r#type(t)
        .send()
        .await
        .unwrap()
        .field_id()
        .to_owned()
}

fn option(value: &str, name: &str, active: bool) -> FieldOption {
    FieldOption::builder()
        .value(value)
        .name(name)
        .active(active)
        .build()
        .unwrap()
}

fn required(id: &str) -> RequiredField {
    RequiredField::builder().field_id(id).build().unwrap()
}

fn group(ids: &[&str]) -> LayoutSections {
    let items = ids
        .iter()
        .map(|id| FieldItem::builder().id(*id).build().unwrap())
        .collect();
    let g = FieldGroup::builder().name("group").set_fields(Some(items));
    LayoutSections::builder()
        .sections(Section::FieldGroup(g.build().unwrap()))
        .build()
}

fn layout(top: &[&str], more: &[&str]) -> LayoutContent {
    LayoutContent::Basic(
        BasicLayout::builder()
            .top_panel(group(top))
            .more_info(group(more))
            .build(),
    )
}

/// The field ids of a layout's panels, in order.
fn layout_fields(content: &LayoutContent) -> Vec<String> {
    let LayoutContent::Basic(b) = content else {
        panic!("not a basic layout: {content:?}")
    };
    [b.top_panel(), b.more_info()]
        .into_iter()
        .flatten()
        .flat_map(|p| p.sections())
        .flat_map(|s| match s {
            Section::FieldGroup(g) => g
                .fields()
                .iter()
                .map(|f| f.id().to_owned())
                .collect::<Vec<_>>(),
            _ => vec![],
        })
        .collect()
}

/// Asserts a ResourceNotFoundException naming `id` of `resource_type`.
fn assert_not_found<E>(e: &SdkError<E, HttpResponse>, resource_type: &str, id: &str)
where
    E: aws_sdk_connectcases::error::ProvideErrorMetadata + std::fmt::Debug,
{
    assert_eq!(error_code(e), "ResourceNotFoundException");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 404);
    let b = error_body(e);
    assert_eq!(b["resourceType"], resource_type, "{b}");
    assert_eq!(b["resourceId"], id, "{b}");
}

#[tokio::test]
async fn system_fields_exist_in_every_domain() {
    let server = Server::start();
    let c = server.client();
    let d = domain(&c).await;
    let listed = c.list_fields().domain_id(&d).send().await.unwrap();
    assert_eq!(listed.fields().len(), SYSTEM_FIELDS.len());
    assert!(listed.next_token().is_none());
    for f in listed.fields() {
        assert!(SYSTEM_FIELDS.contains(&f.field_id()), "{}", f.field_id());
        assert_eq!(f.namespace(), &FieldNamespace::System);
        assert_eq!(
            f.field_arn(),
            format!(
                "arn:aws:cases:us-east-1:000000000000:domain/{d}/field/{}",
                f.field_id()
            )
        );
    }
    let got = c
        .batch_get_field()
        .domain_id(&d)
        .fields(ident("status"))
        .fields(ident("title"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.fields()[0].r#type(), &FieldType::SingleSelect);
    assert_eq!(got.fields()[1].r#type(), &FieldType::Text);
    let options = c
        .list_field_options()
        .domain_id(&d)
        .field_id("status")
        .send()
        .await
        .unwrap();
    let values: Vec<_> = options.options().iter().map(|o| o.value()).collect();
    assert_eq!(values, ["open", "closed"]);
    assert!(options.options().iter().all(|o| o.active()));
}

#[tokio::test]
async fn custom_fields_create_update_and_batch_get() {
    let server = Server::start();
    let c = server.client();
    let d = domain(&c).await;
    let multiline = FieldAttributes::Text(
        TextAttributes::builder()
            .is_multiline(true)
            .build()
            .unwrap(),
    );
    let created = c
        .create_field()
        .domain_id(&d)
        .name("Notes")
        .r#type(FieldType::Text)
        .description("free text")
        .attributes(multiline.clone())
        .send()
        .await
        .unwrap();
    let id = created.field_id().to_owned();
    assert_eq!(
        created.field_arn(),
        format!("arn:aws:cases:us-east-1:000000000000:domain/{d}/field/{id}")
    );

    let got = c
        .batch_get_field()
        .domain_id(&d)
        .fields(ident(&id))
        .send()
        .await
        .unwrap();
    assert!(got.errors().is_empty());
    let f = &got.fields()[0];
    assert_eq!(
        (f.name(), f.description(), f.r#type()),
        ("Notes", Some("free text"), &FieldType::Text)
    );
    assert_eq!(f.namespace(), &FieldNamespace::Custom);
    assert_eq!(f.attributes(), Some(&multiline));
    assert!(!f.deleted());
    let created_time = *f.created_time().unwrap();
    assert_eq!(f.last_modified_time(), Some(&created_time));

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let single = FieldAttributes::Text(
        TextAttributes::builder()
            .is_multiline(false)
            .build()
            .unwrap(),
    );
    c.update_field()
        .domain_id(&d)
        .field_id(&id)
        .name("Agent notes")
        .description("changed")
        .attributes(single.clone())
        .send()
        .await
        .unwrap();
    // Members left out keep their value.
    c.update_field()
        .domain_id(&d)
        .field_id(&id)
        .description("again")
        .send()
        .await
        .unwrap();
    let got = c
        .batch_get_field()
        .domain_id(&d)
        .fields(ident(&id))
        .send()
        .await
        .unwrap();
    let f = &got.fields()[0];
    assert_eq!((f.name(), f.description()), ("Agent notes", Some("again")));
    assert_eq!(f.attributes(), Some(&single));
    assert_eq!(f.created_time(), Some(&created_time));
    assert!(f.last_modified_time().unwrap().as_nanos() > created_time.as_nanos());

    // Every type of the model can be created.
    for (i, t) in [
        FieldType::Number,
        FieldType::Boolean,
        FieldType::DateTime,
        FieldType::SingleSelect,
        FieldType::Url,
        FieldType::User,
    ]
    .into_iter()
    .enumerate()
    {
        let fid = field(&c, &d, &format!("typed {i}"), t.clone()).await;
        let got = c
            .batch_get_field()
            .domain_id(&d)
            .fields(ident(&fid))
            .send()
            .await
            .unwrap();
        assert_eq!(got.fields()[0].r#type(), &t);
    }

    // Unknown ids go to `errors`; the known ones still come back, in order.
    let got = c
        .batch_get_field()
        .domain_id(&d)
        .fields(ident("nope"))
        .fields(ident(&id))
        .fields(ident("summary"))
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = got.fields().iter().map(|f| f.field_id()).collect();
    assert_eq!(ids, [id.as_str(), "summary"]);
    assert_eq!(got.errors().len(), 1);
    assert_eq!(got.errors()[0].id(), "nope");
    assert_eq!(got.errors()[0].error_code(), "ResourceNotFoundException");
    assert_eq!(
        got.errors()[0].message(),
        Some("Field nope could not be found")
    );
}

#[tokio::test]
async fn field_rules_are_enforced() {
    let server = Server::start();
    let c = server.client();
    let d = domain(&c).await;
    let a = field(&c, &d, "A", FieldType::Text).await;
    field(&c, &d, "B", FieldType::Number).await;

    // Names are unique per domain, on create and on rename; system names too.
    let e = c
        .create_field()
        .domain_id(&d)
        .name("A")
        .r#type(FieldType::Number)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ConflictException");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 409);
    let e = c
        .create_field()
        .domain_id(&d)
        .name("Title")
        .r#type(FieldType::Text)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ConflictException");
    let e = c
        .update_field()
        .domain_id(&d)
        .field_id(&a)
        .name("B")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ConflictException");

    // Text attributes belong to Text fields.
    let text = FieldAttributes::Text(
        TextAttributes::builder()
            .is_multiline(true)
            .build()
            .unwrap(),
    );
    let e = c
        .create_field()
        .domain_id(&d)
        .name("C")
        .r#type(FieldType::Number)
        .attributes(text.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(message(&e).contains("attributes.text"), "{}", message(&e));

    // System fields cannot be deleted or changed.
    for id in ["title", "status", "case_id"] {
        let e = c
            .delete_field()
            .domain_id(&d)
            .field_id(id)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&e), "ValidationException", "{id}");
        assert!(message(&e).contains(id), "{}", message(&e));
    }
    let e = c
        .update_field()
        .domain_id(&d)
        .field_id("summary")
        .name("Synopsis")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");

    // Model constraints are checked before the service sees the request.
    let e = c
        .create_field()
        .domain_id(&d)
        .name("x".repeat(101))
        .r#type(FieldType::Text)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    let e = c
        .create_field()
        .domain_id(&d)
        .name("trailing ")
        .r#type(FieldType::Text)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
}

#[tokio::test]
async fn deleted_fields_are_soft_deleted() {
    let server = Server::start();
    let c = server.client();
    let d = domain(&c).await;
    let f = field(&c, &d, "Region", FieldType::SingleSelect).await;
    let keep = field(&c, &d, "Keep", FieldType::Text).await;
    c.batch_put_field_options()
        .domain_id(&d)
        .field_id(&f)
        .options(option("pdx", "Oregon", true))
        .send()
        .await
        .unwrap();
    let t = c
        .create_template()
        .domain_id(&d)
        .name("T")
        .required_fields(required(&f))
        .required_fields(required(&keep))
        .send()
        .await
        .unwrap()
        .template_id()
        .to_owned();
    let l = c
        .create_layout()
        .domain_id(&d)
        .name("L")
        .content(layout(&[&f], &[&keep, "summary"]))
        .send()
        .await
        .unwrap()
        .layout_id()
        .to_owned();

    c.delete_field()
        .domain_id(&d)
        .field_id(&f)
        .send()
        .await
        .unwrap();
    // Deleting again changes nothing.
    c.delete_field()
        .domain_id(&d)
        .field_id(&f)
        .send()
        .await
        .unwrap();

    let listed = c.list_fields().domain_id(&d).send().await.unwrap();
    assert!(listed.fields().iter().all(|x| x.field_id() != f));
    assert_eq!(listed.fields().len(), SYSTEM_FIELDS.len() + 1);
    let got = c
        .batch_get_field()
        .domain_id(&d)
        .fields(ident(&f))
        .send()
        .await
        .unwrap();
    assert!(got.fields()[0].deleted());
    assert_eq!(got.fields()[0].name(), "Region");

    let e = c
        .update_field()
        .domain_id(&d)
        .field_id(&f)
        .name("Other")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    let e = c
        .batch_put_field_options()
        .domain_id(&d)
        .field_id(&f)
        .options(option("sea", "Seattle", true))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    // Its options can still be read.
    let options = c
        .list_field_options()
        .domain_id(&d)
        .field_id(&f)
        .send()
        .await
        .unwrap();
    assert_eq!(options.options().len(), 1);

    // Templates and layouts no longer show it.
    let got = c
        .get_template()
        .domain_id(&d)
        .template_id(&t)
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = got.required_fields().iter().map(|r| r.field_id()).collect();
    assert_eq!(ids, [keep.as_str()]);
    let got = c
        .get_layout()
        .domain_id(&d)
        .layout_id(&l)
        .send()
        .await
        .unwrap();
    assert_eq!(
        layout_fields(got.content().unwrap()),
        [keep.as_str(), "summary"]
    );

    // It cannot be referenced again, and its name is free.
    let e = c
        .create_template()
        .domain_id(&d)
        .name("T2")
        .required_fields(required(&f))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(message(&e).contains(&f), "{}", message(&e));
    let e = c
        .create_layout()
        .domain_id(&d)
        .name("L2")
        .content(layout(&[&f], &[]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    let again = field(&c, &d, "Region", FieldType::Text).await;
    assert_ne!(again, f);

    // Tags of a deleted field are gone with it.
    let arn = format!("arn:aws:cases:us-east-1:000000000000:domain/{d}/field/{f}");
    let e = c
        .list_tags_for_resource()
        .arn(arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn field_options_are_put_by_value_and_listed_in_pages() {
    let server = Server::start();
    let c = server.client();
    let d = domain(&c).await;
    let f = field(&c, &d, "Region", FieldType::SingleSelect).await;
    let put = c
        .batch_put_field_options()
        .domain_id(&d)
        .field_id(&f)
        .options(option("pdx", "Oregon", true))
        .options(option("iad", "Virginia", true))
        .options(option("dub", "Ireland", true))
        .options(option("fra", "Frankfurt", false))
        .options(option("nrt", "Tokyo", true))
        .send()
        .await
        .unwrap();
    assert!(put.errors().is_empty());

    // Update by value: rename one, deactivate another, add one; a value twice is refused alone.
    let put = c
        .batch_put_field_options()
        .domain_id(&d)
        .field_id(&f)
        .options(option("pdx", "US West (Oregon)", true))
        .options(option("iad", "Virginia", false))
        .options(option("syd", "Sydney", true))
        .options(option("syd", "Sydney again", true))
        .send()
        .await
        .unwrap();
    assert_eq!(put.errors().len(), 1);
    assert_eq!(put.errors()[0].value(), "syd");
    assert_eq!(put.errors()[0].error_code(), "ValidationException");

    let all = c
        .list_field_options()
        .domain_id(&d)
        .field_id(&f)
        .send()
        .await
        .unwrap();
    let got: Vec<_> = all
        .options()
        .iter()
        .map(|o| (o.value(), o.name(), o.active()))
        .collect();
    assert_eq!(
        got,
        [
            ("pdx", "US West (Oregon)", true),
            ("iad", "Virginia", false),
            ("dub", "Ireland", true),
            ("fra", "Frankfurt", false),
            ("nrt", "Tokyo", true),
            ("syd", "Sydney", true),
        ]
    );
    assert!(all.next_token().is_none());

    // Pages of 4: every option once, in order.
    let mut seen = vec![];
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = c
            .list_field_options()
            .domain_id(&d)
            .field_id(&f)
            .max_results(4)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        seen.extend(page.options().iter().map(|o| o.value().to_owned()));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen, ["pdx", "iad", "dub", "fra", "nrt", "syd"]);

    // Filter by value.
    let one = c
        .list_field_options()
        .domain_id(&d)
        .field_id(&f)
        .values("fra")
        .send()
        .await
        .unwrap();
    assert_eq!(one.options().len(), 1);
    assert_eq!(one.options()[0].name(), "Frankfurt");
    let none = c
        .list_field_options()
        .domain_id(&d)
        .field_id(&f)
        .values("zzz")
        .send()
        .await
        .unwrap();
    assert!(none.options().is_empty());
    let e = c
        .list_field_options()
        .domain_id(&d)
        .field_id(&f)
        .values("a")
        .values("b")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");

    // A token from another query is refused.
    let first = c
        .list_field_options()
        .domain_id(&d)
        .field_id(&f)
        .max_results(2)
        .send()
        .await
        .unwrap();
    let e = c
        .list_field_options()
        .domain_id(&d)
        .field_id("status")
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");

    // Only SingleSelect fields have options.
    let text = field(&c, &d, "Text", FieldType::Text).await;
    let e = c
        .batch_put_field_options()
        .domain_id(&d)
        .field_id(&text)
        .options(option("a", "A", true))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(message(&e).contains("SingleSelect"), "{}", message(&e));
    // More than 50 in one call is a model violation.
    let mut too_many = c.batch_put_field_options().domain_id(&d).field_id(&f);
    for i in 0..51 {
        too_many = too_many.options(option(&format!("v{i}"), "n", true));
    }
    assert_eq!(
        error_code(&too_many.send().await.unwrap_err()),
        "ValidationException"
    );
}

#[tokio::test]
async fn system_single_selects_take_new_options() {
    let server = Server::start();
    let c = server.client();
    let d = domain(&c).await;
    let put = c
        .batch_put_field_options()
        .domain_id(&d)
        .field_id("status")
        .options(option("pending", "Pending", true))
        .options(option("open", "open", true))
        .options(option("closed", "Done", true))
        .options(option("open", "open", false))
        .send()
        .await
        .unwrap();
    // `open` and `closed` cannot be renamed or deactivated; re-putting them unchanged is fine.
    let refused: Vec<_> = put.errors().iter().map(|e| e.value()).collect();
    assert_eq!(refused, ["closed", "open"]);
    let values: Vec<_> = c
        .list_field_options()
        .domain_id(&d)
        .field_id("status")
        .send()
        .await
        .unwrap()
        .options()
        .iter()
        .map(|o| (o.value().to_owned(), o.name().to_owned(), o.active()))
        .collect();
    assert_eq!(
        values,
        [
            ("open".into(), "open".into(), true),
            ("closed".into(), "closed".into(), true),
            ("pending".into(), "Pending".into(), true)
        ]
    );

    let put = c
        .batch_put_field_options()
        .domain_id(&d)
        .field_id("case_reason")
        .options(option("billing", "Billing", true))
        .send()
        .await
        .unwrap();
    assert!(put.errors().is_empty());
    let reasons = c
        .list_field_options()
        .domain_id(&d)
        .field_id("case_reason")
        .send()
        .await
        .unwrap();
    assert_eq!(reasons.options()[0].value(), "billing");
}

#[tokio::test]
async fn templates_create_get_update_list_delete() {
    let server = Server::start();
    let c = server.client();
    let d = domain(&c).await;
    let f = field(&c, &d, "Order", FieldType::Text).await;
    let l = c
        .create_layout()
        .domain_id(&d)
        .name("L")
        .content(layout(&[&f], &[]))
        .send()
        .await
        .unwrap()
        .layout_id()
        .to_owned();
    let propagate = TagPropagationConfiguration::builder()
        .resource_type(TagPropagationResourceType::Cases)
        .tag_map("team", "blue")
        .build()
        .unwrap();
    let created = c
        .create_template()
        .domain_id(&d)
        .name("Returns")
        .description("product returns")
        .required_fields(required("customer_id"))
        .required_fields(required(&f))
        .layout_configuration(LayoutConfiguration::builder().default_layout(&l).build())
        .tag_propagation_configurations(propagate.clone())
        .send()
        .await
        .unwrap();
    let t = created.template_id().to_owned();
    assert_eq!(
        created.template_arn(),
        format!("arn:aws:cases:us-east-1:000000000000:domain/{d}/template/{t}")
    );

    let got = c
        .get_template()
        .domain_id(&d)
        .template_id(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(got.name(), "Returns");
    assert_eq!(got.description(), Some("product returns"));
    assert_eq!(got.status(), &TemplateStatus::Active, "Active by default");
    let req: Vec<_> = got.required_fields().iter().map(|r| r.field_id()).collect();
    assert_eq!(req, ["customer_id", f.as_str()]);
    assert_eq!(
        got.layout_configuration().and_then(|l| l.default_layout()),
        Some(l.as_str())
    );
    assert_eq!(
        got.tag_propagation_configurations(),
        std::slice::from_ref(&propagate)
    );
    assert!(!got.deleted());
    assert!(got.created_time().is_some() && got.last_modified_time().is_some());
    assert!(got.tags().unwrap().is_empty());

    // Partial update: only the members given change.
    c.update_template()
        .domain_id(&d)
        .template_id(&t)
        .status(TemplateStatus::Inactive)
        .send()
        .await
        .unwrap();
    let got = c
        .get_template()
        .domain_id(&d)
        .template_id(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), &TemplateStatus::Inactive);
    assert_eq!(got.name(), "Returns");
    assert_eq!(got.required_fields().len(), 2);
    c.update_template()
        .domain_id(&d)
        .template_id(&t)
        .name("Refunds")
        .required_fields(required("summary"))
        .send()
        .await
        .unwrap();
    let got = c
        .get_template()
        .domain_id(&d)
        .template_id(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(got.name(), "Refunds");
    assert_eq!(
        got.required_fields()
            .iter()
            .map(|r| r.field_id())
            .collect::<Vec<_>>(),
        ["summary"]
    );
    assert_eq!(got.description(), Some("product returns"));
    let e = c
        .update_template()
        .domain_id(&d)
        .template_id(&t)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_code(&e),
        "ValidationException",
        "an update must change something"
    );

    let active = c
        .create_template()
        .domain_id(&d)
        .name("Active one")
        .send()
        .await
        .unwrap()
        .template_id()
        .to_owned();
    let listed = c.list_templates().domain_id(&d).send().await.unwrap();
    assert_eq!(listed.templates().len(), 2);
    let only_active = c
        .list_templates()
        .domain_id(&d)
        .status(TemplateStatus::Active)
        .send()
        .await
        .unwrap();
    assert_eq!(
        only_active
            .templates()
            .iter()
            .map(|t| t.template_id())
            .collect::<Vec<_>>(),
        [active.as_str()]
    );
    let inactive = c
        .list_templates()
        .domain_id(&d)
        .status(TemplateStatus::Inactive)
        .send()
        .await
        .unwrap();
    assert_eq!(inactive.templates()[0].name(), "Refunds");
    assert_eq!(
        inactive.templates()[0].tag_propagation_configurations(),
        [propagate]
    );
    let both = c
        .list_templates()
        .domain_id(&d)
        .status(TemplateStatus::Inactive)
        .status(TemplateStatus::Active)
        .send()
        .await
        .unwrap();
    assert_eq!(both.templates().len(), 2);

    // Soft delete: still readable, flagged; not listed; not updatable; the name is free again.
    c.delete_template()
        .domain_id(&d)
        .template_id(&t)
        .send()
        .await
        .unwrap();
    let got = c
        .get_template()
        .domain_id(&d)
        .template_id(&t)
        .send()
        .await
        .unwrap();
    assert!(got.deleted());
    let listed = c.list_templates().domain_id(&d).send().await.unwrap();
    assert_eq!(listed.templates().len(), 1);
    let e = c
        .update_template()
        .domain_id(&d)
        .template_id(&t)
        .name("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    c.create_template()
        .domain_id(&d)
        .name("Refunds")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn template_references_are_checked() {
    let server = Server::start();
    let c = server.client();
    let d = domain(&c).await;
    c.create_template()
        .domain_id(&d)
        .name("T")
        .send()
        .await
        .unwrap();
    let e = c
        .create_template()
        .domain_id(&d)
        .name("T")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ConflictException");

    let e = c
        .create_template()
        .domain_id(&d)
        .name("U")
        .required_fields(required("no-such-field"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(
        message(&e).contains("requiredFields") && message(&e).contains("no-such-field"),
        "{}",
        message(&e)
    );
    let e = c
        .create_template()
        .domain_id(&d)
        .name("U")
        .required_fields(required("summary"))
        .required_fields(required("summary"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    let e = c
        .create_template()
        .domain_id(&d)
        .name("U")
        .layout_configuration(
            LayoutConfiguration::builder()
                .default_layout("no-such-layout")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(message(&e).contains("defaultLayout"), "{}", message(&e));
    let e = c
        .create_template()
        .domain_id(&d)
        .name("U")
        .rules(
            TemplateRule::builder()
                .case_rule_id("no-such-rule")
                .field_id("summary")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    let reserved = TagPropagationConfiguration::builder()
        .resource_type(TagPropagationResourceType::Cases)
        .tag_map("aws:team", "x")
        .build()
        .unwrap();
    let e = c
        .create_template()
        .domain_id(&d)
        .name("U")
        .tag_propagation_configurations(reserved)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    // Nothing was created by the refused calls.
    assert_eq!(
        c.list_templates()
            .domain_id(&d)
            .send()
            .await
            .unwrap()
            .templates()
            .len(),
        1
    );

    // A deleted layout cannot become a default layout.
    let l = c
        .create_layout()
        .domain_id(&d)
        .name("L")
        .content(layout(&["summary"], &[]))
        .send()
        .await
        .unwrap()
        .layout_id()
        .to_owned();
    c.delete_layout()
        .domain_id(&d)
        .layout_id(&l)
        .send()
        .await
        .unwrap();
    let e = c
        .create_template()
        .domain_id(&d)
        .name("U")
        .layout_configuration(LayoutConfiguration::builder().default_layout(&l).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
}

#[tokio::test]
async fn layouts_create_get_update_list_delete() {
    let server = Server::start();
    let c = server.client();
    let d = domain(&c).await;
    let f = field(&c, &d, "Order", FieldType::Text).await;
    let created = c
        .create_layout()
        .domain_id(&d)
        .name("Main")
        .content(layout(&["summary", &f], &["customer_id"]))
        .send()
        .await
        .unwrap();
    let l = created.layout_id().to_owned();
    assert_eq!(
        created.layout_arn(),
        format!("arn:aws:cases:us-east-1:000000000000:domain/{d}/layout/{l}")
    );
    let got = c
        .get_layout()
        .domain_id(&d)
        .layout_id(&l)
        .send()
        .await
        .unwrap();
    assert_eq!(got.name(), "Main");
    assert_eq!(
        layout_fields(got.content().unwrap()),
        ["summary", f.as_str(), "customer_id"]
    );
    assert!(!got.deleted());
    assert!(got.created_time().is_some() && got.last_modified_time().is_some());

    c.update_layout()
        .domain_id(&d)
        .layout_id(&l)
        .name("Renamed")
        .send()
        .await
        .unwrap();
    let got = c
        .get_layout()
        .domain_id(&d)
        .layout_id(&l)
        .send()
        .await
        .unwrap();
    assert_eq!(got.name(), "Renamed");
    assert_eq!(
        layout_fields(got.content().unwrap()).len(),
        3,
        "content kept"
    );
    c.update_layout()
        .domain_id(&d)
        .layout_id(&l)
        .content(layout(&[&f], &[]))
        .send()
        .await
        .unwrap();
    let got = c
        .get_layout()
        .domain_id(&d)
        .layout_id(&l)
        .send()
        .await
        .unwrap();
    assert_eq!(layout_fields(got.content().unwrap()), [f.as_str()]);
    assert_eq!(got.name(), "Renamed");

    // Rules of the content.
    for bad in ["title", "status", "no-such-field"] {
        let e = c
            .create_layout()
            .domain_id(&d)
            .name("Bad")
            .content(layout(&[bad], &[]))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&e), "ValidationException", "{bad}");
        assert!(message(&e).contains(bad), "{}", message(&e));
        let e = c
            .update_layout()
            .domain_id(&d)
            .layout_id(&l)
            .content(layout(&[], &[bad]))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&e), "ValidationException", "{bad}");
    }
    let e = c
        .create_layout()
        .domain_id(&d)
        .name("Bad")
        .content(layout(&["summary"], &["summary"]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");

    let other = c
        .create_layout()
        .domain_id(&d)
        .name("Other")
        .content(layout(&[], &[]))
        .send()
        .await
        .unwrap()
        .layout_id()
        .to_owned();
    let e = c
        .create_layout()
        .domain_id(&d)
        .name("Other")
        .content(layout(&[], &[]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ConflictException");
    let e = c
        .update_layout()
        .domain_id(&d)
        .layout_id(&other)
        .name("Renamed")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ConflictException");
    let listed = c.list_layouts().domain_id(&d).send().await.unwrap();
    assert_eq!(listed.layouts().len(), 2);

    c.delete_layout()
        .domain_id(&d)
        .layout_id(&l)
        .send()
        .await
        .unwrap();
    let got = c
        .get_layout()
        .domain_id(&d)
        .layout_id(&l)
        .send()
        .await
        .unwrap();
    assert!(got.deleted());
    let listed = c.list_layouts().domain_id(&d).send().await.unwrap();
    assert_eq!(
        listed
            .layouts()
            .iter()
            .map(|l| l.layout_id())
            .collect::<Vec<_>>(),
        [other.as_str()]
    );
    let e = c
        .update_layout()
        .domain_id(&d)
        .layout_id(&l)
        .name("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
}

#[tokio::test]
async fn a_layout_holds_at_most_100_fields() {
    let server = Server::start();
    let c = server.client();
    let d = domain(&c).await;
    // 13 placeable system fields (all but title and status) + 88 custom = 101.
    let mut ids: Vec<String> = SYSTEM_FIELDS
        .iter()
        .filter(|f| !["title", "status"].contains(f))
        .map(|f| f.to_string())
        .collect();
    for i in 0..88 {
        ids.push(field(&c, &d, &format!("f{i}"), FieldType::Text).await);
    }
    let all: Vec<&str> = ids.iter().map(String::as_str).collect();
    let e = c
        .create_layout()
        .domain_id(&d)
        .name("Big")
        .content(layout(&all[..50], &all[50..]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ServiceQuotaExceededException");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 402);
    c.create_layout()
        .domain_id(&d)
        .name("Big")
        .content(layout(&all[..50], &all[50..100]))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn missing_resources_are_not_found_with_id_and_type() {
    let server = Server::start();
    let c = server.client();
    let nd = "no-such-domain";
    assert_not_found(
        &c.create_field()
            .domain_id(nd)
            .name("x")
            .r#type(FieldType::Text)
            .send()
            .await
            .unwrap_err(),
        "Domain",
        nd,
    );
    assert_not_found(
        &c.list_fields().domain_id(nd).send().await.unwrap_err(),
        "Domain",
        nd,
    );
    assert_not_found(
        &c.batch_get_field()
            .domain_id(nd)
            .fields(ident("title"))
            .send()
            .await
            .unwrap_err(),
        "Domain",
        nd,
    );
    assert_not_found(
        &c.create_template()
            .domain_id(nd)
            .name("x")
            .send()
            .await
            .unwrap_err(),
        "Domain",
        nd,
    );
    assert_not_found(
        &c.list_templates().domain_id(nd).send().await.unwrap_err(),
        "Domain",
        nd,
    );
    assert_not_found(
        &c.create_layout()
            .domain_id(nd)
            .name("x")
            .content(layout(&[], &[]))
            .send()
            .await
            .unwrap_err(),
        "Domain",
        nd,
    );
    assert_not_found(
        &c.list_layouts().domain_id(nd).send().await.unwrap_err(),
        "Domain",
        nd,
    );
    assert_not_found(
        &c.get_template()
            .domain_id(nd)
            .template_id("t")
            .send()
            .await
            .unwrap_err(),
        "Domain",
        nd,
    );

    let d = domain(&c).await;
    let nf = "no-such-field";
    assert_not_found(
        &c.update_field()
            .domain_id(&d)
            .field_id(nf)
            .name("x")
            .send()
            .await
            .unwrap_err(),
        "Field",
        nf,
    );
    assert_not_found(
        &c.delete_field()
            .domain_id(&d)
            .field_id(nf)
            .send()
            .await
            .unwrap_err(),
        "Field",
        nf,
    );
    assert_not_found(
        &c.batch_put_field_options()
            .domain_id(&d)
            .field_id(nf)
            .options(option("a", "A", true))
            .send()
            .await
            .unwrap_err(),
        "Field",
        nf,
    );
    assert_not_found(
        &c.list_field_options()
            .domain_id(&d)
            .field_id(nf)
            .send()
            .await
            .unwrap_err(),
        "Field",
        nf,
    );
    let nt = "no-such-template";
    assert_not_found(
        &c.get_template()
            .domain_id(&d)
            .template_id(nt)
            .send()
            .await
            .unwrap_err(),
        "Template",
        nt,
    );
    assert_not_found(
        &c.update_template()
            .domain_id(&d)
            .template_id(nt)
            .name("x")
            .send()
            .await
            .unwrap_err(),
        "Template",
        nt,
    );
    assert_not_found(
        &c.delete_template()
            .domain_id(&d)
            .template_id(nt)
            .send()
            .await
            .unwrap_err(),
        "Template",
        nt,
    );
    let nl = "no-such-layout";
    assert_not_found(
        &c.get_layout()
            .domain_id(&d)
            .layout_id(nl)
            .send()
            .await
            .unwrap_err(),
        "Layout",
        nl,
    );
    assert_not_found(
        &c.update_layout()
            .domain_id(&d)
            .layout_id(nl)
            .name("x")
            .send()
            .await
            .unwrap_err(),
        "Layout",
        nl,
    );
    assert_not_found(
        &c.delete_layout()
            .domain_id(&d)
            .layout_id(nl)
            .send()
            .await
            .unwrap_err(),
        "Layout",
        nl,
    );
}

#[tokio::test]
async fn quotas_answer_402() {
    let server = Server::start_with(&[
        "--max-fields",
        "2",
        "--max-templates",
        "1",
        "--max-layouts",
        "1",
        "--max-field-options",
        "3",
    ]);
    let c = server.client();
    let d = domain(&c).await;
    let a = field(&c, &d, "A", FieldType::SingleSelect).await;
    field(&c, &d, "B", FieldType::Text).await;
    let e = c
        .create_field()
        .domain_id(&d)
        .name("C")
        .r#type(FieldType::Text)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ServiceQuotaExceededException");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 402);
    // Deleting a field frees its place.
    c.delete_field()
        .domain_id(&d)
        .field_id(&a)
        .send()
        .await
        .unwrap();
    let a = field(&c, &d, "C", FieldType::SingleSelect).await;

    c.batch_put_field_options()
        .domain_id(&d)
        .field_id(&a)
        .options(option("1", "one", true))
        .options(option("2", "two", true))
        .send()
        .await
        .unwrap();
    // Two more would make 4: the whole batch is refused, nothing is added.
    let e = c
        .batch_put_field_options()
        .domain_id(&d)
        .field_id(&a)
        .options(option("1", "uno", true))
        .options(option("3", "three", true))
        .options(option("4", "four", true))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ServiceQuotaExceededException");
    let options = c
        .list_field_options()
        .domain_id(&d)
        .field_id(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(
        options
            .options()
            .iter()
            .map(|o| o.name())
            .collect::<Vec<_>>(),
        ["one", "two"]
    );
    c.batch_put_field_options()
        .domain_id(&d)
        .field_id(&a)
        .options(option("1", "uno", true))
        .options(option("3", "three", true))
        .send()
        .await
        .unwrap();

    let t = c
        .create_template()
        .domain_id(&d)
        .name("T")
        .send()
        .await
        .unwrap()
        .template_id()
        .to_owned();
    let e = c
        .create_template()
        .domain_id(&d)
        .name("T2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ServiceQuotaExceededException");
    c.delete_template()
        .domain_id(&d)
        .template_id(&t)
        .send()
        .await
        .unwrap();
    c.create_template()
        .domain_id(&d)
        .name("T2")
        .send()
        .await
        .unwrap();

    c.create_layout()
        .domain_id(&d)
        .name("L")
        .content(layout(&[], &[]))
        .send()
        .await
        .unwrap();
    let e = c
        .create_layout()
        .domain_id(&d)
        .name("L2")
        .content(layout(&[], &[]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ServiceQuotaExceededException");

    // Quotas are per domain.
    let d2 = c
        .create_domain()
        .name("second")
        .send()
        .await
        .unwrap()
        .domain_id()
        .to_owned();
    field(&c, &d2, "A", FieldType::Text).await;
}

#[tokio::test]
async fn at_most_100_fields_can_be_deleted_per_domain() {
    let server = Server::start();
    let c = server.client();
    let d = domain(&c).await;
    let mut ids = vec![];
    for i in 0..101 {
        ids.push(field(&c, &d, &format!("f{i}"), FieldType::Boolean).await);
    }
    for id in &ids[..100] {
        c.delete_field()
            .domain_id(&d)
            .field_id(id)
            .send()
            .await
            .unwrap();
    }
    let e = c
        .delete_field()
        .domain_id(&d)
        .field_id(&ids[100])
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ServiceQuotaExceededException");
    // Deleting an already deleted one is still fine.
    c.delete_field()
        .domain_id(&d)
        .field_id(&ids[0])
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn lists_page_through_everything_once() {
    let server = Server::start();
    let c = server.client();
    let d = domain(&c).await;
    for i in 0..3 {
        field(&c, &d, &format!("custom {i}"), FieldType::Text).await;
    }
    let mut fields = vec![];
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = c
            .list_fields()
            .domain_id(&d)
            .max_results(4)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.fields().len() <= 4);
        fields.extend(page.fields().iter().map(|f| f.field_id().to_owned()));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 5, "18 fields in pages of 4");
    let mut unique = fields.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), SYSTEM_FIELDS.len() + 3);
    assert_eq!(fields.len(), unique.len());

    // Templates, filtered by status across pages: 7 templates, the odd ones Inactive.
    for i in 0..7 {
        let status = if i % 2 == 1 {
            TemplateStatus::Inactive
        } else {
            TemplateStatus::Active
        };
        c.create_template()
            .domain_id(&d)
            .name(format!("t{i}"))
            .status(status)
            .send()
            .await
            .unwrap();
    }
    let mut names = vec![];
    let mut token: Option<String> = None;
    loop {
        let page = c
            .list_templates()
            .domain_id(&d)
            .status(TemplateStatus::Active)
            .max_results(2)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        assert!(
            page.templates()
                .iter()
                .all(|t| t.status() == &TemplateStatus::Active)
        );
        names.extend(page.templates().iter().map(|t| t.name().to_owned()));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    names.sort();
    assert_eq!(names, ["t0", "t2", "t4", "t6"]);
    // A token issued for one filter is refused for another.
    let page = c
        .list_templates()
        .domain_id(&d)
        .status(TemplateStatus::Active)
        .max_results(2)
        .send()
        .await
        .unwrap();
    let e = c
        .list_templates()
        .domain_id(&d)
        .max_results(2)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");

    for i in 0..5 {
        c.create_layout()
            .domain_id(&d)
            .name(format!("l{i}"))
            .content(layout(&[], &[]))
            .send()
            .await
            .unwrap();
    }
    let first = c
        .list_layouts()
        .domain_id(&d)
        .max_results(3)
        .send()
        .await
        .unwrap();
    assert_eq!(first.layouts().len(), 3);
    let second = c
        .list_layouts()
        .domain_id(&d)
        .max_results(3)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.layouts().len(), 2);
    assert!(second.next_token().is_none());
    let e = c
        .list_layouts()
        .domain_id(&d)
        .max_results(101)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
}

#[tokio::test]
async fn schema_resources_carry_tags() {
    let server = Server::start();
    let c = server.client();
    let d = domain(&c).await;
    let f = c
        .create_field()
        .domain_id(&d)
        .name("F")
        .r#type(FieldType::Text)
        .send()
        .await
        .unwrap();
    let t = c
        .create_template()
        .domain_id(&d)
        .name("T")
        .send()
        .await
        .unwrap();
    let l = c
        .create_layout()
        .domain_id(&d)
        .name("L")
        .content(layout(&[], &[]))
        .send()
        .await
        .unwrap();
    for arn in [
        f.field_arn(),
        t.template_arn(),
        l.layout_arn(),
        &format!("arn:aws:cases:us-east-1:000000000000:domain/{d}/field/summary"),
    ] {
        c.tag_resource()
            .arn(arn)
            .tags("team", Some("blue".into()))
            .send()
            .await
            .unwrap();
        let tags = c.list_tags_for_resource().arn(arn).send().await.unwrap();
        assert_eq!(
            tags.tags().unwrap().get("team"),
            Some(&Some("blue".to_owned())),
            "{arn}"
        );
    }
    let got = c
        .batch_get_field()
        .domain_id(&d)
        .fields(ident(f.field_id()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.fields()[0].tags().unwrap().get("team"),
        Some(&Some("blue".to_owned()))
    );
    let got = c
        .get_template()
        .domain_id(&d)
        .template_id(t.template_id())
        .send()
        .await
        .unwrap();
    assert_eq!(got.tags().unwrap().len(), 1);
    let got = c
        .get_layout()
        .domain_id(&d)
        .layout_id(l.layout_id())
        .send()
        .await
        .unwrap();
    assert_eq!(got.tags().unwrap().len(), 1);
    // Tagging does not lose an update, nor an update the tags.
    c.update_template()
        .domain_id(&d)
        .template_id(t.template_id())
        .description("d")
        .send()
        .await
        .unwrap();
    c.untag_resource()
        .arn(t.template_arn())
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let got = c
        .get_template()
        .domain_id(&d)
        .template_id(t.template_id())
        .send()
        .await
        .unwrap();
    assert_eq!(got.description(), Some("d"));
    assert!(got.tags().unwrap().is_empty());
}

#[tokio::test]
async fn a_restart_keeps_the_schema() {
    let dir = TempDir::new("schema-restart");
    let server = Server::start_persistent(dir.path());
    let c = server.client();
    let d = domain(&c).await;
    let f = field(&c, &d, "Region", FieldType::SingleSelect).await;
    let gone = field(&c, &d, "Gone", FieldType::Text).await;
    c.batch_put_field_options()
        .domain_id(&d)
        .field_id(&f)
        .options(option("pdx", "Oregon", true))
        .options(option("iad", "Virginia", false))
        .send()
        .await
        .unwrap();
    let l = c
        .create_layout()
        .domain_id(&d)
        .name("L")
        .content(layout(&[&f], &["summary"]))
        .send()
        .await
        .unwrap();
    let t = c
        .create_template()
        .domain_id(&d)
        .name("T")
        .status(TemplateStatus::Inactive)
        .required_fields(required(&f))
        .layout_configuration(
            LayoutConfiguration::builder()
                .default_layout(l.layout_id())
                .build(),
        )
        .send()
        .await
        .unwrap();
    c.tag_resource()
        .arn(t.template_arn())
        .tags("k", Some("v".into()))
        .send()
        .await
        .unwrap();
    c.delete_field()
        .domain_id(&d)
        .field_id(&gone)
        .send()
        .await
        .unwrap();
    server.kill();

    let server = Server::start_persistent(dir.path());
    let c = server.client();
    let fields = c.list_fields().domain_id(&d).send().await.unwrap();
    assert_eq!(fields.fields().len(), SYSTEM_FIELDS.len() + 1);
    let got = c
        .batch_get_field()
        .domain_id(&d)
        .fields(ident(&gone))
        .fields(ident(&f))
        .send()
        .await
        .unwrap();
    assert!(got.fields()[0].deleted());
    assert_eq!(got.fields()[1].name(), "Region");
    let options = c
        .list_field_options()
        .domain_id(&d)
        .field_id(&f)
        .send()
        .await
        .unwrap();
    assert_eq!(
        options
            .options()
            .iter()
            .map(|o| (o.value(), o.active()))
            .collect::<Vec<_>>(),
        [("pdx", true), ("iad", false)]
    );
    let got = c
        .get_template()
        .domain_id(&d)
        .template_id(t.template_id())
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), &TemplateStatus::Inactive);
    assert_eq!(got.required_fields()[0].field_id(), f);
    assert_eq!(
        got.layout_configuration().and_then(|l| l.default_layout()),
        Some(l.layout_id())
    );
    assert_eq!(got.tags().unwrap().get("k"), Some(&Some("v".to_owned())));
    let got = c
        .get_layout()
        .domain_id(&d)
        .layout_id(l.layout_id())
        .send()
        .await
        .unwrap();
    assert_eq!(
        layout_fields(got.content().unwrap()),
        [f.as_str(), "summary"]
    );
    // Tokens signed before the restart still work after it.
    let page = c
        .list_fields()
        .domain_id(&d)
        .max_results(5)
        .send()
        .await
        .unwrap();
    let token = page.next_token().unwrap().to_owned();
    server.kill();
    let server = Server::start_persistent(dir.path());
    let next = server
        .client()
        .list_fields()
        .domain_id(&d)
        .max_results(5)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(next.fields().len(), 5);
    assert!(server.terminate().success());
}
