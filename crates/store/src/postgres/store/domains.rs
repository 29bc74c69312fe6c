//! Domains: unique by name per account and region (a unique index), at most a quota of them per
//! account and region (counted under an advisory lock), and deleted with everything in them.

use super::sql::{col, count, db, exec, is_unique_violation, lock, query, query_opt, try_exec};
use crate::postgres::changelog;
use crate::sqlite::{tags_from_text, tags_to_text};
use caseload_domain::store::{DomainKey, DomainRecord, StoreError, StoreResult, Tags};
use caseload_model::Timestamp;
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;

const COLUMNS: &str = "account_id, domain_id, region, name, created_ms, tags";

fn from_row(r: &Row) -> StoreResult<DomainRecord> {
    Ok(DomainRecord {
        account_id: col(r, 0)?,
        domain_id: col(r, 1)?,
        region: col(r, 2)?,
        name: col(r, 3)?,
        created: Timestamp::from_unix_millis(col(r, 4)?),
        tags: tags_from_text(col(r, 5)?)?,
    })
}

pub async fn insert(tx: &Transaction<'_>, d: &DomainRecord, max: usize) -> StoreResult<()> {
    if max != usize::MAX {
        // Every server creating a domain in this account and region counts under this lock.
        lock(tx, &["domains", &d.account_id, &d.region]).await?;
        let n = count(
            tx,
            "SELECT count(*) FROM domains WHERE account_id = $1 AND region = $2",
            &[&d.account_id, &d.region],
        )
        .await?;
        if n >= max {
            return Err(StoreError::QuotaExceeded);
        }
    }
    let inserted = try_exec(
        tx,
        &format!("INSERT INTO domains ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
        &[
            &d.account_id,
            &d.domain_id,
            &d.region,
            &d.name,
            &d.created.unix_millis(),
            &tags_to_text(&d.tags),
        ],
    )
    .await;
    match inserted {
        Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate("domain name")),
        Err(e) => Err(db(e)),
        Ok(_) => Ok(()),
    }
}

pub async fn get(c: &impl GenericClient, key: &DomainKey) -> StoreResult<Option<DomainRecord>> {
    query_opt(
        c,
        &format!("SELECT {COLUMNS} FROM domains WHERE account_id = $1 AND domain_id = $2"),
        &[&key.account_id, &key.domain_id],
    )
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

pub async fn list(
    c: &impl GenericClient,
    account: &str,
    region: &str,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<DomainRecord>> {
    query(
        c,
        &format!(
            "SELECT {COLUMNS} FROM domains WHERE account_id = $1 AND region = $2 AND domain_id > $3 ORDER BY domain_id LIMIT $4"
        ),
        &[&account, &region, &after.unwrap_or(""), &(limit as i64)],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

pub async fn update_tags(
    c: &impl GenericClient,
    key: &DomainKey,
    tags: &Tags,
) -> StoreResult<bool> {
    let n = exec(
        c,
        "UPDATE domains SET tags = $3 WHERE account_id = $1 AND domain_id = $2",
        &[&key.account_id, &key.domain_id, &tags_to_text(tags)],
    )
    .await?;
    Ok(n > 0)
}

/// The tables holding a domain's records, all keyed by (account_id, domain_id).
const DOMAIN_TABLES: [&str; 7] = [
    "resources",
    "cases",
    "audit",
    "idempotency",
    "related_items",
    "event_configs",
    "merges",
];

/// Removes the domain and its records. Known gap across servers: a write into the domain that
/// another server committed after this statement's snapshot (it looked the domain up before the
/// delete committed) stays behind, under a domain id that no longer exists. Such rows are
/// unreachable (every operation looks its domain up first, and domain ids are never reused) but
/// take space; SQLite, with one writer, has no such race. Closing it needs every write to fence
/// on the domain (a shared advisory lock and a tombstone), which this backend does not do yet.
pub async fn delete(tx: &Transaction<'_>, key: &DomainKey) -> StoreResult<bool> {
    let (account, domain) = (&key.account_id, &key.domain_id);
    let n = exec(
        tx,
        "DELETE FROM domains WHERE account_id = $1 AND domain_id = $2",
        &[account, domain],
    )
    .await?;
    // An empty case id tells the search indexers to drop the whole domain.
    changelog::append(&**tx, account, domain, "", true).await?;
    for table in DOMAIN_TABLES {
        exec(
            tx,
            &format!("DELETE FROM {table} WHERE account_id = $1 AND domain_id = $2"),
            &[account, domain],
        )
        .await?;
    }
    Ok(n > 0)
}
