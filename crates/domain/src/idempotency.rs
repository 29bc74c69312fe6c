//! `clientToken` idempotency, shared by CreateCase, BatchUpdateCase and BatchCreateRelatedItem.
//!
//! A token is scoped to account, domain and operation, and remembered with a digest of its
//! request (`request_digest`): the same request again gets the first response, another request
//! a ConflictException, and concurrent duplicates do the work once.
//!
//! CreateCase and BatchCreateRelatedItem write everything in one transaction, so their token is
//! stored in that transaction and a duplicate finds it there (`Created::Replayed`). BatchUpdateCase
//! writes each case in its own transaction, so its token is *claimed* first (`claim`): a claim is
//! stored before any work, fences every write of the work (`Store::update_case_with_items`), and
//! ends with the response stored (`Store::finish_token`) or, if the request failed as a whole,
//! with the token freed (`Store::release_token`). Requests that find the token claimed wait for
//! the claimant (same request) or are refused at once (another request). A claimant that died
//! leaves a claim nobody renews; after `CLAIM_LEASE` a retry of the same request takes it over,
//! and the fence stops the old claimant should it only have been slow.

use crate::Service;
use crate::store::{Claim, DomainKey, IdempotencyRecord, TokenClaim, TokenKey};
use caseload_model::{Error, RequestContext, Result, Timestamp};
use serde::Serialize;
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long a claim holds its token without being renewed (each case write renews it). Only a
/// stuck or dead claimant goes this long without a write; the fence makes a takeover safe even
/// when the claimant was merely slow.
pub(crate) const CLAIM_LEASE: Duration = Duration::from_secs(20);
/// How long a request waits for another request with its token before answering that the token
/// is still in use. Longer than the lease, so a retry outwaits a claimant that died.
pub(crate) const WAIT_LIMIT: Duration = Duration::from_secs(25);
/// How often a waiting request looks at the claim again when nothing wakes it: a claimant in
/// another server, or one that died, ends its claim without a signal this process can see.
const RECHECK: Duration = Duration::from_secs(1);

/// A digest of everything a request asks for except its `clientToken` and its `domainId` (the
/// token's scope), canonically: object members in name order, and the members named in
/// `unordered` (lists whose order means nothing, such as field values) sorted.
pub(crate) fn request_digest(
    operation: &str,
    input: &impl Serialize,
    unordered: &[&str],
) -> Result<String> {
    let mut v = serde_json::to_value(input).map_err(Error::internal)?;
    if let Value::Object(m) = &mut v {
        m.remove("clientToken");
        m.remove("domainId");
        for name in unordered {
            if let Some(Value::Array(items)) = m.get_mut(*name) {
                items.sort_by_cached_key(|i| canonical(i).to_string());
            }
        }
    }
    Ok(crate::paging::query_digest(&(operation, canonical(&v))))
}

/// `v` with every object's members in name order, whatever map type serde_json was built with.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut members: Vec<(&String, &Value)> = m.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The ConflictException for a token used before with another request.
pub(crate) fn reused(operation: &str, token: &str) -> Error {
    Error::conflict(format!(
        "The clientToken '{token}' was already used with a different {operation} request"
    ))
}

/// The response remembered for a token, if `seen` was for the same request.
pub(crate) fn replay<T: serde::de::DeserializeOwned>(
    operation: &str,
    seen: IdempotencyRecord,
    digest: &str,
) -> Result<T> {
    if seen.request_hash != digest {
        return Err(reused(operation, &seen.token));
    }
    serde_json::from_value(seen.response).map_err(Error::internal)
}

/// The response remembered for `token` of `operation` in the caller's domain `domain_id`, if a
/// request with that token was answered before; ConflictException if that was another request
/// (`digest` differs). Looked up before any validation: the original request was valid when it
/// was made, even if the schema has changed since.
pub(crate) async fn remembered<T: serde::de::DeserializeOwned>(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    operation: &'static str,
    token: &str,
    digest: &str,
) -> Result<Option<T>> {
    let key = TokenKey::new(DomainKey::new(&ctx.account_id, domain_id), operation, token);
    match svc.store.get_idempotency(key).await? {
        Some(seen) => replay(operation, seen, digest).map(Some),
        None => Ok(None),
    }
}

/// `claim` renewed now: what a fenced write carries.
pub(crate) fn renewed(claim: &TokenClaim) -> TokenClaim {
    TokenClaim {
        at: Timestamp::now(),
        ..claim.clone()
    }
}

/// What `claim` found.
pub(crate) enum Claimed {
    /// This request holds the token: do the work, then `finish_token` or `release_token`.
    Owned(TokenClaim),
    /// The same request finished before: answer with what it answered.
    Replay(IdempotencyRecord),
}

/// Claims `token` for a request whose digest is `digest`, waiting (at most `WAIT_LIMIT`) while
/// another claim of the same request holds it. A token used for another request is a
/// ConflictException, and so is one still held when the wait ends.
pub(crate) async fn claim(
    svc: &Service,
    ctx: &RequestContext,
    domain_id: &str,
    operation: &'static str,
    token: &str,
    digest: &str,
) -> Result<Claimed> {
    let deadline = Instant::now() + WAIT_LIMIT;
    let mut claim = TokenClaim {
        account_id: ctx.account_id.clone(),
        domain_id: domain_id.to_owned(),
        operation,
        token: token.to_owned(),
        request_hash: digest.to_owned(),
        claim_id: crate::new_id(),
        at: Timestamp::now(),
    };
    loop {
        claim.at = Timestamp::now();
        let lease = i64::try_from(CLAIM_LEASE.as_millis()).unwrap_or(i64::MAX);
        let stale_before = Timestamp::from_unix_millis(claim.at.unix_millis() - lease);
        match svc.store.claim_token(&claim, stale_before).await? {
            Claim::Owned => return Ok(Claimed::Owned(claim)),
            Claim::Done(seen) if seen.request_hash == digest => {
                return Ok(Claimed::Replay(seen));
            }
            Claim::Done(_) => return Err(reused(operation, token)),
            Claim::Held { request_hash, .. } if request_hash != digest => {
                return Err(reused(operation, token));
            }
            Claim::Held { claim_id, .. } => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Error::conflict(format!(
                        "A {operation} request with the clientToken '{token}' is still in progress; retry later"
                    )));
                }
                svc.store
                    .wait_token(&claim, &claim_id, left.min(RECHECK))
                    .await?;
            }
        }
    }
}

/// Ends a claim whose request failed as a whole, so the token can be used again. A failure
/// to do so is only logged: the claim then goes stale after `CLAIM_LEASE`.
pub(crate) async fn release(svc: &Service, ctx: &RequestContext, claim: &TokenClaim) {
    if let Err(e) = svc.store.release_token(claim).await {
        tracing::warn!(request_id = %ctx.request_id, error = %e, "releasing a client token failed; it frees itself when its claim goes stale");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_digest_leaves_out_the_token_and_the_domain_and_ignores_member_order() {
        let a = json!({"clientToken": "1", "domainId": "d1", "title": "t", "fields": [{"id": "x", "value": 1}, {"id": "y", "value": 2}], "cases": ["a", "b"]});
        let b = json!({"cases": ["a", "b"], "title": "t", "fields": [{"value": 2, "id": "y"}, {"value": 1, "id": "x"}], "clientToken": "2", "domainId": "d2"});
        let d = |v: &Value| request_digest("Op", v, &["fields"]).unwrap();
        assert_eq!(d(&a), d(&b));
        // The order of the other lists is part of the request.
        let mut swapped = a.clone();
        swapped["cases"] = json!(["b", "a"]);
        assert_ne!(d(&a), d(&swapped));
        // Any other member is.
        let mut other = a.clone();
        other["title"] = json!("u");
        assert_ne!(d(&a), d(&other));
        let mut more = a.clone();
        more["status"] = json!("open");
        assert_ne!(d(&a), d(&more));
        // And so is the operation.
        assert_ne!(d(&a), request_digest("Other", &a, &["fields"]).unwrap());
    }
}
