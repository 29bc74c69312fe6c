//! Domains and tags through the Rust SDK.

use caseload_sdk_tests::{Server, TempDir, error_code};

#[tokio::test]
async fn create_get_list_delete() {
    let server = Server::start();
    let c = server.client();
    let created = c.create_domain().name("support").send().await.unwrap();
    let id = created.domain_id().to_owned();
    assert_eq!(
        created.domain_arn(),
        format!("arn:aws:cases:us-east-1:000000000000:domain/{id}")
    );
    assert_eq!(created.domain_status().as_str(), "Active");

    let got = c.get_domain().domain_id(&id).send().await.unwrap();
    assert_eq!(got.name(), "support");
    assert_eq!(got.domain_arn(), created.domain_arn());
    assert!(got.tags().unwrap().is_empty());

    let listed = c.list_domains().send().await.unwrap();
    assert_eq!(listed.domains().len(), 1);
    assert_eq!(listed.domains()[0].domain_id(), id);
    assert!(listed.next_token().is_none());

    c.delete_domain().domain_id(&id).send().await.unwrap();
    let e = c.get_domain().domain_id(&id).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 404);
    let e = c.delete_domain().domain_id(&id).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    assert!(c.list_domains().send().await.unwrap().domains().is_empty());
}

#[tokio::test]
async fn not_found_carries_resource_id_and_type() {
    let server = Server::start();
    let e = server
        .client()
        .get_domain()
        .domain_id("no-such-domain")
        .send()
        .await
        .unwrap_err();
    let se = e.into_service_error();
    match se {
        aws_sdk_connectcases::operation::get_domain::GetDomainError::ResourceNotFoundException(
            nf,
        ) => {
            assert_eq!(nf.resource_id(), "no-such-domain");
            assert_eq!(nf.resource_type(), "Domain");
            assert!(nf.message().contains("no-such-domain"));
        }
        other => panic!("expected ResourceNotFoundException, got {other:?}"),
    }
}

#[tokio::test]
async fn names_are_unique_and_the_quota_holds() {
    let server = Server::start_with(&["--max-domains", "2"]);
    let c = server.client();
    c.create_domain().name("a").send().await.unwrap();
    let e = c.create_domain().name("a").send().await.unwrap_err();
    assert_eq!(error_code(&e), "ConflictException");
    c.create_domain().name("b").send().await.unwrap();
    let e = c.create_domain().name("c").send().await.unwrap_err();
    assert_eq!(error_code(&e), "ServiceQuotaExceededException");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 402);
}

#[tokio::test]
async fn list_pages_through_every_domain_once() {
    let server = Server::start_with(&["--max-domains", "7"]);
    let c = server.client();
    let mut ids = vec![];
    for i in 0..7 {
        ids.push(
            c.create_domain()
                .name(format!("d{i}"))
                .send()
                .await
                .unwrap()
                .domain_id()
                .to_owned(),
        );
    }
    let mut seen = vec![];
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = c
            .list_domains()
            .max_results(3)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.domains().len() <= 3);
        seen.extend(page.domains().iter().map(|d| d.domain_id().to_owned()));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    ids.sort();
    seen.sort();
    assert_eq!(seen, ids);

    // A token is bound to its query and tamper-evident.
    let first = c.list_domains().max_results(3).send().await.unwrap();
    let mut bad = first.next_token().unwrap().to_owned();
    bad.insert(5, 'x');
    let e = c.list_domains().next_token(bad).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
}

#[tokio::test]
async fn validation_errors_name_the_member_and_rule() {
    let server = Server::start();
    let c = server.client();
    let e = c
        .create_domain()
        .name("x".repeat(101))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    let msg = e.into_service_error().to_string();
    assert!(
        msg.contains("'name'") && msg.contains("length less than or equal to 100"),
        "{msg}"
    );
    let e = c.list_domains().max_results(11).send().await.unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
}

#[tokio::test]
async fn tags_on_a_domain() {
    let server = Server::start();
    let c = server.client();
    let arn = c
        .create_domain()
        .name("t")
        .send()
        .await
        .unwrap()
        .domain_arn()
        .to_owned();
    c.tag_resource()
        .arn(&arn)
        .tags("team", Some("blue".into()))
        .tags("tier", Some("1".into()))
        .send()
        .await
        .unwrap();
    let tags = c.list_tags_for_resource().arn(&arn).send().await.unwrap();
    let tags = tags.tags().unwrap();
    assert_eq!(tags.get("team"), Some(&Some("blue".to_owned())));
    assert_eq!(tags.len(), 2);
    c.untag_resource()
        .arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = c.list_tags_for_resource().arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().len(), 1);
    let domain_id = arn.rsplit('/').next().unwrap();
    let got = c.get_domain().domain_id(domain_id).send().await.unwrap();
    assert_eq!(got.tags().unwrap().get("tier"), Some(&Some("1".to_owned())));

    let e = c
        .tag_resource()
        .arn(&arn)
        .tags("aws:reserved", Some("x".into()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
    let missing = arn.replace(domain_id, "00000000-0000-0000-0000-000000000000");
    let e = c
        .list_tags_for_resource()
        .arn(missing)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ResourceNotFoundException");
    let e = c
        .list_tags_for_resource()
        .arn("arn:aws:s3:::bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&e), "ValidationException");
}

#[tokio::test]
async fn a_restart_keeps_everything() {
    let dir = TempDir::new("domains-restart");
    let server = Server::start_persistent(dir.path());
    let c = server.client();
    let arn = c
        .create_domain()
        .name("durable")
        .send()
        .await
        .unwrap()
        .domain_arn()
        .to_owned();
    c.tag_resource()
        .arn(&arn)
        .tags("k", Some("v".into()))
        .send()
        .await
        .unwrap();
    // SIGKILL: only what was committed to disk survives.
    server.kill();

    let server = Server::start_persistent(dir.path());
    let c = server.client();
    let listed = c.list_domains().send().await.unwrap();
    assert_eq!(listed.domains().len(), 1);
    assert_eq!(listed.domains()[0].name(), "durable");
    let tags = c.list_tags_for_resource().arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().get("k"), Some(&Some("v".to_owned())));
    assert!(server.terminate().success(), "SIGTERM must exit 0");
}
