//! The domain layer's schema caches over `PgStore`, with several servers on one database: a
//! schema change made through one server is enforced by the others on their very next request,
//! a request that finds its schemas cached does not read them again, and a generation that
//! cannot be read fails the request instead of trusting the cache.

use crate::common::ctx;
use crate::harness::{PrivateServer, TestDb};
use caseload_domain::Service;
use caseload_model::shapes::*;
use caseload_model::{CasesApi, Error};
use caseload_store::postgres::{PgConfig, PgStore};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn req<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("a request")
}

/// A `Service` over a `PgStore` of its own (one server) on `config`'s database.
async fn server(config: &PgConfig) -> Service {
    let store = Arc::new(PgStore::open(config).await.expect("a store"));
    Service::new(store, Default::default())
        .await
        .expect("a service")
}

/// A domain with an active template "T" and a Number field "Priority", made through `svc`;
/// their ids.
async fn domain_with_template(svc: &Service) -> (String, String, String) {
    let d = svc
        .create_domain(&ctx(), req(json!({"name": "d"})))
        .await
        .unwrap()
        .domain_id;
    let t = svc
        .create_template(&ctx(), req(json!({"domainId": d, "name": "T"})))
        .await
        .unwrap()
        .template_id;
    let f = create_field(svc, &d, "Priority", "Number").await;
    (d, t, f)
}

/// A new field of `domain` made through `svc`; its id.
async fn create_field(svc: &Service, domain: &str, name: &str, field_type: &str) -> String {
    svc.create_field(
        &ctx(),
        req(json!({"domainId": domain, "name": name, "type": field_type})),
    )
    .await
    .unwrap()
    .field_id
}

/// CreateCase through `svc` with the given fields (title is always set).
async fn create_case(
    svc: &Service,
    domain: &str,
    template: &str,
    mut fields: Vec<Value>,
) -> caseload_model::Result<CreateCaseResponse> {
    fields.push(json!({"id": "title", "value": {"stringValue": "t"}}));
    svc.create_case(
        &ctx(),
        req(json!({"domainId": domain, "templateId": template, "fields": fields})),
    )
    .await
}

/// Asserts `r` is a ValidationException whose message says `says` (so it is refused for the
/// reason the test means).
fn refused(r: &caseload_model::Result<CreateCaseResponse>, says: &str, what: &str) {
    assert!(
        matches!(r, Err(Error::Validation(m)) if m.contains(says)),
        "{what}: expected a ValidationException saying {says:?}, got {r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_change_through_one_server_is_enforced_by_another_on_its_next_call() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let (a, b) = (server(&db.config()).await, server(&db.config()).await);
    let (d, t, priority) = domain_with_template(&a).await;
    // B caches the domain, the template, the fields and the event configuration.
    create_case(&b, &d, &t, vec![]).await.unwrap();

    // A field created through A is known to B at once.
    let urgency = create_field(&a, &d, "Urgency", "Text").await;
    let urgent = json!({"id": urgency, "value": {"stringValue": "high"}});
    create_case(&b, &d, &t, vec![urgent.clone()]).await.unwrap();

    // So are a select field's options put through A: refused before, taken at once after.
    let tier = create_field(&a, &d, "Tier", "SingleSelect").await;
    let gold = json!({"id": tier, "value": {"stringValue": "gold"}});
    refused(
        &create_case(&b, &d, &t, vec![gold.clone()]).await,
        "is not an option",
        "a value of a select field without options",
    );
    a.batch_put_field_options(
        &ctx(),
        req(json!({"domainId": d, "fieldId": tier,
                   "options": [{"name": "Gold", "value": "gold", "active": true}]})),
    )
    .await
    .unwrap();
    create_case(&b, &d, &t, vec![gold]).await.unwrap();

    // A template change made through A is enforced by B on its next call.
    a.update_template(
        &ctx(),
        req(json!({"domainId": d, "templateId": t, "requiredFields": [{"fieldId": priority}]})),
    )
    .await
    .unwrap();
    refused(
        &create_case(&b, &d, &t, vec![urgent.clone()]).await,
        "Required fields have no value",
        "a case without the field the template now requires",
    );
    let prio = json!({"id": priority, "value": {"doubleValue": 1.0}});
    create_case(&b, &d, &t, vec![urgent.clone(), prio.clone()])
        .await
        .unwrap();

    // So is a field deleted through A.
    a.delete_field(&ctx(), req(json!({"domainId": d, "fieldId": urgency})))
        .await
        .unwrap();
    refused(
        &create_case(&b, &d, &t, vec![urgent, prio]).await,
        "deleted",
        "a case with a field deleted through the other server",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_schemas_are_cached_does_not_read_them_again() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let svc = server(&db.config()).await;
    let (d, t, priority) = domain_with_template(&svc).await;
    let prio = json!({"id": priority, "value": {"doubleValue": 1.0}});
    create_case(&svc, &d, &t, vec![prio.clone()]).await.unwrap();

    // Behind the store's back (no schema write, so the generation stays), the template and the
    // field are marked deleted in the database. A call that read them again would refuse the
    // case; the cached call does not read them, so it still takes it.
    let sql = db.client().await;
    let marked = sql
        .execute(
            "UPDATE resources SET deleted = true WHERE id = $1 OR id = $2",
            &[&t, &priority],
        )
        .await
        .unwrap();
    assert_eq!(marked, 2);
    create_case(&svc, &d, &t, vec![prio.clone()]).await.unwrap();

    // Once the generation moves (as any schema write of any server moves it), the next call
    // loads them again and sees the change.
    sql.execute(
        "UPDATE schema_generation SET generation = generation + 1",
        &[],
    )
    .await
    .unwrap();
    refused(
        &create_case(&svc, &d, &t, vec![prio]).await,
        "deleted",
        "a case from a template deleted in the database",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generation_that_cannot_be_read_fails_the_request_retryably_rather_than_trust_the_cache()
{
    let Some(server_db) = tokio::task::spawn_blocking(PrivateServer::start)
        .await
        .unwrap()
    else {
        return;
    };
    let config = PgConfig {
        connect_timeout: Duration::from_secs(2),
        wait_timeout: Duration::from_secs(3),
        ..PgConfig::new(server_db.url())
    };
    let svc = server(&config).await;
    let d = svc
        .create_domain(&ctx(), req(json!({"name": "d"})))
        .await
        .unwrap()
        .domain_id;
    // GetDomain is answered from the domain cache once it is warm...
    svc.get_domain(&ctx(), req(json!({"domainId": d})))
        .await
        .unwrap();
    let server_db = tokio::task::spawn_blocking(move || {
        server_db.stop();
        server_db
    })
    .await
    .unwrap();
    // ...but only after the generation says it is current: with the database gone, the call
    // fails with the retryable error instead of answering from a cache that may be stale.
    let r = svc.get_domain(&ctx(), req(json!({"domainId": d}))).await;
    assert!(
        matches!(r, Err(Error::Unavailable { .. })),
        "expected a retryable error, got {r:?}"
    );
    drop(server_db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_reads_the_schema_generation_once_for_all_its_cached_look_ups() {
    let Some(db) = TestDb::create().await else {
        return;
    };
    let svc = server(&db.config()).await;
    let (d, t, _) = domain_with_template(&svc).await;
    // Count the store's reads of the generation in the database: the table becomes a view of
    // itself that draws from a sequence each time it is read (the store's one query of it,
    // `SELECT generation FROM schema_generation`, reads its one row).
    let sql = db.client().await;
    sql.batch_execute(
        "CREATE SEQUENCE generation_reads;
         ALTER TABLE schema_generation RENAME TO schema_generation_counted;
         CREATE VIEW schema_generation AS
             SELECT generation FROM schema_generation_counted
             WHERE nextval('generation_reads') > 0;",
    )
    .await
    .unwrap();
    let reads = || async {
        let row = sql
            .query_one(
                "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM generation_reads",
                &[],
            )
            .await
            .unwrap();
        row.get::<_, i64>(0)
    };
    // The first CreateCase fills the caches; the second looks up the domain, the template, the
    // fields and the event configuration, all cached, on one read of the generation.
    create_case(&svc, &d, &t, vec![]).await.unwrap();
    let before = reads().await;
    assert!(before >= 1, "the view counts reads ({before})");
    create_case(&svc, &d, &t, vec![]).await.unwrap();
    assert_eq!(reads().await - before, 1);
}
