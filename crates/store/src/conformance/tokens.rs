//! Client-token claims of writes that span several transactions: one owner at a time, a stale
//! claim taken over only by the same request, fenced writes refused once a claim is lost, and
//! the answer remembered when the claim finishes.

use super::*;
use caseload_domain::store::{Claim, TokenClaim, TokenKey};
use std::time::{Duration, Instant};

fn claim(claim_id: &str, hash: &str, at_ms: i64) -> TokenClaim {
    TokenClaim {
        account_id: ACCOUNT.into(),
        domain_id: DOMAIN.into(),
        operation: "BatchUpdateCase",
        token: "tok".into(),
        request_hash: hash.into(),
        claim_id: claim_id.into(),
        at: at(at_ms),
    }
}

/// How long a claim may go unrenewed before it is stale, in these tests.
const LEASE_MS: i64 = 20_000;

async fn try_claim(store: &dyn Store, c: &TokenClaim) -> Claim {
    let stale_before = at(c.at.unix_millis() - at(0).unix_millis() - LEASE_MS);
    store.claim_token(c, stale_before).await.unwrap()
}

fn held(hash: &str, by: &str) -> Claim {
    Claim::Held {
        request_hash: hash.into(),
        claim_id: by.into(),
    }
}

pub async fn token_claims_have_one_owner_at_a_time(store: &dyn Store) {
    with_domain(store).await;
    let a = claim("a", "request-1", 0);
    assert_eq!(try_claim(store, &a).await, Claim::Owned);
    assert_eq!(
        try_claim(store, &claim("b", "request-1", 10)).await,
        held("request-1", "a")
    );
    assert_eq!(
        try_claim(store, &claim("c", "request-2", 10)).await,
        held("request-1", "a")
    );
    // A claimed token has no answer yet.
    let key = TokenKey::new(domain_key(), "BatchUpdateCase", "tok");
    assert!(store.get_idempotency(key.clone()).await.unwrap().is_none());

    let mut finished = a.clone();
    finished.at = at(20);
    assert!(
        store
            .finish_token(&finished, &json!({"done": 1}))
            .await
            .unwrap()
    );
    let Claim::Done(seen) = try_claim(store, &claim("b", "request-1", 30)).await else {
        panic!("a finished token must be Done");
    };
    assert_eq!(seen.response, json!({"done": 1}));
    assert_eq!(seen.request_hash, "request-1");
    assert_eq!(store.get_idempotency(key).await.unwrap(), Some(seen));
    // Finished, it can be neither finished nor released again.
    assert!(!store.finish_token(&a, &json!({"done": 2})).await.unwrap());
    store.release_token(&a).await.unwrap();
    assert!(matches!(
        try_claim(store, &claim("d", "request-1", 40)).await,
        Claim::Done(_)
    ));
}

pub async fn stale_claims_are_taken_over_by_the_same_request_only(store: &dyn Store) {
    let v1 = with_case(store).await;
    let a = claim("a", "request-1", 0);
    assert_eq!(try_claim(store, &a).await, Claim::Owned);
    // A fenced write renews the claim.
    let mut renewed = a.clone();
    renewed.at = at(LEASE_MS);
    let v2 = next(&v1, 2);
    store
        .update_case_with_items(&v2, Some(&audit("case-1", 2)), None, &[], Some(&renewed))
        .await
        .unwrap();
    // Not stale measured from the renewal: still held.
    assert_eq!(
        try_claim(store, &claim("b", "request-1", LEASE_MS + 10)).await,
        held("request-1", "a")
    );
    // Stale: another request cannot take it over; a retry of the same request can.
    let late = 3 * LEASE_MS;
    assert_eq!(
        try_claim(store, &claim("c", "request-2", late)).await,
        held("request-1", "a")
    );
    let b = claim("b", "request-1", late);
    assert_eq!(try_claim(store, &b).await, Claim::Owned);

    // The claimant that lost the token can neither write nor finish.
    let v3 = next(&v2, 3);
    assert_refused(
        store
            .update_case_with_items(&v3, Some(&audit("case-1", 3)), None, &[], Some(&a))
            .await,
        "TokenLost for a lost claim",
        |e| matches!(e, StoreError::TokenLost),
    );
    assert_eq!(stored_case(store, "case-1").await, Some(v2));
    assert_eq!(audit_count(store, "case-1").await, 2);
    assert!(!store.finish_token(&a, &json!({"by": "a"})).await.unwrap());
    // Its release frees nothing; the owner's does.
    store.release_token(&a).await.unwrap();
    assert_eq!(
        try_claim(store, &claim("c", "request-2", late + 1)).await,
        held("request-1", "b")
    );
    store.release_token(&b).await.unwrap();
    assert_eq!(
        try_claim(store, &claim("c", "request-2", late + 2)).await,
        Claim::Owned
    );
}

pub async fn wait_token_returns_once_the_claim_ends(store: &dyn Store) {
    with_domain(store).await;
    let a = claim("a", "request-1", 0);
    assert_eq!(try_claim(store, &a).await, Claim::Owned);
    // A claim that does not hold the token is not waited for beyond the timeout (a backend
    // that cannot observe claims may wait it out).
    let started = Instant::now();
    store
        .wait_token(&a, "someone-else", Duration::from_secs(2))
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    // A held claim is waited for at most the timeout.
    let started = Instant::now();
    store
        .wait_token(&a, "a", Duration::from_millis(200))
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(150), "{waited:?}");
    assert!(waited < Duration::from_secs(10), "{waited:?}");
}
