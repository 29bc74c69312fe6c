//! Client-token claims in the SQLite store (`Store::claim_token` and the writes it fences): of
//! concurrent claims one wins; a claim goes stale only when not renewed, and is then taken over
//! only by the same request; the claimant that lost it can neither write nor finish; a finished
//! token replays, a released one is free again, and a waiter wakes when a claim ends.

use caseload_domain::Service;
use caseload_domain::store::{AuditRecord, CaseRecord, Claim, Store, StoreError, TokenClaim};
use caseload_model::shapes::*;
use caseload_model::{CasesApi, RequestContext, Timestamp};
use caseload_store::SqliteStore;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LEASE_MS: i64 = 20_000;
const T0: i64 = 1_700_000_000_000;

fn ctx() -> RequestContext {
    RequestContext {
        account_id: "000000000000".into(),
        region: "us-east-1".into(),
        principal_arn: "arn:aws:iam::000000000000:user/test".into(),
        request_id: "r".into(),
    }
}

/// A claim of the token "tok" of a domain `d` by `claim_id`, for the request `hash`, at `at_ms`.
fn claim(d: &str, claim_id: &str, hash: &str, at_ms: i64) -> TokenClaim {
    TokenClaim {
        account_id: ctx().account_id,
        domain_id: d.into(),
        operation: "BatchUpdateCase",
        token: "tok".into(),
        request_hash: hash.into(),
        claim_id: claim_id.into(),
        at: Timestamp::from_unix_millis(at_ms),
    }
}

/// What a claim made at `at_ms` finds, with the lease measured from then.
async fn try_claim(store: &SqliteStore, c: &TokenClaim) -> Claim {
    let stale_before = Timestamp::from_unix_millis(c.at.unix_millis() - LEASE_MS);
    store.claim_token(c, stale_before).await.unwrap()
}

fn held(hash: &str, by: &str) -> Claim {
    Claim::Held {
        request_hash: hash.into(),
        claim_id: by.into(),
    }
}

/// A store with one case in one domain; returns the store, the domain id and the case.
async fn with_a_case() -> (Arc<SqliteStore>, String, CaseRecord) {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let svc = Service::new(store.clone(), Default::default())
        .await
        .unwrap();
    let ctx = ctx();
    let d = svc
        .create_domain(&ctx, CreateDomainRequest { name: "t".into() })
        .await
        .unwrap()
        .domain_id;
    let t = svc
        .create_template(
            &ctx,
            serde_json::from_value(json!({"domainId": d, "name": "T"})).unwrap(),
        )
        .await
        .unwrap()
        .template_id;
    let case_id = svc
        .create_case(
            &ctx,
            CreateCaseRequest {
                client_token: None,
                domain_id: d.clone(),
                fields: vec![FieldValue {
                    id: "title".into(),
                    value: FieldValueUnion::StringValue("first".into()),
                }],
                performed_by: None,
                tags: None,
                template_id: t,
            },
        )
        .await
        .unwrap()
        .case_id;
    let case = store
        .get_case(&ctx.account_id, &d, &case_id)
        .await
        .unwrap()
        .unwrap();
    (store, d, case)
}

/// The next version of `case` with an audit event, as an update writes it.
fn next(case: &CaseRecord, n: i64) -> (CaseRecord, AuditRecord) {
    let mut c = case.clone();
    c.version += n;
    let audit = AuditRecord {
        event_id: format!("e{n}"),
        case_id: c.case_id.clone(),
        performed_time: Timestamp::from_unix_millis(T0 + n),
        body: json!({"eventId": format!("e{n}"), "type": "Case.Updated", "fields": []}),
    };
    (c, audit)
}

async fn audit_count(store: &SqliteStore, d: &str, case: &CaseRecord) -> usize {
    store
        .list_audit(&case.account_id, d, &case.case_id, None, 100)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_stale_claim_is_taken_over_by_the_same_request_only_and_its_claimant_fenced_out() {
    let (store, d, case) = with_a_case().await;
    let first = claim(&d, "first", "h", T0);
    assert_eq!(try_claim(&store, &first).await, Claim::Owned);
    // While fresh, the token is held, for a retry of the same request and for another alike.
    assert_eq!(
        try_claim(&store, &claim(&d, "second", "h", T0 + 1_000)).await,
        held("h", "first")
    );
    assert_eq!(
        try_claim(&store, &claim(&d, "other", "h2", T0 + 1_000)).await,
        held("h", "first")
    );

    // A fenced write renews the claim: a lease after the claim, it is not stale yet.
    let (v2, a2) = next(&case, 1);
    let renewed = TokenClaim {
        at: Timestamp::from_unix_millis(T0 + 15_000),
        ..first.clone()
    };
    store
        .update_case_with_items(&v2, Some(&a2), &[], Some(&renewed))
        .await
        .unwrap();
    assert_eq!(
        try_claim(&store, &claim(&d, "second", "h", T0 + LEASE_MS + 1_000)).await,
        held("h", "first")
    );

    // Stale: another request still cannot have the token, a retry of the same one takes it.
    let later = T0 + 15_000 + LEASE_MS + 1;
    assert_eq!(
        try_claim(&store, &claim(&d, "other", "h2", later)).await,
        held("h", "first")
    );
    let second = claim(&d, "second", "h", later);
    assert_eq!(try_claim(&store, &second).await, Claim::Owned);

    // The first claimant is fenced out: its next write, its finish and its release do nothing.
    let audits = audit_count(&store, &d, &case).await;
    let (v3, a3) = next(&case, 2);
    assert!(matches!(
        store
            .update_case_with_items(&v3, Some(&a3), &[], Some(&first))
            .await,
        Err(StoreError::TokenLost)
    ));
    let stored = store
        .get_case(&case.account_id, &d, &case.case_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, v2.version);
    assert_eq!(audit_count(&store, &d, &case).await, audits);
    assert!(
        !store
            .finish_token(&first, &json!({"by": "first"}))
            .await
            .unwrap()
    );
    store.release_token(&first).await.unwrap();
    assert_eq!(
        try_claim(&store, &claim(&d, "third", "h", later + 1)).await,
        held("h", "second")
    );

    // The new claimant writes and finishes; from then on the token replays its response.
    store
        .update_case_with_items(&v3, Some(&a3), &[], Some(&second))
        .await
        .unwrap();
    assert!(
        store
            .finish_token(&second, &json!({"by": "second"}))
            .await
            .unwrap()
    );
    match try_claim(&store, &claim(&d, "fourth", "h", later + 2)).await {
        Claim::Done(seen) => {
            assert_eq!(seen.request_hash, "h");
            assert_eq!(seen.response, json!({"by": "second"}));
        }
        other => panic!("expected the finished token, got {other:?}"),
    }
    // A finished token is never claimed again, however old.
    assert!(matches!(
        try_claim(&store, &claim(&d, "fifth", "h", later + 10 * LEASE_MS)).await,
        Claim::Done(_)
    ));
    // The finished token is not a claim: an unfenced read of it sees the response.
    let seen = store
        .get_idempotency(&case.account_id, &d, "BatchUpdateCase", "tok")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.response, json!({"by": "second"}));
}

#[tokio::test]
async fn a_released_token_is_free_again_and_its_waiters_wake() {
    let (store, d, _) = with_a_case().await;
    let first = claim(&d, "first", "h", T0);
    assert_eq!(try_claim(&store, &first).await, Claim::Owned);
    // A claimed token has no response to replay yet.
    assert!(
        store
            .get_idempotency(&first.account_id, &d, "BatchUpdateCase", "tok")
            .await
            .unwrap()
            .is_none()
    );

    let waiter = {
        let (store, probe) = (store.clone(), claim(&d, "second", "h", T0 + 1));
        tokio::spawn(async move {
            let started = Instant::now();
            store
                .wait_token(&probe, "first", Duration::from_secs(30))
                .await
                .unwrap();
            started.elapsed()
        })
    };
    store.release_token(&first).await.unwrap();
    let waited = waiter.await.unwrap();
    assert!(
        waited < Duration::from_secs(10),
        "the waiter slept {waited:?} instead of waking when the claim ended"
    );
    // Free again, for any request.
    assert_eq!(
        try_claim(&store, &claim(&d, "other", "h2", T0 + 2)).await,
        Claim::Owned
    );
}
