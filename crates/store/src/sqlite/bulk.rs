//! Bulk transfer of cases (`caseload import` / `caseload export`): many cases per transaction
//! instead of one, and a plain walk over a domain's cases in id order.

use super::cases::{COLUMNS, finish, from_row};
use super::{backend, is_unique_violation, tags_to_text};
use caseload_domain::store::{CaseRecord, DomainKey, StoreError, StoreResult};
use rusqlite::{Connection, params};

/// Cases of a domain ordered by case id, after `after`, at most `limit`.
pub fn list(
    c: &mut Connection,
    key: &DomainKey,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<CaseRecord>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM cases WHERE account_id = ?1 AND domain_id = ?2 AND case_id > ?3 ORDER BY case_id LIMIT ?4"
        ))
        .map_err(backend)?;
    let rows = stmt
        .query_map(
            params![
                key.account_id,
                key.domain_id,
                after.unwrap_or(""),
                limit as i64
            ],
            from_row,
        )
        .map_err(backend)?;
    rows.map(|r| r.map_err(backend).and_then(finish)).collect()
}

/// Inserts `cases` in one transaction, each with its `changes` row so the search indexer picks
/// it up like any other write. No audit event and no client token: an import restores cases, it
/// does not perform API writes. A case id or reference number already used in its domain rolls
/// the whole batch back with `Duplicate`.
pub fn insert(c: &mut Connection, cases: &[CaseRecord]) -> StoreResult<()> {
    let tx = c.savepoint().map_err(backend)?;
    {
        let mut case_stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO cases ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ))
            .map_err(backend)?;
        let mut change_stmt = tx
            .prepare_cached(
                "INSERT INTO changes (account_id, domain_id, case_id, deleted) VALUES (?1, ?2, ?3, 0)",
            )
            .map_err(backend)?;
        for case in cases {
            let fields = serde_json::to_string(&case.fields).map_err(backend)?;
            case_stmt
                .execute(params![
                    case.account_id,
                    case.domain_id,
                    case.case_id,
                    case.template_id,
                    case.reference_number,
                    fields,
                    tags_to_text(&case.tags),
                    case.created.unix_millis(),
                    case.updated.unix_millis(),
                    case.version
                ])
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::Duplicate("case id or reference number")
                    } else {
                        backend(e)
                    }
                })?;
            change_stmt
                .execute(params![case.account_id, case.domain_id, case.case_id])
                .map_err(backend)?;
        }
    }
    tx.commit().map_err(backend)
}
