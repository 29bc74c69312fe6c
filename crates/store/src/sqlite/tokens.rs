//! Client-token claims (`Store::claim_token`): the token of a request that writes in several
//! transactions is stored as a claim before the work, renewed by each write the claim fences,
//! and ended by storing the response (or removed when the request fails as a whole). A token is
//! one row of `idempotency`; `claim` is non-NULL while it is claimed.

use super::backend;
use caseload_domain::store::{Claim, IdempotencyRecord, StoreError, StoreResult, TokenClaim};
use caseload_model::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

/// Claims `claim`'s token unless another claim holds it or a response is stored for it (see
/// `Store::claim_token`). Runs on the writer, so the look-up and the insert are one step.
pub fn claim(
    c: &mut Connection,
    claim: &TokenClaim,
    stale_before: Timestamp,
) -> StoreResult<Claim> {
    let tx = c.savepoint().map_err(backend)?;
    let row = tx
        .prepare_cached(
            "SELECT request_hash, response, claim, created_ms FROM idempotency WHERE account_id = ?1 AND domain_id = ?2 AND operation = ?3 AND token = ?4",
        )
        .and_then(|mut s| {
            s.query_row(
                params![claim.account_id, claim.domain_id, claim.operation, claim.token],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
        })
        .optional()
        .map_err(backend)?;
    let out = match row {
        None => {
            tx.prepare_cached(
                "INSERT INTO idempotency (account_id, domain_id, operation, token, request_hash, response, created_ms, claim) VALUES (?1, ?2, ?3, ?4, ?5, 'null', ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    claim.account_id,
                    claim.domain_id,
                    claim.operation,
                    claim.token,
                    claim.request_hash,
                    claim.at.unix_millis(),
                    claim.claim_id
                ])
            })
            .map_err(backend)?;
            Claim::Owned
        }
        Some((request_hash, response, None, created_ms)) => Claim::Done(IdempotencyRecord {
            account_id: claim.account_id.clone(),
            domain_id: claim.domain_id.clone(),
            operation: claim.operation,
            token: claim.token.clone(),
            request_hash,
            response: serde_json::from_str(&response).map_err(backend)?,
            created: Timestamp::from_unix_millis(created_ms),
        }),
        // Only a retry of the same request may finish what a stale claimant started: the
        // stale claimant may have written part of its request already.
        Some((request_hash, _, Some(_), renewed_ms))
            if request_hash == claim.request_hash && renewed_ms < stale_before.unix_millis() =>
        {
            tx.prepare_cached(
                "UPDATE idempotency SET claim = ?5, created_ms = ?6 WHERE account_id = ?1 AND domain_id = ?2 AND operation = ?3 AND token = ?4",
            )
            .and_then(|mut s| {
                s.execute(params![
                    claim.account_id,
                    claim.domain_id,
                    claim.operation,
                    claim.token,
                    claim.claim_id,
                    claim.at.unix_millis()
                ])
            })
            .map_err(backend)?;
            Claim::Owned
        }
        Some((request_hash, _, Some(claim_id), _)) => Claim::Held {
            request_hash,
            claim_id,
        },
    };
    tx.commit().map_err(backend)?;
    Ok(out)
}

/// Inside a write's transaction: fails it with `TokenLost` unless `claim` still holds its
/// token, and renews the claim to `claim.at`.
pub fn fence(tx: &Connection, claim: &TokenClaim) -> StoreResult<()> {
    let n = tx
        .prepare_cached(
            "UPDATE idempotency SET created_ms = ?6 WHERE account_id = ?1 AND domain_id = ?2 AND operation = ?3 AND token = ?4 AND claim = ?5",
        )
        .and_then(|mut s| {
            s.execute(params![
                claim.account_id,
                claim.domain_id,
                claim.operation,
                claim.token,
                claim.claim_id,
                claim.at.unix_millis()
            ])
        })
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::TokenLost);
    }
    Ok(())
}

/// Stores the response and ends the claim; false when the claim no longer holds the token.
pub fn finish(
    c: &mut Connection,
    claim: &TokenClaim,
    response: &serde_json::Value,
) -> StoreResult<bool> {
    let n = c
        .prepare_cached(
            "UPDATE idempotency SET response = ?6, claim = NULL, created_ms = ?7 WHERE account_id = ?1 AND domain_id = ?2 AND operation = ?3 AND token = ?4 AND claim = ?5",
        )
        .and_then(|mut s| {
            s.execute(params![
                claim.account_id,
                claim.domain_id,
                claim.operation,
                claim.token,
                claim.claim_id,
                response.to_string(),
                claim.at.unix_millis()
            ])
        })
        .map_err(backend)?;
    Ok(n == 1)
}

/// Removes the token if `claim` still holds it.
pub fn release(c: &mut Connection, claim: &TokenClaim) -> StoreResult<()> {
    c.prepare_cached(
        "DELETE FROM idempotency WHERE account_id = ?1 AND domain_id = ?2 AND operation = ?3 AND token = ?4 AND claim = ?5",
    )
    .and_then(|mut s| {
        s.execute(params![
            claim.account_id,
            claim.domain_id,
            claim.operation,
            claim.token,
            claim.claim_id
        ])
    })
    .map_err(backend)?;
    Ok(())
}

/// The claim holding `claim`'s token, if one does.
pub fn holder(c: &Connection, claim: &TokenClaim) -> StoreResult<Option<String>> {
    c.prepare_cached(
        "SELECT claim FROM idempotency WHERE account_id = ?1 AND domain_id = ?2 AND operation = ?3 AND token = ?4",
    )
    .and_then(|mut s| {
        s.query_row(
            params![claim.account_id, claim.domain_id, claim.operation, claim.token],
            |r| r.get::<_, Option<String>>(0),
        )
    })
    .optional()
    .map_err(backend)
    .map(Option::flatten)
}
