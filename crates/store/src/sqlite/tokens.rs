//! Client-token claims (`Store::claim_token`): the token of a request that writes in several
//! transactions is stored as a claim before the work, renewed by each write the claim fences,
//! and ended by storing the response (or removed when the request fails as a whole). A token is
//! one row of `idempotency`; `claim` is non-NULL while it is claimed.

use super::backend;
use caseload_domain::store::{Claim, IdempotencyRecord, StoreError, StoreResult, TokenClaim};
use caseload_model::Timestamp;
use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

/// The remembered token `token` of `operation` in a domain (a claimed one has no response yet).
pub fn get(
    c: &Connection,
    account: &str,
    domain: &str,
    operation: &'static str,
    token: &str,
) -> StoreResult<Option<IdempotencyRecord>> {
    c.prepare_cached(
        "SELECT request_hash, response, created_ms FROM idempotency WHERE account_id = ?1 AND domain_id = ?2 AND operation = ?3 AND token = ?4 AND claim IS NULL",
    )
    .and_then(|mut s| {
        s.query_row(params![account, domain, operation, token], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        })
    })
    .optional()
    .map_err(backend)?
    .map(|(request_hash, response, created_ms)| {
        Ok(IdempotencyRecord {
            account_id: account.to_owned(),
            domain_id: domain.to_owned(),
            operation,
            token: token.to_owned(),
            request_hash,
            response: serde_json::from_str(&response).map_err(backend)?,
            created: Timestamp::from_unix_millis(created_ms),
        })
    })
    .transpose()
}

/// Inside a write guarded by the client token of `t`: what was remembered for the token if it was
/// seen before (the write must then not happen), else `None` with `t` remembered. Runs on the
/// writer, so of two concurrent writes with one token exactly one remembers it.
pub(crate) fn seen_or_remember(
    tx: &Connection,
    t: &IdempotencyRecord,
) -> StoreResult<Option<IdempotencyRecord>> {
    if let Some(seen) = get(tx, &t.account_id, &t.domain_id, t.operation, &t.token)? {
        return Ok(Some(seen));
    }
    tx.prepare_cached(
        "INSERT INTO idempotency (account_id, domain_id, operation, token, request_hash, response, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut s| {
        s.execute(params![
            t.account_id,
            t.domain_id,
            t.operation,
            t.token,
            t.request_hash,
            t.response.to_string(),
            t.created.unix_millis()
        ])
    })
    .map_err(backend)?;
    Ok(None)
}

/// Runs `sql`, whose parameters ?1 to ?5 are `claim`'s token (account, domain, operation,
/// token) and claim id, followed by `more`; returns how many rows it changed.
fn on_claim(
    c: &Connection,
    sql: &str,
    claim: &TokenClaim,
    more: &[&dyn ToSql],
) -> StoreResult<usize> {
    let key: [&dyn ToSql; 5] = [
        &claim.account_id,
        &claim.domain_id,
        &claim.operation,
        &claim.token,
        &claim.claim_id,
    ];
    c.prepare_cached(sql)
        .and_then(|mut s| s.execute(params_from_iter(key.iter().chain(more))))
        .map_err(backend)
}

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
            on_claim(
                &tx,
                "INSERT INTO idempotency (account_id, domain_id, operation, token, claim, request_hash, response, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'null', ?7)",
                claim,
                &[&claim.request_hash, &claim.at.unix_millis()],
            )?;
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
            on_claim(
                &tx,
                "UPDATE idempotency SET claim = ?5, created_ms = ?6 WHERE account_id = ?1 AND domain_id = ?2 AND operation = ?3 AND token = ?4",
                claim,
                &[&claim.at.unix_millis()],
            )?;
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
    let n = on_claim(
        tx,
        "UPDATE idempotency SET created_ms = ?6 WHERE account_id = ?1 AND domain_id = ?2 AND operation = ?3 AND token = ?4 AND claim = ?5",
        claim,
        &[&claim.at.unix_millis()],
    )?;
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
    let n = on_claim(
        c,
        "UPDATE idempotency SET response = ?6, claim = NULL, created_ms = ?7 WHERE account_id = ?1 AND domain_id = ?2 AND operation = ?3 AND token = ?4 AND claim = ?5",
        claim,
        &[&response.to_string(), &claim.at.unix_millis()],
    )?;
    Ok(n == 1)
}

/// Removes the token if `claim` still holds it.
pub fn release(c: &mut Connection, claim: &TokenClaim) -> StoreResult<()> {
    on_claim(
        c,
        "DELETE FROM idempotency WHERE account_id = ?1 AND domain_id = ?2 AND operation = ?3 AND token = ?4 AND claim = ?5",
        claim,
        &[],
    )?;
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
