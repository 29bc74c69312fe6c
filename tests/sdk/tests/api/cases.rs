//! CreateCase, GetCase, UpdateCase, DeleteCase and SearchCases through the Rust SDK.

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::types::{
    CaseFilter, FieldFilter, FieldOption, FieldType, FieldValue, FieldValueUnion, Order,
    RequiredField, Sort, TagFilter, TagPropagationConfiguration, TagPropagationResourceType,
    TagValue, TemplateStatus, UserUnion,
};
use caseload_sdk_tests::{
    AGENT, Server, TempDir, b, empty, error_code, fv, ident, message, n, s, u,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

const QUEUE: &str = "arn:aws:connect:us-east-1:000000000000:instance/i-1/queue/q-1";

/// A domain with one custom field of each type, a SingleSelect with an active and an inactive
/// option, and an Active template requiring the Number field.
struct Fixture {
    d: String,
    t: String,
    text: String,
    num: String,
    flag: String,
    when: String,
    pick: String,
    link: String,
    who: String,
}

async fn fixture(c: &Client) -> Fixture {
    // Domain names are unique per account; tests that need two domains call this twice.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "cases-{}",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let d = c
        .create_domain()
        .name(name)
        .send()
        .await
        .unwrap()
        .domain_id()
        .to_owned();
    let field = |name: &'static str, t: FieldType| {
        let d = d.clone();
        async move {
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
    };
    let text = field("Notes", FieldType::Text).await;
    let num = field("Amount", FieldType::Number).await;
    let flag = field("Urgent", FieldType::Boolean).await;
    let when = field("Due", FieldType::DateTime).await;
    let pick = field("Region", FieldType::SingleSelect).await;
    let link = field("Link", FieldType::Url).await;
    let who = field("Owner", FieldType::User).await;
    let opt = |v: &str, active| {
        FieldOption::builder()
            .name(v.to_uppercase())
            .value(v)
            .active(active)
            .build()
            .unwrap()
    };
    c.batch_put_field_options()
        .domain_id(&d)
        .field_id(&pick)
        .options(opt("pdx", true))
        .options(opt("iad", true))
        .options(opt("old", false))
        .send()
        .await
        .unwrap();
    let t = c
        .create_template()
        .domain_id(&d)
        .name("T")
        .required_fields(RequiredField::builder().field_id(&num).build().unwrap())
        .send()
        .await
        .unwrap()
        .template_id()
        .to_owned();
    Fixture {
        d,
        t,
        text,
        num,
        flag,
        when,
        pick,
        link,
        who,
    }
}

impl Fixture {
    /// Creates a case titled `title` with the required Number field and `more`.
    async fn create(&self, c: &Client, title: &str, amount: f64, more: Vec<FieldValue>) -> String {
        let mut fields = vec![fv("title", s(title)), fv(&self.num, n(amount))];
        fields.extend(more);
        c.create_case()
            .domain_id(&self.d)
            .template_id(&self.t)
            .set_fields(Some(fields))
            .send()
            .await
            .unwrap()
            .case_id()
            .to_owned()
    }
}

/// The requested fields of a case as id → value.
async fn get(c: &Client, d: &str, case: &str, ids: &[&str]) -> BTreeMap<String, FieldValueUnion> {
    let out = c
        .get_case()
        .domain_id(d)
        .case_id(case)
        .set_fields(Some(ids.iter().map(|i| ident(i)).collect()))
        .send()
        .await
        .unwrap();
    out.fields()
        .iter()
        .map(|f| (f.id().to_owned(), f.value().unwrap().clone()))
        .collect()
}

fn string(v: Option<&FieldValueUnion>) -> String {
    match v {
        Some(FieldValueUnion::StringValue(s)) => s.clone(),
        other => panic!("expected a stringValue, got {other:?}"),
    }
}

#[tokio::test]
async fn create_then_get_returns_typed_values_and_system_fields() {
    let server = Server::start();
    let c = server.client();
    let f = fixture(&c).await;
    let created = c
        .create_case()
        .domain_id(&f.d)
        .template_id(&f.t)
        .fields(fv("title", s("Printer on fire")))
        .fields(fv(&f.num, n(42.5)))
        .fields(fv(&f.flag, b(true)))
        .fields(fv(&f.when, s("2026-03-01T10:30:00+01:00")))
        .fields(fv(&f.pick, s("pdx")))
        .fields(fv(&f.link, s("https://tickets.example/42")))
        .fields(fv(&f.who, u(AGENT)))
        .fields(fv(&f.text, empty()))
        .fields(fv("assigned_queue", s(QUEUE)))
        .performed_by(UserUnion::UserArn(AGENT.into()))
        .send()
        .await
        .unwrap();
    let id = created.case_id();
    assert_eq!(
        created.case_arn(),
        format!(
            "arn:aws:cases:us-east-1:000000000000:domain/{}/case/{id}",
            f.d
        )
    );

    let ids: [&str; 18] = [
        "title",
        &f.num,
        &f.flag,
        &f.when,
        &f.pick,
        &f.link,
        &f.who,
        &f.text,
        "status",
        "case_id",
        "reference_number",
        "created_datetime",
        "last_updated_datetime",
        "last_updated_user",
        "assigned_queue",
        "summary",
        "last_closed_datetime",
        "no-such-field",
    ];
    let out = c
        .get_case()
        .domain_id(&f.d)
        .case_id(id)
        .set_fields(Some(ids.iter().map(|i| ident(i)).collect()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.template_id(), f.t);
    assert!(out.tags().unwrap().is_empty());
    assert!(out.next_token().is_none());
    // In request order; never-set (summary, last_closed_datetime) and unknown ids are left out.
    let order: Vec<&str> = out.fields().iter().map(|f| f.id()).collect();
    assert_eq!(order, &ids[..15]);
    let v: BTreeMap<_, _> = out
        .fields()
        .iter()
        .map(|f| (f.id().to_owned(), f.value().unwrap().clone()))
        .collect();
    assert_eq!(v["title"], s("Printer on fire"));
    assert_eq!(v[&f.num], n(42.5));
    assert_eq!(v[&f.flag], b(true));
    assert_eq!(
        v[&f.when],
        s("2026-03-01T09:30:00.000Z"),
        "DateTime is stored in UTC"
    );
    assert_eq!(v[&f.pick], s("pdx"));
    assert_eq!(v[&f.who], u(AGENT));
    assert_eq!(v[&f.text], empty());
    assert_eq!(v["status"], s("open"), "status defaults to open");
    assert_eq!(v["case_id"], s(id));
    let reference = string(v.get("reference_number"));
    assert!(
        reference.len() == 8 && reference.bytes().all(|c| c.is_ascii_digit()),
        "{reference}"
    );
    assert_eq!(v["created_datetime"], v["last_updated_datetime"]);
    let created_at = string(v.get("created_datetime"));
    assert!(
        created_at.ends_with('Z') && created_at.len() == 24,
        "{created_at}"
    );
    assert_eq!(v["last_updated_user"], u(AGENT));
    assert_eq!(v["assigned_queue"], s(QUEUE));

    let e = c
        .get_case()
        .domain_id(&f.d)
        .case_id("nope")
        .fields(ident("title"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    let e = c
        .get_case()
        .domain_id("nope")
        .case_id(id)
        .fields(ident("title"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    assert!(message(&e).contains("Domain"));
    let e = c
        .get_case()
        .domain_id(&f.d)
        .case_id(id)
        .fields(ident("title"))
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
}

#[tokio::test]
async fn reference_numbers_are_unique_in_a_domain() {
    let server = Server::start();
    let c = server.client();
    let f = fixture(&c).await;
    let mut seen = BTreeSet::new();
    for i in 0..20 {
        let id = f.create(&c, &format!("case {i}"), i as f64, vec![]).await;
        let v = get(&c, &f.d, &id, &["reference_number"]).await;
        assert!(seen.insert(string(v.get("reference_number"))));
    }
}

#[tokio::test]
async fn create_refuses_every_broken_rule() {
    let server = Server::start();
    let c = server.client();
    let f = fixture(&c).await;
    let base = || vec![fv("title", s("t")), fv(&f.num, n(1.0))];
    let with = |extra: FieldValue| {
        let mut v = base();
        v.push(extra);
        v
    };
    let long = "x".repeat(3001);
    let missing_num = format!("Required fields have no value: {}", f.num);
    let empty_num = format!("Field '{}' is required and cannot be empty", f.num);
    let cases: Vec<(Vec<FieldValue>, &str)> = vec![
        (
            vec![fv(&f.num, n(1.0))],
            "Required fields have no value: title",
        ),
        (
            vec![fv("title", s("  ")), fv(&f.num, n(1.0))],
            "Field 'title' is required and cannot be empty",
        ),
        (vec![fv("title", s("t"))], &missing_num),
        (vec![fv("title", s("t")), fv(&f.num, empty())], &empty_num),
        (
            with(fv("status", empty())),
            "Field 'status' is required and cannot be empty",
        ),
        (
            with(fv("nope", s("x"))),
            "Field 'nope' does not exist in this domain",
        ),
        (
            with(fv("title", s("again"))),
            "Field 'title' is listed more than once",
        ),
        (
            vec![fv("title", s("t")), fv(&f.num, s("1"))],
            "takes a doubleValue, not a stringValue",
        ),
        (
            with(fv(&f.flag, s("true"))),
            "takes a booleanValue, not a stringValue",
        ),
        (
            with(fv(&f.who, s(AGENT))),
            "takes a userArnValue, not a stringValue",
        ),
        (
            with(fv(&f.text, n(1.0))),
            "takes a stringValue, not a doubleValue",
        ),
        (
            with(fv(&f.when, s("next tuesday"))),
            "is not an ISO-8601 date-time",
        ),
        (
            with(fv(&f.when, s("2026-03-01"))),
            "is not an ISO-8601 date-time",
        ),
        (
            with(fv(&f.link, s("tickets.example/42"))),
            "is not an absolute http or https URL",
        ),
        (
            with(fv(&f.link, s("ftp://tickets.example"))),
            "is not an absolute http or https URL",
        ),
        (
            with(fv(&f.pick, s("nowhere"))),
            "'nowhere' is not an option of field",
        ),
        (
            with(fv(&f.pick, s("old"))),
            "'old' is an inactive option of field",
        ),
        (
            with(fv("status", s("archived"))),
            "'archived' is not an option of field 'status'",
        ),
        (
            with(fv("summary", s(&long))),
            "Field 'summary' is 3001 characters long; at most 3000 are allowed",
        ),
        (
            with(fv("assigned_queue", s("my-queue"))),
            "ARN of an Amazon Connect queue",
        ),
        (with(fv("assigned_user", s(AGENT))), "takes a userArnValue"),
        (
            with(fv("customer_id", s("not a profile"))),
            "Customer Profiles",
        ),
    ];
    for (fields, want) in cases {
        let e = c
            .create_case()
            .domain_id(&f.d)
            .template_id(&f.t)
            .set_fields(Some(fields.clone()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&e), "ValidationException", "{fields:?}");
        assert!(
            message(&e).contains(want),
            "{:?} does not contain {want:?}",
            message(&e)
        );
    }
    for read_only in [
        "case_id",
        "reference_number",
        "created_datetime",
        "last_updated_datetime",
        "last_closed_datetime",
        "last_reopened_datetime",
        "next_sla_breach_datetime",
        "last_updated_user",
    ] {
        let v = if read_only == "last_updated_user" {
            u(AGENT)
        } else {
            s("2026-01-01T00:00:00Z")
        };
        let e = c
            .create_case()
            .domain_id(&f.d)
            .template_id(&f.t)
            .set_fields(Some(with(fv(read_only, v))))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&e), "ValidationException");
        assert_eq!(
            message(&e),
            format!("Field '{read_only}' is maintained by the server and cannot be set")
        );
    }
    // Strings: 4,100 characters are fine (summary aside), more are not.
    let ok = c
        .create_case()
        .domain_id(&f.d)
        .template_id(&f.t)
        .set_fields(Some(with(fv(&f.text, s(&"é".repeat(4100))))))
        .send()
        .await;
    assert!(ok.is_ok(), "{ok:?}");
    let e = c
        .create_case()
        .domain_id(&f.d)
        .template_id(&f.t)
        .set_fields(Some(with(fv(&f.text, s(&"x".repeat(4101))))))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");

    // Deleted fields are named.
    c.delete_field()
        .domain_id(&f.d)
        .field_id(&f.link)
        .send()
        .await
        .unwrap();
    let e = c
        .create_case()
        .domain_id(&f.d)
        .template_id(&f.t)
        .set_fields(Some(with(fv(&f.link, s("https://x.example")))))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        message(&e),
        format!(
            "These fields have been deleted and cannot be given values: {}",
            f.link
        )
    );

    // Template and domain.
    let e = c
        .create_case()
        .domain_id(&f.d)
        .template_id("no-such-template")
        .set_fields(Some(base()))
        .send()
        .await
        .unwrap_err();
    match e.into_service_error() {
        aws_sdk_connectcases::operation::create_case::CreateCaseError::ResourceNotFoundException(nf) => {
            assert_eq!(nf.resource_type(), "Template");
            assert_eq!(nf.resource_id(), "no-such-template");
        }
        other => panic!("expected ResourceNotFoundException, got {other:?}"),
    }
    let e = c
        .create_case()
        .domain_id("no-such-domain")
        .template_id(&f.t)
        .set_fields(Some(base()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    let inactive = c
        .create_template()
        .domain_id(&f.d)
        .name("Off")
        .status(TemplateStatus::Inactive)
        .send()
        .await
        .unwrap();
    let e = c
        .create_case()
        .domain_id(&f.d)
        .template_id(inactive.template_id())
        .set_fields(Some(base()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(message(&e).contains("Inactive"), "{}", message(&e));
    let gone = c
        .create_template()
        .domain_id(&f.d)
        .name("Gone")
        .send()
        .await
        .unwrap();
    c.delete_template()
        .domain_id(&f.d)
        .template_id(gone.template_id())
        .send()
        .await
        .unwrap();
    let e = c
        .create_case()
        .domain_id(&f.d)
        .template_id(gone.template_id())
        .set_fields(Some(base()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    assert!(message(&e).contains("deleted"), "{}", message(&e));

    // Nothing above created a case except the one 4,100-character success.
    let all = c.search_cases().domain_id(&f.d).send().await.unwrap();
    assert_eq!(all.total_count(), 1);
}

#[tokio::test]
async fn tags_propagate_from_the_template_and_the_request_wins() {
    let server = Server::start();
    let c = server.client();
    let f = fixture(&c).await;
    let prop = TagPropagationConfiguration::builder()
        .resource_type(TagPropagationResourceType::Cases)
        .tag_map("team", "blue")
        .tag_map("tier", "1")
        .build()
        .unwrap();
    let t = c
        .create_template()
        .domain_id(&f.d)
        .name("Tagged")
        .tag_propagation_configurations(prop)
        .send()
        .await
        .unwrap();
    let created = c
        .create_case()
        .domain_id(&f.d)
        .template_id(t.template_id())
        .fields(fv("title", s("x")))
        .tags("tier", "2")
        .tags("vip", "yes")
        .send()
        .await
        .unwrap();
    let want: HashMap<String, Option<String>> = [("team", "blue"), ("tier", "2"), ("vip", "yes")]
        .iter()
        .map(|(k, v)| (k.to_string(), Some(v.to_string())))
        .collect();
    let got = c
        .get_case()
        .domain_id(&f.d)
        .case_id(created.case_id())
        .fields(ident("title"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.tags().unwrap(), &want);
    let listed = c
        .list_tags_for_resource()
        .arn(created.case_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.tags().unwrap(), &want);
    let e = c
        .create_case()
        .domain_id(&f.d)
        .template_id(t.template_id())
        .fields(fv("title", s("x")))
        .tags("aws:no", "x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
}

#[tokio::test]
async fn client_tokens_make_create_idempotent() {
    let server = Server::start();
    let c = server.client();
    let f = fixture(&c).await;
    let send = |token: &str, title: &str| {
        c.create_case()
            .domain_id(&f.d)
            .template_id(&f.t)
            .fields(fv("title", s(title)))
            .fields(fv(&f.num, n(1.0)))
            .client_token(token)
            .send()
    };
    let first = send("tok-1", "a").await.unwrap();
    let again = send("tok-1", "a").await.unwrap();
    assert_eq!(first.case_id(), again.case_id());
    assert_eq!(first.case_arn(), again.case_arn());
    let e = send("tok-1", "b").await.unwrap_err();
    assert_eq!(error_code(&e), "ConflictException");
    assert!(message(&e).contains("tok-1"));
    let other = send("tok-2", "a").await.unwrap();
    assert_ne!(other.case_id(), first.case_id());

    // The same token in another domain is another token.
    let g = fixture(&c).await;
    let elsewhere = c
        .create_case()
        .domain_id(&g.d)
        .template_id(&g.t)
        .fields(fv("title", s("a")))
        .fields(fv(&g.num, n(1.0)))
        .client_token("tok-1")
        .send()
        .await
        .unwrap();
    assert_ne!(elsewhere.case_id(), first.case_id());

    // A replay answers even after the template stopped accepting cases.
    c.update_template()
        .domain_id(&f.d)
        .template_id(&f.t)
        .status(TemplateStatus::Inactive)
        .send()
        .await
        .unwrap();
    assert_eq!(send("tok-1", "a").await.unwrap().case_id(), first.case_id());
    c.update_template()
        .domain_id(&f.d)
        .template_id(&f.t)
        .status(TemplateStatus::Active)
        .send()
        .await
        .unwrap();

    // Concurrent duplicates create exactly one case.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            let (d, t, num) = (f.d.clone(), f.t.clone(), f.num.clone());
            tokio::spawn(async move {
                c.create_case()
                    .domain_id(d)
                    .template_id(t)
                    .fields(fv("title", s("race")))
                    .fields(fv(&num, n(1.0)))
                    .client_token("tok-race")
                    .send()
                    .await
                    .unwrap()
                    .case_id()
                    .to_owned()
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap());
    }
    assert_eq!(ids.len(), 1);
    let total = c
        .search_cases()
        .domain_id(&f.d)
        .send()
        .await
        .unwrap()
        .total_count();
    assert_eq!(total, 3, "tok-1, tok-2 and tok-race");
}

#[tokio::test]
async fn update_changes_only_the_listed_fields_and_maintains_the_rest() {
    let server = Server::start();
    let c = server.client();
    let f = fixture(&c).await;
    let id = f
        .create(
            &c,
            "first",
            1.0,
            vec![fv(&f.text, s("keep me")), fv(&f.pick, s("pdx"))],
        )
        .await;
    let all: [&str; 8] = [
        "title",
        "status",
        &f.num,
        &f.text,
        &f.pick,
        "summary",
        "last_updated_datetime",
        "created_datetime",
    ];
    let before = get(&c, &f.d, &id, &all).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    c.update_case()
        .domain_id(&f.d)
        .case_id(&id)
        .fields(fv("title", s("second")))
        .fields(fv("summary", s("now with a summary")))
        .fields(fv(&f.pick, empty()))
        .fields(fv("assigned_queue", s(QUEUE)))
        .fields(fv("assigned_user", u(AGENT)))
        .performed_by(UserUnion::UserArn(AGENT.into()))
        .send()
        .await
        .unwrap();
    let after = get(
        &c,
        &f.d,
        &id,
        &[
            &all[..],
            &["assigned_queue", "assigned_user", "last_updated_user"],
        ]
        .concat(),
    )
    .await;
    assert_eq!(after["title"], s("second"));
    assert_eq!(after["summary"], s("now with a summary"));
    assert_eq!(
        after[&f.text],
        s("keep me"),
        "fields not listed are untouched"
    );
    assert_eq!(after[&f.num], n(1.0));
    assert_eq!(
        after[&f.pick],
        empty(),
        "a cleared field reads as emptyValue"
    );
    assert_eq!(after["assigned_queue"], s(QUEUE));
    assert_eq!(after["assigned_user"], u(AGENT));
    assert_eq!(after["last_updated_user"], u(AGENT));
    assert_eq!(after["created_datetime"], before["created_datetime"]);
    assert!(
        string(after.get("last_updated_datetime")) > string(before.get("last_updated_datetime"))
    );

    // Closing and reopening stamp their times; the closing time survives a reopen.
    c.update_case()
        .domain_id(&f.d)
        .case_id(&id)
        .fields(fv("status", s("closed")))
        .send()
        .await
        .unwrap();
    let closed = get(
        &c,
        &f.d,
        &id,
        &[
            "status",
            "last_closed_datetime",
            "last_reopened_datetime",
            "last_updated_datetime",
        ],
    )
    .await;
    assert_eq!(closed["status"], s("closed"));
    assert_eq!(
        closed["last_closed_datetime"],
        closed["last_updated_datetime"]
    );
    assert!(!closed.contains_key("last_reopened_datetime"));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    c.update_case()
        .domain_id(&f.d)
        .case_id(&id)
        .fields(fv("status", s("open")))
        .send()
        .await
        .unwrap();
    let reopened = get(
        &c,
        &f.d,
        &id,
        &[
            "status",
            "last_closed_datetime",
            "last_reopened_datetime",
            "last_updated_user",
        ],
    )
    .await;
    assert_eq!(
        reopened["last_closed_datetime"],
        closed["last_closed_datetime"]
    );
    assert!(
        string(reopened.get("last_reopened_datetime")) > string(closed.get("last_closed_datetime"))
    );
    assert_eq!(
        reopened["last_updated_user"],
        u(AGENT),
        "an update without a user keeps the last user"
    );

    // An update with no fields is still an update.
    c.update_case()
        .domain_id(&f.d)
        .case_id(&id)
        .set_fields(Some(vec![]))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn update_refuses_what_create_refuses_and_required_clears() {
    let server = Server::start();
    let c = server.client();
    let f = fixture(&c).await;
    let id = f.create(&c, "t", 1.0, vec![fv(&f.text, s("held"))]).await;
    let upd = |fields: Vec<FieldValue>| {
        c.update_case()
            .domain_id(&f.d)
            .case_id(&id)
            .set_fields(Some(fields))
            .send()
    };
    let cases: Vec<(Vec<FieldValue>, String)> = vec![
        (
            vec![fv("title", empty())],
            "Field 'title' is required and cannot be empty".into(),
        ),
        (
            vec![fv("title", s(""))],
            "Field 'title' is required and cannot be empty".into(),
        ),
        (
            vec![fv(&f.num, empty())],
            format!("Field '{}' is required and cannot be empty", f.num),
        ),
        (
            vec![fv("status", empty())],
            "Field 'status' is required and cannot be empty".into(),
        ),
        (
            vec![fv("case_id", s("x"))],
            "Field 'case_id' is maintained by the server and cannot be set".into(),
        ),
        (
            vec![fv("nope", s("x"))],
            "Field 'nope' does not exist in this domain".into(),
        ),
        (
            vec![fv(&f.num, b(true))],
            "takes a doubleValue, not a booleanValue".into(),
        ),
        (vec![fv(&f.pick, s("old"))], "is an inactive option".into()),
        (
            vec![fv(&f.link, s("not a url"))],
            "absolute http or https URL".into(),
        ),
    ];
    for (fields, want) in cases {
        let e = upd(fields.clone()).await.unwrap_err();
        assert_eq!(error_code(&e), "ValidationException", "{fields:?}");
        assert!(
            message(&e).contains(&want),
            "{:?} does not contain {want:?}",
            message(&e)
        );
    }
    // Nothing was changed by the refused updates.
    assert_eq!(get(&c, &f.d, &id, &["title"]).await["title"], s("t"));

    // A deleted field can be changed or cleared on a case that holds a value, not set anew.
    c.delete_field()
        .domain_id(&f.d)
        .field_id(&f.text)
        .send()
        .await
        .unwrap();
    c.delete_field()
        .domain_id(&f.d)
        .field_id(&f.flag)
        .send()
        .await
        .unwrap();
    upd(vec![fv(&f.text, s("changed"))]).await.unwrap();
    assert_eq!(
        get(&c, &f.d, &id, &[f.text.as_str()]).await[&f.text],
        s("changed"),
        "GetCase still returns it"
    );
    upd(vec![fv(&f.text, empty())]).await.unwrap();
    let e = upd(vec![fv(&f.flag, b(true))]).await.unwrap_err();
    assert!(message(&e).contains("have been deleted"), "{}", message(&e));

    // A case keeps an option that was deactivated after it was chosen.
    let id2 = f.create(&c, "t2", 1.0, vec![fv(&f.pick, s("iad"))]).await;
    let opt = FieldOption::builder()
        .name("IAD")
        .value("iad")
        .active(false)
        .build()
        .unwrap();
    c.batch_put_field_options()
        .domain_id(&f.d)
        .field_id(&f.pick)
        .options(opt)
        .send()
        .await
        .unwrap();
    c.update_case()
        .domain_id(&f.d)
        .case_id(&id2)
        .fields(fv(&f.pick, s("iad")))
        .fields(fv("title", s("t3")))
        .send()
        .await
        .unwrap();

    let e = c
        .update_case()
        .domain_id(&f.d)
        .case_id("nope")
        .fields(fv("title", s("x")))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    let e = c
        .update_case()
        .domain_id("nope")
        .case_id(&id)
        .fields(fv("title", s("x")))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn concurrent_updates_are_all_applied() {
    let server = Server::start();
    let c = server.client();
    let f = fixture(&c).await;
    let id = f.create(&c, "t", 1.0, vec![]).await;
    // Each task sets its own field; with optimistic concurrency none of them is lost.
    let fields = [
        f.text.clone(),
        "summary".to_owned(),
        f.link.clone(),
        "customer_id".to_owned(),
    ];
    let values = [
        "a",
        "b",
        "https://c.example",
        "arn:aws:profile:us-east-1:0:domains/d/profiles/p",
    ];
    let tasks: Vec<_> = fields
        .iter()
        .zip(values)
        .map(|(field, value)| {
            let (c, d, id, field) = (c.clone(), f.d.clone(), id.clone(), field.clone());
            tokio::spawn(async move {
                c.update_case()
                    .domain_id(d)
                    .case_id(id)
                    .fields(fv(&field, s(value)))
                    .send()
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let got = get(
        &c,
        &f.d,
        &id,
        &fields.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    for (field, value) in fields.iter().zip(values) {
        assert_eq!(got[field], s(value));
    }
}

#[tokio::test]
async fn delete_removes_the_case_everywhere_at_once() {
    let server = Server::start();
    let c = server.client();
    let f = fixture(&c).await;
    let keep = f.create(&c, "keep", 1.0, vec![]).await;
    let gone = c
        .create_case()
        .domain_id(&f.d)
        .template_id(&f.t)
        .fields(fv("title", s("gone")))
        .fields(fv(&f.num, n(2.0)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.search_cases()
            .domain_id(&f.d)
            .send()
            .await
            .unwrap()
            .total_count(),
        2
    );
    c.delete_case()
        .domain_id(&f.d)
        .case_id(gone.case_id())
        .send()
        .await
        .unwrap();
    let found = c.search_cases().domain_id(&f.d).send().await.unwrap();
    assert_eq!(found.total_count(), 1);
    assert_eq!(found.cases()[0].as_ref().unwrap().case_id(), keep);
    for e in [
        error_code(
            &c.get_case()
                .domain_id(&f.d)
                .case_id(gone.case_id())
                .fields(ident("title"))
                .send()
                .await
                .unwrap_err(),
        ),
        error_code(
            &c.update_case()
                .domain_id(&f.d)
                .case_id(gone.case_id())
                .fields(fv("title", s("x")))
                .send()
                .await
                .unwrap_err(),
        ),
        error_code(
            &c.delete_case()
                .domain_id(&f.d)
                .case_id(gone.case_id())
                .send()
                .await
                .unwrap_err(),
        ),
        error_code(
            &c.list_tags_for_resource()
                .arn(gone.case_arn())
                .send()
                .await
                .unwrap_err(),
        ),
        error_code(
            &c.delete_case()
                .domain_id("nope")
                .case_id(&keep)
                .send()
                .await
                .unwrap_err(),
        ),
    ] {
        assert_eq!(e, "ResourceNotFoundException");
    }
}

// ---- SearchCases ----

fn field_filter(op: &str, id: &str, v: FieldValueUnion) -> CaseFilter {
    let value = fv(id, v);
    CaseFilter::Field(match op {
        "eq" => FieldFilter::EqualTo(value),
        "contains" => FieldFilter::Contains(value),
        "gt" => FieldFilter::GreaterThan(value),
        "ge" => FieldFilter::GreaterThanOrEqualTo(value),
        "lt" => FieldFilter::LessThan(value),
        "le" => FieldFilter::LessThanOrEqualTo(value),
        _ => unreachable!(),
    })
}

fn tag(key: Option<&str>, value: Option<&str>) -> CaseFilter {
    CaseFilter::Tag(TagFilter::EqualTo(
        TagValue::builder()
            .set_key(key.map(Into::into))
            .set_value(value.map(Into::into))
            .build(),
    ))
}

fn sort(id: &str, order: Order) -> Sort {
    Sort::builder()
        .field_id(id)
        .sort_order(order)
        .build()
        .unwrap()
}

/// Runs a search to the end (pages of `page`) and returns the titles in order, checking that
/// every page reports the same total.
async fn titles(
    c: &Client,
    d: &str,
    filter: Option<CaseFilter>,
    term: Option<&str>,
    sorts: Vec<Sort>,
    page: i32,
) -> Vec<String> {
    let mut out = vec![];
    let mut token: Option<String> = None;
    let mut total = None;
    loop {
        let r = c
            .search_cases()
            .domain_id(d)
            .set_filter(filter.clone())
            .set_search_term(term.map(Into::into))
            .set_sorts(Some(sorts.clone()))
            .fields(ident("title"))
            .max_results(page)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        assert!(r.cases().len() <= page as usize);
        assert_eq!(*total.get_or_insert(r.total_count()), r.total_count());
        for item in r.cases() {
            let item = item.as_ref().unwrap();
            out.push(string(item.fields().first().and_then(|f| f.value())));
        }
        match r.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(total.unwrap(), out.len() as i64);
    out
}

/// A case of the search fixture: title, amount, more fields, tags.
type Row<'a> = (&'a str, f64, Vec<FieldValue>, Vec<(&'a str, &'a str)>);

/// Six cases with known values (see the table in the test).
async fn search_fixture(c: &Client) -> Fixture {
    let f = fixture(c).await;
    let rows: Vec<Row> = vec![
        (
            "Printer on fire",
            10.0,
            vec![
                fv(&f.when, s("2026-01-01T00:00:00Z")),
                fv(&f.pick, s("pdx")),
                fv(&f.flag, b(true)),
            ],
            vec![("team", "blue")],
        ),
        (
            "printer jam",
            2.5,
            vec![
                fv(&f.link, s("https://Tickets.example/Jam")),
                fv(&f.pick, s("iad")),
                fv(&f.flag, b(false)),
            ],
            vec![("team", "red"), ("vip", "")],
        ),
        (
            "Login broken",
            -1.0,
            vec![
                fv(&f.when, s("2025-12-31T23:00:00-02:00")),
                fv(&f.who, u(AGENT)),
                fv(&f.text, empty()),
            ],
            vec![],
        ),
        (
            "Refund request",
            100.0,
            vec![
                fv(&f.text, s("customer wants money back")),
                fv(&f.pick, s("pdx")),
            ],
            vec![("team", "blue")],
        ),
        (
            "refund REQUEST",
            0.0,
            vec![fv(&f.when, s("2026-06-30T12:00:00.000Z"))],
            vec![],
        ),
        ("Other", 2.5, vec![], vec![]),
    ];
    for (title, amount, more, tags) in rows {
        let mut fields = vec![fv("title", s(title)), fv(&f.num, n(amount))];
        fields.extend(more);
        let mut req = c
            .create_case()
            .domain_id(&f.d)
            .template_id(&f.t)
            .set_fields(Some(fields));
        for (k, v) in tags {
            req = req.tags(k, v);
        }
        req.send().await.unwrap();
    }
    f
}

#[tokio::test]
async fn search_filters_follow_the_operator_rules() {
    let server = Server::start();
    let c = server.client();
    let f = search_fixture(&c).await;
    let by_title = || vec![sort("title", Order::Ascending)];
    let check = |filter: CaseFilter, want: &'static [&'static str]| {
        let c = c.clone();
        let d = f.d.clone();
        async move {
            let got = titles(&c, &d, Some(filter.clone()), None, by_title(), 100).await;
            assert_eq!(got, want, "{filter:?}");
        }
    };
    // Titles sort byte-wise: upper case first.
    check(
        field_filter("eq", "title", s("printer jam")),
        &["printer jam"],
    )
    .await;
    check(field_filter("eq", "title", s("Printer Jam")), &[]).await;
    check(
        field_filter("contains", "title", s("REFUND")),
        &["Refund request", "refund REQUEST"],
    )
    .await;
    check(
        field_filter("contains", "title", s("r on f")),
        &["Printer on fire"],
    )
    .await;
    check(
        field_filter("contains", &f.link, s("tickets.EXAMPLE/j")),
        &["printer jam"],
    )
    .await;
    check(
        field_filter("eq", &f.num, n(2.5)),
        &["Other", "printer jam"],
    )
    .await;
    check(
        field_filter("gt", &f.num, n(2.5)),
        &["Printer on fire", "Refund request"],
    )
    .await;
    check(
        field_filter("ge", &f.num, n(2.5)),
        &["Other", "Printer on fire", "Refund request", "printer jam"],
    )
    .await;
    check(field_filter("lt", &f.num, n(0.0)), &["Login broken"]).await;
    check(
        field_filter("le", &f.num, n(0.0)),
        &["Login broken", "refund REQUEST"],
    )
    .await;
    // DateTime by instant: 2025-12-31T23:00-02:00 is 2026-01-01T01:00Z.
    check(
        field_filter("eq", &f.when, s("2026-01-01T03:00:00+02:00")),
        &["Login broken"],
    )
    .await;
    check(
        field_filter("gt", &f.when, s("2026-01-01T00:00:00Z")),
        &["Login broken", "refund REQUEST"],
    )
    .await;
    check(
        field_filter("le", &f.when, s("2026-01-01T01:00:00Z")),
        &["Login broken", "Printer on fire"],
    )
    .await;
    check(field_filter("eq", &f.flag, b(false)), &["printer jam"]).await;
    check(field_filter("eq", &f.who, u(AGENT)), &["Login broken"]).await;
    check(
        field_filter("eq", &f.pick, s("pdx")),
        &["Printer on fire", "Refund request"],
    )
    .await;
    check(
        field_filter("eq", "status", s("open")),
        &[
            "Login broken",
            "Other",
            "Printer on fire",
            "Refund request",
            "printer jam",
            "refund REQUEST",
        ],
    )
    .await;
    // emptyValue: no value, whether cleared or never set.
    check(
        field_filter("eq", &f.text, empty()),
        &[
            "Login broken",
            "Other",
            "Printer on fire",
            "printer jam",
            "refund REQUEST",
        ],
    )
    .await;
    check(
        field_filter("eq", &f.flag, empty()),
        &["Login broken", "Other", "Refund request", "refund REQUEST"],
    )
    .await;
    // not is the complement within the domain, cases without the field included.
    check(
        CaseFilter::Not(Box::new(field_filter("eq", &f.pick, s("pdx")))),
        &["Login broken", "Other", "printer jam", "refund REQUEST"],
    )
    .await;
    check(
        CaseFilter::AndAll(vec![
            field_filter("eq", &f.pick, s("pdx")),
            field_filter("gt", &f.num, n(50.0)),
        ]),
        &["Refund request"],
    )
    .await;
    check(
        CaseFilter::OrAll(vec![
            field_filter("eq", &f.flag, b(true)),
            field_filter("lt", &f.num, n(0.0)),
        ]),
        &["Login broken", "Printer on fire"],
    )
    .await;
    check(
        CaseFilter::AndAll(vec![
            CaseFilter::Not(Box::new(tag(Some("team"), None))),
            CaseFilter::OrAll(vec![
                field_filter("contains", "title", s("o")),
                field_filter("eq", &f.num, n(2.5)),
            ]),
        ]),
        &["Login broken", "Other"],
    )
    .await;
    check(
        tag(Some("team"), None),
        &["Printer on fire", "Refund request", "printer jam"],
    )
    .await;
    check(
        tag(Some("team"), Some("blue")),
        &["Printer on fire", "Refund request"],
    )
    .await;
    check(tag(Some("vip"), Some("")), &["printer jam"]).await;
    check(tag(Some("none"), None), &[]).await;
}

#[tokio::test]
async fn search_terms_sorts_projection_and_page_size() {
    let server = Server::start();
    let c = server.client();
    let f = search_fixture(&c).await;
    let term = |t: &'static str| {
        let (c, d) = (c.clone(), f.d.clone());
        async move {
            titles(
                &c,
                &d,
                None,
                Some(t),
                vec![sort("title", Order::Ascending)],
                100,
            )
            .await
        }
    };
    assert_eq!(term("PRINTER").await, ["Printer on fire", "printer jam"]);
    assert_eq!(
        term("print").await,
        ["Printer on fire", "printer jam"],
        "the last word may be a prefix"
    );
    assert_eq!(
        term("print jam").await,
        Vec::<String>::new(),
        "only the last word"
    );
    assert_eq!(
        term("refund req").await,
        ["Refund request", "refund REQUEST"]
    );
    assert_eq!(
        term("money").await,
        ["Refund request"],
        "custom Text fields are searched"
    );
    assert_eq!(
        term("iad").await,
        ["printer jam"],
        "SingleSelect values too"
    );
    assert_eq!(term("tickets").await, ["printer jam"], "and Url values");
    assert_eq!(
        term("01t00").await,
        Vec::<String>::new(),
        "but not DateTime values"
    );
    // The reference number finds its case.
    let one = c
        .search_cases()
        .domain_id(&f.d)
        .fields(ident("reference_number"))
        .fields(ident("title"))
        .max_results(1)
        .send()
        .await
        .unwrap();
    let item = one.cases()[0].as_ref().unwrap();
    let reference = string(item.fields()[0].value());
    let found = c
        .search_cases()
        .domain_id(&f.d)
        .search_term(&reference)
        .send()
        .await
        .unwrap();
    assert_eq!(found.total_count(), 1);
    assert_eq!(found.cases()[0].as_ref().unwrap().case_id(), item.case_id());

    // Sorts: missing values last in both directions; a second sort breaks ties.
    let sorted = |sorts: Vec<Sort>| {
        let (c, d) = (c.clone(), f.d.clone());
        async move { titles(&c, &d, None, None, sorts, 4).await }
    };
    assert_eq!(
        sorted(vec![
            sort(&f.when, Order::Ascending),
            sort("title", Order::Ascending)
        ])
        .await,
        [
            "Printer on fire",
            "Login broken",
            "refund REQUEST",
            "Other",
            "Refund request",
            "printer jam"
        ]
    );
    assert_eq!(
        sorted(vec![
            sort(&f.when, Order::Descending),
            sort("title", Order::Descending)
        ])
        .await,
        [
            "refund REQUEST",
            "Login broken",
            "Printer on fire",
            "printer jam",
            "Refund request",
            "Other"
        ]
    );
    assert_eq!(
        sorted(vec![
            sort(&f.num, Order::Descending),
            sort("title", Order::Ascending)
        ])
        .await,
        [
            "Refund request",
            "Printer on fire",
            "Other",
            "printer jam",
            "refund REQUEST",
            "Login broken"
        ]
    );
    assert_eq!(
        sorted(vec![
            sort(&f.flag, Order::Ascending),
            sort("title", Order::Ascending)
        ])
        .await,
        [
            "printer jam",
            "Printer on fire",
            "Login broken",
            "Other",
            "Refund request",
            "refund REQUEST"
        ]
    );
    // Default order: most recently updated first.
    c.update_case()
        .domain_id(&f.d)
        .case_id(item.case_id())
        .fields(fv("summary", s("touched")))
        .send()
        .await
        .unwrap();
    let default = c.search_cases().domain_id(&f.d).send().await.unwrap();
    assert_eq!(
        default.cases()[0].as_ref().unwrap().case_id(),
        item.case_id()
    );
    assert_eq!(default.total_count(), 6);
    assert!(
        default
            .cases()
            .iter()
            .all(|c| c.as_ref().unwrap().fields().is_empty()),
        "no projection, no fields"
    );
    let first = default.cases()[0].as_ref().unwrap();
    assert_eq!(first.template_id(), f.t);
    assert!(first.tags().is_some());

    // Projection: only the fields asked for, cleared ones as emptyValue, unknown ones left out.
    let projected = c
        .search_cases()
        .domain_id(&f.d)
        .filter(field_filter("eq", "title", s("Login broken")))
        .fields(ident(&f.text))
        .fields(ident("title"))
        .fields(ident("no-such-field"))
        .fields(ident(&f.link))
        .send()
        .await
        .unwrap();
    let item = projected.cases()[0].as_ref().unwrap();
    let got: Vec<(&str, &FieldValueUnion)> = item
        .fields()
        .iter()
        .map(|f| (f.id(), f.value().unwrap()))
        .collect();
    assert_eq!(
        got,
        [(f.text.as_str(), &empty()), ("title", &s("Login broken"))]
    );

    // maxResults: default 25, 1 to 100.
    for i in 0..25 {
        f.create(&c, &format!("bulk {i}"), 0.0, vec![]).await;
    }
    let page = c.search_cases().domain_id(&f.d).send().await.unwrap();
    assert_eq!(page.cases().len(), 25);
    assert_eq!(page.total_count(), 31);
    assert!(page.next_token().is_some());
    let page = c
        .search_cases()
        .domain_id(&f.d)
        .max_results(100)
        .send()
        .await
        .unwrap();
    assert_eq!(page.cases().len(), 31);
    assert!(page.next_token().is_none());
    for bad in [0, 101] {
        let e = c
            .search_cases()
            .domain_id(&f.d)
            .max_results(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&e), "ValidationException", "maxResults {bad}");
    }
}

#[tokio::test]
async fn bad_searches_are_validation_errors() {
    let server = Server::start();
    let c = server.client();
    let f = search_fixture(&c).await;
    let search = |filter: Option<CaseFilter>, sorts: Vec<Sort>| {
        c.search_cases()
            .domain_id(&f.d)
            .set_filter(filter)
            .set_sorts(Some(sorts))
            .send()
    };
    let mut deep = field_filter("eq", &f.flag, b(true));
    for _ in 0..5 {
        deep = CaseFilter::Not(Box::new(deep));
    }
    let cases: Vec<(Option<CaseFilter>, Vec<Sort>, String)> = vec![
        (
            Some(field_filter("gt", "title", s("a"))),
            vec![],
            "The greaterThan operator cannot be used on field 'title' of type Text; it applies to Number and DateTime fields".into(),
        ),
        (Some(field_filter("le", &f.flag, b(true))), vec![], "it applies to Number and DateTime fields".into()),
        (Some(field_filter("contains", &f.num, n(1.0))), vec![], "it applies to Text and Url fields".into()),
        (Some(field_filter("contains", &f.pick, s("p"))), vec![], "it applies to Text and Url fields".into()),
        (Some(field_filter("contains", "title", empty())), vec![], "emptyValue can only be used with equalTo".into()),
        (Some(field_filter("eq", "nope", s("a"))), vec![], "The filter uses field 'nope', which does not exist in this domain".into()),
        (Some(field_filter("eq", &f.num, s("1"))), vec![], "takes a doubleValue, not a stringValue".into()),
        (Some(field_filter("lt", &f.when, s("yesterday"))), vec![], "ISO-8601".into()),
        (Some(deep), vec![], "The filter is nested more than 5 levels deep".into()),
        (Some(CaseFilter::OrAll(vec![field_filter("eq", &f.flag, b(true)); 11])), vec![], "orAll".into()),
        (Some(tag(None, Some("blue"))), vec![], "A tag filter needs a key".into()),
        (None, vec![sort("nope", Order::Ascending)], "Cannot sort by field 'nope': it does not exist in this domain".into()),
        (None, vec![sort("title", Order::Ascending), sort(&f.num, Order::Ascending), sort(&f.flag, Order::Ascending)], "sorts".into()),
    ];
    for (filter, sorts, want) in cases {
        let e = search(filter.clone(), sorts).await.unwrap_err();
        assert_eq!(error_code(&e), "ValidationException", "{filter:?}");
        assert!(
            message(&e).contains(&want),
            "{:?} does not contain {want:?}",
            message(&e)
        );
    }
    let e = c.search_cases().domain_id("nope").send().await.unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");

    // Tokens: altered, or reused with another query, are refused.
    let page = c
        .search_cases()
        .domain_id(&f.d)
        .max_results(2)
        .send()
        .await
        .unwrap();
    let token = page.next_token().unwrap().to_owned();
    let mut altered = token.clone().into_bytes();
    altered[5] = if altered[5] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for (t, filter) in [
        (altered.as_str(), None),
        ("garbage", None),
        (token.as_str(), Some(field_filter("eq", &f.flag, b(true)))),
    ] {
        let e = c
            .search_cases()
            .domain_id(&f.d)
            .set_filter(filter)
            .next_token(t)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&e), "ValidationException");
        assert!(message(&e).contains("nextToken"), "{}", message(&e));
    }
    let g = fixture(&c).await;
    let e = c
        .search_cases()
        .domain_id(&g.d)
        .next_token(&token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_code(&e),
        "ValidationException",
        "a token is bound to its domain"
    );
    // The same query with another page size may continue.
    let next = c
        .search_cases()
        .domain_id(&f.d)
        .max_results(10)
        .next_token(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(next.cases().len(), 4);
}

#[tokio::test]
async fn paging_neither_repeats_nor_skips_while_cases_are_written() {
    let server = Server::start();
    let c = server.client();
    let f = fixture(&c).await;
    let mut originals = BTreeMap::new();
    for i in 0..30 {
        // Amounts repeat so that the case id decides among equals.
        let id = f
            .create(&c, &format!("orig {i:02}"), (i % 7) as f64, vec![])
            .await;
        originals.insert(id, i);
    }
    for sorts in [
        vec![sort(&f.num, Order::Ascending)],
        vec![sort(&f.num, Order::Descending)],
        vec![],
    ] {
        let by_default = sorts.is_empty();
        let mut seen: Vec<String> = vec![];
        let mut token: Option<String> = None;
        let mut round = 0;
        loop {
            let r = c
                .search_cases()
                .domain_id(&f.d)
                .set_sorts(Some(sorts.clone()))
                .max_results(7)
                .set_next_token(token.clone())
                .send()
                .await
                .unwrap();
            seen.extend(
                r.cases()
                    .iter()
                    .map(|c| c.as_ref().unwrap().case_id().to_owned()),
            );
            let Some(t) = r.next_token() else { break };
            token = Some(t.to_owned());
            // Between pages: new cases before and after the cursor, and (unless the order is by
            // update time) changes to cases not yet seen that keep their sort value.
            round += 1;
            f.create(&c, &format!("new low {round}"), -1.0, vec![])
                .await;
            f.create(&c, &format!("new high {round}"), 99.0, vec![])
                .await;
            if !by_default {
                let unseen = originals.keys().find(|id| !seen.contains(id)).cloned();
                if let Some(id) = unseen {
                    c.update_case()
                        .domain_id(&f.d)
                        .case_id(id)
                        .fields(fv("summary", s("edited")))
                        .send()
                        .await
                        .unwrap();
                }
            }
        }
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "no case is returned twice ({sorts:?})"
        );
        for id in originals.keys() {
            assert!(
                unique.contains(id),
                "original case {id} was skipped ({sorts:?})"
            );
        }
    }
}

#[tokio::test]
async fn cases_and_search_survive_a_restart() {
    let dir = TempDir::new("cases-restart");
    let server = Server::start_persistent(dir.path());
    let c = server.client();
    let f = fixture(&c).await;
    let mut ids = vec![];
    for i in 0..8 {
        let id = c
            .create_case()
            .domain_id(&f.d)
            .template_id(&f.t)
            .fields(fv("title", s(&format!("persisted {i}"))))
            .fields(fv(&f.num, n(i as f64)))
            .client_token(format!("tok-{i}"))
            .tags("n", i.to_string())
            .send()
            .await
            .unwrap()
            .case_id()
            .to_owned();
        ids.push(id);
    }
    c.update_case()
        .domain_id(&f.d)
        .case_id(&ids[0])
        .fields(fv("status", s("closed")))
        .send()
        .await
        .unwrap();
    c.delete_case()
        .domain_id(&f.d)
        .case_id(&ids[7])
        .send()
        .await
        .unwrap();
    let query = || {
        c.search_cases()
            .domain_id(&f.d)
            .sorts(sort(&f.num, Order::Descending))
            .fields(ident("title"))
            .fields(ident("status"))
            .max_results(3)
    };
    let before = query().send().await.unwrap();
    let token = before.next_token().unwrap().to_owned();
    let snapshot = get(
        &c,
        &f.d,
        &ids[0],
        &[
            "title",
            "status",
            "last_closed_datetime",
            "reference_number",
        ],
    )
    .await;
    drop(c);
    server.kill();

    let server = Server::start_persistent(dir.path());
    let c = server.client();
    let query = || {
        c.search_cases()
            .domain_id(&f.d)
            .sorts(sort(&f.num, Order::Descending))
            .fields(ident("title"))
            .fields(ident("status"))
            .max_results(3)
    };
    let after = query().send().await.unwrap();
    assert_eq!(after.total_count(), 7);
    assert_eq!(after.cases(), before.cases());
    assert_eq!(
        get(
            &c,
            &f.d,
            &ids[0],
            &[
                "title",
                "status",
                "last_closed_datetime",
                "reference_number"
            ]
        )
        .await,
        snapshot
    );
    // A token issued before the restart continues the same query.
    let next = query().next_token(&token).send().await.unwrap();
    let titles: Vec<String> = next
        .cases()
        .iter()
        .map(|c| string(c.as_ref().unwrap().fields()[0].value()))
        .collect();
    assert_eq!(titles, ["persisted 3", "persisted 2", "persisted 1"]);
    // Client tokens are remembered across the restart.
    let replay = c
        .create_case()
        .domain_id(&f.d)
        .template_id(&f.t)
        .fields(fv("title", s("persisted 2")))
        .fields(fv(&f.num, n(2.0)))
        .client_token("tok-2")
        .tags("n", "2")
        .send()
        .await
        .unwrap();
    assert_eq!(replay.case_id(), ids[2]);
    let e = c
        .get_case()
        .domain_id(&f.d)
        .case_id(&ids[7])
        .fields(ident("title"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    let found = c
        .search_cases()
        .domain_id(&f.d)
        .search_term("persisted")
        .send()
        .await
        .unwrap();
    assert_eq!(found.total_count(), 7);
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_and_are_searchable() {
    let dir = TempDir::new("cases-kill9");
    let server = Server::start_persistent(dir.path());
    let c = server.client();
    let f = fixture(&c).await;
    // Writers in parallel; the server is killed the moment the last one is acknowledged.
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let (c, d, t, num) = (c.clone(), f.d.clone(), f.t.clone(), f.num.clone());
            tokio::spawn(async move {
                let mut ids = vec![];
                for i in 0..6 {
                    let r = c
                        .create_case()
                        .domain_id(&d)
                        .template_id(&t)
                        .fields(fv("title", s(&format!("durable {w} {i}"))))
                        .fields(fv(&num, n((w * 10 + i) as f64)))
                        .send()
                        .await
                        .unwrap();
                    ids.push(r.case_id().to_owned());
                }
                ids
            })
        })
        .collect();
    let mut acknowledged = BTreeSet::new();
    for t in tasks {
        acknowledged.extend(t.await.unwrap());
    }
    let updated = acknowledged.iter().next().unwrap().clone();
    c.update_case()
        .domain_id(&f.d)
        .case_id(&updated)
        .fields(fv("status", s("closed")))
        .send()
        .await
        .unwrap();
    server.kill();

    let server = Server::start_persistent(dir.path());
    let c = server.client();
    for id in &acknowledged {
        c.get_case()
            .domain_id(&f.d)
            .case_id(id)
            .fields(ident("title"))
            .send()
            .await
            .unwrap();
    }
    let found = c
        .search_cases()
        .domain_id(&f.d)
        .search_term("durable")
        .max_results(100)
        .send()
        .await
        .unwrap();
    let found: BTreeSet<String> = found
        .cases()
        .iter()
        .map(|c| c.as_ref().unwrap().case_id().to_owned())
        .collect();
    assert_eq!(found, acknowledged);
    let closed = c
        .search_cases()
        .domain_id(&f.d)
        .filter(field_filter("eq", "status", s("closed")))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.total_count(), 1);
    assert_eq!(closed.cases()[0].as_ref().unwrap().case_id(), updated);
}
