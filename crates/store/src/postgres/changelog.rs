//! The change log, read in commit order.
//!
//! Every case write appends a row to `changes` in its own transaction; the row carries that
//! transaction's id (`xid`, filled in by the column's default). Each server tails the log to keep
//! its search index current.
//!
//! `seq` cannot be the reader's position: it is taken when the row is inserted, not when the
//! transaction commits, so a transaction holding seq 10 can become visible after seq 11 has been
//! read, and a reader that moved past 11 would never see 10. Instead a reader's position is a set
//! of *finished* transactions (a `Snapshot`: every id below `xmax` except those listed as in
//! progress). A read runs in one REPEATABLE READ transaction and, with that transaction's
//! snapshot `now`, returns the visible changes of every transaction not done in the position —
//! those at or above its `xmax` and those it lists in progress — then moves the position to
//! `now`. A transaction that `now` sees in progress has no visible rows yet and stays not done,
//! so its changes come in a later read, once, whenever it commits; one that `now` sees finished
//! can never add a row again. A long-running transaction therefore holds back nothing but its own
//! changes (and the pruning of the log below it).
//!
//! Read-your-writes: a request that must see every write committed before it arrived takes a
//! snapshot first (`horizon_now`, one cheap query) and waits until its reader's position
//! `covers` it.
//!
//! Pruning: each server records its index's position in `index_positions` (`record_position`),
//! and `prune` deletes the changes below the lowest position among the servers that recorded one
//! recently, raising `change_log_floor` first. A reader whose position needs a transaction below
//! the floor (a server away longer than the liveness window) gets `PgError::Pruned` and rebuilds
//! its index from the tables, so pruning can never make it miss a change silently.

use super::error::{PgError, PgResult};
use super::snapshot::Snapshot;
use std::time::Duration;
use tokio_postgres::{Client, GenericClient, IsolationLevel, Transaction};

/// One row of the change log: this case was written (or deleted) by transaction `xid`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LoggedChange {
    pub seq: i64,
    pub xid: i64,
    pub account_id: String,
    pub domain_id: String,
    pub case_id: String,
    pub deleted: bool,
}

/// What one read returns: the changes in (xid, seq) order, and the position after them.
#[derive(Debug)]
pub struct Batch {
    pub changes: Vec<LoggedChange>,
    pub position: Snapshot,
}

/// Records a case write in the log, in the caller's transaction.
pub async fn append(
    client: &impl GenericClient,
    account_id: &str,
    domain_id: &str,
    case_id: &str,
    deleted: bool,
) -> PgResult<()> {
    client
        .execute(
            "INSERT INTO changes (account_id, domain_id, case_id, deleted) VALUES ($1, $2, $3, $4)",
            &[&account_id, &domain_id, &case_id, &deleted],
        )
        .await?;
    Ok(())
}

/// The database's snapshot now: everything committed before this call is done in it.
pub async fn horizon_now(client: &impl GenericClient) -> PgResult<Snapshot> {
    let row = client
        .query_one("SELECT pg_current_snapshot()::text", &[])
        .await?;
    parse_snapshot(row.get(0))
}

/// A read-only REPEATABLE READ transaction and its snapshot: everything read in it is the state
/// of exactly the transactions done in that snapshot. An index built from the tables in this
/// transaction starts tailing the log from the returned position.
pub async fn snapshot_transaction(client: &mut Client) -> PgResult<(Transaction<'_>, Snapshot)> {
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    // The first statement fixes the transaction's snapshot; this one reports it.
    let snapshot = horizon_now(&tx).await?;
    Ok((tx, snapshot))
}

/// The changes of the transactions that finished since `after`, in (xid, seq) order, about
/// `limit` of them: a batch ends at a transaction boundary, so it holds all changes of its last
/// transaction even past `limit`. An empty batch still advances the position (transactions that
/// finished without a change).
pub async fn read_changes(client: &mut Client, after: &Snapshot, limit: usize) -> PgResult<Batch> {
    let (tx, now) = snapshot_transaction(client).await?;
    let batch = read_changes_in(&tx, &now, after, limit).await?;
    tx.commit().await?;
    Ok(batch)
}

/// `read_changes` in the caller's `snapshot_transaction` (whose snapshot is `now`), so that the
/// caller can read the tables as of the same snapshot (the search index reads each changed case's
/// row).
pub async fn read_changes_in(
    tx: &Transaction<'_>,
    now: &Snapshot,
    after: &Snapshot,
    limit: usize,
) -> PgResult<Batch> {
    let floor: i64 = tx
        .query_one("SELECT xid FROM change_log_floor", &[])
        .await?
        .get(0);
    if after.xmin() < floor {
        return Err(PgError::Pruned {
            needed: after.xmin(),
            floor,
        });
    }
    if !now.covers(after) {
        return Err(PgError::Backend(format!(
            "the change log position {after} is ahead of the database ({now}): \
             is this the database the index was built from?"
        )));
    }
    let limit = limit.max(1);
    let mut changes: Vec<LoggedChange> = tx
        .query(
            "SELECT seq, xid, account_id, domain_id, case_id, deleted FROM changes
             WHERE xid >= $1 OR xid = ANY($2)
             ORDER BY xid, seq LIMIT $3",
            &[&after.xmax(), &after.in_progress(), &(limit as i64)],
        )
        .await?
        .iter()
        .map(change_from_row)
        .collect();
    let position = match changes.last() {
        Some(last) if changes.len() == limit => {
            let (through, seq) = (last.xid, last.seq);
            let rest = tx
                .query(
                    "SELECT seq, xid, account_id, domain_id, case_id, deleted FROM changes
                     WHERE xid = $1 AND seq > $2 ORDER BY seq",
                    &[&through, &seq],
                )
                .await?;
            changes.extend(rest.iter().map(change_from_row));
            after.advanced_through(now, through)
        }
        _ => now.clone(),
    };
    Ok(Batch { changes, position })
}

/// Records how far `node`'s index has durably got, which also marks the node live for pruning.
pub async fn record_position(
    client: &impl GenericClient,
    node: &str,
    position: &Snapshot,
) -> PgResult<()> {
    client
        .execute(
            "INSERT INTO index_positions (node, needed_xid, position) VALUES ($1, $2, $3)
             ON CONFLICT (node) DO UPDATE
             SET needed_xid = excluded.needed_xid, position = excluded.position, updated_at = now()",
            &[&node, &position.xmin(), &position.to_string()],
        )
        .await?;
    Ok(())
}

/// Removes `node` from pruning's reckoning (a server leaving the fleet for good).
pub async fn forget_node(client: &impl GenericClient, node: &str) -> PgResult<()> {
    client
        .execute("DELETE FROM index_positions WHERE node = $1", &[&node])
        .await?;
    Ok(())
}

/// What a `prune` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pruned {
    /// Every change below this transaction id is gone.
    pub floor: i64,
    /// Changes deleted by this call.
    pub deleted: u64,
}

/// Deletes the changes every live node's index holds: those below the lowest position recorded
/// within `live_within`. With no live node, nothing is deleted (a node joining now would need
/// them).
pub async fn prune(client: &mut Client, live_within: Duration) -> PgResult<Pruned> {
    let tx = client.transaction().await?;
    let lowest: Option<i64> = tx
        .query_one(
            "SELECT min(needed_xid) FROM index_positions
             WHERE updated_at > now() - make_interval(secs => $1)",
            &[&live_within.as_secs_f64()],
        )
        .await?
        .get(0);
    let Some(lowest) = lowest else {
        let floor = tx
            .query_one("SELECT xid FROM change_log_floor", &[])
            .await?
            .get(0);
        tx.commit().await?;
        return Ok(Pruned { floor, deleted: 0 });
    };
    // The floor goes up in the same transaction as the deletion, so a reader's snapshot sees
    // both or neither; it never goes down (a concurrent prune may have raised it further).
    let floor: i64 = tx
        .query_one(
            "UPDATE change_log_floor SET xid = greatest(xid, $1) RETURNING xid",
            &[&lowest],
        )
        .await?
        .get(0);
    let deleted = tx
        .execute("DELETE FROM changes WHERE xid < $1", &[&floor])
        .await?;
    tx.commit().await?;
    Ok(Pruned { floor, deleted })
}

fn change_from_row(row: &tokio_postgres::Row) -> LoggedChange {
    LoggedChange {
        seq: row.get(0),
        xid: row.get(1),
        account_id: row.get(2),
        domain_id: row.get(3),
        case_id: row.get(4),
        deleted: row.get(5),
    }
}

fn parse_snapshot(text: &str) -> PgResult<Snapshot> {
    Snapshot::parse(text)
        .ok_or_else(|| PgError::Backend(format!("unexpected snapshot from PostgreSQL: {text:?}")))
}
