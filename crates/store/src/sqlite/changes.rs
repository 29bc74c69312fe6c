//! The change log (`changes` table) as the search indexer reads it.

use super::{backend, cases};
use crate::index::{Change, ChangeLog};
use caseload_domain::store::{CaseRecord, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The sequence number of the last change ever committed. AUTOINCREMENT keeps it growing even
/// after the indexed prefix of the log is pruned.
pub fn last_seq(c: &Connection) -> StoreResult<i64> {
    Ok(c.query_row(
        "SELECT seq FROM sqlite_sequence WHERE name = 'changes'",
        [],
        |r| r.get(0),
    )
    .optional()
    .map_err(backend)?
    .unwrap_or(0))
}

pub struct SqliteLog {
    pub conn: Arc<Mutex<Connection>>,
}

impl SqliteLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ChangeLog for SqliteLog {
    fn last_seq(&self) -> StoreResult<i64> {
        last_seq(&self.lock())
    }

    fn changes_after(&self, after: i64, limit: usize) -> StoreResult<(Vec<Change>, i64)> {
        let mut conn = self.lock();
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
                cases::get(&mut conn, &account_id, &domain_id, &case_id)?
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
        &self,
        after: Option<(String, String, String)>,
        limit: usize,
    ) -> StoreResult<Vec<CaseRecord>> {
        let conn = self.lock();
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

    fn prune(&self, seq: i64) -> StoreResult<()> {
        self.lock()
            .execute("DELETE FROM changes WHERE seq <= ?1", [seq])
            .map_err(backend)?;
        Ok(())
    }
}
