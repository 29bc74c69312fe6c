//! What every module of the PostgreSQL store shares: statements prepared once per connection,
//! row decoding that fails instead of panicking, the mapping of driver errors to `StoreError`,
//! and the advisory locks that make a check-then-write hold across servers.

use crate::postgres::PgError;
use caseload_domain::store::{StoreError, StoreResult};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql};

pub(super) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A driver error as the store reports it: connection trouble and lost conflicts are retryable
/// (`StoreError::Unavailable`), the rest opaque (`PgError` sorts them).
pub(super) fn db(e: tokio_postgres::Error) -> StoreError {
    PgError::from(e).into()
}

/// A value the database returned that the store cannot read back (a type or document it did not
/// write): a bug or a foreign schema, never the client's fault and never retryable.
pub(super) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("PostgreSQL returned an unreadable value: {e}"))
}

/// Column `i` of `row`, or an error (`Row::get` would panic on a type mismatch).
pub(super) fn col<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> StoreResult<T> {
    row.try_get(i).map_err(corrupt)
}

/// A JSON document stored as text.
pub(super) fn json(text: &str) -> StoreResult<serde_json::Value> {
    serde_json::from_str(text).map_err(corrupt)
}

/// Whether `e` is a unique or primary key violation.
pub(super) fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

/// Runs a statement (prepared once per connection) and returns the rows it changed, keeping the
/// driver's error for callers that look at its SQLSTATE.
pub(super) async fn try_exec(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> Result<u64, tokio_postgres::Error> {
    let statement = c.prepare_cached(sql).await?;
    c.execute(&statement, params).await
}

pub(super) async fn exec(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> StoreResult<u64> {
    try_exec(c, sql, params).await.map_err(db)
}

pub(super) async fn query(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> StoreResult<Vec<Row>> {
    let statement = c.prepare_cached(sql).await.map_err(db)?;
    c.query(&statement, params).await.map_err(db)
}

pub(super) async fn query_opt(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> StoreResult<Option<Row>> {
    let statement = c.prepare_cached(sql).await.map_err(db)?;
    c.query_opt(&statement, params).await.map_err(db)
}

pub(super) async fn count(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
) -> StoreResult<usize> {
    let statement = c.prepare_cached(sql).await.map_err(db)?;
    let row = c.query_one(&statement, params).await.map_err(db)?;
    Ok(col::<i64>(&row, 0)?.max(0) as usize)
}

/// Takes a transaction-level advisory lock named by `parts` (hashed by PostgreSQL, so every
/// server computes the same key whatever it was built with), held until the transaction ends.
///
/// This is what makes a "count, then insert" check (a quota) or a "look, then insert" check (a
/// case already in a merge) hold with several servers writing at once: every transaction that
/// checks takes the same lock first, so they run one after another; and under READ COMMITTED
/// each statement after the lock sees everything the previous holder committed (PostgreSQL makes
/// a commit visible before it releases the committer's locks). Two names hashing alike only
/// serialize more than needed.
pub(super) async fn lock(c: &impl GenericClient, parts: &[&str]) -> StoreResult<()> {
    // The unit separator cannot appear in ids, so ("a", "bc") and ("ab", "c") differ.
    let name = parts.join("\u{1f}");
    exec(
        c,
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&name],
    )
    .await?;
    Ok(())
}

/// Marks a schema change (see migration 4), in the schema write's transaction, as its last
/// statement: the row is shared by every schema write of the fleet, and its lock is held until
/// commit.
pub(super) async fn bump_schema_generation(tx: &impl GenericClient) -> StoreResult<()> {
    exec(
        tx,
        "UPDATE schema_generation SET generation = generation + 1",
        &[],
    )
    .await?;
    Ok(())
}

/// The schema generation now.
pub(super) async fn schema_generation(c: &impl GenericClient) -> StoreResult<u64> {
    let row = query_opt(c, "SELECT generation FROM schema_generation", &[])
        .await?
        .ok_or_else(|| StoreError::Backend("the schema generation row is missing".into()))?;
    Ok(col::<i64>(&row, 0)?.max(0) as u64)
}
