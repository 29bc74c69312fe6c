//! Audit events recorded by CreateCase and UpdateCase, read straight from the store (beneath
//! GetCaseAuditEvents, which the API suites test): one event per write, with the old and new
//! value of each changed field and who performed it; DeleteCase removes them.

mod common;

use caseload_domain::store::{CaseKey, Store};
use caseload_model::CasesApi;
use caseload_model::shapes::*;
use common::ctx;
use std::collections::BTreeMap;

const AGENT: &str = "arn:aws:connect:us-east-1:000000000000:instance/i/agent/a";

fn value(id: &str, v: FieldValueUnion) -> FieldValue {
    FieldValue {
        id: id.into(),
        value: v,
    }
}

/// The fields of an audit event as id → (old, new).
fn changes(body: &serde_json::Value) -> BTreeMap<String, (serde_json::Value, serde_json::Value)> {
    body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["eventFieldId"].as_str().unwrap().to_owned(),
                (f["oldValue"].clone(), f["newValue"].clone()),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_write_is_audited_with_old_and_new_values() {
    let (store, svc) = common::in_memory().await;
    let ctx = ctx();
    let (d, t) = common::domain_with_template(&svc, "audit").await;
    let created = svc
        .create_case(
            &ctx,
            CreateCaseRequest {
                client_token: None,
                domain_id: d.clone(),
                fields: vec![value("title", FieldValueUnion::StringValue("first".into()))],
                performed_by: Some(UserUnion::UserArn(AGENT.into())),
                tags: None,
                template_id: t,
            },
        )
        .await
        .unwrap();
    svc.update_case(
        &ctx,
        UpdateCaseRequest {
            case_id: created.case_id.clone(),
            domain_id: d.clone(),
            fields: vec![
                value("title", FieldValueUnion::StringValue("second".into())),
                value("status", FieldValueUnion::StringValue("closed".into())),
                value("summary", FieldValueUnion::EmptyValue(EmptyFieldValue {})),
            ],
            performed_by: Some(UserUnion::CustomEntity("bot".into())),
        },
    )
    .await
    .unwrap();

    let events = store
        .list_audit(
            CaseKey::new(&ctx.account_id, &d, &created.case_id),
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    let (update, create) = (&events[0].body, &events[1].body);

    assert_eq!(create["type"], "Case.Created");
    assert_eq!(create["eventId"], events[1].event_id.as_str());
    assert_eq!(
        create["performedBy"]["iamPrincipalArn"],
        ctx.principal_arn.as_str()
    );
    assert_eq!(create["performedBy"]["user"]["userArn"], AGENT);
    let c = changes(create);
    assert_eq!(
        c["title"],
        (
            serde_json::Value::Null,
            serde_json::json!({"stringValue": "first"})
        )
    );
    assert_eq!(c["status"].1, serde_json::json!({"stringValue": "open"}));
    assert_eq!(
        c["case_id"].1,
        serde_json::json!({"stringValue": created.case_id})
    );
    assert_eq!(
        c["last_updated_user"].1,
        serde_json::json!({"userArnValue": AGENT})
    );
    for id in [
        "reference_number",
        "created_datetime",
        "last_updated_datetime",
    ] {
        assert!(c.contains_key(id), "{id}");
    }

    assert_eq!(update["type"], "Case.Updated");
    assert_eq!(update["performedBy"]["user"]["customEntity"], "bot");
    let u = changes(update);
    assert_eq!(
        u["title"],
        (
            serde_json::json!({"stringValue": "first"}),
            serde_json::json!({"stringValue": "second"})
        )
    );
    assert_eq!(
        u["status"],
        (
            serde_json::json!({"stringValue": "open"}),
            serde_json::json!({"stringValue": "closed"})
        )
    );
    assert_eq!(
        u["summary"],
        (
            serde_json::Value::Null,
            serde_json::json!({"emptyValue": {}})
        )
    );
    assert_eq!(u["last_closed_datetime"].0, serde_json::Value::Null);
    assert!(u.contains_key("last_updated_datetime"));
    let keys: Vec<&String> = u.keys().collect();
    assert_eq!(
        keys,
        [
            "last_closed_datetime",
            "last_updated_datetime",
            "status",
            "summary",
            "title"
        ]
    );
    // The event is an AuditEvent document as the API will return it.
    let parsed: AuditEvent = serde_json::from_value(update.clone()).unwrap();
    assert_eq!(parsed.r#type, AuditEventType::CaseUpdated);

    svc.delete_case(
        &ctx,
        DeleteCaseRequest {
            case_id: created.case_id.clone(),
            domain_id: d.clone(),
        },
    )
    .await
    .unwrap();
    assert!(
        store
            .list_audit(
                CaseKey::new(&ctx.account_id, &d, &created.case_id),
                None,
                10
            )
            .await
            .unwrap()
            .is_empty()
    );
}
