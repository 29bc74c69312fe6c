//! Bulk transfer of cases (`caseload import` / `caseload export`): a batch of cases in one
//! statement, and a plain walk over a domain's cases in id order.

use super::cases::{COLUMNS, from_row};
use super::sql::{corrupt, db, is_unique_violation, query, try_exec};
use crate::sqlite::tags_to_text;
use caseload_domain::store::{CaseRecord, DomainKey, StoreError, StoreResult};
use deadpool_postgres::{GenericClient, Transaction};

/// Cases of a domain ordered by case id, after `after`, at most `limit`.
pub async fn list(
    c: &impl GenericClient,
    key: &DomainKey,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<CaseRecord>> {
    query(
        c,
        &format!(
            "SELECT {COLUMNS} FROM cases WHERE account_id = $1 AND domain_id = $2 AND case_id > $3 ORDER BY case_id LIMIT $4"
        ),
        &[&key.account_id, &key.domain_id, &after.unwrap_or(""), &(limit as i64)],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Inserts `cases` (as arrays, one round trip for the batch), each with its change-log row (the
/// rows `changelog::append` writes, in bulk) so the search indexers pick them up like any other
/// write. No audit event and no client token: an import restores cases, it does not perform API
/// writes. A case id or reference number already used in its domain rolls the batch back with
/// `Duplicate`.
pub async fn insert(tx: &Transaction<'_>, cases: &[CaseRecord]) -> StoreResult<()> {
    let column = |f: fn(&CaseRecord) -> String| cases.iter().map(f).collect::<Vec<String>>();
    let account = column(|c| c.account_id.clone());
    let domain = column(|c| c.domain_id.clone());
    let case_id = column(|c| c.case_id.clone());
    let template = column(|c| c.template_id.clone());
    let reference = column(|c| c.reference_number.clone());
    let tags = column(|c| tags_to_text(&c.tags));
    let fields = cases
        .iter()
        .map(|c| serde_json::to_string(&c.fields).map_err(corrupt))
        .collect::<StoreResult<Vec<String>>>()?;
    let created: Vec<i64> = cases.iter().map(|c| c.created.unix_millis()).collect();
    let updated: Vec<i64> = cases.iter().map(|c| c.updated.unix_millis()).collect();
    let version: Vec<i64> = cases.iter().map(|c| c.version).collect();
    try_exec(
        tx,
        &format!(
            "INSERT INTO cases ({COLUMNS}) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[])"
        ),
        &[
            &account, &domain, &case_id, &template, &reference, &fields, &tags, &created,
            &updated, &version,
        ],
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Duplicate("case id or reference number")
        } else {
            db(e)
        }
    })?;
    try_exec(
        tx,
        "INSERT INTO changes (account_id, domain_id, case_id, deleted) SELECT a, d, c, false FROM unnest($1::text[], $2::text[], $3::text[]) AS t(a, d, c)",
        &[&account, &domain, &case_id],
    )
    .await
    .map_err(db)?;
    Ok(())
}
