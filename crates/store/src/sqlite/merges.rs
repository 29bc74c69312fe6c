//! Merges of cases in SQLite (`merges` table): recording one atomically against the merges its
//! cases already take part in, and writing a merge's whole outcome in one transaction.

use super::{backend, cases, related};
use caseload_domain::store::{MergeFinish, MergeRecord, MergeStart, StoreResult};
use caseload_model::Timestamp;
use rusqlite::{Connection, Row, params};

const COLUMNS: &str = "account_id, domain_id, merge_id, primary_case_id, secondary_case_id, completed, started_ms, body";

fn from_row(r: &Row) -> rusqlite::Result<(MergeRecord, String)> {
    Ok((
        MergeRecord {
            account_id: r.get(0)?,
            domain_id: r.get(1)?,
            merge_id: r.get(2)?,
            primary_case_id: r.get(3)?,
            secondary_case_id: r.get(4)?,
            completed: r.get::<_, i64>(5)? != 0,
            started: Timestamp::from_unix_millis(r.get(6)?),
            body: serde_json::Value::Null,
        },
        r.get(7)?,
    ))
}

fn query(c: &Connection, sql: &str, p: impl rusqlite::Params) -> StoreResult<Vec<MergeRecord>> {
    let mut stmt = c.prepare_cached(sql).map_err(backend)?;
    let rows = stmt.query_map(p, from_row).map_err(backend)?;
    rows.map(|r| {
        let (mut m, body) = r.map_err(backend)?;
        m.body = serde_json::from_str(&body).map_err(backend)?;
        Ok(m)
    })
    .collect()
}

pub fn of_case(
    c: &Connection,
    account: &str,
    domain: &str,
    case_id: &str,
) -> StoreResult<Vec<MergeRecord>> {
    query(
        c,
        &format!(
            "SELECT {COLUMNS} FROM merges WHERE account_id = ?1 AND domain_id = ?2 AND (primary_case_id = ?3 OR secondary_case_id = ?3) ORDER BY started_ms, merge_id"
        ),
        params![account, domain, case_id],
    )
}

pub fn running(c: &Connection, limit: usize) -> StoreResult<Vec<MergeRecord>> {
    query(
        c,
        &format!(
            "SELECT {COLUMNS} FROM merges WHERE completed = 0 ORDER BY started_ms, merge_id LIMIT ?1"
        ),
        params![limit as i64],
    )
}

/// Checks and inserts in one transaction; SQLite's single writer makes the check hold.
pub fn start(c: &mut Connection, m: &MergeRecord) -> StoreResult<MergeStart> {
    let tx = c.savepoint().map_err(backend)?;
    for case_id in [&m.primary_case_id, &m.secondary_case_id] {
        for other in of_case(&tx, &m.account_id, &m.domain_id, case_id)? {
            if !other.completed {
                return Ok(MergeStart::Busy(case_id.clone()));
            }
            if other.secondary_case_id == *case_id {
                return Ok(MergeStart::MergedBefore(case_id.clone()));
            }
        }
    }
    tx.execute(
        &format!("INSERT INTO merges ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        params![
            m.account_id,
            m.domain_id,
            m.merge_id,
            m.primary_case_id,
            m.secondary_case_id,
            m.completed as i64,
            m.started.unix_millis(),
            m.body.to_string()
        ],
    )
    .map_err(backend)?;
    tx.commit().map_err(backend)?;
    Ok(MergeStart::Started)
}

pub fn finish(c: &mut Connection, f: &MergeFinish) -> StoreResult<()> {
    let tx = c.savepoint().map_err(backend)?;
    for (case, audit) in [&f.primary, &f.secondary].into_iter().flatten() {
        cases::update_in(&tx, case, Some(audit), None)?;
    }
    for event in &f.events {
        super::outbox::append(&tx, Some(event))?;
    }
    for item in &f.changed_items {
        related::replace_in(&tx, item)?;
    }
    for item in &f.removed_items {
        related::remove_in(&tx, item)?;
    }
    for item in &f.new_items {
        related::insert_in(&tx, item)?;
    }
    let m = &f.merge;
    let n = tx
        .execute(
            "UPDATE merges SET completed = 1 WHERE account_id = ?1 AND domain_id = ?2 AND merge_id = ?3 AND completed = 0",
            params![m.account_id, m.domain_id, m.merge_id],
        )
        .map_err(backend)?;
    // Already completed (or its domain deleted) by another worker: write nothing.
    if n == 0 {
        return Ok(());
    }
    tx.commit().map_err(backend)
}
