//! Merges of cases: recorded only when neither case is in a running merge or was merged away
//! (checked under advisory locks on both cases, so two servers starting merges of one case
//! cannot both pass the check), and finished exactly once (the merge's row is marked completed
//! first, under its row lock: a second worker, on any server, waits and then finds it done).

use super::sql::{col, exec, json, lock, query};
use super::{cases, outbox, related};
use caseload_domain::store::{EventRecord, MergeFinish, MergeRecord, MergeStart, StoreResult};
use caseload_model::Timestamp;
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;

const COLUMNS: &str = "account_id, domain_id, merge_id, primary_case_id, secondary_case_id, completed, started_ms, body";

fn from_row(r: &Row) -> StoreResult<MergeRecord> {
    Ok(MergeRecord {
        account_id: col(r, 0)?,
        domain_id: col(r, 1)?,
        merge_id: col(r, 2)?,
        primary_case_id: col(r, 3)?,
        secondary_case_id: col(r, 4)?,
        completed: col(r, 5)?,
        started: Timestamp::from_unix_millis(col(r, 6)?),
        body: json(col(r, 7)?)?,
    })
}

pub async fn of_case(
    c: &impl GenericClient,
    account: &str,
    domain: &str,
    case_id: &str,
) -> StoreResult<Vec<MergeRecord>> {
    query(
        c,
        &format!(
            "SELECT {COLUMNS} FROM merges WHERE account_id = $1 AND domain_id = $2 AND (primary_case_id = $3 OR secondary_case_id = $3) ORDER BY started_ms, merge_id"
        ),
        &[&account, &domain, &case_id],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

pub async fn running(c: &impl GenericClient, limit: usize) -> StoreResult<Vec<MergeRecord>> {
    query(
        c,
        &format!(
            "SELECT {COLUMNS} FROM merges WHERE NOT completed ORDER BY started_ms, merge_id LIMIT $1"
        ),
        &[&(limit as i64)],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

pub async fn start(tx: &Transaction<'_>, m: &MergeRecord) -> StoreResult<MergeStart> {
    // Both cases' locks, in id order so that two merges of the same pair cannot deadlock.
    let mut ids = [&m.primary_case_id, &m.secondary_case_id];
    ids.sort();
    for id in ids {
        lock(tx, &["merge", &m.account_id, &m.domain_id, id]).await?;
    }
    for case_id in [&m.primary_case_id, &m.secondary_case_id] {
        for other in of_case(tx, &m.account_id, &m.domain_id, case_id).await? {
            if !other.completed {
                return Ok(MergeStart::Busy(case_id.clone()));
            }
            if other.secondary_case_id == *case_id {
                return Ok(MergeStart::MergedBefore(case_id.clone()));
            }
        }
    }
    exec(
        tx,
        &format!("INSERT INTO merges ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
        &[
            &m.account_id,
            &m.domain_id,
            &m.merge_id,
            &m.primary_case_id,
            &m.secondary_case_id,
            &m.completed,
            &m.started.unix_millis(),
            &m.body.to_string(),
        ],
    )
    .await?;
    Ok(MergeStart::Started)
}

/// Writes a merge's outcome; false when the merge was already completed (or its domain deleted),
/// and then the caller must write nothing (roll back).
pub async fn finish(tx: &Transaction<'_>, f: &MergeFinish) -> StoreResult<bool> {
    let m = &f.merge;
    let n = exec(
        tx,
        "UPDATE merges SET completed = true WHERE account_id = $1 AND domain_id = $2 AND merge_id = $3 AND NOT completed",
        &[&m.account_id, &m.domain_id, &m.merge_id],
    )
    .await?;
    if n == 0 {
        return Ok(false);
    }
    // The two cases in id order, as a batch of related items locks them, so the two never wait
    // on each other in a cycle.
    let mut pair: Vec<_> = [&f.primary, &f.secondary].into_iter().flatten().collect();
    pair.sort_by(|a, b| a.0.case_id.cmp(&b.0.case_id));
    for (case, audit) in pair {
        cases::update_in(tx, case, Some(audit)).await?;
    }
    for item in &f.changed_items {
        related::replace_in(tx, item).await?;
    }
    for item in &f.removed_items {
        related::remove_in(tx, item).await?;
    }
    for item in &f.new_items {
        related::insert_in(tx, item).await?;
    }
    let events: Vec<&EventRecord> = f.events.iter().collect();
    outbox::append(tx, &events).await?;
    Ok(true)
}
