//! The change log (`changes` table) as the search indexer reads it.

use super::{backend, cases, resources};
use crate::index::check::DomainKey as IndexDomain;
use crate::index::{Change, ChangeLog, FieldTypeMap, field_type_map};
use caseload_domain::store::{CaseRecord, DomainKey, ResourceKind, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeMap, HashSet};

/// The sequence number of the last change ever committed. AUTOINCREMENT keeps it growing even
/// after the indexed prefix of the log is pruned.
pub fn last_seq(c: &Connection) -> StoreResult<i64> {
    Ok(
        c.prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .optional()
            .map_err(backend)?
            .unwrap_or(0),
    )
}

pub struct SqliteLog {
    pub db: super::db::Db,
}

/// Positions are sequence numbers: SQLite commits one transaction at a time, so they are taken in
/// commit order. The log is pruned only below every position an index committed (there is one
/// index per database), so `changes_after` never finds it pruned.
impl ChangeLog for SqliteLog {
    type Position = i64;

    fn horizon(&self) -> StoreResult<i64> {
        self.db.read_blocking(|c| last_seq(c))
    }

    fn changes_after(&self, after: &i64, limit: usize) -> StoreResult<Option<(Vec<Change>, i64)>> {
        let after = *after;
        self.db
            .read_blocking(move |conn| changes_after(conn, after, limit))
            .map(Some)
    }

    fn all_cases(
        &self,
        after: Option<(String, String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<CaseRecord>> {
        self.db
            .read_blocking(move |conn| all_cases(conn, after, limit))
    }

    fn field_types(&self, account_id: &str, domain_id: &str) -> StoreResult<FieldTypeMap> {
        let (a, d) = (account_id.to_owned(), domain_id.to_owned());
        self.db.read_blocking(move |conn| field_types(conn, &a, &d))
    }

    fn prune(&self, upto: &i64) -> StoreResult<()> {
        let seq = *upto;
        self.db.write_blocking(move |conn| {
            crate::fault::point!(
                "changes.prune",
                backend("injected fault: pruning the change log failed")
            );
            conn.prepare_cached("DELETE FROM changes WHERE seq <= ?1")
                .and_then(|mut s| s.execute([seq]))
                .map_err(backend)?;
            Ok(())
        })
    }

    fn case_counts(&self, at: &i64) -> StoreResult<Option<BTreeMap<IndexDomain, u64>>> {
        let (seq, counts) = self.db.read_blocking(case_counts)?;
        Ok((seq == *at).then_some(counts))
    }

    fn domain_cases(
        &self,
        key: &IndexDomain,
        after: Option<String>,
        limit: usize,
    ) -> StoreResult<Vec<CaseRecord>> {
        let key = key.clone();
        self.db.read_blocking(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {} FROM cases WHERE account_id = ?1 AND domain_id = ?2 AND case_id > ?3 ORDER BY case_id LIMIT ?4",
                    cases::COLUMNS
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map(
                    params![key.0, key.1, after.unwrap_or_default(), limit as i64],
                    cases::from_row,
                )
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend).and_then(cases::finish))
                .collect()
        })
    }
}

/// The number of cases per domain and the log's last sequence number, in one read transaction
/// (so the counts are exactly those of that position).
pub fn case_counts(conn: &mut Connection) -> StoreResult<(i64, BTreeMap<IndexDomain, u64>)> {
    let tx = conn.savepoint().map_err(backend)?;
    let seq = last_seq(&tx)?;
    let mut counts = BTreeMap::new();
    {
        let mut stmt = tx
            .prepare_cached(
                "SELECT account_id, domain_id, count(*) FROM cases GROUP BY account_id, domain_id",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(backend)?;
        for row in rows {
            let (key, n) = row.map_err(backend)?;
            counts.insert(key, n.max(0) as u64);
        }
    }
    tx.commit().map_err(backend)?;
    Ok((seq, counts))
}

/// A domain's cases as (case id, version), ordered by id.
pub fn case_versions(conn: &mut Connection, key: &IndexDomain) -> StoreResult<Vec<(String, i64)>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT case_id, version FROM cases WHERE account_id = ?1 AND domain_id = ?2 ORDER BY case_id",
        )
        .map_err(backend)?;
    let rows = stmt
        .query_map(params![key.0, key.1], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

/// Every field of the domain (deleted ones too) with its type (see `field_type_map`).
fn field_types(conn: &mut Connection, account: &str, domain: &str) -> StoreResult<FieldTypeMap> {
    let key = DomainKey::new(account, domain);
    let fields = resources::list(conn, &key, ResourceKind::Field, None, usize::MAX, true)?;
    Ok(field_type_map(fields))
}

fn changes_after(
    conn: &mut Connection,
    after: i64,
    limit: usize,
) -> StoreResult<(Vec<Change>, i64)> {
    let rows: Vec<(i64, String, String, String)> = {
        let mut stmt = conn
            .prepare_cached("SELECT seq, account_id, domain_id, case_id FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![after, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(backend)?;
        rows.collect::<Result<_, _>>().map_err(backend)?
    };
    let last = rows.last().map_or(after, |r| r.0);
    // Each case is indexed from its current row, so one entry per case is enough.
    let mut seen = HashSet::new();
    let mut changes = Vec::new();
    for (_, account_id, domain_id, case_id) in rows {
        if !seen.insert((account_id.clone(), domain_id.clone(), case_id.clone())) {
            continue;
        }
        let current = if case_id.is_empty() {
            None
        } else {
            cases::get(conn, &account_id, &domain_id, &case_id)?
        };
        changes.push(Change {
            account_id,
            domain_id,
            case_id,
            current,
        });
    }
    Ok((changes, last))
}

fn all_cases(
    conn: &mut Connection,
    after: Option<(String, String, String)>,
    limit: usize,
) -> StoreResult<Vec<CaseRecord>> {
    let (a, d, c) = after.unwrap_or_default();
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {} FROM cases WHERE (account_id, domain_id, case_id) > (?1, ?2, ?3) ORDER BY account_id, domain_id, case_id LIMIT ?4",
            cases::COLUMNS
        ))
        .map_err(backend)?;
    let rows = stmt
        .query_map(params![a, d, c, limit as i64], cases::from_row)
        .map_err(backend)?;
    rows.map(|r| r.map_err(backend).and_then(cases::finish))
        .collect()
}
