//! The event outbox (`events`), the domains' event configurations and the delivery cursors.
//!
//! Commit order. `EventRecord::seq` must grow in commit order: a reader that has returned seq 11
//! must never later find a 10. An identity column alone does not give that (a transaction takes
//! 10, another takes 11 and commits first). Readers therefore take `events` in SHARE mode before
//! they read: the lock waits for every transaction that has inserted an event (inserting holds
//! ROW EXCLUSIVE on the table until commit, and a transaction takes its seq inside its insert,
//! after that lock) and holds new inserts back for the read's instant. Once granted, every seq
//! handed out so far belongs to a transaction that has finished, so the read sees a prefix of
//! the outbox (minus the gaps of rolled-back transactions, which never fill). Writers do not
//! wait for each other; the cost falls on the readers (the event feed and webhook delivery),
//! which are few. Writers append their events last in their transaction, so one holding the
//! table lock waits for nothing but its commit, and a reader never waits on a lock cycle.

use super::sql::{col, exec, json, query, query_opt};
use caseload_domain::store::{DomainKey, EventRecord, StoreResult};
use caseload_model::Timestamp;
use deadpool_postgres::{GenericClient, Transaction};

/// Appends events of a change, in order. Runs inside the change's transaction, as its last write.
pub(super) async fn append(tx: &Transaction<'_>, events: &[&EventRecord]) -> StoreResult<()> {
    for e in events {
        exec(
            tx,
            "INSERT INTO events (account_id, region, domain_id, case_id, created_ms, body) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &e.account_id,
                &e.region,
                &e.domain_id,
                &e.case_id,
                &e.time.unix_millis(),
                &e.body.to_string(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// The domain's configuration document.
pub async fn get_config(
    c: &impl GenericClient,
    key: &DomainKey,
) -> StoreResult<Option<serde_json::Value>> {
    query_opt(
        c,
        "SELECT body FROM event_configs WHERE account_id = $1 AND domain_id = $2",
        &[&key.account_id, &key.domain_id],
    )
    .await?
    .map(|r| json(col(&r, 0)?))
    .transpose()
}

pub async fn put_config(
    c: &impl GenericClient,
    key: &DomainKey,
    region: &str,
    body: &serde_json::Value,
) -> StoreResult<()> {
    exec(
        c,
        "INSERT INTO event_configs (account_id, domain_id, region, body) VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, domain_id) DO UPDATE SET region = excluded.region, body = excluded.body",
        &[&key.account_id, &key.domain_id, &region, &body.to_string()],
    )
    .await?;
    Ok(())
}

/// Waits until no transaction that has appended an event is still running (see the module
/// comment); held until `tx` ends. A writer stuck in its transaction fails the read after a
/// while rather than holding it forever.
async fn settle(tx: &Transaction<'_>) -> StoreResult<()> {
    tx.batch_execute("SET LOCAL lock_timeout = '5s'; LOCK TABLE events IN SHARE MODE")
        .await
        .map_err(super::sql::db)
}

pub async fn events_after(
    tx: &Transaction<'_>,
    after: i64,
    scope: Option<(&str, &str)>,
    limit: usize,
) -> StoreResult<Vec<EventRecord>> {
    const COLUMNS: &str = "seq, account_id, region, domain_id, case_id, created_ms, body";
    settle(tx).await?;
    let limit = limit as i64;
    let rows = match scope {
        Some((account, region)) => {
            query(
                tx,
                &format!("SELECT {COLUMNS} FROM events WHERE account_id = $1 AND region = $2 AND seq > $3 ORDER BY seq LIMIT $4"),
                &[&account, &region, &after, &limit],
            )
            .await?
        }
        None => {
            query(
                tx,
                &format!("SELECT {COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2"),
                &[&after, &limit],
            )
            .await?
        }
    };
    rows.iter()
        .map(|r| {
            Ok(EventRecord {
                seq: col(r, 0)?,
                account_id: col(r, 1)?,
                region: col(r, 2)?,
                domain_id: col(r, 3)?,
                case_id: col(r, 4)?,
                time: Timestamp::from_unix_millis(col(r, 5)?),
                body: json(col(r, 6)?)?,
            })
        })
        .collect()
}

/// The sequence number of the last event ever appended: the identity sequence's position, which
/// pruning does not move back. Read settled, so no running transaction holds a lower number.
pub async fn last_seq(tx: &Transaction<'_>) -> StoreResult<i64> {
    settle(tx).await?;
    let row = query_opt(
        tx,
        "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_seq_seq",
        &[],
    )
    .await?;
    Ok(match row {
        Some(r) => col(&r, 0)?,
        None => 0,
    })
}

pub async fn cursor(c: &impl GenericClient, target: &str) -> StoreResult<Option<i64>> {
    // A row a lease created before any position was saved has a NULL `seq`.
    Ok(query_opt(
        c,
        "SELECT seq FROM event_deliveries WHERE target = $1",
        &[&target],
    )
    .await?
    .map(|r| col::<Option<i64>>(&r, 0))
    .transpose()?
    .flatten())
}

/// The database's clock in milliseconds: every server judges a lease's expiry by this one clock,
/// so servers whose clocks disagree still never both hold a lease.
const NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/// Takes the lease on `target` for `holder`, or renews it, in one statement: granted when the
/// target has no holder yet, is held by `holder` already, or its holder let the lease run out.
pub async fn lease(
    c: &impl GenericClient,
    target: &str,
    holder: &str,
    ttl: std::time::Duration,
) -> StoreResult<bool> {
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
    let sql = format!(
        "INSERT INTO event_deliveries AS d (target, seq, holder, lease_until_ms) \
         VALUES ($1, NULL, $2, {NOW_MS} + $3) \
         ON CONFLICT (target) DO UPDATE SET holder = excluded.holder, lease_until_ms = excluded.lease_until_ms \
         WHERE d.holder IS NULL OR d.holder = excluded.holder OR d.lease_until_ms < {NOW_MS} \
         RETURNING 1"
    );
    Ok(query_opt(c, &sql, &[&target, &holder, &ttl_ms])
        .await?
        .is_some())
}

/// Ends `holder`'s lease on `target` now, if it still holds it.
pub async fn release(c: &impl GenericClient, target: &str, holder: &str) -> StoreResult<()> {
    exec(
        c,
        "UPDATE event_deliveries SET lease_until_ms = 0 WHERE target = $1 AND holder = $2",
        &[&target, &holder],
    )
    .await?;
    Ok(())
}

/// Saves `target`'s position if `holder` still holds its lease. The row lock the UPDATE takes
/// orders it against a concurrent takeover: whichever commits second sees the other's write.
pub async fn save_cursor(
    c: &impl GenericClient,
    target: &str,
    holder: &str,
    seq: i64,
) -> StoreResult<bool> {
    let saved = exec(
        c,
        "UPDATE event_deliveries SET seq = $2 WHERE target = $1 AND holder = $3",
        &[&target, &seq, &holder],
    )
    .await?;
    Ok(saved == 1)
}

pub async fn set_cursor(c: &impl GenericClient, target: &str, seq: i64) -> StoreResult<()> {
    exec(
        c,
        "INSERT INTO event_deliveries (target, seq) VALUES ($1, $2) ON CONFLICT (target) DO UPDATE SET seq = excluded.seq",
        &[&target, &seq],
    )
    .await?;
    Ok(())
}

pub async fn prune(
    c: &impl GenericClient,
    up_to_seq: i64,
    older_than: Timestamp,
) -> StoreResult<usize> {
    let n = exec(
        c,
        "DELETE FROM events WHERE seq <= $1 AND created_ms < $2",
        &[&up_to_seq, &older_than.unix_millis()],
    )
    .await?;
    Ok(n as usize)
}
