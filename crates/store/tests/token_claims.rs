//! Client-token claims in the SQLite store beyond the contract the conformance suite pins
//! (`caseload_store::conformance::tokens`): a request waiting for a claimant (`wait_token`) wakes
//! as soon as the claim ends, instead of waiting out its timeout as the contract allows.

mod common;

use caseload_domain::store::{Claim, Store, TokenClaim};
use caseload_model::Timestamp;
use std::time::{Duration, Instant};

const T0: i64 = 1_700_000_000_000;

/// A claim of the token "tok" of the domain `d` by `claim_id`, for the request `hash`.
fn claim(d: &str, claim_id: &str, hash: &str, at_ms: i64) -> TokenClaim {
    TokenClaim {
        account_id: common::ctx().account_id,
        domain_id: d.into(),
        operation: "BatchUpdateCase",
        token: "tok".into(),
        request_hash: hash.into(),
        claim_id: claim_id.into(),
        at: Timestamp::from_unix_millis(at_ms),
    }
}

#[tokio::test]
async fn a_released_token_is_free_again_and_its_waiters_wake() {
    let (store, svc) = common::in_memory().await;
    let (d, _) = common::domain_with_template(&svc, "t").await;
    let lease = Timestamp::from_unix_millis(T0 - 20_000);
    let first = claim(&d, "first", "h", T0);
    assert_eq!(
        store.claim_token(&first, lease).await.unwrap(),
        Claim::Owned
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
    let other = claim(&d, "other", "h2", T0 + 2);
    assert_eq!(
        store.claim_token(&other, lease).await.unwrap(),
        Claim::Owned
    );
}
