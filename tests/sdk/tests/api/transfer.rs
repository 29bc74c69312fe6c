//! `caseload export` and `caseload import`: a domain made through the SDK, exported, imported
//! directly and through a running server, and exported again.
//!
//! A direct import writes a data directory's SQLite file (there is none into PostgreSQL yet), so
//! the tests of it run embedded servers (`Server::start_embedded`) on every backend; export and
//! the import through a server run on the suite's backend.

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::types::{
    BasicLayout, CommentBodyTextType, CommentContent, ConnectCaseInputContent, Contact,
    CustomInputContent, EmptyFieldValue, FieldGroup, FieldItem, FieldOption, FieldType,
    FieldValueUnion, FileContent, LayoutContent, LayoutSections, RelatedItemInputContent,
    RelatedItemType, Section, SlaInputConfiguration, SlaInputContent, SlaType, TemplateStatus,
    UserUnion,
};
use caseload_sdk_tests::{AGENT, Server, TempDir, binary, fv, postgres, s};
use std::path::Path;
use std::process::{Command, Output};

fn caseload(args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .output()
        .expect("run caseload")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "caseload failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The domain id the import printed last on its summary line.
fn imported_domain(stdout: &str) -> String {
    stdout.trim().rsplit(' ').next().unwrap().to_owned()
}

/// Exports from the data directory, or from the PostgreSQL database its server ran on.
fn export(dir: &Path, domain: &str, file: &Path) -> String {
    let dir = dir.display().to_string();
    let source = match postgres::recorded_url(Path::new(&dir)) {
        Some(url) => ["--database-url".to_owned(), url],
        None => ["--data-dir".to_owned(), dir],
    };
    ok(caseload(&[
        "export",
        "--quiet",
        &source[0],
        &source[1],
        "--domain-id",
        domain,
        "--output",
        &file.display().to_string(),
    ]));
    std::fs::read_to_string(file).unwrap()
}

/// A domain in states only a history of API calls reaches: a deleted field still held by a case,
/// a deactivated option still chosen, an inactive template, a layout, tags everywhere, a cleared
/// value, related items of every type (one linking two cases). Returns its id.
async fn build(c: &Client) -> String {
    let d = c
        .create_domain()
        .name("transfer")
        .send()
        .await
        .unwrap()
        .domain_id()
        .to_owned();
    let field = |name: &'static str, t: FieldType| {
        let d = d.clone();
        async move {
            let out = c
                .create_field()
                .domain_id(d)
                .name(name)
                .r#type(t)
                .send()
                .await
                .unwrap();
            (out.field_id().to_owned(), out.field_arn().to_owned())
        }
    };
    let (pick, pick_arn) = field("Region", FieldType::SingleSelect).await;
    let (amount, _) = field("Amount", FieldType::Number).await;
    let (gone, _) = field("Legacy", FieldType::Text).await;
    let opt = |v: &str, active| {
        FieldOption::builder()
            .name(v.to_uppercase())
            .value(v)
            .active(active)
            .build()
            .unwrap()
    };
    let options = |active| {
        c.batch_put_field_options()
            .domain_id(&d)
            .field_id(&pick)
            .options(opt("pdx", true))
            .options(opt("old", active))
    };
    options(true).send().await.unwrap();
    c.tag_resource()
        .arn(&pick_arn)
        .tags("team", Some("ops".to_owned()))
        .send()
        .await
        .unwrap();
    let group = FieldGroup::builder()
        .name("Main")
        .fields(FieldItem::builder().id(&amount).build().unwrap())
        .build()
        .unwrap();
    let layout = c
        .create_layout()
        .domain_id(&d)
        .name("L")
        .content(LayoutContent::Basic(
            BasicLayout::builder()
                .top_panel(
                    LayoutSections::builder()
                        .sections(Section::FieldGroup(group))
                        .build(),
                )
                .build(),
        ))
        .send()
        .await
        .unwrap()
        .layout_id()
        .to_owned();
    let template = |name: &'static str| {
        let (d, layout) = (d.clone(), layout.clone());
        async move {
            c.create_template()
                .domain_id(d)
                .name(name)
                .layout_configuration(
                    aws_sdk_connectcases::types::LayoutConfiguration::builder()
                        .default_layout(layout)
                        .build(),
                )
                .status(TemplateStatus::Active)
                .send()
                .await
                .unwrap()
                .template_id()
                .to_owned()
        }
    };
    let t1 = template("Open").await;
    let t2 = template("Retired").await;
    let mut cases = Vec::new();
    for (i, t) in [&t1, &t2, &t1].into_iter().enumerate() {
        let out = c
            .create_case()
            .domain_id(&d)
            .template_id(t)
            .fields(fv("title", s(&format!("Case {i}"))))
            .fields(fv(&pick, s(if i == 1 { "old" } else { "pdx" })))
            .fields(fv(&amount, FieldValueUnion::DoubleValue(i as f64 * 1.5)))
            .fields(fv(&gone, s("kept")))
            .fields(fv(
                "summary",
                FieldValueUnion::EmptyValue(EmptyFieldValue::builder().build()),
            ))
            .fields(fv("status", s(if i == 2 { "closed" } else { "open" })))
            .tags("source", "test")
            .performed_by(UserUnion::UserArn(AGENT.into()))
            .send()
            .await
            .unwrap();
        cases.push(out.case_id().to_owned());
    }
    let arn = |kind: &str, n: &str| {
        format!("arn:aws:connect:us-east-1:000000000000:instance/i-1/{kind}/{n}")
    };
    let items = [
        (
            RelatedItemType::Comment,
            RelatedItemInputContent::Comment(
                CommentContent::builder()
                    .body("Customer called twice")
                    .content_type(CommentBodyTextType::Plaintext)
                    .build()
                    .unwrap(),
            ),
        ),
        (
            RelatedItemType::Contact,
            RelatedItemInputContent::Contact(
                Contact::builder()
                    .contact_arn(arn("contact", "c-1"))
                    .build()
                    .unwrap(),
            ),
        ),
        (
            RelatedItemType::File,
            RelatedItemInputContent::File(
                FileContent::builder()
                    .file_arn(arn("file", "f-1"))
                    .build()
                    .unwrap(),
            ),
        ),
        (
            RelatedItemType::Sla,
            RelatedItemInputContent::Sla(SlaInputContent::SlaInputConfiguration(
                SlaInputConfiguration::builder()
                    .name("reply")
                    .r#type(SlaType::CaseField)
                    .field_id("status")
                    .target_field_values(s("closed"))
                    .target_sla_minutes(600)
                    .build()
                    .unwrap(),
            )),
        ),
        (
            RelatedItemType::ConnectCase,
            RelatedItemInputContent::ConnectCase(
                ConnectCaseInputContent::builder()
                    .case_id(&cases[1])
                    .build()
                    .unwrap(),
            ),
        ),
        (
            RelatedItemType::Custom,
            RelatedItemInputContent::Custom(
                CustomInputContent::builder()
                    .fields(fv(&amount, FieldValueUnion::DoubleValue(4.0)))
                    .build()
                    .unwrap(),
            ),
        ),
    ];
    for (i, (t, content)) in items.into_iter().enumerate() {
        c.create_related_item()
            .domain_id(&d)
            .case_id(&cases[i % 2])
            .r#type(t)
            .content(content)
            .performed_by(UserUnion::UserArn(AGENT.into()))
            .send()
            .await
            .unwrap();
    }
    options(false).send().await.unwrap();
    c.update_template()
        .domain_id(&d)
        .template_id(&t2)
        .status(TemplateStatus::Inactive)
        .send()
        .await
        .unwrap();
    c.delete_field()
        .domain_id(&d)
        .field_id(&gone)
        .send()
        .await
        .unwrap();
    d
}

#[tokio::test]
async fn export_import_export_gives_the_same_bytes() {
    let (a, b, files) = (
        TempDir::new("transfer-a"),
        TempDir::new("transfer-b"),
        TempDir::new("transfer-files"),
    );
    let server = Server::start_embedded(a.path());
    let d = build(&server.client()).await;
    assert!(server.terminate().success());

    let first = export(a.path(), &d, &files.path().join("a.ndjson"));
    assert_eq!(
        first
            .lines()
            .filter(|l| l.contains(r#""type":"case""#))
            .count(),
        3
    );
    assert_eq!(
        first
            .lines()
            .filter(|l| l.contains(r#""type":"relatedItem""#))
            .count(),
        6
    );
    let out = ok(caseload(&[
        "import",
        "--quiet",
        "--data-dir",
        &b.path().display().to_string(),
        &files.path().join("a.ndjson").display().to_string(),
    ]));
    let copy = imported_domain(&out);
    assert_ne!(copy, d);
    let second = export(b.path(), &copy, &files.path().join("b.ndjson"));
    assert_eq!(first, second);

    // The copy serves like the original.
    let server = Server::start_embedded(b.path());
    let c = server.client();
    let found = c
        .search_cases()
        .domain_id(&copy)
        .search_term("case")
        .send()
        .await
        .unwrap();
    assert_eq!(found.total_count(), 3);
    let items = c
        .search_all_related_items()
        .domain_id(&copy)
        .send()
        .await
        .unwrap();
    assert_eq!(items.related_items().len(), 6);
}

#[tokio::test]
async fn import_through_a_running_server_maps_ids_and_keeps_values() {
    let (a, files) = (
        TempDir::new("transfer-api-a"),
        TempDir::new("transfer-api-f"),
    );
    let server = Server::start_persistent(a.path());
    let d = build(&server.client()).await;
    assert!(server.terminate().success());
    let file = files.path().join("a.ndjson");
    let original = export(a.path(), &d, &file);

    let target = Server::start();
    let out = ok(Command::new(binary())
        .args([
            "import",
            "--quiet",
            "--name",
            "copy",
            "--endpoint",
            &target.endpoint,
        ])
        .arg(&file)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap());
    let copy = imported_domain(&out);
    let c = target.client();
    let templates = c.list_templates().domain_id(&copy).send().await.unwrap();
    let statuses: Vec<_> = templates
        .templates()
        .iter()
        .map(|t| (t.name().to_owned(), t.status().clone()))
        .collect();
    assert!(
        statuses.contains(&("Retired".into(), TemplateStatus::Inactive)),
        "{statuses:?}"
    );
    let fields = c.list_fields().domain_id(&copy).send().await.unwrap();
    let region = fields
        .fields()
        .iter()
        .find(|f| f.name() == "Region")
        .unwrap()
        .field_id()
        .to_owned();
    assert!(
        fields.fields().iter().all(|f| f.name() != "Legacy"),
        "Legacy is deleted"
    );
    let found = c
        .search_cases()
        .domain_id(&copy)
        .fields(
            aws_sdk_connectcases::types::FieldIdentifier::builder()
                .id(&region)
                .build()
                .unwrap(),
        )
        .fields(
            aws_sdk_connectcases::types::FieldIdentifier::builder()
                .id("last_updated_user")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(found.total_count(), 3);
    let mut picks: Vec<String> = found
        .cases()
        .iter()
        .flatten()
        .flat_map(|c| c.fields())
        .filter(|f| f.id() == region)
        .map(|f| f.value().unwrap().as_string_value().unwrap().clone())
        .collect();
    picks.sort();
    assert_eq!(
        picks,
        ["old", "pdx", "pdx"],
        "a deactivated option a case holds survives"
    );
    assert!(
        found.cases()[0]
            .as_ref()
            .unwrap()
            .fields()
            .iter()
            .any(|f| f.id() == "last_updated_user"),
        "performedBy carries the last updating user"
    );
    assert!(original.contains("\"Legacy\""));

    // Related items: new ids on the new cases, the same content and creator.
    let items = c
        .search_all_related_items()
        .domain_id(&copy)
        .send()
        .await
        .unwrap();
    let items: Vec<_> = items.related_items().iter().flatten().collect();
    assert_eq!(items.len(), 6);
    let case_ids: Vec<String> = found
        .cases()
        .iter()
        .flatten()
        .map(|c| c.case_id().to_owned())
        .collect();
    assert!(
        items
            .iter()
            .all(|i| case_ids.contains(&i.case_id().to_owned()))
    );
    let comment = items
        .iter()
        .find(|i| *i.r#type() == RelatedItemType::Comment)
        .unwrap();
    let body = comment.content().unwrap().as_comment().unwrap();
    assert_eq!(body.body(), "Customer called twice");
    assert_eq!(
        comment.performed_by(),
        Some(&UserUnion::UserArn(AGENT.into()))
    );
    let link = items
        .iter()
        .find(|i| *i.r#type() == RelatedItemType::ConnectCase)
        .unwrap();
    let linked = link.content().unwrap().as_connect_case().unwrap();
    assert!(
        case_ids.contains(&linked.case_id().to_owned()),
        "the link points at the new case"
    );
}

#[tokio::test]
async fn bad_lines_are_reported_by_number_and_nothing_is_imported() {
    let dir = TempDir::new("transfer-bad");
    let file = dir.path().join("bad.ndjson");
    std::fs::write(
        &file,
        [
            r#"{"type":"domain","format":1,"name":"bad","createdTime":"2026-01-01T00:00:00Z"}"#,
            r#"{"type":"template","templateId":"t","name":"T","status":"Active","createdTime":"2026-01-01T00:00:00Z","lastModifiedTime":"2026-01-01T00:00:00Z"}"#,
            r#"{"type":"case","caseId":"c1","templateId":"t","fields":{"title":{"stringValue":"fine"}}}"#,
            r#"{"type":"case","caseId":"c2","templateId":"t","fields":{"title":{"doubleValue":1}}}"#,
            "",
            r#"{"type":"case","caseId":"c3","templateId":"t","fields":{"title":{"stringValue":"x"}},"extra":1}"#,
            "not json",
            r#"{"type":"relatedItem","caseId":"nope","relatedItemId":"r1","associationTime":"2026-01-01T00:00:00Z","content":{"comment":{"body":"b","contentType":"Text/Plain"}}}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let data = dir.path().join("data");
    let out = caseload(&[
        "import",
        "--data-dir",
        &data.display().to_string(),
        &file.display().to_string(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for line in ["line 4:", "line 6:", "line 7:", "line 8:"] {
        assert!(err.contains(line), "{line} missing from: {err}");
    }
    assert!(!err.contains("line 3:"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");

    let server = Server::start_embedded(&data);
    let domains = server.client().list_domains().send().await.unwrap();
    assert!(domains.domains().is_empty());
}
