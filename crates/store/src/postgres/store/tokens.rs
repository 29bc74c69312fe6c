//! Client tokens (`idempotency`): remembered with the write they guard, and claimed before the
//! work of requests that write in several transactions (see `sqlite/tokens.rs` for the model).
//!
//! Across servers: a token is one row under a primary key. Remembering one is an `INSERT … ON
//! CONFLICT DO NOTHING`, which waits for a concurrent insert of the same key to commit or roll
//! back, so of concurrent writes with one token exactly one inserts it. Every decision about an
//! existing claim is made on the row locked `FOR UPDATE`, so a takeover, a fenced write and a
//! finish run one after another and each sees the others' outcome.

use super::sql::{Params, col, exec, json, query_opt};
use caseload_domain::store::{Claim, IdempotencyRecord, StoreError, StoreResult, TokenClaim};
use caseload_model::Timestamp;
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::types::ToSql;

/// The remembered token `token` of `operation` in a domain (a claimed one has no response yet).
pub async fn get(
    c: &impl GenericClient,
    account: &str,
    domain: &str,
    operation: &'static str,
    token: &str,
) -> StoreResult<Option<IdempotencyRecord>> {
    let row = query_opt(
        c,
        "SELECT request_hash, response, created_ms FROM idempotency WHERE account_id = $1 AND domain_id = $2 AND operation = $3 AND token = $4 AND claim IS NULL",
        &[&account, &domain, &operation, &token],
    )
    .await?;
    row.map(|r| {
        Ok(IdempotencyRecord {
            account_id: account.to_owned(),
            domain_id: domain.to_owned(),
            operation,
            token: token.to_owned(),
            request_hash: col(&r, 0)?,
            response: json(col(&r, 1)?)?,
            created: Timestamp::from_unix_millis(col(&r, 2)?),
        })
    })
    .transpose()
}

/// Inside a write guarded by the client token of `t`: what was remembered for the token if it was
/// seen before (the write must then not happen), else `None` with `t` remembered.
pub(super) async fn seen_or_remember(
    tx: &Transaction<'_>,
    t: &IdempotencyRecord,
) -> StoreResult<Option<IdempotencyRecord>> {
    let inserted = exec(
        tx,
        "INSERT INTO idempotency (account_id, domain_id, operation, token, request_hash, response, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        &[
            &t.account_id,
            &t.domain_id,
            &t.operation,
            &t.token,
            &t.request_hash,
            &t.response.to_string(),
            &t.created.unix_millis(),
        ],
    )
    .await?;
    if inserted == 1 {
        return Ok(None);
    }
    seen_token(tx, t).await.map(Some)
}

/// What was remembered for the token of `t`, which an insert of `t` just found taken: the
/// conflicting insert has committed (ON CONFLICT waited for it), and this statement's snapshot,
/// taken after, sees it.
pub(super) async fn seen_token(
    c: &impl GenericClient,
    t: &IdempotencyRecord,
) -> StoreResult<IdempotencyRecord> {
    match get(c, &t.account_id, &t.domain_id, t.operation, &t.token).await? {
        Some(seen) => Ok(seen),
        None => Err(StoreError::Backend(format!(
            "the client token {:?} of {} is claimed by a request still running",
            t.token, t.operation
        ))),
    }
}

/// Runs `sql`, whose parameters $1 to $5 are `claim`'s token (account, domain, operation, token)
/// and claim id, followed by `more`; returns how many rows it changed.
async fn on_claim(
    c: &impl GenericClient,
    sql: &str,
    claim: &TokenClaim,
    more: Params<'_>,
) -> StoreResult<u64> {
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![
        &claim.account_id,
        &claim.domain_id,
        &claim.operation,
        &claim.token,
        &claim.claim_id,
    ];
    params.extend_from_slice(more);
    exec(c, sql, &params).await
}

/// Claims `claim`'s token unless another claim holds it or a response is stored for it (see
/// `Store::claim_token`).
pub async fn claim(
    tx: &Transaction<'_>,
    claim: &TokenClaim,
    stale_before: Timestamp,
) -> StoreResult<Claim> {
    // The row may be inserted (by a rival claim) or deleted (by a release) between the look and
    // the insert; each round either decides on the locked row or inserts it. A third round only
    // follows a release racing the second, so a few rounds always suffice in practice.
    for _ in 0..8 {
        let row = query_opt(
            tx,
            "SELECT request_hash, response, claim, created_ms FROM idempotency WHERE account_id = $1 AND domain_id = $2 AND operation = $3 AND token = $4 FOR UPDATE",
            &[&claim.account_id, &claim.domain_id, &claim.operation, &claim.token],
        )
        .await?;
        let Some(row) = row else {
            let inserted = on_claim(
                tx,
                "INSERT INTO idempotency (account_id, domain_id, operation, token, claim, request_hash, response, created_ms) VALUES ($1, $2, $3, $4, $5, $6, 'null', $7) ON CONFLICT DO NOTHING",
                claim,
                &[&claim.request_hash, &claim.at.unix_millis()],
            )
            .await?;
            if inserted == 1 {
                return Ok(Claim::Owned);
            }
            continue;
        };
        let request_hash: String = col(&row, 0)?;
        let holder: Option<String> = col(&row, 2)?;
        let renewed_ms: i64 = col(&row, 3)?;
        return Ok(match holder {
            None => Claim::Done(IdempotencyRecord {
                account_id: claim.account_id.clone(),
                domain_id: claim.domain_id.clone(),
                operation: claim.operation,
                token: claim.token.clone(),
                request_hash,
                response: json(col(&row, 1)?)?,
                created: Timestamp::from_unix_millis(renewed_ms),
            }),
            // Only a retry of the same request may finish what a stale claimant started: the
            // stale claimant may have written part of its request already.
            Some(_)
                if request_hash == claim.request_hash
                    && renewed_ms < stale_before.unix_millis() =>
            {
                on_claim(
                    tx,
                    "UPDATE idempotency SET claim = $5, created_ms = $6 WHERE account_id = $1 AND domain_id = $2 AND operation = $3 AND token = $4",
                    claim,
                    &[&claim.at.unix_millis()],
                )
                .await?;
                Claim::Owned
            }
            Some(claim_id) => Claim::Held {
                request_hash,
                claim_id,
            },
        });
    }
    Err(StoreError::Unavailable {
        detail: format!(
            "the client token {:?} keeps being claimed and released by other requests",
            claim.token
        ),
        retry_after_seconds: 1,
    })
}

/// Inside a write's transaction: fails it with `TokenLost` unless `claim` still holds its
/// token, and renews the claim to `claim.at`. The UPDATE locks the row, so a takeover waits for
/// the write's commit (or the write, for the takeover's, and then finds the claim gone).
pub(super) async fn fence(tx: &Transaction<'_>, claim: &TokenClaim) -> StoreResult<()> {
    let n = on_claim(
        tx,
        "UPDATE idempotency SET created_ms = $6 WHERE account_id = $1 AND domain_id = $2 AND operation = $3 AND token = $4 AND claim = $5",
        claim,
        &[&claim.at.unix_millis()],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::TokenLost);
    }
    Ok(())
}

/// Stores the response and ends the claim; false when the claim no longer holds the token.
pub async fn finish(
    c: &impl GenericClient,
    claim: &TokenClaim,
    response: &serde_json::Value,
) -> StoreResult<bool> {
    let n = on_claim(
        c,
        "UPDATE idempotency SET response = $6, claim = NULL, created_ms = $7 WHERE account_id = $1 AND domain_id = $2 AND operation = $3 AND token = $4 AND claim = $5",
        claim,
        &[&response.to_string(), &claim.at.unix_millis()],
    )
    .await?;
    Ok(n == 1)
}

/// Removes the token if `claim` still holds it.
pub async fn release(c: &impl GenericClient, claim: &TokenClaim) -> StoreResult<()> {
    on_claim(
        c,
        "DELETE FROM idempotency WHERE account_id = $1 AND domain_id = $2 AND operation = $3 AND token = $4 AND claim = $5",
        claim,
        &[],
    )
    .await?;
    Ok(())
}

/// The claim holding `claim`'s token, if one does.
pub async fn holder(c: &impl GenericClient, claim: &TokenClaim) -> StoreResult<Option<String>> {
    let row = query_opt(
        c,
        "SELECT claim FROM idempotency WHERE account_id = $1 AND domain_id = $2 AND operation = $3 AND token = $4",
        &[&claim.account_id, &claim.domain_id, &claim.operation, &claim.token],
    )
    .await?;
    Ok(match row {
        Some(r) => col::<Option<String>>(&r, 0)?,
        None => None,
    })
}
