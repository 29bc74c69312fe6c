//! Fields, templates, layouts and case rules: names unique among a kind's live records (a
//! partial unique index), a quota per kind counted under an advisory lock, soft deletes, and
//! replacement only of the version the caller read (a row lock between the look and the write).

use super::sql::{col, count, db, is_unique_violation, json, lock, query, query_opt, try_exec};
use crate::sqlite::{tags_from_text, tags_to_text};
use caseload_domain::store::{
    DomainKey, ResourceKey, ResourceKind, ResourceRecord, StoreError, StoreResult,
};
use caseload_model::Timestamp;
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;

const COLUMNS: &str =
    "account_id, domain_id, kind, id, name, deleted, created_ms, modified_ms, body, tags";

fn kind_from(s: &str) -> StoreResult<ResourceKind> {
    Ok(match s {
        "field" => ResourceKind::Field,
        "template" => ResourceKind::Template,
        "layout" => ResourceKind::Layout,
        "case-rule" => ResourceKind::CaseRule,
        other => {
            return Err(StoreError::Backend(format!(
                "unknown resource kind {other:?}"
            )));
        }
    })
}

fn from_row(r: &Row) -> StoreResult<ResourceRecord> {
    Ok(ResourceRecord {
        account_id: col(r, 0)?,
        domain_id: col(r, 1)?,
        kind: kind_from(col(r, 2)?)?,
        id: col(r, 3)?,
        name: col(r, 4)?,
        deleted: col(r, 5)?,
        created: Timestamp::from_unix_millis(col(r, 6)?),
        modified: Timestamp::from_unix_millis(col(r, 7)?),
        body: json(col(r, 8)?)?,
        tags: tags_from_text(col(r, 9)?)?,
    })
}

fn write_error(e: tokio_postgres::Error) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Duplicate("name")
    } else {
        db(e)
    }
}

pub async fn insert(tx: &Transaction<'_>, r: &ResourceRecord, quota: usize) -> StoreResult<()> {
    if quota != usize::MAX {
        // Every server creating a resource of this kind in this domain counts under this lock.
        lock(
            tx,
            &["resources", &r.account_id, &r.domain_id, r.kind.as_str()],
        )
        .await?;
        let n = count(
            tx,
            "SELECT count(*) FROM resources WHERE account_id = $1 AND domain_id = $2 AND kind = $3 AND NOT deleted",
            &[&r.account_id, &r.domain_id, &r.kind.as_str()],
        )
        .await?;
        if n >= quota {
            return Err(StoreError::QuotaExceeded);
        }
    }
    try_exec(
        tx,
        &format!(
            "INSERT INTO resources ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ),
        &[
            &r.account_id,
            &r.domain_id,
            &r.kind.as_str(),
            &r.id,
            &r.name,
            &r.deleted,
            &r.created.unix_millis(),
            &r.modified.unix_millis(),
            &r.body.to_string(),
            &tags_to_text(&r.tags),
        ],
    )
    .await
    .map_err(write_error)?;
    Ok(())
}

/// Compares and writes with the row locked (`FOR UPDATE`), so no write from any server can slip
/// in between.
pub async fn replace_if(
    tx: &Transaction<'_>,
    r: &ResourceRecord,
    prior: &ResourceRecord,
) -> StoreResult<bool> {
    let current = read(tx, &prior.key(), " FOR UPDATE").await?;
    if current.as_ref() != Some(prior) {
        return Ok(false);
    }
    let n = try_exec(
        tx,
        "UPDATE resources SET name = $5, deleted = $6, modified_ms = $7, body = $8, tags = $9 WHERE account_id = $1 AND domain_id = $2 AND kind = $3 AND id = $4",
        &[
            &r.account_id,
            &r.domain_id,
            &r.kind.as_str(),
            &r.id,
            &r.name,
            &r.deleted,
            &r.modified.unix_millis(),
            &r.body.to_string(),
            &tags_to_text(&r.tags),
        ],
    )
    .await
    .map_err(write_error)?;
    Ok(n > 0)
}

pub async fn count_of(
    c: &impl GenericClient,
    key: &DomainKey,
    kind: ResourceKind,
    deleted: bool,
) -> StoreResult<usize> {
    count(
        c,
        "SELECT count(*) FROM resources WHERE account_id = $1 AND domain_id = $2 AND kind = $3 AND deleted = $4",
        &[&key.account_id, &key.domain_id, &kind.as_str(), &deleted],
    )
    .await
}

pub async fn get(c: &impl GenericClient, key: &ResourceKey) -> StoreResult<Option<ResourceRecord>> {
    read(c, key, "").await
}

async fn read(
    c: &impl GenericClient,
    key: &ResourceKey,
    locking: &str,
) -> StoreResult<Option<ResourceRecord>> {
    let d = &key.domain;
    query_opt(
        c,
        &format!("SELECT {COLUMNS} FROM resources WHERE account_id = $1 AND domain_id = $2 AND kind = $3 AND id = $4{locking}"),
        &[&d.account_id, &d.domain_id, &key.kind.as_str(), &key.id],
    )
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

pub async fn list(
    c: &impl GenericClient,
    key: &DomainKey,
    kind: ResourceKind,
    after: Option<&str>,
    limit: usize,
    include_deleted: bool,
) -> StoreResult<Vec<ResourceRecord>> {
    query(
        c,
        &format!(
            "SELECT {COLUMNS} FROM resources WHERE account_id = $1 AND domain_id = $2 AND kind = $3 AND id > $4 AND (NOT deleted OR $5) ORDER BY id LIMIT $6"
        ),
        &[
            &key.account_id,
            &key.domain_id,
            &kind.as_str(),
            &after.unwrap_or(""),
            &include_deleted,
            &(limit as i64),
        ],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}
